//! `kafkasim describe`: the topics as `kafka-topics --describe` would show them with each
//! partition's log (start and end offsets, size, segments), the consumer groups as
//! `kafka-consumer-groups --describe` would, and (when a producer is transactional) each
//! transactional id as `kafka-transactions --describe` would, at the end of the run or at
//! `--at T`; with `--log-dirs`, every broker's replicas as `kafka-log-dirs --describe` would.

use super::{CommandError, Exit, load, report_warnings, time_flag};
use crate::report::{
    describe_groups, describe_log_dirs, describe_logs, describe_topics, describe_transactions,
};
use crate::simulation::{self, DEFAULT_MAX_EVENTS, RunOptions};
use std::io::Write;

/// Arguments of `kafkasim describe`.
#[derive(Clone, Debug)]
pub struct DescribeArgs {
    /// Scenario file or bundled name.
    pub file: String,
    /// When to look, e.g. `"12s"` (default: the end of the run).
    pub at: Option<String>,
    /// Seed override.
    pub seed: Option<u64>,
    /// Warnings are errors.
    pub deny_warnings: bool,
    /// Print the brokers' log directories instead (`kafka-log-dirs --describe`).
    pub log_dirs: bool,
}

/// Runs up to `--at` and prints the descriptions of the topics, groups and transactions.
pub fn describe(args: &DescribeArgs, out: &mut dyn Write, err: &mut dyn Write) -> Result<Exit, CommandError> {
    let scenario = load(&args.file)?;
    report_warnings(&scenario, args.deny_warnings, err)?;
    let until = args
        .at
        .as_deref()
        .map(|a| time_flag("--at", a, &scenario))
        .transpose()?;
    let opts = RunOptions {
        seed: args.seed,
        until,
        max_events: DEFAULT_MAX_EVENTS,
        trace: None,
        charts: false,
        invariants: false,
    };
    let result = simulation::run(&scenario, &opts);
    if args.log_dirs {
        out.write_all(describe_log_dirs(&result).as_bytes())?;
        return Ok(Exit::Ok);
    }
    out.write_all(describe_topics(&scenario, result.seed, &result.metadata).as_bytes())?;
    out.write_all(describe_logs(&scenario, &result).as_bytes())?;
    out.write_all(describe_groups(&result).as_bytes())?;
    out.write_all(describe_transactions(&scenario, &result).as_bytes())?;
    Ok(Exit::Ok)
}

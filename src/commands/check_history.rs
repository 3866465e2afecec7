//! `kafkasim check-history`: the checkers and a scenario's `expect` over a history file (a
//! simulated run's, or one recorded on a real cluster).

use super::{CommandError, Exit, load};
use crate::check::{check, describe_outcome};
use crate::history::file::{self, Recorded};
use crate::report::summary::write_finding;
use std::io::Write;

/// Arguments of `kafkasim check-history`.
#[derive(Clone, Debug)]
pub struct CheckHistoryArgs {
    /// The history file.
    pub history: String,
    /// The scenario it is a run of: names, configs and the expectations.
    pub scenario: String,
}

/// Checks a history file; exit 1 if a checkable expectation misses, 2 if either file is
/// invalid. An expectation the history lacks the data for is listed as not checkable, and
/// counts neither as a pass nor as a miss.
pub fn check_history(args: &CheckHistoryArgs, out: &mut dyn Write) -> Result<Exit, CommandError> {
    let scenario = load(&args.scenario)?;
    let text = std::fs::read_to_string(&args.history)
        .map_err(|e| CommandError(format!("error: cannot read `{}`: {e}\n", args.history)))?;
    let result = file::read(&args.history, &text, &scenario)?;
    let recorded: &Recorded = result.recorded.as_ref().expect("read from a file");
    let report = check(&scenario, &result);
    let (mut ok, mut missed, mut unknown) = (0, 0, 0);
    let mut lines = String::new();
    for o in &report.expectations {
        if let Some(why) = file::not_checkable(&o.expectation, recorded, &result.names) {
            lines.push_str(&format!(
                "  n/a    {}: not checkable from this history: {why}\n",
                o.expectation.text
            ));
            unknown += 1;
            continue;
        }
        lines.push_str(&format!("  {}\n", describe_outcome(o)));
        if o.ok {
            ok += 1;
        } else {
            missed += 1;
            for f in &o.examples {
                write_finding(&mut lines, &result, f);
            }
        }
    }
    let verdict = if missed > 0 { "FAIL" } else { "PASS" };
    writeln!(
        out,
        "{verdict}  {} ({}, recorded by {})",
        args.history, scenario.name, recorded.source
    )?;
    if report.expectations.is_empty() {
        writeln!(out, "  (no expectations)")?;
    }
    out.write_all(lines.as_bytes())?;
    writeln!(out, "\n{ok} held, {missed} missed, {unknown} not checkable")?;
    Ok(if missed > 0 { Exit::Failed } else { Exit::Ok })
}

//! Helpers shared by the integration tests.

use kafkasim::commands::bundled;
use kafkasim::scenario::Scenario;
use kafkasim::simulation::{RunOptions, RunResult, run};
use kafkasim::trace::TraceFormat;
use std::path::PathBuf;
use std::process::{Command, Output, Stdio};

/// Every bundled scenario, parsed.
pub fn bundled_scenarios() -> Vec<Scenario> {
    bundled()
        .iter()
        .map(|(file, text)| Scenario::parse(file, text).unwrap_or_else(|e| panic!("{file} is invalid:\n{e}")))
        .collect()
}

/// Runs a scenario with a trace in `format`.
pub fn run_traced(s: &Scenario, format: TraceFormat, seed: Option<u64>) -> RunResult {
    run(
        s,
        &RunOptions {
            seed,
            trace: Some(format),
            ..RunOptions::default()
        },
    )
}

/// The `kafkasim` binary cargo built for these tests.
pub fn kafkasim() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_kafkasim"));
    c.current_dir(env!("CARGO_MANIFEST_DIR"));
    c
}

/// Runs `kafkasim` with `args`, feeding `stdin`.
pub fn kafkasim_with_stdin(args: &[&str], stdin: &str) -> Output {
    use std::io::Write;
    let mut child = kafkasim()
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the binary starts");
    child
        .stdin
        .take()
        .expect("piped")
        .write_all(stdin.as_bytes())
        .expect("stdin accepts the keys");
    child.wait_with_output().expect("the binary ends")
}

/// A fresh directory under the target dir for one test.
pub fn scratch_dir(name: &str) -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(name);
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("target dir is writable");
    dir
}

/// A scenario written inline in a test; panics with the validation error.
///
/// These tests pin protocol timings to the microsecond, so requests cost the brokers nothing
/// and links have no bandwidth limit, whatever the scenario says: the cost model has tests of
/// its own.
pub fn parse_scenario(name: &str, text: &str) -> Scenario {
    let mut s = Scenario::parse(name, text).unwrap_or_else(|e| panic!("{name} is invalid:\n{e}"));
    s.cluster.config.costs.request_time = kafkasim::sim::SimDuration::ZERO;
    s.cluster.config.costs.io_mib_per_s = 0;
    s.cluster.config.costs.network_mib_per_s = 0;
    s.cluster.network.bandwidth = None;
    s
}

/// Runs a scenario with a text trace, to its end or to `until`.
pub fn run_text(s: &Scenario, until: Option<kafkasim::sim::SimDuration>) -> RunResult {
    run(
        s,
        &RunOptions {
            until,
            trace: Some(TraceFormat::Text),
            ..RunOptions::default()
        },
    )
}

/// `ms` milliseconds after the start of a run.
pub fn ms(ms: u64) -> kafkasim::sim::SimTime {
    kafkasim::sim::SimTime::from_us(ms * 1000)
}

/// One line of a text trace: `   1.204ms  broker-2  append     orders-1 offsets 40..44 ...`.
#[derive(Clone, Debug)]
pub struct TraceLine {
    /// When.
    pub at: kafkasim::sim::SimTime,
    /// Which node (`p1`, `broker-1`, `controller`).
    pub node: String,
    /// The event kind (`append`, `FAULT`, `timeout`, ...).
    pub kind: String,
    /// The rest of the line.
    pub detail: String,
}

/// Splits off the first whitespace-separated field.
fn field(s: &str) -> (&str, &str) {
    let s = s.trim_start();
    s.split_once(char::is_whitespace).unwrap_or((s, ""))
}

/// The lines of a run's text trace, parsed.
pub fn trace_lines(r: &RunResult) -> Vec<TraceLine> {
    let trace = r.trace.as_deref().expect("the run was traced");
    trace
        .lines()
        .map(|line| {
            let (time, rest) = field(line);
            let (node, rest) = field(rest);
            let (kind, rest) = field(rest);
            let (whole, frac) = time
                .strip_suffix("ms")
                .and_then(|t| t.split_once('.'))
                .unwrap_or_else(|| panic!("no time in trace line {line:?}"));
            let us = whole.parse::<u64>().expect("ms") * 1000 + frac.parse::<u64>().expect("us");
            TraceLine {
                at: kafkasim::sim::SimTime::from_us(us),
                node: node.to_string(),
                kind: kind.to_string(),
                detail: rest.trim().to_string(),
            }
        })
        .collect()
}

/// The lines of `node` of kind `kind`.
pub fn lines_of<'a>(lines: &'a [TraceLine], node: &str, kind: &str) -> Vec<&'a TraceLine> {
    lines
        .iter()
        .filter(|l| l.node == node && l.kind == kind)
        .collect()
}

/// The time of the trace's `FAULT` line that starts with `text`.
pub fn fault_time(lines: &[TraceLine], text: &str) -> kafkasim::sim::SimTime {
    lines
        .iter()
        .find(|l| l.kind == "FAULT" && l.detail.starts_with(text))
        .unwrap_or_else(|| panic!("no FAULT line for {text}"))
        .at
}

//! The commands behind the CLI. Each writes its report to `out` and returns how the process
//! should exit; bad input comes back as a [`CommandError`] (exit code 2).

mod check;
mod configs;
mod describe;
mod list;
mod partition;
mod run;

pub use check::{CheckArgs, check};
pub use configs::configs;
pub use describe::{DescribeArgs, describe};
pub use list::list;
pub use partition::{PartitionArgs, PartitionFormat, partition};
pub use run::{RunArgs, run};

use crate::scenario::error::did_you_mean;
use crate::scenario::units::parse_duration;
use crate::scenario::{Scenario, ScenarioError};
use crate::sim::SimDuration;
use std::fmt;

mod bundled {
    include!(concat!(env!("OUT_DIR"), "/bundled.rs"));
}

/// The bundled scenarios: (path, contents).
pub fn bundled() -> &'static [(&'static str, &'static str)] {
    bundled::BUNDLED
}

/// How a command ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Exit {
    /// 0: all good.
    Ok,
    /// 1: an expectation or check failed.
    Failed,
}

/// Invalid input (exit code 2), already worded for the user.
#[derive(Debug)]
pub struct CommandError(pub String);

impl fmt::Display for CommandError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl From<ScenarioError> for CommandError {
    fn from(e: ScenarioError) -> Self {
        CommandError(e.to_string())
    }
}

/// The message of a write to a closed pipe (`kafkasim run ... | head`): not an error to report.
pub const BROKEN_PIPE: &str = "broken pipe";

impl CommandError {
    /// True when output went to a reader that stopped reading; the CLI then exits quietly.
    pub fn is_broken_pipe(&self) -> bool {
        self.0 == BROKEN_PIPE
    }
}

impl From<std::io::Error> for CommandError {
    fn from(e: std::io::Error) -> Self {
        if e.kind() == std::io::ErrorKind::BrokenPipe {
            return CommandError(BROKEN_PIPE.to_string());
        }
        CommandError(format!("error: {e}\n"))
    }
}

/// Reads a scenario from a file, or a bundled one by name (`kafkasim run reorder-inflight`).
pub fn load(path: &str) -> Result<Scenario, CommandError> {
    if std::path::Path::new(path).exists() {
        return Ok(Scenario::from_file(path)?);
    }
    let stem = |p: &str| {
        p.trim_start_matches("scenarios/")
            .trim_end_matches(".ron")
            .to_string()
    };
    if let Some((file, text)) = bundled().iter().find(|(f, _)| stem(f) == stem(path)) {
        return Ok(Scenario::parse(file, text)?);
    }
    let names: Vec<String> = bundled().iter().map(|(f, _)| stem(f)).collect();
    let hint = did_you_mean(&stem(path), names.iter().map(String::as_str))
        .unwrap_or_else(|| "`kafkasim list` shows the bundled scenarios".to_string());
    Err(CommandError(format!(
        "error: no scenario file `{path}`\n  = help: {hint}\n"
    )))
}

/// Parses a `--until`/`--at` flag: a duration within the scenario's `duration`.
pub fn time_flag(flag: &str, text: &str, scenario: &Scenario) -> Result<SimDuration, CommandError> {
    let t = parse_duration(text).map_err(|why| {
        CommandError(format!(
            "error: invalid {flag} `{text}`: {why}\n  = help: write a duration with a unit, e.g. {flag} 500ms\n"
        ))
    })?;
    if t > scenario.duration {
        return Err(CommandError(format!(
            "error: {flag} {text} is after the end of the scenario (duration {})\n  = help: use a time up to the scenario's `duration`, or raise `duration` in {}\n",
            scenario.duration.human(),
            scenario.file
        )));
    }
    Ok(t)
}

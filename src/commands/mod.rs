//! The commands behind the CLI. Each writes its report to `out` and returns how the process
//! should exit; bad input comes back as a [`CommandError`] (exit code 2).

mod assign;
mod check;
mod check_history;
mod configs;
mod describe;
mod list;
mod matrix;
mod parallel;
mod partition;
mod plan;
mod run;
mod sweep;

pub use assign::{AssignArgs, AssignFormat, assign};
pub use check::{CheckArgs, check};
pub use check_history::{CheckHistoryArgs, check_history};
pub use configs::configs;
pub use describe::{DescribeArgs, describe};
pub use list::list;
pub use matrix::{DEFAULT_SEEDS, MatrixArgs, matrix};
pub use partition::{PartitionArgs, PartitionFormat, partition};
pub use plan::{plan, plan_of};
pub use run::{RunArgs, run};
pub use sweep::{Axis, Measured, Sweep, SweepArgs, SweepRow, chart_of, run_sweep, sweep};

use crate::scenario::config::OverrideError;
use crate::scenario::error::did_you_mean;
use crate::scenario::units::parse_duration;
use crate::scenario::{Files, Overrides, Scenario, ScenarioError, Warning};
use crate::sim::SimDuration;
use std::fmt;
use std::io::Write;
use std::path::Path;

mod bundled {
    include!(concat!(env!("OUT_DIR"), "/bundled.rs"));
}

/// The bundled scenarios: (path, contents).
pub fn bundled() -> &'static [(&'static str, &'static str)] {
    bundled::BUNDLED
}

/// A scenario's file name and text, and where its `config_file`s are.
pub struct ScenarioText {
    /// The file as messages name it.
    pub file: String,
    /// Its text.
    pub text: String,
    /// Where its properties files are: on disk, or bundled with it.
    pub files: Files,
}

impl ScenarioText {
    /// Validates it with `overrides`.
    pub fn parse(&self, overrides: &Overrides) -> Result<Scenario, ScenarioError> {
        Scenario::parse_in(&self.file, &self.text, overrides, self.files)
    }
}

/// How a command ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Exit {
    /// 0: all good.
    Ok,
    /// 1: an expectation or check failed.
    Failed,
    /// 3: the run stopped in a livelock (simulated time stood still), so its results are not
    /// the scenario's.
    Livelock,
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

impl From<OverrideError> for CommandError {
    fn from(e: OverrideError) -> Self {
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

/// Writing the report to standard output or standard error failed.
impl From<std::io::Error> for CommandError {
    fn from(e: std::io::Error) -> Self {
        if e.kind() == std::io::ErrorKind::BrokenPipe {
            return CommandError(BROKEN_PIPE.to_string());
        }
        CommandError(format!("error: cannot write the output: {e}\n"))
    }
}

/// Creates `dir` and its parents; an error names it.
pub fn create_dir(dir: &Path) -> Result<(), CommandError> {
    std::fs::create_dir_all(dir)
        .map_err(|e| CommandError(format!("error: cannot create `{}`: {e}\n", dir.display())))
}

/// Writes `bytes` to `path`; an error names it.
pub fn write_file(path: &Path, bytes: impl AsRef<[u8]>) -> Result<(), CommandError> {
    std::fs::write(path, bytes)
        .map_err(|e| CommandError(format!("error: cannot write `{}`: {e}\n", path.display())))
}

/// Reads a scenario from a file, or a bundled one by name (`kafkasim run reorder-inflight`).
pub fn load(path: &str) -> Result<Scenario, CommandError> {
    load_with(path, &Overrides::default())
}

/// [`load`] with `--set` overrides; an error they cause says they were in play.
pub fn load_with(path: &str, overrides: &Overrides) -> Result<Scenario, CommandError> {
    scenario_text(path)?.parse(overrides).map_err(|e| {
        if overrides.is_empty() {
            return CommandError::from(e);
        }
        let given: Vec<String> = overrides.iter().map(|(k, v)| format!("{k}={v}")).collect();
        CommandError(format!(
            "{e}  = note: values given with --set count as written in every config block that has the key: {}\n",
            given.join(", ")
        ))
    })
}

/// The name and text of a scenario file, or of a bundled scenario by name.
fn scenario_text(path: &str) -> Result<ScenarioText, CommandError> {
    if std::path::Path::new(path).exists() {
        let bytes = std::fs::read(path)
            .map_err(|e| ScenarioError::whole_file(path, format!("cannot read the file: {e}")))?;
        return Ok(ScenarioText {
            file: path.to_string(),
            text: crate::scenario::source::decode(path, bytes)?,
            files: Files::Disk,
        });
    }
    let stem = |p: &str| {
        p.trim_start_matches("scenarios/")
            .trim_end_matches(".ron")
            .to_string()
    };
    if let Some((file, text)) = bundled().iter().find(|(f, _)| stem(f) == stem(path)) {
        return Ok(ScenarioText {
            file: file.to_string(),
            text: text.to_string(),
            files: Files::Bundled(bundled::FILES),
        });
    }
    let names: Vec<String> = bundled().iter().map(|(f, _)| stem(f)).collect();
    let hint = did_you_mean(&stem(path), names.iter().map(String::as_str))
        .unwrap_or_else(|| "`kafkasim list` shows the bundled scenarios".to_string());
    Err(CommandError(format!(
        "error: no scenario file `{path}`\n  = help: {hint}\n"
    )))
}

/// Prints the scenario's warnings on `err`; with `--deny-warnings` (`deny`), they are an error
/// instead (exit 2), and nothing runs.
pub fn report_warnings(scenario: &Scenario, deny: bool, err: &mut dyn Write) -> Result<(), CommandError> {
    if deny && !scenario.warnings.is_empty() {
        let mut text: String = scenario.warnings.iter().map(Warning::denied).collect();
        let n = scenario.warnings.len();
        text.push_str(&format!(
            "error: {} has {n} warning{}, and --deny-warnings makes them errors\n",
            scenario.file,
            if n == 1 { "" } else { "s" }
        ));
        return Err(CommandError(text));
    }
    for w in &scenario.warnings {
        write!(err, "{w}")?;
    }
    Ok(())
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

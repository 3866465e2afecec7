//! `kafkasim run`: one run, its trace and its summary, and with `--out` its charts.

use super::{CommandError, Exit, create_dir, load_with, report_warnings, time_flag, write_file};
use crate::check::check;
use crate::history::file::write as history_file;
use crate::report::charts::charts;
use crate::report::summary;
use crate::scenario::{Overrides, Scenario};
use crate::simulation::{self, RunOptions, RunResult};
use crate::trace::TraceFormat;
use std::io::Write;
use std::path::{Path, PathBuf};

/// Arguments of `kafkasim run`.
#[derive(Clone, Debug)]
pub struct RunArgs {
    /// Scenario file or bundled name.
    pub file: String,
    /// Seed override.
    pub seed: Option<u64>,
    /// Directory for `trace.txt`/`trace.jsonl`, `summary.txt` and `charts/`.
    pub out_dir: Option<PathBuf>,
    /// Stop early, e.g. `"500ms"`.
    pub until: Option<String>,
    /// Trace format.
    pub format: TraceFormat,
    /// Event limit.
    pub max_events: u64,
    /// Skip the trace (faster).
    pub no_trace: bool,
    /// `--set KEY=VALUE` config overrides.
    pub set: Vec<String>,
    /// Also write each chart as PNG (with `--out`).
    pub png: bool,
    /// Warnings are errors.
    pub deny_warnings: bool,
    /// Write the run's history file here (`--out` writes `history.jsonl` too).
    pub history: Option<PathBuf>,
}

/// Runs a scenario; prints the trace and the summary (or writes them to `--out`).
pub fn run(args: &RunArgs, out: &mut dyn Write, err: &mut dyn Write) -> Result<Exit, CommandError> {
    let overrides = Overrides::parse(&args.set)?;
    let scenario = load_with(&args.file, &overrides)?;
    report_warnings(&scenario, args.deny_warnings, err)?;
    let until = args
        .until
        .as_deref()
        .map(|u| time_flag("--until", u, &scenario))
        .transpose()?;
    let opts = RunOptions {
        seed: args.seed,
        until,
        max_events: args.max_events,
        trace: (!args.no_trace).then_some(args.format),
        charts: args.out_dir.is_some(),
        invariants: false,
    };
    let result = simulation::run(&scenario, &opts);
    let checks = check(&scenario, &result);
    let text = summary(&scenario, &result, &checks);
    let trace = result.trace.as_deref().unwrap_or("");
    if let Some(path) = &args.history {
        write_file(path, history_file(&scenario, &result))?;
    }
    match &args.out_dir {
        Some(dir) => {
            create_dir(dir)?;
            let trace_name = match args.format {
                TraceFormat::Text => "trace.txt",
                TraceFormat::Jsonl => "trace.jsonl",
            };
            let mut written = vec![dir.join("summary.txt")];
            write_file(&written[0], &text)?;
            let path = dir.join("history.jsonl");
            write_file(&path, history_file(&scenario, &result))?;
            written.push(path);
            if !args.no_trace {
                let path = dir.join(trace_name);
                write_file(&path, trace)?;
                written.push(path);
            }
            let skipped = write_charts(&dir.join("charts"), &scenario, &result, args.png, &mut written)?;
            out.write_all(text.as_bytes())?;
            for p in written {
                writeln!(out, "wrote {}", p.display())?;
            }
            for (name, why) in skipped {
                writeln!(out, "skipped {}: {why}", dir.join("charts").join(name).display())?;
            }
        }
        None => {
            out.write_all(trace.as_bytes())?;
            if !trace.is_empty() {
                writeln!(out)?;
            }
            out.write_all(text.as_bytes())?;
        }
    }
    if let Some(why) = &result.stopped_early {
        if result.livelock {
            writeln!(err, "error: {why}")?;
            return Ok(Exit::Livelock);
        }
        writeln!(err, "warning: {why}")?;
    }
    Ok(Exit::Ok)
}

/// Writes every chart into `dir` (SVG, and PNG when asked), adding their paths to `written`;
/// returns the charts left out, with why.
fn write_charts(
    dir: &Path,
    scenario: &Scenario,
    result: &RunResult,
    png: bool,
    written: &mut Vec<PathBuf>,
) -> Result<Vec<(String, String)>, CommandError> {
    let drawn = charts(scenario, result, png).map_err(|e| CommandError(format!("error: {e}\n")))?;
    create_dir(dir)?;
    for chart in drawn.files {
        let path = dir.join(format!("{}.svg", chart.stem));
        write_file(&path, &chart.svg)?;
        written.push(path);
        if let Some(bytes) = &chart.png {
            let path = dir.join(format!("{}.png", chart.stem));
            write_file(&path, bytes)?;
            written.push(path);
        }
    }
    Ok(drawn.skipped)
}

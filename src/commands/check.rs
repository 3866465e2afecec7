//! `kafkasim check`: run scenarios and verify their `expect` entries.

use super::{CommandError, Exit, load_with, report_warnings};
use crate::check::{CheckReport, check as run_checks, describe_outcome};
use crate::report::summary::write_finding;
use crate::scenario::{Overrides, Scenario};
use crate::simulation::{self, DEFAULT_MAX_EVENTS, RunOptions, RunResult};
use std::io::Write;
use std::path::Path;

/// Arguments of `kafkasim check`.
#[derive(Clone, Debug)]
pub struct CheckArgs {
    /// Files, directories (every `*.ron` in them) or bundled names.
    pub paths: Vec<String>,
    /// Seed override.
    pub seed: Option<u64>,
    /// Event limit per run.
    pub max_events: u64,
    /// `--set KEY=VALUE` config overrides, applied to every scenario.
    pub set: Vec<String>,
    /// Warnings are errors: a scenario with warnings counts as invalid.
    pub deny_warnings: bool,
}

fn expand(paths: &[String]) -> Result<Vec<String>, CommandError> {
    let mut files = Vec::new();
    for p in paths {
        let path = Path::new(p);
        if path.is_dir() {
            let entries = std::fs::read_dir(path)
                .map_err(|e| CommandError(format!("error: cannot read the directory `{p}`: {e}\n")))?;
            let mut found: Vec<String> = entries
                .filter_map(Result::ok)
                .map(|e| e.path())
                .filter(|f| f.extension().is_some_and(|x| x == "ron"))
                .map(|f| f.display().to_string())
                .collect();
            found.sort();
            if found.is_empty() {
                return Err(CommandError(format!("error: no .ron files in `{p}`\n")));
            }
            files.extend(found);
        } else {
            files.push(p.clone());
        }
    }
    Ok(files)
}

/// Checks every scenario; exit 1 if an expectation misses, 2 if a scenario is invalid.
pub fn check(args: &CheckArgs, out: &mut dyn Write, err: &mut dyn Write) -> Result<Exit, CommandError> {
    let overrides = Overrides::parse(&args.set)?;
    let files = expand(&args.paths)?;
    let mut extra = String::new();
    if args.max_events != DEFAULT_MAX_EVENTS {
        extra.push_str(&format!(" --max-events {}", args.max_events));
    }
    if !overrides.is_empty() {
        extra.push_str(&format!(" {}", overrides.to_flags()));
    }
    let (mut passed, mut failed, mut invalid) = (0, 0, 0);
    for file in &files {
        let scenario = match load_with(file, &overrides) {
            Ok(s) => s,
            Err(e) => {
                write!(err, "{e}")?;
                invalid += 1;
                continue;
            }
        };
        if let Err(e) = report_warnings(&scenario, args.deny_warnings, err) {
            write!(err, "{e}")?;
            invalid += 1;
            continue;
        }
        let opts = RunOptions {
            seed: args.seed,
            max_events: args.max_events,
            trace: None,
            ..RunOptions::default()
        };
        let result = simulation::run(&scenario, &opts);
        let report = run_checks(&scenario, &result);
        let ok = report.passed() && result.stopped_early.is_none();
        write_report(out, &scenario, &result, &report, ok, &extra)?;
        if ok {
            passed += 1;
        } else {
            failed += 1;
        }
    }
    writeln!(out, "\n{passed} passed, {failed} failed, {invalid} invalid")?;
    if invalid > 0 {
        return Err(CommandError(format!(
            "error: {invalid} scenario file(s) are invalid (see above)\n"
        )));
    }
    Ok(if failed > 0 { Exit::Failed } else { Exit::Ok })
}

/// `PASS  <file> (<what run>)`, and a note when the scenario expects nothing: the first lines
/// of `check`'s and `check-history`'s report.
pub(super) fn write_heading(
    out: &mut dyn Write,
    ok: bool,
    file: &str,
    run: &str,
    report: &CheckReport,
) -> std::io::Result<()> {
    let verdict = if ok { "PASS" } else { "FAIL" };
    writeln!(out, "{verdict}  {file} ({run})")?;
    if report.expectations.is_empty() {
        writeln!(out, "  (no expectations)")?;
    }
    Ok(())
}

fn write_report(
    out: &mut dyn Write,
    scenario: &Scenario,
    result: &RunResult,
    report: &CheckReport,
    ok: bool,
    extra_flags: &str,
) -> std::io::Result<()> {
    let run = format!("{}, seed {}", scenario.name, result.seed);
    write_heading(out, ok, &scenario.file, &run, report)?;
    for o in &report.expectations {
        writeln!(out, "  {}", describe_outcome(o))?;
        if !o.ok {
            let mut text = String::new();
            for f in &o.examples {
                write_finding(&mut text, result, f);
            }
            out.write_all(text.as_bytes())?;
        }
    }
    if let Some(why) = &result.stopped_early {
        writeln!(out, "  INCOMPLETE: {why}")?;
    }
    if !ok {
        writeln!(
            out,
            "  reproduce: kafkasim run {} --seed {}{extra_flags}",
            scenario.file, result.seed
        )?;
    }
    Ok(())
}

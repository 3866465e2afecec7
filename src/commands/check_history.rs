//! `kafkasim check-history`: the checkers and a scenario's `expect` over a history file (a
//! simulated run's, or one recorded on a real cluster).

use super::check::write_heading;
use super::{CommandError, Exit, load};
use crate::check::expect::{Bound, Check};
use crate::check::{ExpectationOutcome, check_with_tolerance, describe_outcome};
use crate::history::file::{self, Recorded};
use crate::report::summary::write_finding;
use crate::scenario::units::parse_duration;
use crate::sim::SimDuration;
use serde_json::json;
use std::io::Write;

/// Arguments of `kafkasim check-history`.
#[derive(Clone, Debug)]
pub struct CheckHistoryArgs {
    /// The history file.
    pub history: String,
    /// The scenario it is a run of: names, configs and the expectations.
    pub scenario: String,
    /// How far from its moment a state check may find its state, e.g. `"3s"`.
    pub tolerance: Option<String>,
    /// One JSON object instead of the text report.
    pub json: bool,
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
    let tolerance = match &args.tolerance {
        Some(t) => parse_duration(t).map_err(|why| {
            CommandError(format!(
                "error: invalid --tolerance `{t}`: {why}\n  = help: write a duration with a unit, e.g. --tolerance 3s\n"
            ))
        })?,
        None => SimDuration::ZERO,
    };
    let report = check_with_tolerance(&scenario, &result, tolerance);
    if args.json {
        let verdicts: Vec<_> = report
            .expectations
            .iter()
            .map(|o| json_verdict(o, file::not_checkable(&o.expectation, recorded, &result.names)))
            .collect();
        let missed = verdicts.iter().any(|v| v["ok"] == false);
        let line = json!({
            "history": args.history,
            "scenario": scenario.name,
            "source": recorded.source,
            "passed": !missed,
            "expectations": verdicts,
        });
        writeln!(out, "{line}")?;
        return Ok(if missed { Exit::Failed } else { Exit::Ok });
    }
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
    let run = format!("{}, recorded by {}", scenario.name, recorded.source);
    write_heading(out, missed == 0, &args.history, &run, &report)?;
    out.write_all(lines.as_bytes())?;
    writeln!(out, "\n{ok} held, {missed} missed, {unknown} not checkable")?;
    Ok(if missed > 0 { Exit::Failed } else { Exit::Ok })
}

/// One expectation's verdict as JSON: `ok` is null when the history cannot decide it (`why`
/// says what it lacks); `bound` is the kind of claim (`exactly`, `at_least`, `at_most`,
/// `between`), null for a state check.
fn json_verdict(o: &ExpectationOutcome, not_checkable: Option<String>) -> serde_json::Value {
    let bound = match &o.expectation.check {
        Check::Count { bound, .. } => Some(match bound {
            Bound::Exactly(_) => "exactly",
            Bound::Range {
                min: Some(_),
                max: Some(_),
            } => "between",
            Bound::Range { min: Some(_), .. } => "at_least",
            Bound::Range { .. } => "at_most",
        }),
        Check::Leader { .. } | Check::Isr { .. } | Check::Assignment { .. } => None,
    };
    match not_checkable {
        Some(why) => {
            json!({"text": o.expectation.text, "ok": null, "found": null, "bound": bound, "why": why})
        }
        None => {
            json!({"text": o.expectation.text, "ok": o.ok, "found": o.found, "bound": bound, "why": null})
        }
    }
}

//! `kafkasim matrix`: a scenario's faults against every combination of the producer settings that
//! decide delivery guarantees, over many seeds, as one table of lost, duplicated and reordered
//! records.

mod grid;
mod table;

use super::parallel::{available_threads, map_jobs};
use super::{CommandError, Exit, scenario_text};
use crate::check::check;
use crate::history;
use crate::scenario::Scenario;
use crate::simulation::{self, RunOptions};
use grid::Combination;
use std::io::Write;

/// Runs per combination when `--seeds` is not given.
pub const DEFAULT_SEEDS: u64 = 20;
/// The most runs per combination: at most 2.4 million runs for the whole grid.
const MAX_SEEDS: u64 = 100_000;

/// Arguments of `kafkasim matrix`.
#[derive(Clone, Debug)]
pub struct MatrixArgs {
    /// Scenario file or bundled name.
    pub file: String,
    /// Runs per combination, with seeds `first, first + 1, …`.
    pub seeds: u64,
    /// The first seed (default: the scenario's).
    pub seed: Option<u64>,
    /// Worker threads (default: every core).
    pub threads: Option<usize>,
}

/// What one run found, in records. The derived order compares (lost, failed, duplicated,
/// reordered) lexicographically: the worst run of a row is the greatest.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord)]
struct Counts {
    lost: usize,
    failed: usize,
    duplicated: usize,
    reordered: usize,
}

impl Counts {
    fn max_each(self, other: Counts) -> Counts {
        Counts {
            lost: self.lost.max(other.lost),
            failed: self.failed.max(other.failed),
            duplicated: self.duplicated.max(other.duplicated),
            reordered: self.reordered.max(other.reordered),
        }
    }
}

/// One combination's line of the table.
struct Row {
    combination: Combination,
    outcome: Outcome,
}

enum Outcome {
    /// Kafka refuses to build a producer with these settings: the first line of its message.
    Rejected(String),
    /// The runs over every seed.
    Ran(Summary),
}

/// A combination's runs, summed up.
struct Summary {
    runs: usize,
    runs_with_loss: usize,
    /// The largest count of each kind, over the runs.
    max: Counts,
    /// The seed of the worst run (the smallest, on a tie).
    worst_seed: u64,
}

/// The scenario, the seeds and the file, for the header and the `reproduce:` lines.
struct Setup {
    name: String,
    file: String,
    first_seed: u64,
    seeds: u64,
}

/// Runs the grid over the seeds and prints the table (exit 0; 2 on bad input).
pub fn matrix(args: &MatrixArgs, out: &mut dyn Write) -> Result<Exit, CommandError> {
    if !(1..=MAX_SEEDS).contains(&args.seeds) {
        return Err(usage(
            &format!("--seeds must be between 1 and {MAX_SEEDS}, not {}", args.seeds),
            "e.g. --seeds 20",
        ));
    }
    if args.threads == Some(0) {
        return Err(usage(
            "--threads must be at least 1",
            "leave --threads out to use every core",
        ));
    }
    let (file, text) = scenario_text(&args.file)?;
    let base = Scenario::parse(&file, &text)?;
    if base.producers.is_empty() {
        return Err(usage(
            &format!("{file} has no producers: the matrix varies producer settings"),
            "pick a scenario with at least one producer",
        ));
    }
    let first_seed = args.seed.unwrap_or(base.seed);
    if first_seed.checked_add(args.seeds - 1).is_none() {
        return Err(usage(
            "--seed plus --seeds runs past the largest seed",
            "use a smaller --seed",
        ));
    }
    let cells: Vec<(Combination, Result<Scenario, String>)> = Combination::grid()
        .into_iter()
        .map(|c| {
            let parsed = Scenario::parse_with_overrides(&file, &text, &c.overrides());
            (c, parsed.map_err(|e| first_line(&e.message)))
        })
        .collect();
    let seeds: Vec<u64> = (0..args.seeds).map(|i| first_seed + i).collect();
    let jobs: Vec<(&Scenario, u64)> = cells
        .iter()
        .filter_map(|(_, s)| s.as_ref().ok())
        .flat_map(|s| seeds.iter().map(move |seed| (s, *seed)))
        .collect();
    let threads = args.threads.unwrap_or_else(available_threads);
    let mut counts = map_jobs(jobs.len(), threads, |i| run_once(jobs[i].0, jobs[i].1)).into_iter();
    let rows: Vec<Row> = cells
        .iter()
        .map(|(combination, parsed)| Row {
            combination: *combination,
            outcome: match parsed {
                Ok(_) => Outcome::Ran(summarize(&seeds, counts.by_ref().take(seeds.len()))),
                Err(why) => Outcome::Rejected(why.clone()),
            },
        })
        .collect();
    let setup = Setup {
        name: base.name,
        file,
        first_seed,
        seeds: args.seeds,
    };
    table::write(out, &setup, &rows)?;
    Ok(Exit::Ok)
}

fn usage(message: &str, help: &str) -> CommandError {
    CommandError(format!("error: {message}\n  = help: {help}\n"))
}

fn first_line(message: &str) -> String {
    message.lines().next().unwrap_or_default().to_string()
}

/// One run without a trace, and what its checkers found.
fn run_once(scenario: &Scenario, seed: u64) -> Counts {
    let opts = RunOptions {
        seed: Some(seed),
        trace: None,
        ..RunOptions::default()
    };
    let result = simulation::run(scenario, &opts);
    let report = check(scenario, &result);
    let failed = result
        .history
        .producers
        .iter()
        .flat_map(|p| &p.records)
        .filter(|r| matches!(r.outcome(), history::Outcome::Failed { .. }))
        .count();
    Counts {
        lost: report.lost_acked.len(),
        failed,
        duplicated: report.duplicates.len(),
        reordered: report.reordered.len(),
    }
}

fn summarize(seeds: &[u64], counts: impl Iterator<Item = Counts>) -> Summary {
    let mut summary = Summary {
        runs: 0,
        runs_with_loss: 0,
        max: Counts::default(),
        worst_seed: seeds[0],
    };
    let mut worst = Counts::default();
    for (seed, c) in seeds.iter().zip(counts) {
        summary.runs += 1;
        summary.runs_with_loss += usize::from(c.lost > 0);
        summary.max = summary.max.max_each(c);
        if c > worst {
            worst = c;
            summary.worst_seed = *seed;
        }
    }
    summary
}

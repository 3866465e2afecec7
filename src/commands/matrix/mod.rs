//! `kafkasim matrix`: a scenario's faults against every combination of the producer settings that
//! decide delivery guarantees, over many seeds, as one table of lost, duplicated and reordered
//! records.

mod grid;
mod processing;
mod table;

use super::parallel::{
    available_threads, check_seeds_and_threads, parse_cells, run_cells, run_checked, seed_range, usage,
};
use super::{CommandError, Exit, report_warnings, scenario_text};
use crate::report::metrics::ProducerFigures;
use crate::scenario::{Overrides, Scenario};
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
    /// Warnings are errors.
    pub deny_warnings: bool,
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

/// What one run found that is not lost: acknowledged records that the run's end left above a
/// leader's high watermark, or on the disk of a replica of a partition without a leader.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
struct NotLost {
    uncommitted: usize,
    unavailable: usize,
}

impl NotLost {
    fn max_each(self, other: NotLost) -> NotLost {
        NotLost {
            uncommitted: self.uncommitted.max(other.uncommitted),
            unavailable: self.unavailable.max(other.unavailable),
        }
    }
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
    /// The largest counts of records not lost, over the runs.
    max_not_lost: NotLost,
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
pub fn matrix(args: &MatrixArgs, out: &mut dyn Write, err: &mut dyn Write) -> Result<Exit, CommandError> {
    check_seeds_and_threads(args.seeds, MAX_SEEDS, "e.g. --seeds 20", args.threads)?;
    let scenario = scenario_text(&args.file)?;
    let base = scenario.parse(&Overrides::default())?;
    report_warnings(&base, args.deny_warnings, err)?;
    let file = scenario.file.clone();
    if base.producers.is_empty() {
        return Err(usage(
            &format!("{file} has no producers: the matrix varies producer settings"),
            "pick a scenario with at least one producer",
        ));
    }
    let first_seed = args.seed.unwrap_or(base.seed);
    let seeds = seed_range(first_seed, args.seeds)?;
    let cells = parse_cells(
        &scenario,
        Combination::grid().into_iter().map(|c| (c, c.overrides())),
    );
    let threads = args.threads.unwrap_or_else(available_threads);
    let runs = run_cells(&cells, &seeds, threads, run_once, |_, _| {});
    let rows: Vec<Row> = cells
        .iter()
        .zip(runs)
        .map(|((combination, _), counts)| Row {
            combination: *combination,
            outcome: match counts {
                Ok(counts) => Outcome::Ran(summarize(&seeds, counts.into_iter())),
                Err(why) => Outcome::Rejected(why),
            },
        })
        .collect();
    let setup = Setup {
        name: base.name.clone(),
        file,
        first_seed,
        seeds: args.seeds,
    };
    table::write(out, &setup, &rows)?;
    if !base.processors.is_empty() {
        processing::write(out, &base, &seeds, threads)?;
    }
    Ok(Exit::Ok)
}

/// One run without a trace, and what its checkers found.
fn run_once(scenario: &Scenario, seed: u64) -> (Counts, NotLost) {
    let (result, report) = run_checked(scenario, seed);
    let failed = result
        .history
        .producers
        .iter()
        .map(|p| ProducerFigures::of(p).failed)
        .sum::<u64>();
    let counts = Counts {
        lost: report.lost_acked.len(),
        failed: usize::try_from(failed).unwrap_or(usize::MAX),
        duplicated: report.duplicates.len(),
        reordered: report.reordered.len(),
    };
    let not_lost = NotLost {
        uncommitted: report.uncommitted_acked.len(),
        unavailable: report.unavailable_acked.len(),
    };
    (counts, not_lost)
}

fn summarize(seeds: &[u64], counts: impl Iterator<Item = (Counts, NotLost)>) -> Summary {
    let mut summary = Summary {
        runs: 0,
        runs_with_loss: 0,
        max: Counts::default(),
        max_not_lost: NotLost::default(),
        worst_seed: seeds[0],
    };
    let mut worst = Counts::default();
    for (seed, (c, not_lost)) in seeds.iter().zip(counts) {
        summary.runs += 1;
        summary.runs_with_loss += usize::from(c.lost > 0);
        summary.max = summary.max.max_each(c);
        summary.max_not_lost = summary.max_not_lost.max_each(not_lost);
        if c > worst {
            worst = c;
            summary.worst_seed = *seed;
        }
    }
    summary
}

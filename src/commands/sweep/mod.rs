//! `kafkasim sweep`: a scenario run with every combination of the config values given with
//! `--vary`, as one table of throughput, latency, requests, batch size and what the checkers
//! found.

mod grid;
mod table;

use super::parallel::{
    available_threads, check_seeds_and_threads, parse_cells, run_cells, run_checked, seed_range, usage,
};
use super::{CommandError, Exit, create_dir, report_warnings, scenario_text, write_file};
use crate::report::charts::single;
use crate::report::charts::sweep::{SweepChart, SweepPoint};
use crate::report::metrics::ProducerFigures;
use crate::scenario::error::did_you_mean;
use crate::scenario::{Overrides, Scenario};
pub use grid::Axis;
use std::io::{IsTerminal, Write};
use std::path::PathBuf;

/// The most runs per combination.
const MAX_SEEDS: u64 = 10_000;

/// Arguments of `kafkasim sweep`.
#[derive(Clone, Debug)]
pub struct SweepArgs {
    /// Scenario file or bundled name.
    pub file: String,
    /// `--vary KEY=V1,V2,...`, in the order given.
    pub vary: Vec<String>,
    /// Runs per combination, with seeds `first, first + 1, …`.
    pub seeds: u64,
    /// The first seed (default: the scenario's).
    pub seed: Option<u64>,
    /// Worker threads (default: every core).
    pub threads: Option<usize>,
    /// The producer whose records/s the table shows (default: all together).
    pub throughput_of: Option<String>,
    /// The producer whose latency the table shows (default: all together).
    pub latency_of: Option<String>,
    /// Write `sweep.txt` and the chart here.
    pub out_dir: Option<PathBuf>,
    /// Also draw the chart as PNG.
    pub png: bool,
    /// Warnings are errors.
    pub deny_warnings: bool,
}

/// What a combination's runs came to.
#[derive(Clone, Debug, PartialEq)]
pub struct Measured {
    /// Mean records/s over the runs.
    pub records_per_s: f64,
    /// p50 latency in µs over every run's records.
    pub p50_us: Option<u64>,
    /// p99 latency in µs over every run's records.
    pub p99_us: Option<u64>,
    /// Mean produce requests per run.
    pub requests: f64,
    /// Records per batch, in tenths.
    pub batch_tenths: Option<u64>,
    /// Largest count of acknowledged records lost, in one run.
    pub lost: usize,
    /// Largest count of acknowledged records in a leader's log above its high watermark at the
    /// end, in one run (not lost: not yet replicated).
    pub uncommitted: usize,
    /// Largest count of acknowledged records only on the disk of a replica of a partition
    /// without a leader at the end, in one run (not lost: back when that broker returns).
    pub unavailable: usize,
    /// Largest count of duplicated records, in one run.
    pub duplicated: usize,
    /// Largest count of reordered records, in one run.
    pub reordered: usize,
}

/// One row of the sweep.
#[derive(Clone, Debug)]
pub struct SweepRow {
    /// `KEY=VALUE` per axis.
    pub settings: Vec<String>,
    /// The runs' figures, or the first line of Kafka's refusal.
    pub outcome: Result<Measured, String>,
}

/// A sweep's result, for the table and the chart.
#[derive(Clone, Debug)]
pub struct Sweep {
    /// The scenario's name.
    pub name: String,
    /// Its file.
    pub file: String,
    /// The axes.
    pub axes: Vec<Axis>,
    /// First seed and number of seeds.
    pub seeds: (u64, u64),
    /// Whose throughput and latency are shown (`None`: every producer).
    pub throughput_of: Option<String>,
    /// Whose latency is shown.
    pub latency_of: Option<String>,
    /// One row per combination, first axis outermost.
    pub rows: Vec<SweepRow>,
}

/// Runs the sweep and prints its table (exit 0; 2 on bad input).
pub fn sweep(args: &SweepArgs, out: &mut dyn Write, err: &mut dyn Write) -> Result<Exit, CommandError> {
    let mut stderr = std::io::stderr();
    let progress: Option<&mut (dyn Write + Send)> = stderr.is_terminal().then_some(&mut stderr);
    let result = run_sweep(args, progress, err)?;
    let mut text = Vec::new();
    table::write(&mut text, &result)?;
    out.write_all(&text)?;
    if let Some(dir) = &args.out_dir {
        create_dir(dir)?;
        let table_path = dir.join("sweep.txt");
        write_file(&table_path, &text)?;
        writeln!(out, "wrote {}", table_path.display())?;
        let chart =
            single(&chart_of(&result), args.png).map_err(|e| CommandError(format!("error: {e}\n")))?;
        let svg = dir.join(format!("{}.svg", chart.stem));
        write_file(&svg, &chart.svg)?;
        writeln!(out, "wrote {}", svg.display())?;
        if let Some(png) = &chart.png {
            let path = dir.join(format!("{}.png", chart.stem));
            write_file(&path, png)?;
            writeln!(out, "wrote {}", path.display())?;
        }
    }
    Ok(Exit::Ok)
}

/// The sweep chart: one point per combination that acknowledged records, coloured by the
/// first `--vary` key's value.
pub fn chart_of(sweep: &Sweep) -> SweepChart {
    let whose = |p: &Option<String>| p.clone().unwrap_or_else(|| "every producer".to_string());
    let points = sweep
        .rows
        .iter()
        .filter_map(|row| {
            let m = row.outcome.as_ref().ok()?;
            let group = row.settings.first()?.split_once('=')?.1.to_string();
            Some(SweepPoint {
                label: row.settings.join(" "),
                group,
                p99_ms: m.p99_us? as f64 / 1000.0,
                records_per_s: m.records_per_s,
            })
        })
        .collect();
    SweepChart {
        key: sweep.axes.first().map(|a| a.key.clone()).unwrap_or_default(),
        throughput_of: whose(&sweep.throughput_of),
        latency_of: whose(&sweep.latency_of),
        points,
    }
}

/// Runs every combination over the seeds; `progress` gets a progress line when it is a terminal,
/// `err` the scenario's warnings.
pub fn run_sweep(
    args: &SweepArgs,
    progress: Option<&mut (dyn Write + Send)>,
    err: &mut dyn Write,
) -> Result<Sweep, CommandError> {
    if args.vary.is_empty() {
        return Err(usage(
            "sweep needs at least one --vary",
            "e.g. --vary linger.ms=0,5,50 --vary batch.size=16384,131072",
        ));
    }
    check_seeds_and_threads(args.seeds, MAX_SEEDS, "e.g. --seeds 5", args.threads)?;
    let axes = args
        .vary
        .iter()
        .map(|v| Axis::parse(v))
        .collect::<Result<Vec<_>, _>>()?;
    grid::check_distinct(&axes)?;
    let combinations = grid::combinations(&axes);
    if combinations.len() > grid::MAX_COMBINATIONS {
        return Err(usage(
            &format!(
                "{} combinations is more than the {} a sweep runs",
                combinations.len(),
                grid::MAX_COMBINATIONS
            ),
            "vary fewer keys or fewer values",
        ));
    }
    let scenario = scenario_text(&args.file)?;
    let base = scenario.parse(&Overrides::default())?;
    report_warnings(&base, args.deny_warnings, err)?;
    let file = scenario.file.clone();
    let throughput = producer_indices(&base, args.throughput_of.as_deref(), "--throughput-of")?;
    let latency = producer_indices(&base, args.latency_of.as_deref(), "--latency-of")?;
    let first_seed = args.seed.unwrap_or(base.seed);
    let seeds = seed_range(first_seed, args.seeds)?;
    let overrides = combinations
        .into_iter()
        .map(|c| Overrides::parse(&c).map(|o| (c, o)))
        .collect::<Result<Vec<_>, _>>()?;
    let cells = parse_cells(&scenario, overrides);
    let threads = args.threads.unwrap_or_else(available_threads);
    let progress = progress.map(std::sync::Mutex::new);
    let runs = run_cells(
        &cells,
        &seeds,
        threads,
        |s, seed| run_once(s, seed, &throughput, &latency),
        |n, total| {
            if let Some(p) = &progress
                && let Ok(mut w) = p.lock()
            {
                let _ = write!(w, "\r{}", progress_bar(n, total));
                if n == total {
                    let _ = writeln!(w);
                }
            }
        },
    );
    let rows = cells
        .into_iter()
        .zip(runs)
        .map(|((settings, _), runs)| SweepRow {
            settings,
            outcome: runs.map(measure),
        })
        .collect();
    Ok(Sweep {
        name: base.name,
        file,
        axes,
        seeds: (first_seed, args.seeds),
        throughput_of: args.throughput_of.clone(),
        latency_of: args.latency_of.clone(),
        rows,
    })
}

/// `sweep [##########----------] 12/24 runs`: 30 cells, filled in proportion to `done`.
fn progress_bar(done: usize, total: usize) -> String {
    const CELLS: usize = 30;
    let filled = (done * CELLS).checked_div(total).unwrap_or(CELLS).min(CELLS);
    format!(
        "sweep [{}{}] {done}/{total} runs",
        "#".repeat(filled),
        "-".repeat(CELLS - filled)
    )
}

/// The producers a `--throughput-of`/`--latency-of` flag picks: one by id, or all.
fn producer_indices(s: &Scenario, id: Option<&str>, flag: &str) -> Result<Vec<usize>, CommandError> {
    let Some(id) = id else {
        return Ok((0..s.producers.len()).collect());
    };
    match s.producers.iter().position(|p| p.id == id) {
        Some(i) => Ok(vec![i]),
        None => {
            let ids = s.producers.iter().map(|p| p.id.as_str());
            let hint = did_you_mean(id, ids).unwrap_or_else(|| {
                let all: Vec<&str> = s.producers.iter().map(|p| p.id.as_str()).collect();
                format!("the scenario's producers are {}", all.join(", "))
            });
            Err(usage(
                &format!("{flag}: the scenario has no producer `{id}`"),
                &hint,
            ))
        }
    }
}

/// One run's figures: (throughput producers, latency producers, requests, checker counts).
struct RunFigures {
    throughput: ProducerFigures,
    latency: ProducerFigures,
    requests: u64,
    lost: usize,
    uncommitted: usize,
    unavailable: usize,
    duplicated: usize,
    reordered: usize,
}

fn run_once(scenario: &Scenario, seed: u64, throughput: &[usize], latency: &[usize]) -> RunFigures {
    let (result, report) = run_checked(scenario, seed);
    let figures: Vec<ProducerFigures> = result.history.producers.iter().map(ProducerFigures::of).collect();
    let pick = |which: &[usize]| ProducerFigures::merged(which.iter().filter_map(|i| figures.get(*i)));
    RunFigures {
        throughput: pick(throughput),
        latency: pick(latency),
        requests: throughput
            .iter()
            .filter_map(|i| result.history.producers.get(*i))
            .map(|p| p.requests)
            .sum(),
        lost: report.lost_acked.len(),
        uncommitted: report.uncommitted_acked.len(),
        unavailable: report.unavailable_acked.len(),
        duplicated: report.duplicates.len(),
        reordered: report.reordered.len(),
    }
}

fn measure(runs: Vec<RunFigures>) -> Measured {
    let n = runs.len().max(1) as f64;
    let latency = ProducerFigures::merged(runs.iter().map(|r| &r.latency));
    let batches = ProducerFigures::merged(runs.iter().map(|r| &r.throughput));
    Measured {
        records_per_s: runs
            .iter()
            .map(|r| r.throughput.records_per_second().unwrap_or(0.0))
            .sum::<f64>()
            / n,
        p50_us: latency.p50(),
        p99_us: latency.p99(),
        requests: runs.iter().map(|r| r.requests as f64).sum::<f64>() / n,
        batch_tenths: batches.records_per_batch_tenths(),
        lost: runs.iter().map(|r| r.lost).max().unwrap_or(0),
        uncommitted: runs.iter().map(|r| r.uncommitted).max().unwrap_or(0),
        unavailable: runs.iter().map(|r| r.unavailable).max().unwrap_or(0),
        duplicated: runs.iter().map(|r| r.duplicated).max().unwrap_or(0),
        reordered: runs.iter().map(|r| r.reordered).max().unwrap_or(0),
    }
}

#[cfg(test)]
mod tests {
    use super::progress_bar;

    #[test]
    fn the_progress_bar_fills_in_proportion() {
        assert_eq!(progress_bar(0, 4), format!("sweep [{}] 0/4 runs", "-".repeat(30)));
        assert_eq!(
            progress_bar(2, 4),
            format!("sweep [{}{}] 2/4 runs", "#".repeat(15), "-".repeat(15))
        );
        assert_eq!(progress_bar(4, 4), format!("sweep [{}] 4/4 runs", "#".repeat(30)));
    }
}

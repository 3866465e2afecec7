//! The processing matrix, for a scenario with processors: the same faults against at-least-once,
//! idempotent-only and transactional processing, read by `read_uncommitted` and `read_committed`
//! readers, over the seeds. "exactly-once" appears only where no run wrote an output twice
//! (`output_duplicates`), left one out (`output_missing`) or let a reader return a record of an
//! aborted transaction (`read_aborted`).

use super::super::parallel::{Cell, run_cells, run_checked};
use crate::scenario::{IsolationLevel, Scenario};
use std::io::{self, Write};

/// How the processors write.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Processing {
    /// No idempotence, no transactions: output, flush, then commitSync.
    AtLeastOnce,
    /// The idempotent producer, no transactions.
    Idempotent,
    /// Each processor's `transactional.id` as written.
    Transactional,
}

impl Processing {
    fn label(self) -> &'static str {
        match self {
            Processing::AtLeastOnce => "at-least-once",
            Processing::Idempotent => "idempotent only",
            Processing::Transactional => "transactional",
        }
    }
}

/// One row: how the processors write and how the readers read.
#[derive(Clone, Copy, Debug)]
struct Mode {
    processing: Processing,
    readers: IsolationLevel,
}

/// What one run found.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord)]
struct Found {
    duplicated: usize,
    missing: usize,
    read_aborted: usize,
}

/// The scenario as one row runs it: the processors' producers without (or with their own)
/// `transactional.id` and idempotence, the other consumers at `readers`.
fn variant(base: &Scenario, mode: Mode) -> Result<Scenario, String> {
    let mut s = base.clone();
    for p in s.producers.iter_mut().filter(|p| p.processor.is_some()) {
        match mode.processing {
            Processing::Transactional if p.config.transactional_id.is_none() => {
                return Err("the processors have no transactional.id in the file".to_string());
            }
            Processing::Transactional => {}
            Processing::Idempotent => {
                p.config.transactional_id = None;
                p.config.idempotence = true;
            }
            Processing::AtLeastOnce => {
                p.config.transactional_id = None;
                p.config.idempotence = false;
            }
        }
    }
    // The processors' own view of their producer config follows its producer half.
    let halves: Vec<(usize, _)> = s
        .producers
        .iter()
        .filter_map(|p| Some((p.processor?, p.config.clone())))
        .collect();
    for (i, config) in halves {
        s.processors[i].producer = config;
    }
    for c in s.consumers.iter_mut().filter(|c| c.processor.is_none()) {
        c.config.isolation = mode.readers;
    }
    Ok(s)
}

fn run_once(scenario: &Scenario, seed: u64) -> Found {
    let (_, report) = run_checked(scenario, seed);
    let readers = |i: &u32| {
        scenario
            .consumers
            .get(*i as usize)
            .is_some_and(|c| c.processor.is_none())
    };
    Found {
        duplicated: report.output_duplicates.len(),
        missing: report.output_missing.len(),
        read_aborted: report
            .read_aborted
            .iter()
            .filter(|f| f.consumer.as_ref().is_some_and(readers))
            .count(),
    }
}

/// Runs the six rows over `seeds` and writes the table.
pub(super) fn write(out: &mut dyn Write, base: &Scenario, seeds: &[u64], threads: usize) -> io::Result<()> {
    let modes: Vec<Mode> = [
        Processing::AtLeastOnce,
        Processing::Idempotent,
        Processing::Transactional,
    ]
    .into_iter()
    .flat_map(|processing| {
        [IsolationLevel::ReadUncommitted, IsolationLevel::ReadCommitted]
            .map(|readers| Mode { processing, readers })
    })
    .collect();
    let cells: Vec<Cell<Mode>> = modes.iter().map(|m| (*m, variant(base, *m))).collect();
    let runs = run_cells(&cells, seeds, threads, run_once, |_, _| {});
    writeln!(
        out,
        "\nprocessing: the same faults against the processors' delivery, read by the other consumers"
    )?;
    let titles = [
        "processing",
        "readers",
        "runs",
        "max output duplicated",
        "max output missing",
        "max read aborted",
        "worst seed",
        "guarantee",
    ];
    let mut rows: Vec<Vec<String>> = Vec::new();
    for ((mode, _), result) in cells.iter().zip(runs) {
        let mut row = vec![
            mode.processing.label().to_string(),
            mode.readers.name().to_string(),
        ];
        match result {
            Err(why) => {
                row.extend(std::iter::repeat_n("-".to_string(), 5));
                row.push(format!("skipped: {why}"));
            }
            Ok(found) => {
                let (worst_seed, worst) = seeds
                    .iter()
                    .zip(&found)
                    .max_by_key(|(seed, f)| (**f, std::cmp::Reverse(**seed)))
                    .map(|(s, f)| (*s, *f))
                    .unwrap_or_default();
                let max = |get: fn(&Found) -> usize| found.iter().map(get).max().unwrap_or(0);
                let (dup, missing, aborted) =
                    (max(|f| f.duplicated), max(|f| f.missing), max(|f| f.read_aborted));
                let guarantee = match (dup, missing, aborted) {
                    (0, 0, 0) => "exactly-once",
                    (_, 0, _) => "at-least-once",
                    _ => "none",
                };
                let seed = if worst == Found::default() {
                    "-".to_string()
                } else {
                    worst_seed.to_string()
                };
                row.extend([
                    found.len().to_string(),
                    dup.to_string(),
                    missing.to_string(),
                    aborted.to_string(),
                    seed,
                    guarantee.to_string(),
                ]);
            }
        }
        rows.push(row);
    }
    let mut widths: Vec<usize> = titles.iter().map(|t| t.len()).collect();
    for row in &rows {
        for (w, cell) in widths.iter_mut().zip(row) {
            *w = (*w).max(cell.chars().count());
        }
    }
    let line = |cells: &[String]| {
        let mut text = String::new();
        for (i, (cell, w)) in cells.iter().zip(&widths).enumerate() {
            let numeric = (2..titles.len() - 1).contains(&i) && cell != "-";
            if numeric {
                text.push_str(&format!("{cell:>w$}  "));
            } else {
                text.push_str(&format!("{cell:<w$}  "));
            }
        }
        text.trim_end().to_string()
    };
    let header: Vec<String> = titles.iter().map(|t| t.to_string()).collect();
    writeln!(out, "{}", line(&header))?;
    for row in &rows {
        writeln!(out, "{}", line(row))?;
    }
    writeln!(
        out,
        "  at-least-once: enable.idempotence=false, no transactional.id; idempotent only: enable.idempotence=true; transactional: the processors' transactional.id as written"
    )?;
    writeln!(
        out,
        "  readers: isolation.level of the consumers that are not processors; exactly-once: no output twice, none missing, no aborted record read, in every run"
    )
}

//! The sweep as text: what was run, one fixed-width row per combination, and how to replay one.

use super::{Measured, Sweep};
use crate::sim::SimDuration;
use std::io::{self, Write};

/// Titles of the measured columns (after one column per axis).
const FIGURES: [&str; 8] = [
    "records/s",
    "p50",
    "p99",
    "requests",
    "rec/batch",
    "lost",
    "duplicated",
    "reordered",
];

pub(super) fn write(out: &mut dyn Write, sweep: &Sweep) -> io::Result<()> {
    let (first, n) = sweep.seeds;
    let seeds = match n {
        1 => format!("seed {first}"),
        n => format!("seeds {first} to {}", first + (n - 1)),
    };
    let combinations = match sweep.rows.len() {
        1 => "1 combination".to_string(),
        n => format!("{n} combinations"),
    };
    writeln!(
        out,
        "Sweep: {} ({}), {combinations}, {seeds}",
        sweep.name, sweep.file
    )?;
    let whose = |p: &Option<String>| {
        p.as_ref()
            .map_or("every producer".to_string(), |id| format!("producer {id}"))
    };
    writeln!(
        out,
        "records/s, requests and rec/batch: {}; p50/p99 send-to-ack latency: {}",
        whose(&sweep.throughput_of),
        whose(&sweep.latency_of)
    )?;
    if n > 1 {
        writeln!(
            out,
            "records/s and requests are means over the seeds, latencies pool every run's records, lost/duplicated/reordered are the worst run's"
        )?;
    }
    writeln!(out)?;
    let mut titles: Vec<String> = sweep.axes.iter().map(|a| a.key.clone()).collect();
    let settings = titles.len();
    titles.extend(FIGURES.iter().map(|t| t.to_string()));
    let cells: Vec<Vec<String>> = sweep
        .rows
        .iter()
        .map(|row| {
            let mut c: Vec<String> = row
                .settings
                .iter()
                .map(|kv| kv.split_once('=').map_or(kv.clone(), |(_, v)| v.to_string()))
                .collect();
            if let Ok(m) = &row.outcome {
                c.extend(figures(m));
            }
            c
        })
        .collect();
    let mut widths: Vec<usize> = titles.iter().map(|t| t.chars().count()).collect();
    for row in &cells {
        for (w, cell) in widths.iter_mut().zip(row) {
            *w = (*w).max(cell.chars().count());
        }
    }
    writeln!(out, "{}", padded(&titles, &widths, settings).trim_end())?;
    for (row, cells) in sweep.rows.iter().zip(&cells) {
        let mut text = padded(cells, &widths, settings);
        if let Err(why) = &row.outcome {
            text.push_str(&format!("  skipped: {why}"));
        }
        writeln!(out, "{}", text.trim_end())?;
    }
    not_lost(out, sweep)?;
    writeln!(out)?;
    if let Some(row) = sweep.rows.iter().find(|r| r.outcome.is_ok()) {
        let flags: Vec<String> = row.settings.iter().map(|kv| format!("--set {kv}")).collect();
        writeln!(
            out,
            "replay one: kafkasim run {} --seed {first} {}",
            sweep.file,
            flags.join(" ")
        )?;
    }
    Ok(())
}

/// The combinations whose runs ended with acknowledged records that are not lost (`lost` does
/// not count them) but not committed either, and what each kind means; nothing when none did.
fn not_lost(out: &mut dyn Write, sweep: &Sweep) -> io::Result<()> {
    let noted: Vec<(&[String], &Measured)> = sweep
        .rows
        .iter()
        .filter_map(|r| r.outcome.as_ref().ok().map(|m| (r.settings.as_slice(), m)))
        .filter(|(_, m)| m.uncommitted > 0 || m.unavailable > 0)
        .collect();
    if noted.is_empty() {
        return Ok(());
    }
    writeln!(
        out,
        "\nnot counted as lost: acknowledged records not yet safe when the run ended (worst run)"
    )?;
    for (settings, m) in &noted {
        let mut kinds = Vec::new();
        if m.uncommitted > 0 {
            kinds.push(format!("{} uncommitted", m.uncommitted));
        }
        if m.unavailable > 0 {
            kinds.push(format!("{} unavailable", m.unavailable));
        }
        writeln!(out, "  {}: {}", settings.join(" "), kinds.join(", "))?;
    }
    if noted.iter().any(|(_, m)| m.uncommitted > 0) {
        writeln!(
            out,
            "  uncommitted  in the leader's log above its high watermark: the followers had not copied"
        )?;
        writeln!(
            out,
            "               them yet; lost if that leader had failed then"
        )?;
    }
    if noted.iter().any(|(_, m)| m.unavailable > 0) {
        writeln!(
            out,
            "  unavailable  on the disk of a replica that may lead a partition left without a leader:"
        )?;
        writeln!(out, "               a restart of that broker brings them back")?;
    }
    Ok(())
}

/// A measured row's cells, in `FIGURES` order.
fn figures(m: &Measured) -> Vec<String> {
    let ms = |us: Option<u64>| us.map_or("-".to_string(), |u| SimDuration::from_us(u).to_string());
    vec![
        format!("{:.0}", m.records_per_s),
        ms(m.p50_us),
        ms(m.p99_us),
        format!("{:.0}", m.requests),
        m.batch_tenths
            .map_or("-".to_string(), |t| format!("{}.{}", t / 10, t % 10)),
        m.lost.to_string(),
        m.duplicated.to_string(),
        m.reordered.to_string(),
    ]
}

/// Settings left-aligned, figures right-aligned.
fn padded(cells: &[String], widths: &[usize], settings: usize) -> String {
    let mut line = String::new();
    for (i, (cell, w)) in cells.iter().zip(widths).enumerate() {
        if i > 0 {
            line.push_str("  ");
        }
        if i < settings {
            line.push_str(&format!("{cell:<w$}"));
        } else {
            line.push_str(&format!("{cell:>w$}"));
        }
    }
    line
}

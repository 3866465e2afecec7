//! The matrix as text: a header that says what was run, one fixed-width row per combination, what
//! the labels mean, and a `reproduce:` line for every row that lost, duplicated or reordered.

use super::{Counts, NotLost, Outcome, Row, Setup};
use std::io::{self, Write};

/// Column titles; the first four name the combination, the rest its runs.
const TITLES: [&str; 12] = [
    "acks",
    "idempotence",
    "max.in.flight",
    "retries",
    "runs",
    "runs with loss",
    "max lost",
    "max failed",
    "max duplicated",
    "max reordered",
    "worst seed",
    "guarantee",
];
/// Columns of the combination (left-aligned); a skipped row has only these, and says why.
const SETTINGS: usize = 4;
/// The last column is left-aligned text; the ones between it and the settings are numbers.
const GUARANTEE: usize = 11;

pub(super) fn write(out: &mut dyn Write, setup: &Setup, rows: &[Row]) -> io::Result<()> {
    header(out, setup, rows.len())?;
    let cells: Vec<Vec<String>> = rows.iter().map(cells).collect();
    let mut widths: Vec<usize> = TITLES.iter().map(|t| t.chars().count()).collect();
    for row in &cells {
        for (w, cell) in widths.iter_mut().zip(row) {
            *w = (*w).max(cell.chars().count());
        }
    }
    let titles: Vec<String> = TITLES.iter().map(|t| t.to_string()).collect();
    writeln!(out, "{}", padded(&titles, &widths).trim_end())?;
    for (row, cells) in rows.iter().zip(&cells) {
        let mut text = padded(cells, &widths);
        if let Outcome::Rejected(why) = &row.outcome {
            text.push_str(&format!("  skipped: {why}"));
        }
        writeln!(out, "{}", text.trim_end())?;
    }
    not_lost(out, rows)?;
    legend(out, rows)?;
    reproduce(out, setup, rows)
}

/// The rows whose runs ended with acknowledged records that are not lost but not safe either,
/// and what each kind means; nothing when there are none.
fn not_lost(out: &mut dyn Write, rows: &[Row]) -> io::Result<()> {
    let noted: Vec<(&Row, NotLost)> = rows
        .iter()
        .filter_map(|r| match &r.outcome {
            Outcome::Ran(s) if s.max_not_lost != NotLost::default() => Some((r, s.max_not_lost)),
            _ => None,
        })
        .collect();
    if noted.is_empty() {
        return Ok(());
    }
    writeln!(
        out,
        "\nnot counted as lost: acknowledged records not yet safe when a run ended (the largest over"
    )?;
    writeln!(out, "the runs of a row)")?;
    for (row, n) in &noted {
        let mut kinds = Vec::new();
        if n.unavailable > 0 {
            kinds.push(format!("{} unavailable", n.unavailable));
        }
        if n.uncommitted > 0 {
            kinds.push(format!("{} uncommitted", n.uncommitted));
        }
        let c = &row.combination;
        writeln!(
            out,
            "  acks={} idempotence={} max.in.flight={} retries={}: {}",
            c.acks,
            if c.idempotence { "on" } else { "off" },
            c.max_in_flight,
            c.retries_label(),
            kinds.join(", ")
        )?;
    }
    if noted.iter().any(|(_, n)| n.unavailable > 0) {
        writeln!(
            out,
            "  unavailable  on the disk of a replica that may lead a partition left without a leader:"
        )?;
        writeln!(out, "               a restart of that broker brings them back")?;
    }
    if noted.iter().any(|(_, n)| n.uncommitted > 0) {
        writeln!(
            out,
            "  uncommitted  in the leader's log above its high watermark: committed once the ISR has"
        )?;
        writeln!(out, "               them, lost if that leader fails first")?;
    }
    Ok(())
}

fn header(out: &mut dyn Write, setup: &Setup, combinations: usize) -> io::Result<()> {
    let seeds = match setup.seeds {
        1 => format!("seed {}", setup.first_seed),
        n => format!("seeds {} to {}", setup.first_seed, setup.first_seed + (n - 1)),
    };
    writeln!(out, "Guarantee matrix: {} ({})", setup.name, setup.file)?;
    writeln!(
        out,
        "The scenario's faults, replayed with every combination of the producer settings that decide"
    )?;
    writeln!(
        out,
        "what a crash or a lost response does to your records, given to every producer:"
    )?;
    writeln!(
        out,
        "  acks {{0, 1, all}} x enable.idempotence {{off, on}} x max.in.flight.requests.per.connection {{1, 5}}"
    )?;
    writeln!(
        out,
        "  x retries {{0, max = 2147483647}}: {combinations} combinations, each run with {seeds} ({} runs).",
        setup.seeds
    )?;
    for line in [
        "Counts are records; each is the largest over the runs of a combination:",
        "  lost        acknowledged to the producer, yet at the end in no log its partition has or",
        "              may recover with: truncated, lost in a power loss, or never written",
        "  failed      the send ended in an error: the application was told, the record may be",
        "              missing (with retries=0 one failed attempt is enough)",
        "  duplicated  in the final log more than once",
        "  reordered   overtaken in the log by a record the same producer sent later",
        "",
    ] {
        writeln!(out, "{line}")?;
    }
    Ok(())
}

/// A row's cells: the settings, then its results (none when Kafka rejected the settings).
fn cells(row: &Row) -> Vec<String> {
    let c = &row.combination;
    let idempotence = if c.idempotence { "on" } else { "off" };
    let mut cells = vec![
        c.acks.to_string(),
        idempotence.to_string(),
        c.max_in_flight.to_string(),
        c.retries_label().to_string(),
    ];
    if let Outcome::Ran(s) = &row.outcome {
        cells.extend([
            s.runs.to_string(),
            s.runs_with_loss.to_string(),
            s.max.lost.to_string(),
            s.max.failed.to_string(),
            s.max.duplicated.to_string(),
            s.max.reordered.to_string(),
            s.worst_seed.to_string(),
            guarantee(s.max),
        ]);
    }
    cells
}

/// The delivery guarantee these runs showed, from the largest counts.
fn guarantee(max: Counts) -> String {
    let label = match (max.lost > 0 || max.failed > 0, max.duplicated > 0) {
        (false, false) => "exactly-once",
        (false, true) => "at-least-once",
        (true, false) => "at-most-once",
        (true, true) => "none",
    };
    if max.reordered == 0 {
        format!("{label}, ordered")
    } else {
        label.to_string()
    }
}

/// Cells in their columns: settings and the guarantee left-aligned, numbers right-aligned.
fn padded(cells: &[String], widths: &[usize]) -> String {
    let columns: Vec<String> = cells
        .iter()
        .zip(widths)
        .enumerate()
        .map(|(i, (cell, width))| {
            if (SETTINGS..GUARANTEE).contains(&i) {
                format!("{cell:>width$}")
            } else {
                format!("{cell:<width$}")
            }
        })
        .collect();
    columns.join("  ")
}

fn legend(out: &mut dyn Write, rows: &[Row]) -> io::Result<()> {
    for line in [
        "",
        "guarantee: what these runs showed, not a proof (more seeds or other faults may find more)",
        "  exactly-once   nothing lost or failed, nothing duplicated",
        "  at-least-once  nothing lost or failed, some records duplicated",
        "  at-most-once   some records lost or failed, nothing duplicated",
        "  none           records lost or failed, and records duplicated",
        "  ordered        nothing reordered",
    ] {
        writeln!(out, "{line}")?;
    }
    if rows.iter().any(|r| matches!(r.outcome, Outcome::Rejected(_))) {
        for line in [
            "skipped: Kafka's producer refuses to start with these settings: an explicit",
            "  enable.idempotence=true needs retries > 0 and acks=all",
            "  (ProducerConfig.postProcessAndValidateIdempotenceConfigs)",
        ] {
            writeln!(out, "{line}")?;
        }
    }
    Ok(())
}

fn reproduce(out: &mut dyn Write, setup: &Setup, rows: &[Row]) -> io::Result<()> {
    let worst: Vec<String> = rows
        .iter()
        .filter_map(|r| match &r.outcome {
            Outcome::Ran(s) if s.max != Counts::default() => Some(format!(
                "reproduce: kafkasim run {} --seed {} {}",
                setup.file,
                s.worst_seed,
                r.combination.overrides().to_flags()
            )),
            _ => None,
        })
        .collect();
    if worst.is_empty() {
        return Ok(());
    }
    writeln!(
        out,
        "\nThe worst run of each row that lost, failed, duplicated or reordered records:"
    )?;
    for w in worst {
        writeln!(out, "{w}")?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::super::Summary;
    use super::super::grid::Combination;
    use super::*;

    fn counts(lost: usize, failed: usize, duplicated: usize, reordered: usize) -> Counts {
        Counts {
            lost,
            failed,
            duplicated,
            reordered,
        }
    }

    #[test]
    fn the_guarantee_follows_from_the_largest_counts() {
        assert_eq!(guarantee(counts(0, 0, 0, 0)), "exactly-once, ordered");
        assert_eq!(guarantee(counts(0, 0, 3, 0)), "at-least-once, ordered");
        assert_eq!(guarantee(counts(2, 0, 0, 5)), "at-most-once");
        assert_eq!(guarantee(counts(0, 7, 0, 0)), "at-most-once, ordered");
        assert_eq!(guarantee(counts(2, 0, 3, 5)), "none");
    }

    #[test]
    fn a_row_shows_its_counts_and_how_to_replay_its_worst_run() {
        let rows = [Row {
            combination: Combination::grid()[9],
            outcome: Outcome::Ran(Summary {
                runs: 2,
                runs_with_loss: 1,
                max: counts(4, 2, 0, 0),
                max_not_lost: NotLost {
                    uncommitted: 0,
                    unavailable: 3,
                },
                worst_seed: 8,
            }),
        }];
        let setup = Setup {
            name: "t".into(),
            file: "t.ron".into(),
            first_seed: 7,
            seeds: 2,
        };
        let mut out = Vec::new();
        write(&mut out, &setup, &rows).expect("writes to memory");
        let text = String::from_utf8(out).expect("utf-8");
        let row = text
            .lines()
            .find(|l| l.starts_with("1 "))
            .unwrap_or_else(|| panic!("{text}"));
        let fields: Vec<&str> = row.split_whitespace().collect();
        assert_eq!(
            fields,
            [
                "1",
                "off",
                "1",
                "max",
                "2",
                "1",
                "4",
                "2",
                "0",
                "0",
                "8",
                "at-most-once,",
                "ordered"
            ]
        );
        // Records on the disk of an offline partition's replica are noted, not counted as lost.
        assert!(
            text.contains("\n  acks=1 idempotence=off max.in.flight=1 retries=max: 3 unavailable\n"),
            "{text}"
        );
        assert!(
            text.contains("\n  unavailable  on the disk of a replica"),
            "{text}"
        );
        assert!(!text.contains("\n  uncommitted  "), "{text}");
        assert!(
            text.contains(
                "reproduce: kafkasim run t.ron --seed 8 --set acks=1 --set enable.idempotence=false --set max.in.flight.requests.per.connection=1 --set retries=2147483647"
            ),
            "{text}"
        );
    }
}

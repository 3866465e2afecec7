//! Golden files: the trace and the summary of every bundled scenario, under `snapshots/`.
//! A behaviour change shows up as a readable diff; review it like code.

use crate::support::{bundled_scenarios, run_traced};
use kafkasim::check::check;
use kafkasim::report::summary;
use kafkasim::trace::TraceFormat;

/// Traces longer than this keep their head and tail in the snapshot (the determinism test still
/// compares whole traces).
const FULL_TRACE_LINES: usize = 20_000;
const HEAD_LINES: usize = 2_000;
const TAIL_LINES: usize = 500;

/// The trace as its snapshot holds it: whole, or its first and last lines around a marker.
fn excerpt(trace: &str) -> String {
    let lines: Vec<&str> = trace.lines().collect();
    if lines.len() <= FULL_TRACE_LINES {
        return trace.to_string();
    }
    let skipped = lines.len() - HEAD_LINES - TAIL_LINES;
    let mut out = lines[..HEAD_LINES].join("\n");
    out.push_str(&format!(
        "\n[... {skipped} lines of {} left out of this snapshot ...]\n",
        lines.len()
    ));
    out.push_str(&lines[lines.len() - TAIL_LINES..].join("\n"));
    out.push('\n');
    out
}

#[test]
fn every_bundled_scenario_matches_its_snapshots() {
    for s in bundled_scenarios() {
        let result = run_traced(&s, TraceFormat::Text, None);
        let checks = check(&s, &result);
        let trace = excerpt(result.trace.as_deref().expect("traced"));
        insta::with_settings!({ snapshot_path => "../../snapshots", prepend_module_to_snapshot => false, omit_expression => true }, {
            insta::assert_snapshot!(format!("{}.trace", s.name), trace);
            insta::assert_snapshot!(format!("{}.summary", s.name), summary(&s, &result, &checks));
        });
    }
}

/// The guarantee matrix the book's lab shows: `kafkasim matrix guarantee-matrix --seeds 10`.
#[test]
fn the_guarantee_matrix_matches_its_snapshot() {
    let o = crate::support::kafkasim()
        .args(["matrix", "scenarios/guarantee-matrix.ron", "--seeds", "10"])
        .output()
        .expect("the binary starts");
    assert_eq!(o.status.code(), Some(0), "{}", String::from_utf8_lossy(&o.stderr));
    let table = String::from_utf8(o.stdout).expect("utf-8");
    insta::with_settings!({ snapshot_path => "../../snapshots", prepend_module_to_snapshot => false, omit_expression => true }, {
        insta::assert_snapshot!("guarantee-matrix.matrix", table);
    });
}

/// The sweep the tuning lab shows.
#[test]
fn the_tuning_sweep_matches_its_snapshot() {
    let o = crate::support::kafkasim()
        .args([
            "sweep",
            "scenarios/tuning-throughput-latency.ron",
            "--vary",
            "acks=1,all",
            "--vary",
            "linger.ms=0,20",
            "--vary",
            "batch.size=16384,131072",
            "--throughput-of",
            "bulk",
            "--latency-of",
            "probe",
        ])
        .output()
        .expect("the binary starts");
    assert_eq!(o.status.code(), Some(0), "{}", String::from_utf8_lossy(&o.stderr));
    let table = String::from_utf8(o.stdout).expect("utf-8");
    insta::with_settings!({ snapshot_path => "../../snapshots", prepend_module_to_snapshot => false, omit_expression => true }, {
        insta::assert_snapshot!("tuning-throughput-latency.sweep", table);
    });
}

/// The run the transaction-version lab compares with the scenario as written (version 2):
/// `kafkasim run scenarios/transaction-version-1-vs-2.ron --set kafkasim.transaction.version=1`,
/// trace and summary.
#[test]
fn the_transaction_version_1_run_matches_its_snapshot() {
    let o = crate::support::kafkasim()
        .args([
            "run",
            "scenarios/transaction-version-1-vs-2.ron",
            "--set",
            "kafkasim.transaction.version=1",
        ])
        .output()
        .expect("the binary starts");
    assert_eq!(o.status.code(), Some(0), "{}", String::from_utf8_lossy(&o.stderr));
    let run = String::from_utf8(o.stdout).expect("utf-8");
    insta::with_settings!({ snapshot_path => "../../snapshots", prepend_module_to_snapshot => false, omit_expression => true }, {
        insta::assert_snapshot!("transaction-version-1-vs-2.set", run);
    });
}

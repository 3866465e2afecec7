//! Same scenario + same seed ⇒ identical bytes; another seed changes what jitter decides.

use crate::support::{bundled_scenarios, run_traced};
use kafkasim::check::check;
use kafkasim::history::file as history;
use kafkasim::report::summary;
use kafkasim::trace::TraceFormat;

#[test]
fn every_bundled_scenario_replays_byte_for_byte() {
    for s in bundled_scenarios() {
        for format in [TraceFormat::Text, TraceFormat::Jsonl] {
            let a = run_traced(&s, format, None);
            let b = run_traced(&s, format, None);
            assert_eq!(a.trace, b.trace, "{}: trace differs between two runs", s.name);
            let sa = summary(&s, &a, &check(&s, &a));
            let sb = summary(&s, &b, &check(&s, &b));
            assert_eq!(sa, sb, "{}: summary differs between two runs", s.name);
            assert_eq!(
                history::write(&s, &a),
                history::write(&s, &b),
                "{}: history file differs between two runs",
                s.name
            );
        }
    }
}

#[test]
fn another_seed_changes_the_trace_where_jitter_applies() {
    let jittery: Vec<_> = bundled_scenarios()
        .into_iter()
        .filter(|s| s.cluster.network.jitter.as_us() > 0)
        .collect();
    assert!(!jittery.is_empty(), "some bundled scenario must use jitter");
    for s in jittery {
        let a = run_traced(&s, TraceFormat::Text, Some(s.seed));
        let b = run_traced(&s, TraceFormat::Text, Some(s.seed + 1));
        assert_ne!(
            a.trace,
            b.trace,
            "{}: seeds {} and {} gave the same trace",
            s.name,
            s.seed,
            s.seed + 1
        );
    }
}

#[test]
fn tracing_does_not_change_what_happens() {
    for s in bundled_scenarios() {
        let traced = run_traced(&s, TraceFormat::Text, None);
        let quiet = kafkasim::simulation::run(
            &s,
            &kafkasim::simulation::RunOptions {
                trace: None,
                ..Default::default()
            },
        );
        assert_eq!(
            summary(&s, &traced, &check(&s, &traced)),
            summary(&s, &quiet, &check(&s, &quiet)),
            "{}: the trace must only observe",
            s.name
        );
    }
}

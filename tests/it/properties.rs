//! Properties over random scenarios (`generate`) and mutated bundled scenarios: no panic, a
//! bounded run, byte-identical replays, and the model invariants (`check::invariants`).

use crate::generate::{self, Generated};
use crate::support::{bundled_scenarios, run_traced};
use kafkasim::check::check;
use kafkasim::report::summary;
use kafkasim::scenario::Scenario;
use kafkasim::simulation::{RunOptions, run};
use kafkasim::trace::TraceFormat;
use proptest::prelude::*;
use proptest::test_runner::FileFailurePersistence;

/// Every bundled scenario keeps the model invariants from start to end.
#[test]
fn bundled_scenarios_keep_the_invariants() {
    for s in bundled_scenarios() {
        let opts = RunOptions {
            trace: None,
            invariants: true,
            ..RunOptions::default()
        };
        let result = run(&s, &opts);
        let found: Vec<String> = result
            .violations
            .iter()
            .map(|v| v.describe(&result.names))
            .collect();
        assert!(found.is_empty(), "{}: {found:#?}", s.name);
    }
}

/// Events a generated run may take: far above what a 3 s scenario needs.
const MAX_EVENTS: u64 = 2_000_000;

/// A run of `text` with a trace, its summary and its invariants.
fn run_generated(text: &str) -> (String, String, Vec<String>, Option<String>) {
    let scenario = Scenario::parse("generated.ron", text).unwrap_or_else(|e| panic!("invalid:\n{e}\n{text}"));
    let opts = RunOptions {
        max_events: MAX_EVENTS,
        trace: Some(TraceFormat::Text),
        invariants: true,
        ..RunOptions::default()
    };
    let result = run(&scenario, &opts);
    let checks = check(&scenario, &result);
    let summary = summary(&scenario, &result, &checks);
    let violations = result
        .violations
        .iter()
        .map(|v| v.describe(&result.names))
        .collect();
    (
        result.trace.unwrap_or_default(),
        summary,
        violations,
        result.stopped_early,
    )
}

/// Cases per property in every `cargo test` (`PROPTEST_CASES` raises it for a long run).
fn config(cases: u32) -> ProptestConfig {
    ProptestConfig {
        cases: std::env::var("PROPTEST_CASES")
            .ok()
            .and_then(|c| c.parse().ok())
            .unwrap_or(cases),
        failure_persistence: Some(Box::new(FileFailurePersistence::WithSource("regressions"))),
        ..ProptestConfig::default()
    }
}

fn generated_runs_hold(g: &Generated) -> Result<(), TestCaseError> {
    let text = g.text();
    let (trace, summary, violations, stopped) = run_generated(&text);
    prop_assert!(stopped.is_none(), "{stopped:?}\n{text}");
    prop_assert!(violations.is_empty(), "{violations:#?}\n{text}");
    let (trace2, summary2, _, _) = run_generated(&text);
    prop_assert!(trace == trace2, "the trace differs between two runs\n{text}");
    prop_assert!(
        summary == summary2,
        "the summary differs between two runs\n{text}"
    );
    Ok(())
}

proptest! {
    #![proptest_config(config(24))]

    /// Random small valid scenarios parse, never panic, end within the event limit, replay
    /// byte for byte and keep the model invariants.
    #[test]
    fn generated_scenarios_run_deterministically_and_keep_the_invariants(g in generate::scenario()) {
        generated_runs_hold(&g)?;
    }
}

/// Found by the property tests: a power loss on a group coordinator truncates offset-commit
/// records in `__consumer_offsets`, and the trace writer looked up a producer for them and
/// panicked. They are traced as `offset-commit`.
#[test]
fn truncated_offset_commit_records_are_traced() {
    let text = r#"Scenario(
    name: "commit-truncated",
    description: "A power loss takes the coordinator's unflushed offset commits.",
    duration: "6s",
    cluster: (brokers: 1, config: { "offsets.topic.replication.factor": 1, "group.initial.rebalance.delay.ms": 0 }),
    topics: [ (name: "t", partitions: 1) ],
    producers: [ (id: "p1", workload: (topic: "t", records: 100, rate: "100/s")) ],
    consumers: [ (id: "c1", group: "g1", topics: ["t"], config: { "auto.commit.interval.ms": 100 }) ],
    faults: [ (at: "2s", fault: Crash(broker: 1, lose_unflushed: true)),
              (at: "3s", fault: Restart(broker: 1)) ],
)"#;
    let s = Scenario::parse("commit-truncated.ron", text).expect("valid");
    let text_trace = run_traced(&s, TraceFormat::Text, None).trace.unwrap_or_default();
    assert!(
        text_trace
            .lines()
            .any(|l| l.contains("truncate   __consumer_offsets") && l.contains("offset-commit")),
        "{text_trace}"
    );
    let json = run_traced(&s, TraceFormat::Jsonl, None).trace.unwrap_or_default();
    assert!(json.contains(r#""records":["offset-commit""#), "{json}");
}

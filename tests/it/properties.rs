//! Properties over random scenarios (`generate`) and mutated bundled scenarios: no panic, a
//! bounded run, byte-identical replays, and the model invariants (`check::invariants`).

use crate::generate::{self, Generated, Mutation};
use crate::support::{bundled_scenarios, run_traced};
use kafkasim::check::check;
use kafkasim::commands::bundled;
use kafkasim::report::summary;
use kafkasim::scenario::{Fault, Scenario, source};
use kafkasim::sim::SimDuration;
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

/// Generated scenarios per `cargo test` (about 12 s in a debug build on 2 cores).
const GENERATED_CASES: u32 = 300;

/// Mutated scenarios per `cargo test` (about 3 s in a debug build).
const MUTATED_CASES: u32 = 2_000;

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
    // A livelock (all of a client's timeouts and backoffs 0, reconnecting to a dead broker at
    // one instant, as a real client would spin) is a bounded end the run reports; anything else
    // that stops a run early is not.
    let stopped = result.stopped_early.filter(|_| !result.livelock);
    (result.trace.unwrap_or_default(), summary, violations, stopped)
}

/// `cases` per property, or `PROPTEST_CASES` when set; failures are kept in
/// `properties.regressions` and replayed first.
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
    #![proptest_config(config(GENERATED_CASES))]

    /// Random small valid scenarios parse, never panic, end within the event limit, replay
    /// byte for byte and keep the model invariants.
    #[test]
    fn generated_scenarios_run_deterministically_and_keep_the_invariants(g in generate::scenario()) {
        generated_runs_hold(&g)?;
    }
}

proptest! {
    #![proptest_config(config(GENERATED_CASES * 20))]

    /// The long run of the generated-scenario property (`cargo test --release -- --ignored`).
    #[test]
    #[ignore = "long run: cargo test --release --test it -- --ignored"]
    fn long_generated_scenarios_run_deterministically_and_keep_the_invariants(g in generate::scenario()) {
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

/// Whether a mutated scenario is small enough to run in the suite: a mutation may raise a
/// partition count to 10,000, which runs correctly but slowly in a debug build. Only size is
/// bounded here; extreme timings, jitter, thread counts and record counts all run.
fn quick_to_run(s: &Scenario) -> bool {
    s.topics.iter().all(|t| t.partitions <= 64)
        && s.faults.iter().all(|f| match &f.fault {
            Fault::AddPartitions { count, .. } => *count <= 64,
            _ => true,
        })
}

/// A mutated scenario is rejected with a located error, or accepted and then runs (a short,
/// bounded run) without panicking.
fn mutated_text_is_handled(file: &str, bytes: Vec<u8>) -> Result<(), TestCaseError> {
    let located = |e: &kafkasim::scenario::ScenarioError| -> Result<(), TestCaseError> {
        let shown = e.to_string();
        prop_assert!(e.place.location.is_some(), "no location:\n{shown}");
        prop_assert!(
            shown.contains(&format!("{file}:")),
            "no file:line:column:\n{shown}"
        );
        Ok(())
    };
    let text = match source::decode(file, bytes) {
        Ok(text) => text,
        Err(e) => return located(&e),
    };
    let scenario = match Scenario::parse(file, &text) {
        Ok(s) => s,
        Err(e) => return located(&e),
    };
    if quick_to_run(&scenario) {
        let opts = RunOptions {
            until: Some(SimDuration::from_us(2_000_000)),
            max_events: 300_000,
            trace: Some(TraceFormat::Text),
            ..RunOptions::default()
        };
        let result = run(&scenario, &opts);
        summary(&scenario, &result, &check(&scenario, &result));
    }
    Ok(())
}

fn mutated_bundled_scenario_is_handled(i: usize, changes: &[Mutation]) -> Result<(), TestCaseError> {
    let (file, text) = bundled()[i];
    let mut bytes = text.as_bytes().to_vec();
    for m in changes {
        m.apply(&mut bytes);
    }
    mutated_text_is_handled(file, bytes)
}

proptest! {
    #![proptest_config(config(MUTATED_CASES))]

    /// Byte flips, deletions, duplications, extreme numbers, truncation and near-miss names in
    /// the bundled scenarios never panic the parser or the run.
    #[test]
    fn mutated_bundled_scenarios_are_rejected_with_a_location_or_run((i, changes) in generate::mutations(bundled().len())) {
        mutated_bundled_scenario_is_handled(i, &changes)?;
    }
}

proptest! {
    #![proptest_config(config(MUTATED_CASES * 20))]

    /// The long run of the mutation property (`cargo test --release -- --ignored`).
    #[test]
    #[ignore = "long run: cargo test --release --test it -- --ignored"]
    fn long_mutated_bundled_scenarios_are_rejected_with_a_location_or_run((i, changes) in generate::mutations(bundled().len())) {
        mutated_bundled_scenario_is_handled(i, &changes)?;
    }
}

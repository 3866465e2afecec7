//! The idempotent producer end to end: producer ids from the controller's blocks, Kafka's silent
//! disabling, and a new leader that recognises a retried batch from the producer state it
//! rebuilt from its log.

use crate::support::run_traced;
use kafkasim::check::check;
use kafkasim::commands::bundled;
use kafkasim::scenario::Scenario;
use kafkasim::simulation::RunResult;
use kafkasim::trace::TraceFormat;

fn bundled_text(name: &str) -> &'static str {
    bundled()
        .iter()
        .find(|(f, _)| f.ends_with(&format!("/{name}.ron")))
        .map(|(_, t)| *t)
        .unwrap_or_else(|| panic!("{name} is bundled"))
}

fn trace(r: &RunResult) -> &str {
    r.trace.as_deref().expect("traced")
}

/// Lines of the trace whose kind column (after time and node) is `kind`.
fn lines<'t>(r: &'t RunResult, kind: &str) -> Vec<&'t str> {
    trace(r)
        .lines()
        .filter(|l| l.split_whitespace().nth(2) == Some(kind))
        .collect()
}

#[test]
fn the_first_producer_id_waits_for_a_block_from_the_controller() {
    // RPCProducerIdManager: a broker starts without ids, answers COORDINATOR_LOAD_IN_PROGRESS
    // and asks the controller for a block of 1000; the client asks again after
    // retry.backoff.ms and gets the block's first id.
    let s = Scenario::parse("t.ron", bundled_text("lost-response-idempotent")).expect("valid");
    let r = run_traced(&s, TraceFormat::Text, None);
    let init = lines(&r, "init-pid");
    assert_eq!(init.len(), 4, "{init:#?}");
    assert!(init[1].ends_with("failed: COORDINATOR_LOAD_IN_PROGRESS; asking again after retry.backoff.ms"));
    assert!(init[3].ends_with("gave producer id 0 epoch 0"));
    assert!(lines(&r, "pid-block")[0].ends_with("producer ids 0..999 -> broker-1"));
    let first_produce = lines(&r, "produce")[0];
    assert!(first_produce.contains("pid 0 epoch 0 seq 0"), "{first_produce}");
}

#[test]
fn a_new_leader_rebuilds_producer_state_from_its_log_and_recognises_a_retry() {
    // acks-all-leader-crash-no-loss writes duplicates without idempotence; with it, a retry
    // of a batch that broker 2 had replicated before taking over is answered from the producer
    // state broker 2 rebuilt from its log (UnifiedLog.rebuildProducerState).
    let text = bundled_text("acks-all-leader-crash-no-loss").replace("\"enable.idempotence\": false, ", "");
    assert!(!text.contains("enable.idempotence"));
    let s = Scenario::parse("t.ron", &text).expect("valid");
    let r = run_traced(&s, TraceFormat::Text, None);
    let report = check(&s, &r);
    assert!(report.lost_acked.is_empty());
    assert!(
        report.duplicates.is_empty(),
        "{} duplicates",
        report.duplicates.len()
    );
    assert!(report.reordered.is_empty());
    let dups = lines(&r, "duplicate");
    assert!(!dups.is_empty());
    assert!(
        dups.iter()
            .all(|l| l.split_whitespace().nth(1) == Some("broker-2")),
        "the new leader answers the retries: {dups:#?}"
    );
    let acked: u64 = r.history.producers.iter().map(|p| p.acked).sum();
    assert_eq!(acked, 400);
}

#[test]
fn kafka_silently_disables_a_defaulted_idempotence_and_the_summary_says_so() {
    // ProducerConfig.postProcessAndValidateIdempotenceConfigs: acks=1 without an explicit
    // enable.idempotence turns it off with an INFO line instead of failing.
    let text = r#"Scenario(name: "t", description: "t", seed: 1, duration: "1s",
        cluster: (brokers: 1), topics: [ (name: "t", partitions: 1) ],
        producers: [ (id: "p1", config: { "acks": "1" },
                      workload: (topic: "t", records: 5, rate: "100/s")) ])"#;
    let s = Scenario::parse("t.ron", text).expect("valid");
    assert!(!s.producers[0].config.idempotence);
    let r = run_traced(&s, TraceFormat::Text, None);
    assert!(lines(&r, "init-pid").is_empty(), "no producer id is requested");
    let summary = kafkasim::report::summary::summary(&s, &r, &check(&s, &r));
    assert!(
        summary.contains("p1         off: Kafka disabled it because acks is set to 1, not set to 'all'"),
        "{summary}"
    );
    assert!(summary.contains("p1: Idempotence will be disabled because acks is set to 1, not set to 'all'."));
}

#[test]
fn the_default_producer_is_idempotent_and_the_summary_shows_its_id_and_epoch() {
    let s = Scenario::parse("t.ron", bundled_text("delivery-timeout-leaderless")).expect("valid");
    assert!(s.producers[0].config.idempotence, "Kafka 3.0+ default");
    let r = run_traced(&s, TraceFormat::Text, None);
    let summary = kafkasim::report::summary::summary(&s, &r, &check(&s, &r));
    assert!(
        summary.contains("p1         on: producer id 0, epoch 1, after 1 epoch bump"),
        "{summary}"
    );
    // The batch that expired after a retry left partition 0 unresolved; the bump restarts its
    // sequences at 0, which broker 1 accepts under the new epoch once it is back.
    let bump = lines(&r, "epoch-bump");
    assert_eq!(bump.len(), 1);
    assert!(bump[0].ends_with(
        "producer id 0 now epoch 1: events-0 starts over at sequence 0 (unfinished batches renumbered), other partitions at their next new batch"
    ));
    assert!(
        lines(&r, "produce")
            .iter()
            .any(|l| l.contains("events-0") && l.contains("epoch 1 seq 0")),
        "events-0 starts over at sequence 0"
    );
}

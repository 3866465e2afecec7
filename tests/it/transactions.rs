//! Transactions end to end on a small run: a transactional producer that aborts every third
//! transaction, read by a `read_uncommitted` and a `read_committed` consumer (KIP-98).

use crate::support::{parse_scenario, run_text, trace_lines};
use kafkasim::history::{Outcome, TxnOutcome};
use kafkasim::simulation::RunResult;
use std::collections::BTreeSet;

/// 90 records in transactions of 10 from one transactional producer; every third aborts.
fn abort_every_third(version: u32) -> RunResult {
    let s = parse_scenario(
        "transactions.ron",
        &format!(
            r#"Scenario(
                name: "transactions", description: "x", seed: 1, duration: "6s",
                cluster: (brokers: 3, config: {{ "kafkasim.transaction.version": {version} }},
                          network: (latency: "1ms")),
                topics: [ (name: "orders", partitions: 2, replication_factor: 3) ],
                producers: [ (id: "p1", config: {{ "transactional.id": "orders-app", "linger.ms": 5 }},
                              workload: (topic: "orders", records: 90, rate: "100/s", start: "500ms",
                                         transactions: (records: 10, abort_every: 3))) ],
                consumers: [
                    (id: "dirty", topics: ["orders"], config: {{ "auto.offset.reset": "earliest" }}),
                    (id: "clean", topics: ["orders"],
                     config: {{ "auto.offset.reset": "earliest", "isolation.level": "read_committed" }}),
                ],
            )"#
        ),
    );
    run_text(&s, None)
}

/// Sequence numbers each consumer returned.
fn read_by(r: &RunResult, consumer: u32) -> BTreeSet<u32> {
    r.history
        .consumed
        .iter()
        .filter(|c| c.consumer == consumer)
        .map(|c| c.record.seq)
        .collect()
}

#[test]
fn read_committed_returns_only_committed_transactions() {
    for version in [1, 2] {
        let r = abort_every_third(version);
        let lines = trace_lines(&r);
        // Transactions 2, 5 and 8 (from 0) abort: records 20..30, 50..60 and 80..90.
        let aborted = |seq: u32| matches!(seq / 10, 2 | 5 | 8);
        let clean = read_by(&r, 1);
        let committed: BTreeSet<u32> = (0..90).filter(|s| !aborted(*s)).collect();
        assert_eq!(
            clean, committed,
            "version {version}: read_committed reads the committed ones"
        );
        let dirty = read_by(&r, 0);
        assert!(
            dirty.is_superset(&clean) && dirty.iter().any(|s| aborted(*s)),
            "version {version}: read_uncommitted also returns aborted records"
        );
        // What read_uncommitted returned of the aborted transactions is what reached the log:
        // batches still lingering when abortTransaction() was called were never sent.
        let acked: BTreeSet<u32> = r.history.producers[0]
            .records
            .iter()
            .enumerate()
            .filter(|(_, h)| matches!(h.outcome(), Outcome::Acked { .. }))
            .map(|(s, _)| s as u32)
            .collect();
        assert_eq!(dirty, acked, "version {version}");
        let markers = lines.iter().filter(|l| l.kind == "marker").count();
        assert!(
            markers >= 9,
            "version {version}: a marker per transaction and partition"
        );
        let skipped_markers = lines
            .iter()
            .filter(|l| l.node == "clean" && l.kind == "skip" && l.detail.contains("marker"))
            .count();
        assert_eq!(
            skipped_markers, markers,
            "version {version}: positions step over every marker"
        );
    }
}

#[test]
fn version_2_bumps_the_epoch_at_every_end_and_version_1_asks_to_add_partitions() {
    let v2 = trace_lines(&abort_every_third(2));
    let ended: Vec<&str> = v2
        .iter()
        .filter(|l| l.node == "p1" && l.detail.starts_with("transaction #"))
        .map(|l| l.detail.as_str())
        .collect();
    assert_eq!(ended.len(), 9);
    assert!(ended[8].ends_with("producer id 0 epoch 9"), "{}", ended[8]);
    assert!(!v2.iter().any(|l| l.detail.starts_with("AddPartitionsToTxn done")));
    let v1 = trace_lines(&abort_every_third(1));
    let ended: Vec<&str> = v1
        .iter()
        .filter(|l| l.node == "p1" && l.detail.starts_with("transaction #"))
        .map(|l| l.detail.as_str())
        .collect();
    assert!(ended[8].ends_with("producer id 0 epoch 0"), "{}", ended[8]);
    assert!(v1.iter().any(|l| l.detail.starts_with("AddPartitionsToTxn done")));
}

/// The transaction coordinator's broker crashes while transactions run: the new leader of the
/// `__transaction_state` partition loads it, finishes what was deciding, and the producer carries
/// on; read_committed still returns exactly the committed records.
#[test]
fn a_coordinator_failover_keeps_transactions_atomic() {
    let text = |fault: &str| {
        format!(
            r#"Scenario(
                name: "failover", description: "x", seed: 1, duration: "20s",
                cluster: (brokers: 3, network: (latency: "1ms")),
                topics: [ (name: "orders", partitions: 2, replication_factor: 3) ],
                producers: [ (id: "p1", config: {{ "transactional.id": "orders-app", "linger.ms": 5 }},
                              workload: (topic: "orders", keys: ["a", "b", "c"], records: 300, rate: "100/s",
                                         start: "500ms", transactions: (records: 10, abort_every: 4))) ],
                consumers: [ (id: "clean", topics: ["orders"],
                              config: {{ "auto.offset.reset": "earliest", "isolation.level": "read_committed" }}) ],
                faults: [ {fault} ],
            )"#
        )
    };
    let before = run_text(&parse_scenario("failover.ron", &text("")), None);
    let coordinator = trace_lines(&before)
        .iter()
        .find(|l| l.detail.starts_with("transaction coordinator is broker"))
        .and_then(|l| l.detail.rsplit(' ').next()?.parse::<u32>().ok())
        .expect("the producer found its coordinator");
    let fault = format!("(at: \"1500ms\", fault: Crash(broker: {coordinator}))");
    let r = run_text(&parse_scenario("failover.ron", &text(&fault)), None);
    let lines = trace_lines(&r);
    let loaded_elsewhere = lines.iter().any(|l| {
        l.kind == "txn-state" && l.node != format!("broker-{coordinator}") && l.at > crate::support::ms(1500)
    });
    assert!(
        loaded_elsewhere,
        "another broker coordinates the transactional id after the crash"
    );
    let ph = &r.history.producers[0];
    let committed: BTreeSet<u32> = ph
        .txns
        .iter()
        .filter(|t| t.outcome == TxnOutcome::Committed)
        .flat_map(|t| t.first..t.first + t.records)
        .collect();
    assert!(
        committed.len() >= 200,
        "most transactions commit: {}",
        committed.len()
    );
    assert_eq!(
        read_by(&r, 0),
        committed,
        "read_committed returns exactly the committed records"
    );
}

/// A `__transaction_state` of one replica answers a write at once, inside the request that asked
/// for it: the producer's connection must not stay muted (it did, and the producer hung).
#[test]
fn a_single_replica_coordinator_answers_at_once_and_the_producer_goes_on() {
    let s = parse_scenario(
        "rf1.ron",
        r#"Scenario(
            name: "rf1", description: "x", seed: 1, duration: "10s",
            cluster: (brokers: 3, config: { "transaction.state.log.replication.factor": 1,
                                            "transaction.state.log.min.isr": 1 }),
            topics: [ (name: "orders", partitions: 6, replication_factor: 1) ],
            producers: [ (id: "p1", config: { "transactional.id": "t1" },
                          workload: (topic: "orders", records: 5000, rate: "5000/s",
                                     transactions: (records: 100))) ],
        )"#,
    );
    let r = run_text(&s, None);
    let ph = &r.history.producers[0];
    let committed = ph
        .txns
        .iter()
        .filter(|t| t.outcome == TxnOutcome::Committed)
        .count();
    assert_eq!(committed, 50, "every transaction commits");
    assert_eq!(ph.acked, 5000);
}

/// Faults that name a processor reach both its clients: a paused processor and an isolated one
/// (the fault used to find no node for a processor's id and panic); outputs stay exactly-once.
#[test]
fn pausing_and_isolating_processors_keeps_their_output_exactly_once() {
    let text = std::fs::read_to_string("scenarios/processor-crash-exactly-once.ron").expect("bundled");
    let text = text.replace(
        r#"faults: [ (at: "10400ms", fault: Crash(processor: "app1")) ],"#,
        r#"faults: [ (at: "10400ms", fault: Pause(node: Client("app1"), for: "5s")),
                   (at: "11s", fault: Isolate(node: Client("app2"))), (at: "12s", fault: Heal) ],"#,
    );
    assert!(
        text.contains("Pause(node: Client(\"app1\")"),
        "the fault was replaced"
    );
    let s = parse_scenario("paused.ron", &text);
    let r = run_text(&s, None);
    let lines = trace_lines(&r);
    let paused_halves: BTreeSet<&str> = lines
        .iter()
        .filter(|l| {
            l.node == "app1" && l.at > crate::support::ms(10_400) && l.at < crate::support::ms(15_400)
        })
        .map(|l| l.kind.as_str())
        .collect();
    assert!(
        paused_halves.is_empty(),
        "neither half of app1 acts while paused: {paused_halves:?}"
    );
    let report = kafkasim::check::check(&s, &r);
    assert!(report.output_duplicates.is_empty() && report.output_missing.is_empty());
}

//! The producer's client-side rules, each shown on a small run: blocking in send(), retries,
//! delivery timeouts, oversized records, keyless partitioning.

use kafkasim::check::check;
use kafkasim::history::Outcome;
use kafkasim::kafka::protocol::ErrorCode;
use kafkasim::scenario::Scenario;
use kafkasim::simulation::{RunOptions, RunResult, run};
use kafkasim::trace::TraceFormat;
use std::collections::BTreeMap;

/// A one-producer scenario: `config` entries, `workload` fields, `faults` and extra topic fields.
fn scenario(config: &str, workload: &str, faults: &str, topic_extra: &str) -> Scenario {
    let text = format!(
        r#"Scenario(
            name: "t", description: "t", seed: 1, duration: "10s",
            cluster: (brokers: 1),
            topics: [ (name: "t", partitions: 3 {topic_extra}) ],
            producers: [ (id: "p1", config: {{ "enable.idempotence": false, {config} }},
                          workload: (topic: "t", {workload})) ],
            faults: [ {faults} ],
        )"#
    );
    Scenario::parse("t.ron", &text).unwrap_or_else(|e| panic!("{e}"))
}

fn traced(s: &Scenario) -> RunResult {
    run(
        s,
        &RunOptions {
            trace: Some(TraceFormat::Text),
            ..RunOptions::default()
        },
    )
}

/// Outcomes of p1's records: how many were acked, and failures by error.
fn outcomes(r: &RunResult) -> (usize, BTreeMap<ErrorCode, usize>) {
    let mut acked = 0;
    let mut failed = BTreeMap::new();
    for h in &r.history.producers[0].records {
        match h.outcome() {
            Outcome::Acked { .. } => acked += 1,
            Outcome::Failed { error, .. } => *failed.entry(error).or_default() += 1,
            Outcome::Pending => {}
        }
    }
    (acked, failed)
}

#[test]
fn send_blocks_for_metadata_and_fails_after_max_block_ms() {
    // The only broker is cut off from the start: no metadata ever arrives.
    let s = scenario(
        r#""max.block.ms": 1000"#,
        r#"records: 3, rate: "1/s""#,
        r#"(at: "0us", fault: Isolate(node: Client("p1")))"#,
        "",
    );
    let r = traced(&s);
    let (acked, failed) = outcomes(&r);
    assert_eq!(acked, 0);
    assert_eq!(failed.get(&ErrorCode::MaxBlockTimeout), Some(&3), "{failed:?}");
    let trace = r.trace.as_deref().expect("traced");
    assert!(
        trace.contains("send(p1#0) blocks waiting for metadata"),
        "{trace}"
    );
    // A blocked send() holds back the next one: record 1 was due at 1s but failed at 2s.
    let failed_at: Vec<u64> = r.history.producers[0]
        .records
        .iter()
        .filter_map(|h| match h.outcome() {
            Outcome::Failed { at, .. } => Some(at.as_us() / 1000),
            _ => None,
        })
        .collect();
    assert_eq!(failed_at, [1000, 2000, 3000]);
}

#[test]
fn buffer_memory_blocks_the_application_until_batches_complete() {
    // Room for two batches; the leader is unreachable, so batches cannot leave and memory runs out.
    let s = scenario(
        r#""buffer.memory": 40000, "batch.size": 16384, "max.block.ms": 500, "delivery.timeout.ms": 60000"#,
        r#"keys: ["BestBuy", "Walmart", "Costco"], records: 6, rate: "1000/s", start: "100ms""#,
        r#"(at: "50ms", fault: Isolate(node: Broker(1)))"#,
        "",
    );
    let r = traced(&s);
    let trace = r.trace.as_deref().expect("traced");
    assert!(trace.contains("blocks waiting for buffer.memory"), "{trace}");
    let (_, failed) = outcomes(&r);
    assert!(
        failed.get(&ErrorCode::MaxBlockTimeout).is_some_and(|n| *n >= 1),
        "{failed:?}"
    );
}

#[test]
fn retries_zero_fails_instead_of_resending() {
    let s = scenario(
        r#""acks": "1", "retries": 0, "request.timeout.ms": 200, "delivery.timeout.ms": 1000, "linger.ms": 0"#,
        r#"records: 5, rate: "100/s", start: "100ms""#,
        r#"(after: Sent(producer: "p1", records: 2), fault: DropResponses(broker: 1, client: "p1", count: 1))"#,
        "",
    );
    let r = run(&s, &RunOptions::default());
    let (_, failed) = outcomes(&r);
    assert!(
        failed.get(&ErrorCode::RequestTimedOut).is_some_and(|n| *n >= 1),
        "{failed:?}"
    );
    assert_eq!(r.history.producers[0].retries, 0);
    let report = check(&s, &r);
    assert_eq!(report.duplicates.len(), 0, "no retry, so no second copy");
}

#[test]
fn delivery_timeout_fails_batches_that_cannot_be_delivered() {
    let s = scenario(
        r#""request.timeout.ms": 1000, "delivery.timeout.ms": 3000, "linger.ms": 0"#,
        r#"records: 4, rate: "100/s", start: "100ms""#,
        r#"(at: "50ms", fault: Crash(broker: 1))"#,
        "",
    );
    let r = run(&s, &RunOptions::default());
    let (acked, failed) = outcomes(&r);
    assert_eq!(acked, 0);
    assert_eq!(failed.get(&ErrorCode::DeliveryTimeout), Some(&4), "{failed:?}");
    // KIP-91: a batch expires delivery.timeout.ms after it was created (its first record's send).
    let mut created: BTreeMap<u64, u64> = BTreeMap::new();
    for h in &r.history.producers[0].records {
        let sent = h.sent_at().expect("sent").as_us();
        created.entry(h.batch_id()).or_insert(sent);
        let Outcome::Failed { at, .. } = h.outcome() else {
            panic!("failed")
        };
        assert_eq!(
            at.as_us(),
            created[&h.batch_id()] + 3_000_000,
            "batch {}",
            h.batch_id()
        );
    }
}

#[test]
fn a_record_larger_than_max_request_size_fails_at_once() {
    let s = scenario(
        r#""max.request.size": 1000"#,
        r#"records: 2, rate: "100/s", value_bytes: 5000"#,
        "",
        "",
    );
    let r = run(&s, &RunOptions::default());
    let (_, failed) = outcomes(&r);
    assert_eq!(failed.get(&ErrorCode::RecordTooLarge), Some(&2));
}

#[test]
fn a_batch_over_the_topic_limit_is_split_and_a_single_oversized_record_fails() {
    // batch.size 600 fits in the topic's 1000-byte limit, but one 2000-byte record does not.
    let s = scenario(
        r#""batch.size": 600, "linger.ms": 20, "delivery.timeout.ms": 2000, "request.timeout.ms": 1000"#,
        r#"records: 4, rate: "1000/s", value_bytes: 2000"#,
        "",
        r#", config: { "max.message.bytes": 1000 }"#,
    );
    let r = traced(&s);
    let (acked, failed) = outcomes(&r);
    assert_eq!(acked, 0);
    assert_eq!(failed.get(&ErrorCode::RecordTooLarge), Some(&4), "{failed:?}");
    assert!(r.trace.expect("traced").contains("MESSAGE_TOO_LARGE"));
}

#[test]
fn a_note_warns_when_batch_size_exceeds_the_topic_limit() {
    let s = scenario(
        r#""batch.size": 16384"#,
        r#"records: 1, rate: "1/s""#,
        "",
        r#", config: { "max.message.bytes": 4000 }"#,
    );
    assert!(
        s.producers[0]
            .config
            .notes
            .iter()
            .any(|n| n.contains("KAFKA-8350"))
    );
}

#[test]
fn keyless_records_stick_to_a_partition_for_about_a_batch() {
    // Uniform sticky (KIP-794): switch after batch.size bytes once the batch is full.
    let s = scenario(
        r#""batch.size": 1000, "linger.ms": 5"#,
        r#"records: 300, rate: "10000/s", value_bytes: 90"#,
        "",
        "",
    );
    let r = run(&s, &RunOptions::default());
    let partitions: Vec<u32> = r.history.producers[0]
        .records
        .iter()
        .filter_map(|h| h.tp().map(|tp| tp.partition))
        .collect();
    let runs = partitions
        .chunk_by(|a, b| a == b)
        .map(<[u32]>::len)
        .collect::<Vec<_>>();
    // A batch holds 9 records (61-byte header + 9 × 98 = 943 ≤ 1000). The 10th opens a second
    // batch; switching is only enabled when the last batch is full, so the partition keeps
    // records until 2 × batch.size bytes: 9 + 9 + 1 = 19 records. The next partition is drawn
    // uniformly and may be the same one, so runs are multiples of 19.
    assert!(runs.len() > 3, "{runs:?}");
    assert!(runs[..runs.len() - 1].iter().all(|n| n % 19 == 0), "{runs:?}");
    let used: std::collections::BTreeSet<u32> = partitions.into_iter().collect();
    assert_eq!(used.len(), 3, "every partition gets keyless records");
}

//! Compaction end to end: keyless records refused by a compacted topic, and the compaction
//! checkers finding what they exist for (the bundled scenarios show the cleaner at work).

use crate::support::{parse_scenario, run_text};
use kafkasim::check::check;
use kafkasim::check::expect::Measure;
use kafkasim::history::Outcome;
use kafkasim::kafka::protocol::ErrorCode;

/// `LogValidator.validateKey` refuses the batch with INVALID_RECORD, which the producer does not
/// retry (`Sender.completeBatch`: not a `RetriableException`): every record fails, none is
/// written, and the trace quotes the broker's reason.
#[test]
fn a_keyless_producer_fails_every_record_on_a_compacted_topic() {
    let s = parse_scenario(
        "keyless.ron",
        r#"Scenario(
            name: "keyless", description: "", seed: 1, duration: "2s",
            cluster: (brokers: 1, network: (latency: "1ms")),
            topics: [ (name: "t", partitions: 1, config: { "cleanup.policy": "compact" }) ],
            producers: [ (id: "p1", workload: (topic: "t", records: 5, rate: "10/s")) ],
        )"#,
    );
    let r = run_text(&s, None);
    let outcomes: Vec<Outcome> = r.history.producers[0]
        .records
        .iter()
        .map(|h| h.outcome())
        .collect();
    assert_eq!(outcomes.len(), 5);
    assert!(
        outcomes.iter().all(|o| matches!(
            o,
            Outcome::Failed {
                error: ErrorCode::InvalidRecord,
                ..
            }
        )),
        "{outcomes:?}"
    );
    assert_eq!(r.logs.values().map(|l| l.records().count()).sum::<usize>(), 0);
    let trace = r.trace.as_deref().expect("traced");
    assert!(
        trace.contains(
            "INVALID_RECORD: Compacted topic cannot accept message without key in topic partition t-0"
        ),
        "{trace}"
    );
    assert!(
        !trace
            .lines()
            .any(|l| l.split_whitespace().nth(2) == Some("retry")),
        "INVALID_RECORD is not retried"
    );
}

/// CompactionLost finds a key whose last acknowledged write an unclean election took away: the
/// table reads an older value for it. Proven, not assumed: the finding names the write and what
/// the final log gives instead.
#[test]
fn compaction_lost_finds_a_key_whose_last_acknowledged_write_is_gone() {
    let s = parse_scenario(
        "unclean-compacted.ron",
        r#"Scenario(
            name: "unclean-compacted", description: "", seed: 13, duration: "60s",
            cluster: (
                brokers: 3,
                config: { "unclean.leader.election.enable": true, "replica.lag.time.max.ms": 10000 },
                network: (latency: "1ms"),
            ),
            topics: [ (name: "t", partitions: 1, assignment: [[1, 2, 3]],
                       config: { "cleanup.policy": "compact" }) ],
            producers: [
                (id: "p1",
                 config: { "acks": "all", "enable.idempotence": false },
                 workload: (topic: "t", keys: ["a", "b"], records: 300, rate: "10/s")),
            ],
            faults: [
                (at: "1s", fault: Partition(groups: [[Broker(1), Client("p1")], [Broker(2), Broker(3)]])),
                (at: "20s", fault: Crash(broker: 1)),
                (at: "30s", fault: Heal),
            ],
            expect: [ CompactionLost(at_least: 1), LostAcked(at_least: 1) ],
        )"#,
    );
    let r = run_text(&s, None);
    let report = check(&s, &r);
    assert!(
        report.passed(),
        "{:?}",
        report.expectations.iter().map(|e| &e.found).collect::<Vec<_>>()
    );
    let lost = &report.compaction_lost;
    assert!(!lost.is_empty());
    assert!(lost.iter().all(|f| f.measure == Measure::CompactionLost));
    assert!(
        lost[0].headline.contains("its last acknowledged write") && lost[0].headline.contains("reads as"),
        "{}",
        lost[0].headline
    );
}

/// `UnifiedLog.deleteOldSegments`: retention by size (and time) runs only with `delete` in the
/// cleanup policy. `LogManager.cleanupLogs` skips compacted logs: the log cleaner's thread runs
/// the retention of `compact,delete` logs (`LogCleanerManager.deletableLogs`), so without the
/// cleaner they keep everything.
#[test]
fn retention_deletes_segments_only_with_delete_in_the_cleanup_policy() {
    let with = |policy: &str| with_cleaner(policy, true);
    assert_eq!(with("compact"), 0, "compact alone: no retention");
    assert!(
        with("compact,delete") > 0,
        "compact,delete: retention.bytes deletes segments"
    );
    assert!(with("delete") > 0);
    assert_eq!(
        with_cleaner("compact,delete", false),
        0,
        "the cleaner's thread does it"
    );
    assert!(with_cleaner("delete", false) > 0, "the retention check does it");
}

/// The highest log start offset of a 30 s run with `cleanup.policy` `policy`, small segments and
/// `retention.bytes`.
fn with_cleaner(policy: &str, cleaner: bool) -> u64 {
    let text = format!(
        r#"Scenario(
                name: "policy", description: "", seed: 1, duration: "30s",
                cluster: (brokers: 1, config: {{ "log.retention.check.interval.ms": 5000,
                                                 "log.cleaner.enable": {cleaner} }},
                          network: (latency: "1ms")),
                topics: [ (name: "t", partitions: 1,
                           config: {{ "cleanup.policy": "{policy}", "segment.bytes": 2000,
                                      "retention.bytes": 3000 }}) ],
                producers: [ (id: "p1", workload: (topic: "t", keys: ["a", "b", "c", "d", "e", "f", "g", "h"],
                                                   records: 100, rate: "10/s")) ],
            )"#
    );
    let s = parse_scenario("policy.ron", &text);
    let r = run_text(&s, None);
    r.logs.values().map(|l| l.log_start_offset()).max().unwrap_or(0)
}

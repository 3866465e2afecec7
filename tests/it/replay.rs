//! Replay: a consumer's position out of range and `auto.offset.reset` (Kafka 4.0.1's
//! `FetchCollector.handleInitializeErrors`, `SubscriptionState`), the consumer field `seek`
//! (`KafkaConsumer.seekToBeginning`/`seekToEnd`/`seek`), and several groups reading one topic
//! independently.

use crate::support::{parse_scenario, run_text, trace_lines};
use kafkasim::kafka::record::Tp;
use kafkasim::scenario::Scenario;
use kafkasim::simulation::RunResult;

const T0: Tp = Tp {
    topic: 0,
    partition: 0,
};

/// One broker, topic `t` with one partition; `p1` writes 10 records from 0 to 450 ms; then the
/// consumers as given.
fn scenario(consumers: &str, faults: &str) -> Scenario {
    parse_scenario(
        "replay.ron",
        &format!(
            r#"Scenario(
                name: "replay", description: "x", seed: 1, duration: "20s",
                cluster: (brokers: 1, network: (latency: "1ms"),
                          config: {{ "offsets.topic.replication.factor": 1 }}),
                topics: [ (name: "t", partitions: 1) ],
                producers: [
                    (id: "p1", config: {{ "acks": "1", "enable.idempotence": false, "linger.ms": 0 }},
                     workload: (topic: "t", keys: ["a"], records: 10, rate: "20/s")),
                ],
                consumers: [ {consumers} ],
                faults: [ {faults} ],
            )"#
        ),
    )
}

/// The offsets consumer `c` returned from poll(), in order.
fn offsets(r: &RunResult, c: u32) -> Vec<u64> {
    r.history
        .consumed
        .iter()
        .filter(|x| x.consumer == c)
        .map(|x| x.offset)
        .collect()
}

/// A position past the log end gets OFFSET_OUT_OF_RANGE; with `auto.offset.reset=none` the
/// consumer's poll() throws `OffsetOutOfRangeException` with the client's message
/// (`FetchCollector.handleInitializeErrors`, kafka-clients 4.0.1) and it stops.
#[test]
fn out_of_range_with_reset_none_fails_with_offset_out_of_range_exception() {
    let s = scenario(
        r#"(id: "c1", topics: ["t"], start: "1s", seek: Offset(100),
            config: { "auto.offset.reset": "none" })"#,
        "",
    );
    let r = run_text(&s, None);
    assert_eq!(
        r.history.consumer_failures,
        vec![(
            r.history.consumer_failures[0].0,
            0,
            "OffsetOutOfRangeException: Fetch position FetchPosition{offset=100} is out of range for partition t-0"
                .to_string()
        )]
    );
    assert!(offsets(&r, 0).is_empty());
    let lines = trace_lines(&r);
    assert!(
        lines
            .iter()
            .any(|l| l.node == "c1" && l.kind == "error" && l.detail == "t-0 OFFSET_OUT_OF_RANGE")
    );
    // Nothing after the failure: no reset, no fetch.
    assert!(!lines.iter().any(|l| l.node == "c1" && l.kind == "reset"));
    let summary = kafkasim::report::summary(&s, &r, &kafkasim::check::check(&s, &r));
    assert!(
        summary.contains("    failed at ") && summary.contains(": OffsetOutOfRangeException: Fetch position"),
        "{summary}"
    );
}

/// With `earliest` the same position is reset to the log start, with `latest` to the end
/// (`SubscriptionState.requestOffsetResetIfPartitionAssigned`).
#[test]
fn out_of_range_resets_by_auto_offset_reset() {
    let s = scenario(
        r#"(id: "early", topics: ["t"], start: "1s", seek: Offset(100),
            config: { "auto.offset.reset": "earliest" }),
           (id: "late", topics: ["t"], start: "1s", seek: Offset(100),
            config: { "auto.offset.reset": "latest" })"#,
        "",
    );
    let r = run_text(&s, None);
    assert!(r.history.consumer_failures.is_empty());
    assert_eq!(offsets(&r, 0), (0..10).collect::<Vec<u64>>());
    assert!(offsets(&r, 1).is_empty());
    let resets: Vec<(u32, u64)> = r
        .history
        .positions
        .iter()
        .filter(|p| p.2 == T0)
        .map(|p| (p.1, p.3))
        .collect();
    assert_eq!(resets, vec![(0, 100), (1, 100), (0, 0), (1, 10)]);
}

/// No committed offset and `none`: `NoOffsetForPartitionException` with Kafka's message
/// (`SubscriptionState.resetInitializingPositions`).
#[test]
fn no_position_with_reset_none_fails_with_no_offset_for_partition_exception() {
    let s = scenario(
        r#"(id: "c1", topics: ["t"], group: "g1", config: { "auto.offset.reset": "none" })"#,
        "",
    );
    let r = run_text(&s, None);
    let failures: Vec<&str> = r.history.consumer_failures.iter().map(|f| f.2.as_str()).collect();
    assert_eq!(
        failures,
        ["NoOffsetForPartitionException: Undefined offset with no reset policy for partition: t-0"]
    );
}

/// `seek: Beginning` overrides the group's committed offset: a member that comes back reads
/// everything again; without it, it resumes after its commit.
#[test]
fn seek_to_beginning_overrides_the_committed_offset() {
    for (seek, expected) in [("", 0usize), ("seek: Beginning,", 10)] {
        let s = scenario(
            &format!(
                r#"(id: "first", topics: ["t"], group: "g1", config: {{ "auto.offset.reset": "earliest" }}),
                   (id: "again", topics: ["t"], group: "g1", start: "15s", {seek}
                    config: {{ "auto.offset.reset": "earliest" }})"#
            ),
            r#"(at: "12s", fault: ConsumerLeave(consumer: "first"))"#,
        );
        let r = run_text(&s, None);
        assert_eq!(offsets(&r, 0), (0..10).collect::<Vec<u64>>(), "{seek}");
        assert_eq!(offsets(&r, 1).len(), expected, "{seek}");
    }
}

/// `seek: Offset(4)` (once the log has offset 4) starts at offset 4; `seek: End` reads only
/// what comes after it.
#[test]
fn seek_to_an_offset_and_to_the_end() {
    let s = scenario(
        r#"(id: "mid", topics: ["t"], start: "1s", seek: Offset(4), config: { "auto.offset.reset": "earliest" }),
           (id: "end", topics: ["t"], start: "200ms", seek: End,
            config: { "auto.offset.reset": "earliest" })"#,
        "",
    );
    let r = run_text(&s, None);
    assert_eq!(offsets(&r, 0), (4..10).collect::<Vec<u64>>());
    let end = offsets(&r, 1);
    assert!(!end.is_empty() && end[0] > 0, "{end:?}");
    assert_eq!(*end.last().expect("read"), 9);
    let lines = trace_lines(&r);
    assert!(
        lines
            .iter()
            .any(|l| l.node == "mid" && l.kind == "seek" && l.detail == "t-0 position 4 (seek)")
    );
    assert!(
        lines
            .iter()
            .any(|l| l.node == "end" && l.kind == "seek" && l.detail.ends_with("(seekToEnd)"))
    );
}

/// Two groups read one topic independently: each gets every record, and each has its own
/// committed offset.
#[test]
fn two_groups_read_one_topic_independently() {
    let s = scenario(
        r#"(id: "a", topics: ["t"], group: "g1", config: { "auto.offset.reset": "earliest" }),
           (id: "b", topics: ["t"], group: "g2", start: "5s", config: { "auto.offset.reset": "earliest" })"#,
        "",
    );
    let r = run_text(&s, None);
    assert_eq!(offsets(&r, 0), (0..10).collect::<Vec<u64>>());
    assert_eq!(offsets(&r, 1), (0..10).collect::<Vec<u64>>());
    for g in ["g1", "g2"] {
        let last = r
            .history
            .commits
            .iter()
            .rfind(|c| c.group.as_ref() == g && c.tp == T0)
            .map(|c| c.offset);
        assert_eq!(last, Some(10), "{g}");
    }
}

/// `ResetOffsets` while the group has a member is refused with `kafka-consumer-groups`' message
/// (`ConsumerGroupCommand.resetOffsets`, kafka-tools 4.0.1); once the group is Empty it writes
/// the new offsets, and the next member replays from them.
#[test]
fn reset_offsets_is_refused_while_active_and_replays_once_empty() {
    let s = scenario(
        r#"(id: "first", topics: ["t"], group: "g1", config: { "auto.offset.reset": "earliest" }),
           (id: "again", topics: ["t"], group: "g1", start: "16s", config: { "auto.offset.reset": "earliest" })"#,
        r#"(at: "10s", fault: ResetOffsets(group: "g1", to: Earliest)),
           (at: "12s", fault: ConsumerLeave(consumer: "first")),
           (at: "14s", fault: ResetOffsets(group: "g1", to: Offset(3)))"#,
    );
    let r = run_text(&s, None);
    let resets = reset_offsets_lines(&r);
    assert_eq!(
        resets,
        [
            "g1 refused: Error: Assignments can only be reset if the group 'g1' is inactive, but the current state is Stable.",
            "g1: t-0=3",
        ]
    );
    assert_eq!(offsets(&r, 0), (0..10).collect::<Vec<u64>>());
    assert_eq!(offsets(&r, 1), (3..10).collect::<Vec<u64>>());
}

/// `to: Offset(n)` outside the log is moved into it, as the tool's `checkOffsetsRange` does;
/// `Latest` is the high watermark; a `topic` narrows the reset to its partitions.
#[test]
fn reset_offsets_clamps_into_the_log() {
    let s = scenario(
        r#"(id: "first", topics: ["t"], group: "g1", config: { "auto.offset.reset": "earliest" })"#,
        r#"(at: "12s", fault: ConsumerLeave(consumer: "first")),
           (at: "14s", fault: ResetOffsets(group: "g1", to: Offset(100), topic: "t")),
           (at: "15s", fault: ResetOffsets(group: "g1", to: Latest, topic: "t", partition: 0))"#,
    );
    let r = run_text(&s, None);
    let resets = reset_offsets_lines(&r);
    assert_eq!(
        resets,
        [
            "g1: t-0=10; New offset (100) is higher than latest offset for topic partition t-0. Value will be set to 10",
            "g1: t-0=10",
        ]
    );
    let last = r.history.commits.last().expect("the reset is committed");
    assert_eq!(
        (last.group.as_ref(), last.member.as_ref(), last.offset),
        ("g1", "", 10)
    );
}

/// KIP-211 (`ClassicGroup.offsetExpirationCondition`, `OffsetMetadataManager.
/// cleanupExpiredOffsets`, group-coordinator 4.0.1): only an Empty group's offsets expire,
/// `offsets.retention.minutes` after it became Empty, at the next
/// `offsets.retention.check.interval.ms` check; a member that comes back then starts from
/// `auto.offset.reset`. A group with a member keeps its offsets however old they are.
#[test]
fn only_an_empty_groups_offsets_expire() {
    for (minutes, expired) in [(1, true), (10, false)] {
        let s = parse_scenario(
            "expiry.ron",
            &format!(
                r#"Scenario(
                name: "expiry", description: "x", seed: 1, duration: "200s",
                cluster: (brokers: 1, network: (latency: "1ms"),
                          config: {{ "offsets.topic.replication.factor": 1,
                                     "offsets.retention.minutes": {minutes},
                                     "offsets.retention.check.interval.ms": 10000 }}),
                topics: [ (name: "t", partitions: 1) ],
                producers: [
                    (id: "p1", config: {{ "acks": "1", "enable.idempotence": false, "linger.ms": 0 }},
                     workload: (topic: "t", keys: ["a"], records: 190, rate: "1/s")),
                ],
                consumers: [
                    (id: "stay", topics: ["t"], group: "g1", config: {{ "auto.offset.reset": "earliest" }}),
                    (id: "leaves", topics: ["t"], group: "g2", config: {{ "auto.offset.reset": "earliest" }}),
                    (id: "back", topics: ["t"], group: "g2", start: "120s",
                     config: {{ "auto.offset.reset": "earliest" }}),
                ],
                faults: [ (at: "10s", fault: ConsumerLeave(consumer: "leaves")) ],
            )"#
            ),
        );
        let r = run_text(&s, None);
        let expiries: Vec<(u64, String)> = trace_lines(&r)
            .into_iter()
            .filter(|l| l.detail.contains("offsets expired"))
            .map(|l| (l.at.as_us(), l.detail))
            .collect();
        let first_back = offsets(&r, 2).first().copied();
        if expired {
            assert_eq!(expiries.len(), 1, "{expiries:?}");
            assert_eq!(
                expiries[0].1,
                "g2 offsets expired (offsets.retention.minutes): t 0"
            );
            // Empty at 10 s, retention 60 s, checks every 10 s.
            assert!((70_000_001..=80_000_000).contains(&expiries[0].0), "{expiries:?}");
            assert_eq!(first_back, Some(0), "back starts over by auto.offset.reset");
        } else {
            assert!(expiries.is_empty(), "{expiries:?}");
            assert!(first_back.is_some_and(|o| o >= 9), "{first_back:?}");
        }
        // The Stable group's offsets never expire.
        assert!(!expiries.iter().any(|e| e.1.starts_with("g1")));
        assert_eq!(offsets(&r, 0).len(), 190);
    }
}

/// `seek: Time(..)` is `offsetsForTimes` then `seek`: the first offset whose record's timestamp
/// (`CreateTime`, the producer's `send()` time: record i at i·50 ms, the first after its
/// metadata) is at least that time (`UnifiedLog.fetchOffsetByTimestamp`). Where no record is
/// that recent, `offsetsForTimes` answers `null` and the application seeks to the end, as
/// `ConsumerGroupCommand.getLogTimestampOffsets` falls back to the log end (kafka-tools 4.0.1).
#[test]
fn seek_to_a_time_starts_at_the_first_record_that_recent_or_at_the_end() {
    let s = scenario(
        r#"(id: "at", topics: ["t"], start: "1s", seek: Time("200ms"), config: { "auto.offset.reset": "earliest" }),
           (id: "after", topics: ["t"], start: "1s", seek: Time("201ms"), config: { "auto.offset.reset": "earliest" }),
           (id: "future", topics: ["t"], start: "1s", seek: Time("10s"), config: { "auto.offset.reset": "earliest" })"#,
        "",
    );
    let r = run_text(&s, None);
    assert_eq!(offsets(&r, 0), (4..10).collect::<Vec<u64>>());
    assert_eq!(offsets(&r, 1), (5..10).collect::<Vec<u64>>());
    assert!(offsets(&r, 2).is_empty());
    let seeks: Vec<(String, String)> = trace_lines(&r)
        .into_iter()
        .filter(|l| l.kind == "seek")
        .map(|l| (l.node, l.detail))
        .collect();
    assert_eq!(
        seeks,
        [
            (
                "at".to_string(),
                "t-0 position 4 (offsetsForTimes(200ms), then seek)".to_string()
            ),
            (
                "after".to_string(),
                "t-0 position 5 (offsetsForTimes(201ms), then seek)".to_string()
            ),
            (
                "future".to_string(),
                "t-0 position 10 (offsetsForTimes(10s) found no record that recent: seekToEnd)".to_string()
            ),
        ]
    );
}

/// A `Time` seek that finds nothing yet ends at the log end, and then reads what comes after
/// (the records written after the time asked for).
#[test]
fn a_time_seek_that_finds_nothing_reads_what_is_written_later() {
    let s = scenario(
        r#"(id: "early", topics: ["t"], start: "100ms", seek: Time("300ms"), config: { "auto.offset.reset": "earliest" })"#,
        "",
    );
    let r = run_text(&s, None);
    let read = offsets(&r, 0);
    assert!(!read.is_empty() && read[0] <= 6, "{read:?}");
    assert_eq!(read.last(), Some(&9));
}

/// `ResetOffsets(to: Time(..))` is `--to-datetime`: the first offset at or after the time, or
/// the log end with the tool's warning where no record is that recent
/// (`ConsumerGroupCommand.getLogTimestampOffsets`).
#[test]
fn reset_offsets_to_a_time_uses_the_timestamp_index_or_the_log_end() {
    let s = scenario(
        r#"(id: "first", topics: ["t"], group: "g1", config: { "auto.offset.reset": "earliest" }),
           (id: "again", topics: ["t"], group: "g1", start: "16s", config: { "auto.offset.reset": "earliest" })"#,
        r#"(at: "12s", fault: ConsumerLeave(consumer: "first")),
           (at: "13s", fault: ResetOffsets(group: "g1", to: Time("10s"))),
           (at: "14s", fault: ResetOffsets(group: "g1", to: Time("200ms")))"#,
    );
    let r = run_text(&s, None);
    let resets = reset_offsets_lines(&r);
    assert_eq!(
        resets,
        [
            "g1: t-0=10; Warn: Partition 0 from topic t is empty. Falling back to latest known offset.",
            "g1: t-0=4",
        ]
    );
    assert_eq!(offsets(&r, 1), (4..10).collect::<Vec<u64>>());
}

/// `ExpiredUnread`: records a reader never returned from poll() that `DeleteRecords` deleted
/// while it stood at or below them. A reader that had read them, or that started after the
/// deletion, lost nothing; a record not deleted is never counted, however far behind.
#[test]
fn expired_unread_counts_what_a_reader_standing_below_never_read() {
    let s = scenario(
        r#"(id: "all", topics: ["t"], config: { "auto.offset.reset": "earliest" }),
           (id: "stopped", topics: ["t"], config: { "auto.offset.reset": "earliest" }),
           (id: "later", topics: ["t"], start: "3s", config: { "auto.offset.reset": "earliest" })"#,
        r#"(at: "120ms", fault: Crash(consumer: "stopped")),
           (at: "2s", fault: DeleteRecords(topic: "t", partition: 0, before: 6))"#,
    );
    let r = run_text(&s, None);
    let report = kafkasim::check::check(&s, &r);
    let stopped_read = offsets(&r, 1);
    let next = stopped_read.last().map_or(0, |o| o + 1);
    assert!(next < 6, "{stopped_read:?}");
    let found: Vec<(Option<u32>, u64)> = report
        .expired_unread
        .iter()
        .map(|f| {
            let offset = r
                .history
                .appends
                .iter()
                .find_map(|a| {
                    let i = a.records.iter().position(|x| x == f.record)?;
                    Some(a.base_offset + i as u64)
                })
                .expect("appended");
            (f.consumer, offset)
        })
        .collect();
    let expected: Vec<(Option<u32>, u64)> = (next..6).map(|o| (Some(1), o)).collect();
    assert_eq!(found, expected);
    assert_eq!(offsets(&r, 0), (0..10).collect::<Vec<u64>>());
    assert_eq!(offsets(&r, 2), (6..10).collect::<Vec<u64>>());
    // The records 6..9 the stopped consumer never read are still in the log: not counted.
    let headline = &report.expired_unread[0].headline;
    assert!(
        headline.contains("DeleteRecords moved the log start offset from 0 to 6) before stopped read it")
            && headline.contains("would prove this wrong"),
        "{headline}"
    );
    let summary = kafkasim::report::summary(&s, &r, &report);
    assert!(
        summary.contains(&format!("  expired_unread     {}", 6 - next)),
        "{summary}"
    );
}

/// The `ExpiredUnread` expectation narrows by consumer to its reader: a group's members, or the
/// consumer itself without a group.
#[test]
fn expired_unread_expectations_narrow_by_consumer() {
    let s = parse_scenario(
        "expired.ron",
        r#"Scenario(
            name: "expired", description: "x", seed: 1, duration: "6s",
            cluster: (brokers: 1, network: (latency: "1ms"), config: { "offsets.topic.replication.factor": 1 }),
            topics: [ (name: "t", partitions: 1) ],
            producers: [
                (id: "p1", config: { "acks": "1", "enable.idempotence": false, "linger.ms": 0 },
                 workload: (topic: "t", keys: ["a"], records: 10, rate: "20/s")),
            ],
            consumers: [
                (id: "all", topics: ["t"], config: { "auto.offset.reset": "earliest" }),
                (id: "stopped", topics: ["t"], config: { "auto.offset.reset": "earliest" }),
            ],
            faults: [
                (at: "120ms", fault: Crash(consumer: "stopped")),
                (at: "2s", fault: DeleteRecords(topic: "t", partition: 0, before: 6)),
            ],
            expect: [
                ExpiredUnread(consumer: "all", exactly: 0),
                ExpiredUnread(consumer: "stopped", at_least: 1),
                ExpiredUnread(consumer: "stopped", topic: "t", partition: 0, at_most: 6),
            ],
        )"#,
    );
    let r = run_text(&s, None);
    let report = kafkasim::check::check(&s, &r);
    for e in &report.expectations {
        assert!(e.ok, "{}", kafkasim::check::describe_outcome(e));
    }
}

/// What the trace's `reset-offsets` lines say, in order.
fn reset_offsets_lines(r: &RunResult) -> Vec<String> {
    trace_lines(r)
        .into_iter()
        .filter(|l| l.kind == "reset-offsets")
        .map(|l| l.detail)
        .collect()
}

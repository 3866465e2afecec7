//! The consumer without a group, each rule shown on a small run: where `auto.offset.reset`
//! starts it, `max.poll.records`, the broker holding fetches for `fetch.min.bytes`, the high
//! watermark bound, and assignment of every partition of its topics.

use crate::support::{TraceLine, ms, parse_scenario, run_text, trace_lines};
use kafkasim::history::ConsumedRecord;
use kafkasim::kafka::record::{RecordId, Tp};
use kafkasim::scenario::Scenario;
use kafkasim::sim::SimTime;
use kafkasim::simulation::RunResult;
use std::collections::{BTreeMap, BTreeSet};

const T0: Tp = Tp {
    topic: 0,
    partition: 0,
};

/// One broker; topics, producers and consumers as given.
fn scenario(topics: &str, producers: &str, consumers: &str) -> Scenario {
    parse_scenario(
        "consumer.ron",
        &format!(
            r#"Scenario(
                name: "consumer", description: "x", seed: 1, duration: "2s",
                cluster: (brokers: 1, network: (latency: "1ms")),
                topics: [ {topics} ],
                producers: [ {producers} ],
                consumers: [ {consumers} ],
            )"#
        ),
    )
}

/// A producer `id` writing `records` records to `topic`, one every 50 ms from 0, with `keys`.
fn producer(id: &str, topic: &str, keys: &str, records: u32) -> String {
    format!(
        r#"(id: "{id}", config: {{ "acks": "1", "enable.idempotence": false, "linger.ms": 0 }},
            workload: (topic: "{topic}", keys: [{keys}], records: {records}, rate: "20/s"))"#
    )
}

/// What consumer number `c` returned from poll(), in order.
fn consumed(r: &RunResult, c: u32) -> Vec<ConsumedRecord> {
    r.history
        .consumed
        .iter()
        .filter(|x| x.consumer == c)
        .copied()
        .collect()
}

/// One poll() of a consumer: when, and how many records it returned.
#[derive(Debug)]
struct Poll {
    at: SimTime,
    records: u64,
}

/// Records in a trace `poll` line's detail: `#3 t-0 offsets 6..8: ...` or `#4 t-0 offset 9: ...`.
fn records_in(l: &TraceLine) -> u64 {
    let mut words = l.detail.split_whitespace().skip(2);
    let (what, range) = (words.next(), words.next().map(|w| w.trim_end_matches(':')));
    match (what, range) {
        (Some("offset"), Some(_)) => 1,
        (Some("offsets"), Some(range)) => {
            let (a, b) = range.split_once("..").expect("a..b");
            b.parse::<u64>().expect("b") - a.parse::<u64>().expect("a") + 1
        }
        _ => panic!("not a poll line: {l:?}"),
    }
}

/// Each poll() of `consumer`, by poll number, from the trace (a poll that returned records of
/// several partitions has one line per partition).
fn polls(r: &RunResult, consumer: &str) -> BTreeMap<u32, Poll> {
    let mut out: BTreeMap<u32, Poll> = BTreeMap::new();
    for l in trace_lines(r) {
        if l.node != consumer || l.kind != "poll" {
            continue;
        }
        let number: u32 = l
            .detail
            .split_whitespace()
            .next()
            .and_then(|w| w.strip_prefix('#'))
            .and_then(|n| n.parse().ok())
            .unwrap_or_else(|| panic!("poll number in {l:?}"));
        let p = out.entry(number).or_insert(Poll { at: l.at, records: 0 });
        assert_eq!(p.at, l.at, "one poll, one time");
        p.records += records_in(&l);
    }
    out
}

#[test]
fn latest_starts_a_late_consumer_at_the_log_end_and_earliest_at_the_log_start() {
    // 20 records, one every 50 ms from 0 ms; both consumers start at 500 ms.
    let s = scenario(
        r#"(name: "t", partitions: 1)"#,
        &producer("p1", "t", r#""k""#, 20),
        r#"(id: "late", topics: ["t"], start: "500ms"),
           (id: "early", topics: ["t"], start: "500ms", config: { "auto.offset.reset": "earliest" })"#,
    );
    let r = run_text(&s, None);
    let written_before_start = r
        .history
        .appends
        .iter()
        .filter(|a| a.at < ms(500))
        .map(|a| a.base_offset + a.records.len() as u64)
        .max()
        .expect("records were written before the consumers started");
    assert_eq!(written_before_start, 10);
    // `latest` (the default): the position is the log end when the consumer looked it up ...
    let lines = trace_lines(&r);
    let reset = lines
        .iter()
        .find(|l| l.node == "late" && l.kind == "reset")
        .expect("late looks up its position");
    assert!(reset.at >= ms(500));
    let start: u64 = reset
        .detail
        .strip_prefix("t-0 position ")
        .and_then(|d| d.strip_suffix(" (auto.offset.reset=latest)"))
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("{reset:?}"));
    assert!(start >= written_before_start);
    // ... so it sees exactly the records from there on, and none written before it started.
    let late: Vec<u64> = consumed(&r, 0).iter().map(|c| c.offset).collect();
    assert_eq!(late, (start..20).collect::<Vec<_>>());
    assert!(late.iter().all(|o| *o >= written_before_start));
    // `earliest`: every record, from offset 0, each once.
    let early: Vec<(u64, RecordId)> = consumed(&r, 1).iter().map(|c| (c.offset, c.record)).collect();
    let all: Vec<(u64, RecordId)> = (0..20)
        .map(|i| {
            (
                i,
                RecordId {
                    producer: 0,
                    seq: i as u32,
                },
            )
        })
        .collect();
    assert_eq!(early, all);
    assert!(
        lines
            .iter()
            .any(|l| l.node == "early" && l.detail == "t-0 position 0 (auto.offset.reset=earliest)")
    );
}

#[test]
fn auto_offset_reset_none_stops_the_consumer_with_no_offset_for_partition() {
    let s = scenario(
        r#"(name: "t", partitions: 2)"#,
        &producer("p1", "t", r#""a", "d""#, 10),
        r#"(id: "c1", topics: ["t"], config: { "auto.offset.reset": "none" })"#,
    );
    let r = run_text(&s, None);
    let lines = trace_lines(&r);
    let errors: Vec<&TraceLine> = lines
        .iter()
        .filter(|l| l.node == "c1" && l.kind == "error")
        .collect();
    // `SubscriptionState.resetInitializingPositions`: one exception for every partition
    // without a position.
    assert_eq!(errors.len(), 2, "{errors:?}");
    assert!(
        errors
            .iter()
            .all(|e| e.detail.ends_with("NoOffsetForPartitionException")),
        "{errors:?}"
    );
    let failed: Vec<&str> = lines
        .iter()
        .filter(|l| l.node == "c1" && l.kind == "failed")
        .map(|l| l.detail.as_str())
        .collect();
    assert_eq!(
        failed,
        ["NoOffsetForPartitionException: Undefined offset with no reset policy for partitions: [t-0, t-1]"]
    );
    assert!(consumed(&r, 0).is_empty());
    assert!(
        r.consumer_positions[0].iter().all(|(_, p)| p.is_none()),
        "{:?}",
        r.consumer_positions
    );
    // It asks for nothing after that: no position lookup, no fetch.
    assert!(
        !lines
            .iter()
            .any(|l| l.node == "c1" && (l.kind == "reset" || l.kind == "poll"))
    );
    assert_eq!(
        r.logs[&T0].log_end_offset() + r.logs[&Tp { partition: 1, ..T0 }].log_end_offset(),
        10
    );
}

#[test]
fn max_poll_records_caps_every_poll() {
    // Two partitions; the consumers start at 600 ms, after a backlog of 12 records.
    let s = scenario(
        r#"(name: "t", partitions: 2)"#,
        &producer("p1", "t", r#""a", "d""#, 20),
        r#"(id: "small", topics: ["t"], start: "600ms",
            config: { "auto.offset.reset": "earliest", "max.poll.records": 3 }),
           (id: "default", topics: ["t"], start: "600ms", config: { "auto.offset.reset": "earliest" })"#,
    );
    let r = run_text(&s, None);
    let small = polls(&r, "small");
    assert!(small.values().all(|p| p.records <= 3), "{small:?}");
    assert!(
        small.values().filter(|p| p.records == 3).count() >= 2,
        "the backlog is split into polls of 3: {small:?}"
    );
    assert_eq!(small.values().map(|p| p.records).sum::<u64>(), 20);
    assert_eq!(consumed(&r, 0).len(), 20);
    // Without the cap the backlog of one fetch comes back in one poll.
    let default = polls(&r, "default");
    assert!(default.values().any(|p| p.records > 3), "{default:?}");
    assert_eq!(default.values().map(|p| p.records).sum::<u64>(), 20);
}

#[test]
fn fetch_min_bytes_makes_the_broker_hold_fetches_up_to_fetch_max_wait_ms() {
    // A record every 10 ms from 100 ms; "held" wants 100 000 bytes per fetch (never reached)
    // and waits at most 200 ms; "eager" takes anything (fetch.min.bytes=1).
    let s = parse_scenario(
        "fetch-min-bytes.ron",
        r#"Scenario(
            name: "fetch-min-bytes", description: "x", seed: 1, duration: "1200ms",
            cluster: (brokers: 1, network: (latency: "1ms")),
            topics: [ (name: "t", partitions: 1) ],
            producers: [
                (id: "p1", config: { "acks": "1", "enable.idempotence": false, "linger.ms": 0 },
                 workload: (topic: "t", records: 100, rate: "100/s", start: "100ms")),
            ],
            consumers: [
                (id: "eager", topics: ["t"], config: { "auto.offset.reset": "earliest" }),
                (id: "held", topics: ["t"],
                 config: { "auto.offset.reset": "earliest", "fetch.min.bytes": 100000,
                           "fetch.max.wait.ms": 200 }),
            ],
        )"#,
    );
    let r = run_text(&s, None);
    let eager = polls(&r, "eager");
    let held = polls(&r, "held");
    // Eager gets each record as it is appended: one per poll.
    assert!(eager.values().all(|p| p.records == 1), "{eager:?}");
    assert!(eager.len() >= 90, "{}", eager.len());
    // Held gets them in a few big polls, one per fetch.max.wait.ms (plus a round trip).
    assert!((4..=6).contains(&held.len()), "{held:?}");
    assert!(held.values().all(|p| p.records >= 10), "{held:?}");
    let times: Vec<SimTime> = held.values().map(|p| p.at).collect();
    for w in times.windows(2) {
        let gap = w[1].since(w[0]).as_us();
        assert!(
            (200_000..=205_000).contains(&gap),
            "polls {gap} us apart: {times:?}"
        );
    }
    // Both read the same records in the same order.
    let order = |c: u32| consumed(&r, c).iter().map(|x| x.record).collect::<Vec<_>>();
    let (e, h) = (order(0), order(1));
    assert_eq!(e[..h.len()], h[..]);
}

#[test]
fn the_consumer_reads_only_below_the_high_watermark_and_ends_at_the_log_end() {
    let s = scenario(
        r#"(name: "t", partitions: 2)"#,
        &producer("p1", "t", r#""a", "d", "c""#, 30),
        r#"(id: "c1", topics: ["t"], config: { "auto.offset.reset": "earliest" })"#,
    );
    let r = run_text(&s, None);
    // One replica per partition: the high watermark follows each append.
    let high_watermark = |tp: Tp, at: SimTime| {
        r.history
            .appends
            .iter()
            .filter(|a| a.tp == tp && a.at <= at)
            .map(|a| a.base_offset + a.records.len() as u64)
            .max()
            .unwrap_or(0)
    };
    let got = consumed(&r, 0);
    assert_eq!(got.len(), 30);
    for c in &got {
        assert!(
            c.offset < high_watermark(c.tp, c.at),
            "{c:?} read at or above the high watermark"
        );
    }
    // Everything read: positions are the log end offsets, which are the high watermarks.
    for (tp, position) in &r.consumer_positions[0] {
        let log = &r.logs[tp];
        assert_eq!(*position, Some(log.log_end_offset()), "{tp:?}");
        assert_eq!(log.high_watermark(), log.log_end_offset());
        let offsets: Vec<u64> = got.iter().filter(|c| c.tp == *tp).map(|c| c.offset).collect();
        assert_eq!(offsets, (0..log.log_end_offset()).collect::<Vec<_>>(), "{tp:?}");
    }
}

#[test]
fn a_consumer_of_two_topics_is_assigned_every_partition_of_both() {
    // Keys chosen so every partition gets records: a=1, b=2, f=0 of 3; a=0, d=1 of 2.
    let s = scenario(
        r#"(name: "a", partitions: 3), (name: "b", partitions: 2)"#,
        &format!(
            "{}, {}",
            producer("pa", "a", r#""a", "b", "f""#, 9),
            producer("pb", "b", r#""a", "d""#, 6)
        ),
        r#"(id: "c1", topics: ["a", "b"], config: { "auto.offset.reset": "earliest" })"#,
    );
    let r = run_text(&s, None);
    let every: BTreeSet<Tp> = (0..3)
        .map(|partition| Tp { topic: 0, partition })
        .chain((0..2).map(|partition| Tp { topic: 1, partition }))
        .collect();
    let assigned: BTreeSet<Tp> = r.consumer_positions[0].iter().map(|(tp, _)| *tp).collect();
    assert_eq!(assigned, every);
    let read_from: BTreeSet<Tp> = consumed(&r, 0).iter().map(|c| c.tp).collect();
    assert_eq!(read_from, every, "records were read from every partition");
    assert_eq!(consumed(&r, 0).len(), 15);
    for (tp, position) in &r.consumer_positions[0] {
        assert_eq!(*position, Some(r.logs[tp].log_end_offset()), "{tp:?}");
    }
}

//! Storage across brokers: followers take the leader's log start offset from fetch responses, a
//! follower whose log ends below it starts again there, retention runs on every replica, and
//! records carry the producer's send() time or the leader's append time.

use crate::support::{lines_of, parse_scenario, run_text, trace_lines};
use kafkasim::kafka::record::Tp;

const ORDERS_0: Tp = Tp {
    topic: 0,
    partition: 0,
};

fn scenario(topic_config: &str, faults: &str, records: u64) -> String {
    format!(
        r#"Scenario(
            name: "storage", description: "", seed: 1, duration: "90s",
            cluster: (brokers: 3, config: {{ "log.retention.check.interval.ms": 1000 }}),
            topics: [ (name: "orders", partitions: 1, assignment: [[1, 2, 3]],
                       config: {{ "segment.bytes": 1000, {topic_config} }}) ],
            producers: [ (id: "p1", config: {{ "acks": "1" }},
                          workload: (topic: "orders", records: {records}, rate: "10/s", value_bytes: 100)) ],
            faults: [ {faults} ],
        )"#
    )
}

/// `ReplicaFetcherThread.processPartitionData`: after appending, a follower moves its log start
/// offset to the `logStartOffset` of the leader's fetch response
/// (`maybeIncrementLogStartOffset(..., LeaderOffsetIncremented)`); its next retention check
/// deletes the segments wholly below it.
#[test]
fn followers_take_the_leaders_log_start_offset_from_fetch_responses() {
    let text = scenario(
        r#""retention.ms": -1"#,
        r#"(at: "20s", fault: DeleteRecords(topic: "orders", partition: 0, before: 50))"#,
        100,
    );
    let r = run_text(&parse_scenario("follow-start", &text), None);
    let lines = trace_lines(&r);
    for follower in ["broker-2", "broker-3"] {
        let learnt = lines_of(&lines, follower, "log-start");
        assert_eq!(learnt.len(), 1, "{follower}: {learnt:?}");
        assert!(
            learnt[0]
                .detail
                .ends_with("-> 50 (the leader's, from a fetch response)"),
            "{:?}",
            learnt[0]
        );
        let deleted = lines_of(&lines, follower, "retention");
        assert!(
            deleted
                .iter()
                .any(|l| l.detail.contains("below the log start offset")),
            "{follower} deletes below its new start: {deleted:?}"
        );
    }
    for b in 1..=3 {
        assert_eq!(
            r.replica_logs[&(ORDERS_0, b)].log_start_offset(),
            50,
            "broker-{b}"
        );
    }
}

/// `AbstractFetcherThread.fetchOffsetAndTruncate`: a follower that comes back with its log end
/// below the leader's log start offset (retention deleted what it needs while it was down) drops
/// its log and starts again, empty, at the leader's log start offset.
#[test]
fn a_follower_behind_the_leaders_log_start_starts_again_there() {
    let text = scenario(
        r#""retention.bytes": 2000"#,
        r#"(at: "2s", fault: Crash(broker: 3)), (at: "60s", fault: Restart(broker: 3))"#,
        500,
    );
    let r = run_text(&parse_scenario("truncate-fully", &text), None);
    let lines = trace_lines(&r);
    let full = lines_of(&lines, "broker-3", "truncate");
    assert_eq!(full.len(), 1, "{full:?}");
    assert!(full[0].detail.contains("fully"), "{:?}", full[0]);
    let leader = &r.replica_logs[&(ORDERS_0, 1)];
    let follower = &r.replica_logs[&(ORDERS_0, 3)];
    assert_eq!(
        follower.log_end_offset(),
        leader.log_end_offset(),
        "caught up again"
    );
    assert!(
        follower.log_start_offset() > 20,
        "{}",
        follower.log_start_offset()
    );
    assert!(
        r.history.truncations.is_empty(),
        "a full truncation drops only what the leader deleted: no record is cut away"
    );
}

/// `LogAppendTime` (`LogValidator`): the leader stamps each batch with its append time and
/// followers copy it; under `CreateTime` a record keeps its producer's send() time. Seen through
/// `ListOffsets` by timestamp on the final logs: the first record at or after a time.
#[test]
fn records_carry_send_time_or_the_leaders_append_time() {
    for (kind, config) in [
        ("CreateTime", r#""message.timestamp.type": "CreateTime""#),
        ("LogAppendTime", r#""message.timestamp.type": "LogAppendTime""#),
    ] {
        let text = scenario(config, "", 100);
        let r = run_text(&parse_scenario(kind, &text), None);
        let log = &r.replica_logs[&(ORDERS_0, 1)];
        // Record i is sent at i * 100 ms; the leader appends it a few ms later.
        let at_5s = log.offset_for_timestamp(5000);
        match kind {
            "CreateTime" => assert_eq!(at_5s, Some(50), "sent at exactly 5 s"),
            _ => assert_eq!(at_5s, Some(50), "appended just after 5 s"),
        }
        let at = log.offset_for_timestamp(4901);
        match kind {
            "CreateTime" => assert_eq!(at, Some(50), "record 49 was sent at 4.900 s"),
            _ => assert_eq!(at, Some(49), "record 49 was appended after 4.901 s"),
        }
        for b in 2..=3 {
            let follower = &r.replica_logs[&(ORDERS_0, b)];
            assert_eq!(follower.offset_for_timestamp(4901), at, "{kind}: followers copy");
        }
    }
}

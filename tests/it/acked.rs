//! Issue 11, point 1, "lost means lost": the verdicts on acknowledged records. `lost_acked` counts
//! only records that no log the partition has or may recover with holds; a record in the
//! leader's log above its high watermark is `uncommitted_acked`, one on the disk of a replica of
//! a partition without a leader is `unavailable_acked`. Each test also makes the run go on (or
//! the leader fail) and checks what the finding said would happen.

use crate::support::{kafkasim, ms, parse_scenario, run_text, scratch_dir};
use kafkasim::check::{CheckReport, Finding, check};
use kafkasim::kafka::record::{RecordId, Tp};
use kafkasim::scenario::Scenario;
use kafkasim::sim::{SimDuration, SimTime};
use kafkasim::simulation::{Holder, RunResult};
use std::collections::BTreeSet;

const T0: Tp = Tp {
    topic: 0,
    partition: 0,
};

/// Fenced after 3 s without a heartbeat (one a second); out of the ISR after 4 s.
const FAST: &str = r#""broker.session.timeout.ms": 3000, "broker.heartbeat.interval.ms": 1000,
                      "replica.lag.time.max.ms": 4000"#;

/// Three brokers, topic `t` on [1, 2, 3], producer `p1` (`acks`, no idempotence, one record per
/// batch) sending `records` at 100/s from 100 ms; `config` and `faults` added.
fn scenario(duration: &str, config: &str, acks: &str, records: u32, faults: &str) -> Scenario {
    parse_scenario(
        "acked.ron",
        &format!(
            r#"Scenario(
                name: "acked", description: "x", seed: 1, duration: "{duration}",
                cluster: (brokers: 3, config: {{ {FAST}, {config} }}, network: (latency: "1ms")),
                topics: [ (name: "t", partitions: 1, assignment: [[1, 2, 3]]) ],
                producers: [ (id: "p1",
                    config: {{ "acks": "{acks}", "enable.idempotence": false, "linger.ms": 0 }},
                    workload: (topic: "t", records: {records}, rate: "100/s", start: "100ms")) ],
                faults: [ {faults} ],
            )"#
        ),
    )
}

fn until(s: &Scenario, at_ms: u64) -> RunResult {
    run_text(s, Some(SimDuration::from_ms(at_ms)))
}

fn records(findings: &[Finding]) -> BTreeSet<RecordId> {
    findings.iter().map(|f| f.record).collect()
}

fn acked_count(r: &RunResult) -> usize {
    r.history.producers[0].acked as usize
}

/// Case (a) of the issue: acks=1 and followers behind. `Partition.appendRecordsToLeader` answers
/// acks=1 once the leader has appended; the HW moves when the followers' fetches report their log
/// ends (`Partition.maybeIncrementLeaderHW`). With 20 ms more latency to both followers, a run
/// that stops mid-stream leaves the last records above the HW: uncommitted, not lost. Run on,
/// they are committed; crash the leader instead (KIP-279: broker-2 leads without them and
/// broker-1 truncates on return), and they are what is lost.
#[test]
fn acks_one_records_the_followers_have_not_fetched_yet_are_uncommitted_then_committed_or_lost() {
    let slow = r#"(at: "0s", fault: SlowLink(nodes: (Broker(1), Broker(2)), extra_latency: "20ms")),
                  (at: "0s", fault: SlowLink(nodes: (Broker(1), Broker(3)), extra_latency: "20ms"))"#;
    let s = scenario("3s", "", "1", 100, slow);
    let mid = until(&s, 1005);
    let report = check(&s, &mid);
    assert!(report.lost_acked.is_empty(), "{}", report.lost_acked[0].headline);
    assert!(report.unavailable_acked.is_empty());
    let pending = records(&report.uncommitted_acked);
    assert!((2..10).contains(&pending.len()), "{pending:?}");
    let leader = &mid.replica_logs[&(T0, 1)];
    for f in &report.uncommitted_acked {
        let offset = leader
            .records()
            .find(|(_, r)| *r == f.record)
            .map(|(o, _)| o)
            .expect("in the leader's log");
        assert!(offset >= leader.high_watermark(), "{}", f.headline);
        assert!(
            f.headline
                .contains(", and the leader broker-1 holds it, above its HW ")
                && f.headline.ends_with("; lost only if broker-1 fails first"),
            "{}",
            f.headline
        );
    }
    // The newest is on neither follower yet; the oldest may be on both, unknown to the leader
    // until their next fetch says so.
    let newest = &report.uncommitted_acked[pending.len() - 1].headline;
    assert!(
        newest.contains(": committed once broker-2 and broker-3 fetch it;"),
        "{newest}"
    );
    assert_eq!(mid.holders[&T0], Holder::Leader(1));

    let end = run_text(&s, None);
    let report = check(&s, &end);
    assert_eq!(acked_count(&end), 100);
    assert!(report.lost_acked.is_empty() && report.uncommitted_acked.is_empty());

    // The same run, but broker-1 crashes at that moment: it is fenced at 4 s, broker-2 leads.
    let crash =
        format!(r#"{slow}, (at: "1005ms", fault: Crash(broker: 1)), (at: "6s", fault: Restart(broker: 1))"#);
    let s = scenario("8s", "", "1", 100, &crash);
    let r = run_text(&s, None);
    let report = check(&s, &r);
    let lost = records(&report.lost_acked);
    assert!(
        !lost.is_empty() && lost.is_subset(&pending),
        "{lost:?} vs {pending:?}"
    );
    assert!(report.uncommitted_acked.is_empty() && report.unavailable_acked.is_empty());
    let headline = &report.lost_acked[0].headline;
    assert!(
        headline.contains("but the leader broker-2's log of t-0 (LEO ")
            && headline.contains("does not hold it: broker-1 truncated it at ")
            && headline.ends_with("(diverging epoch from the leader (KIP-279))"),
        "{headline}"
    );
}

/// Case (c): with min.insync.replicas=2 and both followers gone, KAFKA-15583 (3.7,
/// `Partition.maybeIncrementLeaderHW`) keeps the HW where it is once the ISR is [1]; acks=1 is
/// still answered (min ISR is an acks=all rule, `Partition.appendRecordsToLeader`). Every record
/// acked then is in the log above the HW: uncommitted. A follower that returns and rejoins the
/// ISR commits them all.
#[test]
fn acks_one_records_appended_while_the_isr_is_below_min_isr_are_uncommitted_until_a_follower_rejoins() {
    let down = r#"(at: "50ms", fault: Crash(broker: 2)), (at: "50ms", fault: Crash(broker: 3))"#;
    let s = scenario("6s", r#""min.insync.replicas": 2"#, "1", 100, down);
    let r = run_text(&s, None);
    assert_eq!(r.metadata.partition(T0).map(|p| p.isr.clone()), Some(vec![1]));
    let report = check(&s, &r);
    assert_eq!(acked_count(&r), 100);
    assert!(report.lost_acked.is_empty());
    assert_eq!(report.uncommitted_acked.len(), 100, "every acked record");
    let last = &report.uncommitted_acked[99].headline;
    assert!(
        last.contains("above its HW 0: the HW stays while the ISR [1] is smaller than min.insync.replicas (2); committed once a follower catches up and rejoins the ISR"),
        "{last}"
    );

    let back = format!(r#"{down}, (at: "6s", fault: Restart(broker: 2))"#);
    let s = scenario("9s", r#""min.insync.replicas": 2"#, "1", 100, &back);
    let r = run_text(&s, None);
    let report = check(&s, &r);
    assert!(report.uncommitted_acked.is_empty() && report.lost_acked.is_empty());
    assert_eq!(r.replica_logs[&(T0, 1)].high_watermark(), 100);
}

/// t-0's holder, which must be offline: its candidates, stopped leader and since when.
fn offline_holder(r: &RunResult) -> (Vec<u32>, Option<u32>, Option<SimTime>) {
    match r.holders[&T0].clone() {
        Holder::Offline {
            candidates,
            stopped_leader,
            since,
        } => (candidates, stopped_leader, since),
        other => panic!("t-0 is offline: {other:?}"),
    }
}

/// Case (b): the last ISR member crashes and unclean election is off. KRaft keeps it in the ISR
/// with no leader (`PartitionChangeBuilder.build` writes no empty ISR without ELR;
/// `electAnyLeader` finds no acceptable ISR member), so when brokers return only broker-1 may lead
/// (`ReplicationControlManager.generateLeaderAndIsrUpdates` on unfencing). A process crash keeps
/// its log (`UnifiedLog` recovery keeps what the page cache flushed): every acked record is
/// unavailable, and a restart brings every one back. A power loss before anything was flushed
/// (`flush.messages`/`flush.ms` unset: Kafka never fsyncs on the write path) loses them all.
#[test]
fn records_on_the_disk_of_the_only_replica_that_may_lead_an_offline_partition_are_unavailable() {
    let cut =
        r#"(at: "500ms", fault: Partition(groups: [[Broker(1), Client("p1")], [Broker(2), Broker(3)]]))"#;
    let offline = format!(r#"{cut}, (at: "8s", fault: Crash(broker: 1)), (at: "8s", fault: Heal)"#);
    let s = scenario("14s", "", "all", 300, &offline);
    let r = run_text(&s, None);
    let (candidates, stopped_leader, since) = offline_holder(&r);
    assert_eq!((candidates, stopped_leader), (vec![1], None));
    assert!(since.is_some_and(|t| t > ms(8000) && t < ms(11_100)), "{since:?}");
    let report = check(&s, &r);
    let acked = acked_count(&r);
    assert!(acked > 100, "acked with ISR [1] while cut off: {acked}");
    assert!(report.lost_acked.is_empty() && report.uncommitted_acked.is_empty());
    assert_eq!(report.unavailable_acked.len(), acked);
    let headline = &report.unavailable_acked[acked - 1].headline;
    assert!(
        headline.contains(", and broker-1 holds it on disk, but t-0 has had no leader since ")
            && headline.ends_with(": a restart of broker-1 brings it back"),
        "{headline}"
    );

    let restarted = format!(r#"{offline}, (at: "12s", fault: Restart(broker: 1))"#);
    let s = scenario("14s", "", "all", 300, &restarted);
    let r = run_text(&s, None);
    let report = check(&s, &r);
    assert_eq!(acked_count(&r), acked);
    assert_eq!(r.holders[&T0], Holder::Leader(1));
    assert!(
        report.unavailable_acked.is_empty()
            && report.lost_acked.is_empty()
            && report.uncommitted_acked.is_empty(),
        "a restart brings every one back"
    );

    let power = offline.replace("Crash(broker: 1)", "Crash(broker: 1, lose_unflushed: true)");
    let s = scenario("14s", "", "all", 300, &power);
    let r = run_text(&s, None);
    let report = check(&s, &r);
    assert_eq!(report.lost_acked.len(), acked);
    assert!(report.unavailable_acked.is_empty());
    let headline = &report.lost_acked[acked - 1].headline;
    assert!(
        headline.contains(", but no replica that may lead t-0 (broker-1) holds it: broker-1 truncated it at 8000.000ms (power loss: what was not flushed)"),
        "{headline}"
    );
}

/// A leader that crashed but is not fenced yet still leads in the controller's metadata; the
/// partition's log is the one the fencing election will pick: the first running ISR member in
/// assignment order (`generateLeaderAndIsrUpdates` with `brokerToRemove`). An acks=1 record only
/// the crashed leader had is lost (it truncates when it returns as a follower).
#[test]
fn a_crashed_leader_not_yet_fenced_is_judged_by_the_follower_that_will_lead() {
    let slow = r#"(at: "0s", fault: SlowLink(nodes: (Broker(1), Broker(2)), extra_latency: "20ms")),
                  (at: "0s", fault: SlowLink(nodes: (Broker(1), Broker(3)), extra_latency: "20ms")),
                  (at: "1005ms", fault: Crash(broker: 1))"#;
    let s = scenario("3s", "", "1", 100, slow);
    let r = run_text(&s, None);
    assert_eq!(r.metadata.partition(T0).and_then(|p| p.leader), Some(1));
    let (candidates, stopped_leader, since) = offline_holder(&r);
    assert_eq!((candidates, stopped_leader, since), (vec![2], Some(1), None));
    let report = check(&s, &r);
    assert!(!report.lost_acked.is_empty());
    let headline = &report.lost_acked[0].headline;
    assert!(
        headline.contains("but no replica that may lead t-0 (broker-2) holds it: broker-2 never had it"),
        "{headline}"
    );
    // The records broker-2 has are only unavailable until the controller elects it.
    let f = report
        .unavailable_acked
        .last()
        .expect("broker-2 holds the earlier records");
    assert!(
        f.headline
            .contains("but t-0's leader broker-1 no longer runs (the controller has not fenced it yet): it is back once the controller elects broker-2"),
        "{}",
        f.headline
    );
}

/// `read_uncommitted` judges a read by the log the partition has or may recover with: a read
/// from a partition that is merely offline at the end is not proven gone. The bundled
/// unclean-disabled-offline scenario stopped at 35 s (broker-1 down, the partition offline): the
/// consumer's 200 reads are on broker-1's disk, and so are the 200 acked records.
#[test]
fn reads_and_acks_of_a_partition_offline_at_the_end_are_unavailable_not_lost_or_uncommitted() {
    let o = kafkasim()
        .args(["run", "unclean-disabled-offline", "--until", "35s", "--no-trace"])
        .args(["--out", scratch_dir("acked-offline").to_str().expect("utf-8")])
        .output()
        .expect("runs");
    let out = String::from_utf8_lossy(&o.stdout);
    for line in [
        "  lost_acked         0\n",
        "  uncommitted_acked  0\n",
        "  unavailable_acked  200\n",
        "  read_uncommitted   0\n",
        "  jepsen-0         none          1         0      200       10  [1,2,3]   [1]\n",
    ] {
        assert!(out.contains(line), "missing {line:?} in\n{out}");
    }
}

fn count(report: &CheckReport) -> (usize, usize, usize) {
    (
        report.lost_acked.len(),
        report.uncommitted_acked.len(),
        report.unavailable_acked.len(),
    )
}

/// An acks=0 record on the wire when its leader crashes never reaches a log (acks=0: "the
/// producer will not wait for any acknowledgment", `ProducerConfig` ACKS_DOC): lost, and the
/// finding says so.
#[test]
fn an_acks_zero_record_no_leader_appended_is_lost() {
    let crash = r#"(at: "500500us", fault: Crash(broker: 1)), (at: "5s", fault: Restart(broker: 1))"#;
    let s = scenario("6s", "", "0", 100, crash);
    let r = run_text(&s, None);
    let report = check(&s, &r);
    let (lost, uncommitted, _) = count(&report);
    assert!(lost > 0 && uncommitted == 0, "{:?}", count(&report));
    assert!(
        report.lost_acked.iter().any(|f| f.headline.ends_with(
            "no leader ever appended it (acks=0: the producer counts a record acknowledged once sent)"
        )),
        "{}",
        report.lost_acked[0].headline
    );
}

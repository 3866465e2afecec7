//! Replication fidelity: each test pins one claim about how Kafka replicates a partition, names
//! the Kafka source (apache/kafka, 4.0 unless stated) or KIP it follows, and checks it on a small
//! inline scenario by what a run records — every replica's final log, the controller's metadata,
//! the history (appends, acks, truncations) and the trace's `leader`, `isr`, `hw`, `fence` and
//! `truncate` lines. The facts are those of the reference `broker-and-groups.md` (§1–5, and its
//! "Fidelity checks" 1–11).
//!
//! Runs are kept short with `broker.session.timeout.ms` 3 s, heartbeats 1 s after each answer and
//! `replica.lag.time.max.ms` 4 s (ISR checks every 2 s) unless a test is about the defaults; the
//! network has a fixed 1 ms latency, so every time below is exact. A broker's heartbeats reach
//! the controller at 1, 1003, 2005, 3007, ... ms (the interval plus a 2 ms round trip,
//! `BrokerLifecycleManager`), and the controller fences a broker the tick after 3 s without one
//! (`BrokerHeartbeatManager.hasValidSession`): see [`fenced_after`].

use crate::support::{TraceLine, fault_time, lines_of, ms, parse_scenario, run_text, trace_lines};
use kafkasim::check::check;
use kafkasim::history::Outcome;
use kafkasim::kafka::log::PartitionLog;
use kafkasim::kafka::protocol::{ErrorCode, PartitionState};
use kafkasim::kafka::record::{RecordId, Tp};
use kafkasim::scenario::Scenario;
use kafkasim::sim::{SimDuration, SimTime};
use kafkasim::simulation::RunResult;

const T0: Tp = Tp {
    topic: 0,
    partition: 0,
};

/// Fenced after 3 s without a heartbeat (one a second after each answer); out of the ISR after
/// 4 s without catching up, checked every 2 s.
const FAST: &str = r#""broker.session.timeout.ms": 3000, "broker.heartbeat.interval.ms": 1000,
                      "replica.lag.time.max.ms": 4000"#;

/// A scenario with `brokers` brokers (`config` entries), one topic, `producers` and `faults`.
fn scenario(
    duration: &str,
    brokers: u32,
    config: &str,
    topic: &str,
    producers: &[String],
    faults: &str,
) -> Scenario {
    let producers = producers.join(",\n");
    parse_scenario(
        "replication.ron",
        &format!(
            r#"Scenario(
                name: "replication", description: "x", seed: 1, duration: "{duration}",
                cluster: (brokers: {brokers}, config: {{ {config} }}, network: (latency: "1ms")),
                topics: [ {topic} ],
                producers: [ {producers} ],
                faults: [ {faults} ],
            )"#
        ),
    )
}

/// When the controller fences a broker (with [`FAST`]) whose last heartbeat reached it at
/// `contact_ms`: the tick (1 µs) after its 3 s session.
fn fenced_after(contact_ms: u64) -> SimTime {
    ms(contact_ms + 3000) + SimDuration::from_us(1)
}

/// Topic `t`, one partition on `replicas` (preferred leader first), with topic `config` entries.
fn topic(replicas: &str, config: &str) -> String {
    format!(r#"(name: "t", partitions: 1, assignment: [{replicas}], config: {{ {config} }})"#)
}

/// A producer of `records` keyless records to `t`, one every `1/rate` from `start`, each in its own
/// batch (`linger.ms` 0, rates well below what batching needs); `extra` config entries.
fn producer(id: &str, acks: &str, extra: &str, records: u32, rate: &str, start: &str) -> String {
    format!(
        r#"(id: "{id}", config: {{ "acks": "{acks}", "enable.idempotence": false, "linger.ms": 0, {extra} }},
            workload: (topic: "t", records: {records}, rate: "{rate}", start: "{start}"))"#
    )
}

fn run_until(s: &Scenario, until: SimTime) -> RunResult {
    run_text(s, Some(SimDuration::from_us(until.as_us())))
}

fn us(us: u64) -> SimTime {
    SimTime::from_us(us)
}

fn after(t: SimTime, ms: u64) -> SimTime {
    t + SimDuration::from_ms(ms)
}

/// Broker `b`'s replica of `t-0` at the end of the run.
fn replica(r: &RunResult, b: u32) -> &PartitionLog {
    r.replica_logs
        .get(&(T0, b))
        .unwrap_or_else(|| panic!("broker-{b} hosts t-0"))
}

/// (LEO, HW) of broker `b`'s replica.
fn offsets(r: &RunResult, b: u32) -> (u64, u64) {
    let log = replica(r, b);
    (log.log_end_offset(), log.high_watermark())
}

/// The controller's final view of `t-0`.
fn state(r: &RunResult) -> &PartitionState {
    r.metadata.partition(T0).expect("t-0 exists")
}

/// Record `seq` of producer number `producer` (scenario order).
fn rec(producer: u32, seq: u32) -> RecordId {
    RecordId { producer, seq }
}

/// A log's records in offset order.
fn records(log: &PartitionLog) -> Vec<RecordId> {
    log.batches().flat_map(|b| b.records.iter().copied()).collect()
}

fn outcome(r: &RunResult, producer: u32, seq: u32) -> Outcome {
    r.history.producers[producer as usize].records[seq as usize].outcome()
}

fn acked_at(r: &RunResult, producer: u32, seq: u32) -> Option<SimTime> {
    match outcome(r, producer, seq) {
        Outcome::Acked { at, .. } => Some(at),
        _ => None,
    }
}

/// The records the checker finds acknowledged but absent from the final committed log.
fn lost_acked(s: &Scenario, r: &RunResult) -> Vec<RecordId> {
    let mut lost: Vec<RecordId> = check(s, r).lost_acked.iter().map(|f| f.record).collect();
    lost.sort();
    lost
}

/// Every truncation of the run: (broker, the offset it cut to, the records it took).
fn cuts(r: &RunResult) -> Vec<(u32, u64, Vec<RecordId>)> {
    r.history
        .truncations
        .iter()
        .map(|t| (t.broker, t.to, t.records.to_vec()))
        .collect()
}

/// Offsets where two replicas of `t-0` hold different records, below both their high watermarks
/// (what KIP-101 calls divergence; such a replica would serve a different committed history).
fn divergent_offsets(r: &RunResult) -> Vec<u64> {
    let logs: Vec<&PartitionLog> = r
        .replica_logs
        .iter()
        .filter(|((tp, _), _)| *tp == T0)
        .map(|(_, log)| log)
        .collect();
    let mut found = std::collections::BTreeSet::new();
    for (i, a) in logs.iter().enumerate() {
        for b in &logs[i + 1..] {
            let (ra, rb) = (records(a), records(b));
            let below = a.high_watermark().min(b.high_watermark()) as usize;
            for o in 0..below.min(ra.len()).min(rb.len()) {
                if ra[o] != rb[o] {
                    found.insert(o as u64);
                }
            }
        }
    }
    found.into_iter().collect()
}

fn brokers_in(list: &str) -> Vec<u32> {
    let inner = list.trim().trim_start_matches('[').trim_end_matches(']');
    inner
        .split(',')
        .filter(|s| !s.is_empty())
        .map(|s| s.trim().parse().expect("a broker id"))
        .collect()
}

/// The controller's committed ISR changes of `t-0`: `t-0 ISR is now [1,2]`.
fn isr_changes(lines: &[TraceLine]) -> Vec<(SimTime, Vec<u32>)> {
    lines_of(lines, "controller", "isr")
        .iter()
        .map(|l| {
            let list = l.detail.strip_prefix("t-0 ISR is now ").expect("an ISR line");
            (l.at, brokers_in(list))
        })
        .collect()
}

/// ISR changes a leader asked for: (when, "shrink"/"expand", proposed ISR).
fn isr_proposals<'a>(lines: &'a [TraceLine], node: &str) -> Vec<(SimTime, &'a str, Vec<u32>)> {
    lines_of(lines, node, "isr")
        .iter()
        .map(|l| {
            let rest = l.detail.strip_prefix("t-0 ").expect("t-0");
            let (why, list) = rest
                .split_once(": asks the controller for ISR ")
                .expect("a proposal");
            (l.at, why, brokers_in(list))
        })
        .collect()
}

/// The controller's leader elections of `t-0`: (when, leader, leader epoch).
fn leader_changes(lines: &[TraceLine]) -> Vec<(SimTime, Option<u32>, u32)> {
    lines_of(lines, "controller", "leader")
        .iter()
        .map(|l| {
            let rest = l.detail.strip_prefix("t-0 -> ").expect("t-0");
            let (who, epoch) = rest.split_once(" epoch ").expect("an epoch");
            let leader = who.strip_prefix("broker-").map(|b| b.parse().expect("an id"));
            (l.at, leader, epoch.parse().expect("an epoch"))
        })
        .collect()
}

/// A leader's high-watermark moves: `t-0 -> 10` (not a follower's, which says so).
fn hw_moves(lines: &[TraceLine], node: &str) -> Vec<(SimTime, u64)> {
    lines_of(lines, node, "hw")
        .iter()
        .filter(|l| !l.detail.contains("(a follower"))
        .map(|l| {
            let v = l.detail.strip_prefix("t-0 -> ").expect("t-0");
            (l.at, v.parse().expect("an offset"))
        })
        .collect()
}

/// A follower's log end after each batch it copied from the leader: `... from the leader, LEO 2`.
fn replicated(lines: &[TraceLine], node: &str) -> Vec<(SimTime, u64)> {
    lines_of(lines, node, "replicate")
        .iter()
        .map(|l| {
            let (_, leo) = l.detail.rsplit_once("LEO ").expect("a LEO");
            (l.at, leo.parse().expect("an offset"))
        })
        .collect()
}

// ---------------------------------------------------------------------------------------------
// The high watermark (Partition.maybeIncrementLeaderHW, reference §2.2, §2.4)

/// Three replicas, acks=1, ten records one every 100 ms from 100 ms; at 300 ms follower 3 is cut
/// off from leader 1 only. The controller and p1 are in no group, so broker-3 keeps heartbeating.
fn cut_follower() -> Scenario {
    scenario(
        "8s",
        3,
        FAST,
        &topic("[1, 2, 3]", ""),
        &[producer("p1", "1", "", 10, "10/s", "100ms")],
        r#"(at: "300ms", fault: Partition(groups: [[Broker(1)], [Broker(3)]]))"#,
    )
}

/// `Partition.maybeIncrementLeaderHW` (reference §2.4): the leader's HW is the smallest log end
/// among itself and the ISR. An ISR member that stops fetching holds it back — whatever the
/// producer's acks — until the lag rule (`Partition.maybeShrinkIsr`) takes it out of the ISR;
/// then the HW jumps to the smallest log end of the remaining ISR.
#[test]
fn the_leader_hw_is_the_smallest_isr_log_end_and_a_cut_off_follower_holds_it_until_the_isr_shrinks() {
    let s = cut_follower();
    // Mid-cut, every record is on brokers 1 and 2, and broker-3 is stuck at 2 records.
    let mid = run_until(&s, ms(1500));
    assert_eq!(state(&mid).isr, [1, 2, 3]);
    assert_eq!([1, 2, 3].map(|b| replica(&mid, b).log_end_offset()), [10, 10, 2]);
    assert_eq!(replica(&mid, 1).high_watermark(), 2, "HW = min LEO over the ISR");

    let r = run_text(&s, None);
    let lines = trace_lines(&r);
    let cut = fault_time(&lines, "Partition(");
    // Before the cut, each HW value was reached only after both followers had copied it.
    let hw = hw_moves(&lines, "broker-1");
    for &(t, v) in hw.iter().filter(|(t, _)| *t < cut) {
        for f in ["broker-2", "broker-3"] {
            assert!(
                replicated(&lines, f).iter().any(|&(rt, leo)| rt < t && leo >= v),
                "HW {v} at {t} before {f} had it"
            );
        }
    }
    // After the cut: the appends leave the HW at 2, and it moves once, to 10, when the shrink
    // the controller committed reaches the leader (one hop later).
    let appends_after: Vec<&TraceLine> = lines_of(&lines, "broker-1", "append")
        .into_iter()
        .filter(|l| l.at > cut)
        .collect();
    assert_eq!(appends_after.len(), 8);
    assert!(
        appends_after.iter().all(|l| l.detail.contains(" hw 2: ")),
        "{appends_after:?}"
    );
    let changes = isr_changes(&lines);
    assert_eq!(changes.len(), 1, "{changes:?}");
    let (shrunk, isr) = &changes[0];
    assert_eq!(isr, &[1, 2]);
    let moves_after: Vec<(SimTime, u64)> = hw.iter().copied().filter(|(t, _)| *t > cut).collect();
    assert_eq!(moves_after, [(after(*shrunk, 1), 10)]);
    // broker-3 was never fenced: it left the ISR by the lag rule alone.
    assert!(lines.iter().all(|l| l.kind != "fence"));
    assert_eq!(r.metadata.live_brokers, [1, 2, 3]);
    assert_eq!(offsets(&r, 1), (10, 10));
    assert_eq!(replica(&r, 3).log_end_offset(), 2);
}

/// Reference §2.2 (`Partition.fetchRecords` caps a consumer fetch at the HW, the last committed
/// offset, for `isolation.level=read_uncommitted` too): with a follower cut off, the leader holds
/// ten records but its HW stays at 2, and a consumer reads only p1#0 and p1#1 until the ISR
/// shrinks and the HW jumps to 10.
#[test]
fn a_consumer_reads_only_below_the_high_watermark_while_a_follower_holds_it_back() {
    let s = parse_scenario(
        "cut-with-consumer.ron",
        &format!(
            r#"Scenario(
                name: "cut", description: "x", seed: 1, duration: "8s",
                cluster: (brokers: 3, network: (latency: "1ms"), config: {{ {FAST} }}),
                topics: [ {} ],
                producers: [ {} ],
                consumers: [ (id: "c1", topics: ["t"], config: {{ "auto.offset.reset": "earliest" }}) ],
                faults: [ (at: "300ms", fault: Partition(groups: [[Broker(1)], [Broker(3)]])) ],
            )"#,
            topic("[1, 2, 3]", ""),
            producer("p1", "1", "", 10, "10/s", "100ms"),
        ),
    );
    let r = run_text(&s, None);
    let lines = trace_lines(&r);
    let hw = hw_moves(&lines, "broker-1");
    let hw_at = |t: SimTime| {
        hw.iter()
            .filter(|(at, _)| *at <= t)
            .map(|(_, v)| *v)
            .max()
            .unwrap_or(0)
    };
    assert!(!r.history.consumed.is_empty());
    for c in &r.history.consumed {
        assert!(
            c.offset < hw_at(c.at),
            "{c:?} read at or above the leader's HW {}",
            hw_at(c.at)
        );
    }
    let (shrunk, _) = isr_changes(&lines)[0];
    let before: Vec<u64> = r
        .history
        .consumed
        .iter()
        .filter(|c| c.at < shrunk)
        .map(|c| c.offset)
        .collect();
    assert_eq!(before, [0, 1]);
    assert_eq!(r.history.consumed.len(), 10);
}

/// Reference §2.2 step 5 (`ReplicaManager.fetchMessages`, `Partition.fetchRecords`,
/// `DelayedFetch`): a fetch response carries the leader's HW as it was before that fetch moved
/// it, so a follower learns a new HW from its next response; a caught-up follower's next fetch
/// waits in purgatory for data or `replica.fetch.wait.max.ms` (500 ms) — an HW change alone does
/// not complete it.
#[test]
fn a_follower_learns_a_new_hw_only_from_its_next_fetch_response() {
    // One record at 100 ms: appended at 101 ms; the followers' parked fetches answer with it
    // (HW 0) at 102 ms; their next fetches reach the leader at 103 ms and move its HW to 1.
    let s = scenario(
        "1s",
        3,
        "",
        &topic("[1, 2, 3]", ""),
        &[producer("p1", "1", "", 1, "10/s", "100ms")],
        "",
    );
    let r = run_until(&s, us(103_500));
    assert_eq!(offsets(&r, 1), (1, 1));
    for f in [2, 3] {
        assert_eq!(offsets(&r, f), (1, 0), "broker-{f} has the record, not the HW");
    }
    // Those fetches find no data and wait 500 ms at the leader (until 603 ms).
    let r = run_until(&s, us(603_500));
    for f in [2, 3] {
        assert_eq!(
            offsets(&r, f),
            (1, 0),
            "broker-{f}: the HW change did not answer it"
        );
    }
    let r = run_until(&s, us(604_500));
    for f in [2, 3] {
        assert_eq!(
            offsets(&r, f),
            (1, 1),
            "broker-{f} learned HW 1 from the next response"
        );
    }
    let lines = trace_lines(&r);
    assert_eq!(hw_moves(&lines, "broker-1"), [(ms(103), 1)]);
    assert_eq!(replicated(&lines, "broker-2"), [(ms(102), 1)]);
    // The trace shows the follower's HW move when the response arrives, at 604 ms.
    let learned: Vec<(SimTime, &str)> = lines_of(&lines, "broker-2", "hw")
        .iter()
        .map(|l| (l.at, l.detail.as_str()))
        .collect();
    assert_eq!(
        learned,
        [(ms(604), "t-0 -> 1 (a follower, from the leader's fetch response)")]
    );
}

/// Brokers 2 and 3 crash at 100 ms and are fenced at 3001.001 ms (ISR [1]); producers "all"
/// (acks=all) and "one" (acks=1) send 3 records each from 3.5 s; broker-2 restarts at 5 s.
fn min_isr(min: u32) -> Scenario {
    scenario(
        "8s",
        3,
        &format!(r#"{FAST}, "min.insync.replicas": {min}"#),
        &topic("[1, 2, 3]", ""),
        &[
            producer("all", "all", "", 3, "10/s", "3500ms"),
            producer("one", "1", "", 3, "10/s", "3500ms"),
        ],
        r#"(at: "100ms", fault: Crash(broker: 2)), (at: "100ms", fault: Crash(broker: 3)),
           (at: "5s", fault: Restart(broker: 2))"#,
    )
}

/// acks=all produce attempts of `r` that ended with `error` (retried or failed).
fn attempts_failing_with(r: &RunResult, error: ErrorCode) -> usize {
    r.history.producers[0]
        .batches
        .iter()
        .flat_map(|b| b.attempts.iter())
        .filter(|a| a.error.is_some_and(|(_, e)| e == error))
        .count()
}

/// Brokers 2 and 3 crash at 100 ms while p1's first acks=all batch waits for them: they are
/// fenced at 3001 ms and the ISR shrinks to [1], below min ISR 2.
fn shrink_while_waiting(gate: &str) -> Scenario {
    scenario(
        "10s",
        3,
        &format!(r#"{FAST}, "min.insync.replicas": 2, "kafkasim.min.isr.hw.gate": {gate}"#),
        &topic("[1, 2, 3]", ""),
        &[producer(
            "p1",
            "all",
            r#""request.timeout.ms": 5000"#,
            1,
            "10/s",
            "2s",
        )],
        r#"(at: "100ms", fault: Crash(broker: 2)), (at: "100ms", fault: Crash(broker: 3))"#,
    )
}

/// Reference §2.4 step 1 and §2.5 step 3 (`DelayedProduce` completes once the HW passes the
/// batch and then answers NOT_ENOUGH_REPLICAS_AFTER_APPEND if the ISR is below min ISR;
/// KAFKA-15583 in 3.7 stops the HW while the ISR is below min ISR, so the request times out
/// instead). `kafkasim.min.isr.hw.gate: false` replays Kafka 3.6 and older.
#[test]
fn a_shrink_below_min_isr_fails_a_waiting_acks_all_request_after_append_only_without_the_3_7_hw_gate() {
    let old = run_text(&shrink_while_waiting("false"), None);
    assert_eq!(
        attempts_failing_with(&old, ErrorCode::NotEnoughReplicasAfterAppend),
        1
    );
    assert_eq!(attempts_failing_with(&old, ErrorCode::RequestTimedOut), 0);
    // The batch is in the log and committed: the HW jumped to the leader's LEO with the shrink.
    assert_eq!(offsets(&old, 1), (1, 1));

    let new = run_text(&shrink_while_waiting("true"), None);
    assert_eq!(
        attempts_failing_with(&new, ErrorCode::NotEnoughReplicasAfterAppend),
        0
    );
    assert!(attempts_failing_with(&new, ErrorCode::RequestTimedOut) >= 1);
    assert!(attempts_failing_with(&new, ErrorCode::NotEnoughReplicas) >= 1);
    assert_eq!(offsets(&new, 1), (1, 0), "appended, never committed");
    assert!(acked_at(&new, 0, 0).is_none());
}

/// Reference §2.5, §2.8 and fidelity check 4 (`Partition.appendRecordsToLeader`: acks=all is
/// refused with NOT_ENOUGH_REPLICAS before appending when the ISR is below
/// `min.insync.replicas`; `Partition.maybeIncrementLeaderHW`, KAFKA-15583 in 3.7: the HW does not
/// move at all while the ISR is below min ISR, so acks=1 writes are appended but not committed;
/// once a follower rejoins the ISR the HW moves again, up to min(LEO₁, LEO₂)).
#[test]
fn below_min_isr_acks_all_is_refused_unappended_and_acks_one_is_appended_but_the_hw_stays() {
    let s = min_isr(2);
    let r = run_text(&s, None);
    let lines = trace_lines(&r);
    // Both crashed brokers are fenced at 3001.001 ms, one change each: the ISR ends at [1].
    let changes = isr_changes(&lines);
    let fenced: Vec<&(SimTime, Vec<u32>)> = changes.iter().filter(|(t, _)| *t == fenced_after(1)).collect();
    assert_eq!(
        fenced.last().map(|(_, isr)| isr.as_slice()),
        Some(&[1][..]),
        "{changes:?}"
    );
    let (rejoined, isr) = changes
        .iter()
        .find(|(t, _)| *t > ms(5000))
        .cloned()
        .expect("broker-2 rejoins");
    assert_eq!(isr, [1, 2]);
    // acks=all: refused before appending, nothing of it in the log, nothing acked, until broker-2
    // is back in the ISR.
    let rejects: Vec<&TraceLine> = lines_of(&lines, "broker-1", "reject");
    assert!(rejects.len() >= 3, "{rejects:?}");
    assert!(
        rejects
            .iter()
            .all(|l| l.detail.ends_with("NOT_ENOUGH_REPLICAS") && l.at > fenced_after(1) && l.at < rejoined),
        "{rejects:?}"
    );
    assert!(
        r.history
            .appends
            .iter()
            .filter(|a| a.records.iter().any(|rc| rc.producer == 0))
            .all(|a| a.at > rejoined),
        "no acks=all record appended below min ISR: {:?}",
        r.history.appends
    );
    for seq in 0..3 {
        let at = acked_at(&r, 0, seq).expect("acked once broker-2 is back");
        assert!(at > rejoined, "all#{seq} acked at {at}");
    }
    // acks=1: appended and acked at once, but the HW stays at 0 until the ISR is back to 2.
    for seq in 0..3 {
        assert!(acked_at(&r, 1, seq).expect("acked") < ms(5000));
    }
    let one_appends: Vec<&TraceLine> = lines_of(&lines, "broker-1", "append")
        .into_iter()
        .filter(|l| l.at < rejoined)
        .collect();
    assert_eq!(one_appends.len(), 3);
    assert!(one_appends.iter().all(|l| l.detail.contains(" hw 0: ")));
    let hw = hw_moves(&lines, "broker-1");
    assert!(hw.iter().all(|(t, _)| *t > rejoined), "{hw:?}");
    // Once the ISR is [1, 2] the HW moves again, to min(LEO 1, LEO 2) = 3 first.
    assert_eq!(hw[0], (after(rejoined, 1), 3));
    assert_eq!(offsets(&r, 1), (6, 6));
    assert!(lost_acked(&s, &r).is_empty());

    // The same with min.insync.replicas=1: acks=all goes through with ISR [1] and the HW follows.
    let s = min_isr(1);
    let r = run_text(&s, None);
    let lines = trace_lines(&r);
    assert!(lines_of(&lines, "broker-1", "reject").is_empty());
    for (p, seq) in [(0, 0), (0, 1), (0, 2), (1, 0), (1, 1), (1, 2)] {
        assert!(acked_at(&r, p, seq).expect("acked") < ms(5000));
    }
    assert!(
        hw_moves(&lines, "broker-1")
            .iter()
            .any(|&(t, v)| v == 6 && t < ms(5000))
    );
}

// ---------------------------------------------------------------------------------------------
// ISR shrink and expansion (Partition.maybeShrinkIsr, maybeExpandIsr; reference §2.6, §2.7)

/// Reference §2.6 and fidelity check 5 (`ReplicaManager.startup` schedules `maybeShrinkIsr`
/// every `replica.lag.time.max.ms / 2`; `Partition.getOutOfSyncReplicas` with `Replica.isCaughtUp`):
/// a follower that stops fetching but keeps heartbeating leaves the ISR between 1× and 1.5× the
/// lag time after it was last caught up, plus one AlterPartition round trip.
#[test]
fn a_follower_that_stops_fetching_leaves_the_isr_between_one_and_one_and_a_half_lag_times_after_it_caught_up()
{
    let lag = 4_000_000;
    let r = run_text(&cut_follower(), None);
    let lines = trace_lines(&r);
    let cut = fault_time(&lines, "Partition(");
    // broker-3 was last caught up when the fetch it sent after its last copied batch reached the
    // leader (1 ms later), at the latest at the cut: nothing it sends gets through after it.
    let &(last_copy, leo) = replicated(&lines, "broker-3").last().expect("it copied");
    assert_eq!(leo, 2);
    let (earliest, latest) = (after(last_copy, 1), cut);
    let proposals = isr_proposals(&lines, "broker-1");
    assert_eq!(proposals.len(), 1, "{proposals:?}");
    let (proposed, why, isr) = &proposals[0];
    assert_eq!((*why, isr.as_slice()), ("shrink", &[1, 2][..]));
    assert!(
        proposed.as_us() >= latest.as_us() + lag,
        "not before 1x the lag: {proposed}"
    );
    assert!(
        proposed.as_us() <= earliest.as_us() + lag * 3 / 2,
        "by 1.5x the lag: {proposed}"
    );
    assert_eq!(
        proposed.as_us() % (lag / 2),
        0,
        "on the check schedule, every lag/2"
    );
    assert_eq!(isr_changes(&lines), [(after(*proposed, 1), vec![1, 2])]);
}

/// Reference §2.6 "KRaft shortcut" and fidelity check 5 (`BrokerHeartbeatManager`,
/// `ReplicationControlManager.handleBrokerFenced`): a crashed follower is taken out of every ISR
/// by the controller when it fences the broker, `broker.session.timeout.ms` after its last
/// heartbeat, without waiting for the leader's lag check.
#[test]
fn a_crashed_follower_leaves_the_isr_when_the_controller_fences_it_after_the_session_timeout() {
    let s = scenario(
        "6s",
        3,
        FAST,
        &topic("[1, 2, 3]", ""),
        &[producer("p1", "1", "", 10, "10/s", "100ms")],
        r#"(at: "300ms", fault: Crash(broker: 3))"#,
    );
    let r = run_text(&s, None);
    let lines = trace_lines(&r);
    // The first heartbeat arrived at 1 ms; the next would leave at 1002 ms, after the crash.
    let fences = lines_of(&lines, "controller", "fence");
    assert_eq!(fences.len(), 1);
    assert!(fences[0].detail.starts_with("broker-3"));
    let fenced = fenced_after(1);
    assert_eq!(fences[0].at, fenced);
    assert_eq!(isr_changes(&lines), [(fenced, vec![1, 2])]);
    assert!(
        isr_proposals(&lines, "broker-1").is_empty(),
        "the lag rule (not before 300 ms + 4 s) had no part in it"
    );
    // With broker-3 out, the HW catches up with broker-2 once the leader has the new ISR.
    assert_eq!(hw_moves(&lines, "broker-1").last(), Some(&(after(fenced, 1), 10)));
    assert_eq!(r.metadata.live_brokers, [1, 2]);
}

/// Reference §2.7 and fidelity check 6 (`Partition.maybeExpandIsr`, `isFollowerInSync`: a
/// follower joins when its LEO ≥ the leader's HW **and** ≥ the start offset of the leader's
/// current epoch). Broker-3 crashes at 100 ms (fenced at 3001 ms); five records from 3.1 s reach
/// brokers 1 and 2; broker-1 crashes at 3550 ms: broker-2 leads at epoch 1 from 6001 ms with LEO 5
/// and HW 4 (its HW lags one fetch), and `min.insync.replicas=2` keeps that HW at 4 while the
/// ISR is [2] (3.7+). Broker-3 restarts at 6.5 s and copies one batch per fetch
/// (`replica.fetch.max.bytes` 1): at LEO 4 it has reached the HW but not the epoch start (5).
#[test]
fn a_returning_follower_rejoins_the_isr_only_once_it_reaches_the_hw_and_the_current_epoch_start() {
    let s = scenario(
        "8s",
        3,
        &format!(r#"{FAST}, "min.insync.replicas": 2, "replica.fetch.max.bytes": 1"#),
        &topic("[1, 2, 3]", ""),
        &[producer("p1", "1", "", 5, "10/s", "3100ms")],
        r#"(at: "100ms", fault: Crash(broker: 3)), (at: "3550ms", fault: Crash(broker: 1)),
           (at: "6500ms", fault: Restart(broker: 3))"#,
    );
    let before = run_until(&s, ms(6400));
    let st = state(&before);
    assert_eq!(
        (st.leader, st.leader_epoch, st.isr.as_slice()),
        (Some(2), 1, &[2][..])
    );
    assert_eq!(offsets(&before, 2), (5, 4), "LEO 5 (epoch 1 starts at 5), HW 4");

    let r = run_text(&s, None);
    let lines = trace_lines(&r);
    let copies = replicated(&lines, "broker-3");
    assert_eq!(
        copies.iter().map(|(_, leo)| *leo).collect::<Vec<_>>(),
        [1, 2, 3, 4, 5]
    );
    let (at_hw, at_epoch_start) = (copies[3].0, copies[4].0);
    let proposals = isr_proposals(&lines, "broker-2");
    assert_eq!(proposals.len(), 1, "{proposals:?}");
    let (proposed, why, isr) = &proposals[0];
    assert_eq!((*why, isr.as_slice()), ("expand", &[2, 3][..]));
    // The fetch at offset 4 (= HW) reached broker-2 at at_hw + 1 ms and did not qualify; the
    // fetch at offset 5 (= epoch start) did.
    assert!(*proposed > after(at_hw, 1));
    assert_eq!(*proposed, after(at_epoch_start, 1));
    assert_eq!(
        isr_changes(&lines).last(),
        Some(&(after(*proposed, 1), vec![2, 3]))
    );
    assert_eq!(hw_moves(&lines, "broker-2"), [(after(*proposed, 2), 5)]);
    assert_eq!(offsets(&r, 3).0, 5);
}

// ---------------------------------------------------------------------------------------------
// Leader election (PartitionChangeBuilder, ReplicationControlManager; reference §3.2–3.6)

/// Reference §3.3, §3.5 and fidelity check 7 (`PartitionChangeBuilder.electAnyLeader`: the first
/// replica in assignment order that is in the ISR and acceptable; `electPreferredLeader` and
/// `QuorumController.maybeScheduleNextBalancePartitionLeaders`: with
/// `auto.leader.rebalance.enable`, a check one `leader.imbalance.check.interval.seconds` after
/// the write that made the partition imbalanced, then one after each check that leaves it so;
/// `PartitionRegistration.merge`: every leader change bumps the leader epoch by one). Replicas
/// [3, 1, 2], leader 3; it crashes at 500 ms and restarts at 4 s; the check interval is 1 s.
#[test]
fn a_clean_election_takes_the_first_isr_replica_in_assignment_order_and_the_preferred_one_returns() {
    let s = scenario(
        "6s",
        3,
        &format!(r#"{FAST}, "leader.imbalance.check.interval.seconds": 1"#),
        &topic("[3, 1, 2]", ""),
        &[producer("p1", "1", "", 10, "10/s", "100ms")],
        r#"(at: "500ms", fault: Crash(broker: 3)), (at: "4s", fault: Restart(broker: 3))"#,
    );
    let r = run_text(&s, None);
    let lines = trace_lines(&r);
    let fence = lines_of(&lines, "controller", "fence")[0].at;
    let changes = leader_changes(&lines);
    assert_eq!(changes.len(), 2, "{changes:?}");
    assert_eq!(
        changes[0],
        (fence, Some(1), 1),
        "1 before 2: assignment order, not broker id or ISR order"
    );
    let rejoined = isr_changes(&lines)
        .into_iter()
        .find(|(_, isr)| isr.contains(&3))
        .expect("3 rejoins the ISR")
        .0;
    let (preferred_at, leader, epoch) = changes[1];
    assert_eq!((leader, epoch), (Some(3), 2));
    assert!(preferred_at > rejoined, "only once 3 is in the ISR");
    assert!(
        preferred_at.as_us() - rejoined.as_us() <= 1_000_000,
        "at the next imbalance check"
    );
    assert_eq!(
        preferred_at.since(fence).as_us() % 1_000_000,
        0,
        "whole check intervals after the failover, not on a grid from startup"
    );
    assert_ne!(preferred_at.as_us() % 1_000_000, 0);
    let st = state(&r);
    assert_eq!((st.leader, st.leader_epoch), (Some(3), 2));
    let mut isr = st.isr.clone();
    isr.sort();
    assert_eq!(isr, [1, 2, 3]);
    assert!(lost_acked(&s, &r).is_empty());
}

/// Jepsen's shape (reference §4.4) on three brokers: followers 2 and 3 are cut off from leader 1
/// at 1 s (they keep the controller); "before" wrote 3 records before the cut; "alone" sends 3
/// with acks=all (min ISR 1) from 2 s. The first one waits for the ISR: the followers, idle-caught-up
/// at about 805 ms, are out of sync once the leader's log end passes theirs, so the check at 6 s
/// drops both (an idle follower stays in the ISR however long it is silent:
/// `Replica.isCaughtUp` holds while its LEO equals the leader's). With ISR [1] the "alone" records
/// are acked with one copy. Leader 1 crashes at 7.5 s as the cut heals (its last heartbeat
/// arrived at 7015 ms: fenced at 10015.001 ms), and restarts at 11 s.
fn last_isr_member_dies(unclean: bool) -> Scenario {
    scenario(
        "14s",
        3,
        &format!(r#"{FAST}, "unclean.leader.election.enable": {unclean}"#),
        &topic("[1, 2, 3]", ""),
        &[
            producer("before", "all", "", 3, "10/s", "100ms"),
            producer("alone", "all", "", 3, "10/s", "2s"),
        ],
        r#"(at: "1s", fault: Partition(groups: [[Broker(1)], [Broker(2), Broker(3)]])),
           (at: "7500ms", fault: Crash(broker: 1)), (at: "7500ms", fault: Heal),
           (at: "11s", fault: Restart(broker: 1))"#,
    )
}

/// Reference §3.3 step 4, §2.6 last point and fidelity check 8 (`PartitionChangeBuilder`: with
/// no acceptable ISR member and unclean election off, leader := -1 and the ISR keeps its last
/// member, so that broker wins when it returns; nothing acknowledged is lost).
#[test]
fn with_no_isr_member_alive_and_unclean_election_off_the_partition_goes_offline_and_loses_nothing() {
    let s = last_isr_member_dies(false);
    let offline = run_until(&s, ms(10_500));
    let lines = trace_lines(&offline);
    assert_eq!(isr_changes(&lines)[0], (ms(6001), vec![1]));
    let st = state(&offline);
    assert_eq!(
        (st.leader, st.leader_epoch, st.isr.as_slice()),
        (None, 1, &[1][..])
    );
    assert_eq!(leader_changes(&lines), [(fenced_after(7015), None, 1)]);
    // Everything acked is still on broker-1's disk (above its checkpointed HW for the "alone"
    // records, which it will commit as soon as it leads again).
    let held = records(replica(&offline, 1));
    for (p, seq) in [(0, 0), (0, 1), (0, 2), (1, 0), (1, 1), (1, 2)] {
        assert!(acked_at(&offline, p, seq).is_some());
        assert!(held.contains(&rec(p, seq)), "{:?} on broker-1", rec(p, seq));
    }
    for b in [2, 3] {
        assert_eq!(records(replica(&offline, b)), [rec(0, 0), rec(0, 1), rec(0, 2)]);
    }
    // Broker-1 returns: it is the ISR, so it leads again, with everything.
    let r = run_text(&s, None);
    let st = state(&r);
    assert_eq!((st.leader, st.leader_epoch), (Some(1), 2));
    for (p, seq) in [(0, 0), (0, 1), (0, 2), (1, 0), (1, 1), (1, 2)] {
        assert!(acked_at(&r, p, seq).is_some());
    }
    assert!(lost_acked(&s, &r).is_empty());
    assert!(r.history.truncations.is_empty());
}

/// Reference §3.4 and fidelity check 8 (`PartitionChangeBuilder` unclean rule: the first
/// acceptable replica in assignment order, ISR := [it]; followers then truncate to its history,
/// §3.7): acknowledged records are lost, and the replicas converge on the new leader's log.
#[test]
fn with_no_isr_member_alive_and_unclean_election_on_an_out_of_sync_replica_leads_and_acked_records_are_lost()
{
    let s = last_isr_member_dies(true);
    let r = run_text(&s, None);
    let lines = trace_lines(&r);
    assert_eq!(leader_changes(&lines), [(fenced_after(7015), Some(2), 1)]);
    assert_eq!(isr_changes(&lines)[1], (fenced_after(7015), vec![2]));
    for seq in 0..3 {
        let at = acked_at(&r, 1, seq).expect("acked");
        assert!(at > ms(6001) && at < ms(7500), "acked with one copy, at {at}");
    }
    assert_eq!(lost_acked(&s, &r), [rec(1, 0), rec(1, 1), rec(1, 2)]);
    let cut: Vec<_> = r.history.truncations.iter().filter(|t| t.broker == 1).collect();
    assert_eq!(cut.len(), 1, "{cut:?}");
    assert_eq!(cut[0].records.to_vec(), [rec(1, 0), rec(1, 1), rec(1, 2)]);
    assert!(cut[0].at > ms(11_000));
    assert_eq!(records(replica(&r, 1)), records(replica(&r, 2)));
    assert!(divergent_offsets(&r).is_empty());
}

/// Fidelity checks 1 and 2: p1 writes 11 records from 50 ms, one every 100 ms; at 1 s leader 1
/// (with p1) is cut off from its followers, so the last record (1050 ms) reaches no follower;
/// leader 1 crashes at 1.1 s as the cut heals (its last heartbeat arrived at 1003 ms: fenced at
/// 4003.001 ms) and restarts at 5 s. A cut is
/// how a scenario says "crash before any follower fetched it": with a 1 ms network a follower's
/// fetch is parked at the leader and would otherwise take the record at once.
fn failover(acks: &str, min_isr: u32) -> Scenario {
    scenario(
        "7s",
        3,
        &format!(r#"{FAST}, "min.insync.replicas": {min_isr}"#),
        &topic("[1, 2, 3]", ""),
        &[producer("p1", acks, "", 11, "10/s", "50ms")],
        r#"(at: "1s", fault: Partition(groups: [[Broker(1), Client("p1")], [Broker(2), Broker(3)]])),
           (at: "1100ms", fault: Crash(broker: 1)), (at: "1100ms", fault: Heal),
           (at: "5s", fault: Restart(broker: 1))"#,
    )
}

/// Fidelity check 1 (`Partition.appendRecordsToLeader` answers acks=1 right after the local
/// append; `PartitionChangeBuilder` elects broker-2, the first ISR replica; the returning broker
/// truncates by leader epoch, `AbstractFetcherThread.truncateOnFetchResponse`).
#[test]
fn acks_one_loses_a_record_acked_just_before_a_failover() {
    let s = failover("1", 1);
    let r = run_text(&s, None);
    let lines = trace_lines(&r);
    let last = acked_at(&r, 0, 10).expect("acked by the leader alone");
    assert!(last < ms(1100));
    assert_eq!(leader_changes(&lines), [(fenced_after(1003), Some(2), 1)]);
    assert_eq!(lost_acked(&s, &r), [rec(0, 10)]);
    let truncations: Vec<_> = r.history.truncations.iter().collect();
    assert_eq!(truncations.len(), 1, "{truncations:?}");
    assert_eq!((truncations[0].broker, truncations[0].to), (1, 10));
    assert_eq!(truncations[0].records.to_vec(), [rec(0, 10)]);
    assert!(divergent_offsets(&r).is_empty());
    assert_eq!(records(replica(&r, 1)), records(replica(&r, 2)));
}

/// Reference §5.2 and §3.7 (`ReplicaFetcherThread` through `NetworkClient`): a restarted broker
/// opens new connections, which its peers accept whatever half-open connection they still hold
/// from before the crash (its reset was lost to the cut), so the restarted follower fetches from
/// the new leader, and truncates, within a round trip of having the metadata — not after
/// `replica.fetch.backoff.ms` or `replica.socket.timeout.ms`. The failover of fidelity check 1.
#[test]
fn a_broker_that_crashed_while_cut_off_fetches_as_soon_as_it_restarts() {
    let s = failover("1", 1);
    let r = run_text(&s, None);
    let cut: Vec<_> = r.history.truncations.iter().filter(|t| t.broker == 1).collect();
    assert_eq!(
        cut.len(),
        1,
        "broker-1 truncates p1#10 after its restart at 5 s: {cut:?}"
    );
    assert!(cut[0].at < ms(5100), "{cut:?}");
}

/// Fidelity check 2 (`DelayedProduce` answers acks=all only once the HW passed the batch, and the
/// HW is the ISR's smallest log end, so the elected ISR member holds every acked record).
#[test]
fn acks_all_with_min_isr_two_loses_nothing_in_the_same_failover() {
    let s = failover("all", 2);
    let r = run_text(&s, None);
    assert!(
        acked_at(&r, 0, 10).is_none_or(|t| t > ms(4001)),
        "the last record is not acked by the cut-off leader"
    );
    assert!((0..10).all(|seq| acked_at(&r, 0, seq).is_some()));
    assert!(lost_acked(&s, &r).is_empty());
    assert!(divergent_offsets(&r).is_empty());
}

// ---------------------------------------------------------------------------------------------
// Truncation (reference §3.7, §3.8; fidelity checks 9 and 10)

/// Reference §3.8 Scenario A (KIP-101 "Scenario 1"; TLA `KafkaTruncateToHighWatermark`): a
/// follower that truncates to its HW on becoming follower, then is elected before it re-fetched.
/// RF 3, [1, 2, 3], acks=all, min ISR 1. m0 and m1 are committed at 103/203 ms; the followers
/// learned HW 1 only (a follower's HW lags a fetch). Broker-1 shuts down in a controlled way at
/// 300 ms: broker-2 leads at epoch 1 from 301 ms, and at 302 ms broker-3 becomes its follower.
/// Broker-2 crashes at 302.5 ms, before broker-3's first fetch reaches it; when it is fenced,
/// broker-3, still in the ISR, leads. (KIP-101 tells the story with a follower's restart; in
/// KRaft a restarted broker cannot keep its ISR place, so a leader change makes it a follower.)
fn scenario_a(rule: &str) -> Scenario {
    scenario(
        "5s",
        3,
        &format!(r#"{FAST}, "kafkasim.truncation.rule": "{rule}""#),
        &topic("[1, 2, 3]", ""),
        &[producer("p1", "all", "", 2, "10/s", "100ms")],
        r#"(at: "300ms", fault: ControlledShutdown(broker: 1)),
           (at: "302500us", fault: Crash(broker: 2))"#,
    )
}

/// Fidelity check 9: with the pre-0.11 rule broker-3 truncates to its HW on becoming follower
/// and then becomes leader without m1, so an acknowledged record is lost; with leader-epoch
/// truncation (KIP-101/KIP-279, no HW truncation) it keeps m1 and nothing is lost.
#[test]
fn scenario_a_hw_truncation_then_an_election_loses_an_acked_record_and_epoch_truncation_does_not() {
    let s = scenario_a("high-watermark");
    let r = run_text(&s, None);
    assert!(
        acked_at(&r, 0, 1).is_some_and(|t| t < ms(300)),
        "m1 acked before the shutdown"
    );
    assert_eq!(lost_acked(&s, &r), [rec(0, 1)]);
    let cuts: Vec<(u32, u64, SimTime)> = r
        .history
        .truncations
        .iter()
        .map(|t| (t.broker, t.to, t.at))
        .collect();
    assert_eq!(cuts, [(3, 1, ms(302))], "3 cuts to its HW on becoming follower");
    let st = state(&r);
    assert_eq!((st.leader, st.isr.as_slice()), (Some(3), &[3][..]));
    assert_eq!(records(replica(&r, 3)), [rec(0, 0)]);

    let s = scenario_a("leader-epoch");
    let r = run_text(&s, None);
    assert!(lost_acked(&s, &r).is_empty());
    assert!(r.history.truncations.is_empty());
    assert_eq!(state(&r).leader, Some(3));
    assert_eq!(records(replica(&r, 3)), [rec(0, 0), rec(0, 1)]);
}

/// Reference §3.8 Scenario B (KIP-101 "Scenario 2"): RF 2, [1, 2], acks=all. m0 (500 ms) and m1
/// (1.5 s) are committed and broker-1's HW checkpoint (every 100 ms) holds 2. Both brokers flush
/// every second, so at 1.9 s m1 is on neither disk. Broker-1's process crashes (the page cache
/// keeps m1); broker-2 loses power (it keeps m0 only). Broker-2 restarts at 2.5 s, registers once
/// its old session has expired (both are fenced at 4 s) and, the last ISR member, leads; "m2"
/// writes at 5.5 s, at offset 1. Broker-1 returns at 6 s with `0:m0 1:m1/e0` and HW 2.
fn scenario_b(rule: &str) -> Scenario {
    scenario(
        "7s",
        2,
        &format!(
            r#""broker.session.timeout.ms": 3000, "broker.heartbeat.interval.ms": 1000,
               "replica.high.watermark.checkpoint.interval.ms": 100, "log.flush.interval.ms": 1000,
               "kafkasim.truncation.rule": "{rule}""#
        ),
        &topic("[1, 2]", ""),
        &[
            producer("p1", "all", "", 2, "1/s", "500ms"),
            producer("m2", "all", "", 1, "1/s", "5500ms"),
        ],
        r#"(at: "1900ms", fault: Crash(broker: 1)),
           (at: "1900ms", fault: Crash(broker: 2, lose_unflushed: true)),
           (at: "2500ms", fault: Restart(broker: 2)), (at: "6s", fault: Restart(broker: 1))"#,
    )
}

/// Fidelity check 10: with the pre-0.11 rule broker-1 keeps m1 at offset 1 (it is below its HW)
/// while the leader has m2 there — divergent below both HWs, forever; with epoch truncation
/// broker-1 learns epoch 0 ends at 1, cuts m1 and copies m2: identical logs. (m1's loss itself
/// comes from broker-2's missing fsync, with either rule.)
#[test]
fn scenario_b_two_power_losses_leave_replicas_divergent_below_the_hw_with_hw_truncation_only() {
    let s = scenario_b("high-watermark");
    let mid = run_until(&s, ms(5000));
    assert_eq!(records(replica(&mid, 2)), [rec(0, 0)], "broker-2 lost m1");
    let r = run_text(&s, None);
    assert_eq!(records(replica(&r, 1)), [rec(0, 0), rec(0, 1)]);
    assert_eq!(records(replica(&r, 2)), [rec(0, 0), rec(1, 0)]);
    assert_eq!((offsets(&r, 1).1, offsets(&r, 2).1), (2, 2));
    assert_eq!(divergent_offsets(&r), [1]);
    // The only cut is broker-2's power loss (m1, at offset 1): the old rule truncates nothing.
    assert_eq!(cuts(&r), [(2, 1, vec![rec(0, 1)])]);

    let s = scenario_b("leader-epoch");
    let r = run_text(&s, None);
    assert!(divergent_offsets(&r).is_empty());
    for b in [1, 2] {
        assert_eq!(records(replica(&r, b)), [rec(0, 0), rec(1, 0)]);
    }
    assert_eq!(
        cuts(&r),
        [(2, 1, vec![rec(0, 1)]), (1, 1, vec![rec(0, 1)])],
        "broker-2's power loss, then broker-1's cut at the end of epoch 0"
    );
    assert_eq!(
        lost_acked(&s, &r),
        [rec(0, 1)],
        "m1 was never fsynced on broker-2"
    );
}

/// Reference §3.8 Scenario C, the sequence of `logsShouldNotDivergeOnUncleanLeaderElections` in
/// `EpochDrivenReplicationProtocolAcceptanceTest` (KIP-279): RF 2, [1, 2], unclean election on,
/// acks=1, one record per batch; stopping a broker is a crash, fenced 500 ms after its last
/// heartbeat; a broker that starts while the other is fenced is elected uncleanly when unfenced.
/// Producers a, b, cde, f, gh write the records of the same names. (The controller also bumps
/// the epoch on each election to "no leader", so the epochs are 0, 1, 3, 5, 7 rather than 0–4;
/// any increasing numbering gives the same result.)
fn scenario_c(rule: &str) -> Scenario {
    scenario(
        "8s",
        2,
        &format!(
            r#""broker.session.timeout.ms": 500, "broker.heartbeat.interval.ms": 100,
               "replica.high.watermark.checkpoint.interval.ms": 50,
               "unclean.leader.election.enable": true, "kafkasim.truncation.rule": "{rule}""#
        ),
        &topic("[1, 2]", ""),
        &[
            producer("a", "1", "", 1, "10/s", "100ms"),
            producer("b", "1", "", 1, "10/s", "1s"),
            producer("cde", "1", "", 3, "10/s", "2500ms"),
            producer("f", "1", "", 1, "10/s", "4500ms"),
            producer("gh", "1", "", 2, "10/s", "6500ms"),
        ],
        r#"(at: "300ms", fault: Crash(broker: 1)), (at: "1200ms", fault: Crash(broker: 2)),
           (at: "2s", fault: Restart(broker: 1)), (at: "3s", fault: Crash(broker: 1)),
           (at: "4s", fault: Restart(broker: 2)), (at: "5s", fault: Crash(broker: 2)),
           (at: "6s", fault: Restart(broker: 1)), (at: "7s", fault: Restart(broker: 2))"#,
    )
}

/// Fidelity check 10: with the pre-0.11 rule broker-2 truncates to its HW (3), keeps `b f` at
/// offsets 1–2 where broker-1 has `c d`, and copies from 3 on — divergent below the HW; with
/// KIP-279 it walks back epoch by epoch (to 2, then 1) and ends identical to the leader.
#[test]
fn scenario_c_fast_unclean_leader_changes_diverge_with_hw_truncation_and_not_with_epochs() {
    let (a, b, c, d, e, f, g, h) = (
        rec(0, 0),
        rec(1, 0),
        rec(2, 0),
        rec(2, 1),
        rec(2, 2),
        rec(3, 0),
        rec(4, 0),
        rec(4, 1),
    );
    let s = scenario_c("high-watermark");
    let before = run_until(&s, ms(6900));
    assert_eq!(records(replica(&before, 1)), [a, c, d, e, g, h]);
    assert_eq!(records(replica(&before, 2)), [a, b, f]);
    let lines = trace_lines(&before);
    assert_eq!(
        leader_changes(&lines)
            .iter()
            .map(|(_, l, e)| (*l, *e))
            .collect::<Vec<_>>(),
        [
            (Some(2), 1),
            (None, 2),
            (Some(1), 3),
            (None, 4),
            (Some(2), 5),
            (None, 6),
            (Some(1), 7)
        ]
    );
    let r = run_text(&s, None);
    assert_eq!(records(replica(&r, 1)), [a, c, d, e, g, h]);
    assert_eq!(records(replica(&r, 2)), [a, b, f, e, g, h]);
    assert_eq!(divergent_offsets(&r), [1, 2]);

    let s = scenario_c("leader-epoch");
    let r = run_text(&s, None);
    for broker in [1, 2] {
        assert_eq!(records(replica(&r, broker)), [a, c, d, e, g, h]);
    }
    assert!(divergent_offsets(&r).is_empty());
    let cuts: Vec<(u32, u64)> = r.history.truncations.iter().map(|t| (t.broker, t.to)).collect();
    assert_eq!(cuts, [(2, 2), (2, 1)], "two diverging-epoch rounds");
    assert_eq!(lost_acked(&s, &r), [b, f], "expected with unclean elections");
}

// ---------------------------------------------------------------------------------------------
// Zombie leader, controlled shutdown, pause, power loss (reference §3.6, §5)

/// Reference §5.3 row 3 and fidelity check 11: leader 1 is cut off from the controller and its
/// followers at 1 s, not from p1 (acks=1, a record every 200 ms) and p2 (acks=all, 5 records
/// from 1.1 s, `delivery.timeout.ms` 2.5 s); the cut heals at 8 s. The controller fences broker-1
/// at 3001.001 ms (its next heartbeat would have left at 1002 ms, into the cut) and elects broker-2 (`BrokerHeartbeatManager`, `PartitionChangeBuilder`); the
/// zombie does not know (`Partition.appendRecordsToLeader` checks only its own leader epoch),
/// keeps acking acks=1 writes that then vanish when it learns the new epoch and truncates, and
/// cannot commit acks=all writes: its followers do not fetch from it and its ISR shrink cannot
/// be committed (`AlterPartition` needs the controller).
#[test]
fn a_zombie_leader_acks_acks_one_writes_that_are_then_truncated_and_never_acks_acks_all() {
    let s = scenario(
        "12s",
        3,
        FAST,
        &topic("[1, 2, 3]", ""),
        &[
            producer("p1", "1", "", 20, "5/s", "100ms"),
            producer(
                "p2",
                "all",
                r#""request.timeout.ms": 1000, "delivery.timeout.ms": 2500"#,
                5,
                "5/s",
                "1100ms",
            ),
        ],
        r#"(at: "1s", fault: Partition(groups: [[Broker(1), Client("p1"), Client("p2")],
                                                [Broker(2), Broker(3), Controller]])),
           (at: "8s", fault: Heal)"#,
    );
    let r = run_text(&s, None);
    let lines = trace_lines(&r);
    assert_eq!(leader_changes(&lines), [(fenced_after(1), Some(2), 1)]);
    // p1's records from 1.1 s on were all acked, many after the fence, by broker-1 at epoch 0.
    for seq in 0..20 {
        assert!(acked_at(&r, 0, seq).is_some(), "p1#{seq}");
    }
    let zombie_acks = (5..20)
        .filter(|seq| acked_at(&r, 0, *seq).is_some_and(|t| t > fenced_after(1)))
        .count();
    assert!(zombie_acks >= 4, "{zombie_acks}");
    assert!(
        r.history
            .appends
            .iter()
            .filter(|a| a.broker == 1)
            .all(|a| a.leader_epoch == 0)
    );
    // They are lost: broker-1 truncated them when it learned of epoch 1, after the heal.
    let lost = lost_acked(&s, &r);
    assert_eq!(lost, (5..20).map(|seq| rec(0, seq)).collect::<Vec<_>>());
    let cut: Vec<_> = r.history.truncations.iter().filter(|t| t.broker == 1).collect();
    assert_eq!(cut.len(), 1);
    assert!(cut[0].at > ms(8000));
    assert!(lost.iter().all(|rc| cut[0].records.contains(*rc)));
    // p2 got no ack at all: every record failed, none is in the final log.
    for seq in 0..5 {
        assert!(
            matches!(outcome(&r, 1, seq), Outcome::Failed { .. }),
            "p2#{seq}: {:?}",
            outcome(&r, 1, seq)
        );
    }
    assert!(records(&r.logs[&T0]).iter().all(|rc| rc.producer == 0));
    // Broker-1's shrink proposal never committed.
    assert!(
        isr_proposals(&lines, "broker-1")
            .iter()
            .any(|(_, why, _)| *why == "shrink")
    );
    assert!(
        isr_changes(&lines).iter().all(|(_, isr)| isr != &[1]),
        "never committed: {:?}",
        isr_changes(&lines)
    );
    assert!(divergent_offsets(&r).is_empty());
}

/// Controlled shutdown of leader 1 at 1 s, with p1 writing acks=all (min ISR 2) every 100 ms;
/// `restart` says when broker-1 comes back.
fn controlled_shutdown(restart: &str) -> Scenario {
    scenario(
        "9s",
        3,
        &format!(r#"{FAST}, "min.insync.replicas": 2"#),
        &topic("[1, 2, 3]", ""),
        &[producer("p1", "all", "", 20, "10/s", "100ms")],
        &format!(
            r#"(at: "1s", fault: ControlledShutdown(broker: 1)), (at: "{restart}", fault: Restart(broker: 1))"#
        ),
    )
}

/// Reference §3.6 and §5.2 step 5 (`BrokerHeartbeatManager` CONTROLLED_SHUTDOWN state,
/// `ReplicationControlManager.handleBrokerInControlledShutdown`): the controller moves leadership
/// away (clean rule) and takes the broker out of the ISR before it may stop; no acked acks=all
/// record is lost; after a restart it registers, is unfenced, catches up and rejoins the ISR.
#[test]
fn a_controlled_shutdown_moves_leadership_before_the_broker_stops_and_a_restart_rejoins_the_isr() {
    let s = controlled_shutdown("5s");
    let r = run_text(&s, None);
    let lines = trace_lines(&r);
    let asked = fault_time(&lines, "ControlledShutdown(");
    let changes = leader_changes(&lines);
    assert_eq!(changes[0], (after(asked, 1), Some(2), 1));
    assert_eq!(isr_changes(&lines)[0], (after(asked, 1), vec![2, 3]));
    // The broker stops only after that: the first message that finds it down comes later.
    let stopped = lines
        .iter()
        .find(|l| l.node == "broker-1" && l.kind == "drop" && l.detail.ends_with("(node is down)"))
        .expect("broker-1 stops")
        .at;
    assert!(stopped > changes[0].0);
    // The new leader takes the writes; nothing acked is lost.
    assert!(
        r.history
            .appends
            .iter()
            .any(|a| a.broker == 2 && a.leader_epoch == 1)
    );
    assert!((0..20).all(|seq| acked_at(&r, 0, seq).is_some()));
    assert!(lost_acked(&s, &r).is_empty());
    // After the restart broker-1 is unfenced, catches up and is back in the ISR.
    let unfenced = lines_of(&lines, "controller", "unfence");
    assert!(unfenced.iter().any(|l| l.at > ms(5000)));
    let (rejoined, isr) = isr_changes(&lines).last().cloned().expect("ISR changes");
    assert!(rejoined > ms(5000));
    assert!(isr.contains(&1), "{isr:?}");
    assert_eq!(records(replica(&r, 1)), records(replica(&r, 2)));
}

/// Reference §3.1 "Registration" (`ClusterControlManager.registerBroker` writes a fenced
/// registration; `BrokerHeartbeatManager.register` → `touch`: "If a broker is fenced, it leaves
/// controlled shutdown"): a restarted broker registers afresh — new incarnation, new broker
/// epoch — which ends its controlled shutdown state; it is unfenced once caught up with the
/// metadata and may rejoin ISRs, however soon after the shutdown it restarts.
#[test]
fn a_broker_restarted_soon_after_a_controlled_shutdown_rejoins_the_isr() {
    // Restart at 2 s: before the controller would fence the stopped broker (last heartbeat at
    // about 1 s, session timeout 3 s).
    let s = controlled_shutdown("2s");
    let r = run_text(&s, None);
    let st = state(&r);
    assert!(st.isr.contains(&1), "ISR {:?}", st.isr);
    assert!(r.metadata.live_brokers.contains(&1));
}

/// Reference §5.1–5.2: a broker that stops closes its sockets (the process exits), so clients
/// see a disconnect at once (`NetworkClient` fails in-flight requests, refreshes metadata and
/// retries on the new leader) rather than waiting for `request.timeout.ms`.
#[test]
fn a_broker_that_stops_after_a_controlled_shutdown_closes_its_connections() {
    // With the default request.timeout.ms (30 s), a client that is not told waits that long.
    let s = controlled_shutdown("8s");
    let r = run_text(&s, None);
    let lines = trace_lines(&r);
    let asked = fault_time(&lines, "ControlledShutdown(");
    assert!(
        lines_of(&lines, "p1", "disconnect")
            .iter()
            .any(|l| l.detail.starts_with("broker-1") && l.at > asked && l.at < after(asked, 10)),
        "p1 learns at once that broker-1 stopped"
    );
    assert!(lines_of(&lines, "p1", "timeout").is_empty());
    assert!((0..20).all(|seq| acked_at(&r, 0, seq).is_some()));
}

/// `ReplicationControlManager.processBrokerHeartbeat`: when a broker's controlled shutdown
/// completes (next state SHUTDOWN_NOW) the controller fences it right away (`handleBrokerFenced`),
/// rather than `broker.session.timeout.ms` after its last heartbeat; that is also why it may
/// re-register at once (`ClusterControlManager.registerBroker` refuses a new incarnation only
/// while an unfenced session is valid).
#[test]
fn a_broker_that_completes_a_controlled_shutdown_is_fenced_when_it_stops() {
    let s = controlled_shutdown("8s");
    let r = run_text(&s, None);
    let lines = trace_lines(&r);
    let asked = fault_time(&lines, "ControlledShutdown(");
    let fences = lines_of(&lines, "controller", "fence");
    assert_eq!(fences.len(), 1, "{fences:?}");
    assert!(fences[0].detail.starts_with("broker-1"));
    assert!(fences[0].at < after(asked, 10), "{:?}", fences[0]);
}

/// Reference §3.1 and §5.3 (`BrokerHeartbeatManager`: a broker silent for
/// `broker.session.timeout.ms` is fenced and its leaderships move; its next heartbeat, once it
/// has the metadata, unfences it; it then follows, truncates by epoch and catches up). Leader 1
/// is paused 5 s from 1 s (a long GC pause); p1 writes acks=all with min ISR 2.
#[test]
fn a_broker_paused_past_the_session_timeout_is_fenced_and_rejoins_as_a_follower_when_it_resumes() {
    let s = scenario(
        "10s",
        3,
        &format!(r#"{FAST}, "min.insync.replicas": 2"#),
        &topic("[1, 2, 3]", ""),
        &[producer(
            "p1",
            "all",
            r#""request.timeout.ms": 1000"#,
            30,
            "5/s",
            "100ms",
        )],
        r#"(at: "1s", fault: Pause(node: Broker(1), for: "5s"))"#,
    );
    let r = run_text(&s, None);
    let lines = trace_lines(&r);
    // Its heartbeat due at 1002 ms waits with it: the last one arrived at 1 ms.
    let fences = lines_of(&lines, "controller", "fence");
    assert_eq!(fences.len(), 1);
    assert_eq!(
        (fences[0].at, fences[0].detail.starts_with("broker-1")),
        (fenced_after(1), true)
    );
    assert_eq!(leader_changes(&lines), [(fenced_after(1), Some(2), 1)]);
    let unfenced = lines_of(&lines, "controller", "unfence");
    assert_eq!(unfenced.len(), 1);
    assert!(unfenced[0].at >= ms(6000) && unfenced[0].at <= ms(6002));
    let (rejoined, isr) = isr_changes(&lines).last().cloned().expect("ISR changes");
    assert!(rejoined > ms(6000));
    assert!(isr.contains(&1), "{isr:?}");
    let st = state(&r);
    assert_eq!((st.leader, st.leader_epoch), (Some(2), 1));
    assert_eq!(records(replica(&r, 1)), records(replica(&r, 2)));
    assert!((0..30).all(|seq| acked_at(&r, 0, seq).is_some()));
    assert!(lost_acked(&s, &r).is_empty());
}

/// Reference §5.1 (`LogConfig` `flush.messages`, `UnifiedLog.flush`; defaults never fsync on the
/// write path) and §5.2 (log recovery keeps what is on disk): a power loss keeps only flushed
/// data. One broker, RF 1; five acked records; power loss at 1 s, restart at 1.5 s. The restart
/// registers only once the old session has expired (fenced at 4 s, `ClusterControlManager`
/// refuses a new incarnation before), then leads again.
fn power_loss(flush: &str) -> Scenario {
    scenario(
        "6s",
        1,
        r#""broker.session.timeout.ms": 3000, "broker.heartbeat.interval.ms": 1000"#,
        &topic("[1]", flush),
        &[producer("p1", "all", "", 5, "10/s", "100ms")],
        r#"(at: "1s", fault: Crash(broker: 1, lose_unflushed: true)), (at: "1500ms", fault: Restart(broker: 1))"#,
    )
}

#[test]
fn a_power_loss_keeps_everything_with_flush_messages_one_and_loses_the_unflushed_log_by_default() {
    let s = power_loss(r#""flush.messages": 1"#);
    let r = run_text(&s, None);
    assert_eq!(offsets(&r, 1), (5, 5));
    assert!(lost_acked(&s, &r).is_empty());

    let s = power_loss("");
    let before = run_until(&s, ms(999));
    assert_eq!(offsets(&before, 1), (5, 5));
    let r = run_text(&s, None);
    assert_eq!(offsets(&r, 1), (0, 0), "nothing was ever fsynced");
    assert_eq!(
        lost_acked(&s, &r),
        (0..5).map(|seq| rec(0, seq)).collect::<Vec<_>>()
    );
    // Not a truncation by replication: the power loss itself, recorded as what it took.
    assert_eq!(cuts(&r), [(1, 0, (0..5).map(|seq| rec(0, seq)).collect())]);
    assert_eq!(r.history.truncations[0].at, ms(1000));
    assert_eq!(r.history.truncations[0].why, "power loss: what was not flushed");
}

// ---------------------------------------------------------------------------------------------
// Purgatory timing

/// Reference §2.2 step 5 and §2.5 (`ReplicaManager.fetchMessages` parks a follower fetch with
/// `delayedFetchPurgatory.tryCompleteElseWatch`; `DelayedFetch` completes as soon as new data is
/// appended; a produce queued on a muted connection is read by the network thread only after the
/// previous response is sent, i.e. after the fetch that committed it was parked). Two acks=all
/// records sent 1 ms apart on one connection: the second must reach both followers right after
/// it is appended, not `replica.fetch.wait.max.ms` (500 ms) later.
#[test]
fn a_produce_queued_behind_an_acks_all_produce_reaches_the_followers_at_once() {
    let s = scenario(
        "2s",
        3,
        "",
        &topic("[1, 2, 3]", ""),
        &[producer("p1", "all", "", 2, "1000/s", "100ms")],
        "",
    );
    let r = run_text(&s, None);
    let lines = trace_lines(&r);
    let appended = lines_of(&lines, "broker-1", "append")[1].at;
    for f in ["broker-2", "broker-3"] {
        let (t, _) = *replicated(&lines, f)
            .iter()
            .find(|(_, leo)| *leo == 2)
            .expect("copied");
        assert!(
            t <= after(appended, 3),
            "{f} copied offset 1 at {t}, appended at {appended}"
        );
    }
    let acked = acked_at(&r, 0, 1).expect("acked");
    assert!(acked <= after(appended, 5), "acked at {acked}");
}

/// Reference §3.2 and §6 (`Sender.completeBatch`: NOT_LEADER_OR_FOLLOWER is retriable and asks
/// for a metadata update; `AbstractFetch.handleFetchSuccess` does the same for a fetch): clients
/// learn of a leader change only from an error or a refresh. Leader 1 crashes at 1 s (fenced just
/// after 3 s) and returns at 5 s; the preferred election 3 s after the failover moves
/// leadership back to it while p1 and c1 still
/// believe broker-2 leads, so broker-2 answers both with NOT_LEADER_OR_FOLLOWER; they refresh,
/// go to broker-1, and nothing is lost or missed.
#[test]
fn clients_with_stale_metadata_get_not_leader_or_follower_refresh_and_go_on_with_the_new_leader() {
    let s = parse_scenario(
        "stale.ron",
        &format!(
            r#"Scenario(
                name: "stale", description: "x", seed: 1, duration: "10s",
                cluster: (brokers: 3, network: (latency: "1ms"),
                          config: {{ {FAST}, "leader.imbalance.check.interval.seconds": 3 }}),
                topics: [ {} ],
                producers: [ {} ],
                consumers: [ (id: "c1", topics: ["t"], config: {{ "auto.offset.reset": "earliest" }}) ],
                faults: [ (at: "1s", fault: Crash(broker: 1)), (at: "5s", fault: Restart(broker: 1)) ],
            )"#,
            topic("[1, 2, 3]", ""),
            producer("p1", "all", "", 90, "10/s", "100ms"),
        ),
    );
    let r = run_text(&s, None);
    let lines = trace_lines(&r);
    let changes = leader_changes(&lines);
    assert_eq!(changes.len(), 2, "{changes:?}");
    assert_eq!((changes[0].1, changes[1].1), (Some(2), Some(1)));
    let back = changes[1].0;
    // The producer's attempts still going to broker-2 are refused once it has moved.
    let refused: Vec<_> = r.history.producers[0]
        .batches
        .iter()
        .flat_map(|b| b.attempts.iter())
        .filter_map(|a| match a.error {
            Some((at, ErrorCode::NotLeaderOrFollower)) => Some((a.broker, at)),
            _ => None,
        })
        .collect();
    assert!(
        !refused.is_empty() && refused.iter().all(|&(broker, at)| broker == 2 && at > back),
        "{refused:?}"
    );
    let consumer_errors = lines_of(&lines, "c1", "error");
    assert!(
        consumer_errors
            .iter()
            .any(|l| l.at > back && l.detail.contains("NOT_LEADER_OR_FOLLOWER")),
        "{consumer_errors:?}"
    );
    // Both went on with broker-1: every record acked, read, and nothing lost.
    assert!((0..90).all(|seq| acked_at(&r, 0, seq).is_some()));
    assert!(r.history.appends.iter().any(|a| a.broker == 1 && a.at > back));
    // c1 reads the whole log, every record at least once. (The batch broker-2 refused had reached
    // broker-1 before it led: without idempotence its retry is a second copy, read twice.)
    assert_eq!(r.history.consumed.len() as u64, offsets(&r, 1).0);
    let distinct: std::collections::BTreeSet<RecordId> =
        r.history.consumed.iter().map(|c| c.record).collect();
    assert_eq!(distinct.len(), 90);
    assert!(lost_acked(&s, &r).is_empty());
}

/// Reference §3.1 "Registration" (`ClusterControlManager.registerBroker`): a restarted broker
/// registers a new incarnation, which the controller refuses with DUPLICATE_BROKER_REGISTRATION
/// while the old session is valid. So a leader that lost its unflushed log to a power loss at
/// 1.5 s and restarts at 2 s does not come back as the leader of its old epoch with an empty log:
/// it is fenced at about 4 s (last heartbeat at 1 s), broker-2 takes over with every acked
/// record, and broker-1 registers at its next try, follows and catches up.
#[test]
fn a_broker_restarted_within_its_session_is_refused_until_fenced_and_then_follows() {
    let s = scenario(
        "8s",
        3,
        FAST,
        &topic("[1, 2, 3]", ""),
        &[producer("p1", "all", "", 20, "10/s", "100ms")],
        r#"(at: "1500ms", fault: Crash(broker: 1, lose_unflushed: true)),
           (at: "2s", fault: Restart(broker: 1))"#,
    );
    let r = run_text(&s, None);
    let lines = trace_lines(&r);
    let refused = lines_of(&lines, "controller", "refuse");
    let fenced = lines_of(&lines, "controller", "fence");
    let unfenced = lines_of(&lines, "controller", "unfence");
    assert!(!refused.is_empty() && refused.iter().all(|l| l.detail.starts_with("broker-1 ")));
    assert_eq!(fenced.len(), 1, "{fenced:?}");
    assert!(refused.iter().all(|l| l.at < fenced[0].at));
    assert!(
        unfenced.len() == 1 && unfenced[0].at >= fenced[0].at,
        "{unfenced:?}"
    );
    assert_eq!(leader_changes(&lines), [(fenced[0].at, Some(2), 1)]);
    assert!(lost_acked(&s, &r).is_empty());
    assert!((0..20).all(|seq| acked_at(&r, 0, seq).is_some()));
    let st = state(&r);
    assert_eq!(st.isr.len(), 3, "broker-1 is back in the ISR: {:?}", st.isr);
    assert_eq!(records(replica(&r, 1)), records(replica(&r, 2)));
}

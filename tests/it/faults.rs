//! Every fault and every trigger, each shown end to end on a tiny inline scenario, by what a run
//! records (history, final logs and metadata, checker findings) and what its trace says.

use crate::support::{TraceLine, fault_time, lines_of, ms, parse_scenario, run_text, trace_lines};
use kafkasim::check::check;
use kafkasim::history::{Outcome, ProducerHistory};
use kafkasim::kafka::protocol::ErrorCode;
use kafkasim::kafka::record::{RecordId, Tp};
use kafkasim::report::summary;
use kafkasim::scenario::Scenario;
use kafkasim::sim::{SimDuration, SimTime};
use kafkasim::simulation::{RunOptions, RunResult, run};
use kafkasim::trace::TraceFormat;

const T0: Tp = Tp {
    topic: 0,
    partition: 0,
};

fn p1(r: &RunResult) -> &ProducerHistory {
    &r.history.producers[0]
}

fn rec(seq: u32) -> RecordId {
    RecordId { producer: 0, seq }
}

/// When each of p1's records was acknowledged (`None`: it was not).
fn acked_at(r: &RunResult) -> Vec<Option<SimTime>> {
    p1(r)
        .records
        .iter()
        .map(|h| match h.outcome() {
            Outcome::Acked { at, .. } => Some(at),
            _ => None,
        })
        .collect()
}

/// Ack time minus send() time of each of p1's acknowledged records, in microseconds.
fn latencies_us(r: &RunResult) -> Vec<u64> {
    p1(r)
        .records
        .iter()
        .map(|h| match (h.sent_at(), h.outcome()) {
            (Some(sent), Outcome::Acked { at, .. }) => at.since(sent).as_us(),
            other => panic!("record not acked: {other:?}"),
        })
        .collect()
}

/// The records of a partition's final log, in offset order.
fn log_records(r: &RunResult, tp: Tp) -> Vec<RecordId> {
    r.logs[&tp]
        .batches()
        .flat_map(|b| b.records.iter().copied())
        .collect()
}

/// Asserts every one of p1's `n` records is acked and in the log of `tp` exactly once.
fn assert_all_acked_once(r: &RunResult, tp: Tp, n: u32) {
    let acked = acked_at(r);
    assert!(acked.iter().all(Option::is_some), "not all acked: {acked:?}");
    let mut log = log_records(r, tp);
    log.sort();
    assert_eq!(
        log,
        (0..n).map(rec).collect::<Vec<_>>(),
        "each record once in the log"
    );
}

fn in_window(t: SimTime, from: SimTime, to: SimTime) -> bool {
    from <= t && t < to
}

// ---------------------------------------------------------------------------------------------
// Isolate, Partition, Heal

/// One broker leading `t-0`; p1 sends 5 records, one every 10 ms from 50 ms; `faults` from the
/// test. Short request and connection-setup timeouts so a cut shows quickly.
fn one_leader(brokers: u32, broker_config: &str, faults: &str) -> Scenario {
    parse_scenario(
        "one-leader.ron",
        &format!(
            r#"Scenario(
                name: "one-leader", description: "x", seed: 1, duration: "3s",
                cluster: (brokers: {brokers}, config: {{ {broker_config} }}, network: (latency: "1ms")),
                topics: [ (name: "t", partitions: 1, assignment: [[1]]) ],
                producers: [
                    (id: "p1",
                     config: {{ "acks": "1", "enable.idempotence": false, "linger.ms": 0,
                                "request.timeout.ms": 300, "delivery.timeout.ms": 5000,
                                "socket.connection.setup.timeout.ms": 200 }},
                     workload: (topic: "t", records: 5, rate: "100/s", start: "50ms")),
                ],
                faults: [ {faults} ],
            )"#
        ),
    )
}

/// Asserts the cut from 60 ms to 1 s: p1's requests to broker-1 in the cut time out after
/// `request.timeout.ms` (300 ms) and are retried, nothing is appended while cut, and after `Heal`
/// every record is acked and in the log once.
fn assert_cut_then_healed(r: &RunResult) {
    let lines = trace_lines(r);
    let (cut, heal) = (fault_time(&lines, "Isolate("), fault_time(&lines, "Heal"));
    assert_eq!((cut, heal), (ms(60), ms(1000)));
    let ph = p1(r);
    // Batches 1..=4 were sent into the cut: the oldest at 60 ms, so all fail at 360 ms.
    for id in 1..=4 {
        let b = ph.batch(id).expect("sent");
        assert!(in_window(b.attempts[0].at, cut, heal), "batch {id}: {b:?}");
        assert_eq!(
            b.attempts[0].error,
            Some((ms(360), ErrorCode::RequestTimedOut)),
            "batch {id}: {b:?}"
        );
        assert!(!b.retried_on.is_empty(), "batch {id} was retried: {b:?}");
    }
    let timeouts = lines_of(&lines, "p1", "timeout");
    assert_eq!(timeouts.len(), 1, "{timeouts:?}");
    assert_eq!(timeouts[0].at, ms(360));
    assert!(timeouts[0].detail.contains("to broker-1"), "{timeouts:?}");
    assert!(
        r.history.appends.iter().all(|a| !in_window(a.at, cut, heal)),
        "nothing is appended while the leader is cut off: {:?}",
        r.history.appends
    );
    let acked = acked_at(r);
    for (seq, at) in acked.iter().enumerate().skip(1) {
        assert!(at.is_some_and(|t| t > heal), "p1#{seq} acked after Heal: {at:?}");
    }
    assert_all_acked_once(r, T0, 5);
}

#[test]
fn isolating_the_leader_times_its_requests_out_and_heal_lets_them_through() {
    let s = one_leader(
        1,
        "",
        r#"(at: "60ms", fault: Isolate(node: Broker(1))), (at: "1s", fault: Heal)"#,
    );
    let r = run_text(&s, None);
    assert_cut_then_healed(&r);
    let lines = trace_lines(&r);
    // Requests wait on the cut link, as TCP keeps retransmitting them; the client gives up on
    // the connection first, so at Heal they belong to a closed connection and are dropped.
    assert!(
        lines
            .iter()
            .any(|l| l.kind == "held" && l.detail.contains("p1 -> broker-1 Produce")),
        "requests are held on the cut link"
    );
    assert!(
        lines.iter().any(|l| l.kind == "drop"
            && l.at == ms(1000)
            && l.detail.contains("p1 -> broker-1 Produce")
            && l.detail.ends_with("(connection closed)")),
        "at Heal, requests of the closed connection are dropped"
    );
    let setup_failures: Vec<_> = lines_of(&lines, "p1", "conn-fail")
        .into_iter()
        .filter(|l| l.at < ms(1000))
        .collect();
    assert!(!setup_failures.is_empty(), "reconnecting fails while isolated");
    assert!(
        setup_failures
            .iter()
            .all(|l| l.detail.contains("socket.connection.setup.timeout.ms")),
        "{setup_failures:?}"
    );
    let connected = lines_of(&lines, "p1", "connected");
    assert!(
        connected.iter().all(|l| !in_window(l.at, ms(60), ms(1000))),
        "no connection while isolated: {connected:?}"
    );
}

#[test]
fn a_partition_cuts_the_producer_off_the_leader_but_spares_the_unnamed_controller() {
    // broker-1 is alone on its side; p1 and broker-2 on the other; the controller is in no group.
    // The cut (940 ms) lasts longer than broker.session.timeout.ms (300 ms).
    let s = one_leader(
        2,
        r#""broker.heartbeat.interval.ms": 100, "broker.session.timeout.ms": 300"#,
        r#"(at: "60ms", fault: Partition(groups: [[Broker(1)], [Client("p1"), Broker(2)]])),
           (at: "1s", fault: Heal)"#,
    );
    let r = run_text(&s, None);
    let lines = trace_lines(&r);
    assert_eq!(fault_time(&lines, "Partition("), ms(60));
    // Same effect on p1 as isolating the leader ...
    let ph = p1(&r);
    for id in 1..=4 {
        assert_eq!(
            ph.batch(id).expect("sent").attempts[0].error,
            Some((ms(360), ErrorCode::RequestTimedOut)),
            "batch {id}"
        );
    }
    assert!(
        r.history
            .appends
            .iter()
            .all(|a| !in_window(a.at, ms(60), ms(1000)))
    );
    // ... but p1 still reaches broker-2, on its own side ...
    assert!(
        lines_of(&lines, "p1", "connected")
            .iter()
            .any(|l| l.detail == "broker-2" && in_window(l.at, ms(60), ms(1000))),
        "p1 reaches broker-2 during the partition"
    );
    // ... and broker-1 keeps heartbeating to the controller, which is in no group: not fenced.
    assert!(
        !lines.iter().any(|l| l.kind == "fence"),
        "the controller keeps its links and does not fence broker-1"
    );
    let state = r.metadata.partition(T0).expect("t-0");
    assert_eq!((state.leader, state.leader_epoch), (Some(1), 0));
    // Heal restores the link.
    assert!(
        acked_at(&r)
            .iter()
            .skip(1)
            .all(|t| t.is_some_and(|t| t > ms(1000)))
    );
    assert_all_acked_once(&r, T0, 5);
}

#[test]
fn a_partition_that_puts_the_controller_on_the_other_side_fences_the_broker() {
    // The same cut, with the controller named on p1's side: broker-1's heartbeats stop.
    let s = one_leader(
        2,
        r#""broker.heartbeat.interval.ms": 100, "broker.session.timeout.ms": 300"#,
        r#"(at: "60ms", fault: Partition(groups: [[Broker(1)], [Client("p1"), Broker(2), Controller]])),
           (at: "1s", fault: Heal)"#,
    );
    let r = run_text(&s, None);
    let lines = trace_lines(&r);
    let fenced = lines_of(&lines, "controller", "fence");
    assert_eq!(fenced.len(), 1, "{fenced:?}");
    assert!(fenced[0].detail.starts_with("broker-1"));
    // A heartbeat leaves 100 ms after the previous answer: the one at 0 ms arrives at 1 ms, the
    // next would leave at 102 ms, into the cut. The controller fences broker-1 the tick after
    // broker.session.timeout.ms since 1 ms.
    let fence_at = ms(301) + SimDuration::from_us(1);
    assert_eq!(fenced[0].at, fence_at, "{fenced:?}");
    let offline = lines_of(&lines, "controller", "leader");
    assert_eq!(offline[0].at, fence_at);
    assert_eq!(offline[0].detail, "t-0 -> none epoch 1");
    // After Heal broker-1 heartbeats again and leads t-0 with a new epoch.
    assert!(
        lines_of(&lines, "controller", "unfence")
            .iter()
            .any(|l| l.at >= ms(1000))
    );
    let state = r.metadata.partition(T0).expect("t-0");
    assert_eq!((state.leader, state.leader_epoch), (Some(1), 2));
    assert_all_acked_once(&r, T0, 5);
}

#[test]
fn a_message_lost_to_a_cut_link_holds_back_everything_behind_it_on_its_connection() {
    // p1 is cut off for 20 ms: requests 2 and 3 (p1#1, p1#2) meet the cut link; requests 4..6
    // (p1#3..p1#5) leave after Heal on the same connection. A TCP connection delivers in order
    // or not at all, so the broker cannot append p1#3 before p1#1 and p1#2 got through, and
    // none of them is appended twice.
    let s = parse_scenario(
        "blip.ron",
        r#"Scenario(
            name: "blip", description: "x", seed: 1, duration: "2s",
            cluster: (brokers: 1, network: (latency: "1ms")),
            topics: [ (name: "t", partitions: 1) ],
            producers: [
                (id: "p1",
                 config: { "acks": "1", "enable.idempotence": false, "linger.ms": 0,
                           "request.timeout.ms": 300, "retries": 3 },
                 workload: (topic: "t", records: 6, rate: "100/s", start: "50ms")),
            ],
            faults: [ (at: "55ms", fault: Isolate(node: Client("p1"))), (at: "75ms", fault: Heal) ],
        )"#,
    );
    let r = run_text(&s, None);
    // Until p1 closes the connection (request timeout of req 2 at 360 ms), what the broker
    // appends from it must be a prefix, in send order, of what p1 sent on it.
    let first_connection: Vec<u32> = r
        .history
        .appends
        .iter()
        .filter(|a| in_window(a.at, ms(55), ms(360)))
        .flat_map(|a| a.records.iter().map(|r| r.seq))
        .collect();
    let sent_on_it = [1, 2, 3, 4, 5];
    assert_eq!(
        first_connection,
        sent_on_it[..first_connection.len()],
        "appended out of the connection's order"
    );
    assert!(check(&s, &r).duplicates.is_empty());
    assert_all_acked_once(&r, T0, 6);
}

// ---------------------------------------------------------------------------------------------
// SlowLink, and Heal removing it

/// p1 sends one record every 200 ms from 100 ms (no request overlaps another), 200 µs jitter;
/// a 50 ms `SlowLink` between broker-1 and p1 at 1 s.
fn slow_link(records: u32, heal: &str) -> Scenario {
    parse_scenario(
        "slow.ron",
        &format!(
            r#"Scenario(
                name: "slow", description: "x", seed: 1, duration: "3s",
                cluster: (brokers: 1, network: (latency: "1ms", jitter: "200us")),
                topics: [ (name: "t", partitions: 1) ],
                producers: [
                    (id: "p1", config: {{ "acks": "1", "enable.idempotence": false, "linger.ms": 0 }},
                     workload: (topic: "t", records: {records}, rate: "5/s", start: "100ms")),
                ],
                faults: [
                    (at: "1s", fault: SlowLink(nodes: (Broker(1), Client("p1")), extra_latency: "50ms")),
                    {heal}
                ],
            )"#
        ),
    )
}

/// Latency of a produce round trip on a 1 ms link with up to 200 µs jitter each way.
fn plain_round_trip(us: u64) -> bool {
    (2_000..=2_400).contains(&us)
}

#[test]
fn a_slow_link_adds_twice_its_extra_latency_to_each_produce_round_trip() {
    let r = run_text(&slow_link(10, ""), None);
    // Records 0..=4 are sent before the fault (100..900 ms), 5..=9 after (1100..1900 ms).
    let lat = latencies_us(&r);
    let (before, after) = lat.split_at(5);
    assert!(before.iter().all(|us| plain_round_trip(*us)), "{before:?}");
    assert!(
        after.iter().all(|us| plain_round_trip(us - 100_000)),
        "request and response each take 50 ms more: {after:?}"
    );
    let mean = |v: &[u64]| v.iter().sum::<u64>() / v.len() as u64;
    let rise = mean(after) - mean(before);
    assert!((99_600..=100_400).contains(&rise), "mean rise {rise} us");
}

#[test]
fn heal_removes_a_slow_link() {
    let r = run_text(&slow_link(12, r#"(at: "1850ms", fault: Heal),"#), None);
    let lat = latencies_us(&r);
    // Before the fault, under it (1100..1700 ms), and after Heal (1900..2300 ms).
    assert!(lat[..5].iter().all(|us| plain_round_trip(*us)), "{lat:?}");
    assert!(lat[5..9].iter().all(|us| *us > 100_000), "{lat:?}");
    assert!(lat[9..].iter().all(|us| plain_round_trip(*us)), "{lat:?}");
}

// ---------------------------------------------------------------------------------------------
// DropResponses, DropRequests

/// p1 sends 6 records, one every 5 ms from 50 ms, each in its own request (acks=1, up to 5 in
/// flight); `fault` fires at 49 ms.
fn drops(retries: u32, fault: &str) -> Scenario {
    parse_scenario(
        "drops.ron",
        &format!(
            r#"Scenario(
                name: "drops", description: "x", seed: 1, duration: "2s",
                cluster: (brokers: 1, network: (latency: "1ms")),
                topics: [ (name: "t", partitions: 1) ],
                producers: [
                    (id: "p1",
                     config: {{ "acks": "1", "enable.idempotence": false, "linger.ms": 0,
                                "retries": {retries}, "request.timeout.ms": 300,
                                "delivery.timeout.ms": 1500 }},
                     workload: (topic: "t", records: 6, rate: "200/s", start: "50ms")),
                ],
                faults: [ (at: "49ms", fault: {fault}) ],
            )"#
        ),
    )
}

#[test]
fn a_dropped_response_gets_its_batch_appended_twice_and_kills_the_connection() {
    let s = drops(3, r#"DropResponses(broker: 1, client: "p1", count: 1)"#);
    let r = run_text(&s, None);
    let lines = trace_lines(&r);
    // Batch 0 was appended, its response lost; it times out after request.timeout.ms and its
    // retry appends it again.
    let report = check(&s, &r);
    let dups: Vec<RecordId> = report.duplicates.iter().map(|f| f.record).collect();
    assert_eq!(dups, [rec(0)], "only the batch whose response was lost");
    let ph = p1(&r);
    assert_eq!(
        ph.batch(0).expect("sent").attempts[0].error,
        Some((ms(350), ErrorCode::RequestTimedOut))
    );
    let copies: Vec<_> = r
        .history
        .appends
        .iter()
        .filter(|a| a.records.contains(rec(0)))
        .map(|a| a.at)
        .collect();
    assert_eq!(copies.len(), 2);
    assert!(copies[0] < ms(350) && copies[1] > ms(350), "{copies:?}");
    // The connection is silently dead: the requests sent on it after the lost response are lost
    // too, and time out with it; they reach the log once, after the reconnect.
    let dead: Vec<_> = lines
        .iter()
        .filter(|l| l.kind == "drop" && l.detail.ends_with("(connection silently dead)"))
        .collect();
    assert_eq!(dead.len(), 4, "{dead:?}");
    for id in 1..=4 {
        assert_eq!(
            ph.batch(id).expect("sent").attempts[0].error,
            Some((ms(350), ErrorCode::RequestTimedOut)),
            "batch {id}"
        );
    }
    assert!(
        r.history
            .appends
            .iter()
            .filter(|a| a.at < ms(350))
            .all(|a| a.records.to_vec() == [rec(0)]),
        "only batch 0 got through before the timeout"
    );
    let mut log = log_records(&r, T0);
    log.sort();
    assert_eq!(log, [0, 0, 1, 2, 3, 4, 5].map(rec));
    assert!(acked_at(&r).iter().all(Option::is_some));
    assert!(report.lost_acked.is_empty());
}

#[test]
fn with_retries_off_a_dropped_response_fails_a_batch_that_is_in_the_log() {
    let s = drops(0, r#"DropResponses(broker: 1, client: "p1", count: 1)"#);
    let r = run_text(&s, None);
    let h = p1(&r).records[0];
    assert_eq!(
        h.outcome(),
        Outcome::Failed {
            at: ms(350),
            error: ErrorCode::RequestTimedOut
        }
    );
    assert_eq!(log_records(&r, T0)[0], rec(0), "the broker did append it");
    assert!(check(&s, &r).duplicates.is_empty());
}

#[test]
fn drop_requests_with_count_two_drops_one_request_on_each_of_two_connections() {
    let s = drops(3, r#"DropRequests(broker: 1, client: "p1", count: 2)"#);
    let r = run_text(&s, None);
    let lines = trace_lines(&r);
    let dropped: Vec<&TraceLine> = lines
        .iter()
        .filter(|l| l.kind == "drop" && l.detail.ends_with("(DropRequests fault)"))
        .collect();
    assert_eq!(dropped.len(), 2, "{dropped:?}");
    // Each kills its connection: two request timeouts, and p1 reconnects between the drops.
    let timeouts = lines_of(&lines, "p1", "timeout");
    assert_eq!(timeouts.len(), 2, "{timeouts:?}");
    assert!(dropped[0].at < timeouts[0].at && timeouts[0].at < dropped[1].at);
    assert!(
        lines_of(&lines, "p1", "connected").iter().any(|l| in_window(
            l.at,
            timeouts[0].at,
            dropped[1].at + SimDuration::from_us(1)
        )),
        "the second drop is on a new connection"
    );
    assert!(dropped[1].at < timeouts[1].at);
    // Nothing was appended twice (requests, not responses, were lost) and everything got through.
    assert!(check(&s, &r).duplicates.is_empty());
    assert_all_acked_once(&r, T0, 6);
}

// ---------------------------------------------------------------------------------------------
// Reset

fn reset(rate: &str, at: &str) -> Scenario {
    parse_scenario(
        "reset.ron",
        &format!(
            r#"Scenario(
                name: "reset", description: "x", seed: 1, duration: "1s",
                cluster: (brokers: 1, network: (latency: "5ms")),
                topics: [ (name: "t", partitions: 1) ],
                producers: [
                    (id: "p1", config: {{ "acks": "1", "enable.idempotence": false, "linger.ms": 0, "retries": 3 }},
                     workload: (topic: "t", records: 4, rate: "{rate}", start: "50ms")),
                ],
                faults: [ (at: "{at}", fault: Reset(broker: 1, client: "p1")) ],
            )"#
        ),
    )
}

#[test]
fn a_reset_fails_requests_in_flight_as_disconnects_and_the_client_reconnects() {
    // Request 1 leaves at 50 ms and would arrive at 55 ms; the reset at 52 ms beats it. The
    // next record is sent at 100 ms, after p1 has learned of the reset (57 ms).
    let r = run_text(&reset("20/s", "52ms"), None);
    let lines = trace_lines(&r);
    let b0 = p1(&r).batch(0).expect("sent");
    assert_eq!(b0.attempts.len(), 2, "{b0:?}");
    assert_eq!(b0.attempts[0].error, Some((ms(57), ErrorCode::NetworkException)));
    assert_eq!(b0.retried_on.len(), 1);
    let disconnects = lines_of(&lines, "p1", "disconnect");
    assert_eq!(disconnects.len(), 1);
    assert_eq!(disconnects[0].at, ms(57));
    assert_eq!(disconnects[0].detail, "broker-1 (1 request in flight fails)");
    assert!(
        lines
            .iter()
            .any(|l| l.kind == "drop" && l.detail == "p1 -> broker-1 Produce req 1 (connection closed)"),
        "the request in flight on the reset connection is not processed"
    );
    assert!(lines_of(&lines, "p1", "connected").iter().any(|l| l.at > ms(57)));
    assert_all_acked_once(&r, T0, 4);
}

#[test]
fn requests_sent_after_a_reset_before_the_client_notices_are_not_appended() {
    // A record every 2 ms: requests 3 and 4 leave at 54 and 56 ms, after the reset (53 ms) and
    // before p1 learns of it (58 ms). They are on a connection the broker has reset: they must
    // be lost like the ones in flight, fail with NETWORK_EXCEPTION and be appended only once,
    // by their retry.
    let s = reset("500/s", "53ms");
    let r = run_text(&s, None);
    let lines = trace_lines(&r);
    let reconnected = lines_of(&lines, "p1", "connected")
        .iter()
        .map(|l| l.at)
        .find(|t| *t > ms(53))
        .expect("p1 reconnects");
    assert!(
        r.history
            .appends
            .iter()
            .all(|a| !in_window(a.at, ms(53), reconnected)),
        "nothing is appended between the reset and the reconnect: {:?}",
        r.history.appends
    );
    assert!(check(&s, &r).duplicates.is_empty());
}

// ---------------------------------------------------------------------------------------------
// Crash and Restart

/// Two brokers, `t-0` on broker-1 and `t-1` on broker-2, heartbeats 100 ms after each answer,
/// session 600 ms. The link between broker-1 and the controller is 100 ms slower from the start,
/// so a restarted broker-1 waits ~200 ms for its metadata, and its heartbeats are answered after
/// 202 ms: within half the session (`BrokerLifecycleManager`'s request timeout), else each would
/// time out and back off. broker-1 crashes at 500 ms and restarts at 1.5 s.
fn crash_restart() -> Scenario {
    parse_scenario(
        "crash.ron",
        r#"Scenario(
            name: "crash", description: "x", seed: 1, duration: "3s",
            cluster: (brokers: 2,
                      config: { "broker.heartbeat.interval.ms": 100, "broker.session.timeout.ms": 600 },
                      network: (latency: "1ms")),
            topics: [ (name: "t", partitions: 2, assignment: [[1], [2]]) ],
            producers: [
                (id: "p1",
                 config: { "acks": "1", "enable.idempotence": false, "linger.ms": 0,
                           "reconnect.backoff.max.ms": 100 },
                 workload: (topic: "t", keys: ["k1", "k2", "k3", "k4"], records: 40, rate: "20/s",
                            start: "50ms")),
            ],
            faults: [
                (at: "0ms", fault: SlowLink(nodes: (Broker(1), Controller), extra_latency: "100ms")),
                (at: "500ms", fault: Crash(broker: 1)),
                (at: "1500ms", fault: Restart(broker: 1)),
            ],
        )"#,
    )
}

const T1: Tp = Tp {
    topic: 0,
    partition: 1,
};

#[test]
fn a_crashed_broker_refuses_connections_until_it_restarts() {
    let r = run_text(&crash_restart(), None);
    let lines = trace_lines(&r);
    let (crash, restart) = (fault_time(&lines, "Crash("), fault_time(&lines, "Restart("));
    let refused: Vec<_> = lines_of(&lines, "p1", "conn-fail")
        .into_iter()
        .filter(|l| l.detail == "broker-1 refused" && in_window(l.at, crash, restart))
        .collect();
    assert!(!refused.is_empty(), "p1 tries broker-1 and is refused");
    assert!(
        !lines_of(&lines, "p1", "connected")
            .iter()
            .any(|l| l.detail == "broker-1" && in_window(l.at, crash, restart)),
        "no connection to a crashed broker"
    );
    // The crash reset p1's connection; after the restart p1 connects again.
    assert!(
        lines_of(&lines, "p1", "disconnect")
            .iter()
            .any(|l| l.detail.starts_with("broker-1") && l.at == crash + SimDuration::from_ms(1))
    );
    assert!(
        lines_of(&lines, "p1", "connected")
            .iter()
            .any(|l| l.detail == "broker-1" && l.at > restart)
    );
    assert!(
        r.history
            .appends
            .iter()
            .all(|a| a.broker != 1 || !in_window(a.at, crash, restart)),
        "a crashed broker appends nothing"
    );
}

#[test]
fn the_controller_fences_a_crashed_broker_after_the_session_timeout_and_its_partitions_go_offline() {
    let s = crash_restart();
    // Stop before the restart: the final metadata is the fenced state.
    let r = run_text(&s, Some(SimDuration::from_ms(1400)));
    let lines = trace_lines(&r);
    let fences = lines_of(&lines, "controller", "fence");
    assert_eq!(fences.len(), 1, "{fences:?}");
    assert!(fences[0].detail.starts_with("broker-1"));
    // Fenced the tick after broker.session.timeout.ms (600 ms) since its last heartbeat arrived
    // (`BrokerHeartbeatManager.hasValidSession`). A heartbeat leaves 100 ms after the previous
    // answer (`BrokerLifecycleManager`): the first at 0 ms, before the slow link, arrives at 1 ms
    // and is answered at 102 ms; the second leaves at 202 ms and arrives at 303 ms; its answer
    // comes back at 404 ms, and the third would leave at 504 ms, after the crash.
    assert_eq!(fences[0].at, ms(303 + 600) + SimDuration::from_us(1));
    let offline = r.metadata.partition(T0).expect("t-0");
    assert_eq!((offline.leader, offline.leader_epoch), (None, 1));
    assert_eq!(r.metadata.live_brokers, [2]);
    let other = r.metadata.partition(T1).expect("t-1");
    assert_eq!(
        (other.leader, other.leader_epoch),
        (Some(2), 0),
        "broker-2's partition is untouched"
    );
    // t-1 keeps taking records; t-0 takes none after the crash.
    assert!(r.history.appends.iter().any(|a| a.tp == T1 && a.at > ms(900)));
    assert!(r.history.appends.iter().all(|a| a.tp != T0 || a.at < ms(500)));
}

#[test]
fn a_restarted_broker_leads_again_with_a_higher_leader_epoch() {
    let s = crash_restart();
    let r = run_text(&s, None);
    let state = r.metadata.partition(T0).expect("t-0");
    assert_eq!((state.leader, state.leader_epoch), (Some(1), 2));
    assert_eq!(r.metadata.live_brokers, [1, 2]);
    let restart = ms(1500);
    let epochs: Vec<(bool, u32)> = r
        .history
        .appends
        .iter()
        .filter(|a| a.tp == T0)
        .map(|a| (a.at > restart, a.leader_epoch))
        .collect();
    assert!(epochs.iter().any(|(after, _)| *after));
    assert!(
        epochs
            .iter()
            .all(|&(after, epoch)| epoch == if after { 2 } else { 0 }),
        "epoch 0 before the crash, 2 after the restart: {epochs:?}"
    );
    // The log kept what was appended before the crash, and every record got through.
    let report = check(&s, &r);
    assert!(report.lost_acked.is_empty() && report.duplicates.is_empty());
    assert!(acked_at(&r).iter().all(Option::is_some));
}

#[test]
fn a_restarted_broker_refuses_connections_until_it_has_metadata() {
    let r = run_text(&crash_restart(), None);
    let lines = trace_lines(&r);
    let restart = fault_time(&lines, "Restart(");
    // The restart heartbeat reaches the controller 101 ms later; the metadata it sends back
    // reaches broker-1 101 ms after that.
    let unfence = lines_of(&lines, "controller", "unfence")[0].at;
    assert_eq!(unfence, restart + SimDuration::from_ms(101));
    let has_metadata = unfence + SimDuration::from_ms(101);
    // A refusal comes back 2 ms after p1's attempt: its Connect reached broker-1 1 ms before the
    // refusal arrived, after the restart and before the metadata: the process was up but not
    // listening yet.
    let refused: Vec<_> = lines_of(&lines, "p1", "conn-fail")
        .into_iter()
        .filter(|l| {
            l.detail == "broker-1 refused"
                && in_window(
                    l.at,
                    restart + SimDuration::from_ms(2),
                    has_metadata + SimDuration::from_ms(1),
                )
        })
        .collect();
    assert!(!refused.is_empty(), "a restarted broker without metadata refuses");
    let first = lines_of(&lines, "p1", "connected")
        .into_iter()
        .find(|l| l.detail == "broker-1" && l.at > restart)
        .expect("p1 reconnects");
    assert!(first.at > has_metadata, "{first:?}");
}

// ---------------------------------------------------------------------------------------------
// Triggers

fn triggered(workload: &str, linger_ms: u32, faults: &str) -> Scenario {
    parse_scenario(
        "trigger.ron",
        &format!(
            r#"Scenario(
                name: "trigger", description: "x", seed: 1, duration: "2s",
                cluster: (brokers: 1, network: (latency: "1ms")),
                topics: [ (name: "t", partitions: 1) ],
                producers: [
                    (id: "p1", config: {{ "acks": "1", "enable.idempotence": false, "linger.ms": {linger_ms} }},
                     workload: (topic: "t", {workload})),
                ],
                faults: [ {faults} ],
            )"#
        ),
    )
}

#[test]
fn an_acked_trigger_fires_right_after_the_nth_ack_and_not_before() {
    let s = triggered(
        r#"records: 10, rate: "100/s""#,
        0,
        r#"(after: Acked(producer: "p1", records: 4), fault: Heal)"#,
    );
    let r = run_text(&s, None);
    let lines = trace_lines(&r);
    let fired = lines.iter().position(|l| l.kind == "FAULT").expect("fired");
    let mut acks: Vec<SimTime> = acked_at(&r).into_iter().map(|t| t.expect("acked")).collect();
    acks.sort();
    assert!(
        acks[2] < acks[3] && acks[3] < acks[4],
        "one ack at a time: {acks:?}"
    );
    assert_eq!(lines[fired].at, acks[3], "fires at the 4th ack");
    let acked_lines: Vec<usize> = lines
        .iter()
        .enumerate()
        .filter(|(_, l)| l.node == "p1" && l.kind == "acked")
        .map(|(i, _)| i)
        .collect();
    assert!(
        acked_lines[3] < fired && fired < acked_lines[4],
        "the FAULT line follows the 4th acked line, before the 5th"
    );
}

#[test]
fn an_appended_trigger_fires_once_the_offset_exists() {
    // Batches of several records (linger.ms=20): the trigger's offset is inside a batch.
    let s = triggered(
        r#"records: 60, rate: "1000/s""#,
        20,
        r#"(after: Appended(topic: "t", partition: 0, offset: 30), fault: Heal)"#,
    );
    let r = run_text(&s, None);
    let lines = trace_lines(&r);
    let fired = fault_time(&lines, "Heal");
    let holder = r
        .history
        .appends
        .iter()
        .find(|a| a.base_offset + a.records.len() as u64 > 30)
        .expect("offset 30 is appended");
    assert!(
        holder.base_offset < 30,
        "the offset is inside a batch: {holder:?}"
    );
    assert_eq!(fired, holder.at);
    assert!(
        r.history
            .appends
            .iter()
            .filter(|a| a.at < fired)
            .all(|a| a.base_offset + (a.records.len() as u64) <= 30),
        "no earlier append reached offset 30"
    );
}

#[test]
fn an_at_trigger_fires_at_its_time() {
    let s = triggered(
        r#"records: 3, rate: "10/s""#,
        0,
        r#"(at: "77ms", fault: Heal), (at: "1234567us", fault: SlowLink(nodes: (Broker(1), Client("p1")), extra_latency: "1ms"))"#,
    );
    let r = run_text(&s, None);
    let lines = trace_lines(&r);
    assert_eq!(fault_time(&lines, "Heal"), ms(77));
    assert_eq!(fault_time(&lines, "SlowLink("), SimTime::from_us(1_234_567));
    assert!(
        r.trace
            .as_deref()
            .expect("traced")
            .contains("  1234.567ms  controller  FAULT      SlowLink(")
    );
}

// ---------------------------------------------------------------------------------------------
// Determinism

/// Every fault kind, on a jittery network.
fn all_faults(seed: u64) -> Scenario {
    parse_scenario(
        "all-faults.ron",
        &format!(
            r#"Scenario(
                name: "all-faults", description: "x", seed: {seed}, duration: "3s",
                cluster: (brokers: 2,
                          config: {{ "broker.heartbeat.interval.ms": 100, "broker.session.timeout.ms": 400 }},
                          network: (latency: "1ms", jitter: "700us")),
                topics: [ (name: "t", partitions: 2, assignment: [[1], [2]]) ],
                producers: [
                    (id: "p1",
                     config: {{ "acks": "1", "enable.idempotence": false, "linger.ms": 2,
                                "request.timeout.ms": 200, "socket.connection.setup.timeout.ms": 200 }},
                     workload: (topic: "t", keys: ["a", "d", "c", "f"], records: 300, rate: "200/s")),
                ],
                consumers: [ (id: "c1", topics: ["t"], config: {{ "auto.offset.reset": "earliest" }}) ],
                faults: [
                    (after: Sent(producer: "p1", records: 20), fault: DropResponses(broker: 1, client: "p1", count: 1)),
                    (after: Acked(producer: "p1", records: 60), fault: DropRequests(broker: 2, client: "p1", count: 2)),
                    (at: "400ms", fault: SlowLink(nodes: (Broker(2), Client("p1")), extra_latency: "20ms")),
                    (at: "600ms", fault: Reset(broker: 2, client: "p1")),
                    (at: "700ms", fault: Isolate(node: Client("c1"))),
                    (at: "900ms", fault: Partition(groups: [[Broker(1)], [Client("p1")]])),
                    (at: "1100ms", fault: Heal),
                    (after: Appended(topic: "t", partition: 1, offset: 150), fault: Crash(broker: 2)),
                    (at: "2200ms", fault: Restart(broker: 2)),
                ],
            )"#
        ),
    )
}

#[test]
fn faults_on_a_jittery_network_replay_identically() {
    let s = all_faults(11);
    for format in [TraceFormat::Text, TraceFormat::Jsonl] {
        let opts = RunOptions {
            trace: Some(format),
            ..RunOptions::default()
        };
        let (a, b) = (run(&s, &opts), run(&s, &opts));
        assert_eq!(a.trace, b.trace, "{format:?} traces differ");
        assert_eq!(summary(&s, &a, &check(&s, &a)), summary(&s, &b, &check(&s, &b)));
    }
    let a = run_text(&s, None);
    let lines = trace_lines(&a);
    assert_eq!(
        lines.iter().filter(|l| l.kind == "FAULT").count(),
        s.faults.len(),
        "every fault fired"
    );
    // Triggers fire the same without a trace.
    let quiet = run(
        &s,
        &RunOptions {
            trace: None,
            ..RunOptions::default()
        },
    );
    assert_eq!(
        summary(&s, &a, &check(&s, &a)),
        summary(&s, &quiet, &check(&s, &quiet))
    );
    // The jitter is real: another seed decides differently.
    let other = run_text(&all_faults(12), None);
    assert_ne!(a.trace, other.trace);
}

/// A restarted producer numbers its batches on after its crashed incarnation's, so the run's
/// history keeps one entry per batch (the second incarnation's batches used to start from 0
/// again and were counted into the first one's).
#[test]
fn a_restarted_producer_numbers_its_batches_on() {
    let s = one_leader(
        1,
        "",
        r#"(at: "72ms", fault: Crash(producer: "p1")), (at: "100ms", fault: Restart(producer: "p1"))"#,
    );
    let r = run_text(&s, None);
    let crash = SimTime::from_us(72_000);
    let batches = |before: bool| -> Vec<u64> {
        p1(&r)
            .records
            .iter()
            .filter(|h| h.sent_at().is_some_and(|t| (t < crash) == before))
            .map(|h| h.batch_id())
            .collect()
    };
    let (first, second) = (batches(true), batches(false));
    assert!(
        !first.is_empty() && !second.is_empty(),
        "records from both incarnations: {first:?} {second:?}"
    );
    let last_of_first = *first.iter().max().expect("not empty");
    assert!(
        second.iter().all(|id| *id > last_of_first),
        "the restarted incarnation's batches come after the first one's: {first:?} then {second:?}"
    );
    let counted: u32 = first
        .iter()
        .chain(&second)
        .collect::<std::collections::BTreeSet<_>>()
        .into_iter()
        .map(|id| p1(&r).batch(*id).map_or(0, |b| b.records))
        .sum();
    assert_eq!(
        counted as usize,
        first.len() + second.len(),
        "each batch's entry counts only its own records"
    );
}

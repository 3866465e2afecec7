//! Broker heartbeats and fencing end to end, with Kafka 4.0's timings: a broker heartbeats
//! `broker.heartbeat.interval.ms` after the previous answer (`BrokerLifecycleManager`), so the
//! controller hears from it every interval plus a round trip, and fences it once that is more
//! than `broker.session.timeout.ms` (`BrokerHeartbeatManager.hasValidSession`).

use crate::support::{TraceLine, lines_of, ms, parse_scenario, run_text, trace_lines};
use kafkasim::scenario::{Scenario, WarningKind};
use kafkasim::sim::SimDuration;

/// Three brokers 10 ms apart from the controller (a 20 ms round trip), heartbeating every 2 s,
/// with the session timeout `session_ms`; no clients. Runs 20 s.
fn cluster(session_ms: u64) -> Scenario {
    parse_scenario(
        "flap.ron",
        &format!(
            r#"Scenario(
                name: "flap", description: "x", seed: 1, duration: "20s",
                cluster: (brokers: 3, network: (latency: "10ms"),
                          config: {{ "broker.heartbeat.interval.ms": 2000,
                                     "broker.session.timeout.ms": {session_ms} }}),
                topics: [ (name: "t", partitions: 3, replication_factor: 3) ],
                producers: [],
            )"#
        ),
    )
}

/// The trace of [`cluster`] with the session timeout `session_ms`.
fn heartbeats(session_ms: u64) -> Vec<TraceLine> {
    trace_lines(&run_text(&cluster(session_ms), None))
}

/// A session of 2010 ms, above the interval but below the interval plus the round trip: every
/// broker is fenced 10 ms before each heartbeat arrives and unfenced by it, over and over, as in
/// Kafka. kafkasim used to heartbeat at a fixed rate from each send, 2000 ms apart, and kept
/// these brokers unfenced.
#[test]
fn a_session_below_the_interval_plus_a_round_trip_makes_brokers_flap() {
    let lines = heartbeats(2010);
    let fences = lines_of(&lines, "controller", "fence");
    let unfences = lines_of(&lines, "controller", "unfence");
    for b in 1..=3 {
        let name = format!("broker-{b} ");
        let of = |ls: &[&TraceLine]| -> Vec<kafkasim::sim::SimTime> {
            ls.iter()
                .filter(|l| l.detail.starts_with(&name))
                .map(|l| l.at)
                .collect()
        };
        let (fenced, unfenced) = (of(&fences), of(&unfences));
        // Heard from at 10 ms, then every 2020 ms: fenced 2010 ms and a tick after each contact.
        assert!(fenced.len() >= 8, "broker-{b} fenced at {fenced:?}");
        assert_eq!(fenced[0], ms(2020) + SimDuration::from_us(1));
        for (f, u) in fenced.iter().zip(&unfenced) {
            assert_eq!(
                *u,
                *f + SimDuration::from_us(9_999),
                "broker-{b}: unfenced by the late heartbeat"
            );
        }
    }
}

/// A session exactly the interval plus the round trip: each heartbeat arrives at the last
/// instant of the session, which is still valid (`lastContactNs + sessionTimeoutNs >= now`).
#[test]
fn a_session_of_exactly_the_interval_plus_a_round_trip_keeps_brokers_in() {
    let lines = heartbeats(2020);
    assert!(lines_of(&lines, "controller", "fence").is_empty());
}

/// A session below the interval: fenced between any two heartbeats, whatever the round trip.
#[test]
fn a_session_below_the_interval_fences_every_broker_between_heartbeats() {
    let lines = heartbeats(1990);
    assert!(lines_of(&lines, "controller", "fence").len() >= 24);
}

/// The foot-gun warning on `broker.session.timeout.ms` tells the truth about the run: below the
/// interval plus the round trip it says brokers *will* be fenced, and they are; at exactly that
/// it says they *can* be (the session is still valid, `BrokerHeartbeatManager.hasValidSession`,
/// but only while the controller answers in no time), and in the model they are not; above it
/// says nothing, and nothing is fenced.
#[test]
fn the_session_warning_says_will_exactly_when_the_run_fences() {
    for (session_ms, warned, fenced) in [
        (2019, Some("will"), true),
        (2020, Some("can"), false),
        (2021, None, false),
    ] {
        let warning = cluster(session_ms)
            .warnings
            .into_iter()
            .find(|w| w.kind == WarningKind::SessionBelowHeartbeat);
        let how = warning.map(|w| {
            if w.consequence.starts_with("brokers will be fenced") {
                "will"
            } else {
                "can"
            }
        });
        assert_eq!(how, warned, "session {session_ms} ms");
        let fences = lines_of(&heartbeats(session_ms), "controller", "fence").len();
        assert_eq!(fences > 0, fenced, "session {session_ms} ms: {fences} fencings");
    }
}

//! Warnings: settings Kafka accepts that break a cluster, and faults that do nothing. Each is
//! located, says its consequence with the scenario's own numbers, and changes nothing in the run;
//! `--deny-warnings` makes them errors.

use crate::support::{bundled_scenarios, kafkasim, run_traced, scratch_dir};
use kafkasim::scenario::{Location, Scenario, Warning, WarningKind};
use kafkasim::simulation::{RunOptions, run};
use kafkasim::trace::TraceFormat;

/// A scenario with `cluster` fields after `brokers: 3`, topic fields after `name`, `producer`
/// config entries, `consumers` and `faults` entries.
fn text(cluster: &str, topic: &str, producer: &str, faults: &str) -> String {
    format!(
        r#"Scenario(
    name: "w", description: "", duration: "10s",
    cluster: (brokers: 3{cluster}),
    topics: [ (name: "orders", partitions: 1{topic}) ],
    producers: [ (id: "p1", config: {{ {producer} }},
                  workload: (topic: "orders", records: 100, rate: "100/s")) ],
    consumers: [ (id: "c1", topics: ["orders"]) ],
    faults: [ {faults} ],
)"#
    )
}

fn warnings(text: &str) -> Vec<Warning> {
    Scenario::parse("w.ron", text)
        .unwrap_or_else(|e| panic!("{e}"))
        .warnings
}

/// The one warning of `text`, which must be of `kind`.
fn only(text: &str, kind: WarningKind) -> Warning {
    let w = warnings(text);
    assert_eq!(w.len(), 1, "{w:#?}");
    assert_eq!(w[0].kind, kind, "{}", w[0]);
    w[0].clone()
}

fn at(w: &Warning) -> (usize, usize) {
    let Location { line, column } = w.place.location.expect("located");
    (line, column)
}

#[test]
fn a_session_timeout_within_a_heartbeat_and_a_round_trip_fences_live_brokers() {
    let cluster = r#", config: { "broker.heartbeat.interval.ms": 2000, "broker.session.timeout.ms": 2004 },
              network: (latency: "1ms", jitter: "1ms")"#;
    let w = only(&text(cluster, "", "", ""), WarningKind::SessionBelowHeartbeat);
    assert_eq!(
        w.message,
        "broker.session.timeout.ms 2004 is not above broker.heartbeat.interval.ms 2000 plus a round trip to the controller (2.000ms, up to 4.000ms with jitter)"
    );
    assert!(
        w.consequence.starts_with("brokers can be fenced while alive"),
        "{w}"
    );
    assert_eq!(at(&w), (3, 75), "at the session timeout");
    // Without jitter the round trip is 2ms: 2001 surely fences, 2003 is enough.
    let surely = r#", config: { "broker.session.timeout.ms": 2001, "broker.heartbeat.interval.ms": 2000 }"#;
    let w = only(&text(surely, "", "", ""), WarningKind::SessionBelowHeartbeat);
    assert!(
        w.consequence.starts_with("brokers will be fenced while alive"),
        "{w}"
    );
    let enough = r#", config: { "broker.session.timeout.ms": 2003, "broker.heartbeat.interval.ms": 2000 }"#;
    assert_eq!(warnings(&text(enough, "", "", "")), []);
}

#[test]
fn a_lag_time_below_one_fetch_lets_followers_leave_the_isr() {
    // 1 MiB at 100 Mbit/s is 83.887ms on the wire, plus a 2ms round trip.
    let cluster = r#", config: { "replica.lag.time.max.ms": 50, "replica.fetch.wait.max.ms": 50 },
              network: (latency: "1ms", bandwidth: "100Mbit/s")"#;
    let w = only(
        &text(cluster, ", replication_factor: 3", "", ""),
        WarningKind::LagBelowFetch,
    );
    assert_eq!(
        w.message,
        "replica.lag.time.max.ms 50 is below the time a follower needs for one fetch: up to 85.887ms (a round trip of 2.000ms, and 83.887ms to carry a full replica.fetch.max.bytes response of 1048576 bytes at 100Mbit/s)"
    );
    assert!(w.consequence.contains("Replica.updateFetchState"), "{w}");
    assert_eq!(at(&w), (3, 37));
    // Smaller fetches fit; and without followers there is nothing to warn about.
    let small = cluster.replace(
        "\"replica.lag.time.max.ms\": 50",
        "\"replica.lag.time.max.ms\": 50, \"replica.fetch.max.bytes\": 500000",
    );
    assert_eq!(warnings(&text(&small, ", replication_factor: 3", "", "")), []);
    assert_eq!(warnings(&text(cluster, "", "", "")), []);
}

#[test]
fn min_insync_replicas_at_the_replication_factor_with_acks_all_stops_writes_on_any_loss() {
    let topic = r#", replication_factor: 3, config: { "min.insync.replicas": 3 }"#;
    let w = only(
        &text("", topic, r#""acks": "all""#, ""),
        WarningKind::MinIsrAtReplicationFactor,
    );
    assert_eq!(
        w.message,
        "topic `orders` has min.insync.replicas 3 and replication factor 3, and producer `p1` writes to it with acks=all"
    );
    assert!(w.consequence.starts_with("any broker loss stops writes"), "{w}");
    assert_eq!(
        w.help.as_deref(),
        Some("use min.insync.replicas 2 to survive one broker loss")
    );
    assert_eq!(at(&w), (4, 80), "at the topic's key");
    // Set on the brokers, it points there; a larger value acts the same (capped at RF).
    let cluster = r#", config: { "min.insync.replicas": 4 }"#;
    let w = only(
        &text(cluster, ", replication_factor: 3", r#""acks": "all""#, ""),
        WarningKind::MinIsrAtReplicationFactor,
    );
    assert_eq!(at(&w), (3, 37), "at the cluster's key");
    // acks=1 does not wait for the ISR, and RF 3 with min.insync.replicas 2 survives a loss.
    assert_eq!(warnings(&text("", topic, r#""acks": "1""#, "")), []);
    let two = topic.replace("\"min.insync.replicas\": 3", "\"min.insync.replicas\": 2");
    assert_eq!(warnings(&text("", &two, r#""acks": "all""#, "")), []);
}

/// `LogValidator.validateKey` refuses keyless records on a compacted topic.
#[test]
fn keyless_records_on_a_compacted_topic_all_fail() {
    let topic = r#", config: { "cleanup.policy": "compact" }"#;
    let w = only(&text("", topic, "", ""), WarningKind::KeylessOnCompacted);
    assert_eq!(
        w.message,
        "topic `orders` is compacted, and producer `p1` writes keyless records to it"
    );
    assert!(
        w.consequence
            .starts_with("every batch is refused with INVALID_RECORD"),
        "{w}"
    );
    assert_eq!(at(&w), (4, 57), "at the topic's key");
    let cluster = r#", config: { "log.cleanup.policy": "compact,delete" }"#;
    let w = only(&text(cluster, "", "", ""), WarningKind::KeylessOnCompacted);
    assert_eq!(at(&w), (3, 37), "at the cluster's key");
    assert_eq!(warnings(&text("", "", "", "")), []);
}

#[test]
fn unclean_election_with_acks_all_loses_acknowledged_records() {
    let cluster = r#", config: { "unclean.leader.election.enable": true }"#;
    let w = only(
        &text(cluster, ", replication_factor: 2", r#""acks": "all""#, ""),
        WarningKind::UncleanWithAcksAll,
    );
    assert_eq!(
        w.message,
        "topic `orders` allows unclean leader elections, and producer `p1` writes to it with acks=all"
    );
    assert!(
        w.consequence
            .starts_with("acks=all no longer keeps acknowledged records"),
        "{w}"
    );
    // A topic that turns it off again does not warn.
    let off = r#", replication_factor: 2, config: { "unclean.leader.election.enable": false }"#;
    assert_eq!(warnings(&text(cluster, off, r#""acks": "all""#, "")), []);
}

#[test]
fn a_request_timeout_below_a_round_trip_times_out_every_request() {
    let network = r#", network: (latency: "5ms")"#;
    let w = only(
        &text(
            network,
            "",
            r#""request.timeout.ms": 9, "delivery.timeout.ms": 120000"#,
            "",
        ),
        WarningKind::RequestTimeoutBelowRoundTrip,
    );
    assert_eq!(
        w.message,
        "request.timeout.ms 9 of `p1` is shorter than a round trip to a broker (10.000ms)"
    );
    assert_eq!(at(&w), (5, 39));
    assert_eq!(
        warnings(&text(network, "", r#""request.timeout.ms": 10"#, "")),
        []
    );
}

/// The warning tells the truth about the run: not longer than a round trip (10 ms here, and the
/// answer spends time on the wire too), no producer request is ever sent; with
/// `reconnect.backoff.ms` 0 as well the run stops as a livelock; above it, the producer works.
#[test]
fn a_connection_setup_timeout_within_a_round_trip_never_connects() {
    let network = r#", network: (latency: "5ms")"#;
    let setup = |ms: u32, backoff: u32| {
        text(
            network,
            "",
            &format!(r#""socket.connection.setup.timeout.ms": {ms}, "reconnect.backoff.ms": {backoff}"#),
            "",
        )
    };
    let w = only(&setup(10, 50), WarningKind::ConnectionSetupWithinRoundTrip);
    assert_eq!(
        w.message,
        "socket.connection.setup.timeout.ms 10 of `p1` is not longer than a round trip to a broker (10.000ms)"
    );
    assert_eq!(at(&w), (5, 39));
    assert!(!w.consequence.contains("livelock"), "{w}");
    let parse = |t: &str| Scenario::parse("w.ron", t).unwrap_or_else(|e| panic!("{e}"));
    let quiet = RunOptions {
        trace: None,
        ..RunOptions::default()
    };
    let never = run(&parse(&setup(10, 50)), &quiet);
    assert_eq!(never.history.producers[0].sent, 0, "no request is ever sent");
    let w = only(&setup(0, 0), WarningKind::ConnectionSetupWithinRoundTrip);
    assert!(
        w.consequence
            .ends_with("the run stops as a livelock (exit code 3)"),
        "{w}"
    );
    assert!(run(&parse(&setup(0, 0)), &quiet).livelock);
    assert_eq!(warnings(&setup(11, 50)), []);
    assert_eq!(run(&parse(&setup(11, 50)), &quiet).history.producers[0].sent, 100);
}

#[test]
fn a_fault_after_the_end_of_the_run_never_fires() {
    let w = only(
        &text("", "", "", r#"(at: "12s", fault: Crash(broker: 1))"#),
        WarningKind::FaultAfterEnd,
    );
    assert_eq!(
        w.message,
        "this fault is at 12s, after the end of the run (10s of `duration`)"
    );
    assert_eq!(w.consequence, "it never fires");
    assert_eq!(at(&w), (8, 20));
    assert_eq!(
        warnings(&text("", "", "", r#"(at: "10s", fault: Crash(broker: 1))"#)),
        []
    );
}

#[test]
fn a_trigger_waiting_for_more_records_than_are_sent_never_fires() {
    let w = only(
        &text(
            "",
            "",
            "",
            r#"(after: Acked(producer: "p1", records: 101), fault: Heal)"#,
        ),
        WarningKind::TriggerNeverFires,
    );
    assert_eq!(
        w.message,
        "producer `p1` sends 100 records, and this fault waits for 101"
    );
}

#[test]
fn a_restart_of_a_running_broker_does_nothing() {
    let w = only(
        &text("", "", "", r#"(at: "2s", fault: Restart(broker: 2))"#),
        WarningKind::RestartOfRunning,
    );
    assert_eq!(w.message, "broker 2 is running at 2s");
    assert_eq!(w.consequence, "this Restart does nothing");
    // Crashed first (even later in the file, but earlier in time), the restart does something.
    let ok = r#"(at: "2s", fault: Restart(broker: 2)), (at: "1s", fault: Crash(broker: 2))"#;
    assert_eq!(warnings(&text("", "", "", ok)), []);
    // A second restart does nothing again.
    let twice = format!("{ok}, (at: \"3s\", fault: Restart(broker: 2))");
    only(&text("", "", "", &twice), WarningKind::RestartOfRunning);
}

#[test]
fn a_second_crash_of_a_crashed_broker_or_consumer_does_nothing() {
    let faults =
        r#"(at: "1s", fault: Crash(broker: 3)), (at: "2s", fault: Crash(broker: 3, lose_unflushed: true))"#;
    let w = only(&text("", "", "", faults), WarningKind::CrashOfCrashed);
    assert_eq!(w.message, "broker 3 is already down at 2s: it crashed at 1s");
    assert_eq!(at(&w), (8, 70));
    let consumer = r#"(at: "1s", fault: Crash(consumer: "c1")), (at: "2s", fault: Crash(consumer: "c1"))"#;
    let w = only(&text("", "", "", consumer), WarningKind::CrashOfCrashed);
    assert!(w.message.starts_with("consumer `c1` is already down"), "{w}");
    let restart = r#"(at: "1s", fault: Restart(consumer: "c1"))"#;
    only(&text("", "", "", restart), WarningKind::RestartOfRunning);
    let shutdown = r#"(at: "1s", fault: Crash(broker: 1)), (at: "2s", fault: ControlledShutdown(broker: 1))"#;
    only(&text("", "", "", shutdown), WarningKind::ShutdownOfStopped);
}

#[test]
fn a_node_whose_state_depends_on_the_run_is_not_judged() {
    // An `after:` fault may have crashed broker 2 by then, and a controlled shutdown may still be
    // under way: no claim either way.
    let after = r#"(after: Sent(producer: "p1", records: 10), fault: Crash(broker: 2)), (at: "5s", fault: Restart(broker: 2))"#;
    assert_eq!(warnings(&text("", "", "", after)), []);
    let shutdown = r#"(at: "1s", fault: ControlledShutdown(broker: 1)), (at: "1001ms", fault: Restart(broker: 1)), (at: "2s", fault: Crash(broker: 1))"#;
    assert_eq!(warnings(&text("", "", "", shutdown)), []);
}

#[test]
fn warnings_change_nothing_in_the_run() {
    let faults = r#"(at: "1s", fault: Crash(broker: 3)), (at: "2s", fault: Crash(broker: 3)), (at: "3s", fault: Restart(broker: 1))"#;
    let s = Scenario::parse("w.ron", &text("", ", replication_factor: 3", "", faults)).expect("valid");
    assert_eq!(s.warnings.len(), 2);
    let mut quiet = s.clone();
    quiet.warnings.clear();
    let a = run_traced(&s, TraceFormat::Text, None).trace;
    let b = run_traced(&quiet, TraceFormat::Text, None).trace;
    assert!(a.is_some() && a == b);
}

#[test]
fn bundled_scenarios_warn_only_where_a_lab_says_so() {
    for s in bundled_scenarios() {
        let kinds: Vec<WarningKind> = s.warnings.iter().map(|w| w.kind).collect();
        let expected: &[WarningKind] = match s.name.as_str() {
            // The Jepsen lab runs acks=all with unclean election on, to show the loss.
            "unclean-election-loss" => &[WarningKind::UncleanWithAcksAll],
            _ => &[],
        };
        assert_eq!(kinds, expected, "{}:\n{:#?}", s.file, s.warnings);
        let lab = std::fs::read_to_string(format!("book/src/labs/{}.md", s.name)).unwrap_or_default();
        for w in &s.warnings {
            assert!(
                lab.contains(&w.to_string()),
                "labs/{}.md does not show its warning as printed:\n{w}",
                s.name
            );
        }
    }
}

#[test]
fn commands_print_warnings_on_stderr_and_deny_warnings_makes_them_errors() {
    let file = scratch_dir("warnings-cli").join("w.ron");
    let faults = r#"(at: "2s", fault: Restart(broker: 2))"#;
    std::fs::write(&file, text("", "", "", faults)).expect("writable");
    let path = file.to_str().expect("utf-8");
    let line = format!(
        "warning: {path}:8:33: broker 2 is running at 2s\n  = consequence: this Restart does nothing\n"
    );
    for args in [
        vec!["run", path, "--no-trace"],
        vec!["check", path],
        vec!["describe", path],
        vec!["matrix", path, "--seeds", "1"],
        vec!["sweep", path, "--vary", "linger.ms=0"],
    ] {
        let o = kafkasim().args(&args).output().expect("runs");
        let err = String::from_utf8_lossy(&o.stderr);
        assert!(err.contains(&line), "{args:?}: {err}");
        assert!(o.status.code() != Some(2), "{args:?}: {err}");
        let o = kafkasim()
            .args(&args)
            .arg("--deny-warnings")
            .output()
            .expect("runs");
        let err = String::from_utf8_lossy(&o.stderr);
        assert_eq!(o.status.code(), Some(2), "{args:?}: {err}");
        assert!(
            err.contains(&format!("error: {path}:8:33: broker 2 is running at 2s\n")),
            "{args:?}: {err}"
        );
        assert!(
            err.contains(&format!(
                "error: {path} has 1 warning, and --deny-warnings makes them errors"
            )),
            "{args:?}: {err}"
        );
        assert!(o.stdout.is_empty() || args[0] == "check", "{args:?} ran anyway");
    }
    let o = kafkasim()
        .args(["check", path, "--deny-warnings"])
        .output()
        .expect("runs");
    assert!(String::from_utf8_lossy(&o.stdout).contains("0 passed, 0 failed, 1 invalid"));
}

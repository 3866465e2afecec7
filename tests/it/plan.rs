//! `kafkasim plan`: the resolved scenario another program (conformance/run) replays.

use crate::support::{bundled_scenarios, kafkasim, scratch_dir};
use serde_json::{Value, json};

fn plan(args: &[&str]) -> Value {
    let o = kafkasim().arg("plan").args(args).output().expect("runs");
    assert_eq!(o.status.code(), Some(0), "{}", String::from_utf8_lossy(&o.stderr));
    serde_json::from_slice(&o.stdout).expect("plan is JSON")
}

#[test]
fn replica_lists_are_the_ones_the_simulator_uses_for_the_seed() {
    for s in bundled_scenarios() {
        for seed in [s.seed, 5] {
            let p = plan(&[&s.file, "--seed", &seed.to_string()]);
            for (t, topic) in s.topics.iter().enumerate() {
                assert_eq!(
                    p["topics"][t]["replicas"],
                    json!(topic.replicas(s.cluster.brokers, seed)),
                    "{} seed {seed} topic {}",
                    s.file,
                    topic.name
                );
            }
        }
    }
}

#[test]
fn settings_are_the_ones_written_as_kafka_properties() {
    let p = plan(&["acks-all-leader-crash-no-loss"]);
    assert_eq!(p["broker_config"], json!({"min.insync.replicas": "2"}));
    assert_eq!(
        p["producers"][0]["config"],
        json!({"acks": "all", "enable.idempotence": "false", "linger.ms": "0"})
    );
    assert_eq!(p["topics"][0]["replicas"], json!([[1, 2, 3]]));
    assert_eq!(p["faults"][2]["trigger"], json!({"at_us": 1_000_000}));
    assert_eq!(p["faults"][2]["fault"]["kind"], "Crash");
    assert_eq!(p["faults"][2]["text"], "Crash(broker: 1)");
    assert_eq!(p["expect"][0], "LostAcked(exactly: 0)");
    assert_eq!(p["duration_us"], 20_000_000);
}

#[test]
fn set_values_and_ignored_keys_reach_the_plan_and_model_keys_stay_apart() {
    let p = plan(&[
        "acks-all-leader-crash-no-loss",
        "--set",
        "acks=1",
        "--set",
        "kafkasim.min.isr.hw.gate=false",
    ]);
    assert_eq!(p["producers"][0]["config"]["acks"], "1");
    assert_eq!(p["model_config"], json!({"kafkasim.min.isr.hw.gate": "false"}));
    assert!(p["broker_config"].get("kafkasim.min.isr.hw.gate").is_none());

    let dir = scratch_dir("plan-ignored");
    let file = dir.join("s.ron");
    let text = std::fs::read_to_string("scenarios/one-partition-order.ron").expect("bundled");
    let text = text.replacen(
        "config: {",
        "config: { \"metrics.recording.level\": \"DEBUG\",",
        1,
    );
    std::fs::write(&file, text).expect("writable");
    let p = plan(&[file.to_str().expect("utf-8")]);
    assert_eq!(p["producers"][0]["config"]["metrics.recording.level"], "DEBUG");
}

#[test]
fn a_bad_scenario_or_flag_exits_2() {
    let o = kafkasim()
        .args(["plan", "no-such-scenario"])
        .output()
        .expect("runs");
    assert_eq!(o.status.code(), Some(2));
    let o = kafkasim()
        .args(["plan", "one-partition-order", "--set", "linger.mss=5"])
        .output()
        .expect("runs");
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("linger.ms"));
}

#[test]
fn assignors_are_named_by_their_kafka_class() {
    let p = plan(&["group-rebalance-cooperative"]);
    for c in p["consumers"].as_array().expect("consumers") {
        assert_eq!(
            c["config"]["partition.assignment.strategy"],
            "org.apache.kafka.clients.consumer.CooperativeStickyAssignor",
            "{c}"
        );
    }
}

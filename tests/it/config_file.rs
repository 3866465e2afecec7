//! `config_file`: a producer's, consumer's, topic's or the cluster's config read from a Java
//! properties file, relative to the scenario; the scenario's `config` overrides it and `--set`
//! overrides both. Keys that change nothing in the model are listed once in the summary.

use crate::support::{kafkasim, scratch_dir};
use kafkasim::scenario::config::{Acks, OffsetReset};
use kafkasim::scenario::{IgnoredKeys, Overrides, Scenario, ScenarioError};
use kafkasim::sim::SimDuration;
use std::path::{Path, PathBuf};

/// Writes `files` ((name, contents)) into a fresh directory; returns its path.
fn write_files(dir: &str, files: &[(&str, &[u8])]) -> PathBuf {
    let dir = scratch_dir(dir);
    for (name, bytes) in files {
        std::fs::write(dir.join(name), bytes).expect("writable");
    }
    dir
}

/// One broker, topic `orders`, producer `p1` and consumer `c1`, each with `extra` fields.
fn scenario(cluster: &str, topic: &str, producer: &str, consumer: &str) -> String {
    format!(
        r#"Scenario(
    name: "t", description: "", duration: "1s",
    cluster: (brokers: 1{cluster}),
    topics: [ (name: "orders", partitions: 1{topic}) ],
    producers: [ (id: "p1"{producer},
                  workload: (topic: "orders", records: 1, rate: "1/s")) ],
    consumers: [ (id: "c1", topics: ["orders"]{consumer}) ],
)"#
    )
}

fn parse(dir: &Path, text: &str, set: &[&str]) -> Result<Scenario, ScenarioError> {
    let file = dir.join("s.ron");
    std::fs::write(&file, text).expect("writable");
    let overrides = Overrides::parse(set).expect("valid --set");
    Scenario::parse_with_overrides(file.to_str().expect("utf-8"), text, &overrides)
}

#[test]
fn every_kind_of_config_block_reads_a_properties_file() {
    let dir = write_files(
        "config-file-kinds",
        &[
            ("broker.properties", b"node.id=1\nlog.dirs=/var/lib/kafka\nmin.insync.replicas=1\nmessage.max.bytes=500000\n"),
            ("topic.properties", b"max.message.bytes: 400000\n"),
            ("producer.properties", b"acks 1\nenable.idempotence=false\nlinger.ms=\\\n   25\n"),
            ("consumer.properties", b"key.deserializer=org.apache.kafka.common.serialization.StringDeserializer\nauto.offset.reset=earliest\n"),
        ],
    );
    let text = scenario(
        r#", config_file: "broker.properties""#,
        r#", config_file: "topic.properties""#,
        r#", config_file: "producer.properties""#,
        r#", config_file: "consumer.properties""#,
    );
    let s = parse(&dir, &text, &[]).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(s.cluster.config.message_max_bytes, 500_000);
    assert_eq!(s.topics[0].config.max_message_bytes, 400_000);
    assert_eq!(s.producers[0].config.acks, Acks::One);
    assert_eq!(s.producers[0].config.linger, SimDuration::from_ms(25));
    assert_eq!(s.consumers[0].config.auto_offset_reset, OffsetReset::Earliest);
    let shown = |name: &str| format!("{}", dir.join(name).display());
    assert_eq!(
        s.ignored,
        [
            IgnoredKeys {
                file: shown("broker.properties"),
                keys: vec!["node.id".into(), "log.dirs".into()],
            },
            IgnoredKeys {
                file: shown("consumer.properties"),
                keys: vec!["key.deserializer".into()],
            },
        ]
    );
}

#[test]
fn config_overrides_the_file_and_set_overrides_both() {
    let dir = write_files(
        "config-file-precedence",
        &[(
            "p.properties",
            b"acks=1\nenable.idempotence=false\nlinger.ms=25\nbatch.size=1000\n",
        )],
    );
    let text = scenario(
        "",
        "",
        r#", config_file: "p.properties", config: { "linger.ms": 7, "batch.size": 2000 }"#,
        "",
    );
    let s = parse(&dir, &text, &[]).unwrap_or_else(|e| panic!("{e}"));
    let p = &s.producers[0].config;
    assert_eq!(
        (p.acks, p.linger, p.batch_size_bytes),
        (Acks::One, SimDuration::from_ms(7), 2000)
    );
    let s = parse(&dir, &text, &["linger.ms=9", "acks=0"]).unwrap_or_else(|e| panic!("{e}"));
    let p = &s.producers[0].config;
    assert_eq!(
        (p.acks, p.linger, p.batch_size_bytes),
        (Acks::Zero, SimDuration::from_ms(9), 2000)
    );
}

#[test]
fn a_key_from_the_file_counts_as_written() {
    // ProducerConfig.postProcessAndValidateIdempotenceConfigs: an explicit enable.idempotence=true
    // with acks=1 is an error, in a file as in the scenario; the error points at the file's acks.
    let dir = write_files(
        "config-file-explicit",
        &[("p.properties", b"enable.idempotence=true\nacks=1\n")],
    );
    let e = parse(
        &dir,
        &scenario("", "", r#", config_file: "p.properties""#, ""),
        &[],
    )
    .expect_err("Kafka refuses the producer");
    assert!(e.message.starts_with("Must set acks to all"), "{e}");
    assert_eq!(e.place.file, format!("{}", dir.join("p.properties").display()));
    assert_eq!(e.place.location.map(|l| (l.line, l.column)), Some((2, 1)), "{e}");
    let note = e.note.as_deref().unwrap_or_default();
    assert!(
        note.starts_with("loaded by producer `p1`'s `config_file` at "),
        "{note}"
    );
}

#[test]
fn a_key_given_twice_in_the_file_keeps_its_last_value() {
    let dir = write_files(
        "config-file-twice",
        &[("p.properties", b"linger.ms=3\nlinger.ms=4\n")],
    );
    let s = parse(
        &dir,
        &scenario("", "", r#", config_file: "p.properties""#, ""),
        &[],
    )
    .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(s.producers[0].config.linger, SimDuration::from_ms(4));
}

#[test]
fn ignorable_keys_are_accepted_in_the_scenario_config_too() {
    let dir = scratch_dir("config-file-in-scenario");
    let text = scenario(
        "",
        "",
        r#", config: { "client.id": "checkout", "ssl.keystore.type": "PKCS12" }"#,
        "",
    );
    let s = parse(&dir, &text, &[]).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(s.ignored.len(), 1);
    assert_eq!(s.ignored[0].keys, ["client.id", "ssl.keystore.type"]);
    assert!(s.ignored[0].file.ends_with("s.ron"), "{:?}", s.ignored);
    // A key whose behaviour matters but is not modelled stays an error.
    let text = scenario("", "", r#", config: { "compression.type": "lz4" }"#, "");
    let e = parse(&dir, &text, &[]).expect_err("not modelled");
    assert_eq!(
        e.message,
        "`compression.type` is a Kafka producer config that kafkasim does not model yet"
    );
}

/// Kafka 4.0's `QuorumController` never reads `leader.imbalance.per.broker.percentage` (only the
/// ZooKeeper controller did): a pasted `server.properties` keeps it, and it changes nothing.
#[test]
fn the_zookeeper_only_imbalance_percentage_is_accepted_and_ignored() {
    let dir = scratch_dir("config-file-imbalance-percentage");
    let text = scenario(
        r#", config: { "leader.imbalance.per.broker.percentage": 10 }"#,
        "",
        "",
        "",
    );
    let s = parse(&dir, &text, &[]).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(s.ignored.len(), 1);
    assert_eq!(s.ignored[0].keys, ["leader.imbalance.per.broker.percentage"]);
}

#[test]
fn the_summary_lists_the_ignored_keys_once_per_file() {
    let o = kafkasim()
        .args(["run", "producer-config-file", "--no-trace"])
        .current_dir(scratch_dir("config-file-elsewhere"))
        .output()
        .expect("runs");
    let out = String::from_utf8_lossy(&o.stdout);
    assert_eq!(o.status.code(), Some(0), "{}", String::from_utf8_lossy(&o.stderr));
    assert!(
        out.contains("\nignored: no effect in the model\n  scenarios/configs/producer.properties: bootstrap.servers, client.id, key.serializer, value.serializer, security.protocol, sasl.mechanism, ssl.truststore.location\n"),
        "{out}"
    );
}

#[test]
fn the_bundled_example_reads_its_file_and_its_override() {
    let s = Scenario::from_file("scenarios/producer-config-file.ron").unwrap_or_else(|e| panic!("{e}"));
    let p = &s.producers[0].config;
    assert_eq!(p.acks, Acks::All);
    assert!(p.idempotence);
    assert_eq!(p.batch_size_bytes, 65_536);
    assert_eq!(
        p.linger,
        SimDuration::from_ms(5),
        "the scenario's config overrides the file's 20"
    );
}

#[test]
fn set_refuses_a_key_that_changes_nothing() {
    let o = kafkasim()
        .args([
            "run",
            "producer-config-file",
            "--set",
            "bootstrap.servers=localhost:9092",
        ])
        .output()
        .expect("runs");
    assert_eq!(o.status.code(), Some(2));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains(
            "`bootstrap.servers` has no effect in the model: --set bootstrap.servers=... would change nothing"
        ),
        "{err}"
    );
}

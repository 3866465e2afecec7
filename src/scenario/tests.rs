//! The typed results of the transaction keys, the `transactions` workload, processors (one
//! config block split between a consumer and a producer), the internal topics and the
//! producer/processor fault targets.

use super::config::{IsolationLevel, TransactionVersion};
use super::{
    Fault, Files, OFFSETS_TOPIC, Overrides, Scenario, ScenarioError, TRANSACTION_STATE_TOPIC, Target,
    Transactions, WarningKind,
};
use crate::sim::SimDuration;

/// Three brokers with `cluster` config entries, topics `orders` (3 partitions) and `totals`,
/// producer `p1` with `producer` config entries and `workload` fields, then `rest` (more
/// top-level fields).
fn text(cluster: &str, producer: &str, workload: &str, rest: &str) -> String {
    format!(
        r#"Scenario(
    name: "t", description: "", duration: "1s",
    cluster: (brokers: 3, config: {{ {cluster} }}),
    topics: [ (name: "orders", partitions: 3), (name: "totals", partitions: 1) ],
    producers: [ (id: "p1", config: {{ {producer} }},
                  workload: (topic: "orders", records: 20, rate: "1/ms"{workload})) ],
    {rest}
)"#
    )
}

fn parse(text: &str) -> Result<Scenario, ScenarioError> {
    Scenario::parse("t.ron", text)
}

fn valid(text: &str) -> Scenario {
    parse(text).unwrap_or_else(|e| panic!("{e}"))
}

/// One processor `app` reading `orders` into `totals` in group `g1`, with `config` entries and
/// `extra` fields.
fn processor(config: &str, extra: &str) -> String {
    format!(
        r#"processors: [ (id: "app", group: "g1", topics: ["orders"], output: "totals",
                        config: {{ {config} }}{extra}) ],"#
    )
}

#[test]
fn a_producer_is_not_transactional_unless_it_has_a_transactional_id() {
    let s = valid(&text("", "", "", ""));
    let p = &s.producers[0];
    assert_eq!(p.config.transactional_id, None);
    assert_eq!(p.config.transaction_timeout, SimDuration::from_ms(60_000));
    assert_eq!(p.workload.transactions, None);
    assert_eq!(s.transaction_state_topic(), None);
    assert_eq!(s.offsets_topic(), None);
    assert!(s.topics.iter().all(|t| !t.internal));
}

#[test]
fn a_transactional_producer_and_its_transactions_are_typed() {
    let s = valid(&text(
        "",
        r#""transactional.id": " orders-1 ", "transaction.timeout.ms": 10000"#,
        ", transactions: (records: 5, abort_every: 3)",
        "",
    ));
    let p = &s.producers[0];
    // Trimmed, as `ConfigDef.parseType` trims a STRING.
    assert_eq!(p.config.transactional_id.as_deref(), Some("orders-1"));
    assert_eq!(p.config.transaction_timeout, SimDuration::from_ms(10_000));
    assert!(p.config.idempotence, "a transactional producer is idempotent");
    assert_eq!(
        p.workload.transactions,
        Some(Transactions {
            records: 5,
            abort_every: 3
        })
    );
    assert_eq!(p.config.properties["transactional.id"], "orders-1");
}

#[test]
fn abort_every_defaults_to_never() {
    let s = valid(&text(
        "",
        r#""transactional.id": "orders-1""#,
        ", transactions: (records: 10)",
        "",
    ));
    assert_eq!(
        s.producers[0].workload.transactions,
        Some(Transactions {
            records: 10,
            abort_every: 0
        })
    );
}

#[test]
fn an_empty_transactional_id_fails_before_the_idempotence_rules() {
    // Kafka's ConfigDef validators run before postProcessAndValidateIdempotenceConfigs.
    let e = parse(&text(
        "",
        r#""transactional.id": "", "acks": "1", "enable.idempotence": true"#,
        "",
        "",
    ))
    .expect_err("invalid");
    assert_eq!(
        e.message,
        "Invalid value  for configuration transactional.id: String must be non-empty"
    );
}

#[test]
fn a_transactional_id_with_silently_disabled_idempotence_is_refused_at_the_key_that_disabled_it() {
    for (config, key) in [
        (r#""enable.idempotence": false"#, "\"enable.idempotence\""),
        (r#""retries": 0"#, "\"retries\""),
        (r#""acks": "0""#, "\"acks\""),
    ] {
        let t = text("", &format!(r#"{config}, "transactional.id": "x""#), "", "");
        let e = parse(&t).expect_err("invalid");
        assert_eq!(
            e.message, "Cannot set a transactional.id without also enabling idempotence.",
            "{config}"
        );
        let at = e.place.location.expect("located");
        let line = t.lines().nth(at.line - 1).expect("a line");
        assert!(line[at.column - 1..].starts_with(key), "{config}: {e}");
    }
}

#[test]
fn a_transaction_timeout_above_the_brokers_maximum_is_refused_unless_the_maximum_allows_it() {
    let producer = r#""transactional.id": "x", "transaction.timeout.ms": 1000000"#;
    let e = parse(&text("", producer, "", "")).expect_err("invalid");
    assert!(e.message.contains("INVALID_TRANSACTION_TIMEOUT"), "{e}");
    let s = valid(&text(
        r#""transaction.max.timeout.ms": 1000000"#,
        producer,
        "",
        "",
    ));
    assert_eq!(
        s.producers[0].config.transaction_timeout,
        SimDuration::from_ms(1_000_000)
    );
    // Without a transactional.id the producer never asks the coordinator.
    valid(&text("", r#""transaction.timeout.ms": 1000000"#, "", ""));
}

#[test]
fn the_brokers_transaction_settings_have_kafkas_defaults_and_take_the_keys() {
    let defaults = valid(&text("", "", "", "")).cluster.config.transactions;
    assert_eq!(defaults.state_log_partitions, 50);
    assert_eq!(defaults.state_log_replication_factor, 3);
    assert_eq!(defaults.state_log_min_isr, 2);
    assert_eq!(defaults.max_timeout, SimDuration::from_ms(900_000));
    assert_eq!(defaults.abort_cleanup_interval, SimDuration::from_ms(10_000));
    assert_eq!(defaults.version, TransactionVersion::V2);
    let set = valid(&text(
        r#""transaction.state.log.num.partitions": 7, "transaction.state.log.replication.factor": 2,
           "transaction.state.log.min.isr": 1, "transaction.max.timeout.ms": 5000,
           "transaction.abort.timed.out.transaction.cleanup.interval.ms": 250,
           "kafkasim.transaction.version": 1"#,
        "",
        "",
        "",
    ))
    .cluster
    .config
    .transactions;
    assert_eq!(
        (
            set.state_log_partitions,
            set.state_log_replication_factor,
            set.state_log_min_isr
        ),
        (7, 2, 1)
    );
    assert_eq!(set.max_timeout, SimDuration::from_ms(5000));
    assert_eq!(set.abort_cleanup_interval, SimDuration::from_ms(250));
    assert_eq!(set.version, TransactionVersion::V1);
}

#[test]
fn a_transactional_id_creates_the_transaction_state_topic_from_the_keys() {
    let s = valid(&text(
        r#""transaction.state.log.num.partitions": 7, "transaction.state.log.replication.factor": 2,
           "transaction.state.log.min.isr": 1"#,
        r#""transactional.id": "x""#,
        "",
        "",
    ));
    let i = s.transaction_state_topic().expect("created") as usize;
    let t = &s.topics[i];
    assert_eq!(t.name, TRANSACTION_STATE_TOPIC);
    assert!(t.internal);
    assert_eq!((t.partitions, t.replication_factor), (7, 2));
    assert_eq!(t.config.min_insync_replicas, 1);
    assert!(!t.config.unclean_leader_election);
    assert_eq!(s.offsets_topic(), None, "no group, no offsets topic");
}

#[test]
fn both_internal_topics_are_found_by_their_accessors() {
    let s = valid(&text(
        "",
        "",
        "",
        &processor(r#""transactional.id": "app-1""#, ""),
    ));
    let offsets = s.offsets_topic().expect("a group") as usize;
    let state = s.transaction_state_topic().expect("a transactional id") as usize;
    assert_eq!(s.topics[offsets].name, OFFSETS_TOPIC);
    assert_eq!(s.topics[state].name, TRANSACTION_STATE_TOPIC);
    assert_eq!((offsets, state), (2, 3), "after the scenario's own topics");
}

#[test]
fn a_consumer_reads_uncommitted_unless_told_otherwise() {
    let consumer = |config: &str| {
        let rest = format!(r#"consumers: [ (id: "c1", topics: ["orders"], config: {{ {config} }}) ],"#);
        valid(&text("", "", "", &rest)).consumers[0].config.isolation
    };
    assert_eq!(consumer(""), IsolationLevel::ReadUncommitted);
    assert_eq!(
        consumer(r#""isolation.level": "read_committed""#),
        IsolationLevel::ReadCommitted
    );
}

#[test]
fn a_processors_config_is_split_between_its_consumer_and_its_producer() {
    let s = valid(&text(
        "",
        "",
        "",
        &processor(
            r#""transactional.id": "app-1", "linger.ms": 7, "isolation.level": "read_committed",
               "max.poll.records": 3, "request.timeout.ms": 20000, "client.id": "x",
               "key.serializer": "k", "key.deserializer": "k""#,
            r#", processing: "5ms", start: "1s""#,
        ),
    ));
    let p = &s.processors[0];
    assert_eq!((p.id.as_str(), p.group.as_str()), ("app", "g1"));
    assert_eq!((p.topics.as_slice(), p.output), ([0].as_slice(), 1));
    assert_eq!(p.processing, SimDuration::from_ms(5));
    assert_eq!(p.start, SimDuration::from_ms(1000));
    // Consumer keys to the consumer, producer keys to the producer...
    assert_eq!(p.consumer.isolation, IsolationLevel::ReadCommitted);
    assert_eq!(p.consumer.max_poll_records, 3);
    assert_eq!(p.producer.transactional_id.as_deref(), Some("app-1"));
    assert_eq!(p.producer.linger, SimDuration::from_ms(7));
    // ... the shared client keys to both, and each client's properties only its own keys.
    assert_eq!(p.consumer.net.request_timeout, SimDuration::from_ms(20_000));
    assert_eq!(p.producer.net.request_timeout, SimDuration::from_ms(20_000));
    let keys = |props: &super::config::Properties| props.keys().cloned().collect::<Vec<_>>();
    assert_eq!(
        keys(&p.consumer.properties),
        [
            "client.id",
            "isolation.level",
            "key.deserializer",
            "max.poll.records",
            "request.timeout.ms"
        ]
    );
    assert_eq!(
        keys(&p.producer.properties),
        [
            "client.id",
            "key.serializer",
            "linger.ms",
            "request.timeout.ms",
            "transactional.id"
        ]
    );
    // The summary lists each ignored key once.
    assert_eq!(
        s.ignored[0].keys,
        ["client.id", "key.deserializer", "key.serializer"]
    );
}

#[test]
fn a_processor_has_defaults_and_no_transactional_id_of_its_own() {
    let s = valid(&text("", "", "", &processor("", "")));
    let p = &s.processors[0];
    assert_eq!((p.processing, p.start), (SimDuration::ZERO, SimDuration::ZERO));
    assert_eq!(p.producer.transactional_id, None);
    assert_eq!(p.consumer.isolation, IsolationLevel::ReadUncommitted);
    assert!(s.offsets_topic().is_some(), "its group needs __consumer_offsets");
    assert_eq!(s.transaction_state_topic(), None);
}

#[test]
fn a_processor_key_known_to_neither_client_is_an_error_suggesting_from_both() {
    for (key, suggestion) in [
        ("isolation.levl", "isolation.level"),
        ("transactional.idd", "transactional.id"),
    ] {
        let e = parse(&text("", "", "", &processor(&format!(r#""{key}": "x""#), ""))).expect_err("invalid");
        assert_eq!(e.message, format!("unknown consumer or producer config `{key}`"));
        assert_eq!(
            e.help.as_deref(),
            Some(format!("did you mean `{suggestion}`?").as_str())
        );
    }
    let e = parse(&text("", "", "", &processor(r#""zzz": 1"#, ""))).expect_err("invalid");
    assert_eq!(
        e.help.as_deref(),
        Some("`kafkasim configs consumer` and `kafkasim configs producer` list the supported keys")
    );
}

#[test]
fn a_processor_key_one_client_does_not_model_gets_that_clients_message() {
    let e = parse(&text("", "", "", &processor(r#""compression.type": "lz4""#, ""))).expect_err("invalid");
    assert_eq!(
        e.message,
        "`compression.type` is a Kafka producer config that kafkasim does not model yet"
    );
    let e = parse(&text("", "", "", &processor(r#""group.id": "g""#, ""))).expect_err("invalid");
    assert_eq!(e.message, "`group.id` is not set in a config block in kafkasim");
}

#[test]
fn a_processors_config_file_is_split_too_and_set_reaches_both_halves() {
    const FILES: &[(&str, &[u8])] = &[(
        "app.properties",
        b"isolation.level=read_committed\ntransactional.id=app-1\nrequest.timeout.ms=20000\n",
    )];
    let t = text(
        "",
        "",
        "",
        r#"processors: [ (id: "app", group: "g1", topics: ["orders"], output: "totals",
                          config_file: "app.properties") ],"#,
    );
    let overrides = Overrides::parse(&["request.timeout.ms=25000".to_string()]).expect("valid --set");
    let s =
        Scenario::parse_in("t.ron", &t, &overrides, Files::Bundled(FILES)).unwrap_or_else(|e| panic!("{e}"));
    let p = &s.processors[0];
    assert_eq!(p.consumer.isolation, IsolationLevel::ReadCommitted);
    assert_eq!(p.producer.transactional_id.as_deref(), Some("app-1"));
    assert_eq!(p.consumer.net.request_timeout, SimDuration::from_ms(25_000));
    assert_eq!(p.producer.net.request_timeout, SimDuration::from_ms(25_000));
}

#[test]
fn crash_and_restart_name_producers_and_processors() {
    let rest = format!(
        r#"{}
    faults: [
        (at: "100ms", fault: Crash(producer: "p1")),
        (at: "200ms", fault: Restart(producer: "p1")),
        (at: "300ms", fault: Crash(processor: "app")),
        (at: "400ms", fault: Restart(processor: "app")),
        (at: "500ms", fault: Pause(node: Client("app"), for: "1s")),
    ],"#,
        processor("", "")
    );
    let s = valid(&text("", "", "", &rest));
    let targets: Vec<Option<Target<'_>>> = s.faults.iter().map(|f| f.fault.target()).collect();
    assert_eq!(
        targets,
        [
            Some(Target::Producer("p1")),
            Some(Target::Producer("p1")),
            Some(Target::Processor("app")),
            Some(Target::Processor("app")),
            None,
        ]
    );
    assert!(s.warnings.is_empty(), "{:?}", s.warnings);
    assert!(matches!(
        &s.faults[0].fault,
        Fault::Crash { producer: Some(p), broker: None, consumer: None, processor: None, .. } if p == "p1"
    ));
}

#[test]
fn restarting_a_running_producer_or_processor_is_a_warning_as_for_consumers() {
    let rest = format!(
        r#"{}
    faults: [
        (at: "100ms", fault: Restart(producer: "p1")),
        (at: "200ms", fault: Crash(processor: "app")),
        (at: "300ms", fault: Crash(processor: "app")),
    ],"#,
        processor("", "")
    );
    let s = valid(&text("", "", "", &rest));
    let kinds: Vec<WarningKind> = s.warnings.iter().map(|w| w.kind).collect();
    assert_eq!(
        kinds,
        [WarningKind::RestartOfRunning, WarningKind::CrashOfCrashed]
    );
}

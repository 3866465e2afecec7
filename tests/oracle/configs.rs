//! Producer, consumer, broker and topic configs: kafkasim's validation against Kafka's config
//! classes (and the checks the client constructors add; `KafkaConfig` for brokers,
//! `LogConfig.validate` for topics), and `kafkasim configs`' defaults against the ConfigDefs.

use crate::harness::{ask, assert_agree, rng};
use kafkasim::kafka::group::assignor::Strategy;
use kafkasim::scenario::Scenario;
use kafkasim::scenario::config::{ConfigSet, KeyDef, Kind, all_sets};
use rand::{Rng, RngExt};
use serde_json::{Map, Value, json};

/// Integer keys that Kafka's ConfigDef leaves without a `Range` but where kafkasim requires a
/// minimum, because a negative or zero timer or size has no meaning in the model (a heartbeat
/// every 0 ms would never let simulated time advance). Kafka accepts values below kafkasim's
/// minimum; kafkasim refuses them with a located error. Such configs are counted, not compared.
/// Client keys first, then broker keys (`KafkaConfig`'s, via ServerConfigs, KRaftConfigs,
/// ReplicationConfigs, ServerLogConfigs and GroupCoordinatorConfig). `transaction.timeout.ms`:
/// Kafka's producer takes any int, and the transaction coordinator refuses a timeout that is not
/// positive at `InitProducerId` (`TransactionStateManager.validateTransactionTimeoutMs`).
const STRICTER: [&str; 16] = [
    // Kafka's validator takes 0, then `LogCleaner` divides the dedupe buffer by it.
    "log.cleaner.threads",
    "socket.connection.setup.timeout.ms",
    "transaction.timeout.ms",
    "session.timeout.ms",
    "heartbeat.interval.ms",
    "broker.heartbeat.interval.ms",
    "broker.session.timeout.ms",
    "replica.lag.time.max.ms",
    "replica.fetch.wait.max.ms",
    "replica.fetch.min.bytes",
    "replica.socket.timeout.ms",
    "replica.high.watermark.checkpoint.interval.ms",
    "log.flush.interval.ms",
    "group.initial.rebalance.delay.ms",
    "group.min.session.timeout.ms",
    "group.max.session.timeout.ms",
];

/// Keys whose Kafka default is null, meaning "the value of another key" (KafkaConfig.scala's
/// `logFlushIntervalMs` falls back to `log.flush.scheduler.interval.ms`): kafkasim prints the
/// value that takes effect, checked against that other key's default.
const DEFAULT_FROM: [(&str, &str); 1] = [("log.flush.interval.ms", "log.flush.scheduler.interval.ms")];

/// True when `config` gives a [`STRICTER`] key a value below kafkasim's minimum.
fn below_kafkasim_minimum(set: &ConfigSet, config: &[(&str, String)]) -> bool {
    config.iter().any(|(key, value)| {
        let def = set.keys.iter().find(|d| d.name == *key);
        match (def.map(|d| d.kind), value.trim().parse::<i64>()) {
            (Some(Kind::Int { min, .. }), Ok(n)) => STRICTER.contains(key) && n < min,
            _ => false,
        }
    })
}

/// True when a broker `config` gives `log.cleaner.min.compaction.lag.ms` a value above
/// `log.cleaner.max.compaction.lag.ms`. Kafka's broker starts with them, but refuses every topic
/// that inherits them (`LogConfig.validate` checks a new topic's config over the broker's
/// defaults), and a scenario's topics do: kafkasim refuses the scenario.
fn topics_refused(config: &[(&str, String)]) -> bool {
    let lag = |key: &str| {
        config
            .iter()
            .rev()
            .find(|(k, _)| *k == key)
            .and_then(|(_, v)| v.trim().parse::<i64>().ok())
    };
    let min = lag("log.cleaner.min.compaction.lag.ms").unwrap_or(0);
    let max = lag("log.cleaner.max.compaction.lag.ms").unwrap_or(i64::MAX);
    min > max
}

/// The config set named `what`.
fn set(what: &str) -> &'static ConfigSet {
    all_sets()
        .into_iter()
        .find(|s| s.what == what)
        .expect("a config set")
}

/// A valid value of `def`, as a properties file would have it.
fn valid(def: &KeyDef, rng: &mut impl Rng) -> String {
    match def.kind {
        Kind::Int { min, max } => match rng.random_range(0..6) {
            0 => min.to_string(),
            1 => max.to_string(),
            // A null default ("") is no value a properties file can give.
            2 if !def.default.is_empty() => def.default.to_string(),
            2 => min.to_string(),
            _ => rng
                .random_range(min..=max.min(min.saturating_add(200_000)))
                .to_string(),
        },
        Kind::Bool => ["true", "false", "TRUE", " false "][rng.random_range(0..4)].to_string(),
        Kind::OneOf(list) => list[rng.random_range(0..list.len())].to_string(),
        Kind::OffsetReset => ["latest", "earliest", "none", " earliest "][rng.random_range(0..4)].to_string(),
        Kind::Assignors => {
            // Kafka takes class names (ConsumerPartitionAssignor.getAssignorInstances).
            let mut names: Vec<&str> = Strategy::ALL
                .iter()
                .filter(|_| rng.random_bool(0.5))
                .map(|s| s.class_name())
                .collect();
            if names.is_empty() {
                names.push(Strategy::Range.class_name());
            }
            names.join(",")
        }
        Kind::Text => ["instance-1", "app.instance_2", "a"][rng.random_range(0..3)].to_string(),
        Kind::ListOf(list) => {
            let mut items: Vec<&str> = list.iter().copied().filter(|_| rng.random_bool(0.5)).collect();
            if items.is_empty() {
                items.push(list[0]);
            }
            items.join(if rng.random_bool(0.5) { "," } else { ", " })
        }
        Kind::Ratio => ["0", "1", "0.5", "0.25", " 0.9 "][rng.random_range(0..5)].to_string(),
    }
}

/// A value of `def` that a type or validator may reject.
fn odd(def: &KeyDef, rng: &mut impl Rng) -> String {
    match def.kind {
        Kind::Int { min, max } => {
            let mut options = vec![
                "abc".to_string(),
                "1.5".to_string(),
                String::new(),
                format!(" {min} "),
            ];
            if let Some(below) = min.checked_sub(1) {
                options.push(below.to_string());
            }
            if max < i64::MAX {
                options.push((max + 1).to_string());
            }
            options.swap_remove(rng.random_range(0..options.len()))
        }
        Kind::Bool => ["yes", "1", "", "truee"][rng.random_range(0..4)].to_string(),
        Kind::OneOf(list) => {
            let pick = list[rng.random_range(0..list.len())];
            [pick.to_uppercase(), format!(" {pick} "), "bogus".to_string()][rng.random_range(0..3)].clone()
        }
        // Not by_duration (KIP-1106), which kafkasim does not model.
        Kind::OffsetReset => ["EARLIEST", "bogus", ""][rng.random_range(0..3)].to_string(),
        // Not kafkasim's short names: Kafka refuses them (ClassNotFoundException), kafkasim
        // takes them as a convenience.
        Kind::Assignors => {
            ["bogus", "", "org.apache.kafka.clients.consumer.Range"][rng.random_range(0..3)].to_string()
        }
        Kind::Text => ["", "bad id!", "über"][rng.random_range(0..3)].to_string(),
        Kind::ListOf(list) => {
            let pick = list[rng.random_range(0..list.len())];
            [pick.to_uppercase(), format!("{pick},"), "bogus".to_string()][rng.random_range(0..3)].clone()
        }
        // Not exponents (`5e-1`): Kafka's Double.parseDouble reads them, kafkasim asks for a
        // decimal.
        Kind::Ratio => ["1.5", "-0.1", "abc", ""][rng.random_range(0..4)].to_string(),
    }
}

/// kafkasim's own keys (`kafkasim.*`): Kafka has no such key (it would ignore it), so they are
/// neither generated nor compared.
fn kafkas(def: &&KeyDef) -> bool {
    !def.name.starts_with("kafkasim.")
}

/// A random config of 0 to 6 keys of `set`: all valid values, or one odd value among valid ones.
fn config(set: &ConfigSet, rng: &mut impl Rng) -> Vec<(&'static str, String)> {
    let defs: Vec<&KeyDef> = set.keys.iter().filter(kafkas).collect();
    config_of(&defs, None, rng)
}

/// A random config of up to 6 keys drawn from `defs` (`always` among them, when given): all
/// valid values, or one odd value among valid ones.
fn config_of(
    defs: &[&'static KeyDef],
    always: Option<&str>,
    rng: &mut impl Rng,
) -> Vec<(&'static str, String)> {
    let mut keys: Vec<&KeyDef> = defs.iter().copied().filter(|d| Some(d.name) == always).collect();
    let count = rng.random_range(keys.len()..=defs.len().min(6));
    while keys.len() < count {
        let def = defs[rng.random_range(0..defs.len())];
        if !keys.iter().any(|k| k.name == def.name) {
            keys.push(def);
        }
    }
    let odd_one = rng
        .random_bool(0.4)
        .then(|| rng.random_range(0..keys.len().max(1)));
    keys.iter()
        .enumerate()
        .map(|(i, def)| {
            let value = if Some(i) == odd_one {
                odd(def, rng)
            } else {
                valid(def, rng)
            };
            (def.name, value)
        })
        .collect()
}

/// A scenario whose one producer, consumer, processor, cluster or topic has `config`; every
/// value is a quoted string, as in a properties file. The brokers allow every session and
/// transaction timeout, as Kafka's client configs do.
fn scenario(what: &str, config: &[(&str, String)]) -> String {
    let entries: Vec<String> = config
        .iter()
        .map(|(k, v)| format!("\"{k}\": \"{}\"", v.replace('\\', "\\\\").replace('"', "\\\"")))
        .collect();
    let config = entries.join(", ");
    let client = match what {
        "producer" => format!(
            "producers: [(id: \"p\", config: {{ {config} }}, workload: (topic: \"t\", records: 1, rate: \"1/s\"))],"
        ),
        "consumer" => format!(
            "producers: [], consumers: [(id: \"c\", group: \"g\", topics: [\"t\"], config: {{ {config} }})],"
        ),
        "processor" => format!(
            "producers: [], processors: [(id: \"a\", group: \"g\", topics: [\"t\"], output: \"o\", config: {{ {config} }})],"
        ),
        _ => "producers: [],".to_string(),
    };
    let cluster = match what {
        "broker" => config.clone(),
        _ => "\"group.min.session.timeout.ms\": 0, \"group.max.session.timeout.ms\": 2147483647, \"transaction.max.timeout.ms\": 2147483647".to_string(),
    };
    let topic = match what {
        "topic" => config,
        _ => String::new(),
    };
    format!(
        "Scenario(name: \"oracle\", description: \"one client\", seed: 1, duration: \"1s\", cluster: (brokers: 3, config: {{ {cluster} }}), \
         topics: [(name: \"t\", partitions: 1, replication_factor: 1, config: {{ {topic} }}), (name: \"o\", partitions: 1)], {client} expect: [])"
    )
}

/// kafkasim's verdict: `None` when it accepts, else its message.
fn kafkasim(what: &str, config: &[(&str, String)]) -> Option<String> {
    Scenario::parse("oracle.ron", &scenario(what, config))
        .err()
        .map(|e| e.message)
}

/// Whether kafkasim's message quotes Kafka's. It words its own for an unknown assignor: Kafka's
/// is a class-loading error (`bogus ClassNotFoundException exception occurred`, or
/// ConsumerCoordinator's for an empty list), so only accept/reject is compared there.
fn quotes_kafka(ours: &str) -> bool {
    !ours.contains("for configuration partition.assignment.strategy:")
}

/// Kafka's message as kafkasim quotes it: without the `requirement failed: ` that Scala's
/// `require` (KafkaConfig.validateValues) puts before the text it was given.
fn kafka_message(kafka: &Value) -> Option<&str> {
    let message = kafka["message"].as_str()?;
    Some(message.strip_prefix("requirement failed: ").unwrap_or(message))
}

fn compare_configs(what: &str, seed: u64) {
    let mut rng = rng(seed);
    let configs: Vec<_> = (0..CASES).map(|_| config(set(what), &mut rng)).collect();
    compare(what, &[set(what)], &configs);
}

/// Random configs per test.
const CASES: usize = 3_000;

/// The keys of `config` that `set` models, as Kafka's config request for that set.
fn request(set: &ConfigSet, config: &[(&str, String)]) -> Value {
    let map: Map<String, Value> = config
        .iter()
        .filter(|(k, _)| set.keys.iter().any(|d| d.name == *k))
        .map(|(k, v)| (k.to_string(), json!(v)))
        .collect();
    json!({"op": "config", "which": set.what, "config": map})
}

/// kafkasim's verdict on each of `configs`, given to one `what` (a producer, consumer, processor,
/// cluster or topic), against Kafka's: the clients of `sets` each built with the keys of the
/// config it models, in order; the first that refuses gives Kafka's message (a processor is a
/// consumer and a producer).
fn compare(what: &str, sets: &[&ConfigSet], configs: &[Vec<(&'static str, String)>]) {
    assert_eq!(kafkasim(what, &[]), None, "the empty {what} config is valid");
    let below_minimum = |c: &[(&str, String)]| {
        sets.iter().any(|s| below_kafkasim_minimum(s, c)) || (what == "broker" && topics_refused(c))
    };
    let stricter = configs.iter().filter(|c| below_minimum(c)).count();
    assert!(
        stricter * 10 < configs.len(),
        "{stricter} of {} configs are not compared",
        configs.len()
    );
    // Not even asked: Kafka may take such a value and fail later (`log.cleaner.threads` 0).
    let compared: Vec<&Vec<(&'static str, String)>> = configs.iter().filter(|c| !below_minimum(c)).collect();
    let requests: Vec<Value> = compared
        .iter()
        .flat_map(|c| sets.iter().map(|s| request(s, c)))
        .collect();
    let answers = ask(&requests);
    let disagreements: Vec<String> = compared
        .iter()
        .zip(answers.chunks(sets.len()))
        .filter_map(|(c, kafka)| {
            let ours = kafkasim(what, c);
            let refused = kafka.iter().find(|a| a["ok"].as_bool() != Some(true));
            let agree = match (&ours, refused) {
                (None, None) => true,
                (Some(ours), Some(kafka)) => {
                    kafka["ok"].as_bool() == Some(false)
                        && (!quotes_kafka(ours) || kafka_message(kafka) == Some(ours.as_str()))
                }
                _ => false,
            };
            let kafka: Vec<String> = kafka.iter().map(Value::to_string).collect();
            (!agree).then(|| format!("{c:?}\n  Kafka    {}\n  kafkasim {ours:?}", kafka.join(" then ")))
        })
        .collect();
    assert_agree(
        &format!("{what} configs"),
        configs.len() - stricter,
        &disagreements,
    );
}

#[test]
#[ignore = "needs the JVM oracle: conformance/oracle/run"]
fn producer_configs_are_accepted_and_rejected_as_kafka_does() {
    compare_configs("producer", 12);
}

#[test]
#[ignore = "needs the JVM oracle: conformance/oracle/run"]
fn consumer_configs_are_accepted_and_rejected_as_kafka_does() {
    compare_configs("consumer", 13);
}

/// Producer keys that decide whether a `transactional.id` is allowed, or that it changes.
const TRANSACTIONAL_KEYS: [&str; 7] = [
    "transactional.id",
    "transaction.timeout.ms",
    "enable.idempotence",
    "acks",
    "retries",
    "max.in.flight.requests.per.connection",
    "delivery.timeout.ms",
];

#[test]
#[ignore = "needs the JVM oracle: conformance/oracle/run"]
fn transactional_producer_configs_are_accepted_and_rejected_as_kafka_does() {
    // Always a transactional.id (valid or odd), with the idempotence keys it depends on:
    // `ProducerConfig.postProcessAndValidateIdempotenceConfigs` refuses it once idempotence is
    // off, explicitly or silently.
    let defs: Vec<&KeyDef> = set("producer")
        .keys
        .iter()
        .filter(|d| TRANSACTIONAL_KEYS.contains(&d.name))
        .collect();
    assert_eq!(
        defs.len(),
        TRANSACTIONAL_KEYS.len(),
        "every key is a producer key"
    );
    let mut rng = rng(16);
    let configs: Vec<_> = (0..CASES)
        .map(|_| config_of(&defs, Some("transactional.id"), &mut rng))
        .collect();
    compare("producer", &[set("producer")], &configs);
}

#[test]
#[ignore = "needs the JVM oracle: conformance/oracle/run"]
fn processor_configs_are_split_and_checked_as_kafkas_consumer_and_producer_do() {
    // One block for both clients: each key to the client that has it, the shared client keys
    // to both; Kafka's verdict is its consumer's, then its producer's.
    let mut defs: Vec<&KeyDef> = Vec::new();
    for def in set("consumer")
        .keys
        .iter()
        .chain(set("producer").keys)
        .filter(kafkas)
    {
        if !defs.iter().any(|d| d.name == def.name) {
            defs.push(def);
        }
    }
    let mut rng = rng(17);
    let configs: Vec<_> = (0..CASES).map(|_| config_of(&defs, None, &mut rng)).collect();
    compare("processor", &[set("consumer"), set("producer")], &configs);
}

#[test]
#[ignore = "needs the JVM oracle: conformance/oracle/run"]
fn broker_configs_are_accepted_and_rejected_as_kafka_does() {
    compare_configs("broker", 14);
}

#[test]
#[ignore = "needs the JVM oracle: conformance/oracle/run"]
fn topic_configs_are_accepted_and_rejected_as_kafka_does() {
    compare_configs("topic", 15);
}

/// A default as Kafka's ConfigDef prints it, in kafkasim's words: assignors by name (Kafka's
/// default is a list of `Class` objects, printed as `class org.apache...RangeAssignor`).
fn normalised(key: &str, default: &str) -> String {
    if key != "partition.assignment.strategy" {
        return default.to_string();
    }
    default
        .split(',')
        .map(|s| {
            let class = s.trim_start_matches("class ");
            class.parse::<Strategy>().map(Strategy::name).unwrap_or(class)
        })
        .collect::<Vec<_>>()
        .join(",")
}

/// The range Kafka's validator (as `Range.toString` prints it: `[0,...]`, `[1,...,32767]`, or no
/// validator) allows a key of Java type `java` (whose bounds are `lowest..=highest`).
fn kafka_range(validator: &Value, lowest: i64, highest: i64) -> Option<(i64, i64)> {
    let Some(text) = validator.as_str() else {
        return Some((lowest, highest));
    };
    let inner = text.strip_prefix('[')?.strip_suffix(']')?;
    let mut parts = inner.split(",...");
    let min = parts.next()?.parse().ok()?;
    let max = match parts.next()? {
        "" => highest,
        rest => rest.strip_prefix(',')?.parse().ok()?,
    };
    Some((min, max))
}

/// What differs between one kafkasim key and Kafka's ConfigDef entry: default, Java type, range.
fn key_differences(what: &str, def: &KeyDef, kafka: &Value) -> Vec<String> {
    let mut found = Vec::new();
    let from = DEFAULT_FROM
        .iter()
        .find(|(key, _)| *key == def.name)
        .map_or(def.name, |(_, other)| *other);
    match &kafka["defaults"][from] {
        Value::String(s) if normalised(def.name, s) == def.default => {}
        // A null default: kafkasim prints "" for it.
        Value::Null if kafka["defaults"].get(def.name).is_some() && def.default.is_empty() => {}
        other => found.push(format!(
            "{what} {}: default: Kafka {other}, kafkasim `{}`",
            def.name, def.default
        )),
    }
    if let (Kind::Int { min, max }, Some((java, lowest, highest))) = (def.kind, def.kind.java_type()) {
        let theirs = &kafka["types"][def.name];
        if theirs.as_str() != Some(java) {
            found.push(format!(
                "{what} {}: type: Kafka {theirs}, kafkasim {java}",
                def.name
            ));
        }
        let range = kafka_range(&kafka["validators"][def.name], lowest, highest);
        if range != Some((min, max)) && !STRICTER.contains(&def.name) {
            found.push(format!(
                "{what} {}: range: Kafka {range:?}, kafkasim {min}..={max}",
                def.name
            ));
        }
    }
    found
}

#[test]
#[ignore = "needs the JVM oracle: conformance/oracle/run"]
fn every_key_kafkasim_prints_has_the_config_defs_default_type_and_range() {
    let sets = ["producer", "consumer", "broker", "topic"];
    let requests: Vec<Value> = sets
        .iter()
        .map(|w| json!({"op": "defaults", "which": w}))
        .collect();
    let answers = ask(&requests);
    let mut compared = 0;
    let mut disagreements = Vec::new();
    for (what, kafka) in sets.iter().zip(&answers) {
        for def in set(what).keys.iter().filter(kafkas) {
            compared += 1;
            disagreements.extend(key_differences(what, def, kafka));
        }
    }
    assert_agree("keys", compared, &disagreements);
}

/// Broker keys kafkasim accepts and ignores that are not in `AbstractKafkaConfig.CONFIG_DEF`:
/// `super.users` is `StandardAuthorizer`'s own config; `leader.imbalance.per.broker.percentage`
/// left `ReplicationConfigs` with the ZooKeeper controller in 4.0, and a 4.0 broker given it logs
/// it as unknown and goes on, so a `server.properties` of 3.x may still carry it.
const OUTSIDE_CONFIG_DEF: [&str; 2] = ["super.users", "leader.imbalance.per.broker.percentage"];

#[test]
#[ignore = "needs the JVM oracle: conformance/oracle/run"]
fn every_key_kafkasim_rejects_or_ignores_by_name_is_one_of_kafkas() {
    // A key listed as "not modelled yet" or "ignored" gets a message that calls it a Kafka key:
    // it must be one of the ConfigDef's (or of `OUTSIDE_CONFIG_DEF`).
    let sets = ["producer", "consumer", "broker", "topic"];
    let requests: Vec<Value> = sets
        .iter()
        .map(|w| json!({"op": "defaults", "which": w}))
        .collect();
    let answers = ask(&requests);
    let mut compared = 0;
    let mut unknown = Vec::new();
    for (what, kafka) in sets.iter().zip(&answers) {
        let known = |key: &str| {
            kafka["defaults"].get(key).is_some()
                || kafka["required"]
                    .as_array()
                    .is_some_and(|r| r.iter().any(|k| k.as_str() == Some(key)))
        };
        let named = set(what)
            .not_modelled
            .iter()
            .chain(set(what).ignored.iter().flat_map(|l| l.iter()));
        for key in named {
            compared += 1;
            if !known(key) && !OUTSIDE_CONFIG_DEF.contains(key) {
                unknown.push(format!("{what} {key}: not a key of Kafka's ConfigDef"));
            }
        }
    }
    assert_agree("named keys", compared, &unknown);
}

//! `kafkasim plan`: the scenario as resolved JSON (every topic's replica lists drawn from the
//! seed, each client's and broker's settings as Kafka properties, the workloads, the processors,
//! the faults and the expectations), what another program needs to replay it, e.g. on a real cluster
//! (`conformance/run`).

use super::{CommandError, Exit, load_with};
use crate::kafka::assignment;
use crate::kafka::group::assignor::Strategy;
use crate::scenario::config::Properties;
use crate::scenario::fault::ResetTo;
use crate::scenario::{CommitMode, Fault, NodeRef, Overrides, Scenario, Seek, Trigger};
use serde_json::{Value, json};
use std::io::Write;

/// The plan's format version, bumped when a field changes meaning.
const VERSION: u32 = 1;

/// Prints the plan of `file` (with `--set` values applied and `seed` instead of the
/// scenario's).
pub fn plan(
    file: &str,
    seed: Option<u64>,
    set: &[String],
    out: &mut dyn Write,
) -> Result<Exit, CommandError> {
    let scenario = load_with(file, &Overrides::parse(set)?)?;
    let value = plan_of(&scenario, seed.unwrap_or(scenario.seed));
    writeln!(out, "{value:#}")?;
    Ok(Exit::Ok)
}

/// The plan as JSON.
pub fn plan_of(s: &Scenario, seed: u64) -> Value {
    let topic_name = |i: usize| s.topics[i].name.clone();
    json!({
        "format": "kafkasim-plan",
        "version": VERSION,
        "scenario": s.name,
        "file": s.file,
        "seed": seed,
        "duration_us": s.duration.as_us(),
        "brokers": s.cluster.brokers,
        "broker_config": kafka_properties(&s.cluster.config.properties),
        "model_config": model_properties(&s.cluster.config.properties),
        "network": {
            "latency_us": s.cluster.network.latency.as_us(),
            "jitter_us": s.cluster.network.jitter.as_us(),
            "bandwidth_bits_per_s": s.cluster.network.bandwidth,
        },
        "topics": s.topics.iter().map(|t| json!({
            "name": t.name,
            "partitions": t.partitions,
            "replication_factor": t.replication_factor,
            "replicas": t.replicas(s.cluster.brokers, seed),
            "config": kafka_properties(&t.config.properties),
            "internal": t.internal,
        })).collect::<Vec<_>>(),
        "producers": s.producers.iter().map(|p| json!({
            "id": p.id,
            "config": kafka_properties(&p.config.properties),
            "topic": topic_name(p.workload.topic),
            "keys": p.workload.keys,
            "records": p.workload.records,
            "rate": {"count": p.workload.rate.count, "per_us": p.workload.rate.per.as_us()},
            "value_bytes": p.workload.value_bytes,
            "start_us": p.workload.start.as_us(),
            "tombstone_every": p.workload.tombstone_every,
            "transactions": p.workload.transactions.map(|t| json!({
                "records": t.records,
                "abort_every": t.abort_every,
            })),
        })).collect::<Vec<_>>(),
        "consumers": s.consumers.iter().map(|c| json!({
            "id": c.id,
            "topics": c.topics.iter().map(|&t| topic_name(t)).collect::<Vec<_>>(),
            "group": c.group,
            "config": with_assignor_classes(kafka_properties(&c.config.properties)),
            "start_us": c.start.as_us(),
            "processing_us": c.processing.as_us(),
            "commit": match c.commit {
                CommitMode::Auto => "Auto",
                CommitMode::BeforeProcessing => "BeforeProcessing",
                CommitMode::AfterProcessing => "AfterProcessing",
            },
            "seek": c.seek.map(seek),
        })).collect::<Vec<_>>(),
        "processors": s.processors.iter().map(|p| json!({
            "id": p.id,
            "group": p.group,
            "topics": p.topics.iter().map(|&t| topic_name(t)).collect::<Vec<_>>(),
            "output": topic_name(p.output),
            "consumer_config": with_assignor_classes(kafka_properties(&p.consumer.properties)),
            "producer_config": kafka_properties(&p.producer.properties),
            "start_us": p.start.as_us(),
            "processing_us": p.processing.as_us(),
        })).collect::<Vec<_>>(),
        "faults": faults(s, seed),
        "expect": s.expect.iter().map(|e| e.text.clone()).collect::<Vec<_>>(),
    })
}

/// The properties a real Kafka takes: kafkasim's own model keys (`kafkasim.*`) left out.
fn kafka_properties(props: &Properties) -> Value {
    properties_where(props, |k| !k.starts_with(MODEL_PREFIX))
}

/// `partition.assignment.strategy` with Kafka's class names: the short names (`range`,
/// `cooperative-sticky`) are kafkasim's convenience, and Kafka's consumer loads each name as a
/// class (`ConsumerPartitionAssignor.getAssignorInstances`).
fn with_assignor_classes(mut props: Value) -> Value {
    const KEY: &str = "partition.assignment.strategy";
    if let Some(list) = props.get(KEY).and_then(Value::as_str).map(str::to_owned) {
        let classes: Vec<String> = list
            .split(',')
            .map(|name| {
                let name = name.trim();
                name.parse::<Strategy>()
                    .map_or_else(|_| name.to_string(), |s| s.class_name().to_string())
            })
            .collect();
        props[KEY] = Value::String(classes.join(","));
    }
    props
}

/// The model's own keys (`kafkasim.*`): settings of the simulator, not of Kafka.
fn model_properties(props: &Properties) -> Value {
    properties_where(props, |k| k.starts_with(MODEL_PREFIX))
}

const MODEL_PREFIX: &str = "kafkasim.";

fn properties_where(props: &Properties, keep: impl Fn(&str) -> bool) -> Value {
    props
        .iter()
        .filter(|(k, _)| keep(k))
        .map(|(k, v)| (k.clone(), Value::String(v.clone())))
        .collect::<serde_json::Map<_, _>>()
        .into()
}

/// The faults, each `AddPartitions` with the replica lists kafkasim's controller gives the new
/// partitions when every broker is up (Kafka's `StripedReplicaPlacer` draws them at random: a
/// replay passes these to `Admin.createPartitions` so both sides place them alike).
fn faults(s: &Scenario, seed: u64) -> Value {
    let brokers: Vec<u32> = (1..=s.cluster.brokers).collect();
    let mut counts: Vec<u32> = s.topics.iter().map(|t| t.partitions).collect();
    s.faults
        .iter()
        .map(|f| {
            let mut v = fault(&f.fault);
            if let Fault::AddPartitions { topic, count } = &f.fault
                && let Some(t) = s.topics.iter().position(|x| &x.name == topic)
                && *count > counts[t]
            {
                let replicas = s.topics[t].replicas(s.cluster.brokers, seed);
                let rf = s.topics[t].replication_factor;
                let added = assignment::rack_unaware_added(
                    &brokers,
                    replicas[0][0],
                    counts[t],
                    count - counts[t],
                    rf,
                );
                v["replicas"] = json!(added);
                counts[t] = *count;
            }
            json!({"trigger": trigger(s, &f.trigger), "fault": v, "text": f.text})
        })
        .collect()
}

/// Where a consumer seeks after its first assignment: `"beginning"`, `"end"`, `{"offset": N}`, or
/// `{"timestamp_us": T}` (microseconds after the run's start, for `offsetsForTimes`).
fn seek(s: Seek) -> Value {
    match s {
        Seek::Beginning => json!("beginning"),
        Seek::End => json!("end"),
        Seek::Offset(o) => json!({"offset": o}),
        Seek::Time(t) => json!({"timestamp_us": t.as_us()}),
    }
}

fn trigger(s: &Scenario, t: &Trigger) -> Value {
    match t {
        Trigger::At(at) => json!({"at_us": at.as_us()}),
        Trigger::Sent { producer, records } => {
            json!({"sent": {"producer": s.producers[*producer].id, "records": records}})
        }
        Trigger::Acked { producer, records } => {
            json!({"acked": {"producer": s.producers[*producer].id, "records": records}})
        }
        Trigger::Appended {
            topic,
            partition,
            offset,
        } => json!({"appended": {"topic": s.topics[*topic].name, "partition": partition, "offset": offset}}),
    }
}

fn node(n: &NodeRef) -> Value {
    match n {
        NodeRef::Broker(id) => json!({"broker": id}),
        NodeRef::Client(id) => json!({"client": id}),
        NodeRef::Controller => json!("controller"),
    }
}

fn fault(f: &Fault) -> Value {
    match f {
        Fault::Crash {
            broker,
            consumer,
            producer,
            processor,
            lose_unflushed,
        } => {
            json!({"kind": "Crash", "broker": broker, "consumer": consumer, "producer": producer, "processor": processor, "lose_unflushed": lose_unflushed})
        }
        Fault::Restart {
            broker,
            consumer,
            producer,
            processor,
        } => {
            json!({"kind": "Restart", "broker": broker, "consumer": consumer, "producer": producer, "processor": processor})
        }
        Fault::ConsumerJoin { consumer } => json!({"kind": "ConsumerJoin", "consumer": consumer}),
        Fault::ConsumerLeave { consumer } => json!({"kind": "ConsumerLeave", "consumer": consumer}),
        Fault::Pause { node: n, duration } => {
            json!({"kind": "Pause", "node": node(n), "for_us": duration.as_us()})
        }
        Fault::ControlledShutdown { broker } => json!({"kind": "ControlledShutdown", "broker": broker}),
        Fault::Isolate { node: n } => json!({"kind": "Isolate", "node": node(n)}),
        Fault::Partition { groups } => json!({
            "kind": "Partition",
            "groups": groups.iter().map(|g| g.iter().map(node).collect::<Vec<_>>()).collect::<Vec<_>>(),
        }),
        Fault::Heal => json!({"kind": "Heal"}),
        Fault::DropRequests {
            broker,
            client,
            count,
        } => json!({"kind": "DropRequests", "broker": broker, "client": client, "count": count}),
        Fault::DropResponses {
            broker,
            client,
            count,
        } => json!({"kind": "DropResponses", "broker": broker, "client": client, "count": count}),
        Fault::SlowLink { nodes, extra_latency } => {
            json!({"kind": "SlowLink", "nodes": [node(&nodes.0), node(&nodes.1)], "extra_latency_us": extra_latency.as_us()})
        }
        Fault::Reset { broker, client } => json!({"kind": "Reset", "broker": broker, "client": client}),
        Fault::AddPartitions { topic, count } => {
            json!({"kind": "AddPartitions", "topic": topic, "count": count})
        }
        Fault::ResetOffsets {
            group,
            to,
            topic,
            partition,
        } => {
            let to = match to {
                ResetTo::Earliest => json!("earliest"),
                ResetTo::Latest => json!("latest"),
                ResetTo::Offset(o) => json!({"offset": o}),
                ResetTo::Time(t) => json!({"timestamp_us": t.as_us()}),
            };
            json!({"kind": "ResetOffsets", "group": group, "to": to, "topic": topic, "partition": partition})
        }
        Fault::DeleteRecords {
            topic,
            partition,
            before,
        } => {
            json!({"kind": "DeleteRecords", "topic": topic, "partition": partition, "before": before})
        }
    }
}

#[cfg(test)]
mod tests {
    use super::plan_of;
    use crate::scenario::Scenario;
    use serde_json::json;

    #[test]
    fn processors_transactions_and_their_faults_reach_the_plan() {
        let text = r#"Scenario(
            name: "t", description: "", duration: "1s",
            cluster: (brokers: 3, config: { "kafkasim.transaction.version": 1 }),
            topics: [ (name: "orders", partitions: 1), (name: "totals", partitions: 1) ],
            producers: [ (id: "p1", config: { "transactional.id": "orders-1" },
                          workload: (topic: "orders", records: 4, rate: "1/ms",
                                     transactions: (records: 2, abort_every: 2))) ],
            processors: [ (id: "app", group: "g1", topics: ["orders"], output: "totals",
                           processing: "5ms",
                           config: { "transactional.id": "app-1", "isolation.level": "read_committed",
                                     "partition.assignment.strategy": "range" }) ],
            faults: [ (at: "1ms", fault: Crash(producer: "p1")),
                      (at: "2ms", fault: Restart(processor: "app")) ],
        )"#;
        let s = Scenario::parse("t.ron", text).unwrap_or_else(|e| panic!("{e}"));
        let p = plan_of(&s, 1);
        assert_eq!(p["model_config"], json!({"kafkasim.transaction.version": "1"}));
        assert_eq!(
            p["producers"][0]["transactions"],
            json!({"records": 2, "abort_every": 2})
        );
        assert_eq!(
            p["processors"][0],
            json!({
                "id": "app", "group": "g1", "topics": ["orders"], "output": "totals",
                "consumer_config": {
                    "isolation.level": "read_committed",
                    "partition.assignment.strategy": "org.apache.kafka.clients.consumer.RangeAssignor",
                },
                "producer_config": {"transactional.id": "app-1"},
                "start_us": 0, "processing_us": 5000,
            })
        );
        assert_eq!(p["faults"][0]["fault"]["producer"], "p1");
        assert_eq!(p["faults"][1]["fault"]["processor"], "app");
        let internal: Vec<&str> = p["topics"]
            .as_array()
            .expect("topics")
            .iter()
            .filter(|t| t["internal"] == true)
            .filter_map(|t| t["name"].as_str())
            .collect();
        assert_eq!(internal, ["__consumer_offsets", "__transaction_state"]);
    }

    #[test]
    fn storage_configs_tombstones_seeks_and_admin_faults_reach_the_plan() {
        let text = r#"Scenario(
            name: "t", description: "", duration: "1s",
            cluster: (brokers: 3, config: { "log.retention.check.interval.ms": 2000,
                                            "log.cleaner.backoff.ms": 1000,
                                            "offsets.retention.minutes": 1 }),
            topics: [ (name: "carts", partitions: 1,
                       config: { "cleanup.policy": "compact,delete", "delete.retention.ms": 2000,
                                 "segment.bytes": 2048, "retention.ms": 10000 }) ],
            producers: [ (id: "p1", workload: (topic: "carts", keys: ["a", "b"], records: 4,
                                               rate: "1/ms", tombstone_every: 2)) ],
            consumers: [
                (id: "c1", topics: ["carts"], seek: Beginning),
                (id: "c2", topics: ["carts"], seek: End),
                (id: "c3", group: "g", topics: ["carts"], seek: Offset(120)),
                (id: "c4", topics: ["carts"], seek: Time("5s")),
                (id: "c5", topics: ["carts"]),
            ],
            faults: [ (at: "1ms", fault: DeleteRecords(topic: "carts", partition: 0, before: 2)),
                      (at: "2ms", fault: ResetOffsets(group: "g", to: Time("5s"))) ],
        )"#;
        let s = Scenario::parse("t.ron", text).unwrap_or_else(|e| panic!("{e}"));
        let p = plan_of(&s, 1);
        assert_eq!(
            p["broker_config"],
            json!({"log.cleaner.backoff.ms": "1000", "log.retention.check.interval.ms": "2000",
                   "offsets.retention.minutes": "1"})
        );
        assert_eq!(
            p["topics"][0]["config"],
            json!({"cleanup.policy": "compact,delete", "delete.retention.ms": "2000",
                   "retention.ms": "10000", "segment.bytes": "2048"})
        );
        assert_eq!(p["producers"][0]["tombstone_every"], 2);
        let seeks: Vec<&serde_json::Value> = p["consumers"]
            .as_array()
            .expect("consumers")
            .iter()
            .map(|c| &c["seek"])
            .collect();
        assert_eq!(
            seeks,
            [
                &json!("beginning"),
                &json!("end"),
                &json!({"offset": 120}),
                &json!({"timestamp_us": 5_000_000}),
                &json!(null),
            ]
        );
        assert_eq!(
            p["faults"][0]["fault"],
            json!({"kind": "DeleteRecords", "topic": "carts", "partition": 0, "before": 2})
        );
        assert_eq!(
            p["faults"][1]["fault"],
            json!({"kind": "ResetOffsets", "group": "g", "to": {"timestamp_us": 5_000_000},
                   "topic": null, "partition": null})
        );
    }
}

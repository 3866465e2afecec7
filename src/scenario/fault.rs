//! Faults and when they fire, as written in a scenario and as the simulator reads them.

use crate::sim::{SimDuration, SimTime};
use serde::Deserialize;
use std::fmt;

/// A node named in a fault: `Broker(1)`, `Client("p1")` or `Controller`.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Deserialize)]
#[serde(rename = "node", deny_unknown_fields)]
pub enum NodeRef {
    /// A broker by id (`1..=brokers`).
    Broker(u32),
    /// A producer, consumer or processor by its `id`.
    Client(String),
    /// The KRaft controller.
    Controller,
}

impl fmt::Display for NodeRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            NodeRef::Broker(id) => write!(f, "Broker({id})"),
            NodeRef::Client(id) => write!(f, "Client(\"{id}\")"),
            NodeRef::Controller => write!(f, "Controller"),
        }
    }
}

/// The process a `Crash` or `Restart` names.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Target<'a> {
    /// A broker by id.
    Broker(u32),
    /// A consumer by client id.
    Consumer(&'a str),
    /// A producer by client id.
    Producer(&'a str),
    /// A processor by client id.
    Processor(&'a str),
}

impl fmt::Display for Target<'_> {
    /// As the fault's field is written: `broker: 1`, `producer: "p1"`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Target::Broker(b) => write!(f, "broker: {b}"),
            Target::Consumer(id) => write!(f, "consumer: \"{id}\""),
            Target::Producer(id) => write!(f, "producer: \"{id}\""),
            Target::Processor(id) => write!(f, "processor: \"{id}\""),
        }
    }
}

/// The one target of `broker`, `consumer`, `producer` and `processor`, when exactly one is given.
fn one_target<'a>(
    broker: &Option<u32>,
    consumer: &'a Option<String>,
    producer: &'a Option<String>,
    processor: &'a Option<String>,
) -> Option<Target<'a>> {
    let given = [
        broker.map(Target::Broker),
        consumer.as_deref().map(Target::Consumer),
        producer.as_deref().map(Target::Producer),
        processor.as_deref().map(Target::Processor),
    ];
    match given.into_iter().flatten().collect::<Vec<_>>()[..] {
        [one] => Some(one),
        _ => None,
    }
}

/// What a fault does.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(rename = "fault", deny_unknown_fields)]
pub enum Fault {
    /// A broker process dies: connections reset, flushed and page-cache data survive. With
    /// `lose_unflushed: true` the machine loses power: only flushed data survives. Or a client
    /// process dies: a consumer (`consumer: "c1"`) sends no `LeaveGroup` and makes no last
    /// commit, and its group notices at the session timeout; a producer (`producer: "p1"`) or a
    /// processor (`processor: "app"`) leaves its open transaction to the coordinator. Exactly one
    /// of `broker`, `consumer`, `producer` and `processor` is given.
    Crash {
        /// Broker id.
        #[serde(default)]
        broker: Option<u32>,
        /// Or a consumer's client id.
        #[serde(default)]
        consumer: Option<String>,
        /// Or a producer's client id.
        #[serde(default)]
        producer: Option<String>,
        /// Or a processor's client id.
        #[serde(default)]
        processor: Option<String>,
        /// A power loss rather than a process crash (brokers).
        #[serde(default)]
        lose_unflushed: bool,
    },
    /// A crashed broker starts again, recovers its log and re-registers with the controller; or
    /// a crashed client starts again, with nothing but its configuration (a transactional
    /// producer or processor calls `initTransactions()` again, which fences its old incarnation).
    /// Exactly one of `broker`, `consumer`, `producer` and `processor` is given.
    Restart {
        /// Broker id.
        #[serde(default)]
        broker: Option<u32>,
        /// Or a consumer's client id.
        #[serde(default)]
        consumer: Option<String>,
        /// Or a producer's client id.
        #[serde(default)]
        producer: Option<String>,
        /// Or a processor's client id.
        #[serde(default)]
        processor: Option<String>,
    },
    /// A consumer that has not started yet starts now (it joins its group).
    ConsumerJoin {
        /// Client id.
        consumer: String,
    },
    /// A consumer closes: it commits (with `enable.auto.commit`), sends `LeaveGroup` and stops.
    ConsumerLeave {
        /// Client id.
        consumer: String,
    },
    /// The node stops for a while (a long GC pause): it handles nothing, its timers wait, and
    /// what arrives meanwhile is handled when it resumes.
    Pause {
        /// The node.
        node: NodeRef,
        /// How long, written like `"12s"`.
        #[serde(rename = "for", deserialize_with = "super::units::de_duration")]
        duration: SimDuration,
    },
    /// The broker shuts down gracefully: the controller moves its leaderships away first, then
    /// it flushes its logs and stops (until `Restart`).
    ControlledShutdown {
        /// Broker id.
        broker: u32,
    },
    /// Cut every link of one node.
    Isolate {
        /// The node to cut off.
        node: NodeRef,
    },
    /// Split the network: nodes in different groups cannot reach each other. Nodes in no group
    /// keep all their links.
    Partition {
        /// The sides of the split.
        groups: Vec<Vec<NodeRef>>,
    },
    /// Restore every link and remove every slow link.
    Heal,
    /// Drop the next `count` requests from `client` to `broker`.
    DropRequests {
        /// Broker id.
        broker: u32,
        /// Client id.
        client: String,
        /// How many requests.
        count: u32,
    },
    /// Drop the next `count` responses from `broker` to `client`.
    DropResponses {
        /// Broker id.
        broker: u32,
        /// Client id.
        client: String,
        /// How many responses.
        count: u32,
    },
    /// Add latency to the link between two nodes (both directions) until `Heal`.
    SlowLink {
        /// The two ends.
        nodes: (NodeRef, NodeRef),
        /// Extra one-way latency, written like `"200ms"`.
        #[serde(deserialize_with = "super::units::de_duration")]
        extra_latency: SimDuration,
    },
    /// Reset the connection between a client and a broker: requests in flight fail as
    /// disconnects and the client reconnects.
    Reset {
        /// Broker id.
        broker: u32,
        /// Client id.
        client: String,
    },
    /// An admin grows a topic to `count` partitions (`kafka-topics --alter --partitions`,
    /// `CreatePartitions`). Clients learn it from their next metadata refresh.
    AddPartitions {
        /// Topic name.
        topic: String,
        /// The new number of partitions.
        count: u32,
    },
    /// An admin deletes the records of a partition below an offset (`kafka-delete-records`,
    /// `DeleteRecords` to the leader): the log start offset moves there, refused above the high
    /// watermark.
    DeleteRecords {
        /// Topic name.
        topic: String,
        /// Partition id.
        partition: u32,
        /// The new log start offset.
        before: u64,
    },
}

impl Fault {
    /// The process a `Crash` or `Restart` names (every validated one names exactly one); `None`
    /// for the other faults.
    pub fn target(&self) -> Option<Target<'_>> {
        match self {
            Fault::Crash {
                broker,
                consumer,
                producer,
                processor,
                ..
            }
            | Fault::Restart {
                broker,
                consumer,
                producer,
                processor,
            } => one_target(broker, consumer, producer, processor),
            _ => None,
        }
    }
}

/// An event a fault can wait for, as written (`after: Acked(producer: "p1", records: 100)`).
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(rename = "trigger", deny_unknown_fields)]
pub enum RawTrigger {
    /// After the producer's application has called send() this many times.
    Sent {
        /// Producer id.
        producer: String,
        /// Count of records.
        records: u64,
    },
    /// After this many of the producer's records were acknowledged.
    Acked {
        /// Producer id.
        producer: String,
        /// Count of records.
        records: u64,
    },
    /// After a record is appended at `offset` (or beyond) of the partition.
    Appended {
        /// Topic name.
        topic: String,
        /// Partition id.
        partition: u32,
        /// Offset.
        offset: u64,
    },
}

/// When a fault fires, resolved against the scenario.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Trigger {
    /// At a fixed time.
    At(SimTime),
    /// After producer number `producer` has sent `records` records.
    Sent {
        /// Index into the scenario's producers.
        producer: usize,
        /// Count of records.
        records: u64,
    },
    /// After producer number `producer` has had `records` records acknowledged.
    Acked {
        /// Index into the scenario's producers.
        producer: usize,
        /// Count of records.
        records: u64,
    },
    /// After the log end offset of a partition passes `offset`.
    Appended {
        /// Index into the scenario's topics.
        topic: usize,
        /// Partition id.
        partition: u32,
        /// Offset.
        offset: u64,
    },
}

/// One fault and when it fires.
#[derive(Clone, Debug)]
pub struct FaultSpec {
    /// When.
    pub trigger: Trigger,
    /// What.
    pub fault: Fault,
    /// The fault as written (comments left out, whitespace tidied), for the trace.
    pub text: String,
}

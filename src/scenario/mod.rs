//! Scenario files: the RON schema, Kafka config validation and the fault schedule.
//!
//! [`Scenario::from_file`] and [`Scenario::parse`] either return a fully validated scenario or a
//! [`ScenarioError`] that says where (file:line:column), what is wrong and how to fix it.

mod blocks;
pub mod config;
pub mod error;
mod expect;
pub mod fault;
pub mod files;
mod footguns;
mod legal_name;
mod properties;
mod raw;
mod ron_error;
mod schedule;
pub mod source;
#[cfg(test)]
mod tests;
mod tidy;
pub mod units;
mod validate;
pub mod warning;

use crate::check::expect::Expectation;
use crate::kafka::assignment;
use crate::sim::{RngTree, SimDuration};
pub use blocks::IgnoredKeys;
pub use config::{
    BrokerConfig, ConsumerConfig, IsolationLevel, Overrides, ProducerConfig, RequestCosts, TopicConfig,
    TransactionVersion, TransactionsConfig,
};
pub use error::{Location, Place, ScenarioError};
pub use fault::{Fault, FaultSpec, NodeRef, Target, Trigger};
pub use files::Files;
use serde::Deserialize;
use std::num::NonZeroU64;
pub use units::Rate;
pub use warning::{Warning, WarningKind};

/// A validated scenario.
#[derive(Clone, Debug)]
pub struct Scenario {
    /// The file it was read from, as the user named it.
    pub file: String,
    /// Short name.
    pub name: String,
    /// What it shows.
    pub description: String,
    /// Seed of every random choice (overridable with `--seed`).
    pub seed: u64,
    /// How much simulated time a run covers.
    pub duration: SimDuration,
    /// Brokers and network.
    pub cluster: Cluster,
    /// Topics, in file order.
    pub topics: Vec<Topic>,
    /// Producers, in file order.
    pub producers: Vec<ProducerSpec>,
    /// Consumers, in file order.
    pub consumers: Vec<ConsumerSpec>,
    /// Consume-transform-produce applications, in file order.
    pub processors: Vec<ProcessorSpec>,
    /// Faults, in file order.
    pub faults: Vec<FaultSpec>,
    /// What `kafkasim check` verifies.
    pub expect: Vec<Expectation>,
    /// Keys of the configs that change nothing in the model, by file (the summary lists them).
    pub ignored: Vec<IgnoredKeys>,
    /// Settings Kafka accepts that break a cluster, and faults that do nothing: the commands
    /// print them; they change nothing in the run.
    pub warnings: Vec<Warning>,
}

/// The brokers and the network between all nodes.
#[derive(Clone, Debug)]
pub struct Cluster {
    /// Number of brokers; their ids are `1..=brokers`.
    pub brokers: u32,
    /// Broker configuration (the same on every broker).
    pub config: BrokerConfig,
    /// One-way latency and jitter of every link.
    pub network: NetworkSpec,
}

/// Link timing.
#[derive(Clone, Copy, Debug)]
pub struct NetworkSpec {
    /// One-way latency.
    pub latency: SimDuration,
    /// Up to this much extra delay, uniformly drawn per message from the `net` stream.
    pub jitter: SimDuration,
    /// Bits per second each direction of a link carries (`None`: unlimited). A message takes
    /// its size over this to go onto the wire, behind the messages ahead of it on the link.
    pub bandwidth: Option<u64>,
}

impl NetworkSpec {
    /// The default bandwidth: 1 Gbit/s, gigabit Ethernet as in a small on-premises cluster or a
    /// small cloud instance's baseline.
    pub const DEFAULT_BANDWIDTH: u64 = 1_000_000_000;
}

/// A topic and where its partitions live.
#[derive(Clone, Debug)]
pub struct Topic {
    /// Name.
    pub name: String,
    /// Number of partitions.
    pub partitions: u32,
    /// Replicas per partition.
    pub replication_factor: u32,
    /// Replica lists written in the scenario (preferred leader first), if any.
    pub assignment: Option<Vec<Vec<u32>>>,
    /// Topic configuration.
    pub config: TopicConfig,
    /// Kafka's own topic: `__consumer_offsets`, created because some consumer or processor has
    /// a group, or `__transaction_state`, created because some producer or processor has a
    /// `transactional.id`.
    pub internal: bool,
}

/// The name of the topic where group coordinators keep committed offsets.
pub const OFFSETS_TOPIC: &str = "__consumer_offsets";

/// The name of the topic where transaction coordinators keep the state of transactions.
pub const TRANSACTION_STATE_TOPIC: &str = "__transaction_state";

/// When a group member commits offsets.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize)]
#[serde(rename = "commit mode")]
pub enum CommitMode {
    /// Only what `enable.auto.commit` does (every `auto.commit.interval.ms`, in `poll()`).
    Auto,
    /// `commitSync()` of the polled records' positions right after `poll()`, before processing
    /// them: a crash loses the records being processed (at-most-once).
    BeforeProcessing,
    /// `commitSync()` once the polled records are processed: a crash redelivers them
    /// (at-least-once).
    AfterProcessing,
}

/// Where a consumer's application moves its position once it has its first assignment, as
/// `KafkaConsumer.seekToBeginning`, `seekToEnd` and `seek` do: it overrides the group's
/// committed offset and `auto.offset.reset` for those partitions (partitions assigned later start
/// from the committed offset).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize)]
#[serde(rename = "seek")]
pub enum Seek {
    /// `seekToBeginning`: the log start offset (`ListOffsets` earliest).
    Beginning,
    /// `seekToEnd`: the log end (`ListOffsets` latest: the high watermark, or the last stable
    /// offset with `read_committed`).
    End,
    /// `seek(partition, offset)`: this offset in every assigned partition; a fetch out of range
    /// then applies `auto.offset.reset`.
    Offset(u64),
    /// `offsetsForTimes` then `seek`: the first offset whose record's timestamp is at least this
    /// long after the start of the run (written `Time("5s")`). Where no record is that recent,
    /// `offsetsForTimes` answers `null` and the application seeks to the end instead, as
    /// `kafka-consumer-groups --reset-offsets --to-datetime` falls back to the latest offset.
    Time(#[serde(deserialize_with = "units::de_duration")] SimDuration),
}

impl Topic {
    /// Replica list per partition: the written assignment, or Kafka's rack-unaware assignment
    /// drawn from the run's seed.
    pub fn replicas(&self, brokers: u32, seed: u64) -> Vec<Vec<u32>> {
        if let Some(a) = &self.assignment {
            return a.clone();
        }
        let ids: Vec<u32> = (1..=brokers).collect();
        let mut r = RngTree::new(seed).fork(&format!("assignment/{}", self.name));
        // A scenario has at least one broker (validated); the fallback keeps this total anyway.
        let n = NonZeroU64::new(u64::from(brokers)).unwrap_or(NonZeroU64::MIN);
        let start = r.below(n) as usize;
        let shift = r.below(n) as usize;
        assignment::rack_unaware(&ids, self.partitions, self.replication_factor, start, shift)
    }
}

/// A producer and its workload.
#[derive(Clone, Debug)]
pub struct ProducerSpec {
    /// Client id.
    pub id: String,
    /// Configuration.
    pub config: ProducerConfig,
    /// What the application sends.
    pub workload: Workload,
    /// Set for the producer half of processor number `i` (its workload sends nothing by
    /// itself: it writes one output per input record the processor processes).
    pub processor: Option<usize>,
}

/// What a producer's application sends: `records` records at `rate`, keys in turn.
#[derive(Clone, Debug)]
pub struct Workload {
    /// Index into [`Scenario::topics`].
    pub topic: usize,
    /// Keys used in turn (record i gets key i mod len); `None` sends keyless records.
    pub keys: Option<Vec<String>>,
    /// How many records.
    pub records: u64,
    /// How fast the application calls send().
    pub rate: Rate,
    /// Value size of every record.
    pub value_bytes: u32,
    /// When the first send() happens.
    pub start: SimDuration,
    /// Send in transactions (needs a `transactional.id`); `None` sends outside transactions.
    pub transactions: Option<Transactions>,
    /// Every this-many-th record (the N-th, 2N-th... for N) is a tombstone: its key with a null
    /// value (needs `keys`); `None` sends no tombstones.
    pub tombstone_every: Option<NonZeroU64>,
}

impl Workload {
    /// Record number `seq` (0 for the first send) is a tombstone.
    pub fn is_tombstone(&self, seq: u64) -> bool {
        self.tombstone_every
            .is_some_and(|n| (seq + 1).is_multiple_of(n.get()))
    }

    /// Value bytes of record number `seq`: none for a tombstone (a null value is as long on
    /// the wire as an empty one: `DefaultRecord` writes its length, -1, as one varint byte).
    pub fn value_bytes_of(&self, seq: u64) -> u32 {
        if self.is_tombstone(seq) {
            0
        } else {
            self.value_bytes
        }
    }
}

/// How a transactional producer's application groups its sends: `beginTransaction()`, `records`
/// sends, `commitTransaction()`, except every `abort_every`-th transaction, which ends with
/// `abortTransaction()`. A last, shorter transaction commits what is left.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Transactions {
    /// Records per transaction (at least 1).
    pub records: u32,
    /// Every this-many-th transaction (the 3rd, 6th... for 3) aborts; 0 never aborts.
    pub abort_every: u32,
}

/// A consumer without a group: it is assigned every partition of its topics.
#[derive(Clone, Debug)]
pub struct ConsumerSpec {
    /// Client id.
    pub id: String,
    /// Indexes into [`Scenario::topics`].
    pub topics: Vec<usize>,
    /// Configuration.
    pub config: ConsumerConfig,
    /// When the consumer starts.
    pub start: SimDuration,
    /// The consumer group (`group.id`), if any.
    pub group: Option<String>,
    /// Time the application spends on each record it polls.
    pub processing: SimDuration,
    /// When it commits.
    pub commit: CommitMode,
    /// Where it seeks after its first assignment (`None`: the committed offset, else
    /// `auto.offset.reset`).
    pub seek: Option<Seek>,
    /// Set for the consumer half of processor number `i`.
    pub processor: Option<usize>,
}

/// A consume-transform-produce application: a group member that reads `topics` and writes one
/// record to `output` for each record it processes. With a `transactional.id` it writes its
/// output and commits its input offsets in one transaction (exactly-once); without, it commits
/// the offsets after its output is acknowledged (at-least-once).
#[derive(Clone, Debug)]
pub struct ProcessorSpec {
    /// Client id.
    pub id: String,
    /// The consumer group (`group.id`) it reads in and commits to.
    pub group: String,
    /// Indexes into [`Scenario::topics`]: what it reads.
    pub topics: Vec<usize>,
    /// Index into [`Scenario::topics`]: where it writes (not one of `topics`).
    pub output: usize,
    /// Time the application spends on each record it polls.
    pub processing: SimDuration,
    /// When it starts.
    pub start: SimDuration,
    /// Its consumer's configuration: the consumer keys (and the shared client keys) of its
    /// `config`.
    pub consumer: ConsumerConfig,
    /// Its producer's configuration: the producer keys (and the shared client keys) of its
    /// `config`.
    pub producer: ProducerConfig,
}

impl Scenario {
    /// Reads and validates a scenario file.
    pub fn from_file(path: &str) -> Result<Scenario, ScenarioError> {
        let bytes = std::fs::read(path)
            .map_err(|e| ScenarioError::whole_file(path, format!("cannot read the file: {e}")))?;
        Scenario::parse(path, &source::decode(path, bytes)?)
    }

    /// Validates scenario text; `file` is used in messages.
    pub fn parse(file: &str, text: &str) -> Result<Scenario, ScenarioError> {
        Scenario::parse_with_overrides(file, text, &Overrides::default())
    }

    /// Validates scenario text with `overrides` in every config block whose set has the key, as
    /// if the file said so (so Kafka's rules for explicit values apply to them).
    pub fn parse_with_overrides(
        file: &str,
        text: &str,
        overrides: &Overrides,
    ) -> Result<Scenario, ScenarioError> {
        Scenario::parse_in(file, text, overrides, Files::Disk)
    }

    /// [`Scenario::parse_with_overrides`], reading `config_file`s from `files`.
    pub fn parse_in(
        file: &str,
        text: &str,
        overrides: &Overrides,
        files: Files,
    ) -> Result<Scenario, ScenarioError> {
        let src = source::Source::new(file, text)
            .with_overrides(overrides)
            .with_files(files);
        validate::scenario(&src)
    }

    /// Index of `__consumer_offsets` among the topics, when some consumer or processor has a
    /// group.
    pub fn offsets_topic(&self) -> Option<u32> {
        self.internal_topic(OFFSETS_TOPIC)
    }

    /// Index of `__transaction_state` among the topics, when some producer or processor has a
    /// `transactional.id`.
    pub fn transaction_state_topic(&self) -> Option<u32> {
        self.internal_topic(TRANSACTION_STATE_TOPIC)
    }

    fn internal_topic(&self, name: &str) -> Option<u32> {
        self.topics
            .iter()
            .position(|t| t.internal && t.name == name)
            .map(|i| i as u32)
    }

    /// How many partitions topic number `topic` has at most: its own count, or the largest
    /// `AddPartitions` count of the faults read so far.
    pub fn partition_limit(&self, topic: usize) -> u32 {
        let name = &self.topics[topic].name;
        self.faults
            .iter()
            .filter_map(|f| match &f.fault {
                Fault::AddPartitions { topic: t, count } if t == name => Some(*count),
                _ => None,
            })
            .fold(self.topics[topic].partitions, u32::max)
    }

    /// The producer with client id `id`.
    pub fn producer_index(&self, id: &str) -> Option<usize> {
        self.producers.iter().position(|p| p.id == id)
    }

    /// The consumer with client id `id`.
    pub fn consumer_index(&self, id: &str) -> Option<usize> {
        self.consumers.iter().position(|c| c.id == id)
    }

    /// The processor with client id `id`.
    pub fn processor_index(&self, id: &str) -> Option<usize> {
        self.processors.iter().position(|p| p.id == id)
    }
}

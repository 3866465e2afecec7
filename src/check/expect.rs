//! `expect` entries: a checker or a counter, narrowed by topic/partition/key/client, and a bound;
//! or a partition's state (`Leader`, `Isr`) at a moment or at the end.

use crate::kafka::protocol::{BrokerId, ErrorCode};
use crate::kafka::record::Tp;
use crate::sim::SimTime;
use serde::Deserialize;
use std::fmt;

/// What an expectation counts.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize)]
pub enum Measure {
    /// Records acknowledged to the producer that no replica able to lead their partition holds.
    LostAcked,
    /// Records acknowledged to the producer, in the leader's log above its high watermark.
    UncommittedAcked,
    /// Records acknowledged to the producer, on the disk of a replica of a partition that has no
    /// leader at the end, which it may lead with.
    UnavailableAcked,
    /// Records with more than one copy in the final log (each such record counts once).
    Duplicates,
    /// Records that something sent later overtook.
    Reordered,
    /// Records acknowledged to the producer.
    Acked,
    /// Records whose send failed for good.
    Failed,
    /// Batch retries (re-enqueues).
    Retries,
    /// Retried batches a leader recognised as already written and answered with their original
    /// offset instead of appending them again (idempotent producer).
    Deduplicated,
    /// Produce requests sent.
    Requests,
    /// Records a consumer returned from poll().
    Consumed,
    /// Records a consumer read that the final log does not hold at that offset.
    ReadUncommitted,
    /// Offsets where two replicas hold different records below both their high watermarks.
    DivergentReplicas,
    /// Keys whose records went to more than one partition of a topic (it gained partitions).
    KeyMoved,
    /// Partitions group members gave up in rebalances (all of them under the eager protocol,
    /// only those that move under the cooperative one).
    Revoked,
    /// Records a consumer group processed more than once.
    Redelivered,
    /// Records a consumer group never processed although a committed offset passed them.
    Skipped,
    /// Records a consumer returned from poll() that belong to an aborted transaction.
    ReadAborted,
    /// Transactions a producer committed.
    Committed,
    /// Transactions aborted: by the producer's application, or by the coordinator (timeout,
    /// fencing).
    Aborted,
    /// Producer instances that learned a newer instance fenced them (`PRODUCER_FENCED`) and
    /// stopped.
    Fenced,
    /// Input records whose output is in the processor's committed output more than once.
    OutputDuplicates,
    /// Input records the processor's group committed past whose output never became visible.
    OutputMissing,
    /// Records a consumer group (or a consumer without a group) never read because retention or
    /// `DeleteRecords` deleted them while its position was at or below them.
    ExpiredUnread,
    /// Keys of a compacted topic whose last acknowledged write is not what a read of the whole
    /// final log gives for the key (a last write that is a tombstone must read as deleted).
    CompactionLost,
    /// Tombstones a consumer never read although it had read a value of their key and read on
    /// past them after a log cleaner removed them (`delete.retention.ms` shorter than its lag).
    MissedTombstone,
}

impl Measure {
    /// Every measure, in a stable order (for help texts).
    pub const ALL: [Measure; 26] = [
        Measure::LostAcked,
        Measure::UncommittedAcked,
        Measure::UnavailableAcked,
        Measure::Duplicates,
        Measure::Reordered,
        Measure::Acked,
        Measure::Failed,
        Measure::Retries,
        Measure::Deduplicated,
        Measure::Requests,
        Measure::Consumed,
        Measure::ReadUncommitted,
        Measure::DivergentReplicas,
        Measure::KeyMoved,
        Measure::Revoked,
        Measure::Redelivered,
        Measure::Skipped,
        Measure::ReadAborted,
        Measure::Committed,
        Measure::Aborted,
        Measure::Fenced,
        Measure::OutputDuplicates,
        Measure::OutputMissing,
        Measure::ExpiredUnread,
        Measure::CompactionLost,
        Measure::MissedTombstone,
    ];

    /// The name written in `expect` (`LostAcked`).
    pub fn variant(self) -> &'static str {
        match self {
            Measure::LostAcked => "LostAcked",
            Measure::UncommittedAcked => "UncommittedAcked",
            Measure::UnavailableAcked => "UnavailableAcked",
            Measure::Duplicates => "Duplicates",
            Measure::Reordered => "Reordered",
            Measure::Acked => "Acked",
            Measure::Failed => "Failed",
            Measure::Retries => "Retries",
            Measure::Deduplicated => "Deduplicated",
            Measure::Requests => "Requests",
            Measure::Consumed => "Consumed",
            Measure::ReadUncommitted => "ReadUncommitted",
            Measure::DivergentReplicas => "DivergentReplicas",
            Measure::KeyMoved => "KeyMoved",
            Measure::Revoked => "Revoked",
            Measure::Redelivered => "Redelivered",
            Measure::Skipped => "Skipped",
            Measure::ReadAborted => "ReadAborted",
            Measure::Committed => "Committed",
            Measure::Aborted => "Aborted",
            Measure::Fenced => "Fenced",
            Measure::OutputDuplicates => "OutputDuplicates",
            Measure::OutputMissing => "OutputMissing",
            Measure::ExpiredUnread => "ExpiredUnread",
            Measure::CompactionLost => "CompactionLost",
            Measure::MissedTombstone => "MissedTombstone",
        }
    }

    /// The checker's name in findings (`lost_acked`), or the counter's.
    pub fn name(self) -> &'static str {
        match self {
            Measure::LostAcked => "lost_acked",
            Measure::UncommittedAcked => "uncommitted_acked",
            Measure::UnavailableAcked => "unavailable_acked",
            Measure::Duplicates => "duplicates",
            Measure::Reordered => "reordered",
            Measure::Acked => "acked",
            Measure::Failed => "failed",
            Measure::Retries => "retries",
            Measure::Deduplicated => "deduplicated",
            Measure::Requests => "requests",
            Measure::Consumed => "consumed",
            Measure::ReadUncommitted => "read_uncommitted",
            Measure::DivergentReplicas => "divergent_replicas",
            Measure::KeyMoved => "key_moved",
            Measure::Revoked => "revoked",
            Measure::Redelivered => "redelivered",
            Measure::Skipped => "skipped",
            Measure::ReadAborted => "read_aborted",
            Measure::Committed => "committed",
            Measure::Aborted => "aborted",
            Measure::Fenced => "fenced",
            Measure::OutputDuplicates => "output_duplicates",
            Measure::OutputMissing => "output_missing",
            Measure::ExpiredUnread => "expired_unread",
            Measure::CompactionLost => "compaction_lost",
            Measure::MissedTombstone => "missed_tombstone",
        }
    }
}

/// Narrows what is counted. Unset fields match everything.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Filter {
    /// Only this topic.
    pub topic: Option<String>,
    /// Only this partition.
    pub partition: Option<u32>,
    /// Only records with this key.
    pub key: Option<String>,
    /// Only this producer's records.
    pub producer: Option<String>,
    /// For `Reordered`: order as this consumer saw it (instead of log order); for `Consumed`,
    /// `ReadUncommitted` and `MissedTombstone`: this consumer; for `ExpiredUnread`: this
    /// consumer's group (or the consumer, without a group).
    pub consumer: Option<String>,
    /// For `Failed`: records that failed with this error; for `Retries`: retries after it.
    pub error: Option<ErrorCode>,
}

/// The allowed range of a count.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Bound {
    /// Exactly n.
    Exactly(u64),
    /// At least `min`, at most `max` (either may be open).
    Range {
        /// Lower bound.
        min: Option<u64>,
        /// Upper bound.
        max: Option<u64>,
    },
}

impl Bound {
    /// Whether `n` is allowed.
    pub fn admits(self, n: u64) -> bool {
        match self {
            Bound::Exactly(x) => n == x,
            Bound::Range { min, max } => min.is_none_or(|m| n >= m) && max.is_none_or(|m| n <= m),
        }
    }
}

impl fmt::Display for Bound {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            Bound::Exactly(x) => write!(f, "exactly {x}"),
            Bound::Range {
                min: Some(a),
                max: Some(b),
            } => write!(f, "between {a} and {b}"),
            Bound::Range {
                min: Some(a),
                max: None,
            } => write!(f, "at least {a}"),
            Bound::Range {
                min: None,
                max: Some(b),
            } => write!(f, "at most {b}"),
            Bound::Range { min: None, max: None } => write!(f, "any number"),
        }
    }
}

/// What an `expect` entry checks.
#[derive(Clone, Debug)]
pub enum Check {
    /// A count within a bound.
    Count {
        /// What is counted.
        measure: Measure,
        /// What is counted in.
        filter: Filter,
        /// What is allowed.
        bound: Bound,
    },
    /// The partition's leader (`None`: offline) at `at`, or at the end.
    Leader {
        /// The partition.
        tp: Tp,
        /// The expected leader.
        broker: Option<BrokerId>,
        /// When (`None`: the end of the run).
        at: Option<SimTime>,
    },
    /// The partition's ISR, as a set, at `at` or at the end.
    Isr {
        /// The partition.
        tp: Tp,
        /// The expected members, sorted.
        brokers: Vec<BrokerId>,
        /// When (`None`: the end of the run).
        at: Option<SimTime>,
    },
    /// A group member's partitions of a topic, as a set, at `at` or at the end.
    Assignment {
        /// The group.
        group: String,
        /// The consumer (client id).
        consumer: String,
        /// The member id prefix the coordinator gives it (`<client id or instance id>-`).
        member_prefix: String,
        /// The topic.
        topic: u32,
        /// The expected partitions, sorted.
        partitions: Vec<u32>,
        /// When (`None`: the end of the run).
        at: Option<SimTime>,
    },
}

/// One validated `expect` entry.
#[derive(Clone, Debug)]
pub struct Expectation {
    /// What it checks.
    pub check: Check,
    /// The entry as written (comments left out, whitespace tidied), for reports.
    pub text: String,
}

/// An `expect` entry as written: `Reordered(topic: "orders", key: "Costco", at_least: 1)`.
#[derive(Deserialize)]
#[serde(rename = "expectation")]
pub enum RawExpectation {
    /// See [`Measure::LostAcked`].
    LostAcked(RawSelector),
    /// See [`Measure::UncommittedAcked`].
    UncommittedAcked(RawSelector),
    /// See [`Measure::UnavailableAcked`].
    UnavailableAcked(RawSelector),
    /// See [`Measure::Duplicates`].
    Duplicates(RawSelector),
    /// See [`Measure::Reordered`].
    Reordered(RawSelector),
    /// See [`Measure::Acked`].
    Acked(RawSelector),
    /// See [`Measure::Failed`].
    Failed(RawSelector),
    /// See [`Measure::Retries`].
    Retries(RawSelector),
    /// See [`Measure::Deduplicated`].
    Deduplicated(RawSelector),
    /// See [`Measure::Requests`].
    Requests(RawSelector),
    /// See [`Measure::Consumed`].
    Consumed(RawSelector),
    /// See [`Measure::ReadUncommitted`].
    ReadUncommitted(RawSelector),
    /// See [`Measure::DivergentReplicas`].
    DivergentReplicas(RawSelector),
    /// See [`Measure::KeyMoved`].
    KeyMoved(RawSelector),
    /// See [`Measure::Revoked`].
    Revoked(RawSelector),
    /// See [`Measure::Redelivered`].
    Redelivered(RawSelector),
    /// See [`Measure::Skipped`].
    Skipped(RawSelector),
    /// See [`Measure::ReadAborted`].
    ReadAborted(RawSelector),
    /// See [`Measure::Committed`].
    Committed(RawSelector),
    /// See [`Measure::Aborted`].
    Aborted(RawSelector),
    /// See [`Measure::Fenced`].
    Fenced(RawSelector),
    /// See [`Measure::OutputDuplicates`].
    OutputDuplicates(RawSelector),
    /// See [`Measure::OutputMissing`].
    OutputMissing(RawSelector),
    /// See [`Measure::ExpiredUnread`].
    ExpiredUnread(RawSelector),
    /// See [`Measure::CompactionLost`].
    CompactionLost(RawSelector),
    /// See [`Measure::MissedTombstone`].
    MissedTombstone(RawSelector),
    /// See [`Check::Leader`].
    Leader(RawLeader),
    /// See [`Check::Isr`].
    Isr(RawIsr),
    /// See [`Check::Assignment`].
    Assignment(RawAssignment),
}

/// A parsed entry, before its references are checked.
pub enum RawParts {
    /// A counting entry.
    Count(Measure, RawSelector),
    /// `Leader(...)`.
    Leader(RawLeader),
    /// `Isr(...)`.
    Isr(RawIsr),
    /// `Assignment(...)`.
    Assignment(RawAssignment),
}

impl RawExpectation {
    /// Splits into the measure and its selector, or the state check.
    pub fn into_parts(self) -> RawParts {
        let (m, s) = match self {
            RawExpectation::Leader(l) => return RawParts::Leader(l),
            RawExpectation::Isr(i) => return RawParts::Isr(i),
            RawExpectation::Assignment(a) => return RawParts::Assignment(a),
            RawExpectation::LostAcked(s) => (Measure::LostAcked, s),
            RawExpectation::UncommittedAcked(s) => (Measure::UncommittedAcked, s),
            RawExpectation::UnavailableAcked(s) => (Measure::UnavailableAcked, s),
            RawExpectation::Duplicates(s) => (Measure::Duplicates, s),
            RawExpectation::Reordered(s) => (Measure::Reordered, s),
            RawExpectation::Acked(s) => (Measure::Acked, s),
            RawExpectation::Failed(s) => (Measure::Failed, s),
            RawExpectation::Retries(s) => (Measure::Retries, s),
            RawExpectation::Deduplicated(s) => (Measure::Deduplicated, s),
            RawExpectation::Requests(s) => (Measure::Requests, s),
            RawExpectation::Consumed(s) => (Measure::Consumed, s),
            RawExpectation::ReadUncommitted(s) => (Measure::ReadUncommitted, s),
            RawExpectation::DivergentReplicas(s) => (Measure::DivergentReplicas, s),
            RawExpectation::KeyMoved(s) => (Measure::KeyMoved, s),
            RawExpectation::Revoked(s) => (Measure::Revoked, s),
            RawExpectation::Redelivered(s) => (Measure::Redelivered, s),
            RawExpectation::Skipped(s) => (Measure::Skipped, s),
            RawExpectation::ReadAborted(s) => (Measure::ReadAborted, s),
            RawExpectation::Committed(s) => (Measure::Committed, s),
            RawExpectation::Aborted(s) => (Measure::Aborted, s),
            RawExpectation::Fenced(s) => (Measure::Fenced, s),
            RawExpectation::OutputDuplicates(s) => (Measure::OutputDuplicates, s),
            RawExpectation::OutputMissing(s) => (Measure::OutputMissing, s),
            RawExpectation::ExpiredUnread(s) => (Measure::ExpiredUnread, s),
            RawExpectation::CompactionLost(s) => (Measure::CompactionLost, s),
            RawExpectation::MissedTombstone(s) => (Measure::MissedTombstone, s),
        };
        RawParts::Count(m, s)
    }
}

/// `Leader(topic: "orders", partition: 0, broker: 2, at: "30s")`; `broker: None` means offline.
#[derive(Deserialize)]
#[serde(rename = "expectation", deny_unknown_fields)]
pub struct RawLeader {
    /// Topic name.
    pub topic: String,
    /// Partition number.
    pub partition: u32,
    /// The leader, or `None` for an offline partition. Required: a missing field is an error,
    /// not "offline".
    #[serde(deserialize_with = "Option::deserialize")]
    pub broker: Option<u32>,
    /// A duration since the start; the end of the run when left out.
    #[serde(default)]
    pub at: Option<String>,
}

/// `Assignment(group: "g1", consumer: "c1", topic: "orders", partitions: [0, 1], at: "5s")`.
#[derive(Deserialize)]
#[serde(rename = "expectation", deny_unknown_fields)]
pub struct RawAssignment {
    /// The group.
    pub group: String,
    /// The consumer's client id.
    pub consumer: String,
    /// Topic name.
    pub topic: String,
    /// Its partitions of that topic, in any order.
    pub partitions: Vec<u32>,
    /// A duration since the start; the end of the run when left out.
    #[serde(default)]
    pub at: Option<String>,
}

/// `Isr(topic: "orders", partition: 0, brokers: [2, 3], at: "30s")`.
#[derive(Deserialize)]
#[serde(rename = "expectation", deny_unknown_fields)]
pub struct RawIsr {
    /// Topic name.
    pub topic: String,
    /// Partition number.
    pub partition: u32,
    /// The members, in any order.
    pub brokers: Vec<u32>,
    /// A duration since the start; the end of the run when left out.
    #[serde(default)]
    pub at: Option<String>,
}

/// The fields inside an `expect` entry.
#[derive(Deserialize, Default)]
#[serde(rename = "expectation", deny_unknown_fields)]
pub struct RawSelector {
    /// See [`Filter::topic`].
    #[serde(default)]
    pub topic: Option<String>,
    /// See [`Filter::partition`].
    #[serde(default)]
    pub partition: Option<u32>,
    /// See [`Filter::key`].
    #[serde(default)]
    pub key: Option<String>,
    /// See [`Filter::producer`].
    #[serde(default)]
    pub producer: Option<String>,
    /// See [`Filter::consumer`].
    #[serde(default)]
    pub consumer: Option<String>,
    /// See [`Filter::error`]: Kafka's name, like `"NOT_ENOUGH_REPLICAS"`.
    #[serde(default)]
    pub error: Option<String>,
    /// Exact count.
    #[serde(default)]
    pub exactly: Option<u64>,
    /// Lower bound.
    #[serde(default)]
    pub at_least: Option<u64>,
    /// Upper bound.
    #[serde(default)]
    pub at_most: Option<u64>,
}

//! History files: a run's history as JSON lines, format `kafkasim-history` version 1. kafkasim
//! writes one from a simulated run (`kafkasim run --history`), a recorder on a real cluster writes
//! the same, and `kafkasim check-history` reads either back into the structures the checkers use.
//! The format is documented line by line in the book (`book/src/history-format.md`).

mod checkable;
mod read;
mod write;

pub use checkable::not_checkable;
pub use read::read;
pub use write::write;

use serde::{Deserialize, Serialize};

/// The `format` of the header line.
pub const FORMAT: &str = "kafkasim-history";
/// The format version this build reads and writes.
pub const VERSION: u64 = 1;

/// What a history read from a file lacks, compared to a simulated run's.
#[derive(Clone, Debug, Default)]
pub struct Recorded {
    /// Who recorded it (the header's `source`).
    pub source: String,
    /// Partitions whose log could not be read at the end (`"readable": false`, or no
    /// `final_log` line).
    pub unreadable: Vec<crate::kafka::record::Tp>,
    /// Every `final_log` line gives `log_end_offset`: its records run past the high watermark,
    /// so acknowledged records above it can be told apart from lost ones.
    pub to_log_end: bool,
    /// The history can tell how each transaction ended: it has the application's
    /// `txn_begin`/`txn_end` lines and every readable `final_log` line gives `aborted` (the
    /// coordinator's aborts), or the scenario has no transactional producer.
    pub transactions: bool,
    /// The history links each processor output to its input (`send` lines with `input`), or
    /// the scenario has no processor.
    pub outputs: bool,
    /// Every partition has `log_start` lines: the history tells when records were deleted.
    pub log_starts: bool,
}

/// A `[topic, partition]` pair.
pub(crate) type TopicPartition = (String, u32);

/// One line of a history file.
#[derive(Debug, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
pub(crate) enum Line {
    Header {
        format: String,
        version: u64,
        source: String,
        scenario: String,
    },
    Send {
        at_us: u64,
        producer: String,
        seq: u64,
        topic: String,
        #[serde(default)]
        partition: Option<u32>,
        #[serde(default)]
        key: Option<String>,
        /// A processor's output: the input record `[producer, seq]` it was made from.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        input: Option<(String, u64)>,
    },
    Ack {
        at_us: u64,
        producer: String,
        seq: u64,
        #[serde(default)]
        partition: Option<u32>,
        #[serde(default)]
        offset: Option<u64>,
    },
    Fail {
        at_us: u64,
        producer: String,
        seq: u64,
        error: String,
    },
    Consume(Read),
    Process(Read),
    TxnBegin {
        at_us: u64,
        producer: String,
        first: u64,
    },
    TxnEnd {
        at_us: u64,
        producer: String,
        records: u64,
        /// `committed` or `aborted` ([`TxnEndOutcome::name`]).
        outcome: String,
    },
    Fenced {
        at_us: u64,
        producer: String,
    },
    Commit {
        at_us: u64,
        group: String,
        #[serde(default)]
        consumer: Option<String>,
        topic: String,
        partition: u32,
        offset: u64,
    },
    Assignment {
        at_us: u64,
        group: String,
        consumer: String,
        generation: i32,
        partitions: Vec<TopicPartition>,
    },
    Revoke {
        at_us: u64,
        consumer: String,
        partitions: Vec<TopicPartition>,
    },
    PartitionState {
        at_us: u64,
        topic: String,
        partition: u32,
        leader: Option<u32>,
        isr: Vec<u32>,
    },
    /// The partition's log start offset from then on (consumers cannot read below it).
    LogStart {
        at_us: u64,
        topic: String,
        partition: u32,
        offset: u64,
    },
    /// A consumer's position other than by reading on: its group's committed offset,
    /// `auto.offset.reset`, a seek.
    Position {
        at_us: u64,
        consumer: String,
        topic: String,
        partition: u32,
        offset: u64,
    },
    Fault {
        at_us: u64,
        fault: String,
    },
    End {
        at_us: u64,
    },
    FinalLog(FinalLog),
}

/// How the application ended a transaction (`txn_end`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum TxnEndOutcome {
    /// `commitTransaction()` returned.
    Committed,
    /// `abortTransaction()` returned.
    Aborted,
}

impl TxnEndOutcome {
    /// Both, for messages.
    pub(crate) const ALL: [TxnEndOutcome; 2] = [TxnEndOutcome::Committed, TxnEndOutcome::Aborted];

    /// Its name in a `txn_end` line.
    pub(crate) fn name(self) -> &'static str {
        match self {
            TxnEndOutcome::Committed => "committed",
            TxnEndOutcome::Aborted => "aborted",
        }
    }
}

/// A `consume` or `process` line.
#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Read {
    pub at_us: u64,
    pub consumer: String,
    pub topic: String,
    pub partition: u32,
    pub offset: u64,
    #[serde(default)]
    pub producer: Option<String>,
    #[serde(default)]
    pub seq: Option<u64>,
}

/// A `final_log` line.
#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct FinalLog {
    pub topic: String,
    pub partition: u32,
    pub leader: Option<u32>,
    /// Required unless `readable` is false.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub high_watermark: Option<u64>,
    /// `[offset, producer, seq]`, offsets increasing.
    pub records: Vec<(u64, Option<String>, Option<u64>)>,
    /// `false`: the recorder could not read the log.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub readable: Option<bool>,
    /// Present when `records` run to the log end offset, past the high watermark (kafkasim
    /// knows it; a consumer reads up to the high watermark only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub log_end_offset: Option<u64>,
    /// The broker whose log `records` is: the leader, or for a partition without one, the
    /// replica it may recover with.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub replica: Option<u32>,
    /// The log start offset the read began at (records below it were deleted; a compacted log's
    /// first record may come later).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub log_start_offset: Option<u64>,
    /// The last stable offset: a read_committed reader reads below it only.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_stable_offset: Option<u64>,
    /// Offsets of `records` below the last stable offset that belong to aborted transactions
    /// (a read_committed reader drops them).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub aborted: Option<Vec<u64>>,
}

/// The fields of a `consume` and a `process` line.
const CONSUMED_FIELDS: &[&str] = &[
    "at_us",
    "consumer",
    "topic",
    "partition",
    "offset",
    "producer",
    "seq",
];

/// Every line type and its fields, for unknown-field messages with a suggestion.
pub(crate) const FIELDS: &[(&str, &[&str])] = &[
    ("header", &["format", "version", "source", "scenario"]),
    (
        "send",
        &["at_us", "producer", "seq", "topic", "partition", "key", "input"],
    ),
    ("ack", &["at_us", "producer", "seq", "partition", "offset"]),
    ("fail", &["at_us", "producer", "seq", "error"]),
    ("consume", CONSUMED_FIELDS),
    ("process", CONSUMED_FIELDS),
    ("txn_begin", &["at_us", "producer", "first"]),
    ("txn_end", &["at_us", "producer", "records", "outcome"]),
    ("fenced", &["at_us", "producer"]),
    (
        "commit",
        &["at_us", "group", "consumer", "topic", "partition", "offset"],
    ),
    (
        "assignment",
        &["at_us", "group", "consumer", "generation", "partitions"],
    ),
    ("revoke", &["at_us", "consumer", "partitions"]),
    (
        "partition_state",
        &["at_us", "topic", "partition", "leader", "isr"],
    ),
    ("log_start", &["at_us", "topic", "partition", "offset"]),
    ("position", &["at_us", "consumer", "topic", "partition", "offset"]),
    ("fault", &["at_us", "fault"]),
    ("end", &["at_us"]),
    (
        "final_log",
        &[
            "topic",
            "partition",
            "leader",
            "high_watermark",
            "records",
            "readable",
            "log_end_offset",
            "replica",
            "log_start_offset",
            "last_stable_offset",
            "aborted",
        ],
    ),
];

impl Line {
    /// The line's time, `None` for the header and `final_log`.
    pub(crate) fn at_us(&self) -> Option<u64> {
        match self {
            Line::Header { .. } | Line::FinalLog(_) => None,
            Line::Send { at_us, .. }
            | Line::Ack { at_us, .. }
            | Line::Fail { at_us, .. }
            | Line::Commit { at_us, .. }
            | Line::Assignment { at_us, .. }
            | Line::Revoke { at_us, .. }
            | Line::PartitionState { at_us, .. }
            | Line::LogStart { at_us, .. }
            | Line::Position { at_us, .. }
            | Line::Fault { at_us, .. }
            | Line::TxnBegin { at_us, .. }
            | Line::TxnEnd { at_us, .. }
            | Line::Fenced { at_us, .. }
            | Line::End { at_us } => Some(*at_us),
            Line::Consume(r) | Line::Process(r) => Some(r.at_us),
        }
    }
}

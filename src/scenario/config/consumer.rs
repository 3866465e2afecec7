//! Consumer configs (`ConsumerConfig.java`, Kafka 4.0), with the group member's.

use super::client::{self, ClientNetConfig};
use super::{ConfigBlock, ConfigSet, INT_MAX, KeyDef, Kind, Properties, int_key};
use crate::kafka::group::assignor::Strategy;
use crate::scenario::error::ScenarioError;
use crate::scenario::legal_name::{self, NameProblem};
use crate::sim::SimDuration;

/// `isolation.level`.
const ISOLATION_LEVEL: &str = "isolation.level";

pub(crate) static CONSUMER: ConfigSet = ConfigSet {
    what: "consumer",
    keys: &[
        KeyDef {
            name: "auto.offset.reset",
            kind: Kind::OffsetReset,
            default: "latest",
            doc: "where to start when there is no position: the log end, the log start, or fail",
        },
        int_key(
            "fetch.min.bytes",
            0,
            INT_MAX,
            "1",
            "the broker holds a fetch until this many bytes are ready",
        ),
        int_key(
            "fetch.max.wait.ms",
            0,
            INT_MAX,
            "500",
            "... or until this much time has passed",
        ),
        int_key(
            "max.poll.records",
            1,
            INT_MAX,
            "500",
            "records returned by one poll()",
        ),
        int_key(
            "max.partition.fetch.bytes",
            0,
            INT_MAX,
            "1048576",
            "bytes per partition per fetch",
        ),
        int_key(
            "fetch.max.bytes",
            0,
            INT_MAX,
            "52428800",
            "bytes per fetch response",
        ),
        int_key(
            "session.timeout.ms",
            1,
            INT_MAX,
            "45000",
            "group member: the coordinator removes a member that sent no heartbeat for this long",
        ),
        int_key(
            "heartbeat.interval.ms",
            1,
            INT_MAX,
            "3000",
            "group member: time between heartbeats to the coordinator",
        ),
        int_key(
            "max.poll.interval.ms",
            1,
            INT_MAX,
            "300000",
            "group member: if the application does not poll() for this long, the member leaves the group",
        ),
        KeyDef {
            name: "enable.auto.commit",
            kind: Kind::Bool,
            default: "true",
            doc: "group member: commit the positions of polled records every auto.commit.interval.ms, in poll()",
        },
        int_key(
            "auto.commit.interval.ms",
            0,
            INT_MAX,
            "5000",
            "group member: how often enable.auto.commit commits",
        ),
        KeyDef {
            name: "partition.assignment.strategy",
            kind: Kind::Assignors,
            default: "range,cooperative-sticky",
            doc: "group member: assignors in order of preference (Kafka's default is RangeAssignor, CooperativeStickyAssignor)",
        },
        KeyDef {
            name: "group.instance.id",
            kind: Kind::Text,
            default: "",
            doc: "group member: a static member id (KIP-345): a restart within session.timeout.ms keeps the assignment, even through a rebalance it misses",
        },
        KeyDef {
            name: ISOLATION_LEVEL,
            // `ConsumerConfig`: `in(READ_COMMITTED, READ_UNCOMMITTED)`, a case-sensitive ValidString.
            kind: Kind::OneOf(&["read_committed", "read_uncommitted"]),
            default: "read_uncommitted",
            doc: "read_committed: fetches stop at the last stable offset and poll() never returns records of aborted transactions; read_uncommitted: everything up to the high watermark",
        },
        client::REQUEST_TIMEOUT,
        client::RETRY_BACKOFF,
        client::RETRY_BACKOFF_MAX,
        client::RECONNECT_BACKOFF,
        client::RECONNECT_BACKOFF_MAX,
        client::CONNECTION_SETUP_TIMEOUT,
        client::METADATA_MAX_AGE,
    ],
    not_modelled: &[
        "allow.auto.create.topics",
        "check.crcs",
        "client.rack",
        "connections.max.idle.ms",
        "default.api.timeout.ms",
        "exclude.internal.topics",
        "group.protocol",
        "group.remote.assignor",
        "metadata.recovery.strategy",
        "socket.connection.setup.timeout.max.ms",
    ],
    ignored: &[client::IGNORED, &["key.deserializer", "value.deserializer"]],
    ignored_prefixes: client::SECURITY_PREFIXES,
    elsewhere: &[("group.id", "give the consumer a `group: \"g1\"` field instead")],
};

/// `auto.offset.reset`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OffsetReset {
    /// Start at the log end offset.
    Latest,
    /// Start at the log start offset.
    Earliest,
    /// Fail with `NoOffsetForPartitionException`.
    None,
}

/// `isolation.level`: which records of transactional producers `poll()` returns.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum IsolationLevel {
    /// Every record up to the high watermark, those of open and aborted transactions included.
    ReadUncommitted,
    /// Records up to the last stable offset, without those of aborted transactions.
    ReadCommitted,
}

impl IsolationLevel {
    /// Kafka's name for it.
    pub fn name(self) -> &'static str {
        match self {
            IsolationLevel::ReadUncommitted => "read_uncommitted",
            IsolationLevel::ReadCommitted => "read_committed",
        }
    }
}

/// A consumer's configuration, validated and typed.
#[derive(Clone, Debug)]
pub struct ConsumerConfig {
    /// `auto.offset.reset`.
    pub auto_offset_reset: OffsetReset,
    /// `fetch.min.bytes`.
    pub fetch_min_bytes: u32,
    /// `fetch.max.wait.ms`.
    pub fetch_max_wait: SimDuration,
    /// `max.poll.records`.
    pub max_poll_records: u32,
    /// `max.partition.fetch.bytes`.
    pub max_partition_fetch_bytes: u32,
    /// `fetch.max.bytes`.
    pub fetch_max_bytes: u32,
    /// `session.timeout.ms`.
    pub session_timeout: SimDuration,
    /// `heartbeat.interval.ms`.
    pub heartbeat_interval: SimDuration,
    /// `max.poll.interval.ms`.
    pub max_poll_interval: SimDuration,
    /// `enable.auto.commit`.
    pub enable_auto_commit: bool,
    /// `auto.commit.interval.ms`.
    pub auto_commit_interval: SimDuration,
    /// `partition.assignment.strategy`, in order.
    pub strategies: Vec<Strategy>,
    /// `group.instance.id`.
    pub group_instance_id: Option<String>,
    /// `isolation.level`.
    pub isolation: IsolationLevel,
    /// Settings shared with every client.
    pub net: ClientNetConfig,
    /// The settings as given, for a real consumer.
    pub properties: Properties,
}

impl ConsumerConfig {
    /// Validates a consumer's `config` block.
    pub fn from_block(block: &ConfigBlock<'_, '_>) -> Result<ConsumerConfig, ScenarioError> {
        let c = CONSUMER.validate(block)?;
        const INSTANCE: &str = "group.instance.id";
        if c.is_explicit(INSTANCE)
            && let Err(message) = check_group_instance_id(c.str(INSTANCE))
        {
            return Err(block
                .error_at_key(INSTANCE, message)
                .with_help("use ASCII letters, digits, '.', '_' and '-' (at most 249), or remove the key"));
        }
        if c.int("heartbeat.interval.ms") >= c.int("session.timeout.ms") {
            // `GroupRebalanceConfig`'s check, thrown by the consumer's constructor.
            return Err(block
                .error_at_key(
                    "heartbeat.interval.ms",
                    "Heartbeat must be set lower than the session timeout",
                )
                .with_help("Kafka's advice: at most a third of session.timeout.ms"));
        }
        let u32_of = |key: &str| u32::try_from(c.int(key)).unwrap_or(u32::MAX);
        Ok(ConsumerConfig {
            auto_offset_reset: match c.str("auto.offset.reset") {
                "earliest" => OffsetReset::Earliest,
                "none" => OffsetReset::None,
                _ => OffsetReset::Latest,
            },
            fetch_min_bytes: u32_of("fetch.min.bytes"),
            fetch_max_wait: c.ms("fetch.max.wait.ms"),
            max_poll_records: u32_of("max.poll.records"),
            max_partition_fetch_bytes: u32_of("max.partition.fetch.bytes"),
            fetch_max_bytes: u32_of("fetch.max.bytes"),
            session_timeout: c.ms("session.timeout.ms"),
            heartbeat_interval: c.ms("heartbeat.interval.ms"),
            max_poll_interval: c.ms("max.poll.interval.ms"),
            enable_auto_commit: c.bool("enable.auto.commit"),
            auto_commit_interval: c.ms("auto.commit.interval.ms"),
            strategies: c
                .str("partition.assignment.strategy")
                .split(',')
                .filter_map(|s| s.parse().ok())
                .collect(),
            group_instance_id: Some(c.str("group.instance.id").to_string()).filter(|s| !s.is_empty()),
            isolation: match c.str(ISOLATION_LEVEL) {
                "read_committed" => IsolationLevel::ReadCommitted,
                _ => IsolationLevel::ReadUncommitted,
            },
            net: ClientNetConfig::from_config(&c),
            properties: c.properties(),
        })
    }
}

/// Kafka's checks of an explicit `group.instance.id`: `ConfigDef.NonEmptyString` (the value is
/// trimmed first), then `JoinGroupRequest.validateGroupInstanceId`, which applies `Topic.validate`'s
/// rules with its messages, when the consumer builds its `GroupRebalanceConfig`.
fn check_group_instance_id(id: &str) -> Result<(), String> {
    if id.is_empty() {
        return Err(
            "Invalid value  for configuration group.instance.id: String must be non-empty".to_string(),
        );
    }
    Err(match legal_name::problem(id) {
        None => return Ok(()),
        Some(NameProblem::Dots) => format!("Group instance id is invalid: '{id}' is not allowed"),
        Some(NameProblem::TooLong) => format!(
            "Group instance id is invalid: the length of '{id}' is longer than the max allowed length {}",
            legal_name::MAX_LENGTH
        ),
        Some(NameProblem::Illegal(_)) => format!(
            "Group instance id is invalid: '{id}' contains one or more characters other than ASCII alphanumerics, '.', '_' and '-'"
        ),
    })
}

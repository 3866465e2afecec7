//! Consumer configs (`ConsumerConfig.java`, Kafka 4.0), for consumers without a group.

use super::client::{self, ClientNetConfig};
use super::{ConfigBlock, ConfigSet, INT_MAX, KeyDef, Kind, int_key};
use crate::scenario::error::ScenarioError;
use crate::sim::SimDuration;

pub(super) static CONSUMER: ConfigSet = ConfigSet {
    what: "consumer",
    keys: &[
        KeyDef {
            name: "auto.offset.reset",
            kind: Kind::OneOf(&["latest", "earliest", "none"]),
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
        "auto.commit.interval.ms",
        "bootstrap.servers",
        "check.crcs",
        "client.id",
        "client.rack",
        "default.api.timeout.ms",
        "enable.auto.commit",
        "exclude.internal.topics",
        "group.id",
        "group.instance.id",
        "group.protocol",
        "heartbeat.interval.ms",
        "isolation.level",
        "key.deserializer",
        "max.poll.interval.ms",
        "partition.assignment.strategy",
        "session.timeout.ms",
        "value.deserializer",
    ],
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
    /// Settings shared with every client.
    pub net: ClientNetConfig,
}

impl ConsumerConfig {
    /// Validates a consumer's `config` block.
    pub fn from_block(block: &ConfigBlock<'_, '_>) -> Result<ConsumerConfig, ScenarioError> {
        let c = CONSUMER.validate(block)?;
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
            net: ClientNetConfig::from_config(&c),
        })
    }
}

//! Broker configs (`cluster.config`) and topic configs (`topics[].config`), Kafka 4.0 KRaft.

use super::{ConfigBlock, ConfigSet, INT_MAX, int_key};
use crate::scenario::error::ScenarioError;
use crate::sim::SimDuration;

pub(super) static BROKER: ConfigSet = ConfigSet {
    what: "broker",
    keys: &[
        int_key(
            "message.max.bytes",
            0,
            INT_MAX,
            "1048588",
            "largest batch a broker accepts (MESSAGE_TOO_LARGE above it); topics inherit it",
        ),
        int_key(
            "broker.heartbeat.interval.ms",
            1,
            INT_MAX,
            "2000",
            "how often a broker heartbeats to the controller",
        ),
        int_key(
            "broker.session.timeout.ms",
            1,
            INT_MAX,
            "9000",
            "a broker silent this long is fenced and loses its leaderships",
        ),
    ],
    not_modelled: &[
        "auto.create.topics.enable",
        "auto.leader.rebalance.enable",
        "controlled.shutdown.enable",
        "default.replication.factor",
        "log.flush.interval.messages",
        "log.flush.interval.ms",
        "log.retention.bytes",
        "log.retention.ms",
        "log.segment.bytes",
        "min.insync.replicas",
        "num.io.threads",
        "num.network.threads",
        "num.partitions",
        "offsets.topic.num.partitions",
        "replica.fetch.wait.max.ms",
        "replica.lag.time.max.ms",
        "unclean.leader.election.enable",
    ],
};

pub(super) static TOPIC: ConfigSet = ConfigSet {
    what: "topic",
    keys: &[int_key(
        "max.message.bytes",
        0,
        INT_MAX,
        "1048588",
        "largest batch this topic accepts (default: the broker's message.max.bytes)",
    )],
    not_modelled: &[
        "cleanup.policy",
        "compression.type",
        "flush.messages",
        "flush.ms",
        "message.timestamp.type",
        "min.insync.replicas",
        "retention.bytes",
        "retention.ms",
        "segment.bytes",
        "unclean.leader.election.enable",
    ],
};

/// The cluster's broker configuration, validated and typed.
#[derive(Clone, Debug)]
pub struct BrokerConfig {
    /// `message.max.bytes`.
    pub message_max_bytes: u32,
    /// `broker.heartbeat.interval.ms`.
    pub heartbeat_interval: SimDuration,
    /// `broker.session.timeout.ms`.
    pub session_timeout: SimDuration,
}

impl BrokerConfig {
    /// Validates `cluster.config`.
    pub fn from_block(block: &ConfigBlock<'_, '_>) -> Result<BrokerConfig, ScenarioError> {
        let c = BROKER.validate(block)?;
        Ok(BrokerConfig {
            message_max_bytes: u32::try_from(c.int("message.max.bytes")).unwrap_or(u32::MAX),
            heartbeat_interval: c.ms("broker.heartbeat.interval.ms"),
            session_timeout: c.ms("broker.session.timeout.ms"),
        })
    }
}

/// One topic's configuration, with broker-level defaults applied.
#[derive(Clone, Debug)]
pub struct TopicConfig {
    /// `max.message.bytes`.
    pub max_message_bytes: u32,
}

impl TopicConfig {
    /// Validates a topic's `config` block; unset keys inherit the broker's.
    pub fn from_block(
        block: &ConfigBlock<'_, '_>,
        broker: &BrokerConfig,
    ) -> Result<TopicConfig, ScenarioError> {
        let c = TOPIC.validate(block)?;
        Ok(TopicConfig {
            max_message_bytes: if c.is_explicit("max.message.bytes") {
                u32::try_from(c.int("max.message.bytes")).unwrap_or(u32::MAX)
            } else {
                broker.message_max_bytes
            },
        })
    }
}

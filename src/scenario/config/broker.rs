//! Broker configs (`cluster.config`) and topic configs (`topics[].config`), Kafka 4.0 KRaft.

use super::{Config, ConfigBlock, ConfigSet, INT_MAX, KeyDef, Kind, LONG_MAX, Properties, Ratio, int_key};
use crate::kafka::group::coordinator::CoordinatorConfig;
use crate::kafka::log::{LogConfig, TimestampType};
use crate::scenario::error::ScenarioError;
use crate::sim::SimDuration;

const fn bool_key(name: &'static str, default: &'static str, doc: &'static str) -> KeyDef {
    KeyDef {
        name,
        kind: Kind::Bool,
        default,
        doc,
    }
}

/// How followers find where to cut their log after a leader change.
pub const TRUNCATION_KEY: &str = "kafkasim.truncation.rule";

/// Which transaction protocol the cluster speaks (Kafka's `transaction.version` feature).
pub const TRANSACTION_VERSION_KEY: &str = "kafkasim.transaction.version";

pub(crate) static BROKER: ConfigSet = ConfigSet {
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
            "a broker heartbeats this long after the controller answered its previous heartbeat (so once per interval plus a round trip)",
        ),
        int_key(
            "broker.session.timeout.ms",
            1,
            INT_MAX,
            "9000",
            "a broker not heard from for longer than this is fenced and loses its leaderships",
        ),
        int_key(
            "min.insync.replicas",
            1,
            INT_MAX,
            "1",
            "acks=all needs this many in-sync replicas (capped at the replication factor); below it the HW stops (3.7+)",
        ),
        bool_key(
            "unclean.leader.election.enable",
            "false",
            "elect an out-of-sync replica when no in-sync one is alive (acked data can be lost)",
        ),
        int_key(
            "replica.lag.time.max.ms",
            0,
            LONG_MAX,
            "30000",
            "a follower not caught up for this long leaves the ISR (checked every half of it)",
        ),
        int_key(
            "replica.fetch.wait.max.ms",
            0,
            INT_MAX,
            "500",
            "a follower's fetch waits this long at the leader for new data",
        ),
        int_key(
            "replica.fetch.min.bytes",
            0,
            INT_MAX,
            "1",
            "... or until this many bytes are there",
        ),
        int_key(
            "replica.fetch.max.bytes",
            0,
            INT_MAX,
            "1048576",
            "bytes per partition per follower fetch",
        ),
        int_key(
            "replica.fetch.backoff.ms",
            0,
            INT_MAX,
            "1000",
            "a follower waits this long after a failed fetch",
        ),
        int_key(
            "replica.socket.timeout.ms",
            0,
            INT_MAX,
            "30000",
            "a follower gives up on an unanswered fetch after this long",
        ),
        int_key(
            "replica.high.watermark.checkpoint.interval.ms",
            1,
            LONG_MAX,
            "5000",
            "how often each replica writes its HW to disk (a restarted broker starts from it)",
        ),
        int_key(
            "log.flush.interval.messages",
            1,
            LONG_MAX,
            "9223372036854775807",
            "fsync after this many messages (default: never; a power loss keeps only flushed data)",
        ),
        int_key(
            "log.flush.interval.ms",
            0,
            LONG_MAX,
            "9223372036854775807",
            "fsync data older than this (default: never)",
        ),
        // Storage (`ServerLogConfigs`, `LogConfig.SERVER_CONFIG_DEF`; the retention and roll
        // times combine as `KafkaConfig.logRetentionTimeMillis` and `logRollTimeMillis` do).
        int_key(
            "log.segment.bytes",
            1048576,
            INT_MAX,
            "1073741824",
            "a replica's active segment rolls before an append would take it past this size; topics inherit it (segment.bytes)",
        ),
        int_key(
            "log.roll.ms",
            i64::MIN,
            LONG_MAX,
            "",
            "the active segment rolls once an append's timestamp is this much later than its first batch's (null: log.roll.hours); topics inherit it (segment.ms)",
        ),
        int_key(
            "log.roll.hours",
            1,
            INT_MAX,
            "168",
            "log.roll.ms in hours, used when log.roll.ms is not set",
        ),
        int_key(
            "log.retention.ms",
            i64::MIN,
            LONG_MAX,
            "",
            "closed segments whose newest record is older than this are deleted; -1: never (null: log.retention.minutes); topics inherit it (retention.ms)",
        ),
        int_key(
            "log.retention.minutes",
            i32::MIN as i64,
            INT_MAX,
            "",
            "log.retention.ms in minutes, used when log.retention.ms is not set (null: log.retention.hours)",
        ),
        int_key(
            "log.retention.hours",
            i32::MIN as i64,
            INT_MAX,
            "168",
            "log.retention.ms in hours, used when neither log.retention.ms nor log.retention.minutes is set",
        ),
        int_key(
            "log.retention.bytes",
            i64::MIN,
            LONG_MAX,
            "-1",
            "a replica deletes its oldest segments as long as its log without them is still at least this size; negative: no limit; topics inherit it (retention.bytes)",
        ),
        int_key(
            "log.retention.check.interval.ms",
            1,
            LONG_MAX,
            "300000",
            "every broker applies retention to each replica it holds this often (the first check 30 s after it starts, log.initial.task.delay.ms)",
        ),
        KeyDef {
            name: "log.message.timestamp.type",
            kind: Kind::OneOf(&["CreateTime", "LogAppendTime"]),
            default: "CreateTime",
            doc: "a record's timestamp: the producer's send() time, or the leader's append time; topics inherit it (message.timestamp.type)",
        },
        bool_key(
            "auto.leader.rebalance.enable",
            "true",
            "move leadership back to the preferred replica when it is in sync",
        ),
        int_key(
            "leader.imbalance.check.interval.seconds",
            1,
            LONG_MAX,
            "300",
            "preferred leader elections run this long after a write leaves a partition's leader off its preferred replica (not on a grid from startup)",
        ),
        int_key(
            "offsets.topic.num.partitions",
            1,
            INT_MAX,
            "50",
            "partitions of __consumer_offsets; a group's coordinator leads partition abs(hash(group.id)) mod this",
        ),
        int_key(
            "offsets.topic.replication.factor",
            1,
            32767,
            "3",
            "replicas of each __consumer_offsets partition (created when a consumer or processor has a group)",
        ),
        // TransactionLogConfig and TransactionStateManagerConfig (Kafka 4.0).
        int_key(
            "transaction.state.log.num.partitions",
            1,
            INT_MAX,
            "50",
            "partitions of __transaction_state; a transactional id's coordinator leads partition abs(hash(transactional.id)) mod this",
        ),
        int_key(
            "transaction.state.log.replication.factor",
            1,
            32767,
            "3",
            "replicas of each __transaction_state partition (created when a producer or processor has a transactional.id)",
        ),
        int_key(
            "transaction.state.log.min.isr",
            1,
            INT_MAX,
            "2",
            "min.insync.replicas of __transaction_state: the coordinator's writes need this many in-sync replicas",
        ),
        int_key(
            "transaction.max.timeout.ms",
            1,
            INT_MAX,
            "900000",
            "largest transaction.timeout.ms a producer may ask for (InitProducerId fails with INVALID_TRANSACTION_TIMEOUT above it)",
        ),
        int_key(
            "transaction.abort.timed.out.transaction.cleanup.interval.ms",
            1,
            INT_MAX,
            "10000",
            "how often the coordinator aborts the transactions open longer than their transaction.timeout.ms",
        ),
        int_key(
            TRANSACTION_VERSION_KEY,
            1,
            2,
            "2",
            "kafkasim only: transaction protocol version: 2 = KIP-890, what a new Kafka 4.0 cluster enables; 1 = AddPartitionsToTxn from the client",
        ),
        int_key(
            "group.initial.rebalance.delay.ms",
            0,
            INT_MAX,
            "3000",
            "how long an empty group waits for more members before its first rebalance, whatever the rebalance timeout; each member that joins meanwhile adds one more wait, up to the rebalance timeout in all",
        ),
        // GroupCoordinatorConfig (Kafka 4.0.1): offsets of an empty group expire (KIP-211).
        int_key(
            "offsets.retention.minutes",
            1,
            INT_MAX,
            "10080",
            "an Empty group's committed offsets are deleted this long after it became Empty (a group without members ever: after each commit); a consumer that comes back later starts from auto.offset.reset",
        ),
        int_key(
            "offsets.retention.check.interval.ms",
            1,
            LONG_MAX,
            "600000",
            "how often each group coordinator looks for expired offsets",
        ),
        int_key(
            "group.min.session.timeout.ms",
            0,
            INT_MAX,
            "6000",
            "smallest session.timeout.ms a consumer may ask for",
        ),
        int_key(
            "group.max.session.timeout.ms",
            0,
            INT_MAX,
            "1800000",
            "largest session.timeout.ms a consumer may ask for",
        ),
        int_key(
            "num.network.threads",
            1,
            INT_MAX,
            "3",
            "network threads per broker; each connection is pinned to one, which reads its requests (see kafkasim.network.thread.mib.per.s)",
        ),
        int_key(
            "num.io.threads",
            1,
            INT_MAX,
            "8",
            "request handler threads per broker: at most this many requests are handled at once, the rest queue",
        ),
        int_key(
            "kafkasim.request.time.us",
            0,
            INT_MAX,
            "100",
            "kafkasim only: fixed time an I/O thread spends on each request (parsing, locking, bookkeeping)",
        ),
        int_key(
            "kafkasim.io.thread.mib.per.s",
            0,
            INT_MAX,
            "1000",
            "kafkasim only: MiB per second an I/O thread appends, checks (CRC) or copies out; 0: bytes cost nothing",
        ),
        int_key(
            "kafkasim.network.thread.mib.per.s",
            0,
            INT_MAX,
            "2000",
            "kafkasim only: MiB per second a network thread reads off its connections; 0: bytes cost nothing",
        ),
        KeyDef {
            name: TRUNCATION_KEY,
            kind: Kind::OneOf(&["leader-epoch", "high-watermark"]),
            default: "leader-epoch",
            doc: "kafkasim only: how a follower truncates after a leader change; high-watermark replays the pre-0.11 (pre-KIP-101) bugs",
        },
        // The log cleaner: `CleanerConfig` and `ServerLogConfigs` (kafka-storage, Kafka 4.0.1).
        KeyDef {
            name: "log.cleanup.policy",
            kind: Kind::ListOf(CLEANUP_POLICIES),
            default: "delete",
            doc: "cleanup.policy of topics that set none: delete (retention), compact (the log cleaner keeps each key's latest record), or both",
        },
        bool_key(
            "log.cleaner.enable",
            "true",
            "run a log cleaner on each broker (false: compacted topics, __consumer_offsets included, are never compacted)",
        ),
        int_key(
            "log.cleaner.threads",
            1,
            INT_MAX,
            "1",
            "logs each broker's cleaner may clean in one pass (cleaning takes no simulated time); Kafka's validator takes 0, but its LogCleaner then divides log.cleaner.dedupe.buffer.size by 0 and the broker does not start (ArithmeticException), so kafkasim asks for at least 1; at most 127, for 1 MiB of the 128 MiB dedupe buffer per thread",
        ),
        int_key(
            "log.cleaner.backoff.ms",
            0,
            LONG_MAX,
            "15000",
            "how long a cleaner with nothing to clean sleeps before it looks again",
        ),
        KeyDef {
            name: "log.cleaner.min.cleanable.ratio",
            kind: Kind::Ratio,
            default: "0.5",
            doc: "min.cleanable.dirty.ratio of topics that set none",
        },
        int_key(
            "log.cleaner.delete.retention.ms",
            0,
            LONG_MAX,
            "86400000",
            "delete.retention.ms of topics that set none",
        ),
        int_key(
            "log.cleaner.min.compaction.lag.ms",
            0,
            LONG_MAX,
            "0",
            "min.compaction.lag.ms of topics that set none",
        ),
        int_key(
            "log.cleaner.max.compaction.lag.ms",
            1,
            LONG_MAX,
            "9223372036854775807",
            "max.compaction.lag.ms of topics that set none",
        ),
        bool_key(
            "kafkasim.min.isr.hw.gate",
            "true",
            "kafkasim only: the HW stops while the ISR is below min.insync.replicas (Kafka 3.7+, KAFKA-15583); false replays Kafka 3.6 and older, where waiting acks=all requests then fail with NOT_ENOUGH_REPLICAS_AFTER_APPEND",
        ),
    ],
    not_modelled: &[
        "auto.create.topics.enable",
        "broker.rack",
        "controlled.shutdown.enable",
        "default.replication.factor",
        "log.cleaner.dedupe.buffer.size",
        "log.cleaner.io.buffer.load.factor",
        "log.cleaner.io.buffer.size",
        "log.cleaner.io.max.bytes.per.second",
        "num.partitions",
        "num.recovery.threads.per.data.dir",
        "num.replica.fetchers",
        "producer.id.expiration.ms",
        "socket.request.max.bytes",
        "transaction.partition.verification.enable",
        "transaction.remove.expired.transaction.cleanup.interval.ms",
        "transaction.state.log.load.buffer.size",
        "transaction.state.log.segment.bytes",
        "transactional.id.expiration.ms",
    ],
    ignored: &[BROKER_IGNORED],
    ignored_prefixes: &["ssl.", "sasl.", "listener.name."],
    elsewhere: &[],
};

/// Broker keys (`KRaftConfigs`, `SocketServerConfigs`, `ServerLogConfigs`, `MetricConfigs`,
/// `BrokerSecurityConfigs`) that only concern ids, roles, listeners, directories, sockets,
/// metrics and security: a pasted `server.properties` may keep them. kafkasim numbers the
/// brokers 1..=brokers itself and runs one KRaft controller. `leader.imbalance.per.broker.percentage`
/// is read only by the ZooKeeper controller: Kafka 4.0's `QuorumController` balances whenever any
/// partition's leader is not its preferred replica (`ReplicationControlManager.imbalancedPartitions`),
/// so the key changes nothing in Kafka 4.0 either.
const BROKER_IGNORED: &[&str] = &[
    "advertised.listeners",
    "authorizer.class.name",
    "broker.id",
    "controller.listener.names",
    "controller.quorum.bootstrap.servers",
    "controller.quorum.voters",
    "early.start.listeners",
    "inter.broker.listener.name",
    "kafka.metrics.polling.interval.secs",
    "kafka.metrics.reporters",
    "leader.imbalance.per.broker.percentage",
    "listener.security.protocol.map",
    "listeners",
    "log.dir",
    "log.dirs",
    "metadata.log.dir",
    "metric.reporters",
    "metrics.num.samples",
    "metrics.recording.level",
    "metrics.sample.window.ms",
    "node.id",
    "principal.builder.class",
    "process.roles",
    "security.inter.broker.protocol",
    "socket.receive.buffer.bytes",
    "socket.send.buffer.bytes",
    "super.users",
];

pub(crate) static TOPIC: ConfigSet = ConfigSet {
    what: "topic",
    keys: &[
        int_key(
            "max.message.bytes",
            0,
            INT_MAX,
            "1048588",
            "largest batch this topic accepts (default: the broker's message.max.bytes)",
        ),
        int_key(
            "min.insync.replicas",
            1,
            INT_MAX,
            "1",
            "overrides the broker's min.insync.replicas for this topic",
        ),
        bool_key(
            "unclean.leader.election.enable",
            "false",
            "overrides the broker's unclean.leader.election.enable for this topic",
        ),
        int_key(
            "flush.messages",
            1,
            LONG_MAX,
            "9223372036854775807",
            "overrides log.flush.interval.messages for this topic",
        ),
        int_key(
            "flush.ms",
            0,
            LONG_MAX,
            "9223372036854775807",
            "overrides log.flush.interval.ms for this topic",
        ),
        // Compaction: `LogConfig` and `TopicConfig` (Kafka 4.0.1).
        KeyDef {
            name: "cleanup.policy",
            kind: Kind::ListOf(CLEANUP_POLICIES),
            default: "delete",
            doc: "delete (retention), compact (keyed records; the cleaner keeps each key's latest) or compact,delete (both); overrides log.cleanup.policy",
        },
        KeyDef {
            name: "min.cleanable.dirty.ratio",
            kind: Kind::Ratio,
            default: "0.5",
            doc: "the cleaner cleans a compacted log once its dirty (not yet cleaned) bytes are more than this share of it",
        },
        int_key(
            "min.compaction.lag.ms",
            0,
            LONG_MAX,
            "0",
            "a record stays uncompacted at least this long after it was appended",
        ),
        int_key(
            "max.compaction.lag.ms",
            1,
            LONG_MAX,
            "9223372036854775807",
            "a log with a dirty record older than this is cleaned whatever its dirty ratio",
        ),
        int_key(
            "delete.retention.ms",
            0,
            LONG_MAX,
            "86400000",
            "a tombstone stays this long after the cleaning that first reached it (a reader slower than this may miss the delete)",
        ),
        // Storage (`LogConfig`'s topic ConfigDef).
        int_key(
            "segment.bytes",
            14,
            INT_MAX,
            "1073741824",
            "overrides log.segment.bytes: the active segment rolls before an append would take it past this size",
        ),
        int_key(
            "segment.ms",
            1,
            LONG_MAX,
            "604800000",
            "overrides log.roll.ms: the active segment rolls once an append's timestamp is this much later than its first batch's",
        ),
        int_key(
            "retention.ms",
            -1,
            LONG_MAX,
            "604800000",
            "overrides log.retention.ms: segments whose newest record is older are deleted; -1: never",
        ),
        int_key(
            "retention.bytes",
            i64::MIN,
            LONG_MAX,
            "-1",
            "overrides log.retention.bytes: the oldest segments are deleted as long as the log without them is still at least this size; negative: no limit",
        ),
        KeyDef {
            name: "message.timestamp.type",
            kind: Kind::OneOf(&["CreateTime", "LogAppendTime"]),
            default: "CreateTime",
            doc: "overrides log.message.timestamp.type: CreateTime (the producer's send() time) or LogAppendTime (the leader's append time)",
        },
    ],
    not_modelled: &["compression.type"],
    ignored: &[],
    ignored_prefixes: &[],
    elsewhere: &[],
};

/// The values of `cleanup.policy` (`TopicConfig.CLEANUP_POLICY_COMPACT`, `_DELETE`).
const CLEANUP_POLICIES: &[&str] = &["compact", "delete"];

/// `cleanup.policy`: what removes a topic's old records. Kafka accepts an empty list too: then
/// nothing does.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CleanupPolicy {
    /// `compact`: the log cleaner keeps each key's latest record.
    pub compact: bool,
    /// `delete`: retention by time and size.
    pub delete: bool,
}

impl CleanupPolicy {
    fn of(items: &[&str]) -> CleanupPolicy {
        CleanupPolicy {
            compact: items.contains(&"compact"),
            delete: items.contains(&"delete"),
        }
    }

    /// As `kafka-topics --describe` would print it.
    pub fn name(self) -> &'static str {
        match (self.compact, self.delete) {
            (true, true) => "compact,delete",
            (true, false) => "compact",
            (false, true) => "delete",
            (false, false) => "",
        }
    }
}

/// How a compacted log is cleaned (`LogConfig`'s compaction settings).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CompactionConfig {
    /// `min.cleanable.dirty.ratio`.
    pub min_cleanable_ratio: Ratio,
    /// `min.compaction.lag.ms`.
    pub min_lag: SimDuration,
    /// `max.compaction.lag.ms`.
    pub max_lag: SimDuration,
    /// `delete.retention.ms`.
    pub delete_retention: SimDuration,
}

/// Each broker's log cleaner (`CleanerConfig`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CleanerConfig {
    /// `log.cleaner.enable`.
    pub enable: bool,
    /// `log.cleaner.threads`.
    pub threads: u32,
    /// `log.cleaner.backoff.ms`.
    pub backoff: SimDuration,
}

/// `LogConfig.validateValues`: a topic's (or, with the broker's keys, the broker's) minimum
/// compaction lag may not exceed its maximum. `at` is the key the error points at.
/// `log.cleaner.dedupe.buffer.size`'s default, 128 MiB (`CleanerConfig`).
const DEDUPE_BUFFER_BYTES: i64 = 128 * 1024 * 1024;

/// The lags are compared as given, in ms: a value up to `Long.MAX_VALUE` ms does not fit in
/// simulated time.
fn compaction_lags_in_order(
    block: &ConfigBlock<'_, '_>,
    (min_lag_ms, max_lag_ms): (i64, i64),
    at: &str,
    help: &str,
) -> Result<(), ScenarioError> {
    if min_lag_ms > max_lag_ms {
        return Err(block
            .error_at_key(
                at,
                format!(
                    "conflict topic config setting min.compaction.lag.ms ({min_lag_ms}) > max.compaction.lag.ms ({max_lag_ms})"
                ),
            )
            .with_help(help.to_string()));
    }
    Ok(())
}

/// How a follower truncates after a leader change.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TruncationRule {
    /// KIP-101/KIP-279 (Kafka 0.11+, today via the fetch's diverging epoch).
    LeaderEpoch,
    /// Before 0.11: truncate to the local high watermark on becoming a follower.
    HighWatermark,
}

/// The transaction protocol version (Kafka's `transaction.version` feature,
/// `org.apache.kafka.server.common.TransactionVersion`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TransactionVersion {
    /// The client adds each partition to its transaction with `AddPartitionsToTxn` before it
    /// first sends to it; the epoch stays the same across transactions.
    V1,
    /// KIP-890: the partition leader adds a partition when the first produce request of a
    /// transaction arrives, after the coordinator verifies it; every commit or abort bumps the
    /// epoch. What a new Kafka 4.0 cluster enables.
    V2,
}

/// The transaction coordinators' settings (`TransactionLogConfig`,
/// `TransactionStateManagerConfig`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TransactionsConfig {
    /// `transaction.state.log.num.partitions`.
    pub state_log_partitions: u32,
    /// `transaction.state.log.replication.factor`.
    pub state_log_replication_factor: u32,
    /// `transaction.state.log.min.isr`.
    pub state_log_min_isr: u32,
    /// `transaction.max.timeout.ms`.
    pub max_timeout: SimDuration,
    /// `transaction.abort.timed.out.transaction.cleanup.interval.ms`.
    pub abort_cleanup_interval: SimDuration,
    /// `kafkasim.transaction.version`.
    pub version: TransactionVersion,
}

/// The cluster's broker configuration, validated and typed.
#[derive(Clone, Debug)]
pub struct BrokerConfig {
    /// `message.max.bytes`.
    pub message_max_bytes: u32,
    /// `broker.heartbeat.interval.ms`.
    pub heartbeat_interval: SimDuration,
    /// `broker.session.timeout.ms`.
    pub session_timeout: SimDuration,
    /// `min.insync.replicas` (topics may override).
    pub min_insync_replicas: u32,
    /// `unclean.leader.election.enable` (topics may override).
    pub unclean_leader_election: bool,
    /// `replica.lag.time.max.ms`.
    pub replica_lag_time_max: SimDuration,
    /// `replica.fetch.wait.max.ms`.
    pub replica_fetch_wait_max: SimDuration,
    /// `replica.fetch.min.bytes`.
    pub replica_fetch_min_bytes: u32,
    /// `replica.fetch.max.bytes`.
    pub replica_fetch_max_bytes: u32,
    /// `replica.fetch.backoff.ms`.
    pub replica_fetch_backoff: SimDuration,
    /// `replica.socket.timeout.ms`.
    pub replica_socket_timeout: SimDuration,
    /// `replica.high.watermark.checkpoint.interval.ms`.
    pub hw_checkpoint_interval: SimDuration,
    /// `log.flush.interval.messages` (topics may override).
    pub flush_messages: u64,
    /// `log.flush.interval.ms` (topics may override).
    pub flush_interval: SimDuration,
    /// `auto.leader.rebalance.enable`.
    pub auto_leader_rebalance: bool,
    /// `leader.imbalance.check.interval.seconds`.
    pub leader_imbalance_check_interval: SimDuration,
    /// `kafkasim.truncation.rule`.
    pub truncation: TruncationRule,
    /// `kafkasim.min.isr.hw.gate`.
    pub min_isr_hw_gate: bool,
    /// The storage defaults topics inherit: `log.segment.bytes`, `log.roll.ms`/`hours`,
    /// `log.message.timestamp.type`, `log.retention.ms`/`minutes`/`hours`, `log.retention.bytes`.
    pub log: LogConfig,
    /// `log.retention.check.interval.ms`.
    pub retention_check_interval: SimDuration,
    /// `offsets.topic.num.partitions`.
    pub offsets_topic_partitions: u32,
    /// `offsets.topic.replication.factor`.
    pub offsets_topic_replication_factor: u32,
    /// The group coordinator's settings.
    pub coordinator: CoordinatorConfig,
    /// The transaction coordinator's settings.
    pub transactions: TransactionsConfig,
    /// What handling a request costs.
    pub costs: RequestCosts,
    /// `log.cleanup.policy` (topics may override).
    pub cleanup_policy: CleanupPolicy,
    /// The `log.cleaner.*` compaction settings (topics may override).
    pub compaction: CompactionConfig,
    /// `log.cleaner.min.compaction.lag.ms` and `log.cleaner.max.compaction.lag.ms` as given,
    /// for `LogConfig.validate`'s check of a topic's lags over them.
    pub compaction_lags_ms: (i64, i64),
    /// The log cleaner.
    pub cleaner: CleanerConfig,
    /// The settings as given, for a real broker.
    pub properties: Properties,
}

/// What handling a request costs a broker: the cost model that makes batching matter.
///
/// Defaults: the thread counts are Kafka's (`num.network.threads=3`, `num.io.threads=8`). The
/// times are round numbers of the right order for a small cluster, not measurements: a produce
/// request's local time on an idle broker is a fraction of a millisecond (Kafka's
/// `RequestMetrics` `LocalTimeMs`), and appending to the page cache with a CRC check runs at
/// about a GiB/s per core.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RequestCosts {
    /// `num.network.threads`.
    pub network_threads: u32,
    /// `num.io.threads`.
    pub io_threads: u32,
    /// `kafkasim.request.time.us`.
    pub request_time: SimDuration,
    /// `kafkasim.io.thread.mib.per.s` (0: free).
    pub io_mib_per_s: u64,
    /// `kafkasim.network.thread.mib.per.s` (0: free).
    pub network_mib_per_s: u64,
}

fn u32_of(c: &Config, key: &str) -> u32 {
    u32::try_from(c.int(key)).unwrap_or(u32::MAX)
}

impl BrokerConfig {
    /// Validates `cluster.config`, with `KafkaConfig.validateValues`'s cross-key rules.
    pub fn from_block(block: &ConfigBlock<'_, '_>) -> Result<BrokerConfig, ScenarioError> {
        let c = BROKER.validate(block)?;
        // KafkaConfig.validateValues (core/src/main/scala/kafka/server/KafkaConfig.scala) checks
        // the roll and retention times first, then the socket timeout, then the lag time.
        let log = broker_log_config(block, &c)?;
        // `KafkaConfig.validateValues`: `require(logCleanerDedupeBufferSize / logCleanerThreads >
        // 1024 * 1024)`, with the dedupe buffer at its default (kafkasim does not model the key):
        // at most 127 threads, whether the cleaner is enabled or not; checked after the roll and
        // retention times, before the replica timeouts.
        if DEDUPE_BUFFER_BYTES / c.int("log.cleaner.threads").max(1) <= 1024 * 1024 {
            return Err(block
                .error_at_key(
                    "log.cleaner.threads",
                    "log.cleaner.dedupe.buffer.size must be at least 1MB per cleaner thread.",
                )
                .with_help(format!(
                    "use at most {} log.cleaner.threads: the dedupe buffer is {DEDUPE_BUFFER_BYTES} bytes (log.cleaner.dedupe.buffer.size)",
                    (DEDUPE_BUFFER_BYTES - 1) / (1024 * 1024)
                )));
        }
        let wait = c.int("replica.fetch.wait.max.ms");
        if wait > c.int("replica.socket.timeout.ms") {
            return Err(block.error_at_key(
                "replica.socket.timeout.ms",
                "replica.socket.timeout.ms should always be at least replica.fetch.wait.max.ms to prevent unnecessary socket timeouts",
            ));
        }
        if wait > c.int("replica.lag.time.max.ms") {
            return Err(block.error_at_key(
                "replica.fetch.wait.max.ms",
                "replica.fetch.wait.max.ms should always be less than or equal to replica.lag.time.max.ms to prevent frequent changes in ISR",
            ));
        }
        let seconds = c.uint("leader.imbalance.check.interval.seconds");
        let compaction = CompactionConfig {
            min_cleanable_ratio: c.ratio("log.cleaner.min.cleanable.ratio"),
            min_lag: c.ms("log.cleaner.min.compaction.lag.ms"),
            max_lag: c.ms("log.cleaner.max.compaction.lag.ms"),
            delete_retention: c.ms("log.cleaner.delete.retention.ms"),
        };
        // Kafka 4.0.1's broker takes a minimum lag above the maximum; a topic that inherits them
        // is refused (`LogConfig.validate`, in `TopicConfig::from_block`).
        let compaction_lags_ms = (
            c.int("log.cleaner.min.compaction.lag.ms"),
            c.int("log.cleaner.max.compaction.lag.ms"),
        );
        Ok(BrokerConfig {
            message_max_bytes: u32_of(&c, "message.max.bytes"),
            heartbeat_interval: c.ms("broker.heartbeat.interval.ms"),
            session_timeout: c.ms("broker.session.timeout.ms"),
            min_insync_replicas: u32_of(&c, "min.insync.replicas"),
            unclean_leader_election: c.bool("unclean.leader.election.enable"),
            replica_lag_time_max: c.ms("replica.lag.time.max.ms"),
            replica_fetch_wait_max: c.ms("replica.fetch.wait.max.ms"),
            replica_fetch_min_bytes: u32_of(&c, "replica.fetch.min.bytes"),
            replica_fetch_max_bytes: u32_of(&c, "replica.fetch.max.bytes"),
            replica_fetch_backoff: c.ms("replica.fetch.backoff.ms"),
            replica_socket_timeout: c.ms("replica.socket.timeout.ms"),
            hw_checkpoint_interval: c.ms("replica.high.watermark.checkpoint.interval.ms"),
            flush_messages: c.uint("log.flush.interval.messages"),
            flush_interval: c.ms("log.flush.interval.ms"),
            auto_leader_rebalance: c.bool("auto.leader.rebalance.enable"),
            leader_imbalance_check_interval: SimDuration::from_ms(seconds.saturating_mul(1000)),
            truncation: match c.str(TRUNCATION_KEY) {
                "high-watermark" => TruncationRule::HighWatermark,
                _ => TruncationRule::LeaderEpoch,
            },
            min_isr_hw_gate: c.bool("kafkasim.min.isr.hw.gate"),
            log,
            retention_check_interval: c.ms("log.retention.check.interval.ms"),
            offsets_topic_partitions: u32_of(&c, "offsets.topic.num.partitions"),
            offsets_topic_replication_factor: u32_of(&c, "offsets.topic.replication.factor"),
            coordinator: CoordinatorConfig {
                initial_rebalance_delay: c.ms("group.initial.rebalance.delay.ms"),
                min_session_timeout: c.ms("group.min.session.timeout.ms"),
                max_session_timeout: c.ms("group.max.session.timeout.ms"),
                offsets_retention: SimDuration::from_ms(
                    c.uint("offsets.retention.minutes").saturating_mul(60_000),
                ),
                offsets_retention_check_interval: c.ms("offsets.retention.check.interval.ms"),
            },
            transactions: TransactionsConfig {
                state_log_partitions: u32_of(&c, "transaction.state.log.num.partitions"),
                state_log_replication_factor: u32_of(&c, "transaction.state.log.replication.factor"),
                state_log_min_isr: u32_of(&c, "transaction.state.log.min.isr"),
                max_timeout: c.ms("transaction.max.timeout.ms"),
                abort_cleanup_interval: c.ms("transaction.abort.timed.out.transaction.cleanup.interval.ms"),
                version: match c.int(TRANSACTION_VERSION_KEY) {
                    1 => TransactionVersion::V1,
                    _ => TransactionVersion::V2,
                },
            },
            costs: RequestCosts {
                network_threads: u32_of(&c, "num.network.threads"),
                io_threads: u32_of(&c, "num.io.threads"),
                request_time: SimDuration::from_us(c.uint("kafkasim.request.time.us")),
                io_mib_per_s: c.uint("kafkasim.io.thread.mib.per.s"),
                network_mib_per_s: c.uint("kafkasim.network.thread.mib.per.s"),
            },
            cleanup_policy: CleanupPolicy::of(&c.list("log.cleanup.policy")),
            compaction,
            compaction_lags_ms,
            cleaner: CleanerConfig {
                enable: c.bool("log.cleaner.enable"),
                threads: u32_of(&c, "log.cleaner.threads"),
                backoff: c.ms("log.cleaner.backoff.ms"),
            },
            properties: c.properties(),
        })
    }
}

/// The broker's storage defaults, combined and checked as `KafkaConfig` does
/// (core/src/main/scala/kafka/server/KafkaConfig.scala: `logRollTimeMillis`,
/// `logRetentionTimeMillis`, and `validateValues`' two `require`s on them).
fn broker_log_config(block: &ConfigBlock<'_, '_>, c: &Config) -> Result<LogConfig, ScenarioError> {
    const HOUR_MS: i64 = 60 * 60 * 1000;
    let roll_ms = c
        .int_opt("log.roll.ms")
        .unwrap_or_else(|| HOUR_MS.saturating_mul(c.int("log.roll.hours")));
    if roll_ms < 1 {
        let key = if c.is_explicit("log.roll.ms") {
            "log.roll.ms"
        } else {
            "log.roll.hours"
        };
        return Err(block
            .error_at_key(key, "log.roll.ms must be greater than or equal to 1")
            .with_help("a segment rolls after a positive time, e.g. \"log.roll.ms\": 604800000 (7 days)"));
    }
    let retention_ms = c.int_opt("log.retention.ms").unwrap_or_else(|| {
        c.int_opt("log.retention.minutes").map_or_else(
            || HOUR_MS.saturating_mul(c.int("log.retention.hours")),
            |minutes| 60_000i64.saturating_mul(minutes),
        )
    });
    let retention_ms = if retention_ms < 0 { -1 } else { retention_ms };
    if retention_ms == 0 {
        let key = ["log.retention.ms", "log.retention.minutes", "log.retention.hours"]
            .into_iter()
            .find(|k| c.is_explicit(k))
            .unwrap_or("log.retention.ms");
        return Err(block
            .error_at_key(
                key,
                "log.retention.ms must be unlimited (-1) or, greater than or equal to 1",
            )
            .with_help(format!(
                "write -1 to keep records forever, or a positive time, e.g. \"{key}\": {} (7 days, Kafka's default)",
                match key {
                    "log.retention.minutes" => 10_080,
                    "log.retention.hours" => 168,
                    _ => 604_800_000,
                }
            )));
    }
    Ok(LogConfig {
        segment_bytes: c.uint("log.segment.bytes"),
        segment_ms: u64::try_from(roll_ms).unwrap_or(1),
        timestamp_type: timestamp_type(c.str("log.message.timestamp.type")),
        retention_ms: u64::try_from(retention_ms).ok(),
        retention_bytes: u64::try_from(c.int("log.retention.bytes")).ok(),
    })
}

fn timestamp_type(name: &str) -> TimestampType {
    match name {
        "LogAppendTime" => TimestampType::LogAppendTime,
        _ => TimestampType::CreateTime,
    }
}

/// One topic's configuration, with broker-level defaults applied.
#[derive(Clone, Debug)]
pub struct TopicConfig {
    /// `max.message.bytes`.
    pub max_message_bytes: u32,
    /// `min.insync.replicas`.
    pub min_insync_replicas: u32,
    /// `unclean.leader.election.enable`.
    pub unclean_leader_election: bool,
    /// `flush.messages`.
    pub flush_messages: u64,
    /// `flush.ms`.
    pub flush_interval: SimDuration,
    /// `cleanup.policy`.
    pub cleanup_policy: CleanupPolicy,
    /// `min.cleanable.dirty.ratio`, `min.compaction.lag.ms`, `max.compaction.lag.ms`,
    /// `delete.retention.ms`.
    pub compaction: CompactionConfig,
    /// `segment.bytes`, `segment.ms`, `message.timestamp.type`, `retention.ms`,
    /// `retention.bytes`.
    pub log: LogConfig,
    /// The topic's own settings as given (none for internal topics), for a real topic.
    pub properties: Properties,
}

impl TopicConfig {
    /// Validates a topic's `config` block; unset keys inherit the broker's.
    pub fn from_block(
        block: &ConfigBlock<'_, '_>,
        broker: &BrokerConfig,
    ) -> Result<TopicConfig, ScenarioError> {
        let c = TOPIC.validate(block)?;
        let set = |key: &str| c.is_explicit(key);
        let ms_or = |key: &str, default: SimDuration| if set(key) { c.ms(key) } else { default };
        let b = &broker.compaction;
        let compaction = CompactionConfig {
            min_cleanable_ratio: if set("min.cleanable.dirty.ratio") {
                c.ratio("min.cleanable.dirty.ratio")
            } else {
                b.min_cleanable_ratio
            },
            min_lag: ms_or("min.compaction.lag.ms", b.min_lag),
            max_lag: ms_or("max.compaction.lag.ms", b.max_lag),
            delete_retention: ms_or("delete.retention.ms", b.delete_retention),
        };
        // `LogConfig.validate` checks the topic's settings over the broker's defaults.
        let at = if set("min.compaction.lag.ms") {
            "min.compaction.lag.ms"
        } else {
            "max.compaction.lag.ms"
        };
        let raw = |key: &str, broker_ms: i64| if set(key) { c.int(key) } else { broker_ms };
        let (broker_min, broker_max) = broker.compaction_lags_ms;
        let lags = (
            raw("min.compaction.lag.ms", broker_min),
            raw("max.compaction.lag.ms", broker_max),
        );
        let help = if set("min.compaction.lag.ms") || set("max.compaction.lag.ms") {
            "make min.compaction.lag.ms at most max.compaction.lag.ms"
        } else {
            "the topic inherits the cluster's log.cleaner.min.compaction.lag.ms and log.cleaner.max.compaction.lag.ms: make the minimum at most the maximum (Kafka's broker starts with them, but refuses every topic that inherits them)"
        };
        compaction_lags_in_order(block, lags, at, help)?;
        Ok(TopicConfig {
            max_message_bytes: if set("max.message.bytes") {
                u32_of(&c, "max.message.bytes")
            } else {
                broker.message_max_bytes
            },
            min_insync_replicas: if set("min.insync.replicas") {
                u32_of(&c, "min.insync.replicas")
            } else {
                broker.min_insync_replicas
            },
            unclean_leader_election: if set("unclean.leader.election.enable") {
                c.bool("unclean.leader.election.enable")
            } else {
                broker.unclean_leader_election
            },
            flush_messages: if set("flush.messages") {
                c.uint("flush.messages")
            } else {
                broker.flush_messages
            },
            flush_interval: if set("flush.ms") {
                c.ms("flush.ms")
            } else {
                broker.flush_interval
            },
            cleanup_policy: if set("cleanup.policy") {
                CleanupPolicy::of(&c.list("cleanup.policy"))
            } else {
                broker.cleanup_policy
            },
            compaction,
            log: LogConfig {
                segment_bytes: if set("segment.bytes") {
                    c.uint("segment.bytes")
                } else {
                    broker.log.segment_bytes
                },
                segment_ms: if set("segment.ms") {
                    c.uint("segment.ms")
                } else {
                    broker.log.segment_ms
                },
                timestamp_type: if set("message.timestamp.type") {
                    timestamp_type(c.str("message.timestamp.type"))
                } else {
                    broker.log.timestamp_type
                },
                retention_ms: if set("retention.ms") {
                    u64::try_from(c.int("retention.ms")).ok()
                } else {
                    broker.log.retention_ms
                },
                retention_bytes: if set("retention.bytes") {
                    u64::try_from(c.int("retention.bytes")).ok()
                } else {
                    broker.log.retention_bytes
                },
            },
            properties: c.properties(),
        })
    }

    /// A topic with no config of its own: every value from the broker (internal topics).
    pub fn inherited(broker: &BrokerConfig) -> TopicConfig {
        TopicConfig {
            max_message_bytes: broker.message_max_bytes,
            min_insync_replicas: broker.min_insync_replicas,
            unclean_leader_election: broker.unclean_leader_election,
            flush_messages: broker.flush_messages,
            flush_interval: broker.flush_interval,
            cleanup_policy: broker.cleanup_policy,
            compaction: broker.compaction,
            log: broker.log,
            properties: Properties::new(),
        }
    }

    /// Kafka's own topics (`__consumer_offsets`, `__transaction_state`): compacted whatever
    /// `log.cleanup.policy` says, with 100 MiB segments (`GroupCoordinator.groupMetadataTopicConfigs`,
    /// `offsets.topic.segment.bytes`; `TransactionStateManager.transactionTopicConfigs`,
    /// `transaction.state.log.segment.bytes`), the rest from the broker. Compacted, they are
    /// cleaned by the log cleaner and never lose segments to time or size retention.
    pub fn internal(broker: &BrokerConfig) -> TopicConfig {
        let mut config = TopicConfig {
            cleanup_policy: CleanupPolicy {
                compact: true,
                delete: false,
            },
            ..TopicConfig::inherited(broker)
        };
        config.log.segment_bytes = 100 * 1024 * 1024;
        config
    }

    /// The explicitly set keys, `k=v` joined by commas, as `kafka-topics --describe` shows them.
    pub fn describe(&self, broker: &BrokerConfig) -> String {
        let mut parts = Vec::new();
        if self.max_message_bytes != broker.message_max_bytes {
            parts.push(format!("max.message.bytes={}", self.max_message_bytes));
        }
        if self.min_insync_replicas != broker.min_insync_replicas {
            parts.push(format!("min.insync.replicas={}", self.min_insync_replicas));
        }
        if self.unclean_leader_election != broker.unclean_leader_election {
            parts.push(format!(
                "unclean.leader.election.enable={}",
                self.unclean_leader_election
            ));
        }
        if self.flush_messages != broker.flush_messages {
            parts.push(format!("flush.messages={}", self.flush_messages));
        }
        if self.flush_interval != broker.flush_interval {
            parts.push(format!("flush.ms={}", self.flush_interval.as_ms()));
        }
        if self.cleanup_policy != broker.cleanup_policy {
            parts.push(format!("cleanup.policy={}", self.cleanup_policy.name()));
        }
        let (mine, theirs) = (&self.compaction, &broker.compaction);
        if mine.min_cleanable_ratio != theirs.min_cleanable_ratio {
            parts.push(format!("min.cleanable.dirty.ratio={}", mine.min_cleanable_ratio));
        }
        if mine.min_lag != theirs.min_lag {
            parts.push(format!("min.compaction.lag.ms={}", mine.min_lag.as_ms()));
        }
        if mine.max_lag != theirs.max_lag {
            parts.push(format!("max.compaction.lag.ms={}", mine.max_lag.as_ms()));
        }
        if mine.delete_retention != theirs.delete_retention {
            parts.push(format!("delete.retention.ms={}", mine.delete_retention.as_ms()));
        }
        let (log, default) = (&self.log, &broker.log);
        let signed = |v: Option<u64>| v.map_or(-1, |v| i64::try_from(v).unwrap_or(i64::MAX));
        if log.segment_bytes != default.segment_bytes {
            parts.push(format!("segment.bytes={}", log.segment_bytes));
        }
        if log.segment_ms != default.segment_ms {
            parts.push(format!("segment.ms={}", log.segment_ms));
        }
        if log.timestamp_type != default.timestamp_type {
            let name = match log.timestamp_type {
                TimestampType::CreateTime => "CreateTime",
                TimestampType::LogAppendTime => "LogAppendTime",
            };
            parts.push(format!("message.timestamp.type={name}"));
        }
        if log.retention_ms != default.retention_ms {
            parts.push(format!("retention.ms={}", signed(log.retention_ms)));
        }
        if log.retention_bytes != default.retention_bytes {
            parts.push(format!("retention.bytes={}", signed(log.retention_bytes)));
        }
        parts.join(",")
    }
}

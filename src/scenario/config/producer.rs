//! Producer configs (`ProducerConfig.java`, Kafka 4.0) and their cross-key rules.

use super::client::{self, ClientNetConfig};
use super::{Config, ConfigBlock, ConfigSet, INT_MAX, KeyDef, Kind, LONG_MAX, Properties, int_key};
use crate::scenario::error::ScenarioError;
use crate::sim::SimDuration;
use std::sync::Arc;

/// `transactional.id`.
pub(crate) const TRANSACTIONAL_ID: &str = "transactional.id";
/// `transaction.timeout.ms`.
pub(crate) const TRANSACTION_TIMEOUT: &str = "transaction.timeout.ms";

pub(crate) static PRODUCER: ConfigSet = ConfigSet {
    what: "producer",
    keys: &[
        KeyDef {
            name: "acks",
            kind: Kind::OneOf(&["all", "-1", "0", "1"]),
            default: "all",
            doc: "0: no response; 1: the leader's append; all: the whole ISR",
        },
        int_key(
            "retries",
            0,
            INT_MAX,
            "2147483647",
            "how many times a failed batch is re-sent",
        ),
        int_key(
            "max.in.flight.requests.per.connection",
            1,
            INT_MAX,
            "5",
            "unanswered requests allowed per broker connection; 1 mutes a partition while its batch is in flight",
        ),
        KeyDef {
            name: "enable.idempotence",
            kind: Kind::Bool,
            default: "true",
            doc: "idempotent producer: producer id, epoch and sequence numbers make retries safe (needs acks=all, retries > 0, max.in.flight <= 5)",
        },
        KeyDef {
            name: TRANSACTIONAL_ID,
            kind: Kind::Text,
            default: "",
            doc: "transactional producer: initTransactions() fences older producers with the same id and finishes what they left open; records are written in transactions (needs idempotence; default: none)",
        },
        // Kafka's ConfigDef has no range; the coordinator refuses a timeout that is not positive
        // (`TransactionStateManager.validateTransactionTimeoutMs`), so kafkasim asks for >= 1.
        int_key(
            TRANSACTION_TIMEOUT,
            1,
            INT_MAX,
            "60000",
            "with a transactional.id: the coordinator aborts a transaction still open this long after it began (at most the brokers' transaction.max.timeout.ms)",
        ),
        int_key(
            "batch.size",
            0,
            INT_MAX,
            "16384",
            "bytes per batch (0 behaves as 1: one record per batch)",
        ),
        int_key(
            "linger.ms",
            0,
            LONG_MAX,
            "5",
            "how long a batch waits for more records before it is ready",
        ),
        int_key(
            "buffer.memory",
            0,
            LONG_MAX,
            "33554432",
            "bytes of batches the producer may hold",
        ),
        int_key(
            "max.block.ms",
            0,
            LONG_MAX,
            "60000",
            "how long send() may block for metadata or buffer memory",
        ),
        int_key(
            "max.request.size",
            0,
            INT_MAX,
            "1048576",
            "bytes per produce request (and per record)",
        ),
        client::REQUEST_TIMEOUT,
        int_key(
            "delivery.timeout.ms",
            0,
            INT_MAX,
            "120000",
            "a batch not acknowledged this long after creation fails (KIP-91)",
        ),
        client::RETRY_BACKOFF,
        client::RETRY_BACKOFF_MAX,
        client::RECONNECT_BACKOFF,
        client::RECONNECT_BACKOFF_MAX,
        client::CONNECTION_SETUP_TIMEOUT,
        client::METADATA_MAX_AGE,
        KeyDef {
            name: "partitioner.ignore.keys",
            kind: Kind::Bool,
            default: "false",
            doc: "treat keyed records as keyless (uniform sticky partitioning)",
        },
    ],
    not_modelled: &[
        "compression.gzip.level",
        "compression.lz4.level",
        "compression.type",
        "compression.zstd.level",
        "connections.max.idle.ms",
        "metadata.max.idle.ms",
        "metadata.recovery.strategy",
        "partitioner.adaptive.partitioning.enable",
        "partitioner.availability.timeout.ms",
        "partitioner.class",
        "socket.connection.setup.timeout.max.ms",
    ],
    ignored: &[client::IGNORED, &["key.serializer", "value.serializer"]],
    ignored_prefixes: client::SECURITY_PREFIXES,
    elsewhere: &[],
};

/// `acks`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Acks {
    /// `acks=0`: fire and forget.
    Zero,
    /// `acks=1`: the leader's local append.
    One,
    /// `acks=all` (or `-1`): every in-sync replica.
    All,
}

impl Acks {
    /// Kafka's wire value.
    pub fn as_i16(self) -> i16 {
        match self {
            Acks::Zero => 0,
            Acks::One => 1,
            Acks::All => -1,
        }
    }
}

/// A producer's configuration, validated and typed.
#[derive(Clone, Debug)]
pub struct ProducerConfig {
    /// `acks`.
    pub acks: Acks,
    /// `retries`.
    pub retries: u32,
    /// `max.in.flight.requests.per.connection`.
    pub max_in_flight: u32,
    /// `batch.size`, with 0 read as 1 as Kafka does.
    pub batch_size_bytes: u32,
    /// `linger.ms`.
    pub linger: SimDuration,
    /// `buffer.memory`.
    pub buffer_memory_bytes: u64,
    /// `max.block.ms`.
    pub max_block: SimDuration,
    /// `max.request.size`.
    pub max_request_size_bytes: u32,
    /// `delivery.timeout.ms` (possibly raised, see `notes`).
    pub delivery_timeout: SimDuration,
    /// `partitioner.ignore.keys`.
    pub partitioner_ignore_keys: bool,
    /// `enable.idempotence` after Kafka's rules (false when silently disabled).
    pub idempotence: bool,
    /// `transactional.id`, when the producer is transactional.
    pub transactional_id: Option<Arc<str>>,
    /// `transaction.timeout.ms`.
    pub transaction_timeout: SimDuration,
    /// Settings shared with every client.
    pub net: ClientNetConfig,
    /// What Kafka would log while building this producer (silent adjustments).
    pub notes: Vec<String>,
    /// The settings as given, for a real producer.
    pub properties: Properties,
}

impl ProducerConfig {
    /// Validates a producer's `config` block and applies Kafka's cross-key rules.
    pub fn from_block(block: &ConfigBlock<'_, '_>) -> Result<ProducerConfig, ScenarioError> {
        let c = PRODUCER.validate(block)?;
        let mut notes = Vec::new();
        let acks = match c.str("acks") {
            "0" => Acks::Zero,
            "1" => Acks::One,
            _ => Acks::All,
        };
        // ConfigDef's validators run before the idempotence rules, so an empty id fails first.
        let transactional_id = transactional_id(&c, block)?;
        let idempotence = check_idempotence(&c, block, acks, &mut notes)?;
        if transactional_id.is_some() && !idempotence {
            return Err(without_idempotence(&c, block));
        }
        let net = ClientNetConfig::from_config(&c);
        let linger = c.ms("linger.ms");
        let delivery_timeout = delivery_timeout(&c, block, linger, &net, &mut notes)?;
        if net.retry_backoff > net.retry_backoff_max {
            notes.push(format!(
                "retry.backoff.ms {} is larger than retry.backoff.max.ms {}: Kafka uses a constant backoff of retry.backoff.max.ms",
                net.retry_backoff.as_ms(),
                net.retry_backoff_max.as_ms()
            ));
        }
        Ok(ProducerConfig {
            acks,
            retries: u32::try_from(c.int("retries")).unwrap_or(u32::MAX),
            max_in_flight: u32::try_from(c.int("max.in.flight.requests.per.connection")).unwrap_or(u32::MAX),
            batch_size_bytes: u32::try_from(c.int("batch.size")).unwrap_or(u32::MAX).max(1),
            linger,
            buffer_memory_bytes: c.uint("buffer.memory"),
            max_block: c.ms("max.block.ms"),
            max_request_size_bytes: u32::try_from(c.int("max.request.size")).unwrap_or(u32::MAX),
            delivery_timeout,
            partitioner_ignore_keys: c.bool("partitioner.ignore.keys"),
            idempotence,
            transactional_id,
            transaction_timeout: c.ms(TRANSACTION_TIMEOUT),
            net,
            notes,
            properties: c.properties(),
        })
    }
}

/// `ProducerConfig.postProcessAndValidateIdempotenceConfigs` (Kafka 4.0): conflicts are errors when
/// the user set `enable.idempotence`, and silently disable it when it was only defaulted, except
/// max.in.flight > 5, which is an error either way since 4.0: Kafka checks it after retries and
/// acks even when they have just disabled idempotence. Returns whether idempotence is on.
fn check_idempotence(
    c: &Config,
    block: &ConfigBlock<'_, '_>,
    acks: Acks,
    notes: &mut Vec<String>,
) -> Result<bool, ScenarioError> {
    const KEY: &str = "enable.idempotence";
    if !c.bool(KEY) {
        return Ok(false);
    }
    let explicit = c.is_explicit(KEY);
    let max_in_flight = c.int("max.in.flight.requests.per.connection");
    let mut disable = false;
    if c.int("retries") == 0 {
        if explicit {
            return Err(block
                .error_at_key(
                    "retries",
                    "Must set retries to non-zero when using the idempotent producer.",
                )
                .with_help("remove \"retries\", or set \"enable.idempotence\": false"));
        }
        notes.push("Idempotence will be disabled because retries is set to 0.".to_string());
        disable = true;
    }
    if acks != Acks::All {
        if explicit {
            return Err(block
                .error_at_key(
                    "acks",
                    "Must set acks to all in order to use the idempotent producer. Otherwise we cannot guarantee idempotence.",
                )
                .with_help("set \"acks\": \"all\", or \"enable.idempotence\": false"));
        }
        notes.push(format!(
            "Idempotence will be disabled because acks is set to {}, not set to 'all'.",
            c.str("acks")
        ));
        disable = true;
    }
    if max_in_flight > 5 {
        return Err(block
            .error_at_key(
                "max.in.flight.requests.per.connection",
                format!(
                    "To use the idempotent producer, max.in.flight.requests.per.connection must be set to at most 5. Current value is {max_in_flight}."
                ),
            )
            .with_help("use at most 5, or set \"enable.idempotence\": false"));
    }
    Ok(!disable)
}

/// An explicit `transactional.id`, checked as `ConfigDef.NonEmptyString` checks it (after
/// `ConfigDef.parseType` trimmed it).
fn transactional_id(c: &Config, block: &ConfigBlock<'_, '_>) -> Result<Option<Arc<str>>, ScenarioError> {
    if !c.is_explicit(TRANSACTIONAL_ID) {
        return Ok(None);
    }
    let id = c.str(TRANSACTIONAL_ID);
    if id.is_empty() {
        return Err(block
            .error_at_key(
                TRANSACTIONAL_ID,
                "Invalid value  for configuration transactional.id: String must be non-empty",
            )
            .with_help(
                "give the producer an id, e.g. \"transactional.id\": \"orders-writer-1\", or remove the key",
            ));
    }
    Ok(Some(Arc::from(id)))
}

/// The last rule of `ProducerConfig.postProcessAndValidateIdempotenceConfigs` (Kafka 4.0): once
/// the rules above have run, a `transactional.id` needs idempotence on, so a defaulted idempotence
/// that `retries=0` or `acks` silently disabled refuses it too. The error points at the key that
/// turned idempotence off.
fn without_idempotence(c: &Config, block: &ConfigBlock<'_, '_>) -> ScenarioError {
    const MESSAGE: &str = "Cannot set a transactional.id without also enabling idempotence.";
    let (key, help) = if !c.bool("enable.idempotence") {
        (
            "enable.idempotence",
            "a transactional producer is idempotent: remove \"enable.idempotence\": false, or remove \"transactional.id\"".to_string(),
        )
    } else if c.int("retries") == 0 {
        (
            "retries",
            "retries=0 disabled idempotence, which a transactional.id needs: remove \"retries\", or remove \"transactional.id\"".to_string(),
        )
    } else {
        (
            "acks",
            format!(
                "acks={} disabled idempotence, which a transactional.id needs: set \"acks\": \"all\", or remove \"transactional.id\"",
                c.str("acks")
            ),
        )
    };
    block.error_at_key(key, MESSAGE).with_help(help)
}

/// KIP-91: `delivery.timeout.ms >= linger.ms + request.timeout.ms`; an explicit smaller value is
/// an error, a defaulted one is raised to the sum.
fn delivery_timeout(
    c: &Config,
    block: &ConfigBlock<'_, '_>,
    linger: SimDuration,
    net: &ClientNetConfig,
    notes: &mut Vec<String>,
) -> Result<SimDuration, ScenarioError> {
    const KEY: &str = "delivery.timeout.ms";
    let configured = c.ms(KEY);
    let floor_ms = (linger.as_ms() + net.request_timeout.as_ms()).min(INT_MAX as u64);
    let floor = SimDuration::from_ms(floor_ms);
    if configured >= floor {
        return Ok(configured);
    }
    if c.is_explicit(KEY) {
        return Err(block
            .error_at_key(
                KEY,
                "delivery.timeout.ms should be equal to or larger than linger.ms + request.timeout.ms",
            )
            .with_help(format!(
                "use at least {floor_ms}, or lower linger.ms / request.timeout.ms"
            )));
    }
    notes.push(format!(
        "delivery.timeout.ms was left at its default and raised to linger.ms + request.timeout.ms = {floor_ms}"
    ));
    Ok(floor)
}

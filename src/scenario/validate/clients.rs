//! The clients: producers and their workloads, consumers, and processors (a consumer and a
//! producer that share one config block). Client ids share one namespace.

use super::refs::{topic_by_name, topic_ref};
use super::{ConfigSource, MAX_RECORDS, MAX_VALUE_BYTES, count, opt_duration, with_config};
use crate::scenario::config::{ConfigBlock, LoadedBlock, PROCESSOR};
use crate::scenario::error::ScenarioError;
use crate::scenario::raw::{RawConsumer, RawProcessor, RawProducer, RawTransactions};
use crate::scenario::source::{Raw, Source};
use crate::scenario::units::parse_rate;
use crate::scenario::{
    Cluster, CommitMode, ConsumerConfig, ConsumerSpec, ProcessorSpec, ProducerConfig, ProducerSpec, Seek,
    Topic, Transactions, Workload,
};
use crate::sim::SimDuration;
use std::num::NonZeroU64;

/// Client ids share one namespace (`Client("p1")` in faults names any kind).
#[derive(Default)]
pub(super) struct ClientNames(Vec<String>);

impl ClientNames {
    fn claim(&mut self, src: &Source<'_>, raw: Raw<'_>) -> Result<String, ScenarioError> {
        let id: String = src.parse(raw)?;
        if id.is_empty() {
            return Err(src.error_at(raw, "a client id cannot be empty"));
        }
        if id == "controller" || id.starts_with("broker-") {
            return Err(src
                .error_at(
                    raw,
                    format!("client id `{id}` would be confused with a broker or the controller"),
                )
                .with_help("pick another id, e.g. \"p1\" or \"c1\""));
        }
        if self.0.contains(&id) {
            return Err(src.error_at(raw, format!("client id `{id}` is used twice")));
        }
        self.0.push(id.clone());
        Ok(id)
    }
}

pub(super) fn producer<'s>(
    src: &Source<'s>,
    p: &RawProducer<'s>,
    topics: &[Topic],
    cluster: &Cluster,
    names: &mut ClientNames,
) -> Result<(ProducerSpec, LoadedBlock<'s>), ScenarioError> {
    let id = names.claim(src, p.id)?;
    let from = ConfigSource {
        config: p.config,
        config_file: p.config_file,
        owner: p.id,
    };
    let (mut config, block) =
        with_config(src, from, &format!("producer `{id}`"), ProducerConfig::from_block)?;
    transaction_timeout_within_max(&block.view(src), &config, cluster)?;
    let w = &p.workload;
    let topic = topic_ref(src, w.topic, topics)?;
    note_batch_over_topic_limit(&mut config, &topics[topic]);
    let keys: Option<Vec<String>> = match w.keys {
        Some(raw) => {
            let keys: Vec<String> = src.parse(raw)?;
            if keys.is_empty() {
                return Err(src
                    .error_at(raw, "`keys` is an empty list")
                    .with_help("list at least one key, or leave `keys` out for keyless records"));
            }
            Some(keys)
        }
        None => None,
    };
    let records = count(src, w.records, "`records`", 1, MAX_RECORDS)?;
    const RATE_HELP: &str = "write a rate like \"1000/s\", \"5/ms\" or \"100/10ms\"";
    let rate_text: String = src.parse(w.rate).map_err(|e| e.with_help(RATE_HELP))?;
    let rate = parse_rate(&rate_text).map_err(|why| {
        src.error_at(w.rate, format!("invalid rate: {why}"))
            .with_help(RATE_HELP)
    })?;
    let value_bytes = match w.value_bytes {
        Some(r) => count(src, r, "`value_bytes`", 0, MAX_VALUE_BYTES)?,
        None => 100,
    };
    let transactions = match w.transactions {
        Some(raw) => Some(transactions(src, raw, &config, &id)?),
        None => None,
    };
    let tombstone_every = match w.tombstone_every {
        Some(raw) => Some(tombstone_every(src, raw, keys.is_some())?),
        None => None,
    };
    let spec = ProducerSpec {
        id,
        config,
        workload: Workload {
            topic,
            keys,
            records,
            rate,
            value_bytes,
            start: opt_duration(src, w.start, SimDuration::ZERO)?,
            transactions,
            tombstone_every,
        },
        processor: None,
    };
    Ok((spec, block))
}

/// A batch larger than the topic's `max.message.bytes` never gets in: worth a config note.
fn note_batch_over_topic_limit(config: &mut ProducerConfig, topic: &Topic) {
    let topic_limit = topic.config.max_message_bytes;
    if topic_limit < config.batch_size_bytes {
        config.notes.push(format!(
            "batch.size {} is larger than topic `{}`'s max.message.bytes {topic_limit}: a batch over the limit is rejected with MESSAGE_TOO_LARGE, split into batch.size pieces and rejected again until delivery.timeout.ms expires it, as Kafka's producer does (KAFKA-8350); keep batch.size below max.message.bytes",
            config.batch_size_bytes, topic.name
        ));
    }
}

/// `tombstone_every: N`: a tombstone is a key with a null value, so the workload needs `keys`
/// (Kafka's producer sends a keyless null value, but it deletes nothing: compaction works by
/// key, and a compacted topic refuses keyless records).
fn tombstone_every(src: &Source<'_>, raw: Raw<'_>, keyed: bool) -> Result<NonZeroU64, ScenarioError> {
    let n = count(src, raw, "`tombstone_every`", 1, MAX_RECORDS).map_err(|e| {
        if e.help.is_some() {
            e
        } else {
            e.with_help("every N-th record is a tombstone, e.g. tombstone_every: 5; leave it out for none")
        }
    })?;
    if !keyed {
        return Err(src
            .error_at(raw, "`tombstone_every` needs `keys`: a tombstone deletes one key")
            .with_help("add keys to the workload, e.g. keys: [\"a\", \"b\"], or remove `tombstone_every`"));
    }
    Ok(NonZeroU64::new(n).unwrap_or(NonZeroU64::MIN))
}

/// `transactions: (records: 10, abort_every: 3)` of producer `id`, which needs a
/// `transactional.id`.
fn transactions(
    src: &Source<'_>,
    raw: Raw<'_>,
    config: &ProducerConfig,
    id: &str,
) -> Result<Transactions, ScenarioError> {
    let t: RawTransactions = src.parse(raw)?;
    let records = count(src, t.records, "`records` per transaction", 1, u32::MAX).map_err(|e| {
        if e.help.is_some() {
            e
        } else {
            e.with_help("a transaction sends at least one record, e.g. transactions: (records: 10)")
        }
    })?;
    let abort_every = match t.abort_every {
        Some(r) => count(src, r, "`abort_every`", 0, u32::MAX)?,
        None => 0,
    };
    if config.transactional_id.is_none() {
        return Err(src
            .error_at(
                raw,
                format!("producer `{id}` sends in `transactions` but has no transactional.id"),
            )
            .with_help(format!(
                "add \"transactional.id\" to the producer's config, e.g. \"transactional.id\": \"{id}-tx\", or remove `transactions`"
            )));
    }
    Ok(Transactions { records, abort_every })
}

/// `TransactionStateManager.validateTransactionTimeoutMs`: the coordinator answers the
/// `InitProducerId` of a transactional producer whose `transaction.timeout.ms` is above the
/// brokers' `transaction.max.timeout.ms` with INVALID_TRANSACTION_TIMEOUT, and
/// `initTransactions()` throws: say so now.
fn transaction_timeout_within_max(
    block: &ConfigBlock<'_, '_>,
    config: &ProducerConfig,
    cluster: &Cluster,
) -> Result<(), ScenarioError> {
    let max = cluster.config.transactions.max_timeout;
    if config.transactional_id.is_none() || config.transaction_timeout <= max {
        return Ok(());
    }
    let message = format!(
        "transaction.timeout.ms {} is above the brokers' transaction.max.timeout.ms {}: the transaction coordinator would refuse InitProducerId with INVALID_TRANSACTION_TIMEOUT (The transaction timeout is larger than the maximum value allowed by the broker (as configured by transaction.max.timeout.ms).)",
        config.transaction_timeout.as_ms(),
        max.as_ms()
    );
    Err(block
        .error_at_key("transaction.timeout.ms", message)
        .with_help(format!(
            "use a transaction.timeout.ms of at most {}, or raise transaction.max.timeout.ms in cluster.config",
            max.as_ms()
        )))
}

/// A `group` name: not empty.
fn group_id(src: &Source<'_>, raw: Raw<'_>, help: &str) -> Result<String, ScenarioError> {
    let name: String = src.parse(raw)?;
    if name.is_empty() {
        return Err(src.error_at(raw, "the group id is empty").with_help(help));
    }
    Ok(name)
}

/// `topics: ["orders", ...]`: at least one, each once.
fn topic_list(src: &Source<'_>, raw: Raw<'_>, topics: &[Topic]) -> Result<Vec<usize>, ScenarioError> {
    let names: Vec<String> = src.parse(raw)?;
    if names.is_empty() {
        return Err(src.error_at(raw, "`topics` is an empty list"));
    }
    let mut indexes = Vec::new();
    for name in &names {
        let i = topic_by_name(src, raw, name, topics)?;
        if indexes.contains(&i) {
            return Err(src.error_within(raw, name, format!("topic `{name}` is listed twice")));
        }
        indexes.push(i);
    }
    Ok(indexes)
}

/// A group member's `session.timeout.ms` outside the brokers' bounds: the coordinator would
/// answer every JoinGroup with INVALID_SESSION_TIMEOUT, and the consumer's poll() would throw:
/// say so now.
fn session_within_bounds(
    block: &ConfigBlock<'_, '_>,
    config: &ConsumerConfig,
    cluster: &Cluster,
) -> Result<(), ScenarioError> {
    let bounds = &cluster.config.coordinator;
    if config.session_timeout >= bounds.min_session_timeout
        && config.session_timeout <= bounds.max_session_timeout
    {
        return Ok(());
    }
    let (min, max) = (
        bounds.min_session_timeout.as_ms(),
        bounds.max_session_timeout.as_ms(),
    );
    let message = format!(
        "session.timeout.ms {} is outside the brokers' group.min.session.timeout.ms..group.max.session.timeout.ms ({min}..{max}): the coordinator would refuse the member with INVALID_SESSION_TIMEOUT",
        config.session_timeout.as_ms()
    );
    Err(block
        .error_at_key("session.timeout.ms", message)
        .with_help(format!(
            "use a session.timeout.ms from {min} to {max}, or change the brokers' bounds in cluster.config"
        )))
}

pub(super) fn consumer<'s>(
    src: &Source<'s>,
    c: &RawConsumer<'s>,
    topics: &[Topic],
    cluster: &Cluster,
    names: &mut ClientNames,
) -> Result<(ConsumerSpec, LoadedBlock<'s>), ScenarioError> {
    let id = names.claim(src, c.id)?;
    let group = match c.group {
        Some(g) => Some(group_id(
            src,
            g,
            "leave `group` out for a consumer without a group",
        )?),
        None => None,
    };
    let commit: CommitMode = match c.commit {
        Some(raw) => src.parse(raw)?,
        None => CommitMode::Auto,
    };
    if let (None, Some(raw)) = (&group, c.commit) {
        return Err(src
            .error_at(raw, "`commit` needs a consumer group")
            .with_help("add `group: \"g1\"`: offsets are committed to a group's coordinator"));
    }
    let seek: Option<Seek> = match c.seek {
        Some(raw) => Some(src.parse(raw).map_err(|e| {
            if e.help.is_some() {
                e
            } else {
                e.with_help(
                    "write `seek: Beginning`, `seek: End`, `seek: Offset(120)` or `seek: Time(\"5s\")`",
                )
            }
        })?),
        None => None,
    };
    let indexes = topic_list(src, c.topics, topics)?;
    let from = ConfigSource {
        config: c.config,
        config_file: c.config_file,
        owner: c.id,
    };
    let (config, block) = with_config(src, from, &format!("consumer `{id}`"), ConsumerConfig::from_block)?;
    if group.is_some() {
        session_within_bounds(&block.view(src), &config, cluster)?;
    }
    let spec = ConsumerSpec {
        id,
        topics: indexes,
        config,
        start: opt_duration(src, c.start, SimDuration::ZERO)?,
        group,
        processing: opt_duration(src, c.processing, SimDuration::ZERO)?,
        commit,
        seek,
        processor: None,
    };
    Ok((spec, block))
}

/// A processor: a group member reading `topics` and a producer writing to `output`, configured
/// by one block whose keys go to the consumer, the producer, or both (the shared client keys).
pub(super) fn processor<'s>(
    src: &Source<'s>,
    p: &RawProcessor<'s>,
    topics: &[Topic],
    cluster: &Cluster,
    names: &mut ClientNames,
) -> Result<(ProcessorSpec, LoadedBlock<'s>), ScenarioError> {
    let id = names.claim(src, p.id)?;
    let Some(raw_group) = p.group else {
        return Err(src
            .error_at(p.id, format!("processor `{id}` has no `group`"))
            .with_help(
                "add `group: \"g1\"`: a processor reads its topics as a member of a consumer group, and commits its progress to that group",
            ));
    };
    let group = group_id(
        src,
        raw_group,
        "a processor needs a group: name it, e.g. group: \"g1\"",
    )?;
    let inputs = topic_list(src, p.topics, topics)?;
    let output = topic_ref(src, p.output, topics)?;
    if inputs.contains(&output) {
        return Err(src
            .error_at(
                p.output,
                format!(
                    "processor `{id}` writes to `{}`, one of the topics it reads",
                    topics[output].name
                ),
            )
            .with_help(
                "write to a topic that is not in `topics`: the processor would read its own output forever",
            ));
    }
    if topics[output].config.cleanup_policy.compact {
        return Err(src
            .error_at(
                p.output,
                format!(
                    "processor `{id}` writes to `{}`, a compacted topic: kafkasim does not model compaction of a processor's output (its keys are its inputs', known only as it runs)",
                    topics[output].name
                ),
            )
            .with_help("write to a topic with cleanup.policy delete (the default)"));
    }
    let block = LoadedBlock::load(src, p.config, p.config_file, p.id, &format!("processor `{id}`"))?
        .shared_by(&PROCESSOR);
    let view = block.view(src);
    let consumer = ConsumerConfig::from_block(&view)?;
    let mut producer = ProducerConfig::from_block(&view)?;
    session_within_bounds(&view, &consumer, cluster)?;
    transaction_timeout_within_max(&view, &producer, cluster)?;
    note_batch_over_topic_limit(&mut producer, &topics[output]);
    let spec = ProcessorSpec {
        id,
        group,
        topics: inputs,
        output,
        processing: opt_duration(src, p.processing, SimDuration::ZERO)?,
        start: opt_duration(src, p.start, SimDuration::ZERO)?,
        consumer,
        producer,
    };
    Ok((spec, block))
}

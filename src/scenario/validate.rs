//! From the raw file to a [`Scenario`]: every check that needs the whole scenario (names that
//! must exist, ranges, consistency), each error pointing at the offending text.

use super::blocks::Blocks;
use super::config::{ConfigBlock, LoadedBlock};
use super::error::ScenarioError;
use super::legal_name::{self, NameProblem};
use super::raw::{RawScenario, RawTopic};
use super::source::{Raw, Source};
use super::units::DURATION_HELP;
use super::units::{BANDWIDTH_HELP, parse_bandwidth, parse_duration};
use super::{
    BrokerConfig, Cluster, NetworkSpec, OFFSETS_TOPIC, Scenario, TRANSACTION_STATE_TOPIC, Topic, TopicConfig,
};
use crate::sim::SimDuration;

mod clients;
mod faults;
mod refs;

use clients::{ClientNames, consumer, processor, producer};
use faults::fault;
pub(super) use refs::{broker_ref, partition_ref, producer_ref, suggest, topic_by_name};

/// Upper limits that keep a scenario's run bounded.
const MAX_BROKERS: u32 = 100;
const MAX_PARTITIONS: u32 = 10_000;
const MAX_TOPICS: usize = 1_000;
const MAX_RECORDS: u64 = 100_000_000;
const MAX_VALUE_BYTES: u32 = 100 * 1024 * 1024;

pub(super) fn scenario(src: &Source<'_>) -> Result<Scenario, ScenarioError> {
    let raw: RawScenario = src.parse_root()?;
    let name: String = src.parse(raw.name)?;
    if name.trim().is_empty() {
        return Err(src.error_at(raw.name, "the scenario name is empty"));
    }
    let description: String = src.parse(raw.description)?;
    let seed: u64 = match raw.seed {
        Some(r) => src.parse(r)?,
        None => 1,
    };
    let duration = duration(src, raw.duration)?;
    if duration == SimDuration::ZERO {
        return Err(src
            .error_at(raw.duration, "`duration` must be longer than 0")
            .with_help("e.g. duration: \"5s\""));
    }
    let (cluster, cluster_block) = cluster(src, &raw)?;
    let raw_topics: Vec<RawTopic> = src.parse(raw.topics)?;
    let mut topics = Vec::new();
    let mut topic_blocks = Vec::new();
    for t in &raw_topics {
        let (topic, block) = topic(src, t, &cluster)?;
        if topics.iter().any(|x: &Topic| x.name == topic.name) {
            return Err(src.error_at(t.name, format!("topic `{}` is declared twice", topic.name)));
        }
        topics.push(topic);
        topic_blocks.push(block);
    }
    if topics.len() > MAX_TOPICS {
        return Err(src.error_at(
            raw.topics,
            format!("a scenario can declare at most {MAX_TOPICS} topics"),
        ));
    }
    if topics.is_empty() {
        return Err(src
            .error_at(raw.topics, "the scenario declares no topics")
            .with_help("add topics: [ (name: \"orders\", partitions: 3) ]"));
    }
    let mut names = ClientNames::default();
    let mut producers = Vec::new();
    let mut producer_blocks = Vec::new();
    for p in &raw.producers {
        let (spec, block) = producer(src, p, &topics, &cluster, &mut names)?;
        producers.push(spec);
        producer_blocks.push(block);
    }
    let mut consumers = Vec::new();
    let mut consumer_blocks = Vec::new();
    for c in &raw.consumers {
        let (spec, block) = consumer(src, c, &topics, &cluster, &mut names)?;
        consumers.push(spec);
        consumer_blocks.push(block);
    }
    let mut processors = Vec::new();
    let mut processor_blocks = Vec::new();
    for p in &raw.processors {
        let (spec, block) = processor(src, p, &topics, &cluster, &mut names)?;
        processors.push(spec);
        processor_blocks.push(block);
    }
    // Each processor runs as a consumer and a producer of the same client id (two clients, two
    // connections, as a Kafka application has): checkers, names and the history see them as any
    // other client, and expectations narrowed by `producer` or `consumer` name the processor.
    for (i, p) in processors.iter().enumerate() {
        producers.push(super::ProducerSpec {
            id: p.id.clone(),
            config: p.producer.clone(),
            workload: super::Workload {
                topic: p.output,
                keys: None,
                records: 0,
                rate: super::Rate {
                    count: 1,
                    per: SimDuration::from_ms(1000),
                },
                value_bytes: 100,
                start: p.start,
                transactions: None,
                tombstone_every: None,
            },
            processor: Some(i),
        });
        // The application commits its offsets itself (in its transaction, or after its output
        // is acknowledged), as Kafka Streams does: auto-commit is off.
        let mut consumer = p.consumer.clone();
        consumer.enable_auto_commit = false;
        consumers.push(super::ConsumerSpec {
            id: p.id.clone(),
            topics: p.topics.clone(),
            config: consumer,
            start: p.start,
            group: Some(p.group.clone()),
            processing: p.processing,
            commit: super::CommitMode::AfterProcessing,
            seek: None,
            processor: Some(i),
        });
    }
    let blocks = Blocks {
        cluster: cluster_block,
        topics: topic_blocks,
        producers: producer_blocks,
        consumers: consumer_blocks,
        processors: processor_blocks,
    };
    let first_group = raw
        .consumers
        .iter()
        .find_map(|c| c.group)
        .or_else(|| raw.processors.iter().find_map(|p| p.group));
    if let Some(group) = first_group {
        topics.push(offsets_topic(src, group, &cluster)?);
    }
    let transactional = producers
        .iter()
        .map(|p| &p.config)
        .zip(&blocks.producers)
        .chain(processors.iter().map(|p| &p.producer).zip(&blocks.processors))
        .find(|(config, _)| config.transactional_id.is_some());
    if let Some((_, block)) = transactional {
        topics.push(transaction_state_topic(&block.view(src), &cluster)?);
    }
    let mut scenario = Scenario {
        file: src.file().to_string(),
        name,
        description,
        seed,
        duration,
        cluster,
        topics,
        producers,
        consumers,
        processors,
        faults: Vec::new(),
        expect: Vec::new(),
        ignored: blocks.ignored(src),
        warnings: Vec::new(),
    };
    for f in &raw.faults {
        let spec = fault(src, f, &scenario)?;
        scenario.faults.push(spec);
    }
    for e in &raw.expect {
        let expectation = super::expect::expectation(src, e, &scenario)?;
        scenario.expect.push(expectation);
    }
    scenario.warnings = super::footguns::config_warnings(src, &scenario, &blocks);
    scenario
        .warnings
        .extend(super::schedule::fault_warnings(src, &scenario, &raw.faults));
    Ok(scenario)
}

fn duration(src: &Source<'_>, raw: Raw<'_>) -> Result<SimDuration, ScenarioError> {
    let text: String = src.parse(raw).map_err(|e| e.with_help(DURATION_HELP))?;
    parse_duration(&text).map_err(|why| {
        src.error_at(raw, format!("invalid duration: {why}"))
            .with_help(DURATION_HELP)
    })
}

fn bandwidth(src: &Source<'_>, raw: Raw<'_>) -> Result<Option<u64>, ScenarioError> {
    let text: String = src.parse(raw).map_err(|e| e.with_help(BANDWIDTH_HELP))?;
    parse_bandwidth(&text).map_err(|why| {
        src.error_at(raw, format!("invalid bandwidth: {why}"))
            .with_help(BANDWIDTH_HELP)
    })
}

fn opt_duration(
    src: &Source<'_>,
    raw: Option<Raw<'_>>,
    default: SimDuration,
) -> Result<SimDuration, ScenarioError> {
    raw.map_or(Ok(default), |r| duration(src, r))
}

fn count<T>(src: &Source<'_>, raw: Raw<'_>, what: &str, min: T, max: T) -> Result<T, ScenarioError>
where
    T: for<'de> serde::Deserialize<'de> + PartialOrd + std::fmt::Display + Copy,
{
    let text = src.text_of(raw);
    let n: T = src.parse(raw).map_err(|e| {
        if is_integer_literal(text) {
            // Too large or negative for the type: say the field's own range, echoing the number.
            let e = src.error_at(raw, format!("{what} must be between {min} and {max}, not {text}"));
            if text.starts_with('-') {
                e.with_help("counts, sizes and ids cannot be negative")
            } else {
                e
            }
        } else {
            e
        }
    })?;
    if n < min || n > max {
        return Err(src.error_at(raw, format!("{what} must be between {min} and {max}, not {n}")));
    }
    Ok(n)
}

/// `12`, `-3`, `1_000`: a whole number as written, of any size.
fn is_integer_literal(text: &str) -> bool {
    let digits = text.strip_prefix('-').unwrap_or(text);
    digits.starts_with(|c: char| c.is_ascii_digit()) && digits.chars().all(|c| c.is_ascii_digit() || c == '_')
}

/// Where a component's config comes from: its `config` map, its `config_file`, and its entry.
struct ConfigSource<'s> {
    config: Option<Raw<'s>>,
    config_file: Option<Raw<'s>>,
    owner: Raw<'s>,
}

/// Loads a component's config block (its properties file, then its `config` map) and validates
/// it with `f`; errors about the block as a whole point at the map, else at the file name, else
/// at `owner`. `who` names the component in notes ("producer `p1`").
fn with_config<'s, T>(
    src: &Source<'s>,
    from: ConfigSource<'s>,
    who: &str,
    f: impl FnOnce(&ConfigBlock<'_, 's>) -> Result<T, ScenarioError>,
) -> Result<(T, LoadedBlock<'s>), ScenarioError> {
    let block = LoadedBlock::load(src, from.config, from.config_file, from.owner, who)?;
    let value = f(&block.view(src))?;
    Ok((value, block))
}

fn cluster<'s>(src: &Source<'s>, raw: &RawScenario<'s>) -> Result<(Cluster, LoadedBlock<'s>), ScenarioError> {
    let c = &raw.cluster;
    let brokers = count(src, c.brokers, "`brokers`", 1, MAX_BROKERS)?;
    let from = ConfigSource {
        config: c.config,
        config_file: c.config_file,
        owner: c.brokers,
    };
    let (config, block) = with_config(src, from, "the cluster", BrokerConfig::from_block)?;
    let network = match &c.network {
        Some(n) => NetworkSpec {
            latency: opt_duration(src, n.latency, SimDuration::from_ms(1))?,
            jitter: opt_duration(src, n.jitter, SimDuration::ZERO)?,
            bandwidth: n
                .bandwidth
                .map_or(Ok(Some(NetworkSpec::DEFAULT_BANDWIDTH)), |r| bandwidth(src, r))?,
        },
        None => NetworkSpec {
            latency: SimDuration::from_ms(1),
            jitter: SimDuration::ZERO,
            bandwidth: Some(NetworkSpec::DEFAULT_BANDWIDTH),
        },
    };
    Ok((
        Cluster {
            brokers,
            config,
            network,
        },
        block,
    ))
}

/// Kafka's `Topic.validate`: 1–249 characters of `[a-zA-Z0-9._-]`, not `.` or `..`.
fn topic_name_problem(name: &str) -> Option<String> {
    if name.is_empty() {
        return Some("a topic name cannot be empty".into());
    }
    if name == OFFSETS_TOPIC || name == TRANSACTION_STATE_TOPIC {
        return Some(format!(
            "`{name}` is one of Kafka's internal topics: pick another name"
        ));
    }
    match legal_name::problem(name)? {
        NameProblem::Dots => Some(format!("topic name cannot be \"{name}\"")),
        NameProblem::TooLong => Some(format!(
            "a topic name can be at most {} characters long",
            legal_name::MAX_LENGTH
        )),
        NameProblem::Illegal(bad) => Some(format!(
            "topic name `{name}` contains `{bad}`; Kafka allows only ASCII letters, digits, '.', '_' and '-'"
        )),
    }
}

fn topic<'s>(
    src: &Source<'s>,
    t: &RawTopic<'s>,
    cluster: &Cluster,
) -> Result<(Topic, LoadedBlock<'s>), ScenarioError> {
    let name: String = src.parse(t.name)?;
    if let Some(problem) = topic_name_problem(&name) {
        return Err(src.error_at(t.name, problem));
    }
    let partitions = count(src, t.partitions, "`partitions`", 1, MAX_PARTITIONS)?;
    let replication_factor = match t.replication_factor {
        Some(r) => count(src, r, "`replication_factor`", 1, cluster.brokers)?,
        None => 1,
    };
    let assignment = match t.assignment {
        Some(raw) => {
            if let Some(rf) = t.replication_factor {
                return Err(src
                    .error_at(rf, "`replication_factor` and `assignment` cannot both be given")
                    .with_help("an explicit assignment sets the replication factor by its list length"));
            }
            Some(explicit_assignment(src, raw, partitions, cluster.brokers)?)
        }
        None => None,
    };
    let rf_written = assignment
        .as_ref()
        .map_or(replication_factor as usize, |a| a[0].len());
    let from = ConfigSource {
        config: t.config,
        config_file: t.config_file,
        owner: t.name,
    };
    let (config, block) = with_config(src, from, &format!("topic `{name}`"), |b| {
        TopicConfig::from_block(b, &cluster.config)
    })?;
    let topic = Topic {
        name,
        partitions,
        replication_factor: rf_written as u32,
        assignment,
        config,
        internal: false,
    };
    Ok((topic, block))
}

/// `__consumer_offsets`, which Kafka creates when the first group needs a coordinator: it needs
/// `offsets.topic.replication.factor` live brokers, else every group stays without a
/// coordinator. The message is Kafka 3.x's (`KafkaApis`/`AutoTopicCreationManager`, which checked
/// the live brokers before creating an internal topic); `group` is where the first group is named.
fn offsets_topic(src: &Source<'_>, group: Raw<'_>, cluster: &Cluster) -> Result<Topic, ScenarioError> {
    let rf = cluster.config.offsets_topic_replication_factor;
    if rf > cluster.brokers {
        let message = format!(
            "Number of alive brokers '{}' does not meet the required replication factor '{rf}' for the offsets topic (configured via 'offsets.topic.replication.factor')",
            cluster.brokers
        );
        return Err(src.error_at(group, message).with_help(format!(
            "a consumer group needs __consumer_offsets: add \"offsets.topic.replication.factor\": {} to cluster.config, or use more brokers",
            cluster.brokers
        )));
    }
    Ok(Topic {
        name: OFFSETS_TOPIC.to_string(),
        partitions: cluster.config.offsets_topic_partitions.min(MAX_PARTITIONS),
        replication_factor: rf,
        assignment: None,
        config: TopicConfig::internal(&cluster.config),
        internal: true,
    })
}

/// `__transaction_state`, which Kafka creates when the first transactional id needs a
/// coordinator, as `__consumer_offsets` above (with Kafka 3.x's message for this topic). `block`
/// is the config of the first client with a `transactional.id`. Its topic configs are
/// `TransactionStateManager.transactionTopicConfigs`: `min.insync.replicas` from
/// `transaction.state.log.min.isr`, no unclean elections.
fn transaction_state_topic(block: &ConfigBlock<'_, '_>, cluster: &Cluster) -> Result<Topic, ScenarioError> {
    let t = &cluster.config.transactions;
    let rf = t.state_log_replication_factor;
    if rf > cluster.brokers {
        let message = format!(
            "Number of alive brokers '{}' does not meet the required replication factor '{rf}' for the transactions state topic (configured via 'transaction.state.log.replication.factor')",
            cluster.brokers
        );
        return Err(block.error_at_key("transactional.id", message).with_help(format!(
            "a transactional.id needs __transaction_state: add \"transaction.state.log.replication.factor\": {} to cluster.config, or use more brokers",
            cluster.brokers
        )));
    }
    Ok(Topic {
        name: TRANSACTION_STATE_TOPIC.to_string(),
        partitions: t.state_log_partitions.min(MAX_PARTITIONS),
        replication_factor: rf,
        assignment: None,
        config: TopicConfig {
            min_insync_replicas: t.state_log_min_isr,
            unclean_leader_election: false,
            ..TopicConfig::internal(&cluster.config)
        },
        internal: true,
    })
}

/// `assignment: [[2], [1]]`: one replica list per partition, as `kafka-topics
/// --replica-assignment` takes it (`AdminUtils` rejects duplicates and uneven lengths).
fn explicit_assignment(
    src: &Source<'_>,
    raw: Raw<'_>,
    partitions: u32,
    brokers: u32,
) -> Result<Vec<Vec<u32>>, ScenarioError> {
    let lists: Vec<Vec<u32>> = src.parse(raw)?;
    if lists.len() != partitions as usize {
        return Err(src.error_at(
            raw,
            format!(
                "`assignment` has {} replica lists but the topic has {partitions} partitions",
                lists.len()
            ),
        ));
    }
    for (p, list) in lists.iter().enumerate() {
        if list.is_empty() {
            return Err(src.error_at(raw, format!("partition {p} has an empty replica list")));
        }
        if list.len() != lists[0].len() {
            return Err(src
                .error_at(
                    raw,
                    format!(
                        "partition {p} has {} replicas but partition 0 has {}",
                        list.len(),
                        lists[0].len()
                    ),
                )
                .with_help("every partition needs the same number of replicas"));
        }
        if let Some(b) = list.iter().find(|b| **b == 0 || **b > brokers) {
            return Err(src.error_at(
                raw,
                format!("partition {p} names broker {b}, but brokers are 1..={brokers}"),
            ));
        }
        let mut sorted = list.clone();
        sorted.sort_unstable();
        sorted.dedup();
        if sorted.len() != list.len() {
            return Err(src.error_at(raw, format!("partition {p} lists a broker twice")));
        }
    }
    Ok(lists)
}

//! References a scenario makes by name or number (topics, producers, consumers, brokers,
//! partitions): each must exist, and a miss says what does.

use crate::scenario::error::{ScenarioError, did_you_mean};
use crate::scenario::source::{Raw, Source};
use crate::scenario::{Scenario, Topic};

/// "did you mean `x`?" when a candidate is close, else the list of what exists.
pub(in crate::scenario) fn suggest<'a>(
    found: &str,
    what: &str,
    candidates: impl IntoIterator<Item = &'a str> + Clone,
) -> String {
    did_you_mean(found, candidates.clone()).unwrap_or_else(|| {
        let list: Vec<String> = candidates
            .into_iter()
            .take(12)
            .map(|c| format!("`{c}`"))
            .collect();
        if list.is_empty() {
            format!("the scenario has no {what}")
        } else {
            format!("known {what}: {}", list.join(", "))
        }
    })
}

pub(super) fn topic_ref(src: &Source<'_>, raw: Raw<'_>, topics: &[Topic]) -> Result<usize, ScenarioError> {
    let name: String = src.parse(raw)?;
    topic_by_name(src, raw, &name, topics)
}

pub(in crate::scenario) fn topic_by_name(
    src: &Source<'_>,
    raw: Raw<'_>,
    name: &str,
    topics: &[Topic],
) -> Result<usize, ScenarioError> {
    topics.iter().position(|t| t.name == name).ok_or_else(|| {
        src.error_within(raw, name, format!("no topic named `{name}`"))
            .with_help(suggest(name, "topics", topics.iter().map(|t| t.name.as_str())))
    })
}

pub(in crate::scenario) fn producer_ref(
    src: &Source<'_>,
    raw: Raw<'_>,
    id: &str,
    s: &Scenario,
) -> Result<usize, ScenarioError> {
    s.producer_index(id).ok_or_else(|| {
        src.error_within(raw, id, format!("no producer with id `{id}`"))
            .with_help(suggest(
                id,
                "producers",
                s.producers.iter().map(|p| p.id.as_str()),
            ))
    })
}

pub(in crate::scenario) fn broker_ref(
    src: &Source<'_>,
    raw: Raw<'_>,
    b: u32,
    s: &Scenario,
) -> Result<(), ScenarioError> {
    if b == 0 || b > s.cluster.brokers {
        Err(src
            .error_within(
                raw,
                &b.to_string(),
                format!("no broker {b}: brokers are 1..={}", s.cluster.brokers),
            )
            .with_help("brokers are numbered from 1, as in Kafka's tools"))
    } else {
        Ok(())
    }
}

pub(in crate::scenario) fn partition_ref(
    src: &Source<'_>,
    raw: Raw<'_>,
    topic: usize,
    partition: u32,
    s: &Scenario,
) -> Result<(), ScenarioError> {
    let t = &s.topics[topic];
    let limit = s.partition_limit(topic);
    if partition >= limit {
        let grown = if limit > t.partitions {
            " (counting the AddPartitions faults before this point)"
        } else {
            ""
        };
        return Err(src
            .error_within(
                raw,
                "partition",
                format!(
                    "topic `{}` has partitions 0..={}{grown}, there is no partition {partition}",
                    t.name,
                    limit - 1
                ),
            )
            .with_help(format!(
                "partitions are numbered from 0: pick one of 0..={}, or add partitions to the topic",
                limit - 1
            )));
    }
    Ok(())
}

/// A consumer named in a fault.
pub(super) fn consumer_ref(
    src: &Source<'_>,
    raw: Raw<'_>,
    id: &str,
    s: &Scenario,
) -> Result<(), ScenarioError> {
    if s.consumer_index(id).is_some() {
        return Ok(());
    }
    let all = s.consumers.iter().map(|c| c.id.as_str());
    Err(src
        .error_within(raw, id, format!("no consumer with id `{id}`"))
        .with_help(suggest(id, "consumers", all)))
}

/// A processor named in a fault.
pub(super) fn processor_ref(
    src: &Source<'_>,
    raw: Raw<'_>,
    id: &str,
    s: &Scenario,
) -> Result<(), ScenarioError> {
    if s.processor_index(id).is_some() {
        return Ok(());
    }
    let all = s.processors.iter().map(|p| p.id.as_str());
    Err(src
        .error_within(raw, id, format!("no processor with id `{id}`"))
        .with_help(suggest(id, "processors", all)))
}

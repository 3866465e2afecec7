//! Validation of `expect` entries: the bound, every name they refer to, and which narrowing
//! fields each kind takes.

use super::Scenario;
use super::error::ScenarioError;
use super::source::{Raw, Source};
use super::tidy::tidy;
use super::units::DURATION_HELP;
use super::units::parse_duration;
use super::validate::{broker_ref, partition_ref, producer_ref, suggest, topic_by_name};
use crate::check::expect::{
    Bound, Check, Expectation, Filter, Measure, RawExpectation, RawParts, RawSelector,
};
use crate::kafka::protocol::ErrorCode;
use crate::kafka::record::Tp;
use crate::sim::SimTime;

/// Every kind an entry may name, for help texts.
fn kinds() -> String {
    let mut names: Vec<&str> = Measure::ALL.iter().map(|m| m.variant()).collect();
    names.extend(["Leader", "Isr", "Assignment"]);
    names.join(", ")
}

pub(super) fn expectation(
    src: &Source<'_>,
    raw: Raw<'_>,
    s: &Scenario,
) -> Result<Expectation, ScenarioError> {
    let parsed: RawExpectation = src.parse(raw).map_err(|e| {
        if e.help.is_some() {
            e
        } else {
            e.with_help(format!(
                "an expectation looks like LostAcked(exactly: 0) or Leader(topic: \"t\", partition: 0, broker: 2); kinds: {}",
                kinds()
            ))
        }
    })?;
    let check = match parsed.into_parts() {
        RawParts::Count(measure, sel) => count(src, raw, s, measure, sel)?,
        RawParts::Leader(l) => {
            let tp = partition(src, raw, s, &l.topic, l.partition)?;
            if let Some(b) = l.broker {
                broker_ref(src, raw, b, s)?;
            }
            Check::Leader {
                tp,
                broker: l.broker,
                at: at(src, raw, s, l.at.as_deref())?,
            }
        }
        RawParts::Isr(i) => {
            let tp = partition(src, raw, s, &i.topic, i.partition)?;
            let mut brokers = i.brokers;
            for b in &brokers {
                broker_ref(src, raw, *b, s)?;
            }
            brokers.sort_unstable();
            if let Some(w) = brokers.windows(2).find(|w| w[0] == w[1]) {
                return Err(src
                    .error_within(raw, "brokers", format!("broker {} is listed twice", w[0]))
                    .with_help("list each ISR member once"));
            }
            if brokers.is_empty() {
                return Err(src
                    .error_within(raw, "brokers", "the ISR is never empty")
                    .with_help(
                        "a KRaft controller keeps the last member in the ISR even when it is fenced",
                    ));
            }
            Check::Isr {
                tp,
                brokers,
                at: at(src, raw, s, i.at.as_deref())?,
            }
        }
        RawParts::Assignment(a) => {
            let Some(ci) = s.consumer_index(&a.consumer) else {
                let all = s.consumers.iter().map(|c| c.id.as_str());
                return Err(src
                    .error_within(raw, &a.consumer, format!("no consumer with id `{}`", a.consumer))
                    .with_help(suggest(&a.consumer, "consumers", all)));
            };
            let c = &s.consumers[ci];
            if c.group.as_deref() != Some(a.group.as_str()) {
                return Err(src
                    .error_within(
                        raw,
                        &a.group,
                        format!("consumer `{}` is not in group `{}`", c.id, a.group),
                    )
                    .with_help(match &c.group {
                        Some(g) => format!("its group is `{g}`"),
                        None => "it has no `group`".to_string(),
                    }));
            }
            let topic = topic_by_name(src, raw, &a.topic, &s.topics)?;
            let mut partitions = a.partitions;
            for p in &partitions {
                partition_ref(src, raw, topic, *p, s)?;
            }
            partitions.sort_unstable();
            partitions.dedup();
            let prefix = c.config.group_instance_id.clone().unwrap_or_else(|| c.id.clone());
            Check::Assignment {
                group: a.group,
                consumer: c.id.clone(),
                member_prefix: format!("{prefix}-"),
                topic: topic as u32,
                partitions,
                at: at(src, raw, s, a.at.as_deref())?,
            }
        }
    };
    Ok(Expectation {
        check,
        text: tidy(src.text_of(raw)),
    })
}

fn partition(
    src: &Source<'_>,
    raw: Raw<'_>,
    s: &Scenario,
    topic: &str,
    partition: u32,
) -> Result<Tp, ScenarioError> {
    let t = topic_by_name(src, raw, topic, &s.topics)?;
    partition_ref(src, raw, t, partition, s)?;
    Ok(Tp {
        topic: t as u32,
        partition,
    })
}

/// `at: "30s"`, which must fall within the run.
fn at(
    src: &Source<'_>,
    raw: Raw<'_>,
    s: &Scenario,
    text: Option<&str>,
) -> Result<Option<SimTime>, ScenarioError> {
    let Some(text) = text else {
        return Ok(None);
    };
    let d = parse_duration(text).map_err(|why| {
        src.error_within(raw, text, format!("invalid duration: {why}"))
            .with_help(DURATION_HELP)
    })?;
    if d > s.duration {
        return Err(src
            .error_within(
                raw,
                text,
                format!("`at: \"{text}\"` is after the run ends ({})", s.duration.human()),
            )
            .with_help("pick a moment within `duration`, or leave `at` out to check the end of the run"));
    }
    Ok(Some(SimTime::ZERO + d))
}

fn count(
    src: &Source<'_>,
    raw: Raw<'_>,
    s: &Scenario,
    measure: Measure,
    sel: RawSelector,
) -> Result<Check, ScenarioError> {
    let bound = bound(src, raw, &sel)?;
    if let Some(t) = &sel.topic {
        let ti = topic_by_name(src, raw, t, &s.topics)?;
        if let Some(p) = sel.partition {
            partition_ref(src, raw, ti, p, s)?;
        }
    } else if sel.partition.is_some() {
        return Err(src
            .error_within(raw, "partition", "`partition` needs a `topic`")
            .with_help("add `topic: \"...\"`"));
    }
    if let Some(p) = &sel.producer {
        producer_ref(src, raw, p, s)?;
    }
    if let Some(c) = &sel.consumer
        && s.consumer_index(c).is_none()
    {
        return Err(src
            .error_within(raw, c, format!("no consumer with id `{c}`"))
            .with_help(suggest(c, "consumers", s.consumers.iter().map(|x| x.id.as_str()))));
    }
    if let Some(k) = &sel.key {
        let keys = || {
            s.producers
                .iter()
                .filter_map(|p| p.workload.keys.as_ref())
                .flatten()
                .map(String::as_str)
        };
        if !keys().any(|x| x == k) {
            return Err(src
                .error_within(raw, k, format!("no producer sends key `{k}`"))
                .with_help(suggest(k, "keys", keys())));
        }
    }
    check_filter_fits(src, raw, measure, &sel)?;
    let error = match &sel.error {
        None => None,
        Some(e) => Some(ErrorCode::from_name(e).ok_or_else(|| {
            let names = ErrorCode::ALL.map(ErrorCode::name);
            src.error_within(raw, e, format!("no error named `{e}`"))
                .with_help(suggest(e, "errors", names))
        })?),
    };
    Ok(Check::Count {
        measure,
        filter: Filter {
            topic: sel.topic,
            partition: sel.partition,
            key: sel.key,
            producer: sel.producer,
            consumer: sel.consumer,
            error,
        },
        bound,
    })
}

fn bound(src: &Source<'_>, raw: Raw<'_>, sel: &RawSelector) -> Result<Bound, ScenarioError> {
    match (sel.exactly, sel.at_least, sel.at_most) {
        (Some(x), None, None) => Ok(Bound::Exactly(x)),
        (None, None, None) => Err(src
            .error_at(raw, "this expectation has no bound")
            .with_help("add `exactly: N`, `at_least: N` or `at_most: N`")),
        (Some(_), _, _) => Err(src.error_within(
            raw,
            "exactly",
            "`exactly` cannot be combined with `at_least` or `at_most`",
        )),
        (None, min, max) => {
            if let (Some(a), Some(b)) = (min, max)
                && a > b
            {
                return Err(src.error_within(
                    raw,
                    "at_least",
                    format!("`at_least: {a}` is more than `at_most: {b}`"),
                ));
            }
            Ok(Bound::Range { min, max })
        }
    }
}

/// Rejects narrowing fields that mean nothing for a measure.
fn check_filter_fits(
    src: &Source<'_>,
    raw: Raw<'_>,
    measure: Measure,
    sel: &RawSelector,
) -> Result<(), ScenarioError> {
    let allowed: &[&str] = match measure {
        Measure::Reordered | Measure::Consumed | Measure::ReadUncommitted | Measure::ReadAborted => {
            &["topic", "partition", "key", "producer", "consumer"]
        }
        Measure::LostAcked
        | Measure::UncommittedAcked
        | Measure::UnavailableAcked
        | Measure::Duplicates
        | Measure::Acked
        | Measure::DivergentReplicas => &["topic", "partition", "key", "producer"],
        Measure::Failed => &["topic", "partition", "key", "producer", "error"],
        Measure::Retries => &["topic", "partition", "producer", "error"],
        Measure::Requests
        | Measure::Committed
        | Measure::Aborted
        | Measure::Fenced
        | Measure::OutputDuplicates
        | Measure::OutputMissing => &["producer"],
        Measure::KeyMoved => &["topic", "key", "producer"],
        Measure::Revoked => &["topic", "partition", "consumer"],
        Measure::Redelivered => &["topic", "partition", "key", "producer", "consumer"],
        Measure::Skipped | Measure::CompactionLost => &["topic", "partition", "key", "producer"],
        Measure::ExpiredUnread | Measure::MissedTombstone => {
            &["topic", "partition", "key", "producer", "consumer"]
        }
        Measure::Deduplicated => &["topic", "partition", "producer"],
    };
    let given = [
        ("topic", sel.topic.is_some()),
        ("partition", sel.partition.is_some()),
        ("key", sel.key.is_some()),
        ("producer", sel.producer.is_some()),
        ("consumer", sel.consumer.is_some()),
        ("error", sel.error.is_some()),
    ];
    for (field, present) in given {
        if present && !allowed.contains(&field) {
            return Err(src
                .error_within(
                    raw,
                    field,
                    format!("`{}` cannot be narrowed by `{field}`", measure.variant()),
                )
                .with_help(format!("`{}` takes {}", measure.variant(), allowed.join(", "))));
        }
    }
    Ok(())
}

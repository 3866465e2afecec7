//! Fault entries: when each fires (`at`, or `after` a trigger) and whether what it names
//! exists and can take it.

use super::refs::{
    broker_ref, consumer_ref, partition_ref, processor_ref, producer_ref, suggest, topic_by_name,
};
use super::{MAX_PARTITIONS, duration};
use crate::scenario::Scenario;
use crate::scenario::error::ScenarioError;
use crate::scenario::fault::{Fault, FaultSpec, NodeRef, RawTrigger, Target, Trigger};
use crate::scenario::raw::RawFault;
use crate::scenario::source::{Raw, Source};
use crate::scenario::tidy::tidy;
use crate::sim::{SimDuration, SimTime};

pub(super) fn fault(src: &Source<'_>, f: &RawFault<'_>, s: &Scenario) -> Result<FaultSpec, ScenarioError> {
    let trigger = match (f.at, f.after) {
        (Some(at), None) => Trigger::At(SimTime::ZERO + duration(src, at)?),
        (None, Some(after)) => trigger(src, after, s)?,
        (Some(at), Some(_)) => {
            return Err(src
                .error_at(at, "a fault has both `at` and `after`")
                .with_help("keep one: `at: \"50ms\"` or `after: Acked(producer: \"p1\", records: 10)`"));
        }
        (None, None) => {
            return Err(src
                .error_at(f.fault, "this fault has no `at` or `after`")
                .with_help("add `at: \"50ms\"` or `after: Sent(producer: \"p1\", records: 10)`"));
        }
    };
    let fault: Fault = src.parse(f.fault)?;
    check_fault(src, f.fault, &fault, s)?;
    Ok(FaultSpec {
        trigger,
        fault,
        text: tidy(src.text_of(f.fault)),
    })
}

fn trigger(src: &Source<'_>, raw: Raw<'_>, s: &Scenario) -> Result<Trigger, ScenarioError> {
    let t: RawTrigger = src.parse(raw)?;
    Ok(match t {
        RawTrigger::Sent { producer, records } => Trigger::Sent {
            producer: producer_ref(src, raw, &producer, s)?,
            records,
        },
        RawTrigger::Acked { producer, records } => Trigger::Acked {
            producer: producer_ref(src, raw, &producer, s)?,
            records,
        },
        RawTrigger::Appended {
            topic,
            partition,
            offset,
        } => {
            let t = topic_by_name(src, raw, &topic, &s.topics)?;
            partition_ref(src, raw, t, partition, s)?;
            Trigger::Appended {
                topic: t,
                partition,
                offset,
            }
        }
    })
}

fn check_fault(src: &Source<'_>, raw: Raw<'_>, fault: &Fault, s: &Scenario) -> Result<(), ScenarioError> {
    let broker = |b: u32| broker_ref(src, raw, b, s);
    let client = |id: &str| -> Result<(), ScenarioError> {
        if s.producer_index(id).is_some() || s.consumer_index(id).is_some() || s.processor_index(id).is_some()
        {
            return Ok(());
        }
        let all = s
            .producers
            .iter()
            .map(|p| p.id.as_str())
            .chain(s.consumers.iter().map(|c| c.id.as_str()))
            .chain(s.processors.iter().map(|p| p.id.as_str()));
        Err(src
            .error_within(
                raw,
                id,
                format!("no producer, consumer or processor with id `{id}`"),
            )
            .with_help(suggest(id, "clients", all)))
    };
    let node = |n: &NodeRef| match n {
        NodeRef::Broker(b) => broker(*b),
        NodeRef::Client(id) => client(id),
        NodeRef::Controller => Ok(()),
    };
    let positive = |n: u32, what: &str| -> Result<(), ScenarioError> {
        if n == 0 {
            Err(src.error_within(raw, "count", format!("`count` of {what} must be at least 1")))
        } else {
            Ok(())
        }
    };
    match fault {
        Fault::Crash { .. } | Fault::Restart { .. } => {
            let Some(target) = fault.target() else {
                let kind = if matches!(fault, Fault::Crash { .. }) {
                    "Crash"
                } else {
                    "Restart"
                };
                return Err(src
                    .error_at(raw, format!("a {} names one broker, consumer, producer or processor", kind.to_lowercase()))
                    .with_help(format!(
                        "write one of {kind}(broker: 1), {kind}(consumer: \"c1\"), {kind}(producer: \"p1\") or {kind}(processor: \"app\")"
                    )));
            };
            match target {
                Target::Broker(b) => return broker(b),
                Target::Consumer(id) => consumer_ref(src, raw, id, s)?,
                Target::Producer(id) => producer_ref(src, raw, id, s).map(|_| ())?,
                Target::Processor(id) => processor_ref(src, raw, id, s)?,
            }
            if matches!(
                fault,
                Fault::Crash {
                    lose_unflushed: true,
                    ..
                }
            ) {
                return Err(src
                    .error_within(raw, "lose_unflushed", "`lose_unflushed` is for brokers")
                    .with_help("a client keeps no data on disk: remove it"));
            }
            Ok(())
        }
        Fault::ConsumerJoin { consumer } | Fault::ConsumerLeave { consumer } => {
            consumer_ref(src, raw, consumer, s)
        }
        Fault::ControlledShutdown { broker: b } => broker(*b),
        Fault::Pause { node: n, duration } => {
            if *duration == SimDuration::ZERO {
                return Err(src.error_within(raw, "for", "a pause must last longer than 0"));
            }
            node(n)
        }
        Fault::Isolate { node: n } => node(n),
        Fault::Partition { groups } => {
            if groups.len() < 2 {
                return Err(src
                    .error_at(raw, "a partition needs at least two groups")
                    .with_help(
                        "e.g. groups: [[Broker(1)], [Broker(2), Client(\"p1\")]]; or use Isolate(node: ...)",
                    ));
            }
            let mut seen: Vec<&NodeRef> = Vec::new();
            for n in groups.iter().flatten() {
                node(n)?;
                if seen.contains(&n) {
                    return Err(src.error_at(raw, format!("{n} is in more than one group")));
                }
                seen.push(n);
            }
            if groups.iter().any(Vec::is_empty) {
                return Err(src.error_at(raw, "a partition group is empty"));
            }
            Ok(())
        }
        Fault::Heal => Ok(()),
        Fault::DropRequests {
            broker: b,
            client: c,
            count,
        }
        | Fault::DropResponses {
            broker: b,
            client: c,
            count,
        } => {
            broker(*b)?;
            client(c)?;
            let what = if matches!(fault, Fault::DropRequests { .. }) {
                "requests"
            } else {
                "responses"
            };
            positive(*count, what)
        }
        Fault::SlowLink { nodes: (a, b), .. } => {
            node(a)?;
            node(b)?;
            if a == b {
                return Err(src.error_at(raw, "a slow link needs two different nodes"));
            }
            Ok(())
        }
        Fault::Reset { broker: b, client: c } => {
            broker(*b)?;
            client(c)
        }
        Fault::DeleteRecords { topic, partition, .. } => {
            let t = topic_by_name(src, raw, topic, &s.topics)?;
            partition_ref(src, raw, t, *partition, s)
        }
        Fault::AddPartitions { topic, count } => {
            let t = topic_by_name(src, raw, topic, &s.topics)?;
            let now = s.partition_limit(t);
            // `ReplicationControlManager.createPartitions`' INVALID_PARTITIONS messages.
            let why = match (*count).cmp(&now) {
                std::cmp::Ordering::Greater if *count <= MAX_PARTITIONS => return Ok(()),
                std::cmp::Ordering::Greater => {
                    format!("a topic can have at most {MAX_PARTITIONS} partitions")
                }
                std::cmp::Ordering::Equal => format!("Topic already has {now} partitions."),
                std::cmp::Ordering::Less => {
                    format!(
                        "Topic currently has {now} partitions, which is higher than the requested {count}."
                    )
                }
            };
            Err(src.error_within(raw, "count", why).with_help(format!(
                "`count` is the new total: more than {now}, e.g. count: {}",
                now * 2
            )))
        }
    }
}

//! The arguments of `kafkasim assign`: `--partitions topic=N,...` and the members
//! `id[@instance]:topic,...`, each mistake reported with a fix.

use crate::commands::CommandError;
use crate::kafka::group::assignor::Member;
use crate::scenario::error::did_you_mean;
use std::collections::BTreeMap;

/// Most partitions `kafkasim assign` takes, over all topics.
const MAX_PARTITIONS: u64 = 10_000;
/// Most members `kafkasim assign` takes.
const MAX_MEMBERS: usize = 1_000;
/// Kafka's `Topic.MAX_NAME_LENGTH`.
const MAX_TOPIC_NAME: usize = 249;

fn error(message: String, help: &str) -> CommandError {
    CommandError(format!("error: {message}\n  = help: {help}\n"))
}

/// `orders=6`, `payments=3`, ... as partition counts by topic.
pub fn partition_counts(entries: &[String]) -> Result<BTreeMap<String, u32>, CommandError> {
    let example = "give each topic its partition count, e.g. --partitions orders=6,payments=3";
    let mut counts = BTreeMap::new();
    for entry in entries {
        let Some((topic, count)) = entry.split_once('=') else {
            return Err(error(
                format!("invalid --partitions `{entry}`: expected TOPIC=COUNT"),
                example,
            ));
        };
        check_topic_name(topic)?;
        let count: u32 = count.trim().parse().map_err(|_| {
            error(
                format!("invalid --partitions `{entry}`: `{count}` is not a partition count"),
                example,
            )
        })?;
        if count == 0 {
            return Err(error(
                format!("invalid --partitions `{entry}`: a topic has at least 1 partition"),
                example,
            ));
        }
        if counts.insert(topic.to_string(), count).is_some() {
            return Err(error(
                format!("topic `{topic}` is given twice in --partitions"),
                "give each topic once",
            ));
        }
    }
    let total: u64 = counts.values().map(|&n| u64::from(n)).sum();
    if total > MAX_PARTITIONS {
        return Err(error(
            format!("{total} partitions given; kafkasim assign takes at most {MAX_PARTITIONS} in all"),
            "assign fewer partitions",
        ));
    }
    Ok(counts)
}

/// Kafka's `Topic.validate`: 1 to 249 ASCII letters, digits, `.`, `_` or `-`, not `.` or `..`.
fn check_topic_name(topic: &str) -> Result<(), CommandError> {
    let legal = |c: char| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-');
    if topic.is_empty()
        || topic.len() > MAX_TOPIC_NAME
        || topic == "."
        || topic == ".."
        || !topic.chars().all(legal)
    {
        return Err(error(
            format!("invalid topic name `{topic}`"),
            "Kafka topic names have 1 to 249 ASCII letters, digits, '.', '_' and '-' (and are not '.' or '..')",
        ));
    }
    Ok(())
}

/// `c1:orders,payments` or `c1@instance-1:orders` as members, in the order given.
pub fn members(specs: &[String], counts: &BTreeMap<String, u32>) -> Result<Vec<Member>, CommandError> {
    if specs.len() > MAX_MEMBERS {
        return Err(error(
            format!(
                "{} members given; kafkasim assign takes at most {MAX_MEMBERS}",
                specs.len()
            ),
            "assign a smaller group",
        ));
    }
    let mut members: Vec<Member> = Vec::new();
    for spec in specs {
        let m = member(spec, counts)?;
        if members.iter().any(|o| o.member_id == m.member_id) {
            return Err(error(
                format!("member `{}` is given twice", m.member_id),
                "member ids are unique in a group",
            ));
        }
        let same_instance = members
            .iter()
            .find(|o| o.group_instance_id.is_some() && o.group_instance_id == m.group_instance_id);
        if let (Some(other), Some(instance)) = (same_instance, &m.group_instance_id) {
            return Err(error(
                format!(
                    "members `{}` and `{}` share group.instance.id `{instance}`",
                    other.member_id, m.member_id
                ),
                "a static member's instance id is unique in a group (Kafka fences the older member)",
            ));
        }
        members.push(m);
    }
    Ok(members)
}

/// One member.
fn member(spec: &str, counts: &BTreeMap<String, u32>) -> Result<Member, CommandError> {
    let malformed = |why: &str| {
        error(
            format!("invalid member `{spec}`: {why}"),
            "write a member as ID:TOPIC[,TOPIC...], e.g. c1:orders,payments (ID@INSTANCE:... for a static member)",
        )
    };
    let (name, topics) = spec
        .split_once(':')
        .ok_or_else(|| malformed("no `:` before its topics"))?;
    let (id, instance) = match name.split_once('@') {
        Some((id, "")) => {
            return Err(malformed(&format!("no group.instance.id after `{id}@`")));
        }
        Some((id, instance)) => (id, Some(instance)),
        None => (name, None),
    };
    if id.is_empty() {
        return Err(malformed("no member id before the `:`"));
    }
    if topics.is_empty() {
        return Err(malformed("it subscribes to no topic"));
    }
    let mut subscribed: Vec<&str> = Vec::new();
    for topic in topics.split(',') {
        if topic.is_empty() {
            return Err(malformed("an empty topic name"));
        }
        if !counts.contains_key(topic) {
            let hint = did_you_mean(topic, counts.keys().map(String::as_str))
                .unwrap_or_else(|| format!("give its partition count, e.g. --partitions {topic}=3"));
            return Err(error(
                format!("member `{id}` subscribes to `{topic}`, which --partitions does not list"),
                &hint,
            ));
        }
        if subscribed.contains(&topic) {
            return Err(error(
                format!("member `{id}` lists topic `{topic}` twice"),
                "list each topic once",
            ));
        }
        subscribed.push(topic);
    }
    let m = Member::new(id, &subscribed);
    Ok(match instance {
        Some(instance) => m.with_instance_id(instance),
        None => m,
    })
}

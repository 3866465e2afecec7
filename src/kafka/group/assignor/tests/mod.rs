//! Tests of the assignors: the vectors of Kafka's own unit tests (one file per assignor), groups
//! run through Kafka's classes (`kafka_runs`), and properties over random groups.

mod kafka_runs;
mod properties;
mod range;
mod round_robin;
mod sticky;
mod strategy;

use super::{Assignment, Member, Strategy, TopicPartition, assign};
use std::collections::BTreeMap;

/// `"topic1-0 topic1-2"` (or comma-separated, as Kafka's tests write them) as partitions: the
/// topic is the text before the last `-`.
pub fn tps(text: &str) -> Vec<TopicPartition> {
    text.split([' ', ','])
        .filter(|w| !w.is_empty())
        .map(|w| {
            let (topic, p) = w.rsplit_once('-').expect("topic-partition");
            TopicPartition::new(topic, p.parse().expect("a partition number"))
        })
        .collect()
}

/// Partition counts by topic.
pub fn counts(spec: &[(&str, u32)]) -> BTreeMap<String, u32> {
    spec.iter().map(|(t, n)| (t.to_string(), *n)).collect()
}

/// A dynamic member subscribed to the comma-separated `topics`.
pub fn member(id: &str, topics: &str) -> Member {
    let topics: Vec<&str> = topics.split(',').filter(|t| !t.is_empty()).collect();
    Member::new(id, &topics)
}

/// The members of the next rebalance: each owns what `assignment` gave it, since `generation`.
pub fn next_round(members: &[Member], assignment: &Assignment, generation: i32) -> Vec<Member> {
    members
        .iter()
        .map(|m| {
            let owned = assignment.partitions(&m.member_id).expect("a member").to_vec();
            m.clone().owning(generation, owned)
        })
        .collect()
}

/// Asserts each member's exact list.
pub fn assert_lists(assignment: &Assignment, expected: &[(&str, &str)]) {
    for (id, list) in expected {
        assert_eq!(
            assignment.partitions(id),
            Some(tps(list).as_slice()),
            "{id} in {assignment:?}"
        );
    }
    assert_eq!(assignment.members.len(), expected.len(), "{assignment:?}");
}

/// Asserts each member's partitions, in any order.
pub fn assert_sets(assignment: &Assignment, expected: &[(&str, &str)]) {
    for (id, list) in expected {
        let mut got = assignment.partitions(id).expect("a member").to_vec();
        let mut want = tps(list);
        got.sort();
        want.sort();
        assert_eq!(got, want, "{id} in {assignment:?}");
    }
    assert_eq!(assignment.members.len(), expected.len(), "{assignment:?}");
}

/// The transferring partitions as `topic-p>member`.
pub fn transfers(assignment: &Assignment) -> Vec<String> {
    assignment
        .transferring
        .iter()
        .map(|t| format!("{}>{}", t.partition, t.to))
        .collect()
}

/// Runs `strategy`.
pub fn run(strategy: Strategy, counts: &BTreeMap<String, u32>, members: &[Member]) -> Assignment {
    assign(strategy, counts, members)
}

//! `range`: for each topic, the subscribed members in member order take consecutive ranges of
//! its partitions; the first `partitions % members` of them take one partition more.
//!
//! Followed: `RangeAssignor.assignPartitions` and `assignRanges` (clients/src/main/java/org/
//! apache/kafka/clients/consumer/RangeAssignor.java), without racks. Topics are visited in the
//! iteration order of Kafka's `partitionsPerTopic` `HashMap`, which decides the order of topics
//! in a member's list.

use super::indexed::{Group, Tp};
use super::java::{JavaHashSet, string_hash};

/// Each member's partitions, by member index.
pub fn assign(group: &Group) -> Vec<Vec<Tp>> {
    let order = group.member_order();
    let mut lists = vec![Vec::new(); group.len()];
    for topic in topic_order(group) {
        let consumers: Vec<usize> = order
            .iter()
            .copied()
            .filter(|&m| group.subscribed[m].contains(&topic))
            .collect();
        if consumers.is_empty() {
            continue;
        }
        let count = group.topics[topic].partitions as usize;
        let (quota, extra) = (count / consumers.len(), count % consumers.len());
        let mut partitions = group.partitions_of(topic);
        for (i, m) in consumers.into_iter().enumerate() {
            let take = quota + usize::from(i < extra);
            lists[m].extend(partitions.by_ref().take(take));
        }
    }
    lists
}

/// How Kafka's `partitionsPerTopic` iterates: `AbstractPartitionAssignor.assign` fills it from a
/// `HashSet` of every subscribed topic (members in `HashMap` order, each member's topics in its
/// order), keeping the topics that have partitions.
fn topic_order(group: &Group) -> Vec<usize> {
    let mut subscribed = JavaHashSet::new();
    for &m in &group.hash_order {
        for topic in &group.subscription[m] {
            subscribed.insert(*topic, string_hash(topic));
        }
    }
    let mut with_partitions = JavaHashSet::new();
    for name in subscribed.iter_order() {
        if let Some(t) = group.topic_index(name) {
            with_partitions.insert(t, group.topics[t].hash);
        }
    }
    with_partitions.iter_order().into_iter().copied().collect()
}

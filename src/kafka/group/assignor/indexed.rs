//! The assignors' common input, indexed: topics sorted the way Java sorts their names, so that a
//! [`Tp`]'s derived order is Kafka's (topic, partition) order, and members by position.

use super::java;
use super::{Assignment, Member, MemberAssignment, TopicPartition, Transfer};
use std::cmp::Ordering;
use std::collections::{BTreeMap, BTreeSet};

/// A partition of the topic with index `topic` in [`Group::topics`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Tp {
    /// Index into [`Group::topics`].
    pub topic: usize,
    /// Partition id.
    pub partition: u32,
}

/// A topic the assignors see: subscribed by someone, with at least one partition.
#[derive(Clone, Debug)]
pub struct Topic {
    /// Name.
    pub name: String,
    /// Partition count.
    pub partitions: u32,
    /// Java `hashCode` of the name.
    pub hash: i32,
}

/// Members and topics of one assignment.
pub struct Group<'a> {
    /// As given (JoinGroup order).
    pub members: &'a [Member],
    /// Kafka's `partitionsPerTopic`, sorted by Java's `String.compareTo`.
    pub topics: Vec<Topic>,
    /// Per member: its subscription without repeats, in the order given.
    pub subscription: Vec<Vec<&'a str>>,
    /// Per member: the indices of its subscribed topics that are in `topics`.
    pub subscribed: Vec<BTreeSet<usize>>,
    /// Members in the iteration order of Kafka's `HashMap<String, Subscription>`.
    pub hash_order: Vec<usize>,
    /// Per member: its rank when member ids are sorted as Java sorts strings.
    pub id_rank: Vec<usize>,
}

impl<'a> Group<'a> {
    /// Indexes `members` and the subscribed topics of `partitions_per_topic`.
    pub fn new(partitions_per_topic: &BTreeMap<String, u32>, members: &'a [Member]) -> Group<'a> {
        let ids: Vec<&str> = members.iter().map(|m| m.member_id.as_str()).collect();
        let mut distinct = ids.clone();
        distinct.sort_unstable();
        distinct.dedup();
        assert_eq!(distinct.len(), ids.len(), "member ids are unique in a group");

        let subscription: Vec<Vec<&str>> = members
            .iter()
            .map(|m| {
                let mut seen: Vec<&str> = Vec::new();
                for t in &m.topics {
                    if !seen.contains(&t.as_str()) {
                        seen.push(t);
                    }
                }
                seen
            })
            .collect();
        let mut names: Vec<&str> = subscription
            .iter()
            .flatten()
            .copied()
            .filter(|t| partitions_per_topic.get(*t).is_some_and(|n| *n > 0))
            .collect();
        names.sort_by(|a, b| java::compare(a, b));
        names.dedup();
        let topics: Vec<Topic> = names
            .iter()
            .map(|name| Topic {
                name: name.to_string(),
                partitions: partitions_per_topic[*name],
                hash: java::string_hash(name),
            })
            .collect();
        let index = |name: &str| topics.binary_search_by(|t| java::compare(&t.name, name)).ok();
        let subscribed = subscription
            .iter()
            .map(|s| s.iter().filter_map(|t| index(t)).collect())
            .collect();

        let mut by_id: Vec<usize> = (0..members.len()).collect();
        by_id.sort_by(|&a, &b| java::compare(ids[a], ids[b]));
        let mut id_rank = vec![0; members.len()];
        for (rank, &m) in by_id.iter().enumerate() {
            id_rank[m] = rank;
        }
        Group {
            members,
            hash_order: java::string_map_order(&ids),
            topics,
            subscription,
            subscribed,
            id_rank,
        }
    }

    /// Number of members.
    pub fn len(&self) -> usize {
        self.members.len()
    }

    /// The index of topic `name`, if the assignors see it.
    pub fn topic_index(&self, name: &str) -> Option<usize> {
        self.topics
            .binary_search_by(|t| java::compare(&t.name, name))
            .ok()
    }

    /// Partitions of topic `topic`, in order.
    pub fn partitions_of(&self, topic: usize) -> impl Iterator<Item = Tp> + use<> {
        (0..self.topics[topic].partitions).map(move |partition| Tp { topic, partition })
    }

    /// Every partition, sorted by topic then partition.
    pub fn all_partitions(&self) -> Vec<Tp> {
        (0..self.topics.len())
            .flat_map(|t| self.partitions_of(t))
            .collect()
    }

    /// Java `hashCode` of a partition.
    pub fn tp_hash(&self, tp: Tp) -> i32 {
        java::topic_partition_hash(self.topics[tp.topic].hash, tp.partition)
    }

    /// `MemberInfo.compareTo` order: static members by instance id, then dynamic ones by member
    /// id. Java sorts the `HashMap` iteration order stably, so ties keep that order.
    pub fn member_order(&self) -> Vec<usize> {
        let mut order = self.hash_order.clone();
        order.sort_by(|&a, &b| {
            let (x, y) = (&self.members[a], &self.members[b]);
            match (&x.group_instance_id, &y.group_instance_id) {
                (Some(i), Some(j)) => java::compare(i, j),
                (Some(_), None) => Ordering::Less,
                (None, Some(_)) => Ordering::Greater,
                (None, None) => java::compare(&x.member_id, &y.member_id),
            }
        });
        order
    }

    /// A member's owned partitions as the sticky engine reads them (`MemberData.partitions`),
    /// without partitions that do not exist or repeat. `regroup` replays `StickyAssignor`'s
    /// user data, which groups the partitions by topic in `HashMap` order
    /// (`serializeTopicPartitionAssignment`).
    pub fn owned(&self, member: usize, regroup: bool) -> Vec<Tp> {
        let owned = &self.members[member].owned_partitions;
        let listed: Vec<&TopicPartition> = if regroup {
            let topics: Vec<&str> = owned.iter().map(|tp| tp.topic.as_str()).collect();
            java::grouping_order(&topics)
                .into_iter()
                .flat_map(|i| owned.iter().filter(move |tp| tp.topic == owned[i].topic))
                .collect()
        } else {
            owned.iter().collect()
        };
        let mut seen = BTreeSet::new();
        listed
            .into_iter()
            .filter_map(|tp| {
                let topic = self.topic_index(&tp.topic)?;
                let tp = Tp {
                    topic,
                    partition: tp.partition,
                };
                (tp.partition < self.topics[topic].partitions && seen.insert(tp)).then_some(tp)
            })
            .collect()
    }

    /// The public form of a partition.
    pub fn public(&self, tp: Tp) -> TopicPartition {
        TopicPartition::new(&self.topics[tp.topic].name, tp.partition)
    }

    /// The public result from per-member lists and the transferring partitions.
    pub fn to_assignment(&self, lists: Vec<Vec<Tp>>, transferring: &BTreeMap<Tp, usize>) -> Assignment {
        Assignment {
            members: self
                .members
                .iter()
                .zip(lists)
                .map(|(m, list)| MemberAssignment {
                    member_id: m.member_id.clone(),
                    partitions: list.into_iter().map(|tp| self.public(tp)).collect(),
                })
                .collect(),
            transferring: transferring
                .iter()
                .map(|(tp, m)| Transfer {
                    partition: self.public(*tp),
                    to: self.members[*m].member_id.clone(),
                })
                .collect(),
        }
    }
}

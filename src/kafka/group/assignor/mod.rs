//! The partition assignors of the classic consumer group protocol (`partition.assignment.strategy`):
//! `range`, `roundrobin`, `sticky` and `cooperative-sticky`, bit-exact with Kafka's client.
//!
//! The group leader runs one of them over every member's subscription and the partition counts
//! of the subscribed topics. This module is pure: no simulation, no randomness, no I/O.
//!
//! Followed: `AbstractPartitionAssignor.assign(Cluster, GroupSubscription)` (clients/src/main/
//! java/org/apache/kafka/clients/consumer/internals/), which keeps only the subscribed topics
//! that have partitions, and the assignor classes named in each submodule. Where Kafka's result
//! depends on the iteration order of a Java `HashMap` (the sticky assignors, and the order of
//! topics in a `range` result), `java.rs` reproduces that order, with the members' insertion
//! order being the order they are given in (the JoinGroup order).
//!
//! Kafka's quirks are kept: a `sticky` or `cooperative-sticky` member that owned a partition in
//! an older generation can get it back although it no longer subscribes to its topic (Kafka's
//! consumer then rejoins the group). Deliberate differences, all for input Kafka never sends or
//! cannot handle:
//! - an owned partition that does not exist (unknown topic, partition id too large) or is listed
//!   twice by one member is ignored;
//! - where Kafka's `GeneralAssignmentBuilder.performReassignments` throws
//!   `NullPointerException` (that older owner sits out the reassignment because it holds all it
//!   can), its claim is ignored;
//! - racks (`client.rack`) are not modelled: every member and partition is rack-less.

mod indexed;
pub(crate) mod java;
mod range;
mod round_robin;
mod sticky;
#[cfg(test)]
mod tests;

use crate::scenario::error::did_you_mean;
use indexed::Group;
use std::collections::BTreeMap;
use std::fmt;
use std::str::FromStr;

/// A partition of a topic (Kafka's `TopicPartition`); prints as `orders-0`.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct TopicPartition {
    /// Topic name.
    pub topic: String,
    /// Partition id.
    pub partition: u32,
}

impl TopicPartition {
    /// Partition `partition` of `topic`.
    pub fn new(topic: &str, partition: u32) -> TopicPartition {
        TopicPartition {
            topic: topic.to_string(),
            partition,
        }
    }
}

impl fmt::Display for TopicPartition {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}-{}", self.topic, self.partition)
    }
}

/// One member as the group leader sees it in the JoinGroup response: its member id and Kafka's
/// `ConsumerPartitionAssignor.Subscription`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Member {
    /// `member.id`, given by the coordinator.
    pub member_id: String,
    /// `group.instance.id` of a static member (KIP-345).
    pub group_instance_id: Option<String>,
    /// Subscribed topics (a set; a repeated topic counts once).
    pub topics: Vec<String>,
    /// Partitions the member owned before this rebalance (sticky assignors only; `sticky` sends
    /// them in its user data, `cooperative-sticky` in the subscription).
    pub owned_partitions: Vec<TopicPartition>,
    /// The generation those partitions were owned in; `None` for a member that never had one.
    pub generation: Option<i32>,
    /// Eager `sticky` only: the generation in the subscription itself (`Subscription.generationId`,
    /// the generation the member last joined), which can differ from the one in its user data
    /// (`generation`): `None` after its generation was reset, older if it missed a generation.
    /// Kafka's `allSubscriptionsEqual` reads this one for the earlier claimant of a partition.
    /// `cooperative-sticky` members send their ownership here, so for them it is `generation`.
    pub subscription_generation: Option<i32>,
}

impl Member {
    /// A dynamic member with no previous assignment.
    pub fn new(member_id: &str, topics: &[&str]) -> Member {
        Member {
            member_id: member_id.to_string(),
            group_instance_id: None,
            topics: topics.iter().map(|t| t.to_string()).collect(),
            owned_partitions: Vec::new(),
            generation: None,
            subscription_generation: None,
        }
    }

    /// The same member, static with `group.instance.id` `instance_id`.
    pub fn with_instance_id(mut self, instance_id: &str) -> Member {
        self.group_instance_id = Some(instance_id.to_string());
        self
    }

    /// The same member, owning `partitions` since generation `generation`.
    pub fn owning(mut self, generation: i32, partitions: Vec<TopicPartition>) -> Member {
        self.generation = Some(generation);
        self.owned_partitions = partitions;
        self
    }

    /// The same member, its subscription carrying generation `generation` (eager `sticky`).
    pub fn joined(mut self, generation: i32) -> Member {
        self.subscription_generation = Some(generation);
        self
    }
}

/// An assignor, by the name Kafka gives it in `partition.assignment.strategy` and JoinGroup.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Strategy {
    /// `RangeAssignor`: per topic, consecutive ranges of partitions.
    Range,
    /// `RoundRobinAssignor`: all partitions dealt round the members in turn.
    RoundRobin,
    /// `StickyAssignor`: balanced, keeping as many previous assignments as possible (eager).
    Sticky,
    /// `CooperativeStickyAssignor`: the sticky assignment, minus the partitions still owned by
    /// another member, which move in a second rebalance (KIP-429).
    CooperativeSticky,
}

impl Strategy {
    /// Every strategy, in Kafka's documentation order.
    pub const ALL: [Strategy; 4] = [
        Strategy::Range,
        Strategy::RoundRobin,
        Strategy::Sticky,
        Strategy::CooperativeSticky,
    ];

    /// Kafka's name for it (`ConsumerPartitionAssignor.name()`).
    pub fn name(self) -> &'static str {
        match self {
            Strategy::Range => "range",
            Strategy::RoundRobin => "roundrobin",
            Strategy::Sticky => "sticky",
            Strategy::CooperativeSticky => "cooperative-sticky",
        }
    }

    /// The class `partition.assignment.strategy` names it by.
    pub fn class_name(self) -> &'static str {
        match self {
            Strategy::Range => "org.apache.kafka.clients.consumer.RangeAssignor",
            Strategy::RoundRobin => "org.apache.kafka.clients.consumer.RoundRobinAssignor",
            Strategy::Sticky => "org.apache.kafka.clients.consumer.StickyAssignor",
            Strategy::CooperativeSticky => "org.apache.kafka.clients.consumer.CooperativeStickyAssignor",
        }
    }
}

impl fmt::Display for Strategy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A strategy name that is not one of Kafka's.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UnknownStrategy {
    /// What was given.
    pub given: String,
}

impl UnknownStrategy {
    /// The closest name ("did you mean `range`?"), or the list of names.
    pub fn help(&self) -> String {
        let names = Strategy::ALL.map(Strategy::name);
        did_you_mean(&self.given, names).unwrap_or_else(|| format!("use one of: {}", names.join(", ")))
    }
}

impl fmt::Display for UnknownStrategy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "unknown assignment strategy `{}`", self.given)
    }
}

impl std::error::Error for UnknownStrategy {}

impl FromStr for Strategy {
    type Err = UnknownStrategy;

    /// Kafka's name (`range`) or class name (`org.apache.kafka.clients.consumer.RangeAssignor`).
    fn from_str(s: &str) -> Result<Strategy, UnknownStrategy> {
        Strategy::ALL
            .into_iter()
            .find(|k| k.name() == s || k.class_name() == s)
            .ok_or_else(|| UnknownStrategy { given: s.to_string() })
    }
}

/// A partition handed to a member while another member still owns it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Transfer {
    /// The partition.
    pub partition: TopicPartition,
    /// The member it goes to.
    pub to: String,
}

/// One member's share of an assignment.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MemberAssignment {
    /// `member.id`.
    pub member_id: String,
    /// Its partitions, in the order Kafka's assignor lists them.
    pub partitions: Vec<TopicPartition>,
}

/// The result of an assignor: every member, maybe with no partitions.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Assignment {
    /// One entry per member, in the order the members were given.
    pub members: Vec<MemberAssignment>,
    /// Sticky assignors only: the partitions that change owner (Kafka's
    /// `partitionsTransferringOwnership`), sorted by topic then partition. `cooperative-sticky`
    /// leaves them out of `members` this round: their owners revoke them and rejoin, and the next
    /// rebalance assigns them.
    pub transferring: Vec<Transfer>,
}

impl Assignment {
    /// The partitions of `member_id`, if it is a member.
    pub fn partitions(&self, member_id: &str) -> Option<&[TopicPartition]> {
        self.members
            .iter()
            .find(|m| m.member_id == member_id)
            .map(|m| m.partitions.as_slice())
    }

    /// The partitions `member` owned and must revoke: owned, and not assigned to it now.
    pub fn revoked(&self, member: &Member) -> Vec<TopicPartition> {
        let now = self.partitions(&member.member_id).unwrap_or_default();
        member
            .owned_partitions
            .iter()
            .filter(|tp| !now.contains(tp))
            .cloned()
            .collect()
    }
}

/// Runs `strategy` over `members` (in JoinGroup order) and the partition counts of the topics.
/// Topics nobody subscribes to, and subscribed topics missing from `partitions_per_topic` or
/// with 0 partitions, are skipped as Kafka skips topics without metadata.
///
/// Panics if two members share a member id: a group cannot hold them.
pub fn assign(
    strategy: Strategy,
    partitions_per_topic: &BTreeMap<String, u32>,
    members: &[Member],
) -> Assignment {
    let group = Group::new(partitions_per_topic, members);
    if members.is_empty() {
        return group.to_assignment(Vec::new(), &BTreeMap::new());
    }
    let (lists, transferring) = match strategy {
        Strategy::Range => (range::assign(&group), BTreeMap::new()),
        Strategy::RoundRobin => (round_robin::assign(&group), BTreeMap::new()),
        Strategy::Sticky => sticky::assign(&group, sticky::Protocol::Eager),
        Strategy::CooperativeSticky => sticky::assign(&group, sticky::Protocol::Cooperative),
    };
    group.to_assignment(lists, &transferring)
}

/// The order `range` and `roundrobin` serve members in (`MemberInfo.compareTo`): static members
/// first, by `group.instance.id`, then dynamic members by member id; as indices into `members`.
pub fn member_order(members: &[Member]) -> Vec<usize> {
    Group::new(&BTreeMap::new(), members).member_order()
}

//! Properties over random groups drawn from a seeded ChaCha8 stream (reproduce a failure with the
//! seed and group number it prints): validity, balance, stickiness, and the cooperative rule
//! that no partition has two owners.

use super::{member, next_round};
use crate::kafka::group::assignor::Strategy::{self, CooperativeSticky, Range, RoundRobin, Sticky};
use crate::kafka::group::assignor::{Assignment, Member, TopicPartition, assign};
use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;
use std::collections::{BTreeMap, BTreeSet};

/// Groups per property.
const GROUPS: u64 = 300;
/// Topic names; "Aa" and "BB" share a Java hash.
const TOPICS: [&str; 6] = ["t0", "t1", "orders", "payments", "Aa", "BB"];
/// Member ids; "AaAa", "BBBB" and "AaBB" share a Java hash, and consumer10 sorts before consumer2.
const IDS: [&str; 10] = [
    "consumer1",
    "consumer2",
    "consumer10",
    "c3",
    "AaAa",
    "BBBB",
    "AaBB",
    "m-7",
    "x",
    "y",
];

/// A random group: its partition counts and its members.
struct Group {
    counts: BTreeMap<String, u32>,
    members: Vec<Member>,
}

impl Group {
    /// Every partition of a topic someone subscribes to.
    fn subscribed_partitions(&self) -> BTreeSet<TopicPartition> {
        let topics: BTreeSet<&String> = self.members.iter().flat_map(|m| &m.topics).collect();
        topics
            .into_iter()
            .flat_map(|t| (0..self.counts[t]).map(|p| TopicPartition::new(t, p)))
            .collect()
    }

    fn member(&self, id: &str) -> &Member {
        self.members.iter().find(|m| m.member_id == id).expect("a member")
    }
}

/// Picks `k` distinct items of `from`, in random order.
fn pick<'a>(rng: &mut ChaCha8Rng, from: &[&'a str], k: usize) -> Vec<&'a str> {
    let mut left = from.to_vec();
    (0..k.min(left.len()))
        .map(|_| left.remove(rng.random_range(0..left.len())))
        .collect()
}

/// A non-empty random subset of `from`, in random order.
fn some<'a>(rng: &mut ChaCha8Rng, from: &[&'a str]) -> Vec<&'a str> {
    let k = rng.random_range(1..=from.len());
    pick(rng, from, k)
}

/// 1-4 topics of 0-12 partitions, 1-8 members with non-empty subscriptions (all the same one
/// time in three), a few static; no previous ownership.
fn fresh_group(rng: &mut ChaCha8Rng) -> Group {
    let topic_count = rng.random_range(1..=4);
    let topics = pick(rng, &TOPICS, topic_count);
    let counts = topics
        .iter()
        .map(|t| (t.to_string(), rng.random_range(0..=12)))
        .collect();
    let same = rng.random_range(0..3) == 0;
    let shared = some(rng, &topics);
    let member_count = rng.random_range(1..=8);
    let members = pick(rng, &IDS, member_count)
        .into_iter()
        .enumerate()
        .map(|(i, id)| {
            let mine = if same { shared.clone() } else { some(rng, &topics) };
            let m = member(id, &mine.join(","));
            if rng.random_range(0..5) == 0 {
                m.with_instance_id(&format!("instance{i}"))
            } else {
                m
            }
        })
        .collect();
    Group { counts, members }
}

/// A fresh group whose members own random partitions (of any topic), from random generations:
/// stale and contested claims included.
fn claimed_group(rng: &mut ChaCha8Rng) -> Group {
    let mut g = fresh_group(rng);
    let all: Vec<TopicPartition> = g
        .counts
        .iter()
        .flat_map(|(t, n)| (0..*n).map(|p| TopicPartition::new(t, p)))
        .collect();
    for m in &mut g.members {
        m.generation = [None, Some(1), Some(2), Some(3)][rng.random_range(0..4)];
        for tp in &all {
            if rng.random_range(0..4) == 0 {
                let at = rng.random_range(0..=m.owned_partitions.len());
                m.owned_partitions.insert(at, tp.clone());
            }
        }
    }
    g
}

/// Runs `check` on `GROUPS` groups from `make`, naming the group that fails.
fn for_groups(seed: u64, make: fn(&mut ChaCha8Rng) -> Group, check: impl Fn(&Group)) {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    for i in 0..GROUPS {
        let g = make(&mut rng);
        let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| check(&g)));
        if let Err(e) = outcome {
            eprintln!("seed {seed}, group {i}: {:?} {:?}", g.counts, g.members);
            std::panic::resume_unwind(e);
        }
    }
}

/// Each assigned partition with its member; fails if a partition is assigned twice.
fn owners(a: &Assignment) -> BTreeMap<TopicPartition, String> {
    let mut owners = BTreeMap::new();
    for m in &a.members {
        for tp in &m.partitions {
            let before = owners.insert(tp.clone(), m.member_id.clone());
            assert!(before.is_none(), "{tp} assigned twice: {a:?}");
        }
    }
    owners
}

/// Member counts differ by at most one.
fn assert_balanced(a: &Assignment) {
    let counts: Vec<usize> = a.members.iter().map(|m| m.partitions.len()).collect();
    let (min, max) = (counts.iter().min(), counts.iter().max());
    assert!(max <= min.map(|m| m + 1).as_ref(), "unbalanced {counts:?}: {a:?}");
}

/// A member may hold a partition of a topic it does not subscribe to only through Kafka's quirk:
/// it claimed that partition in a generation older than the newest.
fn assert_held_by_subscribers(g: &Group, strategy: Strategy, a: &Assignment) {
    let newest = g.members.iter().filter_map(|m| m.generation).max();
    for (tp, id) in owners(a) {
        let m = g.member(&id);
        let stale_claim = matches!(strategy, Sticky | CooperativeSticky)
            && m.owned_partitions.contains(&tp)
            && m.generation.unwrap_or(-1) < newest.unwrap_or(-1);
        assert!(
            m.topics.contains(&tp.topic) || stale_claim,
            "{tp} went to {id}: {a:?}"
        );
    }
}

/// Every subscribed partition is assigned once, to a subscriber; `cooperative-sticky` withholds
/// exactly its transferring partitions.
#[test]
fn every_partition_goes_to_one_subscriber() {
    for_groups(1, fresh_group, |g| {
        for s in Strategy::ALL {
            let a = assign(s, &g.counts, &g.members);
            assert_eq!(a.members.len(), g.members.len());
            let assigned: BTreeSet<TopicPartition> = owners(&a).into_keys().collect();
            assert_eq!(assigned, g.subscribed_partitions(), "{s}: {a:?}");
            assert_held_by_subscribers(g, s, &a);
        }
    });
    for_groups(2, claimed_group, |g| {
        for s in Strategy::ALL {
            let a = assign(s, &g.counts, &g.members);
            let mut assigned: BTreeSet<TopicPartition> = owners(&a).into_keys().collect();
            if s == CooperativeSticky {
                assigned.extend(a.transferring.iter().map(|t| t.partition.clone()));
            }
            assert_eq!(assigned, g.subscribed_partitions(), "{s}: {a:?}");
            assert_held_by_subscribers(g, s, &a);
        }
    });
}

/// With one subscription for all, `roundrobin` and `sticky` balance the members to within one
/// partition; `range` does so per topic (over several topics its first members gain one per
/// topic, as Kafka's own R3 shows).
#[test]
fn identical_subscriptions_are_balanced() {
    let same = |rng: &mut ChaCha8Rng| {
        let mut g = claimed_group(rng);
        let topics = g.members[0].topics.clone();
        for m in &mut g.members {
            m.topics = topics.clone();
        }
        g
    };
    for_groups(3, same, |g| {
        assert_balanced(&assign(RoundRobin, &g.counts, &g.members));
        assert_balanced(&assign(Sticky, &g.counts, &g.members));
        let range = assign(Range, &g.counts, &g.members);
        for topic in &g.members[0].topics {
            let per_member: Vec<usize> = range
                .members
                .iter()
                .map(|m| m.partitions.iter().filter(|tp| tp.topic == *topic).count())
                .collect();
            let (min, max) = (per_member.iter().min(), per_member.iter().max());
            assert!(max <= min.map(|m| m + 1).as_ref(), "{topic}: {range:?}");
        }
    });
}

/// Kafka's balance rule for the sticky assignors (`verifyValidityAndBalance`): when two members'
/// counts differ by more than one, they hold no partition of a common topic.
#[test]
fn sticky_assignments_cannot_be_improved_by_one_move() {
    for_groups(4, fresh_group, |g| {
        let first = assign(Sticky, &g.counts, &g.members);
        let again = assign(Sticky, &g.counts, &next_round(&g.members, &first, 1));
        for a in [&first, &again] {
            for x in &a.members {
                for y in &a.members {
                    if x.partitions.len() > y.partitions.len() + 1 {
                        let shared = x
                            .partitions
                            .iter()
                            .any(|p| y.partitions.iter().any(|q| q.topic == p.topic));
                        assert!(
                            !shared,
                            "{} could give {} a partition: {a:?}",
                            x.member_id, y.member_id
                        );
                    }
                }
            }
        }
    });
}

/// The group before and after a member joins or leaves: everyone subscribes to the same topics,
/// and the survivors own what a sticky assignment gave them.
fn join_or_leave(rng: &mut ChaCha8Rng) -> (Group, Group) {
    let mut before = fresh_group(rng);
    let topics = before.members[0].topics.join(",");
    before.members = before
        .members
        .iter()
        .map(|m| member(&m.member_id, &topics))
        .collect();
    let previous = assign(Sticky, &before.counts, &before.members);
    let mut members = next_round(&before.members, &previous, 1);
    let spare = IDS.iter().find(|id| !members.iter().any(|m| m.member_id == **id));
    match spare {
        Some(id) if members.len() == 1 || rng.random_range(0..2) == 0 => {
            members.push(member(id, &topics).owning(1, Vec::new()));
        }
        _ => {
            members.remove(rng.random_range(0..members.len()));
        }
    }
    let after = Group {
        counts: before.counts.clone(),
        members,
    };
    (before, after)
}

/// Each surviving member keeps as many of its partitions as the new quota lets it:
/// min(what it had, partitions / members).
fn assert_sticky(after: &Group, a: &Assignment) {
    let total = after.subscribed_partitions().len();
    let quota = total / after.members.len();
    for m in &after.members {
        let now = a.partitions(&m.member_id).expect("a member");
        let kept = m.owned_partitions.iter().filter(|tp| now.contains(tp)).count();
        assert!(
            kept >= m.owned_partitions.len().min(quota),
            "{} kept {kept} of {:?}: {a:?}",
            m.member_id,
            m.owned_partitions
        );
    }
}

#[test]
fn a_join_or_a_leave_moves_only_what_balance_needs() {
    let mut rng = ChaCha8Rng::seed_from_u64(5);
    for i in 0..GROUPS {
        let (_, after) = join_or_leave(&mut rng);
        let eager = assign(Sticky, &after.counts, &after.members);
        assert_sticky(&after, &eager);
        assert_balanced(&eager);
        let first = assign(CooperativeSticky, &after.counts, &after.members);
        assert_sticky(&after, &first);
        let second = assign(
            CooperativeSticky,
            &after.counts,
            &next_round(&after.members, &first, 2),
        );
        assert!(second.transferring.is_empty(), "group {i}: {second:?}");
        assert_balanced(&second);
    }
}

/// `cooperative-sticky`'s first round never gives a member a partition another member still
/// owns: whatever a member gets that it did not own, nobody else owned.
#[test]
fn cooperative_first_round_never_shares_a_partition() {
    let check = |g: &Group| {
        let a = assign(CooperativeSticky, &g.counts, &g.members);
        for m in &a.members {
            let owned = &g.member(&m.member_id).owned_partitions;
            for tp in m.partitions.iter().filter(|tp| !owned.contains(tp)) {
                let elsewhere = g.members.iter().find(|o| o.owned_partitions.contains(tp));
                assert!(
                    elsewhere.is_none(),
                    "{tp} given to {} while {elsewhere:?} owns it",
                    m.member_id
                );
            }
        }
    };
    for_groups(6, claimed_group, check);
    let mut rng = ChaCha8Rng::seed_from_u64(7);
    for _ in 0..GROUPS {
        check(&join_or_leave(&mut rng).1);
    }
}

//! The sticky engine shared by `sticky` and `cooperative-sticky`: balance first (member counts
//! differ by at most one, or no move could narrow the gap), then keep as many owned partitions as
//! possible.
//!
//! Followed: `AbstractStickyAssignor.assignPartitions` and `allSubscriptionsEqual` (clients/src/
//! main/java/org/apache/kafka/clients/consumer/internals/AbstractStickyAssignor.java),
//! `StickyAssignor.memberData` and `CooperativeStickyAssignor.assignPartitions`. When every member
//! subscribes to the same topics the [`constrained`] path runs, otherwise the [`general`] one.

mod constrained;
mod general;
mod movements;

use super::indexed::{Group, Tp};
use std::collections::{BTreeMap, BTreeSet};

/// `AbstractStickyAssignor.DEFAULT_GENERATION`: the generation of a member that has none.
const DEFAULT_GENERATION: i32 = -1;

/// Which rebalance protocol the assignor serves.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Protocol {
    /// `StickyAssignor`: members revoke everything before a rebalance.
    Eager,
    /// `CooperativeStickyAssignor`: a partition still owned elsewhere waits for the next round.
    Cooperative,
}

/// Previous ownership after conflicting claims are settled.
pub struct Claims {
    /// True when every member subscribes to the same topics.
    pub all_equal: bool,
    /// Per member: the owned partitions it may keep (`consumerToOwnedPartitions`).
    pub owned: Vec<Vec<Tp>>,
    /// Partitions claimed by two members of one generation (`partitionsWithMultiplePreviousOwners`).
    pub contested: BTreeSet<Tp>,
    /// The highest generation any member reports.
    pub max_generation: i32,
}

/// Each member's partitions and the partitions changing owner (partition -> new owner).
pub fn assign(group: &Group, protocol: Protocol) -> (Vec<Vec<Tp>>, BTreeMap<Tp, usize>) {
    let member_data: Vec<Vec<Tp>> = (0..group.len())
        .map(|m| group.owned(m, protocol == Protocol::Eager))
        .collect();
    let claims = claims(group, &member_data, protocol);
    let (mut lists, transferring) = if claims.all_equal {
        constrained::assign(group, &claims)
    } else {
        let lists = general::assign(group, &claims, &member_data);
        let transferring = moving_from_an_owner(&member_data, &lists);
        (lists, transferring)
    };
    if protocol == Protocol::Cooperative {
        // CooperativeStickyAssignor.adjustAssignment: the new owner waits for the revocation.
        for (tp, m) in &transferring {
            lists[*m].retain(|x| x != tp);
        }
    }
    (lists, transferring)
}

/// `generation` or Kafka's default.
fn generation(group: &Group, member: usize) -> i32 {
    group.members[member].generation.unwrap_or(DEFAULT_GENERATION)
}

/// The generation `allSubscriptionsEqual` reads for an earlier claimant: its subscription's
/// `generationId`, not its `MemberData`'s. For eager `sticky` members these differ: the
/// generation of their ownership is in their user data (`StickyAssignor.memberData`).
fn subscription_generation(group: &Group, member: usize, protocol: Protocol) -> i32 {
    match protocol {
        Protocol::Eager => group.members[member]
            .subscription_generation
            .unwrap_or(DEFAULT_GENERATION),
        Protocol::Cooperative => generation(group, member),
    }
}

/// `allSubscriptionsEqual`: walks the members in `HashMap` order; a partition claimed twice goes
/// to the higher generation, and is taken from both claimants if their generations are equal.
/// The claimant met first is judged by its subscription's generation
/// ([`subscription_generation`]), the later one by its `MemberData`'s, as Kafka does.
fn claims(group: &Group, member_data: &[Vec<Tp>], protocol: Protocol) -> Claims {
    let mut all_equal = true;
    let mut topics: BTreeSet<&str> = BTreeSet::new();
    let mut owner: BTreeMap<Tp, usize> = BTreeMap::new();
    let mut owned = vec![Vec::new(); group.len()];
    let mut contested = BTreeSet::new();
    let mut max_generation = DEFAULT_GENERATION;
    for &m in &group.hash_order {
        let mine: BTreeSet<&str> = group.subscription[m].iter().copied().collect();
        // Kafka starts from the first non-empty subscription it meets.
        if topics.is_empty() {
            topics = mine;
        } else if all_equal && mine != topics {
            all_equal = false;
        }
        let member_gen = generation(group, m);
        max_generation = max_generation.max(member_gen);
        for &tp in &member_data[m] {
            let Some(&other) = owner.get(&tp) else {
                owned[m].push(tp);
                owner.insert(tp, m);
                continue;
            };
            let other_gen = subscription_generation(group, other, protocol);
            if member_gen == other_gen {
                contested.insert(tp);
                owned[other].retain(|x| *x != tp);
                owner.insert(tp, m);
            } else if member_gen > other_gen {
                owned[m].push(tp);
                owned[other].retain(|x| *x != tp);
                owner.insert(tp, m);
            }
        }
    }
    Claims {
        all_equal,
        owned,
        contested,
        max_generation,
    }
}

/// `CooperativeStickyAssignor.computePartitionsTransferringOwnership`: partitions assigned to a
/// member that did not own them while some member that owned them lost them.
fn moving_from_an_owner(owned: &[Vec<Tp>], lists: &[Vec<Tp>]) -> BTreeMap<Tp, usize> {
    let mut added = BTreeMap::new();
    let mut revoked: BTreeSet<Tp> = BTreeSet::new();
    for (m, list) in lists.iter().enumerate() {
        added.extend(list.iter().filter(|tp| !owned[m].contains(tp)).map(|tp| (*tp, m)));
        revoked.extend(owned[m].iter().filter(|tp| !list.contains(tp)));
    }
    added.retain(|tp, _| revoked.contains(tp));
    added
}

//! The sticky engine when every member subscribes to the same topics: each member keeps up to its
//! quota of owned partitions, then the rest are dealt round the members still below quota.
//!
//! Followed: `AbstractStickyAssignor.ConstrainedAssignmentBuilder` (`build`,
//! `assignOwnedPartitions`, `assignRoundRobin`, `assignNewPartition`), without racks.

use super::Claims;
use crate::kafka::group::assignor::indexed::{Group, Tp};
use std::collections::{BTreeMap, BTreeSet, VecDeque};

/// Each member's partitions and the partitions changing owner (partition -> new owner).
pub fn assign(group: &Group, claims: &Claims) -> (Vec<Vec<Tp>>, BTreeMap<Tp, usize>) {
    let members = group.len();
    let total = group.all_partitions().len();
    let mut b = Builder {
        min_quota: total / members,
        max_quota: total.div_ceil(members),
        expected_over_min: total % members,
        current_over_min: 0,
        lists: vec![Vec::new(); members],
        maybe_revoked: BTreeMap::new(),
        under_min: Vec::new(),
        at_min: VecDeque::new(),
        transferring: BTreeMap::new(),
    };
    let kept = b.keep_owned(group, claims);
    let unassigned: Vec<Tp> = group
        .all_partitions()
        .into_iter()
        .filter(|tp| !kept.contains(tp))
        .collect();
    b.under_min.sort_by_key(|&m| group.id_rank[m]);
    b.at_min.make_contiguous().sort_by_key(|&m| group.id_rank[m]);
    b.deal(&unassigned, &claims.contested);
    (b.lists, b.transferring)
}

/// `ConstrainedAssignmentBuilder`'s state.
struct Builder {
    min_quota: usize,
    max_quota: usize,
    /// How many members end with `max_quota` (`expectedNumMembersWithOverMinQuotaPartitions`).
    expected_over_min: usize,
    current_over_min: usize,
    lists: Vec<Vec<Tp>>,
    /// Owned partitions a member had to give up, and that member.
    maybe_revoked: BTreeMap<Tp, usize>,
    /// Members below `min_quota` (`unfilledMembersWithUnderMinQuotaPartitions`).
    under_min: Vec<usize>,
    /// Members at `min_quota` that may still reach `max_quota`.
    at_min: VecDeque<usize>,
    transferring: BTreeMap<Tp, usize>,
}

impl Builder {
    /// `assignOwnedPartitions`, members in `HashMap` order; returns the partitions kept.
    fn keep_owned(&mut self, group: &Group, claims: &Claims) -> BTreeSet<Tp> {
        let mut kept = BTreeSet::new();
        for &m in &group.hash_order {
            let mut owned: Vec<Tp> = claims.owned[m]
                .iter()
                .filter(|tp| !claims.contested.contains(tp))
                .copied()
                .collect();
            owned.sort_by_key(|tp| (tp.partition, tp.topic));
            let keep = if owned.len() < self.min_quota {
                self.under_min.push(m);
                owned.len()
            } else if owned.len() >= self.max_quota && self.current_over_min < self.expected_over_min {
                self.current_over_min += 1;
                if self.current_over_min == self.expected_over_min {
                    self.at_min.clear();
                }
                self.max_quota
            } else {
                if self.current_over_min < self.expected_over_min {
                    self.at_min.push_back(m);
                }
                self.min_quota
            };
            for &tp in &owned[keep..] {
                self.maybe_revoked.insert(tp, m);
            }
            self.lists[m].extend_from_slice(&owned[..keep]);
            kept.extend(&owned[..keep]);
        }
        kept
    }

    /// `assignRoundRobin`: round the under-min members (restarting from the first while any are
    /// left), then the at-min members, first come first served.
    fn deal(&mut self, unassigned: &[Tp], contested: &BTreeSet<Tp>) {
        // Java's iterator over `under_min`: the index of the next member it returns.
        let mut cursor = 0;
        for &tp in unassigned {
            let (m, from_under_min) = if cursor < self.under_min.len() {
                cursor += 1;
                (self.under_min[cursor - 1], true)
            } else if let Some(&first) = self.under_min.first() {
                cursor = 1;
                (first, true)
            } else {
                let m = self
                    .at_min
                    .pop_front()
                    .expect("the quotas leave room for every partition");
                (m, false)
            };
            self.lists[m].push(tp);
            if self.maybe_revoked.get(&tp).is_some_and(|&o| o != m) || contested.contains(&tp) {
                self.transferring.insert(tp, m);
            }
            // Reaching max_quota only matters to Kafka's logging.
            if from_under_min && self.lists[m].len() == self.min_quota {
                cursor -= 1;
                self.under_min.remove(cursor);
                self.at_min.push_back(m);
            }
        }
    }
}

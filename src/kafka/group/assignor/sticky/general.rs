//! The sticky engine when subscriptions differ: keep every owned partition the member still
//! subscribes to, give each remaining partition to the least-loaded subscriber, then move
//! partitions from loaded members to members with two or more fewer until no move helps; undo the
//! moves if they did not improve the balance score.
//!
//! Followed: `AbstractStickyAssignor.GeneralAssignmentBuilder` (`build`,
//! `prepopulateCurrentAssignments`, `assignOwnedPartitions`, `balance`, `performReassignments`,
//! `isBalanced`, `getBalanceScore`, `reassignPartition`, `processPartitionMovement`), without
//! racks.

use super::movements::Movements;
use super::{Claims, generation};
use crate::kafka::group::assignor::indexed::{Group, Tp};
use std::collections::{BTreeMap, BTreeSet};

/// A partition's previous owner from an older generation, and that generation.
type PreviousOwners = BTreeMap<Tp, (usize, i32)>;

/// Each member's partitions, by member index.
pub fn assign(group: &Group, claims: &Claims, member_data: &[Vec<Tp>]) -> Vec<Vec<Tp>> {
    let previous = previous_owners(group, claims.max_generation, member_data);
    let mut b = Builder::new(group, claims);
    let kept = b.keep_subscribed();
    let unassigned: Vec<Tp> = b
        .sorted_partitions
        .iter()
        .filter(|tp| !kept.contains(tp))
        .copied()
        .collect();
    b.balance(&previous, unassigned);
    b.lists
}

/// `prepopulateCurrentAssignments`: for each partition, the member of the highest generation
/// below the newest that owned it (the first one met, in `HashMap` order, on a tie).
fn previous_owners(group: &Group, max_generation: i32, member_data: &[Vec<Tp>]) -> PreviousOwners {
    let mut previous = PreviousOwners::new();
    for &m in &group.hash_order {
        let member_gen = generation(group, m);
        if member_gen >= max_generation {
            continue;
        }
        for &tp in &member_data[m] {
            match previous.get(&tp) {
                Some(&(_, older)) if member_gen <= older => {}
                _ => {
                    previous.insert(tp, (m, member_gen));
                }
            }
        }
    }
    previous
}

/// `GeneralAssignmentBuilder`'s state.
struct Builder<'g, 'a> {
    group: &'g Group<'a>,
    /// Per topic: its subscribers (`topic2AllPotentialConsumers`).
    subscribers: Vec<Vec<usize>>,
    /// Per member: how many partitions its topics have in all.
    max_sizes: Vec<usize>,
    /// Per member: its partitions (`currentAssignment`).
    lists: Vec<Vec<Tp>>,
    /// Per partition: its member (`currentPartitionConsumer`).
    owner: BTreeMap<Tp, usize>,
    /// Per topic: the members holding its partitions, and how many each.
    holders: Vec<BTreeMap<usize, usize>>,
    /// Partitions, topics with fewer subscribers first (`sortedAllPartitions`).
    sorted_partitions: Vec<Tp>,
    /// (partition count, id rank) of every member taking part (`sortedCurrentSubscriptions`).
    by_load: BTreeSet<(usize, usize)>,
    /// Member by id rank.
    by_rank: Vec<usize>,
    movements: Movements,
    revocation_required: bool,
}

impl<'g, 'a> Builder<'g, 'a> {
    fn new(group: &'g Group<'a>, claims: &Claims) -> Builder<'g, 'a> {
        let subscribers: Vec<Vec<usize>> = (0..group.topics.len())
            .map(|t| {
                (0..group.len())
                    .filter(|&m| group.subscribed[m].contains(&t))
                    .collect()
            })
            .collect();
        let max_sizes = group
            .subscribed
            .iter()
            .map(|topics| topics.iter().map(|&t| group.topics[t].partitions as usize).sum())
            .collect();
        let lists = claims.owned.clone();
        let owner = lists
            .iter()
            .enumerate()
            .flat_map(|(m, list)| list.iter().map(move |tp| (*tp, m)))
            .collect();
        let mut topic_order: Vec<usize> = (0..group.topics.len()).collect();
        topic_order.sort_by_key(|&t| (subscribers[t].len(), t));
        let sorted_partitions = topic_order
            .into_iter()
            .flat_map(|t| group.partitions_of(t))
            .collect();
        let mut by_rank = vec![0; group.len()];
        for m in 0..group.len() {
            by_rank[group.id_rank[m]] = m;
        }
        Builder {
            group,
            subscribers,
            max_sizes,
            lists,
            owner,
            holders: vec![BTreeMap::new(); group.topics.len()],
            sorted_partitions,
            by_load: BTreeSet::new(),
            by_rank,
            movements: Movements::default(),
            revocation_required: false,
        }
    }

    /// `assignOwnedPartitions`: drops owned partitions of topics the member left; returns the
    /// partitions kept.
    fn keep_subscribed(&mut self) -> BTreeSet<Tp> {
        let mut kept = BTreeSet::new();
        for (m, list) in self.lists.iter_mut().enumerate() {
            let subscribed = &self.group.subscribed[m];
            let before = list.len();
            list.retain(|tp| subscribed.contains(&tp.topic));
            self.revocation_required |= list.len() != before;
            kept.extend(list.iter().copied());
        }
        kept
    }

    fn load(&self, m: usize) -> (usize, usize) {
        (self.lists[m].len(), self.group.id_rank[m])
    }

    /// `balance`.
    fn balance(&mut self, previous: &PreviousOwners, mut unassigned: Vec<Tp>) {
        self.by_load = (0..self.group.len()).map(|m| self.load(m)).collect();
        for (m, list) in self.lists.iter().enumerate() {
            for tp in list {
                *self.holders[tp.topic].entry(m).or_default() += 1;
            }
        }
        let initializing = self.by_load.last().is_none_or(|&(count, _)| count == 0);
        for &tp in &unassigned {
            self.assign_to_least_loaded(tp);
        }
        // Partitions of a topic with one subscriber, and members that already hold all they can
        // and nothing anyone else could take, sit out the reassignment.
        let movable = |tp: &Tp| self.subscribers[tp.topic].len() >= 2;
        let mut sorted_partitions = self.sorted_partitions.clone();
        sorted_partitions.retain(movable);
        unassigned.retain(movable);
        for m in 0..self.group.len() {
            if !self.can_take_part(m) {
                let load = self.load(m);
                self.by_load.remove(&load);
            }
        }
        let taking_part: Vec<usize> = self.by_load.iter().map(|&(_, r)| self.by_rank[r]).collect();
        let before = (self.lists.clone(), self.owner.clone());
        if !self.revocation_required {
            self.reassign_all(&unassigned, previous);
        }
        let moved = self.reassign_all(&sorted_partitions, previous);
        if !initializing
            && moved
            && self.score(&taking_part, &self.lists) >= self.score(&taking_part, &before.0)
        {
            (self.lists, self.owner) = before;
        }
    }

    /// `canConsumerParticipateInReassignment`.
    fn can_take_part(&self, m: usize) -> bool {
        self.lists[m].len() < self.max_sizes[m]
            || self.lists[m]
                .iter()
                .any(|tp| self.subscribers[tp.topic].len() >= 2)
    }

    /// `getBalanceScore`: the sum of the count differences over all pairs of members.
    fn score(&self, members: &[usize], lists: &[Vec<Tp>]) -> usize {
        let counts: Vec<usize> = members.iter().map(|&m| lists[m].len()).collect();
        counts
            .iter()
            .enumerate()
            .flat_map(|(i, a)| counts[i + 1..].iter().map(move |b| a.abs_diff(*b)))
            .sum()
    }

    /// `performReassignments`: passes over `partitions` until one changes nothing; true if any
    /// partition moved.
    fn reassign_all(&mut self, partitions: &[Tp], previous: &PreviousOwners) -> bool {
        let mut moved_any = false;
        loop {
            let mut moved = false;
            for &tp in partitions {
                if self.is_balanced() {
                    break;
                }
                let current = self.owner[&tp];
                let count = self.lists[current].len();
                // Back to its previous owner if that one is two or more behind, even if it no
                // longer subscribes to the topic (Kafka does that too). An owner sitting out the
                // reassignment would make Kafka throw NullPointerException: skipped here.
                if let Some(&(prev, _)) = previous.get(&tp) {
                    let prev_load = self.load(prev);
                    if self.by_load.contains(&prev_load) && count > prev_load.0 + 1 {
                        self.reassign(tp, prev);
                        moved = true;
                        continue;
                    }
                }
                if self.subscribers[tp.topic]
                    .iter()
                    .any(|&o| count > self.lists[o].len() + 1)
                {
                    let to = self.least_loaded_subscriber(tp.topic);
                    self.reassign(tp, to);
                    moved = true;
                }
            }
            moved_any |= moved;
            if !moved {
                return moved_any;
            }
        }
    }

    /// `isBalanced`: counts differ by at most one, or no member could take a partition of its
    /// topics from a member with two or more partitions more. Kafka checks every partition of
    /// the member's topics; comparing with the two most loaded holders of each topic gives the
    /// same answer.
    fn is_balanced(&self) -> bool {
        let (Some(&(min, _)), Some(&(max, _))) = (self.by_load.first(), self.by_load.last()) else {
            return true;
        };
        if min + 1 >= max {
            return true;
        }
        let top_two: Vec<[(usize, usize); 2]> = self
            .holders
            .iter()
            .map(|holders| {
                let mut top = [(0, usize::MAX); 2];
                for &o in holders.keys() {
                    let held = (self.lists[o].len(), o);
                    if held > top[0] {
                        top = [held, top[0]];
                    } else if held > top[1] {
                        top[1] = held;
                    }
                }
                top
            })
            .collect();
        self.by_load.iter().all(|&(count, rank)| {
            let m = self.by_rank[rank];
            count == self.max_sizes[m]
                || self.group.subscribed[m].iter().all(|&t| {
                    let [first, second] = top_two[t];
                    let most_other = if first.1 == m { second.0 } else { first.0 };
                    count + 1 >= most_other
                })
        })
    }

    /// The first member by (count, member id) subscribed to `topic`.
    fn least_loaded_subscriber(&self, topic: usize) -> usize {
        self.by_load
            .iter()
            .map(|&(_, rank)| self.by_rank[rank])
            .find(|&m| self.group.subscribed[m].contains(&topic))
            .expect("a movable partition has subscribers taking part")
    }

    /// `maybeAssignPartition`: an unassigned partition goes to the least-loaded subscriber.
    fn assign_to_least_loaded(&mut self, tp: Tp) {
        if self.subscribers[tp.topic].is_empty() {
            return;
        }
        let m = self.least_loaded_subscriber(tp.topic);
        self.by_load.remove(&self.load(m));
        self.give(tp, m);
        self.by_load.insert(self.load(m));
    }

    /// `reassignPartition` and `processPartitionMovement`: moves `tp`, or a partition of its
    /// topic that earlier moved the opposite way, to `to`.
    fn reassign(&mut self, tp: Tp, to: usize) {
        let from = self.owner[&tp];
        let tp = self.movements.partition_to_move(tp, from, to);
        let from = self.owner[&tp];
        self.by_load.remove(&self.load(from));
        self.by_load.remove(&self.load(to));
        self.movements.record(tp, self.group.tp_hash(tp), from, to);
        self.lists[from].retain(|x| *x != tp);
        if let Some(held) = self.holders[tp.topic].get_mut(&from) {
            *held -= 1;
            if *held == 0 {
                self.holders[tp.topic].remove(&from);
            }
        }
        self.give(tp, to);
        self.by_load.insert(self.load(to));
        self.by_load.insert(self.load(from));
    }

    /// Appends `tp` to `to`'s partitions.
    fn give(&mut self, tp: Tp, to: usize) {
        self.lists[to].push(tp);
        self.owner.insert(tp, to);
        *self.holders[tp.topic].entry(to).or_default() += 1;
    }
}

//! Which partitions moved between which members during one general sticky assignment, so that a
//! later move in the opposite direction hands back a partition that already moved instead of
//! moving a second one.
//!
//! Followed: `AbstractStickyAssignor.PartitionMovements` (`movePartition`,
//! `getTheActualPartitionToBeMoved`). Kafka keeps the moved partitions of one pair of members in
//! a `HashSet` and takes the first its iterator returns, so [`JavaHashSet`] keeps that order.

use crate::kafka::group::assignor::indexed::Tp;
use crate::kafka::group::assignor::java::JavaHashSet;
use std::collections::BTreeMap;

/// A move from the first member to the second (Kafka's `ConsumerPair`).
type Pair = (usize, usize);

/// The movements so far.
#[derive(Default)]
pub struct Movements {
    /// Per moved partition: the member it started on and the one it is on now.
    by_partition: BTreeMap<Tp, Pair>,
    /// Per topic and pair: the partitions that made that move.
    by_topic: BTreeMap<usize, BTreeMap<Pair, JavaHashSet<Tp>>>,
}

impl Movements {
    /// `movePartition`: `tp` (Java hash `hash`) moves from `old` to `new`.
    pub fn record(&mut self, tp: Tp, hash: i32, old: usize, new: usize) {
        let Some(&(start, now)) = self.by_partition.get(&tp) else {
            self.add(tp, hash, (old, new));
            return;
        };
        debug_assert_eq!(now, old, "a moved partition moves on from where it went");
        self.remove(tp, (start, now));
        if start != new {
            self.add(tp, hash, (start, new));
        }
    }

    /// `getTheActualPartitionToBeMoved`: to move `tp` from `old` to `new`, move back a partition
    /// of the same topic that went the other way, if there is one.
    pub fn partition_to_move(&self, tp: Tp, old: usize, new: usize) -> Tp {
        let Some(moves) = self.by_topic.get(&tp.topic) else {
            return tp;
        };
        let old = self.by_partition.get(&tp).map_or(old, |&(start, _)| start);
        moves
            .get(&(new, old))
            .and_then(|set| set.first())
            .copied()
            .unwrap_or(tp)
    }

    fn add(&mut self, tp: Tp, hash: i32, pair: Pair) {
        self.by_partition.insert(tp, pair);
        self.by_topic
            .entry(tp.topic)
            .or_default()
            .entry(pair)
            .or_default()
            .insert(tp, hash);
    }

    fn remove(&mut self, tp: Tp, pair: Pair) {
        self.by_partition.remove(&tp);
        let Some(moves) = self.by_topic.get_mut(&tp.topic) else {
            return;
        };
        if let Some(set) = moves.get_mut(&pair) {
            set.remove(&tp);
            if set.is_empty() {
                moves.remove(&pair);
            }
        }
        if moves.is_empty() {
            self.by_topic.remove(&tp.topic);
        }
    }
}

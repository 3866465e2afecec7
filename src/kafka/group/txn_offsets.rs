//! Offsets committed inside transactions (`TxnOffsetCommit`), pending until their transaction's
//! marker reaches the group's `__consumer_offsets` partition: a COMMIT makes them the group's
//! committed offsets, an ABORT drops them. While some are pending for a partition, `OffsetFetch`
//! answers `UNSTABLE_OFFSET_COMMIT` (the consumer always asks with `requireStable`).
//!
//! Followed: `OffsetMetadataManager` (`pendingTransactionalOffsets`, `openTransactions`,
//! `replayEndTransactionMarker`) in group-coordinator (Kafka 4.0).

use crate::kafka::record::Tp;
use std::collections::BTreeMap;
use std::sync::Arc;

/// One pending commit: the group, the member that made it, the offsets.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PendingCommit {
    /// The group.
    pub group: Arc<str>,
    /// The member (the processor's consumer).
    pub member: Arc<str>,
    /// (partition, offset).
    pub offsets: Vec<(Tp, u64)>,
}

/// Pending transactional offsets of one broker's groups, by producer id.
#[derive(Clone, Debug, Default)]
pub struct TxnOffsets {
    pending: BTreeMap<u64, Vec<PendingCommit>>,
}

impl TxnOffsets {
    /// A `TxnOffsetCommit` of producer `producer_id` was written.
    pub fn add(&mut self, producer_id: u64, commit: PendingCommit) {
        self.pending.entry(producer_id).or_default().push(commit);
    }

    /// The marker of `producer_id`'s transaction: what it committed (nothing for an abort).
    pub fn complete(&mut self, producer_id: u64, commit: bool) -> Vec<PendingCommit> {
        let done = self.pending.remove(&producer_id).unwrap_or_default();
        if commit { done } else { Vec::new() }
    }

    /// True if `group` has offsets pending for `tp`.
    pub fn is_pending(&self, group: &str, tp: Tp) -> bool {
        self.pending
            .values()
            .flatten()
            .any(|c| &*c.group == group && c.offsets.iter().any(|(t, _)| *t == tp))
    }

    /// Takes over what another store holds (loaded from a log).
    pub fn absorb(&mut self, other: TxnOffsets) {
        for (pid, commits) in other.pending {
            self.pending.entry(pid).or_default().extend(commits);
        }
    }

    /// Forgets the groups `keep` rejects (their coordinator moved), or everything.
    pub fn retain(&mut self, keep: impl Fn(&str) -> bool) {
        for commits in self.pending.values_mut() {
            commits.retain(|c| keep(&c.group));
        }
        self.pending.retain(|_, v| !v.is_empty());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn commit(group: &str, partition: u32, offset: u64) -> PendingCommit {
        PendingCommit {
            group: Arc::from(group),
            member: Arc::from("m"),
            offsets: vec![(Tp { topic: 0, partition }, offset)],
        }
    }

    #[test]
    fn a_commit_marker_releases_the_offsets_and_an_abort_drops_them() {
        let mut t = TxnOffsets::default();
        t.add(7, commit("g", 0, 10));
        t.add(8, commit("g", 1, 5));
        assert!(t.is_pending(
            "g",
            Tp {
                topic: 0,
                partition: 0
            }
        ));
        assert!(!t.is_pending(
            "h",
            Tp {
                topic: 0,
                partition: 0
            }
        ));
        assert_eq!(t.complete(7, true), [commit("g", 0, 10)]);
        assert!(!t.is_pending(
            "g",
            Tp {
                topic: 0,
                partition: 0
            }
        ));
        assert!(t.complete(8, false).is_empty());
        assert!(!t.is_pending(
            "g",
            Tp {
                topic: 0,
                partition: 1
            }
        ));
    }
}

//! Whose log each partition has at the end of a run: its running leader's or, when no running
//! broker leads it, the logs of the replicas the controller may elect next, as they are on disk.

use super::RunResult;
use crate::kafka::controller::successors;
use crate::kafka::log::PartitionLog;
use crate::kafka::protocol::{BrokerId, PartitionState};
use crate::kafka::record::Tp;
use crate::sim::SimTime;

/// Whose log a partition has at the end of a run.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Holder {
    /// A running broker leads it.
    Leader(BrokerId),
    /// No running broker leads it: readers and writers wait until the controller elects one.
    Offline {
        /// The replicas that election may pick, in assignment order
        /// ([`successors`]); each leads with its log as it is on disk now.
        candidates: Vec<BrokerId>,
        /// The leader in the controller's metadata, when it is a broker that no longer runs
        /// (the controller has not fenced it yet).
        stopped_leader: Option<BrokerId>,
        /// When the controller last set its leader to none (`None`: it still names
        /// `stopped_leader`).
        since: Option<SimTime>,
    },
}

impl Holder {
    /// `state`'s holder, given which brokers run and whether unclean election is on for it.
    pub(super) fn of(
        state: &PartitionState,
        running: impl Fn(BrokerId) -> bool,
        unclean: bool,
        leaderless_since: Option<SimTime>,
    ) -> Holder {
        match state.leader {
            Some(b) if running(b) => Holder::Leader(b),
            leader => Holder::Offline {
                candidates: successors(state, running, unclean),
                stopped_leader: leader,
                since: leader.is_none().then_some(leaderless_since).flatten(),
            },
        }
    }

    /// The broker whose log stands for the partition's: the leader, or the first candidate.
    pub fn first(&self) -> Option<BrokerId> {
        match self {
            Holder::Leader(b) => Some(*b),
            Holder::Offline { candidates, .. } => candidates.first().copied(),
        }
    }
}

impl RunResult {
    /// The logs partition `tp` has at the end: its leader's, or each candidate's (see
    /// [`Holder`]), with the broker that holds it.
    pub fn held_logs(&self, tp: Tp) -> Vec<(BrokerId, &PartitionLog)> {
        let brokers = match self.holders.get(&tp) {
            Some(Holder::Leader(b)) => std::slice::from_ref(b),
            Some(Holder::Offline { candidates, .. }) => candidates.as_slice(),
            None => &[],
        };
        brokers
            .iter()
            .filter_map(|b| Some((*b, self.replica_logs.get(&(tp, *b))?)))
            .collect()
    }
}

//! One hosted replica: its log, and its role for the current leader epoch.

use super::producers::ProducerStates;
use crate::kafka::log::{LogConfig, PartitionLog};
use crate::kafka::protocol::BrokerId;
use crate::sim::SimTime;
use std::collections::BTreeMap;

/// What the leader knows of one follower (`Replica.scala` `ReplicaState`).
#[derive(Clone, Copy, Debug)]
pub struct FollowerState {
    /// The follower's log end offset (its last fetch offset); `None` until its first fetch.
    pub log_end: Option<u64>,
    /// Last time it was caught up (§2.3 of the reference).
    pub last_caught_up: SimTime,
    /// The leader's log end offset at the follower's previous fetch.
    pub last_fetch_leader_log_end: u64,
    /// When the follower last fetched.
    pub last_fetch_time: SimTime,
}

/// A leader's view of its partition.
#[derive(Clone, Debug)]
pub struct LeaderState {
    /// Assigned replicas, preferred first.
    pub replicas: Vec<BrokerId>,
    /// The ISR the controller committed.
    pub isr: Vec<BrokerId>,
    /// An ISR change sent to the controller and not answered yet.
    pub pending_isr: Option<Vec<BrokerId>>,
    /// The partition epoch of the committed state.
    pub partition_epoch: u32,
    /// Followers' progress.
    pub followers: BTreeMap<BrokerId, FollowerState>,
}

impl LeaderState {
    /// The ISR plus a replica being added (an in-flight shrink keeps the old, larger ISR):
    /// what the HW must wait for (`PartitionState.maximalIsr`).
    pub fn maximal_isr(&self) -> Vec<BrokerId> {
        let mut isr = self.isr.clone();
        if let Some(pending) = &self.pending_isr {
            for b in pending {
                if !isr.contains(b) {
                    isr.push(*b);
                }
            }
        }
        isr
    }
}

/// The role of a replica on this broker.
#[derive(Clone, Debug)]
pub enum Role {
    /// This broker leads the partition.
    Leader(LeaderState),
    /// This broker follows `leader` (`None`: the partition has no leader).
    Follower {
        /// The leader to fetch from.
        leader: Option<BrokerId>,
    },
}

/// A replica hosted by a broker.
#[derive(Clone, Debug)]
pub struct Replica {
    /// The log (survives a process crash; a power loss keeps what was flushed).
    pub log: PartitionLog,
    /// Leader or follower.
    pub role: Role,
    /// The leader epoch this replica acts under.
    pub leader_epoch: u32,
    /// Messages appended since the last flush.
    pub unflushed_messages: u64,
    /// When the log was last flushed.
    pub last_flush: SimTime,
    /// Idempotent producers' state, kept while leading (rebuilt from the log on becoming leader).
    pub producers: ProducerStates,
}

impl Replica {
    /// A new, empty replica with its topic's storage settings, that follows nobody yet.
    pub fn new(log: LogConfig) -> Replica {
        Replica {
            log: PartitionLog::new(log),
            role: Role::Follower { leader: None },
            leader_epoch: 0,
            unflushed_messages: 0,
            last_flush: SimTime::ZERO,
            producers: ProducerStates::default(),
        }
    }
}

impl Replica {
    /// The leader state, if this broker leads the partition.
    pub fn leading(&self) -> Option<&LeaderState> {
        match &self.role {
            Role::Leader(l) => Some(l),
            Role::Follower { .. } => None,
        }
    }

    /// The leader this replica fetches from: its leader when it follows another broker.
    pub fn followed(&self) -> Option<BrokerId> {
        match self.role {
            Role::Follower { leader } => leader,
            Role::Leader(_) => None,
        }
    }

    /// The leader state, mutable.
    pub fn leading_mut(&mut self) -> Option<&mut LeaderState> {
        match &mut self.role {
            Role::Leader(l) => Some(l),
            Role::Follower { .. } => None,
        }
    }
}

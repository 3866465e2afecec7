//! Model invariants, checked throughout a run: after every event a broker or the controller
//! handles, the simulation shows it to an [`Invariants`] observer (when
//! [`RunOptions::invariants`](crate::simulation::RunOptions::invariants) is on), which compares
//! the node's state with what it saw before and records each [`Violation`].
//!
//! One implementation for every caller: the property tests and the exploration command read
//! [`RunResult::violations`](crate::simulation::RunResult::violations).
//!
//! Each invariant names the Kafka 4.0 source that makes it hold in Kafka. Where Kafka itself
//! allows an exception, the exception is an [`Allowance`] with its own source, not a silent skip.

use crate::kafka::broker::Broker;
use crate::kafka::controller::Controller;
use crate::kafka::protocol::{BrokerId, ClusterMetadata};
use crate::kafka::record::Tp;
use crate::scenario::config::{BrokerConfig, TruncationRule};
use crate::sim::SimTime;
use crate::trace::Names;
use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::sync::Arc;

/// A broken model invariant: when, where, and what was expected.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Violation {
    /// When the state was observed.
    pub time: SimTime,
    /// The partition, when the invariant is about one.
    pub tp: Option<Tp>,
    /// The broker whose state (or whose role in the controller's view) breaks it.
    pub broker: Option<BrokerId>,
    /// Which invariant, with the values that break it.
    pub kind: ViolationKind,
}

/// The invariants, each with the values that broke it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ViolationKind {
    /// Two brokers led the same partition in the same leader epoch (`PartitionChangeBuilder`
    /// bumps the epoch on every leader change; a broker leads only the epoch the controller
    /// gave it, `Partition.makeLeader`).
    TwoLeadersInEpoch {
        /// The leader epoch.
        leader_epoch: u32,
        /// The broker that led it first.
        first: BrokerId,
    },
    /// A partition's leader epoch went down (controller) or a replica's did (broker): epochs
    /// only grow (`PartitionChangeBuilder`, `Partition.makeLeader`/`makeFollower` ignore older
    /// epochs).
    LeaderEpochDecreased {
        /// The epoch before.
        before: u32,
        /// The epoch now.
        after: u32,
    },
    /// The controller changed a partition's leader without bumping its leader epoch
    /// (`PartitionChangeBuilder.build`: a new leader always gets `leaderEpoch + 1`).
    LeaderChangedInEpoch {
        /// The epoch both leaders have.
        leader_epoch: u32,
        /// The leader before.
        before: Option<BrokerId>,
    },
    /// A replica's high watermark is past its log end (`UnifiedLog.updateHighWatermark` caps it).
    HighWatermarkAboveLogEnd {
        /// The high watermark.
        high_watermark: u64,
        /// The log end offset.
        log_end: u64,
    },
    /// A leader's high watermark went down within one leader epoch
    /// (`Partition.maybeIncrementLeaderHW` only moves it forward).
    LeaderHighWatermarkDecreased {
        /// The leader epoch.
        leader_epoch: u32,
        /// The high watermark before.
        before: u64,
        /// The high watermark now.
        after: u64,
    },
    /// A running replica's high watermark went down without an allowance: committed records were
    /// truncated (`UnifiedLog.maybeIncrementHighWatermark` never lowers it; only a truncation
    /// does, and with clean elections and KIP-101 no replica truncates below its high watermark).
    ReplicaHighWatermarkDecreased {
        /// The high watermark before.
        before: u64,
        /// The high watermark now.
        after: u64,
    },
    /// The ISR holds a broker that is not a replica (`PartitionChangeBuilder` validates every
    /// ISR against the replicas).
    IsrOutsideReplicas {
        /// The ISR.
        isr: Vec<BrokerId>,
        /// The replicas.
        replicas: Vec<BrokerId>,
    },
    /// A partition with a leader whose ISR does not hold it (`PartitionChangeBuilder` elects only
    /// from the ISR, or makes the ISR the unclean leader alone).
    LeaderOutsideIsr {
        /// The ISR.
        isr: Vec<BrokerId>,
    },
    /// An empty ISR (`ReplicationControlManager` keeps the last member of an ISR when its broker
    /// is fenced, ELR off).
    EmptyIsr,
    /// The controller's published metadata names a leader that is fenced or shutting down
    /// (`ReplicationControlManager.handleBrokerFenced`/`handleBrokerInControlledShutdown` move
    /// leadership away in the same write).
    LeaderNotLive,
    /// After the controller's session check, a broker not heard from within
    /// `broker.session.timeout.ms` is still unfenced (`BrokerHeartbeatManager`,
    /// `ReplicationControlManager.maybeFenceOneStaleBroker`): a crashed broker keeps leading.
    SessionExpiredNotFenced {
        /// When its session ended.
        deadline: SimTime,
        /// Partitions it still leads.
        leads: u32,
    },
    /// A group's committed offset is beyond every high watermark the partition ever had: a
    /// consumer commits positions it read, and it reads only below the high watermark
    /// (`Partition.fetchOffsetForTimestamp`, `ReplicaManager.readFromLog` with
    /// `FetchIsolation.HIGH_WATERMARK`).
    CommittedBeyondHighWatermark {
        /// The group.
        group: Arc<str>,
        /// The committed offset.
        offset: u64,
        /// The highest high watermark a leader of the partition reached.
        high_watermark_max: u64,
    },
}

/// Exceptions Kafka itself makes to [`ViolationKind::ReplicaHighWatermarkDecreased`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Allowance {
    /// An unclean election made a replica outside the ISR leader: the others truncate to its log,
    /// below their high watermarks (`PartitionChangeBuilder` with `unclean.leader.election.enable`,
    /// `AbstractFetcherThread.truncateOnFetchResponse`).
    UncleanElection,
    /// A replica lost what it had not flushed (a power loss) and may lead with less than the
    /// others committed (`UnifiedLog` recovery truncates to the last valid offset).
    PowerLoss,
    /// The pre-KIP-101 rule truncates a new follower to
    /// its own high watermark, which may be below the high watermark the next leader had: the bug
    /// KIP-101 fixed, replayed on purpose (`kafkasim.truncation.rule`).
    TruncationToHighWatermark,
    /// A restarted broker's high watermark is the one in its checkpoint file, which may be older
    /// than the one it had (`ReplicaManager`'s `replication-offset-checkpoint`,
    /// `Partition.createLog`): its replicas are compared with nothing from before the crash.
    /// It allows no truncation of a running replica.
    Restart,
}

impl Violation {
    /// One sentence saying what was expected and what was found, with names from `names`.
    pub fn describe(&self, names: &Names) -> String {
        let mut place = String::new();
        if let Some(tp) = self.tp {
            place.push_str(&names.tp(tp));
            place.push(' ');
        }
        if let Some(b) = self.broker {
            place.push_str(&format!("broker-{b} "));
        }
        format!("{} {place}{}", self.time, self.kind)
    }
}

impl fmt::Display for ViolationKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ViolationKind::TwoLeadersInEpoch { leader_epoch, first } => write!(
                f,
                "leads leader epoch {leader_epoch}, which broker-{first} led: expected one leader per epoch"
            ),
            ViolationKind::LeaderEpochDecreased { before, after } => write!(
                f,
                "leader epoch went from {before} to {after}: expected epochs never to decrease"
            ),
            ViolationKind::LeaderChangedInEpoch { leader_epoch, before } => write!(
                f,
                "new leader in epoch {leader_epoch} (before: {}): expected every leader change to bump the epoch",
                before.map_or("none".to_string(), |b| format!("broker-{b}"))
            ),
            ViolationKind::HighWatermarkAboveLogEnd {
                high_watermark,
                log_end,
            } => write!(
                f,
                "high watermark {high_watermark} above log end {log_end}: expected HW <= LEO"
            ),
            ViolationKind::LeaderHighWatermarkDecreased {
                leader_epoch,
                before,
                after,
            } => write!(
                f,
                "leader's high watermark went from {before} to {after} in epoch {leader_epoch}: expected it never to decrease within an epoch"
            ),
            ViolationKind::ReplicaHighWatermarkDecreased { before, after } => write!(
                f,
                "high watermark went from {before} to {after} while running: expected committed records never to be truncated"
            ),
            ViolationKind::IsrOutsideReplicas { isr, replicas } => write!(
                f,
                "ISR {isr:?} holds brokers outside the replicas {replicas:?}: expected ISR within replicas"
            ),
            ViolationKind::LeaderOutsideIsr { isr } => {
                write!(
                    f,
                    "leads outside the ISR {isr:?}: expected the ISR to hold the leader"
                )
            }
            ViolationKind::EmptyIsr => write!(f, "has an empty ISR: expected at least its last member"),
            ViolationKind::LeaderNotLive => write!(
                f,
                "is fenced or shutting down but leads in the published metadata: expected leadership to move in the same change"
            ),
            ViolationKind::SessionExpiredNotFenced { deadline, leads } => write!(
                f,
                "session ended at {deadline} but the broker is unfenced (leading {leads} partitions): expected the controller to fence it"
            ),
            ViolationKind::CommittedBeyondHighWatermark {
                group,
                offset,
                high_watermark_max,
            } => write!(
                f,
                "group {group} committed offset {offset}, beyond the highest high watermark {high_watermark_max}: expected commits of read positions only"
            ),
        }
    }
}

/// A partition's state in the last metadata the controller published.
#[derive(Clone, Debug)]
struct Published {
    leader: Option<BrokerId>,
    leader_epoch: u32,
    isr: Vec<BrokerId>,
}

/// What the observer remembers of one replica while its broker runs.
#[derive(Clone, Copy, Debug)]
struct ReplicaSeen {
    leader_epoch: u32,
    high_watermark: u64,
    leading: bool,
}

/// Observes the state of brokers and the controller after each event they handle, and records
/// every [`Violation`].
#[derive(Debug)]
pub struct Invariants {
    truncation: TruncationRule,
    /// Metadata version last checked.
    metadata_version: u64,
    /// Each partition's state in the last published metadata.
    partitions: BTreeMap<Tp, Published>,
    /// Who led each (partition, leader epoch), in the controller's view or a broker's.
    leaders: BTreeMap<(Tp, u32), BrokerId>,
    /// Replicas of running brokers.
    replicas: BTreeMap<(Tp, BrokerId), ReplicaSeen>,
    /// The highest high watermark a leader of each partition reached.
    high_watermark_max: BTreeMap<Tp, u64>,
    /// Allowances earned per partition.
    allowances: BTreeMap<Tp, BTreeSet<Allowance>>,
    /// Brokers whose next crash loses unflushed data.
    power_lost: BTreeSet<BrokerId>,
    violations: Vec<Violation>,
}

impl Invariants {
    /// An observer for a cluster configured with `config`.
    pub fn new(config: &BrokerConfig) -> Invariants {
        Invariants::with_truncation(config.truncation)
    }

    fn with_truncation(truncation: TruncationRule) -> Invariants {
        Invariants {
            truncation,
            metadata_version: 0,
            partitions: BTreeMap::new(),
            leaders: BTreeMap::new(),
            replicas: BTreeMap::new(),
            high_watermark_max: BTreeMap::new(),
            allowances: BTreeMap::new(),
            power_lost: BTreeSet::new(),
            violations: Vec::new(),
        }
    }

    /// The violations found so far.
    pub fn violations(&self) -> &[Violation] {
        &self.violations
    }

    /// Everything found.
    pub fn into_violations(self) -> Vec<Violation> {
        self.violations
    }

    fn violation(&mut self, time: SimTime, tp: Option<Tp>, broker: Option<BrokerId>, kind: ViolationKind) {
        self.violations.push(Violation {
            time,
            tp,
            broker,
            kind,
        });
    }

    /// The allowances each partition earned so far.
    pub fn allowances(&self) -> &BTreeMap<Tp, BTreeSet<Allowance>> {
        &self.allowances
    }

    /// Whether a replica of `tp` may have its high watermark lowered by a truncation.
    fn may_truncate_committed(&self, tp: Tp) -> bool {
        let allows = |a: &Allowance| *a != Allowance::Restart;
        self.allowances.get(&tp).is_some_and(|set| set.iter().any(allows))
    }

    fn allow(&mut self, tp: Tp, allowance: Allowance) {
        self.allowances.entry(tp).or_default().insert(allowance);
    }

    /// `broker` is about to crash losing what it did not flush: every partition it hosts earns
    /// [`Allowance::PowerLoss`].
    pub fn power_loss(&mut self, broker: BrokerId) {
        self.power_lost.insert(broker);
    }

    /// The controller handled an event: checks the metadata it publishes.
    pub fn controller(&mut self, now: SimTime, controller: &Controller) {
        let md = controller.metadata();
        if md.version == self.metadata_version {
            return;
        }
        self.metadata_version = md.version;
        self.metadata(now, &md);
    }

    /// The controller ran its session check (`on_wake`): no broker whose session ended may be
    /// unfenced.
    pub fn controller_sessions(&mut self, now: SimTime, controller: &Controller) {
        let md = controller.metadata();
        for b in md.live_brokers.iter().copied() {
            let deadline = controller.session_deadline(b);
            if now > deadline {
                let leads = md.topics.iter().flatten().filter(|p| p.leader == Some(b)).count();
                let kind = ViolationKind::SessionExpiredNotFenced {
                    deadline,
                    leads: u32::try_from(leads).unwrap_or(u32::MAX),
                };
                self.violation(now, None, Some(b), kind);
            }
        }
    }

    fn metadata(&mut self, now: SimTime, md: &ClusterMetadata) {
        for (t, partitions) in md.topics.iter().enumerate() {
            for (p, state) in partitions.iter().enumerate() {
                let tp = Tp {
                    topic: t as u32,
                    partition: p as u32,
                };
                if state.isr.is_empty() {
                    self.violation(now, Some(tp), None, ViolationKind::EmptyIsr);
                }
                if state.isr.iter().any(|b| !state.replicas.contains(b)) {
                    let kind = ViolationKind::IsrOutsideReplicas {
                        isr: state.isr.clone(),
                        replicas: state.replicas.clone(),
                    };
                    self.violation(now, Some(tp), None, kind);
                }
                if let Some(leader) = state.leader {
                    if !state.isr.contains(&leader) {
                        let kind = ViolationKind::LeaderOutsideIsr {
                            isr: state.isr.clone(),
                        };
                        self.violation(now, Some(tp), Some(leader), kind);
                    }
                    if !md.live_brokers.contains(&leader) {
                        self.violation(now, Some(tp), Some(leader), ViolationKind::LeaderNotLive);
                    }
                    self.claim(now, tp, state.leader_epoch, leader);
                }
                let now_published = Published {
                    leader: state.leader,
                    leader_epoch: state.leader_epoch,
                    isr: state.isr.clone(),
                };
                if let Some(before) = self.partitions.insert(tp, now_published) {
                    self.epoch_change(now, tp, &before, state.leader, state.leader_epoch);
                    // Unclean: the new leader was not in the ISR it was elected from
                    // (`PartitionChangeBuilder.electAnyLeader`, `unclean.leader.election.enable`).
                    if state.leader.is_some_and(|b| !before.isr.contains(&b)) {
                        self.allow(tp, Allowance::UncleanElection);
                    }
                }
            }
        }
    }

    fn epoch_change(
        &mut self,
        now: SimTime,
        tp: Tp,
        before: &Published,
        leader: Option<BrokerId>,
        leader_epoch: u32,
    ) {
        if leader_epoch < before.leader_epoch {
            let kind = ViolationKind::LeaderEpochDecreased {
                before: before.leader_epoch,
                after: leader_epoch,
            };
            self.violation(now, Some(tp), leader, kind);
        } else if leader_epoch == before.leader_epoch && leader != before.leader {
            let kind = ViolationKind::LeaderChangedInEpoch {
                leader_epoch,
                before: before.leader,
            };
            self.violation(now, Some(tp), leader, kind);
        }
    }

    /// `broker` leads `tp` in `leader_epoch`: the first to do so owns the epoch.
    fn claim(&mut self, now: SimTime, tp: Tp, leader_epoch: u32, broker: BrokerId) {
        let first = *self.leaders.entry((tp, leader_epoch)).or_insert(broker);
        if first != broker {
            let kind = ViolationKind::TwoLeadersInEpoch { leader_epoch, first };
            self.violation(now, Some(tp), Some(broker), kind);
        }
    }

    /// A broker handled an event: checks its replicas and the offsets its coordinator holds.
    pub fn broker(&mut self, now: SimTime, broker: &Broker) {
        let id = broker.id();
        if !broker.is_up() {
            // Allowance::Restart: what it shows after a restart is compared with nothing older.
            let power_lost = self.power_lost.remove(&id);
            let hosted: Vec<Tp> = broker.replicas().keys().copied().collect();
            for tp in hosted {
                if self.replicas.remove(&(tp, id)).is_some() {
                    self.allow(tp, Allowance::Restart);
                }
                if power_lost {
                    self.allow(tp, Allowance::PowerLoss);
                }
            }
            return;
        }
        for (tp, r) in broker.replicas() {
            let (tp, hw, leo) = (*tp, r.log.high_watermark(), r.log.log_end_offset());
            if hw > leo {
                let kind = ViolationKind::HighWatermarkAboveLogEnd {
                    high_watermark: hw,
                    log_end: leo,
                };
                self.violation(now, Some(tp), Some(id), kind);
            }
            let leading = r.leading().is_some();
            if leading {
                self.claim(now, tp, r.leader_epoch, id);
                let max = self.high_watermark_max.entry(tp).or_default();
                *max = (*max).max(hw);
            }
            let seen = ReplicaSeen {
                leader_epoch: r.leader_epoch,
                high_watermark: hw,
                leading,
            };
            if let Some(before) = self.replicas.insert((tp, id), seen) {
                self.replica_change(now, tp, id, before, seen);
            }
        }
        for (group, g) in broker.coordinator().groups() {
            for (tp, offset) in g.offsets() {
                let high_watermark_max = self.high_watermark_max.get(tp).copied().unwrap_or(0);
                if *offset > high_watermark_max {
                    let kind = ViolationKind::CommittedBeyondHighWatermark {
                        group: group.clone(),
                        offset: *offset,
                        high_watermark_max,
                    };
                    self.violation(now, Some(*tp), Some(id), kind);
                }
            }
        }
    }

    fn replica_change(
        &mut self,
        now: SimTime,
        tp: Tp,
        id: BrokerId,
        before: ReplicaSeen,
        after: ReplicaSeen,
    ) {
        if after.leader_epoch < before.leader_epoch {
            let kind = ViolationKind::LeaderEpochDecreased {
                before: before.leader_epoch,
                after: after.leader_epoch,
            };
            self.violation(now, Some(tp), Some(id), kind);
        }
        if after.high_watermark >= before.high_watermark {
            return;
        }
        if before.leading && after.leading && before.leader_epoch == after.leader_epoch {
            let kind = ViolationKind::LeaderHighWatermarkDecreased {
                leader_epoch: after.leader_epoch,
                before: before.high_watermark,
                after: after.high_watermark,
            };
            self.violation(now, Some(tp), Some(id), kind);
        } else {
            if self.truncation == TruncationRule::HighWatermark {
                self.allow(tp, Allowance::TruncationToHighWatermark);
            }
            if self.may_truncate_committed(tp) {
                return;
            }
            let kind = ViolationKind::ReplicaHighWatermarkDecreased {
                before: before.high_watermark,
                after: after.high_watermark,
            };
            self.violation(now, Some(tp), Some(id), kind);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kafka::protocol::PartitionState;

    const TP: Tp = Tp {
        topic: 0,
        partition: 0,
    };

    fn at(ms: u64) -> SimTime {
        SimTime::from_us(ms * 1000)
    }

    fn md(
        version: u64,
        live: &[BrokerId],
        leader: Option<BrokerId>,
        leader_epoch: u32,
        isr: &[BrokerId],
    ) -> ClusterMetadata {
        ClusterMetadata {
            version,
            live_brokers: live.to_vec(),
            topics: vec![vec![PartitionState {
                leader,
                leader_epoch,
                partition_epoch: 0,
                replicas: vec![1, 2, 3],
                isr: isr.to_vec(),
            }]],
        }
    }

    fn kinds(inv: &Invariants) -> Vec<ViolationKind> {
        inv.violations().iter().map(|v| v.kind.clone()).collect()
    }

    #[test]
    fn a_clean_failover_keeps_every_invariant() {
        let mut inv = Invariants::with_truncation(TruncationRule::LeaderEpoch);
        inv.metadata(at(0), &md(1, &[1, 2, 3], Some(1), 0, &[1, 2, 3]));
        inv.metadata(at(5), &md(2, &[2, 3], Some(2), 1, &[2, 3]));
        assert_eq!(kinds(&inv), []);
    }

    #[test]
    fn a_leader_change_without_an_epoch_bump_is_caught() {
        let mut inv = Invariants::with_truncation(TruncationRule::LeaderEpoch);
        inv.metadata(at(0), &md(1, &[1, 2, 3], Some(1), 4, &[1, 2, 3]));
        inv.metadata(at(5), &md(2, &[1, 2, 3], Some(2), 4, &[1, 2, 3]));
        assert_eq!(
            kinds(&inv),
            [
                ViolationKind::TwoLeadersInEpoch {
                    leader_epoch: 4,
                    first: 1
                },
                ViolationKind::LeaderChangedInEpoch {
                    leader_epoch: 4,
                    before: Some(1)
                },
            ]
        );
    }

    #[test]
    fn a_decreasing_epoch_is_caught() {
        let mut inv = Invariants::with_truncation(TruncationRule::LeaderEpoch);
        inv.metadata(at(0), &md(1, &[1, 2, 3], Some(1), 4, &[1, 2, 3]));
        inv.metadata(at(5), &md(2, &[1, 2, 3], Some(1), 3, &[1, 2, 3]));
        assert_eq!(
            kinds(&inv),
            [ViolationKind::LeaderEpochDecreased { before: 4, after: 3 }]
        );
    }

    #[test]
    fn isr_rules_and_fenced_leaders_are_caught() {
        let mut inv = Invariants::with_truncation(TruncationRule::LeaderEpoch);
        inv.metadata(at(0), &md(1, &[2, 3], Some(1), 0, &[2, 4]));
        assert_eq!(
            kinds(&inv),
            [
                ViolationKind::IsrOutsideReplicas {
                    isr: vec![2, 4],
                    replicas: vec![1, 2, 3]
                },
                ViolationKind::LeaderOutsideIsr { isr: vec![2, 4] },
                ViolationKind::LeaderNotLive,
            ]
        );
        let mut empty = Invariants::with_truncation(TruncationRule::LeaderEpoch);
        empty.metadata(at(0), &md(1, &[1, 2, 3], None, 0, &[]));
        assert_eq!(kinds(&empty), [ViolationKind::EmptyIsr]);
    }

    fn seen(leader_epoch: u32, high_watermark: u64, leading: bool) -> ReplicaSeen {
        ReplicaSeen {
            leader_epoch,
            high_watermark,
            leading,
        }
    }

    #[test]
    fn a_leader_high_watermark_never_goes_down_within_its_epoch() {
        let mut inv = Invariants::with_truncation(TruncationRule::LeaderEpoch);
        inv.replica_change(at(1), TP, 1, seen(2, 10, true), seen(2, 8, true));
        assert_eq!(
            kinds(&inv),
            [ViolationKind::LeaderHighWatermarkDecreased {
                leader_epoch: 2,
                before: 10,
                after: 8
            }]
        );
    }

    #[test]
    fn a_follower_truncated_below_its_high_watermark_needs_an_allowance() {
        let mut inv = Invariants::with_truncation(TruncationRule::LeaderEpoch);
        inv.replica_change(at(1), TP, 2, seen(2, 10, false), seen(3, 7, false));
        assert_eq!(
            kinds(&inv),
            [ViolationKind::ReplicaHighWatermarkDecreased { before: 10, after: 7 }]
        );
        // An unclean election earns the allowance: the same truncation is Kafka's behaviour.
        let mut unclean = Invariants::with_truncation(TruncationRule::LeaderEpoch);
        unclean.metadata(at(0), &md(1, &[1, 2, 3], Some(1), 0, &[1]));
        unclean.metadata(at(1), &md(2, &[2, 3], Some(2), 1, &[2]));
        unclean.replica_change(at(1), TP, 3, seen(1, 10, false), seen(1, 7, false));
        assert_eq!(kinds(&unclean), []);
        // So does the pre-KIP-101 truncation rule.
        let mut old = Invariants::with_truncation(TruncationRule::HighWatermark);
        old.replica_change(at(1), TP, 2, seen(2, 10, false), seen(3, 7, false));
        assert_eq!(kinds(&old), []);
    }
}

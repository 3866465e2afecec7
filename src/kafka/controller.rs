//! The KRaft controller: broker liveness by heartbeats, ISR changes, leader elections (clean,
//! unclean, preferred), controlled shutdown, and the metadata it pushes to brokers.
//!
//! Followed: `BrokerHeartbeatManager` (a broker not heard from for more than
//! `broker.session.timeout.ms` is fenced: its session is still valid at `lastContact + session`,
//! and fenced the tick after), `QuorumController` (when preferred leader elections
//! run: see `controller/balance.rs`), `ReplicationControlManager` and
//! `PartitionChangeBuilder` (metadata/src/main/java/org/apache/kafka/controller/): the new leader
//! is the current one if still acceptable, else the first replica in assignment order that is in
//! the ISR and acceptable, else — with unclean election — the first acceptable replica, whose ISR
//! becomes just itself; a fenced broker leaves every ISR unless it is the last member; every
//! leader change bumps the leader epoch, every change the partition epoch. ELR (KIP-966) is off,
//! as in a Kafka 4.0 cluster by default.

use super::addr::Addresses;
use super::assignment;
use super::protocol::{
    BrokerId, ClusterMetadata, ErrorCode, IsrProposal, Message, PRODUCER_ID_BLOCK_SIZE, PartitionState,
};
use super::record::Tp;
use crate::scenario::BrokerConfig;
use crate::sim::{Out, SimDuration, SimTime};
use crate::trace::Event;
use balance::{Balancer, MAX_ELECTIONS_PER_IMBALANCE};
use std::collections::BTreeSet;
use std::sync::Arc;

mod balance;

/// What the controller needs to know about each topic.
#[derive(Clone, Debug)]
pub struct TopicPolicy {
    /// Replica lists per partition, preferred leader first.
    pub assignment: Vec<Vec<BrokerId>>,
    /// `unclean.leader.election.enable` for this topic.
    pub unclean_leader_election: bool,
}

/// The controller's state.
pub struct Controller {
    addr: Addresses,
    session_timeout: SimDuration,
    unclean: Vec<bool>,
    last_contact: Vec<SimTime>,
    fenced: Vec<bool>,
    shutting_down: Vec<bool>,
    /// Restarted brokers whose registration was refused: they get no metadata yet.
    unregistered: Vec<bool>,
    balancer: Balancer,
    metadata: Arc<ClusterMetadata>,
    /// The partitions the latest metadata version changed.
    last_changed: Arc<[Tp]>,
    /// Partitions not led by their preferred replica (`imbalancedPartitions`).
    imbalanced: BTreeSet<Tp>,
    /// First id of the next producer id block (`ProducerIdControlManager`).
    next_producer_id: u64,
}

type O = Out<Message, Event>;

/// A partition whose state changed, for the trace.
struct Change {
    tp: Tp,
    leader_changed: bool,
    isr_changed: bool,
}

impl Controller {
    /// A controller for a running cluster: every broker registered, each partition led by its
    /// first replica at leader epoch 0, every replica in the ISR.
    pub fn new(addr: Addresses, topics: &[TopicPolicy], config: &BrokerConfig) -> Controller {
        let partitions = topics
            .iter()
            .map(|t| {
                t.assignment
                    .iter()
                    .map(|replicas| PartitionState {
                        leader: replicas.first().copied(),
                        leader_epoch: 0,
                        partition_epoch: 0,
                        replicas: replicas.clone(),
                        isr: replicas.clone(),
                    })
                    .collect()
            })
            .collect();
        let n = addr.broker_count() as usize;
        let check_interval = config
            .auto_leader_rebalance
            .then_some(config.leader_imbalance_check_interval);
        Controller {
            addr,
            session_timeout: config.session_timeout,
            unclean: topics.iter().map(|t| t.unclean_leader_election).collect(),
            last_contact: vec![SimTime::ZERO; n],
            fenced: vec![false; n],
            shutting_down: vec![false; n],
            unregistered: vec![false; n],
            balancer: Balancer::new(check_interval),
            metadata: Arc::new(ClusterMetadata {
                version: 1,
                live_brokers: addr.broker_ids().collect(),
                topics: partitions,
            }),
            last_changed: Arc::from([]),
            imbalanced: BTreeSet::new(),
            next_producer_id: 0,
        }
    }

    /// The current metadata image.
    pub fn metadata(&self) -> Arc<ClusterMetadata> {
        Arc::clone(&self.metadata)
    }

    /// When `broker`'s session ends: its last contact plus `broker.session.timeout.ms`; after
    /// it, the controller fences the broker (`BrokerHeartbeatManager`).
    pub fn session_deadline(&self, broker: BrokerId) -> SimTime {
        self.last_contact[broker as usize - 1] + self.session_timeout
    }

    /// Starts the session and rebalance timers.
    pub fn on_start(&mut self, now: SimTime, out: &mut O) {
        self.schedule(now, out);
    }

    /// A message from a broker.
    pub fn on_message(&mut self, now: SimTime, msg: Message, out: &mut O) {
        match msg {
            Message::Heartbeat {
                broker,
                correlation,
                metadata_version,
            } => {
                if let Some(result) = self.heartbeat(now, broker, metadata_version, out) {
                    let reply = Message::HeartbeatResponse { correlation, result };
                    out.send(self.addr.broker(broker), reply);
                }
            }
            Message::AlterPartition {
                broker,
                correlation,
                partitions,
            } => self.alter_partition(broker, correlation, partitions, out),
            Message::ShutdownRequest { broker } => {
                // `handleBrokerInControlledShutdown` moves leaderships and ISR places away; once
                // none is left the broker may stop (SHUTDOWN_NOW) and is fenced at once
                // (`ReplicationControlManager.processBrokerHeartbeat`, `handleBrokerShutdown`).
                let i = broker as usize - 1;
                self.shutting_down[i] = true;
                let changes = self.remove_broker(broker);
                self.fenced[i] = true;
                out.trace(|| Event::BrokerFenced {
                    broker,
                    why: "controlled shutdown complete",
                });
                self.publish(changes, out);
                out.send(self.addr.broker(broker), Message::ShutdownAllowed);
            }
            Message::AllocateProducerIds { broker } => {
                // `ProducerIdControlManager.generateNextProducerId`: consecutive blocks of
                // `PRODUCER_ID_BLOCK_SIZE` ids, never handed out twice.
                let first = self.next_producer_id;
                let size = PRODUCER_ID_BLOCK_SIZE;
                self.next_producer_id += size;
                out.trace(|| Event::ProducerIdsAllocated { broker, first, size });
                out.send(self.addr.broker(broker), Message::ProducerIdBlock { first, size });
            }
            _ => {}
        }
        self.schedule(now, out);
    }

    /// A heartbeat (`QuorumController.processBrokerHeartbeat`): the broker's last contact is now.
    /// Returns the answer, or `None` for a heartbeat its stopped incarnation sent, which nobody
    /// waits for.
    fn heartbeat(
        &mut self,
        now: SimTime,
        broker: BrokerId,
        metadata_version: u64,
        out: &mut O,
    ) -> Option<Result<(), ErrorCode>> {
        let i = broker as usize - 1;
        if metadata_version == 0 {
            // A restarted broker registers a new incarnation by this heartbeat; while the old
            // one's session is valid, `ClusterControlManager.registerBroker` refuses it
            // (DUPLICATE_BROKER_REGISTRATION) and the broker backs off and tries again.
            if self.has_valid_session(broker, now) {
                out.trace(|| Event::RegistrationRefused { broker });
                self.unregistered[i] = true;
                return Some(Err(ErrorCode::DuplicateBrokerRegistration));
            }
            if !self.fenced[i] {
                // Its session ran out this very microsecond: fenced before it registers again.
                self.fence(broker, "no heartbeat within broker.session.timeout.ms", out);
            }
        }
        self.unregistered[i] = false;
        if self.shutting_down[i] && self.fenced[i] && metadata_version != 0 {
            // Sent by the old incarnation before it stopped.
            return None;
        }
        self.last_contact[i] = now;
        if self.fenced[i] {
            self.fenced[i] = false;
            self.shutting_down[i] = false;
            out.trace(|| Event::BrokerUnfenced { broker });
            let changes = self.elect_leaderless();
            self.publish(changes, out);
        } else if metadata_version < self.metadata.version {
            // A broker that restarted fetches the metadata log before it serves clients.
            out.send(self.addr.broker(broker), self.metadata_update());
        }
        Some(Ok(()))
    }

    /// `BrokerHeartbeatManager.hasValidSession`: unfenced, and heard from within the session
    /// timeout (`lastContactNs + sessionTimeoutNs >= now`: a session is still valid at its last
    /// instant).
    fn has_valid_session(&self, broker: BrokerId, now: SimTime) -> bool {
        let i = broker as usize - 1;
        !self.fenced[i] && now <= self.last_contact[i] + self.session_timeout
    }

    /// Fences `broker`: it leaves every ISR it is not the last member of, and partitions it led
    /// get a new leader.
    fn fence(&mut self, broker: BrokerId, why: &'static str, out: &mut O) {
        self.fenced[broker as usize - 1] = true;
        out.trace(|| Event::BrokerFenced { broker, why });
        let changes = self.remove_broker(broker);
        self.publish(changes, out);
    }

    /// `CreatePartitions` from an admin client (`kafka-topics --alter --partitions count`): the
    /// topic grows to `count` partitions, placed after the existing ones
    /// ([`assignment::rack_unaware_added`]), each led by its first live replica with the live
    /// replicas as its ISR (`ReplicationControlManager.createPartitions`). A count that does not
    /// grow the topic is refused with Kafka's `INVALID_PARTITIONS` message.
    pub fn add_partitions(&mut self, topic: u32, count: u32, now: SimTime, out: &mut O) {
        let existing = self.metadata.partition_count(topic);
        if count <= existing {
            let why = if count == existing {
                format!("Topic already has {existing} partitions.")
            } else {
                format!(
                    "Topic currently has {existing} partitions, which is higher than the requested {count}."
                )
            };
            out.trace(|| Event::PartitionsRefused { topic, why });
            return;
        }
        let Some(first) = self.metadata.partition(tp(topic as usize, 0)).cloned() else {
            return;
        };
        let live = self.refresh_live_brokers();
        // Kafka 4.0 places new partitions with `StripedReplicaPlacer` over the usable brokers,
        // never letting a fenced one lead, and refuses a replication factor they cannot meet
        // (`InvalidReplicationFactorException`). kafkasim keeps the rack-unaware order over the
        // active (unfenced, not shutting down) brokers, so every new partition starts with a
        // leader and a non-empty ISR; Kafka may also put followers on fenced brokers.
        let brokers: Vec<BrokerId> = self.addr.broker_ids().filter(|b| live[*b as usize - 1]).collect();
        let replication_factor = first.replicas.len() as u32;
        if brokers.is_empty() || (brokers.len() as u32) < replication_factor {
            let why = if brokers.is_empty() {
                "All brokers are currently fenced.".to_string()
            } else {
                format!(
                    "Unable to replicate the partition {replication_factor} time(s): The target replication factor of {replication_factor} cannot be reached because only {} broker(s) are registered.",
                    brokers.len()
                )
            };
            out.trace(|| Event::PartitionsRefused { topic, why });
            return;
        }
        let placed = assignment::rack_unaware_added(
            &brokers,
            first.replicas[0],
            existing,
            count - existing,
            replication_factor,
        );
        let md = Arc::make_mut(&mut self.metadata);
        let mut changes = Vec::new();
        for (i, replicas) in placed.into_iter().enumerate() {
            let isr: Vec<BrokerId> = replicas
                .iter()
                .copied()
                .filter(|b| live[*b as usize - 1])
                .collect();
            md.topics[topic as usize].push(PartitionState {
                leader: isr.first().copied(),
                leader_epoch: 0,
                partition_epoch: 0,
                replicas,
                isr,
            });
            changes.push(Change {
                tp: tp(topic as usize, existing as usize + i),
                leader_changed: true,
                isr_changed: true,
            });
        }
        out.emit(Event::PartitionsAdded {
            topic,
            from: existing,
            to: count,
        });
        self.publish(changes, out);
        self.schedule(now, out);
    }

    /// Fences brokers whose session expired; runs preferred leader elections when due.
    pub fn on_wake(&mut self, now: SimTime, out: &mut O) {
        // `ReplicationControlManager.maybeFenceOneStaleBroker`, rescheduled at once while another
        // is stale: the broker heard from longest ago first, one fencing record each.
        while let Some(broker) = self
            .oldest_unfenced()
            .filter(|b| !self.has_valid_session(*b, now))
        {
            self.fence(broker, "no heartbeat within broker.session.timeout.ms", out);
        }
        if self.balancer.is_due(now) {
            let changes = self.elect_preferred(MAX_ELECTIONS_PER_IMBALANCE);
            self.balancer.ran(changes.len());
            if !changes.is_empty() {
                self.publish(changes, out);
            }
        }
        self.schedule(now, out);
    }

    /// Ends every event, as `ControllerWriteEvent.run` does: a balance run is scheduled if
    /// needed, then the wake-up for the next session expiry or balance run.
    fn schedule(&mut self, now: SimTime, out: &mut O) {
        self.balancer.after_write(now, !self.imbalanced.is_empty());
        // `BrokerHeartbeatManager.nextCheckTimeNs`: the oldest session ends after its last
        // valid instant, one microsecond (kafkasim's clock tick) later.
        if let Some(b) = self.oldest_unfenced() {
            let expiry = self.last_contact[b as usize - 1] + self.session_timeout + SimDuration::from_us(1);
            out.wake_at(expiry.max(now));
        }
        if let Some(at) = self.balancer.next_run() {
            out.wake_at(at.max(now));
        }
    }

    /// The unfenced broker heard from longest ago (`BrokerHeartbeatManager.unfenced`, sorted by
    /// last contact; ties by broker id).
    fn oldest_unfenced(&self) -> Option<BrokerId> {
        self.addr
            .broker_ids()
            .filter(|b| !self.fenced[*b as usize - 1])
            .min_by_key(|b| (self.last_contact[*b as usize - 1], *b))
    }

    /// Registered, unfenced and not shutting down: may lead or join an ISR.
    fn acceptable(&self, b: BrokerId) -> bool {
        let i = b as usize - 1;
        !self.fenced[i] && !self.shutting_down[i]
    }

    /// Recomputes the metadata's live brokers; returns, by broker index, who is acceptable.
    fn refresh_live_brokers(&mut self) -> Vec<bool> {
        let acceptable: Vec<bool> = self.addr.broker_ids().map(|b| self.acceptable(b)).collect();
        Arc::make_mut(&mut self.metadata).live_brokers = self
            .addr
            .broker_ids()
            .filter(|b| acceptable[*b as usize - 1])
            .collect();
        acceptable
    }

    /// A broker is fenced or shuts down: it leaves every ISR it is not the last member of, and
    /// partitions it led get a new leader.
    fn remove_broker(&mut self, broker: BrokerId) -> Vec<Change> {
        let acceptable = self.refresh_live_brokers();
        let unclean = &self.unclean;
        let md = Arc::make_mut(&mut self.metadata);
        let mut changes = Vec::new();
        for (t, partitions) in md.topics.iter_mut().enumerate() {
            for (p, state) in partitions.iter_mut().enumerate() {
                let in_isr = state.isr.contains(&broker);
                let isr_before = state.isr.clone();
                if in_isr && state.isr.len() > 1 {
                    state.isr.retain(|b| *b != broker);
                }
                let leader_changed = state.leader == Some(broker);
                if leader_changed {
                    elect(state, &acceptable, unclean[t]);
                }
                let isr_changed = state.isr != isr_before;
                if leader_changed || isr_changed {
                    state.partition_epoch += 1;
                    changes.push(Change {
                        tp: tp(t, p),
                        leader_changed,
                        isr_changed,
                    });
                }
            }
        }
        changes
    }

    /// On unfencing: leaderless partitions elect (the returning broker may be the last ISR
    /// member).
    fn elect_leaderless(&mut self) -> Vec<Change> {
        let acceptable = self.refresh_live_brokers();
        let unclean = &self.unclean;
        let md = Arc::make_mut(&mut self.metadata);
        let mut changes = Vec::new();
        for (t, partitions) in md.topics.iter_mut().enumerate() {
            for (p, state) in partitions.iter_mut().enumerate() {
                if state.leader.is_none() {
                    let isr_before = state.isr.clone();
                    elect(state, &acceptable, unclean[t]);
                    if state.leader.is_some() {
                        state.partition_epoch += 1;
                        changes.push(Change {
                            tp: tp(t, p),
                            leader_changed: true,
                            isr_changed: state.isr != isr_before,
                        });
                    }
                }
            }
        }
        changes
    }

    /// A balance run (`ReplicationControlManager.maybeBalancePartitionLeaders`): up to `limit`
    /// imbalanced partitions whose preferred (first) replica is in the ISR and acceptable get it
    /// back as leader (`PartitionChangeBuilder.electPreferredLeader`). Kafka walks its imbalanced
    /// set in hash order; kafkasim walks it in topic and partition order, which only matters
    /// beyond `limit`.
    fn elect_preferred(&mut self, limit: usize) -> Vec<Change> {
        let acceptable: Vec<bool> = self.addr.broker_ids().map(|b| self.acceptable(b)).collect();
        let md = Arc::make_mut(&mut self.metadata);
        let mut changes = Vec::new();
        for &tp in &self.imbalanced {
            if changes.len() >= limit {
                break;
            }
            let state = &mut md.topics[tp.topic as usize][tp.partition as usize];
            let Some(&preferred) = state.replicas.first() else {
                continue;
            };
            if state.isr.contains(&preferred) && acceptable[preferred as usize - 1] {
                state.leader = Some(preferred);
                state.leader_epoch += 1;
                state.partition_epoch += 1;
                changes.push(Change {
                    tp,
                    leader_changed: true,
                    isr_changed: false,
                });
            }
        }
        changes
    }

    /// `AlterPartition` from a leader (`ReplicationControlManager.alterPartition`): each
    /// proposal is committed when its epochs are current and every new member is acceptable;
    /// the committed ones are published as one metadata version, as `QuorumController` appends
    /// the records of one request as one batch. The leader gets one answer per proposal.
    fn alter_partition(
        &mut self,
        broker: BrokerId,
        correlation: u32,
        proposals: Vec<IsrProposal>,
        out: &mut O,
    ) {
        let mut answers = Vec::with_capacity(proposals.len());
        let mut changes = Vec::new();
        for p in proposals {
            let result = self.validate_isr(&p).map(|()| {
                let md = Arc::make_mut(&mut self.metadata);
                let s = &mut md.topics[p.tp.topic as usize][p.tp.partition as usize];
                s.isr = p.isr;
                s.partition_epoch += 1;
                changes.push(Change {
                    tp: p.tp,
                    leader_changed: false,
                    isr_changed: true,
                });
                s.clone()
            });
            answers.push((p.tp, result));
        }
        if !changes.is_empty() {
            self.publish(changes, out);
        }
        out.send(
            self.addr.broker(broker),
            Message::AlterPartitionResponse {
                correlation,
                partitions: answers,
            },
        );
    }

    /// `ReplicationControlManager.validateAlterPartitionData`, for the checks kafkasim models.
    fn validate_isr(&self, p: &IsrProposal) -> Result<(), ErrorCode> {
        let state = self
            .metadata
            .partition(p.tp)
            .ok_or(ErrorCode::UnknownTopicOrPartition)?;
        if p.leader_epoch != state.leader_epoch {
            Err(ErrorCode::FencedLeaderEpoch)
        } else if p.partition_epoch != state.partition_epoch {
            Err(ErrorCode::InvalidUpdateVersion)
        } else if p
            .isr
            .iter()
            .any(|b| !state.isr.contains(b) && !self.acceptable(*b))
        {
            Err(ErrorCode::IneligibleReplica)
        } else {
            Ok(())
        }
    }

    /// Publishes a new metadata version: the image, and the partitions it changed, so that
    /// brokers apply a delta rather than the whole image.
    fn publish(&mut self, changes: Vec<Change>, out: &mut O) {
        Arc::make_mut(&mut self.metadata).version += 1;
        self.last_changed = changes.iter().map(|c| c.tp).collect();
        for c in changes {
            let Some(state) = self.metadata.partition(c.tp).cloned() else {
                continue;
            };
            let tp = c.tp;
            if c.leader_changed {
                // `ReplicationControlManager.updatePartitionInfo` keeps `imbalancedPartitions`
                // as leaders change, so that no event has to scan every partition.
                if state.leader == state.replicas.first().copied() {
                    self.imbalanced.remove(&tp);
                } else {
                    self.imbalanced.insert(tp);
                }
            }
            // Emitted even without a trace: the history keeps each partition's timeline for
            // `Leader` and `Isr` expectations.
            if c.leader_changed {
                out.emit(Event::LeaderChanged {
                    tp,
                    leader: state.leader,
                    leader_epoch: state.leader_epoch,
                });
            }
            if c.isr_changed {
                out.emit(Event::IsrChanged { tp, isr: state.isr });
            }
        }
        for b in self.addr.broker_ids() {
            if !self.unregistered[b as usize - 1] {
                out.send(self.addr.broker(b), self.metadata_update());
            }
        }
    }

    /// The current image with the partitions its version changed.
    fn metadata_update(&self) -> Message {
        Message::MetadataUpdate {
            image: Arc::clone(&self.metadata),
            changed: Arc::clone(&self.last_changed),
        }
    }
}

/// Elects a leader for a partition whose leader is gone (`PartitionChangeBuilder`, ELR off).
fn elect(state: &mut PartitionState, acceptable: &[bool], unclean: bool) {
    let leader = choose(state, |b| acceptable[b as usize - 1], unclean).map(|(b, clean)| {
        if !clean {
            // Unclean: the new leader's log is the truth, the ISR is just itself.
            state.isr = vec![b];
        }
        b
    });
    state.leader = leader;
    state.leader_epoch += 1;
}

/// `PartitionChangeBuilder.electAnyLeader` with ELR off: the first replica in assignment order
/// that is in the ISR and acceptable (`true`: clean), else, with unclean election, the first
/// acceptable replica (`false`).
fn choose(state: &PartitionState, ok: impl Fn(BrokerId) -> bool, unclean: bool) -> Option<(BrokerId, bool)> {
    let clean = state
        .replicas
        .iter()
        .copied()
        .find(|b| state.isr.contains(b) && ok(*b));
    let forced = || {
        state
            .replicas
            .iter()
            .copied()
            .find(|b| ok(*b))
            .filter(|_| unclean)
    };
    clean.map(|b| (b, true)).or_else(|| forced().map(|b| (b, false)))
}

/// The replicas that may lead a partition whose leader is gone or no longer `running`, once the
/// controller elects again: when it fences the old leader (which leaves the ISR unless it is its
/// last member: `ReplicationControlManager.generateLeaderAndIsrUpdates`, `brokerToRemove`), or
/// when a returning broker is unfenced (`brokerToAdd`). If a replica that election would pick
/// runs, it is that one; if none runs, whichever returns first: any ISR member or, with unclean
/// election, any replica. In assignment order.
pub fn successors(
    state: &PartitionState,
    running: impl Fn(BrokerId) -> bool,
    unclean: bool,
) -> Vec<BrokerId> {
    let mut after = state.clone();
    if let Some(old) = state.leader
        && after.isr.len() > 1
    {
        after.isr.retain(|b| *b != old);
    }
    if let Some((b, _)) = choose(&after, |b| running(b) && Some(b) != state.leader, unclean) {
        return vec![b];
    }
    let eligible = |b: &BrokerId| unclean || after.isr.contains(b);
    state.replicas.iter().copied().filter(eligible).collect()
}

fn tp(topic: usize, partition: usize) -> Tp {
    Tp {
        topic: u32::try_from(topic).unwrap_or(u32::MAX),
        partition: u32::try_from(partition).unwrap_or(u32::MAX),
    }
}

#[cfg(test)]
mod tests;

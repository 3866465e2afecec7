//! A broker: hosts partition replicas, leads some and follows others, serves clients, and
//! heartbeats to the controller whose metadata it caches.
//!
//! Requests on one connection are handled one at a time, as Kafka's `SocketServer` mutes a
//! channel until its response is sent; an `acks=all` produce or a long-polling fetch holds the
//! connection until it completes.

mod alter_partition;
mod cleaner;
mod follower;
mod groups;
mod leader;
mod lifecycle;
mod producer_ids;
mod producers;
mod replica;
mod requests;
mod storage;
#[cfg(test)]
mod tests;
mod txn;

use crate::kafka::group::coordinator::GroupCoordinator;
use crate::kafka::group::txn_offsets::TxnOffsets;
use crate::kafka::txn::coordinator::{Settings as TxnSettings, TransactionCoordinator};
use alter_partition::AlterPartitionManager;
pub use groups::{LogBounds, OffsetsReset};
use producer_ids::ProducerIdPool;
use producers::ProducerStates;
pub use replica::{FollowerState, LeaderState, Replica, Role};
use txn::{MarkerChannel, Verifying};

use super::addr::Addresses;
use super::keys::RecordKeys;
use super::log::PartitionLog;
use super::protocol::{BrokerId, ClusterMetadata, Message, PartitionState, ResponseBody};
use super::record::{RecordId, Tp};
use crate::scenario::{BrokerConfig, TopicConfig};
use crate::sim::{NodeId, Out, RngTree, SimTime};
use crate::trace::Event;
use follower::Fetcher;
use lifecycle::Lifecycle;
use requests::{Conn, DelayedProduce, ParkedFetch};
use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

type O = Out<Message, Event>;

/// Whether the broker process runs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Life {
    Up,
    /// Controlled shutdown asked for: waiting for the controller to move leaderships.
    ShuttingDown,
    Down,
}

/// A broker's state. Logs survive a crash; everything else is rebuilt on restart.
pub struct Broker {
    id: BrokerId,
    addr: Addresses,
    config: BrokerConfig,
    topics: Vec<TopicConfig>,
    /// Some topic sets a `flush.ms` that can come due (the default, `Long.MAX_VALUE`, never
    /// does): only then do timers look at each replica's unflushed data.
    flushes_by_time: bool,
    /// Some topic is compacted: only then does the log cleaner look at the replicas.
    compacted_topics: bool,
    /// Every record's key, for validation and the log cleaner (shared by all nodes).
    keys: Arc<RecordKeys>,
    replicas: BTreeMap<Tp, Replica>,
    metadata: Option<Arc<ClusterMetadata>>,
    conns: BTreeMap<NodeId, Conn>,
    produces: Vec<DelayedProduce>,
    fetches: Vec<ParkedFetch>,
    fetchers: BTreeMap<BrokerId, Fetcher>,
    next_correlation: u32,
    alter_partition: AlterPartitionManager,
    lifecycle: Lifecycle,
    next_isr_check: SimTime,
    next_checkpoint: SimTime,
    /// When the next retention check runs (`log.retention.check.interval.ms`).
    next_retention_check: SimTime,
    /// When the log cleaner looks for a log to clean next (`log.cleaner.backoff.ms`).
    next_cleaning: SimTime,
    producer_ids: ProducerIdPool,
    /// Index of `__consumer_offsets` among the topics, when some consumer has a group.
    offsets_topic: Option<u32>,
    groups: GroupCoordinator,
    /// Offsets committed in transactions, waiting for their markers.
    txn_offsets: TxnOffsets,
    /// Index of `__transaction_state` among the topics, when some producer is transactional.
    txn_topic: Option<u32>,
    txn_coordinator: TransactionCoordinator,
    /// Markers the coordinator has still to write.
    markers: MarkerChannel,
    /// Produces waiting for the coordinator's verification of their transactional batches.
    verifying: Vec<Verifying>,
    /// Partitions whose transactional batch of (producer id, epoch) the coordinator vouched for
    /// (`VerificationGuard`): the append that starts the transaction there uses it up.
    verified: BTreeSet<(Tp, u64, u16)>,
    /// The transaction request being handled, and whether it was answered yet.
    handling: Option<(crate::kafka::txn::coordinator::Reply, bool)>,
    /// Verifications this broker asks of its own coordinator, at its next wake.
    local_asks: Vec<(crate::kafka::txn::messages::AddPartitions, u32)>,
    life: Life,
}

/// Where the broker's internal topics are and how its transaction coordinator is set up.
#[derive(Clone, Copy, Debug)]
pub struct Internal {
    /// Index of `__consumer_offsets`, when some consumer has a group.
    pub offsets_topic: Option<u32>,
    /// Index of `__transaction_state`, when some producer has a `transactional.id`.
    pub txn_topic: Option<u32>,
    /// The transaction coordinator's settings.
    pub txn: TxnSettings,
}

impl Broker {
    /// Broker `id` hosting the replicas that `metadata` assigns to it, in the roles it gives; its
    /// random streams fork from `rng`. `keys` is the run's shared key table (validation and the
    /// log cleaner read it).
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        id: BrokerId,
        addr: Addresses,
        config: BrokerConfig,
        topics: Vec<TopicConfig>,
        keys: Arc<RecordKeys>,
        internal: Internal,
        metadata: Arc<ClusterMetadata>,
        rng: RngTree,
    ) -> Broker {
        let coordinator = config.coordinator;
        let lifecycle = Lifecycle::new(
            config.heartbeat_interval,
            config.session_timeout,
            rng.fork(&format!("broker-{id}/lifecycle")),
        );
        let mut replicas = BTreeMap::new();
        for (tp, state) in partitions(&metadata) {
            if state.replicas.contains(&id) {
                replicas.insert(tp, Replica::new(topics[tp.topic as usize].log));
            }
        }
        let flushes_by_time = topics
            .iter()
            .any(|t| SimTime::ZERO + t.flush_interval != SimTime::NEVER);
        let compacted_topics = topics.iter().any(|t| t.cleanup_policy.compact);
        let mut broker = Broker {
            id,
            addr,
            config,
            topics,
            flushes_by_time,
            compacted_topics,
            keys,
            replicas,
            metadata: None,
            conns: BTreeMap::new(),
            produces: Vec::new(),
            fetches: Vec::new(),
            fetchers: BTreeMap::new(),
            next_correlation: 0,
            alter_partition: AlterPartitionManager::default(),
            lifecycle,
            next_isr_check: SimTime::ZERO,
            next_checkpoint: SimTime::ZERO,
            next_retention_check: SimTime::ZERO,
            next_cleaning: SimTime::ZERO,
            producer_ids: ProducerIdPool::default(),
            offsets_topic: internal.offsets_topic,
            groups: GroupCoordinator::new(coordinator, rng.fork(&format!("broker-{id}/coordinator"))),
            txn_offsets: TxnOffsets::default(),
            txn_topic: internal.txn_topic,
            txn_coordinator: TransactionCoordinator::new(internal.txn),
            markers: MarkerChannel::default(),
            verifying: Vec::new(),
            verified: BTreeSet::new(),
            local_asks: Vec::new(),
            handling: None,
            life: Life::Up,
        };
        broker.apply_metadata(SimTime::ZERO, metadata, &[], &mut Out::new(false));
        broker
    }

    /// The broker id.
    pub fn id(&self) -> BrokerId {
        self.id
    }

    /// True unless crashed or stopped.
    pub fn is_up(&self) -> bool {
        self.life != Life::Down
    }

    /// The replicas this broker hosts.
    pub fn replicas(&self) -> &BTreeMap<Tp, Replica> {
        &self.replicas
    }

    /// The log of one hosted replica.
    pub fn log(&self, tp: Tp) -> Option<&PartitionLog> {
        self.replicas.get(&tp).map(|r| &r.log)
    }

    fn topic(&self, tp: Tp) -> &TopicConfig {
        &self.topics[tp.topic as usize]
    }

    /// Starts the timers.
    pub fn on_start(&mut self, now: SimTime, out: &mut O) {
        self.lifecycle.start(now);
        self.heartbeat(now, out);
        self.next_isr_check = now + half(self.config.replica_lag_time_max);
        self.next_checkpoint = now + self.config.hw_checkpoint_interval;
        self.next_retention_check = now + storage::INITIAL_TASK_DELAY;
        // The cleaner thread starts with the broker and looks at once.
        self.next_cleaning = now;
        self.run_cleaner(now, out);
        self.run_fetchers(now, out);
        self.schedule(now, out);
    }

    /// The process dies: metadata, connections, purgatory and fetchers are gone; the logs stay,
    /// except what was not flushed when `power_loss` (reported as a truncation, so that a
    /// record's history says where its copy went).
    pub fn crash(&mut self, power_loss: bool, out: &mut O) {
        self.life = Life::Down;
        self.metadata = None;
        self.conns.clear();
        self.produces.clear();
        self.fetches.clear();
        self.fetchers.clear();
        self.alter_partition.reset();
        self.producer_ids = ProducerIdPool::default();
        self.groups.reset();
        self.txn_offsets = TxnOffsets::default();
        self.txn_coordinator.reset();
        self.markers = MarkerChannel::default();
        self.verifying.clear();
        self.verified.clear();
        self.local_asks.clear();
        for (tp, r) in &mut self.replicas {
            r.role = Role::Follower { leader: None };
            let lost = r.log.recover(power_loss);
            r.unflushed_messages = 0;
            if !lost.is_empty() {
                let records: Arc<[RecordId]> = lost.iter().flat_map(|b| b.records.iter().copied()).collect();
                out.emit(Event::Truncated {
                    tp: *tp,
                    to: r.log.log_end_offset(),
                    records,
                    why: "power loss: what was not flushed",
                    log_bytes: r.log.size_bytes(),
                });
            }
        }
    }

    /// The process starts again: logs recovered, replicas follow until the controller says
    /// otherwise, registration by heartbeat.
    pub fn restart(&mut self, now: SimTime, out: &mut O) {
        self.life = Life::Up;
        for r in self.replicas.values_mut() {
            r.last_flush = now;
        }
        self.on_start(now, out);
    }

    /// Controlled shutdown: ask the controller to move leaderships away first.
    pub fn begin_shutdown(&mut self, out: &mut O) {
        if self.life == Life::Up {
            self.life = Life::ShuttingDown;
            out.send(
                self.addr.controller(),
                Message::ShutdownRequest { broker: self.id },
            );
        }
    }

    /// The controller moved everything away: flush, checkpoint, stop.
    fn finish_shutdown(&mut self, out: &mut O) {
        for r in self.replicas.values_mut() {
            r.log.flush();
            r.log.checkpoint_high_watermark();
        }
        self.crash(false, out);
    }

    /// Sends a heartbeat if one is due ([`lifecycle`]).
    fn heartbeat(&mut self, now: SimTime, out: &mut O) {
        let Some(correlation) = self.lifecycle.due(now) else {
            return;
        };
        let metadata_version = self.metadata.as_ref().map_or(0, |m| m.version);
        out.send(
            self.addr.controller(),
            Message::Heartbeat {
                broker: self.id,
                correlation,
                metadata_version,
            },
        );
    }

    /// A connection closed: its queued and waiting requests are dropped, and a fetch in flight
    /// to that leader fails; the fetcher backs off `replica.fetch.backoff.ms`, as
    /// `AbstractFetcherThread` does after a failed fetch.
    pub fn on_disconnect(&mut self, now: SimTime, peer: NodeId, out: &mut O) {
        self.conns.remove(&peer);
        // A coordinator's own record write is not the client's: it completes either way.
        self.produces
            .retain(|p| p.client != peer || matches!(p.then, requests::Then::TxnState { .. }));
        self.txn_on_disconnect(now, peer, out);
        self.fetches.retain(|f| f.client != peer);
        if let Some(f) = self.addr.broker_of(peer).and_then(|b| self.fetchers.get_mut(&b))
            && f.in_flight.take().is_some()
        {
            f.backoff_until = now + self.config.replica_fetch_backoff;
            out.wake_at(f.backoff_until);
        }
    }

    /// Timers: heartbeats, ISR checks, HW checkpoints, flushes, retention checks, the log
    /// cleaner, purgatory deadlines, fetchers.
    pub fn on_wake(&mut self, now: SimTime, out: &mut O) {
        self.heartbeat(now, out);
        if now >= self.next_checkpoint {
            for r in self.replicas.values_mut() {
                r.log.checkpoint_high_watermark();
            }
            self.next_checkpoint = now + self.config.hw_checkpoint_interval;
        }
        self.flush_by_time(now);
        self.check_retention(now, out);
        self.run_cleaner(now, out);
        if now >= self.next_isr_check {
            self.shrink_isrs(now, out);
            self.next_isr_check = now + half(self.config.replica_lag_time_max);
        }
        self.expire_delayed(now, out);
        self.groups.on_wake(now, out);
        self.expire_offsets(now, out);
        self.txn_on_wake(now, out);
        self.run_fetchers(now, out);
        self.schedule(now, out);
    }

    /// The group coordinator of this broker.
    pub fn coordinator(&self) -> &GroupCoordinator {
        &self.groups
    }

    fn schedule(&self, now: SimTime, out: &mut O) {
        out.wake_at(self.lifecycle.next_wake());
        out.wake_at(self.next_checkpoint);
        out.wake_at(self.next_isr_check);
        out.wake_at(self.next_retention_check);
        if self.cleaner_runs() {
            out.wake_at(self.next_cleaning);
        }
        if self.flushes_by_time {
            for (tp, r) in &self.replicas {
                if r.unflushed_messages > 0 {
                    out.wake_at(r.last_flush + self.topic(*tp).flush_interval);
                }
            }
        }
        for p in &self.produces {
            out.wake_at(p.deadline);
        }
        for f in &self.fetches {
            out.wake_at(f.deadline);
        }
        for f in self.fetchers.values() {
            out.wake_at(f.next_action().max(now));
        }
        if let Some(t) = self.groups.next_deadline() {
            out.wake_at(t.max(now));
        }
        for t in self.txn_deadlines() {
            out.wake_at(t.max(now));
        }
    }

    /// The transaction coordinator of this broker.
    pub fn txn_coordinator(&self) -> &TransactionCoordinator {
        &self.txn_coordinator
    }

    /// A message from a client, a broker or the controller.
    pub fn on_message(&mut self, now: SimTime, from: NodeId, msg: Message, out: &mut O) {
        match msg {
            // A broker that has not caught up with the metadata log does not listen yet
            // (KRaft `BrokerServer` enables request processing only after catching up).
            Message::Connect if self.metadata.is_none() => out.send(from, Message::ConnectRefused),
            Message::Connect => out.send(from, Message::ConnectOk),
            Message::MetadataUpdate { image, changed } => {
                if self.metadata.as_ref().is_none_or(|m| image.version > m.version) {
                    self.apply_metadata(now, image, &changed, out);
                }
            }
            Message::Request { correlation, body } => self.on_request(now, from, correlation, body, out),
            Message::Response {
                correlation,
                body: body @ ResponseBody::Txn(_),
            } => self.on_txn_response(now, from, correlation, body, out),
            Message::Response { correlation, body } => {
                self.on_fetch_response(now, from, correlation, body, out)
            }
            Message::AlterPartitionResponse {
                correlation,
                partitions,
            } => self.on_alter_partition(now, correlation, partitions, out),
            Message::ShutdownAllowed => {
                if self.life == Life::ShuttingDown {
                    self.finish_shutdown(out);
                    return;
                }
            }
            Message::ProducerIdBlock { first, size } => self.producer_ids.on_block(first, size),
            Message::HeartbeatResponse { correlation, result } => {
                self.lifecycle.on_response(now, correlation, result)
            }
            Message::ConnectOk
            | Message::ConnectRefused
            | Message::Heartbeat { .. }
            | Message::AlterPartition { .. }
            | Message::ShutdownRequest { .. }
            | Message::AllocateProducerIds { .. } => {}
        }
        self.run_fetchers(now, out);
        self.schedule(now, out);
    }

    /// Takes the controller's metadata: every hosted replica of a partition that `changed`
    /// becomes leader or follower of its partition's current leader epoch
    /// (`Partition.makeLeader` / `makeFollower`). As `ReplicaManager.applyDelta` does with
    /// `TopicsDelta.localChanges`, only the partitions the new version changed are touched, so a
    /// version costs what it changed, not the size of the cluster; a broker that missed versions
    /// (just started or restarted) takes every partition of the image, as after loading a
    /// snapshot.
    fn apply_metadata(&mut self, now: SimTime, md: Arc<ClusterMetadata>, changed: &[Tp], out: &mut O) {
        let next = self
            .metadata
            .as_ref()
            .is_some_and(|m| m.version + 1 == md.version);
        let mut delta = MetadataDelta::default();
        if next {
            for tp in changed {
                if let Some(state) = md.partition(*tp) {
                    self.apply_partition(now, *tp, state, false, &mut delta);
                }
            }
        } else {
            let fresh = self.metadata.is_none();
            for (tp, state) in partitions(&md) {
                self.apply_partition(now, tp, state, fresh, &mut delta);
            }
        }
        self.metadata = Some(md);
        let mut roles = delta.became_leader.iter().chain(&delta.became_follower);
        let offsets_moved = roles.clone().any(|tp| Some(tp.topic) == self.offsets_topic);
        let txns_moved = roles.any(|tp| Some(tp.topic) == self.txn_topic);
        for tp in delta.became_follower {
            self.become_follower(now, tp, out);
        }
        if offsets_moved {
            self.refresh_groups(now, &delta.became_leader, out);
        }
        for tp in delta.became_leader.into_iter().chain(delta.changed_leading) {
            self.maybe_advance_hw(now, tp, out);
        }
        if txns_moved {
            self.refresh_txns(now, out);
        }
        // Partitions may have new leaders for the markers waiting for one.
        self.send_markers(now, out);
    }

    /// One partition of a new metadata version; `fresh`: the broker had no metadata before.
    fn apply_partition(
        &mut self,
        now: SimTime,
        tp: Tp,
        state: &PartitionState,
        fresh: bool,
        delta: &mut MetadataDelta,
    ) {
        if state.replicas.contains(&self.id) && !self.replicas.contains_key(&tp) {
            // A partition added to the topic (`CreatePartitions`): an empty log here.
            self.replicas.insert(tp, Replica::new(self.topic(tp).log));
        }
        let Some(replica) = self.replicas.get_mut(&tp) else {
            return;
        };
        let was_leader = replica.leading().is_some();
        let followed_before = replica.followed();
        let new_epoch = state.leader_epoch != replica.leader_epoch || fresh;
        if state.leader == Some(self.id) {
            if !was_leader || new_epoch {
                replica.log.start_epoch(state.leader_epoch);
                replica.producers = ProducerStates::from_log(&replica.log);
                replica.role = Role::Leader(new_leader_state(self.id, state, was_leader, replica, now));
                delta.became_leader.push(tp);
            } else if let Some(l) = replica.leading_mut() {
                l.isr = state.isr.clone();
                l.partition_epoch = state.partition_epoch;
                if l.pending_isr.as_ref() == Some(&state.isr) {
                    l.pending_isr = None;
                }
                delta.changed_leading.push(tp);
            }
        } else {
            let follows = matches!(replica.role, Role::Follower { leader } if leader == state.leader);
            if !follows || new_epoch {
                replica.role = Role::Follower { leader: state.leader };
                delta.became_follower.push(tp);
            }
        }
        replica.leader_epoch = state.leader_epoch;
        let followed = replica.followed();
        if followed != followed_before {
            self.refetch(tp, followed_before, followed);
        }
    }
}

/// What one metadata version did to this broker's replicas (`LocalReplicaChanges`).
#[derive(Default)]
struct MetadataDelta {
    /// Leaders of a new leader epoch.
    became_leader: Vec<Tp>,
    /// Still leading, with a new ISR or partition epoch.
    changed_leading: Vec<Tp>,
    /// Now following another leader, or none.
    became_follower: Vec<Tp>,
}

/// The leader state of a new leader epoch: followers in the ISR count as caught up now, the
/// others not at all; their log ends are unknown unless this broker led before
/// (`Partition.makeLeader`, `resetReplicaState`).
fn new_leader_state(
    me: BrokerId,
    state: &PartitionState,
    was_leader: bool,
    replica: &Replica,
    now: SimTime,
) -> LeaderState {
    let followers = state
        .replicas
        .iter()
        .filter(|b| **b != me)
        .map(|b| {
            let previous = replica
                .leading()
                .and_then(|l| l.followers.get(b))
                .filter(|_| was_leader);
            let fs = FollowerState {
                log_end: previous.and_then(|p| p.log_end),
                last_caught_up: if state.isr.contains(b) { now } else { SimTime::ZERO },
                last_fetch_leader_log_end: 0,
                last_fetch_time: SimTime::ZERO,
            };
            (*b, fs)
        })
        .collect();
    LeaderState {
        replicas: state.replicas.clone(),
        isr: state.isr.clone(),
        pending_isr: None,
        partition_epoch: state.partition_epoch,
        followers,
    }
}

/// Every partition of the metadata with its id.
fn partitions(md: &ClusterMetadata) -> impl Iterator<Item = (Tp, &PartitionState)> {
    md.topics.iter().enumerate().flat_map(|(t, ps)| {
        ps.iter().enumerate().map(move |(p, s)| {
            let tp = Tp {
                topic: t as u32,
                partition: p as u32,
            };
            (tp, s)
        })
    })
}

fn half(d: crate::sim::SimDuration) -> crate::sim::SimDuration {
    crate::sim::SimDuration::from_us(d.as_us() / 2)
}

//! A consumer's side of the classic group protocol: find the coordinator, join, run the assignor
//! when it leads, sync, heartbeat, rejoin when the coordinator asks, leave.
//!
//! Followed: `AbstractCoordinator` (join/sync/heartbeat thread) and `ConsumerCoordinator`
//! (`onJoinPrepare`, `onLeaderElected`, `onJoinComplete`, the EAGER and COOPERATIVE protocols)
//! in clients/src/main/java/org/apache/kafka/clients/consumer/internals/, Kafka 4.0, classic
//! protocol.

use crate::kafka::client::metadata::MetadataCache;
use crate::kafka::client::network::NetworkClient;
use crate::kafka::group::assignor::{self, Member, Strategy, TopicPartition};
use crate::kafka::group::messages::{
    GroupRequest, GroupResponse, JoinGroupRequest, JoinGroupResponse, MemberRef, Subscription,
    SyncGroupRequest,
};
use crate::kafka::protocol::{BrokerId, ErrorCode, Message, RequestBody};
use crate::kafka::record::Tp;
use crate::sim::{Out, SimDuration, SimTime};
use crate::trace::Event;
use std::collections::BTreeMap;
use std::sync::Arc;

type O = Out<Message, Event>;

/// Where the member stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Phase {
    /// Needs to find its coordinator.
    FindCoordinator,
    /// Needs to (re)join.
    Join,
    /// `JoinGroup` sent.
    Joining,
    /// `SyncGroup` sent.
    Syncing,
    /// Has its assignment; heartbeats.
    Stable,
    /// Left the group for good (closed).
    Closed,
}

/// What the consumer must do after a membership step.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) enum Change {
    /// A rejoin starts (`onJoinPrepare`): with auto-commit, commit now.
    Prepare,
    /// A rebalance completed (`onJoinComplete`): the auto-commit timer restarts.
    Joined,
    /// Stop fetching these partitions (their records in the buffer are dropped).
    Revoke(Vec<Tp>),
    /// Start on these partitions (positions from the committed offsets).
    Assign(Vec<Tp>),
}

/// The group settings of a consumer.
#[derive(Clone, Debug)]
pub(super) struct GroupSettings {
    /// `group.id`.
    pub group: Arc<str>,
    /// The client id (member ids start with it).
    pub client_id: Arc<str>,
    /// `group.instance.id`.
    pub instance_id: Option<Arc<str>>,
    /// `partition.assignment.strategy`, in order.
    pub strategies: Vec<Strategy>,
    /// `session.timeout.ms`.
    pub session_timeout: SimDuration,
    /// `heartbeat.interval.ms`.
    pub heartbeat_interval: SimDuration,
    /// `max.poll.interval.ms` (the rebalance timeout sent with `JoinGroup`).
    pub max_poll_interval: SimDuration,
    /// `retry.backoff.ms`.
    pub retry_backoff: SimDuration,
    /// Every topic's name, by index (the assignors work on names).
    pub topic_names: Arc<[String]>,
    /// Subscribed topic indexes.
    pub topics: Vec<u32>,
}

/// The membership state machine.
pub(super) struct Membership {
    s: GroupSettings,
    phase: Phase,
    coordinator: Option<BrokerId>,
    /// The join, sync or find request in flight: (broker, correlation).
    request: Option<(BrokerId, u32)>,
    heartbeat: Option<(BrokerId, u32)>,
    member_id: Arc<str>,
    generation: i32,
    owned: Vec<Tp>,
    owned_generation: i32,
    /// The last assignment received: the eager `sticky` assignor's memory of it (its user data).
    last_assignment: Vec<Tp>,
    next_heartbeat: SimTime,
    retry_at: SimTime,
    /// Partition counts the leader assigned from, to rejoin when they change.
    assigned_counts: Option<Vec<u32>>,
    /// Whether this member leads the current generation.
    leader: bool,
    /// The coordinator asked for a rejoin; the application thread does it in its next poll.
    rejoin_needed: bool,
    /// The member left after a poll timeout; its partitions are lost at the next poll.
    lost_pending: bool,
}

impl Membership {
    pub(super) fn new(s: GroupSettings) -> Membership {
        Membership {
            s,
            phase: Phase::FindCoordinator,
            coordinator: None,
            request: None,
            heartbeat: None,
            member_id: Arc::from(""),
            generation: -1,
            owned: Vec::new(),
            owned_generation: -1,
            last_assignment: Vec::new(),
            next_heartbeat: SimTime::NEVER,
            retry_at: SimTime::ZERO,
            assigned_counts: None,
            leader: false,
            rejoin_needed: false,
            lost_pending: false,
        }
    }

    /// COOPERATIVE when every configured assignor supports it (only `cooperative-sticky` does).
    fn cooperative(&self) -> bool {
        self.s
            .strategies
            .iter()
            .all(|s| *s == Strategy::CooperativeSticky)
    }

    /// The group id.
    pub(super) fn group(&self) -> &Arc<str> {
        &self.s.group
    }

    /// The coordinator, once known.
    pub(super) fn coordinator(&self) -> Option<BrokerId> {
        self.coordinator
    }

    /// Member id and generation for commits (outside a stable generation: `None`).
    pub(super) fn member_ref(&self) -> MemberRef {
        MemberRef {
            group: self.s.group.clone(),
            generation: self.generation,
            member_id: self.member_id.clone(),
        }
    }

    /// `ConsumerCoordinator.generationIfStable`: a commit carries a generation only while the
    /// member is in one and not (re)joining; otherwise the client fails it itself
    /// (`CommitFailedException`).
    pub(super) fn can_commit(&self) -> bool {
        self.generation >= 0
            && !self.member_id.is_empty()
            && matches!(self.phase, Phase::Stable | Phase::Join)
    }

    /// True while the member has an assignment from the current generation.
    pub(super) fn is_stable(&self) -> bool {
        self.phase == Phase::Stable
    }

    /// The next time a timer wants a step.
    pub(super) fn next_action(&self) -> Option<SimTime> {
        match self.phase {
            Phase::Stable if self.heartbeat.is_none() => Some(self.next_heartbeat),
            Phase::FindCoordinator | Phase::Join if self.request.is_none() => Some(self.retry_at),
            _ => None,
        }
    }

    /// One step: send what is due. `app_idle`: the application thread is in `poll()`, where
    /// joining happens; otherwise only the heartbeat thread runs. Returns partition changes (an
    /// eager rejoin revokes all); the join itself goes out at a later step, once the commit
    /// `onJoinPrepare` sent is answered (`commit_pending` false): `ConsumerCoordinator.
    /// onJoinPrepare` returns "not ready" while that commit is in flight (KAFKA-13310), so a new
    /// owner never reads offsets older than what the member had consumed.
    pub(super) fn poll(
        &mut self,
        now: SimTime,
        app_idle: bool,
        commit_pending: bool,
        net: &mut NetworkClient,
        metadata: &MetadataCache,
        out: &mut O,
    ) -> Vec<Change> {
        if self.phase == Phase::Stable
            && self.leader
            && self.partition_counts(metadata) != self.assigned_counts
        {
            // `ConsumerCoordinator.rejoinNeededOrPending`: the leader saw the subscribed topics'
            // partition counts change.
            self.assigned_counts = self.partition_counts(metadata);
            out.trace(|| Event::ConsumerRejoins {
                group: self.s.group.clone(),
                why: "the leader saw a subscribed topic's partition count change",
            });
            self.rejoin_needed = true;
        }
        if self.lost_pending && app_idle {
            // `onPartitionsLost`, in the poll() after the member was dropped.
            self.lost_pending = false;
            let all = std::mem::take(&mut self.owned);
            if !all.is_empty() {
                return vec![Change::Revoke(all)];
            }
        }
        if self.rejoin_needed && app_idle && self.phase == Phase::Stable {
            self.rejoin_needed = false;
            return self.prepare_join();
        }
        if now < self.retry_at || self.request.is_some() {
            return Vec::new();
        }
        if !app_idle && self.phase != Phase::Stable {
            return Vec::new();
        }
        let lost = self.coordinator.is_none() && self.phase == Phase::Stable;
        match self.phase {
            Phase::FindCoordinator | Phase::Stable if lost || self.phase == Phase::FindCoordinator => {
                if let Some(b) = net.least_loaded(&metadata.candidates(), now, out) {
                    let body = GroupRequest::FindCoordinator(self.s.group.clone());
                    let c = net.send(b, RequestBody::Group(body), true, now, out);
                    self.request = Some((b, c));
                }
            }
            Phase::Join if !commit_pending => self.send_join(now, net, out),
            Phase::Stable if now >= self.next_heartbeat && self.heartbeat.is_none() => {
                if let Some(b) = self.coordinator.filter(|b| net.is_ready(*b, usize::MAX)) {
                    let body = GroupRequest::Heartbeat(self.member_ref());
                    let c = net.send(b, RequestBody::Group(body), true, now, out);
                    self.heartbeat = Some((b, c));
                } else if let Some(b) = self.coordinator {
                    net.ensure_connecting(b, now, out);
                }
            }
            _ => {}
        }
        Vec::new()
    }

    fn send_join(&mut self, now: SimTime, net: &mut NetworkClient, out: &mut O) {
        let Some(b) = self.coordinator else {
            self.phase = Phase::FindCoordinator;
            return;
        };
        if !net.is_ready(b, usize::MAX) {
            net.ensure_connecting(b, now, out);
            return;
        }
        let req = JoinGroupRequest {
            group: self.s.group.clone(),
            client_id: self.s.client_id.clone(),
            member_id: self.member_id.clone(),
            instance_id: self.s.instance_id.clone(),
            session_timeout_ms: self.s.session_timeout.as_ms(),
            rebalance_timeout_ms: self.s.max_poll_interval.as_ms(),
            protocols: self.s.strategies.iter().map(|s| Arc::from(s.name())).collect(),
            subscription: Subscription {
                topics: self.s.topics.clone(),
                // COOPERATIVE reports what it still owns; under EAGER nothing is owned any more,
                // but `StickyAssignor` sends its previous assignment in its user data.
                owned: if self.cooperative() {
                    self.owned.clone()
                } else {
                    self.last_assignment.clone()
                },
                generation: self.owned_generation,
                // ConsumerCoordinator.metadata: `generation().generationId`.
                generation_id: self.generation,
            },
        };
        // The coordinator may hold a JoinGroup for the whole rebalance timeout.
        let timeout = self.s.max_poll_interval + SimDuration::from_ms(5000);
        let c = net.send_with_timeout(
            b,
            RequestBody::Group(GroupRequest::JoinGroup(req)),
            timeout,
            now,
            out,
        );
        self.request = Some((b, c));
        self.phase = Phase::Joining;
    }

    /// `onJoinPrepare`: EAGER gives up every partition before rejoining; COOPERATIVE keeps them.
    fn prepare_join(&mut self) -> Vec<Change> {
        self.phase = Phase::Join;
        self.heartbeat = None;
        self.leader = false;
        if self.cooperative() || self.owned.is_empty() {
            return vec![Change::Prepare];
        }
        let all = std::mem::take(&mut self.owned);
        vec![Change::Prepare, Change::Revoke(all)]
    }

    /// The application did not poll within `max.poll.interval.ms`: the heartbeat thread leaves
    /// the group (`maybeLeaveGroup`; a static member does not send `LeaveGroup`). The application
    /// learns it in its next poll, which gives up the partitions and rejoins.
    pub(super) fn poll_timeout(&mut self, now: SimTime, net: &mut NetworkClient, out: &mut O) {
        if self.phase != Phase::Stable {
            return;
        }
        out.trace(|| Event::ConsumerRejoins {
            group: self.s.group.clone(),
            why: "poll() not called within max.poll.interval.ms: leaving the group",
        });
        self.leave(now, net, out);
        self.phase = Phase::Join;
        self.lost_pending = true;
    }

    /// Sends `LeaveGroup` (dynamic members) and forgets the member id.
    pub(super) fn leave(&mut self, now: SimTime, net: &mut NetworkClient, out: &mut O) {
        if self.s.instance_id.is_none()
            && !self.member_id.is_empty()
            && let Some(b) = self.coordinator.filter(|b| net.is_ready(*b, usize::MAX))
        {
            let body = GroupRequest::LeaveGroup(self.member_ref());
            net.send(b, RequestBody::Group(body), true, now, out);
        }
        self.member_id = Arc::from("");
        self.generation = -1;
        self.request = None;
        self.heartbeat = None;
    }

    /// `ConsumerCoordinator.onLeavePrepare` (kafka-clients 4.0.1), the first step of leaving for
    /// good (`close()`): every owned partition is given up before `LeaveGroup`.
    /// `AbstractCoordinator.close` calls it for static members too (only `maybeLeaveGroup` skips
    /// them). It calls `onPartitionsLost` without a generation or during a rebalance, else
    /// `onPartitionsRevoked`; either way the partitions are dropped, and kafkasim records both as
    /// revoked, as the conformance agent's listener does.
    pub(super) fn prepare_leave(&mut self) -> Vec<Change> {
        // A member dropped for a poll timeout loses its partitions here, not at a next poll.
        self.lost_pending = false;
        let dropped = std::mem::take(&mut self.owned);
        if dropped.is_empty() {
            return Vec::new();
        }
        vec![Change::Revoke(dropped)]
    }

    /// Leaves for good (`close()`), after [`Membership::prepare_leave`].
    pub(super) fn close(&mut self, now: SimTime, net: &mut NetworkClient, out: &mut O) {
        self.leave(now, net, out);
        self.phase = Phase::Closed;
    }

    /// True if `correlation` from `broker` is one of this member's requests.
    pub(super) fn owns(&self, broker: BrokerId, correlation: u32) -> bool {
        self.request == Some((broker, correlation)) || self.heartbeat == Some((broker, correlation))
    }

    /// A request was lost with its connection.
    pub(super) fn on_lost(&mut self, broker: BrokerId, correlation: u32, now: SimTime) {
        if self.heartbeat == Some((broker, correlation)) {
            self.heartbeat = None;
            self.next_heartbeat = now + self.s.retry_backoff;
        }
        if self.request == Some((broker, correlation)) {
            self.request = None;
            self.coordinator = None;
            self.retry_at = now + self.s.retry_backoff;
            if self.phase != Phase::Closed {
                self.phase = Phase::FindCoordinator;
            }
        }
    }

    /// The connection to `broker` broke: if it was the coordinator, find it again
    /// (`AbstractCoordinator.markCoordinatorUnknown`); the membership stays until the new
    /// coordinator says otherwise.
    pub(super) fn on_disconnect(&mut self, broker: BrokerId, now: SimTime) {
        if self.coordinator == Some(broker) {
            self.heartbeat = None;
            self.coordinator_lost(now);
        }
    }

    fn coordinator_lost(&mut self, now: SimTime) {
        self.coordinator = None;
        self.retry_at = now + self.s.retry_backoff;
        if matches!(self.phase, Phase::Joining | Phase::Syncing | Phase::Join) {
            self.phase = Phase::FindCoordinator;
        }
    }

    /// A group response.
    pub(super) fn on_response(
        &mut self,
        now: SimTime,
        (broker, correlation): (BrokerId, u32),
        resp: GroupResponse,
        net: &mut NetworkClient,
        metadata: &MetadataCache,
        out: &mut O,
    ) -> Vec<Change> {
        let mut changes = Vec::new();
        if self.heartbeat == Some((broker, correlation)) {
            self.heartbeat = None;
            self.next_heartbeat = now + self.s.heartbeat_interval;
            if let GroupResponse::Heartbeat(Err(e)) = resp {
                changes.extend(self.on_member_error(now, e, out));
            }
            return changes;
        }
        if self.request != Some((broker, correlation)) {
            return changes;
        }
        self.request = None;
        match resp {
            GroupResponse::FindCoordinator(Ok(b)) => {
                self.coordinator = Some(b);
                if self.phase == Phase::FindCoordinator {
                    self.phase = Phase::Join;
                }
                self.next_heartbeat = now;
                out.trace(|| Event::CoordinatorFound {
                    group: self.s.group.clone(),
                    broker: b,
                });
            }
            GroupResponse::FindCoordinator(Err(_)) => self.retry_at = now + self.s.retry_backoff,
            GroupResponse::JoinGroup(Ok(j)) => self.on_joined(now, j, net, metadata, out),
            GroupResponse::JoinGroup(Err(e)) => match e.error {
                ErrorCode::MemberIdRequired => {
                    self.member_id = e.member_id.unwrap_or_else(|| Arc::from(""));
                    self.phase = Phase::Join;
                }
                ErrorCode::NotCoordinator | ErrorCode::CoordinatorNotAvailable => self.coordinator_lost(now),
                ErrorCode::UnknownMemberId => {
                    self.member_id = Arc::from("");
                    self.phase = Phase::Join;
                }
                _ => {
                    self.phase = Phase::Join;
                    self.retry_at = now + self.s.retry_backoff;
                }
            },
            GroupResponse::SyncGroup(Ok(parts)) => changes.extend(self.on_synced(now, parts, metadata, out)),
            GroupResponse::SyncGroup(Err(e)) => changes.extend(self.on_member_error(now, e, out)),
            _ => {}
        }
        changes
    }

    /// `REBALANCE_IN_PROGRESS`, `ILLEGAL_GENERATION`, `UNKNOWN_MEMBER_ID`, `NOT_COORDINATOR`
    /// from a heartbeat or a sync.
    fn on_member_error(&mut self, now: SimTime, e: ErrorCode, out: &mut O) -> Vec<Change> {
        match e {
            ErrorCode::NotCoordinator | ErrorCode::CoordinatorNotAvailable => {
                self.coordinator_lost(now);
                if self.phase == Phase::Stable {
                    self.phase = Phase::FindCoordinator;
                    self.retry_at = now + self.s.retry_backoff;
                }
                Vec::new()
            }
            ErrorCode::UnknownMemberId | ErrorCode::IllegalGeneration | ErrorCode::RebalanceInProgress => {
                if e != ErrorCode::RebalanceInProgress {
                    self.member_id = Arc::from("");
                    self.generation = -1;
                }
                let why = match e {
                    ErrorCode::RebalanceInProgress => "the coordinator answered REBALANCE_IN_PROGRESS",
                    ErrorCode::IllegalGeneration => "the coordinator answered ILLEGAL_GENERATION",
                    _ => "the coordinator answered UNKNOWN_MEMBER_ID",
                };
                if !self.rejoin_needed {
                    out.trace(|| Event::ConsumerRejoins {
                        group: self.s.group.clone(),
                        why,
                    });
                }
                if self.phase == Phase::Stable {
                    self.rejoin_needed = true;
                    Vec::new()
                } else {
                    self.prepare_join()
                }
            }
            _ => Vec::new(),
        }
    }

    fn partition_counts(&self, metadata: &MetadataCache) -> Option<Vec<u32>> {
        let md = metadata.current();
        Some(self.s.topics.iter().map(|t| md.partition_count(*t)).collect())
    }

    /// `JoinGroup` answered: the leader runs the assignor; everyone syncs.
    fn on_joined(
        &mut self,
        now: SimTime,
        j: JoinGroupResponse,
        net: &mut NetworkClient,
        metadata: &MetadataCache,
        out: &mut O,
    ) {
        self.member_id = j.member_id.clone();
        self.generation = j.generation;
        self.leader = j.leader == j.member_id;
        // `ConsumerCoordinator.onLeaderElected`: a static leader that rejoined a Stable group is
        // told to skip the assignment (KIP-814); it only watches the metadata again.
        let assignments = if self.leader {
            self.assigned_counts = self.partition_counts(metadata);
            if j.skip_assignment {
                Vec::new()
            } else {
                self.run_assignor(&j, metadata)
            }
        } else {
            Vec::new()
        };
        let Some(b) = self.coordinator else {
            self.phase = Phase::FindCoordinator;
            return;
        };
        let req = SyncGroupRequest {
            group: self.s.group.clone(),
            generation: j.generation,
            member_id: j.member_id,
            assignments,
        };
        let c = net.send(
            b,
            RequestBody::Group(GroupRequest::SyncGroup(req)),
            true,
            now,
            out,
        );
        self.request = Some((b, c));
        self.phase = Phase::Syncing;
    }

    /// `ConsumerCoordinator.onLeaderElected`: the chosen assignor over every member's
    /// subscription and the partition counts this member's metadata knows.
    fn run_assignor(&self, j: &JoinGroupResponse, metadata: &MetadataCache) -> Vec<(Arc<str>, Vec<Tp>)> {
        let strategy: Strategy = j.protocol.parse().unwrap_or(Strategy::Range);
        let names = &self.s.topic_names;
        let md = metadata.current();
        let mut counts: BTreeMap<String, u32> = BTreeMap::new();
        let members: Vec<Member> = j
            .members
            .iter()
            .map(|m| {
                for t in &m.subscription.topics {
                    counts.insert(names[*t as usize].clone(), md.partition_count(*t));
                }
                Member {
                    member_id: m.member_id.to_string(),
                    group_instance_id: m.instance_id.as_deref().map(str::to_string),
                    topics: m
                        .subscription
                        .topics
                        .iter()
                        .map(|t| names[*t as usize].clone())
                        .collect(),
                    owned_partitions: m
                        .subscription
                        .owned
                        .iter()
                        .map(|tp| TopicPartition::new(&names[tp.topic as usize], tp.partition))
                        .collect(),
                    generation: (m.subscription.generation >= 0).then_some(m.subscription.generation),
                    subscription_generation: (m.subscription.generation_id >= 0)
                        .then_some(m.subscription.generation_id),
                }
            })
            .collect();
        let index: BTreeMap<&str, u32> = names
            .iter()
            .enumerate()
            .map(|(i, n)| (n.as_str(), i as u32))
            .collect();
        assignor::assign(strategy, &counts, &members)
            .members
            .into_iter()
            .map(|m| {
                let parts = m
                    .partitions
                    .iter()
                    .filter_map(|tp| {
                        Some(Tp {
                            topic: *index.get(tp.topic.as_str())?,
                            partition: tp.partition,
                        })
                    })
                    .collect();
                (Arc::from(m.member_id), parts)
            })
            .collect()
    }

    /// `onJoinComplete`: the new assignment. COOPERATIVE revokes what it lost and, if it lost
    /// anything, rejoins at once so the next generation can hand those partitions on.
    ///
    /// The revocation commits nothing (`ConsumerCoordinator.onJoinComplete`, kafka-clients
    /// 4.0.1, calls only the listener's `onPartitionsRevoked`; the auto-commit of the next
    /// `onJoinPrepare` no longer includes them): the new owner starts from the commit sent when
    /// this rebalance began, and processes again what was polled since.
    fn on_synced(
        &mut self,
        now: SimTime,
        parts: Vec<Tp>,
        metadata: &MetadataCache,
        out: &mut O,
    ) -> Vec<Change> {
        let mut changes = vec![Change::Joined];
        let revoked: Vec<Tp> = self
            .owned
            .iter()
            .filter(|tp| !parts.contains(tp))
            .copied()
            .collect();
        let added: Vec<Tp> = parts
            .iter()
            .filter(|tp| !self.owned.contains(tp))
            .copied()
            .collect();
        if !revoked.is_empty() {
            changes.push(Change::Revoke(revoked.clone()));
        }
        if !added.is_empty() {
            changes.push(Change::Assign(added));
        }
        self.last_assignment.clone_from(&parts);
        self.owned = parts;
        self.owned_generation = self.generation;
        self.phase = Phase::Stable;
        self.next_heartbeat = now + self.s.heartbeat_interval;
        if self.leader {
            self.assigned_counts = self.partition_counts(metadata);
        }
        if self.cooperative() && !revoked.is_empty() {
            // `requestRejoin`: the next poll() rejoins through `onJoinPrepare` (and its
            // auto-commit), like any other rejoin.
            out.trace(|| Event::ConsumerRejoins {
                group: self.s.group.clone(),
                why: "cooperative: partitions were revoked, rejoin so that they can be reassigned",
            });
            self.rejoin_needed = true;
        }
        changes
    }
}

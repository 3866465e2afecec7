//! The broker side of the classic consumer group protocol: one coordinator per broker, for the
//! groups whose `__consumer_offsets` partition that broker leads. The group state machine (Empty,
//! PreparingRebalance, CompletingRebalance, Stable, Dead), members and their session deadlines,
//! the join and sync barriers, and committed offsets.
//!
//! Followed: `GroupMetadataManager` and `ClassicGroup` (the classic protocol in
//! group-coordinator/src/main/java/org/apache/kafka/coordinator/group/, Kafka 4.0; the same rules
//! as the Scala `GroupCoordinator` of 2.x/3.x). In particular:
//! - an initial rebalance (of an empty group) waits `group.initial.rebalance.delay.ms` whatever
//!   the rebalance timeout, and only its extensions for late joiners are bounded, by the
//!   rebalance timeout minus that delay (`prepareRebalance`,
//!   `tryCompleteInitialRebalanceElseSchedule`);
//! - at the end of a join phase only *dynamic* members that did not rejoin are removed
//!   (`completeClassicGroupJoin`, `notYetRejoinedDynamicMembers`): a late static member stays in
//!   the new generation with its old subscription (KIP-345), and a leader that did not rejoin
//!   hands over to the first rejoined member in the members map's order
//!   (`ClassicGroup.maybeElectNewJoinedLeader`, a Java `HashMap`);
//! - every member of a new generation must send `SyncGroup` within the rebalance timeout, in
//!   CompletingRebalance or Stable, or it is removed and the group rebalances
//!   (`expirePendingSync`).

use super::assignor::java::{JavaHashSet, string_hash};
use super::messages::{
    GroupResponse, JoinGroupError, JoinGroupRequest, JoinGroupResponse, JoinedMember, MemberRef,
    OffsetCommitRequest, Subscription, SyncGroupRequest,
};
use crate::kafka::protocol::{ErrorCode, Message, ResponseBody};
use crate::kafka::record::Tp;
use crate::sim::{NodeId, Out, SimDuration, SimRng, SimTime};
use crate::trace::Event;
use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::sync::Arc;

type O = Out<Message, Event>;

/// The coordinator's broker configs.
#[derive(Clone, Copy, Debug)]
pub struct CoordinatorConfig {
    /// `group.initial.rebalance.delay.ms`.
    pub initial_rebalance_delay: SimDuration,
    /// `group.min.session.timeout.ms`.
    pub min_session_timeout: SimDuration,
    /// `group.max.session.timeout.ms`.
    pub max_session_timeout: SimDuration,
    /// `offsets.retention.minutes`.
    pub offsets_retention: SimDuration,
    /// `offsets.retention.check.interval.ms`.
    pub offsets_retention_check_interval: SimDuration,
}

/// A group's state (`ClassicGroupState`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum GroupState {
    /// No members; committed offsets may remain.
    Empty,
    /// Collecting `JoinGroup`s.
    PreparingRebalance,
    /// Waiting for the leader's `SyncGroup`.
    CompletingRebalance,
    /// Every member has its assignment.
    Stable,
    /// Gone (its coordinator moved).
    Dead,
}

impl fmt::Display for GroupState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            GroupState::Empty => "Empty",
            GroupState::PreparingRebalance => "PreparingRebalance",
            GroupState::CompletingRebalance => "CompletingRebalance",
            GroupState::Stable => "Stable",
            GroupState::Dead => "Dead",
        })
    }
}

/// A request waiting for the join or sync barrier.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Parked {
    client: NodeId,
    correlation: u32,
}

#[derive(Clone, Debug)]
struct Member {
    client: NodeId,
    instance_id: Option<Arc<str>>,
    session_timeout: SimDuration,
    rebalance_timeout: SimDuration,
    protocols: Vec<Arc<str>>,
    subscription: Subscription,
    awaiting_join: Option<Parked>,
    awaiting_sync: Option<Parked>,
    assignment: Vec<Tp>,
    deadline: SimTime,
}

/// The timer of an initial rebalance (`tryCompleteInitialRebalanceElseSchedule(delayMs,
/// remainingMs)`).
#[derive(Clone, Copy, Debug)]
struct InitialDelay {
    /// When the timer fires.
    until: SimTime,
    /// The delay it was set with.
    delay: SimDuration,
    /// What is left for extensions.
    remaining: SimDuration,
}

/// One group.
#[derive(Clone, Debug)]
pub struct Group {
    state: GroupState,
    generation: i32,
    protocol: Option<Arc<str>>,
    leader: Option<Arc<str>>,
    members: BTreeMap<Arc<str>, Member>,
    /// The member ids in the iteration order of `ClassicGroup.members`, a Java `HashMap`: who
    /// leads when the leader leaves or does not rejoin.
    order: JavaHashSet<Arc<str>>,
    /// Static members: instance id → member id.
    instances: BTreeMap<Arc<str>, Arc<str>>,
    /// When the join phase of a rebalance that is not initial ends at the latest.
    join_deadline: SimTime,
    /// The timer of an initial rebalance, the only way one ends.
    initial: Option<InitialDelay>,
    /// A new member joined during the initial rebalance (`ClassicGroup.newMemberAdded`).
    new_member_added: bool,
    /// Member ids of the generation that have not sent `SyncGroup` (`pendingSyncMembers`).
    pending_sync: BTreeSet<Arc<str>>,
    /// When the members still in `pending_sync` are removed.
    sync_deadline: SimTime,
    offsets: BTreeMap<Tp, u64>,
    /// When each committed offset was stored (`OffsetAndMetadata.commitTimestampMs`).
    commit_times: BTreeMap<Tp, SimTime>,
    /// Members joined it once: it speaks the consumer protocol (`ClassicGroup.protocolType`);
    /// otherwise only `assign()` consumers and admins committed to it (a "simple" group).
    had_members: bool,
    /// When it last became Empty (`currentStateTimestamp`, set by `transitionTo`).
    empty_since: Option<SimTime>,
}

impl Group {
    fn new() -> Group {
        Group {
            state: GroupState::Empty,
            generation: 0,
            protocol: None,
            leader: None,
            members: BTreeMap::new(),
            order: JavaHashSet::new(),
            instances: BTreeMap::new(),
            join_deadline: SimTime::NEVER,
            initial: None,
            new_member_added: false,
            pending_sync: BTreeSet::new(),
            sync_deadline: SimTime::NEVER,
            offsets: BTreeMap::new(),
            commit_times: BTreeMap::new(),
            had_members: false,
            empty_since: None,
        }
    }

    /// When the committed offset of `tp` expires, if it may (`ClassicGroup.
    /// offsetExpirationCondition`, group-coordinator 4.0.1, KIP-211): an Empty group's offsets
    /// `offsets.retention.minutes` after it became Empty (after their commit if that time is
    /// unknown); a simple group's after their commit; never while the group has members.
    fn expires_at(&self, tp: Tp, retention: SimDuration) -> Option<SimTime> {
        let committed = self.commit_times.get(&tp).copied().unwrap_or(SimTime::ZERO);
        let base = match (self.had_members, self.state) {
            (true, GroupState::Empty) => self.empty_since.unwrap_or(committed),
            (true, _) => return None,
            (false, _) => committed,
        };
        Some(base + retention)
    }

    /// The state.
    pub fn state(&self) -> GroupState {
        self.state
    }

    /// The generation.
    pub fn generation(&self) -> i32 {
        self.generation
    }

    /// Committed offsets.
    pub fn offsets(&self) -> &BTreeMap<Tp, u64> {
        &self.offsets
    }

    /// (member id, client node, assignment) of every member.
    pub fn members(&self) -> impl Iterator<Item = (&Arc<str>, NodeId, &[Tp])> {
        self.members
            .iter()
            .map(|(id, m)| (id, m.client, m.assignment.as_slice()))
    }

    fn rebalance_timeout(&self) -> SimDuration {
        self.members
            .values()
            .map(|m| m.rebalance_timeout)
            .max()
            .unwrap_or(SimDuration::ZERO)
    }

    /// `ClassicGroup.add`: the first member of a leaderless group leads.
    fn add(&mut self, id: Arc<str>, member: Member) {
        self.had_members = true;
        self.order.insert(id.clone(), string_hash(&id));
        if self.leader.is_none() {
            self.leader = Some(id.clone());
        }
        self.members.insert(id, member);
    }

    /// `ClassicGroup.remove`: a removed leader hands over to the first member in the map's order.
    fn remove(&mut self, id: &Arc<str>) {
        if let Some(m) = self.members.remove(id)
            && let Some(i) = m.instance_id
        {
            self.instances.remove(&i);
        }
        self.order.remove(id);
        self.pending_sync.remove(id);
        if self.leader.as_ref() == Some(id) {
            self.leader = self.order.first().cloned();
        }
    }

    /// `ClassicGroup.maybeElectNewJoinedLeader`: true if the leader rejoined, or the first member
    /// in the map's order that rejoined now leads; false if no member rejoined.
    fn maybe_elect_new_joined_leader(&mut self) -> bool {
        let Some(leader) = &self.leader else {
            return false;
        };
        if self
            .members
            .get(leader)
            .is_some_and(|m| m.awaiting_join.is_some())
        {
            return true;
        }
        let rejoined = self
            .order
            .iter_order()
            .into_iter()
            .find(|id| self.members.get(*id).is_some_and(|m| m.awaiting_join.is_some()))
            .cloned();
        match rejoined {
            Some(id) => {
                self.leader = Some(id);
                true
            }
            None => false,
        }
    }
}

/// One broker's coordinator.
pub struct GroupCoordinator {
    config: CoordinatorConfig,
    groups: BTreeMap<Arc<str>, Group>,
    /// The offset expiry checks run every `offsets.retention.check.interval.ms` from when this
    /// coordinator loaded (`scheduleGroupMetadataExpiration`); the last one ran then.
    last_offset_check: Option<SimTime>,
    rng: SimRng,
}

fn reply(out: &mut O, to: Parked, body: GroupResponse) {
    out.send(
        to.client,
        Message::Response {
            correlation: to.correlation,
            body: ResponseBody::Group(body),
        },
    );
}

impl GroupCoordinator {
    /// A coordinator with no groups loaded; member ids come from `rng`.
    pub fn new(config: CoordinatorConfig, rng: SimRng) -> GroupCoordinator {
        GroupCoordinator {
            config,
            groups: BTreeMap::new(),
            last_offset_check: None,
            rng,
        }
    }

    /// A group, if this coordinator has it.
    pub fn group(&self, id: &str) -> Option<&Group> {
        self.groups.get(id)
    }

    /// Every group, by id.
    pub fn groups(&self) -> impl Iterator<Item = (&Arc<str>, &Group)> {
        self.groups.iter()
    }

    /// A new member id: `<client id>-<random UUID>` as Kafka makes them (`UUID.randomUUID`, a
    /// version 4 UUID), from the run's seeded random stream.
    fn member_id(&mut self, client_id: &str) -> Arc<str> {
        let (a, b) = (self.rng.next_u64(), self.rng.next_u64());
        let a = (a & !0xf000) | 0x4000;
        let b = (b & !(0b11 << 62)) | (0b10 << 62);
        Arc::from(format!(
            "{client_id}-{:08x}-{:04x}-{:04x}-{:04x}-{:012x}",
            a >> 32,
            (a >> 16) & 0xffff,
            a & 0xffff,
            b >> 48,
            b & 0xffff_ffff_ffff
        ))
    }

    /// The broker crashed: every group is gone from memory (the log keeps the commits).
    pub fn reset(&mut self) {
        self.groups.clear();
        self.last_offset_check = None;
    }

    /// Groups whose coordinator partition this broker no longer leads are dropped; their parked
    /// requests get `NOT_COORDINATOR`.
    pub fn unload(&mut self, keep: impl Fn(&str) -> bool, out: &mut O) {
        let gone: Vec<Arc<str>> = self.groups.keys().filter(|g| !keep(g)).cloned().collect();
        for id in gone {
            if let Some(g) = self.groups.remove(&id) {
                for mut m in g.members.into_values() {
                    reply_parked(out, &mut m, ErrorCode::NotCoordinator);
                }
                out.trace(|| Event::GroupState {
                    group: id.clone(),
                    state: GroupState::Dead,
                    generation: g.generation,
                });
            }
        }
    }

    /// Committed offsets, stored at `at`: read back from the log by a new coordinator, or
    /// written by a commit whose record the ISR now has.
    pub fn load_offsets(
        &mut self,
        group: Arc<str>,
        offsets: impl IntoIterator<Item = (Tp, u64)>,
        at: SimTime,
    ) {
        let g = self.groups.entry(group).or_insert_with(Group::new);
        for (tp, offset) in offsets {
            g.offsets.insert(tp, offset);
            g.commit_times.insert(tp, at);
        }
    }

    /// Drops offsets a tombstone in the log removed (read back by a new coordinator).
    pub fn drop_offsets(&mut self, group: &str, partitions: &[Tp]) {
        if let Some(g) = self.groups.get_mut(group) {
            for tp in partitions {
                g.offsets.remove(tp);
                g.commit_times.remove(tp);
            }
        }
    }

    /// Starts the periodic offset expiry checks, if they do not run yet (a coordinator loaded).
    pub fn start_offset_expiry(&mut self, now: SimTime) {
        self.last_offset_check.get_or_insert(now);
    }

    /// The first check, on the `offsets.retention.check.interval.ms` grid, that would find an
    /// offset expired (`None`: no offset may expire). Only that check is woken for: an idle
    /// coordinator costs no events.
    fn next_offset_check(&self) -> Option<SimTime> {
        let last = self.last_offset_check?;
        let retention = self.config.offsets_retention;
        let first = self
            .groups
            .values()
            .flat_map(|g| {
                g.offsets
                    .keys()
                    .filter_map(move |tp| g.expires_at(*tp, retention))
            })
            .min()?;
        let interval = self.config.offsets_retention_check_interval.as_us().max(1);
        let wait = first.as_us().saturating_sub(last.as_us()).max(1);
        Some(SimTime::from_us(
            last.as_us() + wait.div_ceil(interval) * interval,
        ))
    }

    /// True if an offset expiry check is due now; it then counts as run.
    pub fn offset_check_due(&mut self, now: SimTime) -> bool {
        let Some(at) = self.next_offset_check().filter(|t| now >= *t) else {
            return false;
        };
        self.last_offset_check = Some(at);
        true
    }

    /// `OffsetMetadataManager.cleanupExpiredOffsets` for every group: removes the offsets whose
    /// retention has passed (except those `pending` in an open transaction) and returns them by
    /// group, for the tombstones; an Empty group left without offsets is deleted
    /// (`GroupMetadataManager.maybeDeleteGroup`: it becomes Dead).
    pub fn expire_offsets(
        &mut self,
        now: SimTime,
        pending: impl Fn(&str, Tp) -> bool,
        out: &mut O,
    ) -> Vec<(Arc<str>, Vec<Tp>)> {
        let retention = self.config.offsets_retention;
        let mut expired = Vec::new();
        let mut deleted = Vec::new();
        for (id, g) in &mut self.groups {
            let gone: Vec<Tp> = g
                .offsets
                .keys()
                .copied()
                .filter(|tp| g.expires_at(*tp, retention).is_some_and(|t| now >= t) && !pending(id, *tp))
                .collect();
            if gone.is_empty() {
                continue;
            }
            for tp in &gone {
                g.offsets.remove(tp);
                g.commit_times.remove(tp);
            }
            out.emit(Event::OffsetsExpired {
                group: id.clone(),
                partitions: gone.clone(),
            });
            if g.offsets.is_empty() && g.state == GroupState::Empty {
                deleted.push((id.clone(), g.generation));
            }
            expired.push((id.clone(), gone));
        }
        for (id, generation) in deleted {
            self.groups.remove(&id);
            out.emit(Event::GroupState {
                group: id,
                state: GroupState::Dead,
                generation,
            });
        }
        expired
    }

    /// `JoinGroup` from `client` (its client id `client_id`).
    pub fn join(
        &mut self,
        now: SimTime,
        client: NodeId,
        correlation: u32,
        req: JoinGroupRequest,
        out: &mut O,
    ) {
        let at = Parked { client, correlation };
        let session = SimDuration::from_ms(req.session_timeout_ms);
        if session < self.config.min_session_timeout || session > self.config.max_session_timeout {
            return reply_join_error(out, at, ErrorCode::InvalidSessionTimeout, None);
        }
        let new_id = if req.member_id.is_empty() {
            let prefix = req.instance_id.clone().unwrap_or_else(|| req.client_id.clone());
            Some(self.member_id(&prefix))
        } else {
            None
        };
        let group_id = req.group.clone();
        let g = self.groups.entry(group_id.clone()).or_insert_with(Group::new);
        if let Some(id) = &new_id {
            match req.instance_id.as_ref().map(|i| g.instances.get(i).cloned()) {
                // KIP-345: a static member that restarted takes over its old membership.
                Some(Some(old)) => return self.replace_static(now, group_id, old, id.clone(), at, req, out),
                // `classicGroupJoinNewStaticMember`: a new static member joins under its new id.
                Some(None) => {}
                // KIP-394: a dynamic member's first join only gets a member id.
                None => return reply_join_error(out, at, ErrorCode::MemberIdRequired, Some(id.clone())),
            }
        }
        let member_id = new_id.unwrap_or_else(|| req.member_id.clone());
        let known = g.members.contains_key(&member_id);
        if !known {
            let new = Member {
                client,
                instance_id: req.instance_id.clone(),
                session_timeout: session,
                rebalance_timeout: SimDuration::from_ms(req.rebalance_timeout_ms),
                protocols: Vec::new(),
                subscription: Subscription::default(),
                awaiting_join: None,
                awaiting_sync: None,
                assignment: Vec::new(),
                deadline: SimTime::NEVER,
            };
            if g.state == GroupState::PreparingRebalance && g.initial.is_some() {
                // A new member during an initial rebalance: its timer waits once more
                // (`addMemberThenRebalanceOrCompleteJoin` sets `newMemberAdded`).
                g.new_member_added = true;
            }
            g.add(member_id.clone(), new);
        }
        let Some(m) = g.members.get_mut(&member_id) else {
            return;
        };
        let unchanged = m.protocols == req.protocols && m.subscription == req.subscription;
        let is_leader = g.leader.as_ref() == Some(&member_id);
        if known && unchanged && current_generation_answers(g.state, is_leader) {
            // `classicGroupJoinExistingMember`: a member that rejoins with the same metadata
            // (it may have missed its answer) gets the current generation back, no rebalance.
            let members = if g.state == GroupState::CompletingRebalance && is_leader {
                everyone(g)
            } else {
                Vec::new()
            };
            let resp = JoinGroupResponse {
                generation: g.generation,
                protocol: g.protocol.clone().unwrap_or_else(|| Arc::from("")),
                leader: g.leader.clone().unwrap_or_else(|| Arc::from("")),
                member_id,
                members,
                skip_assignment: false,
            };
            return reply(out, at, GroupResponse::JoinGroup(Ok(resp)));
        }
        m.client = client;
        m.protocols = req.protocols;
        m.subscription = req.subscription;
        m.session_timeout = session;
        m.rebalance_timeout = SimDuration::from_ms(req.rebalance_timeout_ms);
        m.awaiting_join = Some(at);
        m.deadline = now + session;
        if let Some(instance) = req.instance_id {
            g.instances.insert(instance, member_id.clone());
        }
        if !known {
            out.trace(|| Event::GroupMemberJoined {
                group: group_id.clone(),
                member: member_id.clone(),
            });
        }
        match g.state {
            GroupState::Empty | GroupState::Dead => {
                self.prepare(now, &group_id, "a member joined the empty group", out);
            }
            GroupState::Stable | GroupState::CompletingRebalance => {
                let why = match (known, is_leader) {
                    (false, _) => "a new member joined",
                    (true, true) => "the leader rejoined",
                    (true, false) => "a member rejoined with new metadata",
                };
                self.prepare(now, &group_id, why, out);
            }
            GroupState::PreparingRebalance => {}
        }
        self.maybe_complete_join(now, &group_id, out);
    }

    /// A static member rejoined under a new member id: it replaces the old one, keeping its
    /// assignment (`updateStaticMemberThenRebalanceOrCompleteJoin`, `ClassicGroup.replaceStaticMember`).
    /// In Stable, unless the group's protocol would change, there is no rebalance: it gets the
    /// current generation back, the leader with every member and `skipAssignment` (KIP-814), even
    /// if its subscription changed. In CompletingRebalance the group rebalances (the leader may
    /// have assigned to the old id); in PreparingRebalance it joins the rebalance under way.
    #[allow(clippy::too_many_arguments)]
    fn replace_static(
        &mut self,
        now: SimTime,
        group_id: Arc<str>,
        old: Arc<str>,
        new: Arc<str>,
        at: Parked,
        req: JoinGroupRequest,
        out: &mut O,
    ) {
        let g = self.groups.get_mut(&group_id).expect("present");
        let Some(mut m) = g.members.remove(&old) else {
            g.instances.remove(req.instance_id.as_deref().unwrap_or_default());
            return reply_join_error(out, at, ErrorCode::MemberIdRequired, Some(new));
        };
        reply_parked(out, &mut m, ErrorCode::UnknownMemberId);
        g.order.remove(&old);
        m.client = at.client;
        m.protocols = req.protocols.clone();
        m.subscription = req.subscription.clone();
        m.session_timeout = SimDuration::from_ms(req.session_timeout_ms);
        m.rebalance_timeout = SimDuration::from_ms(req.rebalance_timeout_ms);
        m.deadline = now + m.session_timeout;
        m.awaiting_join = Some(at);
        if let Some(i) = &req.instance_id {
            g.instances.insert(i.clone(), new.clone());
        }
        // The old id stays in `pending_sync` if it had not synced: Kafka does not carry it over.
        g.order.insert(new.clone(), string_hash(&new));
        g.members.insert(new.clone(), m);
        if g.leader.as_ref() == Some(&old) {
            g.leader = Some(new.clone());
        }
        out.trace(|| Event::GroupMemberReplaced {
            group: group_id.clone(),
            old: old.clone(),
            new: new.clone(),
        });
        match g.state {
            GroupState::Stable if select_protocol(g) == g.protocol => {
                let is_leader = g.leader.as_ref() == Some(&new);
                let members = if is_leader { everyone(g) } else { Vec::new() };
                let resp = JoinGroupResponse {
                    generation: g.generation,
                    protocol: g.protocol.clone().unwrap_or_else(|| Arc::from("")),
                    leader: g.leader.clone().unwrap_or_else(|| Arc::from("")),
                    member_id: new.clone(),
                    members,
                    skip_assignment: is_leader,
                };
                if let Some(p) = g.members.get_mut(&new).and_then(|m| m.awaiting_join.take()) {
                    reply(out, p, GroupResponse::JoinGroup(Ok(resp)));
                }
            }
            GroupState::Stable | GroupState::CompletingRebalance => {
                let why = if g.state == GroupState::Stable {
                    "a static member rejoined with a change of the group's protocol"
                } else {
                    "a static member rejoined while the leader was assigning"
                };
                self.prepare(now, &group_id, why, out);
                self.maybe_complete_join(now, &group_id, out);
            }
            _ => self.maybe_complete_join(now, &group_id, out),
        }
    }

    /// `prepareRebalance`: members waiting for their assignment are told to rejoin, and the
    /// sync deadline is dropped. A group that was empty waits `group.initial.rebalance.delay.ms`,
    /// not capped by the rebalance timeout; its extensions may add up to the rebalance timeout
    /// minus that delay. Any other rebalance ends when every member has rejoined, or at the
    /// rebalance timeout.
    fn prepare(&mut self, now: SimTime, group_id: &Arc<str>, why: &'static str, out: &mut O) {
        let Some(g) = self.groups.get_mut(group_id) else {
            return;
        };
        if g.state == GroupState::PreparingRebalance {
            return;
        }
        for m in g.members.values_mut() {
            if let Some(p) = m.awaiting_sync.take() {
                reply(
                    out,
                    p,
                    GroupResponse::SyncGroup(Err(ErrorCode::RebalanceInProgress)),
                );
            }
        }
        g.pending_sync.clear();
        g.sync_deadline = SimTime::NEVER;
        let timeout = g.rebalance_timeout();
        let delay = self.config.initial_rebalance_delay;
        if matches!(g.state, GroupState::Empty | GroupState::Dead) {
            g.initial = Some(InitialDelay {
                until: now + delay,
                delay,
                remaining: timeout.saturating_sub(delay),
            });
            g.join_deadline = SimTime::NEVER;
        } else {
            g.initial = None;
            g.join_deadline = now + timeout;
        }
        g.new_member_added = false;
        g.state = GroupState::PreparingRebalance;
        let generation = g.generation;
        out.emit(Event::GroupState {
            group: group_id.clone(),
            state: GroupState::PreparingRebalance,
            generation,
        });
        out.trace(|| Event::GroupRebalance {
            group: group_id.clone(),
            why,
        });
    }

    /// Ends the join phase when it is due: an initial rebalance when its timer fires without a
    /// new member to wait for (`tryCompleteInitialRebalanceElseSchedule`), any other when every
    /// member has rejoined (`maybeCompleteJoinPhase`) or at the rebalance timeout.
    fn maybe_complete_join(&mut self, now: SimTime, group_id: &Arc<str>, out: &mut O) {
        let Some(g) = self.groups.get_mut(group_id) else {
            return;
        };
        if g.state != GroupState::PreparingRebalance {
            return;
        }
        if let Some(timer) = g.initial {
            if now < timer.until {
                return;
            }
            if g.new_member_added && timer.remaining > SimDuration::ZERO {
                g.new_member_added = false;
                let delay = self.config.initial_rebalance_delay.min(timer.remaining);
                g.initial = Some(InitialDelay {
                    until: now + delay,
                    delay,
                    remaining: timer.remaining.saturating_sub(timer.delay),
                });
                return;
            }
        } else {
            let all_in = g.members.values().all(|m| m.awaiting_join.is_some());
            if !all_in && now < g.join_deadline {
                return;
            }
        }
        complete_join(now, group_id, g, out);
    }

    /// `SyncGroup`.
    pub fn sync(
        &mut self,
        now: SimTime,
        client: NodeId,
        correlation: u32,
        req: SyncGroupRequest,
        out: &mut O,
    ) {
        let at = Parked { client, correlation };
        let Some(g) = self.groups.get_mut(&req.group) else {
            return reply(out, at, GroupResponse::SyncGroup(Err(ErrorCode::UnknownMemberId)));
        };
        let Some(m) = g.members.get_mut(&req.member_id) else {
            return reply(out, at, GroupResponse::SyncGroup(Err(ErrorCode::UnknownMemberId)));
        };
        if req.generation != g.generation {
            return reply(
                out,
                at,
                GroupResponse::SyncGroup(Err(ErrorCode::IllegalGeneration)),
            );
        }
        m.deadline = now + m.session_timeout;
        if matches!(g.state, GroupState::CompletingRebalance | GroupState::Stable) {
            // `removePendingSyncMember`: once everyone has synced, the sync deadline is off.
            g.pending_sync.remove(&req.member_id);
            if g.pending_sync.is_empty() {
                g.sync_deadline = SimTime::NEVER;
            }
        }
        let Some(m) = g.members.get_mut(&req.member_id) else {
            return;
        };
        match g.state {
            GroupState::PreparingRebalance => {
                reply(
                    out,
                    at,
                    GroupResponse::SyncGroup(Err(ErrorCode::RebalanceInProgress)),
                );
            }
            GroupState::Stable => {
                let assignment = m.assignment.clone();
                reply(out, at, GroupResponse::SyncGroup(Ok(assignment)));
            }
            GroupState::CompletingRebalance => {
                m.awaiting_sync = Some(at);
                if g.leader.as_ref() != Some(&req.member_id) {
                    return;
                }
                for m in g.members.values_mut() {
                    m.assignment.clear();
                }
                for (id, parts) in req.assignments {
                    if let Some(m) = g.members.get_mut(&id) {
                        m.assignment = parts;
                    }
                }
                g.state = GroupState::Stable;
                out.emit(Event::GroupState {
                    group: req.group.clone(),
                    state: GroupState::Stable,
                    generation: g.generation,
                });
                for (id, m) in &mut g.members {
                    let assigned = m.assignment.clone();
                    out.emit(Event::GroupAssignment {
                        group: req.group.clone(),
                        member: id.clone(),
                        generation: g.generation,
                        partitions: assigned.clone(),
                    });
                    if let Some(p) = m.awaiting_sync.take() {
                        reply(out, p, GroupResponse::SyncGroup(Ok(assigned)));
                    }
                }
            }
            GroupState::Empty | GroupState::Dead => {
                reply(out, at, GroupResponse::SyncGroup(Err(ErrorCode::UnknownMemberId)));
            }
        }
    }

    /// `Heartbeat`.
    pub fn heartbeat(&mut self, now: SimTime, client: NodeId, correlation: u32, req: MemberRef, out: &mut O) {
        let at = Parked { client, correlation };
        let result = match self.check_member(&req) {
            Err(e) => Err(e),
            Ok(g) => {
                let state = g.state;
                if let Some(m) = g.members.get_mut(&req.member_id) {
                    m.deadline = now + m.session_timeout;
                }
                match state {
                    GroupState::PreparingRebalance => Err(ErrorCode::RebalanceInProgress),
                    _ => Ok(()),
                }
            }
        };
        reply(out, at, GroupResponse::Heartbeat(result));
    }

    /// The group and member a request names, checked (`UNKNOWN_MEMBER_ID`,
    /// `ILLEGAL_GENERATION`).
    fn check_member(&mut self, req: &MemberRef) -> Result<&mut Group, ErrorCode> {
        let g = self
            .groups
            .get_mut(&req.group)
            .ok_or(ErrorCode::UnknownMemberId)?;
        if !g.members.contains_key(&req.member_id) {
            return Err(ErrorCode::UnknownMemberId);
        }
        if req.generation != g.generation {
            return Err(ErrorCode::IllegalGeneration);
        }
        Ok(g)
    }

    /// `LeaveGroup`.
    pub fn leave(&mut self, now: SimTime, client: NodeId, correlation: u32, req: MemberRef, out: &mut O) {
        let at = Parked { client, correlation };
        let known = self
            .groups
            .get(&req.group)
            .is_some_and(|g| g.members.contains_key(&req.member_id));
        if !known {
            return reply(
                out,
                at,
                GroupResponse::LeaveGroup(Err(ErrorCode::UnknownMemberId)),
            );
        }
        reply(out, at, GroupResponse::LeaveGroup(Ok(())));
        self.remove(
            now,
            &req.group,
            &req.member_id,
            "left the group (LeaveGroup)",
            out,
        );
    }

    /// Removes a member and rebalances the others (or empties the group).
    fn remove(
        &mut self,
        now: SimTime,
        group_id: &Arc<str>,
        member: &Arc<str>,
        why: &'static str,
        out: &mut O,
    ) {
        let Some(g) = self.groups.get_mut(group_id) else {
            return;
        };
        if let Some(m) = g.members.get_mut(member) {
            reply_parked(out, m, ErrorCode::UnknownMemberId);
        }
        g.remove(member);
        out.trace(|| Event::GroupMemberLeft {
            group: group_id.clone(),
            member: member.clone(),
            why,
        });
        match g.state {
            GroupState::Stable | GroupState::CompletingRebalance if !g.members.is_empty() => {
                self.prepare(now, group_id, why, out);
            }
            GroupState::Stable | GroupState::CompletingRebalance => {
                g.state = GroupState::Empty;
                g.empty_since = Some(now);
                g.generation += 1;
                g.leader = None;
                out.emit(Event::GroupState {
                    group: group_id.clone(),
                    state: GroupState::Empty,
                    generation: g.generation,
                });
            }
            _ => {}
        }
        self.maybe_complete_join(now, group_id, out);
    }

    /// `OffsetCommit`: may these offsets be committed? (They are stored with
    /// [`GroupCoordinator::load_offsets`] once their record is replicated.)
    pub fn commit(&mut self, req: &OffsetCommitRequest) -> Result<(), ErrorCode> {
        let m = &req.member;
        let g = self.groups.entry(m.group.clone()).or_insert_with(Group::new);
        let simple = m.generation < 0 && m.member_id.is_empty();
        if simple {
            // A consumer outside the group protocol (`assign()`): only while the group is empty.
            if g.state != GroupState::Empty {
                return Err(ErrorCode::UnknownMemberId);
            }
        } else {
            if !g.members.contains_key(&m.member_id) {
                return Err(ErrorCode::UnknownMemberId);
            }
            if g.state == GroupState::CompletingRebalance {
                return Err(ErrorCode::RebalanceInProgress);
            }
            if m.generation != g.generation {
                return Err(ErrorCode::IllegalGeneration);
            }
        }
        Ok(())
    }

    /// `TxnOffsetCommit`'s member check (KIP-447): a known member of the current generation,
    /// or a simple consumer's commit to a group without members. Unlike `OffsetCommit`, a
    /// rebalance in progress is no error (`ClassicGroup.validateOffsetCommit` with
    /// `isTransactional`).
    pub fn validate_txn_commit(&self, m: &MemberRef) -> Result<(), ErrorCode> {
        let Some(g) = self.groups.get(&m.group) else {
            return if m.generation < 0 {
                Ok(())
            } else {
                Err(ErrorCode::IllegalGeneration)
            };
        };
        if m.generation < 0 && g.state == GroupState::Empty {
            return Ok(());
        }
        if !g.members.contains_key(&m.member_id) {
            return Err(ErrorCode::UnknownMemberId);
        }
        if m.generation != g.generation {
            return Err(ErrorCode::IllegalGeneration);
        }
        Ok(())
    }

    /// `OffsetFetch`.
    pub fn fetch_offsets(&self, group: &str, partitions: &[Tp]) -> Vec<(Tp, Option<u64>)> {
        let offsets = self.groups.get(group).map(|g| &g.offsets);
        partitions
            .iter()
            .map(|tp| (*tp, offsets.and_then(|o| o.get(tp).copied())))
            .collect()
    }

    /// Timers: session expiry, the end of join phases and of the sync wait.
    pub fn on_wake(&mut self, now: SimTime, out: &mut O) {
        if self.groups.is_empty() {
            return;
        }
        let ids: Vec<Arc<str>> = self.groups.keys().cloned().collect();
        for id in ids {
            let expired: Vec<Arc<str>> = self.groups[&id]
                .members
                .iter()
                .filter(|(_, m)| m.awaiting_join.is_none() && m.awaiting_sync.is_none() && now >= m.deadline)
                .map(|(mid, _)| mid.clone())
                .collect();
            for m in expired {
                self.remove(
                    now,
                    &id,
                    &m,
                    "session timeout: no heartbeat within session.timeout.ms",
                    out,
                );
            }
            self.expire_pending_sync(now, &id, out);
            self.maybe_complete_join(now, &id, out);
        }
    }

    /// `expirePendingSync`: at the sync deadline, in CompletingRebalance or Stable, the members
    /// of the generation that never sent `SyncGroup` are removed and the group rebalances. That
    /// includes the old id of a static member that came back under a new one: Kafka leaves it
    /// pending, so the rebalance happens even then.
    fn expire_pending_sync(&mut self, now: SimTime, group_id: &Arc<str>, out: &mut O) {
        let Some(g) = self.groups.get_mut(group_id) else {
            return;
        };
        let syncing = matches!(g.state, GroupState::CompletingRebalance | GroupState::Stable);
        if !syncing || now < g.sync_deadline || g.pending_sync.is_empty() {
            return;
        }
        let why = "did not send SyncGroup within the rebalance timeout";
        for id in std::mem::take(&mut g.pending_sync) {
            if let Some(m) = g.members.get_mut(&id) {
                reply_parked(out, m, ErrorCode::UnknownMemberId);
                g.remove(&id);
                out.trace(|| Event::GroupMemberLeft {
                    group: group_id.clone(),
                    member: id.clone(),
                    why,
                });
            }
        }
        self.prepare(now, group_id, why, out);
        self.maybe_complete_join(now, group_id, out);
    }

    /// The next time a timer fires.
    pub fn next_deadline(&self) -> Option<SimTime> {
        if self.groups.is_empty() {
            // Every deadline, offset expiry included, belongs to a group.
            return None;
        }
        self.groups
            .values()
            .flat_map(|g| {
                let members = g
                    .members
                    .values()
                    .filter(|m| m.awaiting_join.is_none() && m.awaiting_sync.is_none())
                    .map(|m| m.deadline);
                let phase = match (g.state, g.initial) {
                    (GroupState::PreparingRebalance, Some(timer)) => Some(timer.until),
                    (GroupState::PreparingRebalance, None) => Some(g.join_deadline),
                    (GroupState::CompletingRebalance | GroupState::Stable, _) => Some(g.sync_deadline),
                    _ => None,
                };
                members.chain(phase)
            })
            .chain(self.next_offset_check())
            .min()
    }
}

/// `completeClassicGroupJoin`: dynamic members that did not rejoin are removed, static ones
/// stay (KIP-345); a leader that did not rejoin hands over to a member that did. If none did,
/// the join phase waits another rebalance timeout. Otherwise the next generation starts: every
/// member that rejoined gets its answer, the leader every member's subscription, and all of
/// them, rejoined or not, must send `SyncGroup` within the rebalance timeout.
fn complete_join(now: SimTime, group_id: &Arc<str>, g: &mut Group, out: &mut O) {
    let missing: Vec<Arc<str>> = g
        .members
        .iter()
        .filter(|(_, m)| m.awaiting_join.is_none() && m.instance_id.is_none())
        .map(|(id, _)| id.clone())
        .collect();
    for id in missing {
        g.remove(&id);
        out.trace(|| Event::GroupMemberLeft {
            group: group_id.clone(),
            member: id.clone(),
            why: "did not rejoin within the rebalance timeout",
        });
    }
    g.initial = None;
    if !g.maybe_elect_new_joined_leader() && !g.members.is_empty() {
        // Only static members that did not rejoin are left: wait for them (or their sessions).
        g.join_deadline = now + g.rebalance_timeout();
        return;
    }
    g.join_deadline = SimTime::NEVER;
    g.generation += 1;
    if g.members.is_empty() {
        g.state = GroupState::Empty;
        g.empty_since = Some(now);
        g.leader = None;
        g.protocol = None;
        out.emit(Event::GroupState {
            group: group_id.clone(),
            state: GroupState::Empty,
            generation: g.generation,
        });
        return;
    }
    g.protocol = select_protocol(g);
    g.state = GroupState::CompletingRebalance;
    g.sync_deadline = now + g.rebalance_timeout();
    g.pending_sync = g.members.keys().cloned().collect();
    let leader = g.leader.clone().expect("a member leads");
    let protocol = g.protocol.clone().unwrap_or_else(|| Arc::from(""));
    let everyone = everyone(g);
    out.emit(Event::GroupState {
        group: group_id.clone(),
        state: GroupState::CompletingRebalance,
        generation: g.generation,
    });
    for (id, m) in &mut g.members {
        m.deadline = now + m.session_timeout;
        if let Some(p) = m.awaiting_join.take() {
            let resp = JoinGroupResponse {
                generation: g.generation,
                protocol: protocol.clone(),
                leader: leader.clone(),
                member_id: id.clone(),
                members: if *id == leader {
                    everyone.clone()
                } else {
                    Vec::new()
                },
                skip_assignment: false,
            };
            reply(out, p, GroupResponse::JoinGroup(Ok(resp)));
        }
    }
}

/// Whether a known member that rejoins with unchanged metadata just gets the current generation
/// (`classicGroupJoinExistingMember`): in CompletingRebalance, and in Stable unless it is the
/// leader, whose `JoinGroup` always starts a rebalance (it may have seen the topics change).
fn current_generation_answers(state: GroupState, is_leader: bool) -> bool {
    match state {
        GroupState::CompletingRebalance => true,
        GroupState::Stable => !is_leader,
        _ => false,
    }
}

/// Every member with its subscription, as the leader's `JoinGroup` answer lists them
/// (`ClassicGroup.currentClassicGroupMembers`).
fn everyone(g: &Group) -> Vec<JoinedMember> {
    g.members
        .iter()
        .map(|(id, m)| JoinedMember {
            member_id: id.clone(),
            instance_id: m.instance_id.clone(),
            subscription: m.subscription.clone(),
        })
        .collect()
}

/// `selectProtocol`: among the protocols every member supports, each member votes for its first
/// supported one; most votes win (a tie goes to the name that sorts first).
fn select_protocol(g: &Group) -> Option<Arc<str>> {
    let first = g.members.values().next()?;
    let common: Vec<&Arc<str>> = first
        .protocols
        .iter()
        .filter(|p| g.members.values().all(|m| m.protocols.contains(p)))
        .collect();
    let mut votes: BTreeMap<&Arc<str>, usize> = BTreeMap::new();
    for m in g.members.values() {
        if let Some(p) = m.protocols.iter().find(|p| common.contains(p)) {
            *votes.entry(p).or_default() += 1;
        }
    }
    let best = votes.values().copied().max()?;
    votes
        .into_iter()
        .find(|(_, n)| *n == best)
        .map(|(p, _)| p.clone())
}

fn reply_join_error(out: &mut O, at: Parked, error: ErrorCode, member_id: Option<Arc<str>>) {
    reply(
        out,
        at,
        GroupResponse::JoinGroup(Err(JoinGroupError { error, member_id })),
    );
}

/// Answers a member's parked join or sync with `error`.
fn reply_parked(out: &mut O, m: &mut Member, error: ErrorCode) {
    if let Some(p) = m.awaiting_join.take() {
        reply_join_error(out, p, error, None);
    }
    if let Some(p) = m.awaiting_sync.take() {
        reply(out, p, GroupResponse::SyncGroup(Err(error)));
    }
}

#[cfg(test)]
mod rebalance_tests;
#[cfg(test)]
mod tests {
    use super::*;
    use crate::kafka::group::messages::{JoinGroupResponse, OffsetCommitRequest};

    const C1: NodeId = NodeId(10);
    const C2: NodeId = NodeId(11);

    pub(super) fn coordinator(delay_ms: u64) -> GroupCoordinator {
        GroupCoordinator::new(
            CoordinatorConfig {
                initial_rebalance_delay: SimDuration::from_ms(delay_ms),
                min_session_timeout: SimDuration::from_ms(6000),
                max_session_timeout: SimDuration::from_ms(1_800_000),
                offsets_retention: SimDuration::from_ms(7 * 24 * 3_600_000),
                offsets_retention_check_interval: SimDuration::from_ms(600_000),
            },
            crate::sim::RngTree::new(1).fork("coordinator"),
        )
    }

    pub(super) fn t(ms: u64) -> SimTime {
        SimTime::from_us(ms * 1000)
    }

    pub(super) fn join_req(client: &str, member: &str, instance: Option<&str>) -> JoinGroupRequest {
        JoinGroupRequest {
            group: Arc::from("g"),
            client_id: Arc::from(client),
            member_id: Arc::from(member),
            instance_id: instance.map(Arc::from),
            session_timeout_ms: 10_000,
            rebalance_timeout_ms: 60_000,
            protocols: vec![Arc::from("range")],
            subscription: Subscription {
                topics: vec![0],
                owned: Vec::new(),
                generation: -1,
                generation_id: -1,
            },
        }
    }

    /// The group answers in `out`, in order: (to, correlation, answer).
    pub(super) fn answers(out: &mut O) -> Vec<(NodeId, u32, GroupResponse)> {
        std::mem::take(&mut out.sends)
            .into_iter()
            .filter_map(|(to, m)| match m {
                Message::Response {
                    correlation,
                    body: ResponseBody::Group(g),
                } => Some((to, correlation, g)),
                _ => None,
            })
            .collect()
    }

    pub(super) fn joined(a: &GroupResponse) -> &JoinGroupResponse {
        match a {
            GroupResponse::JoinGroup(Ok(j)) => j,
            other => panic!("not a successful join: {other:?}"),
        }
    }

    /// Two members joined and synced: (coordinator, c1's member id, c2's member id).
    fn stable_pair() -> (GroupCoordinator, Arc<str>, Arc<str>) {
        let mut g = coordinator(100);
        let mut out = Out::new(true);
        g.join(t(0), C1, 1, join_req("c1", "", None), &mut out);
        g.join(t(0), C2, 1, join_req("c2", "", None), &mut out);
        let ids: Vec<Arc<str>> = answers(&mut out)
            .into_iter()
            .filter_map(|(_, _, a)| match a {
                GroupResponse::JoinGroup(Err(e)) => e.member_id,
                _ => None,
            })
            .collect();
        let (m1, m2) = (ids[0].clone(), ids[1].clone());
        g.join(t(1), C1, 2, join_req("c1", &m1, None), &mut out);
        g.join(t(1), C2, 2, join_req("c2", &m2, None), &mut out);
        // c2 joined during the initial delay: the group waits once more (100 ms).
        g.on_wake(t(101), &mut out);
        g.on_wake(t(201), &mut out);
        let joins = answers(&mut out);
        let leader = joined(&joins[0].2).leader.clone();
        assert_eq!(leader, m1, "the first member to join leads");
        let sync = |m: &Arc<str>, assignments| SyncGroupRequest {
            group: Arc::from("g"),
            generation: 1,
            member_id: m.clone(),
            assignments,
        };
        g.sync(t(202), C2, 3, sync(&m2, Vec::new()), &mut out);
        assert!(answers(&mut out).is_empty(), "a follower waits for the leader");
        let parts = vec![
            (
                m1.clone(),
                vec![Tp {
                    topic: 0,
                    partition: 0,
                }],
            ),
            (
                m2.clone(),
                vec![Tp {
                    topic: 0,
                    partition: 1,
                }],
            ),
        ];
        g.sync(t(202), C1, 3, sync(&m1, parts), &mut out);
        let synced = answers(&mut out);
        assert_eq!(synced.len(), 2);
        assert_eq!(g.group("g").map(Group::state), Some(GroupState::Stable));
        (g, m1, m2)
    }

    #[test]
    fn the_first_join_gets_a_member_id_and_the_leader_gets_every_member() {
        let mut g = coordinator(3000);
        let mut out = Out::new(true);
        g.join(t(0), C1, 1, join_req("c1", "", None), &mut out);
        let a = answers(&mut out);
        let GroupResponse::JoinGroup(Err(e)) = &a[0].2 else {
            panic!("{a:?}")
        };
        assert_eq!(e.error, ErrorCode::MemberIdRequired);
        let id = e.member_id.clone().expect("an id");
        assert!(id.starts_with("c1-") && id.len() == 3 + 36, "{id}");
        g.join(t(1), C1, 2, join_req("c1", &id, None), &mut out);
        g.on_wake(t(2000), &mut out);
        assert!(answers(&mut out).is_empty(), "group.initial.rebalance.delay.ms");
        assert_eq!(g.next_deadline(), Some(t(3001)));
        g.on_wake(t(3001), &mut out);
        let a = answers(&mut out);
        let j = joined(&a[0].2);
        assert_eq!((j.generation, j.leader.clone(), j.members.len()), (1, id, 1));
    }

    #[test]
    fn heartbeats_tell_members_to_rejoin_and_refuse_strangers() {
        let (mut g, m1, m2) = stable_pair();
        let mut out = Out::new(true);
        let hb = |m: &Arc<str>, generation| MemberRef {
            group: Arc::from("g"),
            generation,
            member_id: m.clone(),
        };
        g.heartbeat(t(3), C1, 4, hb(&m1, 1), &mut out);
        g.heartbeat(t(3), C1, 5, hb(&m1, 0), &mut out);
        g.heartbeat(t(3), C1, 6, hb(&Arc::from("nobody"), 1), &mut out);
        let r: Vec<GroupResponse> = answers(&mut out).into_iter().map(|a| a.2).collect();
        assert!(matches!(r[0], GroupResponse::Heartbeat(Ok(()))));
        assert!(matches!(
            r[1],
            GroupResponse::Heartbeat(Err(ErrorCode::IllegalGeneration))
        ));
        assert!(matches!(
            r[2],
            GroupResponse::Heartbeat(Err(ErrorCode::UnknownMemberId))
        ));
        // c2 leaves: the group rebalances, and c1's next heartbeat says so.
        g.leave(t(4), C2, 7, hb(&m2, -1), &mut out);
        g.heartbeat(t(5), C1, 8, hb(&m1, 1), &mut out);
        let r: Vec<GroupResponse> = answers(&mut out).into_iter().map(|a| a.2).collect();
        assert!(matches!(r[0], GroupResponse::LeaveGroup(Ok(()))));
        assert!(matches!(
            r[1],
            GroupResponse::Heartbeat(Err(ErrorCode::RebalanceInProgress))
        ));
    }

    #[test]
    fn a_silent_member_expires_after_its_session_timeout() {
        let (mut g, m1, _) = stable_pair();
        let mut out = Out::new(true);
        g.heartbeat(
            t(9000),
            C1,
            9,
            MemberRef {
                group: Arc::from("g"),
                generation: 1,
                member_id: m1,
            },
            &mut out,
        );
        // c2's last contact was its sync at 202 ms: gone at 10.202 s; c1 heartbeated at 9 s.
        g.on_wake(t(10_201), &mut out);
        assert_eq!(g.group("g").map(Group::state), Some(GroupState::Stable));
        g.on_wake(t(10_202), &mut out);
        let group = g.group("g").expect("group");
        assert_eq!(group.state(), GroupState::PreparingRebalance);
        assert_eq!(group.members().count(), 1);
    }

    #[test]
    fn commits_follow_the_generation_rules() {
        let (mut g, m1, _) = stable_pair();
        let commit = |generation, member: &Arc<str>| OffsetCommitRequest {
            member: MemberRef {
                group: Arc::from("g"),
                generation,
                member_id: member.clone(),
            },
            offsets: vec![(
                Tp {
                    topic: 0,
                    partition: 0,
                },
                5,
            )],
        };
        assert_eq!(g.commit(&commit(1, &m1)), Ok(()));
        g.load_offsets(Arc::from("g"), commit(1, &m1).offsets, t(0));
        assert_eq!(g.commit(&commit(0, &m1)), Err(ErrorCode::IllegalGeneration));
        assert_eq!(
            g.commit(&commit(1, &Arc::from("x"))),
            Err(ErrorCode::UnknownMemberId)
        );
        assert_eq!(
            g.commit(&commit(-1, &Arc::from(""))),
            Err(ErrorCode::UnknownMemberId)
        );
        assert_eq!(
            g.fetch_offsets(
                "g",
                &[
                    Tp {
                        topic: 0,
                        partition: 0
                    },
                    Tp {
                        topic: 0,
                        partition: 1
                    }
                ]
            ),
            [
                (
                    Tp {
                        topic: 0,
                        partition: 0
                    },
                    Some(5)
                ),
                (
                    Tp {
                        topic: 0,
                        partition: 1
                    },
                    None
                )
            ]
        );
    }

    #[test]
    fn a_session_timeout_outside_the_brokers_bounds_is_refused() {
        let mut g = coordinator(0);
        let mut out = Out::new(true);
        let mut req = join_req("c1", "", None);
        req.session_timeout_ms = 5999;
        g.join(t(0), C1, 1, req, &mut out);
        let a = answers(&mut out);
        assert!(
            matches!(&a[0].2, GroupResponse::JoinGroup(Err(e)) if e.error == ErrorCode::InvalidSessionTimeout)
        );
    }

    #[test]
    fn a_static_member_that_comes_back_keeps_its_assignment_without_a_rebalance() {
        let mut g = coordinator(100);
        let mut out = Out::new(true);
        // c1 (leader) and static member "i2" join and sync; a static member gets its id with
        // its first answer, with no MEMBER_ID_REQUIRED round trip.
        g.join(t(0), C1, 1, join_req("c1", "", None), &mut out);
        let c1 = answers(&mut out)
            .into_iter()
            .find_map(|(_, _, a)| match a {
                GroupResponse::JoinGroup(Err(e)) => e.member_id,
                _ => None,
            })
            .expect("c1's id");
        g.join(t(1), C1, 2, join_req("c1", &c1, None), &mut out);
        g.join(t(1), C2, 1, join_req("c2", "", Some("i2")), &mut out);
        // c2 joined during the initial delay: the group waits once more (100 ms).
        g.on_wake(t(101), &mut out);
        g.on_wake(t(201), &mut out);
        let i2 = answers(&mut out)
            .iter()
            .map(|(_, _, a)| joined(a).member_id.clone())
            .find(|m| m.starts_with("i2-"))
            .expect("static member ids start with the instance id");
        let ids = [c1, i2];
        let parts = vec![(
            ids[1].clone(),
            vec![Tp {
                topic: 0,
                partition: 3,
            }],
        )];
        let sync = SyncGroupRequest {
            group: Arc::from("g"),
            generation: 1,
            member_id: ids[0].clone(),
            assignments: parts,
        };
        g.sync(t(202), C1, 3, sync, &mut out);
        answers(&mut out);
        // i2 restarts: a join without a member id but with its instance id.
        g.join(t(5000), NodeId(12), 1, join_req("c2", "", Some("i2")), &mut out);
        let a = answers(&mut out);
        let j = joined(&a[0].2);
        assert_eq!(j.generation, 1, "no new generation");
        let group = g.group("g").expect("group");
        assert_eq!(group.state(), GroupState::Stable);
        let mine: Vec<&[Tp]> = group
            .members()
            .filter(|(m, _, _)| **m == j.member_id)
            .map(|(_, _, p)| p)
            .collect();
        assert_eq!(
            mine,
            [&[Tp {
                topic: 0,
                partition: 3
            }][..]]
        );
    }
}

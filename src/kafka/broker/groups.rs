//! The broker's part in consumer groups: answering `FindCoordinator`, routing group requests to
//! this broker's [`GroupCoordinator`] when it leads the group's `__consumer_offsets` partition
//! (`NOT_COORDINATOR` otherwise), writing commits to that partition, and loading or dropping
//! groups when that leadership moves.

use super::requests::respond;
use super::requests::{DelayedProduce, Then};
use super::storage::trace_roll;
use super::{Broker, O};
use crate::kafka::group::coordinator::GroupState;
use crate::kafka::group::messages::{
    GroupRequest, GroupResponse, MemberRef, OffsetCommitRequest, TxnOffsetCommitRequest, offsets_partition,
};
use crate::kafka::group::txn_offsets::{PendingCommit, TxnOffsets};
use crate::kafka::log::{CommitRecord, Control, OffsetTombstones};
use crate::kafka::protocol::{ErrorCode, ProducePartitionResponse, ResponseBody};
use crate::kafka::record::Tp;
use crate::scenario::fault::ResetTo;
use crate::sim::SimDuration;
use crate::sim::{NodeId, SimTime};
use crate::trace::Event;
use std::collections::BTreeMap;
use std::sync::Arc;

/// A group coordinator's record just appended, and who asked for it.
struct Written {
    tp: Tp,
    base: u64,
    from: NodeId,
    correlation: u32,
}

/// What the admin tool's `ListOffsets` answers for one partition, from its leader.
#[derive(Clone, Copy, Debug)]
pub struct LogBounds {
    /// The log start offset (`OffsetSpec.earliest()`).
    pub start: u64,
    /// The high watermark (`OffsetSpec.latest()`, read_uncommitted).
    pub end: u64,
    /// For a `Time` reset: the first offset below the high watermark whose record's timestamp is
    /// at least that time (`OffsetSpec.forTimestamp`), `None` where there is none.
    pub at_time: Option<u64>,
}

/// Where an admin's offset reset goes, and what each partition's log holds.
pub struct OffsetsReset<'a> {
    /// The group.
    pub group: &'a str,
    /// Where to.
    pub to: ResetTo,
    /// The partitions named (`--topic`), or `None` for every partition the group has an offset
    /// for (`--all-topics`).
    pub partitions: Option<Vec<Tp>>,
    /// Each partition's offsets, from its leader.
    pub bounds: &'a BTreeMap<Tp, LogBounds>,
}

impl Broker {
    /// True if this broker runs the coordinator of `group` now.
    pub fn coordinates_group(&self, group: &str) -> bool {
        self.is_up() && self.coordinates(group)
    }

    /// `kafka-consumer-groups --reset-offsets --execute` against this coordinator
    /// (`ConsumerGroupCommand.resetOffsets`, kafka-tools 4.0.1): refused unless the group is
    /// Empty or Dead (or unknown); otherwise the offsets are computed as the tool does
    /// (`prepareOffsetsToReset`; `--to-offset` is clamped into the log by `checkOffsetsRange`;
    /// `--to-datetime` takes the log end where no record is that recent)
    /// and written like an `OffsetCommit` outside the group protocol (`alterConsumerGroupOffsets`).
    pub fn reset_offsets(&mut self, now: SimTime, r: OffsetsReset<'_>, out: &mut O) {
        let group: Arc<str> = Arc::from(r.group);
        let state = self.groups.group(r.group).map(|g| g.state());
        if let Some(state) = state.filter(|s| !matches!(s, GroupState::Empty | GroupState::Dead)) {
            let message = format!(
                "Assignments can only be reset if the group '{group}' is inactive, but the current state is {state}."
            );
            return out.emit(Event::OffsetsResetRefused { group, message });
        }
        let partitions = r.partitions.unwrap_or_else(|| {
            self.groups
                .group(r.group)
                .map(|g| g.offsets().keys().copied().collect())
                .unwrap_or_default()
        });
        let mut offsets = Vec::new();
        let mut notes = Vec::new();
        let mut empty = Vec::new();
        for tp in partitions {
            let LogBounds { start, end, at_time } = r.bounds.get(&tp).copied().unwrap_or(LogBounds {
                start: 0,
                end: 0,
                at_time: None,
            });
            let offset = match r.to {
                ResetTo::Earliest => start,
                ResetTo::Latest => end,
                // `getLogTimestampOffsets`: no record that recent ("is empty"), the log end.
                ResetTo::Time(_) => at_time.unwrap_or_else(|| {
                    empty.push(tp);
                    end
                }),
                ResetTo::Offset(o) if o > end => {
                    notes.push((tp, o, end));
                    end
                }
                ResetTo::Offset(o) if o < start => {
                    notes.push((tp, o, start));
                    start
                }
                ResetTo::Offset(o) => o,
            };
            offsets.push((tp, offset));
        }
        out.emit(Event::OffsetsReset {
            group: group.clone(),
            offsets: offsets.clone(),
            clamped: notes,
            empty,
        });
        let request = OffsetCommitRequest {
            member: MemberRef {
                group: group.clone(),
                generation: -1,
                member_id: Arc::from(""),
            },
            offsets,
        };
        if request.offsets.is_empty() || self.groups.commit(&request).is_err() {
            return;
        }
        let Some(tp) = self.offsets_tp(&group) else {
            return;
        };
        let record = CommitRecord {
            group,
            member: request.member.member_id,
            offsets: request.offsets,
        };
        // The admin client's request: this broker's own node stands for it, and nothing is
        // answered.
        let from = self.addr.broker(self.id);
        self.write_commit(now, tp, record, from, 0, out);
    }

    /// Appends a commit record to the group's `__consumer_offsets` partition and waits for the
    /// ISR to have it before storing it and answering `from` (like an acks=all produce,
    /// `offsets.commit.timeout.ms`); false if this broker holds no replica of it.
    fn write_commit(
        &mut self,
        now: SimTime,
        tp: Tp,
        record: CommitRecord,
        from: NodeId,
        correlation: u32,
        out: &mut O,
    ) -> bool {
        let Some(replica) = self.replicas.get_mut(&tp) else {
            return false;
        };
        let epoch = replica.leader_epoch;
        let (base, rolled) = replica.log.append_commit(record.clone(), epoch, now.as_ms());
        replica.unflushed_messages += 1;
        trace_roll(tp, rolled, out);
        let written = Written {
            tp,
            base,
            from,
            correlation,
        };
        self.await_group_write(now, written, Then::OffsetCommit(record), out);
        true
    }

    /// The offset expiry check (`GroupCoordinatorShard.cleanupGroupMetadata`, every
    /// `offsets.retention.check.interval.ms`): expired offsets leave the coordinator, and their
    /// tombstones go to the group's `__consumer_offsets` partition.
    pub(super) fn expire_offsets(&mut self, now: SimTime, out: &mut O) {
        if !self.groups.offset_check_due(now) {
            return;
        }
        let txn_offsets = &self.txn_offsets;
        let expired = self
            .groups
            .expire_offsets(now, |g, tp| txn_offsets.is_pending(g, tp), out);
        for (group, partitions) in expired {
            let Some(tp) = self.offsets_tp(&group) else {
                continue;
            };
            let Some(replica) = self.replicas.get_mut(&tp) else {
                continue;
            };
            let epoch = replica.leader_epoch;
            let tombstones = OffsetTombstones { group, partitions };
            let (_, rolled) = replica.log.append_control(
                Control::OffsetTombstones(Arc::new(tombstones)),
                epoch,
                now.as_ms(),
            );
            replica.unflushed_messages += 1;
            trace_roll(tp, rolled, out);
            self.flush_by_messages(tp);
            self.advance_hw(now, tp, out);
            self.complete_fetches(now, tp, out);
        }
    }

    /// The `__consumer_offsets` partition of `group`, if the cluster has the topic.
    fn offsets_tp(&self, group: &str) -> Option<Tp> {
        let topic = self.offsets_topic?;
        let partitions = self.metadata.as_ref()?.partition_count(topic);
        (partitions > 0).then(|| Tp {
            topic,
            partition: offsets_partition(group, partitions),
        })
    }

    /// True if this broker leads the group's coordinator partition.
    fn coordinates(&self, group: &str) -> bool {
        self.offsets_tp(group)
            .and_then(|tp| self.replicas.get(&tp))
            .is_some_and(|r| r.leading().is_some())
    }

    /// A group request: answered at once or parked in the coordinator, never queued behind the
    /// connection's other requests (Kafka's consumer talks to its coordinator over a connection
    /// of its own).
    pub(super) fn on_group_request(
        &mut self,
        now: SimTime,
        from: NodeId,
        correlation: u32,
        req: GroupRequest,
        out: &mut O,
    ) {
        let answer = |out: &mut O, body: GroupResponse| {
            respond(out, from, correlation, ResponseBody::Group(body));
        };
        if let GroupRequest::FindCoordinator(group) = &req {
            let leader = self
                .offsets_tp(group)
                .and_then(|tp| self.metadata.as_ref()?.partition(tp)?.leader)
                .ok_or(ErrorCode::CoordinatorNotAvailable);
            return answer(out, GroupResponse::FindCoordinator(leader));
        }
        let group = match &req {
            GroupRequest::FindCoordinator(g) => g.clone(),
            GroupRequest::JoinGroup(r) => r.group.clone(),
            GroupRequest::SyncGroup(r) => r.group.clone(),
            GroupRequest::Heartbeat(r) | GroupRequest::LeaveGroup(r) => r.group.clone(),
            GroupRequest::OffsetCommit(r) => r.member.group.clone(),
            GroupRequest::OffsetFetch { group, .. } => group.clone(),
            GroupRequest::TxnOffsetCommit(r) => r.member.group.clone(),
        };
        if !self.coordinates(&group) {
            let body = match req {
                GroupRequest::JoinGroup(_) => {
                    GroupResponse::JoinGroup(Err(crate::kafka::group::messages::JoinGroupError {
                        error: ErrorCode::NotCoordinator,
                        member_id: None,
                    }))
                }
                GroupRequest::SyncGroup(_) => GroupResponse::SyncGroup(Err(ErrorCode::NotCoordinator)),
                GroupRequest::Heartbeat(_) => GroupResponse::Heartbeat(Err(ErrorCode::NotCoordinator)),
                GroupRequest::LeaveGroup(_) => GroupResponse::LeaveGroup(Err(ErrorCode::NotCoordinator)),
                GroupRequest::OffsetCommit(_) => GroupResponse::OffsetCommit(Err(ErrorCode::NotCoordinator)),
                GroupRequest::TxnOffsetCommit(_) => {
                    GroupResponse::TxnOffsetCommit(Err(ErrorCode::NotCoordinator))
                }
                GroupRequest::OffsetFetch { .. } | GroupRequest::FindCoordinator(_) => {
                    GroupResponse::OffsetFetch(Err(ErrorCode::NotCoordinator))
                }
            };
            return answer(out, body);
        }
        match req {
            GroupRequest::FindCoordinator(_) => {}
            GroupRequest::JoinGroup(r) => self.groups.join(now, from, correlation, r, out),
            GroupRequest::SyncGroup(r) => self.groups.sync(now, from, correlation, r, out),
            GroupRequest::Heartbeat(r) => self.groups.heartbeat(now, from, correlation, r, out),
            GroupRequest::LeaveGroup(r) => self.groups.leave(now, from, correlation, r, out),
            GroupRequest::OffsetCommit(r) => {
                let checked = self.groups.commit(&r);
                let tp = self.offsets_tp(&group);
                let (Ok(()), Some(tp)) = (checked, tp) else {
                    return answer(out, GroupResponse::OffsetCommit(checked));
                };
                let record = CommitRecord {
                    group: group.clone(),
                    member: r.member.member_id.clone(),
                    offsets: r.offsets,
                };
                if !self.write_commit(now, tp, record, from, correlation, out) {
                    answer(out, GroupResponse::OffsetCommit(Err(ErrorCode::NotCoordinator)));
                }
            }
            GroupRequest::OffsetFetch { group, partitions } => {
                // The consumer asks with `requireStable`: offsets pending in an open transaction
                // make it wait.
                if partitions
                    .iter()
                    .any(|tp| self.txn_offsets.is_pending(&group, *tp))
                {
                    return answer(
                        out,
                        GroupResponse::OffsetFetch(Err(ErrorCode::UnstableOffsetCommit)),
                    );
                }
                let offsets = self.groups.fetch_offsets(&group, &partitions);
                answer(out, GroupResponse::OffsetFetch(Ok(offsets)));
            }
            GroupRequest::TxnOffsetCommit(r) => {
                let result = self.write_txn_offsets(now, from, correlation, r, &group, out);
                if let Err(e) = result {
                    answer(out, GroupResponse::TxnOffsetCommit(Err(e)));
                }
            }
        }
    }

    /// `TxnOffsetCommit`: checks the member (KIP-447) and the producer epoch, then writes the
    /// offsets as a transactional record of the producer; they are pending until its marker.
    fn write_txn_offsets(
        &mut self,
        now: SimTime,
        from: NodeId,
        correlation: u32,
        r: TxnOffsetCommitRequest,
        group: &Arc<str>,
        out: &mut O,
    ) -> Result<(), ErrorCode> {
        self.groups.validate_txn_commit(&r.member)?;
        let tp = self.offsets_tp(group).ok_or(ErrorCode::NotCoordinator)?;
        let replica = self.replicas.get_mut(&tp).ok_or(ErrorCode::NotCoordinator)?;
        let identity = r.producer.identity;
        replica.producers.check_epoch(identity.id, identity.epoch)?;
        let epoch = replica.leader_epoch;
        let record = CommitRecord {
            group: group.clone(),
            member: r.member.member_id.clone(),
            offsets: r.offsets,
        };
        let (base, rolled) = replica
            .log
            .append_txn_commit(record.clone(), epoch, identity, now.as_ms());
        trace_roll(tp, rolled, out);
        replica.producers.begin_txn(identity.id);
        replica.unflushed_messages += 1;
        let then = Then::TxnOffsetCommit {
            producer_id: identity.id,
            commit: PendingCommit {
                group: record.group,
                member: record.member,
                offsets: record.offsets,
            },
        };
        let written = Written {
            tp,
            base,
            from,
            correlation,
        };
        self.await_group_write(now, written, then, out);
        Ok(())
    }

    /// A group coordinator's record appended at `base` of `tp` waits, like an acks=all produce,
    /// until the ISR has it (`offsets.commit.timeout.ms`, 5 s); then `then` happens.
    fn await_group_write(&mut self, now: SimTime, w: Written, then: Then, out: &mut O) {
        self.produces.push(DelayedProduce {
            client: w.from,
            correlation: w.correlation,
            deadline: now + SimDuration::from_ms(5000),
            results: vec![ProducePartitionResponse {
                tp: w.tp,
                batch_id: 0,
                result: Ok(w.base),
            }],
            waiting: vec![(0, w.tp, w.base + 1)],
            then,
        });
        self.flush_by_messages(w.tp);
        self.advance_hw(now, w.tp, out);
        self.complete_produces(now, w.tp, out);
        self.complete_fetches(now, w.tp, out);
    }

    /// A transaction's marker reached a `__consumer_offsets` partition: its pending offsets
    /// become committed (COMMIT) or are dropped (ABORT).
    pub(super) fn complete_txn_offsets(&mut self, now: SimTime, producer_id: u64, commit: bool, out: &mut O) {
        for c in self.txn_offsets.complete(producer_id, commit) {
            self.groups
                .load_offsets(c.group.clone(), c.offsets.iter().copied(), now);
            out.emit(Event::OffsetsCommitted {
                group: c.group,
                member: c.member,
                offsets: c.offsets,
            });
        }
    }

    /// After a metadata change: drop the groups of coordinator partitions this broker no longer
    /// leads, and load the committed offsets of those it now leads from their logs.
    pub(super) fn refresh_groups(&mut self, now: SimTime, newly_led: &[Tp], out: &mut O) {
        let Some(topic) = self.offsets_topic else {
            return;
        };
        let offsets_partitions = Tp { topic, partition: 0 }..=Tp {
            topic,
            partition: u32::MAX,
        };
        let led: Vec<u32> = self
            .replicas
            .range(offsets_partitions)
            .filter(|(_, r)| r.leading().is_some())
            .map(|(tp, _)| tp.partition)
            .collect();
        let partitions = self.metadata.as_ref().map_or(0, |m| m.partition_count(topic));
        let keep = |g: &str| partitions > 0 && led.contains(&offsets_partition(g, partitions));
        self.groups.unload(keep, out);
        self.txn_offsets.retain(keep);
        for tp in newly_led.iter().filter(|tp| tp.topic == topic) {
            let Some(replica) = self.replicas.get(tp) else {
                continue;
            };
            // Replayed in log order: a transactional commit waits for its producer's marker;
            // a tombstone deletes what came before it. The commit times are not in the log
            // here: offsets read back count as committed now.
            let mut loaded: BTreeMap<Arc<str>, BTreeMap<Tp, u64>> = BTreeMap::new();
            let mut pending = TxnOffsets::default();
            for b in replica.log.batches() {
                match &b.control {
                    Some(Control::OffsetCommit(c)) => match b.transactional_producer_of_control() {
                        Some(pid) => pending.add(
                            pid,
                            PendingCommit {
                                group: c.group.clone(),
                                member: c.member.clone(),
                                offsets: c.offsets.clone(),
                            },
                        ),
                        None => loaded
                            .entry(c.group.clone())
                            .or_default()
                            .extend(c.offsets.iter().copied()),
                    },
                    Some(Control::OffsetTombstones(t)) => {
                        if let Some(offsets) = loaded.get_mut(&t.group) {
                            for tp in &t.partitions {
                                offsets.remove(tp);
                            }
                        }
                    }
                    Some(Control::Marker(m)) => {
                        for c in pending.complete(m.producer_id, m.commit) {
                            loaded.entry(c.group).or_default().extend(c.offsets);
                        }
                    }
                    _ => {}
                }
            }
            for (group, offsets) in loaded {
                self.groups.load_offsets(group, offsets, now);
            }
            self.groups.start_offset_expiry(now);
            self.txn_offsets.absorb(pending);
        }
    }
}

//! The leader's side: produce with `acks` and `min.insync.replicas`, reads for consumers and
//! followers, follower progress, the high watermark and ISR changes.
//!
//! Followed: `Partition.scala` (`appendRecordsToLeader`, `maybeIncrementLeaderHW`,
//! `maybeShrinkIsr`, `maybeExpandIsr`, `updateFollowerFetchState`), `Replica.scala`
//! (`updateFetchStateOrThrow`), `ReplicaManager.scala` / `DelayedProduce.scala` (Kafka 4.0, with
//! the 3.7+ rule that the HW does not move while the ISR is below min ISR, KAFKA-15583).

use super::alter_partition::IsrAnswer;
use super::producers::Verdict;
use super::requests::{DelayedProduce, FetchKind, ParkedFetch, Then, respond};
use super::storage::trace_roll;
use super::{Broker, O, Replica, Role};
use crate::kafka::log::PartitionLog;
use crate::kafka::protocol::{
    BrokerId, ErrorCode, FetchPartitionResponse, FetchRequest, IsrProposal, Message, PartitionState,
    ProducePartitionResponse, ProduceRequest, ReplicaData, ReplicaFetchPartitionResponse,
    ReplicaFetchRequest, ResponseBody,
};
use crate::kafka::record::Tp;
use crate::scenario::config::TruncationRule;
use crate::sim::{NodeId, SimDuration, SimTime};
use crate::trace::Event;
use std::sync::Arc;

impl Broker {
    /// The leader epoch if this broker leads `tp`, else the error a client gets.
    pub(super) fn leadership(&self, tp: Tp) -> Result<u32, ErrorCode> {
        self.leading_replica(tp).map(|r| r.leader_epoch)
    }

    /// The replica of `tp` if this broker leads it, else the error a request for it gets.
    fn leading_replica(&self, tp: Tp) -> Result<&Replica, ErrorCode> {
        let md = self.metadata.as_ref().ok_or(ErrorCode::NotLeaderOrFollower)?;
        md.partition(tp).ok_or(ErrorCode::UnknownTopicOrPartition)?;
        match self.replicas.get(&tp) {
            Some(r) if r.leading().is_some() => Ok(r),
            _ => Err(ErrorCode::NotLeaderOrFollower),
        }
    }

    pub(super) fn leader_log(&self, tp: Tp) -> Result<&PartitionLog, ErrorCode> {
        self.leading_replica(tp).map(|r| &r.log)
    }

    /// `min(min.insync.replicas, replication factor)` (the cap is 3.7+).
    pub(super) fn effective_min_isr(&self, tp: Tp, replication_factor: usize) -> u32 {
        self.topic(tp).min_insync_replicas.min(replication_factor as u32)
    }

    /// Produce; returns true if the request waits (for its coordinator's verification, or in
    /// purgatory).
    pub(super) fn produce(
        &mut self,
        now: SimTime,
        client: NodeId,
        correlation: u32,
        req: ProduceRequest,
        out: &mut O,
    ) -> bool {
        match self.verify_first(now, client, correlation, req, out) {
            Some(req) => self.produce_answering(now, client, correlation, req, Vec::new(), out),
            None => true,
        }
    }

    /// Appends a produce's batches; `refused` are answers already decided for other batches of
    /// the request. Returns true if the request waits in purgatory.
    pub(super) fn produce_answering(
        &mut self,
        now: SimTime,
        client: NodeId,
        correlation: u32,
        req: ProduceRequest,
        refused: Vec<ProducePartitionResponse>,
        out: &mut O,
    ) -> bool {
        let mut results = refused;
        results.reserve(req.batches.len());
        let mut waiting = Vec::new();
        let mut touched = Vec::new();
        for batch in req.batches {
            let result = self.leadership(batch.tp).and_then(|epoch| {
                let tp = batch.tp;
                if batch.bytes > self.topic(tp).max_message_bytes {
                    return Err(ErrorCode::MessageTooLarge);
                }
                let replica = self.replicas.get(&tp).ok_or(ErrorCode::NotLeaderOrFollower)?;
                let leader = replica.leading().ok_or(ErrorCode::NotLeaderOrFollower)?;
                let min = self.effective_min_isr(tp, leader.replicas.len());
                // Checked before appending: nothing is written.
                if req.acks == -1 && (leader.isr.len() as u32) < min {
                    return Err(ErrorCode::NotEnoughReplicas);
                }
                // `LogValidator.validateKey` (kafka-storage): "Compacted topic cannot accept
                // message without key"; one bad record fails the batch, before the producer
                // state is looked at.
                if self.topic(tp).cleanup_policy.compact
                    && batch.records.iter().any(|r| self.keys.key(*r).is_none())
                {
                    return Err(ErrorCode::InvalidRecord);
                }
                let replica = self.replicas.get_mut(&tp).ok_or(ErrorCode::NotLeaderOrFollower)?;
                let count = batch.records.len();
                if let Some(s) = batch.sequence
                    && let Verdict::Duplicate(base_offset) = replica.producers.check(s, count)?
                {
                    out.emit(Event::DuplicateBatch {
                        producer: batch.records.first().map_or(0, |r| r.producer),
                        tp,
                        batch_id: batch.batch_id,
                        base_offset,
                        records: count as u32,
                    });
                    if req.acks == -1 {
                        // Answered once the first copy is committed (usually already).
                        waiting.push((results.len(), tp, base_offset + count as u64));
                        touched.push(tp);
                    }
                    return Ok(base_offset);
                }
                if batch.transactional
                    && let Some(s) = batch.sequence
                    && !replica.producers.has_ongoing(s.producer_id, s.epoch)
                    && !self.verified.remove(&(tp, s.producer_id, s.epoch))
                {
                    // `Record was not part of an ongoing transaction` (KIP-890 verification).
                    return Err(ErrorCode::InvalidTxnState);
                }
                let replica = self.replicas.get_mut(&tp).ok_or(ErrorCode::NotLeaderOrFollower)?;
                let (base_offset, rolled) = replica.log.append_data(
                    Arc::clone(&batch.records),
                    batch.bytes,
                    epoch,
                    batch.sequence,
                    batch.transactional,
                    batch.timestamps.clone(),
                    now.as_ms(),
                );
                trace_roll(tp, rolled, out);
                if let Some(s) = batch.sequence {
                    replica.producers.appended(s, count, base_offset);
                    if batch.transactional {
                        replica.producers.begin_txn(s.producer_id);
                    }
                }
                replica.unflushed_messages += batch.records.len() as u64;
                out.emit(Event::Append {
                    tp,
                    base_offset,
                    records: Arc::clone(&batch.records),
                    leader_epoch: epoch,
                    high_watermark: replica.log.high_watermark(),
                    log_bytes: replica.log.size_bytes(),
                });
                if req.acks == -1 {
                    waiting.push((results.len(), tp, replica.log.log_end_offset()));
                }
                touched.push(tp);
                Ok(base_offset)
            });
            if let Err(error) = result {
                out.trace(|| Event::ProduceRejected {
                    tp: batch.tp,
                    batch_id: batch.batch_id,
                    error,
                });
            }
            results.push(ProducePartitionResponse {
                tp: batch.tp,
                batch_id: batch.batch_id,
                result,
            });
        }
        for tp in &touched {
            self.flush_by_messages(*tp);
        }
        if req.acks == 0 {
            // acks=0 gets no response; an error can only be signalled by closing the connection.
            if results.iter().any(|r| r.result.is_err()) {
                out.close(client);
            }
        } else if waiting.is_empty() {
            respond(out, client, correlation, ResponseBody::Produce(results));
        } else {
            self.produces.push(DelayedProduce {
                client,
                correlation,
                deadline: now + SimDuration::from_ms(req.timeout_ms),
                results,
                waiting,
                then: Then::Produce,
            });
        }
        // As Kafka's action queue does after the whole request: HWs first, then the purgatories,
        // so a fetch parked on several of these partitions sees all of them.
        for tp in &touched {
            self.advance_hw(now, *tp, out);
        }
        for tp in &touched {
            self.complete_produces(now, *tp, out);
        }
        for tp in &touched {
            self.complete_fetches(now, *tp, out);
        }
        // With a single replica the HW may already have completed it.
        self.produces
            .iter()
            .any(|p| p.client == client && p.correlation == correlation)
    }

    /// A consumer's fetch; returns true if it waits in purgatory.
    pub(super) fn consumer_fetch(
        &mut self,
        now: SimTime,
        client: NodeId,
        correlation: u32,
        req: FetchRequest,
        out: &mut O,
    ) -> bool {
        let (responses, bytes, errors) = self.read_consumer_fetch(&req);
        if errors || bytes >= req.min_bytes || req.max_wait_ms == 0 {
            respond(out, client, correlation, ResponseBody::Fetch(responses));
            return false;
        }
        self.fetches.push(ParkedFetch {
            client,
            correlation,
            deadline: now + SimDuration::from_ms(req.max_wait_ms),
            kind: FetchKind::Consumer(req),
        });
        true
    }

    /// Reads a consumer fetch (below the HW): responses, bytes found, whether any failed.
    pub(super) fn read_consumer_fetch(&self, req: &FetchRequest) -> (Vec<FetchPartitionResponse>, u32, bool) {
        let mut total = 0u32;
        let mut errors = false;
        let responses = req
            .partitions
            .iter()
            .map(|p| {
                let result = self.leader_log(p.tp).and_then(|log| {
                    if p.offset < log.log_start_offset() || p.offset > log.log_end_offset() {
                        return Err(ErrorCode::OffsetOutOfRange);
                    }
                    let budget = req
                        .max_partition_bytes
                        .min(req.max_bytes.saturating_sub(total).max(1));
                    // `read_committed` reads up to the LSO, with the aborted transactions of
                    // the range read (`UnifiedLog.read`, `collectAbortedTransactions`).
                    let upto = if req.read_committed {
                        log.last_stable_offset()
                    } else {
                        log.high_watermark()
                    };
                    let (batches, bytes) = log.read(p.offset, upto, budget);
                    total = total.saturating_add(bytes);
                    let aborted = match batches.last() {
                        Some(last) if req.read_committed => {
                            log.txns().aborted_between(p.offset, last.next_offset())
                        }
                        _ => Vec::new(),
                    };
                    Ok((batches, aborted))
                });
                errors |= result.is_err();
                let log = self.log(p.tp);
                let high_watermark = log.map_or(0, PartitionLog::high_watermark);
                let last_stable_offset = log.map_or(0, PartitionLog::last_stable_offset);
                let (result, aborted) = match result {
                    Ok((batches, aborted)) => (Ok(batches), aborted),
                    Err(e) => (Err(e), Vec::new()),
                };
                FetchPartitionResponse {
                    tp: p.tp,
                    fetch_offset: p.offset,
                    result,
                    high_watermark,
                    last_stable_offset,
                    aborted,
                }
            })
            .collect();
        (responses, total, errors)
    }

    /// A follower's fetch: records its progress, then answers now or parks until data arrives.
    pub(super) fn replica_fetch(
        &mut self,
        now: SimTime,
        client: NodeId,
        correlation: u32,
        req: ReplicaFetchRequest,
        out: &mut O,
    ) -> bool {
        let (responses, bytes, urgent) = self.read_replica_fetch(&req);
        let mut moved = false;
        for r in &responses {
            if let Ok(data) = &r.result
                && data.diverging.is_none()
                && r.fetch_offset >= data.log_start_offset
            {
                moved |= self.record_follower_fetch(now, r.tp, req.replica, r.fetch_offset, out);
            }
        }
        if urgent || bytes >= req.min_bytes.max(1) || req.max_wait_ms == 0 {
            respond(out, client, correlation, ResponseBody::ReplicaFetch(responses));
            return false;
        }
        // Recording this follower's progress may have moved the HW, completed a produce and let
        // the next one append: then `tryCompleteElseWatch` finds data at once.
        let grew = moved
            && responses.iter().any(|r| {
                r.result.as_ref().is_ok_and(|d| {
                    self.log(r.tp)
                        .is_some_and(|l| l.log_end_offset() > d.leader_log_end)
                })
            });
        self.fetches.push(ParkedFetch {
            client,
            correlation,
            deadline: now + SimDuration::from_ms(req.max_wait_ms),
            kind: FetchKind::Replica(req),
        });
        !(grew && self.try_answer(now, self.fetches.len() - 1, false, out))
    }

    /// Reads a follower fetch (up to the LEO): responses, bytes found, and whether something
    /// must be answered at once (an error or a divergence).
    pub(super) fn read_replica_fetch(
        &self,
        req: &ReplicaFetchRequest,
    ) -> (Vec<ReplicaFetchPartitionResponse>, u32, bool) {
        let mut total = 0u32;
        let mut urgent = false;
        let responses = req
            .partitions
            .iter()
            .map(|p| {
                let result = self.leading_replica(p.tp).and_then(|r| {
                    let epoch = r.leader_epoch;
                    if p.current_leader_epoch < epoch {
                        return Err(ErrorCode::FencedLeaderEpoch);
                    }
                    if p.current_leader_epoch > epoch {
                        return Err(ErrorCode::UnknownLeaderEpoch);
                    }
                    let log = &r.log;
                    let mut data = ReplicaData {
                        batches: Vec::new(),
                        high_watermark: log.high_watermark(),
                        diverging: None,
                        leader_log_end: log.log_end_offset(),
                        log_start_offset: log.log_start_offset(),
                    };
                    // Divergence check (KIP-279, on the fetch since IBP 2.7); the pre-0.11 rule
                    // has none and relies on the out-of-range fallback.
                    if self.config.truncation == TruncationRule::LeaderEpoch
                        && let Some(last) = p.last_fetched_epoch
                        && let Some((epoch, end)) = log.end_offset_for(last)
                        && (epoch < last || end < p.fetch_offset)
                    {
                        data.diverging = Some((epoch, end));
                        return Ok(data);
                    }
                    // Below the log start offset `LocalLog.read` throws OffsetOutOfRange; the
                    // follower then asks for the leader's start and starts there
                    // (`AbstractFetcherThread.fetchOffsetAndTruncate`): the answer carries it.
                    if p.fetch_offset < data.log_start_offset {
                        return Ok(data);
                    }
                    if p.fetch_offset < data.leader_log_end {
                        let (batches, bytes) = log.read_batches(p.fetch_offset, req.max_partition_bytes);
                        total = total.saturating_add(bytes);
                        data.batches = batches;
                    }
                    Ok(data)
                });
                urgent |= match &result {
                    Ok(d) => {
                        d.diverging.is_some()
                            || p.fetch_offset > d.leader_log_end
                            || p.fetch_offset < d.log_start_offset
                    }
                    Err(_) => true,
                };
                ReplicaFetchPartitionResponse {
                    tp: p.tp,
                    fetch_offset: p.fetch_offset,
                    result,
                }
            })
            .collect();
        (responses, total, urgent)
    }

    /// `updateFollowerFetchState`: the follower's log end, `lastCaughtUpTime` (§2.3), then ISR
    /// expansion and the HW.
    /// Returns whether the follower's log end moved (only then can the HW move).
    fn record_follower_fetch(
        &mut self,
        now: SimTime,
        tp: Tp,
        follower: BrokerId,
        fetch_offset: u64,
        out: &mut O,
    ) -> bool {
        let Some(replica) = self.replicas.get_mut(&tp) else {
            return false;
        };
        let leader_end = replica.log.log_end_offset();
        let Some(leader) = replica.leading_mut() else {
            return false;
        };
        let Some(f) = leader.followers.get_mut(&follower) else {
            return false;
        };
        if fetch_offset >= leader_end {
            f.last_caught_up = f.last_caught_up.max(now);
        } else if fetch_offset >= f.last_fetch_leader_log_end {
            f.last_caught_up = f.last_caught_up.max(f.last_fetch_time);
        }
        f.last_fetch_leader_log_end = f.last_fetch_leader_log_end.max(leader_end);
        f.last_fetch_time = now;
        let moved = f.log_end != Some(fetch_offset);
        f.log_end = Some(fetch_offset);
        if !leader.isr.contains(&follower) {
            self.maybe_expand_isr(tp, follower, out);
        }
        if moved {
            self.maybe_advance_hw(now, tp, out);
        }
        moved
    }

    fn is_caught_up(&self, tp: Tp, follower: BrokerId, now: SimTime) -> bool {
        let Some(r) = self.replicas.get(&tp) else {
            return false;
        };
        let Some(f) = r.leading().and_then(|l| l.followers.get(&follower)) else {
            return false;
        };
        f.log_end == Some(r.log.log_end_offset())
            || now.since(f.last_caught_up) <= self.config.replica_lag_time_max
    }

    fn is_eligible(&self, broker: BrokerId) -> bool {
        self.metadata
            .as_ref()
            .is_some_and(|m| m.live_brokers.contains(&broker))
    }

    /// `maybeIncrementLeaderHW`: the HW becomes the smallest log end among the leader and the
    /// (maximal) ISR, plus caught-up eligible followers (3.6+); it does not move at all while
    /// the committed ISR is below min ISR (3.7+).
    pub(super) fn maybe_advance_hw(&mut self, now: SimTime, tp: Tp, out: &mut O) {
        if self.advance_hw(now, tp, out) {
            self.complete_produces(now, tp, out);
            self.complete_fetches(now, tp, out);
        }
    }

    /// Moves the HW by the rule; true if it moved.
    pub(super) fn advance_hw(&mut self, now: SimTime, tp: Tp, out: &mut O) -> bool {
        let Some(r) = self.replicas.get(&tp) else {
            return false;
        };
        let Some(l) = r.leading() else { return false };
        // KAFKA-15583 (3.7): no HW move while the committed ISR is below min ISR.
        if self.config.min_isr_hw_gate && (l.isr.len() as u32) < self.effective_min_isr(tp, l.replicas.len())
        {
            return false;
        }
        let maximal = l.maximal_isr();
        let mut candidate = r.log.log_end_offset();
        for (b, f) in &l.followers {
            let counts = maximal.contains(b) || (self.is_caught_up(tp, *b, now) && self.is_eligible(*b));
            if counts {
                candidate = candidate.min(f.log_end.unwrap_or(0));
            }
        }
        if candidate <= r.log.high_watermark() {
            return false;
        }
        if let Some(r) = self.replicas.get_mut(&tp) {
            r.log.set_high_watermark(candidate);
            out.trace(|| Event::HighWatermark {
                tp,
                high_watermark: candidate,
                last_stable_offset: r.log.last_stable_offset(),
            });
        }
        true
    }

    /// Every `replica.lag.time.max.ms / 2`: followers in the ISR that are not caught up are
    /// proposed for removal.
    pub(super) fn shrink_isrs(&mut self, now: SimTime, out: &mut O) {
        let leading: Vec<Tp> = self
            .replicas
            .iter()
            .filter(|(_, r)| r.leading().is_some())
            .map(|(tp, _)| *tp)
            .collect();
        for tp in leading {
            let Some(l) = self.replicas.get(&tp).and_then(|r| r.leading()) else {
                continue;
            };
            if l.pending_isr.is_some() {
                continue;
            }
            let out_of_sync: Vec<BrokerId> = l
                .isr
                .iter()
                .copied()
                .filter(|b| *b != self.id && !self.is_caught_up(tp, *b, now))
                .collect();
            if !out_of_sync.is_empty() {
                let isr: Vec<BrokerId> = l
                    .isr
                    .iter()
                    .copied()
                    .filter(|b| !out_of_sync.contains(b))
                    .collect();
                self.propose_isr(tp, isr, "shrink", out);
            }
        }
    }

    /// `maybeExpandIsr`: a follower joins when it has reached the HW and the start of the
    /// leader's current epoch, and is eligible.
    fn maybe_expand_isr(&mut self, tp: Tp, follower: BrokerId, out: &mut O) {
        let Some(r) = self.replicas.get(&tp) else { return };
        let Some(l) = r.leading() else { return };
        let Some(f) = l.followers.get(&follower) else {
            return;
        };
        let Some(follower_end) = f.log_end else { return };
        let joins = !l.isr.contains(&follower)
            && l.pending_isr.is_none()
            && follower_end >= r.log.high_watermark()
            && follower_end >= r.log.latest_epoch_start().unwrap_or(0)
            && self.is_eligible(follower);
        if joins {
            let mut isr = l.isr.clone();
            isr.push(follower);
            self.propose_isr(tp, isr, "expand", out);
        }
    }

    /// `Partition.submitAlterPartition`: the proposal is queued for the controller; if the
    /// queue already holds one for the partition (from a previous leader epoch, still in flight),
    /// the partition stays at its committed ISR and tries again later (Kafka's
    /// `handleAlterPartitionError` on `OPERATION_NOT_ATTEMPTED`).
    fn propose_isr(&mut self, tp: Tp, isr: Vec<BrokerId>, why: &'static str, out: &mut O) {
        let Some(r) = self.replicas.get_mut(&tp) else {
            return;
        };
        let leader_epoch = r.leader_epoch;
        let Some(l) = r.leading_mut() else { return };
        let proposal = IsrProposal {
            tp,
            leader_epoch,
            partition_epoch: l.partition_epoch,
            isr: isr.clone(),
        };
        if !self.alter_partition.submit(proposal) {
            return;
        }
        let shown = isr.clone();
        l.pending_isr = Some(isr);
        out.trace(|| Event::IsrProposed { tp, isr: shown, why });
        self.send_alter_partition(out);
    }

    /// Sends the queued ISR proposals if no request is in flight (`maybePropagateIsrChanges`).
    fn send_alter_partition(&mut self, out: &mut O) {
        let correlation = self.next_correlation;
        if let Some(partitions) = self.alter_partition.request(correlation) {
            self.next_correlation = self.next_correlation.wrapping_add(1);
            out.send(
                self.addr.controller(),
                Message::AlterPartition {
                    broker: self.id,
                    correlation,
                    partitions,
                },
            );
        }
    }

    /// The controller committed (or refused) the ISR changes of a request; the proposals queued
    /// meanwhile go next.
    pub(super) fn on_alter_partition(
        &mut self,
        now: SimTime,
        correlation: u32,
        answers: Vec<IsrAnswer>,
        out: &mut O,
    ) {
        let Some(answers) = self.alter_partition.on_response(correlation, answers) else {
            return;
        };
        for (tp, result) in answers {
            self.on_isr_answer(now, tp, result, out);
        }
        self.send_alter_partition(out);
    }

    /// One partition's answer: the leader adopts the committed ISR.
    fn on_isr_answer(
        &mut self,
        now: SimTime,
        tp: Tp,
        result: Result<PartitionState, ErrorCode>,
        out: &mut O,
    ) {
        let Some(l) = self.replicas.get_mut(&tp).and_then(|r| r.leading_mut()) else {
            return;
        };
        l.pending_isr = None;
        if let Ok(state) = result
            && state.partition_epoch >= l.partition_epoch
        {
            l.isr = state.isr;
            l.partition_epoch = state.partition_epoch;
        }
        self.maybe_advance_hw(now, tp, out);
    }

    /// `flush.messages`: fsync once that many messages are unflushed.
    pub(super) fn flush_by_messages(&mut self, tp: Tp) {
        let limit = self.topic(tp).flush_messages;
        if let Some(r) = self.replicas.get_mut(&tp)
            && r.unflushed_messages >= limit
        {
            r.log.flush();
            r.unflushed_messages = 0;
        }
    }

    /// `flush.ms`: fsync data that has waited that long.
    pub(super) fn flush_by_time(&mut self, now: SimTime) {
        if !self.flushes_by_time {
            return;
        }
        for (tp, r) in &mut self.replicas {
            let interval = self.topics[tp.topic as usize].flush_interval;
            if r.unflushed_messages > 0 && now >= r.last_flush + interval {
                r.log.flush();
                r.unflushed_messages = 0;
                r.last_flush = now;
            }
        }
    }

    /// A replica stops leading: produces waiting on it fail with NOT_LEADER_OR_FOLLOWER.
    pub(super) fn lost_leadership(&mut self, now: SimTime, tp: Tp, out: &mut O) {
        if matches!(
            self.replicas.get(&tp).map(|r| &r.role),
            Some(Role::Follower { .. })
        ) {
            self.complete_produces(now, tp, out);
        }
    }
}

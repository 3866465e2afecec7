//! The record accumulator: one deque of batches per partition, appends at the back, the sender
//! drains from the front; buffer memory; readiness (`linger.ms`, full batches, backoff); drain
//! rotation; `delivery.timeout.ms` expiry; re-enqueueing failed batches at the front.
//!
//! Followed: `RecordAccumulator`, `ProducerBatch` and `BufferPool`
//! (clients/src/main/java/org/apache/kafka/clients/producer/internals/), Kafka 4.0.

use super::idempotence::Idempotence;
use crate::kafka::protocol::{BrokerId, ClusterMetadata, WireBatch};
use crate::kafka::record::{
    BATCH_HEADER_BYTES, RecordId, Timestamps, Tp, record_bytes, record_upper_bound_bytes,
};
use crate::scenario::ProducerConfig;
use crate::sim::{SimDuration, SimTime};
use crate::trace::BatchInRequest;
use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::sync::Arc;

/// A drained batch's records and their timestamp deltas, shared by every retry.
type Frozen = (Arc<[RecordId]>, Arc<[u32]>);

/// A producer batch.
#[derive(Clone, Debug)]
pub struct Batch {
    /// Producer-local batch number, in creation order.
    pub id: u64,
    /// Destination.
    pub tp: Tp,
    /// Records in append order while the batch is open (moved into `frozen` at the first drain).
    records: Vec<RecordId>,
    /// Each record's timestamp minus the first's, in step with `records`.
    timestamp_deltas_ms: Vec<u32>,
    record_count: u32,
    /// Estimated size in the v2 format, header included.
    pub bytes: u32,
    /// Bytes taken from `buffer.memory`.
    pub reserved_bytes: u64,
    /// When the batch was created (linger and delivery timeout count from here).
    pub created_at: SimTime,
    first_timestamp_ms: u64,
    /// Last time it was (re)enqueued; starts at creation.
    pub last_attempt_at: SimTime,
    /// Re-enqueues so far.
    pub attempts: u32,
    /// Backoff drawn at the last re-enqueue.
    pub backoff: SimDuration,
    closed: bool,
    frozen: Option<Frozen>,
}

impl Batch {
    fn is_full(&self, batch_size: u32) -> bool {
        self.closed || self.bytes >= batch_size
    }

    /// The records as sent (frozen at the first drain, shared by every retry).
    pub fn wire_records(&mut self) -> Arc<[RecordId]> {
        Arc::clone(&self.freeze().0)
    }

    /// The records' timestamps as sent (`CreateTime`).
    pub fn wire_timestamps(&mut self) -> Timestamps {
        Timestamps::CreateTime {
            base_ms: self.first_timestamp_ms,
            deltas_ms: Arc::clone(&self.freeze().1),
        }
    }

    fn freeze(&mut self) -> &Frozen {
        if self.frozen.is_none() {
            let records = std::mem::take(&mut self.records).into();
            let deltas = std::mem::take(&mut self.timestamp_deltas_ms).into();
            self.frozen = Some((records, deltas));
        }
        self.frozen.as_ref().expect("just set")
    }

    /// Number of records.
    pub fn len(&self) -> u32 {
        self.record_count
    }

    /// True for a batch without records (never the case for a batch in a deque).
    pub fn is_empty(&self) -> bool {
        self.record_count == 0
    }

    fn push(&mut self, record: RecordId, timestamp_ms: u64, bytes: u32) {
        debug_assert!(self.frozen.is_none(), "appending to a drained batch");
        let delta = timestamp_ms.saturating_sub(self.first_timestamp_ms);
        self.timestamp_deltas_ms
            .push(u32::try_from(delta).unwrap_or(u32::MAX));
        self.records.push(record);
        self.record_count += 1;
        self.bytes += bytes;
    }

    fn backing_off(&self, now: SimTime) -> bool {
        self.attempts > 0 && now < self.last_attempt_at + self.backoff
    }
}

/// A batch sent and not completed; `expired` batches were already failed by
/// `delivery.timeout.ms` and only wait for their request to finish.
struct InFlightBatch {
    batch: Batch,
    expired: bool,
}

/// Result of trying to append a record.
#[derive(Clone, Copy, Debug)]
pub enum AppendOutcome {
    /// The record joined batch `batch_id`.
    Appended {
        /// The batch.
        batch_id: u64,
        /// Growth of the batch's estimated size.
        appended_bytes: u32,
        /// The partition's last batch is full after this append.
        batch_full: bool,
        /// The record opened a new batch.
        new_batch: bool,
    },
    /// A new batch is needed and `buffer.memory` cannot hold it yet.
    NeedMemory,
}

/// What `ready()` found.
#[derive(Debug, Default)]
pub struct Readiness {
    /// Leaders with at least one sendable partition.
    pub nodes: BTreeSet<BrokerId>,
    /// When the next batch becomes sendable (linger or backoff).
    pub next_check: Option<SimTime>,
    /// Some partition with data has no known leader.
    pub unknown_leader: bool,
}

/// One deque per partition, indexed by topic then partition (iterated in that order).
#[derive(Default)]
struct Deques(Vec<Vec<VecDeque<Batch>>>);

impl Deques {
    fn get(&self, tp: Tp) -> Option<&VecDeque<Batch>> {
        self.0.get(tp.topic as usize)?.get(tp.partition as usize)
    }

    fn get_mut(&mut self, tp: Tp) -> Option<&mut VecDeque<Batch>> {
        self.0.get_mut(tp.topic as usize)?.get_mut(tp.partition as usize)
    }

    fn entry(&mut self, tp: Tp) -> &mut VecDeque<Batch> {
        let (t, p) = (tp.topic as usize, tp.partition as usize);
        if self.0.len() <= t {
            self.0.resize_with(t + 1, Vec::new);
        }
        let topic = &mut self.0[t];
        if topic.len() <= p {
            topic.resize_with(p + 1, VecDeque::new);
        }
        &mut topic[p]
    }

    fn iter(&self) -> impl Iterator<Item = (Tp, &VecDeque<Batch>)> {
        self.0.iter().enumerate().flat_map(|(t, ps)| {
            ps.iter().enumerate().map(move |(p, d)| {
                let tp = Tp {
                    topic: t as u32,
                    partition: p as u32,
                };
                (tp, d)
            })
        })
    }

    fn values(&self) -> impl Iterator<Item = &VecDeque<Batch>> {
        self.0.iter().flatten()
    }

    fn values_mut(&mut self) -> impl Iterator<Item = &mut VecDeque<Batch>> {
        self.0.iter_mut().flatten()
    }
}

/// The accumulator.
pub struct Accumulator {
    batch_size: u32,
    linger: SimDuration,
    buffer_memory: u64,
    max_request_size: u32,
    delivery_timeout: SimDuration,
    guarantee_order: bool,
    deques: Deques,
    in_flight: BTreeMap<u64, InFlightBatch>,
    muted: BTreeSet<Tp>,
    used_memory: u64,
    drain_index: BTreeMap<BrokerId, usize>,
    next_batch_id: u64,
}

/// Where a re-enqueued batch goes: the front, or behind the queued batches whose sequences are
/// lower than its own (`RecordAccumulator.insertInSequenceOrder`).
fn in_sequence_order(deque: &VecDeque<Batch>, batch: u64, idempotence: Option<&Idempotence>) -> usize {
    let Some(i) = idempotence else { return 0 };
    let Some(own) = i.base_sequence(batch) else {
        return 0;
    };
    deque
        .iter()
        .take_while(|b| i.base_sequence(b.id).is_some_and(|s| s < own))
        .count()
}

impl Accumulator {
    /// An empty accumulator for a producer with `cfg`.
    pub fn new(cfg: &ProducerConfig) -> Accumulator {
        Accumulator {
            batch_size: cfg.batch_size_bytes,
            linger: cfg.linger,
            buffer_memory: cfg.buffer_memory_bytes,
            max_request_size: cfg.max_request_size_bytes,
            delivery_timeout: cfg.delivery_timeout,
            // Sender.guaranteeMessageOrder: max.in.flight == 1 mutes a partition while its batch
            // is in flight.
            guarantee_order: cfg.max_in_flight == 1,
            deques: Deques::default(),
            in_flight: BTreeMap::new(),
            muted: BTreeSet::new(),
            used_memory: 0,
            drain_index: BTreeMap::new(),
            next_batch_id: 0,
        }
    }

    /// The id the next new batch gets.
    pub fn next_batch_id(&self) -> u64 {
        self.next_batch_id
    }

    /// Numbers new batches from `id` on: a restarted producer goes on after its crashed
    /// incarnation's batches, so that the run's history keeps one entry per batch.
    pub fn number_batches_from(&mut self, id: u64) {
        self.next_batch_id = id;
    }

    /// Appends to the partition's last batch, or to a new one if it does not fit, at `now`;
    /// the record's timestamp is `timestamp_ms` (`CreateTime`).
    pub fn append(
        &mut self,
        tp: Tp,
        record: RecordId,
        key: Option<u32>,
        value: u32,
        now: SimTime,
        timestamp_ms: u64,
    ) -> AppendOutcome {
        let batch_size = self.batch_size;
        let deque = self.deques.entry(tp);
        if let Some(last) = deque.back_mut().filter(|b| !b.closed) {
            let ts_delta = timestamp_ms.saturating_sub(last.first_timestamp_ms);
            let size = record_bytes(last.record_count, ts_delta, key, value);
            if last.bytes.saturating_add(size) <= batch_size {
                last.push(record, timestamp_ms, size);
                let batch_full = last.is_full(batch_size);
                return AppendOutcome::Appended {
                    batch_id: last.id,
                    appended_bytes: size,
                    batch_full,
                    new_batch: false,
                };
            }
            last.closed = true;
        }
        let reserved = u64::from(batch_size.max(record_upper_bound_bytes(key, value)));
        if self.used_memory + reserved > self.buffer_memory {
            return AppendOutcome::NeedMemory;
        }
        self.used_memory += reserved;
        let id = self.next_batch_id;
        self.next_batch_id += 1;
        let bytes = BATCH_HEADER_BYTES + record_bytes(0, 0, key, value);
        // Room for as many records of this size as batch.size holds, so the vector rarely grows.
        let capacity = (batch_size / bytes.max(1)).clamp(1, 4096) as usize;
        let mut records = Vec::with_capacity(capacity);
        records.push(record);
        let mut timestamp_deltas_ms = Vec::with_capacity(capacity);
        timestamp_deltas_ms.push(0);
        let batch = Batch {
            id,
            tp,
            records,
            timestamp_deltas_ms,
            record_count: 1,
            bytes,
            reserved_bytes: reserved,
            created_at: now,
            first_timestamp_ms: timestamp_ms,
            last_attempt_at: now,
            attempts: 0,
            backoff: SimDuration::ZERO,
            closed: false,
            frozen: None,
        };
        let batch_full = batch.is_full(batch_size);
        let deque = self.deques.entry(tp);
        deque.push_back(batch);
        AppendOutcome::Appended {
            batch_id: id,
            appended_bytes: bytes,
            batch_full: batch_full || deque.len() > 1,
            new_batch: true,
        }
    }

    /// True if the partition's last batch is full (or there is none): the sticky partitioner
    /// may switch.
    pub fn last_batch_full(&self, tp: Tp) -> bool {
        self.deques
            .get(tp)
            .and_then(|d| d.back())
            .is_none_or(|b| b.is_full(self.batch_size))
    }

    /// Queued batches of a partition.
    #[cfg(test)]
    fn queued(&self, tp: Tp) -> usize {
        self.deques.get(tp).map_or(0, VecDeque::len)
    }

    /// Which leaders have sendable data (`RecordAccumulator.ready`). `exhausted`: the application
    /// waits for memory, which makes every batch sendable.
    pub fn ready(&self, now: SimTime, md: &ClusterMetadata, exhausted: bool) -> Readiness {
        let mut r = Readiness::default();
        for (tp, deque) in self.deques.iter() {
            let Some(head) = deque.front() else { continue };
            if self.muted.contains(&tp) {
                continue;
            }
            let Some(leader) = md.partition(tp).and_then(|p| p.leader) else {
                r.unknown_leader = true;
                continue;
            };
            let backing_off = head.backing_off(now);
            let wait = if backing_off { head.backoff } else { self.linger };
            let sendable_at = head.last_attempt_at + wait;
            let full = deque.len() > 1 || head.is_full(self.batch_size);
            let sendable = full || now >= sendable_at || exhausted;
            if sendable && !backing_off {
                r.nodes.insert(leader);
            } else {
                r.next_check = Some(r.next_check.map_or(sendable_at, |t| t.min(sendable_at)));
            }
        }
        r
    }

    /// Takes at most one batch per partition led by `leader`, rotating the start partition, up to
    /// `max.request.size` (`RecordAccumulator.drainBatchesForOneNode`). With idempotence, a
    /// partition whose head may not go yet stops the drain, and a batch gets its sequence here.
    pub fn drain(
        &mut self,
        leader: BrokerId,
        md: &ClusterMetadata,
        now: SimTime,
        mut idempotence: Option<&mut Idempotence>,
        may_send: impl Fn(Tp) -> bool,
    ) -> (Vec<WireBatch>, Vec<BatchInRequest>) {
        let parts: Vec<Tp> = md
            .topics
            .iter()
            .enumerate()
            .flat_map(|(t, ps)| {
                ps.iter()
                    .enumerate()
                    .filter(move |(_, p)| p.leader == Some(leader))
                    .map(move |(p, _)| Tp {
                        topic: t as u32,
                        partition: p as u32,
                    })
            })
            .collect();
        let mut wire = Vec::new();
        let mut shown = Vec::new();
        if parts.is_empty() {
            return (wire, shown);
        }
        let mut size = 0u32;
        let start = self.drain_index.get(&leader).copied().unwrap_or(0) % parts.len();
        let mut index = start;
        loop {
            let tp = parts[index];
            self.drain_index.insert(leader, index);
            index = (index + 1) % parts.len();
            // A transaction's partition not added yet waits (`isSendToPartitionAllowed`).
            let head = (!self.muted.contains(&tp) && may_send(tp))
                .then(|| self.deques.get(tp).and_then(VecDeque::front))
                .flatten()
                .filter(|b| !b.backing_off(now))
                .map(|b| (b.id, b.bytes));
            if let Some((head_id, head_bytes)) = head {
                if size.saturating_add(head_bytes) > self.max_request_size && !wire.is_empty() {
                    break;
                }
                if idempotence
                    .as_deref()
                    .is_some_and(|i| i.should_stop_drain(tp, head_id))
                {
                    break;
                }
                let deque = self.deques.get_mut(tp).expect("checked above");
                let mut batch = deque.pop_front().expect("checked above");
                batch.closed = true;
                size = size.saturating_add(batch.bytes);
                let sequence = idempotence
                    .as_deref_mut()
                    .and_then(|i| i.sequence_for(tp, batch.id, batch.len()));
                wire.push(WireBatch {
                    tp,
                    batch_id: batch.id,
                    records: batch.wire_records(),
                    timestamps: batch.wire_timestamps(),
                    bytes: batch.bytes,
                    sequence,
                    transactional: false,
                });
                shown.push(BatchInRequest {
                    tp,
                    batch_id: batch.id,
                    records: batch.len(),
                    bytes: batch.bytes,
                    attempt: batch.attempts,
                    sequence,
                });
                if self.guarantee_order {
                    self.muted.insert(tp);
                }
                self.in_flight.insert(
                    batch.id,
                    InFlightBatch {
                        batch,
                        expired: false,
                    },
                );
            }
            if index == start {
                break;
            }
        }
        (wire, shown)
    }

    /// Removes an in-flight batch whose request finished. `None` if unknown; `Some((batch,
    /// true))` if it had already expired.
    pub fn finish_in_flight(&mut self, batch_id: u64) -> Option<(Batch, bool)> {
        let f = self.in_flight.remove(&batch_id)?;
        if self.guarantee_order {
            self.muted.remove(&f.batch.tp);
        }
        Some((f.batch, f.expired))
    }

    /// Puts a failed batch back at the front of its deque (`RecordAccumulator.reenqueue`). With
    /// idempotence it goes behind queued batches with lower sequences (`insertInSequenceOrder`).
    pub fn reenqueue(
        &mut self,
        mut batch: Batch,
        now: SimTime,
        backoff: SimDuration,
        idempotence: Option<&Idempotence>,
    ) {
        batch.attempts += 1;
        batch.last_attempt_at = now;
        batch.backoff = backoff;
        let deque = self.deques.entry(batch.tp);
        let at = in_sequence_order(deque, batch.id, idempotence);
        deque.insert(at, batch);
    }

    /// Splits a batch the broker found too large into `batch.size` pieces and puts them at the
    /// front of the deque in record order (`Sender.splitAndReenqueue`). The pieces keep the
    /// original creation time and are allocated outside the pool, as Kafka does. With
    /// idempotence the pieces take consecutive sequences from the batch's and go in sequence
    /// order.
    pub fn split_and_reenqueue(
        &mut self,
        mut batch: Batch,
        sizes: impl Fn(RecordId) -> (Option<u32>, u32),
        mut idempotence: Option<&mut Idempotence>,
    ) {
        self.deallocate(&batch);
        let records = batch.wire_records();
        let timestamps = batch.wire_timestamps();
        let mut pieces: Vec<Batch> = Vec::new();
        for (i, r) in records.iter().enumerate() {
            let (key, value) = sizes(*r);
            let fits = pieces
                .last()
                .is_some_and(|p| p.bytes + record_bytes(p.record_count, 0, key, value) <= self.batch_size);
            if !fits || i == 0 {
                let id = self.next_batch_id;
                self.next_batch_id += 1;
                pieces.push(Batch {
                    id,
                    records: Vec::new(),
                    timestamp_deltas_ms: Vec::new(),
                    first_timestamp_ms: timestamps.of(i),
                    record_count: 0,
                    bytes: BATCH_HEADER_BYTES,
                    reserved_bytes: 0,
                    frozen: None,
                    closed: true,
                    ..batch.clone()
                });
            }
            let piece = pieces.last_mut().expect("pushed above");
            let size = record_bytes(piece.record_count, 0, key, value);
            piece.push(*r, timestamps.of(i), size);
        }
        if let Some(i) = idempotence.as_deref_mut() {
            let ids: Vec<(u64, u32)> = pieces.iter().map(|p| (p.id, p.len())).collect();
            i.split(batch.id, &ids);
        }
        let deque = self.deques.entry(batch.tp);
        let at = in_sequence_order(deque, pieces[0].id, idempotence.as_deref());
        for (i, piece) in pieces.into_iter().enumerate() {
            deque.insert(at + i, piece);
        }
    }

    /// True while a batch is queued or in flight (`hasIncomplete`).
    pub fn has_incomplete(&self) -> bool {
        !self.in_flight.is_empty() || self.deques.values().any(|d| !d.is_empty())
    }

    /// Takes every queued batch that was never sent (`abortUndrainedBatches`), memory returned.
    pub fn abort_undrained(&mut self) -> Vec<Batch> {
        let mut aborted = Vec::new();
        for deque in self.deques.values_mut() {
            let (never_sent, sent): (VecDeque<Batch>, VecDeque<Batch>) =
                deque.drain(..).partition(|b| b.attempts == 0);
            *deque = sent;
            aborted.extend(never_sent);
        }
        for b in &aborted {
            self.used_memory -= b.reserved_bytes;
        }
        aborted
    }

    /// Returns a completed batch's memory to the pool.
    pub fn deallocate(&mut self, batch: &Batch) {
        self.used_memory -= batch.reserved_bytes;
    }

    /// Expires batches past `delivery.timeout.ms`: queued ones from the head of each deque, and
    /// in-flight ones (which stay tracked until their request ends). Memory is returned.
    /// Each comes with `true` if it was queued (gone now), `false` if in flight.
    pub fn expire(&mut self, now: SimTime) -> Vec<(Batch, bool)> {
        let mut expired = Vec::new();
        let timeout = self.delivery_timeout;
        for deque in self.deques.values_mut() {
            while deque.front().is_some_and(|b| now >= b.created_at + timeout) {
                expired.push((deque.pop_front().expect("checked"), true));
            }
        }
        for f in self.in_flight.values_mut() {
            if !f.expired && now >= f.batch.created_at + timeout {
                f.expired = true;
                expired.push((f.batch.clone(), false));
            }
        }
        for (b, _) in &expired {
            self.used_memory -= b.reserved_bytes;
        }
        expired
    }

    /// The next time a batch reaches `delivery.timeout.ms`.
    pub fn next_expiry(&self) -> Option<SimTime> {
        let queued = self
            .deques
            .values()
            .filter_map(|d| d.front())
            .map(|b| b.created_at);
        let flying = self
            .in_flight
            .values()
            .filter(|f| !f.expired)
            .map(|f| f.batch.created_at);
        queued.chain(flying).min().map(|t| t + self.delivery_timeout)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kafka::protocol::PartitionState;
    use crate::scenario::config::ConfigBlock;
    use crate::scenario::source::Source;

    fn config(entries: &str) -> ProducerConfig {
        let text = format!("{{ \"enable.idempotence\": false, {entries} }}");
        let src = Source::new("t", &text);
        let parsed: crate::scenario::config::Entries = src.parse_root().expect("map");
        let anchor: crate::scenario::source::Raw = src.parse_root().expect("raw");
        ProducerConfig::from_block(&ConfigBlock {
            src: &src,
            entries: &parsed,
            anchor,
        })
        .expect("valid")
    }

    fn md(partitions: u32, leader: BrokerId) -> ClusterMetadata {
        ClusterMetadata {
            version: 1,
            live_brokers: vec![leader],
            topics: vec![
                (0..partitions)
                    .map(|_| PartitionState {
                        leader: Some(leader),
                        leader_epoch: 0,
                        partition_epoch: 0,
                        replicas: vec![leader],
                        isr: vec![leader],
                    })
                    .collect(),
            ],
        }
    }

    fn tp(p: u32) -> Tp {
        Tp {
            topic: 0,
            partition: p,
        }
    }

    fn rec(seq: u32) -> RecordId {
        RecordId { producer: 0, seq }
    }

    const T0: SimTime = SimTime::ZERO;

    #[test]
    fn records_fill_a_batch_then_open_the_next() {
        let mut acc = Accumulator::new(&config("\"batch.size\": 400"));
        let mut ids = Vec::new();
        for seq in 0..5 {
            match acc.append(tp(0), rec(seq), Some(6), 100, T0, 0) {
                AppendOutcome::Appended { batch_id, .. } => ids.push(batch_id),
                AppendOutcome::NeedMemory => panic!("memory"),
            }
        }
        // 61 + 115 = 176, + 115 = 291, + 115 = 406 > 400: three records do not fit.
        assert_eq!(ids, [0, 0, 1, 1, 2]);
        assert_eq!(acc.queued(tp(0)), 3);
    }

    #[test]
    fn linger_holds_a_partial_batch_until_it_expires() {
        let mut acc = Accumulator::new(&config("\"linger.ms\": 10"));
        acc.append(tp(0), rec(0), None, 10, T0, 0);
        let m = md(1, 1);
        let r = acc.ready(SimTime::from_us(5_000), &m, false);
        assert!(r.nodes.is_empty());
        assert_eq!(r.next_check, Some(SimTime::from_us(10_000)));
        assert!(acc.ready(SimTime::from_us(10_000), &m, false).nodes.contains(&1));
    }

    #[test]
    fn a_node_drains_one_batch_per_partition_and_rotates() {
        let mut acc = Accumulator::new(&config("\"batch.size\": 1, \"linger.ms\": 0"));
        for p in 0..3 {
            acc.append(tp(p), rec(p), None, 10, T0, 0);
            acc.append(tp(p), rec(10 + p), None, 10, T0, 0);
        }
        let m = md(3, 1);
        let (first, _) = acc.drain(1, &m, T0, None, |_| true);
        assert_eq!(
            first.iter().map(|b| b.tp.partition).collect::<Vec<_>>(),
            [0, 1, 2]
        );
        let (second, _) = acc.drain(1, &m, T0, None, |_| true);
        // Kafka stores the index of the partition examined last, so the next lap starts there.
        assert_eq!(
            second.iter().map(|b| b.tp.partition).collect::<Vec<_>>(),
            [2, 0, 1]
        );
    }

    #[test]
    fn max_in_flight_one_mutes_the_partition_until_its_batch_finishes() {
        let mut acc = Accumulator::new(&config(
            "\"max.in.flight.requests.per.connection\": 1, \"batch.size\": 1",
        ));
        acc.append(tp(0), rec(0), None, 10, T0, 0);
        acc.append(tp(0), rec(1), None, 10, T0, 0);
        let m = md(1, 1);
        let (sent, _) = acc.drain(1, &m, T0, None, |_| true);
        assert_eq!(sent.len(), 1);
        assert!(acc.ready(T0, &m, false).nodes.is_empty(), "muted");
        assert!(acc.drain(1, &m, T0, None, |_| true).0.is_empty());
        acc.finish_in_flight(sent[0].batch_id);
        assert!(acc.ready(T0, &m, false).nodes.contains(&1));
    }

    #[test]
    fn a_reenqueued_batch_goes_first_and_waits_its_backoff() {
        let mut acc = Accumulator::new(&config("\"batch.size\": 1, \"linger.ms\": 0"));
        acc.append(tp(0), rec(0), None, 10, T0, 0);
        acc.append(tp(0), rec(1), None, 10, T0, 0);
        let m = md(1, 1);
        let (a, _) = acc.drain(1, &m, T0, None, |_| true);
        let (batch, _) = acc.finish_in_flight(a[0].batch_id).expect("in flight");
        acc.reenqueue(batch, SimTime::from_us(1_000), SimDuration::from_ms(100), None);
        let r = acc.ready(SimTime::from_us(2_000), &m, false);
        assert!(
            r.nodes.is_empty(),
            "the head batch backs off and blocks its partition"
        );
        let (retry, shown) = acc.drain(1, &m, SimTime::from_us(101_000), None, |_| true);
        assert_eq!((retry[0].records[0], shown[0].attempt), (rec(0), 1));
    }

    #[test]
    fn buffer_memory_runs_out() {
        let mut acc = Accumulator::new(&config("\"batch.size\": 1000, \"buffer.memory\": 2500"));
        assert!(matches!(
            acc.append(tp(0), rec(0), None, 10, T0, 0),
            AppendOutcome::Appended { .. }
        ));
        assert!(matches!(
            acc.append(tp(1), rec(1), None, 10, T0, 0),
            AppendOutcome::Appended { .. }
        ));
        assert!(matches!(
            acc.append(tp(2), rec(2), None, 10, T0, 0),
            AppendOutcome::NeedMemory
        ));
    }

    #[test]
    fn delivery_timeout_expires_queued_and_in_flight_batches() {
        let mut acc = Accumulator::new(&config(
            "\"batch.size\": 1, \"linger.ms\": 0, \"delivery.timeout.ms\": 30000",
        ));
        acc.append(tp(0), rec(0), None, 10, T0, 0);
        acc.append(tp(1), rec(1), None, 10, T0, 0);
        let m = ClusterMetadata {
            topics: vec![vec![md(1, 1).topics[0][0].clone(), md(1, 2).topics[0][0].clone()]],
            ..md(1, 1)
        };
        acc.drain(1, &m, T0, None, |_| true);
        assert_eq!(acc.next_expiry(), Some(SimTime::from_us(30_000_000)));
        let expired = acc.expire(SimTime::from_us(30_000_000));
        assert_eq!(expired.len(), 2);
        let (_, was_expired) = acc
            .finish_in_flight(expired.iter().find(|b| b.0.tp == tp(0)).expect("p0").0.id)
            .expect("tracked");
        assert!(was_expired);
    }
}

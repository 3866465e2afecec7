//! The idempotent producer's client side: the producer id and epoch, and per partition the next
//! sequence, the last acknowledged one and the batches that carry a sequence and have not
//! finished. It decides which batch may be drained, which errors are retried, and when the epoch
//! is bumped so that a partition's sequences restart at 0.
//!
//! Followed: `TransactionManager` (`canRetry`, `handleCompletedBatch`, `handleFailedBatch`,
//! `maybeResolveSequences`, `bumpIdempotentEpochAndResetIdIfNeeded`), `TxnPartitionEntry` and
//! `RecordAccumulator.shouldStopDrainBatchesForPartition`
//! (clients/src/main/java/org/apache/kafka/clients/producer/internals/), Kafka 4.0, for a
//! producer without a `transactional.id`.

use crate::kafka::protocol::{BrokerId, ErrorCode};
use crate::kafka::record::{BatchSequence, ProducerIdentity, Tp};
use crate::sim::SimTime;
use std::collections::{BTreeMap, BTreeSet};

/// The largest epoch (`Short.MAX_VALUE`); past it the producer asks for a new id.
const MAX_EPOCH: u16 = i16::MAX as u16;

/// A batch that has a sequence.
#[derive(Clone, Copy, Debug)]
struct Sequenced {
    tp: Tp,
    sequence: BatchSequence,
    records: u32,
    /// Its sequence was rewritten by an epoch bump (`ProducerBatch.sequenceHasBeenReset`).
    reset: bool,
}

impl Sequenced {
    fn key(&self) -> (u64, u16, u32) {
        let s = self.sequence;
        (s.producer_id, s.epoch, s.base_sequence)
    }

    fn last_sequence(&self) -> u32 {
        self.sequence.last_sequence(self.records as usize)
    }
}

/// `TxnPartitionEntry`: one partition's sequences.
#[derive(Clone, Debug, Default)]
struct PartitionEntry {
    /// The id and epoch its sequences belong to (`None` until the first batch).
    identity: Option<ProducerIdentity>,
    next_sequence: u32,
    last_acked: Option<u32>,
    /// Batches with a sequence that have not finished, by (id, epoch, base sequence).
    in_flight: BTreeMap<(u64, u16, u32), u64>,
}

/// Where the `InitProducerId` request stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Init {
    /// None in flight; the next may go at this time.
    Idle { not_before: SimTime },
    /// Sent to a broker, waiting for the answer.
    InFlight { broker: BrokerId, correlation: u32 },
}

/// Client-side idempotence state.
#[derive(Clone, Debug)]
pub struct Idempotence {
    identity: Option<ProducerIdentity>,
    init: Init,
    partitions: BTreeMap<Tp, PartitionEntry>,
    batches: BTreeMap<u64, Sequenced>,
    /// Partitions with a batch that expired after being retried, with the sequence after it.
    unresolved: BTreeMap<Tp, u32>,
    bump_required: bool,
    to_rewrite: BTreeSet<Tp>,
}

impl Default for Idempotence {
    fn default() -> Self {
        Idempotence {
            identity: None,
            init: Init::Idle {
                not_before: SimTime::ZERO,
            },
            partitions: BTreeMap::new(),
            batches: BTreeMap::new(),
            unresolved: BTreeMap::new(),
            bump_required: false,
            to_rewrite: BTreeSet::new(),
        }
    }
}

/// What happened at the start of a sender pass.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct PassStart {
    /// The epoch was bumped: the new identity and the partitions whose sequences restarted.
    pub bumped: Option<(ProducerIdentity, Vec<Tp>)>,
    /// An `InitProducerId` request should go out now.
    pub send_init: bool,
    /// When to try `InitProducerId` again.
    pub wake: Option<SimTime>,
}

impl Idempotence {
    /// The current producer id and epoch, once known.
    pub fn identity(&self) -> Option<ProducerIdentity> {
        self.identity
    }

    /// The start of `Sender.runOnce`: resolve partitions whose expired batches have all
    /// finished, bump the epoch if asked to, and say whether a producer id must be requested.
    pub fn begin_pass(&mut self, now: SimTime) -> PassStart {
        self.resolve_sequences();
        let mut start = PassStart::default();
        if self.bump_required {
            start.bumped = self.bump_epoch();
        }
        if self.identity.is_none()
            && let Init::Idle { not_before } = self.init
        {
            if now >= not_before {
                start.send_init = true;
            } else {
                start.wake = Some(not_before);
            }
        }
        start
    }

    /// Whether an `InitProducerId` request is out; produce requests wait for it
    /// (`Sender.maybeSendAndPollTransactionalRequest`).
    pub fn init_in_flight(&self) -> bool {
        matches!(self.init, Init::InFlight { .. })
    }

    /// The `InitProducerId` request went to `broker`.
    pub fn on_init_sent(&mut self, broker: BrokerId, correlation: u32) {
        self.init = Init::InFlight { broker, correlation };
    }

    /// True if `correlation` to `broker` is our `InitProducerId` request.
    pub fn is_init(&self, broker: BrokerId, correlation: u32) -> bool {
        self.init == Init::InFlight { broker, correlation }
    }

    /// The answer to `InitProducerId`; an error is retried after `retry`.
    pub fn on_init_response(&mut self, result: Result<ProducerIdentity, ErrorCode>, retry: SimTime) {
        match result {
            Ok(identity) => {
                self.identity = Some(identity);
                self.init = Init::Idle {
                    not_before: SimTime::ZERO,
                };
            }
            Err(_) => self.init = Init::Idle { not_before: retry },
        }
    }

    /// `shouldStopDrainBatchesForPartition`: `true` stops draining this node for this pass.
    /// `head` is the batch at the front of the partition's queue.
    pub fn should_stop_drain(&self, tp: Tp, head: u64) -> bool {
        let Some(identity) = self.identity else {
            return true;
        };
        let entry = self.partitions.get(&tp);
        let has_in_flight = entry.is_some_and(|e| !e.in_flight.is_empty());
        let head_sequence = self.batches.get(&head).map(|b| b.sequence.base_sequence);
        if head_sequence.is_none() {
            let stale = entry.is_some_and(|e| e.identity.is_some_and(|i| i != identity));
            if has_in_flight && stale {
                // A new batch at sequence 0 of the new epoch could overtake the old ones.
                return true;
            }
            if self.unresolved.contains_key(&tp) {
                return true;
            }
        }
        // A retried batch goes only when it is the partition's oldest unfinished one.
        let first = entry.and_then(|e| e.in_flight.keys().next()).map(|k| k.2);
        matches!((first, head_sequence), (Some(f), Some(h)) if f != h)
    }

    /// The sequence of a batch drained now: kept from its first send, else the partition's next
    /// one (restarting at 0 under a new epoch once the old epoch's batches have finished).
    pub fn sequence_for(&mut self, tp: Tp, batch_id: u64, records: u32) -> Option<BatchSequence> {
        if let Some(b) = self.batches.get(&batch_id) {
            return Some(b.sequence);
        }
        let identity = self.identity?;
        let entry = self.partitions.entry(tp).or_default();
        if entry.identity != Some(identity) && entry.in_flight.is_empty() {
            // `maybeUpdateProducerIdAndEpoch` + `startSequencesAtBeginning`.
            *entry = PartitionEntry {
                identity: Some(identity),
                ..PartitionEntry::default()
            };
        }
        let sequence = BatchSequence {
            producer_id: identity.id,
            epoch: identity.epoch,
            base_sequence: entry.next_sequence,
        };
        entry.next_sequence = entry.next_sequence.wrapping_add(records) & i32::MAX as u32;
        let b = Sequenced {
            tp,
            sequence,
            records,
            reset: false,
        };
        entry.in_flight.insert(b.key(), batch_id);
        self.batches.insert(batch_id, b);
        Some(sequence)
    }

    /// The base sequence of a batch, if it has one (for re-enqueueing in sequence order).
    pub fn base_sequence(&self, batch_id: u64) -> Option<u32> {
        self.batches.get(&batch_id).map(|b| b.sequence.base_sequence)
    }

    fn remove_in_flight(&mut self, batch_id: u64) -> Option<Sequenced> {
        let b = *self.batches.get(&batch_id)?;
        if let Some(e) = self.partitions.get_mut(&b.tp) {
            e.in_flight.remove(&b.key());
        }
        Some(b)
    }

    /// The batch was acknowledged (`handleCompletedBatch`), also when it had already expired.
    pub fn on_acked(&mut self, batch_id: u64) {
        if let Some(b) = self.remove_in_flight(batch_id) {
            self.batches.remove(&batch_id);
            let entry = self.partitions.entry(b.tp).or_default();
            entry.last_acked = Some(
                entry
                    .last_acked
                    .map_or(b.last_sequence(), |l| l.max(b.last_sequence())),
            );
        }
    }

    /// `TransactionManager.canRetry` for a batch that failed with `error` and still has
    /// attempts and time left. May ask for an epoch bump.
    pub fn can_retry(&mut self, batch_id: u64, error: ErrorCode) -> bool {
        let Some(b) = self.batches.get(&batch_id).copied() else {
            return error.is_retriable();
        };
        let unresolved = self.unresolved.get(&b.tp).copied();
        match error {
            ErrorCode::UnknownProducerId => {
                // A Kafka 4.0 response always carries the log start offset, and the model
                // never removes a producer's data by retention: bump and retry, unless the
                // sequence was already reset by a bump.
                if !b.reset {
                    self.request_bump(b.tp);
                }
                true
            }
            ErrorCode::OutOfOrderSequenceNumber => {
                if unresolved.is_none() && (b.reset || !self.is_next_sequence(b.tp, b.sequence.base_sequence))
                {
                    // An earlier batch is still unresolved: it may yet fill the gap.
                    return true;
                }
                if unresolved.is_none_or(|next| next == b.sequence.base_sequence) {
                    // A real gap in the log: restart the sequences under a new epoch.
                    self.request_bump(b.tp);
                }
                true
            }
            e => e.is_retriable(),
        }
    }

    fn is_next_sequence(&self, tp: Tp, sequence: u32) -> bool {
        let last = self.partitions.get(&tp).and_then(|e| e.last_acked);
        i64::from(sequence) - last.map_or(-1, i64::from) == 1
    }

    /// The batch failed for good (`handleFailedBatch`). `adjust`: it had attempts left, so its
    /// sequence may not have been written and the partition's sequences restart.
    pub fn on_failed(&mut self, batch_id: u64, error: ErrorCode, adjust: bool) {
        let Some(b) = self.remove_in_flight(batch_id) else {
            return;
        };
        self.batches.remove(&batch_id);
        let gap = matches!(
            error,
            ErrorCode::OutOfOrderSequenceNumber | ErrorCode::UnknownProducerId
        );
        if gap || adjust {
            self.request_bump(b.tp);
        }
    }

    /// `delivery.timeout.ms` expired the batch. If it had been retried, nobody knows whether
    /// it was written: no new batch of its partition goes until its others finish
    /// (`markSequenceUnresolved`). Its sequence stays known for a late response.
    pub fn on_expired(&mut self, batch_id: u64, in_retry: bool) {
        let Some(b) = self.remove_in_flight(batch_id) else {
            return;
        };
        if in_retry {
            let next = b.last_sequence() + 1;
            let v = self.unresolved.entry(b.tp).or_insert(next);
            *v = (*v).max(next);
        }
    }

    /// The batch left the producer without an answer to act on (an expired batch's request
    /// ended): forget its sequence.
    pub fn forget(&mut self, batch_id: u64) {
        self.batches.remove(&batch_id);
    }

    /// A batch split after `MESSAGE_TOO_LARGE`: the pieces take consecutive sequences from its
    /// base (`RecordAccumulator.splitAndReenqueue`).
    pub fn split(&mut self, batch_id: u64, pieces: &[(u64, u32)]) {
        let Some(b) = self.remove_in_flight(batch_id) else {
            return;
        };
        self.batches.remove(&batch_id);
        let mut base = b.sequence.base_sequence;
        let entry = self.partitions.entry(b.tp).or_default();
        for &(id, records) in pieces {
            let piece = Sequenced {
                sequence: BatchSequence {
                    base_sequence: base,
                    ..b.sequence
                },
                records,
                ..b
            };
            entry.in_flight.insert(piece.key(), id);
            self.batches.insert(id, piece);
            base += records;
        }
    }

    fn request_bump(&mut self, tp: Tp) {
        self.bump_required = true;
        self.to_rewrite.insert(tp);
    }

    /// `maybeResolveSequences`: an unresolved partition whose batches have all finished is
    /// fine if the acknowledged sequences reach its next one; otherwise the epoch is bumped.
    fn resolve_sequences(&mut self) {
        let done: Vec<Tp> = self
            .unresolved
            .keys()
            .copied()
            .filter(|tp| self.partitions.get(tp).is_none_or(|e| e.in_flight.is_empty()))
            .collect();
        for tp in done {
            self.unresolved.remove(&tp);
            let next = self.partitions.get(&tp).map_or(0, |e| e.next_sequence);
            if !self.is_next_sequence(tp, next) {
                self.request_bump(tp);
            }
        }
    }

    /// `bumpIdempotentProducerEpoch`: epoch + 1 (a new id past the largest epoch), and the
    /// unfinished batches of the partitions that asked get sequences from 0 under it.
    fn bump_epoch(&mut self) -> Option<(ProducerIdentity, Vec<Tp>)> {
        self.bump_required = false;
        let partitions: Vec<Tp> = std::mem::take(&mut self.to_rewrite).into_iter().collect();
        let current = self.identity?;
        if current.epoch == MAX_EPOCH {
            self.identity = None;
            self.partitions.clear();
            self.unresolved.clear();
            return None;
        }
        let identity = ProducerIdentity {
            epoch: current.epoch + 1,
            ..current
        };
        self.identity = Some(identity);
        for tp in &partitions {
            self.unresolved.remove(tp);
            let entry = self.partitions.entry(*tp).or_default();
            let mut next = 0u32;
            let mut in_flight = BTreeMap::new();
            for id in std::mem::take(&mut entry.in_flight).into_values() {
                if let Some(b) = self.batches.get_mut(&id) {
                    b.sequence = BatchSequence {
                        producer_id: identity.id,
                        epoch: identity.epoch,
                        base_sequence: next,
                    };
                    b.reset = true;
                    next += b.records;
                    in_flight.insert(b.key(), id);
                }
            }
            *entry = PartitionEntry {
                identity: Some(identity),
                next_sequence: next,
                last_acked: None,
                in_flight,
            };
        }
        Some((identity, partitions))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tp(partition: u32) -> Tp {
        Tp { topic: 0, partition }
    }

    fn ready() -> Idempotence {
        let mut i = Idempotence::default();
        i.on_init_response(Ok(ProducerIdentity { id: 7, epoch: 0 }), SimTime::ZERO);
        i
    }

    fn base(i: &Idempotence, batch: u64) -> u32 {
        i.base_sequence(batch).expect("sequenced")
    }

    #[test]
    fn nothing_drains_before_the_producer_id_is_known() {
        let mut i = Idempotence::default();
        assert!(i.begin_pass(SimTime::ZERO).send_init);
        assert!(i.should_stop_drain(tp(0), 0));
        i.on_init_response(
            Err(ErrorCode::CoordinatorLoadInProgress),
            SimTime::from_us(100_000),
        );
        let pass = i.begin_pass(SimTime::from_us(50_000));
        assert_eq!(
            (pass.send_init, pass.wake),
            (false, Some(SimTime::from_us(100_000)))
        );
        i.on_init_response(Ok(ProducerIdentity { id: 3, epoch: 0 }), SimTime::ZERO);
        assert!(!i.should_stop_drain(tp(0), 0));
    }

    #[test]
    fn sequences_count_records_per_partition_and_a_retry_keeps_its_own() {
        let mut i = ready();
        assert_eq!(i.sequence_for(tp(0), 1, 10).map(|s| s.base_sequence), Some(0));
        assert_eq!(i.sequence_for(tp(0), 2, 5).map(|s| s.base_sequence), Some(10));
        assert_eq!(i.sequence_for(tp(1), 3, 4).map(|s| s.base_sequence), Some(0));
        assert_eq!(i.sequence_for(tp(0), 1, 10).map(|s| s.base_sequence), Some(0));
    }

    #[test]
    fn a_retried_batch_goes_only_when_it_is_the_oldest_unfinished_one() {
        let mut i = ready();
        for id in 1..=3 {
            i.sequence_for(tp(0), id, 2);
        }
        // Batch 2 failed and sits at the head of the queue while batch 1 is still out.
        assert!(i.should_stop_drain(tp(0), 2));
        i.on_acked(1);
        assert!(!i.should_stop_drain(tp(0), 2));
        // A new batch may go behind in-flight ones of the same epoch.
        assert!(!i.should_stop_drain(tp(0), 9));
    }

    #[test]
    fn out_of_order_behind_an_unacknowledged_batch_is_retried_without_a_bump() {
        let mut i = ready();
        i.sequence_for(tp(0), 1, 2);
        i.sequence_for(tp(0), 2, 2);
        assert!(i.can_retry(2, ErrorCode::OutOfOrderSequenceNumber));
        assert_eq!(i.begin_pass(SimTime::ZERO).bumped, None);
    }

    #[test]
    fn a_real_gap_bumps_the_epoch_and_restarts_unfinished_batches_at_zero() {
        let mut i = ready();
        i.sequence_for(tp(0), 1, 2);
        i.sequence_for(tp(0), 2, 3);
        i.sequence_for(tp(0), 3, 4);
        i.on_acked(1);
        // Batch 2 is the next expected one, yet the leader says out of order: a gap.
        assert!(i.can_retry(2, ErrorCode::OutOfOrderSequenceNumber));
        let bumped = i.begin_pass(SimTime::ZERO).bumped;
        assert_eq!(bumped, Some((ProducerIdentity { id: 7, epoch: 1 }, vec![tp(0)])));
        assert_eq!((base(&i, 2), base(&i, 3)), (0, 3));
        assert_eq!(
            i.sequence_for(tp(0), 4, 1).map(|s| (s.epoch, s.base_sequence)),
            Some((1, 7))
        );
        // The rewritten batch is retried without another bump.
        assert!(i.can_retry(2, ErrorCode::OutOfOrderSequenceNumber));
        assert_eq!(i.begin_pass(SimTime::ZERO).bumped, None);
    }

    #[test]
    fn unknown_producer_id_bumps_the_epoch_and_retries() {
        let mut i = ready();
        i.sequence_for(tp(0), 1, 2);
        assert!(i.can_retry(1, ErrorCode::UnknownProducerId));
        assert!(i.begin_pass(SimTime::ZERO).bumped.is_some());
        assert_eq!(
            i.sequence_for(tp(0), 1, 2).map(|s| (s.epoch, s.base_sequence)),
            Some((1, 0))
        );
    }

    #[test]
    fn a_batch_that_expired_in_retry_holds_new_batches_until_the_others_finish() {
        let mut i = ready();
        i.sequence_for(tp(0), 1, 2);
        i.sequence_for(tp(0), 2, 2);
        i.on_expired(1, true);
        assert!(i.should_stop_drain(tp(0), 9), "unresolved: no new batch");
        // Batch 2 comes right after the expired one and the leader says there is a gap: the
        // expired batch was never written. Bump, and batch 2 restarts at 0.
        assert!(i.can_retry(2, ErrorCode::OutOfOrderSequenceNumber));
        let pass = i.begin_pass(SimTime::ZERO);
        assert_eq!(pass.bumped.map(|b| b.0.epoch), Some(1));
        assert_eq!(base(&i, 2), 0);
        i.on_acked(2);
        assert!(!i.should_stop_drain(tp(0), 9));
        assert_eq!(
            i.sequence_for(tp(0), 9, 1).map(|s| (s.epoch, s.base_sequence)),
            Some((1, 2))
        );
    }

    #[test]
    fn when_every_batch_expired_the_epoch_is_bumped() {
        let mut i = ready();
        i.sequence_for(tp(0), 1, 2);
        i.on_expired(1, true);
        i.forget(1);
        let pass = i.begin_pass(SimTime::ZERO);
        assert_eq!(pass.bumped.map(|b| b.0.epoch), Some(1));
        assert_eq!(
            i.sequence_for(tp(0), 9, 1).map(|s| (s.epoch, s.base_sequence)),
            Some((1, 0))
        );
    }

    #[test]
    fn an_expired_batch_that_was_written_after_all_resolves_without_a_bump() {
        let mut i = ready();
        i.sequence_for(tp(0), 1, 2);
        i.on_expired(1, true);
        // Its late answer says it was appended.
        i.on_acked(1);
        assert_eq!(i.begin_pass(SimTime::ZERO).bumped, None);
        assert!(!i.should_stop_drain(tp(0), 9));
    }

    #[test]
    fn a_new_epoch_waits_for_the_old_epochs_batches_of_a_partition() {
        let mut i = ready();
        i.sequence_for(tp(0), 1, 2);
        i.sequence_for(tp(1), 2, 2);
        i.on_failed(1, ErrorCode::OutOfOrderSequenceNumber, false);
        assert!(i.begin_pass(SimTime::ZERO).bumped.is_some());
        // Partition 1 still has a batch of epoch 0 out: its new batches wait for it.
        assert!(i.should_stop_drain(tp(1), 9));
        i.on_acked(2);
        assert!(!i.should_stop_drain(tp(1), 9));
        assert_eq!(
            i.sequence_for(tp(1), 9, 1).map(|s| (s.epoch, s.base_sequence)),
            Some((1, 0))
        );
    }
}

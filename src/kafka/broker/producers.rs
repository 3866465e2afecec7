//! The leader's idempotent-producer state of one partition: per producer id, its epoch and the
//! last five batches it appended, to recognise a retried batch and to refuse a gap.
//!
//! Followed: `ProducerStateEntry` (`NUM_BATCHES_TO_RETAIN = 5`), `ProducerAppendInfo`
//! (`checkProducerEpoch`, `checkSequence`) and `UnifiedLog.analyzeAndValidateProducerState`
//! (storage/src/main/java/org/apache/kafka/storage/internals/log/, Kafka 4.0). A new leader
//! rebuilds the state from its log (`UnifiedLog.rebuildProducerState`).

use crate::kafka::log::{Control, PartitionLog, TxnMarker};
use crate::kafka::protocol::ErrorCode;
use crate::kafka::record::BatchSequence;
use std::collections::{BTreeMap, VecDeque};

/// Batches remembered per producer (`ProducerStateEntry.NUM_BATCHES_TO_RETAIN`).
const RETAINED_BATCHES: usize = 5;

/// One appended batch: its sequence range and where it went.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Appended {
    first_sequence: u32,
    last_sequence: u32,
    base_offset: u64,
}

/// What the leader knows of one producer in this partition.
#[derive(Clone, Debug, Default)]
struct Entry {
    epoch: u16,
    batches: VecDeque<Appended>,
    /// A transaction of this producer is open in the partition (`currentTxnFirstOffset`).
    txn_open: bool,
    /// The coordinator epoch of the last marker (`ProducerStateEntry.coordinatorEpoch`).
    coordinator_epoch: Option<u32>,
}

/// The verdict on an incoming idempotent batch.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Verdict {
    /// Append it.
    Append,
    /// Already in the log at this base offset: answer success without appending.
    Duplicate(u64),
}

/// Producer state of one partition.
#[derive(Clone, Debug, Default)]
pub struct ProducerStates {
    entries: BTreeMap<u64, Entry>,
}

impl ProducerStates {
    /// The state a leader rebuilds from its log.
    pub fn from_log(log: &PartitionLog) -> ProducerStates {
        let mut states = ProducerStates::default();
        for b in log.batches() {
            if let Some(Control::Marker(m)) = &b.control {
                states.on_marker(*m);
            } else if let Some(s) = b.sequence {
                // A cleaned batch keeps its last offset, so its last sequence (`lastOffsetDelta`).
                states.appended(s, b.span() as usize, b.base_offset);
                if b.transactional {
                    states.begin_txn(s.producer_id);
                }
            }
        }
        states
    }

    /// True if `producer_id` has a transaction open here at `epoch` (`hasOngoingTransaction`).
    pub fn has_ongoing(&self, producer_id: u64, epoch: u16) -> bool {
        self.entries
            .get(&producer_id)
            .is_some_and(|e| e.txn_open && e.epoch == epoch)
    }

    /// A write of `producer_id` at `epoch` that carries no sequence (a `TxnOffsetCommit`):
    /// an older epoch is refused (`INVALID_PRODUCER_EPOCH`), a newer one becomes the producer's.
    pub fn check_epoch(&mut self, producer_id: u64, epoch: u16) -> Result<(), ErrorCode> {
        let entry = self.entries.entry(producer_id).or_default();
        if epoch < entry.epoch {
            return Err(ErrorCode::InvalidProducerEpoch);
        }
        if epoch > entry.epoch {
            entry.epoch = epoch;
            entry.batches.clear();
        }
        Ok(())
    }

    /// A transactional batch of `producer_id` was appended: its transaction is open here.
    pub fn begin_txn(&mut self, producer_id: u64) {
        self.entries.entry(producer_id).or_default().txn_open = true;
    }

    /// Checks a marker before it is appended (`ProducerAppendInfo.appendEndTxnMarker`): an older
    /// producer epoch is `INVALID_PRODUCER_EPOCH`, an older coordinator epoch
    /// `TRANSACTION_COORDINATOR_FENCED`.
    pub fn check_marker(&self, m: TxnMarker) -> Result<(), ErrorCode> {
        let Some(entry) = self.entries.get(&m.producer_id) else {
            return Ok(());
        };
        if m.producer_epoch < entry.epoch {
            return Err(ErrorCode::InvalidProducerEpoch);
        }
        if entry.coordinator_epoch.is_some_and(|c| m.coordinator_epoch < c) {
            return Err(ErrorCode::TransactionCoordinatorFenced);
        }
        Ok(())
    }

    /// A marker was appended: the transaction is closed, and the marker's epoch (bumped under
    /// transaction version 2 or by a fence) becomes the producer's, forgetting the old epoch's
    /// batches.
    pub fn on_marker(&mut self, m: TxnMarker) {
        let entry = self.entries.entry(m.producer_id).or_default();
        if m.producer_epoch != entry.epoch {
            entry.epoch = m.producer_epoch;
            entry.batches.clear();
        }
        entry.txn_open = false;
        entry.coordinator_epoch = Some(m.coordinator_epoch);
    }

    /// Checks a batch of `records` records before it is appended: a duplicate of one of the
    /// last five (`ProducerStateEntry.findDuplicateBatch`, checked first), an old epoch
    /// (`INVALID_PRODUCER_EPOCH`), or a sequence that is not the next one
    /// (`OUT_OF_ORDER_SEQUENCE_NUMBER`). A producer this partition has no state for may start
    /// anywhere.
    pub fn check(&self, s: BatchSequence, records: usize) -> Result<Verdict, ErrorCode> {
        let Some(entry) = self.entries.get(&s.producer_id) else {
            return Ok(Verdict::Append);
        };
        let last = s.last_sequence(records);
        if s.epoch == entry.epoch
            && let Some(d) = entry
                .batches
                .iter()
                .find(|b| b.first_sequence == s.base_sequence && b.last_sequence == last)
        {
            return Ok(Verdict::Duplicate(d.base_offset));
        }
        if s.epoch < entry.epoch {
            return Err(ErrorCode::InvalidProducerEpoch);
        }
        let in_order = if s.epoch > entry.epoch {
            s.base_sequence == 0
        } else {
            entry
                .batches
                .back()
                .is_none_or(|b| s.base_sequence == b.last_sequence + 1)
        };
        if in_order {
            Ok(Verdict::Append)
        } else {
            Err(ErrorCode::OutOfOrderSequenceNumber)
        }
    }

    /// Records an appended batch; a new epoch forgets the old one's batches.
    pub fn appended(&mut self, s: BatchSequence, records: usize, base_offset: u64) {
        let entry = self.entries.entry(s.producer_id).or_default();
        if s.epoch != entry.epoch {
            entry.epoch = s.epoch;
            entry.batches.clear();
        }
        if entry.batches.len() == RETAINED_BATCHES {
            entry.batches.pop_front();
        }
        entry.batches.push_back(Appended {
            first_sequence: s.base_sequence,
            last_sequence: s.last_sequence(records),
            base_offset,
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kafka::record::RecordId;
    use std::sync::Arc;

    fn seq(epoch: u16, base_sequence: u32) -> BatchSequence {
        BatchSequence {
            producer_id: 7,
            epoch,
            base_sequence,
        }
    }

    /// Batches of 2 records at sequences 0, 2, 4, ... appended at offsets 0, 2, 4, ...
    fn after(batches: u32) -> ProducerStates {
        let mut p = ProducerStates::default();
        for i in 0..batches {
            p.appended(seq(0, 2 * i), 2, u64::from(2 * i));
        }
        p
    }

    #[test]
    fn a_producer_without_state_may_start_anywhere() {
        assert_eq!(
            ProducerStates::default().check(seq(0, 40), 2),
            Ok(Verdict::Append)
        );
    }

    #[test]
    fn the_next_sequence_appends_and_a_gap_is_out_of_order() {
        let p = after(2);
        assert_eq!(p.check(seq(0, 4), 2), Ok(Verdict::Append));
        assert_eq!(p.check(seq(0, 6), 2), Err(ErrorCode::OutOfOrderSequenceNumber));
        assert_eq!(p.check(seq(0, 3), 2), Err(ErrorCode::OutOfOrderSequenceNumber));
    }

    #[test]
    fn a_retry_of_one_of_the_last_five_batches_gets_its_original_offset() {
        let p = after(6);
        // Batches at sequences 2..=10 are remembered; sequence 0 was evicted.
        assert_eq!(p.check(seq(0, 2), 2), Ok(Verdict::Duplicate(2)));
        assert_eq!(p.check(seq(0, 10), 2), Ok(Verdict::Duplicate(10)));
        assert_eq!(p.check(seq(0, 0), 2), Err(ErrorCode::OutOfOrderSequenceNumber));
        // Same first sequence, other length: not the same batch.
        assert_eq!(p.check(seq(0, 10), 1), Err(ErrorCode::OutOfOrderSequenceNumber));
    }

    #[test]
    fn epochs_fence_old_batches_and_a_new_epoch_starts_at_zero() {
        let mut p = after(1);
        p.appended(seq(1, 0), 2, 2);
        assert_eq!(p.check(seq(0, 2), 2), Err(ErrorCode::InvalidProducerEpoch));
        assert_eq!(p.check(seq(2, 0), 2), Ok(Verdict::Append));
        assert_eq!(p.check(seq(2, 5), 2), Err(ErrorCode::OutOfOrderSequenceNumber));
        assert_eq!(p.check(seq(1, 0), 2), Ok(Verdict::Duplicate(2)));
    }

    #[test]
    fn a_new_leader_rebuilds_the_state_from_its_log() {
        let mut log = PartitionLog::default();
        let two: Arc<[RecordId]> =
            Arc::new([RecordId { producer: 0, seq: 0 }, RecordId { producer: 0, seq: 1 }]);
        log.append(Arc::clone(&two), 100, 0, Some(seq(0, 0)));
        log.append(Arc::clone(&two), 100, 0, None);
        log.append(two, 100, 1, Some(seq(0, 2)));
        let p = ProducerStates::from_log(&log);
        assert_eq!(p.check(seq(0, 2), 2), Ok(Verdict::Duplicate(4)));
        assert_eq!(p.check(seq(0, 4), 2), Ok(Verdict::Append));
    }
}

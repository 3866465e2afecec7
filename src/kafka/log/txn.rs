//! One partition's transactions as its log shows them: which producers have a transaction open
//! and from which offset, which decided transactions are not yet replicated, and which were
//! aborted. From these follow the last stable offset (LSO) and, for a `read_committed` fetch, the
//! aborted transactions a consumer must filter out.
//!
//! Followed: `ProducerStateManager` (`ongoingTxns`, `unreplicatedTxns`, `firstUnstableOffset`,
//! `completeTxn`, `onHighWatermarkUpdated`), `ProducerAppendInfo.appendEndTxnMarker`,
//! `TransactionIndex` / `AbortedTxn` and `UnifiedLog.collectAbortedTransactions`
//! (storage/src/main/java/org/apache/kafka/storage/internals/log/, Kafka 4.0). Leaders and
//! followers keep the index alike: it is updated by every append, whoever appends.

use super::{Control, LogBatch};
use std::collections::BTreeMap;

/// A COMMIT or ABORT marker (`EndTransactionMarker`), written by a partition leader when the
/// transaction coordinator says the transaction is decided.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TxnMarker {
    /// COMMIT (true) or ABORT.
    pub commit: bool,
    /// The transaction's producer id.
    pub producer_id: u64,
    /// The producer epoch the marker is written with.
    pub producer_epoch: u16,
    /// The coordinator's epoch (the leader epoch of its `__transaction_state` partition).
    pub coordinator_epoch: u32,
}

/// An aborted transaction in a partition (`AbortedTxn`): its producer and the offsets from its
/// first record to its ABORT marker.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct AbortedTxn {
    /// The producer id.
    pub producer_id: u64,
    /// Offset of the transaction's first record in this partition.
    pub first_offset: u64,
    /// Offset of its ABORT marker.
    pub last_offset: u64,
}

/// The transaction state of one replica's log.
#[derive(Clone, Debug, Default)]
pub struct TxnIndex {
    /// Producer id → offset of its open transaction's first record here.
    ongoing: BTreeMap<u64, u64>,
    /// Decided transactions whose marker is not below the high watermark yet:
    /// (first offset, marker offset), in marker order.
    unreplicated: Vec<(u64, u64)>,
    /// Aborted transactions, in marker order.
    aborted: Vec<AbortedTxn>,
}

impl TxnIndex {
    /// The index of a log holding `batches`, with high watermark `hw` (after a truncation,
    /// `UnifiedLog.rebuildProducerState`).
    pub fn rebuild<'a>(batches: impl Iterator<Item = &'a LogBatch>, hw: u64) -> TxnIndex {
        let mut index = TxnIndex::default();
        for b in batches {
            index.on_append(b, 0);
        }
        index.on_high_watermark(hw);
        index
    }

    /// The index of a recorded log whose last stable offset is `offset`: a transaction of a
    /// producer the recording does not name is open from there.
    pub fn open_from(offset: u64) -> TxnIndex {
        TxnIndex {
            ongoing: BTreeMap::from([(u64::MAX, offset)]),
            ..TxnIndex::default()
        }
    }

    /// A batch was appended: a transactional batch opens its producer's transaction here if none
    /// is open; a marker closes it (`appendEndTxnMarker`: a marker with no open transaction is a
    /// transaction of just the marker).
    pub fn on_append(&mut self, batch: &LogBatch, hw: u64) {
        if let Some(Control::Marker(m)) = &batch.control {
            let marker_offset = batch.base_offset;
            let first_offset = self.ongoing.remove(&m.producer_id).unwrap_or(marker_offset);
            if !m.commit {
                self.aborted.push(AbortedTxn {
                    producer_id: m.producer_id,
                    first_offset,
                    last_offset: marker_offset,
                });
            }
            if marker_offset >= hw {
                self.unreplicated.push((first_offset, marker_offset));
            }
        } else if let Some(producer_id) = batch.transactional_producer() {
            self.ongoing.entry(producer_id).or_insert(batch.base_offset);
        }
    }

    /// The high watermark moved: transactions whose marker is below it are stable.
    pub fn on_high_watermark(&mut self, hw: u64) {
        self.unreplicated.retain(|(_, marker)| *marker >= hw);
    }

    /// The first offset of a transaction that is open or whose marker is not replicated yet.
    pub fn first_unstable_offset(&self) -> Option<u64> {
        let open = self.ongoing.values().copied();
        let unreplicated = self.unreplicated.iter().map(|(first, _)| *first);
        open.chain(unreplicated).min()
    }

    /// `min(first unstable offset, HW)`.
    pub fn last_stable_offset(&self, hw: u64) -> u64 {
        self.first_unstable_offset().map_or(hw, |first| first.min(hw))
    }

    /// Open transactions: (producer id, first offset).
    pub fn ongoing(&self) -> impl Iterator<Item = (u64, u64)> + '_ {
        self.ongoing.iter().map(|(p, o)| (*p, *o))
    }

    /// Every aborted transaction, in marker order.
    pub fn aborted(&self) -> &[AbortedTxn] {
        &self.aborted
    }

    /// Aborted transactions that overlap `from..upto` (`collectAbortedTransactions`): what a
    /// `read_committed` fetch returns with records from that range.
    pub fn aborted_between(&self, from: u64, upto: u64) -> Vec<AbortedTxn> {
        self.aborted
            .iter()
            .filter(|a| a.last_offset >= from && a.first_offset < upto)
            .copied()
            .collect()
    }

    /// True if the record at `offset` from `producer_id` belongs to an aborted transaction.
    pub fn is_aborted(&self, producer_id: u64, offset: u64) -> bool {
        self.aborted
            .iter()
            .any(|a| a.producer_id == producer_id && a.first_offset <= offset && offset < a.last_offset)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kafka::log::PartitionLog;
    use crate::kafka::record::{BatchSequence, RecordId, Timestamps};
    use std::sync::Arc;

    fn recs(producer: u32, n: u32) -> Arc<[RecordId]> {
        (0..n).map(|seq| RecordId { producer, seq }).collect()
    }

    fn seq(producer_id: u64) -> Option<BatchSequence> {
        Some(BatchSequence {
            producer_id,
            epoch: 0,
            base_sequence: 0,
        })
    }

    fn marker(log: &mut PartitionLog, producer_id: u64, commit: bool) -> u64 {
        let m = TxnMarker {
            commit,
            producer_id,
            producer_epoch: 0,
            coordinator_epoch: 0,
        };
        log.append_control(Control::Marker(m), 0, 0).0
    }

    /// Two producers' transactions interleave on one partition (KIP-98's LSO): the LSO stays at
    /// the first open transaction's first offset until it is decided and its marker replicated.
    #[test]
    fn the_lso_waits_for_the_first_open_transaction() {
        let mut log = PartitionLog::default();
        log.append_data(recs(0, 2), 10, 0, seq(7), true, Timestamps::LogAppendTime(0), 0); // 0-1: pid 7
        log.append_data(recs(1, 2), 10, 0, seq(8), true, Timestamps::LogAppendTime(0), 0); // 2-3: pid 8
        log.append(recs(2, 1), 10, 0, None); // 4: not transactional
        log.set_high_watermark(5);
        assert_eq!(log.last_stable_offset(), 0);
        let commit_8 = marker(&mut log, 8, true); // 5
        log.set_high_watermark(6);
        assert_eq!(log.last_stable_offset(), 0, "pid 7 is still open");
        let abort_7 = marker(&mut log, 7, false); // 6
        assert_eq!((commit_8, abort_7), (5, 6));
        assert_eq!(
            log.last_stable_offset(),
            0,
            "decided, but its marker is not below the HW"
        );
        log.set_high_watermark(7);
        assert_eq!(log.last_stable_offset(), 7);
        assert_eq!(
            log.txns().aborted(),
            [AbortedTxn {
                producer_id: 7,
                first_offset: 0,
                last_offset: 6
            }]
        );
        assert!(log.txns().is_aborted(7, 1));
        assert!(!log.txns().is_aborted(8, 2));
    }

    #[test]
    fn a_read_committed_fetch_gets_the_aborted_transactions_of_its_range() {
        let mut log = PartitionLog::default();
        log.append_data(recs(0, 2), 10, 0, seq(7), true, Timestamps::LogAppendTime(0), 0); // 0-1
        marker(&mut log, 7, false); // 2
        log.append_data(recs(0, 2), 10, 0, seq(7), true, Timestamps::LogAppendTime(0), 0); // 3-4
        marker(&mut log, 7, true); // 5
        log.append_data(recs(0, 2), 10, 0, seq(7), true, Timestamps::LogAppendTime(0), 0); // 6-7
        marker(&mut log, 7, false); // 8
        let index = log.txns();
        let firsts = |v: Vec<AbortedTxn>| v.iter().map(|a| a.first_offset).collect::<Vec<_>>();
        assert_eq!(firsts(index.aborted_between(0, 9)), [0, 6]);
        assert_eq!(firsts(index.aborted_between(3, 6)), Vec::<u64>::new());
        assert_eq!(firsts(index.aborted_between(2, 3)), [0], "its marker is in range");
        assert_eq!(firsts(index.aborted_between(5, 7)), [6]);
    }

    #[test]
    fn truncation_rebuilds_the_index() {
        let mut log = PartitionLog::default();
        log.append_data(recs(0, 2), 10, 0, seq(7), true, Timestamps::LogAppendTime(0), 0);
        marker(&mut log, 7, false);
        log.set_high_watermark(3);
        assert_eq!(log.last_stable_offset(), 3);
        log.truncate_to(2);
        assert!(log.txns().aborted().is_empty(), "the marker is gone");
        assert_eq!(log.last_stable_offset(), 0, "the transaction is open again");
    }
}

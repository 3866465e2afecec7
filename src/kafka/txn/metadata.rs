//! What a transaction coordinator holds for one transactional id, and the records it writes to
//! move it from state to state.
//!
//! Followed: `TransactionMetadata` (`prepareIncrementProducerEpoch`, `prepareAddPartitions`,
//! `prepareAbortOrCommit`, `prepareComplete`, `prepareFenceProducerEpoch`, `completeTransitionTo`)
//! in transaction-coordinator (Kafka 4.0). Kafka keeps the pending state beside the current one
//! and applies the written record once it is replicated; here [`TxnMetadata::apply`] does that.

use super::TxnState;
use crate::kafka::log::TxnStateRecord;
use crate::kafka::record::{ProducerIdentity, Tp};
use std::collections::BTreeSet;
use std::sync::Arc;

/// One transactional id at its coordinator.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TxnMetadata {
    /// The transactional id.
    pub transactional_id: Arc<str>,
    /// Its producer id and current epoch.
    pub identity: ProducerIdentity,
    /// `transaction.timeout.ms` of the last `InitProducerId`.
    pub timeout_ms: u64,
    /// The state.
    pub state: TxnState,
    /// Partitions in the ongoing (or deciding) transaction.
    pub partitions: BTreeSet<Tp>,
    /// When the current (or, once it is complete, the last) transaction started, in ms of
    /// simulated time (`txnStartTimestamp`); `None` (Kafka's -1) until the first one starts, and
    /// after a coordinator loaded the record of an `InitProducerId`.
    pub start_ms: Option<u64>,
}

impl TxnMetadata {
    /// A transactional id seen for the first time: producer id `producer_id`, before its first
    /// epoch (the first `InitProducerId` writes epoch 0).
    pub fn new(transactional_id: Arc<str>, producer_id: u64, timeout_ms: u64) -> TxnMetadata {
        TxnMetadata {
            transactional_id,
            identity: ProducerIdentity {
                id: producer_id,
                epoch: u16::MAX,
            },
            timeout_ms,
            state: TxnState::Empty,
            partitions: BTreeSet::new(),
            start_ms: None,
        }
    }

    /// The metadata a record read back from `__transaction_state` stands for.
    pub fn from_record(r: &TxnStateRecord) -> TxnMetadata {
        TxnMetadata {
            transactional_id: r.transactional_id.clone(),
            identity: ProducerIdentity {
                id: r.producer_id,
                epoch: r.producer_epoch,
            },
            timeout_ms: r.timeout_ms,
            state: r.state,
            partitions: r.partitions.iter().copied().collect(),
            start_ms: r.start_ms,
        }
    }

    fn record(
        &self,
        state: TxnState,
        epoch: u16,
        partitions: &BTreeSet<Tp>,
        start_ms: Option<u64>,
    ) -> TxnStateRecord {
        TxnStateRecord {
            transactional_id: self.transactional_id.clone(),
            producer_id: self.identity.id,
            producer_epoch: epoch,
            state,
            partitions: partitions.iter().copied().collect(),
            timeout_ms: self.timeout_ms,
            start_ms,
        }
    }

    /// `InitProducerId` on an Empty or completed transactional id: the next epoch (the first
    /// one, 0, for a new id), no partitions, no start time (`prepareIncrementProducerEpoch`
    /// writes -1).
    pub fn prepare_epoch_bump(&self, timeout_ms: u64) -> TxnStateRecord {
        let mut r = self.record(
            TxnState::Empty,
            self.identity.epoch.wrapping_add(1),
            &BTreeSet::new(),
            None,
        );
        r.timeout_ms = timeout_ms;
        r
    }

    /// `AddPartitionsToTxn`: the transaction is (or stays) Ongoing with these partitions too;
    /// it starts now if none was open.
    pub fn prepare_add(&self, partitions: &[Tp], now_ms: u64) -> TxnStateRecord {
        let mut all = self.partitions.clone();
        all.extend(partitions.iter().copied());
        let start = if self.state == TxnState::Ongoing {
            self.start_ms
        } else {
            Some(now_ms)
        };
        self.record(TxnState::Ongoing, self.identity.epoch, &all, start)
    }

    /// `EndTxn` or an abort by the coordinator: PrepareCommit or PrepareAbort, with the epoch
    /// bumped when `bump` (transaction version 2, or a fenced producer). A version 2 abort with
    /// no transaction open starts one now (`prepareAbortOrCommit` with `noPartitionAdded`).
    pub fn prepare_end(&self, commit: bool, bump: bool, now_ms: u64) -> TxnStateRecord {
        let state = if commit {
            TxnState::PrepareCommit
        } else {
            TxnState::PrepareAbort
        };
        let epoch = if bump {
            self.identity.epoch.wrapping_add(1)
        } else {
            self.identity.epoch
        };
        let no_partition_added = matches!(
            self.state,
            TxnState::Empty | TxnState::CompleteCommit | TxnState::CompleteAbort
        );
        let start = if no_partition_added {
            Some(now_ms)
        } else {
            self.start_ms
        };
        self.record(state, epoch, &self.partitions, start)
    }

    /// Every marker is written: CompleteCommit or CompleteAbort, no partitions.
    pub fn prepare_complete(&self) -> TxnStateRecord {
        let state = if self.state == TxnState::PrepareCommit {
            TxnState::CompleteCommit
        } else {
            TxnState::CompleteAbort
        };
        self.record(state, self.identity.epoch, &BTreeSet::new(), self.start_ms)
    }

    /// A written record takes effect (`completeTransitionTo`). Returns the state before.
    pub fn apply(&mut self, r: &TxnStateRecord) -> TxnState {
        let before = self.state;
        self.identity = ProducerIdentity {
            id: r.producer_id,
            epoch: r.producer_epoch,
        };
        self.timeout_ms = r.timeout_ms;
        self.state = r.state;
        self.partitions = r.partitions.iter().copied().collect();
        // `completeTransitionTo(Empty)` keeps the last transaction's start time in memory.
        if r.state != TxnState::Empty {
            self.start_ms = r.start_ms;
        }
        before
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tp(partition: u32) -> Tp {
        Tp { topic: 0, partition }
    }

    /// A transaction's life, each step a transition `TransactionState` allows.
    #[test]
    fn a_transaction_moves_through_kafkas_states() {
        let mut m = TxnMetadata::new(Arc::from("t"), 7, 60_000);
        let r = m.prepare_epoch_bump(60_000);
        assert_eq!(r.producer_epoch, 0, "the first epoch");
        assert_eq!(r.start_ms, None, "no transaction started yet");
        m.apply(&r);
        let r = m.prepare_add(&[tp(0)], 10);
        assert!(m.state.can_transition_to(r.state));
        m.apply(&r);
        let r = m.prepare_add(&[tp(1)], 20);
        assert_eq!(
            (r.start_ms, r.partitions.len()),
            (Some(10), 2),
            "started at the first add"
        );
        m.apply(&r);
        let r = m.prepare_end(true, true, 25);
        assert!(m.state.can_transition_to(r.state));
        assert_eq!(r.producer_epoch, 1, "transaction version 2 bumps at the end");
        m.apply(&r);
        let r = m.prepare_complete();
        assert_eq!((r.state, r.partitions.len()), (TxnState::CompleteCommit, 0));
        assert!(m.state.can_transition_to(r.state));
        m.apply(&r);
        let r = m.prepare_add(&[tp(0)], 30);
        assert_eq!(r.start_ms, Some(30), "a new transaction");
        assert!(m.state.can_transition_to(r.state));
    }

    /// `txnStartTimestamp` as `TransactionMetadata` keeps it (what `kafka-transactions
    /// --describe` shows as CurrentTransactionStartTimeMs): -1 until a transaction starts, the
    /// last one's after it completes and after a new `InitProducerId`, the abort's own time for
    /// a version 2 abort with nothing open.
    #[test]
    fn the_start_time_follows_kafkas_txn_start_timestamp() {
        let mut m = TxnMetadata::new(Arc::from("t"), 7, 60_000);
        m.apply(&m.prepare_epoch_bump(60_000));
        assert_eq!(m.start_ms, None);
        m.apply(&m.prepare_add(&[tp(0)], 10));
        m.apply(&m.prepare_end(true, true, 20));
        assert_eq!(m.start_ms, Some(10), "the commit keeps the start");
        m.apply(&m.prepare_complete());
        assert_eq!(m.start_ms, Some(10));
        let init = m.prepare_epoch_bump(60_000);
        assert_eq!(init.start_ms, None, "the record says -1");
        m.apply(&init);
        assert_eq!(m.start_ms, Some(10), "memory keeps the last start");
        assert_eq!(
            TxnMetadata::from_record(&init).start_ms,
            None,
            "a loaded one does not"
        );
        m.apply(&m.prepare_end(false, true, 40));
        assert_eq!(m.start_ms, Some(40), "an abort with nothing open starts now");
    }
}

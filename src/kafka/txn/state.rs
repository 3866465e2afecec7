//! The states of a transactional id at its coordinator and the transitions Kafka allows.
//!
//! Followed: `TransactionState` (transaction-coordinator/src/main/java/org/apache/kafka/
//! coordinator/transaction/TransactionState.java, Kafka 4.0): each state lists the states it may
//! be entered from.

use std::fmt;

/// `TransactionState`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum TxnState {
    /// No transaction open (after `InitProducerId`).
    Empty,
    /// A transaction is open: partitions were added.
    Ongoing,
    /// The coordinator decided to commit; markers are being written.
    PrepareCommit,
    /// The coordinator decided to abort; markers are being written.
    PrepareAbort,
    /// Every partition has its COMMIT marker.
    CompleteCommit,
    /// Every partition has its ABORT marker.
    CompleteAbort,
    /// The transactional id expired and is being removed.
    Dead,
    /// An ongoing transaction whose producer is being fenced (a newer `InitProducerId`, or its
    /// timeout): its epoch was bumped and it will be aborted.
    PrepareEpochFence,
}

impl TxnState {
    /// Every state.
    pub const ALL: [TxnState; 8] = [
        TxnState::Empty,
        TxnState::Ongoing,
        TxnState::PrepareCommit,
        TxnState::PrepareAbort,
        TxnState::CompleteCommit,
        TxnState::CompleteAbort,
        TxnState::Dead,
        TxnState::PrepareEpochFence,
    ];

    /// Kafka's name for it (`kafka-transactions --describe`).
    pub fn name(self) -> &'static str {
        match self {
            TxnState::Empty => "Empty",
            TxnState::Ongoing => "Ongoing",
            TxnState::PrepareCommit => "PrepareCommit",
            TxnState::PrepareAbort => "PrepareAbort",
            TxnState::CompleteCommit => "CompleteCommit",
            TxnState::CompleteAbort => "CompleteAbort",
            TxnState::Dead => "Dead",
            TxnState::PrepareEpochFence => "PrepareEpochFence",
        }
    }

    /// The states this one may be entered from (`TransactionState.validPreviousStates`).
    pub fn valid_previous(self) -> &'static [TxnState] {
        use TxnState::*;
        match self {
            Empty => &[Empty, CompleteCommit, CompleteAbort],
            Ongoing => &[Ongoing, Empty, CompleteCommit, CompleteAbort],
            PrepareCommit => &[Ongoing],
            PrepareAbort => &[Ongoing, PrepareEpochFence, Empty, CompleteCommit, CompleteAbort],
            CompleteCommit => &[PrepareCommit],
            CompleteAbort => &[PrepareAbort],
            Dead => &[Empty, CompleteAbort, CompleteCommit],
            PrepareEpochFence => &[Ongoing],
        }
    }

    /// True if `self → to` is a transition Kafka allows.
    pub fn can_transition_to(self, to: TxnState) -> bool {
        to.valid_previous().contains(&self)
    }

    /// `PrepareCommit` or `PrepareAbort`: markers are being written.
    pub fn is_preparing(self) -> bool {
        matches!(self, TxnState::PrepareCommit | TxnState::PrepareAbort)
    }

    /// `CompleteCommit` or `CompleteAbort`.
    pub fn is_complete(self) -> bool {
        matches!(self, TxnState::CompleteCommit | TxnState::CompleteAbort)
    }
}

impl fmt::Display for TxnState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

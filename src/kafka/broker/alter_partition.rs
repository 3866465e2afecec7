//! The broker's queue of ISR changes for the controller.
//!
//! Followed: `DefaultAlterPartitionManager` (core/src/main/scala/kafka/server/
//! AlterPartitionManager.scala, Kafka 4.0). A partition's proposal waits in `unsentIsrUpdates`
//! (one per partition: a second is refused while the first is queued or in flight) until the
//! controller answers for it; while no request is in flight (`inflightRequest`), one request
//! carries every queued proposal. A proposal is sent as soon as it is queued if nothing is in
//! flight, so the first of many changes goes alone and the rest follow together in the next
//! request, sent when the answer to the first arrives.

use crate::kafka::protocol::{ErrorCode, IsrProposal, PartitionState};
use crate::kafka::record::Tp;
use std::collections::BTreeMap;

/// The controller's answer for one partition: the committed state, or why not.
pub(super) type IsrAnswer = (Tp, Result<PartitionState, ErrorCode>);

/// Queued ISR proposals and the request in flight.
#[derive(Debug, Default)]
pub(super) struct AlterPartitionManager {
    /// Proposals not answered yet, by partition (sent or not).
    unsent: BTreeMap<Tp, IsrProposal>,
    /// The correlation id of the request in flight.
    in_flight: Option<u32>,
}

impl AlterPartitionManager {
    /// Queues a proposal (`submit`); false if one for the partition is already queued or in
    /// flight (Kafka completes that submission with `OperationNotAttemptedException`).
    pub(super) fn submit(&mut self, proposal: IsrProposal) -> bool {
        if self.unsent.contains_key(&proposal.tp) {
            return false;
        }
        self.unsent.insert(proposal.tp, proposal);
        true
    }

    /// `maybePropagateIsrChanges`: every queued proposal, as the request to send under
    /// `correlation`, when none is in flight and some are queued.
    pub(super) fn request(&mut self, correlation: u32) -> Option<Vec<IsrProposal>> {
        if self.in_flight.is_some() || self.unsent.is_empty() {
            return None;
        }
        self.in_flight = Some(correlation);
        Some(self.unsent.values().cloned().collect())
    }

    /// The controller answered: the request in flight clears, and the partitions it answered for
    /// leave the queue. Returns the answers to pass on, or `None` for an answer to a request this
    /// incarnation of the broker did not send.
    pub(super) fn on_response(
        &mut self,
        correlation: u32,
        answers: Vec<IsrAnswer>,
    ) -> Option<Vec<IsrAnswer>> {
        if self.in_flight != Some(correlation) {
            return None;
        }
        self.in_flight = None;
        for (tp, _) in &answers {
            self.unsent.remove(tp);
        }
        Some(answers)
    }

    /// The process stopped: nothing is queued or in flight any more.
    pub(super) fn reset(&mut self) {
        *self = AlterPartitionManager::default();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn proposal(partition: u32) -> IsrProposal {
        IsrProposal {
            tp: Tp { topic: 0, partition },
            leader_epoch: 0,
            partition_epoch: 0,
            isr: vec![1, 2],
        }
    }

    /// `DefaultAlterPartitionManager`: one request in flight; what is queued meanwhile goes
    /// together in the next one; a partition has at most one proposal queued.
    #[test]
    fn one_request_in_flight_carries_everything_queued_before_it() {
        let mut m = AlterPartitionManager::default();
        assert!(m.submit(proposal(0)));
        assert_eq!(m.request(7).map(|r| r.len()), Some(1));
        assert!(m.submit(proposal(1)));
        assert!(m.submit(proposal(2)));
        assert!(!m.submit(proposal(0)), "partition 0 is still in flight");
        assert_eq!(m.request(8), None, "one request in flight");
        let answer = vec![(proposal(0).tp, Err(ErrorCode::InvalidUpdateVersion))];
        assert!(
            m.on_response(99, answer.clone()).is_none(),
            "not the request in flight"
        );
        assert!(m.on_response(7, answer).is_some());
        let next: Vec<u32> = m
            .request(8)
            .unwrap_or_default()
            .iter()
            .map(|p| p.tp.partition)
            .collect();
        assert_eq!(next, vec![1, 2]);
    }
}

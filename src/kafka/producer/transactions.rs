//! The transactional producer's client side: its state, its coordinator, and the transaction
//! requests it sends one at a time (`FindCoordinator`, `InitProducerId`, version 1's
//! `AddPartitionsToTxn`, `EndTxn`), and which errors are abortable and which are fatal.
//!
//! Followed: `TransactionManager` (states and `isTransitionValid`, `nextRequest`, the
//! `TxnRequestHandler`s and their error handling, `maybeTransitionToErrorState`) and
//! `Sender.maybeSendAndPollTransactionalRequest` (clients/src/main/java/org/apache/kafka/
//! clients/producer/internals/), Kafka 4.0. Retries wait `retry.backoff.ms`, except version 1's
//! first `AddPartitionsToTxn` of a transaction after `CONCURRENT_TRANSACTIONS` (20 ms,
//! KAFKA-5482).

use crate::kafka::group::messages::{GroupRequest, MemberRef, TxnOffsetCommitRequest};
use crate::kafka::protocol::{BrokerId, ErrorCode};
use crate::kafka::record::{ProducerIdentity, Tp};
use crate::kafka::txn::messages::{AddPartitions, TxnProducer, TxnRequest};
use crate::sim::{SimDuration, SimTime};
use std::collections::BTreeSet;
use std::sync::Arc;

/// `TransactionManager.State`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ClientState {
    /// Before `initTransactions()`.
    Uninitialized,
    /// `initTransactions()` waits for `InitProducerId`.
    Initializing,
    /// No transaction open.
    Ready,
    /// Between `beginTransaction()` and its end.
    InTransaction,
    /// `commitTransaction()` waits for the flush and `EndTxn`.
    Committing,
    /// `abortTransaction()` waits for `EndTxn`.
    Aborting,
    /// A send failed: the application must abort.
    AbortableError,
    /// Fenced or broken: the producer can only be closed.
    FatalError,
}

/// What a transaction request was.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Asked {
    FindCoordinator,
    InitProducerId,
    AddPartitions(Vec<Tp>),
    EndTxn(bool),
    FindGroupCoordinator,
    TxnOffsetCommit,
}

/// `sendOffsetsToTransaction`: where it stands.
#[derive(Clone, Debug, PartialEq, Eq)]
enum OffsetsStage {
    /// The group's `__consumer_offsets` partition is being added to the transaction.
    Adding,
    /// `TxnOffsetCommit` goes next (to the group coordinator, looked up first).
    Committing,
    /// Written: the transaction may commit.
    Done,
}

/// Offsets to commit in the transaction.
#[derive(Clone, Debug)]
struct Offsets {
    member: MemberRef,
    offsets: Vec<(Tp, u64)>,
    partition: Tp,
    stage: OffsetsStage,
}

/// What the sender should do now.
#[derive(Debug)]
pub enum Next {
    /// Nothing to send.
    Idle,
    /// Send `FindCoordinator` to any broker.
    FindCoordinator(TxnRequest),
    /// Send this to the coordinator.
    ToCoordinator(BrokerId, TxnRequest),
    /// Send `FindCoordinator` for the group to any broker.
    FindGroupCoordinator(GroupRequest),
    /// Send this to the group coordinator.
    ToGroupCoordinator(BrokerId, GroupRequest),
}

/// What an answer changed, for the producer to act on.
#[derive(Debug, PartialEq, Eq)]
pub enum Outcome {
    /// Nothing the producer must act on.
    Nothing,
    /// The coordinator is known.
    Coordinator(BrokerId),
    /// `initTransactions()` finished with this identity.
    Initialized(ProducerIdentity),
    /// Version 1: these partitions joined the transaction.
    Added(Vec<Tp>),
    /// The transaction ended (committed if `true`); the identity for the next one.
    Ended(bool, ProducerIdentity),
    /// An error the application sees.
    Failed {
        /// The error.
        error: ErrorCode,
        /// Fatal (else abortable).
        fatal: bool,
    },
}

/// A transactional producer's transaction state.
#[derive(Clone, Debug)]
pub struct TransactionManager {
    transactional_id: Arc<str>,
    timeout_ms: u64,
    v2: bool,
    retry_backoff: SimDuration,
    state: ClientState,
    coordinator: Option<BrokerId>,
    in_flight: Option<(BrokerId, u32, Asked)>,
    not_before: SimTime,
    /// Partitions of the transaction (version 1: added by the coordinator; version 2: sent to).
    partitions: BTreeSet<Tp>,
    /// Version 1: partitions still to add.
    new_partitions: BTreeSet<Tp>,
    /// Something was sent in this transaction (`transactionStarted`).
    started: bool,
    /// `commitTransaction()` (true) or `abortTransaction()` called.
    ending: Option<bool>,
    /// Index of `__consumer_offsets` (a processor's producer commits offsets).
    offsets_topic: Option<u32>,
    /// `sendOffsetsToTransaction` in progress.
    offsets: Option<Offsets>,
    /// The group's coordinator.
    group_coordinator: Option<BrokerId>,
}

impl TransactionManager {
    /// A producer with `transactional.id` `transactional_id`.
    pub fn new(transactional_id: Arc<str>, timeout_ms: u64, v2: bool, retry_backoff: SimDuration) -> Self {
        TransactionManager {
            transactional_id,
            timeout_ms,
            v2,
            retry_backoff,
            state: ClientState::Uninitialized,
            coordinator: None,
            in_flight: None,
            not_before: SimTime::ZERO,
            partitions: BTreeSet::new(),
            new_partitions: BTreeSet::new(),
            started: false,
            ending: None,
            offsets_topic: None,
            offsets: None,
            group_coordinator: None,
        }
    }

    /// Index of `__consumer_offsets`, for a processor's producer.
    pub fn set_offsets_topic(&mut self, topic: Option<u32>) {
        self.offsets_topic = topic;
    }

    /// Index of `__consumer_offsets`.
    pub fn offsets_topic(&self) -> Option<u32> {
        self.offsets_topic
    }

    /// `sendOffsetsToTransaction(offsets, groupMetadata)`: adds the group's `__consumer_offsets`
    /// `partition` to the transaction (`AddOffsetsToTxn`; under version 2 Kafka's group
    /// coordinator adds it on the client's behalf, one round trip fewer: not modelled), then
    /// `TxnOffsetCommit` to the group coordinator.
    pub fn send_offsets(&mut self, member: MemberRef, offsets: Vec<(Tp, u64)>, partition: Tp) {
        if !self.partitions.contains(&partition) {
            self.new_partitions.insert(partition);
        }
        self.started = true;
        self.offsets = Some(Offsets {
            member,
            offsets,
            partition,
            stage: OffsetsStage::Adding,
        });
    }

    /// No `sendOffsetsToTransaction` is in progress.
    pub fn offsets_done(&self) -> bool {
        self.offsets
            .as_ref()
            .is_none_or(|o| o.stage == OffsetsStage::Done)
    }

    /// The state.
    pub fn state(&self) -> ClientState {
        self.state
    }

    /// Version 2 (KIP-890) is in use.
    pub fn is_v2(&self) -> bool {
        self.v2
    }

    /// `initTransactions()`.
    pub fn init(&mut self) {
        if self.state == ClientState::Uninitialized {
            self.state = ClientState::Initializing;
        }
    }

    /// `beginTransaction()`.
    pub fn begin(&mut self) {
        if self.state == ClientState::Ready {
            self.state = ClientState::InTransaction;
        }
    }

    /// `commitTransaction()` (true) or `abortTransaction()`.
    pub fn end(&mut self, commit: bool) {
        let allowed = match self.state {
            ClientState::InTransaction => true,
            ClientState::AbortableError => !commit,
            _ => false,
        };
        if allowed {
            self.state = if commit {
                ClientState::Committing
            } else {
                ClientState::Aborting
            };
            self.ending = Some(commit);
            if !commit {
                // `beginAbort`: partitions not added yet need not be.
                self.new_partitions.clear();
            }
        }
    }

    /// `send()` to `tp` inside the transaction (`maybeAddPartition`): version 2 counts it at
    /// once; version 1 adds it with `AddPartitionsToTxn` first.
    pub fn on_send(&mut self, tp: Tp) {
        if self.v2 {
            self.partitions.insert(tp);
            self.started = true;
        } else if !self.partitions.contains(&tp) {
            self.new_partitions.insert(tp);
        }
    }

    /// The group request of `sendOffsetsToTransaction` due now, if any.
    fn next_offsets(&mut self, identity: ProducerIdentity) -> Option<Next> {
        let o = self.offsets.as_mut()?;
        if o.stage == OffsetsStage::Adding && self.partitions.contains(&o.partition) {
            o.stage = OffsetsStage::Committing;
        }
        if o.stage != OffsetsStage::Committing {
            return None;
        }
        let Some(b) = self.group_coordinator else {
            return Some(Next::FindGroupCoordinator(GroupRequest::FindCoordinator(
                o.member.group.clone(),
            )));
        };
        let req = TxnOffsetCommitRequest {
            member: o.member.clone(),
            producer: TxnProducer {
                transactional_id: self.transactional_id.clone(),
                identity,
            },
            offsets: o.offsets.clone(),
        };
        Some(Next::ToGroupCoordinator(b, GroupRequest::TxnOffsetCommit(req)))
    }

    /// A group request went to `broker`.
    pub fn sent_group(&mut self, broker: BrokerId, correlation: u32, request: &GroupRequest) {
        let asked = match request {
            GroupRequest::FindCoordinator(_) => Asked::FindGroupCoordinator,
            _ => Asked::TxnOffsetCommit,
        };
        self.in_flight = Some((broker, correlation, asked));
    }

    /// The group's coordinator answered `FindCoordinator`.
    pub fn on_group_coordinator(&mut self, now: SimTime, result: Result<BrokerId, ErrorCode>) {
        self.in_flight = None;
        match result {
            Ok(b) => self.group_coordinator = Some(b),
            Err(_) => self.retry_after(now, self.retry_backoff),
        }
    }

    /// `TxnOffsetCommit` answered (`TxnOffsetCommitHandler`).
    pub fn on_txn_offsets(&mut self, now: SimTime, result: Result<(), ErrorCode>) -> Outcome {
        self.in_flight = None;
        match result {
            Ok(()) => {
                if let Some(o) = self.offsets.as_mut() {
                    o.stage = OffsetsStage::Done;
                }
                Outcome::Nothing
            }
            Err(
                ErrorCode::NotCoordinator | ErrorCode::CoordinatorNotAvailable | ErrorCode::RequestTimedOut,
            ) => {
                self.group_coordinator = None;
                self.retry_after(now, self.retry_backoff);
                Outcome::Nothing
            }
            Err(e @ (ErrorCode::UnknownMemberId | ErrorCode::IllegalGeneration)) => {
                // "Transaction offset Commit failed due to consumer group metadata mismatch".
                self.offsets = None;
                self.fail(e, false)
            }
            Err(ErrorCode::ProducerFenced | ErrorCode::InvalidProducerEpoch) => {
                self.fail(ErrorCode::ProducerFenced, true)
            }
            Err(e) if e.is_retriable() => {
                self.retry_after(now, self.retry_backoff);
                Outcome::Nothing
            }
            Err(e) => self.fail(e, true),
        }
    }

    /// May a batch for `tp` be drained (`isSendToPartitionAllowed`)?
    pub fn may_send_to(&self, tp: Tp) -> bool {
        self.v2 || self.partitions.contains(&tp)
    }

    /// Queued batches are aborted instead of sent (`abortUndrainedBatches`).
    pub fn aborts_undrained(&self) -> bool {
        matches!(
            self.state,
            ClientState::Aborting | ClientState::AbortableError | ClientState::FatalError
        )
    }

    /// A batch failed for good: a fenced producer is dead; anything else must be aborted
    /// (`maybeTransitionToErrorState`).
    pub fn on_batch_failed(&mut self, error: ErrorCode) -> Outcome {
        if error == ErrorCode::TransactionAborted || self.state == ClientState::FatalError {
            return Outcome::Nothing;
        }
        let fatal = error == ErrorCode::ProducerFenced;
        self.fail(error, fatal)
    }

    fn fail(&mut self, error: ErrorCode, fatal: bool) -> Outcome {
        if fatal {
            self.state = ClientState::FatalError;
        } else if matches!(
            self.state,
            ClientState::InTransaction | ClientState::Committing | ClientState::Initializing
        ) {
            self.state = ClientState::AbortableError;
            self.ending = None;
        } else if self.state == ClientState::Aborting {
            return Outcome::Nothing;
        }
        Outcome::Failed { error, fatal }
    }

    /// The request the sender should send now, if any (`nextRequest`): one at a time, after
    /// the backoff; `EndTxn` only once no batch is incomplete.
    pub fn next(&mut self, now: SimTime, identity: Option<ProducerIdentity>, incomplete: bool) -> Next {
        if self.in_flight.is_some() || now < self.not_before || self.state == ClientState::FatalError {
            return Next::Idle;
        }
        let request = match self.state {
            ClientState::Initializing => TxnRequest::InitProducerId {
                transactional_id: self.transactional_id.clone(),
                timeout_ms: self.timeout_ms,
            },
            ClientState::InTransaction | ClientState::Committing
                if self.offsets_pending_request(identity) =>
            {
                let Some(identity) = identity else {
                    return Next::Idle;
                };
                return self.next_offsets(identity).unwrap_or(Next::Idle);
            }
            _ if !self.new_partitions.is_empty() => {
                let Some(identity) = identity else {
                    return Next::Idle;
                };
                TxnRequest::AddPartitions(AddPartitions {
                    producer: self.producer(identity),
                    partitions: self.new_partitions.iter().copied().collect(),
                    verify_only: false,
                })
            }
            ClientState::Committing | ClientState::Aborting if !incomplete && self.offsets_done() => {
                let (Some(commit), Some(identity)) = (self.ending, identity) else {
                    return Next::Idle;
                };
                if !self.started {
                    // "Not sending EndTxn for completed transaction since no send ... triggered".
                    return Next::Idle;
                }
                TxnRequest::EndTxn {
                    producer: self.producer(identity),
                    commit,
                }
            }
            _ => return Next::Idle,
        };
        match self.coordinator {
            Some(c) => Next::ToCoordinator(c, request),
            None => Next::FindCoordinator(TxnRequest::FindCoordinator(self.transactional_id.clone())),
        }
    }

    /// A transaction that sent nothing ends without `EndTxn`: true if it just did.
    pub fn end_locally(&mut self, incomplete: bool) -> Option<bool> {
        let commit = self.ending?;
        if self.started
            || incomplete
            || !matches!(self.state, ClientState::Committing | ClientState::Aborting)
        {
            return None;
        }
        self.finish();
        Some(commit)
    }

    /// A group request of `sendOffsetsToTransaction` is due.
    fn offsets_pending_request(&self, identity: Option<ProducerIdentity>) -> bool {
        identity.is_some()
            && self.offsets.as_ref().is_some_and(|o| {
                o.stage == OffsetsStage::Committing
                    || (o.stage == OffsetsStage::Adding && self.partitions.contains(&o.partition))
            })
    }

    fn finish(&mut self) {
        self.offsets = None;
        self.state = ClientState::Ready;
        self.ending = None;
        self.started = false;
        self.partitions.clear();
        self.new_partitions.clear();
    }

    fn producer(&self, identity: ProducerIdentity) -> TxnProducer {
        TxnProducer {
            transactional_id: self.transactional_id.clone(),
            identity,
        }
    }

    /// The request went to `broker`.
    pub fn sent(&mut self, broker: BrokerId, correlation: u32, request: &TxnRequest) {
        let asked = match request {
            TxnRequest::FindCoordinator(_) => Asked::FindCoordinator,
            TxnRequest::InitProducerId { .. } => Asked::InitProducerId,
            TxnRequest::AddPartitions(a) => {
                for tp in &a.partitions {
                    self.new_partitions.remove(tp);
                }
                Asked::AddPartitions(a.partitions.clone())
            }
            TxnRequest::EndTxn { commit, .. } => Asked::EndTxn(*commit),
            TxnRequest::WriteMarkers(_) => return,
        };
        self.in_flight = Some((broker, correlation, asked));
    }

    /// A transaction request is in flight.
    pub fn has_in_flight(&self) -> bool {
        self.in_flight.is_some()
    }

    /// True if `correlation` to `broker` is our transaction request.
    pub fn is_ours(&self, broker: BrokerId, correlation: u32) -> bool {
        self.in_flight
            .as_ref()
            .is_some_and(|(b, c, _)| *b == broker && *c == correlation)
    }

    /// Waits before the next request.
    fn retry_after(&mut self, now: SimTime, backoff: SimDuration) {
        self.not_before = now + backoff;
    }

    /// When the next request may go, if it waits.
    pub fn next_wake(&self, now: SimTime) -> Option<SimTime> {
        (self.not_before > now).then_some(self.not_before)
    }

    /// The connection to `broker` broke or was refused: a coordinator there is looked up again
    /// (`TxnRequestHandler` on a disconnect: `lookupCoordinator`).
    pub fn on_unreachable(&mut self, broker: BrokerId) {
        if self.coordinator == Some(broker) {
            self.coordinator = None;
        }
        if self.group_coordinator == Some(broker) {
            self.group_coordinator = None;
        }
    }

    /// The request got no answer (time-out, disconnect): the coordinator is looked up again
    /// and the request retried.
    pub fn on_lost(&mut self, now: SimTime) {
        if let Some((_, _, asked)) = self.in_flight.take() {
            if matches!(asked, Asked::FindGroupCoordinator | Asked::TxnOffsetCommit) {
                self.group_coordinator = None;
            } else {
                self.coordinator = None;
            }
            self.requeue(asked);
            self.retry_after(now, self.retry_backoff);
        }
    }

    fn requeue(&mut self, asked: Asked) {
        if let Asked::AddPartitions(tps) = asked {
            self.new_partitions.extend(tps);
        }
    }

    /// `FindCoordinator` answered.
    pub fn on_coordinator(&mut self, now: SimTime, result: Result<BrokerId, ErrorCode>) -> Outcome {
        self.in_flight = None;
        match result {
            Ok(b) => {
                self.coordinator = Some(b);
                Outcome::Coordinator(b)
            }
            Err(_) => {
                self.retry_after(now, self.retry_backoff);
                Outcome::Nothing
            }
        }
    }

    /// Coordinator errors and retriable errors common to every request; `Err` is for the
    /// request's own handling.
    fn common(
        &mut self,
        now: SimTime,
        asked: Asked,
        error: ErrorCode,
        backoff: SimDuration,
    ) -> Option<Outcome> {
        match error {
            ErrorCode::NotCoordinator | ErrorCode::CoordinatorNotAvailable => {
                self.coordinator = None;
                self.requeue(asked);
                self.retry_after(now, self.retry_backoff);
                Some(Outcome::Nothing)
            }
            ErrorCode::ProducerFenced | ErrorCode::InvalidProducerEpoch => {
                Some(self.fail(ErrorCode::ProducerFenced, true))
            }
            e if e.is_retriable() => {
                self.requeue(asked);
                self.retry_after(now, backoff);
                Some(Outcome::Nothing)
            }
            _ => None,
        }
    }

    /// `InitProducerId` answered.
    pub fn on_init(&mut self, now: SimTime, result: Result<ProducerIdentity, ErrorCode>) -> Outcome {
        self.in_flight = None;
        match result {
            Ok(identity) => {
                self.state = ClientState::Ready;
                Outcome::Initialized(identity)
            }
            Err(e) => self
                .common(now, Asked::InitProducerId, e, self.retry_backoff)
                .unwrap_or_else(|| self.fail(e, true)),
        }
    }

    /// Version 1's `AddPartitionsToTxn` answered.
    pub fn on_added(&mut self, now: SimTime, result: Result<(), ErrorCode>) -> Outcome {
        let Some((_, _, Asked::AddPartitions(tps))) = self.in_flight.take() else {
            return Outcome::Nothing;
        };
        match result {
            Ok(()) => {
                self.partitions.extend(tps.iter().copied());
                self.started = true;
                Outcome::Added(tps)
            }
            Err(e) => {
                let backoff = if self.partitions.is_empty() && e == ErrorCode::ConcurrentTransactions {
                    SimDuration::from_ms(20)
                } else {
                    self.retry_backoff
                };
                let fatal = matches!(
                    e,
                    ErrorCode::InvalidTxnState | ErrorCode::InvalidProducerIdMapping
                );
                self.common(now, Asked::AddPartitions(tps), e, backoff)
                    .unwrap_or_else(|| self.fail(e, fatal))
            }
        }
    }

    /// `EndTxn` answered: version 2 hands out the identity for the next transaction.
    pub fn on_ended(&mut self, now: SimTime, result: Result<ProducerIdentity, ErrorCode>) -> Outcome {
        let Some((_, _, Asked::EndTxn(commit))) = self.in_flight.take() else {
            return Outcome::Nothing;
        };
        match result {
            Ok(identity) => {
                self.finish();
                Outcome::Ended(commit, identity)
            }
            Err(e) => self
                .common(now, Asked::EndTxn(commit), e, self.retry_backoff)
                .unwrap_or_else(|| self.fail(e, true)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ID: ProducerIdentity = ProducerIdentity { id: 7, epoch: 0 };

    fn ready_v1() -> TransactionManager {
        let mut t = TransactionManager::new(Arc::from("t"), 60_000, false, SimDuration::from_ms(100));
        t.coordinator = Some(1);
        t.init();
        t.sent(1, 0, &TxnRequest::FindCoordinator(Arc::from("t")));
        assert_eq!(t.on_init(SimTime::ZERO, Ok(ID)), Outcome::Initialized(ID));
        t.begin();
        t
    }

    /// Version 1: a commit called before the partition was added still adds it first, then
    /// ends (the partitions to add are only dropped by an abort).
    #[test]
    fn a_commit_right_after_the_sends_adds_their_partitions_first() {
        let mut t = ready_v1();
        let tp = Tp {
            topic: 0,
            partition: 0,
        };
        t.on_send(tp);
        assert!(!t.may_send_to(tp));
        t.end(true);
        let Next::ToCoordinator(1, TxnRequest::AddPartitions(a)) = t.next(SimTime::ZERO, Some(ID), true)
        else {
            panic!("AddPartitionsToTxn first");
        };
        assert_eq!(a.partitions, [tp]);
        t.sent(1, 1, &TxnRequest::AddPartitions(a));
        assert_eq!(t.on_added(SimTime::ZERO, Ok(())), Outcome::Added(vec![tp]));
        assert!(t.may_send_to(tp));
        assert!(
            matches!(t.next(SimTime::ZERO, Some(ID), true), Next::Idle),
            "EndTxn waits for the batch"
        );
        assert!(matches!(
            t.next(SimTime::ZERO, Some(ID), false),
            Next::ToCoordinator(1, TxnRequest::EndTxn { commit: true, .. })
        ));
    }

    #[test]
    fn an_abort_forgets_partitions_not_added_and_a_fenced_producer_is_dead() {
        let mut t = ready_v1();
        t.on_send(Tp {
            topic: 0,
            partition: 1,
        });
        t.end(false);
        assert!(matches!(t.next(SimTime::ZERO, Some(ID), false), Next::Idle));
        assert_eq!(t.end_locally(false), Some(false), "nothing was sent: no EndTxn");
        assert_eq!(t.state(), ClientState::Ready);
        t.begin();
        assert_eq!(
            t.on_batch_failed(ErrorCode::InvalidProducerEpoch),
            Outcome::Failed {
                error: ErrorCode::InvalidProducerEpoch,
                fatal: false
            },
            "an old epoch on produce is abortable"
        );
        t.end(false);
        t.started = true;
        let Next::ToCoordinator(_, req) = t.next(SimTime::ZERO, Some(ID), false) else {
            panic!("EndTxn");
        };
        t.sent(1, 2, &req);
        assert_eq!(
            t.on_ended(SimTime::ZERO, Err(ErrorCode::ProducerFenced)),
            Outcome::Failed {
                error: ErrorCode::ProducerFenced,
                fatal: true
            }
        );
        assert_eq!(t.state(), ClientState::FatalError);
    }
}

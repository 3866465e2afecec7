//! The transaction coordinator of one broker: the transactional ids of the `__transaction_state`
//! partitions it leads, what each request does to them, and what the broker must do about it
//! (write a record, answer a client, write markers). Sans-IO: the broker does the writing and
//! the sending and reports back.
//!
//! Followed: `TransactionCoordinator.scala` (`handleInitProducerId`, `handleAddPartitionsToTransaction`,
//! `handleVerifyPartitionsInTransaction`, `handleEndTransaction`, `abortTimedOutTransactions`,
//! `onTransactionLoaded`) and `TransactionStateManager.scala` (loading a partition, appending
//! transaction records), core/src/main/scala/kafka/coordinator/transaction/, Kafka 4.0. Not
//! modelled: transactional id expiry (`transactional.id.expiration.ms`, 7 days) and producer
//! epoch exhaustion (a new producer id after epoch 32766).

use super::TxnState;
use super::messages::{AddPartitions, TxnProducer, TxnResponse};
use super::metadata::TxnMetadata;
use crate::kafka::log::{TxnMarker, TxnStateRecord};
use crate::kafka::protocol::ErrorCode;
use crate::kafka::record::{ProducerIdentity, Tp};
use crate::sim::{NodeId, SimDuration, SimTime};
use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

/// Who waits for an answer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Reply {
    /// The client (or leader) that asked.
    pub to: NodeId,
    /// Its request's correlation id.
    pub correlation: u32,
}

/// What a request or a timer needs the broker to do.
#[derive(Clone, Debug)]
pub enum Action {
    /// Append `record` to the transactional id's `__transaction_state` partition and call
    /// [`TransactionCoordinator::on_written`] once it is replicated (or failed).
    Write {
        /// The record.
        record: TxnStateRecord,
        /// Who is answered when it is written.
        reply: Option<Reply>,
    },
    /// Answer now.
    Respond {
        /// To whom.
        reply: Reply,
        /// The answer.
        body: TxnResponse,
    },
    /// Write `marker` to `partitions` (through their leaders) and call
    /// [`TransactionCoordinator::on_marker_written`] for each.
    Markers {
        /// The transactional id.
        transactional_id: Arc<str>,
        /// The marker.
        marker: TxnMarker,
        /// The partitions.
        partitions: Vec<Tp>,
    },
    /// A transactional id changed state (for the trace).
    Transition {
        /// The transactional id.
        transactional_id: Arc<str>,
        /// Its producer id and epoch after the change.
        identity: ProducerIdentity,
        /// The state before.
        from: TxnState,
        /// The state after.
        to: TxnState,
        /// Why, for people.
        why: &'static str,
    },
}

/// The broker settings the coordinator reads.
#[derive(Clone, Copy, Debug)]
pub struct Settings {
    /// `transaction.state.log.num.partitions`.
    pub partitions: u32,
    /// `transaction.max.timeout.ms`.
    pub max_timeout_ms: u64,
    /// `transaction.abort.timed.out.transaction.cleanup.interval.ms`.
    pub abort_interval: SimDuration,
    /// Transaction version 2 (KIP-890): the epoch is bumped at every commit and abort.
    pub v2: bool,
}

/// One transactional id and its coordinator-side progress.
#[derive(Clone, Debug)]
struct Entry {
    meta: TxnMetadata,
    /// A record is being written (`pendingState`): other requests get
    /// `CONCURRENT_TRANSACTIONS`.
    writing: bool,
    /// Partitions still without their marker.
    markers_pending: BTreeSet<Tp>,
    /// The `__transaction_state` partition's leader epoch when it was loaded.
    coordinator_epoch: u32,
}

/// One broker's transaction coordinator.
#[derive(Clone, Debug)]
pub struct TransactionCoordinator {
    settings: Settings,
    txns: BTreeMap<Arc<str>, Entry>,
    /// `__transaction_state` partitions loaded here, with their coordinator epoch.
    loaded: BTreeMap<u32, u32>,
    next_abort_check: SimTime,
}

fn error(reply: Reply, body: TxnResponse) -> Vec<Action> {
    vec![Action::Respond { reply, body }]
}

impl TransactionCoordinator {
    /// A coordinator with nothing loaded.
    pub fn new(settings: Settings) -> TransactionCoordinator {
        TransactionCoordinator {
            settings,
            txns: BTreeMap::new(),
            loaded: BTreeMap::new(),
            next_abort_check: SimTime::ZERO + settings.abort_interval,
        }
    }

    /// The settings.
    pub fn settings(&self) -> Settings {
        self.settings
    }

    /// The `__transaction_state` partition of a transactional id.
    pub fn partition_of(&self, transactional_id: &str) -> u32 {
        super::coordinator_partition(transactional_id, self.settings.partitions)
    }

    /// The coordinator epoch `partition` was loaded with, if it is loaded here.
    pub fn loaded_epoch(&self, partition: u32) -> Option<u32> {
        self.loaded.get(&partition).copied()
    }

    /// True if the transactional id's partition is loaded here.
    pub fn owns(&self, transactional_id: &str) -> bool {
        self.loaded.contains_key(&self.partition_of(transactional_id))
    }

    /// Forgets everything (the broker crashed).
    pub fn reset(&mut self) {
        self.txns.clear();
        self.loaded.clear();
    }

    /// This broker now leads `partition` at `coordinator_epoch`: the last record of each
    /// transactional id in its log is the id's state; transactions that were deciding get their
    /// markers written again (`onTransactionLoaded`).
    pub fn load<'a>(
        &mut self,
        partition: u32,
        coordinator_epoch: u32,
        records: impl Iterator<Item = &'a TxnStateRecord>,
    ) -> Vec<Action> {
        self.unload(partition);
        self.loaded.insert(partition, coordinator_epoch);
        let mut last: BTreeMap<Arc<str>, &TxnStateRecord> = BTreeMap::new();
        for r in records {
            last.insert(r.transactional_id.clone(), r);
        }
        let mut actions = Vec::new();
        for (id, r) in last {
            let meta = TxnMetadata::from_record(r);
            let markers_pending: BTreeSet<Tp> = if meta.state.is_preparing() {
                meta.partitions.clone()
            } else {
                BTreeSet::new()
            };
            let entry = Entry {
                meta,
                writing: false,
                markers_pending,
                coordinator_epoch,
            };
            if entry.meta.state.is_preparing() {
                actions.extend(self.markers_of(&entry));
            }
            self.txns.insert(id, entry);
        }
        actions
    }

    /// This broker no longer leads `partition`: its transactional ids go.
    pub fn unload(&mut self, partition: u32) {
        if self.loaded.remove(&partition).is_some() {
            let partitions = self.settings.partitions;
            self.txns
                .retain(|id, _| super::coordinator_partition(id, partitions) != partition);
        }
    }

    /// The markers of a deciding transaction, or (none left) the write that completes it.
    fn markers_of(&self, e: &Entry) -> Vec<Action> {
        if e.markers_pending.is_empty() {
            return vec![Action::Write {
                record: e.meta.prepare_complete(),
                reply: None,
            }];
        }
        vec![Action::Markers {
            transactional_id: e.meta.transactional_id.clone(),
            marker: TxnMarker {
                commit: e.meta.state == TxnState::PrepareCommit,
                producer_id: e.meta.identity.id,
                producer_epoch: e.meta.identity.epoch,
                coordinator_epoch: e.coordinator_epoch,
            },
            partitions: e.markers_pending.iter().copied().collect(),
        }]
    }

    /// `InitProducerId` with a transactional id (`handleInitProducerId`). `new_producer_id`
    /// hands out an id for a transactional id seen for the first time.
    pub fn init_producer_id(
        &mut self,
        now: SimTime,
        transactional_id: Arc<str>,
        timeout_ms: u64,
        reply: Reply,
        new_producer_id: impl FnOnce() -> Result<u64, ErrorCode>,
    ) -> Vec<Action> {
        let answer = |e: ErrorCode| error(reply, TxnResponse::InitProducerId(Err(e)));
        if timeout_ms > self.settings.max_timeout_ms {
            return answer(ErrorCode::InvalidTransactionTimeout);
        }
        let Some(&coordinator_epoch) = self.loaded.get(&self.partition_of(&transactional_id)) else {
            return answer(ErrorCode::NotCoordinator);
        };
        if !self.txns.contains_key(&transactional_id) {
            let producer_id = match new_producer_id() {
                Ok(id) => id,
                Err(e) => return answer(e),
            };
            let meta = TxnMetadata::new(transactional_id.clone(), producer_id, timeout_ms);
            let entry = Entry {
                meta,
                writing: false,
                markers_pending: BTreeSet::new(),
                coordinator_epoch,
            };
            self.txns.insert(transactional_id.clone(), entry);
        }
        let Some(e) = self.txns.get_mut(&transactional_id) else {
            return answer(ErrorCode::NotCoordinator);
        };
        if e.writing {
            return answer(ErrorCode::ConcurrentTransactions);
        }
        match e.meta.state {
            TxnState::PrepareCommit
            | TxnState::PrepareAbort
            | TxnState::PrepareEpochFence
            | TxnState::Dead => answer(ErrorCode::ConcurrentTransactions),
            TxnState::Ongoing => {
                // A new instance while the old one's transaction is open: fence the old epoch
                // and abort its transaction; the new instance retries (`CONCURRENT_TRANSACTIONS`).
                let mut actions = fence_and_abort(e, now, "a new instance called initTransactions()");
                actions.push(Action::Respond {
                    reply,
                    body: TxnResponse::InitProducerId(Err(ErrorCode::ConcurrentTransactions)),
                });
                actions
            }
            TxnState::Empty | TxnState::CompleteCommit | TxnState::CompleteAbort => {
                e.writing = true;
                vec![Action::Write {
                    record: e.meta.prepare_epoch_bump(timeout_ms),
                    reply: Some(reply),
                }]
            }
        }
    }

    /// `AddPartitionsToTxn` from a client, or from a partition leader adding (version 2) or
    /// verifying (version 1) a partition (`handleAddPartitionsToTransaction`,
    /// `handleVerifyPartitionsInTransaction`: a verification writes nothing and does not look at
    /// a write in progress; a partition not in the transaction is `TRANSACTION_ABORTABLE`, which
    /// reaches the client as `INVALID_TXN_STATE`).
    pub fn add_partitions(&mut self, now: SimTime, req: AddPartitions, reply: Reply) -> Vec<Action> {
        let answer = |r: Result<(), ErrorCode>| error(reply, TxnResponse::AddPartitions(r));
        if !self.owns(&req.producer.transactional_id) {
            return answer(Err(ErrorCode::NotCoordinator));
        }
        let Some(e) = self.txns.get_mut(&req.producer.transactional_id) else {
            return answer(Err(ErrorCode::InvalidProducerIdMapping));
        };
        if e.writing && !req.verify_only {
            return answer(Err(ErrorCode::ConcurrentTransactions));
        }
        if e.meta.identity.id != req.producer.identity.id {
            return answer(Err(ErrorCode::InvalidProducerIdMapping));
        }
        if req.producer.identity.epoch != e.meta.identity.epoch {
            return answer(Err(ErrorCode::ProducerFenced));
        }
        let all_in = req.partitions.iter().all(|tp| e.meta.partitions.contains(tp));
        match e.meta.state {
            TxnState::PrepareCommit
            | TxnState::PrepareAbort
            | TxnState::PrepareEpochFence
            | TxnState::Dead => answer(Err(ErrorCode::ConcurrentTransactions)),
            _ if req.verify_only => answer(if all_in && e.meta.state == TxnState::Ongoing {
                Ok(())
            } else {
                Err(ErrorCode::InvalidTxnState)
            }),
            TxnState::Ongoing if all_in => answer(Ok(())),
            TxnState::Empty | TxnState::Ongoing | TxnState::CompleteCommit | TxnState::CompleteAbort => {
                e.writing = true;
                vec![Action::Write {
                    record: e.meta.prepare_add(&req.partitions, now.as_ms()),
                    reply: Some(reply),
                }]
            }
        }
    }

    /// `EndTxn` (`endTransactionWithTV1` / `endTransaction`): commit or abort the ongoing
    /// transaction. A retry of an end that already happened succeeds; the other way round is
    /// `INVALID_TXN_STATE`. Under version 2 a retry carries the epoch before the bump its first
    /// try caused, and an abort with nothing sent (Empty) is allowed.
    pub fn end_txn(
        &mut self,
        now: SimTime,
        producer: TxnProducer,
        commit: bool,
        reply: Reply,
    ) -> Vec<Action> {
        let answer = |r: Result<ProducerIdentity, ErrorCode>| error(reply, TxnResponse::EndTxn(r));
        let v2 = self.settings.v2;
        if !self.owns(&producer.transactional_id) {
            return answer(Err(ErrorCode::NotCoordinator));
        }
        let Some(e) = self.txns.get_mut(&producer.transactional_id) else {
            return answer(Err(ErrorCode::InvalidProducerIdMapping));
        };
        // While the markers go out the coordinator holds the pending CompleteCommit or
        // CompleteAbort (`prepareComplete` sets it before `addTxnMarkersToSend`): a pending
        // transition answers `CONCURRENT_TRANSACTIONS` before any epoch check.
        if e.writing || e.meta.state.is_preparing() {
            return answer(Err(ErrorCode::ConcurrentTransactions));
        }
        if e.meta.identity.id != producer.identity.id {
            return answer(Err(ErrorCode::InvalidProducerIdMapping));
        }
        let state = e.meta.state;
        let current = e.meta.identity.epoch;
        let retry = v2 && producer.identity.epoch.wrapping_add(1) == current;
        let valid_epoch = match state {
            _ if !v2 => producer.identity.epoch == current,
            TxnState::PrepareCommit | TxnState::PrepareAbort => retry,
            TxnState::CompleteCommit | TxnState::CompleteAbort => retry || producer.identity.epoch == current,
            _ => producer.identity.epoch == current,
        };
        if !valid_epoch {
            return answer(Err(ErrorCode::ProducerFenced));
        }
        let same_end = matches!(
            (state, commit),
            (TxnState::CompleteCommit | TxnState::PrepareCommit, true)
                | (TxnState::CompleteAbort | TxnState::PrepareAbort, false)
        );
        let write = |e: &mut Entry, commit: bool| {
            e.writing = true;
            vec![Action::Write {
                record: e.meta.prepare_end(commit, v2, now.as_ms()),
                reply: Some(reply),
            }]
        };
        match state {
            TxnState::Ongoing => write(e, commit),
            TxnState::PrepareCommit | TxnState::PrepareAbort if same_end => {
                answer(Err(ErrorCode::ConcurrentTransactions))
            }
            TxnState::CompleteCommit | TxnState::CompleteAbort if same_end && (retry || !v2) => {
                answer(Ok(e.meta.identity))
            }
            // Version 2: an abort when nothing is open bumps the epoch all the same.
            TxnState::Empty | TxnState::CompleteCommit | TxnState::CompleteAbort
                if v2 && !commit && !retry =>
            {
                write(e, false)
            }
            _ => answer(Err(ErrorCode::InvalidTxnState)),
        }
    }

    /// A record of ours was replicated (`result` Ok) or could not be written: it takes effect,
    /// the waiting client is answered, and a decided transaction gets its markers.
    pub fn on_written(
        &mut self,
        record: &TxnStateRecord,
        reply: Option<Reply>,
        result: Result<(), ErrorCode>,
    ) -> Vec<Action> {
        let mut actions = Vec::new();
        let Some(e) = self.txns.get_mut(&record.transactional_id) else {
            if let Some(reply) = reply {
                actions.push(Action::Respond {
                    reply,
                    body: response_to(record, Err(ErrorCode::NotCoordinator)),
                });
            }
            return actions;
        };
        e.writing = false;
        if let Err(err) = result {
            // `TransactionStateManager.appendTransactionToLog`: append errors become
            // coordinator errors, and the client looks the coordinator up again.
            let err = match err {
                ErrorCode::NotLeaderOrFollower => ErrorCode::NotCoordinator,
                _ => ErrorCode::CoordinatorNotAvailable,
            };
            if let Some(reply) = reply {
                actions.push(Action::Respond {
                    reply,
                    body: response_to(record, Err(err)),
                });
            }
            return actions;
        }
        let from = e.meta.apply(record);
        actions.push(Action::Transition {
            transactional_id: record.transactional_id.clone(),
            identity: e.meta.identity,
            from,
            to: record.state,
            why: why(from, record.state),
        });
        if let Some(reply) = reply {
            actions.push(Action::Respond {
                reply,
                body: response_to(record, Ok(())),
            });
        }
        if record.state.is_preparing() {
            e.markers_pending = e.meta.partitions.clone();
            let e = e.clone();
            actions.extend(self.markers_of(&e));
        }
        actions
    }

    /// A partition leader wrote (or will never write) the marker of `producer_id`'s decided
    /// transaction on `tp`; the last one completes the transaction.
    pub fn on_marker_written(&mut self, transactional_id: &str, producer_id: u64, tp: Tp) -> Vec<Action> {
        let Some(e) = self.txns.get_mut(transactional_id) else {
            return Vec::new();
        };
        if e.meta.identity.id != producer_id || !e.markers_pending.remove(&tp) {
            return Vec::new();
        }
        if e.markers_pending.is_empty() && !e.writing && e.meta.state.is_preparing() {
            e.writing = true;
            return vec![Action::Write {
                record: e.meta.prepare_complete(),
                reply: None,
            }];
        }
        Vec::new()
    }

    /// When timed-out transactions are looked for next.
    pub fn next_deadline(&self) -> Option<SimTime> {
        (!self.loaded.is_empty()).then_some(self.next_abort_check)
    }

    /// Every `transaction.abort.timed.out.transaction.cleanup.interval.ms`: ongoing transactions
    /// older than their timeout are fenced and aborted (`abortTimedOutTransactions`).
    pub fn on_wake(&mut self, now: SimTime) -> Vec<Action> {
        if now < self.next_abort_check {
            return Vec::new();
        }
        self.next_abort_check = now + self.settings.abort_interval;
        let mut actions = Vec::new();
        for e in self.txns.values_mut() {
            let expired = e.meta.state == TxnState::Ongoing
                && !e.writing
                && e.meta
                    .start_ms
                    .is_some_and(|start| now.as_ms() > start.saturating_add(e.meta.timeout_ms));
            if expired {
                actions.extend(fence_and_abort(e, now, "transaction.timeout.ms expired"));
            }
        }
        actions
    }

    /// The transactional ids loaded here, for `kafkasim describe`.
    pub fn transactions(&self) -> impl Iterator<Item = &TxnMetadata> {
        self.txns.values().map(|e| &e.meta)
    }
}

/// `prepareFenceProducerEpoch` then an abort at the fenced epoch: the old instance's epoch is
/// bumped so that whatever it still sends is refused, and its transaction is aborted with markers
/// at the fenced epoch (under version 1 the abort keeps the fenced epoch; under version 2 the
/// fence is not applied and the abort's own bump gives the same epoch).
fn fence_and_abort(e: &mut Entry, now: SimTime, why: &'static str) -> Vec<Action> {
    let from = e.meta.state;
    e.meta.state = TxnState::PrepareEpochFence;
    e.writing = true;
    let record = e.meta.prepare_end(false, true, now.as_ms());
    let fenced = ProducerIdentity {
        id: record.producer_id,
        epoch: record.producer_epoch,
    };
    vec![
        Action::Transition {
            transactional_id: e.meta.transactional_id.clone(),
            identity: fenced,
            from,
            to: TxnState::PrepareEpochFence,
            why,
        },
        Action::Write { record, reply: None },
    ]
}

/// The answer a client waiting for `record` gets.
fn response_to(record: &TxnStateRecord, result: Result<(), ErrorCode>) -> TxnResponse {
    let identity = ProducerIdentity {
        id: record.producer_id,
        epoch: record.producer_epoch,
    };
    match record.state {
        TxnState::Empty => TxnResponse::InitProducerId(result.map(|()| identity)),
        TxnState::Ongoing => TxnResponse::AddPartitions(result),
        _ => TxnResponse::EndTxn(result.map(|()| identity)),
    }
}

/// Why a transition happened, for the trace.
fn why(from: TxnState, to: TxnState) -> &'static str {
    match (from, to) {
        (_, TxnState::Empty) => "InitProducerId",
        (_, TxnState::Ongoing) => "partitions added",
        (TxnState::PrepareEpochFence, TxnState::PrepareAbort) => "aborting the fenced transaction",
        (_, TxnState::PrepareCommit) => "EndTxn(commit)",
        (_, TxnState::PrepareAbort) => "EndTxn(abort)",
        (_, TxnState::CompleteCommit | TxnState::CompleteAbort) => "every marker written",
        _ => "",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kafka::txn::messages::TxnProducer;

    const ID: &str = "orders-app";

    fn coordinator(v2: bool) -> TransactionCoordinator {
        let mut c = TransactionCoordinator::new(Settings {
            partitions: 50,
            max_timeout_ms: 900_000,
            abort_interval: SimDuration::from_ms(10_000),
            v2,
        });
        let partition = c.partition_of(ID);
        c.load(partition, 0, std::iter::empty());
        c
    }

    fn reply(correlation: u32) -> Reply {
        Reply {
            to: NodeId(9),
            correlation,
        }
    }

    /// Carries out writes at once (as if replicated) until nothing is left to write; returns
    /// the answers and the markers asked for, and acknowledges every marker.
    fn settle(c: &mut TransactionCoordinator, mut actions: Vec<Action>) -> Vec<TxnResponse> {
        let mut answers = Vec::new();
        while let Some(a) = actions.pop() {
            match a {
                Action::Write { record, reply } => actions.extend(c.on_written(&record, reply, Ok(()))),
                Action::Respond { body, .. } => answers.push(body),
                Action::Markers {
                    transactional_id,
                    marker,
                    partitions,
                } => {
                    for tp in partitions {
                        actions.extend(c.on_marker_written(&transactional_id, marker.producer_id, tp));
                    }
                }
                Action::Transition { .. } => {}
            }
        }
        answers
    }

    fn init(c: &mut TransactionCoordinator, correlation: u32) -> Result<ProducerIdentity, ErrorCode> {
        let actions = c.init_producer_id(SimTime::ZERO, Arc::from(ID), 60_000, reply(correlation), || Ok(7));
        let answers = settle(c, actions);
        match answers.last() {
            Some(TxnResponse::InitProducerId(r)) => *r,
            other => panic!("no InitProducerId answer: {other:?}"),
        }
    }

    fn producer(identity: ProducerIdentity) -> TxnProducer {
        TxnProducer {
            transactional_id: Arc::from(ID),
            identity,
        }
    }

    fn add(c: &mut TransactionCoordinator, identity: ProducerIdentity) -> Result<(), ErrorCode> {
        let req = AddPartitions {
            producer: producer(identity),
            partitions: vec![Tp {
                topic: 0,
                partition: 0,
            }],
            verify_only: false,
        };
        let actions = c.add_partitions(SimTime::ZERO, req, reply(2));
        match settle(c, actions).last() {
            Some(TxnResponse::AddPartitions(r)) => *r,
            other => panic!("no AddPartitionsToTxn answer: {other:?}"),
        }
    }

    fn end(
        c: &mut TransactionCoordinator,
        identity: ProducerIdentity,
        commit: bool,
    ) -> Result<ProducerIdentity, ErrorCode> {
        let actions = c.end_txn(SimTime::ZERO, producer(identity), commit, reply(3));
        match settle(c, actions).last() {
            Some(TxnResponse::EndTxn(r)) => *r,
            other => panic!("no EndTxn answer: {other:?}"),
        }
    }

    /// KIP-98 fencing: a second `InitProducerId` for the same transactional id bumps the epoch;
    /// the first instance's requests are then `PRODUCER_FENCED`.
    #[test]
    fn a_newer_instance_fences_the_older_one() {
        let mut c = coordinator(false);
        let first = init(&mut c, 1).expect("first instance");
        assert_eq!(first, ProducerIdentity { id: 7, epoch: 0 });
        let second = init(&mut c, 1).expect("second instance");
        assert_eq!(second, ProducerIdentity { id: 7, epoch: 1 });
        assert_eq!(add(&mut c, first), Err(ErrorCode::ProducerFenced));
        assert_eq!(end(&mut c, first, true), Err(ErrorCode::ProducerFenced));
        assert_eq!(add(&mut c, second), Ok(()));
    }

    /// An `InitProducerId` while the old instance's transaction is open aborts it with the epoch
    /// fenced, answers `CONCURRENT_TRANSACTIONS`, and the retry gets old epoch + 2.
    #[test]
    fn initialising_over_an_open_transaction_aborts_it_first() {
        let mut c = coordinator(true);
        let first = init(&mut c, 1).expect("first instance");
        add(&mut c, first).expect("added");
        assert_eq!(init(&mut c, 1), Err(ErrorCode::ConcurrentTransactions));
        let meta = c.transactions().next().expect("loaded");
        assert_eq!(
            meta.state,
            TxnState::CompleteAbort,
            "aborted (markers acknowledged)"
        );
        assert_eq!(
            meta.identity.epoch, 1,
            "the abort is written with the fenced epoch"
        );
        let second = init(&mut c, 1).expect("retry");
        assert_eq!(second.epoch, 2);
    }

    /// Version 2 bumps the epoch at every end and answers a retried `EndTxn` (one epoch behind)
    /// with success; version 1 keeps the epoch.
    #[test]
    fn version_2_bumps_the_epoch_at_every_end() {
        let mut c = coordinator(true);
        let id = init(&mut c, 1).expect("init");
        add(&mut c, id).expect("added");
        let next = end(&mut c, id, true).expect("committed");
        assert_eq!(next.epoch, id.epoch + 1);
        assert_eq!(end(&mut c, id, true), Ok(next), "a retry of the commit");
        assert_eq!(end(&mut c, id, false), Err(ErrorCode::InvalidTxnState));
        let mut c = coordinator(false);
        let id = init(&mut c, 1).expect("init");
        add(&mut c, id).expect("added");
        assert_eq!(end(&mut c, id, true).map(|i| i.epoch), Ok(id.epoch));
        assert_eq!(
            end(&mut c, id, false),
            Err(ErrorCode::InvalidTxnState),
            "version 1: nothing open"
        );
    }

    /// `abortTimedOutTransactions`: an ongoing transaction older than its timeout is aborted at
    /// the next check, its producer fenced. Its late `EndTxn(commit)` is `PRODUCER_FENCED` under
    /// version 1; under version 2 it looks like a retry one epoch behind, which Kafka's table
    /// answers `INVALID_TXN_STATE` for a commit after an abort (both fatal to the client).
    #[test]
    fn the_timeout_aborts_an_open_transaction_and_fences_its_producer() {
        for (v2, late_commit) in [
            (false, ErrorCode::ProducerFenced),
            (true, ErrorCode::InvalidTxnState),
        ] {
            let mut c = coordinator(v2);
            let id = init(&mut c, 1).expect("init");
            add(&mut c, id).expect("added");
            assert!(
                c.on_wake(SimTime::from_us(50_000_000)).is_empty(),
                "not expired yet"
            );
            let actions = c.on_wake(SimTime::from_us(70_000_000));
            assert!(!actions.is_empty());
            settle(&mut c, actions);
            let meta = c.transactions().next().expect("loaded");
            assert_eq!((meta.state, meta.identity.epoch), (TxnState::CompleteAbort, 1));
            assert_eq!(end(&mut c, id, true), Err(late_commit), "version 2: {v2}");
            assert_eq!(add(&mut c, id), Err(ErrorCode::ProducerFenced));
        }
    }

    /// A new coordinator loads the log: a transaction that was deciding gets its markers again
    /// and completes.
    #[test]
    fn a_new_coordinator_finishes_a_prepared_commit() {
        let mut c = coordinator(true);
        let id = init(&mut c, 1).expect("init");
        add(&mut c, id).expect("added");
        let written = c
            .transactions()
            .next()
            .expect("loaded")
            .prepare_end(true, true, 0);
        let mut fresh = coordinator(true);
        let partition = fresh.partition_of(ID);
        let actions = fresh.load(partition, 1, [written].iter());
        assert!(
            actions.iter().any(|a| matches!(a, Action::Markers { marker, .. } if marker.commit && marker.coordinator_epoch == 1)),
            "markers sent again with the new coordinator epoch"
        );
        settle(&mut fresh, actions);
        let meta = fresh.transactions().next().expect("loaded");
        assert_eq!(meta.state, TxnState::CompleteCommit);
    }
}

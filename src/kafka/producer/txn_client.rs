//! The transactional producer's part of the sender and the application: sending the
//! transaction requests, taking their answers, aborting queued batches, and the application's
//! `beginTransaction()` / `commitTransaction()` / `abortTransaction()` around its sends.

use super::Producer;
use super::transactions::{ClientState, Next, Outcome};
use crate::kafka::group::messages::GroupResponse;
use crate::kafka::protocol::{BrokerId, ErrorCode, Message, RequestBody, ResponseBody};
use crate::kafka::txn::messages::TxnResponse;
use crate::sim::{Out, SimTime};
use crate::trace::{Event, TxnStep};

/// The application's transactions: which one is open and where it started.
#[derive(Clone, Copy, Debug, Default)]
pub(super) struct AppTxns {
    /// Transactions begun so far.
    pub begun: u32,
    /// Sequence number of the open transaction's first record.
    pub first: u32,
    /// Records the open transaction sends (the workload's `records`, fewer for the last).
    pub size: u32,
}

impl Producer {
    pub(super) fn txn_step(&self, step: TxnStep, out: &mut Out<Message, Event>) {
        out.emit(Event::Txn {
            producer: self.index,
            step,
        });
    }

    /// The start of a sender pass for a transactional producer
    /// (`Sender.maybeSendAndPollTransactionalRequest`): queued batches are aborted while the
    /// transaction aborts; the next transaction request goes out. True while one is in flight:
    /// produce requests wait.
    pub(super) fn begin_transactional_pass(&mut self, now: SimTime, out: &mut Out<Message, Event>) -> bool {
        let Some(t) = self.txn.as_mut() else {
            return false;
        };
        if t.aborts_undrained() {
            let error = if t.state() == ClientState::FatalError {
                ErrorCode::ProducerFenced
            } else {
                ErrorCode::TransactionAborted
            };
            for batch in self.acc.abort_undrained() {
                if let Some(i) = self.idempotence.as_mut() {
                    i.forget(batch.id);
                }
                let mut batch = batch;
                out.emit(Event::BatchFailed {
                    tp: batch.tp,
                    batch_id: batch.id,
                    error,
                    records: batch.wire_records(),
                });
            }
        }
        let incomplete = self.acc.has_incomplete();
        let Some(t) = self.txn.as_mut() else {
            return false;
        };
        if let Some(commit) = t.end_locally(incomplete) {
            self.on_txn_ended(commit, None, now, out);
        }
        let identity = self.idempotence.as_ref().and_then(|i| i.identity());
        let Some(t) = self.txn.as_mut() else {
            return false;
        };
        if let Some(at) = t.next_wake(now) {
            out.wake_at(at);
        }
        let (broker, request) = match t.next(now, identity, incomplete) {
            Next::Idle => return self.txn_in_flight(),
            Next::FindCoordinator(request) => match self.any_broker(now, out) {
                Some(b) => (b, RequestBody::Txn(request)),
                None => return false,
            },
            Next::FindGroupCoordinator(request) => match self.any_broker(now, out) {
                Some(b) => (b, RequestBody::Group(request)),
                None => return false,
            },
            Next::ToCoordinator(b, request) => (b, RequestBody::Txn(request)),
            Next::ToGroupCoordinator(b, request) => (b, RequestBody::Group(request)),
        };
        if !self.net.is_ready(broker, usize::MAX) {
            self.net.ensure_connecting(broker, now, out);
            return false;
        }
        let correlation = self.net.send(broker, request.clone(), true, now, out);
        if let Some(t) = self.txn.as_mut() {
            match &request {
                RequestBody::Txn(r) => t.sent(broker, correlation, r),
                RequestBody::Group(r) => t.sent_group(broker, correlation, r),
                _ => {}
            }
        }
        true
    }

    /// The least loaded broker, for a `FindCoordinator`.
    fn any_broker(&mut self, now: SimTime, out: &mut Out<Message, Event>) -> Option<BrokerId> {
        let candidates = self.metadata.candidates();
        self.net.least_loaded(&candidates, now, out)
    }

    fn txn_in_flight(&self) -> bool {
        self.txn
            .as_ref()
            .is_some_and(|t| t.state() == ClientState::Initializing || t.has_in_flight())
    }

    /// An answer to a transaction request, or to a group request of `sendOffsetsToTransaction`.
    pub(super) fn on_txn_answer(
        &mut self,
        broker: BrokerId,
        correlation: u32,
        body: ResponseBody,
        now: SimTime,
        out: &mut Out<Message, Event>,
    ) {
        let Some(t) = self.txn.as_mut().filter(|t| t.is_ours(broker, correlation)) else {
            return;
        };
        let outcome = match body {
            ResponseBody::Txn(TxnResponse::FindCoordinator(r)) => t.on_coordinator(now, r),
            ResponseBody::Txn(TxnResponse::InitProducerId(r)) => t.on_init(now, r),
            ResponseBody::Txn(TxnResponse::AddPartitions(r)) => t.on_added(now, r),
            ResponseBody::Txn(TxnResponse::EndTxn(r)) => t.on_ended(now, r),
            ResponseBody::Group(GroupResponse::FindCoordinator(r)) => {
                t.on_group_coordinator(now, r);
                Outcome::Nothing
            }
            ResponseBody::Group(GroupResponse::TxnOffsetCommit(r)) => t.on_txn_offsets(now, r),
            _ => Outcome::Nothing,
        };
        self.on_txn_outcome(outcome, now, out);
    }

    fn on_txn_outcome(&mut self, outcome: Outcome, now: SimTime, out: &mut Out<Message, Event>) {
        match outcome {
            Outcome::Nothing => {}
            Outcome::Coordinator(b) => self.txn_step(TxnStep::Coordinator(b), out),
            Outcome::Initialized(identity) => {
                if let Some(i) = self.idempotence.as_mut() {
                    i.on_init_response(Ok(identity), now);
                }
                self.txn_step(TxnStep::Initialized(identity), out);
            }
            Outcome::Added(tps) => self.txn_step(TxnStep::PartitionsAdded(tps), out),
            Outcome::Ended(commit, identity) => self.on_txn_ended(commit, Some(identity), now, out),
            Outcome::Failed { error, fatal } => {
                self.txn_step(TxnStep::Error { error, fatal }, out);
                if fatal {
                    self.poll_processor_fenced();
                }
            }
        }
    }

    /// A fenced processor's producer tells its consumer.
    fn poll_processor_fenced(&mut self) {
        if self.processor.is_some() {
            self.on_processor_fenced();
        }
    }

    /// The transaction ended; under version 2 the coordinator handed out the next epoch.
    fn on_txn_ended(
        &mut self,
        commit: bool,
        identity: Option<crate::kafka::record::ProducerIdentity>,
        now: SimTime,
        out: &mut Out<Message, Event>,
    ) {
        let v2 = self.txn.as_ref().is_some_and(|t| t.is_v2());
        if let (true, Some(identity), Some(i)) = (v2, identity, self.idempotence.as_mut()) {
            i.on_init_response(Ok(identity), now);
        }
        let next = self
            .idempotence
            .as_ref()
            .and_then(|i| i.identity())
            .unwrap_or_default();
        let records = self.next_seq - self.app_txns.first;
        self.txn_step(
            TxnStep::Ended {
                txn: self.app_txns.begun.saturating_sub(1),
                commit,
                records,
                next,
            },
            out,
        );
        if self.processor.is_some() {
            self.on_processor_txn_end(commit);
        }
    }

    /// A batch failed for good inside a transaction.
    pub(super) fn on_txn_batch_failed(
        &mut self,
        error: ErrorCode,
        now: SimTime,
        out: &mut Out<Message, Event>,
    ) {
        self.on_output_failed();
        let Some(t) = self.txn.as_mut() else {
            return;
        };
        let outcome = t.on_batch_failed(error);
        self.on_txn_outcome(outcome, now, out);
    }

    /// The application's transaction calls before its next `send()`; returns how many records
    /// it may send now (`None`: not transactional, the workload's pace alone).
    pub(super) fn run_transactions(&mut self, out: &mut Out<Message, Event>) -> Option<u64> {
        let tx = self.workload.transactions?;
        let t = self.txn.as_mut()?;
        let total = self.workload.records;
        match t.state() {
            ClientState::Uninitialized => {
                t.init();
                self.sender_kick = true;
                Some(0)
            }
            ClientState::Ready if u64::from(self.next_seq) < total => {
                t.begin();
                let left = total - u64::from(self.next_seq);
                self.app_txns.begun += 1;
                self.app_txns.first = self.next_seq;
                self.app_txns.size = u32::try_from(left.min(u64::from(tx.records))).unwrap_or(tx.records);
                let (txn, first) = (self.app_txns.begun - 1, self.next_seq);
                self.txn_step(TxnStep::Begin { txn, first }, out);
                Some(u64::from(self.next_seq) + u64::from(self.app_txns.size))
            }
            ClientState::InTransaction => {
                let end = u64::from(self.app_txns.first) + u64::from(self.app_txns.size);
                if u64::from(self.next_seq) < end {
                    return Some(end);
                }
                // Every `abort_every`-th transaction aborts; the last, shorter one commits.
                let k = self.app_txns.begun;
                let last_short = self.app_txns.size < tx.records;
                let commit = last_short || tx.abort_every == 0 || !k.is_multiple_of(tx.abort_every);
                t.end(commit);
                self.sender_kick = true;
                let txn = k - 1;
                self.txn_step(TxnStep::Ending { txn, commit }, out);
                Some(0)
            }
            ClientState::AbortableError => {
                t.end(false);
                self.sender_kick = true;
                let txn = self.app_txns.begun.saturating_sub(1);
                self.txn_step(TxnStep::Ending { txn, commit: false }, out);
                Some(0)
            }
            _ => Some(0),
        }
    }
}

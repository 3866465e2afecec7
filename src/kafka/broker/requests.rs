//! Client requests: one at a time per connection, and the purgatories where an `acks=all`
//! produce waits for the high watermark and a fetch waits for data (`DelayedProduce`,
//! `DelayedFetch` in ReplicaManager).

use super::{Broker, O};
use crate::kafka::group::messages::GroupResponse;
use crate::kafka::group::txn_offsets::PendingCommit;
use crate::kafka::log::{CommitRecord, TxnStateRecord};
use crate::kafka::protocol::{
    ErrorCode, FetchRequest, Message, OffsetSpec, ProducePartitionResponse, ReplicaFetchRequest, RequestBody,
    ResponseBody,
};
use crate::kafka::record::Tp;
use crate::kafka::txn::coordinator::Reply;
use crate::kafka::txn::messages::TxnResponse;
use crate::sim::{NodeId, SimTime};
use crate::trace::Event;
use std::collections::VecDeque;

/// A connection's request queue: while a request is in progress the channel is muted.
#[derive(Default)]
pub(super) struct Conn {
    busy: bool,
    queue: VecDeque<(u32, RequestBody)>,
}

/// An `acks=all` produce waiting for the high watermark.
pub(super) struct DelayedProduce {
    pub client: NodeId,
    pub correlation: u32,
    pub deadline: SimTime,
    pub results: Vec<ProducePartitionResponse>,
    /// (index into `results`, partition, offset the HW must reach).
    pub waiting: Vec<(usize, Tp, u64)>,
    /// What the write is, and so what its completion does.
    pub then: Then,
}

/// What a delayed write was, and so what happens when it completes.
pub(super) enum Then {
    /// A client's produce: answer it.
    Produce,
    /// An offset commit: the group coordinator stores the offsets, then answers.
    OffsetCommit(CommitRecord),
    /// A transaction coordinator's record: the coordinator takes the new state.
    TxnState {
        /// The record.
        record: TxnStateRecord,
        /// Who waits for it.
        reply: Option<Reply>,
    },
    /// Transaction markers: answer the coordinator's `WriteTxnMarkers`.
    Markers,
    /// A `TxnOffsetCommit`: its offsets are pending until the transaction's marker.
    TxnOffsetCommit {
        /// The transactional producer.
        producer_id: u64,
        /// The offsets.
        commit: PendingCommit,
    },
}

/// What a parked fetch asked for.
pub(super) enum FetchKind {
    Consumer(FetchRequest),
    Replica(ReplicaFetchRequest),
}

/// A fetch waiting for data or its deadline.
pub(super) struct ParkedFetch {
    pub client: NodeId,
    pub correlation: u32,
    pub deadline: SimTime,
    pub kind: FetchKind,
}

impl ParkedFetch {
    fn touches(&self, tp: Tp) -> bool {
        match &self.kind {
            FetchKind::Consumer(r) => r.partitions.iter().any(|p| p.tp == tp),
            FetchKind::Replica(r) => r.partitions.iter().any(|p| p.tp == tp),
        }
    }
}

pub(super) fn respond(out: &mut O, to: NodeId, correlation: u32, body: ResponseBody) {
    out.send(to, Message::Response { correlation, body });
}

impl Broker {
    pub(super) fn on_request(
        &mut self,
        now: SimTime,
        from: NodeId,
        correlation: u32,
        body: RequestBody,
        out: &mut O,
    ) {
        let body = match body {
            RequestBody::Group(req) => return self.on_group_request(now, from, correlation, req, out),
            // Brokers talk to each other's coordinators and leaders over connections of their
            // own (`TransactionMarkerChannelManager`, `AddPartitionsToTxnManager`).
            RequestBody::Txn(req) if self.addr.broker_of(from).is_some() => {
                self.on_txn_request(now, from, correlation, req, out);
                return;
            }
            other => other,
        };
        let conn = self.conns.entry(from).or_default();
        if conn.busy {
            conn.queue.push_back((correlation, body));
            return;
        }
        self.process(now, from, correlation, body, out);
    }

    /// Handles one request; if it waits in a purgatory, its connection stays busy.
    fn process(&mut self, now: SimTime, from: NodeId, correlation: u32, body: RequestBody, out: &mut O) {
        let parked = match body {
            RequestBody::Produce(req) => self.produce(now, from, correlation, req, out),
            RequestBody::Fetch(req) => self.consumer_fetch(now, from, correlation, req, out),
            RequestBody::ReplicaFetch(req) => self.replica_fetch(now, from, correlation, req, out),
            RequestBody::Metadata => {
                let md = self.metadata.clone().unwrap_or_default();
                respond(out, from, correlation, ResponseBody::Metadata(md));
                false
            }
            RequestBody::InitProducerId => {
                let handout = self.producer_ids.generate();
                if handout.request_block {
                    out.send(
                        self.addr.controller(),
                        Message::AllocateProducerIds { broker: self.id },
                    );
                }
                respond(
                    out,
                    from,
                    correlation,
                    ResponseBody::InitProducerId(handout.result),
                );
                false
            }
            RequestBody::Group(req) => {
                self.on_group_request(now, from, correlation, req, out);
                false
            }
            RequestBody::Txn(req) => self.on_txn_request(now, from, correlation, req, out),
            RequestBody::ListOffsets(list) => {
                let answers = list
                    .into_iter()
                    .map(|(tp, spec)| {
                        let r = self.leader_log(tp).map(|log| match spec {
                            OffsetSpec::Earliest => Some(log.log_start_offset()),
                            OffsetSpec::Latest => Some(log.high_watermark()),
                            OffsetSpec::LatestStable => Some(log.last_stable_offset()),
                            // `Partition.fetchOffsetForTimestamp`; `ReplicaManager.fetchOffset`
                            // answers "none" for an offset at or past the last fetchable one.
                            OffsetSpec::Timestamp { ms, read_committed } => {
                                let fetchable = if read_committed {
                                    log.last_stable_offset()
                                } else {
                                    log.high_watermark()
                                };
                                log.offset_for_timestamp(ms).filter(|o| *o < fetchable)
                            }
                        });
                        (tp, r)
                    })
                    .collect();
                respond(out, from, correlation, ResponseBody::ListOffsets(answers));
                false
            }
        };
        if parked {
            self.conns.entry(from).or_default().busy = true;
        }
    }

    /// A parked request of `client` was answered: its connection reads the next one.
    pub(super) fn unmute(&mut self, now: SimTime, client: NodeId, out: &mut O) {
        let Some(conn) = self.conns.get_mut(&client) else {
            return;
        };
        if !conn.busy {
            // Answered while still being processed (it never waited).
            return;
        }
        conn.busy = false;
        while let Some((correlation, body)) = self.conns.get_mut(&client).and_then(|c| c.queue.pop_front()) {
            self.process(now, client, correlation, body, out);
            if self.conns.get(&client).is_some_and(|c| c.busy) {
                break;
            }
        }
    }

    /// Completes delayed produces whose partitions' HW reached their offsets, or whose
    /// partitions this broker no longer leads.
    pub(super) fn complete_produces(&mut self, now: SimTime, tp: Tp, out: &mut O) {
        // (HW, ISR still at min ISR) when this broker leads `tp`.
        let status = self.replicas.get(&tp).and_then(|r| {
            let l = r.leading()?;
            let min = self.effective_min_isr(tp, l.replicas.len());
            Some((r.log.high_watermark(), l.maximal_isr().len() >= min as usize))
        });
        let mut done = Vec::new();
        let mut i = 0;
        while i < self.produces.len() {
            let p = &mut self.produces[i];
            let results = &mut p.results;
            p.waiting.retain(|&(index, wtp, required)| {
                if wtp != tp {
                    return true;
                }
                match status {
                    Some((hw, _)) if hw < required => true,
                    // DelayedProduce: committed, but the ISR may have shrunk below min ISR.
                    Some((_, enough)) => {
                        if !enough {
                            results[index].result = Err(ErrorCode::NotEnoughReplicasAfterAppend);
                        }
                        false
                    }
                    None => {
                        results[index].result = Err(ErrorCode::NotLeaderOrFollower);
                        false
                    }
                }
            });
            if p.waiting.is_empty() {
                done.push(self.produces.swap_remove(i));
            } else {
                i += 1;
            }
        }
        for p in done {
            self.answer_delayed(now, p, out);
        }
    }

    /// Answers a completed or expired produce, or an offset commit: the coordinator stores the
    /// offsets only once their record is replicated, and maps a failed append to a group error
    /// as Kafka's coordinator does (`GroupMetadataManager.storeOffsets`).
    pub(super) fn answer_delayed(&mut self, now: SimTime, p: DelayedProduce, out: &mut O) {
        let commit = match p.then {
            Then::Produce => {
                respond(out, p.client, p.correlation, ResponseBody::Produce(p.results));
                self.unmute(now, p.client, out);
                return;
            }
            Then::TxnState { record, reply } => {
                let result = p
                    .results
                    .first()
                    .map_or(Err(ErrorCode::NotLeaderOrFollower), |r| r.result);
                self.on_txn_record_written(now, record, reply, result, out);
                return;
            }
            Then::Markers => {
                let results = p.results.iter().map(|r| (r.tp, r.result.map(|_| ()))).collect();
                let body = ResponseBody::Txn(TxnResponse::WriteMarkers(results));
                if self.addr.broker_of(p.client) == Some(self.id) {
                    self.on_txn_response(now, p.client, p.correlation, body, out);
                } else {
                    respond(out, p.client, p.correlation, body);
                }
                return;
            }
            Then::TxnOffsetCommit { producer_id, commit } => {
                let result = match p.results.first().map(|r| r.result) {
                    Some(Ok(_)) => {
                        self.txn_offsets.add(producer_id, commit);
                        Ok(())
                    }
                    Some(Err(ErrorCode::NotLeaderOrFollower)) | None => Err(ErrorCode::NotCoordinator),
                    Some(Err(_)) => Err(ErrorCode::CoordinatorNotAvailable),
                };
                let body = ResponseBody::Group(GroupResponse::TxnOffsetCommit(result));
                respond(out, p.client, p.correlation, body);
                return;
            }
            Then::OffsetCommit(commit) => commit,
        };
        let result = match p.results.first().map(|r| r.result) {
            Some(Ok(_)) => {
                self.groups
                    .load_offsets(commit.group.clone(), commit.offsets.iter().copied(), now);
                out.emit(Event::OffsetsCommitted {
                    group: commit.group,
                    member: commit.member,
                    offsets: commit.offsets,
                });
                Ok(())
            }
            Some(Err(
                ErrorCode::NotEnoughReplicas
                | ErrorCode::NotEnoughReplicasAfterAppend
                | ErrorCode::UnknownTopicOrPartition,
            )) => Err(ErrorCode::CoordinatorNotAvailable),
            Some(Err(ErrorCode::NotLeaderOrFollower)) | None => Err(ErrorCode::NotCoordinator),
            Some(Err(e)) => Err(e),
        };
        // A commit this broker wrote for itself (an admin's offset reset) has no one to answer.
        if p.client == self.addr.broker(self.id) {
            return;
        }
        respond(
            out,
            p.client,
            p.correlation,
            ResponseBody::Group(GroupResponse::OffsetCommit(result)),
        );
    }

    /// Answers parked fetches that touch `tp` if they can be answered now.
    pub(super) fn complete_fetches(&mut self, now: SimTime, tp: Tp, out: &mut O) {
        let mut i = 0;
        while i < self.fetches.len() {
            if self.fetches[i].touches(tp) && self.try_answer(now, i, false, out) {
                continue;
            }
            i += 1;
        }
    }

    /// Answers parked fetch `i` if it has enough data (or `force`); returns true if it did.
    pub(super) fn try_answer(&mut self, now: SimTime, i: usize, force: bool, out: &mut O) -> bool {
        // One read: it decides readiness and, when ready, is the answer.
        let body = match &self.fetches[i].kind {
            FetchKind::Consumer(req) => {
                let (responses, bytes, errors) = self.read_consumer_fetch(req);
                (force || errors || bytes >= req.min_bytes).then_some(ResponseBody::Fetch(responses))
            }
            FetchKind::Replica(req) => {
                let (responses, bytes, urgent) = self.read_replica_fetch(req);
                (force || urgent || bytes >= req.min_bytes.max(1))
                    .then_some(ResponseBody::ReplicaFetch(responses))
            }
        };
        let Some(body) = body else {
            return false;
        };
        let f = self.fetches.swap_remove(i);
        respond(out, f.client, f.correlation, body);
        self.unmute(now, f.client, out);
        true
    }

    /// Purgatory deadlines: produces time out, fetches answer with what there is.
    pub(super) fn expire_delayed(&mut self, now: SimTime, out: &mut O) {
        if self.produces.iter().any(|p| p.deadline <= now) {
            let (expired, waiting): (Vec<_>, Vec<_>) =
                self.produces.drain(..).partition(|p| p.deadline <= now);
            self.produces = waiting;
            for mut p in expired {
                for (index, _, _) in &p.waiting {
                    p.results[*index].result = Err(ErrorCode::RequestTimedOut);
                }
                self.answer_delayed(now, p, out);
            }
        }
        while let Some(i) = self.fetches.iter().position(|f| f.deadline <= now) {
            self.try_answer(now, i, true, out);
        }
    }
}

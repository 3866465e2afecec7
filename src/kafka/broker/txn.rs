//! The broker's part in transactions: hosting the transaction coordinator of the
//! `__transaction_state` partitions it leads (routing requests to it, writing its records, loading
//! and dropping transactional ids as leadership moves), sending its markers to partition leaders
//! (`TransactionMarkerChannelManager`), and, as a partition leader, writing markers
//! (`handleWriteTxnMarkersRequest`) and checking with the coordinator that a transactional batch
//! belongs to an ongoing transaction before appending it (`AddPartitionsToTxnManager`, KIP-890).
//!
//! Followed: core/src/main/scala/kafka/coordinator/transaction/ and kafka/server/ (`KafkaApis`,
//! `ReplicaManager`, `AddPartitionsToTxnManager`), Kafka 4.0.

use super::requests::{DelayedProduce, Then, respond};
use super::storage::trace_roll;
use super::{Broker, O};
use crate::kafka::log::{Control, TxnMarker, TxnStateRecord};
use crate::kafka::protocol::{
    BrokerId, ErrorCode, Message, ProducePartitionResponse, ProduceRequest, RequestBody, ResponseBody,
};
use crate::kafka::record::Tp;
use crate::kafka::txn::coordinator::{Action, Reply};
use crate::kafka::txn::messages::{AddPartitions, MarkerEntry, TxnProducer, TxnRequest, TxnResponse};
use crate::sim::{NodeId, SimDuration, SimTime};
use crate::trace::Event;
use std::collections::BTreeMap;
use std::sync::Arc;

/// How long a marker write or a verification may go unanswered before it is sent again
/// (`request.timeout.ms` of the inter-broker clients, 30 s).
const INTER_BROKER_TIMEOUT: SimDuration = SimDuration::from_ms(30_000);
/// Wait before a marker that failed is sent again.
const MARKER_RETRY: SimDuration = SimDuration::from_ms(100);

/// One partition's marker still to be written.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) struct PendingMarker {
    transactional_id: Arc<str>,
    marker: TxnMarker,
    tp: Tp,
}

/// The coordinator's marker channel: markers waiting for a leader, and requests in flight.
#[derive(Default)]
pub(super) struct MarkerChannel {
    queue: Vec<PendingMarker>,
    /// Nothing in the queue is sent before this.
    retry_at: SimTime,
    /// correlation → (leader, markers, deadline).
    in_flight: BTreeMap<u32, (BrokerId, Vec<PendingMarker>, SimTime)>,
}

/// A produce request parked while its leader asks the coordinator about its transactional
/// batches.
pub(super) struct Verifying {
    client: NodeId,
    correlation: u32,
    req: ProduceRequest,
    /// The partitions being verified.
    partitions: Vec<Tp>,
    /// The coordinator's node and our request's correlation id.
    asked: (NodeId, u32),
    deadline: SimTime,
    /// What was asked, and of which coordinator (for a retry).
    ask: AddPartitions,
    coordinator: BrokerId,
    /// When it was first asked: version 2 retries `CONCURRENT_TRANSACTIONS` itself for a while.
    first_asked: SimTime,
    /// Set while waiting to ask again.
    retry_at: Option<SimTime>,
}

/// Version 2: how long and how often a leader asks again after `CONCURRENT_TRANSACTIONS`
/// (`add.partitions.to.txn.retry.backoff.max.ms` 100, `add.partitions.to.txn.retry.backoff.ms`
/// 20, `AddPartitionsToTxnConfig`).
const ADD_RETRY_FOR: SimDuration = SimDuration::from_ms(100);
const ADD_RETRY_EVERY: SimDuration = SimDuration::from_ms(20);

impl Broker {
    fn me(&self) -> NodeId {
        self.addr.broker(self.id)
    }

    fn next_correlation(&mut self) -> u32 {
        let c = self.next_correlation;
        self.next_correlation = self.next_correlation.wrapping_add(1);
        c
    }

    /// The `__transaction_state` partition of a transactional id, if the cluster has the topic.
    fn txn_tp(&self, transactional_id: &str) -> Option<Tp> {
        let topic = self.txn_topic?;
        Some(Tp {
            topic,
            partition: self.txn_coordinator.partition_of(transactional_id),
        })
    }

    /// The broker that coordinates a transactional id (the leader of its partition).
    fn txn_coordinator_of(&self, transactional_id: &str) -> Option<BrokerId> {
        let tp = self.txn_tp(transactional_id)?;
        self.metadata.as_ref()?.partition(tp)?.leader
    }

    /// A transaction request. Returns true if it waits (its connection stays muted).
    pub(super) fn on_txn_request(
        &mut self,
        now: SimTime,
        from: NodeId,
        correlation: u32,
        req: TxnRequest,
        out: &mut O,
    ) -> bool {
        let reply = Reply {
            to: from,
            correlation,
        };
        let actions = match req {
            TxnRequest::FindCoordinator(id) => {
                let leader = self
                    .txn_coordinator_of(&id)
                    .ok_or(ErrorCode::CoordinatorNotAvailable);
                respond(
                    out,
                    from,
                    correlation,
                    ResponseBody::Txn(TxnResponse::FindCoordinator(leader)),
                );
                return false;
            }
            TxnRequest::InitProducerId {
                transactional_id,
                timeout_ms,
            } => {
                let (coordinator, pool, controller, me) = (
                    &mut self.txn_coordinator,
                    &mut self.producer_ids,
                    self.addr.controller(),
                    self.id,
                );
                coordinator.init_producer_id(now, transactional_id, timeout_ms, reply, || {
                    let handout = pool.generate();
                    if handout.request_block {
                        out.send(controller, Message::AllocateProducerIds { broker: me });
                    }
                    handout.result.map(|p| p.id)
                })
            }
            TxnRequest::AddPartitions(a) => self.txn_coordinator.add_partitions(now, a, reply),
            TxnRequest::EndTxn { producer, commit } => {
                self.txn_coordinator.end_txn(now, producer, commit, reply)
            }
            TxnRequest::WriteMarkers(entries) => return self.write_markers(now, reply, entries, out),
        };
        // The answer may come at once, or from inside a write that completes at once (a
        // replication factor of 1): either way the connection is not muted.
        let outer = self.handling.replace((reply, false));
        self.run_txn_actions(now, actions, out);
        let answered = self.handling.is_some_and(|(_, answered)| answered);
        self.handling = outer;
        !answered
    }

    /// Carries out what the coordinator asked for.
    pub(super) fn run_txn_actions(&mut self, now: SimTime, actions: Vec<Action>, out: &mut O) {
        let mut work: std::collections::VecDeque<Action> = actions.into();
        while let Some(action) = work.pop_front() {
            match action {
                Action::Respond { reply, body } => {
                    self.txn_answer(now, reply, ResponseBody::Txn(body), out);
                }
                Action::Write { record, reply } => {
                    if let Err(e) = self.write_txn_record(now, record.clone(), reply, out) {
                        work.extend(self.txn_coordinator.on_written(&record, reply, Err(e)));
                    }
                }
                Action::Markers {
                    transactional_id,
                    marker,
                    partitions,
                } => {
                    for tp in partitions {
                        self.markers.queue.push(PendingMarker {
                            transactional_id: transactional_id.clone(),
                            marker,
                            tp,
                        });
                    }
                    self.markers.retry_at = now;
                }
                Action::Transition {
                    transactional_id,
                    identity,
                    from,
                    to,
                    why,
                } => out.emit(Event::TxnTransition {
                    transactional_id,
                    identity,
                    from,
                    to,
                    why,
                }),
            }
        }
        self.send_markers(now, out);
    }

    /// Answers a transaction request; an answer to this broker itself (a marker write or a
    /// verification it sent to its own coordinator or partition) is handled at once. A client's
    /// connection is unmuted unless the answer comes while its request is still being handled.
    fn txn_answer(&mut self, now: SimTime, reply: Reply, body: ResponseBody, out: &mut O) {
        if reply.to == self.me() {
            self.on_txn_response(now, reply.to, reply.correlation, body, out);
            return;
        }
        respond(out, reply.to, reply.correlation, body);
        match &mut self.handling {
            // Answered while the request is being handled: it never waited.
            Some((handled, answered)) if *handled == reply => *answered = true,
            _ => self.unmute(now, reply.to, out),
        }
    }

    /// Appends a coordinator record to its `__transaction_state` partition (acks=all, min ISR);
    /// the coordinator hears back when it is replicated.
    fn write_txn_record(
        &mut self,
        now: SimTime,
        record: TxnStateRecord,
        reply: Option<Reply>,
        out: &mut O,
    ) -> Result<(), ErrorCode> {
        let tp = self
            .txn_tp(&record.transactional_id)
            .ok_or(ErrorCode::NotCoordinator)?;
        let epoch = self.leadership(tp)?;
        let replica = self.replicas.get(&tp).ok_or(ErrorCode::NotLeaderOrFollower)?;
        let leader = replica.leading().ok_or(ErrorCode::NotLeaderOrFollower)?;
        if (leader.isr.len() as u32) < self.effective_min_isr(tp, leader.replicas.len()) {
            return Err(ErrorCode::NotEnoughReplicas);
        }
        let timeout = SimDuration::from_ms(record.timeout_ms);
        let replica = self.replicas.get_mut(&tp).ok_or(ErrorCode::NotLeaderOrFollower)?;
        let (base, rolled) =
            replica
                .log
                .append_control(Control::TxnState(Arc::new(record.clone())), epoch, now.as_ms());
        trace_roll(tp, rolled, out);
        replica.unflushed_messages += 1;
        let me = self.me();
        self.produces.push(DelayedProduce {
            client: reply.map_or(me, |r| r.to),
            correlation: reply.map_or(0, |r| r.correlation),
            deadline: now + timeout,
            results: vec![ProducePartitionResponse {
                tp,
                batch_id: 0,
                result: Ok(base),
            }],
            waiting: vec![(0, tp, base + 1)],
            then: Then::TxnState { record, reply },
        });
        self.flush_by_messages(tp);
        self.advance_hw(now, tp, out);
        self.complete_produces(now, tp, out);
        self.complete_fetches(now, tp, out);
        Ok(())
    }

    /// A coordinator record was replicated, or failed.
    pub(super) fn on_txn_record_written(
        &mut self,
        now: SimTime,
        record: TxnStateRecord,
        reply: Option<Reply>,
        result: Result<u64, ErrorCode>,
        out: &mut O,
    ) {
        let actions = self
            .txn_coordinator
            .on_written(&record, reply, result.map(|_| ()));
        self.run_txn_actions(now, actions, out);
    }

    /// As a partition leader: `WriteTxnMarkers`. Each marker is appended as a control batch
    /// (acks=all) after the producer-epoch check; the answer waits for replication.
    fn write_markers(&mut self, now: SimTime, reply: Reply, entries: Vec<MarkerEntry>, out: &mut O) -> bool {
        let mut results = Vec::new();
        let mut waiting = Vec::new();
        let mut touched = Vec::new();
        for entry in entries {
            for tp in entry.partitions {
                let result = self.append_marker(now, tp, entry.marker, out);
                if let Ok(offset) = result {
                    waiting.push((results.len(), tp, offset + 1));
                    touched.push(tp);
                }
                results.push(ProducePartitionResponse {
                    tp,
                    batch_id: 0,
                    result,
                });
            }
        }
        self.produces.push(DelayedProduce {
            client: reply.to,
            correlation: reply.correlation,
            deadline: now + INTER_BROKER_TIMEOUT,
            results,
            waiting,
            then: Then::Markers,
        });
        for tp in &touched {
            self.flush_by_messages(*tp);
            self.advance_hw(now, *tp, out);
        }
        // Complete what is already committed (or has nothing to wait for) right away.
        let i = self.produces.len() - 1;
        if self.produces[i].waiting.is_empty() {
            let p = self.produces.swap_remove(i);
            self.answer_delayed(now, p, out);
            return false;
        }
        for tp in &touched {
            self.complete_produces(now, *tp, out);
            self.complete_fetches(now, *tp, out);
        }
        self.produces
            .iter()
            .any(|p| p.client == reply.to && p.correlation == reply.correlation)
    }

    /// Appends one marker if this broker leads `tp`; returns its offset.
    fn append_marker(
        &mut self,
        now: SimTime,
        tp: Tp,
        marker: TxnMarker,
        out: &mut O,
    ) -> Result<u64, ErrorCode> {
        let epoch = self.leadership(tp)?;
        let replica = self.replicas.get(&tp).ok_or(ErrorCode::NotLeaderOrFollower)?;
        let leader = replica.leading().ok_or(ErrorCode::NotLeaderOrFollower)?;
        if (leader.isr.len() as u32) < self.effective_min_isr(tp, leader.replicas.len()) {
            return Err(ErrorCode::NotEnoughReplicas);
        }
        let replica = self.replicas.get_mut(&tp).ok_or(ErrorCode::NotLeaderOrFollower)?;
        replica.producers.check_marker(marker)?;
        let (offset, rolled) = replica
            .log
            .append_control(Control::Marker(marker), epoch, now.as_ms());
        trace_roll(tp, rolled, out);
        replica.producers.on_marker(marker);
        replica.unflushed_messages += 1;
        let hw = replica.log.high_watermark();
        out.emit(Event::MarkerWritten {
            tp,
            offset,
            marker,
            high_watermark: hw,
        });
        if Some(tp.topic) == self.offsets_topic {
            // The group coordinator replays the marker (`replayEndTransactionMarker`).
            self.complete_txn_offsets(now, marker.producer_id, marker.commit, out);
        }
        Ok(offset)
    }

    /// A response to one of this broker's transaction requests (markers, verifications).
    pub(super) fn on_txn_response(
        &mut self,
        now: SimTime,
        from: NodeId,
        correlation: u32,
        body: ResponseBody,
        out: &mut O,
    ) {
        match body {
            ResponseBody::Txn(TxnResponse::WriteMarkers(results)) => {
                self.on_markers_answered(now, correlation, results, out)
            }
            ResponseBody::Txn(TxnResponse::AddPartitions(result)) => {
                self.on_verified(now, (from, correlation), result, out)
            }
            _ => {}
        }
    }

    /// Sends queued markers to their partitions' leaders, one request per leader.
    pub(super) fn send_markers(&mut self, now: SimTime, out: &mut O) {
        if self.markers.queue.is_empty() || now < self.markers.retry_at {
            return;
        }
        let mut by_leader: BTreeMap<BrokerId, Vec<PendingMarker>> = BTreeMap::new();
        let mut unsent = Vec::new();
        for m in std::mem::take(&mut self.markers.queue) {
            let leader = self
                .metadata
                .as_ref()
                .and_then(|md| md.partition(m.tp))
                .and_then(|p| p.leader);
            match leader {
                Some(b) => by_leader.entry(b).or_default().push(m),
                // No leader right now: wait for one.
                None => unsent.push(m),
            }
        }
        self.markers.queue = unsent;
        for (leader, markers) in by_leader {
            let correlation = self.next_correlation();
            let mut entries: Vec<MarkerEntry> = Vec::new();
            for m in &markers {
                match entries.iter_mut().find(|e| e.marker == m.marker) {
                    Some(e) => e.partitions.push(m.tp),
                    None => entries.push(MarkerEntry {
                        marker: m.marker,
                        partitions: vec![m.tp],
                    }),
                }
            }
            self.markers
                .in_flight
                .insert(correlation, (leader, markers, now + INTER_BROKER_TIMEOUT));
            if leader == self.id {
                let reply = Reply {
                    to: self.me(),
                    correlation,
                };
                self.write_markers(now, reply, entries, out);
            } else {
                let body = RequestBody::Txn(TxnRequest::WriteMarkers(entries));
                out.send(self.addr.broker(leader), Message::Request { correlation, body });
            }
        }
    }

    /// A leader answered a marker write: written markers complete their transactions; the
    /// others go back to the queue (`TransactionMarkerRequestCompletionHandler`), except those a
    /// newer producer epoch or coordinator made pointless.
    fn on_markers_answered(
        &mut self,
        now: SimTime,
        correlation: u32,
        results: Vec<(Tp, Result<(), ErrorCode>)>,
        out: &mut O,
    ) {
        let Some((_, markers, _)) = self.markers.in_flight.remove(&correlation) else {
            return;
        };
        let mut actions = Vec::new();
        for m in markers {
            let result = results
                .iter()
                .find(|(tp, _)| *tp == m.tp)
                .map_or(Err(ErrorCode::NetworkException), |(_, r)| *r);
            match result {
                Ok(()) => actions.extend(self.txn_coordinator.on_marker_written(
                    &m.transactional_id,
                    m.marker.producer_id,
                    m.tp,
                )),
                Err(ErrorCode::InvalidProducerEpoch | ErrorCode::TransactionCoordinatorFenced) => {}
                Err(_) => {
                    self.markers.queue.push(m);
                    self.markers.retry_at = now + MARKER_RETRY;
                }
            }
        }
        self.run_txn_actions(now, actions, out);
    }

    /// Marker requests past their deadline, or to a leader whose connection closed, are queued
    /// again.
    pub(super) fn requeue_markers(&mut self, now: SimTime, closed: Option<BrokerId>) {
        let due: Vec<u32> = self
            .markers
            .in_flight
            .iter()
            .filter(|(_, (leader, _, deadline))| Some(*leader) == closed || *deadline <= now)
            .map(|(c, _)| *c)
            .collect();
        for c in due {
            if let Some((_, markers, _)) = self.markers.in_flight.remove(&c) {
                self.markers.queue.extend(markers);
                self.markers.retry_at = now + MARKER_RETRY;
            }
        }
    }

    /// When the marker channel or a verification next needs attention.
    pub(super) fn txn_deadlines(&self) -> impl Iterator<Item = SimTime> + '_ {
        let retry = (!self.markers.queue.is_empty()).then_some(self.markers.retry_at);
        let flights = self.markers.in_flight.values().map(|(_, _, d)| *d);
        let verifying = self.verifying.iter().map(|v| v.deadline);
        retry
            .into_iter()
            .chain(flights)
            .chain(verifying)
            .chain(self.txn_coordinator.next_deadline())
    }

    /// Timers: timed-out transactions, marker retries and deadlines, verifications.
    pub(super) fn txn_on_wake(&mut self, now: SimTime, out: &mut O) {
        if self.txn_topic.is_none() {
            // No transactional producer in the scenario: no coordinator, markers or checks.
            return;
        }
        for (ask, correlation) in std::mem::take(&mut self.local_asks) {
            let reply = Reply {
                to: self.me(),
                correlation,
            };
            let actions = self.txn_coordinator.add_partitions(now, ask, reply);
            self.run_txn_actions(now, actions, out);
        }
        let actions = self.txn_coordinator.on_wake(now);
        self.run_txn_actions(now, actions, out);
        self.requeue_markers(now, None);
        self.send_markers(now, out);
        let mut i = 0;
        while i < self.verifying.len() {
            if self.verifying[i].retry_at.is_some_and(|t| t <= now) {
                let mut v = self.verifying.swap_remove(i);
                self.ask(now, &mut v, out);
                self.verifying.push(v);
                continue;
            }
            i += 1;
        }
        let late: Vec<(NodeId, u32)> = self
            .verifying
            .iter()
            .filter(|v| v.retry_at.is_none() && v.deadline <= now)
            .map(|v| v.asked)
            .collect();
        for asked in late {
            self.on_verified(now, asked, Err(ErrorCode::RequestTimedOut), out);
        }
    }

    /// A broker connection closed: markers in flight to it go back to the queue, and produces
    /// waiting for its coordinator's verification fail with a retriable error.
    pub(super) fn txn_on_disconnect(&mut self, now: SimTime, peer: NodeId, out: &mut O) {
        self.verifying.retain(|v| v.client != peer);
        if let Some(b) = self.addr.broker_of(peer) {
            self.requeue_markers(now, Some(b));
            let asked: Vec<(NodeId, u32)> = self
                .verifying
                .iter()
                .filter(|v| v.asked.0 == peer)
                .map(|v| v.asked)
                .collect();
            for a in asked {
                self.on_verified(now, a, Err(ErrorCode::NetworkException), out);
            }
        }
    }

    /// Partitions of a produce whose transactional batch needs the coordinator's word first:
    /// its producer has no transaction open there at this epoch, and no verification is in hand
    /// (`UnifiedLog.maybeStartTransactionVerification`).
    fn to_verify(&self, req: &ProduceRequest) -> Vec<Tp> {
        if req.transactional_id.is_none() {
            return Vec::new();
        }
        req.batches
            .iter()
            .filter(|b| b.transactional)
            .filter_map(|b| {
                let s = b.sequence?;
                let r = self.replicas.get(&b.tp)?;
                r.leading()?;
                let open = r.producers.has_ongoing(s.producer_id, s.epoch)
                    && r.log.txns().ongoing().any(|(p, _)| p == s.producer_id);
                let vouched = self.verified.contains(&(b.tp, s.producer_id, s.epoch));
                (!open && !vouched).then_some(b.tp)
            })
            .collect()
    }

    /// Before a produce: asks the coordinator about transactional batches that start a
    /// transaction on their partition (version 2 adds the partitions, version 1 only verifies).
    /// Returns the request back when nothing needs asking; `None` when it is parked.
    pub(super) fn verify_first(
        &mut self,
        now: SimTime,
        client: NodeId,
        correlation: u32,
        req: ProduceRequest,
        out: &mut O,
    ) -> Option<ProduceRequest> {
        let partitions = self.to_verify(&req);
        let (Some(id), false) = (req.transactional_id.clone(), partitions.is_empty()) else {
            return Some(req);
        };
        let identity = req
            .batches
            .iter()
            .find(|b| b.transactional)
            .and_then(|b| b.sequence)
            .map(|s| crate::kafka::record::ProducerIdentity {
                id: s.producer_id,
                epoch: s.epoch,
            })?;
        let Some(coordinator) = self.txn_coordinator_of(&id) else {
            // `COORDINATOR_NOT_AVAILABLE` reaches the producer as `NOT_ENOUGH_REPLICAS`.
            self.produce_with(
                now,
                client,
                correlation,
                req,
                &partitions,
                ErrorCode::NotEnoughReplicas,
                out,
            );
            return None;
        };
        let ask = AddPartitions {
            producer: TxnProducer {
                transactional_id: id,
                identity,
            },
            partitions: partitions.clone(),
            verify_only: !self.txn_coordinator.settings().v2,
        };
        out.trace(|| Event::TxnVerify {
            coordinator,
            add: !ask.verify_only,
        });
        let mut v = Verifying {
            client,
            correlation,
            req,
            partitions,
            asked: (self.addr.broker(coordinator), 0),
            deadline: now,
            ask,
            coordinator,
            first_asked: now,
            retry_at: None,
        };
        self.ask(now, &mut v, out);
        self.verifying.push(v);
        None
    }

    /// Sends (or sends again) a verification's `AddPartitionsToTxn`.
    fn ask(&mut self, now: SimTime, v: &mut Verifying, out: &mut O) {
        let correlation = self.next_correlation();
        let to = self.addr.broker(v.coordinator);
        v.asked = (to, correlation);
        v.deadline = now + INTER_BROKER_TIMEOUT;
        v.retry_at = None;
        if v.coordinator == self.id {
            // Asked of this broker's own coordinator once the produce is parked (its connection
            // muted), as a request over the network would be.
            self.local_asks.push((v.ask.clone(), correlation));
            out.wake_at(now);
        } else {
            let body = RequestBody::Txn(TxnRequest::AddPartitions(v.ask.clone()));
            out.send(to, Message::Request { correlation, body });
        }
    }

    /// The coordinator answered a verification: the parked produce goes on, its verified
    /// partitions vouched for, or failed with the mapped error
    /// (`ReplicaManager.postVerificationCallback`, `AddPartitionsToTxnManager`).
    fn on_verified(
        &mut self,
        now: SimTime,
        asked: (NodeId, u32),
        result: Result<(), ErrorCode>,
        out: &mut O,
    ) {
        let Some(i) = self.verifying.iter().position(|v| v.asked == asked) else {
            return;
        };
        let v2 = self.txn_coordinator.settings().v2;
        if v2
            && result == Err(ErrorCode::ConcurrentTransactions)
            && now < self.verifying[i].first_asked + ADD_RETRY_FOR
        {
            // `ReplicaManager.maybeRetryOnConcurrentTransactions`: ask again shortly.
            let v = &mut self.verifying[i];
            v.retry_at = Some(now + ADD_RETRY_EVERY);
            v.deadline = now + ADD_RETRY_EVERY;
            return;
        }
        let v = self.verifying.swap_remove(i);
        let error = match result {
            Ok(()) => {
                for b in v.req.batches.iter().filter(|b| v.partitions.contains(&b.tp)) {
                    if let Some(s) = b.sequence {
                        self.verified.insert((b.tp, s.producer_id, s.epoch));
                    }
                }
                None
            }
            Err(ErrorCode::ProducerFenced) => Some(ErrorCode::InvalidProducerEpoch),
            Err(ErrorCode::ConcurrentTransactions) if v2 => Some(ErrorCode::ConcurrentTransactions),
            Err(
                ErrorCode::NetworkException
                | ErrorCode::RequestTimedOut
                | ErrorCode::CoordinatorLoadInProgress
                | ErrorCode::CoordinatorNotAvailable
                | ErrorCode::NotCoordinator
                | ErrorCode::ConcurrentTransactions,
            ) => Some(ErrorCode::NotEnoughReplicas),
            Err(e) => Some(e),
        };
        let (client, correlation) = (v.client, v.correlation);
        let parked = match error {
            None => self.produce(now, client, correlation, v.req, out),
            Some(e) => self.produce_with(now, client, correlation, v.req, &v.partitions, e, out),
        };
        if !parked {
            self.unmute(now, client, out);
        }
    }

    /// Produces `req` with the batches of `failed` partitions refused with `error`.
    #[allow(clippy::too_many_arguments)]
    fn produce_with(
        &mut self,
        now: SimTime,
        client: NodeId,
        correlation: u32,
        mut req: ProduceRequest,
        failed: &[Tp],
        error: ErrorCode,
        out: &mut O,
    ) -> bool {
        let refused: Vec<ProducePartitionResponse> = req
            .batches
            .iter()
            .filter(|b| failed.contains(&b.tp))
            .map(|b| ProducePartitionResponse {
                tp: b.tp,
                batch_id: b.batch_id,
                result: Err(error),
            })
            .collect();
        for r in &refused {
            out.trace(|| Event::ProduceRejected {
                tp: r.tp,
                batch_id: r.batch_id,
                error,
            });
        }
        req.batches.retain(|b| !failed.contains(&b.tp));
        self.produce_answering(now, client, correlation, req, refused, out)
    }

    /// After a metadata change: load the transactional ids of `__transaction_state` partitions
    /// this broker now leads, drop those it no longer leads (with their queued markers).
    pub(super) fn refresh_txns(&mut self, now: SimTime, out: &mut O) {
        let Some(topic) = self.txn_topic else {
            return;
        };
        let range = Tp { topic, partition: 0 }..=Tp {
            topic,
            partition: u32::MAX,
        };
        let led: BTreeMap<u32, u32> = self
            .replicas
            .range(range.clone())
            .filter(|(_, r)| r.leading().is_some())
            .map(|(tp, r)| (tp.partition, r.leader_epoch))
            .collect();
        let hosted: Vec<u32> = self.replicas.range(range).map(|(tp, _)| tp.partition).collect();
        let mut actions = Vec::new();
        for partition in hosted {
            let coordinator_epoch = led.get(&partition).copied();
            let loaded = self.txn_coordinator.loaded_epoch(partition);
            match coordinator_epoch {
                Some(epoch) if loaded != Some(epoch) => {
                    let tp = Tp { topic, partition };
                    let Some(replica) = self.replicas.get(&tp) else {
                        continue;
                    };
                    let records = replica.log.batches().filter_map(|b| match &b.control {
                        Some(Control::TxnState(r)) => Some(r.as_ref()),
                        _ => None,
                    });
                    actions.extend(self.txn_coordinator.load(partition, epoch, records));
                }
                None if loaded.is_some() => {
                    self.txn_coordinator.unload(partition);
                    let partitions = self.txn_coordinator.settings().partitions;
                    self.markers.queue.retain(|m| {
                        crate::kafka::txn::coordinator_partition(&m.transactional_id, partitions) != partition
                    });
                }
                _ => {}
            }
        }
        self.run_txn_actions(now, actions, out);
    }
}

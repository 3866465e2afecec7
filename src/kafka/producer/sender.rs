//! The sender: expiry, readiness, draining into one produce request per broker, and completing
//! batches from responses, time-outs and disconnects (`Sender.java`, Kafka 4.0).

use super::Producer;
use super::accumulator::Batch;
use crate::kafka::protocol::{
    BrokerId, ErrorCode, Message, ProducePartitionResponse, ProduceRequest, RequestBody,
};
use crate::kafka::record::ProducerIdentity;
use crate::sim::{Out, SimTime};
use crate::trace::{Event, SendWait};

impl Producer {
    /// One pass of `Sender.sendProducerData`.
    pub(super) fn run_sender(&mut self, now: SimTime, out: &mut Out<Message, Event>) {
        if self.txn.is_some() {
            if self.begin_transactional_pass(now, out) {
                self.metadata.poll(now, &mut self.net, out);
                return;
            }
        } else if self.begin_idempotent_pass(now, out) {
            // An `InitProducerId` request is out: produce requests wait for it.
            self.metadata.poll(now, &mut self.net, out);
            return;
        }
        for (mut batch, queued) in self.acc.expire(now) {
            if let Some(i) = self.idempotence.as_mut() {
                // `Sender.sendProducerData`: a batch that was retried and then expired leaves its
                // partition's sequences unresolved.
                i.on_expired(batch.id, batch.attempts > 0);
                if queued {
                    i.forget(batch.id);
                }
            }
            out.emit(Event::BatchFailed {
                tp: batch.tp,
                batch_id: batch.id,
                error: ErrorCode::DeliveryTimeout,
                records: batch.wire_records(),
            });
        }
        let exhausted = self.blocked.is_some_and(|b| b.on == SendWait::BufferMemory);
        let max_in_flight = self.cfg.max_in_flight as usize;
        // Kafka's sender thread loops with a zero poll timeout while nodes are ready: each pass
        // checks readiness again, then sends at most one request per ready node.
        loop {
            let ready = self.acc.ready(now, self.metadata.current(), exhausted);
            if ready.unknown_leader {
                self.metadata.request_update();
            }
            self.metadata.poll(now, &mut self.net, out);
            let mut sent = false;
            for broker in ready.nodes {
                if self.net.is_ready(broker, max_in_flight) {
                    sent |= self.send_to(broker, now, out);
                } else if !self.net.is_connected(broker) {
                    self.net.ensure_connecting(broker, now, out);
                }
            }
            if !sent {
                if let Some(t) = ready.next_check {
                    out.wake_at(t);
                }
                return;
            }
        }
    }

    /// Drains one request's worth of batches for `broker` and sends it; false if nothing was
    /// drainable.
    fn send_to(&mut self, broker: BrokerId, now: SimTime, out: &mut Out<Message, Event>) -> bool {
        let txn = self.txn.as_ref();
        let (mut batches, shown) = self.acc.drain(
            broker,
            self.metadata.current(),
            now,
            self.idempotence.as_mut(),
            |tp| txn.is_none_or(|t| t.may_send_to(tp)),
        );
        if batches.is_empty() {
            return false;
        }
        let transactional = self.txn.is_some();
        for b in &mut batches {
            b.transactional = transactional;
        }
        let batch_ids: Vec<u64> = batches.iter().map(|b| b.batch_id).collect();
        let acks = self.cfg.acks.as_i16();
        let request = ProduceRequest {
            transactional_id: self.cfg.transactional_id.clone(),
            acks,
            timeout_ms: self.cfg.net.request_timeout.as_ms(),
            batches,
        };
        let expects_response = acks != 0;
        let correlation = self
            .net
            .send(broker, RequestBody::Produce(request), expects_response, now, out);
        out.emit(Event::ProduceSent {
            broker,
            correlation,
            acks,
            batches: shown,
        });
        if expects_response {
            self.requests.insert(correlation, batch_ids);
        } else {
            // acks=0: the request is complete once written; records get offset -1.
            for id in batch_ids {
                self.complete(id, None, out);
            }
        }
        true
    }

    /// A produce response.
    pub(super) fn on_produce_response(
        &mut self,
        correlation: u32,
        results: Vec<ProducePartitionResponse>,
        now: SimTime,
        out: &mut Out<Message, Event>,
    ) {
        if self.requests.remove(&correlation).is_none() {
            return;
        }
        for r in results {
            match r.result {
                Ok(base) => self.complete(r.batch_id, Some(base), out),
                Err(e) => self.fail(r.batch_id, e, now, out),
            }
        }
    }

    /// A request that will get no response (time-out or disconnect): its batches fail with
    /// `error`, in the order they were in the request.
    pub(super) fn abandon(
        &mut self,
        broker: BrokerId,
        correlation: u32,
        error: ErrorCode,
        now: SimTime,
        out: &mut Out<Message, Event>,
    ) {
        // Every disconnect makes the client refresh its metadata (NetworkClient.processDisconnection).
        self.metadata.request_update();
        if self.metadata.is_ours(broker, correlation) {
            self.metadata.on_failure(broker);
            return;
        }
        if self.txn.as_ref().is_some_and(|t| t.is_ours(broker, correlation)) {
            if let Some(t) = self.txn.as_mut() {
                t.on_lost(now);
            }
            return;
        }
        if self
            .idempotence
            .as_ref()
            .is_some_and(|i| i.is_init(broker, correlation))
        {
            self.on_init_producer_id(broker, correlation, Err(error), now, out);
            return;
        }
        if let Some(batch_ids) = self.requests.remove(&correlation) {
            for id in batch_ids {
                self.fail(id, error, now, out);
            }
        }
    }

    /// Takes a finished batch out of flight; `None` when it is unknown or had already expired
    /// (then the answer is only traced: the application was told it failed). The idempotence
    /// state learns the late answer all the same (`Sender.completeBatch` reaches the
    /// `TransactionManager` before it notices the batch is done).
    fn take_in_flight(
        &mut self,
        batch_id: u64,
        result: Result<u64, ErrorCode>,
        out: &mut Out<Message, Event>,
    ) -> Option<Batch> {
        let (batch, expired) = self.acc.finish_in_flight(batch_id)?;
        if expired {
            out.trace(|| Event::LateResponse {
                tp: batch.tp,
                batch_id,
                result,
            });
            if let Some(i) = self.idempotence.as_mut() {
                match result {
                    Ok(_) => i.on_acked(batch_id),
                    Err(e) => i.on_failed(batch_id, e, batch.attempts < self.cfg.retries),
                }
                i.forget(batch_id);
            }
            return None;
        }
        Some(batch)
    }

    fn complete(&mut self, batch_id: u64, base_offset: Option<u64>, out: &mut Out<Message, Event>) {
        let result = base_offset.ok_or(ErrorCode::NetworkException);
        let Some(mut batch) = self.take_in_flight(batch_id, result, out) else {
            return;
        };
        if let Some(i) = self.idempotence.as_mut() {
            i.on_acked(batch_id);
        }
        self.acc.deallocate(&batch);
        out.emit(Event::BatchAcked {
            tp: batch.tp,
            batch_id,
            base_offset,
            records: batch.wire_records(),
        });
    }

    /// `Sender.completeBatch` for an error: split, retry (in sequence order with idempotence),
    /// or fail.
    fn fail(&mut self, batch_id: u64, error: ErrorCode, now: SimTime, out: &mut Out<Message, Event>) {
        let Some(mut batch) = self.take_in_flight(batch_id, Err(error), out) else {
            return;
        };
        if error.invalidates_metadata() {
            self.metadata.request_update();
        }
        if error == ErrorCode::MessageTooLarge && batch.len() > 1 {
            // Split into batch.size pieces at the front of the queue, without counting an attempt.
            let keys = &self.keys;
            let workload = &self.workload;
            let key_len = |seq: u32| (!keys.is_empty()).then(|| keys[seq as usize % keys.len()].len);
            self.acc.split_and_reenqueue(
                batch,
                |r| (key_len(r.seq), workload.value_bytes_of(u64::from(r.seq))),
                self.idempotence.as_mut(),
            );
            return;
        }
        let error = if error == ErrorCode::MessageTooLarge {
            ErrorCode::RecordTooLarge
        } else {
            error
        };
        // `Sender.canRetry`: time and attempts left, then the error (through the idempotence
        // rules when on, which may ask for an epoch bump).
        // A transactional producer retries only retriable errors; the others make the
        // transaction abortable (`TransactionManager.canRetry`, `handleFailedBatch`).
        let can_retry = now < batch.created_at + self.cfg.delivery_timeout
            && batch.attempts < self.cfg.retries
            && match self.idempotence.as_mut() {
                Some(_) if self.txn.is_some() => error.is_retriable(),
                Some(i) => i.can_retry(batch_id, error),
                None => error.is_retriable(),
            };
        if can_retry {
            let backoff = self.retry_backoff.backoff(batch.attempts, &mut self.rng);
            out.emit(Event::BatchRetry {
                tp: batch.tp,
                batch_id,
                error,
                attempts: batch.attempts + 1,
                backoff,
                in_sequence_order: self.idempotence.is_some(),
                records: batch.wire_records(),
            });
            self.acc.reenqueue(batch, now, backoff, self.idempotence.as_ref());
        } else {
            if let Some(i) = self.idempotence.as_mut() {
                i.on_failed(batch_id, error, batch.attempts < self.cfg.retries);
            }
            self.acc.deallocate(&batch);
            out.emit(Event::BatchFailed {
                tp: batch.tp,
                batch_id,
                error,
                records: batch.wire_records(),
            });
            self.on_txn_batch_failed(error, now, out);
        }
    }

    /// The idempotence steps at the start of a sender pass (`Sender.runOnce`): resolve
    /// sequences, bump the epoch, send `InitProducerId` to the least loaded broker. True while
    /// that request is out.
    fn begin_idempotent_pass(&mut self, now: SimTime, out: &mut Out<Message, Event>) -> bool {
        let Some(i) = self.idempotence.as_mut() else {
            return false;
        };
        let start = i.begin_pass(now);
        if let Some((identity, partitions)) = start.bumped {
            out.emit(Event::EpochBumped { identity, partitions });
        }
        if let Some(t) = start.wake {
            out.wake_at(t);
        }
        if start.send_init {
            let candidates = self.metadata.candidates();
            if let Some(b) = self.net.least_loaded(&candidates, now, out) {
                let correlation = self.net.send(b, RequestBody::InitProducerId, true, now, out);
                i.on_init_sent(b, correlation);
                out.trace(|| Event::ProducerIdRequested { broker: b });
            }
        }
        i.init_in_flight()
    }

    /// The answer to `InitProducerId` (or its loss): an error is retried after `retry.backoff.ms`,
    /// a constant without jitter (`TransactionManager.TxnRequestHandler.retryBackoffMs`).
    pub(super) fn on_init_producer_id(
        &mut self,
        broker: BrokerId,
        correlation: u32,
        result: Result<ProducerIdentity, ErrorCode>,
        now: SimTime,
        out: &mut Out<Message, Event>,
    ) {
        let Some(i) = self.idempotence.as_mut() else {
            return;
        };
        if !i.is_init(broker, correlation) {
            return;
        }
        i.on_init_response(result, now + self.cfg.net.retry_backoff);
        out.emit(Event::ProducerIdReceived { broker, result });
    }
}

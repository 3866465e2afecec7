//! The sender: expiry, readiness, draining into one produce request per broker, and completing
//! batches from responses, time-outs and disconnects (`Sender.java`, Kafka 4.0).

use super::Producer;
use super::accumulator::Batch;
use crate::kafka::protocol::{
    BrokerId, ErrorCode, Message, ProducePartitionResponse, ProduceRequest, RequestBody,
};
use crate::sim::{Out, SimTime};
use crate::trace::Event;

impl Producer {
    /// One pass of `Sender.sendProducerData`.
    pub(super) fn run_sender(&mut self, now: SimTime, out: &mut Out<Message, Event>) {
        for mut batch in self.acc.expire(now) {
            out.emit(Event::BatchFailed {
                tp: batch.tp,
                batch_id: batch.id,
                error: ErrorCode::DeliveryTimeout,
                records: batch.wire_records(),
            });
        }
        let exhausted = self.blocked.is_some_and(|b| b.on == "buffer.memory");
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
        let (batches, shown) = self.acc.drain(broker, self.metadata.current(), now);
        if batches.is_empty() {
            return false;
        }
        let batch_ids: Vec<u64> = batches.iter().map(|b| b.batch_id).collect();
        let acks = self.cfg.acks.as_i16();
        let request = ProduceRequest {
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
        if let Some(batch_ids) = self.requests.remove(&correlation) {
            for id in batch_ids {
                self.fail(id, error, now, out);
            }
        }
    }

    /// Takes a finished batch out of flight; `None` when it is unknown or had already expired
    /// (then the answer is only traced: the application was told it failed).
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
            return None;
        }
        Some(batch)
    }

    fn complete(&mut self, batch_id: u64, base_offset: Option<u64>, out: &mut Out<Message, Event>) {
        let result = base_offset.ok_or(ErrorCode::NetworkException);
        let Some(mut batch) = self.take_in_flight(batch_id, result, out) else {
            return;
        };
        self.acc.deallocate(&batch);
        out.emit(Event::BatchAcked {
            tp: batch.tp,
            batch_id,
            base_offset,
            records: batch.wire_records(),
        });
    }

    /// `Sender.completeBatch` for an error: split, retry at the front of the queue, or fail.
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
            let value = self.workload.value_bytes;
            let key_len = |seq: u32| (!keys.is_empty()).then(|| keys[seq as usize % keys.len()].len);
            self.acc.split_and_reenqueue(batch, |r| (key_len(r.seq), value));
            return;
        }
        let error = if error == ErrorCode::MessageTooLarge {
            ErrorCode::RecordTooLarge
        } else {
            error
        };
        let can_retry = error.is_retriable()
            && batch.attempts < self.cfg.retries
            && now < batch.created_at + self.cfg.delivery_timeout;
        if can_retry {
            let backoff = self.retry_backoff.backoff(batch.attempts, &mut self.rng);
            out.emit(Event::BatchRetry {
                tp: batch.tp,
                batch_id,
                error,
                attempts: batch.attempts + 1,
                backoff,
                records: batch.wire_records(),
            });
            self.acc.reenqueue(batch, now, backoff);
        } else {
            self.acc.deallocate(&batch);
            out.emit(Event::BatchFailed {
                tp: batch.tp,
                batch_id,
                error,
                records: batch.wire_records(),
            });
        }
    }
}

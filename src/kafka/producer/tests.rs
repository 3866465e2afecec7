//! The idempotent producer's sender against a scripted broker: what it sends after
//! `OUT_OF_ORDER_SEQUENCE_NUMBER` answers (`Sender.completeBatch` + `TransactionManager.canRetry`).

use super::Producer;
use crate::kafka::addr::Addresses;
use crate::kafka::protocol::{
    ClusterMetadata, ErrorCode, Message, PartitionState, ProducePartitionResponse, ProduceRequest,
    RequestBody, ResponseBody,
};
use crate::kafka::record::{BatchSequence, ProducerIdentity};
use crate::scenario::Workload;
use crate::scenario::config::{ConfigBlock, Entries, ProducerConfig};
use crate::scenario::source::{Raw, Source};
use crate::scenario::units::Rate;
use crate::sim::{NodeId, Out, RngTree, SimDuration, SimTime};
use crate::trace::Event;
use std::sync::Arc;

const BROKER: NodeId = NodeId(0);

fn config() -> ProducerConfig {
    let text = r#"{ "linger.ms": 0, "retry.backoff.ms": 10, "retry.backoff.max.ms": 10 }"#;
    let src = Source::new("t", text);
    let entries: Entries = src.parse_root().expect("map");
    let anchor: Raw = src.parse_root().expect("raw");
    ProducerConfig::from_block(&ConfigBlock {
        src: &src,
        entries: &entries,
        anchor,
    })
    .expect("valid")
}

/// A producer that has connected, learned the metadata and got producer id 7, and has sent
/// `requests` produce requests of one record each (one record every millisecond).
struct Harness {
    producer: Producer,
    now: SimTime,
    produced: Vec<(u32, ProduceRequest)>,
    events: Vec<Event>,
}

impl Harness {
    fn new(records: u64) -> Harness {
        let workload = Workload {
            topic: 0,
            keys: None,
            records,
            rate: Rate {
                count: 1,
                per: SimDuration::from_ms(1),
            },
            value_bytes: 10,
            start: SimDuration::from_ms(10),
            transactions: None,
            tombstone_every: None,
        };
        let rng = RngTree::new(1).fork("p1");
        let producer = Producer::new(0, Addresses::new(1), config(), workload, true, rng);
        let mut h = Harness {
            producer,
            now: SimTime::ZERO,
            produced: Vec::new(),
            events: Vec::new(),
        };
        h.step(|p, now, out| p.on_start(now, out));
        h
    }

    /// Runs one producer callback; accepts connections and answers metadata and InitProducerId
    /// requests at once.
    fn step(&mut self, f: impl FnOnce(&mut Producer, SimTime, &mut Out<Message, Event>)) {
        let mut out = Out::new(true);
        f(&mut self.producer, self.now, &mut out);
        self.events.append(&mut out.events);
        for (_, msg) in out.sends {
            let (correlation, body) = match msg {
                Message::Connect => {
                    self.deliver(Message::ConnectOk);
                    continue;
                }
                Message::Request { correlation, body } => (correlation, body),
                _ => continue,
            };
            let answer = match body {
                RequestBody::Metadata => ResponseBody::Metadata(Arc::new(metadata())),
                RequestBody::InitProducerId => {
                    ResponseBody::InitProducerId(Ok(ProducerIdentity { id: 7, epoch: 0 }))
                }
                RequestBody::Produce(req) => {
                    self.produced.push((correlation, req));
                    continue;
                }
                _ => continue,
            };
            self.deliver(Message::Response {
                correlation,
                body: answer,
            });
        }
    }

    fn deliver(&mut self, msg: Message) {
        self.step(|p, now, out| p.on_message(now, BROKER, msg, out));
    }

    /// Advances the clock to `ms` and lets the producer's timers run.
    fn at(&mut self, ms: u64) {
        self.now = SimTime::from_us(ms * 1000);
        self.step(|p, now, out| p.on_wake(now, out));
    }

    /// Answers produce request number `i` (in send order) for its one batch.
    fn answer(&mut self, i: usize, result: Result<u64, ErrorCode>) {
        let (correlation, req) = &self.produced[i];
        let b = &req.batches[0];
        let body = ResponseBody::Produce(vec![ProducePartitionResponse {
            tp: b.tp,
            batch_id: b.batch_id,
            result,
        }]);
        let correlation = *correlation;
        self.deliver(Message::Response { correlation, body });
    }

    /// (batch id, sequence) of every produce request sent since request `from`.
    fn sent_since(&self, from: usize) -> Vec<(u64, Option<BatchSequence>)> {
        self.produced[from..]
            .iter()
            .flat_map(|(_, r)| r.batches.iter().map(|b| (b.batch_id, b.sequence)))
            .collect()
    }
}

fn metadata() -> ClusterMetadata {
    ClusterMetadata {
        version: 1,
        live_brokers: vec![1],
        topics: vec![vec![PartitionState {
            leader: Some(1),
            leader_epoch: 0,
            partition_epoch: 0,
            replicas: vec![1],
            isr: vec![1],
        }]],
    }
}

fn seq(epoch: u16, base_sequence: u32) -> Option<BatchSequence> {
    Some(BatchSequence {
        producer_id: 7,
        epoch,
        base_sequence,
    })
}

fn bumps(h: &Harness) -> usize {
    h.events
        .iter()
        .filter(|e| matches!(e, Event::EpochBumped { .. }))
        .count()
}

/// Three one-record batches in flight with sequences 0, 1, 2.
fn three_in_flight() -> Harness {
    let mut h = Harness::new(3);
    for ms in 10..=12 {
        h.at(ms);
    }
    assert_eq!(h.sent_since(0), [(0, seq(0, 0)), (1, seq(0, 1)), (2, seq(0, 2))]);
    h
}

#[test]
fn out_of_order_behind_a_failed_batch_is_retried_in_sequence_order_without_a_bump() {
    let mut h = three_in_flight();
    // Batch 0 was refused before it was appended; 1 and 2 then arrived out of order.
    h.answer(0, Err(ErrorCode::NotEnoughReplicas));
    h.answer(1, Err(ErrorCode::OutOfOrderSequenceNumber));
    h.answer(2, Err(ErrorCode::OutOfOrderSequenceNumber));
    h.at(30);
    // Only the oldest unfinished batch goes, with its sequence; the others wait for it.
    assert_eq!(h.sent_since(3), [(0, seq(0, 0))]);
    h.answer(3, Ok(0));
    h.at(31);
    assert_eq!(h.sent_since(4), [(1, seq(0, 1))]);
    h.answer(4, Ok(1));
    h.at(32);
    assert_eq!(h.sent_since(5), [(2, seq(0, 2))]);
    assert_eq!(bumps(&h), 0);
}

#[test]
fn out_of_order_for_the_next_expected_batch_bumps_the_epoch_and_rewrites_its_sequence() {
    let mut h = three_in_flight();
    h.answer(0, Ok(0));
    // The leader expected sequence 1 and still says out of order: it lost it (a real gap).
    h.answer(1, Err(ErrorCode::OutOfOrderSequenceNumber));
    h.answer(2, Err(ErrorCode::OutOfOrderSequenceNumber));
    h.at(30);
    assert_eq!(bumps(&h), 1);
    // Under epoch 1 the unfinished batches are renumbered from 0, oldest first.
    assert_eq!(h.sent_since(3), [(1, seq(1, 0))]);
    h.answer(3, Ok(1));
    h.at(31);
    assert_eq!(h.sent_since(4), [(2, seq(1, 1))]);
}

#[test]
fn a_lost_connection_retries_every_batch_with_its_own_sequence() {
    let mut h = three_in_flight();
    h.step(|p, now, out| p.on_disconnect(now, BROKER, out));
    for ms in 20..200 {
        h.at(ms);
    }
    // Retries keep their sequence (a new one could duplicate a batch the leader has).
    assert_eq!(h.sent_since(3), [(0, seq(0, 0))], "one at a time while retrying");
    h.answer(3, Ok(0));
    h.at(200);
    h.answer(4, Ok(1));
    h.at(201);
    assert_eq!(h.sent_since(4), [(1, seq(0, 1)), (2, seq(0, 2))]);
    assert_eq!(bumps(&h), 0);
}

//! The producer: the application thread that calls `send()` at the workload's rate, the
//! accumulator, and the sender that turns batches into produce requests.

pub mod accumulator;
mod idempotence;
pub mod partitioner;
pub mod processor;
mod sender;
#[cfg(test)]
mod tests;
pub mod transactions;
mod txn_client;

use super::addr::Addresses;
use super::client::backoff::ExponentialBackoff;
use super::client::metadata::MetadataCache;
use super::client::network::NetworkClient;
use super::protocol::{ErrorCode, Message, ResponseBody};
use super::record::{RecordId, Tp, record_upper_bound_bytes};
use crate::scenario::units::RateCursor;
use crate::scenario::{ProducerConfig, Workload};
use crate::sim::{NodeId, Out, SimRng, SimTime};
use crate::trace::{Event, SendWait};
use accumulator::{Accumulator, AppendOutcome};
use idempotence::Idempotence;
use partitioner::{StickyPartitioner, murmur2, to_positive};
use std::collections::BTreeMap;
use transactions::TransactionManager;

/// What the application thread is blocked on inside `send()`.
#[derive(Clone, Copy, Debug)]
struct Blocked {
    on: SendWait,
    /// When the `send()` began to wait.
    since: SimTime,
    deadline: SimTime,
}

/// The keys a workload cycles through, with what partitioning needs.
struct Key {
    len: u32,
    /// `toPositive(murmur2(bytes))`, computed once: the partition is this modulo the count.
    positive_hash: u32,
    /// The partition for the partition count it was computed with: (count, partition).
    cached: (u32, u32),
}

impl Key {
    fn partition(&mut self, partitions: u32) -> u32 {
        if self.cached.0 != partitions {
            self.cached = (partitions, self.positive_hash % partitions);
        }
        self.cached.1
    }
}

/// One producer client.
pub struct Producer {
    index: u32,
    cfg: ProducerConfig,
    workload: Workload,
    keys: Vec<Key>,
    rng: SimRng,
    net: NetworkClient,
    metadata: MetadataCache,
    acc: Accumulator,
    sticky: StickyPartitioner,
    retry_backoff: ExponentialBackoff,
    /// Producer id, epoch and sequences when `enable.idempotence` is on.
    idempotence: Option<Idempotence>,
    next_seq: u32,
    blocked: Option<Blocked>,
    /// Produce requests waiting for a response: correlation id → batch ids.
    requests: BTreeMap<u32, Vec<u64>>,
    addr: Addresses,
    /// The sender sleeps until this time unless something wakes it (`Sender.wakeup`).
    sender_due: SimTime,
    /// Something happened that needs a sender pass now.
    sender_kick: bool,
    /// Send times of the workload, at record `next_seq`.
    schedule: RateCursor,
    /// Index of record `next_seq`'s key (keys are used in turn).
    key_cursor: usize,
    /// The transaction state when `transactional.id` is set.
    txn: Option<TransactionManager>,
    /// The application's transactions.
    app_txns: txn_client::AppTxns,
    /// The process died (`Crash(producer: ...)`): it handles nothing more.
    crashed: bool,
    /// Set for a processor's producer: what its consumer handed over.
    processor: Option<processor::Feed>,
}

/// How far a producer's application got, for a restarted instance to carry on from.
#[derive(Clone, Debug)]
pub struct Progress {
    next_seq: u32,
    key_cursor: usize,
    schedule: RateCursor,
    txns_begun: u32,
    next_batch_id: u64,
}

impl Producer {
    /// Producer number `index` of the scenario.
    pub fn new(
        index: u32,
        addr: Addresses,
        cfg: ProducerConfig,
        workload: Workload,
        txn_v2: bool,
        rng: SimRng,
    ) -> Producer {
        let keys = workload
            .keys
            .iter()
            .flatten()
            .map(|k| Key {
                len: k.len() as u32,
                positive_hash: to_positive(murmur2(k.as_bytes())),
                cached: (0, 0),
            })
            .collect();
        let schedule = RateCursor::new(workload.rate);
        let txn = cfg.transactional_id.clone().map(|id| {
            TransactionManager::new(id, cfg.transaction_timeout.as_ms(), txn_v2, cfg.net.retry_backoff)
        });
        Producer {
            index,
            net: NetworkClient::new(addr, &cfg.net),
            metadata: MetadataCache::new(addr, cfg.net.metadata_max_age, cfg.net.retry_backoff),
            acc: Accumulator::new(&cfg),
            sticky: StickyPartitioner::default(),
            retry_backoff: ExponentialBackoff::new(cfg.net.retry_backoff, cfg.net.retry_backoff_max),
            idempotence: cfg.idempotence.then(Idempotence::default),
            cfg,
            workload,
            keys,
            rng,
            next_seq: 0,
            blocked: None,
            requests: BTreeMap::new(),
            addr,
            sender_due: SimTime::ZERO,
            sender_kick: true,
            schedule,
            key_cursor: 0,
            txn,
            app_txns: txn_client::AppTxns::default(),
            crashed: false,
            processor: None,
        }
    }

    /// False once crashed: it receives nothing and never wakes.
    pub fn is_up(&self) -> bool {
        !self.crashed
    }

    /// The process dies: batches, requests and transaction state are gone.
    pub fn crash(&mut self) {
        self.crashed = true;
    }

    /// Where the application is in its workload.
    pub fn progress(&self) -> Progress {
        Progress {
            next_seq: self.next_seq,
            key_cursor: self.key_cursor,
            schedule: self.schedule,
            txns_begun: self.app_txns.begun,
            next_batch_id: self.acc.next_batch_id(),
        }
    }

    /// A restarted instance carries on where the crashed one's application was: records it
    /// handed to `send()` are not sent again, and its transactions (and, for the run's
    /// history, its batches) are numbered on.
    pub fn resume(&mut self, p: Progress) {
        self.next_seq = p.next_seq;
        self.key_cursor = p.key_cursor;
        self.schedule = p.schedule;
        self.app_txns.begun = p.txns_begun;
        self.acc.number_batches_from(p.next_batch_id);
    }

    /// Starts the application at the workload's start time.
    pub fn on_start(&mut self, now: SimTime, out: &mut Out<Message, Event>) {
        self.sender_kick = true;
        self.poll(now, out);
    }

    /// Timers: request and connection timeouts, the next send(), linger and backoff expiry.
    pub fn on_wake(&mut self, now: SimTime, out: &mut Out<Message, Event>) {
        // Connection and request deadlines are part of `sender_due`.
        if now >= self.sender_due {
            for (broker, abandoned) in self.net.poll_timeouts(now, &mut self.rng, out) {
                self.sender_kick = true;
                for f in abandoned {
                    self.abandon(broker, f.correlation, ErrorCode::RequestTimedOut, now, out);
                }
            }
        }
        self.poll(now, out);
    }

    /// A message from a broker.
    pub fn on_message(&mut self, now: SimTime, from: NodeId, msg: Message, out: &mut Out<Message, Event>) {
        let Some(broker) = self.addr.broker_of(from) else {
            return;
        };
        self.sender_kick = true;
        if matches!(msg, Message::ConnectRefused)
            && let Some(t) = self.txn.as_mut()
        {
            t.on_unreachable(broker);
        }
        let received = self
            .net
            .receive(broker, msg, now, &mut self.rng, &mut self.metadata, out);
        match received {
            Some((correlation, ResponseBody::Produce(results))) => {
                self.on_produce_response(correlation, results, now, out)
            }
            Some((correlation, ResponseBody::InitProducerId(result))) => {
                self.on_init_producer_id(broker, correlation, result, now, out)
            }
            Some((correlation, body @ (ResponseBody::Txn(_) | ResponseBody::Group(_)))) => {
                self.on_txn_answer(broker, correlation, body, now, out)
            }
            Some((_, ResponseBody::Metadata(md))) => {
                let changed = self.metadata.on_response(now, md);
                if changed {
                    self.trace_metadata(out);
                }
            }
            _ => {}
        }
        self.poll(now, out);
    }

    /// The connection to a broker broke: its in-flight requests fail as disconnects.
    pub fn on_disconnect(&mut self, now: SimTime, peer: NodeId, out: &mut Out<Message, Event>) {
        let Some(broker) = self.addr.broker_of(peer) else {
            return;
        };
        self.sender_kick = true;
        if let Some(t) = self.txn.as_mut() {
            t.on_unreachable(broker);
        }
        for f in self.net.on_disconnect(broker, now, &mut self.rng, out) {
            self.abandon(broker, f.correlation, ErrorCode::NetworkException, now, out);
        }
        self.poll(now, out);
    }

    fn trace_metadata(&self, out: &mut Out<Message, Event>) {
        let md = self.metadata.current();
        let topic = self.workload.topic as u32;
        let version = md.version;
        out.trace(|| Event::MetadataUpdated {
            version,
            leaders: (0..md.partition_count(topic))
                .map(|partition| {
                    let tp = Tp { topic, partition };
                    (tp, md.partition(tp).and_then(|p| p.leader))
                })
                .collect(),
        });
    }

    /// Everything that may happen at `now`: the application's sends, then a sender pass if
    /// something woke the sender (a response, a new or full batch, a due timer), as Kafka's
    /// sender thread sleeps between wake-ups.
    fn poll(&mut self, now: SimTime, out: &mut Out<Message, Event>) {
        self.run_application(now, out);
        if self.sender_kick || now >= self.sender_due {
            self.sender_kick = false;
            let application_wake = out.take_wake();
            self.run_sender(now, out);
            if let Some(t) = self.net.next_deadline() {
                out.wake_at(t);
            }
            if let Some(t) = self.acc.next_expiry() {
                out.wake_at(t);
            }
            self.sender_due = out.take_wake().unwrap_or(SimTime::NEVER);
            if let Some(t) = application_wake {
                out.wake_at(t);
            }
        }
        out.wake_at(self.sender_due);
    }

    /// The application thread: one `send()` after another at the workload's rate; a blocked
    /// `send()` holds back the ones after it.
    fn run_application(&mut self, now: SimTime, out: &mut Out<Message, Event>) {
        if self.processor.is_some() {
            self.run_processor(now, out);
            return;
        }
        loop {
            let limit = self.run_transactions(out).unwrap_or(self.workload.records);
            let before = self.next_seq;
            if !self.send_until(limit, now, out) || self.next_seq == before {
                return;
            }
        }
    }

    /// `send()` after `send()` up to record `limit`; false when it must wait (for the next
    /// send's time or a blocked `send()`).
    fn send_until(&mut self, limit: u64, now: SimTime, out: &mut Out<Message, Event>) -> bool {
        while (self.next_seq as u64) < limit {
            let due = self.next_due();
            if self.blocked.is_none() && due > now {
                out.wake_at(due);
                return false;
            }
            let record = RecordId {
                producer: self.index,
                seq: self.next_seq,
            };
            match self.try_send(record, None, now, out) {
                Ok(()) => {
                    self.blocked = None;
                    self.advance();
                }
                Err(on) => {
                    self.sender_kick = true;
                    let blocked = *self.blocked.get_or_insert_with(|| {
                        out.trace(|| Event::SendBlocked {
                            record,
                            waiting_for: on,
                        });
                        Blocked {
                            on,
                            since: now,
                            deadline: now + self.cfg.max_block,
                        }
                    });
                    if now < blocked.deadline {
                        out.wake_at(blocked.deadline);
                        return false;
                    }
                    out.emit(Event::SendFailed {
                        record,
                        error: ErrorCode::MaxBlockTimeout,
                    });
                    self.blocked = None;
                    self.advance();
                }
            }
        }
        true
    }

    /// Moves to the application's next `send()`, its key and when it is due.
    fn advance(&mut self) {
        self.next_seq += 1;
        self.key_cursor += 1;
        if self.key_cursor == self.keys.len() {
            self.key_cursor = 0;
        }
        self.schedule.advance();
    }

    /// When the application calls `send()` for record `next_seq`.
    fn next_due(&self) -> SimTime {
        SimTime::ZERO + self.workload.start + self.schedule.offset()
    }

    /// One `send()`: partition, size check, append. `Err` names what it must wait for.
    fn try_send(
        &mut self,
        record: RecordId,
        input: Option<RecordId>,
        now: SimTime,
        out: &mut Out<Message, Event>,
    ) -> Result<(), SendWait> {
        let topic = self.workload.topic as u32;
        let partitions = self.metadata.current().partition_count(topic);
        if partitions == 0 {
            self.metadata.request_update();
            return Err(SendWait::Metadata);
        }
        let key_index = (!self.keys.is_empty()).then_some(self.key_cursor);
        let key_len = key_index.map(|i| self.keys[i].len);
        let value = self.workload.value_bytes_of(u64::from(record.seq));
        let upper = record_upper_bound_bytes(key_len, value);
        if upper > self.cfg.max_request_size_bytes || u64::from(upper) > self.cfg.buffer_memory_bytes {
            out.emit(Event::SendFailed {
                record,
                error: ErrorCode::RecordTooLarge,
            });
            return Ok(());
        }
        let keyed = key_index.filter(|_| !self.cfg.partitioner_ignore_keys);
        let partition = match keyed {
            Some(i) => self.keys[i].partition(partitions),
            None => match self.sticky.current(partitions) {
                Some(p) => p,
                None => {
                    let md = self.metadata.current();
                    let available: Vec<u32> = (0..partitions)
                        .filter(|p| {
                            md.partition(Tp { topic, partition: *p })
                                .and_then(|s| s.leader)
                                .is_some()
                        })
                        .collect();
                    self.sticky.choose(&available, partitions, &mut self.rng)
                }
            },
        };
        let tp = Tp { topic, partition };
        // `KafkaProducer.doSend` stamps the record after waiting for metadata and before
        // waiting for buffer memory.
        let timestamp_ms = self
            .blocked
            .filter(|b| b.on == SendWait::BufferMemory)
            .map_or(now, |b| b.since)
            .as_ms();
        match self.acc.append(tp, record, key_len, value, now, timestamp_ms) {
            AppendOutcome::NeedMemory => Err(SendWait::BufferMemory),
            AppendOutcome::Appended {
                batch_id,
                appended_bytes,
                batch_full,
                new_batch,
            } => {
                self.sender_kick |= new_batch || batch_full;
                if let Some(t) = self.txn.as_mut() {
                    t.on_send(tp);
                }
                if keyed.is_none() {
                    // BuiltInPartitioner.updatePartitionInfo: switching is enabled only when the
                    // partition's last batch is full (RecordAccumulator.allBatchesFull).
                    let all_full = self.acc.last_batch_full(tp);
                    self.sticky
                        .on_append(appended_bytes, all_full, self.cfg.batch_size_bytes, partitions);
                }
                out.emit(Event::Send {
                    record,
                    tp,
                    key: key_index.map(|i| i as u32),
                    batch_id,
                    input,
                });
                Ok(())
            }
        }
    }
}

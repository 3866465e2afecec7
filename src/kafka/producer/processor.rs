//! A processor's producer: it writes one output per input record its consumer processed (same
//! key), and at the end of each polled batch either commits the input offsets in its
//! transaction (`sendOffsetsToTransaction`, then `commitTransaction`) or, without a
//! `transactional.id`, waits until every output is acknowledged (`flush()`) so that its consumer
//! may commit them (at-least-once).

use super::partitioner::{murmur2, to_positive};
use super::transactions::ClientState;
use super::{Key, Producer};
use crate::kafka::consumer::Handoff;
use crate::kafka::group::messages::MemberRef;
use crate::kafka::protocol::Message;
use crate::kafka::record::{RecordId, Tp};
use crate::sim::{Out, SimTime};
use crate::trace::{Event, TxnStep};
use std::collections::VecDeque;
use std::sync::Arc;

/// What a processor's producer tells its consumer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Signal {
    /// The batch is done: its output acknowledged (or its transaction committed) when `true`.
    BatchDone(bool),
    /// This instance was fenced by a newer one: the application stops.
    Fenced,
}

/// One item handed over by the consumer.
#[derive(Clone, Debug)]
enum Item {
    Output {
        input: RecordId,
        key: Option<Arc<str>>,
    },
    BatchEnd {
        member: Option<MemberRef>,
        offsets: Vec<(Tp, u64)>,
    },
}

/// The processor side of a producer.
#[derive(Clone, Debug, Default)]
pub struct Feed {
    items: VecDeque<Item>,
    /// Signals for the consumer, oldest first.
    signals: Vec<Signal>,
    /// Some output of the batch failed for good (at-least-once: the batch is not committed).
    batch_failed: bool,
    /// A transaction failed mid-batch: outputs are dropped until the batch end, which aborts.
    discarding: bool,
    /// The offsets of the batch end being committed in the transaction were sent.
    offsets_sent: bool,
}

impl Producer {
    /// Makes this producer a processor's: it sends only what its consumer hands over.
    pub fn become_processor(&mut self, offsets_topic: Option<u32>) {
        self.processor = Some(Feed::default());
        if let Some(t) = self.txn.as_mut() {
            t.set_offsets_topic(offsets_topic);
        }
    }

    /// The consumer processed records (each with its key) or ended a batch.
    pub fn hand_over(
        &mut self,
        handoffs: Vec<(Handoff, Option<Arc<str>>)>,
        now: SimTime,
        out: &mut Out<Message, Event>,
    ) {
        let Some(feed) = self.processor.as_mut() else {
            return;
        };
        for (h, key) in handoffs {
            feed.items.push_back(match h {
                Handoff::Record { record, .. } => Item::Output { input: record, key },
                Handoff::BatchEnd { member, offsets } => Item::BatchEnd { member, offsets },
            });
        }
        self.sender_kick = true;
        self.poll(now, out);
    }

    /// Signals for the consumer since the last call.
    pub fn take_signals(&mut self) -> Vec<Signal> {
        self.processor
            .as_mut()
            .map(|f| std::mem::take(&mut f.signals))
            .unwrap_or_default()
    }

    fn signal(&mut self, s: Signal) {
        if let Some(f) = self.processor.as_mut() {
            f.signals.push(s);
        }
    }

    /// A processor's output failed for good.
    pub(super) fn on_output_failed(&mut self) {
        if let Some(f) = self.processor.as_mut() {
            f.batch_failed = true;
        }
    }

    /// A processor's transaction ended (`commit`), or its producer was fenced.
    pub(super) fn on_processor_txn_end(&mut self, commit: bool) {
        if let Some(f) = self.processor.as_mut() {
            f.offsets_sent = false;
            f.discarding = false;
        }
        self.signal(Signal::BatchDone(commit));
    }

    /// This producer was fenced: its processor stops.
    pub(super) fn on_processor_fenced(&mut self) {
        if let Some(f) = self.processor.as_mut() {
            f.items.clear();
        }
        self.signal(Signal::Fenced);
    }

    /// The processor's application loop.
    pub(super) fn run_processor(&mut self, now: SimTime, out: &mut Out<Message, Event>) {
        if self
            .txn
            .as_ref()
            .is_some_and(|t| t.state() == ClientState::FatalError)
            && self.processor.as_ref().is_some_and(|f| !f.items.is_empty())
        {
            // A fenced producer writes nothing more: the application stops.
            self.on_processor_fenced();
            return;
        }
        loop {
            let Some(front) = self.processor.as_ref().and_then(|f| f.items.front().cloned()) else {
                return;
            };
            let progressed = match front {
                Item::Output { input, key } => self.write_output(input, key, now, out),
                Item::BatchEnd { member, offsets } => self.end_batch(member, offsets, out),
            };
            if !progressed {
                return;
            }
            if let Some(f) = self.processor.as_mut() {
                f.items.pop_front();
            }
        }
    }

    /// Begins a transaction if none is open; false while the producer cannot send in one.
    fn ensure_transaction(&mut self, out: &mut Out<Message, Event>) -> bool {
        let Some(t) = self.txn.as_mut() else {
            return true;
        };
        match t.state() {
            ClientState::InTransaction => true,
            ClientState::Uninitialized => {
                t.init();
                self.sender_kick = true;
                false
            }
            ClientState::Ready => {
                t.begin();
                self.app_txns.begun += 1;
                self.app_txns.first = self.next_seq;
                let (txn, first) = (self.app_txns.begun - 1, self.next_seq);
                self.txn_step(TxnStep::Begin { txn, first }, out);
                true
            }
            ClientState::AbortableError => {
                if let Some(f) = self.processor.as_mut() {
                    f.discarding = true;
                }
                false
            }
            _ => false,
        }
    }

    fn write_output(
        &mut self,
        input: RecordId,
        key: Option<Arc<str>>,
        now: SimTime,
        out: &mut Out<Message, Event>,
    ) -> bool {
        if self.processor.as_ref().is_some_and(|f| f.discarding) {
            return true;
        }
        if self
            .txn
            .as_ref()
            .is_some_and(|t| t.state() == ClientState::FatalError)
        {
            return false;
        }
        if !self.ensure_transaction(out) {
            // A failed transaction drops the rest of its batch.
            return self.processor.as_ref().is_some_and(|f| f.discarding);
        }
        self.keys = key
            .map(|k| Key {
                len: k.len() as u32,
                positive_hash: to_positive(murmur2(k.as_bytes())),
                cached: (0, 0),
            })
            .into_iter()
            .collect();
        self.key_cursor = 0;
        let record = RecordId {
            producer: self.index,
            seq: self.next_seq,
        };
        match self.try_send(record, Some(input), now, out) {
            Ok(()) => {
                self.next_seq += 1;
                true
            }
            Err(on) => {
                self.sender_kick = true;
                out.trace(|| Event::SendBlocked {
                    record,
                    waiting_for: on,
                });
                false
            }
        }
    }

    /// The end of a polled batch: commit the offsets in the transaction and commit it, or wait
    /// for every output's acknowledgement.
    fn end_batch(
        &mut self,
        member: Option<MemberRef>,
        offsets: Vec<(Tp, u64)>,
        out: &mut Out<Message, Event>,
    ) -> bool {
        let Some(t) = self.txn.as_mut() else {
            if self.acc.has_incomplete() {
                return false;
            }
            let ok = self
                .processor
                .as_mut()
                .map(|f| !std::mem::take(&mut f.batch_failed))
                .unwrap_or(false);
            self.signal(Signal::BatchDone(ok));
            return true;
        };
        let discarding = self.processor.as_ref().is_some_and(|f| f.discarding);
        let txn = self.app_txns.begun.saturating_sub(1);
        match t.state() {
            ClientState::AbortableError => {
                t.end(false);
                self.sender_kick = true;
                self.txn_step(TxnStep::Ending { txn, commit: false }, out);
                true
            }
            ClientState::InTransaction if discarding => {
                t.end(false);
                self.sender_kick = true;
                self.txn_step(TxnStep::Ending { txn, commit: false }, out);
                true
            }
            ClientState::InTransaction => {
                let sent = self.processor.as_ref().is_some_and(|f| f.offsets_sent);
                if !sent {
                    let offsets_tp = member.as_ref().and_then(|m| {
                        let topic = t.offsets_topic()?;
                        let partitions = self.metadata.current().partition_count(topic);
                        (partitions > 0).then(|| Tp {
                            topic,
                            partition: crate::kafka::group::messages::offsets_partition(&m.group, partitions),
                        })
                    });
                    if let (Some(m), Some(tp)) = (member, offsets_tp) {
                        t.send_offsets(m, offsets, tp);
                    }
                    if let Some(f) = self.processor.as_mut() {
                        f.offsets_sent = true;
                    }
                    self.sender_kick = true;
                }
                if !t.offsets_done() {
                    return false;
                }
                t.end(true);
                self.sender_kick = true;
                self.txn_step(TxnStep::Ending { txn, commit: true }, out);
                true
            }
            ClientState::FatalError => {
                self.signal(Signal::Fenced);
                true
            }
            _ => false,
        }
    }
}

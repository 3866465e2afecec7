//! Time series that only the charts need: every replica's log end offset, each partition's high
//! watermark and last stable offset, the produce requests, and (for small runs) every message on
//! the network.
//!
//! Recorded only when a run asks for charts ([`crate::simulation::RunOptions::charts`]), so runs
//! without `--out` pay nothing for it.

use super::{Client, PartitionView};
use crate::kafka::protocol::{BrokerId, Message};
use crate::kafka::record::Tp;
use crate::net::DropReason;
use crate::sim::{NodeId, SimTime};
use crate::trace::Event;
use std::collections::BTreeMap;

/// Messages kept for the sequence diagram; a run that sends more only counts them.
pub const MESSAGE_LIMIT: usize = 300;

/// One produce request as its producer sent it.
#[derive(Clone, Copy, Debug)]
pub struct ProduceSample {
    /// When it left the producer.
    pub at: SimTime,
    /// The producer (index in the scenario).
    pub producer: u32,
    /// The broker it went to.
    pub broker: BrokerId,
    /// Records in it.
    pub records: u64,
    /// Bytes of its batches.
    pub bytes: u64,
}

/// What became of a message.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Fate {
    /// Delivered (or still on its way when the run ended) at this time.
    Arrived(SimTime),
    /// Lost at this time: on the way out, or on arrival.
    Dropped {
        /// When.
        at: SimTime,
        /// Why, as the trace says it.
        why: &'static str,
    },
    /// Met a cut link at this time and waited for it to heal (its retransmission is a new
    /// message).
    Held(SimTime),
}

/// One message between two nodes.
#[derive(Clone, Debug)]
pub struct MessageRecord {
    /// When it was sent.
    pub sent: SimTime,
    /// Sender.
    pub from: NodeId,
    /// Receiver.
    pub to: NodeId,
    /// What it was (`Produce req 3`).
    pub label: String,
    /// True for requests, false for responses and everything else.
    pub request: bool,
    /// True for responses.
    pub response: bool,
    /// What became of it.
    pub fate: Fate,
}

/// The messages of a run, up to [`MESSAGE_LIMIT`], and how many there were in all.
#[derive(Clone, Debug, Default)]
pub struct MessageLog {
    /// The first messages, in send order.
    pub messages: Vec<MessageRecord>,
    /// Messages sent in the whole run.
    pub total: u64,
}

impl MessageLog {
    /// `msg` left `from` for `to` at `now`; `routed` is what the network decided.
    pub fn sent(
        &mut self,
        now: SimTime,
        from: NodeId,
        to: NodeId,
        msg: &Message,
        routed: Result<SimTime, DropReason>,
    ) {
        self.total += 1;
        if self.messages.len() > MESSAGE_LIMIT {
            return;
        }
        let fate = match routed {
            Ok(at) => Fate::Arrived(at),
            Err(DropReason::LinkDown) => Fate::Held(now),
            Err(reason) => Fate::Dropped {
                at: now,
                why: reason.as_str(),
            },
        };
        self.messages.push(MessageRecord {
            sent: now,
            from,
            to,
            label: msg.describe(),
            request: msg.is_request(),
            response: msg.is_response(),
            fate,
        });
    }

    /// A message from `from` to `to` was lost (`held`: kept for the link to heal) at `now`, at
    /// `at`: on arrival (`at == to`), or on release after a heal (`at == from`). A loss on the
    /// way out was recorded by [`MessageLog::sent`] already.
    pub fn lost(
        &mut self,
        now: SimTime,
        at: NodeId,
        from: NodeId,
        to: NodeId,
        why: &'static str,
        held: bool,
    ) {
        let new_fate = if held {
            Fate::Held(now)
        } else {
            Fate::Dropped { at: now, why }
        };
        let on_arrival = at == to;
        let on_release = at == from && !held && why == DropReason::Closed.as_str();
        if !on_arrival && !on_release {
            return;
        }
        // Connections are FIFO: the earliest matching message is the one that arrived.
        let found = self.messages.iter_mut().find(|m| {
            m.from == from
                && m.to == to
                && match m.fate {
                    Fate::Arrived(t) => on_arrival && t == now,
                    Fate::Held(_) => on_release,
                    Fate::Dropped { .. } => false,
                }
        });
        if let Some(m) = found {
            m.fate = new_fate;
        }
    }
}

/// The charts' time series. Each list is in time order.
#[derive(Clone, Debug, Default)]
pub struct Series {
    /// Each replica's log end offset over time, by (partition, broker).
    pub log_end: BTreeMap<(Tp, BrokerId), Vec<(SimTime, u64)>>,
    /// Each replica's high watermark over time, by (partition, broker): a leader's as it
    /// advances, a follower's as it learns it from fetch responses.
    pub high_watermark: BTreeMap<(Tp, BrokerId), Vec<(SimTime, u64)>>,
    /// Each replica's log start offset over time, by (partition, broker): retention,
    /// `DeleteRecords` and the leader's, learnt from fetch responses, move it up.
    pub log_start: BTreeMap<(Tp, BrokerId), Vec<(SimTime, u64)>>,
    /// Each replica's log size in bytes over time, by (partition, broker): appends grow it,
    /// truncation, retention and the log cleaner shrink it.
    pub log_bytes: BTreeMap<(Tp, BrokerId), Vec<(SimTime, u64)>>,
    /// Each partition's high watermark over time, as its leader (whichever it is) moves it:
    /// what `read_uncommitted` consumers read up to and what their lag counts to.
    pub partition_high_watermark: BTreeMap<Tp, Vec<(SimTime, u64)>>,
    /// Each partition's last stable offset over time, as its leader (whichever it is) moves it
    /// with its high watermark: what `read_committed` consumers read up to.
    pub last_stable_offset: BTreeMap<Tp, Vec<(SimTime, u64)>>,
    /// Every produce request.
    pub produce: Vec<ProduceSample>,
    /// Bytes and records of each batch as last sent, by (producer, batch id).
    pub batch_bytes: BTreeMap<(u32, u64), (u64, u64)>,
    /// The messages, for the sequence diagram.
    pub messages: MessageLog,
}

fn push_point(points: &mut Vec<(SimTime, u64)>, at: SimTime, value: u64) {
    if points.last().is_some_and(|(_, v)| *v == value) {
        return;
    }
    points.push((at, value));
}

impl Series {
    /// Takes in one event from `who`; `partitions` is the history's leader and ISR view.
    pub fn observe(
        &mut self,
        now: SimTime,
        event: &Event,
        who: Client,
        partitions: &BTreeMap<Tp, Vec<PartitionView>>,
    ) {
        let Client::Broker(broker) = who else {
            if let (Client::Producer(p), Event::ProduceSent { broker, batches, .. }) = (who, event) {
                self.produce_sent(now, p, *broker, batches);
            }
            return;
        };
        let leads = |tp: &Tp| {
            partitions
                .get(tp)
                .and_then(|v| v.last())
                .is_some_and(|v| v.leader == Some(broker))
        };
        match event {
            Event::Append {
                tp,
                base_offset,
                records,
                high_watermark,
                log_bytes,
                ..
            } => {
                let end = base_offset + records.len() as u64;
                push_point(self.log_end.entry((*tp, broker)).or_default(), now, end);
                push_point(self.log_bytes.entry((*tp, broker)).or_default(), now, *log_bytes);
                if leads(tp) {
                    let hw = self.high_watermark.entry((*tp, broker)).or_default();
                    push_point(hw, now, *high_watermark);
                    let hw = self.partition_high_watermark.entry(*tp).or_default();
                    push_point(hw, now, *high_watermark);
                }
            }
            Event::Replicated {
                tp,
                log_end,
                log_bytes,
                ..
            } => {
                push_point(self.log_end.entry((*tp, broker)).or_default(), now, *log_end);
                push_point(self.log_bytes.entry((*tp, broker)).or_default(), now, *log_bytes);
            }
            Event::Truncated {
                tp, to, log_bytes, ..
            } => {
                push_point(self.log_end.entry((*tp, broker)).or_default(), now, *to);
                push_point(self.log_bytes.entry((*tp, broker)).or_default(), now, *log_bytes);
            }
            Event::TruncatedFully { tp, to, .. } => {
                push_point(self.log_end.entry((*tp, broker)).or_default(), now, *to);
                push_point(self.log_start.entry((*tp, broker)).or_default(), now, *to);
                push_point(self.log_bytes.entry((*tp, broker)).or_default(), now, 0);
            }
            Event::SegmentsDeleted { tp, bytes, to, .. } => {
                push_point(self.log_start.entry((*tp, broker)).or_default(), now, *to);
                let sizes = self.log_bytes.entry((*tp, broker)).or_default();
                let size = sizes.last().map_or(0, |(_, b)| b.saturating_sub(*bytes));
                push_point(sizes, now, size);
            }
            Event::LogStartOffset { tp, to, .. }
            | Event::DeleteRecords {
                tp, result: Ok(to), ..
            } => {
                push_point(self.log_start.entry((*tp, broker)).or_default(), now, *to);
            }
            Event::Cleaned {
                tp,
                bytes: (_, after),
                ..
            } => {
                push_point(self.log_bytes.entry((*tp, broker)).or_default(), now, *after);
            }
            Event::HighWatermark {
                tp,
                high_watermark,
                last_stable_offset,
            } if leads(tp) => {
                let hw = self.high_watermark.entry((*tp, broker)).or_default();
                push_point(hw, now, *high_watermark);
                let hw = self.partition_high_watermark.entry(*tp).or_default();
                push_point(hw, now, *high_watermark);
                let lso = self.last_stable_offset.entry(*tp).or_default();
                push_point(lso, now, *last_stable_offset);
            }
            Event::FollowerHighWatermark { tp, high_watermark } => {
                let hw = self.high_watermark.entry((*tp, broker)).or_default();
                push_point(hw, now, *high_watermark);
            }
            _ => {}
        }
    }

    fn produce_sent(
        &mut self,
        now: SimTime,
        producer: u32,
        broker: BrokerId,
        batches: &[crate::trace::BatchInRequest],
    ) {
        let (mut records, mut bytes) = (0u64, 0u64);
        for b in batches {
            records += u64::from(b.records);
            bytes += u64::from(b.bytes);
            self.batch_bytes
                .insert((producer, b.batch_id), (u64::from(b.bytes), u64::from(b.records)));
        }
        self.produce.push(ProduceSample {
            at: now,
            producer,
            broker,
            records,
            bytes,
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn msg() -> Message {
        Message::ConnectOk
    }

    #[test]
    fn a_drop_on_arrival_marks_the_earliest_message_that_arrived_then() {
        let (a, b) = (NodeId(0), NodeId(1));
        let mut log = MessageLog::default();
        let t = SimTime::from_us(1000);
        log.sent(SimTime::ZERO, a, b, &msg(), Ok(t));
        log.sent(SimTime::ZERO, a, b, &msg(), Ok(t));
        log.lost(t, b, a, b, "node is down", false);
        assert_eq!(
            log.messages[0].fate,
            Fate::Dropped {
                at: t,
                why: "node is down"
            }
        );
        assert_eq!(log.messages[1].fate, Fate::Arrived(t));
        // A loss on the way out was recorded when it was sent: nothing else changes.
        log.lost(t, a, a, b, "DropRequests fault", false);
        assert_eq!(log.messages[1].fate, Fate::Arrived(t));
    }

    #[test]
    fn the_log_keeps_the_first_messages_and_counts_the_rest() {
        let mut log = MessageLog::default();
        for _ in 0..MESSAGE_LIMIT + 10 {
            log.sent(SimTime::ZERO, NodeId(0), NodeId(1), &msg(), Ok(SimTime::ZERO));
        }
        assert_eq!(log.messages.len(), MESSAGE_LIMIT + 1);
        assert_eq!(log.total, (MESSAGE_LIMIT + 10) as u64);
    }
}

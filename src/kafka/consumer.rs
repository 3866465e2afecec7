//! A consumer without a group: it is assigned every partition of its topics, finds its starting
//! positions with `ListOffsets` (`auto.offset.reset`), keeps one fetch in flight per leader, and
//! its application polls up to `max.poll.records` at a time.
//!
//! Followed: `KafkaConsumer`/`AsyncKafkaConsumer` with `assign()`, `AbstractFetch`,
//! `OffsetFetcher` and `SubscriptionState` (clients/src/main/java/org/apache/kafka/clients/
//! consumer/internals/), Kafka 4.0.

use super::addr::Addresses;
use super::client::metadata::MetadataCache;
use super::client::network::NetworkClient;
use super::protocol::{
    BrokerId, ErrorCode, FetchPartition, FetchPartitionResponse, FetchRequest, Message, OffsetSpec,
    RequestBody, ResponseBody,
};
use super::record::{RecordId, Tp};
use crate::scenario::ConsumerConfig;
use crate::scenario::config::OffsetReset;
use crate::sim::{NodeId, Out, SimRng, SimTime};
use crate::trace::Event;
use std::collections::{BTreeMap, VecDeque};

#[derive(Clone, Copy, Debug, Default)]
struct PartitionState {
    position: Option<u64>,
    listing: bool,
    retry_at: SimTime,
}

/// What an in-flight request to a broker is for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Pending {
    Fetch,
    ListOffsets,
}

/// One consumer client.
pub struct Consumer {
    cfg: ConsumerConfig,
    topics: Vec<u32>,
    start: SimTime,
    rng: SimRng,
    net: NetworkClient,
    metadata: MetadataCache,
    addr: Addresses,
    assigned: BTreeMap<Tp, PartitionState>,
    pending: BTreeMap<u32, (BrokerId, Pending)>,
    buffer: VecDeque<(Tp, u64, RecordId)>,
    polls: u32,
    failed: bool,
}

impl Consumer {
    /// A consumer of `topics` (scenario indexes) starting at `start`.
    pub fn new(
        addr: Addresses,
        cfg: ConsumerConfig,
        topics: Vec<u32>,
        start: SimTime,
        rng: SimRng,
    ) -> Consumer {
        Consumer {
            net: NetworkClient::new(addr, &cfg.net),
            metadata: MetadataCache::new(addr, cfg.net.metadata_max_age, cfg.net.retry_backoff),
            cfg,
            topics,
            start,
            rng,
            addr,
            assigned: BTreeMap::new(),
            pending: BTreeMap::new(),
            buffer: VecDeque::new(),
            polls: 0,
            failed: false,
        }
    }

    /// Current positions (next offset to return), for the summary.
    pub fn positions(&self) -> impl Iterator<Item = (Tp, Option<u64>)> + '_ {
        self.assigned.iter().map(|(tp, s)| (*tp, s.position))
    }

    /// Starts at the scenario's start time.
    pub fn on_start(&mut self, now: SimTime, out: &mut Out<Message, Event>) {
        self.poll(now, out);
    }

    /// Timers.
    pub fn on_wake(&mut self, now: SimTime, out: &mut Out<Message, Event>) {
        for (broker, abandoned) in self.net.poll_timeouts(now, &mut self.rng, out) {
            for f in abandoned {
                self.abandon(broker, f.correlation);
            }
        }
        self.poll(now, out);
    }

    /// A message from a broker.
    pub fn on_message(&mut self, now: SimTime, from: NodeId, msg: Message, out: &mut Out<Message, Event>) {
        let Some(broker) = self.addr.broker_of(from) else {
            return;
        };
        let received = self
            .net
            .receive(broker, msg, now, &mut self.rng, &mut self.metadata, out);
        match received {
            Some((_, ResponseBody::Metadata(md))) => {
                self.metadata.on_response(now, md);
            }
            Some((correlation, ResponseBody::ListOffsets(list))) => {
                self.pending.remove(&correlation);
                for (tp, result) in list {
                    self.on_offset(tp, result, now, out);
                }
            }
            Some((correlation, ResponseBody::Fetch(parts))) => {
                self.pending.remove(&correlation);
                for p in parts {
                    self.on_fetched(p, now, out);
                }
            }
            _ => {}
        }
        self.poll(now, out);
    }

    /// The connection to a broker broke.
    pub fn on_disconnect(&mut self, now: SimTime, peer: NodeId, out: &mut Out<Message, Event>) {
        let Some(broker) = self.addr.broker_of(peer) else {
            return;
        };
        for f in self.net.on_disconnect(broker, now, &mut self.rng, out) {
            self.abandon(broker, f.correlation);
        }
        self.poll(now, out);
    }

    fn abandon(&mut self, broker: BrokerId, correlation: u32) {
        self.metadata.request_update();
        if self.metadata.is_ours(broker, correlation) {
            self.metadata.on_failure(broker);
        }
        if let Some((_, Pending::ListOffsets)) = self.pending.remove(&correlation) {
            for s in self.assigned.values_mut() {
                s.listing = false;
            }
        }
    }

    fn on_offset(
        &mut self,
        tp: Tp,
        result: Result<u64, ErrorCode>,
        now: SimTime,
        out: &mut Out<Message, Event>,
    ) {
        let retry_at = now + self.cfg.net.retry_backoff;
        let Some(state) = self.assigned.get_mut(&tp) else {
            return;
        };
        state.listing = false;
        match result {
            Ok(offset) => {
                state.position = Some(offset);
                let policy = reset_name(self.cfg.auto_offset_reset);
                out.trace(|| Event::PositionReset { tp, offset, policy });
            }
            Err(error) => {
                state.retry_at = retry_at;
                out.trace(|| Event::ConsumerError { tp, error });
                self.metadata.request_update();
            }
        }
    }

    fn on_fetched(&mut self, p: FetchPartitionResponse, now: SimTime, out: &mut Out<Message, Event>) {
        let retry_at = now + self.cfg.net.retry_backoff;
        let Some(state) = self.assigned.get_mut(&p.tp) else {
            return;
        };
        if state.position != Some(p.fetch_offset) {
            return;
        }
        match p.result {
            Ok(batches) => {
                let mut position = p.fetch_offset;
                for b in &batches {
                    for (i, r) in b.records.iter().enumerate() {
                        let offset = b.base_offset + i as u64;
                        if offset >= position {
                            self.buffer.push_back((p.tp, offset, *r));
                            position = offset + 1;
                        }
                    }
                }
                state.position = Some(position);
            }
            Err(error) => {
                out.trace(|| Event::ConsumerError { tp: p.tp, error });
                state.retry_at = retry_at;
                if error == ErrorCode::OffsetOutOfRange {
                    state.position = None;
                } else {
                    self.metadata.request_update();
                }
            }
        }
    }

    fn poll(&mut self, now: SimTime, out: &mut Out<Message, Event>) {
        if self.failed {
            return;
        }
        if now < self.start {
            out.wake_at(self.start);
            return;
        }
        self.assign_from_metadata();
        self.list_offsets(now, out);
        self.fetch(now, out);
        // After the fetches: a partition without a leader has just asked for an update.
        self.metadata.poll(now, &mut self.net, out);
        self.deliver(out);
        if let Some(t) = self.net.next_deadline() {
            out.wake_at(t);
        }
        if let Some(t) = self
            .assigned
            .values()
            .map(|s| s.retry_at)
            .filter(|t| *t > now)
            .min()
        {
            out.wake_at(t);
        }
    }

    /// `assign()` every partition of the topics, as metadata shows them.
    fn assign_from_metadata(&mut self) {
        let md = self.metadata.current();
        for &topic in &self.topics {
            for partition in 0..md.partition_count(topic) {
                self.assigned.entry(Tp { topic, partition }).or_default();
            }
        }
    }

    fn leader(&self, tp: Tp) -> Option<BrokerId> {
        self.metadata.current().partition(tp).and_then(|p| p.leader)
    }

    /// Broker to partitions, for partitions that pass `want`. A partition without a known
    /// leader asks for fresh metadata (`AbstractFetch.prepareFetchRequests`).
    fn by_leader(
        &mut self,
        now: SimTime,
        want: impl Fn(&PartitionState) -> bool,
    ) -> BTreeMap<BrokerId, Vec<Tp>> {
        let mut groups: BTreeMap<BrokerId, Vec<Tp>> = BTreeMap::new();
        let mut leaderless = false;
        for (tp, s) in &self.assigned {
            if now >= s.retry_at && want(s) {
                match self.leader(*tp) {
                    Some(b) => groups.entry(b).or_default().push(*tp),
                    None => leaderless = true,
                }
            }
        }
        if leaderless {
            self.metadata.request_update();
        }
        groups
    }

    fn list_offsets(&mut self, now: SimTime, out: &mut Out<Message, Event>) {
        let spec = match self.cfg.auto_offset_reset {
            OffsetReset::Earliest => OffsetSpec::Earliest,
            OffsetReset::Latest => OffsetSpec::Latest,
            OffsetReset::None => {
                if let Some((tp, _)) = self.assigned.iter().find(|(_, s)| s.position.is_none()) {
                    let tp = *tp;
                    out.trace(|| Event::ConsumerError {
                        tp,
                        error: ErrorCode::NoOffsetForPartition,
                    });
                    self.failed = true;
                }
                return;
            }
        };
        for (broker, tps) in self.by_leader(now, |s| s.position.is_none() && !s.listing) {
            if !self.net.is_ready(broker, usize::MAX) {
                self.net.ensure_connecting(broker, now, out);
                continue;
            }
            let body = RequestBody::ListOffsets(tps.iter().map(|tp| (*tp, spec)).collect());
            let correlation = self.net.send(broker, body, true, now, out);
            self.pending.insert(correlation, (broker, Pending::ListOffsets));
            for tp in tps {
                if let Some(s) = self.assigned.get_mut(&tp) {
                    s.listing = true;
                }
            }
        }
    }

    fn fetch(&mut self, now: SimTime, out: &mut Out<Message, Event>) {
        for (broker, tps) in self.by_leader(now, |s| s.position.is_some()) {
            if self.pending.values().any(|p| *p == (broker, Pending::Fetch)) {
                continue;
            }
            if !self.net.is_ready(broker, usize::MAX) {
                self.net.ensure_connecting(broker, now, out);
                continue;
            }
            let partitions = tps
                .iter()
                .filter_map(|tp| {
                    let offset = self.assigned.get(tp)?.position?;
                    Some(FetchPartition { tp: *tp, offset })
                })
                .collect();
            let request = FetchRequest {
                partitions,
                min_bytes: self.cfg.fetch_min_bytes,
                max_wait_ms: self.cfg.fetch_max_wait.as_ms(),
                max_partition_bytes: self.cfg.max_partition_fetch_bytes,
                max_bytes: self.cfg.fetch_max_bytes,
            };
            let correlation = self.net.send(broker, RequestBody::Fetch(request), true, now, out);
            self.pending.insert(correlation, (broker, Pending::Fetch));
        }
    }

    /// The application polls until the buffer is empty, `max.poll.records` at a time.
    fn deliver(&mut self, out: &mut Out<Message, Event>) {
        while !self.buffer.is_empty() {
            self.polls += 1;
            let n = self.buffer.len().min(self.cfg.max_poll_records as usize);
            let mut chunk: Vec<(Tp, u64, RecordId)> = self.buffer.drain(..n).collect();
            while !chunk.is_empty() {
                let tp = chunk[0].0;
                let split = chunk.iter().position(|r| r.0 != tp).unwrap_or(chunk.len());
                let rest = chunk.split_off(split);
                out.emit(Event::Consumed {
                    tp,
                    records: chunk.iter().map(|r| (r.1, r.2)).collect(),
                    poll: self.polls,
                });
                chunk = rest;
            }
        }
    }
}

fn reset_name(r: OffsetReset) -> &'static str {
    match r {
        OffsetReset::Earliest => "earliest",
        OffsetReset::Latest => "latest",
        OffsetReset::None => "none",
    }
}

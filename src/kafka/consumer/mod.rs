//! A consumer: without a group it is assigned every partition of its topics; with one, its
//! group's coordinator and assignor decide (`membership`). It finds starting positions from
//! the group's committed offsets or with `ListOffsets` (`auto.offset.reset`), keeps one fetch in
//! flight per leader and none to a leader whose fetched records still wait for `poll()`
//! (`buffer`), and its application polls up to `max.poll.records` at a time, spends
//! `processing` per record, and commits as the scenario says (`app`).
//!
//! Followed: `KafkaConsumer`/`ClassicKafkaConsumer`, `AbstractFetch`, `OffsetFetcher`,
//! `SubscriptionState` and `ConsumerCoordinator` (clients/src/main/java/org/apache/kafka/
//! clients/consumer/internals/), Kafka 4.0.

mod app;
mod buffer;
mod membership;
#[cfg(test)]
mod tests;

use super::addr::Addresses;
use super::client::metadata::MetadataCache;
use super::client::network::NetworkClient;
use super::group::messages::{GroupRequest, GroupResponse, OffsetCommitRequest};
use super::protocol::{
    BrokerId, ErrorCode, FetchPartition, FetchPartitionResponse, FetchRequest, Message, OffsetSpec,
    RequestBody, ResponseBody,
};
use super::record::{RecordId, Tp};
use crate::scenario::config::{IsolationLevel, OffsetReset};
use crate::scenario::{CommitMode, ConsumerConfig, Seek};
use crate::sim::{NodeId, Out, SimDuration, SimRng, SimTime};
use crate::trace::Event;
use std::collections::BTreeMap;
use std::sync::Arc;

#[derive(Clone, Copy, Debug, Default)]
struct PartitionState {
    /// The next offset to fetch.
    position: Option<u64>,
    listing: bool,
    retry_at: SimTime,
    /// A group member asks the coordinator for the committed offset first.
    needs_committed: bool,
    /// A `seekToBeginning`/`seekToEnd`/`offsetsForTimes` waiting for its `ListOffsets` answer
    /// (instead of `auto.offset.reset`).
    seeking: Option<Seek>,
    /// The time of a `Time` seek that found no record that recent: the application seeks to
    /// the end instead.
    no_record_since: Option<SimDuration>,
}

/// What an in-flight request to a broker is for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Pending {
    Fetch,
    ListOffsets,
    OffsetFetch,
    /// An offset commit; `true` when the application waits for it (`commitSync`).
    Commit(bool),
}

/// What a consumer is, besides its Kafka configs.
#[derive(Clone, Debug)]
pub struct ConsumerSetup {
    /// Client id.
    pub client_id: String,
    /// Subscribed topic indexes.
    pub topics: Vec<u32>,
    /// Every topic's name, by index.
    pub topic_names: Arc<[String]>,
    /// When it starts.
    pub start: SimTime,
    /// `group.id`.
    pub group: Option<String>,
    /// Processing time per record.
    pub processing: SimDuration,
    /// When the application commits.
    pub commit: CommitMode,
    /// For a processor's consumer: whether its producer is transactional.
    pub processor: Option<bool>,
    /// Where the application seeks once it has its first assignment.
    pub seek: Option<Seek>,
}

/// One consumer client.
pub struct Consumer {
    cfg: ConsumerConfig,
    topics: Vec<u32>,
    topic_names: Arc<[String]>,
    start: SimTime,
    rng: SimRng,
    net: NetworkClient,
    metadata: MetadataCache,
    addr: Addresses,
    assigned: BTreeMap<Tp, PartitionState>,
    pending: BTreeMap<u32, (BrokerId, Pending)>,
    buffer: buffer::FetchBuffer,
    polls: u32,
    failed: bool,
    /// Group membership, for a consumer with a group.
    group: Option<membership::Membership>,
    app: app::App,
    crashed: bool,
    /// `close()` waits for its commit's answer before it leaves the group.
    leave_after_commit: bool,
    /// The seek the application makes after its first assignment, until it is made.
    seek: Option<Seek>,
}

impl Consumer {
    /// A consumer as `setup` describes it.
    pub fn new(addr: Addresses, cfg: ConsumerConfig, setup: ConsumerSetup, rng: SimRng) -> Consumer {
        let group = setup.group.as_ref().map(|g| {
            membership::Membership::new(membership::GroupSettings {
                group: Arc::from(g.as_str()),
                client_id: Arc::from(setup.client_id.as_str()),
                instance_id: cfg.group_instance_id.as_deref().map(Arc::from),
                strategies: cfg.strategies.clone(),
                session_timeout: cfg.session_timeout,
                heartbeat_interval: cfg.heartbeat_interval,
                max_poll_interval: cfg.max_poll_interval,
                retry_backoff: cfg.net.retry_backoff,
                topic_names: Arc::clone(&setup.topic_names),
                topics: setup.topics.clone(),
            })
        });
        let app = app::App::new(&cfg, &setup);
        Consumer {
            net: NetworkClient::new(addr, &cfg.net),
            metadata: MetadataCache::new(addr, cfg.net.metadata_max_age, cfg.net.retry_backoff),
            cfg,
            topics: setup.topics,
            topic_names: Arc::clone(&setup.topic_names),
            start: setup.start,
            rng,
            addr,
            assigned: BTreeMap::new(),
            pending: BTreeMap::new(),
            buffer: buffer::FetchBuffer::default(),
            polls: 0,
            failed: false,
            group,
            app,
            crashed: false,
            leave_after_commit: false,
            seek: setup.seek,
        }
    }

    /// `close()`: commits (auto-commit) and waits for the answer, as
    /// `ConsumerCoordinator.close` does with `maybeAutoCommitOffsetsSync`, then leaves the group.
    pub fn close(&mut self, now: SimTime, out: &mut Out<Message, Event>) {
        if self.app.closed {
            return;
        }
        self.app.closed = true;
        if self.cfg.enable_auto_commit && self.commit(now, true, out) {
            self.leave_after_commit = true;
        } else {
            self.leave(now, out);
        }
    }

    /// The last step of `close()`: revoke every owned partition, then `LeaveGroup`
    /// (`ConsumerCoordinator.close`: `maybeAutoCommitOffsetsSync`, then `AbstractCoordinator.
    /// close`: `onLeavePrepare`, `maybeLeaveGroup`).
    fn leave(&mut self, now: SimTime, out: &mut Out<Message, Event>) {
        self.leave_after_commit = false;
        let Some(g) = self.group.as_mut() else { return };
        let changes = g.prepare_leave();
        self.apply(changes, now, out);
        if let Some(g) = self.group.as_mut() {
            g.close(now, &mut self.net, out);
        }
    }

    /// False once crashed: it receives nothing and never wakes.
    pub fn is_up(&self) -> bool {
        !self.crashed
    }

    /// The process dies: no commit, no `LeaveGroup`.
    pub fn crash(&mut self) {
        self.crashed = true;
    }

    /// A processor's processed records and batch ends since the last call, for its producer;
    /// a batch end carries the offsets to commit and the group membership
    /// (`consumer.groupMetadata()`).
    pub fn take_outbox(&mut self) -> Vec<Handoff> {
        let member = self.group.as_ref().map(|g| g.member_ref());
        let offsets: Vec<(Tp, u64)> = self
            .app
            .consumed()
            .filter(|(tp, _)| self.assigned.contains_key(tp))
            .collect();
        std::mem::take(&mut self.app.outbox)
            .into_iter()
            .map(|o| match o {
                app::ToOutput::Record(tp, offset, record) => Handoff::Record { tp, offset, record },
                app::ToOutput::BatchEnd => Handoff::BatchEnd {
                    member: member.clone(),
                    offsets: offsets.clone(),
                },
            })
            .collect()
    }

    /// A processor's producer finished the batch (`ok`: output acknowledged, or transaction
    /// committed). After a failure the consumer goes back to the group's committed offsets,
    /// as a Kafka Streams task does after an aborted transaction.
    pub fn output_done(&mut self, ok: bool, now: SimTime, out: &mut Out<Message, Event>) {
        self.app.on_output_done(ok);
        if !ok {
            let tps: Vec<Tp> = self.assigned.keys().copied().collect();
            for tp in tps {
                self.app.forget(tp);
                if let Some(s) = self.assigned.get_mut(&tp) {
                    s.position = None;
                    s.needs_committed = true;
                }
            }
            self.buffer.clear();
        }
        self.poll(now, out);
    }

    /// Starts now (a `ConsumerJoin` fault) if it was waiting.
    pub fn start_now(&mut self, now: SimTime, out: &mut Out<Message, Event>) {
        if self.start > now {
            self.app.start(now);
        }
        self.start = self.start.min(now);
        self.poll(now, out);
    }

    /// Current positions (the offset of the next record `poll()` will return), for the summary.
    pub fn positions(&self) -> impl Iterator<Item = (Tp, Option<u64>)> + '_ {
        self.assigned
            .iter()
            .map(|(tp, s)| (*tp, self.app.position(*tp).or(s.position)))
    }

    /// Starts at the scenario's start time.
    pub fn on_start(&mut self, now: SimTime, out: &mut Out<Message, Event>) {
        self.poll(now, out);
    }

    /// Timers.
    pub fn on_wake(&mut self, now: SimTime, out: &mut Out<Message, Event>) {
        for (broker, abandoned) in self.net.poll_timeouts(now, &mut self.rng, out) {
            for f in abandoned {
                self.abandon(broker, f.correlation, now);
            }
        }
        self.poll(now, out);
    }

    /// A message from a broker.
    pub fn on_message(&mut self, now: SimTime, from: NodeId, msg: Message, out: &mut Out<Message, Event>) {
        let Some(broker) = self.addr.broker_of(from) else {
            return;
        };
        if matches!(msg, Message::ConnectRefused)
            && let Some(g) = self.group.as_mut()
        {
            // The coordinator's host answers with a reset: its process is down.
            g.on_disconnect(broker, now);
        }
        let received = self
            .net
            .receive(broker, msg, now, &mut self.rng, &mut self.metadata, out);
        match received {
            Some((_, ResponseBody::Metadata(md))) => {
                self.metadata.on_response(now, md);
            }
            Some((correlation, ResponseBody::Group(resp))) => {
                self.on_group_response(now, broker, correlation, resp, out)
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
            self.abandon(broker, f.correlation, now);
        }
        if let Some(g) = self.group.as_mut() {
            g.on_disconnect(broker, now);
        }
        self.poll(now, out);
    }

    fn abandon(&mut self, broker: BrokerId, correlation: u32, now: SimTime) {
        self.metadata.request_update();
        if self.metadata.is_ours(broker, correlation) {
            self.metadata.on_failure(broker);
        }
        if let Some(g) = self.group.as_mut() {
            g.on_lost(broker, correlation, now);
        }
        match self.pending.remove(&correlation) {
            Some((_, Pending::ListOffsets | Pending::OffsetFetch)) => {
                for s in self.assigned.values_mut() {
                    s.listing = false;
                }
            }
            Some((_, Pending::Commit(sync))) => self.app.on_commit_done(sync, now),
            _ => {}
        }
    }

    fn on_offset(
        &mut self,
        tp: Tp,
        result: Result<Option<u64>, ErrorCode>,
        now: SimTime,
        out: &mut Out<Message, Event>,
    ) {
        let retry_at = now + self.cfg.net.retry_backoff;
        let Some(state) = self.assigned.get_mut(&tp) else {
            return;
        };
        state.listing = false;
        match result {
            // Only a timestamp lookup finds nothing: `offsetsForTimes` gives the application
            // `null` for the partition, and it seeks to the end instead, as
            // `ConsumerGroupCommand.getLogTimestampOffsets` falls back to the log end offsets
            // for `--to-datetime` (kafka-tools 4.0.1).
            Ok(None) => {
                if let Some(Seek::Time(since)) = state.seeking {
                    state.seeking = Some(Seek::End);
                    state.no_record_since = Some(since);
                }
            }
            Ok(Some(offset)) => {
                state.position = Some(offset);
                self.app.start_at(tp, offset);
                match state.seeking.take() {
                    Some(seek) => out.emit(Event::Sought {
                        tp,
                        offset,
                        seek,
                        no_record_since: state.no_record_since.take(),
                    }),
                    None => {
                        let policy = reset_name(self.cfg.auto_offset_reset);
                        out.emit(Event::PositionReset { tp, offset, policy });
                    }
                }
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
                let read_committed = self.cfg.isolation == IsolationLevel::ReadCommitted;
                let mut filter = AbortedFilter::new(p.aborted);
                let mut position = p.fetch_offset;
                let mut records = Vec::new();
                for b in &batches {
                    let next = b.next_offset();
                    if next <= position {
                        continue;
                    }
                    let skip = match b.marker {
                        // Control records are never returned (`CompletedFetch.nextFetchedRecord`).
                        Some(m) => {
                            if read_committed {
                                filter.on_marker(next - 1, m);
                            }
                            Some(Some(m.commit))
                        }
                        None if read_committed && filter.drops(b.producer_id, next - 1) => Some(None),
                        None => None,
                    };
                    if let Some(marker) = skip {
                        let (tp, offset, count) = (
                            p.tp,
                            position.max(b.base_offset),
                            (next - position.max(b.base_offset)) as u32,
                        );
                        out.trace(|| Event::Skipped {
                            tp,
                            offset,
                            count,
                            marker,
                        });
                        position = next;
                        continue;
                    }
                    records.extend(b.entries().filter(|(offset, _)| *offset >= position));
                    // Past the whole batch, also past the records a log cleaner removed from
                    // its end (`CompletedFetch`: the next fetch offset is the batch's next offset).
                    position = next;
                }
                self.buffer.add(p.tp, records);
                let moved = state.position.is_some_and(|before| position > before);
                state.position = Some(position);
                // `FetchCollector`: the position moves past markers and aborted batches even when
                // no record is returned; with nothing of the partition waiting to be polled, the
                // application's position (what a commit sends) moves with it.
                if moved && !self.buffer.has_records(p.tp) {
                    self.app.start_at(p.tp, position);
                }
            }
            Err(error) => {
                out.trace(|| Event::ConsumerError { tp: p.tp, error });
                state.retry_at = retry_at;
                if error != ErrorCode::OffsetOutOfRange {
                    self.metadata.request_update();
                } else if self.cfg.auto_offset_reset == OffsetReset::None {
                    // `FetchCollector.handleInitializeErrors`: without a reset policy the error
                    // goes to the application, whose `poll()` throws (kafka-clients 4.0.1).
                    let message = format!(
                        "Fetch position FetchPosition{{offset={}}} is out of range for partition {}",
                        p.fetch_offset,
                        self.partition_name(p.tp)
                    );
                    self.fail("OffsetOutOfRangeException", message, out);
                } else {
                    // `SubscriptionState.requestOffsetResetIfPartitionAssigned`: reset by
                    // `auto.offset.reset` with `ListOffsets`.
                    state.position = None;
                }
            }
        }
    }

    fn poll(&mut self, now: SimTime, out: &mut Out<Message, Event>) {
        if self.leave_after_commit
            && !self
                .pending
                .values()
                .any(|(_, p)| matches!(p, Pending::Commit(_)))
        {
            self.leave(now, out);
        }
        if self.failed || self.app.closed {
            return;
        }
        if now < self.start {
            out.wake_at(self.start);
            return;
        }
        if let Some(g) = self.group.as_mut() {
            if self.app.poll_overdue(now, self.cfg.max_poll_interval) {
                g.poll_timeout(now, &mut self.net, out);
            }
            let idle = self.app.idle();
            self.group_step(now, idle, out);
            // A step due now that could not go out waits for a connection or a response.
            if let Some(t) = self
                .group
                .as_ref()
                .and_then(|g| g.next_action())
                .filter(|t| *t > now)
            {
                out.wake_at(t);
            }
            self.fetch_committed(now, out);
        } else {
            self.assign_from_metadata(out);
        }
        self.list_offsets(now, out);
        // `poll()` returns buffered records first, then sends the next fetches
        // (`ClassicKafkaConsumer.poll`: `pollForFetches`, then `sendFetches`).
        self.run_app(now, out);
        self.fetch(now, out);
        // After the fetches: a partition without a leader has just asked for an update.
        self.metadata.poll(now, &mut self.net, out);
        if let Some(t) = self.app.next_wake().filter(|t| *t > now) {
            out.wake_at(t);
        }
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

    /// `assign()` every partition of the topics, as metadata shows them; the first ones get
    /// the application's seek.
    fn assign_from_metadata(&mut self, out: &mut Out<Message, Event>) {
        let md = self.metadata.current();
        let mut new = Vec::new();
        for &topic in &self.topics {
            for partition in 0..md.partition_count(topic) {
                let tp = Tp { topic, partition };
                if let std::collections::btree_map::Entry::Vacant(e) = self.assigned.entry(tp) {
                    e.insert(PartitionState::default());
                    new.push(tp);
                }
            }
        }
        self.apply_seek(&new, out);
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

    /// `ListOffsets` for partitions without a position: a pending `seekToBeginning`/`seekToEnd`
    /// or `offsetsForTimes` (by timestamp, at the consumer's isolation level, as
    /// `OffsetFetcher.offsetsForTimes` asks), or `auto.offset.reset`. With `none` and no seek, `poll()` throws
    /// `NoOffsetForPartitionException` for every such partition
    /// (`SubscriptionState.resetInitializingPositions`) and the application stops.
    fn list_offsets(&mut self, now: SimTime, out: &mut Out<Message, Event>) {
        let latest = if self.cfg.isolation == IsolationLevel::ReadCommitted {
            OffsetSpec::LatestStable
        } else {
            OffsetSpec::Latest
        };
        let policy = match self.cfg.auto_offset_reset {
            OffsetReset::Earliest => Some(OffsetSpec::Earliest),
            OffsetReset::Latest => Some(latest),
            OffsetReset::None => None,
        };
        let read_committed = self.cfg.isolation == IsolationLevel::ReadCommitted;
        let spec_of = |s: &PartitionState| match s.seeking {
            Some(Seek::Beginning) => Some(OffsetSpec::Earliest),
            Some(Seek::End) => Some(latest),
            Some(Seek::Time(since)) => Some(OffsetSpec::Timestamp {
                ms: since.as_ms(),
                read_committed,
            }),
            Some(Seek::Offset(_)) | None => policy,
        };
        let undefined: Vec<Tp> = self
            .assigned
            .iter()
            .filter(|(_, s)| s.position.is_none() && !s.needs_committed && spec_of(s).is_none())
            .map(|(tp, _)| *tp)
            .collect();
        if !undefined.is_empty() {
            for &tp in &undefined {
                out.trace(|| Event::ConsumerError {
                    tp,
                    error: ErrorCode::NoOffsetForPartition,
                });
            }
            let names: Vec<String> = undefined.iter().map(|tp| self.partition_name(*tp)).collect();
            let message = match names.as_slice() {
                [one] => format!("Undefined offset with no reset policy for partition: {one}"),
                _ => format!(
                    "Undefined offset with no reset policy for partitions: [{}]",
                    names.join(", ")
                ),
            };
            self.fail("NoOffsetForPartitionException", message, out);
            return;
        }
        let wanted = self.by_leader(now, |s| s.position.is_none() && !s.listing && !s.needs_committed);
        for (broker, tps) in wanted {
            if !self.net.is_ready(broker, usize::MAX) {
                self.net.ensure_connecting(broker, now, out);
                continue;
            }
            let list = tps
                .iter()
                .filter_map(|tp| Some((*tp, spec_of(self.assigned.get(tp)?)?)))
                .collect();
            let body = RequestBody::ListOffsets(list);
            let correlation = self.net.send(broker, body, true, now, out);
            self.pending.insert(correlation, (broker, Pending::ListOffsets));
            for tp in tps {
                if let Some(s) = self.assigned.get_mut(&tp) {
                    s.listing = true;
                }
            }
        }
    }

    /// `poll()` threw: the application's thread ends with the exception, without `close()` (no
    /// last commit, no `LeaveGroup`: the group notices at the session timeout), as an
    /// application that does not catch it.
    fn fail(&mut self, exception: &'static str, message: String, out: &mut Out<Message, Event>) {
        self.failed = true;
        self.buffer.clear();
        out.emit(Event::ConsumerFailed { exception, message });
    }

    /// `orders-0`, as Kafka's `TopicPartition.toString`.
    fn partition_name(&self, tp: Tp) -> String {
        format!("{}-{}", self.topic_names[tp.topic as usize], tp.partition)
    }

    /// The application's seek, once it has partitions: `seekToBeginning`/`seekToEnd` and
    /// `offsetsForTimes` ask `ListOffsets`; `seek(offset)` sets the position.
    fn apply_seek(&mut self, tps: &[Tp], out: &mut Out<Message, Event>) {
        if tps.is_empty() {
            return;
        }
        let Some(seek) = self.seek.take() else { return };
        for tp in tps {
            let Some(s) = self.assigned.get_mut(tp) else {
                continue;
            };
            s.needs_committed = false;
            match seek {
                Seek::Offset(offset) => {
                    s.position = Some(offset);
                    s.seeking = None;
                    self.app.start_at(*tp, offset);
                    out.emit(Event::Sought {
                        tp: *tp,
                        offset,
                        seek,
                        no_record_since: None,
                    });
                }
                Seek::Beginning | Seek::End | Seek::Time(_) => {
                    s.position = None;
                    s.seeking = Some(seek);
                }
            }
        }
    }

    /// Fetch requests, one per leader (`AbstractFetch.prepareFetchRequests`, kafka-clients
    /// 4.0.1): none to a leader with a fetch in flight, and none to a leader of a partition
    /// with buffered data. A partition `poll()` has not drained is not fetched again
    /// (`fetchablePartitions`), and the other partitions of its leader wait with it, so that the
    /// broker's fetch session keeps it (`bufferedNodes`). A consumer slow to process keeps its
    /// fetch position within one fetch of what `poll()` returned.
    fn fetch(&mut self, now: SimTime, out: &mut Out<Message, Event>) {
        for (broker, tps) in self.by_leader(now, |s| s.position.is_some()) {
            if self.pending.values().any(|p| *p == (broker, Pending::Fetch)) {
                continue;
            }
            if tps.iter().any(|tp| self.buffer.is_buffered(*tp)) {
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
                read_committed: self.cfg.isolation == IsolationLevel::ReadCommitted,
            };
            let correlation = self.net.send(broker, RequestBody::Fetch(request), true, now, out);
            self.pending.insert(correlation, (broker, Pending::Fetch));
        }
    }

    /// Applies membership changes: revoked partitions stop (their buffered records are dropped),
    /// assigned ones start from the group's committed offsets.
    fn apply(&mut self, changes: Vec<membership::Change>, now: SimTime, out: &mut Out<Message, Event>) {
        for c in changes {
            let (assigned, revoked) = match c {
                membership::Change::Joined => {
                    self.app.joined(now);
                    continue;
                }
                membership::Change::Prepare => {
                    // `onJoinPrepare`: with auto-commit, the positions are committed before
                    // the JoinGroup (which the coordinator handles after the commit). Only EAGER
                    // marks the partitions pending revocation then
                    // (`ConsumerCoordinator.maybeMarkPartitionsPendingRevocation`, kafka-clients
                    // 4.0.1); COOPERATIVE ones keep being polled, and what is polled after this
                    // commit from a partition revoked at the SyncGroup is never committed.
                    if self.cfg.enable_auto_commit {
                        self.commit(now, false, out);
                    }
                    continue;
                }
                membership::Change::Revoke(tps) => {
                    for tp in &tps {
                        self.assigned.remove(tp);
                        self.app.forget(*tp);
                    }
                    self.buffer.remove(&tps);
                    (Vec::new(), tps)
                }
                membership::Change::Assign(tps) => {
                    for tp in &tps {
                        self.assigned.insert(
                            *tp,
                            PartitionState {
                                needs_committed: true,
                                ..PartitionState::default()
                            },
                        );
                    }
                    (tps, Vec::new())
                }
            };
            out.emit(Event::ConsumerAssignment {
                assigned: assigned.clone(),
                revoked,
            });
            self.apply_seek(&assigned, out);
        }
    }

    /// `OffsetFetch` for newly assigned partitions (`ConsumerCoordinator.refreshCommittedOffsets`).
    fn fetch_committed(&mut self, now: SimTime, out: &mut Out<Message, Event>) {
        let Some(g) = self.group.as_ref() else { return };
        let Some(b) = g.coordinator() else { return };
        if !g.is_stable() || self.pending.values().any(|p| p.1 == Pending::OffsetFetch) {
            return;
        }
        let wanted: Vec<Tp> = self
            .assigned
            .iter()
            .filter(|(_, s)| s.needs_committed && !s.listing && now >= s.retry_at)
            .map(|(tp, _)| *tp)
            .collect();
        if wanted.is_empty() {
            return;
        }
        if !self.net.is_ready(b, usize::MAX) {
            self.net.ensure_connecting(b, now, out);
            return;
        }
        let body = GroupRequest::OffsetFetch {
            group: g.group().clone(),
            partitions: wanted.clone(),
        };
        let c = self.net.send(b, RequestBody::Group(body), true, now, out);
        self.pending.insert(c, (b, Pending::OffsetFetch));
        for tp in wanted {
            if let Some(s) = self.assigned.get_mut(&tp) {
                s.listing = true;
            }
        }
    }

    /// Commits the positions of the records the application has polled (`commitSync` when
    /// `sync`, else `commitAsync`). Returns true if a commit went out.
    fn commit(&mut self, now: SimTime, sync: bool, out: &mut Out<Message, Event>) -> bool {
        let Some(g) = self.group.as_ref() else {
            return false;
        };
        if !g.can_commit() {
            let group = g.group().clone();
            out.trace(|| Event::CommitFailed {
                group,
                error: ErrorCode::CommitFailed,
            });
            return false;
        }
        let Some(b) = g.coordinator().filter(|b| self.net.is_ready(*b, usize::MAX)) else {
            return false;
        };
        let offsets: Vec<(Tp, u64)> = self
            .app
            .consumed()
            .filter(|(tp, _)| self.assigned.contains_key(tp))
            .collect();
        if offsets.is_empty() {
            return false;
        }
        let body = GroupRequest::OffsetCommit(OffsetCommitRequest {
            member: g.member_ref(),
            offsets,
        });
        let c = self.net.send(b, RequestBody::Group(body), true, now, out);
        self.pending.insert(c, (b, Pending::Commit(sync)));
        true
    }

    /// A group response: membership's, or a commit's or an offset fetch's.
    fn on_group_response(
        &mut self,
        now: SimTime,
        broker: BrokerId,
        correlation: u32,
        resp: GroupResponse,
        out: &mut Out<Message, Event>,
    ) {
        if let Some(g) = self.group.as_mut()
            && g.owns(broker, correlation)
        {
            let changes = g.on_response(
                now,
                (broker, correlation),
                resp,
                &mut self.net,
                &self.metadata,
                out,
            );
            self.apply(changes, now, out);
            return;
        }
        match (self.pending.remove(&correlation), resp) {
            (Some((_, Pending::Commit(sync))), GroupResponse::OffsetCommit(result)) => {
                if let (Err(error), Some(g)) = (result, self.group.as_ref()) {
                    let group = g.group().clone();
                    out.trace(|| Event::CommitFailed { group, error });
                }
                self.app.on_commit_done(sync, now);
                if self.leave_after_commit {
                    self.leave(now, out);
                }
            }
            (Some((_, Pending::OffsetFetch)), GroupResponse::OffsetFetch(Err(error))) => {
                // `UNSTABLE_OFFSET_COMMIT` (a transaction holds offsets of the group) and
                // coordinator errors: ask again after `retry.backoff.ms`.
                let retry_at = now + self.cfg.net.retry_backoff;
                for (tp, s) in &mut self.assigned {
                    s.listing = false;
                    if s.needs_committed {
                        s.retry_at = retry_at;
                        let tp = *tp;
                        out.trace(|| Event::ConsumerError { tp, error });
                    }
                }
            }
            (Some((_, Pending::OffsetFetch)), GroupResponse::OffsetFetch(Ok(offsets))) => {
                for (tp, committed) in offsets {
                    let Some(s) = self.assigned.get_mut(&tp) else {
                        continue;
                    };
                    s.listing = false;
                    s.needs_committed = false;
                    if let Some(offset) = committed {
                        s.position = Some(offset);
                        self.app.start_at(tp, offset);
                        out.emit(Event::PositionCommitted { tp, offset });
                    }
                }
                for s in self.assigned.values_mut() {
                    s.listing = false;
                }
            }
            _ => {}
        }
    }

    /// The membership's step: the heartbeat thread always, joins only from `poll()` (`in_poll`).
    /// Twice: a rejoin first commits and revokes, then sends its JoinGroup.
    fn group_step(&mut self, now: SimTime, in_poll: bool, out: &mut Out<Message, Event>) {
        for _ in 0..2 {
            let commit_pending = self
                .pending
                .values()
                .any(|(_, p)| matches!(p, Pending::Commit(_)));
            if let Some(g) = self.group.as_mut() {
                let changes = g.poll(now, in_poll, commit_pending, &mut self.net, &self.metadata, out);
                self.apply(changes, now, out);
            }
        }
    }

    /// The application thread: `poll()`, process, commit, as [`app::App`] schedules it.
    fn run_app(&mut self, now: SimTime, out: &mut Out<Message, Event>) {
        loop {
            match self.app.step(now, out) {
                app::Step::Wait => return,
                app::Step::CommitSync => {
                    if !self.commit(now, true, out) {
                        self.app.on_commit_done(true, now);
                    }
                }
                app::Step::Poll => {
                    // `poll()` runs the group coordinator's work first (a pending rejoin);
                    // records of partitions still owned keep coming (cooperative).
                    self.group_step(now, true, out);
                    let stable = self.group.as_ref().is_none_or(|g| g.is_stable());
                    if stable && self.app.auto_commit_due(now) {
                        self.commit(now, false, out);
                    }
                    let chunk = self.buffer.collect(self.cfg.max_poll_records as usize);
                    if chunk.is_empty() {
                        return;
                    }
                    self.polls += 1;
                    for run in runs(&chunk) {
                        let tp = run[0].0;
                        out.emit(Event::Consumed {
                            tp,
                            records: run.iter().map(|r| (r.1, r.2)).collect(),
                            poll: self.polls,
                        });
                    }
                    let tps: Vec<Tp> = runs(&chunk).map(|r| r[0].0).collect();
                    self.app.handed(now, chunk);
                    // A partition's records all handed out: its position is the fetch position,
                    // past any marker or aborted batch after the last record
                    // (`CompletedFetch.nextFetchOffset`).
                    for tp in tps {
                        let drained = !self.buffer.has_records(tp);
                        if let (true, Some(position)) =
                            (drained, self.assigned.get(&tp).and_then(|s| s.position))
                        {
                            self.app.start_at(tp, position);
                        }
                    }
                }
            }
        }
    }
}

/// Consecutive records of the same partition.
fn runs(records: &[(Tp, u64, RecordId)]) -> impl Iterator<Item = &[(Tp, u64, RecordId)]> {
    records.chunk_by(|a, b| a.0 == b.0)
}

fn reset_name(r: OffsetReset) -> &'static str {
    match r {
        OffsetReset::Earliest => "earliest",
        OffsetReset::Latest => "latest",
        OffsetReset::None => "none",
    }
}

/// A `read_committed` consumer's filter over one fetch response (`CompletedFetch`): the aborted
/// transactions the response lists, in first-offset order; a producer joins the aborted set
/// once a batch reaches its transaction's first offset and leaves it at its ABORT marker.
struct AbortedFilter {
    pending: std::collections::VecDeque<crate::kafka::log::AbortedTxn>,
    aborted: std::collections::BTreeSet<u64>,
}

impl AbortedFilter {
    fn new(mut aborted: Vec<crate::kafka::log::AbortedTxn>) -> AbortedFilter {
        aborted.sort_by_key(|a| a.first_offset);
        AbortedFilter {
            pending: aborted.into(),
            aborted: std::collections::BTreeSet::new(),
        }
    }

    /// `consumeAbortedTransactionsUpTo(lastOffset)`.
    fn reach(&mut self, last_offset: u64) {
        while self
            .pending
            .front()
            .is_some_and(|a| a.first_offset <= last_offset)
        {
            if let Some(a) = self.pending.pop_front() {
                self.aborted.insert(a.producer_id);
            }
        }
    }

    /// A marker batch ending at `last_offset`.
    fn on_marker(&mut self, last_offset: u64, m: crate::kafka::log::TxnMarker) {
        self.reach(last_offset);
        if !m.commit {
            self.aborted.remove(&m.producer_id);
        }
    }

    /// True if a data batch of `producer_id` ending at `last_offset` belongs to an aborted
    /// transaction.
    fn drops(&mut self, producer_id: Option<u64>, last_offset: u64) -> bool {
        let Some(pid) = producer_id else {
            return false;
        };
        self.reach(last_offset);
        self.aborted.contains(&pid)
    }
}

/// What a processor's consumer hands its producer.
#[derive(Clone, Debug)]
pub enum Handoff {
    /// An input record was processed: write its output.
    Record {
        /// Where it was read.
        tp: Tp,
        /// Its offset.
        offset: u64,
        /// The record.
        record: RecordId,
    },
    /// The batch is processed: commit these offsets (in the transaction, or after the output is
    /// acknowledged), as this member of its group.
    BatchEnd {
        /// The member, its group and generation (`None` without a group).
        member: Option<crate::kafka::group::messages::MemberRef>,
        /// The positions after the processed records.
        offsets: Vec<(Tp, u64)>,
    },
}

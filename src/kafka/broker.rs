//! A broker: hosts partition logs, serves produce, fetch, metadata and list-offsets requests,
//! heartbeats to the controller and caches the metadata it publishes.
//!
//! One replica per partition for now, so the high watermark follows the log end offset.

use super::addr::Addresses;
use super::log::PartitionLog;
use super::protocol::{
    BrokerId, ClusterMetadata, ErrorCode, FetchPartitionResponse, FetchRequest, Message, OffsetSpec,
    ProducePartitionResponse, ProduceRequest, RequestBody, ResponseBody,
};
use super::record::Tp;
use crate::scenario::BrokerConfig;
use crate::sim::{NodeId, Out, SimDuration, SimTime};
use crate::trace::Event;
use std::collections::BTreeMap;
use std::sync::Arc;

/// A fetch waiting in purgatory for `fetch.min.bytes` or `fetch.max.wait.ms`.
struct ParkedFetch {
    client: NodeId,
    correlation: u32,
    request: FetchRequest,
    deadline: SimTime,
}

/// A broker's state. Logs survive a crash; everything else is rebuilt on restart.
pub struct Broker {
    id: BrokerId,
    addr: Addresses,
    config: BrokerConfig,
    max_message_bytes: Vec<u32>,
    logs: BTreeMap<Tp, PartitionLog>,
    metadata: Option<Arc<ClusterMetadata>>,
    parked: Vec<ParkedFetch>,
    next_heartbeat: SimTime,
    up: bool,
}

impl Broker {
    /// Broker `id` hosting the replicas that `metadata` assigns to it.
    pub fn new(
        id: BrokerId,
        addr: Addresses,
        config: BrokerConfig,
        max_message_bytes: Vec<u32>,
        metadata: Arc<ClusterMetadata>,
    ) -> Broker {
        let mut logs = BTreeMap::new();
        for (t, partitions) in metadata.topics.iter().enumerate() {
            for (p, state) in partitions.iter().enumerate() {
                if state.replicas.contains(&id) {
                    let tp = Tp {
                        topic: t as u32,
                        partition: p as u32,
                    };
                    logs.insert(tp, PartitionLog::default());
                }
            }
        }
        Broker {
            id,
            addr,
            config,
            max_message_bytes,
            logs,
            metadata: Some(metadata),
            parked: Vec::new(),
            next_heartbeat: SimTime::ZERO,
            up: true,
        }
    }

    /// True unless crashed.
    pub fn is_up(&self) -> bool {
        self.up
    }

    /// The replica logs this broker hosts.
    pub fn logs(&self) -> &BTreeMap<Tp, PartitionLog> {
        &self.logs
    }

    /// Starts heartbeating.
    pub fn on_start(&mut self, now: SimTime, out: &mut Out<Message, Event>) {
        self.heartbeat(now, out);
    }

    /// The process dies: the metadata cache and waiting fetches are gone, the logs stay.
    pub fn crash(&mut self) {
        self.up = false;
        self.metadata = None;
        self.parked.clear();
    }

    /// The process starts again and re-registers with the controller.
    pub fn restart(&mut self, now: SimTime, out: &mut Out<Message, Event>) {
        self.up = true;
        self.heartbeat(now, out);
    }

    fn heartbeat(&mut self, now: SimTime, out: &mut Out<Message, Event>) {
        let metadata_version = self.metadata.as_ref().map_or(0, |m| m.version);
        out.send(
            self.addr.controller(),
            Message::Heartbeat {
                broker: self.id,
                metadata_version,
            },
        );
        self.next_heartbeat = now + self.config.heartbeat_interval;
        out.wake_at(self.next_heartbeat);
    }

    /// A client connection closed: its waiting fetches are dropped.
    pub fn on_disconnect(&mut self, peer: NodeId) {
        self.parked.retain(|f| f.client != peer);
    }

    /// Heartbeats and fetch deadlines.
    pub fn on_wake(&mut self, now: SimTime, out: &mut Out<Message, Event>) {
        if now >= self.next_heartbeat {
            self.heartbeat(now, out);
        }
        let (due, waiting): (Vec<_>, Vec<_>) = self.parked.drain(..).partition(|f| f.deadline <= now);
        self.parked = waiting;
        for f in due {
            let (responses, _, _) = self.read_fetch(&f.request);
            respond(out, f.client, f.correlation, ResponseBody::Fetch(responses));
        }
        self.schedule(out);
    }

    fn schedule(&self, out: &mut Out<Message, Event>) {
        out.wake_at(self.next_heartbeat);
        if let Some(d) = self.parked.iter().map(|f| f.deadline).min() {
            out.wake_at(d);
        }
    }

    /// A message from a client or the controller.
    pub fn on_message(&mut self, now: SimTime, from: NodeId, msg: Message, out: &mut Out<Message, Event>) {
        match msg {
            // A broker that has not caught up with the metadata log does not listen yet
            // (KRaft `BrokerServer` enables request processing only after catching up).
            Message::Connect if self.metadata.is_none() => out.send(from, Message::ConnectRefused),
            Message::Connect => out.send(from, Message::ConnectOk),
            Message::MetadataUpdate(md) => {
                if self.metadata.as_ref().is_none_or(|m| md.version > m.version) {
                    self.metadata = Some(md);
                }
            }
            Message::Request { correlation, body } => match body {
                RequestBody::Produce(req) => self.produce(from, correlation, req, out),
                RequestBody::Fetch(req) => self.fetch(now, from, correlation, req, out),
                RequestBody::Metadata => {
                    let md = self.metadata.clone().unwrap_or_default();
                    respond(out, from, correlation, ResponseBody::Metadata(md));
                }
                RequestBody::ListOffsets(list) => {
                    let answers = list
                        .into_iter()
                        .map(|(tp, spec)| {
                            let r = self.leader_log(tp).map(|log| match spec {
                                OffsetSpec::Earliest => log.log_start_offset(),
                                OffsetSpec::Latest => log.high_watermark(),
                            });
                            (tp, r)
                        })
                        .collect();
                    respond(out, from, correlation, ResponseBody::ListOffsets(answers));
                }
            },
            Message::ConnectOk
            | Message::ConnectRefused
            | Message::Response { .. }
            | Message::Heartbeat { .. } => {}
        }
        self.schedule(out);
    }

    /// The leader epoch if this broker leads `tp`, else the error a client gets.
    fn leadership(&self, tp: Tp) -> Result<u32, ErrorCode> {
        let md = self.metadata.as_ref().ok_or(ErrorCode::NotLeaderOrFollower)?;
        let state = md.partition(tp).ok_or(ErrorCode::UnknownTopicOrPartition)?;
        if state.leader == Some(self.id) && self.logs.contains_key(&tp) {
            Ok(state.leader_epoch)
        } else {
            Err(ErrorCode::NotLeaderOrFollower)
        }
    }

    fn leader_log(&self, tp: Tp) -> Result<&PartitionLog, ErrorCode> {
        self.leadership(tp)?;
        self.logs.get(&tp).ok_or(ErrorCode::NotLeaderOrFollower)
    }

    fn produce(
        &mut self,
        client: NodeId,
        correlation: u32,
        req: ProduceRequest,
        out: &mut Out<Message, Event>,
    ) {
        let mut results = Vec::with_capacity(req.batches.len());
        let mut appended = Vec::new();
        for batch in req.batches {
            let result = self.leadership(batch.tp).and_then(|epoch| {
                if batch.bytes > self.max_message_bytes[batch.tp.topic as usize] {
                    return Err(ErrorCode::MessageTooLarge);
                }
                let log = self
                    .logs
                    .get_mut(&batch.tp)
                    .ok_or(ErrorCode::NotLeaderOrFollower)?;
                let base_offset = log.append(Arc::clone(&batch.records), batch.bytes, epoch);
                // One replica: everything appended is on every replica of the ISR.
                let leo = log.log_end_offset();
                log.set_high_watermark(leo);
                out.emit(Event::Append {
                    tp: batch.tp,
                    base_offset,
                    records: Arc::clone(&batch.records),
                    leader_epoch: epoch,
                    high_watermark: leo,
                });
                appended.push(batch.tp);
                Ok(base_offset)
            });
            if let Err(error) = result {
                out.trace(|| Event::ProduceRejected {
                    tp: batch.tp,
                    batch_id: batch.batch_id,
                    error,
                });
            }
            results.push(ProducePartitionResponse {
                tp: batch.tp,
                batch_id: batch.batch_id,
                result,
            });
        }
        if req.acks == 0 {
            // acks=0 gets no response; an error can only be signalled by closing the connection.
            if results.iter().any(|r| r.result.is_err()) {
                out.close(client);
            }
        } else {
            respond(out, client, correlation, ResponseBody::Produce(results));
        }
        if !appended.is_empty() {
            self.complete_parked_fetches(&appended, out);
        }
    }

    fn fetch(
        &mut self,
        now: SimTime,
        client: NodeId,
        correlation: u32,
        req: FetchRequest,
        out: &mut Out<Message, Event>,
    ) {
        let (responses, bytes, errors) = self.read_fetch(&req);
        if errors || bytes >= req.min_bytes || req.max_wait_ms == 0 {
            respond(out, client, correlation, ResponseBody::Fetch(responses));
        } else {
            let deadline = now + SimDuration::from_ms(req.max_wait_ms);
            self.parked.push(ParkedFetch {
                client,
                correlation,
                request: req,
                deadline,
            });
        }
    }

    fn complete_parked_fetches(&mut self, appended: &[Tp], out: &mut Out<Message, Event>) {
        let mut i = 0;
        while i < self.parked.len() {
            let f = &self.parked[i];
            if f.request.partitions.iter().any(|p| appended.contains(&p.tp)) {
                let (responses, bytes, errors) = self.read_fetch(&f.request);
                if errors || bytes >= f.request.min_bytes {
                    let f = self.parked.swap_remove(i);
                    respond(out, f.client, f.correlation, ResponseBody::Fetch(responses));
                    continue;
                }
            }
            i += 1;
        }
    }

    /// Reads every partition of a fetch: the responses, the bytes found and whether any failed.
    fn read_fetch(&self, req: &FetchRequest) -> (Vec<FetchPartitionResponse>, u32, bool) {
        let mut total = 0u32;
        let mut errors = false;
        let responses = req
            .partitions
            .iter()
            .map(|p| {
                let result = self.leader_log(p.tp).and_then(|log| {
                    if p.offset < log.log_start_offset() || p.offset > log.log_end_offset() {
                        return Err(ErrorCode::OffsetOutOfRange);
                    }
                    let budget = req
                        .max_partition_bytes
                        .min(req.max_bytes.saturating_sub(total).max(1));
                    let (batches, bytes) = log.read(p.offset, log.high_watermark(), budget);
                    total = total.saturating_add(bytes);
                    Ok(batches)
                });
                errors |= result.is_err();
                let high_watermark = self.logs.get(&p.tp).map_or(0, PartitionLog::high_watermark);
                FetchPartitionResponse {
                    tp: p.tp,
                    fetch_offset: p.offset,
                    result,
                    high_watermark,
                }
            })
            .collect();
        (responses, total, errors)
    }
}

fn respond(out: &mut Out<Message, Event>, to: NodeId, correlation: u32, body: ResponseBody) {
    out.send(to, Message::Response { correlation, body });
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kafka::protocol::{FetchPartition, PartitionState, WireBatch};
    use crate::kafka::record::RecordId;

    const CLIENT: NodeId = NodeId(9);

    fn metadata(leader: Option<BrokerId>) -> Arc<ClusterMetadata> {
        Arc::new(ClusterMetadata {
            version: 1,
            live_brokers: vec![1, 2],
            topics: vec![vec![PartitionState {
                leader,
                leader_epoch: 3,
                replicas: vec![1],
                isr: vec![1],
            }]],
        })
    }

    fn broker(leader: Option<BrokerId>) -> Broker {
        let config = BrokerConfig {
            message_max_bytes: 1000,
            heartbeat_interval: SimDuration::from_ms(2000),
            session_timeout: SimDuration::from_ms(9000),
        };
        Broker::new(1, Addresses::new(2), config, vec![1000], metadata(leader))
    }

    fn tp(partition: u32) -> Tp {
        Tp { topic: 0, partition }
    }

    fn produce(acks: i16, partition: u32, records: u32, bytes: u32) -> Message {
        let records: Arc<[RecordId]> = (0..records).map(|seq| RecordId { producer: 0, seq }).collect();
        Message::Request {
            correlation: 7,
            body: RequestBody::Produce(ProduceRequest {
                acks,
                timeout_ms: 30_000,
                batches: vec![WireBatch {
                    tp: tp(partition),
                    batch_id: 0,
                    records,
                    bytes,
                }],
            }),
        }
    }

    fn fetch(offset: u64, min_bytes: u32, max_wait_ms: u64) -> Message {
        Message::Request {
            correlation: 8,
            body: RequestBody::Fetch(FetchRequest {
                partitions: vec![FetchPartition { tp: tp(0), offset }],
                min_bytes,
                max_wait_ms,
                max_partition_bytes: 1 << 20,
                max_bytes: 1 << 20,
            }),
        }
    }

    fn produce_results(out: &Out<Message, Event>) -> Vec<Result<u64, ErrorCode>> {
        out.sends
            .iter()
            .filter_map(|(_, m)| match m {
                Message::Response {
                    body: ResponseBody::Produce(r),
                    ..
                } => Some(r.iter().map(|p| p.result)),
                _ => None,
            })
            .flatten()
            .collect()
    }

    fn fetched_offsets(out: &Out<Message, Event>) -> Vec<Result<Vec<u64>, ErrorCode>> {
        out.sends
            .iter()
            .filter_map(|(_, m)| match m {
                Message::Response {
                    body: ResponseBody::Fetch(parts),
                    ..
                } => Some(parts.iter().map(|p| {
                    p.result
                        .clone()
                        .map(|bs| bs.iter().map(|b| b.base_offset).collect::<Vec<_>>())
                })),
                _ => None,
            })
            .flatten()
            .collect()
    }

    const T0: SimTime = SimTime::ZERO;

    #[test]
    fn the_leader_appends_and_answers_with_the_base_offset() {
        let mut b = broker(Some(1));
        let mut out = Out::new(false);
        b.on_message(T0, CLIENT, produce(1, 0, 3, 200), &mut out);
        b.on_message(T0, CLIENT, produce(-1, 0, 2, 200), &mut out);
        assert_eq!(produce_results(&out), vec![Ok(0), Ok(3)]);
        let log = &b.logs()[&tp(0)];
        assert_eq!(
            (log.log_end_offset(), log.high_watermark()),
            (5, 5),
            "one replica: HW = LEO"
        );
        assert_eq!(
            log.batches()[0].leader_epoch,
            3,
            "batches carry the leader's epoch"
        );
    }

    #[test]
    fn a_follower_or_an_unknown_partition_is_refused() {
        let mut b = broker(Some(2));
        let mut out = Out::new(false);
        b.on_message(T0, CLIENT, produce(1, 0, 1, 100), &mut out);
        b.on_message(T0, CLIENT, produce(1, 5, 1, 100), &mut out);
        assert_eq!(
            produce_results(&out),
            vec![
                Err(ErrorCode::NotLeaderOrFollower),
                Err(ErrorCode::UnknownTopicOrPartition)
            ]
        );
        assert_eq!(b.logs()[&tp(0)].log_end_offset(), 0);
    }

    #[test]
    fn a_batch_over_max_message_bytes_is_rejected() {
        let mut b = broker(Some(1));
        let mut out = Out::new(false);
        b.on_message(T0, CLIENT, produce(1, 0, 10, 1001), &mut out);
        assert_eq!(produce_results(&out), vec![Err(ErrorCode::MessageTooLarge)]);
    }

    #[test]
    fn acks_zero_gets_no_response_and_an_error_closes_the_connection() {
        let mut b = broker(Some(1));
        let mut out = Out::new(false);
        b.on_message(T0, CLIENT, produce(0, 0, 1, 100), &mut out);
        assert!(out.sends.is_empty() && out.closes.is_empty());
        b.on_message(T0, CLIENT, produce(0, 5, 1, 100), &mut out);
        assert!(out.sends.is_empty());
        assert_eq!(out.closes, vec![CLIENT]);
    }

    #[test]
    fn fetches_read_below_the_high_watermark_and_check_the_offset() {
        let mut b = broker(Some(1));
        let mut out = Out::new(false);
        b.on_message(T0, CLIENT, produce(1, 0, 2, 100), &mut out);
        b.on_message(T0, CLIENT, produce(1, 0, 2, 100), &mut out);
        out.sends.clear();
        b.on_message(T0, CLIENT, fetch(1, 1, 500), &mut out);
        b.on_message(T0, CLIENT, fetch(9, 1, 500), &mut out);
        assert_eq!(
            fetched_offsets(&out),
            vec![Ok(vec![0, 2]), Err(ErrorCode::OffsetOutOfRange)],
            "whole batches from the one holding offset 1; offset 9 is past the log end"
        );
    }

    #[test]
    fn a_fetch_waits_for_min_bytes_or_max_wait() {
        let mut b = broker(Some(1));
        let mut out = Out::new(false);
        b.on_message(T0, CLIENT, fetch(0, 1, 500), &mut out);
        assert!(fetched_offsets(&out).is_empty(), "nothing to read: parked");
        b.on_message(SimTime::from_us(1000), CLIENT, produce(1, 0, 1, 100), &mut out);
        assert_eq!(
            fetched_offsets(&out),
            vec![Ok(vec![0])],
            "the append completes it"
        );
        out.sends.clear();
        b.on_message(SimTime::from_us(2000), CLIENT, fetch(1, 10_000, 500), &mut out);
        b.on_wake(SimTime::from_us(400_000), &mut out);
        assert!(
            fetched_offsets(&out).is_empty(),
            "min bytes not reached, deadline not passed"
        );
        b.on_wake(SimTime::from_us(502_000), &mut out);
        assert_eq!(
            fetched_offsets(&out),
            vec![Ok(vec![])],
            "fetch.max.wait.ms answers with what there is"
        );
    }

    #[test]
    fn a_closed_connection_drops_its_waiting_fetches() {
        let mut b = broker(Some(1));
        let mut out = Out::new(false);
        b.on_message(T0, CLIENT, fetch(0, 1, 500), &mut out);
        b.on_disconnect(CLIENT);
        b.on_message(T0, NodeId(8), produce(1, 0, 1, 100), &mut out);
        assert!(fetched_offsets(&out).is_empty());
    }

    #[test]
    fn list_offsets_gives_the_log_start_or_the_high_watermark() {
        let mut b = broker(Some(1));
        let mut out = Out::new(false);
        b.on_message(T0, CLIENT, produce(1, 0, 4, 100), &mut out);
        out.sends.clear();
        let req = |spec| Message::Request {
            correlation: 1,
            body: RequestBody::ListOffsets(vec![(tp(0), spec)]),
        };
        b.on_message(T0, CLIENT, req(OffsetSpec::Earliest), &mut out);
        b.on_message(T0, CLIENT, req(OffsetSpec::Latest), &mut out);
        let got: Vec<_> = out
            .sends
            .iter()
            .filter_map(|(_, m)| match m {
                Message::Response {
                    body: ResponseBody::ListOffsets(l),
                    ..
                } => Some(l[0].1),
                _ => None,
            })
            .collect();
        assert_eq!(got, vec![Ok(0), Ok(4)]);
    }

    #[test]
    fn a_restarted_broker_refuses_connections_until_it_has_metadata() {
        let mut b = broker(Some(1));
        let mut out = Out::new(false);
        b.on_message(T0, CLIENT, produce(1, 0, 2, 100), &mut out);
        b.crash();
        out.sends.clear();
        b.restart(T0, &mut out);
        assert!(
            out.sends.iter().any(|(to, m)| *to == NodeId(2)
                && matches!(
                    m,
                    Message::Heartbeat {
                        metadata_version: 0,
                        ..
                    }
                )),
            "it heartbeats to the controller with no metadata"
        );
        out.sends.clear();
        b.on_message(T0, CLIENT, Message::Connect, &mut out);
        b.on_message(
            T0,
            NodeId(2),
            Message::MetadataUpdate(metadata(Some(1))),
            &mut out,
        );
        b.on_message(T0, CLIENT, Message::Connect, &mut out);
        let replies: Vec<_> = out.sends.iter().map(|(_, m)| m.describe()).collect();
        assert_eq!(replies, ["ConnectRefused", "ConnectOk"]);
        assert_eq!(
            b.logs()[&tp(0)].log_end_offset(),
            2,
            "a process crash keeps the log"
        );
    }
}

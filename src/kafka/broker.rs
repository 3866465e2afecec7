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

//! The consumer's fetcher against a scripted broker whose log grows faster than the application
//! processes: no fetch while records wait in the buffer (`AbstractFetch.prepareFetchRequests`).

use super::{Consumer, ConsumerSetup};
use crate::kafka::addr::Addresses;
use crate::kafka::protocol::{
    ClusterMetadata, FetchPartitionResponse, FetchRequest, FetchedBatch, Message, PartitionState,
    RequestBody, ResponseBody,
};
use crate::kafka::record::{RecordId, Tp};
use crate::scenario::CommitMode;
use crate::scenario::config::{ConfigBlock, ConsumerConfig, Entries};
use crate::scenario::source::{Raw, Source};
use crate::sim::{NodeId, Out, RngTree, SimDuration, SimTime};
use crate::trace::Event;
use std::collections::BTreeMap;
use std::sync::Arc;

const BROKER: NodeId = NodeId(0);
/// The scripted broker returns at most this many records per partition and fetch.
const RECORDS_PER_FETCH: u64 = 50;
const PARTITIONS: u32 = 2;

fn tp(partition: u32) -> Tp {
    Tp { topic: 0, partition }
}

fn config() -> ConsumerConfig {
    let text = r#"{ "auto.offset.reset": "earliest", "max.poll.records": 20 }"#;
    let src = Source::new("t", text);
    let entries: Entries = src.parse_root().expect("map");
    let anchor: Raw = src.parse_root().expect("raw");
    ConsumerConfig::from_block(&ConfigBlock {
        src: &src,
        entries: &entries,
        anchor,
    })
    .expect("valid")
}

fn metadata() -> ClusterMetadata {
    let p = PartitionState {
        leader: Some(1),
        leader_epoch: 0,
        partition_epoch: 0,
        replicas: vec![1],
        isr: vec![1],
    };
    ClusterMetadata {
        version: 1,
        live_brokers: vec![1],
        topics: vec![vec![p; PARTITIONS as usize]],
    }
}

/// A consumer without a group that spends 10 ms on each record, and a broker whose log of each
/// partition grows by one record every millisecond.
struct Harness {
    consumer: Consumer,
    now: SimTime,
    /// Fetch requests waiting for records: (correlation, request).
    fetches: Vec<(u32, FetchRequest)>,
    /// Per partition, the offset after the last record a fetch response carried.
    delivered: BTreeMap<Tp, u64>,
    /// Per partition, the offset after the last record `poll()` returned.
    returned: BTreeMap<Tp, u64>,
    fetches_sent: usize,
}

impl Harness {
    fn new() -> Harness {
        let setup = ConsumerSetup {
            client_id: "c1".to_string(),
            topics: vec![0],
            topic_names: Arc::from(vec!["t".to_string()]),
            start: SimTime::ZERO,
            group: None,
            processing: SimDuration::from_ms(10),
            commit: CommitMode::Auto,
            processor: None,
            seek: None,
        };
        let rng = RngTree::new(1).fork("c1");
        let consumer = Consumer::new(Addresses::new(1), config(), setup, rng);
        let mut h = Harness {
            consumer,
            now: SimTime::ZERO,
            fetches: Vec::new(),
            delivered: BTreeMap::new(),
            returned: BTreeMap::new(),
            fetches_sent: 0,
        };
        h.step(|c, now, out| c.on_start(now, out));
        h
    }

    /// Every partition's log end offset now.
    fn log_end(&self) -> u64 {
        self.now.as_us() / 1000
    }

    /// Runs one consumer callback; accepts connections and answers metadata and `ListOffsets`
    /// at once, keeps fetches for the next tick. Checks each fetch request as it goes out.
    fn step(&mut self, f: impl FnOnce(&mut Consumer, SimTime, &mut Out<Message, Event>)) {
        let mut out = Out::new(true);
        f(&mut self.consumer, self.now, &mut out);
        for e in &out.events {
            if let Event::Consumed { tp, records, .. } = e
                && let Some((offset, _)) = records.last()
            {
                self.returned.insert(*tp, offset + 1);
            }
        }
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
                RequestBody::ListOffsets(list) => {
                    ResponseBody::ListOffsets(list.into_iter().map(|(tp, _)| (tp, Ok(Some(0)))).collect())
                }
                RequestBody::Fetch(req) => {
                    self.check_fetch(&req);
                    self.fetches.push((correlation, req));
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

    /// A fetch goes out only when `poll()` has returned every record fetched from this broker,
    /// and from the offset after the last one.
    fn check_fetch(&mut self, req: &FetchRequest) {
        self.fetches_sent += 1;
        for p in 0..PARTITIONS {
            let (delivered, returned) = (self.delivered.get(&tp(p)), self.returned.get(&tp(p)));
            assert_eq!(
                delivered.unwrap_or(&0),
                returned.unwrap_or(&0),
                "at {}: a fetch while records of {:?} are buffered",
                self.now,
                tp(p)
            );
        }
        for fp in &req.partitions {
            assert_eq!(
                fp.offset,
                self.returned.get(&fp.tp).copied().unwrap_or(0),
                "at {}: {fp:?}",
                self.now
            );
        }
    }

    fn deliver(&mut self, msg: Message) {
        self.step(|c, now, out| c.on_message(now, BROKER, msg, out));
    }

    /// One millisecond on: the log grows, the waiting fetches are answered with up to
    /// `RECORDS_PER_FETCH` records per partition, and the consumer's timers run.
    fn tick(&mut self) {
        self.now += SimDuration::from_ms(1);
        let end = self.log_end();
        for (correlation, req) in std::mem::take(&mut self.fetches) {
            let parts = req
                .partitions
                .iter()
                .map(|fp| {
                    let upto = end.min(fp.offset + RECORDS_PER_FETCH);
                    let records: Vec<RecordId> = (fp.offset..upto)
                        .map(|o| RecordId {
                            producer: fp.tp.partition,
                            seq: o as u32,
                        })
                        .collect();
                    self.delivered.insert(fp.tp, upto);
                    FetchPartitionResponse {
                        tp: fp.tp,
                        fetch_offset: fp.offset,
                        result: Ok(vec![FetchedBatch {
                            base_offset: fp.offset,
                            bytes: 10 * records.len() as u32,
                            records: records.into(),
                            cleaned: None,
                            producer_id: None,
                            marker: None,
                        }]),
                        high_watermark: end,
                        last_stable_offset: end,
                        aborted: Vec::new(),
                    }
                })
                .collect();
            self.deliver(Message::Response {
                correlation,
                body: ResponseBody::Fetch(parts),
            });
        }
        self.step(|c, now, out| c.on_wake(now, out));
    }
}

#[test]
fn a_consumer_slow_to_process_fetches_only_what_poll_has_returned() {
    let mut h = Harness::new();
    for _ in 0..3000 {
        h.tick();
        // The fetch position never runs more than one fetch ahead of `poll()`.
        for p in 0..PARTITIONS {
            let ahead = h.delivered.get(&tp(p)).unwrap_or(&0) - h.returned.get(&tp(p)).unwrap_or(&0);
            assert!(ahead <= RECORDS_PER_FETCH, "at {}: {ahead} records ahead", h.now);
        }
    }
    // 10 ms a record over two partitions: about 300 records returned in 3 s, while each log
    // holds 3000. The fetch positions stay with them, far behind the log end.
    let end = h.log_end();
    for p in 0..PARTITIONS {
        let returned = h.returned.get(&tp(p)).copied().unwrap_or(0);
        assert!((100..=200).contains(&returned), "{returned}");
        assert!(end - h.delivered.get(&tp(p)).unwrap_or(&0) > 2500);
    }
    assert!(h.fetches_sent > 5, "{} fetches", h.fetches_sent);
}

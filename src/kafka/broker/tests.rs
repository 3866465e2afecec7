//! The broker on its own, fed messages: produce, fetch, purgatory, connections, restart.

use super::*;
use crate::kafka::protocol::{
    ErrorCode, FetchPartition, FetchRequest, OffsetSpec, ProduceRequest, RequestBody, ResponseBody, WireBatch,
};
use crate::kafka::record::{BatchSequence, RecordId, Timestamps};
use crate::scenario::config::ConfigBlock;
use crate::scenario::source::Source;
use crate::sim::SimDuration;

const CLIENT: NodeId = NodeId(9);
const PRODUCER: NodeId = NodeId(8);

fn metadata(leader: Option<BrokerId>) -> Arc<ClusterMetadata> {
    Arc::new(ClusterMetadata {
        version: 1,
        live_brokers: vec![1, 2],
        topics: vec![vec![PartitionState {
            leader,
            leader_epoch: 3,
            partition_epoch: 0,
            replicas: vec![1],
            isr: vec![1],
        }]],
    })
}

fn parse_config<T>(entries: &str, f: impl FnOnce(&ConfigBlock<'_, '_>) -> T) -> T {
    let text = format!("{{ {entries} }}");
    let src = Source::new("t", &text);
    let parsed: crate::scenario::config::Entries = src.parse_root().expect("map");
    let anchor: crate::scenario::source::Raw = src.parse_root().expect("raw");
    f(&ConfigBlock {
        src: &src,
        entries: &parsed,
        anchor,
    })
}

fn broker_config() -> BrokerConfig {
    parse_config("", |b| BrokerConfig::from_block(b).expect("valid"))
}

fn topic_config() -> TopicConfig {
    parse_config(r#""max.message.bytes": 1000"#, |b| {
        TopicConfig::from_block(b, &broker_config()).expect("valid")
    })
}

/// A cluster without `__consumer_offsets` or `__transaction_state`.
fn no_internal_topics() -> super::Internal {
    super::Internal {
        offsets_topic: None,
        txn_topic: None,
        txn: crate::kafka::txn::coordinator::Settings {
            partitions: 50,
            max_timeout_ms: 900_000,
            abort_interval: crate::sim::SimDuration::from_ms(10_000),
            v2: true,
        },
    }
}

fn broker(leader: Option<BrokerId>) -> Broker {
    Broker::new(
        1,
        Addresses::new(2),
        broker_config(),
        vec![topic_config()],
        Arc::new(RecordKeys::default()),
        no_internal_topics(),
        metadata(leader),
        crate::sim::RngTree::new(1),
    )
}

fn tp(partition: u32) -> Tp {
    Tp { topic: 0, partition }
}

fn produce(acks: i16, partition: u32, records: u32, bytes: u32) -> Message {
    produce_sequenced(acks, partition, records, bytes, None)
}

fn produce_sequenced(
    acks: i16,
    partition: u32,
    records: u32,
    bytes: u32,
    sequence: Option<BatchSequence>,
) -> Message {
    let records: Arc<[RecordId]> = (0..records).map(|seq| RecordId { producer: 0, seq }).collect();
    Message::Request {
        correlation: 7,
        body: RequestBody::Produce(ProduceRequest {
            transactional_id: None,
            acks,
            timeout_ms: 30_000,
            batches: vec![WireBatch {
                tp: tp(partition),
                batch_id: 0,
                timestamps: Timestamps::at(0, records.len()),
                records,
                bytes,
                sequence,
                transactional: false,
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
            read_committed: false,
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
    let log = b.log(tp(0)).expect("hosted");
    assert_eq!(
        (log.log_end_offset(), log.high_watermark()),
        (5, 5),
        "one replica: HW = LEO"
    );
    assert_eq!(
        log.batches().next().map(|b| b.leader_epoch),
        Some(3),
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
    assert_eq!(b.log(tp(0)).expect("hosted").log_end_offset(), 0);
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
    b.on_message(SimTime::from_us(1000), PRODUCER, produce(1, 0, 1, 100), &mut out);
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
    b.on_disconnect(T0, CLIENT, &mut out);
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
    assert_eq!(got, vec![Ok(Some(0)), Ok(Some(4))]);
}

#[test]
fn a_restarted_broker_refuses_connections_until_it_has_metadata() {
    let mut b = broker(Some(1));
    let mut out = Out::new(false);
    b.on_message(T0, CLIENT, produce(1, 0, 2, 100), &mut out);
    b.crash(false, &mut out);
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
        Message::MetadataUpdate {
            image: metadata(Some(1)),
            changed: Arc::from([]),
        },
        &mut out,
    );
    b.on_message(T0, CLIENT, Message::Connect, &mut out);
    let replies: Vec<_> = out.sends.iter().map(|(_, m)| m.describe()).collect();
    assert_eq!(replies, ["ConnectRefused", "ConnectOk"]);
    assert_eq!(
        b.log(tp(0)).expect("hosted").log_end_offset(),
        2,
        "a process crash keeps the log"
    );
}

/// `UnifiedLog.analyzeAndValidateProducerState`: a retried idempotent batch the leader already
/// holds is answered with its original offset and not appended again; a gap in the sequence is
/// refused with OUT_OF_ORDER_SEQUENCE_NUMBER.
#[test]
fn a_retried_idempotent_batch_gets_its_original_offset_and_is_not_appended_twice() {
    let mut b = broker(Some(1));
    let mut out = Out::new(true);
    let seq = |base_sequence| {
        Some(BatchSequence {
            producer_id: 1000,
            epoch: 0,
            base_sequence,
        })
    };
    b.on_message(T0, PRODUCER, produce_sequenced(1, 0, 3, 100, seq(0)), &mut out);
    b.on_message(T0, PRODUCER, produce_sequenced(1, 0, 2, 100, seq(3)), &mut out);
    b.on_message(T0, PRODUCER, produce_sequenced(1, 0, 3, 100, seq(0)), &mut out);
    b.on_message(T0, PRODUCER, produce_sequenced(1, 0, 1, 100, seq(9)), &mut out);
    assert_eq!(
        produce_results(&out),
        [Ok(0), Ok(3), Ok(0), Err(ErrorCode::OutOfOrderSequenceNumber)]
    );
    assert_eq!(b.replicas()[&tp(0)].log.log_end_offset(), 5);
    assert!(out.events.iter().any(|e| matches!(
        e,
        Event::DuplicateBatch {
            base_offset: 0,
            records: 3,
            ..
        }
    )));
}

/// Metadata version `version` of a two-partition topic on broker 1, led by `leaders`.
fn two_partitions(version: u64, leaders: [BrokerId; 2]) -> Arc<ClusterMetadata> {
    let state = |leader| PartitionState {
        leader: Some(leader),
        leader_epoch: if leader == 1 { 0 } else { 1 },
        partition_epoch: 0,
        replicas: vec![1, 2],
        isr: vec![1, 2],
    };
    Arc::new(ClusterMetadata {
        version,
        live_brokers: vec![1, 2],
        topics: vec![leaders.into_iter().map(state).collect()],
    })
}

/// Broker 1 of 2, leading both partitions of metadata version 1.
fn leading_both() -> Broker {
    Broker::new(
        1,
        Addresses::new(2),
        broker_config(),
        vec![topic_config()],
        Arc::new(RecordKeys::default()),
        no_internal_topics(),
        two_partitions(1, [1, 1]),
        crate::sim::RngTree::new(1),
    )
}

/// `ReplicaManager.applyDelta` with `TopicsDelta.localChanges`: the next metadata version
/// touches only the partitions it changed (here the image also moves partition 1, but the
/// delta names only partition 0); a broker that missed a version takes the whole image.
#[test]
fn a_metadata_version_touches_only_the_partitions_it_changed() {
    let mut b = leading_both();
    let leads = |b: &Broker| [0, 1].map(|p| b.replicas()[&tp(p)].leading().is_some());
    assert_eq!(leads(&b), [true, true]);
    let mut out = Out::new(false);
    let update = |version, changed: &[Tp]| Message::MetadataUpdate {
        image: two_partitions(version, [2, 2]),
        changed: Arc::from(changed),
    };
    b.on_message(T0, NodeId(2), update(2, &[tp(0)]), &mut out);
    assert_eq!(leads(&b), [false, true], "only partition 0 is in the delta");
    b.on_message(T0, NodeId(2), update(4, &[]), &mut out);
    assert_eq!(leads(&b), [false, false], "version 3 was missed: the whole image");
}

/// The partitions each fetcher carries, against a scan of the replicas' roles.
fn fetched(b: &Broker) -> (BTreeMap<BrokerId, Vec<u32>>, BTreeMap<BrokerId, Vec<u32>>) {
    let kept = b
        .fetchers
        .iter()
        .map(|(l, f)| (*l, f.partitions.iter().map(|tp| tp.partition).collect()))
        .collect();
    let mut scanned: BTreeMap<BrokerId, Vec<u32>> = BTreeMap::new();
    for (tp, r) in b.replicas() {
        if let Some(l) = r.followed() {
            scanned.entry(l).or_default().push(tp.partition);
        }
    }
    (kept, scanned)
}

/// `ReplicaFetcherManager.addFetcherForPartitions` / `removeFetcherForPartitions`: each
/// fetcher holds the partitions followed from its leader as roles change, so a fetch need not
/// scan every replica.
#[test]
fn fetchers_hold_the_partitions_followed_from_their_leader() {
    let mut b = leading_both();
    let mut out = Out::new(false);
    let mut steps = Vec::new();
    let mut update = |b: &mut Broker, version, leaders, changed: &[Tp]| {
        let msg = Message::MetadataUpdate {
            image: two_partitions(version, leaders),
            changed: Arc::from(changed),
        };
        b.on_message(T0, NodeId(2), msg, &mut out);
        let (kept, scanned) = fetched(b);
        assert_eq!(kept, scanned);
        steps.push(kept.get(&2).cloned().unwrap_or_default());
    };
    update(&mut b, 2, [2, 1], &[tp(0)]);
    update(&mut b, 3, [2, 2], &[tp(1)]);
    update(&mut b, 4, [1, 2], &[tp(0)]);
    assert_eq!(steps, [vec![0], vec![0, 1], vec![1]]);
    b.crash(false, &mut Out::new(false));
    assert!(b.fetchers.is_empty());
}

fn events(out: &Out<Message, Event>) -> Vec<&Event> {
    out.events.iter().collect()
}

/// `Partition.deleteRecordsOnLeader` through `UnifiedLog.maybeIncrementLogStartOffset`: the log
/// start offset moves, an offset above the high watermark is refused with OFFSET_OUT_OF_RANGE,
/// and a consumer fetch below the new start gets OFFSET_OUT_OF_RANGE (`LocalLog.read`), as
/// `ListOffsets(earliest)` answers the new start.
#[test]
fn delete_records_moves_the_log_start_offset_up_to_the_high_watermark() {
    let mut b = broker(Some(1));
    let mut out = Out::new(false);
    for _ in 0..3 {
        b.on_message(T0, CLIENT, produce(1, 0, 2, 100), &mut out);
    }
    out.events.clear();
    b.delete_records(tp(0), 7, &mut out);
    b.delete_records(tp(0), 3, &mut out);
    let results: Vec<_> = events(&out)
        .into_iter()
        .filter_map(|e| match e {
            Event::DeleteRecords { before, result, .. } => Some((*before, *result)),
            _ => None,
        })
        .collect();
    assert_eq!(
        results,
        [(7, Err(ErrorCode::OffsetOutOfRange)), (3, Ok(3))],
        "the HW is 6"
    );
    out.sends.clear();
    b.on_message(T0, CLIENT, fetch(2, 1, 0), &mut out);
    b.on_message(T0, CLIENT, fetch(3, 1, 0), &mut out);
    assert_eq!(
        fetched_offsets(&out),
        vec![Err(ErrorCode::OffsetOutOfRange), Ok(vec![2, 4])],
        "below the start: out of range; at it: from the batch holding it"
    );
    out.sends.clear();
    let list = |spec| Message::Request {
        correlation: 1,
        body: RequestBody::ListOffsets(vec![(tp(0), spec)]),
    };
    b.on_message(T0, CLIENT, list(OffsetSpec::Earliest), &mut out);
    let answer = out.sends.iter().find_map(|(_, m)| match m {
        Message::Response {
            body: ResponseBody::ListOffsets(l),
            ..
        } => Some(l[0].1),
        _ => None,
    });
    assert_eq!(answer, Some(Ok(Some(3))));
}

/// `LogManager.cleanupLogs` every `log.retention.check.interval.ms`, the first one
/// `log.initial.task.delay.ms` (30 s) after the broker starts: segments wholly below the log start
/// offset go even with retention off (`deleteLogStartOffsetBreachedSegments`).
#[test]
fn the_retention_check_runs_thirty_seconds_after_start_then_every_interval() {
    let topic = parse_config(r#""segment.bytes": 150"#, |c| {
        TopicConfig::from_block(c, &broker_config()).expect("valid")
    });
    let mut b = Broker::new(
        1,
        Addresses::new(2),
        broker_config(),
        vec![topic],
        Arc::new(RecordKeys::default()),
        no_internal_topics(),
        metadata(Some(1)),
        crate::sim::RngTree::new(1),
    );
    let mut out = Out::new(false);
    b.on_start(T0, &mut out);
    for _ in 0..2 {
        b.on_message(T0, CLIENT, produce(1, 0, 2, 100), &mut out);
    }
    assert_eq!(b.log(tp(0)).expect("hosted").segments().len(), 2, "rolled at 2");
    b.delete_records(tp(0), 3, &mut out);
    out.events.clear();
    let deleted = |out: &Out<Message, Event>| {
        events(out)
            .into_iter()
            .any(|e| matches!(e, Event::SegmentsDeleted { .. }))
    };
    b.on_wake(SimTime::from_us(29_999_999), &mut out);
    assert!(!deleted(&out), "not before 30 s");
    b.on_wake(SimTime::from_us(30_000_000), &mut out);
    assert!(deleted(&out), "segment 0..2 lies below the start");
    let log = b.log(tp(0)).expect("hosted");
    assert_eq!((log.log_start_offset(), log.segments().len()), (3, 1));
    out.events.clear();
    b.delete_records(tp(0), 4, &mut out);
    b.on_wake(SimTime::from_us(330_000_000), &mut out);
    assert!(
        !deleted(&out),
        "the active segment is never deleted for the log start offset: it has no next segment"
    );
}

/// Broker 1 leading `partitions` partitions of a compacted topic with 300-byte segments and
/// `min.cleanable.dirty.ratio` 0.8, alone in their ISRs (so the HW follows the log end).
fn compacted_broker(keys: RecordKeys, partitions: u32) -> Broker {
    let config = r#""cleanup.policy": "compact", "segment.bytes": 300, "min.cleanable.dirty.ratio": "0.8""#;
    let topic = parse_config(config, |b| {
        TopicConfig::from_block(b, &broker_config()).expect("valid")
    });
    let state = PartitionState {
        leader: Some(1),
        leader_epoch: 0,
        partition_epoch: 0,
        replicas: vec![1],
        isr: vec![1],
    };
    let md = Arc::new(ClusterMetadata {
        version: 1,
        live_brokers: vec![1],
        topics: vec![vec![state; partitions as usize]],
    });
    Broker::new(
        1,
        Addresses::new(2),
        broker_config(),
        vec![topic],
        Arc::new(keys),
        no_internal_topics(),
        md,
        crate::sim::RngTree::new(1),
    )
}

fn keyed(names: &[&str]) -> RecordKeys {
    let names: Vec<String> = names.iter().map(|k| k.to_string()).collect();
    RecordKeys::new([(Some(names.as_slice()), None)])
}

/// `LogValidator.validateKey`: "Compacted topic cannot accept message without key", the whole
/// batch refused with INVALID_RECORD, nothing appended.
#[test]
fn a_compacted_topic_refuses_a_keyless_batch_with_invalid_record() {
    let mut keyless = compacted_broker(RecordKeys::new([(None, None)]), 1);
    let mut out = Out::new(false);
    keyless.on_message(T0, CLIENT, produce(1, 0, 2, 200), &mut out);
    assert_eq!(produce_results(&out), vec![Err(ErrorCode::InvalidRecord)]);
    assert_eq!(keyless.log(tp(0)).expect("hosted").log_end_offset(), 0);
    assert!(!ErrorCode::InvalidRecord.is_retriable());
    let mut with_keys = compacted_broker(keyed(&["a"]), 1);
    let mut out = Out::new(false);
    with_keys.on_message(T0, CLIENT, produce(1, 0, 2, 200), &mut out);
    assert_eq!(produce_results(&out), vec![Ok(0)]);
}

/// Appends `n` one-record batches of 100 bytes to `partition`.
fn fill(b: &mut Broker, partition: u32, n: u32, now: SimTime) {
    let mut out = Out::new(false);
    for _ in 0..n {
        b.on_message(now, CLIENT, produce(1, partition, 1, 100), &mut out);
    }
}

fn cleaned(out: &Out<Message, Event>) -> Vec<(u32, u32)> {
    out.events
        .iter()
        .filter_map(|e| match e {
            Event::Cleaned {
                tp, dirty_per_mille, ..
            } => Some((tp.partition, *dirty_per_mille)),
            _ => None,
        })
        .collect()
}

/// `LogCleanerManager.grabFilthiestCompactedLog`: the cleaner takes the log with the highest
/// dirty ratio first, cleans every log above `min.cleanable.dirty.ratio` (0.8 here), none at or
/// below it, then waits `log.cleaner.backoff.ms`.
#[test]
fn the_cleaner_takes_the_filthiest_log_first_and_leaves_one_not_above_the_ratio() {
    let mut b = compacted_broker(keyed(&["a", "b"]), 3);
    fill(&mut b, 1, 7, T0);
    fill(&mut b, 2, 7, T0);
    let mut out = Out::new(false);
    b.run_cleaner(T0, &mut out);
    assert_eq!(
        cleaned(&out),
        [(1, 1000), (2, 1000)],
        "two closed segments each, all dirty"
    );
    // Every record has key a: a cleaning keeps one 100-byte batch. Partition 0: fresh, all dirty
    // (1.0); 1: 600 dirty bytes over 100 clean (0.857); 2: 300 over 100 (0.75, not above 0.8).
    fill(&mut b, 0, 7, T0);
    fill(&mut b, 1, 6, T0);
    fill(&mut b, 2, 3, T0);
    let mut out = Out::new(false);
    let before_backoff = SimTime::ZERO + SimDuration::from_ms(14_999);
    b.run_cleaner(before_backoff, &mut out);
    assert!(
        cleaned(&out).is_empty(),
        "it sleeps log.cleaner.backoff.ms (15 s)"
    );
    let after_backoff = SimTime::ZERO + SimDuration::from_ms(15_000);
    b.run_cleaner(after_backoff, &mut out);
    assert_eq!(cleaned(&out), [(0, 1000), (1, 857)]);
}

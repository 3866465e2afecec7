//! Turning stamped events into text lines (`   1.204ms  broker-2  append  orders-1 ...`) or JSON.

use super::{BatchInRequest, Event, Stamped, TxnStep};
use crate::kafka::keys::RecordKeys;
use crate::kafka::log::COMMIT_RECORD;
use crate::kafka::protocol::{BrokerId, ErrorCode, broker_list};
use crate::kafka::record::{RecordId, Tp};
use crate::scenario::Seek;
use crate::sim::NodeId;
use serde_json::{Value, json};
use std::fmt::Write;
use std::sync::Arc;

/// Display names of everything a trace mentions.
#[derive(Clone, Debug, Default)]
pub struct Names {
    /// Node names by [`NodeId`].
    pub nodes: Vec<String>,
    /// Topic names by index.
    pub topics: Vec<String>,
    /// Producer ids by index.
    pub producers: Vec<String>,
    /// Every producer record's key, and which records are tombstones.
    pub keys: Arc<RecordKeys>,
}

impl Names {
    /// `orders-1`.
    pub fn tp(&self, tp: Tp) -> String {
        format!("{}-{}", self.topics[tp.topic as usize], tp.partition)
    }

    /// `p1#17`.
    /// A group coordinator's record in `__consumer_offsets` (which no producer sent) is
    /// `offset-commit`.
    pub fn record(&self, r: RecordId) -> String {
        if r == COMMIT_RECORD {
            return "offset-commit".to_string();
        }
        format!("{}#{}", self.producers[r.producer as usize], r.seq)
    }

    /// The key of record number `seq` of producer `producer`, if it has one.
    pub fn key_of(&self, r: RecordId) -> Option<&str> {
        self.keys.key_name(r)
    }

    /// Record number `seq` of producer `producer` is a tombstone (its key, a null value).
    pub fn is_tombstone(&self, r: RecordId) -> bool {
        self.keys.is_tombstone(r)
    }

    fn node(&self, n: NodeId) -> &str {
        &self.nodes[n.0 as usize]
    }

    /// A node's name: `broker-1`, `controller`, or a client id.
    pub fn node_name(&self, n: NodeId) -> &str {
        self.node(n)
    }
}

/// Text or JSON lines.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum TraceFormat {
    /// Fixed-width columns for people.
    #[default]
    Text,
    /// One JSON object per line for scripts.
    Jsonl,
}

/// Accumulates trace lines.
pub struct TraceWriter {
    format: TraceFormat,
    node_width: usize,
    out: String,
}

const MAX_LISTED_RECORDS: usize = 8;

fn broker(b: BrokerId) -> String {
    format!("broker-{b}")
}

fn leader(l: Option<BrokerId>) -> String {
    l.map_or_else(|| "none".to_string(), broker)
}

fn offsets(first: u64, count: usize) -> String {
    match count {
        0 => "no records".to_string(),
        1 => format!("offset {first}"),
        n => format!("offsets {first}..{}", first + n as u64 - 1),
    }
}

/// The offsets of records read: `offsets 3..9`, and how many they are when a log cleaner left
/// gaps between them (`offsets 3..40, 6 records`).
fn read_offsets(records: &[(u64, RecordId)]) -> String {
    match (records.first(), records.last()) {
        (Some((first, _)), Some((last, _))) if last - first + 1 != records.len() as u64 => {
            format!("offsets {first}..{last}, {} records", records.len())
        }
        (Some((first, _)), _) => offsets(*first, records.len()),
        _ => offsets(0, 0),
    }
}

/// Base offsets of segments: all of them when few, else the first two and the last.
fn segment_list(bases: &[u64]) -> String {
    let shown: Vec<String> = match bases {
        [a, b, .., z] if bases.len() > 4 => vec![a.to_string(), b.to_string(), "…".into(), z.to_string()],
        _ => bases.iter().map(u64::to_string).collect(),
    };
    shown.join(", ")
}

fn plural(n: usize, one: &str) -> String {
    if n == 1 {
        format!("1 {one}")
    } else {
        format!("{n} {one}s")
    }
}

/// "1 request in flight fails" / "3 requests in flight fail".
fn in_flight_fail(n: u32) -> String {
    if n == 1 {
        "1 request in flight fails".to_string()
    } else {
        format!("{n} requests in flight fail")
    }
}

impl TraceWriter {
    /// A writer in `format` whose node column fits every name in `names`.
    pub fn new(format: TraceFormat, names: &Names) -> TraceWriter {
        let node_width = names.nodes.iter().map(String::len).max().unwrap_or(8).max(8);
        TraceWriter {
            format,
            node_width,
            out: String::new(),
        }
    }

    /// Appends one event.
    pub fn write(&mut self, e: &Stamped, names: &Names) {
        match self.format {
            TraceFormat::Text => {
                let (kind, detail) = text(&e.event, names);
                let _ = writeln!(
                    self.out,
                    "{:>12}  {:<w$}  {:<10} {}",
                    e.time.to_string(),
                    names.node(e.node),
                    kind,
                    detail,
                    w = self.node_width
                );
            }
            TraceFormat::Jsonl => {
                let mut obj = json(&e.event, names);
                if let Value::Object(map) = &mut obj {
                    map.insert("t_us".into(), json!(e.time.as_us()));
                    map.insert("node".into(), json!(names.node(e.node)));
                }
                let _ = writeln!(self.out, "{obj}");
            }
        }
    }

    /// Everything written so far.
    pub fn into_string(self) -> String {
        self.out
    }
}

/// Records by name; a tombstone says so: `p1#6(tombstone)`.
fn record_list(records: &[RecordId], names: &Names) -> String {
    let mut parts: Vec<String> = records
        .iter()
        .take(MAX_LISTED_RECORDS)
        .map(|r| {
            if names.is_tombstone(*r) {
                format!("{}(tombstone)", names.record(*r))
            } else {
                names.record(*r)
            }
        })
        .collect();
    if records.len() > MAX_LISTED_RECORDS {
        parts.push(format!("+{} more", records.len() - MAX_LISTED_RECORDS));
    }
    parts.join(" ")
}

fn batch_in_request(b: &BatchInRequest, names: &Names) -> String {
    let retry = if b.attempt > 0 {
        format!(", retry {}", b.attempt)
    } else {
        String::new()
    };
    let sequence = match b.sequence {
        Some(s) => format!(
            ", pid {} epoch {} seq {}",
            s.producer_id,
            s.epoch,
            span(u64::from(s.base_sequence), b.records as usize)
        ),
        None => String::new(),
    };
    format!(
        "{} batch {} ({}, {} B{retry}{sequence})",
        names.tp(b.tp),
        b.batch_id,
        plural(b.records as usize, "record"),
        b.bytes
    )
}

/// Partitions grouped by topic: `orders 0,1,2  payments 0`, or `nothing`.
fn partition_list(partitions: &[Tp], n: &Names) -> String {
    if partitions.is_empty() {
        return "nothing".to_string();
    }
    let mut by_topic: Vec<(u32, Vec<u32>)> = Vec::new();
    let mut sorted = partitions.to_vec();
    sorted.sort_unstable();
    for tp in sorted {
        match by_topic.last_mut() {
            Some((t, ps)) if *t == tp.topic => ps.push(tp.partition),
            _ => by_topic.push((tp.topic, vec![tp.partition])),
        }
    }
    by_topic
        .iter()
        .map(|(t, ps)| {
            let list: Vec<String> = ps.iter().map(u32::to_string).collect();
            format!("{} {}", n.topics[*t as usize], list.join(","))
        })
        .collect::<Vec<_>>()
        .join("  ")
}

/// `first..last` for `count` consecutive numbers from `first`, or just `first`.
fn span(first: u64, count: usize) -> String {
    match count {
        0 | 1 => first.to_string(),
        _ => format!("{first}..{}", first + count as u64 - 1),
    }
}

fn text(e: &Event, n: &Names) -> (&'static str, String) {
    match e {
        Event::Send {
            record,
            tp,
            key,
            batch_id,
            input,
        } => {
            let key = match key {
                // A tombstone: its key with a null value.
                Some(_) if n.is_tombstone(*record) => {
                    format!("key={} value=null", n.key_of(*record).unwrap_or("?"))
                }
                Some(_) => format!("key={}", n.key_of(input.unwrap_or(*record)).unwrap_or("?")),
                None => "key=null".to_string(),
            };
            let from = input.map_or(String::new(), |i| format!(" (output of {})", n.record(i)));
            (
                "send",
                format!(
                    "{}{from} {key} -> {} batch {batch_id}",
                    n.record(*record),
                    n.tp(*tp)
                ),
            )
        }
        Event::SendFailed { record, error } => ("send-fail", format!("{} {error}", n.record(*record))),
        Event::SendBlocked { record, waiting_for } => (
            "blocked",
            format!("send({}) blocks waiting for {waiting_for}", n.record(*record)),
        ),
        Event::ProduceSent {
            broker: b,
            correlation,
            acks,
            batches,
        } => {
            let list: Vec<String> = batches.iter().map(|b| batch_in_request(b, n)).collect();
            let acks = if *acks == -1 {
                "all".to_string()
            } else {
                acks.to_string()
            };
            (
                "produce",
                format!(
                    "-> {} req {correlation} acks={acks}: {}",
                    broker(*b),
                    list.join(", ")
                ),
            )
        }
        Event::BatchAcked {
            tp,
            batch_id,
            base_offset,
            records,
        } => {
            let at = match base_offset {
                Some(o) => offsets(*o, records.len()),
                None => "without offsets (acks=0)".to_string(),
            };
            ("acked", format!("{} batch {batch_id} {at}", n.tp(*tp)))
        }
        Event::BatchRetry {
            tp,
            batch_id,
            error,
            attempts,
            backoff,
            in_sequence_order,
            ..
        } => {
            let place = if *in_sequence_order {
                "back into the queue in sequence order"
            } else {
                "back to the front of the queue"
            };
            (
                "retry",
                format!(
                    "{} batch {batch_id} failed with {error}; attempt {attempts}, {place}, backoff {backoff}",
                    n.tp(*tp)
                ),
            )
        }
        Event::BatchFailed {
            tp,
            batch_id,
            error,
            records,
        } => (
            "failed",
            format!(
                "{} batch {batch_id} ({}) {error}",
                n.tp(*tp),
                plural(records.len(), "record")
            ),
        ),
        Event::LateResponse { tp, batch_id, result } => {
            let what = match result {
                Ok(o) => format!("appended at offset {o}"),
                Err(e) => e.to_string(),
            };
            (
                "late",
                format!(
                    "{} batch {batch_id}: broker says {what}, but the batch had already completed",
                    n.tp(*tp)
                ),
            )
        }
        Event::RequestTimedOut {
            broker: b,
            correlation,
            in_flight,
        } => (
            "timeout",
            format!(
                "req {correlation} to {} unanswered after request.timeout.ms: closing the connection ({})",
                broker(*b),
                in_flight_fail(*in_flight)
            ),
        ),
        Event::Disconnected { broker: b, in_flight } => (
            "disconnect",
            format!("{} ({})", broker(*b), in_flight_fail(*in_flight)),
        ),
        Event::Connecting { broker: b } => ("connect", format!("-> {}", broker(*b))),
        Event::Connected { broker: b } => ("connected", broker(*b)),
        Event::ConnectFailed { broker: b, why } => ("conn-fail", format!("{} {why}", broker(*b))),
        Event::MetadataRequested { broker: b } => ("metadata", format!("-> {}", broker(*b))),
        Event::MetadataUpdated { version, leaders } => {
            let list: Vec<String> = leaders
                .iter()
                .map(|(tp, l)| format!("{}={}", n.tp(*tp), l.map_or("none".into(), |b| b.to_string())))
                .collect();
            ("metadata", format!("v{version} leaders {}", list.join(" ")))
        }
        Event::Append {
            tp,
            base_offset,
            records,
            leader_epoch,
            high_watermark,
            ..
        } => (
            "append",
            format!(
                "{} {} epoch {leader_epoch} hw {high_watermark}: {}",
                n.tp(*tp),
                offsets(*base_offset, records.len()),
                record_list(records, n)
            ),
        ),
        Event::ProduceRejected { tp, batch_id, error } => {
            let why = if *error == ErrorCode::InvalidRecord {
                // `LogValidator.validateKey`'s record error, the only INVALID_RECORD modelled.
                format!(
                    ": Compacted topic cannot accept message without key in topic partition {}",
                    n.tp(*tp)
                )
            } else {
                String::new()
            };
            ("reject", format!("{} batch {batch_id} {error}{why}", n.tp(*tp)))
        }
        Event::DuplicateBatch {
            tp,
            batch_id,
            base_offset,
            records,
            ..
        } => (
            "duplicate",
            format!(
                "{} batch {batch_id} is already at {}: not appended again, answered with its offset",
                n.tp(*tp),
                offsets(*base_offset, *records as usize)
            ),
        ),
        Event::Replicated {
            tp,
            base_offset,
            records,
            log_end,
            ..
        } => (
            "replicate",
            format!(
                "{} {} from the leader, LEO {log_end}",
                n.tp(*tp),
                offsets(*base_offset, *records as usize)
            ),
        ),
        Event::HighWatermark {
            tp,
            high_watermark,
            last_stable_offset,
        } => {
            let lso = if last_stable_offset < high_watermark {
                format!(", LSO {last_stable_offset}")
            } else {
                String::new()
            };
            ("hw", format!("{} -> {high_watermark}{lso}", n.tp(*tp)))
        }
        Event::FollowerHighWatermark { tp, high_watermark } => (
            "hw",
            format!(
                "{} -> {high_watermark} (a follower, from the leader's fetch response)",
                n.tp(*tp)
            ),
        ),
        Event::IsrProposed { tp, isr, why } => (
            "isr",
            format!(
                "{} {why}: asks the controller for ISR [{}]",
                n.tp(*tp),
                broker_list(isr)
            ),
        ),
        Event::IsrChanged { tp, isr } => ("isr", format!("{} ISR is now [{}]", n.tp(*tp), broker_list(isr))),
        Event::Cleaned {
            tp,
            to,
            dirty_per_mille,
            superseded,
            tombstones,
            aborted_records,
            coordinator_records,
            bytes,
        } => {
            let mut removed = Vec::new();
            if !superseded.is_empty() {
                removed.push(format!(
                    "{} superseded by a later record of their key ({})",
                    plural(superseded.len(), "record"),
                    record_list(superseded, n)
                ));
            }
            if *aborted_records > 0 {
                removed.push(format!(
                    "{} of aborted transactions",
                    plural(*aborted_records as usize, "record")
                ));
            }
            if *coordinator_records > 0 {
                removed.push(format!(
                    "{} superseded",
                    plural(*coordinator_records as usize, "coordinator record")
                ));
            }
            if !tombstones.is_empty() {
                let list: Vec<String> = tombstones
                    .iter()
                    .take(MAX_LISTED_RECORDS)
                    .map(|(o, r)| format!("{} key {} at {o}", n.record(*r), n.key_of(*r).unwrap_or("?")))
                    .collect();
                removed.push(format!(
                    "{} past delete.retention.ms ({})",
                    plural(tombstones.len(), "tombstone"),
                    list.join(", ")
                ));
            }
            let removed = if removed.is_empty() {
                "nothing to remove".to_string()
            } else {
                format!("removed {}", removed.join("; "))
            };
            (
                "clean",
                format!(
                    "{} up to offset {to} (dirty ratio {}.{:03}): {removed}; {} -> {} bytes",
                    n.tp(*tp),
                    dirty_per_mille / 1000,
                    dirty_per_mille % 1000,
                    bytes.0,
                    bytes.1
                ),
            )
        }
        Event::SegmentRolled {
            tp,
            closed_base_offset,
            base_offset,
            why,
        } => (
            "roll",
            format!(
                "{} new segment at offset {base_offset} ({why}; segment {closed_base_offset} closed)",
                n.tp(*tp)
            ),
        ),
        Event::SegmentsDeleted {
            tp,
            base_offsets,
            bytes,
            from,
            to,
            why,
        } => (
            "retention",
            format!(
                "{} deleted {} [{}] ({bytes} bytes, {why}): {}",
                n.tp(*tp),
                plural(base_offsets.len(), "segment"),
                segment_list(base_offsets),
                if from == to {
                    format!("log start offset stays {to}")
                } else {
                    format!("log start offset {from} -> {to}")
                }
            ),
        ),
        Event::LogStartOffset { tp, from, to, why } => (
            "log-start",
            format!("{} log start offset {from} -> {to} ({why})", n.tp(*tp)),
        ),
        Event::TruncatedFully { tp, to, records } => (
            "truncate",
            format!(
                "{} fully, dropping {}: its log ended below the leader's log start offset {to}, it starts again there",
                n.tp(*tp),
                plural(*records as usize, "record")
            ),
        ),
        Event::DeleteRecords { tp, before, result } => (
            "delete",
            match result {
                Ok(start) => format!(
                    "{} DeleteRecords before offset {before}: log start offset now {start}",
                    n.tp(*tp)
                ),
                Err(e) => format!("{} DeleteRecords before offset {before} refused: {e}", n.tp(*tp)),
            },
        ),
        Event::Truncated {
            tp, to, records, why, ..
        } => (
            "truncate",
            format!(
                "{} to offset {to}, losing {}: {} ({why})",
                n.tp(*tp),
                plural(records.len(), "record"),
                record_list(records, n)
            ),
        ),
        Event::Processed { tp, records } => {
            let ids: Vec<RecordId> = records.iter().map(|r| r.1).collect();
            (
                "processed",
                format!(
                    "{} {}: {}",
                    n.tp(*tp),
                    read_offsets(records),
                    record_list(&ids, n)
                ),
            )
        }
        Event::CoordinatorFound { group, broker: b } => {
            ("group", format!("{group} coordinator is {}", broker(*b)))
        }
        Event::ConsumerRejoins { group, why } => ("rejoin", format!("{group}: {why}")),
        Event::ConsumerAssignment { assigned, revoked } => (
            "assignment",
            format!(
                "revoked {}; assigned {}",
                partition_list(revoked, n),
                partition_list(assigned, n)
            ),
        ),
        Event::CommitFailed { group, error } => ("commit-fail", format!("{group} {error}")),
        Event::PositionCommitted { tp, offset } => (
            "position",
            format!("{} {offset} (the group's committed offset)", n.tp(*tp)),
        ),
        Event::Consumed { tp, records, poll } => {
            let ids: Vec<RecordId> = records.iter().map(|r| r.1).collect();
            (
                "poll",
                format!(
                    "#{poll} {} {}: {}",
                    n.tp(*tp),
                    read_offsets(records),
                    record_list(&ids, n)
                ),
            )
        }
        Event::PositionReset { tp, offset, policy } => (
            "reset",
            format!("{} position {offset} (auto.offset.reset={policy})", n.tp(*tp)),
        ),
        Event::ConsumerError { tp, error } => ("error", format!("{} {error}", n.tp(*tp))),
        Event::Sought {
            tp,
            offset,
            seek,
            no_record_since,
        } => {
            let how = match (seek, no_record_since) {
                (_, Some(since)) => format!(
                    "offsetsForTimes({}) found no record that recent: seekToEnd",
                    since.human()
                ),
                (Seek::Time(since), None) => format!("offsetsForTimes({}), then seek", since.human()),
                (seek, None) => seek_method(*seek).to_string(),
            };
            ("seek", format!("{} position {offset} ({how})", n.tp(*tp)))
        }
        Event::ConsumerFailed { exception, message } => ("failed", format!("{exception}: {message}")),
        Event::BrokerFenced { broker: b, why } => ("fence", format!("{} ({why})", broker(*b))),
        Event::BrokerUnfenced { broker: b } => ("unfence", broker(*b)),
        Event::ProducerIdsAllocated {
            broker: b,
            first,
            size,
        } => (
            "pid-block",
            format!("producer ids {} -> {}", span(*first, *size as usize), broker(*b)),
        ),
        Event::ProducerIdRequested { broker: b } => ("init-pid", format!("-> {}", broker(*b))),
        Event::GroupState {
            group,
            state,
            generation,
        } => ("group", format!("{group} is {state} (generation {generation})")),
        Event::GroupRebalance { group, why } => ("group", format!("{group} rebalances: {why}")),
        Event::GroupMemberJoined { group, member } => ("group", format!("{group} member {member} joined")),
        Event::GroupMemberLeft { group, member, why } => {
            ("group", format!("{group} member {member} removed: {why}"))
        }
        Event::GroupMemberReplaced { group, old, new } => (
            "group",
            format!("{group} static member {old} comes back as {new}"),
        ),
        Event::GroupAssignment {
            group,
            member,
            generation,
            partitions,
        } => (
            "assign",
            format!(
                "{group} generation {generation}: {member} gets {}",
                partition_list(partitions, n)
            ),
        ),
        Event::OffsetsCommitted {
            group,
            member,
            offsets,
        } => {
            let list: Vec<String> = offsets
                .iter()
                .map(|(tp, o)| format!("{}={o}", n.tp(*tp)))
                .collect();
            ("commit", format!("{group} {member}: {}", list.join(" ")))
        }
        Event::OffsetsReset {
            group,
            offsets,
            clamped,
            empty,
        } => {
            let list: Vec<String> = offsets
                .iter()
                .map(|(tp, o)| format!("{}={o}", n.tp(*tp)))
                .collect();
            let mut text = format!("{group}: {}", list.join(" "));
            if list.is_empty() {
                text = format!("{group}: no partitions to reset");
            }
            for (tp, asked, set) in clamped {
                let (what, which) = if asked > set {
                    ("higher", "latest")
                } else {
                    ("lower", "earliest")
                };
                text.push_str(&format!(
                    "; New offset ({asked}) is {what} than {which} offset for topic partition {}. Value will be set to {set}",
                    n.tp(*tp)
                ));
            }
            for tp in empty {
                text.push_str(&format!(
                    "; Warn: Partition {} from topic {} is empty. Falling back to latest known offset.",
                    tp.partition, n.topics[tp.topic as usize]
                ));
            }
            ("reset-offsets", text)
        }
        Event::OffsetsExpired { group, partitions } => (
            "group",
            format!(
                "{group} offsets expired (offsets.retention.minutes): {}",
                partition_list(partitions, n)
            ),
        ),
        Event::OffsetsResetRefused { group, message } => {
            ("reset-offsets", format!("{group} refused: Error: {message}"))
        }
        Event::PartitionsAdded { topic, from, to } => (
            "partitions",
            format!(
                "{} grows from {from} to {to} partitions",
                n.topics[*topic as usize]
            ),
        ),
        Event::PartitionsRefused { topic, why } => (
            "partitions",
            format!(
                "{} not changed: INVALID_PARTITIONS {why}",
                n.topics[*topic as usize]
            ),
        ),
        Event::ProducerIdReceived { broker: b, result } => (
            "init-pid",
            match result {
                Ok(p) => format!("{} gave producer id {} epoch {}", broker(*b), p.id, p.epoch),
                Err(e) => format!(
                    "to {} failed: {e}; asking again after retry.backoff.ms",
                    broker(*b)
                ),
            },
        ),
        Event::EpochBumped { identity, partitions } => {
            let list: Vec<String> = partitions.iter().map(|tp| n.tp(*tp)).collect();
            (
                "epoch-bump",
                format!(
                    "producer id {} now epoch {}: {} starts over at sequence 0 (unfinished batches renumbered), other partitions at their next new batch",
                    identity.id,
                    identity.epoch,
                    list.join(" ")
                ),
            )
        }
        Event::RegistrationRefused { broker: b } => (
            "refuse",
            format!(
                "{} registration: DUPLICATE_BROKER_REGISTRATION (its old session has not expired)",
                broker(*b)
            ),
        ),
        Event::LeaderChanged {
            tp,
            leader: l,
            leader_epoch,
        } => (
            "leader",
            format!("{} -> {} epoch {leader_epoch}", n.tp(*tp), leader(*l)),
        ),
        Event::Fault { text } => ("FAULT", text.clone()),
        Event::Dropped { from, to, what, why } => (
            "drop",
            format!("{} -> {} {what} ({why})", n.node(*from), n.node(*to)),
        ),
        Event::Held { from, to, what } => (
            "held",
            format!(
                "{} -> {} {what} (link down: held until it heals)",
                n.node(*from),
                n.node(*to)
            ),
        ),
        Event::Stopped { why } => ("stopped", why.clone()),
        Event::TxnTransition {
            transactional_id,
            identity,
            from,
            to,
            why,
        } => (
            "txn-state",
            format!(
                "{transactional_id} (producer id {} epoch {}): {from} -> {to} ({why})",
                identity.id, identity.epoch
            ),
        ),
        Event::MarkerWritten {
            tp,
            offset,
            marker,
            high_watermark,
        } => (
            "marker",
            format!(
                "{} @{offset} {} for producer id {} epoch {} (HW {high_watermark})",
                n.tp(*tp),
                if marker.commit { "COMMIT" } else { "ABORT" },
                marker.producer_id,
                marker.producer_epoch
            ),
        ),
        Event::TxnVerify { coordinator, add } => (
            "txn-verify",
            format!(
                "asks the coordinator {} to {} the partition of a transactional batch",
                broker(*coordinator),
                if *add {
                    "add (version 2)"
                } else {
                    "verify (version 1)"
                }
            ),
        ),
        Event::Txn { step, .. } => ("txn", txn_step_text(step, n)),
        Event::Skipped {
            tp,
            offset,
            count,
            marker,
        } => (
            "skip",
            match marker {
                Some(commit) => format!(
                    "{} @{offset}: {} marker, not returned; the position moves past it",
                    n.tp(*tp),
                    if *commit { "COMMIT" } else { "ABORT" }
                ),
                None if *count == 1 => format!(
                    "{} @{offset}: a batch of an aborted transaction, dropped (read_committed)",
                    n.tp(*tp)
                ),
                None => format!(
                    "{} @{offset}..{}: a batch of an aborted transaction, dropped (read_committed)",
                    n.tp(*tp),
                    offset + u64::from(*count) - 1
                ),
            },
        ),
    }
}

fn records_json(records: &[RecordId], n: &Names) -> Value {
    Value::Array(records.iter().map(|r| json!(n.record(*r))).collect())
}

fn tp_json(tp: Tp, n: &Names) -> (Value, Value) {
    (json!(n.topics[tp.topic as usize]), json!(tp.partition))
}

fn json(e: &Event, n: &Names) -> Value {
    match e {
        Event::Send {
            record,
            tp,
            batch_id,
            input,
            ..
        } => {
            let (t, p) = tp_json(*tp, n);
            let mut v = json!({"event": "send", "record": n.record(*record), "key": n.key_of(input.unwrap_or(*record)), "topic": t, "partition": p, "batch": batch_id});
            if n.is_tombstone(*record) {
                v["tombstone"] = json!(true);
            }
            if let Some(i) = input {
                v["input"] = json!(n.record(*i));
            }
            v
        }
        Event::SendFailed { record, error } => {
            json!({"event": "send_failed", "record": n.record(*record), "error": error.name()})
        }
        Event::SendBlocked { record, waiting_for } => {
            json!({"event": "send_blocked", "record": n.record(*record), "waiting_for": waiting_for.to_string()})
        }
        Event::ProduceSent {
            broker,
            correlation,
            acks,
            batches,
        } => {
            let list: Vec<Value> = batches
                .iter()
                .map(|b| {
                    let (t, p) = tp_json(b.tp, n);
                    let mut v = json!({"topic": t, "partition": p, "batch": b.batch_id, "records": b.records, "bytes": b.bytes, "attempt": b.attempt});
                    if let Some(s) = b.sequence {
                        v["producer_id"] = json!(s.producer_id);
                        v["epoch"] = json!(s.epoch);
                        v["base_sequence"] = json!(s.base_sequence);
                    }
                    v
                })
                .collect();
            json!({"event": "produce", "broker": broker, "correlation": correlation, "acks": acks, "batches": list})
        }
        Event::BatchAcked {
            tp,
            batch_id,
            base_offset,
            records,
        } => {
            let (t, p) = tp_json(*tp, n);
            json!({"event": "acked", "topic": t, "partition": p, "batch": batch_id, "base_offset": base_offset, "records": records_json(records, n)})
        }
        Event::BatchRetry {
            tp,
            batch_id,
            error,
            attempts,
            backoff,
            in_sequence_order,
            records,
        } => {
            let (t, p) = tp_json(*tp, n);
            json!({"event": "retry", "topic": t, "partition": p, "batch": batch_id, "error": error.name(), "attempts": attempts, "backoff_us": backoff.as_us(), "in_sequence_order": in_sequence_order, "records": records_json(records, n)})
        }
        Event::BatchFailed {
            tp,
            batch_id,
            error,
            records,
        } => {
            let (t, p) = tp_json(*tp, n);
            json!({"event": "failed", "topic": t, "partition": p, "batch": batch_id, "error": error.name(), "records": records_json(records, n)})
        }
        Event::LateResponse { tp, batch_id, result } => {
            let (t, p) = tp_json(*tp, n);
            let (offset, error) = match result {
                Ok(o) => (Some(*o), None),
                Err(e) => (None, Some(e.name())),
            };
            json!({"event": "late_response", "topic": t, "partition": p, "batch": batch_id, "base_offset": offset, "error": error})
        }
        Event::RequestTimedOut {
            broker,
            correlation,
            in_flight,
        } => {
            json!({"event": "request_timed_out", "broker": broker, "correlation": correlation, "in_flight": in_flight})
        }
        Event::Disconnected { broker, in_flight } => {
            json!({"event": "disconnected", "broker": broker, "in_flight": in_flight})
        }
        Event::Connecting { broker } => json!({"event": "connecting", "broker": broker}),
        Event::Connected { broker } => json!({"event": "connected", "broker": broker}),
        Event::ConnectFailed { broker, why } => {
            json!({"event": "connect_failed", "broker": broker, "why": why})
        }
        Event::MetadataRequested { broker } => json!({"event": "metadata_requested", "broker": broker}),
        Event::MetadataUpdated { version, leaders } => {
            let list: Vec<Value> = leaders
                .iter()
                .map(|(tp, l)| {
                    let (t, p) = tp_json(*tp, n);
                    json!({"topic": t, "partition": p, "leader": l})
                })
                .collect();
            json!({"event": "metadata_updated", "version": version, "leaders": list})
        }
        Event::Append {
            tp,
            base_offset,
            records,
            leader_epoch,
            high_watermark,
            ..
        } => {
            let (t, p) = tp_json(*tp, n);
            json!({"event": "append", "topic": t, "partition": p, "base_offset": base_offset, "records": records_json(records, n), "leader_epoch": leader_epoch, "high_watermark": high_watermark})
        }
        Event::ProduceRejected { tp, batch_id, error } => {
            let (t, p) = tp_json(*tp, n);
            json!({"event": "produce_rejected", "topic": t, "partition": p, "batch": batch_id, "error": error.name()})
        }
        Event::DuplicateBatch {
            tp,
            batch_id,
            base_offset,
            records,
            ..
        } => {
            let (t, p) = tp_json(*tp, n);
            json!({"event": "duplicate_batch", "topic": t, "partition": p, "batch": batch_id, "base_offset": base_offset, "records": records})
        }
        Event::Replicated {
            tp,
            base_offset,
            records,
            log_end,
            ..
        } => {
            let (t, p) = tp_json(*tp, n);
            json!({"event": "replicated", "topic": t, "partition": p, "base_offset": base_offset, "records": records, "log_end": log_end})
        }
        Event::HighWatermark {
            tp,
            high_watermark,
            last_stable_offset,
        } => {
            let (t, p) = tp_json(*tp, n);
            let mut line = json!({"event": "high_watermark", "topic": t, "partition": p, "high_watermark": high_watermark});
            // Only where it differs, so runs without transactions keep their lines.
            if last_stable_offset < high_watermark {
                line["last_stable_offset"] = json!(last_stable_offset);
            }
            line
        }
        Event::FollowerHighWatermark { tp, high_watermark } => {
            let (t, p) = tp_json(*tp, n);
            json!({"event": "follower_high_watermark", "topic": t, "partition": p, "high_watermark": high_watermark})
        }
        Event::IsrProposed { tp, isr, why } => {
            let (t, p) = tp_json(*tp, n);
            json!({"event": "isr_proposed", "topic": t, "partition": p, "isr": isr, "why": why})
        }
        Event::IsrChanged { tp, isr } => {
            let (t, p) = tp_json(*tp, n);
            json!({"event": "isr_changed", "topic": t, "partition": p, "isr": isr})
        }
        Event::Cleaned {
            tp,
            to,
            dirty_per_mille,
            superseded,
            tombstones,
            aborted_records,
            coordinator_records,
            bytes,
        } => {
            let (t, p) = tp_json(*tp, n);
            let gone: Vec<Value> = tombstones
                .iter()
                .map(|(o, r)| json!({"offset": o, "record": n.record(*r)}))
                .collect();
            json!({"event": "cleaned", "topic": t, "partition": p, "to": to, "dirty_per_mille": dirty_per_mille, "superseded": records_json(superseded, n), "tombstones": gone, "aborted_records": aborted_records, "coordinator_records": coordinator_records, "bytes_before": bytes.0, "bytes_after": bytes.1})
        }
        Event::SegmentRolled {
            tp,
            closed_base_offset,
            base_offset,
            why,
        } => {
            let (t, p) = tp_json(*tp, n);
            json!({"event": "segment_rolled", "topic": t, "partition": p, "closed_base_offset": closed_base_offset, "base_offset": base_offset, "why": why})
        }
        Event::SegmentsDeleted {
            tp,
            base_offsets,
            bytes,
            from,
            to,
            why,
        } => {
            let (t, p) = tp_json(*tp, n);
            json!({"event": "segments_deleted", "topic": t, "partition": p, "base_offsets": base_offsets, "bytes": bytes, "from": from, "to": to, "why": why})
        }
        Event::LogStartOffset { tp, from, to, why } => {
            let (t, p) = tp_json(*tp, n);
            json!({"event": "log_start_offset", "topic": t, "partition": p, "from": from, "to": to, "why": why})
        }
        Event::TruncatedFully { tp, to, records } => {
            let (t, p) = tp_json(*tp, n);
            json!({"event": "truncated_fully", "topic": t, "partition": p, "to": to, "records": records})
        }
        Event::DeleteRecords { tp, before, result } => {
            let (t, p) = tp_json(*tp, n);
            match result {
                Ok(start) => {
                    json!({"event": "delete_records", "topic": t, "partition": p, "before": before, "log_start_offset": start})
                }
                Err(e) => {
                    json!({"event": "delete_records", "topic": t, "partition": p, "before": before, "error": e.name()})
                }
            }
        }
        Event::Truncated {
            tp, to, records, why, ..
        } => {
            let (t, p) = tp_json(*tp, n);
            json!({"event": "truncated", "topic": t, "partition": p, "to": to, "records": records_json(records, n), "why": why})
        }
        Event::Processed { tp, records } => {
            let (t, p) = tp_json(*tp, n);
            let list: Vec<Value> = records
                .iter()
                .map(|(o, r)| json!({"offset": o, "record": n.record(*r)}))
                .collect();
            json!({"event": "processed", "topic": t, "partition": p, "records": list})
        }
        Event::CoordinatorFound { group, broker } => {
            json!({"event": "coordinator_found", "group": group.as_ref(), "broker": broker})
        }
        Event::ConsumerRejoins { group, why } => {
            json!({"event": "rejoin", "group": group.as_ref(), "why": why})
        }
        Event::ConsumerAssignment { assigned, revoked } => {
            let list = |v: &[Tp]| -> Vec<Value> {
                v.iter()
                    .map(|tp| {
                        let (t, p) = tp_json(*tp, n);
                        json!({"topic": t, "partition": p})
                    })
                    .collect()
            };
            json!({"event": "assignment", "assigned": list(assigned), "revoked": list(revoked)})
        }
        Event::CommitFailed { group, error } => {
            json!({"event": "commit_failed", "group": group.as_ref(), "error": error.name()})
        }
        Event::PositionCommitted { tp, offset } => {
            let (t, p) = tp_json(*tp, n);
            json!({"event": "position_committed", "topic": t, "partition": p, "offset": offset})
        }
        Event::Consumed { tp, records, poll } => {
            let (t, p) = tp_json(*tp, n);
            let list: Vec<Value> = records
                .iter()
                .map(|(o, r)| json!({"offset": o, "record": n.record(*r)}))
                .collect();
            json!({"event": "consumed", "topic": t, "partition": p, "poll": poll, "records": list})
        }
        Event::PositionReset { tp, offset, policy } => {
            let (t, p) = tp_json(*tp, n);
            json!({"event": "position_reset", "topic": t, "partition": p, "offset": offset, "policy": policy})
        }
        Event::Sought {
            tp,
            offset,
            seek,
            no_record_since,
        } => {
            let (t, p) = tp_json(*tp, n);
            let mut v = json!({"event": "seek", "topic": t, "partition": p, "offset": offset, "how": seek_method(*seek)});
            if let Seek::Time(since) = seek {
                v["timestamp_ms"] = json!(since.as_ms());
            }
            if let Some(since) = no_record_since {
                v["no_record_since_ms"] = json!(since.as_ms());
            }
            v
        }
        Event::ConsumerFailed { exception, message } => {
            json!({"event": "consumer_failed", "exception": exception, "message": message})
        }
        Event::ConsumerError { tp, error } => {
            let (t, p) = tp_json(*tp, n);
            json!({"event": "consumer_error", "topic": t, "partition": p, "error": error.name()})
        }
        Event::OffsetsReset {
            group,
            offsets,
            clamped,
            empty,
        } => {
            let list: Vec<Value> = offsets
                .iter()
                .map(|(tp, o)| {
                    let (t, p) = tp_json(*tp, n);
                    json!({"topic": t, "partition": p, "offset": o})
                })
                .collect();
            let clamped: Vec<Value> = clamped
                .iter()
                .map(|(tp, asked, set)| {
                    let (t, p) = tp_json(*tp, n);
                    json!({"topic": t, "partition": p, "asked": asked, "set": set})
                })
                .collect();
            let empty: Vec<Value> = empty
                .iter()
                .map(|tp| {
                    let (t, p) = tp_json(*tp, n);
                    json!({"topic": t, "partition": p})
                })
                .collect();
            json!({"event": "offsets_reset", "group": group.as_ref(), "offsets": list, "clamped": clamped, "empty": empty})
        }
        Event::OffsetsExpired { group, partitions } => {
            let list: Vec<Value> = partitions
                .iter()
                .map(|tp| {
                    let (t, p) = tp_json(*tp, n);
                    json!({"topic": t, "partition": p})
                })
                .collect();
            json!({"event": "offsets_expired", "group": group.as_ref(), "partitions": list})
        }
        Event::OffsetsResetRefused { group, message } => {
            json!({"event": "offsets_reset_refused", "group": group.as_ref(), "message": message})
        }
        Event::BrokerFenced { broker, why } => {
            json!({"event": "broker_fenced", "broker": broker, "why": why})
        }
        Event::BrokerUnfenced { broker } => json!({"event": "broker_unfenced", "broker": broker}),
        Event::ProducerIdsAllocated { broker, first, size } => {
            json!({"event": "producer_ids_allocated", "broker": broker, "first": first, "size": size})
        }
        Event::ProducerIdRequested { broker } => json!({"event": "init_producer_id", "broker": broker}),
        Event::GroupState {
            group,
            state,
            generation,
        } => {
            json!({"event": "group_state", "group": group.as_ref(), "state": state.to_string(), "generation": generation})
        }
        Event::GroupRebalance { group, why } => {
            json!({"event": "group_rebalance", "group": group.as_ref(), "why": why})
        }
        Event::GroupMemberJoined { group, member } => {
            json!({"event": "group_member_joined", "group": group.as_ref(), "member": member.as_ref()})
        }
        Event::GroupMemberLeft { group, member, why } => {
            json!({"event": "group_member_left", "group": group.as_ref(), "member": member.as_ref(), "why": why})
        }
        Event::GroupMemberReplaced { group, old, new } => {
            json!({"event": "group_member_replaced", "group": group.as_ref(), "old": old.as_ref(), "new": new.as_ref()})
        }
        Event::GroupAssignment {
            group,
            member,
            generation,
            partitions,
        } => {
            let list: Vec<Value> = partitions
                .iter()
                .map(|tp| {
                    let (t, p) = tp_json(*tp, n);
                    json!({"topic": t, "partition": p})
                })
                .collect();
            json!({"event": "group_assignment", "group": group.as_ref(), "member": member.as_ref(), "generation": generation, "partitions": list})
        }
        Event::OffsetsCommitted {
            group,
            member,
            offsets,
        } => {
            let list: Vec<Value> = offsets
                .iter()
                .map(|(tp, o)| {
                    let (t, p) = tp_json(*tp, n);
                    json!({"topic": t, "partition": p, "offset": o})
                })
                .collect();
            json!({"event": "offsets_committed", "group": group.as_ref(), "member": member.as_ref(), "offsets": list})
        }
        Event::PartitionsAdded { topic, from, to } => {
            json!({"event": "partitions_added", "topic": n.topics[*topic as usize], "from": from, "to": to})
        }
        Event::PartitionsRefused { topic, why } => {
            json!({"event": "partitions_refused", "topic": n.topics[*topic as usize], "error": "INVALID_PARTITIONS", "why": why})
        }
        Event::ProducerIdReceived { broker, result } => match result {
            Ok(p) => json!({"event": "producer_id", "broker": broker, "producer_id": p.id, "epoch": p.epoch}),
            Err(e) => json!({"event": "producer_id", "broker": broker, "error": e.name()}),
        },
        Event::EpochBumped { identity, partitions } => {
            let list: Vec<Value> = partitions
                .iter()
                .map(|tp| {
                    let (t, p) = tp_json(*tp, n);
                    json!({"topic": t, "partition": p})
                })
                .collect();
            json!({"event": "epoch_bumped", "producer_id": identity.id, "epoch": identity.epoch, "partitions": list})
        }
        Event::RegistrationRefused { broker } => {
            json!({"event": "registration_refused", "broker": broker, "error": "DUPLICATE_BROKER_REGISTRATION"})
        }
        Event::LeaderChanged {
            tp,
            leader,
            leader_epoch,
        } => {
            let (t, p) = tp_json(*tp, n);
            json!({"event": "leader_changed", "topic": t, "partition": p, "leader": leader, "leader_epoch": leader_epoch})
        }
        Event::Fault { text } => json!({"event": "fault", "fault": text}),
        Event::Dropped { from, to, what, why } => {
            json!({"event": "dropped", "from": n.node(*from), "to": n.node(*to), "message": what, "why": why})
        }
        Event::Held { from, to, what } => {
            json!({"event": "held", "from": n.node(*from), "to": n.node(*to), "message": what})
        }
        Event::Stopped { why } => json!({"event": "stopped", "why": why}),
        Event::TxnTransition {
            transactional_id,
            identity,
            from,
            to,
            why,
        } => {
            json!({"event": "txn_state", "transactional_id": transactional_id.as_ref(), "producer_id": identity.id, "epoch": identity.epoch, "from": from.name(), "to": to.name(), "why": why})
        }
        Event::MarkerWritten {
            tp,
            offset,
            marker,
            high_watermark,
        } => {
            let (t, p) = tp_json(*tp, n);
            json!({"event": "marker", "topic": t, "partition": p, "offset": offset, "commit": marker.commit, "producer_id": marker.producer_id, "epoch": marker.producer_epoch, "coordinator_epoch": marker.coordinator_epoch, "high_watermark": high_watermark})
        }
        Event::TxnVerify { coordinator, add } => {
            json!({"event": "txn_verify", "coordinator": coordinator, "add": add})
        }
        Event::Txn { producer, step } => txn_step_json(*producer, step, n),
        Event::Skipped {
            tp,
            offset,
            count,
            marker,
        } => {
            let (t, p) = tp_json(*tp, n);
            json!({"event": "skipped", "topic": t, "partition": p, "offset": offset, "count": count, "marker": marker.map(|c| if c { "COMMIT" } else { "ABORT" })})
        }
    }
}

/// A transactional producer's step, for people.
fn txn_step_text(step: &TxnStep, n: &Names) -> String {
    match step {
        TxnStep::Coordinator(b) => format!("transaction coordinator is broker {b}"),
        TxnStep::Initialized(p) => format!("initTransactions() done: producer id {} epoch {}", p.id, p.epoch),
        TxnStep::Begin { txn, first } => format!("beginTransaction() #{txn}, first record #{first}"),
        TxnStep::PartitionsAdded(tps) => {
            let list: Vec<String> = tps.iter().map(|tp| n.tp(*tp)).collect();
            format!("AddPartitionsToTxn done: {}", list.join(" "))
        }
        TxnStep::Ending { txn, commit: true } => format!("commitTransaction() #{txn}: flush, then EndTxn"),
        TxnStep::Ending { txn, commit: false } => {
            format!("abortTransaction() #{txn}: batches not sent yet fail, then EndTxn")
        }
        TxnStep::Ended {
            txn,
            commit,
            records,
            next,
        } => format!(
            "transaction #{txn} {} ({records} records); next: producer id {} epoch {}",
            if *commit { "committed" } else { "aborted" },
            next.id,
            next.epoch
        ),
        TxnStep::Error { error, fatal } => {
            if *fatal {
                format!("{error}: fatal, the producer stops")
            } else {
                format!("{error}: the transaction must be aborted")
            }
        }
    }
}

/// A transactional producer's step, as JSON.
fn txn_step_json(producer: u32, step: &TxnStep, n: &Names) -> Value {
    let who = n.producers[producer as usize].as_str();
    match step {
        TxnStep::Coordinator(b) => json!({"event": "txn_coordinator", "producer": who, "broker": b}),
        TxnStep::Initialized(p) => {
            json!({"event": "txn_initialized", "producer": who, "producer_id": p.id, "epoch": p.epoch})
        }
        TxnStep::Begin { txn, first } => {
            json!({"event": "txn_begin", "producer": who, "txn": txn, "first": first})
        }
        TxnStep::PartitionsAdded(tps) => {
            let list: Vec<Value> = tps
                .iter()
                .map(|tp| {
                    let (t, p) = tp_json(*tp, n);
                    json!({"topic": t, "partition": p})
                })
                .collect();
            json!({"event": "txn_partitions_added", "producer": who, "partitions": list})
        }
        TxnStep::Ending { txn, commit } => {
            json!({"event": "txn_ending", "producer": who, "txn": txn, "commit": commit})
        }
        TxnStep::Ended {
            txn,
            commit,
            records,
            next,
        } => {
            json!({"event": "txn_ended", "producer": who, "txn": txn, "commit": commit, "records": records, "producer_id": next.id, "epoch": next.epoch})
        }
        TxnStep::Error { error, fatal } => {
            json!({"event": "txn_error", "producer": who, "error": error.name(), "fatal": fatal})
        }
    }
}

/// The `KafkaConsumer` method a seek stands for.
fn seek_method(s: Seek) -> &'static str {
    match s {
        Seek::Beginning => "seekToBeginning",
        Seek::End => "seekToEnd",
        Seek::Offset(_) => "seek",
        Seek::Time(_) => "offsetsForTimes",
    }
}

//! The compaction checkers, over the topics whose `cleanup.policy` has `compact`:
//!
//! - `compaction_lost`: a compacted topic is a table. For each key of each partition, its last
//!   acknowledged write (highest acknowledged offset; acks=0 sends, whose offsets the producer
//!   never learns, and records of aborted transactions are left out) must be what a read of the
//!   whole final log (below its high watermark) gives for the key: that record or a later one;
//!   and a key whose last acknowledged write is a tombstone must read as deleted, whether the
//!   tombstone is still there or already removed. A finding is proven wrong by a read of the
//!   partition from its log start that gives the acknowledged record (or a later one) for the key.
//! - `missed_tombstone`: a consumer read a value of a key; the key's tombstone, at a later offset,
//!   was removed by a log cleaner (`delete.retention.ms` after its first cleaning); and the
//!   consumer never read it, yet read past its offset after the removal: it never learned of the
//!   delete. Proven wrong by the consumer reading that tombstone.

use super::expect::Measure;
use super::label;
use super::scan::Finding;
use crate::history::{Outcome, TombstoneRemoval};
use crate::kafka::keys::KeyId;
use crate::kafka::log::PartitionLog;
use crate::kafka::record::{RecordId, Tp};
use crate::scenario::Scenario;
use crate::sim::SimTime;
use crate::simulation::RunResult;
use std::collections::{BTreeMap, BTreeSet};

/// On compacted topics, the latest acknowledged offset of each key in each partition: what
/// supersedes the key's earlier records, which a log cleaner may then remove.
pub struct Superseding<'a> {
    result: &'a RunResult,
    latest: BTreeMap<(Tp, KeyId), u64>,
}

impl<'a> Superseding<'a> {
    /// From the producers' acknowledgements.
    pub fn new(scenario: &Scenario, result: &'a RunResult) -> Superseding<'a> {
        let keys = &result.names.keys;
        let mut latest: BTreeMap<(Tp, KeyId), u64> = BTreeMap::new();
        for (p, ph) in result.history.producers.iter().enumerate() {
            for (seq, h) in ph.records.iter().enumerate() {
                let r = RecordId {
                    producer: p as u32,
                    seq: seq as u32,
                };
                if let (Outcome::Acked { offset: Some(o), .. }, Some(tp), Some(k)) =
                    (h.outcome(), h.tp(), keys.key(r))
                    && compacted(scenario, tp)
                {
                    let slot = latest.entry((tp, k)).or_insert(o);
                    *slot = (*slot).max(o);
                }
            }
        }
        Superseding { result, latest }
    }

    /// Record `r`, at `offset` of `tp`, may have been removed by a log cleaner: a later
    /// acknowledged write of its key supersedes it, or it is a tombstone (which a cleaner removes
    /// once its delete horizon passed). Whether the key still reads right is `compaction_lost`'s
    /// question.
    pub fn may_be_cleaned(&self, r: RecordId, tp: Tp, offset: u64) -> bool {
        let keys = &self.result.names.keys;
        let Some(k) = keys.key(r) else { return false };
        match self.latest.get(&(tp, k)) {
            Some(latest) => *latest > offset || keys.is_tombstone(r),
            None => false,
        }
    }
}

/// The topic of `tp` is compacted.
fn compacted(scenario: &Scenario, tp: Tp) -> bool {
    scenario
        .topics
        .get(tp.topic as usize)
        .is_some_and(|t| t.config.cleanup_policy.compact)
}

/// A history file has no log of `tp` read at the end.
fn unreadable(result: &RunResult, tp: Tp) -> bool {
    result
        .recorded
        .as_ref()
        .is_some_and(|rec| rec.unreadable.contains(&tp))
}

/// A record of an aborted transaction: no reader of committed data sees it.
fn aborted(result: &RunResult, r: RecordId) -> bool {
    result
        .history
        .producers
        .get(r.producer as usize)
        .is_some_and(|p| p.in_aborted_txn(r.seq))
}

/// What a read of the whole log gives: each key's last record below the high watermark.
fn final_read(result: &RunResult, log: &PartitionLog) -> BTreeMap<KeyId, (u64, RecordId)> {
    let keys = &result.names.keys;
    let mut read = BTreeMap::new();
    for (offset, r) in log.committed() {
        if aborted(result, r) {
            continue;
        }
        if let Some(k) = keys.key(r) {
            read.insert(k, (offset, r));
        }
    }
    read
}

/// One finding per (partition, key) of a compacted topic whose last acknowledged write the
/// final log does not give.
pub fn compaction_lost(scenario: &Scenario, result: &RunResult) -> Vec<Finding> {
    let keys = &result.names.keys;
    let names = &result.names;
    let mut last: BTreeMap<(Tp, KeyId), (u64, RecordId)> = BTreeMap::new();
    for (p, ph) in result.history.producers.iter().enumerate() {
        for (seq, h) in ph.records.iter().enumerate() {
            let r = RecordId {
                producer: p as u32,
                seq: seq as u32,
            };
            let (Outcome::Acked { offset: Some(o), .. }, Some(tp), Some(k)) =
                (h.outcome(), h.tp(), keys.key(r))
            else {
                continue;
            };
            if !compacted(scenario, tp) || ph.in_aborted_txn(r.seq) {
                continue;
            }
            let slot = last.entry((tp, k)).or_insert((o, r));
            if o > slot.0 {
                *slot = (o, r);
            }
        }
    }
    let mut reads: BTreeMap<Tp, BTreeMap<KeyId, (u64, RecordId)>> = BTreeMap::new();
    let mut out = Vec::new();
    for ((tp, k), (acked_offset, acked)) in last {
        let Some(log) = result.logs.get(&tp).filter(|_| !unreadable(result, tp)) else {
            continue;
        };
        let read = reads.entry(tp).or_insert_with(|| final_read(result, log));
        let got = read.get(&k).copied();
        let deleted_wanted = keys.is_tombstone(acked);
        let lost = match got {
            Some((o, _)) if o >= acked_offset => false,
            Some((_, r)) => !(deleted_wanted && keys.is_tombstone(r)),
            None => !deleted_wanted,
        };
        if !lost {
            continue;
        }
        let reads_as = match got {
            Some((o, r)) if keys.is_tombstone(r) => {
                format!("deleted (an older tombstone, {} at offset {o})", names.record(r))
            }
            Some((o, r)) => format!("{} (offset {o})", names.record(r)),
            None => "nothing: the key is gone".to_string(),
        };
        let wanted = if deleted_wanted { "a tombstone, " } else { "" };
        out.push(Finding {
            measure: Measure::CompactionLost,
            processor: None,
            consumer: None,
            record: acked,
            tp,
            other: got.map(|(_, r)| r),
            headline: format!(
                "key {} of {}: its last acknowledged write, {wanted}{} at offset {acked_offset}, reads as {reads_as} in the final log (high watermark {})",
                keys.name(k),
                names.tp(tp),
                names.record(acked),
                log.high_watermark()
            ),
        });
    }
    out
}

/// A recorded history does not see a cleaner: a tombstone was removed when it was acknowledged at
/// an offset of a compacted topic's partition, is still its key's last acknowledged write (a
/// later write could have superseded it), and the final log, read from its log start offset to
/// its high watermark, does not hold it though the offset lies in between. When is not known: by
/// the first read of a later offset by a consumer that never read it (a reader reads in offset
/// order), or else by the end of the run.
fn recorded_removals(scenario: &Scenario, result: &RunResult) -> Vec<TombstoneRemoval> {
    let keys = &result.names.keys;
    let h = &result.history;
    let superseding = Superseding::new(scenario, result);
    let mut present: BTreeMap<Tp, BTreeSet<u64>> = BTreeMap::new();
    let mut out = Vec::new();
    for (p, ph) in h.producers.iter().enumerate() {
        for (seq, rh) in ph.records.iter().enumerate() {
            let record = RecordId {
                producer: p as u32,
                seq: seq as u32,
            };
            let (
                Outcome::Acked {
                    offset: Some(offset), ..
                },
                Some(tp),
            ) = (rh.outcome(), rh.tp())
            else {
                continue;
            };
            if !keys.is_tombstone(record) || !compacted(scenario, tp) || unreadable(result, tp) {
                continue;
            }
            let Some(log) = result.logs.get(&tp) else { continue };
            let superseded = keys
                .key(record)
                .and_then(|k| superseding.latest.get(&(tp, k)))
                .is_some_and(|latest| *latest > offset);
            let inside = (log.log_start_offset()..log.high_watermark()).contains(&offset);
            let held = present
                .entry(tp)
                .or_insert_with(|| log.records().map(|(o, _)| o).collect());
            if superseded || !inside || held.contains(&offset) {
                continue;
            }
            let read_it: BTreeSet<u32> = h
                .consumed
                .iter()
                .filter(|c| c.record == record)
                .map(|c| c.consumer)
                .collect();
            let at = h
                .consumed
                .iter()
                .find(|c| c.tp == tp && c.offset > offset && !read_it.contains(&c.consumer))
                .map_or(result.end, |c| c.at);
            out.push(TombstoneRemoval {
                at,
                broker: result.holders.get(&tp).and_then(|hd| hd.first()).unwrap_or(0),
                tp,
                offset,
                record,
            });
        }
    }
    out.sort_by_key(|t| t.at);
    out
}

/// One finding per (consumer, tombstone) the consumer missed because a cleaner removed it.
pub fn missed_tombstone(scenario: &Scenario, result: &RunResult) -> Vec<Finding> {
    let keys = &result.names.keys;
    let names = &result.names;
    let h = &result.history;
    // The first removal of each tombstone from the log of the partition's leader at the time
    // (what consumers read), or else from any replica's log.
    let led = |t: &TombstoneRemoval| h.partition_at(t.tp, t.at).and_then(|v| v.leader) == Some(t.broker);
    let mut removed: BTreeMap<RecordId, TombstoneRemoval> = BTreeMap::new();
    let recorded = match result.recorded {
        Some(_) => recorded_removals(scenario, result),
        None => Vec::new(),
    };
    let removals = match result.recorded {
        Some(_) => &recorded,
        None => &h.tombstone_removals,
    };
    for t in removals {
        let slot = removed.entry(t.record).or_insert(*t);
        if !led(slot) && led(t) {
            *slot = *t;
        }
    }
    if removed.is_empty() {
        return Vec::new();
    }
    let tps: BTreeSet<Tp> = removed.values().map(|t| t.tp).collect();
    // Per consumer and partition: the tombstones it read, the first value it read of each key
    // (offset, record, when), and its reads in time order.
    let mut read_tombstones: BTreeSet<(u32, RecordId)> = BTreeSet::new();
    let mut first_value: BTreeMap<(u32, Tp, KeyId), (u64, RecordId, SimTime)> = BTreeMap::new();
    let mut reads: BTreeMap<(u32, Tp), Vec<(SimTime, u64)>> = BTreeMap::new();
    for c in h.consumed.iter().filter(|c| tps.contains(&c.tp)) {
        reads
            .entry((c.consumer, c.tp))
            .or_default()
            .push((c.at, c.offset));
        if keys.is_tombstone(c.record) {
            read_tombstones.insert((c.consumer, c.record));
        } else if let Some(k) = keys.key(c.record) {
            first_value
                .entry((c.consumer, c.tp, k))
                .or_insert((c.offset, c.record, c.at));
        }
    }
    let mut out = Vec::new();
    for t in removed.values() {
        let Some(k) = keys.key(t.record) else { continue };
        for (ci, consumer) in scenario.consumers.iter().enumerate() {
            let ci = ci as u32;
            let Some(&(value_offset, value, value_at)) = first_value.get(&(ci, t.tp, k)) else {
                continue;
            };
            if value_offset >= t.offset || read_tombstones.contains(&(ci, t.record)) {
                continue;
            }
            let Some((past_at, past_offset)) = reads
                .get(&(ci, t.tp))
                .and_then(|list| list.iter().find(|(at, o)| *at >= t.at && *o > t.offset))
                .copied()
            else {
                continue;
            };
            let how = match result.recorded {
                // A history does not say when a cleaner removed it: by the first read past it.
                Some(_) => format!(
                    "it is not in broker-{}'s final log, below its high watermark, so a log cleaner removed it (by {}, when a consumer first read past it without it)",
                    t.broker, t.at
                ),
                None => format!(
                    "broker-{}'s cleaner removed it at {} (delete.retention.ms had passed)",
                    t.broker, t.at
                ),
            };
            out.push(Finding {
                measure: Measure::MissedTombstone,
                processor: None,
                consumer: Some(ci),
                record: t.record,
                tp: t.tp,
                other: Some(value),
                headline: format!(
                    "{} read {} at {} offset {value_offset} at {value_at}, but never the key's tombstone {} (offset {}): {how}, and {} read on past it (offset {past_offset} at {past_at})",
                    consumer.id,
                    label(names, value),
                    names.tp(t.tp),
                    names.record(t.record),
                    t.offset,
                    consumer.id,
                ),
            });
        }
    }
    out
}

//! `expired_unread`: records a consumer group (or a consumer without a group) never read because
//! retention or `DeleteRecords` deleted them first.
//!
//! A record counts for a reader when the partition's leader moved its log start offset past the
//! record while the reader's position there was at or below it, and none of the reader's
//! consumers ever returned it from `poll()`. The reader's position is the last one any of its
//! consumers took (the group's committed offset, `auto.offset.reset` or a seek), read to (one
//! past a record `poll()` returned) or, for a group, committed (an admin's `ResetOffsets`
//! included). A record still in the log is never counted, however far behind the reader is; nor
//! is one the reader had already passed, or one deleted before the reader had a position there
//! (a group that starts later cannot have lost what was gone before it came).
//!
//! From a history file, the moves are its `log_start` lines and the records at each offset its
//! acknowledgements and reads (`recorded_appends`).

use super::Finding;
use super::expect::Measure;
use super::label;
use crate::history::records::RecordList;
use crate::history::{AppendHistory, History, LogStartMove, Outcome};
use crate::kafka::record::{RecordId, Tp};
use crate::scenario::{IsolationLevel, Scenario};
use crate::sim::SimTime;
use crate::simulation::RunResult;
use std::collections::{BTreeMap, BTreeSet};

/// Who reads independently: a group (all its members), or one consumer without a group.
struct Reader<'a> {
    /// The group's name, or `None` for a consumer without one.
    group: Option<&'a str>,
    /// The consumers (indexes in the scenario).
    consumers: Vec<u32>,
    /// The topics any of them reads.
    topics: BTreeSet<u32>,
    /// Every one of them reads `read_committed`: aborted records are not theirs to read.
    read_committed: bool,
}

/// The scenario's independent readers, groups first (by name), then group-less consumers.
fn readers(scenario: &Scenario) -> Vec<Reader<'_>> {
    let mut groups: BTreeMap<&str, Vec<u32>> = BTreeMap::new();
    let mut alone = Vec::new();
    for (i, c) in scenario.consumers.iter().enumerate() {
        match &c.group {
            Some(g) => groups.entry(g.as_str()).or_default().push(i as u32),
            None => alone.push((None, vec![i as u32])),
        }
    }
    groups
        .into_iter()
        .map(|(g, members)| (Some(g), members))
        .chain(alone)
        .map(|(group, consumers)| {
            let specs = || consumers.iter().map(|c| &scenario.consumers[*c as usize]);
            Reader {
                group,
                topics: specs().flat_map(|c| c.topics.iter().map(|t| *t as u32)).collect(),
                read_committed: specs().all(|c| c.config.isolation == IsolationLevel::ReadCommitted),
                consumers,
            }
        })
        .collect()
}

/// Where a reader stood on one partition over time, oldest first.
fn positions(h: &History, r: &Reader<'_>, tp: Tp) -> Vec<Stood> {
    let mine = |c: u32| r.consumers.contains(&c);
    let mut list: Vec<Stood> = h
        .positions
        .iter()
        .filter(|(_, c, at, _)| *at == tp && mine(*c))
        .map(|(t, c, _, o)| (*t, *o, Some(*c)))
        .collect();
    if let Some(g) = r.group {
        list.extend(
            h.commits
                .iter()
                .filter(|c| c.tp == tp && c.group.as_ref() == g)
                .map(|c| (c.at, c.offset, None)),
        );
    }
    list.extend(
        h.consumed
            .iter()
            .filter(|c| c.tp == tp && mine(c.consumer))
            .map(|c| (c.at, c.offset + 1, Some(c.consumer))),
    );
    // Stable: at one moment, a record read comes after the position it was read from.
    list.sort_by_key(|(t, _, _)| *t);
    list
}

/// Where a reader stood on a partition: since when, the position, and the consumer that took it
/// (`None`: a commit outside the group's members, an admin's reset).
type Stood = (SimTime, u64, Option<u32>);

/// `expired_unread`, by reader, partition and offset.
pub fn expired_unread(scenario: &Scenario, result: &RunResult) -> Vec<Finding> {
    let h = &result.history;
    let mut moves: BTreeMap<Tp, Vec<&LogStartMove>> = BTreeMap::new();
    for m in &h.log_starts {
        moves.entry(m.tp).or_default().push(m);
    }
    let recorded = match result.recorded {
        Some(_) => recorded_appends(result, &moves),
        None => Vec::new(),
    };
    let source = match result.recorded {
        Some(_) => &recorded,
        None => &h.appends,
    };
    let mut appends: BTreeMap<Tp, Vec<&AppendHistory>> = BTreeMap::new();
    for a in source.iter().filter(|a| moves.contains_key(&a.tp)) {
        appends.entry(a.tp).or_default().push(a);
    }
    let aborted = |r: RecordId| {
        h.producers
            .get(r.producer as usize)
            .is_some_and(|p| p.in_aborted_txn(r.seq))
    };
    let mut out = Vec::new();
    for reader in readers(scenario) {
        for (tp, steps) in moves.iter().filter(|(tp, _)| reader.topics.contains(&tp.topic)) {
            let read: BTreeSet<u64> = h
                .consumed
                .iter()
                .filter(|c| c.tp == *tp && reader.consumers.contains(&c.consumer))
                .map(|c| c.offset)
                .collect();
            let stood = positions(h, &reader, *tp);
            let written = appends.get(tp).map_or(&[][..], Vec::as_slice);
            let not_theirs = |r: RecordId| reader.read_committed && aborted(r);
            for hit in deleted_unread(steps, &stood, written, &read, not_theirs) {
                out.push(finding(scenario, result, &reader, *tp, &hit));
            }
        }
    }
    out
}

/// A recorded history has no appends: each record of a partition whose log start offset moved,
/// at the offset its producer's acknowledgement or a consumer's read gave (a read wins: it is what
/// the log held), as appended from the start. Which records a move deleted is told by their
/// offsets; a record a move deleted was appended before it, and a history does not say when.
fn recorded_appends(result: &RunResult, moves: &BTreeMap<Tp, Vec<&LogStartMove>>) -> Vec<AppendHistory> {
    let h = &result.history;
    let mut at: BTreeMap<(Tp, u64), (SimTime, RecordId)> = BTreeMap::new();
    for (p, ph) in h.producers.iter().enumerate() {
        for (seq, r) in ph.records.iter().enumerate() {
            let (
                Outcome::Acked {
                    at: acked,
                    offset: Some(o),
                },
                Some(tp),
            ) = (r.outcome(), r.tp())
            else {
                continue;
            };
            let record = RecordId {
                producer: p as u32,
                seq: seq as u32,
            };
            // Two acks at one offset (the first lost with its leader): the later one holds it.
            let slot = at.entry((tp, o)).or_insert((acked, record));
            if acked >= slot.0 {
                *slot = (acked, record);
            }
        }
    }
    for c in &h.consumed {
        at.insert((c.tp, c.offset), (c.at, c.record));
    }
    at.into_iter()
        .filter(|((tp, _), _)| moves.contains_key(tp))
        .map(|((tp, offset), (_, record))| AppendHistory {
            at: SimTime::ZERO,
            broker: 0,
            tp,
            base_offset: offset,
            leader_epoch: 0,
            records: RecordList::new(&[record]),
        })
        .collect()
}

/// A record deleted while a reader stood at or below it, never read.
#[derive(Debug, PartialEq, Eq)]
struct Hit<'a> {
    /// Its offset.
    offset: u64,
    /// The record.
    record: RecordId,
    /// The move of the log start offset that deleted it.
    step: &'a LogStartMove,
    /// Where the reader stood then.
    stood: Stood,
}

/// Walks the leader's appends and its log start offset's moves in time order: each move deletes
/// the records appended before it at the offsets it passes; those at or above where the reader
/// stood then (if it stood anywhere yet), not in `read` and not `not_theirs`, are hits.
fn deleted_unread<'a>(
    steps: &[&'a LogStartMove],
    stood: &[Stood],
    written: &[&AppendHistory],
    read: &BTreeSet<u64>,
    not_theirs: impl Fn(RecordId) -> bool,
) -> Vec<Hit<'a>> {
    // The leader's log as the appends built it, by base offset: an append at an offset below
    // the end means the log was truncated there first.
    let mut log: BTreeMap<u64, &AppendHistory> = BTreeMap::new();
    let mut appended = written.iter().peekable();
    let mut positions = stood.iter().peekable();
    let mut position: Option<Stood> = None;
    let mut hits = Vec::new();
    for step in steps {
        while let Some(a) = appended.next_if(|a| a.at <= step.at) {
            let _truncated = log.split_off(&a.base_offset);
            log.insert(a.base_offset, a);
        }
        while let Some(p) = positions.next_if(|p| p.0 <= step.at) {
            position = Some(*p);
        }
        let kept = log.split_off(&step.to);
        let gone = std::mem::replace(&mut log, kept);
        let Some(stood) = position else {
            continue;
        };
        for a in gone.values() {
            for (i, record) in a.records.iter().enumerate() {
                let offset = a.base_offset + i as u64;
                let deleted_here = (step.from..step.to).contains(&offset);
                if deleted_here && offset >= stood.1 && !read.contains(&offset) && !not_theirs(record) {
                    hits.push(Hit {
                        offset,
                        record,
                        step,
                        stood,
                    });
                }
            }
        }
    }
    hits
}

fn finding(scenario: &Scenario, result: &RunResult, reader: &Reader<'_>, tp: Tp, hit: &Hit<'_>) -> Finding {
    let names = &result.names;
    let consumers = &scenario.consumers;
    let (since, at, by) = hit.stood;
    let (who, proof) = match reader.group {
        Some(g) => (
            format!("group {g}"),
            format!("a member of {g} returning it from poll()"),
        ),
        None => {
            let id = &consumers[reader.consumers[0] as usize].id;
            (id.clone(), format!("{id} returning it from poll()"))
        }
    };
    let how = by.map_or_else(
        || "its committed offset".to_string(),
        |c| format!("{}'s position", consumers[c as usize].id),
    );
    let step = hit.step;
    Finding {
        measure: Measure::ExpiredUnread,
        processor: None,
        consumer: Some(by.unwrap_or(reader.consumers[0])),
        record: hit.record,
        tp,
        other: None,
        headline: format!(
            "{} ({} offset {}) was deleted at {} ({} moved the log start offset from {} to {}) before {who} read it: it stood at offset {at} ({how} since {since}); {proof}, or a position past it by then, would prove this wrong",
            label(names, hit.record),
            names.tp(tp),
            hit.offset,
            step.at,
            step.why,
            step.from,
            step.to,
        ),
    }
}

#[cfg(test)]
mod tests;

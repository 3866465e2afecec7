//! Consumer group checkers over what the members' applications processed and what the group
//! committed:
//!
//! - `redelivered`: a record the group's members processed more than once (at-least-once: a
//!   member died or lost the partition after processing, before its commit);
//! - `skipped`: a record the group never processed although a committed offset passed it
//!   (at-most-once: the offset was committed before the record was processed, and the member
//!   died in between).

use super::Finding;
use super::expect::Measure;
use crate::history::{ConsumedRecord, GroupCommit};
use crate::kafka::record::{RecordId, Tp};
use crate::scenario::{IsolationLevel, Scenario};
use crate::sim::{SimDuration, SimTime};
use crate::simulation::RunResult;
use std::collections::{BTreeMap, BTreeSet};

/// The consumers (indexes) of each group, by group name.
fn members(scenario: &Scenario) -> BTreeMap<&str, Vec<u32>> {
    let mut groups: BTreeMap<&str, Vec<u32>> = BTreeMap::new();
    for (i, c) in scenario.consumers.iter().enumerate() {
        if let Some(g) = &c.group {
            groups.entry(g.as_str()).or_default().push(i as u32);
        }
    }
    groups
}

fn when(r: &ConsumedRecord) -> String {
    SimDuration::from_us(r.at.as_us()).to_string()
}

/// `redelivered`: every processing of a record after its first one by the same group.
pub fn redelivered(scenario: &Scenario, result: &RunResult) -> Vec<Finding> {
    let names = &result.names;
    let mut out = Vec::new();
    for (group, consumers) in members(scenario) {
        let mut first: BTreeMap<RecordId, &ConsumedRecord> = BTreeMap::new();
        for p in result
            .history
            .processed
            .iter()
            .filter(|p| consumers.contains(&p.consumer))
        {
            match first.get(&p.record) {
                None => {
                    first.insert(p.record, p);
                }
                Some(earlier) => out.push(Finding {
                    measure: Measure::Redelivered,
                    processor: None,
                    record: p.record,
                    tp: p.tp,
                    other: None,
                    consumer: Some(p.consumer),
                    headline: format!(
                        "{} ({} offset {}) was processed again by group {group}: by {} at {}, after {} at {}",
                        names.record(p.record),
                        names.tp(p.tp),
                        p.offset,
                        scenario.consumers[p.consumer as usize].id,
                        when(p),
                        scenario.consumers[earlier.consumer as usize].id,
                        when(earlier),
                    ),
                }),
            }
        }
    }
    out
}

/// `skipped`: records in the final log, from the first offset the group processed in a
/// partition up to its last committed offset there, that no member ever processed, once a
/// member read on from the commit that passed them (a record polled and committed but still
/// being processed when the run ends is not skipped: a real-cluster run of
/// group-commit-before-crash ended so).
pub fn skipped(scenario: &Scenario, result: &RunResult) -> Vec<Finding> {
    let names = &result.names;
    let h = &result.history;
    let mut out = Vec::new();
    for (group, consumers) in members(scenario) {
        // A `read_committed` group never gets the records of aborted transactions: not a skip.
        let read_committed = consumers
            .iter()
            .all(|c| scenario.consumers[*c as usize].config.isolation == IsolationLevel::ReadCommitted);
        let aborted = |r: &RecordId| {
            read_committed
                && h.producers
                    .get(r.producer as usize)
                    .is_some_and(|p| p.in_aborted_txn(r.seq))
        };
        let mut done: BTreeMap<Tp, BTreeSet<u64>> = BTreeMap::new();
        for p in h.processed.iter().filter(|p| consumers.contains(&p.consumer)) {
            done.entry(p.tp).or_default().insert(p.offset);
        }
        let mut commits: BTreeMap<Tp, Vec<&GroupCommit>> = BTreeMap::new();
        for c in h.commits.iter().filter(|c| c.group.as_ref() == group) {
            commits.entry(c.tp).or_default().push(c);
        }
        for (tp, list) in commits {
            let upto = list.last().map_or(0, |c| c.offset);
            let Some(offsets) = done.get(&tp) else { continue };
            let Some(from) = offsets.first().copied() else {
                continue;
            };
            let Some(log) = result.logs.get(&tp) else { continue };
            // What the group read of this partition, at or past its lowest commit.
            let first_commit = list.iter().map(|c| c.offset).min().unwrap_or(0);
            let read_on: Vec<(SimTime, u64)> = h
                .consumed
                .iter()
                .filter(|r| r.tp == tp && r.offset >= first_commit && consumers.contains(&r.consumer))
                .map(|r| (r.at, r.offset))
                .collect();
            // Markers take offsets but are no records: consumers step over them. Records below
            // the log start offset were deleted (retention, `DeleteRecords`), not skipped.
            for b in log.batches().filter(|b| b.is_data()) {
                for (offset, r) in b.entries() {
                    if offset < from.max(log.log_start_offset())
                        || offset >= upto.min(log.high_watermark())
                        || offsets.contains(&offset)
                        || aborted(&r)
                    {
                        continue;
                    }
                    // The first commit that passed it.
                    let Some(c) = list.iter().find(|c| c.offset > offset) else {
                        continue;
                    };
                    // Proven only once the group read on from that commit: until then the
                    // member that polled it may still be processing it when the run ends.
                    if !read_on.iter().any(|(at, o)| *at >= c.at && *o >= c.offset) {
                        continue;
                    }
                    let member = scenario
                        .consumers
                        .iter()
                        .find(|x| c.member.starts_with(&format!("{}-", x.id)))
                        .map_or(c.member.as_ref(), |x| x.id.as_str());
                    out.push(Finding {
                        measure: Measure::Skipped,
                        processor: None,
                        record: r,
                        tp,
                        other: None,
                        consumer: None,
                        headline: format!(
                            "{} ({} offset {offset}) was never processed by group {group}, yet {member} committed offset {} past it at {}",
                            names.record(r),
                            names.tp(tp),
                            c.offset,
                            SimDuration::from_us(c.at.as_us()),
                        ),
                    });
                }
            }
        }
    }
    out
}

//! The transaction checkers: `read_aborted` (a consumer returned a record of a transaction that
//! was aborted: a `read_uncommitted` consumer does that by design, a `read_committed` one never
//! should), and, for processors, `output_duplicates` and `output_missing` (an input record's
//! output visible to read_committed readers more than once, or not at all although the group
//! committed past the input): exactly-once processing means both are 0.

use super::expect::Measure;
use super::label;
use super::scan::Finding;
use crate::kafka::record::{RecordId, Tp};
use crate::scenario::{ProcessorSpec, Scenario};
use crate::simulation::RunResult;
use std::collections::BTreeMap;

/// One finding per record a consumer returned from `poll()` whose transaction its producer's
/// application or the transaction coordinator aborted.
pub fn read_aborted(scenario: &Scenario, result: &RunResult) -> Vec<Finding> {
    let h = &result.history;
    let names = &result.names;
    h.consumed
        .iter()
        .filter_map(|c| {
            let ph = h.producers.get(c.record.producer as usize)?;
            let t = ph.txn_of(c.record.seq)?;
            if !ph.in_aborted_txn(c.record.seq) {
                return None;
            }
            let consumer = &scenario.consumers[c.consumer as usize];
            let number = ph.txns.iter().position(|x| x.first == t.first).unwrap_or(0);
            Some(Finding {
                measure: Measure::ReadAborted,
                processor: None,
                consumer: Some(c.consumer),
                record: c.record,
                tp: c.tp,
                other: None,
                headline: format!(
                    "{} ({}) read {} at {} offset {} at {}, but it belongs to transaction #{number} of {}, which was aborted (a read_committed consumer would have dropped it)",
                    consumer.id,
                    consumer.config.isolation.name(),
                    label(names, c.record),
                    names.tp(c.tp),
                    c.offset,
                    c.at,
                    names.producers[c.record.producer as usize],
                ),
            })
        })
        .collect()
}

/// A group's processors' output as read_committed readers see it at the end: per input record,
/// the processor (its producer's index) and offset of each visible output (committed, not of an
/// aborted transaction).
fn visible_outputs(
    result: &RunResult,
    writers: &[(usize, u32)],
) -> BTreeMap<RecordId, Vec<(usize, Tp, u64)>> {
    let mut seen: BTreeMap<RecordId, Vec<(usize, Tp, u64)>> = BTreeMap::new();
    for &(producer, topic) in writers {
        let ph = &result.history.producers[producer];
        let range = Tp { topic, partition: 0 }..=Tp {
            topic,
            partition: u32::MAX,
        };
        for (tp, log) in result.logs.range(range) {
            let lso = log.last_stable_offset();
            for (offset, r) in log.committed().take_while(|(o, _)| *o < lso) {
                if r.producer as usize != producer || ph.in_aborted_txn(r.seq) {
                    continue;
                }
                if let Some(input) = ph.inputs.get(&r.seq) {
                    seen.entry(*input).or_default().push((producer, *tp, offset));
                }
            }
        }
    }
    seen
}

/// The processors of each group: (producer index, output topic), and their specs.
fn groups(scenario: &Scenario) -> BTreeMap<&str, Vec<(usize, &ProcessorSpec)>> {
    let mut by_group: BTreeMap<&str, Vec<(usize, &ProcessorSpec)>> = BTreeMap::new();
    for (i, p) in scenario.processors.iter().enumerate() {
        if let Some(producer) = scenario.producers.iter().position(|x| x.processor == Some(i)) {
            by_group.entry(p.group.as_str()).or_default().push((producer, p));
        }
    }
    by_group
}

fn writers(members: &[(usize, &ProcessorSpec)]) -> Vec<(usize, u32)> {
    members
        .iter()
        .map(|(producer, p)| (*producer, p.output as u32))
        .collect()
}

/// `output_duplicates`: input records with more than one output visible to read_committed
/// readers, written by any processor of the group (a finding names the processor that wrote the
/// last copy).
pub fn output_duplicates(scenario: &Scenario, result: &RunResult) -> Vec<Finding> {
    let names = &result.names;
    let mut out = Vec::new();
    for members in groups(scenario).values() {
        for (input, outputs) in visible_outputs(result, &writers(members)) {
            let Some(&(last, tp, _)) = outputs.last().filter(|_| outputs.len() > 1) else {
                continue;
            };
            let at: Vec<String> = outputs
                .iter()
                .map(|(p, tp, o)| format!("{} at {}@{o}", names.producers[*p], names.tp(*tp)))
                .collect();
            out.push(Finding {
                measure: Measure::OutputDuplicates,
                processor: Some(last as u32),
                record: input,
                tp,
                other: None,
                consumer: None,
                headline: format!(
                    "the output for {} is in the committed output {} times ({}): the input was processed again after an output for it was written",
                    label(names, input),
                    outputs.len(),
                    at.join(", ")
                ),
            });
        }
    }
    out
}

/// `output_missing`: input records below the offset a processors' group committed whose output
/// no read_committed reader can see (a finding names the group's first processor).
pub fn output_missing(scenario: &Scenario, result: &RunResult) -> Vec<Finding> {
    let names = &result.names;
    let mut out = Vec::new();
    for (group_id, members) in groups(scenario) {
        let seen = visible_outputs(result, &writers(&members));
        // The group's committed offsets: its last commit per partition (a history file has the
        // commits, not the coordinator's state).
        let offsets: BTreeMap<Tp, u64> = result
            .history
            .commits
            .iter()
            .filter(|c| &*c.group == group_id)
            .map(|c| (c.tp, c.offset))
            .collect();
        let (first, spec) = members[0];
        for (tp, committed) in &offsets {
            if !spec.topics.contains(&(tp.topic as usize)) {
                continue;
            }
            let Some(log) = result.logs.get(tp) else {
                continue;
            };
            for (offset, input) in log.records().take_while(|(o, _)| o < committed) {
                let aborted = result
                    .history
                    .producers
                    .get(input.producer as usize)
                    .is_some_and(|ph| ph.in_aborted_txn(input.seq));
                if aborted || seen.contains_key(&input) {
                    continue;
                }
                out.push(Finding {
                    measure: Measure::OutputMissing,
                    processor: Some(first as u32),
                    record: input,
                    tp: *tp,
                    other: None,
                    consumer: None,
                    headline: format!(
                        "{} at {} offset {offset} is below {group_id}'s committed offset {committed}, but no output for it is in the committed output: the offset was committed without the output",
                        label(names, input),
                        names.tp(*tp),
                    ),
                });
            }
        }
    }
    out
}

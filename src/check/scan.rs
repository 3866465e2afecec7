//! The scans behind the checkers: where each record ended up, and who overtook whom.

use super::expect::Measure;
use super::label;
use crate::history::History;
use crate::kafka::log::PartitionLog;
use crate::kafka::record::{RecordId, Tp};
use crate::simulation::RunResult;
use crate::trace::Names;
use std::collections::{BTreeMap, BTreeSet};

/// One checker finding about one record.
#[derive(Clone, Debug)]
pub struct Finding {
    /// Which checker.
    pub measure: Measure,
    /// The record it is about.
    pub record: RecordId,
    /// Where it was (or should have been).
    pub tp: Tp,
    /// The record that overtook it, for `reordered`.
    pub other: Option<RecordId>,
    /// The processor (index of its producer in the scenario) a finding about a processor's
    /// output is about.
    pub processor: Option<u32>,
    /// The consumer (index in the scenario) that read it, for `read_uncommitted`.
    pub consumer: Option<u32>,
    /// One line saying what happened.
    pub headline: String,
}

/// Where the records with more than one copy are in the final committed logs (below each
/// partition's HW).
pub struct Occurrences {
    places: BTreeMap<RecordId, Vec<(Tp, u64)>>,
}

impl Occurrences {
    pub fn build(result: &RunResult) -> Occurrences {
        let mut copies: Vec<Vec<u32>> = result
            .history
            .producers
            .iter()
            .map(|p| vec![0; p.records.len()])
            .collect();
        let mut first: BTreeMap<RecordId, (Tp, u64)> = BTreeMap::new();
        let mut places: BTreeMap<RecordId, Vec<(Tp, u64)>> = BTreeMap::new();
        for (tp, log) in &result.logs {
            for (offset, r) in log.committed() {
                let n = &mut copies[r.producer as usize][r.seq as usize];
                *n += 1;
                match *n {
                    1 => {
                        first.insert(r, (*tp, offset));
                    }
                    2 => {
                        let earlier = first[&r];
                        places.insert(r, vec![earlier, (*tp, offset)]);
                    }
                    _ => places.entry(r).or_default().push((*tp, offset)),
                }
            }
        }
        Occurrences { places }
    }

    /// Records with more than one copy, and where the copies are.
    pub fn duplicated(&self) -> impl Iterator<Item = (RecordId, &Vec<(Tp, u64)>)> {
        self.places.iter().map(|(r, p)| (*r, p))
    }
}

/// A sequence of records in some order: a partition's log, or what a consumer read.
pub struct Order(Vec<(RecordId, Tp, u64)>);

impl Order {
    /// A partition's committed log.
    pub fn log(tp: Tp, log: &PartitionLog) -> Order {
        Order(log.committed().map(|(o, r)| (r, tp, o)).collect())
    }

    /// What consumer `consumer` returned from poll(), in order.
    pub fn consumed(history: &History, consumer: u32) -> Order {
        Order(
            history
                .consumed
                .iter()
                .filter(|c| c.consumer == consumer)
                .map(|c| (c.record, c.tp, c.offset))
                .collect(),
        )
    }
}

/// Records that appear (first copy only) after a record their producer sent later — within the
/// whole sequence, or within their key when `by_key`.
pub fn overtaken<'k>(
    order: &Order,
    by_key: bool,
    key_of: impl Fn(RecordId) -> Option<&'k str>,
    names: &Names,
    consumer: Option<&str>,
) -> Vec<Finding> {
    let mut seen: BTreeSet<RecordId> = BTreeSet::new();
    let mut latest: BTreeMap<(u32, Option<&str>), (RecordId, Tp, u64)> = BTreeMap::new();
    let mut out = Vec::new();
    for &(r, tp, offset) in &order.0 {
        if !seen.insert(r) {
            continue;
        }
        let group = (r.producer, if by_key { key_of(r) } else { None });
        match latest.get(&group) {
            Some(&(later, ltp, loffset)) if later.seq > r.seq => {
                let headline = match consumer {
                    None => format!(
                        "{} at {} offset {offset} was overtaken by {}, sent later, at offset {loffset}",
                        label(names, r),
                        names.tp(tp),
                        names.record(later)
                    ),
                    Some(c) => format!(
                        "{c} read {} ({} offset {offset}) after {} ({} offset {loffset}), which was sent later",
                        label(names, r),
                        names.tp(tp),
                        names.record(later),
                        names.tp(ltp)
                    ),
                };
                out.push(Finding {
                    measure: Measure::Reordered,
                    processor: None,
                    consumer: None,
                    record: r,
                    tp,
                    other: Some(later),
                    headline,
                });
            }
            Some(_) | None => {
                latest.insert(group, (r, tp, offset));
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names() -> Names {
        Names {
            nodes: vec![],
            topics: vec!["t".into()],
            producers: vec!["p1".into()],
            keys: std::sync::Arc::new(crate::kafka::keys::RecordKeys::new([(
                Some(["a".to_string(), "b".to_string()].as_slice()),
                None,
            )])),
        }
    }

    fn order(seqs: &[u32]) -> Order {
        let tp = Tp {
            topic: 0,
            partition: 0,
        };
        Order(
            seqs.iter()
                .enumerate()
                .map(|(o, s)| (RecordId { producer: 0, seq: *s }, tp, o as u64))
                .collect(),
        )
    }

    fn overtaken_seqs(seqs: &[u32], by_key: bool) -> Vec<u32> {
        let n = names();
        let key_of = |r: RecordId| Some(if r.seq.is_multiple_of(2) { "a" } else { "b" });
        overtaken(&order(seqs), by_key, key_of, &n, None)
            .iter()
            .map(|f| f.record.seq)
            .collect()
    }

    #[test]
    fn in_order_logs_have_no_findings() {
        assert!(overtaken_seqs(&[0, 1, 2, 3], false).is_empty());
    }

    #[test]
    fn each_overtaken_record_counts_once() {
        // 3,4,5 overtook 0,1,2 (walk-through A of the producer reference).
        assert_eq!(overtaken_seqs(&[3, 4, 5, 0, 1, 2], false), [0, 1, 2]);
    }

    #[test]
    fn duplicates_are_judged_by_their_first_copy() {
        assert!(overtaken_seqs(&[0, 1, 2, 0, 1, 2], false).is_empty());
    }

    #[test]
    fn per_key_order_ignores_other_keys() {
        // seq 1 (key b) comes after seq 2 (key a): reordered per partition, not per key.
        assert_eq!(overtaken_seqs(&[0, 2, 1, 3], false), [1]);
        assert!(overtaken_seqs(&[0, 2, 1, 3], true).is_empty());
    }
}

//! Where each key's records went: the partitions a key used, in the order its records reached
//! them. A key whose records span more than one partition has moved (after the topic gained
//! partitions, `murmur2(key) mod count` changed), and per-key order is no longer guaranteed.

use super::Finding;
use super::expect::Measure;
use crate::kafka::record::{RecordId, Tp};
use crate::simulation::RunResult;
use crate::trace::Names;
use std::collections::BTreeMap;

/// One partition a key used.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Stint {
    /// The partition.
    pub partition: u32,
    /// The key's first record sent to it.
    pub first: RecordId,
    /// The key's last record sent to it.
    pub last: RecordId,
    /// How many of the key's records were sent to it.
    pub records: u64,
}

/// A key of one topic and the partitions its records went to, in the order first used.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct KeyPlacement {
    /// Topic index.
    pub topic: u32,
    /// The key.
    pub key: String,
    /// The partitions, in order of the first record sent to each.
    pub stints: Vec<Stint>,
}

impl KeyPlacement {
    /// The key's records went to more than one partition.
    pub fn moved(&self) -> bool {
        self.stints.len() > 1
    }
}

/// A keyed record's place in send order: (send time in µs, the record).
type SendOrder = (u64, RecordId);

/// The records of one key that went to one partition: the first and last in send order, and how
/// many.
struct Span {
    first: SendOrder,
    last: SendOrder,
    records: u64,
}

/// Every keyed record's partition at send time, grouped by topic and key (sorted), in send order
/// (time, then producer and sequence). One pass that keeps each key's partitions, not its
/// records: a run of millions of keyed records checks in memory for its keys.
pub fn placements(result: &RunResult) -> Vec<KeyPlacement> {
    let names = &result.names;
    let mut used: BTreeMap<(u32, &str), BTreeMap<u32, Span>> = BTreeMap::new();
    for (p, ph) in result.history.producers.iter().enumerate() {
        for (seq, rh) in ph.records.iter().enumerate() {
            let r = RecordId {
                producer: p as u32,
                seq: seq as u32,
            };
            let (Some(key), Some(tp), Some(at)) = (names.key_of(r), rh.tp(), rh.sent_at()) else {
                continue;
            };
            let order = (at.as_us(), r);
            let span = used
                .entry((tp.topic, key))
                .or_default()
                .entry(tp.partition)
                .or_insert(Span {
                    first: order,
                    last: order,
                    records: 0,
                });
            span.first = span.first.min(order);
            span.last = span.last.max(order);
            span.records += 1;
        }
    }
    used.into_iter()
        .map(|((topic, key), partitions)| {
            // The partitions in the order of the first record sent to each.
            let mut stints: Vec<(SendOrder, Stint)> = partitions
                .into_iter()
                .map(|(partition, span)| {
                    let stint = Stint {
                        partition,
                        first: span.first.1,
                        last: span.last.1,
                        records: span.records,
                    };
                    (span.first, stint)
                })
                .collect();
            stints.sort_unstable_by_key(|(first, _)| *first);
            KeyPlacement {
                topic,
                key: key.to_string(),
                stints: stints.into_iter().map(|(_, stint)| stint).collect(),
            }
        })
        .collect()
}

/// `key_moved`: one finding per key whose records span partitions, about the first record sent
/// to its second partition; the other record is its last one in the first partition, which a
/// consumer may well read after the newer one.
pub fn key_moved(placements: &[KeyPlacement], names: &Names) -> Vec<Finding> {
    placements
        .iter()
        .filter(|k| k.moved())
        .map(|k| {
            let tp = |partition| Tp {
                topic: k.topic,
                partition,
            };
            let from = &k.stints[0];
            let to = &k.stints[1];
            Finding {
                measure: Measure::KeyMoved,
                processor: None,
                record: to.first,
                tp: tp(to.partition),
                other: Some(from.last),
                consumer: None,
                headline: format!(
                    "key {} moved from {} to {}: {} is its first record in {}; {} of its records went to {} before, the last {}",
                    k.key,
                    names.tp(tp(from.partition)),
                    names.tp(tp(to.partition)),
                    names.record(to.first),
                    names.tp(tp(to.partition)),
                    from.records,
                    names.tp(tp(from.partition)),
                    names.record(from.last),
                ),
            }
        })
        .collect()
}

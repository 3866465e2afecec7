//! Every producer record's key, and whether it is a tombstone (a key with a null value).
//!
//! Both are a pure function of the scenario's workloads: record `i` of a workload has key
//! `keys[i mod len]`, and with `tombstone_every: N` records N, 2N... are tombstones. So logs keep
//! only [`RecordId`]s, and the brokers' log cleaners, the trace and the checkers share one
//! read-only table (behind an `Arc`) that costs nothing per record. A record's value is its
//! [`RecordId`]: every send is a distinct value.

use super::record::RecordId;
use std::collections::BTreeMap;
use std::num::NonZeroU64;

/// A key, interned: equal key strings of any producers get the same id.
#[derive(Copy, Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct KeyId(u32);

/// One producer's workload as far as keys go.
#[derive(Clone, Debug, Default)]
struct ProducerKeys {
    /// Keys used in turn (empty: keyless records).
    keys: Vec<KeyId>,
    /// Every this-many-th record is a tombstone.
    tombstone_every: Option<NonZeroU64>,
}

/// The keys and tombstones of every producer's records.
#[derive(Clone, Debug, Default)]
pub struct RecordKeys {
    producers: Vec<ProducerKeys>,
    /// Key strings by [`KeyId`].
    names: Vec<String>,
}

impl RecordKeys {
    /// The table for producers whose workloads use `keys` (`None`: keyless) and send a
    /// tombstone every `tombstone_every` records, in scenario order.
    pub fn new<'a>(
        workloads: impl IntoIterator<Item = (Option<&'a [String]>, Option<NonZeroU64>)>,
    ) -> RecordKeys {
        let mut ids: BTreeMap<&'a str, KeyId> = BTreeMap::new();
        let mut names = Vec::new();
        let producers = workloads
            .into_iter()
            .map(|(keys, tombstone_every)| ProducerKeys {
                keys: keys
                    .unwrap_or_default()
                    .iter()
                    .map(|k| {
                        *ids.entry(k.as_str()).or_insert_with(|| {
                            names.push(k.clone());
                            KeyId(names.len() as u32 - 1)
                        })
                    })
                    .collect(),
                tombstone_every,
            })
            .collect();
        RecordKeys { producers, names }
    }

    /// The table of a scenario's producers (processors' outputs are keyless here: their key is
    /// their input's, which only the run knows).
    pub fn of_scenario(scenario: &crate::scenario::Scenario) -> RecordKeys {
        RecordKeys::new(
            scenario
                .producers
                .iter()
                .map(|p| (p.workload.keys.as_deref(), p.workload.tombstone_every)),
        )
    }

    fn producer(&self, r: RecordId) -> Option<&ProducerKeys> {
        // Coordinators' records and markers (producer u32::MAX) are no producer's.
        self.producers.get(r.producer as usize)
    }

    /// The record's key; `None` for a keyless record or a coordinator's record.
    pub fn key(&self, r: RecordId) -> Option<KeyId> {
        let p = self.producer(r)?;
        (!p.keys.is_empty()).then(|| p.keys[r.seq as usize % p.keys.len()])
    }

    /// The key's text.
    pub fn name(&self, k: KeyId) -> &str {
        &self.names[k.0 as usize]
    }

    /// The record's key as text.
    pub fn key_name(&self, r: RecordId) -> Option<&str> {
        self.key(r).map(|k| self.name(k))
    }

    /// The record is a tombstone: its key with a null value.
    pub fn is_tombstone(&self, r: RecordId) -> bool {
        self.producer(r)
            .and_then(|p| p.tombstone_every)
            .is_some_and(|n| (u64::from(r.seq) + 1).is_multiple_of(n.get()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_go_in_turn_and_every_nth_record_is_a_tombstone() {
        let p1 = vec!["a".to_string(), "b".to_string()];
        let p2 = vec!["b".to_string()];
        let keys = RecordKeys::new([
            (Some(p1.as_slice()), NonZeroU64::new(3)),
            (None, None),
            (Some(p2.as_slice()), None),
        ]);
        let r = |producer, seq| RecordId { producer, seq };
        assert_eq!(keys.key_name(r(0, 0)), Some("a"));
        assert_eq!(keys.key_name(r(0, 3)), Some("b"));
        assert_eq!(
            keys.key(r(0, 1)),
            keys.key(r(2, 7)),
            "the same text is the same key"
        );
        assert_eq!(keys.key(r(1, 0)), None, "keyless");
        assert_eq!(keys.key(r(u32::MAX, 0)), None, "a coordinator's record");
        let tombstones: Vec<u32> = (0..7).filter(|s| keys.is_tombstone(r(0, *s))).collect();
        assert_eq!(tombstones, [2, 5], "the 3rd and the 6th record");
        assert!(!keys.is_tombstone(r(2, 2)));
    }
}

//! The consumer's fetch buffer: each fetch response's records for a partition, in arrival order,
//! until `poll()` returns them. A partition whose completed fetch `poll()` has not read to its
//! end is *buffered*, and is not fetched again until it is (`FetchBuffer.bufferedPartitions`,
//! `CompletedFetch.drain`, `FetchCollector.collectFetch`, kafka-clients 4.0.1).

use crate::kafka::record::{RecordId, Tp};
use std::collections::{BTreeMap, VecDeque};

/// One entry: a record, or the end of a partition's completed fetch.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Entry {
    Record(Tp, u64, RecordId),
    /// Reading past it drains the completed fetch (`CompletedFetch.isConsumed`).
    End(Tp),
}

impl Entry {
    fn tp(&self) -> Tp {
        match self {
            Entry::Record(tp, _, _) | Entry::End(tp) => *tp,
        }
    }
}

/// Completed fetches waiting for `poll()`.
#[derive(Debug, Default)]
pub(super) struct FetchBuffer {
    entries: VecDeque<Entry>,
    /// Per partition: (records, completed fetches) in `entries`, so that the consumer's fetch
    /// does not scan the buffer for each partition.
    counts: BTreeMap<Tp, (usize, usize)>,
}

impl FetchBuffer {
    /// A fetch response's data for `tp` (`FetchBuffer.add`): its records, maybe none; an empty
    /// completed fetch is buffered too until `poll()` reaches it.
    pub(super) fn add(&mut self, tp: Tp, records: impl IntoIterator<Item = (u64, RecordId)>) {
        let before = self.entries.len();
        self.entries
            .extend(records.into_iter().map(|(o, r)| Entry::Record(tp, o, r)));
        let added = self.entries.len() - before;
        self.entries.push_back(Entry::End(tp));
        let count = self.counts.entry(tp).or_default();
        count.0 += added;
        count.1 += 1;
    }

    /// Takes `entry` out of the counts.
    fn forget(&mut self, entry: &Entry) {
        let tp = entry.tp();
        if let Some(count) = self.counts.get_mut(&tp) {
            match entry {
                Entry::Record(..) => count.0 -= 1,
                Entry::End(_) => count.1 -= 1,
            }
            if *count == (0, 0) {
                self.counts.remove(&tp);
            }
        }
    }

    /// True if records of `tp` wait to be returned by `poll()`.
    pub(super) fn has_records(&self, tp: Tp) -> bool {
        self.counts.get(&tp).is_some_and(|c| c.0 > 0)
    }

    /// True if a completed fetch of `tp` is not drained yet (`FetchBuffer.bufferedPartitions`).
    pub(super) fn is_buffered(&self, tp: Tp) -> bool {
        self.counts.get(&tp).is_some_and(|c| c.1 > 0)
    }

    /// `poll()` takes up to `max_records` records (`FetchCollector.collectFetch`). A completed
    /// fetch is drained only when `poll()` reads past its last record with room left: one whose
    /// last record fills `max.poll.records` stays buffered until the next `poll()`.
    pub(super) fn collect(&mut self, max_records: usize) -> Vec<(Tp, u64, RecordId)> {
        let mut records = Vec::new();
        while records.len() < max_records {
            let Some(entry) = self.entries.pop_front() else {
                break;
            };
            self.forget(&entry);
            if let Entry::Record(tp, offset, r) = entry {
                records.push((tp, offset, r));
            }
        }
        records
    }

    /// Drops what is buffered for `tps` (revoked partitions).
    pub(super) fn remove(&mut self, tps: &[Tp]) {
        self.entries.retain(|e| !tps.contains(&e.tp()));
        for tp in tps {
            self.counts.remove(tp);
        }
    }

    /// Drops everything.
    pub(super) fn clear(&mut self) {
        self.entries.clear();
        self.counts.clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const A: Tp = Tp {
        topic: 0,
        partition: 0,
    };
    const B: Tp = Tp {
        topic: 0,
        partition: 1,
    };

    fn rec(seq: u32) -> RecordId {
        RecordId { producer: 0, seq }
    }

    #[test]
    fn a_partition_is_buffered_until_poll_reads_past_its_last_record() {
        let mut b = FetchBuffer::default();
        b.add(A, [(0, rec(0)), (1, rec(1))]);
        b.add(B, [(5, rec(2))]);
        assert!(b.is_buffered(A) && b.is_buffered(B));
        // Two records fill max.poll.records: A's fetch is not drained yet.
        assert_eq!(b.collect(2).len(), 2);
        assert!(b.is_buffered(A) && !b.has_records(A));
        // The next poll drains A, then takes B's record and drains B.
        assert_eq!(b.collect(2), vec![(B, 5, rec(2))]);
        assert!(!b.is_buffered(A) && !b.is_buffered(B));
    }

    #[test]
    fn an_empty_completed_fetch_is_buffered_until_a_poll() {
        let mut b = FetchBuffer::default();
        b.add(A, []);
        assert!(b.is_buffered(A) && !b.has_records(A));
        assert!(b.collect(500).is_empty());
        assert!(!b.is_buffered(A));
    }

    #[test]
    fn revoked_partitions_leave_the_buffer() {
        let mut b = FetchBuffer::default();
        b.add(A, [(0, rec(0))]);
        b.add(B, [(0, rec(1))]);
        b.remove(&[A]);
        assert!(!b.is_buffered(A) && b.is_buffered(B));
        b.clear();
        assert!(!b.is_buffered(B));
    }
}

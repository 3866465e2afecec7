//! Each broker's log cleaner (`LogCleaner`, `CleanerThread.doWork`,
//! `LogCleanerManager.grabFilthiestCompactedLog`, Kafka 4.0.1): it cleans the filthiest of the
//! compacted logs this broker holds, leader or follower replicas alike (replicas compact
//! independently), as long as one is cleanable, deletes the old segments of compacted logs (the
//! retention of `compact,delete`, which the retention check leaves to it), then sleeps
//! `log.cleaner.backoff.ms`. With the cleaner off, compacted logs lose nothing.
//!
//! Cleaning takes no simulated time: the throttle (`log.cleaner.io.max.bytes.per.second`) and the
//! dedupe buffer's size (`log.cleaner.dedupe.buffer.size`, which may stop a cleaning short of the
//! whole dirty section) are not modelled. With no simulated time per cleaning, more than one
//! `log.cleaner.threads` changes nothing; 0 cleans nothing, as in Kafka.

use super::{Broker, O};
use crate::kafka::record::Tp;
use crate::sim::SimTime;
use crate::trace::Event;
use std::collections::BTreeSet;
use std::sync::Arc;

impl Broker {
    /// The cleaner runs while some log this broker holds is compacted and cleaning is on.
    pub(super) fn cleaner_runs(&self) -> bool {
        let c = &self.config.cleaner;
        c.enable
            && c.threads > 0
            && self.compacted_topics
            && self
                .replicas
                .keys()
                .any(|tp| self.topic(*tp).cleanup_policy.compact)
    }

    /// The cleaner's turn, when its backoff is over: clean the filthiest cleanable log until
    /// none is left, then back off.
    pub(super) fn run_cleaner(&mut self, now: SimTime, out: &mut O) {
        if now < self.next_cleaning || !self.cleaner_runs() {
            return;
        }
        let now_ms = now.as_ms();
        let mut done: BTreeSet<Tp> = BTreeSet::new();
        while let Some((tp, to_clean)) = self.filthiest(now_ms, &done) {
            done.insert(tp);
            let config = self.topic(tp).compaction;
            let keys = Arc::clone(&self.keys);
            let Some(replica) = self.replicas.get_mut(&tp) else {
                break;
            };
            let c = replica.log.clean(&to_clean, now_ms, &config, &keys);
            out.emit(Event::Cleaned {
                tp,
                to: c.end_offset,
                dirty_per_mille: to_clean.dirty_per_mille(),
                superseded: c.superseded.into(),
                tombstones: c.tombstones.into(),
                aborted_records: c.aborted,
                coordinator_records: c.coordinator_records,
                bytes: c.bytes,
            });
        }
        // `LogCleanerManager.deletableLogs`: the cleaner thread, not `LogManager`, deletes old
        // segments of compacted logs (by time and size with `compact,delete`, below the log start
        // offset always).
        let compacted: Vec<Tp> = self
            .replicas
            .keys()
            .filter(|tp| self.topic(**tp).cleanup_policy.compact)
            .copied()
            .collect();
        self.delete_old_segments(&compacted, now, out);
        self.next_cleaning = now + self.config.cleaner.backoff;
    }

    /// `grabFilthiestCompactedLog`: among the compacted logs not cleaned in this turn, the
    /// cleanable one with the highest dirty ratio (the first in partition order on a tie).
    fn filthiest(&self, now_ms: u64, done: &BTreeSet<Tp>) -> Option<(Tp, crate::kafka::log::ToClean)> {
        let mut best: Option<(Tp, crate::kafka::log::ToClean)> = None;
        for (tp, replica) in &self.replicas {
            let topic = self.topic(*tp);
            if !topic.cleanup_policy.compact || done.contains(tp) {
                continue;
            }
            let Some(c) = replica.log.to_clean(now_ms, &topic.compaction) else {
                continue;
            };
            if !c.is_cleanable(topic.compaction.min_cleanable_ratio) {
                continue;
            }
            if best.as_ref().is_none_or(|(_, b)| c.dirtier_than(b)) {
                best = Some((*tp, c));
            }
        }
        best
    }
}

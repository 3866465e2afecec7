//! The log cleaner's work on one log: how dirty it is, and one cleaning.
//!
//! Followed (Kafka 4.0.1): `LogCleanerManager.cleanableOffsets`, `calculateCleanableBytes`,
//! `maxCompactionDelay` and `LogToClean` (core/src/main/scala/kafka/log/LogCleanerManager.scala,
//! LogCleaner.scala); `Cleaner.doClean`, `cleanSegments`, `cleanInto`, `shouldRetainRecord` and
//! `groupSegmentsBySize` (LogCleaner.scala); `MemoryRecords.filterTo` (kafka-clients), which keeps
//! a cleaned batch's offset range and stamps a batch holding a tombstone with its delete horizon
//! the first time it is cleaned (KIP-534).
//!
//! Transaction markers are kept (Kafka removes a marker once every record of its transaction is
//! gone and its own delete horizon passed); records of aborted transactions are removed.

use super::segment::LogSegment;
use super::{Cleaned, Control, LogBatch, PartitionLog};
use crate::kafka::keys::{KeyId, RecordKeys};
use crate::kafka::record::{BATCH_HEADER_BYTES, RecordId, Timestamps, Tp};
use crate::scenario::config::{CompactionConfig, Ratio};
use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

/// What compaction keeps one of: a producer record's key, or a coordinator's record's.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum CleanKey {
    /// A producer record's key.
    Record(KeyId),
    /// An offset commit of (group, partition) in `__consumer_offsets` (`OffsetCommitKey`).
    Offset(Arc<str>, Tp),
    /// A transactional id's state in `__transaction_state` (`TransactionLogKey`).
    TransactionalId(Arc<str>),
}

/// A log's dirty section, as `LogCleanerManager` sizes it up (`LogToClean`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ToClean {
    /// Where cleaning starts looking for new keys: the cleaner checkpoint, or the log start.
    pub first_dirty_offset: u64,
    /// The base offset of the first segment it may not clean.
    pub first_uncleanable_offset: u64,
    /// Bytes of the segments below the first dirty offset.
    pub clean_bytes: u64,
    /// Bytes of the segments from the first dirty offset to the first uncleanable one.
    pub cleanable_bytes: u64,
    /// A dirty record is older than `max.compaction.lag.ms`.
    pub need_compaction_now: bool,
}

impl ToClean {
    /// `LogToClean.totalBytes`.
    pub fn total_bytes(&self) -> u64 {
        self.clean_bytes + self.cleanable_bytes
    }

    /// `cleanableRatio` in per mille (rounded down), for the trace.
    pub fn dirty_per_mille(&self) -> u32 {
        let total = self.total_bytes().max(1);
        (u128::from(self.cleanable_bytes) * 1000 / u128::from(total)) as u32
    }

    /// A higher `cleanableRatio` than `other`'s (`LogToClean.compare`), compared exactly.
    pub fn dirtier_than(&self, other: &ToClean) -> bool {
        u128::from(self.cleanable_bytes) * u128::from(other.total_bytes())
            > u128::from(other.cleanable_bytes) * u128::from(self.total_bytes())
    }

    /// Cleanable now (`grabFilthiestCompactedLog`): a dirty record past `max.compaction.lag.ms`
    /// and something to clean, or a dirty ratio above `min.cleanable.dirty.ratio`.
    pub fn is_cleanable(&self, min_cleanable_ratio: Ratio) -> bool {
        (self.need_compaction_now && self.cleanable_bytes > 0)
            || min_cleanable_ratio.is_below(self.cleanable_bytes, self.total_bytes())
    }
}

/// What one cleaning removed.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Cleaning {
    /// The first offset not cleaned: the new cleaner checkpoint.
    pub end_offset: u64,
    /// Producer records removed because a later record of their key is in the log.
    pub superseded: Vec<RecordId>,
    /// Tombstones removed because their delete horizon passed, with their offsets.
    pub tombstones: Vec<(u64, RecordId)>,
    /// Records of aborted transactions removed.
    pub aborted: u32,
    /// Coordinators' records removed (superseded offset commits or transaction states).
    pub coordinator_records: u32,
    /// Log bytes before and after.
    pub bytes: (u64, u64),
}

impl PartitionLog {
    /// The segments holding offsets in `from..to` (`LocalLog.logSegments(from, to)`): from the
    /// one holding `from` on, those that start below `to`.
    fn segment_range(&self, from: u64, to: u64) -> std::ops::Range<usize> {
        let first = self
            .segments
            .partition_point(|s| s.base_offset() <= from)
            .saturating_sub(1);
        let end = self.segments.partition_point(|s| s.base_offset() < to).max(first);
        first..end
    }

    /// The closed segments from the one holding `from` on (`nonActiveLogSegmentsFrom`).
    fn non_active_from(&self, from: u64) -> &[LogSegment] {
        let active = self.segments.len() - 1;
        if from > self.segments[active].base_offset() {
            return &[];
        }
        let range = self.segment_range(from, self.segments[active].base_offset());
        &self.segments[range]
    }

    /// How dirty this log is at `now_ms` (`cleanableOffsets`, `calculateCleanableBytes`,
    /// `maxCompactionDelay`); `None` for an empty log (`totalBytes` 0).
    pub fn to_clean(&self, now_ms: u64, config: &CompactionConfig) -> Option<ToClean> {
        let start = self.log_start_offset;
        let first_dirty_offset = match self.cleaner_checkpoint {
            // An invalid checkpoint (below the log start, past the log end) restarts from the
            // log start.
            Some(c) if c >= start && c <= self.log_end_offset() => c,
            _ => start,
        };
        let active_base = self.active().base_offset();
        let min_lag = config.min_lag.as_ms();
        // Not past the last stable offset (so not past the HW), never the active segment, and
        // no segment with a record younger than min.compaction.lag.ms.
        let lag_bound = (min_lag > 0)
            .then(|| {
                self.non_active_from(first_dirty_offset)
                    .iter()
                    .find(|s| {
                        s.largest_timestamp_ms()
                            .is_some_and(|ts| ts > now_ms.saturating_sub(min_lag))
                    })
                    .map(LogSegment::base_offset)
            })
            .flatten();
        let uncleanable = [Some(self.last_stable_offset()), Some(active_base), lag_bound]
            .into_iter()
            .flatten()
            .min()
            .unwrap_or(active_base)
            .max(first_dirty_offset);
        // `calculateCleanableBytes`: up to the base of the segment holding that offset.
        let first_uncleanable_offset = self
            .non_active_from(uncleanable)
            .first()
            .map_or(active_base, LogSegment::base_offset);
        let bytes =
            |r: std::ops::Range<usize>| -> u64 { self.segments[r].iter().map(LogSegment::size_bytes).sum() };
        let clean_bytes = bytes(
            0..self
                .segments
                .partition_point(|s| s.base_offset() < first_dirty_offset),
        );
        let cleanable_bytes = bytes(self.segment_range(
            first_dirty_offset.min(first_uncleanable_offset),
            first_uncleanable_offset,
        ));
        // `maxCompactionDelay`: the earliest first-batch timestamp (above 0) of a dirty closed
        // segment, against now - max.compaction.lag.ms.
        let earliest = self
            .non_active_from(first_dirty_offset)
            .iter()
            .filter_map(|s| s.batches().first().map(|b| b.timestamps.max_ms()))
            .filter(|ts| *ts > 0)
            .min();
        let need_compaction_now =
            earliest.is_some_and(|ts| ts < now_ms.saturating_sub(config.max_lag.as_ms()));
        let to_clean = ToClean {
            first_dirty_offset,
            first_uncleanable_offset,
            clean_bytes,
            cleanable_bytes,
            need_compaction_now,
        };
        (to_clean.total_bytes() > 0).then_some(to_clean)
    }

    /// One cleaning at `now_ms` (`Cleaner.doClean`): the offset map of the dirty section (each
    /// key's latest offset), then every segment from the log start up to the first uncleanable
    /// offset rewritten, in groups of at most `segment.bytes`, keeping each key's latest record
    /// at its offset; a tombstone stays until the delete horizon its batch got at its first
    /// cleaning.
    pub fn clean(
        &mut self,
        to: &ToClean,
        now_ms: u64,
        config: &CompactionConfig,
        keys: &RecordKeys,
    ) -> Cleaning {
        let upper = to.first_uncleanable_offset;
        let bytes_before = self.size_bytes();
        // `buildOffsetMap`: the latest offset of each key in the dirty section.
        let mut map: BTreeMap<CleanKey, u64> = BTreeMap::new();
        let range = self.segment_range(to.first_dirty_offset, upper);
        for b in self.segments[range].iter().flat_map(LogSegment::batches) {
            if self.discardable(b) {
                continue;
            }
            for (offset, key) in clean_keys(b, keys) {
                if offset >= to.first_dirty_offset && offset < upper {
                    map.insert(key, offset);
                }
            }
        }
        // The batches that hold each producer's last sequence: kept even when emptied, so that
        // a new leader rebuilds its producer state (`lastRecordsOfActiveProducers`).
        let mut last_of_producer: BTreeMap<u64, u64> = BTreeMap::new();
        for b in self.segments.iter().flat_map(LogSegment::batches) {
            if let Some(s) = b.sequence {
                last_of_producer.insert(s.producer_id, b.base_offset);
            }
        }
        let producer_last: BTreeSet<u64> = last_of_producer.into_values().collect();
        let mut cleaning = Cleaning {
            end_offset: upper,
            ..Cleaning::default()
        };
        let cleanable = self.segments.partition_point(|s| s.base_offset() < upper);
        let rest = self.segments.split_off(cleanable);
        let old = std::mem::take(&mut self.segments);
        let segment_bytes = self.config.segment_bytes;
        for group in group_by_size(old, segment_bytes) {
            let mut cleaned = LogSegment::new(group[0].base_offset());
            for segment in group {
                for b in segment.batches() {
                    let kept = self.clean_batch(
                        b,
                        &map,
                        keys,
                        now_ms,
                        config,
                        upper,
                        &producer_last,
                        &mut cleaning,
                    );
                    if let Some(b) = kept {
                        cleaned.push(b);
                    }
                }
            }
            self.segments.push(cleaned);
        }
        self.segments.extend(rest);
        self.cleaner_checkpoint = Some(upper);
        cleaning.bytes = (bytes_before, self.size_bytes());
        cleaning
    }

    /// A batch of an aborted transaction: its records go (`CleanedTransactionMetadata`).
    fn discardable(&self, b: &LogBatch) -> bool {
        let pid = b
            .transactional_producer()
            .or(b.transactional_producer_of_control());
        pid.is_some_and(|p| self.txns.is_aborted(p, b.base_offset))
    }

    /// `cleanInto` for one batch: the batch as it stays, or `None` if it goes.
    #[allow(clippy::too_many_arguments)]
    fn clean_batch(
        &self,
        b: &LogBatch,
        map: &BTreeMap<CleanKey, u64>,
        keys: &RecordKeys,
        now_ms: u64,
        config: &CompactionConfig,
        upper: u64,
        producer_last: &BTreeSet<u64>,
        cleaning: &mut Cleaning,
    ) -> Option<LogBatch> {
        if matches!(b.control, Some(Control::Marker(_))) || b.base_offset >= upper {
            return Some(b.clone());
        }
        let discard = self.discardable(b);
        let retain_deletes = b.delete_horizon_ms.is_none_or(|h| now_ms < h);
        let latest = |key: &CleanKey, offset: u64| map.get(key).is_none_or(|o| offset >= *o);
        // (record index, offset delta, record) of the records that stay.
        let mut kept: Vec<(usize, u32, RecordId)> = Vec::with_capacity(b.records.len());
        let mut has_tombstone = false;
        if b.is_data() {
            for (i, (offset, r)) in b.entries().enumerate() {
                let keep = !discard
                    && keys.key(r).is_some_and(|k| latest(&CleanKey::Record(k), offset))
                    && (retain_deletes || !keys.is_tombstone(r));
                if keep {
                    has_tombstone |= keys.is_tombstone(r);
                    kept.push((i, b.delta_of(i), r));
                } else if discard {
                    cleaning.aborted += 1;
                } else if keys.is_tombstone(r)
                    && keys.key(r).is_some_and(|k| latest(&CleanKey::Record(k), offset))
                {
                    cleaning.tombstones.push((offset, r));
                } else {
                    cleaning.superseded.push(r);
                }
            }
        } else {
            // A coordinator's record stays while one of its keys has no later record; the
            // tombstones of expired offsets, like a producer's, only until their delete horizon.
            let tombstones = matches!(b.control, Some(Control::OffsetTombstones(_)));
            let keep = !discard
                && (retain_deletes || !tombstones)
                && clean_keys(b, keys)
                    .iter()
                    .any(|(offset, key)| latest(key, *offset));
            if keep {
                let mut batch = b.clone();
                if tombstones && batch.delete_horizon_ms.is_none() {
                    batch.delete_horizon_ms = Some(now_ms.saturating_add(config.delete_retention.as_ms()));
                }
                return Some(batch);
            }
            cleaning.coordinator_records += 1;
        }
        let emptied = kept.is_empty();
        // `BatchRetention.RETAIN_EMPTY`: the last batch of a producer, and the last of the round.
        let retain_empty =
            (b.sequence.is_some() && producer_last.contains(&b.base_offset)) || b.next_offset() == upper;
        if emptied && !retain_empty {
            return None;
        }
        let mut batch = b.clone();
        if kept.len() != b.records.len() {
            let total = b.records.len().max(1) as u64;
            let body = u64::from(b.bytes.saturating_sub(BATCH_HEADER_BYTES));
            // The records' share of the batch's bytes, as if they were the same size.
            batch.bytes = BATCH_HEADER_BYTES + (body * kept.len() as u64 / total) as u32;
            batch.cleaned = Some(Cleaned {
                deltas: kept.iter().map(|(_, d, _)| *d).collect(),
                span: b.span(),
            });
            batch.records = kept.iter().map(|(_, _, r)| *r).collect();
            batch.timestamps = match &b.timestamps {
                Timestamps::LogAppendTime(ms) => Timestamps::LogAppendTime(*ms),
                t => {
                    let base_ms = kept.first().map_or(t.first_ms(), |(i, _, _)| t.of(*i));
                    Timestamps::CreateTime {
                        base_ms,
                        deltas_ms: kept
                            .iter()
                            .map(|(i, _, _)| {
                                u32::try_from(t.of(*i).saturating_sub(base_ms)).unwrap_or(u32::MAX)
                            })
                            .collect(),
                    }
                }
            };
        }
        if has_tombstone && batch.delete_horizon_ms.is_none() {
            // KIP-534: the first cleaning that keeps a tombstone stamps its batch.
            batch.delete_horizon_ms = Some(now_ms.saturating_add(config.delete_retention.as_ms()));
        }
        Some(batch)
    }
}

/// The compaction keys of a batch's records, with their offsets (none for a marker).
fn clean_keys(b: &LogBatch, keys: &RecordKeys) -> Vec<(u64, CleanKey)> {
    match &b.control {
        None => b
            .entries()
            .filter_map(|(o, r)| keys.key(r).map(|k| (o, CleanKey::Record(k))))
            .collect(),
        Some(Control::OffsetCommit(c)) => c
            .offsets
            .iter()
            .map(|(tp, _)| (b.base_offset, CleanKey::Offset(Arc::clone(&c.group), *tp)))
            .collect(),
        Some(Control::OffsetTombstones(t)) => t
            .partitions
            .iter()
            .map(|tp| (b.base_offset, CleanKey::Offset(Arc::clone(&t.group), *tp)))
            .collect(),
        Some(Control::TxnState(t)) => vec![(
            b.base_offset,
            CleanKey::TransactionalId(Arc::clone(&t.transactional_id)),
        )],
        Some(Control::Marker(_)) => Vec::new(),
    }
}

/// `groupSegmentsBySize`: consecutive segments whose bytes together stay within `max_bytes`.
fn group_by_size(segments: Vec<LogSegment>, max_bytes: u64) -> Vec<Vec<LogSegment>> {
    let mut groups: Vec<Vec<LogSegment>> = Vec::new();
    let mut size = 0u64;
    for s in segments {
        match groups.last_mut() {
            Some(g) if size + s.size_bytes() <= max_bytes => {
                size += s.size_bytes();
                g.push(s);
            }
            _ => {
                size = s.size_bytes();
                groups.push(vec![s]);
            }
        }
    }
    groups
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kafka::log::LogConfig;
    use crate::sim::SimDuration;
    use std::num::NonZeroU64;

    /// Producer 0 sends keys a, b, c in turn; producer 1 key z, every 2nd record a tombstone.
    fn keys() -> RecordKeys {
        let abc = ["a".to_string(), "b".to_string(), "c".to_string()];
        let z = ["z".to_string()];
        RecordKeys::new([
            (Some(abc.as_slice()), None),
            (Some(z.as_slice()), NonZeroU64::new(2)),
        ])
    }

    fn compaction(ratio: &str) -> CompactionConfig {
        CompactionConfig {
            min_cleanable_ratio: Ratio::parse(ratio).expect("a ratio"),
            min_lag: SimDuration::ZERO,
            max_lag: SimDuration::from_ms(u64::MAX / 1000),
            delete_retention: SimDuration::from_ms(1000),
        }
    }

    /// A log whose segments hold 3 batches of 100 bytes.
    fn log() -> PartitionLog {
        PartitionLog::new(LogConfig {
            segment_bytes: 300,
            ..LogConfig::default()
        })
    }

    /// Appends records `seqs` of `producer`, one batch each, written at `ms`, and commits them.
    fn put_from(log: &mut PartitionLog, producer: u32, seqs: std::ops::Range<u32>, ms: u64) {
        for seq in seqs {
            let r: Arc<[RecordId]> = Arc::new([RecordId { producer, seq }]);
            log.append_data(r, 100, 0, None, false, Timestamps::at(ms, 1), ms);
        }
        let leo = log.log_end_offset();
        log.set_high_watermark(leo);
    }

    fn put(log: &mut PartitionLog, seqs: std::ops::Range<u32>, ms: u64) {
        put_from(log, 0, seqs, ms);
    }

    fn offsets(log: &PartitionLog) -> Vec<(u64, u32)> {
        log.records().map(|(o, r)| (o, r.seq)).collect()
    }

    /// `Cleaner.cleanInto`, `shouldRetainRecord`: a cleaned log keeps each key's latest record
    /// of the cleaned part at its original offset; the active segment is never cleaned.
    #[test]
    fn cleaning_keeps_each_keys_latest_record_at_its_offset_and_leaves_the_active_segment() {
        let mut log = log();
        put(&mut log, 0..8, 0);
        // Segments [0, 3), [3, 6) closed; [6, 8) active.
        let to = log.to_clean(1, &compaction("0.5")).expect("not empty");
        assert_eq!((to.first_dirty_offset, to.first_uncleanable_offset), (0, 6));
        let c = log.clean(&to, 1, &compaction("0.5"), &keys());
        assert_eq!(c.end_offset, 6);
        let superseded: Vec<u32> = c.superseded.iter().map(|r| r.seq).collect();
        assert_eq!(superseded, [0, 1, 2], "a, b, c again at 3, 4, 5");
        assert_eq!(
            offsets(&log),
            [(3, 3), (4, 4), (5, 5), (6, 6), (7, 7)],
            "the active segment's records stay even though 6 and 7 supersede 3 and 4"
        );
        assert_eq!(log.record_at(0), None, "a gap where record 0 was");
        assert_eq!(log.log_end_offset(), 8);
    }

    /// `LogCleanerManager.grabFilthiestCompactedLog` and `LogToClean.cleanableRatio`: only a
    /// log whose dirty bytes are more than `min.cleanable.dirty.ratio` of it is cleaned; the one
    /// with the highest ratio first.
    #[test]
    fn the_dirty_ratio_decides_whether_and_which_log_is_cleaned() {
        let mut cleaned = log();
        put(&mut cleaned, 0..7, 0);
        let to = cleaned.to_clean(1, &compaction("0.5")).expect("not empty");
        cleaned.clean(&to, 1, &compaction("0.5"), &keys());
        put(&mut cleaned, 7..13, 0);
        // Clean: what is left of [0, 6), 3 batches; dirty: [6, 9) and [9, 12), 600 bytes.
        let dirty = cleaned.to_clean(2, &compaction("0.5")).expect("not empty");
        assert_eq!((dirty.clean_bytes, dirty.cleanable_bytes), (300, 600));
        assert!(dirty.is_cleanable(Ratio::parse("0.5").expect("a ratio")));
        assert!(
            !dirty.is_cleanable(Ratio::parse("0.7").expect("a ratio")),
            "600 / 900 is not above 0.7"
        );
        let mut fresh = log();
        put(&mut fresh, 0..4, 0);
        let all_dirty = fresh.to_clean(2, &compaction("0.5")).expect("not empty");
        assert_eq!((all_dirty.clean_bytes, all_dirty.cleanable_bytes), (0, 300));
        assert!(all_dirty.dirtier_than(&dirty), "1.0 beats 0.67");
        assert!(!dirty.dirtier_than(&all_dirty));
        assert_eq!(dirty.dirty_per_mille(), 666);
    }

    /// KIP-534 (`MemoryRecords.filterTo`, `Cleaner.shouldRetainRecord`): the first cleaning that
    /// keeps a tombstone stamps its batch with now + `delete.retention.ms`; a cleaning before that
    /// horizon keeps it, the first one at or after it removes it. A tombstone that a later record
    /// of its key supersedes goes at once, like any superseded record.
    #[test]
    fn a_tombstone_goes_at_the_first_cleaning_past_its_delete_horizon() {
        let keys = keys();
        let mut log = log();
        // z's value at 0, its tombstone at 1, then a, b, c over and over.
        put_from(&mut log, 1, 0..2, 0);
        put(&mut log, 0..8, 0);
        let config = compaction("0");
        let tombstone = RecordId { producer: 1, seq: 1 };
        let first = log.to_clean(10_000, &config).expect("not empty");
        let c = log.clean(&first, 10_000, &config, &keys);
        assert!(c.tombstones.is_empty(), "kept at its first cleaning");
        assert!(c.superseded.contains(&RecordId { producer: 1, seq: 0 }));
        let horizon = log
            .batches()
            .find(|b| b.records.contains(&tombstone))
            .and_then(|b| b.delete_horizon_ms);
        assert_eq!(horizon, Some(11_000), "now + delete.retention.ms");
        put(&mut log, 8..11, 0);
        let before = log.to_clean(10_999, &config).expect("not empty");
        assert!(log.clean(&before, 10_999, &config, &keys).tombstones.is_empty());
        assert_eq!(log.record_at(1), Some(tombstone));
        put(&mut log, 11..14, 0);
        let after = log.to_clean(11_000, &config).expect("not empty");
        let c = log.clean(&after, 11_000, &config, &keys);
        assert_eq!(c.tombstones, [(1, tombstone)]);
        assert_eq!(log.record_at(1), None);
    }

    /// `cleanableOffsets`: nothing past the high watermark (the last stable offset), and no
    /// segment with a record younger than `min.compaction.lag.ms`; `maxCompactionDelay`: a dirty
    /// segment older than `max.compaction.lag.ms` must be cleaned whatever the ratio.
    #[test]
    fn the_high_watermark_and_the_compaction_lags_bound_the_cleanable_part() {
        let mut log = log();
        put(&mut log, 0..3, 1_000);
        put(&mut log, 3..6, 5_000);
        put(&mut log, 6..7, 5_000);
        let config = compaction("0.5");
        assert_eq!(
            log.to_clean(6_000, &config).map(|t| t.first_uncleanable_offset),
            Some(6)
        );
        let lagging = CompactionConfig {
            min_lag: SimDuration::from_ms(2_000),
            ..config
        };
        assert_eq!(
            log.to_clean(6_000, &lagging).map(|t| t.first_uncleanable_offset),
            Some(3),
            "the segment written at 5 s is younger than 2 s at 6 s"
        );
        let urgent = CompactionConfig {
            max_lag: SimDuration::from_ms(4_000),
            min_cleanable_ratio: Ratio::parse("1").expect("a ratio"),
            ..config
        };
        let to = log.to_clean(6_000, &urgent).expect("not empty");
        assert!(
            to.need_compaction_now,
            "the first batch (1 s) is more than 4 s old"
        );
        assert!(to.is_cleanable(urgent.min_cleanable_ratio), "whatever the ratio");
        let mut held = self::log();
        for seq in 0..7 {
            let r: Arc<[RecordId]> = Arc::new([RecordId { producer: 0, seq }]);
            held.append_data(r, 100, 0, None, false, Timestamps::at(0, 1), 0);
        }
        held.set_high_watermark(4);
        assert_eq!(
            held.to_clean(1, &config).map(|t| t.first_uncleanable_offset),
            Some(3),
            "the segment holding the high watermark (4) is not cleaned"
        );
    }

    /// `__consumer_offsets` is compacted by the same cleaner: an offset commit record's key is
    /// (group, topic, partition) (`GroupCoordinatorRecordSerde`'s `OffsetCommitKey`), so only each
    /// partition's latest commit of each group stays.
    #[test]
    fn only_the_latest_commit_of_each_group_and_partition_stays() {
        use crate::kafka::log::CommitRecord;
        let mut log = log();
        let tp = |partition| Tp { topic: 0, partition };
        let commit = |group: &str, partition, offset| CommitRecord {
            group: Arc::from(group),
            member: Arc::from(""),
            offsets: vec![(tp(partition), offset)],
        };
        for (i, (group, partition)) in [("g1", 0), ("g1", 1), ("g2", 0), ("g1", 0), ("g1", 0), ("g2", 1)]
            .into_iter()
            .enumerate()
        {
            log.append_control(
                Control::OffsetCommit(Arc::new(commit(group, partition, i as u64))),
                0,
                0,
            );
        }
        let leo = log.log_end_offset();
        log.set_high_watermark(leo);
        let config = compaction("0.5");
        let to = log.to_clean(1, &config).expect("not empty");
        let c = log.clean(&to, 1, &config, &keys());
        // Segments of two 120-byte commits: [0, 2), [2, 4) closed, [4, 6) active. g1's commit of
        // partition 0 at 0 is superseded by the one at 3; the one at 4 is in the active segment.
        assert_eq!(c.coordinator_records, 1);
        let kept: Vec<u64> = log.batches().map(|b| b.base_offset).collect();
        assert_eq!(kept, [1, 2, 3, 4, 5]);
    }

    /// Expired offsets' tombstones (`appendOffsetCommitTombstone`) supersede the group's commits
    /// of those partitions and, like a producer's tombstones, go at the first cleaning past the
    /// delete horizon their first cleaning stamped (KIP-534, `Cleaner.shouldRetainRecord`).
    #[test]
    fn expired_offsets_tombstones_supersede_commits_and_go_after_their_horizon() {
        use crate::kafka::log::{CommitRecord, OffsetTombstones};
        let mut log = log();
        let tp = Tp {
            topic: 0,
            partition: 0,
        };
        let commit = CommitRecord {
            group: Arc::from("g1"),
            member: Arc::from(""),
            offsets: vec![(tp, 7)],
        };
        log.append_control(Control::OffsetCommit(Arc::new(commit)), 0, 0);
        let tombstones = OffsetTombstones {
            group: Arc::from("g1"),
            partitions: vec![tp],
        };
        log.append_control(Control::OffsetTombstones(Arc::new(tombstones)), 0, 0);
        // Two more commits of another group fill the closed segments and the active one.
        for offset in [1, 2] {
            let other = CommitRecord {
                group: Arc::from("g2"),
                member: Arc::from(""),
                offsets: vec![(tp, offset)],
            };
            log.append_control(Control::OffsetCommit(Arc::new(other)), 0, 0);
        }
        let leo = log.log_end_offset();
        log.set_high_watermark(leo);
        let config = compaction("0.1");
        let to = log.to_clean(1, &config).expect("dirty");
        log.clean(&to, 1, &config, &keys());
        // Batches that still hold a record (the last batch of a cleaning round stays as an
        // empty batch, `BatchRetention.RETAIN_EMPTY`, to keep its offsets).
        let offsets = |log: &PartitionLog| {
            log.batches()
                .filter(|b| !b.records.is_empty())
                .map(|b| b.base_offset)
                .collect::<Vec<u64>>()
        };
        // g1's commit at 0 is superseded; its tombstone at 1 stays, stamped 1 + 1000 ms.
        assert_eq!(offsets(&log), [1, 2, 3]);
        let horizon = log.batches().next().and_then(|b| b.delete_horizon_ms);
        assert_eq!(horizon, Some(1001));
        // Cleaning again before the horizon keeps it; after it, the tombstone goes.
        let config = CompactionConfig {
            min_cleanable_ratio: Ratio::parse("0").expect("a ratio"),
            ..config
        };
        if let Some(to) = log.to_clean(1000, &config) {
            log.clean(&to, 1000, &config, &keys());
        }
        assert_eq!(offsets(&log), [1, 2, 3]);
        let to = log.to_clean(1002, &config).expect("a cleanable range");
        log.clean(&to, 1002, &config, &keys());
        assert_eq!(offsets(&log), [2, 3]);
    }
}

//! Deleting from the front of a log: whole segments by retention (time, size) and the log start
//! offset moved by `DeleteRecords` or learnt from the leader.
//!
//! Followed: `UnifiedLog.deleteOldSegments`, `deletableSegments`, `deleteSegments`,
//! `deleteRetentionMsBreachedSegments`, `deleteRetentionSizeBreachedSegments`,
//! `deleteLogStartOffsetBreachedSegments` and `maybeIncrementLogStartOffset`
//! (core/src/main/scala/kafka/log/UnifiedLog.scala, Kafka 4.0.1), without tiered storage.

use super::segment::LogSegment;
use super::{PartitionLog, Rolled};

/// Why segments were deleted (`SegmentDeletionReason`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DeletionReason {
    /// The whole segment lies below the log start offset (`StartOffsetBreach`).
    LogStartOffset,
    /// The log was larger than `retention.bytes` (`RetentionSizeBreach`).
    RetentionBytes,
    /// Its largest timestamp is older than `retention.ms` (`RetentionMsBreach`).
    RetentionMs,
}

impl DeletionReason {
    /// What the trace says.
    pub fn name(self) -> &'static str {
        match self {
            DeletionReason::LogStartOffset => "below the log start offset",
            DeletionReason::RetentionBytes => "retention.bytes",
            DeletionReason::RetentionMs => "retention.ms",
        }
    }
}

/// Segments one retention rule deleted.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DeletedSegments {
    /// Why.
    pub reason: DeletionReason,
    /// Base offsets of the deleted segments, oldest first.
    pub base_offsets: Vec<u64>,
    /// Their bytes.
    pub bytes: u64,
    /// The log start offset before.
    pub log_start_offset_before: u64,
    /// The log start offset after (the base offset of the first segment kept).
    pub log_start_offset: u64,
    /// Set when every segment was deletable: the active one was rolled first, so that the log
    /// keeps an (empty) active segment (`deleteSegments`).
    pub rolled: Option<Rolled>,
}

/// `maybeIncrementLogStartOffset` refused: the offset is above the high watermark
/// (`OffsetOutOfRangeException`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LogStartOffsetError {
    /// The offset asked for.
    pub offset: u64,
    /// The high watermark.
    pub high_watermark: u64,
}

impl PartitionLog {
    /// One retention check of this log (`UnifiedLog.deleteOldSegments` with `cleanup.policy`
    /// containing `delete`): segments below the log start offset, then by `retention.bytes`,
    /// then by `retention.ms` at `now_ms`, in that order, each rule oldest segment first.
    pub fn delete_old_segments(&mut self, now_ms: u64) -> Vec<DeletedSegments> {
        let mut deleted = Vec::new();
        deleted.extend(self.delete_log_start_offset_breached_segments());
        deleted.extend(self.delete_retention_size_breached_segments());
        deleted.extend(self.delete_retention_ms_breached_segments(now_ms));
        deleted
    }

    /// `deleteLogStartOffsetBreachedSegments`: segments whose next segment starts at or below
    /// the log start offset. Without `delete` in the cleanup policy this is the only rule that
    /// runs (`deleteOldSegments`).
    pub fn delete_log_start_offset_breached_segments(&mut self) -> Option<DeletedSegments> {
        let start = self.log_start_offset;
        self.delete_segments_while(DeletionReason::LogStartOffset, |_, next| {
            next.is_some_and(|n| n.base_offset() <= start)
        })
    }

    /// `deleteRetentionSizeBreachedSegments`: while the log minus the segments chosen so far is
    /// still larger than `retention.bytes` by a whole segment, the oldest segment goes.
    fn delete_retention_size_breached_segments(&mut self) -> Option<DeletedSegments> {
        let retention = self.config.retention_bytes?;
        let size = self.size_bytes();
        if size < retention {
            return None;
        }
        let mut diff = size - retention;
        self.delete_segments_while(DeletionReason::RetentionBytes, |segment, _| {
            let fits = segment.size_bytes() <= diff;
            if fits {
                diff -= segment.size_bytes();
            }
            fits
        })
    }

    /// `deleteRetentionMsBreachedSegments`: segments whose largest timestamp is more than
    /// `retention.ms` before `now_ms`.
    fn delete_retention_ms_breached_segments(&mut self, now_ms: u64) -> Option<DeletedSegments> {
        let retention = self.config.retention_ms?;
        self.delete_segments_while(DeletionReason::RetentionMs, |segment, _| {
            segment
                .largest_timestamp_ms()
                .is_some_and(|ts| now_ms.saturating_sub(ts) > retention)
        })
    }

    /// `deletableSegments` then `deleteSegments`: from the oldest segment on, while `deletable`
    /// says yes and the segment lies wholly below the high watermark (its next segment's base
    /// offset, or the log end for the active segment, is at most the HW, so that the log start
    /// offset never passes the HW). The active segment is no exception when it qualifies (a
    /// final *empty* segment is never deleted): then a new empty active segment is rolled first
    /// and the log start offset moves to the log end.
    fn delete_segments_while(
        &mut self,
        reason: DeletionReason,
        mut deletable: impl FnMut(&LogSegment, Option<&LogSegment>) -> bool,
    ) -> Option<DeletedSegments> {
        let leo = self.log_end_offset();
        let mut count = 0;
        for (i, segment) in self.segments.iter().enumerate() {
            let next = self.segments.get(i + 1);
            let upper_bound = next.map_or(leo, LogSegment::base_offset);
            let last_and_empty = next.is_none() && segment.is_empty();
            if self.high_watermark >= upper_bound && deletable(segment, next) && !last_and_empty {
                count += 1;
            } else {
                break;
            }
        }
        if count == 0 {
            return None;
        }
        let rolled =
            (count == self.segments.len()).then(|| self.roll(leo, "retention deletes every segment"));
        let gone: Vec<LogSegment> = self.segments.drain(..count).collect();
        let before = self.log_start_offset;
        let new_start = self.segments[0].base_offset();
        self.increment_log_start_offset(new_start);
        Some(DeletedSegments {
            reason,
            base_offsets: gone.iter().map(LogSegment::base_offset).collect(),
            bytes: gone.iter().map(LogSegment::size_bytes).sum(),
            log_start_offset_before: before,
            log_start_offset: self.log_start_offset,
            rolled,
        })
    }

    /// `maybeIncrementLogStartOffset`: moves the log start offset up to `offset` (never down);
    /// refused above the high watermark. Returns whether it moved. The segments below stay
    /// until the next retention check deletes them; reads below it fail at once.
    pub fn maybe_increment_log_start_offset(&mut self, offset: u64) -> Result<bool, LogStartOffsetError> {
        if offset > self.high_watermark {
            return Err(LogStartOffsetError {
                offset,
                high_watermark: self.high_watermark,
            });
        }
        Ok(self.increment_log_start_offset(offset))
    }

    fn increment_log_start_offset(&mut self, offset: u64) -> bool {
        if offset <= self.log_start_offset {
            return false;
        }
        self.log_start_offset = offset;
        // `leaderEpochCache.truncateFromStart`: the epoch holding the new start now starts there.
        let keep = self.epochs.partition_point(|(_, start)| *start <= offset);
        if keep > 0 {
            self.epochs.drain(..keep - 1);
            self.epochs[0].1 = offset;
        }
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kafka::log::LogConfig;
    use crate::kafka::record::{RecordId, Timestamps};
    use std::sync::Arc;

    /// Segments of 2 batches of 100 bytes (segment.bytes 200), one record each, the record at
    /// offset `i` stamped `1000 * i` ms.
    fn log(retention_ms: Option<u64>, retention_bytes: Option<u64>, batches: u64) -> PartitionLog {
        let mut log = PartitionLog::new(LogConfig {
            segment_bytes: 200,
            retention_ms,
            retention_bytes,
            ..LogConfig::default()
        });
        for i in 0..batches {
            let records: Arc<[RecordId]> = Arc::new([RecordId {
                producer: 0,
                seq: i as u32,
            }]);
            log.append_data(records, 100, 0, None, false, Timestamps::at(1000 * i, 1), 0);
        }
        log
    }

    fn bases(log: &PartitionLog) -> Vec<u64> {
        log.segments().iter().map(LogSegment::base_offset).collect()
    }

    /// `deleteRetentionSizeBreachedSegments`: `diff = size - retention.bytes`; the oldest
    /// segments go while each fits in what is left of `diff`.
    #[test]
    fn retention_bytes_deletes_the_oldest_segments_that_fit_in_the_excess() {
        let mut log = log(None, Some(250), 5);
        log.set_high_watermark(5);
        assert_eq!(bases(&log), [0, 2, 4]);
        let deleted = log.delete_old_segments(0);
        assert_eq!(deleted.len(), 1);
        assert_eq!(deleted[0].reason, DeletionReason::RetentionBytes);
        assert_eq!(
            deleted[0].base_offsets,
            [0],
            "500 - 250 = 250: one segment of 200 fits"
        );
        assert_eq!(
            (deleted[0].log_start_offset_before, log.log_start_offset()),
            (0, 2)
        );
        assert_eq!(bases(&log), [2, 4]);
        assert_eq!(log.record_at(1), None, "below the log start offset");
        assert!(
            log.delete_old_segments(0).is_empty(),
            "300 - 250 = 50: nothing fits"
        );
    }

    /// `deletableSegments`: a segment goes only if its upper bound (the next segment's base
    /// offset, the log end for the active one) is at most the high watermark.
    #[test]
    fn retention_never_deletes_at_or_above_the_high_watermark() {
        let mut log = log(None, Some(0), 5);
        log.set_high_watermark(3);
        let deleted = log.delete_old_segments(0);
        assert_eq!(deleted[0].base_offsets, [0], "segment 2..4 ends above the HW");
        assert_eq!(log.log_start_offset(), 2);
    }

    /// Kafka 4.0.1 deletes the active segment too when it qualifies and the HW is at the log end
    /// (`deletableSegments` only spares a final *empty* segment; `deleteSegments` rolls a new
    /// empty active segment first): the log start offset moves to the log end.
    #[test]
    fn retention_ms_deletes_the_active_segment_once_everything_is_old_and_replicated() {
        let mut log = log(Some(10_000), None, 5);
        log.set_high_watermark(5);
        let deleted = log.delete_old_segments(14_001);
        assert_eq!(deleted[0].reason, DeletionReason::RetentionMs);
        assert_eq!(
            deleted[0].base_offsets,
            [0, 2, 4],
            "newest record at 4 s, now 14.001 s"
        );
        let rolled = deleted[0].rolled.expect("a new active segment first");
        assert_eq!((rolled.closed_base_offset, rolled.base_offset), (4, 5));
        assert_eq!(bases(&log), [5]);
        assert_eq!(
            (log.log_start_offset(), log.log_end_offset(), log.size_bytes()),
            (5, 5, 0)
        );
        assert!(
            log.delete_old_segments(100_000).is_empty(),
            "an empty active segment stays"
        );
    }

    /// `startMs - segment.largestTimestamp > retentionMs`: strictly older.
    #[test]
    fn retention_ms_compares_the_largest_timestamp_strictly() {
        let mut log = log(Some(10_000), None, 5);
        log.set_high_watermark(5);
        assert!(
            log.delete_old_segments(11_000).is_empty(),
            "segment 0..2 ends at 1 s: 10 s old"
        );
        let deleted = log.delete_old_segments(11_001);
        assert_eq!(deleted[0].base_offsets, [0]);
    }

    /// `maybeIncrementLogStartOffset` refuses above the HW; the segments wholly below the new
    /// start go at the next check (`deleteLogStartOffsetBreachedSegments`), even with
    /// retention off.
    #[test]
    fn delete_records_moves_the_start_and_the_next_check_deletes_the_segments_below() {
        let mut log = log(None, None, 5);
        log.set_high_watermark(4);
        assert_eq!(
            log.maybe_increment_log_start_offset(5),
            Err(LogStartOffsetError {
                offset: 5,
                high_watermark: 4
            })
        );
        assert_eq!(log.maybe_increment_log_start_offset(3), Ok(true));
        assert_eq!(
            log.maybe_increment_log_start_offset(1),
            Ok(false),
            "never backwards"
        );
        assert_eq!(log.records().map(|(o, _)| o).collect::<Vec<_>>(), [3, 4]);
        assert_eq!(bases(&log), [0, 2, 4], "segments stay until the check");
        let deleted = log.delete_old_segments(0);
        assert_eq!(deleted[0].reason, DeletionReason::LogStartOffset);
        assert_eq!(deleted[0].base_offsets, [0], "segment 2..4 holds offset 3");
        assert_eq!(
            log.log_start_offset(),
            3,
            "the start stays where DeleteRecords put it"
        );
    }

    /// `UnifiedLog.fetchOffsetByTimestamp`: the first record whose timestamp is at least the
    /// target, at or above the log start offset. Kafka searches only the first segment whose
    /// largest timestamp qualifies: while a segment wholly below the log start offset is not
    /// deleted yet, a lookup that lands in it finds nothing.
    #[test]
    fn offsets_by_timestamp_find_the_first_record_at_or_after_it() {
        let mut log = log(None, None, 5);
        log.set_high_watermark(5);
        assert_eq!(log.offset_for_timestamp(0), Some(0));
        assert_eq!(log.offset_for_timestamp(2500), Some(3));
        assert_eq!(log.offset_for_timestamp(4000), Some(4));
        assert_eq!(log.offset_for_timestamp(4001), None);
        log.maybe_increment_log_start_offset(2).expect("below the HW");
        assert_eq!(log.offset_for_timestamp(0), None, "segment 0..2 is still there");
        log.delete_old_segments(0);
        assert_eq!(log.offset_for_timestamp(0), Some(2));
    }
}

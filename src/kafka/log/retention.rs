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

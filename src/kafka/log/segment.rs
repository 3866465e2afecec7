//! Log segments: a replica's log is a list of them, the last one active (appended to), each the
//! batches from its base offset to the next segment's. Retention deletes whole segments.
//!
//! Followed: `LogSegment` (`shouldRoll`, `timeWaitedForRoll`, `largestTimestamp`) and
//! `UnifiedLog.maybeRoll` (storage/src/main/java/org/apache/kafka/storage/internals/log/,
//! core/src/main/scala/kafka/log/UnifiedLog.scala), Kafka 4.0.1.

use super::LogBatch;

/// Which time a record's timestamp is (`message.timestamp.type`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TimestampType {
    /// The producer's `send()` time (Kafka's default).
    CreateTime,
    /// The leader's append time.
    LogAppendTime,
}

/// One topic's storage settings, with the broker's defaults applied (`LogConfig`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LogConfig {
    /// `segment.bytes`: a segment rolls before a batch would take it past this size.
    pub segment_bytes: u64,
    /// `segment.ms`: a segment rolls once a batch's timestamp is this much later than its first
    /// batch's (`segment.jitter.ms` is 0, Kafka's default).
    pub segment_ms: u64,
    /// `message.timestamp.type`.
    pub timestamp_type: TimestampType,
    /// `retention.ms`: closed segments whose largest timestamp is older are deleted (`None`:
    /// -1, forever).
    pub retention_ms: Option<u64>,
    /// `retention.bytes`: the oldest segments are deleted while the log is larger (`None`: any
    /// negative value, no limit).
    pub retention_bytes: Option<u64>,
}

/// 1 GiB (`LogConfig.DEFAULT_SEGMENT_BYTES`).
pub const DEFAULT_SEGMENT_BYTES: u64 = 1 << 30;
/// 7 days (`LogConfig.DEFAULT_SEGMENT_MS`, and `DEFAULT_RETENTION_MS`).
pub const SEVEN_DAYS_MS: u64 = 7 * 24 * 60 * 60 * 1000;

impl Default for LogConfig {
    /// Kafka 4.0's defaults.
    fn default() -> LogConfig {
        LogConfig {
            segment_bytes: DEFAULT_SEGMENT_BYTES,
            segment_ms: SEVEN_DAYS_MS,
            timestamp_type: TimestampType::CreateTime,
            retention_ms: Some(SEVEN_DAYS_MS),
            retention_bytes: None,
        }
    }
}

/// One segment: its batches, their bytes and timestamps.
#[derive(Clone, Debug)]
pub struct LogSegment {
    base_offset: u64,
    batches: Vec<LogBatch>,
    bytes: u64,
    /// The first batch's `maxTimestamp` (`rollingBasedTimestamp`): `segment.ms` counts from it.
    first_batch_timestamp_ms: Option<u64>,
    /// The largest timestamp of any batch (`maxTimestampSoFar`).
    max_timestamp_ms: Option<u64>,
}

impl LogSegment {
    /// An empty segment whose first batch will be at `base_offset`.
    pub fn new(base_offset: u64) -> LogSegment {
        LogSegment {
            base_offset,
            batches: Vec::new(),
            bytes: 0,
            first_batch_timestamp_ms: None,
            max_timestamp_ms: None,
        }
    }

    /// The offset it starts at (its file name in Kafka).
    pub fn base_offset(&self) -> u64 {
        self.base_offset
    }

    /// The offset after its last batch (its base offset while empty).
    pub fn next_offset(&self) -> u64 {
        self.batches
            .last()
            .map_or(self.base_offset, LogBatch::next_offset)
    }

    /// Bytes of its batches (`LogSegment.size`).
    pub fn size_bytes(&self) -> u64 {
        self.bytes
    }

    /// True while it holds no batch.
    pub fn is_empty(&self) -> bool {
        self.batches.is_empty()
    }

    /// Its batches, oldest first.
    pub fn batches(&self) -> &[LogBatch] {
        &self.batches
    }

    /// The largest timestamp of its records (`LogSegment.largestTimestamp`; `None` while empty,
    /// where Kafka falls back on the file's modification time).
    pub fn largest_timestamp_ms(&self) -> Option<u64> {
        self.max_timestamp_ms
    }

    /// `LogSegment.shouldRoll` for an append of `bytes` whose largest timestamp is
    /// `max_timestamp_ms`: it would pass `segment.bytes`, or (holding something) the append's
    /// timestamp is more than `segment.ms` after the first batch's. The index-full and
    /// offset-overflow conditions cannot happen here (no index files; offsets are u64). An empty
    /// segment never rolls: Kafka would replace it by an empty one at the same offset
    /// (`LocalLog.roll` deletes an empty active segment of the same base offset).
    /// Returns the key that says to roll, if any.
    pub fn should_roll(&self, config: &LogConfig, bytes: u64, max_timestamp_ms: u64) -> Option<&'static str> {
        if self.is_empty() {
            return None;
        }
        let waited_ms = self
            .first_batch_timestamp_ms
            .map_or(0, |first| max_timestamp_ms.saturating_sub(first));
        if self.bytes.saturating_add(bytes) > config.segment_bytes {
            Some("segment.bytes")
        } else if waited_ms > config.segment_ms {
            Some("segment.ms")
        } else {
            None
        }
    }

    /// Appends a batch at the segment's end.
    pub fn push(&mut self, batch: LogBatch) {
        let max = batch.timestamps.max_ms();
        self.first_batch_timestamp_ms.get_or_insert(max);
        self.max_timestamp_ms = Some(self.max_timestamp_ms.map_or(max, |m| m.max(max)));
        self.bytes += u64::from(batch.bytes);
        self.batches.push(batch);
    }

    /// Removes the batches that hold an offset at or above `offset` (whole batches); returns them.
    pub fn truncate_to(&mut self, offset: u64) -> Vec<LogBatch> {
        let keep = self.batches.partition_point(|b| b.next_offset() <= offset);
        let removed = self.batches.split_off(keep);
        if !removed.is_empty() {
            self.bytes = self.batches.iter().map(|b| u64::from(b.bytes)).sum();
            self.first_batch_timestamp_ms = self.batches.first().map(|b| b.timestamps.max_ms());
            self.max_timestamp_ms = self.batches.iter().map(|b| b.timestamps.max_ms()).max();
        }
        removed
    }

    /// The index of the batch holding `offset` (or the first one after it).
    pub fn batch_index(&self, offset: u64) -> usize {
        self.batches.partition_point(|b| b.next_offset() <= offset)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kafka::log::PartitionLog;
    use crate::kafka::record::{RecordId, Timestamps};
    use std::sync::Arc;

    fn config(segment_bytes: u64, segment_ms: u64) -> LogConfig {
        LogConfig {
            segment_bytes,
            segment_ms,
            ..LogConfig::default()
        }
    }

    fn append(log: &mut PartitionLog, bytes: u32, at_ms: u64) -> Option<&'static str> {
        let records: Arc<[RecordId]> = Arc::new([RecordId { producer: 0, seq: 0 }]);
        let stamps = Timestamps::at(at_ms, 1);
        log.append_data(records, bytes, 0, None, false, stamps, at_ms)
            .1
            .map(|r| r.why)
    }

    fn bases(log: &PartitionLog) -> Vec<u64> {
        log.segments().iter().map(LogSegment::base_offset).collect()
    }

    /// `LogSegment.shouldRoll`: `size > maxSegmentBytes - messagesSize`, so a segment may reach
    /// `segment.bytes` exactly and rolls only when the append would pass it.
    #[test]
    fn a_segment_rolls_before_an_append_would_pass_segment_bytes() {
        let mut log = PartitionLog::new(config(250, u64::MAX));
        assert_eq!(append(&mut log, 100, 0), None);
        assert_eq!(append(&mut log, 150, 0), None, "exactly segment.bytes: no roll");
        assert_eq!(append(&mut log, 1, 0), Some("segment.bytes"));
        assert_eq!(bases(&log), [0, 2]);
        assert_eq!(log.segments()[0].size_bytes(), 250);
        assert_eq!(log.size_bytes(), 251);
    }

    /// An append larger than `segment.bytes` goes into the (empty) active segment: Kafka's roll of
    /// an empty segment replaces it by an empty one at the same offset (`LocalLog.roll`).
    #[test]
    fn an_empty_segment_takes_a_batch_larger_than_segment_bytes() {
        let mut log = PartitionLog::new(config(100, u64::MAX));
        assert_eq!(append(&mut log, 500, 0), None);
        assert_eq!(append(&mut log, 500, 0), Some("segment.bytes"));
        assert_eq!(bases(&log), [0, 1]);
    }

    /// `LogSegment.timeWaitedForRoll`: the new batch's largest timestamp minus the first batch's
    /// (`rollingBasedTimestamp`), compared with `segment.ms - rollJitterMs` by `>`; time alone
    /// rolls nothing: only an append does.
    #[test]
    fn segment_ms_counts_from_the_first_batch_timestamp_and_rolls_on_append() {
        let mut log = PartitionLog::new(config(u64::MAX, 1000));
        assert_eq!(append(&mut log, 10, 5000), None);
        assert_eq!(
            append(&mut log, 10, 6000),
            None,
            "exactly segment.ms later: no roll"
        );
        assert_eq!(append(&mut log, 10, 6001), Some("segment.ms"));
        assert_eq!(bases(&log), [0, 2]);
        assert_eq!(
            append(&mut log, 10, 6500),
            None,
            "counts from the new segment's first batch"
        );
    }

    /// A follower appends a fetch response's batches at once (`UnifiedLog.appendAsFollower`):
    /// one roll decision for all of them, so its segments may start elsewhere than the leader's.
    #[test]
    fn a_follower_rolls_once_per_fetched_append() {
        let mut leader = PartitionLog::new(config(250, u64::MAX));
        for _ in 0..4 {
            append(&mut leader, 100, 0);
        }
        assert_eq!(bases(&leader), [0, 2]);
        let mut follower = PartitionLog::new(config(250, u64::MAX));
        let (batches, _) = leader.read_batches(0, u32::MAX);
        assert_eq!(
            follower.append_as_follower(batches),
            None,
            "an empty segment takes it all"
        );
        assert_eq!(bases(&follower), [0]);
        assert_eq!(follower.log_end_offset(), 4);
    }
}

//! A partition replica's log: batches at offsets, the log end offset and the high watermark.
//!
//! The log owns offsets; the broker decides when the high watermark moves.

use super::protocol::FetchedBatch;
use super::record::RecordId;
use std::sync::Arc;

/// One batch as stored.
#[derive(Clone, Debug)]
pub struct LogBatch {
    /// Offset of its first record.
    pub base_offset: u64,
    /// Leader epoch of the leader that appended it.
    pub leader_epoch: u32,
    /// The records.
    pub records: Arc<[RecordId]>,
    /// Size in bytes.
    pub bytes: u32,
}

impl LogBatch {
    /// Offset after its last record.
    pub fn next_offset(&self) -> u64 {
        self.base_offset + self.records.len() as u64
    }
}

/// A replica's log.
#[derive(Clone, Debug, Default)]
pub struct PartitionLog {
    batches: Vec<LogBatch>,
    log_start_offset: u64,
    high_watermark: u64,
}

impl PartitionLog {
    /// The offset the next record will get (LEO).
    pub fn log_end_offset(&self) -> u64 {
        self.batches
            .last()
            .map_or(self.log_start_offset, LogBatch::next_offset)
    }

    /// First offset still in the log.
    pub fn log_start_offset(&self) -> u64 {
        self.log_start_offset
    }

    /// Offsets below this are committed and visible to consumers.
    pub fn high_watermark(&self) -> u64 {
        self.high_watermark
    }

    /// Moves the high watermark (never past the log end, never backwards).
    pub fn set_high_watermark(&mut self, hw: u64) {
        assert!(
            hw <= self.log_end_offset(),
            "HW {hw} beyond LEO {}",
            self.log_end_offset()
        );
        self.high_watermark = self.high_watermark.max(hw);
    }

    /// Appends a batch at the log end; returns its base offset.
    pub fn append(&mut self, records: Arc<[RecordId]>, bytes: u32, leader_epoch: u32) -> u64 {
        let base_offset = self.log_end_offset();
        self.batches.push(LogBatch {
            base_offset,
            leader_epoch,
            records,
            bytes,
        });
        base_offset
    }

    /// Whole batches holding offsets in `from..upto`, at least one batch if any qualifies, then
    /// stopping before `max_bytes` would be exceeded. Returns the batches and their bytes.
    pub fn read(&self, from: u64, upto: u64, max_bytes: u32) -> (Vec<FetchedBatch>, u32) {
        let start = self.batches.partition_point(|b| b.next_offset() <= from);
        let mut out = Vec::new();
        let mut bytes = 0u32;
        for b in &self.batches[start..] {
            if b.base_offset >= upto {
                break;
            }
            if !out.is_empty() && bytes.saturating_add(b.bytes) > max_bytes {
                break;
            }
            bytes = bytes.saturating_add(b.bytes);
            out.push(FetchedBatch {
                base_offset: b.base_offset,
                records: Arc::clone(&b.records),
            });
        }
        (out, bytes)
    }

    /// Every batch, oldest first.
    pub fn batches(&self) -> &[LogBatch] {
        &self.batches
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn recs(n: u32) -> Arc<[RecordId]> {
        (0..n).map(|seq| RecordId { producer: 0, seq }).collect()
    }

    #[test]
    fn offsets_are_contiguous_across_batches() {
        let mut log = PartitionLog::default();
        assert_eq!(log.append(recs(3), 100, 0), 0);
        assert_eq!(log.append(recs(2), 100, 0), 3);
        assert_eq!(log.log_end_offset(), 5);
        assert_eq!(log.high_watermark(), 0);
    }

    #[test]
    fn reads_stop_at_the_upper_bound_and_the_byte_limit() {
        let mut log = PartitionLog::default();
        for _ in 0..4 {
            log.append(recs(2), 100, 0);
        }
        let (batches, bytes) = log.read(3, 6, 1000);
        assert_eq!(batches.iter().map(|b| b.base_offset).collect::<Vec<_>>(), [2, 4]);
        assert_eq!(bytes, 200);
        let (batches, _) = log.read(0, 8, 150);
        assert_eq!(
            batches.len(),
            1,
            "the first batch is returned even past the byte limit"
        );
        assert!(log.read(8, 8, 1000).0.is_empty());
    }

    #[test]
    #[should_panic(expected = "beyond LEO")]
    fn the_high_watermark_cannot_pass_the_log_end() {
        let mut log = PartitionLog::default();
        log.append(recs(1), 10, 0);
        log.set_high_watermark(2);
    }
}

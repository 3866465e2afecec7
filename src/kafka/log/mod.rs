//! A partition replica's log: batches at offsets, the log end offset, the high watermark, the
//! leader epoch cache (KIP-101) and how much of it is flushed to disk.
//!
//! The log owns offsets; the broker decides when the high watermark moves. It also keeps the
//! transaction index ([`TxnIndex`]): open transactions, the last stable offset and the aborted
//! transactions, updated as batches are appended, so that leaders and followers agree on them.

mod clean;
mod retention;
mod segment;
mod txn;

use super::protocol::FetchedBatch;
use super::record::{BatchSequence, RecordId, Timestamps, Tp};
pub use clean::{Cleaning, ToClean};
pub use retention::{DeletedSegments, LogStartOffsetError};
pub use segment::{DEFAULT_SEGMENT_BYTES, LogConfig, LogSegment, SEVEN_DAYS_MS, TimestampType};
use std::sync::Arc;
pub use txn::{AbortedTxn, TxnIndex, TxnMarker};

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
    /// The idempotent producer's header fields, if it came from one.
    pub sequence: Option<BatchSequence>,
    /// Written inside a transaction (the batch header's `isTransactional` attribute).
    pub transactional: bool,
    /// A coordinator's record or a transaction marker, instead of producer records.
    pub control: Option<Control>,
    /// The records' timestamps.
    pub timestamps: Timestamps,
    /// Set once a log cleaner removed some of its records: where the kept ones are.
    pub cleaned: Option<Cleaned>,
    /// When a log cleaner may remove its tombstones: set by the first cleaning that kept one
    /// (KIP-534, the batch's `deleteHorizonMs`).
    pub delete_horizon_ms: Option<u64>,
}

/// The layout of a batch a log cleaner removed records from. It keeps its offset range (Kafka
/// rewrites it with its original base offset and `overrideLastOffset`, so that the last
/// sequence survives), so the offsets of its records get gaps.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Cleaned {
    /// Each kept record's offset minus the batch's base offset, increasing.
    pub deltas: Arc<[u32]>,
    /// How many offsets the batch spans: its last offset plus one, minus its base offset.
    pub span: u32,
}

/// A record one of Kafka's coordinators wrote, instead of producer records.
#[derive(Clone, Debug)]
pub enum Control {
    /// A group coordinator's offset commit (`__consumer_offsets`).
    OffsetCommit(Arc<CommitRecord>),
    /// A group coordinator's tombstones for a group's expired offsets (`__consumer_offsets`).
    OffsetTombstones(Arc<OffsetTombstones>),
    /// A transaction coordinator's record of one transactional id (`__transaction_state`).
    TxnState(Arc<TxnStateRecord>),
    /// A COMMIT or ABORT control batch (`EndTransactionMarker`) in a data partition.
    Marker(TxnMarker),
}

/// What a transaction coordinator writes to `__transaction_state` for one transactional id
/// (`TransactionLogValue`): enough for a new coordinator to carry on.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TxnStateRecord {
    /// The transactional id.
    pub transactional_id: Arc<str>,
    /// Its producer id and epoch.
    pub producer_id: u64,
    /// The producer epoch.
    pub producer_epoch: u16,
    /// The state written (the pending state the coordinator moves to once this is replicated).
    pub state: super::txn::TxnState,
    /// Partitions in the transaction.
    pub partitions: Vec<Tp>,
    /// `transaction.timeout.ms` of the producer.
    pub timeout_ms: u64,
    /// When the transaction started (ms of simulated time; `txnStartTimestamp`): `None` (Kafka
    /// writes -1) in the record of an `InitProducerId`.
    pub start_ms: Option<u64>,
}

/// An offset commit as the coordinator writes it to `__consumer_offsets` (one batch of one record
/// here; Kafka writes one record per partition), so that a new coordinator can read it back.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CommitRecord {
    /// The group.
    pub group: Arc<str>,
    /// The member that committed ("" outside the group protocol).
    pub member: Arc<str>,
    /// (partition, committed offset).
    pub offsets: Vec<(Tp, u64)>,
}

/// The offsets of a group a coordinator deleted (Kafka writes one tombstone per partition:
/// `appendOffsetCommitTombstone`), so that a new coordinator does not read them back.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OffsetTombstones {
    /// The group.
    pub group: Arc<str>,
    /// The partitions whose offsets are deleted.
    pub partitions: Vec<Tp>,
}

/// The record id that stands for a group coordinator's record in a log (no producer sent it).
pub const COMMIT_RECORD: RecordId = RecordId {
    producer: u32::MAX,
    seq: 0,
};

/// The record id that stands for a transaction marker's control record.
pub const MARKER_RECORD: RecordId = RecordId {
    producer: u32::MAX,
    seq: 1,
};

/// The record id that stands for a transaction coordinator's record.
pub const TXN_STATE_RECORD: RecordId = RecordId {
    producer: u32::MAX,
    seq: 2,
};

impl LogBatch {
    /// Offset after its last record (after its original last record, once cleaned).
    pub fn next_offset(&self) -> u64 {
        self.base_offset + u64::from(self.span())
    }

    /// How many offsets it spans (`lastOffsetDelta + 1`).
    pub fn span(&self) -> u32 {
        self.cleaned
            .as_ref()
            .map_or(self.records.len() as u32, |c| c.span)
    }

    /// Record number `i`'s offset minus the base offset.
    pub fn delta_of(&self, i: usize) -> u32 {
        self.cleaned.as_ref().map_or(i as u32, |c| c.deltas[i])
    }

    /// Its records with their offsets.
    pub fn entries(&self) -> impl Iterator<Item = (u64, RecordId)> + '_ {
        self.records
            .iter()
            .enumerate()
            .map(|(i, r)| (self.base_offset + u64::from(self.delta_of(i)), *r))
    }

    /// The part of it at or after `offset` (all of it when it starts there or later; `None`
    /// when no record is left): a follower that starts at its leader's log start offset inside
    /// a batch.
    pub fn tail_from(&self, offset: u64) -> Option<LogBatch> {
        if offset <= self.base_offset {
            return Some(self.clone());
        }
        let skip = self.entries().take_while(|(o, _)| *o < offset).count();
        let total = self.records.len();
        let rest = self.records.get(skip..).filter(|r| !r.is_empty())?;
        let shift = u32::try_from(offset - self.base_offset).unwrap_or(u32::MAX);
        Some(LogBatch {
            base_offset: offset,
            leader_epoch: self.leader_epoch,
            records: rest.into(),
            bytes: (u64::from(self.bytes) * rest.len() as u64 / total as u64) as u32,
            sequence: self.sequence.map(|s| BatchSequence {
                base_sequence: s.base_sequence + shift,
                ..s
            }),
            transactional: self.transactional,
            control: self.control.clone(),
            timestamps: self.timestamps.skip(skip),
            cleaned: self.cleaned.as_ref().map(|c| Cleaned {
                deltas: c.deltas[skip..].iter().map(|d| d - shift).collect(),
                span: c.span - shift,
            }),
            delete_horizon_ms: self.delete_horizon_ms,
        })
    }

    /// Holds producer records (not a coordinator's record or a marker).
    pub fn is_data(&self) -> bool {
        self.control.is_none()
    }

    /// The producer id of a transactional coordinator record (a `TxnOffsetCommit`).
    pub fn transactional_producer_of_control(&self) -> Option<u64> {
        self.sequence
            .filter(|_| self.transactional && matches!(self.control, Some(Control::OffsetCommit(_))))
            .map(|s| s.producer_id)
    }

    /// The producer id of a transactional data batch.
    pub fn transactional_producer(&self) -> Option<u64> {
        self.sequence
            .filter(|_| self.transactional && self.is_data())
            .map(|s| s.producer_id)
    }
}

/// A replica's log: segments, the last one active.
#[derive(Clone, Debug)]
pub struct PartitionLog {
    config: LogConfig,
    /// Never empty: the last one is the active segment.
    segments: Vec<LogSegment>,
    log_start_offset: u64,
    high_watermark: u64,
    /// Leader epoch cache: (epoch, start offset), epochs increasing (`LeaderEpochFileCache`).
    epochs: Vec<(u32, u64)>,
    /// Offsets below this are on disk (survive a power loss).
    flushed: u64,
    /// The high watermark as last written to `replication-offset-checkpoint`.
    checkpointed_hw: u64,
    /// Open, unstable and aborted transactions.
    txns: TxnIndex,
    /// Where the log cleaner stopped last time: the first dirty offset (Kafka's
    /// `cleaner-offset-checkpoint`, on disk: it survives a crash).
    cleaner_checkpoint: Option<u64>,
}

impl Default for PartitionLog {
    /// An empty log with Kafka's default settings.
    fn default() -> PartitionLog {
        PartitionLog::new(LogConfig::default())
    }
}

/// What one append did to the segments.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Rolled {
    /// Base offset of the segment that was active (now closed).
    pub closed_base_offset: u64,
    /// Base offset of the new active segment.
    pub base_offset: u64,
    /// What made it roll (`segment.bytes`, `segment.ms`, or retention deleting every segment).
    pub why: &'static str,
}

impl PartitionLog {
    /// An empty log with these settings: one empty segment at offset 0.
    pub fn new(config: LogConfig) -> PartitionLog {
        PartitionLog {
            config,
            segments: vec![LogSegment::new(0)],
            log_start_offset: 0,
            high_watermark: 0,
            epochs: Vec::new(),
            flushed: 0,
            checkpointed_hw: 0,
            txns: TxnIndex::default(),
            cleaner_checkpoint: None,
        }
    }

    /// Its settings.
    pub fn config(&self) -> &LogConfig {
        &self.config
    }

    /// The offset the next record will get (LEO).
    pub fn log_end_offset(&self) -> u64 {
        self.active().next_offset()
    }

    /// First offset still in the log: the first segment's base offset, or higher after
    /// `DeleteRecords` or a leader's log start offset learnt by a follower.
    pub fn log_start_offset(&self) -> u64 {
        self.log_start_offset
    }

    /// The segments, oldest first; the last is active.
    pub fn segments(&self) -> &[LogSegment] {
        &self.segments
    }

    /// Bytes of every segment (`UnifiedLog.size`).
    pub fn size_bytes(&self) -> u64 {
        self.segments.iter().map(LogSegment::size_bytes).sum()
    }

    fn active(&self) -> &LogSegment {
        self.segments.last().expect("a log always has an active segment")
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
        self.txns.on_high_watermark(self.high_watermark);
    }

    /// The last stable offset: below it every transaction is decided and replicated; a
    /// `read_committed` consumer reads up to it (`UnifiedLog.lastStableOffset`).
    pub fn last_stable_offset(&self) -> u64 {
        self.txns.last_stable_offset(self.high_watermark)
    }

    /// The transaction index.
    pub fn txns(&self) -> &TxnIndex {
        &self.txns
    }

    /// A log as a reader saw it at the end of a recorded run (a history file): each record at its
    /// offset, in offset order (gaps stand for records that are no workload's), the log start
    /// offset the read began at (at most the first record's), the high watermark, the log end
    /// offset (at least the last offset plus one) and, if the reader
    /// knows it, the last stable offset (a transaction still open from there).
    pub fn recorded(
        records: &[(u64, RecordId)],
        log_start_offset: u64,
        high_watermark: u64,
        log_end_offset: u64,
        last_stable_offset: Option<u64>,
    ) -> PartitionLog {
        let batch = |base_offset: u64, records: Arc<[RecordId]>| LogBatch {
            base_offset,
            leader_epoch: 0,
            timestamps: Timestamps::at(0, records.len()),
            cleaned: None,
            delete_horizon_ms: None,
            records,
            bytes: 0,
            sequence: None,
            transactional: false,
            control: None,
        };
        let mut segment = LogSegment::new(log_start_offset);
        for (o, r) in records {
            segment.push(batch(*o, Arc::new([*r])));
        }
        if segment.next_offset() < log_end_offset {
            // An empty batch marks where the log ends.
            segment.push(batch(log_end_offset, Arc::new([])));
        }
        PartitionLog {
            config: LogConfig::default(),
            segments: vec![segment],
            log_start_offset,
            high_watermark,
            epochs: Vec::new(),
            flushed: log_end_offset,
            checkpointed_hw: high_watermark,
            txns: last_stable_offset
                .filter(|lso| *lso < high_watermark)
                .map_or_else(TxnIndex::default, TxnIndex::open_from),
            cleaner_checkpoint: None,
        }
    }

    /// Appends a batch at the log end as leader, stamped at 0 ms; returns its base offset.
    #[cfg(test)]
    pub fn append(
        &mut self,
        records: Arc<[RecordId]>,
        bytes: u32,
        leader_epoch: u32,
        sequence: Option<BatchSequence>,
    ) -> u64 {
        let stamp = Timestamps::LogAppendTime(0);
        self.append_data(records, bytes, leader_epoch, sequence, false, stamp, 0)
            .0
    }

    /// Appends a producer's batch as leader, inside a transaction when `transactional`. Under
    /// `LogAppendTime` the batch is stamped `now_ms` (`LogValidator`).
    #[allow(clippy::too_many_arguments)]
    pub fn append_data(
        &mut self,
        records: Arc<[RecordId]>,
        bytes: u32,
        leader_epoch: u32,
        sequence: Option<BatchSequence>,
        transactional: bool,
        timestamps: Timestamps,
        now_ms: u64,
    ) -> (u64, Option<Rolled>) {
        let base_offset = self.log_end_offset();
        let timestamps = match self.config.timestamp_type {
            TimestampType::CreateTime => timestamps,
            TimestampType::LogAppendTime => Timestamps::LogAppendTime(now_ms),
        };
        let rolled = self.push(vec![LogBatch {
            base_offset,
            leader_epoch,
            records,
            bytes,
            sequence,
            transactional,
            control: None,
            timestamps,
            cleaned: None,
            delete_horizon_ms: None,
        }]);
        (base_offset, rolled)
    }

    /// Appends a coordinator's record (or a marker) as the leader, at `leader_epoch`, written
    /// at `now_ms`.
    pub fn append_control(
        &mut self,
        control: Control,
        leader_epoch: u32,
        now_ms: u64,
    ) -> (u64, Option<Rolled>) {
        let base_offset = self.log_end_offset();
        let (record, bytes, transactional) = match &control {
            Control::OffsetCommit(c) => (COMMIT_RECORD, 100 + 20 * c.offsets.len() as u32, false),
            Control::OffsetTombstones(t) => (COMMIT_RECORD, 100 + 20 * t.partitions.len() as u32, false),
            Control::TxnState(t) => (TXN_STATE_RECORD, 100 + 20 * t.partitions.len() as u32, false),
            // `EndTransactionMarker`: a control batch of one record (61 + 17 bytes).
            Control::Marker(_) => (MARKER_RECORD, 78, true),
        };
        let rolled = self.push(vec![LogBatch {
            base_offset,
            leader_epoch,
            records: Arc::new([record]),
            bytes,
            sequence: None,
            transactional,
            control: Some(control),
            timestamps: Timestamps::at(now_ms, 1),
            cleaned: None,
            delete_horizon_ms: None,
        }]);
        (base_offset, rolled)
    }

    /// Appends a `TxnOffsetCommit`'s record as the leader: a transactional batch of the
    /// producer, pending until its marker.
    pub fn append_txn_commit(
        &mut self,
        commit: CommitRecord,
        leader_epoch: u32,
        producer: super::record::ProducerIdentity,
        now_ms: u64,
    ) -> (u64, Option<Rolled>) {
        let base_offset = self.log_end_offset();
        let bytes = 100 + 20 * commit.offsets.len() as u32;
        let rolled = self.push(vec![LogBatch {
            base_offset,
            leader_epoch,
            records: Arc::new([COMMIT_RECORD]),
            bytes,
            sequence: Some(BatchSequence {
                producer_id: producer.id,
                epoch: producer.epoch,
                base_sequence: 0,
            }),
            transactional: true,
            control: Some(Control::OffsetCommit(Arc::new(commit))),
            timestamps: Timestamps::at(now_ms, 1),
            cleaned: None,
            delete_horizon_ms: None,
        }]);
        (base_offset, rolled)
    }

    /// Appends a group coordinator's commit record as the leader, at `leader_epoch`.
    pub fn append_commit(
        &mut self,
        commit: CommitRecord,
        leader_epoch: u32,
        now_ms: u64,
    ) -> (u64, Option<Rolled>) {
        self.append_control(Control::OffsetCommit(Arc::new(commit)), leader_epoch, now_ms)
    }

    /// Appends the batches of one fetch response, copied from the leader with their offsets,
    /// epochs and timestamps: one append, so one roll decision for all of them
    /// (`UnifiedLog.appendAsFollower`).
    pub fn append_as_follower(&mut self, batches: Vec<LogBatch>) -> Option<Rolled> {
        if let Some(first) = batches.first() {
            assert_eq!(
                first.base_offset,
                self.log_end_offset(),
                "followers append at their LEO"
            );
        }
        self.push(batches)
    }

    /// One append (`UnifiedLog.append`): roll first if the active segment cannot take it
    /// (`maybeRoll`), then add the batches.
    fn push(&mut self, batches: Vec<LogBatch>) -> Option<Rolled> {
        let first = batches.first()?;
        let bytes: u64 = batches.iter().map(|b| u64::from(b.bytes)).sum();
        let max_timestamp_ms = batches.iter().map(|b| b.timestamps.max_ms()).max().unwrap_or(0);
        let base_offset = first.base_offset;
        let rolled = self
            .active()
            .should_roll(&self.config, bytes, max_timestamp_ms)
            .map(|why| self.roll(base_offset, why));
        for batch in batches {
            if self.epochs.last().is_none_or(|(e, _)| batch.leader_epoch > *e) {
                self.epochs.push((batch.leader_epoch, batch.base_offset));
            }
            self.txns.on_append(&batch, self.high_watermark);
            self.segments
                .last_mut()
                .expect("a log always has an active segment")
                .push(batch);
        }
        rolled
    }

    /// Closes the active segment and starts a new one at `base_offset` (`UnifiedLog.roll`).
    fn roll(&mut self, base_offset: u64, why: &'static str) -> Rolled {
        let closed_base_offset = self.active().base_offset();
        self.segments.push(LogSegment::new(base_offset));
        Rolled {
            closed_base_offset,
            base_offset,
            why,
        }
    }

    /// Becoming leader at `epoch`: the cache records `(epoch, LEO)` before any write, so a
    /// follower with later data can still find where to truncate (`Partition.makeLeader`).
    pub fn start_epoch(&mut self, epoch: u32) {
        if self.epochs.last().is_none_or(|(e, _)| epoch > *e) {
            let leo = self.log_end_offset();
            self.epochs.push((epoch, leo));
        }
    }

    /// Epoch of the last batch.
    pub fn last_batch_epoch(&self) -> Option<u32> {
        self.batches().last().map(|b| b.leader_epoch)
    }

    /// The latest epoch in the cache, sent as `lastFetchedEpoch` by a follower.
    pub fn latest_epoch(&self) -> Option<u32> {
        self.epochs.last().map(|(e, _)| *e)
    }

    /// Where a follower cuts its log when the leader says it diverges at `(epoch, end)`
    /// (KIP-279, `AbstractFetcherThread.getOffsetTruncationState`): if this log has `epoch`, at
    /// the smaller of the two ends; if it only has older epochs, at the end of its largest older
    /// epoch (the next fetch checks again from there); with no epoch at or below, at `end`.
    pub fn divergence_point(&self, epoch: u32, end: u64) -> u64 {
        let leo = self.log_end_offset();
        let floor = self.epochs.iter().rposition(|(e, _)| *e <= epoch);
        let own_end = |i: usize| self.epochs.get(i + 1).map_or(leo, |(_, start)| *start);
        match floor {
            Some(i) if self.epochs[i].0 == epoch => end.min(own_end(i)).min(leo),
            Some(i) => own_end(i).min(leo),
            None => end.min(leo),
        }
    }

    /// Start offset of the latest epoch in the cache.
    pub fn latest_epoch_start(&self) -> Option<u64> {
        self.epochs.last().map(|(_, start)| *start)
    }

    /// `LeaderEpochFileCache.endOffsetFor` (KIP-279): for a requested epoch, the largest epoch
    /// this log knows that is not larger, and where it ends.
    pub fn end_offset_for(&self, epoch: u32) -> Option<(u32, u64)> {
        let (latest, _) = *self.epochs.last()?;
        if epoch == latest {
            return Some((latest, self.log_end_offset()));
        }
        let next = self.epochs.iter().position(|(e, _)| *e > epoch)?;
        let end = self.epochs[next].1;
        match next.checked_sub(1) {
            Some(i) => Some((self.epochs[i].0, end)),
            None => Some((epoch, end)),
        }
    }

    /// Removes every batch at or above `offset` (whole batches) and the segments past it, and
    /// clamps the HW, the flush point, the epoch cache and the log start offset to the new log
    /// end (`UnifiedLog.truncateTo`; below the first segment, `truncateFullyAndStartAt`).
    /// Returns what was removed.
    pub fn truncate_to(&mut self, offset: u64) -> Vec<LogBatch> {
        let mut removed = Vec::new();
        if offset < self.segments[0].base_offset() {
            for s in std::mem::replace(&mut self.segments, vec![LogSegment::new(offset)]) {
                removed.extend(s.batches().iter().cloned());
            }
        } else {
            // `LocalLog.truncateTo`: segments starting above the offset go, the one holding it
            // is cut (and stays, possibly empty, as the active segment).
            let keep = self
                .segments
                .partition_point(|s| s.base_offset() <= offset)
                .max(1);
            for s in self.segments.split_off(keep) {
                removed.extend(s.batches().iter().cloned());
            }
            let mut tail = self
                .segments
                .last_mut()
                .expect("a log always has an active segment")
                .truncate_to(offset);
            tail.append(&mut removed);
            removed = tail;
        }
        let leo = self.log_end_offset();
        self.log_start_offset = self.log_start_offset.min(leo);
        // `LogCleanerManager.maybeTruncateCheckpoint`: the cleaner starts again from here.
        self.cleaner_checkpoint = self.cleaner_checkpoint.map(|c| c.min(leo));
        self.epochs.retain(|(_, start)| *start < leo);
        self.high_watermark = self.high_watermark.min(leo);
        self.flushed = self.flushed.min(leo);
        self.checkpointed_hw = self.checkpointed_hw.min(leo);
        if removed.iter().any(|b| b.transactional) {
            // `UnifiedLog.truncateTo` reloads the producer state: rebuild the index.
            self.txns = TxnIndex::rebuild(
                self.segments.iter().flat_map(|s| s.batches()),
                self.high_watermark,
            );
        }
        removed
    }

    /// A follower whose log ends below the leader's log start offset drops everything and
    /// starts there (`AbstractFetcherThread.fetchOffsetAndTruncate`,
    /// `UnifiedLog.truncateFullyAndStartAt`). Returns what was removed.
    pub fn truncate_fully_and_start_at(&mut self, offset: u64) -> Vec<LogBatch> {
        let removed: Vec<LogBatch> = std::mem::replace(&mut self.segments, vec![LogSegment::new(offset)])
            .iter()
            .flat_map(|s| s.batches().iter().cloned())
            .collect();
        self.log_start_offset = offset;
        self.epochs.clear();
        self.high_watermark = offset;
        self.flushed = offset;
        self.checkpointed_hw = offset;
        self.txns = TxnIndex::default();
        removed
    }

    /// Offsets below this survive a power loss.
    pub fn flushed_offset(&self) -> u64 {
        self.flushed
    }

    /// fsync: everything appended so far is on disk.
    pub fn flush(&mut self) {
        self.flushed = self.log_end_offset();
    }

    /// Writes the high watermark to the checkpoint file.
    pub fn checkpoint_high_watermark(&mut self) {
        self.checkpointed_hw = self.high_watermark;
    }

    /// After a restart: the power loss took what was not flushed (if `lost_unflushed`), and the
    /// HW is what the checkpoint file says, clamped to the log (`Partition.createLog`). Returns
    /// the batches the power loss took.
    pub fn recover(&mut self, lost_unflushed: bool) -> Vec<LogBatch> {
        let lost = if lost_unflushed {
            let flushed = self.flushed;
            self.truncate_to(flushed)
        } else {
            Vec::new()
        };
        self.high_watermark = self
            .checkpointed_hw
            .clamp(self.log_start_offset, self.log_end_offset());
        lost
    }

    /// The follower's high watermark: `min(leader's HW, own LEO)`, never lowered by an update.
    pub fn follow_high_watermark(&mut self, leader_hw: u64) {
        let hw = leader_hw.min(self.log_end_offset());
        self.high_watermark = self.high_watermark.max(hw);
        self.txns.on_high_watermark(self.high_watermark);
    }

    /// Segment and batch index of the batch holding `offset` (or the first after it).
    fn locate(&self, offset: u64) -> (usize, usize) {
        let s = self
            .segments
            .partition_point(|s| s.base_offset() <= offset)
            .saturating_sub(1);
        (s, self.segments[s].batch_index(offset))
    }

    /// Batches from the one holding `from` on, through every later segment.
    fn batches_from(&self, from: u64) -> impl Iterator<Item = &LogBatch> + '_ {
        let (s, b) = self.locate(from);
        self.segments[s..]
            .iter()
            .enumerate()
            .flat_map(move |(i, seg)| &seg.batches()[if i == 0 { b } else { 0 }..])
    }

    /// Whole batches holding offsets in `from..upto`, at least one batch if any qualifies, then
    /// stopping before `max_bytes` would be exceeded. Returns the batches and their bytes.
    pub fn read(&self, from: u64, upto: u64, max_bytes: u32) -> (Vec<FetchedBatch>, u32) {
        let mut out = Vec::new();
        let mut bytes = 0u32;
        for b in self.batches_from(from) {
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
                cleaned: b.cleaned.clone(),
                bytes: b.bytes,
                producer_id: b.transactional_producer(),
                marker: match b.control {
                    Some(Control::Marker(m)) => Some(m),
                    _ => None,
                },
            });
        }
        (out, bytes)
    }

    /// Whole batches from the one holding `from` to the log end, for a follower: at least one,
    /// then up to `max_bytes`.
    pub fn read_batches(&self, from: u64, max_bytes: u32) -> (Vec<LogBatch>, u32) {
        let mut out = Vec::new();
        let mut bytes = 0u32;
        for b in self.batches_from(from) {
            if !out.is_empty() && bytes.saturating_add(b.bytes) > max_bytes {
                break;
            }
            bytes = bytes.saturating_add(b.bytes);
            out.push(b.clone());
        }
        (out, bytes)
    }

    /// Every batch still in a segment, oldest first (some may lie below the log start offset
    /// until the next retention check deletes their segment).
    pub fn batches(&self) -> impl DoubleEndedIterator<Item = &LogBatch> + '_ {
        self.segments.iter().flat_map(|s| s.batches())
    }

    /// Every producer record with its offset from the log start offset on, oldest first
    /// (coordinators' records and transaction markers take offsets but are no producer's
    /// records).
    pub fn records(&self) -> impl Iterator<Item = (u64, RecordId)> + '_ {
        let start = self.log_start_offset;
        self.batches_from(start)
            .filter(|b| b.is_data())
            .flat_map(LogBatch::entries)
            .filter(move |(o, _)| *o >= start)
    }

    /// Records below the high watermark, oldest first.
    pub fn committed(&self) -> impl Iterator<Item = (u64, RecordId)> + '_ {
        let hw = self.high_watermark;
        self.records().take_while(move |(o, _)| *o < hw)
    }

    /// `UnifiedLog.fetchOffsetByTimestamp` for a timestamp: the first segment whose largest
    /// timestamp is at least `ms`, in it the first batch whose largest is, in that batch the
    /// first record at or above the log start offset whose timestamp is (`searchOffsetInLocalLog`,
    /// `LogSegment.findOffsetByTimestamp`, `FileRecords.searchForTimestamp`: control batches
    /// count). `None` when no record is that recent.
    pub fn offset_for_timestamp(&self, ms: u64) -> Option<u64> {
        let start = self.log_start_offset;
        let segment = self
            .segments
            .iter()
            .find(|s| s.largest_timestamp_ms().is_some_and(|t| t >= ms))?;
        segment
            .batches()
            .iter()
            .filter(|b| b.timestamps.max_ms() >= ms)
            .find_map(|b| {
                (0..b.records.len())
                    .map(|i| (b.base_offset + u64::from(b.delta_of(i)), b.timestamps.of(i)))
                    .find(|(o, t)| *t >= ms && *o >= start)
                    .map(|(o, _)| o)
            })
    }

    /// The record at `offset`, if the log holds one there (at or above the log start offset).
    pub fn record_at(&self, offset: u64) -> Option<RecordId> {
        if offset < self.log_start_offset {
            return None;
        }
        let (s, i) = self.locate(offset);
        let b = self.segments[s].batches().get(i).filter(|b| b.is_data())?;
        b.entries().find(|(o, _)| *o == offset).map(|(_, r)| r)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn recs(n: u32) -> Arc<[RecordId]> {
        (0..n).map(|seq| RecordId { producer: 0, seq }).collect()
    }

    #[test]
    fn records_are_found_by_offset() {
        let mut log = PartitionLog::default();
        log.append(recs(3), 100, 0, None);
        log.append(recs(2), 100, 0, None);
        log.set_high_watermark(4);
        assert_eq!(log.record_at(0), Some(RecordId { producer: 0, seq: 0 }));
        assert_eq!(log.record_at(4), Some(RecordId { producer: 0, seq: 1 }));
        assert_eq!(log.record_at(5), None);
        let committed: Vec<u64> = log.committed().map(|(o, _)| o).collect();
        assert_eq!(committed, [0, 1, 2, 3]);
        assert_eq!(log.records().count(), 5);
    }

    #[test]
    fn offsets_are_contiguous_across_batches() {
        let mut log = PartitionLog::default();
        assert_eq!(log.append(recs(3), 100, 0, None), 0);
        assert_eq!(log.append(recs(2), 100, 0, None), 3);
        assert_eq!(log.log_end_offset(), 5);
        assert_eq!(log.high_watermark(), 0);
    }

    #[test]
    fn reads_stop_at_the_upper_bound_and_the_byte_limit() {
        let mut log = PartitionLog::default();
        for _ in 0..4 {
            log.append(recs(2), 100, 0, None);
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

    fn batch(base_offset: u64, records: u32, leader_epoch: u32) -> LogBatch {
        LogBatch {
            base_offset,
            leader_epoch,
            records: recs(records),
            bytes: 100,
            sequence: None,
            transactional: false,
            control: None,
            timestamps: Timestamps::LogAppendTime(0),
            cleaned: None,
            delete_horizon_ms: None,
        }
    }

    /// Broker 1's log at step 5 of the reference's Scenario C (KIP-279): `0:a/e0 1:c 2:d 3:e/e2
    /// 4:g 5:h/e4`.
    fn scenario_c_leader() -> PartitionLog {
        let mut log = PartitionLog::default();
        log.append(recs(1), 10, 0, None);
        log.append(recs(3), 10, 2, None);
        log.append(recs(2), 10, 4, None);
        log
    }

    /// `LeaderEpochFileCache.endOffsetFor`, as the reference's §1.5 states it.
    #[test]
    fn end_offset_for_follows_kip_279() {
        let log = scenario_c_leader();
        assert_eq!(log.end_offset_for(4), Some((4, 6)), "latest epoch: the LEO");
        assert_eq!(
            log.end_offset_for(3),
            Some((2, 4)),
            "unknown epoch: the floor epoch, ending where e4 starts"
        );
        assert_eq!(log.end_offset_for(2), Some((2, 4)));
        assert_eq!(log.end_offset_for(1), Some((0, 1)));
        assert_eq!(log.end_offset_for(0), Some((0, 1)));
        assert_eq!(log.end_offset_for(9), None, "newer than anything known");
        assert_eq!(PartitionLog::default().end_offset_for(0), None);
    }

    /// The reference's Scenario C, step 6: broker 2 (`0:a/e0 1:b/e1 2:f/e3`) follows broker 1.
    /// KIP-279 takes two rounds: (e2, 4) → cut to the end of e1 (2); (e0, 1) → cut to 1.
    #[test]
    fn divergence_is_resolved_epoch_by_epoch() {
        let leader = scenario_c_leader();
        let mut follower = PartitionLog::default();
        follower.append(recs(1), 10, 0, None);
        follower.append(recs(1), 10, 1, None);
        follower.append(recs(1), 10, 3, None);
        let (epoch, end) = leader
            .end_offset_for(follower.latest_epoch().expect("has epochs"))
            .expect("known");
        assert_eq!((epoch, end), (2, 4));
        let cut = follower.divergence_point(epoch, end);
        assert_eq!(cut, 2, "no e2 here: cut where e1 ends");
        follower.truncate_to(cut);
        let (epoch, end) = leader
            .end_offset_for(follower.latest_epoch().expect("has epochs"))
            .expect("known");
        assert_eq!((epoch, end), (0, 1));
        assert_eq!(
            follower.divergence_point(epoch, end),
            1,
            "both have e0, which ends at 1"
        );
    }

    #[test]
    fn a_new_leader_records_its_epoch_before_writing() {
        let mut log = scenario_c_leader();
        log.start_epoch(7);
        assert_eq!(log.end_offset_for(4), Some((4, 6)), "e4 now ends where e7 starts");
        assert_eq!(log.end_offset_for(7), Some((7, 6)));
    }

    #[test]
    fn truncation_drops_batches_and_forgets_their_epochs() {
        let mut log = scenario_c_leader();
        log.set_high_watermark(6);
        log.flush();
        let removed = log.truncate_to(1);
        assert_eq!(removed.iter().map(|b| b.base_offset).collect::<Vec<_>>(), [1, 4]);
        assert_eq!(
            (log.log_end_offset(), log.high_watermark(), log.flushed_offset()),
            (1, 1, 1)
        );
        assert_eq!(log.end_offset_for(0), Some((0, 1)));
        assert_eq!(log.last_batch_epoch(), Some(0));
        log.append_as_follower(vec![batch(1, 2, 5)]);
        assert_eq!(log.end_offset_for(0), Some((0, 1)));
        assert_eq!(log.end_offset_for(5), Some((5, 3)));
    }

    #[test]
    fn a_power_loss_keeps_what_was_flushed_and_the_checkpointed_hw() {
        let mut log = PartitionLog::default();
        log.append(recs(2), 10, 0, None);
        log.set_high_watermark(2);
        log.checkpoint_high_watermark();
        log.flush();
        log.append(recs(3), 10, 0, None);
        log.set_high_watermark(5);
        let mut process_crash = log.clone();
        assert!(process_crash.recover(false).is_empty());
        assert_eq!(
            (process_crash.log_end_offset(), process_crash.high_watermark()),
            (5, 2)
        );
        let lost = log.recover(true);
        assert_eq!(lost.iter().map(|b| b.base_offset).collect::<Vec<_>>(), [2]);
        assert_eq!((log.log_end_offset(), log.high_watermark()), (2, 2));
    }

    #[test]
    fn a_follower_learns_the_hw_up_to_its_own_log_end() {
        let mut log = PartitionLog::default();
        log.append_as_follower(vec![batch(0, 3, 0)]);
        log.follow_high_watermark(10);
        assert_eq!(log.high_watermark(), 3);
        log.follow_high_watermark(1);
        assert_eq!(log.high_watermark(), 3, "a fetch response never lowers it");
    }

    #[test]
    #[should_panic(expected = "beyond LEO")]
    fn the_high_watermark_cannot_pass_the_log_end() {
        let mut log = PartitionLog::default();
        log.append(recs(1), 10, 0, None);
        log.set_high_watermark(2);
    }
}

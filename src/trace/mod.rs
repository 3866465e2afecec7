//! Trace events: what each node observed, written as a fixed-width text line or a JSON object.
//!
//! Nodes emit [`Event`]s; the run loop stamps them with the time and the node, feeds the
//! history (for checkers) and, when tracing is on, the writer.

mod format;

pub use format::{Names, TraceFormat, TraceWriter};

use crate::kafka::group::coordinator::GroupState;
use crate::kafka::log::TxnMarker;
use crate::kafka::protocol::{BrokerId, ErrorCode};
use crate::kafka::record::{BatchSequence, ProducerIdentity, RecordId, Tp};
use crate::kafka::txn::TxnState;
use crate::scenario::Seek;
use crate::sim::{NodeId, SimDuration, SimTime};
use std::sync::Arc;

/// One batch inside a produce request, as the trace shows it.
#[derive(Clone, Debug)]
pub struct BatchInRequest {
    /// Partition.
    pub tp: Tp,
    /// Producer-local batch number.
    pub batch_id: u64,
    /// Records in the batch.
    pub records: u32,
    /// Bytes on the wire.
    pub bytes: u32,
    /// 0 for the first send, 1 for the first retry, ...
    pub attempt: u32,
    /// Producer id, epoch and base sequence (idempotent producer).
    pub sequence: Option<BatchSequence>,
}

/// Something a node observed.
#[derive(Clone, Debug)]
pub enum Event {
    /// The application called send() and the record joined a batch.
    Send {
        /// The record.
        record: RecordId,
        /// Where it goes.
        tp: Tp,
        /// Index of its key in the producer's key list (`None`: keyless).
        key: Option<u32>,
        /// Batch that took it.
        batch_id: u64,
        /// For a processor's output: the input record it was made from.
        input: Option<RecordId>,
    },
    /// send() failed before the record joined a batch.
    SendFailed {
        /// The record.
        record: RecordId,
        /// Why.
        error: ErrorCode,
    },
    /// send() blocks the application thread.
    SendBlocked {
        /// The record being sent.
        record: RecordId,
        /// What it waits for.
        waiting_for: SendWait,
    },
    /// A produce request left the producer.
    ProduceSent {
        /// Destination.
        broker: BrokerId,
        /// Correlation id.
        correlation: u32,
        /// `acks`.
        acks: i16,
        /// Its batches.
        batches: Vec<BatchInRequest>,
    },
    /// A batch was acknowledged; `base_offset` is `None` for `acks=0`.
    BatchAcked {
        /// Partition.
        tp: Tp,
        /// Batch number.
        batch_id: u64,
        /// Offset of its first record.
        base_offset: Option<u64>,
        /// The records.
        records: Arc<[RecordId]>,
    },
    /// A batch failed and goes back to the front of its queue.
    BatchRetry {
        /// Partition.
        tp: Tp,
        /// Batch number.
        batch_id: u64,
        /// Why it failed.
        error: ErrorCode,
        /// Attempts so far (after this failure).
        attempts: u32,
        /// Wait before it may be sent again.
        backoff: SimDuration,
        /// Placed by sequence number behind queued batches with lower ones (idempotent
        /// producer), rather than at the front of the queue.
        in_sequence_order: bool,
        /// The records.
        records: Arc<[RecordId]>,
    },
    /// A batch failed for good.
    BatchFailed {
        /// Partition.
        tp: Tp,
        /// Batch number.
        batch_id: u64,
        /// Why.
        error: ErrorCode,
        /// The records.
        records: Arc<[RecordId]>,
    },
    /// A response for a batch that had already been completed (e.g. expired) was ignored.
    LateResponse {
        /// Partition.
        tp: Tp,
        /// Batch number.
        batch_id: u64,
        /// What the broker answered.
        result: Result<u64, ErrorCode>,
    },
    /// The client gave up on the oldest request and closed the connection.
    RequestTimedOut {
        /// The broker.
        broker: BrokerId,
        /// The request.
        correlation: u32,
        /// Requests in flight on the connection (all fail).
        in_flight: u32,
    },
    /// The connection to a peer broke.
    Disconnected {
        /// The broker.
        broker: BrokerId,
        /// Requests that were in flight on it.
        in_flight: u32,
    },
    /// A client starts connecting.
    Connecting {
        /// The broker.
        broker: BrokerId,
    },
    /// The connection is up.
    Connected {
        /// The broker.
        broker: BrokerId,
    },
    /// A connection attempt failed.
    ConnectFailed {
        /// The broker.
        broker: BrokerId,
        /// "refused" or "timed out".
        why: &'static str,
    },
    /// A client asked for metadata.
    MetadataRequested {
        /// The broker asked.
        broker: BrokerId,
    },
    /// A client took a new metadata image.
    MetadataUpdated {
        /// Its version.
        version: u64,
        /// Leaders of the partitions the client uses (topic, partition, leader).
        leaders: Vec<(Tp, Option<BrokerId>)>,
    },
    /// A leader appended a batch.
    Append {
        /// Partition.
        tp: Tp,
        /// Offset of the first record.
        base_offset: u64,
        /// The records.
        records: Arc<[RecordId]>,
        /// Leader epoch stamped on the batch.
        leader_epoch: u32,
        /// High watermark after the append.
        high_watermark: u64,
        /// The replica's log size in bytes after the append (for the disk chart).
        log_bytes: u64,
    },
    /// A follower copied a batch from its leader.
    Replicated {
        /// Partition.
        tp: Tp,
        /// Offset of the batch's first record.
        base_offset: u64,
        /// Records in it.
        records: u32,
        /// The follower's log end after the append.
        log_end: u64,
        /// The follower's log size in bytes after the append (for the disk chart).
        log_bytes: u64,
    },
    /// A leader's high watermark moved.
    HighWatermark {
        /// Partition.
        tp: Tp,
        /// The new high watermark.
        high_watermark: u64,
        /// The leader's last stable offset with it: below the high watermark while a transaction
        /// is open (or decided with its marker not yet replicated). It moves only when the high
        /// watermark does: transactional batches and markers are appended above it.
        last_stable_offset: u64,
    },
    /// A follower moved its high watermark to what the leader's fetch response said (capped
    /// at its own log end).
    FollowerHighWatermark {
        /// Partition.
        tp: Tp,
        /// The follower's new high watermark.
        high_watermark: u64,
    },
    /// A leader asked the controller to change the ISR.
    IsrProposed {
        /// Partition.
        tp: Tp,
        /// The proposed ISR.
        isr: Vec<BrokerId>,
        /// "shrink" or "expand".
        why: &'static str,
    },
    /// The controller committed a new ISR.
    IsrChanged {
        /// Partition.
        tp: Tp,
        /// The new ISR.
        isr: Vec<BrokerId>,
    },
    /// A replica's log cleaner cleaned its log from the log start up to `to` (the first offset
    /// it could not clean), keeping each key's latest record at its offset.
    Cleaned {
        /// Partition.
        tp: Tp,
        /// The first offset it could not clean (the dirty section ended there).
        to: u64,
        /// Its log's dirty ratio when the cleaner chose it, in per mille.
        dirty_per_mille: u32,
        /// Producer records removed because a later record of their key is in the log.
        superseded: Arc<[RecordId]>,
        /// Tombstones removed because their delete horizon passed, with their offsets.
        tombstones: Arc<[(u64, RecordId)]>,
        /// Records of aborted transactions removed.
        aborted_records: u32,
        /// Coordinators' records removed (superseded offset commits, transaction states).
        coordinator_records: u32,
        /// Log bytes before and after.
        bytes: (u64, u64),
    },
    /// A replica cut records off the end of its log.
    Truncated {
        /// Partition.
        tp: Tp,
        /// The new log end offset.
        to: u64,
        /// The records removed.
        records: Arc<[RecordId]>,
        /// Why.
        why: &'static str,
        /// The replica's log size in bytes after (for the disk chart).
        log_bytes: u64,
    },
    /// A replica closed its active segment and started a new one (`UnifiedLog.roll`).
    SegmentRolled {
        /// Partition.
        tp: Tp,
        /// Base offset of the segment closed.
        closed_base_offset: u64,
        /// Base offset of the new active segment.
        base_offset: u64,
        /// What made it roll: `segment.bytes`, `segment.ms`, or retention deleting every
        /// segment.
        why: &'static str,
    },
    /// A replica deleted whole segments from the front of its log, and its log start offset
    /// moved to the first segment kept.
    SegmentsDeleted {
        /// Partition.
        tp: Tp,
        /// Base offsets of the deleted segments, oldest first.
        base_offsets: Vec<u64>,
        /// Their bytes.
        bytes: u64,
        /// The log start offset before.
        from: u64,
        /// The log start offset after.
        to: u64,
        /// `retention.bytes`, `retention.ms`, or "below the log start offset".
        why: &'static str,
    },
    /// A follower's log start offset moved to the leader's, learnt from a fetch response,
    /// without deleting a segment yet.
    LogStartOffset {
        /// Partition.
        tp: Tp,
        /// Before.
        from: u64,
        /// After.
        to: u64,
        /// Why.
        why: &'static str,
    },
    /// A follower whose log ended below the leader's log start offset dropped its log and
    /// starts again there (`AbstractFetcherThread.fetchOffsetAndTruncate`).
    TruncatedFully {
        /// Partition.
        tp: Tp,
        /// The leader's log start offset, where the follower's log now starts and ends.
        to: u64,
        /// How many records it dropped.
        records: u64,
    },
    /// The `DeleteRecords` fault: an administrator asked the leader to delete the records below
    /// `before` (`kafka-delete-records`).
    DeleteRecords {
        /// Partition.
        tp: Tp,
        /// The offset asked for.
        before: u64,
        /// The log start offset after, or why the leader refused.
        result: Result<u64, ErrorCode>,
    },
    /// A leader recognised a retried idempotent batch it already holds, and answered with the
    /// offset it got the first time.
    DuplicateBatch {
        /// The producer (index in the scenario).
        producer: u32,
        /// Partition.
        tp: Tp,
        /// Batch number.
        batch_id: u64,
        /// Where the first copy is.
        base_offset: u64,
        /// Records in it.
        records: u32,
    },
    /// A broker rejected a batch.
    ProduceRejected {
        /// Partition.
        tp: Tp,
        /// Batch number.
        batch_id: u64,
        /// Why.
        error: ErrorCode,
    },
    /// A consumer's poll() returned records of one partition.
    Consumed {
        /// Partition.
        tp: Tp,
        /// (offset, record) pairs in order.
        records: Vec<(u64, RecordId)>,
        /// The consumer's poll number.
        poll: u32,
    },
    /// A group member's application finished processing records.
    Processed {
        /// Partition.
        tp: Tp,
        /// (offset, record) pairs in order.
        records: Vec<(u64, RecordId)>,
    },
    /// A group member found its coordinator.
    CoordinatorFound {
        /// The group.
        group: Arc<str>,
        /// The coordinator.
        broker: BrokerId,
    },
    /// A group member starts (re)joining.
    ConsumerRejoins {
        /// The group.
        group: Arc<str>,
        /// Why.
        why: &'static str,
    },
    /// A group member took or lost partitions.
    ConsumerAssignment {
        /// Partitions it starts on.
        assigned: Vec<Tp>,
        /// Partitions it gave up.
        revoked: Vec<Tp>,
    },
    /// A group member's commit failed (`CommitFailedException` and the like).
    CommitFailed {
        /// The group.
        group: Arc<str>,
        /// Why.
        error: ErrorCode,
    },
    /// A group member's position came from the group's committed offset.
    PositionCommitted {
        /// Partition.
        tp: Tp,
        /// The committed offset.
        offset: u64,
    },
    /// A consumer set its position by `auto.offset.reset` (or after `OFFSET_OUT_OF_RANGE`).
    PositionReset {
        /// Partition.
        tp: Tp,
        /// New position.
        offset: u64,
        /// "earliest" or "latest".
        policy: &'static str,
    },
    /// A consumer's application moved its position (`seekToBeginning`, `seekToEnd`, `seek`, or
    /// `offsetsForTimes` then `seek`).
    Sought {
        /// Partition.
        tp: Tp,
        /// New position.
        offset: u64,
        /// The seek the scenario gave it.
        seek: Seek,
        /// A `Time` seek whose `offsetsForTimes` found no record that recent, so the
        /// application sought to the end instead: that time.
        no_record_since: Option<SimDuration>,
    },
    /// A consumer's `poll()` threw, and its application stopped.
    ConsumerFailed {
        /// The exception's class (`OffsetOutOfRangeException`).
        exception: &'static str,
        /// Its message, as Kafka's client words it.
        message: String,
    },
    /// A consumer hit an error on a partition.
    ConsumerError {
        /// Partition.
        tp: Tp,
        /// The error.
        error: ErrorCode,
    },
    /// The controller fenced a broker that stopped heartbeating.
    BrokerFenced {
        /// The broker.
        broker: BrokerId,
        /// Why.
        why: &'static str,
    },
    /// The controller refused a restarted broker's registration: its old session is still valid.
    RegistrationRefused {
        /// The broker.
        broker: BrokerId,
    },
    /// A group coordinator moved a group to another state.
    GroupState {
        /// The group.
        group: Arc<str>,
        /// The new state.
        state: GroupState,
        /// The group's generation.
        generation: i32,
    },
    /// A group coordinator starts a rebalance.
    GroupRebalance {
        /// The group.
        group: Arc<str>,
        /// Why.
        why: &'static str,
    },
    /// A member joined a group (its first `JoinGroup` with a member id).
    GroupMemberJoined {
        /// The group.
        group: Arc<str>,
        /// The member id.
        member: Arc<str>,
    },
    /// A member left a group, or was removed.
    GroupMemberLeft {
        /// The group.
        group: Arc<str>,
        /// The member id.
        member: Arc<str>,
        /// Why.
        why: &'static str,
    },
    /// A static member came back under a new member id (KIP-345).
    GroupMemberReplaced {
        /// The group.
        group: Arc<str>,
        /// The old member id.
        old: Arc<str>,
        /// The new one.
        new: Arc<str>,
    },
    /// The coordinator handed a member its partitions (the leader's `SyncGroup`).
    GroupAssignment {
        /// The group.
        group: Arc<str>,
        /// The member id.
        member: Arc<str>,
        /// The generation.
        generation: i32,
        /// Its partitions.
        partitions: Vec<Tp>,
    },
    /// A coordinator stored a group's committed offsets.
    OffsetsCommitted {
        /// The group.
        group: Arc<str>,
        /// Who committed ("" outside the group protocol).
        member: Arc<str>,
        /// (partition, offset of the next record to read).
        offsets: Vec<(Tp, u64)>,
    },
    /// An admin's `kafka-consumer-groups --reset-offsets --execute`: the offsets its coordinator
    /// writes for the group.
    OffsetsReset {
        /// The group.
        group: Arc<str>,
        /// (partition, new offset).
        offsets: Vec<(Tp, u64)>,
        /// Offsets asked for outside the log: (partition, asked, set instead).
        clamped: Vec<(Tp, u64, u64)>,
        /// Partitions where a `Time` reset found no record that recent, set to the log end.
        empty: Vec<Tp>,
    },
    /// A group coordinator deleted committed offsets whose retention passed
    /// (`offsets.retention.minutes`, KIP-211).
    OffsetsExpired {
        /// The group.
        group: Arc<str>,
        /// The partitions whose offsets are gone.
        partitions: Vec<Tp>,
    },
    /// The group's coordinator refused an admin's offset reset (the group is not inactive).
    OffsetsResetRefused {
        /// The group.
        group: Arc<str>,
        /// The tool's message.
        message: String,
    },
    /// The controller added partitions to a topic (`CreatePartitions`).
    PartitionsAdded {
        /// Index of the topic in the scenario.
        topic: u32,
        /// Partitions before.
        from: u32,
        /// Partitions now.
        to: u32,
    },
    /// The controller refused to add partitions (`INVALID_PARTITIONS`).
    PartitionsRefused {
        /// Index of the topic in the scenario.
        topic: u32,
        /// Kafka's message.
        why: String,
    },
    /// The controller gave a broker a block of producer ids.
    ProducerIdsAllocated {
        /// The broker.
        broker: BrokerId,
        /// First id of the block.
        first: u64,
        /// Ids in the block.
        size: u64,
    },
    /// An idempotent producer asked a broker for a producer id (`InitProducerId`).
    ProducerIdRequested {
        /// The broker.
        broker: BrokerId,
    },
    /// The answer to `InitProducerId`.
    ProducerIdReceived {
        /// The broker.
        broker: BrokerId,
        /// The id and epoch, or the error (retried after `retry.backoff.ms`).
        result: Result<ProducerIdentity, ErrorCode>,
    },
    /// The idempotent producer bumped its epoch so that a partition's sequences restart at 0.
    EpochBumped {
        /// The new id and epoch.
        identity: ProducerIdentity,
        /// The partitions whose batches in flight get new sequences.
        partitions: Vec<Tp>,
    },
    /// The controller let a broker (back) in.
    BrokerUnfenced {
        /// The broker.
        broker: BrokerId,
    },
    /// The controller changed a partition's leader.
    LeaderChanged {
        /// Partition.
        tp: Tp,
        /// New leader (`None`: offline).
        leader: Option<BrokerId>,
        /// New leader epoch.
        leader_epoch: u32,
    },
    /// A scenario fault fired.
    Fault {
        /// The fault as written.
        text: String,
    },
    /// The network dropped a message.
    Dropped {
        /// Sender.
        from: NodeId,
        /// Receiver.
        to: NodeId,
        /// What it was.
        what: String,
        /// Why.
        why: &'static str,
    },
    /// A message met a cut link and waits for it to heal (TCP keeps retransmitting).
    Held {
        /// Sender.
        from: NodeId,
        /// Receiver.
        to: NodeId,
        /// What it is.
        what: String,
    },
    /// The run stopped before `duration` because of `--max-events`.
    Stopped {
        /// Why.
        why: String,
    },
    /// A transaction coordinator moved a transactional id to another state.
    TxnTransition {
        /// The transactional id.
        transactional_id: Arc<str>,
        /// Its producer id and epoch after the change.
        identity: ProducerIdentity,
        /// The state before.
        from: TxnState,
        /// The state after.
        to: TxnState,
        /// Why.
        why: &'static str,
    },
    /// A partition leader wrote a COMMIT or ABORT marker.
    MarkerWritten {
        /// Where.
        tp: Tp,
        /// Its offset.
        offset: u64,
        /// The marker.
        marker: TxnMarker,
        /// The leader's HW after the append.
        high_watermark: u64,
    },
    /// A partition leader asks the transaction coordinator about a transactional batch that
    /// opens a transaction on its partition (KIP-890).
    TxnVerify {
        /// The coordinator.
        coordinator: BrokerId,
        /// Version 2: add the partition to the transaction (else only verify it is in it).
        add: bool,
    },
    /// A transactional producer's client step: what the application called, what the
    /// coordinator answered.
    Txn {
        /// Index of the producer in the scenario.
        producer: u32,
        /// The step.
        step: TxnStep,
    },
    /// A consumer stepped over records it does not return: a control record (a marker), or,
    /// with `read_committed`, a batch of an aborted transaction.
    Skipped {
        /// Where.
        tp: Tp,
        /// The first offset stepped over.
        offset: u64,
        /// How many offsets.
        count: u32,
        /// A marker (`Some(commit)`), or an aborted batch (`None`).
        marker: Option<bool>,
    },
}

/// A step of a transactional producer.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum TxnStep {
    /// `FindCoordinator` answered: the transaction coordinator is this broker.
    Coordinator(BrokerId),
    /// `initTransactions()` finished: the producer id and epoch to use.
    Initialized(ProducerIdentity),
    /// `beginTransaction()`: transaction number `txn` (from 0), whose first record is `first`.
    Begin {
        /// The producer's transaction number.
        txn: u32,
        /// The sequence number of its first record.
        first: u32,
    },
    /// Version 1: `AddPartitionsToTxn` answered for these partitions.
    PartitionsAdded(Vec<Tp>),
    /// `commitTransaction()` or `abortTransaction()` called.
    Ending {
        /// The transaction.
        txn: u32,
        /// Commit (or abort).
        commit: bool,
    },
    /// `EndTxn` answered: the transaction is committed or aborted; `next` is the identity for
    /// the next transaction.
    Ended {
        /// The transaction.
        txn: u32,
        /// Committed (or aborted).
        commit: bool,
        /// Records sent in it (sequence numbers `first..first + records`).
        records: u32,
        /// The producer id and epoch from now on.
        next: ProducerIdentity,
    },
    /// An error the application sees: abortable (it aborts the transaction) or fatal (the
    /// producer stops; `PRODUCER_FENCED` for a zombie).
    Error {
        /// The error.
        error: ErrorCode,
        /// Fatal.
        fatal: bool,
    },
}

/// An event stamped with when and where it happened.
#[derive(Clone, Debug)]
pub struct Stamped {
    /// When.
    pub time: SimTime,
    /// Which node.
    pub node: NodeId,
    /// What.
    pub event: Event,
}

/// What a blocked `send()` waits for (`KafkaProducer.doSend`: `waitOnMetadata`, then
/// `RecordAccumulator.append` waiting on the `BufferPool`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SendWait {
    /// The topic's metadata (its partition count).
    Metadata,
    /// Room in `buffer.memory`.
    BufferMemory,
}

impl std::fmt::Display for SendWait {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            SendWait::Metadata => "metadata",
            SendWait::BufferMemory => "buffer.memory",
        })
    }
}

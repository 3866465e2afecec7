//! What travels between nodes: Kafka requests and responses, error codes, cluster metadata and the
//! broker–controller messages.

use super::group::messages::{GroupRequest, GroupResponse};
use super::log::{AbortedTxn, TxnMarker};
use super::record::{BatchSequence, ProducerIdentity, RecordId, Timestamps, Tp};
use super::txn::messages::{TxnRequest, TxnResponse};
use std::fmt;
use std::sync::Arc;

/// Producer ids per block the controller hands a broker (`ProducerIdsBlock.PRODUCER_ID_BLOCK_SIZE`).
pub const PRODUCER_ID_BLOCK_SIZE: u64 = 1000;

/// A broker id, as in Kafka's tools (`1..=brokers`).
pub type BrokerId = u32;

/// Broker ids as Kafka's tools print a list of them: `1,2,3`.
pub fn broker_list(brokers: &[BrokerId]) -> String {
    brokers.iter().map(u32::to_string).collect::<Vec<_>>().join(",")
}

/// Kafka error codes the model produces (`org.apache.kafka.common.protocol.Errors`).
#[derive(Copy, Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum ErrorCode {
    /// 1: the fetch offset is outside the log.
    OffsetOutOfRange,
    /// 3: the broker does not host this topic-partition.
    UnknownTopicOrPartition,
    /// 5: the partition has no leader right now.
    LeaderNotAvailable,
    /// 6: this broker is not the partition's leader.
    NotLeaderOrFollower,
    /// 7: a request timed out (client side: no response within `request.timeout.ms`).
    RequestTimedOut,
    /// 10: the batch is larger than `max.message.bytes`.
    MessageTooLarge,
    /// 13: the connection broke before a response arrived.
    NetworkException,
    /// Client-side: `delivery.timeout.ms` expired before the batch was acknowledged.
    DeliveryTimeout,
    /// Client-side: `send()` waited `max.block.ms` for metadata or memory.
    MaxBlockTimeout,
    /// Client-side: the record alone exceeds `max.request.size` or `buffer.memory`.
    RecordTooLarge,
    /// Client-side: `auto.offset.reset=none` and no position.
    NoOffsetForPartition,
    /// 19: `acks=all` and the ISR is smaller than `min.insync.replicas`; nothing was written.
    NotEnoughReplicas,
    /// 20: the ISR shrank below `min.insync.replicas` while waiting; the batch is in the log.
    NotEnoughReplicasAfterAppend,
    /// 74: the request's leader epoch is older than the partition's.
    FencedLeaderEpoch,
    /// 75: the request's leader epoch is newer than what this broker knows.
    UnknownLeaderEpoch,
    /// 95: an ISR change based on a stale partition epoch.
    InvalidUpdateVersion,
    /// 107: an ISR change adding a replica that may not join.
    IneligibleReplica,
    /// 45: an idempotent batch whose sequence is not the next one the leader expects.
    OutOfOrderSequenceNumber,
    /// 47: an idempotent batch from an older producer epoch.
    InvalidProducerEpoch,
    /// 59: the leader has no state for this producer id (Kafka 4.0 brokers accept any sequence
    /// instead; the client still handles it).
    UnknownProducerId,
    /// 14: the broker cannot hand out a producer id yet (waiting for a block from the controller).
    CoordinatorLoadInProgress,
    /// 15: the group's coordinator partition has no leader.
    CoordinatorNotAvailable,
    /// 16: this broker is not (or no longer) the group's coordinator.
    NotCoordinator,
    /// 22: the member's generation is not the group's current one.
    IllegalGeneration,
    /// 25: the coordinator does not know this member (expired, or never joined).
    UnknownMemberId,
    /// 26: `session.timeout.ms` outside the broker's `group.min/max.session.timeout.ms`.
    InvalidSessionTimeout,
    /// 27: the group is rebalancing: rejoin.
    RebalanceInProgress,
    /// 79: a first `JoinGroup` gets a member id and must join again with it (KIP-394).
    MemberIdRequired,
    /// Client-side: a commit outside an active generation (`CommitFailedException`).
    CommitFailed,
    /// 101: a restarted broker registers while its previous incarnation's session is valid.
    DuplicateBrokerRegistration,
    /// 51: the transaction coordinator is completing a previous transaction of this
    /// transactional id (or writing its state); try again.
    ConcurrentTransactions,
    /// 90: a newer instance with the same transactional id has initialised: this one is a zombie.
    ProducerFenced,
    /// 48: the request does not fit the transaction's state.
    InvalidTxnState,
    /// 49: the producer id is not the one the coordinator holds for this transactional id.
    InvalidProducerIdMapping,
    /// 50: `transaction.timeout.ms` above the broker's `transaction.max.timeout.ms`.
    InvalidTransactionTimeout,
    /// 52: a marker from a coordinator older than the one the partition has heard from.
    TransactionCoordinatorFenced,
    /// Client-side: a batch still in the accumulator when the application aborted its
    /// transaction (`TransactionAbortedException`).
    TransactionAborted,
    /// 88: offsets of a partition are pending in an open transaction; ask again later.
    UnstableOffsetCommit,
    /// 87: the broker's `LogValidator` refused a record of the batch: here, a keyless record on a
    /// compacted topic. Not retriable: the whole batch fails.
    InvalidRecord,
}

impl ErrorCode {
    /// Every error, in declaration order.
    pub const ALL: [ErrorCode; 39] = [
        ErrorCode::OffsetOutOfRange,
        ErrorCode::UnknownTopicOrPartition,
        ErrorCode::LeaderNotAvailable,
        ErrorCode::NotLeaderOrFollower,
        ErrorCode::RequestTimedOut,
        ErrorCode::MessageTooLarge,
        ErrorCode::NetworkException,
        ErrorCode::DeliveryTimeout,
        ErrorCode::MaxBlockTimeout,
        ErrorCode::RecordTooLarge,
        ErrorCode::NoOffsetForPartition,
        ErrorCode::NotEnoughReplicas,
        ErrorCode::NotEnoughReplicasAfterAppend,
        ErrorCode::FencedLeaderEpoch,
        ErrorCode::UnknownLeaderEpoch,
        ErrorCode::InvalidUpdateVersion,
        ErrorCode::IneligibleReplica,
        ErrorCode::OutOfOrderSequenceNumber,
        ErrorCode::InvalidProducerEpoch,
        ErrorCode::UnknownProducerId,
        ErrorCode::CoordinatorLoadInProgress,
        ErrorCode::CoordinatorNotAvailable,
        ErrorCode::NotCoordinator,
        ErrorCode::IllegalGeneration,
        ErrorCode::UnknownMemberId,
        ErrorCode::InvalidSessionTimeout,
        ErrorCode::RebalanceInProgress,
        ErrorCode::MemberIdRequired,
        ErrorCode::CommitFailed,
        ErrorCode::DuplicateBrokerRegistration,
        ErrorCode::ConcurrentTransactions,
        ErrorCode::ProducerFenced,
        ErrorCode::InvalidTxnState,
        ErrorCode::InvalidProducerIdMapping,
        ErrorCode::InvalidTransactionTimeout,
        ErrorCode::TransactionCoordinatorFenced,
        ErrorCode::TransactionAborted,
        ErrorCode::UnstableOffsetCommit,
        ErrorCode::InvalidRecord,
    ];

    /// The error with this [`ErrorCode::name`].
    pub fn from_name(name: &str) -> Option<ErrorCode> {
        ErrorCode::ALL.into_iter().find(|e| e.name() == name)
    }

    /// Kafka's name for it (client-side ones use the exception name).
    pub fn name(self) -> &'static str {
        match self {
            ErrorCode::OffsetOutOfRange => "OFFSET_OUT_OF_RANGE",
            ErrorCode::UnknownTopicOrPartition => "UNKNOWN_TOPIC_OR_PARTITION",
            ErrorCode::LeaderNotAvailable => "LEADER_NOT_AVAILABLE",
            ErrorCode::NotLeaderOrFollower => "NOT_LEADER_OR_FOLLOWER",
            ErrorCode::RequestTimedOut => "REQUEST_TIMED_OUT",
            ErrorCode::MessageTooLarge => "MESSAGE_TOO_LARGE",
            ErrorCode::NetworkException => "NETWORK_EXCEPTION",
            ErrorCode::DeliveryTimeout => "TimeoutException(delivery.timeout.ms)",
            ErrorCode::MaxBlockTimeout => "TimeoutException(max.block.ms)",
            ErrorCode::RecordTooLarge => "RecordTooLargeException",
            ErrorCode::NoOffsetForPartition => "NoOffsetForPartitionException",
            ErrorCode::NotEnoughReplicas => "NOT_ENOUGH_REPLICAS",
            ErrorCode::NotEnoughReplicasAfterAppend => "NOT_ENOUGH_REPLICAS_AFTER_APPEND",
            ErrorCode::FencedLeaderEpoch => "FENCED_LEADER_EPOCH",
            ErrorCode::UnknownLeaderEpoch => "UNKNOWN_LEADER_EPOCH",
            ErrorCode::InvalidUpdateVersion => "INVALID_UPDATE_VERSION",
            ErrorCode::IneligibleReplica => "INELIGIBLE_REPLICA",
            ErrorCode::OutOfOrderSequenceNumber => "OUT_OF_ORDER_SEQUENCE_NUMBER",
            ErrorCode::InvalidProducerEpoch => "INVALID_PRODUCER_EPOCH",
            ErrorCode::UnknownProducerId => "UNKNOWN_PRODUCER_ID",
            ErrorCode::CoordinatorLoadInProgress => "COORDINATOR_LOAD_IN_PROGRESS",
            ErrorCode::CoordinatorNotAvailable => "COORDINATOR_NOT_AVAILABLE",
            ErrorCode::NotCoordinator => "NOT_COORDINATOR",
            ErrorCode::IllegalGeneration => "ILLEGAL_GENERATION",
            ErrorCode::UnknownMemberId => "UNKNOWN_MEMBER_ID",
            ErrorCode::InvalidSessionTimeout => "INVALID_SESSION_TIMEOUT",
            ErrorCode::RebalanceInProgress => "REBALANCE_IN_PROGRESS",
            ErrorCode::MemberIdRequired => "MEMBER_ID_REQUIRED",
            ErrorCode::CommitFailed => "CommitFailedException",
            ErrorCode::DuplicateBrokerRegistration => "DUPLICATE_BROKER_REGISTRATION",
            ErrorCode::ConcurrentTransactions => "CONCURRENT_TRANSACTIONS",
            ErrorCode::ProducerFenced => "PRODUCER_FENCED",
            ErrorCode::InvalidTxnState => "INVALID_TXN_STATE",
            ErrorCode::InvalidProducerIdMapping => "INVALID_PRODUCER_ID_MAPPING",
            ErrorCode::InvalidTransactionTimeout => "INVALID_TRANSACTION_TIMEOUT",
            ErrorCode::TransactionCoordinatorFenced => "TRANSACTION_COORDINATOR_FENCED",
            ErrorCode::TransactionAborted => "TransactionAbortedException",
            ErrorCode::UnstableOffsetCommit => "UNSTABLE_OFFSET_COMMIT",
            ErrorCode::InvalidRecord => "INVALID_RECORD",
        }
    }

    /// A `RetriableException` in Kafka's client: the producer may retry the batch.
    pub fn is_retriable(self) -> bool {
        matches!(
            self,
            ErrorCode::UnknownTopicOrPartition
                | ErrorCode::LeaderNotAvailable
                | ErrorCode::NotLeaderOrFollower
                | ErrorCode::RequestTimedOut
                | ErrorCode::NetworkException
                | ErrorCode::NotEnoughReplicas
                | ErrorCode::NotEnoughReplicasAfterAppend
                | ErrorCode::FencedLeaderEpoch
                | ErrorCode::UnknownLeaderEpoch
                | ErrorCode::CoordinatorLoadInProgress
                | ErrorCode::CoordinatorNotAvailable
                | ErrorCode::NotCoordinator
                | ErrorCode::ConcurrentTransactions
                | ErrorCode::UnstableOffsetCommit
        )
    }

    /// An `InvalidMetadataException`: the client refreshes its metadata.
    pub fn invalidates_metadata(self) -> bool {
        matches!(
            self,
            ErrorCode::UnknownTopicOrPartition
                | ErrorCode::LeaderNotAvailable
                | ErrorCode::NotLeaderOrFollower
                | ErrorCode::NetworkException
                | ErrorCode::FencedLeaderEpoch
                | ErrorCode::UnknownLeaderEpoch
        )
    }
}

impl fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// One partition's state in the cluster metadata.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PartitionState {
    /// The leader, if the partition is online.
    pub leader: Option<BrokerId>,
    /// Bumped on every leader change.
    pub leader_epoch: u32,
    /// Bumped on every change of the partition (ISR, leader).
    pub partition_epoch: u32,
    /// The assigned replicas, preferred leader first.
    pub replicas: Vec<BrokerId>,
    /// The in-sync replicas.
    pub isr: Vec<BrokerId>,
}

/// One partition's proposed ISR in an `AlterPartition` request
/// (`AlterPartitionRequestData.PartitionData`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct IsrProposal {
    /// The partition.
    pub tp: Tp,
    /// The leader's epoch.
    pub leader_epoch: u32,
    /// The partition epoch the leader based the change on.
    pub partition_epoch: u32,
    /// The proposed ISR.
    pub isr: Vec<BrokerId>,
}

/// The controller's view of the cluster, as brokers cache it and clients fetch it.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct ClusterMetadata {
    /// Grows with every change (the metadata log offset in KRaft).
    pub version: u64,
    /// Brokers that are registered and not fenced.
    pub live_brokers: Vec<BrokerId>,
    /// Per topic (scenario order), per partition.
    pub topics: Vec<Vec<PartitionState>>,
}

impl ClusterMetadata {
    /// The state of one partition, if it exists.
    pub fn partition(&self, tp: Tp) -> Option<&PartitionState> {
        self.topics.get(tp.topic as usize)?.get(tp.partition as usize)
    }

    /// Number of partitions of a topic.
    pub fn partition_count(&self, topic: u32) -> u32 {
        self.topics
            .get(topic as usize)
            .map_or(0, |t| u32::try_from(t.len()).unwrap_or(u32::MAX))
    }
}

/// Bytes every message carries besides its record batches (size, API key and version,
/// correlation id, client id, topic and partition fields): about what Kafka's request and
/// response headers take.
pub const MESSAGE_HEADER_BYTES: u64 = 64;

/// A batch in a produce request.
#[derive(Clone, Debug)]
pub struct WireBatch {
    /// Destination partition.
    pub tp: Tp,
    /// The producer's batch number (for the trace and the history).
    pub batch_id: u64,
    /// The records, shared with the producer's copy.
    pub records: Arc<[RecordId]>,
    /// Their timestamps (`CreateTime`).
    pub timestamps: Timestamps,
    /// Size on the wire.
    pub bytes: u32,
    /// The idempotent producer's header fields (`None`: not idempotent).
    pub sequence: Option<BatchSequence>,
    /// Written inside a transaction.
    pub transactional: bool,
}

/// `ProduceRequest`: at most one batch per partition.
#[derive(Clone, Debug)]
pub struct ProduceRequest {
    /// The producer's `transactional.id` (a leader checks with its coordinator that a
    /// transactional batch belongs to an ongoing transaction, KIP-890).
    pub transactional_id: Option<Arc<str>>,
    /// `acks` as on the wire: 0, 1 or -1.
    pub acks: i16,
    /// The broker's purgatory limit (`request.timeout.ms`).
    pub timeout_ms: u64,
    /// The batches.
    pub batches: Vec<WireBatch>,
}

/// One partition's answer to a produce request.
#[derive(Clone, Debug)]
pub struct ProducePartitionResponse {
    /// The partition.
    pub tp: Tp,
    /// The batch it answers.
    pub batch_id: u64,
    /// Base offset of the appended batch, or the error.
    pub result: Result<u64, ErrorCode>,
}

/// One partition in a fetch request.
#[derive(Clone, Copy, Debug)]
pub struct FetchPartition {
    /// The partition.
    pub tp: Tp,
    /// First offset wanted.
    pub offset: u64,
}

/// `FetchRequest` from a consumer.
#[derive(Clone, Debug)]
pub struct FetchRequest {
    /// Partitions and offsets.
    pub partitions: Vec<FetchPartition>,
    /// `fetch.min.bytes`.
    pub min_bytes: u32,
    /// `fetch.max.wait.ms`.
    pub max_wait_ms: u64,
    /// `max.partition.fetch.bytes`.
    pub max_partition_bytes: u32,
    /// `fetch.max.bytes`.
    pub max_bytes: u32,
    /// `isolation.level=read_committed`: read up to the last stable offset, with the aborted
    /// transactions of the range.
    pub read_committed: bool,
}

/// A batch returned by a fetch.
#[derive(Clone, Debug)]
pub struct FetchedBatch {
    /// Offset of the first record.
    pub base_offset: u64,
    /// The records.
    pub records: Arc<[RecordId]>,
    /// Set when a log cleaner removed some of the batch's records: where the kept ones are.
    pub cleaned: Option<crate::kafka::log::Cleaned>,
    /// Size on the wire.
    pub bytes: u32,
    /// The producer id of a transactional batch.
    pub producer_id: Option<u64>,
    /// Set for a control batch: the COMMIT or ABORT marker it holds.
    pub marker: Option<TxnMarker>,
}

impl FetchedBatch {
    /// The offset after the batch (after its original last record, once cleaned).
    pub fn next_offset(&self) -> u64 {
        let span = self
            .cleaned
            .as_ref()
            .map_or(self.records.len() as u32, |c| c.span);
        self.base_offset + u64::from(span)
    }

    /// Its records with their offsets.
    pub fn entries(&self) -> impl Iterator<Item = (u64, RecordId)> + '_ {
        self.records.iter().enumerate().map(|(i, r)| {
            let delta = self.cleaned.as_ref().map_or(i as u32, |c| c.deltas[i]);
            (self.base_offset + u64::from(delta), *r)
        })
    }
}

/// One partition's answer to a fetch.
#[derive(Clone, Debug)]
pub struct FetchPartitionResponse {
    /// The partition.
    pub tp: Tp,
    /// The offset that was asked for.
    pub fetch_offset: u64,
    /// The batches (whole batches; records below `fetch_offset` are skipped by the client), or
    /// the error.
    pub result: Result<Vec<FetchedBatch>, ErrorCode>,
    /// The leader's high watermark.
    pub high_watermark: u64,
    /// The leader's last stable offset.
    pub last_stable_offset: u64,
    /// For `read_committed`: the aborted transactions among the returned batches.
    pub aborted: Vec<AbortedTxn>,
}

/// Which offset `ListOffsets` asks for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OffsetSpec {
    /// The log start offset (`-2`).
    Earliest,
    /// The high watermark, for a `read_uncommitted` consumer (`-1`).
    Latest,
    /// `-1` with `isolation.level=read_committed`: the last stable offset.
    LatestStable,
    /// A timestamp (`offsetsForTimes`): the earliest offset whose record's timestamp is at
    /// least `ms`, below the high watermark (the last stable offset when `read_committed`).
    Timestamp {
        /// The timestamp, in ms.
        ms: u64,
        /// `isolation.level=read_committed`.
        read_committed: bool,
    },
}

/// One partition in a follower's fetch.
#[derive(Clone, Copy, Debug)]
pub struct ReplicaFetchPartition {
    /// The partition.
    pub tp: Tp,
    /// The follower's log end offset.
    pub fetch_offset: u64,
    /// Epoch of the follower's last batch (for the divergence check).
    pub last_fetched_epoch: Option<u32>,
    /// The leader epoch the follower believes in.
    pub current_leader_epoch: u32,
}

/// `Fetch` from a follower replica (`replicaId` set).
#[derive(Clone, Debug)]
pub struct ReplicaFetchRequest {
    /// The follower.
    pub replica: BrokerId,
    /// Partitions it follows on this leader.
    pub partitions: Vec<ReplicaFetchPartition>,
    /// `replica.fetch.min.bytes`.
    pub min_bytes: u32,
    /// `replica.fetch.wait.max.ms`.
    pub max_wait_ms: u64,
    /// `replica.fetch.max.bytes`.
    pub max_partition_bytes: u32,
}

/// What a leader sends a follower for one partition.
#[derive(Clone, Debug)]
pub struct ReplicaData {
    /// Batches from the fetch offset, with their offsets and epochs.
    pub batches: Vec<super::log::LogBatch>,
    /// The leader's high watermark, as it was before this fetch was recorded.
    pub high_watermark: u64,
    /// Set when the follower's log diverges: `(epoch, end offset)` to truncate by (KIP-279).
    pub diverging: Option<(u32, u64)>,
    /// The leader's log end offset.
    pub leader_log_end: u64,
    /// The leader's log start offset (`FetchResponse` `logStartOffset`): a follower moves its
    /// own up to it; a follower whose fetch offset is below it starts again there.
    pub log_start_offset: u64,
}

/// One partition's answer to a follower.
#[derive(Clone, Debug)]
pub struct ReplicaFetchPartitionResponse {
    /// The partition.
    pub tp: Tp,
    /// The offset asked for.
    pub fetch_offset: u64,
    /// The data, or why not.
    pub result: Result<ReplicaData, ErrorCode>,
}

/// A request from a client to a broker.
#[derive(Clone, Debug)]
pub enum RequestBody {
    /// `Produce`.
    Produce(ProduceRequest),
    /// `Fetch`.
    Fetch(FetchRequest),
    /// `Metadata` for every topic.
    Metadata,
    /// `ListOffsets`.
    ListOffsets(Vec<(Tp, OffsetSpec)>),
    /// `Fetch` from a follower.
    ReplicaFetch(ReplicaFetchRequest),
    /// `InitProducerId` without a transactional id: a new producer id, epoch 0.
    InitProducerId,
    /// A consumer group request.
    Group(GroupRequest),
    /// A transaction request (to a transaction coordinator, or a coordinator's to a leader).
    Txn(TxnRequest),
}

impl RequestBody {
    /// Kafka's API name.
    pub fn api(&self) -> &'static str {
        match self {
            RequestBody::Produce(_) => "Produce",
            RequestBody::Fetch(_) => "Fetch",
            RequestBody::Metadata => "Metadata",
            RequestBody::ListOffsets(_) => "ListOffsets",
            RequestBody::ReplicaFetch(_) => "Fetch(replica)",
            RequestBody::InitProducerId => "InitProducerId",
            RequestBody::Group(g) => g.api(),
            RequestBody::Txn(t) => t.api(),
        }
    }
}

/// A broker's answer.
#[derive(Clone, Debug)]
pub enum ResponseBody {
    /// To `Produce`.
    Produce(Vec<ProducePartitionResponse>),
    /// To `Fetch`.
    Fetch(Vec<FetchPartitionResponse>),
    /// To `Metadata`.
    Metadata(Arc<ClusterMetadata>),
    /// To `ListOffsets`: per partition the offset, `None` where a timestamp lookup found no
    /// record (Kafka answers offset -1), or the error.
    ListOffsets(Vec<(Tp, Result<Option<u64>, ErrorCode>)>),
    /// To a follower's `Fetch`.
    ReplicaFetch(Vec<ReplicaFetchPartitionResponse>),
    /// To `InitProducerId`.
    InitProducerId(Result<ProducerIdentity, ErrorCode>),
    /// To a consumer group request.
    Group(GroupResponse),
    /// To a transaction request.
    Txn(TxnResponse),
}

impl ResponseBody {
    /// Kafka's API name.
    pub fn api(&self) -> &'static str {
        match self {
            ResponseBody::Produce(_) => "Produce",
            ResponseBody::Fetch(_) => "Fetch",
            ResponseBody::Metadata(_) => "Metadata",
            ResponseBody::ListOffsets(_) => "ListOffsets",
            ResponseBody::ReplicaFetch(_) => "Fetch(replica)",
            ResponseBody::InitProducerId(_) => "InitProducerId",
            ResponseBody::Group(g) => g.api(),
            ResponseBody::Txn(t) => t.api(),
        }
    }
}

/// Everything one node can send another.
#[derive(Clone, Debug)]
pub enum Message {
    /// A client opens a connection.
    Connect,
    /// The broker accepted the connection.
    ConnectOk,
    /// Nobody listens (the broker process is down): the host answers with a reset.
    ConnectRefused,
    /// A client request.
    Request {
        /// Matches the response to the request.
        correlation: u32,
        /// The request.
        body: RequestBody,
    },
    /// A broker response.
    Response {
        /// The request's correlation id.
        correlation: u32,
        /// The response.
        body: ResponseBody,
    },
    /// Broker → controller: "I am alive" (`BrokerHeartbeat`), with the metadata version the
    /// broker has caught up to; a broker behind gets the current image back.
    Heartbeat {
        /// The broker.
        broker: BrokerId,
        /// Matches the answer to the heartbeat.
        correlation: u32,
        /// Version of the broker's metadata cache (0: none, e.g. just restarted).
        metadata_version: u64,
    },
    /// Controller → broker: the answer to a heartbeat (`BrokerHeartbeatResponse`), or to the
    /// registration a restarted broker's first heartbeat stands for.
    HeartbeatResponse {
        /// The heartbeat's correlation id.
        correlation: u32,
        /// Accepted, or why not (`DUPLICATE_BROKER_REGISTRATION`).
        result: Result<(), ErrorCode>,
    },
    /// Controller → broker: the current metadata image, and the partitions the record batch
    /// that made this version changed (Kafka's `MetadataDelta` beside the new `MetadataImage`,
    /// as `BrokerMetadataPublisher.onMetadataUpdate` gets them).
    MetadataUpdate {
        /// The image after this version.
        image: Arc<ClusterMetadata>,
        /// The partitions whose state differs from the previous version's.
        changed: Arc<[Tp]>,
    },
    /// Leader → controller: change the ISR of some partitions (`AlterPartition`): everything
    /// the broker's `AlterPartitionManager` had queued when no request was in flight.
    AlterPartition {
        /// The leader sending it (the answer goes back to it).
        broker: BrokerId,
        /// Matches the answer to the request.
        correlation: u32,
        /// One proposal per partition.
        partitions: Vec<IsrProposal>,
    },
    /// Controller → leader: each ISR change was committed or refused.
    AlterPartitionResponse {
        /// The request's correlation id.
        correlation: u32,
        /// Per partition of the request: the committed state, or why not.
        partitions: Vec<(Tp, Result<PartitionState, ErrorCode>)>,
    },
    /// Broker → controller: "I want to shut down" (controlled shutdown).
    ShutdownRequest {
        /// The broker.
        broker: BrokerId,
    },
    /// Controller → broker: leadership has moved away; it may stop.
    ShutdownAllowed,
    /// Broker → controller: "give me a block of producer ids" (`AllocateProducerIds`, KIP-730).
    AllocateProducerIds {
        /// The broker.
        broker: BrokerId,
    },
    /// Controller → broker: producer ids `first..first + size` are this broker's to hand out.
    ProducerIdBlock {
        /// The first id of the block.
        first: u64,
        /// How many ids.
        size: u64,
    },
}

impl Message {
    /// What kind of message this is, for people: the variant, and Kafka's API name for requests
    /// and responses (`Request Produce`).
    pub fn kind(&self) -> String {
        match self {
            Message::Connect => "Connect".to_string(),
            Message::ConnectOk => "ConnectOk".to_string(),
            Message::ConnectRefused => "ConnectRefused".to_string(),
            Message::Request { body, .. } => format!("Request {}", body.api()),
            Message::Response { body, .. } => format!("Response {}", body.api()),
            Message::Heartbeat { .. } => "Heartbeat".to_string(),
            Message::HeartbeatResponse { .. } => "HeartbeatResponse".to_string(),
            Message::MetadataUpdate { .. } => "MetadataUpdate".to_string(),
            Message::AlterPartition { .. } => "AlterPartition".to_string(),
            Message::AlterPartitionResponse { .. } => "AlterPartitionResponse".to_string(),
            Message::ShutdownRequest { .. } => "ShutdownRequest".to_string(),
            Message::ShutdownAllowed => "ShutdownAllowed".to_string(),
            Message::AllocateProducerIds { .. } => "AllocateProducerIds".to_string(),
            Message::ProducerIdBlock { .. } => "ProducerIdBlock".to_string(),
        }
    }
}

impl Message {
    /// True for client requests (what `DropRequests` counts).
    pub fn is_request(&self) -> bool {
        matches!(self, Message::Request { .. })
    }

    /// Bytes on the wire: the record batches a message carries plus a fixed header; every other
    /// message is just the header (a size that only matters on slow links).
    pub fn wire_bytes(&self) -> u64 {
        let payload: u64 = match self {
            Message::Request {
                body: RequestBody::Produce(p),
                ..
            } => p.batches.iter().map(|b| u64::from(b.bytes)).sum(),
            Message::Response {
                body: ResponseBody::Fetch(parts),
                ..
            } => parts
                .iter()
                .filter_map(|p| p.result.as_ref().ok())
                .flatten()
                .map(|b| u64::from(b.bytes))
                .sum(),
            Message::Response {
                body: ResponseBody::ReplicaFetch(parts),
                ..
            } => parts
                .iter()
                .filter_map(|p| p.result.as_ref().ok())
                .flat_map(|d| &d.batches)
                .map(|b| u64::from(b.bytes))
                .sum(),
            _ => 0,
        };
        MESSAGE_HEADER_BYTES + payload
    }

    /// True for broker responses (what `DropResponses` counts).
    pub fn is_response(&self) -> bool {
        matches!(self, Message::Response { .. })
    }

    /// Short description for the trace.
    pub fn describe(&self) -> String {
        match self {
            Message::Connect => "Connect".into(),
            Message::ConnectOk => "ConnectOk".into(),
            Message::ConnectRefused => "ConnectRefused".into(),
            Message::Request { correlation, body } => format!("{} req {correlation}", body.api()),
            Message::Response { correlation, body } => {
                format!("{} response to req {correlation}", body.api())
            }
            Message::Heartbeat { .. } => "Heartbeat".into(),
            Message::HeartbeatResponse { .. } => "HeartbeatResponse".into(),
            Message::MetadataUpdate { image, .. } => format!("MetadataUpdate v{}", image.version),
            Message::AlterPartition { .. } => "AlterPartition".into(),
            Message::AlterPartitionResponse { .. } => "AlterPartitionResponse".into(),
            Message::ShutdownRequest { .. } => "ShutdownRequest".into(),
            Message::ShutdownAllowed => "ShutdownAllowed".into(),
            Message::AllocateProducerIds { .. } => "AllocateProducerIds".into(),
            Message::ProducerIdBlock { .. } => "ProducerIdBlock".into(),
        }
    }
}

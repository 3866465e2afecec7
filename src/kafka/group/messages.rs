//! The classic consumer group protocol's requests and answers (`FindCoordinator`, `JoinGroup`,
//! `SyncGroup`, `Heartbeat`, `LeaveGroup`, `OffsetCommit`, `OffsetFetch`), as the simulator
//! carries them.

use crate::kafka::protocol::{BrokerId, ErrorCode};
use crate::kafka::record::Tp;
use std::sync::Arc;

/// What a member subscribes to, with what it owns (`ConsumerProtocolSubscription`: the
/// cooperative and sticky assignors read `ownedPartitions` and `generation`).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Subscription {
    /// Topic indexes.
    pub topics: Vec<u32>,
    /// Partitions the member owns now.
    pub owned: Vec<Tp>,
    /// The generation those were assigned in (-1: none).
    pub generation: i32,
    /// The generation the member last joined (`Subscription.generationId`, KIP-792; -1 when it
    /// never joined or its generation was reset). Equal to `generation` unless the member missed
    /// a generation; the eager `sticky` assignor reads it apart from its user data's.
    pub generation_id: i32,
}

/// One member as the leader's `JoinGroup` answer lists it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct JoinedMember {
    /// Its member id.
    pub member_id: Arc<str>,
    /// Its `group.instance.id`, if static.
    pub instance_id: Option<Arc<str>>,
    /// Its subscription.
    pub subscription: Subscription,
}

/// `JoinGroup`.
#[derive(Clone, Debug)]
pub struct JoinGroupRequest {
    /// The group.
    pub group: Arc<str>,
    /// The client's `client.id` (the request header's): member ids start with it.
    pub client_id: Arc<str>,
    /// Empty on the first join (the coordinator answers `MEMBER_ID_REQUIRED` with an id).
    pub member_id: Arc<str>,
    /// `group.instance.id`.
    pub instance_id: Option<Arc<str>>,
    /// `session.timeout.ms`.
    pub session_timeout_ms: u64,
    /// `max.poll.interval.ms`: how long the coordinator waits for members to rejoin.
    pub rebalance_timeout_ms: u64,
    /// Assignor names in the member's order of preference.
    pub protocols: Vec<Arc<str>>,
    /// The subscription (the same for every protocol).
    pub subscription: Subscription,
}

/// A successful `JoinGroup`.
#[derive(Clone, Debug)]
pub struct JoinGroupResponse {
    /// The new generation.
    pub generation: i32,
    /// The chosen assignor.
    pub protocol: Arc<str>,
    /// The leader's member id.
    pub leader: Arc<str>,
    /// This member's id.
    pub member_id: Arc<str>,
    /// Every member, for the leader only (empty for the others).
    pub members: Vec<JoinedMember>,
    /// The leader keeps the current assignment and does not run the assignor: a static leader
    /// that rejoined a Stable group (KIP-814).
    pub skip_assignment: bool,
}

/// A refused `JoinGroup`; `MEMBER_ID_REQUIRED` carries the id to join with.
#[derive(Clone, Debug)]
pub struct JoinGroupError {
    /// Why.
    pub error: ErrorCode,
    /// The member id to use next (`MEMBER_ID_REQUIRED`).
    pub member_id: Option<Arc<str>>,
}

/// `SyncGroup`: the leader sends everyone's assignment, the others none.
#[derive(Clone, Debug)]
pub struct SyncGroupRequest {
    /// The group.
    pub group: Arc<str>,
    /// The generation joined.
    pub generation: i32,
    /// The member.
    pub member_id: Arc<str>,
    /// (member id, partitions), from the leader.
    pub assignments: Vec<(Arc<str>, Vec<Tp>)>,
}

/// `Heartbeat`, `LeaveGroup` and the member fields of `OffsetCommit`.
#[derive(Clone, Debug)]
pub struct MemberRef {
    /// The group.
    pub group: Arc<str>,
    /// The generation (-1 for `LeaveGroup` and for commits outside a generation).
    pub generation: i32,
    /// The member ("" for a commit outside the group).
    pub member_id: Arc<str>,
}

/// `OffsetCommit`.
#[derive(Clone, Debug)]
pub struct OffsetCommitRequest {
    /// Who commits.
    pub member: MemberRef,
    /// (partition, the offset of the next record to read).
    pub offsets: Vec<(Tp, u64)>,
}

/// Group requests, carried inside a client request.
#[derive(Clone, Debug)]
pub enum GroupRequest {
    /// Which broker coordinates the group.
    FindCoordinator(Arc<str>),
    /// Join (or rejoin) the group.
    JoinGroup(JoinGroupRequest),
    /// Send or fetch the assignment.
    SyncGroup(SyncGroupRequest),
    /// "I am alive."
    Heartbeat(MemberRef),
    /// Leave the group now.
    LeaveGroup(MemberRef),
    /// Store committed offsets.
    OffsetCommit(OffsetCommitRequest),
    /// Store offsets inside a transaction (`TxnOffsetCommit`, KIP-98; the member fields are
    /// KIP-447's fencing): they count once the transaction commits.
    TxnOffsetCommit(TxnOffsetCommitRequest),
    /// Read committed offsets.
    OffsetFetch {
        /// The group.
        group: Arc<str>,
        /// The partitions.
        partitions: Vec<Tp>,
    },
}

/// Group answers.
#[derive(Clone, Debug)]
pub enum GroupResponse {
    /// The coordinator, or why not.
    FindCoordinator(Result<BrokerId, ErrorCode>),
    /// See [`JoinGroupResponse`].
    JoinGroup(Result<JoinGroupResponse, JoinGroupError>),
    /// The member's partitions.
    SyncGroup(Result<Vec<Tp>, ErrorCode>),
    /// Heartbeat answer (`REBALANCE_IN_PROGRESS` asks the member to rejoin).
    Heartbeat(Result<(), ErrorCode>),
    /// LeaveGroup answer.
    LeaveGroup(Result<(), ErrorCode>),
    /// Per partition.
    OffsetCommit(Result<(), ErrorCode>),
    /// Committed offsets (`None`: nothing committed).
    OffsetFetch(Result<Vec<(Tp, Option<u64>)>, ErrorCode>),
    /// `TxnOffsetCommit` answer.
    TxnOffsetCommit(Result<(), ErrorCode>),
}

/// `TxnOffsetCommit`.
#[derive(Clone, Debug)]
pub struct TxnOffsetCommitRequest {
    /// The consumer's group membership (`consumer.groupMetadata()`).
    pub member: MemberRef,
    /// The transactional producer.
    pub producer: crate::kafka::txn::messages::TxnProducer,
    /// (partition, the offset of the next record to read).
    pub offsets: Vec<(Tp, u64)>,
}

impl GroupRequest {
    /// Kafka's API name.
    pub fn api(&self) -> &'static str {
        match self {
            GroupRequest::FindCoordinator(_) => "FindCoordinator",
            GroupRequest::JoinGroup(_) => "JoinGroup",
            GroupRequest::SyncGroup(_) => "SyncGroup",
            GroupRequest::Heartbeat(_) => "Heartbeat",
            GroupRequest::LeaveGroup(_) => "LeaveGroup",
            GroupRequest::OffsetCommit(_) => "OffsetCommit",
            GroupRequest::OffsetFetch { .. } => "OffsetFetch",
            GroupRequest::TxnOffsetCommit(_) => "TxnOffsetCommit",
        }
    }
}

impl GroupResponse {
    /// Kafka's API name.
    pub fn api(&self) -> &'static str {
        match self {
            GroupResponse::FindCoordinator(_) => "FindCoordinator",
            GroupResponse::JoinGroup(_) => "JoinGroup",
            GroupResponse::SyncGroup(_) => "SyncGroup",
            GroupResponse::Heartbeat(_) => "Heartbeat",
            GroupResponse::LeaveGroup(_) => "LeaveGroup",
            GroupResponse::OffsetCommit(_) => "OffsetCommit",
            GroupResponse::OffsetFetch(_) => "OffsetFetch",
            GroupResponse::TxnOffsetCommit(_) => "TxnOffsetCommit",
        }
    }
}

/// Java's `String.hashCode`: the 31-polynomial over UTF-16 code units, wrapping at 32 bits.
pub fn java_hash(s: &str) -> i32 {
    s.encode_utf16()
        .fold(0i32, |h, u| h.wrapping_mul(31).wrapping_add(i32::from(u)))
}

/// The `__consumer_offsets` partition of a group: `Utils.abs(groupId.hashCode()) %
/// offsets.topic.num.partitions`, where `Utils.abs(Integer.MIN_VALUE)` is 0
/// (`GroupCoordinatorService.partitionFor`).
pub fn offsets_partition(group: &str, partitions: u32) -> u32 {
    let h = java_hash(group);
    let abs = if h == i32::MIN { 0 } else { h.unsigned_abs() };
    abs % partitions
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Values printed by Java 17 (`s.hashCode()` and `Utils.abs(h) % 50`).
    #[test]
    fn the_coordinator_partition_matches_java() {
        let cases = [
            ("g1", 3242, 42),
            ("orders-app", 772757305, 5),
            ("test-group", 627841412, 12),
            ("my-group", -1906497762, 12),
            ("consumer-group-1", 147483020, 20),
            ("group-with-a-long-name-to-wrap-the-hash", 1809259121, 21),
            ("polygenelubricants", i32::MIN, 0),
        ];
        for (group, hash, partition) in cases {
            assert_eq!(java_hash(group), hash, "{group}");
            assert_eq!(offsets_partition(group, 50), partition, "{group}");
        }
    }
}

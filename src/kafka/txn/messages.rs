//! The transaction requests and answers as the simulator carries them: `FindCoordinator`
//! (key type TRANSACTION), `InitProducerId` with a transactional id, `AddPartitionsToTxn` (from
//! a version-1 client, or from a partition leader verifying or adding a partition, KIP-890),
//! `EndTxn`, and the coordinator's `WriteTxnMarkers` to partition leaders.

use crate::kafka::log::TxnMarker;
use crate::kafka::protocol::{BrokerId, ErrorCode};
use crate::kafka::record::{ProducerIdentity, Tp};
use std::sync::Arc;

/// A transactional producer as its requests name it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TxnProducer {
    /// `transactional.id`.
    pub transactional_id: Arc<str>,
    /// The producer id and epoch it holds.
    pub identity: ProducerIdentity,
}

/// `AddPartitionsToTxn`.
#[derive(Clone, Debug)]
pub struct AddPartitions {
    /// Whose transaction.
    pub producer: TxnProducer,
    /// The partitions.
    pub partitions: Vec<Tp>,
    /// From a partition leader under transaction version 1: only check that the partitions are
    /// in the ongoing transaction (KIP-890 part 1); otherwise add them.
    pub verify_only: bool,
}

/// One marker for some partitions of one leader (`WriteTxnMarkersRequest.TxnMarkerEntry`).
#[derive(Clone, Debug)]
pub struct MarkerEntry {
    /// The marker.
    pub marker: TxnMarker,
    /// Where to write it.
    pub partitions: Vec<Tp>,
}

/// A transaction request.
#[derive(Clone, Debug)]
pub enum TxnRequest {
    /// `FindCoordinator` for a transactional id.
    FindCoordinator(Arc<str>),
    /// `InitProducerId` with a transactional id.
    InitProducerId {
        /// `transactional.id`.
        transactional_id: Arc<str>,
        /// `transaction.timeout.ms`.
        timeout_ms: u64,
    },
    /// `AddPartitionsToTxn`.
    AddPartitions(AddPartitions),
    /// `EndTxn`: commit (true) or abort.
    EndTxn {
        /// Whose transaction.
        producer: TxnProducer,
        /// Commit or abort.
        commit: bool,
    },
    /// `WriteTxnMarkers`, coordinator → partition leader.
    WriteMarkers(Vec<MarkerEntry>),
}

impl TxnRequest {
    /// Kafka's API name.
    pub fn api(&self) -> &'static str {
        match self {
            TxnRequest::FindCoordinator(_) => "FindCoordinator",
            TxnRequest::InitProducerId { .. } => "InitProducerId",
            TxnRequest::AddPartitions(_) => "AddPartitionsToTxn",
            TxnRequest::EndTxn { .. } => "EndTxn",
            TxnRequest::WriteMarkers(_) => "WriteTxnMarkers",
        }
    }

    /// The transactional id the request is about (none for markers).
    pub fn transactional_id(&self) -> Option<&Arc<str>> {
        match self {
            TxnRequest::FindCoordinator(id)
            | TxnRequest::InitProducerId {
                transactional_id: id, ..
            } => Some(id),
            TxnRequest::AddPartitions(a) => Some(&a.producer.transactional_id),
            TxnRequest::EndTxn { producer, .. } => Some(&producer.transactional_id),
            TxnRequest::WriteMarkers(_) => None,
        }
    }
}

/// A transaction answer.
#[derive(Clone, Debug)]
pub enum TxnResponse {
    /// To `FindCoordinator`.
    FindCoordinator(Result<BrokerId, ErrorCode>),
    /// To `InitProducerId`.
    InitProducerId(Result<ProducerIdentity, ErrorCode>),
    /// To `AddPartitionsToTxn`.
    AddPartitions(Result<(), ErrorCode>),
    /// To `EndTxn`: the producer id and epoch for the next transaction (bumped under
    /// transaction version 2).
    EndTxn(Result<ProducerIdentity, ErrorCode>),
    /// To `WriteTxnMarkers`: per partition.
    WriteMarkers(Vec<(Tp, Result<(), ErrorCode>)>),
}

impl TxnResponse {
    /// Kafka's API name.
    pub fn api(&self) -> &'static str {
        match self {
            TxnResponse::FindCoordinator(_) => "FindCoordinator",
            TxnResponse::InitProducerId(_) => "InitProducerId",
            TxnResponse::AddPartitions(_) => "AddPartitionsToTxn",
            TxnResponse::EndTxn(_) => "EndTxn",
            TxnResponse::WriteMarkers(_) => "WriteTxnMarkers",
        }
    }
}

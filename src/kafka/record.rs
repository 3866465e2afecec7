//! Records as the simulator tracks them, and their sizes in Kafka's v2 format.
//!
//! Followed: `DefaultRecord.sizeInBytes` and `DefaultRecordBatch.RECORD_BATCH_OVERHEAD`
//! (clients/src/main/java/org/apache/kafka/common/record/).

use std::fmt;
use std::sync::Arc;

/// A record: the producer (index in the scenario) and the order in which its application sent it.
#[derive(Copy, Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct RecordId {
    /// Index of the producer in the scenario.
    pub producer: u32,
    /// 0 for the producer's first send(), 1 for the next, ...
    pub seq: u32,
}

/// An idempotent producer's identity: the id `InitProducerId` handed out and the current epoch.
#[derive(Copy, Clone, Debug, Default, PartialEq, Eq, PartialOrd, Ord)]
pub struct ProducerIdentity {
    /// The producer id.
    pub id: u64,
    /// The producer epoch (bumped by the client to restart its sequences).
    pub epoch: u16,
}

/// The idempotent producer's fields of a batch header (`RecordBatch` producerId, producerEpoch,
/// baseSequence): record i of the batch has sequence `base_sequence + i`.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub struct BatchSequence {
    /// The producer id from `InitProducerId`.
    pub producer_id: u64,
    /// The producer epoch.
    pub epoch: u16,
    /// Sequence number of the batch's first record in its partition.
    pub base_sequence: u32,
}

impl BatchSequence {
    /// Sequence number of the last record of a batch of `records` records.
    pub fn last_sequence(&self, records: usize) -> u32 {
        self.base_sequence + records.saturating_sub(1) as u32
    }
}

/// A topic (by index in the scenario) and a partition.
#[derive(Copy, Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Tp {
    /// Index of the topic in the scenario.
    pub topic: u32,
    /// Partition id.
    pub partition: u32,
}

/// The timestamps of a batch's records, in ms of simulated time (Kafka's v2 batch:
/// `baseTimestamp`, a `timestampDelta` per record and the batch's `maxTimestamp`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Timestamps {
    /// `CreateTime`: when the application called `send()` for each record
    /// (`KafkaProducer.doSend` stamps it after waiting for metadata, before waiting for memory).
    CreateTime {
        /// The first record's timestamp.
        base_ms: u64,
        /// Each record's timestamp minus `base_ms`.
        deltas_ms: Arc<[u32]>,
    },
    /// `LogAppendTime`: the leader stamped the batch when it appended it; every record reads as
    /// that time (`LogValidator` sets the batch's `maxTimestamp`, followers copy it).
    LogAppendTime(u64),
}

impl Timestamps {
    /// The first record's timestamp (`RecordBatch.baseTimestamp`).
    pub fn first_ms(&self) -> u64 {
        match self {
            Timestamps::CreateTime { base_ms, .. } => *base_ms,
            Timestamps::LogAppendTime(ms) => *ms,
        }
    }

    /// The largest timestamp (`RecordBatch.maxTimestamp`).
    pub fn max_ms(&self) -> u64 {
        match self {
            Timestamps::CreateTime { base_ms, deltas_ms } => {
                base_ms + u64::from(deltas_ms.iter().copied().max().unwrap_or(0))
            }
            Timestamps::LogAppendTime(ms) => *ms,
        }
    }

    /// The timestamp of record `i` of the batch.
    pub fn of(&self, i: usize) -> u64 {
        match self {
            Timestamps::CreateTime { base_ms, deltas_ms } => {
                base_ms + u64::from(deltas_ms.get(i).copied().unwrap_or(0))
            }
            Timestamps::LogAppendTime(ms) => *ms,
        }
    }

    /// The timestamps of records `skip..` (a batch cut at an offset inside it).
    pub fn skip(&self, skip: usize) -> Timestamps {
        match self {
            Timestamps::CreateTime { base_ms, deltas_ms } => {
                let rest = deltas_ms.get(skip..).unwrap_or(&[]);
                let first = rest.first().copied().unwrap_or(0);
                Timestamps::CreateTime {
                    base_ms: base_ms + u64::from(first),
                    deltas_ms: rest.iter().map(|d| d - first).collect(),
                }
            }
            Timestamps::LogAppendTime(ms) => Timestamps::LogAppendTime(*ms),
        }
    }

    /// Every record of a batch written at `ms` (a coordinator's record, a marker, a test).
    pub fn at(ms: u64, records: usize) -> Timestamps {
        Timestamps::CreateTime {
            base_ms: ms,
            deltas_ms: vec![0; records].into(),
        }
    }
}

impl fmt::Display for RecordId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "#{}", self.seq)
    }
}

/// Size of a v2 record batch header (`DefaultRecordBatch.RECORD_BATCH_OVERHEAD`).
pub const BATCH_HEADER_BYTES: u32 = 61;
/// Most bytes of framing one record can take (`DefaultRecord.MAX_RECORD_OVERHEAD`).
pub const MAX_RECORD_OVERHEAD_BYTES: u32 = 21;

/// Bytes of a zigzag varint: 7 payload bits per byte.
fn varint_bytes(v: i64) -> u32 {
    let z = ((v << 1) ^ (v >> 63)) as u64;
    let bits = 64 - (z | 1).leading_zeros();
    bits.div_ceil(7)
}

/// Bytes of one record inside a batch: `DefaultRecord.sizeInBytes` with no headers.
pub fn record_bytes(offset_delta: u32, timestamp_delta_ms: u64, key: Option<u32>, value: u32) -> u32 {
    let key_part = match key {
        Some(k) => varint_bytes(i64::from(k)) + k,
        None => varint_bytes(-1),
    };
    let body = 1
        + varint_bytes(i64::try_from(timestamp_delta_ms).unwrap_or(i64::MAX))
        + varint_bytes(i64::from(offset_delta))
        + key_part
        + varint_bytes(i64::from(value))
        + value
        + varint_bytes(0);
    varint_bytes(i64::from(body)) + body
}

/// The upper-bound estimate the producer uses to size buffers and to check `max.request.size`.
pub fn record_upper_bound_bytes(key: Option<u32>, value: u32) -> u32 {
    BATCH_HEADER_BYTES + MAX_RECORD_OVERHEAD_BYTES + key.unwrap_or(0) + value
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn varints_match_kafka_byte_utils() {
        assert_eq!(varint_bytes(0), 1);
        assert_eq!(varint_bytes(-1), 1);
        assert_eq!(varint_bytes(63), 1);
        assert_eq!(varint_bytes(64), 2);
        assert_eq!(varint_bytes(100), 2);
        assert_eq!(varint_bytes(8191), 2);
        assert_eq!(varint_bytes(8192), 3);
        assert_eq!(varint_bytes(i64::MAX), 10);
        assert_eq!(varint_bytes(i64::MIN), 10);
    }

    #[test]
    fn record_size_counts_every_field() {
        // attributes 1 + ts delta 1 + offset delta 1 + key (1 + 6) + value (2 + 100) + headers 1
        // = 113 body bytes, plus a 2-byte length prefix.
        assert_eq!(record_bytes(0, 0, Some(6), 100), 115);
        // a null key is a single varint(-1): 1+1+1+1+(1+10)+1 = 16 body bytes, 1 length byte
        assert_eq!(record_bytes(0, 0, None, 10), 17);
        assert_eq!(record_upper_bound_bytes(Some(6), 100), 188);
    }
}

//! Choosing a partition: murmur2 for keyed records, bit-exact with Kafka, and the built-in
//! uniform sticky partitioner (KIP-794) for keyless ones.
//!
//! Followed: `Utils.murmur2` / `Utils.toPositive` (clients/src/main/java/org/apache/kafka/common/
//! utils/Utils.java) and `BuiltInPartitioner` (clients/.../producer/internals/).

use crate::sim::SimRng;

/// Kafka's `Utils.murmur2`: 32-bit murmur2 with seed `0x9747b28c`, blocks read little-endian with
/// unsigned bytes, logical shifts, tail multiply only when a tail exists.
pub fn murmur2(data: &[u8]) -> i32 {
    const SEED: u32 = 0x9747_b28c;
    const M: u32 = 0x5bd1_e995;
    const R: u32 = 24;
    let len = data.len();
    let mut h: u32 = SEED ^ (len as u32);
    let blocks = data.chunks_exact(4);
    let tail = blocks.remainder();
    for block in blocks {
        let mut k = u32::from_le_bytes([block[0], block[1], block[2], block[3]]);
        k = k.wrapping_mul(M);
        k ^= k >> R;
        k = k.wrapping_mul(M);
        h = h.wrapping_mul(M);
        h ^= k;
    }
    if tail.len() >= 3 {
        h ^= u32::from(tail[2]) << 16;
    }
    if tail.len() >= 2 {
        h ^= u32::from(tail[1]) << 8;
    }
    if !tail.is_empty() {
        h ^= u32::from(tail[0]);
        h = h.wrapping_mul(M);
    }
    h ^= h >> 13;
    h = h.wrapping_mul(M);
    h ^= h >> 15;
    h as i32
}

/// Kafka's `Utils.toPositive`: clears the sign bit (it is not `abs`).
pub fn to_positive(x: i32) -> u32 {
    (x as u32) & 0x7fff_ffff
}

/// The partition of a key: `toPositive(murmur2(utf8(key))) % partitions`.
pub fn partition_for_key(key: &[u8], partitions: u32) -> u32 {
    to_positive(murmur2(key)) % partitions
}

/// The uniform sticky partitioner's state for one topic (KIP-794): keyless records stick to one
/// partition until at least `batch.size` bytes went there and its batch is full, or 2 ×
/// `batch.size` bytes went there; then a new partition is drawn uniformly among those with a
/// leader (it may be the same one).
#[derive(Clone, Debug, Default)]
pub struct StickyPartitioner {
    current: Option<u32>,
    produced_bytes: u64,
}

impl StickyPartitioner {
    /// The sticky partition, if one is chosen (and still exists).
    pub fn current(&self, partitions: u32) -> Option<u32> {
        self.current.filter(|p| *p < partitions)
    }

    /// Chooses a new sticky partition among `available` (those with a leader).
    pub fn choose(&mut self, available: &[u32], partitions: u32, rng: &mut SimRng) -> u32 {
        let p = next_partition(available, partitions, rng);
        self.current = Some(p);
        self.produced_bytes = 0;
        p
    }

    /// After an append of `appended_bytes`; `batch_full` tells whether the partition's last
    /// batch is now full (switching is only enabled then). A topic with one partition never
    /// switches.
    pub fn on_append(&mut self, appended_bytes: u32, batch_full: bool, batch_size: u32, partitions: u32) {
        if partitions <= 1 {
            return;
        }
        self.produced_bytes += u64::from(appended_bytes);
        let sticky = u64::from(batch_size.max(1));
        if (self.produced_bytes >= sticky && batch_full) || self.produced_bytes >= 2 * sticky {
            self.current = None;
        }
    }
}

fn next_partition(available: &[u32], partitions: u32, rng: &mut SimRng) -> u32 {
    let r = rng.next_u32() & 0x7fff_ffff;
    if available.is_empty() {
        r % partitions
    } else {
        available[r as usize % available.len()]
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sim::RngTree;

    /// `UtilsTest.testMurmur2` (clients/src/test/java/org/apache/kafka/common/utils/UtilsTest.java).
    #[test]
    fn kafka_utils_test_vectors() {
        let cases: [(&[u8], i32); 6] = [
            (b"21", -973_932_308),
            (b"foobar", -790_332_482),
            (b"a-little-bit-long-string", -985_981_536),
            (b"a-little-bit-longer-string", -1_486_304_829),
            (b"lkjh234lh9fiuh90y23oiuhsafujhadof229phr9h19h89h8", -58_897_971),
            (b"abc", 479_470_107),
        ];
        for (input, expected) in cases {
            assert_eq!(murmur2(input), expected, "{:?}", String::from_utf8_lossy(input));
        }
    }

    /// kafka-python's `test_murmur2_java_compatibility`, partitions of 1000.
    #[test]
    fn kafka_python_java_compatibility_vectors() {
        let cases: [(&[u8], u32); 6] = [
            (b"", 681),
            (b"a", 524),
            (b"ab", 434),
            (b"abc", 107),
            (b"123456789", 566),
            (b"\x00 ", 742),
        ];
        for (input, expected) in cases {
            assert_eq!(partition_for_key(input, 1000), expected, "{input:?}");
        }
    }

    /// String keys "0".."9" over 3 partitions, from Kafka Streams'
    /// `KTableKTableForeignKeyInnerJoinMultiIntegrationTest`.
    #[test]
    fn kafka_streams_three_partition_vector() {
        let expected = [2, 0, 2, 2, 1, 0, 1, 0, 0, 2];
        for (digit, want) in expected.iter().enumerate() {
            assert_eq!(
                partition_for_key(digit.to_string().as_bytes(), 3),
                *want,
                "key {digit}"
            );
        }
    }

    /// The reference key table (each row checked against Kafka 4.0.1's `Utils.murmur2` and
    /// `BuiltInPartitioner.partitionForKey` through the oracle harness in `conformance/oracle/`).
    #[test]
    fn reference_key_table() {
        let rows: [(&[u8], i32, u32, u32, u32); 14] = [
            (b"Costco", 1_316_086_277, 2, 5, 7),
            (b"Walmart", 2_053_818_262, 1, 4, 2),
            (b"Target", 321_464_605, 1, 1, 5),
            (b"BestBuy", 410_578_062, 0, 0, 2),
            (b"", 275_646_681, 0, 3, 1),
            (b"a", -1_563_381_124, 1, 4, 4),
            (b"abcd", -1_323_649_548, 2, 2, 0),
            (b"kafka", -798_503_068, 1, 4, 0),
            ("café".as_bytes(), -1_358_007_374, 0, 0, 4),
            ("日本".as_bytes(), -700_811_021, 0, 3, 7),
            (&[0, 0, 0, 10], -881_816_107, 1, 1, 1),
            (&[0xff, 0xff, 0xff, 0xff], 644_171_429, 2, 5, 9),
            (&[0, 0, 0, 0, 0, 0, 0, 42], 506_863_552, 1, 4, 2),
            (&[0xff, 0xfe, 0xfd], 998_637_092, 2, 2, 2),
        ];
        for (key, hash, p3, p6, p10) in rows {
            assert_eq!(murmur2(key), hash, "{key:?}");
            assert_eq!(
                [3, 6, 10].map(|n| partition_for_key(key, n)),
                [p3, p6, p10],
                "{key:?}"
            );
        }
    }

    #[test]
    fn to_positive_masks_rather_than_negates() {
        assert_eq!(to_positive(-1_323_649_548), 823_834_100);
        assert_eq!(to_positive(i32::MIN), 0);
    }

    #[test]
    fn sticky_switches_after_a_full_batch_or_twice_the_batch_size() {
        let mut rng = RngTree::new(9).fork("t");
        let mut s = StickyPartitioner::default();
        let p = s.choose(&[0, 1, 2], 3, &mut rng);
        s.on_append(900, false, 1000, 3);
        assert_eq!(s.current(3), Some(p), "not enough bytes yet");
        s.on_append(200, false, 1000, 3);
        assert_eq!(s.current(3), Some(p), "enough bytes but batch not full");
        s.on_append(1000, false, 1000, 3);
        assert_eq!(s.current(3), None, "2 × batch.size forces a switch");
        let mut single = StickyPartitioner::default();
        single.choose(&[0], 1, &mut rng);
        single.on_append(10_000, true, 100, 1);
        assert_eq!(single.current(1), Some(0), "one partition never switches");
    }
}

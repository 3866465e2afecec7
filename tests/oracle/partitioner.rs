//! The partition of a key: kafkasim's murmur2 and partition against `Utils.murmur2` and
//! `BuiltInPartitioner.partitionForKey`.

use crate::harness::{ask, assert_agree, rng};
use kafkasim::kafka::producer::partitioner::{murmur2, partition_for_key};
use rand::{Rng, RngExt};
use serde_json::json;

/// Characters for string keys: ASCII, Latin-1, CJK, and a 4-byte emoji (a surrogate pair in Java).
const CHARS: [char; 10] = ['a', 'Z', '0', '-', ' ', 'é', 'ß', '東', '京', '🦀'];

/// A random key: raw bytes (any value, length 0 to 40) or the UTF-8 of a random string.
fn key(rng: &mut impl Rng) -> Vec<u8> {
    let len = rng.random_range(0..=40);
    if rng.random_bool(0.5) {
        (0..len).map(|_| rng.random()).collect()
    } else {
        let s: String = (0..len)
            .map(|_| CHARS[rng.random_range(0..CHARS.len())])
            .collect();
        s.into_bytes()
    }
}

#[test]
#[ignore = "needs the JVM oracle: conformance/oracle/run"]
fn keys_land_in_the_partition_kafka_chooses() {
    const CASES: usize = 10_000;
    let mut rng = rng(12);
    let cases: Vec<(Vec<u8>, u32)> = (0..CASES)
        .map(|i| {
            // Small counts are the common case; a few large ones exercise the whole hash.
            let partitions = if i % 10 == 0 {
                rng.random_range(1..=100_000)
            } else {
                rng.random_range(1..=64)
            };
            (key(&mut rng), partitions)
        })
        .collect();
    let requests: Vec<_> = cases
        .iter()
        .map(|(k, n)| {
            let hex: String = k.iter().map(|b| format!("{b:02x}")).collect();
            json!({"op": "partition", "key_hex": hex, "partitions": n})
        })
        .collect();
    let answers = ask(&requests);
    let disagreements: Vec<String> = cases
        .iter()
        .zip(&answers)
        .filter_map(|((k, n), a)| {
            let ours = json!({"murmur2": murmur2(k), "partition": partition_for_key(k, *n)});
            (*a != ours).then(|| format!("key {k:02x?} with {n} partitions: Kafka {a}, kafkasim {ours}"))
        })
        .collect();
    assert_agree("keys", cases.len(), &disagreements);
}

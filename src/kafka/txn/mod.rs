//! Transactions (KIP-98, KIP-447, KIP-890): the messages, the transaction coordinator's state
//! machine and metadata, and which `__transaction_state` partition a transactional id lives in.

pub mod coordinator;
pub mod messages;
pub mod metadata;
pub mod state;

pub use state::TxnState;

/// Java's `String.hashCode`: `s[0]*31^(n-1) + ... + s[n-1]` over UTF-16 code units, wrapping.
pub fn java_string_hash(s: &str) -> i32 {
    s.encode_utf16()
        .fold(0i32, |h, c| h.wrapping_mul(31).wrapping_add(i32::from(c)))
}

/// The `__transaction_state` partition of a transactional id:
/// `Utils.abs(transactionalId.hashCode()) % transaction.state.log.num.partitions`
/// (`TransactionStateManager.partitionFor`; `Utils.abs` maps `Integer.MIN_VALUE` to 0).
pub fn coordinator_partition(transactional_id: &str, partitions: u32) -> u32 {
    let h = java_string_hash(transactional_id);
    let abs = if h == i32::MIN { 0 } else { h.unsigned_abs() };
    abs % partitions.max(1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn java_string_hash_matches_java() {
        // Values from `"...".hashCode()` in Java.
        assert_eq!(java_string_hash(""), 0);
        assert_eq!(java_string_hash("a"), 97);
        assert_eq!(java_string_hash("hello"), 99_162_322);
        assert_eq!(java_string_hash("polygenelubricants"), i32::MIN);
    }

    /// Rows of a vector file: tab-separated fields, `#` lines skipped.
    fn rows(text: &str) -> impl Iterator<Item = Vec<&str>> {
        text.lines()
            .filter(|l| !l.starts_with('#') && !l.is_empty())
            .map(|l| l.split('\t').collect())
    }

    /// `TransactionStateManager.partitionFor` of Kafka 4.0.1, run by the oracle harness on 200
    /// transactional ids (tests/vectors/txn-coordinator-partition.tsv).
    #[test]
    fn coordinator_partitions_match_kafkas_partition_for() {
        let text = include_str!("../../../tests/vectors/txn-coordinator-partition.tsv");
        let mut n = 0;
        for row in rows(text) {
            let (id, partitions, expected) = (row[0], row[1], row[2]);
            let partitions: u32 = partitions.parse().expect("partition count");
            let expected: u32 = expected.parse().expect("partition");
            assert_eq!(
                coordinator_partition(id, partitions),
                expected,
                "{id:?} % {partitions}"
            );
            n += 1;
        }
        assert_eq!(n, 400);
    }

    /// `TransactionState.validPreviousStates` of Kafka 4.0.1, all 64 pairs
    /// (tests/vectors/txn-state-transitions.tsv).
    #[test]
    fn state_transitions_match_kafkas_valid_previous_states() {
        let text = include_str!("../../../tests/vectors/txn-state-transitions.tsv");
        let state = |name: &str| {
            TxnState::ALL
                .into_iter()
                .find(|s| s.name() == name)
                .unwrap_or_else(|| panic!("unknown state {name}"))
        };
        let mut n = 0;
        for row in rows(text) {
            let (from, to) = (state(row[0]), state(row[1]));
            let valid = row[2] == "true";
            assert_eq!(from.can_transition_to(to), valid, "{from} -> {to}");
            n += 1;
        }
        assert_eq!(n, 64);
    }

    #[test]
    fn the_minimum_hash_goes_to_partition_zero() {
        assert_eq!(coordinator_partition("polygenelubricants", 50), 0);
        assert_eq!(coordinator_partition("hello", 50), 99_162_322 % 50);
    }
}

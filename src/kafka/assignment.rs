//! Where a new topic's replicas go: Kafka's rack-unaware assignment.
//!
//! Followed: `AdminUtils.assignReplicasToBrokersRackUnaware` (core/src/main/scala/kafka/admin/
//! AdminUtils.scala, Kafka ≤ 3.x; the same algorithm lives on in server-common's `AdminUtils`).
//! The first replica of partition p is broker `(p + start) mod n`; followers are shifted by a
//! second random offset that grows each time the partition id wraps around the broker list.

/// Replica lists for `partitions` partitions over `brokers` (ids in order), `replication_factor`
/// replicas each. `start_index` and `replica_shift` are Kafka's two random draws in `0..n`.
pub fn rack_unaware(
    brokers: &[u32],
    partitions: u32,
    replication_factor: u32,
    start_index: usize,
    replica_shift: usize,
) -> Vec<Vec<u32>> {
    assign_from(
        brokers,
        0,
        partitions,
        replication_factor,
        start_index,
        replica_shift,
    )
}

/// Replica lists for `added` partitions appended to a topic of `existing` partitions whose
/// partition 0 starts with broker `first_of_partition_0` (`AdminZkClient.createPartitions`: the
/// fixed start index is that broker's place in the list, and serves as the replica shift too, so
/// the placement is a function of the existing assignment). KRaft's `StripedReplicaPlacer` places
/// them at random; kafkasim keeps the deterministic ZooKeeper-era rule.
pub fn rack_unaware_added(
    brokers: &[u32],
    first_of_partition_0: u32,
    existing: u32,
    added: u32,
    replication_factor: u32,
) -> Vec<Vec<u32>> {
    let start = brokers
        .iter()
        .position(|b| *b >= first_of_partition_0)
        .unwrap_or(0);
    assign_from(brokers, existing, added, replication_factor, start, start)
}

/// `assignReplicasToBrokersRackUnaware` from partition id `first_partition` on.
fn assign_from(
    brokers: &[u32],
    first_partition: u32,
    partitions: u32,
    replication_factor: u32,
    start_index: usize,
    replica_shift: usize,
) -> Vec<Vec<u32>> {
    let n = brokers.len();
    assert!(n > 0 && replication_factor as usize <= n, "validated before");
    let mut shift = replica_shift;
    let first = first_partition as usize;
    (first..first + partitions as usize)
        .map(|p| {
            if p > 0 && p % n == 0 {
                shift += 1;
            }
            let first = (p + start_index) % n;
            let mut replicas = vec![brokers[first]];
            for j in 0..replication_factor as usize - 1 {
                let offset = 1 + (shift + j) % (n - 1);
                replicas.push(brokers[(first + offset) % n]);
            }
            replicas
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Kafka's `AdminTest.testReplicaAssignment`: brokers 0..4, 10 partitions, RF 3, fixed start 0.
    #[test]
    fn matches_kafka_admin_test_vector() {
        let got = rack_unaware(&[0, 1, 2, 3, 4], 10, 3, 0, 0);
        let expected: Vec<Vec<u32>> = vec![
            vec![0, 1, 2],
            vec![1, 2, 3],
            vec![2, 3, 4],
            vec![3, 4, 0],
            vec![4, 0, 1],
            vec![0, 2, 3],
            vec![1, 3, 4],
            vec![2, 4, 0],
            vec![3, 0, 1],
            vec![4, 1, 2],
        ];
        assert_eq!(got, expected);
    }

    /// Kafka's `AdminTest.testReplicaAssignment` again, split: partitions 5..9 added to a topic
    /// whose first five were placed with start 0 get the same replicas as in one go (the shift
    /// has grown by one at partition 5, as it would have).
    #[test]
    fn added_partitions_continue_the_existing_placement() {
        let brokers = [0, 1, 2, 3, 4];
        let all = rack_unaware(&brokers, 10, 3, 0, 0);
        assert_eq!(rack_unaware_added(&brokers, 0, 5, 5, 3), all[5..]);
    }

    #[test]
    fn single_replica_walks_the_brokers_from_the_start_index() {
        assert_eq!(
            rack_unaware(&[1, 2, 3], 4, 1, 2, 0),
            vec![vec![3], vec![1], vec![2], vec![3]]
        );
    }
}

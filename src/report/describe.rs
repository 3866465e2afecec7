//! `kafka-topics --describe`, line for line as Kafka 4.0's `TopicCommand` prints it
//! (tools/src/main/java/org/apache/kafka/tools/TopicCommand.java). ELR is off by default in
//! 4.0, hence `Elr: N/A`.

use crate::kafka::protocol::{ClusterMetadata, broker_list};
use crate::scenario::Scenario;
use crate::sim::RngTree;
use std::fmt::Write;

/// A topic id like Kafka's (a random UUID in URL-safe base64), drawn from the seed.
fn topic_id(seed: u64, name: &str) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    let mut rng = RngTree::new(seed).fork(&format!("topic-id/{name}"));
    let bits = (u128::from(rng.next_u64()) << 64) | u128::from(rng.next_u64());
    // 22 six-bit digits cover the 128 bits (the last digit holds the low 2 bits, shifted).
    let padded = bits << 4;
    (0..22)
        .map(|i| ALPHABET[((padded >> (126 - 6 * i)) & 63) as usize] as char)
        .collect()
}

/// The description of every topic, as the cluster's metadata shows them.
pub fn describe_topics(scenario: &Scenario, seed: u64, md: &ClusterMetadata) -> String {
    let mut out = String::new();
    for (t, topic) in scenario.topics.iter().enumerate() {
        if topic.internal {
            // As `kafka-topics --describe --exclude-internal`: __consumer_offsets is noise here.
            continue;
        }
        let partitions = &md.topics[t];
        let rf = partitions.first().map_or(0, |p| p.replicas.len());
        let configs = topic.config.describe(&scenario.cluster.config);
        let _ = writeln!(
            out,
            "Topic: {}\tTopicId: {}\tPartitionCount: {}\tReplicationFactor: {rf}\tConfigs: {configs}",
            topic.name,
            topic_id(seed, &topic.name),
            partitions.len()
        );
        for (p, state) in partitions.iter().enumerate() {
            let leader = state.leader.map_or("none".to_string(), |b| b.to_string());
            let _ = writeln!(
                out,
                "\tTopic: {}\tPartition: {p}\tLeader: {leader}\tReplicas: {}\tIsr: {}\tElr: N/A\tLastKnownElr: N/A",
                topic.name,
                broker_list(&state.replicas),
                broker_list(&state.isr)
            );
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::topic_id;

    #[test]
    fn topic_ids_look_like_kafkas() {
        let id = topic_id(7, "orders");
        assert_eq!(id.len(), 22);
        assert!(
            id.chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
        );
        assert_eq!(id, topic_id(7, "orders"));
        assert_ne!(id, topic_id(8, "orders"));
    }
}

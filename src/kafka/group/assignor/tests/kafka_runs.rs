//! Random groups run through Kafka's own assignor classes (`kafka-runs.txt`, its header says
//! how): every strategy must give each member the same list, in the same order, and the same
//! transferring partitions. These exercise the emulated Java `HashMap` orders far beyond the
//! hand-written vectors.

use crate::kafka::group::assignor::{Member, Strategy, TopicPartition, assign};
use std::collections::BTreeMap;

/// `topic:0,topic:1` or `-`.
fn partitions(text: &str) -> Vec<TopicPartition> {
    if text == "-" {
        return Vec::new();
    }
    text.split(',')
        .map(|tp| {
            let (topic, p) = tp.rsplit_once(':').expect("topic:partition");
            TopicPartition::new(topic, p.parse().expect("a partition number"))
        })
        .collect()
}

/// `-` or the text.
fn optional(text: &str) -> Option<&str> {
    (text != "-").then_some(text)
}

/// One case of the file.
#[derive(Default)]
struct Case {
    name: String,
    topics: BTreeMap<String, u32>,
    members: Vec<Member>,
    /// Per strategy: (member, its list) in file order.
    results: BTreeMap<String, Vec<(String, Vec<TopicPartition>)>>,
    /// Per strategy: `topic:p=member` entries, sorted.
    transferring: BTreeMap<String, Vec<String>>,
}

impl Case {
    /// What differs from Kafka's results, one line each.
    fn mismatches(&self) -> Vec<String> {
        let mut found = Vec::new();
        for s in Strategy::ALL {
            let Some(results) = self.results.get(s.name()) else {
                continue;
            };
            let got = assign(s, &self.topics, &self.members);
            for (id, want) in results {
                let have = got.partitions(id).unwrap_or_default();
                if have != want.as_slice() {
                    found.push(format!(
                        "{} {s} {id}: Kafka {want:?}, kafkasim {have:?}",
                        self.name
                    ));
                }
            }
            if let Some(want) = self.transferring.get(s.name()) {
                let mut have: Vec<String> = got
                    .transferring
                    .iter()
                    .map(|t| format!("{}:{}={}", t.partition.topic, t.partition.partition, t.to))
                    .collect();
                have.sort();
                if have != *want {
                    found.push(format!(
                        "{} {s} transferring: Kafka {want:?}, kafkasim {have:?}",
                        self.name
                    ));
                }
            }
        }
        found
    }
}

/// Parses the file format.
fn cases(text: &str) -> Vec<Case> {
    let mut all = Vec::new();
    let mut case = Case::default();
    for line in text.lines().filter(|l| !l.starts_with('#') && !l.is_empty()) {
        let w: Vec<&str> = line.split(' ').collect();
        match w[0] {
            "case" => case.name = format!("case {}", w[1]),
            "topics" => {
                for entry in &w[1..] {
                    let (name, count) = entry.split_once('=').expect("NAME=COUNT");
                    case.topics
                        .insert(name.to_string(), count.parse().expect("a count"));
                }
            }
            "member" => case.members.push(Member {
                member_id: w[1].to_string(),
                group_instance_id: optional(w[2]).map(String::from),
                generation: optional(w[3]).map(|g| g.parse().expect("a generation")),
                // The file's eager members send no generationId in their subscription.
                subscription_generation: None,
                topics: w[4].split(',').map(String::from).collect(),
                owned_partitions: partitions(w[5]),
            }),
            "result" => case
                .results
                .entry(w[1].to_string())
                .or_default()
                .push((w[2].to_string(), partitions(w[3]))),
            "transferring" => {
                let mut entries: Vec<String> = optional(w[2])
                    .map(|t| t.split(',').map(String::from).collect())
                    .unwrap_or_default();
                entries.sort();
                case.transferring.insert(w[1].to_string(), entries);
            }
            "end" => all.push(std::mem::take(&mut case)),
            other => panic!("unknown line kind {other:?}: {line}"),
        }
    }
    all
}

/// Every mismatch over the cases of `text`, and how many cases there were.
fn compare(text: &str) -> (Vec<String>, usize) {
    let cases = cases(text);
    let found = cases.iter().flat_map(Case::mismatches).collect();
    (found, cases.len())
}

#[test]
fn every_strategy_matches_kafka_on_random_groups() {
    let (found, count) = compare(include_str!("kafka-runs.txt"));
    assert_eq!(count, 42);
    assert!(
        found.is_empty(),
        "{} mismatches:\n{}",
        found.len(),
        found.join("\n")
    );
}

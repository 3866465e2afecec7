//! Topics that gain partitions (`AddPartitions`, Kafka's `CreatePartitions`): placement, who
//! hosts the new replicas, when clients notice, and the controller's refusals.

use crate::support::run_traced;
use kafkasim::check::check;
use kafkasim::kafka::assignment::rack_unaware_added;
use kafkasim::kafka::record::Tp;
use kafkasim::scenario::Scenario;
use kafkasim::simulation::RunResult;
use kafkasim::trace::TraceFormat;

/// Keyed records to `orders` (3 partitions, 2 replicas on 3 brokers) and the given faults.
fn scenario(producer_config: &str, faults: &str) -> Scenario {
    let text = format!(
        r#"Scenario(name: "t", description: "t", seed: 1, duration: "5s",
            cluster: (brokers: 3, network: (latency: "2ms")),
            topics: [ (name: "orders", partitions: 3, replication_factor: 2) ],
            producers: [ (id: "p1", config: {{ "linger.ms": 5 {producer_config} }},
                          workload: (topic: "orders", keys: ["Costco", "Walmart", "Target", "BestBuy"],
                                     records: 400, rate: "100/s", start: "200ms")) ],
            faults: [ {faults} ])"#
    );
    Scenario::parse("t.ron", &text).unwrap_or_else(|e| panic!("{e}"))
}

fn trace_lines<'r>(r: &'r RunResult, kind: &str) -> Vec<&'r str> {
    r.trace
        .as_deref()
        .expect("traced")
        .lines()
        .filter(|l| l.split_whitespace().nth(2) == Some(kind))
        .collect()
}

#[test]
fn new_partitions_continue_the_placement_and_their_brokers_host_them() {
    let s = scenario(
        "",
        r#"(at: "1s", fault: AddPartitions(topic: "orders", count: 6))"#,
    );
    let r = run_traced(&s, TraceFormat::Text, None);
    let topic = &r.metadata.topics[0];
    assert_eq!(topic.len(), 6);
    let first_of_0 = topic[0].replicas[0];
    let expected = rack_unaware_added(&[1, 2, 3], first_of_0, 3, 3, 2);
    for (i, replicas) in expected.iter().enumerate() {
        let state = &topic[3 + i];
        assert_eq!(&state.replicas, replicas);
        assert_eq!(state.isr, *replicas, "every replica is live");
        assert_eq!(state.leader, Some(replicas[0]));
        let tp = Tp {
            topic: 0,
            partition: 3 + i as u32,
        };
        for b in replicas {
            assert!(r.replica_logs.contains_key(&(tp, *b)), "broker {b} hosts {tp:?}");
        }
    }
    assert_eq!(
        trace_lines(&r, "partitions"),
        ["  1000.000ms  controller  partitions orders grows from 3 to 6 partitions"]
    );
}

#[test]
fn the_producer_maps_keys_by_the_new_count_only_after_a_metadata_refresh() {
    let faults = r#"(at: "2s", fault: AddPartitions(topic: "orders", count: 4))"#;
    // Refreshed every second: three of the four keys move (Costco 2 -> 1, Walmart 1 -> 2,
    // BestBuy 0 -> 2; Target stays at 1), and not before the refresh after 2 s.
    let fast = scenario(r#", "metadata.max.age.ms": 1000"#, faults);
    let r = run_traced(&fast, TraceFormat::Text, None);
    let moved = check(&fast, &r).key_moved;
    assert_eq!(moved.len(), 3);
    let refresh = trace_lines(&r, "metadata")
        .into_iter()
        .find(|l| l.contains("orders-3="))
        .expect("the producer learns partition 3");
    let learned_at: f64 = refresh
        .split_whitespace()
        .next()
        .and_then(|t| t.trim_end_matches("ms").parse().ok())
        .expect("a time");
    assert!(learned_at > 2000.0);
    for f in &moved {
        let sent = r.history.producers[0].records[f.record.seq as usize]
            .sent_at()
            .expect("sent");
        assert!(sent.as_us() as f64 / 1000.0 >= learned_at, "{}", f.headline);
    }
    // Kafka's default metadata.max.age.ms (5 minutes) and no errors: the producer never
    // learns of the new partition within the run, and no key moves.
    let slow = scenario("", faults);
    let r = run_traced(&slow, TraceFormat::Text, None);
    assert!(check(&slow, &r).key_moved.is_empty());
}

#[test]
fn a_count_that_does_not_grow_the_topic_is_refused_with_kafkas_message() {
    // Listed first but fired last, so validation (in file order) cannot see the conflict.
    let faults = r#"(at: "3s", fault: AddPartitions(topic: "orders", count: 5)),
                    (at: "1s", fault: AddPartitions(topic: "orders", count: 6))"#;
    let s = scenario("", faults);
    let r = run_traced(&s, TraceFormat::Text, None);
    assert_eq!(
        trace_lines(&r, "partitions"),
        [
            "  1000.000ms  controller  partitions orders grows from 3 to 6 partitions",
            "  3000.000ms  controller  partitions orders not changed: INVALID_PARTITIONS Topic currently has 6 partitions, which is higher than the requested 5.",
        ]
    );
    assert_eq!(r.metadata.topics[0].len(), 6);
}

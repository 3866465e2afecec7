//! The cost model: link bandwidth and a broker's network and I/O threads make requests take time,
//! so queues form under load and batching pays.

use kafkasim::report::metrics::ProducerFigures;
use kafkasim::scenario::Scenario;
use kafkasim::simulation::{RunOptions, RunResult, run};

/// One broker, `producers` producers each sending `records` of `value_bytes` at `rate` to
/// their own partition; `cluster` holds extra cluster fields, `config` producer entries.
fn scenario(cluster: &str, producers: u32, config: &str, workload: &str) -> Scenario {
    let producers: Vec<String> = (1..=producers)
        .map(|i| {
            format!(
                r#"(id: "p{i}", config: {{ "enable.idempotence": false, "acks": "1", {config} }},
                    workload: (topic: "t", {workload}))"#
            )
        })
        .collect();
    let text = format!(
        r#"Scenario(
            name: "costs", description: "x", seed: 1, duration: "5s",
            cluster: (brokers: 1, {cluster}),
            topics: [ (name: "t", partitions: 1) ],
            producers: [ {} ],
        )"#,
        producers.join(", ")
    );
    Scenario::parse("costs.ron", &text).unwrap_or_else(|e| panic!("{e}"))
}

fn quiet(s: &Scenario) -> RunResult {
    run(
        s,
        &RunOptions {
            trace: None,
            ..RunOptions::default()
        },
    )
}

/// Every acknowledged record's send-to-ack latency in µs, sorted (as the summary computes it).
fn latencies(r: &RunResult) -> Vec<u64> {
    let each: Vec<ProducerFigures> = r.history.producers.iter().map(ProducerFigures::of).collect();
    ProducerFigures::merged(&each).latencies
}

#[test]
fn a_record_takes_its_size_over_the_link_bandwidth_each_way_it_travels() {
    // One 100,000-byte record over 8 Mbit/s (one byte per µs) with 1 ms latency: the request
    // alone takes 100 ms on the wire, the response is small.
    let s = scenario(
        r#"network: (latency: "1ms", bandwidth: "8Mbit/s")"#,
        1,
        r#""linger.ms": 0"#,
        r#"records: 1, rate: "1/s", value_bytes: 100000"#,
    );
    let r = quiet(&s);
    let l = latencies(&r);
    assert_eq!(l.len(), 1);
    assert!((101_000..103_000).contains(&l[0]), "latency {} µs", l[0]);
    let unlimited = scenario(
        r#"network: (latency: "1ms", bandwidth: "unlimited")"#,
        1,
        r#""linger.ms": 0"#,
        r#"records: 1, rate: "1/s", value_bytes: 100000"#,
    );
    let fast = latencies(&quiet(&unlimited));
    assert!(fast[0] < 3_000, "without a bandwidth limit: {} µs", fast[0]);
}

#[test]
fn requests_queue_when_the_brokers_io_threads_are_busy() {
    // Eight producers, each 2,000 records/s with linger.ms=0, 1 ms per request: eight I/O threads
    // keep up, one cannot and requests wait for it.
    let run_with = |threads: u32| {
        let cluster =
            format!(r#"config: {{ "num.io.threads": {threads}, "kafkasim.request.time.us": 1000 }}"#);
        let s = scenario(&cluster, 8, r#""linger.ms": 0"#, r#"records: 2000, rate: "2/ms""#);
        let l = latencies(&quiet(&s));
        (l.len(), l[l.len() * 99 / 100])
    };
    let (acked_8, p99_8) = run_with(8);
    let (acked_1, p99_1) = run_with(1);
    assert_eq!((acked_8, acked_1), (16_000, 16_000));
    assert!(p99_8 < 10_000, "8 threads: p99 {p99_8} µs");
    assert!(p99_1 > 3 * p99_8, "1 thread: p99 {p99_1} µs vs {p99_8} µs with 8");
}

#[test]
fn replication_costs_the_follower_time_per_byte_before_acks_all_can_answer() {
    // At 1 MiB/s per thread, a record of a tenth of a MiB takes the leader's I/O thread 100 ms
    // to append, and the follower's fetcher thread another 100 ms: acks=all waits for both.
    let latency = |acks: &str| {
        let text = format!(
            r#"Scenario(
                name: "costs", description: "x", seed: 1, duration: "5s",
                cluster: (brokers: 2, config: {{ "kafkasim.io.thread.mib.per.s": 1 }},
                          network: (bandwidth: "unlimited")),
                topics: [ (name: "t", partitions: 1, replication_factor: 2) ],
                producers: [ (id: "p1", config: {{ "acks": "{acks}", "enable.idempotence": false }},
                              workload: (topic: "t", records: 1, rate: "1/s", value_bytes: 104857,
                                         start: "200ms")) ],
            )"#
        );
        let s = Scenario::parse("costs.ron", &text).unwrap_or_else(|e| panic!("{e}"));
        latencies(&quiet(&s))[0]
    };
    let (one, all) = (latency("1"), latency("all"));
    assert!((100_000..110_000).contains(&one), "acks=1: {one} µs");
    assert!(all >= one + 100_000, "acks=all: {all} µs, acks=1: {one} µs");
}

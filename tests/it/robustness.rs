//! Issue 11 point 12: inputs at the edges of their ranges run (or are refused with a located
//! message), and cost what the run uses, not what the scenario declares.

use crate::support::kafkasim;
use kafkasim::scenario::Scenario;
use kafkasim::simulation::{RunOptions, run};

fn quiet() -> RunOptions {
    RunOptions {
        trace: None,
        ..RunOptions::default()
    }
}

/// Every user-given duration, size and count at the top of its documented range, at once: the
/// run must end without a panic (debug builds check every integer overflow). Fuzzing found
/// `jitter: "18446744073709551615us"` panicking in `below(0)`.
#[test]
fn extreme_values_run_without_overflow() {
    let extreme_links = (
        r#"network: (latency: "18446744073709551615us", jitter: "18446744073709551615us", bandwidth: "1bit/s")"#,
        r#""kafkasim.request.time.us": 2147483647"#,
    );
    // Links and handlers fast enough that records flow, so the sizes and counts are used.
    let flowing = (
        r#"network: (latency: "1ms", jitter: "1ms")"#,
        r#""kafkasim.request.time.us": 0"#,
    );
    for (network, request_time) in [extreme_links, flowing] {
        let text = EXTREMES
            .replace("NETWORK", network)
            .replace("REQUEST_TIME", request_time);
        let s = Scenario::parse("extremes.ron", &text).unwrap_or_else(|e| panic!("{e}"));
        let r = run(&s, &quiet());
        assert!(r.stopped_early.is_none(), "{:?}", r.stopped_early);
        assert_eq!(r.end.as_us(), 200_000, "{network}");
    }
}

const EXTREMES: &str = r#"Scenario(
        name: "extremes",
        description: "every knob at its maximum",
        seed: 3,
        duration: "200ms",
        cluster: (
            brokers: 3,
            config: {
                "replica.lag.time.max.ms": 9223372036854775807,
                "replica.fetch.wait.max.ms": 2147483647,
                "replica.socket.timeout.ms": 2147483647,
                "replica.fetch.backoff.ms": 2147483647,
                "replica.fetch.max.bytes": 2147483647,
                "replica.fetch.min.bytes": 2147483647,
                "leader.imbalance.check.interval.seconds": 9223372036854775807,
                "log.flush.interval.ms": 9223372036854775807,
                "log.flush.interval.messages": 9223372036854775807,
                "group.initial.rebalance.delay.ms": 2147483647,
                "num.io.threads": 2147483647,
                "num.network.threads": 2147483647,
                REQUEST_TIME,
                "kafkasim.io.thread.mib.per.s": 1,
                "kafkasim.network.thread.mib.per.s": 1,
            },
            NETWORK,
        ),
        topics: [ (name: "t", partitions: 3, replication_factor: 3) ],
        producers: [
            (id: "p1",
             config: {
                "enable.idempotence": false,
                "linger.ms": 9223372036854775807,
                "batch.size": 2147483647,
                "buffer.memory": 9223372036854775807,
                "max.block.ms": 9223372036854775807,
                "max.request.size": 2147483647,
                "request.timeout.ms": 2147483647,
                "delivery.timeout.ms": 2147483647,
                "retry.backoff.ms": 9223372036854775807,
                "retry.backoff.max.ms": 9223372036854775807,
                "reconnect.backoff.ms": 9223372036854775807,
                "reconnect.backoff.max.ms": 9223372036854775807,
                "socket.connection.setup.timeout.ms": 9223372036854775807,
                "metadata.max.age.ms": 9223372036854775807,
             },
             workload: (topic: "t", keys: ["a", "b"], records: 100000000, rate: "1000000/s", value_bytes: 104857600)),
        ],
        consumers: [
            (id: "c1", group: "g", topics: ["t"],
             config: {
                "max.poll.records": 2147483647,
                "fetch.max.wait.ms": 2147483647,
                "fetch.max.bytes": 2147483647,
                "max.partition.fetch.bytes": 2147483647,
                "auto.commit.interval.ms": 2147483647,
                "max.poll.interval.ms": 2147483647,
             }),
        ],
        faults: [
            (at: "100ms", fault: Pause(node: Broker(1), for: "18446744073709551615us")),
            (at: "150ms", fault: SlowLink(nodes: (Broker(2), Broker(3)), extra_latency: "18446744073709551615us")),
        ],
    )"#;

/// Runs `kafkasim` with `args` in a process whose address space is capped at `mib` MiB (POSIX
/// `ulimit -v`), so a test can tell an allocation that follows the declared sizes from one that
/// follows the run.
fn kafkasim_capped(mib: u64, args: &[&str]) -> std::process::Output {
    let bin = kafkasim().get_program().to_owned();
    std::process::Command::new("sh")
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .arg("-c")
        .arg(format!("ulimit -v {} && exec \"$0\" \"$@\"", mib * 1024))
        .arg(bin)
        .args(args)
        .output()
        .expect("sh runs")
}

/// Writes `text` as `name` in a scratch directory: its path.
fn scenario_file(name: &str, text: &str) -> String {
    let dir = crate::support::scratch_dir(name);
    let path = dir.join(format!("{name}.ron"));
    std::fs::write(&path, text).expect("scratch dir is writable");
    path.to_string_lossy().into_owned()
}

/// Fuzzing found `"num.io.threads": 2147483647` (and `num.network.threads`) allocating 17 GB
/// per broker before the first event; the threads cost what the busy ones cost.
#[test]
fn a_huge_thread_count_costs_only_the_threads_in_use() {
    let path = scenario_file(
        "huge-threads",
        r#"Scenario(
            name: "huge-threads",
            description: "2^31 - 1 network and I/O threads on each of three brokers",
            seed: 1,
            duration: "1s",
            cluster: (brokers: 3, config: { "num.io.threads": 2147483647, "num.network.threads": 2147483647 }),
            topics: [ (name: "t", partitions: 3, replication_factor: 3) ],
            producers: [ (id: "p1", workload: (topic: "t", records: 100, rate: "100/s", value_bytes: 100)) ],
        )"#,
    );
    let out = kafkasim_capped(1024, &["run", &path, "--no-trace"]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(stdout.contains("  p1             100     100"), "{stdout}");
}

/// `records: 100000000` at `1/s` in a 1 s run took 3.1 GB, and eight such producers aborted:
/// the history held an entry per declared record. Now it holds the records produced.
#[test]
fn memory_follows_the_records_sent_not_the_records_declared() {
    let producers: Vec<String> = (1..=8)
        .map(|i| {
            format!(
                r#"(id: "p{i}", workload: (topic: "t", records: 100000000, rate: "1/s", value_bytes: 10))"#
            )
        })
        .collect();
    let text = format!(
        r#"Scenario(
            name: "declared-not-sent",
            description: "eight producers declare 10^8 records each and send one a second",
            seed: 1,
            duration: "1s",
            cluster: (brokers: 1),
            topics: [ (name: "t", partitions: 1) ],
            producers: [ {} ],
        )"#,
        producers.join(",\n")
    );
    let s = Scenario::parse("declared-not-sent.ron", &text).unwrap_or_else(|e| panic!("{e}"));
    let r = run(&s, &quiet());
    for ph in &r.history.producers {
        // One record a second: send() at 0 s and at 1 s, the end of the run; only the first has
        // had the time to be acknowledged.
        assert_eq!((ph.sent, ph.acked, ph.records.len()), (2, 1, 2));
    }
    // 8 × 10^8 records at 32 bytes would need 25 GB; the run fits in 1 GiB.
    let path = scenario_file("declared-not-sent", &text);
    let out = kafkasim_capped(1024, &["run", &path, "--no-trace"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
}

/// Fuzzing found a producer with zero connection timeouts and backoffs connecting and failing
/// forever at 0.000 ms, growing ~270 B per event up to `--max-events`: a run that stands still
/// for `STALL_EVENTS` events stops with exit code 3, naming the loop and the configs behind it.
#[test]
fn a_zero_time_livelock_stops_with_what_loops_and_why() {
    for fault in [
        r#"(at: "0s", fault: Crash(broker: 1))"#,
        r#"(at: "0s", fault: Isolate(node: Broker(1)))"#,
    ] {
        let text = format!(
            r#"Scenario(
                name: "zero-backoff-livelock",
                description: "a producer that reconnects without any time passing",
                seed: 1,
                duration: "10s",
                cluster: (brokers: 1),
                topics: [ (name: "t", partitions: 1) ],
                producers: [
                    (id: "p1",
                     config: {{ "socket.connection.setup.timeout.ms": 0, "reconnect.backoff.ms": 0,
                                "reconnect.backoff.max.ms": 0 }},
                     workload: (topic: "t", records: 10, rate: "10/s", value_bytes: 10)),
                ],
                faults: [ {fault} ],
            )"#
        );
        let path = scenario_file("zero-backoff-livelock", &text);
        let out = kafkasim_capped(1024, &["run", &path, "--no-trace"]);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(3), "{fault}: {stderr}");
        for needle in [
            "livelock: stopped after 1000000 events at 0.000ms",
            "p1 timer",
            "p1: socket.connection.setup.timeout.ms, reconnect.backoff.ms, reconnect.backoff.max.ms = 0",
        ] {
            assert!(stderr.contains(needle), "{fault}: no `{needle}` in {stderr}");
        }
    }
}

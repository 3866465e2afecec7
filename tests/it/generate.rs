//! Random small valid scenarios, as RON text, for the property tests: the parser reads what a
//! user would write.
//!
//! Ranges cover the schema's extremes where fuzzing found trouble (a jitter of `u64::MAX` µs,
//! zero timeouts and backoffs, `i32::MAX` threads, 10⁸ declared records) and stay small where
//! size only costs time in a debug build: 1–4 brokers, at most 8 partitions per topic, runs of
//! at most 3 s.

use proptest::collection::vec;
use proptest::prelude::*;
use proptest::sample::{Index, select, subsequence};
use std::fmt::Write;

/// A generated scenario, kept structured so that proptest shrinks it piece by piece.
#[derive(Clone, Debug)]
pub struct Generated {
    seed: u64,
    duration_ms: u64,
    brokers: u32,
    broker_config: Vec<(&'static str, String)>,
    latency_us: u64,
    jitter_us: u64,
    bandwidth_mbit: Option<u64>,
    topics: Vec<TopicSpec>,
    producers: Vec<ProducerSpec>,
    consumers: Vec<ConsumerSpec>,
    faults: Vec<FaultSpec>,
}

#[derive(Clone, Debug)]
struct TopicSpec {
    partitions: u32,
    replication_factor: u32,
    config: Vec<(&'static str, String)>,
}

#[derive(Clone, Debug)]
struct ProducerSpec {
    topic: usize,
    keys: u32,
    records: u64,
    rate_per_s: u64,
    value_bytes: u32,
    start_ms: u64,
    config: Vec<(&'static str, String)>,
}

#[derive(Clone, Debug)]
struct ConsumerSpec {
    group: Option<u32>,
    topics: Vec<usize>,
    start_ms: u64,
    processing_ms: u64,
    commit: Option<&'static str>,
    config: Vec<(&'static str, String)>,
}

/// A fault kind with the numbers it needs; targets are picked modulo what exists.
#[derive(Clone, Debug)]
enum FaultKind {
    Crash { broker: u32, lose_unflushed: bool },
    CrashConsumer(usize),
    Restart(u32),
    RestartConsumer(usize),
    ConsumerJoin(usize),
    ConsumerLeave(usize),
    Pause { node: u32, for_ms: u64 },
    ControlledShutdown(u32),
    Isolate(u32),
    Partition { cut: u32 },
    Heal,
    DropRequests { broker: u32, client: usize, count: u32 },
    DropResponses { broker: u32, client: usize, count: u32 },
    SlowLink { a: u32, b: u32, extra_ms: u64 },
    Reset { broker: u32, client: usize },
    AddPartitions { topic: usize, more: u32 },
}

#[derive(Clone, Debug)]
enum When {
    At(u64),
    Sent { producer: usize, records: u64 },
    Acked { producer: usize, records: u64 },
    Appended { topic: usize, offset: u64 },
}

#[derive(Clone, Debug)]
struct FaultSpec {
    when: When,
    kind: FaultKind,
}

/// A config entry drawn from `keys`, each key at most once.
fn entries(
    keys: Vec<BoxedStrategy<(&'static str, String)>>,
) -> impl Strategy<Value = Vec<(&'static str, String)>> {
    let n = keys.len();
    (keys, vec(any::<bool>(), n)).prop_map(|(all, pick)| {
        all.into_iter()
            .zip(pick)
            .filter_map(|(e, keep)| keep.then_some(e))
            .collect()
    })
}

/// An integer in `range`, its bounds more often than the rest (where the bugs are).
fn int(key: &'static str, range: std::ops::RangeInclusive<u64>) -> BoxedStrategy<(&'static str, String)> {
    let (lo, hi) = (*range.start(), *range.end());
    prop_oneof![1 => Just(lo), 1 => Just(hi), 4 => range]
        .prop_map(move |v| (key, v.to_string()))
        .boxed()
}

fn one_of(key: &'static str, values: &'static [&'static str]) -> BoxedStrategy<(&'static str, String)> {
    select(values)
        .prop_map(move |v| (key, format!("\"{v}\"")))
        .boxed()
}

fn flag(key: &'static str) -> BoxedStrategy<(&'static str, String)> {
    any::<bool>().prop_map(move |v| (key, v.to_string())).boxed()
}

fn broker_config() -> impl Strategy<Value = Vec<(&'static str, String)>> {
    entries(vec![
        int("min.insync.replicas", 1..=3),
        flag("unclean.leader.election.enable"),
        int("replica.lag.time.max.ms", 500..=30_000),
        int("replica.fetch.wait.max.ms", 1..=500),
        int("log.flush.interval.messages", 1..=10_000),
        int("log.flush.interval.ms", 1..=5_000),
        int("num.io.threads", 1..=2_147_483_647),
        int("num.network.threads", 1..=2_147_483_647),
        flag("auto.leader.rebalance.enable"),
        int("leader.imbalance.check.interval.seconds", 1..=300),
        one_of("kafkasim.truncation.rule", &["leader-epoch", "high-watermark"]),
        flag("kafkasim.min.isr.hw.gate"),
        int("group.initial.rebalance.delay.ms", 0..=3_000),
        int("broker.heartbeat.interval.ms", 10..=2_000),
    ])
}

fn topic_config() -> impl Strategy<Value = Vec<(&'static str, String)>> {
    entries(vec![
        int("min.insync.replicas", 1..=3),
        flag("unclean.leader.election.enable"),
    ])
}

/// Client network keys (`CommonClientConfigs`): timeouts and backoffs from 0 ms (all zero lets a
/// client reconnect forever at one instant: the run stops as a livelock), maxima at or above
/// their bases. `metadata.max.age.ms` may be 0.
fn client_net() -> impl Strategy<Value = Vec<(&'static str, String)>> {
    let backoffs = (0u64..=1_000, 0u64..=2_000, 0u64..=1_000, 0u64..=2_000).prop_map(|(r, rx, c, cx)| {
        vec![
            ("retry.backoff.ms", r.to_string()),
            ("retry.backoff.max.ms", (r + rx).to_string()),
            ("reconnect.backoff.ms", c.to_string()),
            ("reconnect.backoff.max.ms", (c + cx).to_string()),
        ]
    });
    (
        backoffs,
        any::<bool>(),
        entries(vec![
            int("socket.connection.setup.timeout.ms", 0..=10_000),
            int("metadata.max.age.ms", 0..=300_000),
        ]),
    )
        .prop_map(|(b, keep, mut rest)| {
            if keep {
                rest.extend(b);
            }
            rest
        })
}

/// Producer keys (`ProducerConfig`), valid together: idempotence set explicitly only with what it
/// needs (acks=all, retries > 0, at most 5 in flight), `delivery.timeout.ms` at least
/// `linger.ms + request.timeout.ms`.
fn producer_config() -> impl Strategy<Value = Vec<(&'static str, String)>> {
    let timing = (0u64..=100, 0u64..=30_000, 0u64..=120_000).prop_map(|(linger, request, extra)| {
        vec![
            ("linger.ms", linger.to_string()),
            ("request.timeout.ms", request.to_string()),
            ("delivery.timeout.ms", (linger + request + extra).to_string()),
        ]
    });
    let delivery = prop_oneof![
        (
            select(&["\"1\"", "\"0\"", "\"all\"", "-1"][..]),
            0u64..=10,
            1u64..=10
        )
            .prop_map(|(acks, retries, in_flight)| vec![
                ("enable.idempotence", "false".to_string()),
                ("acks", acks.to_string()),
                ("retries", retries.to_string()),
                ("max.in.flight.requests.per.connection", in_flight.to_string()),
            ]),
        (1u64..=2_147_483_647, 1u64..=5).prop_map(|(retries, in_flight)| vec![
            ("enable.idempotence", "true".to_string()),
            ("acks", "\"all\"".to_string()),
            ("retries", retries.to_string()),
            ("max.in.flight.requests.per.connection", in_flight.to_string()),
        ]),
        Just(Vec::new()),
    ];
    let sizes = entries(vec![
        int("batch.size", 0..=32_768),
        int("buffer.memory", 1_024..=33_554_432),
        int("max.block.ms", 0..=60_000),
        int("max.request.size", 2_048..=1_048_576),
        flag("partitioner.ignore.keys"),
    ]);
    (delivery, prop::option::of(timing), sizes, client_net()).prop_map(|(d, t, s, n)| {
        let mut all = d;
        all.extend(t.unwrap_or_default());
        all.extend(s);
        all.extend(n);
        all
    })
}

/// Consumer keys (`ConsumerConfig`), valid together: the heartbeat below the session timeout,
/// the session timeout within the group's bounds (6 s to 30 min).
fn consumer_config() -> impl Strategy<Value = Vec<(&'static str, String)>> {
    let session = (6_000u64..=45_000, 1u64..=100).prop_map(|(session, share)| {
        vec![
            ("session.timeout.ms", session.to_string()),
            (
                "heartbeat.interval.ms",
                (session * share / 101).max(1).to_string(),
            ),
        ]
    });
    let keys = entries(vec![
        one_of("auto.offset.reset", &["earliest", "latest", "none"]),
        int("fetch.min.bytes", 1..=1_000),
        int("fetch.max.wait.ms", 0..=500),
        int("max.poll.records", 1..=500),
        int("max.partition.fetch.bytes", 1_024..=1_048_576),
        int("max.poll.interval.ms", 1_000..=300_000),
        flag("enable.auto.commit"),
        int("auto.commit.interval.ms", 1..=5_000),
        one_of(
            "partition.assignment.strategy",
            &["range", "roundrobin", "sticky", "cooperative-sticky"],
        ),
    ]);
    (prop::option::of(session), keys, client_net()).prop_map(|(s, k, n)| {
        let mut all = s.unwrap_or_default();
        all.extend(k);
        all.extend(n);
        all
    })
}

fn fault_kind() -> impl Strategy<Value = FaultKind> {
    prop_oneof![
        (1u32..=4, any::<bool>()).prop_map(|(broker, lose_unflushed)| FaultKind::Crash {
            broker,
            lose_unflushed
        }),
        (0usize..3).prop_map(FaultKind::CrashConsumer),
        (1u32..=4).prop_map(FaultKind::Restart),
        (0usize..3).prop_map(FaultKind::RestartConsumer),
        (0usize..3).prop_map(FaultKind::ConsumerJoin),
        (0usize..3).prop_map(FaultKind::ConsumerLeave),
        (0u32..8, 1u64..=2_000).prop_map(|(node, for_ms)| FaultKind::Pause { node, for_ms }),
        (1u32..=4).prop_map(FaultKind::ControlledShutdown),
        (0u32..8).prop_map(FaultKind::Isolate),
        (1u32..=4).prop_map(|cut| FaultKind::Partition { cut }),
        Just(FaultKind::Heal),
        (1u32..=4, 0usize..6, 1u32..=5).prop_map(|(broker, client, count)| FaultKind::DropRequests {
            broker,
            client,
            count
        }),
        (1u32..=4, 0usize..6, 1u32..=5).prop_map(|(broker, client, count)| FaultKind::DropResponses {
            broker,
            client,
            count
        }),
        (0u32..8, 0u32..8, 1u64..=200).prop_map(|(a, b, extra_ms)| FaultKind::SlowLink { a, b, extra_ms }),
        (1u32..=4, 0usize..6).prop_map(|(broker, client)| FaultKind::Reset { broker, client }),
        (0usize..3, 1u32..=3).prop_map(|(topic, more)| FaultKind::AddPartitions { topic, more }),
    ]
}

fn when() -> impl Strategy<Value = When> {
    prop_oneof![
        4 => (0u64..=3_000).prop_map(When::At),
        1 => (0usize..3, 1u64..=50).prop_map(|(producer, records)| When::Sent { producer, records }),
        1 => (0usize..3, 1u64..=50).prop_map(|(producer, records)| When::Acked { producer, records }),
        1 => (0usize..3, 0u64..=50).prop_map(|(topic, offset)| When::Appended { topic, offset }),
    ]
}

prop_compose! {
    fn topic(brokers: u32)(partitions in 1u32..=8, replication_factor in 1..=brokers, config in topic_config()) -> TopicSpec {
        TopicSpec { partitions, replication_factor, config }
    }
}

prop_compose! {
    fn producer(topics: usize)(
        topic in 0..topics,
        keys in 0u32..=4,
        records in prop_oneof![4 => 1u64..=2_000, 1 => Just(100_000_000)],
        rate_per_s in 10u64..=2_000,
        value_bytes in 1u32..=1_000,
        start_ms in 0u64..=500,
        config in producer_config(),
    ) -> ProducerSpec {
        ProducerSpec { topic, keys, records, rate_per_s, value_bytes, start_ms, config }
    }
}

prop_compose! {
    fn consumer(topics: usize)(
        group in prop::option::of(0u32..2),
        chosen in subsequence((0..topics).collect::<Vec<_>>(), 1..=topics),
        start_ms in 0u64..=1_000,
        processing_ms in 0u64..=100,
        commit in prop::option::of(select(&["Auto", "BeforeProcessing", "AfterProcessing"][..])),
        config in consumer_config(),
    ) -> ConsumerSpec {
        let commit = commit.filter(|_| group.is_some());
        ConsumerSpec { group, topics: chosen, start_ms, processing_ms, commit, config }
    }
}

/// Random small valid scenarios: 1–4 brokers, 1–3 topics of 1–8 partitions, 0–3 producers,
/// 0–3 consumers (with and without groups), 0–4 faults of every kind.
pub fn scenario() -> impl Strategy<Value = Generated> {
    (1u32..=4, 1usize..=3).prop_flat_map(|(brokers, topics)| {
        (
            (any::<u64>(), 100u64..=3_000, broker_config()),
            (
                0u64..=10_000,
                prop_oneof![4 => 0u64..=100_000, 1 => Just(u64::MAX)],
                prop::option::of(1u64..=1_000),
            ),
            vec(topic(brokers), topics),
            vec(producer(topics), 0..=3),
            vec(consumer(topics), 0..=3),
            vec(
                (when(), fault_kind()).prop_map(|(when, kind)| FaultSpec { when, kind }),
                0..=4,
            ),
        )
            .prop_map(
                move |(base, net, topics, producers, consumers, faults)| Generated {
                    seed: base.0,
                    duration_ms: base.1,
                    brokers,
                    broker_config: base.2,
                    latency_us: net.0,
                    jitter_us: net.1,
                    bandwidth_mbit: net.2,
                    topics,
                    producers,
                    consumers,
                    faults,
                },
            )
    })
}

fn config_map(entries: &[(&'static str, String)]) -> String {
    let inner: Vec<String> = entries.iter().map(|(k, v)| format!("\"{k}\": {v}")).collect();
    format!("{{ {} }}", inner.join(", "))
}

impl Generated {
    /// The scenario file.
    pub fn text(&self) -> String {
        let mut s = String::new();
        let _ = writeln!(s, "Scenario(");
        let _ = writeln!(s, "    name: \"generated\",");
        let _ = writeln!(s, "    description: \"A random small scenario.\",");
        let _ = writeln!(s, "    seed: {},", self.seed);
        let _ = writeln!(s, "    duration: \"{}ms\",", self.duration_ms);
        let bandwidth = self
            .bandwidth_mbit
            .map_or(String::new(), |b| format!(", bandwidth: \"{b}Mbit/s\""));
        // Groups need `__consumer_offsets`, replicated on at most the brokers there are.
        let mut broker_config = self.broker_config.clone();
        broker_config.push((
            "offsets.topic.replication.factor",
            self.brokers.min(3).to_string(),
        ));
        let _ = writeln!(
            s,
            "    cluster: (brokers: {}, config: {},\n              network: (latency: \"{}us\", jitter: \"{}us\"{bandwidth})),",
            self.brokers,
            config_map(&broker_config),
            self.latency_us,
            self.jitter_us
        );
        let _ = writeln!(s, "    topics: [");
        for (i, t) in self.topics.iter().enumerate() {
            let _ = writeln!(
                s,
                "        (name: \"t{i}\", partitions: {}, replication_factor: {}, config: {}),",
                t.partitions,
                t.replication_factor,
                config_map(&t.config)
            );
        }
        let _ = writeln!(s, "    ],");
        let _ = writeln!(s, "    producers: [");
        for (i, p) in self.producers.iter().enumerate() {
            let keys = match p.keys {
                0 => String::new(),
                n => {
                    let names: Vec<String> = (0..n).map(|k| format!("\"k{k}\"")).collect();
                    format!("keys: [{}], ", names.join(", "))
                }
            };
            let _ = writeln!(
                s,
                "        (id: \"p{i}\", config: {},\n         workload: (topic: \"t{}\", {keys}records: {}, rate: \"{}/s\", value_bytes: {}, start: \"{}ms\")),",
                config_map(&p.config),
                p.topic,
                p.records,
                p.rate_per_s,
                p.value_bytes,
                p.start_ms
            );
        }
        let _ = writeln!(s, "    ],");
        let _ = writeln!(s, "    consumers: [");
        for (i, c) in self.consumers.iter().enumerate() {
            let group = c.group.map_or(String::new(), |g| format!("group: \"g{g}\", "));
            let topics: Vec<String> = c.topics.iter().map(|t| format!("\"t{t}\"")).collect();
            let commit = c.commit.map_or(String::new(), |m| format!(", commit: {m}"));
            let _ = writeln!(
                s,
                "        (id: \"c{i}\", {group}topics: [{}], start: \"{}ms\", processing: \"{}ms\"{commit},\n         config: {}),",
                topics.join(", "),
                c.start_ms,
                c.processing_ms,
                config_map(&c.config)
            );
        }
        let _ = writeln!(s, "    ],");
        let _ = writeln!(s, "    faults: [");
        let mut partitions: Vec<u32> = self.topics.iter().map(|t| t.partitions).collect();
        for f in &self.faults {
            if let Some(line) = self.fault(f, &mut partitions) {
                let _ = writeln!(s, "        {line},");
            }
        }
        let _ = writeln!(s, "    ],");
        let _ = writeln!(s, ")");
        s
    }

    /// Node names: brokers, the controller, then clients.
    fn node(&self, n: u32) -> String {
        let clients = self.clients();
        let all = self.brokers as usize + 1 + clients.len();
        match n as usize % all {
            b if b < self.brokers as usize => format!("Broker({})", b + 1),
            b if b == self.brokers as usize => "Controller".to_string(),
            c => format!("Client(\"{}\")", clients[c - self.brokers as usize - 1]),
        }
    }

    fn clients(&self) -> Vec<String> {
        let producers = (0..self.producers.len()).map(|i| format!("p{i}"));
        producers
            .chain((0..self.consumers.len()).map(|i| format!("c{i}")))
            .collect()
    }

    fn broker(&self, b: u32) -> u32 {
        (b - 1) % self.brokers + 1
    }

    /// One fault entry, or `None` when it names a client or topic the scenario lacks.
    /// `partitions` counts each topic's partitions after the faults so far, as `AddPartitions`
    /// gives the new total.
    fn fault(&self, f: &FaultSpec, partitions: &mut [u32]) -> Option<String> {
        let consumer =
            |i: usize| (!self.consumers.is_empty()).then(|| format!("c{}", i % self.consumers.len()));
        let client = |i: usize| {
            let all = self.clients();
            (!all.is_empty()).then(|| all[i % all.len()].clone())
        };
        let fault = match &f.kind {
            FaultKind::Crash {
                broker,
                lose_unflushed,
            } => format!(
                "Crash(broker: {}, lose_unflushed: {lose_unflushed})",
                self.broker(*broker)
            ),
            FaultKind::CrashConsumer(c) => format!("Crash(consumer: \"{}\")", consumer(*c)?),
            FaultKind::Restart(b) => format!("Restart(broker: {})", self.broker(*b)),
            FaultKind::RestartConsumer(c) => format!("Restart(consumer: \"{}\")", consumer(*c)?),
            FaultKind::ConsumerJoin(c) => format!("ConsumerJoin(consumer: \"{}\")", consumer(*c)?),
            FaultKind::ConsumerLeave(c) => format!("ConsumerLeave(consumer: \"{}\")", consumer(*c)?),
            FaultKind::Pause { node, for_ms } => {
                format!("Pause(node: {}, for: \"{for_ms}ms\")", self.node(*node))
            }
            FaultKind::ControlledShutdown(b) => format!("ControlledShutdown(broker: {})", self.broker(*b)),
            FaultKind::Isolate(n) => format!("Isolate(node: {})", self.node(*n)),
            FaultKind::Partition { cut } => {
                let cut = cut % self.brokers.max(2);
                let side = |range: std::ops::RangeInclusive<u32>| {
                    range
                        .map(|b| format!("Broker({b})"))
                        .collect::<Vec<_>>()
                        .join(", ")
                };
                let mut right = side(cut + 1..=self.brokers);
                for c in self.clients() {
                    right.push_str(&format!(", Client(\"{c}\")"));
                }
                let right = right.trim_start_matches(", ").to_string();
                if cut == 0 || right.is_empty() {
                    return None;
                }
                format!("Partition(groups: [[{}], [{right}]])", side(1..=cut))
            }
            FaultKind::Heal => "Heal".to_string(),
            FaultKind::DropRequests {
                broker,
                client: c,
                count,
            } => format!(
                "DropRequests(broker: {}, client: \"{}\", count: {count})",
                self.broker(*broker),
                client(*c)?
            ),
            FaultKind::DropResponses {
                broker,
                client: c,
                count,
            } => format!(
                "DropResponses(broker: {}, client: \"{}\", count: {count})",
                self.broker(*broker),
                client(*c)?
            ),
            FaultKind::SlowLink { a, b, extra_ms } => {
                let (a, b) = (self.node(*a), self.node(*b));
                if a == b {
                    return None;
                }
                format!("SlowLink(nodes: ({a}, {b}), extra_latency: \"{extra_ms}ms\")")
            }
            FaultKind::Reset { broker, client: c } => {
                format!(
                    "Reset(broker: {}, client: \"{}\")",
                    self.broker(*broker),
                    client(*c)?
                )
            }
            FaultKind::AddPartitions { topic, more } => {
                let t = topic % self.topics.len();
                partitions[t] += more;
                format!("AddPartitions(topic: \"t{t}\", count: {})", partitions[t])
            }
        };
        let trigger = match &f.when {
            When::At(ms) => format!("at: \"{}ms\"", ms.min(&self.duration_ms)),
            When::Sent { producer, records } | When::Acked { producer, records } => {
                if self.producers.is_empty() {
                    return None;
                }
                let p = producer % self.producers.len();
                let records = (*records).min(self.producers[p].records);
                let what = if matches!(f.when, When::Sent { .. }) {
                    "Sent"
                } else {
                    "Acked"
                };
                format!("after: {what}(producer: \"p{p}\", records: {records})")
            }
            When::Appended { topic, offset } => {
                let t = topic % self.topics.len();
                format!("after: Appended(topic: \"t{t}\", partition: 0, offset: {offset})")
            }
        };
        Some(format!("({trigger}, fault: {fault})"))
    }
}

/// One change to a scenario's text.
#[derive(Clone, Debug)]
pub enum Mutation {
    /// Replace the byte at a position.
    FlipByte(Index, u8),
    /// Delete up to `n` bytes from a position.
    Delete(Index, usize),
    /// Repeat up to `n` bytes from a position right after them.
    Duplicate(Index, usize),
    /// Replace the n-th number with an extreme one.
    ExtremeNumber(Index, &'static str),
    /// Cut the text at a position.
    Truncate(Index),
    /// Replace the n-th identifier or string with a near miss.
    NearMiss(Index, NearMiss),
}

/// How a near miss differs from the word.
#[derive(Clone, Copy, Debug)]
pub enum NearMiss {
    DropChar,
    SwapChars,
    Uppercase,
    ExtraChar,
}

/// Numbers at the edges of every integer type, and past them.
const EXTREMES: &[&str] = &[
    "0",
    "-1",
    "1",
    "255",
    "65536",
    "2147483647",
    "2147483648",
    "4294967295",
    "4294967296",
    "9223372036854775807",
    "18446744073709551615",
    "18446744073709551616",
    "999999999999999999999999",
    "1e308",
    "-0",
    "0.5",
];

fn mutation() -> impl Strategy<Value = Mutation> {
    prop_oneof![
        (any::<Index>(), any::<u8>()).prop_map(|(i, b)| Mutation::FlipByte(i, b)),
        (any::<Index>(), 1usize..=40).prop_map(|(i, n)| Mutation::Delete(i, n)),
        (any::<Index>(), 1usize..=80).prop_map(|(i, n)| Mutation::Duplicate(i, n)),
        (any::<Index>(), select(EXTREMES)).prop_map(|(i, n)| Mutation::ExtremeNumber(i, n)),
        any::<Index>().prop_map(Mutation::Truncate),
        (
            any::<Index>(),
            select(
                &[
                    NearMiss::DropChar,
                    NearMiss::SwapChars,
                    NearMiss::Uppercase,
                    NearMiss::ExtraChar
                ][..]
            )
        )
            .prop_map(|(i, m)| Mutation::NearMiss(i, m)),
    ]
}

/// A bundled scenario (by index into `count` of them) and one to three mutations.
pub fn mutations(count: usize) -> impl Strategy<Value = (usize, Vec<Mutation>)> {
    (0..count, vec(mutation(), 1..=3))
}

/// Byte ranges of the runs of `bytes` that `is_part` accepts.
fn runs(bytes: &[u8], is_part: impl Fn(u8) -> bool) -> Vec<(usize, usize)> {
    let mut out = Vec::new();
    let mut start = None;
    for (i, b) in bytes.iter().enumerate() {
        match (is_part(*b), start) {
            (true, None) => start = Some(i),
            (false, Some(s)) => {
                out.push((s, i));
                start = None;
            }
            _ => {}
        }
    }
    if let Some(s) = start {
        out.push((s, bytes.len()));
    }
    out
}

fn replace(bytes: &mut Vec<u8>, (start, end): (usize, usize), with: &[u8]) {
    bytes.splice(start..end, with.iter().copied());
}

impl Mutation {
    /// Applies the mutation to `bytes`.
    pub fn apply(&self, bytes: &mut Vec<u8>) {
        if bytes.is_empty() {
            return;
        }
        let len = bytes.len();
        match self {
            Mutation::FlipByte(i, b) => bytes[i.index(len)] = *b,
            Mutation::Delete(i, n) => {
                let at = i.index(len);
                bytes.drain(at..(at + n).min(len));
            }
            Mutation::Duplicate(i, n) => {
                let at = i.index(len);
                let piece: Vec<u8> = bytes[at..(at + n).min(len)].to_vec();
                replace(bytes, (at, at), &piece);
            }
            Mutation::ExtremeNumber(i, n) => {
                let numbers = runs(bytes, |b| b.is_ascii_digit());
                if !numbers.is_empty() {
                    replace(bytes, numbers[i.index(numbers.len())], n.as_bytes());
                }
            }
            Mutation::Truncate(i) => bytes.truncate(i.index(len)),
            Mutation::NearMiss(i, how) => {
                let words = runs(bytes, |b| b.is_ascii_alphanumeric() || b == b'_' || b == b'.');
                if words.is_empty() {
                    return;
                }
                let (start, end) = words[i.index(words.len())];
                let mut word = bytes[start..end].to_vec();
                match how {
                    NearMiss::DropChar => {
                        word.remove(word.len() / 2);
                    }
                    NearMiss::SwapChars if word.len() > 1 => word.swap(0, 1),
                    NearMiss::SwapChars => word.push(b'x'),
                    NearMiss::Uppercase => word.make_ascii_uppercase(),
                    NearMiss::ExtraChar => word.insert(word.len() / 2, b'e'),
                }
                replace(bytes, (start, end), &word);
            }
        }
    }
}

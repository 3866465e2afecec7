//! Command-line definitions (clap derive only; the work is in `kafkasim::commands`).

use clap::{Parser, Subcommand, ValueEnum};
use std::path::PathBuf;

const EXAMPLES: &str = "\
Examples:
  kafkasim list                                        the bundled scenarios
  kafkasim run scenarios/reorder-inflight-5.ron        trace + summary of one run
  kafkasim run reorder-inflight-5 --seed 3 --out out   write the trace, summary and charts to out/
  kafkasim run acks1-leader-crash-loss --set acks=all  the same scenario with a producer setting changed
  kafkasim check scenarios/                            run every scenario, verify `expect`
  kafkasim check-history h.jsonl --scenario s.ron      verify `expect` on a recorded history
  kafkasim matrix acks1-leader-crash-loss --seeds 20   lost/failed/duplicated/reordered, 24 settings
  kafkasim sweep linger-batching --vary linger.ms=0,5,50   throughput and latency per setting
  kafkasim describe scenarios/acks0-crash-loss.ron --at 3s
  kafkasim partition --partitions 10 Costco Walmart Target BestBuy
  kafkasim assign --strategy range --partitions orders=6,payments=3 c1:orders,payments c2:orders
  kafkasim configs producer                            supported keys and Kafka's defaults

Exit codes: 0 ok, 1 an expectation failed, 2 invalid input.";

/// A deterministic simulator of an Apache Kafka cluster, for labs and for replaying ordering and
/// durability bugs from a seed.
#[derive(Parser, Debug)]
#[command(name = "kafkasim", version, about, after_help = EXAMPLES)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Clone, Copy, Debug, ValueEnum)]
pub enum TraceFormatArg {
    /// Fixed-width columns.
    Text,
    /// One JSON object per line.
    Jsonl,
}

#[derive(Clone, Copy, Debug, ValueEnum)]
pub enum PartitionFormatArg {
    /// An aligned table with the murmur2 hash.
    Text,
    /// key<TAB>partition per line.
    Tsv,
}

#[derive(Clone, Copy, Debug, ValueEnum)]
pub enum AssignFormatArg {
    /// A table: each member's partitions by topic, then the count per member.
    Text,
    /// {"member": {"topic": [partitions]}} on one line.
    Json,
}

#[derive(Clone, Copy, Debug, ValueEnum)]
pub enum ConfigSetArg {
    Producer,
    Consumer,
    Broker,
    Topic,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Run a scenario: print its trace and summary.
    #[command(after_help = "Example:\n  kafkasim run scenarios/reorder-inflight-5.ron --seed 7 --out out/")]
    Run {
        /// Scenario file, or the name of a bundled scenario.
        file: String,
        /// Use this seed instead of the scenario's.
        #[arg(long)]
        seed: Option<u64>,
        /// Write summary.txt, trace.txt (or trace.jsonl) and SVG charts (charts/*.svg) into
        /// this directory.
        #[arg(long, value_name = "DIR")]
        out: Option<PathBuf>,
        /// With --out, write each chart as PNG too.
        #[arg(long, requires = "out")]
        png: bool,
        /// Write the run's history (every send, outcome, read, commit and partition state, and
        /// the logs at the end) to this file, in the JSONL format `check-history` reads.
        #[arg(long, value_name = "FILE")]
        history: Option<PathBuf>,
        /// Stop at this simulated time (e.g. 500ms) instead of the scenario's duration.
        #[arg(long, value_name = "T")]
        until: Option<String>,
        /// Trace format.
        #[arg(long, value_enum, default_value = "text")]
        format: TraceFormatArg,
        /// Do not record a trace (faster).
        #[arg(long)]
        no_trace: bool,
        /// Stop after this many events.
        #[arg(long, value_name = "N", default_value_t = kafkasim::simulation::DEFAULT_MAX_EVENTS)]
        max_events: u64,
        /// Set a Kafka config in every config block that has the key, as if the file said so
        /// (repeatable), e.g. --set acks=all.
        #[arg(long = "set", value_name = "KEY=VALUE")]
        set: Vec<String>,
        /// Treat warnings (settings that break a cluster, faults that do nothing) as errors:
        /// exit 2 without running.
        #[arg(long)]
        deny_warnings: bool,
    },
    /// Run scenarios and verify their `expect` entries (exit 1 if one misses).
    #[command(after_help = "Example:\n  kafkasim check scenarios/")]
    Check {
        /// Scenario files, directories, or bundled names.
        #[arg(required = true)]
        paths: Vec<String>,
        /// Use this seed instead of each scenario's.
        #[arg(long)]
        seed: Option<u64>,
        /// Stop each run after this many events (the check then fails).
        #[arg(long, value_name = "N", default_value_t = kafkasim::simulation::DEFAULT_MAX_EVENTS)]
        max_events: u64,
        /// Set a Kafka config in every config block that has the key, as if each file said so
        /// (repeatable), e.g. --set acks=all.
        #[arg(long = "set", value_name = "KEY=VALUE")]
        set: Vec<String>,
        /// Treat warnings (settings that break a cluster, faults that do nothing) as errors: a
        /// scenario with warnings counts as invalid (exit 2) and does not run.
        #[arg(long)]
        deny_warnings: bool,
    },
    /// Run the checkers and a scenario's `expect` over a history file (from `run --history` or
    /// recorded on a real cluster); exit 1 if an expectation misses.
    #[command(
        name = "check-history",
        after_help = "Example:\n  kafkasim run acks-all-leader-crash-no-loss --history h.jsonl\n  kafkasim check-history h.jsonl --scenario acks-all-leader-crash-no-loss"
    )]
    CheckHistory {
        /// The history file (JSONL, format version 1: see the book's chapter \"History files\").
        history: String,
        /// The scenario the history is a run of (file or bundled name): topic and client names,
        /// and the expectations.
        #[arg(long, value_name = "SCENARIO")]
        scenario: String,
        /// A state check (Leader, Isr, Assignment) also holds if its state held within this
        /// much of its moment, e.g. 3s: for histories recorded in real time.
        #[arg(long, value_name = "T")]
        tolerance: Option<String>,
        /// Print one JSON object: each expectation's verdict (`ok`: true, false, or null when
        /// the history cannot decide it), what was found, and the kind of bound.
        #[arg(long)]
        json: bool,
    },
    /// Replay a scenario's faults with every acks x enable.idempotence x max.in.flight x retries
    /// setting, over many seeds: a table of lost, failed, duplicated and reordered records.
    #[command(
        long_about = "Replay a scenario's faults with every combination of the producer settings that decide\n\
delivery guarantees, given to every producer as if the file said so:\n  \
acks {0, 1, all} x enable.idempotence {off, on} x max.in.flight.requests.per.connection {1, 5}\n  \
x retries {0, max}\n\
Each combination runs with --seeds seeds. A row shows how many records were lost, failed,\n\
duplicated and reordered at worst, the guarantee the runs showed, and the seed of the worst run; a reproduce:\n\
line under the table replays it. Combinations that Kafka's producer rejects are listed as\n\
skipped, with Kafka's message. Runs spread over every core; the output is the same for any --threads.",
        after_help = "Example:\n  kafkasim matrix scenarios/acks1-leader-crash-loss.ron --seeds 20"
    )]
    Matrix {
        /// Scenario file, or the name of a bundled scenario.
        file: String,
        /// Runs per combination (1 to 100000), with seeds S, S+1, ..., S+N-1.
        #[arg(long, value_name = "N", default_value_t = kafkasim::commands::DEFAULT_SEEDS)]
        seeds: u64,
        /// The first seed S (default: the scenario's).
        #[arg(long, value_name = "S")]
        seed: Option<u64>,
        /// Worker threads (default: every core); the output is the same for any number.
        #[arg(long, value_name = "N")]
        threads: Option<usize>,
        /// Treat warnings (settings that break a cluster, faults that do nothing) as errors:
        /// exit 2 without running.
        #[arg(long)]
        deny_warnings: bool,
    },
    /// Run a scenario with every combination of config values (--vary KEY=V1,V2,...): a table of
    /// records/s, p50/p99 latency, requests, records per batch and what the checkers found.
    #[command(
        long_about = "Run a scenario with every combination of the config values given with --vary, each set\n\
in every config block that has the key (as --set does). One row per combination: records/s\n\
(acknowledged records from the first send() to the last acknowledgement), p50/p99\n\
send-to-acknowledgement latency, produce requests, records per batch, and the largest number\n\
of lost, duplicated and reordered records. --throughput-of and --latency-of pick the\n\
producer each figure comes from (default: every producer together). Combinations Kafka\n\
rejects are listed as skipped, with Kafka's message. Runs spread over every core, with a\n\
progress line on a terminal; the output is the same for any --threads.",
        after_help = "Example:\n  kafkasim sweep tuning-throughput-latency --vary acks=1,all --vary linger.ms=0,20 \\\n      --vary batch.size=16384,131072 --throughput-of bulk --latency-of probe"
    )]
    Sweep {
        /// Scenario file, or the name of a bundled scenario.
        file: String,
        /// A config key and its values, e.g. linger.ms=0,5,50 (repeatable; the first is the
        /// outermost loop).
        #[arg(long, value_name = "KEY=V1,V2,...", required = true)]
        vary: Vec<String>,
        /// Runs per combination, with seeds S, S+1, ..., S+N-1.
        #[arg(long, value_name = "N", default_value_t = 1)]
        seeds: u64,
        /// The first seed S (default: the scenario's).
        #[arg(long, value_name = "S")]
        seed: Option<u64>,
        /// Worker threads (default: every core); the output is the same for any number.
        #[arg(long, value_name = "N")]
        threads: Option<usize>,
        /// Take records/s, requests and records per batch from this producer only.
        #[arg(long, value_name = "ID")]
        throughput_of: Option<String>,
        /// Take the latency from this producer only.
        #[arg(long, value_name = "ID")]
        latency_of: Option<String>,
        /// Write sweep.txt (the table) and sweep-throughput-latency.svg (records/s against p99
        /// latency, one point per combination) into this directory.
        #[arg(long, value_name = "DIR")]
        out: Option<PathBuf>,
        /// With --out, also write the chart as PNG.
        #[arg(long, requires = "out")]
        png: bool,
        /// Treat warnings (settings that break a cluster, faults that do nothing) as errors:
        /// exit 2 without running.
        #[arg(long)]
        deny_warnings: bool,
    },
    /// Show the topics like `kafka-topics --describe`, the consumer groups like
    /// `kafka-consumer-groups --describe` and the transactional ids like `kafka-transactions
    /// --describe` (times in ms of simulated time), at the end of a run or at --at T.
    #[command(after_help = "Example:\n  kafkasim describe scenarios/acks0-crash-loss.ron --at 3s")]
    Describe {
        /// Scenario file, or the name of a bundled scenario.
        file: String,
        /// Simulated time to look at (default: the end).
        #[arg(long, value_name = "T")]
        at: Option<String>,
        /// Use this seed instead of the scenario's.
        #[arg(long)]
        seed: Option<u64>,
        /// Treat warnings (settings that break a cluster, faults that do nothing) as errors:
        /// exit 2 without running.
        #[arg(long)]
        deny_warnings: bool,
        /// Print every broker's replicas with their sizes, as `kafka-log-dirs --describe` does,
        /// instead of the topics and groups.
        #[arg(long)]
        log_dirs: bool,
    },
    /// The partition Kafka's producer picks for each key (murmur2, as in Kafka's client).
    #[command(
        after_help = "Examples:\n  kafkasim partition --partitions 10 Costco Walmart\n  kafkasim partition --partitions 3,6 Costco Walmart Target BestBuy\n  printf 'a\\nb\\n' | kafkasim partition --partitions 6 --format tsv"
    )]
    Partition {
        /// Partition count(s), comma-separated to compare.
        #[arg(
            long,
            short = 'p',
            value_delimiter = ',',
            required = true,
            value_name = "N[,N...]"
        )]
        partitions: Vec<u32>,
        /// Output format.
        #[arg(long, value_enum, default_value = "text")]
        format: PartitionFormatArg,
        /// Keys (UTF-8). Without keys, reads one key per line from stdin, verbatim.
        keys: Vec<String>,
    },
    /// The partitions each consumer of a group gets from an assignor (partition.assignment.strategy),
    /// as Kafka's group leader computes them.
    #[command(
        long_about = "The partitions each consumer of a group gets from one of Kafka's assignors, computed without\n\
a run, bit-exact with Kafka's client: range, roundrobin, sticky or cooperative-sticky\n\
(partition.assignment.strategy). Members are listed, and range and roundrobin serve them, in\n\
Kafka's member order: static members (ID@INSTANCE) by group.instance.id, then the others by\n\
member id, compared as strings (c10 before c2). The members own no partitions yet, so sticky\n\
and cooperative-sticky give a group's first assignment.",
        after_help = "Examples:\n  kafkasim assign --strategy range --partitions orders=6,payments=3 c1:orders,payments c2:orders\n  kafkasim assign --strategy roundrobin --partitions orders=6,payments=3 c1:orders,payments c2:orders --format json\n  kafkasim assign --strategy range --partitions t=5 consumer1:t consumer2:t consumer10:t"
    )]
    Assign {
        /// range, roundrobin, sticky or cooperative-sticky.
        #[arg(long, short = 's', value_name = "NAME")]
        strategy: String,
        /// Partition count of each topic, comma-separated (at most 10000 partitions in all).
        #[arg(
            long,
            short = 'p',
            value_delimiter = ',',
            required = true,
            value_name = "TOPIC=N[,TOPIC=N...]"
        )]
        partitions: Vec<String>,
        /// Output format.
        #[arg(long, value_enum, default_value = "text")]
        format: AssignFormatArg,
        /// Members in JoinGroup order: ID:TOPIC[,TOPIC...], or ID@INSTANCE:TOPIC[,TOPIC...] for a
        /// static member.
        #[arg(required = true, value_name = "MEMBER")]
        members: Vec<String>,
    },
    /// Print the scenario as resolved JSON: each topic's replica lists (drawn from the seed), the
    /// settings of the brokers, topics and clients as Kafka properties, the workloads, faults
    /// and expectations. What `conformance/run` replays on a real Kafka cluster.
    #[command(after_help = "Example:\n  kafkasim plan acks1-leader-crash-loss --set acks=all")]
    Plan {
        /// Scenario file, or the name of a bundled scenario.
        file: String,
        /// Use this seed instead of the scenario's (it decides replica lists not written).
        #[arg(long)]
        seed: Option<u64>,
        /// Set a Kafka config in every config block that has the key, as if the file said so
        /// (repeatable), e.g. --set acks=all.
        #[arg(long = "set", value_name = "KEY=VALUE")]
        set: Vec<String>,
    },
    /// List the bundled scenarios.
    List,
    /// Print the supported config keys with Kafka's defaults and valid values.
    Configs {
        /// Only this set.
        #[arg(value_enum)]
        set: Option<ConfigSetArg>,
    },
}

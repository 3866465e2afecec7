//! Command-line definitions (clap derive only; the work is in `kafkasim::commands`).

use clap::{Parser, Subcommand, ValueEnum};
use std::path::PathBuf;

const EXAMPLES: &str = "\
Examples:
  kafkasim list                                        the bundled scenarios
  kafkasim run scenarios/reorder-inflight-5.ron        trace + summary of one run
  kafkasim run reorder-inflight-5 --seed 3 --out out   write trace.txt and summary.txt to out/
  kafkasim check scenarios/                            run every scenario, verify `expect`
  kafkasim describe scenarios/acks0-crash-loss.ron --at 3s
  kafkasim partition --partitions 10 Costco Walmart Target BestBuy
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
        /// Write summary.txt and trace.txt (or trace.jsonl) into this directory.
        #[arg(long, value_name = "DIR")]
        out: Option<PathBuf>,
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
    },
    /// Show the topics like `kafka-topics --describe`, at the end of a run or at --at T.
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
    /// List the bundled scenarios.
    List,
    /// Print the supported config keys with Kafka's defaults and valid values.
    Configs {
        /// Only this set.
        #[arg(value_enum)]
        set: Option<ConfigSetArg>,
    },
}

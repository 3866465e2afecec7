//! What the replicas hold on disk: each partition's log (start and end offsets, size, segments)
//! under `kafkasim describe`, and every broker's replicas as `kafka-log-dirs --describe` prints
//! them (tools/src/main/java/org/apache/kafka/tools/LogDirsCommand.java, Kafka 4.0.1).

use crate::scenario::Scenario;
use crate::simulation::RunResult;
use std::fmt::Write;

/// Kafka's default `log.dirs`: every broker's one log directory.
const LOG_DIR: &str = "/tmp/kafka-logs";

/// Each partition's log as the replica that has it (its running leader's) holds it; internal
/// topics left out, as in `kafka-topics --describe --exclude-internal`.
pub fn describe_logs(scenario: &Scenario, result: &RunResult) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "\n{:<24} {:>16} {:>14} {:>14} {:>12} {:>8}",
        "PARTITION", "LOG-START-OFFSET", "LOG-END-OFFSET", "HIGH-WATERMARK", "SIZE", "SEGMENTS"
    );
    for (tp, log) in &result.logs {
        if scenario.topics[tp.topic as usize].internal {
            continue;
        }
        let _ = writeln!(
            out,
            "{:<24} {:>16} {:>14} {:>14} {:>12} {:>8}",
            result.names.tp(*tp),
            log.log_start_offset(),
            log.log_end_offset(),
            log.high_watermark(),
            log.size_bytes(),
            log.segments().len()
        );
    }
    out
}

/// `kafka-log-dirs --describe`: per live broker, per replica its size in bytes and `offsetLag`,
/// which Kafka computes against the replica's own high watermark, `max(HW - LEO, 0)`
/// (`ReplicaManager.getLogEndOffsetLag`): 0 for every replica that is not a future one.
pub fn describe_log_dirs(result: &RunResult) -> String {
    let brokers = &result.metadata.live_brokers;
    let list: Vec<String> = brokers.iter().map(u32::to_string).collect();
    let mut json = String::from("{\"version\":1,\"brokers\":[");
    for (i, b) in brokers.iter().enumerate() {
        let partitions: Vec<String> = result
            .replica_logs
            .iter()
            .filter(|((_, broker), _)| broker == b)
            .map(|((tp, _), log)| {
                let lag = log.high_watermark().saturating_sub(log.log_end_offset());
                format!(
                    "{{\"partition\":\"{}\",\"size\":{},\"offsetLag\":{lag},\"isFuture\":false}}",
                    result.names.tp(*tp),
                    log.size_bytes()
                )
            })
            .collect();
        let _ = write!(
            json,
            "{}{{\"broker\":{b},\"logDirs\":[{{\"logDir\":\"{LOG_DIR}\",\"error\":null,\"partitions\":[{}]}}]}}",
            if i == 0 { "" } else { "," },
            partitions.join(",")
        );
    }
    json.push_str("]}");
    format!(
        "Querying brokers for log directories information\nReceived log directory information from brokers {}\n{json}\n",
        list.join(",")
    )
}

//! The run summary: producers, partitions, consumers, config notes, checker findings and
//! expectations.

use super::metrics::ProducerFigures;
use crate::check::keys::{self, KeyPlacement};
use crate::check::{CheckReport, Finding, describe_outcome, explain};
use crate::kafka::protocol::broker_list;
use crate::scenario::{ProducerSpec, Scenario};
use crate::sim::SimDuration;
use crate::simulation::RunResult;
use std::fmt::Write;

/// Findings shown per checker (with their explanation); the rest are counted.
const SHOWN_FINDINGS: usize = 5;

fn ms(us: Option<u64>) -> String {
    us.map_or("-".to_string(), |u| SimDuration::from_us(u).to_string())
}

/// The summary text of a run.
pub fn summary(scenario: &Scenario, result: &RunResult, checks: &CheckReport) -> String {
    let mut s = String::new();
    let _ = writeln!(s, "scenario {}: {}", scenario.name, scenario.description);
    let _ = writeln!(
        s,
        "seed {}, simulated {}, {} events",
        result.seed,
        SimDuration::from_us(result.end.as_us()).human(),
        result.events
    );
    if let Some(why) = &result.stopped_early {
        let _ = writeln!(s, "INCOMPLETE: {why}");
    }
    producers(&mut s, scenario, result);
    idempotence(&mut s, scenario, result);
    super::summary_transactions(&mut s, scenario, result);
    partitions(&mut s, scenario, result);
    consumers(&mut s, scenario, result);
    super::summary_groups(&mut s, scenario, result);
    key_moves(&mut s, result);
    notes(&mut s, scenario);
    ignored(&mut s, scenario);
    findings(&mut s, scenario, result, checks);
    if !checks.expectations.is_empty() {
        let _ = writeln!(s, "\nexpectations");
        for o in &checks.expectations {
            let _ = writeln!(s, "  {}", describe_outcome(o));
        }
    }
    s
}

fn producers(s: &mut String, scenario: &Scenario, result: &RunResult) {
    if scenario.producers.is_empty() {
        return;
    }
    let _ = writeln!(
        s,
        "\nproducers\n  {:<10} {:>7} {:>7} {:>7} {:>7} {:>7} {:>8} {:>9} {:>11} {:>11} {:>11}",
        "id", "sent", "acked", "failed", "pending", "retries", "requests", "rec/batch", "p50", "p99", "max"
    );
    for (p, spec) in scenario.producers.iter().enumerate() {
        let h = &result.history.producers[p];
        let f = ProducerFigures::of(h);
        let per_batch = f.records_per_batch_tenths().map_or("-".to_string(), |tenths| {
            format!("{}.{}", tenths / 10, tenths % 10)
        });
        let _ = writeln!(
            s,
            "  {:<10} {:>7} {:>7} {:>7} {:>7} {:>7} {:>8} {:>9} {:>11} {:>11} {:>11}",
            spec.id,
            h.sent,
            f.acked,
            f.failed,
            f.pending,
            h.retries,
            h.requests,
            per_batch,
            ms(f.p50()),
            ms(f.p99()),
            ms(f.latencies.last().copied())
        );
    }
}

/// Each partition's leader, offsets and replicas; with a transactional producer, the last
/// stable offset (what `read_committed` consumers read up to) beside the high watermark.
fn partitions(s: &mut String, scenario: &Scenario, result: &RunResult) {
    let lso = super::transactional(scenario);
    let lso_header = if lso {
        format!(" {:>8}", "LSO")
    } else {
        String::new()
    };
    let _ = writeln!(
        s,
        "\npartitions\n  {:<16} {:<9} {:>5} {:>9} {:>8} {:>8}{lso_header}  {:<9} isr",
        "partition", "leader", "epoch", "log-start", "LEO", "HW", "replicas"
    );
    for (tp, log) in &result.logs {
        let state = result.metadata.partition(*tp);
        let leader = state
            .and_then(|p| p.leader)
            .map_or("none".to_string(), |b| format!("broker-{b}"));
        let ids = |list: Option<&Vec<u32>>| format!("[{}]", broker_list(list.map_or(&[], Vec::as_slice)));
        let stable = if lso {
            format!(" {:>8}", log.last_stable_offset())
        } else {
            String::new()
        };
        let _ = writeln!(
            s,
            "  {:<16} {:<9} {:>5} {:>9} {:>8} {:>8}{stable}  {:<9} {}",
            result.names.tp(*tp),
            leader,
            state.map_or(0, |p| p.leader_epoch),
            log.log_start_offset(),
            log.log_end_offset(),
            log.high_watermark(),
            ids(state.map(|p| &p.replicas)),
            ids(state.map(|p| &p.isr))
        );
    }
}

fn consumers(s: &mut String, scenario: &Scenario, result: &RunResult) {
    if scenario.consumers.is_empty() {
        return;
    }
    let _ = writeln!(s, "\nconsumers\n  {:<10} {:>9}  positions", "id", "consumed");
    for (i, c) in scenario.consumers.iter().enumerate() {
        let consumed = result
            .history
            .consumed
            .iter()
            .filter(|r| r.consumer == i as u32)
            .count();
        let positions: Vec<String> = result.consumer_positions[i]
            .iter()
            .map(|(tp, p)| {
                format!(
                    "{}={}",
                    result.names.tp(*tp),
                    p.map_or("none".to_string(), |o| o.to_string())
                )
            })
            .collect();
        let _ = writeln!(s, "  {:<10} {:>9}  {}", c.id, consumed, positions.join(" "));
        for (at, _, why) in result
            .history
            .consumer_failures
            .iter()
            .filter(|f| f.1 == i as u32)
        {
            let _ = writeln!(s, "    failed at {at}: {why}");
        }
    }
}

/// Which producers are idempotent, with their id and epoch, and which had it silently
/// disabled by Kafka's rules; shown only when some producer asked for idempotence.
fn idempotence(s: &mut String, scenario: &Scenario, result: &RunResult) {
    const DISABLED: &str = "Idempotence will be disabled because ";
    let disabled = |p: &ProducerSpec| {
        p.config.notes.iter().find_map(|n| {
            n.strip_prefix(DISABLED)
                .map(|why| why.trim_end_matches('.').to_string())
        })
    };
    if !scenario
        .producers
        .iter()
        .any(|p| p.config.idempotence || disabled(p).is_some())
    {
        return;
    }
    let _ = writeln!(s, "\nidempotence");
    for (p, ph) in scenario.producers.iter().zip(&result.history.producers) {
        let state = match (p.config.idempotence, ph.identity, disabled(p)) {
            (true, Some(id), _) => {
                let bumps = match ph.epoch_bumps {
                    0 => String::new(),
                    1 => ", after 1 epoch bump".to_string(),
                    n => format!(", after {n} epoch bumps"),
                };
                format!("on: producer id {}, epoch {}{bumps}", id.id, id.epoch)
            }
            (true, None, _) => "on: no producer id obtained".to_string(),
            (false, _, Some(why)) => format!("off: Kafka disabled it because {why}"),
            (false, _, None) => "off".to_string(),
        };
        let _ = writeln!(s, "  {:<10} {state}", p.id);
    }
}

/// For each topic that gained partitions: every key's partition before and after (its first and
/// last partition), how many of its records went to each, and the fraction of keys that moved.
fn key_moves(s: &mut String, result: &RunResult) {
    if result.history.partition_counts.is_empty() {
        return;
    }
    let placements = keys::placements(result);
    let mut topics: Vec<u32> = result.history.partition_counts.iter().map(|c| c.topic).collect();
    topics.dedup();
    for topic in topics {
        let changes: Vec<String> = result
            .history
            .partition_counts
            .iter()
            .filter(|c| c.topic == topic)
            .map(|c| {
                let at = SimDuration::from_us(c.at.as_us()).human();
                format!("{} -> {} partitions at {at}", c.from, c.to)
            })
            .collect();
        let name = &result.names.topics[topic as usize];
        let _ = writeln!(s, "\nkeys of {name} ({})", changes.join(", "));
        let keyed: Vec<&KeyPlacement> = placements.iter().filter(|k| k.topic == topic).collect();
        if keyed.is_empty() {
            let _ = writeln!(s, "  no keyed records");
            continue;
        }
        let width = keyed.iter().map(|k| k.key.len()).max().unwrap_or(0).max(3);
        let _ = writeln!(s, "  {:<width$}  before  after  records", "key");
        for k in &keyed {
            let (first, last) = (&k.stints[0], &k.stints[k.stints.len() - 1]);
            let records: Vec<String> = k.stints.iter().map(|x| x.records.to_string()).collect();
            let _ = writeln!(
                s,
                "  {:<width$}  {:>6}  {:>5}  {}",
                k.key,
                first.partition,
                last.partition,
                records.join(" + ")
            );
        }
        let moved = keyed.iter().filter(|k| k.moved()).count();
        let _ = writeln!(
            s,
            "  {moved} of {} keys moved ({}%)",
            keyed.len(),
            moved * 100 / keyed.len()
        );
    }
}

fn notes(s: &mut String, scenario: &Scenario) {
    let notes: Vec<String> = scenario
        .producers
        .iter()
        .flat_map(|p| p.config.notes.iter().map(move |n| format!("{}: {n}", p.id)))
        .collect();
    if notes.is_empty() {
        return;
    }
    let _ = writeln!(
        s,
        "\nconfig notes (Kafka's own log lines, and kafkasim's warnings)"
    );
    for n in notes {
        let _ = writeln!(s, "  {n}");
    }
}

/// The config keys that change nothing in the model, once per file that has them.
fn ignored(s: &mut String, scenario: &Scenario) {
    if scenario.ignored.is_empty() {
        return;
    }
    let _ = writeln!(s, "\nignored: no effect in the model");
    for i in &scenario.ignored {
        let _ = writeln!(s, "  {}: {}", i.file, i.keys.join(", "));
    }
}

fn findings(s: &mut String, scenario: &Scenario, result: &RunResult, checks: &CheckReport) {
    let _ = writeln!(s, "\nchecks");
    let grouped = scenario.consumers.iter().any(|c| c.group.is_some());
    let transactional = super::transactional(scenario);
    let processing = !scenario.processors.is_empty();
    // Kafka's own topics are compacted too; the checkers matter where an application's is.
    let compacted = scenario
        .topics
        .iter()
        .any(|t| !t.internal && t.config.cleanup_policy.compact);
    let sections: [(&str, &[Finding]); 16] = [
        ("lost_acked", &checks.lost_acked),
        ("uncommitted_acked", &checks.uncommitted_acked),
        ("unavailable_acked", &checks.unavailable_acked),
        ("duplicates", &checks.duplicates),
        ("reordered", &checks.reordered),
        ("read_uncommitted", &checks.read_uncommitted),
        ("divergent_replicas", &checks.divergent_replicas),
        ("key_moved", &checks.key_moved),
        ("redelivered", &checks.redelivered),
        ("skipped", &checks.skipped),
        ("read_aborted", &checks.read_aborted),
        ("output_duplicates", &checks.output_duplicates),
        ("output_missing", &checks.output_missing),
        ("expired_unread", &checks.expired_unread),
        ("compaction_lost", &checks.compaction_lost),
        ("missed_tombstone", &checks.missed_tombstone),
    ];
    for (name, list) in sections {
        if !grouped && matches!(name, "redelivered" | "skipped") {
            // Consumer group checkers: only for scenarios with a group.
            continue;
        }
        if !transactional && name == "read_aborted" {
            continue;
        }
        if !processing && name.starts_with("output_") {
            continue;
        }
        if name == "expired_unread" && (scenario.consumers.is_empty() || result.history.log_starts.is_empty())
        {
            // Only where a log start offset moved and someone reads.
            continue;
        }
        if !compacted && matches!(name, "compaction_lost" | "missed_tombstone") {
            continue;
        }
        let _ = writeln!(s, "  {name:<18} {}", list.len());
        for f in list.iter().take(SHOWN_FINDINGS) {
            write_finding(s, result, f);
        }
        if list.len() > SHOWN_FINDINGS {
            let _ = writeln!(s, "    ... and {} more", list.len() - SHOWN_FINDINGS);
        }
    }
}

/// A finding and its explanation, indented.
pub fn write_finding(s: &mut String, result: &RunResult, f: &Finding) {
    let _ = writeln!(s, "    - {}", f.headline);
    for line in explain(result, f) {
        let _ = writeln!(s, "        {line}");
    }
}

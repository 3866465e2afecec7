//! A finding's story in a few lines: when each record was sent, in which batch, every attempt
//! and its fate, which leader appended which copy, what truncated it, and, for a verdict on an
//! acknowledged record, which replicas hold it at the end.

mod recorded;

use super::expect::Measure;
use super::scan::Finding;
use crate::history::Outcome;
use crate::kafka::record::RecordId;
use crate::simulation::RunResult;

/// The lines that explain `finding`: the path of its record, and of the record that overtook it.
pub fn explain(result: &RunResult, finding: &Finding) -> Vec<String> {
    // A history file has no requests, appends or replica logs: its story says less.
    let from_file = result.recorded.is_some();
    let path_of = |r: RecordId| {
        if from_file {
            vec![recorded::path(result, r)]
        } else {
            path(result, r)
        }
    };
    let mut lines = path_of(finding.record);
    if matches!(
        finding.measure,
        Measure::LostAcked | Measure::UncommittedAcked | Measure::UnavailableAcked
    ) {
        lines.push(if from_file {
            recorded::at_the_end(result, finding)
        } else {
            at_the_end(result, finding)
        });
    }
    if let Some(other) = finding.other {
        lines.extend(path_of(other));
    }
    lines
}

/// `  p1#7: at the end on broker-1 at offset 7 (HW 5, LEO 9, stopped); not on broker-2, broker-3`.
fn at_the_end(result: &RunResult, finding: &Finding) -> String {
    let r = finding.record;
    let mut on = Vec::new();
    let mut not_on = Vec::new();
    for ((_, b), log) in result
        .replica_logs
        .range((finding.tp, 0)..=(finding.tp, u32::MAX))
    {
        let stopped = if result.stopped.contains(b) {
            ", stopped"
        } else {
            ""
        };
        match log.records().find(|(_, x)| *x == r) {
            Some((offset, _)) => on.push(format!(
                "broker-{b} at offset {offset} (HW {}, LEO {}{stopped})",
                log.high_watermark(),
                log.log_end_offset()
            )),
            None => not_on.push(format!("broker-{b}")),
        }
    }
    let name = result.names.record(r);
    match (on.is_empty(), not_on.is_empty()) {
        (true, _) => format!("  {name}: at the end on no replica"),
        (false, true) => format!("  {name}: at the end on {}", on.join(", ")),
        (false, false) => format!(
            "  {name}: at the end on {}; not on {}",
            on.join(", "),
            not_on.join(", ")
        ),
    }
}

fn path(result: &RunResult, r: RecordId) -> Vec<String> {
    let names = &result.names;
    let h = result.history.get(r);
    let mut lines = Vec::new();
    let Some(sent_at) = h.sent_at() else {
        lines.push(format!(
            "{}: never left the application ({:?})",
            names.record(r),
            h.outcome()
        ));
        return lines;
    };
    let tp = h.tp().map_or("?".to_string(), |tp| names.tp(tp));
    let mut line = format!(
        "{}: send() at {sent_at} -> {tp} batch {}",
        names.record(r),
        h.batch_id()
    );
    let batch = result.history.producers[r.producer as usize].batch(h.batch_id());
    for a in batch.iter().flat_map(|b| b.attempts.iter()) {
        line.push_str(&format!(
            "; req {} -> broker-{} at {}",
            a.correlation, a.broker, a.at
        ));
        if let Some((at, error)) = a.error {
            line.push_str(&format!(" failed {error} at {at}"));
        }
    }
    line.push_str(&match h.outcome() {
        Outcome::Pending => "; no answer by the end".to_string(),
        Outcome::Acked { at, offset: Some(o) } => format!("; acked at {at} with offset {o}"),
        Outcome::Acked { at, offset: None } => format!("; acked at {at} (acks=0, no offset)"),
        Outcome::Failed { at, error } => format!("; failed for good at {at}: {error}"),
    });
    lines.push(line);
    let copies: Vec<String> = result
        .history
        .appends
        .iter()
        .filter_map(|a| {
            let i = a.records.iter().position(|x| x == r)?;
            Some(format!(
                "offset {} by broker-{} at {} (epoch {})",
                a.base_offset + i as u64,
                a.broker,
                a.at,
                a.leader_epoch
            ))
        })
        .collect();
    lines.push(if copies.is_empty() {
        format!("  {}: never appended by any leader", names.record(r))
    } else {
        format!("  {}: appended {}", names.record(r), copies.join(", "))
    });
    let cuts: Vec<String> = result
        .history
        .truncations
        .iter()
        .filter(|t| t.records.contains(r))
        .map(|t| format!("broker-{} at {} to offset {} ({})", t.broker, t.at, t.to, t.why))
        .collect();
    if !cuts.is_empty() {
        lines.push(format!("  {}: truncated on {}", names.record(r), cuts.join(", ")));
    }
    lines
}

//! A finding's story in a few lines: when each record was sent, in which batch, every attempt
//! and its fate, and which leader appended which copy.

use super::scan::Finding;
use crate::history::Outcome;
use crate::kafka::record::RecordId;
use crate::simulation::RunResult;

/// The lines that explain `finding`: the path of its record, and of the record that overtook it.
pub fn explain(result: &RunResult, finding: &Finding) -> Vec<String> {
    let mut lines = path(result, finding.record);
    if let Some(other) = finding.other {
        lines.extend(path(result, other));
    }
    lines
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
    let batch = result.history.producers[r.producer as usize]
        .batches
        .get(&h.batch_id());
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
            let i = a.records.iter().position(|x| *x == r)?;
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
        .filter(|t| t.records.contains(&r))
        .map(|t| format!("broker-{} at {} to offset {} ({})", t.broker, t.at, t.to, t.why))
        .collect();
    if !cuts.is_empty() {
        lines.push(format!("  {}: truncated on {}", names.record(r), cuts.join(", ")));
    }
    lines
}

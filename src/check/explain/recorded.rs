//! A finding's story from a history file: only what the file shows (when each record was sent,
//! its outcome, where it is in the log read at the end); a file has no requests, appends or
//! replica logs.

use super::super::scan::Finding;
use crate::history::Outcome;
use crate::kafka::record::RecordId;
use crate::simulation::RunResult;

/// `p1#7: send() at 1.2ms -> orders-1; acked at 5ms with offset 40`.
pub(super) fn path(result: &RunResult, r: RecordId) -> String {
    let names = &result.names;
    let h = result.history.get(r);
    let tp = h
        .tp()
        .map_or("a partition the history does not give".to_string(), |tp| {
            names.tp(tp)
        });
    let sent = h
        .sent_at()
        .map_or("never sent".to_string(), |t| format!("send() at {t}"));
    let outcome = match h.outcome() {
        Outcome::Pending => "no ack or fail by the end".to_string(),
        Outcome::Acked { at, offset: Some(o) } => format!("acked at {at} with offset {o}"),
        Outcome::Acked { at, offset: None } => format!("acked at {at} (acks=0, no offset)"),
        Outcome::Failed { at, error } => format!("failed for good at {at}: {error}"),
    };
    format!("{}: {sent} -> {tp}; {outcome}", names.record(r))
}

/// `  p1#7: not in the log of orders-1 read at the end (leader broker-2, HW 40, LEO 41)`.
pub(super) fn at_the_end(result: &RunResult, finding: &Finding) -> String {
    let name = result.names.record(finding.record);
    let tp = result.names.tp(finding.tp);
    let Some(log) = result.logs.get(&finding.tp) else {
        return format!("  {name}: the history has no log of {tp} read at the end");
    };
    let whose = match result.holders.get(&finding.tp).and_then(|h| h.first()) {
        Some(b) => format!("broker-{b}'s log"),
        None => "the log".to_string(),
    };
    let place = log
        .records()
        .find(|(_, x)| *x == finding.record)
        .map_or("not in".to_string(), |(o, _)| format!("at offset {o} in"));
    format!(
        "  {name}: {place} {whose} of {tp} read at the end (HW {}, log end {})",
        log.high_watermark(),
        log.log_end_offset()
    )
}

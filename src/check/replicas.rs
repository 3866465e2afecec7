//! The replication checkers: `read_uncommitted` (a consumer read a record that the partition's
//! log no longer holds at that offset: it was truncated away after the read) and
//! `divergent_replicas` (two replicas hold different records at an offset below both their high
//! watermarks; an offset that one replica's own log cleaner emptied is a gap, not a disagreement:
//! replicas compact independently). A record of a compacted topic that a log cleaner may have
//! removed after a consumer read it (a later acknowledged write of its key, or a tombstone) was
//! superseded, not taken back: no `read_uncommitted`.

use super::compaction::Superseding;
use super::expect::Measure;
use super::label;
use super::scan::Finding;
use crate::kafka::log::PartitionLog;
use crate::kafka::record::{RecordId, Tp};
use crate::scenario::Scenario;
use crate::simulation::{Holder, RunResult};
use std::collections::BTreeMap;

/// One finding per record a consumer read that is no longer at that offset in the log the
/// partition has: its running leader's, or, without one, that of any replica that may lead it
/// next (a read from a partition that is merely offline at the end is not proven gone).
pub fn read_uncommitted(scenario: &Scenario, result: &RunResult) -> Vec<Finding> {
    let consumers = &scenario.consumers;
    let names = &result.names;
    let mut out = Vec::new();
    let superseding = Superseding::new(scenario, result);
    for c in &result.history.consumed {
        if superseding.may_be_cleaned(c.record, c.tp, c.offset) {
            // A log cleaner may have removed it after the read: superseded, not taken back.
            continue;
        }
        let held = result.held_logs(c.tp);
        if held
            .iter()
            .any(|(_, log)| log.record_at(c.offset) == Some(c.record))
        {
            continue;
        }
        // Retention or `DeleteRecords` may delete what was read; a truncation may not.
        let deleted = held.iter().any(|(_, log)| c.offset < log.log_start_offset());
        if deleted
            && !result
                .history
                .truncations
                .iter()
                .any(|t| t.tp == c.tp && t.records.contains(c.record))
        {
            continue;
        }
        let now = held.first().and_then(|(_, log)| log.record_at(c.offset));
        let there = match (result.holders.get(&c.tp), held.first()) {
            (Some(Holder::Leader(_)), Some((_, log))) => now.map_or_else(
                || format!("final log holds nothing there (LEO {})", log.log_end_offset()),
                |other| format!("final log holds {} there", names.record(other)),
            ),
            _ => "replicas that may lead it do not hold it there".to_string(),
        };
        let cut = result
            .history
            .truncations
            .iter()
            .find(|t| t.tp == c.tp && t.records.contains(c.record))
            .map_or(String::new(), |t| {
                format!("; broker-{} truncated it at {} ({})", t.broker, t.at, t.why)
            });
        out.push(Finding {
            measure: Measure::ReadUncommitted,
            processor: None,
            consumer: Some(c.consumer),
            record: c.record,
            tp: c.tp,
            other: now,
            headline: format!(
                "{} read {} at {} offset {} at {}, but the {there}{cut}",
                consumers[c.consumer as usize].id,
                label(names, c.record),
                names.tp(c.tp),
                c.offset,
                c.at
            ),
        });
    }
    out
}

/// One finding per (partition, offset) where two replicas disagree below both their HWs.
pub fn divergent_replicas(result: &RunResult) -> Vec<Finding> {
    let names = &result.names;
    let mut found: BTreeMap<(Tp, u64), Finding> = BTreeMap::new();
    let replicas: Vec<(Tp, u32, &PartitionLog)> = result
        .replica_logs
        .iter()
        .map(|((tp, b), log)| (*tp, *b, log))
        .collect();
    for (i, &(tp, a, log_a)) in replicas.iter().enumerate() {
        for &(_, b, log_b) in replicas[i + 1..].iter().take_while(|(t, _, _)| *t == tp) {
            for (offset, ra, rb) in disagreements(log_a, log_b) {
                found.entry((tp, offset)).or_insert_with(|| Finding {
                    measure: Measure::DivergentReplicas,
                    processor: None,
                    consumer: None,
                    record: ra,
                    tp,
                    other: Some(rb),
                    headline: format!(
                        "{} offset {offset}: broker-{a} holds {}, broker-{b} holds {}, below both high watermarks ({}, {})",
                        names.tp(tp),
                        label(names, ra),
                        label(names, rb),
                        log_a.high_watermark(),
                        log_b.high_watermark()
                    ),
                });
            }
        }
    }
    found.into_values().collect()
}

/// Offsets below both HWs where the two logs hold different records.
fn disagreements(a: &PartitionLog, b: &PartitionLog) -> Vec<(u64, RecordId, RecordId)> {
    let mut xs = a.committed().peekable();
    let mut ys = b.committed().peekable();
    let mut out = Vec::new();
    while let (Some(&(oa, ra)), Some(&(ob, rb))) = (xs.peek(), ys.peek()) {
        if oa == ob && ra != rb {
            out.push((oa, ra, rb));
        }
        if oa <= ob {
            xs.next();
        }
        if ob <= oa {
            ys.next();
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::disagreements;
    use crate::kafka::log::PartitionLog;
    use crate::kafka::record::RecordId;
    use std::sync::Arc;

    fn log(seqs: &[u32], hw: u64) -> PartitionLog {
        let mut log = PartitionLog::default();
        for s in seqs {
            let one: Arc<[RecordId]> = Arc::new([RecordId { producer: 0, seq: *s }]);
            log.append(one, 100, 0, None);
        }
        log.set_high_watermark(hw);
        log
    }

    #[test]
    fn replicas_disagree_only_where_both_have_committed_different_records() {
        let r = |seq| RecordId { producer: 0, seq };
        // Identical below both HWs.
        assert!(disagreements(&log(&[0, 1, 2], 3), &log(&[0, 1, 2], 3)).is_empty());
        // Offset 1 differs below both HWs (KIP-101 scenario B).
        assert_eq!(
            disagreements(&log(&[0, 1, 5], 3), &log(&[0, 2, 5], 2)),
            [(1, r(1), r(2))]
        );
        // A difference above one replica's HW is not (yet) a divergence: it may still truncate.
        assert!(disagreements(&log(&[0, 1], 2), &log(&[0, 2], 1)).is_empty());
        // A shorter replica is behind, not divergent.
        assert!(disagreements(&log(&[0, 1, 2], 3), &log(&[0], 1)).is_empty());
    }

    /// Replicas compact independently (each broker's `LogCleaner` cleans its own logs): the gaps
    /// one replica's cleaner left where another still holds records are no divergence.
    #[test]
    fn the_gaps_a_replicas_own_cleaner_leaves_are_no_divergence() {
        use crate::kafka::keys::RecordKeys;
        use crate::kafka::log::LogConfig;
        use crate::kafka::record::Timestamps;
        use crate::scenario::config::{CompactionConfig, Ratio};
        use crate::sim::SimDuration;
        let mut a = PartitionLog::new(LogConfig {
            segment_bytes: 300,
            ..LogConfig::default()
        });
        for seq in 0..8 {
            let one: Arc<[RecordId]> = Arc::new([RecordId { producer: 0, seq }]);
            a.append_data(one, 100, 0, None, false, Timestamps::at(0, 1), 0);
        }
        a.set_high_watermark(8);
        let b = a.clone();
        let names = ["k".to_string()];
        let keys = RecordKeys::new([(Some(names.as_slice()), None)]);
        let config = CompactionConfig {
            min_cleanable_ratio: Ratio::parse("0.5").expect("a ratio"),
            min_lag: SimDuration::ZERO,
            max_lag: SimDuration::from_ms(1 << 40),
            delete_retention: SimDuration::ZERO,
        };
        let to = a.to_clean(0, &config).expect("not empty");
        let cleaning = a.clean(&to, 0, &config, &keys);
        assert_eq!(cleaning.superseded.len(), 5, "offsets 0..5 are gaps on broker a");
        assert!(disagreements(&a, &b).is_empty());
        assert!(disagreements(&b, &a).is_empty());
    }
}

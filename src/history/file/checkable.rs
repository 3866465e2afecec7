//! Which expectations a history file can decide. A count from data the file does not carry would
//! be a false pass (0 found), so those expectations are reported as not checkable, with why.

use super::Recorded;
use crate::check::expect::{Check, Expectation, Measure};
use crate::trace::Names;

/// Why `e` cannot be checked from a history file that lacks what `recorded` says (`None`: it
/// can).
pub fn not_checkable(e: &Expectation, recorded: &Recorded, names: &Names) -> Option<String> {
    let Check::Count { measure, filter, .. } = &e.check else {
        // Leader, Isr and Assignment read the partition_state and assignment lines.
        return None;
    };
    let unreadable = || -> Option<String> {
        let list: Vec<String> = recorded.unreadable.iter().map(|tp| names.tp(*tp)).collect();
        (!list.is_empty()).then(|| {
            format!(
                "it needs every partition's log read at the end, and the history has none for {}",
                list.join(", ")
            )
        })
    };
    match measure {
        Measure::DivergentReplicas => Some(
            "it needs every replica's log; a history has one log per partition, as a consumer reads it"
                .to_string(),
        ),
        Measure::ExpiredUnread if !recorded.log_starts => Some(
            "it needs when each partition's log start offset moved: `log_start` lines for every partition"
                .to_string(),
        ),
        // The `log_start` lines say when records were deleted; acks and reads say which.
        Measure::ExpiredUnread => None,
        // A removed tombstone is one acknowledged below a final log's high watermark and not in
        // it (`check::compaction`).
        Measure::MissedTombstone => unreadable(),
        Measure::Retries | Measure::Deduplicated | Measure::Requests => Some(
            "it needs the producer's requests and batches; a history has each send and its outcome only"
                .to_string(),
        ),
        Measure::Reordered if filter.consumer.is_some() => None,
        // An acknowledged record of a partition whose log could not be read is unavailable:
        // not known to be lost (`check::acked`).
        // Without the log above the HW (no `log_end_offset`), an acknowledged record at or above
        // the HW counts as uncommitted: not known to be lost (`check::acked`).
        Measure::LostAcked | Measure::UnavailableAcked | Measure::UncommittedAcked => None,
        Measure::Duplicates
        | Measure::Reordered
        | Measure::ReadUncommitted
        | Measure::Skipped
        | Measure::CompactionLost => {
            unreadable()
        }
        Measure::ReadAborted | Measure::Committed | Measure::Aborted | Measure::Fenced
            if !recorded.transactions =>
        {
            Some(
                "it needs how each transaction ended: `txn_begin`/`txn_end` lines and every final log's `aborted` offsets"
                    .to_string(),
            )
        }
        Measure::OutputDuplicates | Measure::OutputMissing if !recorded.outputs => Some(
            "it needs each processor output's input: `send` lines with `input`".to_string(),
        ),
        Measure::OutputDuplicates | Measure::OutputMissing if !recorded.transactions => Some(
            "it needs how each transaction ended: `txn_begin`/`txn_end` lines and every final log's `aborted` offsets"
                .to_string(),
        ),
        // The application's own lines say what it committed and learned of a fencing.
        Measure::Committed | Measure::Fenced => None,
        // A coordinator's abort, and the output visible at the end, show in the final logs.
        Measure::Aborted
        | Measure::ReadAborted
        | Measure::OutputDuplicates
        | Measure::OutputMissing => unreadable(),
        Measure::Acked
        | Measure::Failed
        | Measure::Consumed
        | Measure::KeyMoved
        | Measure::Revoked
        | Measure::Redelivered => None,
    }
}

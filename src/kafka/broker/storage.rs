//! A broker's log management: the periodic retention check over every replica it holds
//! (`LogManager.cleanupLogs`), `DeleteRecords` on a leader (`Partition.deleteRecordsOnLeader`),
//! and the traces of segment rolls and deletions.

use super::{Broker, O, Replica};
use crate::kafka::log::{DeletedSegments, Rolled};
use crate::kafka::protocol::ErrorCode;
use crate::kafka::record::Tp;
use crate::sim::{SimDuration, SimTime};
use crate::trace::Event;

/// The first retention check runs this long after the broker starts
/// (`log.initial.task.delay.ms`, an internal config: `ServerLogConfigs.LOG_INITIAL_TASK_DELAY_MS_DEFAULT`).
pub(super) const INITIAL_TASK_DELAY: SimDuration = SimDuration::from_ms(30_000);

/// Traces a segment roll, if an append rolled one.
pub(super) fn trace_roll(tp: Tp, rolled: Option<Rolled>, out: &mut O) {
    if let Some(r) = rolled {
        out.trace(|| Event::SegmentRolled {
            tp,
            closed_base_offset: r.closed_base_offset,
            base_offset: r.base_offset,
            why: r.why,
        });
    }
}

/// Records segments a retention rule deleted (and the roll it needed, if any).
pub(super) fn emit_deleted(tp: Tp, deleted: DeletedSegments, out: &mut O) {
    trace_roll(tp, deleted.rolled, out);
    out.emit(Event::SegmentsDeleted {
        tp,
        base_offsets: deleted.base_offsets,
        bytes: deleted.bytes,
        from: deleted.log_start_offset_before,
        to: deleted.log_start_offset,
        why: deleted.reason.name(),
    });
}

impl Broker {
    /// `log.retention.check.interval.ms` passed: every replica of a topic that is not compacted
    /// this broker holds, leader or follower, deletes what its topic's retention allows
    /// (`LogManager.cleanupLogs` calls `UnifiedLog.deleteOldSegments` on each such log).
    pub(super) fn check_retention(&mut self, now: SimTime, out: &mut O) {
        if now < self.next_retention_check {
            return;
        }
        self.next_retention_check = now + self.config.retention_check_interval;
        let compacted = |tp: &Tp| self.topics[tp.topic as usize].cleanup_policy.compact;
        let deletable: Vec<Tp> = self
            .replicas
            .keys()
            .filter(|tp| !compacted(tp))
            .copied()
            .collect();
        // `LogManager.cleanupLogs` leaves compacted logs to the log cleaner's thread
        // (`pauseCleaningForNonCompactedPartitions`, `LogCleaner.cleanFilthiestLog`).
        self.delete_old_segments(&deletable, now, out);
    }

    /// `UnifiedLog.deleteOldSegments` on each of `tps`: retention by time and size only with
    /// `delete` in the cleanup policy; a log start offset breach always.
    pub(super) fn delete_old_segments(&mut self, tps: &[Tp], now: SimTime, out: &mut O) {
        for tp in tps {
            let delete = self.topics[tp.topic as usize].cleanup_policy.delete;
            let Some(replica) = self.replicas.get_mut(tp) else {
                continue;
            };
            let deleted = if delete {
                replica.log.delete_old_segments(now.as_ms())
            } else {
                replica
                    .log
                    .delete_log_start_offset_breached_segments()
                    .into_iter()
                    .collect()
            };
            for deleted in deleted {
                emit_deleted(*tp, deleted, out);
            }
        }
    }

    /// The `DeleteRecords` fault, as `kafka-delete-records` would send it to the partition's
    /// leader: the log start offset moves to `before` (`Partition.deleteRecordsOnLeader`,
    /// `UnifiedLog.maybeIncrementLogStartOffset`), refused with `OFFSET_OUT_OF_RANGE` above the
    /// high watermark and `NOT_LEADER_OR_FOLLOWER` where this broker does not lead. The segments
    /// below go at the next retention check (for a compacted topic, at the log cleaner's next
    /// turn); followers learn the new start from their fetches.
    pub fn delete_records(&mut self, tp: Tp, before: u64, out: &mut O) {
        let result = match self.replicas.get_mut(&tp) {
            Some(r) if r.leading().is_some() && self.life != super::Life::Down => {
                match r.log.maybe_increment_log_start_offset(before) {
                    Ok(_) => Ok(r.log.log_start_offset()),
                    Err(_) => Err(ErrorCode::OffsetOutOfRange),
                }
            }
            _ => Err(ErrorCode::NotLeaderOrFollower),
        };
        out.emit(Event::DeleteRecords { tp, before, result });
    }
}

/// A follower takes the leader's log start offset from a fetch response
/// (`ReplicaFetcherThread.processPartitionData`: `maybeIncrementLogStartOffset` with
/// `LeaderOffsetIncremented`, after the high watermark).
pub(super) fn follow_log_start_offset(tp: Tp, r: &mut Replica, leader_log_start: u64, out: &mut O) {
    let from = r.log.log_start_offset();
    // Never above this follower's HW: `min(leader's HW, own LEO)` is at least the leader's
    // log start offset once the fetch succeeded, so Kafka's OffsetOutOfRange cannot happen.
    let offset = leader_log_start.min(r.log.high_watermark());
    if let Ok(true) = r.log.maybe_increment_log_start_offset(offset) {
        out.emit(Event::LogStartOffset {
            tp,
            from,
            to: r.log.log_start_offset(),
            why: "the leader's, from a fetch response",
        });
    }
}

//! The verdicts on acknowledged records, from where each one is at the end of a run:
//!
//! - in its partition's log below the leader's high watermark: committed, nothing to report;
//! - `uncommitted_acked`: in the running leader's log, at or above its high watermark: the
//!   followers have not fetched it yet, or the HW stays while the ISR is below
//!   `min.insync.replicas` (KAFKA-15583). Not lost: lost only if that leader fails first;
//! - `unavailable_acked`: no running broker leads the partition, and a replica that may lead it
//!   next ([`crate::simulation::Holder`]) holds it on disk: it comes back with that replica;
//!   In a history file whose log of the partition could not be read at the end (no leader to
//!   read it from), an acknowledged record of it is unavailable too: not known to be lost;
//! - `lost_acked`: no replica that leads or may lead the partition holds it: truncated away,
//!   destroyed by a power loss, never written, or only on a replica that will truncate to the
//!   leader's log.
//!
//! A record of a compacted topic in no log is none of these when a log cleaner may have removed
//! it: a later acknowledged write of its key supersedes it, or it is a tombstone (removed once its
//! delete horizon passed). That is what compaction promises; `compaction_lost` checks that the
//! key still reads as its last acknowledged write. The same rule holds for a recorded history,
//! which does not say what a cleaner removed.

mod story;

use super::compaction::Superseding;
use super::expect::Measure;
use super::scan::Finding;
use crate::history::Outcome;
use crate::kafka::protocol::BrokerId;
use crate::kafka::record::{RecordId, Tp};
use crate::scenario::Scenario;
use crate::sim::SimTime;
use crate::simulation::{Holder, RunResult};
use story::Story;

/// The three verdicts, each in producer and send order.
pub struct AckedVerdicts {
    /// `lost_acked` findings.
    pub lost: Vec<Finding>,
    /// `uncommitted_acked` findings.
    pub uncommitted: Vec<Finding>,
    /// `unavailable_acked` findings.
    pub unavailable: Vec<Finding>,
}

/// Where a record is at the end, best last (a record with several copies counts by its best).
#[derive(Clone, Copy, Debug)]
enum Place {
    /// In no log that the partition has or may recover with.
    Nowhere,
    /// In a partition whose log a history file could not read at the end: not known.
    Unread,
    /// On the disk of a replica that may lead the offline partition.
    OnDisk { broker: BrokerId, offset: u64 },
    /// In the running leader's log, at or above its HW.
    Uncommitted { offset: u64 },
    /// Acknowledged at `offset`, at or above the high watermark of a log that a history file
    /// read only up to its HW: where a client cannot see.
    AboveReadHw { offset: u64 },
    /// In the running leader's log below its HW.
    Committed,
    /// Below the log start offset of the log the partition has: retention or `DeleteRecords`
    /// deleted it, as they may (and no replica truncated it first).
    Deleted,
}

impl Place {
    fn rank(self) -> u8 {
        match self {
            Place::Nowhere => 0,
            Place::Unread | Place::OnDisk { .. } => 1,
            Place::Uncommitted { .. } | Place::AboveReadHw { .. } => 2,
            Place::Committed | Place::Deleted => 3,
        }
    }
}

/// Judges every acknowledged record of the run.
pub fn acked(scenario: &Scenario, result: &RunResult) -> AckedVerdicts {
    let places = places(result);
    let story = Story::new(scenario, result);
    let superseding = Superseding::new(scenario, result);
    let mut v = AckedVerdicts {
        lost: Vec::new(),
        uncommitted: Vec::new(),
        unavailable: Vec::new(),
    };
    for (p, ph) in result.history.producers.iter().enumerate() {
        for (seq, h) in ph.records.iter().enumerate() {
            let Outcome::Acked { at, offset } = h.outcome() else {
                continue;
            };
            if ph.in_aborted_txn(seq as u32) {
                // A record of an aborted transaction is not meant to survive: neither lost nor
                // kept, whatever the log holds.
                continue;
            }
            let record = RecordId {
                producer: p as u32,
                seq: seq as u32,
            };
            let tp = h.tp().expect("an acked record was sent to a partition");
            let acked = Acked {
                record,
                tp,
                at,
                offset,
            };
            let (list, measure, headline) = match places[p][seq] {
                Place::Committed | Place::Deleted => continue,
                Place::Uncommitted { offset } => (
                    &mut v.uncommitted,
                    Measure::UncommittedAcked,
                    story.uncommitted(&acked, offset),
                ),
                Place::AboveReadHw { offset } => (
                    &mut v.uncommitted,
                    Measure::UncommittedAcked,
                    story.above_read_hw(&acked, offset),
                ),
                Place::OnDisk { broker, offset } => (
                    &mut v.unavailable,
                    Measure::UnavailableAcked,
                    story.unavailable(&acked, broker, offset),
                ),
                Place::Unread => (
                    &mut v.unavailable,
                    Measure::UnavailableAcked,
                    story.unread(&acked),
                ),
                Place::Nowhere if offset.is_some_and(|o| superseding.may_be_cleaned(record, tp, o)) => {
                    continue;
                }
                Place::Nowhere => (&mut v.lost, Measure::LostAcked, story.lost(&acked)),
            };
            list.push(Finding {
                measure,
                processor: None,
                record,
                tp,
                other: None,
                consumer: None,
                headline,
            });
        }
    }
    v
}

/// An acknowledged record, as the producer was told.
struct Acked {
    record: RecordId,
    tp: Tp,
    at: SimTime,
    /// `None` for acks=0.
    offset: Option<u64>,
}

/// Every producer record's best place, by producer and sequence.
fn places(result: &RunResult) -> Vec<Vec<Place>> {
    let mut places: Vec<Vec<Place>> = result
        .history
        .producers
        .iter()
        .map(|p| vec![Place::Nowhere; p.records.len()])
        .collect();
    if let Some(recorded) = &result.recorded {
        for (p, ph) in result.history.producers.iter().enumerate() {
            for (seq, h) in ph.records.iter().enumerate() {
                let Some(tp) = h.tp() else { continue };
                if recorded.unreadable.contains(&tp) {
                    places[p][seq] = Place::Unread;
                } else if let (false, Outcome::Acked { offset: Some(o), .. }) =
                    (recorded.to_log_end, h.outcome())
                    && result.logs.get(&tp).is_some_and(|log| o >= log.high_watermark())
                {
                    // A client reads up to the HW: past it, an acknowledged record may be in the
                    // leader's log, or truncated; nothing the history shows proves it lost.
                    places[p][seq] = Place::AboveReadHw { offset: o };
                }
            }
        }
    }
    for (tp, holder) in &result.holders {
        for (broker, log) in result.held_logs(*tp) {
            let hw = log.high_watermark();
            for (offset, r) in log.records() {
                let place = match holder {
                    Holder::Leader(_) if offset < hw => Place::Committed,
                    Holder::Leader(_) => Place::Uncommitted { offset },
                    Holder::Offline { .. } => Place::OnDisk { broker, offset },
                };
                // Coordinator records (`__consumer_offsets`) are no producer's.
                let Some(slot) = places
                    .get_mut(r.producer as usize)
                    .and_then(|p| p.get_mut(r.seq as usize))
                else {
                    continue;
                };
                if place.rank() > slot.rank() {
                    *slot = place;
                }
            }
        }
    }
    mark_deleted(result, &mut places);
    places
}

/// Acknowledged records whose offset lies below the log start offset of a log the partition
/// has were deleted, not lost, unless a replica truncated them (then their offset may hold
/// another record, and retention deleting that one says nothing about them).
fn mark_deleted(result: &RunResult, places: &mut [Vec<Place>]) {
    let truncated: std::collections::BTreeSet<RecordId> = result
        .history
        .truncations
        .iter()
        .flat_map(|t| t.records.iter())
        .collect();
    for (p, ph) in result.history.producers.iter().enumerate() {
        for (seq, h) in ph.records.iter().enumerate() {
            let (Some(tp), Outcome::Acked { offset: Some(o), .. }) = (h.tp(), h.outcome()) else {
                continue;
            };
            let slot = &mut places[p][seq];
            if slot.rank() >= Place::Deleted.rank() {
                continue;
            }
            let record = RecordId {
                producer: p as u32,
                seq: seq as u32,
            };
            let below = result
                .held_logs(tp)
                .iter()
                .any(|(_, log)| o < log.log_start_offset());
            if below && !truncated.contains(&record) {
                *slot = Place::Deleted;
            }
        }
    }
}

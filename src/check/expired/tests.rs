use super::{Hit, Stood, deleted_unread};
use crate::history::records::RecordList;
use crate::history::{AppendHistory, LogStartMove};
use crate::kafka::record::{RecordId, Tp};
use crate::sim::SimTime;
use std::collections::BTreeSet;

const TP: Tp = Tp {
    topic: 0,
    partition: 0,
};

fn ms(t: u64) -> SimTime {
    SimTime::from_us(t * 1000)
}

fn rec(seq: u32) -> RecordId {
    RecordId { producer: 0, seq }
}

/// The leader appended records `seqs` at `base` at `at` ms.
fn append(at: u64, base: u64, seqs: &[u32]) -> AppendHistory {
    AppendHistory {
        at: ms(at),
        broker: 1,
        tp: TP,
        base_offset: base,
        leader_epoch: 0,
        records: RecordList::new(&seqs.iter().map(|s| rec(*s)).collect::<Vec<_>>()),
    }
}

fn moved(at: u64, from: u64, to: u64) -> LogStartMove {
    LogStartMove {
        at: ms(at),
        tp: TP,
        from,
        to,
        why: "retention.ms",
    }
}

/// Ten records, offsets 0..10, appended at 0..10 ms as seq 0..10.
fn ten() -> Vec<AppendHistory> {
    (0..10).map(|i| append(i, i, &[i as u32])).collect()
}

fn offsets(hits: &[Hit<'_>]) -> Vec<u64> {
    hits.iter().map(|h| h.offset).collect()
}

fn run(steps: &[LogStartMove], stood: &[Stood], written: &[AppendHistory], read: &[u64]) -> Vec<u64> {
    let steps: Vec<&LogStartMove> = steps.iter().collect();
    let written: Vec<&AppendHistory> = written.iter().collect();
    let read: BTreeSet<u64> = read.iter().copied().collect();
    offsets(&deleted_unread(&steps, stood, &written, &read, |_| false))
}

#[test]
fn records_deleted_at_or_above_the_position_and_never_read_are_expired_unread() {
    // The reader stood at 2 (it read 0 and 1) when retention moved the log start to 6.
    let stood = [(ms(20), 0, Some(0)), (ms(21), 1, Some(0)), (ms(22), 2, Some(0))];
    let steps = [moved(100, 0, 6)];
    assert_eq!(run(&steps, &stood, &ten(), &[0, 1]), [2, 3, 4, 5]);
}

#[test]
fn a_record_still_in_the_log_is_never_counted_however_far_behind_the_reader_is() {
    // The reader never got past 0; only offsets below the final log start (3) were deleted.
    let stood = [(ms(20), 0, Some(0))];
    assert_eq!(run(&[moved(100, 0, 3)], &stood, &ten(), &[]), [0, 1, 2]);
    // Nothing deleted: nothing counted.
    assert!(run(&[], &stood, &ten(), &[]).is_empty());
}

#[test]
fn records_the_reader_had_passed_or_read_are_not_counted() {
    // It read 0..4 and then sought past 6 (seekToEnd-like) before the deletion.
    let stood = [(ms(20), 0, Some(0)), (ms(30), 8, Some(0))];
    assert!(run(&[moved(100, 0, 6)], &stood, &ten(), &[0, 1, 2, 3]).is_empty());
    // A record read after the deletion cannot be, but one read before it is not unread.
    let stood = [(ms(20), 3, Some(0))];
    assert_eq!(run(&[moved(100, 0, 6)], &stood, &ten(), &[3, 4]), [5]);
}

#[test]
fn a_reader_without_a_position_when_the_records_went_lost_nothing() {
    // A group that starts (and resets to the log start) after the deletion.
    let stood = [(ms(200), 6, Some(0))];
    assert!(run(&[moved(100, 0, 6)], &stood, &ten(), &[]).is_empty());
    // Its position counts from the moment it took it: a second move after that one counts.
    assert_eq!(
        run(&[moved(100, 0, 6), moved(300, 6, 8)], &stood, &ten(), &[]),
        [6, 7]
    );
}

#[test]
fn the_position_at_the_moment_of_each_move_decides() {
    // At the first move it stood at 0; it was reset to the log start (4) after it, and was still
    // there at the second move.
    let stood = [(ms(20), 0, Some(0)), (ms(150), 4, Some(0))];
    let steps = [moved(100, 0, 4), moved(200, 4, 7)];
    assert_eq!(run(&steps, &stood, &ten(), &[]), [0, 1, 2, 3, 4, 5, 6]);
    // Having read 4 and 5 after the reset, only 6 goes unread at the second move.
    let stood = [
        (ms(20), 0, Some(0)),
        (ms(150), 4, Some(0)),
        (ms(160), 5, Some(0)),
        (ms(161), 6, Some(0)),
    ];
    assert_eq!(run(&steps, &stood, &ten(), &[4, 5]), [0, 1, 2, 3, 6]);
}

#[test]
fn the_record_deleted_is_the_one_the_leader_held_then() {
    // Offsets 3..5 were truncated and written again (by a new leader) with seq 20 and 21.
    let mut written = ten();
    written.push(append(50, 3, &[20, 21]));
    let steps: Vec<LogStartMove> = vec![moved(100, 0, 5)];
    let steps: Vec<&LogStartMove> = steps.iter().collect();
    let refs: Vec<&AppendHistory> = written.iter().collect();
    let stood = [(ms(20), 0, Some(0))];
    let hits = deleted_unread(&steps, &stood, &refs, &BTreeSet::new(), |_| false);
    let got: Vec<(u64, u32)> = hits.iter().map(|h| (h.offset, h.record.seq)).collect();
    assert_eq!(got, [(0, 0), (1, 1), (2, 2), (3, 20), (4, 21)]);
    // An append after the move is not deleted by it.
    let late = [append(0, 0, &[0, 1]), append(200, 2, &[2, 3])];
    let refs: Vec<&AppendHistory> = late.iter().collect();
    let hits = deleted_unread(&steps, &stood, &refs, &BTreeSet::new(), |_| false);
    assert_eq!(offsets(&hits), [0, 1]);
}

#[test]
fn records_not_the_readers_to_read_are_left_out() {
    // A read_committed reader never gets aborted records (odd seqs here).
    let steps = [moved(100, 0, 4)];
    let steps: Vec<&LogStartMove> = steps.iter().collect();
    let written = ten();
    let refs: Vec<&AppendHistory> = written.iter().collect();
    let stood = [(ms(20), 0, Some(0))];
    let hits = deleted_unread(&steps, &stood, &refs, &BTreeSet::new(), |r| r.seq % 2 == 1);
    assert_eq!(offsets(&hits), [0, 2]);
}

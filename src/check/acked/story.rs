//! What each verdict on an acknowledged record says: where the record is, how it got there, and
//! what would prove the verdict wrong.

use super::Acked;
use crate::check::label;
use crate::history::TruncationHistory;
use crate::kafka::protocol::{BrokerId, broker_list};
use crate::kafka::record::{RecordId, Tp};
use crate::scenario::Scenario;
use crate::simulation::{Holder, RunResult};
use std::cell::OnceCell;
use std::collections::BTreeMap;

pub(super) struct Story<'a> {
    scenario: &'a Scenario,
    result: &'a RunResult,
    /// The truncations that took each record, oldest first.
    cuts: BTreeMap<RecordId, Vec<&'a TruncationHistory>>,
    /// Built for the first lost record: most runs have none.
    index: OnceCell<Index>,
}

/// Which records some leader appended, and where a replica that does not lead holds each one.
struct Index {
    appended: Vec<Vec<bool>>,
    elsewhere: Vec<Vec<Option<(BrokerId, u64)>>>,
}

impl<'a> Story<'a> {
    pub(super) fn new(scenario: &'a Scenario, result: &'a RunResult) -> Story<'a> {
        let mut cuts: BTreeMap<RecordId, Vec<&TruncationHistory>> = BTreeMap::new();
        for t in &result.history.truncations {
            for r in t.records.iter() {
                cuts.entry(r).or_default().push(t);
            }
        }
        Story {
            scenario,
            result,
            cuts,
            index: OnceCell::new(),
        }
    }

    /// `p1#7 was acknowledged at 1.2ms at t-0 offset 7`.
    fn acked(&self, a: &Acked) -> String {
        let names = &self.result.names;
        let told = a.offset.map_or_else(
            || format!("for {} (acks=0, no offset)", names.tp(a.tp)),
            |o| format!("at {} offset {o}", names.tp(a.tp)),
        );
        format!("{} was acknowledged at {} {told}", label(names, a.record), a.at)
    }

    /// In the running leader's log at `offset`, at or above its HW.
    pub(super) fn uncommitted(&self, a: &Acked, offset: u64) -> String {
        if self.result.recorded.is_some() {
            return format!(
                "{}, and the leader's log read at the end holds it{}, above its HW {}: not committed at the end; lost only if that leader fails first",
                self.acked(a),
                elsewhere(a, offset),
                self.result.logs[&a.tp].high_watermark()
            );
        }
        let Some(&Holder::Leader(leader)) = self.result.holders.get(&a.tp) else {
            unreachable!("an uncommitted record is in a running leader's log")
        };
        format!(
            "{}, and the leader broker-{leader} holds it{}, above its HW {}: {}; lost only if broker-{leader} fails first",
            self.acked(a),
            elsewhere(a, offset),
            self.result.replica_logs[&(a.tp, leader)].high_watermark(),
            self.committed_when(a.tp, leader, offset)
        )
    }

    /// Acknowledged at `offset`, at or above the HW of a log a history read up to its HW.
    pub(super) fn above_read_hw(&self, a: &Acked, offset: u64) -> String {
        format!(
            "{}, at or above the HW {} of the log read at the end: a consumer cannot read past the HW, so it is not committed at the end; it is in the leader's log unless a leader change truncated it, which the history cannot show. A read from the leader's log once its HW passes offset {offset}, not finding it there, would prove it lost",
            self.acked(a),
            self.result.logs[&a.tp].high_watermark()
        )
    }

    /// What moves the leader's HW past `offset`.
    fn committed_when(&self, tp: Tp, leader: BrokerId, offset: u64) -> String {
        let state = self.result.metadata.partition(tp);
        let isr = state.map_or(&[][..], |s| s.isr.as_slice());
        let replicas = state.map_or(0, |s| s.replicas.len() as u32);
        let min_isr = self.scenario.topics[tp.topic as usize]
            .config
            .min_insync_replicas
            .min(replicas);
        // KAFKA-15583 (3.7, `Partition.maybeIncrementLeaderHW`): no HW move at all while the ISR
        // is below min.insync.replicas, whatever the producer's acks.
        if self.scenario.cluster.config.min_isr_hw_gate && (isr.len() as u32) < min_isr {
            return format!(
                "the HW stays while the ISR [{}] is smaller than min.insync.replicas ({min_isr}); committed once a follower catches up and rejoins the ISR",
                broker_list(isr)
            );
        }
        let lacking: Vec<BrokerId> = isr
            .iter()
            .copied()
            .filter(|b| *b != leader)
            .filter(|b| {
                self.result
                    .replica_logs
                    .get(&(tp, *b))
                    .is_none_or(|f| f.log_end_offset() <= offset)
            })
            .collect();
        match lacking.len() {
            0 => "committed when the followers' next fetch tells the leader they have it".to_string(),
            1 => format!("committed once {} fetches it", brokers(&lacking)),
            _ => format!("committed once {} fetch it", brokers(&lacking)),
        }
    }

    /// The partition has no running leader; `broker`, which may lead it next, holds the record at
    /// `offset` on its disk.
    pub(super) fn unavailable(&self, a: &Acked, broker: BrokerId, offset: u64) -> String {
        let tp = self.result.names.tp(a.tp);
        if self.result.recorded.is_some() {
            return format!(
                "{}, and broker-{broker}'s log of {tp} read at the end holds it{}, but {tp} has no leader at the end: it is back if broker-{broker} leads it again",
                self.acked(a),
                elsewhere(a, offset)
            );
        }
        let Some(Holder::Offline {
            stopped_leader,
            since,
            ..
        }) = self.result.holders.get(&a.tp)
        else {
            unreachable!("an unavailable record is on an offline partition")
        };
        let offline = match (stopped_leader, since) {
            (Some(l), _) => {
                format!("{tp}'s leader broker-{l} no longer runs (the controller has not fenced it yet)")
            }
            (None, Some(t)) => format!("{tp} has had no leader since {t}"),
            (None, None) => format!("{tp} has no leader"),
        };
        let back = if self.result.stopped.contains(&broker) {
            format!("a restart of broker-{broker} brings it back")
        } else {
            format!("it is back once the controller elects broker-{broker}")
        };
        let lacking: Vec<BrokerId> = self
            .result
            .held_logs(a.tp)
            .into_iter()
            .filter(|(_, log)| log.record_at(offset) != Some(a.record))
            .map(|(b, _)| b)
            .collect();
        let unless = match lacking.len() {
            0 => String::new(),
            _ => format!(
                " (unless {}, which may lead too and lack{} it, leads first)",
                brokers(&lacking),
                if lacking.len() == 1 { "s" } else { "" }
            ),
        };
        format!(
            "{}, and broker-{broker} holds it{} on disk, but {offline}: {back}{unless}",
            self.acked(a),
            elsewhere(a, offset)
        )
    }

    /// A history file could not read the record's partition at the end.
    pub(super) fn unread(&self, a: &Acked) -> String {
        let tp = self.result.names.tp(a.tp);
        format!(
            "{}, but the history has no log of {tp} read at the end (no leader to read it from, or the read failed): not known to be lost; reading {tp} once a replica leads it again, and not finding it, would prove it lost",
            self.acked(a)
        )
    }

    /// No replica that leads or may lead the partition holds the record.
    pub(super) fn lost(&self, a: &Acked) -> String {
        let tp = self.result.names.tp(a.tp);
        if self.result.recorded.is_some() {
            let hw = self.result.logs[&a.tp].high_watermark();
            let absent = match a.offset {
                Some(o) => format!(
                    "the log of {tp} read at the end does not hold it at offset {o}, below its HW {hw}: the committed log has something else there"
                ),
                None => format!("the log of {tp} read at the end (up to the HW {hw}) does not hold it"),
            };
            return format!(
                "{}, but {absent}; a read that missed part of the log (a log start offset moved by retention, a reader stopped early) would prove it wrong",
                self.acked(a)
            );
        }
        let holders: Vec<BrokerId> = match self.result.holders.get(&a.tp) {
            Some(Holder::Leader(b)) => vec![*b],
            Some(Holder::Offline { candidates, .. }) => candidates.clone(),
            None => Vec::new(),
        };
        let whose = match (self.result.holders.get(&a.tp), holders.as_slice()) {
            (Some(Holder::Leader(b)), _) => format!(
                "the leader broker-{b}'s log of {tp} (LEO {}) does not hold it",
                self.result.logs[&a.tp].log_end_offset()
            ),
            (_, []) => format!("{tp} has no replica that may lead it"),
            (_, list) => format!("no replica that may lead {tp} ({}) holds it", brokers(list)),
        };
        let index = self.index.get_or_init(|| self.build_index());
        let (p, s) = (a.record.producer as usize, a.record.seq as usize);
        let cuts = self.cuts.get(&a.record).map_or(&[][..], Vec::as_slice);
        // The holder's own cut says why it lacks the record; another's says where a copy went.
        let cut = cuts
            .iter()
            .rev()
            .find(|t| holders.contains(&t.broker))
            .or(cuts.last());
        let mut cause = match cut {
            Some(t) => format!("broker-{} truncated it at {} ({})", t.broker, t.at, t.why),
            None if !index.appended[p][s] => match a.offset {
                None => {
                    "no leader ever appended it (acks=0: the producer counts a record acknowledged once sent)"
                        .to_string()
                }
                Some(_) => "no leader ever appended it".to_string(),
            },
            None => format!("{} never had it", brokers(&holders)),
        };
        if let Some((b, o)) = index.elsewhere[p][s] {
            cause.push_str(&match self.result.holders.get(&a.tp) {
                Some(Holder::Leader(_)) => format!(
                    "; broker-{b} still has it at offset {o}, but consumers and followers read the leader's log"
                ),
                _ => format!("; broker-{b} still has it at offset {o}, but may not lead {tp}"),
            });
        }
        format!("{}, but {whose}: {cause}", self.acked(a))
    }

    fn build_index(&self) -> Index {
        let mut appended: Vec<Vec<bool>> = sized(self.result, false);
        for a in &self.result.history.appends {
            for r in a.records.iter() {
                if let Some(x) = appended
                    .get_mut(r.producer as usize)
                    .and_then(|p| p.get_mut(r.seq as usize))
                {
                    *x = true;
                }
            }
        }
        let mut elsewhere: Vec<Vec<Option<(BrokerId, u64)>>> = sized(self.result, None);
        for ((tp, b), log) in &self.result.replica_logs {
            if self.holds(*tp, *b) {
                continue;
            }
            for (offset, r) in log.records() {
                if let Some(x) = elsewhere
                    .get_mut(r.producer as usize)
                    .and_then(|p| p.get_mut(r.seq as usize))
                {
                    x.get_or_insert((*b, offset));
                }
            }
        }
        Index { appended, elsewhere }
    }

    /// Broker `b` leads `tp` or may lead it next.
    fn holds(&self, tp: Tp, b: BrokerId) -> bool {
        match self.result.holders.get(&tp) {
            Some(Holder::Leader(l)) => *l == b,
            Some(Holder::Offline { candidates, .. }) => candidates.contains(&b),
            None => false,
        }
    }
}

/// `" at offset 7"` where a copy is not where the producer was told it is (a retry's copy, or
/// acks=0), `""` where it is.
fn elsewhere(a: &Acked, offset: u64) -> String {
    if a.offset == Some(offset) {
        String::new()
    } else {
        format!(" at offset {offset}")
    }
}

/// One `v` per record of every producer.
fn sized<T: Clone>(result: &RunResult, v: T) -> Vec<Vec<T>> {
    let producers = &result.history.producers;
    producers
        .iter()
        .map(|p| vec![v.clone(); p.records.len()])
        .collect()
}

/// `broker-2`, `broker-2 and broker-3`, `broker-1, broker-2 and broker-3`.
fn brokers(list: &[BrokerId]) -> String {
    let names: Vec<String> = list.iter().map(|b| format!("broker-{b}")).collect();
    match names.split_last() {
        Some((last, rest)) if !rest.is_empty() => format!("{} and {last}", rest.join(", ")),
        Some((last, _)) => last.clone(),
        None => "no broker".to_string(),
    }
}

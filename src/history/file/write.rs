//! Writes a simulated run's history file, from the run's [`History`](crate::history::History) and
//! final state after the run: a run without `--history` pays nothing for it.

use super::{FORMAT, FinalLog, Line, Read, TopicPartition, TxnEndOutcome, VERSION};
use crate::history::{ConsumedRecord, Outcome, TxnOutcome};
use crate::kafka::record::{RecordId, Tp};
use crate::scenario::Scenario;
use crate::simulation::{Holder, RunResult};
use std::fmt::Write as _;

/// The history of `result`, a run of `scenario`, as a history file's text.
pub fn write(scenario: &Scenario, result: &RunResult) -> String {
    let w = Writer { scenario, result };
    let mut timed: Vec<(u64, u8, Line)> = Vec::new();
    w.producers(&mut timed);
    w.transactions(&mut timed);
    w.consumers(&mut timed);
    w.groups(&mut timed);
    w.partitions(&mut timed);
    // Stable: within one instant, lines keep the history's order, and each kind its rank.
    timed.sort_by_key(|(at, rank, _)| (*at, *rank));
    let mut out = String::new();
    let header = Line::Header {
        format: FORMAT.to_string(),
        version: VERSION,
        source: format!("kafkasim {}, seed {}", env!("CARGO_PKG_VERSION"), result.seed),
        scenario: scenario.name.clone(),
    };
    push(&mut out, &header);
    for (_, _, line) in &timed {
        push(&mut out, line);
    }
    push(
        &mut out,
        &Line::End {
            at_us: result.end.as_us(),
        },
    );
    for (tp, log) in &result.logs {
        let holder = result.holders.get(tp);
        let lso = log.last_stable_offset();
        // What a read_committed reader drops: records of aborted transactions below the LSO.
        let aborted = log
            .committed()
            .take_while(|(o, _)| *o < lso)
            .filter(|(_, r)| {
                result
                    .history
                    .producers
                    .get(r.producer as usize)
                    .is_some_and(|ph| ph.in_aborted_txn(r.seq))
            })
            .map(|(o, _)| o)
            .collect();
        let line = Line::FinalLog(FinalLog {
            topic: w.topic(*tp),
            partition: tp.partition,
            leader: match holder {
                Some(Holder::Leader(b)) => Some(*b),
                _ => None,
            },
            high_watermark: Some(log.high_watermark()),
            records: log
                .records()
                .map(|(o, r)| {
                    let (p, s) = w.record(r);
                    (o, Some(p), Some(s))
                })
                .collect(),
            readable: None,
            log_end_offset: Some(log.log_end_offset()),
            replica: holder.and_then(Holder::first),
            log_start_offset: Some(log.log_start_offset()),
            last_stable_offset: Some(lso),
            aborted: Some(aborted),
        });
        push(&mut out, &line);
    }
    out
}

fn push(out: &mut String, line: &Line) {
    let json = serde_json::to_string(line).expect("history lines serialize");
    let _ = writeln!(out, "{json}");
}

/// Ranks of the line kinds at one instant: what the cluster did before what the clients saw.
const RANK_STATE: u8 = 0;
const RANK_FAULT: u8 = 1;
const RANK_SEND: u8 = 2;
const RANK_OUTCOME: u8 = 3;
/// A producer's transaction lines share one rank: at one instant (a commit's end and the next
/// begin) they keep their order.
const RANK_TXN: u8 = 4;
const RANK_GROUP: u8 = 5;
const RANK_READ: u8 = 6;

struct Writer<'a> {
    scenario: &'a Scenario,
    result: &'a RunResult,
}

impl Writer<'_> {
    fn topic(&self, tp: Tp) -> String {
        self.scenario.topics[tp.topic as usize].name.clone()
    }

    fn tps(&self, tps: &[Tp]) -> Vec<TopicPartition> {
        tps.iter().map(|tp| (self.topic(*tp), tp.partition)).collect()
    }

    fn record(&self, r: RecordId) -> (String, u64) {
        (
            self.scenario.producers[r.producer as usize].id.clone(),
            u64::from(r.seq),
        )
    }

    fn producers(&self, timed: &mut Vec<(u64, u8, Line)>) {
        for (p, ph) in self.result.history.producers.iter().enumerate() {
            let producer = &self.scenario.producers[p];
            for (seq, rh) in ph.records.iter().enumerate() {
                let r = RecordId {
                    producer: p as u32,
                    seq: seq as u32,
                };
                let outcome = rh.outcome();
                // A record that failed before it went into a batch (buffer full, ...) was still
                // handed to send(): its send line is at its failure.
                let sent_at = match (rh.sent_at(), outcome) {
                    (Some(t), _) => t,
                    (None, Outcome::Failed { at, .. }) => at,
                    (None, _) => continue,
                };
                timed.push((
                    sent_at.as_us(),
                    RANK_SEND,
                    Line::Send {
                        at_us: sent_at.as_us(),
                        producer: producer.id.clone(),
                        seq: seq as u64,
                        topic: self.scenario.topics[producer.workload.topic].name.clone(),
                        partition: rh.tp().map(|tp| tp.partition),
                        // A processor's output has its input's key.
                        key: self
                            .result
                            .names
                            .key_of(ph.inputs.get(&r.seq).copied().unwrap_or(r))
                            .map(str::to_string),
                        input: ph.inputs.get(&r.seq).map(|input| self.record(*input)),
                    },
                ));
                let line = match outcome {
                    Outcome::Pending => continue,
                    Outcome::Acked { at, offset } => Line::Ack {
                        at_us: at.as_us(),
                        producer: producer.id.clone(),
                        seq: seq as u64,
                        partition: rh.tp().map(|tp| tp.partition),
                        offset,
                    },
                    Outcome::Failed { at, error } => Line::Fail {
                        at_us: at.as_us(),
                        producer: producer.id.clone(),
                        seq: seq as u64,
                        error: error.name().to_string(),
                    },
                };
                timed.push((line.at_us().unwrap_or(0), RANK_OUTCOME, line));
            }
        }
    }

    /// Each transaction the application began and ended, in order, then each fenced instance. A
    /// transaction the coordinator alone decided has no end line: the final logs' `aborted`
    /// offsets tell.
    fn transactions(&self, timed: &mut Vec<(u64, u8, Line)>) {
        for (p, ph) in self.result.history.producers.iter().enumerate() {
            let producer = &self.scenario.producers[p].id;
            for t in &ph.txns {
                let begin = Line::TxnBegin {
                    at_us: t.begun_at.as_us(),
                    producer: producer.clone(),
                    first: u64::from(t.first),
                };
                timed.push((t.begun_at.as_us(), RANK_TXN, begin));
                let (Some(at), Some(outcome)) = (
                    t.ended_at,
                    match t.outcome {
                        TxnOutcome::Committed => Some(TxnEndOutcome::Committed),
                        TxnOutcome::Aborted => Some(TxnEndOutcome::Aborted),
                        TxnOutcome::Open => None,
                    },
                ) else {
                    continue;
                };
                let end = Line::TxnEnd {
                    at_us: at.as_us(),
                    producer: producer.clone(),
                    records: u64::from(t.records),
                    outcome: outcome.name().to_string(),
                };
                timed.push((at.as_us(), RANK_TXN, end));
            }
            for at in &ph.fenced {
                let line = Line::Fenced {
                    at_us: at.as_us(),
                    producer: producer.clone(),
                };
                timed.push((at.as_us(), RANK_TXN, line));
            }
        }
    }

    fn read(&self, c: &ConsumedRecord) -> Read {
        let (producer, seq) = self.record(c.record);
        Read {
            at_us: c.at.as_us(),
            consumer: self.scenario.consumers[c.consumer as usize].id.clone(),
            topic: self.topic(c.tp),
            partition: c.tp.partition,
            offset: c.offset,
            producer: Some(producer),
            seq: Some(seq),
        }
    }

    fn consumers(&self, timed: &mut Vec<(u64, u8, Line)>) {
        let h = &self.result.history;
        // Before the reads: at one instant, a consumer takes a position, then reads from it.
        for (at, c, tp, offset) in &h.positions {
            let line = Line::Position {
                at_us: at.as_us(),
                consumer: self.scenario.consumers[*c as usize].id.clone(),
                topic: self.topic(*tp),
                partition: tp.partition,
                offset: *offset,
            };
            timed.push((at.as_us(), RANK_READ, line));
        }
        for c in &h.consumed {
            timed.push((c.at.as_us(), RANK_READ, Line::Consume(self.read(c))));
        }
        for c in &h.processed {
            timed.push((c.at.as_us(), RANK_READ, Line::Process(self.read(c))));
        }
    }

    /// The scenario's client id of a group member id (`<client id or group.instance.id>-<uuid>`).
    fn member(&self, member: &str) -> Option<String> {
        self.scenario
            .consumers
            .iter()
            .filter(|c| {
                let prefix = c.config.group_instance_id.as_deref().unwrap_or(&c.id);
                member
                    .strip_prefix(prefix)
                    .is_some_and(|rest| rest.starts_with('-'))
            })
            .max_by_key(|c| c.config.group_instance_id.as_deref().unwrap_or(&c.id).len())
            .map(|c| c.id.clone())
    }

    fn groups(&self, timed: &mut Vec<(u64, u8, Line)>) {
        let h = &self.result.history;
        for c in &h.commits {
            let line = Line::Commit {
                at_us: c.at.as_us(),
                group: c.group.to_string(),
                consumer: self.member(&c.member),
                topic: self.topic(c.tp),
                partition: c.tp.partition,
                offset: c.offset,
            };
            timed.push((c.at.as_us(), RANK_GROUP, line));
        }
        for a in &h.assignments {
            let Some(consumer) = self.member(&a.member) else {
                continue;
            };
            let line = Line::Assignment {
                at_us: a.at.as_us(),
                group: a.group.to_string(),
                consumer,
                generation: a.generation,
                partitions: self.tps(&a.partitions),
            };
            timed.push((a.at.as_us(), RANK_GROUP, line));
        }
        // One line per consumer and instant.
        for chunk in h
            .revocations
            .chunk_by(|(t1, c1, _), (t2, c2, _)| t1 == t2 && c1 == c2)
        {
            let (at, c, _) = chunk[0];
            let tps: Vec<Tp> = chunk.iter().map(|(_, _, tp)| *tp).collect();
            let line = Line::Revoke {
                at_us: at.as_us(),
                consumer: self.scenario.consumers[c as usize].id.clone(),
                partitions: self.tps(&tps),
            };
            timed.push((at.as_us(), RANK_GROUP, line));
        }
    }

    fn log_start(&self, tp: Tp, at_us: u64, offset: u64) -> Line {
        Line::LogStart {
            at_us,
            topic: self.topic(tp),
            partition: tp.partition,
            offset,
        }
    }

    fn partitions(&self, timed: &mut Vec<(u64, u8, Line)>) {
        // Kafka's internal topics are no workload's: a history lists the scenario's own.
        let internal = [
            self.scenario.offsets_topic(),
            self.scenario.transaction_state_topic(),
        ];
        let h = &self.result.history;
        for (tp, views) in &h.partitions {
            if internal.contains(&Some(tp.topic)) {
                continue;
            }
            for v in views {
                let line = Line::PartitionState {
                    at_us: v.since.as_us(),
                    topic: self.topic(*tp),
                    partition: tp.partition,
                    leader: v.leader,
                    isr: v.isr.clone(),
                };
                timed.push((v.since.as_us(), RANK_STATE, line));
            }
        }
        // Each partition's log start offset: 0 from its first sight, then every move.
        for (tp, views) in &h.partitions {
            let Some(first) = views.first().filter(|_| !internal.contains(&Some(tp.topic))) else {
                continue;
            };
            timed.push((
                first.since.as_us(),
                RANK_STATE,
                self.log_start(*tp, first.since.as_us(), 0),
            ));
        }
        for m in &h.log_starts {
            if !internal.contains(&Some(m.tp.topic)) {
                timed.push((m.at.as_us(), RANK_STATE, self.log_start(m.tp, m.at.as_us(), m.to)));
            }
        }
        for (at, text) in &h.faults {
            let line = Line::Fault {
                at_us: at.as_us(),
                fault: text.clone(),
            };
            timed.push((at.as_us(), RANK_FAULT, line));
        }
    }
}

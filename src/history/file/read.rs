//! Reads a history file back into a [`RunResult`] the checkers take unchanged: the history of
//! every send and read, each partition's state over time, and the logs read at the end. Bad
//! lines are errors with file:line:column, what is wrong and how to fix it.

use super::{FIELDS, FORMAT, FinalLog, Line, Read, Recorded, TopicPartition, TxnEndOutcome, VERSION};
use crate::history::{
    ConsumedRecord, GroupAssignmentRecord, GroupCommit, History, LogStartMove, PartitionView,
    ProducerHistory, RecordHistory, TxnHistory, TxnOutcome,
};
use crate::kafka::group::coordinator::GroupState;
use crate::kafka::keys::RecordKeys;
use crate::kafka::log::PartitionLog;
use crate::kafka::protocol::{ClusterMetadata, ErrorCode, PartitionState};
use crate::kafka::record::{RecordId, Tp};
use crate::scenario::error::did_you_mean;
use crate::scenario::{Location, Scenario, ScenarioError};
use crate::sim::SimTime;
use crate::simulation::{Holder, RunResult};
use crate::trace::Names;
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

/// Reads history file `file` (its text `text`) against `scenario`, which names its topics and
/// clients.
pub fn read(file: &str, text: &str, scenario: &Scenario) -> Result<RunResult, ScenarioError> {
    let mut r = Reader::new(file, scenario);
    let mut lines = text.lines().enumerate().peekable();
    if lines.peek().is_none() {
        return Err(ScenarioError::whole_file(file, "the history file is empty").with_help(
            format!("its first line is the header: {{\"type\":\"header\",\"format\":\"{FORMAT}\",\"version\":{VERSION},...}}"),
        ));
    }
    for (i, line) in lines {
        r.line_no = i + 1;
        r.text = line;
        if line.trim().is_empty() {
            return Err(r
                .err(1, "an empty line")
                .with_help("write one JSON object per line, with no blank lines"));
        }
        let parsed = r.parse()?;
        r.take(parsed)?;
    }
    r.finish()
}

struct Reader<'a> {
    file: &'a str,
    scenario: &'a Scenario,
    line_no: usize,
    text: &'a str,
    header: Option<String>,
    last_at_us: u64,
    end: Option<u64>,
    history: History,
    final_logs: BTreeMap<Tp, (PartitionLog, Holder)>,
    unreadable: BTreeSet<Tp>,
    to_log_end: bool,
    /// Partitions some line mentions.
    seen: BTreeSet<Tp>,
    /// Some `txn_begin`, `txn_end` or `fenced` line was read.
    txn_lines: bool,
    /// Some `send` line named its `input`.
    input_lines: bool,
    /// Every readable `final_log` line so far gave `aborted`.
    aborted_known: bool,
    /// Records the final logs list as of aborted transactions.
    aborted: BTreeSet<RecordId>,
    /// The highest log start offset of each partition with `log_start` lines so far.
    log_starts: BTreeMap<Tp, u64>,
}

impl<'a> Reader<'a> {
    fn new(file: &'a str, scenario: &'a Scenario) -> Reader<'a> {
        Reader {
            file,
            scenario,
            line_no: 0,
            text: "",
            header: None,
            last_at_us: 0,
            end: None,
            history: History {
                producers: vec![ProducerHistory::default(); scenario.producers.len()],
                ..History::default()
            },
            final_logs: BTreeMap::new(),
            unreadable: BTreeSet::new(),
            to_log_end: true,
            seen: BTreeSet::new(),
            txn_lines: false,
            input_lines: false,
            aborted_known: true,
            aborted: BTreeSet::new(),
            log_starts: BTreeMap::new(),
        }
    }

    /// An error at `column` of the current line.
    fn err(&self, column: usize, message: impl Into<String>) -> ScenarioError {
        let location = Location {
            line: self.line_no,
            column,
        };
        ScenarioError::at(self.file, location, Some(self.text), 1, message)
    }

    /// The column of field `name`'s key in the current line (1 when it is not found).
    fn column_of(&self, name: &str) -> usize {
        let quoted = format!("\"{name}\"");
        self.text
            .find(&quoted)
            .map_or(1, |b| self.text[..b].chars().count() + 1)
    }

    /// An error about field `name` of the current line.
    fn field_err(&self, name: &str, message: impl Into<String>) -> ScenarioError {
        self.err(self.column_of(name), message)
    }

    /// Parses the current line: JSON syntax, a known `type`, known fields, then their values.
    fn parse(&self) -> Result<Line, ScenarioError> {
        let value: Value = serde_json::from_str(self.text).map_err(|e| self.json_err(&e))?;
        let Value::Object(map) = &value else {
            return Err(self
                .err(1, "a line must be a JSON object")
                .with_help("write {\"type\": ..., ...}"));
        };
        let Some(kind) = map.get("type") else {
            return Err(self.err(1, "the line has no `type`").with_help(
                "add \"type\": one of header, send, ack, fail, consume, process, txn_begin, txn_end, fenced, commit, assignment, revoke, partition_state, fault, end, final_log",
            ));
        };
        let Some((kind, fields)) = kind
            .as_str()
            .and_then(|k| FIELDS.iter().find(|(name, _)| *name == k))
        else {
            let found = kind.as_str().unwrap_or("");
            let mut e = self.field_err("type", format!("unknown line type {kind}"));
            e = match did_you_mean(found, FIELDS.iter().map(|(n, _)| *n)) {
                Some(s) => e.with_help(s),
                None => e.with_help("the types are header, send, ack, fail, consume, process, txn_begin, txn_end, fenced, commit, assignment, revoke, partition_state, fault, end, final_log"),
            };
            return Err(e);
        };
        for key in map.keys().filter(|k| *k != "type") {
            if !fields.contains(&key.as_str()) {
                let e = self.field_err(key, format!("unknown field `{key}` in a `{kind}` line"));
                return Err(match did_you_mean(key, fields.iter().copied()) {
                    Some(s) => e.with_help(s),
                    None => e.with_help(format!("a `{kind}` line has {}", fields.join(", "))),
                });
            }
        }
        serde_json::from_str(self.text).map_err(|e| self.json_err(&e))
    }

    fn json_err(&self, e: &serde_json::Error) -> ScenarioError {
        let text = e.to_string();
        let message = text.rfind(" at line ").map_or(text.as_str(), |i| &text[..i]);
        self.err(e.column().max(1), format!("invalid JSON: {message}"))
            .with_help("see the line formats in the book's chapter \"History files\"")
    }

    fn producer(&self, id: &str, field: &str) -> Result<usize, ScenarioError> {
        self.scenario.producer_index(id).ok_or_else(|| {
            let e = self.field_err(field, format!("the scenario has no producer `{id}`"));
            match did_you_mean(id, self.scenario.producers.iter().map(|p| p.id.as_str())) {
                Some(s) => e.with_help(s),
                None => e.with_help("use a producer id of the scenario given with --scenario"),
            }
        })
    }

    fn consumer(&self, id: &str) -> Result<u32, ScenarioError> {
        match self.scenario.consumer_index(id) {
            Some(i) => Ok(i as u32),
            None => {
                let e = self.field_err("consumer", format!("the scenario has no consumer `{id}`"));
                Err(
                    match did_you_mean(id, self.scenario.consumers.iter().map(|c| c.id.as_str())) {
                        Some(s) => e.with_help(s),
                        None => e.with_help("use a consumer id of the scenario given with --scenario"),
                    },
                )
            }
        }
    }

    /// The partition `topic`-`partition` of the scenario.
    fn tp(&self, topic: &str, partition: u32, field: &str) -> Result<Tp, ScenarioError> {
        let names = self.scenario.topics.iter().filter(|t| !t.internal);
        let Some(t) = self
            .scenario
            .topics
            .iter()
            .position(|t| !t.internal && t.name == topic)
        else {
            let e = self.field_err(field, format!("the scenario has no topic `{topic}`"));
            return Err(match did_you_mean(topic, names.map(|t| t.name.as_str())) {
                Some(s) => e.with_help(s),
                None => e.with_help("use a topic of the scenario given with --scenario"),
            });
        };
        let limit = self.scenario.partition_limit(t);
        if partition >= limit {
            return Err(self
                .field_err(
                    "partition",
                    format!("topic `{topic}` has no partition {partition}"),
                )
                .with_help(format!("its partitions are 0..{}", limit - 1)));
        }
        Ok(Tp {
            topic: t as u32,
            partition,
        })
    }

    fn tps(&self, list: &[TopicPartition]) -> Result<Vec<Tp>, ScenarioError> {
        list.iter().map(|(t, p)| self.tp(t, *p, "partitions")).collect()
    }

    /// Record `seq` of producer `p`, which the scenario's workload sends.
    fn record_id(&self, p: usize, seq: u64) -> Result<RecordId, ScenarioError> {
        let spec = &self.scenario.producers[p];
        // A processor's producer writes one output per input it processes: no fixed count.
        let records = if spec.processor.is_some() {
            u64::from(u32::MAX)
        } else {
            spec.workload.records
        };
        match u32::try_from(seq) {
            Ok(s) if seq < records => Ok(RecordId {
                producer: p as u32,
                seq: s,
            }),
            _ => Err(self
                .field_err(
                    "seq",
                    format!(
                        "seq {seq} is beyond the workload of `{}`",
                        self.scenario.producers[p].id
                    ),
                )
                .with_help(format!(
                    "its workload sends {records} records: seq 0..{}",
                    records.saturating_sub(1)
                ))),
        }
    }

    /// A record that has a `send` line before this one.
    fn sent(&self, producer: &str, seq: u64, field: &str) -> Result<RecordId, ScenarioError> {
        let p = self.producer(producer, field)?;
        let r = self.record_id(p, seq)?;
        let known = self.history.producers[p]
            .records
            .get(r.seq as usize)
            .is_some_and(|h| h.sent_at().is_some());
        if !known {
            return Err(self
                .field_err("seq", format!("{producer}:{seq} was never sent"))
                .with_help(format!(
                    "a `send` line for {producer}:{seq} must come before this line"
                )));
        }
        Ok(r)
    }

    fn take(&mut self, line: Line) -> Result<(), ScenarioError> {
        if self.header.is_none() && !matches!(line, Line::Header { .. }) {
            return Err(self.err(1, "the first line is not the header").with_help(format!(
                "start the file with {{\"type\":\"header\",\"format\":\"{FORMAT}\",\"version\":{VERSION},\"source\":\"...\",\"scenario\":\"...\"}}"
            )));
        }
        if let Some(at) = line.at_us() {
            if self.end.is_some() || !self.final_logs.is_empty() || !self.unreadable.is_empty() {
                return Err(self
                    .field_err("type", "a timed line after the `end` line")
                    .with_help("`end` comes after every timed line; only `final_log` lines follow it"));
            }
            if at < self.last_at_us {
                return Err(self
                    .field_err(
                        "at_us",
                        format!(
                            "time goes backwards: {at} is before {} on an earlier line",
                            self.last_at_us
                        ),
                    )
                    .with_help("lines are in time order (at_us never decreases)"));
            }
            self.last_at_us = at;
        }
        match line {
            Line::Header {
                format,
                version,
                source,
                ..
            } => {
                if self.header.is_some() {
                    return Err(self
                        .field_err("type", "a second header")
                        .with_help("the header is the first line, once"));
                }
                if format != FORMAT {
                    return Err(self
                        .field_err("format", format!("format `{format}` is not a kafkasim history"))
                        .with_help(format!("write \"format\":\"{FORMAT}\"")));
                }
                if version != VERSION {
                    return Err(self
                        .field_err(
                            "version",
                            format!("version {version} is not one this kafkasim reads"),
                        )
                        .with_help(format!("this kafkasim reads version {VERSION}")));
                }
                self.header = Some(source);
            }
            Line::Send {
                at_us,
                producer,
                seq,
                topic,
                partition,
                key,
                input,
            } => {
                self.send(at_us, &producer, seq, &topic, partition, key.as_deref())?;
                if let Some((from, from_seq)) = input {
                    self.input(&producer, seq, &from, from_seq)?;
                }
            }
            Line::Ack {
                at_us,
                producer,
                seq,
                partition,
                offset,
            } => {
                let r = self.sent(&producer, seq, "producer")?;
                self.partition_of(r, partition)?;
                if offset.is_some_and(|o| o >= u64::from(u32::MAX)) {
                    return Err(self
                        .field_err(
                            "offset",
                            "offsets from 2^32 - 1 on are beyond what kafkasim keeps",
                        )
                        .with_help("record the run on fresh topics"));
                }
                let h = self.outcome_slot(r, &producer, seq)?;
                h.acked(SimTime::from_us(at_us), offset);
                self.history.producers[r.producer as usize].acked += 1;
            }
            Line::Fail {
                at_us,
                producer,
                seq,
                error,
            } => {
                let r = self.sent(&producer, seq, "producer")?;
                let Some(code) = ErrorCode::from_name(&error) else {
                    let e = self.field_err("error", format!("error `{error}` is not one kafkasim models"));
                    return Err(
                        match did_you_mean(&error, ErrorCode::ALL.iter().map(|e| e.name())) {
                            Some(s) => e.with_help(s),
                            None => e.with_help(
                                "use the name of Kafka's Errors enum, as kafkasim's ErrorCode names it",
                            ),
                        },
                    );
                };
                self.outcome_slot(r, &producer, seq)?
                    .failed(SimTime::from_us(at_us), code);
            }
            Line::Consume(read) => {
                if let Some(c) = self.consumed(&read)? {
                    self.history.consumed.push(c);
                }
            }
            Line::Process(read) => {
                if let Some(c) = self.consumed(&read)? {
                    self.history.processed.push(c);
                }
            }
            Line::TxnBegin {
                at_us,
                producer,
                first,
            } => self.txn_begin(at_us, &producer, first)?,
            Line::TxnEnd {
                at_us,
                producer,
                records,
                outcome,
            } => self.txn_end(at_us, &producer, records, &outcome)?,
            Line::Fenced { at_us, producer } => {
                let p = self.transactional(&producer)?;
                self.txn_lines = true;
                self.history.producers[p].fenced.push(SimTime::from_us(at_us));
            }
            Line::Commit {
                at_us,
                group,
                consumer,
                topic,
                partition,
                offset,
            } => {
                self.group(&group)?;
                // A member id is `<client id or group.instance.id>-<uuid>`, as for assignments.
                let member = match &consumer {
                    Some(id) => {
                        let c = &self.scenario.consumers[self.consumer(id)? as usize];
                        let prefix = c.config.group_instance_id.as_deref().unwrap_or(&c.id);
                        format!("{prefix}-{id}")
                    }
                    None => String::new(),
                };
                let tp = self.tp(&topic, partition, "topic")?;
                self.history.commits.push(GroupCommit {
                    at: SimTime::from_us(at_us),
                    group: Arc::from(group),
                    member: Arc::from(member),
                    tp,
                    offset,
                });
            }
            Line::Assignment {
                at_us,
                group,
                consumer,
                generation,
                partitions,
            } => {
                self.group(&group)?;
                let c = &self.scenario.consumers[self.consumer(&consumer)? as usize];
                let prefix = c.config.group_instance_id.as_deref().unwrap_or(&c.id);
                let at = SimTime::from_us(at_us);
                let group: Arc<str> = Arc::from(group);
                // A client sees its assignment, not the group's state: the group was Stable in
                // that generation from then on, as far as the history tells.
                self.history
                    .group_states
                    .push((at, group.clone(), GroupState::Stable, generation));
                self.history.assignments.push(GroupAssignmentRecord {
                    at,
                    group,
                    member: Arc::from(format!("{prefix}-{consumer}")),
                    generation,
                    partitions: self.tps(&partitions)?,
                });
            }
            Line::Revoke {
                at_us,
                consumer,
                partitions,
            } => {
                let c = self.consumer(&consumer)?;
                for tp in self.tps(&partitions)? {
                    self.history.revocations.push((SimTime::from_us(at_us), c, tp));
                }
            }
            Line::PartitionState {
                at_us,
                topic,
                partition,
                leader,
                isr,
            } => {
                let tp = self.tp(&topic, partition, "topic")?;
                self.seen.insert(tp);
                self.history
                    .partitions
                    .entry(tp)
                    .or_default()
                    .push(PartitionView {
                        since: SimTime::from_us(at_us),
                        leader,
                        isr,
                    });
            }
            Line::LogStart {
                at_us,
                topic,
                partition,
                offset,
            } => {
                let tp = self.tp(&topic, partition, "topic")?;
                self.seen.insert(tp);
                // A move past every earlier log start offset deletes records; the first line of
                // a partition (or one that repeats a lower offset, a new leader's view) does not.
                let from = self.log_starts.insert(tp, offset);
                let from = from.unwrap_or(0);
                if offset > from {
                    self.history.log_starts.push(LogStartMove {
                        at: SimTime::from_us(at_us),
                        tp,
                        from,
                        to: offset,
                        why: "retention or DeleteRecords (a log_start line)",
                    });
                } else {
                    self.log_starts.insert(tp, from);
                }
            }
            Line::Position {
                at_us,
                consumer,
                topic,
                partition,
                offset,
            } => {
                let c = self.consumer(&consumer)?;
                let tp = self.tp(&topic, partition, "topic")?;
                self.seen.insert(tp);
                self.history
                    .positions
                    .push((SimTime::from_us(at_us), c, tp, offset));
            }
            Line::Fault { at_us, fault } => self.history.faults.push((SimTime::from_us(at_us), fault)),
            Line::End { at_us } => self.end = Some(at_us),
            Line::FinalLog(log) => self.final_log(log)?,
        }
        Ok(())
    }

    fn send(
        &mut self,
        at_us: u64,
        producer: &str,
        seq: u64,
        topic: &str,
        partition: Option<u32>,
        key: Option<&str>,
    ) -> Result<(), ScenarioError> {
        let p = self.producer(producer, "producer")?;
        let r = self.record_id(p, seq)?;
        let workload = &self.scenario.producers[p].workload;
        let expected_topic = &self.scenario.topics[workload.topic].name;
        if topic != expected_topic {
            return Err(self
                .field_err(
                    "topic",
                    format!("`{producer}` sends to `{expected_topic}` in the scenario, not `{topic}`"),
                )
                .with_help(format!("write \"topic\":\"{expected_topic}\"")));
        }
        let expected_key = workload
            .keys
            .as_ref()
            .map(|k| k[r.seq as usize % k.len()].as_str());
        // A processor's output has its input's key, whatever it is.
        let processor = self.scenario.producers[p].processor.is_some();
        if !processor && key.is_some() && key != expected_key {
            return Err(self
                .field_err(
                    "key",
                    format!(
                        "{producer}:{seq} has {} in the scenario's workload, not `{}`",
                        expected_key.map_or("no key".to_string(), |k| format!("key `{k}`")),
                        key.unwrap_or_default()
                    ),
                )
                .with_help("record i of a workload has key i mod the number of keys"));
        }
        let tp = partition
            .map(|part| self.tp(topic, part, "partition"))
            .transpose()?;
        let ph = &mut self.history.producers[p];
        let i = r.seq as usize;
        if ph.records.len() <= i {
            ph.records.resize(i + 1, RecordHistory::NEW);
        }
        if ph.records[i].sent_at().is_some() {
            return Err(self
                .field_err("seq", format!("{producer}:{seq} is sent twice"))
                .with_help("each send() has its own seq: the n-th call of a producer is seq n-1"));
        }
        let h = &mut ph.records[i];
        h.sent_at_us = at_us;
        if let Some(tp) = tp {
            h.topic = tp.topic as u16;
            h.partition = tp.partition as u16;
            self.seen.insert(tp);
        } else {
            h.topic = crate::history::UNSET_U16;
        }
        ph.sent += 1;
        Ok(())
    }

    /// A processor's output `producer`:`seq` names its input record `from`:`from_seq`.
    fn input(&mut self, producer: &str, seq: u64, from: &str, from_seq: u64) -> Result<(), ScenarioError> {
        let p = self.producer(producer, "producer")?;
        if self.scenario.producers[p].processor.is_none() {
            return Err(self
                .field_err(
                    "input",
                    format!("`{producer}` is no processor: its records have no input"),
                )
                .with_help(
                    "only a processor's output names the input record it was made from: leave `input` out",
                ));
        }
        let q = self.producer(from, "input")?;
        let input = self.record_id(q, from_seq)?;
        if self.history.get(input).sent_at().is_none() {
            return Err(self
                .field_err("input", format!("{from}:{from_seq} was never sent"))
                .with_help(format!(
                    "a `send` line for {from}:{from_seq} must come before this line"
                )));
        }
        self.input_lines = true;
        let ph = &mut self.history.producers[p];
        let out = u32::try_from(seq).unwrap_or(u32::MAX);
        ph.inputs.insert(out, input);
        Ok(())
    }

    /// A producer of the scenario with a `transactional.id`.
    fn transactional(&self, producer: &str) -> Result<usize, ScenarioError> {
        let p = self.producer(producer, "producer")?;
        if self.scenario.producers[p].config.transactional_id.is_none() {
            return Err(self
                .field_err(
                    "producer",
                    format!("`{producer}` has no transactional.id in the scenario"),
                )
                .with_help("transaction lines are for producers (and processors) with a transactional.id"));
        }
        Ok(p)
    }

    /// `beginTransaction()`: the transaction's records are `first` on, up to the next one's.
    fn txn_begin(&mut self, at_us: u64, producer: &str, first: u64) -> Result<(), ScenarioError> {
        let p = self.transactional(producer)?;
        let ph = &self.history.producers[p];
        let first = match u32::try_from(first) {
            Ok(f) if ph.txns.last().is_none_or(|t| t.first <= f) => f,
            _ => {
                let last = ph.txns.last().map_or(0, |t| t.first);
                return Err(self
                    .field_err(
                        "first",
                        format!("transaction from seq {first} begins before the one from seq {last}"),
                    )
                    .with_help("`first` is the seq of the transaction's first send(): it never decreases"));
            }
        };
        self.txn_lines = true;
        self.history.producers[p].txns.push(TxnHistory {
            begun_at: SimTime::from_us(at_us),
            ended_at: None,
            first,
            records: 0,
            outcome: TxnOutcome::Open,
        });
        Ok(())
    }

    /// `commitTransaction()` or `abortTransaction()` returned.
    fn txn_end(
        &mut self,
        at_us: u64,
        producer: &str,
        records: u64,
        outcome: &str,
    ) -> Result<(), ScenarioError> {
        let p = self.transactional(producer)?;
        let Some(outcome) = TxnEndOutcome::ALL.into_iter().find(|o| o.name() == outcome) else {
            let e = self.field_err(
                "outcome",
                format!("outcome `{outcome}` is neither committed nor aborted"),
            );
            return Err(
                match did_you_mean(outcome, TxnEndOutcome::ALL.iter().map(|o| o.name())) {
                    Some(s) => e.with_help(s),
                    None => e.with_help("write \"outcome\":\"committed\" or \"outcome\":\"aborted\""),
                },
            );
        };
        let open = self.history.producers[p]
            .txns
            .last()
            .is_some_and(|t| t.ended_at.is_none());
        if !open {
            return Err(self
                .field_err(
                    "type",
                    format!("`{producer}` ends a transaction it did not begin"),
                )
                .with_help("a `txn_end` line follows its producer's `txn_begin` line, once"));
        }
        self.txn_lines = true;
        if let Some(t) = self.history.producers[p].txns.last_mut() {
            t.ended_at = Some(SimTime::from_us(at_us));
            t.records = u32::try_from(records).unwrap_or(u32::MAX);
            t.outcome = match outcome {
                TxnEndOutcome::Committed => TxnOutcome::Committed,
                TxnEndOutcome::Aborted => TxnOutcome::Aborted,
            };
        }
        Ok(())
    }

    /// Sets record `r`'s partition from an `ack` line, checking it against its `send` line.
    fn partition_of(&mut self, r: RecordId, partition: Option<u32>) -> Result<(), ScenarioError> {
        let topic = self.scenario.producers[r.producer as usize].workload.topic;
        let h = self.history.get(r);
        match (h.tp(), partition) {
            (Some(tp), Some(p)) if tp.partition != p => Err(self
                .field_err(
                    "partition",
                    format!(
                        "acknowledged in partition {p}, but sent to partition {}",
                        tp.partition
                    ),
                )
                .with_help("the ack's partition is the send's")),
            (None, Some(p)) => {
                let name = self.scenario.topics[topic].name.clone();
                let tp = self.tp(&name, p, "partition")?;
                self.seen.insert(tp);
                let h = &mut self.history.producers[r.producer as usize].records[r.seq as usize];
                h.topic = tp.topic as u16;
                h.partition = tp.partition as u16;
                Ok(())
            }
            (None, None) => Err(self
                .field_err(
                    "partition",
                    "neither this ack nor the send says which partition the record went to",
                )
                .with_help("give \"partition\" in the send or the ack line")),
            _ => Ok(()),
        }
    }

    /// Record `r`'s entry, for its one outcome.
    fn outcome_slot(
        &mut self,
        r: RecordId,
        producer: &str,
        seq: u64,
    ) -> Result<&mut RecordHistory, ScenarioError> {
        if self.history.get(r).outcome() != crate::history::Outcome::Pending {
            return Err(self
                .field_err("seq", format!("{producer}:{seq} already has an ack or fail line"))
                .with_help("a send's callback runs once: one ack or one fail per send"));
        }
        Ok(&mut self.history.producers[r.producer as usize].records[r.seq as usize])
    }

    fn group(&self, group: &str) -> Result<(), ScenarioError> {
        let groups: Vec<&str> = self
            .scenario
            .consumers
            .iter()
            .filter_map(|c| c.group.as_deref())
            .collect();
        if groups.contains(&group) {
            return Ok(());
        }
        let e = self.field_err(
            "group",
            format!("no consumer of the scenario is in group `{group}`"),
        );
        Err(match did_you_mean(group, groups.iter().copied()) {
            Some(s) => e.with_help(s),
            None => e.with_help("use a group of the scenario's consumers"),
        })
    }

    /// A consumed or processed workload record (`None`: a record that is no workload's).
    fn consumed(&mut self, read: &Read) -> Result<Option<ConsumedRecord>, ScenarioError> {
        let consumer = self.consumer(&read.consumer)?;
        let tp = self.tp(&read.topic, read.partition, "topic")?;
        self.seen.insert(tp);
        let (Some(producer), Some(seq)) = (&read.producer, read.seq) else {
            return Ok(None);
        };
        let record = self.sent(producer, seq, "producer")?;
        Ok(Some(ConsumedRecord {
            at: SimTime::from_us(read.at_us),
            consumer,
            tp,
            offset: read.offset,
            record,
        }))
    }

    fn final_log(&mut self, log: FinalLog) -> Result<(), ScenarioError> {
        if self.end.is_none() {
            return Err(self
                .field_err("type", "a `final_log` line before the `end` line")
                .with_help(
                    "write {\"type\":\"end\",\"at_us\":...} after the last timed line, then the final logs",
                ));
        }
        let tp = self.tp(&log.topic, log.partition, "topic")?;
        if self.final_logs.contains_key(&tp) || self.unreadable.contains(&tp) {
            return Err(self
                .field_err(
                    "topic",
                    format!("a second `final_log` for {}-{}", log.topic, log.partition),
                )
                .with_help("one final_log line per partition"));
        }
        if log.readable == Some(false) {
            if !log.records.is_empty() {
                return Err(self
                    .field_err("records", "records in a log marked \"readable\": false")
                    .with_help("an unreadable log has \"records\":[]"));
            }
            self.unreadable.insert(tp);
            return Ok(());
        }
        let Some(high_watermark) = log.high_watermark else {
            return Err(self
                .field_err("type", "a readable `final_log` without `high_watermark`")
                .with_help(
                    "give the high watermark the log was read up to, or mark the log \"readable\": false",
                ));
        };
        let mut records = Vec::with_capacity(log.records.len());
        let mut next = 0u64;
        for (offset, producer, seq) in &log.records {
            if *offset < next {
                return Err(self
                    .field_err(
                        "records",
                        format!("offset {offset} comes after offset {}", next - 1),
                    )
                    .with_help("records are in offset order, each offset once"));
            }
            next = offset + 1;
            if let (Some(p), Some(s)) = (producer, seq) {
                records.push((*offset, self.sent(p, *s, "records")?));
            }
        }
        let end = log.log_end_offset.unwrap_or(next.max(high_watermark));
        if high_watermark > end || next > end {
            return Err(self
                .field_err(
                    "high_watermark",
                    format!(
                        "the high watermark {} and the records must end by the log end offset {end}",
                        high_watermark
                    ),
                )
                .with_help("high_watermark <= log_end_offset, and every record's offset < log_end_offset"));
        }
        self.to_log_end &= log.log_end_offset.is_some();
        let lso = log.last_stable_offset.unwrap_or(high_watermark);
        if lso > high_watermark {
            return Err(self
                .field_err(
                    "last_stable_offset",
                    format!("the last stable offset {lso} is above the high watermark {high_watermark}"),
                )
                .with_help("last_stable_offset <= high_watermark: a read_committed reader reads no further than a read_uncommitted one"));
        }
        match &log.aborted {
            Some(offsets) => {
                for offset in offsets {
                    let Some(r) = records.iter().find(|(o, _)| o == offset).map(|(_, r)| *r) else {
                        return Err(self
                            .field_err(
                                "aborted",
                                format!("aborted offset {offset} is none of the workload's records"),
                            )
                            .with_help("list the offsets of `records` that a read_committed reader drops"));
                    };
                    if *offset >= lso {
                        return Err(self
                            .field_err(
                                "aborted",
                                format!("aborted offset {offset} is not below the last stable offset {lso}"),
                            )
                            .with_help("only records below the last stable offset are decided"));
                    }
                    self.aborted.insert(r);
                }
            }
            None => self.aborted_known = false,
        }
        let holder = match (log.leader, log.replica) {
            (Some(l), Some(r)) if l != r => {
                return Err(self
                    .field_err("replica", format!("replica {r} is not the leader {l}"))
                    .with_help("with a leader, the log read is the leader's: leave `replica` out"));
            }
            (Some(l), _) => Holder::Leader(l),
            (None, replica) => Holder::Offline {
                candidates: replica.into_iter().collect(),
                stopped_leader: None,
                since: None,
            },
        };
        let first = log.records.first().map_or(end, |(o, _, _)| *o);
        let log_start = log.log_start_offset.unwrap_or(first);
        if log_start > first || log_start > high_watermark {
            return Err(self
                .field_err(
                    "log_start_offset",
                    format!(
                        "the log start offset {log_start} is past the first record (offset {first}) or the high watermark {high_watermark}"
                    ),
                )
                .with_help("the read begins at the log start offset: every record and the high watermark are at or after it"));
        }
        let log = PartitionLog::recorded(&records, log_start, high_watermark, end, log.last_stable_offset);
        self.final_logs.insert(tp, (log, holder));
        Ok(())
    }

    /// A transaction its application did not end (it crashed, or was fenced) was aborted by the
    /// coordinator when the final logs list one of its records as aborted.
    fn coordinator_aborts(&mut self) {
        for (p, ph) in self.history.producers.iter_mut().enumerate() {
            let sent = ph.records.len() as u32;
            let firsts: Vec<u32> = ph.txns.iter().map(|t| t.first).collect();
            for (i, t) in ph.txns.iter_mut().enumerate() {
                if t.outcome != TxnOutcome::Open {
                    continue;
                }
                let end = firsts.get(i + 1).copied().unwrap_or(sent);
                let aborted = (t.first..end).any(|seq| {
                    self.aborted.contains(&RecordId {
                        producer: p as u32,
                        seq,
                    })
                });
                if aborted {
                    t.outcome = TxnOutcome::Aborted;
                    t.records = end.saturating_sub(t.first);
                }
            }
        }
    }

    fn finish(mut self) -> Result<RunResult, ScenarioError> {
        let Some(end) = self.end else {
            return Err(ScenarioError::whole_file(self.file, "the history has no `end` line")
                .with_help("write {\"type\":\"end\",\"at_us\":...} after the last timed line (a recorder that stopped early left the file incomplete)"));
        };
        let source = self.header.take().unwrap_or_default();
        let s = self.scenario;
        self.coordinator_aborts();
        let mut holders = BTreeMap::new();
        let mut logs = BTreeMap::new();
        let mut replica_logs = BTreeMap::new();
        self.seen.extend(self.final_logs.keys().copied());
        for tp in &self.seen {
            let (log, mut holder) = match self.final_logs.remove(tp) {
                Some(x) => x,
                None => {
                    self.unreadable.insert(*tp);
                    (
                        PartitionLog::default(),
                        Holder::Offline {
                            candidates: Vec::new(),
                            stopped_leader: None,
                            since: None,
                        },
                    )
                }
            };
            if let Holder::Offline { since, .. } = &mut holder {
                *since = self.history.leaderless_since(*tp);
            }
            if let Some(b) = holder.first() {
                replica_logs.insert((*tp, b), log.clone());
            }
            logs.insert(*tp, log);
            holders.insert(*tp, holder);
        }
        let mut topics: Vec<Vec<PartitionState>> = vec![Vec::new(); s.topics.len()];
        for tp in &self.seen {
            let parts = &mut topics[tp.topic as usize];
            if parts.len() <= tp.partition as usize {
                parts.resize_with(tp.partition as usize + 1, || PartitionState {
                    leader: None,
                    leader_epoch: 0,
                    partition_epoch: 0,
                    replicas: Vec::new(),
                    isr: Vec::new(),
                });
            }
            if let Some(v) = self.history.partitions.get(tp).and_then(|v| v.last()) {
                let state = &mut parts[tp.partition as usize];
                state.leader = v.leader;
                state.isr = v.isr.clone();
            }
        }
        let mut nodes: Vec<String> = (1..=s.cluster.brokers).map(|b| format!("broker-{b}")).collect();
        nodes.push("controller".to_string());
        nodes.extend(s.producers.iter().map(|p| p.id.clone()));
        nodes.extend(s.consumers.iter().map(|c| c.id.clone()));
        let names = Names {
            nodes,
            topics: s.topics.iter().map(|t| t.name.clone()).collect(),
            producers: s.producers.iter().map(|p| p.id.clone()).collect(),
            keys: Arc::new(RecordKeys::of_scenario(s)),
        };
        Ok(RunResult {
            seed: s.seed,
            end: SimTime::from_us(end),
            events: 0,
            stopped_early: None,
            livelock: false,
            mean_queue_len: 0,
            history: self.history,
            trace: None,
            groups: Vec::new(),
            transactions: Vec::new(),
            metadata: Arc::new(ClusterMetadata {
                version: 0,
                live_brokers: Vec::new(),
                topics,
            }),
            logs,
            holders,
            stopped: BTreeSet::new(),
            replica_logs,
            consumer_positions: vec![Vec::new(); s.consumers.len()],
            names,
            violations: Vec::new(),
            recorded: Some(Recorded {
                source,
                unreadable: self.unreadable.into_iter().collect(),
                to_log_end: self.to_log_end,
                transactions: !s.producers.iter().any(|p| p.config.transactional_id.is_some())
                    || (self.txn_lines && self.aborted_known),
                outputs: s.processors.is_empty() || self.input_lines,
                log_starts: self.seen.iter().all(|tp| self.log_starts.contains_key(tp)),
            }),
        })
    }
}

//! Checkers over the recorded history and the final logs, and the evaluation of `expect`.
//!
//! - `lost_acked`, `uncommitted_acked`, `unavailable_acked`: acknowledged to the producer, and
//!   at the end in no log the partition has or may recover with, in the leader's log above its
//!   high watermark, or only on the disk of a replica of a partition without a leader (`acked`);
//! - `duplicates`: one send, several copies in the final committed log;
//! - `reordered`: a record that something its producer sent later overtook — in a partition's log
//!   (per partition, or per key with `key`), or in what a consumer read (with `consumer`);
//! - `read_uncommitted`: a consumer read a record that no log the partition has or may recover
//!   with holds at that offset;
//! - `divergent_replicas`: two replicas disagree below both their high watermarks (the gaps a
//!   replica's own cleaner leaves are no disagreement);
//! - `expired_unread`: records a group (or a group-less consumer) never read because retention
//!   or `DeleteRecords` deleted them first;
//! - `compaction_lost`, `missed_tombstone`: a compacted topic read as a table gives a key's last
//!   acknowledged write; a reader learns of every delete (`compaction`).
//!
//! `Leader` and `Isr` expectations read each partition's state timeline from the history.

mod acked;
mod compaction;
pub mod expect;
mod expired;
mod explain;
mod groups;
pub mod invariants;
pub mod keys;
mod replicas;
mod scan;
mod txns;

use expect::{Check, Expectation, Filter, Measure};
pub use explain::explain;
pub use scan::Finding;

use crate::history::{Outcome, ProducerHistory, TxnOutcome};
use crate::kafka::protocol::ErrorCode;
use crate::kafka::record::{RecordId, Tp};
use crate::scenario::Scenario;
use crate::sim::{SimDuration, SimTime};
use crate::simulation::RunResult;
use scan::{Occurrences, Order};

/// Everything a run's checks found.
pub struct CheckReport {
    /// `lost_acked` findings.
    pub lost_acked: Vec<Finding>,
    /// `uncommitted_acked` findings.
    pub uncommitted_acked: Vec<Finding>,
    /// `unavailable_acked` findings.
    pub unavailable_acked: Vec<Finding>,
    /// `duplicates` findings.
    pub duplicates: Vec<Finding>,
    /// `reordered` findings in partition log order.
    pub reordered: Vec<Finding>,
    /// `read_uncommitted` findings, in read order.
    pub read_uncommitted: Vec<Finding>,
    /// `divergent_replicas` findings, by partition and offset.
    pub divergent_replicas: Vec<Finding>,
    /// `key_moved` findings, by topic and key.
    pub key_moved: Vec<Finding>,
    /// `redelivered` findings, in processing order.
    pub redelivered: Vec<Finding>,
    /// `skipped` findings, by group, partition and offset.
    pub skipped: Vec<Finding>,
    /// `read_aborted` findings, in read order.
    pub read_aborted: Vec<Finding>,
    /// `output_duplicates` findings, by processor and input record.
    pub output_duplicates: Vec<Finding>,
    /// `output_missing` findings, by processor and input partition.
    pub output_missing: Vec<Finding>,
    /// `expired_unread` findings, by reader (groups by name, then group-less consumers),
    /// partition and offset.
    pub expired_unread: Vec<Finding>,
    /// `compaction_lost` findings, by partition and key.
    pub compaction_lost: Vec<Finding>,
    /// `missed_tombstone` findings, by tombstone and consumer.
    pub missed_tombstone: Vec<Finding>,
    /// One outcome per `expect` entry.
    pub expectations: Vec<ExpectationOutcome>,
}

/// How one `expect` entry fared.
pub struct ExpectationOutcome {
    /// The entry.
    pub expectation: Expectation,
    /// What was found: a count, or the partition's state.
    pub found: String,
    /// Within the bound.
    pub ok: bool,
    /// Up to a few findings behind the count, to explain a miss.
    pub examples: Vec<Finding>,
}

impl CheckReport {
    /// True when every expectation holds.
    pub fn passed(&self) -> bool {
        self.expectations.iter().all(|e| e.ok)
    }
}

/// How many example findings an expectation keeps.
const EXAMPLES: usize = 3;

/// Runs every checker and evaluates the scenario's expectations.
pub fn check(scenario: &Scenario, result: &RunResult) -> CheckReport {
    check_with_tolerance(scenario, result, SimDuration::ZERO)
}

/// [`check`], where a state check (`Leader`, `Isr`, `Assignment`) also holds when its state held
/// at some moment within `tolerance` of the one it names: for histories recorded in real time,
/// where a failover takes a little more or less than in the simulation.
pub fn check_with_tolerance(scenario: &Scenario, result: &RunResult, tolerance: SimDuration) -> CheckReport {
    let occ = Occurrences::build(result);
    let ctx = Ctx {
        scenario,
        result,
        occ: &occ,
        tolerance,
    };
    let acked = acked::acked(scenario, result);
    let report = CheckReport {
        lost_acked: acked.lost,
        uncommitted_acked: acked.uncommitted,
        unavailable_acked: acked.unavailable,
        duplicates: ctx.duplicates(),
        reordered: ctx.reordered(&Filter::default()),
        read_uncommitted: replicas::read_uncommitted(scenario, result),
        divergent_replicas: replicas::divergent_replicas(result),
        key_moved: keys::key_moved(&keys::placements(result), &result.names),
        redelivered: groups::redelivered(scenario, result),
        skipped: groups::skipped(scenario, result),
        read_aborted: txns::read_aborted(scenario, result),
        output_duplicates: txns::output_duplicates(scenario, result),
        output_missing: txns::output_missing(scenario, result),
        expired_unread: expired::expired_unread(scenario, result),
        compaction_lost: compaction::compaction_lost(scenario, result),
        missed_tombstone: compaction::missed_tombstone(scenario, result),
        expectations: Vec::new(),
    };
    let expectations = scenario.expect.iter().map(|e| ctx.evaluate(e, &report)).collect();
    CheckReport {
        expectations,
        ..report
    }
}

struct Ctx<'a> {
    scenario: &'a Scenario,
    result: &'a RunResult,
    occ: &'a Occurrences,
    /// How far from its moment a state check may find its state (0 for simulated runs).
    tolerance: SimDuration,
}

impl Ctx<'_> {
    fn evaluate(&self, e: &Expectation, report: &CheckReport) -> ExpectationOutcome {
        let outcome = |ok: bool, found: String, examples: Vec<Finding>| ExpectationOutcome {
            expectation: e.clone(),
            found,
            ok,
            examples,
        };
        match &e.check {
            Check::Count {
                measure,
                filter,
                bound,
            } => {
                let (actual, mut examples) = match measure {
                    Measure::LostAcked => self.matching(&report.lost_acked, filter),
                    Measure::UncommittedAcked => self.matching(&report.uncommitted_acked, filter),
                    Measure::UnavailableAcked => self.matching(&report.unavailable_acked, filter),
                    Measure::Duplicates => self.matching(&report.duplicates, filter),
                    Measure::Reordered => self.matching(&self.reordered(filter), filter),
                    Measure::ReadUncommitted | Measure::ReadAborted => {
                        let ci = filter
                            .consumer
                            .as_ref()
                            .map(|c| self.scenario.consumer_index(c).expect("validated") as u32);
                        let all = if *measure == Measure::ReadAborted {
                            &report.read_aborted
                        } else {
                            &report.read_uncommitted
                        };
                        let mine: Vec<Finding> = all
                            .iter()
                            .filter(|f| ci.is_none_or(|i| f.consumer == Some(i)))
                            .cloned()
                            .collect();
                        self.matching(&mine, filter)
                    }
                    Measure::DivergentReplicas => self.matching(&report.divergent_replicas, filter),
                    Measure::KeyMoved => self.matching(&report.key_moved, filter),
                    Measure::Redelivered => self.matching_consumer(&report.redelivered, filter),
                    Measure::Skipped => self.matching(&report.skipped, filter),
                    Measure::OutputDuplicates => self.matching_processor(&report.output_duplicates, filter),
                    Measure::OutputMissing => self.matching_processor(&report.output_missing, filter),
                    Measure::ExpiredUnread => self.matching_reader(&report.expired_unread, filter),
                    Measure::CompactionLost => self.matching(&report.compaction_lost, filter),
                    Measure::MissedTombstone => self.matching_consumer(&report.missed_tombstone, filter),
                    _ => (self.counter(*measure, filter), Vec::new()),
                };
                examples.truncate(EXAMPLES);
                outcome(bound.admits(actual), actual.to_string(), examples)
            }
            Check::Leader { tp, broker, at } => self.state(e, *at, Some(*tp), None, |at, when| {
                let view = self.result.history.partition_at(*tp, at);
                let leader = view.and_then(|v| v.leader);
                let found = match leader {
                    Some(b) => format!("broker {b} led it {when}"),
                    None => format!("it was offline {when}"),
                };
                (view.is_some() && leader == *broker, found)
            }),
            Check::Isr { tp, brokers, at } => self.state(e, *at, Some(*tp), None, |at, when| {
                let mut isr = self
                    .result
                    .history
                    .partition_at(*tp, at)
                    .map(|v| v.isr.clone())
                    .unwrap_or_default();
                isr.sort_unstable();
                let list: Vec<String> = isr.iter().map(u32::to_string).collect();
                (
                    isr == *brokers,
                    format!("the ISR was [{}] {when}", list.join(", ")),
                )
            }),
            Check::Assignment {
                group,
                consumer,
                member_prefix,
                topic,
                partitions,
                at,
            } => self.state(e, *at, None, Some(group), |at, when| {
                let mut got: Vec<u32> = self
                    .result
                    .history
                    .group_assignment_at(group, at)
                    .into_iter()
                    .filter(|(m, _)| m.starts_with(member_prefix.as_str()))
                    .flat_map(|(_, parts)| {
                        parts
                            .iter()
                            .filter(|tp| tp.topic == *topic)
                            .map(|tp| tp.partition)
                    })
                    .collect();
                got.sort_unstable();
                let list: Vec<String> = got.iter().map(u32::to_string).collect();
                (
                    got == *partitions,
                    format!("{consumer} had [{}] {when}", list.join(", ")),
                )
            }),
        }
    }

    /// The moment a state check looks at, and how to say it.
    fn moment(&self, at: Option<SimTime>) -> (SimTime, String) {
        match at {
            Some(t) => (t, format!("at {}", t.since(SimTime::ZERO).human())),
            None => (self.result.end, "at the end".to_string()),
        }
    }

    /// A state check: `holds(t, when)` at its moment or, with a tolerance, at any moment within
    /// it where the partition's (`tp`) or the group's state changed.
    fn state(
        &self,
        e: &Expectation,
        at: Option<SimTime>,
        tp: Option<Tp>,
        group: Option<&String>,
        holds: impl Fn(SimTime, &str) -> (bool, String),
    ) -> ExpectationOutcome {
        let (moment, when) = self.moment(at);
        let (mut ok, mut found) = holds(moment, &when);
        if !ok && self.tolerance > SimDuration::ZERO {
            let from = SimTime::from_us(moment.as_us().saturating_sub(self.tolerance.as_us()));
            let to = SimTime::from_us((moment.as_us() + self.tolerance.as_us()).min(self.result.end.as_us()));
            let history = &self.result.history;
            let partition_changes = tp
                .and_then(|tp| history.partitions.get(&tp))
                .into_iter()
                .flatten()
                .map(|v| v.since);
            let group_changes = group.into_iter().flat_map(|g| {
                let states = history
                    .group_states
                    .iter()
                    .filter(move |s| s.1.as_ref() == g.as_str());
                let assignments = history
                    .assignments
                    .iter()
                    .filter(move |a| a.group.as_ref() == g.as_str());
                states.map(|s| s.0).chain(assignments.map(|a| a.at))
            });
            let hit = std::iter::once(from)
                .chain(partition_changes)
                .chain(group_changes)
                .filter(|t| (from..=to).contains(t))
                .find(|t| holds(*t, "").0);
            if let Some(t) = hit {
                ok = true;
                found = format!(
                    "{found}; as expected at {}, within the tolerance of {}",
                    t.since(SimTime::ZERO).human(),
                    self.tolerance.human()
                );
            }
        }
        ExpectationOutcome {
            expectation: e.clone(),
            found,
            ok,
            examples: Vec::new(),
        }
    }

    fn key(&self, r: RecordId) -> Option<&str> {
        self.result.names.key_of(r)
    }

    /// Does record `r`, at `tp`, pass the filter's record fields?
    fn admits(&self, f: &Filter, r: RecordId, tp: Option<Tp>) -> bool {
        let topic_ok = f
            .topic
            .as_ref()
            .is_none_or(|t| tp.is_some_and(|tp| self.scenario.topics[tp.topic as usize].name == *t));
        let partition_ok = f.partition.is_none_or(|p| tp.is_some_and(|tp| tp.partition == p));
        let key_ok = f.key.as_ref().is_none_or(|k| self.key(r) == Some(k.as_str()));
        let producer_ok = f
            .producer
            .as_ref()
            .is_none_or(|p| self.scenario.producers[r.producer as usize].id == *p);
        topic_ok && partition_ok && key_ok && producer_ok
    }

    fn matching(&self, findings: &[Finding], f: &Filter) -> (u64, Vec<Finding>) {
        let hits: Vec<Finding> = findings
            .iter()
            .filter(|x| self.admits(f, x.record, Some(x.tp)))
            .cloned()
            .collect();
        (hits.len() as u64, hits)
    }

    /// [`Ctx::matching`], also narrowed by the finding's consumer.
    fn matching_consumer(&self, findings: &[Finding], f: &Filter) -> (u64, Vec<Finding>) {
        let ci = f
            .consumer
            .as_ref()
            .and_then(|c| self.scenario.consumer_index(c))
            .map(|i| i as u32);
        let (_, hits) = self.matching(findings, f);
        let hits: Vec<Finding> = hits
            .into_iter()
            .filter(|x| ci.is_none_or(|c| x.consumer == Some(c)))
            .collect();
        (hits.len() as u64, hits)
    }

    /// [`Ctx::matching`], also narrowed to the readers of the filter's consumer: its group's
    /// members (a finding names the member whose position it was), or itself without a group.
    fn matching_reader(&self, findings: &[Finding], f: &Filter) -> (u64, Vec<Finding>) {
        let consumers = &self.scenario.consumers;
        let named = f.consumer.as_ref().and_then(|c| self.scenario.consumer_index(c));
        let same_reader = |i: u32| {
            named.is_none_or(|n| {
                let (a, b) = (&consumers[n], &consumers[i as usize]);
                n == i as usize || (a.group.is_some() && a.group == b.group)
            })
        };
        let (_, hits) = self.matching(findings, f);
        let hits: Vec<Finding> = hits
            .into_iter()
            .filter(|x| x.consumer.is_some_and(same_reader))
            .collect();
        (hits.len() as u64, hits)
    }

    /// Findings about a processors' group's inputs, narrowed by `producer` naming one of the
    /// group's processors.
    fn matching_processor(&self, findings: &[Finding], f: &Filter) -> (u64, Vec<Finding>) {
        let group_of = |producer: usize| {
            let i = self.scenario.producers.get(producer)?.processor?;
            Some(self.scenario.processors[i].group.as_str())
        };
        let wanted = f
            .producer
            .as_ref()
            .and_then(|p| self.scenario.producer_index(p))
            .and_then(group_of);
        let hits: Vec<Finding> = findings
            .iter()
            .filter(|x| {
                f.producer.is_none()
                    || (wanted.is_some() && x.processor.and_then(|p| group_of(p as usize)) == wanted)
            })
            .cloned()
            .collect();
        (hits.len() as u64, hits)
    }

    fn duplicates(&self) -> Vec<Finding> {
        let producers = &self.result.history.producers;
        self.occ
            .duplicated()
            // Copies of a record of an aborted transaction are not delivered copies.
            .filter(|(r, _)| !producers[r.producer as usize].in_aborted_txn(r.seq))
            .map(|(r, places)| {
                let tp = places[0].0;
                let offsets: Vec<String> = places.iter().map(|(_, o)| o.to_string()).collect();
                Finding {
                    measure: Measure::Duplicates,
                    processor: None,
                    consumer: None,
                    record: r,
                    tp,
                    other: None,
                    headline: format!(
                        "{} is in {} {} times, at offsets {}",
                        self.label(r),
                        self.result.names.tp(tp),
                        places.len(),
                        offsets.join(", ")
                    ),
                }
            })
            .collect()
    }

    /// Overtaken records in partition log order, or in a consumer's read order when the filter
    /// names one; per key when it names a key.
    fn reordered(&self, f: &Filter) -> Vec<Finding> {
        let by_key = f.key.is_some();
        match &f.consumer {
            None => self
                .result
                .logs
                .iter()
                .flat_map(|(tp, log)| {
                    let order = Order::log(*tp, log);
                    scan::overtaken(&order, by_key, |r| self.key(r), &self.result.names, None)
                })
                .collect(),
            Some(c) => {
                let ci = self.scenario.consumer_index(c).expect("validated") as u32;
                let order = Order::consumed(&self.result.history, ci);
                scan::overtaken(&order, by_key, |r| self.key(r), &self.result.names, Some(c))
            }
        }
    }

    fn counter(&self, m: Measure, f: &Filter) -> u64 {
        let h = &self.result.history;
        let records = || {
            h.producers.iter().enumerate().flat_map(|(p, ph)| {
                ph.records.iter().enumerate().map(move |(seq, rh)| {
                    (
                        RecordId {
                            producer: p as u32,
                            seq: seq as u32,
                        },
                        rh,
                    )
                })
            })
        };
        match m {
            Measure::Acked => records()
                .filter(|(r, rh)| {
                    matches!(rh.outcome(), Outcome::Acked { .. }) && self.admits(f, *r, rh.tp())
                })
                .count() as u64,
            Measure::Failed => records()
                .filter(|(r, rh)| {
                    matches!(rh.outcome(), Outcome::Failed { error, .. } if f.error.is_none_or(|e| e == error))
                        && self.admits(f, *r, rh.tp())
                })
                .count() as u64,
            Measure::Retries => self
                .producers(f)
                .flat_map(|(p, ph)| ph.batches.iter().map(move |b| (p, b)))
                .filter(|(p, b)| {
                    self.admits(
                        f,
                        RecordId {
                            producer: *p as u32,
                            seq: 0,
                        },
                        b.tp,
                    )
                })
                .map(|(_, b)| {
                    let after = |e: &&ErrorCode| f.error.is_none_or(|want| want == **e);
                    b.retried_on.iter().filter(after).count() as u64
                })
                .sum(),
            Measure::Deduplicated => self
                .producers(f)
                .flat_map(|(p, ph)| ph.batches.iter().map(move |b| (p, b)))
                .filter(|(p, b)| {
                    let any_record = RecordId {
                        producer: *p as u32,
                        seq: 0,
                    };
                    self.admits(f, any_record, b.tp)
                })
                .map(|(_, b)| u64::from(b.deduplicated))
                .sum(),
            Measure::Requests => self.producers(f).map(|(_, ph)| ph.requests).sum(),
            Measure::Committed | Measure::Aborted => {
                let want = if m == Measure::Committed {
                    TxnOutcome::Committed
                } else {
                    TxnOutcome::Aborted
                };
                self.producers(f)
                    .map(|(_, ph)| ph.txns.iter().filter(|t| t.outcome == want).count() as u64)
                    .sum()
            }
            Measure::Fenced => self.producers(f).map(|(_, ph)| ph.fenced.len() as u64).sum(),
            Measure::Revoked => h
                .revocations
                .iter()
                .filter(|(_, c, tp)| {
                    let consumer_ok = f
                        .consumer
                        .as_ref()
                        .is_none_or(|id| self.scenario.consumers[*c as usize].id == *id);
                    let topic_ok = f
                        .topic
                        .as_ref()
                        .is_none_or(|t| self.scenario.topics[tp.topic as usize].name == *t);
                    consumer_ok && topic_ok && f.partition.is_none_or(|p| tp.partition == p)
                })
                .count() as u64,
            Measure::Consumed => h
                .consumed
                .iter()
                .filter(|c| {
                    f.consumer
                        .as_ref()
                        .is_none_or(|id| self.scenario.consumers[c.consumer as usize].id == *id)
                })
                .filter(|c| self.admits(f, c.record, Some(c.tp)))
                .count() as u64,
            Measure::LostAcked
            | Measure::UncommittedAcked
            | Measure::UnavailableAcked
            | Measure::Duplicates
            | Measure::Reordered
            | Measure::ReadUncommitted
            | Measure::DivergentReplicas
            | Measure::KeyMoved
            | Measure::Redelivered
            | Measure::Skipped
            | Measure::ReadAborted
            | Measure::OutputDuplicates
            | Measure::OutputMissing
            | Measure::ExpiredUnread => unreachable!("checkers are counted from findings"),
            | Measure::CompactionLost
            | Measure::MissedTombstone => unreachable!("checkers are counted from findings"),
        }
    }

    /// The producers the filter admits, with their histories.
    fn producers<'f>(&'f self, f: &'f Filter) -> impl Iterator<Item = (usize, &'f ProducerHistory)> + 'f {
        self.result
            .history
            .producers
            .iter()
            .enumerate()
            .filter(move |(p, _)| {
                f.producer
                    .as_ref()
                    .is_none_or(|id| self.scenario.producers[*p].id == *id)
            })
    }

    fn label(&self, r: RecordId) -> String {
        label(&self.result.names, r)
    }
}

fn label(names: &crate::trace::Names, r: RecordId) -> String {
    match names.key_of(r) {
        Some(k) => format!("{} (key {k})", names.record(r)),
        None => names.record(r),
    }
}

/// `"Reordered(topic: \"orders\", at_least: 1): 0 found, expected at least 1"`, or
/// `"Leader(topic: \"orders\", partition: 0, broker: 2): broker 3 led it at 10s"`.
pub fn describe_outcome(o: &ExpectationOutcome) -> String {
    let verdict = if o.ok { "ok" } else { "MISSED" };
    match &o.expectation.check {
        Check::Count { bound, .. } => format!(
            "{verdict:<6} {}: {} found, expected {bound}",
            o.expectation.text, o.found
        ),
        Check::Leader { .. } | Check::Isr { .. } | Check::Assignment { .. } => {
            format!("{verdict:<6} {}: {}", o.expectation.text, o.found)
        }
    }
}

//! The recorded history of a run: every send, attempt, ack or error, append and consumed record.
//! Checkers and the summary read only this and the final logs, never the simulator's internals.

pub mod file;
pub mod records;
pub mod series;

use crate::kafka::group::coordinator::GroupState;
use crate::kafka::protocol::{BrokerId, ClusterMetadata, ErrorCode};
use crate::kafka::record::{ProducerIdentity, RecordId, Tp};
use crate::kafka::txn::TxnState;
use crate::sim::SimTime;
use crate::trace::{Event, TxnStep};
use records::RecordList;
use std::collections::BTreeMap;
use std::sync::Arc;

/// How a record's send ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// No answer yet when the run ended.
    Pending,
    /// Acknowledged; `offset` is `None` for `acks=0`.
    Acked {
        /// When the callback ran.
        at: SimTime,
        /// The offset the producer was told.
        offset: Option<u64>,
    },
    /// Failed for good.
    Failed {
        /// When the callback ran.
        at: SimTime,
        /// Why.
        error: ErrorCode,
    },
}

/// One record as its producer saw it. Packed into 32 bytes: a run keeps one per record.
#[derive(Clone, Copy, Debug)]
pub struct RecordHistory {
    sent_at_us: u64,
    done_at_us: u64,
    topic: u16,
    partition: u16,
    batch_id: u32,
    offset: u32,
    state: State,
}

/// The packed form of [`Outcome`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum State {
    Pending,
    Acked,
    Failed(ErrorCode),
}

const UNSET_U16: u16 = u16::MAX;
const NO_OFFSET: u32 = u32::MAX;

impl RecordHistory {
    const NEW: RecordHistory = RecordHistory {
        sent_at_us: u64::MAX,
        done_at_us: 0,
        topic: UNSET_U16,
        partition: UNSET_U16,
        batch_id: u32::MAX,
        offset: NO_OFFSET,
        state: State::Pending,
    };

    /// When send() put it in a batch (`None`: never, e.g. it failed before).
    pub fn sent_at(&self) -> Option<SimTime> {
        (self.sent_at_us != u64::MAX).then(|| SimTime::from_us(self.sent_at_us))
    }

    /// Its partition, once chosen.
    pub fn tp(&self) -> Option<Tp> {
        (self.topic != UNSET_U16).then_some(Tp {
            topic: u32::from(self.topic),
            partition: u32::from(self.partition),
        })
    }

    /// The batch that carried it.
    pub fn batch_id(&self) -> u64 {
        u64::from(self.batch_id)
    }

    /// How it ended.
    pub fn outcome(&self) -> Outcome {
        let at = SimTime::from_us(self.done_at_us);
        match self.state {
            State::Pending => Outcome::Pending,
            State::Acked => Outcome::Acked {
                at,
                offset: (self.offset != NO_OFFSET).then_some(u64::from(self.offset)),
            },
            State::Failed(error) => Outcome::Failed { at, error },
        }
    }

    fn acked(&mut self, at: SimTime, offset: Option<u64>) {
        self.done_at_us = at.as_us();
        self.offset = offset.map_or(NO_OFFSET, |o| {
            u32::try_from(o).expect("offsets stay below 2^32 in a run")
        });
        self.state = State::Acked;
    }

    fn failed(&mut self, at: SimTime, error: ErrorCode) {
        self.done_at_us = at.as_us();
        self.state = State::Failed(error);
    }
}

/// One attempt to deliver a batch.
#[derive(Clone, Copy, Debug)]
pub struct Attempt {
    /// When the request was sent.
    pub at: SimTime,
    /// To whom.
    pub broker: BrokerId,
    /// The request's correlation id.
    pub correlation: u32,
    /// The error that ended it, if it failed.
    pub error: Option<(SimTime, ErrorCode)>,
}

/// One batch's attempts.
#[derive(Clone, Debug, Default)]
pub struct BatchHistory {
    /// Its partition.
    pub tp: Option<Tp>,
    /// Requests that carried it, in order.
    pub attempts: Vec<Attempt>,
    /// The error behind each time it went back to the front of its queue.
    pub retried_on: Vec<ErrorCode>,
    /// Records in it.
    pub records: u32,
    /// Times a leader answered a retry of it with the offset of its first copy.
    pub deduplicated: u32,
}

/// Everything one producer did.
#[derive(Clone, Debug, Default)]
pub struct ProducerHistory {
    /// Indexed by record sequence number, up to the last record the producer handed to
    /// `send()`: records the workload declares but never produced have no entry, so memory
    /// follows what a run sends, not the declared `records` (issue 11).
    pub records: Vec<RecordHistory>,
    /// Batches, indexed by id (the producer numbers its batches from 0 in creation order); a
    /// batch no event named has an empty entry. A vector, not a map: a run keeps one per batch.
    pub batches: Vec<BatchHistory>,
    /// Produce requests sent.
    pub requests: u64,
    /// Batch re-enqueues.
    pub retries: u64,
    /// Records acknowledged (for `after: Acked(...)` triggers).
    pub acked: u64,
    /// Records put in a batch (for `after: Sent(...)` triggers).
    pub sent: u64,
    /// The idempotent producer's id and epoch at the end.
    pub identity: Option<ProducerIdentity>,
    /// Times the idempotent producer bumped its epoch.
    pub epoch_bumps: u32,
    /// A transactional producer's transactions, in the order its application began them
    /// (across restarts).
    pub txns: Vec<TxnHistory>,
    /// When each instance of this producer learned it was fenced (`PRODUCER_FENCED`) and
    /// stopped.
    pub fenced: Vec<SimTime>,
    /// A processor's producer: the input record each output (by sequence number) was made
    /// from.
    pub inputs: BTreeMap<u32, RecordId>,
}

/// How a transaction ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TxnOutcome {
    /// Not decided when the run ended.
    Open,
    /// Committed.
    Committed,
    /// Aborted: by the application, or by the coordinator (its timeout, or a newer instance
    /// fencing this one).
    Aborted,
}

/// One transaction of a producer.
#[derive(Clone, Copy, Debug)]
pub struct TxnHistory {
    /// When the application called `beginTransaction()`.
    pub begun_at: SimTime,
    /// When the application's `commitTransaction()` or `abortTransaction()` returned (`None`:
    /// open, or decided by the coordinator alone).
    pub ended_at: Option<SimTime>,
    /// Sequence number of its first record.
    pub first: u32,
    /// Records the application handed to `send()` in it (known once it ended; for one still
    /// open or aborted by the coordinator, those sent until then).
    pub records: u32,
    /// How it ended.
    pub outcome: TxnOutcome,
}

impl ProducerHistory {
    /// Batch `id`, if an event named it.
    pub fn batch(&self, id: u64) -> Option<&BatchHistory> {
        self.batches.get(usize::try_from(id).ok()?)
    }

    /// Batch `id`'s entry, made (with the entries before it) on first use.
    fn batch_mut(&mut self, id: u64) -> &mut BatchHistory {
        let i = usize::try_from(id).expect("batch ids stay below the address space");
        if self.batches.len() <= i {
            self.batches.resize_with(i + 1, BatchHistory::default);
        }
        &mut self.batches[i]
    }

    /// The transaction record `seq` was sent in, if the producer is transactional.
    pub fn txn_of(&self, seq: u32) -> Option<&TxnHistory> {
        let i = self.txns.partition_point(|t| t.first <= seq).checked_sub(1)?;
        let t = &self.txns[i];
        let end = self.txns.get(i + 1).map_or(u32::MAX, |n| n.first);
        (seq < end).then_some(t)
    }

    /// True if record `seq` belongs to an aborted transaction.
    pub fn in_aborted_txn(&self, seq: u32) -> bool {
        self.txn_of(seq).is_some_and(|t| t.outcome == TxnOutcome::Aborted)
    }
}

/// A tombstone a replica's log cleaner removed once `delete.retention.ms` had passed since the
/// cleaning that first reached it.
#[derive(Clone, Copy, Debug)]
pub struct TombstoneRemoval {
    /// When.
    pub at: SimTime,
    /// Whose log.
    pub broker: BrokerId,
    /// Where.
    pub tp: Tp,
    /// Its offset.
    pub offset: u64,
    /// The tombstone.
    pub record: RecordId,
}

/// A batch appended by a leader.
#[derive(Clone, Debug)]
pub struct AppendHistory {
    /// When.
    pub at: SimTime,
    /// Which broker.
    pub broker: BrokerId,
    /// Where.
    pub tp: Tp,
    /// First offset.
    pub base_offset: u64,
    /// Leader epoch.
    pub leader_epoch: u32,
    /// The records (packed: the log's own copy goes when retention deletes it).
    pub records: RecordList,
}

/// Records a replica cut off the end of its log.
#[derive(Clone, Debug)]
pub struct TruncationHistory {
    /// When.
    pub at: SimTime,
    /// Which broker.
    pub broker: BrokerId,
    /// Where.
    pub tp: Tp,
    /// The new log end offset.
    pub to: u64,
    /// What was removed.
    pub records: RecordList,
    /// Why.
    pub why: &'static str,
}

/// A record returned by a consumer's poll().
#[derive(Clone, Copy, Debug)]
pub struct ConsumedRecord {
    /// When.
    pub at: SimTime,
    /// Which consumer (index in the scenario).
    pub consumer: u32,
    /// From where.
    pub tp: Tp,
    /// At which offset.
    pub offset: u64,
    /// The record.
    pub record: RecordId,
}

/// A partition's leader and ISR as the controller committed them, from some moment on.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PartitionView {
    /// From when.
    pub since: SimTime,
    /// The leader (`None`: offline).
    pub leader: Option<BrokerId>,
    /// The in-sync replicas.
    pub isr: Vec<BrokerId>,
}

/// The whole history.
#[derive(Clone, Debug, Default)]
pub struct History {
    /// Per producer.
    pub producers: Vec<ProducerHistory>,
    /// Every append, in time order.
    pub appends: Vec<AppendHistory>,
    /// Every consumed record, in time order.
    pub consumed: Vec<ConsumedRecord>,
    /// Every truncation, in time order.
    pub truncations: Vec<TruncationHistory>,
    /// Every tombstone a log cleaner removed (its delete horizon passed), in time order.
    pub tombstone_removals: Vec<TombstoneRemoval>,
    /// Highest offset appended per partition, plus one (for `after: Appended(...)` triggers).
    pub log_end: BTreeMap<Tp, u64>,
    /// Every partition's leader and ISR over time, oldest first.
    pub partitions: BTreeMap<Tp, Vec<PartitionView>>,
    /// Topics that gained partitions, in time order.
    pub partition_counts: Vec<PartitionCountChange>,
    /// Every record a consumer's application finished processing, in time order.
    pub processed: Vec<ConsumedRecord>,
    /// Every committed offset, in time order.
    pub commits: Vec<GroupCommit>,
    /// Every assignment a coordinator handed out, in time order.
    pub assignments: Vec<GroupAssignmentRecord>,
    /// Every partition a group member gave up: (when, consumer index, partition).
    pub revocations: Vec<(SimTime, u32, Tp)>,
    /// Every group state change: (when, group, state, generation), in time order.
    pub group_states: Vec<(SimTime, Arc<str>, GroupState, i32)>,
    /// Every fault that fired: (when, the fault as the scenario wrote it), in time order.
    pub faults: Vec<(SimTime, String)>,
    /// Every position a consumer took other than by reading on: from its group's committed
    /// offset, `auto.offset.reset` or a seek: (when, consumer index, partition, offset).
    pub positions: Vec<(SimTime, u32, Tp, u64)>,
    /// Consumers whose `poll()` threw and whose application stopped: (when, consumer index,
    /// `Exception: message`).
    pub consumer_failures: Vec<(SimTime, u32, String)>,
    /// Every time a partition's leader moved its log start offset past every earlier one (by
    /// retention or `DeleteRecords`): from then on consumers cannot read below it. In time
    /// order.
    pub log_starts: Vec<LogStartMove>,
    /// What only the charts need (`None` unless the run was asked for charts).
    pub series: Option<Box<series::Series>>,
}

impl History {
    /// Each member's partitions in `group` at `at`: the assignment of the group's last Stable
    /// generation by then (none while the group is Empty or Dead).
    pub fn group_assignment_at(&self, group: &str, at: SimTime) -> Vec<(&Arc<str>, &[Tp])> {
        let last = self.group_states.iter().rfind(|(t, g, s, _)| {
            *t <= at
                && g.as_ref() == group
                && !matches!(
                    s,
                    GroupState::PreparingRebalance | GroupState::CompletingRebalance
                )
        });
        let Some((_, _, GroupState::Stable, generation)) = last else {
            return Vec::new();
        };
        self.assignments
            .iter()
            .filter(|a| a.group.as_ref() == group && a.generation == *generation && a.at <= at)
            .map(|a| (&a.member, a.partitions.as_slice()))
            .collect()
    }
}

/// A partition's leader moved its log start offset: the records below are gone for consumers.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LogStartMove {
    /// When.
    pub at: SimTime,
    /// The partition.
    pub tp: Tp,
    /// The highest log start offset before (of any earlier leader).
    pub from: u64,
    /// The new log start offset.
    pub to: u64,
    /// What moved it: `retention.ms`, `retention.bytes`, `DeleteRecords`, ...
    pub why: &'static str,
}

/// A committed offset.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct GroupCommit {
    /// When the coordinator stored it.
    pub at: SimTime,
    /// The group.
    pub group: Arc<str>,
    /// The member that committed.
    pub member: Arc<str>,
    /// The partition.
    pub tp: Tp,
    /// The offset of the next record to read.
    pub offset: u64,
}

/// A member's assignment in one generation.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct GroupAssignmentRecord {
    /// When the coordinator handed it out.
    pub at: SimTime,
    /// The group.
    pub group: Arc<str>,
    /// The member id.
    pub member: Arc<str>,
    /// The generation.
    pub generation: i32,
    /// Its partitions.
    pub partitions: Vec<Tp>,
}

/// A topic gained partitions (`AddPartitions`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PartitionCountChange {
    /// When the controller committed it.
    pub at: SimTime,
    /// Topic index.
    pub topic: u32,
    /// Partitions before.
    pub from: u32,
    /// Partitions after.
    pub to: u32,
}

/// Which client a node is, as the history needs it.
#[derive(Clone, Copy, Debug)]
pub enum Client {
    /// Producer index.
    Producer(u32),
    /// Consumer index.
    Consumer(u32),
    /// A broker.
    Broker(BrokerId),
    /// The controller.
    Controller,
}

impl History {
    /// An empty history for `producers` producers, on a cluster that starts as `metadata` says.
    pub fn new(producers: usize, metadata: &ClusterMetadata) -> History {
        let partitions = metadata
            .topics
            .iter()
            .enumerate()
            .flat_map(|(t, ps)| {
                ps.iter().enumerate().map(move |(p, s)| {
                    let tp = Tp {
                        topic: t as u32,
                        partition: p as u32,
                    };
                    let view = PartitionView {
                        since: SimTime::ZERO,
                        leader: s.leader,
                        isr: s.isr.clone(),
                    };
                    (tp, vec![view])
                })
            })
            .collect();
        History {
            partitions,
            producers: vec![ProducerHistory::default(); producers],
            ..History::default()
        }
    }

    /// Record `r`'s entry, made (with the entries before it) on first use.
    fn record(&mut self, r: RecordId) -> &mut RecordHistory {
        let records = &mut self.producers[r.producer as usize].records;
        let i = r.seq as usize;
        if records.len() <= i {
            records.resize(i + 1, RecordHistory::NEW);
        }
        &mut records[i]
    }

    /// Takes in one event from `who`.
    pub fn observe(&mut self, now: SimTime, event: &Event, who: Client) {
        if let Some(series) = &mut self.series {
            series.observe(now, event, who, &self.partitions);
        }
        match event {
            Event::Send {
                record,
                tp,
                batch_id,
                input,
                ..
            } => {
                let ph = &mut self.producers[record.producer as usize];
                ph.sent += 1;
                if let Some(input) = input {
                    ph.inputs.insert(record.seq, *input);
                }
                let h = self.record(*record);
                h.sent_at_us = now.as_us();
                // Validation bounds topics and partitions well below 2^16.
                h.topic = tp.topic as u16;
                h.partition = tp.partition as u16;
                h.batch_id = u32::try_from(*batch_id).expect("fewer than 2^32 batches per producer");
            }
            Event::SendFailed { record, error } => {
                self.record(*record).failed(now, *error);
            }
            Event::ProduceSent {
                broker,
                correlation,
                batches,
                ..
            } => {
                if let Client::Producer(p) = who {
                    let ph = &mut self.producers[p as usize];
                    ph.requests += 1;
                    for b in batches {
                        let bh = ph.batch_mut(b.batch_id);
                        bh.tp = Some(b.tp);
                        bh.records = b.records;
                        // Most batches take one attempt: room for exactly that at first (a run
                        // keeps one list per batch), growing as usual past it.
                        if bh.attempts.capacity() == 0 {
                            bh.attempts.reserve_exact(1);
                        }
                        bh.attempts.push(Attempt {
                            at: now,
                            broker: *broker,
                            correlation: *correlation,
                            error: None,
                        });
                    }
                }
            }
            Event::BatchAcked {
                base_offset, records, ..
            } => {
                for (i, r) in records.iter().enumerate() {
                    self.record(*r).acked(now, base_offset.map(|b| b + i as u64));
                }
                if let Some(r) = records.first() {
                    self.producers[r.producer as usize].acked += records.len() as u64;
                }
            }
            Event::ProducerIdReceived {
                result: Ok(identity), ..
            } => {
                if let Client::Producer(p) = who {
                    self.producers[p as usize].identity = Some(*identity);
                }
            }
            Event::Txn { producer, step } => {
                let ph = &mut self.producers[*producer as usize];
                match step {
                    TxnStep::Initialized(identity) => ph.identity = Some(*identity),
                    TxnStep::Begin { first, .. } => ph.txns.push(TxnHistory {
                        begun_at: now,
                        ended_at: None,
                        first: *first,
                        records: 0,
                        outcome: TxnOutcome::Open,
                    }),
                    TxnStep::Ended {
                        commit,
                        records,
                        next,
                        ..
                    } => {
                        ph.identity = Some(*next);
                        if let Some(t) = ph.txns.last_mut() {
                            t.ended_at = Some(now);
                            t.records = *records;
                            t.outcome = if *commit {
                                TxnOutcome::Committed
                            } else {
                                TxnOutcome::Aborted
                            };
                        }
                    }
                    TxnStep::Error {
                        error: ErrorCode::ProducerFenced,
                        fatal: true,
                    } => ph.fenced.push(now),
                    _ => {}
                }
            }
            Event::TxnTransition {
                identity,
                to: TxnState::CompleteAbort,
                ..
            } => {
                // The coordinator aborted a transaction its producer did not end: a fenced or
                // timed-out instance, which has not learned the epoch of the abort.
                for ph in &mut self.producers {
                    let behind = ph
                        .identity
                        .is_some_and(|i| i.id == identity.id && i.epoch < identity.epoch);
                    if let Some(t) = ph
                        .txns
                        .last_mut()
                        .filter(|t| behind && t.outcome == TxnOutcome::Open)
                    {
                        t.outcome = TxnOutcome::Aborted;
                        let handed = u32::try_from(ph.records.len()).unwrap_or(u32::MAX);
                        t.records = handed.saturating_sub(t.first);
                    }
                }
            }
            Event::EpochBumped { identity, .. } => {
                if let Client::Producer(p) = who {
                    let ph = &mut self.producers[p as usize];
                    ph.identity = Some(*identity);
                    ph.epoch_bumps += 1;
                }
            }
            Event::DuplicateBatch {
                producer, batch_id, ..
            } => {
                if let Some(ph) = self.producers.get_mut(*producer as usize) {
                    ph.batch_mut(*batch_id).deduplicated += 1;
                }
            }
            Event::BatchRetry { batch_id, error, .. } => {
                if let Client::Producer(p) = who {
                    let ph = &mut self.producers[p as usize];
                    ph.retries += 1;
                    let bh = ph.batch_mut(*batch_id);
                    bh.retried_on.push(*error);
                    if let Some(a) = bh.attempts.last_mut() {
                        a.error = Some((now, *error));
                    }
                }
            }
            Event::BatchFailed {
                batch_id,
                error,
                records,
                ..
            } => {
                for r in records.iter() {
                    self.record(*r).failed(now, *error);
                }
                if let Client::Producer(p) = who
                    && let Some(a) = self.producers[p as usize]
                        .batch_mut(*batch_id)
                        .attempts
                        .last_mut()
                    && a.error.is_none()
                {
                    a.error = Some((now, *error));
                }
            }
            Event::Append {
                tp,
                base_offset,
                records,
                leader_epoch,
                ..
            } => {
                if let Client::Broker(broker) = who {
                    self.appends.push(AppendHistory {
                        at: now,
                        broker,
                        tp: *tp,
                        base_offset: *base_offset,
                        leader_epoch: *leader_epoch,
                        records: RecordList::new(records),
                    });
                }
                let end = base_offset + records.len() as u64;
                let e = self.log_end.entry(*tp).or_default();
                *e = (*e).max(end);
            }
            Event::Cleaned { tp, tombstones, .. } => {
                if let Client::Broker(broker) = who {
                    self.tombstone_removals
                        .extend(tombstones.iter().map(|(offset, record)| TombstoneRemoval {
                            at: now,
                            broker,
                            tp: *tp,
                            offset: *offset,
                            record: *record,
                        }));
                }
            }
            Event::Truncated {
                tp, to, records, why, ..
            } => {
                if let Client::Broker(broker) = who {
                    self.truncations.push(TruncationHistory {
                        at: now,
                        broker,
                        tp: *tp,
                        to: *to,
                        records: RecordList::new(records),
                        why,
                    });
                }
            }
            Event::Processed { tp, records } => {
                if let Client::Consumer(c) = who {
                    for (offset, record) in records {
                        self.processed.push(ConsumedRecord {
                            at: now,
                            consumer: c,
                            tp: *tp,
                            offset: *offset,
                            record: *record,
                        });
                    }
                }
            }
            Event::OffsetsCommitted {
                group,
                member,
                offsets,
            } => {
                for (tp, offset) in offsets {
                    self.commits.push(GroupCommit {
                        at: now,
                        group: group.clone(),
                        member: member.clone(),
                        tp: *tp,
                        offset: *offset,
                    });
                }
            }
            Event::ConsumerAssignment { revoked, .. } => {
                if let Client::Consumer(c) = who {
                    self.revocations.extend(revoked.iter().map(|tp| (now, c, *tp)));
                }
            }
            Event::GroupState {
                group,
                state,
                generation,
            } => self.group_states.push((now, group.clone(), *state, *generation)),
            Event::GroupAssignment {
                group,
                member,
                generation,
                partitions,
            } => self.assignments.push(GroupAssignmentRecord {
                at: now,
                group: group.clone(),
                member: member.clone(),
                generation: *generation,
                partitions: partitions.clone(),
            }),
            Event::PartitionsAdded { topic, from, to } => self.partition_counts.push(PartitionCountChange {
                at: now,
                topic: *topic,
                from: *from,
                to: *to,
            }),
            Event::LeaderChanged { tp, leader, .. } => {
                self.change_partition(now, *tp, |v| v.leader = *leader)
            }
            Event::IsrChanged { tp, isr } => self.change_partition(now, *tp, |v| v.isr.clone_from(isr)),
            Event::SegmentsDeleted { tp, to, why, .. } | Event::LogStartOffset { tp, to, why, .. } => {
                if let Client::Broker(b) = who
                    && self.partition_at(*tp, now).and_then(|v| v.leader) == Some(b)
                {
                    self.move_log_start(now, *tp, *to, why);
                }
            }
            Event::DeleteRecords {
                tp, result: Ok(to), ..
            } => {
                if let Client::Broker(b) = who
                    && self.partition_at(*tp, now).and_then(|v| v.leader) == Some(b)
                {
                    self.move_log_start(now, *tp, *to, "DeleteRecords");
                }
            }
            Event::Fault { text } => self.faults.push((now, text.clone())),
            Event::PositionCommitted { tp, offset }
            | Event::PositionReset { tp, offset, .. }
            | Event::Sought { tp, offset, .. } => {
                if let Client::Consumer(c) = who {
                    self.positions.push((now, c, *tp, *offset));
                }
            }
            Event::ConsumerFailed { exception, message } => {
                if let Client::Consumer(c) = who {
                    self.consumer_failures
                        .push((now, c, format!("{exception}: {message}")));
                }
            }
            Event::Consumed { tp, records, .. } => {
                if let Client::Consumer(c) = who {
                    for (offset, record) in records {
                        self.consumed.push(ConsumedRecord {
                            at: now,
                            consumer: c,
                            tp: *tp,
                            offset: *offset,
                            record: *record,
                        });
                    }
                }
            }
            _ => {}
        }
    }

    fn change_partition(&mut self, now: SimTime, tp: Tp, change: impl FnOnce(&mut PartitionView)) {
        let views = self.partitions.entry(tp).or_default();
        let mut view = views.last().cloned().unwrap_or(PartitionView {
            since: now,
            leader: None,
            isr: Vec::new(),
        });
        view.since = now;
        change(&mut view);
        views.push(view);
    }

    /// A partition's leader and ISR at `at` (after everything that happened at that moment).
    pub fn partition_at(&self, tp: Tp, at: SimTime) -> Option<&PartitionView> {
        self.partitions.get(&tp)?.iter().rev().find(|v| v.since <= at)
    }

    /// Records a leader's new log start offset, if it is past every earlier one of the
    /// partition (a new leader may start lower, its records are no less deleted).
    fn move_log_start(&mut self, at: SimTime, tp: Tp, to: u64, why: &'static str) {
        let from = self
            .log_starts
            .iter()
            .rev()
            .find(|m| m.tp == tp)
            .map_or(0, |m| m.to);
        if to > from {
            self.log_starts.push(LogStartMove {
                at,
                tp,
                from,
                to,
                why,
            });
        }
    }

    /// Since when a partition that has no leader at the end has had none (`None` if it has
    /// one).
    pub fn leaderless_since(&self, tp: Tp) -> Option<SimTime> {
        let views = self.partitions.get(&tp)?;
        let online = views.iter().rposition(|v| v.leader.is_some());
        match online {
            Some(i) if i + 1 == views.len() => None,
            Some(i) => Some(views[i + 1].since),
            None => views.first().map(|v| v.since),
        }
    }

    /// The record's history.
    pub fn get(&self, r: RecordId) -> &RecordHistory {
        self.producers[r.producer as usize]
            .records
            .get(r.seq as usize)
            .unwrap_or(&RecordHistory::NEW)
    }
}

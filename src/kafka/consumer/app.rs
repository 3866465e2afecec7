//! The consumer's application thread: it calls `poll()`, spends `processing` on each record it
//! got, and commits as the scenario says: `enable.auto.commit` inside `poll()` every
//! `auto.commit.interval.ms` (`ConsumerCoordinator.maybeAutoCommitOffsetsAsync`), or
//! `commitSync()` right before or right after processing.

use super::ConsumerSetup;
use crate::kafka::protocol::Message;
use crate::kafka::record::{RecordId, Tp};
use crate::scenario::{CommitMode, ConsumerConfig};
use crate::sim::{Out, SimDuration, SimTime};
use crate::trace::Event;
use std::collections::{BTreeMap, VecDeque};

/// What the application does next.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Step {
    /// Nothing now (processing, or waiting for a commit).
    Wait,
    /// Call `poll()`.
    Poll,
    /// `commitSync()` the positions polled so far, and wait for the answer.
    CommitSync,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum State {
    /// Ready to poll.
    Idle,
    /// Records in hand; `commitSync()` first (commit before processing).
    CommitBefore,
    /// Waiting for a `commitSync()` answer; then process, or poll.
    AwaitCommit { then_process: bool },
    /// Processing the records in hand.
    Processing,
    /// Processed; `commitSync()` before the next poll (commit after processing).
    CommitAfter,
    /// A processor's batch is processed: waiting for its producer (the output acknowledged, or
    /// the transaction committed).
    AwaitOutput,
}

/// What a processor's consumer hands its producer.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ToOutput {
    /// An input record was processed: write its output.
    Record(Tp, u64, RecordId),
    /// The batch polled last is processed.
    BatchEnd,
}

/// The application's state.
pub(super) struct App {
    processing: SimDuration,
    commit: CommitMode,
    grouped: bool,
    auto_commit: bool,
    auto_commit_interval: SimDuration,
    /// Closed by `ConsumerLeave`.
    pub closed: bool,
    state: State,
    last_poll: SimTime,
    next_auto_commit: SimTime,
    /// Records the last `poll()` returned that are not processed yet.
    in_hand: VecDeque<(Tp, u64, RecordId)>,
    /// When the first of them is done.
    next_done: SimTime,
    /// The polled position of each partition: the offset after the last record handed out.
    consumed: BTreeMap<Tp, u64>,
    /// For a processor's consumer: whether its producer is transactional.
    processor: Option<bool>,
    /// A processor's processed records and batch ends, for its producer.
    pub outbox: Vec<ToOutput>,
}

impl App {
    pub(super) fn new(cfg: &ConsumerConfig, setup: &ConsumerSetup) -> App {
        App {
            processing: setup.processing,
            commit: setup.commit,
            grouped: setup.group.is_some(),
            auto_commit: cfg.enable_auto_commit,
            auto_commit_interval: cfg.auto_commit_interval,
            closed: false,
            state: State::Idle,
            last_poll: setup.start,
            next_auto_commit: setup.start + cfg.auto_commit_interval,
            in_hand: VecDeque::new(),
            next_done: SimTime::NEVER,
            consumed: BTreeMap::new(),
            processor: setup.processor,
            outbox: Vec::new(),
        }
    }

    /// A processor's producer finished the batch: `ok` when its output was acknowledged (or
    /// its transaction committed). A transactional processor has committed its offsets with
    /// the transaction; the other commits them now.
    pub(super) fn on_output_done(&mut self, ok: bool) {
        if self.state == State::AwaitOutput {
            self.state = if ok && self.processor == Some(false) {
                State::CommitAfter
            } else {
                State::Idle
            };
        }
    }

    /// Polled positions, for a commit.
    pub(super) fn consumed(&self) -> impl Iterator<Item = (Tp, u64)> + '_ {
        self.consumed.iter().map(|(tp, o)| (*tp, *o))
    }

    /// The offset of the next record `poll()` returns for `tp`, once known.
    pub(super) fn position(&self, tp: Tp) -> Option<u64> {
        self.consumed.get(&tp).copied()
    }

    /// A partition's position is set (committed offset or reset).
    pub(super) fn start_at(&mut self, tp: Tp, offset: u64) {
        self.consumed.insert(tp, offset);
    }

    /// A partition was revoked: its records in hand are not processed, its position forgotten.
    pub(super) fn forget(&mut self, tp: Tp) {
        self.consumed.remove(&tp);
        self.in_hand.retain(|r| r.0 != tp);
    }

    /// The application is inside `poll()` (between batches): group joins happen here.
    pub(super) fn idle(&self) -> bool {
        self.state == State::Idle
    }

    /// A rebalance completed: the auto-commit timer restarts (`onJoinComplete`).
    pub(super) fn joined(&mut self, now: SimTime) {
        self.next_auto_commit = now + self.auto_commit_interval;
    }

    /// The consumer starts at `now` (a late `ConsumerJoin`): its timers start too.
    pub(super) fn start(&mut self, now: SimTime) {
        self.last_poll = now;
        self.next_auto_commit = now + self.auto_commit_interval;
    }

    /// The application has not called `poll()` for `max_poll_interval`.
    pub(super) fn poll_overdue(&self, now: SimTime, max_poll_interval: SimDuration) -> bool {
        self.state != State::Idle && now > self.last_poll + max_poll_interval
    }

    /// `enable.auto.commit`: due in this poll?
    pub(super) fn auto_commit_due(&mut self, now: SimTime) -> bool {
        if !(self.grouped && self.auto_commit) || now < self.next_auto_commit {
            return false;
        }
        self.next_auto_commit = now + self.auto_commit_interval;
        true
    }

    /// A `commitSync()` ended (answered, failed or lost): the application goes on.
    pub(super) fn on_commit_done(&mut self, sync: bool, now: SimTime) {
        if let (true, State::AwaitCommit { then_process }) = (sync, self.state) {
            if then_process {
                self.state = State::Processing;
                self.next_done = now + self.processing;
            } else {
                self.state = State::Idle;
            }
        }
    }

    /// `poll()` returned these records.
    pub(super) fn handed(&mut self, now: SimTime, records: Vec<(Tp, u64, RecordId)>) {
        for (tp, offset, _) in &records {
            self.consumed.insert(*tp, offset + 1);
        }
        if !self.grouped && self.processing == SimDuration::ZERO {
            // Without a group and without processing time, records are done when polled.
            return;
        }
        self.in_hand = records.into();
        if self.grouped && self.commit == CommitMode::BeforeProcessing {
            self.state = State::CommitBefore;
        } else {
            self.state = State::Processing;
            self.next_done = now + self.processing;
        }
    }

    /// The next step at `now`: processing records whose time is up (emitting `Processed`),
    /// then a commit or a poll.
    pub(super) fn step(&mut self, now: SimTime, out: &mut Out<Message, Event>) -> Step {
        if self.closed {
            return Step::Wait;
        }
        match self.state {
            State::Idle => {
                self.last_poll = now;
                Step::Poll
            }
            State::CommitBefore => {
                self.state = State::AwaitCommit { then_process: true };
                Step::CommitSync
            }
            State::CommitAfter => {
                self.state = State::AwaitCommit { then_process: false };
                Step::CommitSync
            }
            State::AwaitCommit { .. } | State::AwaitOutput => Step::Wait,
            State::Processing => {
                let mut done: Vec<(Tp, u64, RecordId)> = Vec::new();
                while now >= self.next_done && !self.in_hand.is_empty() {
                    done.extend(self.in_hand.pop_front());
                    if !self.in_hand.is_empty() {
                        self.next_done += self.processing;
                    }
                }
                for run in done.chunk_by(|a, b| a.0 == b.0) {
                    out.emit(Event::Processed {
                        tp: run[0].0,
                        records: run.iter().map(|r| (r.1, r.2)).collect(),
                    });
                }
                if self.processor.is_some() {
                    self.outbox
                        .extend(done.iter().map(|(tp, o, r)| ToOutput::Record(*tp, *o, *r)));
                }
                if !self.in_hand.is_empty() {
                    return Step::Wait;
                }
                self.next_done = SimTime::NEVER;
                if self.processor.is_some() {
                    self.outbox.push(ToOutput::BatchEnd);
                    self.state = State::AwaitOutput;
                    return Step::Wait;
                }
                self.state = if self.grouped && self.commit == CommitMode::AfterProcessing {
                    State::CommitAfter
                } else {
                    State::Idle
                };
                self.step(now, out)
            }
        }
    }

    /// When the application wants to run again.
    pub(super) fn next_wake(&self) -> Option<SimTime> {
        match self.state {
            State::Processing => Some(self.next_done),
            // The application's poll loop is always running: an auto-commit falls due on time.
            State::Idle if self.grouped && self.auto_commit => Some(self.next_auto_commit),
            _ => None,
        }
    }
}

//! A run: builds the nodes from a scenario, drives the event loop, applies faults, and collects
//! the history, the trace and the final state.

mod faults;
mod holders;
mod nodes;
mod processors;
mod stall;
mod threads;

use crate::check::invariants::{Invariants, Violation};
use crate::history::file::Recorded;
use crate::history::{Client, History};
use crate::kafka::addr::Addresses;
use crate::kafka::broker::{Broker, Internal};
use crate::kafka::consumer::{Consumer, ConsumerSetup};
use crate::kafka::controller::{Controller, TopicPolicy};
use crate::kafka::group::coordinator::GroupState;
use crate::kafka::keys::RecordKeys;
use crate::kafka::log::PartitionLog;
use crate::kafka::producer::Producer;
use crate::kafka::protocol::{ClusterMetadata, Message, ResponseBody};
use crate::kafka::record::Tp;
use crate::kafka::txn::coordinator::Settings as TxnSettings;
use crate::kafka::txn::metadata::TxnMetadata;
use crate::net::{DropReason, Kind, Network};
use crate::scenario::{Fault, Scenario, TopicConfig, TransactionVersion, Trigger};
use crate::sim::{EventQueue, NodeId, Out, RngTree, SimDuration, SimTime};
use crate::trace::{Event, Names, Stamped, TraceFormat, TraceWriter};
pub use holders::Holder;
use nodes::Node;
pub use stall::STALL_EVENTS;
use stall::StallWatch;
use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;
use threads::BrokerThreads;

/// How to run.
#[derive(Clone, Debug)]
pub struct RunOptions {
    /// Overrides the scenario's seed.
    pub seed: Option<u64>,
    /// Stops earlier than the scenario's `duration`.
    pub until: Option<SimDuration>,
    /// Stops after this many events (a run never goes on forever).
    pub max_events: u64,
    /// Writes a trace in this format (`None`: no trace, fastest).
    pub trace: Option<TraceFormat>,
    /// Records what the charts need (replica offsets, every message); slower, off by default.
    pub charts: bool,
    /// Checks the model invariants after every event a broker or the controller handles
    /// ([`crate::check::invariants`]); slower, off by default.
    pub invariants: bool,
}

impl Default for RunOptions {
    fn default() -> Self {
        RunOptions {
            seed: None,
            until: None,
            max_events: DEFAULT_MAX_EVENTS,
            trace: Some(TraceFormat::Text),
            charts: false,
            invariants: false,
        }
    }
}

/// The default `--max-events`.
pub const DEFAULT_MAX_EVENTS: u64 = 100_000_000;

/// A consumer group as its coordinator holds it at the end of a run.
#[derive(Clone, Debug)]
pub struct GroupView {
    /// The group id.
    pub group: Arc<str>,
    /// Its coordinator.
    pub coordinator: u32,
    /// Its state.
    pub state: GroupState,
    /// Its generation.
    pub generation: i32,
    /// (member id, client id, partitions).
    pub members: Vec<(Arc<str>, String, Vec<Tp>)>,
    /// Committed offsets.
    pub offsets: BTreeMap<Tp, u64>,
}

/// A transactional id as its transaction coordinator holds it at the end of a run.
#[derive(Clone, Debug)]
pub struct TxnView {
    /// The coordinator: the live broker that loaded the id's `__transaction_state` partition
    /// (at the newest coordinator epoch, if a deposed one still has it).
    pub coordinator: u32,
    /// What it holds.
    pub metadata: TxnMetadata,
}

/// What a run produced.
pub struct RunResult {
    /// The seed used.
    pub seed: u64,
    /// Simulated time when the run stopped.
    pub end: SimTime,
    /// Events processed.
    pub events: u64,
    /// Set when `--max-events` or a livelock cut the run short.
    pub stopped_early: Option<String>,
    /// Set when the run stopped because simulated time stood still for [`STALL_EVENTS`]
    /// events (a livelock); `stopped_early` says what looped.
    pub livelock: bool,
    /// Mean number of pending events in the queue (what a fair bare-loop benchmark mimics).
    pub mean_queue_len: u64,
    /// The recorded history.
    pub history: History,
    /// The trace, if one was asked for.
    pub trace: Option<String>,
    /// Consumer groups at the end, by group id.
    pub groups: Vec<GroupView>,
    /// Transactional ids at the end, by id.
    pub transactions: Vec<TxnView>,
    /// The controller's metadata at the end.
    pub metadata: Arc<ClusterMetadata>,
    /// Each partition's log at the end: its running leader's or, when none runs, the log of the
    /// first replica that may lead it next (see `holders`).
    pub logs: BTreeMap<Tp, PartitionLog>,
    /// Whose log each partition has at the end.
    pub holders: BTreeMap<Tp, Holder>,
    /// Brokers whose process does not run at the end (crashed, or stopped after a controlled
    /// shutdown).
    pub stopped: BTreeSet<u32>,
    /// Every replica's log at the end, by partition and broker.
    pub replica_logs: BTreeMap<(Tp, u32), PartitionLog>,
    /// Each consumer's positions at the end.
    pub consumer_positions: Vec<Vec<(Tp, Option<u64>)>>,
    /// Display names.
    pub names: Names,
    /// Broken model invariants, when [`RunOptions::invariants`] was on.
    pub violations: Vec<Violation>,
    /// Set when this was read from a history file rather than simulated: what the file lacks.
    pub recorded: Option<Recorded>,
}

/// A message on its way, boxed so queue entries stay small (most events are timers).
struct Delivery {
    from: NodeId,
    to: NodeId,
    generation: u32,
    /// `msg.wire_bytes()`, computed once when it is sent.
    bytes: u64,
    msg: Message,
}

enum Ev {
    Start(NodeId),
    Deliver(Box<Delivery>),
    /// A request that reached a broker: its handler thread is done with it now.
    Handle(Box<Delivery>),
    Wake(NodeId),
    Fault(usize),
    /// `peer` closed its connection with `to` (a FIN, or the RST of a crashed broker's host);
    /// it arrives behind whatever `peer` sent before, and `to` moves to `generation`.
    Closed {
        to: NodeId,
        peer: NodeId,
        generation: u32,
    },
}

struct Simulation<'s> {
    scenario: &'s Scenario,
    addr: Addresses,
    now: SimTime,
    queue: EventQueue<Ev>,
    nodes: Vec<Node>,
    wake: Vec<Option<SimTime>>,
    net: Network,
    history: History,
    names: Names,
    trace: Option<TraceWriter>,
    pending_after: Vec<usize>,
    out: Out<Message, Event>,
    held: Vec<Delivery>,
    paused_until: Vec<SimTime>,
    rng: RngTree,
    /// Restarts of each consumer so far.
    incarnations: Vec<u32>,
    /// Restarts of each producer.
    producer_incarnations: Vec<u32>,
    /// The halves of each processor.
    processors: processors::Processors,
    /// Each broker's request-handling threads, by broker index.
    threads: Vec<BrokerThreads>,
    /// The invariant observer, when asked for.
    invariants: Option<Invariants>,
}

/// Consumer number `i` of the scenario; `incarnation` counts its restarts (each gets its own
/// random stream).
fn new_consumer(
    scenario: &Scenario,
    rng: &RngTree,
    addr: Addresses,
    i: usize,
    incarnation: u32,
    start: SimTime,
) -> Consumer {
    let c = &scenario.consumers[i];
    let label = match incarnation {
        0 => format!("consumer/{}", c.id),
        n => format!("consumer/{}/{n}", c.id),
    };
    let setup = ConsumerSetup {
        client_id: c.id.clone(),
        topics: c.topics.iter().map(|t| *t as u32).collect(),
        topic_names: scenario.topics.iter().map(|t| t.name.clone()).collect(),
        start,
        group: c.group.clone(),
        processing: c.processing,
        commit: c.commit,
        // Whether its producer half is transactional, as that half is configured.
        processor: c.processor.map(|i| {
            scenario
                .producers
                .iter()
                .any(|p| p.processor == Some(i) && p.config.transactional_id.is_some())
        }),
        seek: c.seek,
    };
    Consumer::new(addr, c.config.clone(), setup, rng.fork(&label))
}

/// Producer `i` of the scenario; a restarted one (`incarnation` > 0) draws from a stream of its
/// own.
fn new_producer(scenario: &Scenario, rng: &RngTree, addr: Addresses, i: usize, incarnation: u32) -> Producer {
    let p = &scenario.producers[i];
    let label = match incarnation {
        0 => format!("producer/{}", p.id),
        n => format!("producer/{}/{n}", p.id),
    };
    let txn_v2 = scenario.cluster.config.transactions.version == TransactionVersion::V2;
    let mut producer = Producer::new(
        i as u32,
        addr,
        p.config.clone(),
        p.workload.clone(),
        txn_v2,
        rng.fork(&label),
    );
    if p.processor.is_some() {
        producer.become_processor(scenario.offsets_topic());
    }
    producer
}

/// Runs `scenario` to its end (or `--until`, or `--max-events`).
pub fn run(scenario: &Scenario, opts: &RunOptions) -> RunResult {
    let seed = opts.seed.unwrap_or(scenario.seed);
    let mut sim = Simulation::new(scenario, seed, opts.trace);
    if opts.charts {
        sim.history.series = Some(Box::default());
        // The charts read trace-only events (replication, high watermarks).
        sim.out = Out::new(true);
    }
    if opts.invariants {
        sim.invariants = Some(Invariants::new(&scenario.cluster.config));
    }
    let end = SimTime::ZERO + opts.until.map_or(scenario.duration, |u| u.min(scenario.duration));
    let mut events = 0u64;
    let mut stopped_early = None;
    let mut queue_len_sum = 0u64;
    let mut stall = StallWatch::default();
    let mut livelock = false;
    while let Some(t) = sim.queue.peek_time() {
        if t > end {
            break;
        }
        if events >= opts.max_events {
            let why = format!(
                "stopped after {events} events at {} of {}: the --max-events limit (raise it or shorten `duration`)",
                sim.now,
                SimDuration::from_us(end.as_us()).human()
            );
            sim.record(sim.addr.controller(), Event::Stopped { why: why.clone() });
            stopped_early = Some(why);
            break;
        }
        queue_len_sum += sim.queue.len() as u64;
        let Some((t, ev)) = sim.queue.pop() else { break };
        sim.now = t;
        events += 1;
        if stall.observe(t, || sim.describe(&ev)) {
            let why = sim.livelock(&stall);
            sim.record(sim.addr.controller(), Event::Stopped { why: why.clone() });
            stopped_early = Some(why);
            livelock = true;
            break;
        }
        sim.step(ev);
    }
    let final_time = if stopped_early.is_some() { sim.now } else { end };
    let mean_queue_len = queue_len_sum / events.max(1);
    let mut result = sim.finish(seed, final_time, events, stopped_early, mean_queue_len);
    result.livelock = livelock;
    result
}

impl<'s> Simulation<'s> {
    fn new(scenario: &'s Scenario, seed: u64, trace: Option<TraceFormat>) -> Simulation<'s> {
        let rng = RngTree::new(seed);
        let brokers = scenario.cluster.brokers;
        let addr = Addresses::new(brokers);
        let policies: Vec<TopicPolicy> = scenario
            .topics
            .iter()
            .map(|t| TopicPolicy {
                assignment: t.replicas(brokers, seed),
                unclean_leader_election: t.config.unclean_leader_election,
            })
            .collect();
        let controller = Controller::new(addr, &policies, &scenario.cluster.config);
        let metadata = controller.metadata();
        let topic_configs: Vec<TopicConfig> = scenario.topics.iter().map(|t| t.config.clone()).collect();
        let mut nodes = Vec::new();
        let mut node_names = Vec::new();
        let txns = scenario.cluster.config.transactions;
        let txn_v2 = txns.version == TransactionVersion::V2;
        let internal = Internal {
            offsets_topic: scenario.offsets_topic(),
            txn_topic: scenario.transaction_state_topic(),
            txn: TxnSettings {
                partitions: txns.state_log_partitions,
                max_timeout_ms: txns.max_timeout.as_ms(),
                abort_interval: txns.abort_cleanup_interval,
                v2: txn_v2,
            },
        };
        let keys = Arc::new(RecordKeys::of_scenario(scenario));
        for b in addr.broker_ids() {
            nodes.push(Node::Broker(Box::new(Broker::new(
                b,
                addr,
                scenario.cluster.config.clone(),
                topic_configs.clone(),
                Arc::clone(&keys),
                internal,
                Arc::clone(&metadata),
                rng,
            ))));
            node_names.push(format!("broker-{b}"));
        }
        nodes.push(Node::Controller(Box::new(controller)));
        node_names.push("controller".to_string());
        for (i, p) in scenario.producers.iter().enumerate() {
            let producer = new_producer(scenario, &rng, addr, i, 0);
            nodes.push(Node::Producer(Box::new(producer)));
            node_names.push(p.id.clone());
        }
        for (i, c) in scenario.consumers.iter().enumerate() {
            // A consumer that a `ConsumerJoin` fault starts waits for it.
            let joins_later = scenario
                .faults
                .iter()
                .any(|f| matches!(&f.fault, Fault::ConsumerJoin { consumer } if *consumer == c.id));
            let start = if joins_later {
                SimTime::NEVER
            } else {
                SimTime::ZERO + c.start
            };
            nodes.push(Node::Consumer(Box::new(new_consumer(
                scenario, &rng, addr, i, 0, start,
            ))));
            node_names.push(c.id.clone());
        }
        let producer_count = scenario.producers.len();
        let halves = (0..scenario.processors.len())
            .filter_map(|i| {
                let c = scenario.consumers.iter().position(|c| c.processor == Some(i))?;
                let p = scenario.producers.iter().position(|p| p.processor == Some(i))?;
                Some((addr.client(producer_count + c), addr.client(p)))
            })
            .collect();
        let processors = processors::Processors::new(halves);
        let names = Names {
            nodes: node_names,
            topics: scenario.topics.iter().map(|t| t.name.clone()).collect(),
            producers: scenario.producers.iter().map(|p| p.id.clone()).collect(),
            keys: Arc::clone(&keys),
        };
        let net = Network::new(
            nodes.len(),
            scenario.cluster.network.latency,
            scenario.cluster.network.jitter,
            scenario.cluster.network.bandwidth,
            rng.fork("net"),
        );
        let n_nodes = nodes.len();
        let mut queue = EventQueue::default();
        for i in 0..nodes.len() {
            queue.push(SimTime::ZERO, Ev::Start(NodeId(i as u32)));
        }
        let mut pending_after = Vec::new();
        for (i, f) in scenario.faults.iter().enumerate() {
            match f.trigger {
                Trigger::At(t) => queue.push(t, Ev::Fault(i)),
                _ => pending_after.push(i),
            }
        }
        Simulation {
            scenario,
            addr,
            now: SimTime::ZERO,
            queue,
            wake: vec![None; nodes.len()],
            nodes,
            net,
            history: History::new(scenario.producers.len(), &metadata),
            trace: trace.map(|f| TraceWriter::new(f, &names)),
            names,
            pending_after,
            out: Out::new(trace.is_some()),
            held: Vec::new(),
            paused_until: vec![SimTime::ZERO; n_nodes],
            incarnations: vec![0; scenario.consumers.len()],
            producer_incarnations: vec![0; scenario.producers.len()],
            threads: vec![BrokerThreads::new(scenario.cluster.config.costs); brokers as usize],
            processors,
            rng,
            invariants: None,
        }
    }

    fn step(&mut self, ev: Ev) {
        // A paused node handles what reaches it when it resumes, in arrival order.
        let target = match &ev {
            Ev::Deliver(d) | Ev::Handle(d) => Some(d.to),
            Ev::Wake(n) => Some(*n),
            Ev::Closed { to, .. } => Some(*to),
            Ev::Start(_) | Ev::Fault(_) => None,
        };
        if let Some(n) = target {
            let until = self.paused_until[n.0 as usize];
            if until > self.now {
                if let Ev::Wake(n) = ev {
                    if self.wake[n.0 as usize] == Some(self.now) {
                        self.wake[n.0 as usize] = Some(until);
                        self.queue.push(until, Ev::Wake(n));
                    }
                } else {
                    self.queue.push(until, ev);
                }
                return;
            }
        }
        match ev {
            Ev::Start(n) => self.call(n, |node, now, out| node.start(now, out)),
            Ev::Wake(n) => {
                if self.wake[n.0 as usize] != Some(self.now) {
                    return;
                }
                self.wake[n.0 as usize] = None;
                if self.nodes[n.0 as usize].is_up() {
                    self.call(n, |node, now, out| node.wake(now, out));
                    if let (Some(inv), Node::Controller(c)) =
                        (&mut self.invariants, &self.nodes[n.0 as usize])
                    {
                        inv.controller_sessions(self.now, c);
                    }
                }
            }
            Ev::Deliver(d) => self.deliver(d),
            Ev::Handle(d) => self.handle(*d),
            Ev::Closed { to, peer, generation } => {
                if self.net.adopt(to, peer, generation) && self.nodes[to.0 as usize].is_up() {
                    self.call(to, |node, now, out| node.disconnected(now, peer, out));
                }
            }
            Ev::Fault(i) => self.apply_fault(i),
        }
    }

    fn deliver(&mut self, delivery: Box<Delivery>) {
        let Delivery {
            from,
            to,
            generation,
            ref msg,
            ..
        } = *delivery;
        let up = self.nodes[to.0 as usize].is_up();
        // A connection attempt, or data on a newer incarnation (brokers connect to each other
        // without a handshake here), is a new connection: the receiver forgets the old one,
        // even if the reset that ended it never reached it.
        // (The generation compare comes first: it is what almost every delivery fails.)
        if generation > self.net.generation(to, from)
            && self.net.is_up(from, to)
            && self.net.adopt(to, from, generation)
            && up
        {
            self.call(to, |node, now, out| node.disconnected(now, from, out));
        }
        if !up {
            // Nobody listens: the host answers with a reset (a refused connection attempt, or an
            // RST for data on a connection the dead process had).
            if matches!(msg, Message::Connect) {
                self.send(to, from, Message::ConnectRefused);
            } else {
                self.trace_drop(to, from, to, msg, "node is down");
                self.reset(to, from, generation);
            }
            return;
        }
        match self.net.check_arrival(from, to, generation) {
            Ok(()) => {
                let done = self.handled_at(&delivery);
                if done > self.now {
                    self.queue.push(done, Ev::Handle(delivery));
                } else {
                    let Delivery { msg, .. } = *delivery;
                    self.call(to, |node, now, out| node.message(now, from, msg, out));
                }
            }
            Err(DropReason::LinkDown) => self.hold(to, *delivery),
            Err(reason) => {
                self.trace_drop(to, from, to, msg, reason.as_str());
                if reason == DropReason::Closed {
                    self.reset(to, from, generation);
                }
            }
        }
    }

    /// When the broker a message reached is done with it: a request when its handler thread
    /// has finished, a follower's fetched data when its fetcher thread has appended it; now for
    /// anything else.
    fn handled_at(&mut self, d: &Delivery) -> SimTime {
        let now = self.now;
        // A fetch response without records leaves the fetcher thread nothing to append.
        let fetched = match &d.msg {
            Message::Response {
                body: ResponseBody::ReplicaFetch(parts),
                ..
            } => parts
                .iter()
                .any(|p| p.result.as_ref().is_ok_and(|data| !data.batches.is_empty())),
            _ => false,
        };
        if !d.msg.is_request() && !fetched {
            return now;
        }
        match self.threads_of(d.to) {
            Some(threads) if threads.is_free() => now,
            Some(threads) if fetched => threads.append_fetched(now, d.from, d.bytes),
            Some(threads) => threads.admit(now, d.from, d.generation, d.bytes),
            None => now,
        }
    }

    /// The request-handling threads of node `n`, if it is a broker.
    fn threads_of(&mut self, n: NodeId) -> Option<&mut BrokerThreads> {
        let b = self.addr.broker_of(n)?;
        self.threads.get_mut(b.checked_sub(1)? as usize)
    }

    /// A broker's handler thread finished a request: the broker acts on it, unless it crashed or
    /// the connection closed while the request waited.
    fn handle(&mut self, d: Delivery) {
        if !self.nodes[d.to.0 as usize].is_up() {
            self.trace_drop(d.to, d.from, d.to, &d.msg, "node is down");
        } else if self.net.generation(d.to, d.from) != d.generation {
            self.trace_drop(d.to, d.from, d.to, &d.msg, DropReason::Closed.as_str());
        } else {
            let Delivery { from, to, msg, .. } = d;
            self.call(to, |node, now, out| node.message(now, from, msg, out));
        }
    }

    /// `host` got data from `peer` on incarnation `generation`, which it no longer has: like a
    /// TCP stack, it answers with a reset, so the sender learns the connection is gone.
    fn reset(&mut self, host: NodeId, peer: NodeId, generation: u32) {
        let current = self.net.generation(host, peer);
        if generation < current {
            self.close_towards(host, peer, current);
        } else {
            self.close(host, peer);
        }
    }

    /// Keeps a message that met a cut link until the link heals, as TCP retransmits it.
    fn hold(&mut self, at: NodeId, delivery: Delivery) {
        if let Some(series) = &mut self.history.series {
            series
                .messages
                .lost(self.now, at, delivery.from, delivery.to, "", true);
        }
        if self.trace.is_some() {
            let (from, to, what) = (delivery.from, delivery.to, delivery.msg.describe());
            self.record(at, Event::Held { from, to, what });
        }
        self.held.push(delivery);
    }

    /// After links heal, held messages go on in the order they were held, unless their
    /// connection was closed meanwhile.
    pub(super) fn release_held(&mut self) {
        for d in std::mem::take(&mut self.held) {
            if !self.net.is_up(d.from, d.to) {
                self.held.push(d);
            } else if self.net.generation(d.from, d.to) != d.generation {
                self.trace_drop(d.from, d.from, d.to, &d.msg, DropReason::Closed.as_str());
            } else {
                let Delivery { from, to, msg, .. } = d;
                self.send(from, to, msg);
            }
        }
    }

    /// Runs a handler of node `n` and applies what it hands back.
    fn call(&mut self, n: NodeId, f: impl FnOnce(&mut Node, SimTime, &mut Out<Message, Event>)) {
        f(&mut self.nodes[n.0 as usize], self.now, &mut self.out);
        self.apply(n);
        if let Some(i) = self.processors.of(n) {
            self.couple(i);
        }
        if let Some(inv) = &mut self.invariants {
            match &self.nodes[n.0 as usize] {
                Node::Broker(b) => inv.broker(self.now, b),
                Node::Controller(c) => inv.controller(self.now, c),
                Node::Producer(_) | Node::Consumer(_) => {}
            }
        }
    }

    /// Applies what node `n` handed back in `self.out`, keeping the buffers' capacity.
    fn apply(&mut self, n: NodeId) {
        // What the node observed comes first in the trace, then what the network did with its
        // messages.
        if !self.out.events.is_empty() {
            let who = self.who(n);
            let mut events = std::mem::take(&mut self.out.events);
            for event in events.drain(..) {
                self.record_as(n, who, event);
            }
            self.out.events = events;
            if !self.pending_after.is_empty() {
                self.check_triggers();
            }
        }
        if !self.out.sends.is_empty() {
            let mut sends = std::mem::take(&mut self.out.sends);
            for (to, msg) in sends.drain(..) {
                self.send(n, to, msg);
            }
            self.out.sends = sends;
        }
        if !self.out.closes.is_empty() {
            let mut closes = std::mem::take(&mut self.out.closes);
            for peer in closes.drain(..) {
                self.close(n, peer);
            }
            self.out.closes = closes;
        }
        if let Some(at) = self.out.take_wake() {
            self.wake_node_at(n, at);
        }
    }

    /// Node `n` wakes at `at` (or earlier, if it already would).
    fn wake_node_at(&mut self, n: NodeId, at: SimTime) {
        let at = at.max(self.now);
        let slot = &mut self.wake[n.0 as usize];
        if slot.is_none_or(|w| at < w) {
            *slot = Some(at);
            self.queue.push(at, Ev::Wake(n));
        }
    }

    fn send(&mut self, from: NodeId, to: NodeId, msg: Message) {
        let kind = if msg.is_request() {
            Kind::Request
        } else if msg.is_response() {
            Kind::Response
        } else {
            Kind::Other
        };
        let generation = self.net.generation(from, to);
        let bytes = msg.wire_bytes();
        let delivery = Box::new(Delivery {
            from,
            to,
            generation,
            bytes,
            msg,
        });
        let routed = self.net.route(self.now, from, to, kind, bytes);
        if let Some(series) = &mut self.history.series {
            series.messages.sent(self.now, from, to, &delivery.msg, routed);
        }
        match routed {
            Ok(at) => self.queue.push(at, Ev::Deliver(delivery)),
            Err(DropReason::LinkDown) => self.hold(from, *delivery),
            Err(reason) => self.trace_drop(from, from, to, &delivery.msg, reason.as_str()),
        }
    }

    /// `node` closes its connection to `peer` (for a crashed broker, its host resets it); the
    /// peer learns it when the FIN or RST arrives, behind what `node` sent before.
    fn close(&mut self, node: NodeId, peer: NodeId) {
        let generation = self.net.close(node, peer);
        self.close_towards(node, peer, generation);
    }

    /// Sends the FIN or RST that tells `peer` that `node` is on incarnation `generation` now.
    fn close_towards(&mut self, node: NodeId, peer: NodeId, generation: u32) {
        if let Ok(at) = self.net.route(self.now, node, peer, Kind::Other, 0) {
            let closed = Ev::Closed {
                to: peer,
                peer: node,
                generation,
            };
            self.queue.push(at, closed);
        }
    }

    /// Traces a lost message at `at`: the sender when it is lost on the way out, the receiver
    /// when it is lost on arrival.
    fn trace_drop(&mut self, at: NodeId, from: NodeId, to: NodeId, msg: &Message, why: &'static str) {
        if let Some(series) = &mut self.history.series {
            series.messages.lost(self.now, at, from, to, why, false);
        }
        if self.trace.is_some() {
            let what = msg.describe();
            self.record(at, Event::Dropped { from, to, what, why });
        }
    }

    /// Every group, from the live broker that coordinates it.
    fn group_views(&self) -> Vec<GroupView> {
        let mut views: BTreeMap<Arc<str>, GroupView> = BTreeMap::new();
        for b in self.addr.broker_ids() {
            let Some(broker) = self.broker(b).filter(|x| x.is_up()) else {
                continue;
            };
            for (id, g) in broker.coordinator().groups() {
                let members = g
                    .members()
                    .map(|(m, node, parts)| {
                        (m.clone(), self.names.node_name(node).to_string(), parts.to_vec())
                    })
                    .collect();
                views.insert(
                    id.clone(),
                    GroupView {
                        group: id.clone(),
                        coordinator: b,
                        state: g.state(),
                        generation: g.generation(),
                        members,
                        offsets: g.offsets().clone(),
                    },
                );
            }
        }
        views.into_values().collect()
    }

    /// Every transactional id, from the live broker that coordinates it.
    fn txn_views(&self) -> Vec<TxnView> {
        let mut views: BTreeMap<Arc<str>, (u32, TxnView)> = BTreeMap::new();
        for b in self.addr.broker_ids() {
            let Some(coordinator) = self.broker(b).filter(|x| x.is_up()).map(Broker::txn_coordinator) else {
                continue;
            };
            for m in coordinator.transactions() {
                let epoch = coordinator
                    .loaded_epoch(coordinator.partition_of(&m.transactional_id))
                    .unwrap_or(0);
                if views.get(&m.transactional_id).is_some_and(|(e, _)| *e >= epoch) {
                    continue;
                }
                let view = TxnView {
                    coordinator: b,
                    metadata: m.clone(),
                };
                views.insert(m.transactional_id.clone(), (epoch, view));
            }
        }
        views.into_values().map(|(_, v)| v).collect()
    }

    fn broker(&self, id: u32) -> Option<&Broker> {
        match self.nodes.get(self.addr.broker(id).0 as usize)? {
            Node::Broker(b) => Some(b),
            _ => None,
        }
    }

    fn who(&self, n: NodeId) -> Client {
        if let Some(b) = self.addr.broker_of(n) {
            return Client::Broker(b);
        }
        if n == self.addr.controller() {
            return Client::Controller;
        }
        let i = (n.0 - self.addr.controller().0 - 1) as usize;
        let producers = self.scenario.producers.len();
        if i < producers {
            Client::Producer(i as u32)
        } else {
            Client::Consumer((i - producers) as u32)
        }
    }

    fn record(&mut self, n: NodeId, event: Event) {
        let who = self.who(n);
        self.record_as(n, who, event);
    }

    fn record_as(&mut self, n: NodeId, who: Client, event: Event) {
        self.history.observe(self.now, &event, who);
        if let Some(w) = &mut self.trace {
            let stamped = Stamped {
                time: self.now,
                node: n,
                event,
            };
            w.write(&stamped, &self.names);
        }
    }

    /// The node an event is for and what kind of event it is, for the livelock report.
    fn describe(&self, ev: &Ev) -> Option<(NodeId, String)> {
        let name = |n: NodeId| self.names.nodes[n.0 as usize].as_str();
        Some(match ev {
            Ev::Start(n) => (*n, "start".to_string()),
            Ev::Wake(n) => (*n, "timer".to_string()),
            Ev::Deliver(d) => (d.to, format!("receives {} from {}", d.msg.kind(), name(d.from))),
            Ev::Handle(d) => (d.to, format!("handles {} from {}", d.msg.kind(), name(d.from))),
            Ev::Closed { to, peer, .. } => (*to, format!("sees {} close the connection", name(*peer))),
            Ev::Fault(_) => return None,
        })
    }

    /// Why a run that stood still at one instant stops: what looped, and the configs that let
    /// it loop without time passing.
    fn livelock(&self, stall: &StallWatch) -> String {
        let looping: Vec<String> = stall
            .looping()
            .iter()
            .take(6)
            .map(|(node, kind, n)| format!("{} {kind} ({n})", self.names.nodes[node.0 as usize]))
            .collect();
        let mut causes: Vec<String> = Vec::new();
        for (node, _, _) in stall.looping() {
            let name = &self.names.nodes[node.0 as usize];
            let net = (self.scenario.producers.iter())
                .find(|p| &p.id == name)
                .map(|p| &p.config.net)
                .or_else(|| {
                    (self.scenario.consumers.iter())
                        .find(|c| &c.id == name)
                        .map(|c| &c.config.net)
                });
            let zero = net.map(|n| n.zero_timings()).unwrap_or_default();
            let cause = format!("{name}: {} = 0", zero.join(", "));
            if !zero.is_empty() && !causes.contains(&cause) {
                causes.push(cause);
            }
        }
        if self.scenario.cluster.network.latency == SimDuration::ZERO {
            causes.push("network latency = 0".to_string());
        }
        let causes = if causes.is_empty() {
            "no zero timing in the looping clients' configs: please report this scenario".to_string()
        } else {
            format!(
                "{}; give them a few milliseconds, as Kafka's defaults do (socket.connection.setup.timeout.ms 10000, reconnect.backoff.ms 50, retry.backoff.ms 100)",
                causes.join("; ")
            )
        };
        format!(
            "livelock: stopped after {STALL_EVENTS} events at {} without simulated time moving on; looping (last 1000 events): {}; the zero timings that let it loop: {causes}",
            self.now,
            looping.join(", ")
        )
    }

    fn finish(
        self,
        seed: u64,
        end: SimTime,
        events: u64,
        stopped_early: Option<String>,
        mean_queue_len: u64,
    ) -> RunResult {
        let metadata = self
            .nodes
            .iter()
            .find_map(|n| match n {
                Node::Controller(c) => Some(c.metadata()),
                _ => None,
            })
            .unwrap_or_default();
        let mut logs = BTreeMap::new();
        let mut holders = BTreeMap::new();
        let mut replica_logs = BTreeMap::new();
        let stopped: BTreeSet<u32> = self
            .addr
            .broker_ids()
            .filter(|b| !self.broker(*b).is_some_and(Broker::is_up))
            .collect();
        let running = |b: u32| !stopped.contains(&b);
        let internal = [
            self.scenario.offsets_topic(),
            self.scenario.transaction_state_topic(),
        ];
        for (t, partitions) in metadata.topics.iter().enumerate() {
            if internal.contains(&Some(t as u32)) {
                // Kafka's own records, not the producers': the checkers never look at them.
                continue;
            }
            for (p, state) in partitions.iter().enumerate() {
                let tp = Tp {
                    topic: t as u32,
                    partition: p as u32,
                };
                for b in &state.replicas {
                    if let Some(log) = self.broker(*b).and_then(|broker| broker.log(tp)) {
                        replica_logs.insert((tp, *b), log.clone());
                    }
                }
                let unclean = self.scenario.topics[t].config.unclean_leader_election;
                let since = self.history.leaderless_since(tp);
                let holder = Holder::of(state, running, unclean, since);
                let log = holder.first().and_then(|b| replica_logs.get(&(tp, b)).cloned());
                logs.insert(tp, log.unwrap_or_default());
                holders.insert(tp, holder);
            }
        }
        let consumer_positions = self
            .nodes
            .iter()
            .filter_map(|n| match n {
                Node::Consumer(c) => Some(c.positions().collect()),
                _ => None,
            })
            .collect();
        let groups = self.group_views();
        let transactions = self.txn_views();
        RunResult {
            groups,
            transactions,
            seed,
            end,
            events,
            stopped_early,
            livelock: false,
            mean_queue_len,
            history: self.history,
            trace: self.trace.map(TraceWriter::into_string),
            metadata,
            logs,
            holders,
            stopped,
            replica_logs,
            consumer_positions,
            names: self.names,
            violations: self
                .invariants
                .map(Invariants::into_violations)
                .unwrap_or_default(),
            recorded: None,
        }
    }
}

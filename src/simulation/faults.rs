//! Applying scenario faults, and firing the ones that wait for an event.

use super::nodes::Node;
use super::{Ev, Simulation};
use crate::kafka::record::Tp;
use crate::scenario::fault::Target;
use crate::scenario::{Fault, NodeRef, Trigger};
use crate::sim::NodeId;
use crate::trace::Event;

impl Simulation<'_> {
    /// The nodes a fault names: one, or two for a processor (its consumer and its producer
    /// share its client id).
    fn nodes_of(&self, r: &NodeRef) -> Vec<NodeId> {
        match r {
            NodeRef::Broker(b) => vec![self.addr.broker(*b)],
            NodeRef::Controller => vec![self.addr.controller()],
            NodeRef::Client(id) => {
                let producer = self.scenario.producer_index(id);
                let consumer = self
                    .scenario
                    .consumer_index(id)
                    .map(|c| c + self.scenario.producers.len());
                producer
                    .into_iter()
                    .chain(consumer)
                    .map(|i| self.addr.client(i))
                    .collect()
            }
        }
    }

    fn client_nodes(&self, id: &str) -> Vec<NodeId> {
        self.nodes_of(&NodeRef::Client(id.to_string()))
    }

    /// Fires fault number `i`.
    pub(super) fn apply_fault(&mut self, i: usize) {
        let spec = &self.scenario.faults[i];
        self.record(
            self.addr.controller(),
            Event::Fault {
                text: spec.text.clone(),
            },
        );
        match &spec.fault {
            Fault::Crash { lose_unflushed, .. } => match spec.fault.target() {
                Some(Target::Broker(b)) => {
                    let n = self.addr.broker(b);
                    let up = self.nodes[n.0 as usize].is_up();
                    if let Some(inv) = self.invariants.as_mut().filter(|_| *lose_unflushed && up) {
                        inv.power_loss(b);
                    }
                    self.crash(self.addr.broker(b), *lose_unflushed)
                }
                Some(Target::Consumer(c)) => self.crash_client(self.scenario.consumer_index(c), true),
                Some(Target::Producer(p)) => self.crash_client(self.scenario.producer_index(p), false),
                Some(Target::Processor(p)) => {
                    self.crash_client(self.scenario.consumer_index(p), true);
                    self.crash_client(self.scenario.producer_index(p), false);
                }
                None => {}
            },
            Fault::ControlledShutdown { broker } => {
                let n = self.addr.broker(*broker);
                self.call(n, |node, _, out| {
                    if let Node::Broker(b) = node {
                        b.begin_shutdown(out);
                    }
                });
            }
            Fault::Pause { node, duration } => {
                let until = self.now + *duration;
                for n in self.nodes_of(node) {
                    let slot = &mut self.paused_until[n.0 as usize];
                    *slot = (*slot).max(until);
                }
            }
            Fault::Restart { .. } => match spec.fault.target() {
                Some(Target::Broker(b)) => {
                    let n = self.addr.broker(b);
                    if !self.nodes[n.0 as usize].is_up() {
                        self.call(n, |node, now, out| {
                            if let Node::Broker(b) = node {
                                b.restart(now, out);
                            }
                        });
                    }
                }
                Some(Target::Consumer(c)) => self.restart_consumer(c),
                Some(Target::Producer(p)) => self.restart_producer(p),
                Some(Target::Processor(p)) => {
                    if let Some(i) = self.scenario.processor_index(p) {
                        self.processors.forget(i);
                    }
                    self.restart_consumer(p);
                    self.restart_producer(p);
                }
                None => {}
            },
            Fault::ConsumerJoin { consumer } => {
                if let Some(n) = self.consumer_node(consumer) {
                    self.call(n, |node, now, out| {
                        if let Node::Consumer(c) = node {
                            c.start_now(now, out);
                        }
                    });
                }
            }
            Fault::ConsumerLeave { consumer } => {
                if let Some(n) = self.consumer_node(consumer) {
                    self.call(n, |node, now, out| {
                        if let Node::Consumer(c) = node {
                            c.close(now, out);
                        }
                    });
                }
            }
            Fault::Isolate { node } => {
                for n in self.nodes_of(node) {
                    self.net.isolate(n);
                }
            }
            Fault::Partition { groups } => {
                let groups: Vec<Vec<NodeId>> = groups
                    .iter()
                    .map(|g| g.iter().flat_map(|r| self.nodes_of(r)).collect())
                    .collect();
                self.net.partition(&groups);
            }
            Fault::Heal => {
                self.net.heal();
                self.release_held();
            }
            Fault::DropRequests {
                broker,
                client,
                count,
            } => {
                for c in self.client_nodes(client) {
                    self.net.drop_requests(c, self.addr.broker(*broker), *count);
                }
            }
            Fault::DropResponses {
                broker,
                client,
                count,
            } => {
                for c in self.client_nodes(client) {
                    self.net.drop_responses(self.addr.broker(*broker), c, *count);
                }
            }
            Fault::SlowLink {
                nodes: (a, b),
                extra_latency,
            } => {
                for a in self.nodes_of(a) {
                    for b in self.nodes_of(b) {
                        self.net.slow(a, b, *extra_latency);
                    }
                }
            }
            Fault::AddPartitions { topic, count } => {
                let t = self
                    .scenario
                    .topics
                    .iter()
                    .position(|x| x.name == *topic)
                    .expect("topics are validated") as u32;
                let count = *count;
                let c = self.addr.controller();
                self.call(c, |node, now, out| {
                    if let Node::Controller(ctl) = node {
                        ctl.add_partitions(t, count, now, out);
                    }
                });
            }
            Fault::DeleteRecords {
                topic,
                partition,
                before,
            } => {
                let tp = Tp {
                    topic: self
                        .scenario
                        .topics
                        .iter()
                        .position(|x| x.name == *topic)
                        .expect("topics are validated") as u32,
                    partition: *partition,
                };
                let before = *before;
                let c = self.addr.controller();
                let leader = match &self.nodes[c.0 as usize] {
                    Node::Controller(ctl) => ctl.metadata().partition(tp).and_then(|p| p.leader),
                    _ => None,
                };
                match leader {
                    Some(b) => self.call(self.addr.broker(b), |node, _, out| {
                        if let Node::Broker(broker) = node {
                            broker.delete_records(tp, before, out);
                        }
                    }),
                    None => self.record(
                        c,
                        Event::DeleteRecords {
                            tp,
                            before,
                            result: Err(crate::kafka::protocol::ErrorCode::LeaderNotAvailable),
                        },
                    ),
                }
            }
            Fault::Reset { broker, client } => {
                let b = self.addr.broker(*broker);
                for c in self.client_nodes(client) {
                    self.close(b, c);
                    self.call(b, |node, now, out| node.disconnected(now, c, out));
                }
            }
        }
    }

    /// The node of consumer `id` (its client index comes after the producers').
    fn consumer_node(&self, id: &str) -> Option<NodeId> {
        let i = self.scenario.consumer_index(id)?;
        Some(self.addr.client(i + self.scenario.producers.len()))
    }

    /// Crashes the client at index `i` among the consumers (`consumer`) or the producers.
    fn crash_client(&mut self, i: Option<usize>, consumer: bool) {
        let Some(i) = i else { return };
        let offset = if consumer {
            self.scenario.producers.len()
        } else {
            0
        };
        self.crash(self.addr.client(i + offset), false);
    }

    /// The broker process dies (or its machine loses power): its host resets every connection
    /// to clients and other brokers.
    fn crash(&mut self, n: NodeId, power_loss: bool) {
        match &mut self.nodes[n.0 as usize] {
            Node::Broker(b) if b.is_up() => {
                self.call(n, |node, _, out| {
                    if let Node::Broker(b) = node {
                        b.crash(power_loss, out);
                    }
                });
            }
            Node::Consumer(c) if c.is_up() => c.crash(),
            Node::Producer(p) if p.is_up() => p.crash(),
            _ => return,
        }
        self.wake[n.0 as usize] = None;
        if let Some(threads) = self.threads_of(n) {
            threads.reset();
        }
        for peer in 0..self.nodes.len() as u32 {
            if NodeId(peer) != n && NodeId(peer) != self.addr.controller() {
                self.close(n, NodeId(peer));
            }
        }
    }

    /// A crashed consumer starts again as a new process: configuration only, no state.
    fn restart_consumer(&mut self, id: &str) {
        let (Some(i), Some(n)) = (self.scenario.consumer_index(id), self.consumer_node(id)) else {
            return;
        };
        if self.nodes[n.0 as usize].is_up() {
            return;
        }
        self.incarnations[i] += 1;
        let fresh = super::new_consumer(
            self.scenario,
            &self.rng,
            self.addr,
            i,
            self.incarnations[i],
            self.now,
        );
        self.nodes[n.0 as usize] = Node::Consumer(Box::new(fresh));
        self.call(n, |node, now, out| node.start(now, out));
    }

    /// A crashed producer's application starts again as a new process: a new instance with its
    /// configuration, which carries on with the workload after the last record the crashed one
    /// handed to `send()`; a transactional one calls `initTransactions()` first, which fences
    /// its old incarnation and aborts the transaction it left open.
    fn restart_producer(&mut self, id: &str) {
        let Some(i) = self.scenario.producer_index(id) else {
            return;
        };
        let n = self.addr.client(i);
        let Node::Producer(old) = &self.nodes[n.0 as usize] else {
            return;
        };
        if old.is_up() {
            return;
        }
        let progress = old.progress();
        self.producer_incarnations[i] += 1;
        let mut fresh = super::new_producer(
            self.scenario,
            &self.rng,
            self.addr,
            i,
            self.producer_incarnations[i],
        );
        fresh.resume(progress);
        self.nodes[n.0 as usize] = Node::Producer(Box::new(fresh));
        self.call(n, |node, now, out| node.start(now, out));
    }

    /// Schedules every `after` fault whose event has happened.
    pub(super) fn check_triggers(&mut self) {
        let h = &self.history;
        let fired: Vec<usize> = self
            .pending_after
            .iter()
            .copied()
            .filter(|&i| match &self.scenario.faults[i].trigger {
                Trigger::At(_) => false,
                Trigger::Sent { producer, records } => h.producers[*producer].sent >= *records,
                Trigger::Acked { producer, records } => h.producers[*producer].acked >= *records,
                Trigger::Appended {
                    topic,
                    partition,
                    offset,
                } => {
                    let tp = Tp {
                        topic: *topic as u32,
                        partition: *partition,
                    };
                    h.log_end.get(&tp).is_some_and(|end| end > offset)
                }
            })
            .collect();
        if fired.is_empty() {
            return;
        }
        self.pending_after.retain(|i| !fired.contains(i));
        for i in fired {
            self.queue.push(self.now, Ev::Fault(i));
        }
    }
}

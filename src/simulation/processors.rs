//! Processors: each runs as a consumer node and a producer node of the same client id (two
//! clients, two connections, as a Kafka application has), coupled in the application: what the
//! consumer processed goes to the producer, and the producer's end of each batch (output
//! acknowledged, transaction committed, or fenced) goes back to the consumer. A half that is
//! paused or down gets what waits for it when it runs again.

use super::Simulation;
use super::nodes::Node;
use crate::kafka::consumer::Handoff;
use crate::kafka::producer::processor::Signal;
use crate::sim::NodeId;
use std::collections::BTreeMap;
use std::sync::Arc;

/// The two halves of every processor, and what waits for each.
#[derive(Default)]
pub(super) struct Processors {
    /// (consumer node, producer node) per processor.
    halves: Vec<(NodeId, NodeId)>,
    /// Node → processor.
    of: BTreeMap<NodeId, usize>,
    /// Handed over by a consumer, not yet taken by its producer.
    handoffs: Vec<Vec<Handoff>>,
    /// Told by a producer, not yet taken by its consumer.
    signals: Vec<Vec<Signal>>,
}

impl Processors {
    /// Processors whose halves are these nodes.
    pub(super) fn new(halves: Vec<(NodeId, NodeId)>) -> Processors {
        let mut of = BTreeMap::new();
        for (i, (c, p)) in halves.iter().enumerate() {
            of.insert(*c, i);
            of.insert(*p, i);
        }
        Processors {
            handoffs: vec![Vec::new(); halves.len()],
            signals: vec![Vec::new(); halves.len()],
            halves,
            of,
        }
    }

    /// The processor node `n` is a half of.
    pub(super) fn of(&self, n: NodeId) -> Option<usize> {
        self.of.get(&n).copied()
    }

    /// A half restarted: what waited for the old process is gone.
    pub(super) fn forget(&mut self, i: usize) {
        self.handoffs[i].clear();
        self.signals[i].clear();
    }
}

impl Simulation<'_> {
    /// After a half of processor `i` ran: collect what it hands to the other half, and deliver
    /// what waits for a half that can run now.
    pub(super) fn couple(&mut self, i: usize) {
        let (cn, pn) = self.processors.halves[i];
        if let Node::Consumer(c) = &mut self.nodes[cn.0 as usize] {
            self.processors.handoffs[i].extend(c.take_outbox());
        }
        if let Node::Producer(p) = &mut self.nodes[pn.0 as usize] {
            self.processors.signals[i].extend(p.take_signals());
        }
        if !self.processors.handoffs[i].is_empty() && self.can_run(pn) {
            // Each output has its input's key.
            let names = &self.names;
            let handoffs: Vec<(Handoff, Option<Arc<str>>)> = std::mem::take(&mut self.processors.handoffs[i])
                .into_iter()
                .map(|h| {
                    let key = match &h {
                        Handoff::Record { record, .. } => names.key_of(*record).map(Arc::from),
                        Handoff::BatchEnd { .. } => None,
                    };
                    (h, key)
                })
                .collect();
            self.call(pn, |node, now, out| {
                if let Node::Producer(p) = node {
                    p.hand_over(handoffs, now, out);
                }
            });
        }
        if !self.processors.signals[i].is_empty() && self.can_run(cn) {
            for s in std::mem::take(&mut self.processors.signals[i]) {
                self.call(cn, |node, now, out| {
                    if let Node::Consumer(c) = node {
                        match s {
                            Signal::BatchDone(ok) => c.output_done(ok, now, out),
                            Signal::Fenced => c.close(now, out),
                        }
                    }
                });
            }
        }
        self.wake_waiting(i);
    }

    /// True if node `n` runs now (up, not paused).
    fn can_run(&self, n: NodeId) -> bool {
        self.nodes[n.0 as usize].is_up() && self.paused_until[n.0 as usize] <= self.now
    }

    /// A paused half with something waiting for it is woken when its pause ends.
    fn wake_waiting(&mut self, i: usize) {
        let (cn, pn) = self.processors.halves[i];
        let waiting = [
            (pn, !self.processors.handoffs[i].is_empty()),
            (cn, !self.processors.signals[i].is_empty()),
        ];
        for (n, has) in waiting {
            let until = self.paused_until[n.0 as usize];
            if has && self.nodes[n.0 as usize].is_up() && until > self.now {
                self.wake_node_at(n, until);
            }
        }
    }
}

//! What a node hands back to the kernel: messages, connection closes, a wake-up time, events.
//!
//! Nodes never touch the queue: a handler gets `(now, input)` and fills an `Out`.

use super::time::SimTime;
use std::fmt;

/// A node of the simulation: brokers first, then the controller, then clients.
#[derive(Copy, Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct NodeId(pub u32);

impl fmt::Display for NodeId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "node {}", self.0)
    }
}

/// Outputs of one handler call. Reused between calls to avoid allocation.
pub struct Out<M, E> {
    /// Messages to send, in order.
    pub sends: Vec<(NodeId, M)>,
    /// Connections this node closes.
    pub closes: Vec<NodeId>,
    /// Events observed (history and trace).
    pub events: Vec<E>,
    wake: Option<SimTime>,
    tracing: bool,
}

impl<M, E> Out<M, E> {
    /// An empty buffer; `tracing` tells nodes whether trace-only events are wanted.
    pub fn new(tracing: bool) -> Out<M, E> {
        Out {
            sends: Vec::new(),
            closes: Vec::new(),
            events: Vec::new(),
            wake: None,
            tracing,
        }
    }

    /// Sends `msg` to `to`.
    pub fn send(&mut self, to: NodeId, msg: M) {
        self.sends.push((to, msg));
    }

    /// Closes the connection to `peer`.
    pub fn close(&mut self, peer: NodeId) {
        self.closes.push(peer);
    }

    /// Records an event the history needs (always kept).
    pub fn emit(&mut self, e: E) {
        self.events.push(e);
    }

    /// Records a trace-only event, built only when tracing is on.
    pub fn trace(&mut self, e: impl FnOnce() -> E) {
        if self.tracing {
            self.events.push(e());
        }
    }

    /// Asks to be woken no later than `at` (spurious earlier wake-ups are allowed).
    pub fn wake_at(&mut self, at: SimTime) {
        if self.wake.is_none_or(|w| at < w) {
            self.wake = Some(at);
        }
    }

    /// The earliest wake-up asked for, clearing it.
    pub fn take_wake(&mut self) -> Option<SimTime> {
        self.wake.take()
    }
}

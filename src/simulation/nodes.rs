//! The nodes of a run and one entry point per input kind, dispatching to the Kafka component.

use crate::kafka::broker::Broker;
use crate::kafka::consumer::Consumer;
use crate::kafka::controller::Controller;
use crate::kafka::producer::Producer;
use crate::kafka::protocol::Message;
use crate::sim::{NodeId, Out, SimTime};
use crate::trace::Event;

/// Any node.
pub enum Node {
    /// A broker.
    Broker(Box<Broker>),
    /// The controller.
    Controller(Box<Controller>),
    /// A producer.
    Producer(Box<Producer>),
    /// A consumer.
    Consumer(Box<Consumer>),
}

type O = Out<Message, Event>;

impl Node {
    /// False for a crashed broker: it receives nothing and never wakes.
    pub fn is_up(&self) -> bool {
        match self {
            Node::Broker(b) => b.is_up(),
            Node::Consumer(c) => c.is_up(),
            Node::Producer(p) => p.is_up(),
            Node::Controller(_) => true,
        }
    }

    pub(super) fn start(&mut self, now: SimTime, out: &mut O) {
        match self {
            Node::Broker(b) => b.on_start(now, out),
            Node::Controller(c) => c.on_start(now, out),
            Node::Producer(p) => p.on_start(now, out),
            Node::Consumer(c) => c.on_start(now, out),
        }
    }

    pub(super) fn message(&mut self, now: SimTime, from: NodeId, msg: Message, out: &mut O) {
        match self {
            Node::Broker(b) => b.on_message(now, from, msg, out),
            Node::Controller(c) => c.on_message(now, msg, out),
            Node::Producer(p) => p.on_message(now, from, msg, out),
            Node::Consumer(c) => c.on_message(now, from, msg, out),
        }
    }

    pub(super) fn wake(&mut self, now: SimTime, out: &mut O) {
        match self {
            Node::Broker(b) => b.on_wake(now, out),
            Node::Controller(c) => c.on_wake(now, out),
            Node::Producer(p) => p.on_wake(now, out),
            Node::Consumer(c) => c.on_wake(now, out),
        }
    }

    pub(super) fn disconnected(&mut self, now: SimTime, peer: NodeId, out: &mut O) {
        match self {
            Node::Broker(b) => b.on_disconnect(now, peer, out),
            Node::Controller(_) => {}
            Node::Producer(p) => p.on_disconnect(now, peer, out),
            Node::Consumer(c) => c.on_disconnect(now, peer, out),
        }
    }
}

//! Which [`NodeId`] is which: brokers `1..=n` are nodes `0..n`, then the controller, then the
//! clients (producers, then consumers) in scenario order.

use super::protocol::BrokerId;
use crate::sim::NodeId;

/// The node numbering of one run.
#[derive(Clone, Copy, Debug)]
pub struct Addresses {
    brokers: u32,
}

impl Addresses {
    /// Numbering for a cluster of `brokers` brokers.
    pub fn new(brokers: u32) -> Addresses {
        Addresses { brokers }
    }

    /// Number of brokers.
    pub fn broker_count(&self) -> u32 {
        self.brokers
    }

    /// Broker ids in order.
    pub fn broker_ids(&self) -> std::ops::RangeInclusive<BrokerId> {
        1..=self.brokers
    }

    /// The node of broker `id`.
    pub fn broker(&self, id: BrokerId) -> NodeId {
        NodeId(id - 1)
    }

    /// The controller's node.
    pub fn controller(&self) -> NodeId {
        NodeId(self.brokers)
    }

    /// The node of client number `i` (producers first, then consumers).
    pub fn client(&self, i: usize) -> NodeId {
        NodeId(self.brokers + 1 + u32::try_from(i).unwrap_or(u32::MAX - self.brokers - 1))
    }

    /// The broker id of a node, if it is a broker.
    pub fn broker_of(&self, node: NodeId) -> Option<BrokerId> {
        (node.0 < self.brokers).then_some(node.0 + 1)
    }
}

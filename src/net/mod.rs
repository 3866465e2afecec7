//! The network: one ordered connection per pair of nodes, latency plus seeded jitter, and faults.
//!
//! Each direction of a link has a bandwidth: a message goes onto the wire after the ones ahead of
//! it and takes its size over the bandwidth to do so, then travels for the latency.
//!
//! Links form a `petgraph` graph whose edges are the links that are up. Like TCP across an outage,
//! a message that meets a cut link is held, not lost, and goes on when the link heals (the run
//! loop keeps it). Each end of a connection knows which incarnation of it it is on; closing bumps
//! the closer's side at once and the peer's when the FIN or RST reaches it, so messages of an old
//! incarnation are dropped on arrival. A message lost to a `DropRequests`/`DropResponses` fault
//! leaves its connection silently dead (TCP cannot skip a message): everything behind it is lost
//! too, until a side closes the connection — for a client, when `request.timeout.ms` expires.

use crate::sim::{NodeId, SimDuration, SimRng, SimTime};
use petgraph::graphmap::UnGraphMap;
use std::collections::{BTreeMap, BTreeSet};

/// Why the network did not deliver a message (now).
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum DropReason {
    /// The link is cut (partition or isolation): the message waits for the link to heal.
    LinkDown,
    /// A `DropRequests` fault took it.
    DropRequests,
    /// A `DropResponses` fault took it.
    DropResponses,
    /// An earlier message on this connection was lost; the connection is silently dead.
    DeadConnection,
    /// The connection it was sent on has been closed since.
    Closed,
}

impl DropReason {
    /// Text for the trace.
    pub fn as_str(self) -> &'static str {
        match self {
            DropReason::LinkDown => "link down",
            DropReason::DropRequests => "DropRequests fault",
            DropReason::DropResponses => "DropResponses fault",
            DropReason::DeadConnection => "connection silently dead",
            DropReason::Closed => "connection closed",
        }
    }
}

/// What kind of message is being routed (faults only pick some kinds).
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum Kind {
    /// A client request.
    Request,
    /// A broker response.
    Response,
    /// Anything else.
    Other,
}

/// The network between `n` nodes.
pub struct Network {
    n: usize,
    latency: SimDuration,
    jitter: SimDuration,
    bandwidth: Option<u64>,
    wire_free: Vec<SimTime>,
    up: UnGraphMap<u32, ()>,
    /// No link is cut (since the last `heal`): most runs, and every message's check, need no
    /// look into the graph.
    all_up: bool,
    extra: BTreeMap<(u32, u32), SimDuration>,
    last_arrival: Vec<SimTime>,
    generation: Vec<u32>,
    dead: BTreeSet<(u32, u32, u32)>,
    drop_requests: BTreeMap<(u32, u32), u32>,
    drop_responses: BTreeMap<(u32, u32), u32>,
    rng: SimRng,
}

fn pair(a: NodeId, b: NodeId) -> (u32, u32) {
    (a.0.min(b.0), a.0.max(b.0))
}

impl Network {
    /// A fully connected network of `n` nodes; `bandwidth` in bits per second per direction
    /// (`None`: unlimited).
    pub fn new(
        n: usize,
        latency: SimDuration,
        jitter: SimDuration,
        bandwidth: Option<u64>,
        rng: SimRng,
    ) -> Network {
        let mut net = Network {
            n,
            latency,
            jitter,
            bandwidth,
            wire_free: vec![SimTime::ZERO; n * n],
            up: UnGraphMap::new(),
            all_up: true,
            extra: BTreeMap::new(),
            last_arrival: vec![SimTime::ZERO; n * n],
            generation: vec![0; n * n],
            dead: BTreeSet::new(),
            drop_requests: BTreeMap::new(),
            drop_responses: BTreeMap::new(),
            rng,
        };
        net.heal();
        net
    }

    /// `a`'s view of its connection with `b`.
    fn slot(&self, a: NodeId, b: NodeId) -> usize {
        a.0 as usize * self.n + b.0 as usize
    }

    /// True when `a` and `b` can reach each other.
    pub fn is_up(&self, a: NodeId, b: NodeId) -> bool {
        a == b || self.all_up || self.up.contains_edge(a.0, b.0)
    }

    /// The incarnation of its connection with `b` that `a` is on (what its messages carry).
    pub fn generation(&self, a: NodeId, b: NodeId) -> u32 {
        self.generation[self.slot(a, b)]
    }

    /// `a` closes its connection with `b`: from now on `a` drops what arrives on the old one.
    /// Returns the new incarnation, which `b` adopts when it learns of the close.
    pub fn close(&mut self, a: NodeId, b: NodeId) -> u32 {
        let newest = self.generation(a, b).max(self.generation(b, a)) + 1;
        let slot = self.slot(a, b);
        self.generation[slot] = newest;
        newest
    }

    /// `a` learns of incarnation `generation` with `b` (a FIN/RST, or a new connection attempt).
    /// Returns true if it is newer than what `a` was on.
    pub fn adopt(&mut self, a: NodeId, b: NodeId, generation: u32) -> bool {
        let slot = self.slot(a, b);
        if generation > self.generation[slot] {
            self.generation[slot] = generation;
            true
        } else {
            false
        }
    }

    /// Decides the fate of a message of `bytes` bytes sent now on the connection's current
    /// generation: its arrival time, or why it is lost. Arrivals on a directed link never
    /// overtake each other.
    pub fn route(
        &mut self,
        now: SimTime,
        from: NodeId,
        to: NodeId,
        kind: Kind,
        bytes: u64,
    ) -> Result<SimTime, DropReason> {
        let (lo, hi) = pair(from, to);
        let generation = self.generation(from, to);
        if !self.is_up(from, to) {
            return Err(DropReason::LinkDown);
        }
        if self.dead.contains(&(lo, hi, generation)) {
            return Err(DropReason::DeadConnection);
        }
        let fault = match kind {
            Kind::Request => {
                take_one(&mut self.drop_requests, (from.0, to.0)).then_some(DropReason::DropRequests)
            }
            Kind::Response => {
                take_one(&mut self.drop_responses, (from.0, to.0)).then_some(DropReason::DropResponses)
            }
            Kind::Other => None,
        };
        if let Some(reason) = fault {
            self.dead.insert((lo, hi, generation));
            return Err(reason);
        }
        let jitter = if self.jitter.as_us() > 0 {
            SimDuration::from_us(self.rng.up_to(self.jitter.as_us()))
        } else {
            SimDuration::ZERO
        };
        let extra = self.extra.get(&(lo, hi)).copied().unwrap_or_default();
        let directed = from.0 as usize * self.n + to.0 as usize;
        let on_wire = self.wire_free[directed].max(now) + self.transmission(bytes);
        self.wire_free[directed] = on_wire;
        let arrival = (on_wire + self.latency + extra + jitter).max(self.last_arrival[directed]);
        self.last_arrival[directed] = arrival;
        Ok(arrival)
    }

    /// How long `bytes` take to go onto the wire (rounded up to whole microseconds).
    fn transmission(&self, bytes: u64) -> SimDuration {
        let Some(bits_per_s) = self.bandwidth else {
            return SimDuration::ZERO;
        };
        let bits = u128::from(bytes) * 8 * 1_000_000;
        let us = bits.div_ceil(u128::from(bits_per_s));
        SimDuration::from_us(u64::try_from(us).unwrap_or(u64::MAX))
    }

    /// Checks, on arrival, that a message sent on generation `generation` may still be delivered.
    /// A connection that died after the message was sent does not stop it: TCP delivers what was
    /// ahead of the lost message.
    pub fn check_arrival(&self, from: NodeId, to: NodeId, generation: u32) -> Result<(), DropReason> {
        if !self.is_up(from, to) {
            return Err(DropReason::LinkDown);
        }
        if generation != self.generation(to, from) {
            return Err(DropReason::Closed);
        }
        Ok(())
    }

    /// Cuts every link between nodes of different groups; nodes in no group keep their links.
    pub fn partition(&mut self, groups: &[Vec<NodeId>]) {
        for (i, g) in groups.iter().enumerate() {
            for other in &groups[i + 1..] {
                for a in g {
                    for b in other {
                        self.up.remove_edge(a.0, b.0);
                        self.all_up = false;
                    }
                }
            }
        }
    }

    /// Cuts every link of `node`.
    pub fn isolate(&mut self, node: NodeId) {
        for other in 0..self.n as u32 {
            self.up.remove_edge(node.0, other);
        }
        self.all_up = false;
    }

    /// Restores every link and removes every slow link.
    pub fn heal(&mut self) {
        for a in 0..self.n as u32 {
            self.up.add_node(a);
            for b in a + 1..self.n as u32 {
                self.up.add_edge(a, b, ());
            }
        }
        self.all_up = true;
        self.extra.clear();
    }

    /// Adds `extra` one-way latency between `a` and `b`.
    pub fn slow(&mut self, a: NodeId, b: NodeId, extra: SimDuration) {
        self.extra.insert(pair(a, b), extra);
    }

    /// Drops the next `count` requests from `client` to `broker`.
    pub fn drop_requests(&mut self, client: NodeId, broker: NodeId, count: u32) {
        *self.drop_requests.entry((client.0, broker.0)).or_default() += count;
    }

    /// Drops the next `count` responses from `broker` to `client`.
    pub fn drop_responses(&mut self, broker: NodeId, client: NodeId, count: u32) {
        *self.drop_responses.entry((broker.0, client.0)).or_default() += count;
    }
}

fn take_one(counters: &mut BTreeMap<(u32, u32), u32>, key: (u32, u32)) -> bool {
    match counters.get_mut(&key) {
        Some(n) if *n > 0 => {
            *n -= 1;
            true
        }
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sim::RngTree;

    fn net(jitter_us: u64) -> Network {
        Network::new(
            4,
            SimDuration::from_ms(1),
            SimDuration::from_us(jitter_us),
            None,
            RngTree::new(1).fork("net"),
        )
    }

    const A: NodeId = NodeId(0);
    const B: NodeId = NodeId(1);
    const C: NodeId = NodeId(2);

    #[test]
    fn a_link_stays_fifo_under_jitter() {
        let mut n = net(900);
        let mut last = SimTime::ZERO;
        for i in 0..200 {
            let at = n
                .route(SimTime::from_us(i * 10), A, B, Kind::Other, 0)
                .expect("up");
            assert!(at >= last, "message {i} overtook an earlier one");
            assert!(at >= SimTime::from_us(i * 10 + 1000));
            last = at;
        }
    }

    #[test]
    fn a_message_waits_for_the_wire_then_takes_its_size_over_the_bandwidth() {
        // 8 Mbit/s: one byte per microsecond.
        let mut n = Network::new(
            2,
            SimDuration::from_ms(1),
            SimDuration::ZERO,
            Some(8_000_000),
            RngTree::new(1).fork("net"),
        );
        let t0 = SimTime::ZERO;
        assert_eq!(n.route(t0, A, B, Kind::Other, 500), Ok(SimTime::from_us(1_500)));
        // Behind the first on the same direction: on the wire from 500 µs to 800 µs.
        assert_eq!(n.route(t0, A, B, Kind::Other, 300), Ok(SimTime::from_us(1_800)));
        // The other direction has its own wire.
        assert_eq!(n.route(t0, B, A, Kind::Other, 100), Ok(SimTime::from_us(1_100)));
        // An idle wire: only the message's own time.
        let later = SimTime::from_us(10_000);
        assert_eq!(n.route(later, A, B, Kind::Other, 1), Ok(SimTime::from_us(11_001)));
    }

    #[test]
    fn partitions_cut_only_across_groups() {
        let mut n = net(0);
        n.partition(&[vec![A], vec![B]]);
        assert_eq!(
            n.route(SimTime::ZERO, A, B, Kind::Other, 0),
            Err(DropReason::LinkDown)
        );
        assert!(
            n.is_up(A, C) && n.is_up(B, C),
            "C is in no group and keeps its links"
        );
        n.heal();
        assert!(n.is_up(A, B));
    }

    #[test]
    fn a_dropped_request_kills_its_connection_until_closed() {
        let mut n = net(0);
        n.drop_requests(A, B, 1);
        assert_eq!(
            n.route(SimTime::ZERO, A, B, Kind::Request, 0),
            Err(DropReason::DropRequests)
        );
        assert_eq!(
            n.route(SimTime::ZERO, A, B, Kind::Request, 0),
            Err(DropReason::DeadConnection)
        );
        assert_eq!(
            n.route(SimTime::ZERO, B, A, Kind::Response, 0),
            Err(DropReason::DeadConnection)
        );
        let new = n.close(A, B);
        assert!(
            n.route(SimTime::ZERO, A, B, Kind::Request, 0).is_ok(),
            "A is on a new connection"
        );
        n.adopt(B, A, new);
        assert!(n.route(SimTime::ZERO, B, A, Kind::Response, 0).is_ok());
    }

    #[test]
    fn messages_ahead_of_a_lost_one_still_arrive() {
        let mut n = net(0);
        let generation = n.generation(A, B);
        n.route(SimTime::ZERO, A, B, Kind::Request, 0).expect("up");
        n.drop_requests(A, B, 1);
        assert!(n.route(SimTime::ZERO, A, B, Kind::Request, 0).is_err());
        assert_eq!(n.check_arrival(A, B, generation), Ok(()));
    }

    #[test]
    fn a_close_takes_effect_on_each_side_when_that_side_knows_of_it() {
        let mut n = net(0);
        let old = n.generation(A, B);
        let new = n.close(B, A);
        // B closed: B drops what A still sends on the old connection...
        assert_eq!(n.check_arrival(A, B, old), Err(DropReason::Closed));
        // ...while what B sent before closing still reaches A, which has not heard yet.
        assert_eq!(n.check_arrival(B, A, old), Ok(()));
        assert!(n.adopt(A, B, new), "the FIN tells A");
        assert_eq!(n.check_arrival(B, A, old), Err(DropReason::Closed));
        assert_eq!(n.check_arrival(A, B, new), Ok(()));
        assert!(!n.adopt(A, B, new), "a second notice changes nothing");
    }

    #[test]
    fn slow_links_add_latency_both_ways() {
        let mut n = net(0);
        n.slow(A, B, SimDuration::from_ms(50));
        assert_eq!(
            n.route(SimTime::ZERO, B, A, Kind::Other, 0),
            Ok(SimTime::from_us(51_000))
        );
    }
}

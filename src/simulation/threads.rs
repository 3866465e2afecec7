//! The cost model of a broker's request handling: when a request that reached a broker gets
//! handled, given the threads Kafka would run it on.
//!
//! As in Kafka's `SocketServer.scala`, each connection is pinned to one of `num.network.threads`
//! processors (the acceptor hands new connections out round-robin), which reads the request off
//! the socket and mutes the connection, so a connection's requests are handled one at a time, in
//! order. The request then waits in the request channel for one of `num.io.threads` handler
//! threads (`KafkaRequestHandlerPool`), which spends `kafkasim.request.time.us` plus its size over
//! `kafkasim.io.thread.mib.per.s` on it. The broker's state changes when the handler finishes.
//!
//! A follower appends what it fetched on its fetcher thread for that leader
//! (`num.replica.fetchers=1`: one `ReplicaFetcherThread` per source broker), which spends the
//! data's size over `kafkasim.io.thread.mib.per.s` on it, one response after the other: so
//! replication costs time per byte too.
//!
//! Kafka keeps a connection muted until the response is *sent*, also while a request waits in a
//! purgatory (`acks=all`, a long-polling fetch); here the connection is free again once the
//! handler is done. Kafka's consumer talks to its group coordinator on a connection of its own,
//! which kafkasim's clients do not have, so holding the connection would stall group requests
//! behind a long poll.

use crate::scenario::RequestCosts;
use crate::sim::{NodeId, SimDuration, SimTime};
use std::cmp::Reverse;
use std::collections::{BTreeMap, BinaryHeap};

/// One broker's network and I/O threads.
///
/// Only threads busy past the current instant are stored: an idle thread is as good as any
/// other idle one, so `num.io.threads: 2147483647` costs what the busy threads cost, not a slot
/// per configured thread (issue 11).
#[derive(Clone, Debug)]
pub struct BrokerThreads {
    costs: RequestCosts,
    /// When each busy processor (`num.network.threads`) is free: (processor index, time). A
    /// short list (few processors are busy past an arrival), searched in order.
    network_busy: Vec<(usize, SimTime)>,
    /// The handler threads (`num.io.threads`).
    io: HandlerPool,
    /// Each peer's current connection.
    connections: BTreeMap<NodeId, Connection>,
    next_processor: usize,
    /// When the fetcher thread for each leader is free.
    fetchers: BTreeMap<NodeId, SimTime>,
}

/// A peer's connection: its incarnation, its processor, and when its last request is done.
#[derive(Clone, Copy, Debug)]
struct Connection {
    generation: u32,
    processor: usize,
    muted_until: SimTime,
}

/// Time to move `bytes` at `mib_per_s` (0: free), rounded up to whole microseconds.
fn byte_time(bytes: u64, mib_per_s: u64) -> SimDuration {
    if mib_per_s == 0 {
        return SimDuration::ZERO;
    }
    let us = (u128::from(bytes) * 1_000_000).div_ceil(u128::from(mib_per_s) << 20);
    SimDuration::from_us(u64::try_from(us).unwrap_or(u64::MAX))
}

impl BrokerThreads {
    /// Idle threads.
    pub fn new(costs: RequestCosts) -> BrokerThreads {
        BrokerThreads {
            costs,
            network_busy: Vec::new(),
            io: HandlerPool::new(costs.io_threads),
            connections: BTreeMap::new(),
            next_processor: 0,
            fetchers: BTreeMap::new(),
        }
    }

    /// True when handling a request takes no time at all (then requests are handled on arrival).
    pub fn is_free(&self) -> bool {
        self.costs.request_time == SimDuration::ZERO
            && self.costs.io_mib_per_s == 0
            && self.costs.network_mib_per_s == 0
    }

    /// A request of `bytes` from `peer` on connection incarnation `generation` arrived at
    /// `arrival`: when a handler thread has finished with it.
    pub fn admit(&mut self, arrival: SimTime, peer: NodeId, generation: u32, bytes: u64) -> SimTime {
        let processors = self.costs.network_threads.max(1) as usize;
        // A processor free by now is as good as a never-used one: forget it.
        self.network_busy.retain(|(_, free)| *free > arrival);
        let next = &mut self.next_processor;
        let conn = self.connections.entry(peer).or_insert(Connection {
            generation: u32::MAX,
            processor: 0,
            muted_until: SimTime::ZERO,
        });
        if conn.generation != generation {
            // A new connection: the acceptor gives it the next processor.
            *conn = Connection {
                generation,
                processor: *next % processors,
                muted_until: SimTime::ZERO,
            };
            *next += 1;
        }
        let processor_free = self
            .network_busy
            .iter()
            .find(|(p, _)| *p == conn.processor)
            .map_or(SimTime::ZERO, |(_, free)| *free);
        let read_start = arrival.max(conn.muted_until).max(processor_free);
        let read = read_start + byte_time(bytes, self.costs.network_mib_per_s);
        match self.network_busy.iter_mut().find(|(p, _)| *p == conn.processor) {
            Some((_, free)) => *free = read,
            None => self.network_busy.push((conn.processor, read)),
        }
        let free = self.io.take_earliest(arrival);
        let done = read.max(free) + self.costs.request_time + byte_time(bytes, self.costs.io_mib_per_s);
        self.io.busy_until(done);
        conn.muted_until = done;
        done
    }

    /// A fetch response of `bytes` from `leader` reached this follower at `arrival`: when its
    /// fetcher thread has appended it.
    pub fn append_fetched(&mut self, arrival: SimTime, leader: NodeId, bytes: u64) -> SimTime {
        let free = self.fetchers.entry(leader).or_insert(SimTime::ZERO);
        let done = arrival.max(*free) + byte_time(bytes, self.costs.io_mib_per_s);
        *free = done;
        done
    }

    /// The broker process died: its threads and connections are gone.
    pub fn reset(&mut self) {
        *self = BrokerThreads::new(self.costs);
    }
}

/// `KafkaRequestHandlerPool`: a request goes to the thread that is free first. Holds the free
/// times of the threads busy after the last admission and counts the others, which are all
/// idle: admissions come in time order, so an idle thread stays as good as a never-used one.
#[derive(Clone, Debug)]
struct HandlerPool {
    threads: usize,
    busy: BinaryHeap<Reverse<SimTime>>,
}

impl HandlerPool {
    fn new(threads: u32) -> HandlerPool {
        HandlerPool {
            threads: threads.max(1) as usize,
            busy: BinaryHeap::new(),
        }
    }

    /// Takes the thread that is free first for a request arriving at `now`: when it is free.
    fn take_earliest(&mut self, now: SimTime) -> SimTime {
        while self.busy.peek().is_some_and(|Reverse(free)| *free <= now) {
            self.busy.pop();
        }
        if self.busy.len() < self.threads {
            return SimTime::ZERO;
        }
        self.busy.pop().map_or(SimTime::ZERO, |Reverse(free)| free)
    }

    /// The thread taken last is busy until `done`.
    fn busy_until(&mut self, done: SimTime) {
        self.busy.push(Reverse(done));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn costs(network_threads: u32, io_threads: u32) -> RequestCosts {
        RequestCosts {
            network_threads,
            io_threads,
            request_time: SimDuration::from_us(100),
            io_mib_per_s: 1,
            network_mib_per_s: 0,
        }
    }

    const A: NodeId = NodeId(10);
    const B: NodeId = NodeId(11);
    const C: NodeId = NodeId(12);

    #[test]
    fn a_request_takes_the_fixed_time_plus_its_bytes() {
        let mut t = BrokerThreads::new(costs(1, 1));
        // 1 MiB/s: 1,048,576 bytes per second, so 1,048,576 bytes take exactly 1 s.
        let done = t.admit(SimTime::ZERO, A, 0, 1 << 20);
        assert_eq!(done, SimTime::from_us(1_000_100));
    }

    #[test]
    fn a_connections_requests_are_handled_one_at_a_time_even_with_idle_threads() {
        let mut t = BrokerThreads::new(costs(3, 8));
        let first = t.admit(SimTime::ZERO, A, 0, 0);
        let second = t.admit(SimTime::ZERO, A, 0, 0);
        assert_eq!((first, second), (SimTime::from_us(100), SimTime::from_us(200)));
        // Another connection goes in parallel on another thread.
        assert_eq!(t.admit(SimTime::ZERO, B, 0, 0), SimTime::from_us(100));
        // A new incarnation of A's connection is a new connection.
        assert_eq!(t.admit(SimTime::ZERO, A, 1, 0), SimTime::from_us(100));
    }

    #[test]
    fn requests_queue_when_every_io_thread_is_busy() {
        let mut t = BrokerThreads::new(costs(3, 2));
        let done: Vec<u64> = [A, B, C]
            .into_iter()
            .map(|peer| t.admit(SimTime::ZERO, peer, 0, 0).as_us())
            .collect();
        assert_eq!(done, [100, 100, 200]);
    }

    #[test]
    fn a_follower_appends_fetched_data_one_response_after_the_other() {
        let mut t = BrokerThreads::new(costs(3, 8));
        // 1 MiB/s: half a MiB takes half a second; the next response waits for the first.
        assert_eq!(
            t.append_fetched(SimTime::ZERO, A, 1 << 19),
            SimTime::from_us(500_000)
        );
        assert_eq!(
            t.append_fetched(SimTime::ZERO, A, 1 << 19),
            SimTime::from_us(1_000_000)
        );
        // Another leader's fetcher is another thread.
        assert_eq!(
            t.append_fetched(SimTime::ZERO, B, 1 << 19),
            SimTime::from_us(500_000)
        );
    }

    #[test]
    fn free_costs_handle_requests_on_arrival() {
        let mut free = costs(1, 1);
        free.request_time = SimDuration::ZERO;
        free.io_mib_per_s = 0;
        let mut t = BrokerThreads::new(free);
        assert!(t.is_free());
        assert_eq!(t.admit(SimTime::from_us(7), A, 0, 1 << 30), SimTime::from_us(7));
    }

    /// Fuzzing found `"num.io.threads": 2147483647` allocating 17 GB per broker: the pool holds
    /// only the threads busy at the latest arrival, with the same timings as a slot per thread.
    #[test]
    fn a_huge_pool_stores_only_its_busy_threads() {
        let huge = i32::MAX as u32;
        let mut t = BrokerThreads::new(costs(huge, huge));
        for peer in 0..1000 {
            assert_eq!(t.admit(SimTime::ZERO, NodeId(peer), 0, 0), SimTime::from_us(100));
        }
        // Reading a request costs nothing here, so no processor is busy past its arrival.
        assert_eq!((t.io.busy.len(), t.network_busy.len()), (1000, 1));
        assert_eq!(t.admit(SimTime::from_us(200), A, 1, 0), SimTime::from_us(300));
        assert_eq!((t.io.busy.len(), t.network_busy.len()), (1, 1));
    }
}

//! The client side of connections (Kafka's `NetworkClient` + `ClusterConnectionStates` +
//! `InFlightRequests`): connecting with backoff, the in-flight queue per broker, request timeouts.

use super::backoff::ExponentialBackoff;
use super::metadata::MetadataCache;
use crate::kafka::addr::Addresses;
use crate::kafka::protocol::{BrokerId, Message, RequestBody, ResponseBody};
use crate::scenario::config::ClientNetConfig;
use crate::sim::{Out, SimRng, SimTime};
use crate::trace::Event;
use std::collections::VecDeque;

/// A request sent and not yet answered.
#[derive(Clone, Copy, Debug)]
pub struct InFlight {
    /// Correlation id.
    pub correlation: u32,
    /// When it was sent.
    pub sent_at: SimTime,
    /// Which API.
    pub api: &'static str,
    /// When the client gives up on it.
    pub deadline: SimTime,
}

#[derive(Clone, Copy, Debug)]
enum State {
    Disconnected { retry_at: SimTime },
    Connecting { deadline: SimTime },
    Ready,
}

struct Conn {
    state: State,
    failures: u32,
    in_flight: VecDeque<InFlight>,
}

/// Connections from one client to every broker.
pub struct NetworkClient {
    addr: Addresses,
    request_timeout: crate::sim::SimDuration,
    connect_timeout: crate::sim::SimDuration,
    reconnect: ExponentialBackoff,
    conns: Vec<Conn>,
    next_correlation: u32,
}

impl NetworkClient {
    /// No connections yet.
    pub fn new(addr: Addresses, cfg: &ClientNetConfig) -> NetworkClient {
        NetworkClient {
            addr,
            request_timeout: cfg.request_timeout,
            connect_timeout: cfg.connection_setup_timeout,
            reconnect: ExponentialBackoff::new(cfg.reconnect_backoff, cfg.reconnect_backoff_max),
            conns: addr
                .broker_ids()
                .map(|_| Conn {
                    state: State::Disconnected {
                        retry_at: SimTime::ZERO,
                    },
                    failures: 0,
                    in_flight: VecDeque::new(),
                })
                .collect(),
            next_correlation: 0,
        }
    }

    fn conn(&self, b: BrokerId) -> &Conn {
        &self.conns[b as usize - 1]
    }

    fn conn_mut(&mut self, b: BrokerId) -> &mut Conn {
        &mut self.conns[b as usize - 1]
    }

    /// Kafka's `leastLoadedNode`: a connected broker among `candidates` with the fewest
    /// in-flight requests; if none is connected, starts connecting to one and returns `None`.
    pub fn least_loaded(
        &mut self,
        candidates: &[BrokerId],
        now: SimTime,
        out: &mut Out<Message, Event>,
    ) -> Option<BrokerId> {
        let ready = candidates
            .iter()
            .copied()
            .filter(|b| self.is_connected(*b))
            .min_by_key(|b| (self.in_flight_count(*b), *b));
        if ready.is_none() {
            let target = candidates
                .iter()
                .copied()
                .find(|b| self.can_connect(*b, now))
                .or(candidates.first().copied());
            if let Some(b) = target {
                self.ensure_connecting(b, now, out);
            }
        }
        ready
    }

    /// Connected and below `max_in_flight` unanswered requests.
    pub fn is_ready(&self, b: BrokerId, max_in_flight: usize) -> bool {
        let c = self.conn(b);
        matches!(c.state, State::Ready) && c.in_flight.len() < max_in_flight
    }

    /// Connected.
    pub fn is_connected(&self, b: BrokerId) -> bool {
        matches!(self.conn(b).state, State::Ready)
    }

    /// Unanswered requests to `b`.
    pub fn in_flight_count(&self, b: BrokerId) -> usize {
        self.conn(b).in_flight.len()
    }

    /// May a connection attempt to `b` start now (or is one under way / up)?
    pub fn can_connect(&self, b: BrokerId, now: SimTime) -> bool {
        match self.conn(b).state {
            State::Disconnected { retry_at } => now >= retry_at,
            State::Connecting { .. } | State::Ready => true,
        }
    }

    /// Starts connecting to `b` if disconnected and past the reconnect backoff.
    pub fn ensure_connecting(&mut self, b: BrokerId, now: SimTime, out: &mut Out<Message, Event>) {
        if let State::Disconnected { retry_at } = self.conn(b).state {
            if now >= retry_at {
                let deadline = now + self.connect_timeout;
                self.conn_mut(b).state = State::Connecting { deadline };
                out.send(self.addr.broker(b), Message::Connect);
                out.trace(|| Event::Connecting { broker: b });
            } else {
                out.wake_at(retry_at);
            }
        }
    }

    /// The broker accepted.
    pub fn on_connect_ok(&mut self, b: BrokerId, out: &mut Out<Message, Event>) {
        let c = self.conn_mut(b);
        if matches!(c.state, State::Connecting { .. }) {
            c.state = State::Ready;
            c.failures = 0;
            out.trace(|| Event::Connected { broker: b });
        }
    }

    /// The broker's host refused (its process is down).
    pub fn on_connect_refused(
        &mut self,
        b: BrokerId,
        now: SimTime,
        rng: &mut SimRng,
        out: &mut Out<Message, Event>,
    ) {
        if matches!(self.conn(b).state, State::Connecting { .. }) {
            self.fail_connect(b, now, rng, "refused", out);
        }
    }

    fn fail_connect(
        &mut self,
        b: BrokerId,
        now: SimTime,
        rng: &mut SimRng,
        why: &'static str,
        out: &mut Out<Message, Event>,
    ) {
        let wait = self.reconnect.backoff(self.conn(b).failures, rng);
        let c = self.conn_mut(b);
        c.failures += 1;
        c.state = State::Disconnected { retry_at: now + wait };
        out.trace(|| Event::ConnectFailed { broker: b, why });
    }

    /// Sends a request on a ready connection; returns its correlation id. Requests that expect
    /// no response (`acks=0` produce) do not stay in flight.
    pub fn send(
        &mut self,
        b: BrokerId,
        body: RequestBody,
        expects_response: bool,
        now: SimTime,
        out: &mut Out<Message, Event>,
    ) -> u32 {
        let timeout = expects_response.then_some(self.request_timeout);
        self.send_request(b, body, timeout, now, out)
    }

    /// [`NetworkClient::send`] with a time-out of its own (`JoinGroup` may wait for a whole
    /// rebalance: `AbstractCoordinator` allows it the rebalance timeout plus 5 s).
    pub fn send_with_timeout(
        &mut self,
        b: BrokerId,
        body: RequestBody,
        timeout: crate::sim::SimDuration,
        now: SimTime,
        out: &mut Out<Message, Event>,
    ) -> u32 {
        self.send_request(b, body, Some(timeout.max(self.request_timeout)), now, out)
    }

    fn send_request(
        &mut self,
        b: BrokerId,
        body: RequestBody,
        timeout: Option<crate::sim::SimDuration>,
        now: SimTime,
        out: &mut Out<Message, Event>,
    ) -> u32 {
        let correlation = self.next_correlation;
        self.next_correlation = self.next_correlation.wrapping_add(1);
        if let Some(timeout) = timeout {
            let api = body.api();
            self.conn_mut(b).in_flight.push_back(InFlight {
                correlation,
                sent_at: now,
                api,
                deadline: now + timeout,
            });
            out.wake_at(now + timeout);
        }
        out.send(self.addr.broker(b), Message::Request { correlation, body });
        correlation
    }

    /// Connection bookkeeping for a message from broker `b`: connects and refusals are handled
    /// here (a refusal asks for fresh metadata, as Kafka's NetworkClient does); a response to an
    /// in-flight request is handed back.
    pub fn receive(
        &mut self,
        b: BrokerId,
        msg: Message,
        now: SimTime,
        rng: &mut SimRng,
        metadata: &mut MetadataCache,
        out: &mut Out<Message, Event>,
    ) -> Option<(u32, ResponseBody)> {
        match msg {
            Message::ConnectOk => self.on_connect_ok(b, out),
            Message::ConnectRefused => {
                self.on_connect_refused(b, now, rng, out);
                metadata.request_update();
            }
            Message::Response { correlation, body } if self.on_response(b, correlation).is_some() => {
                return Some((correlation, body));
            }
            _ => {}
        }
        None
    }

    /// Matches a response to its in-flight request. Responses come back in order, except group
    /// requests, which Kafka's consumer sends over a connection of its own to the coordinator
    /// (modelled here as the same connection, the broker answering them out of line).
    pub fn on_response(&mut self, b: BrokerId, correlation: u32) -> Option<InFlight> {
        let c = self.conn_mut(b);
        let i = c.in_flight.iter().position(|f| f.correlation == correlation)?;
        c.in_flight.remove(i)
    }

    /// The connection to `b` broke: every in-flight request is abandoned, oldest first.
    pub fn on_disconnect(
        &mut self,
        b: BrokerId,
        now: SimTime,
        rng: &mut SimRng,
        out: &mut Out<Message, Event>,
    ) -> Vec<InFlight> {
        match self.conn(b).state {
            State::Disconnected { .. } => Vec::new(),
            State::Connecting { .. } => {
                self.fail_connect(b, now, rng, "reset", out);
                Vec::new()
            }
            State::Ready => {
                let abandoned: Vec<InFlight> = self.conn_mut(b).in_flight.drain(..).collect();
                let wait = self.reconnect.backoff(0, rng);
                self.conn_mut(b).state = State::Disconnected { retry_at: now + wait };
                let in_flight = abandoned.len() as u32;
                out.trace(|| Event::Disconnected { broker: b, in_flight });
                abandoned
            }
        }
    }

    /// Handles connection-setup and request timeouts; returns requests abandoned because the
    /// client closed a connection (`request.timeout.ms`), per broker, oldest first.
    pub fn poll_timeouts(
        &mut self,
        now: SimTime,
        rng: &mut SimRng,
        out: &mut Out<Message, Event>,
    ) -> Vec<(BrokerId, Vec<InFlight>)> {
        let mut abandoned = Vec::new();
        for b in self.addr.broker_ids() {
            match self.conn(b).state {
                State::Connecting { deadline } if now >= deadline => {
                    out.close(self.addr.broker(b));
                    self.fail_connect(b, now, rng, "timed out (socket.connection.setup.timeout.ms)", out);
                }
                State::Ready => {
                    let expired = self
                        .conn(b)
                        .in_flight
                        .iter()
                        .filter(|f| now >= f.deadline)
                        .min_by_key(|f| f.deadline)
                        .copied();
                    if let Some(oldest) = expired {
                        let in_flight = self.conn(b).in_flight.len() as u32;
                        out.trace(|| Event::RequestTimedOut {
                            broker: b,
                            correlation: oldest.correlation,
                            in_flight,
                        });
                        out.close(self.addr.broker(b));
                        let list: Vec<InFlight> = self.conn_mut(b).in_flight.drain(..).collect();
                        let wait = self.reconnect.backoff(0, rng);
                        self.conn_mut(b).state = State::Disconnected { retry_at: now + wait };
                        abandoned.push((b, list));
                    }
                }
                _ => {}
            }
        }
        abandoned
    }

    /// The earliest connection or request deadline.
    pub fn next_deadline(&self) -> Option<SimTime> {
        self.conns
            .iter()
            .filter_map(|c| match c.state {
                State::Connecting { deadline } => Some(deadline),
                State::Ready => c.in_flight.iter().map(|f| f.deadline).min(),
                State::Disconnected { .. } => None,
            })
            .min()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sim::{NodeId, RngTree, SimDuration};

    fn cfg() -> ClientNetConfig {
        ClientNetConfig {
            request_timeout: SimDuration::from_ms(100),
            retry_backoff: SimDuration::from_ms(100),
            retry_backoff_max: SimDuration::from_ms(1000),
            reconnect_backoff: SimDuration::from_ms(50),
            reconnect_backoff_max: SimDuration::from_ms(1000),
            connection_setup_timeout: SimDuration::from_ms(10_000),
            metadata_max_age: SimDuration::from_ms(300_000),
        }
    }

    fn at(ms: u64) -> SimTime {
        SimTime::from_us(ms * 1000)
    }

    fn connected(out: &mut Out<Message, Event>) -> NetworkClient {
        let mut net = NetworkClient::new(Addresses::new(2), &cfg());
        net.ensure_connecting(1, at(0), out);
        net.on_connect_ok(1, out);
        net
    }

    #[test]
    fn a_connection_is_ready_below_the_in_flight_limit() {
        let mut out = Out::new(false);
        let mut net = NetworkClient::new(Addresses::new(2), &cfg());
        assert!(!net.is_ready(1, 5));
        net.ensure_connecting(1, at(0), &mut out);
        assert!(matches!(out.sends[0], (NodeId(0), Message::Connect)));
        net.on_connect_ok(1, &mut out);
        for _ in 0..2 {
            net.send(1, RequestBody::Metadata, true, at(0), &mut out);
        }
        assert!(net.is_ready(1, 3) && !net.is_ready(1, 2));
        net.send(1, RequestBody::Metadata, false, at(0), &mut out);
        assert_eq!(
            net.in_flight_count(1),
            2,
            "requests without a response leave at once"
        );
    }

    #[test]
    fn responses_match_their_request_once_even_out_of_order() {
        let mut out = Out::new(false);
        let mut net = connected(&mut out);
        let a = net.send(1, RequestBody::Metadata, true, at(0), &mut out);
        let b = net.send(1, RequestBody::Metadata, true, at(0), &mut out);
        // A coordinator answers group requests out of line with the connection's others.
        assert_eq!(net.on_response(1, b).map(|f| f.correlation), Some(b));
        assert!(net.on_response(1, b).is_none(), "answered once");
        assert_eq!(net.on_response(1, a).map(|f| f.correlation), Some(a));
        assert!(net.on_response(2, a).is_none(), "another broker's connection");
    }

    #[test]
    fn a_request_timeout_closes_the_connection_and_fails_everything_in_flight_oldest_first() {
        let mut out = Out::new(false);
        let mut net = connected(&mut out);
        let mut rng = RngTree::new(1).fork("t");
        let a = net.send(1, RequestBody::Metadata, true, at(0), &mut out);
        let b = net.send(1, RequestBody::Metadata, true, at(50), &mut out);
        assert_eq!(net.next_deadline(), Some(at(100)));
        assert!(net.poll_timeouts(at(99), &mut rng, &mut out).is_empty());
        let failed = net.poll_timeouts(at(100), &mut rng, &mut out);
        let ids: Vec<u32> = failed
            .iter()
            .flat_map(|(_, fs)| fs.iter().map(|f| f.correlation))
            .collect();
        assert_eq!(ids, [a, b], "the younger request fails with the older one");
        assert_eq!(out.closes, vec![NodeId(0)]);
        assert!(!net.is_connected(1));
        assert!(!net.can_connect(1, at(100)), "reconnect.backoff.ms applies");
        assert!(net.can_connect(1, at(160)), "50 ms ± 20% later it may reconnect");
    }

    #[test]
    fn refused_connections_back_off_exponentially() {
        let mut out = Out::new(false);
        let mut net = NetworkClient::new(Addresses::new(2), &cfg());
        let mut rng = RngTree::new(1).fork("t");
        let mut now = at(0);
        let mut waits = Vec::new();
        for _ in 0..6 {
            net.ensure_connecting(1, now, &mut out);
            net.on_connect_refused(1, now, &mut rng, &mut out);
            let mut t = now;
            while !net.can_connect(1, t) {
                t += SimDuration::from_ms(1);
            }
            waits.push(t.since(now).as_ms());
            now = t;
        }
        assert!(waits.windows(2).take(4).all(|w| w[1] > w[0]), "{waits:?} grows");
        assert!(
            waits.iter().all(|w| *w <= 1000),
            "{waits:?} capped at reconnect.backoff.max.ms"
        );
    }

    #[test]
    fn an_unanswered_connection_attempt_times_out() {
        let mut out = Out::new(false);
        let mut net = NetworkClient::new(Addresses::new(2), &cfg());
        let mut rng = RngTree::new(1).fork("t");
        net.ensure_connecting(1, at(0), &mut out);
        assert_eq!(net.next_deadline(), Some(at(10_000)));
        net.poll_timeouts(at(10_000), &mut rng, &mut out);
        assert!(!net.is_connected(1) && !net.can_connect(1, at(10_000)));
    }
}

//! When a broker heartbeats to the controller.
//!
//! Followed: `BrokerLifecycleManager` (core/src/main/scala/kafka/server/BrokerLifecycleManager.scala,
//! Kafka 4.0). One heartbeat is in flight at a time (`communicationInFlight`). The next one is
//! scheduled when the previous one's answer arrives: `broker.heartbeat.interval.ms` after a
//! success (`scheduleNextCommunicationAfterSuccess`), so the controller hears from a broker every
//! interval **plus a round trip**; after an error or a timeout, after an exponential backoff of
//! 100 ms doubling up to `broker.session.timeout.ms`, ±2% (`scheduleNextCommunicationAfterFailure`,
//! `resendExponentialBackoff`). A heartbeat times out when unanswered for half the session timeout,
//! the retry timeout of the broker's controller channel (`BrokerServer`, KAFKA-14392).
//!
//! kafkasim registers a restarted broker by its first heartbeat (one with no metadata) instead of
//! a separate `BrokerRegistration` request; a refused registration
//! (`DUPLICATE_BROKER_REGISTRATION`) backs off as any failure does. Kafka's channel drops the
//! connection when a request times out; kafkasim keeps its one broker–controller connection
//! (ISR changes share it) and ignores a late answer to a heartbeat it gave up on.

use crate::kafka::client::backoff::ExponentialBackoff;
use crate::kafka::protocol::ErrorCode;
use crate::sim::{SimDuration, SimRng, SimTime};

/// `resendExponentialBackoff`'s first wait.
const FIRST_BACKOFF: SimDuration = SimDuration::from_ms(100);
/// `resendExponentialBackoff`'s jitter, 0.02.
const BACKOFF_JITTER_PPM: u64 = 20_000;

/// One broker's heartbeat schedule.
pub(super) struct Lifecycle {
    interval: SimDuration,
    request_timeout: SimDuration,
    backoff: ExponentialBackoff,
    rng: SimRng,
    /// When the next heartbeat goes out (none while one is in flight).
    next: SimTime,
    /// The heartbeat in flight: its correlation id and when it was sent.
    in_flight: Option<(u32, SimTime)>,
    /// Failures in a row (`failedAttempts`).
    failed_attempts: u32,
    next_correlation: u32,
}

impl Lifecycle {
    /// The schedule for `broker.heartbeat.interval.ms` `interval` and
    /// `broker.session.timeout.ms` `session_timeout`; backoff jitter from `rng`.
    pub(super) fn new(interval: SimDuration, session_timeout: SimDuration, rng: SimRng) -> Lifecycle {
        Lifecycle {
            interval,
            request_timeout: SimDuration::from_us(session_timeout.as_us() / 2),
            backoff: ExponentialBackoff::with_jitter(FIRST_BACKOFF, session_timeout, BACKOFF_JITTER_PPM),
            rng,
            next: SimTime::ZERO,
            in_flight: None,
            failed_attempts: 0,
            next_correlation: 0,
        }
    }

    /// The process starts (again): a heartbeat at once, nothing remembered.
    pub(super) fn start(&mut self, now: SimTime) {
        self.next = now;
        self.in_flight = None;
        self.failed_attempts = 0;
    }

    /// A heartbeat to send now, if one is due: its correlation id. A heartbeat unanswered for
    /// the request timeout counts as a failure first.
    pub(super) fn due(&mut self, now: SimTime) -> Option<u32> {
        if let Some((_, sent)) = self.in_flight
            && now >= sent + self.request_timeout
        {
            self.in_flight = None;
            self.fail(now);
        }
        if self.in_flight.is_some() || now < self.next {
            return None;
        }
        self.next_correlation = self.next_correlation.wrapping_add(1);
        self.in_flight = Some((self.next_correlation, now));
        Some(self.next_correlation)
    }

    /// The controller answered heartbeat `correlation`; an answer to any other is stale.
    pub(super) fn on_response(&mut self, now: SimTime, correlation: u32, result: Result<(), ErrorCode>) {
        if self.in_flight.map(|(c, _)| c) != Some(correlation) {
            return;
        }
        self.in_flight = None;
        match result {
            Ok(()) => {
                self.failed_attempts = 0;
                self.next = now + self.interval;
            }
            Err(_) => self.fail(now),
        }
    }

    fn fail(&mut self, now: SimTime) {
        self.next = now + self.backoff.backoff(self.failed_attempts, &mut self.rng);
        self.failed_attempts = self.failed_attempts.saturating_add(1);
    }

    /// When [`Lifecycle::due`] wants to be asked again.
    pub(super) fn next_wake(&self) -> SimTime {
        match self.in_flight {
            Some((_, sent)) => sent + self.request_timeout,
            None => self.next,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sim::RngTree;

    fn ms(t: u64) -> SimTime {
        SimTime::from_us(t * 1000)
    }

    fn lifecycle() -> Lifecycle {
        Lifecycle::new(
            SimDuration::from_ms(2000),
            SimDuration::from_ms(9000),
            RngTree::new(1).fork("t"),
        )
    }

    /// `scheduleNextCommunicationAfterSuccess`: the next heartbeat goes out
    /// `broker.heartbeat.interval.ms` after the answer, not after the previous send.
    #[test]
    fn the_next_heartbeat_is_an_interval_after_the_answer() {
        let mut l = lifecycle();
        l.start(ms(0));
        let c = l.due(ms(0)).expect("at once");
        assert_eq!(l.due(ms(1)), None, "one in flight at a time");
        l.on_response(ms(30), c, Ok(()));
        assert_eq!(l.next_wake(), ms(2030));
        assert_eq!(l.due(ms(2000)), None, "not a fixed rate from the send");
        assert!(l.due(ms(2030)).is_some());
    }

    /// `scheduleNextCommunicationAfterFailure`: an error answer (a refused registration) or no
    /// answer within half the session timeout backs off 100 ms ±2%, doubling.
    #[test]
    fn a_failure_backs_off_exponentially() {
        let mut l = lifecycle();
        l.start(ms(0));
        let c = l.due(ms(0)).expect("at once");
        l.on_response(ms(2), c, Err(ErrorCode::DuplicateBrokerRegistration));
        let first = l.next_wake().since(ms(2)).as_us();
        assert!((98_000..102_000).contains(&first), "{first}");
        let t = l.next_wake();
        let c = l.due(t).expect("after the backoff");
        assert_eq!(l.next_wake(), t + SimDuration::from_ms(4500), "request timeout");
        assert_eq!(l.due(t + SimDuration::from_ms(4499)), None);
        assert_eq!(
            l.due(t + SimDuration::from_ms(4500)),
            None,
            "timed out: backs off"
        );
        let second = l.next_wake().since(t + SimDuration::from_ms(4500)).as_us();
        assert!((196_000..204_000).contains(&second), "{second}");
        l.on_response(t + SimDuration::from_ms(4600), c, Ok(()));
        assert!(
            l.next_wake() < t + SimDuration::from_ms(5000),
            "a late answer to an abandoned heartbeat changes nothing"
        );
    }
}

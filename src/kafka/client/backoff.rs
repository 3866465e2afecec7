//! Exponential backoff with jitter, as Kafka's `ExponentialBackoff` (KIP-580) computes it.
//!
//! Kafka: `term = initial · 2^min(attempts, expMax)` with `expMax = log2(max / initial)`, times a
//! random factor in [1 - jitter, 1 + jitter), capped at `max`; constant `initial` with no jitter
//! when `max <= initial` (clients/src/main/java/org/apache/kafka/common/utils/ExponentialBackoff.java).
//! Clients use a jitter of 0.2 (`CommonClientConfigs.RETRY_BACKOFF_JITTER`); a broker's
//! heartbeats to the controller 0.02 (`BrokerLifecycleManager.resendExponentialBackoff`).
//! `initial · 2^min(a, expMax)` equals `min(initial · 2^a, max)`, so integers do it exactly; the
//! factor is drawn in parts per million from the caller's seeded stream, once per call.

use crate::sim::{SimDuration, SimRng};

/// A backoff policy.
#[derive(Clone, Copy, Debug)]
pub struct ExponentialBackoff {
    initial: SimDuration,
    max: SimDuration,
    jitter_ppm: u64,
}

/// Parts per million in one.
const PPM: u64 = 1_000_000;
/// A client's jitter, 0.2 (`CommonClientConfigs.RETRY_BACKOFF_JITTER`).
const CLIENT_JITTER_PPM: u64 = 200_000;

impl ExponentialBackoff {
    /// From Kafka's `*.backoff.ms` and `*.backoff.max.ms` (initial is capped at max, as Kafka does),
    /// with a client's jitter of 0.2.
    pub fn new(initial: SimDuration, max: SimDuration) -> ExponentialBackoff {
        ExponentialBackoff::with_jitter(initial, max, CLIENT_JITTER_PPM)
    }

    /// As [`ExponentialBackoff::new`], with a jitter of `jitter_ppm` parts per million (below
    /// one million).
    pub fn with_jitter(initial: SimDuration, max: SimDuration, jitter_ppm: u64) -> ExponentialBackoff {
        ExponentialBackoff {
            initial: initial.min(max),
            max,
            jitter_ppm: jitter_ppm.min(PPM - 1),
        }
    }

    /// The wait after `attempts` failures so far (0 for the first backoff).
    pub fn backoff(&self, attempts: u32, rng: &mut SimRng) -> SimDuration {
        if self.max <= self.initial {
            return self.initial;
        }
        let doubled = self
            .initial
            .as_us()
            .checked_shl(attempts.min(62))
            .unwrap_or(u64::MAX);
        let term = doubled.min(self.max.as_us());
        let factor = if self.jitter_ppm == 0 {
            PPM
        } else {
            rng.range(PPM - self.jitter_ppm, PPM + self.jitter_ppm)
        };
        let value =
            u64::try_from(u128::from(term) * u128::from(factor) / u128::from(PPM)).unwrap_or(u64::MAX);
        SimDuration::from_us(value.min(self.max.as_us()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sim::RngTree;

    /// Kafka's defaults 100/1000 ms: retry 1 in [80,120) ms, 2 in [160,240), 3 in [320,480),
    /// 4 in [640,960), then [800,1000].
    #[test]
    fn ranges_match_kafka_defaults() {
        let b = ExponentialBackoff::new(SimDuration::from_ms(100), SimDuration::from_ms(1000));
        let mut rng = RngTree::new(3).fork("t");
        let ranges = [
            (80, 120),
            (160, 240),
            (320, 480),
            (640, 960),
            (800, 1001),
            (800, 1001),
        ];
        for (attempts, (lo, hi)) in ranges.iter().enumerate() {
            for _ in 0..200 {
                let ms = b.backoff(attempts as u32, &mut rng).as_us() as f64 / 1000.0;
                assert!(
                    ms >= *lo as f64 && ms < *hi as f64,
                    "attempt {attempts}: {ms} not in [{lo},{hi})"
                );
            }
        }
    }

    /// `BrokerLifecycleManager.resendExponentialBackoff`: `ExponentialBackoff(100, 2,
    /// broker.session.timeout.ms, 0.02)`: 100 ms ±2%, doubling, at most 9 s.
    #[test]
    fn a_brokers_heartbeat_backoff_has_two_percent_jitter() {
        let b =
            ExponentialBackoff::with_jitter(SimDuration::from_ms(100), SimDuration::from_ms(9000), 20_000);
        let mut rng = RngTree::new(3).fork("t");
        let ranges = [(98, 102), (196, 204), (6272, 6528), (8820, 9001), (8820, 9001)];
        for (attempts, (lo, hi)) in [0, 1, 6, 7, 20].into_iter().zip(ranges) {
            for _ in 0..200 {
                let ms = b.backoff(attempts, &mut rng).as_us() as f64 / 1000.0;
                assert!(
                    ms >= f64::from(lo) && ms < f64::from(hi),
                    "attempt {attempts}: {ms} not in [{lo},{hi})"
                );
            }
        }
    }

    #[test]
    fn constant_without_jitter_when_max_is_not_above_initial() {
        let b = ExponentialBackoff::new(SimDuration::from_ms(500), SimDuration::from_ms(200));
        let mut rng = RngTree::new(3).fork("t");
        for a in 0..5 {
            assert_eq!(b.backoff(a, &mut rng), SimDuration::from_ms(200));
        }
    }
}

//! Livelock detection: a run whose simulated time stops advancing for a long stretch of events
//! (fuzzing found a producer with `socket.connection.setup.timeout.ms`, `reconnect.backoff.ms`
//! and `reconnect.backoff.max.ms` all 0 connecting and failing forever at 0.000 ms) is stopped
//! with the nodes and events that loop, instead of running to `--max-events`.
//!
//! Each event in such a loop also leaves an in-flight message (a connection attempt and its
//! FIN) in the queue, which would drain once time moved on; stopping the loop is what bounds
//! that memory.

use crate::sim::{NodeId, SimTime};
use std::collections::BTreeMap;

/// Events at one simulated instant after which a run counts as stuck.
pub const STALL_EVENTS: u64 = 1_000_000;
/// The last events of a stuck stretch, sampled to name what loops.
const SAMPLE_EVENTS: u64 = 1_000;

/// Counts the events at the current instant.
#[derive(Debug, Default)]
pub struct StallWatch {
    at: SimTime,
    events: u64,
    /// (node, event kind) → events, over the last `SAMPLE_EVENTS` of a long stretch.
    sample: BTreeMap<(NodeId, String), u64>,
}

impl StallWatch {
    /// One more event at `now`; `describe` names its node and kind, and is called only for
    /// the sampled events. True when the run is stuck.
    #[inline]
    pub fn observe(&mut self, now: SimTime, describe: impl FnOnce() -> Option<(NodeId, String)>) -> bool {
        if now != self.at {
            self.at = now;
            self.events = 0;
            if !self.sample.is_empty() {
                self.sample.clear();
            }
        }
        self.events += 1;
        if self.events > STALL_EVENTS - SAMPLE_EVENTS
            && let Some(key) = describe()
        {
            *self.sample.entry(key).or_insert(0) += 1;
        }
        self.events >= STALL_EVENTS
    }

    /// What looped: (node, event kind, events in the sample), most frequent first.
    pub fn looping(&self) -> Vec<(NodeId, &str, u64)> {
        let mut v: Vec<(NodeId, &str, u64)> = self
            .sample
            .iter()
            .map(|((node, kind), n)| (*node, kind.as_str(), *n))
            .collect();
        v.sort_by_key(|(node, kind, n)| (std::cmp::Reverse(*n), *node, *kind));
        v
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_run_is_stuck_after_the_limit_at_one_instant_only() {
        let mut w = StallWatch::default();
        let node = || Some((NodeId(4), "Wake".to_string()));
        for _ in 0..STALL_EVENTS - 1 {
            assert!(!w.observe(SimTime::ZERO, node));
        }
        // Time moving on starts a new stretch.
        assert!(!w.observe(SimTime::from_us(1), node));
        for _ in 0..STALL_EVENTS - 2 {
            assert!(!w.observe(SimTime::from_us(1), node));
        }
        assert!(w.observe(SimTime::from_us(1), node));
        assert_eq!(w.looping(), [(NodeId(4), "Wake", SAMPLE_EVENTS)]);
    }
}

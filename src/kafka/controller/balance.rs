//! When the controller runs preferred leader elections (`auto.leader.rebalance.enable`).
//!
//! Followed: `QuorumController.maybeScheduleNextBalancePartitionLeaders` and its
//! `ImbalanceSchedule` (metadata/src/main/java/org/apache/kafka/controller/QuorumController.java,
//! Kafka 4.0). There is no fixed grid: after every controller write event (a heartbeat, a
//! fencing, an ISR change, a balance run itself), if some partition's leader is not its preferred
//! replica (`ReplicationControlManager.arePartitionLeadersImbalanced`) and no run is scheduled,
//! one is scheduled `leader.imbalance.check.interval.seconds` later (`DEFERRED`). So leadership
//! returns a full interval after the write that made the partition imbalanced, not at the next
//! multiple of the interval since startup. A run elects at most
//! [`MAX_ELECTIONS_PER_IMBALANCE`] leaders (`ReplicationControlManager.maybeBalancePartitionLeaders`);
//! if it used them all, the next run comes 10 ms later (`IMMEDIATELY`), else a full interval
//! after the next write that finds an imbalance. `leader.imbalance.per.broker.percentage` plays
//! no part: only the ZooKeeper controller used it.

use crate::sim::{SimDuration, SimTime};

/// `ReplicationControlManager.MAX_ELECTIONS_PER_IMBALANCE`.
pub(super) const MAX_ELECTIONS_PER_IMBALANCE: usize = 1_000;

/// The delay of an `IMMEDIATELY` run (Kafka delays it 10 ms so that queued events go first).
const IMMEDIATELY_DELAY: SimDuration = SimDuration::from_ms(10);

/// `QuorumController.ImbalanceSchedule`, with the time of the scheduled run.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Schedule {
    /// A run is scheduled at this time.
    Scheduled(SimTime),
    /// The next run, once needed, waits a full check interval.
    Deferred,
    /// The last run hit the election cap: the next one comes at once.
    Immediately,
}

/// The balance schedule of the active controller.
#[derive(Clone, Debug)]
pub(super) struct Balancer {
    /// `leader.imbalance.check.interval.seconds`, when `auto.leader.rebalance.enable`.
    interval: Option<SimDuration>,
    schedule: Schedule,
}

impl Balancer {
    /// A schedule with nothing scheduled (`DEFERRED`); `interval` is `None` when automatic
    /// rebalancing is off.
    pub(super) fn new(interval: Option<SimDuration>) -> Balancer {
        Balancer {
            interval,
            schedule: Schedule::Deferred,
        }
    }

    /// After a write event at `now`: schedules a run if some partition is imbalanced and none
    /// is scheduled.
    pub(super) fn after_write(&mut self, now: SimTime, imbalanced: bool) {
        let Some(interval) = self.interval else {
            return;
        };
        let delay = match self.schedule {
            Schedule::Scheduled(_) => return,
            _ if !imbalanced => return,
            Schedule::Deferred => interval,
            Schedule::Immediately => IMMEDIATELY_DELAY,
        };
        self.schedule = Schedule::Scheduled(now + delay);
    }

    /// True when the scheduled run is due at `now`.
    pub(super) fn is_due(&self, now: SimTime) -> bool {
        matches!(self.schedule, Schedule::Scheduled(at) if now >= at)
    }

    /// The run made `elections` leader changes: the next one is deferred unless it hit the cap.
    pub(super) fn ran(&mut self, elections: usize) {
        self.schedule = if elections >= MAX_ELECTIONS_PER_IMBALANCE {
            Schedule::Immediately
        } else {
            Schedule::Deferred
        };
    }

    /// When the scheduled run is due, if one is.
    pub(super) fn next_run(&self) -> Option<SimTime> {
        match self.schedule {
            Schedule::Scheduled(at) => Some(at),
            _ => None,
        }
    }
}

//! Simulated time: integer microseconds, never floats, never the wall clock.

use std::fmt;
use std::ops::{Add, AddAssign, Sub};

/// An instant of simulated time, in microseconds since the start of the run.
#[derive(Copy, Clone, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct SimTime(u64);

/// A span of simulated time, in microseconds.
#[derive(Copy, Clone, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct SimDuration(u64);

impl SimTime {
    /// The start of every run.
    pub const ZERO: SimTime = SimTime(0);
    /// Later than any instant a run can reach.
    pub const NEVER: SimTime = SimTime(u64::MAX);

    /// The instant `us` microseconds after the start.
    pub const fn from_us(us: u64) -> SimTime {
        SimTime(us)
    }

    /// Microseconds since the start of the run.
    pub const fn as_us(self) -> u64 {
        self.0
    }

    /// Whole milliseconds since the start of the run (Kafka's timestamps are in ms).
    pub const fn as_ms(self) -> u64 {
        self.0 / 1000
    }

    /// Time elapsed since `earlier` (zero if `earlier` is later).
    pub fn since(self, earlier: SimTime) -> SimDuration {
        SimDuration(self.0.saturating_sub(earlier.0))
    }
}

impl SimDuration {
    /// No time at all.
    pub const ZERO: SimDuration = SimDuration(0);

    /// A span of `us` microseconds.
    pub const fn from_us(us: u64) -> SimDuration {
        SimDuration(us)
    }

    /// A span of `ms` milliseconds (saturating).
    pub const fn from_ms(ms: u64) -> SimDuration {
        SimDuration(ms.saturating_mul(1000))
    }

    /// The span in microseconds.
    pub const fn as_us(self) -> u64 {
        self.0
    }

    /// Written the way scenario files write durations: `4s`, `500ms`, `1.5s`, `200us`.
    pub fn human(self) -> String {
        let us = self.0;
        if us == 0 {
            "0s".to_string()
        } else if us.is_multiple_of(1_000_000) {
            format!("{}s", us / 1_000_000)
        } else if us.is_multiple_of(1000) {
            format!("{}ms", us / 1000)
        } else {
            format!("{us}us")
        }
    }

    /// The span in whole milliseconds (rounded down).
    pub const fn as_ms(self) -> u64 {
        self.0 / 1000
    }

    /// This span less `other`, or zero.
    pub const fn saturating_sub(self, other: SimDuration) -> SimDuration {
        SimDuration(self.0.saturating_sub(other.0))
    }
}

impl Add<SimDuration> for SimTime {
    type Output = SimTime;
    fn add(self, d: SimDuration) -> SimTime {
        SimTime(self.0.saturating_add(d.0))
    }
}

impl AddAssign<SimDuration> for SimTime {
    fn add_assign(&mut self, d: SimDuration) {
        self.0 = self.0.saturating_add(d.0);
    }
}

impl Sub<SimTime> for SimTime {
    type Output = SimDuration;
    fn sub(self, rhs: SimTime) -> SimDuration {
        self.since(rhs)
    }
}

impl Add for SimDuration {
    type Output = SimDuration;
    fn add(self, d: SimDuration) -> SimDuration {
        SimDuration(self.0.saturating_add(d.0))
    }
}

/// Writes `us` microseconds as milliseconds with three decimals: `1.204ms`.
fn write_ms(f: &mut fmt::Formatter<'_>, us: u64) -> fmt::Result {
    let text = format!("{}.{:03}ms", us / 1000, us % 1000);
    f.pad(&text)
}

impl fmt::Display for SimTime {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write_ms(f, self.0)
    }
}

impl fmt::Display for SimDuration {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write_ms(f, self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn displays_milliseconds_with_microsecond_precision() {
        assert_eq!(SimTime::from_us(1204).to_string(), "1.204ms");
        assert_eq!(format!("{:>10}", SimTime::from_us(5)), "   0.005ms");
        assert_eq!(SimDuration::from_ms(30).to_string(), "30.000ms");
    }

    #[test]
    fn human_form_uses_the_largest_exact_unit() {
        assert_eq!(SimDuration::from_ms(4000).human(), "4s");
        assert_eq!(SimDuration::from_ms(1500).human(), "1500ms");
        assert_eq!(SimDuration::from_us(200).human(), "200us");
        assert_eq!(SimDuration::ZERO.human(), "0s");
    }

    #[test]
    fn arithmetic_saturates_instead_of_wrapping() {
        assert_eq!(SimTime::NEVER + SimDuration::from_ms(1), SimTime::NEVER);
        assert_eq!(SimTime::from_us(3).since(SimTime::from_us(9)), SimDuration::ZERO);
    }
}

//! The kernel: simulated time, the event queue, the seeded RNG tree and the output buffer that
//! sans-IO nodes fill.

pub mod out;
pub mod queue;
pub mod rng;
pub mod time;

pub use out::{NodeId, Out};
pub use queue::EventQueue;
pub use rng::{RngTree, SimRng};
pub use time::{SimDuration, SimTime};

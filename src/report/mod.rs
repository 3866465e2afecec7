//! What people read after a run: the summary tables, `kafka-topics --describe`, and the charts.

pub mod charts;
mod describe;
mod groups;
pub mod metrics;
pub mod summary;

pub use describe::describe_topics;
pub use groups::{describe_groups, summary_groups};
pub use summary::summary;

//! What people read after a run: the summary tables, `kafka-topics --describe`,
//! `kafka-consumer-groups --describe`, `kafka-transactions --describe`, and the charts.

pub mod charts;
mod describe;
mod groups;
pub mod metrics;
pub mod summary;
mod transactions;

pub use describe::describe_topics;
pub(crate) use groups::reads_committed;
pub use groups::{describe_groups, summary_groups};
pub use summary::summary;
pub use transactions::{describe_transactions, summary_transactions, transactional};

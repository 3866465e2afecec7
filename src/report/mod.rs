//! What people read after a run: the summary tables, `kafka-topics --describe`, each
//! partition's log and `kafka-log-dirs --describe`, `kafka-consumer-groups --describe`,
//! `kafka-transactions --describe`, and the charts.

pub mod charts;
mod describe;
mod groups;
mod log_dirs;
pub mod metrics;
pub mod summary;
mod transactions;

pub use describe::describe_topics;
pub(crate) use groups::reads_committed;
pub use groups::{describe_groups, summary_groups};
pub use log_dirs::{describe_log_dirs, describe_logs};
pub use summary::summary;
pub use transactions::{describe_transactions, summary_transactions, transactional};

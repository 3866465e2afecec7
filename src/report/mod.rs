//! What people read after a run: the summary tables, and `kafka-topics --describe`.

mod describe;
pub mod summary;

pub use describe::describe_topics;
pub use summary::summary;

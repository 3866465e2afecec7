//! Consumer groups: the classic protocol's messages, the broker-side group coordinator, and the
//! partition assignors the group leader runs.

pub mod assignor;
pub mod coordinator;
pub mod messages;
pub mod txn_offsets;

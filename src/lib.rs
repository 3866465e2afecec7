//! kafkasim: a deterministic discrete-event simulator of an Apache Kafka cluster.

pub mod check;
pub mod kafka;
pub mod net;
pub mod scenario;
pub mod sim;
pub mod trace;

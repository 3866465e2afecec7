//! kafkasim: a deterministic discrete-event simulator of an Apache Kafka cluster.

pub mod check;
pub mod commands;
pub mod history;
pub mod kafka;
pub mod net;
pub mod report;
pub mod scenario;
pub mod sim;
pub mod simulation;
pub mod trace;

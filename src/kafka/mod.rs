//! The modelled Kafka system, as sans-IO state machines.

pub mod addr;
pub mod assignment;
pub mod broker;
pub mod client;
pub mod consumer;
pub mod controller;
pub mod group;
pub mod keys;
pub mod log;
pub mod producer;
pub mod protocol;
pub mod record;
pub mod txn;

//! The modelled Kafka system, as sans-IO state machines.

pub mod assignment;
pub mod protocol;
pub mod record;

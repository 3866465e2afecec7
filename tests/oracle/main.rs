//! Differential tests against real Kafka 4.0.1 classes (issue 12, point 1): thousands of seeded
//! random inputs go in one batch to the JVM harness in `conformance/oracle/`, and each answer is
//! compared with kafkasim's own. Run them with `conformance/oracle/run`; every test is ignored
//! otherwise, and fails (never passes) when `KAFKASIM_ORACLE` is unset.

mod assignors;
mod configs;
mod harness;
mod partitioner;

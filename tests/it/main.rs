//! Integration tests: one binary, one module per concern.

mod acked;
mod assign;
mod bad_input;
mod book;
mod charts;
mod cli;
mod config_file;
mod consumer;
mod costs;
mod determinism;
mod faults;
mod groups;
mod idempotence;
mod lifecycle;
mod matrix;
mod messages;
mod partitions;
mod producer;
mod replication;
mod restart;
mod robustness;
mod snapshots;
mod support;
mod sweep;
mod warnings;

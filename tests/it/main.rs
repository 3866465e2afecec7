//! Integration tests: one binary, one module per concern.

mod bad_input;
mod book;
mod cli;
mod determinism;
mod producer;
mod snapshots;
mod support;

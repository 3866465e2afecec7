//! Integration tests: one binary, one module per concern.

mod bad_input;
mod cli;
mod determinism;
mod snapshots;
mod support;

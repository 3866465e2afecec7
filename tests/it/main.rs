//! Integration tests: one binary, one module per concern.

mod cli;
mod determinism;
mod snapshots;
mod support;

//! Consumer groups, classic protocol: what the group leader computes.

pub mod assignor;

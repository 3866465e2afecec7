//! What producers and consumers share: connections, metadata, backoff.

pub mod backoff;
pub mod metadata;
pub mod network;

//! A client's metadata cache (Kafka's `Metadata` + `DefaultMetadataUpdater`): refreshed every
//! `metadata.max.age.ms`, and as soon as possible (after `retry.backoff.ms`) when an error asks
//! for it. Requests go to the least loaded connected broker.

use super::network::NetworkClient;
use crate::kafka::addr::Addresses;
use crate::kafka::protocol::{BrokerId, ClusterMetadata, Message, RequestBody};
use crate::sim::{Out, SimDuration, SimTime};
use crate::trace::Event;
use std::sync::Arc;

/// The cache and the state of its refreshes.
pub struct MetadataCache {
    addr: Addresses,
    current: Arc<ClusterMetadata>,
    max_age: SimDuration,
    refresh_backoff: SimDuration,
    last_refresh: SimTime,
    last_attempt: Option<SimTime>,
    need_update: bool,
    in_flight: Option<(BrokerId, u32)>,
}

impl MetadataCache {
    /// An empty cache that wants an update at once.
    pub fn new(addr: Addresses, max_age: SimDuration, refresh_backoff: SimDuration) -> MetadataCache {
        MetadataCache {
            addr,
            current: Arc::new(ClusterMetadata::default()),
            max_age,
            refresh_backoff,
            last_refresh: SimTime::ZERO,
            last_attempt: None,
            need_update: true,
            in_flight: None,
        }
    }

    /// What the client currently believes.
    pub fn current(&self) -> &ClusterMetadata {
        &self.current
    }

    /// Asks for a refresh as soon as the backoff allows.
    pub fn request_update(&mut self) {
        self.need_update = true;
    }

    /// When the next refresh is due, if none is in flight.
    fn due(&self) -> Option<SimTime> {
        if self.in_flight.is_some() {
            return None;
        }
        if self.need_update {
            Some(
                self.last_attempt
                    .map_or(SimTime::ZERO, |t| t + self.refresh_backoff),
            )
        } else {
            Some(self.last_refresh + self.max_age)
        }
    }

    /// Sends a metadata request if one is due, connecting first if needed.
    pub fn poll(&mut self, now: SimTime, net: &mut NetworkClient, out: &mut Out<Message, Event>) {
        let Some(due) = self.due() else { return };
        if now < due {
            out.wake_at(due);
            return;
        }
        if let Some(b) = net.least_loaded(&self.candidates(), now, out) {
            let correlation = net.send(b, RequestBody::Metadata, true, now, out);
            self.in_flight = Some((b, correlation));
            self.last_attempt = Some(now);
            out.trace(|| Event::MetadataRequested { broker: b });
        }
    }

    /// Brokers a request for any broker may go to: the live ones, or every one before the
    /// first metadata (the bootstrap servers).
    pub fn candidates(&self) -> Vec<BrokerId> {
        if self.current.live_brokers.is_empty() {
            self.addr.broker_ids().collect()
        } else {
            self.current.live_brokers.clone()
        }
    }

    /// True if `correlation` to `broker` is our metadata request.
    pub fn is_ours(&self, broker: BrokerId, correlation: u32) -> bool {
        self.in_flight == Some((broker, correlation))
    }

    /// A metadata response arrived; returns true if it replaced the cache.
    pub fn on_response(&mut self, now: SimTime, md: Arc<ClusterMetadata>) -> bool {
        self.in_flight = None;
        // A broker that has not caught up with the controller yet answers with nothing.
        if md.version == 0 || md.version < self.current.version {
            return false;
        }
        self.current = md;
        self.need_update = false;
        self.last_refresh = now;
        true
    }

    /// The metadata request was lost with its connection.
    pub fn on_failure(&mut self, broker: BrokerId) {
        if self.in_flight.is_some_and(|(b, _)| b == broker) {
            self.in_flight = None;
            self.need_update = true;
        }
    }
}

//! Network settings every Kafka client shares (`CommonClientConfigs.java`).

use super::{Config, INT_MAX, KeyDef, LONG_MAX, int_key};
use crate::sim::SimDuration;

/// Keys every Kafka client has (`CommonClientConfigs`, `SecurityConfig`) that only concern the
/// broker list, client ids, sockets, interceptors, metrics and security: they change nothing in
/// the model, so a pasted client config may keep them.
pub(super) const IGNORED: &[&str] = &[
    "bootstrap.servers",
    "client.dns.lookup",
    "client.id",
    "enable.metrics.push",
    "interceptor.classes",
    "metric.reporters",
    "metrics.num.samples",
    "metrics.recording.level",
    "metrics.sample.window.ms",
    "receive.buffer.bytes",
    "security.protocol",
    "security.providers",
    "send.buffer.bytes",
];

/// Prefixes of the TLS and SASL keys (`SslConfigs`, `SaslConfigs`), ignored for the same reason.
pub(super) const SECURITY_PREFIXES: &[&str] = &["ssl.", "sasl."];

pub(super) const REQUEST_TIMEOUT: KeyDef = int_key(
    "request.timeout.ms",
    0,
    INT_MAX,
    "30000",
    "a request unanswered this long closes the connection; every request in flight on it fails",
);
pub(super) const RETRY_BACKOFF: KeyDef = int_key(
    "retry.backoff.ms",
    0,
    LONG_MAX,
    "100",
    "first backoff before a retry (KIP-580 exponential, ±20% jitter)",
);
pub(super) const RETRY_BACKOFF_MAX: KeyDef = int_key(
    "retry.backoff.max.ms",
    0,
    LONG_MAX,
    "1000",
    "cap of the exponential retry backoff",
);
pub(super) const RECONNECT_BACKOFF: KeyDef = int_key(
    "reconnect.backoff.ms",
    0,
    LONG_MAX,
    "50",
    "first wait before reconnecting to a broker (exponential, ±20% jitter)",
);
pub(super) const RECONNECT_BACKOFF_MAX: KeyDef = int_key(
    "reconnect.backoff.max.ms",
    0,
    LONG_MAX,
    "1000",
    "cap of the reconnect backoff",
);
pub(super) const CONNECTION_SETUP_TIMEOUT: KeyDef = int_key(
    "socket.connection.setup.timeout.ms",
    0,
    LONG_MAX,
    "10000",
    "a connection attempt with no answer (broker unreachable) fails after this long",
);
pub(super) const METADATA_MAX_AGE: KeyDef = int_key(
    "metadata.max.age.ms",
    0,
    LONG_MAX,
    "300000",
    "metadata is refreshed at least this often, and at once after errors",
);

/// The client-side network settings, typed.
#[derive(Clone, Debug)]
pub struct ClientNetConfig {
    /// `request.timeout.ms`.
    pub request_timeout: SimDuration,
    /// `retry.backoff.ms`.
    pub retry_backoff: SimDuration,
    /// `retry.backoff.max.ms`.
    pub retry_backoff_max: SimDuration,
    /// `reconnect.backoff.ms`.
    pub reconnect_backoff: SimDuration,
    /// `reconnect.backoff.max.ms`.
    pub reconnect_backoff_max: SimDuration,
    /// `socket.connection.setup.timeout.ms`.
    pub connection_setup_timeout: SimDuration,
    /// `metadata.max.age.ms`.
    pub metadata_max_age: SimDuration,
}

impl ClientNetConfig {
    /// The names of the timings set to 0 ms, the ones that let a client retry or reconnect
    /// without simulated time passing.
    pub fn zero_timings(&self) -> Vec<&'static str> {
        [
            (CONNECTION_SETUP_TIMEOUT.name, self.connection_setup_timeout),
            (RECONNECT_BACKOFF.name, self.reconnect_backoff),
            (RECONNECT_BACKOFF_MAX.name, self.reconnect_backoff_max),
            (RETRY_BACKOFF.name, self.retry_backoff),
            (RETRY_BACKOFF_MAX.name, self.retry_backoff_max),
            (REQUEST_TIMEOUT.name, self.request_timeout),
            (METADATA_MAX_AGE.name, self.metadata_max_age),
        ]
        .into_iter()
        .filter(|(_, d)| *d == SimDuration::ZERO)
        .map(|(name, _)| name)
        .collect()
    }

    pub(super) fn from_config(c: &Config) -> ClientNetConfig {
        ClientNetConfig {
            request_timeout: c.ms(REQUEST_TIMEOUT.name),
            retry_backoff: c.ms(RETRY_BACKOFF.name),
            retry_backoff_max: c.ms(RETRY_BACKOFF_MAX.name),
            reconnect_backoff: c.ms(RECONNECT_BACKOFF.name),
            reconnect_backoff_max: c.ms(RECONNECT_BACKOFF_MAX.name),
            connection_setup_timeout: c.ms(CONNECTION_SETUP_TIMEOUT.name),
            metadata_max_age: c.ms(METADATA_MAX_AGE.name),
        }
    }
}

//! Config combinations that Kafka accepts but that break a cluster: each becomes a warning at the
//! key that sets it up, with the numbers from the scenario's own network and configs.

use super::blocks::Blocks;
use super::config::ClientNetConfig;
use super::config::{Acks, ConfigBlock};
use super::source::Source;
use super::units::format_bandwidth;
use super::warning::{Warning, WarningKind};
use super::{NetworkSpec, Scenario};
use crate::sim::SimDuration;

/// Every config warning of `s`, in the order of the checks below.
pub(super) fn config_warnings(src: &Source<'_>, s: &Scenario, blocks: &Blocks<'_>) -> Vec<Warning> {
    let cluster = blocks.cluster.view(src);
    let mut out = Vec::new();
    out.extend(session_below_heartbeat(&cluster, s));
    out.extend(lag_below_fetch(&cluster, s));
    for (t, block) in blocks.topics.iter().enumerate() {
        let topic = block.view(src);
        out.extend(min_isr_at_replication_factor(&cluster, &topic, s, t));
        out.extend(unclean_with_acks_all(&cluster, &topic, s, t));
        out.extend(keyless_on_compacted(&cluster, &topic, s, t));
    }
    let clients = blocks
        .producers
        .iter()
        .zip(s.producers.iter().map(|p| (&p.id, &p.config.net)));
    let consumers = blocks
        .consumers
        .iter()
        .zip(s.consumers.iter().map(|c| (&c.id, &c.config.net)));
    // A processor's consumer and producer share the client keys, so either's settings will do.
    let processors = blocks
        .processors
        .iter()
        .zip(s.processors.iter().map(|p| (&p.id, &p.consumer.net)));
    for (block, (id, net)) in clients.chain(consumers).chain(processors) {
        let view = block.view(src);
        out.extend(request_timeout_below_round_trip(
            &view,
            id,
            net.request_timeout,
            &s.cluster.network,
        ));
        out.extend(connection_setup_within_round_trip(
            &view,
            id,
            net,
            &s.cluster.network,
        ));
    }
    out
}

/// The longest one-way trip of a small message: latency plus all of the jitter.
fn one_way_max(n: &NetworkSpec) -> SimDuration {
    n.latency + n.jitter
}

/// The shortest round trip: twice the latency, no jitter.
fn round_trip_min(n: &NetworkSpec) -> SimDuration {
    n.latency + n.latency
}

/// A round trip as messages say it: `2.000ms`, or `2.000ms, up to 3.000ms with jitter`.
fn round_trip_text(n: &NetworkSpec) -> String {
    let max = one_way_max(n) + one_way_max(n);
    if n.jitter == SimDuration::ZERO {
        format!("{max}")
    } else {
        format!("{}, up to {max} with jitter", round_trip_min(n))
    }
}

/// How long `bytes` take to go onto a link of the scenario's bandwidth.
fn transfer(n: &NetworkSpec, bytes: u64) -> SimDuration {
    n.bandwidth.map_or(SimDuration::ZERO, |bits| {
        SimDuration::from_us((u128::from(bytes) * 8 * 1_000_000).div_ceil(u128::from(bits)) as u64)
    })
}

/// KRaft liveness: `BrokerLifecycleManager` sends the next heartbeat `broker.heartbeat.interval.ms`
/// after the previous one's response arrived, and `BrokerHeartbeatManager` fences a broker whose
/// last contact is older than `broker.session.timeout.ms`. So contacts are an interval plus a
/// round trip apart, and a session shorter than that fences live brokers. A session of exactly
/// that is still valid (`lastContactNs + sessionTimeoutNs >= nowNs`), but only while the
/// controller answers in no time: the warning says brokers *can* be fenced then.
fn session_below_heartbeat(cluster: &ConfigBlock<'_, '_>, s: &Scenario) -> Option<Warning> {
    let c = &s.cluster.config;
    let n = &s.cluster.network;
    let round_trip = one_way_max(n) + one_way_max(n);
    let gap = c.heartbeat_interval + round_trip;
    if c.session_timeout > gap {
        return None;
    }
    let surely = c.session_timeout < c.heartbeat_interval + round_trip_min(n);
    let key = if cluster.sets("broker.session.timeout.ms") || !cluster.sets("broker.heartbeat.interval.ms") {
        "broker.session.timeout.ms"
    } else {
        "broker.heartbeat.interval.ms"
    };
    let message = format!(
        "broker.session.timeout.ms {} is not above broker.heartbeat.interval.ms {} plus a round trip to the controller ({})",
        c.session_timeout.as_ms(),
        c.heartbeat_interval.as_ms(),
        round_trip_text(n)
    );
    let how = if surely { "will" } else { "can" };
    let consequence = format!(
        "brokers {how} be fenced while alive: a broker sends its next heartbeat broker.heartbeat.interval.ms after the answer to the last one (BrokerLifecycleManager), so the controller hears from it every {gap} at best, and fences it when {} pass without a heartbeat (BrokerHeartbeatManager); a fenced broker loses its leaderships and leaves every ISR",
        c.session_timeout
    );
    let at = cluster
        .error_at_key(key, message)
        .with_help("make broker.session.timeout.ms several heartbeat intervals long (Kafka's defaults are 9000 and 2000)");
    Some(Warning::new(WarningKind::SessionBelowHeartbeat, at, consequence))
}

/// ISR membership (`Replica.updateFetchState`, `Partition.getOutOfSyncReplicas`): a follower that
/// is behind the leader's log end counts as caught up only at its fetches, so if one fetch takes
/// longer than `replica.lag.time.max.ms`, followers under load fall out of the ISR while alive.
fn lag_below_fetch(cluster: &ConfigBlock<'_, '_>, s: &Scenario) -> Option<Warning> {
    if s.topics.iter().all(|t| t.replication_factor < 2) {
        return None;
    }
    let c = &s.cluster.config;
    let n = &s.cluster.network;
    let round_trip = one_way_max(n) + one_way_max(n);
    let bytes = u64::from(c.replica_fetch_max_bytes);
    let carry = transfer(n, bytes);
    let fetch = round_trip + carry;
    if c.replica_lag_time_max >= fetch {
        return None;
    }
    let carried = match n.bandwidth {
        Some(bits) => format!(
            ", and {carry} to carry a full replica.fetch.max.bytes response of {bytes} bytes at {}",
            format_bandwidth(bits)
        ),
        None => String::new(),
    };
    let message = format!(
        "replica.lag.time.max.ms {} is below the time a follower needs for one fetch: up to {fetch} (a round trip of {}{carried})",
        c.replica_lag_time_max.as_ms(),
        round_trip_text(n)
    );
    let consequence = "followers can leave the ISR while alive: a follower behind the leader counts as caught up only at its fetches (Replica.updateFetchState), so while producers write, the leader's ISR check (Partition.getOutOfSyncReplicas) finds followers out of sync and shrinks the ISR, and they rejoin at their next fetch; acks=all then waits for fewer copies, or stops below min.insync.replicas";
    let at = cluster
        .error_at_key("replica.lag.time.max.ms", message)
        .with_help(format!(
            "keep replica.lag.time.max.ms well above {fetch} (Kafka's default is 30000)"
        ));
    Some(Warning::new(WarningKind::LagBelowFetch, at, consequence))
}

/// The producers writing to topic `t` with `acks=all`, as a subject: "producer `p1` writes",
/// "producers `p1`, `p2` write".
fn acks_all_writers(s: &Scenario, t: usize) -> Option<String> {
    let ids: Vec<String> = s
        .producers
        .iter()
        .filter(|p| p.workload.topic == t && p.config.acks == Acks::All)
        .map(|p| format!("`{}`", p.id))
        .collect();
    match ids.len() {
        0 => None,
        1 => Some(format!("producer {} writes", ids[0])),
        _ => Some(format!("producers {} write", ids.join(", "))),
    }
}

/// Where a topic key's value comes from: the topic's block when it sets the key, else the
/// cluster's.
fn topic_key_block<'b, 'a, 's>(
    cluster: &'b ConfigBlock<'a, 's>,
    topic: &'b ConfigBlock<'a, 's>,
    key: &str,
) -> &'b ConfigBlock<'a, 's> {
    if topic.sets(key) { topic } else { cluster }
}

/// `Partition.effectiveMinIsr` is `min(min.insync.replicas, replicas)`: at or above the
/// replication factor, every replica must be in the ISR for an `acks=all` write.
fn min_isr_at_replication_factor(
    cluster: &ConfigBlock<'_, '_>,
    topic: &ConfigBlock<'_, '_>,
    s: &Scenario,
    t: usize,
) -> Option<Warning> {
    let spec = &s.topics[t];
    let min_isr = spec.config.min_insync_replicas;
    if spec.replication_factor < 2 || min_isr < spec.replication_factor {
        return None;
    }
    let writers = acks_all_writers(s, t)?;
    let message = format!(
        "topic `{}` has min.insync.replicas {min_isr} and replication factor {}, and {writers} to it with acks=all",
        spec.name, spec.replication_factor
    );
    let consequence = "any broker loss stops writes: while one replica is down or out of the ISR, every acks=all write to the topic fails with NOT_ENOUGH_REPLICAS (Partition.appendRecordsToLeader); the effective minimum is capped at the replication factor, so a larger value acts the same";
    let at = topic_key_block(cluster, topic, "min.insync.replicas")
        .error_at_key("min.insync.replicas", message)
        .with_help(format!(
            "use min.insync.replicas {} to survive one broker loss",
            spec.replication_factor - 1
        ));
    Some(Warning::new(
        WarningKind::MinIsrAtReplicationFactor,
        at,
        consequence,
    ))
}

/// Unclean election (`PartitionChangeBuilder`): with no live ISR member the controller may elect
/// any live replica, and the others truncate to its log.
fn unclean_with_acks_all(
    cluster: &ConfigBlock<'_, '_>,
    topic: &ConfigBlock<'_, '_>,
    s: &Scenario,
    t: usize,
) -> Option<Warning> {
    let spec = &s.topics[t];
    if !spec.config.unclean_leader_election || spec.replication_factor < 2 {
        return None;
    }
    let writers = acks_all_writers(s, t)?;
    let message = format!(
        "topic `{}` allows unclean leader elections, and {writers} to it with acks=all",
        spec.name
    );
    let consequence = "acks=all no longer keeps acknowledged records: when every in-sync replica is down, the controller may elect an out-of-sync replica, and the records it lacks, acknowledged ones included, are truncated away on the other replicas";
    let at = topic_key_block(cluster, topic, "unclean.leader.election.enable")
        .error_at_key("unclean.leader.election.enable", message)
        .with_help("leave unclean.leader.election.enable false (Kafka's default): the partition then waits offline for an in-sync replica, and keeps what it acknowledged");
    Some(Warning::new(WarningKind::UncleanWithAcksAll, at, consequence))
}

/// `LogValidator.validateKey`: a compacted topic refuses every batch with a keyless record
/// (INVALID_RECORD, which the producer does not retry).
fn keyless_on_compacted(
    cluster: &ConfigBlock<'_, '_>,
    topic: &ConfigBlock<'_, '_>,
    s: &Scenario,
    t: usize,
) -> Option<Warning> {
    let spec = &s.topics[t];
    if !spec.config.cleanup_policy.compact {
        return None;
    }
    let ids: Vec<String> = s
        .producers
        .iter()
        .filter(|p| p.workload.topic == t && p.workload.keys.is_none() && p.processor.is_none())
        .map(|p| format!("`{}`", p.id))
        .collect();
    let writers = match ids.len() {
        0 => return None,
        1 => format!("producer {} writes", ids[0]),
        _ => format!("producers {} write", ids.join(", ")),
    };
    let message = format!(
        "topic `{}` is compacted, and {writers} keyless records to it",
        spec.name
    );
    let consequence = "every batch is refused with INVALID_RECORD (\"Compacted topic cannot accept message without key\"), which the producer does not retry: every record fails";
    let at = if topic.sets("cleanup.policy") {
        topic.error_at_key("cleanup.policy", message)
    } else {
        cluster.error_at_key("log.cleanup.policy", message)
    };
    let at = at.with_help("give the workload `keys`, or use cleanup.policy delete");
    Some(Warning::new(WarningKind::KeylessOnCompacted, at, consequence))
}

/// A response cannot come back before a round trip: a shorter `request.timeout.ms` times out
/// every request (`NetworkClient` closes the connection and fails what is in flight).
fn request_timeout_below_round_trip(
    block: &ConfigBlock<'_, '_>,
    id: &str,
    timeout: SimDuration,
    n: &NetworkSpec,
) -> Option<Warning> {
    let round_trip = round_trip_min(n);
    if timeout >= round_trip {
        return None;
    }
    let message = format!(
        "request.timeout.ms {} of `{id}` is shorter than a round trip to a broker ({round_trip})",
        timeout.as_ms()
    );
    let consequence = "every request times out: no response can arrive in time, so the client closes each connection and fails or retries what was in flight, and nothing it sends is ever answered";
    let at = block
        .error_at_key("request.timeout.ms", message)
        .with_help("request.timeout.ms is in milliseconds (Kafka's default is 30000)");
    Some(Warning::new(
        WarningKind::RequestTimeoutBelowRoundTrip,
        at,
        consequence,
    ))
}

/// A connection is set up when the broker's answer comes back, a round trip and the time on the
/// wire after the attempt: a `socket.connection.setup.timeout.ms` not longer than the round trip
/// fails every attempt (`ClusterConnectionStates.isConnectionSetupTimeout`). With
/// `reconnect.backoff.ms` 0 as well, the client loops without simulated time passing.
fn connection_setup_within_round_trip(
    block: &ConfigBlock<'_, '_>,
    id: &str,
    net: &ClientNetConfig,
    n: &NetworkSpec,
) -> Option<Warning> {
    let round_trip = round_trip_min(n);
    let timeout = net.connection_setup_timeout;
    if timeout > round_trip {
        return None;
    }
    let message = format!(
        "socket.connection.setup.timeout.ms {} of `{id}` is not longer than a round trip to a broker ({round_trip})",
        timeout.as_ms()
    );
    let mut consequence = "no connection is ever set up: each attempt times out before the broker's answer arrives, so the client never sends a request".to_string();
    if net.reconnect_backoff == SimDuration::ZERO {
        consequence.push_str("; with reconnect.backoff.ms 0 the next attempt starts at once, so the client loops without simulated time passing and the run stops as a livelock (exit code 3)");
    }
    let at = block
        .error_at_key("socket.connection.setup.timeout.ms", message)
        .with_help("socket.connection.setup.timeout.ms is in milliseconds (Kafka's default is 10000)");
    Some(Warning::new(
        WarningKind::ConnectionSetupWithinRoundTrip,
        at,
        consequence,
    ))
}

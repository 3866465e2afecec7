//! Consumer groups as `kafka-consumer-groups --describe` prints them (the offsets view of Kafka
//! 4.0's `ConsumerGroupCommand`: GROUP TOPIC PARTITION CURRENT-OFFSET LOG-END-OFFSET LAG
//! CONSUMER-ID HOST CLIENT-ID), and the summary's short form.

use crate::kafka::group::coordinator::GroupState;
use crate::kafka::record::Tp;
use crate::scenario::{IsolationLevel, Scenario};
use crate::simulation::{GroupView, RunResult};
use std::collections::BTreeMap;
use std::fmt::Write;

/// One row: a partition the group owns or has an offset for.
struct Row<'a> {
    tp: Tp,
    current: Option<u64>,
    log_end: u64,
    member: Option<(&'a str, &'a str)>,
}

fn rows<'a>(g: &'a GroupView, result: &RunResult) -> Vec<Row<'a>> {
    let mut owner: BTreeMap<Tp, (&str, &str)> = BTreeMap::new();
    // Kafka's tool shows owners only for a stable group.
    let stable = g.state == GroupState::Stable;
    for (member, client, parts) in g.members.iter().filter(|_| stable) {
        for tp in parts {
            owner.insert(*tp, (member.as_ref(), client.as_str()));
        }
    }
    let mut tps: Vec<Tp> = owner.keys().chain(g.offsets.keys()).copied().collect();
    tps.sort_unstable();
    tps.dedup();
    tps.into_iter()
        .map(|tp| Row {
            tp,
            current: g.offsets.get(&tp).copied(),
            // The tool asks `ListOffsets(latest)` with the admin client's default
            // READ_UNCOMMITTED isolation, which the broker answers with the high watermark
            // (ConsumerGroupCommand.getLogEndOffsets, UnifiedLog.fetchOffsetByTimestamp).
            log_end: result.logs.get(&tp).map_or(0, |l| l.high_watermark()),
            member: owner.get(&tp).copied(),
        })
        .collect()
}

/// True if every consumer of `group` reads `read_committed`: its lag is then measured to the
/// last stable offset, as the consumer's own lag is (`SubscriptionState.partitionLag`), since
/// records above it are not readable yet.
pub(crate) fn reads_committed(scenario: &Scenario, group: &str) -> bool {
    let mut members = scenario
        .consumers
        .iter()
        .filter(|c| c.group.as_deref() == Some(group))
        .peekable();
    members.peek().is_some() && members.all(|c| c.config.isolation == IsolationLevel::ReadCommitted)
}

/// Every group, in `kafka-consumer-groups --describe --all-groups` layout.
pub fn describe_groups(result: &RunResult) -> String {
    let mut out = String::new();
    for g in &result.groups {
        match g.state {
            GroupState::Empty => {
                let _ = writeln!(out, "\nConsumer group '{}' has no active members.", g.group);
            }
            GroupState::PreparingRebalance | GroupState::CompletingRebalance => {
                let _ = writeln!(out, "\nWarning: Consumer group '{}' is rebalancing.", g.group);
            }
            GroupState::Stable | GroupState::Dead => {}
        }
        let rows = rows(g, result);
        let names = &result.names;
        let group_w = g.group.len().max(15);
        let topic_w = rows
            .iter()
            .map(|r| names.topics[r.tp.topic as usize].len())
            .max()
            .unwrap_or(0)
            .max(15);
        let id_w = rows
            .iter()
            .filter_map(|r| r.member.map(|m| m.0.len()))
            .max()
            .unwrap_or(0)
            .max(11);
        let _ = writeln!(
            out,
            "\n{:<group_w$} {:<topic_w$} {:<10} {:<15} {:<15} {:<15} {:<id_w$} {:<15} CLIENT-ID",
            "GROUP", "TOPIC", "PARTITION", "CURRENT-OFFSET", "LOG-END-OFFSET", "LAG", "CONSUMER-ID", "HOST"
        );
        for r in rows {
            let dash = || "-".to_string();
            let current = r.current.map_or_else(dash, |c| c.to_string());
            let lag = r
                .current
                .map_or_else(dash, |c| r.log_end.saturating_sub(c).to_string());
            let (id, host, client) = match r.member {
                Some((m, c)) => (m.to_string(), "/127.0.0.1".to_string(), c.to_string()),
                None => (dash(), dash(), dash()),
            };
            let line = format!(
                "{:<group_w$} {:<topic_w$} {:<10} {:<15} {:<15} {:<15} {:<id_w$} {:<15} {}",
                g.group,
                names.topics[r.tp.topic as usize],
                r.tp.partition,
                current,
                r.log_end,
                lag,
                id,
                host,
                client
            );
            let _ = writeln!(out, "{}", line.trim_end());
        }
    }
    out
}

/// The summary's view: state, generation, coordinator, each member's partitions and the lag
/// (to the high watermark, or to the last stable offset for a `read_committed` group, as the
/// consumer's own `SubscriptionState.partitionLag` measures it).
pub fn summary_groups(s: &mut String, scenario: &Scenario, result: &RunResult) {
    if result.groups.is_empty() {
        return;
    }
    let _ = writeln!(s, "\ngroups");
    for g in &result.groups {
        let committed = reads_committed(scenario, &g.group);
        let end = |tp: Tp| {
            result.logs.get(&tp).map_or(0, |l| {
                if committed {
                    l.last_stable_offset()
                } else {
                    l.high_watermark()
                }
            })
        };
        let lag: u64 = rows(g, result)
            .iter()
            .filter_map(|r| r.current.map(|c| end(r.tp).saturating_sub(c)))
            .sum();
        let to = if committed {
            " (to the LSO: read_committed)"
        } else {
            ""
        };
        let _ = writeln!(
            s,
            "  {}  {}, generation {}, coordinator broker-{}, lag {lag}{to}",
            g.group, g.state, g.generation, g.coordinator
        );
        let mut members: Vec<&(std::sync::Arc<str>, String, Vec<Tp>)> = g.members.iter().collect();
        members.sort_by(|a, b| a.1.cmp(&b.1));
        for (_, client, parts) in members {
            let mut parts = parts.clone();
            parts.sort_unstable();
            let list: Vec<String> = parts.iter().map(|tp| result.names.tp(*tp)).collect();
            let shown = if list.is_empty() {
                "nothing".to_string()
            } else {
                list.join(" ")
            };
            let _ = writeln!(s, "    {client:<10} {shown}");
        }
    }
}

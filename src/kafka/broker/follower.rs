//! The follower's side: one fetch in flight per leader, appending the leader's batches,
//! following its high watermark, and truncating after a leader change — by leader epoch
//! (KIP-101/KIP-279, through the fetch's diverging epoch) or, with the old rule, to the local
//! high watermark.
//!
//! Followed: `AbstractFetcherThread.scala`, `ReplicaFetcherThread.scala` (Kafka 4.0).

use super::storage::{follow_log_start_offset, trace_roll};
use super::{Broker, Life, O, Replica, Role};
use crate::kafka::log::LogBatch;
use crate::kafka::protocol::{
    BrokerId, ReplicaFetchPartition, ReplicaFetchRequest, RequestBody, ResponseBody,
};
use crate::kafka::record::{RecordId, Tp};
use crate::scenario::config::TruncationRule;
use crate::sim::{NodeId, SimTime};
use crate::trace::Event;
use std::collections::BTreeSet;
use std::sync::Arc;

/// The fetch loop towards one leader, and the partitions it fetches (`AbstractFetcherThread`
/// with its `partitionStates`): kept as roles change, so that a fetch costs the partitions it
/// carries and an event that sends none costs nothing.
#[derive(Clone, Debug, Default)]
pub(super) struct Fetcher {
    /// The fetch in flight and when it times out (`replica.socket.timeout.ms`).
    pub(super) in_flight: Option<(u32, SimTime)>,
    /// No fetch before this (`replica.fetch.backoff.ms` after an error).
    pub(super) backoff_until: SimTime,
    /// The partitions this broker follows that leader for.
    pub(super) partitions: BTreeSet<Tp>,
}

impl Fetcher {
    /// When this fetcher next has something to do.
    pub(super) fn next_action(&self) -> SimTime {
        self.in_flight
            .map_or(self.backoff_until, |(_, deadline)| deadline)
    }
}

impl Broker {
    /// Sends a fetch to every leader this broker follows that has none in flight.
    pub(super) fn run_fetchers(&mut self, now: SimTime, out: &mut O) {
        if self.life == Life::Down || self.metadata.is_none() {
            return;
        }
        for (&leader, fetcher) in &mut self.fetchers {
            if let Some((_, deadline)) = fetcher.in_flight {
                if now < deadline {
                    continue;
                }
                // No answer within replica.socket.timeout.ms: drop the connection, back off.
                fetcher.in_flight = None;
                fetcher.backoff_until = now + self.config.replica_fetch_backoff;
                out.close(self.addr.broker(leader));
                continue;
            }
            if now < fetcher.backoff_until {
                continue;
            }
            let partitions = fetcher
                .partitions
                .iter()
                .filter_map(|tp| {
                    let r = self.replicas.get(tp)?;
                    Some(ReplicaFetchPartition {
                        tp: *tp,
                        fetch_offset: r.log.log_end_offset(),
                        last_fetched_epoch: r.log.latest_epoch(),
                        current_leader_epoch: r.leader_epoch,
                    })
                })
                .collect();
            let correlation = self.next_correlation;
            self.next_correlation = self.next_correlation.wrapping_add(1);
            fetcher.in_flight = Some((correlation, now + self.config.replica_socket_timeout));
            let request = ReplicaFetchRequest {
                replica: self.id,
                partitions,
                min_bytes: self.config.replica_fetch_min_bytes,
                max_wait_ms: self.config.replica_fetch_wait_max.as_ms(),
                max_partition_bytes: self.config.replica_fetch_max_bytes,
            };
            out.send(
                self.addr.broker(leader),
                crate::kafka::protocol::Message::Request {
                    correlation,
                    body: RequestBody::ReplicaFetch(request),
                },
            );
        }
    }

    /// A replica follows another leader, or none: it leaves the fetcher of the one it followed
    /// and joins the fetcher of the new one (`ReplicaFetcherManager.removeFetcherForPartitions`,
    /// `addFetcherForPartitions`); a fetcher left with no partition goes
    /// (`shutdownIdleFetcherThreads`).
    pub(super) fn refetch(&mut self, tp: Tp, from: Option<BrokerId>, to: Option<BrokerId>) {
        if let Some(old) = from
            && let Some(f) = self.fetchers.get_mut(&old)
        {
            f.partitions.remove(&tp);
            if f.partitions.is_empty() {
                self.fetchers.remove(&old);
            }
        }
        if let Some(new) = to {
            self.fetchers.entry(new).or_default().partitions.insert(tp);
        }
    }

    /// A leader answered a fetch.
    pub(super) fn on_fetch_response(
        &mut self,
        now: SimTime,
        from: NodeId,
        correlation: u32,
        body: ResponseBody,
        out: &mut O,
    ) {
        let Some(leader) = self.addr.broker_of(from) else {
            return;
        };
        let Some(fetcher) = self.fetchers.get_mut(&leader) else {
            return;
        };
        if fetcher.in_flight.map(|(c, _)| c) != Some(correlation) {
            return;
        }
        fetcher.in_flight = None;
        let ResponseBody::ReplicaFetch(parts) = body else {
            return;
        };
        let mut failed = false;
        for p in parts {
            let Some(r) = self.replicas.get_mut(&p.tp) else {
                continue;
            };
            let follows = matches!(r.role, Role::Follower { leader: Some(l) } if l == leader)
                && r.log.log_end_offset() == p.fetch_offset;
            if !follows {
                continue;
            }
            match p.result {
                Err(_) => failed = true,
                Ok(data) => {
                    let in_range = data.diverging.is_none()
                        && p.fetch_offset <= data.leader_log_end
                        && p.fetch_offset >= data.log_start_offset;
                    if in_range && data.batches.is_empty() {
                        // A long poll that timed out: only the leader's HW and log start move.
                        follow_high_watermark(p.tp, r, data.high_watermark, out);
                        follow_log_start_offset(p.tp, r, data.log_start_offset, out);
                    } else if let Some((epoch, end)) = data.diverging {
                        let cut = r.log.divergence_point(epoch, end);
                        self.truncate(p.tp, cut, "diverging epoch from the leader (KIP-279)", out);
                    } else if p.fetch_offset > data.leader_log_end {
                        // Out of range: the leader's log is shorter than ours.
                        self.truncate(p.tp, data.leader_log_end, "log end beyond the leader's", out);
                    } else if p.fetch_offset < data.log_start_offset {
                        // Out of range: the leader deleted what this follower needs next.
                        self.truncate_fully(p.tp, data.log_start_offset, out);
                    } else {
                        self.append_from_leader(p.tp, data.batches, data.high_watermark, out);
                        if let Some(r) = self.replicas.get_mut(&p.tp) {
                            follow_log_start_offset(p.tp, r, data.log_start_offset, out);
                        }
                    }
                }
            }
        }
        if failed && let Some(f) = self.fetchers.get_mut(&leader) {
            f.backoff_until = now + self.config.replica_fetch_backoff;
        }
    }

    /// Appends what the leader sent, as one append (one roll decision, as
    /// `appendRecordsToFollowerOrFutureReplica` appends a fetch response's records at once).
    fn append_from_leader(&mut self, tp: Tp, batches: Vec<LogBatch>, leader_hw: u64, out: &mut O) {
        let Some(r) = self.replicas.get_mut(&tp) else {
            return;
        };
        let mut end = r.log.log_end_offset();
        let mut appended = Vec::with_capacity(batches.len());
        for b in batches {
            // Only after the pre-KIP-101 rule cut this log inside one of the leader's batches.
            // Logs of that era held messages one by one (message format v0/v1), so the leader
            // answered from exactly the fetch offset: keep the tail that is new here.
            let Some(b) = b.tail_from(end) else {
                continue;
            };
            end = b.next_offset();
            appended.push(b);
        }
        // A batch a leader's cleaner emptied in part still spans its offsets.
        let shown: Vec<(u64, u32)> = appended.iter().map(|b| (b.base_offset, b.span())).collect();
        r.unflushed_messages += appended.iter().map(|b| b.records.len() as u64).sum::<u64>();
        let rolled = r.log.append_as_follower(appended);
        trace_roll(tp, rolled, out);
        let log_bytes = r.log.size_bytes();
        for (base_offset, count) in shown {
            out.trace(|| Event::Replicated {
                tp,
                base_offset,
                records: count,
                log_end: base_offset + u64::from(count),
                log_bytes,
            });
        }
        follow_high_watermark(tp, r, leader_hw, out);
        self.flush_by_messages(tp);
    }

    /// Cuts a replica's log, and records what it lost. A cut at or beyond the log end removes
    /// no record but still drops epochs that start there (`UnifiedLog.truncateTo`: "always
    /// truncate epoch cache since we may have a conflicting epoch entry at the end of the log
    /// from the leader"): a former leader that wrote nothing in its epoch would otherwise send
    /// that epoch again in every fetch and get the same divergence back, round trip after round
    /// trip.
    fn truncate(&mut self, tp: Tp, to: u64, why: &'static str, out: &mut O) {
        let Some(r) = self.replicas.get_mut(&tp) else {
            return;
        };
        let removed = r.log.truncate_to(to);
        if removed.is_empty() {
            return;
        }
        let records: Arc<[RecordId]> = removed.iter().flat_map(|b| b.records.iter().copied()).collect();
        out.emit(Event::Truncated {
            tp,
            to: r.log.log_end_offset(),
            records,
            why,
            log_bytes: r.log.size_bytes(),
        });
    }

    /// `fetchOffsetAndTruncate` when the leader's log start offset is above this log's end:
    /// everything here is stale; the log starts again, empty, at the leader's log start offset.
    fn truncate_fully(&mut self, tp: Tp, leader_log_start: u64, out: &mut O) {
        let Some(r) = self.replicas.get_mut(&tp) else {
            return;
        };
        let removed = r.log.truncate_fully_and_start_at(leader_log_start);
        r.unflushed_messages = 0;
        out.emit(Event::TruncatedFully {
            tp,
            to: leader_log_start,
            records: removed.iter().map(|b| b.records.len() as u64).sum(),
        });
    }

    /// The replica now follows another leader (or none): produces waiting on it fail, parked
    /// fetches answer, and with the old rule the log is cut to the local high watermark.
    pub(super) fn become_follower(&mut self, now: SimTime, tp: Tp, out: &mut O) {
        self.lost_leadership(now, tp, out);
        self.complete_fetches(now, tp, out);
        if self.config.truncation == TruncationRule::HighWatermark {
            let hw = self.replicas.get(&tp).map_or(0, |r| r.log.high_watermark());
            self.truncate(tp, hw, "high watermark on becoming follower (pre-KIP-101)", out);
        }
    }
}

/// A follower takes the leader's high watermark (up to its own log end), and traces a move.
fn follow_high_watermark(tp: Tp, r: &mut Replica, leader_hw: u64, out: &mut O) {
    let before = r.log.high_watermark();
    r.log.follow_high_watermark(leader_hw);
    let high_watermark = r.log.high_watermark();
    if high_watermark != before {
        out.trace(|| Event::FollowerHighWatermark { tp, high_watermark });
    }
}

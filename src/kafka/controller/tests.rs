//! Election and ISR rules, each on a small cluster (reference §3.3–3.6, fidelity checks 7–8).

use super::*;
use crate::scenario::config::ConfigBlock;
use crate::scenario::source::Source;
use std::collections::BTreeSet;

fn config(entries: &str) -> BrokerConfig {
    let text = format!("{{ {entries} }}");
    let src = Source::new("t", &text);
    let parsed: crate::scenario::config::Entries = src.parse_root().expect("map");
    let anchor: crate::scenario::source::Raw = src.parse_root().expect("raw");
    BrokerConfig::from_block(&ConfigBlock {
        src: &src,
        entries: &parsed,
        anchor,
    })
    .expect("valid")
}

fn controller(replicas: Vec<BrokerId>, unclean: bool) -> Controller {
    let n = replicas.len() as u32;
    let topics = [TopicPolicy {
        assignment: vec![replicas],
        unclean_leader_election: unclean,
    }];
    Controller::new(Addresses::new(n), &topics, &config(""))
}

const TP: Tp = Tp {
    topic: 0,
    partition: 0,
};

fn state(c: &Controller) -> PartitionState {
    c.metadata().partition(TP).cloned().expect("exists")
}

fn at(ms: u64) -> SimTime {
    SimTime::from_us(ms * 1000)
}

/// Heartbeats from `alive` at `t`, then the session check at `t`.
fn beat(c: &mut Controller, t: SimTime, alive: &[BrokerId], out: &mut O) {
    for b in alive {
        c.on_message(
            t,
            Message::Heartbeat {
                broker: *b,
                correlation: 1,
                metadata_version: u64::MAX,
            },
            out,
        );
    }
    c.on_wake(t, out);
}

/// A restarted broker's first heartbeat: a new incarnation with no metadata yet.
fn register(c: &mut Controller, broker: BrokerId, t: SimTime, out: &mut O) {
    c.on_message(
        t,
        Message::Heartbeat {
            broker,
            correlation: 1,
            metadata_version: 0,
        },
        out,
    );
}

/// Fidelity check 7: replicas [3,1,2], leader 3 crashes → 1 (first in assignment order in the
/// ISR), not 2; each change bumps the leader epoch by one.
#[test]
fn clean_election_follows_assignment_order() {
    let mut c = controller(vec![3, 1, 2], false);
    let mut out = Out::new(false);
    beat(&mut c, at(8000), &[1, 2], &mut out);
    c.on_wake(at(9001), &mut out);
    let s = state(&c);
    assert_eq!(
        (s.leader, s.leader_epoch, s.isr.clone()),
        (Some(1), 1, vec![1, 2])
    );
    assert_eq!(c.metadata().live_brokers, vec![1, 2]);
}

/// The ISR never loses its last member; with no live ISR member the partition goes offline
/// (unclean election off) and the last member leads again when it returns.
#[test]
fn without_unclean_election_the_last_isr_member_waits() {
    let mut c = controller(vec![1, 2], false);
    let mut out = Out::new(false);
    beat(&mut c, at(8000), &[1], &mut out);
    c.on_wake(at(9001), &mut out); // 2 fenced: leaves the ISR
    assert_eq!(state(&c).isr, vec![1]);
    register(&mut c, 2, at(10_000), &mut out);
    c.on_wake(at(17_001), &mut out); // 1 fenced: last member, stays; no leader
    let s = state(&c);
    assert_eq!((s.leader, s.isr.clone()), (None, vec![1]));
    c.on_message(
        at(18_000),
        Message::Heartbeat {
            broker: 1,
            correlation: 1,
            metadata_version: 0,
        },
        &mut out,
    );
    assert_eq!(
        state(&c).leader,
        Some(1),
        "the last ISR member is elected when it returns"
    );
}

/// With unclean election the first live replica leads, and the ISR is just itself.
#[test]
fn unclean_election_takes_an_out_of_sync_replica() {
    let mut c = controller(vec![1, 2], true);
    let mut out = Out::new(false);
    beat(&mut c, at(8000), &[1], &mut out);
    c.on_wake(at(9001), &mut out); // 2 leaves the ISR
    register(&mut c, 2, at(10_000), &mut out);
    c.on_wake(at(17_001), &mut out); // 1 fenced with ISR {1}
    let s = state(&c);
    assert_eq!((s.leader, s.isr.clone()), (Some(2), vec![2]));
}

/// AlterPartition is committed only with current epochs; each commit bumps the partition
/// epoch, never the leader epoch.
#[test]
fn isr_changes_need_current_epochs() {
    let mut c = controller(vec![1, 2, 3], false);
    let mut out = Out::new(false);
    let shrink = |pe| Message::AlterPartition {
        broker: 1,
        correlation: 0,
        partitions: vec![IsrProposal {
            tp: TP,
            leader_epoch: 0,
            partition_epoch: pe,
            isr: vec![1, 2],
        }],
    };
    c.on_message(at(1), shrink(0), &mut out);
    let s = state(&c);
    assert_eq!(
        (s.isr.clone(), s.partition_epoch, s.leader_epoch),
        (vec![1, 2], 1, 0)
    );
    out.sends.clear();
    c.on_message(at(2), shrink(0), &mut out);
    assert!(out.sends.iter().any(|(_, m)| matches!(
        m,
        Message::AlterPartitionResponse { partitions, .. }
            if partitions[..] == [(TP, Err(ErrorCode::InvalidUpdateVersion))]
    )));
}

/// Controlled shutdown moves leadership away before the broker stops.
#[test]
fn controlled_shutdown_moves_leadership_first() {
    let mut c = controller(vec![1, 2, 3], false);
    let mut out = Out::new(false);
    c.on_message(at(1), Message::ShutdownRequest { broker: 1 }, &mut out);
    let s = state(&c);
    assert_eq!(
        (s.leader, s.isr.clone(), s.leader_epoch),
        (Some(2), vec![2, 3], 1)
    );
    let last = out.sends.last().map(|(to, m)| (*to, m.describe()));
    assert_eq!(
        last,
        Some((NodeId(0), "ShutdownAllowed".to_string())),
        "after the metadata"
    );
}

/// Found by the property tests: partitions added while the broker the placement starts from is
/// shut down had it as their only replica, no leader and an empty ISR. Kafka 4.0 places new
/// partitions on usable brokers, never with a fenced leader (`ReplicationControlManager.
/// createPartitions`, `StripedReplicaPlacer`), and refuses a replication factor they cannot meet.
#[test]
fn added_partitions_go_to_active_brokers_only() {
    let topics = [TopicPolicy {
        assignment: vec![vec![2]],
        unclean_leader_election: false,
    }];
    let mut c = Controller::new(Addresses::new(2), &topics, &config(""));
    let mut out = Out::new(true);
    c.on_message(at(1), Message::ShutdownRequest { broker: 2 }, &mut out);
    c.add_partitions(0, 3, at(2), &mut out);
    for p in 1..3 {
        let s = c
            .metadata()
            .partition(Tp {
                topic: 0,
                partition: p,
            })
            .cloned()
            .expect("added");
        assert!(s.leader.is_some_and(|l| l != 2), "{s:?}");
        assert_eq!(s.isr, s.replicas, "{s:?}");
    }
    let mut all_gone = controller(vec![1, 2], false);
    all_gone.on_message(at(1), Message::ShutdownRequest { broker: 1 }, &mut out);
    all_gone.on_message(at(1), Message::ShutdownRequest { broker: 2 }, &mut out);
    all_gone.add_partitions(0, 2, at(2), &mut out);
    assert_eq!(all_gone.metadata().partition_count(0), 1);
    assert!(matches!(
        out.events.last(),
        Some(Event::PartitionsRefused { why, .. }) if why == "All brokers are currently fenced."
    ));
}

/// Broker 3, the preferred leader of [3,1,2], is fenced at 9.001 s; it comes back and rejoins
/// the ISR by 11 s. Returns the controller with broker 1 leading.
fn failover_then_rejoin(out: &mut O) -> Controller {
    let mut c = controller(vec![3, 1, 2], false);
    beat(&mut c, at(8000), &[1, 2], out);
    c.on_wake(at(9001), out);
    assert_eq!(state(&c).leader, Some(1));
    register(&mut c, 3, at(10_000), out);
    rejoin_isr(&mut c, 3, at(11_000), out);
    c
}

/// The leader's `AlterPartition` adding `broker` back to the ISR.
fn rejoin_isr(c: &mut Controller, broker: BrokerId, t: SimTime, out: &mut O) {
    let s = state(c);
    let mut isr = s.isr.clone();
    isr.push(broker);
    c.on_message(
        t,
        Message::AlterPartition {
            broker: s.leader.unwrap_or(0),
            correlation: 0,
            partitions: vec![IsrProposal {
                tp: TP,
                leader_epoch: s.leader_epoch,
                partition_epoch: s.partition_epoch,
                isr,
            }],
        },
        out,
    );
}

/// `QuorumController.maybeScheduleNextBalancePartitionLeaders` (`ImbalanceSchedule.DEFERRED`):
/// the preferred replica leads again `leader.imbalance.check.interval.seconds` (300 s) after the
/// write that made the partition imbalanced (the fencing at 9.001 s), not on a 300 s grid from
/// startup; each change bumps the leader epoch by one.
#[test]
fn the_preferred_replica_leads_again_a_full_interval_after_the_failover() {
    let mut out = Out::new(false);
    let mut c = failover_then_rejoin(&mut out);
    beat(&mut c, at(300_000), &[1, 2, 3], &mut out);
    assert_eq!(state(&c).leader, Some(1), "no check on a grid from time 0");
    beat(&mut c, at(309_000), &[1, 2, 3], &mut out);
    assert_eq!(state(&c).leader, Some(1), "not before 300 s after the failover");
    c.on_wake(at(309_001), &mut out);
    let s = state(&c);
    assert_eq!((s.leader, s.leader_epoch), (Some(3), 2));
}

/// A run that finds the preferred replica out of the ISR elects nothing; being itself a write
/// that leaves the partition imbalanced, it schedules the next run a full interval later.
#[test]
fn a_run_that_cannot_elect_waits_another_full_interval() {
    let mut c = controller(vec![3, 1, 2], false);
    let mut out = Out::new(false);
    beat(&mut c, at(8000), &[1, 2], &mut out);
    c.on_wake(at(9001), &mut out);
    register(&mut c, 3, at(10_000), &mut out);
    beat(&mut c, at(309_001), &[1, 2, 3], &mut out);
    assert_eq!(state(&c).leader, Some(1), "3 is not in the ISR yet");
    rejoin_isr(&mut c, 3, at(310_000), &mut out);
    beat(&mut c, at(609_000), &[1, 2, 3], &mut out);
    assert_eq!(state(&c).leader, Some(1));
    c.on_wake(at(609_001), &mut out);
    assert_eq!(state(&c).leader, Some(3));
}

/// `ReplicationControlManager.maybeBalancePartitionLeaders`: at most
/// `MAX_ELECTIONS_PER_IMBALANCE` (1000) elections per run; a run that used them all is followed
/// by another 10 ms later (`ImbalanceSchedule.IMMEDIATELY`).
#[test]
fn a_run_elects_at_most_1000_leaders_and_the_rest_follow_10ms_later() {
    let partitions = MAX_ELECTIONS_PER_IMBALANCE + 1;
    let topics = [TopicPolicy {
        assignment: vec![vec![2, 1]; partitions],
        unclean_leader_election: false,
    }];
    let mut c = Controller::new(Addresses::new(2), &topics, &config(""));
    let mut out = Out::new(false);
    beat(&mut c, at(8000), &[1], &mut out);
    c.on_wake(at(9001), &mut out); // 2 fenced: broker 1 leads everything
    register(&mut c, 2, at(10_000), &mut out);
    for p in 0..partitions {
        let tp = Tp {
            topic: 0,
            partition: p as u32,
        };
        let s = c.metadata().partition(tp).cloned().expect("exists");
        let msg = Message::AlterPartition {
            broker: 1,
            correlation: 0,
            partitions: vec![IsrProposal {
                tp,
                leader_epoch: s.leader_epoch,
                partition_epoch: s.partition_epoch,
                isr: vec![1, 2],
            }],
        };
        c.on_message(at(11_000), msg, &mut out);
    }
    let led_by_2 = |c: &Controller| {
        c.metadata().topics[0]
            .iter()
            .filter(|p| p.leader == Some(2))
            .count()
    };
    beat(&mut c, at(309_001), &[1, 2], &mut out);
    assert_eq!(led_by_2(&c), MAX_ELECTIONS_PER_IMBALANCE);
    c.on_wake(at(309_010), &mut out);
    assert_eq!(led_by_2(&c), MAX_ELECTIONS_PER_IMBALANCE);
    c.on_wake(at(309_011), &mut out);
    assert_eq!(led_by_2(&c), partitions);
}

/// `auto.leader.rebalance.enable=false`: the failover leader stays.
#[test]
fn without_auto_rebalance_the_failover_leader_stays() {
    let topics = [TopicPolicy {
        assignment: vec![vec![3, 1, 2]],
        unclean_leader_election: false,
    }];
    let cfg = config(r#""auto.leader.rebalance.enable": false"#);
    let mut c = Controller::new(Addresses::new(3), &topics, &cfg);
    let mut out = Out::new(false);
    beat(&mut c, at(8000), &[1, 2], &mut out);
    c.on_wake(at(9001), &mut out);
    register(&mut c, 3, at(10_000), &mut out);
    rejoin_isr(&mut c, 3, at(11_000), &mut out);
    beat(&mut c, at(900_000), &[1, 2, 3], &mut out);
    assert_eq!(state(&c).leader, Some(1));
}

/// What a scan of every partition finds imbalanced: led by another broker than its first
/// replica, or by none (`arePartitionLeadersImbalanced` before `imbalancedPartitions`).
fn imbalanced_by_scan(c: &Controller) -> BTreeSet<Tp> {
    let md = c.metadata();
    (0..md.topics.len())
        .flat_map(|t| (0..md.topics[t].len()).map(move |p| tp(t, p)))
        .filter(|tp| {
            md.partition(*tp)
                .is_some_and(|s| s.leader != s.replicas.first().copied())
        })
        .collect()
}

/// `ReplicationControlManager.imbalancedPartitions` follows every leader change — a failover,
/// a leaderless partition, an unfencing, a balance run, a controlled shutdown, added
/// partitions — so that the balance check after each event needs no scan of every partition.
#[test]
fn the_imbalanced_set_follows_every_leader_change() {
    let topics = [TopicPolicy {
        assignment: vec![vec![3, 1, 2], vec![1, 2, 3], vec![2], vec![3]],
        unclean_leader_election: false,
    }];
    let mut c = Controller::new(Addresses::new(3), &topics, &config(""));
    let mut out = Out::new(false);
    let mut seen = Vec::new();
    let mut step = |c: &Controller| {
        assert_eq!(c.imbalanced, imbalanced_by_scan(c));
        seen.push(c.imbalanced.len());
    };
    step(&c);
    beat(&mut c, at(8000), &[1, 2], &mut out);
    c.on_wake(at(9001), &mut out); // 3 fenced: partition 0 fails over, partition 3 is leaderless
    step(&c);
    register(&mut c, 3, at(10_000), &mut out); // 3 leads partition 3 again
    step(&c);
    rejoin_isr(&mut c, 3, at(11_000), &mut out);
    beat(&mut c, at(309_001), &[1, 2, 3], &mut out); // the balance run
    step(&c);
    c.on_message(at(310_000), Message::ShutdownRequest { broker: 1 }, &mut out);
    step(&c);
    // With broker 1 shutting down, two active brokers cannot hold a third replica: the new
    // partitions are refused (`ReplicationControlManager.createPartitions`), the set unchanged.
    c.add_partitions(0, 6, at(311_000), &mut out);
    step(&c);
    assert_eq!(c.metadata().partition_count(0), 4);
    assert_eq!(seen, [0, 2, 1, 0, 1, 1], "the steps change the set");
}

use crate::sim::{NodeId, SimDuration};

/// `ClusterControlManager.registerBroker`: a restarted broker (a heartbeat with no metadata yet)
/// is refused while its old session is valid, and gets no metadata meanwhile; once the old
/// incarnation is fenced its registration goes through and it is unfenced.
#[test]
fn a_new_incarnation_waits_for_the_old_session_to_expire() {
    let mut c = controller(vec![1, 2], false);
    let mut out = Out::new(true);
    register(&mut c, 1, at(1000), &mut out);
    assert!(matches!(
        out.events.last(),
        Some(Event::RegistrationRefused { broker: 1 })
    ));
    assert_eq!(
        answers(&mut out),
        [(c.addr.broker(1), Err(ErrorCode::DuplicateBrokerRegistration))],
        "no metadata for a refused broker, only the error (it backs off and retries)"
    );
    // Broker 2's session is kept alive; broker 1's (last heartbeat at 0) expires at 9 s.
    beat(&mut c, at(8000), &[2], &mut out);
    out.sends.clear();
    c.on_wake(at(9001), &mut out);
    assert_eq!(state(&c).leader, Some(2));
    assert!(
        out.sends.iter().all(|(to, _)| *to != c.addr.broker(1)),
        "the refused broker still gets no metadata"
    );
    register(&mut c, 1, at(10_000), &mut out);
    assert!(matches!(
        out.events.last(),
        Some(Event::BrokerUnfenced { broker: 1 })
    ));
    assert!(
        out.sends
            .iter()
            .any(|(to, m)| *to == c.addr.broker(1) && matches!(m, Message::MetadataUpdate { .. }))
    );
    assert_eq!(c.metadata().live_brokers, vec![1, 2]);
}

fn partition(leader: Option<BrokerId>, replicas: &[BrokerId], isr: &[BrokerId]) -> PartitionState {
    PartitionState {
        leader,
        leader_epoch: 1,
        partition_epoch: 1,
        replicas: replicas.to_vec(),
        isr: isr.to_vec(),
    }
}

/// Who may lead a partition without a running leader (`ReplicationControlManager.
/// generateLeaderAndIsrUpdates` + `PartitionChangeBuilder.electAnyLeader`, ELR off): the
/// checkers judge an acknowledged record on an offline partition by these replicas' disks.
#[test]
fn the_successors_of_a_gone_leader_are_those_the_next_election_may_pick() {
    let up = |list: &'static [BrokerId]| move |b: BrokerId| list.contains(&b);
    // Leader 1 crashed, not yet fenced: fencing drops it from the ISR and elects the first
    // running ISR member in assignment order (3 before 2 here).
    let p = partition(Some(1), &[1, 3, 2], &[1, 2, 3]);
    assert_eq!(successors(&p, up(&[2, 3]), false), [3]);
    // Offline with the last ISR member kept: it alone, running (fenced, coming back) or not.
    let p = partition(None, &[1, 2, 3], &[1]);
    assert_eq!(successors(&p, up(&[2, 3]), false), [1]);
    assert_eq!(successors(&p, up(&[1, 2, 3]), false), [1]);
    // Unclean election on and the ISR member down: the first running replica is forced in...
    assert_eq!(successors(&p, up(&[3, 2]), true), [2]);
    // ... and with nothing running, whichever replica returns first.
    assert_eq!(successors(&p, up(&[]), true), [1, 2, 3]);
    // The last ISR member was the leader and is down: it stays in the ISR and waits for it.
    let p = partition(Some(2), &[1, 2, 3], &[2]);
    assert_eq!(successors(&p, up(&[1, 3]), false), [2]);
    // Two ISR members, both down: the first to return leads.
    let p = partition(Some(1), &[1, 2, 3], &[1, 2]);
    assert_eq!(successors(&p, up(&[3]), false), [2]);
    let p = partition(None, &[1, 2, 3], &[1, 2]);
    assert_eq!(successors(&p, up(&[3]), false), [1, 2]);
}

/// The heartbeat answers the controller sent: (to, result).
fn answers(out: &mut O) -> Vec<(NodeId, Result<(), ErrorCode>)> {
    std::mem::take(&mut out.sends)
        .into_iter()
        .filter_map(|(to, m)| match m {
            Message::HeartbeatResponse { result, .. } => Some((to, result)),
            _ => None,
        })
        .collect()
}

/// `BrokerHeartbeatManager.hasValidSession` (`lastContactNs + sessionTimeoutNs >= now`): a broker
/// last heard from at 0 is still alive at exactly 9 s and fenced the tick after, when
/// `nextCheckTimeNs` wakes the controller. A heartbeat arriving at the last valid instant keeps
/// the broker in: kafkasim used to fence at `now >= last + session`.
#[test]
fn a_session_is_valid_at_its_last_instant_and_fenced_the_tick_after() {
    let mut c = controller(vec![1, 2], false);
    let mut out = Out::new(true);
    c.on_start(at(0), &mut out);
    beat(&mut c, at(9000), &[2], &mut out);
    assert_eq!(c.metadata().live_brokers, vec![1, 2], "valid at 9 s exactly");
    assert_eq!(answers(&mut out), [(c.addr.broker(2), Ok(()))]);
    c.on_wake(at(9000) + SimDuration::from_us(1), &mut out);
    assert_eq!(c.metadata().live_brokers, vec![2]);
    let mut next = Out::new(false);
    c.schedule(at(9001), &mut next);
    assert_eq!(
        next.take_wake(),
        Some(at(18_000) + SimDuration::from_us(1)),
        "the next check: broker 2's session ends the tick after 18 s"
    );
}

/// `ReplicationControlManager.maybeFenceOneStaleBroker`: stale brokers are fenced one at a time,
/// the one heard from longest ago first.
#[test]
fn stale_brokers_are_fenced_oldest_contact_first() {
    let mut c = controller(vec![1, 2, 3], false);
    let mut out = Out::new(true);
    beat(&mut c, at(500), &[3], &mut out);
    beat(&mut c, at(1000), &[2], &mut out);
    beat(&mut c, at(20_000), &[1], &mut out);
    let fenced: Vec<BrokerId> = out
        .events
        .iter()
        .filter_map(|e| match e {
            Event::BrokerFenced { broker, .. } => Some(*broker),
            _ => None,
        })
        .collect();
    assert_eq!(fenced, [3, 2]);
}

/// `ClusterControlManager.registerBroker` refuses only while `hasValidSession`: a registration
/// that arrives after the old session's last valid instant, before the fencing event has run, is
/// accepted; the old incarnation is fenced first (its leaderships move), then the new one is
/// unfenced.
#[test]
fn a_registration_just_after_the_session_ended_fences_the_old_incarnation_first() {
    let mut c = controller(vec![1, 2], false);
    let mut out = Out::new(true);
    beat(&mut c, at(8000), &[2], &mut out);
    out.events.clear();
    register(&mut c, 1, at(9000) + SimDuration::from_us(1), &mut out);
    let kinds: Vec<&str> = out
        .events
        .iter()
        .filter_map(|e| match e {
            Event::BrokerFenced { broker: 1, .. } => Some("fenced"),
            Event::BrokerUnfenced { broker: 1 } => Some("unfenced"),
            Event::RegistrationRefused { .. } => Some("refused"),
            _ => None,
        })
        .collect();
    assert_eq!(kinds, ["fenced", "unfenced"]);
    let s = state(&c);
    assert_eq!(
        (s.leader, s.leader_epoch),
        (Some(2), 1),
        "the leadership moved at the fence"
    );
}

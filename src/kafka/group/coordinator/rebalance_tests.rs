//! Join-phase timings and static members, each pinned to `GroupMetadataManager` / `ClassicGroup`
//! (Kafka 4.0, group-coordinator/src/main/java/org/apache/kafka/coordinator/group/).

use super::tests::{answers, coordinator, join_req, joined, t};
use super::*;
use crate::kafka::group::assignor::java::string_map_order;

const C1: NodeId = NodeId(10);
const C2: NodeId = NodeId(11);
const C3: NodeId = NodeId(12);

/// A `JoinGroup` with its own session and rebalance timeouts.
fn join_with(
    client: &str,
    member: &str,
    instance: Option<&str>,
    session_ms: u64,
    rebalance_ms: u64,
) -> JoinGroupRequest {
    JoinGroupRequest {
        session_timeout_ms: session_ms,
        rebalance_timeout_ms: rebalance_ms,
        ..join_req(client, member, instance)
    }
}

/// The member id the last answer in `out`, a `MEMBER_ID_REQUIRED`, hands out.
fn required_id(out: &mut O) -> Arc<str> {
    match answers(out).pop() {
        Some((_, _, GroupResponse::JoinGroup(Err(e)))) if e.error == ErrorCode::MemberIdRequired => {
            e.member_id.expect("an id")
        }
        other => panic!("not MEMBER_ID_REQUIRED: {other:?}"),
    }
}

/// The successful `JoinGroup` answers in `out`.
fn join_answers(out: &mut O) -> Vec<JoinGroupResponse> {
    answers(out)
        .into_iter()
        .filter_map(|(_, _, a)| match a {
            GroupResponse::JoinGroup(Ok(j)) => Some(j),
            _ => None,
        })
        .collect()
}

/// A dynamic member joins with the id it is given: its id.
fn join_dynamic(
    g: &mut GroupCoordinator,
    now: SimTime,
    node: NodeId,
    req: JoinGroupRequest,
    out: &mut O,
) -> Arc<str> {
    g.join(now, node, 1, req.clone(), out);
    let id = required_id(out);
    g.join(
        now,
        node,
        2,
        JoinGroupRequest {
            member_id: id.clone(),
            ..req
        },
        out,
    );
    id
}

fn sync_req(member: &Arc<str>, generation: i32, assignments: Vec<(Arc<str>, Vec<Tp>)>) -> SyncGroupRequest {
    SyncGroupRequest {
        group: Arc::from("g"),
        generation,
        member_id: member.clone(),
        assignments,
    }
}

fn tp(partition: u32) -> Tp {
    Tp { topic: 0, partition }
}

fn state(g: &GroupCoordinator) -> (GroupState, i32) {
    let group = g.group("g").expect("group");
    (group.state(), group.generation())
}

/// `prepareRebalance`: an initial rebalance waits `group.initial.rebalance.delay.ms` (3 s) even
/// when the rebalance timeout (here 1 s) is shorter; kafkasim used to cap the delay at it.
#[test]
fn the_initial_delay_is_not_capped_by_the_rebalance_timeout() {
    let mut g = coordinator(3000);
    let mut out = Out::new(true);
    join_dynamic(
        &mut g,
        t(0),
        C1,
        join_with("c1", "", None, 10_000, 1000),
        &mut out,
    );
    g.on_wake(t(1000), &mut out);
    assert!(answers(&mut out).is_empty(), "not at the rebalance timeout");
    assert_eq!(g.next_deadline(), Some(t(3000)));
    g.on_wake(t(2999), &mut out);
    assert!(answers(&mut out).is_empty());
    g.on_wake(t(3000), &mut out);
    let a = answers(&mut out);
    assert_eq!(joined(&a[0].2).generation, 1);
}

/// `tryCompleteInitialRebalanceElseSchedule(delayMs, remainingMs)`: each new member extends the
/// initial rebalance by `min(delay, remaining)`, with `remaining` starting at the rebalance
/// timeout minus the delay and shrinking by the previous delay: with a 3 s delay and a 10 s
/// timeout, the timer fires at 3, 6, 9 and 10 s, and then the join phase ends.
#[test]
fn initial_extensions_are_bounded_by_the_rebalance_timeout_minus_the_delay() {
    let mut g = coordinator(3000);
    let mut out = Out::new(true);
    let req = |c: &str| join_with(c, "", None, 10_000, 10_000);
    join_dynamic(&mut g, t(0), C1, req("c1"), &mut out);
    // (a new member joins at, the timer then fires at)
    let steps = [(1000, 3000), (4000, 6000), (7000, 9000)];
    for (i, (at, fires)) in steps.into_iter().enumerate() {
        join_dynamic(&mut g, t(at), NodeId(20 + i as u32), req("c"), &mut out);
        assert_eq!(g.next_deadline(), Some(t(fires)));
        g.on_wake(t(fires), &mut out);
    }
    join_dynamic(&mut g, t(9500), NodeId(30), req("c5"), &mut out);
    assert!(join_answers(&mut out).is_empty(), "still joining at 9.5 s");
    assert_eq!(g.next_deadline(), Some(t(10_000)));
    g.on_wake(t(10_000), &mut out);
    assert_eq!(
        join_answers(&mut out).len(),
        5,
        "everyone answered at the rebalance timeout"
    );
    assert_eq!(state(&g), (GroupState::CompletingRebalance, 1));
}

/// `classicGroupJoinNewStaticMember`: a new static member is added at once, without the
/// `MEMBER_ID_REQUIRED` round trip of a dynamic one (KIP-394 applies to dynamic members).
#[test]
fn a_new_static_member_joins_without_member_id_required() {
    let mut g = coordinator(100);
    let mut out = Out::new(true);
    g.join(t(0), C2, 1, join_req("c2", "", Some("i2")), &mut out);
    assert!(answers(&mut out).is_empty(), "parked in the join phase");
    g.on_wake(t(100), &mut out);
    let a = answers(&mut out);
    let j = joined(&a[0].2);
    assert!(j.member_id.starts_with("i2-"), "{}", j.member_id);
    assert_eq!((j.generation, j.leader.clone()), (1, j.member_id.clone()));
}

/// c1 (dynamic, the leader) and static member i2 in generation 1, i2 owning partition 3. Every
/// member rebalances within 20 s; i2's session is 45 s. Returns (coordinator, c1, i2).
fn leader_and_static_member(out: &mut O) -> (GroupCoordinator, Arc<str>, Arc<str>) {
    let mut g = coordinator(100);
    let c1 = join_dynamic(&mut g, t(0), C1, join_with("c1", "", None, 10_000, 20_000), out);
    g.join(t(1), C2, 1, join_with("c2", "", Some("i2"), 45_000, 20_000), out);
    g.on_wake(t(100), out);
    g.on_wake(t(200), out);
    let a = answers(out);
    let i2 = a
        .iter()
        .map(|(_, _, r)| joined(r).member_id.clone())
        .find(|m| m.starts_with("i2-"))
        .expect("i2 answered");
    let parts = vec![(c1.clone(), vec![tp(0)]), (i2.clone(), vec![tp(3)])];
    g.sync(t(202), C1, 3, sync_req(&c1, 1, parts), out);
    g.sync(t(202), C2, 2, sync_req(&i2, 1, Vec::new()), out);
    answers(out);
    assert_eq!(state(&g), (GroupState::Stable, 1));
    (g, c1, i2)
}

/// `completeClassicGroupJoin` removes only `notYetRejoinedDynamicMembers`: i2, down when c3's
/// arrival starts a rebalance, is still a member of generation 2 with its old subscription, in
/// the leader's list. kafkasim used to remove it, moving its partitions (KIP-345 defeated).
#[test]
fn a_static_member_that_misses_the_join_deadline_stays_in_the_next_generation() {
    let mut out = Out::new(true);
    let (mut g, c1, i2) = leader_and_static_member(&mut out);
    let c3 = join_dynamic(
        &mut g,
        t(1000),
        C3,
        join_with("c3", "", None, 10_000, 20_000),
        &mut out,
    );
    g.join(
        t(1100),
        C1,
        4,
        join_with("c1", &c1, None, 10_000, 20_000),
        &mut out,
    );
    assert_eq!(g.next_deadline(), Some(t(21_000)), "the rebalance timeout");
    g.on_wake(t(21_000), &mut out);
    assert_eq!(state(&g), (GroupState::CompletingRebalance, 2));
    let a = answers(&mut out);
    assert_eq!(a.len(), 2, "c1 and c3 are answered, i2 is not there to be");
    let leader_view = a
        .iter()
        .map(|(_, _, r)| joined(r))
        .find(|j| j.member_id == c1)
        .expect("c1's answer");
    assert_eq!(leader_view.leader, c1);
    let listed: Vec<&Arc<str>> = leader_view.members.iter().map(|m| &m.member_id).collect();
    assert_eq!(listed.len(), 3);
    assert!(listed.contains(&&i2) && listed.contains(&&c3));
}

/// KIP-345 follow-through: i2 comes back (a new process, no member id) while the group is
/// Stable in generation 2: it takes over its membership under a new id with no rebalance
/// (`updateStaticMemberThenRebalanceOrCompleteJoin`) and syncs the partition the leader gave its
/// old id. Its old id never synced, and `replaceStaticMember` does not carry that over: at the
/// sync deadline (`expirePendingSync`) the group rebalances all the same.
#[test]
fn the_late_static_member_comes_back_to_its_assignment_without_a_rebalance() {
    let mut out = Out::new(true);
    let (mut g, c1, i2) = leader_and_static_member(&mut out);
    // Sessions long enough for c1 and c3 to outlive the test without heartbeats.
    let c3 = join_dynamic(
        &mut g,
        t(1000),
        C3,
        join_with("c3", "", None, 30_000, 20_000),
        &mut out,
    );
    g.join(
        t(1100),
        C1,
        4,
        join_with("c1", &c1, None, 30_000, 20_000),
        &mut out,
    );
    g.on_wake(t(21_000), &mut out);
    answers(&mut out);
    let parts = vec![
        (c1.clone(), vec![tp(0)]),
        (i2.clone(), vec![tp(3)]),
        (c3.clone(), vec![tp(1)]),
    ];
    g.sync(t(21_001), C1, 5, sync_req(&c1, 2, parts), &mut out);
    g.sync(t(21_001), C3, 3, sync_req(&c3, 2, Vec::new()), &mut out);
    assert_eq!(state(&g), (GroupState::Stable, 2));
    answers(&mut out);
    // i2 restarts at 30 s, within its session (45 s from the completion at 21 s).
    g.join(
        t(30_000),
        NodeId(13),
        1,
        join_with("c2", "", Some("i2"), 45_000, 20_000),
        &mut out,
    );
    let a = answers(&mut out);
    let j = joined(&a[0].2);
    assert_eq!(j.generation, 2, "no new generation");
    assert!(!j.skip_assignment && j.members.is_empty(), "a follower");
    assert_ne!(j.member_id, i2);
    assert_eq!(state(&g), (GroupState::Stable, 2));
    g.sync(
        t(30_001),
        NodeId(13),
        2,
        sync_req(&j.member_id, 2, Vec::new()),
        &mut out,
    );
    let a = answers(&mut out);
    assert!(matches!(&a[0].2, GroupResponse::SyncGroup(Ok(p)) if *p == [tp(3)]));
    g.on_wake(t(40_999), &mut out);
    assert_eq!(state(&g), (GroupState::Stable, 2));
    g.on_wake(t(41_000), &mut out);
    assert_eq!(
        state(&g),
        (GroupState::PreparingRebalance, 2),
        "the old id is still pending sync"
    );
}

/// `ClassicGroup.maybeElectNewJoinedLeader`: a static leader that did not rejoin stays a member,
/// and the first rejoined member in the members map's order (a Java `HashMap` of member ids)
/// leads the new generation.
#[test]
fn a_static_leader_that_misses_the_deadline_hands_over_to_a_rejoined_member() {
    let mut g = coordinator(100);
    let mut out = Out::new(true);
    g.join(
        t(0),
        C1,
        1,
        join_with("c1", "", Some("i1"), 45_000, 20_000),
        &mut out,
    );
    let c2 = join_dynamic(
        &mut g,
        t(1),
        C2,
        join_with("c2", "", None, 10_000, 20_000),
        &mut out,
    );
    g.on_wake(t(100), &mut out);
    g.on_wake(t(200), &mut out);
    let a = answers(&mut out);
    let i1 = a
        .iter()
        .map(|(_, _, r)| joined(r))
        .find(|j| j.member_id.starts_with("i1-"))
        .map(|j| j.member_id.clone())
        .expect("i1 answered");
    assert_eq!(joined(&a[0].2).leader, i1, "the first member added leads");
    g.sync(t(202), C1, 2, sync_req(&i1, 1, Vec::new()), &mut out);
    g.sync(t(202), C2, 3, sync_req(&c2, 1, Vec::new()), &mut out);
    let c3 = join_dynamic(
        &mut g,
        t(1000),
        C3,
        join_with("c3", "", None, 10_000, 20_000),
        &mut out,
    );
    g.join(
        t(1100),
        C2,
        4,
        join_with("c2", &c2, None, 10_000, 20_000),
        &mut out,
    );
    g.on_wake(t(21_000), &mut out);
    let a = answers(&mut out);
    let first = string_map_order(&[c2.as_ref(), c3.as_ref()])[0];
    let expected = [&c2, &c3][first];
    for (_, _, r) in &a {
        assert_eq!(&joined(r).leader, expected);
    }
    let leader_view = a
        .iter()
        .map(|(_, _, r)| joined(r))
        .find(|j| &j.member_id == expected)
        .expect("the leader's answer");
    assert!(leader_view.members.iter().any(|m| m.member_id == i1), "i1 stays");
}

/// `completeClassicGroupJoin`: when no member rejoined (only static members that did not are
/// left), the join phase waits another rebalance timeout instead of starting a generation.
#[test]
fn with_only_absent_static_members_the_join_phase_waits_another_rebalance_timeout() {
    let mut g = coordinator(100);
    let mut out = Out::new(true);
    g.join(
        t(0),
        C1,
        1,
        join_with("c1", "", Some("i1"), 45_000, 20_000),
        &mut out,
    );
    g.join(
        t(1),
        C2,
        1,
        join_with("c2", "", Some("i2"), 45_000, 20_000),
        &mut out,
    );
    g.on_wake(t(100), &mut out);
    g.on_wake(t(200), &mut out);
    let ids: Vec<Arc<str>> = answers(&mut out)
        .iter()
        .map(|(_, _, r)| joined(r).member_id.clone())
        .collect();
    for (node, id) in [(C1, &ids[0]), (C2, &ids[1])] {
        g.sync(t(202), node, 2, sync_req(id, 1, Vec::new()), &mut out);
    }
    // c3 joins (a rebalance) and leaves again; i1 and i2 do not rejoin.
    let c3 = join_dynamic(
        &mut g,
        t(1000),
        C3,
        join_with("c3", "", None, 10_000, 20_000),
        &mut out,
    );
    g.leave(
        t(2000),
        C3,
        3,
        MemberRef {
            group: Arc::from("g"),
            generation: -1,
            member_id: c3,
        },
        &mut out,
    );
    g.on_wake(t(21_000), &mut out);
    assert_eq!(state(&g), (GroupState::PreparingRebalance, 1));
    assert_eq!(g.next_deadline(), Some(t(41_000)));
    let i1 = ids.iter().find(|m| m.starts_with("i1-")).expect("i1");
    g.join(
        t(30_000),
        C1,
        5,
        join_with("c1", i1, Some("i1"), 45_000, 20_000),
        &mut out,
    );
    g.on_wake(t(41_000), &mut out);
    assert_eq!(state(&g), (GroupState::CompletingRebalance, 2));
}

/// `updateStaticMemberThenRebalanceOrCompleteJoin` in Stable: no rebalance while the group's
/// selected protocol stays the same, even with a new subscription; a static leader is answered
/// with every member and `skipAssignment` (KIP-814). kafkasim used to rebalance on any change.
#[test]
fn a_static_leader_rejoining_a_stable_group_keeps_the_generation_and_skips_the_assignment() {
    let mut g = coordinator(100);
    let mut out = Out::new(true);
    g.join(t(0), C1, 1, join_req("c1", "", Some("i1")), &mut out);
    g.on_wake(t(100), &mut out);
    let a = answers(&mut out);
    let i1 = joined(&a[0].2).member_id.clone();
    g.sync(
        t(101),
        C1,
        2,
        sync_req(&i1, 1, vec![(i1.clone(), vec![tp(0)])]),
        &mut out,
    );
    answers(&mut out);
    let mut again = join_req("c1", "", Some("i1"));
    again.subscription.topics = vec![0, 1];
    g.join(t(5000), NodeId(14), 1, again, &mut out);
    let a = answers(&mut out);
    let j = joined(&a[0].2);
    assert_eq!((j.generation, j.skip_assignment), (1, true));
    assert_eq!(j.leader, j.member_id);
    assert_eq!(j.members.len(), 1);
    assert_eq!(j.members[0].subscription.topics, [0, 1]);
    assert_eq!(state(&g), (GroupState::Stable, 1));
}

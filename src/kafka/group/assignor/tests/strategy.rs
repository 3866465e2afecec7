//! Strategy names, member order and the public helpers.

use super::{counts, member, run, tps};
use crate::kafka::group::assignor::{Strategy, member_order};

#[test]
fn strategies_parse_by_kafka_name_and_class_name() {
    for s in Strategy::ALL {
        assert_eq!(s.name().parse::<Strategy>(), Ok(s));
        assert_eq!(s.class_name().parse::<Strategy>(), Ok(s));
        assert_eq!(s.to_string(), s.name());
    }
}

#[test]
fn a_misspelt_strategy_gets_a_suggestion() {
    let e = "rnage".parse::<Strategy>().expect_err("not a strategy");
    assert_eq!(e.to_string(), "unknown assignment strategy `rnage`");
    assert_eq!(e.help(), "did you mean `range`?");
    let e = "cooperative".parse::<Strategy>().expect_err("not a strategy");
    assert_eq!(e.help(), "did you mean `cooperative-sticky`?");
    let e = "uniform".parse::<Strategy>().expect_err("not a classic strategy");
    assert_eq!(
        e.help(),
        "use one of: range, roundrobin, sticky, cooperative-sticky"
    );
}

/// §8.1: static members first by instance id, then dynamic members by member id (Java string
/// order: `consumer10` before `consumer2`).
#[test]
fn member_order_puts_static_members_first() {
    let members = [
        member("consumer2", "t"),
        member("consumer10", "t"),
        member("z", "t").with_instance_id("b"),
        member("a", "t").with_instance_id("c"),
        member("m", "t").with_instance_id("a"),
    ];
    assert_eq!(member_order(&members), vec![4, 2, 3, 1, 0]);
}

#[test]
fn revoked_partitions_are_owned_and_no_longer_assigned() {
    let topics = counts(&[("topic", 3)]);
    let members = [
        member("consumer1", "topic").owning(1, tps("topic-0 topic-1 topic-2")),
        member("consumer2", "topic").owning(1, Vec::new()),
    ];
    let a = run(Strategy::CooperativeSticky, &topics, &members);
    assert_eq!(a.revoked(&members[0]), tps("topic-2"));
    assert_eq!(a.revoked(&members[1]), Vec::new());
}

#[test]
fn an_empty_group_gets_an_empty_assignment() {
    for s in Strategy::ALL {
        let a = run(s, &counts(&[("topic", 3)]), &[]);
        assert!(a.members.is_empty() && a.transferring.is_empty(), "{s}");
    }
}

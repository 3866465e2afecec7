//! `roundrobin` against the vectors of Kafka's `RoundRobinAssignorTest` and the class javadoc
//! (RR1-RR6 as numbered in reference/broker-and-groups.md §8.6). Lists are exact.

use super::{assert_lists, counts, member, run};
use crate::kafka::group::assignor::Strategy::RoundRobin;

/// `testOneConsumerNoTopic`, `testOneConsumerNonexistentTopic`, `testOneConsumerOneTopic`,
/// `testOnlyAssignsPartitionsFromSubscribedTopics`, `testOneConsumerMultipleTopics`,
/// `testTwoConsumersOneTopicOnePartition`, `testTwoConsumersOneTopicTwoPartitions`.
#[test]
fn small_groups() {
    let a = run(RoundRobin, &counts(&[]), &[member("consumer", "")]);
    assert_lists(&a, &[("consumer", "")]);
    let one = [member("consumer", "topic")];
    assert_lists(&run(RoundRobin, &counts(&[]), &one), &[("consumer", "")]);
    let topics = counts(&[("topic", 3), ("other", 3)]);
    assert_lists(
        &run(RoundRobin, &topics, &one),
        &[("consumer", "topic-0 topic-1 topic-2")],
    );
    let both = [member("consumer", "topic1,topic2")];
    let a = run(RoundRobin, &counts(&[("topic1", 1), ("topic2", 2)]), &both);
    assert_lists(&a, &[("consumer", "topic1-0 topic2-0 topic2-1")]);
    let two = [member("consumer1", "topic"), member("consumer2", "topic")];
    let a = run(RoundRobin, &counts(&[("topic", 1)]), &two);
    assert_lists(&a, &[("consumer1", "topic-0"), ("consumer2", "")]);
    let a = run(RoundRobin, &counts(&[("topic", 2)]), &two);
    assert_lists(&a, &[("consumer1", "topic-0"), ("consumer2", "topic-1")]);
}

/// RR1: `testTwoDynamicConsumersTwoTopicsSixPartitions`.
#[test]
fn rr1_two_consumers_two_topics() {
    let members = [
        member("consumer1", "topic1,topic2"),
        member("consumer2", "topic1,topic2"),
    ];
    let a = run(RoundRobin, &counts(&[("topic1", 3), ("topic2", 3)]), &members);
    assert_lists(
        &a,
        &[
            ("consumer1", "topic1-0 topic1-2 topic2-1"),
            ("consumer2", "topic1-1 topic2-0 topic2-2"),
        ],
    );
}

/// RR2: `testMultipleConsumersMixedTopics`: the circle skips members not subscribed to a topic.
#[test]
fn rr2_mixed_topics() {
    let members = [
        member("consumer1", "topic1"),
        member("consumer2", "topic1,topic2"),
        member("consumer3", "topic1"),
    ];
    let a = run(RoundRobin, &counts(&[("topic1", 3), ("topic2", 2)]), &members);
    assert_lists(
        &a,
        &[
            ("consumer1", "topic1-0"),
            ("consumer2", "topic1-1 topic2-0 topic2-1"),
            ("consumer3", "topic1-2"),
        ],
    );
}

/// RR3: `testTwoStaticConsumersTwoTopicsSixPartitions` and
/// `testOneStaticConsumerAndOneDynamicConsumerTwoTopicsSixPartitions`.
#[test]
fn rr3_static_members_sort_by_instance_id() {
    let topics = counts(&[("topic1", 3), ("topic2", 3)]);
    let expected = [
        ("consumer-b", "topic1-0 topic1-2 topic2-1"),
        ("consumer-a", "topic1-1 topic2-0 topic2-2"),
    ];
    let both_static = [
        member("consumer-b", "topic1,topic2").with_instance_id("instance1"),
        member("consumer-a", "topic1,topic2").with_instance_id("instance2"),
    ];
    assert_lists(&run(RoundRobin, &topics, &both_static), &expected);
    let one_static = [
        member("consumer-b", "topic1,topic2").with_instance_id("instance1"),
        member("consumer-a", "topic1,topic2"),
    ];
    assert_lists(&run(RoundRobin, &topics, &one_static), &expected);
}

/// RR4: `testStaticMemberRoundRobinAssignmentPersistent`.
#[test]
fn rr4_static_members_keep_their_partitions() {
    let topics = counts(&[("topic1", 3), ("topic2", 3)]);
    for dynamic in ["consumer4", "consumer5"] {
        let mut members: Vec<_> = (1..=3)
            .map(|i| {
                member(&format!("consumer{i}"), "topic1,topic2").with_instance_id(&format!("instance{i}"))
            })
            .collect();
        members.push(member(dynamic, "topic1,topic2"));
        assert_lists(
            &run(RoundRobin, &topics, &members),
            &[
                ("consumer1", "topic1-0 topic2-1"),
                ("consumer2", "topic1-1 topic2-2"),
                ("consumer3", "topic1-2"),
                (dynamic, "topic2-0"),
            ],
        );
    }
}

/// RR5: `testStaticMemberRoundRobinAssignmentPersistentAfterMemberIdChanges`.
#[test]
fn rr5_static_members_keep_their_partitions_under_new_member_ids() {
    let topics = counts(&[("topic1", 5), ("topic2", 5)]);
    for ids in [
        ["consumer1", "consumer2", "consumer3"],
        ["consumer1", "consumer5", "consumer4"],
    ] {
        let members: Vec<_> = ids
            .iter()
            .zip(["instance1", "instance2", "instance3"])
            .map(|(id, instance)| member(id, "topic1,topic2").with_instance_id(instance))
            .collect();
        assert_lists(
            &run(RoundRobin, &topics, &members),
            &[
                (ids[0], "topic1-0 topic1-3 topic2-1 topic2-4"),
                (ids[1], "topic1-1 topic1-4 topic2-2"),
                (ids[2], "topic1-2 topic2-0 topic2-3"),
            ],
        );
    }
}

/// RR6: the `RoundRobinAssignor` javadoc example with unequal subscriptions.
#[test]
fn rr6_javadoc_unequal_subscriptions() {
    let members = [
        member("C0", "t0"),
        member("C1", "t0,t1"),
        member("C2", "t0,t1,t2"),
    ];
    let a = run(RoundRobin, &counts(&[("t0", 1), ("t1", 2), ("t2", 3)]), &members);
    assert_lists(
        &a,
        &[("C0", "t0-0"), ("C1", "t1-0"), ("C2", "t1-1 t2-0 t2-1 t2-2")],
    );
}

//! `range` against the vectors of Kafka's `RangeAssignorTest` (non-rack cases; R1-R13 as
//! numbered in reference/broker-and-groups.md §8.6). Kafka's test compares each member's
//! partitions as a set, since the order of topics follows a `HashMap`, so these do too; the last
//! test pins that order, as Kafka's classes printed it.

use super::{assert_lists, assert_sets, counts, member, run};
use crate::kafka::group::assignor::Strategy::Range;

/// `testOneConsumerNoTopic`, `testOneConsumerNonexistentTopic`, `testOneConsumerOneTopic`,
/// `testOnlyAssignsPartitionsFromSubscribedTopics`, `testTwoConsumersOneTopicOnePartition`,
/// `testTwoConsumersOneTopicTwoPartitions`.
#[test]
fn small_groups() {
    assert_sets(
        &run(Range, &counts(&[]), &[member("consumer1", "")]),
        &[("consumer1", "")],
    );
    let one = [member("consumer1", "topic1")];
    assert_sets(&run(Range, &counts(&[]), &one), &[("consumer1", "")]);
    let topics = counts(&[("topic1", 3), ("other", 3)]);
    assert_sets(
        &run(Range, &topics, &one),
        &[("consumer1", "topic1-0 topic1-1 topic1-2")],
    );
    let two = [member("consumer1", "topic1"), member("consumer2", "topic1")];
    let a = run(Range, &counts(&[("topic1", 1)]), &two);
    assert_sets(&a, &[("consumer1", "topic1-0"), ("consumer2", "")]);
    let a = run(Range, &counts(&[("topic1", 2)]), &two);
    assert_sets(&a, &[("consumer1", "topic1-0"), ("consumer2", "topic1-1")]);
}

/// R1: `testOneConsumerMultipleTopics`.
#[test]
fn r1_one_consumer_multiple_topics() {
    let a = run(
        Range,
        &counts(&[("topic1", 1), ("topic2", 2)]),
        &[member("consumer1", "topic1,topic2")],
    );
    assert_sets(&a, &[("consumer1", "topic1-0 topic2-0 topic2-1")]);
}

/// R2: `testMultipleConsumersMixedTopics`.
#[test]
fn r2_multiple_consumers_mixed_topics() {
    let members = [
        member("consumer1", "topic1"),
        member("consumer2", "topic1,topic2"),
        member("consumer3", "topic1"),
    ];
    let a = run(Range, &counts(&[("topic1", 3), ("topic2", 2)]), &members);
    assert_sets(
        &a,
        &[
            ("consumer1", "topic1-0"),
            ("consumer2", "topic1-1 topic2-0 topic2-1"),
            ("consumer3", "topic1-2"),
        ],
    );
}

/// R3: `testTwoConsumersTwoTopicsSixPartitions`.
#[test]
fn r3_two_consumers_two_topics_six_partitions() {
    let members = [
        member("consumer1", "topic1,topic2"),
        member("consumer2", "topic1,topic2"),
    ];
    let a = run(Range, &counts(&[("topic1", 3), ("topic2", 3)]), &members);
    assert_sets(
        &a,
        &[
            ("consumer1", "topic1-0 topic1-1 topic2-0 topic2-1"),
            ("consumer2", "topic1-2 topic2-2"),
        ],
    );
}

/// R4: `testTwoStaticConsumersTwoTopicsSixPartitions`: instance ids decide, not member ids.
#[test]
fn r4_two_static_consumers() {
    let members = [
        member("consumer-b", "topic1,topic2").with_instance_id("instance1"),
        member("consumer-a", "topic1,topic2").with_instance_id("instance2"),
    ];
    let a = run(Range, &counts(&[("topic1", 3), ("topic2", 3)]), &members);
    assert_sets(
        &a,
        &[
            ("consumer-b", "topic1-0 topic1-1 topic2-0 topic2-1"),
            ("consumer-a", "topic1-2 topic2-2"),
        ],
    );
}

/// R5: `testOneStaticConsumerAndOneDynamicConsumerTwoTopicsSixPartitions`: static sorts first.
#[test]
fn r5_static_before_dynamic() {
    let members = [
        member("consumer-b", "topic1,topic2").with_instance_id("instance1"),
        member("consumer-a", "topic1,topic2"),
    ];
    let a = run(Range, &counts(&[("topic1", 3), ("topic2", 3)]), &members);
    assert_sets(
        &a,
        &[
            ("consumer-b", "topic1-0 topic1-1 topic2-0 topic2-1"),
            ("consumer-a", "topic1-2 topic2-2"),
        ],
    );
}

/// R6: `testStaticMemberRangeAssignmentPersistent`: replacing the dynamic member changes nothing
/// for the static ones.
#[test]
fn r6_static_members_keep_their_ranges() {
    let statics = [
        member("consumer1", "topic1,topic2").with_instance_id("instance1"),
        member("consumer2", "topic1,topic2").with_instance_id("instance2"),
        member("consumer3", "topic1,topic2").with_instance_id("instance3"),
    ];
    let topics = counts(&[("topic1", 5), ("topic2", 4)]);
    for dynamic in ["consumer4", "consumer5"] {
        let mut members = statics.to_vec();
        members.push(member(dynamic, "topic1,topic2"));
        assert_sets(
            &run(Range, &topics, &members),
            &[
                ("consumer1", "topic1-0 topic1-1 topic2-0"),
                ("consumer2", "topic1-2 topic2-1"),
                ("consumer3", "topic1-3 topic2-2"),
                (dynamic, "topic1-4 topic2-3"),
            ],
        );
    }
}

/// `testStaticMemberRangeAssignmentPersistentAfterMemberIdChanges`: the same instance ids under
/// new member ids get the same partitions.
#[test]
fn r6b_static_members_keep_their_ranges_under_new_member_ids() {
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
        assert_sets(
            &run(Range, &topics, &members),
            &[
                (ids[0], "topic1-0 topic1-1 topic2-0 topic2-1"),
                (ids[1], "topic1-2 topic1-3 topic2-2 topic2-3"),
                (ids[2], "topic1-4 topic2-4"),
            ],
        );
    }
}

/// R7: `testRackAwareAssignmentWithUniformSubscription`, the assignment without racks.
#[test]
fn r7_uniform_subscription() {
    let members: Vec<_> = (0..3)
        .map(|i| member(&format!("consumer{i}"), "t1,t2,t3"))
        .collect();
    let a = run(Range, &counts(&[("t1", 6), ("t2", 7), ("t3", 2)]), &members);
    assert_sets(
        &a,
        &[
            ("consumer0", "t1-0, t1-1, t2-0, t2-1, t2-2, t3-0"),
            ("consumer1", "t1-2, t1-3, t2-3, t2-4, t3-1"),
            ("consumer2", "t1-4, t1-5, t2-5, t2-6"),
        ],
    );
}

/// R8: `testRackAwareAssignmentWithNonEqualSubscription`, the assignment without racks.
#[test]
fn r8_non_equal_subscription() {
    let members = [
        member("consumer0", "t1,t2,t3"),
        member("consumer1", "t1,t2,t3"),
        member("consumer2", "t1,t3"),
    ];
    let a = run(Range, &counts(&[("t1", 6), ("t2", 7), ("t3", 2)]), &members);
    assert_sets(
        &a,
        &[
            ("consumer0", "t1-0, t1-1, t2-0, t2-1, t2-2, t2-3, t3-0"),
            ("consumer1", "t1-2, t1-3, t2-4, t2-5, t2-6, t3-1"),
            ("consumer2", "t1-4, t1-5"),
        ],
    );
}

/// R9: `testRackAwareAssignmentWithUniformPartitions`, the assignment without racks.
#[test]
fn r9_uniform_partitions() {
    let members: Vec<_> = (0..3)
        .map(|i| member(&format!("consumer{i}"), "t1,t2,t3"))
        .collect();
    let a = run(Range, &counts(&[("t1", 5), ("t2", 5), ("t3", 5)]), &members);
    assert_sets(
        &a,
        &[
            ("consumer0", "t1-0, t1-1, t2-0, t2-1, t3-0, t3-1"),
            ("consumer1", "t1-2, t1-3, t2-2, t2-3, t3-2, t3-3"),
            ("consumer2", "t1-4, t2-4, t3-4"),
        ],
    );
}

/// R10 (ours, run on Kafka's classes): member ids sort as Java strings, `consumer10` before
/// `consumer2`.
#[test]
fn r10_member_ids_sort_as_strings() {
    let members = [
        member("consumer1", "t"),
        member("consumer2", "t"),
        member("consumer10", "t"),
    ];
    let a = run(Range, &counts(&[("t", 5)]), &members);
    assert_lists(
        &a,
        &[
            ("consumer1", "t-0 t-1"),
            ("consumer2", "t-4"),
            ("consumer10", "t-2 t-3"),
        ],
    );
}

/// R11: `testRackAwareAssignmentWithUniformPartitionsNonEqualSubscription`, without racks.
#[test]
fn r11_uniform_partitions_non_equal_subscription() {
    let members = [
        member("consumer0", "t1,t2,t3"),
        member("consumer1", "t1,t2,t3"),
        member("consumer2", "t1,t3"),
    ];
    let a = run(Range, &counts(&[("t1", 5), ("t2", 5), ("t3", 5)]), &members);
    assert_sets(
        &a,
        &[
            ("consumer0", "t1-0, t1-1, t2-0, t2-1, t2-2, t3-0, t3-1"),
            ("consumer1", "t1-2, t1-3, t2-3, t2-4, t3-2, t3-3"),
            ("consumer2", "t1-4, t3-4"),
        ],
    );
}

/// R12: `testRackAwareAssignmentWithCoPartitioning`, the assignments without racks.
#[test]
fn r12_co_partitioning() {
    let topics = counts(&[("t1", 6), ("t2", 6), ("t3", 2), ("t4", 2)]);
    let split = [
        member("consumer0", "t1,t2"),
        member("consumer1", "t1,t2"),
        member("consumer2", "t3,t4"),
        member("consumer3", "t3,t4"),
    ];
    assert_sets(
        &run(Range, &topics, &split),
        &[
            ("consumer0", "t1-0, t1-1, t1-2, t2-0, t2-1, t2-2"),
            ("consumer1", "t1-3, t1-4, t1-5, t2-3, t2-4, t2-5"),
            ("consumer2", "t3-0, t4-0"),
            ("consumer3", "t3-1, t4-1"),
        ],
    );
    let all: Vec<_> = (0..4)
        .map(|i| member(&format!("consumer{i}"), "t1,t2,t3,t4"))
        .collect();
    assert_sets(
        &run(Range, &topics, &all),
        &[
            ("consumer0", "t1-0, t1-1, t2-0, t2-1, t3-0, t4-0"),
            ("consumer1", "t1-2, t1-3, t2-2, t2-3, t3-1, t4-1"),
            ("consumer2", "t1-4, t2-4"),
            ("consumer3", "t1-5, t2-5"),
        ],
    );
}

/// R13: `testCoPartitionedAssignmentWithSameSubscription`, without racks: subscribed topics
/// without partitions (t7-t9) are skipped.
#[test]
fn r13_co_partitioned_same_subscription() {
    let topics = counts(&[("t1", 6), ("t2", 6), ("t3", 2), ("t4", 2), ("t5", 4), ("t6", 4)]);
    let members: Vec<_> = (0..3)
        .map(|i| member(&format!("consumer{i}"), "t1,t2,t3,t4,t5,t6,t7,t8,t9"))
        .collect();
    assert_sets(
        &run(Range, &topics, &members),
        &[
            (
                "consumer0",
                "t1-0, t1-1, t2-0, t2-1, t3-0, t4-0, t5-0, t5-1, t6-0, t6-1",
            ),
            ("consumer1", "t1-2, t1-3, t2-2, t2-3, t3-1, t4-1, t5-2, t6-2"),
            ("consumer2", "t1-4, t1-5, t2-4, t2-5, t5-3, t6-3"),
        ],
    );
}

/// The order of topics in a member's list is the iteration order of Kafka's `HashMap` of topics
/// (printed by Kafka's `RangeAssignor` for this group): `payments` before `orders`.
#[test]
fn topics_come_in_java_hash_map_order() {
    let members = [member("c1", "orders,payments"), member("c2", "orders")];
    let a = run(Range, &counts(&[("orders", 6), ("payments", 3)]), &members);
    assert_lists(
        &a,
        &[
            (
                "c1",
                "payments-0 payments-1 payments-2 orders-0 orders-1 orders-2",
            ),
            ("c2", "orders-3 orders-4 orders-5"),
        ],
    );
}

//! `roundrobin`: every partition of every subscribed topic, sorted by topic then partition, is
//! dealt to the next member round a circle in member order, skipping members not subscribed to
//! its topic.
//!
//! Followed: `RoundRobinAssignor.assign` (clients/src/main/java/org/apache/kafka/clients/
//! consumer/RoundRobinAssignor.java) and `CircularIterator`.

use super::indexed::{Group, Tp};

/// Each member's partitions, by member index.
pub fn assign(group: &Group) -> Vec<Vec<Tp>> {
    let circle = group.member_order();
    let mut lists = vec![Vec::new(); group.len()];
    let mut next = 0;
    for tp in group.all_partitions() {
        // Someone subscribes to every topic the assignors see, so this stops within one lap.
        while !group.subscribed[circle[next]].contains(&tp.topic) {
            next = (next + 1) % circle.len();
        }
        lists[circle[next]].push(tp);
        next = (next + 1) % circle.len();
    }
    lists
}

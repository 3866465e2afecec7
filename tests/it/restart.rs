//! A broker restart costs what the cluster is, not its square: the controller publishes a
//! handful of metadata versions however many partitions change (`DefaultAlterPartitionManager`
//! batches ISR changes, `QuorumController` commits a request as one batch), and brokers apply
//! each version as a delta. Counted in simulated work (metadata versions, events), never timed.

use crate::support::parse_scenario;
use kafkasim::kafka::record::Tp;
use kafkasim::scenario::Scenario;
use kafkasim::sim::SimDuration;
use kafkasim::simulation::{RunOptions, RunResult, run};

/// 2 brokers, `partitions` partitions all led by broker 1 with broker 2 following, no traffic:
/// broker 1 crashes at 1 s and restarts at 20 s; the preferred-leader check every 10 s gives it
/// its leaderships back at about 29 s.
fn restart(partitions: usize) -> Scenario {
    let assignment = vec!["[1, 2]"; partitions].join(", ");
    parse_scenario(
        "restart.ron",
        &format!(
            r#"Scenario(
                name: "restart", description: "x", seed: 1, duration: "60s",
                cluster: (brokers: 2, network: (latency: "1ms"),
                          config: {{ "leader.imbalance.check.interval.seconds": 10 }}),
                topics: [ (name: "t", partitions: {partitions}, assignment: [{assignment}]) ],
                producers: [],
                faults: [ (at: "1s", fault: Crash(broker: 1)), (at: "20s", fault: Restart(broker: 1)) ],
            )"#
        ),
    )
}

fn quiet(s: &Scenario, until_s: u64) -> RunResult {
    run(
        s,
        &RunOptions {
            until: Some(SimDuration::from_ms(until_s * 1000)),
            trace: None,
            ..RunOptions::default()
        },
    )
}

/// The ISR expansions of a restart go to the controller in at most two `AlterPartition`
/// requests per leader (the first alone, the rest queued behind it: `DefaultAlterPartitionManager`
/// keeps one request in flight), each committed as one metadata version. So doubling the
/// partitions adds no metadata version and almost no event; one version and one request per
/// partition (the quadratic restart) would add hundreds of each.
#[test]
fn a_restart_publishes_as_many_metadata_versions_for_800_partitions_as_for_400() {
    let (small, large) = (quiet(&restart(400), 60), quiet(&restart(800), 60));
    for r in [&small, &large] {
        assert!(
            r.metadata.topics[0]
                .iter()
                .all(|p| p.leader == Some(1) && p.isr.len() == 2),
            "broker 1 leads everything again, both replicas in sync"
        );
    }
    assert_eq!(small.metadata.version, large.metadata.version);
    assert_eq!(
        small.metadata.version, 6,
        "the first image, then the fencing, the unfencing, two ISR batches, one balance run"
    );
    assert!(
        large.events < small.events + 50,
        "events: {} for 400 partitions, {} for 800",
        small.events,
        large.events
    );
}

/// `UnifiedLog.truncateTo`: a cut at the log end still drops the epochs that start there. Broker
/// 2 led epoch 1 without writing; when broker 1 leads again (epoch 2), broker 2's fetch names
/// epoch 1, the leader answers with the divergence (epoch 0 ends at 0), and broker 2 must forget
/// epoch 1 — or it sends it again, and is answered at once, every round trip. Settled, a follower
/// long-polls (`replica.fetch.wait.max.ms` 500 ms) and the brokers heartbeat every 2 s: a few
/// hundred events in the last 25 s, not one fetch per millisecond.
#[test]
fn a_follower_forgets_the_empty_epoch_it_led_and_stops_diverging() {
    let s = restart(1);
    let settled = quiet(&s, 35);
    let end = quiet(&s, 60);
    assert_eq!(end.metadata.topics[0][0].leader, Some(1));
    let t0 = Tp {
        topic: 0,
        partition: 0,
    };
    let latest_of_2 = end.replica_logs[&(t0, 2)].latest_epoch();
    assert_eq!(
        latest_of_2, None,
        "an empty log keeps no epoch after the cut at 0"
    );
    let events = end.events - settled.events;
    assert!(events < 1000, "{events} events in 25 settled seconds");
}

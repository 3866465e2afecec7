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

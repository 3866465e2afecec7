//! Bytes on disk per broker over time: the sum of the log sizes of the replicas it holds of the
//! scenario's own topics (what `kafka-log-dirs --describe` reports as each partition's `size`).
//! Appends and replication grow it; truncation, retention (whole segments at each
//! `log.retention.check.interval.ms`) and the log cleaner shrink it, as steps.

use super::style::{self, color, steps, time_axis, up_to};
use super::{Chart, DrawResult};
use crate::history::series::Series;
use crate::kafka::protocol::BrokerId;
use crate::kafka::record::Tp;
use crate::scenario::Scenario;
use crate::sim::SimTime;
use crate::simulation::RunResult;
use plotters::coord::Shift;
use plotters::prelude::*;
use std::collections::BTreeMap;

/// The disk chart.
#[derive(Clone, Debug)]
pub struct DiskChart {
    end: SimTime,
    /// ("broker-1", step points of its bytes).
    brokers: Vec<(String, Vec<(f64, f64)>)>,
}

/// Each broker's total over time, from its replicas' sizes: at every change of one replica the
/// broker's sum changes by the difference.
fn totals(
    scenario: &Scenario,
    log_bytes: &BTreeMap<(Tp, BrokerId), Vec<(SimTime, u64)>>,
) -> BTreeMap<BrokerId, Vec<(SimTime, u64)>> {
    let own = |tp: &Tp| {
        scenario
            .topics
            .get(tp.topic as usize)
            .is_some_and(|t| !t.internal)
    };
    // (broker, time) -> change of its total, in the order the changes happened.
    let mut changes: BTreeMap<(BrokerId, SimTime), i128> = BTreeMap::new();
    for ((_, broker), sizes) in log_bytes.iter().filter(|((tp, _), _)| own(tp)) {
        let mut before = 0u64;
        for (at, size) in sizes {
            *changes.entry((*broker, *at)).or_default() += i128::from(*size) - i128::from(before);
            before = *size;
        }
    }
    let mut out: BTreeMap<BrokerId, Vec<(SimTime, u64)>> = BTreeMap::new();
    let mut total: BTreeMap<BrokerId, i128> = BTreeMap::new();
    for ((broker, at), delta) in changes {
        let sum = total.entry(broker).or_default();
        *sum += delta;
        out.entry(broker)
            .or_default()
            .push((at, u64::try_from(*sum).unwrap_or(0)));
    }
    out
}

/// The chart; `None` when no replica of the scenario's topics ever held a byte.
pub fn chart(scenario: &Scenario, result: &RunResult, series: &Series) -> Option<DiskChart> {
    let brokers: Vec<(String, Vec<(f64, f64)>)> = totals(scenario, &series.log_bytes)
        .into_iter()
        .map(|(b, points)| {
            let mut from_zero = vec![(SimTime::ZERO, 0)];
            from_zero.extend(points);
            (format!("broker-{b}"), steps(&from_zero, result.end))
        })
        .collect();
    let any = brokers.iter().any(|(_, p)| p.iter().any(|(_, y)| *y > 0.0));
    any.then_some(DiskChart {
        end: result.end,
        brokers,
    })
}

impl Chart for DiskChart {
    fn file_stem(&self) -> String {
        "disk".to_string()
    }

    fn size(&self) -> (u32, u32) {
        style::SIZE
    }

    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> DrawResult
    where
        DB::ErrorType: 'static,
    {
        let y_max = style::highest(&self.brokers);
        let title = "bytes on disk per broker (the scenario's topics)";
        let mut chart = style::plot(root, title, time_axis(self.end), up_to(y_max))?;
        style::axes(&mut chart, "simulated time (ms)", "bytes")?;
        let n = self.brokers.len();
        for (i, (name, points)) in self.brokers.iter().enumerate() {
            let line = color(i).stroke_width(style::width(i, n));
            chart
                .draw_series(LineSeries::new(points.iter().copied(), line))?
                .label(name.clone())
                .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], line));
        }
        style::legend(&mut chart, SeriesLabelPosition::UpperLeft, 13)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A broker's total is the sum of its replicas' latest sizes at every change of one.
    #[test]
    fn a_brokers_bytes_are_the_sum_of_its_replicas_sizes() {
        let scenario = crate::scenario::Scenario::parse(
            "t.ron",
            r#"Scenario(name: "t", description: "d", seed: 1, duration: "1s",
                 cluster: (brokers: 2), topics: [ (name: "t", partitions: 2) ],
                 producers: [ (id: "p", workload: (topic: "t", records: 1, rate: "1/s")) ])"#,
        )
        .expect("valid");
        let t = |ms| SimTime::ZERO + crate::sim::SimDuration::from_ms(ms);
        let tp = |partition| Tp { topic: 0, partition };
        let mut sizes = BTreeMap::new();
        sizes.insert((tp(0), 1), vec![(t(1), 100), (t(3), 300), (t(5), 50)]);
        sizes.insert((tp(1), 1), vec![(t(2), 40), (t(3), 80)]);
        sizes.insert((tp(0), 2), vec![(t(4), 70)]);
        let totals = totals(&scenario, &sizes);
        assert_eq!(totals[&1], [(t(1), 100), (t(2), 140), (t(3), 380), (t(5), 130)]);
        assert_eq!(totals[&2], [(t(4), 70)]);
    }
}

//! Consumer lag per group: for each partition the group has committed an offset for, the high
//! watermark minus the committed offset over time (what `kafka-consumer-groups --describe`
//! shows as LAG: its LOG-END-OFFSET column is `ListOffsets(latest)` read_uncommitted, the high
//! watermark; and the summary's `lag`), with the group's rebalances marked. A group whose
//! consumers read `read_committed` lags behind the last stable offset instead, as a
//! `read_committed` consumer measures its own lag (`SubscriptionState.partitionLag`).
//!
//! Lag rises as producers append and drops at each commit; with auto-commit (every
//! `auto.commit.interval.ms`) it is a sawtooth, and a rebalance shows as a pause in the drops.

use super::style::{self, color, ms, steps, time_axis, up_to};
use super::{Chart, DrawResult, file_safe};
use crate::history::series::Series;
use crate::kafka::group::coordinator::GroupState;
use crate::kafka::record::Tp;
use crate::scenario::Scenario;
use crate::sim::SimTime;
use crate::simulation::RunResult;
use plotters::coord::Shift;
use plotters::prelude::*;
use std::collections::{BTreeMap, BTreeSet};

/// Colour of the rebalance markers.
const REBALANCE: RGBColor = RGBColor(110, 110, 110);

/// The lag chart of one group.
#[derive(Clone, Debug)]
pub struct LagChart {
    group: String,
    /// Lag to the last stable offset (a `read_committed` group), not to the high watermark.
    to_stable: bool,
    end: SimTime,
    /// ("orders-0", step points).
    partitions: Vec<(String, Vec<(f64, f64)>)>,
    rebalances: Vec<f64>,
}

/// One chart per consumer group of the scenario, or (file stem, why not) for a group that
/// never committed. `series` holds the last stable offsets that `read_committed` groups lag
/// behind.
pub fn charts(
    scenario: &Scenario,
    result: &RunResult,
    series: &Series,
) -> Vec<Result<LagChart, (String, String)>> {
    let groups: BTreeSet<&str> = scenario
        .consumers
        .iter()
        .filter_map(|c| c.group.as_deref())
        .collect();
    groups
        .into_iter()
        .map(|g| {
            let ends = if crate::report::reads_committed(scenario, g) {
                Some(&series.last_stable_offset)
            } else {
                None
            };
            let chart = chart(result, g, ends, &series.partition_high_watermark);
            if chart.partitions.is_empty() {
                let why = format!("group {g} committed no offsets");
                return Err((format!("lag-{}", file_safe(g)), why));
            }
            Ok(chart)
        })
        .collect()
}

/// The chart of `group`: lag behind `stable` offsets if given, else behind the high watermarks.
fn chart(
    result: &RunResult,
    group: &str,
    stable: Option<&BTreeMap<Tp, Vec<(SimTime, u64)>>>,
    high_watermarks: &BTreeMap<Tp, Vec<(SimTime, u64)>>,
) -> LagChart {
    let mut commits: BTreeMap<Tp, Vec<(SimTime, u64)>> = BTreeMap::new();
    for c in result
        .history
        .commits
        .iter()
        .filter(|c| c.group.as_ref() == group)
    {
        commits.entry(c.tp).or_default().push((c.at, c.offset));
    }
    let ends = match stable {
        Some(stable) => stable,
        None => high_watermarks,
    };
    let none = Vec::new();
    let partitions = commits
        .iter()
        .map(|(tp, committed)| {
            let end = ends.get(tp).unwrap_or(&none);
            (result.names.tp(*tp), steps(&lag(committed, end), result.end))
        })
        .collect();
    let rebalances = result
        .history
        .group_states
        .iter()
        .filter(|(_, g, s, _)| g.as_ref() == group && *s == GroupState::PreparingRebalance)
        .map(|(t, ..)| ms(*t))
        .collect();
    LagChart {
        group: group.to_string(),
        to_stable: stable.is_some(),
        end: result.end,
        partitions,
        rebalances,
    }
}

/// The end (high watermark or LSO) minus committed offset at every change of either, from the first commit on.
/// Both lists are in time order.
fn lag(committed: &[(SimTime, u64)], end_offsets: &[(SimTime, u64)]) -> Vec<(SimTime, u64)> {
    let Some(&(first, _)) = committed.first() else {
        return Vec::new();
    };
    let (mut c, mut e) = (0, 0);
    let (mut offset, mut end) = (0, 0);
    let mut out = Vec::new();
    while c < committed.len() || e < end_offsets.len() {
        let next_commit = committed.get(c).map(|x| x.0);
        let next_end = end_offsets.get(e).map(|x| x.0);
        let at = match (next_commit, next_end) {
            (Some(a), Some(b)) => a.min(b),
            (Some(a), None) => a,
            (None, Some(b)) => b,
            (None, None) => break,
        };
        while let Some(&(_, o)) = committed.get(c).filter(|x| x.0 == at) {
            (offset, c) = (o, c + 1);
        }
        while let Some(&(_, o)) = end_offsets.get(e).filter(|x| x.0 == at) {
            (end, e) = (o, e + 1);
        }
        if at >= first {
            out.push((at, u64::saturating_sub(end, offset)));
        }
    }
    out
}

impl Chart for LagChart {
    fn file_stem(&self) -> String {
        format!("lag-{}", file_safe(&self.group))
    }

    fn size(&self) -> (u32, u32) {
        style::SIZE
    }

    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> DrawResult
    where
        DB::ErrorType: 'static,
    {
        let y_max = style::highest(&self.partitions);
        let y = up_to(y_max);
        let y_top = y.end;
        let end = if self.to_stable {
            "last stable offset"
        } else {
            "log end offset"
        };
        let mut chart = style::plot(
            root,
            &format!(
                "Consumer lag of group {}: {end} minus committed offset",
                self.group
            ),
            time_axis(self.end),
            y,
        )?;
        style::axes(&mut chart, "simulated time (ms)", "lag (records)")?;
        for (i, (name, points)) in self.partitions.iter().enumerate() {
            let line = color(i).stroke_width(2);
            chart
                .draw_series(LineSeries::new(points.iter().copied(), line))?
                .label(name.as_str())
                .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], line));
        }
        for (i, at) in self.rebalances.iter().enumerate() {
            let marker = REBALANCE.stroke_width(1);
            let anno = chart.draw_series(DashedLineSeries::new([(*at, 0.0), (*at, y_top)], 4, 4, marker))?;
            if i == 0 {
                anno.label("rebalance")
                    .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], marker));
            }
        }
        style::legend(&mut chart, SeriesLabelPosition::UpperRight, 13)?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::lag;
    use crate::sim::SimTime;

    #[test]
    fn lag_is_log_end_minus_committed_from_the_first_commit() {
        let t = SimTime::from_us;
        let committed = [(t(10), 2), (t(30), 5)];
        let ends = [(t(5), 3), (t(20), 6), (t(30), 7)];
        assert_eq!(lag(&committed, &ends), vec![(t(10), 1), (t(20), 4), (t(30), 2)]);
        assert!(lag(&[], &ends).is_empty());
    }
}

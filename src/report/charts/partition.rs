//! One chart per partition: each replica's log end offset (LEO) and the partition's high
//! watermark (HW) over time, with leader elections and ISR changes as vertical markers, and,
//! once retention or `DeleteRecords` moved it, each replica's log start offset: the log a
//! replica holds is the band between its log start offset and its LEO.
//!
//! A follower's LEO trails its leader's by the replication delay; the HW is the offset up to
//! which every ISR member has the log, so a gap between the leader's LEO and the HW is data that
//! `acks=1` acknowledged but that a crash of the leader can still lose.

use super::style::{self, MAX_POINTS, color, ms, steps, text, time_axis, up_to};
use super::{Chart, DrawResult, file_safe};
use crate::history::series::Series;
use crate::kafka::protocol::broker_list;
use crate::kafka::record::Tp;
use crate::scenario::Scenario;
use crate::sim::SimTime;
use crate::simulation::RunResult;
use plotters::coord::Shift;
use plotters::prelude::*;
use std::collections::BTreeSet;

/// Colour of the leader election markers.
const ELECTION: RGBColor = RGBColor(200, 0, 0);
/// Colour of the ISR change markers.
const ISR: RGBColor = RGBColor(110, 110, 110);

/// A vertical marker: a leader election or an ISR change.
#[derive(Clone, Debug)]
struct Mark {
    at_ms: f64,
    election: bool,
    label: String,
}

/// A replica's name, and its LEO, HW and log start offset as step points.
type Replica = (String, Vec<(f64, f64)>, Vec<(f64, f64)>, Vec<(f64, f64)>);

/// The chart of one partition.
#[derive(Clone, Debug)]
pub struct PartitionChart {
    stem: String,
    title: String,
    end: SimTime,
    /// ("broker-1", LEO, HW and log start offset step points).
    replicas: Vec<Replica>,
    /// Some replica's log start offset moved above 0: draw them.
    log_starts: bool,
    marks: Vec<Mark>,
    y_max: f64,
}

/// A chart for every partition of the scenario's own topics (not `__consumer_offsets`).
pub fn charts(scenario: &Scenario, result: &RunResult, series: &Series) -> Vec<PartitionChart> {
    result
        .history
        .partitions
        .keys()
        .filter(|tp| {
            scenario
                .topics
                .get(tp.topic as usize)
                .is_some_and(|t| !t.internal)
        })
        .map(|tp| chart(result, series, *tp))
        .collect()
}

fn chart(result: &RunResult, series: &Series, tp: Tp) -> PartitionChart {
    let name = result.names.tp(tp);
    let mut brokers: BTreeSet<u32> = series
        .log_end
        .range((tp, 0)..=(tp, u32::MAX))
        .map(|((_, b), _)| *b)
        .collect();
    if let Some(state) = result.metadata.partition(tp) {
        brokers.extend(state.replicas.iter().copied());
    }
    // Offsets are 0 from when the partition was created until its first append.
    let created = result
        .history
        .partitions
        .get(&tp)
        .and_then(|v| v.first())
        .map_or(SimTime::ZERO, |v| v.since);
    let from_zero = |changes: Option<&Vec<(SimTime, u64)>>| {
        let mut points = vec![(created, 0)];
        points.extend(changes.into_iter().flatten().filter(|(t, _)| *t >= created));
        steps(&points, result.end)
    };
    let replicas: Vec<Replica> = brokers
        .iter()
        .map(|b| {
            (
                format!("broker-{b}"),
                from_zero(series.log_end.get(&(tp, *b))),
                from_zero(series.high_watermark.get(&(tp, *b))),
                from_zero(series.log_start.get(&(tp, *b))),
            )
        })
        .collect();
    let y_max = replicas
        .iter()
        .flat_map(|(_, leo, hw, _)| leo.iter().chain(hw.iter()))
        .map(|(_, y)| *y)
        .fold(0.0, f64::max);
    let log_starts = replicas
        .iter()
        .any(|(.., start)| start.iter().any(|(_, y)| *y > 0.0));
    let title = if log_starts {
        format!("{name}: log start offset, log end offset (LEO) and high watermark (HW)")
    } else {
        format!("{name}: log end offset (LEO) and high watermark (HW)")
    };
    PartitionChart {
        stem: format!("partition-{}", file_safe(&name)),
        title,
        end: result.end,
        replicas,
        log_starts,
        marks: marks(result, tp),
        y_max,
    }
}

/// Leader elections and ISR changes after the start, from the controller's committed view.
fn marks(result: &RunResult, tp: Tp) -> Vec<Mark> {
    let Some(views) = result.history.partitions.get(&tp) else {
        return Vec::new();
    };
    let mut marks = Vec::new();
    for pair in views.windows(2) {
        let (before, now) = (&pair[0], &pair[1]);
        if now.leader != before.leader {
            let leader = now
                .leader
                .map_or("offline".to_string(), |b| format!("broker-{b}"));
            marks.push(Mark {
                at_ms: ms(now.since),
                election: true,
                label: format!("leader {leader}"),
            });
        }
        if now.isr != before.isr {
            marks.push(Mark {
                at_ms: ms(now.since),
                election: false,
                label: format!("ISR [{}]", broker_list(&now.isr)),
            });
        }
    }
    // A run with many changes keeps the chart readable: the first ones tell the story.
    marks.truncate(MAX_POINTS / 10);
    marks
}

impl Chart for PartitionChart {
    fn file_stem(&self) -> String {
        self.stem.clone()
    }

    fn size(&self) -> (u32, u32) {
        style::SIZE
    }

    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> DrawResult
    where
        DB::ErrorType: 'static,
    {
        let y = up_to(self.y_max);
        let y_top = y.end;
        let mut chart = style::plot(root, &self.title, time_axis(self.end), y)?;
        style::axes(&mut chart, "simulated time (ms)", "offset (records)")?;
        let n = self.replicas.len();
        for (i, (name, leo, ..)) in self.replicas.iter().enumerate() {
            let line = color(i).stroke_width(style::width(i, n));
            chart
                .draw_series(LineSeries::new(leo.iter().copied(), line))?
                .label(format!("{name} LEO"))
                .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], line));
        }
        // Each replica's HW dashed in its colour, drawn over the LEO lines.
        for (i, (name, _, hw, _)) in self.replicas.iter().enumerate() {
            let dash = color(i).stroke_width(2);
            chart
                .draw_series(DashedLineSeries::new(hw.iter().copied(), 8, 5, dash))?
                .label(format!("{name} HW"))
                .legend(move |(x, y)| {
                    EmptyElement::at((x, y))
                        + PathElement::new(vec![(0, 0), (8, 0)], dash)
                        + PathElement::new(vec![(12, 0), (20, 0)], dash)
                });
        }
        // Each replica's log start offset dotted in its colour: retention and `DeleteRecords`
        // show as steps up.
        for (i, (name, .., start)) in self.replicas.iter().enumerate().filter(|_| self.log_starts) {
            let dot = color(i).stroke_width(2);
            chart
                .draw_series(DashedLineSeries::new(start.iter().copied(), 2, 4, dot))?
                .label(format!("{name} log start"))
                .legend(move |(x, y)| {
                    EmptyElement::at((x, y))
                        + PathElement::new(vec![(0, 0), (2, 0)], dot)
                        + PathElement::new(vec![(6, 0), (8, 0)], dot)
                        + PathElement::new(vec![(12, 0), (14, 0)], dot)
                        + PathElement::new(vec![(18, 0), (20, 0)], dot)
                });
        }
        let mut labelled = [false, false];
        for (i, m) in self.marks.iter().enumerate() {
            let c = if m.election { ELECTION } else { ISR };
            let anno = chart.draw_series(DashedLineSeries::new(
                [(m.at_ms, 0.0), (m.at_ms, y_top)],
                4,
                4,
                c.stroke_width(1),
            ))?;
            let kind = usize::from(m.election);
            if !labelled[kind] {
                labelled[kind] = true;
                let name = if m.election {
                    "leader election"
                } else {
                    "ISR change"
                };
                anno.label(name)
                    .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], c.stroke_width(1)));
            }
            // Staggered so that changes close in time stay legible.
            let row = (i % 4) as f64;
            let at = (m.at_ms, y_top * (0.99 - 0.04 * row));
            let label = EmptyElement::at(at) + Text::new(m.label.clone(), (4, 0), text(11).color(&c));
            chart.draw_series([label])?;
        }
        style::legend(&mut chart, SeriesLabelPosition::LowerRight, 13)?;
        Ok(())
    }
}

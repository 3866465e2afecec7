//! Throughput over time, in fixed time bins: records/s (top) and bytes/s (bottom) that each
//! producer sent in produce requests (retries included), and that each broker appended as a
//! partition leader.

use super::style::{self, X_LABEL_AREA, Y_LABEL_AREA, color, steps, text, time_axis, up_to};
use super::{Chart, DrawResult};
use crate::history::series::Series;
use crate::scenario::Scenario;
use crate::sim::{SimDuration, SimTime};
use crate::simulation::RunResult;
use plotters::coord::Shift;
use plotters::prelude::*;
use std::collections::BTreeMap;

/// Bins per run, about.
const BINS: u64 = 100;

/// One line: records and bytes per bin.
#[derive(Clone, Debug)]
struct Line {
    name: String,
    records: Vec<u64>,
    bytes: Vec<u64>,
}

/// The throughput chart.
#[derive(Clone, Debug)]
pub struct ThroughputChart {
    bin: SimDuration,
    end: SimTime,
    lines: Vec<Line>,
}

/// A round bin width near `span / BINS`: 1, 2 or 5 times a power of ten, at least 1 ms.
fn bin_width(span: SimDuration) -> SimDuration {
    let target = (span.as_us() / BINS).max(1000);
    let mut unit = 1000u64;
    loop {
        for m in [1, 2, 5] {
            if unit * m >= target {
                return SimDuration::from_us(unit * m);
            }
        }
        unit = unit.saturating_mul(10);
    }
}

/// The chart; `None` when no produce request was sent.
pub fn chart(scenario: &Scenario, result: &RunResult, series: &Series) -> Option<ThroughputChart> {
    if series.produce.is_empty() {
        return None;
    }
    let bin = bin_width(SimDuration::from_us(result.end.as_us()));
    let bins = (result.end.as_us() / bin.as_us() + 1) as usize;
    let index = |t: SimTime| ((t.as_us() / bin.as_us()) as usize).min(bins - 1);
    let empty = |name: String| Line {
        name,
        records: vec![0; bins],
        bytes: vec![0; bins],
    };
    let mut producers: Vec<Line> = scenario
        .producers
        .iter()
        .map(|p| empty(format!("{} sent", p.id)))
        .collect();
    for s in &series.produce {
        if let Some(line) = producers.get_mut(s.producer as usize) {
            line.records[index(s.at)] += s.records;
            line.bytes[index(s.at)] += s.bytes;
        }
    }
    let mut brokers: BTreeMap<u32, Line> = BTreeMap::new();
    for a in &result.history.appends {
        let Some(first) = a.records.first() else { continue };
        // Bytes of an appended batch: its share of what the producer sent for it.
        let batch = result
            .history
            .producers
            .get(first.producer as usize)
            .and_then(|h| h.records.get(first.seq as usize))
            .map(|r| r.batch_id());
        let (bytes, in_batch) = batch
            .and_then(|b| series.batch_bytes.get(&(first.producer, b)))
            .copied()
            .unwrap_or((0, 1));
        let records = a.records.len() as u64;
        let line = brokers
            .entry(a.broker)
            .or_insert_with(|| empty(format!("broker-{} appended", a.broker)));
        line.records[index(a.at)] += records;
        line.bytes[index(a.at)] += bytes * records / in_batch.max(1);
    }
    let mut lines = producers;
    lines.extend(brokers.into_values());
    Some(ThroughputChart {
        bin,
        end: result.end,
        lines,
    })
}

impl ThroughputChart {
    /// Per-second rates of one line as step points.
    fn rates(&self, counts: &[u64]) -> Vec<(f64, f64)> {
        let per_second = 1_000_000.0 / self.bin.as_us() as f64;
        let changes: Vec<(SimTime, u64)> = counts
            .iter()
            .enumerate()
            .map(|(i, c)| (SimTime::from_us(i as u64 * self.bin.as_us()), *c))
            .collect();
        steps(&changes, self.end)
            .into_iter()
            .map(|(x, y)| (x, y * per_second))
            .collect()
    }

    fn panel<DB: DrawingBackend>(
        &self,
        area: &DrawingArea<DB, Shift>,
        unit: &str,
        pick: fn(&Line) -> &[u64],
    ) -> DrawResult
    where
        DB::ErrorType: 'static,
    {
        let lines: Vec<(&str, Vec<(f64, f64)>)> = self
            .lines
            .iter()
            .map(|l| (l.name.as_str(), self.rates(pick(l))))
            .collect();
        let y_max = style::highest(&lines);
        let mut chart = ChartBuilder::on(area)
            .caption(format!("{unit} (bins of {})", self.bin.human()), text(16))
            .margin(10)
            .x_label_area_size(X_LABEL_AREA)
            .y_label_area_size(Y_LABEL_AREA + 10)
            .build_cartesian_2d(time_axis(self.end), up_to(y_max))?;
        style::axes(&mut chart, "simulated time (ms)", unit)?;
        let n = lines.len();
        for (i, (name, points)) in lines.into_iter().enumerate() {
            let line = color(i).stroke_width(style::width(i, n));
            chart
                .draw_series(LineSeries::new(points, line))?
                .label(name)
                .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], line));
        }
        style::legend(&mut chart, SeriesLabelPosition::UpperRight, 12)?;
        Ok(())
    }
}

impl Chart for ThroughputChart {
    fn file_stem(&self) -> String {
        "throughput".to_string()
    }

    fn size(&self) -> (u32, u32) {
        (style::SIZE.0, 900)
    }

    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> DrawResult
    where
        DB::ErrorType: 'static,
    {
        let root = root.titled(
            "Throughput: sent by each producer, appended by each partition leader",
            style::caption(),
        )?;
        let (top, bottom) = root.split_vertically(ms_split(&root));
        self.panel(&top, "records/s", |l| &l.records)?;
        self.panel(&bottom, "bytes/s", |l| &l.bytes)?;
        Ok(())
    }
}

/// Half the height of `area`, in pixels.
fn ms_split<DB: DrawingBackend>(area: &DrawingArea<DB, Shift>) -> i32 {
    let (_, h) = area.dim_in_pixel();
    (h / 2) as i32
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bins_are_round_and_about_a_hundredth_of_the_run() {
        let w = |ms| bin_width(SimDuration::from_ms(ms)).as_us() / 1000;
        assert_eq!(w(20_000), 200);
        assert_eq!(w(5_000), 50);
        assert_eq!(w(3_000), 50);
        assert_eq!(w(10), 1);
        assert_eq!(w(0), 1);
    }
}

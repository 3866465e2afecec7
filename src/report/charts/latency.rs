//! Produce latency (from send() to the acknowledgement, per record): the cumulative distribution
//! per producer with its p50 and p99 marked, and every record's latency against its send time.
//!
//! The numbers are the summary's: the same latencies
//! ([`acked_latencies`]) and the same nearest-rank
//! [`percentile`].

use super::style::{
    self, MAX_POINTS, X_LABEL_AREA, Y_LABEL_AREA, color, downsample, ms, text, time_axis, up_to,
};
use super::{Chart, DrawResult};
use crate::report::metrics::{acked_latencies, percentile};
use crate::scenario::Scenario;
use crate::sim::{SimDuration, SimTime};
use crate::simulation::RunResult;
use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

/// One producer's latencies.
#[derive(Clone, Debug)]
pub struct ProducerLatency {
    /// The producer's id.
    pub producer: String,
    /// (send time, latency in µs) per acknowledged record, in record order.
    pub samples: Vec<(SimTime, u64)>,
    /// The latencies, sorted.
    pub sorted: Vec<u64>,
    /// The nearest-rank median, in µs.
    pub p50: Option<u64>,
    /// The nearest-rank 99th percentile, in µs.
    pub p99: Option<u64>,
}

/// Every producer's latencies and the p50/p99 the charts mark (producers in scenario order).
pub fn producer_latencies(scenario: &Scenario, result: &RunResult) -> Vec<ProducerLatency> {
    scenario
        .producers
        .iter()
        .zip(&result.history.producers)
        .map(|(spec, h)| {
            let samples = acked_latencies(h);
            let mut sorted: Vec<u64> = samples.iter().map(|(_, l)| *l).collect();
            sorted.sort_unstable();
            ProducerLatency {
                producer: spec.id.clone(),
                p50: percentile(&sorted, 50),
                p99: percentile(&sorted, 99),
                samples,
                sorted,
            }
        })
        .collect()
}

/// The latency CDF.
#[derive(Clone, Debug)]
pub struct CdfChart {
    producers: Vec<ProducerLatency>,
}

/// Latency against send time.
#[derive(Clone, Debug)]
pub struct ScatterChart {
    producers: Vec<ProducerLatency>,
    end: SimTime,
}

/// Both latency charts; `None` when no record was acknowledged.
pub fn charts(scenario: &Scenario, result: &RunResult) -> Option<(CdfChart, ScatterChart)> {
    let producers: Vec<ProducerLatency> = producer_latencies(scenario, result)
        .into_iter()
        .filter(|p| !p.sorted.is_empty())
        .collect();
    if producers.is_empty() {
        return None;
    }
    Some((
        CdfChart {
            producers: producers.clone(),
        },
        ScatterChart {
            producers,
            end: result.end,
        },
    ))
}

fn latency_ms(us: u64) -> f64 {
    us as f64 / 1000.0
}

fn max_latency_ms(producers: &[ProducerLatency]) -> f64 {
    producers
        .iter()
        .filter_map(|p| p.sorted.last())
        .map(|l| latency_ms(*l))
        .fold(0.0, f64::max)
}

/// The CDF as a step line: for each latency, the fraction of records at or below it.
fn cdf_points(sorted: &[u64]) -> Vec<(f64, f64)> {
    let n = sorted.len() as f64;
    let mut points = Vec::with_capacity(sorted.len() * 2);
    for (i, l) in sorted.iter().enumerate() {
        let x = latency_ms(*l);
        points.push((x, i as f64 / n));
        points.push((x, (i + 1) as f64 / n));
    }
    downsample(&points, MAX_POINTS)
}

/// The CDF's height at the nearest-rank percentile `q`: rank / n.
fn rank_fraction(n: usize, q: u64) -> f64 {
    let rank = (n as u64 * q).div_ceil(100).max(1);
    rank as f64 / n as f64
}

impl Chart for CdfChart {
    fn file_stem(&self) -> String {
        "latency-cdf".to_string()
    }

    fn size(&self) -> (u32, u32) {
        style::SIZE
    }

    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> DrawResult
    where
        DB::ErrorType: 'static,
    {
        let mut chart = style::plot(
            root,
            "Produce latency: cumulative distribution per producer",
            up_to(max_latency_ms(&self.producers)),
            0.0..1.05,
        )?;
        let x_max = max_latency_ms(&self.producers);
        style::axes(
            &mut chart,
            "produce latency, send() to acknowledgement (ms)",
            "fraction of acknowledged records",
        )?;
        for (i, p) in self.producers.iter().enumerate() {
            let c = color(i);
            let line = c.stroke_width(2);
            chart
                .draw_series(LineSeries::new(cdf_points(&p.sorted), line))?
                .label(format!("{} ({} records)", p.producer, p.sorted.len()))
                .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], line));
            for (q, value) in [(50, p.p50), (99, p.p99)] {
                let Some(us) = value else { continue };
                let at = (latency_ms(us), rank_fraction(p.sorted.len(), q));
                let label = format!("{} p{q} {}", p.producer, SimDuration::from_us(us));
                // Labels left of marks in the right part of the chart, so they stay inside it.
                let right = at.0 > 0.6 * x_max;
                let anchor = Pos::new(if right { HPos::Right } else { HPos::Left }, VPos::Top);
                let dx = if right { -8 } else { 8 };
                let dy = if q == 50 { -16 } else { 2 };
                let style = TextStyle::from(text(12)).pos(anchor);
                let marker = EmptyElement::at(at)
                    + Circle::new((0, 0), 5, c.filled())
                    + Text::new(label.clone(), (dx, dy), style);
                chart
                    .draw_series([marker])?
                    .label(label)
                    .legend(move |(x, y)| Circle::new((x + 10, y), 5, c.filled()));
            }
        }
        style::legend(&mut chart, SeriesLabelPosition::LowerRight, 13)?;
        Ok(())
    }
}

impl Chart for ScatterChart {
    fn file_stem(&self) -> String {
        "latency-over-time".to_string()
    }

    fn size(&self) -> (u32, u32) {
        style::SIZE
    }

    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> DrawResult
    where
        DB::ErrorType: 'static,
    {
        let mut chart = ChartBuilder::on(root)
            .caption(
                "Produce latency of each record against its send time",
                style::caption(),
            )
            .margin(15)
            .x_label_area_size(X_LABEL_AREA)
            .y_label_area_size(Y_LABEL_AREA)
            .build_cartesian_2d(time_axis(self.end), up_to(max_latency_ms(&self.producers)))?;
        style::axes(&mut chart, "send time (simulated ms)", "produce latency (ms)")?;
        for (i, p) in self.producers.iter().enumerate() {
            let c = color(i);
            let points = downsample(&p.samples, MAX_POINTS);
            chart
                .draw_series(
                    points
                        .iter()
                        .map(|(sent, l)| Circle::new((ms(*sent), latency_ms(*l)), 2, c.filled())),
                )?
                .label(p.producer.as_str())
                .legend(move |(x, y)| Circle::new((x + 10, y), 4, c.filled()));
        }
        style::legend(&mut chart, SeriesLabelPosition::UpperRight, 13)?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_marks_sit_on_the_cdf_at_their_rank() {
        assert_eq!(rank_fraction(100, 50), 0.5);
        assert_eq!(rank_fraction(100, 99), 0.99);
        assert_eq!(rank_fraction(1, 99), 1.0);
        assert_eq!(cdf_points(&[1000]), vec![(1.0, 0.0), (1.0, 1.0)]);
    }
}

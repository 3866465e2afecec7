//! The sweep chart: records/s against p99 latency, one labelled point per combination.

use super::style::{self, color, text, up_to};
use super::{Chart, DrawResult};
use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

/// One combination's point.
#[derive(Clone, Debug, PartialEq)]
pub struct SweepPoint {
    /// Its settings, e.g. `acks=1 linger.ms=20`.
    pub label: String,
    /// The value of the first `--vary` key, which picks the point's colour and legend entry.
    pub group: String,
    /// p99 latency in ms.
    pub p99_ms: f64,
    /// Records per second.
    pub records_per_s: f64,
}

/// The chart of a sweep.
#[derive(Clone, Debug)]
pub struct SweepChart {
    /// The first `--vary` key (the legend's title).
    pub key: String,
    /// Whose throughput and latency, for the axis descriptions.
    pub throughput_of: String,
    /// Whose latency.
    pub latency_of: String,
    /// The points, in table order.
    pub points: Vec<SweepPoint>,
}

impl Chart for SweepChart {
    fn file_stem(&self) -> String {
        "sweep-throughput-latency".to_string()
    }

    fn size(&self) -> (u32, u32) {
        style::SIZE
    }

    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> DrawResult
    where
        DB::ErrorType: 'static,
    {
        let x_max = self.points.iter().map(|p| p.p99_ms).fold(0.0, f64::max);
        let y_max = self.points.iter().map(|p| p.records_per_s).fold(0.0, f64::max);
        let mut chart = style::plot(
            root,
            "Throughput against p99 latency, one point per combination",
            up_to(x_max * 1.1),
            up_to(y_max * 1.25),
        )?;
        style::axes(
            &mut chart,
            &format!("p99 produce latency of {} (ms)", self.latency_of),
            &format!("records/s of {}", self.throughput_of),
        )?;
        let mut groups: Vec<&str> = Vec::new();
        for p in &self.points {
            if !groups.contains(&p.group.as_str()) {
                groups.push(&p.group);
            }
        }
        for (i, group) in groups.iter().enumerate() {
            let c = color(i);
            let points = self.points.iter().filter(|p| p.group == *group).map(|p| {
                // Labels left of points in the right half, so they stay inside the chart.
                let right = p.p99_ms > 0.5 * x_max;
                let anchor = Pos::new(if right { HPos::Right } else { HPos::Left }, VPos::Center);
                let dx = if right { -8 } else { 8 };
                EmptyElement::at((p.p99_ms, p.records_per_s))
                    + Circle::new((0, 0), 5, c.filled())
                    + Text::new(p.label.clone(), (dx, 0), TextStyle::from(text(11)).pos(anchor))
            });
            chart
                .draw_series(points)?
                .label(format!("{}={group}", self.key))
                .legend(move |(x, y)| Circle::new((x + 10, y), 5, c.filled()));
        }
        style::legend(&mut chart, SeriesLabelPosition::UpperMiddle, 13)?;
        Ok(())
    }
}

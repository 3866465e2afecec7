//! A sequence diagram of a small run: one vertical lane per node, time flowing down, an arrow
//! per message from its send time on the sender's lane to its arrival time on the receiver's.
//! Time is not to scale: each row is a moment when something was sent or arrived (the left axis
//! gives its simulated time), and a grey line marks a long quiet gap, so that bursts a
//! millisecond apart stay readable in a run of seconds.
//! Requests are blue, responses green, the rest (heartbeats, metadata, connects) grey; a message
//! the network dropped is red and ends in an X where it was lost, one held on a cut link is
//! orange and ends in a circle (its retransmission after the heal is a new arrow).
//!
//! Drawn only for runs of at most [`MESSAGE_LIMIT`] messages: beyond that, nobody can read it.

use super::style::{X_LABEL_AREA, Y_LABEL_AREA, text};
use super::{Chart, DrawResult};
use crate::history::series::{Fate, MESSAGE_LIMIT, MessageRecord, Series};
use crate::scenario::Scenario;
use crate::sim::{NodeId, SimTime};
use crate::simulation::RunResult;
use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};
use std::collections::BTreeSet;

const REQUEST: RGBColor = RGBColor(31, 119, 180);
const RESPONSE: RGBColor = RGBColor(44, 160, 44);
const OTHER: RGBColor = RGBColor(150, 150, 150);
const DROPPED: RGBColor = RGBColor(214, 39, 40);
const HELD: RGBColor = RGBColor(255, 127, 14);

/// How an arrow is drawn.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    Request,
    Response,
    Other,
    Dropped,
    Held,
}

impl Kind {
    fn color(self) -> RGBColor {
        match self {
            Kind::Request => REQUEST,
            Kind::Response => RESPONSE,
            Kind::Other => OTHER,
            Kind::Dropped => DROPPED,
            Kind::Held => HELD,
        }
    }

    fn legend(self) -> &'static str {
        match self {
            Kind::Request => "request",
            Kind::Response => "response",
            Kind::Other => "other (connect, heartbeat, metadata)",
            Kind::Dropped => "dropped (X where it was lost)",
            Kind::Held => "held on a cut link (O)",
        }
    }
}

/// One arrow: from a lane at a row to a (possibly fractional) lane at a later row.
#[derive(Clone, Debug)]
struct Arrow {
    from_lane: f64,
    sent_row: f64,
    to_lane: f64,
    end_row: f64,
    kind: Kind,
    label: String,
}

/// The sequence diagram.
#[derive(Clone, Debug)]
pub struct SequenceChart {
    lanes: Vec<String>,
    arrows: Vec<Arrow>,
    /// The simulated time of each row, in µs.
    rows: Vec<u64>,
}

/// A gap between rows at least this long (µs) gets a grey line and its length.
const QUIET_GAP_US: u64 = 10_000;

/// The diagram, or why there is none (no messages, or too many).
pub fn chart(scenario: &Scenario, result: &RunResult, series: &Series) -> Result<SequenceChart, String> {
    let log = &series.messages;
    if log.total == 0 {
        return Err("no messages".to_string());
    }
    if log.total > MESSAGE_LIMIT as u64 {
        return Err(format!(
            "{} messages, more than {MESSAGE_LIMIT} (shorten the run with --until)",
            log.total
        ));
    }
    // Clients on the left, then brokers, then the controller.
    let controller = scenario.cluster.brokers;
    let order = |n: NodeId| (u8::from(n.0 <= controller) + u8::from(n.0 == controller), n.0);
    let nodes: BTreeSet<(u8, u32)> = log
        .messages
        .iter()
        .flat_map(|m| [order(m.from), order(m.to)])
        .collect();
    let nodes: Vec<u32> = nodes.into_iter().map(|(_, n)| n).collect();
    let lane = |n: NodeId| nodes.iter().position(|x| *x == n.0).unwrap_or(0) as f64;
    let rows: BTreeSet<u64> = log
        .messages
        .iter()
        .flat_map(|m| [m.sent, end_time(m)])
        .map(SimTime::as_us)
        .collect();
    let rows: Vec<u64> = rows.into_iter().collect();
    let row = |t: SimTime| rows.binary_search(&t.as_us()).unwrap_or(0) as f64;
    let arrows: Vec<Arrow> = log
        .messages
        .iter()
        .map(|m| arrow(m, lane(m.from), lane(m.to), &row))
        .collect();
    let lanes = nodes
        .iter()
        .map(|n| {
            result
                .names
                .nodes
                .get(*n as usize)
                .cloned()
                .unwrap_or_else(|| format!("node {n}"))
        })
        .collect();
    Ok(SequenceChart { lanes, arrows, rows })
}

/// When a message's arrow ends: when it arrived, was lost or was held.
fn end_time(m: &MessageRecord) -> SimTime {
    match m.fate {
        Fate::Arrived(at) | Fate::Dropped { at, .. } | Fate::Held(at) => at,
    }
}

fn arrow(m: &MessageRecord, from: f64, to: f64, row: &impl Fn(SimTime) -> f64) -> Arrow {
    let sent_row = row(m.sent);
    let (kind, end, why) = match m.fate {
        Fate::Arrived(at) if m.request => (Kind::Request, at, None),
        Fate::Arrived(at) if m.response => (Kind::Response, at, None),
        Fate::Arrived(at) => (Kind::Other, at, None),
        Fate::Dropped { at, why } => (Kind::Dropped, at, Some(why)),
        Fate::Held(at) => (Kind::Held, at, Some("held: link down")),
    };
    let (to_lane, end_row) = if end > m.sent {
        (to, row(end))
    } else {
        // Lost as it left: a short arrow toward the receiver.
        (from + 0.4 * (to - from), sent_row + 0.6)
    };
    let label = match why {
        Some(why) => format!("{} ({why})", m.label),
        None => m.label.clone(),
    };
    Arrow {
        from_lane: from,
        sent_row,
        to_lane,
        end_row,
        kind,
        label,
    }
}

impl SequenceChart {
    /// The simulated time of row `-v` (rows go down), or nothing between rows.
    fn time_label(&self, v: f64) -> String {
        let row = -v;
        let nearest = row.round();
        if (row - nearest).abs() > 1e-6 || nearest < 0.0 {
            return String::new();
        }
        self.rows
            .get(nearest as usize)
            .map_or(String::new(), |us| format!("{:.3}", *us as f64 / 1000.0))
    }
}

impl Chart for SequenceChart {
    fn file_stem(&self) -> String {
        "sequence".to_string()
    }

    fn size(&self) -> (u32, u32) {
        let width = (200 + 170 * self.lanes.len() as u32).max(900);
        let height = (200 + 18 * self.rows.len() as u32).clamp(600, 9000);
        (width, height)
    }

    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> DrawResult
    where
        DB::ErrorType: 'static,
    {
        let lanes = self.lanes.len() as f64;
        let last_row = self.rows.len().saturating_sub(1) as f64;
        let (bottom, top) = (-last_row - 0.8, 0.5);
        let title = format!("Messages between nodes ({}), time flows down", self.arrows.len());
        let area = root.titled(&title, super::style::caption())?;
        let mut chart = ChartBuilder::on(&area)
            .margin(15)
            .margin_top(40)
            .x_label_area_size(X_LABEL_AREA)
            .y_label_area_size(Y_LABEL_AREA)
            .build_cartesian_2d(-0.5..lanes - 0.5, bottom..top)?;
        let time_label = |v: &f64| self.time_label(*v);
        let no_label = |_: &f64| String::new();
        chart
            .configure_mesh()
            .disable_x_mesh()
            .x_labels(2)
            .x_label_formatter(&no_label)
            .y_label_formatter(&time_label)
            .y_label_style(text(11))
            .y_labels(self.rows.len().min(60))
            .disable_y_mesh()
            .x_desc("node (one lane each)")
            .y_desc("simulated time (ms), one row per moment, not to scale")
            .label_style(text(12))
            .axis_desc_style(text(14))
            .draw()?;
        let base = root.get_base_pixel();
        let px = |x: f64, y: f64| {
            let (a, b) = chart.backend_coord(&(x, y));
            (a - base.0, b - base.1)
        };
        for (i, name) in self.lanes.iter().enumerate() {
            let x = i as f64;
            let (top_x, top_y) = px(x, top);
            let lane_end = px(x, bottom);
            root.draw(&PathElement::new(
                vec![(top_x, top_y), lane_end],
                BLACK.mix(0.5).stroke_width(1),
            ))?;
            let name_style = TextStyle::from(text(14)).pos(Pos::new(HPos::Center, VPos::Bottom));
            root.draw(&Text::new(name.clone(), (top_x, top_y - 6), name_style))?;
        }
        let gap_style = TextStyle::from(text(11)).color(&OTHER);
        for (i, pair) in self.rows.windows(2).enumerate() {
            let gap = pair[1] - pair[0];
            if gap < QUIET_GAP_US {
                continue;
            }
            let y = -(i as f64) - 0.5;
            let (left, right) = (px(-0.5, y), px(lanes - 0.5, y));
            root.draw(&PathElement::new(
                vec![left, right],
                OTHER.mix(0.6).stroke_width(1),
            ))?;
            let what = format!("{} later", crate::sim::SimDuration::from_us(gap));
            root.draw(&Text::new(what, (left.0 + 4, left.1 - 13), gap_style.clone()))?;
        }
        let label_style = TextStyle::from(text(10))
            .color(&BLACK)
            .pos(Pos::new(HPos::Center, VPos::Bottom));
        for a in &self.arrows {
            let c = a.kind.color();
            let p1 = px(a.from_lane, -a.sent_row);
            let p2 = px(a.to_lane, -a.end_row);
            root.draw(&PathElement::new(vec![p1, p2], c.stroke_width(1)))?;
            match a.kind {
                Kind::Dropped => {
                    let (x, y) = p2;
                    let cross = c.stroke_width(2);
                    root.draw(&PathElement::new(vec![(x - 5, y - 5), (x + 5, y + 5)], cross))?;
                    root.draw(&PathElement::new(vec![(x - 5, y + 5), (x + 5, y - 5)], cross))?;
                }
                Kind::Held => root.draw(&Circle::new(p2, 4, c.stroke_width(2)))?,
                _ => {
                    if let Some(head) = arrowhead(p1, p2) {
                        root.draw(&Polygon::new(head, c.filled()))?;
                    }
                }
            }
            // Above the arrow's middle: arrows that leave one lane at once part there.
            let at = ((p1.0 + p2.0) / 2, (p1.1 + p2.1) / 2 - 2);
            root.draw(&Text::new(a.label.clone(), at, label_style.clone()))?;
        }
        for kind in [
            Kind::Request,
            Kind::Response,
            Kind::Other,
            Kind::Dropped,
            Kind::Held,
        ] {
            if !self.arrows.iter().any(|a| a.kind == kind) {
                continue;
            }
            let c = kind.color();
            chart
                .draw_series(std::iter::empty::<PathElement<(f64, f64)>>())?
                .label(kind.legend())
                .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], c.stroke_width(2)));
        }
        chart
            .configure_series_labels()
            .position(SeriesLabelPosition::LowerRight)
            .label_font(text(13))
            .background_style(WHITE.mix(0.9))
            .border_style(BLACK)
            .draw()?;
        Ok(())
    }
}

/// A filled triangle at `to`, pointing along `from -> to` (`None` for a zero-length arrow).
fn arrowhead(from: (i32, i32), to: (i32, i32)) -> Option<Vec<(i32, i32)>> {
    let (dx, dy) = (f64::from(to.0 - from.0), f64::from(to.1 - from.1));
    let len = (dx * dx + dy * dy).sqrt();
    if len < 1.0 {
        return None;
    }
    let (ux, uy) = (dx / len, dy / len);
    let (bx, by) = (f64::from(to.0) - 9.0 * ux, f64::from(to.1) - 9.0 * uy);
    let side = |s: f64| {
        (
            (bx - 4.0 * uy * s).round() as i32,
            (by + 4.0 * ux * s).round() as i32,
        )
    };
    Some(vec![to, side(1.0), side(-1.0)])
}

//! What every chart shares: sizes, fonts, colours, and the helpers that turn recorded samples
//! into lines (steps, downsampling, axis ranges).

use super::DrawResult;
use super::font::FAMILY;
use crate::sim::SimTime;
use plotters::coord::Shift;
use plotters::coord::types::RangedCoordf64;
use plotters::prelude::*;
use plotters::style::{FontDesc, FontStyle, IntoFont, RGBColor};
use std::ops::Range;

/// A chart with `f64` axes, as every chart but the sequence diagram draws.
pub type Plot<'a, DB> = ChartContext<'a, DB, Cartesian2d<RangedCoordf64, RangedCoordf64>>;

/// The frame of an ordinary chart on `root`: its caption, margins and label areas, over `x`
/// and `y`.
pub fn plot<'a, DB: DrawingBackend>(
    root: &'a DrawingArea<DB, Shift>,
    caption_text: &str,
    x: Range<f64>,
    y: Range<f64>,
) -> Result<Plot<'a, DB>, Box<dyn std::error::Error>>
where
    DB::ErrorType: 'static,
{
    Ok(ChartBuilder::on(root)
        .caption(caption_text, caption())
        .margin(15)
        .x_label_area_size(X_LABEL_AREA)
        .y_label_area_size(Y_LABEL_AREA)
        .build_cartesian_2d(x, y)?)
}

/// The grid, ticks and axis descriptions, the same on every chart with `f64` axes.
pub fn axes<DB: DrawingBackend>(chart: &mut Plot<'_, DB>, x_desc: &str, y_desc: &str) -> DrawResult
where
    DB::ErrorType: 'static,
{
    chart
        .configure_mesh()
        .x_desc(x_desc)
        .y_desc(y_desc)
        .label_style(text(12))
        .max_light_lines(2)
        .x_label_formatter(&tick)
        .y_label_formatter(&tick)
        .axis_desc_style(text(14))
        .draw()?;
    Ok(())
}

/// The legend box, at `position`, its labels `font_size` high.
pub fn legend<'a, DB: DrawingBackend + 'a>(
    chart: &mut Plot<'a, DB>,
    position: SeriesLabelPosition,
    font_size: u32,
) -> DrawResult
where
    DB::ErrorType: 'static,
{
    chart
        .configure_series_labels()
        .position(position)
        .label_font(text(font_size))
        .background_style(WHITE.mix(0.85))
        .border_style(BLACK)
        .draw()?;
    Ok(())
}

/// The size of an ordinary chart.
pub const SIZE: (u32, u32) = (1000, 600);

/// Points kept per drawn line (the SVG stays small; see [`downsample`]).
pub const MAX_POINTS: usize = 2000;

/// Pixels for the y axis labels and description (TOOLING.md: at least 60).
pub const Y_LABEL_AREA: u32 = 80;

/// Pixels for the x axis labels and description.
pub const X_LABEL_AREA: u32 = 50;

/// The caption font.
pub fn caption() -> FontDesc<'static> {
    (FAMILY, 20, FontStyle::Bold).into_font()
}

/// Axis labels, legends and annotations.
pub fn text(size: u32) -> FontDesc<'static> {
    (FAMILY, size).into_font()
}

/// Ten colours that stay apart (Tableau 10), for series number `i`.
pub fn color(i: usize) -> RGBColor {
    const COLORS: [(u8, u8, u8); 10] = [
        (31, 119, 180),
        (255, 127, 14),
        (44, 160, 44),
        (214, 39, 40),
        (148, 103, 189),
        (140, 86, 75),
        (227, 119, 194),
        (127, 127, 127),
        (188, 189, 34),
        (23, 190, 207),
    ];
    let (r, g, b) = COLORS[i % COLORS.len()];
    RGBColor(r, g, b)
}

/// An axis tick: at most three decimals, no trailing zeros (`2000`, `0.25`).
pub fn tick(v: &f64) -> String {
    let s = format!("{v:.3}");
    let s = s.trim_end_matches('0').trim_end_matches('.');
    if s == "-0" { "0".to_string() } else { s.to_string() }
}

/// The stroke width of line `i` of `n`: earlier lines are wider, so a line that another one
/// covers still shows at its edges.
pub fn width(i: usize, n: usize) -> u32 {
    2 + n.saturating_sub(i + 1).min(2) as u32
}

/// Simulated time in milliseconds, the charts' time unit.
pub fn ms(t: SimTime) -> f64 {
    t.as_us() as f64 / 1000.0
}

/// A step line through `(time, value)` changes: each value holds until the next change, and
/// the last one until `end`. At most [`MAX_POINTS`] points.
pub fn steps(changes: &[(SimTime, u64)], end: SimTime) -> Vec<(f64, f64)> {
    // Two points per change: thin the changes to half the budget first.
    let changes = downsample(changes, MAX_POINTS / 2 - 1);
    let mut points = Vec::with_capacity(changes.len() * 2 + 1);
    for (t, v) in changes {
        if let Some(&(_, before)) = points.last() {
            points.push((ms(t), before));
        }
        points.push((ms(t), v as f64));
    }
    if let Some(&(t, v)) = points.last()
        && ms(end) > t
    {
        points.push((ms(end), v));
    }
    points
}

/// At most `max` of `points`, evenly spaced by index, always keeping the first and the last:
/// the same input gives the same output.
pub fn downsample<T: Copy>(points: &[T], max: usize) -> Vec<T> {
    if points.len() <= max || max < 2 {
        return points.to_vec();
    }
    let last = points.len() - 1;
    (0..max).map(|i| points[i * last / (max - 1)]).collect()
}

/// The highest y of named point series (0 for none).
pub fn highest<N>(series: &[(N, Vec<(f64, f64)>)]) -> f64 {
    series
        .iter()
        .flat_map(|(_, points)| points.iter().map(|(_, y)| *y))
        .fold(0.0, f64::max)
}

/// `0..max` with 5% headroom; `0..1` when there is nothing to show.
pub fn up_to(max: f64) -> Range<f64> {
    if max.is_finite() && max > 0.0 {
        0.0..max * 1.05
    } else {
        0.0..1.0
    }
}

/// The time axis of a run that ended at `end` (never empty).
pub fn time_axis(end: SimTime) -> Range<f64> {
    let end = ms(end);
    if end > 0.0 { 0.0..end } else { 0.0..1.0 }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn downsampling_keeps_the_ends_and_the_budget() {
        let v: Vec<u32> = (0..10_000).collect();
        let d = downsample(&v, 100);
        assert_eq!(d.len(), 100);
        assert_eq!((d[0], d[99]), (0, 9_999));
        assert_eq!(downsample(&v[..3], 100), vec![0, 1, 2]);
    }

    #[test]
    fn steps_hold_each_value_until_the_next_change() {
        let t = SimTime::from_us;
        let p = steps(&[(t(0), 1), (t(2000), 3)], t(5000));
        assert_eq!(p, vec![(0.0, 1.0), (2.0, 1.0), (2.0, 3.0), (5.0, 3.0)]);
        assert!(steps(&[], t(5000)).is_empty());
        assert!(steps(&vec![(t(1), 1); 5000], t(2)).len() <= MAX_POINTS);
    }
}

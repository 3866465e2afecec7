//! Charts of one run, drawn with plotters: SVG always, PNG on request, byte-identical for the
//! same scenario and seed (an embedded font, no system fonts, no clock, ordered maps only).
//!
//! - `partition-<topic>-<n>`: every replica's log end offset and the high watermark over time,
//!   with leader elections and ISR changes marked (and each replica's log start offset once
//!   retention or `DeleteRecords` moved it);
//! - `disk`: each broker's bytes on disk (its replicas of the scenario's topics) over time;
//! - `latency-cdf` and `latency-over-time`: each producer's produce latency;
//! - `throughput`: records/s and bytes/s per producer and per broker;
//! - `lag-<group>`: each consumer group's lag per partition over time (to the last stable
//!   offset for a `read_committed` group);
//! - `sequence`: the messages between nodes, for runs of at most
//!   [`MESSAGE_LIMIT`](crate::history::series::MESSAGE_LIMIT) messages.
//!
//! The data comes from the run's [`History`](crate::history::History) and its
//! [`Series`], recorded when
//! [`RunOptions::charts`](crate::simulation::RunOptions::charts) is on.

mod disk;
mod font;
mod lag;
pub mod latency;
mod partition;
mod sequence;
mod style;
pub mod sweep;
mod throughput;

use crate::history::series::Series;
use crate::scenario::Scenario;
use crate::simulation::RunResult;
use plotters::coord::Shift;
use plotters::prelude::{BitMapBackend, DrawingArea, DrawingBackend, IntoDrawingArea, SVGBackend};
use std::error::Error;

/// What drawing a chart can fail with (a plotters error: a bug, not bad input).
pub type DrawResult = Result<(), Box<dyn Error>>;

/// One chart, ready to draw on any plotters backend.
pub trait Chart {
    /// The file name without its extension, e.g. `partition-orders-0`.
    fn file_stem(&self) -> String;
    /// Width and height in pixels.
    fn size(&self) -> (u32, u32);
    /// Draws the chart on `root`, which is already filled white.
    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> DrawResult
    where
        DB::ErrorType: 'static;
}

/// One written chart.
#[derive(Clone, Debug)]
pub struct ChartFile {
    /// The file name without its extension.
    pub stem: String,
    /// The SVG text.
    pub svg: String,
    /// The PNG bytes, when asked for.
    pub png: Option<Vec<u8>>,
}

/// Every chart of a run, and the ones left out with the reason.
#[derive(Clone, Debug, Default)]
pub struct Charts {
    /// The charts, in a stable order.
    pub files: Vec<ChartFile>,
    /// (file name, why it was not drawn).
    pub skipped: Vec<(String, String)>,
}

impl Charts {
    fn add<C: Chart>(&mut self, chart: &C, png: bool) -> Result<(), String> {
        let stem = chart.file_stem();
        let fail = |e: Box<dyn Error>| format!("cannot draw {stem}: {e}");
        let svg = render_svg(chart).map_err(fail)?;
        let png = if png {
            Some(render_png(chart).map_err(fail)?)
        } else {
            None
        };
        self.files.push(ChartFile {
            stem: stem.clone(),
            svg,
            png,
        });
        Ok(())
    }

    fn skip(&mut self, stem: &str, why: String) {
        self.skipped.push((format!("{stem}.svg"), why));
    }
}

/// Draws every chart of `result`. It must come from a run with
/// [`RunOptions::charts`](crate::simulation::RunOptions::charts) on; otherwise only the charts
/// that the history alone can draw are made.
pub fn charts(scenario: &Scenario, result: &RunResult, png: bool) -> Result<Charts, String> {
    font::register()?;
    let empty = Series::default();
    let series = result.history.series.as_deref().unwrap_or(&empty);
    let mut out = Charts::default();
    for chart in partition::charts(scenario, result, series) {
        out.add(&chart, png)?;
    }
    match disk::chart(scenario, result, series) {
        Some(chart) => out.add(&chart, png)?,
        None => out.skip("disk", "no record was stored".to_string()),
    }
    match latency::charts(scenario, result) {
        Some((cdf, scatter)) => {
            out.add(&cdf, png)?;
            out.add(&scatter, png)?;
        }
        None => {
            let why = "no acknowledged records".to_string();
            out.skip("latency-cdf", why.clone());
            out.skip("latency-over-time", why);
        }
    }
    match throughput::chart(scenario, result, series) {
        Some(chart) => out.add(&chart, png)?,
        None => out.skip("throughput", "no produce requests".to_string()),
    }
    for chart in lag::charts(scenario, result, series) {
        match chart {
            Ok(chart) => out.add(&chart, png)?,
            Err((stem, why)) => out.skip(&stem, why),
        }
    }
    match sequence::chart(scenario, result, series) {
        Ok(chart) => out.add(&chart, png)?,
        Err(why) => out.skip("sequence", why),
    }
    Ok(out)
}

/// Draws one chart on its own (the sweep's), as SVG and, when asked, PNG.
pub fn single<C: Chart>(chart: &C, png: bool) -> Result<ChartFile, String> {
    font::register()?;
    let mut out = Charts::default();
    out.add(chart, png)?;
    out.files
        .pop()
        .ok_or_else(|| "the chart was not drawn".to_string())
}

/// The chart as SVG text.
pub fn render_svg<C: Chart>(chart: &C) -> Result<String, Box<dyn Error>> {
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, chart.size()).into_drawing_area();
        root.fill(&plotters::style::WHITE)?;
        chart.draw(&root)?;
        root.present()?;
    }
    Ok(svg)
}

/// The chart as a PNG file (8-bit RGB).
pub fn render_png<C: Chart>(chart: &C) -> Result<Vec<u8>, Box<dyn Error>> {
    let (w, h) = chart.size();
    let mut rgb = vec![0u8; w as usize * h as usize * 3];
    {
        let root = BitMapBackend::with_buffer(&mut rgb, (w, h)).into_drawing_area();
        root.fill(&plotters::style::WHITE)?;
        chart.draw(&root)?;
        root.present()?;
    }
    let mut png = Vec::new();
    let mut encoder = png::Encoder::new(&mut png, w, h);
    encoder.set_color(png::ColorType::Rgb);
    encoder.set_depth(png::BitDepth::Eight);
    let mut writer = encoder.write_header()?;
    writer.write_image_data(&rgb)?;
    writer.finish()?;
    Ok(png)
}

/// A name made safe for a file name: letters, digits, `-`, `_` and `.` stay, anything else
/// becomes `_`.
pub fn file_safe(name: &str) -> String {
    name.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.') {
                c
            } else {
                '_'
            }
        })
        .collect()
}

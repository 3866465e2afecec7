//! Charts (`kafkasim run --out DIR [--png]`): byte-identical for a seed, well-formed SVG and PNG
//! with the expected series, golden files for a few, and latency marks equal to the summary's.

use crate::support::{bundled_scenarios, kafkasim, parse_scenario, scratch_dir};
use kafkasim::check::check;
use kafkasim::report::charts::{charts, latency::producer_latencies};
use kafkasim::report::summary;
use kafkasim::scenario::Scenario;
use kafkasim::sim::SimDuration;
use kafkasim::simulation::{RunOptions, RunResult, run};
use std::collections::BTreeMap;
use std::path::Path;

/// `kafkasim run <name> --out <dir> --png`; returns stdout.
fn run_with_charts(name: &str, dir: &Path) -> String {
    let o = kafkasim()
        .args(["run", name, "--no-trace", "--png", "--out"])
        .arg(dir)
        .output()
        .expect("the binary starts");
    assert_eq!(o.status.code(), Some(0), "{}", String::from_utf8_lossy(&o.stderr));
    String::from_utf8(o.stdout).expect("utf-8")
}

/// Every file under `dir/charts`, by name.
fn chart_files(dir: &Path) -> BTreeMap<String, Vec<u8>> {
    std::fs::read_dir(dir.join("charts"))
        .expect("charts/ was written")
        .map(|e| {
            let path = e.expect("a readable entry").path();
            let name = path
                .file_name()
                .and_then(|n| n.to_str())
                .expect("utf-8")
                .to_string();
            (name, std::fs::read(&path).expect("readable"))
        })
        .collect()
}

/// A run that records what the charts need.
fn run_charted(s: &Scenario) -> RunResult {
    let opts = RunOptions {
        trace: None,
        charts: true,
        ..RunOptions::default()
    };
    run(s, &opts)
}

fn bundled(name: &str) -> Scenario {
    bundled_scenarios()
        .into_iter()
        .find(|s| s.name == name)
        .unwrap_or_else(|| panic!("no bundled scenario {name}"))
}

/// Checks that `svg` is one `<svg>` element whose tags nest properly; returns the problem.
pub fn well_formed(svg: &str) -> Result<(), String> {
    let body = svg.trim_end();
    if !body.starts_with("<svg") || !body.ends_with("</svg>") {
        return Err("does not start with <svg and end with </svg>".to_string());
    }
    let mut open: Vec<&str> = Vec::new();
    let mut rest = body;
    while let Some(start) = rest.find('<') {
        let end = rest[start..].find('>').ok_or("a tag is not closed")? + start;
        let tag = &rest[start + 1..end];
        rest = &rest[end + 1..];
        if let Some(name) = tag.strip_prefix('/') {
            match open.pop() {
                Some(o) if o == name.trim() => {}
                other => return Err(format!("</{name}> closes {other:?}")),
            }
        } else if !tag.ends_with('/') && !tag.starts_with('?') && !tag.starts_with('!') {
            open.push(tag.split_whitespace().next().unwrap_or(""));
        }
        if open.is_empty() && !rest.trim().is_empty() {
            return Err("text after the root element".to_string());
        }
    }
    if open.is_empty() {
        Ok(())
    } else {
        Err(format!("unclosed: {open:?}"))
    }
}

/// The `width` and `height` attributes of the root `<svg>` element.
fn svg_size(svg: &str) -> (u32, u32) {
    let attr = |name: &str| -> u32 {
        let key = format!(" {name}=\"");
        let at = svg.find(&key).expect("the attribute") + key.len();
        let len = svg[at..].find('"').expect("closing quote");
        svg[at..at + len].parse().expect("a number")
    };
    (attr("width"), attr("height"))
}

/// Checks the PNG signature and IHDR, decodes it, and returns its size.
pub fn check_png(name: &str, bytes: &[u8]) -> (u32, u32) {
    assert_eq!(&bytes[..8], b"\x89PNG\r\n\x1a\n", "{name}: PNG signature");
    assert_eq!(&bytes[12..16], b"IHDR", "{name}: IHDR first");
    let be = |b: &[u8]| u32::from_be_bytes([b[0], b[1], b[2], b[3]]);
    let (w, h) = (be(&bytes[16..20]), be(&bytes[20..24]));
    let mut reader = png::Decoder::new(std::io::Cursor::new(bytes))
        .read_info()
        .unwrap_or_else(|e| panic!("{name}: {e}"));
    let mut pixels = vec![0; reader.output_buffer_size().expect("a sane size")];
    let frame = reader
        .next_frame(&mut pixels)
        .unwrap_or_else(|e| panic!("{name}: {e}"));
    assert_eq!(
        (frame.width, frame.height),
        (w, h),
        "{name}: IHDR matches the frame"
    );
    let pixels = &pixels[..frame.buffer_size()];
    assert!(pixels.iter().any(|b| *b != 255), "{name}: not a blank picture");
    (w, h)
}

/// The series and labels each chart of scenario `name` must show.
fn expected(name: &str, file: &str) -> &'static [&'static str] {
    match file {
        "partition-payments-0.svg" if name == "acks1-leader-crash-loss" => &[
            "payments-0",
            "broker-1 LEO",
            "broker-2 LEO",
            "broker-3 LEO",
            "HW",
            "leader election",
            "leader broker-2",
            "ISR change",
            "simulated time (ms)",
            "offset (records)",
        ],
        "latency-cdf.svg" => &[
            "p1 (",
            "p1 p50 ",
            "p1 p99 ",
            "fraction of acknowledged records",
            "(ms)",
        ],
        "latency-over-time.svg" => &["p1", "send time (simulated ms)", "produce latency (ms)"],
        "throughput.svg" => &[
            "p1 sent",
            "broker-1 appended",
            "records/s",
            "bytes/s",
            "simulated time (ms)",
        ],
        "lag-g1.svg" => &[
            "group g1",
            "orders-0",
            "orders-5",
            "rebalance",
            "lag (records)",
            "simulated time (ms)",
        ],
        "sequence.svg" => &[
            "p1",
            "broker-1",
            "Produce req 1",
            "Produce response to req 1",
            "Produce response to req 11 (DropResponses fault)",
            "dropped (X where it was lost)",
        ],
        f if f.starts_with("partition-") => &[" LEO", "HW", "offset (records)"],
        _ => &[],
    }
}

#[test]
fn charts_are_byte_identical_for_the_same_seed() {
    for name in [
        "acks1-leader-crash-loss",
        "group-rebalance-range",
        "lost-response-duplicate",
    ] {
        let a = scratch_dir(&format!("charts-a-{name}"));
        let b = scratch_dir(&format!("charts-b-{name}"));
        run_with_charts(name, &a);
        run_with_charts(name, &b);
        let (a, b) = (chart_files(&a), chart_files(&b));
        assert!(!a.is_empty(), "{name}: no charts");
        assert_eq!(
            a.keys().collect::<Vec<_>>(),
            b.keys().collect::<Vec<_>>(),
            "{name}"
        );
        for (file, bytes) in &a {
            assert!(b[file] == *bytes, "{name}: {file} differs between two runs");
        }
    }
}

#[test]
fn every_chart_is_a_well_formed_svg_or_png_with_its_series() {
    let mut seen = Vec::new();
    for name in [
        "acks1-leader-crash-loss",
        "group-rebalance-range",
        "lost-response-duplicate",
    ] {
        let dir = scratch_dir(&format!("charts-check-{name}"));
        let out = run_with_charts(name, &dir);
        let files = chart_files(&dir);
        for (file, bytes) in &files {
            assert!(
                out.contains(&format!("charts/{file}")),
                "{name}: `wrote` misses {file}:\n{out}"
            );
            let Some(stem) = file.strip_suffix(".svg") else {
                continue;
            };
            let svg = std::str::from_utf8(bytes).expect("SVG is UTF-8");
            well_formed(svg).unwrap_or_else(|e| panic!("{name}/{file}: {e}"));
            assert!(
                svg.contains("<polyline") || svg.contains("<circle"),
                "{name}/{file}: no data"
            );
            for label in expected(name, file) {
                assert!(svg.contains(label), "{name}/{file} lacks {label:?}");
            }
            let png = files
                .get(&format!("{stem}.png"))
                .unwrap_or_else(|| panic!("{name}: {stem}.png missing"));
            assert_eq!(
                check_png(file, png),
                svg_size(svg),
                "{name}/{stem}: PNG and SVG sizes"
            );
            seen.push(file.clone());
        }
    }
    for file in [
        "partition-payments-0.svg",
        "latency-cdf.svg",
        "throughput.svg",
        "lag-g1.svg",
        "sequence.svg",
    ] {
        assert!(seen.iter().any(|f| f == file), "{file} was never drawn");
    }
}

#[test]
fn charts_that_do_not_apply_are_skipped_and_said_so() {
    let dir = scratch_dir("charts-skipped");
    let out = run_with_charts("acks1-leader-crash-loss", &dir);
    let files = chart_files(&dir);
    // No consumer group: no lag chart. 708 messages: no sequence diagram.
    assert!(!files.keys().any(|f| f.starts_with("lag-")), "{files:?}");
    assert!(!files.contains_key("sequence.svg"));
    assert!(
        out.contains("skipped ") && out.contains("sequence.svg: 708 messages, more than 300"),
        "{out}"
    );
}

#[test]
fn tiny_and_empty_runs_still_draw_or_skip_cleanly() {
    for until in ["0ms", "1us", "3ms"] {
        let dir = scratch_dir(&format!("charts-until-{until}"));
        let o = kafkasim()
            .args(["run", "one-partition-order", "--until", until, "--png", "--out"])
            .arg(&dir)
            .output()
            .expect("runs");
        assert_eq!(
            o.status.code(),
            Some(0),
            "--until {until}: {}",
            String::from_utf8_lossy(&o.stderr)
        );
        for (file, bytes) in chart_files(&dir) {
            if file.ends_with(".svg") {
                well_formed(std::str::from_utf8(&bytes).expect("utf-8"))
                    .unwrap_or_else(|e| panic!("{file}: {e}"));
            }
        }
    }
    let idle = parse_scenario(
        "idle.ron",
        r#"Scenario(name: "idle", description: "Nobody produces.", seed: 1, duration: "1s",
            cluster: (brokers: 1), topics: [(name: "t", partitions: 1)], producers: [])"#,
    );
    let result = run_charted(&idle);
    let drawn = charts(&idle, &result, true).expect("charts of an idle cluster");
    let skipped: Vec<&str> = drawn.skipped.iter().map(|(f, _)| f.as_str()).collect();
    assert!(
        skipped.contains(&"latency-cdf.svg") && skipped.contains(&"throughput.svg"),
        "{skipped:?}"
    );
    assert!(drawn.files.iter().any(|f| f.stem == "partition-t-0"));
}

#[test]
fn recording_for_charts_does_not_change_what_happens() {
    for s in bundled_scenarios() {
        let plain = run(
            &s,
            &RunOptions {
                trace: None,
                ..RunOptions::default()
            },
        );
        assert!(
            plain.history.series.is_none(),
            "{}: recorded without being asked",
            s.name
        );
        let charted = run_charted(&s);
        assert_eq!(
            summary(&s, &plain, &check(&s, &plain)),
            summary(&s, &charted, &check(&s, &charted)),
            "{}: charts must only observe",
            s.name
        );
    }
}

/// The p50/p99 the latency CDF marks are the summary's, to the microsecond, and the chart
/// prints them as the summary does.
#[test]
fn latency_marks_agree_with_the_summary() {
    for name in [
        "acks1-leader-crash-loss",
        "lost-response-duplicate",
        "linger-batching",
    ] {
        let s = bundled(name);
        let result = run_charted(&s);
        let text = summary(&s, &result, &check(&s, &result));
        let drawn = charts(&s, &result, false).expect("charts");
        let cdf = drawn
            .files
            .iter()
            .find(|f| f.stem == "latency-cdf")
            .expect("a latency CDF");
        for p in producer_latencies(&s, &result) {
            let row: Vec<&str> = text
                .lines()
                .find(|l| l.split_whitespace().next() == Some(p.producer.as_str()) && l.contains("ms"))
                .unwrap_or_else(|| panic!("{name}: no summary row for {}", p.producer))
                .split_whitespace()
                .collect();
            // id sent acked failed pending retries requests rec/batch p50 p99 max
            let (p50, p99) = (row[8], row[9]);
            let shown = |us: Option<u64>| us.map_or("-".to_string(), |u| SimDuration::from_us(u).to_string());
            assert_eq!(shown(p.p50), p50, "{name}: {} p50", p.producer);
            assert_eq!(shown(p.p99), p99, "{name}: {} p99", p.producer);
            if p.sorted.is_empty() {
                continue; // Not on the chart: nothing was acknowledged.
            }
            for (q, value) in [("p50", p50), ("p99", p99)] {
                let mark = format!("{} {q} {value}", p.producer);
                assert!(cdf.svg.contains(&mark), "{name}: the CDF lacks {mark:?}");
            }
        }
    }
}

#[test]
fn charts_match_their_snapshots() {
    let s = bundled("one-partition-order");
    let result = run_charted(&s);
    let drawn = charts(&s, &result, false).expect("charts");
    for stem in ["partition-orders-0", "latency-cdf", "sequence"] {
        let chart = drawn
            .files
            .iter()
            .find(|f| f.stem == stem)
            .unwrap_or_else(|| panic!("no {stem}"));
        insta::with_settings!({ snapshot_path => "../../snapshots", prepend_module_to_snapshot => false, omit_expression => true }, {
            insta::assert_snapshot!(format!("{}.chart-{stem}", s.name), chart.svg);
        });
    }
}

/// Retention shows in the charts: each replica's log start offset steps up in the partition
/// chart, and each broker's bytes on disk drop at the retention checks.
#[test]
fn retention_shows_as_log_start_steps_and_drops_in_bytes_on_disk() {
    let s = bundled_scenarios()
        .into_iter()
        .find(|s| s.name == "retention-bytes")
        .expect("the bundled retention-bytes scenario");
    let result = run_charted(&s);
    let drawn = charts(&s, &result, false).expect("charts");
    let svg = |stem: &str| {
        drawn
            .files
            .iter()
            .find(|f| f.stem == stem)
            .unwrap_or_else(|| panic!("no {stem} chart"))
            .svg
            .clone()
    };
    assert!(svg("partition-orders-0").contains("broker-1 log start"));
    assert!(svg("disk").contains("bytes on disk per broker"));
    let series = result.history.series.as_deref().expect("recorded for charts");
    for ((tp, broker), starts) in &series.log_start {
        assert!(
            starts.windows(2).all(|w| w[0].1 <= w[1].1),
            "{tp:?} on broker {broker}: a log start offset never moves down"
        );
        let sizes = &series.log_bytes[&(*tp, *broker)];
        assert!(
            sizes.windows(2).any(|w| w[1].1 < w[0].1),
            "{tp:?} on broker {broker}: retention shrinks the log"
        );
    }
    assert_eq!(series.log_start.len(), 3, "every replica's log start moved");
}

//! Bad input never panics. Every file in `tests/bad` is a small scenario with one mistake; its
//! first comment lines say what the error must say, where it must point and what the hint must
//! suggest:
//!
//! ```text
//! // error: <a substring of the message>
//! // at: <line>:<column>                  (or <file>:<line>:<column>, a file the scenario loads,
//! //                                        relative to tests/bad)
//! // help: <a substring of the hint>      (optional)
//! ```
//!
//! Mangled copies of the bundled scenarios must give an error or a scenario, never a panic.

use crate::support::kafkasim;
use kafkasim::commands::bundled;
use kafkasim::scenario::{Location, Scenario, ScenarioError};
use std::panic::{AssertUnwindSafe, catch_unwind};

/// The corpus, relative to the crate root (the tests' working directory).
const CORPUS: &str = "tests/bad";

/// What a corpus file's header promises.
struct Expected {
    error: String,
    /// The file the error is in, when it is not the corpus file itself (a properties file).
    in_file: Option<String>,
    at: Location,
    help: Option<String>,
}

/// The corpus file names, sorted.
fn corpus_files() -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(CORPUS)
        .expect("tests/bad exists")
        .map(|e| {
            e.expect("readable entry")
                .file_name()
                .to_string_lossy()
                .into_owned()
        })
        .filter(|n| n.ends_with(".ron"))
        .collect();
    names.sort();
    names
}

/// Reads the `// error:`, `// at:` and `// help:` lines at the top of a corpus file.
fn header(text: &str) -> Result<Expected, String> {
    let (mut error, mut at, mut help) = (None, None, None);
    for line in text.lines().take_while(|l| l.starts_with("//")) {
        if let Some(v) = line.strip_prefix("// error: ") {
            error = Some(v.to_string());
        } else if let Some(v) = line.strip_prefix("// at: ") {
            at = Some(v.to_string());
        } else if let Some(v) = line.strip_prefix("// help: ") {
            help = Some(v.to_string());
        }
    }
    let error = error.ok_or("the header has no `// error:` line")?;
    let at = at.ok_or("the header has no `// at:` line")?;
    let mut parts = at.rsplitn(3, ':');
    let (column, line, in_file) = (parts.next(), parts.next(), parts.next());
    let location = line
        .zip(column)
        .and_then(|(l, c)| Some((l.trim().parse().ok()?, c.trim().parse().ok()?)))
        .map(|(line, column)| Location { line, column })
        .ok_or_else(|| format!("`// at: {at}` is not line:column or file:line:column"))?;
    Ok(Expected {
        error,
        in_file: in_file.map(|f| format!("{CORPUS}/{f}")),
        at: location,
        help,
    })
}

/// Every way `err` differs from what the header promises.
fn mismatches(path: &str, expected: &Expected, err: &ScenarioError) -> Vec<String> {
    let mut problems = Vec::new();
    if !err.message.contains(&expected.error) {
        problems.push(format!(
            "message {:?} does not contain {:?}",
            err.message, expected.error
        ));
    }
    let file = expected.in_file.as_deref().unwrap_or(path);
    match err.place.location {
        Some(loc) if loc == expected.at => {
            let arrow = format!("--> {file}:{}:{}", loc.line, loc.column);
            let rendered = err.to_string();
            if !rendered.contains(&arrow) {
                problems.push(format!("the rendered error lacks `{arrow}`:\n{rendered}"));
            }
        }
        Some(loc) => problems.push(format!(
            "points at {}:{}, expected {}:{}",
            loc.line, loc.column, expected.at.line, expected.at.column
        )),
        None => problems.push("has no location".to_string()),
    }
    if let Some(want) = &expected.help {
        match &err.help {
            Some(help) if help.contains(want.as_str()) => {}
            Some(help) => problems.push(format!("help {help:?} does not contain {want:?}")),
            None => problems.push(format!("has no help, expected one containing {want:?}")),
        }
    }
    problems
}

/// The message a panic carried.
fn panic_text(payload: &(dyn std::any::Any + Send)) -> String {
    payload
        .downcast_ref::<&str>()
        .map(|s| (*s).to_string())
        .or_else(|| payload.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "(no message)".to_string())
}

/// `text` indented under a failure line.
fn indent(text: &str) -> String {
    text.lines().map(|l| format!("      {l}\n")).collect()
}

#[test]
fn every_bad_file_gives_its_promised_error() {
    let files = corpus_files();
    assert!(files.len() >= 30, "tests/bad has only {} files", files.len());
    let mut failures = Vec::new();
    for name in &files {
        let path = format!("{CORPUS}/{name}");
        // Lossy: one corpus file is not UTF-8 on purpose; its header still is.
        let bytes = std::fs::read(&path).expect("corpus files are readable");
        let expected = match header(&String::from_utf8_lossy(&bytes)) {
            Ok(e) => e,
            Err(why) => {
                failures.push(format!("{name}: {why}"));
                continue;
            }
        };
        let outcome = catch_unwind(AssertUnwindSafe(|| Scenario::from_file(&path)));
        match outcome {
            Err(payload) => failures.push(format!("{name}: PANICKED: {}", panic_text(payload.as_ref()))),
            Ok(Ok(_)) => failures.push(format!("{name}: parsed without error")),
            Ok(Err(err)) => {
                let problems = mismatches(&path, &expected, &err);
                if !problems.is_empty() {
                    failures.push(format!(
                        "{name}: {}\n{}",
                        problems.join("; "),
                        indent(&err.to_string())
                    ));
                }
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} bad files do not give the promised error:\n\n{}",
        failures.len(),
        files.len(),
        failures.join("\n\n")
    );
}

#[test]
fn check_rejects_every_bad_file_with_exit_code_2() {
    let o = kafkasim()
        .args(["check", &format!("{CORPUS}/")])
        .output()
        .expect("runs");
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(2), "{stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
    let missing: Vec<String> = corpus_files()
        .into_iter()
        .filter(|name| !stderr.contains(&format!("{CORPUS}/{name}:")))
        .collect();
    assert!(
        missing.is_empty(),
        "stderr does not mention {missing:?}:\n{stderr}"
    );
}

/// About this many evenly spaced places in each bundled scenario are cut, deleted or overwritten.
const PLACES: usize = 200;

/// Characters written over one character of a valid scenario.
const OVERWRITES: [char; 6] = ['"', '(', ']', ':', '-', '9'];

/// Byte offsets spread evenly over `text`, each moved forward to a character boundary.
fn places(text: &str) -> Vec<usize> {
    let mut out: Vec<usize> = (0..PLACES)
        .map(|i| {
            let mut at = i * text.len() / PLACES;
            while !text.is_char_boundary(at) {
                at += 1;
            }
            at
        })
        .collect();
    out.dedup();
    out
}

/// Every variant of `text` the sweep tries, with a description: cut at a place, one character
/// deleted, one character overwritten.
fn mangled(text: &str) -> Vec<(String, String)> {
    let mut variants = Vec::new();
    for at in places(text) {
        let next = text[at..].chars().next().map_or(at, |c| at + c.len_utf8());
        variants.push((format!("cut at byte {at}"), text[..at].to_string()));
        variants.push((
            format!("byte {at} deleted"),
            format!("{}{}", &text[..at], &text[next..]),
        ));
        for c in OVERWRITES {
            variants.push((
                format!("byte {at} replaced by {c:?}"),
                format!("{}{c}{}", &text[..at], &text[next..]),
            ));
        }
    }
    variants
}

#[test]
fn mangled_bundled_scenarios_never_panic() {
    // One thread per scenario keeps the sweep quick in debug builds.
    let results: Vec<(usize, Vec<String>)> = std::thread::scope(|scope| {
        let workers: Vec<_> = bundled()
            .iter()
            .map(|(file, text)| {
                scope.spawn(move || {
                    let variants = mangled(text);
                    let panics = variants
                        .iter()
                        .filter_map(|(what, variant)| {
                            catch_unwind(|| {
                                let _ = Scenario::parse(file, variant);
                            })
                            .err()
                            .map(|payload| format!("{file}, {what}: {}", panic_text(payload.as_ref())))
                        })
                        .collect();
                    (variants.len(), panics)
                })
            })
            .collect();
        workers
            .into_iter()
            .map(|w| w.join().expect("a sweep thread ends"))
            .collect()
    });
    let tried: usize = results.iter().map(|(n, _)| n).sum();
    let panics: Vec<String> = results.into_iter().flat_map(|(_, p)| p).collect();
    assert!(tried > 1000, "only {tried} variants were tried");
    assert!(
        panics.is_empty(),
        "{} of {tried} mangled scenarios panicked:\n{}",
        panics.len(),
        panics.join("\n")
    );
}

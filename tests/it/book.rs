//! The book under `book/src` stays true to the binary: every `kafkasim ...` line of a ```sh block
//! runs as written and exits as the page says (0, or 1 after a `# exits 1` line), every lab page
//! has a command, every bundled scenario is included by a page, the config reference is the
//! exact output of `kafkasim configs`, and every quoted line of a trace or a summary in a ```text
//! block is a line of a golden file under `snapshots/` (the rules, and the `<!-- quote: ... -->`
//! markers for blocks that quote something else, are described above `QUOTE_MARKER`).
//!
//! A ```sh block holds only commands a reader types: `kafkasim ...` lines (run here), `cargo ...`
//! lines (building kafkasim itself; not run here), `#` comments and blank lines. Pipelines,
//! redirects and commands that need an edited file belong in ```text blocks.

use crate::support::kafkasim;
use kafkasim::commands::bundled;
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Stdio;

fn crate_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn book_src() -> PathBuf {
    crate_root().join("book").join("src")
}

/// Every `.md` file under `dir`, recursively, sorted by path.
fn pages(dir: &Path) -> Vec<PathBuf> {
    let mut found = Vec::new();
    let mut entries: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", dir.display()))
        .map(|e| e.expect("a readable directory entry").path())
        .collect();
    entries.sort();
    for path in entries {
        if path.is_dir() {
            found.extend(pages(&path));
        } else if path.extension().is_some_and(|x| x == "md") {
            found.push(path);
        }
    }
    found
}

/// The book's path of a page, for messages (`labs/one-partition-order.md`).
fn short(page: &Path) -> String {
    page.strip_prefix(book_src())
        .unwrap_or(page)
        .display()
        .to_string()
}

/// One `kafkasim` command found in a ```sh block.
struct BookCommand {
    page: PathBuf,
    line: usize,
    text: String,
    args: Vec<String>,
    exit_code: i32,
}

/// The language of a fence's info string: "sh" for "```sh" or "```sh,ignore".
fn fence_language(info: &str) -> &str {
    info.trim().split([',', ' ', '{']).next().unwrap_or("")
}

/// Splits a command line like a POSIX shell would for plain words, 'single' and "double" quotes
/// and backslash escapes. Shell operators are not interpreted: they are reported as errors.
fn split_words(line: &str) -> Result<Vec<String>, String> {
    let mut words = Vec::new();
    let mut word = String::new();
    let mut in_word = false;
    let mut chars = line.chars();
    while let Some(c) = chars.next() {
        match c {
            '\'' => {
                in_word = true;
                loop {
                    match chars.next() {
                        Some('\'') => break,
                        Some(q) => word.push(q),
                        None => return Err("unterminated single quote".into()),
                    }
                }
            }
            '"' => {
                in_word = true;
                loop {
                    match chars.next() {
                        Some('"') => break,
                        Some('\\') => match chars.next() {
                            Some(e @ ('"' | '\\' | '$' | '`')) => word.push(e),
                            Some(other) => {
                                word.push('\\');
                                word.push(other);
                            }
                            None => return Err("unterminated double quote".into()),
                        },
                        Some(q) => word.push(q),
                        None => return Err("unterminated double quote".into()),
                    }
                }
            }
            '\\' => {
                in_word = true;
                match chars.next() {
                    Some(e) => word.push(e),
                    None => return Err("a backslash ends the line".into()),
                }
            }
            '|' | '>' | '<' | ';' | '&' | '$' | '`' => {
                return Err(format!(
                    "`{c}` is shell syntax: put pipelines and redirects in a ```text block"
                ));
            }
            c if c.is_whitespace() => {
                if in_word {
                    words.push(std::mem::take(&mut word));
                    in_word = false;
                }
            }
            c => {
                in_word = true;
                word.push(c);
            }
        }
    }
    if in_word {
        words.push(word);
    }
    Ok(words)
}

/// The `kafkasim` commands of one page, and the problems found in its ```sh blocks.
fn commands_of(page: &Path, text: &str) -> (Vec<BookCommand>, Vec<String>) {
    let mut commands = Vec::new();
    let mut problems = Vec::new();
    // The open fence: its backtick count and whether it is a sh block.
    let mut fence: Option<(usize, bool)> = None;
    let mut expect_exit_1 = false;
    for (i, raw) in text.lines().enumerate() {
        let line = raw.trim();
        let at = format!("{}:{}", short(page), i + 1);
        let ticks = line.chars().take_while(|c| *c == '`').count();
        match fence {
            None => {
                if ticks >= 3 {
                    fence = Some((ticks, fence_language(&line[ticks..]) == "sh"));
                    expect_exit_1 = false;
                }
            }
            Some((open, is_sh)) => {
                if ticks >= open && line[ticks..].trim().is_empty() {
                    if expect_exit_1 {
                        problems.push(format!("{at}: `# exits 1` is not followed by a command"));
                    }
                    fence = None;
                    continue;
                }
                if !is_sh || line.is_empty() {
                    continue;
                }
                if line == "# exits 1" {
                    expect_exit_1 = true;
                } else if line.starts_with('#') || line.starts_with("cargo ") {
                    // A comment, or a step that builds kafkasim itself.
                } else if let Some(rest) = line.strip_prefix("kafkasim ") {
                    match split_words(rest) {
                        Ok(args) => commands.push(BookCommand {
                            page: page.to_path_buf(),
                            line: i + 1,
                            text: line.to_string(),
                            args,
                            exit_code: if expect_exit_1 { 1 } else { 0 },
                        }),
                        Err(why) => problems.push(format!("{at}: `{line}`: {why}")),
                    }
                    expect_exit_1 = false;
                } else {
                    problems.push(format!(
                        "{at}: `{line}` in a ```sh block: write commands as `kafkasim ...` \
                         (no prompt), or use a ```text block"
                    ));
                }
            }
        }
    }
    if fence.is_some() {
        problems.push(format!("{}: a code block is never closed", short(page)));
    }
    (commands, problems)
}

/// Every command of the book, in page order; panics if a ```sh block is malformed.
fn book_commands() -> Vec<BookCommand> {
    let mut commands = Vec::new();
    let mut problems = Vec::new();
    for page in pages(&book_src()) {
        let text = std::fs::read_to_string(&page).expect("a readable page");
        let (found, wrong) = commands_of(&page, &text);
        commands.extend(found);
        problems.extend(wrong);
    }
    assert!(
        problems.is_empty(),
        "malformed ```sh blocks:\n{}",
        problems.join("\n")
    );
    commands
}

#[test]
fn the_word_splitter_handles_quotes() {
    let split = |s: &str| split_words(s).expect("valid");
    assert_eq!(split("run  a.ron --seed 3"), ["run", "a.ron", "--seed", "3"]);
    assert_eq!(
        split(r#"partition -p 3 'Best Buy' "Target \"x\"" ''"#),
        ["partition", "-p", "3", "Best Buy", "Target \"x\"", ""]
    );
    assert_eq!(split(r"partition -p 3 a\ b"), ["partition", "-p", "3", "a b"]);
    assert!(split_words("run 'a.ron").is_err());
    assert!(split_words("run a.ron | head").is_err());
    assert!(split_words("run a.ron > out.txt").is_err());
}

#[test]
fn sh_blocks_are_parsed_with_their_exit_codes() {
    let page = book_src().join("example.md");
    let text = "```sh\nkafkasim list\n# exits 1\nkafkasim check x.ron\n```\n\
                ```text\nkafkasim run ignored.ron | head\n```\n  ```sh\n  kafkasim configs\n  ```\n";
    let (commands, problems) = commands_of(&page, text);
    assert!(problems.is_empty(), "{problems:?}");
    let got: Vec<(&str, i32)> = commands.iter().map(|c| (c.text.as_str(), c.exit_code)).collect();
    assert_eq!(
        got,
        [
            ("kafkasim list", 0),
            ("kafkasim check x.ron", 1),
            ("kafkasim configs", 0)
        ]
    );
    let (_, problems) = commands_of(&page, "```sh\n$ kafkasim list\n```\n");
    assert_eq!(problems.len(), 1, "a prompt is reported");
}

#[test]
fn every_command_in_the_book_runs_as_the_book_says() {
    let commands = book_commands();
    assert!(!commands.is_empty(), "the book has no ```sh commands");
    let mut failures = Vec::new();
    for c in &commands {
        let o = kafkasim()
            .args(&c.args)
            .stdin(Stdio::null())
            .output()
            .expect("the binary starts");
        let stdout = String::from_utf8_lossy(&o.stdout);
        let stderr = String::from_utf8_lossy(&o.stderr);
        let code = o.status.code();
        if code != Some(c.exit_code) || stderr.contains("panicked") {
            failures.push(format!(
                "{}:{}: `{}` exited {code:?}, expected {}\n--- stdout (last 40 lines)\n{}\n--- stderr\n{stderr}",
                short(&c.page),
                c.line,
                c.text,
                c.exit_code,
                last_lines(&stdout, 40)
            ));
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} book commands failed:\n\n{}",
        failures.len(),
        commands.len(),
        failures.join("\n\n")
    );
}

fn last_lines(text: &str, n: usize) -> String {
    let lines: Vec<&str> = text.lines().collect();
    lines[lines.len().saturating_sub(n)..].join("\n")
}

#[test]
fn every_lab_page_has_a_command() {
    let labs = pages(&book_src().join("labs"));
    assert!(!labs.is_empty(), "no lab pages under book/src/labs");
    let commands = book_commands();
    for lab in labs {
        assert!(
            commands.iter().any(|c| c.page == lab),
            "{} has no `kafkasim` command in a ```sh block",
            short(&lab)
        );
    }
}

/// The files a page includes with `{{#include path}}`, resolved against the page's folder.
fn includes(page: &Path, text: &str) -> Vec<PathBuf> {
    const OPEN: &str = "{{#include ";
    let dir = page.parent().expect("a page is in a folder");
    let mut found = Vec::new();
    let mut rest = text;
    while let Some(start) = rest.find(OPEN) {
        let after = &rest[start + OPEN.len()..];
        let end = after.find("}}").expect("an {{#include}} is closed");
        // `path:anchor` or `path:10:20` selects part of a file.
        let path = after[..end].trim().split(':').next().unwrap_or("");
        found.push(dir.join(path));
        rest = &after[end..];
    }
    found
}

#[test]
fn every_bundled_scenario_is_included_by_a_page() {
    let mut included = Vec::new();
    let mut broken = Vec::new();
    for page in pages(&book_src()) {
        let text = std::fs::read_to_string(&page).expect("a readable page");
        for path in includes(&page, &text) {
            match path.canonicalize() {
                Ok(p) => included.push(p),
                Err(_) => broken.push(format!("{}: {}", short(&page), path.display())),
            }
        }
    }
    assert!(
        broken.is_empty(),
        "includes of missing files:\n{}",
        broken.join("\n")
    );
    for (file, _) in bundled() {
        let scenario = crate_root()
            .join(file)
            .canonicalize()
            .expect("a bundled scenario exists");
        assert!(
            included.contains(&scenario),
            "no page of the book includes {file}: add a lab with {{{{#include}}}} of it"
        );
    }
}

#[test]
fn the_configs_page_is_the_output_of_kafkasim_configs() {
    let o = kafkasim().arg("configs").output().expect("the binary starts");
    assert_eq!(o.status.code(), Some(0));
    let tables = String::from_utf8(o.stdout).expect("UTF-8 output");
    let page = std::fs::read_to_string(book_src().join("configs.md")).expect("configs.md exists");
    assert!(
        page.contains(&tables),
        "book/src/configs.md differs from `kafkasim configs`: paste the command's output into it again"
    );
}

// ---------------------------------------------------------------------------------------------
// Quotes of kafkasim's output.
//
// Inside a ```text block, a line that looks like a trace line (`     9.000ms  p1 ...`) or like a
// line of the summary (`scenario ...`, `seed ...`, a section title such as `producers`, or any
// line indented by two spaces or more: table rows, checker counts and findings, expectations), or
// like a `kafkasim matrix` row or `reproduce:` line, must be a whole line of a golden file under
// `snapshots/`, character for character:
//
// - on a lab page `labs/<name>.md`, a line of `snapshots/<name>.trace.snap` or
//   `snapshots/<name>.summary.snap` (or `snapshots/<name>.matrix.snap`, a `kafkasim matrix` table;
//   `snapshots/<name>.sweep.snap`, a `kafkasim sweep` table; `snapshots/<name>.set.snap`, the
//   `kafkasim run` with `--set` options that the lab compares with the scenario as written);
// - on any other page, a line of any snapshot.
//
// A block indented in a list item loses its fence's indentation first. Other lines of a ```text
// block (commands, `kafkasim partition` tables, JSON) are not checked. The line right before a
// ```text block (no blank line between) may say where its lines come from instead; a marker
// anywhere else is an error:
//
// - `<!-- quote: scenario <name> -->`: the block quotes the run of another bundled scenario, and
//   is checked against `snapshots/<name>.*.snap`;
// - `<!-- quote: <why>, not checked -->`: the block quotes something no snapshot holds (a modified
//   copy of a scenario, another seed or option, another command), and is skipped. Re-run it by hand
//   when the output changes.
// ---------------------------------------------------------------------------------------------

/// The start of a marker line; see above.
const QUOTE_MARKER: &str = "<!-- quote:";

/// Where the checked lines of a ```text block must come from.
#[derive(Debug, Clone, PartialEq, Eq)]
enum QuoteSource {
    /// The page's own: the lab's scenario, or every snapshot for a page that is not a lab.
    Page,
    /// The snapshots of the named scenario (`<!-- quote: scenario <name> -->`).
    Scenario(String),
    /// Not checked (`<!-- quote: <why>, not checked -->`).
    Unchecked,
}

/// One line of a ```text block that must be found in the snapshots.
#[derive(Debug)]
struct Quote {
    line: usize,
    text: String,
    source: QuoteSource,
}

/// `     9.000ms  p1 ...`: after leading spaces, digits, a '.', three digits, `ms`, two spaces.
fn looks_like_trace(line: &str) -> bool {
    let s = line.trim_start_matches(' ');
    let int = s.chars().take_while(|c| c.is_ascii_digit()).count();
    if int == 0 {
        return false;
    }
    let rest = &s[int..];
    let Some(rest) = rest.strip_prefix('.') else {
        return false;
    };
    rest.len() >= 7 && rest[..3].chars().all(|c| c.is_ascii_digit()) && rest[3..].starts_with("ms  ")
}

/// The unindented lines of a summary: the header, and the section titles.
const SUMMARY_TITLES: [&str; 7] = [
    "producers",
    "idempotence",
    "partitions",
    "consumers",
    "config notes (Kafka's own log lines, and kafkasim's warnings)",
    "checks",
    "expectations",
];

/// A line of the summary: its two header lines, a section title, or an indented line (table rows
/// and headers, checker counts and findings, expectations).
fn looks_like_summary(line: &str) -> bool {
    (line.starts_with("scenario ") && line.contains(": "))
        || (line.starts_with("seed ") && line.contains(", simulated "))
        || SUMMARY_TITLES.contains(&line)
        || (line.starts_with("keys of ") && line.contains(" partitions at "))
        || (line.starts_with("  ") && !line.trim().is_empty())
}

/// A row of a `kafkasim matrix` table (`all   on  ...`) or a `reproduce:` line, or a row of a
/// `kafkasim sweep` table over acks (`all   20   131072   772543   14.778ms ...`) or its
/// `replay one:` line.
fn looks_like_matrix(line: &str) -> bool {
    let mut words = line.split_whitespace();
    let (first, second) = (words.next(), words.next());
    let acks = matches!(first, Some("0" | "1" | "all"));
    let matrix_row = acks && matches!(second, Some("on" | "off"));
    let sweep_row = acks
        && line
            .split_whitespace()
            .any(|w| w.ends_with("ms") && w.contains('.'));
    matrix_row
        || sweep_row
        || line.starts_with("reproduce: kafkasim ")
        || line.starts_with("replay one: kafkasim ")
}

/// Parses a marker line; `None` if the line is not a marker, `Err` if it is a malformed one.
fn quote_marker(line: &str) -> Option<Result<QuoteSource, String>> {
    let rest = line.trim().strip_prefix(QUOTE_MARKER)?;
    let Some(body) = rest.strip_suffix("-->") else {
        return Some(Err(format!("`{}` does not end with `-->`", line.trim())));
    };
    let body = body.trim();
    if let Some(name) = body.strip_prefix("scenario ") {
        let name = name.trim();
        if !name.is_empty() && !name.contains(char::is_whitespace) {
            return Some(Ok(QuoteSource::Scenario(name.to_string())));
        }
    }
    if body.ends_with("not checked") && body.len() > "not checked".len() {
        return Some(Ok(QuoteSource::Unchecked));
    }
    Some(Err(format!(
        "`{}`: write `<!-- quote: scenario <name> -->` or `<!-- quote: <why>, not checked -->`",
        line.trim()
    )))
}

/// The lines of a page's ```text blocks that must be found in the snapshots, and the problems
/// found with markers. Each line loses the indentation of its fence (a block in a list item).
fn quotes_of(page: &str, text: &str) -> (Vec<Quote>, Vec<String>) {
    let mut quotes = Vec::new();
    let mut problems = Vec::new();
    // The open fence: its backtick count, its indentation, and where its lines come from (`None`
    // for a block that is not ```text).
    let mut fence: Option<(usize, usize, Option<QuoteSource>)> = None;
    // A marker on the previous line: its line number and what it says.
    let mut marker: Option<(usize, QuoteSource)> = None;
    for (i, raw) in text.lines().enumerate() {
        let indent = raw.len() - raw.trim_start_matches(' ').len();
        let trimmed = raw.trim();
        let ticks = trimmed.chars().take_while(|c| *c == '`').count();
        match &fence {
            None => {
                let pending = marker.take();
                if ticks >= 3 {
                    let is_text = fence_language(&trimmed[ticks..]) == "text";
                    let source = match pending {
                        Some((at, _)) if !is_text => {
                            problems.push(format!(
                                "{page}:{at}: a quote marker must be followed by a ```text block"
                            ));
                            None
                        }
                        Some((_, source)) => Some(source),
                        None => is_text.then_some(QuoteSource::Page),
                    };
                    fence = Some((ticks, indent, source));
                    continue;
                }
                if let Some((at, _)) = pending {
                    problems.push(format!(
                        "{page}:{at}: a quote marker must be the line right before a ```text block"
                    ));
                }
                match quote_marker(raw) {
                    Some(Ok(source)) => marker = Some((i + 1, source)),
                    Some(Err(why)) => problems.push(format!("{page}:{}: {why}", i + 1)),
                    None => {}
                }
            }
            Some((open, fence_indent, source)) => {
                if ticks >= *open && trimmed[ticks..].trim().is_empty() {
                    fence = None;
                    continue;
                }
                let Some(source) = source else { continue };
                if *source == QuoteSource::Unchecked {
                    continue;
                }
                let line = &raw[indent.min(*fence_indent)..];
                if looks_like_trace(line) || looks_like_summary(line) || looks_like_matrix(line) {
                    quotes.push(Quote {
                        line: i + 1,
                        text: line.to_string(),
                        source: source.clone(),
                    });
                }
            }
        }
    }
    if let Some((at, _)) = marker {
        problems.push(format!(
            "{page}:{at}: a quote marker must be the line right before a ```text block"
        ));
    }
    (quotes, problems)
}

/// The lines of a golden file, without insta's header.
fn snapshot_lines(path: &Path) -> Vec<String> {
    let text =
        std::fs::read_to_string(path).unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
    let body = match text.strip_prefix("---\n") {
        Some(rest) => rest.split_once("\n---\n").map_or(rest, |(_, body)| body),
        None => &text,
    };
    body.lines().map(str::to_string).collect()
}

/// The names of the scenarios that have snapshots, sorted.
fn snapshot_names() -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(crate_root().join("snapshots"))
        .expect("snapshots/ exists")
        .filter_map(|e| {
            let name = e.expect("a readable directory entry").file_name();
            let name = name.to_str()?;
            name.strip_suffix(".trace.snap").map(str::to_string)
        })
        .collect();
    names.sort();
    names
}

/// The lines of `snapshots/<name>.trace.snap` and `snapshots/<name>.summary.snap` (and of
/// `snapshots/<name>.matrix.snap`, `.sweep.snap` and `.set.snap`, where there are some), or `None`
/// if the scenario has no snapshots.
fn snapshots_of(name: &str) -> Option<BTreeSet<String>> {
    let dir = crate_root().join("snapshots");
    let trace = dir.join(format!("{name}.trace.snap"));
    let summary = dir.join(format!("{name}.summary.snap"));
    if !trace.is_file() || !summary.is_file() {
        return None;
    }
    let matrix: Vec<String> = ["matrix", "sweep", "set"]
        .iter()
        .map(|tool| dir.join(format!("{name}.{tool}.snap")))
        .filter(|p| p.is_file())
        .flat_map(|p| snapshot_lines(&p))
        .collect();
    Some(
        snapshot_lines(&trace)
            .into_iter()
            .chain(snapshot_lines(&summary))
            .chain(matrix)
            .collect(),
    )
}

#[test]
fn quote_lines_are_recognized() {
    assert!(looks_like_trace(
        "     9.000ms  p1          produce    -> broker-1 req 1"
    ));
    assert!(looks_like_trace(
        "  2368.667ms  p1          produce    -> broker-2"
    ));
    assert!(!looks_like_trace("    9.00ms  p1  x"));
    assert!(!looks_like_trace("9.000ms p1"));
    assert!(!looks_like_trace("p1#13: send() at 63.000ms  x"));
    assert!(looks_like_summary("seed 7, simulated 3s, 121 events"));
    assert!(looks_like_summary("producers"));
    assert!(looks_like_matrix(
        "all   on           5              0        skipped: Must set retries"
    ));
    assert!(looks_like_matrix("reproduce: kafkasim run x.ron --seed 3"));
    assert!(looks_like_matrix(
        "all   20         131072         772543  14.778ms  24.578ms       259      614.7     0"
    ));
    assert!(looks_like_matrix(
        "replay one: kafkasim run x.ron --seed 1 --set acks=1"
    ));
    assert!(!looks_like_matrix("acks  idempotence  max.in.flight"));
    assert!(looks_like_summary("  p1              40      40"));
    assert!(looks_like_summary("    - p1#13 at orders-0 offset 6"));
    assert!(!looks_like_summary("cp scenarios/a.ron my-a.ron"));
    assert!(!looks_like_summary("KEY          MURMUR2     p(n=10)"));
    assert!(!looks_like_summary("{\"event\":\"send_blocked\"}"));
}

#[test]
fn quotes_are_parsed_with_their_markers() {
    let text = "\
```text
     9.000ms  p1          produce    x
cp a.ron b.ron
```
<!-- quote: scenario other -->
```text
seed 7, simulated 3s, 121 events
```
<!-- quote: a modified copy, not checked -->
```text
     1.000ms  p1          send       x
```
- item

  ```text
      11.000ms  p1          acked      y
  cp a.ron b.ron
  ```
```ron
  x: 1,
```
";
    let (quotes, problems) = quotes_of("page.md", text);
    assert!(problems.is_empty(), "{problems:?}");
    let got: Vec<(usize, &str, &QuoteSource)> = quotes
        .iter()
        .map(|q| (q.line, q.text.as_str(), &q.source))
        .collect();
    assert_eq!(
        got,
        [
            (2, "     9.000ms  p1          produce    x", &QuoteSource::Page),
            (
                7,
                "seed 7, simulated 3s, 121 events",
                &QuoteSource::Scenario("other".into())
            ),
            (16, "    11.000ms  p1          acked      y", &QuoteSource::Page),
        ]
    );
    for wrong in [
        "<!-- quote: scenario other -->\n\n```text\n```\n",
        "<!-- quote: scenario other -->\n```sh\n```\n",
        "<!-- quote: whatever -->\n```text\n```\n",
        "<!-- quote: scenario other -->\n",
    ] {
        let (_, problems) = quotes_of("page.md", wrong);
        assert_eq!(problems.len(), 1, "{wrong:?} gives {problems:?}");
    }
}

#[test]
fn every_quoted_output_line_is_in_the_snapshots() {
    let names = snapshot_names();
    assert!(!names.is_empty(), "no snapshots under snapshots/");
    let mut every = BTreeSet::new();
    for name in &names {
        every.extend(snapshots_of(name).expect("both snapshots exist"));
    }
    let all = format!(
        "any snapshot (searched snapshots/<name>.trace.snap and snapshots/<name>.summary.snap \
         of {})",
        names.join(", ")
    );
    let labs = book_src().join("labs");
    let mut failures = Vec::new();
    let mut checked = 0;
    for page in pages(&book_src()) {
        let text = std::fs::read_to_string(&page).expect("a readable page");
        let (quotes, problems) = quotes_of(&short(&page), &text);
        failures.extend(problems);
        let lab = page
            .strip_prefix(&labs)
            .ok()
            .and_then(|_| page.file_stem()?.to_str())
            .map(str::to_string);
        for q in quotes {
            let name = match &q.source {
                QuoteSource::Scenario(name) => Some(name.clone()),
                QuoteSource::Page => lab.clone(),
                QuoteSource::Unchecked => unreachable!("unchecked blocks yield no quotes"),
            };
            let (lines, searched) = match &name {
                Some(name) => match snapshots_of(name) {
                    Some(lines) => (
                        lines,
                        format!("snapshots/{name}.trace.snap and snapshots/{name}.summary.snap"),
                    ),
                    None => {
                        failures.push(format!(
                            "{}:{}: there are no snapshots of `{name}` (snapshots/{name}.trace.snap, \
                             snapshots/{name}.summary.snap) to check this quote against",
                            short(&page),
                            q.line
                        ));
                        continue;
                    }
                },
                None => (every.clone(), all.clone()),
            };
            checked += 1;
            if !lines.contains(&q.text) {
                failures.push(format!(
                    "{}:{}: this line is not in {searched}:\n{}",
                    short(&page),
                    q.line,
                    q.text
                ));
            }
        }
    }
    assert!(checked > 0, "the book quotes no output at all");
    assert!(
        failures.is_empty(),
        "{} quote problem(s) in book/src. Copy the lines again from `kafkasim run scenarios/<name>.ron` \
         (or the snapshots). A block that quotes something else needs \
         `<!-- quote: <why>, not checked -->` on the line right before it \
         (or `<!-- quote: scenario <name> -->` for another scenario's run):\n\n{}",
        failures.len(),
        failures.join("\n\n")
    );
}

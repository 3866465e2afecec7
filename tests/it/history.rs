//! History files: `run --history` writes what `check-history` reads back, faithfully (the same
//! verdict and count for every expectation a history can decide), and bad files are errors.

use crate::support::{bundled_scenarios, kafkasim};
use kafkasim::check::{ExpectationOutcome, check};
use kafkasim::history::file as history;
use kafkasim::simulation::{RunOptions, run};

/// The `found` and the verdict of an outcome.
fn verdict(o: &ExpectationOutcome) -> (String, bool) {
    (o.found.clone(), o.ok)
}

#[test]
fn check_history_on_a_runs_own_history_agrees_with_check_for_every_bundled_scenario() {
    let (mut compared, mut skipped) = (0, 0);
    for s in bundled_scenarios() {
        let opts = RunOptions {
            trace: None,
            ..RunOptions::default()
        };
        let simulated = run(&s, &opts);
        let direct = check(&s, &simulated);
        let text = history::write(&s, &simulated);
        let read = history::read(&s.file, &text, &s)
            .unwrap_or_else(|e| panic!("{}: its own history does not read back:\n{e}", s.name));
        let recorded = read.recorded.as_ref().expect("read from a file");
        let replayed = check(&s, &read);
        assert_eq!(direct.expectations.len(), replayed.expectations.len());
        for (d, r) in direct.expectations.iter().zip(&replayed.expectations) {
            if history::not_checkable(&r.expectation, recorded, &read.names).is_some() {
                skipped += 1;
                continue;
            }
            compared += 1;
            assert_eq!(
                verdict(d),
                verdict(r),
                "{}: {} differs between check and check-history",
                s.name,
                d.expectation.text
            );
        }
    }
    assert!(compared > 50, "only {compared} expectations compared");
    assert!(
        skipped > 0,
        "some expectation (DivergentReplicas) is not checkable"
    );
}

#[test]
fn a_history_read_back_and_written_again_is_the_same_file() {
    for s in bundled_scenarios().into_iter().take(6) {
        let simulated = run(
            &s,
            &RunOptions {
                trace: None,
                ..RunOptions::default()
            },
        );
        let text = history::write(&s, &simulated);
        let read = history::read(&s.file, &text, &s).expect("reads back");
        // The sources differ only in the header; every other line round-trips.
        let again = history::write(&s, &read);
        let body = |t: &str| t.lines().skip(1).map(str::to_string).collect::<Vec<_>>();
        assert_eq!(body(&text), body(&again), "{}", s.name);
    }
}

#[test]
fn run_history_and_check_history_from_the_command_line() {
    let dir = std::env::temp_dir().join(format!("kafkasim-history-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let file = dir.join("h.jsonl");
    let file = file.to_str().expect("utf-8 path");
    let ran = kafkasim()
        .args(["run", "acks1-leader-crash-loss", "--no-trace", "--history", file])
        .output()
        .expect("runs");
    assert!(ran.status.success(), "{}", String::from_utf8_lossy(&ran.stderr));
    let checked = kafkasim()
        .args(["check-history", file, "--scenario", "acks1-leader-crash-loss"])
        .output()
        .expect("runs");
    let out = String::from_utf8_lossy(&checked.stdout);
    assert_eq!(checked.status.code(), Some(0), "{out}");
    assert!(out.starts_with("PASS  "), "{out}");
    assert!(out.contains("ok     LostAcked(at_least: 1)"), "{out}");
    std::fs::remove_dir_all(&dir).expect("cleaned up");
}

/// The bad-history corpus: each `tests/bad/histories/NN-*.jsonl` has one mistake, and its
/// `.expect` file says what the error must say (`error:`), where (`at: line:column`, or `none`
/// for the whole file) and what the hint must suggest (`help:`, optional).
const BAD: &str = "tests/bad/histories";

#[test]
fn every_bad_history_is_an_error_with_its_place_and_a_hint() {
    let scenario_file = format!("{BAD}/scenario.ron");
    let text = std::fs::read_to_string(&scenario_file).expect("corpus scenario");
    let scenario = kafkasim::scenario::Scenario::parse(&scenario_file, &text).expect("valid scenario");
    let mut names: Vec<String> = std::fs::read_dir(BAD)
        .expect("corpus")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".jsonl"))
        .collect();
    names.sort();
    assert!(names.len() >= 16, "the corpus has {} files", names.len());
    let mut problems = Vec::new();
    for name in &names {
        let path = format!("{BAD}/{name}");
        let expect = std::fs::read_to_string(path.replace(".jsonl", ".expect")).expect("an .expect file");
        let field = |k: &str| {
            expect
                .lines()
                .find_map(|l| l.strip_prefix(&format!("{k}: ")))
                .map(str::to_string)
        };
        let text = std::fs::read_to_string(&path).expect("readable");
        let Err(e) = history::read(&path, &text, &scenario) else {
            problems.push(format!("{name}: read without an error"));
            continue;
        };
        let error = field("error").expect("an error: line");
        if !e.message.contains(&error) {
            problems.push(format!("{name}: message `{}` lacks `{error}`", e.message));
        }
        let at = e
            .place
            .location
            .map_or("none".to_string(), |l| format!("{}:{}", l.line, l.column));
        if Some(&at) != field("at").as_ref() {
            problems.push(format!("{name}: at {at}, expected {:?}", field("at")));
        }
        if let Some(help) = field("help")
            && !e.help.as_deref().is_some_and(|h| h.contains(&help))
        {
            problems.push(format!("{name}: help {:?} lacks `{help}`", e.help));
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

#[test]
fn a_bad_history_exits_2_with_file_line_and_column() {
    let out = kafkasim()
        .args([
            "check-history",
            &format!("{BAD}/04-unknown-field.jsonl"),
            "--scenario",
            &format!("{BAD}/scenario.ron"),
        ])
        .output()
        .expect("runs");
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(err.contains("04-unknown-field.jsonl:2:67"), "{err}");
    assert!(err.contains("did you mean `partition`?"), "{err}");
}

/// The book's chapter includes `tests/history/hand-written.jsonl` and quotes what
/// `check-history` prints for it: the quote is that output, line for line.
#[test]
fn the_hand_written_history_in_the_book_checks_as_the_chapter_shows() {
    let page = std::fs::read_to_string("book/src/history-format.md").expect("the chapter");
    assert!(page.contains("{{#include ../../tests/history/hand-written.jsonl}}"));
    let marker = "<!-- quote: check-history output of a hand-written history, not checked -->\n```text\n";
    let start = page.find(marker).expect("the chapter quotes the output") + marker.len();
    let quoted = &page[start..start + page[start..].find("```").expect("a closed block")];
    let out = kafkasim()
        .args([
            "check-history",
            "tests/history/hand-written.jsonl",
            "--scenario",
            "tests/history/hand-written.ron",
        ])
        .output()
        .expect("runs");
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(String::from_utf8_lossy(&out.stdout), quoted);
}

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

/// The hand-written scenario with its expectations replaced, and its history edited, in a
/// scratch directory: (scenario, history).
fn hand_written_variant(name: &str, expect: &str, edit: impl Fn(String) -> String) -> (String, String) {
    let dir = crate::support::scratch_dir(name);
    let scenario = std::fs::read_to_string("tests/history/hand-written.ron").expect("scenario");
    let start = scenario.find("    expect: [").expect("an expect list");
    let scenario = format!("{}    expect: [{expect}],\n)\n", &scenario[..start]);
    let history = edit(std::fs::read_to_string("tests/history/hand-written.jsonl").expect("history"));
    let (s, h) = (dir.join("s.ron"), dir.join("h.jsonl"));
    std::fs::write(&s, scenario).expect("writable");
    std::fs::write(&h, history).expect("writable");
    (s.display().to_string(), h.display().to_string())
}

fn check_history_json(scenario: &str, history: &str, extra: &[&str]) -> serde_json::Value {
    let out = kafkasim()
        .args(["check-history", history, "--scenario", scenario, "--json"])
        .args(extra)
        .output()
        .expect("runs");
    assert_ne!(
        out.status.code(),
        Some(2),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("one JSON object")
}

#[test]
fn json_gives_each_verdict_its_bound_and_null_when_the_history_cannot_decide() {
    let v = check_history_json(
        "tests/history/hand-written.ron",
        "tests/history/hand-written.jsonl",
        &[],
    );
    assert_eq!(v["passed"], false);
    assert_eq!(v["source"], "written by hand");
    let e = v["expectations"].as_array().expect("a list");
    assert_eq!(e.len(), 4);
    assert_eq!(
        (e[0]["bound"].as_str(), e[0]["ok"].as_bool()),
        (Some("exactly"), Some(true))
    );
    assert_eq!(
        (e[1]["found"].as_str(), e[1]["ok"].as_bool()),
        (Some("1"), Some(false))
    );
    assert_eq!(e[2]["text"], "UncommittedAcked(exactly: 0)");
    assert_eq!((e[2]["ok"].as_bool(), e[2]["why"].as_str()), (Some(true), None));
    assert!(e[3]["bound"].is_null(), "a state check has no bound");
    assert_eq!(e[3]["ok"], true);
}

/// The hand-written history's leader moves to broker 2 at 520ms.
#[test]
fn a_tolerance_lets_a_state_check_find_its_state_near_its_moment_and_no_further() {
    let (s, h) = hand_written_variant(
        "history-tolerance",
        r#"Leader(topic: "orders", partition: 0, broker: 2, at: "400ms")"#,
        |h| h,
    );
    let verdict = |extra: &[&str]| check_history_json(&s, &h, extra)["expectations"][0].clone();
    assert_eq!(verdict(&[])["ok"], false);
    assert_eq!(verdict(&["--tolerance", "100ms"])["ok"], false);
    let near = verdict(&["--tolerance", "200ms"]);
    assert_eq!(near["ok"], true);
    assert!(
        near["found"]
            .as_str()
            .is_some_and(|f| f.contains("as expected at 520ms, within the tolerance of 200ms")),
        "{near}"
    );
    let out = kafkasim()
        .args(["check-history", &h, "--scenario", &s, "--tolerance", "soon"])
        .output()
        .expect("runs");
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("invalid --tolerance `soon`"));
}

/// A partition without a leader at the end cannot be read: its acknowledged records are
/// unavailable, never counted as lost.
#[test]
fn acked_records_of_a_partition_that_could_not_be_read_are_unavailable_not_lost() {
    let (s, h) = hand_written_variant(
        "history-unreadable",
        "LostAcked(exactly: 0), UnavailableAcked(exactly: 3), Duplicates(exactly: 0)",
        |h| {
            let end = h.find("{\"type\":\"final_log\"").expect("a final log");
            format!(
                "{}{}\n",
                &h[..end],
                r#"{"type":"final_log","topic":"orders","partition":0,"leader":null,"readable":false,"records":[]}"#
            )
        },
    );
    let v = check_history_json(&s, &h, &[]);
    let e = &v["expectations"];
    assert_eq!(
        (e[0]["ok"].as_bool(), e[0]["found"].as_str()),
        (Some(true), Some("0")),
        "{v}"
    );
    assert_eq!(
        (e[1]["ok"].as_bool(), e[1]["found"].as_str()),
        (Some(true), Some("3")),
        "{v}"
    );
    assert!(e[2]["ok"].is_null(), "duplicates need the log: {v}");
    let out = kafkasim()
        .args(["check-history", &h, "--scenario", &s])
        .output()
        .expect("runs");
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(!text.contains("lost"), "{text}");
}

/// A group that committed past records its member was still processing when the run ended
/// has skipped nothing yet; once a member reads on from that commit, the unprocessed ones are
/// skipped (a real-cluster run of group-commit-before-crash ended mid-batch).
#[test]
fn records_committed_and_still_being_processed_at_the_end_are_not_skipped() {
    let dir = crate::support::scratch_dir("history-skipped");
    let scenario = dir.join("s.ron");
    std::fs::write(
        &scenario,
        r#"Scenario(
    name: "skipped-at-the-end",
    description: "commit before processing, cut by the end of the run",
    duration: "1s",
    cluster: (brokers: 1, config: { "offsets.topic.replication.factor": 1 }),
    topics: [(name: "orders", partitions: 1)],
    producers: [(id: "p1", workload: (topic: "orders", records: 4, rate: "100/s"))],
    consumers: [(id: "c1", group: "g1", topics: ["orders"], commit: BeforeProcessing)],
    expect: [Skipped(exactly: 0)],
)"#,
    )
    .expect("writable");
    let mut lines = vec![
        r#"{"type":"header","format":"kafkasim-history","version":1,"source":"hand","scenario":"skipped-at-the-end"}"#.to_string(),
        r#"{"type":"partition_state","at_us":0,"topic":"orders","partition":0,"leader":1,"isr":[1]}"#.to_string(),
    ];
    for seq in 0..4 {
        lines.push(format!(
            r#"{{"type":"send","at_us":{},"producer":"p1","seq":{seq},"topic":"orders","partition":0}}"#,
            1000 + seq * 10
        ));
        lines.push(format!(
            r#"{{"type":"ack","at_us":{},"producer":"p1","seq":{seq},"partition":0,"offset":{seq}}}"#,
            1005 + seq * 10
        ));
    }
    let record = |kind: &str, at: u64, seq: u64| {
        format!(
            r#"{{"type":"{kind}","at_us":{at},"consumer":"c1","topic":"orders","partition":0,"offset":{seq},"producer":"p1","seq":{seq}}}"#
        )
    };
    lines.extend((0..3).map(|s| record("consume", 2000, s)));
    lines.push(r#"{"type":"commit","at_us":2100,"group":"g1","consumer":"c1","topic":"orders","partition":0,"offset":3}"#.to_string());
    lines.push(record("process", 2200, 0));
    let end = [
        r#"{"type":"end","at_us":1000000}"#,
        r#"{"type":"final_log","topic":"orders","partition":0,"leader":1,"high_watermark":4,"records":[[0,"p1",0],[1,"p1",1],[2,"p1",2],[3,"p1",3]]}"#,
    ];
    let skipped = |lines: &[String]| {
        let file = dir.join("h.jsonl");
        let text: Vec<&str> = lines.iter().map(String::as_str).chain(end).collect();
        std::fs::write(&file, text.join("\n") + "\n").expect("writable");
        let v = check_history_json(
            scenario.to_str().expect("utf-8"),
            file.to_str().expect("utf-8"),
            &[],
        );
        v["expectations"][0]["found"].as_str().map(str::to_owned)
    };
    assert_eq!(
        skipped(&lines).as_deref(),
        Some("0"),
        "still being processed at the end"
    );
    lines.push(record("consume", 3000, 3));
    assert_eq!(
        skipped(&lines).as_deref(),
        Some("2"),
        "c1 read on past offsets 1 and 2"
    );
}

/// The bundled scenarios with transactions or processors.
fn transactional_scenarios() -> Vec<kafkasim::scenario::Scenario> {
    bundled_scenarios()
        .into_iter()
        .filter(|s| {
            !s.processors.is_empty() || s.producers.iter().any(|p| p.config.transactional_id.is_some())
        })
        .collect()
}

/// Transaction lines, fenced instances, processor inputs, the LSO and the aborted offsets
/// round-trip: what a history file says about transactions is what the run knew.
#[test]
fn a_transactional_history_read_back_and_written_again_is_the_same_file() {
    let scenarios = transactional_scenarios();
    assert!(scenarios.len() >= 7, "{} scenarios", scenarios.len());
    for s in scenarios {
        let simulated = run(
            &s,
            &RunOptions {
                trace: None,
                ..RunOptions::default()
            },
        );
        let text = history::write(&s, &simulated);
        let read = history::read(&s.file, &text, &s).expect("reads back");
        let again = history::write(&s, &read);
        let differs = text.lines().zip(again.lines()).skip(1).find(|(a, b)| a != b);
        assert_eq!(differs, None, "{}: the first line that differs", s.name);
        assert_eq!(text.lines().count(), again.lines().count(), "{}", s.name);
    }
}

/// The lines a history has for `scenario`'s run, with `keep` deciding which stay.
fn history_of(name: &str, keep: impl Fn(&str) -> bool) -> (kafkasim::scenario::Scenario, String) {
    let s = bundled_scenarios()
        .into_iter()
        .find(|s| s.name == name)
        .expect("a bundled scenario");
    let simulated = run(
        &s,
        &RunOptions {
            trace: None,
            ..RunOptions::default()
        },
    );
    let text = history::write(&s, &simulated);
    let kept: String = text
        .lines()
        .filter(|l| keep(l))
        .map(|l| format!("{l}\n"))
        .collect();
    (s, kept)
}

/// The verdicts of `scenario`'s expectations on a history: `(text, found, ok)`, `ok` None when
/// the history cannot decide it.
fn verdicts(s: &kafkasim::scenario::Scenario, text: &str) -> Vec<(String, String, Option<bool>)> {
    let read = history::read(&s.file, text, s).expect("reads");
    let recorded = read.recorded.clone().expect("read from a file");
    check(s, &read)
        .expectations
        .iter()
        .map(|o| {
            let decided = history::not_checkable(&o.expectation, &recorded, &read.names).is_none();
            (
                o.expectation.text.clone(),
                o.found.clone(),
                decided.then_some(o.ok),
            )
        })
        .collect()
}

/// A recorder that writes no transaction lines cannot tell committed from aborted: those
/// expectations are not checkable (a count of 0 would be a false pass), the rest still are.
#[test]
fn without_transaction_lines_transaction_expectations_are_not_checkable() {
    let (s, text) = history_of("transaction-abort-isolation", |l| {
        !l.contains("\"type\":\"txn_") && !l.contains("\"type\":\"fenced\"")
    });
    for (expectation, _, ok) in verdicts(&s, &text) {
        let transactional = ["Committed", "Aborted", "ReadAborted"]
            .iter()
            .any(|m| expectation.starts_with(&format!("{m}(")));
        assert_eq!(ok.is_none(), transactional, "{expectation}");
    }
}

/// A producer that crashed inside a transaction writes no `txn_end`: the coordinator's abort
/// is read from the final logs' `aborted` offsets. Without them it cannot be told.
#[test]
fn a_transaction_the_coordinator_aborted_is_read_from_the_final_logs() {
    let (s, full) = history_of("transaction-atomic-two-partitions", |_| true);
    let all = verdicts(&s, &full);
    let aborted = all
        .iter()
        .find(|(e, _, _)| e.starts_with("Aborted("))
        .expect("an Aborted expectation");
    assert_eq!((aborted.1.as_str(), aborted.2), ("1", Some(true)), "{all:?}");
    let read_aborted = all
        .iter()
        .find(|(e, _, _)| e.contains("ReadAborted(consumer: \"dirty\", topic: \"orders\", partition: 0"))
        .expect("a ReadAborted expectation");
    assert_eq!((read_aborted.1.as_str(), read_aborted.2), ("3", Some(true)));
    let without: String = full
        .lines()
        .map(|l| match l.find(",\"aborted\":") {
            Some(i) => format!("{}}}\n", &l[..i]),
            None => format!("{l}\n"),
        })
        .collect();
    for (expectation, _, ok) in verdicts(&s, &without) {
        if expectation.starts_with("Aborted(") || expectation.starts_with("ReadAborted(") {
            assert_eq!(ok, None, "{expectation}");
        }
    }
}

/// A processor's outputs name their inputs; without the links, duplicates and missing outputs
/// cannot be told.
#[test]
fn processor_outputs_need_their_inputs_to_be_checked() {
    let (s, full) = history_of("processor-crash-at-least-once", |_| true);
    let dup = verdicts(&s, &full)
        .into_iter()
        .find(|(e, _, _)| e.starts_with("OutputDuplicates("))
        .expect("an OutputDuplicates expectation");
    assert_eq!(dup.2, Some(true), "{dup:?}");
    let without: String = full
        .lines()
        .map(|l| match l.find(",\"input\":") {
            Some(i) => format!("{}}}\n", &l[..i]),
            None => format!("{l}\n"),
        })
        .collect();
    for (expectation, _, ok) in verdicts(&s, &without) {
        if expectation.starts_with("Output") {
            assert_eq!(ok, None, "{expectation}");
        }
    }
}

/// `log_start` lines say when retention deleted records: with them `ExpiredUnread` is decided from
/// a history as `check` decides it on the run; a recorder that writes none cannot tell (a count
/// of 0 would be a false pass).
#[test]
fn expired_unread_needs_the_log_start_lines() {
    let (s, full) = history_of("retention-slow-consumer", |_| true);
    let expired = |v: Vec<(String, String, Option<bool>)>| -> Vec<(String, Option<bool>)> {
        v.into_iter()
            .filter(|(e, _, _)| e.starts_with("ExpiredUnread("))
            .map(|(e, found, ok)| (format!("{e}: {found}"), ok))
            .collect()
    };
    let with = expired(verdicts(&s, &full));
    assert_eq!(with.len(), 3);
    assert!(with.iter().all(|(_, ok)| *ok == Some(true)), "{with:?}");
    let (_, text) = history_of("retention-slow-consumer", |l| {
        !l.contains("\"type\":\"log_start\"")
    });
    let without = expired(verdicts(&s, &text));
    assert!(without.iter().all(|(_, ok)| ok.is_none()), "{without:?}");
}

/// A history does not see the cleaner: a tombstone acknowledged below the high watermark and
/// missing from the final log was removed. Put back into the final log, the same tombstones were
/// never removed, and nobody missed them.
#[test]
fn a_tombstone_missing_from_the_final_log_was_removed_by_a_cleaner() {
    let (s, full) = history_of("compaction-tombstone-missed", |_| true);
    let missed = |text: &str| {
        verdicts(&s, text)
            .into_iter()
            .find(|(e, _, _)| e.starts_with("MissedTombstone("))
            .map(|(_, found, ok)| (found, ok))
            .expect("a MissedTombstone expectation")
    };
    assert_eq!(missed(&full), ("3".to_string(), Some(true)));
    // The checkout producer's three tombstones, back at their acknowledged offsets.
    let acked: Vec<(u64, u64)> = full
        .lines()
        .filter(|l| l.contains("\"type\":\"ack\"") && l.contains("\"producer\":\"checkout\""))
        .map(|l| {
            let v: serde_json::Value = serde_json::from_str(l).expect("json");
            (
                v["offset"].as_u64().expect("offset"),
                v["seq"].as_u64().expect("seq"),
            )
        })
        .collect();
    assert_eq!(acked.len(), 3);
    let restored: String = full
        .lines()
        .map(|l| {
            if !l.contains("\"type\":\"final_log\"") {
                return format!("{l}\n");
            }
            let mut v: serde_json::Value = serde_json::from_str(l).expect("json");
            let records = v["records"].as_array_mut().expect("records");
            for (offset, seq) in &acked {
                records.push(serde_json::json!([offset, "checkout", seq]));
            }
            records.sort_by_key(|r| r[0].as_u64());
            format!("{v}\n")
        })
        .collect();
    assert_eq!(missed(&restored), ("0".to_string(), Some(false)));
}

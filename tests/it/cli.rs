//! The command line as a user meets it: exit codes, help, formats, stdin.

use crate::support::{kafkasim, kafkasim_with_stdin, scratch_dir};

/// Runs `kafkasim` with `args`.
fn cli(args: &[&str]) -> std::process::Output {
    kafkasim().args(args).output().expect("runs")
}

fn stdout(o: &std::process::Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn stderr(o: &std::process::Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// `kafkasim check` on a copy of bundled scenario `name` with each `(from, to)` text replaced.
fn check_changed(name: &str, changes: &[(&str, &str)]) -> (std::path::PathBuf, std::process::Output) {
    let mut text = std::fs::read_to_string(format!("scenarios/{name}.ron")).expect("bundled");
    for (from, to) in changes {
        assert!(text.contains(from), "{name} has {from}");
        text = text.replace(from, to);
    }
    let file = scratch_dir(&format!("changed-{name}")).join("wrong.ron");
    std::fs::write(&file, text).expect("writable");
    let o = cli(&["check", file.to_str().expect("utf-8")]);
    (file, o)
}

#[test]
fn check_passes_every_bundled_scenario() {
    let o = cli(&["check", "scenarios/"]);
    assert_eq!(o.status.code(), Some(0), "{}{}", stdout(&o), stderr(&o));
    assert!(stdout(&o).contains("0 failed, 0 invalid"), "{}", stdout(&o));
}

#[test]
fn a_missed_expectation_exits_1_and_prints_how_to_reproduce() {
    let (file, o) = check_changed(
        "one-partition-order",
        &[(
            "Reordered(topic: \"orders\", exactly: 0)",
            "Reordered(topic: \"orders\", at_least: 1)",
        )],
    );
    assert_eq!(o.status.code(), Some(1), "{}", stdout(&o));
    let out = stdout(&o);
    assert!(
        out.contains("MISSED Reordered(topic: \"orders\", at_least: 1): 0 found, expected at least 1"),
        "{out}"
    );
    assert!(
        out.contains(&format!("reproduce: kafkasim run {} --seed 1", file.display())),
        "{out}"
    );
}

/// Issue 11, point 2: comments inside an `expect` entry (RON's `//` and nested `/* */`, which
/// `ron::de` skips as whitespace) are not part of the expectation: `check` and the summary print
/// the entry alone, tidy, and a `"//"` inside a string stays.
#[test]
fn expectation_lines_leave_out_the_comments_written_inside_them() {
    let (_, o) = check_changed(
        "one-partition-order",
        &[(
            "Reordered(topic: \"orders\", exactly: 0)",
            "Reordered( // the log keeps the send order\n    topic: \"orders\", /* one /* nested */ partition */\n    exactly: 0, // none\n)",
        )],
    );
    let out = stdout(&o);
    assert_eq!(o.status.code(), Some(0), "{out}");
    assert!(
        out.contains("  ok     Reordered(topic: \"orders\", exactly: 0): 0 found, expected exactly 0\n"),
        "{out}"
    );
    assert!(!out.contains("//") && !out.contains("/*"), "{out}");
}

#[test]
fn missed_state_expectations_say_what_the_partition_looked_like() {
    let (_, o) = check_changed(
        "kill-leader-rejoin",
        &[
            (
                "Leader(topic: \"events\", partition: 0, broker: 2, at: \"14s\")",
                "Leader(topic: \"events\", partition: 0, broker: 3, at: \"14s\")",
            ),
            (
                "Isr(topic: \"events\", partition: 0, brokers: [2, 3], at: \"14s\")",
                "Isr(topic: \"events\", partition: 0, brokers: [1, 2, 3], at: \"14s\")",
            ),
        ],
    );
    assert_eq!(o.status.code(), Some(1), "{}", stdout(&o));
    let out = stdout(&o);
    for line in [
        "MISSED Leader(topic: \"events\", partition: 0, broker: 3, at: \"14s\"): broker 2 led it at 14s",
        "MISSED Isr(topic: \"events\", partition: 0, brokers: [1, 2, 3], at: \"14s\"): the ISR was [2, 3] at 14s",
        "ok     Leader(topic: \"events\", partition: 0, broker: 1, at: \"1s\"): broker 1 led it at 1s",
    ] {
        assert!(out.contains(line), "missing {line:?} in\n{out}");
    }
}

#[test]
fn describe_at_a_moment_shows_the_leader_and_isr_then() {
    let o = cli(&["describe", "kill-leader-rejoin", "--at", "14s"]);
    let out = stdout(&o);
    assert!(
        out.contains("\tTopic: events\tPartition: 0\tLeader: 2\tReplicas: 1,2,3\tIsr: 2,3\tElr: N/A\tLastKnownElr: N/A\n"),
        "{out}"
    );
    let o = cli(&["describe", "kill-leader-rejoin"]);
    assert!(
        stdout(&o).contains("\tLeader: 2\tReplicas: 1,2,3\tIsr: 2,3,1\t"),
        "{}",
        stdout(&o)
    );
}

#[test]
fn an_invalid_scenario_exits_2_with_its_location() {
    let dir = scratch_dir("invalid-scenario");
    let text = std::fs::read_to_string("scenarios/linger-batching.ron")
        .expect("bundled")
        .replace("\"linger.ms\": 50", "\"linger.m\": 50");
    let file = dir.join("typo.ron");
    std::fs::write(&file, text).expect("writable");
    for cmd in ["run", "check", "describe", "matrix"] {
        let o = cli(&[cmd, file.to_str().expect("utf-8")]);
        assert_eq!(o.status.code(), Some(2), "{cmd}");
        let err = stderr(&o);
        assert!(err.contains("unknown producer config `linger.m`"), "{cmd}: {err}");
        assert!(err.contains("typo.ron:17:49"), "{cmd}: {err}");
        assert!(err.contains("did you mean `linger.ms`?"), "{cmd}: {err}");
    }
}

#[test]
fn set_changes_a_config_as_if_the_file_said_so() {
    let summary = |args: &[&str]| {
        let mut all = vec!["run", "acks1-leader-crash-loss", "--no-trace"];
        all.extend(args);
        let o = cli(&all);
        assert_eq!(o.status.code(), Some(0), "{args:?}: {}", stderr(&o));
        stdout(&o)
    };
    assert!(
        summary(&[]).contains("  lost_acked         5\n"),
        "{}",
        summary(&[])
    );
    let acks_all = summary(&["--set", "acks=all"]);
    assert!(acks_all.contains("  lost_acked         0\n"), "{acks_all}");
    let o = cli(&["check", "acks1-leader-crash-loss", "--set", "acks=all"]);
    assert_eq!(o.status.code(), Some(1), "LostAcked(at_least: 1) misses");
    assert!(
        stdout(&o).contains(
            "reproduce: kafkasim run scenarios/acks1-leader-crash-loss.ron --seed 11 --set acks=all\n"
        ),
        "{}",
        stdout(&o)
    );
}

#[test]
fn bad_set_flags_exit_2_with_a_hint() {
    for cmd in ["run", "check"] {
        let o = cli(&[cmd, "acks1-leader-crash-loss", "--set", "lingr.ms=5"]);
        assert_eq!(o.status.code(), Some(2), "{cmd}");
        let err = stderr(&o);
        assert!(err.contains("error: unknown config `lingr.ms`"), "{cmd}: {err}");
        assert!(err.contains("did you mean `linger.ms`?"), "{cmd}: {err}");
    }
    let o = cli(&[
        "run",
        "acks1-leader-crash-loss",
        "--set",
        "enable.idempotence=true",
    ]);
    assert_eq!(o.status.code(), Some(2));
    let err = stderr(&o);
    assert!(
        err.contains("error: Must set acks to all in order to use the idempotent producer."),
        "{err}"
    );
    assert!(
        err.contains(
            "= note: values given with --set count as written in every config block that has the key: enable.idempotence=true\n"
        ),
        "{err}"
    );
}

#[test]
fn usage_errors_exit_2() {
    for args in [
        vec!["run"],
        vec!["frobnicate"],
        vec!["run", "scenarios/one-partition-order.ron", "--sed", "3"],
        vec!["run", "scenarios/one-partition-order.ron", "--until", "soon"],
        vec!["partition", "--partitions", "0", "a"],
        vec!["partition", "--partitions", "x", "a"],
        vec!["run", "no-such-scenario"],
    ] {
        let o = cli(&args);
        assert_eq!(o.status.code(), Some(2), "{args:?}: {}", stderr(&o));
        assert!(!stderr(&o).contains("panicked"), "{args:?}");
    }
}

#[test]
fn help_shows_examples() {
    let o = kafkasim().arg("--help").output().expect("runs");
    assert_eq!(o.status.code(), Some(0));
    let out = stdout(&o);
    assert!(
        out.contains("Examples:") && out.contains("kafkasim check scenarios/"),
        "{out}"
    );
}

#[test]
fn partition_matches_kafka_for_the_course_keys() {
    let o = cli(&[
        "partition",
        "--partitions",
        "10",
        "--format",
        "tsv",
        "Costco",
        "Walmart",
        "Target",
        "BestBuy",
    ]);
    assert_eq!(stdout(&o), "Costco\t7\nWalmart\t2\nTarget\t5\nBestBuy\t2\n");
}

#[test]
fn partition_reads_keys_verbatim_from_stdin() {
    // An empty line is the empty key (not null): murmur2 275646681, partition 3 of 6; spaces stay.
    let o = kafkasim_with_stdin(
        &["partition", "--partitions", "6", "--format", "tsv"],
        "Costco\n\n a\r\ncafé\n",
    );
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let a_with_space = kafkasim::kafka::producer::partitioner::partition_for_key(b" a", 6);
    assert_eq!(
        stdout(&o),
        format!("Costco\t5\n\t3\n a\t{a_with_space}\ncafé\t0\n")
    );
}

#[test]
fn partition_compares_partition_counts() {
    let o = cli(&[
        "partition",
        "--partitions",
        "3,6",
        "Costco",
        "Walmart",
        "Target",
        "BestBuy",
    ]);
    let out = stdout(&o);
    assert!(out.contains("2 of 4 keys map to a different partition"), "{out}");
}

#[test]
fn run_writes_trace_and_summary_to_out() {
    let dir = scratch_dir("run-out");
    let o = cli(&[
        "run",
        "reorder-inflight-5",
        "--format",
        "jsonl",
        "--out",
        dir.to_str().expect("utf-8"),
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let summary = std::fs::read_to_string(dir.join("summary.txt")).expect("summary written");
    assert!(summary.contains("reordered"), "{summary}");
    let trace = std::fs::read_to_string(dir.join("trace.jsonl")).expect("trace written");
    for line in trace.lines() {
        let v: serde_json::Value = serde_json::from_str(line).expect("each line is JSON");
        assert!(v.get("t_us").is_some() && v.get("event").is_some(), "{line}");
    }
}

#[test]
fn max_events_stops_a_run_with_a_clear_message() {
    let o = cli(&["run", "one-partition-order", "--max-events", "50", "--no-trace"]);
    assert_eq!(o.status.code(), Some(0));
    assert!(
        stdout(&o).contains("INCOMPLETE: stopped after 50 events"),
        "{}",
        stdout(&o)
    );
    assert!(stderr(&o).contains("--max-events"), "{}", stderr(&o));
    let o = cli(&["check", "one-partition-order", "--max-events", "50"]);
    assert_eq!(o.status.code(), Some(1), "an incomplete run cannot pass a check");
}

#[test]
fn describe_prints_kafka_topics_layout() {
    let o = cli(&["describe", "acks0-crash-loss", "--at", "1s"]);
    let out = stdout(&o);
    assert!(out.starts_with("Topic: clicks\tTopicId: "), "{out}");
    assert!(
        out.contains("\tPartitionCount: 3\tReplicationFactor: 1\tConfigs: \n"),
        "{out}"
    );
    assert!(
        out.contains(
            "\tTopic: clicks\tPartition: 1\tLeader: 2\tReplicas: 2\tIsr: 2\tElr: N/A\tLastKnownElr: N/A\n"
        ),
        "{out}"
    );
}

#[test]
fn list_names_every_bundled_scenario() {
    let o = kafkasim().arg("list").output().expect("runs");
    let out = stdout(&o);
    for (file, _) in kafkasim::commands::bundled() {
        assert!(out.contains(file), "{file} missing from:\n{out}");
    }
}

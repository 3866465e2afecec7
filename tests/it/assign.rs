//! `kafkasim assign`: the issue's example in both formats, each strategy once, and bad input.

use crate::support::kafkasim;

fn assign(args: &[&str]) -> std::process::Output {
    kafkasim().arg("assign").args(args).output().expect("runs")
}

fn stdout(o: &std::process::Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn stderr(o: &std::process::Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// The issue's group: c1 reads orders and payments, c2 only orders.
const EXAMPLE: [&str; 6] = [
    "--strategy",
    "range",
    "--partitions",
    "orders=6,payments=3",
    "c1:orders,payments",
    "c2:orders",
];

/// The table, as the book's command-line page quotes it.
const EXAMPLE_TABLE: &str = "MEMBER  PARTITIONS\n\
                             c1      orders 0,1,2  payments 0,1,2\n\
                             c2      orders 3,4,5\n\
                             partitions per member: c1 6, c2 3\n";

#[test]
fn the_issue_example_as_a_table() {
    let o = assign(&EXAMPLE);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert_eq!(stdout(&o), EXAMPLE_TABLE);
    let page = std::fs::read_to_string("book/src/cli.md").expect("the book's command-line page");
    assert!(
        page.contains(&format!("```text\n{EXAMPLE_TABLE}```")),
        "book/src/cli.md quotes another table"
    );
}

#[test]
fn the_issue_example_as_json() {
    let mut args = EXAMPLE.to_vec();
    args.extend(["--format", "json"]);
    let o = assign(&args);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert_eq!(
        stdout(&o),
        "{\"c1\": {\"orders\": [0, 1, 2], \"payments\": [0, 1, 2]}, \"c2\": {\"orders\": [3, 4, 5]}}\n"
    );
    let parsed: serde_json::Value = serde_json::from_str(&stdout(&o)).expect("valid JSON");
    assert_eq!(parsed["c2"]["orders"], serde_json::json!([3, 4, 5]));
}

/// One group through every strategy (as Kafka's classes assign it); members print in Kafka's
/// member order, the static member first.
#[test]
fn each_strategy_once() {
    let group = |strategy: &str| {
        let o = assign(&[
            "--strategy",
            strategy,
            "--partitions",
            "orders=6,payments=3",
            "--format",
            "json",
            "c1:orders,payments",
            "c2:orders",
            "c3@i1:payments",
        ]);
        assert_eq!(o.status.code(), Some(0), "{strategy}: {}", stderr(&o));
        stdout(&o)
    };
    assert_eq!(
        group("range"),
        "{\"c3\": {\"payments\": [0, 1]}, \"c1\": {\"orders\": [0, 1, 2], \"payments\": [2]}, \"c2\": {\"orders\": [3, 4, 5]}}\n"
    );
    assert_eq!(
        group("roundrobin"),
        "{\"c3\": {\"payments\": [0, 2]}, \"c1\": {\"orders\": [0, 2, 4], \"payments\": [1]}, \"c2\": {\"orders\": [1, 3, 5]}}\n"
    );
    let sticky = "{\"c3\": {\"payments\": [0, 1, 2]}, \"c1\": {\"orders\": [0, 2, 4]}, \"c2\": {\"orders\": [1, 3, 5]}}\n";
    assert_eq!(group("sticky"), sticky);
    assert_eq!(group("cooperative-sticky"), sticky);
}

#[test]
fn member_ids_sort_as_strings_and_empty_members_show() {
    let o = assign(&[
        "-s",
        "range",
        "-p",
        "t=2",
        "consumer1:t",
        "consumer2:t",
        "consumer10:t",
    ]);
    assert_eq!(
        stdout(&o),
        "MEMBER      PARTITIONS\n\
         consumer1   t 0\n\
         consumer10  t 1\n\
         consumer2   (none)\n\
         partitions per member: consumer1 1, consumer10 1, consumer2 0\n"
    );
}

#[test]
fn bad_input_exits_2_with_a_fix() {
    let cases: [(&[&str], &str, &str); 12] = [
        (
            &["-s", "rnage", "-p", "orders=6", "c1:orders"],
            "error: unknown assignment strategy `rnage`",
            "did you mean `range`?",
        ),
        (
            &["-s", "uniform", "-p", "orders=6", "c1:orders"],
            "error: unknown assignment strategy `uniform`",
            "use one of: range, roundrobin, sticky, cooperative-sticky",
        ),
        (
            &["-s", "range", "-p", "orders", "c1:orders"],
            "error: invalid --partitions `orders`: expected TOPIC=COUNT",
            "e.g. --partitions orders=6,payments=3",
        ),
        (
            &["-s", "range", "-p", "orders=six", "c1:orders"],
            "`six` is not a partition count",
            "e.g. --partitions orders=6,payments=3",
        ),
        (
            &["-s", "range", "-p", "orders=0", "c1:orders"],
            "error: invalid --partitions `orders=0`: a topic has at least 1 partition",
            "e.g. --partitions orders=6,payments=3",
        ),
        (
            &["-s", "range", "-p", "orders=6", "c1"],
            "error: invalid member `c1`: no `:` before its topics",
            "write a member as ID:TOPIC[,TOPIC...]",
        ),
        (
            &["-s", "range", "-p", "orders=6", "c1:"],
            "error: invalid member `c1:`: it subscribes to no topic",
            "write a member as ID:TOPIC[,TOPIC...]",
        ),
        (
            &["-s", "range", "-p", "orders=6", "c1:orders", "c1:orders"],
            "error: member `c1` is given twice",
            "member ids are unique in a group",
        ),
        (
            &[
                "-s",
                "range",
                "-p",
                "orders=6,payments=3",
                "c1:orders",
                "c2:payment",
            ],
            "error: member `c2` subscribes to `payment`, which --partitions does not list",
            "did you mean `payments`?",
        ),
        (
            &["-s", "range", "-p", "orders=6", "c1:orders", "c2:clicks"],
            "error: member `c2` subscribes to `clicks`, which --partitions does not list",
            "e.g. --partitions clicks=3",
        ),
        (
            &["-s", "range", "-p", "orders=6", "c1@i1:orders", "c2@i1:orders"],
            "error: members `c1` and `c2` share group.instance.id `i1`",
            "unique in a group",
        ),
        (
            &["-s", "range", "-p", "or/ders=6", "c1:orders"],
            "error: invalid topic name `or/ders`",
            "ASCII letters, digits",
        ),
    ];
    for (args, message, help) in cases {
        let o = assign(args);
        let err = stderr(&o);
        assert_eq!(o.status.code(), Some(2), "{args:?}: {err}");
        assert!(stdout(&o).is_empty(), "{args:?}");
        assert!(err.contains(message), "{args:?}: {err}");
        assert!(
            err.contains("  = help: ") && err.contains(help),
            "{args:?}: {err}"
        );
        assert!(!err.contains("panicked"), "{args:?}");
    }
}

#[test]
fn missing_arguments_are_usage_errors() {
    for args in [
        vec!["-p", "orders=6", "c1:orders"],
        vec!["-s", "range", "c1:orders"],
        vec!["-s", "range", "-p", "orders=6"],
        vec!["-s", "range", "-p", "orders=6", "--format", "yaml", "c1:orders"],
    ] {
        let o = assign(&args);
        assert_eq!(o.status.code(), Some(2), "{args:?}: {}", stderr(&o));
        assert!(!stderr(&o).contains("panicked"), "{args:?}");
    }
}

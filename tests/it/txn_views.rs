//! What people read about transactions: `kafkasim describe` lists each transactional id as
//! `kafka-transactions --describe` does (Kafka 4.0's `TransactionsCommand`), the summary counts
//! each producer's transactions and shows the LSO beside the HW, a `read_committed` group lags
//! behind the LSO (`SubscriptionState.partitionLag`), and `__transaction_state` appears in no
//! view, chart or history file.

use crate::support::{parse_scenario, run_text, trace_lines};
use kafkasim::check::check;
use kafkasim::history::TxnOutcome;
use kafkasim::history::file as history;
use kafkasim::kafka::record::Tp;
use kafkasim::kafka::txn::coordinator_partition;
use kafkasim::report::charts::charts;
use kafkasim::report::{describe_topics, describe_transactions, summary};
use kafkasim::scenario::Scenario;
use kafkasim::sim::SimDuration;
use kafkasim::simulation::{RunOptions, RunResult, run};

const ORDERS_0: Tp = Tp {
    topic: 0,
    partition: 0,
};

/// A transactional producer (transactions of 10 records from 4 s, every third aborted) and a
/// plain one on `orders`, read by a `read_uncommitted` group and a `read_committed` one that
/// auto-commit every 100 ms. `cluster` and `faults` are spliced in.
fn scenario(cluster: &str, faults: &str, transactional: bool) -> Scenario {
    let txn_config = if transactional {
        r#""transactional.id": "orders-app","#
    } else {
        ""
    };
    let transactions = if transactional {
        ", transactions: (records: 10, abort_every: 3)"
    } else {
        ""
    };
    parse_scenario(
        "txn-views.ron",
        &format!(
            r#"Scenario(
                name: "txn-views", description: "x", seed: 1, duration: "6s",
                cluster: (brokers: 3, network: (latency: "1ms"), config: {{ {cluster} }}),
                topics: [ (name: "orders", partitions: 2, replication_factor: 3) ],
                producers: [
                    (id: "p1", config: {{ {txn_config} "linger.ms": 5 }},
                     workload: (topic: "orders", keys: ["a", "b"], records: 60, rate: "100/s",
                                start: "4s"{transactions})),
                    (id: "plain", workload: (topic: "orders", records: 20, rate: "100/s", start: "4s")),
                ],
                consumers: [
                    (id: "dirty", group: "g-dirty", topics: ["orders"],
                     config: {{ "auto.offset.reset": "earliest", "auto.commit.interval.ms": 100 }}),
                    (id: "clean", group: "g-clean", topics: ["orders"],
                     config: {{ "auto.offset.reset": "earliest", "auto.commit.interval.ms": 100,
                                "isolation.level": "read_committed" }}),
                ],
                faults: [ {faults} ],
            )"#
        ),
    )
}

fn views() -> Scenario {
    scenario("", "", true)
}

fn until(s: &Scenario, ms: u64) -> RunResult {
    run_text(s, Some(SimDuration::from_us(ms * 1000)))
}

/// The one table of a transactional id: (header cells, row cells), split at the tabs.
fn table(out: &str) -> (Vec<String>, Vec<String>) {
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines.len(), 3, "a blank line, the header, one row:\n{out}");
    assert_eq!(lines[0], "");
    let cells = |l: &str| l.split('\t').map(str::to_string).collect::<Vec<_>>();
    (cells(lines[1]), cells(lines[2]))
}

/// The broker that leads the transactional id's `__transaction_state` partition at the end.
fn coordinator(s: &Scenario, r: &RunResult) -> u32 {
    let partition = coordinator_partition("orders-app", s.cluster.config.transactions.state_log_partitions);
    let topic = s
        .transaction_state_topic()
        .expect("a transactional scenario has it");
    r.metadata
        .partition(Tp { topic, partition })
        .and_then(|p| p.leader)
        .expect("the partition has a leader")
}

#[test]
fn describe_shows_an_open_transaction_as_kafka_transactions_does() {
    let s = views();
    let r = until(&s, 4550);
    let (header, row) = table(&describe_transactions(&s, &r));
    // `DescribeTransactionsCommand.HEADERS`; `ToolsUtils.prettyPrintTable` pads every cell to its
    // column and ends it with a tab (the line's last tab is left out).
    assert_eq!(
        header.join("\t"),
        "CoordinatorId\tTransactionalId\tProducerId\tProducerEpoch\tTransactionState\t\
         TransactionTimeoutMs\tCurrentTransactionStartTimeMs\tTransactionDurationMs\tTopicPartitions"
    );
    for (h, cell) in header.iter().zip(&row).take(8) {
        assert_eq!(
            h.len().max(cell.trim_end().len()),
            cell.len(),
            "{cell:?} under {h}"
        );
    }
    let row: Vec<&str> = row.iter().map(|c| c.trim_end()).collect();
    let identity = r.history.producers[0].identity.expect("initialized");
    assert_eq!(row[0], coordinator(&s, &r).to_string());
    assert_eq!(
        row[1..6],
        [
            "orders-app",
            &identity.id.to_string(),
            &identity.epoch.to_string(),
            "Ongoing",
            "60000"
        ]
    );
    // The transaction started when its first partition was added: after the application began
    // it, before the coordinator's Ongoing record was replicated. The duration runs to `--at`.
    let lines = trace_lines(&r);
    let begun = lines
        .iter()
        .rfind(|l| l.node == "p1" && l.detail.starts_with("beginTransaction()"))
        .expect("a transaction began")
        .at;
    let ongoing = lines
        .iter()
        .rfind(|l| l.kind == "txn-state" && l.detail.contains("-> Ongoing"))
        .expect("the coordinator made it Ongoing")
        .at;
    let start: u64 = row[6].parse().expect("a start time");
    assert!(
        (begun.as_ms()..=ongoing.as_ms()).contains(&start),
        "{start} not in {begun}..{ongoing}"
    );
    assert_eq!(row[7], (4550 - start).to_string());
    assert_eq!(row[8], "orders-0");
}

#[test]
fn describe_shows_none_before_the_first_transaction_and_not_found_before_init_producer_id() {
    let s = views();
    let (_, row) = table(&describe_transactions(&s, &until(&s, 3000)));
    let row: Vec<&str> = row.iter().map(|c| c.trim_end()).collect();
    assert_eq!(row[3..], ["0", "Empty", "60000", "None", "None"]);
    let out = describe_transactions(&s, &until(&s, 1));
    assert_eq!(
        out,
        "\nFailed to describe transaction state of transactional-id `orders-app`: DescribeTransactions \
         request for transactionalId `orders-app` failed because the ID could not be found. Enable \
         debug logging for additional detail.\n"
    );
    // At the end the last transaction is complete: its start stays, its duration grows.
    let end = run_text(&s, None);
    let (_, row) = table(&describe_transactions(&s, &end));
    let row: Vec<&str> = row.iter().map(|c| c.trim_end()).collect();
    assert_eq!(row[4], "CompleteAbort", "the sixth transaction aborts");
    let start: u64 = row[6].parse().expect("a start time");
    assert_eq!(row[7], (6000 - start).to_string());
    assert_eq!(row.len(), 8, "no partitions: the line ends after the duration");
}

#[test]
fn describe_says_the_coordinator_is_not_available_when_its_broker_is_down() {
    let rf1 = r#""transaction.state.log.replication.factor": 1, "transaction.state.log.min.isr": 1"#;
    let s = scenario(rf1, "", true);
    let broker = coordinator(&s, &until(&s, 3000));
    let crashed = scenario(
        rf1,
        &format!(r#"(at: "2s", fault: Crash(broker: {broker}))"#),
        true,
    );
    let out = describe_transactions(&crashed, &until(&crashed, 3000));
    assert_eq!(
        out,
        "\nFailed to describe transaction state of transactional-id `orders-app`: The coordinator \
         is not available. Enable debug logging for additional detail.\n"
    );
}

#[test]
fn without_a_transactional_producer_there_is_no_transaction_view_and_no_lso() {
    let s = scenario("", "", false);
    let r = until(&s, 4550);
    assert_eq!(describe_transactions(&s, &r), "");
    let text = summary(&s, &r, &check(&s, &r));
    assert!(!text.contains("\ntransactions\n"), "{text}");
    assert!(text.contains("  partition        leader    epoch log-start      LEO       HW  replicas  isr\n"));
}

#[test]
fn the_summary_counts_each_producers_transactions_and_shows_the_lso_beside_the_hw() {
    let s = views();
    let r = until(&s, 4550);
    let text = summary(&s, &r, &check(&s, &r));
    let h = &r.history.producers[0];
    let count = |o: TxnOutcome| h.txns.iter().filter(|t| t.outcome == o).count();
    assert_eq!(
        (
            count(TxnOutcome::Committed),
            count(TxnOutcome::Aborted),
            count(TxnOutcome::Open)
        ),
        (4, 1, 1)
    );
    assert!(
        text.contains(
            "\ntransactions\n  id         transactional.id committed aborted open fenced\n  \
             p1         orders-app               4       1    1      0\n\n"
        ),
        "{text}"
    );
    // A transactional producer is idempotent: its id and epoch are those it got last.
    let identity = h.identity.expect("initialized");
    assert!(text.contains(&format!(
        "  p1         on: producer id {}, epoch {}\n",
        identity.id, identity.epoch
    )));
    let log = &r.logs[&ORDERS_0];
    let (hw, lso) = (log.high_watermark(), log.last_stable_offset());
    assert!(lso < hw, "the open transaction holds the LSO back");
    let row = text
        .lines()
        .find(|l| l.starts_with("  orders-0 "))
        .expect("a row for orders-0");
    let cells: Vec<&str> = row.split_whitespace().collect();
    assert_eq!(
        cells[4..7],
        [log.log_end_offset().to_string(), hw.to_string(), lso.to_string()]
    );
    assert!(text.contains(
        "  partition        leader    epoch log-start      LEO       HW      LSO  replicas  isr\n"
    ));
    assert!(!text.contains("__transaction_state"));
}

/// The summary's lag of each group: the committed offsets against the LEO, or against the LSO for
/// the `read_committed` group.
#[test]
fn a_read_committed_groups_lag_is_measured_to_the_lso() {
    let s = views();
    let r = until(&s, 4550);
    let text = summary(&s, &r, &check(&s, &r));
    let lag = |group: &str, end: &dyn Fn(Tp) -> u64| -> u64 {
        let g = r
            .groups
            .iter()
            .find(|g| g.group.as_ref() == group)
            .expect("the group");
        g.offsets.iter().map(|(tp, c)| end(*tp) - c).sum()
    };
    let clean = lag("g-clean", &|tp| r.logs[&tp].last_stable_offset());
    let dirty = lag("g-dirty", &|tp| r.logs[&tp].log_end_offset());
    assert_ne!(clean, dirty, "the open transaction is in one lag only");
    let line = |group: &str| {
        text.lines()
            .find(|l| l.starts_with(&format!("  {group}  ")))
            .unwrap_or_else(|| panic!("no line for {group}:\n{text}"))
            .to_string()
    };
    assert!(
        line("g-clean").ends_with(&format!(", lag {clean} (to the LSO: read_committed)")),
        "{}",
        line("g-clean")
    );
    assert!(
        line("g-dirty").ends_with(&format!(", lag {dirty}")),
        "{}",
        line("g-dirty")
    );
}

/// The trace and the charts' series carry the LSO with each move of a leader's HW; the lag chart
/// of the `read_committed` group measures to it, and no chart is about `__transaction_state`.
#[test]
fn the_lso_moves_with_the_hw_in_the_trace_and_the_lag_chart_of_a_read_committed_group() {
    let s = views();
    let opts = RunOptions {
        until: Some(SimDuration::from_us(4_550_000)),
        charts: true,
        ..RunOptions::default()
    };
    let r = run(&s, &opts);
    let lines = trace_lines(&r);
    let held_back = lines
        .iter()
        .filter(|l| l.kind == "hw" && l.detail.starts_with("orders-0 -> ") && l.detail.contains(", LSO "))
        .count();
    assert!(held_back > 10, "the open transactions hold orders-0's LSO back");
    assert!(
        !lines
            .iter()
            .any(|l| l.kind == "hw" && l.detail.starts_with("orders-1 ") && l.detail.contains("LSO")),
        "the plain producer's partition has no transaction"
    );
    let series = r.history.series.as_deref().expect("charts were on");
    let lso = &series.last_stable_offset[&ORDERS_0];
    assert_eq!(
        lso.last().map(|(_, o)| *o),
        Some(r.logs[&ORDERS_0].last_stable_offset())
    );
    let drawn = charts(&s, &r, false).expect("the charts draw");
    let svg = |stem: &str| {
        &drawn
            .files
            .iter()
            .find(|f| f.stem == stem)
            .unwrap_or_else(|| panic!("no {stem}"))
            .svg
    };
    assert!(
        svg("lag-g-clean")
            .contains("Consumer lag of group g-clean: last stable offset minus committed offset")
    );
    assert!(
        svg("lag-g-dirty").contains("Consumer lag of group g-dirty: log end offset minus committed offset")
    );
    assert!(
        drawn.files.iter().all(|f| !f.stem.contains("__")),
        "no internal topic"
    );
}

#[test]
fn no_view_and_no_history_file_lists_the_internal_topics() {
    let s = views();
    let r = run_text(&s, None);
    let topics = describe_topics(&s, r.seed, &r.metadata);
    assert!(
        topics.contains("Topic: orders\t") && !topics.contains("__"),
        "{topics}"
    );
    let text = history::write(&s, &r);
    assert!(!text.contains("__transaction_state") && !text.contains("__consumer_offsets"));
    let read = history::read("txn-views.jsonl", &text, &s).expect("its own history reads back");
    assert_eq!(read.logs.len(), 2, "orders-0 and orders-1");
}

/// Regression: `skipped` looked at every batch of a log, and a COMMIT or ABORT marker (no
/// producer's record) made it panic; a `read_committed` group never gets aborted records, which
/// are not skipped either.
#[test]
fn markers_and_aborted_records_a_group_committed_past_are_not_skipped() {
    let s = views();
    let r = run_text(&s, None);
    let clean = r
        .groups
        .iter()
        .find(|g| g.group.as_ref() == "g-clean")
        .expect("the group");
    let committed = clean.offsets[&ORDERS_0];
    let log = &r.logs[&ORDERS_0];
    let markers = log
        .batches()
        .filter(|b| !b.is_data() && b.base_offset < committed)
        .count();
    let aborted = log
        .records()
        .filter(|(o, rec)| {
            *o < committed && r.history.producers[rec.producer as usize].in_aborted_txn(rec.seq)
        })
        .count();
    assert!(
        markers > 0 && aborted > 0,
        "{markers} markers, {aborted} aborted records"
    );
    assert_eq!(check(&s, &r).skipped.len(), 0);
}

/// A coordinator cut off from the cluster still has the transactional id loaded after the
/// controller moved its `__transaction_state` partition: `describe` shows what the new
/// coordinator (the newer coordinator epoch) holds, as the admin client finds it.
#[test]
fn describe_asks_the_new_coordinator_not_a_deposed_one() {
    let s = views();
    let old = coordinator(&s, &until(&s, 500));
    let mut moved = scenario(
        "",
        &format!(r#"(at: "1s", fault: Isolate(node: Broker({old})))"#),
        true,
    );
    // Long enough for the controller to fence the cut-off broker (`broker.session.timeout.ms`).
    moved.duration = SimDuration::from_us(20_000_000);
    let r = until(&moved, 15_000);
    let new = coordinator(&moved, &r);
    assert_ne!(new, old, "the controller moved the partition");
    let (_, row) = table(&describe_transactions(&moved, &r));
    assert_eq!(row[0].trim_end(), new.to_string());
}

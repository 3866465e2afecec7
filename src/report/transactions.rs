//! Transactions: `kafka-transactions --describe` for every transactional id, as Kafka 4.0's
//! `TransactionsCommand.DescribeTransactionsCommand` prints it
//! (tools/src/main/java/org/apache/kafka/tools/TransactionsCommand.java), and the summary's
//! per-producer count of transactions.
//!
//! Times are kafkasim's: milliseconds of simulated time since the start of the run, where Kafka
//! shows wall-clock epoch milliseconds.

use crate::kafka::record::Tp;
use crate::kafka::txn::{TxnState, coordinator_partition};
use crate::scenario::Scenario;
use crate::simulation::{RunResult, TxnView};
use std::fmt::Write;

/// The columns of `DescribeTransactionsCommand.HEADERS`.
const HEADERS: [&str; 9] = [
    "CoordinatorId",
    "TransactionalId",
    "ProducerId",
    "ProducerEpoch",
    "TransactionState",
    "TransactionTimeoutMs",
    "CurrentTransactionStartTimeMs",
    "TransactionDurationMs",
    "TopicPartitions",
];

/// True if some producer of the scenario has a `transactional.id`: only then do the views of
/// transactions (and the LSO) appear.
pub fn transactional(scenario: &Scenario) -> bool {
    scenario
        .producers
        .iter()
        .any(|p| p.config.transactional_id.is_some())
}

/// `ToolsUtils.prettyPrintTable`: each cell padded to its column's width and followed by a tab.
/// The tab that ends each line is left out (invisible, and editors strip it).
fn table(rows: &[[String; 9]]) -> String {
    let mut widths = HEADERS.map(str::len);
    for row in rows {
        for (w, cell) in widths.iter_mut().zip(row) {
            *w = (*w).max(cell.len());
        }
    }
    let mut out = String::new();
    let header = HEADERS.map(str::to_string);
    for row in std::iter::once(&header).chain(rows) {
        let mut line = String::new();
        for (cell, w) in row.iter().zip(widths) {
            let _ = write!(line, "{cell:<w$}\t");
        }
        let _ = writeln!(out, "{}", line.trim_end());
    }
    out
}

/// One row, as `DescribeTransactionsCommand.execute` fills it at `now_ms`.
fn row(v: &TxnView, now_ms: u64, result: &RunResult) -> [String; 9] {
    let m = &v.metadata;
    // `txnStartTimestamp` -1 reaches the tool as an empty OptionalLong: "None" twice
    // (`DescribeTransactionsHandler`).
    let (start, duration) = match m.start_ms {
        Some(start) => (start.to_string(), now_ms.saturating_sub(start).to_string()),
        None => ("None".to_string(), "None".to_string()),
    };
    // A producer id without its first epoch has `RecordBatch.NO_PRODUCER_EPOCH`.
    let epoch = match m.identity.epoch {
        u16::MAX => "-1".to_string(),
        e => e.to_string(),
    };
    let partitions: Vec<String> = m.partitions.iter().map(|tp: &Tp| result.names.tp(*tp)).collect();
    [
        v.coordinator.to_string(),
        m.transactional_id.to_string(),
        m.identity.id.to_string(),
        epoch,
        m.state.name().to_string(),
        m.timeout_ms.to_string(),
        start,
        duration,
        partitions.join(","),
    ]
}

/// Why a transactional id of the scenario has no description, in the words
/// `kafka-transactions --describe` prints: not found by the coordinator that leads its
/// `__transaction_state` partition (before its first `InitProducerId` got there), or no
/// coordinator (where Kafka's admin client retries until `default.api.timeout.ms` and then
/// reports a timeout, kafkasim says why).
fn missing(id: &str, scenario: &Scenario, result: &RunResult) -> String {
    let partition = coordinator_partition(id, scenario.cluster.config.transactions.state_log_partitions);
    let coordinator = scenario.transaction_state_topic().and_then(|topic| {
        result
            .metadata
            .partition(Tp { topic, partition })?
            .leader
            .filter(|b| !result.stopped.contains(b))
    });
    let cause = match coordinator {
        Some(_) => format!(
            "DescribeTransactions request for transactionalId `{id}` failed because the ID could not be found"
        ),
        None => "The coordinator is not available".to_string(),
    };
    format!(
        "Failed to describe transaction state of transactional-id `{id}`: {cause}. Enable debug logging for additional detail.\n"
    )
}

/// `kafka-transactions --describe --transactional-id <id>` for each transactional id the
/// coordinators know and each one of the scenario's producers, at the end of the run.
pub fn describe_transactions(scenario: &Scenario, result: &RunResult) -> String {
    if !transactional(scenario) {
        return String::new();
    }
    let now_ms = result.end.as_ms();
    // `handleDescribeTransactions`: a Dead id is being expired, and not found.
    let live: Vec<&TxnView> = result
        .transactions
        .iter()
        .filter(|v| v.metadata.state != TxnState::Dead)
        .collect();
    let mut ids: Vec<&str> = live
        .iter()
        .map(|v| v.metadata.transactional_id.as_ref())
        .collect();
    ids.extend(
        scenario
            .producers
            .iter()
            .filter_map(|p| p.config.transactional_id.as_deref()),
    );
    ids.sort_unstable();
    ids.dedup();
    let mut out = String::new();
    for id in ids {
        out.push('\n');
        match live.iter().find(|v| v.metadata.transactional_id.as_ref() == id) {
            Some(v) => out.push_str(&table(&[row(v, now_ms, result)])),
            None => out.push_str(&missing(id, scenario, result)),
        }
    }
    out
}

/// The summary's view: for each transactional producer, its transactions by outcome and its
/// fenced instances.
pub fn summary_transactions(s: &mut String, scenario: &Scenario, result: &RunResult) {
    use crate::history::TxnOutcome;
    if !transactional(scenario) {
        return;
    }
    let width = scenario
        .producers
        .iter()
        .filter_map(|p| p.config.transactional_id.as_ref().map(|id| id.len()))
        .max()
        .unwrap_or(0)
        .max("transactional.id".len());
    let _ = writeln!(
        s,
        "\ntransactions\n  {:<10} {:<width$} {:>9} {:>7} {:>4} {:>6}",
        "id", "transactional.id", "committed", "aborted", "open", "fenced"
    );
    for (p, ph) in scenario.producers.iter().zip(&result.history.producers) {
        let Some(id) = &p.config.transactional_id else {
            continue;
        };
        let count = |o: TxnOutcome| ph.txns.iter().filter(|t| t.outcome == o).count();
        let _ = writeln!(
            s,
            "  {:<10} {:<width$} {:>9} {:>7} {:>4} {:>6}",
            p.id,
            id,
            count(TxnOutcome::Committed),
            count(TxnOutcome::Aborted),
            count(TxnOutcome::Open),
            ph.fenced.len()
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `ToolsUtils.prettyPrintTable`: a column is as wide as its widest cell, every cell is
    /// followed by a tab.
    #[test]
    fn cells_are_padded_to_their_column_and_separated_by_tabs() {
        let mut row: [String; 9] = HEADERS.map(|_| "1".to_string());
        row[1] = "a-transactional-id".to_string();
        row[8] = "orders-0,orders-1".to_string();
        let text = table(&[row]);
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(
            lines[0],
            "CoordinatorId\tTransactionalId   \tProducerId\tProducerEpoch\tTransactionState\t\
             TransactionTimeoutMs\tCurrentTransactionStartTimeMs\tTransactionDurationMs\tTopicPartitions"
        );
        assert_eq!(
            lines[1],
            "1            \ta-transactional-id\t1         \t1            \t1               \t\
             1                   \t1                            \t1                    \torders-0,orders-1"
        );
    }
}

//! The transaction checker `read_aborted`: a consumer returned a record of a transaction that
//! was aborted. A `read_uncommitted` consumer does that by design; a `read_committed` one never
//! should.

use super::expect::Measure;
use super::label;
use super::scan::Finding;
use crate::scenario::Scenario;
use crate::simulation::RunResult;

/// One finding per record a consumer returned from `poll()` whose transaction its producer's
/// application or the transaction coordinator aborted.
pub fn read_aborted(scenario: &Scenario, result: &RunResult) -> Vec<Finding> {
    let h = &result.history;
    let names = &result.names;
    h.consumed
        .iter()
        .filter_map(|c| {
            let ph = h.producers.get(c.record.producer as usize)?;
            let t = ph.txn_of(c.record.seq)?;
            if !ph.in_aborted_txn(c.record.seq) {
                return None;
            }
            let consumer = &scenario.consumers[c.consumer as usize];
            let number = ph.txns.iter().position(|x| x.first == t.first).unwrap_or(0);
            Some(Finding {
                measure: Measure::ReadAborted,
                consumer: Some(c.consumer),
                record: c.record,
                tp: c.tp,
                other: None,
                headline: format!(
                    "{} ({}) read {} at {} offset {} at {}, but it belongs to transaction #{number} of {}, which was aborted (a read_committed consumer would have dropped it)",
                    consumer.id,
                    consumer.config.isolation.name(),
                    label(names, c.record),
                    names.tp(c.tp),
                    c.offset,
                    c.at,
                    names.producers[c.record.producer as usize],
                ),
            })
        })
        .collect()
}

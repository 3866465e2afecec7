//! A producer's figures as the summary, the charts and `kafkasim sweep` all report them: one
//! computation, so the three always agree.

use crate::history::{Outcome, ProducerHistory, RecordHistory};
use crate::sim::{SimDuration, SimTime};

/// The nearest-rank percentile `q` (in percent) of sorted values.
pub fn percentile(sorted: &[u64], q: u64) -> Option<u64> {
    if sorted.is_empty() {
        return None;
    }
    let rank = (sorted.len() as u64 * q).div_ceil(100).max(1);
    Some(sorted[(rank - 1) as usize])
}

/// Each acknowledged record's send time and produce latency (ack time minus send time, in µs),
/// in record order: what every latency figure (summary, charts, sweep) is computed from.
pub fn acked_latencies(h: &ProducerHistory) -> Vec<(SimTime, u64)> {
    h.records.iter().filter_map(acked_latency).collect()
}

/// An acknowledged record's send time and produce latency in µs (`None` for any other).
fn acked_latency(r: &RecordHistory) -> Option<(SimTime, u64)> {
    match (r.outcome(), r.sent_at()) {
        (Outcome::Acked { at, .. }, Some(sent)) => Some((sent, at.since(sent).as_us())),
        _ => None,
    }
}

/// What one producer's records came to.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ProducerFigures {
    /// Records acknowledged.
    pub acked: u64,
    /// Records that failed for good.
    pub failed: u64,
    /// Records in a batch and still unanswered at the end.
    pub pending: u64,
    /// send()-to-acknowledgement latency of every acknowledged record, in µs, sorted.
    pub latencies: Vec<u64>,
    /// Batches that went out in a request (split batches count as their pieces).
    pub batches: u64,
    /// Records in those batches.
    pub batched_records: u64,
    /// The first send() that put a record in a batch.
    pub first_send: Option<SimTime>,
    /// The last acknowledgement.
    pub last_ack: Option<SimTime>,
}

impl ProducerFigures {
    /// The figures of one producer's history.
    pub fn of(h: &ProducerHistory) -> ProducerFigures {
        let mut f = ProducerFigures {
            // Straight to the latencies: a run keeps one per acknowledged record.
            latencies: h
                .records
                .iter()
                .filter_map(|r| acked_latency(r).map(|(_, l)| l))
                .collect(),
            ..ProducerFigures::default()
        };
        for r in &h.records {
            let sent = r.sent_at();
            if let Some(t) = sent {
                f.first_send = Some(f.first_send.map_or(t, |first| first.min(t)));
            }
            match r.outcome() {
                Outcome::Acked { at, .. } => {
                    f.acked += 1;
                    f.last_ack = Some(f.last_ack.map_or(at, |last| last.max(at)));
                }
                Outcome::Failed { .. } => f.failed += 1,
                Outcome::Pending if sent.is_some() => f.pending += 1,
                Outcome::Pending => {}
            }
        }
        f.latencies.sort_unstable();
        for b in h.batches.iter().filter(|b| !b.attempts.is_empty()) {
            f.batches += 1;
            f.batched_records += u64::from(b.records);
        }
        f
    }

    /// Several producers' figures as one (latencies merged and sorted).
    pub fn merged<'a>(all: impl IntoIterator<Item = &'a ProducerFigures>) -> ProducerFigures {
        let mut m = ProducerFigures::default();
        for f in all {
            m.acked += f.acked;
            m.failed += f.failed;
            m.pending += f.pending;
            m.latencies.extend_from_slice(&f.latencies);
            m.batches += f.batches;
            m.batched_records += f.batched_records;
            m.first_send = match (m.first_send, f.first_send) {
                (Some(a), Some(b)) => Some(a.min(b)),
                (a, b) => a.or(b),
            };
            m.last_ack = m.last_ack.max(f.last_ack);
        }
        m.latencies.sort_unstable();
        m
    }

    /// Median latency in µs.
    pub fn p50(&self) -> Option<u64> {
        percentile(&self.latencies, 50)
    }

    /// 99th percentile latency in µs.
    pub fn p99(&self) -> Option<u64> {
        percentile(&self.latencies, 99)
    }

    /// Records per batch, in tenths (`None`: no batch went out).
    pub fn records_per_batch_tenths(&self) -> Option<u64> {
        (self.batched_records * 10).checked_div(self.batches)
    }

    /// Throughput: acknowledged records per second from the first send() to the last
    /// acknowledgement (`None` before two distinct moments exist).
    pub fn records_per_second(&self) -> Option<f64> {
        let span: SimDuration = self.last_ack?.since(self.first_send?);
        (span.as_us() > 0).then(|| self.acked as f64 * 1e6 / span.as_us() as f64)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nearest_rank_percentiles() {
        let v: Vec<u64> = (1..=100).collect();
        assert_eq!(percentile(&v, 50), Some(50));
        assert_eq!(percentile(&v, 99), Some(99));
        assert_eq!(percentile(&[7], 99), Some(7));
        assert_eq!(percentile(&[], 50), None);
    }

    #[test]
    fn merged_figures_pool_latencies_and_span_every_producer() {
        let a = ProducerFigures {
            acked: 2,
            latencies: vec![1, 5],
            first_send: Some(SimTime::from_us(100)),
            last_ack: Some(SimTime::from_us(1_000_100)),
            batches: 1,
            batched_records: 2,
            ..ProducerFigures::default()
        };
        let b = ProducerFigures {
            acked: 2,
            latencies: vec![3, 9],
            first_send: Some(SimTime::from_us(50)),
            last_ack: Some(SimTime::from_us(2_000_050)),
            batches: 2,
            batched_records: 2,
            ..ProducerFigures::default()
        };
        let m = ProducerFigures::merged([&a, &b]);
        assert_eq!(m.latencies, [1, 3, 5, 9]);
        assert_eq!(m.records_per_second(), Some(2.0));
        assert_eq!(m.records_per_batch_tenths(), Some(13));
    }
}

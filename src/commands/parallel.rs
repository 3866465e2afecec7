//! Independent runs (seeds, grid cells) spread over threads. Each simulation stays on one thread;
//! results come back in job order, so the output never depends on the thread count or on timing.

use std::sync::atomic::{AtomicUsize, Ordering};

/// Every core the OS gives this process (1 when it cannot tell).
pub fn available_threads() -> usize {
    std::thread::available_parallelism().map_or(1, std::num::NonZeroUsize::get)
}

/// `work(0)`, …, `work(jobs - 1)` on up to `threads` threads, each pulling the next job index;
/// the results in job order. A panic in a job (a simulator bug) is re-raised here.
pub fn map_jobs<R: Send>(jobs: usize, threads: usize, work: impl Fn(usize) -> R + Sync) -> Vec<R> {
    let next = AtomicUsize::new(0);
    let worker = || {
        let mut done = Vec::new();
        loop {
            let i = next.fetch_add(1, Ordering::Relaxed);
            if i >= jobs {
                return done;
            }
            done.push((i, work(i)));
        }
    };
    let parts: Vec<Vec<(usize, R)>> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..threads.clamp(1, jobs.max(1)))
            .map(|_| s.spawn(worker))
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().unwrap_or_else(|panic| std::panic::resume_unwind(panic)))
            .collect()
    });
    let mut slots: Vec<Option<R>> = (0..jobs).map(|_| None).collect();
    for (i, r) in parts.into_iter().flatten() {
        slots[i] = Some(r);
    }
    slots
        .into_iter()
        .map(|r| r.expect("every job index is taken by exactly one worker"))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn results_come_back_in_job_order_for_any_thread_count() {
        let squares: Vec<usize> = (0..100).map(|i| i * i).collect();
        for threads in [1, 2, 7, 200] {
            assert_eq!(map_jobs(100, threads, |i| i * i), squares, "{threads} threads");
        }
        assert!(map_jobs(0, 4, |i| i).is_empty());
    }
}

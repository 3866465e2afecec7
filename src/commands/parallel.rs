//! Independent runs (seeds, grid cells) spread over threads. Each simulation stays on one thread;
//! results come back in job order, so the output never depends on the thread count or on timing.

use super::{CommandError, ScenarioText};
use crate::check::{CheckReport, check};
use crate::scenario::{Overrides, Scenario};
use crate::simulation::{self, RunOptions, RunResult};
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

/// One run of a grid: no trace, the given seed, and what its checkers found.
pub fn run_checked(scenario: &Scenario, seed: u64) -> (RunResult, CheckReport) {
    let opts = RunOptions {
        seed: Some(seed),
        trace: None,
        ..RunOptions::default()
    };
    let result = simulation::run(scenario, &opts);
    let report = check(scenario, &result);
    (result, report)
}

/// A usage error (exit code 2) with a hint.
pub fn usage(message: &str, help: &str) -> CommandError {
    CommandError(format!("error: {message}\n  = help: {help}\n"))
}

/// Checks `--seeds` (1 to `max`; `example` shows a good value) and `--threads` (at least 1).
pub fn check_seeds_and_threads(
    seeds: u64,
    max: u64,
    example: &str,
    threads: Option<usize>,
) -> Result<(), CommandError> {
    if !(1..=max).contains(&seeds) {
        return Err(usage(
            &format!("--seeds must be between 1 and {max}, not {seeds}"),
            example,
        ));
    }
    if threads == Some(0) {
        return Err(usage(
            "--threads must be at least 1",
            "leave --threads out to use every core",
        ));
    }
    Ok(())
}

/// The seeds `first, first + 1, …` (`count` of them), or a usage error if they run past the
/// largest seed.
pub fn seed_range(first: u64, count: u64) -> Result<Vec<u64>, CommandError> {
    if first.checked_add(count.saturating_sub(1)).is_none() {
        return Err(usage(
            "--seed plus --seeds runs past the largest seed",
            "use a smaller --seed",
        ));
    }
    Ok((0..count).map(|i| first + i).collect())
}

/// A grid cell: its label, and the scenario with its overrides, or the first line of why
/// Kafka refuses them.
pub type Cell<C> = (C, Result<Scenario, String>);

/// Parses the scenario text once per cell with that cell's overrides.
pub fn parse_cells<C>(
    scenario: &ScenarioText,
    cells: impl IntoIterator<Item = (C, Overrides)>,
) -> Vec<Cell<C>> {
    cells
        .into_iter()
        .map(|(c, overrides)| {
            let parsed = scenario
                .parse(&overrides)
                .map_err(|e| e.message.lines().next().unwrap_or_default().to_string());
            (c, parsed)
        })
        .collect()
}

/// Runs `work(scenario, seed)` for every valid cell and every seed, on `threads` threads,
/// calling `done(runs finished, runs in all)` after each; per cell, its results in seed order,
/// or why Kafka refused it.
pub fn run_cells<C, R: Send>(
    cells: &[Cell<C>],
    seeds: &[u64],
    threads: usize,
    work: impl Fn(&Scenario, u64) -> R + Sync,
    done: impl Fn(usize, usize) + Sync,
) -> Vec<Result<Vec<R>, String>>
where
    C: Sync,
{
    let jobs: Vec<(&Scenario, u64)> = cells
        .iter()
        .filter_map(|(_, s)| s.as_ref().ok())
        .flat_map(|s| seeds.iter().map(move |seed| (s, *seed)))
        .collect();
    let finished = AtomicUsize::new(0);
    let mut results = map_jobs(jobs.len(), threads, |i| {
        let r = work(jobs[i].0, jobs[i].1);
        done(finished.fetch_add(1, Ordering::Relaxed) + 1, jobs.len());
        r
    })
    .into_iter();
    cells
        .iter()
        .map(|(_, s)| match s {
            Ok(_) => Ok(results.by_ref().take(seeds.len()).collect()),
            Err(why) => Err(why.clone()),
        })
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

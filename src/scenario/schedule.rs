//! Faults that do nothing: after the end of the run, waiting for records that are never sent,
//! or acting on a broker or client already in the state they bring about. The `at:` faults are
//! replayed in time order to know which nodes are down when; a node that an `after:` fault
//! crashes, restarts or shuts down is left out, since its state then depends on the run.

use super::Scenario;
use super::fault::{Fault, FaultSpec, Target, Trigger};
use super::raw::RawFault;
use super::source::Source;
use super::warning::{Warning, WarningKind};
use crate::sim::{SimDuration, SimTime};
use std::collections::BTreeMap;

/// How messages name a process: broker 2, consumer `c1`, producer `p1`, processor `app`.
fn describe(process: Target<'_>) -> String {
    match process {
        Target::Broker(b) => format!("broker {b}"),
        Target::Consumer(id) => format!("consumer `{id}`"),
        Target::Producer(id) => format!("producer `{id}`"),
        Target::Processor(id) => format!("processor `{id}`"),
    }
}

/// What a fault does to a process's state.
enum Change {
    Crash,
    Restart,
    Shutdown,
}

fn change_of(fault: &Fault) -> Option<(Target<'_>, Change)> {
    match fault {
        Fault::Crash { .. } => Some((fault.target()?, Change::Crash)),
        Fault::Restart { .. } => Some((fault.target()?, Change::Restart)),
        Fault::ControlledShutdown { broker } => Some((Target::Broker(*broker), Change::Shutdown)),
        _ => None,
    }
}

/// What the schedule tells about a process at some time.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Known {
    /// Running since the start or since this restart.
    Up,
    /// Crashed at this time.
    Down(SimTime),
    /// Shutting down or down after a `ControlledShutdown`: when it stops depends on the run.
    Unsure,
}

/// `t` as a scenario writes it: `2s`, `1500ms`.
fn when(t: SimTime) -> String {
    SimDuration::from_us(t.as_us()).human()
}

/// Every fault warning of `s`; `raw` are its fault entries as written, in the same order.
pub(super) fn fault_warnings(src: &Source<'_>, s: &Scenario, raw: &[RawFault<'_>]) -> Vec<Warning> {
    let mut out = Vec::new();
    for (spec, f) in s.faults.iter().zip(raw) {
        out.extend(never_fires(src, s, spec, f));
    }
    let timed = |i: &usize| match s.faults[*i].trigger {
        Trigger::At(t) => Some(t),
        _ => None,
    };
    let triggered: Vec<Target<'_>> = s
        .faults
        .iter()
        .filter(|f| !matches!(f.trigger, Trigger::At(_)))
        .filter_map(|f| change_of(&f.fault).map(|(p, _)| p))
        .collect();
    let mut order: Vec<(SimTime, usize)> = (0..s.faults.len())
        .filter_map(|i| timed(&i).map(|t| (t, i)))
        .filter(|(t, _)| *t <= SimTime::ZERO + s.duration)
        .collect();
    // Faults at the same time fire in file order (the event queue's sequence numbers).
    order.sort();
    let mut state: BTreeMap<Target<'_>, Known> = BTreeMap::new();
    for (t, i) in order {
        let Some((process, change)) = change_of(&s.faults[i].fault) else {
            continue;
        };
        if triggered.contains(&process) {
            continue;
        }
        let before = *state.get(&process).unwrap_or(&Known::Up);
        let who = describe(process);
        let raw_fault = raw[i].fault;
        let already_down = |since| {
            format!(
                "{who} is already down at {}: it crashed at {}",
                when(t),
                when(since)
            )
        };
        let warning = match (&change, before) {
            (Change::Crash, Known::Down(since)) => Some(Warning::new(
                WarningKind::CrashOfCrashed,
                src.error_at(raw_fault, already_down(since)).with_help(format!(
                    "remove this Crash, or Restart({process}) before it"
                )),
                "this Crash does nothing",
            )),
            (Change::Restart, Known::Up) => Some(Warning::new(
                WarningKind::RestartOfRunning,
                src.error_at(raw_fault, format!("{who} is running at {}", when(t)))
                    .with_help(format!(
                        "Restart starts a crashed or shut-down process: Crash({process}) before it, or remove it"
                    )),
                "this Restart does nothing",
            )),
            (Change::Shutdown, Known::Down(since)) => Some(Warning::new(
                WarningKind::ShutdownOfStopped,
                src.error_at(raw_fault, already_down(since))
                    .with_help("remove this ControlledShutdown, or Restart the broker before it"),
                "this ControlledShutdown does nothing",
            )),
            _ => None,
        };
        out.extend(warning);
        let after = match (change, before) {
            (Change::Crash, Known::Down(since)) => Known::Down(since),
            (Change::Crash, _) => Known::Down(t),
            (Change::Restart, Known::Down(_)) => Known::Up,
            (Change::Restart, other) => other,
            (Change::Shutdown, Known::Down(since)) => Known::Down(since),
            (Change::Shutdown, _) => Known::Unsure,
        };
        state.insert(process, after);
    }
    out
}

/// A fault after the end of the run, or waiting for more records than its producer sends.
fn never_fires(src: &Source<'_>, s: &Scenario, spec: &FaultSpec, f: &RawFault<'_>) -> Option<Warning> {
    let end = SimTime::ZERO + s.duration;
    match spec.trigger {
        Trigger::At(t) if t > end => {
            let raw = f.at?;
            let at = src
                .error_at(
                    raw,
                    format!(
                        "this fault is at {}, after the end of the run ({} of `duration`)",
                        src.text_of(raw).trim_matches('"'),
                        s.duration.human()
                    ),
                )
                .with_help(format!(
                    "move it before {}, or make `duration` longer",
                    s.duration.human()
                ));
            Some(Warning::new(WarningKind::FaultAfterEnd, at, "it never fires"))
        }
        Trigger::Sent { producer, records } | Trigger::Acked { producer, records } => {
            let p = &s.producers[producer];
            if records <= p.workload.records {
                return None;
            }
            let at = src
                .error_at(
                    f.after?,
                    format!(
                        "producer `{}` sends {} records, and this fault waits for {records}",
                        p.id, p.workload.records
                    ),
                )
                .with_help(format!(
                    "wait for at most {} records, or let the producer send more",
                    p.workload.records
                ));
            Some(Warning::new(WarningKind::TriggerNeverFires, at, "it never fires"))
        }
        _ => None,
    }
}

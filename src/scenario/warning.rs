//! Warnings: settings Kafka accepts that break a cluster, and faults that do nothing. A warning
//! never changes the run; the commands print it, and `--deny-warnings` makes it an error.

use super::error::{Place, ScenarioError};
use std::fmt;

/// What a warning is about.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum WarningKind {
    /// `broker.session.timeout.ms` not above `broker.heartbeat.interval.ms` plus a round trip.
    SessionBelowHeartbeat,
    /// `replica.lag.time.max.ms` below the time a follower needs for one fetch.
    LagBelowFetch,
    /// `min.insync.replicas` not below the replication factor, with `acks=all`.
    MinIsrAtReplicationFactor,
    /// `unclean.leader.election.enable` with `acks=all`.
    UncleanWithAcksAll,
    /// A producer sends keyless records to a compacted topic.
    KeylessOnCompacted,
    /// A client's `request.timeout.ms` shorter than a round trip.
    RequestTimeoutBelowRoundTrip,
    /// A client's `socket.connection.setup.timeout.ms` not longer than a round trip.
    ConnectionSetupWithinRoundTrip,
    /// A fault at a time after the end of the run.
    FaultAfterEnd,
    /// A fault waiting for more records than its producer sends.
    TriggerNeverFires,
    /// `Restart` of a broker or consumer that is running.
    RestartOfRunning,
    /// `Crash` of a broker or consumer that is down.
    CrashOfCrashed,
    /// `ControlledShutdown` of a broker that is down.
    ShutdownOfStopped,
}

/// One warning: where, what, and what it will do to the run.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Warning {
    /// What it is about.
    pub kind: WarningKind,
    /// What is wrong, in one line.
    pub message: String,
    /// What it does to the cluster or the run.
    pub consequence: String,
    /// How to avoid it.
    pub help: Option<String>,
    /// Where it is.
    pub place: Box<Place>,
    /// Context (which entry loaded the properties file it is in, ...).
    pub note: Option<String>,
}

impl Warning {
    /// A warning at the place, with the message, help and note of `at`.
    pub fn new(kind: WarningKind, at: ScenarioError, consequence: impl Into<String>) -> Warning {
        Warning {
            kind,
            message: at.message,
            consequence: consequence.into(),
            help: at.help,
            place: at.place,
            note: at.note,
        }
    }

    /// The warning as `--deny-warnings` reports it: an error.
    pub fn denied(&self) -> String {
        let mut text = String::new();
        self.write(&mut text, "error")
            .expect("writing to a String cannot fail");
        text
    }

    fn write(&self, f: &mut impl fmt::Write, level: &str) -> fmt::Result {
        let place = &self.place;
        match place.location {
            Some(at) => writeln!(
                f,
                "{level}: {}:{}:{}: {}",
                place.file, at.line, at.column, self.message
            )?,
            None => writeln!(f, "{level}: {}: {}", place.file, self.message)?,
        }
        writeln!(f, "  = consequence: {}", self.consequence)?;
        if let Some(help) = &self.help {
            writeln!(f, "  = help: {help}")?;
        }
        if let Some(note) = &self.note {
            writeln!(f, "  = note: {note}")?;
        }
        Ok(())
    }
}

impl fmt::Display for Warning {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.write(f, "warning")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scenario::error::Location;

    #[test]
    fn a_warning_names_its_place_on_one_line_then_its_consequence() {
        let at = ScenarioError::at(
            "x.ron",
            Location { line: 7, column: 12 },
            Some("line"),
            3,
            "too short",
        )
        .with_help("raise it");
        let w = Warning::new(WarningKind::LagBelowFetch, at, "followers leave the ISR");
        assert_eq!(
            w.to_string(),
            "warning: x.ron:7:12: too short\n  = consequence: followers leave the ISR\n  = help: raise it\n"
        );
        assert!(
            w.denied().starts_with("error: x.ron:7:12: too short\n"),
            "{}",
            w.denied()
        );
    }
}

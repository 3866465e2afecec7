//! Config values given on the command line (`--set linger.ms=5`, and the grids of `matrix`): each
//! one goes into every config block whose set has the key, as if the user had written it there.
//!
//! "As if written" matters: Kafka treats an explicit value differently from a defaulted one
//! (`ProducerConfig.postProcessAndValidateIdempotenceConfigs` rejects an explicit
//! `enable.idempotence=true` with `acks=1`, but silently disables a defaulted one).

use super::{ConfigValue, KeyDef, all_sets, coerce};
use crate::scenario::error::did_you_mean;
use std::fmt;

/// `(key, value)` pairs that replace what a scenario file says, in the order given.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Overrides(Vec<(&'static str, ConfigValue)>);

/// A `KEY=VALUE` that cannot be applied: no such key, or a value Kafka rejects (exit code 2).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OverrideError {
    /// What is wrong, in one line.
    pub message: String,
    /// How to fix it, when we can tell.
    pub help: Option<String>,
}

impl fmt::Display for OverrideError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "error: {}", self.message)?;
        if let Some(help) = &self.help {
            writeln!(f, "  = help: {help}")?;
        }
        Ok(())
    }
}

impl std::error::Error for OverrideError {}

impl Overrides {
    /// Parses `KEY=VALUE` assignments, each checked against every config set that has the key.
    pub fn parse<S: AsRef<str>>(assignments: &[S]) -> Result<Overrides, OverrideError> {
        let mut overrides = Overrides::default();
        for a in assignments {
            overrides.set(a.as_ref())?;
        }
        Ok(overrides)
    }

    /// Adds one `KEY=VALUE` assignment.
    pub fn set(&mut self, assignment: &str) -> Result<(), OverrideError> {
        let Some((key, text)) = assignment.split_once('=') else {
            return Err(OverrideError {
                message: format!("`{assignment}` is not KEY=VALUE"),
                help: Some("write the Kafka property name, `=` and the value, e.g. linger.ms=5".into()),
            });
        };
        let defs = key_defs(key)?;
        if self.get(key).is_some() {
            return Err(OverrideError {
                message: format!("config `{key}` is set twice"),
                help: Some("give each key once".into()),
            });
        }
        let written = ConfigValue::Str(text.to_string());
        let check =
            |def: &KeyDef| coerce(def, &written).map_err(|(message, help)| OverrideError { message, help });
        let value = check(defs[0])?;
        for def in &defs[1..] {
            check(def)?;
        }
        self.0.push((defs[0].name, value));
        Ok(())
    }

    /// True when no key is overridden.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The overridden keys and their values, in the order given.
    pub fn iter(&self) -> impl Iterator<Item = (&'static str, &ConfigValue)> {
        self.0.iter().map(|(k, v)| (*k, v))
    }

    /// The value given for `key`, if any.
    pub fn get(&self, key: &str) -> Option<&ConfigValue> {
        self.0.iter().find(|(k, _)| *k == key).map(|(_, v)| v)
    }

    /// The command-line flags that give these overrides back: `--set acks=1 --set retries=0`.
    pub fn to_flags(&self) -> String {
        let flags: Vec<String> = self.iter().map(|(k, v)| format!("--set {k}={v}")).collect();
        flags.join(" ")
    }
}

/// The definitions of `key` in every config set that has it (at least one), or why there is none.
fn key_defs(key: &str) -> Result<Vec<&'static KeyDef>, OverrideError> {
    let sets = all_sets();
    let defs: Vec<&'static KeyDef> = sets
        .iter()
        .flat_map(|s| s.keys.iter())
        .filter(|d| d.name == key)
        .collect();
    if !defs.is_empty() {
        return Ok(defs);
    }
    let listing = "`kafkasim configs` lists the supported keys".to_string();
    if sets.iter().any(|s| s.ignores(key)) {
        return Err(OverrideError {
            message: format!("`{key}` has no effect in the model: --set {key}=... would change nothing"),
            help: Some(format!(
                "a scenario's config or config_file may keep `{key}` (it is listed as ignored); {listing}"
            )),
        });
    }
    if let Some(set) = sets.iter().find(|s| s.not_modelled.contains(&key)) {
        return Err(OverrideError {
            message: format!(
                "`{key}` is a Kafka {} config that kafkasim does not model yet",
                set.what
            ),
            help: Some(listing),
        });
    }
    let names = sets.iter().flat_map(|s| s.keys.iter().map(|d| d.name));
    Err(OverrideError {
        message: format!("unknown config `{key}`"),
        help: Some(did_you_mean(key, names).unwrap_or(listing)),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scenario::Scenario;
    use crate::scenario::config::Acks;
    use crate::sim::SimDuration;

    /// One broker, one topic, producer `p1` with `config` (`None`: no config block at all).
    fn scenario_text(config: Option<&str>) -> String {
        let config = config.map_or(String::new(), |c| format!("config: {{ {c} }},"));
        format!(
            r#"Scenario(
                name: "t", description: "", duration: "1s",
                cluster: (brokers: 1),
                topics: [ (name: "orders", partitions: 1) ],
                producers: [ (id: "p1", {config}
                              workload: (topic: "orders", records: 1, rate: "1/s")) ],
            )"#
        )
    }

    fn parse(config: Option<&str>, sets: &[&str]) -> Result<Scenario, crate::scenario::ScenarioError> {
        let overrides = Overrides::parse(sets).unwrap_or_else(|e| panic!("{e}"));
        Scenario::parse_with_overrides("t.ron", &scenario_text(config), &overrides)
    }

    #[test]
    fn an_override_replaces_the_written_value() {
        let s = parse(Some(r#""linger.ms": 0"#), &["linger.ms=7"]).expect("valid");
        assert_eq!(s.producers[0].config.linger, SimDuration::from_ms(7));
    }

    #[test]
    fn an_override_fills_an_absent_block() {
        let s = parse(None, &["acks=1", "min.insync.replicas=1"]).expect("valid");
        assert_eq!(s.producers[0].config.acks, Acks::One);
        assert_eq!(s.cluster.config.min_insync_replicas, 1);
        assert_eq!(s.topics[0].config.min_insync_replicas, 1);
    }

    #[test]
    fn an_override_counts_as_written() {
        // Defaulted enable.idempotence with acks=1: Kafka silently disables idempotence.
        let s = parse(Some(r#""acks": "1""#), &[]).expect("valid");
        assert!(!s.producers[0].config.idempotence);
        assert!(
            s.producers[0].config.notes[0].starts_with("Idempotence will be disabled"),
            "{:?}",
            s.producers[0].config.notes
        );
        // Given with --set, it is explicit: Kafka refuses the producer.
        let e = parse(Some(r#""acks": "1""#), &["enable.idempotence=true"]).expect_err("rejected");
        assert_eq!(
            e.message,
            "Must set acks to all in order to use the idempotent producer. Otherwise we cannot guarantee idempotence."
        );
        let e = parse(None, &["enable.idempotence=true", "acks=1"]).expect_err("rejected");
        assert!(e.message.starts_with("Must set acks to all"), "{e}");
    }

    #[test]
    fn an_error_about_an_overridden_key_points_at_the_block_not_the_replaced_text() {
        // The block opens on line 5, the replaced `"acks": "all"` is on line 6.
        let config = "\n \"acks\": \"all\", \"linger.ms\": 0";
        let e = parse(Some(config), &["enable.idempotence=true", "acks=0"]).expect_err("rejected");
        assert_eq!(e.place.location.map(|l| l.line), Some(5), "{e}");
        let e = parse(Some(config), &["enable.idempotence=true", "retries=0"]).expect_err("rejected");
        assert!(e.message.starts_with("Must set retries to non-zero"), "{e}");
        assert_eq!(e.place.location.map(|l| l.line), Some(5), "{e}");
        let written = "\n \"acks\": \"1\", \"linger.ms\": 0";
        let e = parse(Some(written), &["enable.idempotence=true"]).expect_err("rejected");
        assert_eq!(e.place.location.map(|l| l.line), Some(6), "{e}");
    }

    #[test]
    fn an_unknown_key_gets_a_suggestion() {
        let e = Overrides::parse(&["lingr.ms=5"]).expect_err("unknown");
        assert_eq!(e.message, "unknown config `lingr.ms`");
        assert_eq!(e.help.as_deref(), Some("did you mean `linger.ms`?"));
        let e = Overrides::parse(&["client.id=app"]).expect_err("no effect");
        assert_eq!(
            e.message,
            "`client.id` has no effect in the model: --set client.id=... would change nothing"
        );
        let e = Overrides::parse(&["compression.type=lz4"]).expect_err("not modelled");
        assert_eq!(
            e.message,
            "`compression.type` is a Kafka producer config that kafkasim does not model yet"
        );
    }

    #[test]
    fn bad_assignments_are_usage_errors() {
        let e = Overrides::parse(&["acks=2"]).expect_err("not an acks value");
        assert_eq!(
            e.message,
            "Invalid value 2 for configuration acks: String must be one of: all, -1, 0, 1"
        );
        let e = Overrides::parse(&["linger.ms"]).expect_err("no value");
        assert_eq!(e.message, "`linger.ms` is not KEY=VALUE");
        let e = Overrides::parse(&["acks=1", "acks=all"]).expect_err("twice");
        assert_eq!(e.message, "config `acks` is set twice");
    }

    #[test]
    fn flags_give_the_canonical_values_back() {
        let o = Overrides::parse(&["linger.ms= 5", "enable.idempotence=TRUE"]).expect("valid");
        assert_eq!(o.to_flags(), "--set linger.ms=5 --set enable.idempotence=true");
    }
}

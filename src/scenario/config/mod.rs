//! Kafka configuration: the supported keys with Kafka's names, defaults and validators, and the
//! typed configs the simulator reads.
//!
//! Defaults follow **Apache Kafka 4.0** (`ProducerConfig.java`, `ConsumerConfig.java`,
//! `ServerConfigs`/`KRaftConfigs`); validator messages follow `ConfigDef`'s wording.

mod block;
mod broker;
mod client;
mod consumer;
mod overrides;
mod producer;

pub use block::{ConfigBlock, Entries, LoadedBlock};
pub(crate) use broker::{BROKER, TOPIC};
pub use broker::{
    BrokerConfig, CleanerConfig, CleanupPolicy, CompactionConfig, RequestCosts, TopicConfig,
    TransactionVersion, TransactionsConfig, TruncationRule,
};
pub use client::ClientNetConfig;
pub(crate) use consumer::CONSUMER;
pub use consumer::{ConsumerConfig, IsolationLevel, OffsetReset};
pub use overrides::{OverrideError, Overrides};
pub(crate) use producer::PRODUCER;
pub use producer::{Acks, ProducerConfig};

use super::error::did_you_mean;
use crate::kafka::group::assignor::Strategy;
use crate::sim::SimDuration;
use serde::de::{Deserializer, Visitor};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

/// What values a key accepts (Kafka's `ConfigDef` type plus validator).
#[derive(Clone, Copy, Debug)]
pub enum Kind {
    /// An integer within `min..=max` (Kafka's INT or LONG with a `Range`).
    Int {
        /// Smallest allowed value.
        min: i64,
        /// Largest allowed value.
        max: i64,
    },
    /// `true` or `false`.
    Bool,
    /// One of a list of strings (Kafka's `ValidString.in`, case-sensitive).
    OneOf(&'static [&'static str]),
    /// `auto.offset.reset`: latest, earliest or none, checked as Kafka's
    /// `AutoOffsetResetStrategy.Validator` does; its `by_duration:` values (KIP-1106) are not
    /// modelled.
    OffsetReset,
    /// A comma-separated, non-empty list of assignors (`partition.assignment.strategy`, a LIST of
    /// classes in Kafka): Kafka's class names, or kafkasim's short names for them.
    Assignors,
    /// Any text (Kafka's STRING without a validator); the default `""` stands for null.
    Text,
    /// A comma-separated list whose items are each one of a list of strings (Kafka's LIST with
    /// `ValidList.in`); may be empty.
    ListOf(&'static [&'static str]),
    /// A fraction from 0 to 1 (Kafka's DOUBLE with `Range.between(0, 1)`), kept exactly as a
    /// decimal so that no float decides what happens.
    Ratio,
}

impl Kind {
    /// For an integer key, the `ConfigDef.Type` Kafka parses it as and that type's bounds, told by
    /// the key's largest value: SHORT keys stop at 32767, INT keys at most at 2^31 - 1, LONG keys
    /// go on to 2^63 - 1. (`tests/oracle` checks this against Kafka's ConfigDefs.)
    pub fn java_type(&self) -> Option<(&'static str, i64, i64)> {
        match *self {
            Kind::Int { max, .. } if max == i64::from(i16::MAX) => {
                Some(("SHORT", i16::MIN.into(), i16::MAX.into()))
            }
            Kind::Int { max, .. } if max <= INT_MAX => Some(("INT", i32::MIN.into(), INT_MAX)),
            Kind::Int { .. } => Some(("LONG", i64::MIN, LONG_MAX)),
            _ => None,
        }
    }
}

/// One supported key.
#[derive(Clone, Copy, Debug)]
pub struct KeyDef {
    /// Kafka's property name.
    pub name: &'static str,
    /// Accepted values.
    pub kind: Kind,
    /// Kafka 4.0's default, as Kafka's docs print it.
    pub default: &'static str,
    /// What it does in the simulation.
    pub doc: &'static str,
}

/// The keys of one kind of component ("producer", "consumer", "broker", "topic").
pub struct ConfigSet {
    /// The component, for messages.
    pub what: &'static str,
    /// The keys kafkasim models.
    pub keys: &'static [KeyDef],
    /// Real Kafka keys that kafkasim does not model (yet): a clear error instead of "unknown".
    pub not_modelled: &'static [&'static str],
    /// Real Kafka keys that change nothing in the model (serialization, security, sockets,
    /// metrics, client ids, plumbing): accepted, and listed in the summary as ignored.
    pub ignored: &'static [&'static [&'static str]],
    /// Prefixes of such keys (`ssl.`, `sasl.`).
    pub ignored_prefixes: &'static [&'static str],
    /// Real Kafka keys a scenario gives elsewhere: (key, where).
    elsewhere: &'static [(&'static str, &'static str)],
}

/// A config value as written in a scenario: properties files are text, RON adds ints and bools.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(untagged)]
pub enum ConfigValue {
    /// `true`/`false`.
    Bool(bool),
    /// An integer.
    Int(i64),
    /// Any text.
    Str(String),
}

impl fmt::Display for ConfigValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ConfigValue::Bool(b) => write!(f, "{b}"),
            ConfigValue::Int(i) => write!(f, "{i}"),
            ConfigValue::Str(s) => write!(f, "{s}"),
        }
    }
}

impl<'de> Deserialize<'de> for ConfigValue {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = ConfigValue;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a string, a number or a boolean")
            }
            fn visit_bool<E>(self, v: bool) -> Result<ConfigValue, E> {
                Ok(ConfigValue::Bool(v))
            }
            fn visit_i64<E>(self, v: i64) -> Result<ConfigValue, E> {
                Ok(ConfigValue::Int(v))
            }
            fn visit_u64<E: serde::de::Error>(self, v: u64) -> Result<ConfigValue, E> {
                i64::try_from(v)
                    .map(ConfigValue::Int)
                    .map_err(|_| E::custom("integer too large"))
            }
            fn visit_f64<E: serde::de::Error>(self, v: f64) -> Result<ConfigValue, E> {
                if v.fract() == 0.0 && v.abs() >= 9.2e18 {
                    // RON reads a whole number too large for 64 bits as a float.
                    return Err(E::custom("integer too large"));
                }
                // A ratio written as a RON number (`0.5`): kept as the text Rust prints for it
                // (the shortest that reads back the same), which the key's kind then checks.
                Ok(ConfigValue::Str(v.to_string()))
            }
            fn visit_str<E>(self, v: &str) -> Result<ConfigValue, E> {
                Ok(ConfigValue::Str(v.to_string()))
            }
        }
        d.deserialize_any(V)
    }
}

/// A config block's explicit settings as Kafka properties, key to value text: what a real
/// client or broker given the same block would be configured with.
pub type Properties = BTreeMap<String, String>;

/// Validated values of one config block, defaults filled in.
#[derive(Clone, Debug)]
pub struct Config {
    values: BTreeMap<&'static str, ConfigValue>,
    explicit: BTreeSet<&'static str>,
    /// Real Kafka keys the model ignores, as written.
    ignored: Properties,
}

impl ConfigSet {
    /// True when `key` is a real Kafka key of this set that changes nothing in the model.
    pub fn ignores(&self, key: &str) -> bool {
        self.ignored.iter().any(|list| list.contains(&key))
            || self.ignored_prefixes.iter().any(|p| key.starts_with(p))
    }
}

impl Config {
    /// True when the user wrote the key (Kafka treats some explicit values differently).
    pub fn is_explicit(&self, key: &str) -> bool {
        self.explicit.contains(key)
    }

    /// The settings the user gave (file, map or `--set`): the modelled keys with their
    /// validated values, and the ignored keys as written.
    pub fn properties(&self) -> Properties {
        let mut props = self.ignored.clone();
        for key in &self.explicit {
            if let Some(v) = self.values.get(key) {
                props.insert((*key).to_string(), v.to_string());
            }
        }
        props
    }

    /// An integer key (panics if the key is not an integer key: a bug in a config table).
    pub fn int(&self, key: &str) -> i64 {
        match self.values.get(key) {
            Some(ConfigValue::Int(i)) => *i,
            other => panic!("config `{key}` is not an integer: {other:?}"),
        }
    }

    /// An integer key whose Kafka default is null: `None` unless given.
    pub fn int_opt(&self, key: &str) -> Option<i64> {
        self.values.get(key).map(|_| self.int(key))
    }

    /// An integer key that cannot be negative.
    pub fn uint(&self, key: &str) -> u64 {
        u64::try_from(self.int(key)).unwrap_or(0)
    }

    /// A `*.ms` key as a duration.
    pub fn ms(&self, key: &str) -> SimDuration {
        SimDuration::from_ms(self.uint(key))
    }

    /// A boolean key.
    pub fn bool(&self, key: &str) -> bool {
        match self.values.get(key) {
            Some(ConfigValue::Bool(b)) => *b,
            other => panic!("config `{key}` is not a boolean: {other:?}"),
        }
    }

    /// A ratio key.
    pub fn ratio(&self, key: &str) -> Ratio {
        Ratio::parse(self.str(key)).unwrap_or_else(|| panic!("config `{key}` is not a ratio"))
    }

    /// A list key's items.
    pub fn list(&self, key: &str) -> Vec<&str> {
        self.str(key).split(',').filter(|i| !i.is_empty()).collect()
    }

    /// A one-of-list key.
    pub fn str(&self, key: &str) -> &str {
        match self.values.get(key) {
            Some(ConfigValue::Str(s)) => s,
            other => panic!("config `{key}` is not a string: {other:?}"),
        }
    }
}

/// Checks a value against its key's kind, the way Kafka parses a properties file
/// (`ConfigDef.parseType`: text is trimmed; then `Range`/`ValidString`/`ValidList` validators).
fn coerce(def: &KeyDef, value: &ConfigValue) -> Result<ConfigValue, (String, Option<String>)> {
    let invalid = |why: String| format!("Invalid value {value} for configuration {}: {why}", def.name);
    let text = value.to_string();
    let text = text.trim();
    match def.kind {
        Kind::Int { min, max } => {
            let range = format!(
                "write a whole number from {min} to {max}, e.g. \"{}\": {}",
                def.name, def.default
            );
            // `ConfigDef.parseType`: `Short.parseShort`/`Integer.parseInt`/`Long.parseLong`, so a
            // value beyond the key's Java type is "not a number" of it, before any `Range`.
            let (java, lowest, highest) = def.kind.java_type().unwrap_or(("LONG", i64::MIN, LONG_MAX));
            let not_a_number = || {
                (
                    invalid(format!("Not a number of type {java}")),
                    Some(range.clone()),
                )
            };
            let n = match value {
                ConfigValue::Int(n) => *n,
                ConfigValue::Str(s) => s.trim().parse().map_err(|_| not_a_number())?,
                ConfigValue::Bool(_) => return Err(not_a_number()),
            };
            if !(lowest..=highest).contains(&n) {
                return Err(not_a_number());
            }
            if n < min {
                return Err((invalid(format!("Value must be at least {min}")), Some(range)));
            }
            if n > max {
                return Err((invalid(format!("Value must be no more than {max}")), Some(range)));
            }
            Ok(ConfigValue::Int(n))
        }
        Kind::Bool => match value {
            ConfigValue::Bool(b) => Ok(ConfigValue::Bool(*b)),
            ConfigValue::Str(_) if text.eq_ignore_ascii_case("true") => Ok(ConfigValue::Bool(true)),
            ConfigValue::Str(_) if text.eq_ignore_ascii_case("false") => Ok(ConfigValue::Bool(false)),
            _ => Err((
                invalid("Expected value to be either true or false".into()),
                Some(format!("write \"{}\": true or false", def.name)),
            )),
        },
        Kind::Assignors => {
            // Kafka loads each class (`ConsumerPartitionAssignor.getAssignorInstances`), so its
            // class names must be accepted; the short names are kafkasim's convenience.
            let items: Vec<&str> = text.split(',').map(str::trim).collect();
            if let Some(Err(unknown)) = items.iter().map(|i| i.parse::<Strategy>()).find(Result::is_err) {
                let names = Strategy::ALL.map(Strategy::name).join(", ");
                return Err((
                    invalid(format!(
                        "`{}` is not one of: {names} (or their class names)",
                        unknown.given
                    )),
                    Some(unknown.help()),
                ));
            }
            Ok(ConfigValue::Str(items.join(",")))
        }
        Kind::OffsetReset => match text {
            "latest" | "earliest" | "none" => Ok(ConfigValue::Str(text.to_string())),
            _ if text.starts_with("by_duration:") => Err((
                invalid("by_duration (KIP-1106) is not modelled by kafkasim".into()),
                Some("use latest, earliest or none".into()),
            )),
            _ => Err((
                invalid(format!(
                    "Invalid value `{text}` for configuration {}. The value must be either 'earliest', 'latest', 'none' or of the format 'by_duration:<PnDTnHnMn.nS.>'.",
                    def.name
                )),
                did_you_mean(text, ["latest", "earliest", "none"]),
            )),
        },
        Kind::Text => Ok(ConfigValue::Str(text.to_string())),
        Kind::ListOf(allowed) => {
            // `ConfigDef.parseType` LIST: split on commas (and the spaces around them); an empty
            // text is an empty list. `ValidList` then checks every item.
            let items: Vec<&str> = if text.is_empty() {
                Vec::new()
            } else {
                text.split(',').map(str::trim).collect()
            };
            if let Some(bad) = items.iter().find(|i| !allowed.contains(i)) {
                // `ValidString` names the item it refuses, not the whole list.
                return Err((
                    format!(
                        "Invalid value {bad} for configuration {}: String must be one of: {}",
                        def.name,
                        allowed.join(", ")
                    ),
                    did_you_mean(bad, allowed.iter().copied())
                        .or_else(|| Some(format!("write a comma-separated list of {}", allowed.join(", ")))),
                ));
            }
            Ok(ConfigValue::Str(items.join(",")))
        }
        Kind::Ratio => {
            let help = Some(format!(
                "write a decimal from 0 to 1, e.g. \"{}\": {}",
                def.name, def.default
            ));
            let ratio = match value {
                ConfigValue::Bool(_) => None,
                _ => Ratio::parse(text),
            };
            let Some(ratio) = ratio else {
                if text.strip_prefix('-').and_then(Ratio::parse).is_some() {
                    return Err((invalid("Value must be at least 0".into()), help));
                }
                return Err((invalid("Not a number of type DOUBLE".into()), help));
            };
            if ratio.num > ratio.den {
                return Err((invalid("Value must be no more than 1".into()), help));
            }
            Ok(ConfigValue::Str(text.to_string()))
        }
        Kind::OneOf(allowed) => {
            if allowed.contains(&text) {
                Ok(ConfigValue::Str(text.to_string()))
            } else {
                Err((
                    invalid(format!("String must be one of: {}", allowed.join(", "))),
                    did_you_mean(text, allowed.iter().copied()),
                ))
            }
        }
    }
}

/// A fraction `num / den` from a decimal as written (`0.5` is 5/10): compared exactly, with
/// integers, where Kafka compares doubles.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Ratio {
    num: u64,
    den: u64,
}

impl Ratio {
    /// Reads `0.5`, `.25`, `1`, `0` (at most 18 decimal places); `None` for anything else.
    pub fn parse(text: &str) -> Option<Ratio> {
        let (whole, fraction) = text.split_once('.').unwrap_or((text, ""));
        let digits = |s: &str| s.chars().all(|c| c.is_ascii_digit());
        if (whole.is_empty() && fraction.is_empty())
            || !digits(whole)
            || !digits(fraction)
            || fraction.len() > 18
        {
            return None;
        }
        let den = 10u64.checked_pow(fraction.len() as u32)?;
        let whole: u64 = if whole.is_empty() { 0 } else { whole.parse().ok()? };
        let fraction: u64 = if fraction.is_empty() {
            0
        } else {
            fraction.parse().ok()?
        };
        let num = whole.checked_mul(den)?.checked_add(fraction)?;
        Some(Ratio { num, den })
    }

    /// `part / whole > self`, as `LogCleanerManager` compares a log's dirty ratio with
    /// `min.cleanable.dirty.ratio` (`whole` 0 is never above).
    pub fn is_below(self, part: u64, whole: u64) -> bool {
        whole > 0 && u128::from(part) * u128::from(self.den) > u128::from(self.num) * u128::from(whole)
    }
}

impl fmt::Display for Ratio {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let places = self.den.ilog10() as usize;
        if places == 0 {
            return write!(f, "{}", self.num);
        }
        write!(f, "{}.{:0places$}", self.num / self.den, self.num % self.den)
    }
}

/// A key with an integer range (Kafka's INT or LONG with a `Range` validator).
pub(super) const fn int_key(
    name: &'static str,
    min: i64,
    max: i64,
    default: &'static str,
    doc: &'static str,
) -> KeyDef {
    KeyDef {
        name,
        kind: Kind::Int { min, max },
        default,
        doc,
    }
}

/// Largest Java `int`.
pub const INT_MAX: i64 = i32::MAX as i64;
/// Largest Java `long`.
pub const LONG_MAX: i64 = i64::MAX;

/// The sets a processor's one `config` block feeds: its consumer's keys and its producer's.
pub(crate) static PROCESSOR: [&ConfigSet; 2] = [&consumer::CONSUMER, &producer::PRODUCER];

/// Every config set, for `kafkasim configs` and the docs.
pub fn all_sets() -> [&'static ConfigSet; 4] {
    [
        &producer::PRODUCER,
        &consumer::CONSUMER,
        &broker::BROKER,
        &broker::TOPIC,
    ]
}

/// The markdown table of one set's keys (printed by `kafkasim configs` and kept in the book).
pub fn markdown_table(set: &ConfigSet) -> String {
    let mut out = String::from("| key | default | valid values | what it does |\n|---|---|---|---|\n");
    for d in set.keys {
        let valid = match d.kind {
            Kind::Int { min, max } if max == INT_MAX && min == i64::from(i32::MIN) => "any (int)".to_string(),
            Kind::Int { min, max } if max == LONG_MAX && min == i64::MIN => "any".to_string(),
            Kind::Int { min, max } if max == INT_MAX => format!("≥ {min} (int)"),
            Kind::Int { min, max } if max == LONG_MAX => format!("≥ {min}"),
            Kind::Int { min, max } => format!("{min} … {max}"),
            Kind::Bool => "true, false".to_string(),
            Kind::OneOf(list) => list.join(", "),
            Kind::OffsetReset => "latest, earliest, none".to_string(),
            Kind::Assignors => format!(
                "a comma-separated list of {}, or Kafka's class names for them",
                Strategy::ALL.map(Strategy::name).join(", ")
            ),
            Kind::Text => "any text".to_string(),
            Kind::ListOf(list) => format!("a comma-separated list of {}", list.join(", ")),
            Kind::Ratio => "0 … 1 (a decimal)".to_string(),
        };
        out.push_str(&format!(
            "| `{}` | `{}` | {valid} | {} |\n",
            d.name, d.default, d.doc
        ));
    }
    let mut ignored: Vec<String> = set
        .ignored
        .iter()
        .flat_map(|l| l.iter())
        .map(|k| format!("`{k}`"))
        .collect();
    ignored.extend(set.ignored_prefixes.iter().map(|p| format!("`{p}*`")));
    if !ignored.is_empty() {
        out.push_str(&format!(
            "\nKafka {} keys that kafkasim accepts but ignores, because they change nothing in the model (they are listed in the summary): {}.\n",
            set.what,
            ignored.join(", ")
        ));
    }
    if !set.not_modelled.is_empty() {
        let list: Vec<String> = set.not_modelled.iter().map(|k| format!("`{k}`")).collect();
        out.push_str(&format!(
            "\nKnown Kafka {} keys that kafkasim rejects because it does not model them yet: {}.\n",
            set.what,
            list.join(", ")
        ));
    }
    out
}

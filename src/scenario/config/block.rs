//! One config block as the user wrote it: the properties file it starts from (`config_file`),
//! the `config: { ... }` map that overrides the file, and the `--set` values that override
//! both. Validation checks every entry where it was written.

use super::{Config, ConfigSet, ConfigValue, KeyDef, Kind, Properties, coerce};
use crate::scenario::error::{ScenarioError, did_you_mean};
use crate::scenario::files::ConfigFile;
use crate::scenario::source::{Raw, Source};
use serde::Deserialize;
use serde::de::{Deserializer, MapAccess, Visitor};
use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

/// A config block's entries: those of its `config_file`, if any, and those of its
/// `config: { "key": value, ... }` map, each key and value kept in place.
#[derive(Default)]
pub struct Entries<'a> {
    written: Vec<(Raw<'a>, Raw<'a>)>,
    file: Option<ConfigFile>,
    /// The config sets that share this block (a processor's consumer and producer), or none: a
    /// set validating a shared block leaves the keys only another of them knows to that one.
    shared_by: &'static [&'static ConfigSet],
}

impl<'a> Entries<'a> {
    /// These entries, starting from the properties of `file`.
    pub fn with_file(self, file: ConfigFile) -> Entries<'a> {
        Entries {
            file: Some(file),
            ..self
        }
    }
}

impl<'de: 'a, 'a> Deserialize<'de> for Entries<'a> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V<'a>(std::marker::PhantomData<&'a ()>);
        impl<'de: 'a, 'a> Visitor<'de> for V<'a> {
            type Value = Entries<'a>;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a map like { \"linger.ms\": 5 }")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Entries<'a>, A::Error> {
                let mut written = Vec::new();
                while let Some(entry) = map.next_entry::<Raw<'a>, Raw<'a>>()? {
                    written.push(entry);
                }
                Ok(Entries {
                    written,
                    file: None,
                    shared_by: &[],
                })
            }
        }
        d.deserialize_map(V(std::marker::PhantomData))
    }
}

/// Where a config block sits in the file, to point errors that involve several keys.
pub struct ConfigBlock<'a, 's> {
    /// The source file.
    pub src: &'a Source<'s>,
    /// The raw entries.
    pub entries: &'a Entries<'s>,
    /// The `config` value itself, or the component when the block is absent.
    pub anchor: Raw<'s>,
}

/// What a key is to a config set.
enum Known {
    /// A key kafkasim models.
    Modelled(&'static KeyDef),
    /// A real Kafka key that changes nothing in the model.
    Ignored,
}

impl<'s> ConfigBlock<'_, 's> {
    /// An error at where `key`'s value comes from: the `config` map, else the properties file,
    /// else (a default, or a `--set` value) the block.
    pub fn error_at_key(&self, key: &str, message: impl Into<String>) -> ScenarioError {
        if !self.src.is_overridden(key) {
            if let Some((k, _)) = self.written(key) {
                return self.src.error_at(k, message);
            }
            if let Some((file, p)) = self.file().and_then(|f| Some(f).zip(f.get(key))) {
                return file.error_at_key(p, message);
            }
        }
        self.src.error_at(self.anchor, message)
    }

    /// True when the block gives `key` a value: in its `config` map, its properties file, or
    /// with `--set`.
    pub fn sets(&self, key: &str) -> bool {
        self.src.is_overridden(key)
            || self.written(key).is_some()
            || self.file().is_some_and(|f| f.get(key).is_some())
    }

    /// The properties file the block starts from.
    pub fn file(&self) -> Option<&ConfigFile> {
        self.entries.file.as_ref()
    }

    /// The `config` map's entry for `key`.
    fn written(&self, key: &str) -> Option<&(Raw<'s>, Raw<'s>)> {
        let quoted = format!("\"{key}\"");
        self.entries
            .written
            .iter()
            .find(|(k, _)| self.src.text_of(k) == quoted)
    }

    /// The keys of this block that `set` ignores, each once: those of its properties file,
    /// then those of its `config` map. Call after [`ConfigSet::validate`] accepted the block.
    pub fn ignored(&self, set: &ConfigSet) -> (Vec<String>, Vec<String>) {
        let from_file = self
            .file()
            .map(|f| {
                f.properties
                    .iter()
                    .map(|p| p.key.clone())
                    .filter(|k| set.ignores(k))
                    .collect()
            })
            .unwrap_or_default();
        let written = self
            .entries
            .written
            .iter()
            .filter_map(|(k, _)| self.src.parse::<String>(k).ok())
            .filter(|k| set.ignores(k))
            .collect();
        (from_file, written)
    }
}

impl ConfigSet {
    /// True when `key` is a real Kafka key of this set: modelled, ignored, not modelled yet, or
    /// given elsewhere in a scenario.
    fn knows(&self, key: &str) -> bool {
        self.keys.iter().any(|d| d.name == key)
            || self.ignores(key)
            || self.not_modelled.contains(&key)
            || self.elsewhere.iter().any(|(k, _)| *k == key)
    }

    /// True when `key` of a shared block is for another set than this one.
    fn leaves(&self, entries: &Entries<'_>, key: &str) -> bool {
        !self.knows(key) && entries.shared_by.iter().any(|s| s.knows(key))
    }

    /// Checks every entry against the table and fills in defaults: the properties file's
    /// first, then the `config` map's (which replace them), then `--set` values.
    pub fn validate(&self, block: &ConfigBlock<'_, '_>) -> Result<Config, ScenarioError> {
        let src = block.src;
        let shared_by = block.entries.shared_by;
        let mut values = BTreeMap::new();
        let mut explicit = BTreeSet::new();
        let mut ignored = Properties::new();
        if let Some(file) = block.file() {
            for p in &file.properties {
                if self.leaves(block.entries, &p.key) {
                    continue;
                }
                let Known::Modelled(def) = self
                    .lookup(&p.key, shared_by)
                    .map_err(|(msg, help)| with_help(file.error_at_key(p, msg), help))?
                else {
                    ignored.insert(p.key.clone(), p.value.clone());
                    continue;
                };
                let value = coerce(def, &ConfigValue::Str(p.value.clone()))
                    .map_err(|(msg, help)| with_help(file.error_at_value(p, msg), help))?;
                values.insert(def.name, value);
                explicit.insert(def.name);
            }
        }
        let mut written = BTreeSet::new();
        for (raw_key, raw_value) in &block.entries.written {
            let key: String = src.parse(raw_key).map_err(|e| {
                e.with_help("config keys are quoted Kafka property names, like \"linger.ms\"")
            })?;
            if self.leaves(block.entries, &key) {
                continue;
            }
            let known = self
                .lookup(&key, shared_by)
                .map_err(|(msg, help)| with_help(src.error_at(raw_key, msg), help))?;
            if !written.insert(key.clone()) {
                return Err(src
                    .error_at(raw_key, format!("config `{key}` is given twice"))
                    .with_help("remove one of them"));
            }
            let Known::Modelled(def) = known else {
                ignored.insert(key, written_value(src, raw_value)?.to_string());
                continue;
            };
            let value = written_value(src, raw_value)?;
            let value =
                coerce(def, &value).map_err(|(msg, help)| with_help(src.error_at(raw_value, msg), help))?;
            values.insert(def.name, value);
            explicit.insert(def.name);
        }
        for (key, value) in src.overrides() {
            let Some(def) = self.keys.iter().find(|d| d.name == key) else {
                continue;
            };
            let value = coerce(def, value).map_err(|(msg, help)| {
                let e = src.error_at(block.anchor, format!("{msg} (given with --set {key}={value})"));
                with_help(e, help)
            })?;
            values.insert(def.name, value);
            explicit.insert(def.name);
        }
        for def in self.keys {
            // An integer key whose Kafka default is null stays unset (`Config::int_opt`).
            let null = matches!(def.kind, Kind::Int { .. }) && def.default.is_empty();
            if !values.contains_key(def.name) && !null {
                let default = coerce(def, &ConfigValue::Str(def.default.to_string()))
                    .unwrap_or_else(|_| panic!("default of `{}` is invalid", def.name));
                values.insert(def.name, default);
            }
        }
        Ok(Config {
            values,
            explicit,
            ignored,
        })
    }

    /// What `key` is to this set, or the error for it; an unknown key of a block that `shared_by`
    /// several sets is unknown to all of them, and the hint searches all their keys.
    fn lookup(&self, key: &str, shared_by: &[&'static ConfigSet]) -> Result<Known, (String, Option<String>)> {
        if let Some(def) = self.keys.iter().find(|d| d.name == key) {
            return Ok(Known::Modelled(def));
        }
        if self.ignores(key) {
            return Ok(Known::Ignored);
        }
        let listing = format!("`kafkasim configs {}` lists the supported keys", self.what);
        if let Some((_, place)) = self.elsewhere.iter().find(|(k, _)| *k == key) {
            return Err((
                format!("`{key}` is not set in a config block in kafkasim"),
                Some(place.to_string()),
            ));
        }
        if self.not_modelled.contains(&key) {
            return Err((
                format!(
                    "`{key}` is a Kafka {} config that kafkasim does not model yet",
                    self.what
                ),
                Some(format!("remove it; {listing}")),
            ));
        }
        let mut sets = vec![self];
        sets.extend(shared_by.iter().copied().filter(|s| s.what != self.what));
        let what: Vec<&str> = sets.iter().map(|s| s.what).collect();
        let listing = match what.as_slice() {
            [_] => listing,
            _ => format!(
                "{} list the supported keys",
                what.iter()
                    .map(|w| format!("`kafkasim configs {w}`"))
                    .collect::<Vec<_>>()
                    .join(" and ")
            ),
        };
        let names = sets.iter().flat_map(|s| s.keys.iter().map(|d| d.name));
        Err((
            format!("unknown {} config `{key}`", what.join(" or ")),
            Some(did_you_mean(key, names).unwrap_or(listing)),
        ))
    }
}

fn with_help(e: ScenarioError, help: Option<String>) -> ScenarioError {
    match help {
        Some(h) => e.with_help(h),
        None => e,
    }
}

/// A value as written in a `config` block. A number no `i64` holds (`1.5`,
/// `18446744073709551616`) is kept as its text, so Kafka's validator rejects it as a properties
/// file would, echoing it exactly.
fn written_value(src: &Source<'_>, raw: Raw<'_>) -> Result<ConfigValue, ScenarioError> {
    src.parse(raw).or_else(|e| {
        let text = src.text_of(raw);
        if text.replace('_', "").parse::<f64>().is_ok() {
            Ok(ConfigValue::Str(text.to_string()))
        } else {
            Err(e)
        }
    })
}

/// A config block read from the scenario: its entries (with its properties file) and where it
/// is, kept after validation so warnings can point at its keys.
pub struct LoadedBlock<'s> {
    entries: Entries<'s>,
    anchor: Raw<'s>,
}

impl<'s> LoadedBlock<'s> {
    /// Reads the `config` map and the `config_file` of `who` (e.g. "producer `p1`", whose entry
    /// in the scenario is `owner`).
    pub fn load(
        src: &Source<'s>,
        config: Option<Raw<'s>>,
        config_file: Option<Raw<'s>>,
        owner: Raw<'s>,
        who: &str,
    ) -> Result<LoadedBlock<'s>, ScenarioError> {
        let mut entries: Entries<'s> = match config {
            Some(r) => src.parse(r)?,
            None => Entries::default(),
        };
        if let Some(raw) = config_file {
            entries = entries.with_file(ConfigFile::load(src, raw, who)?);
        }
        Ok(LoadedBlock {
            entries,
            anchor: config.or(config_file).unwrap_or(owner),
        })
    }

    /// The block, shared by the config sets `sets` (a processor's consumer and producer): each
    /// set takes the keys it knows, and a key none of them knows is an error.
    pub fn shared_by(mut self, sets: &'static [&'static ConfigSet]) -> LoadedBlock<'s> {
        self.entries.shared_by = sets;
        self
    }

    /// The block as validation sees it.
    pub fn view<'a>(&'a self, src: &'a Source<'s>) -> ConfigBlock<'a, 's> {
        ConfigBlock {
            src,
            entries: &self.entries,
            anchor: self.anchor,
        }
    }
}

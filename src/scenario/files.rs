//! `config_file: "producer.properties"`: the Java properties file a config block starts from,
//! read relative to the scenario, with errors located in it.

use super::error::{Location, ScenarioError};
use super::properties::{self, Property};
use super::source::{Raw, Source};
use std::path::{Component, Path, PathBuf};

/// Where a scenario's `config_file`s are read from.
#[derive(Clone, Copy, Debug, Default)]
pub enum Files {
    /// The file system, relative to the scenario file's directory.
    #[default]
    Disk,
    /// Files built into the binary, by their path relative to the crate (a bundled scenario run
    /// by name reads its properties files from here, from any directory).
    Bundled(&'static [(&'static str, &'static [u8])]),
}

impl Files {
    /// The bytes of `written`, a path relative to the directory of `scenario`.
    fn read(self, scenario: &str, written: &str) -> std::io::Result<Vec<u8>> {
        match self {
            // The path as joined, so the file system resolves `..` after symbolic links.
            Files::Disk => std::fs::read(joined(scenario, written)),
            Files::Bundled(files) => {
                let path = resolve(scenario, written);
                files
                    .iter()
                    .find(|(p, _)| *p == path)
                    .map(|(_, bytes)| bytes.to_vec())
                    .ok_or_else(|| std::io::Error::from(std::io::ErrorKind::NotFound))
            }
        }
    }
}

/// `written` relative to the directory of `scenario`, unless it is absolute.
fn joined(scenario: &str, written: &str) -> PathBuf {
    Path::new(scenario)
        .parent()
        .unwrap_or(Path::new(""))
        .join(written)
}

/// `written` relative to the directory of `scenario` (unless absolute), without `.` and with
/// `dir/..` folded away, as messages show the path.
pub fn resolve(scenario: &str, written: &str) -> String {
    let mut out = PathBuf::new();
    for part in joined(scenario, written).components() {
        match part {
            Component::CurDir => {}
            Component::ParentDir if matches!(out.components().next_back(), Some(Component::Normal(_))) => {
                out.pop();
            }
            other => out.push(other),
        }
    }
    out.display().to_string()
}

/// A properties file loaded for one config block.
#[derive(Debug)]
pub struct ConfigFile {
    /// Its path as messages show it.
    pub path: String,
    /// Its lines (split at `\n`, `\r\n` or `\r`, as `Properties.load` counts them), for snippets.
    lines: Vec<String>,
    /// Its properties, each key once.
    pub properties: Vec<Property>,
    /// Which scenario entry loaded it, and where, for the notes under its errors.
    loaded_by: String,
}

impl ConfigFile {
    /// Reads the file that `raw` (a `config_file` string of `owner`, e.g. "producer `p1`")
    /// names.
    pub fn load(src: &Source<'_>, raw: Raw<'_>, owner: &str) -> Result<ConfigFile, ScenarioError> {
        let written: String = src.parse(raw)?;
        let path = resolve(src.file(), &written);
        let at = src.location_of(raw);
        let loaded_by = format!(
            "loaded by {owner}'s `config_file` at {}:{}:{}",
            src.file(),
            at.line,
            at.column
        );
        let bytes = src.files().read(src.file(), &written).map_err(|e| {
            let shown = if path == written {
                String::new()
            } else {
                format!(" (as {path})")
            };
            src.error_at(raw, format!("cannot read `{written}`{shown}: {e}"))
                .with_help("`config_file` is a Java properties file, relative to the scenario file")
        })?;
        let text = properties::decode_latin1(&bytes);
        let lines = text
            .split('\n')
            .flat_map(|l| l.strip_suffix('\r').unwrap_or(l).split('\r'))
            .map(str::to_string)
            .collect();
        let mut file = ConfigFile {
            path,
            lines,
            properties: Vec::new(),
            loaded_by,
        };
        file.properties = properties::parse(&text).map_err(|e| {
            file.error(e.at, 6, e.message)
                .with_help("a `\\u` escape needs four hexadecimal digits, e.g. \\u00e9")
        })?;
        Ok(file)
    }

    /// An error at `at` in this file, `width` characters wide.
    pub fn error(&self, at: Location, width: usize, message: impl Into<String>) -> ScenarioError {
        let line = self.lines.get(at.line - 1).map(String::as_str);
        ScenarioError::at(&self.path, at, line, width, message).with_note(self.loaded_by.clone())
    }

    /// An error at the key of `p`.
    pub fn error_at_key(&self, p: &Property, message: impl Into<String>) -> ScenarioError {
        self.error(p.key_at, p.key.chars().count(), message)
    }

    /// An error at the value of `p`.
    pub fn error_at_value(&self, p: &Property, message: impl Into<String>) -> ScenarioError {
        let width = p.value.lines().next().map_or(1, |l| l.chars().count());
        self.error(p.value_at, width, message)
    }

    /// The property named `key`, if the file sets it.
    pub fn get(&self, key: &str) -> Option<&Property> {
        self.properties.iter().find(|p| p.key == key)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_are_relative_to_the_scenario() {
        assert_eq!(
            resolve("scenarios/x.ron", "configs/producer.properties"),
            "scenarios/configs/producer.properties"
        );
        assert_eq!(resolve("x.ron", "./p.properties"), "p.properties");
        assert_eq!(resolve("a/b/x.ron", "../c/p.properties"), "a/c/p.properties");
        assert_eq!(resolve("x.ron", "../p.properties"), "../p.properties");
        assert_eq!(
            resolve("a/x.ron", "/etc/kafka/p.properties"),
            "/etc/kafka/p.properties"
        );
    }
}

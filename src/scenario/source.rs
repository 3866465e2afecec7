//! A scenario file's text, and the bridge from `ron` parsing to located [`ScenarioError`]s.
//!
//! Values that need a location after parsing are kept as borrowed [`RawValue`]s: each is a slice of
//! the source text, so its byte offset (and hence line and column) is exact.

use super::config::{ConfigValue, Overrides};
use super::error::{Location, ScenarioError};
use super::files::Files;
use super::ron_error::{self, Context};
use ron::error::{Error as RonError, Position, SpannedError};
use ron::extensions::Extensions;
use ron::value::RawValue;
use serde::Deserialize;

/// A value whose place in the file we keep.
pub type Raw<'a> = &'a RawValue;

/// The text of one scenario file and its name as the user gave it, with the config values that
/// replace what it says (`--set`), if any, and where its `config_file`s are.
pub struct Source<'s> {
    file: &'s str,
    text: &'s str,
    overrides: Option<&'s Overrides>,
    files: Files,
}

/// RON options for scenario files: `Option` fields take bare values (`key: "Costco"`), and a
/// variant holding a struct is written `LostAcked(exactly: 0)`, not `LostAcked((exactly: 0))`.
fn ron_options() -> ron::Options {
    ron::Options::default()
        .with_default_extension(Extensions::IMPLICIT_SOME | Extensions::UNWRAP_VARIANT_NEWTYPES)
}

impl<'s> Source<'s> {
    /// Wraps `text`, read from `file`.
    pub fn new(file: &'s str, text: &'s str) -> Source<'s> {
        Source {
            file,
            text,
            overrides: None,
            files: Files::Disk,
        }
    }

    /// The same file, reading its `config_file`s from `files`.
    pub fn with_files(self, files: Files) -> Source<'s> {
        Source { files, ..self }
    }

    /// Where `config_file`s are read from.
    pub fn files(&self) -> Files {
        self.files
    }

    /// The same file, with `overrides` applied to every config block whose set has the key.
    pub fn with_overrides(self, overrides: &'s Overrides) -> Source<'s> {
        Source {
            overrides: Some(overrides),
            ..self
        }
    }

    /// The config values that replace what the file says, in the order given.
    pub fn overrides(&self) -> impl Iterator<Item = (&'static str, &ConfigValue)> {
        self.overrides.into_iter().flat_map(Overrides::iter)
    }

    /// True when `key` is overridden: the file's value for it, if any, does not count.
    pub fn is_overridden(&self, key: &str) -> bool {
        self.overrides.is_some_and(|o| o.get(key).is_some())
    }

    /// The file name, for messages.
    pub fn file(&self) -> &str {
        self.file
    }

    /// Parses the whole file as `T`.
    pub fn parse_root<T: Deserialize<'s>>(&self) -> Result<T, ScenarioError> {
        ron_options()
            .from_str(self.text)
            .map_err(|e| self.ron_error(&e, Location { line: 1, column: 1 }))
    }

    /// Parses one raw value as `T`; errors point into the file, not into the slice.
    pub fn parse<'r, T: Deserialize<'r>>(&self, raw: Raw<'r>) -> Result<T, ScenarioError> {
        let text = raw.get_ron();
        let base = self.location_at_offset(self.offset_of(text));
        ron_options().from_str(text).map_err(|e| {
            if e.code == RonError::TrailingCharacters {
                return self.trailing_text(raw);
            }
            self.ron_error(&e, base)
        })
    }

    /// A value that parsed only in part: `1.5` where a whole number goes, `Heal()` for `Heal`.
    fn trailing_text(&self, raw: Raw<'_>) -> ScenarioError {
        let text = self.text_of(raw);
        if text.parse::<f64>().is_ok() {
            return self
                .error_at(
                    raw,
                    format!("expected a whole number (an integer), found `{text}`"),
                )
                .with_help("counts, sizes and ids are whole numbers");
        }
        self.error_at(raw, format!("unexpected text in `{text}`"))
            .with_help("a unit variant such as `Heal` takes no parentheses; strings need double quotes")
    }

    /// The text of a raw value, trimmed.
    pub fn text_of<'r>(&self, raw: Raw<'r>) -> &'r str {
        raw.get_ron().trim()
    }

    /// Where a raw value starts (after leading whitespace and comments).
    pub fn location_of(&self, raw: Raw<'_>) -> Location {
        let text = raw.get_ron();
        self.location_at_offset(self.offset_of(text) + skip_trivia(text))
    }

    /// An error pointing at `raw`, underlining its first line.
    pub fn error_at(&self, raw: Raw<'_>, message: impl Into<String>) -> ScenarioError {
        let full = raw.get_ron();
        let text = full[skip_trivia(full)..].trim_end();
        let width = text.lines().next().map_or(1, |l| l.chars().count());
        self.error_at_location(self.location_of(raw), width, message)
    }

    /// An error pointing at `needle` inside `raw` (a field name, a quoted name, a number), or at
    /// `raw` itself when the needle is not there. A quoted `"needle"` is preferred, then a
    /// whole-word match, so `order` is not found inside `"orders"` nor `0` inside `10`.
    pub fn error_within(&self, raw: Raw<'_>, needle: &str, message: impl Into<String>) -> ScenarioError {
        let text = raw.get_ron();
        let quoted = format!("\"{needle}\"");
        let found = text
            .find(&quoted)
            .map(|i| (i + 1, needle.chars().count()))
            .or_else(|| whole_word(text, needle).map(|i| (i, needle.chars().count())));
        match found {
            Some((i, width)) => {
                let loc = self.location_at_offset(self.offset_of(text) + i);
                self.error_at_location(loc, width, message)
            }
            None => self.error_at(raw, message),
        }
    }

    /// An error pointing at the first unclosed `/*` of the file.
    fn unclosed_comment(&self) -> Option<Location> {
        let bytes = self.text.as_bytes();
        let mut open: Vec<usize> = Vec::new();
        let mut i = 0;
        while i + 1 < bytes.len() {
            match (bytes[i], bytes[i + 1]) {
                (b'/', b'/') if open.is_empty() => {
                    i = self.text[i..].find('\n').map_or(bytes.len(), |n| i + n);
                    continue;
                }
                (b'/', b'*') => {
                    open.push(i);
                    i += 2;
                    continue;
                }
                (b'*', b'/') if !open.is_empty() => {
                    open.pop();
                    i += 2;
                    continue;
                }
                _ => i += 1,
            }
        }
        open.first().map(|o| self.location_at_offset(*o))
    }

    /// An error at the very start of the file (for whole-scenario problems).
    pub fn error_at_start(&self, message: impl Into<String>) -> ScenarioError {
        self.error_at_location(Location { line: 1, column: 1 }, 1, message)
    }

    fn error_at_location(&self, loc: Location, width: usize, message: impl Into<String>) -> ScenarioError {
        let line = self.text.lines().nth(loc.line - 1);
        ScenarioError::at(self.file, loc, line, width, message)
    }

    fn offset_of(&self, slice: &str) -> usize {
        let start = self.text.as_ptr() as usize;
        let at = slice.as_ptr() as usize;
        assert!(
            at >= start && at <= start + self.text.len(),
            "raw value does not borrow from this source"
        );
        at - start
    }

    /// The byte offset of `loc`, or the end of the text when it is past it.
    fn offset_at_location(&self, loc: Location) -> usize {
        let line_start = if loc.line <= 1 {
            0
        } else {
            self.text
                .match_indices('\n')
                .nth(loc.line - 2)
                .map_or(self.text.len(), |(i, _)| i + 1)
        };
        self.text[line_start..]
            .char_indices()
            .nth(loc.column.saturating_sub(1))
            .map_or(self.text.len(), |(i, _)| line_start + i)
    }

    fn location_at_offset(&self, offset: usize) -> Location {
        let before = &self.text[..offset];
        let line = before.matches('\n').count() + 1;
        let line_start = before.rfind('\n').map_or(0, |i| i + 1);
        let column = before[line_start..].chars().count() + 1;
        Location { line, column }
    }

    /// Turns a `ron` error (positions relative to a slice starting at `base`) into ours.
    fn ron_error(&self, e: &SpannedError, base: Location) -> ScenarioError {
        let shift = |p: Position| {
            if p.line <= 1 {
                Location {
                    line: base.line,
                    column: base.column + p.col.saturating_sub(1),
                }
            } else {
                Location {
                    line: base.line + p.line - 1,
                    column: p.col,
                }
            }
        };
        let mut start = shift(e.span.start);
        let end = shift(e.span.end);
        let mut width = if end.line == start.line && end.column > start.column {
            end.column - start.column
        } else {
            1
        };
        match e.code {
            // ron's span ends just after the bad escape: point at its backslash.
            RonError::InvalidEscape(_) if end.line == start.line && end.column >= start.column + 2 => {
                start = Location {
                    line: end.line,
                    column: end.column - 2,
                };
                width = 2;
            }
            RonError::UnclosedBlockComment => {
                if let Some(open) = self.unclosed_comment() {
                    start = open;
                    width = 2;
                }
            }
            _ => {}
        }
        let from = self.offset_at_location(start);
        let to = if end.line == start.line {
            self.offset_at_location(end).max(from)
        } else {
            from
        };
        // ron's span of a negative number starts after its sign.
        let from = match self.text[..from].strip_suffix('-') {
            Some(rest) if e.code == RonError::IntegerOutOfBounds => {
                start.column -= 1;
                width += 1;
                rest.len()
            }
            _ => from,
        };
        let context = Context {
            literal: &self.text[from..to],
            before: &self.text[..from],
            rest: &self.text[from..],
        };
        let (message, help) = ron_error::describe(&e.code, &context);
        let mut err = self.error_at_location(start, width, message);
        err.help = help;
        err
    }
}

/// The text of a scenario file: its bytes as UTF-8, or an error at the first byte that is not.
pub fn decode(file: &str, bytes: Vec<u8>) -> Result<String, ScenarioError> {
    let e = match String::from_utf8(bytes) {
        Ok(text) => return Ok(text),
        Err(e) => e,
    };
    let bytes = e.as_bytes();
    let bad = e.utf8_error().valid_up_to();
    let valid = String::from_utf8_lossy(&bytes[..bad]);
    let line_start = valid.rfind('\n').map_or(0, |i| i + 1);
    let location = Location {
        line: valid.matches('\n').count() + 1,
        column: valid[line_start..].chars().count() + 1,
    };
    let line_end = bytes[bad..]
        .iter()
        .position(|b| *b == b'\n')
        .map_or(bytes.len(), |i| bad + i);
    let line = String::from_utf8_lossy(&bytes[line_start..line_end]);
    let message = format!(
        "the file is not valid UTF-8: byte 0x{:02X} at line {}, column {} is not part of a UTF-8 character",
        bytes[bad], location.line, location.column
    );
    Err(ScenarioError::at(file, location, Some(line.trim_end_matches('\r')), 1, message).with_help(
        "scenario files are UTF-8 text: save it as UTF-8 (e.g. `iconv -f latin1 -t utf-8 old.ron > new.ron`)",
    ))
}

/// Length of the whitespace and comments at the start of `text`.
fn skip_trivia(text: &str) -> usize {
    let mut i = 0;
    loop {
        let rest = &text[i..];
        let trimmed = rest.trim_start();
        i += rest.len() - trimmed.len();
        if trimmed.starts_with("//") {
            i += trimmed.find('\n').unwrap_or(trimmed.len());
        } else if trimmed.starts_with("/*") {
            i += trimmed.find("*/").map_or(trimmed.len(), |e| e + 2);
        } else {
            return i;
        }
    }
}

/// Byte offset of `needle` in `text` where it is not part of a longer word or number.
fn whole_word(text: &str, needle: &str) -> Option<usize> {
    let is_word = |c: char| c.is_alphanumeric() || c == '_';
    text.match_indices(needle).map(|(i, _)| i).find(|&i| {
        let before = text[..i].chars().next_back().is_none_or(|c| !is_word(c));
        let after = text[i + needle.len()..]
            .chars()
            .next()
            .is_none_or(|c| !is_word(c));
        before && after
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Deserialize)]
    #[serde(deny_unknown_fields)]
    struct Doc<'a> {
        #[serde(borrow)]
        inner: Raw<'a>,
    }

    #[test]
    fn inner_errors_point_into_the_file() {
        let text = "(\n  inner:   (a: \"x\"),\n)";
        let src = Source::new("t.ron", text);
        let doc: Doc = src.parse_root().expect("outer parses");
        assert_eq!(src.location_of(doc.inner), Location { line: 2, column: 12 });
        #[derive(Deserialize, Debug)]
        #[allow(dead_code)]
        struct Inner {
            a: u32,
        }
        let err = src.parse::<Inner>(doc.inner).expect_err("a string is not a u32");
        assert_eq!(err.place.location.map(|l| l.line), Some(2));
        assert!(err.place.location.is_some_and(|l| l.column > 12), "{err}");
    }

    #[test]
    fn unknown_fields_get_a_suggestion() {
        #[derive(Deserialize, Debug)]
        #[serde(deny_unknown_fields)]
        #[allow(dead_code)]
        struct Workload {
            records: u32,
        }
        let src = Source::new("t.ron", "(recrods: 3)");
        let err = src.parse_root::<Workload>().expect_err("typo");
        assert_eq!(err.message, "unknown field `recrods` in `Workload`");
        assert_eq!(err.help.as_deref(), Some("did you mean `records`?"));
        assert_eq!(err.place.location, Some(Location { line: 1, column: 2 }));
    }
}

//! A scenario file's text, and the bridge from `ron` parsing to located [`ScenarioError`]s.
//!
//! Values that need a location after parsing are kept as borrowed [`RawValue`]s: each is a slice of
//! the source text, so its byte offset (and hence line and column) is exact.

use super::config::{ConfigValue, Overrides};
use super::error::{Location, Place, ScenarioError, did_you_mean};
use ron::error::{Error as RonError, Position, SpannedError};
use ron::extensions::Extensions;
use ron::value::RawValue;
use serde::Deserialize;

/// A value whose place in the file we keep.
pub type Raw<'a> = &'a RawValue;

/// The text of one scenario file and its name as the user gave it, with the config values that
/// replace what it says (`--set`), if any.
pub struct Source<'s> {
    file: &'s str,
    text: &'s str,
    overrides: Option<&'s Overrides>,
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
        }
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
        ScenarioError {
            message: message.into(),
            help: None,
            place: Box::new(Place {
                file: self.file.to_string(),
                location: Some(loc),
                source_line: self.text.lines().nth(loc.line - 1).map(str::to_string),
                span_chars: width,
            }),
        }
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
        let (message, help) = describe_ron_error(&e.code);
        let mut err = self.error_at_location(start, width, message);
        err.help = help;
        err
    }
}

/// Our wording for `ron`'s errors, with a fix hint where one helps.
fn describe_ron_error(code: &RonError) -> (String, Option<String>) {
    let within = |outer: &Option<String>| outer.as_deref().map(|o| format!(" in `{o}`")).unwrap_or_default();
    let one_of = |expected: &[&str]| {
        let list: Vec<String> = expected.iter().map(|e| format!("`{e}`")).collect();
        format!("expected one of {}", list.join(", "))
    };
    match code {
        RonError::NoSuchEnumVariant { found, .. } | RonError::NoSuchStructField { found, .. }
            if not_yet(found).is_some() =>
        {
            (
                format!("`{found}` is not modelled yet ({})", not_yet(found).unwrap_or_default()),
                Some("`kafkasim --help` and the book list what this version models".to_string()),
            )
        }
        RonError::NoSuchStructField {
            expected,
            found,
            outer,
        } => (
            format!("unknown field `{found}`{}", within(outer)),
            Some(did_you_mean(found, expected.iter().copied()).unwrap_or_else(|| one_of(expected))),
        ),
        RonError::NoSuchEnumVariant {
            expected,
            found,
            outer,
        } => (
            format!("unknown variant `{found}`{}", within(outer)),
            Some(did_you_mean(found, expected.iter().copied()).unwrap_or_else(|| one_of(expected))),
        ),
        RonError::MissingStructField { field, outer } => (
            format!("missing field `{field}`{}", within(outer)),
            Some(format!("add `{field}: ...`")),
        ),
        RonError::DuplicateStructField { field, outer } => (
            format!("field `{field}` is given twice{}", within(outer)),
            Some("remove one of them".to_string()),
        ),
        RonError::ExpectedDifferentStructName { expected, found } => (
            format!("expected `{expected}(...)`, found `{found}(...)`"),
            Some(format!("rename `{found}` to `{expected}`")),
        ),
        RonError::Eof => (
            "unexpected end of file".to_string(),
            Some("a bracket or parenthesis is probably not closed".to_string()),
        ),
        RonError::ExpectedComma => (
            "expected a comma".to_string(),
            Some("separate fields and list items with `,`".to_string()),
        ),
        RonError::IntegerOutOfBounds => (
            "number out of range for this field".to_string(),
            Some("counts and ids are non-negative integers".to_string()),
        ),
        RonError::TrailingCharacters => (
            "unexpected text after the end of the scenario".to_string(),
            Some("the file must hold exactly one `Scenario(...)`".to_string()),
        ),
        RonError::ExpectedIdentifier => (
            "expected identifier".to_string(),
            Some("a field name is missing here, or a `(` or `[` before this point is not closed".to_string()),
        ),
        RonError::InvalidEscape(what) => (
            format!("unknown escape character in a string ({})", what.to_lowercase()),
            Some("write `\\\\` for a backslash, e.g. \"C:\\\\data\"".to_string()),
        ),
        RonError::UnclosedBlockComment => (
            "unclosed block comment".to_string(),
            Some("close the comment with `*/`".to_string()),
        ),
        RonError::ExpectedMapColon => (
            "expected colon".to_string(),
            Some("map entries look like \"key\": value; config keys are quoted Kafka property names, like \"linger.ms\"".to_string()),
        ),
        RonError::ExpectedInteger => (
            "expected integer".to_string(),
            Some("write a whole number without quotes, e.g. 3".to_string()),
        ),
        RonError::Message(m) if m.starts_with("invalid duration") => (
            m.clone(),
            Some(DURATION_HELP.to_string()),
        ),
        other => (lowercase_first(&other.to_string()), None),
    }
}

/// How durations are written, for hints.
pub const DURATION_HELP: &str = "durations are strings with a unit: \"500us\", \"5ms\", \"2s\", \"1m\"";

/// Names from the design that later versions will model, and what they are.
fn not_yet(name: &str) -> Option<&'static str> {
    match name {
        "AddPartitions" => Some("adding partitions at runtime"),
        "ConsumerJoin" | "ConsumerLeave" => Some("consumer groups"),
        "Assignment" => Some("consumer groups"),
        _ => None,
    }
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

fn lowercase_first(s: &str) -> String {
    let mut chars = s.chars();
    match chars.next() {
        Some(c) => c.to_lowercase().chain(chars).collect(),
        None => String::new(),
    }
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

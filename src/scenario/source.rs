//! A scenario file's text, and the bridge from `ron` parsing to located [`ScenarioError`]s.
//!
//! Values that need a location after parsing are kept as borrowed [`RawValue`]s: each is a slice of
//! the source text, so its byte offset (and hence line and column) is exact.

use super::error::{Location, Place, ScenarioError, did_you_mean};
use ron::error::{Error as RonError, Position, SpannedError};
use ron::extensions::Extensions;
use ron::value::RawValue;
use serde::Deserialize;

/// A value whose place in the file we keep.
pub type Raw<'a> = &'a RawValue;

/// The text of one scenario file and its name as the user gave it.
pub struct Source<'s> {
    file: &'s str,
    text: &'s str,
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
        Source { file, text }
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
        let base = self.location_of(raw);
        ron_options()
            .from_str(raw.get_ron())
            .map_err(|e| self.ron_error(&e, base))
    }

    /// The text of a raw value, trimmed.
    pub fn text_of<'r>(&self, raw: Raw<'r>) -> &'r str {
        raw.get_ron().trim()
    }

    /// Where a raw value starts (after leading whitespace).
    pub fn location_of(&self, raw: Raw<'_>) -> Location {
        let text = raw.get_ron();
        let lead = text.len() - text.trim_start().len();
        self.location_at_offset(self.offset_of(text) + lead)
    }

    /// An error pointing at `raw`, underlining its first line.
    pub fn error_at(&self, raw: Raw<'_>, message: impl Into<String>) -> ScenarioError {
        let text = raw.get_ron().trim();
        let width = text.lines().next().map_or(1, |l| l.chars().count());
        self.error_at_location(self.location_of(raw), width, message)
    }

    /// An error pointing at the first occurrence of `needle` inside `raw` (e.g. a field name),
    /// or at `raw` itself when the needle is not there.
    pub fn error_within(&self, raw: Raw<'_>, needle: &str, message: impl Into<String>) -> ScenarioError {
        let text = raw.get_ron();
        match text.find(needle) {
            Some(i) => {
                let loc = self.location_at_offset(self.offset_of(text) + i);
                self.error_at_location(loc, needle.chars().count(), message)
            }
            None => self.error_at(raw, message),
        }
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
        let start = shift(e.span.start);
        let end = shift(e.span.end);
        let width = if end.line == start.line && end.column > start.column {
            end.column - start.column
        } else {
            1
        };
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
        other => (lowercase_first(&other.to_string()), None),
    }
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

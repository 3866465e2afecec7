//! Errors in user input: where they are (file:line:column), what is wrong, how to fix it.

use std::fmt;

/// A position in a scenario file, 1-based like every editor shows it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Location {
    /// Line, from 1.
    pub line: usize,
    /// Column in characters, from 1.
    pub column: usize,
}

/// An invalid scenario file: the CLI prints it and exits with code 2.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ScenarioError {
    /// What is wrong, in one line.
    pub message: String,
    /// How to fix it ("did you mean `linger.ms`?"), when we can tell.
    pub help: Option<String>,
    /// Where it is.
    pub place: Box<Place>,
    /// Context that is neither the problem nor its fix (which scenario entry loaded a
    /// properties file, ...).
    pub note: Option<String>,
}

/// Where an error is, and the source line to show.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Place {
    /// The file as the user named it.
    pub file: String,
    /// Where the problem is, when it can be pinned to a place.
    pub location: Option<Location>,
    /// The offending source line (or the part of it around the problem), for the caret display.
    pub snippet: Option<Snippet>,
    /// Width of the caret underline, in characters.
    pub span_chars: usize,
}

/// The part of a source line shown under an error: all of it, or for a long line the
/// characters around the problem, with `…` where it was cut.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Snippet {
    /// The text shown.
    pub text: String,
    /// The column of the problem within `text`, from 1.
    pub column: usize,
}

/// Lines up to this many characters are shown whole.
const WHOLE_LINE_CHARS: usize = 160;
/// How many characters of a longer line a snippet shows (a generated scenario can put
/// megabytes on one line).
const SNIPPET_CHARS: usize = 120;
/// How many of them come before the problem.
const SNIPPET_BEFORE: usize = 40;

impl Snippet {
    /// The part of `line` to show for a problem at `column` (from 1).
    pub fn of(line: &str, column: usize) -> Snippet {
        if line.chars().nth(WHOLE_LINE_CHARS).is_none() {
            return Snippet {
                text: line.to_string(),
                column,
            };
        }
        let before = column.saturating_sub(1);
        let skip = before.saturating_sub(SNIPPET_BEFORE);
        let mut chars = line.chars().skip(skip);
        let mut text: String = chars.by_ref().take(SNIPPET_CHARS).collect();
        let mut column = column - skip;
        if skip > 0 {
            text.insert(0, '…');
            column += 1;
        }
        if chars.next().is_some() {
            text.push('…');
        }
        Snippet { text, column }
    }
}

impl ScenarioError {
    /// An error about the file as a whole (it cannot be read, it is empty, ...).
    pub fn whole_file(file: &str, message: impl Into<String>) -> ScenarioError {
        ScenarioError {
            message: message.into(),
            help: None,
            place: Box::new(Place {
                file: file.to_string(),
                location: None,
                snippet: None,
                span_chars: 1,
            }),
            note: None,
        }
    }

    /// An error at `location` of `file`, whose line `line` is shown under it.
    pub fn at(
        file: &str,
        location: Location,
        line: Option<&str>,
        width: usize,
        message: impl Into<String>,
    ) -> ScenarioError {
        ScenarioError {
            message: message.into(),
            help: None,
            place: Box::new(Place {
                file: file.to_string(),
                location: Some(location),
                snippet: line.map(|l| Snippet::of(l, location.column)),
                span_chars: width,
            }),
            note: None,
        }
    }

    /// Adds or replaces the fix hint.
    pub fn with_help(mut self, help: impl Into<String>) -> ScenarioError {
        self.help = Some(help.into());
        self
    }

    /// Adds or replaces the note.
    pub fn with_note(mut self, note: impl Into<String>) -> ScenarioError {
        self.note = Some(note.into());
        self
    }
}

impl fmt::Display for ScenarioError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "error: {}", self.message)?;
        let place = &self.place;
        match place.location {
            Some(loc) => {
                writeln!(f, "  --> {}:{}:{}", place.file, loc.line, loc.column)?;
                if let Some(snippet) = &place.snippet {
                    let gutter = loc.line.to_string().len();
                    let pad = " ".repeat(gutter);
                    writeln!(f, "{pad} |")?;
                    writeln!(f, "{} | {}", loc.line, snippet.text)?;
                    let before = snippet.column.saturating_sub(1);
                    let indent: String = snippet
                        .text
                        .chars()
                        .take(before)
                        .map(|c| if c == '\t' { '\t' } else { ' ' })
                        .collect();
                    let room = snippet.text.chars().count().saturating_sub(before);
                    let width = place.span_chars.min(room).max(1);
                    writeln!(f, "{pad} | {indent}{}", "^".repeat(width))?;
                }
            }
            None => writeln!(f, "  --> {}", place.file)?,
        }
        if let Some(help) = &self.help {
            writeln!(f, "  = help: {help}")?;
        }
        if let Some(note) = &self.note {
            writeln!(f, "  = note: {note}")?;
        }
        Ok(())
    }
}

impl std::error::Error for ScenarioError {}

/// "did you mean `x`?" for the closest of `candidates` to `found`, if any is close enough.
pub fn did_you_mean<'a>(found: &str, candidates: impl IntoIterator<Item = &'a str>) -> Option<String> {
    let mut best: Option<(f64, &str)> = None;
    for c in candidates {
        let score = strsim::jaro_winkler(found, c);
        if score >= 0.8 && best.is_none_or(|(s, _)| score > s) {
            best = Some((score, c));
        }
    }
    best.map(|(_, c)| format!("did you mean `{c}`?"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn suggests_the_closest_key() {
        let keys = ["linger.ms", "batch.size", "acks"];
        assert_eq!(
            did_you_mean("linger.m", keys).as_deref(),
            Some("did you mean `linger.ms`?")
        );
        assert_eq!(did_you_mean("zzzz", keys), None);
    }

    #[test]
    fn renders_a_caret_under_the_problem() {
        let e = ScenarioError::at(
            "x.ron",
            Location { line: 3, column: 5 },
            Some("    \"linger.m\": 5"),
            10,
            "bad",
        )
        .with_help("fix it");
        let text = e.to_string();
        assert!(text.contains("--> x.ron:3:5"), "{text}");
        assert!(text.contains("  |     ^^^^^^^^^^\n"), "{text}");
        assert!(text.contains("= help: fix it"), "{text}");
    }

    #[test]
    fn a_long_line_is_cut_around_the_caret() {
        let line = format!("{}BAD{}", "a".repeat(5_000_000), "b".repeat(5_000_000));
        let e = ScenarioError::at(
            "x.ron",
            Location {
                line: 1,
                column: 5_000_001,
            },
            Some(&line),
            3,
            "bad",
        );
        let text = e.to_string();
        assert!(text.len() < 1_000, "the rendered error has {} bytes", text.len());
        let shown = format!("1 | …{}BAD{}…\n", "a".repeat(40), "b".repeat(77));
        assert!(text.contains(&shown), "{text}");
        let caret = format!("  | {}^^^\n", " ".repeat(41));
        assert!(text.contains(&caret), "{text}");
    }

    #[test]
    fn a_short_line_is_shown_whole_and_the_caret_stays_on_it() {
        let s = Snippet::of("abc", 2);
        assert_eq!((s.text.as_str(), s.column), ("abc", 2));
        let e = ScenarioError::at("x.ron", Location { line: 1, column: 3 }, Some("abc"), 50, "bad");
        assert!(e.to_string().contains("  |   ^\n"), "{e}");
    }
}

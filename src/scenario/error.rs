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
}

/// Where an error is, and the source line to show.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Place {
    /// The file as the user named it.
    pub file: String,
    /// Where the problem is, when it can be pinned to a place.
    pub location: Option<Location>,
    /// The offending source line, for the caret display.
    pub source_line: Option<String>,
    /// Width of the caret underline, in characters.
    pub span_chars: usize,
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
                source_line: None,
                span_chars: 1,
            }),
        }
    }

    /// Adds or replaces the fix hint.
    pub fn with_help(mut self, help: impl Into<String>) -> ScenarioError {
        self.help = Some(help.into());
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
                if let Some(line) = &place.source_line {
                    let gutter = loc.line.to_string().len();
                    let pad = " ".repeat(gutter);
                    writeln!(f, "{pad} |")?;
                    writeln!(f, "{} | {}", loc.line, line)?;
                    let indent: String = line
                        .chars()
                        .take(loc.column.saturating_sub(1))
                        .map(|c| if c == '\t' { '\t' } else { ' ' })
                        .collect();
                    writeln!(f, "{pad} | {indent}{}", "^".repeat(place.span_chars.max(1)))?;
                }
            }
            None => writeln!(f, "  --> {}", place.file)?,
        }
        if let Some(help) = &self.help {
            writeln!(f, "  = help: {help}")?;
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
        let e = ScenarioError {
            message: "bad".into(),
            help: Some("fix it".into()),
            place: Box::new(Place {
                file: "x.ron".into(),
                location: Some(Location { line: 3, column: 5 }),
                source_line: Some("    \"linger.m\": 5".into()),
                span_chars: 10,
            }),
        };
        let text = e.to_string();
        assert!(text.contains("--> x.ron:3:5"), "{text}");
        assert!(text.contains("  |     ^^^^^^^^^^\n"), "{text}");
        assert!(text.contains("= help: fix it"), "{text}");
    }
}

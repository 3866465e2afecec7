//! Java `.properties` files, read the way Kafka reads a `--producer.config` or `server.properties`
//! file: `Utils.loadProps` hands the bytes to `java.util.Properties.load(InputStream)`, which
//! decodes them as ISO 8859-1 and follows the rules of its Javadoc (JDK `Properties.LineReader`,
//! `loadInternal` and `loadConvert`):
//!
//! - natural lines end at `\n`, `\r` or `\r\n`; a logical line continues over the next natural line
//!   when it ends in an odd number of backslashes, and the next line's leading white space is
//!   dropped;
//! - white space is space, tab and form feed; lines of white space are blank; a line whose first
//!   non-white character is `#` or `!` is a comment (only at the start of a logical line);
//! - the key runs to the first unescaped `=`, `:` or white space; white space, one `=` or `:`,
//!   and white space again separate it from the value, which is the rest of the line;
//! - `\t`, `\n`, `\f`, `\r` and `\uXXXX` are escapes, a backslash before any other character is
//!   dropped (`\:` is `:`, `\z` is `z`); a malformed `\uXXXX` is the only error;
//! - a key given twice keeps its last value (`Properties` is a hash table).
//!
//! The unit tests pin these rules; when this was written the parser also gave the same keys,
//! values and errors as OpenJDK 17's `Properties.load` on 8,000 random files.

use super::error::Location;

/// One `key=value` of a properties file, with where its key and its value start.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Property {
    /// The key, escapes processed.
    pub key: String,
    /// The value, escapes processed.
    pub value: String,
    /// Where the key starts.
    pub key_at: Location,
    /// Where the value starts (just after the separator when it is empty).
    pub value_at: Location,
}

/// A malformed `\uXXXX` escape, which `Properties.load` rejects.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PropertiesError {
    /// The backslash of the escape.
    pub at: Location,
    /// What is wrong.
    pub message: String,
}

/// The text of a properties file: ISO 8859-1, one character per byte, as `Properties.load`
/// decodes an `InputStream`.
pub fn decode_latin1(bytes: &[u8]) -> String {
    bytes.iter().map(|b| char::from(*b)).collect()
}

/// The properties of `text`, in the order of their last occurrence.
pub fn parse(text: &str) -> Result<Vec<Property>, PropertiesError> {
    let mut lines = LineReader::new(text);
    let mut props: Vec<Property> = Vec::new();
    while let Some(line) = lines.next_logical() {
        let prop = split(&line)?;
        props.retain(|p| p.key != prop.key);
        props.push(prop);
    }
    Ok(props)
}

fn is_white(c: char) -> bool {
    matches!(c, ' ' | '\t' | '\u{c}')
}

/// A character of a logical line and where it was in the file.
type Placed = (char, Location);

/// A logical line: its characters, and where it starts.
struct Logical {
    chars: Vec<Placed>,
    start: Location,
}

/// Splits a text into logical lines (JDK `Properties.LineReader`).
struct LineReader<'a> {
    chars: std::iter::Peekable<std::str::Chars<'a>>,
    at: Location,
    /// The last line terminator was `\r\n`.
    crlf: bool,
}

impl<'a> LineReader<'a> {
    fn new(text: &'a str) -> LineReader<'a> {
        LineReader {
            chars: text.chars().peekable(),
            at: Location { line: 1, column: 1 },
            crlf: false,
        }
    }

    /// The next character and where it is; `\r\n` comes back as one `\n`.
    fn next_char(&mut self) -> Option<Placed> {
        let c = self.chars.next()?;
        let here = self.at;
        self.crlf = c == '\r' && self.chars.peek() == Some(&'\n');
        if self.crlf {
            self.chars.next();
        }
        if c == '\n' || c == '\r' {
            self.at = Location {
                line: here.line + 1,
                column: 1,
            };
            return Some(('\n', here));
        }
        self.at.column += 1;
        Some((c, here))
    }

    /// True when the input ends right after the terminator just read. The JDK reads `\r\n`'s
    /// `\n` as a character of its own, so the input has not ended after its `\r`.
    fn ended_after_terminator(&mut self) -> bool {
        !self.crlf && self.chars.peek().is_none()
    }

    /// The next logical line without its terminator and continuations, or `None` at the end
    /// (`LineReader.readLine`, JDK 17).
    fn next_logical(&mut self) -> Option<Logical> {
        let mut buf: Vec<Placed> = Vec::new();
        let mut start = self.at;
        let mut skip_white = true;
        let mut continued = false;
        let mut backslash = false;
        loop {
            let Some((c, at)) = self.next_char() else {
                if buf.is_empty() {
                    return None;
                }
                if backslash {
                    buf.pop();
                }
                return Some(Logical { chars: buf, start });
            };
            if skip_white {
                if is_white(c) || (c == '\n' && !continued) {
                    continue;
                }
                skip_white = false;
                continued = false;
            }
            // Nothing on the logical line yet (also after a continuation that left nothing).
            if buf.is_empty() && (c == '#' || c == '!') {
                loop {
                    match self.next_char() {
                        None => return None,
                        Some(('\n', _)) => break,
                        Some(_) => {}
                    }
                }
                skip_white = true;
                continue;
            }
            if c != '\n' {
                if buf.is_empty() {
                    start = at;
                }
                buf.push((c, at));
                backslash = c == '\\' && !backslash;
                continue;
            }
            if buf.is_empty() {
                skip_white = true;
                continue;
            }
            // A line that ends in a backslash and then the input: the backslash is dropped,
            // even when nothing is left (`\` alone is the key "" with the value "").
            if !backslash || self.ended_after_terminator() {
                if backslash {
                    buf.pop();
                }
                return Some(Logical { chars: buf, start });
            }
            buf.pop();
            backslash = false;
            skip_white = true;
            continued = true;
        }
    }
}

/// Splits a logical line into its key and value (`Properties.loadInternal`).
fn split(logical: &Logical) -> Result<Property, PropertiesError> {
    let line = &logical.chars;
    let mut key_end = line.len();
    let mut value_start = line.len();
    let mut has_separator = false;
    let mut backslash = false;
    for (i, (c, _)) in line.iter().enumerate() {
        if matches!(c, '=' | ':') && !backslash {
            key_end = i;
            value_start = i + 1;
            has_separator = true;
            break;
        }
        if is_white(*c) && !backslash {
            key_end = i;
            value_start = i + 1;
            break;
        }
        backslash = *c == '\\' && !backslash;
    }
    while let Some((c, _)) = line.get(value_start) {
        if !is_white(*c) {
            if !has_separator && matches!(c, '=' | ':') {
                has_separator = true;
            } else {
                break;
            }
        }
        value_start += 1;
    }
    let end_of_line = line.last().map_or(logical.start, |(_, at)| Location {
        line: at.line,
        column: at.column + 1,
    });
    Ok(Property {
        key: unescape(&line[..key_end])?,
        value: unescape(&line[value_start..])?,
        key_at: logical.start,
        value_at: line.get(value_start).map_or(end_of_line, |(_, at)| *at),
    })
}

/// Processes escapes (`Properties.loadConvert`). Java strings are UTF-16: `\uD83D\uDE00` is one
/// character, a lone surrogate becomes U+FFFD.
fn unescape(raw: &[Placed]) -> Result<String, PropertiesError> {
    let mut units: Vec<u16> = Vec::new();
    let mut i = 0;
    while i < raw.len() {
        let (c, at) = raw[i];
        i += 1;
        if c != '\\' {
            push_char(&mut units, c);
            continue;
        }
        let Some((e, _)) = raw.get(i) else { break };
        i += 1;
        match e {
            'u' => {
                let digits: Option<u32> = raw.get(i..i + 4).and_then(|hex| {
                    hex.iter()
                        .try_fold(0u32, |n, (d, _)| d.to_digit(16).map(|d| n * 16 + d))
                });
                let Some(unit) = digits else {
                    return Err(PropertiesError {
                        at,
                        message: "Malformed \\uxxxx encoding.".to_string(),
                    });
                };
                units.push(unit as u16);
                i += 4;
            }
            't' => units.push(u16::from(b'\t')),
            'r' => units.push(u16::from(b'\r')),
            'n' => units.push(u16::from(b'\n')),
            'f' => units.push(0x0c),
            other => push_char(&mut units, *other),
        }
    }
    Ok(String::from_utf16_lossy(&units))
}

fn push_char(units: &mut Vec<u16>, c: char) {
    let mut buf = [0u16; 2];
    units.extend_from_slice(c.encode_utf16(&mut buf));
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pairs(text: &str) -> Vec<(String, String)> {
        parse(text)
            .expect("valid")
            .into_iter()
            .map(|p| (p.key, p.value))
            .collect()
    }

    fn pair(k: &str, v: &str) -> (String, String) {
        (k.to_string(), v.to_string())
    }

    #[test]
    fn the_javadoc_examples() {
        // Each of these lines is key "Truth", value "Beauty" (Properties.load's Javadoc).
        for line in [
            "Truth = Beauty",
            "  Truth:Beauty",
            "Truth                    :Beauty",
        ] {
            assert_eq!(pairs(line), [pair("Truth", "Beauty")], "{line}");
        }
        let fruits = "fruits                           apple, banana, pear, \\\n                                  cantaloupe, watermelon, \\\n                                  kiwi, mango";
        assert_eq!(
            pairs(fruits),
            [pair(
                "fruits",
                "apple, banana, pear, cantaloupe, watermelon, kiwi, mango"
            )]
        );
        assert_eq!(pairs("cheeses\n"), [pair("cheeses", "")]);
        assert_eq!(pairs("\\:\\= x"), [pair(":=", "x")]);
    }

    #[test]
    fn separators_and_white_space() {
        assert_eq!(pairs("acks=all"), [pair("acks", "all")]);
        assert_eq!(pairs("acks all"), [pair("acks", "all")]);
        assert_eq!(pairs("acks \t:\t all  "), [pair("acks", "all  ")]);
        assert_eq!(pairs("key==value"), [pair("key", "=value")]);
        assert_eq!(pairs("key = = value"), [pair("key", "= value")]);
        assert_eq!(pairs("key : : value"), [pair("key", ": value")]);
        assert_eq!(pairs("\u{c}key=v"), [pair("key", "v")]);
        assert_eq!(pairs("a\\ b=c"), [pair("a b", "c")]);
    }

    #[test]
    fn comments_and_blank_lines() {
        let text = "# a comment\n! another\n   # indented comment\n\n  \t\nacks=1\n";
        assert_eq!(pairs(text), [pair("acks", "1")]);
        // A comment cannot be continued, and `#` inside a value is text.
        assert_eq!(pairs("# c \\\nacks=1"), [pair("acks", "1")]);
        assert_eq!(pairs("a=1 # not a comment"), [pair("a", "1 # not a comment")]);
        // A continuation line starting with `#` is part of the value, unless nothing came
        // before it on the logical line.
        assert_eq!(pairs("a=x\\\n  #y"), [pair("a", "x#y")]);
        assert_eq!(pairs("\\\r##0\na=1"), [pair("a", "1")]);
    }

    #[test]
    fn continuations_need_an_odd_number_of_backslashes() {
        assert_eq!(pairs("a=b\\\\\nc=d"), [pair("a", "b\\"), pair("c", "d")]);
        assert_eq!(pairs("a=b\\\\\\\n  c"), [pair("a", "b\\c")]);
        assert_eq!(pairs("a=b\\\r\n  c\r\nd=e"), [pair("a", "bc"), pair("d", "e")]);
        assert_eq!(pairs("a=b\\\r  c\rd=e"), [pair("a", "bc"), pair("d", "e")]);
        // A continuation into a blank line ends the logical line.
        assert_eq!(pairs("a=b\\\n   \nc=d"), [pair("a", "b"), pair("c", "d")]);
        // A backslash at the very end is dropped.
        assert_eq!(pairs("a=b\\"), [pair("a", "b")]);
        assert_eq!(pairs("k=v\\\n"), [pair("k", "v")]);
        // What is left may be nothing: an empty key (as JDK 17 reads these files).
        for text in ["\\", "  \\\n", "a=1\n\\"] {
            assert!(pairs(text).contains(&pair("", "")), "{text:?}");
        }
        for text in ["\\\r\n", "\\\n\n"] {
            assert_eq!(pairs(text), [], "{text:?}");
        }
    }

    #[test]
    fn escapes() {
        assert_eq!(pairs("k=\\t\\n\\r\\f"), [pair("k", "\t\n\r\u{c}")]);
        assert_eq!(pairs("k=\\u0041\\u00e9"), [pair("k", "Aé")]);
        assert_eq!(pairs("k=\\uD83D\\uDE00"), [pair("k", "😀")]);
        assert_eq!(pairs("k=\\uD83D"), [pair("k", "\u{fffd}")]);
        assert_eq!(pairs("k=\\z\\\"\\'"), [pair("k", "z\"'")]);
        let e = parse("a=1\nk = x\\u00g1").expect_err("malformed");
        assert_eq!(e.message, "Malformed \\uxxxx encoding.");
        assert_eq!(e.at, Location { line: 2, column: 6 });
        assert!(parse("k=\\u12").is_err());
    }

    #[test]
    fn latin1_bytes_are_one_character_each() {
        assert_eq!(decode_latin1(b"k=caf\xe9"), "k=café");
        assert_eq!(pairs(&decode_latin1(b"k=caf\xe9")), [pair("k", "café")]);
    }

    #[test]
    fn a_key_given_twice_keeps_its_last_value() {
        let props = parse("acks=1\nlinger.ms=5\nacks=all").expect("valid");
        let keys: Vec<(&str, &str, usize)> = props
            .iter()
            .map(|p| (p.key.as_str(), p.value.as_str(), p.key_at.line))
            .collect();
        assert_eq!(keys, [("linger.ms", "5", 2), ("acks", "all", 3)]);
    }

    #[test]
    fn keys_and_values_know_where_they_start() {
        let props = parse("# producer\n  acks = all\nlinger.ms=\\\n    20\nempty=").expect("valid");
        assert_eq!(props[0].key_at, Location { line: 2, column: 3 });
        assert_eq!(props[0].value_at, Location { line: 2, column: 10 });
        assert_eq!(props[1].value_at, Location { line: 4, column: 5 });
        assert_eq!(props[2].value_at, Location { line: 5, column: 7 });
    }
}

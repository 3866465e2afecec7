//! Our wording for `ron`'s parse errors: what is wrong in the user's terms, echoing what they
//! wrote, with a fix hint where one helps.

use super::error::did_you_mean;
use super::units::DURATION_HELP;
use ron::error::Error as RonError;

/// The source text around a `ron` error.
pub(super) struct Context<'a> {
    /// The text ron's span covers (a number exactly as written, a struct name, ...).
    pub literal: &'a str,
    /// The text of the file before the span.
    pub before: &'a str,
    /// The text of the file from the span on.
    pub rest: &'a str,
}

/// The message and the hint for `code`.
pub(super) fn describe(code: &RonError, at: &Context<'_>) -> (String, Option<String>) {
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
        RonError::ExpectedDifferentStructName { expected, found } if *expected == FAULT_ENTRY => {
            let fault = balanced(at.rest);
            (
                format!("`{fault}` needs a time: each entry of `faults` says when its fault fires"),
                Some(format!(
                    "write (at: \"1s\", fault: {fault}), or (after: Acked(producer: \"p1\", records: 10), fault: {fault})"
                )),
            )
        }
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
        RonError::IntegerOutOfBounds => out_of_range(at),
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
        RonError::ExceededRecursionLimit => (
            format!("brackets are nested more than {NESTING_LIMIT} deep here"),
            Some(
                "a scenario needs only a few levels of `(`, `[` and `{`: a bracket before this point is probably repeated or never closed"
                    .to_string(),
            ),
        ),
        RonError::InvalidValueForType { expected, found } if found.starts_with("the floating point") => (
            format!("expected {expected} but found the number `{}`", at.literal),
            None,
        ),
        RonError::Message(m) if m.starts_with("invalid duration") => (m.clone(), Some(DURATION_HELP.to_string())),
        other => (lowercase_first(&other.to_string()), None),
    }
}

/// How deep `ron` lets brackets nest (its default `recursion_limit`).
const NESTING_LIMIT: usize = 128;

/// The struct name of a `faults` entry (`RawFault`'s `serde(rename)`).
pub(super) const FAULT_ENTRY: &str = "fault entry";

/// Whole numbers written in the schema's serde-derived structs, by field name (the same name
/// has the same type everywhere), with the largest value their type holds. Fields read through
/// `validate::count` state their own, narrower range.
const INTEGER_FIELDS: [(&str, u64); 13] = [
    ("assignment", u32::MAX as u64),
    ("broker", u32::MAX as u64),
    ("Broker", u32::MAX as u64),
    ("brokers", u32::MAX as u64),
    ("count", u32::MAX as u64),
    ("partition", u32::MAX as u64),
    ("partitions", u32::MAX as u64),
    ("records", u64::MAX),
    ("offset", u64::MAX),
    ("exactly", u64::MAX),
    ("at_least", u64::MAX),
    ("at_most", u64::MAX),
    ("seed", u64::MAX),
];

/// The field a number belongs to: the name before `name: 5`, `name: [1, 5]` or `Name(5)`.
fn field_of(before: &str) -> Option<&str> {
    let skipped = before.trim_end_matches(|c: char| {
        c.is_whitespace() || c.is_ascii_digit() || matches!(c, ',' | '[' | ']' | '-' | '+' | '_')
    });
    let head = skipped
        .strip_suffix(':')
        .or_else(|| skipped.strip_suffix('('))?
        .trim_end();
    let start = head
        .rfind(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
        .map_or(0, |i| i + 1);
    Some(&head[start..]).filter(|n| !n.is_empty())
}

/// A whole number that does not fit its field: say the field's range, echoing the number as
/// written (it may not fit any integer type).
fn out_of_range(at: &Context<'_>) -> (String, Option<String>) {
    let literal = at.literal;
    let field = field_of(at.before);
    let max = field.and_then(|f| INTEGER_FIELDS.iter().find(|(n, _)| *n == f).map(|(_, m)| *m));
    let message = match (field, max) {
        (Some(f), Some(max)) => {
            format!("`{literal}` is out of range: `{f}` takes a whole number from 0 to {max}")
        }
        _ => format!(
            "`{literal}` is out of range: ids and counts take a whole number from 0 to {}, records and offsets from 0 to {}",
            u32::MAX,
            u64::MAX
        ),
    };
    let help = if literal.starts_with('-') {
        "counts, ids and offsets cannot be negative"
    } else {
        "write a smaller number"
    };
    (message, Some(help.to_string()))
}

/// `Crash(broker: 1)` from `Crash(broker: 1), ...`: the text up to the parenthesis that closes
/// the first one, whitespace collapsed (or the first word, when there is no parenthesis).
fn balanced(rest: &str) -> String {
    let mut depth = 0usize;
    let mut end = rest.len();
    for (i, c) in rest.char_indices() {
        match c {
            '(' => depth += 1,
            ')' if depth <= 1 => {
                end = i + 1;
                break;
            }
            ')' => depth -= 1,
            ',' | ']' if depth == 0 => {
                end = i;
                break;
            }
            _ => {}
        }
    }
    rest[..end].split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Names from the design that later versions will model, and what they are.
fn not_yet(name: &str) -> Option<&'static str> {
    match name {
        "AddPartitions" => Some("adding partitions at runtime"),
        "ConsumerJoin" | "ConsumerLeave" => Some("consumer groups"),
        "Assignment" => Some("consumer groups"),
        _ => None,
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

    #[test]
    fn a_number_belongs_to_the_field_before_it() {
        assert_eq!(field_of("(at: \"1s\", fault: Crash(broker: "), Some("broker"));
        assert_eq!(field_of("groups: [[Broker("), Some("Broker"));
        assert_eq!(field_of("Isr(topic: \"t\", brokers: [1, 2, "), Some("brokers"));
        assert_eq!(field_of("assignment: [[1, 2], [3, "), Some("assignment"));
        assert_eq!(field_of("[1, "), None);
    }

    #[test]
    fn a_fault_without_a_time_is_shown_whole() {
        assert_eq!(balanced("Crash(broker: 1),\n ]"), "Crash(broker: 1)");
        assert_eq!(
            balanced("Partition(groups: [[Broker(1)],\n [Broker(2)]]) ]"),
            "Partition(groups: [[Broker(1)], [Broker(2)]])"
        );
        assert_eq!(balanced("Heal, ]"), "Heal");
    }
}

//! Kafka's rules for a name that becomes part of a resource's identity (`Topic.validate` in
//! clients/src/main/java/org/apache/kafka/common/internals/Topic.java), shared by topic names
//! and `group.instance.id` (`JoinGroupRequest.validateGroupInstanceId` applies the same rules).
//! Each caller words the problem in its own terms.

/// The longest legal name, in UTF-16 code units as Java counts `String.length()`.
pub(super) const MAX_LENGTH: usize = 249;

/// Why a non-empty name is not legal, in the order Kafka checks.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum NameProblem {
    /// `.` or `..`.
    Dots,
    /// More than [`MAX_LENGTH`] characters.
    TooLong,
    /// A character other than ASCII letters, digits, `.`, `_` and `-`.
    Illegal(char),
}

/// The first rule `name` breaks, if any (an empty name is each caller's own case).
pub(super) fn problem(name: &str) -> Option<NameProblem> {
    if name == "." || name == ".." {
        return Some(NameProblem::Dots);
    }
    if name.encode_utf16().count() > MAX_LENGTH {
        return Some(NameProblem::TooLong);
    }
    name.chars()
        .find(|c| !(c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-')))
        .map(NameProblem::Illegal)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The rules of `Topic.validate`, checked in its order: dots, then length, then characters.
    #[test]
    fn kafkas_rules_in_kafkas_order() {
        assert_eq!(problem("payments.v1_eu-2"), None);
        assert_eq!(problem(".."), Some(NameProblem::Dots));
        assert_eq!(problem(&"a".repeat(249)), None);
        assert_eq!(problem(&"a".repeat(250)), Some(NameProblem::TooLong));
        assert_eq!(
            problem(&"é".repeat(250)),
            Some(NameProblem::TooLong),
            "length first"
        );
        assert_eq!(problem("a b"), Some(NameProblem::Illegal(' ')));
    }
}

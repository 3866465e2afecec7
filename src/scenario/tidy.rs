//! An entry of a scenario file as reports echo it (`expect` lines, `FAULT` trace lines): its
//! tokens as written, without the `//` and `/* */` comments that were inside it, one space where
//! there was whitespace, none just inside brackets or before a comma, and no trailing comma.

/// `LostAcked( // none\n exactly: 0, )` → `LostAcked(exactly: 0)`. String and character literals
/// are copied as they are, whatever they hold.
pub(super) fn tidy(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut space = false;
    let mut rest = text;
    while let Some(c) = rest.chars().next() {
        let skip = trivia(rest);
        if skip > 0 {
            space = true;
            rest = &rest[skip..];
            continue;
        }
        if matches!(c, ')' | ']' | '}') && out.ends_with(',') {
            out.pop();
        }
        let opened = out.ends_with(['(', '[', '{']);
        if space && !out.is_empty() && !opened && !matches!(c, ')' | ']' | '}' | ',') {
            out.push(' ');
        }
        space = false;
        // `r"..."` opens a raw string only where a word does not go on.
        let in_word = out.ends_with(|w: char| w.is_alphanumeric() || w == '_');
        let len = (c != 'r' || !in_word)
            .then(|| literal(rest))
            .flatten()
            .unwrap_or(c.len_utf8());
        out.push_str(&rest[..len]);
        rest = &rest[len..];
    }
    out
}

/// Length of the whitespace or comment at the start of `text` (0 if there is none). RON block
/// comments nest; an unclosed one runs to the end.
fn trivia(text: &str) -> usize {
    if let Some(c) = text.chars().next().filter(|c| c.is_whitespace()) {
        return c.len_utf8();
    }
    if text.starts_with("//") {
        return text.find('\n').unwrap_or(text.len());
    }
    if !text.starts_with("/*") {
        return 0;
    }
    let mut depth = 0usize;
    let mut i = 0;
    while i < text.len() {
        if text[i..].starts_with("/*") {
            depth += 1;
            i += 2;
        } else if text[i..].starts_with("*/") {
            depth -= 1;
            i += 2;
            if depth == 0 {
                return i;
            }
        } else {
            i += text[i..].chars().next().map_or(1, char::len_utf8);
        }
    }
    text.len()
}

/// Length of the string (`"..."`, `r#"..."#`) or character (`'x'`) literal at the start of
/// `text`, up to its end (or the end of `text` if it is unclosed).
fn literal(text: &str) -> Option<usize> {
    if let Some(body) = text.strip_prefix('"') {
        let mut escaped = false;
        for (i, c) in body.char_indices() {
            match c {
                _ if escaped => escaped = false,
                '\\' => escaped = true,
                '"' => return Some(1 + i + 1),
                _ => {}
            }
        }
        return Some(text.len());
    }
    if let Some(after_r) = text.strip_prefix('r') {
        let hashes = after_r.len() - after_r.trim_start_matches('#').len();
        let body = after_r[hashes..].strip_prefix('"')?;
        let close = format!("\"{}", "#".repeat(hashes));
        let end = body.find(&close).map_or(body.len(), |i| i + close.len());
        return Some(1 + hashes + 1 + end);
    }
    let body = text.strip_prefix('\'')?;
    let mut chars = body.char_indices();
    let (_, first) = chars.next()?;
    if first == '\\' {
        chars.next();
    }
    let (i, close) = chars.next()?;
    (close == '\'').then_some(1 + i + 1)
}

#[cfg(test)]
mod tests {
    use super::tidy;

    #[test]
    fn comments_inside_an_entry_are_left_out() {
        assert_eq!(
            tidy("LostAcked( // nothing may be lost\n    exactly: 0, /* a block\n comment */\n)"),
            "LostAcked(exactly: 0)"
        );
        assert_eq!(
            tidy("Acked(producer: \"p1\", /* all of them */ exactly: 3)"),
            "Acked(producer: \"p1\", exactly: 3)"
        );
        assert_eq!(
            tidy("Failed(/* outer /* nested */ still a comment */ exactly: 0)"),
            "Failed(exactly: 0)"
        );
    }

    #[test]
    fn whitespace_is_one_space_between_tokens_and_none_inside_brackets() {
        assert_eq!(
            tidy("Leader(\n  topic: \"t\",\n  partition: 0 ,\n  broker: None,\n)"),
            "Leader(topic: \"t\", partition: 0, broker: None)"
        );
        assert_eq!(
            tidy("Partition(groups: [ [Broker(1)],\n [Broker(2), Broker(3)] ])"),
            "Partition(groups: [[Broker(1)], [Broker(2), Broker(3)]])"
        );
        assert_eq!(tidy("Heal"), "Heal");
    }

    #[test]
    fn literals_keep_what_looks_like_comments_and_whitespace() {
        assert_eq!(
            tidy("Reordered(key: \"a // b  /* c */\", exactly: 0) // end"),
            "Reordered(key: \"a // b  /* c */\", exactly: 0)"
        );
        assert_eq!(
            tidy(r#"X(key: "say \"//\"", n: 1)"#),
            r#"X(key: "say \"//\"", n: 1)"#
        );
        assert_eq!(
            tidy("X(key: r#\"a \"// b\"#, n: 1)"),
            "X(key: r#\"a \"// b\"#, n: 1)"
        );
        assert_eq!(tidy("X(c: '/', d: '\\'', n: 1)"), "X(c: '/', d: '\\'', n: 1)");
    }
}

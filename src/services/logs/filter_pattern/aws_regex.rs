//! The `%regex%` dialect of filter patterns, translated into a `regex::Regex`.
//!
//! AWS accepts only a small, explicit dialect: ASCII letters and digits, the symbols
//! `: _ # = @ / ; , -` (and spaces, which its own examples use), the operators
//! `^ $ ? [ ] { } | \ * + .`, and the escapes `\d \D \s \S \w \W \xhh`. Parentheses are refused
//! (even escaped) and so are multi-byte characters. Rather than hand the body to `regex`
//! verbatim, which would silently accept far more, the body is walked once: anything outside
//! the dialect becomes the error AWS gives, and the shorthand classes are spelled out as the
//! ASCII sets AWS defines (`regex` would otherwise give them their Unicode meaning).

use regex::{Regex, RegexBuilder};

use super::lexer::Cursor;
use super::FilterPatternError;

/// Compiled-program budget: generous for any 1024-character pattern, small enough that a
/// hostile repetition count fails fast instead of using memory.
const COMPILED_SIZE_LIMIT: usize = 1 << 20;

const DIGIT: &str = "[0-9]";
const NOT_DIGIT: &str = "[^0-9]";
const WORD: &str = "[0-9A-Za-z_]";
const NOT_WORD: &str = "[^0-9A-Za-z_]";
const SPACE: &str = r"[\t\n\x0B\x0C\r ]";
const NOT_SPACE: &str = r"[^\t\n\x0B\x0C\r ]";

fn is_symbol(c: char) -> bool {
    c.is_ascii_alphanumeric()
        || matches!(c, ':' | '_' | '#' | '=' | '@' | '/' | ';' | ',' | '-' | ' ')
}

fn is_operator(c: char) -> bool {
    matches!(
        c,
        '^' | '$' | '?' | '[' | ']' | '{' | '}' | '|' | '\\' | '*' | '+' | '.'
    )
}

/// Compiles the text between the `%` signs.
pub(super) fn compile(body: &str) -> Result<Regex, FilterPatternError> {
    if body.is_empty() {
        return Err(FilterPatternError::invalid("empty regular expression"));
    }
    let translated = translate(body)?;
    RegexBuilder::new(&translated)
        .dot_matches_new_line(true)
        .size_limit(COMPILED_SIZE_LIMIT)
        .build()
        .map_err(|_| FilterPatternError::invalid("invalid regular expression"))
}

fn translate(body: &str) -> Result<String, FilterPatternError> {
    let mut out = String::with_capacity(body.len() + 16);
    let mut cursor = Cursor::new(body);
    let mut in_class = false;
    let mut previous_in_class = '\0';
    while let Some(c) = cursor.bump() {
        if !(is_symbol(c) || is_operator(c)) {
            return Err(FilterPatternError::characters(c));
        }
        if in_class {
            match c {
                ']' => {
                    in_class = false;
                    out.push(']');
                }
                '\\' => push_escape(&mut cursor, &mut out, true)?,
                // `regex` reads `--`, `&&`, `~~` and a nested `[` as class operations; AWS
                // classes have none, so those characters are always literal here.
                '-' if previous_in_class == '-' => out.push_str(r"\-"),
                '[' => out.push_str(r"\["),
                _ => out.push(c),
            }
            previous_in_class = c;
            continue;
        }
        match c {
            '[' => {
                in_class = true;
                previous_in_class = '[';
                out.push('[');
                if cursor.eat('^') {
                    out.push('^');
                }
                // A `]` right after the opening bracket is a member, not the end.
                if cursor.eat(']') {
                    out.push_str(r"\]");
                }
            }
            '\\' => push_escape(&mut cursor, &mut out, false)?,
            '{' => push_repetition(&mut cursor, &mut out)?,
            _ => out.push(c),
        }
    }
    if in_class {
        return Err(FilterPatternError::invalid(
            "unterminated character class in regular expression",
        ));
    }
    Ok(out)
}

fn push_escape(
    cursor: &mut Cursor<'_>,
    out: &mut String,
    in_class: bool,
) -> Result<(), FilterPatternError> {
    let Some(c) = cursor.bump() else {
        return Err(FilterPatternError::invalid(
            "regular expression ends with a backslash",
        ));
    };
    let spelled_out = match c {
        'd' => Some(DIGIT),
        'D' => Some(NOT_DIGIT),
        'w' => Some(WORD),
        'W' => Some(NOT_WORD),
        's' => Some(SPACE),
        'S' => Some(NOT_SPACE),
        't' => Some(r"\t"),
        'n' => Some(r"\n"),
        'r' => Some(r"\r"),
        'b' if !in_class => Some(r"(?-u:\b)"),
        'B' if !in_class => Some(r"(?-u:\B)"),
        _ => None,
    };
    if let Some(text) = spelled_out {
        out.push_str(text);
        return Ok(());
    }
    if c == 'x' {
        let hex: String = [cursor.bump(), cursor.bump()]
            .into_iter()
            .flatten()
            .collect();
        if hex.len() != 2 || !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(FilterPatternError::invalid(
                r"\x needs two hexadecimal digits",
            ));
        }
        out.push_str(r"\x");
        out.push_str(&hex);
        return Ok(());
    }
    if c.is_ascii_alphanumeric() {
        return Err(FilterPatternError::invalid(
            "unsupported escape in regular expression",
        ));
    }
    if !(is_symbol(c) || is_operator(c)) {
        return Err(FilterPatternError::characters(c));
    }
    out.push_str(&regex::escape(c.encode_utf8(&mut [0; 4])));
    Ok(())
}

/// `{m,n}`, `{m,}`, `{,n}` and `{m}`, tolerating the spaces AWS writes in `{m, n}`.
fn push_repetition(cursor: &mut Cursor<'_>, out: &mut String) -> Result<(), FilterPatternError> {
    let bad = || FilterPatternError::invalid("invalid {m,n} repetition in regular expression");
    let inner = cursor.take_until('}').ok_or_else(bad)?;
    let count = |text: &str| -> Result<Option<u32>, FilterPatternError> {
        let text = text.trim();
        if text.is_empty() {
            return Ok(None);
        }
        text.parse::<u32>().map(Some).map_err(|_| bad())
    };
    let (min, max) = match inner.split_once(',') {
        Some((min, max)) => (count(min)?, count(max)?),
        None => {
            let exact = count(inner)?.ok_or_else(bad)?;
            out.push_str(&format!("{{{exact}}}"));
            return Ok(());
        }
    };
    match (min, max) {
        (None, None) => return Err(bad()),
        (min, None) => out.push_str(&format!("{{{},}}", min.unwrap_or(0))),
        (min, Some(max)) => out.push_str(&format!("{{{},{max}}}", min.unwrap_or(0))),
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every example from "Usage of supported operators" in the AWS filter pattern syntax page.
    #[test]
    fn documented_operator_examples() {
        for (regex, text, expected) in [
            ("^[hc]at", "hat", true),
            ("^[hc]at", "cat", true),
            ("^[hc]at", "that", false),
            ("[hc]at$", "the cat", true),
            ("[hc]at$", "cats", false),
            ("colou?r", "color", true),
            ("colou?r", "colour", true),
            ("colou?r", "colr", false),
            ("[abc]", "b", true),
            ("[abc]", "d", false),
            ("[a-z]", "q", true),
            ("[a-z]", "Q", false),
            ("[abcx-z]", "y", true),
            ("[abcx-z]", "w", false),
            ("^a{3,5}$", "aaa", true),
            ("^a{3,5}$", "aaaaa", true),
            ("^a{3,5}$", "aa", false),
            ("^a{3,5}$", "aaaaaa", false),
            ("^a{3, 5}$", "aaaa", true),
            ("^a{,2}$", "aa", true),
            ("^a{,2}$", "aaa", false),
            ("^a{2,}$", "aaaaaaa", true),
            ("gra|ey", "gray", true),
            ("gra|ey", "grey", true),
            (
                "^starting|^initializing|^shutting down",
                "starting ...",
                true,
            ),
            (
                "^starting|^initializing|^shutting down",
                "initializing ...",
                true,
            ),
            (
                "^starting|^initializing|^shutting down",
                "shutting down",
                true,
            ),
            (
                "^starting|^initializing|^shutting down",
                "skipping initializing ...",
                false,
            ),
            ("abcc|ab[^c]$", "abcc ...", true),
            ("abcc|ab[^c]$", "aba", true),
            ("abcc|ab[^c]$", "aac ...", false),
            (r"\[.\]", "[a]", true),
            (r"\[.\]", "[7]", true),
            (r"\[.\]", "[@]", true),
            (r"\[.\]", "[]]", true),
            (r"\[.\]", "[ ]", true),
            (r"\[.\]", "[ab]", false),
            (r"10\.10\.0\.1", "10.10.0.1", true),
            (r"10\.10\.0\.1", "10010,051", false),
            ("10.10.0.1", "10010,051", true),
            ("ab*c", "ac", true),
            ("ab*c", "abc", true),
            ("ab*c", "abbbc", true),
            ("ab[0-9]*", "ab", true),
            ("ab[0-9]*", "ab129", true),
            ("ab+c", "abc", true),
            ("ab+c", "abbbc", true),
            ("ab+c", "ac", false),
            (".at", "hat", true),
            (".at", "4at", true),
            (".at", "#at", true),
            (".at", " at", true),
            (".at", "at", false),
            (r"\d", "7", true),
            (r"\d", "x", false),
            (r"\D", "x", true),
            (r"\D", "7", false),
            (r"\s", "a\tb", true),
            (r"\s", "ab", false),
            (r"\S", " ", false),
            (r"\w", "_", true),
            (r"\w", "@", false),
            (r"\W", "@", true),
            (r"\W", "a", false),
            (r"\x3A", ":", true),
            (r"\x28", "(", true),
            (r"\x28", ")", false),
            ("AUTHORIZED", "[ERROR 401] UNAUTHORIZED REQUEST", true),
            ("AUTHORIZED", "[SUCCESS 200] AUTHORIZED REQUEST", true),
            ("AUTHORIZED", "[SUCCESS 200] OK", false),
        ] {
            assert_eq!(
                compile(regex).unwrap().is_match(text),
                expected,
                "%{regex}% ~ {text}"
            );
        }
    }

    #[test]
    fn shorthand_classes_are_ascii_as_aws_defines_them() {
        assert!(!compile(r"\d").unwrap().is_match("٣"), "Arabic-Indic digit");
        assert!(!compile(r"\w").unwrap().is_match("é"));
        assert!(compile(r"[\d_]").unwrap().is_match("5"));
        assert!(
            compile("a.b").unwrap().is_match("a\nb"),
            ". matches any character"
        );
    }

    #[test]
    fn symbols_and_class_operators_stay_literal() {
        assert!(compile("#1 a").unwrap().is_match("x #1 a"));
        assert!(compile("[--/]").unwrap().is_match("/"));
        assert!(compile("[a-]").unwrap().is_match("-"));
        assert!(compile("[[]").unwrap().is_match("["));
        assert!(compile(r"\-\:").unwrap().is_match("-:"));
    }

    #[test]
    fn outside_the_dialect_is_rejected() {
        for (regex, bad) in [
            ("something!", "!"),
            ("(abc)", "("),
            (r"\(abc", "("),
            ("a)", ")"),
            ("café", "é"),
            ("a\"b", "\""),
            ("a'b", "'"),
            ("a<b", "<"),
            ("a&b", "&"),
        ] {
            assert_eq!(
                compile(regex).unwrap_err(),
                FilterPatternError::characters(bad),
                "{regex}"
            );
        }
        for regex in [
            "",
            "[abc",
            "a{",
            "a{x}",
            "a{,}",
            "a{5,2}",
            r"\q",
            r"\x4",
            r"\xZZ",
            "a\\",
            "*a",
            "a{99999999999}",
        ] {
            assert!(
                matches!(compile(regex), Err(FilterPatternError::Invalid { .. })),
                "{regex}"
            );
        }
    }
}

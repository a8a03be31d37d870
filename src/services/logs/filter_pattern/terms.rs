//! Term patterns for unstructured events: `ERROR`, `"exact phrase"`, `?ERROR ?WARN`,
//! `ERROR -Exiting`, `%regex%`.
//!
//! AWS semantics, as documented: matching is case sensitive and by substring (`ERROR` matches
//! `ERRORCODE`); every plain term must occur; no `-` term may occur; `?` terms are alternatives,
//! but are ignored entirely as soon as the pattern also has plain or `-` terms. Unquoted terms
//! may contain only letters, digits and `_`; anything else must be quoted, and AWS rejects it
//! with "Invalid character(s) in term". A quoted blank phrase (`" "`) matches everything.

use regex::Regex;

use super::lexer::Cursor;
use super::{aws_regex, FilterPatternError, MAX_REGEX_PER_PATTERN};

#[derive(Debug, Clone)]
enum Term {
    Everything,
    Text(Box<str>),
    Regex(Regex),
}

impl Term {
    fn occurs_in(&self, message: &str) -> bool {
        match self {
            Term::Everything => true,
            Term::Text(text) => message.contains(&**text),
            Term::Regex(regex) => regex.is_match(message),
        }
    }
}

#[derive(Debug, Clone, Default)]
pub(super) struct TermPattern {
    required: Vec<Term>,
    optional: Vec<Term>,
    excluded: Vec<Term>,
}

impl TermPattern {
    pub(super) fn parse(pattern: &str) -> Result<TermPattern, FilterPatternError> {
        let mut terms = TermPattern::default();
        let mut regex_count = 0;
        let mut cursor = Cursor::new(pattern);
        loop {
            cursor.skip_whitespace();
            let Some(first) = cursor.peek() else { break };
            let sign = if first == '?' || first == '-' {
                cursor.bump();
                Some(first)
            } else {
                None
            };
            let term = match cursor.peek() {
                Some('"') => {
                    cursor.bump();
                    let phrase = cursor.quoted_body()?;
                    expect_separator(&cursor)?;
                    if phrase.trim().is_empty() {
                        Term::Everything
                    } else {
                        Term::Text(phrase.into())
                    }
                }
                Some('%') => {
                    cursor.bump();
                    let body = cursor
                        .take_until('%')
                        .ok_or_else(|| FilterPatternError::characters('%'))?;
                    expect_separator(&cursor)?;
                    regex_count += 1;
                    if regex_count > MAX_REGEX_PER_PATTERN {
                        return Err(FilterPatternError::TooManyRegex);
                    }
                    Term::Regex(aws_regex::compile(body)?)
                }
                _ => {
                    let word = cursor.take_while(|c| !c.is_whitespace());
                    if word.is_empty() {
                        // A lone `?` or `-` with nothing to apply to.
                        return Err(FilterPatternError::characters(first));
                    }
                    if let Some(bad) = word
                        .chars()
                        .find(|c| !(c.is_ascii_alphanumeric() || *c == '_'))
                    {
                        return Err(FilterPatternError::characters(bad));
                    }
                    Term::Text(word.into())
                }
            };
            match sign {
                Some('?') => terms.optional.push(term),
                Some(_) => terms.excluded.push(term),
                None => terms.required.push(term),
            }
        }
        if !terms.required.is_empty() || !terms.excluded.is_empty() {
            terms.optional.clear();
        }
        Ok(terms)
    }

    pub(super) fn matches(&self, message: &str) -> bool {
        self.required.iter().all(|t| t.occurs_in(message))
            && !self.excluded.iter().any(|t| t.occurs_in(message))
            && (self.optional.is_empty() || self.optional.iter().any(|t| t.occurs_in(message)))
    }
}

/// A quoted phrase or regex must be followed by whitespace or the end of the pattern.
fn expect_separator(cursor: &Cursor<'_>) -> Result<(), FilterPatternError> {
    match cursor.peek() {
        Some(c) if !c.is_whitespace() => Err(FilterPatternError::characters(c)),
        _ => Ok(()),
    }
}

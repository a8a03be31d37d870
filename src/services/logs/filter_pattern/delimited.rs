//! Space-delimited patterns: `[ip, user, ..., status_code = 4* && status_code != 403, bytes > 1000]`.
//!
//! The event is split at whitespace, except that text between `[` and `]` or between two `"`
//! is one field (delimiters removed). Pattern fields match the event's fields in order; `...`
//! stands for any number of fields. Without `...` the last pattern field takes the rest of the
//! line, which is why AWS asks for a trailing blank field in `[w1=ERROR, w2]`. A field may carry
//! conditions joined by `&&`/`||`; each condition must name that same field (AWS rejects
//! `status_code = 4* && bytes > 1000`). Unnamed fields, including those `...` covers, are
//! reachable for metric filters as `$1`, `$2`, ... by position, named ones as `$name`.

use std::sync::Arc;

use super::lexer::{tokenize, Token};
use super::operand::{CompareOp, Comparison, Logic, LogicParser};
use super::FilterPatternError;

#[derive(Debug, Clone)]
enum PatternField {
    Ellipsis,
    Slot {
        name: Option<Arc<str>>,
        condition: Option<Logic<Comparison>>,
    },
}

impl PatternField {
    fn accepts(&self, value: &str) -> bool {
        match self {
            PatternField::Ellipsis => true,
            PatternField::Slot { condition, .. } => condition.as_ref().is_none_or(|logic| {
                logic.eval(&|comparison: &Comparison| comparison.holds_for_text(value))
            }),
        }
    }
}

#[derive(Debug, Clone)]
pub(super) struct DelimitedPattern {
    fields: Box<[PatternField]>,
    has_ellipsis: bool,
}

/// Which event field each pattern position took, for metric filters.
#[derive(Debug, Clone, Default)]
pub(super) struct Extraction<'a> {
    /// Field values in event order; `$N` is `values[N - 1]`.
    values: Vec<&'a str>,
    /// Named pattern fields and the index of the value each one took.
    named: Vec<(Arc<str>, usize)>,
}

impl Extraction<'_> {
    pub(super) fn get(&self, selector: &str) -> Option<&str> {
        let key = selector.strip_prefix('$')?;
        if let Some((_, index)) = self.named.iter().find(|(name, _)| &**name == key) {
            return self.values.get(*index).copied();
        }
        let position: usize = key.parse().ok()?;
        self.values.get(position.checked_sub(1)?).copied()
    }
}

fn is_field_name(word: &str) -> bool {
    !word.is_empty()
        && word
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
}

impl DelimitedPattern {
    /// Parses the text between the outer brackets.
    pub(super) fn parse(body: &str) -> Result<DelimitedPattern, FilterPatternError> {
        let tokens = tokenize(body)?;
        let mut regex_count = 0;
        let fields = tokens
            .split(|t| *t == Token::Comma)
            .map(|segment| parse_field(segment, &mut regex_count))
            .collect::<Result<Box<[_]>, _>>()?;
        if let [PatternField::Slot {
            name: None,
            condition: None,
        }] = &*fields
        {
            return Err(FilterPatternError::invalid(
                "a space-delimited pattern needs fields",
            ));
        }
        let has_ellipsis = fields.iter().any(|f| matches!(f, PatternField::Ellipsis));
        Ok(DelimitedPattern {
            fields,
            has_ellipsis,
        })
    }

    pub(super) fn matches(&self, message: &str) -> bool {
        if self.has_ellipsis {
            self.match_with_ellipsis(message).is_some()
        } else {
            self.match_in_order(message, None)
        }
    }

    pub(super) fn extract<'a>(&self, message: &'a str) -> Option<Extraction<'a>> {
        if self.has_ellipsis {
            let (values, taken) = self.match_with_ellipsis(message)?;
            let named = self.named_at(|position| taken.get(position).copied());
            return Some(Extraction { values, named });
        }
        let mut extraction = Extraction::default();
        if !self.match_in_order(message, Some(&mut extraction.values)) {
            return None;
        }
        extraction.named = self.named_at(Some);
        Some(extraction)
    }

    fn named_at(&self, value_index: impl Fn(usize) -> Option<usize>) -> Vec<(Arc<str>, usize)> {
        self.fields
            .iter()
            .enumerate()
            .filter_map(|(position, field)| match field {
                PatternField::Slot {
                    name: Some(name), ..
                } => Some((Arc::clone(name), value_index(position)?)),
                _ => None,
            })
            .collect()
    }

    /// The common case without `...`: fields pair up one to one, streaming over the event
    /// without collecting it, and the last pattern field takes whatever remains.
    fn match_in_order<'a>(&self, message: &'a str, mut record: Option<&mut Vec<&'a str>>) -> bool {
        let mut event_fields = EventFields::new(message).peekable();
        let last = self.fields.len().saturating_sub(1);
        for (position, field) in self.fields.iter().enumerate() {
            let Some(event_field) = event_fields.next() else {
                return false;
            };
            let value = if position == last && event_fields.peek().is_some() {
                message
                    .get(event_field.start..)
                    .map_or(event_field.value, str::trim_end)
            } else {
                event_field.value
            };
            if !field.accepts(value) {
                return false;
            }
            if let Some(values) = record.as_deref_mut() {
                values.push(value);
            }
        }
        true
    }

    /// Matching with `...`, anchored at both ends: the classic wildcard walk that retries from
    /// the most recent `...` on a mismatch, linear in practice and never exponential.
    /// Returns the event's field values and, per pattern position, the value index it took.
    fn match_with_ellipsis<'a>(&self, message: &'a str) -> Option<(Vec<&'a str>, Vec<usize>)> {
        let values: Vec<&'a str> = EventFields::new(message).map(|f| f.value).collect();
        let mut taken = vec![usize::MAX; self.fields.len()];
        let (mut p, mut v) = (0, 0);
        let mut retry: Option<(usize, usize)> = None;
        while v < values.len() {
            match self.fields.get(p) {
                Some(PatternField::Ellipsis) => {
                    retry = Some((p, v));
                    p += 1;
                    continue;
                }
                Some(field) if values.get(v).is_some_and(|value| field.accepts(value)) => {
                    if let Some(slot) = taken.get_mut(p) {
                        *slot = v;
                    }
                    p += 1;
                    v += 1;
                    continue;
                }
                _ => {}
            }
            let (ellipsis, start) = retry?;
            p = ellipsis + 1;
            v = start + 1;
            retry = Some((ellipsis, start + 1));
        }
        while matches!(self.fields.get(p), Some(PatternField::Ellipsis)) {
            p += 1;
        }
        if p != self.fields.len() {
            return None;
        }
        Some((values, taken))
    }
}

fn parse_field(
    segment: &[Token<'_>],
    regex_count: &mut usize,
) -> Result<PatternField, FilterPatternError> {
    let literal = |op: CompareOp, token: &Token<'_>, regex_count: &mut usize| {
        Comparison::from_token(op, Some(token), regex_count).map(|c| PatternField::Slot {
            name: None,
            condition: Some(Logic::Test(c)),
        })
    };
    match segment {
        [] => Ok(PatternField::Slot {
            name: None,
            condition: None,
        }),
        [Token::Word("...")] => Ok(PatternField::Ellipsis),
        [Token::Word(word)] if is_field_name(word) => Ok(PatternField::Slot {
            name: Some((*word).into()),
            condition: None,
        }),
        // A bare quoted string or regex is a condition on an unnamed field.
        [token @ (Token::Quoted(_) | Token::Regex(_))] => {
            literal(CompareOp::Eq, token, regex_count)
        }
        _ => {
            let mut field_name: Option<&str> = None;
            let condition =
                LogicParser::new(segment).parse(&mut |parser: &mut LogicParser<'_, '_>| {
                    let name = match parser.next_token() {
                        Some(Token::Word(word)) if is_field_name(word) => *word,
                        Some(Token::Word(word)) => {
                            return Err(
                                match word
                                    .chars()
                                    .find(|c| !c.is_ascii_alphanumeric() && *c != '_' && *c != '-')
                                {
                                    Some(bad) => FilterPatternError::characters(bad),
                                    None => FilterPatternError::invalid(
                                        "a field condition starts with the field name",
                                    ),
                                },
                            )
                        }
                        _ => {
                            return Err(FilterPatternError::invalid(
                                "a field condition starts with the field name",
                            ))
                        }
                    };
                    match field_name {
                        Some(existing) if existing != name => {
                            return Err(FilterPatternError::invalid(
                                "conditions in one field must all name that field",
                            ))
                        }
                        _ => field_name = Some(name),
                    }
                    match parser.next_token() {
                        Some(Token::Compare(op)) => {
                            Comparison::from_token(*op, parser.next_token(), regex_count)
                        }
                        _ => Err(FilterPatternError::invalid(
                            "a field condition needs an operator",
                        )),
                    }
                })?;
            Ok(PatternField::Slot {
                name: field_name.map(Arc::from),
                condition: Some(condition),
            })
        }
    }
}

#[derive(Debug, Clone, Copy)]
struct EventField<'a> {
    /// The field without its `[]` or `""` delimiters.
    value: &'a str,
    /// Byte offset of the field (delimiter included) in the message.
    start: usize,
}

/// Splits an event at whitespace, keeping `[...]` and `"..."` together. An opening delimiter
/// that is never closed is treated as an ordinary character.
struct EventFields<'a> {
    message: &'a str,
    position: usize,
}

impl<'a> EventFields<'a> {
    fn new(message: &'a str) -> Self {
        EventFields {
            message,
            position: 0,
        }
    }
}

impl<'a> Iterator for EventFields<'a> {
    type Item = EventField<'a>;

    fn next(&mut self) -> Option<EventField<'a>> {
        let rest = self.message.get(self.position..)?;
        let trimmed = rest.trim_start();
        let start = self.position + (rest.len() - trimmed.len());
        let mut chars = trimmed.chars();
        let opening = chars.next()?;
        let closing = match opening {
            '[' => Some(']'),
            '"' => Some('"'),
            _ => None,
        };
        if let Some((inner, _)) = closing.and_then(|close| chars.as_str().split_once(close)) {
            // Both delimiters are one byte long.
            self.position = start + inner.len() + 2;
            return Some(EventField {
                value: inner,
                start,
            });
        }
        let end = trimmed.find(char::is_whitespace).unwrap_or(trimmed.len());
        self.position = start + end;
        Some(EventField {
            value: trimmed.get(..end).unwrap_or(trimmed),
            start,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::super::operand::{Operand, TextPattern};
    use super::*;

    fn literal_text(field: &PatternField) -> Option<&TextPattern> {
        match field {
            PatternField::Slot {
                condition:
                    Some(Logic::Test(Comparison {
                        operand: Operand::Text(text),
                        ..
                    })),
                ..
            } => Some(text),
            _ => None,
        }
    }

    fn split(message: &str) -> Vec<&str> {
        EventFields::new(message).map(|f| f.value).collect()
    }

    #[test]
    fn event_fields_keep_brackets_and_quotes_together() {
        assert_eq!(
            split(
                r#"127.0.0.1 - frank [10/Oct/2000:13:25:15 -0700] "GET /apache_pb.gif HTTP/1.0" 200 1534"#
            ),
            vec![
                "127.0.0.1",
                "-",
                "frank",
                "10/Oct/2000:13:25:15 -0700",
                "GET /apache_pb.gif HTTP/1.0",
                "200",
                "1534"
            ]
        );
        assert_eq!(split("  a\t b  "), vec!["a", "b"]);
        assert_eq!(split(r#"a "unclosed b"#), vec!["a", "\"unclosed", "b"]);
        assert_eq!(split("[x][y] z"), vec!["x", "y", "z"]);
        assert_eq!(split("é [ü ß] \"\""), vec!["é", "ü ß", ""]);
        assert!(split("   ").is_empty());
    }

    #[test]
    fn bare_quoted_field_is_an_unnamed_condition() {
        let pattern = DelimitedPattern::parse(r#"a, "Max", b"#).unwrap();
        assert_eq!(
            pattern.fields.get(1).and_then(literal_text),
            Some(&TextPattern::Exact("Max".into()))
        );
        assert!(pattern.matches("1 Max 2"));
        assert!(!pattern.matches("1 Min 2"));
    }
}

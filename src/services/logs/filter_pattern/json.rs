//! JSON patterns: `{ $.eventType = "UpdateTrail" && ($.latency > 500 || $.error IS TRUE) }`.
//!
//! A condition is a property selector (`$.a.b`, `$.list[0]`, `$.list[*]`, `$.*`,
//! `$.['key.with.dots']`) followed by a comparison, `IS NULL`, `IS TRUE`, `IS FALSE` or
//! `NOT EXISTS`. With a wildcard selector a condition holds when any selected value satisfies
//! it. AWS limits wildcard selectors to one per selector and three per pattern.

use serde_json::Value;

use super::lexer::{tokenize, Token};
use super::operand::{Comparison, Logic, LogicParser};
use super::FilterPatternError;

/// Selectors longer than this are refused; resolution recurses once per step.
const MAX_SELECTOR_STEPS: usize = 64;
const MAX_WILDCARDS_PER_PATTERN: usize = 3;

#[derive(Debug, Clone, PartialEq, Eq)]
enum Step {
    Key(Box<str>),
    Index(usize),
    /// `[*]` or `.*`: every element of an array or every field of an object.
    Each,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Selector {
    steps: Box<[Step]>,
}

fn is_name_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '_' || c == '-'
}

impl Selector {
    pub(super) fn parse(text: &str) -> Result<Selector, FilterPatternError> {
        let mut steps = Vec::new();
        let mut rest = text
            .strip_prefix('$')
            .ok_or_else(|| FilterPatternError::invalid("a JSON selector starts with $"))?;
        // The error names the selector up to and including the first bad character, as AWS
        // does for `$."detail-type"` ("Invalid character(s) in term '$."'").
        let bad_at = |rest: &str| {
            let consumed = text.len() - rest.len();
            let bad_len = rest.chars().next().map_or(0, char::len_utf8);
            FilterPatternError::characters(text.get(..consumed + bad_len).unwrap_or(text))
        };
        while !rest.is_empty() {
            if steps.len() >= MAX_SELECTOR_STEPS {
                return Err(FilterPatternError::invalid("JSON selector too long"));
            }
            if let Some(after_dot) = rest.strip_prefix('.') {
                if let Some(after_star) = after_dot.strip_prefix('*') {
                    steps.push(Step::Each);
                    rest = after_star;
                    continue;
                }
                if after_dot.starts_with('[') {
                    rest = after_dot;
                    continue;
                }
                let end = after_dot
                    .find(|c| !is_name_char(c))
                    .unwrap_or(after_dot.len());
                let (name, after_name) = after_dot.split_at_checked(end).unwrap_or((after_dot, ""));
                if name.is_empty() {
                    return Err(bad_at(after_dot));
                }
                steps.push(Step::Key(name.into()));
                rest = after_name;
            } else if let Some(inside) = rest.strip_prefix('[') {
                let (step, after) = parse_bracket(inside).ok_or_else(|| bad_at(inside))?;
                steps.push(step);
                rest = after;
            } else {
                return Err(bad_at(rest));
            }
        }
        if steps.is_empty() {
            return Err(FilterPatternError::invalid(
                "a JSON selector needs a property",
            ));
        }
        if steps.iter().filter(|s| **s == Step::Each).count() > 1 {
            return Err(FilterPatternError::TooManyWildcardSelectors);
        }
        Ok(Selector {
            steps: steps.into_boxed_slice(),
        })
    }

    fn wildcards(&self) -> usize {
        self.steps.iter().filter(|s| **s == Step::Each).count()
    }

    /// Whether any value the selector reaches satisfies `test`.
    pub(super) fn any(&self, root: &Value, test: &impl Fn(&Value) -> bool) -> bool {
        any_at(&self.steps, root, test)
    }

    /// The first value the selector reaches.
    pub(super) fn first<'v>(&self, root: &'v Value) -> Option<&'v Value> {
        first_at(&self.steps, root)
    }
}

/// `[0]`, `[*]`, `['key']` or `["key"]`, with the opening bracket already consumed.
fn parse_bracket(inside: &str) -> Option<(Step, &str)> {
    if let Some(after) = inside.strip_prefix("*]") {
        return Some((Step::Each, after));
    }
    for quote in ['\'', '"'] {
        if let Some(quoted) = inside.strip_prefix(quote) {
            let (key, after) = quoted.split_once(quote)?;
            return Some((Step::Key(key.into()), after.strip_prefix(']')?));
        }
    }
    let (digits, after) = inside.split_once(']')?;
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    Some((Step::Index(digits.parse().ok()?), after))
}

fn any_at(steps: &[Step], value: &Value, test: &impl Fn(&Value) -> bool) -> bool {
    let Some((step, rest)) = steps.split_first() else {
        return test(value);
    };
    match (step, value) {
        (Step::Key(key), Value::Object(fields)) => {
            fields.get(&**key).is_some_and(|v| any_at(rest, v, test))
        }
        (Step::Index(i), Value::Array(items)) => {
            items.get(*i).is_some_and(|v| any_at(rest, v, test))
        }
        (Step::Each, Value::Object(fields)) => fields.values().any(|v| any_at(rest, v, test)),
        (Step::Each, Value::Array(items)) => items.iter().any(|v| any_at(rest, v, test)),
        _ => false,
    }
}

fn first_at<'v>(steps: &[Step], value: &'v Value) -> Option<&'v Value> {
    let Some((step, rest)) = steps.split_first() else {
        return Some(value);
    };
    match (step, value) {
        (Step::Key(key), Value::Object(fields)) => first_at(rest, fields.get(&**key)?),
        (Step::Index(i), Value::Array(items)) => first_at(rest, items.get(*i)?),
        (Step::Each, Value::Object(fields)) => fields.values().find_map(|v| first_at(rest, v)),
        (Step::Each, Value::Array(items)) => items.iter().find_map(|v| first_at(rest, v)),
        _ => None,
    }
}

#[derive(Debug, Clone)]
enum Check {
    Compare(Comparison),
    IsNull,
    IsBool(bool),
    NotExists,
}

#[derive(Debug, Clone)]
struct Condition {
    selector: Selector,
    check: Check,
}

impl Condition {
    fn holds(&self, event: &Value) -> bool {
        match &self.check {
            Check::Compare(comparison) => {
                self.selector.any(event, &|v| comparison.holds_for_json(v))
            }
            Check::IsNull => self.selector.any(event, &Value::is_null),
            Check::IsBool(expected) => self
                .selector
                .any(event, &|v| v.as_bool() == Some(*expected)),
            Check::NotExists => !self.selector.any(event, &|_| true),
        }
    }
}

#[derive(Debug, Clone)]
pub(super) struct JsonPattern {
    logic: Logic<Condition>,
}

impl JsonPattern {
    /// Parses the text between the outer braces.
    pub(super) fn parse(body: &str) -> Result<JsonPattern, FilterPatternError> {
        let tokens = tokenize(body)?;
        // Commas belong to space-delimited patterns; AWS names them as the bad character.
        if tokens.contains(&Token::Comma) {
            return Err(FilterPatternError::characters(','));
        }
        let mut regex_count = 0;
        let logic = LogicParser::new(&tokens).parse(&mut |parser: &mut LogicParser<'_, '_>| {
            parse_condition(parser, &mut regex_count)
        })?;
        let mut wildcards = 0;
        logic.visit(&mut |condition: &Condition| wildcards += condition.selector.wildcards());
        if wildcards > MAX_WILDCARDS_PER_PATTERN {
            return Err(FilterPatternError::TooManyWildcardSelectors);
        }
        Ok(JsonPattern { logic })
    }

    pub(super) fn matches_event(&self, event: &Value) -> bool {
        self.logic
            .eval(&|condition: &Condition| condition.holds(event))
    }
}

fn parse_condition(
    parser: &mut LogicParser<'_, '_>,
    regex_count: &mut usize,
) -> Result<Condition, FilterPatternError> {
    let selector = match parser.next_token() {
        Some(Token::Word(word)) if word.starts_with('$') => Selector::parse(word)?,
        Some(Token::Word(word)) => {
            // AWS rejects `{ status = "401" }`: selectors must start at the root.
            return Err(match word.chars().find(|c| !is_name_char(*c)) {
                Some(bad) => FilterPatternError::characters(bad),
                None => FilterPatternError::invalid("a JSON condition starts with a $ selector"),
            });
        }
        _ => {
            return Err(FilterPatternError::invalid(
                "a JSON condition starts with a $ selector",
            ))
        }
    };
    let check = match parser.next_token() {
        Some(Token::Compare(op)) => Check::Compare(Comparison::from_token(
            *op,
            parser.next_token(),
            regex_count,
        )?),
        Some(Token::Word(word)) if word.eq_ignore_ascii_case("IS") => match parser.next_token() {
            Some(Token::Word(w)) if w.eq_ignore_ascii_case("NULL") => Check::IsNull,
            Some(Token::Word(w)) if w.eq_ignore_ascii_case("TRUE") => Check::IsBool(true),
            Some(Token::Word(w)) if w.eq_ignore_ascii_case("FALSE") => Check::IsBool(false),
            // `IS NOT` is documented as unsupported.
            _ => return Err(FilterPatternError::invalid("IS takes NULL, TRUE or FALSE")),
        },
        Some(Token::Word(word)) if word.eq_ignore_ascii_case("NOT") => match parser.next_token() {
            Some(Token::Word(w)) if w.eq_ignore_ascii_case("EXISTS") => Check::NotExists,
            _ => {
                return Err(FilterPatternError::invalid(
                    "NOT must be followed by EXISTS",
                ))
            }
        },
        // A bare `EXISTS` is documented as unsupported, like anything else here.
        _ => return Err(FilterPatternError::invalid("a selector needs a comparison")),
    };
    Ok(Condition { selector, check })
}

/// Parses an event as JSON; messages that are not JSON never match a JSON pattern.
pub(super) fn parse_event(message: &str) -> Option<Value> {
    // Skips the parser's work on the common case of plain-text messages.
    let first = message.trim_start().chars().next()?;
    if first != '{' && first != '[' {
        return None;
    }
    serde_json::from_str(message).ok()
}

/// The text metric filters take from a value node; objects, arrays, booleans and null are
/// not value nodes, so they yield nothing.
pub(super) fn value_text(value: &Value) -> Option<String> {
    match value {
        Value::String(text) => Some(text.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn selectors_parse_into_steps() {
        for (text, expected) in [
            ("$.eventId", vec![Step::Key("eventId".into())]),
            (
                "$.users[0].id",
                vec![
                    Step::Key("users".into()),
                    Step::Index(0),
                    Step::Key("id".into()),
                ],
            ),
            (
                "$.coordinates[0][1]",
                vec![
                    Step::Key("coordinates".into()),
                    Step::Index(0),
                    Step::Index(1),
                ],
            ),
            (
                "$.arrayKey[*]",
                vec![Step::Key("arrayKey".into()), Step::Each],
            ),
            ("$.*", vec![Step::Each]),
            ("$.['cluster.name']", vec![Step::Key("cluster.name".into())]),
            ("$[\"a b\"]", vec![Step::Key("a b".into())]),
            ("$.detail-type", vec![Step::Key("detail-type".into())]),
        ] {
            assert_eq!(
                Selector::parse(text).unwrap().steps.to_vec(),
                expected,
                "{text}"
            );
        }
    }

    #[test]
    fn malformed_selectors_are_rejected() {
        assert_eq!(
            Selector::parse("$.\"sc-status\"").unwrap_err(),
            FilterPatternError::characters("$.\"")
        );
        assert_eq!(
            Selector::parse("$.a@b").unwrap_err(),
            FilterPatternError::characters("$.a@")
        );
        assert_eq!(
            Selector::parse("$.a[*].b[*]").unwrap_err(),
            FilterPatternError::TooManyWildcardSelectors
        );
        for text in [
            "$",
            "$.",
            "$.a[",
            "$.a[x]",
            "$.a[-1]",
            "$.a['b]",
            "$.a[99999999999999999999999]",
        ] {
            assert!(Selector::parse(text).is_err(), "{text}");
        }
        let long = format!("${}", ".a".repeat(MAX_SELECTOR_STEPS + 1));
        assert!(Selector::parse(&long).is_err());
    }

    #[test]
    fn values_for_metric_filters() {
        let event = serde_json::json!({"a": {"b": [7, "x", true, null]}});
        for (selector, expected) in [
            ("$.a.b[0]", Some("7")),
            ("$.a.b[1]", Some("x")),
            ("$.a.b[2]", None),
            ("$.a.b[3]", None),
            ("$.a.b", None),
            ("$.a.b[9]", None),
            ("$.a.b[*]", Some("7")),
        ] {
            let selector = Selector::parse(selector).unwrap();
            assert_eq!(
                selector.first(&event).and_then(value_text).as_deref(),
                expected,
                "{selector:?}"
            );
        }
    }
}

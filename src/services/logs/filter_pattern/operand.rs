//! Comparisons shared by JSON and space-delimited patterns: `= != < > <= >=` against a number,
//! a string with `*` wildcards, or a `%regex%`, plus the `&&`/`||` tree that combines them.
//!
//! Both forms compare a value taken from the event (a JSON value node, or a field of a
//! space-delimited line) with a literal from the pattern, so the literal is classified once at
//! parse time and each event only pays for the comparison itself.

use std::cmp::Ordering;

use regex::Regex;
use serde_json::Value;

use super::lexer::Token;
use super::{aws_regex, FilterPatternError};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum CompareOp {
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
}

impl CompareOp {
    fn is_equality(self) -> bool {
        matches!(self, CompareOp::Eq | CompareOp::Ne)
    }

    fn accepts(self, ordering: Ordering) -> bool {
        match self {
            CompareOp::Eq => ordering.is_eq(),
            CompareOp::Ne => ordering.is_ne(),
            CompareOp::Lt => ordering.is_lt(),
            CompareOp::Le => ordering.is_le(),
            CompareOp::Gt => ordering.is_gt(),
            CompareOp::Ge => ordering.is_ge(),
        }
    }
}

/// A number as AWS documents it: optional sign, digits with an optional fraction, optional
/// exponent (`400`, `+1000`, `55.5`, `10e-3`, `1e+3`). Integers are also kept exactly so that
/// large identifiers compare precisely instead of through `f64` rounding.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(super) struct Number {
    approximate: f64,
    exact: Option<i128>,
}

impl Number {
    pub(super) fn parse(text: &str) -> Option<Number> {
        let unsigned = text
            .strip_prefix('+')
            .or_else(|| text.strip_prefix('-'))
            .unwrap_or(text);
        let (mantissa, exponent) = match unsigned.split_once(['e', 'E']) {
            Some((m, e)) => (m, Some(e)),
            None => (unsigned, None),
        };
        let (whole, fraction) = match mantissa.split_once('.') {
            Some((w, f)) => (w, Some(f)),
            None => (mantissa, None),
        };
        let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
        let mantissa_ok = match fraction {
            None => digits(whole),
            Some(f) => {
                (digits(whole) && (f.is_empty() || digits(f))) || (whole.is_empty() && digits(f))
            }
        };
        let exponent_ok = exponent.is_none_or(|e| {
            digits(
                e.strip_prefix('+')
                    .or_else(|| e.strip_prefix('-'))
                    .unwrap_or(e),
            )
        });
        if !mantissa_ok || !exponent_ok {
            return None;
        }
        let approximate = text.parse::<f64>().ok()?;
        let exact = if fraction.is_none() && exponent.is_none() {
            text.parse::<i128>().ok()
        } else {
            None
        };
        Some(Number { approximate, exact })
    }

    fn of_json(n: &serde_json::Number) -> Option<Number> {
        let exact = n
            .as_i64()
            .map(i128::from)
            .or_else(|| n.as_u64().map(i128::from));
        Some(Number {
            approximate: n.as_f64()?,
            exact,
        })
    }

    fn compare(&self, other: &Number) -> Option<Ordering> {
        match (self.exact, other.exact) {
            (Some(a), Some(b)) => Some(a.cmp(&b)),
            _ => self.approximate.partial_cmp(&other.approximate),
        }
    }
}

/// A string literal. Only a leading and/or trailing `*` is a wildcard: AWS documents that
/// `*Event` matches `PutEvent`, `Event*` matches `EventId`, and `Ev*ent` only `Ev*ent`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum TextPattern {
    Anything,
    Exact(Box<str>),
    Prefix(Box<str>),
    Suffix(Box<str>),
    Contains(Box<str>),
}

impl TextPattern {
    pub(super) fn parse(text: &str) -> TextPattern {
        if text.chars().all(|c| c == '*') && !text.is_empty() {
            return TextPattern::Anything;
        }
        match (text.strip_prefix('*'), text.strip_suffix('*')) {
            (Some(_), Some(_)) => {
                let core = text
                    .strip_prefix('*')
                    .and_then(|t| t.strip_suffix('*'))
                    .unwrap_or_default();
                TextPattern::Contains(core.into())
            }
            (Some(tail), None) => TextPattern::Suffix(tail.into()),
            (None, Some(head)) => TextPattern::Prefix(head.into()),
            (None, None) => TextPattern::Exact(text.into()),
        }
    }

    pub(super) fn matches(&self, text: &str) -> bool {
        match self {
            TextPattern::Anything => true,
            TextPattern::Exact(t) => text == &**t,
            TextPattern::Prefix(t) => text.starts_with(&**t),
            TextPattern::Suffix(t) => text.ends_with(&**t),
            TextPattern::Contains(t) => text.contains(&**t),
        }
    }
}

#[derive(Debug, Clone)]
pub(super) enum Operand {
    Number(Number),
    Text(TextPattern),
    Regex(Regex),
}

/// One `OP VALUE` test applied to a value from the event.
#[derive(Debug, Clone)]
pub(super) struct Comparison {
    pub(super) op: CompareOp,
    pub(super) operand: Operand,
}

/// Characters an unquoted value may contain. AWS asks for quotes around anything that is not
/// alphanumeric, yet its own examples leave `123.123.*`, `*.html*`, `-5` and `1e+3` unquoted.
fn allowed_in_bare_value(c: char) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '*' | '-' | '+' | '/' | ':')
}

impl Comparison {
    /// Builds the comparison from the token after the operator; `regex_count` tracks the
    /// documented limit of two regular expressions per pattern.
    pub(super) fn from_token(
        op: CompareOp,
        token: Option<&Token<'_>>,
        regex_count: &mut usize,
    ) -> Result<Comparison, FilterPatternError> {
        let operand = match token {
            Some(Token::Word(word)) => match Number::parse(word) {
                Some(number) => Operand::Number(number),
                None => {
                    if let Some(bad) = word.chars().find(|c| !allowed_in_bare_value(*c)) {
                        return Err(FilterPatternError::characters(bad));
                    }
                    Operand::Text(TextPattern::parse(word))
                }
            },
            Some(Token::Quoted(text)) => Operand::Text(TextPattern::parse(text)),
            Some(Token::Regex(body)) => {
                *regex_count += 1;
                if *regex_count > super::MAX_REGEX_PER_PATTERN {
                    return Err(FilterPatternError::TooManyRegex);
                }
                Operand::Regex(aws_regex::compile(body)?)
            }
            _ => return Err(FilterPatternError::invalid("a comparison needs a value")),
        };
        if !op.is_equality() && !matches!(operand, Operand::Number(_)) {
            return Err(FilterPatternError::invalid(
                "<, >, <= and >= compare numbers only",
            ));
        }
        Ok(Comparison { op, operand })
    }

    /// The test on text: a space-delimited field, or a JSON string. A number literal compares
    /// numerically when the text is a number; text that is not a number only satisfies `!=`.
    pub(super) fn holds_for_text(&self, text: &str) -> bool {
        match &self.operand {
            Operand::Number(literal) => match Number::parse(text) {
                Some(value) => value
                    .compare(literal)
                    .is_some_and(|ordering| self.op.accepts(ordering)),
                None => self.op == CompareOp::Ne,
            },
            Operand::Text(pattern) => pattern.matches(text) == (self.op == CompareOp::Eq),
            Operand::Regex(regex) => regex.is_match(text) == (self.op == CompareOp::Eq),
        }
    }

    /// The test on a JSON value. AWS applies comparisons only to value nodes (strings and
    /// numbers): against an object, array, boolean or null both `=` and `!=` are false.
    pub(super) fn holds_for_json(&self, value: &Value) -> bool {
        match value {
            Value::String(text) => self.holds_for_text(text),
            Value::Number(n) => match &self.operand {
                Operand::Number(literal) => Number::of_json(n)
                    .and_then(|value| value.compare(literal))
                    .is_some_and(|ordering| self.op.accepts(ordering)),
                Operand::Text(_) | Operand::Regex(_) => self.holds_for_text(&n.to_string()),
            },
            _ => false,
        }
    }
}

/// Conditions joined by `&&` (binding tighter) and `||`, with parentheses already resolved
/// into the tree shape.
#[derive(Debug, Clone)]
pub(super) enum Logic<T> {
    Test(T),
    All(Vec<Logic<T>>),
    Any(Vec<Logic<T>>),
}

impl<T> Logic<T> {
    pub(super) fn eval<F: Fn(&T) -> bool>(&self, test: &F) -> bool {
        match self {
            Logic::Test(t) => test(t),
            Logic::All(items) => items.iter().all(|item| item.eval(test)),
            Logic::Any(items) => items.iter().any(|item| item.eval(test)),
        }
    }

    pub(super) fn visit<'s>(&'s self, found: &mut impl FnMut(&'s T)) {
        match self {
            Logic::Test(t) => found(t),
            Logic::All(items) | Logic::Any(items) => {
                items.iter().for_each(|item| item.visit(found));
            }
        }
    }
}

/// Parses `a && b || (c)` over tokens, delegating each condition to `leaf`. Shared by both
/// structured forms; the depth limit keeps hostile nesting from exhausting the stack.
pub(super) struct LogicParser<'t, 'p> {
    tokens: &'t [Token<'p>],
    position: usize,
}

/// Parentheses nested deeper than this are refused.
const MAX_NESTING: usize = 32;

impl<'t, 'p> LogicParser<'t, 'p> {
    pub(super) fn new(tokens: &'t [Token<'p>]) -> Self {
        LogicParser {
            tokens,
            position: 0,
        }
    }

    pub(super) fn peek(&self) -> Option<&'t Token<'p>> {
        self.tokens.get(self.position)
    }

    pub(super) fn next_token(&mut self) -> Option<&'t Token<'p>> {
        let token = self.tokens.get(self.position);
        self.position += 1;
        token
    }

    pub(super) fn at_end(&self) -> bool {
        self.position >= self.tokens.len()
    }

    pub(super) fn parse<T>(
        &mut self,
        leaf: &mut impl FnMut(&mut Self) -> Result<T, FilterPatternError>,
    ) -> Result<Logic<T>, FilterPatternError> {
        let logic = self.any_of(leaf, 0)?;
        if !self.at_end() {
            return Err(FilterPatternError::invalid(
                "unexpected text after a condition",
            ));
        }
        Ok(logic)
    }

    fn any_of<T>(
        &mut self,
        leaf: &mut impl FnMut(&mut Self) -> Result<T, FilterPatternError>,
        depth: usize,
    ) -> Result<Logic<T>, FilterPatternError> {
        let mut items = vec![self.all_of(leaf, depth)?];
        while self.peek() == Some(&Token::Or) {
            self.position += 1;
            items.push(self.all_of(leaf, depth)?);
        }
        Ok(collapse(items, Logic::Any))
    }

    fn all_of<T>(
        &mut self,
        leaf: &mut impl FnMut(&mut Self) -> Result<T, FilterPatternError>,
        depth: usize,
    ) -> Result<Logic<T>, FilterPatternError> {
        let mut items = vec![self.primary(leaf, depth)?];
        while self.peek() == Some(&Token::And) {
            self.position += 1;
            items.push(self.primary(leaf, depth)?);
        }
        Ok(collapse(items, Logic::All))
    }

    fn primary<T>(
        &mut self,
        leaf: &mut impl FnMut(&mut Self) -> Result<T, FilterPatternError>,
        depth: usize,
    ) -> Result<Logic<T>, FilterPatternError> {
        if self.peek() != Some(&Token::OpenParen) {
            return leaf(self).map(Logic::Test);
        }
        if depth >= MAX_NESTING {
            return Err(FilterPatternError::invalid("parentheses nested too deeply"));
        }
        self.position += 1;
        let inner = self.any_of(leaf, depth + 1)?;
        match self.next_token() {
            Some(Token::CloseParen) => Ok(inner),
            _ => Err(FilterPatternError::invalid("unbalanced parentheses")),
        }
    }
}

fn collapse<T>(mut items: Vec<Logic<T>>, combine: fn(Vec<Logic<T>>) -> Logic<T>) -> Logic<T> {
    match items.pop() {
        Some(only) if items.is_empty() => only,
        Some(last) => {
            items.push(last);
            combine(items)
        }
        None => combine(items),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_follow_the_documented_grammar() {
        for (text, expected) in [
            ("400", Some(400.0)),
            ("+1000", Some(1000.0)),
            ("-5", Some(-5.0)),
            ("55.5", Some(55.5)),
            ("10e3", Some(10_000.0)),
            ("10e-3", Some(0.01)),
            ("1e+3", Some(1000.0)),
            (".5", Some(0.5)),
            ("4*", None),
            ("1.2.3", None),
            ("e3", None),
            ("inf", None),
            ("NaN", None),
            ("0x10", None),
            ("", None),
            ("+", None),
        ] {
            assert_eq!(
                Number::parse(text).map(|n| n.approximate),
                expected,
                "{text}"
            );
        }
        // Huge exponents saturate instead of failing or panicking.
        assert_eq!(
            Number::parse("1e999").map(|n| n.approximate),
            Some(f64::INFINITY)
        );
    }

    #[test]
    fn large_integers_compare_exactly() {
        let big = Number::parse("9007199254740993").unwrap();
        let near = Number::parse("9007199254740992").unwrap();
        assert_eq!(big.compare(&near), Some(Ordering::Greater));
    }

    #[test]
    fn wildcards_only_at_the_ends_as_documented() {
        for (pattern, text, expected) in [
            ("*Event", "PutEvent", true),
            ("*Event", "GetEvent", true),
            ("*Event", "EventId", false),
            ("Event*", "EventId", true),
            ("Event*", "EventName", true),
            ("Event*", "PutEvent", false),
            ("Ev*ent", "Ev*ent", true),
            ("Ev*ent", "Event", false),
            ("*html*", "GET /index.html HTTP/1.0", true),
            ("*html*", "GET /index.php", false),
            ("*", "", true),
            ("4*", "404", true),
            ("4*", "503", false),
        ] {
            assert_eq!(
                TextPattern::parse(pattern).matches(text),
                expected,
                "{pattern} ~ {text}"
            );
        }
    }

    fn comparison(op: CompareOp, word: &str) -> Comparison {
        Comparison::from_token(op, Some(&Token::Word(word)), &mut 0).unwrap()
    }

    #[test]
    fn text_comparisons() {
        for (op, literal, text, expected) in [
            (CompareOp::Eq, "200", "200", true),
            (CompareOp::Eq, "200", "200.0", true),
            (CompareOp::Eq, "200", "404", false),
            (CompareOp::Ne, "403", "404", true),
            (CompareOp::Ne, "403", "403", false),
            (CompareOp::Gt, "1000", "1534", true),
            (CompareOp::Gt, "1000", "287", false),
            (CompareOp::Gt, "1000", "big", false),
            (CompareOp::Ne, "1000", "big", true),
            (CompareOp::Eq, "ERROR", "ERROR", true),
            (CompareOp::Ne, "ERROR", "WARN", true),
        ] {
            assert_eq!(
                comparison(op, literal).holds_for_text(text),
                expected,
                "{op:?} {literal} on {text}"
            );
        }
    }

    #[test]
    fn json_comparisons_apply_to_value_nodes_only() {
        let eq_one = comparison(CompareOp::Eq, "1");
        let ne_one = comparison(CompareOp::Ne, "1");
        for value in [
            serde_json::json!([1, 2, 3]),
            serde_json::json!({"a": 1}),
            Value::Null,
            Value::Bool(true),
        ] {
            assert!(!eq_one.holds_for_json(&value), "{value}");
            assert!(!ne_one.holds_for_json(&value), "{value}");
        }
        assert!(eq_one.holds_for_json(&serde_json::json!(1)));
        assert!(eq_one.holds_for_json(&serde_json::json!(1.0)));
        assert!(comparison(CompareOp::Eq, "1*").holds_for_json(&serde_json::json!(123)));
    }

    #[test]
    fn ordering_needs_a_number() {
        for token in [
            Token::Word("abc"),
            Token::Word("*"),
            Token::Quoted("5".to_string()),
            Token::Regex("5"),
        ] {
            assert!(
                Comparison::from_token(CompareOp::Gt, Some(&token), &mut 0).is_err(),
                "{token:?}"
            );
        }
        assert_eq!(
            Comparison::from_token(CompareOp::Eq, Some(&Token::Word("a@b")), &mut 0).unwrap_err(),
            FilterPatternError::characters('@')
        );
    }
}

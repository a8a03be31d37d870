//! JSON filter patterns: `{ SELECTOR OP VALUE }` combined with `&&`, `||` and parentheses.

use regex::Regex;
use serde_json::Value;

use super::{compile_regex, wildcard, FilterPatternError};

/// Nesting of parentheses beyond this is refused.
const MAX_DEPTH: usize = 32;

#[derive(Debug, Clone)]
pub struct Selector {
    steps: Vec<Step>,
}

#[derive(Debug, Clone)]
enum Step {
    Key(String),
    Index(usize),
    AnyIndex,
}

impl Selector {
    /// `$.a.b[0].c`, `$.list[*]`.
    pub fn parse(text: &str) -> Result<Selector, FilterPatternError> {
        let err = || FilterPatternError::Syntax(format!("invalid selector {text}"));
        let rest = text.strip_prefix('$').ok_or_else(err)?;
        let mut steps = Vec::new();
        let mut chars = rest.chars().peekable();
        while let Some(c) = chars.next() {
            match c {
                '.' => {
                    let mut key = String::new();
                    while let Some(c) = chars.next_if(|c| *c != '.' && *c != '[') {
                        key.push(c);
                    }
                    if key.is_empty() {
                        return Err(err());
                    }
                    steps.push(Step::Key(key));
                }
                '[' => {
                    let inner: String = chars.by_ref().take_while(|c| *c != ']').collect();
                    if inner == "*" {
                        steps.push(Step::AnyIndex);
                    } else {
                        steps.push(Step::Index(inner.trim().parse().map_err(|_| err())?));
                    }
                }
                _ => return Err(err()),
            }
        }
        if steps.is_empty() {
            return Err(err());
        }
        Ok(Selector { steps })
    }

    /// Every value the selector reaches (several with `[*]`).
    pub fn resolve<'v>(&self, root: &'v Value) -> Vec<&'v Value> {
        let mut current = vec![root];
        for step in &self.steps {
            let mut next = Vec::new();
            for v in current {
                match (step, v) {
                    (Step::Key(k), Value::Object(map)) => next.extend(map.get(k)),
                    (Step::Index(i), Value::Array(items)) => next.extend(items.get(*i)),
                    (Step::AnyIndex, Value::Array(items)) => next.extend(items.iter()),
                    _ => {}
                }
            }
            current = next;
        }
        current
    }
}

/// The text of a scalar, as metric filters read values.
pub fn scalar_text(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Op {
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
}

#[derive(Debug, Clone)]
pub enum Operand {
    Number(f64),
    Text {
        text: String,
        wildcard: Option<Regex>,
    },
    Regex(Regex),
}

#[derive(Debug, Clone)]
pub enum Expr {
    And(Box<Expr>, Box<Expr>),
    Or(Box<Expr>, Box<Expr>),
    Compare(Selector, Op, Operand),
    IsNull(Selector),
    NotExists(Selector),
    IsBool(Selector, bool),
}

impl Expr {
    pub fn eval(&self, root: &Value) -> bool {
        match self {
            Expr::And(a, b) => a.eval(root) && b.eval(root),
            Expr::Or(a, b) => a.eval(root) || b.eval(root),
            Expr::IsNull(s) => s.resolve(root).iter().any(|v| v.is_null()),
            Expr::NotExists(s) => s.resolve(root).is_empty(),
            Expr::IsBool(s, b) => s.resolve(root).iter().any(|v| v.as_bool() == Some(*b)),
            Expr::Compare(s, op, operand) => {
                s.resolve(root).iter().any(|v| compare(v, *op, operand))
            }
        }
    }
}

fn compare(v: &Value, op: Op, operand: &Operand) -> bool {
    match operand {
        Operand::Number(n) => {
            let Some(x) = v.as_f64() else {
                return false;
            };
            match op {
                Op::Eq => x == *n,
                Op::Ne => x != *n,
                Op::Lt => x < *n,
                Op::Le => x <= *n,
                Op::Gt => x > *n,
                Op::Ge => x >= *n,
            }
        }
        Operand::Text { text, wildcard } => {
            let Some(actual) = scalar_text(v) else {
                return false;
            };
            let equal = match wildcard {
                Some(re) => re.is_match(&actual),
                None => actual == *text,
            };
            match op {
                Op::Eq => equal,
                Op::Ne => !equal,
                _ => false,
            }
        }
        Operand::Regex(re) => {
            let Some(actual) = scalar_text(v) else {
                return false;
            };
            match op {
                Op::Eq => re.is_match(&actual),
                Op::Ne => !re.is_match(&actual),
                _ => false,
            }
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
enum Token {
    LParen,
    RParen,
    And,
    Or,
    Op(Op),
    Quoted(String),
    Regex(String),
    Word(String),
}

fn tokenize(body: &str) -> Result<Vec<Token>, FilterPatternError> {
    let mut out = Vec::new();
    let mut chars = body.chars().peekable();
    while let Some(&c) = chars.peek() {
        match c {
            c if c.is_whitespace() => {
                chars.next();
            }
            '(' => {
                chars.next();
                out.push(Token::LParen);
            }
            ')' => {
                chars.next();
                out.push(Token::RParen);
            }
            '&' | '|' => {
                chars.next();
                if chars.next() != Some(c) {
                    return Err(FilterPatternError::Syntax(format!("expected {c}{c}")));
                }
                out.push(if c == '&' { Token::And } else { Token::Or });
            }
            '=' | '!' | '<' | '>' => {
                chars.next();
                let eq = chars.next_if_eq(&'=').is_some();
                out.push(Token::Op(match (c, eq) {
                    ('=', _) => Op::Eq,
                    ('!', true) => Op::Ne,
                    ('<', false) => Op::Lt,
                    ('<', true) => Op::Le,
                    ('>', false) => Op::Gt,
                    ('>', true) => Op::Ge,
                    _ => return Err(FilterPatternError::Syntax(format!("unexpected {c}"))),
                }));
            }
            '"' => {
                chars.next();
                let mut text = String::new();
                loop {
                    match chars.next() {
                        None => return Err(FilterPatternError::UnbalancedQuotes),
                        Some('\\') => text.extend(chars.next()),
                        Some('"') => break,
                        Some(c) => text.push(c),
                    }
                }
                out.push(Token::Quoted(text));
            }
            '%' => {
                chars.next();
                let body: String = chars.by_ref().take_while(|c| *c != '%').collect();
                out.push(Token::Regex(body));
            }
            _ => {
                let mut word = String::new();
                while let Some(c) =
                    chars.next_if(|c| !c.is_whitespace() && !"()&|=!<>\"".contains(*c))
                {
                    word.push(c);
                }
                out.push(Token::Word(word));
            }
        }
    }
    Ok(out)
}

pub fn parse(pattern: &str) -> Result<Expr, FilterPatternError> {
    let body = pattern
        .strip_prefix('{')
        .and_then(|p| p.trim_end().strip_suffix('}'))
        .ok_or_else(|| {
            FilterPatternError::Syntax("a JSON filter pattern must be enclosed in { }".into())
        })?;
    let tokens = tokenize(body)?;
    let mut parser = Parser { tokens, at: 0 };
    let expr = parser.or(0)?;
    if parser.at != parser.tokens.len() {
        return Err(FilterPatternError::Syntax(
            "unexpected text after the expression".into(),
        ));
    }
    Ok(expr)
}

struct Parser {
    tokens: Vec<Token>,
    at: usize,
}

impl Parser {
    fn next(&mut self) -> Option<Token> {
        let t = self.tokens.get(self.at).cloned();
        self.at += 1;
        t
    }

    fn peek(&self) -> Option<&Token> {
        self.tokens.get(self.at)
    }

    fn or(&mut self, depth: usize) -> Result<Expr, FilterPatternError> {
        let mut left = self.and(depth)?;
        while self.peek() == Some(&Token::Or) {
            self.at += 1;
            left = Expr::Or(Box::new(left), Box::new(self.and(depth)?));
        }
        Ok(left)
    }

    fn and(&mut self, depth: usize) -> Result<Expr, FilterPatternError> {
        let mut left = self.unary(depth)?;
        while self.peek() == Some(&Token::And) {
            self.at += 1;
            left = Expr::And(Box::new(left), Box::new(self.unary(depth)?));
        }
        Ok(left)
    }

    fn unary(&mut self, depth: usize) -> Result<Expr, FilterPatternError> {
        if depth > MAX_DEPTH {
            return Err(FilterPatternError::Syntax(
                "the filter pattern is nested too deeply".into(),
            ));
        }
        if self.peek() == Some(&Token::LParen) {
            self.at += 1;
            let inner = self.or(depth + 1)?;
            if self.next() != Some(Token::RParen) {
                return Err(FilterPatternError::Syntax("missing )".into()));
            }
            return Ok(inner);
        }
        let selector = match self.next() {
            Some(Token::Word(w)) => Selector::parse(&w)?,
            other => {
                return Err(FilterPatternError::Syntax(format!(
                    "expected a selector such as $.field, found {other:?}"
                )))
            }
        };
        match self.next() {
            Some(Token::Op(op)) => {
                let operand = match self.next() {
                    Some(Token::Quoted(text)) => Operand::Text {
                        wildcard: wildcard(&text),
                        text,
                    },
                    Some(Token::Regex(body)) => Operand::Regex(compile_regex(&body)?),
                    Some(Token::Word(w)) => match w.parse::<f64>() {
                        Ok(n) if n.is_finite() => Operand::Number(n),
                        _ => Operand::Text {
                            wildcard: wildcard(&w),
                            text: w,
                        },
                    },
                    other => {
                        return Err(FilterPatternError::Syntax(format!(
                            "expected a value, found {other:?}"
                        )))
                    }
                };
                if matches!(operand, Operand::Text { .. } | Operand::Regex(_))
                    && !matches!(op, Op::Eq | Op::Ne)
                {
                    return Err(FilterPatternError::Syntax(
                        "strings can only be compared with = or !=".into(),
                    ));
                }
                Ok(Expr::Compare(selector, op, operand))
            }
            Some(Token::Word(w)) if w.eq_ignore_ascii_case("IS") => match self.next() {
                Some(Token::Word(w)) if w.eq_ignore_ascii_case("NULL") => {
                    Ok(Expr::IsNull(selector))
                }
                Some(Token::Word(w)) if w.eq_ignore_ascii_case("TRUE") => {
                    Ok(Expr::IsBool(selector, true))
                }
                Some(Token::Word(w)) if w.eq_ignore_ascii_case("FALSE") => {
                    Ok(Expr::IsBool(selector, false))
                }
                _ => Err(FilterPatternError::Syntax(
                    "expected NULL, TRUE or FALSE after IS".into(),
                )),
            },
            Some(Token::Word(w)) if w.eq_ignore_ascii_case("NOT") => match self.next() {
                Some(Token::Word(w)) if w.eq_ignore_ascii_case("EXISTS") => {
                    Ok(Expr::NotExists(selector))
                }
                _ => Err(FilterPatternError::Syntax(
                    "expected EXISTS after NOT".into(),
                )),
            },
            other => Err(FilterPatternError::Syntax(format!(
                "expected an operator, found {other:?}"
            ))),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::FilterPattern;

    fn m(pattern: &str, message: &str) -> bool {
        FilterPattern::parse(pattern).unwrap().matches(message)
    }

    const EVENT: &str = r#"{"eventType":"UpdateTrail","sourceIPAddress":"123.123.123.123","arrayKey":["value","another"],
        "objectList":[{"name":"a","id":1},{"name":"b","id":2}],"SomeObject":null,"ThisFlag":true,"latency":250,"user":{"name":"alice"}}"#;

    #[test]
    fn json_patterns_from_the_docs() {
        assert!(m(r#"{ $.eventType = "UpdateTrail" }"#, EVENT));
        assert!(!m(r#"{ $.eventType = "CreateTrail" }"#, EVENT), "_NEG");
        assert!(m(
            r#"{ $.sourceIPAddress != 123.123.* }"#,
            r#"{"sourceIPAddress":"10.0.0.1"}"#
        ));
        assert!(!m(r#"{ $.sourceIPAddress != 123.123.* }"#, EVENT), "_NEG");
        assert!(m(r#"{ $.arrayKey[0] = "value" }"#, EVENT));
        assert!(m(r#"{ $.objectList[1].id = 2 }"#, EVENT));
        assert!(m(r#"{ $.objectList[*].name = "b" }"#, EVENT));
        assert!(m("{ $.SomeObject IS NULL }", EVENT));
        assert!(m("{ $.SomeOtherObject NOT EXISTS }", EVENT));
        assert!(!m("{ $.latency NOT EXISTS }", EVENT), "_NEG");
        assert!(m("{ $.ThisFlag IS TRUE }", EVENT));
        assert!(!m("{ $.ThisFlag IS FALSE }", EVENT), "_NEG");
        assert!(m(
            r#"{ ($.latency > 100) && ($.user.name = "ali*") }"#,
            EVENT
        ));
        assert!(m(
            r#"{ $.latency < 100 || $.eventType = "UpdateTrail" }"#,
            EVENT
        ));
        assert!(
            !m(
                r#"{ $.latency < 100 && $.eventType = "UpdateTrail" }"#,
                EVENT
            ),
            "_NEG"
        );
        assert!(m("{ $.latency >= 250 && $.latency <= 250 }", EVENT));
        assert!(m("{ $.eventType = %Update[A-Z]% }", EVENT));
        assert!(
            !m(
                r#"{ $.eventType = "UpdateTrail" }"#,
                "UpdateTrail plain text"
            ),
            "_NEG: not JSON"
        );
    }

    #[test]
    fn malformed_json_patterns() {
        for bad in [
            "{ $.a }",
            "{ $.a = }",
            "{ a = 1 }",
            "{ ($.a = 1 }",
            "{ $.a > \"x\" }",
            "{ $.a IS MAYBE }",
            "{ $.a = 1 & $.b = 2 }",
        ] {
            assert!(FilterPattern::parse(bad).is_err(), "{bad}");
        }
        let deep = format!("{{ {}$.a = 1{} }}", "(".repeat(100), ")".repeat(100));
        assert!(FilterPattern::parse(&deep).is_err());
    }
}

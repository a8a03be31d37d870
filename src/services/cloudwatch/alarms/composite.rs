//! The AlarmRule language of composite alarms: `ALARM(name)`, `OK(name)`,
//! `INSUFFICIENT_DATA(name)`, `TRUE`, `FALSE`, combined with `AND`, `OR`, `NOT` and parentheses
//! (NOT binds tightest, then AND, then OR). A name may be quoted (`"my alarm"`) or bare, and may
//! be given as the alarm's ARN.

use super::model::StateValue;

#[derive(Debug, Clone, PartialEq)]
pub enum Rule {
    Constant(bool),
    /// True while the named alarm is in this state.
    InState(StateValue, String),
    Not(Box<Rule>),
    And(Box<Rule>, Box<Rule>),
    Or(Box<Rule>, Box<Rule>),
}

#[derive(Debug, Clone, PartialEq)]
enum Token {
    Open,
    Close,
    Word(String),
    Quoted(String),
}

fn tokenize(text: &str) -> Result<Vec<Token>, String> {
    let mut tokens = Vec::new();
    let mut chars = text.char_indices().peekable();
    while let Some((at, c)) = chars.next() {
        match c {
            c if c.is_whitespace() => {}
            '(' => tokens.push(Token::Open),
            ')' => tokens.push(Token::Close),
            '"' => {
                let mut value = String::new();
                let mut closed = false;
                while let Some((_, c)) = chars.next() {
                    match c {
                        '\\' => {
                            if let Some((_, escaped)) = chars.next() {
                                value.push(escaped);
                            }
                        }
                        '"' => {
                            closed = true;
                            break;
                        }
                        other => value.push(other),
                    }
                }
                if !closed {
                    return Err(format!("Unterminated quoted alarm name at position {at}"));
                }
                tokens.push(Token::Quoted(value));
            }
            first => {
                let mut word = String::from(first);
                while let Some((_, c)) = chars.peek() {
                    if c.is_whitespace() || *c == '(' || *c == ')' || *c == '"' {
                        break;
                    }
                    word.push(*c);
                    chars.next();
                }
                tokens.push(Token::Word(word));
            }
        }
    }
    Ok(tokens)
}

struct Parser {
    tokens: Vec<Token>,
    at: usize,
}

impl Parser {
    fn peek(&self) -> Option<&Token> {
        self.tokens.get(self.at)
    }

    fn next(&mut self) -> Option<Token> {
        let t = self.tokens.get(self.at).cloned();
        self.at += 1;
        t
    }

    fn keyword(&self, word: &str) -> bool {
        matches!(self.peek(), Some(Token::Word(w)) if w.eq_ignore_ascii_case(word))
    }

    fn or(&mut self) -> Result<Rule, String> {
        let mut left = self.and()?;
        while self.keyword("OR") {
            self.at += 1;
            let right = self.and()?;
            left = Rule::Or(Box::new(left), Box::new(right));
        }
        Ok(left)
    }

    fn and(&mut self) -> Result<Rule, String> {
        let mut left = self.not()?;
        while self.keyword("AND") {
            self.at += 1;
            let right = self.not()?;
            left = Rule::And(Box::new(left), Box::new(right));
        }
        Ok(left)
    }

    fn not(&mut self) -> Result<Rule, String> {
        if self.keyword("NOT") {
            self.at += 1;
            return Ok(Rule::Not(Box::new(self.not()?)));
        }
        self.primary()
    }

    fn primary(&mut self) -> Result<Rule, String> {
        match self.next() {
            Some(Token::Open) => {
                let inner = self.or()?;
                match self.next() {
                    Some(Token::Close) => Ok(inner),
                    _ => Err("Missing closing parenthesis".into()),
                }
            }
            Some(Token::Word(w)) if w.eq_ignore_ascii_case("TRUE") => Ok(Rule::Constant(true)),
            Some(Token::Word(w)) if w.eq_ignore_ascii_case("FALSE") => Ok(Rule::Constant(false)),
            Some(Token::Word(w)) => {
                let state = match w.to_ascii_uppercase().as_str() {
                    "ALARM" => StateValue::Alarm,
                    "OK" => StateValue::Ok,
                    "INSUFFICIENT_DATA" => StateValue::InsufficientData,
                    _ => return Err(format!("Unexpected token '{w}'")),
                };
                if self.next() != Some(Token::Open) {
                    return Err(format!("Expected '(' after {w}"));
                }
                let name = match self.next() {
                    Some(Token::Quoted(n)) => n,
                    Some(Token::Word(first)) => {
                        // Bare names may contain spaces-free words only; anything up to ')'.
                        let mut name = first;
                        while let Some(Token::Word(more)) = self.peek() {
                            name.push(' ');
                            name.push_str(more);
                            self.at += 1;
                        }
                        name
                    }
                    _ => return Err(format!("Expected an alarm name after {w}(")),
                };
                if self.next() != Some(Token::Close) {
                    return Err(format!("Expected ')' after the alarm name {name}"));
                }
                Ok(Rule::InState(state, alarm_name_of(&name).to_string()))
            }
            Some(Token::Quoted(q)) => Err(format!("Unexpected quoted text \"{q}\"")),
            Some(Token::Close) => Err("Unexpected ')'".into()),
            None => Err("Unexpected end of the rule".into()),
        }
    }
}

/// `arn:aws:cloudwatch:us-east-1:123456789012:alarm:name` → `name`; a plain name as is.
pub fn alarm_name_of(reference: &str) -> &str {
    if reference.starts_with("arn:") {
        if let Some((_, name)) = reference.split_once(":alarm:") {
            return name;
        }
    }
    reference
}

pub fn parse(text: &str) -> Result<Rule, String> {
    let tokens = tokenize(text)?;
    if tokens.is_empty() {
        return Err("The rule is empty".into());
    }
    let mut parser = Parser { tokens, at: 0 };
    let rule = parser.or()?;
    if let Some(extra) = parser.peek() {
        return Err(format!("Unexpected {extra:?} after the end of the rule"));
    }
    Ok(rule)
}

impl Rule {
    /// Names of the alarms the rule refers to, each once, in order of appearance.
    pub fn alarm_names(&self) -> Vec<String> {
        let mut out = Vec::new();
        self.collect(&mut out);
        out
    }

    fn collect(&self, out: &mut Vec<String>) {
        match self {
            Rule::Constant(_) => {}
            Rule::InState(_, name) => {
                if !out.contains(name) {
                    out.push(name.clone());
                }
            }
            Rule::Not(inner) => inner.collect(out),
            Rule::And(a, b) | Rule::Or(a, b) => {
                a.collect(out);
                b.collect(out);
            }
        }
    }

    /// Evaluates the rule; `state_of` answers each named alarm's current state (an alarm that
    /// no longer exists is in no state, so every state function of it is false).
    pub fn evaluate(&self, state_of: &impl Fn(&str) -> Option<StateValue>) -> bool {
        match self {
            Rule::Constant(b) => *b,
            Rule::InState(state, name) => state_of(name) == Some(*state),
            Rule::Not(inner) => !inner.evaluate(state_of),
            Rule::And(a, b) => a.evaluate(state_of) && b.evaluate(state_of),
            Rule::Or(a, b) => a.evaluate(state_of) || b.evaluate(state_of),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn states(name: &str) -> Option<StateValue> {
        match name {
            "cpu" => Some(StateValue::Alarm),
            "disk full" => Some(StateValue::Ok),
            "mem" => Some(StateValue::InsufficientData),
            _ => None,
        }
    }

    #[test]
    fn precedence_is_not_and_or() {
        let rule = parse("ALARM(cpu) OR OK(mem) AND NOT FALSE").unwrap();
        assert_eq!(
            rule,
            Rule::Or(
                Box::new(Rule::InState(StateValue::Alarm, "cpu".into())),
                Box::new(Rule::And(
                    Box::new(Rule::InState(StateValue::Ok, "mem".into())),
                    Box::new(Rule::Not(Box::new(Rule::Constant(false)))),
                )),
            )
        );
        assert!(rule.evaluate(&states));
    }

    #[test]
    fn quoted_names_arns_and_parentheses() {
        let rule = parse(
            r#"(ALARM("disk full") OR ALARM(arn:aws:cloudwatch:us-east-1:1:alarm:cpu)) AND INSUFFICIENT_DATA(mem)"#,
        )
        .unwrap();
        assert_eq!(rule.alarm_names(), vec!["disk full", "cpu", "mem"]);
        assert!(rule.evaluate(&states));
        assert!(!parse(r#"ALARM("disk full")"#).unwrap().evaluate(&states));
        assert!(parse("OK(\"disk full\")").unwrap().evaluate(&states));
        assert!(!parse("ALARM(gone)").unwrap().evaluate(&states));
        assert!(parse("TRUE").unwrap().evaluate(&states));
    }

    #[test]
    fn malformed_rules_are_refused() {
        for bad in [
            "",
            "ALARM(cpu",
            "ALARM cpu",
            "ALARM(cpu) AND",
            "(ALARM(cpu)",
            "ALARM(cpu))",
            "WARN(cpu)",
            "ALARM(\"cpu)",
            "ALARM()",
        ] {
            assert!(parse(bad).is_err(), "{bad}");
        }
    }
}

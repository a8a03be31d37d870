//! The AlarmRule language of composite alarms: `ALARM(name)`, `OK(name)`,
//! `INSUFFICIENT_DATA(name)`, `TRUE`, `FALSE`, combined with `AND`, `OR`, `NOT` and parentheses
//! (NOT binds tightest, then AND, then OR). A name may be quoted (`"my alarm"`) or bare, and may
//! be given as the alarm's ARN.
//!
//! Hostile rules must not exhaust the stack of the worker that parses them, nor of the
//! evaluator that later walks them. Three limits keep the tree shallow: AWS's own limits (at
//! most [`MAX_ELEMENTS`] elements, at most [`MAX_CHILDREN`] distinct alarms) are checked on the
//! tokens before any recursion, runs of one operator (`a OR b OR c ...`) become one n-ary node
//! instead of a chain of binary ones, and nesting (parentheses and `NOT`) is capped at
//! [`MAX_NESTING`]. Every rule that parses therefore has a tree at most [`MAX_NESTING`] deep,
//! and describe, evaluate and delete, which all re-parse the stored text, walk it safely.

use super::model::StateValue;

/// "The AlarmRule expression can have as many as 500 elements. Elements are child alarms,
/// TRUE or FALSE statements, and parentheses" (PutCompositeAlarm).
pub const MAX_ELEMENTS: usize = 500;
/// "The rule expression of a composite alarm can include as many as 100 underlying alarms."
pub const MAX_CHILDREN: usize = 100;
/// Deepest nesting of parentheses and `NOT`s accepted. AWS documents none; 100 is far beyond
/// any rule written by hand and keeps the recursive walks a few kilobytes of stack.
pub const MAX_NESTING: usize = 100;

#[derive(Debug, Clone, PartialEq)]
pub enum Rule {
    Constant(bool),
    /// True while the named alarm is in this state.
    InState(StateValue, String),
    Not(Box<Rule>),
    /// Every operand is true (a run of `AND`s).
    All(Vec<Rule>),
    /// Some operand is true (a run of `OR`s).
    Any(Vec<Rule>),
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
    /// Open parentheses and `NOT`s around the current position.
    nesting: usize,
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

    /// Enters one level of nesting, refusing to go deeper than [`MAX_NESTING`].
    fn enter(&mut self) -> Result<(), String> {
        self.nesting += 1;
        if self.nesting > MAX_NESTING {
            return Err(format!(
                "The rule is nested more than {MAX_NESTING} levels deep"
            ));
        }
        Ok(())
    }

    fn or(&mut self) -> Result<Rule, String> {
        let first = self.and()?;
        if !self.keyword("OR") {
            return Ok(first);
        }
        let mut operands = vec![first];
        while self.keyword("OR") {
            self.at += 1;
            operands.push(self.and()?);
        }
        Ok(Rule::Any(operands))
    }

    fn and(&mut self) -> Result<Rule, String> {
        let first = self.not()?;
        if !self.keyword("AND") {
            return Ok(first);
        }
        let mut operands = vec![first];
        while self.keyword("AND") {
            self.at += 1;
            operands.push(self.not()?);
        }
        Ok(Rule::All(operands))
    }

    fn not(&mut self) -> Result<Rule, String> {
        if self.keyword("NOT") {
            self.at += 1;
            self.enter()?;
            let inner = self.not()?;
            self.nesting -= 1;
            return Ok(Rule::Not(Box::new(inner)));
        }
        self.primary()
    }

    fn primary(&mut self) -> Result<Rule, String> {
        match self.next() {
            Some(Token::Open) => {
                self.enter()?;
                let inner = self.or()?;
                self.nesting -= 1;
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

fn is_state_function(word: &str) -> bool {
    ["ALARM", "OK", "INSUFFICIENT_DATA"]
        .iter()
        .any(|f| word.eq_ignore_ascii_case(f))
}

/// Counts elements as AWS defines them (child alarm functions, TRUE/FALSE, grouping
/// parentheses), on the flat token list, so an over-long rule is refused before the parser
/// recurses into it.
fn element_count(tokens: &[Token]) -> usize {
    let mut count = 0usize;
    let mut in_function = false;
    for (i, token) in tokens.iter().enumerate() {
        let counted = match token {
            Token::Word(w) if is_state_function(w) => {
                in_function = matches!(tokens.get(i + 1), Some(Token::Open));
                true
            }
            Token::Word(w) => w.eq_ignore_ascii_case("TRUE") || w.eq_ignore_ascii_case("FALSE"),
            // The parentheses of ALARM(...) belong to the function, not to the grouping.
            Token::Open | Token::Close if in_function => {
                if *token == Token::Close {
                    in_function = false;
                }
                false
            }
            Token::Open | Token::Close => true,
            Token::Quoted(_) => false,
        };
        count = count.saturating_add(usize::from(counted));
    }
    count
}

pub fn parse(text: &str) -> Result<Rule, String> {
    let tokens = tokenize(text)?;
    if tokens.is_empty() {
        return Err("The rule is empty".into());
    }
    let elements = element_count(&tokens);
    if elements > MAX_ELEMENTS {
        return Err(format!(
            "The expression has {elements} elements; an AlarmRule can have as many as {MAX_ELEMENTS} elements (child alarms, TRUE or FALSE statements, and parentheses)"
        ));
    }
    let mut parser = Parser {
        tokens,
        at: 0,
        nesting: 0,
    };
    let rule = parser.or()?;
    if let Some(extra) = parser.peek() {
        return Err(format!("Unexpected {extra:?} after the end of the rule"));
    }
    let children = rule.alarm_names().len();
    if children > MAX_CHILDREN {
        return Err(format!(
            "The rule refers to {children} alarms; an AlarmRule can include as many as {MAX_CHILDREN} underlying alarms"
        ));
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
            Rule::All(operands) | Rule::Any(operands) => {
                for operand in operands {
                    operand.collect(out);
                }
            }
        }
    }

    /// Evaluates the rule; `state_of` answers each named alarm's current state (an alarm that
    /// no longer exists is in no state, so every state function of it is false). Recursion is
    /// bounded by [`MAX_NESTING`]: runs of one operator are a single n-ary node.
    pub fn evaluate(&self, state_of: &impl Fn(&str) -> Option<StateValue>) -> bool {
        match self {
            Rule::Constant(b) => *b,
            Rule::InState(state, name) => state_of(name) == Some(*state),
            Rule::Not(inner) => !inner.evaluate(state_of),
            Rule::All(operands) => operands.iter().all(|r| r.evaluate(state_of)),
            Rule::Any(operands) => operands.iter().any(|r| r.evaluate(state_of)),
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
            Rule::Any(vec![
                Rule::InState(StateValue::Alarm, "cpu".into()),
                Rule::All(vec![
                    Rule::InState(StateValue::Ok, "mem".into()),
                    Rule::Not(Box::new(Rule::Constant(false))),
                ]),
            ])
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

    #[test]
    fn deep_nesting_is_refused_without_recursing() {
        // The campaign's crash: ~3,000 nested parentheses, 6 KB, under AlarmRule's 10,240.
        let rule = format!("{}ALARM(cpu){}", "(".repeat(3000), ")".repeat(3000));
        let err = parse(&rule).unwrap_err();
        assert!(err.contains("as many as 500 elements"), "{err}");
        assert!(err.contains("6001 elements"), "{err}");
        // NOTs are no elements but nest: refused by the nesting limit.
        let nots = format!("{}ALARM(cpu)", "NOT ".repeat(2500));
        let err = parse(&nots).unwrap_err();
        assert_eq!(err, "The rule is nested more than 100 levels deep");
    }

    #[test]
    fn limits_are_inclusive() {
        let at_limit = format!(
            "{}ALARM(cpu){}",
            "(".repeat(MAX_NESTING),
            ")".repeat(MAX_NESTING)
        );
        let rule = parse(&at_limit).unwrap();
        assert!(rule.evaluate(&states));
        let over = format!(
            "{}ALARM(cpu){}",
            "(".repeat(MAX_NESTING + 1),
            ")".repeat(MAX_NESTING + 1)
        );
        assert!(parse(&over).is_err());
        // 100 distinct children, joined by OR: one flat node of 100 operands.
        let names: Vec<String> = (0..MAX_CHILDREN).map(|i| format!("ALARM(a{i})")).collect();
        let wide = parse(&names.join(" OR ")).unwrap();
        assert_eq!(wide.alarm_names().len(), 100);
        assert!(matches!(&wide, Rule::Any(operands) if operands.len() == 100));
        let too_many = format!("{} OR ALARM(a100)", names.join(" OR "));
        let err = parse(&too_many).unwrap_err();
        assert!(err.contains("as many as 100 underlying alarms"), "{err}");
        // 500 elements pass, 501 do not (TRUE counts as one).
        let trues = vec!["TRUE"; MAX_ELEMENTS].join(" AND ");
        assert!(parse(&trues).unwrap().evaluate(&states));
        let err = parse(&format!("{trues} AND FALSE")).unwrap_err();
        assert!(err.contains("501 elements"), "{err}");
    }

    #[test]
    fn long_operator_runs_are_one_node() {
        let rule = parse(&vec!["ALARM(cpu)"; 400].join(" AND ")).unwrap();
        assert!(matches!(&rule, Rule::All(operands) if operands.len() == 400));
        assert!(rule.evaluate(&states));
        assert_eq!(rule.alarm_names(), vec!["cpu"]);
    }
}

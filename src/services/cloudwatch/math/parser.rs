//! Recursive-descent parser from tokens to the expression tree.
//!
//! Precedence, lowest first: `OR`/`||`, `AND`/`&&`, comparisons, `+ -`, `* /`, unary minus,
//! `^` (right-associative, so `-2^2` is `-(2^2)` as in ordinary notation). AWS does not
//! document a precedence table, so the conventional one is used.
//!
//! Runs of operators of one precedence level become a single [`NodeKind::Chain`] evaluated
//! in a loop: a 2,000-character `m1+m1+...` stays one level deep instead of producing a
//! tree the evaluator would have to recurse through. Real nesting (parentheses, calls,
//! arrays, unary minus, exponents) is capped at [`MAX_DEPTH`] so hostile input cannot
//! exhaust the stack.
//!
//! After parsing, a validation pass enforces where strings and bare keywords may appear
//! (METRICS/SEARCH strings, FILL's REPEAT/LINEAR, SORT's function and order) and checks the
//! SEARCH arguments, so misuse is reported at parse time with a position.

use super::lexer::{tokenize, Token, TokenKind};
use super::search::SearchQuery;
use super::{MathError, SearchCall};

/// Deepest nesting of parentheses, calls, arrays and unary operators accepted.
pub(super) const MAX_DEPTH: usize = 64;

/// A node of the expression tree with the character position it starts at.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct Node {
    pub position: usize,
    pub kind: NodeKind,
}

/// What a node is.
#[derive(Debug, Clone, PartialEq)]
pub(super) enum NodeKind {
    Number(f64),
    /// Raw string literal content (backslashes kept).
    Str(String),
    /// Reference to another query of the request by its id.
    Id(String),
    /// An uppercase bare word used as an argument (REPEAT, LINEAR, ASC, DESC, AVG, ...).
    Keyword(String),
    /// `[a, b, ...]`: an array of time series.
    Array(Vec<Node>),
    /// Unary minus.
    Negate(Box<Node>),
    /// `first op1 x1 op2 x2 ...`, applied left to right; the usize is the operator position.
    Chain {
        first: Box<Node>,
        rest: Vec<(BinaryOp, usize, Node)>,
    },
    Call {
        function: Function,
        args: Vec<Node>,
    },
}

/// Binary operators of metric math.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum BinaryOp {
    Add,
    Subtract,
    Multiply,
    Divide,
    Power,
    Less,
    LessEq,
    Greater,
    GreaterEq,
    Equal,
    NotEqual,
    And,
    Or,
}

impl BinaryOp {
    pub(super) fn symbol(self) -> &'static str {
        match self {
            BinaryOp::Add => "+",
            BinaryOp::Subtract => "-",
            BinaryOp::Multiply => "*",
            BinaryOp::Divide => "/",
            BinaryOp::Power => "^",
            BinaryOp::Less => "<",
            BinaryOp::LessEq => "<=",
            BinaryOp::Greater => ">",
            BinaryOp::GreaterEq => ">=",
            BinaryOp::Equal => "==",
            BinaryOp::NotEqual => "!=",
            BinaryOp::And => "AND",
            BinaryOp::Or => "OR",
        }
    }
}

macro_rules! functions {
    ($($variant:ident => $name:literal, $min:literal, $max:expr, $expected:literal;)*) => {
        /// The functions of the "Metric math syntax and functions" table.
        #[derive(Debug, Clone, Copy, PartialEq, Eq)]
        pub(super) enum Function { $($variant),* }

        impl Function {
            fn from_name(name: &str) -> Option<Function> {
                match name {
                    $($name => Some(Function::$variant),)*
                    _ => None,
                }
            }

            pub(super) fn name(self) -> &'static str {
                match self { $(Function::$variant => $name),* }
            }

            /// Minimum and maximum argument counts, and how to describe them in errors.
            fn arity(self) -> (usize, Option<usize>, &'static str) {
                match self { $(Function::$variant => ($min, $max, $expected)),* }
            }
        }
    };
}

functions! {
    Abs => "ABS", 1, Some(1), "1";
    AnomalyDetectionBand => "ANOMALY_DETECTION_BAND", 1, Some(2), "1 or 2";
    Avg => "AVG", 1, Some(1), "1";
    Ceil => "CEIL", 1, Some(1), "1";
    DatapointCount => "DATAPOINT_COUNT", 1, Some(1), "1";
    Date => "DATE", 1, Some(1), "1";
    Day => "DAY", 1, Some(1), "1";
    DbPerfInsights => "DB_PERF_INSIGHTS", 1, None, "at least 1";
    Diff => "DIFF", 1, Some(1), "1";
    DiffTime => "DIFF_TIME", 1, Some(1), "1";
    Epoch => "EPOCH", 1, Some(1), "1";
    Fill => "FILL", 2, Some(2), "2";
    First => "FIRST", 1, Some(1), "1";
    Floor => "FLOOR", 1, Some(1), "1";
    Hour => "HOUR", 1, Some(1), "1";
    If => "IF", 2, Some(3), "2 or 3";
    InsightRuleMetric => "INSIGHT_RULE_METRIC", 2, Some(2), "2";
    Lambda => "LAMBDA", 1, None, "at least 1";
    Last => "LAST", 1, Some(1), "1";
    Log => "LOG", 1, Some(1), "1";
    Log10 => "LOG10", 1, Some(1), "1";
    Max => "MAX", 1, Some(1), "1";
    MetricCount => "METRIC_COUNT", 1, Some(1), "1";
    Metrics => "METRICS", 0, Some(1), "0 or 1";
    Min => "MIN", 1, Some(1), "1";
    Minute => "MINUTE", 1, Some(1), "1";
    Month => "MONTH", 1, Some(1), "1";
    Period => "PERIOD", 1, Some(1), "1";
    Rate => "RATE", 1, Some(1), "1";
    RemoveEmpty => "REMOVE_EMPTY", 1, Some(1), "1";
    RunningSum => "RUNNING_SUM", 1, Some(1), "1";
    Search => "SEARCH", 2, Some(3), "2 or 3";
    ServiceQuota => "SERVICE_QUOTA", 1, Some(1), "1";
    Slice => "SLICE", 2, Some(3), "2 or 3";
    Sort => "SORT", 3, Some(4), "3 or 4";
    Stddev => "STDDEV", 1, Some(1), "1";
    Sum => "SUM", 1, Some(1), "1";
    TimeSeries => "TIME_SERIES", 1, Some(1), "1";
    Year => "YEAR", 1, Some(1), "1";
}

impl Function {
    /// Documented functions whose data comes from services outside the metric store; they
    /// parse (so alarms using them can be stored) but cannot be evaluated here.
    pub(super) fn is_external(self) -> bool {
        matches!(
            self,
            Function::AnomalyDetectionBand
                | Function::InsightRuleMetric
                | Function::ServiceQuota
                | Function::Lambda
                | Function::DbPerfInsights
        )
    }
}

/// Parses a whole expression and validates argument placement.
pub(super) fn parse(text: &str) -> Result<Node, MathError> {
    let tokens = tokenize(text)?;
    let mut parser = Parser {
        tokens,
        index: 0,
        depth: 0,
    };
    if parser.peek() == &TokenKind::End {
        return Err(MathError::Syntax {
            position: 0,
            detail: "the expression is empty".to_string(),
        });
    }
    let root = parser.expression()?;
    let trailing = parser.current();
    if trailing.kind != TokenKind::End {
        return Err(MathError::Syntax {
            position: trailing.position,
            detail: format!("unexpected {}", describe(&trailing.kind)),
        });
    }
    validate(&root)?;
    Ok(root)
}

struct Parser {
    tokens: Vec<Token>,
    index: usize,
    depth: usize,
}

impl Parser {
    fn current(&self) -> Token {
        self.tokens
            .get(self.index)
            .cloned()
            .unwrap_or_else(|| Token {
                kind: TokenKind::End,
                position: self.tokens.last().map_or(0, |token| token.position),
            })
    }

    fn peek(&self) -> &TokenKind {
        self.tokens
            .get(self.index)
            .map_or(&TokenKind::End, |token| &token.kind)
    }

    fn advance(&mut self) -> Token {
        let token = self.current();
        if self.index < self.tokens.len() {
            self.index += 1;
        }
        token
    }

    fn consume(&mut self, kind: &TokenKind, what: &str) -> Result<Token, MathError> {
        let token = self.current();
        if &token.kind == kind {
            Ok(self.advance())
        } else {
            Err(MathError::Syntax {
                position: token.position,
                detail: format!("expected {what} but found {}", describe(&token.kind)),
            })
        }
    }

    fn expression(&mut self) -> Result<Node, MathError> {
        self.chain(Level::Or)
    }

    /// Parses one precedence level as a flat chain of the next-higher level.
    fn chain(&mut self, level: Level) -> Result<Node, MathError> {
        let first = self.operand_of(level)?;
        let mut rest = Vec::new();
        while let Some(op) = level.operator(self.peek()) {
            let position = self.advance().position;
            rest.push((op, position, self.operand_of(level)?));
        }
        if rest.is_empty() {
            return Ok(first);
        }
        Ok(Node {
            position: first.position,
            kind: NodeKind::Chain {
                first: Box::new(first),
                rest,
            },
        })
    }

    fn operand_of(&mut self, level: Level) -> Result<Node, MathError> {
        match level.next() {
            Some(next) => self.chain(next),
            None => self.unary(),
        }
    }

    fn unary(&mut self) -> Result<Node, MathError> {
        let position = self.current().position;
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return Err(MathError::TooDeep {
                position,
                limit: MAX_DEPTH,
            });
        }
        let result = if self.peek() == &TokenKind::Minus {
            self.advance();
            self.unary().map(|operand| Node {
                position,
                kind: NodeKind::Negate(Box::new(operand)),
            })
        } else {
            self.power()
        };
        self.depth -= 1;
        result
    }

    fn power(&mut self) -> Result<Node, MathError> {
        let base = self.primary()?;
        if self.peek() != &TokenKind::Caret {
            return Ok(base);
        }
        let position = self.advance().position;
        let exponent = self.unary()?;
        Ok(Node {
            position: base.position,
            kind: NodeKind::Chain {
                first: Box::new(base),
                rest: vec![(BinaryOp::Power, position, exponent)],
            },
        })
    }

    fn primary(&mut self) -> Result<Node, MathError> {
        let token = self.advance();
        let position = token.position;
        let kind = match token.kind {
            TokenKind::Number(value) => NodeKind::Number(value),
            TokenKind::Str(text) => NodeKind::Str(text),
            TokenKind::LParen => {
                let inner = self.expression()?;
                self.consume(&TokenKind::RParen, "')'")?;
                return Ok(inner);
            }
            TokenKind::LBracket => NodeKind::Array(self.list(&TokenKind::RBracket, "']'")?),
            TokenKind::Word(word) if self.peek() == &TokenKind::LParen => {
                let function =
                    Function::from_name(&word).ok_or_else(|| MathError::UnknownFunction {
                        position,
                        name: word.clone(),
                    })?;
                self.advance();
                let args = self.list(&TokenKind::RParen, "')'")?;
                let (min, max, expected) = function.arity();
                if args.len() < min || max.is_some_and(|max| args.len() > max) {
                    return Err(MathError::ArgumentCount {
                        position,
                        name: word,
                        expected,
                        found: args.len(),
                    });
                }
                NodeKind::Call { function, args }
            }
            TokenKind::Word(word) if word == "AND" || word == "OR" => {
                return Err(MathError::Syntax {
                    position,
                    detail: format!("unexpected {word}"),
                })
            }
            TokenKind::Word(word) if word.starts_with(|c: char| c.is_ascii_lowercase()) => {
                NodeKind::Id(word)
            }
            TokenKind::Word(word) if word.starts_with(|c: char| c.is_ascii_uppercase()) => {
                NodeKind::Keyword(word)
            }
            other => {
                return Err(MathError::Syntax {
                    position,
                    detail: format!("unexpected {}", describe(&other)),
                })
            }
        };
        Ok(Node { position, kind })
    }

    /// Comma-separated expressions up to `close`, which is consumed; may be empty.
    fn list(&mut self, close: &TokenKind, what: &str) -> Result<Vec<Node>, MathError> {
        let mut items = Vec::new();
        if self.peek() == close {
            self.advance();
            return Ok(items);
        }
        loop {
            items.push(self.expression()?);
            if self.peek() == &TokenKind::Comma {
                self.advance();
                continue;
            }
            self.consume(close, what)?;
            return Ok(items);
        }
    }
}

/// Precedence levels above unary, lowest first.
#[derive(Clone, Copy)]
enum Level {
    Or,
    And,
    Comparison,
    Additive,
    Multiplicative,
}

impl Level {
    fn next(self) -> Option<Level> {
        match self {
            Level::Or => Some(Level::And),
            Level::And => Some(Level::Comparison),
            Level::Comparison => Some(Level::Additive),
            Level::Additive => Some(Level::Multiplicative),
            Level::Multiplicative => None,
        }
    }

    fn operator(self, kind: &TokenKind) -> Option<BinaryOp> {
        match (self, kind) {
            (Level::Or, TokenKind::OrOr) => Some(BinaryOp::Or),
            (Level::Or, TokenKind::Word(word)) if word == "OR" => Some(BinaryOp::Or),
            (Level::And, TokenKind::AndAnd) => Some(BinaryOp::And),
            (Level::And, TokenKind::Word(word)) if word == "AND" => Some(BinaryOp::And),
            (Level::Comparison, TokenKind::Less) => Some(BinaryOp::Less),
            (Level::Comparison, TokenKind::LessEq) => Some(BinaryOp::LessEq),
            (Level::Comparison, TokenKind::Greater) => Some(BinaryOp::Greater),
            (Level::Comparison, TokenKind::GreaterEq) => Some(BinaryOp::GreaterEq),
            (Level::Comparison, TokenKind::EqEq) => Some(BinaryOp::Equal),
            (Level::Comparison, TokenKind::NotEq) => Some(BinaryOp::NotEqual),
            (Level::Additive, TokenKind::Plus) => Some(BinaryOp::Add),
            (Level::Additive, TokenKind::Minus) => Some(BinaryOp::Subtract),
            (Level::Multiplicative, TokenKind::Star) => Some(BinaryOp::Multiply),
            (Level::Multiplicative, TokenKind::Slash) => Some(BinaryOp::Divide),
            _ => None,
        }
    }
}

fn describe(kind: &TokenKind) -> String {
    match kind {
        TokenKind::Number(value) => format!("number {value}"),
        TokenKind::Str(_) => "a string".to_string(),
        TokenKind::Word(word) => format!("'{word}'"),
        TokenKind::LParen => "'('".to_string(),
        TokenKind::RParen => "')'".to_string(),
        TokenKind::LBracket => "'['".to_string(),
        TokenKind::RBracket => "']'".to_string(),
        TokenKind::Comma => "','".to_string(),
        TokenKind::Plus => "'+'".to_string(),
        TokenKind::Minus => "'-'".to_string(),
        TokenKind::Star => "'*'".to_string(),
        TokenKind::Slash => "'/'".to_string(),
        TokenKind::Caret => "'^'".to_string(),
        TokenKind::Less => "'<'".to_string(),
        TokenKind::LessEq => "'<='".to_string(),
        TokenKind::Greater => "'>'".to_string(),
        TokenKind::GreaterEq => "'>='".to_string(),
        TokenKind::EqEq => "'=='".to_string(),
        TokenKind::NotEq => "'!='".to_string(),
        TokenKind::AndAnd => "'&&'".to_string(),
        TokenKind::OrOr => "'||'".to_string(),
        TokenKind::End => "end of expression".to_string(),
    }
}

/// What a call argument may be besides an ordinary value expression.
#[derive(Clone, Copy)]
enum Slot {
    Value,
    /// A string literal (METRICS filter, SEARCH text and statistic).
    String,
    /// One of the listed bare keywords, or a value expression if `or_value`.
    Keyword {
        allowed: &'static [&'static str],
        or_value: bool,
    },
    /// Anything: arguments of functions this engine does not evaluate.
    Opaque,
}

fn slot(function: Function, index: usize) -> Slot {
    const FILL_MODES: &[&str] = &["REPEAT", "LINEAR"];
    const SORT_FUNCTIONS: &[&str] = &["AVG", "MIN", "MAX", "SUM"];
    const SORT_ORDERS: &[&str] = &["ASC", "DESC"];
    match (function, index) {
        (f, _) if f.is_external() => Slot::Opaque,
        (Function::Metrics, 0) | (Function::Search, 0 | 1) => Slot::String,
        (Function::Fill, 1) => Slot::Keyword {
            allowed: FILL_MODES,
            or_value: true,
        },
        (Function::Sort, 1) => Slot::Keyword {
            allowed: SORT_FUNCTIONS,
            or_value: false,
        },
        (Function::Sort, 2) => Slot::Keyword {
            allowed: SORT_ORDERS,
            or_value: false,
        },
        _ => Slot::Value,
    }
}

/// Checks strings and keywords appear only where functions accept them, and that SEARCH
/// and PERIOD have the argument shapes AWS documents.
fn validate(node: &Node) -> Result<(), MathError> {
    match &node.kind {
        NodeKind::Number(_) | NodeKind::Id(_) => Ok(()),
        NodeKind::Str(_) => Err(MathError::ArgumentType {
            position: node.position,
            detail: "a string is only valid as an argument of METRICS or SEARCH".to_string(),
        }),
        NodeKind::Keyword(word) => Err(if Function::from_name(word).is_some() {
            MathError::Syntax {
                position: node.position,
                detail: format!("function {word} must be followed by '('"),
            }
        } else {
            MathError::Syntax {
                position: node.position,
                detail: format!("unexpected word '{word}'; ids must start with a lowercase letter"),
            }
        }),
        NodeKind::Array(items) => items.iter().try_for_each(validate),
        NodeKind::Negate(operand) => validate(operand),
        NodeKind::Chain { first, rest } => {
            validate(first)?;
            rest.iter()
                .try_for_each(|(_, _, operand)| validate(operand))
        }
        NodeKind::Call { function, args } => {
            for (index, arg) in args.iter().enumerate() {
                validate_argument(*function, index, arg)?;
            }
            match function {
                Function::Search => validate_search(args),
                Function::Period => match args.first().map(|arg| &arg.kind) {
                    Some(NodeKind::Id(_)) => Ok(()),
                    _ => Err(MathError::ArgumentType {
                        position: args.first().map_or(node.position, |arg| arg.position),
                        detail: "PERIOD accepts only the id of a metric, not the result of another expression".to_string(),
                    }),
                },
                _ => Ok(()),
            }
        }
    }
}

fn validate_argument(function: Function, index: usize, arg: &Node) -> Result<(), MathError> {
    match (slot(function, index), &arg.kind) {
        (Slot::Opaque, _) => Ok(()),
        (Slot::String, NodeKind::Str(_)) => Ok(()),
        (Slot::String, _) => Err(MathError::ArgumentType {
            position: arg.position,
            detail: format!(
                "argument {} of {} must be a quoted string",
                index + 1,
                function.name()
            ),
        }),
        (Slot::Keyword { allowed, .. }, NodeKind::Keyword(word))
            if allowed.contains(&word.as_str()) =>
        {
            Ok(())
        }
        (Slot::Keyword { allowed, or_value }, kind)
            if !or_value || matches!(kind, NodeKind::Keyword(_)) =>
        {
            Err(MathError::InvalidArgument {
                position: arg.position,
                detail: format!(
                    "argument {} of {} must be {}",
                    index + 1,
                    function.name(),
                    allowed.join(" or ")
                ),
            })
        }
        _ => validate(arg),
    }
}

fn validate_search(args: &[Node]) -> Result<(), MathError> {
    if let Some(Node {
        position: text_position,
        kind: NodeKind::Str(text),
    }) = args.first()
    {
        // The search text starts one character after the opening quote.
        SearchQuery::parse(text).map_err(|error| error.shifted(text_position + 1))?;
    }
    if let Some(Node {
        position,
        kind: NodeKind::Str(statistic),
    }) = args.get(1)
    {
        if statistic.trim().is_empty() {
            return Err(MathError::InvalidArgument {
                position: *position,
                detail: "the SEARCH statistic must not be empty".to_string(),
            });
        }
    }
    match args.get(2) {
        None => Ok(()),
        Some(Node {
            kind: NodeKind::Number(period),
            ..
        }) if *period >= 1.0 && period.fract() == 0.0 && *period <= i64::MAX as f64 => Ok(()),
        Some(arg) => Err(MathError::InvalidArgument {
            position: arg.position,
            detail: "the SEARCH period must be a positive whole number of seconds".to_string(),
        }),
    }
}

/// Ids referenced by the tree, in order of first appearance, without duplicates.
pub(super) fn referenced_ids(node: &Node, ids: &mut Vec<String>) {
    match &node.kind {
        NodeKind::Id(id) => {
            if !ids.contains(id) {
                ids.push(id.clone());
            }
        }
        NodeKind::Number(_) | NodeKind::Str(_) | NodeKind::Keyword(_) => {}
        NodeKind::Array(items) => items.iter().for_each(|item| referenced_ids(item, ids)),
        NodeKind::Negate(operand) => referenced_ids(operand, ids),
        NodeKind::Chain { first, rest } => {
            referenced_ids(first, ids);
            rest.iter()
                .for_each(|(_, _, operand)| referenced_ids(operand, ids));
        }
        // Arguments of external functions name rules and data sources, not queries.
        NodeKind::Call { function, .. } if function.is_external() => {}
        NodeKind::Call { args, .. } => args.iter().for_each(|arg| referenced_ids(arg, ids)),
    }
}

/// Every SEARCH call of the tree, in order of appearance.
pub(super) fn search_calls(node: &Node, calls: &mut Vec<SearchCall>) {
    match &node.kind {
        NodeKind::Number(_) | NodeKind::Str(_) | NodeKind::Keyword(_) | NodeKind::Id(_) => {}
        NodeKind::Array(items) => items.iter().for_each(|item| search_calls(item, calls)),
        NodeKind::Negate(operand) => search_calls(operand, calls),
        NodeKind::Chain { first, rest } => {
            search_calls(first, calls);
            rest.iter()
                .for_each(|(_, _, operand)| search_calls(operand, calls));
        }
        NodeKind::Call {
            function: Function::Search,
            args,
        } => {
            let text = |index: usize| match args.get(index).map(|arg| &arg.kind) {
                Some(NodeKind::Str(text)) => text.clone(),
                _ => String::new(),
            };
            let period = match args.get(2).map(|arg| &arg.kind) {
                // Validation guarantees a positive whole number within i64.
                Some(NodeKind::Number(period)) => Some(*period as i64),
                _ => None,
            };
            calls.push(SearchCall {
                expression: text(0),
                statistic: text(1),
                period,
            });
        }
        NodeKind::Call { args, .. } => args.iter().for_each(|arg| search_calls(arg, calls)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Renders a tree in prefix notation so expected shapes are easy to write.
    fn render(node: &Node) -> String {
        match &node.kind {
            NodeKind::Number(value) => format!("{value}"),
            NodeKind::Str(text) => format!("'{text}'"),
            NodeKind::Id(id) => id.clone(),
            NodeKind::Keyword(word) => word.clone(),
            NodeKind::Array(items) => format!(
                "[{}]",
                items.iter().map(render).collect::<Vec<_>>().join(" ")
            ),
            NodeKind::Negate(operand) => format!("(neg {})", render(operand)),
            NodeKind::Chain { first, rest } => {
                let mut out = render(first);
                for (op, _, operand) in rest {
                    out = format!("({} {out} {})", op.symbol(), render(operand));
                }
                out
            }
            NodeKind::Call { function, args } => format!(
                "({}{})",
                function.name(),
                args.iter()
                    .map(|arg| format!(" {}", render(arg)))
                    .collect::<String>()
            ),
        }
    }

    #[test]
    fn precedence_and_associativity() {
        let cases = [
            ("m1+m2*m3", "(+ m1 (* m2 m3))"),
            ("m1-m2-m3", "(- (- m1 m2) m3)"),
            ("-2^2", "(neg (^ 2 2))"),
            ("2^3^2", "(^ 2 (^ 3 2))"),
            ("2^-1", "(^ 2 (neg 1))"),
            ("-5*m1", "(* (neg 5) m1)"),
            ("m1 > 15 AND m2 > 15", "(AND (> m1 15) (> m2 15))"),
            ("a || b && c", "(OR a (AND b c))"),
            ("a OR b AND c == 1", "(OR a (AND b (== c 1)))"),
            ("(m1 + m2) / 2", "(/ (+ m1 m2) 2)"),
            ("SUM(-[m1, m2])", "(SUM (neg [m1 m2]))"),
            ("e1-MIN(e1)", "(- e1 (MIN e1))"),
            ("METRICS()", "(METRICS)"),
            ("SUM(METRICS(\"errors\"))", "(SUM (METRICS 'errors'))"),
            ("FILL(m1, REPEAT)", "(FILL m1 REPEAT)"),
            (
                "SORT(METRICS(), AVG, DESC, 10)",
                "(SORT (METRICS) AVG DESC 10)",
            ),
            ("IF(m1<400, m1)", "(IF (< m1 400) m1)"),
            ("PERIOD(m1)/60", "(/ (PERIOD m1) 60)"),
        ];
        for (text, expected) in cases {
            let node = parse(text).unwrap_or_else(|e| panic!("{text}: {e}"));
            assert_eq!(render(&node), expected, "{text}");
        }
    }

    #[test]
    fn long_operator_runs_stay_flat() {
        let text = vec!["m1"; 1000].join("+");
        let node = parse(&text).unwrap();
        match node.kind {
            NodeKind::Chain { rest, .. } => assert_eq!(rest.len(), 999),
            other => panic!("expected a chain, got {other:?}"),
        }
    }

    #[test]
    fn errors_carry_positions() {
        let cases: Vec<(&str, MathError)> = vec![
            (
                "FOO(m1)",
                MathError::UnknownFunction {
                    position: 0,
                    name: "FOO".into(),
                },
            ),
            (
                "m1 + abs(m1)",
                MathError::UnknownFunction {
                    position: 5,
                    name: "abs".into(),
                },
            ),
            (
                "m1 + SQRT(m1)",
                MathError::UnknownFunction {
                    position: 5,
                    name: "SQRT".into(),
                },
            ),
            (
                "ABS(m1, m2)",
                MathError::ArgumentCount {
                    position: 0,
                    name: "ABS".into(),
                    expected: "1",
                    found: 2,
                },
            ),
            (
                "",
                MathError::Syntax {
                    position: 0,
                    detail: "the expression is empty".into(),
                },
            ),
            (
                "m1 +",
                MathError::Syntax {
                    position: 4,
                    detail: "unexpected end of expression".into(),
                },
            ),
            (
                "(m1 + m2",
                MathError::Syntax {
                    position: 8,
                    detail: "expected ')' but found end of expression".into(),
                },
            ),
            (
                "m1 m2",
                MathError::Syntax {
                    position: 3,
                    detail: "unexpected 'm2'".into(),
                },
            ),
            (
                "m1 + AVG",
                MathError::Syntax {
                    position: 5,
                    detail: "function AVG must be followed by '('".into(),
                },
            ),
            (
                "m1 + Errors",
                MathError::Syntax {
                    position: 5,
                    detail: "unexpected word 'Errors'; ids must start with a lowercase letter"
                        .into(),
                },
            ),
            // Metric math has no NOT operator (the guide lists only AND/&& and OR/||).
            (
                "NOT(m1 > 1)",
                MathError::UnknownFunction {
                    position: 0,
                    name: "NOT".into(),
                },
            ),
            (
                "m1 AND NOT m2",
                MathError::Syntax {
                    position: 11,
                    detail: "unexpected 'm2'".into(),
                },
            ),
            (
                "FILL(m1, CONSTANT)",
                MathError::InvalidArgument {
                    position: 9,
                    detail: "argument 2 of FILL must be REPEAT or LINEAR".into(),
                },
            ),
            (
                "SORT(METRICS(), AVG, UP)",
                MathError::InvalidArgument {
                    position: 21,
                    detail: "argument 3 of SORT must be ASC or DESC".into(),
                },
            ),
            (
                "SORT(METRICS(), m1, ASC)",
                MathError::InvalidArgument {
                    position: 16,
                    detail: "argument 2 of SORT must be AVG or MIN or MAX or SUM".into(),
                },
            ),
            (
                "m1 + 'x'",
                MathError::ArgumentType {
                    position: 5,
                    detail: "a string is only valid as an argument of METRICS or SEARCH".into(),
                },
            ),
            (
                "METRICS(m1)",
                MathError::ArgumentType {
                    position: 8,
                    detail: "argument 1 of METRICS must be a quoted string".into(),
                },
            ),
            (
                "PERIOD(m1 * 2)",
                MathError::ArgumentType {
                    position: 7,
                    detail: "PERIOD accepts only the id of a metric, not the result of another expression".into(),
                },
            ),
            (
                "SEARCH('{AWS/EC2} x', 'Average', 0)",
                MathError::InvalidArgument {
                    position: 33,
                    detail: "the SEARCH period must be a positive whole number of seconds".into(),
                },
            ),
            (
                "SEARCH('{AWS/EC2', 'Average', 300)",
                MathError::Search {
                    position: 8,
                    detail: "the metric schema is missing its closing '}'".into(),
                },
            ),
        ];
        for (text, expected) in cases {
            assert_eq!(parse(text).unwrap_err(), expected, "{text}");
        }
    }

    #[test]
    fn nesting_is_capped() {
        let deep = format!(
            "{}m1{}",
            "(".repeat(MAX_DEPTH + 1),
            ")".repeat(MAX_DEPTH + 1)
        );
        assert!(matches!(parse(&deep), Err(MathError::TooDeep { .. })));
        let ok = format!(
            "{}m1{}",
            "(".repeat(MAX_DEPTH - 1),
            ")".repeat(MAX_DEPTH - 1)
        );
        assert!(parse(&ok).is_ok());
        let minus = format!("{}m1", "-".repeat(10_000));
        assert!(matches!(parse(&minus), Err(MathError::TooDeep { .. })));
        let calls = format!("{}m1{}", "ABS(".repeat(10_000), ")".repeat(10_000));
        assert!(matches!(parse(&calls), Err(MathError::TooDeep { .. })));
    }

    #[test]
    fn ids_and_search_calls_are_collected() {
        let node = parse(
            "m1 + SUM([m2, e1]) / m1 + PERIOD(m3) + FILL(SEARCH(' {AWS/EC2,InstanceId} MetricName=\"CPUUtilization\" ', 'Average', 300), 0)",
        )
        .unwrap();
        let mut ids = Vec::new();
        referenced_ids(&node, &mut ids);
        assert_eq!(ids, vec!["m1", "m2", "e1", "m3"]);
        let mut calls = Vec::new();
        search_calls(&node, &mut calls);
        assert_eq!(
            calls,
            vec![SearchCall {
                expression: " {AWS/EC2,InstanceId} MetricName=\"CPUUtilization\" ".into(),
                statistic: "Average".into(),
                period: Some(300),
            }]
        );
        let external = parse("INSIGHT_RULE_METRIC(myRule, UniqueContributors)").unwrap();
        let mut ids = Vec::new();
        referenced_ids(&external, &mut ids);
        assert!(ids.is_empty());
    }
}

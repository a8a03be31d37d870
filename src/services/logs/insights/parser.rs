//! Recursive-descent parser turning query text into [`Command`]s.
//!
//! Precedence, loosest first: `or`, `and`, `not`, comparisons (`=`, `!=`, `<`,
//! `<=`, `>`, `>=`, `like`, `=~`, `in`, `not like`, `not in`), `+ -`, `* / %`,
//! unary minus, `^`. Keywords and function names are case-insensitive, field
//! names are not. Nesting is capped so that hostile input yields an error instead
//! of exhausting the stack, both here and later when the tree is evaluated.

use std::collections::{HashMap, VecDeque};

use regex::{Regex, RegexBuilder};

use super::ast::{
    visit_slots, AggregateKind, AggregateSpec, ArithmeticOp, Command, CompareOp, Expr, LikePattern,
    ParseCommand, ParsePattern, Projection, Slot, SortKey, StatsCommand,
};
use super::functions::{Period, ScalarFunction, TimeFunction};
use super::lexer::{Lexer, Span, SyntaxError, Token, TokenKind};
use super::value::Value;

/// Deepest expression tree accepted; evaluation recurses this deep at most.
const MAX_EXPRESSION_DEPTH: usize = 64;
/// The largest `limit` AWS documents for a query.
pub(super) const MAX_LIMIT: usize = 100_000;
const MAX_STATS_COMMANDS: usize = 2;
/// Compiled-size cap per regular expression, so a query cannot claim unbounded memory.
const REGEX_SIZE_LIMIT: usize = 1 << 20;

const RESERVED_WORDS: &[&str] = &["and", "or", "not", "in", "like", "as", "by", "asc", "desc"];

/// Commands AWS offers that this engine does not run.
const UNSUPPORTED_COMMANDS: &[&str] = &[
    "pattern",
    "diff",
    "anomaly",
    "unnest",
    "lookup",
    "join",
    "filterindex",
    "unmask",
    "source",
    "addtotals",
];

pub(super) struct ParsedQuery {
    pub commands: Vec<Command>,
    pub slot_names: Vec<String>,
}

pub(super) fn parse_query(source: &str) -> Result<ParsedQuery, SyntaxError> {
    let mut parser = Parser {
        source,
        lexer: Lexer::new(source),
        lookahead: VecDeque::new(),
        last_end: 0,
        slot_names: Vec::new(),
        slot_index: HashMap::new(),
        aggregates: None,
        nesting: 0,
    };
    let commands = parser.query()?;
    Ok(ParsedQuery {
        commands,
        slot_names: parser.slot_names,
    })
}

struct Parser<'s> {
    source: &'s str,
    lexer: Lexer<'s>,
    lookahead: VecDeque<Token>,
    /// End of the last token consumed, to take the source text of an expression.
    last_end: usize,
    slot_names: Vec<String>,
    slot_index: HashMap<String, Slot>,
    /// Collects aggregate calls while a `stats` item is being parsed; `None`
    /// elsewhere, which is what makes an aggregate outside `stats` an error.
    aggregates: Option<Vec<AggregateSpec>>,
    nesting: usize,
}

type Parsed = Result<(Expr, usize), SyntaxError>;

fn describe(token: &Token, source: &str) -> String {
    match token.kind {
        TokenKind::End => "end of query".to_owned(),
        _ => format!(
            "'{}'",
            source.get(token.span.start..token.span.end).unwrap_or("")
        ),
    }
}

fn is_reserved(word: &str) -> bool {
    RESERVED_WORDS.iter().any(|r| r.eq_ignore_ascii_case(word))
}

impl<'s> Parser<'s> {
    fn fill(&mut self, count: usize) -> Result<(), SyntaxError> {
        while self.lookahead.len() < count {
            let token = self.lexer.next_token()?;
            self.lookahead.push_back(token);
        }
        Ok(())
    }

    fn peek(&mut self) -> Result<&Token, SyntaxError> {
        self.fill(1)?;
        self.lookahead
            .front()
            .ok_or_else(|| SyntaxError::new(Span { start: 0, end: 0 }, "internal lookahead error"))
    }

    fn peek_second(&mut self) -> Result<&Token, SyntaxError> {
        self.fill(2)?;
        self.lookahead
            .get(1)
            .ok_or_else(|| SyntaxError::new(Span { start: 0, end: 0 }, "internal lookahead error"))
    }

    fn advance(&mut self) -> Result<Token, SyntaxError> {
        self.fill(1)?;
        let token = self.lookahead.pop_front().ok_or_else(|| {
            SyntaxError::new(Span { start: 0, end: 0 }, "internal lookahead error")
        })?;
        self.last_end = token.span.end;
        Ok(token)
    }

    fn unexpected(&self, token: &Token, expected: &str) -> SyntaxError {
        SyntaxError::new(
            token.span,
            format!(
                "unexpected {}; expected {expected}",
                describe(token, self.source)
            ),
        )
    }

    fn expect(&mut self, kind: &TokenKind, expected: &str) -> Result<Token, SyntaxError> {
        let token = self.advance()?;
        if &token.kind == kind {
            Ok(token)
        } else {
            Err(self.unexpected(&token, expected))
        }
    }

    fn next_is_keyword(&mut self, keyword: &str) -> Result<bool, SyntaxError> {
        Ok(self.peek()?.is_keyword(keyword))
    }

    fn slot(&mut self, name: &str) -> Slot {
        if let Some(slot) = self.slot_index.get(name) {
            return *slot;
        }
        let slot = self.slot_names.len();
        self.slot_names.push(name.to_owned());
        self.slot_index.insert(name.to_owned(), slot);
        slot
    }

    fn text(&self, start: usize, end: usize) -> String {
        self.source.get(start..end).unwrap_or("").trim().to_owned()
    }

    fn query(&mut self) -> Result<Vec<Command>, SyntaxError> {
        if self.peek()?.kind == TokenKind::End {
            let span = self.peek()?.span;
            return Err(SyntaxError::new(span, "the query is empty"));
        }
        let mut commands: Vec<(Command, Span)> = Vec::new();
        loop {
            let start = self.peek()?.span;
            let command = self.command()?;
            commands.push((
                command,
                start.to(Span {
                    start: self.last_end,
                    end: self.last_end,
                }),
            ));
            let token = self.advance()?;
            match token.kind {
                TokenKind::Pipe => continue,
                TokenKind::End => break,
                _ => return Err(self.unexpected(&token, "'|' or the end of the query")),
            }
        }
        validate(&commands)?;
        Ok(commands.into_iter().map(|(command, _)| command).collect())
    }

    fn command(&mut self) -> Result<Command, SyntaxError> {
        let token = self.advance()?;
        let TokenKind::Word(word) = &token.kind else {
            return Err(self.unexpected(&token, "a command such as fields, filter or stats"));
        };
        let lower = word.to_ascii_lowercase();
        match lower.as_str() {
            "fields" => Ok(Command::Fields(self.projections()?)),
            "display" => Ok(Command::Display(self.projections()?)),
            "filter" | "where" => Ok(Command::Filter(self.expression()?.0)),
            "stats" => self.stats(),
            "sort" => self.sort(),
            "limit" => self.limit(),
            "parse" => self.parse_command(),
            "dedup" => self.dedup(),
            _ if UNSUPPORTED_COMMANDS.contains(&lower.as_str()) => Err(SyntaxError::unsupported(
                token.span,
                format!("the '{word}' command is not supported by this emulator"),
            )),
            _ => Err(SyntaxError::new(
                token.span,
                format!("unknown command '{word}'"),
            )),
        }
    }

    fn name(&mut self, expected: &str) -> Result<(String, Span), SyntaxError> {
        let token = self.advance()?;
        match token.kind {
            TokenKind::Word(word) if !is_reserved(&word) => Ok((word, token.span)),
            TokenKind::QuotedName(name) => Ok((name, token.span)),
            _ => Err(self.unexpected(&token, expected)),
        }
    }

    fn alias(&mut self) -> Result<Option<String>, SyntaxError> {
        if self.next_is_keyword("as")? {
            self.advance()?;
            Ok(Some(self.name("a field name after 'as'")?.0))
        } else {
            Ok(None)
        }
    }

    fn comma(&mut self) -> Result<bool, SyntaxError> {
        if self.peek()?.kind == TokenKind::Comma {
            self.advance()?;
            Ok(true)
        } else {
            Ok(false)
        }
    }

    fn projections(&mut self) -> Result<Vec<Projection>, SyntaxError> {
        let mut projections = Vec::new();
        loop {
            let start = self.peek()?.span.start;
            let (expr, _) = self.expression()?;
            let written = self.text(start, self.last_end);
            let projection = match (self.alias()?, expr) {
                (None, Expr::Field(slot)) => Projection {
                    name: self.slot_names.get(slot).cloned().unwrap_or_default(),
                    slot,
                    compute: None,
                },
                (alias, expr) => {
                    let name = alias.unwrap_or(written);
                    Projection {
                        slot: self.slot(&name),
                        name,
                        compute: Some(expr),
                    }
                }
            };
            projections.push(projection);
            if !self.comma()? {
                return Ok(projections);
            }
        }
    }

    fn stats(&mut self) -> Result<Command, SyntaxError> {
        let mut aggregates: Vec<AggregateSpec> = Vec::new();
        let mut outputs: Vec<(String, Slot, Expr)> = Vec::new();
        loop {
            let start = self.peek()?.span.start;
            let count_before = aggregates.len();
            self.aggregates = Some(std::mem::take(&mut aggregates));
            let parsed = self.expression();
            aggregates = self.aggregates.take().unwrap_or_default();
            let (expr, _) = parsed?;
            let span = Span {
                start,
                end: self.last_end,
            };
            let written = self.text(start, self.last_end);
            let mut uses_earlier_output = false;
            let mut ignored = false;
            visit_slots(
                &expr,
                &mut |slot| uses_earlier_output |= outputs.iter().any(|(_, s, _)| *s == slot),
                &mut ignored,
            );
            if aggregates.len() == count_before && !uses_earlier_output {
                return Err(SyntaxError::new(
                    span,
                    format!("'{written}' in stats must use an aggregate function such as count(*) or avg(field)"),
                ));
            }
            let name = self.alias()?.unwrap_or(written);
            outputs.push((name.clone(), self.slot(&name), expr));
            if !self.comma()? {
                break;
            }
        }
        let mut group_by = Vec::new();
        if self.next_is_keyword("by")? {
            self.advance()?;
            loop {
                let start = self.peek()?.span.start;
                let (expr, _) = self.expression()?;
                let written = self.text(start, self.last_end);
                let name = match (self.alias()?, &expr) {
                    (Some(alias), _) => alias,
                    (None, Expr::Field(slot)) => {
                        self.slot_names.get(*slot).cloned().unwrap_or(written)
                    }
                    (None, _) => written,
                };
                group_by.push((name.clone(), self.slot(&name), expr));
                if !self.comma()? {
                    break;
                }
            }
        }
        Ok(Command::Stats(StatsCommand {
            aggregates,
            group_by,
            outputs,
        }))
    }

    fn sort(&mut self) -> Result<Command, SyntaxError> {
        let mut keys = Vec::new();
        loop {
            let (expr, _) = self.expression()?;
            let descending = if self.next_is_keyword("desc")? {
                self.advance()?;
                true
            } else {
                if self.next_is_keyword("asc")? {
                    self.advance()?;
                }
                false
            };
            keys.push(SortKey { expr, descending });
            if !self.comma()? {
                return Ok(Command::Sort(keys));
            }
        }
    }

    /// `limit N`, or `limit any N`, which AWS lets stop scanning once N events
    /// match and returns in no particular order; both are run the same way here.
    fn limit(&mut self) -> Result<Command, SyntaxError> {
        if self.next_is_keyword("any")? && matches!(self.peek_second()?.kind, TokenKind::Number(_))
        {
            self.advance()?;
        }
        let token = self.advance()?;
        let message = format!("limit must be a whole number from 1 to {MAX_LIMIT}");
        match token.kind {
            #[allow(clippy::cast_precision_loss)]
            TokenKind::Number(n) if n.fract() == 0.0 && (1.0..=MAX_LIMIT as f64).contains(&n) => {
                #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
                let rows = n as usize;
                Ok(Command::Limit(rows))
            }
            TokenKind::Number(_) => Err(SyntaxError::new(token.span, message)),
            _ => Err(self.unexpected(&token, "the number of rows to return")),
        }
    }

    fn dedup(&mut self) -> Result<Command, SyntaxError> {
        let mut slots = Vec::new();
        loop {
            let (name, _) = self.name("a field name")?;
            slots.push(self.slot(&name));
            if !self.comma()? {
                return Ok(Command::Dedup(slots));
            }
        }
    }

    fn parse_command(&mut self) -> Result<Command, SyntaxError> {
        // The source field is optional; without one, parse reads @message.
        let names_source = match &self.peek()?.kind {
            TokenKind::Word(word) => !is_reserved(word),
            TokenKind::QuotedName(_) => true,
            _ => false,
        };
        let source = if names_source {
            let (name, _) = self.name("a field name")?;
            Expr::Field(self.slot(&name))
        } else {
            Expr::Field(self.slot("@message"))
        };
        let token = self.advance()?;
        let pattern = match token.kind {
            TokenKind::Text(glob) => self.glob_pattern(&glob, token.span)?,
            TokenKind::Slash => {
                let regex_token = self.rescan_regex(token.span)?;
                let TokenKind::Regex(body) = &regex_token.kind else {
                    return Err(self.unexpected(&regex_token, "a regular expression"));
                };
                let regex = compile_regex(body, regex_token.span)?;
                let names: Vec<String> =
                    regex.capture_names().flatten().map(str::to_owned).collect();
                if names.is_empty() {
                    return Err(SyntaxError::new(
                        regex_token.span,
                        "the regular expression in parse must name its capturing groups, as in (?<name>...)",
                    ));
                }
                let targets = names
                    .into_iter()
                    .map(|name| {
                        let slot = self.slot(&name);
                        (name, slot)
                    })
                    .collect();
                ParsePattern::Regex { regex, targets }
            }
            _ => {
                return Err(
                    self.unexpected(&token, "a quoted glob pattern or a /regular expression/")
                )
            }
        };
        Ok(Command::Parse(ParseCommand { source, pattern }))
    }

    fn glob_pattern(&mut self, glob: &str, span: Span) -> Result<ParsePattern, SyntaxError> {
        let pieces: Vec<&str> = glob.split('*').collect();
        let wildcards = pieces.len().saturating_sub(1);
        if wildcards == 0 {
            return Err(SyntaxError::new(
                span,
                "the glob pattern in parse needs at least one '*' to extract",
            ));
        }
        if !self.next_is_keyword("as")? {
            let token = self.advance()?;
            return Err(self.unexpected(&token, "'as' and the names of the extracted fields"));
        }
        self.advance()?;
        let mut targets = Vec::new();
        let names_start = self.peek()?.span.start;
        loop {
            let (name, _) = self.name("a name for an extracted field")?;
            targets.push(self.slot(&name));
            if !self.comma()? {
                break;
            }
        }
        if targets.len() != wildcards {
            return Err(SyntaxError::new(
                Span {
                    start: names_start,
                    end: self.last_end,
                },
                format!(
                    "the glob pattern has {wildcards} '*' but {} field names follow 'as'",
                    targets.len()
                ),
            ));
        }
        // A glob is unanchored: "[*] *" finds the bracket wherever it first occurs.
        // Each `*` takes as little as it can, except a final one, which takes the rest.
        let mut pattern = String::from("(?s)");
        for (index, piece) in pieces.iter().enumerate() {
            if index > 0 {
                let is_last = index == pieces.len() - 1;
                pattern.push_str(if is_last && piece.is_empty() {
                    "(.*)"
                } else {
                    "(.*?)"
                });
            }
            pattern.push_str(&regex::escape(piece));
        }
        let regex = compile_regex(&pattern, span)?;
        Ok(ParsePattern::Glob { regex, targets })
    }

    fn rescan_regex(&mut self, slash: Span) -> Result<Token, SyntaxError> {
        // Anything looked at beyond the slash was read as ordinary tokens; drop it.
        self.lookahead.clear();
        let token = self.lexer.regex_from(slash.start)?;
        self.last_end = token.span.end;
        Ok(token)
    }

    fn check_depth(&self, depth: usize, span: Span) -> Result<(), SyntaxError> {
        if depth > MAX_EXPRESSION_DEPTH {
            Err(SyntaxError::new(
                span,
                format!("the expression is nested more than {MAX_EXPRESSION_DEPTH} levels deep"),
            ))
        } else {
            Ok(())
        }
    }

    /// Entry point for a full expression, also used inside parentheses and
    /// argument lists; counts recursion so that `((((...` cannot overflow the stack.
    fn expression(&mut self) -> Parsed {
        self.nesting += 1;
        let span = self.peek()?.span;
        self.check_depth(self.nesting, span)?;
        let result = self.or_expression();
        self.nesting -= 1;
        result
    }

    fn combine(
        &self,
        build: impl FnOnce(Box<Expr>, Box<Expr>) -> Expr,
        left: (Expr, usize),
        right: (Expr, usize),
        span: Span,
    ) -> Parsed {
        let depth = left.1.max(right.1) + 1;
        self.check_depth(depth, span)?;
        Ok((build(Box::new(left.0), Box::new(right.0)), depth))
    }

    fn or_expression(&mut self) -> Parsed {
        let mut left = self.and_expression()?;
        while self.next_is_keyword("or")? {
            let span = self.advance()?.span;
            let right = self.and_expression()?;
            left = self.combine(Expr::Or, left, right, span)?;
        }
        Ok(left)
    }

    fn and_expression(&mut self) -> Parsed {
        let mut left = self.not_expression()?;
        while self.next_is_keyword("and")? {
            let span = self.advance()?.span;
            let right = self.not_expression()?;
            left = self.combine(Expr::And, left, right, span)?;
        }
        Ok(left)
    }

    fn not_expression(&mut self) -> Parsed {
        if self.next_is_keyword("not")? {
            let span = self.advance()?.span;
            self.nesting += 1;
            self.check_depth(self.nesting, span)?;
            let (inner, depth) = self.not_expression()?;
            self.nesting -= 1;
            self.check_depth(depth + 1, span)?;
            return Ok((Expr::Not(Box::new(inner)), depth + 1));
        }
        self.comparison()
    }

    fn comparison(&mut self) -> Parsed {
        let left = self.additive()?;
        let token = self.peek()?.clone();
        let op = match token.kind {
            TokenKind::Equal => Some(CompareOp::Equal),
            TokenKind::NotEqual => Some(CompareOp::NotEqual),
            TokenKind::Less => Some(CompareOp::Less),
            TokenKind::LessEqual => Some(CompareOp::LessEqual),
            TokenKind::Greater => Some(CompareOp::Greater),
            TokenKind::GreaterEqual => Some(CompareOp::GreaterEqual),
            _ => None,
        };
        if let Some(op) = op {
            self.advance()?;
            let right = self.additive()?;
            return self.combine(|l, r| Expr::Compare(op, l, r), left, right, token.span);
        }
        let negated = token.is_keyword("not")
            && (self.peek_second()?.is_keyword("like") || self.peek_second()?.is_keyword("in"));
        if negated {
            self.advance()?;
        }
        let operator = self.peek()?.clone();
        if operator.kind == TokenKind::RegexMatch || operator.is_keyword("like") {
            self.advance()?;
            let pattern = self.like_pattern()?;
            let depth = left.1 + 1;
            self.check_depth(depth, operator.span)?;
            return Ok((
                Expr::Like {
                    subject: Box::new(left.0),
                    pattern,
                    negated,
                },
                depth,
            ));
        }
        if operator.is_keyword("in") {
            self.advance()?;
            let set = self.literal_list()?;
            let depth = left.1 + 1;
            self.check_depth(depth, operator.span)?;
            return Ok((
                Expr::In {
                    subject: Box::new(left.0),
                    set,
                    negated,
                },
                depth,
            ));
        }
        Ok(left)
    }

    fn like_pattern(&mut self) -> Result<LikePattern, SyntaxError> {
        let token = self.advance()?;
        match token.kind {
            TokenKind::Text(text) => Ok(LikePattern::Substring(text)),
            TokenKind::Slash => {
                let regex_token = self.rescan_regex(token.span)?;
                match &regex_token.kind {
                    TokenKind::Regex(body) => {
                        Ok(LikePattern::Regex(compile_regex(body, regex_token.span)?))
                    }
                    _ => Err(self.unexpected(&regex_token, "a regular expression")),
                }
            }
            _ => Err(self.unexpected(&token, "a quoted string or a /regular expression/")),
        }
    }

    fn literal_list(&mut self) -> Result<Vec<Value<'static>>, SyntaxError> {
        self.expect(&TokenKind::OpenBracket, "'[' to start the list of values")?;
        let mut values = Vec::new();
        if self.peek()?.kind == TokenKind::CloseBracket {
            self.advance()?;
            return Ok(values);
        }
        loop {
            let token = self.advance()?;
            let value = match token.kind {
                TokenKind::Number(n) => Value::Num(n),
                TokenKind::Text(text) => Value::Str(text.into()),
                TokenKind::Minus => match self.advance()? {
                    Token {
                        kind: TokenKind::Number(n),
                        ..
                    } => Value::Num(-n),
                    other => return Err(self.unexpected(&other, "a number")),
                },
                _ => return Err(self.unexpected(&token, "a number or a quoted string")),
            };
            values.push(value);
            let token = self.advance()?;
            match token.kind {
                TokenKind::Comma => continue,
                TokenKind::CloseBracket => return Ok(values),
                _ => return Err(self.unexpected(&token, "',' or ']'")),
            }
        }
    }

    fn additive(&mut self) -> Parsed {
        let mut left = self.multiplicative()?;
        loop {
            let token = self.peek()?.clone();
            let op = match token.kind {
                TokenKind::Plus => ArithmeticOp::Add,
                TokenKind::Minus => ArithmeticOp::Subtract,
                _ => return Ok(left),
            };
            self.advance()?;
            let right = self.multiplicative()?;
            left = self.combine(|l, r| Expr::Arithmetic(op, l, r), left, right, token.span)?;
        }
    }

    fn multiplicative(&mut self) -> Parsed {
        let mut left = self.unary()?;
        loop {
            let token = self.peek()?.clone();
            let op = match token.kind {
                TokenKind::Star => ArithmeticOp::Multiply,
                TokenKind::Slash => ArithmeticOp::Divide,
                TokenKind::Percent => ArithmeticOp::Remainder,
                _ => return Ok(left),
            };
            self.advance()?;
            let right = self.unary()?;
            left = self.combine(|l, r| Expr::Arithmetic(op, l, r), left, right, token.span)?;
        }
    }

    fn unary(&mut self) -> Parsed {
        if self.peek()?.kind == TokenKind::Minus {
            let span = self.advance()?.span;
            self.nesting += 1;
            self.check_depth(self.nesting, span)?;
            let (inner, depth) = self.unary()?;
            self.nesting -= 1;
            return Ok(match inner {
                Expr::Literal(Value::Num(n)) => (Expr::Literal(Value::Num(-n)), depth),
                inner => {
                    self.check_depth(depth + 1, span)?;
                    (Expr::Negate(Box::new(inner)), depth + 1)
                }
            });
        }
        self.power()
    }

    fn power(&mut self) -> Parsed {
        let base = self.primary()?;
        if self.peek()?.kind == TokenKind::Caret {
            let span = self.advance()?.span;
            self.nesting += 1;
            self.check_depth(self.nesting, span)?;
            let exponent = self.unary()?;
            self.nesting -= 1;
            return self.combine(
                |l, r| Expr::Arithmetic(ArithmeticOp::Power, l, r),
                base,
                exponent,
                span,
            );
        }
        Ok(base)
    }

    fn primary(&mut self) -> Parsed {
        let token = self.advance()?;
        match token.kind {
            TokenKind::Number(n) => Ok((Expr::Literal(Value::Num(n)), 1)),
            TokenKind::Text(text) => Ok((Expr::Literal(Value::Str(text.into())), 1)),
            TokenKind::QuotedName(name) => Ok((Expr::Field(self.slot(&name)), 1)),
            TokenKind::OpenParen => {
                let inner = self.expression()?;
                self.expect(&TokenKind::CloseParen, "')'")?;
                Ok(inner)
            }
            TokenKind::Word(ref word) => {
                if self.peek()?.kind == TokenKind::OpenParen {
                    return self.call(word, token.span);
                }
                if is_reserved(word) {
                    return Err(self.unexpected(&token, "a field name, a value or '('"));
                }
                Ok((Expr::Field(self.slot(word)), 1))
            }
            TokenKind::Duration { .. } => Err(SyntaxError::new(
                token.span,
                "a time period can only be an argument of bin, datefloor or dateceil",
            )),
            TokenKind::Slash => Err(SyntaxError::new(
                token.span,
                "a regular expression can only follow like, =~ or parse",
            )),
            _ => Err(self.unexpected(&token, "a field name, a value or '('")),
        }
    }

    fn period(&mut self) -> Result<Period, SyntaxError> {
        let token = self.advance()?;
        match &token.kind {
            TokenKind::Duration { amount, unit } => {
                Period::parse(amount, unit).map_err(|message| SyntaxError::new(token.span, message))
            }
            _ => Err(self.unexpected(&token, "a time period such as 5m or 1h")),
        }
    }

    fn call(&mut self, name: &str, name_span: Span) -> Parsed {
        let lower = name.to_ascii_lowercase();
        self.expect(&TokenKind::OpenParen, "'('")?;
        if let Some(function) = TimeFunction::lookup(&lower) {
            let subject = match function {
                TimeFunction::Bin => None,
                TimeFunction::DateFloor | TimeFunction::DateCeil => {
                    let subject = self.expression()?;
                    self.expect(&TokenKind::Comma, "',' and a time period")?;
                    Some(subject)
                }
            };
            let period = self.period()?;
            self.expect(&TokenKind::CloseParen, "')'")?;
            let depth = subject.as_ref().map_or(1, |(_, depth)| depth + 1);
            self.check_depth(depth, name_span)?;
            return Ok((
                Expr::RoundTime {
                    subject: subject.map(|(expr, _)| Box::new(expr)),
                    period,
                    up: function == TimeFunction::DateCeil,
                },
                depth,
            ));
        }
        if let Some(kind) = aggregate_kind(&lower) {
            return self.aggregate_call(name, kind, name_span);
        }
        let Some(function) = ScalarFunction::lookup(&lower) else {
            return Err(SyntaxError::new(
                name_span,
                format!("unknown function '{name}'"),
            ));
        };
        let mut arguments = Vec::new();
        let mut depth = 1;
        if self.peek()?.kind != TokenKind::CloseParen {
            loop {
                let (argument, argument_depth) = self.expression()?;
                depth = depth.max(argument_depth + 1);
                arguments.push(argument);
                if !self.comma()? {
                    break;
                }
            }
        }
        self.expect(&TokenKind::CloseParen, "',' or ')'")?;
        let (min, max) = function.arity();
        if arguments.len() < min || max.is_some_and(|max| arguments.len() > max) {
            let expected = match max {
                Some(max) if max == min => format!("{min}"),
                Some(max) => format!("{min} to {max}"),
                None => format!("at least {min}"),
            };
            return Err(SyntaxError::new(
                name_span.to(Span {
                    start: self.last_end,
                    end: self.last_end,
                }),
                format!(
                    "function '{name}' takes {expected} argument(s) but was given {}",
                    arguments.len()
                ),
            ));
        }
        self.check_depth(depth, name_span)?;
        Ok((Expr::Call(function, arguments), depth))
    }

    fn aggregate_call(&mut self, name: &str, kind: AggregateKind, name_span: Span) -> Parsed {
        // Taking the collector out both detects misuse and forbids nesting, as in
        // avg(count(*)), because the argument is parsed without it.
        let Some(mut collected) = self.aggregates.take() else {
            return Err(SyntaxError::new(
                name_span,
                format!("the aggregate function '{name}' can only be used in stats"),
            ));
        };
        let result = self.aggregate_arguments(name, kind, name_span);
        let spec = match result {
            Ok(spec) => spec,
            Err(error) => {
                self.aggregates = Some(collected);
                return Err(error);
            }
        };
        let index = collected.len();
        collected.push(spec);
        self.aggregates = Some(collected);
        Ok((Expr::Aggregate(index), 1))
    }

    fn aggregate_arguments(
        &mut self,
        name: &str,
        kind: AggregateKind,
        name_span: Span,
    ) -> Result<AggregateSpec, SyntaxError> {
        if kind == AggregateKind::Count {
            let counts_everything = match self.peek()?.kind {
                TokenKind::CloseParen => true,
                TokenKind::Star => self.peek_second()?.kind == TokenKind::CloseParen,
                _ => false,
            };
            if counts_everything {
                if self.peek()?.kind == TokenKind::Star {
                    self.advance()?;
                }
                self.advance()?;
                return Ok(AggregateSpec {
                    kind,
                    argument: None,
                });
            }
        }
        if self.peek()?.kind == TokenKind::CloseParen {
            return Err(SyntaxError::new(
                name_span,
                format!("the aggregate function '{name}' needs a field or expression"),
            ));
        }
        let (argument, _) = self.expression()?;
        let kind = if kind == AggregateKind::Percentile(0.0) {
            self.expect(
                &TokenKind::Comma,
                "',' and the percentile, as in pct(field, 95)",
            )?;
            let token = self.advance()?;
            match token.kind {
                TokenKind::Number(p) if (0.0..=100.0).contains(&p) => AggregateKind::Percentile(p),
                _ => {
                    return Err(SyntaxError::new(
                        token.span,
                        "the percentile must be a number from 0 to 100",
                    ))
                }
            }
        } else {
            kind
        };
        self.expect(&TokenKind::CloseParen, "')'")?;
        Ok(AggregateSpec {
            kind,
            argument: Some(argument),
        })
    }
}

fn aggregate_kind(lower_name: &str) -> Option<AggregateKind> {
    Some(match lower_name {
        "count" => AggregateKind::Count,
        "count_distinct" => AggregateKind::CountDistinct,
        "sum" => AggregateKind::Sum,
        "avg" => AggregateKind::Avg,
        "min" => AggregateKind::Min,
        "max" => AggregateKind::Max,
        "stddev" => AggregateKind::Stddev,
        // The real percentile is read from the second argument.
        "pct" => AggregateKind::Percentile(0.0),
        "earliest" => AggregateKind::Earliest,
        "latest" => AggregateKind::Latest,
        "sortsfirst" => AggregateKind::SortsFirst,
        "sortslast" => AggregateKind::SortsLast,
        _ => return None,
    })
}

pub(super) fn compile_regex(pattern: &str, span: Span) -> Result<Regex, SyntaxError> {
    RegexBuilder::new(pattern)
        .size_limit(REGEX_SIZE_LIMIT)
        .dfa_size_limit(REGEX_SIZE_LIMIT)
        .nest_limit(MAX_EXPRESSION_DEPTH as u32)
        .build()
        .map_err(|error| {
            let detail = error.to_string();
            let detail = detail
                .lines()
                .rev()
                .find(|line| line.starts_with("error:"))
                .map_or(detail.as_str(), |line| {
                    line.trim_start_matches("error:").trim()
                });
            SyntaxError::new(span, format!("invalid regular expression: {detail}"))
        })
}

/// Rules that concern the order of commands rather than any single one.
fn validate(commands: &[(Command, Span)]) -> Result<(), SyntaxError> {
    let mut stats_seen = 0;
    let mut dedup_seen = false;
    for (command, span) in commands {
        if dedup_seen && !matches!(command, Command::Limit(_)) {
            return Err(SyntaxError::new(*span, "only limit can follow dedup"));
        }
        match command {
            Command::Dedup(_) => dedup_seen = true,
            Command::Stats(_) => {
                stats_seen += 1;
                if stats_seen > MAX_STATS_COMMANDS {
                    return Err(SyntaxError::new(
                        *span,
                        format!("a query can contain at most {MAX_STATS_COMMANDS} stats commands"),
                    ));
                }
            }
            _ => {}
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn error_of(query: &str) -> Option<SyntaxError> {
        parse_query(query).err()
    }

    /// Every query from the AWS pages this engine claims to cover must parse.
    #[test]
    fn documented_queries_parse() {
        let queries = [
            "fields `foo-bar`, action, abs(f3-f4)",
            "fields concat(Operation, '-', StatusCode) as opStatus",
            "fields f1, f2, f3 | filter (duration>2000)",
            "filter (duration>2000)",
            "fields f1, f2 | filter (f1=10 or f3>25)",
            r"fields f1 | filter statusCode like /2\d\d/",
            "fields @timestamp, @message | filter statusCode in [300,400,500]",
            r#"fields @timestamp, @message | filter Type not in ["foo","bar",1]"#,
            "stats avg (f1) by f2",
            "fields f1, f2, f3 | sort f1 desc",
            "sort @timestamp desc | limit 25 | display f1, f2",
            r#"parse @message "[*] * The error was: *" as level, config, exception"#,
            r"parse @message /\[(?<level>\S+)\]\s+(?<config>\{.*\})\s+The error was: (?<exception>\S+)/",
            "fields @message | parse @message \"[*] *\" as loggingType, loggingMessage | filter loggingType = \"ERROR\" | display loggingMessage",
            "fields f1, f2, f3 | filter f1 like /(?i)Exception/",
            "fields f1, f2, f3 | filter f1 =~ /^(?i)Exception$/",
            "fields abs(myField) as AbsoluteValuemyField, myField2",
            "stats avg(f1) as myAvgF1 | sort myAvgF1 desc",
            "fields @timestamp, @message\n    # | filter @message like /delay/\n    | limit 20",
            "filter @message like /Exception/ \n    | stats count(*) as exceptionCount by bin(1h)\n    | sort exceptionCount desc",
            "fields @message | filter @message not like /Exception/",
            "filter @type = \"REPORT\"\n    | stats max(@memorySize / 1024 / 1024) as provisonedMemoryMB,\n        min(@maxMemoryUsed / 1024 / 1024) as smallestMemoryRequestMB,\n        avg(@maxMemoryUsed / 1024 / 1024) as avgMemoryUsedMB,\n        max(@maxMemoryUsed / 1024 / 1024) as maxMemoryUsedMB,\n        provisonedMemoryMB - maxMemoryUsedMB as overProvisionedMB",
            "filter @type = \"REPORT\" |\n    stats avg(@duration), max(@duration), min(@duration) by bin(5m)",
            "stats sum(packets) as packetsTransferred by srcAddr, dstAddr\n    | sort packetsTransferred  desc\n    | limit 15",
            "filter isIpv4InSubnet(srcAddr, \"192.0.2.0/24\")\n    | stats sum(bytes) as bytesTransferred by dstAddr\n    | sort bytesTransferred desc\n    | limit 15",
            "filter logStatus=\"SKIPDATA\"\n    | stats count(*) by bin(1h) as t\n    | sort t",
            "stats count(*) by queryType, bin(1h)",
            "filter (eventName=\"StartInstances\" or eventName=\"StopInstances\") and region=\"us-east-2\"",
            "filter eventName=\"CreateUser\"\n    | fields awsRegion, requestParameters.userName, responseElements.user.arn",
            "filter eventName=\"UpdateTrail\" and ispresent(errorCode)\n    | stats count(*) by errorCode, errorMessage",
            "FIELDS @message\n    | PARSE @message \"* [*] *\" as loggingTime, loggingType, loggingMessage\n    | FILTER loggingType IN [\"ERROR\", \"INFO\"]\n    | DISPLAY loggingMessage, loggingType = \"ERROR\" as isError",
            "fields @timestamp, server, severity, message | sort @timestamp desc | dedup server",
            "fields @timestamp, @message | filter (range>3000 and accountId=123456789012) | sort @timestamp desc | limit 20",
            "fields @timestamp, @message, accountId as ID | sort @timestamp desc | limit 20",
            "stats count(*) by duration as time | sort time desc",
            "parse @logStream \"*/*/*/*\" as env, service, instance, shard | stats count(*) by env, service",
            "parse @message \"url=*\" as url | parse url \"/api/*/users/*\" as apiVersion, userId | display apiVersion, userId",
            "parse @message /(?<NetworkInterface>eni-.*?) / | display NetworkInterface, @message",
            "fields @timestamp, @message | where @message like /error/",
            "fields @message | limit any 1",
            "fields any | limit 100000",
            "FIELDS strlen(@message) AS message_length | STATS sum(message_length)/1024/1024 as logs_mb BY bin(5m) | STATS max(logs_mb) AS peak_ingest_mb, min(logs_mb) AS min_ingest_mb, avg(logs_mb) AS avg_ingest_mb",
            "stats pct(latency, 50), stddev(latency), count_distinct(user), earliest(x), latest(x), sortsFirst(x), sortsLast(x)",
            "fields datefloor(@timestamp, 1h), dateceil(@timestamp, 1d), fromMillis(ms), toMillis(@timestamp), 2 ^ 3, 10 % 3",
        ];
        for query in queries {
            assert!(parse_query(query).is_ok(), "{query}: {:?}", error_of(query));
        }
    }

    #[test]
    fn errors_point_at_the_offending_token() {
        let cases: &[(&str, usize, usize, &str)] = &[
            ("fields a | bogus x", 11, 16, "unknown command 'bogus'"),
            ("filter a = ", 11, 11, "unexpected end of query"),
            ("fields a,", 9, 9, "unexpected end of query"),
            ("fields a b", 9, 10, "unexpected 'b'"),
            ("stats f1 by f2", 6, 8, "must use an aggregate function"),
            ("fields count(*)", 7, 12, "can only be used in stats"),
            ("stats avg(count(*))", 10, 15, "can only be used in stats"),
            ("fields nosuch(x)", 7, 13, "unknown function 'nosuch'"),
            (
                "fields abs(1, 2)",
                7,
                16,
                "takes 1 argument(s) but was given 2",
            ),
            ("stats count(*) by bin(5x)", 22, 24, "unknown time unit 'x'"),
            ("limit 0", 6, 7, "limit must be a whole number"),
            ("limit 100001", 6, 12, "limit must be a whole number"),
            ("limit any", 6, 9, "unexpected 'any'"),
            (
                "parse @message \"a=* b=*\" as a",
                28,
                29,
                "has 2 '*' but 1 field names",
            ),
            (
                "parse @message /no groups/",
                15,
                26,
                "must name its capturing groups",
            ),
            (
                "filter x like /(unclosed/",
                14,
                25,
                "invalid regular expression",
            ),
            (
                "fields a | dedup a | sort a",
                21,
                27,
                "only limit can follow dedup",
            ),
            (
                "stats count(*) | stats count(*) | stats count(*)",
                34,
                48,
                "at most 2 stats",
            ),
            ("filter x = 5m", 11, 13, "time period"),
            ("fields desc", 7, 11, "unexpected 'desc'"),
            ("   ", 3, 3, "the query is empty"),
            (
                "stats pct(x, 150)",
                13,
                16,
                "percentile must be a number from 0 to 100",
            ),
        ];
        for (query, start, end, message) in cases {
            let error = error_of(query);
            assert_eq!(
                error.as_ref().map(|e| (e.span.start, e.span.end)),
                Some((*start, *end)),
                "{query}: {error:?}"
            );
            assert!(
                error.as_ref().is_some_and(|e| e.message.contains(message)),
                "{query}: {error:?}"
            );
        }
    }

    #[test]
    fn unsupported_commands_are_flagged_as_such() {
        let error = error_of("fields a | pattern @message");
        assert!(error.as_ref().is_some_and(|e| e.unsupported), "{error:?}");
        assert_eq!(error.map(|e| e.span), Some(Span { start: 11, end: 18 }));
    }

    #[test]
    fn deep_nesting_is_an_error_not_a_crash() {
        let deep_parens = format!("filter {}x{}", "(".repeat(5000), ")".repeat(5000));
        let long_chain = format!("fields {}", vec!["a"; 5000].join(" + "));
        let many_nots = format!("filter {} x = 1", "not ".repeat(5000));
        let many_minus = format!("fields {}x", "-".repeat(5000));
        let powers = format!("fields {}", vec!["2"; 5000].join(" ^ "));
        for query in [deep_parens, long_chain, many_nots, many_minus, powers] {
            let error = error_of(&query);
            assert!(
                error.is_some_and(|e| e.message.contains("nested more than 64")),
                "{}",
                query.get(..40).unwrap_or("")
            );
        }
        // _NEG: moderate nesting is fine.
        assert!(parse_query("filter ((((a = 1))))").is_ok());
    }

    #[test]
    fn names_of_projections_and_stats_columns() {
        let parsed = parse_query(
            "fields abs(f3 - f4), f1 as renamed, `foo-bar` | stats avg (f1) as a, count(*) by bin(1h), f2",
        );
        let Ok(parsed) = parsed else {
            panic!("query should parse");
        };
        let Some(Command::Fields(projections)) = parsed.commands.first() else {
            panic!("first command should be fields");
        };
        let names: Vec<&str> = projections.iter().map(|p| p.name.as_str()).collect();
        assert_eq!(names, ["abs(f3 - f4)", "renamed", "foo-bar"]);
        let Some(Command::Stats(stats)) = parsed.commands.get(1) else {
            panic!("second command should be stats");
        };
        let outputs: Vec<&str> = stats.outputs.iter().map(|o| o.0.as_str()).collect();
        let groups: Vec<&str> = stats.group_by.iter().map(|g| g.0.as_str()).collect();
        assert_eq!(outputs, ["a", "count(*)"]);
        assert_eq!(groups, ["bin(1h)", "f2"]);
    }
}

//! Tokenizer for Logs Insights queries.
//!
//! The lexer is pulled one token at a time by the parser rather than run ahead,
//! because `/` is ambiguous: it divides in `a / 2` but opens a regular expression
//! in `like /Exception/` and `parse @message /(?<x>.*)/`. Only the parser knows
//! which one it expects, so it asks [`Lexer::regex_from`] to re-read the text after
//! a `/` as a pattern. Every token carries byte offsets so errors can point at it.

/// Byte range of a token or construct within the query text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Span {
    pub start: usize,
    pub end: usize,
}

impl Span {
    pub(super) fn to(self, other: Span) -> Span {
        Span {
            start: self.start.min(other.start),
            end: self.end.max(other.end),
        }
    }
}

/// A problem found while reading the query, with the text it concerns.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct SyntaxError {
    pub span: Span,
    pub message: String,
    /// Set for valid AWS syntax this engine does not implement.
    pub unsupported: bool,
}

impl SyntaxError {
    pub(super) fn new(span: Span, message: impl Into<String>) -> Self {
        SyntaxError {
            span,
            message: message.into(),
            unsupported: false,
        }
    }

    pub(super) fn unsupported(span: Span, message: impl Into<String>) -> Self {
        SyntaxError {
            span,
            message: message.into(),
            unsupported: true,
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub(super) enum TokenKind {
    /// A bare word: command, keyword, function or field name (may hold `@` and `.`).
    Word(String),
    /// A field name written between backticks.
    QuotedName(String),
    /// A string literal in single or double quotes, escapes resolved.
    Text(String),
    Number(f64),
    /// A number glued to a unit, such as `5m`; only meaningful as a time period.
    Duration {
        amount: String,
        unit: String,
    },
    /// The body of `/.../`, with `\/` turned into `/` and other escapes left for the
    /// regex engine.
    Regex(String),
    Pipe,
    Comma,
    OpenParen,
    CloseParen,
    OpenBracket,
    CloseBracket,
    Plus,
    Minus,
    Star,
    Slash,
    Percent,
    Caret,
    Equal,
    NotEqual,
    Less,
    LessEqual,
    Greater,
    GreaterEqual,
    RegexMatch,
    End,
}

#[derive(Debug, Clone, PartialEq)]
pub(super) struct Token {
    pub kind: TokenKind,
    pub span: Span,
}

impl Token {
    /// Whether this is the bare word `keyword`, ignoring case as AWS does.
    pub(super) fn is_keyword(&self, keyword: &str) -> bool {
        matches!(&self.kind, TokenKind::Word(word) if word.eq_ignore_ascii_case(keyword))
    }
}

pub(super) struct Lexer<'s> {
    source: &'s str,
    position: usize,
}

fn is_name_start(c: char) -> bool {
    c.is_alphabetic() || c == '_' || c == '@'
}

fn is_name_char(c: char) -> bool {
    c.is_alphanumeric() || c == '_' || c == '@' || c == '.'
}

impl<'s> Lexer<'s> {
    pub(super) fn new(source: &'s str) -> Self {
        Lexer {
            source,
            position: 0,
        }
    }

    fn rest(&self) -> &'s str {
        self.source.get(self.position..).unwrap_or("")
    }

    fn peek_char(&self) -> Option<char> {
        self.rest().chars().next()
    }

    fn peek_second_char(&self) -> Option<char> {
        self.rest().chars().nth(1)
    }

    fn bump(&mut self) -> Option<char> {
        let c = self.peek_char()?;
        self.position += c.len_utf8();
        Some(c)
    }

    fn span_from(&self, start: usize) -> Span {
        Span {
            start,
            end: self.position,
        }
    }

    /// Skips blanks and `#` comments, which run to the end of the line.
    fn skip_trivia(&mut self) {
        while let Some(c) = self.peek_char() {
            if c.is_whitespace() {
                self.bump();
            } else if c == '#' {
                while let Some(c) = self.bump() {
                    if c == '\n' {
                        break;
                    }
                }
            } else {
                break;
            }
        }
    }

    pub(super) fn next_token(&mut self) -> Result<Token, SyntaxError> {
        self.skip_trivia();
        let start = self.position;
        let Some(c) = self.bump() else {
            return Ok(Token {
                kind: TokenKind::End,
                span: self.span_from(start),
            });
        };
        let kind = match c {
            '|' => TokenKind::Pipe,
            ',' => TokenKind::Comma,
            '(' => TokenKind::OpenParen,
            ')' => TokenKind::CloseParen,
            '[' => TokenKind::OpenBracket,
            ']' => TokenKind::CloseBracket,
            '+' => TokenKind::Plus,
            '-' => TokenKind::Minus,
            '*' => TokenKind::Star,
            '/' => TokenKind::Slash,
            '%' => TokenKind::Percent,
            '^' => TokenKind::Caret,
            '=' => {
                if self.peek_char() == Some('~') {
                    self.bump();
                    TokenKind::RegexMatch
                } else {
                    TokenKind::Equal
                }
            }
            '!' => {
                if self.peek_char() == Some('=') {
                    self.bump();
                    TokenKind::NotEqual
                } else {
                    return Err(SyntaxError::new(
                        self.span_from(start),
                        "unexpected '!'; use 'not' or '!='",
                    ));
                }
            }
            '<' => {
                if self.peek_char() == Some('=') {
                    self.bump();
                    TokenKind::LessEqual
                } else {
                    TokenKind::Less
                }
            }
            '>' => {
                if self.peek_char() == Some('=') {
                    self.bump();
                    TokenKind::GreaterEqual
                } else {
                    TokenKind::Greater
                }
            }
            '"' | '\'' => self.string_body(start, c)?,
            '`' => self.quoted_name(start)?,
            c if c.is_ascii_digit()
                || (c == '.' && self.peek_char().is_some_and(|n| n.is_ascii_digit())) =>
            {
                self.number(start)?
            }
            c if is_name_start(c) => {
                while self.peek_char().is_some_and(is_name_char) {
                    self.bump();
                }
                TokenKind::Word(
                    self.source
                        .get(start..self.position)
                        .unwrap_or("")
                        .to_owned(),
                )
            }
            other => {
                return Err(SyntaxError::new(
                    self.span_from(start),
                    format!("unexpected character '{other}'"),
                ))
            }
        };
        Ok(Token {
            kind,
            span: self.span_from(start),
        })
    }

    fn string_body(&mut self, start: usize, quote: char) -> Result<TokenKind, SyntaxError> {
        let mut text = String::new();
        loop {
            match self.bump() {
                None => {
                    return Err(SyntaxError::new(
                        self.span_from(start),
                        "unterminated string literal",
                    ))
                }
                Some(c) if c == quote => return Ok(TokenKind::Text(text)),
                Some('\\') => match self.bump() {
                    Some(c) if c == quote || c == '\\' => text.push(c),
                    Some('n') => text.push('\n'),
                    Some('t') => text.push('\t'),
                    // Unknown escapes stay as written so patterns such as "\d" survive.
                    Some(other) => {
                        text.push('\\');
                        text.push(other);
                    }
                    None => {
                        return Err(SyntaxError::new(
                            self.span_from(start),
                            "unterminated string literal",
                        ))
                    }
                },
                Some(c) => text.push(c),
            }
        }
    }

    fn quoted_name(&mut self, start: usize) -> Result<TokenKind, SyntaxError> {
        let body_start = self.position;
        loop {
            match self.bump() {
                None => {
                    return Err(SyntaxError::new(
                        self.span_from(start),
                        "unterminated backtick-quoted field name",
                    ))
                }
                Some('`') => break,
                Some(_) => {}
            }
        }
        let name = self
            .source
            .get(body_start..self.position.saturating_sub(1))
            .unwrap_or("");
        if name.is_empty() {
            return Err(SyntaxError::new(
                self.span_from(start),
                "empty backtick-quoted field name",
            ));
        }
        Ok(TokenKind::QuotedName(name.to_owned()))
    }

    fn number(&mut self, start: usize) -> Result<TokenKind, SyntaxError> {
        while self.peek_char().is_some_and(|c| c.is_ascii_digit()) {
            self.bump();
        }
        if self.peek_char() == Some('.')
            && self.peek_second_char().is_some_and(|c| c.is_ascii_digit())
        {
            self.bump();
            while self.peek_char().is_some_and(|c| c.is_ascii_digit()) {
                self.bump();
            }
        }
        let exponent_follows = matches!(self.peek_char(), Some('e' | 'E'))
            && match self.peek_second_char() {
                Some(c) if c.is_ascii_digit() => true,
                Some('+' | '-') => self
                    .rest()
                    .chars()
                    .nth(2)
                    .is_some_and(|c| c.is_ascii_digit()),
                _ => false,
            };
        if exponent_follows {
            self.bump();
            if matches!(self.peek_char(), Some('+' | '-')) {
                self.bump();
            }
            while self.peek_char().is_some_and(|c| c.is_ascii_digit()) {
                self.bump();
            }
        }
        let number_end = self.position;
        let amount = self.source.get(start..number_end).unwrap_or("");
        if self.peek_char().is_some_and(char::is_alphabetic) {
            while self.peek_char().is_some_and(char::is_alphanumeric) {
                self.bump();
            }
            let unit = self.source.get(number_end..self.position).unwrap_or("");
            return Ok(TokenKind::Duration {
                amount: amount.to_owned(),
                unit: unit.to_owned(),
            });
        }
        match amount.parse::<f64>() {
            Ok(value) if value.is_finite() => Ok(TokenKind::Number(value)),
            _ => Err(SyntaxError::new(
                self.span_from(start),
                format!("number '{amount}' is out of range"),
            )),
        }
    }

    /// Re-reads the text after the `/` at `slash_start` as a regular expression body
    /// up to the next unescaped `/`.
    pub(super) fn regex_from(&mut self, slash_start: usize) -> Result<Token, SyntaxError> {
        self.position = slash_start + 1;
        let mut pattern = String::new();
        loop {
            match self.bump() {
                None => {
                    return Err(SyntaxError::new(
                        self.span_from(slash_start),
                        "unterminated regular expression",
                    ))
                }
                Some('/') => break,
                Some('\\') => match self.bump() {
                    Some('/') => pattern.push('/'),
                    Some(other) => {
                        pattern.push('\\');
                        pattern.push(other);
                    }
                    None => {
                        return Err(SyntaxError::new(
                            self.span_from(slash_start),
                            "unterminated regular expression",
                        ))
                    }
                },
                Some(c) => pattern.push(c),
            }
        }
        Ok(Token {
            kind: TokenKind::Regex(pattern),
            span: self.span_from(slash_start),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kinds(source: &str) -> Result<Vec<TokenKind>, SyntaxError> {
        let mut lexer = Lexer::new(source);
        let mut out = Vec::new();
        loop {
            let token = lexer.next_token()?;
            if token.kind == TokenKind::End {
                return Ok(out);
            }
            out.push(token.kind);
        }
    }

    fn word(s: &str) -> TokenKind {
        TokenKind::Word(s.to_owned())
    }

    #[test]
    fn tokenizes_the_documented_fields_example() {
        assert_eq!(
            kinds("fields `foo-bar`, action, abs(f3-f4)"),
            Ok(vec![
                word("fields"),
                TokenKind::QuotedName("foo-bar".into()),
                TokenKind::Comma,
                word("action"),
                TokenKind::Comma,
                word("abs"),
                TokenKind::OpenParen,
                word("f3"),
                TokenKind::Minus,
                word("f4"),
                TokenKind::CloseParen,
            ])
        );
    }

    #[test]
    fn tokenizes_operators_numbers_periods_and_comments() {
        assert_eq!(
            kinds("a=~b != 2.5e1 # comment | ignored\n<= 5m >= .5 requestParameters.items.0.id"),
            Ok(vec![
                word("a"),
                TokenKind::RegexMatch,
                word("b"),
                TokenKind::NotEqual,
                TokenKind::Number(25.0),
                TokenKind::LessEqual,
                TokenKind::Duration {
                    amount: "5".into(),
                    unit: "m".into()
                },
                TokenKind::GreaterEqual,
                TokenKind::Number(0.5),
                word("requestParameters.items.0.id"),
            ])
        );
    }

    #[test]
    fn string_escapes_resolve_quotes_and_keep_other_backslashes() {
        assert_eq!(
            kinds(r#""say \"hi\"" 'it\'s' "\d+""#),
            Ok(vec![
                TokenKind::Text("say \"hi\"".into()),
                TokenKind::Text("it's".into()),
                TokenKind::Text("\\d+".into()),
            ])
        );
    }

    #[test]
    fn regex_is_read_on_request_with_escaped_slashes() {
        let source = r"x like /a\/b\d/ | y";
        let mut lexer = Lexer::new(source);
        assert_eq!(lexer.next_token().map(|t| t.kind), Ok(word("x")));
        assert_eq!(lexer.next_token().map(|t| t.kind), Ok(word("like")));
        let slash = lexer.next_token();
        assert_eq!(slash.as_ref().map(|t| &t.kind), Ok(&TokenKind::Slash));
        let start = slash.map(|t| t.span.start).unwrap_or_default();
        let regex = lexer.regex_from(start);
        assert_eq!(
            regex,
            Ok(Token {
                kind: TokenKind::Regex(r"a/b\d".into()),
                span: Span { start: 7, end: 15 }
            })
        );
        assert_eq!(lexer.next_token().map(|t| t.kind), Ok(TokenKind::Pipe));
    }

    #[test]
    fn lexical_errors_point_at_the_offending_text() {
        let cases: &[(&str, Span, &str)] = &[
            ("a ! b", Span { start: 2, end: 3 }, "unexpected '!'"),
            (
                "x = \"open",
                Span { start: 4, end: 9 },
                "unterminated string",
            ),
            ("`oops", Span { start: 0, end: 5 }, "unterminated backtick"),
            (
                "a ~ b",
                Span { start: 2, end: 3 },
                "unexpected character '~'",
            ),
            ("1e999", Span { start: 0, end: 5 }, "out of range"),
        ];
        for (source, span, message) in cases {
            let error = kinds(source).err();
            assert_eq!(error.as_ref().map(|e| e.span), Some(*span), "{source}");
            assert!(
                error.is_some_and(|e| e.message.contains(message)),
                "{source}"
            );
        }
    }
}

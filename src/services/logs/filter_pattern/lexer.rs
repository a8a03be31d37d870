//! Tokens shared by the JSON (`{ ... }`) and space-delimited (`[ ... ]`) forms.
//!
//! Both forms are built from the same pieces: operators, `&&`, `||`, parentheses, double-quoted
//! strings, `%regex%` spans and bare words. Lexing them in one place keeps the two grammars in
//! step, and a cursor that never indexes a slice directly keeps hostile input from panicking.

use super::operand::CompareOp;
use super::FilterPatternError;

/// A read position in pattern text; every advance goes through `char` boundaries.
#[derive(Debug, Clone, Copy)]
pub(super) struct Cursor<'p> {
    rest: &'p str,
}

impl<'p> Cursor<'p> {
    pub(super) fn new(text: &'p str) -> Self {
        Cursor { rest: text }
    }

    pub(super) fn peek(&self) -> Option<char> {
        self.rest.chars().next()
    }

    pub(super) fn bump(&mut self) -> Option<char> {
        let mut chars = self.rest.chars();
        let c = chars.next()?;
        self.rest = chars.as_str();
        Some(c)
    }

    /// Consumes `c` if it is next.
    pub(super) fn eat(&mut self, c: char) -> bool {
        match self.rest.strip_prefix(c) {
            Some(rest) => {
                self.rest = rest;
                true
            }
            None => false,
        }
    }

    pub(super) fn skip_whitespace(&mut self) {
        self.rest = self.rest.trim_start();
    }

    /// Takes the longest prefix whose characters satisfy `keep`.
    pub(super) fn take_while(&mut self, keep: impl Fn(char) -> bool) -> &'p str {
        let end = self.rest.find(|c| !keep(c)).unwrap_or(self.rest.len());
        let (taken, rest) = self.rest.split_at_checked(end).unwrap_or((self.rest, ""));
        self.rest = rest;
        taken
    }

    /// Takes everything up to the next `close`, consuming `close` too; `None` when it never comes.
    pub(super) fn take_until(&mut self, close: char) -> Option<&'p str> {
        let (taken, rest) = self.rest.split_once(close)?;
        self.rest = rest;
        Some(taken)
    }

    /// Reads the body of a double-quoted string whose opening quote is already consumed.
    /// `\"` and `\\` stand for themselves; any other backslash is kept as written.
    pub(super) fn quoted_body(&mut self) -> Result<String, FilterPatternError> {
        let mut text = String::new();
        loop {
            match self.bump() {
                None => return Err(FilterPatternError::invalid("unbalanced double quotes")),
                Some('"') => return Ok(text),
                Some('\\') => match self.bump() {
                    Some(c @ ('"' | '\\')) => text.push(c),
                    Some(c) => {
                        text.push('\\');
                        text.push(c);
                    }
                    None => return Err(FilterPatternError::invalid("unbalanced double quotes")),
                },
                Some(c) => text.push(c),
            }
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub(super) enum Token<'p> {
    OpenParen,
    CloseParen,
    Comma,
    And,
    Or,
    Compare(CompareOp),
    Quoted(String),
    Regex(&'p str),
    Word(&'p str),
}

/// Characters that end a bare word; anything else (even characters a word may not contain) is
/// kept in the word so the error can name the offending term, as AWS does.
fn ends_word(c: char) -> bool {
    c.is_whitespace() || matches!(c, '(' | ')' | ',' | '&' | '|' | '=' | '!' | '<' | '>')
}

pub(super) fn tokenize(text: &str) -> Result<Vec<Token<'_>>, FilterPatternError> {
    let mut cursor = Cursor::new(text);
    let mut tokens = Vec::new();
    loop {
        cursor.skip_whitespace();
        let Some(c) = cursor.peek() else {
            return Ok(tokens);
        };
        let token = match c {
            '(' | ')' | ',' | '=' | '"' | '%' => {
                cursor.bump();
                match c {
                    '(' => Token::OpenParen,
                    ')' => Token::CloseParen,
                    ',' => Token::Comma,
                    '=' => Token::Compare(CompareOp::Eq),
                    '"' => Token::Quoted(cursor.quoted_body()?),
                    _ => Token::Regex(
                        cursor
                            .take_until('%')
                            .ok_or_else(|| FilterPatternError::characters("%"))?,
                    ),
                }
            }
            '&' | '|' => {
                cursor.bump();
                if !cursor.eat(c) {
                    return Err(FilterPatternError::characters(c));
                }
                if c == '&' {
                    Token::And
                } else {
                    Token::Or
                }
            }
            '!' => {
                cursor.bump();
                if !cursor.eat('=') {
                    return Err(FilterPatternError::characters('!'));
                }
                Token::Compare(CompareOp::Ne)
            }
            '<' | '>' => {
                cursor.bump();
                let or_equal = cursor.eat('=');
                Token::Compare(match (c, or_equal) {
                    ('<', false) => CompareOp::Lt,
                    ('<', true) => CompareOp::Le,
                    (_, false) => CompareOp::Gt,
                    (_, true) => CompareOp::Ge,
                })
            }
            _ => Token::Word(take_word(&mut cursor)),
        };
        tokens.push(token);
    }
}

/// A bare word. JSON selectors may carry a bracketed, quoted key (`$.['cluster.name']`) whose
/// quotes can enclose characters that would otherwise end the word.
fn take_word<'p>(cursor: &mut Cursor<'p>) -> &'p str {
    let start = *cursor;
    let is_selector = cursor.peek() == Some('$');
    let mut len = 0;
    let mut quote: Option<char> = None;
    let mut previous = '\0';
    while let Some(c) = cursor.peek() {
        match quote {
            Some(q) if c == q => quote = None,
            Some(_) => {}
            None if ends_word(c) => break,
            None if is_selector && previous == '[' && (c == '\'' || c == '"') => quote = Some(c),
            None => {}
        }
        cursor.bump();
        len += c.len_utf8();
        previous = c;
    }
    start.rest.get(..len).unwrap_or(start.rest)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_of_a_compound_json_condition() {
        let tokens = tokenize(r#"($.a.b[0] >= -1.5e3 && $.c != "x y") || $.d = %ab+c%"#).unwrap();
        assert_eq!(
            tokens,
            vec![
                Token::OpenParen,
                Token::Word("$.a.b[0]"),
                Token::Compare(CompareOp::Ge),
                Token::Word("-1.5e3"),
                Token::And,
                Token::Word("$.c"),
                Token::Compare(CompareOp::Ne),
                Token::Quoted("x y".to_string()),
                Token::CloseParen,
                Token::Or,
                Token::Word("$.d"),
                Token::Compare(CompareOp::Eq),
                Token::Regex("ab+c"),
            ]
        );
    }

    #[test]
    fn bracketed_selector_keys_keep_their_quotes_together() {
        let tokens = tokenize("$.['cluster name'] = c").unwrap();
        assert_eq!(tokens.first(), Some(&Token::Word("$.['cluster name']")));
    }

    #[test]
    fn quoted_strings_unescape_quotes_and_backslashes() {
        let tokens = tokenize(r#""a\"b\\c\d""#).unwrap();
        assert_eq!(tokens, vec![Token::Quoted(r#"a"b\c\d"#.to_string())]);
    }

    #[test]
    fn malformed_operators_and_spans_are_rejected() {
        for (text, expected) in [
            ("a & b", FilterPatternError::characters('&')),
            ("a | b", FilterPatternError::characters('|')),
            ("a ! b", FilterPatternError::characters('!')),
            ("a = %abc", FilterPatternError::characters('%')),
        ] {
            assert_eq!(tokenize(text).unwrap_err(), expected, "{text}");
        }
        assert!(matches!(
            tokenize("a = \"open"),
            Err(FilterPatternError::Invalid { .. })
        ));
    }
}

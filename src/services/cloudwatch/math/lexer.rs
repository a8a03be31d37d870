//! Tokenizer for metric math expressions.
//!
//! Splits the text into numbers, quoted strings, words and operators, each tagged with its
//! 0-based character position so parse and evaluation errors can point at the offending
//! spot. Words are not classified here: whether `AVG` is a call, a SORT keyword or an error
//! depends on what follows, which only the parser knows.
//!
//! String literals keep their backslashes: the SEARCH expression inside them has its own
//! escaping rules (`\"`, `\\`, `\(`, `\)`), which the search parser applies. A backslash here
//! only stops the next character from closing the literal.

use super::MathError;

/// One lexical unit of an expression.
#[derive(Debug, Clone, PartialEq)]
pub(super) enum TokenKind {
    Number(f64),
    /// Raw text between the quotes; `char_offset` of the token is the opening quote.
    Str(String),
    Word(String),
    LParen,
    RParen,
    LBracket,
    RBracket,
    Comma,
    Plus,
    Minus,
    Star,
    Slash,
    Caret,
    Less,
    LessEq,
    Greater,
    GreaterEq,
    EqEq,
    NotEq,
    AndAnd,
    OrOr,
    End,
}

/// A token and the character position where it starts.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct Token {
    pub kind: TokenKind,
    pub position: usize,
}

/// Turns the whole text into tokens, ending with [`TokenKind::End`].
pub(super) fn tokenize(text: &str) -> Result<Vec<Token>, MathError> {
    let chars: Vec<char> = text.chars().collect();
    let mut tokens = Vec::new();
    let mut index = 0;
    while let Some(&c) = chars.get(index) {
        if c.is_whitespace() {
            index += 1;
            continue;
        }
        let start = index;
        let two = chars.get(index + 1).copied();
        let (kind, width) = match c {
            '(' => (TokenKind::LParen, 1),
            ')' => (TokenKind::RParen, 1),
            '[' => (TokenKind::LBracket, 1),
            ']' => (TokenKind::RBracket, 1),
            ',' => (TokenKind::Comma, 1),
            '+' => (TokenKind::Plus, 1),
            '-' => (TokenKind::Minus, 1),
            '*' => (TokenKind::Star, 1),
            '/' => (TokenKind::Slash, 1),
            '^' => (TokenKind::Caret, 1),
            '<' if two == Some('=') => (TokenKind::LessEq, 2),
            '<' => (TokenKind::Less, 1),
            '>' if two == Some('=') => (TokenKind::GreaterEq, 2),
            '>' => (TokenKind::Greater, 1),
            '=' if two == Some('=') => (TokenKind::EqEq, 2),
            '!' if two == Some('=') => (TokenKind::NotEq, 2),
            '&' if two == Some('&') => (TokenKind::AndAnd, 2),
            '|' if two == Some('|') => (TokenKind::OrOr, 2),
            '\'' | '"' => {
                let (content, width) = read_string(&chars, index)?;
                (TokenKind::Str(content), width)
            }
            c if c.is_ascii_digit() || c == '.' => read_number(&chars, index)?,
            c if c.is_ascii_alphabetic() || c == '_' => {
                let width = chars
                    .get(index..)
                    .unwrap_or_default()
                    .iter()
                    .take_while(|ch| ch.is_ascii_alphanumeric() || **ch == '_')
                    .count();
                let word: String = chars.iter().skip(index).take(width).collect();
                (TokenKind::Word(word), width)
            }
            other => {
                return Err(MathError::Syntax {
                    position: start,
                    detail: format!("unexpected character '{other}'"),
                })
            }
        };
        tokens.push(Token {
            kind,
            position: start,
        });
        index += width;
    }
    tokens.push(Token {
        kind: TokenKind::End,
        position: chars.len(),
    });
    Ok(tokens)
}

/// Reads a quoted literal starting at `start`; returns its raw content and its width in
/// characters including both quotes.
fn read_string(chars: &[char], start: usize) -> Result<(String, usize), MathError> {
    let quote = chars.get(start).copied().unwrap_or('\'');
    let mut content = String::new();
    let mut index = start + 1;
    loop {
        match chars.get(index).copied() {
            None => {
                return Err(MathError::Syntax {
                    position: start,
                    detail: "unterminated string".to_string(),
                })
            }
            Some('\\') => {
                content.push('\\');
                if let Some(next) = chars.get(index + 1).copied() {
                    content.push(next);
                }
                index += 2;
            }
            Some(c) if c == quote => return Ok((content, index + 1 - start)),
            Some(c) => {
                content.push(c);
                index += 1;
            }
        }
    }
}

/// Reads a decimal literal (`5`, `50.25`, `.5`, `1e3`); rejects ones too large for an f64.
fn read_number(chars: &[char], start: usize) -> Result<(TokenKind, usize), MathError> {
    let rest = chars.get(start..).unwrap_or_default();
    let mut width = rest.iter().take_while(|c| c.is_ascii_digit()).count();
    if rest.get(width) == Some(&'.') {
        width += 1;
        width += rest
            .get(width..)
            .unwrap_or_default()
            .iter()
            .take_while(|c| c.is_ascii_digit())
            .count();
    }
    if matches!(rest.get(width), Some('e' | 'E')) {
        let mut exponent_end = width + 1;
        if matches!(rest.get(exponent_end), Some('+' | '-')) {
            exponent_end += 1;
        }
        let digits = rest
            .get(exponent_end..)
            .unwrap_or_default()
            .iter()
            .take_while(|c| c.is_ascii_digit())
            .count();
        if digits > 0 {
            width = exponent_end + digits;
        }
    }
    let literal: String = rest.iter().take(width).collect();
    match literal.parse::<f64>() {
        Ok(value) if value.is_finite() => Ok((TokenKind::Number(value), width)),
        Ok(_) => Err(MathError::Syntax {
            position: start,
            detail: format!("number {literal} is too large"),
        }),
        Err(_) => Err(MathError::Syntax {
            position: start,
            detail: format!("invalid number '{literal}'"),
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kinds(text: &str) -> Vec<TokenKind> {
        tokenize(text)
            .unwrap()
            .into_iter()
            .map(|token| token.kind)
            .collect()
    }

    #[test]
    fn splits_operators_words_and_numbers() {
        use TokenKind::*;
        let cases: Vec<(&str, Vec<TokenKind>)> = vec![
            (
                "m1+m2",
                vec![Word("m1".into()), Plus, Word("m2".into()), End],
            ),
            (
                "PERIOD(m1)/60",
                vec![
                    Word("PERIOD".into()),
                    LParen,
                    Word("m1".into()),
                    RParen,
                    Slash,
                    Number(60.0),
                    End,
                ],
            ),
            (
                "a<=b>=c!=d==e<f>g",
                vec![
                    Word("a".into()),
                    LessEq,
                    Word("b".into()),
                    GreaterEq,
                    Word("c".into()),
                    NotEq,
                    Word("d".into()),
                    EqEq,
                    Word("e".into()),
                    Less,
                    Word("f".into()),
                    Greater,
                    Word("g".into()),
                    End,
                ],
            ),
            (
                "x && y || z",
                vec![
                    Word("x".into()),
                    AndAnd,
                    Word("y".into()),
                    OrOr,
                    Word("z".into()),
                    End,
                ],
            ),
            (
                "50.25 .5 1e3 2E-1",
                vec![Number(50.25), Number(0.5), Number(1000.0), Number(0.2), End],
            ),
            (
                "[m1, m2]^2",
                vec![
                    LBracket,
                    Word("m1".into()),
                    Comma,
                    Word("m2".into()),
                    RBracket,
                    Caret,
                    Number(2.0),
                    End,
                ],
            ),
        ];
        for (text, expected) in cases {
            assert_eq!(kinds(text), expected, "{text}");
        }
    }

    #[test]
    fn strings_keep_backslashes_and_positions_are_characters() {
        let tokens = tokenize(r#"'é' 'a\'b' "c\"d""#).unwrap();
        assert_eq!(tokens[0].kind, TokenKind::Str("é".into()));
        assert_eq!(tokens[1].position, 4);
        assert_eq!(tokens[1].kind, TokenKind::Str(r"a\'b".into()));
        assert_eq!(tokens[2].kind, TokenKind::Str(r#"c\"d"#.into()));
        assert_eq!(tokens[2].position, 11);
    }

    #[test]
    fn invalid_input_is_an_error_with_position() {
        let cases = [
            ("m1 # m2", 3),
            ("'open", 0),
            ("m1 = m2", 3),
            ("1e999", 0),
            ("m1 & m2", 3),
            ("..", 0),
        ];
        for (text, position) in cases {
            let error = tokenize(text).unwrap_err();
            assert_eq!(error.position(), Some(position), "{text}: {error}");
        }
    }
}

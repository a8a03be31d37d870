//! The CloudWatch Logs filter pattern language ("Filter pattern syntax for metric filters,
//! subscription filters, and filter log events"), shared by FilterLogEvents, metric filters and
//! TestMetricFilter.
//!
//! Three forms, told apart by the first character:
//! - terms (`ERROR`, `"quoted phrase"`, `?ERROR ?WARN`, `ERROR -Exiting`, `%regex%`): every plain
//!   term must occur, no `-` term may occur, and at least one `?` term must occur if any is given;
//! - JSON (`{ $.level = "ERROR" && $.latency > 100 }`): selectors, comparisons, `IS NULL`,
//!   `NOT EXISTS`, `IS TRUE`/`IS FALSE`, `&&`, `||`, parentheses, `*` wildcards and `%regex%`;
//! - space-delimited (`[ip, user, ..., status = 5*, bytes > 1000]`): positional fields of a line
//!   whose fields are separated by spaces, with quoted or bracketed text as one field.
//!
//! A pattern is parsed once; matching allocates only to parse a JSON event.

mod json;
mod space;

use regex::Regex;

/// Why a pattern is not valid; AWS answers `InvalidParameterException` "Invalid filter pattern".
#[derive(Debug, thiserror::Error, PartialEq)]
pub enum FilterPatternError {
    #[error("unbalanced quotes in the filter pattern")]
    UnbalancedQuotes,
    #[error("invalid regular expression {0}: {1}")]
    InvalidRegex(String, String),
    #[error("regular expressions in filter patterns are limited to 25 characters: {0}")]
    RegexTooLong(String),
    #[error("{0}")]
    Syntax(String),
}

/// A parsed filter pattern; cheap to clone and share.
#[derive(Debug, Clone)]
pub struct FilterPattern {
    kind: Kind,
}

#[derive(Debug, Clone)]
enum Kind {
    All,
    Terms(Terms),
    Json(json::Expr),
    Space(space::Pattern),
}

#[derive(Debug, Clone, Default)]
struct Terms {
    required: Vec<Term>,
    optional: Vec<Term>,
    excluded: Vec<Term>,
}

#[derive(Debug, Clone)]
enum Term {
    Text(String),
    Regex(Regex),
}

impl Term {
    fn found_in(&self, message: &str) -> bool {
        match self {
            Term::Text(t) => message.contains(t.as_str()),
            Term::Regex(r) => r.is_match(message),
        }
    }
}

/// AWS limits regular expressions in filter patterns to this many characters.
const MAX_REGEX_CHARS: usize = 25;

/// Compiles `%...%` regex text; shared by the three forms.
pub(crate) fn compile_regex(body: &str) -> Result<Regex, FilterPatternError> {
    if body.chars().count() > MAX_REGEX_CHARS {
        return Err(FilterPatternError::RegexTooLong(body.to_string()));
    }
    Regex::new(body).map_err(|e| FilterPatternError::InvalidRegex(body.to_string(), e.to_string()))
}

/// A `*` wildcard string as an anchored regex (`*` matches any run of characters).
pub(crate) fn wildcard(text: &str) -> Option<Regex> {
    if !text.contains('*') {
        return None;
    }
    let parts: Vec<String> = text.split('*').map(regex::escape).collect();
    Regex::new(&format!("^{}$", parts.join(".*"))).ok()
}

/// What a matched event exposes to metric filters (`$.path` or `$name`).
pub struct MatchedEvent {
    json: Option<serde_json::Value>,
    fields: Vec<(String, String)>,
}

impl MatchedEvent {
    /// The value a selector names: `$.a.b[0]` in JSON events, `$name` for a named
    /// space-delimited field.
    pub fn field(&self, selector: &str) -> Option<String> {
        if let Some(json) = &self.json {
            let path = json::Selector::parse(selector).ok()?;
            return path
                .resolve(json)
                .into_iter()
                .next()
                .and_then(json::scalar_text);
        }
        let name = selector.strip_prefix('$')?;
        self.fields
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, v)| v.clone())
    }
}

impl FilterPattern {
    pub fn parse(pattern: &str) -> Result<FilterPattern, FilterPatternError> {
        let trimmed = pattern.trim();
        let kind = if trimmed.is_empty() || trimmed == "\"\"" {
            Kind::All
        } else if trimmed.starts_with('{') {
            Kind::Json(json::parse(trimmed)?)
        } else if trimmed.starts_with('[') {
            Kind::Space(space::parse(trimmed)?)
        } else {
            Kind::Terms(parse_terms(trimmed)?)
        };
        Ok(FilterPattern { kind })
    }

    pub fn matches(&self, message: &str) -> bool {
        match &self.kind {
            Kind::All => true,
            Kind::Terms(t) => {
                t.required.iter().all(|x| x.found_in(message))
                    && !t.excluded.iter().any(|x| x.found_in(message))
                    && (t.optional.is_empty() || t.optional.iter().any(|x| x.found_in(message)))
            }
            Kind::Json(expr) => serde_json::from_str::<serde_json::Value>(message)
                .is_ok_and(|v| v.is_object() && expr.eval(&v)),
            Kind::Space(p) => p.matches(message).is_some(),
        }
    }

    /// Matches and keeps what metric filters read values and dimensions from.
    pub fn match_fields(&self, message: &str) -> Option<MatchedEvent> {
        match &self.kind {
            Kind::Json(expr) => {
                let v: serde_json::Value = serde_json::from_str(message).ok()?;
                (v.is_object() && expr.eval(&v)).then_some(MatchedEvent {
                    json: Some(v),
                    fields: Vec::new(),
                })
            }
            Kind::Space(p) => p.matches(message).map(|fields| MatchedEvent {
                json: None,
                fields: fields
                    .into_iter()
                    .map(|(n, v)| (n.to_string(), v))
                    .collect(),
            }),
            _ => self.matches(message).then(|| MatchedEvent {
                json: serde_json::from_str::<serde_json::Value>(message)
                    .ok()
                    .filter(|v| v.is_object()),
                fields: Vec::new(),
            }),
        }
    }
}

/// Splits a terms pattern into tokens, keeping quoted phrases and `%regex%` whole.
fn parse_terms(pattern: &str) -> Result<Terms, FilterPatternError> {
    let mut terms = Terms::default();
    let mut chars = pattern.chars().peekable();
    loop {
        while chars.next_if(|c| c.is_whitespace()).is_some() {}
        let Some(&first) = chars.peek() else { break };
        let sign = if first == '?' || first == '-' {
            chars.next();
            Some(first)
        } else {
            None
        };
        let term = match chars.peek() {
            Some('"') => {
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
                Term::Text(text)
            }
            Some('%') => {
                chars.next();
                let body: String = chars.by_ref().take_while(|c| *c != '%').collect();
                Term::Regex(compile_regex(&body)?)
            }
            _ => {
                let mut text = String::new();
                while let Some(c) = chars.next_if(|c| !c.is_whitespace()) {
                    text.push(c);
                }
                if text.is_empty() {
                    // A lone sign is a literal character.
                    Term::Text(sign.map(String::from).unwrap_or_default())
                } else {
                    Term::Text(text)
                }
            }
        };
        match sign {
            Some('?') => terms.optional.push(term),
            Some('-') => terms.excluded.push(term),
            _ => terms.required.push(term),
        }
    }
    Ok(terms)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn m(pattern: &str, message: &str) -> bool {
        FilterPattern::parse(pattern).unwrap().matches(message)
    }

    #[test]
    fn term_patterns_from_the_docs() {
        let log = "[ERROR] Caught IllegalArgumentException";
        assert!(m("ERROR", log));
        assert!(!m("error", log), "terms are case sensitive_NEG");
        assert!(m("ERROR Caught", log));
        assert!(
            !m("ERROR Exiting", log),
            "_NEG: every plain term must occur"
        );
        assert!(m("?ERROR ?WARN", log));
        assert!(m("?WARN ?Caught", log));
        assert!(!m("?WARN ?INFO", log), "_NEG");
        assert!(m("ERROR -Exiting", log));
        assert!(!m("ERROR -Caught", log), "_NEG: an excluded term occurs");
        assert!(m("\"[ERROR] Caught\"", log));
        assert!(!m("\"ERROR  Caught\"", log), "_NEG");
        assert!(m("%Illegal[A-Za-z]+%", log));
        assert!(!m("%^Caught%", log), "_NEG");
        assert!(m("", log));
    }

    #[test]
    fn invalid_patterns_are_errors() {
        assert_eq!(
            FilterPattern::parse("\"open").unwrap_err(),
            FilterPatternError::UnbalancedQuotes
        );
        assert!(matches!(
            FilterPattern::parse("%(%"),
            Err(FilterPatternError::InvalidRegex(..))
        ));
        assert!(matches!(
            FilterPattern::parse("%abcdefghijklmnopqrstuvwxyz0%"),
            Err(FilterPatternError::RegexTooLong(_))
        ));
        assert!(FilterPattern::parse("{ $.a = }").is_err());
        assert!(FilterPattern::parse("{ $.a = 1").is_err());
        assert!(FilterPattern::parse("[a, b").is_err());
    }

    #[test]
    fn metric_filter_values_come_from_selectors() {
        let p = FilterPattern::parse("{ $.latency > 100 }").unwrap();
        let hit = p.match_fields(r#"{"latency": 250, "path": "/x"}"#).unwrap();
        assert_eq!(hit.field("$.latency").as_deref(), Some("250"));
        assert_eq!(hit.field("$.path").as_deref(), Some("/x"));
        assert!(p.match_fields(r#"{"latency": 50}"#).is_none());
        let s = FilterPattern::parse("[ip, user, ..., status = 5*, bytes]").unwrap();
        let hit = s.match_fields("10.0.0.1 alice GET /x 503 1200").unwrap();
        assert_eq!(hit.field("$bytes").as_deref(), Some("1200"));
        assert_eq!(hit.field("$ip").as_deref(), Some("10.0.0.1"));
    }
}

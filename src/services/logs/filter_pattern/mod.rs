//! The CloudWatch Logs filter pattern language, shared by FilterLogEvents, metric filters,
//! subscription filters and TestMetricFilter.
//!
//! AWS tells the three forms apart by the first character of the pattern, and so does
//! [`FilterPattern::parse`]:
//! - `{` — a JSON pattern (`{ $.eventType = "UpdateTrail" && $.latency > 500 }`), matched only
//!   against events that are JSON;
//! - `[` — a space-delimited pattern (`[ip, user, ..., status_code = 4*, bytes > 1000]`);
//! - anything else — terms (`ERROR`, `"exact phrase"`, `?ERROR ?WARN`, `ERROR -Exiting`,
//!   `%regex%`); the empty pattern matches every event.
//!
//! A pattern is parsed and validated once (regular expressions compiled, literals classified),
//! so matching an event does no parsing; only JSON patterns allocate, to decode the event.
//! Invalid patterns yield the messages AWS returns with `InvalidParameterException`.

mod aws_regex;
mod delimited;
mod json;
mod lexer;
mod operand;
mod terms;
#[cfg(test)]
mod tests;

use serde_json::Value;

/// AWS allows at most two regular expressions in one filter pattern.
const MAX_REGEX_PER_PATTERN: usize = 2;

/// Why a filter pattern is invalid. `Display` is the message AWS returns.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FilterPatternError {
    /// An unquoted term, value or selector, or a `%regex%`, holds a character AWS does not
    /// accept there; the payload is the offending text.
    #[error("Invalid character(s) in term '{0}'")]
    InvalidCharacters(String),
    #[error("If a filter pattern starts with '{{' it must end with '}}'")]
    UnclosedJson,
    #[error("If a filter pattern starts with '[' it must end with ']'")]
    UnclosedDelimited,
    #[error("There is a limit of 2 regex for each filter pattern")]
    TooManyRegex,
    #[error(
        "You can only use up to one wildcard selector in a property selector, and up to three \
         wildcard selectors in a filter pattern"
    )]
    TooManyWildcardSelectors,
    /// Any other syntax error; AWS names no cause, `reason` says which rule was broken.
    #[error("Invalid filter pattern")]
    Invalid { reason: &'static str },
}

impl FilterPatternError {
    fn invalid(reason: &'static str) -> Self {
        FilterPatternError::Invalid { reason }
    }

    fn characters(text: impl ToString) -> Self {
        FilterPatternError::InvalidCharacters(text.to_string())
    }
}

/// A parsed filter pattern: parse once, match many times; cheap to clone and share across
/// threads.
#[derive(Debug, Clone)]
pub struct FilterPattern {
    form: Form,
}

#[derive(Debug, Clone)]
enum Form {
    Everything,
    Terms(terms::TermPattern),
    Json(json::JsonPattern),
    Delimited(delimited::DelimitedPattern),
}

impl FilterPattern {
    /// Parses and validates a pattern; `""` (or only whitespace) matches every event.
    pub fn parse(pattern: &str) -> Result<FilterPattern, FilterPatternError> {
        let trimmed = pattern.trim();
        let form = if trimmed.is_empty() {
            Form::Everything
        } else if let Some(open) = trimmed.strip_prefix('{') {
            let body = open
                .strip_suffix('}')
                .ok_or(FilterPatternError::UnclosedJson)?;
            Form::Json(json::JsonPattern::parse(body)?)
        } else if let Some(open) = trimmed.strip_prefix('[') {
            let body = open
                .strip_suffix(']')
                .ok_or(FilterPatternError::UnclosedDelimited)?;
            Form::Delimited(delimited::DelimitedPattern::parse(body)?)
        } else {
            Form::Terms(terms::TermPattern::parse(trimmed)?)
        };
        Ok(FilterPattern { form })
    }

    /// Whether the event message matches.
    pub fn matches(&self, message: &str) -> bool {
        match &self.form {
            Form::Everything => true,
            Form::Terms(terms) => terms.matches(message),
            Form::Json(pattern) => {
                json::parse_event(message).is_some_and(|e| pattern.matches_event(&e))
            }
            Form::Delimited(pattern) => pattern.matches(message),
        }
    }

    /// Matches and keeps what metric filters read `metricValue` and dimensions from: the
    /// decoded event for JSON patterns, the fields for space-delimited ones. Term patterns
    /// expose no fields.
    pub fn match_fields<'a>(&self, message: &'a str) -> Option<MatchedEvent<'a>> {
        let source = match &self.form {
            Form::Json(pattern) => {
                let event = json::parse_event(message)?;
                if !pattern.matches_event(&event) {
                    return None;
                }
                Source::Json(event)
            }
            Form::Delimited(pattern) => Source::Delimited(pattern.extract(message)?),
            Form::Everything | Form::Terms(_) => {
                if !self.matches(message) {
                    return None;
                }
                Source::Plain
            }
        };
        Some(MatchedEvent { source })
    }
}

/// An event that matched, with the values its selectors resolve to.
#[derive(Debug, Clone)]
pub struct MatchedEvent<'a> {
    source: Source<'a>,
}

#[derive(Debug, Clone)]
enum Source<'a> {
    Plain,
    Json(Value),
    Delimited(delimited::Extraction<'a>),
}

impl MatchedEvent<'_> {
    /// The value a selector names: `$.latency`, `$.a.b[0]` or `$.['key.with.dots']` in a JSON
    /// event (strings and numbers only, as AWS reads value nodes); `$bytes` for a named
    /// space-delimited field, or `$7` for the seventh field. `None` when nothing is there.
    pub fn field(&self, selector: &str) -> Option<String> {
        match &self.source {
            Source::Json(event) => {
                let selector = json::Selector::parse(selector).ok()?;
                selector.first(event).and_then(json::value_text)
            }
            Source::Delimited(extraction) => extraction.get(selector).map(str::to_string),
            Source::Plain => None,
        }
    }
}

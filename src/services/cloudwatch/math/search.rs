//! The CloudWatch search expression language: the text inside `SEARCH('...', ...)`.
//!
//! A query is an optional metric schema `{Namespace, DimName, ...}` followed by an optional
//! search term: partial-match words, exact `"quoted"` strings, `Property=value` designators
//! (`MetricName`, `Namespace` or a dimension name), combined with case-sensitive `AND`, `OR`,
//! `NOT`, parentheses, and implicit AND between adjacent terms.
//!
//! Matching follows the documented tokenization: names split into tokens at camel-case
//! humps, at the start of digit runs and at non-alphanumeric characters. A single-token word
//! of the search term matches a single token case-insensitively; a word of several tokens
//! (`CustomCount`, `Count1`) is a composite that must match consecutive tokens with the same
//! capitalisation; words separated by punctuation (`network-errors`) must match consecutive
//! tokens; and a term also matches the lowercased name with its punctuation removed (the
//! documented `customcount1` token of `CustomCount1`).
//!
//! The schema is read as "exactly these dimensions": `{AWS/EC2,InstanceId}` finds the
//! per-instance metrics and `{AWS/EC2}` the namespace-wide aggregate, as the user guide's
//! examples describe.
//!
//! The query is parsed once into a tree that [`SearchQuery::matches`] walks without
//! allocating, since the store tests it against every metric of an account.

use super::parser::MAX_DEPTH;
use super::MathError;

/// Longest search text AWS accepts, in characters.
const MAX_SEARCH_CHARS: usize = 1024;

/// A parsed search expression, testable against metric identities.
#[derive(Debug, Clone, PartialEq)]
pub struct SearchQuery {
    schema: Option<Schema>,
    term: Option<Term>,
}

#[derive(Debug, Clone, PartialEq)]
struct Schema {
    namespace: String,
    dimensions: Vec<String>,
}

#[derive(Debug, Clone, PartialEq)]
enum Term {
    All(Vec<Term>),
    Any(Vec<Term>),
    Not(Box<Term>),
    Match(Field, Pattern),
}

/// Which part of a metric a term is tested against.
#[derive(Debug, Clone, PartialEq)]
enum Field {
    /// Namespace, metric name, dimension names and dimension values.
    Anywhere,
    MetricName,
    Namespace,
    /// The value of the named dimension.
    Dimension(String),
}

#[derive(Debug, Clone, PartialEq)]
enum Pattern {
    Exact(String),
    Partial(Partial),
}

/// A partial-match term, pre-split into the pieces that must match consecutive tokens.
#[derive(Debug, Clone, PartialEq)]
struct Partial {
    pieces: Vec<Piece>,
    /// The term's letters and digits, lowercased, for the whole-name token.
    folded: String,
}

#[derive(Debug, Clone, PartialEq)]
struct Piece {
    text: String,
    case_sensitive: bool,
}

impl SearchQuery {
    /// Parses a search expression; errors carry the character position within `text`.
    pub fn parse(text: &str) -> Result<SearchQuery, MathError> {
        let chars: Vec<char> = text.chars().collect();
        if chars.len() > MAX_SEARCH_CHARS {
            return Err(search_error(
                0,
                format!("a search expression can have at most {MAX_SEARCH_CHARS} characters"),
            ));
        }
        let mut parser = SearchParser {
            chars,
            index: 0,
            depth: 0,
        };
        parser.skip_whitespace();
        let schema = if parser.peek() == Some('{') {
            let schema = parser.schema()?;
            parser.skip_whitespace();
            if parser.peek() == Some(',') {
                parser.index += 1;
                parser.skip_whitespace();
            }
            Some(schema)
        } else {
            None
        };
        let term = if parser.at_end() {
            None
        } else {
            Some(parser.any()?)
        };
        parser.skip_whitespace();
        if let Some(c) = parser.peek() {
            return Err(search_error(parser.index, format!("unexpected '{c}'")));
        }
        if schema.is_none() && term.is_none() {
            return Err(search_error(
                0,
                "a search must contain a metric schema, a search term, or both".to_string(),
            ));
        }
        Ok(SearchQuery { schema, term })
    }

    /// The namespace named by the metric schema, if any: a metric outside it never matches,
    /// so a store can narrow its scan to it.
    pub fn namespace(&self) -> Option<&str> {
        self.schema.as_ref().map(|schema| schema.namespace.as_str())
    }

    /// Whether the metric with this identity is found by the search.
    pub fn matches(
        &self,
        namespace: &str,
        metric_name: &str,
        dimensions: &[(String, String)],
    ) -> bool {
        if let Some(schema) = &self.schema {
            let same_dimensions = schema.dimensions.len() == dimensions.len()
                && schema
                    .dimensions
                    .iter()
                    .all(|wanted| dimensions.iter().any(|(name, _)| name == wanted));
            if schema.namespace != namespace || !same_dimensions {
                return false;
            }
        }
        let metric = MetricIdentity {
            namespace,
            metric_name,
            dimensions,
        };
        self.term.as_ref().is_none_or(|term| term.matches(&metric))
    }
}

struct MetricIdentity<'a> {
    namespace: &'a str,
    metric_name: &'a str,
    dimensions: &'a [(String, String)],
}

impl Term {
    fn matches(&self, metric: &MetricIdentity<'_>) -> bool {
        match self {
            Term::All(terms) => terms.iter().all(|term| term.matches(metric)),
            Term::Any(terms) => terms.iter().any(|term| term.matches(metric)),
            Term::Not(term) => !term.matches(metric),
            Term::Match(field, pattern) => match field {
                Field::Anywhere => {
                    pattern.matches(metric.namespace)
                        || pattern.matches(metric.metric_name)
                        || metric
                            .dimensions
                            .iter()
                            .any(|(name, value)| pattern.matches(name) || pattern.matches(value))
                }
                Field::MetricName => pattern.matches(metric.metric_name),
                Field::Namespace => pattern.matches(metric.namespace),
                Field::Dimension(wanted) => metric
                    .dimensions
                    .iter()
                    .any(|(name, value)| name == wanted && pattern.matches(value)),
            },
        }
    }
}

impl Pattern {
    fn matches(&self, name: &str) -> bool {
        match self {
            Pattern::Exact(text) => text == name,
            Pattern::Partial(partial) => partial.matches(name),
        }
    }
}

impl Partial {
    fn from_term(text: &str) -> Partial {
        let mut pieces = Vec::new();
        for word in text.split(|c: char| !c.is_alphanumeric()) {
            let tokens: Vec<&str> = NameTokens::new(word).collect();
            let case_sensitive = tokens.len() > 1;
            for token in tokens {
                pieces.push(Piece {
                    text: if case_sensitive {
                        token.to_string()
                    } else {
                        token.chars().flat_map(char::to_lowercase).collect()
                    },
                    case_sensitive,
                });
            }
        }
        let folded = text
            .chars()
            .filter(|c| c.is_alphanumeric())
            .flat_map(char::to_lowercase)
            .collect();
        Partial { pieces, folded }
    }

    fn matches(&self, name: &str) -> bool {
        let folded_name = name
            .chars()
            .filter(|c| c.is_alphanumeric())
            .flat_map(char::to_lowercase);
        if folded_name.eq(self.folded.chars()) {
            return true;
        }
        let mut starts = NameTokens::new(name);
        loop {
            let candidate = starts.clone();
            if starts.next().is_none() {
                return false;
            }
            if self.matches_run(candidate) {
                return true;
            }
        }
    }

    /// Whether the pieces match the tokens starting at `tokens`, one for one.
    fn matches_run(&self, mut tokens: NameTokens<'_>) -> bool {
        self.pieces.iter().all(|piece| {
            tokens.next().is_some_and(|token| {
                if piece.case_sensitive {
                    token == piece.text
                } else {
                    token
                        .chars()
                        .flat_map(char::to_lowercase)
                        .eq(piece.text.chars())
                }
            })
        })
    }
}

/// Iterator over the tokens of a name: runs of lowercase letters optionally led by one
/// capital (`Custom`), runs of capitals not followed by lowercase (`SDB` in `SDBFailure`),
/// and runs of digits. Other characters separate tokens.
#[derive(Clone)]
struct NameTokens<'a> {
    rest: &'a str,
}

#[derive(Clone, Copy, PartialEq)]
enum CharClass {
    Digit,
    Upper,
    Lower,
}

fn class_of(c: char) -> CharClass {
    if c.is_numeric() {
        CharClass::Digit
    } else if c.is_uppercase() {
        CharClass::Upper
    } else {
        CharClass::Lower
    }
}

impl<'a> NameTokens<'a> {
    fn new(text: &'a str) -> NameTokens<'a> {
        NameTokens { rest: text }
    }
}

impl<'a> Iterator for NameTokens<'a> {
    type Item = &'a str;

    fn next(&mut self) -> Option<&'a str> {
        let start = self.rest.find(|c: char| c.is_alphanumeric())?;
        let text = self.rest.get(start..)?;
        let mut chars = text.char_indices().peekable();
        let (_, first) = chars.next()?;
        let mut previous = class_of(first);
        let mut end = first.len_utf8();
        while let Some(&(offset, c)) = chars.peek() {
            if !c.is_alphanumeric() {
                break;
            }
            let class = class_of(c);
            let continues = match (previous, class) {
                (CharClass::Digit, CharClass::Digit) => true,
                (CharClass::Digit, _) | (_, CharClass::Digit) => false,
                (_, CharClass::Lower) => true,
                (CharClass::Lower, CharClass::Upper) => false,
                (CharClass::Upper, CharClass::Upper) => {
                    // In "SDBFailure" the F starts "Failure": a capital followed by a
                    // lowercase letter begins a new word.
                    let after = text
                        .get(offset + c.len_utf8()..)
                        .and_then(|s| s.chars().next());
                    !after.is_some_and(|next| {
                        next.is_alphanumeric() && class_of(next) == CharClass::Lower
                    })
                }
            };
            if !continues {
                break;
            }
            previous = class;
            end = offset + c.len_utf8();
            chars.next();
        }
        let token = text.get(..end)?;
        self.rest = text.get(end..).unwrap_or_default();
        Some(token)
    }
}

fn search_error(position: usize, detail: String) -> MathError {
    MathError::Search { position, detail }
}

struct SearchParser {
    chars: Vec<char>,
    index: usize,
    depth: usize,
}

impl SearchParser {
    fn peek(&self) -> Option<char> {
        self.chars.get(self.index).copied()
    }

    fn at_end(&self) -> bool {
        self.index >= self.chars.len()
    }

    fn skip_whitespace(&mut self) {
        while self.peek().is_some_and(char::is_whitespace) {
            self.index += 1;
        }
    }

    fn schema(&mut self) -> Result<Schema, MathError> {
        let open = self.index;
        self.index += 1;
        let mut names = Vec::new();
        loop {
            self.skip_whitespace();
            let name_start = self.index;
            let name = if self.peek() == Some('"') {
                self.quoted()?
            } else {
                let mut name = String::new();
                while let Some(c) = self.peek().filter(|c| *c != ',' && *c != '}') {
                    name.push(c);
                    self.index += 1;
                }
                name.trim_end().to_string()
            };
            if name.is_empty() && self.peek().is_some() {
                return Err(search_error(
                    name_start,
                    "the metric schema has an empty name".to_string(),
                ));
            }
            self.skip_whitespace();
            match self.peek() {
                Some(',') => {
                    names.push(name);
                    self.index += 1;
                }
                Some('}') => {
                    names.push(name);
                    self.index += 1;
                    break;
                }
                _ => {
                    return Err(search_error(
                        open,
                        "the metric schema is missing its closing '}'".to_string(),
                    ))
                }
            }
        }
        let mut names = names.into_iter();
        let namespace = names.next().unwrap_or_default();
        Ok(Schema {
            namespace,
            dimensions: names.collect(),
        })
    }

    /// Reads a double-quoted string at the cursor, applying backslash escapes.
    fn quoted(&mut self) -> Result<String, MathError> {
        let open = self.index;
        self.index += 1;
        let mut text = String::new();
        loop {
            match self.peek() {
                None => return Err(search_error(open, "unterminated quoted string".to_string())),
                Some('\\') => {
                    self.index += 1;
                    if let Some(escaped) = self.peek() {
                        text.push(escaped);
                        self.index += 1;
                    }
                }
                Some('"') => {
                    self.index += 1;
                    return Ok(text);
                }
                Some(c) => {
                    text.push(c);
                    self.index += 1;
                }
            }
        }
    }

    /// A bare word: everything up to whitespace, a parenthesis, a quote or '='.
    fn peek_word(&self) -> String {
        self.chars
            .get(self.index..)
            .unwrap_or_default()
            .iter()
            .take_while(|c| !c.is_whitespace() && !matches!(c, '(' | ')' | '"' | '='))
            .collect()
    }

    fn enter(&mut self) -> Result<(), MathError> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return Err(search_error(
                self.index,
                format!("the search term is nested more than {MAX_DEPTH} levels deep"),
            ));
        }
        Ok(())
    }

    fn any(&mut self) -> Result<Term, MathError> {
        let mut terms = vec![self.all()?];
        loop {
            self.skip_whitespace();
            if self.peek_word() != "OR" {
                break;
            }
            self.index += 2;
            terms.push(self.all()?);
        }
        Ok(if terms.len() == 1 {
            terms.pop().unwrap_or(Term::All(Vec::new()))
        } else {
            Term::Any(terms)
        })
    }

    fn all(&mut self) -> Result<Term, MathError> {
        let mut terms = vec![self.unary()?];
        loop {
            self.skip_whitespace();
            let word = self.peek_word();
            if self.at_end() || self.peek() == Some(')') || word == "OR" {
                break;
            }
            if word == "AND" {
                self.index += 3;
            }
            terms.push(self.unary()?);
        }
        Ok(if terms.len() == 1 {
            terms.pop().unwrap_or(Term::All(Vec::new()))
        } else {
            Term::All(terms)
        })
    }

    fn unary(&mut self) -> Result<Term, MathError> {
        self.enter()?;
        self.skip_whitespace();
        let term = if self.peek_word() == "NOT" {
            self.index += 3;
            self.unary().map(|term| Term::Not(Box::new(term)))
        } else {
            self.primary()
        };
        self.depth -= 1;
        term
    }

    fn primary(&mut self) -> Result<Term, MathError> {
        self.skip_whitespace();
        let start = self.index;
        match self.peek() {
            None => Err(search_error(start, "expected a search term".to_string())),
            Some('(') => {
                self.index += 1;
                self.skip_whitespace();
                if self.peek() == Some(')') {
                    return Err(search_error(self.index, "empty parentheses".to_string()));
                }
                let inner = self.any()?;
                self.skip_whitespace();
                if self.peek() != Some(')') {
                    return Err(search_error(start, "unclosed '('".to_string()));
                }
                self.index += 1;
                Ok(inner)
            }
            Some('"') => {
                let text = self.quoted()?;
                if self.peek() == Some('=') {
                    return self.property(text);
                }
                Ok(Term::Match(Field::Anywhere, Pattern::Exact(text)))
            }
            Some(c) => {
                let word = self.peek_word();
                if word.is_empty() {
                    return Err(search_error(start, format!("unexpected '{c}'")));
                }
                if word == "AND" || word == "OR" {
                    return Err(search_error(start, format!("unexpected {word}")));
                }
                self.index += word.chars().count();
                if self.peek() == Some('=') {
                    return self.property(word);
                }
                Ok(Term::Match(Field::Anywhere, partial(start, &word)?))
            }
        }
    }

    /// `name=value` with the cursor on '='.
    fn property(&mut self, name: String) -> Result<Term, MathError> {
        self.index += 1;
        let value_start = self.index;
        let pattern = if self.peek() == Some('"') {
            Pattern::Exact(self.quoted()?)
        } else {
            let word: String = self
                .chars
                .get(self.index..)
                .unwrap_or_default()
                .iter()
                .take_while(|c| !c.is_whitespace() && !matches!(c, '(' | ')'))
                .collect();
            if word.is_empty() {
                return Err(search_error(
                    value_start,
                    format!("expected a value after {name}="),
                ));
            }
            self.index += word.chars().count();
            partial(value_start, &word)?
        };
        let field = match name.as_str() {
            "MetricName" => Field::MetricName,
            "Namespace" => Field::Namespace,
            _ => Field::Dimension(name),
        };
        Ok(Term::Match(field, pattern))
    }
}

fn partial(position: usize, word: &str) -> Result<Pattern, MathError> {
    let partial = Partial::from_term(word);
    if partial.pieces.is_empty() {
        return Err(search_error(
            position,
            format!("the search term '{word}' has no letters or digits"),
        ));
    }
    Ok(Pattern::Partial(partial))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dims(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(name, value)| (name.to_string(), value.to_string()))
            .collect()
    }

    #[test]
    fn tokenization_matches_the_user_guide_table() {
        let cases: [(&str, &[&str]); 7] = [
            ("CustomCount1", &["Custom", "Count", "1"]),
            ("SDBFailure", &["SDB", "Failure"]),
            ("Project2-trial333", &["Project", "2", "trial", "333"]),
            ("Network-Errors_2", &["Network", "Errors", "2"]),
            ("AWS/EC2", &["AWS", "EC", "2"]),
            ("couNT", &["cou", "NT"]),
            ("--", &[]),
        ];
        for (name, expected) in cases {
            assert_eq!(
                NameTokens::new(name).collect::<Vec<_>>(),
                expected,
                "{name}"
            );
        }
    }

    /// Documented partial and exact matches against a metric named `CustomCount1`.
    #[test]
    fn partial_and_exact_matching_of_custom_count1() {
        let cases = [
            ("count", true),
            ("Count", true),
            ("COUNT", true),
            ("CustomCount", true),
            ("Count1", true),
            ("customcount1", true),
            ("\"CustomCount1\"", true),
            // _NEG: documented non-matches.
            ("couNT", false),
            ("customcount", false),
            ("count1", false),
            ("\"customcount1\"", false),
            ("\"Custom\"", false),
            ("Counter", false),
        ];
        for (term, expected) in cases {
            let query = SearchQuery::parse(&format!(" {{MyNamespace}} {term} ")).unwrap();
            assert_eq!(
                query.matches("MyNamespace", "CustomCount1", &[]),
                expected,
                "{term}"
            );
        }
    }

    #[test]
    fn punctuation_in_terms_joins_consecutive_tokens() {
        for term in [
            "network/errors",
            "network+errors",
            "network-errors",
            "Network_Errors",
        ] {
            let query = SearchQuery::parse(term).unwrap();
            for name in ["Network-Errors-2", "NetworkErrors2"] {
                assert!(query.matches("Custom", name, &[]), "{term} vs {name}");
            }
            // _NEG: the tokens must be adjacent.
            assert!(!query.matches("Custom", "NetworkInErrors", &[]), "{term}");
        }
        let exact = SearchQuery::parse("\"Network-Errors-2\"").unwrap();
        assert!(exact.matches("Custom", "Network-Errors-2", &[]));
        let exact_neg = SearchQuery::parse("\"Network_Errors_2\"").unwrap();
        assert!(!exact_neg.matches("Custom", "Network-Errors-2", &[]));
    }

    #[test]
    fn schema_requires_namespace_and_exact_dimension_set() {
        let query =
            SearchQuery::parse(r#" {AWS/EC2,InstanceId} MetricName="CPUUtilization" "#).unwrap();
        assert_eq!(query.namespace(), Some("AWS/EC2"));
        let instance = dims(&[("InstanceId", "i-1")]);
        assert!(query.matches("AWS/EC2", "CPUUtilization", &instance));
        // _NEG: other metric, other namespace, extra or missing dimensions.
        assert!(!query.matches("AWS/EC2", "CPUUtilizationPercent", &instance));
        assert!(!query.matches("AWS/EBS", "CPUUtilization", &instance));
        assert!(!query.matches(
            "AWS/EC2",
            "CPUUtilization",
            &dims(&[("InstanceId", "i-1"), ("InstanceType", "t2.micro")])
        ));
        assert!(!query.matches("AWS/EC2", "CPUUtilization", &[]));

        let aggregate = SearchQuery::parse(r#" {AWS/EC2} MetricName="CPUUtilization" "#).unwrap();
        assert!(aggregate.matches("AWS/EC2", "CPUUtilization", &[]));
        assert!(!aggregate.matches("AWS/EC2", "CPUUtilization", &instance));

        let quoted = SearchQuery::parse(
            r#" {"Custom-Namespace", "Dimension Name With Spaces"}, ErrorCount "#,
        )
        .unwrap();
        assert!(quoted.matches(
            "Custom-Namespace",
            "ErrorCount",
            &dims(&[("Dimension Name With Spaces", "x")])
        ));
        let schema_only = SearchQuery::parse("{AWS/Lambda, FunctionName}").unwrap();
        assert!(schema_only.matches("AWS/Lambda", "Errors", &dims(&[("FunctionName", "f")])));
    }

    #[test]
    fn user_guide_search_examples() {
        let ec2 = |name: &str, dims_: &[(&str, &str)]| ("AWS/EC2", name.to_string(), dims(dims_));
        struct Case {
            query: &'static str,
            metric: (&'static str, String, Vec<(String, String)>),
            expected: bool,
        }
        let cases = vec![
            Case {
                query: r#" {AWS/EC2,InstanceType} InstanceType=micro MetricName="CPUUtilization" "#,
                metric: ec2("CPUUtilization", &[("InstanceType", "t2.micro")]),
                expected: true,
            },
            Case {
                query: r#" {AWS/EC2,InstanceType} InstanceType=micro MetricName="CPUUtilization" "#,
                metric: ec2("CPUUtilization", &[("InstanceType", "m5.large")]),
                expected: false,
            },
            Case {
                query: r#" {AWS/EC2,InstanceType} InstanceType="t2.micro" MetricName="CPUUtilization" "#,
                metric: ec2("CPUUtilization", &[("InstanceType", "t3.micro")]),
                expected: false,
            },
            Case {
                query: r#" {AWS/EC2,InstanceId} MetricName="CPUUtilization" NOT i-1234567890123456 "#,
                metric: ec2("CPUUtilization", &[("InstanceId", "i-1234567890123456")]),
                expected: false,
            },
            Case {
                query: r#" {AWS/EC2,InstanceId} MetricName="CPUUtilization" NOT i-1234567890123456 "#,
                metric: ec2("CPUUtilization", &[("InstanceId", "i-0abc")]),
                expected: true,
            },
            Case {
                query: " NOT Namespace=AWS ",
                metric: ("MyApp", "Latency".into(), vec![]),
                expected: true,
            },
            Case {
                query: " NOT Namespace=AWS ",
                metric: ec2("CPUUtilization", &[]),
                expected: false,
            },
            Case {
                query: " (EC2 OR EBS) AND MetricName=ReadOps ",
                metric: (
                    "AWS/EBS",
                    "VolumeReadOps".into(),
                    dims(&[("VolumeId", "vol-1")]),
                ),
                expected: true,
            },
            Case {
                query: " (EC2 OR EBS) MetricName=ReadOps ",
                metric: ec2("DiskReadOps", &[("InstanceId", "i-1")]),
                expected: true,
            },
            Case {
                query: " (EC2 OR EBS) MetricName=ReadOps ",
                metric: ("AWS/RDS", "ReadOps".into(), vec![]),
                expected: false,
            },
            Case {
                query: r#" {AWS/Lambda,FunctionName} MetricName="Errors" OR (MetricName="Invocations" AND (ProjectA OR ProjectB)) "#,
                metric: (
                    "AWS/Lambda",
                    "Invocations".into(),
                    dims(&[("FunctionName", "ProjectB-api")]),
                ),
                expected: true,
            },
            Case {
                query: r#" {AWS/Lambda,FunctionName} MetricName="Errors" OR (MetricName="Invocations" AND (ProjectA OR ProjectB)) "#,
                metric: (
                    "AWS/Lambda",
                    "Invocations".into(),
                    dims(&[("FunctionName", "ProjectC-api")]),
                ),
                expected: false,
            },
            Case {
                query: r#" {AWS/Lambda,FunctionName} MetricName="Errors" OR (MetricName="Invocations" AND (ProjectA OR ProjectB)) "#,
                metric: (
                    "AWS/Lambda",
                    "Errors".into(),
                    dims(&[("FunctionName", "ProjectC-api")]),
                ),
                expected: true,
            },
            Case {
                query: r#" {AWS/NetworkELB, LoadBalancer} "ConsumedLCUs" OR flow "#,
                metric: (
                    "AWS/NetworkELB",
                    "ActiveFlowCount".into(),
                    dims(&[("LoadBalancer", "net/x")]),
                ),
                expected: true,
            },
            Case {
                query: " Errors ",
                metric: ("AWS/Lambda", "ConnectionErrors".into(), vec![]),
                expected: true,
            },
            Case {
                query: r#" "Errors" "#,
                metric: ("AWS/Lambda", "ConnectionErrors".into(), vec![]),
                expected: false,
            },
            Case {
                query: r#" "Errors" "#,
                metric: ("App", "errors".into(), vec![]),
                expected: false,
            },
            Case {
                query: r#" MetricName="CPUUtilization" AND ("AWS/ECS" OR "AWS/ES") "#,
                metric: (
                    "AWS/ES",
                    "CPUUtilization".into(),
                    dims(&[("DomainName", "d")]),
                ),
                expected: true,
            },
            Case {
                query: r#" MetricName="CPUUtilization" AND ("AWS/ECS" OR "AWS/ES") "#,
                metric: ec2("CPUUtilization", &[]),
                expected: false,
            },
            Case {
                query: r#" {"My Namespace", "Dimension@Name"}, "Custom:Name[Special_Characters" "#,
                metric: (
                    "My Namespace",
                    "Custom:Name[Special_Characters".into(),
                    dims(&[("Dimension@Name", "v")]),
                ),
                expected: true,
            },
            Case {
                query: r#" "Europe\\France Traffic\(Network\)" "#,
                metric: ("App", r"Europe\France Traffic(Network)".into(), vec![]),
                expected: true,
            },
            Case {
                query: " network packets ",
                metric: ec2("NetworkPacketsIn", &[("InstanceId", "i-1")]),
                expected: true,
            },
            Case {
                query: " network AND packets ",
                metric: ec2("NetworkIn", &[("InstanceId", "i-1")]),
                expected: false,
            },
        ];
        for case in cases {
            let query =
                SearchQuery::parse(case.query).unwrap_or_else(|e| panic!("{}: {e}", case.query));
            let (namespace, name, dimensions) = &case.metric;
            assert_eq!(
                query.matches(namespace, name, dimensions),
                case.expected,
                "{} vs {name}",
                case.query
            );
        }
    }

    #[test]
    fn invalid_searches_are_errors_with_positions() {
        let long = "a".repeat(1025);
        let cases: Vec<(&str, usize)> = vec![
            ("", 0),
            ("   ", 0),
            ("{AWS/EC2", 0),
            ("{AWS/EC2,}", 9),
            ("x \"open", 2),
            ("(a OR b", 0),
            ("a OR", 4),
            ("AND a", 0),
            ("a )", 2),
            ("()", 1),
            ("MetricName=", 11),
            ("---", 0),
            (long.as_str(), 0),
        ];
        for (text, position) in cases {
            let error = SearchQuery::parse(text).unwrap_err();
            assert!(matches!(error, MathError::Search { .. }), "{text}: {error}");
            assert_eq!(error.position(), Some(position), "{text}: {error}");
        }
        let deep = format!("{}a{}", "(".repeat(100), ")".repeat(100));
        assert!(SearchQuery::parse(&deep).is_err());
        let nots = format!("{}a", "NOT ".repeat(100));
        assert!(SearchQuery::parse(&nots).is_err());
    }
}

//! Space-delimited filter patterns: `[ip, user, ..., status = 5*, bytes > 1000]`.
//!
//! A log line is split at spaces; text inside double quotes or square brackets is one field
//! (without its delimiters). Pattern fields match positionally; `...` stands for any number of
//! fields. A field may carry conditions joined by `&&` / `||`, each naming the field.

use regex::Regex;

use super::{compile_regex, wildcard, FilterPatternError};

#[derive(Debug, Clone)]
pub struct Pattern {
    fields: Vec<Field>,
}

#[derive(Debug, Clone)]
enum Field {
    Ellipsis,
    Named {
        name: String,
        condition: Option<Condition>,
    },
}

#[derive(Debug, Clone)]
enum Condition {
    Compare(Comparison),
    And(Box<Condition>, Box<Condition>),
    Or(Box<Condition>, Box<Condition>),
}

#[derive(Debug, Clone)]
struct Comparison {
    op: &'static str,
    number: Option<f64>,
    text: String,
    wildcard: Option<Regex>,
    regex: Option<Regex>,
}

impl Comparison {
    fn holds(&self, value: &str) -> bool {
        if let Some(re) = &self.regex {
            let found = re.is_match(value);
            return if self.op == "!=" { !found } else { found };
        }
        if let Some(n) = self.number {
            if let Ok(x) = value.parse::<f64>() {
                return match self.op {
                    "=" => x == n,
                    "!=" => x != n,
                    "<" => x < n,
                    "<=" => x <= n,
                    ">" => x > n,
                    ">=" => x >= n,
                    _ => false,
                };
            }
            if self.op != "=" && self.op != "!=" {
                return false;
            }
        }
        let equal = match &self.wildcard {
            Some(re) => re.is_match(value),
            None => value == self.text,
        };
        match self.op {
            "=" => equal,
            "!=" => !equal,
            _ => false,
        }
    }
}

impl Condition {
    fn holds(&self, value: &str) -> bool {
        match self {
            Condition::Compare(c) => c.holds(value),
            Condition::And(a, b) => a.holds(value) && b.holds(value),
            Condition::Or(a, b) => a.holds(value) || b.holds(value),
        }
    }
}

pub fn parse(pattern: &str) -> Result<Pattern, FilterPatternError> {
    let body = pattern
        .strip_prefix('[')
        .and_then(|p| p.trim_end().strip_suffix(']'))
        .ok_or_else(|| {
            FilterPatternError::Syntax(
                "a space-delimited filter pattern must be enclosed in [ ]".into(),
            )
        })?;
    let mut fields = Vec::new();
    for part in split_top_level(body, ',')? {
        let part = part.trim();
        if part == "..." {
            fields.push(Field::Ellipsis);
            continue;
        }
        let name: String = part
            .chars()
            .take_while(|c| c.is_alphanumeric() || *c == '_' || *c == '-')
            .collect();
        if name.is_empty() {
            return Err(FilterPatternError::Syntax(format!("invalid field {part}")));
        }
        let rest = part[name.len()..].trim();
        let condition = if rest.is_empty() {
            None
        } else {
            Some(parse_condition(&name, rest)?)
        };
        fields.push(Field::Named { name, condition });
    }
    if fields.is_empty() {
        return Err(FilterPatternError::Syntax(
            "a space-delimited filter pattern needs at least one field".into(),
        ));
    }
    Ok(Pattern { fields })
}

/// Splits at `separator` outside double quotes and `%regex%`.
fn split_top_level(text: &str, separator: char) -> Result<Vec<String>, FilterPatternError> {
    let mut parts = vec![String::new()];
    let mut quoted = false;
    let mut regex = false;
    for c in text.chars() {
        match c {
            '"' if !regex => quoted = !quoted,
            '%' if !quoted => regex = !regex,
            c if c == separator && !quoted && !regex => {
                parts.push(String::new());
                continue;
            }
            _ => {}
        }
        if let Some(last) = parts.last_mut() {
            last.push(c);
        }
    }
    if quoted {
        return Err(FilterPatternError::UnbalancedQuotes);
    }
    Ok(parts)
}

/// `= 5*`, `> 1000 && status < 2000`, `= 4* || status = 5*`: conditions after the field name.
fn parse_condition(name: &str, rest: &str) -> Result<Condition, FilterPatternError> {
    // `||` binds looser than `&&`.
    let ors: Vec<&str> = rest.split("||").collect();
    let mut condition: Option<Condition> = None;
    for (i, or_part) in ors.iter().enumerate() {
        let mut and_condition: Option<Condition> = None;
        for (j, and_part) in or_part.split("&&").enumerate() {
            let mut text = and_part.trim();
            // Every condition after the first repeats the field name.
            if i > 0 || j > 0 {
                text = text.strip_prefix(name).map(str::trim).ok_or_else(|| {
                    FilterPatternError::Syntax(format!(
                        "conditions on field {name} must name that field"
                    ))
                })?;
            }
            let c = Condition::Compare(parse_comparison(text)?);
            and_condition = Some(match and_condition {
                None => c,
                Some(prev) => Condition::And(Box::new(prev), Box::new(c)),
            });
        }
        let c =
            and_condition.ok_or_else(|| FilterPatternError::Syntax("empty condition".into()))?;
        condition = Some(match condition {
            None => c,
            Some(prev) => Condition::Or(Box::new(prev), Box::new(c)),
        });
    }
    condition.ok_or_else(|| FilterPatternError::Syntax("empty condition".into()))
}

fn parse_comparison(text: &str) -> Result<Comparison, FilterPatternError> {
    let op = ["!=", "<=", ">=", "=", "<", ">"]
        .into_iter()
        .find(|op| text.starts_with(op))
        .ok_or_else(|| {
            FilterPatternError::Syntax(format!("expected a comparison operator in {text}"))
        })?;
    let value = text[op.len()..].trim();
    if value.is_empty() {
        return Err(FilterPatternError::Syntax(format!(
            "missing value after {op}"
        )));
    }
    let unquoted = value.strip_prefix('"').and_then(|v| v.strip_suffix('"'));
    if let Some(body) = value.strip_prefix('%').and_then(|v| v.strip_suffix('%')) {
        return Ok(Comparison {
            op,
            number: None,
            text: String::new(),
            wildcard: None,
            regex: Some(compile_regex(body)?),
        });
    }
    let text = unquoted.unwrap_or(value).to_string();
    let number = if unquoted.is_none() {
        text.parse::<f64>().ok().filter(|n| n.is_finite())
    } else {
        None
    };
    if number.is_none() && !matches!(op, "=" | "!=") {
        return Err(FilterPatternError::Syntax(format!(
            "{op} needs a number, found {value}"
        )));
    }
    Ok(Comparison {
        op,
        number,
        wildcard: wildcard(&text),
        text,
        regex: None,
    })
}

/// The fields of a log line: space-separated, quotes and brackets grouping.
fn split_line(line: &str) -> Vec<&str> {
    let mut fields = Vec::new();
    let bytes = line.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        match bytes.get(i) {
            Some(b' ') => i += 1,
            Some(&open @ (b'"' | b'[')) => {
                let close = if open == b'"' { b'"' } else { b']' };
                let start = i + 1;
                let end = bytes
                    .get(start..)
                    .and_then(|rest| rest.iter().position(|b| *b == close))
                    .map(|p| start + p);
                match end {
                    Some(end) => {
                        fields.push(line.get(start..end).unwrap_or_default());
                        i = end + 1;
                    }
                    None => {
                        fields.push(line.get(i..).unwrap_or_default());
                        i = bytes.len();
                    }
                }
            }
            _ => {
                let start = i;
                while i < bytes.len() && bytes.get(i) != Some(&b' ') {
                    i += 1;
                }
                fields.push(line.get(start..i).unwrap_or_default());
            }
        }
    }
    fields
}

impl Pattern {
    /// The named fields of a matching line, or `None`.
    pub fn matches<'a>(&'a self, line: &str) -> Option<Vec<(&'a str, String)>> {
        let values = split_line(line);
        let mut captured = Vec::new();
        self.match_from(0, &values, 0, &mut captured)
            .then_some(captured)
    }

    fn match_from<'a>(
        &'a self,
        field: usize,
        values: &[&str],
        at: usize,
        captured: &mut Vec<(&'a str, String)>,
    ) -> bool {
        let Some(f) = self.fields.get(field) else {
            return at == values.len();
        };
        match f {
            Field::Ellipsis => (at..=values.len()).any(|next| {
                let mark = captured.len();
                let ok = self.match_from(field + 1, values, next, captured);
                if !ok {
                    captured.truncate(mark);
                }
                ok
            }),
            Field::Named { name, condition } => {
                let Some(value) = values.get(at) else {
                    return false;
                };
                if condition.as_ref().is_some_and(|c| !c.holds(value)) {
                    return false;
                }
                captured.push((name.as_str(), (*value).to_string()));
                if self.match_from(field + 1, values, at + 1, captured) {
                    true
                } else {
                    captured.pop();
                    false
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::FilterPattern;

    const LINE: &str =
        r#"127.0.0.1 - frank [10/Oct/2000:13:25:15 -0700] "GET /apache_pb.gif HTTP/1.0" 200 1534"#;

    fn m(pattern: &str, message: &str) -> bool {
        FilterPattern::parse(pattern).unwrap().matches(message)
    }

    #[test]
    fn space_delimited_patterns_from_the_docs() {
        assert!(m(
            "[ip, user, username, timestamp, request, status_code, bytes]",
            LINE
        ));
        assert!(m(
            "[ip, user, username, timestamp, request, status_code = 200, bytes]",
            LINE
        ));
        assert!(
            !m(
                "[ip, user, username, timestamp, request, status_code = 4*, bytes]",
                LINE
            ),
            "_NEG"
        );
        assert!(m(
            "[ip, user, username, timestamp, request, status_code = 2*, bytes > 1000]",
            LINE
        ));
        assert!(
            !m(
                "[ip, user, username, timestamp, request, status_code, bytes > 2000]",
                LINE
            ),
            "_NEG"
        );
        assert!(m("[..., status_code = 200, bytes]", LINE));
        assert!(m("[ip = 127.0.0.*, ...]", LINE));
        assert!(
            !m("[ip, user]", LINE),
            "_NEG: without ... the field count must match"
        );
        assert!(m(r#"[ip, user, username = "frank", ...]"#, LINE));
        assert!(m(
            "[..., status_code = 4* || status_code = 2*, bytes]",
            LINE
        ));
        assert!(m("[..., bytes >= 1000 && bytes < 2000]", LINE));
        assert!(!m("[..., bytes >= 1000 && bytes < 1500]", LINE), "_NEG");
        assert!(m("[..., request = %GET%, status_code, bytes]", LINE));
    }
}

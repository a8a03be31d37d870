//! Expression evaluation over one row.
//!
//! Rows come from two places: a log event being scanned (fields resolved lazily
//! from the event itself) and the result rows of an earlier `stats` or sort
//! (fields held in slots). [`EvalContext`] hides the difference. Booleans use
//! three-valued logic: a comparison with a missing field is unknown rather than
//! false, so `not (x = 1)` drops events without `x` exactly as `x != 1` does, and
//! `filter` keeps only rows whose condition is known to be true.

use std::cmp::Ordering;

use super::ast::{ArithmeticOp, CompareOp, Expr, LikePattern, ParseCommand, ParsePattern, Slot};
use super::value::{compare_values, parse_numeric, Value};

pub(super) trait EvalContext {
    /// The value of a named field, or `None` when the row does not have it.
    fn field(&self, slot: Slot) -> Option<Value<'_>>;
    /// The time `bin(...)` rounds: the event's `@timestamp`.
    fn record_time_ms(&self) -> Option<i64>;
    /// The result of an aggregate, available only while finishing `stats`.
    fn aggregate(&self, _index: usize) -> Option<Value<'_>> {
        None
    }
}

pub(super) fn evaluate<'c>(expr: &'c Expr, context: &'c dyn EvalContext) -> Option<Value<'c>> {
    match expr {
        Expr::Field(slot) => context.field(*slot),
        Expr::Literal(value) => Some(value.reborrow()),
        Expr::Negate(inner) => {
            let n = evaluate(inner, context)?.as_number()?;
            Some(Value::Num(-n))
        }
        Expr::Not(_)
        | Expr::And(..)
        | Expr::Or(..)
        | Expr::Compare(..)
        | Expr::Like { .. }
        | Expr::In { .. } => truth(expr, context).map(Value::Bool),
        Expr::Arithmetic(op, left, right) => {
            let a = evaluate(left, context)?.as_number()?;
            let b = evaluate(right, context)?.as_number()?;
            let result = match op {
                ArithmeticOp::Add => a + b,
                ArithmeticOp::Subtract => a - b,
                ArithmeticOp::Multiply => a * b,
                ArithmeticOp::Divide => a / b,
                ArithmeticOp::Remainder => a % b,
                ArithmeticOp::Power => a.powf(b),
            };
            // Division by zero and overflow leave the field empty rather than print "inf".
            result.is_finite().then_some(Value::Num(result))
        }
        Expr::Call(function, arguments) => match arguments.as_slice() {
            [only] => function.apply_one(evaluate(only, context)),
            _ => function.apply(
                arguments
                    .iter()
                    .map(|argument| evaluate(argument, context))
                    .collect(),
            ),
        },
        Expr::RoundTime {
            subject,
            period,
            up,
        } => {
            let ms = match subject {
                Some(subject) => evaluate(subject, context)?.as_time_ms()?,
                None => context.record_time_ms()?,
            };
            let rounded = if *up {
                period.ceil(ms)?
            } else {
                period.floor(ms)?
            };
            Some(Value::Time(rounded))
        }
        Expr::Aggregate(index) => context.aggregate(*index),
    }
}

/// The truth of a condition: `Some(true)`, `Some(false)`, or `None` when it
/// depends on a missing field.
pub(super) fn truth(expr: &Expr, context: &dyn EvalContext) -> Option<bool> {
    match expr {
        Expr::And(left, right) => match truth(left, context) {
            Some(false) => Some(false),
            left_truth => match (left_truth, truth(right, context)) {
                (_, Some(false)) => Some(false),
                (Some(true), Some(true)) => Some(true),
                _ => None,
            },
        },
        Expr::Or(left, right) => match truth(left, context) {
            Some(true) => Some(true),
            left_truth => match (left_truth, truth(right, context)) {
                (_, Some(true)) => Some(true),
                (Some(false), Some(false)) => Some(false),
                _ => None,
            },
        },
        Expr::Not(inner) => truth(inner, context).map(|b| !b),
        Expr::Compare(op, left, right) => {
            let left = evaluate(left, context)?;
            let right = evaluate(right, context)?;
            let order = compare_values(&left, &right)?;
            Some(match op {
                CompareOp::Equal => order == Ordering::Equal,
                CompareOp::NotEqual => order != Ordering::Equal,
                CompareOp::Less => order == Ordering::Less,
                CompareOp::LessEqual => order != Ordering::Greater,
                CompareOp::Greater => order == Ordering::Greater,
                CompareOp::GreaterEqual => order != Ordering::Less,
            })
        }
        Expr::Like {
            subject,
            pattern,
            negated,
        } => {
            let value = evaluate(subject, context)?;
            let text = value.to_text();
            let matched = match pattern {
                LikePattern::Substring(needle) => text.contains(needle.as_str()),
                LikePattern::Regex(regex) => regex.is_match(&text),
            };
            Some(matched != *negated)
        }
        Expr::In {
            subject,
            set,
            negated,
        } => {
            let value = evaluate(subject, context)?;
            let found = set
                .iter()
                .any(|candidate| compare_values(&value, candidate) == Some(Ordering::Equal));
            Some(found != *negated)
        }
        other => evaluate(other, context).and_then(|value| value_truth(&value)),
    }
}

/// How a non-boolean value reads as a condition: numbers by being non-zero,
/// `"true"`/`"false"` as themselves, other text as unknown.
fn value_truth(value: &Value<'_>) -> Option<bool> {
    match value {
        Value::Bool(b) => Some(*b),
        Value::Num(n) => Some(*n != 0.0),
        Value::Time(_) => Some(true),
        Value::Str(text) => {
            if let Some(n) = parse_numeric(text) {
                Some(n != 0.0)
            } else if text.eq_ignore_ascii_case("true") {
                Some(true)
            } else if text.eq_ignore_ascii_case("false") {
                Some(false)
            } else {
                None
            }
        }
    }
}

/// Runs a `parse` command's pattern over its source text.
pub(super) fn extract(
    parse: &ParseCommand,
    context: &dyn EvalContext,
) -> Vec<(Slot, Option<String>)> {
    let source = evaluate(&parse.source, context);
    let text = source.as_ref().map(Value::to_text);
    let text = text.as_deref();
    match &parse.pattern {
        ParsePattern::Glob { regex, targets } => {
            let captures = text.and_then(|text| regex.captures(text));
            targets
                .iter()
                .enumerate()
                .map(|(index, slot)| {
                    let value = captures
                        .as_ref()
                        .and_then(|c| c.get(index + 1))
                        .map(|m| m.as_str().to_owned());
                    (*slot, value)
                })
                .collect()
        }
        ParsePattern::Regex { regex, targets } => {
            let captures = text.and_then(|text| regex.captures(text));
            targets
                .iter()
                .map(|(name, slot)| {
                    let value = captures
                        .as_ref()
                        .and_then(|c| c.name(name))
                        .map(|m| m.as_str().to_owned());
                    (*slot, value)
                })
                .collect()
        }
    }
}

#[cfg(test)]
mod tests {
    use std::borrow::Cow;

    use super::super::ast::Command;
    use super::super::parser::parse_query;
    use super::*;

    /// A row given as (name, value) pairs, with a fixed record time.
    struct TestRow {
        names: Vec<String>,
        values: Vec<(String, Value<'static>)>,
    }

    impl EvalContext for TestRow {
        fn field(&self, slot: Slot) -> Option<Value<'_>> {
            let name = self.names.get(slot)?;
            self.values
                .iter()
                .find(|(n, _)| n == name)
                .map(|(_, v)| v.reborrow())
        }

        fn record_time_ms(&self) -> Option<i64> {
            Some(1_704_164_645_678)
        }
    }

    /// A condition, the row's fields, and the expected truth.
    type Case = (
        &'static str,
        Vec<(&'static str, Value<'static>)>,
        Option<bool>,
    );

    fn text(s: &str) -> Value<'static> {
        Value::Str(Cow::Owned(s.to_owned()))
    }

    /// Parses `filter <condition>` and evaluates it against the row.
    fn check(condition: &str, values: &[(&str, Value<'static>)]) -> Option<bool> {
        let parsed = parse_query(&format!("filter {condition}"));
        let Ok(parsed) = parsed else {
            panic!("{condition} should parse");
        };
        let Some(Command::Filter(expr)) = parsed.commands.first() else {
            panic!("expected a filter");
        };
        let row = TestRow {
            names: parsed.slot_names.clone(),
            values: values
                .iter()
                .map(|(n, v)| ((*n).to_owned(), v.clone()))
                .collect(),
        };
        truth(expr, &row)
    }

    #[test]
    fn documented_filter_conditions() {
        let exception = [("f1", text("java.lang.Exception: boom"))];
        let lower = [("f1", text("an exception"))];
        let cases: Vec<Case> = vec![
            (
                "duration > 2000",
                vec![("duration", text("2500"))],
                Some(true),
            ),
            (
                "duration > 2000",
                vec![("duration", text("1500"))],
                Some(false),
            ),
            ("(f1=10 or f3>25)", vec![("f1", text("10"))], Some(true)),
            (
                "(f1=10 or f3>25)",
                vec![("f1", text("9")), ("f3", text("30"))],
                Some(true),
            ),
            (
                "(f1=10 or f3>25)",
                vec![("f1", text("9")), ("f3", text("3"))],
                Some(false),
            ),
            (
                r"statusCode like /2\d\d/",
                vec![("statusCode", text("204"))],
                Some(true),
            ),
            (
                r"statusCode like /2\d\d/",
                vec![("statusCode", text("404"))],
                Some(false),
            ),
            (
                "statusCode in [300,400,500]",
                vec![("statusCode", text("400"))],
                Some(true),
            ),
            (
                "statusCode in [300,400,500]",
                vec![("statusCode", text("404"))],
                Some(false),
            ),
            (
                r#"Type not in ["foo","bar",1]"#,
                vec![("Type", text("baz"))],
                Some(true),
            ),
            (
                r#"Type not in ["foo","bar",1]"#,
                vec![("Type", text("1"))],
                Some(false),
            ),
            ("f1 like /Exception/", exception.to_vec(), Some(true)),
            ("f1 =~ /Exception/", exception.to_vec(), Some(true)),
            ("f1 like \"Exception\"", exception.to_vec(), Some(true)),
            ("f1 like \"Exception\"", lower.to_vec(), Some(false)),
            ("f1 like /(?i)Exception/", lower.to_vec(), Some(true)),
            (
                "f1 =~ /^(?i)Exception$/",
                vec![("f1", text("EXCEPTION"))],
                Some(true),
            ),
            ("f1 =~ /^(?i)Exception$/", lower.to_vec(), Some(false)),
            ("f1 not like /Exception/", exception.to_vec(), Some(false)),
            (
                "range>3000 and accountId=123456789012",
                vec![("range", text("3001")), ("accountId", text("123456789012"))],
                Some(true),
            ),
            (
                "ispresent(errorCode)",
                vec![("errorCode", text("AccessDenied"))],
                Some(true),
            ),
            ("not ispresent(errorCode)", vec![], Some(true)),
        ];
        for (condition, row, expected) in cases {
            assert_eq!(check(condition, &row), expected, "{condition} with {row:?}");
        }
    }

    #[test]
    fn missing_fields_make_conditions_unknown() {
        let cases: &[(&str, Option<bool>)] = &[
            ("x = 1", None),
            ("x != 1", None),
            ("not (x = 1)", None),
            ("x like /a/", None),
            ("x not in [1]", None),
            // Known parts still decide: false and unknown is false, true or unknown is true.
            ("x = 1 and 1 = 2", Some(false)),
            ("x = 1 or 1 = 1", Some(true)),
            ("x = 1 or 1 = 2", None),
        ];
        for (condition, expected) in cases {
            assert_eq!(check(condition, &[]), *expected, "{condition}");
        }
    }

    #[test]
    fn arithmetic_and_time_rounding() {
        let cases: &[(&str, Option<bool>)] = &[
            ("2 ^ 3 = 8", Some(true)),
            ("10 % 3 = 1", Some(true)),
            ("(a - b) * 2 = -8", Some(true)),
            ("a / 0 = 1", None),
            ("-a = -1", Some(true)),
            ("bin(1h) = \"2024-01-02 03:00:00.000\"", Some(true)),
            ("toMillis(bin(1d)) = 1704153600000", Some(true)),
            (
                "dateceil(fromMillis(1704164645678), 1m) = \"2024-01-02 03:05:00.000\"",
                Some(true),
            ),
            ("strlen(concat(a, b)) = 2", Some(true)),
            ("\"abc\" < \"abd\"", Some(true)),
            ("a + \"x\" = 1", None),
        ];
        let row = [("a", text("1")), ("b", text("5"))];
        for (condition, expected) in cases {
            assert_eq!(check(condition, &row), *expected, "{condition}");
        }
    }
}

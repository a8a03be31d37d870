//! Input validation from the model: required members, lengths, ranges, enums and patterns.
//!
//! Runs on the decoded document before any handler, so handlers only check what the model
//! cannot express (cross-field rules, AWS limits documented in prose). Violations are reported
//! the way AWS's services do: CloudWatch answers `MissingParameter` / `InvalidParameterValue`
//! naming the query-style parameter path; the JSON services answer their validation error with
//! the "N validation errors detected" message listing each constraint.

use serde_json::Value;

use super::error::validation_error_shape;
use super::model::{ServiceModel, ShapeId, ShapeKind};
use super::path::Path;
use super::{ServiceId, WireError};

#[derive(Debug, Clone, PartialEq)]
pub enum Violation {
    Missing {
        path: String,
    },
    Constraint {
        path: String,
        value: String,
        constraint: String,
    },
}

/// Paths are written as the service's documentation and errors name parameters.
#[derive(Clone, Copy)]
enum PathStyle {
    /// `MetricData.member.1.MetricName`
    Query,
    /// `logEvents.1.member.message`
    Coral,
}

pub fn validate(
    service: ServiceId,
    model: &ServiceModel,
    shape: ShapeId,
    doc: &Value,
) -> Vec<Violation> {
    let style = match service {
        ServiceId::CloudWatch | ServiceId::Sts => PathStyle::Query,
        _ => PathStyle::Coral,
    };
    let mut out = Vec::new();
    walk(model, shape, doc, &Path::Root, style, &mut out);
    out
}

fn render(path: &Path<'_>, style: PathStyle) -> String {
    match style {
        PathStyle::Query => path.query_style(),
        PathStyle::Coral => path.coral_style(),
    }
}

fn display(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

fn walk(
    model: &ServiceModel,
    shape: ShapeId,
    value: &Value,
    path: &Path<'_>,
    style: PathStyle,
    out: &mut Vec<Violation>,
) {
    let s = model.shape(shape);
    let mut constraint = |constraint: String| {
        out.push(Violation::Constraint {
            path: render(path, style),
            value: display(value),
            constraint,
        });
    };
    match (&s.kind, value) {
        (ShapeKind::String, Value::String(text)) => {
            let len = text.chars().count() as f64;
            if let Some(min) = s.min.filter(|m| len < *m) {
                constraint(format!(
                    "Member must have length greater than or equal to {min}"
                ));
            } else if let Some(max) = s.max.filter(|m| len > *m) {
                constraint(format!(
                    "Member must have length less than or equal to {max}"
                ));
            } else if let Some(values) = s
                .enum_values
                .as_ref()
                .filter(|v| !v.iter().any(|e| e == text))
            {
                constraint(format!(
                    "Member must satisfy enum value set: [{}]",
                    values.join(", ")
                ));
            } else if let Some(re) = s.pattern_regex().filter(|re| !re.is_match(text)) {
                constraint(format!(
                    "Member must satisfy regular expression pattern: {}",
                    re.as_str()
                        .trim_start_matches("^(?:")
                        .trim_end_matches(")$")
                ));
            }
        }
        (
            ShapeKind::Integer | ShapeKind::Long | ShapeKind::Float | ShapeKind::Double,
            Value::Number(n),
        ) => {
            let f = n.as_f64().unwrap_or_default();
            if let Some(min) = s.min.filter(|m| f < *m) {
                constraint(format!(
                    "Member must have value greater than or equal to {min}"
                ));
            } else if let Some(max) = s.max.filter(|m| f > *m) {
                constraint(format!(
                    "Member must have value less than or equal to {max}"
                ));
            }
        }
        (ShapeKind::List { member }, Value::Array(items)) => {
            let len = items.len() as f64;
            if let Some(min) = s.min.filter(|m| len < *m) {
                constraint(format!(
                    "Member must have length greater than or equal to {min}"
                ));
            } else if let Some(max) = s.max.filter(|m| len > *m) {
                constraint(format!(
                    "Member must have length less than or equal to {max}"
                ));
            }
            for (i, item) in items.iter().enumerate() {
                walk(model, *member, item, &path.index(i), style, out);
            }
        }
        (
            ShapeKind::Map {
                value: value_shape, ..
            },
            Value::Object(entries),
        ) => {
            let len = entries.len() as f64;
            if let Some(max) = s.max.filter(|m| len > *m) {
                constraint(format!(
                    "Member must have length less than or equal to {max}"
                ));
            }
            for (k, v) in entries {
                walk(model, *value_shape, v, &path.key(k), style, out);
            }
        }
        (ShapeKind::Structure { members, required }, Value::Object(fields)) => {
            for name in required {
                if fields.get(name).is_none_or(Value::is_null) {
                    out.push(Violation::Missing {
                        path: render(&path.member(name), style),
                    });
                }
            }
            for member in members {
                if let Some(v) = fields.get(&member.name) {
                    walk(
                        model,
                        member.target,
                        v,
                        &path.member(&member.name),
                        style,
                        out,
                    );
                }
            }
        }
        _ => {}
    }
}

/// The wire error AWS answers for these violations (there is at least one).
pub fn to_wire(service: ServiceId, violations: &[Violation]) -> WireError {
    // CloudTrail names an out-of-range page size with its own error.
    if service == ServiceId::CloudTrail {
        if let Some(Violation::Constraint { value, .. }) = violations
            .iter()
            .find(|v| matches!(v, Violation::Constraint { path, .. } if path == "maxResults"))
        {
            return WireError::from_model(
                service,
                "InvalidMaxResultsException",
                format!("Value {value} for MaxResults is invalid: it must be between 1 and 50."),
            );
        }
    }
    if service == ServiceId::CloudWatch {
        if let Some(Violation::Missing { path }) = violations
            .iter()
            .find(|v| matches!(v, Violation::Missing { .. }))
        {
            return WireError::from_model(
                service,
                "MissingRequiredParameterException",
                format!("The parameter {path} is required."),
            );
        }
    }
    let details: Vec<String> = violations
        .iter()
        .map(|v| match v {
            Violation::Missing { path } => {
                format!(
                    "Value null at '{path}' failed to satisfy constraint: Member must not be null"
                )
            }
            Violation::Constraint {
                path,
                value,
                constraint,
            } => {
                format!("Value '{value}' at '{path}' failed to satisfy constraint: {constraint}")
            }
        })
        .collect();
    let count = details.len();
    let noun = if count == 1 { "error" } else { "errors" };
    WireError::from_model(
        service,
        validation_error_shape(service),
        format!("{count} validation {noun} detected: {}", details.join("; ")),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::model::model;
    use serde_json::json;

    fn check(service: ServiceId, op: &str, doc: Value) -> Vec<Violation> {
        let m = model(service);
        validate(service, m, m.operation(op).unwrap().input.unwrap(), &doc)
    }

    #[test]
    fn cloudwatch_missing_parameter_uses_query_paths() {
        let v = check(
            ServiceId::CloudWatch,
            "PutMetricData",
            json!({"Namespace":"A","MetricData":[{"Value":1.0}]}),
        );
        assert_eq!(
            v,
            vec![Violation::Missing {
                path: "MetricData.member.1.MetricName".into()
            }]
        );
        let e = to_wire(ServiceId::CloudWatch, &v);
        assert_eq!(e.code, "MissingParameter");
        assert_eq!(
            e.message,
            "The parameter MetricData.member.1.MetricName is required."
        );
    }

    #[test]
    fn enum_and_length_violations() {
        let v = check(
            ServiceId::CloudWatch,
            "PutMetricData",
            json!({"Namespace":"","MetricData":[{"MetricName":"x","Unit":"Parsecs"}]}),
        );
        assert_eq!(v.len(), 2, "{v:?}");
        let e = to_wire(ServiceId::CloudWatch, &v);
        assert_eq!(e.code, "InvalidParameterValue");
        assert!(e.message.starts_with("2 validation errors detected: Value '' at 'Namespace' failed to satisfy constraint: Member must have length greater than or equal to 1"), "{}", e.message);
        assert!(e.message.contains("Value 'Parsecs' at 'MetricData.member.1.Unit' failed to satisfy constraint: Member must satisfy enum value set: [Seconds,"));
    }

    #[test]
    fn json_services_use_coral_paths() {
        let v = check(
            ServiceId::Logs,
            "PutLogEvents",
            json!({"logGroupName":"g","logEvents":[{"timestamp":1}]}),
        );
        let e = to_wire(ServiceId::Logs, &v);
        assert_eq!(e.type_name, "InvalidParameterException");
        assert!(e.message.contains("Value null at 'logStreamName' failed to satisfy constraint: Member must not be null"), "{}", e.message);
        assert!(
            e.message.contains("'logEvents.1.member.message'"),
            "{}",
            e.message
        );
    }

    #[test]
    fn cloudtrail_page_size_has_its_own_error() {
        let v = check(
            ServiceId::CloudTrail,
            "LookupEvents",
            json!({"MaxResults": 51}),
        );
        let e = to_wire(ServiceId::CloudTrail, &v);
        assert_eq!(e.type_name, "InvalidMaxResultsException");
    }

    #[test]
    fn valid_input_has_no_violations() {
        assert!(check(ServiceId::CloudWatch, "PutMetricData", json!({"Namespace":"App","MetricData":[{"MetricName":"x","Value":1.0,"Unit":"Seconds"}]})).is_empty());
    }
}

//! awsJson 1.0 and 1.1: `X-Amz-Target` names the operation, the body is the input structure.
//!
//! Decoding checks every value against its shape (JSON has no schema of its own) and turns the
//! forms the JSON protocol allows for timestamps and special floats into the document's
//! conventions. Members the model does not know are ignored, as AWS does.

use serde_json::{Map, Value};

use super::model::{ServiceModel, ShapeId, ShapeKind};
use super::path::Path;
use super::{DecodeError, Document, Encoded, Protocol};

/// Nesting deeper than this is refused before it can exhaust the stack.
pub const MAX_DEPTH: usize = 64;

pub fn content_type(protocol: Protocol) -> &'static str {
    match protocol {
        Protocol::Json10 => "application/x-amz-json-1.0",
        _ => "application/x-amz-json-1.1",
    }
}

pub fn decode(model: &ServiceModel, input: ShapeId, body: &[u8]) -> Result<Document, DecodeError> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Ok(Value::Object(Map::new()));
    }
    let value: Value = serde_json::from_slice(body)
        .map_err(|e| DecodeError::Malformed(format!("Could not parse request body: {e}")))?;
    if !value.is_object() {
        return Err(DecodeError::Malformed(
            "Start of structure or map expected, found another JSON value.".into(),
        ));
    }
    normalize(model, input, value, &Path::Root, 0)
}

fn type_error(found: &Value, expected: &str, path: &Path<'_>) -> DecodeError {
    let path = path.dotted();
    let kind = match found {
        Value::Null => "NULL_VALUE",
        Value::Bool(_) => "BOOLEAN_VALUE",
        Value::Number(_) => "NUMBER_VALUE",
        Value::String(_) => "STRING_VALUE",
        Value::Array(_) => "START_ARRAY",
        Value::Object(_) => "START_OBJECT",
    };
    DecodeError::Malformed(format!(
        "{kind} can not be converted to {expected} (at '{path}')"
    ))
}

/// Checks `value` against `shape` and converts it to document conventions.
pub(crate) fn normalize(
    model: &ServiceModel,
    shape: ShapeId,
    value: Value,
    path: &Path<'_>,
    depth: usize,
) -> Result<Value, DecodeError> {
    if depth > MAX_DEPTH {
        return Err(DecodeError::Malformed("Request nesting is too deep".into()));
    }
    let s = model.shape(shape);
    match (&s.kind, value) {
        (ShapeKind::Structure { members, .. }, Value::Object(mut fields)) => {
            let mut out = Map::with_capacity(fields.len());
            for member in members {
                if let Some(v) = fields.remove(member.wire_name()) {
                    if v.is_null() {
                        continue;
                    }
                    out.insert(
                        member.name.clone(),
                        normalize(model, member.target, v, &path.member(&member.name), depth + 1)?,
                    );
                }
            }
            Ok(Value::Object(out))
        }
        (ShapeKind::List { member }, Value::Array(items)) => items
            .into_iter()
            .enumerate()
            .map(|(i, v)| normalize(model, *member, v, &path.index(i), depth + 1))
            .collect::<Result<Vec<_>, _>>()
            .map(Value::Array),
        (ShapeKind::Map { value, .. }, Value::Object(entries)) => {
            let mut out = Map::with_capacity(entries.len());
            for (k, v) in entries {
                let normalized = normalize(model, *value, v, &path.key(&k), depth + 1)?;
                out.insert(k, normalized);
            }
            Ok(Value::Object(out))
        }
        (ShapeKind::String, v @ Value::String(_)) => Ok(v),
        (ShapeKind::Boolean, v @ Value::Bool(_)) => Ok(v),
        (ShapeKind::Integer, Value::Number(n)) if n.as_i64().is_some() => {
            // An Integer is 32 bits on AWS's side: a larger value is no integer of the
            // shape (and must not reach the services' arithmetic as one).
            match n.as_i64().and_then(|i| i32::try_from(i).ok()) {
                Some(i) => Ok(Value::from(i)),
                None => Err(DecodeError::Malformed(format!(
                    "Value {n} at '{}' is out of range for an Integer",
                    path.dotted()
                ))),
            }
        }
        (kind @ (ShapeKind::Integer | ShapeKind::Long), Value::Number(n)) => {
            let limit = if matches!(kind, ShapeKind::Integer) {
                2_147_483_647.0
            } else {
                9.0e15
            };
            if let Some(i) = n.as_i64() {
                Ok(Value::from(i))
            } else {
                match n.as_f64() {
                    Some(f) if f.fract() == 0.0 && f.abs() <= limit => Ok(Value::from(f as i64)),
                    _ => Err(DecodeError::InvalidValue {
                        path: path.dotted(),
                        message: format!("Value {n} at '{}' is not a valid integer", path.dotted()),
                    }),
                }
            }
        }
        (ShapeKind::Float | ShapeKind::Double, v @ Value::Number(_)) => Ok(v),
        (ShapeKind::Float | ShapeKind::Double, Value::String(text)) => match text.as_str() {
            "NaN" | "Infinity" | "-Infinity" => Err(DecodeError::InvalidValue {
                path: path.dotted(),
                message: format!(
                    "The value {text} for parameter {} is invalid: special floating point values are not supported.",
                    path.dotted()
                ),
            }),
            other => Err(type_error(&Value::String(other.to_string()), "a Double", path)),
        },
        (ShapeKind::Timestamp, Value::Number(n)) => match n.as_f64() {
            Some(f) if super::timestamp::in_range(f) => Ok(Value::from(f)),
            // A number no date can be (-1e300): the services' arithmetic never sees it.
            Some(_) => Err(DecodeError::Malformed(format!(
                "Value {n} at '{}' is out of range for a Timestamp",
                path.dotted()
            ))),
            None => Err(type_error(&Value::Number(n), "a Timestamp", path)),
        },
        (ShapeKind::Timestamp, Value::String(text)) => match super::timestamp::parse(&text) {
            Some(f) => Ok(Value::from(f)),
            None => Err(DecodeError::InvalidValue {
                path: path.dotted(),
                message: format!("Value '{text}' at '{}' is not a valid timestamp", path.dotted()),
            }),
        },
        (ShapeKind::Blob, v @ Value::String(_)) => Ok(v),
        (kind, v) => Err(type_error(&v, expected_name(kind), path)),
    }
}

fn expected_name(kind: &ShapeKind) -> &'static str {
    match kind {
        ShapeKind::Structure { .. } => "a structure",
        ShapeKind::List { .. } => "a list",
        ShapeKind::Map { .. } => "a map",
        ShapeKind::String => "a String",
        ShapeKind::Integer => "an Integer",
        ShapeKind::Long => "a Long",
        ShapeKind::Float => "a Float",
        ShapeKind::Double => "a Double",
        ShapeKind::Boolean => "a Boolean",
        ShapeKind::Timestamp => "a Timestamp",
        ShapeKind::Blob => "a Blob",
    }
}

/// Output documents already follow JSON conventions (member names are the wire names in every
/// model embedded here: none uses `locationName` on JSON members), so encoding is serialization.
pub fn encode(
    _model: &ServiceModel,
    _shape: Option<ShapeId>,
    output: &Document,
    protocol: Protocol,
) -> Encoded {
    let body = if output.is_null() {
        b"{}".to_vec()
    } else {
        serde_json::to_vec(output).unwrap_or_else(|_| b"{}".to_vec())
    };
    Encoded {
        status: 200,
        content_type: content_type(protocol),
        headers: Vec::new(),
        body,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::{model::model, ServiceId};

    fn input_of(service: ServiceId, op: &str) -> (&'static ServiceModel, ShapeId) {
        let m = model(service);
        (m, m.operation(op).unwrap().input.unwrap())
    }

    #[test]
    fn decodes_and_normalizes_timestamps() {
        let (m, shape) = input_of(ServiceId::CloudWatch, "GetMetricStatistics");
        let doc = decode(
            m,
            shape,
            br#"{"Namespace":"A","MetricName":"B","StartTime":"2024-01-02T03:04:05Z","EndTime":1704164700,"Period":60,"Unknown":1}"#,
        )
        .unwrap();
        assert_eq!(doc["StartTime"], 1_704_164_645.0);
        assert_eq!(doc["EndTime"], 1_704_164_700.0);
        assert!(doc.get("Unknown").is_none());
    }

    #[test]
    fn rejects_wrong_types_and_garbage() {
        let (m, shape) = input_of(ServiceId::CloudWatch, "GetMetricStatistics");
        assert!(matches!(
            decode(m, shape, br#"{"Period":"sixty"}"#),
            Err(DecodeError::Malformed(_))
        ));
        assert!(matches!(
            decode(m, shape, b"{\"Period\":"),
            Err(DecodeError::Malformed(_))
        ));
        assert!(matches!(
            decode(m, shape, b"[1,2]"),
            Err(DecodeError::Malformed(_))
        ));
        assert!(matches!(
            decode(m, shape, &[0xff, 0xfe]),
            Err(DecodeError::Malformed(_))
        ));
        let deep = format!("{}{}", "[".repeat(10_000), "]".repeat(10_000));
        assert!(decode(m, shape, format!("{{\"Dimensions\":{deep}}}").as_bytes()).is_err());
        assert!(matches!(
            decode(m, shape, br#"{"Period":1e400}"#),
            Err(DecodeError::Malformed(_))
        ));
    }

    #[test]
    fn integers_are_32_bits() {
        let (m, shape) = input_of(ServiceId::CloudWatch, "GetMetricStatistics");
        assert_eq!(
            decode(m, shape, br#"{"Period":2147483648}"#).unwrap_err(),
            DecodeError::Malformed(
                "Value 2147483648 at 'Period' is out of range for an Integer".into()
            )
        );
        let doc = decode(m, shape, br#"{"Period":2147483647}"#).unwrap();
        assert_eq!(doc["Period"], 2_147_483_647);
    }

    #[test]
    fn timestamps_outside_years_1_to_9999_are_refused() {
        let (m, shape) = input_of(ServiceId::CloudWatch, "GetMetricStatistics");
        let err = decode(m, shape, br#"{"StartTime":-1e300}"#).unwrap_err();
        assert_eq!(
            err,
            DecodeError::Malformed(
                "Value -1e+300 at 'StartTime' is out of range for a Timestamp".into()
            )
        );
        assert!(decode(m, shape, br#"{"EndTime":253402300800}"#).is_err());
        let doc = decode(m, shape, br#"{"EndTime":253402300799}"#).unwrap();
        assert_eq!(doc["EndTime"], 253_402_300_799.0);
        assert!(matches!(
            decode(m, shape, br#"{"EndTime":"10000-01-01T00:00:00Z"}"#),
            Err(DecodeError::InvalidValue { .. })
        ));
    }

    #[test]
    fn special_floats_are_a_validation_error() {
        let (m, shape) = input_of(ServiceId::CloudWatch, "PutMetricData");
        let err = decode(
            m,
            shape,
            br#"{"Namespace":"A","MetricData":[{"MetricName":"x","Value":"NaN"}]}"#,
        )
        .unwrap_err();
        assert!(matches!(err, DecodeError::InvalidValue { .. }), "{err:?}");
    }

    #[test]
    fn empty_body_is_an_empty_structure() {
        let (m, shape) = input_of(ServiceId::CloudWatch, "ListMetrics");
        assert_eq!(decode(m, shape, b"").unwrap(), serde_json::json!({}));
    }
}

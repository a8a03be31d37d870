//! Smithy RPC v2 CBOR: `POST /service/<Service>/operation/<Op>`, `smithy-protocol: rpc-v2-cbor`.
//!
//! The AWS SDK for Rust calls CloudWatch this way. Bodies decode into a generic CBOR value first
//! (with a recursion limit), which is then checked against the input shape: timestamps arrive as
//! tag 1 around an integer or a float (or untagged), blobs as byte strings. Responses are built by
//! walking the output shape so that doubles stay floats and timestamps get their tag.

use base64::Engine;
use ciborium::Value as Cbor;
use serde_json::{Map, Value};

use super::model::{ServiceModel, ShapeId, ShapeKind};
use super::path::Path;
use super::{DecodeError, Document, Encoded};

const RECURSION_LIMIT: usize = 64;
/// CBOR tag 1: epoch-based date/time.
const TAG_EPOCH: u64 = 1;

pub fn decode(model: &ServiceModel, input: ShapeId, body: &[u8]) -> Result<Document, DecodeError> {
    if body.is_empty() {
        return Ok(Value::Object(Map::new()));
    }
    let value: Cbor = ciborium::de::from_reader_with_recursion_limit(body, RECURSION_LIMIT)
        .map_err(|e| DecodeError::Malformed(format!("Could not parse CBOR request body: {e}")))?;
    read(model, input, value, &Path::Root, 0)
}

fn malformed(path: &Path<'_>, expected: &str) -> DecodeError {
    DecodeError::Malformed(format!("Expected {expected} at '{}'", path.dotted()))
}

fn number(value: &Cbor) -> Option<f64> {
    match value {
        Cbor::Integer(i) => Some(i128::from(*i) as f64),
        Cbor::Float(f) => Some(*f),
        Cbor::Tag(_, inner) => number(inner),
        _ => None,
    }
}

fn read(
    model: &ServiceModel,
    shape: ShapeId,
    value: Cbor,
    path: &Path<'_>,
    depth: usize,
) -> Result<Value, DecodeError> {
    if depth > RECURSION_LIMIT {
        return Err(DecodeError::Malformed("Request nesting is too deep".into()));
    }
    match (&model.shape(shape).kind, value) {
        (ShapeKind::Structure { members, .. }, Cbor::Map(entries)) => {
            let mut out = Map::with_capacity(entries.len());
            for (k, v) in entries {
                let Cbor::Text(key) = k else {
                    return Err(malformed(path, "text keys in a structure"));
                };
                if v.is_null() {
                    continue;
                }
                if let Some(member) = members.iter().find(|m| m.wire_name() == key) {
                    out.insert(
                        member.name.clone(),
                        read(
                            model,
                            member.target,
                            v,
                            &path.member(&member.name),
                            depth + 1,
                        )?,
                    );
                }
            }
            Ok(Value::Object(out))
        }
        (ShapeKind::List { member }, Cbor::Array(items)) => items
            .into_iter()
            .enumerate()
            .map(|(i, v)| read(model, *member, v, &path.index(i), depth + 1))
            .collect::<Result<Vec<_>, _>>()
            .map(Value::Array),
        (ShapeKind::Map { value, .. }, Cbor::Map(entries)) => {
            let mut out = Map::with_capacity(entries.len());
            for (k, v) in entries {
                let Cbor::Text(key) = k else {
                    return Err(malformed(path, "text keys in a map"));
                };
                let decoded = read(model, *value, v, &path.key(&key), depth + 1)?;
                out.insert(key, decoded);
            }
            Ok(Value::Object(out))
        }
        (ShapeKind::String, Cbor::Text(s)) => Ok(Value::String(s)),
        (ShapeKind::Boolean, Cbor::Bool(b)) => Ok(Value::Bool(b)),
        // An Integer is 32 bits on AWS's side, a Long 64.
        (ShapeKind::Integer, Cbor::Integer(i)) => i32::try_from(i128::from(i))
            .map(Value::from)
            .map_err(|_| DecodeError::InvalidValue {
                path: path.dotted(),
                message: format!("The value for parameter {} is out of range.", path.dotted()),
            }),
        (ShapeKind::Long, Cbor::Integer(i)) => i64::try_from(i128::from(i))
            .map(Value::from)
            .map_err(|_| DecodeError::InvalidValue {
                path: path.dotted(),
                message: format!("The value for parameter {} is out of range.", path.dotted()),
            }),
        (ShapeKind::Float | ShapeKind::Double, v @ (Cbor::Float(_) | Cbor::Integer(_))) => {
            let f = number(&v).unwrap_or(f64::NAN);
            if f.is_finite() {
                Ok(Value::from(f))
            } else {
                Err(DecodeError::InvalidValue {
                    path: path.dotted(),
                    message: format!(
                        "The value {f} for parameter {} is invalid: special floating point values are not supported.",
                        path.dotted()
                    ),
                })
            }
        }
        (
            ShapeKind::Timestamp,
            v @ (Cbor::Tag(TAG_EPOCH, _) | Cbor::Integer(_) | Cbor::Float(_)),
        ) => match number(&v) {
            // Finite is not enough: services compute with client times, so only dates are
            // let through (years 1 to 9999).
            Some(f) if super::timestamp::in_range(f) => Ok(Value::from(f)),
            _ => Err(malformed(
                path,
                "an epoch timestamp between years 1 and 9999",
            )),
        },
        (ShapeKind::Blob, Cbor::Bytes(bytes)) => Ok(Value::String(
            base64::engine::general_purpose::STANDARD.encode(bytes),
        )),
        (ShapeKind::Blob, Cbor::Text(s)) => Ok(Value::String(s)),
        (kind, _) => Err(malformed(path, kind_name(kind))),
    }
}

fn kind_name(kind: &ShapeKind) -> &'static str {
    match kind {
        ShapeKind::Structure { .. } => "a map (structure)",
        ShapeKind::List { .. } => "an array",
        ShapeKind::Map { .. } => "a map",
        ShapeKind::String => "a text string",
        ShapeKind::Integer | ShapeKind::Long => "an integer",
        ShapeKind::Float | ShapeKind::Double => "a number",
        ShapeKind::Boolean => "a boolean",
        ShapeKind::Timestamp => "a timestamp (tag 1)",
        ShapeKind::Blob => "a byte string",
    }
}

pub fn encode(model: &ServiceModel, shape: Option<ShapeId>, output: &Document) -> Encoded {
    let value = match shape {
        Some(shape) => write(model, shape, output),
        None => Cbor::Map(Vec::new()),
    };
    finish(value)
}

/// Encodes a document without a shape (error bodies).
pub fn encode_untyped(doc: &Document) -> Encoded {
    finish(untyped(doc))
}

fn finish(value: Cbor) -> Encoded {
    let mut body = Vec::with_capacity(256);
    // Writing into a Vec cannot fail.
    let _ = ciborium::ser::into_writer(&value, &mut body);
    Encoded {
        status: 200,
        content_type: "application/cbor",
        headers: vec![("smithy-protocol", "rpc-v2-cbor".to_string())],
        body,
    }
}

fn untyped(doc: &Value) -> Cbor {
    match doc {
        Value::Null => Cbor::Null,
        Value::Bool(b) => Cbor::Bool(*b),
        Value::Number(n) => match n.as_i64() {
            Some(i) => Cbor::Integer(i.into()),
            None => Cbor::Float(n.as_f64().unwrap_or_default()),
        },
        Value::String(s) => Cbor::Text(s.clone()),
        Value::Array(items) => Cbor::Array(items.iter().map(untyped).collect()),
        Value::Object(map) => Cbor::Map(
            map.iter()
                .map(|(k, v)| (Cbor::Text(k.clone()), untyped(v)))
                .collect(),
        ),
    }
}

fn write(model: &ServiceModel, shape: ShapeId, value: &Value) -> Cbor {
    match (&model.shape(shape).kind, value) {
        (ShapeKind::Structure { members, .. }, Value::Object(fields)) => Cbor::Map(
            members
                .iter()
                .filter_map(|m| {
                    let v = fields.get(&m.name).filter(|v| !v.is_null())?;
                    Some((
                        Cbor::Text(m.wire_name().to_string()),
                        write(model, m.target, v),
                    ))
                })
                .collect(),
        ),
        (ShapeKind::List { member }, Value::Array(items)) => {
            Cbor::Array(items.iter().map(|v| write(model, *member, v)).collect())
        }
        (
            ShapeKind::Map {
                value: value_shape, ..
            },
            Value::Object(entries),
        ) => Cbor::Map(
            entries
                .iter()
                .map(|(k, v)| (Cbor::Text(k.clone()), write(model, *value_shape, v)))
                .collect(),
        ),
        (ShapeKind::Float | ShapeKind::Double, Value::Number(n)) => {
            Cbor::Float(n.as_f64().unwrap_or_default())
        }
        (ShapeKind::Timestamp, Value::Number(n)) => {
            let f = n.as_f64().unwrap_or_default();
            let inner = if f.fract() == 0.0 && f.abs() < 9.0e15 {
                Cbor::Integer((f as i64).into())
            } else {
                Cbor::Float(f)
            };
            Cbor::Tag(TAG_EPOCH, Box::new(inner))
        }
        (ShapeKind::Blob, Value::String(s)) => Cbor::Bytes(
            base64::engine::general_purpose::STANDARD
                .decode(s)
                .unwrap_or_else(|_| s.clone().into_bytes()),
        ),
        (_, other) => untyped(other),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::{model::model, ServiceId};
    use serde_json::json;

    fn to_cbor(v: &Cbor) -> Vec<u8> {
        let mut out = Vec::new();
        ciborium::ser::into_writer(v, &mut out).unwrap();
        out
    }

    fn text(s: &str) -> Cbor {
        Cbor::Text(s.to_string())
    }

    #[test]
    fn decodes_tagged_integer_and_float_timestamps() {
        let m = model(ServiceId::CloudWatch);
        let shape = m.operation("GetMetricStatistics").unwrap().input.unwrap();
        let body = to_cbor(&Cbor::Map(vec![
            (text("Namespace"), text("App")),
            (
                text("StartTime"),
                Cbor::Tag(1, Box::new(Cbor::Integer(1_704_164_645.into()))),
            ),
            (
                text("EndTime"),
                Cbor::Tag(1, Box::new(Cbor::Float(1_704_164_700.5))),
            ),
            (text("Period"), Cbor::Integer(60.into())),
        ]));
        let doc = decode(m, shape, &body).unwrap();
        assert_eq!(
            doc,
            json!({"Namespace":"App","StartTime":1_704_164_645.0,"EndTime":1_704_164_700.5,"Period":60})
        );
    }

    #[test]
    fn timestamps_outside_years_1_to_9999_are_refused() {
        let m = model(ServiceId::CloudWatch);
        let shape = m.operation("GetMetricStatistics").unwrap().input.unwrap();
        let body = to_cbor(&Cbor::Map(vec![(
            text("StartTime"),
            Cbor::Tag(1, Box::new(Cbor::Float(-1e300))),
        )]));
        assert_eq!(
            decode(m, shape, &body).unwrap_err(),
            DecodeError::Malformed(
                "Expected an epoch timestamp between years 1 and 9999 at 'StartTime'".into()
            )
        );
        let body = to_cbor(&Cbor::Map(vec![(
            text("EndTime"),
            Cbor::Tag(1, Box::new(Cbor::Integer(i64::MAX.into()))),
        )]));
        assert!(decode(m, shape, &body).is_err());
    }

    #[test]
    fn deep_nesting_is_refused() {
        let m = model(ServiceId::Logs);
        let shape = m.operation("PutLogEvents").unwrap().input.unwrap();
        // 100,000 nested maps under an unknown member: refused by the reader's limit.
        let mut deep = vec![0xa1u8, 0x61, b'x'];
        for _ in 0..100_000 {
            deep.extend_from_slice(&[0xa1, 0x61, b'x']);
        }
        deep.push(0x01);
        assert!(matches!(
            decode(m, shape, &deep),
            Err(DecodeError::Malformed(_))
        ));
        // Tags nest too (a timestamp's number is read through them).
        let shape = model(ServiceId::CloudWatch)
            .operation("GetMetricStatistics")
            .unwrap()
            .input
            .unwrap();
        let mut tags = vec![0xa1u8, 0x69];
        tags.extend_from_slice(b"StartTime");
        tags.extend(std::iter::repeat_n(0xc1u8, 100_000));
        tags.push(0x01);
        assert!(decode(model(ServiceId::CloudWatch), shape, &tags).is_err());
    }

    #[test]
    fn malformed_cbor_is_an_error_not_a_panic() {
        let m = model(ServiceId::CloudWatch);
        let shape = m.operation("PutMetricData").unwrap().input.unwrap();
        let good = to_cbor(&Cbor::Map(vec![(text("Namespace"), text("App"))]));
        for cut in 1..good.len() {
            assert!(decode(m, shape, &good[..cut]).is_err());
        }
        assert!(decode(m, shape, &[0xff]).is_err());
        let mut deep = vec![0x81u8; 10_000];
        deep.push(0x01);
        assert!(decode(m, shape, &deep).is_err());
        let huge = to_cbor(&Cbor::Map(vec![(
            text("MetricData"),
            Cbor::Array(vec![Cbor::Map(vec![(
                text("StorageResolution"),
                Cbor::Integer(u64::MAX.into()),
            )])]),
        )]));
        assert!(decode(m, shape, &huge).is_err());
    }

    #[test]
    fn encodes_doubles_as_floats_and_timestamps_tagged() {
        let m = model(ServiceId::CloudWatch);
        let shape = m.operation("GetMetricStatistics").unwrap().output;
        let out = encode(
            m,
            shape,
            &json!({"Label":"x","Datapoints":[{"Timestamp":1_704_164_645.0,"Sum":12}]}),
        );
        assert_eq!(
            out.headers,
            vec![("smithy-protocol", "rpc-v2-cbor".to_string())]
        );
        let v: Cbor = ciborium::de::from_reader(out.body.as_slice()).unwrap();
        let Cbor::Map(top) = v else { panic!() };
        let Cbor::Array(points) = &top[1].1 else {
            panic!()
        };
        let Cbor::Map(point) = &points[0] else {
            panic!()
        };
        assert_eq!(
            point[0].1,
            Cbor::Tag(1, Box::new(Cbor::Integer(1_704_164_645.into())))
        );
        assert_eq!(point[1].1, Cbor::Float(12.0));
    }
}

//! AWS query protocol requests: `Action=…&Version=…` form fields, flattened by the model.
//!
//! The flat keys (`MetricData.member.1.Dimensions.member.2.Name`) are first folded into a tree
//! of their dot-separated segments, then read back by walking the input shape: list members
//! under `member.N`, map entries under `entry.N.key`/`entry.N.value`, scalars parsed by type,
//! timestamps in ISO 8601. Keys the shape does not name are ignored, as AWS does.

use std::collections::BTreeMap;

use serde_json::{Map, Value};

use super::model::{ServiceModel, ShapeId, ShapeKind};
use super::{DecodeError, Document};

/// Refuse absurd requests before building a tree for them.
const MAX_PAIRS: usize = 250_000;
const MAX_KEY_DEPTH: usize = 32;

#[derive(Default, Debug)]
struct Node<'a> {
    value: Option<&'a str>,
    children: BTreeMap<&'a str, Node<'a>>,
}

/// Parses an `application/x-www-form-urlencoded` body or query string into pairs.
pub fn parse_form(bytes: &[u8]) -> Result<Vec<(String, String)>, DecodeError> {
    if std::str::from_utf8(bytes).is_err() {
        return Err(DecodeError::Malformed(
            "The request body is not valid UTF-8.".into(),
        ));
    }
    let pairs: Vec<(String, String)> = form_urlencoded::parse(bytes).into_owned().collect();
    if pairs.len() > MAX_PAIRS {
        return Err(DecodeError::TooLarge);
    }
    Ok(pairs)
}

pub fn decode(
    model: &ServiceModel,
    input: ShapeId,
    pairs: &[(String, String)],
) -> Result<Document, DecodeError> {
    let mut root = Node::default();
    for (key, value) in pairs {
        if key == "Action" || key == "Version" {
            continue;
        }
        let mut node = &mut root;
        for (depth, segment) in key.split('.').enumerate() {
            if depth >= MAX_KEY_DEPTH {
                return Err(DecodeError::Malformed(format!(
                    "The parameter {key} is nested too deeply."
                )));
            }
            node = node.children.entry(segment).or_default();
        }
        node.value = Some(value.as_str());
    }
    read(model, input, &root, "")
}

fn join(path: &str, segment: &str) -> String {
    if path.is_empty() {
        segment.to_string()
    } else {
        format!("{path}.{segment}")
    }
}

/// The children of a `member`/`entry` container in index order; indexes are 1-based integers.
fn indexed<'n, 'a>(
    container: &'n Node<'a>,
    path: &str,
) -> Result<Vec<(&'a str, &'n Node<'a>)>, DecodeError> {
    let mut items = Vec::with_capacity(container.children.len());
    for (index, node) in &container.children {
        let n: u32 = index.parse().map_err(|_| DecodeError::InvalidValue {
            path: path.to_string(),
            message: format!("The parameter {path}.{index} is not a valid list index."),
        })?;
        if n == 0 {
            return Err(DecodeError::InvalidValue {
                path: path.to_string(),
                message: format!(
                    "The parameter {path}.0 is not a valid list index: indexes start at 1."
                ),
            });
        }
        items.push((n, *index, node));
    }
    items.sort_by_key(|(n, _, _)| *n);
    Ok(items.into_iter().map(|(_, i, node)| (i, node)).collect())
}

fn read(
    model: &ServiceModel,
    shape: ShapeId,
    node: &Node<'_>,
    path: &str,
) -> Result<Value, DecodeError> {
    let s = model.shape(shape);
    let invalid = |what: &str, text: &str| DecodeError::InvalidValue {
        path: path.to_string(),
        message: format!("The value {text} for parameter {path} is not a valid {what}."),
    };
    match &s.kind {
        ShapeKind::Structure { members, .. } => {
            let mut out = Map::new();
            for member in members {
                if let Some(child) = node.children.get(member.wire_name()) {
                    let p = join(path, member.wire_name());
                    out.insert(member.name.clone(), read(model, member.target, child, &p)?);
                }
            }
            Ok(Value::Object(out))
        }
        ShapeKind::List { member } => {
            // `Name=` with no members is how query sends an empty list.
            let Some(container) = node.children.get("member") else {
                return Ok(Value::Array(Vec::new()));
            };
            let base = join(path, "member");
            indexed(container, &base)?
                .into_iter()
                .map(|(i, child)| read(model, *member, child, &join(&base, i)))
                .collect::<Result<Vec<_>, _>>()
                .map(Value::Array)
        }
        ShapeKind::Map { key, value } => {
            let mut out = Map::new();
            let Some(container) = node.children.get("entry") else {
                return Ok(Value::Object(out));
            };
            let base = join(path, "entry");
            for (i, entry) in indexed(container, &base)? {
                let entry_path = join(&base, i);
                let k = entry
                    .children
                    .get("key")
                    .map(|n| read(model, *key, n, &join(&entry_path, "key")))
                    .transpose()?;
                let v = entry
                    .children
                    .get("value")
                    .map(|n| read(model, *value, n, &join(&entry_path, "value")))
                    .transpose()?;
                if let (Some(Value::String(k)), Some(v)) = (k, v) {
                    out.insert(k, v);
                }
            }
            Ok(Value::Object(out))
        }
        scalar => {
            let text = node.value.unwrap_or("");
            Ok(match scalar {
                ShapeKind::String | ShapeKind::Blob => Value::String(text.to_string()),
                ShapeKind::Boolean => match text {
                    "true" => Value::Bool(true),
                    "false" => Value::Bool(false),
                    _ => return Err(invalid("boolean", text)),
                },
                // An Integer is 32 bits on AWS's side, a Long 64.
                ShapeKind::Integer => Value::from(
                    text.trim()
                        .parse::<i32>()
                        .map_err(|_| invalid("integer", text))?,
                ),
                ShapeKind::Long => Value::from(
                    text.trim()
                        .parse::<i64>()
                        .map_err(|_| invalid("integer", text))?,
                ),
                ShapeKind::Float | ShapeKind::Double => {
                    let f = text
                        .trim()
                        .parse::<f64>()
                        .map_err(|_| invalid("number", text))?;
                    if !f.is_finite() {
                        return Err(invalid("number", text));
                    }
                    Value::from(f)
                }
                ShapeKind::Timestamp => Value::from(
                    super::timestamp::parse(text).ok_or_else(|| invalid("timestamp", text))?,
                ),
                _ => Value::Null,
            })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::{model::model, ServiceId};
    use serde_json::json;

    fn decode_cw(op: &str, form: &str) -> Result<Document, DecodeError> {
        let m = model(ServiceId::CloudWatch);
        let pairs = parse_form(form.as_bytes())?;
        decode(m, m.operation(op).unwrap().input.unwrap(), &pairs)
    }

    #[test]
    fn decodes_nested_lists_in_index_order() {
        let doc = decode_cw(
            "PutMetricData",
            "Action=PutMetricData&Version=2010-08-01&Namespace=App\
             &MetricData.member.2.MetricName=B&MetricData.member.2.Value=2\
             &MetricData.member.1.MetricName=A&MetricData.member.1.Value=1.5\
             &MetricData.member.1.Dimensions.member.1.Name=Host&MetricData.member.1.Dimensions.member.1.Value=h%201\
             &MetricData.member.1.Timestamp=2024-01-02T03%3A04%3A05Z\
             &MetricData.member.10.MetricName=C",
        )
        .unwrap();
        assert_eq!(
            doc,
            json!({"Namespace":"App","MetricData":[
                {"MetricName":"A","Value":1.5,"Timestamp":1_704_164_645.0,"Dimensions":[{"Name":"Host","Value":"h 1"}]},
                {"MetricName":"B","Value":2.0},
                {"MetricName":"C"}]})
        );
    }

    #[test]
    fn empty_list_and_booleans() {
        let doc = decode_cw(
            "DescribeAlarms",
            "AlarmNames=&MaxRecords=10&AlarmTypes.member.1=MetricAlarm",
        )
        .unwrap();
        assert_eq!(doc["AlarmNames"], json!([]));
        assert_eq!(doc["MaxRecords"], 10);
        assert_eq!(doc["AlarmTypes"], json!(["MetricAlarm"]));
    }

    #[test]
    fn bad_scalars_and_indexes_are_errors() {
        assert!(decode_cw("GetMetricStatistics", "Period=abc").is_err());
        assert!(decode_cw("PutMetricData", "MetricData.member.x.MetricName=a").is_err());
        assert!(decode_cw("PutMetricData", "MetricData.member.0.MetricName=a").is_err());
        assert!(decode_cw("PutMetricData", "MetricData.member.1.Value=inf").is_err());
        assert!(parse_form(&[b'a', b'=', 0xff]).is_err());
        let deep = format!("{}=1", vec!["a"; 100].join("."));
        assert!(decode_cw("PutMetricData", &deep).is_err());
    }
}

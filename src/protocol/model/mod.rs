//! The AWS service models, loaded from the JSON embedded in the binary.
//!
//! Every codec and the validator walk these shapes instead of hand-written per-operation parsers,
//! so a new operation needs a handler, not wire code. Models are parsed lazily, once per service,
//! on the first request that needs them: start-up stays in the low milliseconds.
//!
//! Shapes are resolved into a flat `Vec` indexed by [`ShapeId`] so that walking a document costs
//! an index, not a string lookup, per node.

use std::collections::HashMap;
use std::sync::OnceLock;

use serde::Deserialize;

use crate::protocol::ServiceId;

/// Index of a shape inside its [`ServiceModel`].
pub type ShapeId = usize;

#[derive(Debug)]
pub struct ServiceModel {
    pub service: ServiceId,
    pub api_version: String,
    pub target_prefix: Option<String>,
    pub xml_namespace: Option<String>,
    /// CloudWatch answers JSON and CBOR errors with the query error code in `x-amzn-query-error`.
    pub query_compatible: bool,
    shapes: Vec<Shape>,
    operations: HashMap<String, Operation>,
    errors_by_shape: HashMap<String, ErrorInfo>,
}

#[derive(Debug)]
pub struct Operation {
    pub name: String,
    pub input: Option<ShapeId>,
    pub output: Option<ShapeId>,
    /// Query responses wrap the output in this element (`<GetMetricStatisticsResult>`).
    pub result_wrapper: Option<String>,
}

#[derive(Debug, Clone)]
pub struct ErrorInfo {
    /// The shape name: the `__type` of JSON and CBOR errors.
    pub shape_name: String,
    /// The query-protocol code (`awsQueryError`); equals the shape name when the model has none.
    pub code: String,
    pub status: u16,
    pub sender_fault: bool,
}

#[derive(Debug)]
pub struct Shape {
    pub name: String,
    pub kind: ShapeKind,
    pub min: Option<f64>,
    pub max: Option<f64>,
    pub pattern: Option<String>,
    pub enum_values: Option<Vec<String>>,
    compiled_pattern: OnceLock<Option<regex::Regex>>,
}

#[derive(Debug)]
pub enum ShapeKind {
    Structure {
        members: Vec<Member>,
        required: Vec<String>,
    },
    List {
        member: ShapeId,
    },
    Map {
        key: ShapeId,
        value: ShapeId,
    },
    String,
    Integer,
    Long,
    Float,
    Double,
    Boolean,
    Timestamp,
    Blob,
}

#[derive(Debug)]
pub struct Member {
    /// The model's member name: the key used in documents and DTOs.
    pub name: String,
    /// The name on the wire when it differs (`locationName`).
    pub wire_name: Option<String>,
    pub target: ShapeId,
}

impl Member {
    pub fn wire_name(&self) -> &str {
        self.wire_name.as_deref().unwrap_or(&self.name)
    }
}

impl Shape {
    /// The model's `pattern`, anchored to the whole value; `None` when the model has none or the
    /// pattern uses syntax the regex engine does not support (then it is not enforced).
    pub fn pattern_regex(&self) -> Option<&regex::Regex> {
        self.compiled_pattern
            .get_or_init(|| {
                self.pattern
                    .as_ref()
                    .and_then(|p| regex::Regex::new(&format!("^(?:{p})$")).ok())
            })
            .as_ref()
    }
}

impl ServiceModel {
    pub fn shape(&self, id: ShapeId) -> &Shape {
        // Ids are only ever produced by `load` from this same vector.
        &self.shapes[id]
    }

    pub fn operation(&self, name: &str) -> Option<&Operation> {
        self.operations.get(name)
    }

    pub fn operation_names(&self) -> impl Iterator<Item = &str> {
        self.operations.keys().map(String::as_str)
    }

    /// The error the model declares under this shape name, with its code and status.
    pub fn error(&self, shape_name: &str) -> Option<&ErrorInfo> {
        self.errors_by_shape.get(shape_name)
    }

    /// Finds a model error by its query code (`InvalidParameterValue`) or shape name.
    pub fn error_by_code(&self, code: &str) -> Option<&ErrorInfo> {
        self.errors_by_shape
            .get(code)
            .or_else(|| self.errors_by_shape.values().find(|e| e.code == code))
    }
}

/// The embedded model of a service, parsed on first use.
pub fn model(service: ServiceId) -> &'static ServiceModel {
    static CLOUDWATCH: OnceLock<ServiceModel> = OnceLock::new();
    static LOGS: OnceLock<ServiceModel> = OnceLock::new();
    static EVENTS: OnceLock<ServiceModel> = OnceLock::new();
    static CLOUDTRAIL: OnceLock<ServiceModel> = OnceLock::new();
    static STS: OnceLock<ServiceModel> = OnceLock::new();
    let (cell, json) = match service {
        ServiceId::CloudWatch => (&CLOUDWATCH, include_str!("../models/cloudwatch.json")),
        ServiceId::Logs => (&LOGS, include_str!("../models/logs.json")),
        ServiceId::Events => (&EVENTS, include_str!("../models/events.json")),
        ServiceId::CloudTrail => (&CLOUDTRAIL, include_str!("../models/cloudtrail.json")),
        ServiceId::Sts => (&STS, include_str!("../models/sts.json")),
    };
    cell.get_or_init(|| match load(service, json) {
        Ok(model) => model,
        // The models are compiled into the binary and covered by tests: a failure here is a
        // build defect, not a runtime condition.
        Err(e) => panic!("embedded model for {service:?} is invalid: {e}"),
    })
}

#[derive(Debug, thiserror::Error)]
pub enum ModelError {
    #[error("model JSON: {0}")]
    Json(#[from] serde_json::Error),
    #[error("shape {0} referenced but not defined")]
    MissingShape(String),
    #[error("shape {0} has unsupported type {1}")]
    UnsupportedType(String, String),
}

#[derive(Deserialize)]
struct RawModel {
    metadata: RawMetadata,
    operations: HashMap<String, RawOperation>,
    shapes: HashMap<String, RawShape>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawMetadata {
    api_version: String,
    target_prefix: Option<String>,
    xml_namespace: Option<String>,
    aws_query_compatible: Option<serde_json::Value>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawOperation {
    name: String,
    input: Option<RawRef>,
    output: Option<RawRef>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawRef {
    shape: String,
    location_name: Option<String>,
    result_wrapper: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawShape {
    #[serde(rename = "type")]
    kind: String,
    #[serde(default, deserialize_with = "ordered_members")]
    members: Vec<(String, RawRef)>,
    #[serde(default)]
    required: Vec<String>,
    member: Option<RawRef>,
    key: Option<RawRef>,
    value: Option<RawRef>,
    min: Option<f64>,
    max: Option<f64>,
    pattern: Option<String>,
    #[serde(rename = "enum")]
    enum_values: Option<Vec<String>>,
    error: Option<RawError>,
    exception: Option<bool>,
    fault: Option<bool>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawError {
    code: Option<String>,
    http_status_code: Option<u16>,
    sender_fault: Option<bool>,
}

fn load(service: ServiceId, json: &str) -> Result<ServiceModel, ModelError> {
    let raw: RawModel = serde_json::from_str(json)?;

    let mut names: Vec<&String> = raw.shapes.keys().collect();
    names.sort();
    let index: HashMap<&str, ShapeId> = names
        .iter()
        .enumerate()
        .map(|(i, n)| (n.as_str(), i))
        .collect();
    let resolve = |name: &str| {
        index
            .get(name)
            .copied()
            .ok_or_else(|| ModelError::MissingShape(name.to_string()))
    };

    let mut shapes = Vec::with_capacity(names.len());
    let mut errors_by_shape = HashMap::new();
    for name in &names {
        let raw_shape = &raw.shapes[*name];
        let kind = match raw_shape.kind.as_str() {
            "structure" | "union" => ShapeKind::Structure {
                members: raw_shape
                    .members
                    .iter()
                    .map(|(member_name, r)| {
                        Ok(Member {
                            name: member_name.clone(),
                            wire_name: r.location_name.clone(),
                            target: resolve(&r.shape)?,
                        })
                    })
                    .collect::<Result<_, ModelError>>()?,
                required: raw_shape.required.clone(),
            },
            "list" => ShapeKind::List {
                member: resolve(&ref_shape(&raw_shape.member, name)?)?,
            },
            "map" => ShapeKind::Map {
                key: resolve(&ref_shape(&raw_shape.key, name)?)?,
                value: resolve(&ref_shape(&raw_shape.value, name)?)?,
            },
            "string" => ShapeKind::String,
            "integer" => ShapeKind::Integer,
            "long" => ShapeKind::Long,
            "float" => ShapeKind::Float,
            "double" => ShapeKind::Double,
            "boolean" => ShapeKind::Boolean,
            "timestamp" => ShapeKind::Timestamp,
            "blob" => ShapeKind::Blob,
            other => {
                return Err(ModelError::UnsupportedType(
                    (*name).clone(),
                    other.to_string(),
                ))
            }
        };
        if raw_shape.exception.unwrap_or(false) || raw_shape.error.is_some() {
            let declared = raw_shape.error.as_ref();
            let fault = raw_shape.fault.unwrap_or(false);
            errors_by_shape.insert(
                (*name).clone(),
                ErrorInfo {
                    shape_name: (*name).clone(),
                    code: declared
                        .and_then(|e| e.code.clone())
                        .unwrap_or_else(|| (*name).clone()),
                    status: declared
                        .and_then(|e| e.http_status_code)
                        .unwrap_or(if fault { 500 } else { 400 }),
                    sender_fault: declared.and_then(|e| e.sender_fault).unwrap_or(!fault),
                },
            );
        }
        shapes.push(Shape {
            name: (*name).clone(),
            kind,
            min: raw_shape.min,
            max: raw_shape.max,
            pattern: raw_shape.pattern.clone(),
            enum_values: raw_shape.enum_values.clone(),
            compiled_pattern: OnceLock::new(),
        });
    }

    let mut operations = HashMap::new();
    for (name, op) in &raw.operations {
        operations.insert(
            name.clone(),
            Operation {
                name: op.name.clone(),
                input: op.input.as_ref().map(|r| resolve(&r.shape)).transpose()?,
                output: op.output.as_ref().map(|r| resolve(&r.shape)).transpose()?,
                result_wrapper: op.output.as_ref().and_then(|r| r.result_wrapper.clone()),
            },
        );
    }

    Ok(ServiceModel {
        service,
        api_version: raw.metadata.api_version,
        target_prefix: raw.metadata.target_prefix,
        xml_namespace: raw.metadata.xml_namespace,
        query_compatible: raw.metadata.aws_query_compatible.is_some(),
        shapes,
        operations,
        errors_by_shape,
    })
}

fn ref_shape(r: &Option<RawRef>, owner: &str) -> Result<String, ModelError> {
    r.as_ref()
        .map(|r| r.shape.clone())
        .ok_or_else(|| ModelError::MissingShape(format!("{owner} (member/key/value)")))
}

/// Members are a JSON object; this keeps their declared order, which is the order XML
/// responses and CBOR maps are written in.
fn ordered_members<'de, D: serde::Deserializer<'de>>(
    deserializer: D,
) -> Result<Vec<(String, RawRef)>, D::Error> {
    struct Ordered;
    impl<'de> serde::de::Visitor<'de> for Ordered {
        type Value = Vec<(String, RawRef)>;
        fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.write_str("a map of members")
        }
        fn visit_map<A: serde::de::MapAccess<'de>>(
            self,
            mut map: A,
        ) -> Result<Self::Value, A::Error> {
            let mut out = Vec::with_capacity(map.size_hint().unwrap_or(0));
            while let Some(entry) = map.next_entry()? {
                out.push(entry);
            }
            Ok(out)
        }
    }
    deserializer.deserialize_map(Ordered)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_embedded_model_loads() {
        for service in ServiceId::ALL {
            let m = model(service);
            assert!(m.operation_names().count() > 5, "{service:?}");
        }
    }

    #[test]
    fn cloudwatch_model_knows_its_query_errors() {
        let m = model(ServiceId::CloudWatch);
        assert!(m.query_compatible);
        let e = m.error("InvalidParameterValueException").unwrap();
        assert_eq!(e.code, "InvalidParameterValue");
        assert_eq!(e.status, 400);
        assert!(e.sender_fault);
        let op = m.operation("GetMetricStatistics").unwrap();
        assert_eq!(
            op.result_wrapper.as_deref(),
            Some("GetMetricStatisticsResult")
        );
    }

    #[test]
    fn member_order_follows_the_model() {
        let m = model(ServiceId::CloudWatch);
        let op = m.operation("PutMetricData").unwrap();
        let ShapeKind::Structure { members, required } = &m.shape(op.input.unwrap()).kind else {
            panic!("input is a structure");
        };
        // Declared order, not alphabetical: Namespace comes before MetricData.
        assert_eq!(members[0].name, "Namespace");
        assert_eq!(members[1].name, "MetricData");
        assert!(required.contains(&"Namespace".to_string()));
    }
}

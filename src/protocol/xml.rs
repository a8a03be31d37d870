//! Query-protocol responses: `<OpResponse><OpResult>…</OpResult><ResponseMetadata>` XML.
//!
//! The document is written by walking the operation's output shape, so element order, list
//! wrapping (`<member>`), map entries and timestamp formats follow the model. Writing goes
//! straight into a `String`: responses are small and quick-xml's writer would add nothing but
//! escaping, which [`escape_into`] does.

use serde_json::Value;

use super::model::{ServiceModel, ShapeId, ShapeKind};
use super::Encoded;

pub fn escape_into(out: &mut String, text: &str) {
    for c in text.chars() {
        match c {
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '&' => out.push_str("&amp;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            '\r' => out.push_str("&#xD;"),
            c => out.push(c),
        }
    }
}

pub fn encode_response(
    model: &ServiceModel,
    operation: &str,
    result_wrapper: Option<&str>,
    shape: Option<ShapeId>,
    output: &Value,
    request_id: &str,
) -> Encoded {
    let mut out = String::with_capacity(512);
    out.push('<');
    out.push_str(operation);
    out.push_str("Response xmlns=\"");
    escape_into(&mut out, model.xml_namespace.as_deref().unwrap_or_default());
    out.push_str("\">\n");
    if let Some(shape) = shape {
        let wrapper = result_wrapper
            .map(str::to_string)
            .unwrap_or_else(|| format!("{operation}Result"));
        out.push_str("  <");
        out.push_str(&wrapper);
        out.push('>');
        write_members(model, shape, output, &mut out);
        out.push_str("</");
        out.push_str(&wrapper);
        out.push_str(">\n");
    }
    out.push_str("  <ResponseMetadata>\n    <RequestId>");
    escape_into(&mut out, request_id);
    out.push_str("</RequestId>\n  </ResponseMetadata>\n</");
    out.push_str(operation);
    out.push_str("Response>\n");
    Encoded {
        status: 200,
        content_type: "text/xml",
        headers: Vec::new(),
        body: out.into_bytes(),
    }
}

fn write_members(model: &ServiceModel, shape: ShapeId, value: &Value, out: &mut String) {
    if let ShapeKind::Structure { members, .. } = &model.shape(shape).kind {
        for member in members {
            if let Some(v) = value.get(&member.name) {
                if !v.is_null() {
                    write_element(model, member.target, member.wire_name(), v, out);
                }
            }
        }
    }
}

fn write_element(
    model: &ServiceModel,
    shape: ShapeId,
    name: &str,
    value: &Value,
    out: &mut String,
) {
    out.push('<');
    out.push_str(name);
    out.push('>');
    match &model.shape(shape).kind {
        ShapeKind::Structure { .. } => write_members(model, shape, value, out),
        ShapeKind::List { member } => {
            if let Value::Array(items) = value {
                for item in items {
                    write_element(model, *member, "member", item, out);
                }
            }
        }
        ShapeKind::Map {
            key,
            value: value_shape,
        } => {
            if let Value::Object(entries) = value {
                for (k, v) in entries {
                    out.push_str("<entry>");
                    write_element(model, *key, "key", &Value::String(k.clone()), out);
                    write_element(model, *value_shape, "value", v, out);
                    out.push_str("</entry>");
                }
            }
        }
        ShapeKind::Timestamp => {
            if let Some(f) = value.as_f64() {
                out.push_str(&super::timestamp::format_iso8601(f));
            }
        }
        ShapeKind::Double | ShapeKind::Float => {
            if let Some(f) = value.as_f64() {
                out.push_str(&format_double(f));
            }
        }
        _ => match value {
            Value::String(s) => escape_into(out, s),
            Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
            Value::Number(n) => out.push_str(&n.to_string()),
            _ => {}
        },
    }
    out.push_str("</");
    out.push_str(name);
    out.push('>');
}

/// AWS writes doubles with a decimal point (`12.0`), large and small ones in E notation.
pub fn format_double(f: f64) -> String {
    if f.fract() == 0.0 && f.abs() < 1e16 {
        format!("{f:.1}")
    } else if f != 0.0 && (f.abs() >= 1e16 || f.abs() < 1e-4) {
        format!("{f:E}")
    } else {
        format!("{f}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::{model::model, ServiceId};
    use serde_json::json;

    #[test]
    fn wraps_result_and_writes_lists_timestamps_and_doubles() {
        let m = model(ServiceId::CloudWatch);
        let op = m.operation("GetMetricStatistics").unwrap();
        let out = encode_response(
            m,
            "GetMetricStatistics",
            op.result_wrapper.as_deref(),
            op.output,
            &json!({"Label":"Lat<ency>","Datapoints":[{"Timestamp":1_704_164_645.0,"Sum":12.0,"Unit":"Milliseconds","ExtendedStatistics":{"p99":3.5}}]}),
            "rid",
        );
        let xml = String::from_utf8(out.body).unwrap();
        assert!(xml.starts_with("<GetMetricStatisticsResponse xmlns=\"http://monitoring.amazonaws.com/doc/2010-08-01/\">"));
        assert!(xml.contains("<GetMetricStatisticsResult><Label>Lat&lt;ency&gt;</Label><Datapoints><member><Timestamp>2024-01-02T03:04:05.000Z</Timestamp><Sum>12.0</Sum><Unit>Milliseconds</Unit><ExtendedStatistics><entry><key>p99</key><value>3.5</value></entry></ExtendedStatistics></member></Datapoints></GetMetricStatisticsResult>"), "{xml}");
        assert!(xml.contains("<RequestId>rid</RequestId>"));
    }

    #[test]
    fn output_less_operation_has_only_metadata() {
        let m = model(ServiceId::CloudWatch);
        let out = encode_response(m, "PutMetricData", None, None, &json!({}), "r");
        let xml = String::from_utf8(out.body).unwrap();
        assert!(!xml.contains("Result"));
        assert!(xml.contains("<PutMetricDataResponse"));
    }

    #[test]
    fn doubles_look_like_aws() {
        assert_eq!(format_double(12.0), "12.0");
        assert_eq!(format_double(0.5), "0.5");
        assert_eq!(format_double(1e20), "1E20");
    }
}

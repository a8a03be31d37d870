//! Turning an API call into a CloudTrail record, shaped as AWS documents "CloudTrail record
//! contents": who (`userIdentity`), what (`eventName`, `requestParameters`), when, where from,
//! and how it ended (`errorCode`/`errorMessage`).

use serde_json::{json, Map, Value};

use crate::auth::IdentityKind;
use crate::context::ServiceId;
use crate::services::ApiCall;

pub const EVENT_VERSION: &str = "1.11";

/// A record ready for the journal, with the columns LookupEvents filters on.
#[derive(Debug, Clone)]
pub struct JournalRecord {
    pub account_id: String,
    pub region: String,
    pub event_time_ms: i64,
    pub event_id: String,
    pub event_name: String,
    pub event_source: String,
    pub read_only: bool,
    pub username: Option<String>,
    pub access_key_id: Option<String>,
    pub resource: Option<(String, String)>,
    pub management: bool,
    pub event: String,
}

/// Read-only calls, by AWS's naming of its operations.
pub fn is_read_only(operation: &str) -> bool {
    ["Get", "List", "Describe", "Lookup", "Test", "Filter"]
        .iter()
        .any(|p| operation.starts_with(p))
}

/// Operations AWS logs as data events rather than management events (CloudWatch's metric data
/// plane, CloudWatch Logs' log data plane, EventBridge's PutEvents). Data events reach only
/// trails whose selectors ask for them, and LookupEvents does not show them.
pub fn is_data_event(service: ServiceId, operation: &str) -> bool {
    match service {
        ServiceId::CloudWatch => {
            matches!(
                operation,
                "GetMetricData" | "GetMetricStatistics" | "ListMetrics" | "PutMetricData"
            )
        }
        ServiceId::Logs => matches!(
            operation,
            "PutLogEvents"
                | "GetLogEvents"
                | "FilterLogEvents"
                | "GetLogRecord"
                | "GetLogGroupFields"
                | "StartQuery"
                | "StopQuery"
                | "GetQueryResults"
                | "StartLiveTail"
        ),
        ServiceId::Events => operation == "PutEvents",
        ServiceId::CloudTrail | ServiceId::Sts => false,
    }
}

/// Request documents use the model's member names; CloudTrail writes them camelCase.
fn camel_case(value: Value) -> Value {
    match value {
        Value::Object(map) => Value::Object(
            map.into_iter()
                .map(|(k, v)| {
                    let mut chars = k.chars();
                    let key = match chars.next() {
                        Some(c) => c.to_lowercase().chain(chars).collect(),
                        None => k,
                    };
                    (key, camel_case(v))
                })
                .collect::<Map<String, Value>>(),
        ),
        Value::Array(items) => Value::Array(items.into_iter().map(camel_case).collect()),
        other => other,
    }
}

/// The resource a call names, where one is obvious from its parameters.
fn resource_of(
    service: ServiceId,
    operation: &str,
    request: Option<&Value>,
) -> Option<(String, String)> {
    // Data-plane calls name the resource type data event selectors filter on
    // (`resources.type`), even when their payload is not kept.
    if is_data_event(service, operation) {
        let name = request
            .and_then(|r| r.get("logGroupName").or_else(|| r.get("namespace")))
            .and_then(Value::as_str)
            .unwrap_or_default();
        return match service {
            ServiceId::CloudWatch => {
                Some(("AWS::CloudWatch::Metric".to_string(), name.to_string()))
            }
            ServiceId::Logs => Some(("AWS::Logs::LogGroup".to_string(), name.to_string())),
            _ => None,
        };
    }
    let request = request?;
    let field = |name: &str| {
        request
            .get(name)
            .and_then(Value::as_str)
            .map(str::to_string)
    };
    match service {
        ServiceId::Logs => field("logGroupName").map(|n| ("AWS::Logs::LogGroup".to_string(), n)),
        ServiceId::CloudWatch => field("AlarmName")
            .map(|n| ("AWS::CloudWatch::Alarm".to_string(), n))
            .or_else(|| {
                field("DashboardName").map(|n| ("AWS::CloudWatch::Dashboard".to_string(), n))
            }),
        ServiceId::CloudTrail => field("Name").map(|n| ("AWS::CloudTrail::Trail".to_string(), n)),
        ServiceId::Events => field("Name").map(|n| ("AWS::Events::Rule".to_string(), n)),
        ServiceId::Sts => None,
    }
}

fn iso8601(ms: i64) -> String {
    chrono::DateTime::from_timestamp_millis(ms)
        .map(|t| t.format("%Y-%m-%dT%H:%M:%SZ").to_string())
        .unwrap_or_default()
}

pub fn build(call: ApiCall) -> JournalRecord {
    let ctx = &call.ctx;
    let identity = &ctx.identity;
    let read_only = is_read_only(&call.operation);
    let management = !is_data_event(call.service, &call.operation);
    let mut user_identity = Map::new();
    user_identity.insert("type".into(), json!(identity.kind.as_str()));
    if identity.kind != IdentityKind::Anonymous {
        user_identity.insert("principalId".into(), json!(identity.principal_id));
        user_identity.insert("arn".into(), json!(identity.arn));
    }
    user_identity.insert("accountId".into(), json!(ctx.account_id));
    if let Some(key) = &identity.access_key_id {
        user_identity.insert("accessKeyId".into(), json!(key));
    }
    if let Some(name) = &identity.user_name {
        user_identity.insert("userName".into(), json!(name));
    }
    let request_parameters = call.request.clone().map(camel_case).unwrap_or(Value::Null);
    let resource = resource_of(call.service, &call.operation, Some(&request_parameters));
    // Read-only calls carry no responseElements in CloudTrail; others carry the output when
    // it is small, as AWS omits large or data-plane payloads.
    let (response_elements, error) = match call.outcome {
        Ok(output) if !read_only && management => {
            let small = serde_json::to_string(&output)
                .map(|s| s.len() <= 4096)
                .unwrap_or(false);
            let empty = output.as_object().is_some_and(Map::is_empty);
            (
                if small && !empty {
                    camel_case(output)
                } else {
                    Value::Null
                },
                None,
            )
        }
        Ok(_) => (Value::Null, None),
        Err(e) => (Value::Null, Some(e)),
    };
    let event_id = uuid::Uuid::new_v4().to_string();
    let mut event = Map::new();
    event.insert("eventVersion".into(), json!(EVENT_VERSION));
    event.insert("userIdentity".into(), Value::Object(user_identity));
    event.insert("eventTime".into(), json!(iso8601(ctx.now_ms)));
    event.insert("eventSource".into(), json!(call.service.event_source()));
    event.insert("eventName".into(), json!(call.operation));
    event.insert("awsRegion".into(), json!(ctx.region));
    event.insert("sourceIPAddress".into(), json!(ctx.source_ip));
    event.insert("userAgent".into(), json!(ctx.user_agent));
    if let Some((code, message)) = &error {
        event.insert("errorCode".into(), json!(code));
        event.insert("errorMessage".into(), json!(message));
    }
    event.insert("requestParameters".into(), request_parameters);
    event.insert("responseElements".into(), response_elements);
    event.insert("requestID".into(), json!(ctx.request_id));
    event.insert("eventID".into(), json!(event_id));
    event.insert("readOnly".into(), json!(read_only));
    if let Some((kind, name)) = &resource {
        event.insert(
            "resources".into(),
            json!([{ "type": kind, "ARN": name, "accountId": ctx.account_id }]),
        );
    }
    event.insert("eventType".into(), json!("AwsApiCall"));
    event.insert("managementEvent".into(), json!(management));
    event.insert("recipientAccountId".into(), json!(ctx.account_id));
    event.insert(
        "eventCategory".into(),
        json!(if management { "Management" } else { "Data" }),
    );
    JournalRecord {
        account_id: ctx.account_id.clone(),
        region: ctx.region.clone(),
        event_time_ms: ctx.now_ms,
        event_id,
        event_name: call.operation.clone(),
        event_source: call.service.event_source().to_string(),
        read_only,
        username: identity.user_name.clone().or_else(|| match identity.kind {
            IdentityKind::Root => Some("root".to_string()),
            _ => None,
        }),
        access_key_id: identity.access_key_id.clone(),
        resource,
        management,
        event: Value::Object(event).to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classification_follows_aws() {
        assert!(is_read_only("DescribeLogGroups"));
        assert!(!is_read_only("CreateLogGroup"));
        assert!(is_data_event(ServiceId::Logs, "PutLogEvents"));
        assert!(!is_data_event(ServiceId::Logs, "CreateLogGroup"));
        assert!(is_data_event(ServiceId::CloudWatch, "PutMetricData"));
        assert!(!is_data_event(ServiceId::CloudWatch, "PutMetricAlarm"));
    }

    #[test]
    fn parameters_become_camel_case() {
        let v = camel_case(json!({"Namespace": "A", "MetricData": [{"MetricName": "x"}]}));
        assert_eq!(
            v,
            json!({"namespace": "A", "metricData": [{"metricName": "x"}]})
        );
    }
}

//! Turning an API call into a CloudTrail record, shaped as AWS documents "CloudTrail record
//! contents": who (`userIdentity`), what (`eventName`, `requestParameters`), when, where from,
//! and how it ended (`errorCode`/`errorMessage`).

use serde_json::{json, Map, Value};

use crate::auth::IdentityKind;
use crate::context::ServiceId;
use crate::protocol::model::{self, ServiceModel, ShapeId, ShapeKind};
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

/// The "AWS API Call via CloudTrail" event EventBridge receives for a management call: the
/// record itself is the event's detail, its source is the calling service's `aws.*` name.
/// Rules see read-only calls only in state ENABLED_WITH_ALL_CLOUDTRAIL_MANAGEMENT_EVENTS.
pub fn api_call_event(record: &JournalRecord) -> Option<crate::services::bus::ServiceEvent> {
    let detail: Value = serde_json::from_str(&record.event).ok()?;
    let service = record.event_source.strip_suffix(".amazonaws.com")?;
    // CloudWatch's endpoint is `monitoring`; its events carry the service's own name.
    let source = match service {
        "monitoring" => "aws.cloudwatch".to_string(),
        other => format!("aws.{other}"),
    };
    Some(crate::services::bus::ServiceEvent {
        account_id: record.account_id.clone(),
        region: record.region.clone(),
        source,
        detail_type: "AWS API Call via CloudTrail".to_string(),
        resources: Vec::new(),
        detail,
        time_ms: record.event_time_ms,
    })
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

/// `requestParameters` and `responseElements` larger than this are omitted, as CloudTrail caps
/// each of them at 100 KB.
const MAX_ELEMENT_BYTES: usize = 100 * 1024;

fn lower_first(key: &str) -> String {
    let mut chars = key.chars();
    match chars.next() {
        Some(c) => c.to_lowercase().chain(chars).collect(),
        None => String::new(),
    }
}

/// Documents use the model's member names; CloudTrail writes structure members camelCase
/// (`AlarmName` → `alarmName`). The walk follows the model so that map keys, which are the
/// caller's data (tag keys, dimension maps), are kept exactly as sent.
fn camel_case(model: &ServiceModel, shape: Option<ShapeId>, value: Value) -> Value {
    let kind = shape.map(|s| &model.shape(s).kind);
    match value {
        Value::Object(map) => Value::Object(match kind {
            Some(ShapeKind::Map { value: inner, .. }) => map
                .into_iter()
                .map(|(k, v)| (k, camel_case(model, Some(*inner), v)))
                .collect(),
            Some(ShapeKind::Structure { members, .. }) => map
                .into_iter()
                .map(|(k, v)| {
                    let target = members.iter().find(|m| m.name == k).map(|m| m.target);
                    (lower_first(&k), camel_case(model, target, v))
                })
                .collect(),
            // A document the model does not describe (should not happen): lower every key.
            _ => map
                .into_iter()
                .map(|(k, v)| (lower_first(&k), camel_case(model, None, v)))
                .collect::<Map<String, Value>>(),
        }),
        Value::Array(items) => {
            let member = match kind {
                Some(ShapeKind::List { member }) => Some(*member),
                _ => None,
            };
            Value::Array(
                items
                    .into_iter()
                    .map(|v| camel_case(model, member, v))
                    .collect(),
            )
        }
        other => other,
    }
}

/// The element, or null when it is over CloudTrail's size cap.
fn capped(value: Value) -> Value {
    let size = serde_json::to_string(&value).map_or(usize::MAX, |s| s.len());
    if size <= MAX_ELEMENT_BYTES {
        value
    } else {
        Value::Null
    }
}

/// The resource a call names, where one is obvious from its (camelCase) parameters: its
/// LookupEvents type and name, and its ARN when one can be formed.
struct NamedResource {
    kind: &'static str,
    name: String,
    arn: Option<String>,
}

fn resource_of(
    service: ServiceId,
    operation: &str,
    request: &Value,
    region: &str,
    account: &str,
) -> Option<NamedResource> {
    let field = |name: &str| {
        request
            .get(name)
            .and_then(Value::as_str)
            .filter(|v| !v.is_empty())
            .map(str::to_string)
    };
    let log_group = |name: String| NamedResource {
        kind: "AWS::Logs::LogGroup",
        arn: Some(if name.starts_with("arn:") {
            name.clone()
        } else {
            format!("arn:aws:logs:{region}:{account}:log-group:{name}")
        }),
        name,
    };
    // Data-plane calls always name the resource type data event selectors filter on
    // (`resources.type`), even when their payload is not kept.
    if is_data_event(service, operation) {
        return match service {
            ServiceId::CloudWatch => Some(NamedResource {
                kind: "AWS::CloudWatch::Metric",
                name: field("namespace").unwrap_or_default(),
                arn: None,
            }),
            ServiceId::Logs => Some(
                field("logGroupName")
                    .or_else(|| field("logGroupIdentifier"))
                    .map(log_group)
                    .unwrap_or(NamedResource {
                        kind: "AWS::Logs::LogGroup",
                        name: String::new(),
                        arn: None,
                    }),
            ),
            _ => None,
        };
    }
    match service {
        ServiceId::Logs => field("logGroupName")
            .or_else(|| field("logGroupIdentifier"))
            .map(log_group),
        ServiceId::CloudWatch => field("alarmName")
            .map(|name| NamedResource {
                kind: "AWS::CloudWatch::Alarm",
                arn: Some(format!(
                    "arn:aws:cloudwatch:{region}:{account}:alarm:{name}"
                )),
                name,
            })
            .or_else(|| {
                field("dashboardName").map(|name| NamedResource {
                    kind: "AWS::CloudWatch::Dashboard",
                    arn: Some(format!("arn:aws:cloudwatch::{account}:dashboard/{name}")),
                    name,
                })
            }),
        ServiceId::CloudTrail => {
            field("name")
                .or_else(|| field("trailName"))
                .map(|name| NamedResource {
                    kind: "AWS::CloudTrail::Trail",
                    arn: Some(if name.starts_with("arn:") {
                        name.clone()
                    } else {
                        format!("arn:aws:cloudtrail:{region}:{account}:trail/{name}")
                    }),
                    name,
                })
        }
        ServiceId::Events if operation.ends_with("Rule") => {
            field("name").map(|name| NamedResource {
                kind: "AWS::Events::Rule",
                arn: Some(format!("arn:aws:events:{region}:{account}:rule/{name}")),
                name,
            })
        }
        ServiceId::Events | ServiceId::Sts => None,
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
    if identity.kind == IdentityKind::Anonymous {
        // How CloudTrail records a request made without credentials.
        user_identity.insert("principalId".into(), json!(""));
        user_identity.insert("accountId".into(), json!("ANONYMOUS_PRINCIPAL"));
    } else {
        user_identity.insert("principalId".into(), json!(identity.principal_id));
        user_identity.insert("arn".into(), json!(identity.arn));
        user_identity.insert("accountId".into(), json!(ctx.account_id));
    }
    if let Some(key) = &identity.access_key_id {
        user_identity.insert("accessKeyId".into(), json!(key));
    }
    if let Some(name) = &identity.user_name {
        user_identity.insert("userName".into(), json!(name));
    }
    if ctx.from_console {
        // A console session's credentials, as CloudTrail describes them.
        user_identity.insert(
            "sessionContext".into(),
            json!({"attributes": {"creationDate": iso8601(ctx.now_ms), "mfaAuthenticated": "false"}}),
        );
    }
    let model = model::model(call.service);
    let operation = model.operation(&call.operation);
    let request_parameters = call
        .request
        .map(|doc| camel_case(model, operation.and_then(|o| o.input), doc))
        .map_or(Value::Null, capped);
    let resource = resource_of(
        call.service,
        &call.operation,
        &request_parameters,
        &ctx.region,
        &ctx.account_id,
    );
    // Read-only calls and data events carry no responseElements; a change carries its output
    // (null when the operation answers nothing).
    let (response_elements, error) = match call.outcome {
        Ok(output) if !read_only && management => {
            let empty = output.as_object().is_some_and(Map::is_empty);
            (
                if empty {
                    Value::Null
                } else {
                    capped(camel_case(model, operation.and_then(|o| o.output), output))
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
    if let Some(r) = &resource {
        let mut entry = Map::new();
        if let Some(arn) = &r.arn {
            entry.insert("ARN".into(), json!(arn));
        }
        entry.insert("accountId".into(), json!(ctx.account_id));
        entry.insert("type".into(), json!(r.kind));
        event.insert("resources".into(), json!([entry]));
    }
    event.insert("eventType".into(), json!("AwsApiCall"));
    event.insert("managementEvent".into(), json!(management));
    event.insert("recipientAccountId".into(), json!(ctx.account_id));
    event.insert(
        "eventCategory".into(),
        json!(if management { "Management" } else { "Data" }),
    );
    if ctx.from_console {
        // CloudTrail writes this field only when it is true.
        event.insert("sessionCredentialFromConsole".into(), json!("true"));
    }
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
        // LookupEvents finds a resource by its name; a data call that names none has no row
        // value to match.
        resource: resource
            .filter(|r| !r.name.is_empty())
            .map(|r| (r.kind.to_string(), r.name)),
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
    fn structure_members_become_camel_case_but_map_keys_stay() {
        let cw = model::model(ServiceId::CloudWatch);
        let input = cw.operation("PutMetricAlarm").and_then(|o| o.input);
        let v = camel_case(
            cw,
            input,
            json!({"AlarmName": "A", "Dimensions": [{"Name": "Host", "Value": "x"}]}),
        );
        assert_eq!(
            v,
            json!({"alarmName": "A", "dimensions": [{"name": "Host", "value": "x"}]})
        );
        let logs = model::model(ServiceId::Logs);
        let input = logs.operation("CreateLogGroup").and_then(|o| o.input);
        let v = camel_case(
            logs,
            input,
            json!({"logGroupName": "g", "tags": {"Team": "Blue"}}),
        );
        assert_eq!(v, json!({"logGroupName": "g", "tags": {"Team": "Blue"}}));
    }

    #[test]
    fn oversized_elements_are_omitted() {
        assert_eq!(capped(json!({"a": 1})), json!({"a": 1}));
        let big = "x".repeat(MAX_ELEMENT_BYTES);
        assert_eq!(capped(json!({ "body": big })), Value::Null);
    }

    #[test]
    fn a_write_call_becomes_an_api_call_event_from_its_service() {
        let record = JournalRecord {
            account_id: "111122223333".into(),
            region: "eu-west-1".into(),
            event_time_ms: 1_700_000_000_000,
            event_id: "e1".into(),
            event_name: "PutMetricAlarm".into(),
            event_source: "monitoring.amazonaws.com".into(),
            read_only: false,
            username: None,
            access_key_id: None,
            resource: None,
            management: true,
            event: json!({"eventName": "PutMetricAlarm", "eventID": "e1"}).to_string(),
        };
        let event = api_call_event(&record).unwrap();
        assert_eq!(event.source, "aws.cloudwatch");
        assert_eq!(event.detail_type, "AWS API Call via CloudTrail");
        assert_eq!(event.account_id, "111122223333");
        assert_eq!(event.region, "eu-west-1");
        assert_eq!(event.time_ms, 1_700_000_000_000);
        assert_eq!(event.detail["eventName"], "PutMetricAlarm");
        let logs = JournalRecord {
            event_source: "logs.amazonaws.com".into(),
            ..record
        };
        assert_eq!(api_call_event(&logs).unwrap().source, "aws.logs");
    }
}

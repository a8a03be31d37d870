//! OpenTelemetry's OTLP/HTTP: `POST /v1/logs` as CloudWatch Logs serves it, and `/v1/traces`
//! answered with a clear error (X-Ray is not hosted).
//!
//! Logs: the log group and stream come from the `x-aws-log-group` and `x-aws-log-stream`
//! headers; bodies are protobuf (`application/x-protobuf`) or OTLP/JSON (`application/json`),
//! optionally gzip-compressed. Each log record becomes one event whose message is a JSON document
//! of the record with its resource and scope (see [`record_message`]). The events then go through
//! PutLogEvents' own handler, so AWS's limits, the too-old/too-new/expired rules, metric filters,
//! embedded metric format and live tail apply exactly as they do to PutLogEvents; its rejected
//! events are answered as OTLP's `partialSuccess`, with AWS's counts in `errorMessage`.
//!
//! Errors follow OTLP/HTTP: a `google.rpc.Status` in the request's encoding with a 4xx status;
//! the server never answers 500 to a bad body.

use axum::body::Body;
use axum::extract::{ConnectInfo, Request, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::Response;
use base64::Engine;
use bytes::Bytes;
use opentelemetry_proto::tonic::collector::logs::v1::{
    ExportLogsPartialSuccess, ExportLogsServiceRequest, ExportLogsServiceResponse,
};
use opentelemetry_proto::tonic::common::v1::{any_value, AnyValue, InstrumentationScope, KeyValue};
use opentelemetry_proto::tonic::logs::v1::LogRecord;
use opentelemetry_proto::tonic::resource::v1::Resource;
use prost::Message;
use serde_json::{json, Map, Value};
use std::net::SocketAddr;

use crate::context::RequestContext;
use crate::dispatch::MAX_BODY_BYTES;
use crate::protocol::ServiceId;
use crate::server::AppState;

/// PutLogEvents' documented batch size, which the OTLP endpoint shares.
const MAX_LOGS_BODY_BYTES: usize = 1024 * 1024;

/// `google.rpc.Status`, the body of OTLP/HTTP error answers. Declared with prost's derive (the
/// OTLP crate does not carry the google.rpc messages); `details` is never sent.
#[derive(Clone, PartialEq, prost::Message)]
struct RpcStatus {
    #[prost(int32, tag = "1")]
    code: i32,
    #[prost(string, tag = "2")]
    message: String,
}

/// gRPC status codes used in the answers.
pub(crate) const INVALID_ARGUMENT: i32 = 3;
const NOT_FOUND: i32 = 5;
const UNIMPLEMENTED: i32 = 12;
pub(crate) const INTERNAL: i32 = 13;

#[derive(Clone, Copy, PartialEq, Debug)]
pub(crate) enum Encoding {
    Protobuf,
    Json,
}

impl Encoding {
    fn of(headers: &HeaderMap) -> Option<Self> {
        let content_type = headers
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default();
        let essence = content_type
            .split(';')
            .next()
            .unwrap_or_default()
            .trim()
            .to_ascii_lowercase();
        match essence.as_str() {
            "application/x-protobuf" | "application/protobuf" => Some(Encoding::Protobuf),
            "application/json" => Some(Encoding::Json),
            _ => None,
        }
    }

    fn content_type(self) -> &'static str {
        match self {
            Encoding::Protobuf => "application/x-protobuf",
            Encoding::Json => "application/json",
        }
    }
}

pub(crate) fn answer(status: StatusCode, encoding: Encoding, body: Vec<u8>) -> Response {
    let mut response = Response::new(Body::from(body));
    *response.status_mut() = status;
    response.headers_mut().insert(
        "content-type",
        HeaderValue::from_static(encoding.content_type()),
    );
    response
}

pub(crate) fn error(
    status: StatusCode,
    encoding: Encoding,
    code: i32,
    message: impl Into<String>,
) -> Response {
    let status_message = RpcStatus {
        code,
        message: message.into(),
    };
    let body = match encoding {
        Encoding::Protobuf => status_message.encode_to_vec(),
        Encoding::Json => json!({ "code": status_message.code, "message": status_message.message })
            .to_string()
            .into_bytes(),
    };
    answer(status, encoding, body)
}

/// The body, decompressed, within `limit`; or the error answer.
pub(crate) async fn read_body(
    request: Request,
    limit: usize,
) -> Result<(HeaderMap, Bytes, Encoding, String, Option<String>), Response> {
    let (parts, body) = request.into_parts();
    let encoding = Encoding::of(&parts.headers).ok_or_else(|| {
        error(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            Encoding::Json,
            INVALID_ARGUMENT,
            "Content-Type must be application/x-protobuf or application/json.",
        )
    })?;
    let raw = axum::body::to_bytes(body, MAX_BODY_BYTES)
        .await
        .map_err(|_| {
            error(
                StatusCode::PAYLOAD_TOO_LARGE,
                encoding,
                INVALID_ARGUMENT,
                format!("The request body is larger than {MAX_BODY_BYTES} bytes."),
            )
        })?;
    let body = crate::dispatch::decompress(&parts.headers, &raw).map_err(|e| {
        error(
            StatusCode::BAD_REQUEST,
            encoding,
            INVALID_ARGUMENT,
            e.to_string(),
        )
    })?;
    if body.len() > limit {
        return Err(error(
            StatusCode::PAYLOAD_TOO_LARGE,
            encoding,
            INVALID_ARGUMENT,
            format!("The request body is larger than {limit} bytes."),
        ));
    }
    let path = parts.uri.path().to_string();
    let query = parts.uri.query().map(str::to_string);
    Ok((parts.headers, body, encoding, path, query))
}

/// The caller's account and Region, from the SigV4 signature if there is one (as `dispatch`
/// does for the AWS API), else the defaults.
pub(crate) fn context(
    state: &AppState,
    headers: &HeaderMap,
    path: &str,
    query: Option<&str>,
    body: &[u8],
    remote: SocketAddr,
) -> RequestContext {
    let signing = crate::auth::sigv4::SigningInput {
        method: "POST",
        path,
        query,
        headers,
        body,
    };
    let signature = crate::auth::sigv4::parse(&signing).ok().flatten();
    let identity = state.credentials.identify(signature.as_ref());
    let region = identity
        .signed_region
        .clone()
        .unwrap_or_else(|| state.config.default_region.clone());
    RequestContext {
        request_id: uuid::Uuid::new_v4().to_string(),
        account_id: identity.account_id.clone(),
        identity,
        region,
        now_ms: state.clock.now_ms(),
        source_ip: remote.ip().to_string(),
        user_agent: headers
            .get("user-agent")
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_string(),
        from_console: false,
    }
}

fn header(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .map(str::trim)
        .filter(|v| !v.is_empty())
        .map(str::to_string)
}

/// `POST /v1/logs`.
pub async fn logs(
    State(state): State<AppState>,
    ConnectInfo(remote): ConnectInfo<SocketAddr>,
    request: Request,
) -> Response {
    let (headers, body, encoding, path, query) = match read_body(request, MAX_LOGS_BODY_BYTES).await
    {
        Ok(read) => read,
        Err(response) => return response,
    };
    let (Some(group), Some(stream)) = (
        header(&headers, "x-aws-log-group"),
        header(&headers, "x-aws-log-stream"),
    ) else {
        return error(
            StatusCode::BAD_REQUEST,
            encoding,
            INVALID_ARGUMENT,
            "The x-aws-log-group and x-aws-log-stream headers are required.",
        );
    };
    let ctx = context(&state, &headers, &path, query.as_deref(), &body, remote);
    let mut events = match decode_logs(&body, encoding == Encoding::Json, ctx.now_ms) {
        Ok(events) => events,
        Err(message) => return error(StatusCode::BAD_REQUEST, encoding, INVALID_ARGUMENT, message),
    };
    if events.is_empty() {
        return success(encoding, 0, None);
    }
    // PutLogEvents takes events in chronological order; the records' order is not kept.
    events.sort_by_key(|(timestamp, _)| *timestamp);
    let count = events.len();
    let input = json!({
        "logGroupName": group,
        "logStreamName": stream,
        "logEvents": events
            .into_iter()
            .map(|(timestamp, message)| json!({ "timestamp": timestamp, "message": message }))
            .collect::<Vec<_>>(),
    });
    let mut outcome = put_log_events(&state, &ctx, input.clone()).await;
    // A missing stream is created and the batch put again (the group must exist); checking
    // first would cost every request a lookup that PutLogEvents makes anyway.
    if matches!(&outcome, Err(e) if e.to_string() == super_stream_not_found()) {
        if let Err(response) = ensure_stream(&state, &ctx, &group, &stream, encoding).await {
            return response;
        }
        outcome = put_log_events(&state, &ctx, input).await;
    }
    match outcome {
        Ok(output) => success(encoding, count, output.get("rejectedLogEventsInfo")),
        Err(e) if e.is_internal() => {
            tracing::error!(error = %e, "OTLP logs: storing the events failed");
            error(
                StatusCode::SERVICE_UNAVAILABLE,
                encoding,
                INTERNAL,
                "The events could not be stored; retry.",
            )
        }
        Err(e) => {
            let code = if e.error_shape() == "ResourceNotFoundException" {
                NOT_FOUND
            } else {
                INVALID_ARGUMENT
            };
            error(
                StatusCode::BAD_REQUEST,
                encoding,
                code,
                format!("{}: {e}", e.error_shape()),
            )
        }
    }
}

fn super_stream_not_found() -> String {
    crate::services::logs::stream_not_found().to_string()
}

async fn put_log_events(
    state: &AppState,
    ctx: &RequestContext,
    input: Value,
) -> Result<Value, crate::services::BoxError> {
    match state
        .services
        .call(ServiceId::Logs, ctx, "PutLogEvents", input)
    {
        Some(call) => call.await,
        None => Err(Box::new(
            crate::services::logs::LogsError::InvalidParameter(
                "PutLogEvents is not served.".into(),
            ),
        )),
    }
}

/// The stream named by `x-aws-log-stream` is created if it is missing (the group must exist).
async fn ensure_stream(
    state: &AppState,
    ctx: &RequestContext,
    group: &str,
    stream: &str,
    encoding: Encoding,
) -> Result<(), Response> {
    let input = json!({ "logGroupName": group, "logStreamName": stream });
    let Some(call) = state
        .services
        .call(ServiceId::Logs, ctx, "CreateLogStream", input)
    else {
        return Ok(());
    };
    match call.await {
        Ok(_) => Ok(()),
        Err(e) if e.error_shape() == "ResourceAlreadyExistsException" => Ok(()),
        Err(e) if e.error_shape() == "ResourceNotFoundException" => Err(error(
            StatusCode::BAD_REQUEST,
            encoding,
            NOT_FOUND,
            format!("ResourceNotFoundException: The specified log group does not exist: {group}"),
        )),
        Err(e) if e.is_internal() => Err(error(
            StatusCode::SERVICE_UNAVAILABLE,
            encoding,
            INTERNAL,
            "The events could not be stored; retry.",
        )),
        Err(e) => Err(error(
            StatusCode::BAD_REQUEST,
            encoding,
            INVALID_ARGUMENT,
            format!("{}: {e}", e.error_shape()),
        )),
    }
}

/// OTLP's answer: empty when every record was kept, else `partialSuccess` with the rejected
/// count and, as CloudWatch Logs words it, the counts per reason as a JSON text.
fn success(encoding: Encoding, count: usize, rejected: Option<&Value>) -> Response {
    let counts = rejected.map(|info| rejected_counts(info, count));
    let partial = counts
        .filter(|(old, new, expired)| old + new + expired > 0)
        .map(|(old, new, expired)| ExportLogsPartialSuccess {
            rejected_log_records: (old + new + expired) as i64,
            error_message: json!({
                "tooOldLogEventCount": old,
                "tooNewLogEventCount": new,
                "expiredLogEventCount": expired,
            })
            .to_string(),
        });
    let body = match (encoding, &partial) {
        (Encoding::Protobuf, _) => ExportLogsServiceResponse {
            partial_success: partial,
        }
        .encode_to_vec(),
        (Encoding::Json, None) => b"{}".to_vec(),
        (Encoding::Json, Some(p)) => json!({
            "partialSuccess": {
                "rejectedLogRecords": p.rejected_log_records,
                "errorMessage": p.error_message,
            }
        })
        .to_string()
        .into_bytes(),
    };
    answer(StatusCode::OK, encoding, body)
}

/// PutLogEvents' `rejectedLogEventsInfo` (indexes into the sorted batch) → counts of too old,
/// too new and expired events. Expired events older than the too-old bound count as too old.
fn rejected_counts(info: &Value, count: usize) -> (usize, usize, usize) {
    let index = |name: &str| {
        info.get(name)
            .and_then(Value::as_i64)
            .map(|i| i.max(0) as usize)
    };
    let too_old = index("tooOldLogEventEndIndex").map_or(0, |i| i + 1);
    let too_new = index("tooNewLogEventStartIndex").map_or(0, |i| count.saturating_sub(i));
    let expired = index("expiredLogEventEndIndex").map_or(0, |i| (i + 1).saturating_sub(too_old));
    (too_old, too_new, expired)
}

/// An ExportLogsServiceRequest body (OTLP/JSON if `json`, else protobuf) → its events as
/// (timestamp in ms, stored message). Public for the fuzz target: any bytes give events or an
/// error, never a panic.
pub fn decode_logs(body: &[u8], json: bool, now_ms: i64) -> Result<Vec<(i64, String)>, String> {
    let export = if json {
        serde_json::from_slice::<ExportLogsServiceRequest>(body).map_err(|e| e.to_string())
    } else {
        ExportLogsServiceRequest::decode(body).map_err(|e| e.to_string())
    }
    .map_err(|e| format!("The request body is not a valid ExportLogsServiceRequest: {e}"))?;
    Ok(events_of(&export, now_ms))
}

/// Every log record of the export → (timestamp in ms, stored message).
fn events_of(export: &ExportLogsServiceRequest, now_ms: i64) -> Vec<(i64, String)> {
    let mut events = Vec::new();
    for resource_logs in &export.resource_logs {
        let resource = resource_logs.resource.as_ref();
        for scope_logs in &resource_logs.scope_logs {
            let scope = scope_logs.scope.as_ref();
            for record in &scope_logs.log_records {
                let nanos = if record.time_unix_nano > 0 {
                    record.time_unix_nano
                } else {
                    record.observed_time_unix_nano
                };
                let timestamp = if nanos > 0 {
                    i64::try_from(nanos / 1_000_000).unwrap_or(i64::MAX)
                } else {
                    now_ms
                };
                events.push((
                    timestamp,
                    record_message(resource, scope, record).to_string(),
                ));
            }
        }
    }
    events
}

/// The stored form of a log record: a JSON document with the record's fields in OTLP/JSON's
/// names, attributes as objects, the body as its plain value, and the resource's and scope's
/// attributes beside it, so that filter patterns (`{ $.severityText = "ERROR" }`) and Logs
/// Insights' JSON discovery reach every part of it.
pub fn record_message(
    resource: Option<&Resource>,
    scope: Option<&InstrumentationScope>,
    record: &LogRecord,
) -> Value {
    let mut out = Map::new();
    if let Some(resource) = resource {
        out.insert(
            "resource".into(),
            json!({ "attributes": attributes(&resource.attributes) }),
        );
    }
    if let Some(scope) = scope {
        let mut s = Map::new();
        if !scope.name.is_empty() {
            s.insert("name".into(), json!(scope.name));
        }
        if !scope.version.is_empty() {
            s.insert("version".into(), json!(scope.version));
        }
        if !scope.attributes.is_empty() {
            s.insert("attributes".into(), attributes(&scope.attributes));
        }
        out.insert("scope".into(), Value::Object(s));
    }
    if record.time_unix_nano > 0 {
        out.insert("timeUnixNano".into(), json!(record.time_unix_nano));
    }
    if record.observed_time_unix_nano > 0 {
        out.insert(
            "observedTimeUnixNano".into(),
            json!(record.observed_time_unix_nano),
        );
    }
    if record.severity_number != 0 {
        out.insert("severityNumber".into(), json!(record.severity_number));
    }
    if !record.severity_text.is_empty() {
        out.insert("severityText".into(), json!(record.severity_text));
    }
    if let Some(body) = &record.body {
        out.insert("body".into(), any_value(body));
    }
    if !record.attributes.is_empty() {
        out.insert("attributes".into(), attributes(&record.attributes));
    }
    if !record.event_name.is_empty() {
        out.insert("eventName".into(), json!(record.event_name));
    }
    if record.flags != 0 {
        out.insert("flags".into(), json!(record.flags));
    }
    if !record.trace_id.is_empty() {
        out.insert("traceId".into(), json!(hex::encode(&record.trace_id)));
    }
    if !record.span_id.is_empty() {
        out.insert("spanId".into(), json!(hex::encode(&record.span_id)));
    }
    Value::Object(out)
}

fn attributes(list: &[KeyValue]) -> Value {
    Value::Object(
        list.iter()
            .map(|kv| {
                (
                    kv.key.clone(),
                    kv.value.as_ref().map_or(Value::Null, any_value),
                )
            })
            .collect(),
    )
}

fn any_value(value: &AnyValue) -> Value {
    match &value.value {
        None => Value::Null,
        Some(any_value::Value::StringValue(s)) => json!(s),
        Some(any_value::Value::BoolValue(b)) => json!(b),
        Some(any_value::Value::IntValue(i)) => json!(i),
        Some(any_value::Value::DoubleValue(d)) => json!(d),
        Some(any_value::Value::ArrayValue(a)) => {
            Value::Array(a.values.iter().map(any_value).collect())
        }
        Some(any_value::Value::KvlistValue(kv)) => attributes(&kv.values),
        Some(any_value::Value::BytesValue(b)) => {
            json!(base64::engine::general_purpose::STANDARD.encode(b))
        }
        // A string-table index only means something inside profiles, which are not ingested.
        Some(any_value::Value::StringValueStrindex(i)) => json!(i),
    }
}

/// `POST /v1/traces`: traces go to X-Ray, which this emulator does not host.
pub async fn traces(request: Request) -> Response {
    let encoding = Encoding::of(request.headers()).unwrap_or(Encoding::Json);
    error(
        StatusCode::NOT_IMPLEMENTED,
        encoding,
        UNIMPLEMENTED,
        "Traces are not accepted: AWS X-Ray (the /v1/traces endpoint) is not emulated by watchtrail.",
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_record_is_stored_as_json_with_its_resource_and_scope() {
        let kv = |k: &str, v: any_value::Value| KeyValue {
            key: k.into(),
            value: Some(AnyValue { value: Some(v) }),
            ..Default::default()
        };
        let record = LogRecord {
            time_unix_nano: 1_741_900_000_000_000_000,
            severity_number: 9,
            severity_text: "INFO".into(),
            body: Some(AnyValue {
                value: Some(any_value::Value::StringValue("User logged in".into())),
            }),
            attributes: vec![
                kv("user.id", any_value::Value::StringValue("12345".into())),
                kv("retries", any_value::Value::IntValue(2)),
            ],
            trace_id: vec![0xab; 16],
            span_id: vec![0x01; 8],
            ..Default::default()
        };
        let resource = Resource {
            attributes: vec![kv(
                "service.name",
                any_value::Value::StringValue("svc".into()),
            )],
            ..Default::default()
        };
        let scope = InstrumentationScope {
            name: "lib".into(),
            version: "1.0.0".into(),
            ..Default::default()
        };
        let stored = record_message(Some(&resource), Some(&scope), &record);
        assert_eq!(
            stored,
            json!({
                "resource": {"attributes": {"service.name": "svc"}},
                "scope": {"name": "lib", "version": "1.0.0"},
                "timeUnixNano": 1_741_900_000_000_000_000u64,
                "severityNumber": 9,
                "severityText": "INFO",
                "body": "User logged in",
                "attributes": {"user.id": "12345", "retries": 2},
                "traceId": "abababababababababababababababab",
                "spanId": "0101010101010101",
            })
        );
    }

    #[test]
    fn rejected_indexes_become_counts_per_reason() {
        let info = json!({
            "tooOldLogEventEndIndex": 2,
            "expiredLogEventEndIndex": 3,
            "tooNewLogEventStartIndex": 8,
        });
        assert_eq!(rejected_counts(&info, 10), (3, 2, 1));
        assert_eq!(rejected_counts(&json!({}), 10), (0, 0, 0));
    }
}

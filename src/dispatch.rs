//! One AWS request, end to end: detect → identify → decode → validate → handle → encode.
//!
//! This is the only place that sees both the wire and the services. Every failure on the way,
//! whatever raised it, becomes one [`WireError`] and is encoded in the request's protocol; so a
//! client always gets AWS's error shape, never a bare 500.

use std::io::Read;
use std::net::SocketAddr;
use std::time::Instant;

use bytes::Bytes;
use http::{HeaderMap, HeaderValue, Method, StatusCode};
use tracing::Instrument;

use crate::auth::{sigv4, SigV4Error};
use crate::context::RequestContext;
use crate::protocol::detect::{detect, RequestSignals};
use crate::protocol::{self, model, validate, Encoded, Protocol, ServiceId, WireError};
use crate::server::AppState;
use crate::services::logs::live_tail::MessageStream;
use crate::services::{ApiCall, BoxError, Services};

/// Largest request body accepted (after decompression), whatever the operation.
pub const MAX_BODY_BYTES: usize = 16 * 1024 * 1024;
/// Operations whose request payload is not copied into the journal.
const BULK_OPERATIONS: [&str; 3] = ["PutMetricData", "PutLogEvents", "PutEvents"];
/// Sent by the web console with each call, so CloudTrail can tell console actions from API calls.
pub const CONSOLE_HEADER: &str = "x-watchtrail-console";
/// PutMetricData's documented payload limit.
const PUT_METRIC_DATA_MAX_BYTES: usize = 1024 * 1024;

pub struct RawRequest {
    pub method: Method,
    pub path: String,
    pub query: Option<String>,
    pub headers: HeaderMap,
    pub body: Bytes,
    pub remote: SocketAddr,
}

pub struct Reply {
    pub status: StatusCode,
    pub headers: Vec<(&'static str, HeaderValue)>,
    pub body: Vec<u8>,
    /// The body of an event-stream answer (StartLiveTail), sent after `body` (then empty).
    pub stream: Option<ByteStream>,
}

/// Framed event-stream messages, ready for the connection.
pub type ByteStream = std::pin::Pin<
    Box<dyn futures_util::Stream<Item = Result<Bytes, std::convert::Infallible>> + Send>,
>;

/// The content type of event-stream answers.
const EVENT_STREAM_CONTENT_TYPE: &str = "application/vnd.amazon.eventstream";

fn header<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers.get(name).and_then(|v| v.to_str().ok())
}

pub async fn handle(state: &AppState, request: RawRequest) -> Reply {
    let request_id = uuid::Uuid::new_v4().to_string();
    let started = Instant::now();
    let span = tracing::debug_span!(
        "request",
        request_id = %request_id,
        service = tracing::field::Empty,
        operation = tracing::field::Empty,
        protocol = tracing::field::Empty,
        account = tracing::field::Empty,
    );
    let (service, protocol, encoded, operation, stream) = process(state, &request, &request_id)
        .instrument(span.clone())
        .await;
    let status = encoded.status;
    let _entered = span.enter();
    let latency_us = started.elapsed().as_micros();
    if status >= 500 {
        tracing::warn!(
            service = service.name(),
            operation,
            status,
            latency_us,
            "request failed"
        );
    } else {
        tracing::debug!(
            service = service.name(),
            operation,
            protocol = protocol.name(),
            status,
            latency_us,
            "request"
        );
    }
    let mut reply = into_reply(encoded, &request_id);
    reply.stream = stream.map(|messages| {
        use futures_util::StreamExt;
        let initial = Bytes::from(protocol::eventstream::initial_response());
        Box::pin(
            futures_util::stream::once(std::future::ready(Ok(initial))).chain(
                messages.map(|message| Ok(Bytes::from(protocol::eventstream::encode(&message)))),
            ),
        ) as ByteStream
    });
    reply
}

fn into_reply(encoded: Encoded, request_id: &str) -> Reply {
    let mut headers = Vec::with_capacity(encoded.headers.len() + 2);
    headers.push((
        "content-type",
        HeaderValue::from_static(encoded.content_type),
    ));
    if let Ok(v) = HeaderValue::from_str(request_id) {
        headers.push(("x-amzn-requestid", v));
    }
    for (name, value) in encoded.headers {
        if let Ok(v) = HeaderValue::from_str(&value) {
            headers.push((name, v));
        }
    }
    Reply {
        status: StatusCode::from_u16(encoded.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR),
        headers,
        body: encoded.body,
        stream: None,
    }
}

/// The answer to a body that could not be read: over [`MAX_BODY_BYTES`] (`too_large`), or
/// not sent in full before the connection's idle timeout. Service and protocol come from what
/// the headers, path and URL say (a query request's Action is in the body, so those fall back
/// to the signed service).
pub fn unreadable_body(
    method: &Method,
    path: &str,
    query: Option<&str>,
    headers: &HeaderMap,
    too_large: bool,
) -> Reply {
    let request_id = uuid::Uuid::new_v4().to_string();
    let signing_service = header(headers, "authorization")
        .and_then(|a| a.split("Credential=").nth(1))
        .and_then(|c| c.split('/').nth(3));
    let signals = RequestSignals {
        method: method.as_str(),
        path,
        query,
        target: header(headers, "x-amz-target"),
        content_type: header(headers, "content-type"),
        smithy_protocol: header(headers, "smithy-protocol"),
        signing_service,
        body: &[],
    };
    let (service, protocol) = match detect(&signals) {
        Ok(d) => (d.service, d.protocol),
        Err(e) => (e.service, e.protocol),
    };
    let wire = if too_large {
        WireError::client(
            "RequestEntityTooLarge",
            format!("Request size exceeded {MAX_BODY_BYTES} bytes"),
        )
        .with_status(413)
    } else {
        WireError::client(
            "RequestTimeout",
            "Your socket connection to the server was not read from or written to within the timeout period.",
        )
    };
    into_reply(
        protocol::encode_error(service, protocol, &wire, &request_id),
        &request_id,
    )
}

/// What [`process`] answers: (service, protocol, response, operation name) for logging, and the
/// messages of an event-stream answer.
type Processed = (ServiceId, Protocol, Encoded, String, Option<MessageStream>);

async fn process(state: &AppState, request: &RawRequest, request_id: &str) -> Processed {
    let signing = sigv4::SigningInput {
        method: request.method.as_str(),
        path: &request.path,
        query: request.query.as_deref(),
        headers: &request.headers,
        body: &request.body,
    };
    let signature = sigv4::parse(&signing);

    let body = match decompress(&request.headers, &request.body) {
        Ok(body) => body,
        Err(e) => {
            let service = signature
                .as_ref()
                .ok()
                .and_then(|s| s.as_ref())
                .and_then(|s| ServiceId::from_signing_name(&s.scope.service))
                .unwrap_or(ServiceId::CloudWatch);
            let protocol = guess_protocol(&request.headers, service);
            let wire = e.to_wire(service, protocol);
            return (
                service,
                protocol,
                protocol::encode_error(service, protocol, &wire, request_id),
                String::new(),
                None,
            );
        }
    };

    let signals = RequestSignals {
        method: request.method.as_str(),
        path: &request.path,
        query: request.query.as_deref(),
        target: header(&request.headers, "x-amz-target"),
        content_type: header(&request.headers, "content-type"),
        smithy_protocol: header(&request.headers, "smithy-protocol"),
        signing_service: signature
            .as_ref()
            .ok()
            .and_then(|s| s.as_ref())
            .map(|s| s.scope.service.as_str()),
        body: &body,
    };
    let detected = match detect(&signals) {
        Ok(d) => d,
        Err(e) => {
            let wire = e.error.to_wire(e.service, e.protocol);
            return (
                e.service,
                e.protocol,
                protocol::encode_error(e.service, e.protocol, &wire, request_id),
                String::new(),
                None,
            );
        }
    };
    let service = detected.service;
    let protocol = detected.protocol;
    let operation = detected.operation.clone();
    let span = tracing::Span::current();
    span.record("service", service.name());
    span.record("operation", operation.as_str());
    span.record("protocol", protocol.name());

    let fail = |wire: WireError| {
        (
            service,
            protocol,
            protocol::encode_error(service, protocol, &wire, request_id),
            operation.clone(),
            None,
        )
    };

    if crate::console::is_cross_origin(&request.method, &request.headers) {
        let mut wire = WireError::client(
            "AccessDenied",
            "Requests from another origin's page are refused.",
        )
        .with_status(403);
        if protocol.is_json_family() {
            wire.type_name = "AccessDeniedException".into();
        }
        return fail(wire);
    }

    // Identity.
    let signature = match signature {
        Ok(s) => s,
        Err(e) if state.config.enforce_signatures => return fail(sigv4_error(&e, protocol)),
        Err(_) => None,
    };
    if state.config.enforce_signatures {
        if let Err(e) = enforce(state, &signing, signature.as_ref(), service, protocol) {
            return fail(sigv4_error(&e, protocol));
        }
    }
    let identity = state.credentials.identify(signature.as_ref());
    let region = identity
        .signed_region
        .clone()
        .unwrap_or_else(|| state.config.default_region.clone());
    span.record("account", identity.account_id.as_str());
    let ctx = RequestContext {
        request_id: request_id.to_string(),
        account_id: identity.account_id.clone(),
        identity,
        region,
        now_ms: state.clock.now_ms(),
        source_ip: source_ip(&request.headers, request.remote),
        user_agent: header(&request.headers, "user-agent")
            .unwrap_or_default()
            .to_string(),
        from_console: header(&request.headers, CONSOLE_HEADER).is_some(),
    };

    let mut input_document = None;
    let mut stream = None;
    let outcome = execute(
        state,
        &ctx,
        &detected,
        request,
        &body,
        &mut input_document,
        &mut stream,
    )
    .await;
    let encoded = match &outcome {
        // The answer's body is the stream; its first message follows these headers.
        Ok(_) if stream.is_some() => Encoded {
            status: 200,
            content_type: EVENT_STREAM_CONTENT_TYPE,
            headers: Vec::new(),
            body: Vec::new(),
        },
        Ok(output) => protocol::encode_output(service, protocol, &operation, output, request_id),
        Err(wire) => protocol::encode_error(service, protocol, wire, request_id),
    };
    state.services.record_call(ApiCall {
        ctx,
        service,
        operation: operation.clone(),
        request: input_document,
        outcome: outcome.map_err(|e| (e.code, e.message)),
    });
    (service, protocol, encoded, operation, stream)
}

/// Decode, validate and run the handler; the decoded input is left in `input_document` for
/// the journal, and an event-stream answer's messages in `stream` (the document answered is
/// then empty).
async fn execute(
    state: &AppState,
    ctx: &RequestContext,
    detected: &crate::protocol::detect::Detected,
    request: &RawRequest,
    body: &[u8],
    input_document: &mut Option<serde_json::Value>,
    stream: &mut Option<MessageStream>,
) -> Result<serde_json::Value, WireError> {
    let (service, protocol, operation) = (
        detected.service,
        detected.protocol,
        detected.operation.as_str(),
    );
    if operation == "PutMetricData" && request.body.len() > PUT_METRIC_DATA_MAX_BYTES {
        return Err(WireError::client(
            "RequestEntityTooLarge",
            "Request size exceeded 1048576 bytes",
        )
        .with_status(413));
    }
    let model = model::model(service);
    let unknown = || {
        protocol::DecodeError::UnknownOperation(operation.to_string()).to_wire(service, protocol)
    };
    let op = model.operation(operation).ok_or_else(unknown)?;
    let document = protocol::decode(
        service,
        protocol,
        operation,
        body,
        detected.query_pairs.as_deref(),
    )
    .map_err(|e| e.to_wire(service, protocol))?;
    // Bulk data calls are journaled without their payload (as CloudTrail omits it), which also
    // spares the hot path a copy of the whole request.
    if !BULK_OPERATIONS.contains(&operation) {
        *input_document = Some(document.clone());
    }
    if let Some(input) = op.input {
        let violations = validate::validate(service, model, input, &document);
        if !violations.is_empty() {
            return Err(validate::to_wire(service, &violations));
        }
    }
    if Services::is_stream(service, operation) {
        let started = state
            .services
            .start_stream(service, ctx, operation, document)
            .await
            .ok_or_else(unknown)?;
        *stream = Some(started.map_err(|e| service_error(service, operation, e))?);
        return Ok(serde_json::Value::Object(Default::default()));
    }
    let call = state
        .services
        .call(service, ctx, operation, document)
        .ok_or_else(unknown)?;
    call.await.map_err(|e| service_error(service, operation, e))
}

/// A handler's error → the model's error shape, or the generic internal error (logged).
fn service_error(service: ServiceId, operation: &str, e: BoxError) -> WireError {
    if e.is_internal() {
        tracing::error!(error = %e, service = service.name(), operation, "internal error");
        return WireError::internal(service);
    }
    WireError::from_model(service, e.error_shape(), e.to_string()).with_members(e.error_members())
}

fn enforce(
    state: &AppState,
    signing: &sigv4::SigningInput<'_>,
    signature: Option<&sigv4::SignatureInfo>,
    service: ServiceId,
    protocol: Protocol,
) -> Result<(), SigV4Error> {
    let signature = signature.ok_or(SigV4Error::MissingAuthenticationToken)?;
    // awsJson names the operation only in X-Amz-Target: unsigned, a captured CreateLogGroup
    // could be replayed as DeleteLogGroup. (CBOR names it in the path, query in the body or
    // URL, both always signed.)
    if matches!(protocol, Protocol::Json10 | Protocol::Json11) {
        sigv4::require_signed(signature, &["x-amz-target"], "'X-Amz-Target'")?;
    }
    // A scope for another service (`logs` for CloudWatch) is refused as AWS refuses it: the
    // signing key is derived per service.
    if signature.scope.service != service.signing_name() {
        return Err(SigV4Error::wrong_service(service.signing_name()));
    }
    // The scope's region is the data partition: an invented one would open an empty one.
    if !crate::auth::regions::is_known(&signature.scope.region) {
        return Err(SigV4Error::wrong_region(&signature.scope.region));
    }
    verify_signature(state, signing, signature)
}

/// Checks a parsed signature against the caller's secret and the server's clock.
pub(crate) fn verify_signature(
    state: &AppState,
    signing: &sigv4::SigningInput<'_>,
    signature: &sigv4::SignatureInfo,
) -> Result<(), SigV4Error> {
    let secret = state
        .credentials
        .secret_for(&signature.scope.access_key_id)
        .ok_or(SigV4Error::UnknownAccessKey)?;
    let now = std::time::UNIX_EPOCH
        + std::time::Duration::from_millis(u64::try_from(state.clock.now_ms()).unwrap_or_default());
    sigv4::verify(signature, signing, secret, now)
}

/// JSON and CBOR bodies carry the JSON-protocol name of the error; the query code (which a
/// query-compatible service also sends in `x-amzn-query-error`) is the query-protocol name.
fn sigv4_error(e: &SigV4Error, protocol: Protocol) -> WireError {
    let json = protocol.is_json_family();
    let mut wire =
        WireError::client(e.code(json), e.to_string()).with_status(e.http_status_for(json));
    wire.code = e.code(false).to_string();
    wire
}

fn guess_protocol(headers: &HeaderMap, service: ServiceId) -> Protocol {
    if header(headers, "smithy-protocol").is_some() {
        Protocol::Cbor
    } else if header(headers, "x-amz-target").is_some() {
        if service == ServiceId::CloudWatch {
            Protocol::Json10
        } else {
            Protocol::Json11
        }
    } else {
        Protocol::Query
    }
}

/// The caller's address: the first `X-Forwarded-For` hop when a proxy put one there.
fn source_ip(headers: &HeaderMap, remote: SocketAddr) -> String {
    header(headers, "x-forwarded-for")
        .and_then(|v| v.split(',').next())
        .map(|v| v.trim().to_string())
        .filter(|v| !v.is_empty())
        .unwrap_or_else(|| remote.ip().to_string())
}

/// Undoes `Content-Encoding: gzip` (the models mark PutMetricData for request compression).
pub(crate) fn decompress(
    headers: &HeaderMap,
    body: &Bytes,
) -> Result<Bytes, protocol::DecodeError> {
    match header(headers, "content-encoding").map(str::trim) {
        None | Some("") | Some("identity") => Ok(body.clone()),
        Some(encoding) if encoding.eq_ignore_ascii_case("gzip") => {
            let mut out = Vec::with_capacity(body.len() * 4);
            let decoder = flate2::read::GzDecoder::new(body.as_ref());
            let read = decoder
                .take(MAX_BODY_BYTES as u64 + 1)
                .read_to_end(&mut out)
                .map_err(|e| {
                    protocol::DecodeError::Malformed(format!(
                        "The gzip-compressed request body could not be decompressed: {e}"
                    ))
                })?;
            if read > MAX_BODY_BYTES {
                return Err(protocol::DecodeError::TooLarge);
            }
            Ok(Bytes::from(out))
        }
        Some(other) => Err(protocol::DecodeError::Malformed(format!(
            "Unsupported Content-Encoding: {other}"
        ))),
    }
}

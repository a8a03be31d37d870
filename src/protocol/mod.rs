//! The wire layer: every AWS protocol this emulator speaks, driven by the service models.
//!
//! A request's body is decoded into a [`Document`] (a `serde_json::Value` whose keys are the
//! model's member names, timestamps epoch seconds and blobs base64 text, whatever protocol carried
//! it), validated against the operation's input shape, and handed to a service. A service's output
//! document is encoded back in the request's protocol. So services never see the wire, and one
//! codec per protocol serves every operation:
//!
//! - `query.rs` + `xml.rs`: AWS query form posts with XML responses (CloudWatch, STS);
//! - `json.rs`: awsJson 1.0 and 1.1;
//! - `cbor.rs`: Smithy RPC v2 CBOR (what the AWS SDK for Rust sends to CloudWatch).
//!
//! This module knows no service logic and no storage.

pub mod cbor;
pub mod detect;
pub mod error;
pub mod eventstream;
pub mod json;
pub mod model;
pub mod path;
pub mod query;
pub mod timestamp;
pub mod validate;
pub mod xml;

pub use error::{DecodeError, WireError};

/// A decoded request or a response before encoding; see the module docs for its conventions.
pub type Document = serde_json::Value;

/// The services this emulator hosts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ServiceId {
    CloudWatch,
    Logs,
    Events,
    CloudTrail,
    Sts,
}

impl ServiceId {
    pub const ALL: [ServiceId; 5] = [
        ServiceId::CloudWatch,
        ServiceId::Logs,
        ServiceId::Events,
        ServiceId::CloudTrail,
        ServiceId::Sts,
    ];

    /// The SigV4 signing name (credential scope service).
    pub fn signing_name(self) -> &'static str {
        match self {
            ServiceId::CloudWatch => "monitoring",
            ServiceId::Logs => "logs",
            ServiceId::Events => "events",
            ServiceId::CloudTrail => "cloudtrail",
            ServiceId::Sts => "sts",
        }
    }

    /// The `eventSource` of CloudTrail records for this service.
    pub fn event_source(self) -> &'static str {
        match self {
            ServiceId::CloudWatch => "monitoring.amazonaws.com",
            ServiceId::Logs => "logs.amazonaws.com",
            ServiceId::Events => "events.amazonaws.com",
            ServiceId::CloudTrail => "cloudtrail.amazonaws.com",
            ServiceId::Sts => "sts.amazonaws.com",
        }
    }

    pub fn from_signing_name(name: &str) -> Option<ServiceId> {
        Self::ALL.into_iter().find(|s| s.signing_name() == name)
    }

    pub fn name(self) -> &'static str {
        match self {
            ServiceId::CloudWatch => "cloudwatch",
            ServiceId::Logs => "logs",
            ServiceId::Events => "events",
            ServiceId::CloudTrail => "cloudtrail",
            ServiceId::Sts => "sts",
        }
    }
}

/// The wire protocol a request arrived in; the response uses the same one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Protocol {
    Query,
    Json10,
    Json11,
    Cbor,
}

impl Protocol {
    pub fn name(self) -> &'static str {
        match self {
            Protocol::Query => "query",
            Protocol::Json10 => "awsJson1_0",
            Protocol::Json11 => "awsJson1_1",
            Protocol::Cbor => "rpcv2Cbor",
        }
    }

    pub fn is_json_family(self) -> bool {
        !matches!(self, Protocol::Query)
    }
}

/// A response ready for the HTTP layer.
#[derive(Debug)]
pub struct Encoded {
    pub status: u16,
    pub content_type: &'static str,
    pub headers: Vec<(&'static str, String)>,
    pub body: Vec<u8>,
}

/// Decodes a request body for `operation` of `service` in `protocol` into a document.
pub fn decode(
    service: ServiceId,
    protocol: Protocol,
    operation: &str,
    body: &[u8],
    query_pairs: Option<&[(String, String)]>,
) -> Result<Document, DecodeError> {
    let model = model::model(service);
    let op = model
        .operation(operation)
        .ok_or_else(|| DecodeError::UnknownOperation(operation.to_string()))?;
    let Some(input) = op.input else {
        return Ok(Document::Object(Default::default()));
    };
    match protocol {
        Protocol::Query => query::decode(model, input, query_pairs.unwrap_or(&[])),
        Protocol::Json10 | Protocol::Json11 => json::decode(model, input, body),
        Protocol::Cbor => cbor::decode(model, input, body),
    }
}

/// Encodes a successful output document.
pub fn encode_output(
    service: ServiceId,
    protocol: Protocol,
    operation: &str,
    output: &Document,
    request_id: &str,
) -> Encoded {
    let model = model::model(service);
    let op = model.operation(operation);
    let shape = op.and_then(|o| o.output);
    match protocol {
        Protocol::Query => xml::encode_response(
            model,
            operation,
            op.and_then(|o| o.result_wrapper.as_deref()),
            shape,
            output,
            request_id,
        ),
        Protocol::Json10 | Protocol::Json11 => json::encode(model, shape, output, protocol),
        Protocol::Cbor => cbor::encode(model, shape, output),
    }
}

/// Encodes an error in the request's protocol.
pub fn encode_error(
    service: ServiceId,
    protocol: Protocol,
    error: &WireError,
    request_id: &str,
) -> Encoded {
    error::encode(service, protocol, error, request_id)
}

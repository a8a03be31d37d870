//! Errors of the wire layer, and the one place where any error becomes bytes.
//!
//! Every failure, whatever layer raised it, reaches the client as a [`WireError`]; [`encode`]
//! writes it the way AWS does for the request's protocol: an `ErrorResponse` XML document for
//! query, `__type` + `message` for JSON and CBOR, plus `x-amzn-query-error: Code;Sender` for
//! query-compatible services (CloudWatch), whose SDKs read the query code from that header.

use super::{model, Encoded, Protocol, ServiceId};

/// An error as the client will see it.
#[derive(Debug, Clone, PartialEq)]
pub struct WireError {
    /// The JSON/CBOR `__type`: the model's error shape name.
    pub type_name: String,
    /// The query code (`<Code>` and `x-amzn-query-error`).
    pub code: String,
    pub message: String,
    pub status: u16,
    pub sender_fault: bool,
    /// Members of the error shape besides its message (model member names), for errors that
    /// carry structured detail, e.g. `dashboardValidationMessages`.
    pub members: serde_json::Map<String, serde_json::Value>,
}

impl WireError {
    /// An error that the service's model declares; its code and status come from the model.
    /// Falls back to the given name as both type and code, status 400.
    pub fn from_model(service: ServiceId, shape_name: &str, message: impl Into<String>) -> Self {
        let message = message.into();
        match model::model(service).error_by_code(shape_name) {
            Some(info) => WireError {
                type_name: info.shape_name.clone(),
                code: info.code.clone(),
                message,
                status: info.status,
                sender_fault: info.sender_fault,
                members: serde_json::Map::new(),
            },
            None => WireError::client(shape_name, message),
        }
    }

    /// A client error outside the model (protocol and authentication errors).
    pub fn client(code: &str, message: impl Into<String>) -> Self {
        WireError {
            type_name: code.to_string(),
            code: code.to_string(),
            message: message.into(),
            status: 400,
            sender_fault: true,
            members: serde_json::Map::new(),
        }
    }

    pub fn with_status(mut self, status: u16) -> Self {
        self.status = status;
        self
    }

    pub fn with_members(mut self, members: serde_json::Map<String, serde_json::Value>) -> Self {
        self.members = members;
        self
    }

    /// The failure that is ours, not the client's. Details are logged, never sent.
    pub fn internal(service: ServiceId) -> Self {
        let (type_name, code) = match service {
            ServiceId::CloudWatch => ("InternalServiceFault", "InternalServiceError"),
            ServiceId::Logs => ("ServiceUnavailableException", "ServiceUnavailableException"),
            ServiceId::Events => ("InternalException", "InternalException"),
            ServiceId::CloudTrail => ("InternalFailure", "InternalFailure"),
            ServiceId::Sts => ("InternalFailure", "InternalFailure"),
        };
        WireError {
            type_name: type_name.to_string(),
            code: code.to_string(),
            message: "An internal error occurred.".to_string(),
            status: 500,
            sender_fault: false,
            members: serde_json::Map::new(),
        }
    }
}

/// Why a request body could not be turned into a document.
#[derive(Debug, thiserror::Error, PartialEq)]
pub enum DecodeError {
    #[error("The action or operation {0} is not valid for this web service.")]
    UnknownOperation(String),
    #[error(
        "Could not find operation to perform: request has no Action, X-Amz-Target or CBOR path"
    )]
    MissingAction,
    #[error("{0}")]
    Malformed(String),
    /// A value that has the right type but that no member of its shape accepts (special floats,
    /// unparsable numbers in a query string): the service's validation error.
    #[error("{message}")]
    InvalidValue { path: String, message: String },
    #[error("Request body is too large")]
    TooLarge,
}

impl DecodeError {
    pub fn to_wire(&self, service: ServiceId, protocol: Protocol) -> WireError {
        match self {
            DecodeError::UnknownOperation(op) => match protocol {
                Protocol::Query => WireError::client(
                    "InvalidAction",
                    format!("The action {op} is not valid for this web service."),
                ),
                _ => WireError::client(
                    "UnknownOperationException",
                    format!("The operation {op} is not supported by this service."),
                ),
            },
            DecodeError::MissingAction => match protocol {
                Protocol::Query => WireError::client("MissingAction", self.to_string()),
                _ => WireError::client("UnknownOperationException", self.to_string()),
            },
            DecodeError::Malformed(message) => match protocol {
                Protocol::Query => WireError::client("MalformedQueryString", message.clone()),
                _ => WireError::client("SerializationException", message.clone()),
            },
            DecodeError::InvalidValue { message, .. } => {
                WireError::from_model(service, validation_error_shape(service), message)
            }
            DecodeError::TooLarge => WireError::client(
                "RequestEntityTooLarge",
                "Request size exceeded the limit for this operation.",
            )
            .with_status(413),
        }
    }
}

/// The model error a service answers for constraint violations.
pub fn validation_error_shape(service: ServiceId) -> &'static str {
    match service {
        ServiceId::CloudWatch => "InvalidParameterValueException",
        ServiceId::Logs => "InvalidParameterException",
        ServiceId::Events => "ValidationException",
        ServiceId::CloudTrail => "InvalidParameterException",
        ServiceId::Sts => "ValidationError",
    }
}

pub fn encode(
    service: ServiceId,
    protocol: Protocol,
    error: &WireError,
    request_id: &str,
) -> Encoded {
    let query_compatible = model::model(service).query_compatible;
    let fault = if error.sender_fault {
        "Sender"
    } else {
        "Receiver"
    };
    let mut headers = Vec::new();
    if query_compatible && protocol != Protocol::Query {
        headers.push(("x-amzn-query-error", format!("{};{fault}", error.code)));
    }
    match protocol {
        Protocol::Query => {
            let namespace = model::model(service)
                .xml_namespace
                .clone()
                .unwrap_or_default();
            let mut body = String::with_capacity(256 + error.message.len());
            body.push_str("<ErrorResponse xmlns=\"");
            super::xml::escape_into(&mut body, &namespace);
            body.push_str("\">\n  <Error>\n    <Type>");
            body.push_str(fault);
            body.push_str("</Type>\n    <Code>");
            super::xml::escape_into(&mut body, &error.code);
            body.push_str("</Code>\n    <Message>");
            super::xml::escape_into(&mut body, &error.message);
            body.push_str("</Message>\n");
            for (name, value) in &error.members {
                body.push_str("    ");
                xml_member(&mut body, name, value);
                body.push('\n');
            }
            body.push_str("  </Error>\n  <RequestId>");
            super::xml::escape_into(&mut body, request_id);
            body.push_str("</RequestId>\n</ErrorResponse>\n");
            Encoded {
                status: error.status,
                content_type: "text/xml",
                headers,
                body: body.into_bytes(),
            }
        }
        Protocol::Json10 | Protocol::Json11 => {
            let mut body = error.members.clone();
            body.insert("__type".into(), error.type_name.clone().into());
            body.insert("message".into(), error.message.clone().into());
            let body = serde_json::Value::Object(body);
            Encoded {
                status: error.status,
                content_type: super::json::content_type(protocol),
                headers,
                body: serde_json::to_vec(&body).unwrap_or_default(),
            }
        }
        Protocol::Cbor => {
            let mut doc = error.members.clone();
            doc.insert("__type".into(), error.type_name.clone().into());
            doc.insert("message".into(), error.message.clone().into());
            let mut encoded = super::cbor::encode_untyped(&serde_json::Value::Object(doc));
            encoded.status = error.status;
            encoded.headers.extend(headers);
            encoded
        }
    }
}

/// An error member as query XML: structures as child elements, lists as `<member>` items.
fn xml_member(out: &mut String, name: &str, value: &serde_json::Value) {
    use serde_json::Value;
    if value.is_null() {
        return;
    }
    out.push('<');
    out.push_str(name);
    out.push('>');
    match value {
        Value::Object(fields) => {
            for (field, v) in fields {
                xml_member(out, field, v);
            }
        }
        Value::Array(items) => {
            for item in items {
                xml_member(out, "member", item);
            }
        }
        Value::String(text) => super::xml::escape_into(out, text),
        other => out.push_str(&other.to_string()),
    }
    out.push_str("</");
    out.push_str(name);
    out.push('>');
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn query_error_document_matches_aws() {
        let e = WireError::from_model(
            ServiceId::CloudWatch,
            "InvalidParameterValueException",
            "bad <value>",
        );
        let out = encode(ServiceId::CloudWatch, Protocol::Query, &e, "req-1");
        let body = String::from_utf8(out.body).unwrap();
        assert_eq!(out.status, 400);
        assert!(
            body.contains("<Code>InvalidParameterValue</Code>"),
            "{body}"
        );
        assert!(body.contains("<Type>Sender</Type>"));
        assert!(body.contains("<Message>bad &lt;value&gt;</Message>"));
        assert!(body.contains("<RequestId>req-1</RequestId>"));
        assert!(body.contains("xmlns=\"http://monitoring.amazonaws.com/doc/2010-08-01/\""));
        assert!(out.headers.is_empty());
    }

    #[test]
    fn json_error_of_query_compatible_service_carries_the_query_code() {
        let e = WireError::from_model(ServiceId::CloudWatch, "InvalidParameterValueException", "m");
        let out = encode(ServiceId::CloudWatch, Protocol::Json10, &e, "r");
        let v: serde_json::Value = serde_json::from_slice(&out.body).unwrap();
        assert_eq!(v["__type"], "InvalidParameterValueException");
        assert_eq!(v["message"], "m");
        assert_eq!(
            out.headers,
            vec![(
                "x-amzn-query-error",
                "InvalidParameterValue;Sender".to_string()
            )]
        );
    }

    #[test]
    fn error_members_are_written_in_every_protocol() {
        let mut members = serde_json::Map::new();
        members.insert(
            "dashboardValidationMessages".into(),
            json!([{"DataPath": "/widgets", "Message": "Should be <array>"}]),
        );
        let e = WireError::from_model(ServiceId::CloudWatch, "DashboardInvalidInputError", "bad")
            .with_members(members);
        let query = encode(ServiceId::CloudWatch, Protocol::Query, &e, "r");
        let body = String::from_utf8(query.body).unwrap();
        assert!(
            body.contains("<dashboardValidationMessages><member><DataPath>/widgets</DataPath><Message>Should be &lt;array&gt;</Message></member></dashboardValidationMessages>"),
            "{body}"
        );
        let json_out = encode(ServiceId::CloudWatch, Protocol::Json10, &e, "r");
        let v: serde_json::Value = serde_json::from_slice(&json_out.body).unwrap();
        assert_eq!(v["__type"], "DashboardInvalidInputError");
        assert_eq!(v["message"], "bad");
        assert_eq!(v["dashboardValidationMessages"][0]["DataPath"], "/widgets");
    }

    #[test]
    fn json_error_of_plain_json_service_has_no_query_header() {
        let e = WireError::from_model(ServiceId::Logs, "ResourceNotFoundException", "gone");
        let out = encode(ServiceId::Logs, Protocol::Json11, &e, "r");
        assert!(out.headers.is_empty());
        assert_eq!(out.status, 400);
        assert_eq!(out.content_type, "application/x-amz-json-1.1");
    }
}

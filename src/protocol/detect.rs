//! Which service, protocol and operation a request is for, from cheap signals.
//!
//! In order: the Smithy RPC v2 CBOR path (`/service/<S>/operation/<Op>`), the `X-Amz-Target`
//! header of awsJson (`<targetPrefix>.<Op>`), and for everything else the query form's `Action`
//! and `Version` (falling back to the SigV4 credential scope's service name to tell services
//! apart). The target prefixes come from the models.

use super::model::model;
use super::query::parse_form;
use super::{DecodeError, Protocol, ServiceId};

#[derive(Debug, Clone, PartialEq)]
pub struct Detected {
    pub service: ServiceId,
    pub protocol: Protocol,
    pub operation: String,
    /// The parsed form of a query request (body or URL), reused by the decoder.
    pub query_pairs: Option<Vec<(String, String)>>,
}

/// What detection needs from the HTTP request.
pub struct RequestSignals<'a> {
    pub method: &'a str,
    pub path: &'a str,
    pub query: Option<&'a str>,
    pub target: Option<&'a str>,
    pub content_type: Option<&'a str>,
    pub smithy_protocol: Option<&'a str>,
    /// The credential scope's service (`monitoring`, `logs`…), when the request is signed.
    pub signing_service: Option<&'a str>,
    pub body: &'a [u8],
}

/// A detection failure, with the protocol the error should be written in.
#[derive(Debug)]
pub struct DetectError {
    pub service: ServiceId,
    pub protocol: Protocol,
    pub error: DecodeError,
}

/// The service whose model declares this `X-Amz-Target` prefix. CloudTrail's prefix is
/// namespaced (`com.amazonaws.cloudtrail.v20131101.CloudTrail_20131101`) and some clients (the
/// AWS SDK for Rust) send only its last segment, which AWS accepts too.
pub fn service_for_target_prefix(prefix: &str) -> Option<ServiceId> {
    ServiceId::ALL.into_iter().find(|s| {
        model(*s).target_prefix.as_deref().is_some_and(|declared| {
            declared == prefix
                || declared
                    .rsplit_once('.')
                    .is_some_and(|(_, last)| last == prefix)
        })
    })
}

pub fn detect(signals: &RequestSignals<'_>) -> Result<Detected, DetectError> {
    let signed_service = signals
        .signing_service
        .and_then(ServiceId::from_signing_name);

    if let Some(rest) = signals.path.strip_prefix("/service/") {
        let fallback = signed_service.unwrap_or(ServiceId::CloudWatch);
        let err = |error| DetectError {
            service: fallback,
            protocol: Protocol::Cbor,
            error,
        };
        let (service_name, operation) = rest
            .split_once("/operation/")
            .ok_or_else(|| err(DecodeError::MissingAction))?;
        let service = service_for_target_prefix(service_name)
            .ok_or_else(|| err(DecodeError::UnknownOperation(operation.to_string())))?;
        return Ok(Detected {
            service,
            protocol: Protocol::Cbor,
            operation: operation.to_string(),
            query_pairs: None,
        });
    }

    if let Some(target) = signals.target {
        let fallback = signed_service.unwrap_or(ServiceId::Logs);
        let (prefix, operation) = target.rsplit_once('.').unwrap_or(("", target));
        let Some(service) = service_for_target_prefix(prefix) else {
            return Err(DetectError {
                service: fallback,
                protocol: json_protocol_of(fallback),
                error: DecodeError::UnknownOperation(target.to_string()),
            });
        };
        return Ok(Detected {
            service,
            protocol: json_protocol_of(service),
            operation: operation.to_string(),
            query_pairs: None,
        });
    }

    let is_json = signals.content_type.is_some_and(|c| {
        c.starts_with("application/x-amz-json") || c.starts_with("application/json")
    });
    let fallback = signed_service.unwrap_or(ServiceId::CloudWatch);
    if is_json || signals.smithy_protocol.is_some() {
        let protocol = if signals.smithy_protocol.is_some() {
            Protocol::Cbor
        } else {
            json_protocol_of(fallback)
        };
        return Err(DetectError {
            service: fallback,
            protocol,
            error: DecodeError::MissingAction,
        });
    }

    // Query: the form is in the body of a POST, or in the URL of a GET.
    let form: &[u8] = if signals.method == "GET" || signals.body.is_empty() {
        signals.query.unwrap_or_default().as_bytes()
    } else {
        signals.body
    };
    let pairs = parse_form(form).map_err(|error| DetectError {
        service: fallback,
        protocol: Protocol::Query,
        error,
    })?;
    let field = |name: &str| {
        pairs
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    };
    let service = field("Version")
        .and_then(|v| {
            ServiceId::ALL
                .into_iter()
                .find(|s| model(*s).api_version == v)
        })
        .filter(|s| matches!(s, ServiceId::CloudWatch | ServiceId::Sts))
        .or(signed_service)
        .unwrap_or(ServiceId::CloudWatch);
    let Some(action) = field("Action") else {
        return Err(DetectError {
            service,
            protocol: Protocol::Query,
            error: DecodeError::MissingAction,
        });
    };
    Ok(Detected {
        service,
        protocol: Protocol::Query,
        operation: action.to_string(),
        query_pairs: Some(pairs),
    })
}

fn json_protocol_of(service: ServiceId) -> Protocol {
    match service {
        ServiceId::CloudWatch => Protocol::Json10,
        _ => Protocol::Json11,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn signals<'a>(path: &'a str, target: Option<&'a str>, body: &'a [u8]) -> RequestSignals<'a> {
        RequestSignals {
            method: "POST",
            path,
            query: None,
            target,
            content_type: None,
            smithy_protocol: None,
            signing_service: None,
            body,
        }
    }

    #[test]
    fn detects_each_protocol() {
        let d = detect(&signals(
            "/service/GraniteServiceVersion20100801/operation/PutMetricData",
            None,
            b"",
        ))
        .unwrap();
        assert_eq!(
            (d.service, d.protocol, d.operation.as_str()),
            (ServiceId::CloudWatch, Protocol::Cbor, "PutMetricData")
        );

        let d = detect(&signals(
            "/",
            Some("GraniteServiceVersion20100801.ListMetrics"),
            b"{}",
        ))
        .unwrap();
        assert_eq!(
            (d.service, d.protocol),
            (ServiceId::CloudWatch, Protocol::Json10)
        );

        let d = detect(&signals("/", Some("Logs_20140328.CreateLogGroup"), b"{}")).unwrap();
        assert_eq!((d.service, d.protocol), (ServiceId::Logs, Protocol::Json11));

        let d = detect(&signals(
            "/",
            Some("com.amazonaws.cloudtrail.v20131101.CloudTrail_20131101.LookupEvents"),
            b"{}",
        ))
        .unwrap();
        assert_eq!(
            (d.service, d.operation.as_str()),
            (ServiceId::CloudTrail, "LookupEvents")
        );

        let d = detect(&signals(
            "/",
            Some("CloudTrail_20131101.LookupEvents"),
            b"{}",
        ))
        .unwrap();
        assert_eq!(
            (d.service, d.operation.as_str()),
            (ServiceId::CloudTrail, "LookupEvents")
        );

        let d = detect(&signals("/", Some("AWSEvents.PutEvents"), b"{}")).unwrap();
        assert_eq!(d.service, ServiceId::Events);

        let d = detect(&signals(
            "/",
            None,
            b"Action=ListMetrics&Version=2010-08-01",
        ))
        .unwrap();
        assert_eq!(
            (d.service, d.protocol, d.operation.as_str()),
            (ServiceId::CloudWatch, Protocol::Query, "ListMetrics")
        );

        let d = detect(&signals(
            "/",
            None,
            b"Action=GetCallerIdentity&Version=2011-06-15",
        ))
        .unwrap();
        assert_eq!(d.service, ServiceId::Sts);
    }

    #[test]
    fn unknown_targets_and_missing_actions_are_errors() {
        let e = detect(&signals("/", Some("Nope_1.Do"), b"{}")).unwrap_err();
        assert!(matches!(e.error, DecodeError::UnknownOperation(_)));
        let e = detect(&signals("/", None, b"Version=2010-08-01")).unwrap_err();
        assert_eq!(e.error, DecodeError::MissingAction);
        assert_eq!(e.protocol, Protocol::Query);
    }
}

//! The services: typed handlers behind an operation table each.
//!
//! A service receives a validated input document (model member names, timestamps as epoch
//! seconds), turns it into its own DTOs with serde, and answers an output document or an error
//! implementing [`AwsError`]. Services never see the wire: `dispatch` owns decoding and encoding.

pub mod bus;
pub mod cloudtrail;
pub mod cloudwatch;
pub mod deliveries;
pub mod events;
pub mod logs;
pub mod sts;

use std::future::Future;
use std::pin::Pin;

use serde_json::Value;

use crate::context::{RequestContext, ServiceId};

/// An error a handler answers; `dispatch` turns it into the wire error its model declares.
pub trait AwsError: std::fmt::Display + std::fmt::Debug + Send + Sync {
    /// The model's error shape (`InvalidParameterValueException`).
    fn error_shape(&self) -> &'static str;
    /// Failures that are ours, not the caller's: logged, and answered with the generic
    /// internal error of the service.
    fn is_internal(&self) -> bool {
        false
    }
    /// Members of the error shape besides its message (model member names), for the few
    /// errors that carry structured detail.
    fn error_members(&self) -> serde_json::Map<String, Value> {
        serde_json::Map::new()
    }
}

pub type BoxError = Box<dyn AwsError>;
pub type HandlerResult = Result<Value, BoxError>;
pub type HandlerFuture<'a> = Pin<Box<dyn Future<Output = HandlerResult> + Send + 'a>>;

/// Reads a handler's input DTO from its document. The document was validated against the
/// model, so a failure here means the DTO and the model disagree: a client error all the same.
pub fn input<T: serde::de::DeserializeOwned>(doc: Value) -> Result<T, InputError> {
    serde_json::from_value(doc).map_err(|e| InputError(e.to_string()))
}

/// Serializes an output DTO.
pub fn output<T: serde::Serialize>(out: &T) -> HandlerResult {
    serde_json::to_value(out).map_err(|e| Box::new(InputError(e.to_string())) as BoxError)
}

#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct InputError(pub String);

/// Raised only when an output DTO cannot be serialized: our defect, never the caller's.
impl AwsError for InputError {
    fn error_shape(&self) -> &'static str {
        "InternalFailure"
    }
    fn is_internal(&self) -> bool {
        true
    }
}

/// One API call as it happened, for the CloudTrail journal: who, what, and how it ended.
#[derive(Debug)]
pub struct ApiCall {
    pub ctx: RequestContext,
    pub service: ServiceId,
    pub operation: String,
    /// The decoded input, when the body could be decoded.
    pub request: Option<Value>,
    /// The output document, or the error code and message the caller received.
    pub outcome: Result<Value, (String, String)>,
}

/// All services, built once at start-up.
pub struct Services {
    pub cloudwatch: cloudwatch::CloudWatch,
    pub logs: logs::Logs,
    pub cloudtrail: cloudtrail::CloudTrail,
    pub events: events::Events,
    pub sts: sts::Sts,
    /// Messages for targets this emulator does not host, kept for a developer to list.
    pub deliveries: deliveries::Deliveries,
}

impl Services {
    /// Calls `operation`; `None` when the service does not implement it (the caller answers
    /// AWS's unknown-operation error).
    pub fn call<'a>(
        &'a self,
        service: ServiceId,
        ctx: &'a RequestContext,
        operation: &'a str,
        input: Value,
    ) -> Option<HandlerFuture<'a>> {
        match service {
            ServiceId::CloudWatch => self.cloudwatch.call(ctx, operation, input),
            ServiceId::Logs => self.logs.call(ctx, operation, input),
            ServiceId::Sts => self.sts.call(ctx, operation, input),
            ServiceId::CloudTrail => self.cloudtrail.call(ctx, operation, input),
            ServiceId::Events => self.events.call(ctx, operation, input),
        }
    }

    /// Operations answered with an event stream rather than a document; `None` for the others.
    pub async fn start_stream(
        &self,
        service: ServiceId,
        ctx: &RequestContext,
        operation: &str,
        input: Value,
    ) -> Option<Result<logs::live_tail::MessageStream, BoxError>> {
        match (service, operation) {
            (ServiceId::Logs, "StartLiveTail") => Some(
                self.logs
                    .start_live_tail(ctx, input)
                    .await
                    .map_err(|e| Box::new(e) as BoxError),
            ),
            _ => None,
        }
    }

    /// Whether `operation` answers an event stream (see [`Services::start_stream`]).
    pub fn is_stream(service: ServiceId, operation: &str) -> bool {
        matches!((service, operation), (ServiceId::Logs, "StartLiveTail"))
    }

    /// Hands a finished call to the journal. Must not block the request path.
    pub fn record_call(&self, call: ApiCall) {
        self.cloudtrail.record(call);
    }

    /// Drops in-memory state that mirrors the database, after the database was wiped.
    pub fn after_reset(&self) {
        self.cloudwatch.after_reset();
    }

    /// Which services are served, for the health endpoint.
    pub fn status(&self) -> Vec<(ServiceId, &'static str)> {
        vec![
            (ServiceId::CloudWatch, "running"),
            (ServiceId::Logs, "running"),
            (ServiceId::Events, "running"),
            (ServiceId::CloudTrail, "running"),
            (ServiceId::Sts, "running"),
        ]
    }
}

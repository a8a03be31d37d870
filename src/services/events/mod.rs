//! EventBridge (CloudWatch Events). The event pattern language is `pattern.rs`; the service's
//! operations are being built (until they are, they answer AWS's unknown-operation error).

pub mod pattern;

use crate::services::AwsError;
use crate::store::StoreError;

/// EventBridge's errors, named after the model's error shapes. `Validation` is the generic
/// `ValidationException` EventBridge answers for bad parameters the model does not declare.
#[derive(Debug, thiserror::Error)]
pub enum EventsError {
    #[error("{0}")]
    Validation(String),
    #[error("{0}")]
    ResourceNotFound(String),
    #[error("{0}")]
    ResourceAlreadyExists(String),
    #[error("{0}")]
    InvalidEventPattern(String),
    #[error("{0}")]
    LimitExceeded(String),
    #[error("{0}")]
    ConcurrentModification(String),
    #[error("{0}")]
    IllegalStatus(String),
    #[error("{0}")]
    InvalidState(String),
    #[error("{0}")]
    ManagedRule(String),
    #[error("{0}")]
    PolicyLengthExceeded(String),
    #[error("{0}")]
    OperationDisabled(String),
    #[error("storage failure: {0}")]
    Store(#[from] StoreError),
}

impl From<crate::services::InputError> for EventsError {
    fn from(e: crate::services::InputError) -> Self {
        EventsError::Validation(e.0)
    }
}

impl From<sqlx::Error> for EventsError {
    fn from(e: sqlx::Error) -> Self {
        EventsError::Store(StoreError::from(e))
    }
}

impl AwsError for EventsError {
    fn error_shape(&self) -> &'static str {
        match self {
            EventsError::Validation(_) => "ValidationException",
            EventsError::ResourceNotFound(_) => "ResourceNotFoundException",
            EventsError::ResourceAlreadyExists(_) => "ResourceAlreadyExistsException",
            EventsError::InvalidEventPattern(_) => "InvalidEventPatternException",
            EventsError::LimitExceeded(_) => "LimitExceededException",
            EventsError::ConcurrentModification(_) => "ConcurrentModificationException",
            EventsError::IllegalStatus(_) => "IllegalStatusException",
            EventsError::InvalidState(_) => "InvalidStateException",
            EventsError::ManagedRule(_) => "ManagedRuleException",
            EventsError::PolicyLengthExceeded(_) => "PolicyLengthExceededException",
            EventsError::OperationDisabled(_) => "OperationDisabledException",
            EventsError::Store(_) => "InternalException",
        }
    }

    fn is_internal(&self) -> bool {
        matches!(self, EventsError::Store(_))
    }
}

pub type Result<T, E = EventsError> = std::result::Result<T, E>;

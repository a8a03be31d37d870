//! EventBridge (CloudWatch Events). So far only its engine exists: the event pattern language
//! (`pattern.rs`); the service's operations are not implemented yet and answer AWS's
//! unknown-operation error.

pub mod pattern;

//! CloudWatch Logs. So far only its engines exist: the Logs Insights query language
//! (`insights/`); the service's operations are not implemented yet and answer AWS's
//! unknown-operation error.

pub mod insights;

//! The one error type of the metric math engine.
//!
//! Every failure a client can provoke (bad syntax, unknown functions or ids, wrong argument
//! types, searches that do not parse, ranges too large to materialise) is a value of
//! [`MathError`], never a panic. Variants that point into the expression text carry the
//! 0-based *character* position, so the handler can report it next to the query id the way
//! the console's "Error in expression e1 [...]" messages do.

/// Why an expression could not be parsed or evaluated.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum MathError {
    /// The text is not a well-formed expression.
    #[error("Invalid syntax at position {position}: {detail}")]
    Syntax { position: usize, detail: String },
    /// Parentheses, function calls or unary operators are nested beyond the engine's limit.
    #[error(
        "Invalid syntax at position {position}: expression is nested more than {limit} levels deep"
    )]
    TooDeep { position: usize, limit: usize },
    /// A call to a function metric math does not have (functions must be uppercase).
    #[error("Unrecognized function {name} at position {position}")]
    UnknownFunction { position: usize, name: String },
    /// A known function called with a number of arguments it does not accept.
    #[error(
        "Function {name} at position {position} expects {expected} argument(s) but got {found}"
    )]
    ArgumentCount {
        position: usize,
        name: String,
        expected: &'static str,
        found: usize,
    },
    /// An id that names neither a metric nor an expression of the request.
    #[error("Unidentified metric or expression id {id} at position {position}")]
    UnknownId { position: usize, id: String },
    /// An operand or argument of a type the operator or function does not accept
    /// (for example a scalar where a time series is required).
    #[error("Invalid argument type at position {position}: {detail}")]
    ArgumentType { position: usize, detail: String },
    /// An argument of the right type but an unusable value (negative SLICE index, ...).
    #[error("Invalid argument at position {position}: {detail}")]
    InvalidArgument { position: usize, detail: String },
    /// The search expression inside SEARCH('...') does not parse.
    #[error("Invalid search expression at position {position}: {detail}")]
    Search { position: usize, detail: String },
    /// A documented function whose data lives outside the metric store (anomaly models,
    /// Contributor Insights, service quotas, Lambda data sources, Performance Insights).
    #[error("Function {name} at position {position} is not supported")]
    Unsupported { position: usize, name: String },
    /// A function that produces a non-sparse series would need more points than
    /// GetMetricData may return in one call.
    #[error("The time range needs more than {limit} data points at a period of {period_seconds} seconds")]
    TooManyDatapoints { period_seconds: i64, limit: usize },
    /// The caller supplied an unusable evaluation context (non-positive period, ...).
    #[error("Invalid evaluation context: {detail}")]
    Context { detail: String },
}

impl MathError {
    /// The 0-based character position in the expression text the error refers to, if any.
    pub fn position(&self) -> Option<usize> {
        match self {
            MathError::Syntax { position, .. }
            | MathError::TooDeep { position, .. }
            | MathError::UnknownFunction { position, .. }
            | MathError::ArgumentCount { position, .. }
            | MathError::UnknownId { position, .. }
            | MathError::ArgumentType { position, .. }
            | MathError::InvalidArgument { position, .. }
            | MathError::Search { position, .. }
            | MathError::Unsupported { position, .. } => Some(*position),
            MathError::TooManyDatapoints { .. } | MathError::Context { .. } => None,
        }
    }

    /// Moves a position found inside an embedded text (the SEARCH string) to the
    /// coordinates of the whole expression.
    pub(super) fn shifted(self, offset: usize) -> MathError {
        match self {
            MathError::Search { position, detail } => MathError::Search {
                position: position.saturating_add(offset),
                detail,
            },
            other => other,
        }
    }
}

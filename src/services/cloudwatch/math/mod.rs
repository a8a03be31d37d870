//! CloudWatch metric math: the `Expression` field of GetMetricData and alarm queries.
//!
//! The engine is pure: [`Expression::parse`] turns the text into a tree once (reporting
//! errors with character positions), [`Expression::referenced_ids`] and
//! [`Expression::search_calls`] tell the caller what to fetch first, and [`evaluate`] computes
//! the result from data the caller supplies in an [`EvalContext`]. Searches are resolved by
//! the caller because only it can list the store's metrics; [`SearchQuery`] gives it the
//! predicate to do so.
//!
//! Semantics follow the "Metric math syntax and functions" section of the CloudWatch user
//! guide:
//! * arithmetic and comparisons between two time series run over the union of their
//!   timestamps, a missing value counting as 0 ("Missing values in a time series are treated
//!   as 0"); a point whose result is not a finite number (division by zero, LOG of 0, ...) is
//!   dropped ("If the value of a data point causes a function to attempt to divide by zero,
//!   the data point is dropped");
//! * SUM, AVG, MIN, MAX, STDDEV of one series give a scalar, of an array give a series;
//! * IF follows the documented tables for true/false/missing points;
//! * functions that "return a non-sparse time series" (TIME_SERIES, FILL, MINUTE ... EPOCH)
//!   use the grid `start_ms + k * period` up to `end_ms`, in UTC.
//!
//! Labels: elementwise operations keep the label of the (left-most) series they came from,
//! so arrays such as `METRICS()/100` keep one label per metric; series built from several
//! inputs or from scratch (SUM of an array, TIME_SERIES) have an empty label. The caller
//! names single-series results after the query's Label or Id, as GetMetricData does.

mod error;
mod eval;
mod functions;
mod lexer;
mod parser;
mod search;

use std::collections::HashMap;

pub use error::MathError;
pub use search::SearchQuery;

/// A time series as GetMetricData returns it: timestamps (epoch ms, ascending) with values.
#[derive(Debug, Clone, PartialEq)]
pub struct Series {
    pub label: String,
    pub timestamps: Vec<i64>,
    pub values: Vec<f64>,
}

impl Series {
    /// A series from (timestamp, value) points, which must be in ascending time order.
    pub fn from_points(label: impl Into<String>, points: &[(i64, f64)]) -> Series {
        Series {
            label: label.into(),
            timestamps: points.iter().map(|(timestamp, _)| *timestamp).collect(),
            values: points.iter().map(|(_, value)| *value).collect(),
        }
    }

    fn empty(label: impl Into<String>) -> Series {
        Series {
            label: label.into(),
            timestamps: Vec::new(),
            values: Vec::new(),
        }
    }

    fn points(&self) -> impl Iterator<Item = (i64, f64)> + Clone + '_ {
        self.timestamps
            .iter()
            .copied()
            .zip(self.values.iter().copied())
    }
}

/// What an expression evaluates to: a scalar, one series, or an array of series
/// (e.g. METRICS(), SEARCH()).
///
/// AWS requires the final result of an expression to be a series or an array; a `Scalar`
/// here is for the caller to reject ("AVG of a single time series produces a scalar number,
/// so it can't be the final expression result").
#[derive(Debug, Clone, PartialEq)]
pub enum MathValue {
    Scalar(f64),
    Series(Series),
    Array(Vec<Series>),
}

/// A parsed metric math expression.
#[derive(Debug, Clone, PartialEq)]
pub struct Expression {
    root: parser::Node,
}

impl Expression {
    /// Parses and validates an expression; errors carry the character position.
    pub fn parse(text: &str) -> Result<Expression, MathError> {
        parser::parse(text).map(|root| Expression { root })
    }

    /// Ids of other queries the expression uses, in order of first use, for dependency
    /// ordering and cycle detection. `METRICS()` is not listed: it reads only metric
    /// queries, which depend on nothing.
    pub fn referenced_ids(&self) -> Vec<String> {
        let mut ids = Vec::new();
        parser::referenced_ids(&self.root, &mut ids);
        ids
    }

    /// The SEARCH calls of the expression, for the caller to resolve into
    /// [`EvalContext::search_results`].
    pub fn search_calls(&self) -> Vec<SearchCall> {
        let mut calls = Vec::new();
        parser::search_calls(&self.root, &mut calls);
        calls
    }
}

/// One `SEARCH('{Ns,Dim} MetricName="x"', 'Average', 300)` call of an expression.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SearchCall {
    /// The search text as written between the quotes (backslash escapes still in place);
    /// parse it with [`SearchQuery::parse`]. Also the key of
    /// [`EvalContext::search_results`].
    pub expression: String,
    /// The statistic to fetch for every matching metric, e.g. `Average` or `p99`.
    pub statistic: String,
    /// The aggregation period in seconds, when given.
    pub period: Option<i64>,
}

/// What an expression is evaluated against.
pub struct EvalContext<'a> {
    /// Results of the other queries of the request, by id.
    pub series: &'a HashMap<String, MathValue>,
    /// Ids of the request's metric (MetricStat) queries in request order: the set
    /// `METRICS()` draws from ("Math expressions aren't included") and the only ids
    /// `PERIOD()` accepts.
    pub metric_ids: &'a [String],
    /// Series found by each SEARCH call, keyed by [`SearchCall::expression`]; a search
    /// missing here matched nothing.
    pub search_results: &'a HashMap<String, Vec<Series>>,
    /// The period of the query, in seconds: the step of non-sparse series and PERIOD().
    pub period_seconds: i64,
    /// Start of the requested range, epoch milliseconds (inclusive).
    pub start_ms: i64,
    /// End of the requested range, epoch milliseconds (exclusive).
    pub end_ms: i64,
}

/// Evaluates a parsed expression.
pub fn evaluate(expr: &Expression, ctx: &EvalContext<'_>) -> Result<MathValue, MathError> {
    eval::evaluate(&expr.root, ctx)
}

#[cfg(test)]
mod tests;

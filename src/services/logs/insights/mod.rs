//! CloudWatch Logs Insights query language (Logs Insights QL) engine.
//!
//! A query is parsed once with [`parse`] into a [`Query`]; each run is an
//! [`Execution`] that log events are pushed into one at a time and that produces
//! a [`QueryOutput`] shaped like `GetQueryResults`.
//!
//! Execution is split at the first command that needs every row before it can
//! emit one (`stats`, `sort`, `limit`, `dedup`). Commands before it run per event
//! and keep nothing; a `stats` there aggregates as events stream by, so memory
//! follows the number of groups. Otherwise rows are buffered, but only the
//! fields later commands and the output need, and the buffer is trimmed to the
//! rows that can still be returned whenever the query's order allows it. The
//! remaining commands then run over the buffered rows in [`Execution::finish`].
//!
//! Without `sort`, rows come out newest first (`@timestamp` descending), the
//! order AWS documents for `dedup` on unsorted input.
//!
//! Layout: `lexer` and `parser` turn text into the `ast`; `plan` decides how to
//! run it; `stream` runs the per-event part, `aggregate` the `stats` state and
//! `rows` the rest; `eval`, `functions` and `value` evaluate expressions, and
//! `discovery` finds the fields of JSON and VPC flow log events.

mod aggregate;
mod ast;
mod discovery;
mod eval;
mod functions;
mod lexer;
mod parser;
mod plan;
mod rows;
mod stream;
mod value;

#[cfg(test)]
mod tests;

use std::cell::OnceCell;
use std::sync::Arc;

use aggregate::{Row, StatsState};
use ast::Command;
use eval::EvalContext;
use lexer::SyntaxError;
use plan::Plan;
use rows::{run_row_command, sort_rows, stats_result_rows, BufferedRow};
use stream::{run_event_commands, Cell, EventContext};
use value::Value;

/// The rows a query returns when it has no `limit` command (the AWS default).
pub const DEFAULT_RESULT_ROWS: usize = 10_000;
/// The most rows any query returns: the largest `limit` AWS documents.
pub const MAX_RESULT_ROWS: usize = parser::MAX_LIMIT;

/// Where in the query text an error is: `start` and `end` are what
/// `MalformedQueryException` reports as `queryCompileError.location`
/// `startCharOffset` and `endCharOffset`; line and column are for people.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QueryLocation {
    /// 1-based line of the offending token.
    pub line: usize,
    /// 1-based column (in characters) of the offending token.
    pub column: usize,
    /// 0-based character offset where the offending text starts.
    pub start: usize,
    /// 0-based character offset just past the offending text.
    pub end: usize,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum InsightsError {
    /// The query is not valid Logs Insights QL (AWS: `MalformedQueryException`).
    #[error("{message} at line {}, column {}", .location.line, .location.column)]
    Malformed {
        location: QueryLocation,
        message: String,
    },
    /// The query uses Logs Insights QL this engine does not implement, such as
    /// the `pattern` or `diff` commands.
    #[error("{message} at line {}, column {}", .location.line, .location.column)]
    Unsupported {
        location: QueryLocation,
        message: String,
    },
}

impl InsightsError {
    fn from_syntax(source: &str, error: SyntaxError) -> Self {
        let location = locate(source, error.span.start, error.span.end);
        if error.unsupported {
            InsightsError::Unsupported {
                location,
                message: error.message,
            }
        } else {
            InsightsError::Malformed {
                location,
                message: error.message,
            }
        }
    }
}

fn locate(source: &str, start_byte: usize, end_byte: usize) -> QueryLocation {
    let before = source.get(..start_byte).unwrap_or(source);
    let line = before.matches('\n').count() + 1;
    let line_start = before.rfind('\n').map_or(0, |newline| newline + 1);
    let column = before
        .get(line_start..)
        .map_or(0, |text| text.chars().count())
        + 1;
    let start = before.chars().count();
    let span_chars = source
        .get(start_byte..end_byte.max(start_byte))
        .map_or(0, |text| text.chars().count());
    QueryLocation {
        line,
        column,
        start,
        end: start + span_chars,
    }
}

/// One log event offered to a query.
#[derive(Debug, Clone, Copy, Default)]
pub struct LogRecord<'a> {
    pub timestamp_ms: i64,
    pub ingestion_time_ms: i64,
    pub message: &'a str,
    pub log_stream: &'a str,
    /// `accountId:logGroupName`, as AWS shows `@log`.
    pub log_group: &'a str,
    /// The opaque `@ptr` the service assigns to this event (what `GetLogRecord`
    /// accepts); empty to leave `@ptr` out of the results.
    pub ptr: &'a str,
}

/// Results in the shape of `GetQueryResults`.
#[derive(Debug, Clone, PartialEq)]
pub struct QueryOutput {
    /// Each row lists (field, value) pairs in column order; fields a row lacks
    /// are omitted, as AWS omits them. Rows built from single events end with
    /// `@ptr` when the event had one; rows produced by `stats` do not.
    pub rows: Vec<Vec<(String, String)>>,
    pub records_matched: f64,
    pub records_scanned: f64,
    pub bytes_scanned: f64,
}

/// A parsed query. Cheap to clone; executions share the compiled form.
#[derive(Debug, Clone)]
pub struct Query {
    plan: Arc<Plan>,
}

/// Parses a query, reporting the position of the first offending token.
pub fn parse(query: &str) -> Result<Query, InsightsError> {
    let parsed =
        parser::parse_query(query).map_err(|error| InsightsError::from_syntax(query, error))?;
    Ok(Query {
        plan: Arc::new(Plan::new(parsed.commands, parsed.slot_names)),
    })
}

impl Query {
    /// Starts a run that returns at most [`DEFAULT_RESULT_ROWS`] rows, or up to
    /// [`MAX_RESULT_ROWS`] when the query has its own `limit`.
    pub fn start(&self) -> Execution {
        self.start_with_row_cap(self.plan.default_row_cap)
    }

    /// Starts a run returning at most `row_cap` rows (clamped to 1..=100,000), for
    /// the `limit` parameter of `StartQuery`.
    pub fn start_with_row_cap(&self, row_cap: usize) -> Execution {
        let row_cap = row_cap.clamp(1, MAX_RESULT_ROWS);
        let sink = if self.plan.streams_into_stats() {
            Sink::Stats(StatsState::new())
        } else {
            Sink::Rows(Vec::new())
        };
        Execution {
            plan: Arc::clone(&self.plan),
            row_cap,
            cells: Vec::new(),
            sink,
            records_scanned: 0,
            records_matched: 0,
            bytes_scanned: 0,
        }
    }

    /// How many matching events suffice, when the query neither aggregates nor
    /// reorders (no `stats`, `sort` or `dedup`): then its result is the first
    /// matching events in the default order, so a caller that pushes events
    /// newest first may stop once [`Execution::is_done`] says so.
    pub fn source_limit_hint(&self) -> Option<usize> {
        self.plan
            .early_stop
            .map(|rows| rows.min(self.plan.default_row_cap))
    }
}

/// Where events that pass the per-event commands go.
enum Sink {
    /// The first command needing all rows is `stats`: aggregate as events arrive.
    Stats(StatsState),
    /// Otherwise keep the rows (trimmed when the plan allows).
    Rows(Vec<BufferedRow>),
}

/// A running query. Push events, then call [`Execution::finish`].
pub struct Execution {
    plan: Arc<Plan>,
    row_cap: usize,
    /// Reused for every event, so scanning does not allocate per event.
    cells: Vec<Cell>,
    sink: Sink,
    records_scanned: u64,
    records_matched: u64,
    bytes_scanned: u64,
}

impl Execution {
    /// Offers one event to the query. Nothing of the event is kept beyond the
    /// fields the rest of the query needs.
    pub fn push(&mut self, record: &LogRecord<'_>) {
        self.records_scanned += 1;
        self.bytes_scanned += record.message.len() as u64;
        if self.is_done() {
            return;
        }
        let plan = &*self.plan;
        self.cells.clear();
        self.cells.resize(plan.slot_names.len(), Cell::Unset);
        let discovered = OnceCell::new();
        if !run_event_commands(plan, &mut self.cells, record, &discovered) {
            return;
        }
        self.records_matched += 1;
        let context = EventContext {
            plan,
            record,
            cells: &self.cells,
            discovered: &discovered,
        };
        match &mut self.sink {
            Sink::Stats(state) => {
                if let Some(Command::Stats(stats)) = plan.commands.get(plan.stream_end) {
                    state.push(stats, &context);
                }
            }
            Sink::Rows(rows) => {
                let mut slots: Row = vec![None; plan.slot_names.len()];
                for slot in &plan.materialize {
                    if let Some(target) = slots.get_mut(*slot) {
                        *target = context.field(*slot).map(Value::into_owned);
                    }
                }
                rows.push(BufferedRow {
                    slots,
                    time_ms: Some(record.timestamp_ms),
                    sequence: self.records_matched,
                    pointer: Some(record.ptr)
                        .filter(|ptr| !ptr.is_empty())
                        .map(str::to_owned),
                });
                if let Some(keep) = plan.keep_rows.map(|keep| keep.min(self.row_cap)) {
                    if rows.len() >= keep.saturating_mul(2).max(64) {
                        sort_rows(rows, plan.leading_sort());
                        rows.truncate(keep);
                    }
                }
            }
        }
    }

    /// True once the query has all the rows it can return, assuming events are
    /// pushed newest first (see [`Query::source_limit_hint`]).
    pub fn is_done(&self) -> bool {
        match (&self.sink, self.plan.early_stop) {
            (Sink::Rows(rows), Some(rows_wanted)) => rows.len() >= rows_wanted.min(self.row_cap),
            _ => false,
        }
    }

    /// Runs the commands that need all rows and returns the results.
    pub fn finish(self) -> QueryOutput {
        let plan = &*self.plan;
        let (mut rows, remaining) = match self.sink {
            Sink::Stats(state) => {
                let stats_rows = match plan.commands.get(plan.stream_end) {
                    Some(Command::Stats(stats)) => {
                        stats_result_rows(state.finish(stats, plan.slot_names.len()))
                    }
                    _ => Vec::new(),
                };
                (stats_rows, plan.stream_end + 1)
            }
            Sink::Rows(mut rows) => {
                sort_rows(&mut rows, None);
                (rows, plan.stream_end)
            }
        };
        for command in plan.commands.get(remaining..).unwrap_or(&[]) {
            rows = run_row_command(plan, command, rows);
        }
        rows.truncate(self.row_cap);
        let output_rows = rows
            .iter()
            .map(|row| {
                let mut fields: Vec<(String, String)> = plan
                    .columns
                    .iter()
                    .filter_map(|(name, slot)| {
                        let value = row.slots.get(*slot)?.as_ref()?;
                        Some((name.clone(), value.to_text().into_owned()))
                    })
                    .collect();
                if plan.rows_are_events {
                    if let Some(pointer) = &row.pointer {
                        fields.push(("@ptr".to_owned(), pointer.clone()));
                    }
                }
                fields
            })
            .collect();
        #[allow(clippy::cast_precision_loss)]
        QueryOutput {
            rows: output_rows,
            records_matched: self.records_matched as f64,
            records_scanned: self.records_scanned as f64,
            bytes_scanned: self.bytes_scanned as f64,
        }
    }
}

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

mod aggregate;
mod ast;
mod discovery;
mod eval;
mod functions;
mod lexer;
mod parser;
mod value;

#[cfg(test)]
mod tests;

use std::borrow::Cow;
use std::cell::OnceCell;
use std::cmp::Ordering;
use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use aggregate::{Row, StatsState};
use ast::{Command, ParseCommand, ParsePattern, Projection, Slot, SortKey, StatsCommand};
use eval::{evaluate, truth, EvalContext};
use lexer::SyntaxError;
use value::{compare_for_sort, Value};

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

/// Where a slot's value comes from when no command has assigned it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum SlotSource {
    Timestamp,
    IngestionTime,
    Message,
    LogStream,
    Log,
    Pointer,
    Discovered(usize),
}

#[derive(Debug)]
struct Plan {
    commands: Vec<Command>,
    slot_names: Vec<String>,
    slot_sources: Vec<SlotSource>,
    /// Names an event may supply, mapped to their position in the discovery result.
    discoverable_fields: HashMap<String, usize>,
    /// Commands before this index run per event.
    stream_end: usize,
    /// Slots a buffered row must carry for the later commands and the output.
    materialize: Vec<Slot>,
    columns: Vec<(String, Slot)>,
    default_row_cap: usize,
    /// Whether result rows still correspond to single events (no `stats`).
    rows_are_events: bool,
    /// Buffered rows can be trimmed to this many (`usize::MAX`: to the row cap),
    /// ordered by the command at `stream_end` if it is a sort; `None` when later
    /// commands may drop rows.
    keep_rows: Option<usize>,
    /// Matching events after which input may stop (`usize::MAX`: the row cap).
    early_stop: Option<usize>,
}

impl Plan {
    fn new(commands: Vec<Command>, mut slot_names: Vec<String>) -> Self {
        let stream_end = commands
            .iter()
            .position(Command::is_barrier)
            .unwrap_or(commands.len());
        let columns = output_columns(&commands, &mut slot_names);
        let mut discoverable_fields = HashMap::new();
        let slot_sources = slot_names
            .iter()
            .map(|name| match name.as_str() {
                "@timestamp" => SlotSource::Timestamp,
                "@ingestionTime" => SlotSource::IngestionTime,
                "@message" => SlotSource::Message,
                "@logStream" => SlotSource::LogStream,
                "@log" => SlotSource::Log,
                "@ptr" => SlotSource::Pointer,
                other => {
                    let index = discoverable_fields.len();
                    discoverable_fields.insert(other.to_owned(), index);
                    SlotSource::Discovered(index)
                }
            })
            .collect();

        let later = commands.get(stream_end..).unwrap_or(&[]);
        let mut needed: Vec<bool> = vec![false; slot_names.len()];
        for (_, slot) in &columns {
            mark(&mut needed, *slot);
        }
        for command in later {
            command_slots(command, &mut |slot| mark(&mut needed, slot));
        }
        let materialize = (0..slot_names.len())
            .filter(|slot| needed.get(*slot).copied().unwrap_or(false))
            .collect();

        let reorders = commands
            .iter()
            .any(|c| matches!(c, Command::Stats(_) | Command::Sort(_) | Command::Dedup(_)));
        let early_stop = if reorders {
            None
        } else {
            match later.first() {
                Some(Command::Limit(rows)) => Some(*rows),
                _ => Some(usize::MAX),
            }
        };

        let has_limit = commands.iter().any(|c| matches!(c, Command::Limit(_)));
        Plan {
            default_row_cap: if has_limit {
                MAX_RESULT_ROWS
            } else {
                DEFAULT_RESULT_ROWS
            },
            rows_are_events: !commands.iter().any(|c| matches!(c, Command::Stats(_))),
            keep_rows: keep_rows(later),
            commands,
            slot_names,
            slot_sources,
            discoverable_fields,
            stream_end,
            materialize,
            columns,
            early_stop,
        }
    }

    fn streams_into_stats(&self) -> bool {
        matches!(self.commands.get(self.stream_end), Some(Command::Stats(_)))
    }

    /// The sort the buffer is ordered by before the default order, if any.
    fn leading_sort(&self) -> Option<&[SortKey]> {
        match self.commands.get(self.stream_end) {
            Some(Command::Sort(keys)) => Some(keys),
            _ => None,
        }
    }
}

fn mark(needed: &mut [bool], slot: Slot) {
    if let Some(flag) = needed.get_mut(slot) {
        *flag = true;
    }
}

fn command_slots(command: &Command, visit: &mut dyn FnMut(Slot)) {
    let mut reads_time = false;
    match command {
        Command::Fields(projections) | Command::Display(projections) => {
            for projection in projections {
                match &projection.compute {
                    Some(expr) => ast::visit_slots(expr, visit, &mut reads_time),
                    None => visit(projection.slot),
                }
            }
        }
        Command::Filter(expr) => ast::visit_slots(expr, visit, &mut reads_time),
        Command::Parse(parse) => ast::visit_slots(&parse.source, visit, &mut reads_time),
        Command::Stats(stats) => {
            for (_, _, expr) in &stats.group_by {
                ast::visit_slots(expr, visit, &mut reads_time);
            }
            for spec in &stats.aggregates {
                if let Some(argument) = &spec.argument {
                    ast::visit_slots(argument, visit, &mut reads_time);
                }
            }
        }
        Command::Sort(keys) => {
            for key in keys {
                ast::visit_slots(&key.expr, visit, &mut reads_time);
            }
        }
        Command::Dedup(slots) => slots.iter().for_each(|slot| visit(*slot)),
        Command::Limit(_) => {}
    }
}

/// How many buffered rows can matter: after an optional leading sort, commands
/// that keep every row (fields, display, parse) may precede a `limit`; the
/// result then needs only that many rows of the buffer's order.
fn keep_rows(later: &[Command]) -> Option<usize> {
    let rest = match later.first() {
        Some(Command::Sort(_)) => later.get(1..).unwrap_or(&[]),
        _ => later,
    };
    for command in rest {
        match command {
            Command::Fields(_) | Command::Display(_) | Command::Parse(_) => {}
            Command::Limit(rows) => return Some(*rows),
            Command::Filter(_) | Command::Stats(_) | Command::Sort(_) | Command::Dedup(_) => {
                return None
            }
        }
    }
    Some(usize::MAX)
}

fn slot_for(slot_names: &mut Vec<String>, name: &str) -> Slot {
    match slot_names.iter().position(|existing| existing == name) {
        Some(slot) => slot,
        None => {
            slot_names.push(name.to_owned());
            slot_names.len() - 1
        }
    }
}

/// The columns of the result: the last `display` (unless a `stats` follows it);
/// else the last `stats`'s groups and results plus any `fields` after it; else
/// every field named by `fields`; else `@timestamp` and `@message`.
fn output_columns(commands: &[Command], slot_names: &mut Vec<String>) -> Vec<(String, Slot)> {
    let last_stats = commands
        .iter()
        .rposition(|c| matches!(c, Command::Stats(_)));
    let last_display = commands
        .iter()
        .rposition(|c| matches!(c, Command::Display(_)));
    let mut columns: Vec<(String, Slot)> = Vec::new();
    let mut add = |name: &str, slot: Slot| {
        if !columns.iter().any(|(existing, _)| existing == name) {
            columns.push((name.to_owned(), slot));
        }
    };
    let projections_of = |command: &Command| -> Vec<(String, Slot)> {
        match command {
            Command::Fields(projections) | Command::Display(projections) => projections
                .iter()
                .map(|p: &Projection| (p.name.clone(), p.slot))
                .collect(),
            _ => Vec::new(),
        }
    };
    match (last_display, last_stats) {
        (Some(display), stats) if stats.is_none_or(|stats| display > stats) => {
            if let Some(command) = commands.get(display) {
                for (name, slot) in projections_of(command) {
                    add(&name, slot);
                }
            }
        }
        (_, Some(stats_index)) => {
            if let Some(Command::Stats(stats)) = commands.get(stats_index) {
                for (name, slot, _) in stats.group_by.iter().chain(&stats.outputs) {
                    add(name, *slot);
                }
            }
            for command in commands.get(stats_index + 1..).unwrap_or(&[]) {
                if matches!(command, Command::Fields(_)) {
                    for (name, slot) in projections_of(command) {
                        add(&name, slot);
                    }
                }
            }
        }
        _ => {
            for command in commands {
                if matches!(command, Command::Fields(_)) {
                    for (name, slot) in projections_of(command) {
                        add(&name, slot);
                    }
                }
            }
        }
    }
    if columns.is_empty() {
        for name in ["@timestamp", "@message"] {
            let slot = slot_for(slot_names, name);
            columns.push((name.to_owned(), slot));
        }
    }
    columns
}

/// A field of the event being scanned, as far as the commands so far have set it.
#[derive(Debug, Clone, Default)]
enum Cell {
    /// Not assigned by any command: read from the event itself.
    #[default]
    Unset,
    /// Assigned, but to nothing (a failed `parse`, an alias of a missing field).
    Missing,
    Set(Value<'static>),
}

impl Cell {
    fn from_value(value: Option<Value<'_>>) -> Cell {
        value.map_or(Cell::Missing, |v| Cell::Set(v.into_owned()))
    }
}

/// A row that outlived its event: only the slots later commands read.
struct BufferedRow {
    slots: Row,
    time_ms: Option<i64>,
    sequence: u64,
    pointer: Option<String>,
}

enum Sink {
    Stats(StatsState),
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

struct EventContext<'a> {
    plan: &'a Plan,
    record: &'a LogRecord<'a>,
    cells: &'a [Cell],
    discovered: &'a OnceCell<Vec<Option<String>>>,
}

impl<'a> EvalContext for EventContext<'a> {
    fn field(&self, slot: Slot) -> Option<Value<'_>> {
        match self.cells.get(slot) {
            Some(Cell::Set(value)) => return Some(value.reborrow()),
            Some(Cell::Missing) => return None,
            Some(Cell::Unset) | None => {}
        }
        let record = self.record;
        let text = |s: &'a str| Some(Value::Str(Cow::Borrowed(s)));
        match self.plan.slot_sources.get(slot)? {
            SlotSource::Timestamp => Some(Value::Time(record.timestamp_ms)),
            SlotSource::IngestionTime => Some(Value::Time(record.ingestion_time_ms)),
            SlotSource::Message => text(record.message),
            SlotSource::LogStream => text(record.log_stream),
            SlotSource::Log => text(record.log_group),
            SlotSource::Pointer => Some(record.ptr)
                .filter(|ptr| !ptr.is_empty())
                .and_then(text),
            SlotSource::Discovered(index) => {
                let found = self.discovered.get_or_init(|| {
                    discovery::discover_fields(record.message, &self.plan.discoverable_fields)
                });
                let field = found.get(*index)?.as_deref()?;
                Some(Value::Str(Cow::Borrowed(field)))
            }
        }
    }

    fn record_time_ms(&self) -> Option<i64> {
        Some(self.record.timestamp_ms)
    }
}

struct RowContext<'a> {
    row: &'a [Option<Value<'static>>],
    time_ms: Option<i64>,
}

impl EvalContext for RowContext<'_> {
    fn field(&self, slot: Slot) -> Option<Value<'_>> {
        self.row.get(slot)?.as_ref().map(Value::reborrow)
    }

    fn record_time_ms(&self) -> Option<i64> {
        self.time_ms
    }
}

/// Runs a `parse` command's pattern over its source text.
fn extract(parse: &ParseCommand, context: &dyn EvalContext) -> Vec<(Slot, Option<String>)> {
    let source = evaluate(&parse.source, context);
    let text = source.as_ref().map(Value::to_text);
    let text = text.as_deref();
    match &parse.pattern {
        ParsePattern::Glob { regex, targets } => {
            let captures = text.and_then(|text| regex.captures(text));
            targets
                .iter()
                .enumerate()
                .map(|(index, slot)| {
                    let value = captures
                        .as_ref()
                        .and_then(|c| c.get(index + 1))
                        .map(|m| m.as_str().to_owned());
                    (*slot, value)
                })
                .collect()
        }
        ParsePattern::Regex { regex, targets } => {
            let captures = text.and_then(|text| regex.captures(text));
            targets
                .iter()
                .map(|(name, slot)| {
                    let value = captures
                        .as_ref()
                        .and_then(|c| c.name(name))
                        .map(|m| m.as_str().to_owned());
                    (*slot, value)
                })
                .collect()
        }
    }
}

/// Runs the per-event commands; `false` when a filter dropped the event.
fn run_event_commands(
    plan: &Plan,
    cells: &mut [Cell],
    record: &LogRecord<'_>,
    discovered: &OnceCell<Vec<Option<String>>>,
) -> bool {
    for command in plan.commands.get(..plan.stream_end).unwrap_or(&[]) {
        match command {
            Command::Filter(condition) => {
                let context = EventContext {
                    plan,
                    record,
                    cells,
                    discovered,
                };
                if truth(condition, &context) != Some(true) {
                    return false;
                }
            }
            Command::Fields(projections) | Command::Display(projections) => {
                for projection in projections {
                    let Some(expr) = &projection.compute else {
                        continue;
                    };
                    let cell = {
                        let context = EventContext {
                            plan,
                            record,
                            cells,
                            discovered,
                        };
                        Cell::from_value(evaluate(expr, &context))
                    };
                    if let Some(target) = cells.get_mut(projection.slot) {
                        *target = cell;
                    }
                }
            }
            Command::Parse(parse) => {
                let extracted = {
                    let context = EventContext {
                        plan,
                        record,
                        cells,
                        discovered,
                    };
                    extract(parse, &context)
                };
                for (slot, value) in extracted {
                    if let Some(target) = cells.get_mut(slot) {
                        *target = value.map_or(Cell::Missing, |v| Cell::Set(Value::Str(v.into())));
                    }
                }
            }
            Command::Stats(_) | Command::Sort(_) | Command::Limit(_) | Command::Dedup(_) => {}
        }
    }
    true
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

fn stats_result_rows(rows: Vec<Row>) -> Vec<BufferedRow> {
    rows.into_iter()
        .zip(0u64..)
        .map(|(slots, sequence)| BufferedRow {
            slots,
            time_ms: None,
            sequence,
            pointer: None,
        })
        .collect()
}

fn compare_keys(
    left: &[Option<Value<'static>>],
    right: &[Option<Value<'static>>],
    keys: &[SortKey],
) -> Ordering {
    for ((a, b), key) in left.iter().zip(right).zip(keys) {
        // Rows without the field go last in either direction.
        let order = match (a, b) {
            (None, None) => Ordering::Equal,
            (None, Some(_)) => Ordering::Greater,
            (Some(_), None) => Ordering::Less,
            (Some(a), Some(b)) => {
                let order = compare_for_sort(a, b);
                if key.descending {
                    order.reverse()
                } else {
                    order
                }
            }
        };
        if order != Ordering::Equal {
            return order;
        }
    }
    Ordering::Equal
}

fn sort_key_values(row: &BufferedRow, keys: &[SortKey]) -> Vec<Option<Value<'static>>> {
    let context = RowContext {
        row: &row.slots,
        time_ms: row.time_ms,
    };
    keys.iter()
        .map(|key| evaluate(&key.expr, &context).map(Value::into_owned))
        .collect()
}

/// Orders rows by `keys` (if any), then newest first, then arrival order.
fn sort_rows(rows: &mut Vec<BufferedRow>, keys: Option<&[SortKey]>) {
    let default_order = |a: &BufferedRow, b: &BufferedRow| {
        b.time_ms
            .cmp(&a.time_ms)
            .then_with(|| a.sequence.cmp(&b.sequence))
    };
    match keys {
        None => rows.sort_by(default_order),
        Some(keys) => {
            let mut keyed: Vec<(Vec<Option<Value<'static>>>, BufferedRow)> = rows
                .drain(..)
                .map(|row| (sort_key_values(&row, keys), row))
                .collect();
            keyed.sort_by(|(ka, a), (kb, b)| {
                compare_keys(ka, kb, keys).then_with(|| default_order(a, b))
            });
            rows.extend(keyed.into_iter().map(|(_, row)| row));
        }
    }
}

fn run_row_command(plan: &Plan, command: &Command, mut rows: Vec<BufferedRow>) -> Vec<BufferedRow> {
    match command {
        Command::Filter(condition) => {
            rows.retain(|row| {
                let context = RowContext {
                    row: &row.slots,
                    time_ms: row.time_ms,
                };
                truth(condition, &context) == Some(true)
            });
            rows
        }
        Command::Fields(projections) | Command::Display(projections) => {
            for row in &mut rows {
                for projection in projections {
                    let Some(expr) = &projection.compute else {
                        continue;
                    };
                    let value = {
                        let context = RowContext {
                            row: &row.slots,
                            time_ms: row.time_ms,
                        };
                        evaluate(expr, &context).map(Value::into_owned)
                    };
                    if let Some(target) = row.slots.get_mut(projection.slot) {
                        *target = value;
                    }
                }
            }
            rows
        }
        Command::Parse(parse) => {
            for row in &mut rows {
                let extracted = {
                    let context = RowContext {
                        row: &row.slots,
                        time_ms: row.time_ms,
                    };
                    extract(parse, &context)
                };
                for (slot, value) in extracted {
                    if let Some(target) = row.slots.get_mut(slot) {
                        *target = value.map(|v| Value::Str(v.into()));
                    }
                }
            }
            rows
        }
        Command::Sort(keys) => {
            // Rows are already in the default order, and the sort is stable, so
            // equal keys keep the newest-first order.
            let mut keyed: Vec<(Vec<Option<Value<'static>>>, BufferedRow)> = rows
                .into_iter()
                .map(|row| (sort_key_values(&row, keys), row))
                .collect();
            keyed.sort_by(|(a, _), (b, _)| compare_keys(a, b, keys));
            keyed.into_iter().map(|(_, row)| row).collect()
        }
        Command::Limit(count) => {
            rows.truncate(*count);
            rows
        }
        Command::Dedup(slots) => {
            let mut seen: HashSet<Vec<String>> = HashSet::new();
            rows.retain(|row| {
                let key: Option<Vec<String>> = slots
                    .iter()
                    .map(|slot| {
                        row.slots
                            .get(*slot)
                            .and_then(Option::as_ref)
                            .map(|v| v.to_text().into_owned())
                    })
                    .collect();
                // Rows missing any of the fields are never duplicates.
                key.is_none_or(|key| seen.insert(key))
            });
            rows
        }
        Command::Stats(stats) => run_stats_over_rows(plan, stats, rows),
    }
}

fn run_stats_over_rows(
    plan: &Plan,
    stats: &StatsCommand,
    rows: Vec<BufferedRow>,
) -> Vec<BufferedRow> {
    let mut state = StatsState::new();
    for row in &rows {
        let context = RowContext {
            row: &row.slots,
            time_ms: row.time_ms,
        };
        state.push(stats, &context);
    }
    stats_result_rows(state.finish(stats, plan.slot_names.len()))
}

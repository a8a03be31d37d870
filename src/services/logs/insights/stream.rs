//! Per-event processing: the commands before the first one that needs all rows.
//!
//! Fields are read from the event lazily and borrowed where possible, so a
//! filter on `@message` neither copies the message nor parses it as JSON; an
//! event's JSON is parsed at most once, the first time a discovered field is
//! asked for. What commands assign is tracked per field in [`Cell`]s, reused
//! across events.

use std::borrow::Cow;
use std::cell::OnceCell;

use super::ast::{Command, Slot};
use super::discovery;
use super::eval::{evaluate, extract, truth, EvalContext};
use super::plan::{Plan, SlotSource};
use super::value::Value;
use super::LogRecord;

/// A field of the event being scanned, as far as the commands so far have set it.
#[derive(Debug, Clone, Default)]
pub(super) enum Cell {
    /// Not assigned by any command: read from the event itself.
    #[default]
    Unset,
    /// Assigned, but to nothing (a failed `parse`, an alias of a missing field).
    Missing,
    Set(Value<'static>),
}

impl Cell {
    pub(super) fn from_value(value: Option<Value<'_>>) -> Cell {
        value.map_or(Cell::Missing, |v| Cell::Set(v.into_owned()))
    }
}

/// Evaluation over the event being scanned: fields a command assigned come from
/// the cells, everything else from the event itself.
pub(super) struct EventContext<'a> {
    pub(super) plan: &'a Plan,
    pub(super) record: &'a LogRecord<'a>,
    pub(super) cells: &'a [Cell],
    pub(super) discovered: &'a OnceCell<Vec<Option<String>>>,
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

/// Runs the per-event commands; `false` when a filter dropped the event.
pub(super) fn run_event_commands(
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

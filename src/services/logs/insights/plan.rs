//! The execution plan derived from a parsed query.
//!
//! Everything about how to run a query that does not depend on the data is
//! decided here, once: where per-event processing ends, which fields a row must
//! keep after its event is gone, which columns the result has, and whether the
//! buffer of rows can be trimmed or the scan stopped early.

use std::collections::HashMap;

use super::ast::{self, Command, Projection, Slot, SortKey};
use super::{DEFAULT_RESULT_ROWS, MAX_RESULT_ROWS};

/// Where a slot's value comes from when no command has assigned it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum SlotSource {
    Timestamp,
    IngestionTime,
    Message,
    LogStream,
    Log,
    Pointer,
    Discovered(usize),
}

#[derive(Debug)]
pub(super) struct Plan {
    pub(super) commands: Vec<Command>,
    pub(super) slot_names: Vec<String>,
    pub(super) slot_sources: Vec<SlotSource>,
    /// Names an event may supply, mapped to their position in the discovery result.
    pub(super) discoverable_fields: HashMap<String, usize>,
    /// Commands before this index run per event.
    pub(super) stream_end: usize,
    /// Slots a buffered row must carry for the later commands and the output.
    pub(super) materialize: Vec<Slot>,
    pub(super) columns: Vec<(String, Slot)>,
    pub(super) default_row_cap: usize,
    /// Whether result rows still correspond to single events (no `stats`).
    pub(super) rows_are_events: bool,
    /// Buffered rows can be trimmed to this many (`usize::MAX`: to the row cap),
    /// ordered by the command at `stream_end` if it is a sort; `None` when later
    /// commands may drop rows.
    pub(super) keep_rows: Option<usize>,
    /// Matching events after which input may stop (`usize::MAX`: the row cap).
    pub(super) early_stop: Option<usize>,
}

impl Plan {
    pub(super) fn new(commands: Vec<Command>, mut slot_names: Vec<String>) -> Self {
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

    pub(super) fn streams_into_stats(&self) -> bool {
        matches!(self.commands.get(self.stream_end), Some(Command::Stats(_)))
    }

    /// The sort the buffer is ordered by before the default order, if any.
    pub(super) fn leading_sort(&self) -> Option<&[SortKey]> {
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

//! The commands after the first one that needs all rows, run over buffered rows.
//!
//! Rows here no longer have their event; they hold only the fields the plan
//! chose to keep. Every buffer is first put in the default order (newest first,
//! then arrival order) so that `sort`, being stable, breaks ties the same way
//! whether or not rows were trimmed while streaming.

use std::cmp::Ordering;
use std::collections::HashSet;

use super::aggregate::{Row, StatsState};
use super::ast::{Command, Slot, SortKey, StatsCommand};
use super::eval::{evaluate, extract, truth, EvalContext};
use super::plan::Plan;
use super::value::{compare_for_sort, Value};

/// A row that outlived its event: only the slots later commands read.
pub(super) struct BufferedRow {
    pub(super) slots: Row,
    /// The event's `@timestamp`, for the default order and `bin()`; `None` for
    /// rows produced by `stats`.
    pub(super) time_ms: Option<i64>,
    /// Arrival order, which breaks ties between equal timestamps.
    pub(super) sequence: u64,
    /// The event's `@ptr`, if the service gave one.
    pub(super) pointer: Option<String>,
}

/// Evaluation over a buffered row, which has only the fields kept for it.
pub(super) struct RowContext<'a> {
    pub(super) row: &'a [Option<Value<'static>>],
    pub(super) time_ms: Option<i64>,
}

impl EvalContext for RowContext<'_> {
    fn field(&self, slot: Slot) -> Option<Value<'_>> {
        self.row.get(slot)?.as_ref().map(Value::reborrow)
    }

    fn record_time_ms(&self) -> Option<i64> {
        self.time_ms
    }
}

pub(super) fn stats_result_rows(rows: Vec<Row>) -> Vec<BufferedRow> {
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
pub(super) fn sort_rows(rows: &mut Vec<BufferedRow>, keys: Option<&[SortKey]>) {
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

pub(super) fn run_row_command(
    plan: &Plan,
    command: &Command,
    mut rows: Vec<BufferedRow>,
) -> Vec<BufferedRow> {
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

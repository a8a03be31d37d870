//! The metric math functions, one small implementation each.
//!
//! Argument types are checked against the "Arguments" column of the user guide's function
//! table (S, TS, TS[]) and rejected with the argument's position otherwise. Documented
//! behaviours implemented here:
//! * SUM/AVG/MIN/MAX/STDDEV/DATAPOINT_COUNT: of one series, a scalar over its points; of an
//!   array, one series over the union of timestamps. AVG counts a missing value as 0
//!   ("Missing values are treated as 0"), so it divides by the number of series; MIN, MAX and
//!   STDDEV use the values present, since a phantom 0 would distort them. STDDEV is the
//!   population standard deviation (AWS does not say which).
//! * DIFF, DIFF_TIME, RATE, RUNNING_SUM work point to point; the first point has no
//!   predecessor and is dropped from DIFF, DIFF_TIME and RATE.
//! * FILL fills the grid timestamps that have no point: with a scalar, with another series'
//!   value at that time, with the most recent earlier value (REPEAT), or by interpolating in
//!   time between the values at either end of the gap (LINEAR). Gaps with no value on the
//!   needed side stay empty.
//! * IF implements the three documented tables (true branch missing → 0; false branch
//!   missing or omitted → dropped; scalar condition picks a whole series).
//! * SORT orders by AVG/MIN/MAX/SUM, keeping series without points last; SLICE takes
//!   `[start, end)` of an array.

use std::borrow::Cow;

use super::eval::{eval, map_points, push_finite, Val};
use super::parser::{Function, Node, NodeKind};
use super::{EvalContext, MathError, MathValue, Series};

/// The most data points GetMetricData returns in one call; non-sparse series are capped here.
const MAX_GRID_POINTS: usize = 100_800;

/// Evaluates a call to `function` at `position`.
pub(super) fn call<'a>(
    function: Function,
    args: &[Node],
    position: usize,
    ctx: &EvalContext<'a>,
) -> Result<Val<'a>, MathError> {
    let call = Call {
        function,
        args,
        position,
        ctx,
    };
    match function {
        Function::Abs => call.elementwise(|series| map_points(series, f64::abs)),
        Function::Ceil => call.elementwise(|series| map_points(series, f64::ceil)),
        Function::Floor => call.elementwise(|series| map_points(series, f64::floor)),
        Function::Log => call.elementwise(|series| map_points(series, f64::ln)),
        Function::Log10 => call.elementwise(|series| map_points(series, f64::log10)),
        Function::Diff => call.elementwise(|series| pairwise(series, |_, a, _, b| b - a)),
        Function::DiffTime => call.elementwise(|series| {
            pairwise(series, |t0, _, t1, _| (t1 as f64 - t0 as f64) / 1000.0)
        }),
        Function::Rate => call.elementwise(|series| {
            pairwise(series, |t0, a, t1, b| {
                (b - a) / ((t1 as f64 - t0 as f64) / 1000.0)
            })
        }),
        Function::RunningSum => call.elementwise(running_sum),
        Function::Avg => call.aggregate(Aggregate::Avg),
        Function::Min => call.aggregate(Aggregate::Min),
        Function::Max => call.aggregate(Aggregate::Max),
        Function::Sum => call.aggregate(Aggregate::Sum),
        Function::Stddev => call.aggregate(Aggregate::Stddev),
        Function::DatapointCount => call.aggregate(Aggregate::Count),
        Function::MetricCount => Ok(Val::Scalar(call.array(0)?.len() as f64)),
        Function::RemoveEmpty => {
            let mut array = call.array(0)?;
            array.retain(|series| !series.timestamps.is_empty());
            Ok(Val::Array(array))
        }
        Function::First | Function::Last => {
            let array = call.array(0)?;
            let picked = if function == Function::First {
                array.into_iter().next()
            } else {
                array.into_iter().next_back()
            };
            Ok(Val::Series(
                picked.unwrap_or_else(|| Cow::Owned(Series::empty(""))),
            ))
        }
        Function::Fill => call.fill(),
        Function::If => call.if_function(),
        Function::Metrics => Ok(call.metrics()),
        Function::Period => call.period(),
        Function::Search => Ok(call.search()),
        Function::Slice => call.slice(),
        Function::Sort => call.sort(),
        Function::TimeSeries => {
            let value = call.scalar(0)?;
            let grid = grid(ctx)?;
            let mut series = Series::empty("");
            for timestamp in grid {
                push_finite(&mut series, timestamp, value);
            }
            Ok(Val::Series(Cow::Owned(series)))
        }
        Function::Minute => call.calendar(|time| f64::from(time.minute)),
        Function::Hour => call.calendar(|time| f64::from(time.hour)),
        Function::Day => call.calendar(|time| f64::from(time.weekday)),
        Function::Date => call.calendar(|time| f64::from(time.day)),
        Function::Month => call.calendar(|time| f64::from(time.month)),
        Function::Year => call.calendar(|time| time.year as f64),
        Function::Epoch => call.calendar(|time| time.epoch_seconds as f64),
        Function::AnomalyDetectionBand
        | Function::InsightRuleMetric
        | Function::ServiceQuota
        | Function::Lambda
        | Function::DbPerfInsights => Err(MathError::Unsupported {
            position,
            name: function.name().to_string(),
        }),
    }
}

/// One call being evaluated, with helpers to fetch its arguments as the needed type.
struct Call<'c, 'a> {
    function: Function,
    args: &'c [Node],
    position: usize,
    ctx: &'c EvalContext<'a>,
}

impl<'a> Call<'_, 'a> {
    fn node(&self, index: usize) -> Result<&Node, MathError> {
        self.args
            .get(index)
            .ok_or_else(|| MathError::ArgumentCount {
                position: self.position,
                name: self.function.name().to_string(),
                expected: "more",
                found: self.args.len(),
            })
    }

    fn value(&self, index: usize) -> Result<(Val<'a>, usize), MathError> {
        let node = self.node(index)?;
        Ok((eval(node, self.ctx)?, node.position))
    }

    fn type_error(&self, index: usize, expected: &str, found: &Val<'_>) -> MathError {
        MathError::ArgumentType {
            position: self
                .args
                .get(index)
                .map_or(self.position, |node| node.position),
            detail: format!(
                "argument {} of {} must be {expected}, not {}",
                index + 1,
                self.function.name(),
                found.type_name()
            ),
        }
    }

    fn scalar(&self, index: usize) -> Result<f64, MathError> {
        match self.value(index)? {
            (Val::Scalar(value), _) => Ok(value),
            (other, _) => Err(self.type_error(index, "a scalar", &other)),
        }
    }

    fn series(&self, index: usize) -> Result<Cow<'a, Series>, MathError> {
        match self.value(index)? {
            (Val::Series(series), _) => Ok(series),
            (other, _) => Err(self.type_error(index, "a time series", &other)),
        }
    }

    fn array(&self, index: usize) -> Result<Vec<Cow<'a, Series>>, MathError> {
        match self.value(index)? {
            (Val::Array(array), _) => Ok(array),
            (other, _) => Err(self.type_error(index, "an array of time series", &other)),
        }
    }

    /// TS → TS and TS[] → TS[] by applying `transform` to each series.
    fn elementwise(&self, transform: impl Fn(&Series) -> Series) -> Result<Val<'a>, MathError> {
        match self.value(0)? {
            (Val::Series(series), _) => Ok(Val::Series(Cow::Owned(transform(&series)))),
            (Val::Array(array), _) => Ok(Val::Array(
                array
                    .iter()
                    .map(|series| Cow::Owned(transform(series)))
                    .collect(),
            )),
            (other, _) => {
                Err(self.type_error(0, "a time series or an array of time series", &other))
            }
        }
    }

    /// TS → S over its points; TS[] → TS across the series at each timestamp.
    fn aggregate(&self, aggregate: Aggregate) -> Result<Val<'a>, MathError> {
        match self.value(0)? {
            (Val::Series(series), _) => Ok(Val::Scalar(aggregate.of_series(&series.values))),
            (Val::Array(array), _) => Ok(Val::Series(Cow::Owned(aggregate.across(&array)))),
            (other, _) => {
                Err(self.type_error(0, "a time series or an array of time series", &other))
            }
        }
    }

    fn fill(&self) -> Result<Val<'a>, MathError> {
        let (target, _) = self.value(0)?;
        let filler_node = self.node(1)?;
        let filler_value;
        let filler = match &filler_node.kind {
            NodeKind::Keyword(word) if word == "REPEAT" => Filler::Repeat,
            NodeKind::Keyword(word) if word == "LINEAR" => Filler::Linear,
            _ => {
                filler_value = eval(filler_node, self.ctx)?;
                match &filler_value {
                    Val::Scalar(value) => Filler::Value(*value),
                    Val::Series(series) => Filler::Series(series),
                    Val::Array(_) => {
                        return Err(self.type_error(
                            1,
                            "a scalar, a time series, REPEAT or LINEAR",
                            &filler_value,
                        ))
                    }
                }
            }
        };
        match target {
            Val::Series(series) => {
                let grid = grid(self.ctx)?;
                Ok(Val::Series(Cow::Owned(fill(&series, &filler, &grid))))
            }
            Val::Array(array) => {
                let grid = grid(self.ctx)?;
                Ok(Val::Array(
                    array
                        .iter()
                        .map(|series| Cow::Owned(fill(series, &filler, &grid)))
                        .collect(),
                ))
            }
            Val::Scalar(_) => {
                Err(self.type_error(0, "a time series or an array of time series", &target))
            }
        }
    }

    fn if_function(&self) -> Result<Val<'a>, MathError> {
        let (condition, _) = self.value(0)?;
        let (when_true, _) = self.value(1)?;
        let when_false = match self.args.get(2) {
            Some(_) => Some(self.value(2)?.0),
            None => None,
        };
        match condition {
            // IF(S, TS, TS): the scalar picks one whole series.
            Val::Scalar(condition) => {
                let when_true = match when_true {
                    Val::Series(series) => series,
                    other => {
                        return Err(self.type_error(
                            1,
                            "a time series when the condition is a scalar",
                            &other,
                        ))
                    }
                };
                let when_false = match when_false {
                    Some(Val::Series(series)) => Some(series),
                    None => None,
                    Some(other) => {
                        return Err(self.type_error(
                            2,
                            "a time series when the condition is a scalar",
                            &other,
                        ))
                    }
                };
                Ok(Val::Series(if condition != 0.0 {
                    when_true
                } else {
                    when_false.unwrap_or_else(|| Cow::Owned(Series::empty("")))
                }))
            }
            Val::Series(condition) => {
                let when_true = Branch::of(when_true).ok_or_else(|| {
                    self.type_error(1, "a scalar or a time series", &Val::Array(Vec::new()))
                })?;
                let when_false = match when_false {
                    None => None,
                    Some(value) => Some(Branch::of(value).ok_or_else(|| {
                        self.type_error(2, "a scalar or a time series", &Val::Array(Vec::new()))
                    })?),
                };
                Ok(Val::Series(Cow::Owned(if_series(
                    &condition,
                    &when_true,
                    when_false.as_ref(),
                ))))
            }
            Val::Array(_) => Err(self.type_error(0, "a scalar or a time series", &condition)),
        }
    }

    fn metrics(&self) -> Val<'a> {
        let filter = match self.args.first().map(|node| &node.kind) {
            Some(NodeKind::Str(filter)) => Some(filter.as_str()),
            _ => None,
        };
        let mut array = Vec::new();
        for id in self.ctx.metric_ids {
            if filter.is_some_and(|filter| !id.contains(filter)) {
                continue;
            }
            match self.ctx.series.get(id) {
                Some(MathValue::Series(series)) => array.push(Cow::Borrowed(series)),
                Some(MathValue::Array(items)) => array.extend(items.iter().map(Cow::Borrowed)),
                Some(MathValue::Scalar(_)) | None => {}
            }
        }
        Val::Array(array)
    }

    fn period(&self) -> Result<Val<'a>, MathError> {
        let node = self.node(0)?;
        let NodeKind::Id(id) = &node.kind else {
            return Err(MathError::ArgumentType {
                position: node.position,
                detail: "PERIOD accepts only the id of a metric".to_string(),
            });
        };
        if !self.ctx.metric_ids.contains(id) {
            return Err(if self.ctx.series.contains_key(id) {
                MathError::ArgumentType {
                    position: node.position,
                    detail: format!(
                        "PERIOD accepts only metrics, and {id} is the result of an expression"
                    ),
                }
            } else {
                MathError::UnknownId {
                    position: node.position,
                    id: id.clone(),
                }
            });
        }
        Ok(Val::Scalar(positive_period(self.ctx)? as f64))
    }

    fn search(&self) -> Val<'a> {
        let text = match self.args.first().map(|node| &node.kind) {
            Some(NodeKind::Str(text)) => text.as_str(),
            _ => "",
        };
        Val::Array(
            self.ctx
                .search_results
                .get(text)
                .map(|found| found.iter().map(Cow::Borrowed).collect())
                .unwrap_or_default(),
        )
    }

    fn index_argument(&self, index: usize) -> Result<usize, MathError> {
        let value = self.scalar(index)?;
        if !(value >= 0.0 && value.fract() == 0.0) {
            return Err(MathError::InvalidArgument {
                position: self
                    .args
                    .get(index)
                    .map_or(self.position, |node| node.position),
                detail: format!(
                    "argument {} of {} must be a whole number of at least 0, not {value}",
                    index + 1,
                    self.function.name()
                ),
            });
        }
        // Saturates for huge values, which then simply exceed the array length.
        Ok(value as usize)
    }

    fn slice(&self) -> Result<Val<'a>, MathError> {
        let mut array = self.array(0)?;
        let start = self.index_argument(1)?.min(array.len());
        let end = match self.args.get(2) {
            Some(_) => self.index_argument(2)?.min(array.len()),
            None => array.len(),
        };
        if start >= end {
            return Ok(Val::Array(Vec::new()));
        }
        array.truncate(end);
        Ok(Val::Array(array.split_off(start)))
    }

    fn sort(&self) -> Result<Val<'a>, MathError> {
        let array = self.array(0)?;
        let keyword = |index: usize| match self.args.get(index).map(|node| &node.kind) {
            Some(NodeKind::Keyword(word)) => word.as_str(),
            _ => "",
        };
        let aggregate = match keyword(1) {
            "AVG" => Aggregate::Avg,
            "MIN" => Aggregate::Min,
            "MAX" => Aggregate::Max,
            _ => Aggregate::Sum,
        };
        let descending = keyword(2) == "DESC";
        let limit = match self.args.get(3) {
            Some(_) => Some(self.index_argument(3)?),
            None => None,
        };
        let mut keyed: Vec<(Option<f64>, Cow<'a, Series>)> = array
            .into_iter()
            .map(|series| {
                let key = (!series.values.is_empty())
                    .then(|| aggregate.of_series(&series.values))
                    .filter(|key| !key.is_nan());
                (key, series)
            })
            .collect();
        // Stable, so ties keep request order; series without a key go last either way.
        keyed.sort_by(|(a, _), (b, _)| match (a, b) {
            (Some(a), Some(b)) if descending => b.total_cmp(a),
            (Some(a), Some(b)) => a.total_cmp(b),
            (Some(_), None) => std::cmp::Ordering::Less,
            (None, Some(_)) => std::cmp::Ordering::Greater,
            (None, None) => std::cmp::Ordering::Equal,
        });
        let mut sorted: Vec<Cow<'a, Series>> =
            keyed.into_iter().map(|(_, series)| series).collect();
        if let Some(limit) = limit {
            sorted.truncate(limit);
        }
        Ok(Val::Array(sorted))
    }

    /// MINUTE, HOUR, DAY, DATE, MONTH, YEAR, EPOCH: a non-sparse series over the query's
    /// grid whose values come from each timestamp, in UTC.
    fn calendar(&self, field: impl Fn(&CalendarTime) -> f64) -> Result<Val<'a>, MathError> {
        let series = self.series(0)?;
        let mut out = Series::empty(series.label.clone());
        for timestamp in grid(self.ctx)? {
            push_finite(
                &mut out,
                timestamp,
                field(&CalendarTime::from_epoch_ms(timestamp)),
            );
        }
        Ok(Val::Series(Cow::Owned(out)))
    }
}

fn positive_period(ctx: &EvalContext<'_>) -> Result<i64, MathError> {
    if ctx.period_seconds <= 0 {
        return Err(MathError::Context {
            detail: format!(
                "the period must be a positive number of seconds, not {}",
                ctx.period_seconds
            ),
        });
    }
    Ok(ctx.period_seconds)
}

/// The timestamps `start_ms + k * period` before `end_ms`.
fn grid(ctx: &EvalContext<'_>) -> Result<Vec<i64>, MathError> {
    let period_seconds = positive_period(ctx)?;
    if ctx.end_ms <= ctx.start_ms {
        return Ok(Vec::new());
    }
    let period_ms = i128::from(period_seconds) * 1000;
    let span = i128::from(ctx.end_ms) - i128::from(ctx.start_ms);
    let count = (span + period_ms - 1) / period_ms;
    if count > MAX_GRID_POINTS as i128 {
        return Err(MathError::TooManyDatapoints {
            period_seconds,
            limit: MAX_GRID_POINTS,
        });
    }
    Ok((0..count)
        .filter_map(|k| i64::try_from(i128::from(ctx.start_ms) + k * period_ms).ok())
        .collect())
}

/// Maps each point and its predecessor to a new value at the point's timestamp.
fn pairwise(series: &Series, f: impl Fn(i64, f64, i64, f64) -> f64) -> Series {
    let mut out = Series::empty(series.label.clone());
    let mut points = series.points();
    let Some(mut previous) = points.next() else {
        return out;
    };
    for current in points {
        push_finite(
            &mut out,
            current.0,
            f(previous.0, previous.1, current.0, current.1),
        );
        previous = current;
    }
    out
}

fn running_sum(series: &Series) -> Series {
    let mut total = 0.0;
    map_points(series, |value| {
        total += value;
        total
    })
}

#[derive(Clone, Copy)]
enum Aggregate {
    Avg,
    Min,
    Max,
    Sum,
    Stddev,
    Count,
}

impl Aggregate {
    /// The aggregate of a set of values; NaN where it is undefined (AVG of nothing).
    fn of_series(self, values: &[f64]) -> f64 {
        let count = values.len() as f64;
        match self {
            Aggregate::Sum => values.iter().sum(),
            Aggregate::Count => count,
            _ if values.is_empty() => f64::NAN,
            Aggregate::Avg => values.iter().sum::<f64>() / count,
            Aggregate::Min => values.iter().copied().fold(f64::INFINITY, f64::min),
            Aggregate::Max => values.iter().copied().fold(f64::NEG_INFINITY, f64::max),
            Aggregate::Stddev => {
                let mean = values.iter().sum::<f64>() / count;
                let variance = values.iter().map(|v| (v - mean) * (v - mean)).sum::<f64>() / count;
                variance.sqrt()
            }
        }
    }

    /// One series holding the aggregate across `array` at every timestamp any of them has.
    fn across(self, array: &[Cow<'_, Series>]) -> Series {
        let mut timestamps: Vec<i64> = array
            .iter()
            .flat_map(|series| series.timestamps.iter().copied())
            .collect();
        timestamps.sort_unstable();
        timestamps.dedup();
        let mut cursors: Vec<Cursor<'_>> = array.iter().map(|series| Cursor::new(series)).collect();
        let mut present = Vec::with_capacity(array.len());
        let mut out = Series::empty("");
        for timestamp in timestamps {
            present.clear();
            present.extend(
                cursors
                    .iter_mut()
                    .filter_map(|cursor| cursor.value_at(timestamp)),
            );
            let value = match self {
                // A missing value counts as 0, so the mean is over every series.
                Aggregate::Avg => present.iter().sum::<f64>() / array.len() as f64,
                _ => self.of_series(&present),
            };
            push_finite(&mut out, timestamp, value);
        }
        out
    }
}

/// Walks a series in time order to look up values at ascending timestamps.
struct Cursor<'s> {
    series: &'s Series,
    index: usize,
}

impl<'s> Cursor<'s> {
    fn new(series: &'s Series) -> Cursor<'s> {
        Cursor { series, index: 0 }
    }

    /// The value at `timestamp`; calls must come with non-decreasing timestamps.
    fn value_at(&mut self, timestamp: i64) -> Option<f64> {
        while self
            .series
            .timestamps
            .get(self.index)
            .is_some_and(|t| *t < timestamp)
        {
            self.index += 1;
        }
        match self.series.timestamps.get(self.index) {
            Some(t) if *t == timestamp => self.series.values.get(self.index).copied(),
            _ => None,
        }
    }
}

enum Filler<'s> {
    Value(f64),
    Series(&'s Series),
    Repeat,
    Linear,
}

/// The series with every grid timestamp it lacks filled as `filler` says.
fn fill(series: &Series, filler: &Filler<'_>, grid: &[i64]) -> Series {
    // Merge the series' own points with the grid: (timestamp, value if present).
    let mut slots: Vec<(i64, Option<f64>)> =
        Vec::with_capacity(series.timestamps.len() + grid.len());
    let mut own = series.points().peekable();
    let mut steps = grid.iter().copied().peekable();
    loop {
        match (own.peek().copied(), steps.peek().copied()) {
            (None, None) => break,
            (Some((t, v)), Some(g)) if t == g => {
                own.next();
                steps.next();
                slots.push((t, Some(v)));
            }
            (Some((t, v)), Some(g)) if t < g => {
                own.next();
                slots.push((t, Some(v)));
            }
            (Some((t, v)), None) => {
                own.next();
                slots.push((t, Some(v)));
            }
            (_, Some(g)) => {
                steps.next();
                slots.push((g, None));
            }
        }
    }
    match filler {
        Filler::Value(value) => {
            for slot in slots.iter_mut().filter(|slot| slot.1.is_none()) {
                slot.1 = Some(*value);
            }
        }
        Filler::Series(source) => {
            let mut cursor = Cursor::new(source);
            for slot in &mut slots {
                let from_source = cursor.value_at(slot.0);
                if slot.1.is_none() {
                    slot.1 = from_source;
                }
            }
        }
        Filler::Repeat => {
            let mut last = None;
            for slot in &mut slots {
                match slot.1 {
                    Some(value) => last = Some(value),
                    None => slot.1 = last,
                }
            }
        }
        Filler::Linear => interpolate_gaps(&mut slots),
    }
    let mut out = Series::empty(series.label.clone());
    for (timestamp, value) in slots {
        if let Some(value) = value {
            push_finite(&mut out, timestamp, value);
        }
    }
    out
}

/// Fills every gap that has a known value on both sides by linear interpolation in time.
fn interpolate_gaps(slots: &mut [(i64, Option<f64>)]) {
    let mut previous_known: Option<(usize, i64, f64)> = None;
    for index in 0..slots.len() {
        let Some(&(t1, Some(v1))) = slots.get(index) else {
            continue;
        };
        if let Some((start, t0, v0)) = previous_known {
            let span = t1 as f64 - t0 as f64;
            for slot in slots.iter_mut().take(index).skip(start + 1) {
                let fraction = (slot.0 as f64 - t0 as f64) / span;
                slot.1 = Some(v0 + (v1 - v0) * fraction);
            }
        }
        previous_known = Some((index, t1, v1));
    }
}

/// A branch of IF with a time-series condition.
enum Branch<'a> {
    Scalar(f64),
    Series(Cow<'a, Series>),
}

impl<'a> Branch<'a> {
    fn of(value: Val<'a>) -> Option<Branch<'a>> {
        match value {
            Val::Scalar(value) => Some(Branch::Scalar(value)),
            Val::Series(series) => Some(Branch::Series(series)),
            Val::Array(_) => None,
        }
    }
}

/// IF with a series condition: one output point per condition point.
fn if_series(
    condition: &Series,
    when_true: &Branch<'_>,
    when_false: Option<&Branch<'_>>,
) -> Series {
    let mut true_cursor = match when_true {
        Branch::Series(series) => Some(Cursor::new(series)),
        Branch::Scalar(_) => None,
    };
    let mut false_cursor = match when_false {
        Some(Branch::Series(series)) => Some(Cursor::new(series)),
        _ => None,
    };
    let mut out = Series::empty(condition.label.clone());
    for (timestamp, test) in condition.points() {
        let true_value = true_cursor
            .as_mut()
            .map(|cursor| cursor.value_at(timestamp));
        let false_value = false_cursor
            .as_mut()
            .map(|cursor| cursor.value_at(timestamp));
        let value = if test != 0.0 {
            match (when_true, true_value) {
                (Branch::Scalar(value), _) => Some(*value),
                // "has the value of 0, if ... TRUE and the corresponding data point does not
                // exist in metric2"
                (Branch::Series(_), found) => Some(found.flatten().unwrap_or(0.0)),
            }
        } else {
            match (when_false, false_value) {
                (Some(Branch::Scalar(value)), _) => Some(*value),
                (Some(Branch::Series(_)), found) => found.flatten(),
                (None, _) => None,
            }
        };
        if let Some(value) = value {
            push_finite(&mut out, timestamp, value);
        }
    }
    out
}

/// The UTC calendar fields of a timestamp.
struct CalendarTime {
    year: i64,
    month: u32,
    day: u32,
    /// 1 = Monday ... 7 = Sunday, so `DAY(m1) < 6` keeps weekdays as documented.
    weekday: u32,
    hour: u32,
    minute: u32,
    epoch_seconds: i64,
}

impl CalendarTime {
    fn from_epoch_ms(epoch_ms: i64) -> CalendarTime {
        let epoch_seconds = epoch_ms.div_euclid(1000);
        let days = epoch_seconds.div_euclid(86_400);
        let second_of_day = epoch_seconds.rem_euclid(86_400);
        // Days since 0000-03-01 in the proleptic Gregorian calendar, split into 400-year
        // eras so leap years fall at fixed offsets.
        let shifted = days + 719_468;
        let era = shifted.div_euclid(146_097);
        let day_of_era = shifted.rem_euclid(146_097);
        let year_of_era =
            (day_of_era - day_of_era / 1460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
        let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
        let month_from_march = (5 * day_of_year + 2) / 153;
        let day = day_of_year - (153 * month_from_march + 2) / 5 + 1;
        let month = if month_from_march < 10 {
            month_from_march + 3
        } else {
            month_from_march - 9
        };
        let year = year_of_era + era * 400 + i64::from(month <= 2);
        CalendarTime {
            year,
            month: u32::try_from(month).unwrap_or(1),
            day: u32::try_from(day).unwrap_or(1),
            // 1970-01-01 was a Thursday (4).
            weekday: u32::try_from((days + 3).rem_euclid(7) + 1).unwrap_or(1),
            hour: u32::try_from(second_of_day / 3600).unwrap_or(0),
            minute: u32::try_from(second_of_day % 3600 / 60).unwrap_or(0),
            epoch_seconds,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn calendar_fields_in_utc() {
        // (epoch ms, year, month, day, weekday, hour, minute)
        let cases = [
            (0_i64, 1970, 1, 1, 4, 0, 0),
            (951_782_400_000, 2000, 2, 29, 2, 0, 0),
            (1_704_067_199_000, 2023, 12, 31, 7, 23, 59),
            (1_709_210_096_000, 2024, 2, 29, 4, 12, 34),
            (1_713_139_200_000, 2024, 4, 15, 1, 0, 0),
            (-1_000, 1969, 12, 31, 3, 23, 59),
        ];
        for (ms, year, month, day, weekday, hour, minute) in cases {
            let time = CalendarTime::from_epoch_ms(ms);
            assert_eq!(
                (
                    time.year,
                    time.month,
                    time.day,
                    time.weekday,
                    time.hour,
                    time.minute
                ),
                (year, month, day, weekday, hour, minute),
                "{ms}"
            );
        }
        // Extreme inputs must not overflow.
        let _ = CalendarTime::from_epoch_ms(i64::MIN);
        let _ = CalendarTime::from_epoch_ms(i64::MAX);
    }

    #[test]
    fn linear_interpolation_is_in_time() {
        let mut slots = vec![
            (0, None),
            (60, Some(10.0)),
            (120, None),
            (180, None),
            (240, Some(40.0)),
            (300, None),
        ];
        interpolate_gaps(&mut slots);
        assert_eq!(
            slots,
            vec![
                (0, None),
                (60, Some(10.0)),
                (120, Some(20.0)),
                (180, Some(30.0)),
                (240, Some(40.0)),
                (300, None),
            ]
        );
    }
}

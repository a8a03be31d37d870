//! PutMetricData, ListMetrics, GetMetricStatistics and GetMetricData.
//!
//! The limits and rules below are the ones the CloudWatch API reference documents for each
//! operation; the model's own constraints were already checked by the protocol layer.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::str::FromStr;

use base64::Engine;
use serde_json::Value;

use super::chunk::StoredPoint;
use super::math::{
    evaluate, EvalContext, Expression, MathError, MathValue, SearchCall, SearchQuery, Series,
};
use super::repo::{parse_dimensions, MetricsRepo, SeriesFilter, SeriesKey};
use super::stats::{Aggregate, ExtendedStatistic, Sample, Statistic};
use super::types::*;
use super::{CloudWatchError, Result};
use crate::context::RequestContext;
use crate::services::input;

const MAX_METRIC_DATA: usize = 1000;
const MAX_VALUES: usize = 150;
/// Values must lie within ±2^360 (PutMetricData reference).
const MAX_MAGNITUDE: f64 = 2.348_542_582_773_833_3e108;
const MAX_PAST_MS: i64 = 14 * 24 * 3_600_000;
const MAX_FUTURE_MS: i64 = 2 * 3_600_000;
const MAX_DATAPOINTS: i64 = 1_440;
const LIST_METRICS_PAGE: usize = 500;
const DEFAULT_MAX_DATAPOINTS: i64 = 100_800;
const MAX_QUERIES: usize = 500;

fn invalid(message: impl Into<String>) -> CloudWatchError {
    CloudWatchError::InvalidParameterValue(message.into())
}

fn combination(message: impl Into<String>) -> CloudWatchError {
    CloudWatchError::InvalidParameterCombination(message.into())
}

/// A parameter name, formatted only if an error needs it.
type ParamName<'a> = &'a dyn Fn() -> String;

fn check_value(value: f64, parameter: ParamName<'_>) -> Result<()> {
    if !value.is_finite() || value.abs() > MAX_MAGNITUDE {
        return Err(invalid(format!(
            "The value {} for parameter {} is invalid: values must be in the range -2^360 to 2^360.",
            java_double(value),
            parameter()
        )));
    }
    Ok(())
}

/// A double as AWS's (Java) messages print it: `1.0E308`, not 309 digits.
fn java_double(value: f64) -> String {
    let magnitude = value.abs();
    if !value.is_finite() {
        return value.to_string();
    }
    if value == 0.0 || (1e-3..1e7).contains(&magnitude) {
        // Java writes integral doubles with one decimal: `-2.0`.
        return if value.fract() == 0.0 {
            format!("{value:.1}")
        } else {
            value.to_string()
        };
    }
    let scientific = format!("{value:e}");
    let (mantissa, exponent) = scientific.split_once('e').unwrap_or((&scientific, "0"));
    if mantissa.contains('.') {
        format!("{mantissa}E{exponent}")
    } else {
        format!("{mantissa}.0E{exponent}")
    }
}

fn unit_of(unit: Option<&str>, parameter: &str) -> Result<u8> {
    match unit {
        None => Ok(0),
        Some(u) => unit_code(u).ok_or_else(|| {
            invalid(format!(
                "The value {u} for parameter {parameter} is invalid."
            ))
        }),
    }
}

/// https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/API_PutMetricData.html
pub async fn put_metric_data(repo: &MetricsRepo, ctx: &RequestContext, doc: Value) -> Result<()> {
    let request: PutMetricDataInput = input(doc)?;
    if request.namespace.starts_with("AWS/") {
        return Err(invalid(format!(
            "The value {} for parameter Namespace is invalid: the AWS/ prefix is reserved for AWS services.",
            request.namespace
        )));
    }
    if request.metric_data.is_empty() {
        return Err(CloudWatchError::MissingParameter(
            "The parameter MetricData is required.".into(),
        ));
    }
    if request.metric_data.len() > MAX_METRIC_DATA {
        return Err(invalid(format!(
            "The collection MetricData must not have a size greater than {MAX_METRIC_DATA}."
        )));
    }
    let mut points = Vec::with_capacity(request.metric_data.len());
    for (i, datum) in request.metric_data.iter().enumerate() {
        let p = MemberParam(i + 1);
        let mut names = HashSet::with_capacity(datum.dimensions.len());
        for d in &datum.dimensions {
            if !names.insert(d.name.as_str()) {
                return Err(invalid(format!(
                    "The dimension name {} appears more than once in {p}.Dimensions.",
                    d.name
                )));
            }
        }
        let given = [
            datum.value.is_some(),
            datum.statistic_values.is_some(),
            datum.values.is_some(),
        ];
        if given.iter().filter(|g| **g).count() > 1 {
            let names: Vec<&str> = ["Value", "StatisticValues", "Values"]
                .iter()
                .zip(given)
                .filter(|(_, g)| *g)
                .map(|(n, _)| *n)
                .collect();
            return Err(combination(format!(
                "The parameters {p}.{} and {p}.{} are mutually exclusive and you have specified both.",
                names[0], names[1]
            )));
        }
        let sample = if let Some(v) = datum.value {
            check_value(v, &|| format!("{p}.Value"))?;
            Sample::Single(v)
        } else if let Some(set) = &datum.statistic_values {
            for (name, v) in [
                ("SampleCount", set.sample_count),
                ("Sum", set.sum),
                ("Minimum", set.minimum),
                ("Maximum", set.maximum),
            ] {
                check_value(v, &|| format!("{p}.StatisticValues.{name}"))?;
            }
            if set.sample_count <= 0.0 {
                return Err(invalid(format!(
                    "The value {} for parameter {p}.StatisticValues.SampleCount is invalid: it must be greater than 0.",
                    set.sample_count
                )));
            }
            if set.minimum > set.maximum {
                return Err(invalid(format!(
                    "The parameter {p}.StatisticValues.Minimum must be less than or equal to {p}.StatisticValues.Maximum."
                )));
            }
            Sample::Set {
                sample_count: set.sample_count,
                sum: set.sum,
                minimum: set.minimum,
                maximum: set.maximum,
            }
        } else if let Some(values) = &datum.values {
            if values.len() > MAX_VALUES {
                return Err(invalid(format!(
                    "The collection {p}.Values must not have a size greater than {MAX_VALUES}."
                )));
            }
            for v in values {
                check_value(*v, &|| format!("{p}.Values"))?;
            }
            let counts = match &datum.counts {
                Some(c) if c.len() != values.len() => {
                    return Err(invalid(format!(
                        "The parameters {p}.Values and {p}.Counts must be of the same size."
                    )))
                }
                Some(c) => {
                    // Counts obey the range of values: a count of 1e308 would make the
                    // datapoint's SampleCount, Sum and Average infinite, and statistics could
                    // answer none of them.
                    for n in c {
                        check_value(*n, &|| format!("{p}.Counts"))?;
                        if *n < 0.0 {
                            return Err(invalid(format!(
                                "The value {} for parameter {p}.Counts is invalid: counts must not be negative.",
                                java_double(*n)
                            )));
                        }
                    }
                    // With no sample at all, Average would be 0/0.
                    if !c.is_empty() && c.iter().all(|n| *n == 0.0) {
                        return Err(invalid(format!(
                            "The parameter {p}.Counts must contain at least one count greater than 0."
                        )));
                    }
                    c.clone()
                }
                None => vec![1.0; values.len()],
            };
            if values.is_empty() {
                return Err(invalid(format!(
                    "The collection {p}.Values must not be empty."
                )));
            }
            Sample::Values {
                values: values.clone(),
                counts,
            }
        } else {
            return Err(CloudWatchError::MissingParameter(format!(
                "The parameter {p}.Value is required: specify one of Value, StatisticValues or Values."
            )));
        };
        let high_resolution = match datum.storage_resolution {
            None | Some(60) => false,
            Some(1) => true,
            Some(other) => {
                return Err(invalid(format!(
                    "The value {other} for parameter {p}.StorageResolution is invalid: valid values are 1 and 60."
                )))
            }
        };
        let timestamp_ms = match datum.timestamp {
            None => ctx.now_ms,
            Some(t) => {
                let ms = (t * 1000.0).round() as i64;
                if ms < ctx.now_ms - MAX_PAST_MS || ms > ctx.now_ms + MAX_FUTURE_MS {
                    return Err(invalid(format!(
                        "The parameter {p}.Timestamp must specify a time no more than two weeks in the past and no more than two hours in the future."
                    )));
                }
                ms
            }
        };
        let unit = match datum.unit.as_deref() {
            None => 0,
            Some(u) => unit_of(Some(u), &format!("{p}.Unit"))?,
        };
        let key = SeriesKey::new(
            &ctx.account_id,
            &ctx.region,
            &request.namespace,
            &datum.metric_name,
            &datum.dimensions,
        );
        points.push((
            key,
            StoredPoint {
                timestamp_ms,
                unit,
                high_resolution,
                sample,
            },
        ));
    }
    repo.put(points, ctx.now_ms).await?;
    Ok(())
}

/// `MetricData.member.N`, written out only when a message needs it.
#[derive(Clone, Copy)]
struct MemberParam(usize);

impl std::fmt::Display for MemberParam {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "MetricData.member.{}", self.0)
    }
}

fn encode_token(prefix: &str, position: i64) -> String {
    base64::engine::general_purpose::STANDARD.encode(format!("{prefix}:{position}"))
}

fn decode_token(prefix: &str, token: &str) -> Option<i64> {
    let raw = base64::engine::general_purpose::STANDARD
        .decode(token)
        .ok()?;
    let text = String::from_utf8(raw).ok()?;
    text.strip_prefix(prefix)?.strip_prefix(':')?.parse().ok()
}

/// https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/API_ListMetrics.html
pub async fn list_metrics(
    repo: &MetricsRepo,
    ctx: &RequestContext,
    doc: Value,
) -> Result<ListMetricsOutput> {
    let request: ListMetricsInput = input(doc)?;
    let after_id = match &request.next_token {
        None => 0,
        Some(t) => decode_token("lm", t)
            .ok_or_else(|| invalid(format!("The value {t} for parameter NextToken is invalid.")))?,
    };
    let active_since = match request.recently_active.as_deref() {
        None => None,
        Some("PT3H") => Some(ctx.now_ms - 3 * 3_600_000),
        Some(other) => {
            return Err(invalid(format!(
                "The value {other} for parameter RecentlyActive is invalid."
            )))
        }
    };
    let mut metrics = Vec::new();
    let mut cursor = after_id;
    let mut next_token = None;
    'scan: loop {
        let filter = SeriesFilter {
            account_id: &ctx.account_id,
            region: &ctx.region,
            namespace: request.namespace.as_deref(),
            metric_name: request.metric_name.as_deref(),
            active_since_ms: active_since,
        };
        let rows = repo.list_series(&filter, cursor, 1_000).await?;
        let exhausted = rows.len() < 1_000;
        for row in rows {
            cursor = row.id;
            let dimensions = parse_dimensions(&row.dimensions);
            let wanted = request.dimensions.iter().all(|f| {
                dimensions
                    .iter()
                    .any(|d| d.name == f.name && f.value.as_ref().is_none_or(|v| *v == d.value))
            });
            if !wanted {
                continue;
            }
            if metrics.len() == LIST_METRICS_PAGE {
                next_token = Some(encode_token("lm", metrics_last_id(&metrics, cursor)));
                break 'scan;
            }
            metrics.push((
                row.id,
                Metric {
                    namespace: Some(row.namespace),
                    metric_name: Some(row.metric_name),
                    dimensions,
                },
            ));
        }
        if exhausted {
            break;
        }
    }
    let owning_accounts = (request.include_linked_accounts == Some(true))
        .then(|| vec![ctx.account_id.clone(); metrics.len()]);
    Ok(ListMetricsOutput {
        metrics: metrics.into_iter().map(|(_, m)| m).collect(),
        next_token,
        owning_accounts,
    })
}

/// The token resumes after the last metric returned, not after the one that overflowed.
fn metrics_last_id(metrics: &[(i64, Metric)], fallback: i64) -> i64 {
    metrics.last().map(|(id, _)| *id).unwrap_or(fallback)
}

/// CloudWatch's rounding of StartTime (GetMetricStatistics reference): to the minute within
/// 15 days, 5 minutes within 63 days, else the hour; high-resolution periods round to their
/// own multiple of seconds.
fn round_start(start_ms: i64, period: i64, now_ms: i64) -> i64 {
    // Saturating: client times are dates (see protocol::timestamp::in_range), but this must
    // not wrap whatever a caller passes.
    let age = now_ms.saturating_sub(start_ms);
    let unit_ms = if period < 60 {
        period.saturating_mul(1000)
    } else if age <= 15 * 86_400_000 {
        60_000
    } else if age <= 63 * 86_400_000 {
        300_000
    } else {
        3_600_000
    };
    start_ms.div_euclid(unit_ms) * unit_ms
}

fn check_period(period: i64, parameter: &str) -> Result<()> {
    let valid = period > 0 && (period % 60 == 0 || [1, 5, 10, 20, 30].contains(&period));
    if valid {
        Ok(())
    } else {
        Err(invalid(format!(
            "The parameter {parameter} must be 1, 5, 10, 20, 30, or a multiple of 60."
        )))
    }
}

/// Up to this many buckets per unit are kept in a dense vector indexed by bucket number;
/// longer ranges (sparse data over many periods) use an ordered map.
const DENSE_BUCKETS: i64 = 200_000;

/// One unit's aggregates, one slot per bucket.
type UnitSlots = (u8, Vec<Option<Aggregate>>);

/// Aggregates points into period buckets starting at `start_ms`, keyed by (bucket, unit) when
/// `split_units` (GetMetricStatistics reports each unit apart), else by bucket alone.
struct Buckets {
    start_ms: i64,
    period_ms: i64,
    keep_values: bool,
    unit_filter: Option<u8>,
    split_units: bool,
    /// The bucket count and, per unit seen, one slot per bucket.
    dense: Option<(usize, Vec<UnitSlots>)>,
    sparse: BTreeMap<(i64, u8), Aggregate>,
}

impl Buckets {
    fn new(
        start_ms: i64,
        end_ms: i64,
        period_ms: i64,
        keep_values: bool,
        unit_filter: Option<u8>,
        split_units: bool,
    ) -> Self {
        let count = (end_ms - start_ms + period_ms - 1) / period_ms;
        let dense = (count <= DENSE_BUCKETS)
            .then(|| (usize::try_from(count.max(0)).unwrap_or(0), Vec::new()));
        Buckets {
            start_ms,
            period_ms,
            keep_values,
            unit_filter,
            split_units,
            dense,
            sparse: BTreeMap::new(),
        }
    }

    fn add(&mut self, p: &StoredPoint) {
        if self.unit_filter.is_some_and(|u| u != p.unit) {
            return;
        }
        let index = (p.timestamp_ms - self.start_ms).div_euclid(self.period_ms);
        let unit = if self.split_units { p.unit } else { 0 };
        let keep = self.keep_values;
        match &mut self.dense {
            Some((count, units)) => {
                let Ok(i) = usize::try_from(index) else {
                    return;
                };
                let slots = match units.iter_mut().position(|(u, _)| *u == unit) {
                    Some(at) => &mut units[at].1,
                    None => {
                        units.push((unit, vec![None; *count]));
                        let last = units.len() - 1;
                        &mut units[last].1
                    }
                };
                if let Some(slot) = slots.get_mut(i) {
                    slot.get_or_insert_with(|| Aggregate::new_with_values(keep))
                        .add(&p.sample);
                }
            }
            None => {
                let bucket = self.start_ms + index * self.period_ms;
                self.sparse
                    .entry((bucket, unit))
                    .or_insert_with(|| Aggregate::new_with_values(keep))
                    .add(&p.sample);
            }
        }
    }

    /// Buckets with data, ordered by (bucket start, unit).
    fn into_sorted(self) -> Vec<((i64, u8), Aggregate)> {
        let Some((_, units)) = self.dense else {
            return self.sparse.into_iter().collect();
        };
        let mut out: Vec<((i64, u8), Aggregate)> = Vec::new();
        for (unit, slots) in units {
            for (i, slot) in slots.into_iter().enumerate() {
                if let Some(agg) = slot {
                    out.push(((self.start_ms + i as i64 * self.period_ms, unit), agg));
                }
            }
        }
        out.sort_by_key(|(key, _)| *key);
        out
    }
}

/// https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/API_GetMetricStatistics.html
pub async fn get_metric_statistics(
    repo: &MetricsRepo,
    ctx: &RequestContext,
    doc: Value,
) -> Result<GetMetricStatisticsOutput> {
    let request: GetMetricStatisticsInput = input(doc)?;
    check_period(request.period, "Period")?;
    match (request.statistics.is_empty(), request.extended_statistics.is_empty()) {
        (true, true) => {
            return Err(combination("At least one of the parameters Statistics and ExtendedStatistics must be specified."))
        }
        (false, false) => {
            return Err(combination(
                "The parameters Statistics and ExtendedStatistics are mutually exclusive and you have specified both.",
            ))
        }
        _ => {}
    }
    let statistics = request
        .statistics
        .iter()
        .map(|s| {
            Statistic::from_str(s).map_err(|_| {
                invalid(format!(
                    "The value {s} for parameter Statistics is invalid."
                ))
            })
        })
        .collect::<Result<Vec<_>>>()?;
    let extended = request
        .extended_statistics
        .iter()
        .map(|s| {
            ExtendedStatistic::from_str(s)
                .map(|e| (s.clone(), e))
                .map_err(|e| {
                    invalid(format!(
                        "The value {s} for parameter ExtendedStatistics is invalid: {e}"
                    ))
                })
        })
        .collect::<Result<Vec<_>>>()?;
    let start = (request.start_time * 1000.0).round() as i64;
    let end = (request.end_time * 1000.0).round() as i64;
    if start == end {
        return Err(invalid(
            "The parameter StartTime must not equal parameter EndTime.",
        ));
    }
    if start > end {
        return Err(invalid(
            "The parameter StartTime must be less than the parameter EndTime.",
        ));
    }
    let start = round_start(start, request.period, ctx.now_ms);
    let period_ms = request.period.saturating_mul(1000);
    let requested = end
        .saturating_sub(start)
        .saturating_add(period_ms.saturating_sub(1))
        / period_ms.max(1);
    if requested > MAX_DATAPOINTS {
        return Err(combination(format!(
            "You have requested up to {requested} datapoints, which exceeds the limit of 1440. You may reduce the datapoints requested by increasing Period, or decreasing the time range."
        )));
    }
    let unit_filter = request
        .unit
        .as_deref()
        .map(|u| unit_of(Some(u), "Unit"))
        .transpose()?;
    let key = SeriesKey::new(
        &ctx.account_id,
        &ctx.region,
        &request.namespace,
        &request.metric_name,
        &request.dimensions,
    );
    let mut datapoints = Vec::new();
    if let Some(series) = repo.find_series(&key).await? {
        let mut buckets = Buckets::new(
            start,
            end,
            period_ms,
            !extended.is_empty(),
            unit_filter,
            true,
        );
        repo.visit_points(series, start, end, |p| buckets.add(&p))
            .await?;
        for ((bucket, unit), agg) in buckets.into_sorted() {
            let mut dp = Datapoint {
                timestamp: bucket as f64 / 1000.0,
                unit: Some(unit_name(unit).to_string()),
                ..Default::default()
            };
            for s in &statistics {
                let v = agg.statistic(*s);
                match s {
                    Statistic::SampleCount => dp.sample_count = v,
                    Statistic::Average => dp.average = v,
                    Statistic::Sum => dp.sum = v,
                    Statistic::Minimum => dp.minimum = v,
                    Statistic::Maximum => dp.maximum = v,
                }
            }
            if !extended.is_empty() {
                let map: BTreeMap<String, f64> = extended
                    .iter()
                    .filter_map(|(name, e)| agg.extended(e).map(|v| (name.clone(), v)))
                    .collect();
                dp.extended_statistics = Some(map);
            }
            datapoints.push(dp);
        }
    }
    Ok(GetMetricStatisticsOutput {
        label: request.metric_name,
        datapoints,
    })
}

/// A parsed `Stat` of a MetricStat query.
enum Stat {
    Basic(Statistic),
    Extended(ExtendedStatistic),
}

fn parse_stat(text: &str, parameter: &str) -> Result<Stat> {
    if let Ok(s) = Statistic::from_str(text) {
        return Ok(Stat::Basic(s));
    }
    ExtendedStatistic::from_str(text)
        .map(Stat::Extended)
        .map_err(|_| {
            invalid(format!(
                "The value {text} for parameter {parameter} is not a valid statistic."
            ))
        })
}

/// https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/API_GetMetricData.html
pub async fn get_metric_data(
    repo: &MetricsRepo,
    ctx: &RequestContext,
    doc: Value,
) -> Result<GetMetricDataOutput> {
    let request: GetMetricDataInput = input(doc)?;
    let queries = &request.metric_data_queries;
    if queries.is_empty() {
        return Err(CloudWatchError::MissingParameter(
            "The parameter MetricDataQueries is required.".into(),
        ));
    }
    if queries.len() > MAX_QUERIES {
        return Err(invalid(format!(
            "The collection MetricDataQueries must not have a size greater than {MAX_QUERIES}."
        )));
    }
    let start = (request.start_time * 1000.0).round() as i64;
    let end = (request.end_time * 1000.0).round() as i64;
    // GetMetricData answers these with the generic ValidationError, unlike GetMetricStatistics.
    if start == end {
        return Err(CloudWatchError::Validation(
            "The parameter StartTime must not equal parameter EndTime.".into(),
        ));
    }
    if start > end {
        return Err(CloudWatchError::Validation(
            "The parameter EndTime must be greater than StartTime.".into(),
        ));
    }
    let descending = match request.scan_by.as_deref() {
        None | Some("TimestampDescending") => true,
        Some("TimestampAscending") => false,
        Some(other) => {
            return Err(invalid(format!(
                "The value {other} for parameter ScanBy is invalid."
            )))
        }
    };
    let max_datapoints = request.max_datapoints.unwrap_or(DEFAULT_MAX_DATAPOINTS);
    if max_datapoints < 1 {
        return Err(invalid(
            "The parameter MaxDatapoints must be greater than 0.",
        ));
    }
    let offset = match &request.next_token {
        None => 0,
        Some(t) => decode_token("gmd", t).ok_or_else(|| {
            CloudWatchError::InvalidNextToken(format!(
                "The value {t} for parameter NextToken is invalid."
            ))
        })?,
    };

    let mut seen = HashSet::new();
    for (i, q) in queries.iter().enumerate() {
        let p = format!("MetricDataQueries.member.{}", i + 1);
        if !is_valid_query_id(&q.id) {
            return Err(invalid(format!(
                "The value {} for parameter {p}.Id is invalid: it must start with a lowercase letter and contain only letters, numbers and underscores.",
                q.id
            )));
        }
        if !seen.insert(q.id.as_str()) {
            return Err(invalid(format!(
                "The value {} for parameter {p}.Id is not unique.",
                q.id
            )));
        }
        match (&q.metric_stat, &q.expression) {
            (Some(_), Some(_)) => {
                return Err(combination(format!(
                    "The parameters {p}.MetricStat and {p}.Expression are mutually exclusive and you have specified both."
                )))
            }
            (None, None) => {
                return Err(combination(format!("Exactly one of {p}.MetricStat and {p}.Expression must be specified.")))
            }
            _ => {}
        }
    }
    if !queries.iter().any(|q| q.return_data.unwrap_or(true)) {
        return Err(invalid(
            "At least one query must have ReturnData set to true.",
        ));
    }

    // Metric queries first (all of them: expressions may use those with ReturnData false),
    // then expressions in dependency order through the metric math engine.
    let mut computed: HashMap<String, MathValue> = HashMap::new();
    let mut metric_ids: Vec<String> = Vec::new();
    let mut metric_periods: Vec<i64> = Vec::new();
    for (i, q) in queries.iter().enumerate() {
        let p = format!("MetricDataQueries.member.{}", i + 1);
        let Some(stat) = &q.metric_stat else { continue };
        check_period(stat.period, &format!("{p}.MetricStat.Period"))?;
        let parsed = parse_stat(&stat.stat, &format!("{p}.MetricStat.Stat"))?;
        let unit_filter = stat
            .unit
            .as_deref()
            .map(|u| unit_of(Some(u), &format!("{p}.MetricStat.Unit")))
            .transpose()?;
        let metric = &stat.metric;
        let (Some(namespace), Some(name)) = (&metric.namespace, &metric.metric_name) else {
            return Err(CloudWatchError::MissingParameter(format!(
                "The parameter {p}.MetricStat.Metric.Namespace and MetricName are required."
            )));
        };
        let key = SeriesKey::new(
            &ctx.account_id,
            &ctx.region,
            namespace,
            name,
            &metric.dimensions,
        );
        let points = series_points(
            repo,
            &key,
            &parsed,
            unit_filter,
            start,
            end,
            stat.period,
            ctx.now_ms,
        )
        .await?;
        let label = q.label.clone().unwrap_or_else(|| name.clone());
        computed.insert(
            q.id.clone(),
            MathValue::Series(Series::from_points(label, &points)),
        );
        metric_ids.push(q.id.clone());
        metric_periods.push(stat.period);
    }
    let default_period = metric_periods.iter().copied().min().unwrap_or(60);
    let mut pending: Vec<(usize, &MetricDataQuery, Expression)> = Vec::new();
    for (i, q) in queries.iter().enumerate() {
        if let Some(text) = &q.expression {
            let expr = Expression::parse(text).map_err(|e| expression_error(&q.id, &e))?;
            pending.push((i, q, expr));
        }
    }
    let ids: HashSet<&str> = queries.iter().map(|q| q.id.as_str()).collect();
    for (_, q, expr) in &pending {
        if let Some(unknown) = expr
            .referenced_ids()
            .into_iter()
            .find(|r| !ids.contains(r.as_str()))
        {
            return Err(CloudWatchError::Validation(format!(
                "Error in expression {}: Unrecognized identifier {unknown}",
                q.id
            )));
        }
    }
    while !pending.is_empty() {
        let ready = pending
            .iter()
            .position(|(_, _, e)| e.referenced_ids().iter().all(|r| computed.contains_key(r)));
        let Some(at) = ready else {
            let id = pending
                .first()
                .map(|(_, q, _)| q.id.clone())
                .unwrap_or_default();
            return Err(CloudWatchError::Validation(format!(
                "Error in expression {id}: Circular dependency between expressions"
            )));
        };
        let (_, q, expr) = pending.swap_remove(at);
        let period = q.period.unwrap_or(default_period);
        check_period(period, "Period")?;
        let mut search_results: HashMap<String, Vec<Series>> = HashMap::new();
        for call in expr.search_calls() {
            let found = run_search(repo, ctx, &call, start, end)
                .await
                .map_err(|e| match e {
                    SearchFailure::Math(m) => expression_error(&q.id, &m),
                    SearchFailure::Other(o) => o,
                })?;
            search_results.insert(call.expression.clone(), found);
        }
        let eval = EvalContext {
            series: &computed,
            metric_ids: &metric_ids,
            search_results: &search_results,
            period_seconds: period,
            start_ms: start,
            end_ms: end,
        };
        let value = evaluate(&expr, &eval).map_err(|e| expression_error(&q.id, &e))?;
        if let MathValue::Scalar(_) = value {
            return Err(CloudWatchError::Validation(format!(
                "Error in expression {}: Expression must return a time series or an array of time series",
                q.id
            )));
        }
        computed.insert(q.id.clone(), value);
    }

    let mut results = Vec::new();
    for q in queries.iter().filter(|q| q.return_data.unwrap_or(true)) {
        let series: Vec<Series> = match computed.remove(&q.id) {
            Some(MathValue::Series(s)) => vec![s],
            Some(MathValue::Array(list)) => list,
            _ => Vec::new(),
        };
        let single = series.len() == 1;
        for s in series {
            let label = match (&q.label, single) {
                (Some(l), true) => l.clone(),
                (_, _) if !s.label.is_empty() => s.label.clone(),
                (Some(l), false) => l.clone(),
                (None, _) => q.id.clone(),
            };
            let mut timestamps: Vec<f64> =
                s.timestamps.iter().map(|t| *t as f64 / 1000.0).collect();
            let mut values = s.values;
            if descending {
                timestamps.reverse();
                values.reverse();
            }
            results.push(MetricDataResult {
                id: q.id.clone(),
                label,
                timestamps,
                values,
                status_code: "Complete".into(),
                messages: Vec::new(),
            });
        }
    }

    // Pages cut the concatenation of all results' datapoints at MaxDatapoints.
    let total: i64 = results.iter().map(|r| r.values.len() as i64).sum();
    if offset > total {
        return Err(CloudWatchError::InvalidNextToken(
            "The NextToken is invalid for this request.".into(),
        ));
    }
    let mut skip = offset;
    let mut budget = max_datapoints;
    let mut paged = Vec::with_capacity(results.len());
    for mut r in results {
        let len = r.values.len() as i64;
        let from = skip.min(len);
        skip -= from;
        let take = (len - from).min(budget);
        budget -= take;
        let (from, to) = (from as usize, (from + take) as usize);
        r.timestamps = r
            .timestamps
            .get(from..to)
            .map(<[f64]>::to_vec)
            .unwrap_or_default();
        r.values = r
            .values
            .get(from..to)
            .map(<[f64]>::to_vec)
            .unwrap_or_default();
        if (to as i64) < len {
            r.status_code = "PartialData".into();
        }
        paged.push(r);
    }
    let consumed = offset + (max_datapoints - budget);
    let next_token = (consumed < total).then(|| encode_token("gmd", consumed));
    Ok(GetMetricDataOutput {
        metric_data_results: paged,
        next_token,
        messages: Vec::new(),
    })
}

fn expression_error(id: &str, e: &MathError) -> CloudWatchError {
    CloudWatchError::Validation(format!("Error in expression {id}: {e}"))
}

/// The datapoints of one metric for a statistic: (bucket start ms, value), ascending.
#[allow(clippy::too_many_arguments)]
async fn series_points(
    repo: &MetricsRepo,
    key: &SeriesKey,
    stat: &Stat,
    unit_filter: Option<u8>,
    start: i64,
    end: i64,
    period: i64,
    now_ms: i64,
) -> Result<Vec<(i64, f64)>> {
    let mut points = Vec::new();
    let Some(series) = repo.find_series(key).await? else {
        return Ok(points);
    };
    let q_start = round_start(start, period, now_ms);
    let keep = matches!(stat, Stat::Extended(_));
    let mut buckets = Buckets::new(
        q_start,
        end,
        period.saturating_mul(1000),
        keep,
        unit_filter,
        false,
    );
    repo.visit_points(series, q_start, end, |p| buckets.add(&p))
        .await?;
    for ((bucket, _), agg) in buckets.into_sorted() {
        let v = match stat {
            Stat::Basic(s) => agg.statistic(*s),
            Stat::Extended(e) => agg.extended(e),
        };
        if let Some(v) = v {
            points.push((bucket, v));
        }
    }
    Ok(points)
}

enum SearchFailure {
    Math(MathError),
    Other(CloudWatchError),
}

impl From<CloudWatchError> for SearchFailure {
    fn from(e: CloudWatchError) -> Self {
        SearchFailure::Other(e)
    }
}

impl From<crate::store::StoreError> for SearchFailure {
    fn from(e: crate::store::StoreError) -> Self {
        SearchFailure::Other(CloudWatchError::Store(e))
    }
}

/// SEARCH('{Namespace,Dim} MetricName="x"', 'Stat', Period): every stored metric of the
/// account and region that the search matches, with the statistic over the range.
async fn run_search(
    repo: &MetricsRepo,
    ctx: &RequestContext,
    call: &SearchCall,
    start: i64,
    end: i64,
) -> std::result::Result<Vec<Series>, SearchFailure> {
    let query = SearchQuery::parse(&call.expression).map_err(SearchFailure::Math)?;
    let stat = parse_stat(&call.statistic, "SEARCH statistic")?;
    let period = call.period.unwrap_or(300);
    check_period(period, "SEARCH period")?;
    let mut out = Vec::new();
    let mut after = 0;
    loop {
        let filter = SeriesFilter {
            account_id: &ctx.account_id,
            region: &ctx.region,
            namespace: query.namespace(),
            metric_name: None,
            active_since_ms: None,
        };
        let rows = repo.list_series(&filter, after, 1_000).await?;
        let exhausted = rows.len() < 1_000;
        for row in rows {
            after = row.id;
            let dims = parse_dimensions(&row.dimensions);
            let pairs: Vec<(String, String)> = dims
                .iter()
                .map(|d| (d.name.clone(), d.value.clone()))
                .collect();
            if !query.matches(&row.namespace, &row.metric_name, &pairs) {
                continue;
            }
            let key = SeriesKey::new(
                &ctx.account_id,
                &ctx.region,
                &row.namespace,
                &row.metric_name,
                &dims,
            );
            let points =
                series_points(repo, &key, &stat, None, start, end, period, ctx.now_ms).await?;
            let mut label = row.metric_name.clone();
            for d in &dims {
                label.push(' ');
                label.push_str(&d.value);
            }
            out.push(Series::from_points(label, &points));
            // AWS caps a search at 500 time series.
            if out.len() == 500 {
                return Ok(out);
            }
        }
        if exhausted {
            return Ok(out);
        }
    }
}

fn is_valid_query_id(id: &str) -> bool {
    let mut chars = id.chars();
    chars.next().is_some_and(|c| c.is_ascii_lowercase())
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn doubles_print_as_aws_prints_them() {
        assert_eq!(java_double(1e308), "1.0E308");
        assert_eq!(java_double(-2.5e-7), "-2.5E-7");
        assert_eq!(java_double(-2.0), "-2.0");
        assert_eq!(java_double(0.25), "0.25");
        assert_eq!(java_double(12_345_678.0), "1.2345678E7");
    }

    #[test]
    fn start_time_rounding_follows_the_reference() {
        let now = 1_000 * 86_400_000;
        // 12:32:34 → 12:32:00 for a recent start.
        let t = now - 3_600_000 + 34_000;
        assert_eq!(round_start(t, 60, now) % 60_000, 0);
        assert!(t - round_start(t, 60, now) < 60_000);
        // 10-second periods round to 10-second divisions.
        assert_eq!(round_start(now - 13_000 + 5_000, 10, now), now - 10_000);
        // Older than 63 days: the hour.
        assert_eq!(
            round_start(now - 70 * 86_400_000 + 1_234_567, 60, now) % 3_600_000,
            0
        );
    }

    #[test]
    fn periods_are_checked() {
        for ok in [1, 5, 10, 20, 30, 60, 120, 86_400] {
            assert!(check_period(ok, "Period").is_ok(), "{ok}");
        }
        for bad in [0, -60, 2, 45, 61, 90] {
            assert!(check_period(bad, "Period").is_err(), "{bad}");
        }
    }

    #[test]
    fn tokens_round_trip_and_reject_junk() {
        assert_eq!(decode_token("lm", &encode_token("lm", 42)), Some(42));
        assert_eq!(decode_token("lm", &encode_token("gmd", 42)), None);
        assert_eq!(decode_token("lm", "!!!"), None);
    }

    #[test]
    fn query_ids_follow_aws_rules() {
        assert!(is_valid_query_id("m1"));
        assert!(is_valid_query_id("errorRate_5"));
        assert!(!is_valid_query_id("M1"));
        assert!(!is_valid_query_id("1m"));
        assert!(!is_valid_query_id("a-b"));
        assert!(!is_valid_query_id(""));
    }
}

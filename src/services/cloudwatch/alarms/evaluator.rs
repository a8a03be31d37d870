//! Metric alarm evaluation: which state the datapoints of the last periods call for, and the
//! reason CloudWatch gives.
//!
//! The evaluation range. Periods are aligned to multiples of the period since the epoch, as
//! CloudWatch aligns them. The range holds N + 2 periods (N = EvaluationPeriods; the "missing
//! data" guide's example retrieves five periods for an alarm of three), ending with the period
//! in progress when it already holds data, else with the last complete period — so a datapoint
//! put a moment ago counts at once, and an empty period that is still filling is not missing.
//!
//! The decision follows "Configuring how CloudWatch alarms treat missing data":
//! - at least N real datapoints in the range: the N most recent are evaluated, the missing-data
//!   treatment plays no part (the range widens over gaps);
//! - none: `missing` → INSUFFICIENT_DATA, `ignore` → the state is kept, `breaching` → ALARM,
//!   `notBreaching` → OK;
//! - some (k < N): every real datapoint is evaluated, plus N − k missing ones filled in as the
//!   treatment says: `breaching` counts them as breaching, `notBreaching` as not; `ignore`
//!   decides only when the real datapoints alone decide (M breaching → ALARM; more than N − M
//!   not breaching → OK) and keeps the state otherwise; `missing` evaluates the real datapoints
//!   alone, needing min(M, k) of them breaching for ALARM.
//!
//! These reproduce every row of the guide's table (see the tests).

use std::collections::{HashMap, HashSet};
use std::str::FromStr;

use futures_util::TryStreamExt;
use serde_json::{json, Value};
use sqlx::Row;

use super::super::chunk::{self, StoredPoint};
use super::super::repo::SeriesKey;
use super::super::stats::{Aggregate, ExtendedStatistic, Statistic};
use super::model::{iso_millis, MetricConfig, StateValue};
use crate::store::{Db, StoreError};

const HOUR_MS: i64 = 3_600_000;
/// Series ids per `IN (...)` list, well under SQLite's parameter limit.
const IDS_PER_QUERY: usize = 500;
/// Periods retrieved beyond EvaluationPeriods, for the range to widen over gaps.
pub const EXTRA_PERIODS: i64 = 2;

/// One period of the evaluation range.
#[derive(Debug, Clone, PartialEq)]
pub struct Slot {
    pub start_ms: i64,
    pub value: Option<f64>,
    pub sample_count: Option<f64>,
    /// Too few samples for the percentile to be meaningful (EvaluateLowSampleCountPercentile).
    pub low_sample: bool,
}

/// A datapoint that took part in the decision; `value` is `None` for a filled-in missing one.
#[derive(Debug, Clone, PartialEq)]
pub struct Evaluated {
    pub start_ms: i64,
    pub value: Option<f64>,
    pub sample_count: Option<f64>,
    pub breaching: bool,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Decision {
    /// `None`: keep the current state.
    pub state: Option<StateValue>,
    /// Most recent first.
    pub evaluated: Vec<Evaluated>,
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Comparison {
    GreaterOrEqual,
    Greater,
    Less,
    LessOrEqual,
}

impl Comparison {
    pub fn parse(op: &str) -> Option<Self> {
        match op {
            "GreaterThanOrEqualToThreshold" => Some(Comparison::GreaterOrEqual),
            "GreaterThanThreshold" => Some(Comparison::Greater),
            "LessThanThreshold" => Some(Comparison::Less),
            "LessThanOrEqualToThreshold" => Some(Comparison::LessOrEqual),
            _ => None,
        }
    }

    pub fn breaches(self, value: f64, threshold: f64) -> bool {
        match self {
            Comparison::GreaterOrEqual => value >= threshold,
            Comparison::Greater => value > threshold,
            Comparison::Less => value < threshold,
            Comparison::LessOrEqual => value <= threshold,
        }
    }

    pub fn phrase(self) -> &'static str {
        match self {
            Comparison::GreaterOrEqual => "greater than or equal to",
            Comparison::Greater => "greater than",
            Comparison::Less => "less than",
            Comparison::LessOrEqual => "less than or equal to",
        }
    }
}

/// Decides the state from the range's slots (oldest first).
pub fn decide(
    slots: &[Slot],
    evaluation_periods: i64,
    datapoints_to_alarm: i64,
    treat_missing: &str,
    breaches: impl Fn(f64) -> bool,
    ignore_low_samples: bool,
) -> Decision {
    let n = usize::try_from(evaluation_periods.max(1)).unwrap_or(1);
    let m = usize::try_from(datapoints_to_alarm.max(1)).unwrap_or(1);
    let real: Vec<Evaluated> = slots
        .iter()
        .rev()
        .filter_map(|s| {
            s.value.map(|v| Evaluated {
                start_ms: s.start_ms,
                value: Some(v),
                sample_count: s.sample_count,
                breaching: breaches(v),
            })
        })
        .collect();
    let low_sample_starts: HashSet<i64> = slots
        .iter()
        .filter(|s| s.low_sample && s.value.is_some())
        .map(|s| s.start_ms)
        .collect();
    let keep = |evaluated: Vec<Evaluated>| Decision {
        state: None,
        evaluated,
    };
    if real.len() >= n {
        let evaluated: Vec<Evaluated> = real.into_iter().take(n).collect();
        if ignore_low_samples
            && evaluated
                .iter()
                .any(|e| low_sample_starts.contains(&e.start_ms))
        {
            return keep(evaluated);
        }
        let breaching = evaluated.iter().filter(|e| e.breaching).count();
        let state = if breaching >= m {
            StateValue::Alarm
        } else {
            StateValue::Ok
        };
        return Decision {
            state: Some(state),
            evaluated,
        };
    }
    if ignore_low_samples && real.iter().any(|e| low_sample_starts.contains(&e.start_ms)) {
        return keep(real);
    }
    // Fewer real datapoints than N: fill in the most recent missing periods.
    let k = real.len();
    let filled: Vec<Evaluated> = slots
        .iter()
        .rev()
        .filter(|s| s.value.is_none())
        .take(n - k)
        .map(|s| Evaluated {
            start_ms: s.start_ms,
            value: None,
            sample_count: None,
            breaching: treat_missing == "breaching",
        })
        .collect();
    let breaching_real = real.iter().filter(|e| e.breaching).count();
    let merge = |real: Vec<Evaluated>, filled: Vec<Evaluated>| {
        let mut all: Vec<Evaluated> = real.into_iter().chain(filled).collect();
        all.sort_by_key(|e| std::cmp::Reverse(e.start_ms));
        all
    };
    match treat_missing {
        "breaching" | "notBreaching" => {
            let breaching = breaching_real
                + if treat_missing == "breaching" {
                    filled.len()
                } else {
                    0
                };
            let state = if breaching >= m {
                StateValue::Alarm
            } else {
                StateValue::Ok
            };
            Decision {
                state: Some(state),
                evaluated: merge(real, filled),
            }
        }
        "ignore" => {
            if k == 0 {
                return keep(Vec::new());
            }
            let state = if breaching_real >= m {
                Some(StateValue::Alarm)
            } else if k - breaching_real > n - m {
                Some(StateValue::Ok)
            } else {
                None
            };
            Decision {
                state,
                evaluated: real,
            }
        }
        _ => {
            if k == 0 {
                return Decision {
                    state: Some(StateValue::InsufficientData),
                    evaluated: Vec::new(),
                };
            }
            let state = if breaching_real >= m.min(k) {
                StateValue::Alarm
            } else {
                StateValue::Ok
            };
            Decision {
                state: Some(state),
                evaluated: real,
            }
        }
    }
}

/// Numbers as CloudWatch prints them in reasons (Java's `Double.toString`): `5.0`, `84.6`,
/// `1.0E-4`, `1.2345678E7`.
pub fn java_double(v: f64) -> String {
    if !v.is_finite() {
        return if v.is_nan() {
            "NaN".into()
        } else if v > 0.0 {
            "Infinity".into()
        } else {
            "-Infinity".into()
        };
    }
    let magnitude = v.abs();
    if v == 0.0 || (1e-3..1e7).contains(&magnitude) {
        let text = format!("{v}");
        return if text.contains('.') {
            text
        } else {
            format!("{text}.0")
        };
    }
    let text = format!("{v:e}");
    let (mantissa, exponent) = text.split_once('e').unwrap_or((&text, "0"));
    let mantissa = if mantissa.contains('.') {
        mantissa.to_string()
    } else {
        format!("{mantissa}.0")
    };
    format!("{mantissa}E{exponent}")
}

/// `26/11/24 10:00:00`: day/month/two-digit year, as in CloudWatch's reasons.
fn reason_time(ms: i64) -> String {
    chrono::DateTime::from_timestamp_millis(ms)
        .map(|t| t.format("%d/%m/%y %H:%M:%S").to_string())
        .unwrap_or_default()
}

fn plural(n: usize, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

fn was(n: usize) -> &'static str {
    if n == 1 {
        "was"
    } else {
        "were"
    }
}

/// The StateReason CloudWatch writes for a threshold alarm's transition.
#[allow(clippy::too_many_arguments)]
pub fn reason(
    decision: &Decision,
    new: StateValue,
    old: StateValue,
    comparison: Comparison,
    threshold: f64,
    evaluation_periods: i64,
    datapoints_to_alarm: Option<i64>,
    treat_missing: &str,
    range_periods: usize,
) -> String {
    let n = usize::try_from(evaluation_periods).unwrap_or(1);
    // Alarms created with DatapointsToAlarm get the "M out of the last N" wording; those
    // without it keep CloudWatch's original short form.
    let explicit = datapoints_to_alarm.is_some();
    let datapoints_to_alarm = datapoints_to_alarm.unwrap_or(evaluation_periods);
    if new == StateValue::InsufficientData {
        return format!(
            "Insufficient Data: {} {} unknown.",
            plural(range_periods, "datapoint", "datapoints"),
            was(range_periods)
        );
    }
    let alarm = new == StateValue::Alarm;
    let matching: Vec<&Evaluated> = decision
        .evaluated
        .iter()
        .filter(|e| e.breaching == alarm)
        .collect();
    let real: Vec<&Evaluated> = matching
        .iter()
        .copied()
        .filter(|e| e.value.is_some())
        .collect();
    let filled = matching.len() - real.len();
    let treated = if treat_missing == "breaching" {
        "Breaching"
    } else {
        "NonBreaching"
    };
    if real.is_empty() {
        return format!(
            "Threshold Crossed: no datapoints were received for {} and {} {} treated as [{treated}].",
            plural(filled.max(1), "period", "periods"),
            plural(filled, "missing datapoint", "missing datapoints"),
            was(filled)
        );
    }
    let list: Vec<String> = real
        .iter()
        .map(|e| {
            format!(
                "{} ({})",
                java_double(e.value.unwrap_or_default()),
                reason_time(e.start_ms)
            )
        })
        .collect();
    let relation = if alarm {
        comparison.phrase().to_string()
    } else {
        format!("not {}", comparison.phrase())
    };
    let mut text = if !explicit {
        format!(
            "Threshold Crossed: {} [{}] {} {relation} the threshold ({})",
            plural(real.len(), "datapoint", "datapoints"),
            list.join(", "),
            was(real.len()),
            java_double(threshold)
        )
    } else {
        format!(
            "Threshold Crossed: {} out of the last {n} datapoints [{}] {} {relation} the threshold ({})",
            real.len(),
            list.join(", "),
            was(real.len()),
            java_double(threshold)
        )
    };
    if filled > 0 {
        text.push_str(&format!(
            " and {} {} treated as [{treated}]",
            plural(filled, "missing datapoint", "missing datapoints"),
            was(filled)
        ));
    }
    if explicit {
        let m = usize::try_from(datapoints_to_alarm).unwrap_or(1);
        let minimum = if alarm { m } else { n - m + 1 };
        text.push_str(&format!(
            " (minimum {} for {} -> {} transition)",
            plural(minimum, "datapoint", "datapoints"),
            old.as_str(),
            new.as_str()
        ));
    }
    text.push('.');
    text
}

/// The StateReasonData JSON CloudWatch writes for a threshold alarm.
pub fn reason_data(
    config: &MetricConfig,
    decision: &Decision,
    slots: &[Slot],
    now_ms: i64,
    period: i64,
) -> String {
    let start_ms = decision
        .evaluated
        .iter()
        .map(|e| e.start_ms)
        .min()
        .or_else(|| slots.first().map(|s| s.start_ms))
        .unwrap_or(now_ms);
    let mut doc = serde_json::Map::new();
    doc.insert("version".into(), json!("1.0"));
    doc.insert("queryDate".into(), json!(iso_millis(now_ms)));
    doc.insert("startDate".into(), json!(iso_millis(start_ms)));
    if let Some(u) = &config.unit {
        doc.insert("unit".into(), json!(u));
    }
    if let Some(s) = &config.statistic {
        doc.insert("statistic".into(), json!(s));
    }
    if let Some(s) = &config.extended_statistic {
        doc.insert("extendedStatistic".into(), json!(s));
    }
    doc.insert("period".into(), json!(period));
    let recent: Vec<f64> = slots.iter().filter_map(|s| s.value).collect();
    doc.insert("recentDatapoints".into(), json!(recent));
    if let Some(t) = config.threshold {
        doc.insert("threshold".into(), json!(t));
    }
    let evaluated: Vec<Value> = decision
        .evaluated
        .iter()
        .map(|e| {
            let mut item = serde_json::Map::new();
            item.insert("timestamp".into(), json!(iso_millis(e.start_ms)));
            if let Some(c) = e.sample_count {
                item.insert("sampleCount".into(), json!(c));
            }
            if let Some(v) = e.value {
                item.insert("value".into(), json!(v));
            }
            Value::Object(item)
        })
        .collect();
    doc.insert("evaluatedDatapoints".into(), json!(evaluated));
    Value::Object(doc).to_string()
}

/// The range of an alarm: `periods + 1` period starts ending with the one in progress.
pub fn range_starts(now_ms: i64, period_s: i64, periods: i64) -> Vec<i64> {
    let period_ms = period_s.max(1) * 1000;
    let current = now_ms.div_euclid(period_ms) * period_ms;
    (0..=periods)
        .rev()
        .map(|i| current - i * period_ms)
        .collect()
}

/// Keeps `periods` slots: the period in progress only when it holds data.
pub fn trim_range(mut slots: Vec<Slot>) -> Vec<Slot> {
    let current_has_data = slots.last().is_some_and(|s| s.value.is_some());
    if current_has_data {
        if !slots.is_empty() {
            slots.remove(0);
        }
    } else {
        slots.pop();
    }
    slots
}

/// How many samples a percentile needs to be statistically significant: 10 / (1 − p) for
/// p ≥ 0.5 and 10 / p below (p99 needs 1,000; p50 needs 20).
pub fn samples_needed(percentile: f64) -> f64 {
    let p = (percentile / 100.0).clamp(1e-9, 1.0 - 1e-9);
    if p >= 0.5 {
        10.0 / (1.0 - p)
    } else {
        10.0 / p
    }
}

/// What statistic an alarm evaluates.
#[derive(Debug, Clone)]
pub enum AlarmStat {
    Basic(Statistic),
    Extended(ExtendedStatistic, Option<f64>),
}

impl AlarmStat {
    pub fn of(config: &MetricConfig) -> Option<Self> {
        if let Some(s) = &config.statistic {
            return Statistic::from_str(s).ok().map(AlarmStat::Basic);
        }
        let text = config.extended_statistic.as_deref()?;
        let parsed = ExtendedStatistic::from_str(text).ok()?;
        let percentile = text
            .strip_prefix(['p', 'P'])
            .and_then(|rest| rest.parse::<f64>().ok());
        Some(AlarmStat::Extended(parsed, percentile))
    }
}

/// Aggregates a series' points into the range's slots.
pub fn slots_from_points(
    points: &[StoredPoint],
    starts: &[i64],
    period_s: i64,
    stat: &AlarmStat,
    unit: Option<u8>,
) -> Vec<Slot> {
    let period_ms = period_s * 1000;
    let first = starts.first().copied().unwrap_or(0);
    let keep = matches!(stat, AlarmStat::Extended(..));
    let mut aggregates: Vec<Option<Aggregate>> = vec![None; starts.len()];
    for p in points {
        if unit.is_some_and(|u| u != p.unit) {
            continue;
        }
        let index = (p.timestamp_ms - first).div_euclid(period_ms);
        let Ok(i) = usize::try_from(index) else {
            continue;
        };
        if let Some(slot) = aggregates.get_mut(i) {
            slot.get_or_insert_with(|| Aggregate::new_with_values(keep))
                .add(&p.sample);
        }
    }
    slots_from_aggregates(starts, aggregates, stat)
}

fn slots_from_aggregates(
    starts: &[i64],
    aggregates: Vec<Option<Aggregate>>,
    stat: &AlarmStat,
) -> Vec<Slot> {
    starts
        .iter()
        .zip(aggregates)
        .map(|(start, agg)| {
            let (value, count, low) = match agg {
                None => (None, None, false),
                Some(a) => {
                    let count = a.sample_count();
                    let (value, low) = match stat {
                        AlarmStat::Basic(s) => (a.statistic(*s), false),
                        AlarmStat::Extended(e, percentile) => (
                            a.extended(e),
                            percentile.is_some_and(|p| count < samples_needed(p)),
                        ),
                    };
                    (value, Some(count), low)
                }
            };
            Slot {
                start_ms: *start,
                value,
                sample_count: count,
                low_sample: low,
            }
        })
        .collect()
}

/// Maps series keys to ids, learning only the series created since the last refresh.
#[derive(Debug, Default)]
pub struct SeriesIndex {
    after_id: i64,
    ids: HashMap<SeriesKey, i64>,
}

impl SeriesIndex {
    pub fn clear(&mut self) {
        self.after_id = 0;
        self.ids.clear();
    }

    pub fn get(&self, key: &SeriesKey) -> Option<i64> {
        self.ids.get(key).copied()
    }

    pub async fn refresh(&mut self, db: &Db) -> Result<(), StoreError> {
        loop {
            let rows = sqlx::query(
                "SELECT id, account_id, region, namespace, metric_name, dimensions \
                 FROM metric_series WHERE id > ? ORDER BY id LIMIT 10000",
            )
            .bind(self.after_id)
            .fetch_all(db.reader())
            .await?;
            let done = rows.len() < 10_000;
            for r in rows {
                let id: i64 = r.get(0);
                self.after_id = self.after_id.max(id);
                self.ids.insert(
                    SeriesKey {
                        account_id: r.get(1),
                        region: r.get(2),
                        namespace: r.get(3),
                        metric_name: r.get(4),
                        dimensions: r.get(5),
                    },
                    id,
                );
            }
            if done {
                return Ok(());
            }
        }
    }
}

/// What the alarms on one series need kept: bucket width (the gcd of their periods), whether
/// raw values are kept (extended statistics), and how far back.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Need {
    pub granularity_ms: i64,
    pub keep_values: bool,
    pub horizon_ms: i64,
}

impl Need {
    /// Widens this need to cover another alarm's.
    pub fn merge(self, other: Need) -> Need {
        Need {
            granularity_ms: gcd(self.granularity_ms, other.granularity_ms),
            keep_values: self.keep_values || other.keep_values,
            horizon_ms: self.horizon_ms.max(other.horizon_ms),
        }
    }

    /// Whether a series cached for `self` also serves `wanted`.
    fn serves(&self, wanted: &Need) -> bool {
        wanted.granularity_ms % self.granularity_ms == 0
            && (self.keep_values || !wanted.keep_values)
            && self.horizon_ms >= wanted.horizon_ms
    }
}

fn gcd(a: i64, b: i64) -> i64 {
    if b == 0 {
        a.abs().max(1)
    } else {
        gcd(b, a % b)
    }
}

/// Aggregates of one series by (bucket start, unit).
#[derive(Debug)]
struct CachedSeries {
    need: Need,
    buckets: std::collections::BTreeMap<(i64, u8), Aggregate>,
}

impl CachedSeries {
    fn add(&mut self, p: &StoredPoint, oldest_ms: i64) {
        if p.timestamp_ms < oldest_ms {
            return;
        }
        let g = self.need.granularity_ms;
        let bucket = p.timestamp_ms.div_euclid(g) * g;
        let keep = self.need.keep_values;
        self.buckets
            .entry((bucket, p.unit))
            .or_insert_with(|| Aggregate::new_with_values(keep))
            .add(&p.sample);
    }
}

/// The recent datapoints of the series alarms watch, kept as per-bucket aggregates and brought
/// up to date incrementally: each pass reads only the chunk rows written since the last one
/// (chunk ids only grow), plus the small uncompacted ingest log, which is never cached (its
/// points reach the cache once compacted into chunks). A pass therefore costs in proportion to
/// the data ingested since the previous pass, not to the data stored.
#[derive(Debug, Default)]
pub struct MetricCache {
    chunk_cursor: i64,
    series: HashMap<i64, CachedSeries>,
}

/// Points still in the ingest log, per series, for one pass.
pub type Overlay = HashMap<i64, Vec<StoredPoint>>;

impl MetricCache {
    pub fn clear(&mut self) {
        self.chunk_cursor = 0;
        self.series.clear();
    }

    /// Brings the cache up to date for `needs` at `now_ms`; answers the uncompacted points.
    pub async fn sync(
        &mut self,
        db: &Db,
        needs: &HashMap<i64, Need>,
        now_ms: i64,
    ) -> Result<Overlay, StoreError> {
        self.series
            .retain(|id, cached| needs.get(id).is_some_and(|n| cached.need.serves(n)));
        let fresh: HashSet<i64> = needs
            .keys()
            .filter(|id| !self.series.contains_key(id))
            .copied()
            .collect();
        let oldest = |need: &Need| now_ms - need.horizon_ms;
        let mut tx = db.reader().begin().await?;
        // New chunk rows of the series already cached (read as a stream: under heavy ingest
        // there are many small rows); the cursor moves to the snapshot's last row either way.
        // `+series_id` keeps SQLite on the rowid range instead of the per-series index, which
        // would visit every stored row of every cached series.
        let cursor: i64 = sqlx::query_scalar("SELECT coalesce(max(id), 0) FROM metric_chunks")
            .fetch_one(&mut *tx)
            .await?;
        if !self.series.is_empty() && cursor > self.chunk_cursor {
            let cached_ids: Vec<i64> = self.series.keys().copied().collect();
            let ids_json = serde_json::to_string(&cached_ids)
                .map_err(|e| StoreError::Corrupt(format!("series ids: {e}")))?;
            let mut rows = sqlx::query(
                "SELECT series_id, data FROM metric_chunks WHERE id > ?1 AND id <= ?2 \
                 AND +series_id IN (SELECT value FROM json_each(?3))",
            )
            .bind(self.chunk_cursor)
            .bind(cursor)
            .bind(ids_json)
            .fetch(&mut *tx);
            while let Some(row) = rows.try_next().await? {
                let series_id: i64 = row.get(0);
                let Some(cached) = self.series.get_mut(&series_id) else {
                    continue;
                };
                let since = oldest(&cached.need);
                let data: &[u8] = row.get(1);
                chunk::decode(data, |t| t >= since, |p| cached.add(&p, since)).ok_or_else(
                    || StoreError::Corrupt(format!("metric data of series {series_id}")),
                )?;
            }
        }
        // Series seen for the first time (or needing more than was kept): all their rows.
        if !fresh.is_empty() {
            let horizon = fresh
                .iter()
                .filter_map(|id| needs.get(id))
                .map(|n| n.horizon_ms)
                .max()
                .unwrap_or(0);
            let ids: Vec<i64> = fresh.iter().copied().collect();
            for id in &ids {
                if let Some(need) = needs.get(id) {
                    self.series.insert(
                        *id,
                        CachedSeries {
                            need: *need,
                            buckets: std::collections::BTreeMap::new(),
                        },
                    );
                }
            }
            for batch in ids.chunks(IDS_PER_QUERY) {
                let placeholders = vec!["?"; batch.len()].join(",");
                let sql = format!(
                    "SELECT series_id, data FROM metric_chunks WHERE hour >= ? \
                     AND series_id IN ({placeholders})"
                );
                let mut query = sqlx::query(&sql).bind((now_ms - horizon).div_euclid(HOUR_MS));
                for id in batch {
                    query = query.bind(*id);
                }
                for row in query.fetch_all(&mut *tx).await? {
                    let series_id: i64 = row.get(0);
                    let Some(cached) = self.series.get_mut(&series_id) else {
                        continue;
                    };
                    let since = oldest(&cached.need);
                    let data: &[u8] = row.get(1);
                    chunk::decode(data, |t| t >= since, |p| cached.add(&p, since)).ok_or_else(
                        || StoreError::Corrupt(format!("metric data of series {series_id}")),
                    )?;
                }
            }
        }
        let widest = needs.values().map(|n| n.horizon_ms).max().unwrap_or(0);
        let log = sqlx::query("SELECT data FROM metric_ingest_log WHERE max_ms >= ?")
            .bind(now_ms - widest)
            .fetch_all(&mut *tx)
            .await?;
        let mut overlay: Overlay = HashMap::new();
        for row in log {
            let data: &[u8] = row.get(0);
            chunk::decode_tagged(
                data,
                |s, t| needs.get(&s).is_some_and(|n| t >= now_ms - n.horizon_ms),
                |s, p| overlay.entry(s).or_default().push(p),
            )
            .ok_or_else(|| StoreError::Corrupt("metric ingest log row".into()))?;
        }
        tx.commit().await?;
        self.chunk_cursor = cursor;
        for cached in self.series.values_mut() {
            let since = now_ms - cached.need.horizon_ms;
            let g = cached.need.granularity_ms;
            let first_kept = since.div_euclid(g) * g;
            cached.buckets = cached.buckets.split_off(&(first_kept, 0));
        }
        Ok(overlay)
    }

    /// The range's slots for one alarm on a cached series.
    pub fn slots(
        &self,
        series_id: i64,
        overlay: &Overlay,
        starts: &[i64],
        period_s: i64,
        stat: &AlarmStat,
        unit: Option<u8>,
    ) -> Vec<Slot> {
        let period_ms = period_s * 1000;
        let keep = matches!(stat, AlarmStat::Extended(..));
        let cached = self.series.get(&series_id);
        let mut aggregates: Vec<Option<Aggregate>> = Vec::with_capacity(starts.len());
        for start in starts {
            let mut slot: Option<Aggregate> = None;
            if let Some(c) = cached {
                for ((_, u), agg) in c.buckets.range((*start, 0)..(*start + period_ms, 0)) {
                    if unit.is_some_and(|want| want != *u) {
                        continue;
                    }
                    slot.get_or_insert_with(|| Aggregate::new_with_values(keep))
                        .merge(agg);
                }
            }
            aggregates.push(slot);
        }
        if let Some(points) = overlay.get(&series_id) {
            let first = starts.first().copied().unwrap_or(0);
            for p in points {
                if unit.is_some_and(|u| u != p.unit) {
                    continue;
                }
                let Ok(i) = usize::try_from((p.timestamp_ms - first).div_euclid(period_ms)) else {
                    continue;
                };
                if let Some(slot) = aggregates.get_mut(i) {
                    slot.get_or_insert_with(|| Aggregate::new_with_values(keep))
                        .add(&p.sample);
                }
            }
        }
        slots_from_aggregates(starts, aggregates, stat)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `0` not breaching, `X` breaching, `-` missing, oldest first (the guide's notation).
    fn slots(pattern: &str) -> Vec<Slot> {
        pattern
            .split_whitespace()
            .enumerate()
            .map(|(i, c)| Slot {
                start_ms: i as i64 * 60_000,
                value: match c {
                    "0" => Some(0.0),
                    "X" => Some(5.0),
                    _ => None,
                },
                sample_count: (c != "-").then_some(1.0),
                low_sample: false,
            })
            .collect()
    }

    fn state(pattern: &str, treat: &str) -> Option<StateValue> {
        decide(&slots(pattern), 3, 3, treat, |v| v > 1.0, false).state
    }

    #[test]
    fn the_missing_data_table_of_the_guide() {
        use StateValue::*;
        let rows = [
            ("0 - X - X", [Some(Ok), Some(Ok), Some(Ok), Some(Ok)]),
            ("- - - - 0", [Some(Ok), Some(Ok), Some(Ok), Some(Ok)]),
            (
                "- - - - -",
                [Some(InsufficientData), None, Some(Alarm), Some(Ok)],
            ),
            (
                "0 X X - X",
                [Some(Alarm), Some(Alarm), Some(Alarm), Some(Alarm)],
            ),
            ("- - X - -", [Some(Alarm), None, Some(Alarm), Some(Ok)]),
        ];
        for (pattern, expected) in rows {
            for (treat, want) in ["missing", "ignore", "breaching", "notBreaching"]
                .into_iter()
                .zip(expected)
            {
                assert_eq!(state(pattern, treat), want, "{pattern} / {treat}");
            }
        }
    }

    #[test]
    fn m_out_of_n() {
        let s = slots("- - X 0 X");
        let d = decide(&s, 3, 2, "missing", |v| v > 1.0, false);
        assert_eq!(d.state, Some(StateValue::Alarm));
        assert_eq!(d.evaluated.len(), 3);
        assert_eq!(d.evaluated[0].start_ms, 4 * 60_000, "most recent first");
        let d = decide(&slots("X 0 0 X 0"), 3, 2, "missing", |v| v > 1.0, false);
        assert_eq!(d.state, Some(StateValue::Ok));
    }

    #[test]
    fn low_sample_percentiles_keep_the_state_when_ignored() {
        let mut s = slots("- - - - X");
        s[4].low_sample = true;
        assert_eq!(decide(&s, 1, 1, "missing", |v| v > 1.0, true).state, None);
        assert_eq!(
            decide(&s, 1, 1, "missing", |v| v > 1.0, false).state,
            Some(StateValue::Alarm)
        );
        assert_eq!(samples_needed(99.0).round(), 1000.0);
        assert_eq!(samples_needed(50.0).round(), 20.0);
        assert_eq!(samples_needed(10.0).round(), 100.0);
    }

    #[test]
    fn reasons_read_as_cloudwatch_writes_them() {
        let mut s = slots("- - - - X");
        s[4].start_ms = 1_732_615_200_000; // 2024-11-26 10:00:00 UTC
        let d = decide(&s, 1, 1, "missing", |v| v > 1.0, false);
        assert_eq!(
            reason(&d, StateValue::Alarm, StateValue::InsufficientData, Comparison::Greater, 1.0, 1, None, "missing", 5),
            "Threshold Crossed: 1 datapoint [5.0 (26/11/24 10:00:00)] was greater than the threshold (1.0)."
        );
        // With DatapointsToAlarm given, the wording of the EventBridge guide's example.
        let mut s = slots("- - - - X");
        s[4].start_ms = 1_570_035_540_000; // 2019-10-02 16:59:00 UTC
        s[4].value = Some(99.50160229693434);
        let d = decide(&s, 1, 1, "missing", |v| v > 50.0, false);
        assert_eq!(
            reason(&d, StateValue::Alarm, StateValue::Ok, Comparison::Greater, 50.0, 1, Some(1), "missing", 5),
            "Threshold Crossed: 1 out of the last 1 datapoints [99.50160229693434 (02/10/19 16:59:00)] was greater than the threshold (50.0) (minimum 1 datapoint for OK -> ALARM transition)."
        );
        let d = decide(&slots("X 0 X 0 X"), 3, 2, "missing", |v| v > 1.0, false);
        assert_eq!(
            reason(&d, StateValue::Alarm, StateValue::Ok, Comparison::Greater, 1.0, 3, Some(2), "missing", 5),
            "Threshold Crossed: 2 out of the last 3 datapoints [5.0 (01/01/70 00:04:00), 5.0 (01/01/70 00:02:00)] were greater than the threshold (1.0) (minimum 2 datapoints for OK -> ALARM transition)."
        );
        let d = decide(&slots("- - - - -"), 2, 2, "breaching", |v| v > 1.0, false);
        assert_eq!(
            reason(&d, StateValue::Alarm, StateValue::Ok, Comparison::Greater, 1.0, 2, Some(2), "breaching", 5),
            "Threshold Crossed: no datapoints were received for 2 periods and 2 missing datapoints were treated as [Breaching]."
        );
        assert_eq!(
            reason(
                &d,
                StateValue::InsufficientData,
                StateValue::Ok,
                Comparison::Greater,
                1.0,
                1,
                None,
                "missing",
                3
            ),
            "Insufficient Data: 3 datapoints were unknown."
        );
    }

    #[test]
    fn doubles_print_like_java() {
        assert_eq!(java_double(5.0), "5.0");
        assert_eq!(java_double(84.6), "84.6");
        assert_eq!(java_double(0.0001), "1.0E-4");
        assert_eq!(java_double(12_345_678.0), "1.2345678E7");
        assert_eq!(java_double(-2.5), "-2.5");
    }

    #[test]
    fn the_range_ends_with_the_current_period_only_when_it_has_data() {
        let starts = range_starts(10 * 60_000 + 5_000, 60, 3);
        assert_eq!(
            starts,
            vec![7 * 60_000, 8 * 60_000, 9 * 60_000, 10 * 60_000]
        );
        let mk = |last: Option<f64>| -> Vec<Slot> {
            starts
                .iter()
                .map(|s| Slot {
                    start_ms: *s,
                    value: if *s == 10 * 60_000 { last } else { None },
                    sample_count: None,
                    low_sample: false,
                })
                .collect()
        };
        let kept = trim_range(mk(Some(1.0)));
        assert_eq!(kept.first().map(|s| s.start_ms), Some(8 * 60_000));
        let kept = trim_range(mk(None));
        assert_eq!(kept.last().map(|s| s.start_ms), Some(9 * 60_000));
        assert_eq!(kept.len(), 3);
    }

    #[tokio::test]
    async fn the_cache_counts_each_point_once_across_compactions() {
        use crate::services::cloudwatch::repo::{compact_once, MetricsRepo};
        use crate::services::cloudwatch::stats::Sample;
        use crate::store::Location;
        let (db, _writer) = Db::open(&Location::Ephemeral).await.unwrap();
        let repo = MetricsRepo::new(db.clone());
        let key = SeriesKey::new("1", "r", "ns", "m", &[]);
        let point = |t: i64, v: f64| StoredPoint {
            timestamp_ms: t,
            unit: 0,
            high_resolution: false,
            sample: Sample::Single(v),
        };
        let now = 100 * 60_000 + 30_000;
        repo.put(vec![(key.clone(), point(99 * 60_000 + 1, 1.0))], now)
            .await
            .unwrap();
        let mut index = SeriesIndex::default();
        index.refresh(&db).await.unwrap();
        let id = index.get(&key).unwrap();
        let needs = HashMap::from([(
            id,
            Need {
                granularity_ms: 60_000,
                keep_values: false,
                horizon_ms: 10 * 60_000,
            },
        )]);
        let starts = range_starts(now, 60, 2);
        let stat = AlarmStat::Basic(Statistic::Sum);
        let sums = |cache: &MetricCache, overlay: &Overlay| -> Vec<Option<f64>> {
            cache
                .slots(id, overlay, &starts, 60, &stat, None)
                .into_iter()
                .map(|s| s.value)
                .collect()
        };
        let mut cache = MetricCache::default();
        let overlay = cache.sync(&db, &needs, now).await.unwrap();
        assert_eq!(sums(&cache, &overlay), vec![None, Some(1.0), None]);
        // More points, some compacted before the next pass and some not.
        repo.put(vec![(key.clone(), point(99 * 60_000 + 2, 2.0))], now)
            .await
            .unwrap();
        compact_once(&db).await.unwrap();
        repo.put(vec![(key.clone(), point(100 * 60_000 + 3, 4.0))], now)
            .await
            .unwrap();
        let overlay = cache.sync(&db, &needs, now).await.unwrap();
        let expected = vec![None, Some(3.0), Some(4.0)];
        // The background compactor may move rows at any time: repeat passes agree.
        assert_eq!(sums(&cache, &overlay), expected);
        compact_once(&db).await.unwrap();
        let overlay = cache.sync(&db, &needs, now).await.unwrap();
        assert_eq!(sums(&cache, &overlay), expected);
        // A fresh cache reading everything at once agrees too.
        let mut fresh = MetricCache::default();
        let overlay = fresh.sync(&db, &needs, now).await.unwrap();
        assert_eq!(sums(&fresh, &overlay), expected);
    }
}

//! GetMetricWidgetImage: a metric widget (the "Metric Widget Structure and Syntax" page of the
//! API reference) rendered as a PNG.
//!
//! The widget's `metrics` array becomes a GetMetricData request that goes through
//! [`metrics::get_metric_data`], so statistics, metric math and SEARCH behave exactly as they
//! do for that operation; `render` draws the result. `schema` holds the widget checks that
//! PutDashboard shares.

pub mod render;
pub mod schema;

use base64::Engine;
use serde::{Deserialize, Serialize};
use serde_json::{json, Map, Value};

use super::metrics;
use super::repo::MetricsRepo;
use super::{CloudWatchError, Result};
use crate::context::RequestContext;
use crate::services::input;
use render::{Axis, Chart, Fill, HorizontalAnnotation, LegendPosition, Line, VerticalAnnotation};
use schema::{check_metric_properties, parse_instant, parse_row, Checker, Context, MetricSource};

/// Defaults from the Metric Widget Structure page.
const DEFAULT_WIDTH: u32 = 600;
const DEFAULT_HEIGHT: u32 = 400;
const DEFAULT_START: &str = "-PT3H";
const DEFAULT_PERIOD: i64 = 300;
const DEFAULT_STAT: &str = "Average";
/// CloudWatch keeps metrics 15 months; a graph never reaches further back than this.
const MAX_RANGE_MS: i64 = 455 * 86_400_000;
/// Most datapoints one series of a graph is computed at; longer ranges use longer periods.
const MAX_POINTS_PER_SERIES: i64 = 100_800;

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct GetMetricWidgetImageInput {
    metric_widget: String,
    output_format: Option<String>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct GetMetricWidgetImageOutput {
    /// The PNG, base64 (blobs travel as base64 text inside documents).
    pub metric_widget_image: String,
}

fn invalid_widget(checker: &Checker) -> CloudWatchError {
    CloudWatchError::DashboardInvalidInput {
        message: format!(
            "The metric widget is invalid, there are {} validation errors:\n{}",
            checker.messages.len(),
            checker.render()
        ),
        messages: checker.messages.clone(),
    }
}

/// https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/API_GetMetricWidgetImage.html
pub async fn get_metric_widget_image(
    repo: &MetricsRepo,
    ctx: &RequestContext,
    doc: Value,
) -> Result<GetMetricWidgetImageOutput> {
    let request: GetMetricWidgetImageInput = input(doc)?;
    // "png" answers the image inside the response document; "image/png" asks for the raw
    // image as the HTTP body, which this emulator answers inside the document as well.
    match request.output_format.as_deref() {
        None | Some("png") | Some("image/png") => {}
        Some(other) => {
            return Err(CloudWatchError::InvalidParameterValue(format!(
                "The value {other} for parameter OutputFormat is invalid: only png is supported."
            )))
        }
    }
    let widget: Value = match serde_json::from_str(&request.metric_widget) {
        Ok(v @ Value::Object(_)) => v,
        _ => {
            return Err(CloudWatchError::DashboardInvalidInput {
                message: "The field MetricWidget must be a valid JSON object".into(),
                messages: Vec::new(),
            })
        }
    };
    let mut checker = Checker::default();
    check_metric_properties(&mut checker, &widget, "", Context::Image);
    if !checker.messages.is_empty() {
        return Err(invalid_widget(&checker));
    }
    let props = widget.as_object().cloned().unwrap_or_default();
    let chart = build_chart(repo, ctx, &props, &mut checker).await?;
    if !checker.messages.is_empty() {
        return Err(invalid_widget(&checker));
    }
    // Drawing is CPU work of a few milliseconds up to tens for large images: off the
    // request threads.
    let png = tokio::task::spawn_blocking(move || render::render_png(&chart))
        .await
        .map_err(|e| CloudWatchError::Render(e.to_string()))?
        .map_err(CloudWatchError::Render)?;
    Ok(GetMetricWidgetImageOutput {
        metric_widget_image: base64::engine::general_purpose::STANDARD.encode(png),
    })
}

/// The period to draw with: the one asked for, or, when that would give a series more than
/// [`MAX_POINTS_PER_SERIES`] points over the range, the smallest multiple of a minute that
/// does not.
fn fit_period(period: i64, range_ms: i64) -> i64 {
    // A period longer than the longest range draws one point all the same.
    let period = period.min(MAX_RANGE_MS / 1000);
    if period <= 0 || range_ms / (period * 1000) <= MAX_POINTS_PER_SERIES {
        return period;
    }
    let minutes = (range_ms / 60_000).div_euclid(MAX_POINTS_PER_SERIES) + 1;
    minutes * 60
}

fn pixels(props: &Map<String, Value>, key: &str, default: u32) -> u32 {
    props
        .get(key)
        .and_then(Value::as_u64)
        .and_then(|n| u32::try_from(n).ok())
        .unwrap_or(default)
}

/// Reads `start`/`end`: an absolute ISO 8601 time or a duration before now (`-PT3H`).
fn parse_time(text: &str, now_ms: i64) -> Option<i64> {
    parse_instant(text).or_else(|| parse_duration_ms(text).map(|d| now_ms - d))
}

/// `-PT3H`, `-P1D`, `-PT1H30M`, `-P2W`, `P1D` (the sign is optional: ranges look back).
/// Months count 30 days and years 365.
fn parse_duration_ms(text: &str) -> Option<i64> {
    let rest = text.strip_prefix('-').unwrap_or(text);
    let rest = rest.strip_prefix('P')?;
    let (date, time) = match rest.split_once('T') {
        Some((d, t)) => (d, Some(t)),
        None => (rest, None),
    };
    let mut total = 0.0f64;
    let mut any = false;
    let mut read = |part: &str, units: &[(char, f64)]| -> Option<()> {
        let mut number = String::new();
        for c in part.chars() {
            if c.is_ascii_digit() || c == '.' {
                number.push(c);
                continue;
            }
            let (_, ms) = units.iter().find(|(u, _)| *u == c)?;
            let n: f64 = number.parse().ok()?;
            total += n * ms;
            any = true;
            number.clear();
        }
        number.is_empty().then_some(())
    };
    const DAY: f64 = 86_400_000.0;
    read(
        date,
        &[
            ('Y', 365.0 * DAY),
            ('M', 30.0 * DAY),
            ('W', 7.0 * DAY),
            ('D', DAY),
        ],
    )?;
    if let Some(time) = time {
        if time.is_empty() {
            return None;
        }
        read(time, &[('H', 3_600_000.0), ('M', 60_000.0), ('S', 1_000.0)])?;
    }
    (any && total.is_finite()).then_some(total.round() as i64)
}

/// `+0130`, `-0500`, `UTC`; the offset from UTC in minutes.
fn parse_timezone(text: &str) -> Option<i32> {
    if text.eq_ignore_ascii_case("UTC") || text.eq_ignore_ascii_case("Local") {
        return Some(0);
    }
    let (sign, digits) = match text.as_bytes().first()? {
        b'+' => (1, text.get(1..)?),
        b'-' => (-1, text.get(1..)?),
        _ => return None,
    };
    if digits.len() != 4 || !digits.chars().all(|c| c.is_ascii_digit()) {
        return None;
    }
    let hours: i32 = digits.get(..2)?.parse().ok()?;
    let minutes: i32 = digits.get(2..)?.parse().ok()?;
    (hours <= 14 && minutes < 60).then_some(sign * (hours * 60 + minutes))
}

fn axis(props: &Map<String, Value>, side: &str) -> Axis {
    let spec = props.get("yAxis").and_then(|a| a.get(side));
    let number = |key: &str| spec.and_then(|s| s.get(key)).and_then(Value::as_f64);
    Axis {
        min: number("min"),
        max: number("max"),
        label: spec
            .and_then(|s| s.get("label"))
            .and_then(Value::as_str)
            .map(str::to_string),
    }
}

/// Turns the widget into GetMetricData queries, runs them, and lays out the chart.
async fn build_chart(
    repo: &MetricsRepo,
    ctx: &RequestContext,
    props: &Map<String, Value>,
    checker: &mut Checker,
) -> Result<Chart> {
    let text = |key: &str| props.get(key).and_then(Value::as_str);
    let start_text = text("start").unwrap_or(DEFAULT_START);
    let start_ms = parse_time(start_text, ctx.now_ms);
    if start_ms.is_none() {
        checker.fail(
            "/start",
            "Should be an ISO 8601 time or a duration such as -PT3H",
        );
    }
    let end_ms = match text("end") {
        None => Some(ctx.now_ms),
        Some(t) => {
            let parsed = parse_time(t, ctx.now_ms);
            if parsed.is_none() {
                checker.fail(
                    "/end",
                    "Should be an ISO 8601 time or a duration such as -PT0H",
                );
            }
            parsed
        }
    };
    let timezone_minutes = match text("timezone") {
        None => 0,
        Some(t) => parse_timezone(t).unwrap_or_else(|| {
            checker.fail("/timezone", "Should match pattern \"^[+-][0-9]{4}$\"");
            0
        }),
    };
    let (Some(start_ms), Some(end_ms)) = (start_ms, end_ms) else {
        return Ok(Chart::default());
    };
    if start_ms >= end_ms {
        checker.fail("/start", "Should be earlier than end");
        return Ok(Chart::default());
    }
    let start_ms = start_ms.max(end_ms - MAX_RANGE_MS);

    let period = fit_period(
        props
            .get("period")
            .and_then(Value::as_i64)
            .unwrap_or(DEFAULT_PERIOD),
        end_ms - start_ms,
    );
    let stat = text("stat").unwrap_or(DEFAULT_STAT);
    let empty = Vec::new();
    let rows_json = props
        .get("metrics")
        .and_then(Value::as_array)
        .unwrap_or(&empty);
    let mut rows = Vec::with_capacity(rows_json.len());
    let mut previous: Vec<String> = Vec::new();
    for (i, row) in rows_json.iter().enumerate() {
        if let Some(parsed) = parse_row(checker, row, &format!("/metrics/{i}"), &previous) {
            if let MetricSource::Metric { strings } = &parsed.source {
                previous = strings.clone();
            }
            rows.push(parsed);
        }
    }
    if !checker.messages.is_empty() {
        return Ok(Chart::default());
    }

    // Query ids: the row's own id, else one made from the row's position.
    let ids: Vec<String> = rows
        .iter()
        .enumerate()
        .map(|(i, r)| r.id.clone().unwrap_or_else(|| format!("widget__row{i}")))
        .collect();
    let mut queries = Vec::with_capacity(rows.len());
    for (row, id) in rows.iter().zip(&ids) {
        let mut query = Map::new();
        query.insert("Id".into(), json!(id));
        query.insert("ReturnData".into(), json!(row.visible));
        match &row.source {
            MetricSource::Expression(expression) => {
                query.insert("Expression".into(), json!(expression));
                query.insert(
                    "Label".into(),
                    json!(row.label.clone().unwrap_or_else(|| match &row.id {
                        Some(id) => id.clone(),
                        None => expression.clone(),
                    })),
                );
                if let Some(p) = row.period {
                    query.insert("Period".into(), json!(fit_period(p, end_ms - start_ms)));
                }
            }
            MetricSource::Metric { .. } => {
                let dimensions: Vec<Value> = row
                    .dimensions()
                    .into_iter()
                    .map(|(name, value)| json!({ "Name": name, "Value": value }))
                    .collect();
                query.insert(
                    "MetricStat".into(),
                    json!({
                        "Metric": {
                            "Namespace": row.namespace().unwrap_or_default(),
                            "MetricName": row.metric_name().unwrap_or_default(),
                            "Dimensions": dimensions,
                        },
                        "Period": fit_period(row.period.unwrap_or(period), end_ms - start_ms),
                        "Stat": row.stat.as_deref().unwrap_or(stat),
                    }),
                );
                // Without a label, the legend tells metrics apart by their dimension values.
                let label = row.label.clone().unwrap_or_else(|| {
                    let mut label = row.metric_name().unwrap_or_default().to_string();
                    for (_, value) in row.dimensions() {
                        label.push(' ');
                        label.push_str(&value);
                    }
                    label
                });
                query.insert("Label".into(), json!(label));
            }
        }
        queries.push(Value::Object(query));
    }

    let mut lines = Vec::new();
    if rows.iter().any(|r| r.visible) {
        let request = json!({
            "MetricDataQueries": queries,
            "StartTime": start_ms as f64 / 1000.0,
            "EndTime": end_ms as f64 / 1000.0,
            "ScanBy": "TimestampAscending",
        });
        let output = metrics::get_metric_data(repo, ctx, request).await?;
        for result in output.metric_data_results {
            let row = ids.iter().position(|id| *id == result.id).map(|i| &rows[i]);
            let points = result
                .timestamps
                .iter()
                .zip(&result.values)
                .map(|(t, v)| ((t * 1000.0).round() as i64, *v))
                .collect();
            lines.push(Line {
                label: result.label,
                color: row.and_then(|r| r.color),
                right_axis: row.is_some_and(|r| r.right_axis),
                points,
            });
        }
    }

    let annotations = props.get("annotations");
    let list = |key: &str| -> Vec<Value> {
        annotations
            .and_then(|a| a.get(key))
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default()
    };
    let mut horizontal = Vec::new();
    for item in list("horizontal") {
        let (edge, band_to) = match &item {
            Value::Array(band) => (
                band.first().cloned().unwrap_or_default(),
                band.get(1)
                    .and_then(|b| b.get("value"))
                    .and_then(Value::as_f64),
            ),
            other => (other.clone(), None),
        };
        if edge.get("visible").and_then(Value::as_bool) == Some(false) {
            continue;
        }
        let Some(value) = edge.get("value").and_then(Value::as_f64) else {
            continue;
        };
        horizontal.push(HorizontalAnnotation {
            value,
            band_to,
            label: edge
                .get("label")
                .and_then(Value::as_str)
                .map(str::to_string),
            color: edge
                .get("color")
                .and_then(Value::as_str)
                .and_then(schema::parse_color),
            fill: match edge.get("fill").and_then(Value::as_str) {
                Some("above") => Some(Fill::Above),
                Some("below") => Some(Fill::Below),
                _ => None,
            },
            right_axis: edge.get("yAxis").and_then(Value::as_str) == Some("right"),
        });
    }
    let mut vertical = Vec::new();
    for item in list("vertical") {
        let (edge, band_to) = match &item {
            Value::Array(band) => (
                band.first().cloned().unwrap_or_default(),
                band.get(1)
                    .and_then(|b| b.get("value"))
                    .and_then(Value::as_str)
                    .and_then(parse_instant),
            ),
            other => (other.clone(), None),
        };
        if edge.get("visible").and_then(Value::as_bool) == Some(false) {
            continue;
        }
        let Some(at_ms) = edge
            .get("value")
            .and_then(Value::as_str)
            .and_then(parse_instant)
        else {
            continue;
        };
        vertical.push(VerticalAnnotation {
            at_ms,
            band_to,
            label: edge
                .get("label")
                .and_then(Value::as_str)
                .map(str::to_string),
            color: edge
                .get("color")
                .and_then(Value::as_str)
                .and_then(schema::parse_color),
            fill: match edge.get("fill").and_then(Value::as_str) {
                Some("before") => Some(Fill::Below),
                Some("after") => Some(Fill::Above),
                _ => None,
            },
        });
    }

    Ok(Chart {
        width: pixels(props, "width", DEFAULT_WIDTH),
        height: pixels(props, "height", DEFAULT_HEIGHT),
        title: text("title").map(str::to_string),
        stacked: props.get("stacked").and_then(Value::as_bool) == Some(true),
        start_ms,
        end_ms,
        timezone_minutes,
        lines,
        left: axis(props, "left"),
        right: axis(props, "right"),
        horizontal,
        vertical,
        legend: match props
            .get("legend")
            .and_then(|l| l.get("position"))
            .and_then(Value::as_str)
        {
            Some("right") => LegendPosition::Right,
            Some("hidden") => LegendPosition::Hidden,
            _ => LegendPosition::Bottom,
        },
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_follow_iso_8601() {
        assert_eq!(parse_duration_ms("-PT3H"), Some(3 * 3_600_000));
        assert_eq!(parse_duration_ms("-PT0H"), Some(0));
        assert_eq!(parse_duration_ms("-P1D"), Some(86_400_000));
        assert_eq!(parse_duration_ms("-P2W"), Some(14 * 86_400_000));
        assert_eq!(
            parse_duration_ms("-PT1H30M15S"),
            Some(3_600_000 + 30 * 60_000 + 15_000)
        );
        assert_eq!(parse_duration_ms("-P1DT12H"), Some(36 * 3_600_000));
        for bad in ["", "-P", "-PT", "-PT3X", "3H", "-PT3", "-P1H"] {
            assert_eq!(parse_duration_ms(bad), None, "{bad}");
        }
    }

    #[test]
    fn times_are_absolute_or_relative_to_now() {
        let now = 1_700_000_000_000;
        assert_eq!(parse_time("-PT3H", now), Some(now - 10_800_000));
        assert_eq!(
            parse_time("2018-04-25T12:00:00.000Z", now),
            Some(1_524_657_600_000)
        );
        assert_eq!(parse_time("soon", now), None);
    }

    #[test]
    fn long_ranges_get_longer_periods() {
        let day = 86_400_000;
        assert_eq!(fit_period(300, 3 * 3_600_000), 300);
        assert_eq!(fit_period(1, 3 * 3_600_000), 1);
        // 1-second points over a week would be 604,800 points: 1-minute periods instead.
        let fitted = fit_period(1, 7 * day);
        assert_eq!(fitted, 60);
        assert!(7 * day / (fitted * 1000) <= MAX_POINTS_PER_SERIES);
        assert_eq!(fit_period(300, 455 * day), 420);
        assert_eq!(fit_period(i64::MAX, day), 455 * 86_400);
    }

    #[test]
    fn timezones_are_offsets() {
        assert_eq!(parse_timezone("+0130"), Some(90));
        assert_eq!(parse_timezone("-0500"), Some(-300));
        assert_eq!(parse_timezone("UTC"), Some(0));
        assert_eq!(parse_timezone("0500"), None);
        assert_eq!(parse_timezone("+5"), None);
    }
}

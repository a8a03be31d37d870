//! Metric filters and the embedded metric format: log events that become CloudWatch metrics.
//!
//! Both run on the events PutLogEvents accepted, after they are stored, and publish through
//! CloudWatch's [`MetricPublisher`], so the metrics are there for GetMetricStatistics as if
//! PutMetricData had sent them.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::filter_pattern::FilterPattern;
use super::repo::LogsRepo;
use super::{require_group, Empty, LogsError, Result};
use crate::context::RequestContext;
use crate::services::cloudwatch::types::Dimension;
use crate::services::cloudwatch::{MetricPublisher, PublishedPoint};
use crate::services::input;

const MAX_DIMENSIONS: usize = 3;
const DEFAULT_LIMIT: usize = 50;

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct MetricTransformation {
    pub metric_name: String,
    pub metric_namespace: String,
    pub metric_value: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub default_value: Option<f64>,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub dimensions: BTreeMap<String, String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub unit: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PutMetricFilterInput {
    log_group_name: String,
    filter_name: String,
    filter_pattern: String,
    metric_transformations: Vec<MetricTransformation>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DeleteMetricFilterInput {
    log_group_name: String,
    filter_name: String,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DescribeMetricFiltersInput {
    log_group_name: Option<String>,
    filter_name_prefix: Option<String>,
    next_token: Option<String>,
    limit: Option<i64>,
    metric_name: Option<String>,
    metric_namespace: Option<String>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct MetricFilter {
    filter_name: String,
    filter_pattern: String,
    metric_transformations: Vec<MetricTransformation>,
    creation_time: i64,
    log_group_name: String,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct DescribeMetricFiltersOutput {
    metric_filters: Vec<MetricFilter>,
    #[serde(skip_serializing_if = "Option::is_none")]
    next_token: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TestMetricFilterInput {
    filter_pattern: String,
    log_event_messages: Vec<String>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct MatchRecord {
    event_number: i64,
    event_message: String,
    extracted_values: BTreeMap<String, String>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct TestMetricFilterOutput {
    matches: Vec<MatchRecord>,
}

fn invalid(message: impl Into<String>) -> LogsError {
    LogsError::InvalidParameter(message.into())
}

fn parse_pattern(pattern: &str) -> Result<FilterPattern> {
    FilterPattern::parse(pattern).map_err(|e| invalid(e.to_string()))
}

fn is_selector(text: &str) -> bool {
    text.starts_with('$')
}

/// https://docs.aws.amazon.com/AmazonCloudWatchLogs/latest/APIReference/API_PutMetricFilter.html
pub async fn put_metric_filter(repo: &LogsRepo, ctx: &RequestContext, doc: Value) -> Result<Empty> {
    let request: PutMetricFilterInput = input(doc)?;
    parse_pattern(&request.filter_pattern)?;
    for t in &request.metric_transformations {
        if t.dimensions.len() > MAX_DIMENSIONS {
            return Err(invalid(format!(
                "A metric filter can have at most {MAX_DIMENSIONS} dimensions."
            )));
        }
        if !t.dimensions.is_empty() && t.default_value.is_some() {
            return Err(invalid(
                "You can't specify a default value if you specify dimensions.",
            ));
        }
        if !is_selector(&t.metric_value) && t.metric_value.parse::<f64>().is_err() {
            return Err(invalid(format!(
                "Invalid metric value {}: use a number or a field selector such as $.latency or $bytes.",
                t.metric_value
            )));
        }
        if let Some(u) = &t.unit {
            if crate::services::cloudwatch::types::unit_code(u).is_none() {
                return Err(invalid(format!("Invalid unit {u}")));
            }
        }
    }
    let group = require_group(repo, ctx, &request.log_group_name).await?;
    let transformations = serde_json::to_string(&request.metric_transformations)
        .map_err(|e| invalid(e.to_string()))?;
    repo.put_metric_filter(
        group.id,
        request.filter_name,
        request.filter_pattern,
        transformations,
        ctx.now_ms,
    )
    .await?;
    Ok(Empty {})
}

pub async fn delete_metric_filter(
    repo: &LogsRepo,
    ctx: &RequestContext,
    doc: Value,
) -> Result<Empty> {
    let request: DeleteMetricFilterInput = input(doc)?;
    let group = require_group(repo, ctx, &request.log_group_name).await?;
    if !repo
        .delete_metric_filter(group.id, request.filter_name)
        .await?
    {
        return Err(LogsError::ResourceNotFound(
            "The specified metric filter does not exist.".into(),
        ));
    }
    Ok(Empty {})
}

/// https://docs.aws.amazon.com/AmazonCloudWatchLogs/latest/APIReference/API_DescribeMetricFilters.html
pub async fn describe_metric_filters(
    repo: &LogsRepo,
    ctx: &RequestContext,
    doc: Value,
) -> Result<DescribeMetricFiltersOutput> {
    let request: DescribeMetricFiltersInput = input(doc)?;
    if request.metric_name.is_some() != request.metric_namespace.is_some() {
        return Err(invalid(
            "metricName and metricNamespace must be specified together.",
        ));
    }
    if request.filter_name_prefix.is_some() && request.log_group_name.is_none() {
        return Err(invalid("filterNamePrefix requires logGroupName."));
    }
    let group_id = match &request.log_group_name {
        Some(name) => Some(require_group(repo, ctx, name).await?.id),
        None => None,
    };
    let rows = repo
        .metric_filters(&ctx.account_id, &ctx.region, group_id)
        .await?;
    let offset: usize = match &request.next_token {
        Some(t) => t
            .parse()
            .map_err(|_| invalid(format!("The specified nextToken is invalid: {t}")))?,
        None => 0,
    };
    let limit = request
        .limit
        .and_then(|l| usize::try_from(l).ok())
        .unwrap_or(DEFAULT_LIMIT);
    let matching: Vec<MetricFilter> = rows
        .into_iter()
        .filter(|r| {
            request
                .filter_name_prefix
                .as_ref()
                .is_none_or(|p| r.name.starts_with(p.as_str()))
        })
        .filter_map(|r| {
            let transformations: Vec<MetricTransformation> =
                serde_json::from_str(&r.transformations).ok()?;
            let wanted = match (&request.metric_name, &request.metric_namespace) {
                (Some(n), Some(ns)) => transformations
                    .iter()
                    .any(|t| t.metric_name == *n && t.metric_namespace == *ns),
                _ => true,
            };
            wanted.then_some(MetricFilter {
                filter_name: r.name,
                filter_pattern: r.pattern,
                metric_transformations: transformations,
                creation_time: r.creation_time_ms,
                log_group_name: r.group_name,
            })
        })
        .collect();
    let total = matching.len();
    let metric_filters: Vec<MetricFilter> = matching.into_iter().skip(offset).take(limit).collect();
    let next = offset + metric_filters.len();
    Ok(DescribeMetricFiltersOutput {
        metric_filters,
        next_token: (next < total).then(|| next.to_string()),
    })
}

/// https://docs.aws.amazon.com/AmazonCloudWatchLogs/latest/APIReference/API_TestMetricFilter.html
pub async fn test_metric_filter(
    _repo: &LogsRepo,
    _ctx: &RequestContext,
    doc: Value,
) -> Result<TestMetricFilterOutput> {
    let request: TestMetricFilterInput = input(doc)?;
    let pattern = parse_pattern(&request.filter_pattern)?;
    let selectors = selectors_in(&request.filter_pattern);
    let matches = request
        .log_event_messages
        .into_iter()
        .enumerate()
        .filter_map(|(i, message)| {
            let hit = pattern.match_fields(&message)?;
            let extracted_values = selectors
                .iter()
                .filter_map(|s| hit.field(s).map(|v| (s.clone(), v)))
                .collect();
            Some(MatchRecord {
                event_number: i as i64 + 1,
                event_message: message,
                extracted_values,
            })
        })
        .collect();
    Ok(TestMetricFilterOutput { matches })
}

/// The `$.path` selectors of a JSON pattern, or the `$name` of each named field of a
/// space-delimited one: what TestMetricFilter reports as extracted values.
fn selectors_in(pattern: &str) -> Vec<String> {
    let trimmed = pattern.trim();
    if let Some(body) = trimmed.strip_prefix('[').and_then(|b| b.strip_suffix(']')) {
        return body
            .split(',')
            .filter_map(|f| {
                let name: String = f
                    .trim()
                    .chars()
                    .take_while(|c| c.is_alphanumeric() || *c == '_' || *c == '-')
                    .collect();
                (!name.is_empty()).then(|| format!("${name}"))
            })
            .collect();
    }
    let mut out: Vec<String> = Vec::new();
    let mut rest = trimmed;
    while let Some(at) = rest.find("$.") {
        let tail = rest.get(at..).unwrap_or_default();
        let selector: String = tail
            .chars()
            .take_while(|c| c.is_alphanumeric() || "$._[]*-".contains(*c))
            .collect();
        if !out.contains(&selector) {
            out.push(selector.clone());
        }
        rest = tail.get(selector.len().max(1)..).unwrap_or_default();
    }
    out
}

/// Runs the group's metric filters and the embedded metric format over accepted events.
pub async fn publish_from_events(
    repo: &LogsRepo,
    publisher: &MetricPublisher,
    ctx: &RequestContext,
    group_id: i64,
    has_filters: bool,
    events: &[(i64, String)],
) -> Result<()> {
    let mut points = Vec::new();
    if has_filters {
        for row in repo.metric_filters_of_group(group_id).await? {
            let Ok(pattern) = FilterPattern::parse(&row.pattern) else {
                continue;
            };
            let Ok(transformations) =
                serde_json::from_str::<Vec<MetricTransformation>>(&row.transformations)
            else {
                continue;
            };
            for t in &transformations {
                let mut matched = false;
                for (ts, message) in events {
                    let Some(hit) = pattern.match_fields(message) else {
                        continue;
                    };
                    matched = true;
                    let value = if is_selector(&t.metric_value) {
                        hit.field(&t.metric_value)
                            .and_then(|v| v.parse::<f64>().ok())
                    } else {
                        t.metric_value.parse::<f64>().ok()
                    };
                    let Some(value) = value.filter(|v| v.is_finite()) else {
                        continue;
                    };
                    let mut dimensions = Vec::with_capacity(t.dimensions.len());
                    for (name, source) in &t.dimensions {
                        let v = if is_selector(source) {
                            hit.field(source)
                        } else {
                            Some(source.clone())
                        };
                        if let Some(v) = v {
                            dimensions.push(Dimension {
                                name: name.clone(),
                                value: v,
                            });
                        }
                    }
                    // A point whose dimension fields are missing is not published.
                    if dimensions.len() != t.dimensions.len() {
                        continue;
                    }
                    points.push(PublishedPoint {
                        namespace: t.metric_namespace.clone(),
                        metric_name: t.metric_name.clone(),
                        dimensions,
                        timestamp_ms: *ts,
                        value,
                        unit: t.unit.clone(),
                        high_resolution: false,
                    });
                }
                // The default value stands in when nothing in the batch matched.
                if let (false, Some(default), Some((ts, _))) =
                    (matched, t.default_value, events.last())
                {
                    points.push(PublishedPoint {
                        namespace: t.metric_namespace.clone(),
                        metric_name: t.metric_name.clone(),
                        dimensions: Vec::new(),
                        timestamp_ms: *ts,
                        value: default,
                        unit: t.unit.clone(),
                        high_resolution: false,
                    });
                }
            }
        }
    }
    for (ts, message) in events {
        if message.contains("\"_aws\"") {
            points.extend(embedded_metrics(*ts, message));
        }
    }
    publisher
        .publish(&ctx.account_id, &ctx.region, points, ctx.now_ms)
        .await
        .map_err(LogsError::Store)
}

/// The metrics an embedded-metric-format event declares in `_aws.CloudWatchMetrics`: one point
/// per value per dimension set, values and dimension values read from the event's top level.
pub fn embedded_metrics(event_ts: i64, message: &str) -> Vec<PublishedPoint> {
    let Ok(Value::Object(root)) = serde_json::from_str::<Value>(message) else {
        return Vec::new();
    };
    let Some(aws) = root.get("_aws") else {
        return Vec::new();
    };
    let timestamp_ms = aws
        .get("Timestamp")
        .and_then(Value::as_i64)
        .unwrap_or(event_ts);
    let mut out = Vec::new();
    for directive in aws
        .get("CloudWatchMetrics")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        let Some(namespace) = directive.get("Namespace").and_then(Value::as_str) else {
            continue;
        };
        let dimension_sets: Vec<Vec<&str>> =
            match directive.get("Dimensions").and_then(Value::as_array) {
                Some(sets) => sets
                    .iter()
                    .filter_map(Value::as_array)
                    .map(|set| set.iter().filter_map(Value::as_str).collect())
                    .collect(),
                None => vec![Vec::new()],
            };
        for metric in directive
            .get("Metrics")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            let Some(name) = metric.get("Name").and_then(Value::as_str) else {
                continue;
            };
            let unit = metric
                .get("Unit")
                .and_then(Value::as_str)
                .map(str::to_string);
            let high_resolution =
                metric.get("StorageResolution").and_then(Value::as_i64) == Some(1);
            let values: Vec<f64> = match root.get(name) {
                Some(Value::Number(n)) => n.as_f64().into_iter().collect(),
                Some(Value::Array(items)) => items.iter().filter_map(Value::as_f64).collect(),
                _ => Vec::new(),
            };
            for set in &dimension_sets {
                let dimensions: Vec<Dimension> = set
                    .iter()
                    .filter_map(|d| {
                        let v = match root.get(*d)? {
                            Value::String(s) => s.clone(),
                            other => other.to_string(),
                        };
                        Some(Dimension {
                            name: (*d).to_string(),
                            value: v,
                        })
                    })
                    .collect();
                if dimensions.len() != set.len() {
                    continue;
                }
                for v in &values {
                    out.push(PublishedPoint {
                        namespace: namespace.to_string(),
                        metric_name: name.to_string(),
                        dimensions: dimensions.clone(),
                        timestamp_ms,
                        value: *v,
                        unit: unit.clone(),
                        high_resolution,
                    });
                }
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn embedded_metric_format_declares_points_per_dimension_set() {
        let event = r#"{"_aws":{"Timestamp":1700000000000,"CloudWatchMetrics":[{"Namespace":"App",
            "Dimensions":[["Service"],["Service","Route"]],"Metrics":[{"Name":"Latency","Unit":"Milliseconds"}]}]},
            "Service":"api","Route":"/x","Latency":[12,30]}"#;
        let points = embedded_metrics(5, event);
        assert_eq!(points.len(), 4);
        assert_eq!(points[0].namespace, "App");
        assert_eq!(points[0].timestamp_ms, 1_700_000_000_000);
        assert_eq!(
            points[0].dimensions,
            vec![Dimension {
                name: "Service".into(),
                value: "api".into()
            }]
        );
        assert_eq!(points[1].value, 30.0);
        assert_eq!(points[2].dimensions.len(), 2);
        assert_eq!(points[0].unit.as_deref(), Some("Milliseconds"));
        assert!(embedded_metrics(5, r#"{"Latency": 3}"#).is_empty());
        assert!(embedded_metrics(5, "not json").is_empty());
    }

    #[test]
    fn selectors_for_test_metric_filter() {
        assert_eq!(
            selectors_in("[ip, user, ..., bytes > 100]"),
            vec!["$ip", "$user", "$bytes"]
        );
        assert_eq!(
            selectors_in("{ $.a = 1 && $.b.c > 2 || $.a = 3 }"),
            vec!["$.a", "$.b.c"]
        );
    }
}

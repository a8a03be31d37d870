//! Alarms as stored and described: the alarm document, PutMetricAlarm/PutCompositeAlarm input
//! and their validation, and the DescribeAlarms views.
//!
//! Validation follows the PutMetricAlarm reference: Period 10, 20, 30 or a multiple of 60;
//! Period × EvaluationPeriods at most one day (seven days for periods of an hour or more);
//! DatapointsToAlarm at most EvaluationPeriods; one metric (MetricName/Namespace/Statistic or
//! ExtendedStatistic) or a `Metrics` array with exactly one ReturnData, never both; Threshold
//! unless ThresholdMetricId, and the band operators only with it.

use std::str::FromStr;

use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

use super::super::stats::{ExtendedStatistic, Statistic};
use super::super::types::{Dimension, MetricDataQuery};
use super::super::{CloudWatchError, Result};
use super::composite;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Hash)]
pub enum StateValue {
    #[serde(rename = "OK")]
    Ok,
    #[serde(rename = "ALARM")]
    Alarm,
    #[serde(rename = "INSUFFICIENT_DATA")]
    InsufficientData,
}

impl StateValue {
    pub fn as_str(self) -> &'static str {
        match self {
            StateValue::Ok => "OK",
            StateValue::Alarm => "ALARM",
            StateValue::InsufficientData => "INSUFFICIENT_DATA",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        match text {
            "OK" => Some(StateValue::Ok),
            "ALARM" => Some(StateValue::Alarm),
            "INSUFFICIENT_DATA" => Some(StateValue::InsufficientData),
            _ => None,
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct AlarmState {
    pub value: StateValue,
    pub reason: String,
    pub reason_data: Option<String>,
    /// Last time the state was set (even to the same value, by SetAlarmState).
    pub updated_ms: i64,
    /// Last time the value changed.
    pub transitioned_ms: i64,
    /// The value before the last change (composite alarms' suppression extension period).
    #[serde(default)]
    pub previous_value: Option<StateValue>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct MetricConfig {
    pub metric_name: Option<String>,
    pub namespace: Option<String>,
    pub statistic: Option<String>,
    pub extended_statistic: Option<String>,
    #[serde(default)]
    pub dimensions: Vec<Dimension>,
    pub period: Option<i64>,
    pub unit: Option<String>,
    pub evaluation_periods: i64,
    pub datapoints_to_alarm: Option<i64>,
    pub threshold: Option<f64>,
    pub comparison_operator: String,
    pub treat_missing_data: Option<String>,
    pub evaluate_low_sample_count_percentile: Option<String>,
    /// The `Metrics` array as given (model member names), echoed by DescribeAlarms.
    pub metrics: Option<Value>,
    pub threshold_metric_id: Option<String>,
}

impl MetricConfig {
    /// M of "M out of N".
    pub fn datapoints_to_alarm(&self) -> i64 {
        self.datapoints_to_alarm.unwrap_or(self.evaluation_periods)
    }

    pub fn treat_missing(&self) -> &str {
        self.treat_missing_data.as_deref().unwrap_or("missing")
    }

    /// The period the alarm evaluates at: its own, or the ReturnData query's for math alarms.
    pub fn evaluation_period(&self) -> i64 {
        if let Some(p) = self.period {
            return p;
        }
        let queries = self.metric_queries();
        let returned = queries.iter().find(|q| q.return_data.unwrap_or(true));
        returned
            .and_then(|q| q.period.or(q.metric_stat.as_ref().map(|s| s.period)))
            .or_else(|| {
                queries
                    .iter()
                    .filter_map(|q| q.metric_stat.as_ref().map(|s| s.period))
                    .min()
            })
            .unwrap_or(60)
    }

    pub fn metric_queries(&self) -> Vec<MetricDataQuery> {
        self.metrics
            .clone()
            .and_then(|m| serde_json::from_value(m).ok())
            .unwrap_or_default()
    }
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct CompositeConfig {
    pub rule: String,
    pub actions_suppressor: Option<String>,
    pub actions_suppressor_wait_period: Option<i64>,
    pub actions_suppressor_extension_period: Option<i64>,
    pub actions_suppressed_by: Option<String>,
    pub actions_suppressed_reason: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub enum AlarmKind {
    Metric(MetricConfig),
    Composite(CompositeConfig),
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Alarm {
    pub account_id: String,
    pub region: String,
    pub name: String,
    pub arn: String,
    pub description: Option<String>,
    pub actions_enabled: bool,
    pub ok_actions: Vec<String>,
    pub alarm_actions: Vec<String>,
    pub insufficient_data_actions: Vec<String>,
    pub kind: AlarmKind,
    pub state: AlarmState,
    pub config_updated_ms: i64,
    #[serde(default)]
    pub tags: Vec<(String, String)>,
    /// Bumped by every configuration change, so an evaluation computed against an older
    /// configuration is not applied.
    #[serde(default)]
    pub version: u64,
}

impl Alarm {
    pub fn alarm_type(&self) -> &'static str {
        match self.kind {
            AlarmKind::Metric(_) => "MetricAlarm",
            AlarmKind::Composite(_) => "CompositeAlarm",
        }
    }

    pub fn actions_for(&self, state: StateValue) -> &[String] {
        match state {
            StateValue::Ok => &self.ok_actions,
            StateValue::Alarm => &self.alarm_actions,
            StateValue::InsufficientData => &self.insufficient_data_actions,
        }
    }

    pub fn all_actions(&self) -> impl Iterator<Item = &String> {
        self.ok_actions
            .iter()
            .chain(&self.alarm_actions)
            .chain(&self.insufficient_data_actions)
    }
}

pub fn alarm_arn(region: &str, account_id: &str, name: &str) -> String {
    format!("arn:aws:cloudwatch:{region}:{account_id}:alarm:{name}")
}

pub fn seconds(ms: i64) -> f64 {
    ms as f64 / 1000.0
}

/// `2022-11-03T20:25:29.591+0000`, the timestamp format of CloudWatch's reason data and
/// notification messages.
pub fn iso_millis(ms: i64) -> String {
    chrono::DateTime::from_timestamp_millis(ms)
        .map(|t| t.format("%Y-%m-%dT%H:%M:%S%.3f+0000").to_string())
        .unwrap_or_default()
}

fn invalid(message: impl Into<String>) -> CloudWatchError {
    CloudWatchError::InvalidParameterValue(message.into())
}

fn combination(message: impl Into<String>) -> CloudWatchError {
    CloudWatchError::InvalidParameterCombination(message.into())
}

fn validation(message: impl Into<String>) -> CloudWatchError {
    CloudWatchError::Validation(message.into())
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct TagInput {
    pub key: String,
    pub value: String,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct PutMetricAlarmInput {
    pub alarm_name: String,
    pub alarm_description: Option<String>,
    pub actions_enabled: Option<bool>,
    #[serde(rename = "OKActions", default)]
    pub ok_actions: Vec<String>,
    #[serde(default)]
    pub alarm_actions: Vec<String>,
    #[serde(default)]
    pub insufficient_data_actions: Vec<String>,
    pub metric_name: Option<String>,
    pub namespace: Option<String>,
    pub statistic: Option<String>,
    pub extended_statistic: Option<String>,
    #[serde(default)]
    pub dimensions: Vec<Dimension>,
    pub period: Option<i64>,
    pub unit: Option<String>,
    pub evaluation_periods: Option<i64>,
    pub datapoints_to_alarm: Option<i64>,
    pub threshold: Option<f64>,
    pub comparison_operator: Option<String>,
    pub treat_missing_data: Option<String>,
    pub evaluate_low_sample_count_percentile: Option<String>,
    pub metrics: Option<Value>,
    #[serde(default)]
    pub tags: Vec<TagInput>,
    pub threshold_metric_id: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct PutCompositeAlarmInput {
    pub alarm_name: String,
    pub alarm_description: Option<String>,
    pub actions_enabled: Option<bool>,
    #[serde(rename = "OKActions", default)]
    pub ok_actions: Vec<String>,
    #[serde(default)]
    pub alarm_actions: Vec<String>,
    #[serde(default)]
    pub insufficient_data_actions: Vec<String>,
    pub alarm_rule: String,
    #[serde(default)]
    pub tags: Vec<TagInput>,
    pub actions_suppressor: Option<String>,
    pub actions_suppressor_wait_period: Option<i64>,
    pub actions_suppressor_extension_period: Option<i64>,
}

const BAND_OPERATORS: [&str; 3] = [
    "LessThanLowerOrGreaterThanUpperThreshold",
    "LessThanLowerThreshold",
    "GreaterThanUpperThreshold",
];

const MAX_DAY_SECONDS: i64 = 86_400;
const MAX_WEEK_SECONDS: i64 = 604_800;

pub fn check_period(period: i64, parameter: &str) -> Result<()> {
    if period > 0 && (period % 60 == 0 || [10, 20, 30].contains(&period)) {
        Ok(())
    } else {
        Err(invalid(format!(
            "The parameter {parameter} must be 10, 20, 30 or a multiple of 60."
        )))
    }
}

fn check_actions(actions: &[String], region: &str) -> Result<()> {
    for action in actions {
        let valid = action.starts_with("arn:")
            && action.split(':').count() >= 6
            && !action.split(':').nth(2).unwrap_or_default().is_empty();
        if !valid {
            return Err(validation(format!("Invalid arn syntax: {action}")));
        }
        // Actions must live in the alarm's region (cross-region SNS is refused by AWS).
        if let Some(action_region) = action.split(':').nth(3) {
            if !action_region.is_empty() && action_region != region {
                return Err(validation(format!(
                    "Invalid region {action_region} specified. Only {region} is supported."
                )));
            }
        }
    }
    Ok(())
}

pub fn check_tags(tags: &[TagInput]) -> Result<Vec<(String, String)>> {
    let mut out: Vec<(String, String)> = Vec::new();
    for t in tags {
        if t.key.starts_with("aws:") {
            return Err(invalid(
                "Invalid tag key: the aws: prefix is reserved for AWS use.",
            ));
        }
        match out.iter_mut().find(|(k, _)| *k == t.key) {
            Some(slot) => slot.1 = t.value.clone(),
            None => out.push((t.key.clone(), t.value.clone())),
        }
    }
    if out.len() > 50 {
        return Err(invalid("The number of tags exceeds the limit of 50."));
    }
    Ok(out)
}

fn check_stat(stat: &str, parameter: &str) -> Result<()> {
    if Statistic::from_str(stat).is_ok() || ExtendedStatistic::from_str(stat).is_ok() {
        Ok(())
    } else {
        Err(invalid(format!(
            "The value {stat} for parameter {parameter} is not a valid statistic."
        )))
    }
}

fn is_valid_query_id(id: &str) -> bool {
    let mut chars = id.chars();
    chars.next().is_some_and(|c| c.is_ascii_lowercase())
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// Validates a PutMetricAlarm request and turns it into the alarm's configuration.
pub fn metric_config(input: &PutMetricAlarmInput, region: &str) -> Result<MetricConfig> {
    for actions in [
        &input.ok_actions,
        &input.alarm_actions,
        &input.insufficient_data_actions,
    ] {
        check_actions(actions, region)?;
    }
    let queries: Option<Vec<MetricDataQuery>> = match &input.metrics {
        None => None,
        Some(m) => Some(
            serde_json::from_value(m.clone())
                .map_err(|e| invalid(format!("The parameter Metrics is invalid: {e}")))?,
        ),
    };
    let single_metric_fields = [
        ("MetricName", input.metric_name.is_some()),
        ("Namespace", input.namespace.is_some()),
        ("Statistic", input.statistic.is_some()),
        ("ExtendedStatistic", input.extended_statistic.is_some()),
        ("Dimensions", !input.dimensions.is_empty()),
        ("Period", input.period.is_some()),
        ("Unit", input.unit.is_some()),
    ];
    let Some(evaluation_periods) = input.evaluation_periods else {
        return Err(CloudWatchError::MissingParameter(
            "The parameter EvaluationPeriods is required.".into(),
        ));
    };
    let Some(comparison_operator) = input.comparison_operator.clone() else {
        return Err(CloudWatchError::MissingParameter(
            "The parameter ComparisonOperator is required.".into(),
        ));
    };
    let period = match &queries {
        Some(queries) => {
            if let Some((name, _)) = single_metric_fields.iter().find(|(_, set)| *set) {
                return Err(combination(format!(
                    "The parameters Metrics and {name} are mutually exclusive and you have specified both."
                )));
            }
            if queries.is_empty() {
                return Err(validation("Metrics list must not be empty."));
            }
            if queries.len() > 10 {
                return Err(validation(
                    "The collection Metrics must not have a size greater than 10.",
                ));
            }
            let returning = queries
                .iter()
                .filter(|q| q.return_data.unwrap_or(true))
                .count();
            if returning != 1 {
                return Err(validation(
                    "Exactly one element of the metrics list should return data.",
                ));
            }
            let mut seen = std::collections::HashSet::new();
            for (i, q) in queries.iter().enumerate() {
                let p = format!("Metrics.member.{}", i + 1);
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
                        return Err(combination(format!(
                            "Exactly one of {p}.MetricStat and {p}.Expression must be specified."
                        )))
                    }
                    (Some(stat), None) => {
                        check_period(stat.period, &format!("{p}.MetricStat.Period"))?;
                        check_stat(&stat.stat, &format!("{p}.MetricStat.Stat"))?;
                        if stat.metric.metric_name.is_none() || stat.metric.namespace.is_none() {
                            return Err(CloudWatchError::MissingParameter(format!(
                                "The parameters {p}.MetricStat.Metric.Namespace and {p}.MetricStat.Metric.MetricName are required."
                            )));
                        }
                    }
                    (None, Some(expr)) => {
                        super::super::math::Expression::parse(expr).map_err(|e| {
                            validation(format!("Error in expression {}: {e}", q.id))
                        })?;
                        if let Some(p) = q.period {
                            check_period(p, &format!("{p}.Period"))?;
                        }
                    }
                }
            }
            let ids: std::collections::HashSet<&str> =
                queries.iter().map(|q| q.id.as_str()).collect();
            for q in queries {
                if let Some(text) = &q.expression {
                    if let Ok(expr) = super::super::math::Expression::parse(text) {
                        if let Some(unknown) = expr
                            .referenced_ids()
                            .into_iter()
                            .find(|r| !ids.contains(r.as_str()))
                        {
                            return Err(validation(format!(
                                "Error in expression {}: Unrecognized identifier {unknown}",
                                q.id
                            )));
                        }
                    }
                }
            }
            if let Some(id) = &input.threshold_metric_id {
                let Some(band) = queries.iter().find(|q| q.id == *id) else {
                    return Err(validation(format!(
                        "ThresholdMetricId {id} does not refer to a member of Metrics."
                    )));
                };
                if band.return_data.unwrap_or(true) {
                    return Err(validation(
                        "The ThresholdMetricId metric must have ReturnData set to false.",
                    ));
                }
            }
            let returned = queries.iter().find(|q| q.return_data.unwrap_or(true));
            returned
                .and_then(|q| q.period.or(q.metric_stat.as_ref().map(|s| s.period)))
                .or_else(|| {
                    queries
                        .iter()
                        .filter_map(|q| q.metric_stat.as_ref().map(|s| s.period))
                        .min()
                })
                .unwrap_or(60)
        }
        None => {
            let (Some(_), Some(_)) = (&input.metric_name, &input.namespace) else {
                return Err(validation(
                    "One of MetricName or Metrics must be specified, with Namespace for MetricName.",
                ));
            };
            match (&input.statistic, &input.extended_statistic) {
                (Some(_), Some(_)) => {
                    return Err(combination(
                        "The parameters Statistic and ExtendedStatistic are mutually exclusive and you have specified both.",
                    ))
                }
                (None, None) => {
                    return Err(CloudWatchError::MissingParameter(
                        "Exactly one of Statistic or ExtendedStatistic must be specified.".into(),
                    ))
                }
                (None, Some(ext)) => {
                    ExtendedStatistic::from_str(ext).map_err(|_| {
                        invalid(format!(
                            "The value {ext} for parameter ExtendedStatistic is not supported."
                        ))
                    })?;
                }
                (Some(_), None) => {}
            }
            let Some(p) = input.period else {
                return Err(CloudWatchError::MissingParameter(
                    "The parameter Period is required.".into(),
                ));
            };
            check_period(p, "Period")?;
            if input.threshold_metric_id.is_some() {
                return Err(validation(
                    "ThresholdMetricId can only be used together with Metrics.",
                ));
            }
            p
        }
    };
    let total = period.saturating_mul(evaluation_periods);
    if period < 3_600 && total > MAX_DAY_SECONDS {
        return Err(validation(
            "Metrics cannot be checked across more than a day (EvaluationPeriods * Period must be <= 86400).",
        ));
    }
    if total > MAX_WEEK_SECONDS {
        return Err(validation(
            "Metrics cannot be checked across more than a week (EvaluationPeriods * Period must be <= 604800).",
        ));
    }
    if let Some(m) = input.datapoints_to_alarm {
        if m > evaluation_periods {
            return Err(validation(
                "DatapointsToAlarm must be less than or equal to EvaluationPeriods.",
            ));
        }
    }
    let band_operator = BAND_OPERATORS.contains(&comparison_operator.as_str());
    match (&input.threshold_metric_id, input.threshold) {
        (Some(_), Some(_)) => {
            return Err(validation(
                "Threshold should not be set when ThresholdMetricId is set.",
            ))
        }
        (Some(_), None) if !band_operator => {
            return Err(validation(format!(
                "ComparisonOperator {comparison_operator} is not supported with ThresholdMetricId: use LessThanLowerOrGreaterThanUpperThreshold, LessThanLowerThreshold or GreaterThanUpperThreshold."
            )))
        }
        (None, None) => {
            return Err(validation(
                "Threshold must be set when ThresholdMetricId is not set.",
            ))
        }
        (None, Some(_)) if band_operator => {
            return Err(validation(format!(
                "ComparisonOperator {comparison_operator} can only be used with ThresholdMetricId."
            )))
        }
        _ => {}
    }
    if let Some(t) = input.threshold {
        if !t.is_finite() {
            return Err(invalid("The parameter Threshold must be a finite number."));
        }
    }
    if let Some(t) = &input.treat_missing_data {
        if !["breaching", "notBreaching", "ignore", "missing"].contains(&t.as_str()) {
            return Err(validation(format!(
                "Option {t} is not supported. Supported options for parameter TreatMissingData are: [missing, ignore, breaching, notBreaching]."
            )));
        }
    }
    if let Some(e) = &input.evaluate_low_sample_count_percentile {
        if !["evaluate", "ignore"].contains(&e.as_str()) {
            return Err(validation(format!(
                "Option {e} is not supported. Supported options for parameter EvaluateLowSampleCountPercentile are: [evaluate, ignore]."
            )));
        }
        let percentile = input
            .extended_statistic
            .as_deref()
            .is_some_and(|s| s.starts_with('p') || s.starts_with('P'));
        if !percentile {
            return Err(validation(
                "EvaluateLowSampleCountPercentile can only be set for alarms on a percentile ExtendedStatistic.",
            ));
        }
    }
    Ok(MetricConfig {
        metric_name: input.metric_name.clone(),
        namespace: input.namespace.clone(),
        statistic: input.statistic.clone(),
        extended_statistic: input.extended_statistic.clone(),
        dimensions: input.dimensions.clone(),
        period: input.metrics.is_none().then_some(period),
        unit: input.unit.clone(),
        evaluation_periods,
        datapoints_to_alarm: input.datapoints_to_alarm,
        threshold: input.threshold,
        comparison_operator,
        treat_missing_data: input.treat_missing_data.clone(),
        evaluate_low_sample_count_percentile: input.evaluate_low_sample_count_percentile.clone(),
        metrics: input.metrics.clone(),
        threshold_metric_id: input.threshold_metric_id.clone(),
    })
}

/// Validates a PutCompositeAlarm request (alarm references are checked by the caller, which
/// knows the other alarms).
pub fn composite_config(
    input: &PutCompositeAlarmInput,
    region: &str,
) -> Result<(CompositeConfig, composite::Rule)> {
    for actions in [
        &input.ok_actions,
        &input.alarm_actions,
        &input.insufficient_data_actions,
    ] {
        check_actions(actions, region)?;
    }
    let rule = composite::parse(&input.alarm_rule)
        .map_err(|e| validation(format!("Invalid AlarmRule: {e}")))?;
    let periods_given = input.actions_suppressor_wait_period.is_some()
        || input.actions_suppressor_extension_period.is_some();
    if input.actions_suppressor.is_none() && periods_given {
        return Err(validation(
            "ActionsSuppressorWaitPeriod and ActionsSuppressorExtensionPeriod require ActionsSuppressor.",
        ));
    }
    if input.actions_suppressor.is_some()
        && (input.actions_suppressor_wait_period.is_none()
            || input.actions_suppressor_extension_period.is_none())
    {
        return Err(validation(
            "ActionsSuppressorWaitPeriod and ActionsSuppressorExtensionPeriod are required when ActionsSuppressor is set.",
        ));
    }
    for (name, v) in [
        (
            "ActionsSuppressorWaitPeriod",
            input.actions_suppressor_wait_period,
        ),
        (
            "ActionsSuppressorExtensionPeriod",
            input.actions_suppressor_extension_period,
        ),
    ] {
        if v.is_some_and(|v| v < 0) {
            return Err(invalid(format!(
                "The value for parameter {name} must not be negative."
            )));
        }
    }
    Ok((
        CompositeConfig {
            rule: input.alarm_rule.clone(),
            actions_suppressor: input.actions_suppressor.clone(),
            actions_suppressor_wait_period: input.actions_suppressor_wait_period,
            actions_suppressor_extension_period: input.actions_suppressor_extension_period,
            actions_suppressed_by: None,
            actions_suppressed_reason: None,
        },
        rule,
    ))
}

fn put_opt(doc: &mut serde_json::Map<String, Value>, key: &str, value: Option<Value>) {
    if let Some(v) = value {
        doc.insert(key.to_string(), v);
    }
}

/// The MetricAlarm or CompositeAlarm shape DescribeAlarms answers.
pub fn describe(alarm: &Alarm) -> Value {
    let mut doc = serde_json::Map::new();
    doc.insert("AlarmName".into(), json!(alarm.name));
    doc.insert("AlarmArn".into(), json!(alarm.arn));
    put_opt(
        &mut doc,
        "AlarmDescription",
        alarm.description.as_ref().map(|d| json!(d)),
    );
    doc.insert(
        "AlarmConfigurationUpdatedTimestamp".into(),
        json!(seconds(alarm.config_updated_ms)),
    );
    doc.insert("ActionsEnabled".into(), json!(alarm.actions_enabled));
    doc.insert("OKActions".into(), json!(alarm.ok_actions));
    doc.insert("AlarmActions".into(), json!(alarm.alarm_actions));
    doc.insert(
        "InsufficientDataActions".into(),
        json!(alarm.insufficient_data_actions),
    );
    doc.insert("StateValue".into(), json!(alarm.state.value.as_str()));
    doc.insert("StateReason".into(), json!(alarm.state.reason));
    put_opt(
        &mut doc,
        "StateReasonData",
        alarm.state.reason_data.as_ref().map(|d| json!(d)),
    );
    doc.insert(
        "StateUpdatedTimestamp".into(),
        json!(seconds(alarm.state.updated_ms)),
    );
    doc.insert(
        "StateTransitionedTimestamp".into(),
        json!(seconds(alarm.state.transitioned_ms)),
    );
    match &alarm.kind {
        AlarmKind::Metric(m) => {
            put_opt(
                &mut doc,
                "MetricName",
                m.metric_name.as_ref().map(|v| json!(v)),
            );
            put_opt(
                &mut doc,
                "Namespace",
                m.namespace.as_ref().map(|v| json!(v)),
            );
            put_opt(
                &mut doc,
                "Statistic",
                m.statistic.as_ref().map(|v| json!(v)),
            );
            put_opt(
                &mut doc,
                "ExtendedStatistic",
                m.extended_statistic.as_ref().map(|v| json!(v)),
            );
            if m.metrics.is_none() {
                doc.insert("Dimensions".into(), json!(m.dimensions));
            }
            put_opt(&mut doc, "Period", m.period.map(|v| json!(v)));
            put_opt(&mut doc, "Unit", m.unit.as_ref().map(|v| json!(v)));
            doc.insert("EvaluationPeriods".into(), json!(m.evaluation_periods));
            put_opt(
                &mut doc,
                "DatapointsToAlarm",
                m.datapoints_to_alarm.map(|v| json!(v)),
            );
            put_opt(&mut doc, "Threshold", m.threshold.map(|v| json!(v)));
            doc.insert("ComparisonOperator".into(), json!(m.comparison_operator));
            put_opt(
                &mut doc,
                "TreatMissingData",
                m.treat_missing_data.as_ref().map(|v| json!(v)),
            );
            put_opt(
                &mut doc,
                "EvaluateLowSampleCountPercentile",
                m.evaluate_low_sample_count_percentile
                    .as_ref()
                    .map(|v| json!(v)),
            );
            put_opt(&mut doc, "Metrics", m.metrics.clone());
            put_opt(
                &mut doc,
                "ThresholdMetricId",
                m.threshold_metric_id.as_ref().map(|v| json!(v)),
            );
        }
        AlarmKind::Composite(c) => {
            doc.insert("AlarmRule".into(), json!(c.rule));
            put_opt(
                &mut doc,
                "ActionsSuppressor",
                c.actions_suppressor.as_ref().map(|v| json!(v)),
            );
            put_opt(
                &mut doc,
                "ActionsSuppressorWaitPeriod",
                c.actions_suppressor_wait_period.map(|v| json!(v)),
            );
            put_opt(
                &mut doc,
                "ActionsSuppressorExtensionPeriod",
                c.actions_suppressor_extension_period.map(|v| json!(v)),
            );
            put_opt(
                &mut doc,
                "ActionsSuppressedBy",
                c.actions_suppressed_by.as_ref().map(|v| json!(v)),
            );
            put_opt(
                &mut doc,
                "ActionsSuppressedReason",
                c.actions_suppressed_reason.as_ref().map(|v| json!(v)),
            );
        }
    }
    Value::Object(doc)
}

/// The alarm's configuration as history items and events show it: the DescribeAlarms view
/// without the state, camelCase, with the effective TreatMissingData.
pub fn configuration_doc(alarm: &Alarm) -> Value {
    const STATE_KEYS: [&str; 8] = [
        "ActionsSuppressedBy",
        "ActionsSuppressedReason",
        "AlarmConfigurationUpdatedTimestamp",
        "StateReason",
        "StateReasonData",
        "StateTransitionedTimestamp",
        "StateUpdatedTimestamp",
        "StateValue",
    ];
    let mut described = describe(alarm);
    if let Value::Object(doc) = &mut described {
        for key in STATE_KEYS {
            doc.remove(key);
        }
    }
    let mut doc = camel_case(described);
    if let AlarmKind::Metric(m) = &alarm.kind {
        doc["treatMissingData"] = json!(m.treat_missing());
    }
    doc
}

/// Lower-cases the first letter of every object key, recursively (`MetricStat` → `metricStat`).
pub fn camel_case(value: Value) -> Value {
    match value {
        Value::Object(map) => Value::Object(
            map.into_iter()
                .map(|(k, v)| {
                    let mut chars = k.chars();
                    let key = match chars.next() {
                        Some(first) => first.to_ascii_lowercase().to_string() + chars.as_str(),
                        None => k,
                    };
                    (key, camel_case(v))
                })
                .collect(),
        ),
        Value::Array(items) => Value::Array(items.into_iter().map(camel_case).collect()),
        other => other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn input(doc: Value) -> PutMetricAlarmInput {
        serde_json::from_value(doc).unwrap()
    }

    fn base() -> Value {
        json!({
            "AlarmName": "a", "MetricName": "m", "Namespace": "ns", "Statistic": "Average",
            "Period": 60, "EvaluationPeriods": 1, "Threshold": 1.0,
            "ComparisonOperator": "GreaterThanThreshold"
        })
    }

    fn with(changes: Value) -> PutMetricAlarmInput {
        let mut doc = base();
        for (k, v) in changes.as_object().unwrap() {
            if v.is_null() {
                doc.as_object_mut().unwrap().remove(k);
            } else {
                doc[k] = v.clone();
            }
        }
        input(doc)
    }

    fn message(i: PutMetricAlarmInput) -> String {
        metric_config(&i, "us-east-1").unwrap_err().to_string()
    }

    #[test]
    fn a_plain_alarm_is_accepted() {
        let c = metric_config(&with(json!({})), "us-east-1").unwrap();
        assert_eq!(c.period, Some(60));
        assert_eq!(c.datapoints_to_alarm(), 1);
        assert_eq!(c.treat_missing(), "missing");
    }

    #[test]
    fn periods_and_ranges_follow_the_reference() {
        for ok in [10, 20, 30, 60, 300, 3600] {
            assert!(metric_config(&with(json!({"Period": ok})), "us-east-1").is_ok());
        }
        for bad in [1, 5, 45, 90] {
            assert_eq!(
                message(with(json!({"Period": bad}))),
                "The parameter Period must be 10, 20, 30 or a multiple of 60."
            );
        }
        assert!(metric_config(
            &with(json!({"Period": 60, "EvaluationPeriods": 1440})),
            "us-east-1"
        )
        .is_ok());
        assert!(
            message(with(json!({"Period": 60, "EvaluationPeriods": 1441})))
                .contains("EvaluationPeriods * Period must be <= 86400")
        );
        assert!(metric_config(
            &with(json!({"Period": 3600, "EvaluationPeriods": 168})),
            "us-east-1"
        )
        .is_ok());
        assert!(
            message(with(json!({"Period": 3600, "EvaluationPeriods": 169}))).contains("<= 604800")
        );
    }

    #[test]
    fn combinations_are_checked() {
        assert!(message(with(json!({"ExtendedStatistic": "p99"}))).contains("mutually exclusive"));
        assert!(message(with(json!({"Statistic": null})))
            .contains("Exactly one of Statistic or ExtendedStatistic"));
        assert!(metric_config(
            &with(json!({"Statistic": null, "ExtendedStatistic": "tm90"})),
            "us-east-1"
        )
        .is_ok());
        assert!(message(with(
            json!({"EvaluationPeriods": 2, "DatapointsToAlarm": 3})
        ))
        .contains("DatapointsToAlarm"));
        assert!(message(with(json!({"Threshold": null}))).contains("Threshold must be set"));
        assert!(message(with(
            json!({"ComparisonOperator": "LessThanLowerThreshold"})
        ))
        .contains("ThresholdMetricId"));
        assert!(message(with(json!({"TreatMissingData": "zero"}))).contains("TreatMissingData"));
        assert!(message(with(json!({
            "Statistic": null, "ExtendedStatistic": "p99",
            "EvaluateLowSampleCountPercentile": "skip"
        })))
        .contains("EvaluateLowSampleCountPercentile"));
    }

    #[test]
    fn metric_math_alarms_need_one_returned_query() {
        let metrics = json!([
            {"Id": "m1", "MetricStat": {"Metric": {"Namespace": "ns", "MetricName": "m"},
              "Period": 60, "Stat": "Sum"}, "ReturnData": false},
            {"Id": "e1", "Expression": "m1 * 2"}
        ]);
        let ok = input(json!({
            "AlarmName": "a", "EvaluationPeriods": 1, "Threshold": 1.0,
            "ComparisonOperator": "GreaterThanThreshold", "Metrics": metrics
        }));
        let c = metric_config(&ok, "us-east-1").unwrap();
        assert_eq!(c.evaluation_period(), 60);
        let both = input(json!({
            "AlarmName": "a", "EvaluationPeriods": 1, "Threshold": 1.0, "MetricName": "m",
            "ComparisonOperator": "GreaterThanThreshold", "Metrics": metrics
        }));
        assert!(message(both).contains("mutually exclusive"));
        let none_returned = input(json!({
            "AlarmName": "a", "EvaluationPeriods": 1, "Threshold": 1.0,
            "ComparisonOperator": "GreaterThanThreshold",
            "Metrics": [{"Id": "m1", "ReturnData": false, "MetricStat": {"Metric":
                {"Namespace": "ns", "MetricName": "m"}, "Period": 60, "Stat": "Sum"}}]
        }));
        assert_eq!(
            message(none_returned),
            "Exactly one element of the metrics list should return data."
        );
    }

    #[test]
    fn iso_timestamps_carry_milliseconds_and_offset() {
        assert_eq!(
            iso_millis(1_732_615_200_123),
            "2024-11-26T10:00:00.123+0000"
        );
    }
}

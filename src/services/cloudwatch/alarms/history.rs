//! What an alarm leaves behind: history items (ConfigurationUpdate, StateUpdate, Action), the
//! "CloudWatch Alarm State Change" event and the notification message its SNS actions carry.

use serde_json::{json, Value};

use super::model::{configuration_doc, iso_millis, Alarm, AlarmKind, AlarmState};
use super::repo::HistoryItem;

fn item(
    alarm: &Alarm,
    at_ms: i64,
    item_type: &'static str,
    summary: String,
    data: Value,
) -> HistoryItem {
    HistoryItem {
        account_id: alarm.account_id.clone(),
        region: alarm.region.clone(),
        alarm_name: alarm.name.clone(),
        alarm_type: alarm.alarm_type(),
        timestamp_ms: at_ms,
        item_type,
        summary,
        data: data.to_string(),
    }
}

pub fn created(alarm: &Alarm, at_ms: i64) -> HistoryItem {
    item(
        alarm,
        at_ms,
        "ConfigurationUpdate",
        format!("Alarm \"{}\" created", alarm.name),
        json!({"version": "1.0", "type": "Create", "createdAlarm": configuration_doc(alarm)}),
    )
}

pub fn updated(before: &Alarm, after: &Alarm, at_ms: i64) -> HistoryItem {
    let old = configuration_doc(before);
    let new = configuration_doc(after);
    // Only the fields that changed, with their values before the update.
    let mut original = serde_json::Map::new();
    if let (Value::Object(old), Value::Object(new)) = (&old, &new) {
        for (k, v) in old {
            if new.get(k) != Some(v) {
                original.insert(k.clone(), v.clone());
            }
        }
        for k in new.keys() {
            if !old.contains_key(k) {
                original.insert(k.clone(), Value::Null);
            }
        }
    }
    item(
        after,
        at_ms,
        "ConfigurationUpdate",
        format!("Alarm \"{}\" updated", after.name),
        json!({
            "version": "1.0",
            "type": "Update",
            "updatedAlarm": new,
            "originalUpdatedFields": Value::Object(original),
        }),
    )
}

pub fn deleted(alarm: &Alarm, at_ms: i64) -> HistoryItem {
    item(
        alarm,
        at_ms,
        "ConfigurationUpdate",
        format!("Alarm \"{}\" deleted", alarm.name),
        json!({"version": "1.0", "type": "Delete", "deletedAlarm": configuration_doc(alarm)}),
    )
}

fn state_doc(state: &AlarmState) -> Value {
    let mut doc = serde_json::Map::new();
    doc.insert("stateValue".into(), json!(state.value.as_str()));
    doc.insert("stateReason".into(), json!(state.reason));
    if let Some(data) = &state.reason_data {
        let parsed = serde_json::from_str::<Value>(data).unwrap_or_else(|_| json!(data));
        doc.insert("stateReasonData".into(), parsed);
    }
    Value::Object(doc)
}

pub fn state_update(alarm: &Alarm, old: &AlarmState, at_ms: i64) -> HistoryItem {
    item(
        alarm,
        at_ms,
        "StateUpdate",
        format!(
            "Alarm updated from {} to {}",
            old.value.as_str(),
            alarm.state.value.as_str()
        ),
        json!({
            "version": "1.0",
            "oldState": state_doc(old),
            "newState": state_doc(&alarm.state),
        }),
    )
}

pub fn action(alarm: &Alarm, target: &str, message: Option<&str>, at_ms: i64) -> HistoryItem {
    let mut data = serde_json::Map::new();
    data.insert("actionState".into(), json!("Succeeded"));
    data.insert("stateUpdateTimestamp".into(), json!(alarm.state.updated_ms));
    if let Some(m) = message {
        data.insert("notificationResource".into(), json!(target));
        data.insert("publishedMessage".into(), json!(m));
    }
    item(
        alarm,
        at_ms,
        "Action",
        format!("Successfully executed action {target}"),
        Value::Object(data),
    )
}

/// The long region name CloudWatch puts in notifications (`US East (N. Virginia)`).
pub fn region_name(region: &str) -> &str {
    match region {
        "us-east-1" => "US East (N. Virginia)",
        "us-east-2" => "US East (Ohio)",
        "us-west-1" => "US West (N. California)",
        "us-west-2" => "US West (Oregon)",
        "af-south-1" => "Africa (Cape Town)",
        "ap-east-1" => "Asia Pacific (Hong Kong)",
        "ap-south-1" => "Asia Pacific (Mumbai)",
        "ap-northeast-1" => "Asia Pacific (Tokyo)",
        "ap-northeast-2" => "Asia Pacific (Seoul)",
        "ap-northeast-3" => "Asia Pacific (Osaka)",
        "ap-southeast-1" => "Asia Pacific (Singapore)",
        "ap-southeast-2" => "Asia Pacific (Sydney)",
        "ca-central-1" => "Canada (Central)",
        "eu-central-1" => "EU (Frankfurt)",
        "eu-west-1" => "EU (Ireland)",
        "eu-west-2" => "EU (London)",
        "eu-west-3" => "EU (Paris)",
        "eu-north-1" => "EU (Stockholm)",
        "eu-south-1" => "EU (Milan)",
        "me-south-1" => "Middle East (Bahrain)",
        "sa-east-1" => "South America (Sao Paulo)",
        other => other,
    }
}

/// `ALARM: "name" in US East (N. Virginia)`.
pub fn notification_subject(alarm: &Alarm) -> String {
    format!(
        "{}: \"{}\" in {}",
        alarm.state.value.as_str(),
        alarm.name,
        region_name(&alarm.region)
    )
}

fn trigger(alarm: &Alarm) -> Value {
    let AlarmKind::Metric(m) = &alarm.kind else {
        return Value::Null;
    };
    let mut t = serde_json::Map::new();
    if m.metrics.is_none() {
        t.insert("MetricName".into(), json!(m.metric_name));
        t.insert("Namespace".into(), json!(m.namespace));
        match (&m.statistic, &m.extended_statistic) {
            (Some(s), _) => {
                t.insert("StatisticType".into(), json!("Statistic"));
                t.insert("Statistic".into(), json!(s.to_ascii_uppercase()));
            }
            (None, Some(e)) => {
                t.insert("StatisticType".into(), json!("ExtendedStatistic"));
                t.insert("ExtendedStatistic".into(), json!(e));
            }
            (None, None) => {}
        }
        t.insert("Unit".into(), json!(m.unit));
        let dims: Vec<Value> = m
            .dimensions
            .iter()
            .map(|d| json!({"value": d.value, "name": d.name}))
            .collect();
        t.insert("Dimensions".into(), json!(dims));
    }
    t.insert("Period".into(), json!(m.evaluation_period()));
    t.insert("EvaluationPeriods".into(), json!(m.evaluation_periods));
    t.insert("DatapointsToAlarm".into(), json!(m.datapoints_to_alarm()));
    t.insert("ComparisonOperator".into(), json!(m.comparison_operator));
    t.insert("Threshold".into(), json!(m.threshold));
    t.insert("TreatMissingData".into(), json!(m.treat_missing()));
    t.insert(
        "EvaluateLowSampleCountPercentile".into(),
        json!(m
            .evaluate_low_sample_count_percentile
            .clone()
            .unwrap_or_default()),
    );
    if let Some(metrics) = &m.metrics {
        t.insert("Metrics".into(), metrics.clone());
    }
    if let Some(id) = &m.threshold_metric_id {
        t.insert("ThresholdMetricId".into(), json!(id));
    }
    Value::Object(t)
}

/// The JSON message CloudWatch publishes to an alarm's SNS topics.
pub fn notification_message(alarm: &Alarm, old: &AlarmState) -> String {
    let mut doc = serde_json::Map::new();
    doc.insert("AlarmName".into(), json!(alarm.name));
    doc.insert("AlarmDescription".into(), json!(alarm.description));
    doc.insert("AWSAccountId".into(), json!(alarm.account_id));
    doc.insert(
        "AlarmConfigurationUpdatedTimestamp".into(),
        json!(iso_millis(alarm.config_updated_ms)),
    );
    doc.insert("NewStateValue".into(), json!(alarm.state.value.as_str()));
    doc.insert("NewStateReason".into(), json!(alarm.state.reason));
    doc.insert(
        "StateChangeTime".into(),
        json!(iso_millis(alarm.state.updated_ms)),
    );
    doc.insert("Region".into(), json!(region_name(&alarm.region)));
    doc.insert("AlarmArn".into(), json!(alarm.arn));
    doc.insert("OldStateValue".into(), json!(old.value.as_str()));
    doc.insert("OKActions".into(), json!(alarm.ok_actions));
    doc.insert("AlarmActions".into(), json!(alarm.alarm_actions));
    doc.insert(
        "InsufficientDataActions".into(),
        json!(alarm.insufficient_data_actions),
    );
    match &alarm.kind {
        AlarmKind::Metric(_) => {
            doc.insert("Trigger".into(), trigger(alarm));
        }
        AlarmKind::Composite(c) => {
            doc.insert("AlarmRule".into(), json!(c.rule));
        }
    }
    Value::Object(doc).to_string()
}

fn event_state(state: &AlarmState) -> Value {
    let mut doc = serde_json::Map::new();
    doc.insert("value".into(), json!(state.value.as_str()));
    doc.insert("reason".into(), json!(state.reason));
    if let Some(data) = &state.reason_data {
        doc.insert("reasonData".into(), json!(data));
    }
    doc.insert("timestamp".into(), json!(iso_millis(state.updated_ms)));
    Value::Object(doc)
}

/// `metrics` of the event's configuration: the alarm's metric as a MetricStat query, or its
/// `Metrics` array, in the event's camelCase (`dimensions` as an object).
fn event_metrics(alarm: &Alarm) -> Value {
    let AlarmKind::Metric(m) = &alarm.kind else {
        return json!([]);
    };
    let metric_doc =
        |namespace: &Option<String>, name: &Option<String>, dims: &[(String, String)]| {
            let dimensions: serde_json::Map<String, Value> =
                dims.iter().map(|(k, v)| (k.clone(), json!(v))).collect();
            json!({"dimensions": dimensions, "name": name, "namespace": namespace})
        };
    match &m.metrics {
        None => {
            let dims: Vec<(String, String)> = m
                .dimensions
                .iter()
                .map(|d| (d.name.clone(), d.value.clone()))
                .collect();
            let stat = m.statistic.clone().or_else(|| m.extended_statistic.clone());
            let mut stat_doc = json!({
                "metric": metric_doc(&m.namespace, &m.metric_name, &dims),
                "period": m.period,
                "stat": stat,
            });
            if let Some(u) = &m.unit {
                stat_doc["unit"] = json!(u);
            }
            json!([{
                "id": uuid::Uuid::new_v4().to_string(),
                "metricStat": stat_doc,
                "returnData": true,
            }])
        }
        Some(_) => {
            let queries = m.metric_queries();
            let list: Vec<Value> = queries
                .iter()
                .map(|q| {
                    let mut doc = serde_json::Map::new();
                    doc.insert("id".into(), json!(q.id));
                    if let Some(e) = &q.expression {
                        doc.insert("expression".into(), json!(e));
                    }
                    if let Some(l) = &q.label {
                        doc.insert("label".into(), json!(l));
                    }
                    if let Some(s) = &q.metric_stat {
                        let dims: Vec<(String, String)> = s
                            .metric
                            .dimensions
                            .iter()
                            .map(|d| (d.name.clone(), d.value.clone()))
                            .collect();
                        let mut stat_doc = json!({
                            "metric": metric_doc(&s.metric.namespace, &s.metric.metric_name, &dims),
                            "period": s.period,
                            "stat": s.stat,
                        });
                        if let Some(u) = &s.unit {
                            stat_doc["unit"] = json!(u);
                        }
                        doc.insert("metricStat".into(), stat_doc);
                    }
                    if let Some(p) = q.period {
                        doc.insert("period".into(), json!(p));
                    }
                    doc.insert("returnData".into(), json!(q.return_data.unwrap_or(true)));
                    Value::Object(doc)
                })
                .collect();
            json!(list)
        }
    }
}

/// The detail of the "CloudWatch Alarm State Change" event.
pub fn state_change_detail(alarm: &Alarm, old: &AlarmState) -> Value {
    let configuration = match &alarm.kind {
        AlarmKind::Metric(_) => {
            let mut c = serde_json::Map::new();
            if let Some(d) = &alarm.description {
                c.insert("description".into(), json!(d));
            }
            c.insert("metrics".into(), event_metrics(alarm));
            Value::Object(c)
        }
        AlarmKind::Composite(comp) => {
            let mut c = serde_json::Map::new();
            c.insert("alarmRule".into(), json!(comp.rule));
            if let Some(s) = &comp.actions_suppressor {
                c.insert("actionsSuppressor".into(), json!(s));
                c.insert(
                    "actionsSuppressorWaitPeriod".into(),
                    json!(comp.actions_suppressor_wait_period),
                );
                c.insert(
                    "actionsSuppressorExtensionPeriod".into(),
                    json!(comp.actions_suppressor_extension_period),
                );
            }
            if let Some(d) = &alarm.description {
                c.insert("description".into(), json!(d));
            }
            Value::Object(c)
        }
    };
    let mut state = event_state(&alarm.state);
    if let AlarmKind::Composite(comp) = &alarm.kind {
        if let Some(by) = &comp.actions_suppressed_by {
            state["actionsSuppressedBy"] = json!(by);
            state["actionsSuppressedReason"] = json!(comp.actions_suppressed_reason);
        }
    }
    json!({
        "alarmName": alarm.name,
        "state": state,
        "previousState": event_state(old),
        "configuration": configuration,
    })
}

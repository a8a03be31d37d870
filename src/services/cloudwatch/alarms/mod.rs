//! CloudWatch alarms: metric and composite alarms, their history, and the evaluator.
//!
//! Every alarm lives in memory (loaded from the database on first use) and is written back as
//! one JSON row whenever it changes, so an evaluation pass reads no alarm rows and writes only
//! the alarms whose state changed, in one commit. `model.rs` validates and describes alarms,
//! `evaluator.rs` decides states from datapoints, `composite.rs` parses alarm rules,
//! `history.rs` builds history items, events and notifications, `repo.rs` holds the SQL.
//!
//! All changes (API calls and evaluation passes) are serialized by one async lock, taken
//! around "compute the new alarms, commit them, then publish them in memory", so the database
//! and the in-memory map never disagree and a pass never applies a state computed against an
//! older configuration (each configuration change bumps the alarm's version).

pub mod composite;
pub mod evaluator;
pub mod history;
pub mod model;
pub mod repo;

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use base64::Engine;
use serde::Deserialize;
use serde_json::{json, Value};

use super::repo::{MetricsRepo, SeriesKey};
use super::{CloudWatchError, Result};
use crate::context::RequestContext;
use crate::services::bus::{EventEmitter, ServiceEvent};
use crate::services::deliveries::{self, Deliveries, Delivery, DeliveryStatus};
use crate::services::input;
use crate::store::{Db, StoreError};
use evaluator::{AlarmStat, Comparison, SeriesIndex, Slot};
use model::{Alarm, AlarmKind, AlarmState, StateValue};
use repo::{AlarmRepo, Changes, HistoryQuery};

type Key = (String, String, String);

fn key_of(account: &str, region: &str, name: &str) -> Key {
    (account.to_string(), region.to_string(), name.to_string())
}

const INITIAL_REASON: &str = "Unchecked: Initial alarm creation";
const DESCRIBE_DEFAULT_RECORDS: usize = 50;
const HISTORY_DEFAULT_RECORDS: i64 = 50;
/// Composite alarms may reference composite alarms: re-evaluate until nothing moves, at most
/// this many rounds (rules are acyclic, so the depth of the tree bounds the rounds needed).
const COMPOSITE_ROUNDS: usize = 16;

/// A state change to commit: the alarm before, and after.
struct Transition {
    before: Arc<Alarm>,
    after: Alarm,
}

struct Inner {
    repo: AlarmRepo,
    metrics: MetricsRepo,
    map: Mutex<BTreeMap<Key, Arc<Alarm>>>,
    loaded: tokio::sync::OnceCell<()>,
    write_lock: tokio::sync::Mutex<()>,
    /// Series ids and the recent datapoints of watched series, owned by evaluation passes.
    evaluation: tokio::sync::Mutex<(SeriesIndex, evaluator::MetricCache)>,
    /// Bumped by a reset, so the series index and cache (ids restart) are rebuilt.
    reset_epoch: AtomicU64,
    index_epoch: AtomicU64,
    emitter: Mutex<EventEmitter>,
    deliveries: Deliveries,
}

#[derive(Clone)]
pub struct Alarms {
    inner: Arc<Inner>,
}

fn invalid(message: impl Into<String>) -> CloudWatchError {
    CloudWatchError::InvalidParameterValue(message.into())
}

fn validation(message: impl Into<String>) -> CloudWatchError {
    CloudWatchError::Validation(message.into())
}

fn encode_token(prefix: &str, value: &str) -> String {
    base64::engine::general_purpose::STANDARD.encode(format!("{prefix}:{value}"))
}

fn decode_token(prefix: &str, token: &str) -> Option<String> {
    let raw = base64::engine::general_purpose::STANDARD
        .decode(token)
        .ok()?;
    let text = String::from_utf8(raw).ok()?;
    text.strip_prefix(prefix)?
        .strip_prefix(':')
        .map(str::to_string)
}

fn bad_token(token: &str) -> CloudWatchError {
    CloudWatchError::InvalidNextToken(format!(
        "The value {token} for parameter NextToken is invalid."
    ))
}

/// "Wednesday 02 October, 2019 17:04:40 UTC", as composite alarm reasons give times.
fn long_time(ms: i64) -> String {
    chrono::DateTime::from_timestamp_millis(ms)
        .map(|t| t.format("%A %d %B, %Y %H:%M:%S UTC").to_string())
        .unwrap_or_default()
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct DescribeAlarmsInput {
    #[serde(default)]
    alarm_names: Vec<String>,
    alarm_name_prefix: Option<String>,
    #[serde(default)]
    alarm_types: Vec<String>,
    children_of_alarm_name: Option<String>,
    parents_of_alarm_name: Option<String>,
    state_value: Option<String>,
    action_prefix: Option<String>,
    max_records: Option<i64>,
    next_token: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct DescribeAlarmsForMetricInput {
    metric_name: String,
    namespace: String,
    statistic: Option<String>,
    extended_statistic: Option<String>,
    #[serde(default)]
    dimensions: Vec<super::types::Dimension>,
    period: Option<i64>,
    unit: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct AlarmNamesInput {
    #[serde(default)]
    alarm_names: Vec<String>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct SetAlarmStateInput {
    alarm_name: String,
    state_value: String,
    state_reason: String,
    state_reason_data: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct DescribeAlarmHistoryInput {
    alarm_name: Option<String>,
    #[serde(default)]
    alarm_types: Vec<String>,
    history_item_type: Option<String>,
    start_date: Option<f64>,
    end_date: Option<f64>,
    max_records: Option<i64>,
    next_token: Option<String>,
    scan_by: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct TagResourceInput {
    #[serde(rename = "ResourceARN")]
    resource_arn: String,
    #[serde(default)]
    tags: Vec<model::TagInput>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct UntagResourceInput {
    #[serde(rename = "ResourceARN")]
    resource_arn: String,
    #[serde(default)]
    tag_keys: Vec<String>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct ListTagsInput {
    #[serde(rename = "ResourceARN")]
    resource_arn: String,
}

impl Alarms {
    pub fn new(db: Db, metrics: MetricsRepo) -> Self {
        Alarms {
            inner: Arc::new(Inner {
                repo: AlarmRepo::new(db.clone()),
                metrics,
                map: Mutex::new(BTreeMap::new()),
                loaded: tokio::sync::OnceCell::new(),
                write_lock: tokio::sync::Mutex::new(()),
                evaluation: tokio::sync::Mutex::new(Default::default()),
                reset_epoch: AtomicU64::new(0),
                index_epoch: AtomicU64::new(0),
                emitter: Mutex::new(EventEmitter::detached()),
                deliveries: Deliveries::new(db),
            }),
        }
    }

    pub fn set_emitter(&self, emitter: EventEmitter) {
        if let Ok(mut slot) = self.inner.emitter.lock() {
            *slot = emitter;
        }
    }

    /// The database was wiped: forget every alarm and every known series id.
    pub fn after_reset(&self) {
        if let Ok(mut map) = self.inner.map.lock() {
            map.clear();
        }
        self.inner.reset_epoch.fetch_add(1, Ordering::SeqCst);
    }

    async fn ensure_loaded(&self) -> Result<(), StoreError> {
        self.inner
            .loaded
            .get_or_try_init(|| async {
                let alarms = self.inner.repo.load_all().await?;
                if let Ok(mut map) = self.inner.map.lock() {
                    for a in alarms {
                        map.insert(key_of(&a.account_id, &a.region, &a.name), Arc::new(a));
                    }
                }
                Ok::<(), StoreError>(())
            })
            .await
            .map(|_| ())
    }

    fn get(&self, key: &Key) -> Option<Arc<Alarm>> {
        self.inner.map.lock().ok().and_then(|m| m.get(key).cloned())
    }

    /// The alarms of one account and region, in name order.
    fn alarms_of(&self, account: &str, region: &str) -> Vec<Arc<Alarm>> {
        let Ok(map) = self.inner.map.lock() else {
            return Vec::new();
        };
        let from = key_of(account, region, "");
        map.range(from..)
            .take_while(|((a, r, _), _)| a == account && r == region)
            .map(|(_, v)| v.clone())
            .collect()
    }

    fn publish(&self, alarms: Vec<Alarm>, removed: &[Key]) {
        if let Ok(mut map) = self.inner.map.lock() {
            for k in removed {
                map.remove(k);
            }
            for a in alarms {
                map.insert(key_of(&a.account_id, &a.region, &a.name), Arc::new(a));
            }
        }
    }

    // ------------------------------------------------------------------------------------
    // Operations
    // ------------------------------------------------------------------------------------

    /// https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/API_PutMetricAlarm.html
    pub async fn put_metric_alarm(&self, ctx: &RequestContext, doc: Value) -> Result<Value> {
        let request: model::PutMetricAlarmInput = input(doc)?;
        let config = model::metric_config(&request, &ctx.region)?;
        let tags = model::check_tags(&request.tags)?;
        self.ensure_loaded().await?;
        let _guard = self.inner.write_lock.lock().await;
        let key = key_of(&ctx.account_id, &ctx.region, &request.alarm_name);
        let existing = self.get(&key);
        let alarm = self.build(
            ctx,
            &request.alarm_name,
            existing.as_deref(),
            request.alarm_description.clone(),
            request.actions_enabled,
            [
                request.ok_actions.clone(),
                request.alarm_actions.clone(),
                request.insufficient_data_actions.clone(),
            ],
            AlarmKind::Metric(config),
            tags,
        );
        self.save_configuration(existing.as_deref(), alarm, ctx.now_ms)
            .await?;
        Ok(json!({}))
    }

    #[allow(clippy::too_many_arguments)]
    fn build(
        &self,
        ctx: &RequestContext,
        name: &str,
        existing: Option<&Alarm>,
        description: Option<String>,
        actions_enabled: Option<bool>,
        [ok_actions, alarm_actions, insufficient_data_actions]: [Vec<String>; 3],
        kind: AlarmKind,
        tags: Vec<(String, String)>,
    ) -> Alarm {
        let state = existing.map(|e| e.state.clone()).unwrap_or(AlarmState {
            value: StateValue::InsufficientData,
            reason: INITIAL_REASON.into(),
            reason_data: None,
            updated_ms: ctx.now_ms,
            transitioned_ms: ctx.now_ms,
            previous_value: None,
        });
        // Tags given when updating an existing alarm are ignored (PutMetricAlarm reference).
        let tags = existing.map(|e| e.tags.clone()).unwrap_or(tags);
        Alarm {
            account_id: ctx.account_id.clone(),
            region: ctx.region.clone(),
            name: name.to_string(),
            arn: model::alarm_arn(&ctx.region, &ctx.account_id, name),
            description,
            actions_enabled: actions_enabled.unwrap_or(true),
            ok_actions,
            alarm_actions,
            insufficient_data_actions,
            kind,
            state,
            config_updated_ms: ctx.now_ms,
            tags,
            version: existing.map(|e| e.version + 1).unwrap_or(0),
        }
    }

    /// Commits a created or updated alarm with its ConfigurationUpdate item. Called with the
    /// write lock held.
    async fn save_configuration(
        &self,
        existing: Option<&Alarm>,
        alarm: Alarm,
        now_ms: i64,
    ) -> Result<(), StoreError> {
        let item = match existing {
            Some(before) => history::updated(before, &alarm, now_ms),
            None => history::created(&alarm, now_ms),
        };
        self.inner
            .repo
            .apply(Changes {
                upserts: vec![alarm.clone()],
                deletes: Vec::new(),
                history: vec![item],
            })
            .await?;
        self.publish(vec![alarm], &[]);
        Ok(())
    }

    /// https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/API_PutCompositeAlarm.html
    pub async fn put_composite_alarm(&self, ctx: &RequestContext, doc: Value) -> Result<Value> {
        let request: model::PutCompositeAlarmInput = input(doc)?;
        let (config, rule) = model::composite_config(&request, &ctx.region)?;
        let tags = model::check_tags(&request.tags)?;
        self.ensure_loaded().await?;
        let _guard = self.inner.write_lock.lock().await;
        let referenced = rule.alarm_names();
        let missing: Vec<&String> = referenced
            .iter()
            .filter(|n| {
                **n != request.alarm_name
                    && self.get(&key_of(&ctx.account_id, &ctx.region, n)).is_none()
            })
            .collect();
        if !missing.is_empty() {
            let names: Vec<&str> = missing.iter().map(|s| s.as_str()).collect();
            return Err(validation(format!(
                "Could not save the composite alarm as alarms [{}] in the alarm rule do not exist",
                names.join(", ")
            )));
        }
        if self.creates_cycle(ctx, &request.alarm_name, &referenced) {
            return Err(validation(
                "Could not save the composite alarm as it would create a cycle in the alarm rules",
            ));
        }
        let key = key_of(&ctx.account_id, &ctx.region, &request.alarm_name);
        let existing = self.get(&key);
        let alarm = self.build(
            ctx,
            &request.alarm_name,
            existing.as_deref(),
            request.alarm_description.clone(),
            request.actions_enabled,
            [
                request.ok_actions.clone(),
                request.alarm_actions.clone(),
                request.insufficient_data_actions.clone(),
            ],
            AlarmKind::Composite(config),
            tags,
        );
        self.save_configuration(existing.as_deref(), alarm, ctx.now_ms)
            .await?;
        // A composite alarm takes its state from its children right away.
        self.commit_transitions(Vec::new(), ctx.now_ms).await?;
        Ok(json!({}))
    }

    /// Whether `name` with a rule over `referenced` would reach itself through composite rules.
    fn creates_cycle(&self, ctx: &RequestContext, name: &str, referenced: &[String]) -> bool {
        let mut stack: Vec<String> = referenced.to_vec();
        let mut seen: HashSet<String> = HashSet::new();
        while let Some(next) = stack.pop() {
            if next == name {
                return true;
            }
            if !seen.insert(next.clone()) {
                continue;
            }
            if let Some(a) = self.get(&key_of(&ctx.account_id, &ctx.region, &next)) {
                if let AlarmKind::Composite(c) = &a.kind {
                    if let Ok(rule) = composite::parse(&c.rule) {
                        stack.extend(rule.alarm_names());
                    }
                }
            }
        }
        false
    }

    /// https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/API_DescribeAlarms.html
    pub async fn describe_alarms(&self, ctx: &RequestContext, doc: Value) -> Result<Value> {
        let request: DescribeAlarmsInput = input(doc)?;
        self.ensure_loaded().await?;
        if !request.alarm_names.is_empty() && request.alarm_name_prefix.is_some() {
            return Err(CloudWatchError::InvalidParameterCombination(
                "The parameters AlarmNames and AlarmNamePrefix are mutually exclusive and you have specified both.".into(),
            ));
        }
        let relation = request
            .children_of_alarm_name
            .as_ref()
            .map(|n| ("ChildrenOfAlarmName", n))
            .or(request
                .parents_of_alarm_name
                .as_ref()
                .map(|n| ("ParentsOfAlarmName", n)));
        if let Some((parameter, _)) = relation {
            let others = !request.alarm_names.is_empty()
                || request.alarm_name_prefix.is_some()
                || request.state_value.is_some()
                || request.action_prefix.is_some()
                || (request.children_of_alarm_name.is_some()
                    && request.parents_of_alarm_name.is_some());
            if others {
                return Err(validation(format!(
                    "If {parameter} is specified, you cannot specify any other parameters in the request except for MaxRecords and NextToken."
                )));
            }
        }
        for t in &request.alarm_types {
            if t != "MetricAlarm" && t != "CompositeAlarm" {
                return Err(invalid(format!(
                    "The value {t} for parameter AlarmTypes is invalid."
                )));
            }
        }
        let state_filter = match &request.state_value {
            None => None,
            Some(s) => Some(StateValue::parse(s).ok_or_else(|| {
                invalid(format!(
                    "The value {s} for parameter StateValue is invalid."
                ))
            })?),
        };
        let limit = request
            .max_records
            .map(|m| usize::try_from(m).unwrap_or(DESCRIBE_DEFAULT_RECORDS))
            .unwrap_or(DESCRIBE_DEFAULT_RECORDS);
        let after = match &request.next_token {
            None => None,
            Some(t) => Some(decode_token("da", t).ok_or_else(|| bad_token(t))?),
        };
        let all = self.alarms_of(&ctx.account_id, &ctx.region);
        let summary_only = relation.is_some();
        let selected: Vec<Arc<Alarm>> = match (
            &request.children_of_alarm_name,
            &request.parents_of_alarm_name,
        ) {
            (Some(parent), _) => {
                let children: Vec<String> = all
                    .iter()
                    .find(|a| a.name == *parent)
                    .and_then(|a| match &a.kind {
                        AlarmKind::Composite(c) => composite::parse(&c.rule).ok(),
                        AlarmKind::Metric(_) => None,
                    })
                    .map(|r| r.alarm_names())
                    .unwrap_or_default();
                all.into_iter()
                    .filter(|a| children.contains(&a.name))
                    .collect()
            }
            (None, Some(child)) => all
                .into_iter()
                .filter(|a| match &a.kind {
                    AlarmKind::Composite(c) => composite::parse(&c.rule)
                        .map(|r| r.alarm_names().contains(child))
                        .unwrap_or(false),
                    AlarmKind::Metric(_) => false,
                })
                .collect(),
            (None, None) => {
                let types: Vec<&str> = if request.alarm_types.is_empty() {
                    vec!["MetricAlarm"]
                } else {
                    request.alarm_types.iter().map(String::as_str).collect()
                };
                all.into_iter()
                    .filter(|a| types.contains(&a.alarm_type()))
                    .filter(|a| {
                        request.alarm_names.is_empty() || request.alarm_names.contains(&a.name)
                    })
                    .filter(|a| {
                        request
                            .alarm_name_prefix
                            .as_ref()
                            .is_none_or(|p| a.name.starts_with(p.as_str()))
                    })
                    .filter(|a| state_filter.is_none_or(|s| a.state.value == s))
                    .filter(|a| {
                        request
                            .action_prefix
                            .as_ref()
                            .is_none_or(|p| a.all_actions().any(|x| x.starts_with(p.as_str())))
                    })
                    .collect()
            }
        };
        let remaining: Vec<Arc<Alarm>> = selected
            .into_iter()
            .filter(|a| after.as_ref().is_none_or(|n| a.name > *n))
            .collect();
        let more = remaining.len() > limit;
        let page: Vec<Arc<Alarm>> = remaining.into_iter().take(limit).collect();
        let next_token = if more {
            page.last().map(|a| encode_token("da", &a.name))
        } else {
            None
        };
        let view = |a: &Alarm| -> Value {
            if summary_only {
                json!({
                    "AlarmName": a.name,
                    "AlarmArn": a.arn,
                    "StateValue": a.state.value.as_str(),
                    "StateUpdatedTimestamp": model::seconds(a.state.updated_ms),
                })
            } else {
                model::describe(a)
            }
        };
        let metric: Vec<Value> = page
            .iter()
            .filter(|a| matches!(a.kind, AlarmKind::Metric(_)))
            .map(|a| view(a))
            .collect();
        let composite: Vec<Value> = page
            .iter()
            .filter(|a| matches!(a.kind, AlarmKind::Composite(_)))
            .map(|a| view(a))
            .collect();
        let mut out = json!({"MetricAlarms": metric, "CompositeAlarms": composite});
        if let Some(t) = next_token {
            out["NextToken"] = json!(t);
        }
        Ok(out)
    }

    /// https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/API_DescribeAlarmsForMetric.html
    pub async fn describe_alarms_for_metric(
        &self,
        ctx: &RequestContext,
        doc: Value,
    ) -> Result<Value> {
        let request: DescribeAlarmsForMetricInput = input(doc)?;
        self.ensure_loaded().await?;
        let wanted_dims = super::repo::canonical_dimensions(&request.dimensions);
        let alarms: Vec<Value> = self
            .alarms_of(&ctx.account_id, &ctx.region)
            .iter()
            .filter(|a| match &a.kind {
                AlarmKind::Metric(m) => {
                    m.metric_name.as_deref() == Some(request.metric_name.as_str())
                        && m.namespace.as_deref() == Some(request.namespace.as_str())
                        && request
                            .statistic
                            .as_ref()
                            .is_none_or(|s| m.statistic.as_ref() == Some(s))
                        && request
                            .extended_statistic
                            .as_ref()
                            .is_none_or(|s| m.extended_statistic.as_ref() == Some(s))
                        && request.period.is_none_or(|p| m.period == Some(p))
                        && request
                            .unit
                            .as_ref()
                            .is_none_or(|u| m.unit.as_ref() == Some(u))
                        && (request.dimensions.is_empty()
                            || super::repo::canonical_dimensions(&m.dimensions) == wanted_dims)
                }
                AlarmKind::Composite(_) => false,
            })
            .map(|a| model::describe(a))
            .collect();
        Ok(json!({ "MetricAlarms": alarms }))
    }

    /// https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/API_DeleteAlarms.html
    /// Names that do not exist are skipped; the others are deleted.
    pub async fn delete_alarms(&self, ctx: &RequestContext, doc: Value) -> Result<Value> {
        let request: AlarmNamesInput = input(doc)?;
        self.ensure_loaded().await?;
        let _guard = self.inner.write_lock.lock().await;
        let mut changes = Changes::default();
        let mut removed = Vec::new();
        for name in &request.alarm_names {
            let key = key_of(&ctx.account_id, &ctx.region, name);
            if let Some(a) = self.get(&key) {
                changes.history.push(history::deleted(&a, ctx.now_ms));
                changes.deletes.push(key.clone());
                removed.push(key);
            }
        }
        self.inner.repo.apply(changes).await?;
        self.publish(Vec::new(), &removed);
        Ok(json!({}))
    }

    /// https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/API_SetAlarmState.html
    pub async fn set_alarm_state(&self, ctx: &RequestContext, doc: Value) -> Result<Value> {
        let request: SetAlarmStateInput = input(doc)?;
        let value = StateValue::parse(&request.state_value).ok_or_else(|| {
            invalid(format!(
                "The value {} for parameter StateValue is invalid.",
                request.state_value
            ))
        })?;
        if let Some(data) = &request.state_reason_data {
            if serde_json::from_str::<Value>(data).is_err() {
                return Err(CloudWatchError::InvalidFormat(
                    "StateReasonData must be valid JSON.".into(),
                ));
            }
        }
        self.ensure_loaded().await?;
        let _guard = self.inner.write_lock.lock().await;
        let key = key_of(&ctx.account_id, &ctx.region, &request.alarm_name);
        let Some(before) = self.get(&key) else {
            return Err(CloudWatchError::ResourceNotFound(format!(
                "Alarm {} not found",
                request.alarm_name
            )));
        };
        let mut after = (*before).clone();
        after.state = AlarmState {
            value,
            reason: request.state_reason.clone(),
            reason_data: request.state_reason_data.clone(),
            updated_ms: ctx.now_ms,
            transitioned_ms: if value == before.state.value {
                before.state.transitioned_ms
            } else {
                ctx.now_ms
            },
            previous_value: if value == before.state.value {
                before.state.previous_value
            } else {
                Some(before.state.value)
            },
        };
        if value == before.state.value {
            // No transition: the reason is replaced, no action runs.
            self.inner
                .repo
                .apply(Changes {
                    upserts: vec![after.clone()],
                    ..Changes::default()
                })
                .await?;
            self.publish(vec![after], &[]);
        } else {
            self.commit_transitions(vec![Transition { before, after }], ctx.now_ms)
                .await?;
        }
        Ok(json!({}))
    }

    async fn set_actions_enabled(
        &self,
        ctx: &RequestContext,
        doc: Value,
        enabled: bool,
    ) -> Result<Value> {
        let request: AlarmNamesInput = input(doc)?;
        self.ensure_loaded().await?;
        let _guard = self.inner.write_lock.lock().await;
        let mut changed = Vec::new();
        for name in &request.alarm_names {
            if let Some(a) = self.get(&key_of(&ctx.account_id, &ctx.region, name)) {
                if a.actions_enabled != enabled {
                    let mut after = (*a).clone();
                    after.actions_enabled = enabled;
                    changed.push(after);
                }
            }
        }
        self.inner
            .repo
            .apply(Changes {
                upserts: changed.clone(),
                ..Changes::default()
            })
            .await?;
        self.publish(changed, &[]);
        Ok(json!({}))
    }

    pub async fn enable_alarm_actions(&self, ctx: &RequestContext, doc: Value) -> Result<Value> {
        self.set_actions_enabled(ctx, doc, true).await
    }

    pub async fn disable_alarm_actions(&self, ctx: &RequestContext, doc: Value) -> Result<Value> {
        self.set_actions_enabled(ctx, doc, false).await
    }

    /// https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/API_DescribeAlarmHistory.html
    pub async fn describe_alarm_history(&self, ctx: &RequestContext, doc: Value) -> Result<Value> {
        let request: DescribeAlarmHistoryInput = input(doc)?;
        let ascending = match request.scan_by.as_deref() {
            None | Some("TimestampDescending") => false,
            Some("TimestampAscending") => true,
            Some(other) => {
                return Err(invalid(format!(
                    "The value {other} for parameter ScanBy is invalid."
                )))
            }
        };
        let types: Vec<String> = if request.alarm_types.is_empty() {
            vec!["MetricAlarm".into()]
        } else {
            request.alarm_types.clone()
        };
        let limit = request.max_records.unwrap_or(HISTORY_DEFAULT_RECORDS);
        let after = match &request.next_token {
            None => None,
            Some(t) => {
                let text = decode_token("dah", t).ok_or_else(|| bad_token(t))?;
                let (ts, id) = text.split_once(',').ok_or_else(|| bad_token(t))?;
                Some((
                    ts.parse::<i64>().map_err(|_| bad_token(t))?,
                    id.parse::<i64>().map_err(|_| bad_token(t))?,
                ))
            }
        };
        let start_ms = request.start_date.map(|s| (s * 1000.0).round() as i64);
        let end_ms = request.end_date.map(|s| (s * 1000.0).round() as i64);
        let mut items = self
            .inner
            .repo
            .history(&HistoryQuery {
                account_id: &ctx.account_id,
                region: &ctx.region,
                alarm_name: request.alarm_name.as_deref(),
                alarm_types: &types,
                item_type: request.history_item_type.as_deref(),
                start_ms,
                end_ms,
                ascending,
                after,
                limit: limit + 1,
            })
            .await?;
        let more = items.len() as i64 > limit;
        items.truncate(usize::try_from(limit).unwrap_or(0));
        let next_token = if more {
            items
                .last()
                .map(|i| encode_token("dah", &format!("{},{}", i.timestamp_ms, i.id)))
        } else {
            None
        };
        let list: Vec<Value> = items
            .into_iter()
            .map(|i| {
                json!({
                    "AlarmName": i.alarm_name,
                    "AlarmType": i.alarm_type,
                    "Timestamp": model::seconds(i.timestamp_ms),
                    "HistoryItemType": i.item_type,
                    "HistorySummary": i.summary,
                    "HistoryData": i.data,
                })
            })
            .collect();
        let mut out = json!({ "AlarmHistoryItems": list });
        if let Some(t) = next_token {
            out["NextToken"] = json!(t);
        }
        Ok(out)
    }

    /// The alarm an ARN names in the caller's account and region, for the tagging operations.
    fn alarm_by_arn(&self, ctx: &RequestContext, arn: &str) -> Result<Arc<Alarm>> {
        let prefix = format!(
            "arn:aws:cloudwatch:{}:{}:alarm:",
            ctx.region, ctx.account_id
        );
        let found = arn
            .strip_prefix(&prefix)
            .and_then(|name| self.get(&key_of(&ctx.account_id, &ctx.region, name)));
        found.ok_or_else(|| {
            if arn.starts_with("arn:") && arn.split(':').count() >= 6 {
                CloudWatchError::ResourceNotFoundException(format!(
                    "The specified resource does not exist: {arn}"
                ))
            } else {
                invalid(format!(
                    "The value {arn} for parameter ResourceARN is invalid."
                ))
            }
        })
    }

    pub async fn tag_resource(&self, ctx: &RequestContext, doc: Value) -> Result<Value> {
        let request: TagResourceInput = input(doc)?;
        let tags = model::check_tags(&request.tags)?;
        self.ensure_loaded().await?;
        let _guard = self.inner.write_lock.lock().await;
        let before = self.alarm_by_arn(ctx, &request.resource_arn)?;
        let mut after = (*before).clone();
        for (k, v) in tags {
            match after.tags.iter_mut().find(|(key, _)| *key == k) {
                Some(slot) => slot.1 = v,
                None => after.tags.push((k, v)),
            }
        }
        if after.tags.len() > 50 {
            return Err(invalid("The number of tags exceeds the limit of 50."));
        }
        self.inner
            .repo
            .apply(Changes {
                upserts: vec![after.clone()],
                ..Changes::default()
            })
            .await?;
        self.publish(vec![after], &[]);
        Ok(json!({}))
    }

    pub async fn untag_resource(&self, ctx: &RequestContext, doc: Value) -> Result<Value> {
        let request: UntagResourceInput = input(doc)?;
        self.ensure_loaded().await?;
        let _guard = self.inner.write_lock.lock().await;
        let before = self.alarm_by_arn(ctx, &request.resource_arn)?;
        let mut after = (*before).clone();
        after.tags.retain(|(k, _)| !request.tag_keys.contains(k));
        self.inner
            .repo
            .apply(Changes {
                upserts: vec![after.clone()],
                ..Changes::default()
            })
            .await?;
        self.publish(vec![after], &[]);
        Ok(json!({}))
    }

    pub async fn list_tags_for_resource(&self, ctx: &RequestContext, doc: Value) -> Result<Value> {
        let request: ListTagsInput = input(doc)?;
        self.ensure_loaded().await?;
        let alarm = self.alarm_by_arn(ctx, &request.resource_arn)?;
        let tags: Vec<Value> = alarm
            .tags
            .iter()
            .map(|(k, v)| json!({"Key": k, "Value": v}))
            .collect();
        Ok(json!({ "Tags": tags }))
    }

    // ------------------------------------------------------------------------------------
    // Evaluation
    // ------------------------------------------------------------------------------------

    /// Evaluates every alarm once at `now_ms`; answers how many alarms changed state.
    pub async fn run_pass(&self, now_ms: i64) -> Result<usize, StoreError> {
        self.ensure_loaded().await?;
        let metric_alarms: Vec<Arc<Alarm>> = match self.inner.map.lock() {
            Ok(map) => map
                .values()
                .filter(|a| matches!(a.kind, AlarmKind::Metric(_)))
                .cloned()
                .collect(),
            Err(_) => Vec::new(),
        };
        let outcomes = self.evaluate_metric_alarms(&metric_alarms, now_ms).await?;
        let _guard = self.inner.write_lock.lock().await;
        let mut transitions = Vec::new();
        for (before, state) in outcomes {
            let key = key_of(&before.account_id, &before.region, &before.name);
            // Applied only to the configuration it was computed for, and only if the state
            // did not move meanwhile (SetAlarmState).
            let current = self.get(&key);
            let unchanged = current.as_ref().is_some_and(|c| {
                c.version == before.version && c.state.value == before.state.value
            });
            if !unchanged {
                continue;
            }
            let mut after = (*before).clone();
            after.state = state;
            transitions.push(Transition { before, after });
        }
        self.commit_transitions(transitions, now_ms).await
    }

    /// New states for the metric alarms whose state changes.
    async fn evaluate_metric_alarms(
        &self,
        alarms: &[Arc<Alarm>],
        now_ms: i64,
    ) -> Result<Vec<(Arc<Alarm>, AlarmState)>, StoreError> {
        let mut guard = self.inner.evaluation.lock().await;
        let (index, cache) = &mut *guard;
        let epoch = self.inner.reset_epoch.load(Ordering::SeqCst);
        if self.inner.index_epoch.swap(epoch, Ordering::SeqCst) != epoch {
            index.clear();
            cache.clear();
        }
        index.refresh(self.inner.repo.db()).await?;

        // Single-metric alarms read their series through the incremental cache.
        struct Plan {
            alarm: Arc<Alarm>,
            series: Option<i64>,
            starts: Vec<i64>,
            period: i64,
            stat: AlarmStat,
        }
        let mut plans = Vec::new();
        let mut math = Vec::new();
        let mut needs: HashMap<i64, evaluator::Need> = HashMap::new();
        for alarm in alarms {
            let AlarmKind::Metric(m) = &alarm.kind else {
                continue;
            };
            if m.threshold_metric_id.is_some() {
                // Anomaly detection bands need a trained model this emulator does not keep.
                continue;
            }
            let period = m.evaluation_period();
            let periods = m.evaluation_periods + evaluator::EXTRA_PERIODS;
            let starts = evaluator::range_starts(now_ms, period, periods);
            if m.metrics.is_some() {
                math.push((alarm.clone(), starts, period));
                continue;
            }
            let (Some(ns), Some(name), Some(stat)) =
                (&m.namespace, &m.metric_name, AlarmStat::of(m))
            else {
                continue;
            };
            let key = SeriesKey::new(&alarm.account_id, &alarm.region, ns, name, &m.dimensions);
            let series = index.get(&key);
            if let Some(id) = series {
                let need = evaluator::Need {
                    granularity_ms: period * 1000,
                    keep_values: matches!(stat, AlarmStat::Extended(..)),
                    horizon_ms: (periods + 2) * period * 1000,
                };
                needs
                    .entry(id)
                    .and_modify(|n| *n = n.merge(need))
                    .or_insert(need);
            }
            plans.push(Plan {
                alarm: alarm.clone(),
                series,
                starts,
                period,
                stat,
            });
        }
        let overlay = cache.sync(self.inner.repo.db(), &needs, now_ms).await?;
        let mut out = Vec::new();
        for plan in plans {
            let AlarmKind::Metric(m) = &plan.alarm.kind else {
                continue;
            };
            let unit = m.unit.as_deref().and_then(super::types::unit_code);
            let slots = match plan.series {
                Some(id) => cache.slots(id, &overlay, &plan.starts, plan.period, &plan.stat, unit),
                None => {
                    evaluator::slots_from_points(&[], &plan.starts, plan.period, &plan.stat, unit)
                }
            };
            let slots = evaluator::trim_range(slots);
            if let Some(state) = Self::next_state(&plan.alarm, m, &slots, now_ms, plan.period) {
                out.push((plan.alarm.clone(), state));
            }
        }
        drop(guard);
        for (alarm, starts, period) in math {
            let AlarmKind::Metric(m) = &alarm.kind else {
                continue;
            };
            let slots = match self.math_slots(&alarm, m, &starts, period, now_ms).await {
                Ok(s) => s,
                Err(e) => {
                    tracing::debug!(alarm = %alarm.name, error = %e, "metric math alarm not evaluated");
                    continue;
                }
            };
            if let Some(state) = Self::next_state(&alarm, m, &slots, now_ms, period) {
                out.push((alarm.clone(), state));
            }
        }
        Ok(out)
    }

    /// The ReturnData expression of a metric math alarm, through GetMetricData's own path.
    async fn math_slots(
        &self,
        alarm: &Alarm,
        config: &model::MetricConfig,
        starts: &[i64],
        period: i64,
        now_ms: i64,
    ) -> Result<Vec<Slot>> {
        let ctx = RequestContext {
            request_id: "alarm-evaluation".into(),
            identity: crate::auth::Identity {
                kind: crate::auth::IdentityKind::Root,
                account_id: alarm.account_id.clone(),
                access_key_id: None,
                user_name: None,
                arn: format!("arn:aws:iam::{}:root", alarm.account_id),
                principal_id: alarm.account_id.clone(),
                signed_region: None,
                session_token: false,
            },
            account_id: alarm.account_id.clone(),
            region: alarm.region.clone(),
            now_ms,
            source_ip: "cloudwatch.amazonaws.com".into(),
            user_agent: "cloudwatch.amazonaws.com".into(),
            from_console: false,
        };
        let first = starts.first().copied().unwrap_or(now_ms);
        let end = starts.last().copied().unwrap_or(now_ms) + period * 1000;
        let doc = json!({
            "MetricDataQueries": config.metrics.clone().unwrap_or(json!([])),
            "StartTime": model::seconds(first),
            "EndTime": model::seconds(end),
            "ScanBy": "TimestampAscending",
        });
        let result = super::metrics::get_metric_data(&self.inner.metrics, &ctx, doc).await?;
        let returned = config
            .metric_queries()
            .into_iter()
            .find(|q| q.return_data.unwrap_or(true))
            .map(|q| q.id)
            .unwrap_or_default();
        let mut values: HashMap<i64, f64> = HashMap::new();
        for r in result
            .metric_data_results
            .iter()
            .filter(|r| r.id == returned)
        {
            for (t, v) in r.timestamps.iter().zip(&r.values) {
                if v.is_finite() {
                    values.insert((t * 1000.0).round() as i64, *v);
                }
            }
        }
        let slots = starts
            .iter()
            .map(|s| Slot {
                start_ms: *s,
                value: values.get(s).copied(),
                sample_count: None,
                low_sample: false,
            })
            .collect();
        Ok(evaluator::trim_range(slots))
    }

    /// The alarm's next state, or `None` when it stays as it is.
    fn next_state(
        alarm: &Alarm,
        m: &model::MetricConfig,
        slots: &[Slot],
        now_ms: i64,
        period: i64,
    ) -> Option<AlarmState> {
        let comparison = Comparison::parse(&m.comparison_operator)?;
        let threshold = m.threshold?;
        let decision = evaluator::decide(
            slots,
            m.evaluation_periods,
            m.datapoints_to_alarm(),
            m.treat_missing(),
            |v| comparison.breaches(v, threshold),
            m.evaluate_low_sample_count_percentile.as_deref() == Some("ignore"),
        );
        let new = decision.state?;
        if new == alarm.state.value {
            return None;
        }
        let reason = evaluator::reason(
            &decision,
            new,
            alarm.state.value,
            comparison,
            threshold,
            m.evaluation_periods,
            m.datapoints_to_alarm,
            m.treat_missing(),
            slots.len(),
        );
        let data = evaluator::reason_data(m, &decision, slots, now_ms, period);
        Some(AlarmState {
            value: new,
            reason,
            reason_data: Some(data),
            updated_ms: now_ms,
            transitioned_ms: now_ms,
            previous_value: Some(alarm.state.value),
        })
    }

    /// Commits state transitions and the composite alarms they move, with their history, then
    /// runs their actions and emits their events. Called with the write lock held.
    async fn commit_transitions(
        &self,
        mut transitions: Vec<Transition>,
        now_ms: i64,
    ) -> Result<usize, StoreError> {
        // The composite rules see the new states of this batch.
        let mut view: HashMap<Key, Arc<Alarm>> = HashMap::new();
        for t in &transitions {
            view.insert(
                key_of(&t.after.account_id, &t.after.region, &t.after.name),
                Arc::new(t.after.clone()),
            );
        }
        let composites: Vec<Arc<Alarm>> = match self.inner.map.lock() {
            Ok(map) => map
                .values()
                .filter(|a| matches!(a.kind, AlarmKind::Composite(_)))
                .cloned()
                .collect(),
            Err(_) => Vec::new(),
        };
        for _ in 0..COMPOSITE_ROUNDS {
            let mut moved = false;
            for parent in &composites {
                let key = key_of(&parent.account_id, &parent.region, &parent.name);
                let current = view.get(&key).cloned().unwrap_or_else(|| parent.clone());
                let Some(after) = self.evaluate_composite(&current, &view, now_ms) else {
                    continue;
                };
                moved = true;
                view.insert(key.clone(), Arc::new(after.clone()));
                match transitions
                    .iter_mut()
                    .find(|t| key_of(&t.after.account_id, &t.after.region, &t.after.name) == key)
                {
                    Some(t) => t.after = after,
                    None => transitions.push(Transition {
                        before: parent.clone(),
                        after,
                    }),
                }
            }
            if !moved {
                break;
            }
        }
        transitions.retain(|t| t.before.state.value != t.after.state.value);
        if transitions.is_empty() {
            return Ok(0);
        }
        let mut changes = Changes::default();
        let mut deliveries = Vec::new();
        let mut events = Vec::new();
        for t in &transitions {
            let alarm = &t.after;
            let old = &t.before.state;
            changes
                .history
                .push(history::state_update(alarm, old, now_ms));
            events.push(ServiceEvent {
                account_id: alarm.account_id.clone(),
                region: alarm.region.clone(),
                source: "aws.cloudwatch".into(),
                detail_type: "CloudWatch Alarm State Change".into(),
                resources: vec![alarm.arn.clone()],
                detail: history::state_change_detail(alarm, old),
                time_ms: now_ms,
            });
            let suppressed = match &alarm.kind {
                AlarmKind::Composite(c) => c.actions_suppressed_by.is_some(),
                AlarmKind::Metric(_) => false,
            };
            if !alarm.actions_enabled || suppressed {
                continue;
            }
            let actions = alarm.actions_for(alarm.state.value);
            if actions.is_empty() {
                continue;
            }
            let message = history::notification_message(alarm, old);
            for target in actions {
                let kind = deliveries::target_kind(target);
                let is_sns = kind == "sns";
                changes.history.push(history::action(
                    alarm,
                    target,
                    is_sns.then_some(message.as_str()),
                    now_ms,
                ));
                deliveries.push(Delivery {
                    account_id: alarm.account_id.clone(),
                    region: alarm.region.clone(),
                    origin: "cloudwatch",
                    target: target.clone(),
                    target_kind: kind,
                    source: Some(alarm.arn.clone()),
                    subject: Some(history::notification_subject(alarm)),
                    body: message.clone(),
                    status: DeliveryStatus::Recorded,
                    attempts: 1,
                    error: None,
                    created_ms: now_ms,
                });
            }
        }
        changes.upserts = transitions.iter().map(|t| t.after.clone()).collect();
        self.inner.repo.apply(changes).await?;
        let count = transitions.len();
        self.publish(transitions.into_iter().map(|t| t.after).collect(), &[]);
        self.inner.deliveries.record(deliveries).await?;
        let emitter = self.inner.emitter.lock().ok().map(|e| e.clone());
        if let Some(emitter) = emitter {
            for e in events {
                emitter.emit(e);
            }
        }
        Ok(count)
    }

    /// The composite alarm after evaluating its rule, or `None` when its state stays.
    fn evaluate_composite(
        &self,
        alarm: &Alarm,
        view: &HashMap<Key, Arc<Alarm>>,
        now_ms: i64,
    ) -> Option<Alarm> {
        let AlarmKind::Composite(c) = &alarm.kind else {
            return None;
        };
        let rule = composite::parse(&c.rule).ok()?;
        let lookup = |name: &str| -> Option<Arc<Alarm>> {
            let key = key_of(&alarm.account_id, &alarm.region, name);
            view.get(&key).cloned().or_else(|| self.get(&key))
        };
        let holds = rule.evaluate(&|name| lookup(name).map(|a| a.state.value));
        let new = if holds {
            StateValue::Alarm
        } else {
            StateValue::Ok
        };
        if new == alarm.state.value {
            return None;
        }
        // The child that moved last is the one that triggered the change.
        let trigger = rule
            .alarm_names()
            .iter()
            .filter_map(|n| lookup(n))
            .max_by_key(|a| a.state.transitioned_ms);
        let (reason, data) = match &trigger {
            Some(t) => (
                format!(
                    "{} transitioned to {} at {}",
                    t.arn,
                    t.state.value.as_str(),
                    long_time(t.state.transitioned_ms)
                ),
                json!({"triggeringAlarms": [{
                    "arn": t.arn,
                    "state": {
                        "value": t.state.value.as_str(),
                        "timestamp": model::iso_millis(t.state.transitioned_ms),
                    }
                }]})
                .to_string(),
            ),
            None => (
                format!(
                    "The alarm rule evaluated to {}",
                    if holds { "TRUE" } else { "FALSE" }
                ),
                json!({"triggeringAlarms": []}).to_string(),
            ),
        };
        let mut after = alarm.clone();
        after.state = AlarmState {
            value: new,
            reason,
            reason_data: Some(data),
            updated_ms: now_ms,
            transitioned_ms: now_ms,
            previous_value: Some(alarm.state.value),
        };
        if let AlarmKind::Composite(cfg) = &mut after.kind {
            let suppression = cfg.actions_suppressor.as_ref().and_then(|arn| {
                let suppressor = lookup(composite::alarm_name_of(arn))?;
                if suppressor.state.value == StateValue::Alarm {
                    return Some((
                        "Alarm",
                        format!("Alarm {} is in ALARM state", suppressor.name),
                    ));
                }
                let extension_ms = cfg
                    .actions_suppressor_extension_period
                    .unwrap_or(0)
                    .saturating_mul(1000);
                let left_recently = suppressor.state.previous_value == Some(StateValue::Alarm)
                    && now_ms - suppressor.state.transitioned_ms < extension_ms;
                left_recently.then(|| {
                    (
                        "ExtensionPeriod",
                        format!(
                            "Extension period of {} seconds after alarm {} left ALARM state",
                            cfg.actions_suppressor_extension_period.unwrap_or(0),
                            suppressor.name
                        ),
                    )
                })
            });
            cfg.actions_suppressed_by = suppression.as_ref().map(|(by, _)| by.to_string());
            cfg.actions_suppressed_reason = suppression.map(|(_, reason)| reason);
        }
        Some(after)
    }
}

/// Runs evaluation passes every `interval` until `stop` turns true.
pub async fn run_evaluator(
    alarms: Alarms,
    clock: crate::clock::SharedClock,
    interval: std::time::Duration,
    mut stop: tokio::sync::watch::Receiver<bool>,
) {
    loop {
        tokio::select! {
            _ = tokio::time::sleep(interval) => {}
            _ = stop.changed() => return,
        }
        if *stop.borrow() {
            return;
        }
        match alarms.run_pass(clock.now_ms()).await {
            Ok(_) => {}
            Err(StoreError::Closed) => return,
            Err(e) => tracing::error!(error = %e, "alarm evaluation failed"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::Location;

    /// 2025-12-01T10:00:05Z.
    const NOW: i64 = 1_764_583_205_000;

    fn ctx(now_ms: i64) -> RequestContext {
        RequestContext::for_tests("111122223333", "eu-west-1", now_ms)
    }

    #[tokio::test]
    async fn state_changes_emit_the_alarm_state_change_event() {
        let (db, _writer) = Db::open(&Location::Ephemeral).await.unwrap();
        let alarms = Alarms::new(db.clone(), MetricsRepo::new(db));
        let (emitter, mut events) = crate::services::bus::channel();
        alarms.set_emitter(emitter);
        let c = ctx(NOW);
        alarms
            .put_metric_alarm(
                &c,
                json!({
                    "AlarmName": "cpu", "AlarmDescription": "too busy", "Namespace": "App",
                    "MetricName": "CPU", "Dimensions": [{"Name": "Host", "Value": "a"}],
                    "Statistic": "Average", "Period": 60, "EvaluationPeriods": 1,
                    "Threshold": 80.0, "ComparisonOperator": "GreaterThanThreshold"
                }),
            )
            .await
            .unwrap();
        assert!(events.try_recv().is_err(), "creation is not a state change");
        let set = json!({"AlarmName": "cpu", "StateValue": "ALARM", "StateReason": "drill"});
        alarms.set_alarm_state(&c, set.clone()).await.unwrap();
        let event = events.try_recv().unwrap();
        assert_eq!(event.source, "aws.cloudwatch");
        assert_eq!(event.detail_type, "CloudWatch Alarm State Change");
        assert_eq!(event.account_id, "111122223333");
        assert_eq!(event.region, "eu-west-1");
        assert_eq!(
            event.resources,
            vec!["arn:aws:cloudwatch:eu-west-1:111122223333:alarm:cpu".to_string()]
        );
        let d = &event.detail;
        assert_eq!(d["alarmName"], "cpu");
        assert_eq!(d["state"]["value"], "ALARM");
        assert_eq!(d["state"]["reason"], "drill");
        assert_eq!(d["state"]["timestamp"], "2025-12-01T10:00:05.000+0000");
        assert_eq!(d["previousState"]["value"], "INSUFFICIENT_DATA");
        assert_eq!(
            d["previousState"]["reason"],
            "Unchecked: Initial alarm creation"
        );
        assert_eq!(d["configuration"]["description"], "too busy");
        let metric = &d["configuration"]["metrics"][0];
        assert_eq!(metric["returnData"], true);
        assert_eq!(metric["metricStat"]["period"], 60);
        assert_eq!(metric["metricStat"]["stat"], "Average");
        assert_eq!(
            metric["metricStat"]["metric"],
            json!({"dimensions": {"Host": "a"}, "name": "CPU", "namespace": "App"})
        );
        // Setting the same state again is no transition: no event.
        alarms.set_alarm_state(&c, set).await.unwrap();
        assert!(events.try_recv().is_err());
    }

    #[tokio::test]
    async fn a_suppressor_in_alarm_keeps_composite_actions_from_running() {
        let (db, _writer) = Db::open(&Location::Ephemeral).await.unwrap();
        let deliveries = Deliveries::new(db.clone());
        let alarms = Alarms::new(db.clone(), MetricsRepo::new(db));
        let c = ctx(NOW);
        for name in ["child", "maintenance"] {
            alarms
                .put_metric_alarm(
                    &c,
                    json!({
                        "AlarmName": name, "Namespace": "App", "MetricName": name,
                        "Statistic": "Sum", "Period": 60, "EvaluationPeriods": 1,
                        "Threshold": 1.0, "ComparisonOperator": "GreaterThanThreshold"
                    }),
                )
                .await
                .unwrap();
        }
        alarms
            .put_composite_alarm(
                &c,
                json!({
                    "AlarmName": "parent", "AlarmRule": "ALARM(child)",
                    "AlarmActions": ["arn:aws:sns:eu-west-1:111122223333:pager"],
                    "ActionsSuppressor": "maintenance",
                    "ActionsSuppressorWaitPeriod": 60,
                    "ActionsSuppressorExtensionPeriod": 120
                }),
            )
            .await
            .unwrap();
        let state = |v: &str| json!({"StateValue": v, "StateReason": "test"});
        let mut set = state("ALARM");
        set["AlarmName"] = json!("maintenance");
        alarms.set_alarm_state(&c, set).await.unwrap();
        let mut set = state("ALARM");
        set["AlarmName"] = json!("child");
        alarms.set_alarm_state(&c, set).await.unwrap();
        let parent = alarms
            .get(&key_of("111122223333", "eu-west-1", "parent"))
            .unwrap();
        assert_eq!(parent.state.value, StateValue::Alarm);
        let AlarmKind::Composite(cfg) = &parent.kind else {
            panic!("composite expected");
        };
        assert_eq!(cfg.actions_suppressed_by.as_deref(), Some("Alarm"));
        let filter = crate::services::deliveries::DeliveryFilter::default();
        assert!(deliveries.list(&filter).await.unwrap().is_empty());

        // Without the suppressor in ALARM (and past its extension period) actions run.
        let later = ctx(NOW + 600_000);
        let mut set = state("OK");
        set["AlarmName"] = json!("maintenance");
        alarms.set_alarm_state(&later, set).await.unwrap();
        let much_later = ctx(NOW + 900_000);
        let mut set = state("OK");
        set["AlarmName"] = json!("child");
        alarms.set_alarm_state(&much_later, set).await.unwrap();
        let mut set = state("ALARM");
        set["AlarmName"] = json!("child");
        alarms.set_alarm_state(&much_later, set).await.unwrap();
        let sent = deliveries.list(&filter).await.unwrap();
        assert_eq!(sent.len(), 1);
        assert_eq!(
            sent[0].subject.as_deref(),
            Some("ALARM: \"parent\" in EU (Ireland)")
        );
    }
}

//! Amazon CloudWatch: metrics in, statistics out.
//!
//! `metrics.rs` holds the handlers, `stats.rs` the statistics engine, `chunk.rs` the stored
//! point format and `repo.rs` the SQL and the ingest batcher; `alarms/` holds metric and
//! composite alarms and their background evaluator. Operations of the model that are
//! not implemented here answer AWS's unknown-operation error (see the README's coverage table).

pub mod alarms;
pub mod chunk;
pub mod dashboards;
pub mod math;
pub mod metrics;
pub mod repo;
pub mod stats;
pub mod types;
pub mod widget;

use serde_json::Value;

use super::{AwsError, HandlerFuture, InputError};
use crate::context::RequestContext;
use crate::store::{Db, StoreError};

/// CloudWatch's errors, named after the model's error shapes.
#[derive(Debug, thiserror::Error)]
pub enum CloudWatchError {
    #[error("{0}")]
    InvalidParameterValue(String),
    #[error("{0}")]
    MissingParameter(String),
    #[error("{0}")]
    InvalidParameterCombination(String),
    #[error("{0}")]
    InvalidNextToken(String),
    #[error("{0}")]
    ResourceNotFound(String),
    /// The tagging operations' not-found error (a different shape from `ResourceNotFound`).
    #[error("{0}")]
    ResourceNotFoundException(String),
    #[error("{0}")]
    InvalidFormat(String),
    #[error("{0}")]
    LimitExceeded(String),
    /// The generic validation error some operations answer instead of a modelled one.
    #[error("{0}")]
    Validation(String),
    /// PutDashboard's and GetMetricWidgetImage's invalid input (code InvalidParameterInput);
    /// `messages` become the error's `dashboardValidationMessages`.
    #[error("{message}")]
    DashboardInvalidInput {
        message: String,
        messages: Vec<widget::schema::ValidationMessage>,
    },
    #[error("{0}")]
    DashboardNotFound(String),
    /// A widget image could not be drawn: ours, not the caller's.
    #[error("rendering failure: {0}")]
    Render(String),
    #[error("storage failure: {0}")]
    Store(#[from] StoreError),
}

impl From<InputError> for CloudWatchError {
    fn from(e: InputError) -> Self {
        CloudWatchError::InvalidParameterValue(e.0)
    }
}

impl AwsError for CloudWatchError {
    fn error_shape(&self) -> &'static str {
        match self {
            CloudWatchError::InvalidParameterValue(_) => "InvalidParameterValueException",
            CloudWatchError::MissingParameter(_) => "MissingRequiredParameterException",
            CloudWatchError::InvalidParameterCombination(_) => {
                "InvalidParameterCombinationException"
            }
            CloudWatchError::InvalidNextToken(_) => "InvalidNextToken",
            CloudWatchError::ResourceNotFound(_) => "ResourceNotFound",
            CloudWatchError::ResourceNotFoundException(_) => "ResourceNotFoundException",
            CloudWatchError::InvalidFormat(_) => "InvalidFormatFault",
            CloudWatchError::LimitExceeded(_) => "LimitExceededFault",
            CloudWatchError::Validation(_) => "ValidationError",
            CloudWatchError::DashboardInvalidInput { .. } => "DashboardInvalidInputError",
            CloudWatchError::DashboardNotFound(_) => "DashboardNotFoundError",
            CloudWatchError::Render(_) => "InternalServiceFault",
            CloudWatchError::Store(_) => "InternalServiceFault",
        }
    }

    fn is_internal(&self) -> bool {
        matches!(self, CloudWatchError::Store(_) | CloudWatchError::Render(_))
    }

    fn error_members(&self) -> serde_json::Map<String, Value> {
        let mut members = serde_json::Map::new();
        if let CloudWatchError::DashboardInvalidInput { messages, .. } = self {
            if !messages.is_empty() {
                if let Ok(list) = serde_json::to_value(messages) {
                    members.insert("dashboardValidationMessages".into(), list);
                }
            }
        }
        members
    }
}

pub type Result<T, E = CloudWatchError> = std::result::Result<T, E>;

pub struct CloudWatch {
    repo: repo::MetricsRepo,
    dashboards: dashboards::DashboardRepo,
    alarms: alarms::Alarms,
    /// Stops the alarm evaluator, and its task to wait for.
    evaluator: std::sync::Mutex<Option<EvaluatorHandle>>,
}

struct EvaluatorHandle {
    stop: tokio::sync::watch::Sender<bool>,
    task: tokio::task::JoinHandle<()>,
}

/// A datapoint another service publishes (metric filters, embedded metric format).
#[derive(Debug, Clone, PartialEq)]
pub struct PublishedPoint {
    pub namespace: String,
    pub metric_name: String,
    pub dimensions: Vec<types::Dimension>,
    pub timestamp_ms: i64,
    pub value: f64,
    /// A `StandardUnit` name; unknown names are stored as `None`.
    pub unit: Option<String>,
    pub high_resolution: bool,
}

/// The narrow door through which other services put metrics, as PutMetricData would.
#[derive(Clone)]
pub struct MetricPublisher {
    repo: repo::MetricsRepo,
}

impl MetricPublisher {
    pub async fn publish(
        &self,
        account_id: &str,
        region: &str,
        points: Vec<PublishedPoint>,
        now_ms: i64,
    ) -> Result<(), StoreError> {
        if points.is_empty() {
            return Ok(());
        }
        let stored = points
            .into_iter()
            .map(|p| {
                let key = repo::SeriesKey::new(
                    account_id,
                    region,
                    &p.namespace,
                    &p.metric_name,
                    &p.dimensions,
                );
                let unit = p.unit.as_deref().and_then(types::unit_code).unwrap_or(0);
                let point = chunk::StoredPoint {
                    timestamp_ms: p.timestamp_ms,
                    unit,
                    high_resolution: p.high_resolution,
                    sample: stats::Sample::Single(p.value),
                };
                (key, point)
            })
            .collect();
        self.repo.put(stored, now_ms).await
    }
}

impl CloudWatch {
    pub fn new(db: Db) -> Self {
        let repo = repo::MetricsRepo::new(db.clone());
        CloudWatch {
            dashboards: dashboards::DashboardRepo::new(db.clone()),
            alarms: alarms::Alarms::new(db, repo.clone()),
            repo,
            evaluator: std::sync::Mutex::new(None),
        }
    }

    /// Alarm state changes are emitted through `emitter` ("CloudWatch Alarm State Change").
    pub fn set_event_emitter(&self, emitter: crate::services::bus::EventEmitter) {
        self.alarms.set_emitter(emitter);
    }

    /// Starts the background alarm evaluator: one pass every `interval`, at `clock`'s time.
    pub fn start_alarm_evaluator(
        &self,
        clock: crate::clock::SharedClock,
        interval: std::time::Duration,
    ) {
        let (stop, stopped) = tokio::sync::watch::channel(false);
        let task = tokio::spawn(alarms::run_evaluator(
            self.alarms.clone(),
            clock,
            interval,
            stopped,
        ));
        if let Ok(mut slot) = self.evaluator.lock() {
            *slot = Some(EvaluatorHandle { stop, task });
        }
    }

    /// Runs one alarm evaluation pass now; answers how many alarms changed state.
    pub async fn evaluate_alarms_now(&self, now_ms: i64) -> Result<usize, StoreError> {
        self.alarms.run_pass(now_ms).await
    }

    /// Stops the alarm evaluator after its current pass (before the store closes).
    pub async fn shutdown(&self) {
        let handle = self.evaluator.lock().ok().and_then(|mut h| h.take());
        if let Some(h) = handle {
            let _ = h.stop.send(true);
            let _ = h.task.await;
        }
    }

    pub fn publisher(&self) -> MetricPublisher {
        MetricPublisher {
            repo: self.repo.clone(),
        }
    }

    pub fn after_reset(&self) {
        self.repo.clear_cache();
        self.alarms.after_reset();
    }

    pub fn call<'a>(
        &'a self,
        ctx: &'a RequestContext,
        operation: &str,
        input: Value,
    ) -> Option<HandlerFuture<'a>> {
        fn boxed<'a, T: serde::Serialize>(
            f: impl std::future::Future<Output = Result<T>> + Send + 'a,
        ) -> HandlerFuture<'a> {
            Box::pin(async move {
                match f.await {
                    Ok(out) => super::output(&out),
                    Err(e) => Err(Box::new(e) as super::BoxError),
                }
            })
        }
        Some(match operation {
            "PutMetricData" => boxed(metrics::put_metric_data(&self.repo, ctx, input)),
            "ListMetrics" => boxed(metrics::list_metrics(&self.repo, ctx, input)),
            "GetMetricStatistics" => boxed(metrics::get_metric_statistics(&self.repo, ctx, input)),
            "GetMetricData" => boxed(metrics::get_metric_data(&self.repo, ctx, input)),
            "PutDashboard" => boxed(dashboards::put_dashboard(&self.dashboards, ctx, input)),
            "GetDashboard" => boxed(dashboards::get_dashboard(&self.dashboards, ctx, input)),
            "ListDashboards" => boxed(dashboards::list_dashboards(&self.dashboards, ctx, input)),
            "DeleteDashboards" => {
                boxed(dashboards::delete_dashboards(&self.dashboards, ctx, input))
            }
            "GetMetricWidgetImage" => {
                boxed(widget::get_metric_widget_image(&self.repo, ctx, input))
            }
            "PutMetricAlarm" => boxed(self.alarms.put_metric_alarm(ctx, input)),
            "PutCompositeAlarm" => boxed(self.alarms.put_composite_alarm(ctx, input)),
            "DescribeAlarms" => boxed(self.alarms.describe_alarms(ctx, input)),
            "DescribeAlarmsForMetric" => boxed(self.alarms.describe_alarms_for_metric(ctx, input)),
            "DeleteAlarms" => boxed(self.alarms.delete_alarms(ctx, input)),
            "SetAlarmState" => boxed(self.alarms.set_alarm_state(ctx, input)),
            "EnableAlarmActions" => boxed(self.alarms.enable_alarm_actions(ctx, input)),
            "DisableAlarmActions" => boxed(self.alarms.disable_alarm_actions(ctx, input)),
            "DescribeAlarmHistory" => boxed(self.alarms.describe_alarm_history(ctx, input)),
            "TagResource" => boxed(self.alarms.tag_resource(ctx, input)),
            "UntagResource" => boxed(self.alarms.untag_resource(ctx, input)),
            "ListTagsForResource" => boxed(self.alarms.list_tags_for_resource(ctx, input)),
            _ => return None,
        })
    }
}

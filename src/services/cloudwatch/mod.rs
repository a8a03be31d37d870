//! Amazon CloudWatch: metrics in, statistics out.
//!
//! `metrics.rs` holds the handlers, `stats.rs` the statistics engine, `chunk.rs` the stored
//! point format and `repo.rs` the SQL and the ingest batcher. Operations of the model that are
//! not implemented here answer AWS's unknown-operation error (see the README's coverage table).

pub mod chunk;
pub mod math;
pub mod metrics;
pub mod repo;
pub mod stats;
pub mod types;

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
    /// The generic validation error some operations answer instead of a modelled one.
    #[error("{0}")]
    Validation(String),
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
            CloudWatchError::Validation(_) => "ValidationError",
            CloudWatchError::Store(_) => "InternalServiceFault",
        }
    }

    fn is_internal(&self) -> bool {
        matches!(self, CloudWatchError::Store(_))
    }
}

pub type Result<T, E = CloudWatchError> = std::result::Result<T, E>;

pub struct CloudWatch {
    repo: repo::MetricsRepo,
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
        CloudWatch {
            repo: repo::MetricsRepo::new(db),
        }
    }

    pub fn publisher(&self) -> MetricPublisher {
        MetricPublisher {
            repo: self.repo.clone(),
        }
    }

    pub fn after_reset(&self) {
        self.repo.clear_cache();
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
            _ => return None,
        })
    }
}

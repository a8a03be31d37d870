//! CloudWatch Logs: log groups and streams, ingestion, retrieval, filter patterns, Logs
//! Insights queries, tags and retention.
//!
//! `groups.rs` holds the group and stream operations, `events.rs` ingestion and retrieval,
//! `queries.rs` Logs Insights; `filter_pattern/` and `insights/` are the pure engines and
//! `repo.rs` the SQL. Operations of the model not listed in [`Logs::call`] answer AWS's
//! unknown-operation error (see the README's coverage table).

pub mod events;
pub mod filter_pattern;
pub mod groups;
pub mod insights;
pub mod live;
pub mod live_tail;
pub mod metric_filters;
pub mod queries;
pub mod repo;
pub mod resources;
pub mod types;

use std::time::Duration;

use serde_json::Value;

use super::{AwsError, HandlerFuture, InputError};
use crate::clock::SharedClock;
use crate::context::RequestContext;
use crate::services::cloudwatch::MetricPublisher;
use crate::store::{Db, StoreError};

/// CloudWatch Logs' errors, named after the model's error shapes.
#[derive(Debug, thiserror::Error)]
pub enum LogsError {
    #[error("{0}")]
    InvalidParameter(String),
    #[error("{0}")]
    ResourceNotFound(String),
    #[error("{0}")]
    ResourceAlreadyExists(String),
    #[error("{0}")]
    MalformedQuery(String),
    #[error("{0}")]
    LimitExceeded(String),
    #[error("storage failure: {0}")]
    Store(#[from] StoreError),
}

impl From<InputError> for LogsError {
    fn from(e: InputError) -> Self {
        LogsError::InvalidParameter(e.0)
    }
}

impl AwsError for LogsError {
    fn error_shape(&self) -> &'static str {
        match self {
            LogsError::InvalidParameter(_) => "InvalidParameterException",
            LogsError::ResourceNotFound(_) => "ResourceNotFoundException",
            LogsError::ResourceAlreadyExists(_) => "ResourceAlreadyExistsException",
            LogsError::MalformedQuery(_) => "MalformedQueryException",
            LogsError::LimitExceeded(_) => "LimitExceededException",
            LogsError::Store(_) => "ServiceUnavailableException",
        }
    }

    fn is_internal(&self) -> bool {
        matches!(self, LogsError::Store(_))
    }
}

pub type Result<T, E = LogsError> = std::result::Result<T, E>;

/// How often expired events are deleted.
const RETENTION_SWEEP_INTERVAL: Duration = Duration::from_secs(60);

pub struct Logs {
    repo: repo::LogsRepo,
    publisher: MetricPublisher,
    live: live::LiveTail,
    /// Open StartLiveTail sessions, for AWS's concurrency quota.
    sessions: std::sync::Arc<live_tail::Sessions>,
    /// How long a StartLiveTail session may stay open (AWS: three hours).
    session_limit: Duration,
}

impl Logs {
    /// Builds the service and starts its retention sweeper, which stops when the store closes.
    pub fn new(db: Db, clock: SharedClock, publisher: MetricPublisher) -> Self {
        let repo = repo::LogsRepo::new(db);
        let sweeper = repo.clone();
        tokio::spawn(async move {
            loop {
                tokio::time::sleep(RETENTION_SWEEP_INTERVAL).await;
                match sweeper.sweep_retention(clock.now_ms()).await {
                    Ok(_) => {}
                    Err(StoreError::Closed) => return,
                    Err(e) => tracing::error!(error = %e, "retention sweep failed"),
                }
            }
        });
        Logs {
            repo,
            publisher,
            live: live::LiveTail::default(),
            sessions: Default::default(),
            session_limit: live_tail::SESSION_LIMIT,
        }
    }

    /// Shortens (or lengthens) StartLiveTail's session limit; tests use seconds, not hours.
    pub fn with_live_tail_session_limit(mut self, limit: Duration) -> Self {
        self.session_limit = limit;
        self
    }

    /// StartLiveTail: validates and opens a session whose messages the protocol layer frames
    /// as an event stream.
    pub async fn start_live_tail(
        &self,
        ctx: &RequestContext,
        input: Value,
    ) -> Result<live_tail::MessageStream> {
        live_tail::start_live_tail(
            &self.repo,
            &self.live,
            &self.sessions,
            self.session_limit,
            ctx,
            input,
        )
        .await
    }

    pub fn deliverer(&self) -> LogDeliverer {
        LogDeliverer {
            repo: self.repo.clone(),
            live: self.live.clone(),
        }
    }

    /// The live tail hub: committed events of every group, for tails that are open.
    pub fn live(&self) -> &live::LiveTail {
        &self.live
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
        let repo = &self.repo;
        Some(match operation {
            "CreateLogGroup" => boxed(groups::create_log_group(repo, ctx, input)),
            "DeleteLogGroup" => boxed(groups::delete_log_group(repo, ctx, input)),
            "DescribeLogGroups" => boxed(groups::describe_log_groups(repo, ctx, input)),
            "CreateLogStream" => boxed(groups::create_log_stream(repo, ctx, input)),
            "DeleteLogStream" => boxed(groups::delete_log_stream(repo, ctx, input)),
            "DescribeLogStreams" => boxed(groups::describe_log_streams(repo, ctx, input)),
            "PutRetentionPolicy" => boxed(groups::put_retention_policy(repo, ctx, input)),
            "DeleteRetentionPolicy" => boxed(groups::delete_retention_policy(repo, ctx, input)),
            "TagResource" => boxed(groups::tag_resource(repo, ctx, input)),
            "UntagResource" => boxed(groups::untag_resource(repo, ctx, input)),
            "ListTagsForResource" => boxed(groups::list_tags_for_resource(repo, ctx, input)),
            "TagLogGroup" => boxed(groups::tag_log_group(repo, ctx, input)),
            "UntagLogGroup" => boxed(groups::untag_log_group(repo, ctx, input)),
            "ListTagsLogGroup" => boxed(groups::list_tags_log_group(repo, ctx, input)),
            "PutLogEvents" => boxed(events::put_log_events(
                repo,
                &self.publisher,
                &self.live,
                ctx,
                input,
            )),
            "PutMetricFilter" => boxed(metric_filters::put_metric_filter(repo, ctx, input)),
            "DeleteMetricFilter" => boxed(metric_filters::delete_metric_filter(repo, ctx, input)),
            "DescribeMetricFilters" => {
                boxed(metric_filters::describe_metric_filters(repo, ctx, input))
            }
            "TestMetricFilter" => boxed(metric_filters::test_metric_filter(repo, ctx, input)),
            "GetLogEvents" => boxed(events::get_log_events(repo, ctx, input)),
            "FilterLogEvents" => boxed(events::filter_log_events(repo, ctx, input)),
            "PutSubscriptionFilter" => boxed(resources::put_subscription_filter(repo, ctx, input)),
            "DescribeSubscriptionFilters" => {
                boxed(resources::describe_subscription_filters(repo, ctx, input))
            }
            "DeleteSubscriptionFilter" => {
                boxed(resources::delete_subscription_filter(repo, ctx, input))
            }
            "PutDestination" => boxed(resources::put_destination(repo, ctx, input)),
            "PutDestinationPolicy" => boxed(resources::put_destination_policy(repo, ctx, input)),
            "DescribeDestinations" => boxed(resources::describe_destinations(repo, ctx, input)),
            "DeleteDestination" => boxed(resources::delete_destination(repo, ctx, input)),
            "PutResourcePolicy" => boxed(resources::put_resource_policy(repo, ctx, input)),
            "DescribeResourcePolicies" => {
                boxed(resources::describe_resource_policies(repo, ctx, input))
            }
            "DeleteResourcePolicy" => boxed(resources::delete_resource_policy(repo, ctx, input)),
            "PutQueryDefinition" => boxed(resources::put_query_definition(repo, ctx, input)),
            "DescribeQueryDefinitions" => {
                boxed(resources::describe_query_definitions(repo, ctx, input))
            }
            "DeleteQueryDefinition" => boxed(resources::delete_query_definition(repo, ctx, input)),
            "StartQuery" => boxed(queries::start_query(repo, ctx, input)),
            "GetQueryResults" => boxed(queries::get_query_results(repo, ctx, input)),
            "StopQuery" => boxed(queries::stop_query(repo, ctx, input)),
            "DescribeQueries" => boxed(queries::describe_queries(repo, ctx, input)),
            _ => return None,
        })
    }
}

/// The narrow door through which other services write log events (CloudTrail trails deliver
/// their records to a log group this way).
#[derive(Clone)]
pub struct LogDeliverer {
    repo: repo::LogsRepo,
    live: live::LiveTail,
}

impl LogDeliverer {
    /// Appends events (sorted by timestamp) to a stream of an existing group, creating the
    /// stream if needed. The error text is what the caller reports as its delivery error.
    pub async fn deliver(
        &self,
        account_id: &str,
        region: &str,
        group: &str,
        stream: &str,
        mut events: Vec<(i64, String)>,
        now_ms: i64,
    ) -> Result<(), String> {
        let found = self
            .repo
            .find_for_ingest(account_id, region, group, stream)
            .await
            .map_err(|e| e.to_string())?
            .ok_or_else(|| format!("The log group {group} does not exist."))?;
        let stream_id = match found.1 {
            Some(id) => id,
            None => {
                self.repo
                    .create_stream(found.0.group_id, stream.to_string(), now_ms)
                    .await
                    .map_err(|e| e.to_string())?;
                self.repo
                    .find_stream(found.0.group_id, stream)
                    .await
                    .map_err(|e| e.to_string())?
                    .map(|s| s.id)
                    .ok_or_else(|| format!("The log stream {stream} could not be created."))?
            }
        };
        events.sort_by_key(|e| e.0);
        let tailed = self.live.is_watched().then(|| events.clone());
        self.repo
            .append(found.0.group_id, stream_id, events, now_ms)
            .await
            .map_err(|e| e.to_string())?;
        if let Some(events) = tailed {
            self.live.publish(live::LiveBatch {
                account_id: account_id.to_string(),
                region: region.to_string(),
                group_name: group.to_string(),
                stream_name: stream.to_string(),
                ingestion_time_ms: now_ms,
                events,
            });
        }
        Ok(())
    }
}

/// The empty output of operations that answer nothing.
#[derive(serde::Serialize)]
pub struct Empty {}

/// A log group's name from `logGroupName` or `logGroupIdentifier` (a name or an ARN).
pub fn group_name(name: Option<String>, identifier: Option<String>) -> Result<String> {
    match (name, identifier) {
        (Some(_), Some(_)) => Err(LogsError::InvalidParameter(
            "LogGroup name and LogGroup ARN are mutually exclusive parameters.".into(),
        )),
        (Some(name), None) => Ok(name),
        (None, Some(identifier)) => Ok(name_from_identifier(&identifier)),
        (None, None) => Err(LogsError::InvalidParameter(
            "Either logGroupName or logGroupIdentifier must be specified.".into(),
        )),
    }
}

fn name_from_identifier(identifier: &str) -> String {
    match identifier.split_once(":log-group:") {
        Some((_, rest)) => rest.trim_end_matches(":*").to_string(),
        None => identifier.to_string(),
    }
}

pub fn group_arn(ctx: &RequestContext, name: &str) -> String {
    format!(
        "arn:aws:logs:{}:{}:log-group:{name}",
        ctx.region, ctx.account_id
    )
}

pub fn group_not_found() -> LogsError {
    LogsError::ResourceNotFound("The specified log group does not exist.".into())
}

pub fn stream_not_found() -> LogsError {
    LogsError::ResourceNotFound("The specified log stream does not exist.".into())
}

/// The group of this request's account and region, or AWS's not-found error.
pub async fn require_group(
    repo: &repo::LogsRepo,
    ctx: &RequestContext,
    name: &str,
) -> Result<repo::GroupRow> {
    repo.find_group(&ctx.account_id, &ctx.region, name)
        .await?
        .ok_or_else(group_not_found)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn group_identifiers_accept_names_and_arns() {
        assert_eq!(group_name(Some("/app".into()), None).unwrap(), "/app");
        assert_eq!(
            group_name(
                None,
                Some("arn:aws:logs:us-east-1:123456789012:log-group:/app/x:*".into())
            )
            .unwrap(),
            "/app/x"
        );
        assert_eq!(
            group_name(
                None,
                Some("arn:aws:logs:us-east-1:123456789012:log-group:g".into())
            )
            .unwrap(),
            "g"
        );
        assert!(group_name(None, None).is_err());
        assert!(group_name(Some("a".into()), Some("a".into())).is_err());
    }
}

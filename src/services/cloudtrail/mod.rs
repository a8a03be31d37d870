//! AWS CloudTrail: the append-only, hash-chained journal of every API call the emulator serves,
//! and LookupEvents over it.
//!
//! `record.rs` shapes a call into a CloudTrail record, `journal.rs` appends records in batches
//! off the request path and verifies the chain, `trails.rs` serves the trail operations and
//! delivers what each logging trail selects (log group, bucket directory), `repo.rs` holds the
//! trail SQL.

pub mod journal;
pub mod record;
pub mod repo;
pub mod trails;

use base64::Engine;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::{input, output, AwsError, HandlerFuture, InputError};
use crate::context::RequestContext;
use crate::store::{Db, StoreError};

/// Event history covers the last 90 days, as in AWS.
const HISTORY_MS: i64 = 90 * 86_400_000;
const DEFAULT_MAX_RESULTS: i64 = 50;

#[derive(Debug, thiserror::Error)]
pub enum CloudTrailError {
    #[error("{0}")]
    InvalidLookupAttributes(String),
    #[error("{0}")]
    InvalidTimeRange(String),
    #[error("{0}")]
    InvalidNextToken(String),
    #[error("{0}")]
    InvalidMaxResults(String),
    #[error("{0}")]
    InvalidParameter(String),
    #[error("{0}")]
    TrailNotFound(String),
    #[error("{0}")]
    TrailAlreadyExists(String),
    #[error("{0}")]
    InvalidTrailName(String),
    #[error("{0}")]
    InvalidS3BucketName(String),
    #[error("{0}")]
    InvalidS3Prefix(String),
    #[error("{0}")]
    InvalidCloudWatchLogsLogGroupArn(String),
    #[error("{0}")]
    InvalidCloudWatchLogsRoleArn(String),
    #[error("{0}")]
    InvalidEventSelectors(String),
    #[error("{0}")]
    InvalidInsightSelectors(String),
    #[error("{0}")]
    InsightNotEnabled(String),
    #[error("{0}")]
    TagsLimitExceeded(String),
    #[error("storage failure: {0}")]
    Store(#[from] StoreError),
}

impl From<InputError> for CloudTrailError {
    fn from(e: InputError) -> Self {
        CloudTrailError::InvalidParameter(e.0)
    }
}

impl AwsError for CloudTrailError {
    fn error_shape(&self) -> &'static str {
        match self {
            CloudTrailError::InvalidLookupAttributes(_) => "InvalidLookupAttributesException",
            CloudTrailError::InvalidTimeRange(_) => "InvalidTimeRangeException",
            CloudTrailError::InvalidNextToken(_) => "InvalidNextTokenException",
            CloudTrailError::InvalidMaxResults(_) => "InvalidMaxResultsException",
            CloudTrailError::InvalidParameter(_) => "InvalidParameterException",
            CloudTrailError::TrailNotFound(_) => "TrailNotFoundException",
            CloudTrailError::TrailAlreadyExists(_) => "TrailAlreadyExistsException",
            CloudTrailError::InvalidTrailName(_) => "InvalidTrailNameException",
            CloudTrailError::InvalidS3BucketName(_) => "InvalidS3BucketNameException",
            CloudTrailError::InvalidS3Prefix(_) => "InvalidS3PrefixException",
            CloudTrailError::InvalidCloudWatchLogsLogGroupArn(_) => {
                "InvalidCloudWatchLogsLogGroupArnException"
            }
            CloudTrailError::InvalidCloudWatchLogsRoleArn(_) => {
                "InvalidCloudWatchLogsRoleArnException"
            }
            CloudTrailError::InvalidEventSelectors(_) => "InvalidEventSelectorsException",
            CloudTrailError::InvalidInsightSelectors(_) => "InvalidInsightSelectorsException",
            CloudTrailError::InsightNotEnabled(_) => "InsightNotEnabledException",
            CloudTrailError::TagsLimitExceeded(_) => "TagsLimitExceededException",
            CloudTrailError::Store(_) => "InternalFailure",
        }
    }

    fn is_internal(&self) -> bool {
        matches!(self, CloudTrailError::Store(_))
    }
}

pub struct CloudTrail {
    db: Db,
    writer: journal::JournalWriter,
    enabled: bool,
    trails: repo::TrailRepo,
    /// Whether a logging trail selects data events; only then are they journaled.
    data_events_wanted: std::sync::atomic::AtomicBool,
    /// Management calls go to EventBridge's default bus as "AWS API Call via CloudTrail".
    events: crate::services::bus::EventEmitter,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct LookupAttribute {
    attribute_key: String,
    attribute_value: String,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct LookupEventsInput {
    #[serde(default)]
    lookup_attributes: Vec<LookupAttribute>,
    start_time: Option<f64>,
    end_time: Option<f64>,
    event_category: Option<String>,
    max_results: Option<i64>,
    next_token: Option<String>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
struct Resource {
    resource_type: String,
    resource_name: String,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
struct Event {
    event_id: String,
    event_name: String,
    read_only: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    access_key_id: Option<String>,
    event_time: f64,
    event_source: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    username: Option<String>,
    resources: Vec<Resource>,
    cloud_trail_event: String,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
struct LookupEventsOutput {
    events: Vec<Event>,
    #[serde(skip_serializing_if = "Option::is_none")]
    next_token: Option<String>,
}

impl CloudTrail {
    /// Starts the journal writer and the trail delivery task (which stops with the store).
    pub fn new(
        db: Db,
        enabled: bool,
        logs: crate::services::logs::LogDeliverer,
        delivery_interval: std::time::Duration,
        clock: crate::clock::SharedClock,
        events: crate::services::bus::EventEmitter,
    ) -> Self {
        let trails = repo::TrailRepo::new(db.clone());
        let s3_root = db.directory().join("s3");
        tokio::spawn(trails::run_delivery(
            trails.clone(),
            logs,
            s3_root,
            delivery_interval,
            clock,
        ));
        CloudTrail {
            writer: journal::JournalWriter::start(db.clone()),
            db,
            enabled,
            trails,
            data_events_wanted: std::sync::atomic::AtomicBool::new(false),
            events,
        }
    }

    /// Journals a finished call without waiting for the write.
    ///
    /// Data events are kept only while a logging trail selects them: AWS delivers them only to
    /// such trails and never shows them in event history, and journaling every PutMetricData
    /// or PutLogEvents call for no reader cost those calls a fifth of their throughput.
    pub fn record(&self, call: super::ApiCall) {
        let wanted = !record::is_data_event(call.service, &call.operation)
            || self
                .data_events_wanted
                .load(std::sync::atomic::Ordering::Relaxed);
        let is_data = record::is_data_event(call.service, &call.operation);
        if !(self.enabled && wanted) && is_data {
            return;
        }
        let record = record::build(call);
        // Read-only calls go too: rules in state ENABLED_WITH_ALL_CLOUDTRAIL_MANAGEMENT_EVENTS
        // receive them (EventBridge's router keeps them from every other rule).
        if record.management {
            if let Some(event) = record::api_call_event(&record) {
                self.events.emit(event);
            }
        }
        if self.enabled && wanted {
            self.writer.record(record);
        }
    }

    /// Re-reads which logging trails select data events (after a trail changed, and at start).
    pub async fn refresh_data_selection(&self) {
        match self.trails.logging().await {
            Ok(trails) => self.data_events_wanted.store(
                trails::wants_data_events(&trails),
                std::sync::atomic::Ordering::Relaxed,
            ),
            Err(e) => tracing::error!(error = %e, "cannot read trails"),
        }
    }

    /// Writes what is still queued; see [`journal::JournalWriter::shutdown`].
    pub async fn shutdown(&self) {
        self.writer.shutdown().await;
    }

    pub async fn verify(&self) -> Result<journal::Verification, StoreError> {
        journal::verify(self.db.reader()).await
    }

    pub fn call<'a>(
        &'a self,
        ctx: &'a RequestContext,
        operation: &str,
        input: Value,
    ) -> Option<HandlerFuture<'a>> {
        // Operations that change which records trails select refresh the data-event switch.
        let changes_selection = matches!(
            operation,
            "StartLogging" | "StopLogging" | "PutEventSelectors" | "DeleteTrail" | "UpdateTrail"
        );
        let call = self.dispatch(ctx, operation, input)?;
        if !changes_selection {
            return Some(call);
        }
        Some(Box::pin(async move {
            let result = call.await;
            self.refresh_data_selection().await;
            result
        }))
    }

    fn dispatch<'a>(
        &'a self,
        ctx: &'a RequestContext,
        operation: &str,
        input: Value,
    ) -> Option<HandlerFuture<'a>> {
        fn boxed<'a>(
            f: impl std::future::Future<Output = Result<Value, CloudTrailError>> + Send + 'a,
        ) -> HandlerFuture<'a> {
            Box::pin(async move { f.await.map_err(|e| Box::new(e) as super::BoxError) })
        }
        let t = &self.trails;
        Some(match operation {
            "LookupEvents" => Box::pin(async move {
                match self.lookup_events(ctx, input).await {
                    Ok(out) => output(&out),
                    Err(e) => Err(Box::new(e) as super::BoxError),
                }
            }),
            "CreateTrail" => boxed(trails::create_trail(t, ctx, input)),
            "UpdateTrail" => boxed(trails::update_trail(t, ctx, input)),
            "GetTrail" => boxed(trails::get_trail(t, ctx, input)),
            "DescribeTrails" => boxed(trails::describe_trails(t, ctx, input)),
            "ListTrails" => boxed(trails::list_trails(t, ctx, input)),
            "DeleteTrail" => boxed(trails::delete_trail(t, ctx, input)),
            "StartLogging" => boxed(trails::start_logging(t, ctx, input, true)),
            "StopLogging" => boxed(trails::start_logging(t, ctx, input, false)),
            "GetTrailStatus" => boxed(trails::get_trail_status(t, ctx, input)),
            "PutEventSelectors" => boxed(trails::put_event_selectors(t, ctx, input)),
            "GetEventSelectors" => boxed(trails::get_event_selectors(t, ctx, input)),
            "PutInsightSelectors" => boxed(trails::put_insight_selectors(t, ctx, input)),
            "GetInsightSelectors" => boxed(trails::get_insight_selectors(t, ctx, input)),
            "AddTags" => boxed(trails::add_tags(t, ctx, input, false)),
            "RemoveTags" => boxed(trails::add_tags(t, ctx, input, true)),
            "ListTags" => boxed(trails::list_tags(t, ctx, input)),
            _ => return None,
        })
    }

    /// https://docs.aws.amazon.com/awscloudtrail/latest/APIReference/API_LookupEvents.html
    async fn lookup_events(
        &self,
        ctx: &RequestContext,
        doc: Value,
    ) -> Result<LookupEventsOutput, CloudTrailError> {
        let request: LookupEventsInput = input(doc)?;
        if request.lookup_attributes.len() > 1 {
            return Err(CloudTrailError::InvalidLookupAttributes(
                "You can only specify one lookup attribute.".into(),
            ));
        }
        let filter = match request.lookup_attributes.first() {
            None => journal::Filter::None,
            Some(a) => {
                let value = a.attribute_value.clone();
                match a.attribute_key.as_str() {
                    "EventId" => journal::Filter::Column("event_id", value),
                    "EventName" => journal::Filter::Column("event_name", value),
                    "Username" => journal::Filter::Column("username", value),
                    "ResourceType" => journal::Filter::Column("resource_type", value),
                    "ResourceName" => journal::Filter::Column("resource_name", value),
                    "EventSource" => journal::Filter::Column("event_source", value),
                    "AccessKeyId" => journal::Filter::Column("access_key_id", value),
                    "ReadOnly" => match value.as_str() {
                        "true" => journal::Filter::ReadOnly(true),
                        "false" => journal::Filter::ReadOnly(false),
                        other => {
                            return Err(CloudTrailError::InvalidLookupAttributes(format!(
                                "ReadOnly must be true or false, not {other}."
                            )))
                        }
                    },
                    other => {
                        return Err(CloudTrailError::InvalidLookupAttributes(format!(
                            "{other} is not a valid lookup attribute key."
                        )))
                    }
                }
            }
        };
        let oldest = ctx.now_ms - HISTORY_MS;
        let start_ms = request
            .start_time
            .map_or(oldest, |t| (t * 1000.0).round() as i64)
            .max(oldest);
        let end_ms = request
            .end_time
            .map_or(ctx.now_ms, |t| (t * 1000.0).round() as i64);
        if let (Some(s), Some(e)) = (request.start_time, request.end_time) {
            if s > e {
                return Err(CloudTrailError::InvalidTimeRange(
                    "Start time must not be after end time.".into(),
                ));
            }
        }
        let max = request.max_results.unwrap_or(DEFAULT_MAX_RESULTS);
        if !(1..=50).contains(&max) {
            return Err(CloudTrailError::InvalidMaxResults(format!(
                "Value {max} for MaxResults is invalid: it must be between 1 and 50."
            )));
        }
        let before =
            match &request.next_token {
                None => None,
                Some(t) => Some(decode_token(t).ok_or_else(|| {
                    CloudTrailError::InvalidNextToken("Invalid NextToken.".into())
                })?),
            };
        // Insight events are not produced here; asking for them finds none.
        if request.event_category.as_deref() == Some("insight") {
            return Ok(LookupEventsOutput {
                events: Vec::new(),
                next_token: None,
            });
        }
        let mut rows = journal::lookup(
            self.db.reader(),
            journal::LookupQuery {
                account_id: &ctx.account_id,
                region: &ctx.region,
                filter,
                start_ms,
                end_ms,
                before,
                limit: max + 1,
            },
        )
        .await?;
        let more = rows.len() as i64 > max;
        rows.truncate(usize::try_from(max).unwrap_or(50));
        let next_token = if more {
            rows.last().map(|r| encode_token(r.event_time_ms, r.seq))
        } else {
            None
        };
        let events = rows
            .into_iter()
            .map(|r| Event {
                resources: match (r.resource_type, r.resource_name) {
                    (Some(resource_type), Some(resource_name)) => vec![Resource {
                        resource_type,
                        resource_name,
                    }],
                    _ => Vec::new(),
                },
                event_id: r.event_id,
                event_name: r.event_name,
                read_only: r.read_only.to_string(),
                access_key_id: r.access_key_id,
                event_time: r.event_time_ms as f64 / 1000.0,
                event_source: r.event_source,
                username: r.username,
                cloud_trail_event: r.event,
            })
            .collect();
        Ok(LookupEventsOutput { events, next_token })
    }
}

fn encode_token(time_ms: i64, seq: i64) -> String {
    base64::engine::general_purpose::STANDARD.encode(format!("{time_ms}:{seq}"))
}

fn decode_token(token: &str) -> Option<(i64, i64)> {
    let raw = base64::engine::general_purpose::STANDARD
        .decode(token)
        .ok()?;
    let text = String::from_utf8(raw).ok()?;
    let (t, s) = text.split_once(':')?;
    Some((t.parse().ok()?, s.parse().ok()?))
}

/// Verifies the journal of a data directory without a running server (`watchtrail
/// verify-journal`): opens the database read-only and walks the chain.
pub async fn verify_data_dir(dir: &std::path::Path) -> Result<journal::Verification, StoreError> {
    use sqlx::sqlite::SqliteConnectOptions;
    let options = SqliteConnectOptions::new()
        .filename(dir.join("watchtrail.db"))
        .read_only(true);
    let pool = sqlx::sqlite::SqlitePoolOptions::new()
        .max_connections(1)
        .connect_with(options)
        .await?;
    let result = journal::verify(&pool).await;
    pool.close().await;
    result
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_round_trip() {
        assert_eq!(
            decode_token(&encode_token(1_700_000_000_000, 42)),
            Some((1_700_000_000_000, 42))
        );
        assert_eq!(decode_token("junk"), None);
    }
}

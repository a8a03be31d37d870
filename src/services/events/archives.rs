//! Archives and replays.
//!
//! An archive keeps the events of one bus that match its pattern (every event without one);
//! the event path calls [`Archives::archive`] with each accepted envelope. A replay re-sends an
//! archive's events of a time window (by the time they were archived) to the archive's bus,
//! each envelope marked with `replay-name`, through the channel the router reads; such events
//! are never archived again. Retention is enforced by a sweep ([`Archives::spawn_retention`]).

use std::collections::HashSet;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use base64::Engine;
use serde::Deserialize;
use serde_json::{json, Value};
use sqlx::Row;
use tokio::sync::mpsc::UnboundedSender;
use tokio_util::sync::CancellationToken;

use super::pattern::EventPattern;
use super::EventsError;
use crate::clock::SharedClock;
use crate::context::RequestContext;
use crate::services::{input, BoxError, HandlerFuture};
use crate::store::{Db, StoreError};

const DAY_MS: i64 = 86_400_000;
const DEFAULT_LIMIT: i64 = 100;
/// How many archived events a replay reads per query.
const REPLAY_PAGE: i64 = 500;
/// How often the retention sweep runs.
const RETENTION_INTERVAL: Duration = Duration::from_secs(3600);

/// One archived event sent again to its bus by a replay.
#[derive(Debug, Clone, PartialEq)]
pub struct ReplayedEvent {
    pub account_id: String,
    pub region: String,
    pub bus_arn: String,
    /// The archived envelope with `replay-name` added.
    pub event: Value,
    pub replay_name: String,
    /// Only these rules may match it (the replay's FilterArns), if given.
    pub rule_arns: Option<Vec<String>>,
}

#[derive(Clone)]
pub struct Archives {
    db: Db,
    clock: SharedClock,
    replays: UnboundedSender<ReplayedEvent>,
    /// Replays asked to stop, by (account, region, name).
    cancelled: Arc<Mutex<HashSet<(String, String, String)>>>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct CreateArchiveInput {
    archive_name: String,
    event_source_arn: String,
    description: Option<String>,
    event_pattern: Option<String>,
    retention_days: Option<i64>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct UpdateArchiveInput {
    archive_name: String,
    description: Option<String>,
    event_pattern: Option<String>,
    retention_days: Option<i64>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct ArchiveNameInput {
    archive_name: String,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct ListInput {
    name_prefix: Option<String>,
    event_source_arn: Option<String>,
    state: Option<String>,
    next_token: Option<String>,
    limit: Option<i64>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct StartReplayInput {
    replay_name: String,
    description: Option<String>,
    event_source_arn: String,
    event_start_time: f64,
    event_end_time: f64,
    destination: ReplayDestination,
}

#[derive(Debug, Deserialize, serde::Serialize)]
#[serde(rename_all = "PascalCase")]
struct ReplayDestination {
    arn: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    filter_arns: Option<Vec<String>>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct ReplayNameInput {
    replay_name: String,
}

struct ArchiveRow {
    name: String,
    source_arn: String,
    description: Option<String>,
    event_pattern: Option<String>,
    retention_days: i64,
    state: String,
    state_reason: Option<String>,
    created_ms: i64,
    event_count: i64,
    size_bytes: i64,
}

struct ReplayRow {
    name: String,
    archive_arn: String,
    description: Option<String>,
    event_start_ms: i64,
    event_end_ms: i64,
    destination: String,
    state: String,
    state_reason: Option<String>,
    replay_start_ms: i64,
    replay_end_ms: Option<i64>,
    last_replayed_ms: Option<i64>,
}

fn secs(ms: i64) -> f64 {
    ms as f64 / 1000.0
}

fn to_ms(secs: f64) -> i64 {
    (secs * 1000.0).round() as i64
}

pub fn archive_arn(region: &str, account: &str, name: &str) -> String {
    format!("arn:aws:events:{region}:{account}:archive/{name}")
}

pub fn replay_arn(region: &str, account: &str, name: &str) -> String {
    format!("arn:aws:events:{region}:{account}:replay/{name}")
}

/// (region, account, resource type, name) of an EventBridge ARN.
fn split_arn(arn: &str) -> Option<(&str, &str, &str, &str)> {
    let mut parts = arn.splitn(6, ':');
    let (prefix, partition, service) = (parts.next()?, parts.next()?, parts.next()?);
    if prefix != "arn" || !partition.starts_with("aws") || service != "events" {
        return None;
    }
    let (region, account, resource) = (parts.next()?, parts.next()?, parts.next()?);
    let (kind, name) = resource.split_once('/')?;
    Some((region, account, kind, name))
}

fn encode_token(name: &str) -> String {
    base64::engine::general_purpose::STANDARD.encode(name)
}

fn decode_token(token: &str) -> Result<String, EventsError> {
    base64::engine::general_purpose::STANDARD
        .decode(token)
        .ok()
        .and_then(|raw| String::from_utf8(raw).ok())
        .ok_or_else(|| EventsError::Validation("The NextToken provided is invalid.".into()))
}

fn boxed<'a>(
    f: impl std::future::Future<Output = Result<Value, EventsError>> + Send + 'a,
) -> HandlerFuture<'a> {
    Box::pin(async move { f.await.map_err(|e| Box::new(e) as BoxError) })
}

fn validate_pattern(pattern: Option<&str>) -> Result<(), EventsError> {
    if let Some(p) = pattern {
        EventPattern::parse(p).map_err(|e| EventsError::InvalidEventPattern(e.to_string()))?;
    }
    Ok(())
}

impl Archives {
    pub fn new(db: Db, clock: SharedClock, replays: UnboundedSender<ReplayedEvent>) -> Self {
        Archives {
            db,
            clock,
            replays,
            cancelled: Arc::new(Mutex::new(HashSet::new())),
        }
    }

    pub fn call<'a>(
        &'a self,
        ctx: &'a RequestContext,
        operation: &str,
        input: Value,
    ) -> Option<HandlerFuture<'a>> {
        Some(match operation {
            "CreateArchive" => boxed(self.create_archive(ctx, input)),
            "DescribeArchive" => boxed(self.describe_archive(ctx, input)),
            "ListArchives" => boxed(self.list_archives(ctx, input)),
            "UpdateArchive" => boxed(self.update_archive(ctx, input)),
            "DeleteArchive" => boxed(self.delete_archive(ctx, input)),
            "StartReplay" => boxed(self.start_replay(ctx, input)),
            "DescribeReplay" => boxed(self.describe_replay(ctx, input)),
            "ListReplays" => boxed(self.list_replays(ctx, input)),
            "CancelReplay" => boxed(self.cancel_replay(ctx, input)),
            _ => return None,
        })
    }

    /// Whether the bus named by `bus_arn` exists for this account and region: the default bus
    /// always does, others when created.
    async fn bus_exists(&self, ctx: &RequestContext, bus_arn: &str) -> Result<bool, EventsError> {
        let Some((region, account, "event-bus", name)) = split_arn(bus_arn) else {
            return Ok(false);
        };
        if region != ctx.region || account != ctx.account_id {
            return Ok(false);
        }
        if name == "default" {
            return Ok(true);
        }
        let row = sqlx::query(
            "SELECT 1 FROM events_buses WHERE account_id = ? AND region = ? AND name = ?",
        )
        .bind(account)
        .bind(region)
        .bind(name)
        .fetch_optional(self.db.reader())
        .await?;
        Ok(row.is_some())
    }

    async fn create_archive(&self, ctx: &RequestContext, doc: Value) -> Result<Value, EventsError> {
        let req: CreateArchiveInput = input(doc)?;
        if !self
            .load_archives(&ctx.account_id, &ctx.region, Some(&req.archive_name))
            .await?
            .is_empty()
        {
            return Err(EventsError::ResourceAlreadyExists(format!(
                "Archive {} already exists.",
                req.archive_name
            )));
        }
        if !self.bus_exists(ctx, &req.event_source_arn).await? {
            let name =
                split_arn(&req.event_source_arn).map_or(req.event_source_arn.as_str(), |p| p.3);
            return Err(EventsError::ResourceNotFound(format!(
                "Event bus {name} does not exist."
            )));
        }
        validate_pattern(req.event_pattern.as_deref())?;
        let retention = req.retention_days.unwrap_or(0);
        let (account, region, now) = (ctx.account_id.clone(), ctx.region.clone(), ctx.now_ms);
        let name = req.archive_name.clone();
        let created = self
            .db
            .write(move |conn| {
                Box::pin(async move {
                    let done = sqlx::query(
                        "INSERT INTO events_archives (account_id, region, name, source_arn, \
                         description, event_pattern, retention_days, state, created_ms) \
                         VALUES (?, ?, ?, ?, ?, ?, ?, 'ENABLED', ?) ON CONFLICT DO NOTHING",
                    )
                    .bind(&account)
                    .bind(&region)
                    .bind(&req.archive_name)
                    .bind(&req.event_source_arn)
                    .bind(&req.description)
                    .bind(&req.event_pattern)
                    .bind(retention)
                    .bind(now)
                    .execute(&mut *conn)
                    .await?;
                    Ok(done.rows_affected() == 1)
                })
            })
            .await?;
        if !created {
            return Err(EventsError::ResourceAlreadyExists(format!(
                "Archive {name} already exists."
            )));
        }
        Ok(json!({
            "ArchiveArn": archive_arn(&ctx.region, &ctx.account_id, &name),
            "State": "ENABLED",
            "CreationTime": secs(now),
        }))
    }

    async fn load_archives(
        &self,
        account: &str,
        region: &str,
        name: Option<&str>,
    ) -> Result<Vec<ArchiveRow>, EventsError> {
        let rows = sqlx::query(
            "SELECT a.name, a.source_arn, a.description, a.event_pattern, a.retention_days, \
             a.state, a.state_reason, a.created_ms, \
             (SELECT COUNT(*) FROM events_archive_events e WHERE e.account_id = a.account_id \
              AND e.region = a.region AND e.archive_name = a.name), \
             (SELECT COALESCE(SUM(LENGTH(CAST(e.event AS BLOB))), 0) FROM events_archive_events e \
              WHERE e.account_id = a.account_id AND e.region = a.region \
              AND e.archive_name = a.name) \
             FROM events_archives a WHERE a.account_id = ? AND a.region = ? \
             AND (?3 IS NULL OR a.name = ?3) ORDER BY a.name",
        )
        .bind(account)
        .bind(region)
        .bind(name)
        .fetch_all(self.db.reader())
        .await?;
        Ok(rows
            .into_iter()
            .map(|r| ArchiveRow {
                name: r.get(0),
                source_arn: r.get(1),
                description: r.get(2),
                event_pattern: r.get(3),
                retention_days: r.get(4),
                state: r.get(5),
                state_reason: r.get(6),
                created_ms: r.get(7),
                event_count: r.get(8),
                size_bytes: r.get(9),
            })
            .collect())
    }

    async fn archive_row(
        &self,
        ctx: &RequestContext,
        name: &str,
    ) -> Result<ArchiveRow, EventsError> {
        self.load_archives(&ctx.account_id, &ctx.region, Some(name))
            .await?
            .into_iter()
            .next()
            .ok_or_else(|| EventsError::ResourceNotFound(format!("Archive {name} does not exist.")))
    }

    async fn describe_archive(
        &self,
        ctx: &RequestContext,
        doc: Value,
    ) -> Result<Value, EventsError> {
        let req: ArchiveNameInput = input(doc)?;
        let a = self.archive_row(ctx, &req.archive_name).await?;
        let mut out = json!({
            "ArchiveArn": archive_arn(&ctx.region, &ctx.account_id, &a.name),
            "ArchiveName": a.name,
            "EventSourceArn": a.source_arn,
            "State": a.state,
            "RetentionDays": a.retention_days,
            "SizeBytes": a.size_bytes,
            "EventCount": a.event_count,
            "CreationTime": secs(a.created_ms),
        });
        if let Some(d) = a.description {
            out["Description"] = json!(d);
        }
        if let Some(p) = a.event_pattern {
            out["EventPattern"] = json!(p);
        }
        if let Some(r) = a.state_reason {
            out["StateReason"] = json!(r);
        }
        Ok(out)
    }

    async fn list_archives(&self, ctx: &RequestContext, doc: Value) -> Result<Value, EventsError> {
        let req: ListInput = input(doc)?;
        if let Some(bus) = &req.event_source_arn {
            if !self.bus_exists(ctx, bus).await? {
                let name = split_arn(bus).map_or(bus.as_str(), |p| p.3);
                return Err(EventsError::ResourceNotFound(format!(
                    "Event bus {name} does not exist."
                )));
            }
        }
        let after = req.next_token.as_deref().map(decode_token).transpose()?;
        let limit = req.limit.unwrap_or(DEFAULT_LIMIT).clamp(1, 100) as usize;
        let mut rows: Vec<ArchiveRow> = self
            .load_archives(&ctx.account_id, &ctx.region, None)
            .await?
            .into_iter()
            .filter(|a| {
                req.name_prefix
                    .as_deref()
                    .is_none_or(|p| a.name.starts_with(p))
            })
            .filter(|a| {
                req.event_source_arn
                    .as_deref()
                    .is_none_or(|s| a.source_arn == s)
            })
            .filter(|a| req.state.as_deref().is_none_or(|s| a.state == s))
            .filter(|a| after.as_deref().is_none_or(|n| a.name.as_str() > n))
            .collect();
        let next = (rows.len() > limit).then(|| encode_token(&rows[limit - 1].name));
        rows.truncate(limit);
        let archives: Vec<Value> = rows
            .into_iter()
            .map(|a| {
                let mut v = json!({
                    "ArchiveName": a.name,
                    "EventSourceArn": a.source_arn,
                    "State": a.state,
                    "RetentionDays": a.retention_days,
                    "SizeBytes": a.size_bytes,
                    "EventCount": a.event_count,
                    "CreationTime": secs(a.created_ms),
                });
                if let Some(r) = a.state_reason {
                    v["StateReason"] = json!(r);
                }
                v
            })
            .collect();
        let mut out = json!({ "Archives": archives });
        if let Some(n) = next {
            out["NextToken"] = json!(n);
        }
        Ok(out)
    }

    async fn update_archive(&self, ctx: &RequestContext, doc: Value) -> Result<Value, EventsError> {
        let req: UpdateArchiveInput = input(doc)?;
        let existing = self.archive_row(ctx, &req.archive_name).await?;
        validate_pattern(req.event_pattern.as_deref())?;
        let (account, region) = (ctx.account_id.clone(), ctx.region.clone());
        let name = req.archive_name.clone();
        self.db
            .write(move |conn| {
                Box::pin(async move {
                    sqlx::query(
                        "UPDATE events_archives SET \
                         description = COALESCE(?, description), \
                         event_pattern = COALESCE(?, event_pattern), \
                         retention_days = COALESCE(?, retention_days) \
                         WHERE account_id = ? AND region = ? AND name = ?",
                    )
                    .bind(&req.description)
                    .bind(&req.event_pattern)
                    .bind(req.retention_days)
                    .bind(&account)
                    .bind(&region)
                    .bind(&req.archive_name)
                    .execute(&mut *conn)
                    .await?;
                    Ok(())
                })
            })
            .await?;
        Ok(json!({
            "ArchiveArn": archive_arn(&ctx.region, &ctx.account_id, &name),
            "State": existing.state,
            "CreationTime": secs(existing.created_ms),
        }))
    }

    async fn delete_archive(&self, ctx: &RequestContext, doc: Value) -> Result<Value, EventsError> {
        let req: ArchiveNameInput = input(doc)?;
        let (account, region) = (ctx.account_id.clone(), ctx.region.clone());
        let name = req.archive_name.clone();
        let deleted = self
            .db
            .write(move |conn| {
                Box::pin(async move {
                    let done = sqlx::query(
                        "DELETE FROM events_archives WHERE account_id = ? AND region = ? AND name = ?",
                    )
                    .bind(&account)
                    .bind(&region)
                    .bind(&name)
                    .execute(&mut *conn)
                    .await?;
                    sqlx::query(
                        "DELETE FROM events_archive_events \
                         WHERE account_id = ? AND region = ? AND archive_name = ?",
                    )
                    .bind(&account)
                    .bind(&region)
                    .bind(&name)
                    .execute(&mut *conn)
                    .await?;
                    Ok(done.rows_affected() == 1)
                })
            })
            .await?;
        if !deleted {
            return Err(EventsError::ResourceNotFound(format!(
                "Archive {} does not exist.",
                req.archive_name
            )));
        }
        Ok(json!({}))
    }

    /// Archives accepted envelopes of `bus_arn`: each ENABLED archive of the bus keeps those its
    /// pattern matches. Replayed events (they carry `replay-name`) are not archived again.
    pub async fn archive(
        &self,
        account_id: &str,
        region: &str,
        bus_arn: &str,
        events: &[Value],
    ) -> Result<(), StoreError> {
        let originals: Vec<&Value> = events
            .iter()
            .filter(|e| e.get("replay-name").is_none())
            .collect();
        if originals.is_empty() {
            return Ok(());
        }
        let archives = sqlx::query(
            "SELECT name, event_pattern FROM events_archives \
             WHERE account_id = ? AND region = ? AND source_arn = ? AND state = 'ENABLED'",
        )
        .bind(account_id)
        .bind(region)
        .bind(bus_arn)
        .fetch_all(self.db.reader())
        .await?;
        let mut rows: Vec<(String, String)> = Vec::new();
        for archive in archives {
            let name: String = archive.get(0);
            let pattern: Option<String> = archive.get(1);
            let pattern = match pattern.as_deref().map(EventPattern::parse) {
                None => None,
                Some(Ok(p)) => Some(p),
                // Patterns are validated when stored; one that no longer parses archives nothing.
                Some(Err(_)) => continue,
            };
            for event in &originals {
                if pattern.as_ref().is_none_or(|p| p.matches(event)) {
                    rows.push((name.clone(), event.to_string()));
                }
            }
        }
        if rows.is_empty() {
            return Ok(());
        }
        let (account, region, now) = (
            account_id.to_string(),
            region.to_string(),
            self.clock.now_ms(),
        );
        self.db
            .write(move |conn| {
                Box::pin(async move {
                    for (name, event) in &rows {
                        sqlx::query(
                            "INSERT INTO events_archive_events \
                             (account_id, region, archive_name, received_ms, event) \
                             VALUES (?, ?, ?, ?, ?)",
                        )
                        .bind(&account)
                        .bind(&region)
                        .bind(name)
                        .bind(now)
                        .bind(event)
                        .execute(&mut *conn)
                        .await?;
                    }
                    Ok(())
                })
            })
            .await
    }

    /// Deletes archived events older than their archive's retention; returns how many.
    pub async fn sweep_retention(&self) -> Result<u64, StoreError> {
        let now = self.clock.now_ms();
        self.db
            .write(move |conn| {
                Box::pin(async move {
                    let done = sqlx::query(
                        "DELETE FROM events_archive_events WHERE seq IN ( \
                         SELECT e.seq FROM events_archive_events e JOIN events_archives a \
                         ON a.account_id = e.account_id AND a.region = e.region \
                         AND a.name = e.archive_name \
                         WHERE a.retention_days > 0 AND e.received_ms < ? - a.retention_days * ?)",
                    )
                    .bind(now)
                    .bind(DAY_MS)
                    .execute(&mut *conn)
                    .await?;
                    Ok(done.rows_affected())
                })
            })
            .await
    }

    /// Runs [`Archives::sweep_retention`] hourly until `shutdown` is cancelled or the store
    /// closes.
    pub fn spawn_retention(&self, shutdown: CancellationToken) -> tokio::task::JoinHandle<()> {
        let archives = self.clone();
        tokio::spawn(async move {
            loop {
                tokio::select! {
                    _ = shutdown.cancelled() => return,
                    _ = tokio::time::sleep(RETENTION_INTERVAL) => {}
                }
                match archives.sweep_retention().await {
                    Ok(_) => {}
                    Err(StoreError::Closed) => return,
                    Err(e) => tracing::error!(error = %e, "archive retention sweep failed"),
                }
            }
        })
    }

    async fn start_replay(&self, ctx: &RequestContext, doc: Value) -> Result<Value, EventsError> {
        let req: StartReplayInput = input(doc)?;
        if !self
            .load_replays(&ctx.account_id, &ctx.region, Some(&req.replay_name))
            .await?
            .is_empty()
        {
            return Err(EventsError::ResourceAlreadyExists(format!(
                "Replay {} already exists.",
                req.replay_name
            )));
        }
        let (start_ms, end_ms) = (to_ms(req.event_start_time), to_ms(req.event_end_time));
        if start_ms >= end_ms {
            return Err(EventsError::Validation(
                "Parameter EventEndTime is not valid. Reason: EventStartTime must be before EventEndTime.".into(),
            ));
        }
        let archive_name = match split_arn(&req.event_source_arn) {
            Some((region, account, "archive", name))
                if region == ctx.region && account == ctx.account_id =>
            {
                name.to_string()
            }
            _ => req
                .event_source_arn
                .rsplit('/')
                .next()
                .unwrap_or_default()
                .to_string(),
        };
        let archive = self
            .load_archives(&ctx.account_id, &ctx.region, Some(&archive_name))
            .await?
            .into_iter()
            .next()
            .filter(|_| split_arn(&req.event_source_arn).is_some_and(|p| p.2 == "archive"))
            .ok_or_else(|| {
                EventsError::Validation(format!(
                    "Parameter EventSourceArn is not valid. Reason: Archive {archive_name} does not exist."
                ))
            })?;
        if req.destination.arn != archive.source_arn {
            if !self.bus_exists(ctx, &req.destination.arn).await? {
                let bus =
                    split_arn(&req.destination.arn).map_or(req.destination.arn.as_str(), |p| p.3);
                return Err(EventsError::ResourceNotFound(format!(
                    "Event bus {bus} does not exist."
                )));
            }
            return Err(EventsError::Validation(
                "Parameter Destination.Arn is not valid. Reason: Cross event bus replay is not permitted.".into(),
            ));
        }
        let destination = serde_json::to_string(&req.destination)
            .map_err(|e| EventsError::Validation(e.to_string()))?;
        let (account, region, now) = (ctx.account_id.clone(), ctx.region.clone(), ctx.now_ms);
        let name = req.replay_name.clone();
        let archive_arn_text = req.event_source_arn.clone();
        let archive_for_row = archive_name.clone();
        let description = req.description.clone();
        let created = self
            .db
            .write(move |conn| {
                Box::pin(async move {
                    let done = sqlx::query(
                        "INSERT INTO events_replays (account_id, region, name, archive_arn, \
                         archive_name, description, event_start_ms, event_end_ms, destination, \
                         state, replay_start_ms) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, 'STARTING', ?) \
                         ON CONFLICT DO NOTHING",
                    )
                    .bind(&account)
                    .bind(&region)
                    .bind(&name)
                    .bind(&archive_arn_text)
                    .bind(&archive_for_row)
                    .bind(&description)
                    .bind(start_ms)
                    .bind(end_ms)
                    .bind(&destination)
                    .bind(now)
                    .execute(&mut *conn)
                    .await?;
                    Ok(done.rows_affected() == 1)
                })
            })
            .await?;
        if !created {
            return Err(EventsError::ResourceAlreadyExists(format!(
                "Replay {} already exists.",
                req.replay_name
            )));
        }
        let job = ReplayJob {
            account_id: ctx.account_id.clone(),
            region: ctx.region.clone(),
            name: req.replay_name.clone(),
            archive_name,
            bus_arn: archive.source_arn,
            start_ms,
            end_ms,
            rule_arns: req.destination.filter_arns,
        };
        let archives = self.clone();
        tokio::spawn(async move {
            if let Err(e) = archives.run_replay(&job).await {
                tracing::error!(error = %e, replay = %job.name, "replay failed");
                let _ = archives
                    .set_replay_state(&job, "FAILED", Some(e.to_string()), None)
                    .await;
            }
        });
        Ok(json!({
            "ReplayArn": replay_arn(&ctx.region, &ctx.account_id, &req.replay_name),
            "State": "STARTING",
            "ReplayStartTime": secs(now),
        }))
    }

    async fn set_replay_state(
        &self,
        job: &ReplayJob,
        state: &'static str,
        reason: Option<String>,
        last_replayed_ms: Option<i64>,
    ) -> Result<(), StoreError> {
        let finished = matches!(state, "COMPLETED" | "CANCELLED" | "FAILED");
        let end = finished.then(|| self.clock.now_ms());
        let (account, region, name) =
            (job.account_id.clone(), job.region.clone(), job.name.clone());
        self.db
            .write(move |conn| {
                Box::pin(async move {
                    sqlx::query(
                        "UPDATE events_replays SET state = ?, state_reason = COALESCE(?, state_reason), \
                         replay_end_ms = COALESCE(?, replay_end_ms), \
                         last_replayed_ms = COALESCE(?, last_replayed_ms) \
                         WHERE account_id = ? AND region = ? AND name = ?",
                    )
                    .bind(state)
                    .bind(&reason)
                    .bind(end)
                    .bind(last_replayed_ms)
                    .bind(&account)
                    .bind(&region)
                    .bind(&name)
                    .execute(&mut *conn)
                    .await?;
                    Ok(())
                })
            })
            .await
    }

    fn take_cancel(&self, job: &ReplayJob) -> bool {
        let key = (job.account_id.clone(), job.region.clone(), job.name.clone());
        self.cancelled
            .lock()
            .map(|mut set| set.remove(&key))
            .unwrap_or(false)
    }

    async fn run_replay(&self, job: &ReplayJob) -> Result<(), StoreError> {
        if self.take_cancel(job) {
            return self.set_replay_state(job, "CANCELLED", None, None).await;
        }
        self.set_replay_state(job, "RUNNING", None, None).await?;
        let mut after_seq = 0i64;
        let mut last_replayed = None;
        loop {
            if self.take_cancel(job) {
                return self
                    .set_replay_state(job, "CANCELLED", None, last_replayed)
                    .await;
            }
            let rows = sqlx::query(
                "SELECT seq, received_ms, event FROM events_archive_events \
                 WHERE account_id = ? AND region = ? AND archive_name = ? \
                 AND received_ms >= ? AND received_ms < ? AND seq > ? ORDER BY seq LIMIT ?",
            )
            .bind(&job.account_id)
            .bind(&job.region)
            .bind(&job.archive_name)
            .bind(job.start_ms)
            .bind(job.end_ms)
            .bind(after_seq)
            .bind(REPLAY_PAGE)
            .fetch_all(self.db.reader())
            .await?;
            let Some(last) = rows.last() else { break };
            after_seq = last.get(0);
            for row in &rows {
                let received: i64 = row.get(1);
                let text: String = row.get(2);
                let Ok(mut event) = serde_json::from_str::<Value>(&text) else {
                    continue;
                };
                if let Some(fields) = event.as_object_mut() {
                    fields.insert("replay-name".into(), Value::String(job.name.clone()));
                }
                let sent = self.replays.send(ReplayedEvent {
                    account_id: job.account_id.clone(),
                    region: job.region.clone(),
                    bus_arn: job.bus_arn.clone(),
                    event,
                    replay_name: job.name.clone(),
                    rule_arns: job.rule_arns.clone(),
                });
                if sent.is_err() {
                    return Err(StoreError::Closed);
                }
                last_replayed = Some(last_replayed.map_or(received, |l: i64| l.max(received)));
            }
        }
        // A cancel that arrived after the last page still ends the replay as cancelled.
        let state = if self.take_cancel(job) {
            "CANCELLED"
        } else {
            "COMPLETED"
        };
        self.set_replay_state(job, state, None, last_replayed).await
    }

    async fn load_replays(
        &self,
        account: &str,
        region: &str,
        name: Option<&str>,
    ) -> Result<Vec<ReplayRow>, EventsError> {
        let rows = sqlx::query(
            "SELECT name, archive_arn, description, event_start_ms, event_end_ms, destination, \
             state, state_reason, replay_start_ms, replay_end_ms, last_replayed_ms \
             FROM events_replays WHERE account_id = ? AND region = ? AND (?3 IS NULL OR name = ?3) \
             ORDER BY name",
        )
        .bind(account)
        .bind(region)
        .bind(name)
        .fetch_all(self.db.reader())
        .await?;
        Ok(rows
            .into_iter()
            .map(|r| ReplayRow {
                name: r.get(0),
                archive_arn: r.get(1),
                description: r.get(2),
                event_start_ms: r.get(3),
                event_end_ms: r.get(4),
                destination: r.get(5),
                state: r.get(6),
                state_reason: r.get(7),
                replay_start_ms: r.get(8),
                replay_end_ms: r.get(9),
                last_replayed_ms: r.get(10),
            })
            .collect())
    }

    async fn replay_row(&self, ctx: &RequestContext, name: &str) -> Result<ReplayRow, EventsError> {
        self.load_replays(&ctx.account_id, &ctx.region, Some(name))
            .await?
            .into_iter()
            .next()
            .ok_or_else(|| EventsError::ResourceNotFound(format!("Replay {name} does not exist.")))
    }

    fn replay_summary(r: &ReplayRow) -> Value {
        let mut v = json!({
            "ReplayName": r.name,
            "EventSourceArn": r.archive_arn,
            "State": r.state,
            "EventStartTime": secs(r.event_start_ms),
            "EventEndTime": secs(r.event_end_ms),
            "ReplayStartTime": secs(r.replay_start_ms),
        });
        if let Some(reason) = &r.state_reason {
            v["StateReason"] = json!(reason);
        }
        if let Some(t) = r.last_replayed_ms {
            v["EventLastReplayedTime"] = json!(secs(t));
        }
        if let Some(t) = r.replay_end_ms {
            v["ReplayEndTime"] = json!(secs(t));
        }
        v
    }

    async fn describe_replay(
        &self,
        ctx: &RequestContext,
        doc: Value,
    ) -> Result<Value, EventsError> {
        let req: ReplayNameInput = input(doc)?;
        let r = self.replay_row(ctx, &req.replay_name).await?;
        let mut out = Self::replay_summary(&r);
        out["ReplayArn"] = json!(replay_arn(&ctx.region, &ctx.account_id, &r.name));
        out["Destination"] = serde_json::from_str(&r.destination).unwrap_or(Value::Null);
        if let Some(d) = &r.description {
            out["Description"] = json!(d);
        }
        Ok(out)
    }

    async fn list_replays(&self, ctx: &RequestContext, doc: Value) -> Result<Value, EventsError> {
        let req: ListInput = input(doc)?;
        let after = req.next_token.as_deref().map(decode_token).transpose()?;
        let limit = req.limit.unwrap_or(DEFAULT_LIMIT).clamp(1, 100) as usize;
        let mut rows: Vec<ReplayRow> = self
            .load_replays(&ctx.account_id, &ctx.region, None)
            .await?
            .into_iter()
            .filter(|r| {
                req.name_prefix
                    .as_deref()
                    .is_none_or(|p| r.name.starts_with(p))
            })
            .filter(|r| {
                req.event_source_arn
                    .as_deref()
                    .is_none_or(|s| r.archive_arn == s)
            })
            .filter(|r| req.state.as_deref().is_none_or(|s| r.state == s))
            .filter(|r| after.as_deref().is_none_or(|n| r.name.as_str() > n))
            .collect();
        let next = (rows.len() > limit).then(|| encode_token(&rows[limit - 1].name));
        rows.truncate(limit);
        let mut out =
            json!({ "Replays": rows.iter().map(Self::replay_summary).collect::<Vec<_>>() });
        if let Some(n) = next {
            out["NextToken"] = json!(n);
        }
        Ok(out)
    }

    async fn cancel_replay(&self, ctx: &RequestContext, doc: Value) -> Result<Value, EventsError> {
        let req: ReplayNameInput = input(doc)?;
        let r = self.replay_row(ctx, &req.replay_name).await?;
        if !matches!(r.state.as_str(), "STARTING" | "RUNNING") {
            return Err(EventsError::IllegalStatus(format!(
                "Replay {} is not in a valid state for this operation.",
                r.name
            )));
        }
        if let Ok(mut set) = self.cancelled.lock() {
            set.insert((ctx.account_id.clone(), ctx.region.clone(), r.name.clone()));
        }
        let (account, region, name) = (ctx.account_id.clone(), ctx.region.clone(), r.name.clone());
        self.db
            .write(move |conn| {
                Box::pin(async move {
                    sqlx::query(
                        "UPDATE events_replays SET state = 'CANCELLING' WHERE account_id = ? \
                         AND region = ? AND name = ? AND state IN ('STARTING', 'RUNNING')",
                    )
                    .bind(&account)
                    .bind(&region)
                    .bind(&name)
                    .execute(&mut *conn)
                    .await?;
                    Ok(())
                })
            })
            .await?;
        Ok(json!({
            "ReplayArn": replay_arn(&ctx.region, &ctx.account_id, &r.name),
            "State": "CANCELLING",
        }))
    }
}

struct ReplayJob {
    account_id: String,
    region: String,
    name: String,
    archive_name: String,
    bus_arn: String,
    start_ms: i64,
    end_ms: i64,
    rule_arns: Option<Vec<String>>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clock::ManualClock;
    use crate::store::Location;

    const ACCOUNT: &str = "123456789012";
    const REGION: &str = "us-east-1";
    const BUS: &str = "arn:aws:events:us-east-1:123456789012:event-bus/default";
    const T0: i64 = 1_700_000_000_000;

    fn ctx(now_ms: i64) -> RequestContext {
        RequestContext::for_tests(ACCOUNT, REGION, now_ms)
    }

    struct Fixture {
        archives: Archives,
        clock: Arc<ManualClock>,
        replayed: tokio::sync::mpsc::UnboundedReceiver<ReplayedEvent>,
        _db: Db,
    }

    async fn fixture() -> Fixture {
        let (db, _writer) = Db::open(&Location::Ephemeral).await.unwrap();
        let clock = ManualClock::new(T0);
        let (tx, rx) = tokio::sync::mpsc::unbounded_channel();
        Fixture {
            archives: Archives::new(db.clone(), clock.clone(), tx),
            clock,
            replayed: rx,
            _db: db,
        }
    }

    async fn call(a: &Archives, now: i64, op: &str, input: Value) -> Result<Value, String> {
        let c = ctx(now);
        a.call(&c, op, input)
            .unwrap()
            .await
            .map_err(|e| format!("{}: {e}", e.error_shape()))
    }

    fn event(source: &str, n: i64) -> Value {
        json!({"version": "0", "id": format!("id-{n}"), "detail-type": "t", "source": source,
               "account": ACCOUNT, "time": "2023-11-14T22:13:20Z", "region": REGION,
               "resources": [], "detail": {"n": n}})
    }

    async fn wait_for_state(a: &Archives, name: &str, state: &str) -> Value {
        for _ in 0..200 {
            let d = call(a, T0, "DescribeReplay", json!({"ReplayName": name}))
                .await
                .unwrap();
            if d["State"] == state {
                return d;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        panic!("replay {name} never reached {state}");
    }

    #[tokio::test]
    async fn archive_lifecycle_and_errors() {
        let f = fixture().await;
        let a = &f.archives;
        let out = call(
            a,
            T0,
            "CreateArchive",
            json!({"ArchiveName": "a1", "EventSourceArn": BUS,
            "EventPattern": "{\"source\": [\"app\"]}", "RetentionDays": 7, "Description": "d"}),
        )
        .await
        .unwrap();
        assert_eq!(
            out["ArchiveArn"],
            "arn:aws:events:us-east-1:123456789012:archive/a1"
        );
        assert_eq!(out["State"], "ENABLED");
        assert_eq!(out["CreationTime"], json!(1_700_000_000.0));
        assert_eq!(
            call(
                a,
                T0,
                "CreateArchive",
                json!({"ArchiveName": "a1", "EventSourceArn": BUS})
            )
            .await,
            Err("ResourceAlreadyExistsException: Archive a1 already exists.".into())
        );
        assert_eq!(
            call(
                a,
                T0,
                "CreateArchive",
                json!({"ArchiveName": "a2",
                "EventSourceArn": "arn:aws:events:us-east-1:123456789012:event-bus/nope"})
            )
            .await,
            Err("ResourceNotFoundException: Event bus nope does not exist.".into())
        );
        let bad = call(
            a,
            T0,
            "CreateArchive",
            json!({"ArchiveName": "a3", "EventSourceArn": BUS,
            "EventPattern": "{\"source\": \"app\"}"}),
        )
        .await;
        assert!(bad.unwrap_err().starts_with("InvalidEventPatternException"));

        a.archive(
            ACCOUNT,
            REGION,
            BUS,
            &[event("app", 1), event("other", 2), event("app", 3)],
        )
        .await
        .unwrap();
        let d = call(a, T0, "DescribeArchive", json!({"ArchiveName": "a1"}))
            .await
            .unwrap();
        assert_eq!(d["EventCount"], 2);
        let size = event("app", 1).to_string().len() + event("app", 3).to_string().len();
        assert_eq!(d["SizeBytes"], size);
        assert_eq!(d["RetentionDays"], 7);
        assert_eq!(d["Description"], "d");

        call(
            a,
            T0,
            "UpdateArchive",
            json!({"ArchiveName": "a1", "RetentionDays": 1}),
        )
        .await
        .unwrap();
        f.clock.set_ms(T0 + DAY_MS + 1);
        assert_eq!(a.sweep_retention().await.unwrap(), 2);
        let d = call(a, T0, "DescribeArchive", json!({"ArchiveName": "a1"}))
            .await
            .unwrap();
        assert_eq!(d["EventCount"], 0);

        call(
            a,
            T0,
            "CreateArchive",
            json!({"ArchiveName": "b1", "EventSourceArn": BUS}),
        )
        .await
        .unwrap();
        let page = call(a, T0, "ListArchives", json!({"Limit": 1}))
            .await
            .unwrap();
        assert_eq!(page["Archives"][0]["ArchiveName"], "a1");
        let next = call(
            a,
            T0,
            "ListArchives",
            json!({"Limit": 1, "NextToken": page["NextToken"]}),
        )
        .await
        .unwrap();
        assert_eq!(next["Archives"][0]["ArchiveName"], "b1");
        assert!(next.get("NextToken").is_none());
        let prefixed = call(a, T0, "ListArchives", json!({"NamePrefix": "b"}))
            .await
            .unwrap();
        assert_eq!(prefixed["Archives"].as_array().unwrap().len(), 1);

        call(a, T0, "DeleteArchive", json!({"ArchiveName": "b1"}))
            .await
            .unwrap();
        assert_eq!(
            call(a, T0, "DescribeArchive", json!({"ArchiveName": "b1"})).await,
            Err("ResourceNotFoundException: Archive b1 does not exist.".into())
        );
    }

    #[tokio::test]
    async fn replays_resend_the_window_and_skip_replayed_events() {
        let mut f = fixture().await;
        let a = f.archives.clone();
        call(
            &a,
            T0,
            "CreateArchive",
            json!({"ArchiveName": "all", "EventSourceArn": BUS}),
        )
        .await
        .unwrap();
        a.archive(ACCOUNT, REGION, BUS, &[event("s", 1)])
            .await
            .unwrap();
        f.clock.set_ms(T0 + 60_000);
        a.archive(ACCOUNT, REGION, BUS, &[event("s", 2)])
            .await
            .unwrap();
        f.clock.set_ms(T0 + 120_000);
        a.archive(ACCOUNT, REGION, BUS, &[event("s", 3)])
            .await
            .unwrap();
        let now = T0 + 600_000;
        let archive = "arn:aws:events:us-east-1:123456789012:archive/all";
        let rule = "arn:aws:events:us-east-1:123456789012:rule/r1";

        let bad_window = call(
            &a,
            now,
            "StartReplay",
            json!({"ReplayName": "x",
            "EventSourceArn": archive, "EventStartTime": 2000.0, "EventEndTime": 1000.0,
            "Destination": {"Arn": BUS}}),
        )
        .await;
        assert!(bad_window.unwrap_err().starts_with("ValidationException"));
        let other_bus = call(
            &a,
            now,
            "StartReplay",
            json!({"ReplayName": "x",
            "EventSourceArn": archive, "EventStartTime": 1.0, "EventEndTime": 2.0,
            "Destination": {"Arn": "arn:aws:events:us-east-1:123456789012:event-bus/b"}}),
        )
        .await;
        assert_eq!(
            other_bus,
            Err("ResourceNotFoundException: Event bus b does not exist.".into())
        );
        let no_archive = call(
            &a,
            now,
            "StartReplay",
            json!({"ReplayName": "x",
            "EventSourceArn": "arn:aws:events:us-east-1:123456789012:archive/gone",
            "EventStartTime": 1.0, "EventEndTime": 2.0, "Destination": {"Arn": BUS}}),
        )
        .await;
        assert_eq!(
            no_archive,
            Err("ValidationException: Parameter EventSourceArn is not valid. Reason: Archive gone does not exist.".into())
        );
        let unknown_bus = call(
            &a,
            now,
            "ListArchives",
            json!({"EventSourceArn": "arn:aws:events:us-east-1:123456789012:event-bus/b"}),
        )
        .await;
        assert_eq!(
            unknown_bus,
            Err("ResourceNotFoundException: Event bus b does not exist.".into())
        );

        // The window [T0+30s, T0+90s) holds only the second event.
        let out = call(
            &a,
            now,
            "StartReplay",
            json!({"ReplayName": "r",
            "EventSourceArn": archive,
            "EventStartTime": (T0 + 30_000) as f64 / 1000.0,
            "EventEndTime": (T0 + 90_000) as f64 / 1000.0,
            "Destination": {"Arn": BUS, "FilterArns": [rule]}}),
        )
        .await
        .unwrap();
        assert_eq!(out["State"], "STARTING");
        assert_eq!(
            out["ReplayArn"],
            "arn:aws:events:us-east-1:123456789012:replay/r"
        );
        let sent = f.replayed.recv().await.unwrap();
        assert_eq!(sent.event["detail"]["n"], 2);
        assert_eq!(sent.event["replay-name"], "r");
        assert_eq!(sent.bus_arn, BUS);
        assert_eq!(sent.rule_arns, Some(vec![rule.to_string()]));
        let d = wait_for_state(&a, "r", "COMPLETED").await;
        assert_eq!(
            d["EventLastReplayedTime"],
            json!((T0 + 60_000) as f64 / 1000.0)
        );
        assert_eq!(d["Destination"]["FilterArns"][0], rule);
        assert!(f.replayed.try_recv().is_err());

        // Re-archiving the replayed event is a no-op.
        a.archive(ACCOUNT, REGION, BUS, &[sent.event])
            .await
            .unwrap();
        let archived = call(&a, now, "DescribeArchive", json!({"ArchiveName": "all"}))
            .await
            .unwrap();
        assert_eq!(archived["EventCount"], 3);

        assert_eq!(
            call(&a, now, "CancelReplay", json!({"ReplayName": "r"})).await,
            Err(
                "IllegalStatusException: Replay r is not in a valid state for this operation."
                    .into()
            )
        );
        let dup = call(
            &a,
            now,
            "StartReplay",
            json!({"ReplayName": "r",
            "EventSourceArn": archive, "EventStartTime": 1.0, "EventEndTime": 2.0,
            "Destination": {"Arn": BUS}}),
        )
        .await;
        assert_eq!(
            dup,
            Err("ResourceAlreadyExistsException: Replay r already exists.".into())
        );
        let listed = call(&a, now, "ListReplays", json!({"State": "COMPLETED"}))
            .await
            .unwrap();
        assert_eq!(listed["Replays"][0]["ReplayName"], "r");
        assert_eq!(
            call(&a, now, "DescribeReplay", json!({"ReplayName": "nope"})).await,
            Err("ResourceNotFoundException: Replay nope does not exist.".into())
        );
    }

    #[tokio::test]
    async fn a_cancelled_replay_ends_cancelled() {
        let mut f = fixture().await;
        let a = f.archives.clone();
        call(
            &a,
            T0,
            "CreateArchive",
            json!({"ArchiveName": "all", "EventSourceArn": BUS}),
        )
        .await
        .unwrap();
        // A cancel request that is pending when the replay task starts stops it at once (the
        // API path, CancelReplay, leaves exactly this request for the task).
        a.cancelled
            .lock()
            .unwrap()
            .insert((ACCOUNT.into(), REGION.into(), "c".into()));
        a.archive(ACCOUNT, REGION, BUS, &[event("s", 1)])
            .await
            .unwrap();
        call(
            &a,
            T0 + 1000,
            "StartReplay",
            json!({"ReplayName": "c",
            "EventSourceArn": "arn:aws:events:us-east-1:123456789012:archive/all",
            "EventStartTime": 1.0, "EventEndTime": (T0 + 1000) as f64 / 1000.0,
            "Destination": {"Arn": BUS}}),
        )
        .await
        .unwrap();
        let d = wait_for_state(&a, "c", "CANCELLED").await;
        assert!(d.get("ReplayEndTime").is_some());
        assert!(f.replayed.try_recv().is_err());
    }
}

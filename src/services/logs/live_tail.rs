//! StartLiveTail: a session over the live-tail hub ([`super::live`]) that answers as AWS's
//! streaming endpoint does: one `sessionStart`, then `sessionUpdate` events, and a
//! `SessionTimeoutException` in the stream when the session has been open for three hours.
//!
//! AWS sends an update once a second. Here an update leaves as soon as matching events are
//! committed (so a tail sees an event within milliseconds of its PutLogEvents answer), and an
//! empty update is sent after each second without events, as AWS's are, so that clients which
//! count on the once-a-second rhythm see it. AWS's sampling is kept: at most 500 events reach a
//! session in any one-second window; past that, a burst is thinned to evenly spaced events and
//! the updates of that window say `sampled: true`. A tail that fell behind the hub (its
//! batches were dropped, see `live.rs`) also reports `sampled: true`, as its events are no
//! longer complete.
//!
//! Services never see the wire: the session yields [`StreamMessage`]s, and the protocol layer
//! frames them (`protocol/eventstream.rs`).

use std::collections::HashMap;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures_util::Stream;
use serde::Deserialize;
use serde_json::{json, Value};
use tokio::time::Instant;

use super::filter_pattern::FilterPattern;
use super::live::{LiveTail, TailSelection, TailSubscription, TailUpdate, TailedEvent};
use super::repo::LogsRepo;
use super::{LogsError, Result};
use crate::context::RequestContext;
use crate::protocol::eventstream::StreamMessage;

/// AWS's default quota of concurrent Live Tail sessions per account and Region.
pub const MAX_CONCURRENT_SESSIONS: usize = 15;
/// AWS ends a session after three hours with a SessionTimeoutException.
pub const SESSION_LIMIT: Duration = Duration::from_secs(3 * 60 * 60);
/// Events a session receives per second before AWS samples them.
pub const MAX_EVENTS_PER_SECOND: usize = 500;
/// AWS's update rhythm: an update (empty if need be) at least this often.
const UPDATE_INTERVAL: Duration = Duration::from_secs(1);

/// A stream of messages for the protocol layer to frame.
pub type MessageStream = Pin<Box<dyn Stream<Item = StreamMessage> + Send>>;

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct StartLiveTailInput {
    log_group_identifiers: Vec<String>,
    log_stream_names: Option<Vec<String>>,
    log_stream_name_prefixes: Option<Vec<String>>,
    log_event_filter_pattern: Option<String>,
}

/// Open sessions per (account, Region), for the concurrency quota.
#[derive(Default)]
pub struct Sessions {
    open: Mutex<HashMap<(String, String), usize>>,
}

impl Sessions {
    fn acquire(self: &Arc<Self>, account_id: &str, region: &str) -> Result<SessionSlot> {
        let key = (account_id.to_string(), region.to_string());
        let mut open = self.open.lock().unwrap_or_else(|e| e.into_inner());
        let count = open.entry(key.clone()).or_default();
        if *count >= MAX_CONCURRENT_SESSIONS {
            return Err(LogsError::LimitExceeded(format!(
                "You have reached the maximum number of concurrent Live Tail sessions \
                 ({MAX_CONCURRENT_SESSIONS}) for this account in this Region."
            )));
        }
        *count += 1;
        Ok(SessionSlot {
            sessions: self.clone(),
            key,
        })
    }

    /// Sessions open for an account in a Region.
    pub fn open(&self, account_id: &str, region: &str) -> usize {
        let open = self.open.lock().unwrap_or_else(|e| e.into_inner());
        open.get(&(account_id.to_string(), region.to_string()))
            .copied()
            .unwrap_or(0)
    }
}

/// Holds one unit of the quota while its session's stream exists: a client that disconnects
/// drops the stream, and so frees its slot.
struct SessionSlot {
    sessions: Arc<Sessions>,
    key: (String, String),
}

impl Drop for SessionSlot {
    fn drop(&mut self) {
        let mut open = self.sessions.open.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(count) = open.get_mut(&self.key) {
            *count = count.saturating_sub(1);
            if *count == 0 {
                open.remove(&self.key);
            }
        }
    }
}

fn invalid(message: impl Into<String>) -> LogsError {
    LogsError::InvalidParameter(message.into())
}

/// A log group identifier (a name or an ARN) → the group's name, refusing what AWS refuses:
/// an ARN ending in `*`, or one of another account or Region (cross-account tailing needs
/// CloudWatch's observability links, which are not emulated).
fn group_name_of(ctx: &RequestContext, identifier: &str) -> Result<String> {
    if !identifier.starts_with("arn:") {
        return Ok(identifier.to_string());
    }
    if identifier.ends_with('*') {
        return Err(invalid(format!(
            "Log group ARN {identifier} must not end with an asterisk (*)."
        )));
    }
    let parts: Vec<&str> = identifier.splitn(7, ':').collect();
    match parts.as_slice() {
        ["arn", _, "logs", region, account, "log-group", name] if !name.is_empty() => {
            if *region != ctx.region || *account != ctx.account_id {
                return Err(super::group_not_found());
            }
            Ok(name.to_string())
        }
        _ => Err(invalid(format!("Invalid log group ARN: {identifier}"))),
    }
}

/// Validates the request, checks that every group exists, takes a slot of the quota and opens
/// the session. Errors here are answered as ordinary awsJson errors (before any stream).
pub async fn start_live_tail(
    repo: &LogsRepo,
    live: &LiveTail,
    sessions: &Arc<Sessions>,
    session_limit: Duration,
    ctx: &RequestContext,
    input: Value,
) -> Result<MessageStream> {
    let request: StartLiveTailInput = crate::services::input(input)?;
    let stream_names = request.log_stream_names.unwrap_or_default();
    let prefixes = request.log_stream_name_prefixes.unwrap_or_default();
    if !stream_names.is_empty() && !prefixes.is_empty() {
        return Err(invalid(
            "logStreamNames and logStreamNamePrefixes are mutually exclusive parameters.",
        ));
    }
    if (!stream_names.is_empty() || !prefixes.is_empty()) && request.log_group_identifiers.len() > 1
    {
        return Err(invalid(
            "logStreamNames and logStreamNamePrefixes can only be specified when only one log \
             group is specified in logGroupIdentifiers.",
        ));
    }
    let pattern_text = request.log_event_filter_pattern.clone().unwrap_or_default();
    let pattern = if pattern_text.trim().is_empty() {
        None
    } else {
        Some(FilterPattern::parse(&pattern_text).map_err(|e| invalid(e.to_string()))?)
    };
    // Results name their group by the identifier the caller used for it.
    let mut identifiers = HashMap::new();
    for identifier in &request.log_group_identifiers {
        let name = group_name_of(ctx, identifier)?;
        super::require_group(repo, ctx, &name).await?;
        identifiers.insert(name, identifier.clone());
    }
    let slot = sessions.acquire(&ctx.account_id, &ctx.region)?;
    let subscription = live.subscribe(TailSelection {
        account_id: ctx.account_id.clone(),
        region: ctx.region.clone(),
        group_names: identifiers.keys().cloned().collect(),
        stream_names: stream_names.clone(),
        stream_name_prefixes: prefixes.clone(),
        pattern,
    });
    let mut start = json!({
        "requestId": ctx.request_id,
        "sessionId": uuid::Uuid::new_v4().to_string(),
        "logGroupIdentifiers": request.log_group_identifiers,
        "logEventFilterPattern": pattern_text,
    });
    if !stream_names.is_empty() {
        start["logStreamNames"] = json!(stream_names);
    }
    if !prefixes.is_empty() {
        start["logStreamNamePrefixes"] = json!(prefixes);
    }
    let now = Instant::now();
    let session = Session {
        start: Some(StreamMessage::Event {
            event_type: "sessionStart",
            payload: start,
        }),
        subscription,
        identifiers,
        deadline: now + session_limit,
        limit_text: describe_limit(session_limit),
        next_heartbeat: now + UPDATE_INTERVAL,
        window: SamplingWindow::new(now),
        done: false,
        _slot: slot,
    };
    Ok(Box::pin(futures_util::stream::unfold(
        session,
        |mut session| async move {
            let message = session.next().await?;
            Some((message, session))
        },
    )))
}

/// AWS's per-second budget of events for one session.
struct SamplingWindow {
    started: Instant,
    delivered: usize,
    sampled: bool,
}

impl SamplingWindow {
    fn new(now: Instant) -> Self {
        SamplingWindow {
            started: now,
            delivered: 0,
            sampled: false,
        }
    }

    fn roll(&mut self, now: Instant) {
        if now >= self.started + UPDATE_INTERVAL {
            *self = SamplingWindow::new(now);
        }
    }

    /// Keeps what the window's budget allows: all of `events`, or evenly spaced ones.
    fn admit(&mut self, events: Vec<TailedEvent>) -> Vec<TailedEvent> {
        let room = MAX_EVENTS_PER_SECOND.saturating_sub(self.delivered);
        let kept = if events.len() <= room {
            events
        } else {
            self.sampled = true;
            let total = events.len();
            // Index i*total/room for i < room: spread over the whole burst, not its head.
            events
                .into_iter()
                .enumerate()
                .filter(|(i, _)| room > 0 && (i * room) / total != ((i + 1) * room) / total)
                .map(|(_, e)| e)
                .collect()
        };
        self.delivered += kept.len();
        kept
    }
}

struct Session {
    start: Option<StreamMessage>,
    subscription: TailSubscription,
    identifiers: HashMap<String, String>,
    deadline: Instant,
    /// The session limit as the timeout's message says it ("3 hours").
    limit_text: String,
    next_heartbeat: Instant,
    window: SamplingWindow,
    done: bool,
    _slot: SessionSlot,
}

fn describe_limit(limit: Duration) -> String {
    let secs = limit.as_secs();
    if secs >= 3600 && secs.is_multiple_of(3600) && limit.subsec_nanos() == 0 {
        format!("{} hours", secs / 3600)
    } else {
        format!("{:.1} seconds", limit.as_secs_f64())
    }
}

/// A burst is gathered into one update up to this many events (AWS's own update size).
const MAX_EVENTS_PER_UPDATE: usize = MAX_EVENTS_PER_SECOND;

impl Session {
    async fn next(&mut self) -> Option<StreamMessage> {
        if let Some(start) = self.start.take() {
            return Some(start);
        }
        if self.done {
            return None;
        }
        loop {
            let update = tokio::select! {
                _ = tokio::time::sleep_until(self.deadline) => {
                    self.done = true;
                    return Some(StreamMessage::Exception {
                        exception_type: "SessionTimeoutException",
                        message: format!(
                            "The Live Tail session has timed out after being open for {}.",
                            self.limit_text
                        ),
                    });
                }
                _ = tokio::time::sleep_until(self.next_heartbeat) => {
                    let now = Instant::now();
                    let sampled = self.window.sampled;
                    self.window.roll(now);
                    self.next_heartbeat = now + UPDATE_INTERVAL;
                    return Some(self.update(Vec::new(), sampled));
                }
                update = self.subscription.next() => update,
            };
            let mut events = Vec::new();
            let mut pending = Some(update);
            while let Some(update) = pending.take() {
                match update {
                    TailUpdate::Events(batch) => events.extend(batch),
                    TailUpdate::Lagged(_) => self.window.sampled = true,
                    TailUpdate::Closed => {
                        // The server is shutting down: say so rather than cut the stream.
                        self.done = true;
                        return Some(StreamMessage::Exception {
                            exception_type: "SessionStreamingException",
                            message: "The server is shutting down.".into(),
                        });
                    }
                }
                if events.len() < MAX_EVENTS_PER_UPDATE {
                    pending = self.subscription.try_next();
                }
            }
            let now = Instant::now();
            self.window.roll(now);
            let events = self.window.admit(events);
            if events.is_empty() {
                continue;
            }
            self.next_heartbeat = now + UPDATE_INTERVAL;
            let sampled = self.window.sampled;
            return Some(self.update(events, sampled));
        }
    }

    fn update(&self, events: Vec<TailedEvent>, sampled: bool) -> StreamMessage {
        let results: Vec<Value> = events
            .into_iter()
            .map(|e| {
                let identifier = self
                    .identifiers
                    .get(&e.log_group_name)
                    .cloned()
                    .unwrap_or(e.log_group_name);
                json!({
                    "logStreamName": e.log_stream_name,
                    "logGroupIdentifier": identifier,
                    "message": e.message,
                    "timestamp": e.timestamp,
                    "ingestionTime": e.ingestion_time,
                })
            })
            .collect();
        StreamMessage::Event {
            event_type: "sessionUpdate",
            payload: json!({
                "sessionMetadata": { "sampled": sampled },
                "sessionResults": results,
            }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn events(n: usize) -> Vec<TailedEvent> {
        (0..n)
            .map(|i| TailedEvent {
                log_group_name: "g".into(),
                log_stream_name: "s".into(),
                timestamp: i as i64,
                ingestion_time: 0,
                message: format!("m{i}"),
            })
            .collect()
    }

    #[test]
    fn a_window_admits_500_events_then_samples_evenly() {
        let mut window = SamplingWindow::new(Instant::now());
        assert_eq!(window.admit(events(300)).len(), 300);
        assert!(!window.sampled);
        // 200 left in the budget for a burst of 1000: every fifth event.
        let kept = window.admit(events(1000));
        assert_eq!(kept.len(), 200);
        assert!(window.sampled);
        let stamps: Vec<i64> = kept.iter().take(3).map(|e| e.timestamp).collect();
        assert_eq!(stamps, [4, 9, 14]);
        assert_eq!(kept.last().map(|e| e.timestamp), Some(999));
        assert!(window.admit(events(10)).is_empty());
        window.roll(window.started + UPDATE_INTERVAL);
        assert!(!window.sampled);
        assert_eq!(window.admit(events(10)).len(), 10);
    }

    #[test]
    fn the_timeout_message_names_the_limit() {
        assert_eq!(describe_limit(SESSION_LIMIT), "3 hours");
        assert_eq!(describe_limit(Duration::from_millis(2500)), "2.5 seconds");
    }

    #[test]
    fn the_quota_counts_open_sessions_per_account_and_region() {
        let sessions = Arc::new(Sessions::default());
        let slots: Vec<_> = (0..MAX_CONCURRENT_SESSIONS)
            .map(|_| sessions.acquire("1", "us-east-1").unwrap())
            .collect();
        assert!(matches!(
            sessions.acquire("1", "us-east-1"),
            Err(LogsError::LimitExceeded(_))
        ));
        assert!(sessions.acquire("1", "eu-west-1").is_ok());
        assert!(sessions.acquire("2", "us-east-1").is_ok());
        drop(slots);
        assert_eq!(sessions.open("1", "us-east-1"), 0);
        assert!(sessions.acquire("1", "us-east-1").is_ok());
    }

    #[test]
    fn arns_name_groups_of_the_callers_account_and_region() {
        let ctx = RequestContext::for_tests("123456789012", "us-east-1", 0);
        let arn = |account: &str, region: &str, name: &str| {
            format!("arn:aws:logs:{region}:{account}:log-group:{name}")
        };
        let own = arn(&ctx.account_id, &ctx.region, "/app/web");
        assert_eq!(group_name_of(&ctx, &own).unwrap(), "/app/web");
        assert_eq!(group_name_of(&ctx, "plain").unwrap(), "plain");
        assert!(matches!(
            group_name_of(&ctx, &format!("{own}:*")),
            Err(LogsError::InvalidParameter(_))
        ));
        assert!(matches!(
            group_name_of(&ctx, &arn("999999999999", &ctx.region, "x")),
            Err(LogsError::ResourceNotFound(_))
        ));
        assert!(matches!(
            group_name_of(&ctx, "arn:aws:s3:::bucket"),
            Err(LogsError::InvalidParameter(_))
        ));
    }
}

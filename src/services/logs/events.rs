//! PutLogEvents, GetLogEvents and FilterLogEvents.
//!
//! Events are ordered by (timestamp, batch, index in batch): the position that tokens carry.

use std::ops::ControlFlow;

use serde_json::Value;

use super::filter_pattern::FilterPattern;
use super::repo::{decode_events, LogsRepo, StoredEvent};
use super::types::*;
use super::{group_name, require_group, stream_not_found, LogsError, Result};
use crate::context::RequestContext;
use crate::services::cloudwatch::MetricPublisher;
use crate::services::input;

const MAX_BATCH_BYTES: usize = 1_048_576;
const EVENT_OVERHEAD_BYTES: usize = 26;
const MAX_EVENT_BYTES: usize = 1_048_576 - EVENT_OVERHEAD_BYTES;
const MAX_SPAN_MS: i64 = 24 * 3_600_000;
const MAX_FUTURE_MS: i64 = 2 * 3_600_000;
const MAX_PAST_MS: i64 = 14 * 24 * 3_600_000;
const DEFAULT_EVENTS_LIMIT: usize = 10_000;
/// Responses carry at most about 1 MB of events, as AWS's do.
const MAX_RESPONSE_BYTES: usize = 1_048_576;

type Position = (i64, i64, u32);
const START: Position = (i64::MIN, i64::MIN, 0);

fn invalid(message: impl Into<String>) -> LogsError {
    LogsError::InvalidParameter(message.into())
}

/// https://docs.aws.amazon.com/AmazonCloudWatchLogs/latest/APIReference/API_PutLogEvents.html
pub async fn put_log_events(
    repo: &LogsRepo,
    publisher: &MetricPublisher,
    live: &super::live::LiveTail,
    ctx: &RequestContext,
    doc: Value,
) -> Result<PutLogEventsOutput> {
    let request: PutLogEventsInput = input(doc)?;
    let events = request.log_events;
    let mut size = 0usize;
    for (i, e) in events.iter().enumerate() {
        if e.message.len() > MAX_EVENT_BYTES {
            return Err(invalid(format!(
                "Log event {i} is too large: {} bytes exceeds the limit of {MAX_EVENT_BYTES} bytes",
                e.message.len()
            )));
        }
        size += e.message.len() + EVENT_OVERHEAD_BYTES;
        if i > 0 && e.timestamp < events[i - 1].timestamp {
            return Err(invalid(
                "Log events in a single PutLogEvents request must be in chronological order.",
            ));
        }
    }
    if size > MAX_BATCH_BYTES {
        return Err(invalid(format!(
            "Upload too large: {size} bytes exceeds limit of {MAX_BATCH_BYTES}"
        )));
    }
    let (group, stream_id) = repo
        .find_for_ingest(
            &ctx.account_id,
            &ctx.region,
            &request.log_group_name,
            &request.log_stream_name,
        )
        .await?
        .ok_or_else(super::group_not_found)?;
    let stream_id = stream_id.ok_or_else(stream_not_found)?;

    // Too-new events are the tail, too-old and expired ones the head (the batch is sorted).
    let too_new_from = events
        .iter()
        .position(|e| e.timestamp > ctx.now_ms + MAX_FUTURE_MS);
    let too_old_until = events
        .iter()
        .rposition(|e| e.timestamp < ctx.now_ms - MAX_PAST_MS);
    let expired_until = group.retention_days.and_then(|days| {
        let horizon = ctx.now_ms - days * 86_400_000;
        events.iter().rposition(|e| e.timestamp < horizon)
    });
    let first_kept = too_old_until.max(expired_until).map_or(0, |i| i + 1);
    let end_kept = too_new_from.unwrap_or(events.len()).max(first_kept);
    let kept = events.get(first_kept..end_kept).unwrap_or_default();
    if let (Some(first), Some(last)) = (kept.first(), kept.last()) {
        if last.timestamp - first.timestamp > MAX_SPAN_MS {
            return Err(invalid("The batch of log events in a single PutLogEvents request cannot span more than 24 hours."));
        }
    }
    let rejected = RejectedLogEventsInfo {
        too_new_log_event_start_index: too_new_from.map(|i| i as i64),
        too_old_log_event_end_index: too_old_until.map(|i| i as i64),
        expired_log_event_end_index: expired_until.map(|i| i as i64),
    };
    if !kept.is_empty() {
        let accepted: Vec<(i64, String)> = events
            .into_iter()
            .skip(first_kept)
            .take(end_kept - first_kept)
            .map(|e| (e.timestamp, e.message))
            .collect();
        let has_filters = group.has_metric_filters;
        let embedded = accepted.iter().any(|(_, m)| m.contains("\"_aws\""));
        // Only events that may become metrics are kept past the write.
        let for_metrics = (has_filters || embedded).then(|| accepted.clone());
        let tailed = live.is_watched().then(|| accepted.clone());
        repo.append(group.group_id, stream_id, accepted, ctx.now_ms)
            .await?;
        if let Some(events) = tailed {
            live.publish(super::live::LiveBatch {
                account_id: ctx.account_id.clone(),
                region: ctx.region.clone(),
                group_name: request.log_group_name.clone(),
                stream_name: request.log_stream_name.clone(),
                ingestion_time_ms: ctx.now_ms,
                events,
            });
        }
        if let Some(events) = for_metrics {
            super::metric_filters::publish_from_events(
                repo,
                publisher,
                ctx,
                group.group_id,
                has_filters,
                &events,
            )
            .await?;
        }
    }
    Ok(PutLogEventsOutput {
        // Sequence tokens are ignored by AWS now but still returned; any opaque value works.
        next_sequence_token: format!("{:056}", ctx.now_ms),
        rejected_log_events_info: (rejected != RejectedLogEventsInfo::default())
            .then_some(rejected),
    })
}

/// Which events a read wants.
struct Scan<'a> {
    group_id: i64,
    stream_ids: Option<&'a [i64]>,
    start_ms: i64,
    end_ms: i64,
    /// Only events after this position (a page token).
    after: Option<Position>,
    /// Stop once this many events are certain to be the first ones.
    enough: Option<usize>,
}

/// Loads the events a scan wants for which `keep(message)` holds, in position order.
async fn load_events(
    repo: &LogsRepo,
    scan: Scan<'_>,
    mut keep: impl FnMut(&str) -> bool,
) -> Result<Vec<StoredEvent>> {
    let Scan {
        group_id,
        stream_ids,
        start_ms,
        end_ms,
        after,
        enough,
    } = scan;
    let mut out: Vec<StoredEvent> = Vec::new();
    // Once `enough` events are held, the position of the last of the first `enough`: later
    // batches (they come by first timestamp) starting after it cannot change the page.
    let mut cutoff: Option<Position> = None;
    let mut corrupt = None;
    repo.visit_batches(group_id, stream_ids, start_ms, end_ms, |batch| {
        if cutoff.is_some_and(|c| batch.min_ms > c.0) {
            return ControlFlow::Break(());
        }
        let decoded = decode_events(&batch.data, |index, ts, message| {
            let position = (ts, batch.id, index);
            if ts < start_ms
                || ts >= end_ms
                || after.is_some_and(|a| position <= a)
                || cutoff.is_some_and(|c| position > c)
                || !keep(message)
            {
                return;
            }
            out.push(StoredEvent {
                timestamp_ms: ts,
                ingestion_ms: batch.ingestion_ms,
                batch_id: batch.id,
                index,
                stream_id: batch.stream_id,
                message: message.to_string(),
            });
        });
        if decoded.is_none() {
            corrupt = Some(batch.id);
            return ControlFlow::Break(());
        }
        if let Some(n) = enough.filter(|n| *n > 0) {
            // Trim to the first `n` only when twice that is held, so trimming stays linear.
            if out.len() >= 2 * n || (cutoff.is_none() && out.len() >= n) {
                out.select_nth_unstable_by_key(n - 1, StoredEvent::position);
                out.truncate(n);
                cutoff = out.iter().map(StoredEvent::position).max();
            }
        }
        ControlFlow::Continue(())
    })
    .await?;
    if let Some(id) = corrupt {
        return Err(LogsError::Store(crate::store::StoreError::Corrupt(
            format!("log batch {id}"),
        )));
    }
    out.sort_by_key(StoredEvent::position);
    if let Some(n) = enough {
        out.truncate(n);
    }
    Ok(out)
}

fn format_position(direction: char, p: Position) -> String {
    format!("{direction}/{}/{}/{}", p.0, p.1, p.2)
}

fn parse_position(token: &str) -> Option<(char, Position)> {
    let mut parts = token.split('/');
    let direction = parts.next()?.chars().next()?;
    let ts = parts.next()?.parse().ok()?;
    let batch = parts.next()?.parse().ok()?;
    let index = parts.next()?.parse().ok()?;
    (parts.next().is_none() && matches!(direction, 'f' | 'b'))
        .then_some((direction, (ts, batch, index)))
}

/// Takes events from `events` while they fit the count and byte limits.
fn fit(events: impl Iterator<Item = StoredEvent>, limit: usize) -> Vec<StoredEvent> {
    let mut bytes = 0;
    let mut out = Vec::new();
    for e in events {
        bytes += e.message.len() + EVENT_OVERHEAD_BYTES;
        if out.len() == limit || (bytes > MAX_RESPONSE_BYTES && !out.is_empty()) {
            break;
        }
        out.push(e);
    }
    out
}

fn events_limit(limit: Option<i64>) -> usize {
    limit
        .and_then(|l| usize::try_from(l).ok())
        .unwrap_or(DEFAULT_EVENTS_LIMIT)
}

/// https://docs.aws.amazon.com/AmazonCloudWatchLogs/latest/APIReference/API_GetLogEvents.html
pub async fn get_log_events(
    repo: &LogsRepo,
    ctx: &RequestContext,
    doc: Value,
) -> Result<GetLogEventsOutput> {
    let request: GetLogEventsInput = input(doc)?;
    let name = group_name(request.log_group_name, request.log_group_identifier)?;
    let token = match &request.next_token {
        Some(t) => Some(
            parse_position(t)
                .ok_or_else(|| invalid(format!("The specified nextToken is invalid: {t}")))?,
        ),
        None => None,
    };
    let group = require_group(repo, ctx, &name).await?;
    let stream = repo
        .find_stream(group.id, &request.log_stream_name)
        .await?
        .ok_or_else(stream_not_found)?;
    let limit = events_limit(request.limit);
    let start = request.start_time.unwrap_or(i64::MIN);
    let end = request.end_time.unwrap_or(i64::MAX);
    let scan = Scan {
        group_id: group.id,
        stream_ids: Some(&[stream.id]),
        start_ms: start,
        end_ms: end,
        after: None,
        enough: None,
    };
    let all = load_events(repo, scan, |_| true).await?;
    let page: Vec<StoredEvent> = match token {
        Some(('f', after)) => fit(all.into_iter().filter(|e| e.position() > after), limit),
        Some((_, before)) => {
            let mut back = fit(
                all.into_iter().rev().filter(|e| e.position() < before),
                limit,
            );
            back.reverse();
            back
        }
        None if request.start_from_head.unwrap_or(false) => fit(all.into_iter(), limit),
        None => {
            let mut back = fit(all.into_iter().rev(), limit);
            back.reverse();
            back
        }
    };
    // With nothing new, the same token comes back, so a poller can keep calling with it.
    let (next_forward_token, next_backward_token) = match (page.first(), page.last()) {
        (Some(first), Some(last)) => (
            format_position('f', last.position()),
            format_position('b', first.position()),
        ),
        _ => match (&request.next_token, token) {
            (Some(t), Some(('f', p))) => (t.clone(), format_position('b', p)),
            (Some(t), Some((_, p))) => (format_position('f', p), t.clone()),
            _ => (format_position('f', START), format_position('b', START)),
        },
    };
    Ok(GetLogEventsOutput {
        events: page
            .into_iter()
            .map(|e| OutputLogEvent {
                timestamp: e.timestamp_ms,
                message: e.message,
                ingestion_time: e.ingestion_ms,
            })
            .collect(),
        next_forward_token,
        next_backward_token,
    })
}

/// https://docs.aws.amazon.com/AmazonCloudWatchLogs/latest/APIReference/API_FilterLogEvents.html
pub async fn filter_log_events(
    repo: &LogsRepo,
    ctx: &RequestContext,
    doc: Value,
) -> Result<FilterLogEventsOutput> {
    let request: FilterLogEventsInput = input(doc)?;
    let name = group_name(request.log_group_name, request.log_group_identifier)?;
    if let (Some(start), Some(end)) = (request.start_time, request.end_time) {
        // An empty range is the caller's mistake, which AWS reports rather than answering an
        // empty page.
        if start > end {
            return Err(invalid(format!(
                "startTime ({start}) must be less than or equal to endTime ({end})."
            )));
        }
    }
    if request.log_stream_names.is_some() && request.log_stream_name_prefix.is_some() {
        return Err(invalid(
            "logStreamNames and logStreamNamePrefix are mutually exclusive parameters.",
        ));
    }
    let pattern = FilterPattern::parse(request.filter_pattern.as_deref().unwrap_or(""))
        .map_err(|e| invalid(e.to_string()))?;
    let after = match &request.next_token {
        Some(t) => Some(
            parse_position(t)
                .filter(|(d, _)| *d == 'f')
                .map(|(_, p)| p)
                .ok_or_else(|| invalid(format!("The specified nextToken is invalid: {t}")))?,
        ),
        None => None,
    };
    let group = require_group(repo, ctx, &name).await?;
    let streams = repo.streams_by_id(group.id).await?;
    let stream_ids: Option<Vec<i64>> =
        match (&request.log_stream_names, &request.log_stream_name_prefix) {
            (Some(names), _) => {
                let ids: Vec<i64> = streams
                    .iter()
                    .filter(|(_, n)| names.contains(n))
                    .map(|(id, _)| *id)
                    .collect();
                if ids.len() < names.len() {
                    return Err(stream_not_found());
                }
                Some(ids)
            }
            (None, Some(prefix)) => Some(
                streams
                    .iter()
                    .filter(|(_, n)| n.starts_with(prefix.as_str()))
                    .map(|(id, _)| *id)
                    .collect(),
            ),
            (None, None) => None,
        };
    if stream_ids.as_ref().is_some_and(Vec::is_empty) {
        return Ok(FilterLogEventsOutput {
            events: Vec::new(),
            searched_log_streams: Vec::new(),
            next_token: None,
        });
    }
    let limit = events_limit(request.limit);
    let start = request.start_time.unwrap_or(i64::MIN);
    let end = request.end_time.unwrap_or(i64::MAX);
    let scan = Scan {
        group_id: group.id,
        stream_ids: stream_ids.as_deref(),
        start_ms: start,
        end_ms: end,
        after,
        enough: Some(limit + 1),
    };
    let matched = load_events(repo, scan, |m| pattern.matches(m)).await?;
    let total = matched.len();
    let page = fit(matched.into_iter(), limit);
    let next_token = (page.len() < total)
        .then(|| page.last().map(|e| format_position('f', e.position())))
        .flatten();
    // Streams were read before the events: a stream created (with its first events) in between
    // is missing from that list, so it is read again rather than answering an empty name.
    let streams = if page.iter().any(|e| !streams.contains_key(&e.stream_id)) {
        repo.streams_by_id(group.id).await?
    } else {
        streams
    };
    let events = page
        .into_iter()
        .map(|e| FilteredLogEvent {
            log_stream_name: streams.get(&e.stream_id).cloned().unwrap_or_default(),
            event_id: format!(
                "{:020}{:010}{:010}",
                e.timestamp_ms.max(0),
                e.batch_id,
                e.index
            ),
            timestamp: e.timestamp_ms,
            message: e.message,
            ingestion_time: e.ingestion_ms,
        })
        .collect();
    Ok(FilterLogEventsOutput {
        events,
        searched_log_streams: Vec::new(),
        next_token,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_round_trip() {
        let p = (1_700_000_000_000, 42, 7);
        assert_eq!(parse_position(&format_position('f', p)), Some(('f', p)));
        assert_eq!(
            parse_position(&format_position('b', START)),
            Some(('b', START))
        );
        assert_eq!(parse_position("x/1/2/3"), None);
        assert_eq!(parse_position("f/1/2"), None);
        assert_eq!(parse_position("f/1/2/3/4"), None);
    }
}

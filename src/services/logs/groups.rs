//! Log groups, log streams, retention and tags.

use std::collections::BTreeMap;

use base64::Engine;
use serde_json::Value;

use super::repo::{LogsRepo, NewGroup, StreamOrder};
use super::types::*;
use super::{group_arn, group_name, require_group, stream_not_found, Empty, LogsError, Result};
use crate::context::RequestContext;
use crate::services::input;

const DEFAULT_DESCRIBE_LIMIT: i64 = 50;
const MAX_TAGS: usize = 50;

/// The values PutRetentionPolicy accepts (API reference).
pub const RETENTION_DAYS: [i64; 22] = [
    1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922,
    3288, 3653,
];

fn invalid(message: impl Into<String>) -> LogsError {
    LogsError::InvalidParameter(message.into())
}

fn encode_token(text: &str) -> String {
    base64::engine::general_purpose::STANDARD.encode(text)
}

fn decode_token(token: &str) -> Result<String> {
    base64::engine::general_purpose::STANDARD
        .decode(token)
        .ok()
        .and_then(|b| String::from_utf8(b).ok())
        .ok_or_else(|| invalid(format!("The specified nextToken is invalid: {token}")))
}

fn check_tags(tags: &BTreeMap<String, String>) -> Result<()> {
    if tags.len() > MAX_TAGS {
        return Err(invalid(format!(
            "A log group can have at most {MAX_TAGS} tags."
        )));
    }
    if let Some(k) = tags.keys().find(|k| k.starts_with("aws:")) {
        return Err(invalid(format!(
            "Tag keys beginning with aws: are reserved: {k}"
        )));
    }
    Ok(())
}

/// https://docs.aws.amazon.com/AmazonCloudWatchLogs/latest/APIReference/API_CreateLogGroup.html
pub async fn create_log_group(repo: &LogsRepo, ctx: &RequestContext, doc: Value) -> Result<Empty> {
    let request: CreateLogGroupInput = input(doc)?;
    check_tags(&request.tags)?;
    let created = repo
        .create_group(NewGroup {
            account_id: ctx.account_id.clone(),
            region: ctx.region.clone(),
            name: request.log_group_name,
            now_ms: ctx.now_ms,
            kms_key_id: request.kms_key_id,
            log_group_class: request.log_group_class.unwrap_or_else(|| "STANDARD".into()),
            deletion_protection: request.deletion_protection_enabled.unwrap_or(false),
            tags: request.tags,
        })
        .await?;
    if !created {
        return Err(LogsError::ResourceAlreadyExists(
            "The specified log group already exists".into(),
        ));
    }
    Ok(Empty {})
}

/// https://docs.aws.amazon.com/AmazonCloudWatchLogs/latest/APIReference/API_DeleteLogGroup.html
pub async fn delete_log_group(repo: &LogsRepo, ctx: &RequestContext, doc: Value) -> Result<Empty> {
    let request: LogGroupNameInput = input(doc)?;
    let name = group_name(request.log_group_name, request.log_group_identifier)?;
    let group = require_group(repo, ctx, &name).await?;
    if group.deletion_protection {
        return Err(LogsError::InvalidParameter(
            "The log group has deletion protection enabled; disable it before deleting the log group.".into(),
        ));
    }
    repo.delete_group(group.id).await?;
    super::resources::delete_group_subscriptions(repo, ctx, &group.name).await?;
    Ok(Empty {})
}

fn to_log_group(ctx: &RequestContext, g: super::repo::GroupRow) -> LogGroup {
    let arn = group_arn(ctx, &g.name);
    LogGroup {
        arn: format!("{arn}:*"),
        log_group_arn: arn,
        log_group_name: g.name,
        creation_time: g.creation_time_ms,
        retention_in_days: g.retention_days,
        metric_filter_count: g.metric_filter_count,
        stored_bytes: g.stored_bytes,
        kms_key_id: g.kms_key_id,
        log_group_class: g.log_group_class,
        deletion_protection_enabled: g.deletion_protection,
    }
}

/// https://docs.aws.amazon.com/AmazonCloudWatchLogs/latest/APIReference/API_DescribeLogGroups.html
pub async fn describe_log_groups(
    repo: &LogsRepo,
    ctx: &RequestContext,
    doc: Value,
) -> Result<DescribeLogGroupsOutput> {
    let request: DescribeLogGroupsInput = input(doc)?;
    if request.log_group_name_prefix.is_some() && request.log_group_name_pattern.is_some() {
        return Err(invalid(
            "LogGroup name prefix and LogGroup name pattern are mutually exclusive parameters.",
        ));
    }
    let limit = request.limit.unwrap_or(DEFAULT_DESCRIBE_LIMIT);
    let mut after = match &request.next_token {
        Some(t) => decode_token(t)?,
        None => String::new(),
    };
    let prefix = request.log_group_name_prefix.clone().unwrap_or_default();
    let pattern = request
        .log_group_name_pattern
        .as_ref()
        .map(|p| p.to_lowercase());
    let identifiers: Vec<String> = request
        .log_group_identifiers
        .iter()
        .map(|i| super::name_from_identifier(i))
        .collect();
    let mut groups = Vec::new();
    let mut next_token = None;
    'scan: loop {
        let rows = repo
            .list_groups(&ctx.account_id, &ctx.region, &prefix, &after, 500)
            .await?;
        let exhausted = rows.len() < 500;
        for g in rows {
            after = g.name.clone();
            let wanted = pattern
                .as_ref()
                .is_none_or(|p| g.name.to_lowercase().contains(p.as_str()))
                && request
                    .log_group_class
                    .as_ref()
                    .is_none_or(|c| *c == g.log_group_class)
                && (identifiers.is_empty() || identifiers.contains(&g.name));
            if !wanted {
                continue;
            }
            if groups.len() as i64 == limit {
                next_token = groups
                    .last()
                    .map(|l: &LogGroup| encode_token(&l.log_group_name));
                break 'scan;
            }
            groups.push(to_log_group(ctx, g));
        }
        if exhausted {
            break;
        }
    }
    Ok(DescribeLogGroupsOutput {
        log_groups: groups,
        next_token,
    })
}

/// https://docs.aws.amazon.com/AmazonCloudWatchLogs/latest/APIReference/API_CreateLogStream.html
pub async fn create_log_stream(repo: &LogsRepo, ctx: &RequestContext, doc: Value) -> Result<Empty> {
    let request: StreamInput = input(doc)?;
    let group = require_group(repo, ctx, &request.log_group_name).await?;
    if !repo
        .create_stream(group.id, request.log_stream_name, ctx.now_ms)
        .await?
    {
        return Err(LogsError::ResourceAlreadyExists(
            "The specified log stream already exists".into(),
        ));
    }
    Ok(Empty {})
}

/// https://docs.aws.amazon.com/AmazonCloudWatchLogs/latest/APIReference/API_DeleteLogStream.html
pub async fn delete_log_stream(repo: &LogsRepo, ctx: &RequestContext, doc: Value) -> Result<Empty> {
    let request: StreamInput = input(doc)?;
    let group = require_group(repo, ctx, &request.log_group_name).await?;
    let stream = repo
        .find_stream(group.id, &request.log_stream_name)
        .await?
        .ok_or_else(stream_not_found)?;
    repo.delete_stream(stream.id).await?;
    Ok(Empty {})
}

/// https://docs.aws.amazon.com/AmazonCloudWatchLogs/latest/APIReference/API_DescribeLogStreams.html
pub async fn describe_log_streams(
    repo: &LogsRepo,
    ctx: &RequestContext,
    doc: Value,
) -> Result<DescribeLogStreamsOutput> {
    let request: DescribeLogStreamsInput = input(doc)?;
    let name = group_name(request.log_group_name, request.log_group_identifier)?;
    let order = match request.order_by.as_deref() {
        None | Some("LogStreamName") => StreamOrder::Name,
        Some("LastEventTime") => StreamOrder::LastEventTime,
        Some(other) => return Err(invalid(format!("Invalid orderBy value: {other}"))),
    };
    if order == StreamOrder::LastEventTime && request.log_stream_name_prefix.is_some() {
        return Err(invalid(
            "Cannot order by LastEventTime with a logStreamNamePrefix.",
        ));
    }
    let group = require_group(repo, ctx, &name).await?;
    let limit = usize::try_from(request.limit.unwrap_or(DEFAULT_DESCRIBE_LIMIT)).unwrap_or(50);
    let offset: usize = match &request.next_token {
        Some(t) => decode_token(t)?
            .strip_prefix("streams:")
            .and_then(|n| n.parse().ok())
            .ok_or_else(|| invalid(format!("The specified nextToken is invalid: {t}")))?,
        None => 0,
    };
    let rows = repo
        .list_streams(
            group.id,
            request.log_stream_name_prefix.as_deref().unwrap_or(""),
            order,
            request.descending.unwrap_or(false),
        )
        .await?;
    let total = rows.len();
    let arn = group_arn(ctx, &group.name);
    let log_streams: Vec<LogStream> = rows
        .into_iter()
        .skip(offset)
        .take(limit)
        .map(|s| LogStream {
            arn: format!("{arn}:log-stream:{}", s.name),
            log_stream_name: s.name,
            creation_time: s.creation_time_ms,
            first_event_timestamp: s.first_event_ms,
            last_event_timestamp: s.last_event_ms,
            last_ingestion_time: s.last_ingestion_ms,
            stored_bytes: s.stored_bytes,
        })
        .collect();
    let next = offset + log_streams.len();
    let next_token = (next < total).then(|| encode_token(&format!("streams:{next}")));
    Ok(DescribeLogStreamsOutput {
        log_streams,
        next_token,
    })
}

/// https://docs.aws.amazon.com/AmazonCloudWatchLogs/latest/APIReference/API_PutRetentionPolicy.html
pub async fn put_retention_policy(
    repo: &LogsRepo,
    ctx: &RequestContext,
    doc: Value,
) -> Result<Empty> {
    let request: PutRetentionPolicyInput = input(doc)?;
    if !RETENTION_DAYS.contains(&request.retention_in_days) {
        let values: Vec<String> = RETENTION_DAYS.iter().map(i64::to_string).collect();
        return Err(invalid(format!(
            "1 validation error detected: Value '{}' at 'retentionInDays' failed to satisfy constraint: Member must satisfy enum value set: [{}]",
            request.retention_in_days,
            values.join(", ")
        )));
    }
    let group = require_group(repo, ctx, &request.log_group_name).await?;
    repo.set_retention(group.id, Some(request.retention_in_days))
        .await?;
    Ok(Empty {})
}

/// https://docs.aws.amazon.com/AmazonCloudWatchLogs/latest/APIReference/API_DeleteRetentionPolicy.html
pub async fn delete_retention_policy(
    repo: &LogsRepo,
    ctx: &RequestContext,
    doc: Value,
) -> Result<Empty> {
    let request: LogGroupNameInput = input(doc)?;
    let name = group_name(request.log_group_name, None)?;
    let group = require_group(repo, ctx, &name).await?;
    repo.set_retention(group.id, None).await?;
    Ok(Empty {})
}

/// The group a resource ARN names; tags are supported on log groups.
async fn group_for_arn(
    repo: &LogsRepo,
    ctx: &RequestContext,
    arn: &str,
) -> Result<super::repo::GroupRow> {
    let Some(name) = arn
        .split_once(":log-group:")
        .map(|(_, rest)| rest.trim_end_matches(":*"))
    else {
        return Err(invalid(format!("Invalid resource ARN: {arn}")));
    };
    if name.contains(":log-stream:") {
        return Err(invalid(format!(
            "Tagging is not supported for log streams: {arn}"
        )));
    }
    require_group(repo, ctx, name).await
}

/// https://docs.aws.amazon.com/AmazonCloudWatchLogs/latest/APIReference/API_TagResource.html
pub async fn tag_resource(repo: &LogsRepo, ctx: &RequestContext, doc: Value) -> Result<Empty> {
    let request: TagResourceInput = input(doc)?;
    check_tags(&request.tags)?;
    let group = group_for_arn(repo, ctx, &request.resource_arn).await?;
    let mut merged = repo.tags(group.id).await?;
    merged.extend(request.tags.clone());
    check_tags(&merged)?;
    repo.set_tags(group.id, request.tags, Vec::new()).await?;
    Ok(Empty {})
}

pub async fn untag_resource(repo: &LogsRepo, ctx: &RequestContext, doc: Value) -> Result<Empty> {
    let request: UntagResourceInput = input(doc)?;
    let group = group_for_arn(repo, ctx, &request.resource_arn).await?;
    repo.set_tags(group.id, BTreeMap::new(), request.tag_keys)
        .await?;
    Ok(Empty {})
}

pub async fn list_tags_for_resource(
    repo: &LogsRepo,
    ctx: &RequestContext,
    doc: Value,
) -> Result<TagsOutput> {
    let request: ResourceArnInput = input(doc)?;
    let group = group_for_arn(repo, ctx, &request.resource_arn).await?;
    Ok(TagsOutput {
        tags: repo.tags(group.id).await?,
    })
}

/// The legacy per-group variants of the tagging operations.
pub async fn tag_log_group(repo: &LogsRepo, ctx: &RequestContext, doc: Value) -> Result<Empty> {
    let request: TagLogGroupInput = input(doc)?;
    check_tags(&request.tags)?;
    let group = require_group(repo, ctx, &request.log_group_name).await?;
    repo.set_tags(group.id, request.tags, Vec::new()).await?;
    Ok(Empty {})
}

pub async fn untag_log_group(repo: &LogsRepo, ctx: &RequestContext, doc: Value) -> Result<Empty> {
    let request: UntagLogGroupInput = input(doc)?;
    let group = require_group(repo, ctx, &request.log_group_name).await?;
    repo.set_tags(group.id, BTreeMap::new(), request.tags)
        .await?;
    Ok(Empty {})
}

pub async fn list_tags_log_group(
    repo: &LogsRepo,
    ctx: &RequestContext,
    doc: Value,
) -> Result<TagsOutput> {
    let request: LogGroupNameInput = input(doc)?;
    let name = group_name(request.log_group_name, None)?;
    let group = require_group(repo, ctx, &name).await?;
    Ok(TagsOutput {
        tags: repo.tags(group.id).await?,
    })
}

//! Trails: configuration (CreateTrail … ListTags), selectors, and delivery of journal records
//! while a trail is logging — to a CloudWatch Logs group, and to a local directory standing in
//! for the S3 bucket, with the key layout and gzip'd JSON files AWS writes.

use std::io::Write;
use std::time::Duration;

use serde_json::{json, Map, Value};

use super::repo::{TrailRepo, TrailRow};
use super::CloudTrailError;
use crate::context::RequestContext;
use crate::services::logs::LogDeliverer;
use crate::store::StoreError;

type Result<T, E = CloudTrailError> = std::result::Result<T, E>;

fn not_found(name: &str) -> CloudTrailError {
    CloudTrailError::TrailNotFound(format!("Unknown trail: {name} for the user."))
}

/// AWS's trail name rules (CreateTrail reference).
pub fn check_trail_name(name: &str) -> Result<()> {
    let bytes = name.as_bytes();
    let allowed = |b: &u8| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-');
    let ends_ok = bytes.first().is_some_and(u8::is_ascii_alphanumeric)
        && bytes.last().is_some_and(u8::is_ascii_alphanumeric);
    let adjacent = bytes
        .windows(2)
        .any(|w| matches!(w, [a, b] if !a.is_ascii_alphanumeric() && !b.is_ascii_alphanumeric()));
    let ip_like = name.split('.').count() == 4 && name.split('.').all(|p| p.parse::<u8>().is_ok());
    if !(3..=128).contains(&name.len())
        || !bytes.iter().all(allowed)
        || !ends_ok
        || adjacent
        || ip_like
    {
        return Err(CloudTrailError::InvalidTrailName(format!(
            "Trail name {name} is invalid: it must have 3-128 characters, contain only letters, numbers, periods, underscores and dashes, start and end with a letter or number, not have adjacent periods, underscores or dashes, and not look like an IP address."
        )));
    }
    Ok(())
}

fn trail_arn(ctx: &RequestContext, region: &str, name: &str) -> String {
    format!(
        "arn:aws:cloudtrail:{region}:{}:trail/{name}",
        ctx.account_id
    )
}

/// A trail named by name or ARN, in this account.
fn name_of(identifier: &str) -> &str {
    identifier
        .rsplit_once(":trail/")
        .map_or(identifier, |(_, n)| n)
}

fn str_field<'a>(v: &'a Value, name: &str) -> Option<&'a str> {
    v.get(name).and_then(Value::as_str)
}

/// Checks the CloudWatch Logs settings of a Create/UpdateTrail request.
fn check_cloudwatch_logs(input: &Value) -> Result<()> {
    let group = str_field(input, "CloudWatchLogsLogGroupArn");
    let role = str_field(input, "CloudWatchLogsRoleArn");
    match (group, role) {
        (Some(g), _) if !g.starts_with("arn:") || !g.contains(":log-group:") => {
            Err(CloudTrailError::InvalidCloudWatchLogsLogGroupArn(format!(
                "Invalid CloudWatchLogsLogGroupArn: {g}"
            )))
        }
        (Some(_), None) => Err(CloudTrailError::InvalidCloudWatchLogsRoleArn(
            "You must specify a role ARN when you specify a log group ARN.".into(),
        )),
        (None, Some(_)) => Err(CloudTrailError::InvalidCloudWatchLogsLogGroupArn(
            "You must specify a log group ARN when you specify a role ARN.".into(),
        )),
        (_, Some(r)) if !r.starts_with("arn:") => {
            Err(CloudTrailError::InvalidCloudWatchLogsRoleArn(format!(
                "Invalid CloudWatchLogsRoleArn: {r}"
            )))
        }
        _ => Ok(()),
    }
}

/// S3's bucket naming rules (the ones a name can break on its own) and CloudTrail's 200-character
/// key prefix limit.
fn check_s3(input: &Value) -> Result<()> {
    if let Some(bucket) = str_field(input, "S3BucketName") {
        let bytes = bucket.as_bytes();
        let allowed =
            |b: &u8| b.is_ascii_lowercase() || b.is_ascii_digit() || matches!(b, b'.' | b'-');
        let edge = |b: Option<&u8>| b.is_some_and(|b| b.is_ascii_lowercase() || b.is_ascii_digit());
        let ip_like =
            bucket.split('.').count() == 4 && bucket.split('.').all(|p| p.parse::<u8>().is_ok());
        if !(3..=63).contains(&bytes.len())
            || !bytes.iter().all(allowed)
            || !edge(bytes.first())
            || !edge(bytes.last())
            || bucket.contains("..")
            || ip_like
        {
            return Err(CloudTrailError::InvalidS3BucketName(format!(
                "Bucket name {bucket} is not valid."
            )));
        }
    }
    if let Some(prefix) = str_field(input, "S3KeyPrefix") {
        if prefix.chars().count() > 200 {
            return Err(CloudTrailError::InvalidS3Prefix(
                "S3 key prefix must be at most 200 characters.".into(),
            ));
        }
    }
    Ok(())
}

/// One path component of the local stand-in for a bucket. Keys may hold `..` or separators
/// that S3 treats as plain characters; on disk they must never leave the bucket directory.
fn path_segment(s: &str) -> String {
    match s {
        "" => "%00".to_string(),
        "." => "%2E".to_string(),
        ".." => "%2E%2E".to_string(),
        _ => s
            .replace('%', "%25")
            .replace('\\', "%5C")
            .replace('/', "%2F"),
    }
}

/// The Trail shape of a stored trail.
fn trail_view(ctx: &RequestContext, row: &TrailRow) -> Value {
    let d = &row.document;
    let mut t = Map::new();
    t.insert("Name".into(), json!(row.name));
    for key in [
        "S3BucketName",
        "S3KeyPrefix",
        "SnsTopicName",
        "CloudWatchLogsLogGroupArn",
        "CloudWatchLogsRoleArn",
        "KmsKeyId",
    ] {
        if let Some(v) = d.get(key).filter(|v| !v.is_null()) {
            t.insert(key.into(), v.clone());
        }
    }
    if let Some(topic) = str_field(d, "SnsTopicName") {
        t.insert(
            "SnsTopicARN".into(),
            json!(format!(
                "arn:aws:sns:{}:{}:{topic}",
                row.region, ctx.account_id
            )),
        );
    }
    t.insert(
        "IncludeGlobalServiceEvents".into(),
        json!(d
            .get("IncludeGlobalServiceEvents")
            .and_then(Value::as_bool)
            .unwrap_or(true)),
    );
    t.insert(
        "IsMultiRegionTrail".into(),
        json!(d
            .get("IsMultiRegionTrail")
            .and_then(Value::as_bool)
            .unwrap_or(false)),
    );
    t.insert("HomeRegion".into(), json!(row.region));
    t.insert(
        "TrailARN".into(),
        json!(trail_arn(ctx, &row.region, &row.name)),
    );
    t.insert(
        "LogFileValidationEnabled".into(),
        json!(d
            .get("EnableLogFileValidation")
            .and_then(Value::as_bool)
            .unwrap_or(false)),
    );
    t.insert(
        "HasCustomEventSelectors".into(),
        json!(d.get("EventSelectors").is_some() || d.get("AdvancedEventSelectors").is_some()),
    );
    t.insert(
        "HasInsightSelectors".into(),
        json!(d
            .get("InsightSelectors")
            .and_then(Value::as_array)
            .is_some_and(|a| !a.is_empty())),
    );
    t.insert(
        "IsOrganizationTrail".into(),
        json!(d
            .get("IsOrganizationTrail")
            .and_then(Value::as_bool)
            .unwrap_or(false)),
    );
    Value::Object(t)
}

/// The Create/UpdateTrail response: the trail without the describe-only members.
fn trail_response(ctx: &RequestContext, row: &TrailRow) -> Value {
    let mut v = trail_view(ctx, row);
    if let Some(m) = v.as_object_mut() {
        for k in [
            "HomeRegion",
            "HasCustomEventSelectors",
            "HasInsightSelectors",
        ] {
            m.remove(k);
        }
    }
    v
}

const CONFIG_KEYS: [&str; 10] = [
    "S3BucketName",
    "S3KeyPrefix",
    "SnsTopicName",
    "IncludeGlobalServiceEvents",
    "IsMultiRegionTrail",
    "EnableLogFileValidation",
    "CloudWatchLogsLogGroupArn",
    "CloudWatchLogsRoleArn",
    "KmsKeyId",
    "IsOrganizationTrail",
];

async fn require(repo: &TrailRepo, ctx: &RequestContext, identifier: &str) -> Result<TrailRow> {
    let name = name_of(identifier);
    repo.find(&ctx.account_id, &ctx.region, name)
        .await?
        .ok_or_else(|| not_found(name))
}

pub async fn create_trail(repo: &TrailRepo, ctx: &RequestContext, input: Value) -> Result<Value> {
    let name = str_field(&input, "Name").unwrap_or_default().to_string();
    check_trail_name(&name)?;
    check_s3(&input)?;
    check_cloudwatch_logs(&input)?;
    let mut doc = Map::new();
    for key in CONFIG_KEYS {
        if let Some(v) = input.get(key) {
            doc.insert(key.into(), v.clone());
        }
    }
    if let Some(tags) = input.get("TagsList") {
        doc.insert("TagsList".into(), tags.clone());
    }
    let document = Value::Object(doc);
    if !repo
        .create(
            ctx.account_id.clone(),
            ctx.region.clone(),
            name.clone(),
            document,
        )
        .await?
    {
        return Err(CloudTrailError::TrailAlreadyExists(format!(
            "Trail {name} already exists for customer: {}",
            ctx.account_id
        )));
    }
    let row = require(repo, ctx, &name).await?;
    Ok(trail_response(ctx, &row))
}

pub async fn update_trail(repo: &TrailRepo, ctx: &RequestContext, input: Value) -> Result<Value> {
    let row = require(repo, ctx, str_field(&input, "Name").unwrap_or_default()).await?;
    let mut doc = row.document.as_object().cloned().unwrap_or_default();
    for key in CONFIG_KEYS {
        if let Some(v) = input.get(key) {
            doc.insert(key.into(), v.clone());
        }
    }
    let merged = Value::Object(doc);
    check_s3(&merged)?;
    check_cloudwatch_logs(&merged)?;
    repo.set_document(
        ctx.account_id.clone(),
        ctx.region.clone(),
        row.name.clone(),
        merged,
    )
    .await?;
    let row = require(repo, ctx, &row.name).await?;
    Ok(trail_response(ctx, &row))
}

pub async fn get_trail(repo: &TrailRepo, ctx: &RequestContext, input: Value) -> Result<Value> {
    let row = require(repo, ctx, str_field(&input, "Name").unwrap_or_default()).await?;
    Ok(json!({ "Trail": trail_view(ctx, &row) }))
}

pub async fn describe_trails(
    repo: &TrailRepo,
    ctx: &RequestContext,
    input: Value,
) -> Result<Value> {
    let wanted: Vec<String> = input
        .get("trailNameList")
        .and_then(Value::as_array)
        .map(|l| {
            l.iter()
                .filter_map(Value::as_str)
                .map(|s| name_of(s).to_string())
                .collect()
        })
        .unwrap_or_default();
    let shadows = input
        .get("includeShadowTrails")
        .and_then(Value::as_bool)
        .unwrap_or(true);
    let trails: Vec<Value> = repo
        .visible(&ctx.account_id)
        .await?
        .iter()
        .filter(|r| {
            r.region == ctx.region
                || (shadows
                    && r.document
                        .get("IsMultiRegionTrail")
                        .and_then(Value::as_bool)
                        == Some(true))
        })
        .filter(|r| wanted.is_empty() || wanted.contains(&r.name))
        .map(|r| trail_view(ctx, r))
        .collect();
    Ok(json!({ "trailList": trails }))
}

pub async fn list_trails(repo: &TrailRepo, ctx: &RequestContext, _input: Value) -> Result<Value> {
    let trails: Vec<Value> = repo
        .visible(&ctx.account_id)
        .await?
        .iter()
        .map(|r| json!({ "TrailARN": trail_arn(ctx, &r.region, &r.name), "Name": r.name, "HomeRegion": r.region }))
        .collect();
    Ok(json!({ "Trails": trails }))
}

pub async fn delete_trail(repo: &TrailRepo, ctx: &RequestContext, input: Value) -> Result<Value> {
    let row = require(repo, ctx, str_field(&input, "Name").unwrap_or_default()).await?;
    repo.delete(ctx.account_id.clone(), ctx.region.clone(), row.name)
        .await?;
    Ok(json!({}))
}

fn seconds(ms: i64) -> f64 {
    ms as f64 / 1000.0
}

pub async fn start_logging(
    repo: &TrailRepo,
    ctx: &RequestContext,
    input: Value,
    logging: bool,
) -> Result<Value> {
    let row = require(repo, ctx, str_field(&input, "Name").unwrap_or_default()).await?;
    let status = if logging {
        json!({ "StartLoggingTime": seconds(ctx.now_ms), "TimeLoggingStarted": crate_iso(ctx.now_ms) })
    } else {
        json!({ "StopLoggingTime": seconds(ctx.now_ms), "TimeLoggingStopped": crate_iso(ctx.now_ms) })
    };
    repo.set_logging(
        ctx.account_id.clone(),
        ctx.region.clone(),
        row.name,
        logging,
        status,
    )
    .await?;
    Ok(json!({}))
}

fn crate_iso(ms: i64) -> String {
    chrono::DateTime::from_timestamp_millis(ms)
        .map(|t| t.format("%Y-%m-%dT%H:%M:%SZ").to_string())
        .unwrap_or_default()
}

pub async fn get_trail_status(
    repo: &TrailRepo,
    ctx: &RequestContext,
    input: Value,
) -> Result<Value> {
    let row = require(repo, ctx, str_field(&input, "Name").unwrap_or_default()).await?;
    let mut status = row.status.as_object().cloned().unwrap_or_default();
    status.insert("IsLogging".into(), json!(row.logging));
    Ok(Value::Object(status))
}

/// The selectors AWS reports for a trail that never had PutEventSelectors.
fn default_event_selectors() -> Value {
    json!([{ "ReadWriteType": "All", "IncludeManagementEvents": true, "DataResources": [], "ExcludeManagementEventSources": [] }])
}

pub async fn put_event_selectors(
    repo: &TrailRepo,
    ctx: &RequestContext,
    input: Value,
) -> Result<Value> {
    let row = require(
        repo,
        ctx,
        str_field(&input, "TrailName").unwrap_or_default(),
    )
    .await?;
    let basic = input.get("EventSelectors").filter(|v| !v.is_null());
    let advanced = input.get("AdvancedEventSelectors").filter(|v| !v.is_null());
    let mut doc = row.document.as_object().cloned().unwrap_or_default();
    match (basic, advanced) {
        (Some(_), Some(_)) => {
            return Err(CloudTrailError::InvalidEventSelectors(
                "You can use either EventSelectors or AdvancedEventSelectors in a PutEventSelectors request, but not both.".into(),
            ))
        }
        (None, None) => {
            return Err(CloudTrailError::InvalidEventSelectors(
                "You must specify either EventSelectors or AdvancedEventSelectors.".into(),
            ))
        }
        (Some(b), None) => {
            if b.as_array().is_some_and(|a| a.len() > 5) {
                return Err(CloudTrailError::InvalidEventSelectors("A trail can have at most 5 event selectors.".into()));
            }
            doc.insert("EventSelectors".into(), b.clone());
            doc.remove("AdvancedEventSelectors");
        }
        (None, Some(a)) => {
            for selector in a.as_array().into_iter().flatten() {
                for field in selector.get("FieldSelectors").and_then(Value::as_array).into_iter().flatten() {
                    let name = str_field(field, "Field").unwrap_or_default();
                    if !["eventCategory", "readOnly", "eventSource", "eventName", "resources.type", "resources.ARN", "eventType", "userIdentity.arn", "sessionCredentialFromConsole", "errorCode"].contains(&name) {
                        return Err(CloudTrailError::InvalidEventSelectors(format!("Invalid field name {name} in the advanced event selectors.")));
                    }
                }
            }
            doc.insert("AdvancedEventSelectors".into(), a.clone());
            doc.remove("EventSelectors");
        }
    }
    let document = Value::Object(doc);
    repo.set_document(
        ctx.account_id.clone(),
        ctx.region.clone(),
        row.name.clone(),
        document.clone(),
    )
    .await?;
    Ok(selectors_view(ctx, &row.region, &row.name, &document))
}

fn selectors_view(ctx: &RequestContext, region: &str, name: &str, doc: &Value) -> Value {
    let mut out = Map::new();
    out.insert("TrailARN".into(), json!(trail_arn(ctx, region, name)));
    match doc.get("AdvancedEventSelectors") {
        Some(a) => {
            out.insert("AdvancedEventSelectors".into(), a.clone());
        }
        None => {
            out.insert(
                "EventSelectors".into(),
                doc.get("EventSelectors")
                    .cloned()
                    .unwrap_or_else(default_event_selectors),
            );
        }
    }
    Value::Object(out)
}

pub async fn get_event_selectors(
    repo: &TrailRepo,
    ctx: &RequestContext,
    input: Value,
) -> Result<Value> {
    let row = require(
        repo,
        ctx,
        str_field(&input, "TrailName").unwrap_or_default(),
    )
    .await?;
    Ok(selectors_view(ctx, &row.region, &row.name, &row.document))
}

pub async fn put_insight_selectors(
    repo: &TrailRepo,
    ctx: &RequestContext,
    input: Value,
) -> Result<Value> {
    let row = require(
        repo,
        ctx,
        str_field(&input, "TrailName").unwrap_or_default(),
    )
    .await?;
    let selectors = input
        .get("InsightSelectors")
        .cloned()
        .unwrap_or_else(|| json!([]));
    for s in selectors.as_array().into_iter().flatten() {
        let kind = str_field(s, "InsightType").unwrap_or_default();
        if !["ApiCallRateInsight", "ApiErrorRateInsight"].contains(&kind) {
            return Err(CloudTrailError::InvalidInsightSelectors(format!(
                "Invalid InsightType {kind}."
            )));
        }
    }
    let mut doc = row.document.as_object().cloned().unwrap_or_default();
    doc.insert("InsightSelectors".into(), selectors.clone());
    repo.set_document(
        ctx.account_id.clone(),
        ctx.region.clone(),
        row.name.clone(),
        Value::Object(doc),
    )
    .await?;
    Ok(json!({ "TrailARN": trail_arn(ctx, &row.region, &row.name), "InsightSelectors": selectors }))
}

pub async fn get_insight_selectors(
    repo: &TrailRepo,
    ctx: &RequestContext,
    input: Value,
) -> Result<Value> {
    let row = require(
        repo,
        ctx,
        str_field(&input, "TrailName").unwrap_or_default(),
    )
    .await?;
    match row
        .document
        .get("InsightSelectors")
        .filter(|s| s.as_array().is_some_and(|a| !a.is_empty()))
    {
        Some(s) => {
            Ok(json!({ "TrailARN": trail_arn(ctx, &row.region, &row.name), "InsightSelectors": s }))
        }
        None => Err(CloudTrailError::InsightNotEnabled(format!(
            "Trail {} does not have Insights enabled.",
            row.name
        ))),
    }
}

fn tags_of(doc: &Value) -> Vec<Value> {
    doc.get("TagsList")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default()
}

pub async fn add_tags(
    repo: &TrailRepo,
    ctx: &RequestContext,
    input: Value,
    remove: bool,
) -> Result<Value> {
    let row = require(
        repo,
        ctx,
        str_field(&input, "ResourceId").unwrap_or_default(),
    )
    .await?;
    let given = input
        .get("TagsList")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    let mut tags = tags_of(&row.document);
    for t in &given {
        let key = str_field(t, "Key").unwrap_or_default();
        tags.retain(|existing| str_field(existing, "Key") != Some(key));
        if !remove {
            tags.push(t.clone());
        }
    }
    if tags.len() > 50 {
        return Err(CloudTrailError::TagsLimitExceeded(
            "A resource can have at most 50 tags.".into(),
        ));
    }
    let mut doc = row.document.as_object().cloned().unwrap_or_default();
    doc.insert("TagsList".into(), Value::Array(tags));
    repo.set_document(
        ctx.account_id.clone(),
        ctx.region.clone(),
        row.name,
        Value::Object(doc),
    )
    .await?;
    Ok(json!({}))
}

pub async fn list_tags(repo: &TrailRepo, ctx: &RequestContext, input: Value) -> Result<Value> {
    let mut out = Vec::new();
    for id in input
        .get("ResourceIdList")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
    {
        let row = require(repo, ctx, id).await?;
        out.push(json!({ "ResourceId": trail_arn(ctx, &row.region, &row.name), "TagsList": tags_of(&row.document) }));
    }
    Ok(json!({ "ResourceTagList": out }))
}

/// Whether any of these trails has an advanced selector that can take data events; basic
/// selectors select data events only for S3, Lambda and DynamoDB, which are not hosted here.
pub fn wants_data_events(trails: &[TrailRow]) -> bool {
    trails.iter().any(|t| {
        t.document
            .get("AdvancedEventSelectors")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .any(|selector| {
                selector
                    .get("FieldSelectors")
                    .and_then(Value::as_array)
                    .into_iter()
                    .flatten()
                    .any(|f| {
                        str_field(f, "Field") == Some("eventCategory")
                            && f.get("Equals")
                                .and_then(Value::as_array)
                                .is_some_and(|v| v.iter().any(|x| x.as_str() == Some("Data")))
                    })
            })
    })
}

/// Whether a trail's selectors take a journal record.
fn selected(doc: &Value, event: &Value, management: bool) -> bool {
    let read_only = event
        .get("readOnly")
        .and_then(Value::as_bool)
        .unwrap_or(false);
    if let Some(advanced) = doc.get("AdvancedEventSelectors").and_then(Value::as_array) {
        return advanced.iter().any(|selector| {
            selector
                .get("FieldSelectors")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .all(|f| {
                    let actual = match str_field(f, "Field").unwrap_or_default() {
                        "eventCategory" => {
                            if management {
                                "Management".to_string()
                            } else {
                                "Data".to_string()
                            }
                        }
                        "readOnly" => read_only.to_string(),
                        "eventSource" => str_field(event, "eventSource")
                            .unwrap_or_default()
                            .to_string(),
                        "eventName" => str_field(event, "eventName")
                            .unwrap_or_default()
                            .to_string(),
                        "resources.type" => event
                            .pointer("/resources/0/type")
                            .and_then(Value::as_str)
                            .unwrap_or_default()
                            .to_string(),
                        "resources.ARN" => event
                            .pointer("/resources/0/ARN")
                            .and_then(Value::as_str)
                            .unwrap_or_default()
                            .to_string(),
                        "errorCode" => str_field(event, "errorCode")
                            .unwrap_or_default()
                            .to_string(),
                        _ => String::new(),
                    };
                    let list = |key: &str| -> Vec<String> {
                        f.get(key)
                            .and_then(Value::as_array)
                            .into_iter()
                            .flatten()
                            .filter_map(Value::as_str)
                            .map(str::to_string)
                            .collect()
                    };
                    let any =
                        |key: &str, test: &dyn Fn(&str) -> bool| list(key).iter().any(|v| test(v));
                    let none =
                        |key: &str, test: &dyn Fn(&str) -> bool| !list(key).iter().any(|v| test(v));
                    (f.get("Equals").is_none() || any("Equals", &|v| actual == v))
                        && none("NotEquals", &|v| actual == v)
                        && (f.get("StartsWith").is_none()
                            || any("StartsWith", &|v| actual.starts_with(v)))
                        && none("NotStartsWith", &|v| actual.starts_with(v))
                        && (f.get("EndsWith").is_none()
                            || any("EndsWith", &|v| actual.ends_with(v)))
                        && none("NotEndsWith", &|v| actual.ends_with(v))
                })
        });
    }
    let selectors = doc
        .get("EventSelectors")
        .cloned()
        .unwrap_or_else(default_event_selectors);
    selectors.as_array().into_iter().flatten().any(|s| {
        let rw = str_field(s, "ReadWriteType").unwrap_or("All");
        let rw_ok = rw == "All" || (rw == "ReadOnly") == read_only;
        let include = s
            .get("IncludeManagementEvents")
            .and_then(Value::as_bool)
            .unwrap_or(true);
        let excluded = s
            .get("ExcludeManagementEventSources")
            .and_then(Value::as_array)
            .is_some_and(|l| {
                l.iter()
                    .any(|x| x.as_str() == str_field(event, "eventSource"))
            });
        management && include && !excluded && rw_ok
    })
}

/// The delivery loop: every `interval`, each logging trail gets the journal records it
/// selects that it has not delivered yet. Stops when the store closes.
pub async fn run_delivery(
    repo: TrailRepo,
    logs: LogDeliverer,
    s3_root: std::path::PathBuf,
    interval: Duration,
    clock: crate::clock::SharedClock,
) {
    loop {
        tokio::time::sleep(interval).await;
        match deliver_once(&repo, &logs, &s3_root, clock.now_ms()).await {
            Ok(()) => {}
            Err(StoreError::Closed) => return,
            Err(e) => tracing::error!(error = %e, "trail delivery failed"),
        }
    }
}

pub async fn deliver_once(
    repo: &TrailRepo,
    logs: &LogDeliverer,
    s3_root: &std::path::Path,
    now_ms: i64,
) -> Result<(), StoreError> {
    for trail in repo.logging().await? {
        let records = repo.journal_after(trail.cursor_seq, 5_000).await?;
        let Some(last_seq) = records.last().map(|r| r.0) else {
            continue;
        };
        let multi_region = trail
            .document
            .get("IsMultiRegionTrail")
            .and_then(Value::as_bool)
            .unwrap_or(false);
        let events: Vec<Value> = records
            .iter()
            .filter(|(_, account, region, _, _)| {
                *account == trail.account_id && (multi_region || *region == trail.region)
            })
            .filter_map(|(_, _, _, management, event)| {
                let v: Value = serde_json::from_str(event).ok()?;
                selected(&trail.document, &v, *management).then_some(v)
            })
            .collect();
        let mut status = Map::new();
        if !events.is_empty() {
            status.insert("LatestDeliveryAttemptTime".into(), json!(crate_iso(now_ms)));
            match write_s3_file(s3_root, &trail, &events, now_ms) {
                Ok(()) => {
                    status.insert("LatestDeliveryTime".into(), json!(seconds(now_ms)));
                    status.insert(
                        "LatestDeliveryAttemptSucceeded".into(),
                        json!(crate_iso(now_ms)),
                    );
                    status.insert("LatestDeliveryError".into(), Value::Null);
                }
                Err(e) => {
                    status.insert("LatestDeliveryError".into(), json!(e));
                }
            }
            if let Some(arn) = str_field(&trail.document, "CloudWatchLogsLogGroupArn") {
                let group = arn
                    .split_once(":log-group:")
                    .map(|(_, g)| g.trim_end_matches(":*"))
                    .unwrap_or_default();
                let stream = format!("{}_CloudTrail_{}", trail.account_id, trail.region);
                let lines: Vec<(i64, String)> = events
                    .iter()
                    .map(|e| {
                        let ts = str_field(e, "eventTime")
                            .and_then(|t| chrono::DateTime::parse_from_rfc3339(t).ok())
                            .map_or(now_ms, |t| t.timestamp_millis());
                        (ts, e.to_string())
                    })
                    .collect();
                match logs
                    .deliver(
                        &trail.account_id,
                        &trail.region,
                        group,
                        &stream,
                        lines,
                        now_ms,
                    )
                    .await
                {
                    Ok(()) => {
                        status.insert(
                            "LatestCloudWatchLogsDeliveryTime".into(),
                            json!(seconds(now_ms)),
                        );
                        status.insert("LatestCloudWatchLogsDeliveryError".into(), Value::Null);
                    }
                    Err(e) => {
                        status.insert("LatestCloudWatchLogsDeliveryError".into(), json!(e));
                    }
                }
            }
        }
        repo.delivered(
            trail.account_id.clone(),
            trail.region.clone(),
            trail.name.clone(),
            last_seq,
            Value::Object(status),
        )
        .await?;
    }
    Ok(())
}

/// `<root>/<bucket>/[<prefix>/]AWSLogs/<account>/CloudTrail/<region>/YYYY/MM/DD/
/// <account>_CloudTrail_<region>_<YYYYMMDDTHHmmZ>_<unique>.json.gz` holding `{"Records": [...]}`.
fn write_s3_file(
    root: &std::path::Path,
    trail: &TrailRow,
    events: &[Value],
    now_ms: i64,
) -> Result<(), String> {
    let bucket = str_field(&trail.document, "S3BucketName").unwrap_or("bucket");
    let mut dir = root.join(path_segment(bucket));
    if let Some(prefix) = str_field(&trail.document, "S3KeyPrefix").filter(|p| !p.is_empty()) {
        for segment in prefix.split('/') {
            dir = dir.join(path_segment(segment));
        }
    }
    let time = chrono::DateTime::from_timestamp_millis(now_ms).unwrap_or_default();
    dir = dir
        .join("AWSLogs")
        .join(path_segment(&trail.account_id))
        .join("CloudTrail")
        .join(path_segment(&trail.region))
        .join(time.format("%Y").to_string())
        .join(time.format("%m").to_string())
        .join(time.format("%d").to_string());
    std::fs::create_dir_all(&dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
    let unique: String = uuid::Uuid::new_v4()
        .simple()
        .to_string()
        .chars()
        .take(16)
        .collect();
    let file = dir.join(format!(
        "{}_CloudTrail_{}_{}_{unique}.json.gz",
        path_segment(&trail.account_id),
        path_segment(&trail.region),
        time.format("%Y%m%dT%H%MZ")
    ));
    let body = json!({ "Records": events }).to_string();
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    gz.write_all(body.as_bytes()).map_err(|e| e.to_string())?;
    let bytes = gz.finish().map_err(|e| e.to_string())?;
    std::fs::write(&file, bytes).map_err(|e| format!("cannot write {}: {e}", file.display()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bucket_names_and_local_paths_are_checked() {
        assert!(check_s3(&json!({"S3BucketName": "audit-bucket.logs"})).is_ok());
        for bad in ["b", "Upper", "-edge", "a..b", "192.168.1.1", "a/b", "../x"] {
            assert!(check_s3(&json!({ "S3BucketName": bad })).is_err(), "{bad}");
        }
        assert!(check_s3(&json!({"S3KeyPrefix": "p".repeat(201)})).is_err());
        assert_eq!(path_segment(".."), "%2E%2E");
        assert_eq!(path_segment("a/b"), "a%2Fb");
        assert_eq!(path_segment("us-east-1"), "us-east-1");
    }

    #[test]
    fn trail_names_follow_aws_rules() {
        for ok in ["my-trail", "Trail_1", "abc", "a.b-c_d"] {
            assert!(check_trail_name(ok).is_ok(), "{ok}");
        }
        for bad in [
            "ab",
            "-trail",
            "trail-",
            "my--trail",
            "my._trail",
            "192.168.5.4",
            "has space",
            &"a".repeat(129),
        ] {
            assert!(check_trail_name(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn selectors_choose_records() {
        let write = json!({"readOnly": false, "eventSource": "logs.amazonaws.com", "eventName": "CreateLogGroup"});
        let read = json!({"readOnly": true, "eventSource": "logs.amazonaws.com", "eventName": "DescribeLogGroups"});
        assert!(selected(&json!({}), &write, true));
        assert!(
            !selected(&json!({}), &write, false),
            "data events need a selector"
        );
        let write_only = json!({"EventSelectors": [{"ReadWriteType": "WriteOnly", "IncludeManagementEvents": true}]});
        assert!(selected(&write_only, &write, true));
        assert!(!selected(&write_only, &read, true));
        let advanced = json!({"AdvancedEventSelectors": [{"FieldSelectors": [
            {"Field": "eventCategory", "Equals": ["Management"]}, {"Field": "eventName", "StartsWith": ["Create"]}]}]});
        assert!(selected(&advanced, &write, true));
        assert!(!selected(&advanced, &read, true));
    }
}

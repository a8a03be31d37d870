//! Subscription filters, destinations, account resource policies and query definitions:
//! stored, validated and listed as AWS does.
//!
//! Delivery to subscription destinations is not performed: their targets (Kinesis, Firehose,
//! Lambda, OpenSearch) are services this emulator does not host. The README says so.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::filter_pattern::FilterPattern;
use super::repo::{LogsRepo, ResourceKey};
use super::{require_group, Empty, LogsError, Result};
use crate::context::RequestContext;
use crate::services::input;

const SUBSCRIPTION: &str = "subscription";
const DESTINATION: &str = "destination";
const POLICY: &str = "policy";
const QUERY_DEFINITION: &str = "query-definition";
/// AWS allows two subscription filters per log group and ten resource policies per region.
const MAX_SUBSCRIPTIONS: usize = 2;
const MAX_POLICIES: usize = 10;
const DEFAULT_LIMIT: usize = 50;

fn invalid(message: impl Into<String>) -> LogsError {
    LogsError::InvalidParameter(message.into())
}

fn key(ctx: &RequestContext, kind: &'static str, scope: &str, name: &str) -> ResourceKey {
    ResourceKey {
        account_id: ctx.account_id.clone(),
        region: ctx.region.clone(),
        kind,
        scope: scope.to_string(),
        name: name.to_string(),
    }
}

fn to_json<T: Serialize>(v: &T) -> Result<String> {
    serde_json::to_string(v).map_err(|e| invalid(e.to_string()))
}

fn documents<T: for<'de> Deserialize<'de>>(rows: Vec<(String, String)>) -> Vec<T> {
    rows.into_iter()
        .filter_map(|(_, d)| serde_json::from_str(&d).ok())
        .collect()
}

/// Offset pagination over a listed page; tokens are the offset as text.
fn page<T>(
    items: Vec<T>,
    token: Option<&str>,
    limit: Option<i64>,
) -> Result<(Vec<T>, Option<String>)> {
    let offset: usize = match token {
        Some(t) => t
            .parse()
            .map_err(|_| invalid(format!("The specified nextToken is invalid: {t}")))?,
        None => 0,
    };
    let limit = limit
        .and_then(|l| usize::try_from(l).ok())
        .unwrap_or(DEFAULT_LIMIT);
    let total = items.len();
    let out: Vec<T> = items.into_iter().skip(offset).take(limit).collect();
    let next = offset + out.len();
    Ok((out, (next < total).then(|| next.to_string())))
}

#[derive(Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SubscriptionFilter {
    filter_name: String,
    log_group_name: String,
    filter_pattern: String,
    destination_arn: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    role_arn: Option<String>,
    distribution: String,
    creation_time: i64,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PutSubscriptionFilterInput {
    log_group_name: String,
    filter_name: String,
    filter_pattern: String,
    destination_arn: String,
    role_arn: Option<String>,
    distribution: Option<String>,
}

/// https://docs.aws.amazon.com/AmazonCloudWatchLogs/latest/APIReference/API_PutSubscriptionFilter.html
pub async fn put_subscription_filter(
    repo: &LogsRepo,
    ctx: &RequestContext,
    doc: Value,
) -> Result<Empty> {
    let request: PutSubscriptionFilterInput = input(doc)?;
    FilterPattern::parse(&request.filter_pattern).map_err(|e| invalid(e.to_string()))?;
    if !request.destination_arn.starts_with("arn:") {
        return Err(invalid(format!(
            "Invalid destinationArn: {}",
            request.destination_arn
        )));
    }
    require_group(repo, ctx, &request.log_group_name).await?;
    let existing = repo
        .resources(
            &ctx.account_id,
            &ctx.region,
            SUBSCRIPTION,
            &request.log_group_name,
        )
        .await?;
    if existing.len() >= MAX_SUBSCRIPTIONS
        && !existing.iter().any(|(n, _)| *n == request.filter_name)
    {
        return Err(LogsError::LimitExceeded("Resource limit exceeded.".into()));
    }
    let filter = SubscriptionFilter {
        filter_name: request.filter_name.clone(),
        log_group_name: request.log_group_name.clone(),
        filter_pattern: request.filter_pattern,
        destination_arn: request.destination_arn,
        role_arn: request.role_arn,
        distribution: request.distribution.unwrap_or_else(|| "ByLogStream".into()),
        creation_time: ctx.now_ms,
    };
    repo.put_resource(
        key(
            ctx,
            SUBSCRIPTION,
            &request.log_group_name,
            &request.filter_name,
        ),
        to_json(&filter)?,
        ctx.now_ms,
    )
    .await?;
    Ok(Empty {})
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DescribeSubscriptionFiltersInput {
    log_group_name: String,
    filter_name_prefix: Option<String>,
    next_token: Option<String>,
    limit: Option<i64>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct DescribeSubscriptionFiltersOutput {
    subscription_filters: Vec<SubscriptionFilter>,
    #[serde(skip_serializing_if = "Option::is_none")]
    next_token: Option<String>,
}

pub async fn describe_subscription_filters(
    repo: &LogsRepo,
    ctx: &RequestContext,
    doc: Value,
) -> Result<DescribeSubscriptionFiltersOutput> {
    let request: DescribeSubscriptionFiltersInput = input(doc)?;
    require_group(repo, ctx, &request.log_group_name).await?;
    let rows = repo
        .resources(
            &ctx.account_id,
            &ctx.region,
            SUBSCRIPTION,
            &request.log_group_name,
        )
        .await?;
    let filters: Vec<SubscriptionFilter> = documents::<SubscriptionFilter>(rows)
        .into_iter()
        .filter(|f| {
            request
                .filter_name_prefix
                .as_ref()
                .is_none_or(|p| f.filter_name.starts_with(p.as_str()))
        })
        .collect();
    let (subscription_filters, next_token) =
        page(filters, request.next_token.as_deref(), request.limit)?;
    Ok(DescribeSubscriptionFiltersOutput {
        subscription_filters,
        next_token,
    })
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DeleteSubscriptionFilterInput {
    log_group_name: String,
    filter_name: String,
}

pub async fn delete_subscription_filter(
    repo: &LogsRepo,
    ctx: &RequestContext,
    doc: Value,
) -> Result<Empty> {
    let request: DeleteSubscriptionFilterInput = input(doc)?;
    require_group(repo, ctx, &request.log_group_name).await?;
    let removed = repo
        .delete_resources(
            key(
                ctx,
                SUBSCRIPTION,
                &request.log_group_name,
                &request.filter_name,
            ),
            false,
        )
        .await?;
    if removed == 0 {
        return Err(LogsError::ResourceNotFound(
            "The specified subscription filter does not exist.".into(),
        ));
    }
    Ok(Empty {})
}

/// Subscription filters go with their log group.
pub async fn delete_group_subscriptions(
    repo: &LogsRepo,
    ctx: &RequestContext,
    group_name: &str,
) -> Result<()> {
    repo.delete_resources(key(ctx, SUBSCRIPTION, group_name, ""), true)
        .await?;
    Ok(())
}

#[derive(Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Destination {
    destination_name: String,
    target_arn: String,
    role_arn: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    access_policy: Option<String>,
    arn: String,
    creation_time: i64,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PutDestinationInput {
    destination_name: String,
    target_arn: String,
    role_arn: String,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PutDestinationOutput {
    destination: Destination,
}

async fn find_destination(
    repo: &LogsRepo,
    ctx: &RequestContext,
    name: &str,
) -> Result<Option<Destination>> {
    let rows = repo
        .resources(&ctx.account_id, &ctx.region, DESTINATION, "")
        .await?;
    Ok(documents::<Destination>(rows)
        .into_iter()
        .find(|d| d.destination_name == name))
}

/// https://docs.aws.amazon.com/AmazonCloudWatchLogs/latest/APIReference/API_PutDestination.html
pub async fn put_destination(
    repo: &LogsRepo,
    ctx: &RequestContext,
    doc: Value,
) -> Result<PutDestinationOutput> {
    let request: PutDestinationInput = input(doc)?;
    for (field, arn) in [
        ("targetArn", &request.target_arn),
        ("roleArn", &request.role_arn),
    ] {
        if !arn.starts_with("arn:") {
            return Err(invalid(format!("Invalid {field}: {arn}")));
        }
    }
    let previous = find_destination(repo, ctx, &request.destination_name).await?;
    let destination = Destination {
        arn: format!(
            "arn:aws:logs:{}:{}:destination:{}",
            ctx.region, ctx.account_id, request.destination_name
        ),
        destination_name: request.destination_name.clone(),
        target_arn: request.target_arn,
        role_arn: request.role_arn,
        access_policy: previous.as_ref().and_then(|p| p.access_policy.clone()),
        creation_time: previous.map_or(ctx.now_ms, |p| p.creation_time),
    };
    repo.put_resource(
        key(ctx, DESTINATION, "", &request.destination_name),
        to_json(&destination)?,
        ctx.now_ms,
    )
    .await?;
    Ok(PutDestinationOutput { destination })
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PutDestinationPolicyInput {
    destination_name: String,
    access_policy: String,
}

pub async fn put_destination_policy(
    repo: &LogsRepo,
    ctx: &RequestContext,
    doc: Value,
) -> Result<Empty> {
    let request: PutDestinationPolicyInput = input(doc)?;
    serde_json::from_str::<Value>(&request.access_policy)
        .map_err(|e| invalid(format!("Invalid accessPolicy: {e}")))?;
    let mut destination = find_destination(repo, ctx, &request.destination_name)
        .await?
        .ok_or_else(|| {
            LogsError::ResourceNotFound("The specified destination does not exist.".into())
        })?;
    destination.access_policy = Some(request.access_policy);
    repo.put_resource(
        key(ctx, DESTINATION, "", &request.destination_name),
        to_json(&destination)?,
        ctx.now_ms,
    )
    .await?;
    Ok(Empty {})
}

#[derive(Debug, Deserialize)]
pub struct DescribeDestinationsInput {
    #[serde(rename = "DestinationNamePrefix")]
    destination_name_prefix: Option<String>,
    #[serde(rename = "nextToken")]
    next_token: Option<String>,
    limit: Option<i64>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct DescribeDestinationsOutput {
    destinations: Vec<Destination>,
    #[serde(skip_serializing_if = "Option::is_none")]
    next_token: Option<String>,
}

pub async fn describe_destinations(
    repo: &LogsRepo,
    ctx: &RequestContext,
    doc: Value,
) -> Result<DescribeDestinationsOutput> {
    let request: DescribeDestinationsInput = input(doc)?;
    let rows = repo
        .resources(&ctx.account_id, &ctx.region, DESTINATION, "")
        .await?;
    let all: Vec<Destination> = documents::<Destination>(rows)
        .into_iter()
        .filter(|d| {
            request
                .destination_name_prefix
                .as_ref()
                .is_none_or(|p| d.destination_name.starts_with(p.as_str()))
        })
        .collect();
    let (destinations, next_token) = page(all, request.next_token.as_deref(), request.limit)?;
    Ok(DescribeDestinationsOutput {
        destinations,
        next_token,
    })
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DestinationNameInput {
    destination_name: String,
}

pub async fn delete_destination(
    repo: &LogsRepo,
    ctx: &RequestContext,
    doc: Value,
) -> Result<Empty> {
    let request: DestinationNameInput = input(doc)?;
    if repo
        .delete_resources(key(ctx, DESTINATION, "", &request.destination_name), false)
        .await?
        == 0
    {
        return Err(LogsError::ResourceNotFound(
            "The specified destination does not exist.".into(),
        ));
    }
    Ok(Empty {})
}

#[derive(Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ResourcePolicy {
    policy_name: String,
    policy_document: String,
    last_updated_time: i64,
    policy_scope: String,
    revision_id: String,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PutResourcePolicyInput {
    policy_name: Option<String>,
    policy_document: Option<String>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PutResourcePolicyOutput {
    resource_policy: ResourcePolicy,
    revision_id: String,
}

/// https://docs.aws.amazon.com/AmazonCloudWatchLogs/latest/APIReference/API_PutResourcePolicy.html
pub async fn put_resource_policy(
    repo: &LogsRepo,
    ctx: &RequestContext,
    doc: Value,
) -> Result<PutResourcePolicyOutput> {
    let request: PutResourcePolicyInput = input(doc)?;
    let name = request
        .policy_name
        .ok_or_else(|| invalid("policyName is required for an account resource policy."))?;
    let document = request
        .policy_document
        .ok_or_else(|| invalid("policyDocument is required."))?;
    serde_json::from_str::<Value>(&document)
        .map_err(|e| invalid(format!("Invalid policyDocument: {e}")))?;
    let existing = repo
        .resources(&ctx.account_id, &ctx.region, POLICY, "")
        .await?;
    if existing.len() >= MAX_POLICIES && !existing.iter().any(|(n, _)| *n == name) {
        return Err(LogsError::LimitExceeded("Resource limit exceeded.".into()));
    }
    let revision_id = uuid::Uuid::new_v4().to_string();
    let policy = ResourcePolicy {
        policy_name: name.clone(),
        policy_document: document,
        last_updated_time: ctx.now_ms,
        policy_scope: "ACCOUNT".into(),
        revision_id: revision_id.clone(),
    };
    repo.put_resource(key(ctx, POLICY, "", &name), to_json(&policy)?, ctx.now_ms)
        .await?;
    Ok(PutResourcePolicyOutput {
        resource_policy: policy,
        revision_id,
    })
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DescribeResourcePoliciesInput {
    next_token: Option<String>,
    limit: Option<i64>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct DescribeResourcePoliciesOutput {
    resource_policies: Vec<ResourcePolicy>,
    #[serde(skip_serializing_if = "Option::is_none")]
    next_token: Option<String>,
}

pub async fn describe_resource_policies(
    repo: &LogsRepo,
    ctx: &RequestContext,
    doc: Value,
) -> Result<DescribeResourcePoliciesOutput> {
    let request: DescribeResourcePoliciesInput = input(doc)?;
    let rows = repo
        .resources(&ctx.account_id, &ctx.region, POLICY, "")
        .await?;
    let (resource_policies, next_token) = page(
        documents(rows),
        request.next_token.as_deref(),
        request.limit,
    )?;
    Ok(DescribeResourcePoliciesOutput {
        resource_policies,
        next_token,
    })
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DeleteResourcePolicyInput {
    policy_name: Option<String>,
}

pub async fn delete_resource_policy(
    repo: &LogsRepo,
    ctx: &RequestContext,
    doc: Value,
) -> Result<Empty> {
    let request: DeleteResourcePolicyInput = input(doc)?;
    let name = request.policy_name.unwrap_or_default();
    if repo
        .delete_resources(key(ctx, POLICY, "", &name), false)
        .await?
        == 0
    {
        return Err(LogsError::ResourceNotFound(
            "Policy with name [".to_string() + &name + "] does not exist",
        ));
    }
    Ok(Empty {})
}

#[derive(Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct QueryDefinition {
    query_definition_id: String,
    name: String,
    query_string: String,
    last_modified: i64,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    log_group_names: Vec<String>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PutQueryDefinitionInput {
    name: String,
    query_definition_id: Option<String>,
    #[serde(default)]
    log_group_names: Vec<String>,
    query_string: String,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PutQueryDefinitionOutput {
    query_definition_id: String,
}

/// https://docs.aws.amazon.com/AmazonCloudWatchLogs/latest/APIReference/API_PutQueryDefinition.html
pub async fn put_query_definition(
    repo: &LogsRepo,
    ctx: &RequestContext,
    doc: Value,
) -> Result<PutQueryDefinitionOutput> {
    let request: PutQueryDefinitionInput = input(doc)?;
    let id = match request.query_definition_id {
        Some(id) => {
            let rows = repo
                .resources(&ctx.account_id, &ctx.region, QUERY_DEFINITION, "")
                .await?;
            if !rows.iter().any(|(n, _)| *n == id) {
                return Err(LogsError::ResourceNotFound(
                    "The specified query definition does not exist.".into(),
                ));
            }
            id
        }
        None => uuid::Uuid::new_v4().to_string(),
    };
    let definition = QueryDefinition {
        query_definition_id: id.clone(),
        name: request.name,
        query_string: request.query_string,
        last_modified: ctx.now_ms,
        log_group_names: request.log_group_names,
    };
    repo.put_resource(
        key(ctx, QUERY_DEFINITION, "", &id),
        to_json(&definition)?,
        ctx.now_ms,
    )
    .await?;
    Ok(PutQueryDefinitionOutput {
        query_definition_id: id,
    })
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DescribeQueryDefinitionsInput {
    query_definition_name_prefix: Option<String>,
    max_results: Option<i64>,
    next_token: Option<String>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct DescribeQueryDefinitionsOutput {
    query_definitions: Vec<QueryDefinition>,
    #[serde(skip_serializing_if = "Option::is_none")]
    next_token: Option<String>,
}

pub async fn describe_query_definitions(
    repo: &LogsRepo,
    ctx: &RequestContext,
    doc: Value,
) -> Result<DescribeQueryDefinitionsOutput> {
    let request: DescribeQueryDefinitionsInput = input(doc)?;
    let rows = repo
        .resources(&ctx.account_id, &ctx.region, QUERY_DEFINITION, "")
        .await?;
    let mut all: Vec<QueryDefinition> = documents::<QueryDefinition>(rows)
        .into_iter()
        .filter(|d| {
            request
                .query_definition_name_prefix
                .as_ref()
                .is_none_or(|p| d.name.starts_with(p.as_str()))
        })
        .collect();
    all.sort_by(|a, b| a.name.cmp(&b.name));
    let (query_definitions, next_token) = page(
        all,
        request.next_token.as_deref(),
        request.max_results.or(Some(1000)),
    )?;
    Ok(DescribeQueryDefinitionsOutput {
        query_definitions,
        next_token,
    })
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DeleteQueryDefinitionInput {
    query_definition_id: String,
}

#[derive(Debug, Serialize)]
pub struct SuccessOutput {
    success: bool,
}

pub async fn delete_query_definition(
    repo: &LogsRepo,
    ctx: &RequestContext,
    doc: Value,
) -> Result<SuccessOutput> {
    let request: DeleteQueryDefinitionInput = input(doc)?;
    if repo
        .delete_resources(
            key(ctx, QUERY_DEFINITION, "", &request.query_definition_id),
            false,
        )
        .await?
        == 0
    {
        return Err(LogsError::ResourceNotFound(
            "The specified query definition does not exist.".into(),
        ));
    }
    Ok(SuccessOutput { success: true })
}

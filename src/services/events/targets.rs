//! Target operations. Targets are kept exactly as given (every member of the model's Target,
//! RetryPolicy, DeadLetterConfig, parameters) and answered back so.

use serde_json::{json, Value};

use super::repo::PutTargetsOutcome;
use super::transform::validate_target_input;
use super::{
    bus_exists, bus_not_found, decode_token, encode_token, rule_not_found, string, BusRef, Core,
    EventsError, Result,
};
use crate::context::RequestContext;

/// AWS's quota: at most five targets per rule.
pub const TARGETS_PER_RULE: i64 = 5;

async fn existing_bus(core: &Core, ctx: &RequestContext, input: &Value) -> Result<BusRef> {
    let mut bus = BusRef::resolve(ctx, string(input, "EventBusName"));
    bus.account_id = ctx.account_id.clone();
    bus.region = ctx.region.clone();
    if !bus_exists(core, &bus).await? {
        return Err(bus_not_found(&bus.name));
    }
    Ok(bus)
}

/// `arn:partition:service:region:account:resource`: six parts, the last non-empty.
fn arn_well_formed(arn: &str) -> bool {
    let parts: Vec<&str> = arn.splitn(6, ':').collect();
    parts.len() == 6 && parts[0] == "arn" && !parts[2].is_empty() && !parts[5].is_empty()
}

pub async fn put_targets(core: &Core, ctx: &RequestContext, input: Value) -> Result<Value> {
    let rule = string(&input, "Rule").unwrap_or_default().to_string();
    let given = input
        .get("Targets")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    // Malformed ARNs and FIFO queues without a message group fail the whole request.
    for target in &given {
        let arn = string(target, "Arn").unwrap_or_default();
        if !arn_well_formed(arn) {
            return Err(EventsError::Validation(format!(
                "Parameter {arn} is not valid. Reason: Provided Arn is not in correct format."
            )));
        }
        let id = string(target, "Id").unwrap_or_default();
        let group = target
            .get("SqsParameters")
            .and_then(|p| p.get("MessageGroupId"))
            .and_then(Value::as_str);
        if arn.starts_with("arn:aws:sqs:") && arn.ends_with(".fifo") && group.is_none() {
            return Err(EventsError::Validation(format!(
                "Parameter(s) SqsParameters must be specified for target: {id}."
            )));
        }
    }
    let bus = existing_bus(core, ctx, &input).await?;
    let mut failed = Vec::new();
    let mut accepted = Vec::new();
    for target in given {
        let id = string(&target, "Id").unwrap_or_default().to_string();
        match validate_target_input(&target) {
            Ok(()) => {
                let arn = string(&target, "Arn").unwrap_or_default().to_string();
                accepted.push((id, arn, target));
            }
            Err(message) => failed.push(json!({
                "TargetId": id,
                "ErrorCode": "ValidationException",
                "ErrorMessage": message,
            })),
        }
    }
    let outcome = if accepted.is_empty() {
        match core.repo.find_rule(&bus.key(), &rule).await? {
            Some(_) => PutTargetsOutcome::Applied,
            None => PutTargetsOutcome::RuleNotFound,
        }
    } else {
        core.repo
            .put_targets(bus.key(), rule.clone(), accepted, TARGETS_PER_RULE)
            .await?
    };
    match outcome {
        PutTargetsOutcome::Applied => Ok(json!({
            "FailedEntryCount": failed.len(),
            "FailedEntries": failed,
        })),
        PutTargetsOutcome::RuleNotFound => Err(rule_not_found(&rule, &bus.name)),
        PutTargetsOutcome::OverQuota => Err(EventsError::LimitExceeded(
            "The requested resource exceeds the maximum number allowed.".into(),
        )),
    }
}

pub async fn remove_targets(core: &Core, ctx: &RequestContext, input: Value) -> Result<Value> {
    let rule = string(&input, "Rule").unwrap_or_default().to_string();
    let bus = existing_bus(core, ctx, &input).await?;
    let ids: Vec<String> = input
        .get("Ids")
        .and_then(Value::as_array)
        .map(|ids| {
            ids.iter()
                .filter_map(Value::as_str)
                .map(str::to_string)
                .collect()
        })
        .unwrap_or_default();
    match core
        .repo
        .remove_targets(bus.key(), rule.clone(), ids)
        .await?
    {
        Some(()) => Ok(json!({ "FailedEntryCount": 0, "FailedEntries": [] })),
        None => Err(rule_not_found(&rule, &bus.name)),
    }
}

pub async fn list_targets_by_rule(
    core: &Core,
    ctx: &RequestContext,
    input: Value,
) -> Result<Value> {
    let rule = string(&input, "Rule").unwrap_or_default();
    let bus = existing_bus(core, ctx, &input).await?;
    if core.repo.find_rule(&bus.key(), rule).await?.is_none() {
        return Err(rule_not_found(rule, &bus.name));
    }
    let after = decode_token(string(&input, "NextToken"))?;
    let after: i64 = if after.is_empty() {
        0
    } else {
        after
            .parse()
            .map_err(|_| EventsError::Validation("The nextToken provided is invalid.".into()))?
    };
    let limit = input.get("Limit").and_then(Value::as_i64).unwrap_or(100);
    let mut rows = core
        .repo
        .list_targets(&bus.key(), rule, after, limit + 1)
        .await?;
    let more = rows.len() as i64 > limit;
    rows.truncate(limit as usize);
    let mut out = json!({ "Targets": rows.iter().map(|(_, t)| t.clone()).collect::<Vec<_>>() });
    if more {
        if let Some((position, _)) = rows.last() {
            out["NextToken"] = json!(encode_token(&position.to_string()));
        }
    }
    Ok(out)
}

pub async fn list_rule_names_by_target(
    core: &Core,
    ctx: &RequestContext,
    input: Value,
) -> Result<Value> {
    let bus = existing_bus(core, ctx, &input).await?;
    let target_arn = string(&input, "TargetArn").unwrap_or_default();
    let after = decode_token(string(&input, "NextToken"))?;
    let limit = input.get("Limit").and_then(Value::as_i64).unwrap_or(100);
    let mut names = core
        .repo
        .rule_names_by_target(&bus.key(), target_arn, &after, limit + 1)
        .await?;
    let more = names.len() as i64 > limit;
    names.truncate(limit as usize);
    let mut out = json!({ "RuleNames": names });
    if more {
        if let Some(last) = names.last() {
            out["NextToken"] = json!(encode_token(last));
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn arns_need_six_parts() {
        assert!(arn_well_formed(
            "arn:aws:lambda:us-east-1:123456789012:function:f"
        ));
        assert!(arn_well_formed("arn:aws:s3:::bucket"));
        assert!(!arn_well_formed("test-bucket"));
        assert!(!arn_well_formed("arn:aws:sqs:us-east-1"));
    }
}

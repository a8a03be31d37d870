//! Rule operations, TestEventPattern, and tags of rules and buses.

use serde_json::{json, Map, Value};

use super::pattern::EventPattern;
use super::repo::{DeleteRuleOutcome, RuleRow};
use super::schedule::Schedule;
use super::{
    bus_exists, bus_not_found, decode_token, encode_token, parse_bus_arn, rule_arn, rule_not_found,
    string, tag_pairs, BusRef, Core, EventsError, Result, DEFAULT_BUS,
};
use crate::context::RequestContext;

fn non_empty<'v>(input: &'v Value, name: &str) -> Option<&'v str> {
    string(input, name).filter(|s| !s.is_empty())
}

/// The bus a rule operation names, which must exist.
async fn existing_bus(core: &Core, ctx: &RequestContext, input: &Value) -> Result<BusRef> {
    let mut bus = BusRef::resolve(ctx, string(input, "EventBusName"));
    // Rules are managed in the caller's own account, whatever account an ARN names.
    bus.account_id = ctx.account_id.clone();
    bus.region = ctx.region.clone();
    if !bus_exists(core, &bus).await? {
        return Err(bus_not_found(&bus.name));
    }
    Ok(bus)
}

pub fn invalid_pattern(e: super::pattern::EventPatternError) -> EventsError {
    EventsError::InvalidEventPattern(e.to_string())
}

pub async fn put_rule(core: &Core, ctx: &RequestContext, input: Value) -> Result<Value> {
    let name = string(&input, "Name").unwrap_or_default().to_string();
    let pattern = non_empty(&input, "EventPattern");
    let schedule = string(&input, "ScheduleExpression");
    let bus = existing_bus(core, ctx, &input).await?;
    if schedule.is_some() && bus.name != DEFAULT_BUS {
        return Err(EventsError::Validation(
            "ScheduleExpression is supported only on the default event bus.".into(),
        ));
    }
    let schedule = schedule.filter(|s| !s.is_empty());
    if pattern.is_none() && schedule.is_none() {
        return Err(EventsError::Validation(
            "Parameter(s) EventPattern or ScheduleExpression must be specified.".into(),
        ));
    }
    if let Some(p) = pattern {
        EventPattern::parse(p).map_err(invalid_pattern)?;
    }
    let parsed = schedule
        .map(|s| Schedule::parse(s).map_err(EventsError::Validation))
        .transpose()?;
    let existing = core.repo.find_rule(&bus.key(), &name).await?;
    if let Some(managed_by) = existing.as_ref().and_then(|r| r.managed_by.as_ref()) {
        return Err(EventsError::ManagedRule(format!(
            "Rule {name} is managed by {managed_by} and cannot be modified."
        )));
    }
    let state = string(&input, "State").unwrap_or("ENABLED").to_string();
    let next_fire = match &parsed {
        Some(s) if state != "DISABLED" => s
            .clone()
            .anchored_at(ctx.now_ms)
            .next_fire_after(ctx.now_ms),
        _ => None,
    };
    let arn = rule_arn(&ctx.account_id, &ctx.region, &bus.name, &name);
    let row = RuleRow {
        name: name.clone(),
        bus: bus.name.clone(),
        event_pattern: pattern.map(str::to_string),
        schedule_expression: schedule.map(str::to_string),
        state,
        description: string(&input, "Description").map(str::to_string),
        role_arn: string(&input, "RoleArn").map(str::to_string),
        managed_by: None,
        created_by: ctx.account_id.clone(),
    };
    let tags = if existing.is_none() {
        tag_pairs(&input)
    } else {
        Vec::new()
    };
    core.repo
        .put_rule(bus.key(), row, next_fire, ctx.now_ms, tags, arn.clone())
        .await?;
    Ok(json!({ "RuleArn": arn }))
}

fn rule_document(ctx: &RequestContext, rule: &RuleRow, describe: bool) -> Value {
    let mut out = Map::new();
    out.insert("Name".into(), json!(rule.name));
    out.insert(
        "Arn".into(),
        json!(rule_arn(
            &ctx.account_id,
            &ctx.region,
            &rule.bus,
            &rule.name
        )),
    );
    let optional = [
        ("EventPattern", &rule.event_pattern),
        ("ScheduleExpression", &rule.schedule_expression),
        ("Description", &rule.description),
        ("RoleArn", &rule.role_arn),
        ("ManagedBy", &rule.managed_by),
    ];
    for (key, value) in optional {
        if let Some(v) = value {
            out.insert(key.into(), json!(v));
        }
    }
    out.insert("State".into(), json!(rule.state));
    out.insert("EventBusName".into(), json!(rule.bus));
    if describe {
        out.insert("CreatedBy".into(), json!(rule.created_by));
    }
    Value::Object(out)
}

pub async fn describe_rule(core: &Core, ctx: &RequestContext, input: Value) -> Result<Value> {
    let name = string(&input, "Name").unwrap_or_default();
    let bus = existing_bus(core, ctx, &input).await?;
    let rule = core
        .repo
        .find_rule(&bus.key(), name)
        .await?
        .ok_or_else(|| rule_not_found(name, &bus.name))?;
    Ok(rule_document(ctx, &rule, true))
}

pub async fn list_rules(core: &Core, ctx: &RequestContext, input: Value) -> Result<Value> {
    let bus = existing_bus(core, ctx, &input).await?;
    let prefix = string(&input, "NamePrefix").unwrap_or_default();
    let after = decode_token(string(&input, "NextToken"))?;
    let limit = input.get("Limit").and_then(Value::as_i64).unwrap_or(100);
    let mut rows = core
        .repo
        .list_rules(&bus.key(), prefix, &after, limit + 1)
        .await?;
    let more = rows.len() as i64 > limit;
    rows.truncate(limit as usize);
    let mut out = json!({
        "Rules": rows.iter().map(|r| rule_document(ctx, r, false)).collect::<Vec<_>>()
    });
    if more {
        if let Some(last) = rows.last() {
            out["NextToken"] = json!(encode_token(&last.name));
        }
    }
    Ok(out)
}

pub async fn set_rule_state(
    core: &Core,
    ctx: &RequestContext,
    input: Value,
    state: &'static str,
) -> Result<Value> {
    let name = string(&input, "Name").unwrap_or_default().to_string();
    let bus = existing_bus(core, ctx, &input).await?;
    let found = core
        .repo
        .set_rule_state(bus.key(), name.clone(), state, ctx.now_ms)
        .await?;
    if !found {
        return Err(rule_not_found(&name, &bus.name));
    }
    Ok(json!({}))
}

pub async fn delete_rule(core: &Core, ctx: &RequestContext, input: Value) -> Result<Value> {
    let name = string(&input, "Name").unwrap_or_default().to_string();
    let force = input.get("Force").and_then(Value::as_bool).unwrap_or(false);
    let bus = existing_bus(core, ctx, &input).await?;
    let arn = rule_arn(&ctx.account_id, &ctx.region, &bus.name, &name);
    match core
        .repo
        .delete_rule(bus.key(), name.clone(), force, arn)
        .await?
    {
        // Deleting a rule that does not exist succeeds, as on AWS.
        DeleteRuleOutcome::Deleted | DeleteRuleOutcome::NotFound => Ok(json!({})),
        DeleteRuleOutcome::HasTargets => Err(EventsError::Validation(
            "Rule can't be deleted since it has targets.".into(),
        )),
        DeleteRuleOutcome::Managed => Err(EventsError::ManagedRule(format!(
            "Rule {name} is managed by an AWS service; set Force to delete it."
        ))),
    }
}

/// Envelope fields TestEventPattern requires of the event.
const REQUIRED_EVENT_FIELDS: [&str; 7] = [
    "id",
    "account",
    "source",
    "time",
    "region",
    "resources",
    "detail-type",
];

pub async fn test_event_pattern(input: Value) -> Result<Value> {
    let pattern = string(&input, "EventPattern").unwrap_or_default();
    let event = string(&input, "Event").unwrap_or_default();
    let pattern = EventPattern::parse(pattern).map_err(invalid_pattern)?;
    let event: Value = serde_json::from_str(event)
        .ok()
        .filter(|e: &Value| {
            e.is_object() && REQUIRED_EVENT_FIELDS.iter().all(|f| e.get(*f).is_some())
        })
        .ok_or_else(|| EventsError::Validation("Parameter Event is not valid.".into()))?;
    Ok(json!({ "Result": pattern.matches(&event) }))
}

/// What a taggable ARN names: a rule (on its bus) or a bus.
enum Taggable {
    Rule { bus: BusRef, name: String },
    Bus(BusRef),
}

fn taggable(arn: &str) -> Option<Taggable> {
    if let Some(bus) = parse_bus_arn(arn) {
        return Some(Taggable::Bus(bus));
    }
    let (head, path) = arn.split_once(":rule/")?;
    let mut parts = head.splitn(5, ':');
    let (_, _, _, region, account) = (
        parts.next()?,
        parts.next()?,
        parts.next()?,
        parts.next()?,
        parts.next()?,
    );
    let (bus, name) = path.rsplit_once('/').unwrap_or((DEFAULT_BUS, path));
    Some(Taggable::Rule {
        bus: BusRef {
            account_id: account.to_string(),
            region: region.to_string(),
            name: bus.to_string(),
        },
        name: name.to_string(),
    })
}

/// The ARN, if it names an existing rule or bus.
async fn require_taggable(core: &Core, arn: &str) -> Result<String> {
    match taggable(arn) {
        Some(Taggable::Bus(bus)) => {
            if bus_exists(core, &bus).await? {
                Ok(bus.arn())
            } else {
                Err(bus_not_found(&bus.name))
            }
        }
        Some(Taggable::Rule { bus, name }) => {
            if core.repo.find_rule(&bus.key(), &name).await?.is_some() {
                Ok(rule_arn(&bus.account_id, &bus.region, &bus.name, &name))
            } else {
                Err(rule_not_found(&name, &bus.name))
            }
        }
        None => Err(EventsError::Validation(format!(
            "Parameter ResourceARN is not valid. Reason: {arn} is not a rule or event bus ARN."
        ))),
    }
}

pub async fn tag_resource(core: &Core, input: Value) -> Result<Value> {
    let arn = require_taggable(core, string(&input, "ResourceARN").unwrap_or_default()).await?;
    core.repo.tag(arn, tag_pairs(&input)).await?;
    Ok(json!({}))
}

pub async fn untag_resource(core: &Core, input: Value) -> Result<Value> {
    let arn = require_taggable(core, string(&input, "ResourceARN").unwrap_or_default()).await?;
    let keys = input
        .get("TagKeys")
        .and_then(Value::as_array)
        .map(|keys| {
            keys.iter()
                .filter_map(Value::as_str)
                .map(str::to_string)
                .collect()
        })
        .unwrap_or_default();
    core.repo.untag(arn, keys).await?;
    Ok(json!({}))
}

pub async fn list_tags_for_resource(core: &Core, input: Value) -> Result<Value> {
    let arn = require_taggable(core, string(&input, "ResourceARN").unwrap_or_default()).await?;
    let tags: Vec<Value> = core
        .repo
        .tags(&arn)
        .await?
        .into_iter()
        .map(|(k, v)| json!({ "Key": k, "Value": v }))
        .collect();
    Ok(json!({ "Tags": tags }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn test_event_pattern_needs_the_envelope() {
        let event = json!({"id": "1", "account": "123456789012", "source": "my.app",
            "time": "2026-01-01T00:00:00Z", "region": "us-east-1", "detail-type": "t",
            "resources": [], "detail": {"n": 5}})
        .to_string();
        let out = test_event_pattern(json!({
            "EventPattern": r#"{"detail": {"n": [{"numeric": [">", 4]}]}}"#, "Event": event}))
        .await
        .unwrap();
        assert_eq!(out, json!({"Result": true}));
        let out = test_event_pattern(json!({
            "EventPattern": r#"{"source": ["other"]}"#, "Event": event}))
        .await
        .unwrap();
        assert_eq!(out, json!({"Result": false}));
        let err = test_event_pattern(json!({
            "EventPattern": r#"{"source": ["x"]}"#, "Event": r#"{"source": "x"}"#}))
        .await
        .unwrap_err();
        assert_eq!(err.to_string(), "Parameter Event is not valid.");
        let err = test_event_pattern(json!({"EventPattern": r#"{"source": "x"}"#, "Event": event}))
            .await
            .unwrap_err();
        assert!(matches!(err, EventsError::InvalidEventPattern(_)));
        assert!(err
            .to_string()
            .starts_with("Event pattern is not valid. Reason: "));
    }

    #[test]
    fn rule_arns_name_their_bus() {
        let ctx_free = |arn: &str| match taggable_for_test(arn) {
            Some(Taggable::Rule { bus, name }) => Some((bus.name, name)),
            _ => None,
        };
        assert_eq!(
            ctx_free("arn:aws:events:us-east-1:123456789012:rule/r1"),
            Some(("default".into(), "r1".into()))
        );
        assert_eq!(
            ctx_free("arn:aws:events:us-east-1:123456789012:rule/b/r1"),
            Some(("b".into(), "r1".into()))
        );
    }

    fn taggable_for_test(arn: &str) -> Option<Taggable> {
        taggable(arn)
    }
}

//! Event bus operations and the bus resource policy (PutPermission / RemovePermission).
//!
//! The default bus exists in every account and region without a stored row; it gets one only
//! once something about it is stored (a policy, a description), and listings add it always.

use serde_json::{json, Map, Value};

use super::repo::BusRow;
use super::{
    bus_arn, bus_exists, bus_not_found, decode_token, encode_token, seconds, string, tag_pairs,
    BusRef, Core, EventsError, Result, DEFAULT_BUS,
};
use crate::context::RequestContext;

/// Members of CreateEventBus and UpdateEventBus kept as given and answered back.
const SETTINGS: [&str; 3] = ["KmsKeyIdentifier", "DeadLetterConfig", "LogConfig"];

const PUT_EVENTS_ACTION: &str = "events:PutEvents";

fn settings_of(input: &Value) -> Value {
    let mut settings = Map::new();
    for key in SETTINGS {
        if let Some(v) = input.get(key).filter(|v| !v.is_null()) {
            settings.insert(key.to_string(), v.clone());
        }
    }
    Value::Object(settings)
}

fn add_settings(out: &mut Map<String, Value>, settings: &Value) {
    if let Some(settings) = settings.as_object() {
        for (k, v) in settings {
            out.insert(k.clone(), v.clone());
        }
    }
}

pub async fn create_event_bus(core: &Core, ctx: &RequestContext, input: Value) -> Result<Value> {
    let name = string(&input, "Name").unwrap_or_default().to_string();
    if let Some(source) = string(&input, "EventSourceName") {
        // Partner event sources are not hosted here, so none can be associated.
        return Err(EventsError::ResourceNotFound(format!(
            "Event source {source} does not exist."
        )));
    }
    if name.contains('/') {
        return Err(EventsError::Validation(
            "Event bus name must not contain '/'.".into(),
        ));
    }
    let exists = || EventsError::ResourceAlreadyExists(format!("Event bus {name} already exists."));
    if name == DEFAULT_BUS {
        return Err(exists());
    }
    let settings = settings_of(&input);
    let description = string(&input, "Description").map(str::to_string);
    let arn = bus_arn(&ctx.account_id, &ctx.region, &name);
    let row = BusRow {
        name: name.clone(),
        description: description.clone(),
        policy: None,
        settings: settings.clone(),
        created_ms: ctx.now_ms,
        modified_ms: ctx.now_ms,
    };
    let created = core
        .repo
        .create_bus(
            ctx.account_id.clone(),
            ctx.region.clone(),
            row,
            tag_pairs(&input),
            arn.clone(),
        )
        .await?;
    if !created {
        return Err(exists());
    }
    let mut out = Map::new();
    out.insert("EventBusArn".into(), json!(arn));
    if let Some(d) = description {
        out.insert("Description".into(), json!(d));
    }
    add_settings(&mut out, &settings);
    Ok(Value::Object(out))
}

/// The bus's stored row, or what the default bus is without one.
async fn load_bus(core: &Core, bus: &BusRef) -> Result<BusRow> {
    match core
        .repo
        .find_bus(&bus.account_id, &bus.region, &bus.name)
        .await?
    {
        Some(row) => Ok(row),
        None if bus.name == DEFAULT_BUS => Ok(BusRow {
            name: DEFAULT_BUS.to_string(),
            description: None,
            policy: None,
            settings: json!({}),
            created_ms: 0,
            modified_ms: 0,
        }),
        None => Err(bus_not_found(&bus.name)),
    }
}

fn describe(bus: &BusRef, row: &BusRow, with_settings: bool) -> Map<String, Value> {
    let mut out = Map::new();
    out.insert("Name".into(), json!(row.name));
    out.insert("Arn".into(), json!(bus.arn()));
    if let Some(d) = &row.description {
        out.insert("Description".into(), json!(d));
    }
    if with_settings {
        add_settings(&mut out, &row.settings);
    }
    if let Some(p) = &row.policy {
        out.insert("Policy".into(), json!(p));
    }
    // The implicit default bus has no creation time to tell.
    if row.created_ms > 0 {
        out.insert("CreationTime".into(), seconds(row.created_ms));
        out.insert("LastModifiedTime".into(), seconds(row.modified_ms));
    }
    out
}

pub async fn describe_event_bus(core: &Core, ctx: &RequestContext, input: Value) -> Result<Value> {
    let bus = BusRef::resolve(ctx, string(&input, "Name"));
    let row = load_bus(core, &bus).await?;
    Ok(Value::Object(describe(&bus, &row, true)))
}

pub async fn list_event_buses(core: &Core, ctx: &RequestContext, input: Value) -> Result<Value> {
    let prefix = string(&input, "NamePrefix").unwrap_or_default();
    let after = decode_token(string(&input, "NextToken"))?;
    let limit = input.get("Limit").and_then(Value::as_u64).unwrap_or(100) as usize;
    let mut rows = core
        .repo
        .list_buses(&ctx.account_id, &ctx.region, prefix)
        .await?;
    if DEFAULT_BUS.starts_with(prefix) && !rows.iter().any(|r| r.name == DEFAULT_BUS) {
        let default = BusRef::resolve(ctx, None);
        rows.push(load_bus(core, &default).await?);
        rows.sort_by(|a, b| a.name.cmp(&b.name));
    }
    let remaining: Vec<&BusRow> = rows.iter().filter(|r| r.name > after).collect();
    let page: Vec<Value> = remaining
        .iter()
        .take(limit)
        .map(|row| {
            let bus = BusRef {
                account_id: ctx.account_id.clone(),
                region: ctx.region.clone(),
                name: row.name.clone(),
            };
            Value::Object(describe(&bus, row, false))
        })
        .collect();
    let mut out = json!({ "EventBuses": page });
    if remaining.len() > limit {
        if let Some(last) = remaining.get(limit - 1) {
            out["NextToken"] = json!(encode_token(&last.name));
        }
    }
    Ok(out)
}

pub async fn delete_event_bus(core: &Core, ctx: &RequestContext, input: Value) -> Result<Value> {
    let name = string(&input, "Name").unwrap_or_default().to_string();
    if name == DEFAULT_BUS {
        return Err(EventsError::Validation(
            "Cannot delete event bus default.".into(),
        ));
    }
    // Deleting a bus that does not exist succeeds, as on AWS.
    core.repo
        .delete_bus(
            ctx.account_id.clone(),
            ctx.region.clone(),
            name,
            format!("arn:aws:events:{}:{}:", ctx.region, ctx.account_id),
        )
        .await?;
    Ok(json!({}))
}

pub async fn update_event_bus(core: &Core, ctx: &RequestContext, input: Value) -> Result<Value> {
    let bus = BusRef::resolve(ctx, string(&input, "Name"));
    let row = load_bus(core, &bus).await?;
    let mut settings = row.settings.as_object().cloned().unwrap_or_default();
    if let Some(given) = settings_of(&input).as_object() {
        for (k, v) in given {
            settings.insert(k.clone(), v.clone());
        }
    }
    let description = string(&input, "Description")
        .map(str::to_string)
        .or(row.description);
    let settings = Value::Object(settings);
    core.repo
        .update_bus(
            bus.account_id.clone(),
            bus.region.clone(),
            bus.name.clone(),
            description.clone(),
            settings.clone(),
            ctx.now_ms,
        )
        .await?;
    let mut out = Map::new();
    out.insert("Arn".into(), json!(bus.arn()));
    out.insert("Name".into(), json!(bus.name));
    if let Some(d) = description {
        out.insert("Description".into(), json!(d));
    }
    add_settings(&mut out, &settings);
    Ok(Value::Object(out))
}

fn parse_policy(policy: Option<&str>) -> Option<Value> {
    policy.and_then(|p| serde_json::from_str(p).ok())
}

/// One statement of the bus policy as AWS writes it for PutPermission.
fn statement(bus_arn: &str, input: &Value) -> Result<(String, Value)> {
    let action = string(input, "Action");
    let principal = string(input, "Principal");
    let sid = string(input, "StatementId");
    let (Some(action), Some(principal), Some(sid)) = (action, principal, sid) else {
        return Err(EventsError::Validation(
            "Parameter(s) Action, Principal, StatementId must be specified.".into(),
        ));
    };
    if action != PUT_EVENTS_ACTION {
        return Err(EventsError::Validation(
            "Provided value in parameter 'action' is not supported.".into(),
        ));
    }
    let principal_doc = if principal == "*" {
        json!("*")
    } else if principal.len() == 12 && principal.bytes().all(|b| b.is_ascii_digit()) {
        json!({ "AWS": format!("arn:aws:iam::{principal}:root") })
    } else {
        return Err(EventsError::Validation(format!(
            "Parameter Principal is not valid. Reason: {principal} is not a valid account ID or '*'."
        )));
    };
    let mut doc = json!({
        "Sid": sid,
        "Effect": "Allow",
        "Principal": principal_doc,
        "Action": action,
        "Resource": bus_arn,
    });
    if let Some(condition) = input.get("Condition").filter(|c| !c.is_null()) {
        let (Some(kind), Some(key), Some(value)) = (
            string(condition, "Type"),
            string(condition, "Key"),
            string(condition, "Value"),
        ) else {
            return Err(EventsError::Validation(
                "Parameter Condition is not valid.".into(),
            ));
        };
        doc["Condition"] = json!({ kind: { key: value } });
    }
    Ok((sid.to_string(), doc))
}

pub async fn put_permission(core: &Core, ctx: &RequestContext, input: Value) -> Result<Value> {
    let bus = BusRef::resolve(ctx, string(&input, "EventBusName"));
    let row = load_bus(core, &bus).await?;
    let policy = if let Some(whole) = string(&input, "Policy") {
        let doc: Value = serde_json::from_str(whole)
            .ok()
            .filter(Value::is_object)
            .ok_or_else(|| EventsError::Validation("Parameter Policy is not valid.".into()))?;
        doc
    } else {
        let (sid, new_statement) = statement(&bus.arn(), &input)?;
        let mut doc = parse_policy(row.policy.as_deref())
            .filter(Value::is_object)
            .unwrap_or_else(|| json!({ "Version": "2012-10-17", "Statement": [] }));
        let statements = doc
            .get_mut("Statement")
            .and_then(Value::as_array_mut)
            .map(std::mem::take)
            .unwrap_or_default();
        let mut kept: Vec<Value> = statements
            .into_iter()
            .filter(|s| string(s, "Sid") != Some(sid.as_str()))
            .collect();
        kept.push(new_statement);
        doc["Statement"] = Value::Array(kept);
        doc
    };
    core.repo
        .set_policy(
            bus.account_id.clone(),
            bus.region.clone(),
            bus.name.clone(),
            Some(policy.to_string()),
            ctx.now_ms,
        )
        .await?;
    Ok(json!({}))
}

pub async fn remove_permission(core: &Core, ctx: &RequestContext, input: Value) -> Result<Value> {
    let bus = BusRef::resolve(ctx, string(&input, "EventBusName"));
    if !bus_exists(core, &bus).await? {
        return Err(bus_not_found(&bus.name));
    }
    let row = load_bus(core, &bus).await?;
    let remove_all = input
        .get("RemoveAllPermissions")
        .and_then(Value::as_bool)
        .unwrap_or(false);
    let no_policy = || EventsError::ResourceNotFound("EventBus does not have a policy.".into());
    let new_policy = if remove_all {
        None
    } else {
        let Some(sid) = string(&input, "StatementId") else {
            return Err(EventsError::Validation(
                "Parameter StatementId must be specified.".into(),
            ));
        };
        let mut doc = parse_policy(row.policy.as_deref()).ok_or_else(no_policy)?;
        let statements = doc
            .get_mut("Statement")
            .and_then(Value::as_array_mut)
            .ok_or_else(no_policy)?;
        let before = statements.len();
        statements.retain(|s| string(s, "Sid") != Some(sid));
        if statements.len() == before {
            return Err(EventsError::ResourceNotFound(
                "Statement with the provided id does not exist.".into(),
            ));
        }
        if statements.is_empty() {
            None
        } else {
            Some(doc.to_string())
        }
    };
    core.repo
        .set_policy(
            bus.account_id.clone(),
            bus.region.clone(),
            bus.name.clone(),
            new_policy,
            ctx.now_ms,
        )
        .await?;
    Ok(json!({}))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statements_name_the_account_root_or_everyone() {
        let arn = "arn:aws:events:us-east-1:123456789012:event-bus/b";
        let (sid, doc) = statement(
            arn,
            &json!({"Action": "events:PutEvents", "Principal": "111111111111", "StatementId": "s1"}),
        )
        .unwrap();
        assert_eq!(sid, "s1");
        assert_eq!(
            doc,
            json!({"Sid": "s1", "Effect": "Allow",
                   "Principal": {"AWS": "arn:aws:iam::111111111111:root"},
                   "Action": "events:PutEvents", "Resource": arn})
        );
        let (_, doc) = statement(
            arn,
            &json!({"Action": "events:PutEvents", "Principal": "*", "StatementId": "org",
                    "Condition": {"Type": "StringEquals", "Key": "aws:PrincipalOrgID", "Value": "o-1"}}),
        )
        .unwrap();
        assert_eq!(doc["Principal"], json!("*"));
        assert_eq!(
            doc["Condition"],
            json!({"StringEquals": {"aws:PrincipalOrgID": "o-1"}})
        );
        let err = statement(
            arn,
            &json!({"Action": "events:PutRule", "Principal": "*", "StatementId": "x"}),
        )
        .unwrap_err();
        assert_eq!(
            err.to_string(),
            "Provided value in parameter 'action' is not supported."
        );
    }
}

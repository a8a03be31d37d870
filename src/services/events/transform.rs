//! What a target receives: the event itself, a constant `Input`, the part of the event an
//! `InputPath` selects, or an `InputTransformer` template filled from the event.
//!
//! Template placeholders follow "Amazon EventBridge input transformation": in a JSON template a
//! placeholder inside a string literal takes the value's text (escaped so the string stays
//! valid), and a placeholder in value position takes the value as JSON (strings quoted). A
//! template that is not JSON at all is plain text and takes values as text. A path that selects
//! nothing gives `null` in value position and nothing inside a string.

use serde_json::{Map, Value};

const MAX_PATHS: usize = 100;

/// Predefined placeholders; InputPathsMap may not define them.
const RULE_ARN: &str = "aws.events.rule-arn";
const RULE_NAME: &str = "aws.events.rule-name";
const INGESTION_TIME: &str = "aws.events.event.ingestion-time";
const EVENT: &str = "aws.events.event";
const EVENT_JSON: &str = "aws.events.event.json";
const PREDEFINED: [&str; 5] = [RULE_ARN, RULE_NAME, INGESTION_TIME, EVENT, EVENT_JSON];

/// Checks one target of PutTargets; the error is the ValidationException message AWS answers.
pub fn validate_target_input(target: &Value) -> Result<(), String> {
    let id = target.get("Id").and_then(Value::as_str).unwrap_or_default();
    let input = target.get("Input").and_then(Value::as_str);
    let input_path = target.get("InputPath").and_then(Value::as_str);
    let transformer = target.get("InputTransformer").filter(|t| !t.is_null());
    let given = [input.is_some(), input_path.is_some(), transformer.is_some()];
    if given.iter().filter(|g| **g).count() > 1 {
        return Err(format!(
            "Only one of Input, InputPath, or InputTransformer must be provided for target {id}."
        ));
    }
    if let Some(input) = input {
        if serde_json::from_str::<Value>(input).is_err() {
            return Err(format!("Input for target {id} is not a valid JSON text."));
        }
    }
    if let Some(path) = input_path {
        if JsonPath::parse(path).is_none() {
            return Err(format!(
                "InputPath for target {id} is not a valid JsonPath."
            ));
        }
    }
    if let Some(transformer) = transformer {
        validate_transformer(id, transformer)?;
    }
    Ok(())
}

fn validate_transformer(id: &str, transformer: &Value) -> Result<(), String> {
    let empty = Map::new();
    let paths = transformer
        .get("InputPathsMap")
        .and_then(Value::as_object)
        .unwrap_or(&empty);
    if paths.len() > MAX_PATHS {
        return Err(format!(
            "InputPathsMap for target {id} has more than {MAX_PATHS} entries."
        ));
    }
    for (key, path) in paths {
        if PREDEFINED.contains(&key.as_str()) {
            return Err(format!(
                "InputTransformer for target {id} contains reserved key {key}."
            ));
        }
        let valid_key = !key.is_empty()
            && key.len() <= 256
            && key
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-');
        if !valid_key {
            return Err(format!(
                "InputPathsMap for target {id} contains invalid key {key}."
            ));
        }
        let path = path.as_str().unwrap_or_default();
        if JsonPath::parse(path).is_none() {
            return Err(format!(
                "InputPathsMap for target {id} contains invalid JsonPath {path}."
            ));
        }
    }
    let template = transformer
        .get("InputTemplate")
        .and_then(Value::as_str)
        .unwrap_or_default();
    for placeholder in placeholders(template) {
        if !paths.contains_key(placeholder) && !PREDEFINED.contains(&placeholder) {
            return Err(format!(
                "InputTemplate for target {id} contains invalid placeholder {placeholder}."
            ));
        }
    }
    // A template that opens like JSON must be JSON once its placeholders are filled.
    let trimmed = template.trim_start();
    if trimmed.starts_with('{') || trimmed.starts_with('[') {
        let probe = fill(template, |_, quoted| {
            Some(if quoted { String::new() } else { "null".into() })
        });
        if let Err(e) = serde_json::from_str::<Value>(&probe) {
            return Err(format!("Invalid InputTemplate for target {id} : {e}."));
        }
    }
    Ok(())
}

/// What the target receives for `event`, without rule context (predefined rule variables are
/// empty).
pub fn render_target_input(target: &Value, event: &Value) -> Result<String, String> {
    render_target_input_for_rule(target, event, "", "", 0)
}

/// What the target of rule `rule_arn` receives for `event`, accepted at `ingestion_time_ms`.
pub fn render_target_input_for_rule(
    target: &Value,
    event: &Value,
    rule_arn: &str,
    rule_name: &str,
    ingestion_time_ms: i64,
) -> Result<String, String> {
    if let Some(input) = target.get("Input").and_then(Value::as_str) {
        return Ok(input.to_string());
    }
    if let Some(path) = target.get("InputPath").and_then(Value::as_str) {
        let path = JsonPath::parse(path).ok_or_else(|| format!("Invalid InputPath {path}."))?;
        return Ok(path.select(event).unwrap_or(Value::Null).to_string());
    }
    let Some(transformer) = target.get("InputTransformer").filter(|t| !t.is_null()) else {
        return Ok(event.to_string());
    };
    let template = transformer
        .get("InputTemplate")
        .and_then(Value::as_str)
        .unwrap_or_default();
    let mut values: Map<String, Value> = Map::new();
    if let Some(paths) = transformer.get("InputPathsMap").and_then(Value::as_object) {
        for (key, path) in paths {
            let path = path.as_str().unwrap_or_default();
            let path = JsonPath::parse(path).ok_or_else(|| format!("Invalid JsonPath {path}."))?;
            if let Some(value) = path.select(event) {
                values.insert(key.clone(), value);
            }
        }
    }
    values.insert(RULE_ARN.into(), Value::String(rule_arn.into()));
    values.insert(RULE_NAME.into(), Value::String(rule_name.into()));
    values.insert(
        INGESTION_TIME.into(),
        Value::String(iso8601(ingestion_time_ms)),
    );
    let probe = fill(template, |_, quoted| {
        Some(if quoted { String::new() } else { "null".into() })
    });
    let json_template = serde_json::from_str::<Value>(&probe).is_ok();
    Ok(fill(template, |name, quoted| {
        // The whole event is inserted as JSON even inside quotes: AWS does not escape it.
        match name {
            EVENT => return Some(event_without_detail(event).to_string()),
            EVENT_JSON => return Some(event.to_string()),
            _ => {}
        }
        let value = values.get(name);
        Some(match (value, json_template && !quoted) {
            (None, true) => "null".to_string(),
            (None, false) => String::new(),
            (Some(v), true) => v.to_string(),
            (Some(Value::String(s)), false) if json_template => escape_in_string(s),
            (Some(Value::String(s)), false) => s.clone(),
            (Some(v), false) if json_template => escape_in_string(&v.to_string()),
            (Some(v), false) => v.to_string(),
        })
    }))
}

/// `aws.events.event`: the original event without its `detail` field.
fn event_without_detail(event: &Value) -> Value {
    let mut out = Map::new();
    if let Some(fields) = event.as_object() {
        for (k, v) in fields {
            if k != "detail" {
                out.insert(k.clone(), v.clone());
            }
        }
    }
    Value::Object(out)
}

fn escape_in_string(text: &str) -> String {
    let quoted = Value::String(text.to_string()).to_string();
    quoted[1..quoted.len() - 1].to_string()
}

fn iso8601(ms: i64) -> String {
    chrono::DateTime::from_timestamp_millis(ms)
        .map(|t| t.format("%Y-%m-%dT%H:%M:%S%.3fZ").to_string())
        .unwrap_or_default()
}

fn is_placeholder_name(name: &str) -> bool {
    !name.is_empty()
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'.'))
}

/// The placeholder names a template uses, in order.
fn placeholders(template: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let mut rest = template;
    while let Some(open) = rest.find('<') {
        let after = &rest[open + 1..];
        match after.find('>') {
            Some(close) if is_placeholder_name(&after[..close]) => {
                out.push(&after[..close]);
                rest = &after[close + 1..];
            }
            _ => rest = after,
        }
    }
    out
}

/// Replaces each `<name>` by `replace(name, inside_a_json_string)`; text that is not a
/// placeholder is kept. String-literal tracking follows `"` and backslash escapes.
fn fill(template: &str, replace: impl Fn(&str, bool) -> Option<String>) -> String {
    let mut out = String::with_capacity(template.len());
    let mut in_string = false;
    let mut escaped = false;
    let mut chars = template.char_indices().peekable();
    while let Some((i, c)) = chars.next() {
        if c == '<' {
            let after = &template[i + 1..];
            if let Some(close) = after.find('>') {
                let name = &after[..close];
                if is_placeholder_name(name) {
                    if let Some(text) = replace(name, in_string) {
                        out.push_str(&text);
                        while chars.peek().is_some_and(|(j, _)| *j <= i + 1 + close) {
                            chars.next();
                        }
                        escaped = false;
                        continue;
                    }
                }
            }
        }
        if in_string {
            if escaped {
                escaped = false;
            } else if c == '\\' {
                escaped = true;
            } else if c == '"' {
                in_string = false;
            }
        } else if c == '"' {
            in_string = true;
        }
        out.push(c);
    }
    out
}

/// The JsonPath subset EventBridge evaluates: `$`, `.name`, `['name']`, `[n]`, `[*]`, `.*`.
#[derive(Debug, Clone, PartialEq)]
struct JsonPath(Vec<Step>);

#[derive(Debug, Clone, PartialEq)]
enum Step {
    Field(String),
    Index(usize),
    Wildcard,
}

impl JsonPath {
    fn parse(path: &str) -> Option<JsonPath> {
        let mut rest = path.strip_prefix('$')?;
        let mut steps = Vec::new();
        while !rest.is_empty() {
            if let Some(after) = rest.strip_prefix('.') {
                let end = after.find(['.', '[']).unwrap_or(after.len());
                let name = &after[..end];
                if name.is_empty() || name.chars().any(|c| c.is_whitespace() || c == ']') {
                    return None;
                }
                steps.push(if name == "*" {
                    Step::Wildcard
                } else {
                    Step::Field(name.to_string())
                });
                rest = &after[end..];
            } else if let Some(after) = rest.strip_prefix('[') {
                let close = after.find(']')?;
                let inner = &after[..close];
                steps.push(if inner == "*" {
                    Step::Wildcard
                } else if let Some(name) = inner
                    .strip_prefix('\'')
                    .and_then(|n| n.strip_suffix('\''))
                    .or_else(|| inner.strip_prefix('"').and_then(|n| n.strip_suffix('"')))
                {
                    Step::Field(name.to_string())
                } else if !inner.is_empty() && inner.bytes().all(|b| b.is_ascii_digit()) {
                    Step::Index(inner.parse().ok()?)
                } else {
                    return None;
                });
                rest = &after[close + 1..];
            } else {
                return None;
            }
        }
        Some(JsonPath(steps))
    }

    /// The selected value; with a wildcard, the array of everything selected.
    fn select(&self, root: &Value) -> Option<Value> {
        let mut current = vec![root];
        let mut multiple = false;
        for step in &self.0 {
            current = current
                .into_iter()
                .flat_map(|v| -> Vec<&Value> {
                    match (step, v) {
                        (Step::Field(name), Value::Object(m)) => m.get(name).into_iter().collect(),
                        (Step::Index(i), Value::Array(a)) => a.get(*i).into_iter().collect(),
                        (Step::Wildcard, Value::Array(a)) => a.iter().collect(),
                        (Step::Wildcard, Value::Object(m)) => m.values().collect(),
                        _ => Vec::new(),
                    }
                })
                .collect();
            multiple |= *step == Step::Wildcard;
        }
        if multiple {
            return Some(Value::Array(current.into_iter().cloned().collect()));
        }
        current.first().map(|v| (*v).clone())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn ec2_event() -> Value {
        json!({
            "version": "0",
            "id": "7bf73129-1428-4cd3-a780-95db273d1602",
            "detail-type": "EC2 Instance State-change Notification",
            "source": "aws.ec2",
            "account": "123456789012",
            "time": "2015-11-11T21:29:54Z",
            "region": "us-east-1",
            "resources": ["arn:aws:ec2:us-east-1:123456789012:instance/i-abcd1111"],
            "detail": {"instance-id": "i-0123456789", "state": "RUNNING"}
        })
    }

    fn transformer(template: &str) -> Value {
        json!({
            "Id": "t1",
            "Arn": "arn:aws:sqs:us-east-1:123456789012:q",
            "InputTransformer": {
                "InputPathsMap": {"instance": "$.detail.instance-id", "state": "$.detail.state"},
                "InputTemplate": template
            }
        })
    }

    fn render(template: &str) -> String {
        let target = transformer(template);
        validate_target_input(&target).unwrap();
        render_target_input(&target, &ec2_event()).unwrap()
    }

    #[test]
    fn documented_string_templates() {
        assert_eq!(
            render("\"<instance> is in state <state>\""),
            "\"i-0123456789 is in state RUNNING\""
        );
        assert_eq!(
            render("\"<instance> is in state \\\"<state>\\\"\""),
            "\"i-0123456789 is in state \\\"RUNNING\\\"\""
        );
    }

    #[test]
    fn documented_json_templates() {
        assert_eq!(
            render("{\"instance\" : <instance>, \"state\": <state>}"),
            "{\"instance\" : \"i-0123456789\", \"state\": \"RUNNING\"}"
        );
        assert_eq!(
            render("{\"instance\" : <instance>, \"state\": [ 9, <state>, true ], \"Transformed\" : \"Yes\" }"),
            "{\"instance\" : \"i-0123456789\", \"state\": [ 9, \"RUNNING\", true ], \"Transformed\" : \"Yes\" }"
        );
        assert_eq!(
            render("{\"message\": \"instance <instance> is in <state>\"}"),
            "{\"message\": \"instance i-0123456789 is in RUNNING\"}"
        );
    }

    #[test]
    fn plain_text_templates_take_text() {
        assert_eq!(
            render("Instance <instance> is <state>"),
            "Instance i-0123456789 is RUNNING"
        );
    }

    #[test]
    fn objects_and_missing_paths() {
        let target = json!({
            "Id": "t",
            "Arn": "a",
            "InputTransformer": {
                "InputPathsMap": {"detail": "$.detail", "gone": "$.detail.nope", "res": "$.resources[0]"},
                "InputTemplate": "{\"d\": <detail>, \"g\": <gone>, \"s\": \"[<gone>]\", \"r\": <res>}"
            }
        });
        validate_target_input(&target).unwrap();
        let out: Value =
            serde_json::from_str(&render_target_input(&target, &ec2_event()).unwrap()).unwrap();
        assert_eq!(
            out,
            json!({
                "d": {"instance-id": "i-0123456789", "state": "RUNNING"},
                "g": null,
                "s": "[]",
                "r": "arn:aws:ec2:us-east-1:123456789012:instance/i-abcd1111"
            })
        );
    }

    #[test]
    fn predefined_variables() {
        let target = json!({
            "Id": "t",
            "Arn": "a",
            "InputTransformer": {
                "InputTemplate": "{\"rule\": \"<aws.events.rule-name>\", \"arn\": <aws.events.rule-arn>, \"at\": \"<aws.events.event.ingestion-time>\", \"e\": <aws.events.event>, \"full\": <aws.events.event.json>}"
            }
        });
        validate_target_input(&target).unwrap();
        let rendered = render_target_input_for_rule(
            &target,
            &ec2_event(),
            "arn:aws:events:us-east-1:123456789012:rule/r1",
            "r1",
            1_447_277_394_000,
        )
        .unwrap();
        let out: Value = serde_json::from_str(&rendered).unwrap();
        assert_eq!(out["rule"], "r1");
        assert_eq!(out["arn"], "arn:aws:events:us-east-1:123456789012:rule/r1");
        assert_eq!(out["at"], "2015-11-11T21:29:54.000Z");
        assert_eq!(
            out["e"]["detail-type"],
            "EC2 Instance State-change Notification"
        );
        assert_eq!(out["e"].get("detail"), None);
        assert_eq!(out["full"], ec2_event());
    }

    #[test]
    fn input_and_input_path() {
        let event = json!({"detail": {"items": [{"n": 1}, {"n": 2}]}});
        let constant = json!({"Id": "t", "Arn": "a", "Input": "{\"x\": 1}"});
        assert_eq!(
            render_target_input(&constant, &event).unwrap(),
            "{\"x\": 1}"
        );
        let path = |p: &str| json!({"Id": "t", "Arn": "a", "InputPath": p});
        assert_eq!(
            render_target_input(&path("$.detail.items[0]"), &event).unwrap(),
            "{\"n\":1}"
        );
        assert_eq!(
            render_target_input(&path("$.detail.items[*].n"), &event).unwrap(),
            "[1,2]"
        );
        assert_eq!(
            render_target_input(&path("$"), &event).unwrap(),
            event.to_string()
        );
        let plain = json!({"Id": "t", "Arn": "a"});
        assert_eq!(
            render_target_input(&plain, &event).unwrap(),
            event.to_string()
        );
    }

    #[test]
    fn validation_errors() {
        let both = json!({"Id": "t", "Arn": "a", "Input": "{}", "InputPath": "$"});
        assert_eq!(
            validate_target_input(&both).unwrap_err(),
            "Only one of Input, InputPath, or InputTransformer must be provided for target t."
        );
        let bad_json = json!({"Id": "t", "Arn": "a", "Input": "{nope"});
        assert_eq!(
            validate_target_input(&bad_json).unwrap_err(),
            "Input for target t is not a valid JSON text."
        );
        let bad_path = json!({"Id": "t", "Arn": "a", "InputPath": "detail"});
        assert!(validate_target_input(&bad_path).is_err());
        let bad_placeholder = transformer("{\"a\": <nope>}");
        assert_eq!(
            validate_target_input(&bad_placeholder).unwrap_err(),
            "InputTemplate for target t1 contains invalid placeholder nope."
        );
        let reserved = json!({"Id": "t", "Arn": "a", "InputTransformer": {
            "InputPathsMap": {"aws.events.rule-arn": "$.x"}, "InputTemplate": "\"x\""}});
        assert_eq!(
            validate_target_input(&reserved).unwrap_err(),
            "InputTransformer for target t contains reserved key aws.events.rule-arn."
        );
        let bad_key = json!({"Id": "t", "Arn": "a", "InputTransformer": {
            "InputPathsMap": {"a b": "$.x"}, "InputTemplate": "\"x\""}});
        assert!(validate_target_input(&bad_key).is_err());
        let too_many: Map<String, Value> = (0..101)
            .map(|i| (format!("k{i}"), Value::String("$.x".into())))
            .collect();
        let many = json!({"Id": "t", "Arn": "a", "InputTransformer": {
            "InputPathsMap": too_many, "InputTemplate": "\"x\""}});
        assert!(validate_target_input(&many).is_err());
        let broken = transformer("{\"a\": <instance>");
        assert!(validate_target_input(&broken)
            .unwrap_err()
            .starts_with("Invalid InputTemplate for target t1 : "));
    }
}

//! Field discovery in JSON log events.
//!
//! AWS flattens JSON events into fields named with dots (`userIdentity.type`),
//! numbers arrays by position (`requestParameters.instancesSet.items.0.instanceId`),
//! extracts at most 200 fields per event, and shows a field whose name starts
//! with `@` with one more `@` in front. Only the fields a query names are kept,
//! so events are never copied whole, and the JSON is parsed only when the query
//! first asks for such a field.

use std::collections::HashMap;

/// How many fields AWS extracts from one JSON event.
pub(super) const MAX_DISCOVERED_FIELDS: usize = 200;

/// Fills `found[i]` with the text of the field `wanted` maps to `i`.
///
/// Only events whose text is a JSON object are discovered; anything else yields
/// no fields. JSON `null` counts as absent. Leaves are counted in document order
/// toward the 200-field cap.
pub(super) fn discover_json_fields(
    message: &str,
    wanted: &HashMap<String, usize>,
) -> Vec<Option<String>> {
    let mut found = vec![None; wanted.len()];
    if wanted.is_empty() || !message.trim_start().starts_with('{') {
        return found;
    }
    let Ok(serde_json::Value::Object(root)) = serde_json::from_str::<serde_json::Value>(message)
    else {
        return found;
    };
    let mut walker = Walker {
        wanted,
        found: &mut found,
        remaining: MAX_DISCOVERED_FIELDS,
        path: String::new(),
    };
    for (key, value) in &root {
        if walker.remaining == 0 {
            break;
        }
        if key.starts_with('@') {
            walker.path.push('@');
        }
        walker.path.push_str(key);
        walker.walk(value);
        walker.path.clear();
    }
    found
}

struct Walker<'a> {
    wanted: &'a HashMap<String, usize>,
    found: &'a mut Vec<Option<String>>,
    remaining: usize,
    path: String,
}

impl Walker<'_> {
    /// Recursion is bounded by serde_json's own nesting limit of 128.
    fn walk(&mut self, value: &serde_json::Value) {
        match value {
            serde_json::Value::Null => {}
            serde_json::Value::Object(members) => {
                for (key, member) in members {
                    self.descend(key, member);
                }
            }
            serde_json::Value::Array(items) => {
                for (position, item) in items.iter().enumerate() {
                    self.descend(&position.to_string(), item);
                }
            }
            serde_json::Value::String(text) => self.leaf(|| text.clone()),
            serde_json::Value::Number(number) => self.leaf(|| number.to_string()),
            serde_json::Value::Bool(flag) => self.leaf(|| flag.to_string()),
        }
    }

    fn descend(&mut self, key: &str, value: &serde_json::Value) {
        if self.remaining == 0 {
            return;
        }
        let parent_length = self.path.len();
        self.path.push('.');
        self.path.push_str(key);
        self.walk(value);
        self.path.truncate(parent_length);
    }

    fn leaf(&mut self, text: impl FnOnce() -> String) {
        if self.remaining == 0 {
            return;
        }
        self.remaining -= 1;
        if let Some(index) = self.wanted.get(self.path.as_str()) {
            if let Some(slot) = self.found.get_mut(*index) {
                *slot = Some(text());
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The CloudTrail event from the "Fields in JSON logs" section of the AWS guide.
    const CLOUDTRAIL_EVENT: &str = r#"{ "eventVersion": "1.0",
    "userIdentity": {
        "type": "IAMUser",
        "principalId": "EX_PRINCIPAL_ID",
        "arn": "arn: aws: iam: : 123456789012: user/Alice",
        "accessKeyId": "EXAMPLE_KEY_ID",
        "accountId": "123456789012",
        "userName": "Alice"
    },
    "eventTime": "2014-03-06T21: 22: 54Z",
    "eventSource": "ec2.amazonaws.com",
    "eventName": "StartInstances",
    "awsRegion": "us-east-2",
    "sourceIPAddress": "205.251.233.176",
    "userAgent": "ec2-api-tools1.6.12.2",
    "requestParameters": {
        "instancesSet": {
            "items": [
                {
                    "instanceId": "i-abcde123"
                }
            ]
        }
    },
    "responseElements": {
        "instancesSet": {
            "items": [
                {
                    "instanceId": "i-abcde123",
                    "currentState": {
                        "code": 0,
                        "name": "pending"
                    },
                    "previousState": {
                        "code": 80,
                        "name": "stopped"
                    }
                }
            ]
        }
    }}"#;

    fn lookup(message: &str, names: &[&str]) -> Vec<Option<String>> {
        let wanted: HashMap<String, usize> = names
            .iter()
            .enumerate()
            .map(|(i, n)| ((*n).to_owned(), i))
            .collect();
        discover_json_fields(message, &wanted)
    }

    #[test]
    fn documented_cloudtrail_fields_are_discovered() {
        let found = lookup(
            CLOUDTRAIL_EVENT,
            &[
                "userIdentity.type",
                "requestParameters.instancesSet.items.0.instanceId",
                "responseElements.instancesSet.items.0.previousState.code",
                "eventName",
                "userIdentity",
                "nosuch",
            ],
        );
        assert_eq!(
            found,
            vec![
                Some("IAMUser".to_owned()),
                Some("i-abcde123".to_owned()),
                Some("80".to_owned()),
                Some("StartInstances".to_owned()),
                // _NEG: objects themselves and unknown names are not fields.
                None,
                None,
            ]
        );
    }

    #[test]
    fn at_sign_names_get_an_extra_at_sign() {
        let message = r#"{"@example.com": "x", "flag": true, "gone": null}"#;
        let found = lookup(message, &["@@example.com", "@example.com", "flag", "gone"]);
        assert_eq!(
            found,
            vec![Some("x".to_owned()), None, Some("true".to_owned()), None]
        );
    }

    #[test]
    fn at_most_200_fields_are_extracted() {
        let members: Vec<String> = (0..250).map(|i| format!("\"f{i}\": {i}")).collect();
        let message = format!("{{{}}}", members.join(", "));
        let found = lookup(&message, &["f0", "f199", "f200", "f249"]);
        assert_eq!(
            found,
            vec![Some("0".to_owned()), Some("199".to_owned()), None, None]
        );
    }

    #[test]
    fn non_json_and_broken_json_yield_nothing() {
        for message in ["plain text", "[1, 2]", "{\"unterminated\": ", ""] {
            assert_eq!(lookup(message, &["unterminated"]), vec![None], "{message}");
        }
        let deep = format!("{}1{}", "{\"a\":".repeat(500), "}".repeat(500));
        assert_eq!(lookup(&deep, &["a"]), vec![None]);
    }
}

//! Field discovery in log events.
//!
//! AWS flattens JSON events into fields named with dots (`userIdentity.type`),
//! numbers arrays by position (`requestParameters.instancesSet.items.0.instanceId`),
//! extracts at most 200 fields per event, and shows a field whose name starts
//! with `@` with one more `@` in front. It also names the columns of VPC flow
//! log records in the default format (`srcAddr`, `packets`, ...). Only the fields
//! a query names are kept, so events are never copied whole, and an event is
//! examined only when the query first asks for such a field.

use std::collections::HashMap;

/// How many fields AWS extracts from one JSON event.
pub(super) const MAX_DISCOVERED_FIELDS: usize = 200;

/// The fields of a VPC flow log record in the default (version 2) format, named
/// as the AWS "Supported logs and discovered fields" table names them.
const FLOW_LOG_FIELDS: [&str; 14] = [
    "version",
    "accountId",
    "interfaceId",
    "srcAddr",
    "dstAddr",
    "srcPort",
    "dstPort",
    "protocol",
    "packets",
    "bytes",
    "startTime",
    "endTime",
    "action",
    "logStatus",
];

/// Returns, for each name `wanted` maps to position `i`, the event's value of
/// that field at `i`.
///
/// JSON objects and default-format VPC flow log records are discovered; other
/// text yields no fields.
pub(super) fn discover_fields(
    message: &str,
    wanted: &HashMap<String, usize>,
) -> Vec<Option<String>> {
    let mut found = vec![None; wanted.len()];
    if wanted.is_empty() {
        return found;
    }
    if message.trim_start().starts_with('{') {
        discover_json(message, wanted, &mut found);
    } else {
        discover_flow_log(message, wanted, &mut found);
    }
    found
}

/// Recognizes a flow log record by its shape: 14 space-separated values, version
/// 2, an action and a log status from the documented sets.
fn discover_flow_log(message: &str, wanted: &HashMap<String, usize>, found: &mut [Option<String>]) {
    let values: Vec<&str> = message.split_ascii_whitespace().take(15).collect();
    let is_flow_log = values.len() == FLOW_LOG_FIELDS.len()
        && values.first() == Some(&"2")
        && values
            .get(12)
            .is_some_and(|action| matches!(*action, "ACCEPT" | "REJECT" | "-"))
        && values
            .get(13)
            .is_some_and(|status| matches!(*status, "OK" | "NODATA" | "SKIPDATA"));
    if !is_flow_log {
        return;
    }
    for (name, value) in FLOW_LOG_FIELDS.iter().zip(values) {
        if let Some(slot) = wanted.get(*name).and_then(|index| found.get_mut(*index)) {
            *slot = Some(value.to_owned());
        }
    }
}

/// JSON `null` counts as absent. Leaves are counted in document order toward
/// the 200-field cap.
fn discover_json(message: &str, wanted: &HashMap<String, usize>, found: &mut [Option<String>]) {
    let Ok(Json::Object(root)) = serde_json::from_str::<Json>(message) else {
        return;
    };
    let mut walker = Walker {
        wanted,
        found,
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
}

/// A JSON value that keeps object members in document order (the 200-field cap counts them
/// in that order); leaves are kept as the text Insights shows.
enum Json {
    Null,
    Leaf(String),
    Array(Vec<Json>),
    Object(Vec<(String, Json)>),
}

impl<'de> serde::Deserialize<'de> for Json {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct JsonVisitor;
        impl<'de> serde::de::Visitor<'de> for JsonVisitor {
            type Value = Json;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("any JSON value")
            }
            fn visit_unit<E>(self) -> Result<Json, E> {
                Ok(Json::Null)
            }
            fn visit_none<E>(self) -> Result<Json, E> {
                Ok(Json::Null)
            }
            fn visit_bool<E>(self, v: bool) -> Result<Json, E> {
                Ok(Json::Leaf(v.to_string()))
            }
            fn visit_i64<E>(self, v: i64) -> Result<Json, E> {
                Ok(Json::Leaf(v.to_string()))
            }
            fn visit_u64<E>(self, v: u64) -> Result<Json, E> {
                Ok(Json::Leaf(v.to_string()))
            }
            fn visit_f64<E>(self, v: f64) -> Result<Json, E> {
                Ok(Json::Leaf(
                    serde_json::Number::from_f64(v)
                        .map_or_else(|| v.to_string(), |n| n.to_string()),
                ))
            }
            fn visit_str<E>(self, v: &str) -> Result<Json, E> {
                Ok(Json::Leaf(v.to_string()))
            }
            fn visit_string<E>(self, v: String) -> Result<Json, E> {
                Ok(Json::Leaf(v))
            }
            fn visit_seq<A: serde::de::SeqAccess<'de>>(self, mut seq: A) -> Result<Json, A::Error> {
                let mut items = Vec::new();
                while let Some(item) = seq.next_element()? {
                    items.push(item);
                }
                Ok(Json::Array(items))
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(self, mut map: A) -> Result<Json, A::Error> {
                let mut members = Vec::new();
                while let Some(entry) = map.next_entry()? {
                    members.push(entry);
                }
                Ok(Json::Object(members))
            }
        }
        deserializer.deserialize_any(JsonVisitor)
    }
}

struct Walker<'a> {
    wanted: &'a HashMap<String, usize>,
    found: &'a mut [Option<String>],
    remaining: usize,
    path: String,
}

impl Walker<'_> {
    /// Recursion is bounded by serde_json's own nesting limit of 128.
    fn walk(&mut self, value: &Json) {
        match value {
            Json::Null => {}
            Json::Object(members) => {
                for (key, member) in members {
                    self.descend(key, member);
                }
            }
            Json::Array(items) => {
                for (position, item) in items.iter().enumerate() {
                    self.descend(&position.to_string(), item);
                }
            }
            Json::Leaf(text) => self.leaf(|| text.clone()),
        }
    }

    fn descend(&mut self, key: &str, value: &Json) {
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
        discover_fields(message, &wanted)
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

#[cfg(test)]
mod flow_log_tests {
    use super::*;

    fn lookup(message: &str, names: &[&str]) -> Vec<Option<String>> {
        let wanted: HashMap<String, usize> = names
            .iter()
            .enumerate()
            .map(|(i, n)| ((*n).to_owned(), i))
            .collect();
        discover_fields(message, &wanted)
    }

    /// Records in the default format, as shown in the VPC flow log documentation.
    #[test]
    fn default_format_flow_log_records_are_discovered() {
        let accepted = "2 123456789010 eni-1235b8ca123456789 172.31.16.139 172.31.16.21 20641 22 6 20 4249 1418530010 1418530070 ACCEPT OK";
        assert_eq!(
            lookup(
                accepted,
                &[
                    "srcAddr",
                    "dstPort",
                    "packets",
                    "bytes",
                    "action",
                    "logStatus",
                    "startTime"
                ]
            ),
            [
                "172.31.16.139",
                "22",
                "20",
                "4249",
                "ACCEPT",
                "OK",
                "1418530010"
            ]
            .map(|v| Some(v.to_owned()))
            .to_vec()
        );
        let no_data =
            "2 123456789010 eni-1235b8ca123456789 - - - - - - - 1431280876 1431280934 - NODATA";
        assert_eq!(
            lookup(no_data, &["logStatus", "srcAddr"]),
            vec![Some("NODATA".to_owned()), Some("-".to_owned())]
        );
        // _NEG: other versions, lengths and statuses are ordinary text.
        for message in [
            "3 123456789010 eni-1 a b 1 2 6 20 4249 1 2 ACCEPT OK",
            "2 123456789010 eni-1 a b 1 2 6 20 4249 1 2 ACCEPT OK extra",
            "2 123456789010 eni-1 a b 1 2 6 20 4249 1 2 ALLOW OK",
        ] {
            assert_eq!(lookup(message, &["srcAddr"]), vec![None], "{message}");
        }
    }
}

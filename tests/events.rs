//! EventBridge through the AWS SDK for Rust: buses and permissions, rules and targets, PutEvents
//! and its per-entry errors, delivery to log groups and recorded targets, schedules,
//! TestEventPattern.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::sync::Arc;
use std::time::Duration;

use aws_sdk_eventbridge::error::ProvideErrorMetadata;
use aws_sdk_eventbridge::types::{InputTransformer, PutEventsRequestEntry, RetryPolicy, Target};
use aws_sdk_eventbridge::Client;
use common::TestServer;
use serde_json::{json, Value};

const ACCOUNT: &str = "000000000000";
const REGION: &str = "us-east-1";

async fn client(server: &TestServer) -> Client {
    Client::new(&server.sdk_config("test", "test").await)
}

fn entry(source: &str, detail_type: &str, detail: &str) -> PutEventsRequestEntry {
    PutEventsRequestEntry::builder()
        .source(source)
        .detail_type(detail_type)
        .detail(detail)
        .build()
}

fn target(id: &str, arn: &str) -> Target {
    Target::builder().id(id).arn(arn).build().unwrap()
}

async fn deliveries(server: &TestServer, target: &str) -> Vec<Value> {
    let url = format!(
        "{}/_watchtrail/deliveries?target={}",
        server.endpoint(),
        percent(target)
    );
    let body: Value = reqwest::get(url).await.unwrap().json().await.unwrap();
    body["deliveries"].as_array().cloned().unwrap_or_default()
}

fn percent(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// Polls `f` until it answers `Some`, for at most five seconds.
async fn eventually<T, F, Fut>(mut f: F) -> T
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Option<T>>,
{
    for _ in 0..100 {
        if let Some(v) = f().await {
            return v;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("condition not met within five seconds");
}

#[tokio::test]
async fn buses_and_their_permission_policy() {
    let server = TestServer::start().await;
    let eb = client(&server).await;

    let arn = eb
        .create_event_bus()
        .name("orders")
        .description("order events")
        .send()
        .await
        .unwrap()
        .event_bus_arn
        .unwrap();
    assert_eq!(
        arn,
        format!("arn:aws:events:{REGION}:{ACCOUNT}:event-bus/orders")
    );
    let err = eb
        .create_event_bus()
        .name("orders")
        .send()
        .await
        .unwrap_err();
    assert_eq!(err.code(), Some("ResourceAlreadyExistsException"));
    assert_eq!(err.message(), Some("Event bus orders already exists."));
    let err = eb
        .create_event_bus()
        .name("default")
        .send()
        .await
        .unwrap_err();
    assert_eq!(err.code(), Some("ResourceAlreadyExistsException"));
    let err = eb.create_event_bus().name("a/b").send().await.unwrap_err();
    assert_eq!(err.message(), Some("Event bus name must not contain '/'."));
    eb.create_event_bus().name("payments").send().await.unwrap();

    let default = eb.describe_event_bus().send().await.unwrap();
    assert_eq!(default.name(), Some("default"));
    assert_eq!(
        default.arn(),
        Some(format!("arn:aws:events:{REGION}:{ACCOUNT}:event-bus/default").as_str())
    );
    assert_eq!(default.policy(), None);
    let by_arn = eb.describe_event_bus().name(&arn).send().await.unwrap();
    assert_eq!(by_arn.name(), Some("orders"));
    assert_eq!(by_arn.description(), Some("order events"));

    // Sorted by name, the default bus included; pages of one.
    let page = eb.list_event_buses().limit(2).send().await.unwrap();
    let names: Vec<_> = page.event_buses().iter().filter_map(|b| b.name()).collect();
    assert_eq!(names, ["default", "orders"]);
    let rest = eb
        .list_event_buses()
        .next_token(page.next_token().unwrap())
        .send()
        .await
        .unwrap();
    let names: Vec<_> = rest.event_buses().iter().filter_map(|b| b.name()).collect();
    assert_eq!(names, ["payments"]);
    assert_eq!(rest.next_token(), None);
    let prefixed = eb
        .list_event_buses()
        .name_prefix("pay")
        .send()
        .await
        .unwrap();
    assert_eq!(prefixed.event_buses().len(), 1);

    eb.put_permission()
        .event_bus_name("orders")
        .action("events:PutEvents")
        .principal("111111111111")
        .statement_id("acct1")
        .send()
        .await
        .unwrap();
    eb.put_permission()
        .event_bus_name("orders")
        .action("events:PutEvents")
        .principal("*")
        .statement_id("everyone")
        .send()
        .await
        .unwrap();
    let policy: Value = serde_json::from_str(
        eb.describe_event_bus()
            .name("orders")
            .send()
            .await
            .unwrap()
            .policy()
            .unwrap(),
    )
    .unwrap();
    assert_eq!(
        policy,
        json!({"Version": "2012-10-17", "Statement": [
            {"Sid": "acct1", "Effect": "Allow",
             "Principal": {"AWS": "arn:aws:iam::111111111111:root"},
             "Action": "events:PutEvents", "Resource": arn},
            {"Sid": "everyone", "Effect": "Allow", "Principal": "*",
             "Action": "events:PutEvents", "Resource": arn}]})
    );
    let err = eb
        .put_permission()
        .event_bus_name("orders")
        .action("events:PutRule")
        .principal("*")
        .statement_id("x")
        .send()
        .await
        .unwrap_err();
    assert_eq!(
        err.message(),
        Some("Provided value in parameter 'action' is not supported.")
    );
    eb.remove_permission()
        .event_bus_name("orders")
        .statement_id("acct1")
        .send()
        .await
        .unwrap();
    let err = eb
        .remove_permission()
        .event_bus_name("orders")
        .statement_id("acct1")
        .send()
        .await
        .unwrap_err();
    assert_eq!(err.code(), Some("ResourceNotFoundException"));
    assert_eq!(
        err.message(),
        Some("Statement with the provided id does not exist.")
    );
    let policy: Value = serde_json::from_str(
        eb.describe_event_bus()
            .name("orders")
            .send()
            .await
            .unwrap()
            .policy()
            .unwrap(),
    )
    .unwrap();
    assert_eq!(policy["Statement"].as_array().unwrap().len(), 1);
    eb.remove_permission()
        .event_bus_name("orders")
        .remove_all_permissions(true)
        .send()
        .await
        .unwrap();
    assert_eq!(
        eb.describe_event_bus()
            .name("orders")
            .send()
            .await
            .unwrap()
            .policy(),
        None
    );
    let err = eb
        .remove_permission()
        .statement_id("none")
        .send()
        .await
        .unwrap_err();
    assert_eq!(err.message(), Some("EventBus does not have a policy."));

    let updated = eb
        .update_event_bus()
        .name("payments")
        .description("card payments")
        .send()
        .await
        .unwrap();
    assert_eq!(updated.description(), Some("card payments"));
    assert_eq!(
        eb.describe_event_bus()
            .name("payments")
            .send()
            .await
            .unwrap()
            .description(),
        Some("card payments")
    );
    let default_arn = format!("arn:aws:events:{REGION}:{ACCOUNT}:event-bus/default");
    eb.tag_resource()
        .resource_arn(&default_arn)
        .tags(
            aws_sdk_eventbridge::types::Tag::builder()
                .key("env")
                .value("dev")
                .build()
                .unwrap(),
        )
        .send()
        .await
        .unwrap();
    let tags = eb
        .list_tags_for_resource()
        .resource_arn(&default_arn)
        .send()
        .await
        .unwrap();
    assert_eq!(tags.tags().len(), 1);
    assert_eq!(tags.tags()[0].key(), "env");
    let err = eb
        .list_tags_for_resource()
        .resource_arn(format!("arn:aws:events:{REGION}:{ACCOUNT}:event-bus/ghost"))
        .send()
        .await
        .unwrap_err();
    assert_eq!(err.message(), Some("Event bus ghost does not exist."));

    let err = eb
        .delete_event_bus()
        .name("default")
        .send()
        .await
        .unwrap_err();
    assert_eq!(err.code(), Some("ValidationException"));
    assert_eq!(err.message(), Some("Cannot delete event bus default."));
    eb.delete_event_bus().name("orders").send().await.unwrap();
    eb.delete_event_bus()
        .name("never-existed")
        .send()
        .await
        .unwrap();
    let err = eb
        .describe_event_bus()
        .name("orders")
        .send()
        .await
        .unwrap_err();
    assert_eq!(err.code(), Some("ResourceNotFoundException"));
    assert_eq!(err.message(), Some("Event bus orders does not exist."));
    server.stop().await;
}

#[tokio::test]
async fn rules_are_created_described_listed_and_deleted() {
    let server = TestServer::start().await;
    let eb = client(&server).await;
    for name in ["r-a", "r-b", "r-c", "other"] {
        eb.put_rule()
            .name(name)
            .event_pattern(r#"{"source": ["my.app"]}"#)
            .send()
            .await
            .unwrap();
    }
    eb.create_event_bus().name("custom").send().await.unwrap();
    let arn = eb
        .put_rule()
        .name("on-custom")
        .event_bus_name("custom")
        .event_pattern(r#"{"account": ["000000000000"]}"#)
        .state(aws_sdk_eventbridge::types::RuleState::Disabled)
        .description("d")
        .tags(
            aws_sdk_eventbridge::types::Tag::builder()
                .key("team")
                .value("a")
                .build()
                .unwrap(),
        )
        .send()
        .await
        .unwrap()
        .rule_arn
        .unwrap();
    assert_eq!(
        arn,
        format!("arn:aws:events:{REGION}:{ACCOUNT}:rule/custom/on-custom")
    );
    let described = eb
        .describe_rule()
        .name("on-custom")
        .event_bus_name("custom")
        .send()
        .await
        .unwrap();
    assert_eq!(described.arn(), Some(arn.as_str()));
    assert_eq!(described.event_bus_name(), Some("custom"));
    assert_eq!(described.created_by(), Some(ACCOUNT));
    assert_eq!(described.description(), Some("d"));
    assert_eq!(described.state().map(|s| s.as_str()), Some("DISABLED"));
    let tags = eb
        .list_tags_for_resource()
        .resource_arn(&arn)
        .send()
        .await
        .unwrap();
    assert_eq!(tags.tags().len(), 1);
    assert_eq!(tags.tags()[0].value(), "a");

    let default_rule = eb.describe_rule().name("r-a").send().await.unwrap();
    assert_eq!(
        default_rule.arn(),
        Some(format!("arn:aws:events:{REGION}:{ACCOUNT}:rule/r-a").as_str())
    );
    assert_eq!(default_rule.state().map(|s| s.as_str()), Some("ENABLED"));
    let err = eb.describe_rule().name("nope").send().await.unwrap_err();
    assert_eq!(err.code(), Some("ResourceNotFoundException"));
    assert_eq!(
        err.message(),
        Some("Rule nope does not exist on EventBus default.")
    );

    let page = eb
        .list_rules()
        .name_prefix("r-")
        .limit(2)
        .send()
        .await
        .unwrap();
    let names: Vec<_> = page.rules().iter().filter_map(|r| r.name()).collect();
    assert_eq!(names, ["r-a", "r-b"]);
    let rest = eb
        .list_rules()
        .name_prefix("r-")
        .next_token(page.next_token().unwrap())
        .send()
        .await
        .unwrap();
    let names: Vec<_> = rest.rules().iter().filter_map(|r| r.name()).collect();
    assert_eq!(names, ["r-c"]);
    assert_eq!(rest.next_token(), None);
    assert_eq!(eb.list_rules().send().await.unwrap().rules().len(), 4);

    eb.disable_rule().name("r-b").send().await.unwrap();
    assert_eq!(
        eb.describe_rule()
            .name("r-b")
            .send()
            .await
            .unwrap()
            .state()
            .map(|s| s.as_str()),
        Some("DISABLED")
    );
    let err = eb.enable_rule().name("ghost").send().await.unwrap_err();
    assert_eq!(
        err.message(),
        Some("Rule ghost does not exist on EventBus default.")
    );

    // Invalid patterns, schedules on a custom bus, neither pattern nor schedule.
    let err = eb
        .put_rule()
        .name("bad")
        .event_pattern(r#"{"source": "my.app"}"#)
        .send()
        .await
        .unwrap_err();
    assert_eq!(err.code(), Some("InvalidEventPatternException"));
    assert!(err
        .message()
        .unwrap()
        .starts_with("Event pattern is not valid. Reason: "));
    let err = eb
        .put_rule()
        .name("sched")
        .event_bus_name("custom")
        .schedule_expression("rate(5 minutes)")
        .send()
        .await
        .unwrap_err();
    assert_eq!(
        err.message(),
        Some("ScheduleExpression is supported only on the default event bus.")
    );
    let err = eb
        .put_rule()
        .name("sched")
        .schedule_expression("every 5 minutes")
        .send()
        .await
        .unwrap_err();
    assert_eq!(err.code(), Some("ValidationException"));
    assert_eq!(
        err.message(),
        Some("Parameter ScheduleExpression is not valid.")
    );
    let err = eb.put_rule().name("empty").send().await.unwrap_err();
    assert_eq!(
        err.message(),
        Some("Parameter(s) EventPattern or ScheduleExpression must be specified.")
    );

    // Targets block deletion until removed.
    let lambda = format!("arn:aws:lambda:{REGION}:{ACCOUNT}:function:f");
    eb.put_targets()
        .rule("r-a")
        .targets(target("t1", &lambda))
        .send()
        .await
        .unwrap();
    let by_target = eb
        .list_rule_names_by_target()
        .target_arn(&lambda)
        .send()
        .await
        .unwrap();
    assert_eq!(by_target.rule_names(), ["r-a"]);
    let err = eb.delete_rule().name("r-a").send().await.unwrap_err();
    assert_eq!(err.code(), Some("ValidationException"));
    assert_eq!(
        err.message(),
        Some("Rule can't be deleted since it has targets.")
    );
    eb.remove_targets()
        .rule("r-a")
        .ids("t1")
        .send()
        .await
        .unwrap();
    eb.delete_rule().name("r-a").send().await.unwrap();
    let err = eb.describe_rule().name("r-a").send().await.unwrap_err();
    assert_eq!(err.code(), Some("ResourceNotFoundException"));
    // Deleting again is not an error.
    eb.delete_rule().name("r-a").send().await.unwrap();
    server.stop().await;
}

#[tokio::test]
async fn put_targets_reports_bad_entries_and_keeps_the_rest() {
    let server = TestServer::start().await;
    let eb = client(&server).await;
    eb.put_rule()
        .name("r")
        .event_pattern(r#"{"source": ["a"]}"#)
        .send()
        .await
        .unwrap();
    let queue = format!("arn:aws:sqs:{REGION}:{ACCOUNT}:q");
    let out = eb
        .put_targets()
        .rule("r")
        .targets(
            Target::builder()
                .id("good")
                .arn(&queue)
                .retry_policy(
                    RetryPolicy::builder()
                        .maximum_retry_attempts(3)
                        .maximum_event_age_in_seconds(120)
                        .build(),
                )
                .build()
                .unwrap(),
        )
        .targets(
            Target::builder()
                .id("bad")
                .arn(&queue)
                .input("{not json")
                .build()
                .unwrap(),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(out.failed_entry_count(), 1);
    assert_eq!(out.failed_entries().len(), 1);
    assert_eq!(out.failed_entries()[0].target_id(), Some("bad"));
    assert!(out.failed_entries()[0].error_message().is_some());
    let listed = eb.list_targets_by_rule().rule("r").send().await.unwrap();
    assert_eq!(listed.targets().len(), 1);
    let kept = &listed.targets()[0];
    assert_eq!(kept.id(), "good");
    let retry = kept.retry_policy().unwrap();
    assert_eq!(retry.maximum_retry_attempts(), Some(3));
    assert_eq!(retry.maximum_event_age_in_seconds(), Some(120));

    let err = eb
        .put_targets()
        .rule("r")
        .targets(target("x", "not-an-arn"))
        .send()
        .await
        .unwrap_err();
    assert_eq!(
        err.message(),
        Some("Parameter not-an-arn is not valid. Reason: Provided Arn is not in correct format.")
    );
    let err = eb
        .put_targets()
        .rule("ghost")
        .targets(target("x", &queue))
        .send()
        .await
        .unwrap_err();
    assert_eq!(
        err.message(),
        Some("Rule ghost does not exist on EventBus default.")
    );

    // Five targets per rule: one more than that is refused as a whole.
    let mut req = eb.put_targets().rule("r");
    for n in 0..5 {
        req = req.targets(target(&format!("t{n}"), &queue));
    }
    let err = req.send().await.unwrap_err();
    assert_eq!(err.code(), Some("LimitExceededException"));
    assert_eq!(
        err.message(),
        Some("The requested resource exceeds the maximum number allowed.")
    );
    assert_eq!(
        eb.list_targets_by_rule()
            .rule("r")
            .send()
            .await
            .unwrap()
            .targets()
            .len(),
        1
    );

    let page = eb
        .list_targets_by_rule()
        .rule("r")
        .limit(1)
        .send()
        .await
        .unwrap();
    assert_eq!(page.next_token(), None);
    server.stop().await;
}

#[tokio::test]
async fn put_events_answers_per_entry_errors_and_the_size_limit() {
    let server = TestServer::start().await;
    let eb = client(&server).await;
    let out = eb
        .put_events()
        .entries(PutEventsRequestEntry::builder().build())
        .entries(entry("my.app", "t", r#"{"k": 1}"#))
        .entries(PutEventsRequestEntry::builder().source("s").build())
        .entries(
            PutEventsRequestEntry::builder()
                .source("s")
                .detail_type("t")
                .build(),
        )
        .entries(entry("my.app", "t", "not json"))
        .entries(entry("my.app", "t", "[1, 2]"))
        .entries(
            PutEventsRequestEntry::builder()
                .source("s")
                .detail_type("t")
                .detail("{}")
                .event_bus_name("nowhere")
                .build(),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(out.failed_entry_count(), 6);
    let entries = out.entries();
    let error = |n: usize| {
        (
            entries[n].error_code().unwrap_or_default(),
            entries[n].error_message().unwrap_or_default(),
        )
    };
    assert_eq!(
        error(0),
        (
            "InvalidArgument",
            "Parameter Source is not valid. Reason: Source is a required argument."
        )
    );
    assert_eq!(entries[1].event_id().map(str::len), Some(36));
    assert_eq!(
        error(2),
        (
            "InvalidArgument",
            "Parameter DetailType is not valid. Reason: DetailType is a required argument."
        )
    );
    assert_eq!(
        error(3),
        (
            "InvalidArgument",
            "Parameter Detail is not valid. Reason: Detail is a required argument."
        )
    );
    assert_eq!(error(4), ("MalformedDetail", "Detail is malformed."));
    assert_eq!(error(5), ("MalformedDetail", "Detail is malformed."));
    assert_eq!(
        error(6),
        (
            "ResourceNotFoundException",
            "Event bus nowhere does not exist."
        )
    );

    // 262,144 bytes pass; one more does not (Source 6 + DetailType 1 + Detail).
    let detail = |len: usize| format!("{{\"k\":\"{}\"}}", "x".repeat(len - 8));
    let at_limit = eb
        .put_events()
        .entries(entry("my.app", "t", &detail(262_144 - 7)))
        .send()
        .await
        .unwrap();
    assert_eq!(at_limit.failed_entry_count(), 0);
    let err = eb
        .put_events()
        .entries(entry("my.app", "t", &detail(262_144 - 6)))
        .send()
        .await
        .unwrap_err();
    assert_eq!(err.code(), Some("ValidationException"));
    assert_eq!(
        err.message(),
        Some("Total size of the entries in the request is over the limit.")
    );
    server.stop().await;
}

#[tokio::test]
async fn matched_events_reach_log_groups_and_recorded_targets() {
    let server = TestServer::start().await;
    let eb = client(&server).await;
    let logs = server.logs().await;
    logs.create_log_group()
        .log_group_name("/aws/events/orders")
        .send()
        .await
        .unwrap();
    eb.put_rule()
        .name("orders")
        .event_pattern(
            r#"{"source": ["shop.orders"], "detail": {"total": [{"numeric": [">", 100]}]}}"#,
        )
        .send()
        .await
        .unwrap();
    let group_arn = format!("arn:aws:logs:{REGION}:{ACCOUNT}:log-group:/aws/events/orders:*");
    let function = format!("arn:aws:lambda:{REGION}:{ACCOUNT}:function:notify");
    let queue = format!("arn:aws:sqs:{REGION}:{ACCOUNT}:orders");
    eb.put_targets()
        .rule("orders")
        .targets(target("logs", &group_arn))
        .targets(
            Target::builder()
                .id("fn")
                .arn(&function)
                .input_transformer(
                    InputTransformer::builder()
                        .input_paths_map("id", "$.detail.orderId")
                        .input_paths_map("total", "$.detail.total")
                        .input_template(r#"{"order": <id>, "amount": <total>}"#)
                        .build()
                        .unwrap(),
                )
                .build()
                .unwrap(),
        )
        .targets(
            Target::builder()
                .id("q")
                .arn(&queue)
                .input_path("$.detail")
                .build()
                .unwrap(),
        )
        .send()
        .await
        .unwrap();

    let time = aws_smithy_types::DateTime::from_secs(1_767_225_600); // 2026-01-01T00:00:00Z
    let out = eb
        .put_events()
        .entries(
            PutEventsRequestEntry::builder()
                .source("shop.orders")
                .detail_type("Order Placed")
                .detail(r#"{"orderId": "o-1", "total": 250}"#)
                .resources("arn:aws:shop:::order/o-1")
                .time(time)
                .build(),
        )
        // Does not match: total too small.
        .entries(entry(
            "shop.orders",
            "Order Placed",
            r#"{"orderId": "o-2", "total": 5}"#,
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(out.failed_entry_count(), 0);
    let event_id = out.entries()[0].event_id().unwrap().to_string();

    let events = eventually(|| {
        let logs = logs.clone();
        async move {
            let got = logs
                .filter_log_events()
                .log_group_name("/aws/events/orders")
                .send()
                .await
                .unwrap();
            (!got.events().is_empty()).then(|| got.events().to_vec())
        }
    })
    .await;
    assert_eq!(events.len(), 1);
    assert_eq!(events[0].log_stream_name(), Some(event_id.as_str()));
    assert_eq!(events[0].timestamp(), Some(1_767_225_600_000));
    let message: Value = serde_json::from_str(events[0].message().unwrap()).unwrap();
    assert_eq!(
        message,
        json!({"version": "0", "id": event_id, "detail-type": "Order Placed",
               "source": "shop.orders", "account": ACCOUNT, "time": "2026-01-01T00:00:00Z",
               "region": REGION, "resources": ["arn:aws:shop:::order/o-1"],
               "detail": {"orderId": "o-1", "total": 250}})
    );

    let to_function = eventually(|| async {
        let d = deliveries(&server, &function).await;
        (!d.is_empty()).then_some(d)
    })
    .await;
    assert_eq!(to_function.len(), 1);
    assert_eq!(to_function[0]["origin"], "events");
    assert_eq!(to_function[0]["targetKind"], "lambda");
    assert_eq!(
        to_function[0]["source"],
        format!("arn:aws:events:{REGION}:{ACCOUNT}:rule/orders")
    );
    let body: Value = serde_json::from_str(to_function[0]["body"].as_str().unwrap()).unwrap();
    assert_eq!(body, json!({"order": "o-1", "amount": 250}));

    let to_queue = eventually(|| async {
        let d = deliveries(&server, &queue).await;
        (!d.is_empty()).then_some(d)
    })
    .await;
    let body: Value = serde_json::from_str(to_queue[0]["body"].as_str().unwrap()).unwrap();
    assert_eq!(body, json!({"orderId": "o-1", "total": 250}));
    server.stop().await;
}

#[tokio::test]
async fn events_cross_to_another_bus_and_failures_go_to_the_dead_letter_queue() {
    let server = TestServer::start().await;
    let eb = client(&server).await;
    let bus_arn = eb
        .create_event_bus()
        .name("downstream")
        .send()
        .await
        .unwrap()
        .event_bus_arn
        .unwrap();
    eb.put_rule()
        .name("forward")
        .event_pattern(r#"{"source": ["fwd"]}"#)
        .send()
        .await
        .unwrap();
    eb.put_targets()
        .rule("forward")
        .targets(target("bus", &bus_arn))
        .targets(
            Target::builder()
                .id("missing-group")
                .arn(format!("arn:aws:logs:{REGION}:{ACCOUNT}:log-group:absent"))
                .dead_letter_config(
                    aws_sdk_eventbridge::types::DeadLetterConfig::builder()
                        .arn(format!("arn:aws:sqs:{REGION}:{ACCOUNT}:dlq"))
                        .build(),
                )
                .build()
                .unwrap(),
        )
        .send()
        .await
        .unwrap();
    eb.put_rule()
        .name("on-downstream")
        .event_bus_name("downstream")
        .event_pattern(r#"{"source": ["fwd"]}"#)
        .send()
        .await
        .unwrap();
    let topic = format!("arn:aws:sns:{REGION}:{ACCOUNT}:t");
    eb.put_targets()
        .rule("on-downstream")
        .event_bus_name("downstream")
        .targets(target("sns", &topic))
        .send()
        .await
        .unwrap();
    eb.put_events()
        .entries(entry("fwd", "x", r#"{"n": 1}"#))
        .send()
        .await
        .unwrap();
    let to_topic = eventually(|| async {
        let d = deliveries(&server, &topic).await;
        (!d.is_empty()).then_some(d)
    })
    .await;
    assert_eq!(
        to_topic[0]["source"],
        format!("arn:aws:events:{REGION}:{ACCOUNT}:rule/downstream/on-downstream")
    );
    let dlq = format!("arn:aws:sqs:{REGION}:{ACCOUNT}:dlq");
    let dead = eventually(|| async {
        let d = deliveries(&server, &dlq).await;
        (!d.is_empty()).then_some(d)
    })
    .await;
    let event: Value = serde_json::from_str(dead[0]["body"].as_str().unwrap()).unwrap();
    assert_eq!(event["detail"], json!({"n": 1}));
    let failed = deliveries(
        &server,
        &format!("arn:aws:logs:{REGION}:{ACCOUNT}:log-group:absent"),
    )
    .await;
    assert_eq!(failed.len(), 1);
    assert_eq!(failed[0]["status"], "failed");
    assert_eq!(failed[0]["attempts"], 1);
    assert_eq!(failed[0]["error"], "The log group absent does not exist.");
    server.stop().await;
}

#[tokio::test]
async fn test_event_pattern_matches_and_refuses_bad_input() {
    let server = TestServer::start().await;
    let eb = client(&server).await;
    let event = json!({"id": "7bf73129-1428-4cd3-a780-95db273d1602", "detail-type": "EC2 Instance State-change Notification",
        "source": "aws.ec2", "account": "123456789012", "time": "2015-11-11T21:29:54Z",
        "region": "us-east-1", "resources": ["arn:aws:ec2:us-east-1:123456789012:instance/i-abcd1111"],
        "detail": {"instance-id": "i-abcd1111", "state": "pending"}})
    .to_string();
    let yes = eb
        .test_event_pattern()
        .event_pattern(r#"{"source": ["aws.ec2"], "detail": {"state": [{"prefix": "pend"}]}}"#)
        .event(&event)
        .send()
        .await
        .unwrap();
    assert!(yes.result());
    let no = eb
        .test_event_pattern()
        .event_pattern(r#"{"detail": {"state": [{"anything-but": "pending"}]}}"#)
        .event(&event)
        .send()
        .await
        .unwrap();
    assert!(!no.result());
    let err = eb
        .test_event_pattern()
        .event_pattern(r#"{"source": [{"prefix": 5}]}"#)
        .event(&event)
        .send()
        .await
        .unwrap_err();
    assert_eq!(err.code(), Some("InvalidEventPatternException"));
    let err = eb
        .test_event_pattern()
        .event_pattern(r#"{"source": ["aws.ec2"]}"#)
        .event(r#"{"source": "aws.ec2"}"#)
        .send()
        .await
        .unwrap_err();
    assert_eq!(err.code(), Some("ValidationException"));
    assert_eq!(err.message(), Some("Parameter Event is not valid."));
    server.stop().await;
}

/// A server built here rather than through the harness, so the test can reach the EventBridge
/// service and fire schedules at the manual clock's time.
#[tokio::test]
async fn scheduled_rules_fire_at_their_times() {
    let start_ms = 1_767_225_600_000; // 2026-01-01T00:00:00Z
    let clock = watchtrail::clock::ManualClock::new(start_ms);
    let (state, writer) = watchtrail::build(watchtrail::config::Config::ephemeral(), clock.clone())
        .await
        .unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let app = watchtrail::server::router(state.clone());
    let served = tokio::spawn(async move {
        axum::serve(
            listener,
            app.into_make_service_with_connect_info::<std::net::SocketAddr>(),
        )
        .await
        .unwrap();
    });
    let config = aws_config::defaults(aws_config::BehaviorVersion::latest())
        .endpoint_url(format!("http://{addr}"))
        .region(aws_config::Region::new(REGION))
        .credentials_provider(aws_credential_types::Credentials::new(
            "test", "test", None, None, "t",
        ))
        .load()
        .await;
    let eb = Client::new(&config);
    eb.put_rule()
        .name("every-5")
        .schedule_expression("rate(5 minutes)")
        .send()
        .await
        .unwrap();
    let function = format!("arn:aws:lambda:{REGION}:{ACCOUNT}:function:tick");
    eb.put_targets()
        .rule("every-5")
        .targets(target("fn", &function))
        .send()
        .await
        .unwrap();
    let events = &state.services.events;
    assert_eq!(
        events.fire_due_schedules(start_ms + 299_999).await.unwrap(),
        0
    );
    clock.set_ms(start_ms + 300_000);
    assert_eq!(
        events.fire_due_schedules(start_ms + 300_000).await.unwrap(),
        1
    );
    // The same firing is handed out once.
    assert_eq!(
        events.fire_due_schedules(start_ms + 300_000).await.unwrap(),
        0
    );

    let list = || async {
        let url = format!(
            "http://{addr}/_watchtrail/deliveries?target={}",
            percent(&function)
        );
        let body: Value = reqwest::get(url).await.unwrap().json().await.unwrap();
        body["deliveries"].as_array().cloned().unwrap_or_default()
    };
    let fired = eventually(|| async {
        let d = list().await;
        (!d.is_empty()).then_some(d)
    })
    .await;
    let event: Value = serde_json::from_str(fired[0]["body"].as_str().unwrap()).unwrap();
    let rule_arn = format!("arn:aws:events:{REGION}:{ACCOUNT}:rule/every-5");
    assert_eq!(event["source"], "aws.events");
    assert_eq!(event["detail-type"], "Scheduled Event");
    assert_eq!(event["time"], "2026-01-01T00:05:00Z");
    assert_eq!(event["resources"], json!([rule_arn]));
    assert_eq!(event["detail"], json!({}));

    // Disabled rules do not fire.
    eb.disable_rule().name("every-5").send().await.unwrap();
    assert_eq!(
        events
            .fire_due_schedules(start_ms + 3_600_000)
            .await
            .unwrap(),
        0
    );

    served.abort();
    state.services.events.shutdown().await;
    state.services.cloudtrail.shutdown().await;
    state.db.close();
    let _ = writer.await;
    let _: Arc<dyn watchtrail::clock::Clock> = clock;
}

#[tokio::test]
async fn api_calls_arrive_on_the_default_bus() {
    let server = TestServer::start().await;
    let eb = client(&server).await;
    let logs = server.logs().await;
    logs.create_log_group()
        .log_group_name("/audit")
        .send()
        .await
        .unwrap();
    eb.put_rule()
        .name("log-group-deleted")
        .event_pattern(
            r#"{"source": ["aws.logs"], "detail-type": ["AWS API Call via CloudTrail"],
                "detail": {"eventName": ["DeleteLogGroup"]}}"#,
        )
        .send()
        .await
        .unwrap();
    eb.put_targets()
        .rule("log-group-deleted")
        .targets(target(
            "audit",
            &format!("arn:aws:logs:{REGION}:{ACCOUNT}:log-group:/audit"),
        ))
        .send()
        .await
        .unwrap();
    logs.create_log_group()
        .log_group_name("/tmp/scratch")
        .send()
        .await
        .unwrap();
    logs.delete_log_group()
        .log_group_name("/tmp/scratch")
        .send()
        .await
        .unwrap();
    let events = eventually(|| {
        let logs = logs.clone();
        async move {
            let got = logs
                .filter_log_events()
                .log_group_name("/audit")
                .send()
                .await
                .unwrap();
            (!got.events().is_empty()).then(|| got.events().to_vec())
        }
    })
    .await;
    // CreateLogGroup does not match; DeleteLogGroup does, once.
    assert_eq!(events.len(), 1);
    let event: Value = serde_json::from_str(events[0].message().unwrap()).unwrap();
    assert_eq!(event["source"], "aws.logs");
    assert_eq!(event["detail-type"], "AWS API Call via CloudTrail");
    assert_eq!(event["account"], ACCOUNT);
    assert_eq!(event["detail"]["eventName"], "DeleteLogGroup");
    server.stop().await;
}

#[tokio::test]
async fn api_destination_failures_are_retried_with_backoff() {
    use std::sync::atomic::{AtomicUsize, Ordering};
    // A receiver that fails the first call and accepts the next ones.
    let calls = Arc::new(AtomicUsize::new(0));
    let seen = calls.clone();
    let hook = axum::Router::new().route(
        "/hook",
        axum::routing::post(move |body: String| {
            let seen = seen.clone();
            async move {
                let n = seen.fetch_add(1, Ordering::SeqCst);
                assert!(body.contains("\"n\":1"));
                if n == 0 {
                    axum::http::StatusCode::INTERNAL_SERVER_ERROR
                } else {
                    axum::http::StatusCode::OK
                }
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let hook_addr = listener.local_addr().unwrap();
    let receiver = tokio::spawn(async move {
        axum::serve(listener, hook).await.unwrap();
    });

    let server = TestServer::start().await;
    let eb = client(&server).await;
    let connection = eb
        .create_connection()
        .name("hooks")
        .authorization_type(aws_sdk_eventbridge::types::ConnectionAuthorizationType::ApiKey)
        .auth_parameters(
            aws_sdk_eventbridge::types::CreateConnectionAuthRequestParameters::builder()
                .api_key_auth_parameters(
                    aws_sdk_eventbridge::types::CreateConnectionApiKeyAuthRequestParameters::builder()
                        .api_key_name("x-api-key")
                        .api_key_value("secret")
                        .build()
                        .unwrap(),
                )
                .build(),
        )
        .send()
        .await
        .unwrap()
        .connection_arn
        .unwrap();
    let destination = eb
        .create_api_destination()
        .name("hook")
        .connection_arn(connection)
        .invocation_endpoint(format!("http://{hook_addr}/hook"))
        .http_method(aws_sdk_eventbridge::types::ApiDestinationHttpMethod::Post)
        .send()
        .await
        .unwrap()
        .api_destination_arn
        .unwrap();
    eb.put_rule()
        .name("to-hook")
        .event_pattern(r#"{"source": ["hooked"]}"#)
        .send()
        .await
        .unwrap();
    eb.put_targets()
        .rule("to-hook")
        .targets(
            Target::builder()
                .id("hook")
                .arn(&destination)
                .input_path("$.detail")
                .retry_policy(RetryPolicy::builder().maximum_retry_attempts(2).build())
                .build()
                .unwrap(),
        )
        .send()
        .await
        .unwrap();
    eb.put_events()
        .entries(entry("hooked", "x", r#"{"n":1}"#))
        .send()
        .await
        .unwrap();
    // The first attempt fails; the retry, a second later, succeeds; both are recorded.
    let attempts = eventually(|| async {
        let d = deliveries(&server, &destination).await;
        (d.len() >= 2).then_some(d)
    })
    .await;
    assert_eq!(calls.load(Ordering::SeqCst), 2);
    assert_eq!(attempts[0]["status"], "failed");
    assert_eq!(attempts[0]["attempts"], 1);
    assert_eq!(attempts[1]["status"], "delivered");
    assert_eq!(attempts[1]["attempts"], 2);
    assert_eq!(
        attempts[1]["source"],
        format!("arn:aws:events:{REGION}:{ACCOUNT}:rule/to-hook")
    );
    assert_eq!(attempts[1]["body"], r#"{"n":1}"#);
    server.stop().await;
    receiver.abort();
}

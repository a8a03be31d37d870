//! CloudWatch Logs through the AWS SDK for Rust: groups, streams, ingestion rules, retrieval
//! tokens, filter patterns, Logs Insights, tags and retention.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use aws_sdk_cloudwatchlogs::types::{InputLogEvent, OrderBy};
use common::TestServer;

fn now_ms() -> i64 {
    (common::now_secs() * 1000.0) as i64
}

fn event(ts: i64, message: &str) -> InputLogEvent {
    InputLogEvent::builder()
        .timestamp(ts)
        .message(message)
        .build()
        .unwrap()
}

#[tokio::test]
async fn groups_and_streams_lifecycle_with_aws_errors() {
    let server = TestServer::start().await;
    let logs = server.logs().await;
    logs.create_log_group()
        .log_group_name("/app/web")
        .tags("team", "core")
        .send()
        .await
        .unwrap();
    logs.create_log_group()
        .log_group_name("/app/worker")
        .send()
        .await
        .unwrap();
    logs.create_log_group()
        .log_group_name("/other")
        .send()
        .await
        .unwrap();
    let err = logs
        .create_log_group()
        .log_group_name("/app/web")
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    assert!(err.is_resource_already_exists_exception(), "{err:?}");

    let listed = logs
        .describe_log_groups()
        .log_group_name_prefix("/app/")
        .send()
        .await
        .unwrap();
    let names: Vec<&str> = listed
        .log_groups()
        .iter()
        .map(|g| g.log_group_name().unwrap())
        .collect();
    assert_eq!(names, vec!["/app/web", "/app/worker"]);
    let web = &listed.log_groups()[0];
    assert_eq!(
        web.arn(),
        Some("arn:aws:logs:us-east-1:000000000000:log-group:/app/web:*")
    );
    assert_eq!(
        web.log_group_arn(),
        Some("arn:aws:logs:us-east-1:000000000000:log-group:/app/web")
    );
    assert_eq!(web.stored_bytes(), Some(0));
    assert_eq!(web.log_group_class().map(|c| c.as_str()), Some("STANDARD"));

    let paged = logs.describe_log_groups().limit(2).send().await.unwrap();
    assert_eq!(paged.log_groups().len(), 2);
    let rest = logs
        .describe_log_groups()
        .limit(2)
        .next_token(paged.next_token().unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(rest.log_groups().len(), 1);
    assert!(rest.next_token().is_none());
    let pattern = logs
        .describe_log_groups()
        .log_group_name_pattern("WORK")
        .send()
        .await
        .unwrap();
    assert_eq!(pattern.log_groups().len(), 1);

    for s in ["b", "a", "c"] {
        logs.create_log_stream()
            .log_group_name("/app/web")
            .log_stream_name(s)
            .send()
            .await
            .unwrap();
    }
    let err = logs
        .create_log_stream()
        .log_group_name("/app/web")
        .log_stream_name("a")
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    assert!(err.is_resource_already_exists_exception());
    let err = logs
        .create_log_stream()
        .log_group_name("/nope")
        .log_stream_name("a")
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    assert!(err.is_resource_not_found_exception());
    logs.put_log_events()
        .log_group_name("/app/web")
        .log_stream_name("a")
        .log_events(event(now_ms() - 1000, "x"))
        .send()
        .await
        .unwrap();
    logs.put_log_events()
        .log_group_name("/app/web")
        .log_stream_name("c")
        .log_events(event(now_ms(), "y"))
        .send()
        .await
        .unwrap();
    let by_name = logs
        .describe_log_streams()
        .log_group_name("/app/web")
        .send()
        .await
        .unwrap();
    let names: Vec<&str> = by_name
        .log_streams()
        .iter()
        .map(|s| s.log_stream_name().unwrap())
        .collect();
    assert_eq!(names, vec!["a", "b", "c"]);
    let by_time = logs
        .describe_log_streams()
        .log_group_name("/app/web")
        .order_by(OrderBy::LastEventTime)
        .descending(true)
        .send()
        .await
        .unwrap();
    let names: Vec<&str> = by_time
        .log_streams()
        .iter()
        .map(|s| s.log_stream_name().unwrap())
        .collect();
    assert_eq!(names, vec!["c", "a", "b"]);
    let err = logs
        .describe_log_streams()
        .log_group_name("/app/web")
        .order_by(OrderBy::LastEventTime)
        .log_stream_name_prefix("a")
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    assert!(err.is_invalid_parameter_exception(), "{err:?}");

    let tags = logs
        .list_tags_for_resource()
        .resource_arn("arn:aws:logs:us-east-1:000000000000:log-group:/app/web")
        .send()
        .await
        .unwrap();
    assert_eq!(
        tags.tags().unwrap().get("team").map(String::as_str),
        Some("core")
    );

    logs.delete_log_group()
        .log_group_name("/app/web")
        .send()
        .await
        .unwrap();
    let err = logs
        .delete_log_group()
        .log_group_name("/app/web")
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    assert!(err.is_resource_not_found_exception());
    server.stop().await;
}

#[tokio::test]
async fn put_log_events_follows_the_batch_rules() {
    let server = TestServer::start().await;
    let logs = server.logs().await;
    logs.create_log_group()
        .log_group_name("g")
        .send()
        .await
        .unwrap();
    logs.create_log_stream()
        .log_group_name("g")
        .log_stream_name("s")
        .send()
        .await
        .unwrap();
    let now = now_ms();
    let out = logs
        .put_log_events()
        .log_group_name("g")
        .log_stream_name("s")
        .log_events(event(now - 15 * 86_400_000, "too old"))
        .log_events(event(now - 1_000, "kept 1"))
        .log_events(event(now, "kept 2"))
        .log_events(event(now + 3 * 3_600_000, "too new"))
        .send()
        .await
        .unwrap();
    let rejected = out.rejected_log_events_info().unwrap();
    assert_eq!(rejected.too_old_log_event_end_index(), Some(0));
    assert_eq!(rejected.too_new_log_event_start_index(), Some(3));
    assert_eq!(rejected.expired_log_event_end_index(), None);

    let err = logs
        .put_log_events()
        .log_group_name("g")
        .log_stream_name("s")
        .log_events(event(now, "b"))
        .log_events(event(now - 10, "a"))
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    assert!(err.is_invalid_parameter_exception(), "{err:?}");

    let big = "x".repeat(600_000);
    let err = logs
        .put_log_events()
        .log_group_name("g")
        .log_stream_name("s")
        .log_events(event(now, &big))
        .log_events(event(now, &big))
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    assert!(err.is_invalid_parameter_exception(), "{err:?}");

    let err = logs
        .put_log_events()
        .log_group_name("g")
        .log_stream_name("missing")
        .log_events(event(now, "a"))
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    assert!(err.is_resource_not_found_exception());

    let got = logs
        .get_log_events()
        .log_group_name("g")
        .log_stream_name("s")
        .start_from_head(true)
        .send()
        .await
        .unwrap();
    let messages: Vec<&str> = got.events().iter().map(|e| e.message().unwrap()).collect();
    assert_eq!(messages, vec!["kept 1", "kept 2"]);
    let streams = logs
        .describe_log_streams()
        .log_group_name("g")
        .send()
        .await
        .unwrap();
    let s = &streams.log_streams()[0];
    assert_eq!(s.first_event_timestamp(), Some(now - 1_000));
    assert_eq!(s.last_event_timestamp(), Some(now));
    let groups = logs.describe_log_groups().send().await.unwrap();
    assert_eq!(groups.log_groups()[0].stored_bytes(), Some(12));
    server.stop().await;
}

#[tokio::test]
async fn get_log_events_tokens_page_both_ways_and_repeat_at_the_end() {
    let server = TestServer::start().await;
    let logs = server.logs().await;
    logs.create_log_group()
        .log_group_name("g")
        .send()
        .await
        .unwrap();
    logs.create_log_stream()
        .log_group_name("g")
        .log_stream_name("s")
        .send()
        .await
        .unwrap();
    let now = now_ms();
    let mut req = logs
        .put_log_events()
        .log_group_name("g")
        .log_stream_name("s");
    for i in 0..10 {
        req = req.log_events(event(now - 10_000 + i * 1000, &format!("m{i}")));
    }
    req.send().await.unwrap();

    // Without a token and without startFromHead: the latest events.
    let tail = logs
        .get_log_events()
        .log_group_name("g")
        .log_stream_name("s")
        .limit(3)
        .send()
        .await
        .unwrap();
    let messages: Vec<&str> = tail.events().iter().map(|e| e.message().unwrap()).collect();
    assert_eq!(messages, vec!["m7", "m8", "m9"]);
    let back = logs
        .get_log_events()
        .log_group_name("g")
        .log_stream_name("s")
        .limit(3)
        .next_token(tail.next_backward_token().unwrap())
        .send()
        .await
        .unwrap();
    let messages: Vec<&str> = back.events().iter().map(|e| e.message().unwrap()).collect();
    assert_eq!(messages, vec!["m4", "m5", "m6"]);

    // Forward from the head, then the same token when nothing is new.
    let mut token = None;
    let mut all = Vec::new();
    loop {
        let page = logs
            .get_log_events()
            .log_group_name("g")
            .log_stream_name("s")
            .start_from_head(true)
            .limit(4)
            .set_next_token(token.clone())
            .send()
            .await
            .unwrap();
        let forward = page.next_forward_token().unwrap().to_string();
        if page.events().is_empty() {
            assert_eq!(Some(forward), token, "the same token comes back at the end");
            break;
        }
        all.extend(
            page.events()
                .iter()
                .map(|e| e.message().unwrap().to_string()),
        );
        token = Some(forward);
    }
    assert_eq!(all.len(), 10);
    assert_eq!(all[0], "m0");
    server.stop().await;
}

#[tokio::test]
async fn filter_log_events_with_patterns_and_paging() {
    let server = TestServer::start().await;
    let logs = server.logs().await;
    logs.create_log_group()
        .log_group_name("g")
        .send()
        .await
        .unwrap();
    let now = now_ms();
    for (stream, offset) in [("s1", 0), ("s2", 1)] {
        logs.create_log_stream()
            .log_group_name("g")
            .log_stream_name(stream)
            .send()
            .await
            .unwrap();
        let mut req = logs
            .put_log_events()
            .log_group_name("g")
            .log_stream_name(stream);
        for i in 0..50 {
            let level = if i % 5 == 0 { "ERROR" } else { "INFO" };
            req = req.log_events(event(
                now - 100_000 + i * 1000 + offset,
                &format!("{level} request {i} from {stream}"),
            ));
        }
        req.send().await.unwrap();
    }
    let errors = logs
        .filter_log_events()
        .log_group_name("g")
        .filter_pattern("ERROR")
        .send()
        .await
        .unwrap();
    assert_eq!(errors.events().len(), 20);
    let stamps: Vec<i64> = errors
        .events()
        .iter()
        .map(|e| e.timestamp().unwrap())
        .collect();
    let mut sorted = stamps.clone();
    sorted.sort();
    assert_eq!(
        stamps, sorted,
        "events come in timestamp order across streams"
    );
    assert!(errors
        .events()
        .iter()
        .all(|e| e.message().unwrap().starts_with("ERROR")));

    let only_s2 = logs
        .filter_log_events()
        .log_group_name("g")
        .log_stream_names("s2")
        .filter_pattern("ERROR")
        .send()
        .await
        .unwrap();
    assert_eq!(only_s2.events().len(), 10);
    assert!(only_s2
        .events()
        .iter()
        .all(|e| e.log_stream_name() == Some("s2")));

    let mut token = None;
    let mut seen = std::collections::HashSet::new();
    loop {
        let page = logs
            .filter_log_events()
            .log_group_name("g")
            .limit(7)
            .set_next_token(token)
            .send()
            .await
            .unwrap();
        for e in page.events() {
            assert!(
                seen.insert(e.event_id().unwrap().to_string()),
                "an event came twice"
            );
        }
        token = page.next_token().map(str::to_string);
        if token.is_none() {
            break;
        }
    }
    assert_eq!(seen.len(), 100);

    let windowed = logs
        .filter_log_events()
        .log_group_name("g")
        .start_time(now - 100_000)
        .end_time(now - 90_000)
        .send()
        .await
        .unwrap();
    assert_eq!(windowed.events().len(), 20);
    server.stop().await;
}

#[tokio::test]
async fn insights_query_counts_by_bin_and_reports_malformed_queries() {
    let server = TestServer::start().await;
    let logs = server.logs().await;
    logs.create_log_group()
        .log_group_name("g")
        .send()
        .await
        .unwrap();
    logs.create_log_stream()
        .log_group_name("g")
        .log_stream_name("s")
        .send()
        .await
        .unwrap();
    let now = now_ms();
    let mut req = logs
        .put_log_events()
        .log_group_name("g")
        .log_stream_name("s");
    for i in 0..30 {
        req = req.log_events(event(
            now - 60_000 + i * 100,
            &format!(
                r#"{{"level":"{}","latency":{}}}"#,
                if i % 3 == 0 { "error" } else { "info" },
                i
            ),
        ));
    }
    req.send().await.unwrap();
    let started = logs
        .start_query()
        .log_group_name("g")
        .start_time(now / 1000 - 3600)
        .end_time(now / 1000 + 60)
        .query_string("filter level = 'error' | stats count(*) as errors, max(latency) as worst")
        .send()
        .await
        .unwrap();
    let results = logs
        .get_query_results()
        .query_id(started.query_id().unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(results.status().map(|s| s.as_str()), Some("Complete"));
    let row = &results.results()[0];
    let field = |name: &str| {
        row.iter()
            .find(|f| f.field() == Some(name))
            .and_then(|f| f.value())
            .map(str::to_string)
    };
    assert_eq!(field("errors").as_deref(), Some("10"));
    assert_eq!(field("worst").as_deref(), Some("27"));
    let stats = results.statistics().unwrap();
    assert_eq!(stats.records_scanned(), 30.0);
    assert_eq!(stats.records_matched(), 10.0);

    let err = logs
        .start_query()
        .log_group_name("g")
        .start_time(0)
        .end_time(10)
        .query_string("fields @message | stats count(*) by")
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    assert!(err.is_malformed_query_exception(), "{err:?}");
    let described = logs.describe_queries().send().await.unwrap();
    assert_eq!(described.queries().len(), 1);
    server.stop().await;
}

#[tokio::test]
async fn retention_policy_values_and_expired_events() {
    let server = TestServer::start().await;
    let logs = server.logs().await;
    logs.create_log_group()
        .log_group_name("g")
        .send()
        .await
        .unwrap();
    let err = logs
        .put_retention_policy()
        .log_group_name("g")
        .retention_in_days(2)
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    assert!(err.is_invalid_parameter_exception(), "{err:?}");
    logs.put_retention_policy()
        .log_group_name("g")
        .retention_in_days(1)
        .send()
        .await
        .unwrap();
    let g = logs.describe_log_groups().send().await.unwrap();
    assert_eq!(g.log_groups()[0].retention_in_days(), Some(1));
    logs.create_log_stream()
        .log_group_name("g")
        .log_stream_name("s")
        .send()
        .await
        .unwrap();
    let now = now_ms();
    let out = logs
        .put_log_events()
        .log_group_name("g")
        .log_stream_name("s")
        .log_events(event(now - 2 * 86_400_000, "expired"))
        .log_events(event(now, "fresh"))
        .send()
        .await
        .unwrap();
    assert_eq!(
        out.rejected_log_events_info()
            .unwrap()
            .expired_log_event_end_index(),
        Some(0)
    );
    logs.delete_retention_policy()
        .log_group_name("g")
        .send()
        .await
        .unwrap();
    let g = logs.describe_log_groups().send().await.unwrap();
    assert_eq!(g.log_groups()[0].retention_in_days(), None);
    server.stop().await;
}

#[tokio::test]
async fn metric_filters_and_embedded_metrics_feed_cloudwatch() {
    use aws_sdk_cloudwatch::primitives::DateTime;
    use aws_sdk_cloudwatch::types::{Dimension, Statistic};
    use aws_sdk_cloudwatchlogs::types::MetricTransformation;
    let server = TestServer::start().await;
    let logs = server.logs().await;
    let cw = server.cloudwatch().await;
    logs.create_log_group()
        .log_group_name("api")
        .send()
        .await
        .unwrap();
    logs.create_log_stream()
        .log_group_name("api")
        .log_stream_name("s")
        .send()
        .await
        .unwrap();
    logs.put_metric_filter()
        .log_group_name("api")
        .filter_name("latency")
        .filter_pattern("{ $.latency > 0 }")
        .metric_transformations(
            MetricTransformation::builder()
                .metric_name("Latency")
                .metric_namespace("Api")
                .metric_value("$.latency")
                .dimensions("Route", "$.route")
                .unit(aws_sdk_cloudwatchlogs::types::StandardUnit::Milliseconds)
                .build()
                .unwrap(),
        )
        .send()
        .await
        .unwrap();
    let err = logs
        .put_metric_filter()
        .log_group_name("api")
        .filter_name("bad")
        .filter_pattern("{ $.latency > }")
        .metric_transformations(
            MetricTransformation::builder()
                .metric_name("x")
                .metric_namespace("y")
                .metric_value("1")
                .build()
                .unwrap(),
        )
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    assert!(err.is_invalid_parameter_exception(), "{err:?}");
    let described = logs
        .describe_metric_filters()
        .log_group_name("api")
        .send()
        .await
        .unwrap();
    assert_eq!(described.metric_filters().len(), 1);
    assert_eq!(
        described.metric_filters()[0].filter_pattern(),
        Some("{ $.latency > 0 }")
    );
    let groups = logs.describe_log_groups().send().await.unwrap();
    assert_eq!(groups.log_groups()[0].metric_filter_count(), Some(1));

    let minute = (now_ms() / 60_000 - 2) * 60_000;
    logs.put_log_events()
        .log_group_name("api")
        .log_stream_name("s")
        .log_events(event(minute + 1_000, r#"{"route":"/a","latency":100}"#))
        .log_events(event(minute + 2_000, r#"{"route":"/a","latency":50}"#))
        .log_events(event(minute + 3_000, r#"{"route":"/b","latency":7}"#))
        .log_events(event(minute + 4_000, "not json at all"))
        .log_events(event(
            minute + 5_000,
            r#"{"_aws":{"CloudWatchMetrics":[{"Namespace":"Emf","Dimensions":[["Service"]],"Metrics":[{"Name":"Count","Unit":"Count"}]}]},"Service":"checkout","Count":3}"#,
        ))
        .send()
        .await
        .unwrap();
    let stats = cw
        .get_metric_statistics()
        .namespace("Api")
        .metric_name("Latency")
        .dimensions(Dimension::builder().name("Route").value("/a").build())
        .start_time(DateTime::from_millis(minute))
        .end_time(DateTime::from_millis(minute + 60_000))
        .period(60)
        .statistics(Statistic::Sum)
        .statistics(Statistic::SampleCount)
        .send()
        .await
        .unwrap();
    let dp = &stats.datapoints()[0];
    assert_eq!(dp.sum(), Some(150.0));
    assert_eq!(dp.sample_count(), Some(2.0));
    assert_eq!(dp.unit().map(|u| u.as_str()), Some("Milliseconds"));
    let emf = cw
        .get_metric_statistics()
        .namespace("Emf")
        .metric_name("Count")
        .dimensions(
            Dimension::builder()
                .name("Service")
                .value("checkout")
                .build(),
        )
        .start_time(DateTime::from_millis(minute))
        .end_time(DateTime::from_millis(minute + 60_000))
        .period(60)
        .statistics(Statistic::Sum)
        .send()
        .await
        .unwrap();
    assert_eq!(emf.datapoints()[0].sum(), Some(3.0));

    let tested = logs
        .test_metric_filter()
        .filter_pattern("[ip, user, ..., status = 5*, bytes]")
        .log_event_messages("10.0.0.1 alice GET / 503 1200")
        .log_event_messages("10.0.0.2 bob GET / 200 10")
        .send()
        .await
        .unwrap();
    assert_eq!(tested.matches().len(), 1);
    let m = &tested.matches()[0];
    assert_eq!(m.event_number(), 1);
    assert_eq!(
        m.extracted_values()
            .unwrap()
            .get("$bytes")
            .map(String::as_str),
        Some("1200")
    );
    logs.delete_metric_filter()
        .log_group_name("api")
        .filter_name("latency")
        .send()
        .await
        .unwrap();
    let err = logs
        .delete_metric_filter()
        .log_group_name("api")
        .filter_name("latency")
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    assert!(err.is_resource_not_found_exception());
    server.stop().await;
}

#[tokio::test]
async fn subscription_filters_destinations_policies_and_query_definitions() {
    let server = TestServer::start().await;
    let logs = server.logs().await;
    logs.create_log_group()
        .log_group_name("g")
        .send()
        .await
        .unwrap();
    for name in ["one", "two"] {
        logs.put_subscription_filter()
            .log_group_name("g")
            .filter_name(name)
            .filter_pattern("ERROR")
            .destination_arn("arn:aws:lambda:us-east-1:000000000000:function:f")
            .send()
            .await
            .unwrap();
    }
    let err = logs
        .put_subscription_filter()
        .log_group_name("g")
        .filter_name("three")
        .filter_pattern("ERROR")
        .destination_arn("arn:aws:lambda:us-east-1:000000000000:function:f")
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    assert!(err.is_limit_exceeded_exception(), "{err:?}");
    let listed = logs
        .describe_subscription_filters()
        .log_group_name("g")
        .send()
        .await
        .unwrap();
    let names: Vec<&str> = listed
        .subscription_filters()
        .iter()
        .map(|f| f.filter_name().unwrap())
        .collect();
    assert_eq!(names, vec!["one", "two"]);
    assert_eq!(
        listed.subscription_filters()[0]
            .distribution()
            .map(|d| d.as_str()),
        Some("ByLogStream")
    );
    logs.delete_subscription_filter()
        .log_group_name("g")
        .filter_name("one")
        .send()
        .await
        .unwrap();
    let err = logs
        .delete_subscription_filter()
        .log_group_name("g")
        .filter_name("one")
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    assert!(err.is_resource_not_found_exception());

    let dest = logs
        .put_destination()
        .destination_name("central")
        .target_arn("arn:aws:kinesis:us-east-1:000000000000:stream/s")
        .role_arn("arn:aws:iam::000000000000:role/r")
        .send()
        .await
        .unwrap();
    assert_eq!(
        dest.destination().unwrap().arn(),
        Some("arn:aws:logs:us-east-1:000000000000:destination:central")
    );
    logs.put_destination_policy()
        .destination_name("central")
        .access_policy(r#"{"Version":"2012-10-17"}"#)
        .send()
        .await
        .unwrap();
    let described = logs.describe_destinations().send().await.unwrap();
    assert_eq!(
        described.destinations()[0].access_policy(),
        Some(r#"{"Version":"2012-10-17"}"#)
    );

    let policy = logs
        .put_resource_policy()
        .policy_name("p")
        .policy_document(r#"{"Statement":[]}"#)
        .send()
        .await
        .unwrap();
    assert_eq!(policy.resource_policy().unwrap().policy_name(), Some("p"));
    let err = logs
        .put_resource_policy()
        .policy_name("bad")
        .policy_document("{not json")
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    assert!(err.is_invalid_parameter_exception());
    assert_eq!(
        logs.describe_resource_policies()
            .send()
            .await
            .unwrap()
            .resource_policies()
            .len(),
        1
    );

    let id = logs
        .put_query_definition()
        .name("errors")
        .query_string("filter @message like /ERROR/")
        .send()
        .await
        .unwrap()
        .query_definition_id()
        .unwrap()
        .to_string();
    let defs = logs.describe_query_definitions().send().await.unwrap();
    assert_eq!(
        defs.query_definitions()[0].query_definition_id(),
        Some(id.as_str())
    );
    assert!(logs
        .delete_query_definition()
        .query_definition_id(&id)
        .send()
        .await
        .unwrap()
        .success());
    server.stop().await;
}

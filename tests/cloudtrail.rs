//! The CloudTrail journal through the AWS SDK for Rust: who did what from where, account
//! isolation, failed calls, paging, and tamper evidence on the SQLite file.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::time::Duration;

use aws_sdk_cloudtrail::types::{LookupAttribute, LookupAttributeKey};
use common::TestServer;

fn by(key: LookupAttributeKey, value: &str) -> LookupAttribute {
    LookupAttribute::builder()
        .attribute_key(key)
        .attribute_value(value)
        .build()
        .unwrap()
}

/// Journal writes happen off the request path; wait (bounded) until `n` events match.
async fn lookup_until(
    ct: &aws_sdk_cloudtrail::Client,
    attr: LookupAttribute,
    n: usize,
) -> Vec<aws_sdk_cloudtrail::types::Event> {
    for _ in 0..200 {
        let out = ct
            .lookup_events()
            .lookup_attributes(attr.clone())
            .send()
            .await
            .unwrap();
        if out.events().len() >= n {
            return out.events().to_vec();
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    panic!("events never appeared");
}

#[tokio::test]
async fn a_call_is_found_with_its_identity_source_and_outcome() {
    let server = TestServer::start().await;
    let logs = server.logs_as("111111111111").await;
    logs.create_log_group()
        .log_group_name("/audited")
        .send()
        .await
        .unwrap();
    let err = logs
        .create_log_group()
        .log_group_name("/audited")
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    assert!(err.is_resource_already_exists_exception());

    let ct = server.cloudtrail_as("111111111111").await;
    let events = lookup_until(&ct, by(LookupAttributeKey::EventName, "CreateLogGroup"), 2).await;
    assert_eq!(events.len(), 2);
    // Newest first: the failed call.
    let failed: serde_json::Value =
        serde_json::from_str(events[0].cloud_trail_event().unwrap()).unwrap();
    assert_eq!(failed["errorCode"], "ResourceAlreadyExistsException");
    let ok: serde_json::Value =
        serde_json::from_str(events[1].cloud_trail_event().unwrap()).unwrap();
    assert!(ok.get("errorCode").is_none());
    assert_eq!(ok["eventSource"], "logs.amazonaws.com");
    assert_eq!(ok["eventName"], "CreateLogGroup");
    assert_eq!(ok["awsRegion"], "us-east-1");
    assert_eq!(ok["sourceIPAddress"], "127.0.0.1");
    assert!(
        ok["userAgent"].as_str().unwrap().contains("aws-sdk-rust"),
        "{}",
        ok["userAgent"]
    );
    assert_eq!(ok["userIdentity"]["accessKeyId"], "111111111111");
    assert_eq!(ok["userIdentity"]["accountId"], "111111111111");
    assert_eq!(ok["requestParameters"]["logGroupName"], "/audited");
    assert_eq!(ok["readOnly"], false);
    assert_eq!(ok["managementEvent"], true);
    assert_eq!(ok["eventCategory"], "Management");
    assert_eq!(ok["recipientAccountId"], "111111111111");
    assert_eq!(events[1].access_key_id(), Some("111111111111"));
    assert_eq!(events[1].read_only(), Some("false"));
    assert_eq!(events[1].resources()[0].resource_name(), Some("/audited"));
    assert_eq!(
        events[1].resources()[0].resource_type(),
        Some("AWS::Logs::LogGroup")
    );

    let by_key = lookup_until(&ct, by(LookupAttributeKey::AccessKeyId, "111111111111"), 2).await;
    assert!(by_key.len() >= 2);

    // Another account sees none of it.
    let other = server.cloudtrail_as("222222222222").await;
    let out = other
        .lookup_events()
        .lookup_attributes(by(LookupAttributeKey::EventName, "CreateLogGroup"))
        .send()
        .await
        .unwrap();
    assert!(out.events().is_empty());

    // Data events (PutLogEvents) are not in event history.
    logs.create_log_stream()
        .log_group_name("/audited")
        .log_stream_name("s")
        .send()
        .await
        .unwrap();
    lookup_until(&ct, by(LookupAttributeKey::EventName, "CreateLogStream"), 1).await;
    let out = ct
        .lookup_events()
        .lookup_attributes(by(LookupAttributeKey::EventName, "PutLogEvents"))
        .send()
        .await
        .unwrap();
    assert!(out.events().is_empty());

    let err = ct
        .lookup_events()
        .lookup_attributes(by(LookupAttributeKey::EventName, "A"))
        .lookup_attributes(by(LookupAttributeKey::Username, "B"))
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    assert!(err.is_invalid_lookup_attributes_exception(), "{err:?}");
    server.stop().await;
}

#[tokio::test]
async fn paging_walks_every_event_exactly_once() {
    let server = TestServer::start().await;
    let logs = server.logs_as("333333333333").await;
    for i in 0..7 {
        logs.create_log_group()
            .log_group_name(format!("g{i}"))
            .send()
            .await
            .unwrap();
    }
    let ct = server.cloudtrail_as("333333333333").await;
    lookup_until(&ct, by(LookupAttributeKey::EventName, "CreateLogGroup"), 7).await;
    let mut token = None;
    let mut seen = Vec::new();
    loop {
        let page = ct
            .lookup_events()
            .lookup_attributes(by(LookupAttributeKey::EventName, "CreateLogGroup"))
            .max_results(3)
            .set_next_token(token)
            .send()
            .await
            .unwrap();
        assert!(page.events().len() <= 3);
        seen.extend(
            page.events()
                .iter()
                .map(|e| e.event_id().unwrap().to_string()),
        );
        token = page.next_token().map(str::to_string);
        if token.is_none() {
            break;
        }
    }
    assert_eq!(seen.len(), 7);
    seen.sort();
    seen.dedup();
    assert_eq!(seen.len(), 7);
    server.stop().await;
}

#[tokio::test]
async fn the_journal_is_append_only_and_tampering_is_reported() {
    let dir = tempfile::tempdir().unwrap();
    let mut config = watchtrail::config::Config::ephemeral();
    config.ephemeral = false;
    config.data_dir = dir.path().to_path_buf();
    let server =
        TestServer::start_with(config, std::sync::Arc::new(watchtrail::clock::SystemClock)).await;
    let logs = server.logs().await;
    for i in 0..3 {
        logs.create_log_group()
            .log_group_name(format!("t{i}"))
            .send()
            .await
            .unwrap();
    }
    let verified: serde_json::Value =
        reqwest::get(format!("{}/_watchtrail/journal/verify", server.endpoint()))
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
    assert_eq!(verified["intact"], true);
    // A graceful stop writes everything acknowledged.
    server.stop().await;

    let report = watchtrail::services::cloudtrail::verify_data_dir(dir.path())
        .await
        .unwrap();
    assert!(report.intact);
    assert_eq!(report.records, 3);

    let options =
        sqlx::sqlite::SqliteConnectOptions::new().filename(dir.path().join("watchtrail.db"));
    let pool = sqlx::SqlitePool::connect_with(options).await.unwrap();
    let update = sqlx::query("UPDATE cloudtrail_journal SET event_name = 'x' WHERE seq = 2")
        .execute(&pool)
        .await;
    assert!(update.is_err(), "UPDATE must be refused by the schema");
    let delete = sqlx::query("DELETE FROM cloudtrail_journal WHERE seq = 2")
        .execute(&pool)
        .await;
    assert!(delete.is_err(), "DELETE must be refused by the schema");
    // Someone with the file drops the guard and edits a record.
    sqlx::query("DROP TRIGGER cloudtrail_journal_no_update")
        .execute(&pool)
        .await
        .unwrap();
    sqlx::query("UPDATE cloudtrail_journal SET event = replace(event, 't1', 'evil') WHERE seq = 2")
        .execute(&pool)
        .await
        .unwrap();
    let broken_id: String =
        sqlx::query_scalar("SELECT event_id FROM cloudtrail_journal WHERE seq = 2")
            .fetch_one(&pool)
            .await
            .unwrap();
    pool.close().await;
    let report = watchtrail::services::cloudtrail::verify_data_dir(dir.path())
        .await
        .unwrap();
    assert!(!report.intact);
    assert_eq!(report.position, Some(2));
    assert_eq!(
        report.first_broken_event_id.as_deref(),
        Some(broken_id.as_str())
    );
}

#[tokio::test]
async fn trails_deliver_to_a_log_group_and_the_bucket_directory() {
    use aws_sdk_cloudtrail::types::{
        EventSelector, InsightSelector, InsightType, ReadWriteType, Tag,
    };
    let dir = tempfile::tempdir().unwrap();
    let mut config = watchtrail::config::Config::ephemeral();
    config.ephemeral = false;
    config.data_dir = dir.path().to_path_buf();
    config.trail_delivery_ms = 50;
    let server =
        TestServer::start_with(config, std::sync::Arc::new(watchtrail::clock::SystemClock)).await;
    let ct = server.cloudtrail_as("444444444444").await;
    let logs = server.logs_as("444444444444").await;
    logs.create_log_group()
        .log_group_name("trail-logs")
        .send()
        .await
        .unwrap();

    let err = ct
        .create_trail()
        .name("-bad")
        .s3_bucket_name("b")
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    assert!(err.is_invalid_trail_name_exception(), "{err:?}");
    let err = ct
        .create_trail()
        .name("main")
        .s3_bucket_name("audit-bucket")
        .cloud_watch_logs_log_group_arn(
            "arn:aws:logs:us-east-1:444444444444:log-group:trail-logs:*",
        )
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    assert!(
        err.is_invalid_cloud_watch_logs_role_arn_exception(),
        "{err:?}"
    );
    let created = ct
        .create_trail()
        .name("main")
        .s3_bucket_name("audit-bucket")
        .s3_key_prefix("team")
        .cloud_watch_logs_log_group_arn(
            "arn:aws:logs:us-east-1:444444444444:log-group:trail-logs:*",
        )
        .cloud_watch_logs_role_arn("arn:aws:iam::444444444444:role/ct")
        .tags_list(Tag::builder().key("env").value("dev").build().unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(
        created.trail_arn(),
        Some("arn:aws:cloudtrail:us-east-1:444444444444:trail/main")
    );
    let err = ct
        .create_trail()
        .name("main")
        .s3_bucket_name("x")
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    assert!(err.is_trail_already_exists_exception());

    let got = ct.get_trail().name("main").send().await.unwrap();
    let trail = got.trail().unwrap();
    assert_eq!(trail.s3_bucket_name(), Some("audit-bucket"));
    assert_eq!(trail.home_region(), Some("us-east-1"));
    assert_eq!(trail.is_multi_region_trail(), Some(false));
    assert_eq!(
        ct.describe_trails()
            .send()
            .await
            .unwrap()
            .trail_list()
            .len(),
        1
    );
    assert_eq!(
        ct.list_trails().send().await.unwrap().trails()[0].name(),
        Some("main")
    );

    let selectors = ct
        .get_event_selectors()
        .trail_name("main")
        .send()
        .await
        .unwrap();
    assert_eq!(
        selectors.event_selectors()[0].read_write_type(),
        Some(&ReadWriteType::All)
    );
    ct.put_event_selectors()
        .trail_name("main")
        .event_selectors(
            EventSelector::builder()
                .read_write_type(ReadWriteType::WriteOnly)
                .include_management_events(true)
                .build(),
        )
        .send()
        .await
        .unwrap();
    let err = ct
        .get_insight_selectors()
        .trail_name("main")
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    assert!(err.is_insight_not_enabled_exception(), "{err:?}");
    ct.put_insight_selectors()
        .trail_name("main")
        .insight_selectors(
            InsightSelector::builder()
                .insight_type(InsightType::ApiCallRateInsight)
                .build(),
        )
        .send()
        .await
        .unwrap();
    let tags = ct
        .list_tags()
        .resource_id_list("main")
        .send()
        .await
        .unwrap();
    assert_eq!(tags.resource_tag_list()[0].tags_list()[0].key(), "env");

    ct.start_logging().name("main").send().await.unwrap();
    logs.create_log_group()
        .log_group_name("/after-start")
        .send()
        .await
        .unwrap();
    logs.describe_log_groups().send().await.unwrap(); // read-only: excluded by WriteOnly

    let stream = "444444444444_CloudTrail_us-east-1";
    let mut delivered = Vec::new();
    for _ in 0..200 {
        if let Ok(out) = logs
            .filter_log_events()
            .log_group_name("trail-logs")
            .log_stream_names(stream)
            .send()
            .await
        {
            delivered = out
                .events()
                .iter()
                .map(|e| e.message().unwrap().to_string())
                .collect();
            if delivered.iter().any(|m| m.contains("\"/after-start\"")) {
                break;
            }
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(
        delivered
            .iter()
            .any(|m| m.contains("\"eventName\":\"CreateLogGroup\"") && m.contains("/after-start")),
        "{delivered:?}"
    );
    assert!(
        !delivered
            .iter()
            .any(|m| m.contains("\"eventName\":\"DescribeLogGroups\"")),
        "WriteOnly excludes reads"
    );
    let status = ct.get_trail_status().name("main").send().await.unwrap();
    assert_eq!(status.is_logging(), Some(true));
    assert!(status.latest_cloud_watch_logs_delivery_time().is_some());
    assert!(status.latest_delivery_time().is_some());

    // The bucket directory holds gzip'd {"Records": [...]} files under AWS's key layout.
    let base = dir
        .path()
        .join("s3/audit-bucket/team/AWSLogs/444444444444/CloudTrail/us-east-1");
    let mut files = Vec::new();
    let mut stack = vec![base.clone()];
    while let Some(d) = stack.pop() {
        for entry in std::fs::read_dir(&d).unwrap() {
            let p = entry.unwrap().path();
            if p.is_dir() {
                stack.push(p)
            } else {
                files.push(p)
            }
        }
    }
    assert!(!files.is_empty(), "no file under {}", base.display());
    let name = files[0].file_name().unwrap().to_string_lossy().to_string();
    assert!(
        name.starts_with("444444444444_CloudTrail_us-east-1_") && name.ends_with(".json.gz"),
        "{name}"
    );
    let mut text = String::new();
    std::io::Read::read_to_string(
        &mut flate2::read::GzDecoder::new(std::fs::File::open(&files[0]).unwrap()),
        &mut text,
    )
    .unwrap();
    let doc: serde_json::Value = serde_json::from_str(&text).unwrap();
    assert!(doc["Records"]
        .as_array()
        .unwrap()
        .iter()
        .any(|r| r["eventName"] == "CreateLogGroup"));

    ct.stop_logging().name("main").send().await.unwrap();
    assert_eq!(
        ct.get_trail_status()
            .name("main")
            .send()
            .await
            .unwrap()
            .is_logging(),
        Some(false)
    );
    ct.delete_trail().name("main").send().await.unwrap();
    let err = ct
        .get_trail()
        .name("main")
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    assert!(err.is_trail_not_found_exception());
    server.stop().await;
}

#[tokio::test]
async fn data_events_reach_only_trails_that_select_them() {
    use aws_sdk_cloudtrail::types::{AdvancedEventSelector, AdvancedFieldSelector};
    use aws_sdk_cloudwatch::types::MetricDatum;
    let mut config = watchtrail::config::Config::ephemeral();
    config.trail_delivery_ms = 50;
    let server =
        TestServer::start_with(config, std::sync::Arc::new(watchtrail::clock::SystemClock)).await;
    let ct = server.cloudtrail_as("555555555555").await;
    let logs = server.logs_as("555555555555").await;
    let cw = server.cloudwatch_as("555555555555", "x").await;
    logs.create_log_group()
        .log_group_name("data-trail")
        .send()
        .await
        .unwrap();
    ct.create_trail()
        .name("data")
        .s3_bucket_name("b")
        .cloud_watch_logs_log_group_arn(
            "arn:aws:logs:us-east-1:555555555555:log-group:data-trail:*",
        )
        .cloud_watch_logs_role_arn("arn:aws:iam::555555555555:role/r")
        .send()
        .await
        .unwrap();
    let field = |name: &str, value: &str| {
        AdvancedFieldSelector::builder()
            .field(name)
            .equals(value)
            .build()
            .unwrap()
    };
    ct.put_event_selectors()
        .trail_name("data")
        .advanced_event_selectors(
            AdvancedEventSelector::builder()
                .field_selectors(field("eventCategory", "Data"))
                .field_selectors(field("resources.type", "AWS::CloudWatch::Metric"))
                .build()
                .unwrap(),
        )
        .send()
        .await
        .unwrap();
    ct.start_logging().name("data").send().await.unwrap();
    cw.put_metric_data()
        .namespace("Selected")
        .metric_data(MetricDatum::builder().metric_name("m").value(1.0).build())
        .send()
        .await
        .unwrap();
    let stream = "555555555555_CloudTrail_us-east-1";
    let mut delivered = Vec::new();
    for _ in 0..200 {
        if let Ok(out) = logs
            .filter_log_events()
            .log_group_name("data-trail")
            .log_stream_names(stream)
            .send()
            .await
        {
            delivered = out
                .events()
                .iter()
                .map(|e| e.message().unwrap().to_string())
                .collect();
            if !delivered.is_empty() {
                break;
            }
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let status = ct.get_trail_status().name("data").send().await.unwrap();
    assert!(
        delivered
            .iter()
            .any(|m| m.contains("\"eventName\":\"PutMetricData\"")
                && m.contains("\"eventCategory\":\"Data\"")),
        "{delivered:?} {status:?}"
    );
    // Management events do not match this trail's only selector.
    assert!(
        !delivered
            .iter()
            .any(|m| m.contains("\"eventName\":\"StartLogging\"")),
        "{delivered:?}"
    );
    // And event history still shows no data events.
    let history = ct
        .lookup_events()
        .lookup_attributes(by(LookupAttributeKey::EventName, "PutMetricData"))
        .send()
        .await
        .unwrap();
    assert!(history.events().is_empty());
    server.stop().await;
}

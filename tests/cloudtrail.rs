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
        .s3_bucket_name("../escape")
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    assert!(err.is_invalid_s3_bucket_name_exception(), "{err:?}");
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
        .s3_bucket_name("other-bucket")
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
        .s3_bucket_name("data-bucket")
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

#[tokio::test]
async fn lookup_events_answers_cloudtrails_validation_errors() {
    let server = TestServer::start().await;
    let ct = server.cloudtrail_as("666666666666").await;
    for bad in [0, 51] {
        let err = ct
            .lookup_events()
            .max_results(bad)
            .send()
            .await
            .unwrap_err()
            .into_service_error();
        assert!(err.is_invalid_max_results_exception(), "{bad}: {err:?}");
    }
    let now = aws_smithy_types::DateTime::from_secs(common::now_secs() as i64);
    let earlier = aws_smithy_types::DateTime::from_secs(common::now_secs() as i64 - 3600);
    let err = ct
        .lookup_events()
        .start_time(now)
        .end_time(earlier)
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    assert!(err.is_invalid_time_range_exception(), "{err:?}");
    let err = ct
        .lookup_events()
        .next_token("not a token")
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    assert!(err.is_invalid_next_token_exception(), "{err:?}");
    let err = ct
        .lookup_events()
        .lookup_attributes(by(LookupAttributeKey::ReadOnly, "maybe"))
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    assert!(err.is_invalid_lookup_attributes_exception(), "{err:?}");
    // The failed LookupEvents calls are management events too, with their error code.
    let events = lookup_until(&ct, by(LookupAttributeKey::EventName, "LookupEvents"), 5).await;
    let codes: Vec<String> = events
        .iter()
        .map(|e| {
            let v: serde_json::Value =
                serde_json::from_str(e.cloud_trail_event().unwrap()).unwrap();
            v["errorCode"].as_str().unwrap_or_default().to_string()
        })
        .collect();
    assert!(
        codes.contains(&"InvalidMaxResultsException".to_string())
            && codes.contains(&"InvalidTimeRangeException".to_string())
            && codes.contains(&"InvalidNextTokenException".to_string()),
        "{codes:?}"
    );
    server.stop().await;
}

#[tokio::test]
async fn an_iam_users_cloudwatch_call_is_found_by_every_attribute() {
    let dir = tempfile::tempdir().unwrap();
    let credentials = dir.path().join("credentials");
    std::fs::write(
        &credentials,
        "[alice]\naws_access_key_id = AKIAALICEEXAMPLE\naws_secret_access_key = s3cret\n\
         account_id = 777777777777\nuser_name = alice\n",
    )
    .unwrap();
    let mut config = watchtrail::config::Config::ephemeral();
    config.credentials_file = Some(credentials);
    let server =
        TestServer::start_with(config, std::sync::Arc::new(watchtrail::clock::SystemClock)).await;
    let cw = server.cloudwatch_as("AKIAALICEEXAMPLE", "s3cret").await;
    // Alarms may not be served yet; the call is journaled with its parameters either way
    // (with the error code when it failed).
    let put = cw
        .put_metric_alarm()
        .alarm_name("cpu-high")
        .namespace("App")
        .metric_name("Cpu")
        .statistic(aws_sdk_cloudwatch::types::Statistic::Average)
        .period(60)
        .evaluation_periods(1)
        .threshold(90.0)
        .comparison_operator(aws_sdk_cloudwatch::types::ComparisonOperator::GreaterThanThreshold)
        .send()
        .await;
    let _ = cw.describe_alarms().send().await;

    let ct = server.cloudtrail_as("AKIAALICEEXAMPLE").await;
    let events = lookup_until(&ct, by(LookupAttributeKey::EventName, "PutMetricAlarm"), 1).await;
    let event = &events[0];
    let record: serde_json::Value =
        serde_json::from_str(event.cloud_trail_event().unwrap()).unwrap();
    assert_eq!(record["eventSource"], "monitoring.amazonaws.com");
    assert_eq!(record["userIdentity"]["type"], "IAMUser");
    assert_eq!(record["userIdentity"]["userName"], "alice");
    assert_eq!(record["userIdentity"]["accountId"], "777777777777");
    assert_eq!(
        record["userIdentity"]["arn"],
        "arn:aws:iam::777777777777:user/alice"
    );
    // CloudWatch's PascalCase members are written camelCase.
    assert_eq!(record["requestParameters"]["alarmName"], "cpu-high");
    assert_eq!(
        record["requestParameters"]["threshold"].as_f64(),
        Some(90.0)
    );
    assert_eq!(record.get("errorCode").is_some(), put.is_err());
    assert!(record["requestParameters"].get("AlarmName").is_none());
    assert_eq!(
        record["resources"][0]["ARN"],
        "arn:aws:cloudwatch:us-east-1:777777777777:alarm:cpu-high"
    );
    assert!(
        regex_like_iso8601(record["eventTime"].as_str().unwrap()),
        "{}",
        record["eventTime"]
    );
    assert_eq!(event.username(), Some("alice"));
    let id = event.event_id().unwrap().to_string();

    for (key, value) in [
        (LookupAttributeKey::EventId, id.as_str()),
        (LookupAttributeKey::Username, "alice"),
        (LookupAttributeKey::AccessKeyId, "AKIAALICEEXAMPLE"),
        (LookupAttributeKey::EventSource, "monitoring.amazonaws.com"),
        (LookupAttributeKey::ResourceName, "cpu-high"),
        (LookupAttributeKey::ResourceType, "AWS::CloudWatch::Alarm"),
        (LookupAttributeKey::ReadOnly, "false"),
    ] {
        let found = lookup_until(&ct, by(key.clone(), value), 1).await;
        assert!(
            found.iter().any(|e| e.event_id() == Some(id.as_str())),
            "{key:?}={value}"
        );
    }
    let reads = lookup_until(&ct, by(LookupAttributeKey::ReadOnly, "true"), 1).await;
    assert!(reads.iter().all(|e| e.read_only() == Some("true")));
    let describe = lookup_until(&ct, by(LookupAttributeKey::EventName, "DescribeAlarms"), 1).await;
    let record: serde_json::Value =
        serde_json::from_str(describe[0].cloud_trail_event().unwrap()).unwrap();
    assert_eq!(record["readOnly"], true);
    assert!(record["responseElements"].is_null());
    server.stop().await;
}

fn regex_like_iso8601(s: &str) -> bool {
    let b = s.as_bytes();
    b.len() == 20
        && b[4] == b'-'
        && b[7] == b'-'
        && b[10] == b'T'
        && b[13] == b':'
        && b[16] == b':'
        && b[19] == b'Z'
}

#[tokio::test]
async fn regions_are_isolated_and_unsigned_calls_are_anonymous() {
    let server = TestServer::start().await;
    let west = aws_config::defaults(aws_config::BehaviorVersion::latest())
        .endpoint_url(server.endpoint())
        .region(aws_config::Region::new("us-west-2"))
        .credentials_provider(aws_credential_types::Credentials::new(
            "888888888888",
            "x",
            None,
            None,
            "test",
        ))
        .load()
        .await;
    aws_sdk_cloudwatchlogs::Client::new(&west)
        .create_log_group()
        .log_group_name("west-only")
        .send()
        .await
        .unwrap();
    let ct_west = aws_sdk_cloudtrail::Client::new(&west);
    lookup_until(
        &ct_west,
        by(LookupAttributeKey::ResourceName, "west-only"),
        1,
    )
    .await;
    let east = server.cloudtrail_as("888888888888").await;
    let out = east
        .lookup_events()
        .lookup_attributes(by(LookupAttributeKey::ResourceName, "west-only"))
        .send()
        .await
        .unwrap();
    assert!(out.events().is_empty());

    // An unsigned request lands in the default account, recorded as anonymous.
    let resp = server
        .post(
            "/",
            &[
                ("content-type", "application/x-amz-json-1.1"),
                ("x-amz-target", "Logs_20140328.CreateLogGroup"),
            ],
            r#"{"logGroupName":"anonymous-group"}"#,
        )
        .await;
    assert_eq!(resp.status().as_u16(), 200);
    let ct = server.cloudtrail_as("test").await;
    let events = lookup_until(
        &ct,
        by(LookupAttributeKey::ResourceName, "anonymous-group"),
        1,
    )
    .await;
    let record: serde_json::Value =
        serde_json::from_str(events[0].cloud_trail_event().unwrap()).unwrap();
    assert_eq!(record["userIdentity"]["type"], "AWSAccount");
    assert_eq!(record["userIdentity"]["accountId"], "ANONYMOUS_PRINCIPAL");
    assert_eq!(record["recipientAccountId"], "000000000000");
    assert!(events[0].access_key_id().is_none());
    server.stop().await;
}

#[tokio::test]
async fn a_reset_wipes_the_journal_and_closes_the_gate_again() {
    let dir = tempfile::tempdir().unwrap();
    let mut config = watchtrail::config::Config::ephemeral();
    config.ephemeral = false;
    config.data_dir = dir.path().to_path_buf();
    let server =
        TestServer::start_with(config, std::sync::Arc::new(watchtrail::clock::SystemClock)).await;
    let logs = server.logs().await;
    logs.create_log_group()
        .log_group_name("before-reset")
        .send()
        .await
        .unwrap();
    let ct = server.cloudtrail_as("test").await;
    lookup_until(&ct, by(LookupAttributeKey::ResourceName, "before-reset"), 1).await;
    let reset = reqwest::Client::new()
        .post(format!("{}/_watchtrail/reset", server.endpoint()))
        .send()
        .await
        .unwrap();
    assert_eq!(reset.status().as_u16(), 200);
    let out = ct
        .lookup_events()
        .lookup_attributes(by(LookupAttributeKey::ResourceName, "before-reset"))
        .send()
        .await
        .unwrap();
    assert!(out.events().is_empty());
    // The chain restarts after a reset and stays verifiable.
    logs.create_log_group()
        .log_group_name("after-reset")
        .send()
        .await
        .unwrap();
    lookup_until(&ct, by(LookupAttributeKey::ResourceName, "after-reset"), 1).await;
    server.stop().await;
    let report = watchtrail::services::cloudtrail::verify_data_dir(dir.path())
        .await
        .unwrap();
    assert!(report.intact, "{report:?}");
    assert!(report.records >= 2, "{report:?}");

    let options =
        sqlx::sqlite::SqliteConnectOptions::new().filename(dir.path().join("watchtrail.db"));
    let pool = sqlx::SqlitePool::connect_with(options).await.unwrap();
    let open: i64 = sqlx::query_scalar("SELECT open FROM cloudtrail_journal_gate")
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(open, 0);
    let delete = sqlx::query("DELETE FROM cloudtrail_journal")
        .execute(&pool)
        .await;
    assert!(delete.is_err(), "the gate must be closed after a reset");
    // Removing a record behind the server's back breaks the chain at the next one.
    sqlx::query("DROP TRIGGER cloudtrail_journal_no_delete")
        .execute(&pool)
        .await
        .unwrap();
    let first: i64 = sqlx::query_scalar("SELECT min(seq) FROM cloudtrail_journal")
        .fetch_one(&pool)
        .await
        .unwrap();
    sqlx::query("DELETE FROM cloudtrail_journal WHERE seq = ?")
        .bind(first)
        .execute(&pool)
        .await
        .unwrap();
    pool.close().await;
    let report = watchtrail::services::cloudtrail::verify_data_dir(dir.path())
        .await
        .unwrap();
    assert!(!report.intact);
    assert_eq!(report.position, Some(1));
}

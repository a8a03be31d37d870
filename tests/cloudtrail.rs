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

//! `--enforce-signatures` refuses what AWS refuses, checked with hand-signed raw requests (see
//! `common::Sign`), and closes the emulator's own endpoints to callers without a signature or
//! the admin token.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::sync::Arc;

use aws_sdk_cloudwatch::types::{ComparisonOperator, StateValue, Statistic};
use common::{Sign, TestServer};
use serde_json::{json, Value};
use watchtrail::clock::SystemClock;
use watchtrail::config::Config;

const ALICE: (&str, &str, &str) = ("AKIAALICEEXAMPLE", "alice-secret", "111111111111");
const BOB: (&str, &str, &str) = ("AKIABOBEXAMPLE", "bob-secret", "222222222222");
const ADMIN_TOKEN: &str = "let-me-in";

async fn enforcing() -> (TestServer, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let credentials = dir.path().join("credentials");
    std::fs::write(
        &credentials,
        format!(
            "[alice]\naws_access_key_id = {}\naws_secret_access_key = {}\naccount_id = {}\n\n\
             [bob]\naws_access_key_id = {}\naws_secret_access_key = {}\naccount_id = {}\n",
            ALICE.0, ALICE.1, ALICE.2, BOB.0, BOB.1, BOB.2
        ),
    )
    .unwrap();
    let mut config = Config::ephemeral();
    config.credentials_file = Some(credentials);
    config.enforce_signatures = true;
    config.admin_token = Some(ADMIN_TOKEN.into());
    config.alarm_evaluation_ms = 3_600_000;
    (
        TestServer::start_with(config, Arc::new(SystemClock)).await,
        dir,
    )
}

const LOGS_JSON: &str = "application/x-amz-json-1.1";
const ALL_LOGS_HEADERS: &[&str] = &["content-type", "host", "x-amz-date", "x-amz-target"];

fn logs_call<'a>(target: &'a str, body: &'a [u8]) -> Sign<'a> {
    let headers: &'a [(&'a str, &'a str)] = Box::leak(Box::new([
        ("content-type", LOGS_JSON),
        ("x-amz-target", target),
    ]));
    Sign::post(headers, ALL_LOGS_HEADERS, body, "logs")
}

async fn log_groups(server: &TestServer) -> Vec<String> {
    let body = b"{}";
    let (status, doc) = server
        .send_signed(&logs_call("Logs_20140328.DescribeLogGroups", body), body)
        .await;
    assert_eq!(status, 200, "{doc}");
    doc["logGroups"]
        .as_array()
        .unwrap()
        .iter()
        .map(|g| g["logGroupName"].as_str().unwrap().to_string())
        .collect()
}

fn assert_refused(status: u16, doc: &Value, expected: (u16, &str, &str)) {
    assert_eq!(
        (status, doc["__type"].as_str().unwrap_or_default()),
        (expected.0, expected.1),
        "{doc}"
    );
    assert!(
        doc["message"]
            .as_str()
            .unwrap_or_default()
            .starts_with(expected.2),
        "{doc}"
    );
}

#[tokio::test]
async fn a_correctly_signed_raw_request_passes() {
    let (server, _dir) = enforcing().await;
    let body = br#"{"logGroupName":"app"}"#;
    let (status, doc) = server
        .send_signed(&logs_call("Logs_20140328.CreateLogGroup", body), body)
        .await;
    assert_eq!(status, 200, "{doc}");
    assert_eq!(log_groups(&server).await, vec!["app"]);
    server.stop().await;
}

#[tokio::test]
async fn unsigned_payload_is_no_way_around_the_body_hash() {
    let (server, _dir) = enforcing().await;
    let signed_body = br#"{"logGroupName":"harmless"}"#;
    let sent_body = br#"{"logGroupName":"tampered"}"#;
    let headers = [
        ("content-type", LOGS_JSON),
        ("x-amz-target", "Logs_20140328.CreateLogGroup"),
        ("x-amz-content-sha256", "UNSIGNED-PAYLOAD"),
    ];
    let mut sign = Sign::post(
        &headers,
        &[
            "content-type",
            "host",
            "x-amz-content-sha256",
            "x-amz-date",
            "x-amz-target",
        ],
        signed_body,
        "logs",
    );
    sign.payload_hash = Some("UNSIGNED-PAYLOAD");
    // Tampered in transit: refused.
    let (status, doc) = server.send_signed(&sign, sent_body).await;
    assert_refused(
        status,
        &doc,
        (
            400,
            "InvalidSignatureException",
            "The request signature we calculated does not match",
        ),
    );
    // Even untouched: outside S3 the payload hash is the body's SHA-256, never the marker.
    let (status, doc) = server.send_signed(&sign, signed_body).await;
    assert_eq!(status, 400, "{doc}");
    assert_eq!(doc["__type"], "InvalidSignatureException");
    assert!(log_groups(&server).await.is_empty());
    server.stop().await;
}

#[tokio::test]
async fn host_time_stamp_and_target_must_be_signed() {
    let (server, _dir) = enforcing().await;
    let body = br#"{"logGroupName":"app"}"#;
    for (signed, message) in [
        (
            &["content-type", "x-amz-date", "x-amz-target"][..],
            "'Host' or ':authority' must be a 'SignedHeader' in the AWS Authorization.",
        ),
        (
            &["content-type", "host", "x-amz-target"][..],
            "'X-Amz-Date' must be a 'SignedHeader' in the AWS Authorization.",
        ),
        (
            &["content-type", "host", "x-amz-date"][..],
            "'X-Amz-Target' must be a 'SignedHeader' in the AWS Authorization.",
        ),
    ] {
        let mut sign = logs_call("Logs_20140328.CreateLogGroup", body);
        sign.signed = signed;
        let (status, doc) = server.send_signed(&sign, body).await;
        assert_eq!(status, 400, "{doc}");
        assert_eq!(doc["__type"], "IncompleteSignatureException", "{doc}");
        assert_eq!(doc["message"], message);
    }

    // The campaign's replay: a CreateLogGroup whose target was not signed, sent again as
    // DeleteLogGroup. The create itself is refused now, and so is the replay.
    let (status, doc) = server
        .send_signed(&logs_call("Logs_20140328.CreateLogGroup", body), body)
        .await;
    assert_eq!(status, 200, "{doc}");
    let mut create = logs_call("Logs_20140328.CreateLogGroup", body);
    create.signed = &["content-type", "host", "x-amz-date"];
    let mut replay = create.headers(&server.addr.to_string());
    for (name, value) in &mut replay {
        if name == "x-amz-target" {
            *value = "Logs_20140328.DeleteLogGroup".into();
        }
    }
    let client = reqwest::Client::new();
    let mut request = client.post(server.endpoint()).body(body.to_vec());
    for (name, value) in replay {
        request = request.header(name, value);
    }
    let response = request.send().await.unwrap();
    assert_eq!(response.status().as_u16(), 400);
    let doc: Value = response.json().await.unwrap();
    assert_eq!(doc["__type"], "IncompleteSignatureException");
    assert_eq!(log_groups(&server).await, vec!["app"]);
    server.stop().await;
}

#[tokio::test]
async fn the_scope_must_name_the_service_addressed_and_a_real_region() {
    let (server, _dir) = enforcing().await;
    // A CloudWatch call (awsJson 1.0) signed for `logs`.
    let headers = [
        ("content-type", "application/x-amz-json-1.0"),
        ("x-amz-target", "GraniteServiceVersion20100801.ListMetrics"),
    ];
    let body = b"{}";
    let wrong_service = Sign::post(&headers, ALL_LOGS_HEADERS, body, "logs");
    let (status, doc) = server.send_signed(&wrong_service, body).await;
    assert_refused(
        status,
        &doc,
        (
            400,
            "InvalidSignatureException",
            "Credential should be scoped to correct service: 'monitoring'.",
        ),
    );
    // The same through the query protocol: SignatureDoesNotMatch, 403, in XML.
    let form = b"Action=ListMetrics&Version=2010-08-01";
    let query_headers = [("content-type", "application/x-www-form-urlencoded")];
    let query_call = Sign::post(
        &query_headers,
        &["content-type", "host", "x-amz-date"],
        form,
        "logs",
    );
    let client = reqwest::Client::new();
    let mut request = client.post(server.endpoint()).body(form.to_vec());
    for (name, value) in query_call.headers(&server.addr.to_string()) {
        request = request.header(name, value);
    }
    let response = request.send().await.unwrap();
    assert_eq!(response.status().as_u16(), 403);
    let xml = response.text().await.unwrap();
    assert!(xml.contains("<Code>SignatureDoesNotMatch</Code>"), "{xml}");
    assert!(
        xml.contains("Credential should be scoped to correct service: &apos;monitoring&apos;.")
            || xml.contains("Credential should be scoped to correct service: 'monitoring'."),
        "{xml}"
    );

    // A region AWS does not have would have opened a new, empty data partition.
    let mut invented = Sign::post(&headers, ALL_LOGS_HEADERS, body, "monitoring");
    invented.region = "us-east-9";
    let (status, doc) = server.send_signed(&invented, body).await;
    assert_refused(
        status,
        &doc,
        (
            400,
            "InvalidSignatureException",
            "Credential should be scoped to a valid region, not 'us-east-9'.",
        ),
    );
    // The right service and a real region pass.
    let mut good = Sign::post(&headers, ALL_LOGS_HEADERS, body, "monitoring");
    good.region = "eu-west-1";
    let (status, doc) = server.send_signed(&good, body).await;
    assert_eq!(status, 200, "{doc}");
    server.stop().await;
}

/// A one-minute alarm in the caller's account whose ALARM action is an SNS topic, set to
/// ALARM: one delivery recorded for that account.
async fn alarm_delivery(server: &TestServer, who: (&str, &str, &str)) {
    let cw = server.cloudwatch_as(who.0, who.1).await;
    let topic = format!("arn:aws:sns:us-east-1:{}:ops", who.2);
    cw.put_metric_alarm()
        .alarm_name("load")
        .namespace("App")
        .metric_name("Load")
        .statistic(Statistic::Maximum)
        .period(60)
        .evaluation_periods(1)
        .threshold(1.0)
        .comparison_operator(ComparisonOperator::GreaterThanThreshold)
        .alarm_actions(topic)
        .send()
        .await
        .unwrap();
    cw.set_alarm_state()
        .alarm_name("load")
        .state_value(StateValue::Alarm)
        .state_reason("testing")
        .send()
        .await
        .unwrap();
}

fn admin_get<'a>(path: &'a str, query: &'a str, who: (&'a str, &'a str, &'a str)) -> Sign<'a> {
    Sign {
        method: "GET",
        path,
        query,
        headers: &[],
        signed: &["host", "x-amz-date"],
        payload_hash: None,
        body: b"",
        access_key: who.0,
        secret: who.1,
        region: "us-east-1",
        // These endpoints belong to no AWS service: any name in the scope will do.
        service: "watchtrail",
    }
}

fn accounts_of(doc: &Value) -> Vec<String> {
    doc["deliveries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["accountId"].as_str().unwrap().to_string())
        .collect()
}

#[tokio::test]
async fn emulator_endpoints_need_a_signature_or_the_admin_token() {
    let (server, _dir) = enforcing().await;
    alarm_delivery(&server, ALICE).await;
    alarm_delivery(&server, BOB).await;
    let url = |path: &str| format!("{}{path}", server.endpoint());
    let client = reqwest::Client::new();

    // Unsigned: refused, as the API refuses it. Health and the console's page stay open.
    for (method, path) in [
        ("GET", "/_watchtrail/deliveries"),
        ("GET", "/_watchtrail/journal/verify"),
        ("GET", "/_watchtrail/logs/tail?logGroupNames=app"),
        ("POST", "/_watchtrail/reset"),
        ("POST", "/moto-api/reset"),
        ("POST", "/_watchtrail/alarms/evaluate"),
    ] {
        let method = reqwest::Method::from_bytes(method.as_bytes()).unwrap();
        let response = client.request(method, url(path)).send().await.unwrap();
        assert_eq!(response.status().as_u16(), 403, "{path}");
        let doc: Value = response.json().await.unwrap();
        assert_eq!(
            doc,
            json!({"__type": "MissingAuthenticationTokenException", "message": "Request is missing Authentication Token"}),
            "{path}"
        );
    }
    let health = client.get(url("/_watchtrail/health")).send().await.unwrap();
    assert_eq!(health.status().as_u16(), 200);
    let page = client
        .get(url("/_watchtrail/console/"))
        .send()
        .await
        .unwrap();
    assert_eq!(page.status().as_u16(), 200);

    // A wrong admin token is refused; the right one sees every account.
    let wrong = client
        .get(url("/_watchtrail/deliveries"))
        .header("x-watchtrail-admin-token", "guess")
        .send()
        .await
        .unwrap();
    assert_eq!(wrong.status().as_u16(), 403);
    let doc: Value = wrong.json().await.unwrap();
    assert_eq!(doc["__type"], "AccessDeniedException");
    let admin: Value = client
        .get(url("/_watchtrail/deliveries"))
        .header("x-watchtrail-admin-token", ADMIN_TOKEN)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(accounts_of(&admin), vec![ALICE.2, BOB.2]);

    // Signed: only the caller's own account's deliveries, with narrowing as before.
    let (status, doc) = server
        .send_signed(&admin_get("/_watchtrail/deliveries", "", ALICE), b"")
        .await;
    assert_eq!(status, 200, "{doc}");
    assert_eq!(accounts_of(&doc), vec![ALICE.2]);
    assert_eq!(
        doc["deliveries"][0]["target"],
        "arn:aws:sns:us-east-1:111111111111:ops"
    );
    let (status, doc) = server
        .send_signed(
            &admin_get("/_watchtrail/deliveries", "origin=cloudwatch", BOB),
            b"",
        )
        .await;
    assert_eq!(status, 200, "{doc}");
    assert_eq!(accounts_of(&doc), vec![BOB.2]);
    // A signature over another query string is no signature for this one.
    let signed_for = admin_get("/_watchtrail/deliveries", "origin=cloudwatch", BOB);
    let headers = signed_for.headers(&server.addr.to_string());
    let mut request = client.get(url("/_watchtrail/deliveries?origin=events"));
    for (name, value) in headers {
        request = request.header(name, value);
    }
    let response = request.send().await.unwrap();
    assert_eq!(response.status().as_u16(), 400);
    let doc: Value = response.json().await.unwrap();
    assert_eq!(doc["__type"], "InvalidSignatureException");
    // A wrong secret is refused.
    let (status, doc) = server
        .send_signed(
            &admin_get("/_watchtrail/deliveries", "", (ALICE.0, "wrong", ALICE.2)),
            b"",
        )
        .await;
    assert_eq!(
        (status, doc["__type"].as_str()),
        (400, Some("InvalidSignatureException"))
    );

    // The journal check answers a signed caller.
    let (status, doc) = server
        .send_signed(&admin_get("/_watchtrail/journal/verify", "", ALICE), b"")
        .await;
    assert_eq!(status, 200, "{doc}");
    assert_eq!(doc["intact"], true);

    // A live tail of another account's groups is refused.
    let (status, doc) = server
        .send_signed(
            &admin_get(
                "/_watchtrail/logs/tail",
                "accountId=222222222222&logGroupNames=app",
                ALICE,
            ),
            b"",
        )
        .await;
    assert_eq!(status, 403, "{doc}");
    assert_eq!(doc["__type"], "AccessDeniedException");

    // A signed reset works (POST with an empty body, signed like any other).
    let mut reset = admin_get("/_watchtrail/reset", "", ALICE);
    reset.method = "POST";
    let (status, doc) = server.send_signed(&reset, b"").await;
    assert_eq!(status, 200, "{doc}");
    assert_eq!(doc["reset"], true);
    server.stop().await;
}

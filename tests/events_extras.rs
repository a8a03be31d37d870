//! EventBridge through the AWS SDK for Rust: connections and API destinations invoked by a rule
//! (against a local HTTP endpoint), archives and replays.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use aws_sdk_eventbridge::error::ProvideErrorMetadata;
use aws_sdk_eventbridge::primitives::DateTime;
use aws_sdk_eventbridge::types::{
    ConnectionAuthorizationType, ConnectionHttpParameters, ConnectionQueryStringParameter,
    CreateConnectionApiKeyAuthRequestParameters, CreateConnectionAuthRequestParameters,
    HttpParameters, InputTransformer, PutEventsRequestEntry, ReplayDestination, Target,
};
use aws_sdk_eventbridge::Client;
use common::TestServer;
use serde_json::{json, Value};

const ACCOUNT: &str = "000000000000";
const BUS: &str = "arn:aws:events:us-east-1:000000000000:event-bus/default";

async fn client(server: &TestServer) -> Client {
    Client::new(&server.sdk_config("test", "test").await)
}

#[derive(Debug, Clone)]
struct Seen {
    uri: String,
    headers: http::HeaderMap,
    body: String,
}

/// A local HTTP endpoint recording what it receives.
async fn endpoint() -> (String, Arc<Mutex<Vec<Seen>>>) {
    let seen: Arc<Mutex<Vec<Seen>>> = Arc::default();
    let log = seen.clone();
    let app = axum::Router::new().fallback(move |req: axum::extract::Request| {
        let log = log.clone();
        async move {
            let (parts, body) = req.into_parts();
            let bytes = axum::body::to_bytes(body, 1 << 20).await.unwrap();
            log.lock().unwrap().push(Seen {
                uri: parts.uri.to_string(),
                headers: parts.headers,
                body: String::from_utf8_lossy(&bytes).into_owned(),
            });
            "ok"
        }
    });
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (format!("http://{addr}"), seen)
}

async fn deliveries(server: &TestServer, target: &str) -> Vec<Value> {
    let encoded: String = target
        .bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect();
    let url = format!(
        "{}/_watchtrail/deliveries?target={encoded}",
        server.endpoint()
    );
    let body: Value = reqwest::get(url).await.unwrap().json().await.unwrap();
    body["deliveries"].as_array().cloned().unwrap_or_default()
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
async fn a_rule_invokes_an_api_destination() {
    let server = TestServer::start().await;
    let eb = client(&server).await;
    let (base, seen) = endpoint().await;

    let connection = eb
        .create_connection()
        .name("hooks")
        .authorization_type(ConnectionAuthorizationType::ApiKey)
        .auth_parameters(
            CreateConnectionAuthRequestParameters::builder()
                .api_key_auth_parameters(
                    CreateConnectionApiKeyAuthRequestParameters::builder()
                        .api_key_name("x-api-key")
                        .api_key_value("secret-1")
                        .build()
                        .unwrap(),
                )
                .invocation_http_parameters(
                    ConnectionHttpParameters::builder()
                        .query_string_parameters(
                            ConnectionQueryStringParameter::builder()
                                .key("origin")
                                .value("wt")
                                .build(),
                        )
                        .build(),
                )
                .build(),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(
        connection.connection_state().unwrap().as_str(),
        "AUTHORIZED"
    );
    let connection_arn = connection.connection_arn().unwrap().to_string();
    assert!(connection_arn.starts_with(&format!(
        "arn:aws:events:us-east-1:{ACCOUNT}:connection/hooks/"
    )));
    let described = eb.describe_connection().name("hooks").send().await.unwrap();
    let auth = described.auth_parameters().unwrap();
    assert_eq!(
        auth.api_key_auth_parameters().unwrap().api_key_name(),
        Some("x-api-key")
    );
    assert!(described.secret_arn().unwrap().starts_with(&format!(
        "arn:aws:secretsmanager:us-east-1:{ACCOUNT}:secret:events!connection/hooks/"
    )));

    let err = eb
        .create_api_destination()
        .name("nowhere")
        .connection_arn(format!(
            "arn:aws:events:us-east-1:{ACCOUNT}:connection/none/x1"
        ))
        .invocation_endpoint("https://example.com/x")
        .http_method("POST".into())
        .send()
        .await
        .unwrap_err();
    assert_eq!(err.code(), Some("ResourceNotFoundException"));

    let destination = eb
        .create_api_destination()
        .name("orders")
        .connection_arn(&connection_arn)
        .invocation_endpoint(format!("{base}/hooks/*"))
        .http_method("POST".into())
        .invocation_rate_limit_per_second(10)
        .send()
        .await
        .unwrap();
    let destination_arn = destination.api_destination_arn().unwrap().to_string();
    let listed = eb.list_api_destinations().send().await.unwrap();
    assert_eq!(listed.api_destinations().len(), 1);
    assert_eq!(
        listed.api_destinations()[0].invocation_rate_limit_per_second(),
        Some(10)
    );

    eb.put_rule()
        .name("to-hooks")
        .event_pattern(r#"{"source": ["shop"]}"#)
        .send()
        .await
        .unwrap();
    eb.put_targets()
        .rule("to-hooks")
        .targets(
            Target::builder()
                .id("hook")
                .arn(&destination_arn)
                .role_arn(format!("arn:aws:iam::{ACCOUNT}:role/events"))
                .http_parameters(
                    HttpParameters::builder()
                        .path_parameter_values("orders")
                        .query_string_parameters("q", "1")
                        .header_parameters("x-trace", "t-1")
                        .build(),
                )
                .input_transformer(
                    InputTransformer::builder()
                        .input_paths_map("n", "$.detail.n")
                        .input_template(r#"{"order": <n>, "text": "order <n>"}"#)
                        .build()
                        .unwrap(),
                )
                .build()
                .unwrap(),
        )
        .send()
        .await
        .unwrap();
    eb.put_events()
        .entries(
            PutEventsRequestEntry::builder()
                .source("shop")
                .detail_type("order")
                .detail(r#"{"n": 7}"#)
                .build(),
        )
        .send()
        .await
        .unwrap();

    let got = eventually(|| {
        let seen = seen.clone();
        async move { seen.lock().unwrap().first().cloned() }
    })
    .await;
    assert_eq!(got.uri, "/hooks/orders?q=1&origin=wt");
    assert_eq!(got.headers["x-api-key"], "secret-1");
    assert_eq!(got.headers["x-trace"], "t-1");
    let body: Value = serde_json::from_str(&got.body).unwrap();
    assert_eq!(body, json!({"order": 7, "text": "order 7"}));

    let recorded = eventually(|| {
        let (server, arn) = (&server, destination_arn.clone());
        async move {
            let d = deliveries(server, &arn).await;
            (!d.is_empty()).then_some(d)
        }
    })
    .await;
    assert_eq!(recorded[0]["status"], "delivered");
    assert_eq!(recorded[0]["targetKind"], "api-destination");

    eb.delete_api_destination()
        .name("orders")
        .send()
        .await
        .unwrap();
    let err = eb
        .describe_api_destination()
        .name("orders")
        .send()
        .await
        .unwrap_err();
    assert_eq!(err.code(), Some("ResourceNotFoundException"));
    let deleted = eb.delete_connection().name("hooks").send().await.unwrap();
    assert_eq!(deleted.connection_state().unwrap().as_str(), "DELETING");
}

#[tokio::test]
async fn archived_events_are_replayed_to_the_filtered_rules() {
    let server = TestServer::start().await;
    let eb = client(&server).await;
    let started = DateTime::from_millis(chrono_now_ms() - 60_000);

    let archive = eb
        .create_archive()
        .archive_name("shop-archive")
        .event_source_arn(BUS)
        .event_pattern(r#"{"source": ["shop"]}"#)
        .retention_days(3)
        .send()
        .await
        .unwrap();
    assert_eq!(
        archive.archive_arn(),
        Some(format!("arn:aws:events:us-east-1:{ACCOUNT}:archive/shop-archive").as_str())
    );
    let err = eb
        .create_archive()
        .archive_name("broken")
        .event_source_arn(format!(
            "arn:aws:events:us-east-1:{ACCOUNT}:event-bus/missing"
        ))
        .send()
        .await
        .unwrap_err();
    assert_eq!(err.code(), Some("ResourceNotFoundException"));
    assert_eq!(err.message(), Some("Event bus missing does not exist."));

    let queue = format!("arn:aws:sqs:us-east-1:{ACCOUNT}:orders");
    let rule_arn = eb
        .put_rule()
        .name("shop-rule")
        .event_pattern(r#"{"source": ["shop"]}"#)
        .send()
        .await
        .unwrap()
        .rule_arn
        .unwrap();
    eb.put_targets()
        .rule("shop-rule")
        .targets(Target::builder().id("q").arn(&queue).build().unwrap())
        .send()
        .await
        .unwrap();
    for (source, n) in [("shop", 1), ("elsewhere", 2), ("shop", 3)] {
        eb.put_events()
            .entries(
                PutEventsRequestEntry::builder()
                    .source(source)
                    .detail_type("order")
                    .detail(json!({ "n": n }).to_string())
                    .build(),
            )
            .send()
            .await
            .unwrap();
    }
    let count = eventually(|| {
        let eb = eb.clone();
        async move {
            let d = eb
                .describe_archive()
                .archive_name("shop-archive")
                .send()
                .await
                .unwrap();
            (d.event_count() == 2).then_some(2)
        }
    })
    .await;
    assert_eq!(count, 2);
    eventually(|| {
        let (server, queue) = (&server, queue.clone());
        async move { (deliveries(server, &queue).await.len() == 2).then_some(()) }
    })
    .await;

    tokio::time::sleep(Duration::from_millis(50)).await;
    let ended = DateTime::from_millis(chrono_now_ms() - 10);
    let replay = eb
        .start_replay()
        .replay_name("again")
        .event_source_arn(archive.archive_arn().unwrap())
        .event_start_time(started)
        .event_end_time(ended)
        .destination(
            ReplayDestination::builder()
                .arn(BUS)
                .filter_arns(&rule_arn)
                .build()
                .unwrap(),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(replay.state().unwrap().as_str(), "STARTING");

    let described = eventually(|| {
        let eb = eb.clone();
        async move {
            let d = eb
                .describe_replay()
                .replay_name("again")
                .send()
                .await
                .unwrap();
            (d.state().map(|s| s.as_str()) == Some("COMPLETED")).then_some(d)
        }
    })
    .await;
    assert!(described.replay_end_time().is_some());
    assert!(described.event_last_replayed_time().is_some());
    assert_eq!(described.destination().unwrap().arn(), BUS);

    let replayed = eventually(|| {
        let (server, queue) = (&server, queue.clone());
        async move {
            let d = deliveries(server, &queue).await;
            (d.len() == 4).then_some(d)
        }
    })
    .await;
    let replayed_bodies: Vec<Value> = replayed[2..]
        .iter()
        .map(|d| serde_json::from_str(d["body"].as_str().unwrap()).unwrap())
        .collect();
    for body in &replayed_bodies {
        assert_eq!(body["replay-name"], "again");
        assert_eq!(body["source"], "shop");
    }

    let err = eb
        .cancel_replay()
        .replay_name("again")
        .send()
        .await
        .unwrap_err();
    assert_eq!(err.code(), Some("IllegalStatusException"));
    let listed = eb.list_replays().name_prefix("ag").send().await.unwrap();
    assert_eq!(listed.replays().len(), 1);
    let archives = eb
        .list_archives()
        .event_source_arn(BUS)
        .send()
        .await
        .unwrap();
    assert_eq!(archives.archives().len(), 1);
    eb.delete_archive()
        .archive_name("shop-archive")
        .send()
        .await
        .unwrap();
    let err = eb
        .describe_archive()
        .archive_name("shop-archive")
        .send()
        .await
        .unwrap_err();
    assert_eq!(err.code(), Some("ResourceNotFoundException"));
}

fn chrono_now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or_default()
}

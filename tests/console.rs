//! The web console's server side: the page on `/` and under `/_watchtrail/console/`, API
//! requests unaffected, other origins refused, console calls marked in CloudTrail, and the
//! live tail stream.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::time::Duration;

use common::TestServer;
use futures_util::StreamExt;

async fn get(server: &TestServer, path: &str, accept: &str) -> reqwest::Response {
    reqwest::Client::new()
        .get(format!("{}{}", server.endpoint(), path))
        .header("accept", accept)
        .send()
        .await
        .unwrap()
}

#[tokio::test]
async fn a_browser_at_the_root_gets_the_console_and_api_gets_still_reach_the_api() {
    let server = TestServer::start().await;
    let page = get(&server, "/", "text/html,application/xhtml+xml,*/*;q=0.8").await;
    assert_eq!(page.status(), 200);
    assert_eq!(
        page.headers()["content-type"].to_str().unwrap(),
        "text/html; charset=utf-8"
    );
    let csp = page.headers()["content-security-policy"].to_str().unwrap();
    assert!(csp.contains("script-src 'self'"), "{csp}");
    let html = page.text().await.unwrap();
    assert!(
        html.contains("/_watchtrail/console/assets/app.js"),
        "{html}"
    );

    // A query-protocol GET is the API, whatever the Accept header says.
    let api = get(
        &server,
        "/?Action=ListMetrics&Version=2010-08-01",
        "text/html,*/*",
    )
    .await;
    assert_eq!(api.status(), 200);
    let body = api.text().await.unwrap();
    assert!(body.contains("<ListMetricsResponse"), "{body}");

    // Deep links answer the page; assets answer themselves with their type.
    let deep = get(
        &server,
        "/_watchtrail/console/alarms/my%2Falarm",
        "text/html",
    )
    .await;
    assert_eq!(deep.status(), 200);
    assert!(deep.text().await.unwrap().contains("app.js"));
    let script = get(&server, "/_watchtrail/console/assets/core.js", "*/*").await;
    assert_eq!(script.status(), 200);
    assert_eq!(
        script.headers()["content-type"].to_str().unwrap(),
        "text/javascript; charset=utf-8"
    );
    assert!(script
        .text()
        .await
        .unwrap()
        .contains("export async function call"));
    let missing = get(&server, "/_watchtrail/console/assets/nope.js", "*/*").await;
    assert_eq!(missing.status(), 404);
    server.stop().await;
}

#[tokio::test]
async fn another_origins_page_cannot_change_state() {
    let server = TestServer::start().await;
    let host = server.addr.to_string();
    // A form on another site posting a query-protocol call: refused in the protocol's shape.
    let response = server
        .post(
            "/",
            &[
                ("content-type", "application/x-www-form-urlencoded"),
                ("origin", "http://evil.example"),
            ],
            "Action=DeleteAlarms&Version=2010-08-01&AlarmNames.member.1=a",
        )
        .await;
    assert_eq!(response.status(), 403);
    let body = response.text().await.unwrap();
    assert!(body.contains("<Code>AccessDenied</Code>"), "{body}");

    let json = server
        .post(
            "/",
            &[
                ("content-type", "application/x-amz-json-1.1"),
                ("x-amz-target", "Logs_20140328.CreateLogGroup"),
                ("origin", "http://localhost:3000"),
            ],
            r#"{"logGroupName":"csrf"}"#,
        )
        .await;
    assert_eq!(json.status(), 403);
    let body = json.text().await.unwrap();
    assert!(body.contains("AccessDeniedException"), "{body}");

    let reset = server
        .post(
            "/_watchtrail/reset",
            &[("sec-fetch-site", "cross-site")],
            "",
        )
        .await;
    assert_eq!(reset.status(), 403);

    // The console's own origin is fine.
    let origin = format!("http://{host}");
    let same = server
        .post(
            "/",
            &[
                ("content-type", "application/x-amz-json-1.1"),
                ("x-amz-target", "Logs_20140328.CreateLogGroup"),
                ("origin", origin.as_str()),
                ("sec-fetch-site", "same-origin"),
            ],
            r#"{"logGroupName":"from-console"}"#,
        )
        .await;
    assert_eq!(same.status(), 200);
    let groups = server
        .logs()
        .await
        .describe_log_groups()
        .send()
        .await
        .unwrap();
    let names: Vec<_> = groups
        .log_groups()
        .iter()
        .filter_map(|g| g.log_group_name())
        .collect();
    assert_eq!(names, ["from-console"]);
    server.stop().await;
}

#[tokio::test]
async fn console_calls_are_marked_in_cloudtrail() {
    let server = TestServer::start().await;
    let created = server
        .post(
            "/",
            &[
                ("content-type", "application/x-amz-json-1.1"),
                ("x-amz-target", "Logs_20140328.CreateLogGroup"),
                ("x-watchtrail-console", "1"),
                ("user-agent", "Mozilla/5.0 (X11; Linux x86_64) Chrome/156"),
            ],
            r#"{"logGroupName":"clicked"}"#,
        )
        .await;
    assert_eq!(created.status(), 200);
    server
        .logs()
        .await
        .create_log_group()
        .log_group_name("scripted")
        .send()
        .await
        .unwrap();
    let trail = server.cloudtrail_as("test").await;
    let mut records = Vec::new();
    for _ in 0..50 {
        let events = trail.lookup_events().send().await.unwrap();
        records = events
            .events()
            .iter()
            .filter(|e| e.event_name() == Some("CreateLogGroup"))
            .map(|e| {
                serde_json::from_str::<serde_json::Value>(e.cloud_trail_event().unwrap()).unwrap()
            })
            .collect();
        if records.len() == 2 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(records.len(), 2);
    let by_group = |name: &str| {
        records
            .iter()
            .find(|r| r["requestParameters"]["logGroupName"] == name)
            .unwrap()
            .clone()
    };
    let console = by_group("clicked");
    assert_eq!(console["sessionCredentialFromConsole"], "true");
    assert_eq!(
        console["userIdentity"]["sessionContext"]["attributes"]["mfaAuthenticated"],
        "false"
    );
    assert_eq!(
        console["userAgent"],
        "Mozilla/5.0 (X11; Linux x86_64) Chrome/156"
    );
    let api = by_group("scripted");
    assert!(api.get("sessionCredentialFromConsole").is_none(), "{api}");
    server.stop().await;
}

/// Reads server-sent events until one named `wanted` arrives; returns its data.
async fn next_event(
    stream: &mut (impl futures_util::Stream<Item = reqwest::Result<bytes::Bytes>> + Unpin),
    buffer: &mut String,
    wanted: &str,
) -> String {
    loop {
        while let Some(end) = buffer.find("\n\n") {
            let frame: String = buffer.drain(..end + 2).collect();
            let mut event = "";
            let mut data = String::new();
            for line in frame.lines() {
                if let Some(name) = line.strip_prefix("event:") {
                    event = name.trim();
                } else if let Some(d) = line.strip_prefix("data:") {
                    data.push_str(d.trim());
                }
            }
            if event == wanted {
                return data;
            }
        }
        let chunk = tokio::time::timeout(Duration::from_secs(5), stream.next())
            .await
            .expect("no server-sent event in 5 s")
            .expect("stream ended")
            .unwrap();
        buffer.push_str(std::str::from_utf8(&chunk).unwrap());
    }
}

#[tokio::test]
async fn live_tail_streams_matching_events_as_they_are_committed() {
    let server = TestServer::start().await;
    let logs = server.logs().await;
    logs.create_log_group()
        .log_group_name("/app/web")
        .send()
        .await
        .unwrap();
    logs.create_log_stream()
        .log_group_name("/app/web")
        .log_stream_name("i-1")
        .send()
        .await
        .unwrap();

    let response = reqwest::Client::new()
        .get(format!(
            "{}/_watchtrail/logs/tail?logGroupNames=%2Fapp%2Fweb&filterPattern=ERROR",
            server.endpoint()
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(
        response.headers()["content-type"].to_str().unwrap(),
        "text/event-stream"
    );
    let mut stream = response.bytes_stream();
    let mut buffer = String::new();
    next_event(&mut stream, &mut buffer, "started").await;

    let now = common::now_secs() as i64 * 1000;
    logs.put_log_events()
        .log_group_name("/app/web")
        .log_stream_name("i-1")
        .log_events(
            aws_sdk_cloudwatchlogs::types::InputLogEvent::builder()
                .timestamp(now)
                .message("INFO all good")
                .build()
                .unwrap(),
        )
        .log_events(
            aws_sdk_cloudwatchlogs::types::InputLogEvent::builder()
                .timestamp(now + 1)
                .message("ERROR disk full")
                .build()
                .unwrap(),
        )
        .send()
        .await
        .unwrap();
    let data = next_event(&mut stream, &mut buffer, "events").await;
    let events: serde_json::Value = serde_json::from_str(&data).unwrap();
    assert_eq!(
        events,
        serde_json::json!([{
            "logGroupName": "/app/web",
            "logStreamName": "i-1",
            "timestamp": now + 1,
            "ingestionTime": events[0]["ingestionTime"],
            "message": "ERROR disk full",
        }])
    );
    assert!(events[0]["ingestionTime"].as_i64().unwrap() >= now - 60_000);

    // A bad pattern is refused with the filter language's message.
    let bad = reqwest::Client::new()
        .get(format!(
            "{}/_watchtrail/logs/tail?logGroupNames=a&filterPattern=%7B%20%24.x%20%3D",
            server.endpoint()
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(bad.status(), 400);
    let body: serde_json::Value = bad.json().await.unwrap();
    assert_eq!(body["__type"], "InvalidParameterException");
    // The open tail does not hold the shutdown up.
    tokio::time::timeout(Duration::from_secs(10), server.stop())
        .await
        .expect("shutdown waited for the open tail");
}

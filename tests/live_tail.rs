//! StartLiveTail through the AWS SDK for Rust (its event-stream receiver checks every frame's
//! CRCs) and through raw HTTP.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::net::{IpAddr, Ipv4Addr};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use aws_credential_types::Credentials;
use aws_sdk_cloudwatchlogs::types::{InputLogEvent, StartLiveTailResponseStream};
use aws_sdk_cloudwatchlogs::Client;
use aws_smithy_runtime_api::client::dns::{DnsFuture, ResolveDns};
use common::TestServer;
use watchtrail::clock::SystemClock;
use watchtrail::config::Config;
use watchtrail::protocol::eventstream;

/// The Rust SDK always puts the model's `stream-` host prefix before the endpoint's host for
/// StartLiveTail (it has no switch to turn that off), so `http://127.0.0.1:PORT` becomes
/// `http://stream-127.0.0.1:PORT`, which no resolver knows. This one answers loopback for every
/// name, as a hosts-file line `127.0.0.1 stream-localhost` would for `http://localhost:PORT`,
/// and records the names it was asked.
#[derive(Debug, Clone, Default)]
struct Loopback {
    asked: Arc<Mutex<Vec<String>>>,
}

impl ResolveDns for Loopback {
    fn resolve_dns<'a>(&'a self, name: &'a str) -> DnsFuture<'a> {
        self.asked.lock().unwrap().push(name.to_string());
        DnsFuture::ready(Ok(vec![IpAddr::V4(Ipv4Addr::LOCALHOST)]))
    }
}

async fn tail_client(server: &TestServer, resolver: Loopback) -> Client {
    let http = aws_smithy_http_client::Builder::new()
        .tls_provider(aws_smithy_http_client::tls::Provider::Rustls(
            aws_smithy_http_client::tls::rustls_provider::CryptoMode::AwsLc,
        ))
        .build_with_resolver(resolver);
    let config = aws_config::defaults(aws_config::BehaviorVersion::latest())
        .endpoint_url(server.endpoint())
        .region(aws_config::Region::new("us-east-1"))
        .credentials_provider(Credentials::new("test", "test", None, None, "test"))
        .http_client(http)
        .load()
        .await;
    Client::new(&config)
}

async fn group_with_stream(logs: &Client, group: &str, stream: &str) {
    logs.create_log_group()
        .log_group_name(group)
        .send()
        .await
        .unwrap();
    logs.create_log_stream()
        .log_group_name(group)
        .log_stream_name(stream)
        .send()
        .await
        .unwrap();
}

async fn put(logs: &Client, group: &str, stream: &str, messages: &[&str]) -> i64 {
    let now = common::now_secs() as i64 * 1000;
    let events: Vec<_> = messages
        .iter()
        .map(|m| {
            InputLogEvent::builder()
                .timestamp(now)
                .message(*m)
                .build()
                .unwrap()
        })
        .collect();
    logs.put_log_events()
        .log_group_name(group)
        .log_stream_name(stream)
        .set_log_events(Some(events))
        .send()
        .await
        .unwrap();
    now
}

type Receiver = aws_sdk_cloudwatchlogs::primitives::event_stream::EventReceiver<
    StartLiveTailResponseStream,
    aws_sdk_cloudwatchlogs::types::error::StartLiveTailResponseStreamError,
>;

/// The next update that carries events (skipping the once-a-second empty ones).
async fn next_results(
    stream: &mut Receiver,
) -> aws_sdk_cloudwatchlogs::types::LiveTailSessionUpdate {
    loop {
        let event = tokio::time::timeout(Duration::from_secs(5), stream.recv())
            .await
            .expect("an update within 5 s")
            .unwrap()
            .expect("the stream is open");
        if let StartLiveTailResponseStream::SessionUpdate(update) = event {
            if !update.session_results().is_empty() {
                return update;
            }
        }
    }
}

#[tokio::test]
async fn the_sdk_tails_a_group_through_its_stream_host_prefix() {
    let server = TestServer::start().await;
    let logs = server.logs().await;
    group_with_stream(&logs, "/app/web", "web-1").await;
    logs.create_log_stream()
        .log_group_name("/app/web")
        .log_stream_name("worker-1")
        .send()
        .await
        .unwrap();
    let resolver = Loopback::default();
    let tail = tail_client(&server, resolver.clone()).await;
    let arn = "arn:aws:logs:us-east-1:000000000000:log-group:/app/web";
    let mut output = tail
        .start_live_tail()
        .log_group_identifiers(arn)
        .log_stream_name_prefixes("web-")
        .log_event_filter_pattern("ERROR")
        .send()
        .await
        .unwrap();
    assert_eq!(
        resolver.asked.lock().unwrap().as_slice(),
        ["stream-127.0.0.1"],
        "the SDK prefixes the endpoint's host"
    );
    let start = match output.response_stream.recv().await.unwrap().unwrap() {
        StartLiveTailResponseStream::SessionStart(start) => start,
        other => panic!("expected sessionStart, got {other:?}"),
    };
    assert_eq!(start.log_group_identifiers(), [arn]);
    assert_eq!(start.log_stream_name_prefixes(), ["web-"]);
    assert!(start.log_stream_names().is_empty());
    assert_eq!(start.log_event_filter_pattern(), Some("ERROR"));
    assert_eq!(start.session_id().map(str::len), Some(36));
    assert_eq!(start.request_id().map(str::len), Some(36));

    put(&logs, "/app/web", "worker-1", &["ERROR in a worker"]).await;
    let stamp = put(&logs, "/app/web", "web-1", &["INFO fine", "ERROR boom"]).await;
    let update = next_results(&mut output.response_stream).await;
    assert_eq!(update.session_metadata().map(|m| m.sampled()), Some(false));
    let results = update.session_results();
    assert_eq!(results.len(), 1, "{results:?}");
    assert_eq!(results[0].message(), Some("ERROR boom"));
    assert_eq!(results[0].log_stream_name(), Some("web-1"));
    assert_eq!(results[0].log_group_identifier(), Some(arn));
    assert_eq!(results[0].timestamp(), Some(stamp));
    let ingested = results[0].ingestion_time().unwrap();
    assert!((ingested - stamp).abs() < 10_000, "{ingested} vs {stamp}");

    // Without events, an empty update arrives each second, as AWS sends them.
    let started = Instant::now();
    match output.response_stream.recv().await.unwrap().unwrap() {
        StartLiveTailResponseStream::SessionUpdate(update) => {
            assert!(update.session_results().is_empty())
        }
        other => panic!("expected an empty sessionUpdate, got {other:?}"),
    }
    let waited = started.elapsed();
    assert!(waited > Duration::from_millis(500) && waited < Duration::from_millis(2500));
    server.stop().await;
}

#[tokio::test]
async fn names_work_as_identifiers_and_stream_names_select_streams() {
    let server = TestServer::start().await;
    let logs = server.logs().await;
    group_with_stream(&logs, "a", "s1").await;
    logs.create_log_stream()
        .log_group_name("a")
        .log_stream_name("s2")
        .send()
        .await
        .unwrap();
    let tail = tail_client(&server, Loopback::default()).await;
    let mut output = tail
        .start_live_tail()
        .log_group_identifiers("a")
        .log_stream_names("s2")
        .send()
        .await
        .unwrap();
    output.response_stream.recv().await.unwrap().unwrap();
    put(&logs, "a", "s1", &["one"]).await;
    put(&logs, "a", "s2", &["two", "three"]).await;
    let update = next_results(&mut output.response_stream).await;
    let messages: Vec<_> = update
        .session_results()
        .iter()
        .map(|e| (e.log_group_identifier().unwrap(), e.message().unwrap()))
        .collect();
    assert_eq!(messages, [("a", "two"), ("a", "three")]);
    server.stop().await;
}

#[tokio::test]
async fn bad_requests_get_aws_errors_before_any_stream() {
    let server = TestServer::start().await;
    let logs = server.logs().await;
    group_with_stream(&logs, "g1", "s").await;
    group_with_stream(&logs, "g2", "s").await;
    let tail = tail_client(&server, Loopback::default()).await;
    type StartError = aws_sdk_cloudwatchlogs::error::SdkError<
        aws_sdk_cloudwatchlogs::operation::start_live_tail::StartLiveTailError,
        aws_smithy_runtime_api::client::orchestrator::HttpResponse,
    >;
    let code = |e: StartError| {
        let e = e.into_service_error();
        use aws_sdk_cloudwatchlogs::error::ProvideErrorMetadata;
        (
            e.code().unwrap_or_default().to_string(),
            e.message().unwrap_or_default().to_string(),
        )
    };
    let missing = tail
        .start_live_tail()
        .log_group_identifiers("arn:aws:logs:us-east-1:000000000000:log-group:nope")
        .send()
        .await
        .unwrap_err();
    assert_eq!(
        code(missing),
        (
            "ResourceNotFoundException".into(),
            "The specified log group does not exist.".into()
        )
    );
    let both = tail
        .start_live_tail()
        .log_group_identifiers("g1")
        .log_stream_names("s")
        .log_stream_name_prefixes("s")
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(both).0, "InvalidParameterException");
    let two_groups = tail
        .start_live_tail()
        .log_group_identifiers("g1")
        .log_group_identifiers("g2")
        .log_stream_names("s")
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(two_groups).0, "InvalidParameterException");
    let pattern = tail
        .start_live_tail()
        .log_group_identifiers("g1")
        .log_event_filter_pattern("{ $.x = ")
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(pattern).0, "InvalidParameterException");
    let mut eleven = tail.start_live_tail();
    for _ in 0..11 {
        eleven = eleven.log_group_identifiers("g1");
    }
    assert_eq!(
        code(eleven.send().await.unwrap_err()).0,
        "InvalidParameterException"
    );
    server.stop().await;
}

#[tokio::test]
async fn the_sixteenth_concurrent_session_is_refused_until_one_closes() {
    let server = TestServer::start().await;
    let logs = server.logs().await;
    group_with_stream(&logs, "g", "s").await;
    let tail = tail_client(&server, Loopback::default()).await;
    let mut open = Vec::new();
    for _ in 0..15 {
        let mut output = tail
            .start_live_tail()
            .log_group_identifiers("g")
            .send()
            .await
            .unwrap();
        output.response_stream.recv().await.unwrap().unwrap();
        open.push(output);
    }
    let refused = tail
        .start_live_tail()
        .log_group_identifiers("g")
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    assert!(refused.is_limit_exceeded_exception(), "{refused:?}");
    // Closing a session's connection frees its slot (the server notices on its next write,
    // within a second).
    drop(open.pop());
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        match tail
            .start_live_tail()
            .log_group_identifiers("g")
            .send()
            .await
        {
            Ok(_) => break,
            Err(e) if Instant::now() < deadline => {
                assert!(e.into_service_error().is_limit_exceeded_exception());
                tokio::time::sleep(Duration::from_millis(200)).await;
            }
            Err(e) => panic!("the slot was not freed: {e:?}"),
        }
    }
    server.stop().await;
}

#[tokio::test]
async fn a_session_times_out_with_aws_exception_in_the_stream() {
    let config = Config {
        live_tail_session_ms: 1200,
        ..Config::ephemeral()
    };
    let server = TestServer::start_with(config, Arc::new(SystemClock)).await;
    let logs = server.logs().await;
    group_with_stream(&logs, "g", "s").await;
    let tail = tail_client(&server, Loopback::default()).await;
    let mut output = tail
        .start_live_tail()
        .log_group_identifiers("g")
        .send()
        .await
        .unwrap();
    let mut updates = 0;
    let error = loop {
        match output.response_stream.recv().await {
            Ok(Some(StartLiveTailResponseStream::SessionStart(_))) => {}
            Ok(Some(StartLiveTailResponseStream::SessionUpdate(_))) => updates += 1,
            Ok(other) => panic!("unexpected {other:?}"),
            Err(e) => break e.into_service_error(),
        }
    };
    assert_eq!(updates, 1, "one empty update in 1.2 s");
    assert!(error.is_session_timeout_exception(), "{error:?}");
    use aws_sdk_cloudwatchlogs::error::ProvideErrorMetadata;
    assert_eq!(
        error.message(),
        Some("The Live Tail session has timed out after being open for 1.2 seconds.")
    );
    server.stop().await;
}

#[tokio::test]
async fn more_than_500_events_a_second_are_sampled() {
    let server = TestServer::start().await;
    let logs = server.logs().await;
    group_with_stream(&logs, "g", "s").await;
    let tail = tail_client(&server, Loopback::default()).await;
    let mut output = tail
        .start_live_tail()
        .log_group_identifiers("g")
        .send()
        .await
        .unwrap();
    output.response_stream.recv().await.unwrap().unwrap();
    let messages: Vec<String> = (0..2000).map(|i| format!("event {i}")).collect();
    let refs: Vec<&str> = messages.iter().map(String::as_str).collect();
    put(&logs, "g", "s", &refs).await;
    let update = next_results(&mut output.response_stream).await;
    assert_eq!(update.session_results().len(), 500);
    assert_eq!(update.session_metadata().map(|m| m.sampled()), Some(true));
    // Evenly spaced over the burst: every fourth event.
    assert_eq!(update.session_results()[0].message(), Some("event 3"));
    assert_eq!(update.session_results()[499].message(), Some("event 1999"));
    server.stop().await;
}

/// The wire itself: status, content type, and frames whose CRCs and headers are AWS's.
#[tokio::test]
async fn the_answer_is_an_event_stream_of_framed_json_messages() {
    let server = TestServer::start().await;
    let logs = server.logs().await;
    group_with_stream(&logs, "g", "s").await;
    let mut response = server
        .post(
            "/",
            &[
                ("content-type", "application/x-amz-json-1.1"),
                ("x-amz-target", "Logs_20140328.StartLiveTail"),
            ],
            r#"{"logGroupIdentifiers":["g"]}"#,
        )
        .await;
    assert_eq!(response.status(), 200);
    assert_eq!(
        response.headers()["content-type"],
        "application/vnd.amazon.eventstream"
    );
    let request_id = response.headers()["x-amzn-requestid"]
        .to_str()
        .unwrap()
        .to_string();
    let mut buffer = Vec::new();
    let mut next = async || loop {
        if let Ok((message, used)) = eventstream::decode(&buffer) {
            buffer.drain(..used);
            return message;
        }
        let chunk = response.chunk().await.unwrap().expect("stream open");
        buffer.extend_from_slice(&chunk);
    };
    // awsJson event streams open with an initial response (botocore requires it).
    let initial = next().await;
    assert_eq!(initial.header(":event-type"), Some("initial-response"));
    assert_eq!(initial.payload, b"{}");
    let start = next().await;
    assert_eq!(start.header(":message-type"), Some("event"));
    assert_eq!(start.header(":event-type"), Some("sessionStart"));
    assert_eq!(start.header(":content-type"), Some("application/json"));
    let body: serde_json::Value = serde_json::from_slice(&start.payload).unwrap();
    assert_eq!(body["requestId"], request_id.as_str());
    assert_eq!(body["logGroupIdentifiers"], serde_json::json!(["g"]));
    assert_eq!(body["logEventFilterPattern"], "");
    put(&logs, "g", "s", &["hello"]).await;
    let update = next().await;
    assert_eq!(update.header(":event-type"), Some("sessionUpdate"));
    let body: serde_json::Value = serde_json::from_slice(&update.payload).unwrap();
    assert_eq!(body["sessionMetadata"]["sampled"], false);
    assert_eq!(body["sessionResults"][0]["message"], "hello");
    assert_eq!(body["sessionResults"][0]["logStreamName"], "s");
    assert_eq!(body["sessionResults"][0]["logGroupIdentifier"], "g");
    server.stop().await;
}

/// Latency of an event from its PutLogEvents answer to 10 open sessions, under concurrent
/// ingest into other streams of the group. Prints the figures rather than asserting a timing,
/// which would depend on the machine.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn latency_to_ten_sessions_under_ingest() {
    let server = TestServer::start().await;
    let logs = server.logs().await;
    group_with_stream(&logs, "g", "probe").await;
    for w in 0..4 {
        logs.create_log_stream()
            .log_group_name("g")
            .log_stream_name(format!("load-{w}"))
            .send()
            .await
            .unwrap();
    }
    let tail = tail_client(&server, Loopback::default()).await;
    let mut receivers = Vec::new();
    for _ in 0..10 {
        let mut output = tail
            .start_live_tail()
            .log_group_identifiers("g")
            .log_stream_names("probe")
            .send()
            .await
            .unwrap();
        output.response_stream.recv().await.unwrap().unwrap();
        receivers.push(output.response_stream);
    }
    let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let ingested = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let mut load = Vec::new();
    for w in 0..4 {
        let logs = logs.clone();
        let (stop, ingested) = (stop.clone(), ingested.clone());
        load.push(tokio::spawn(async move {
            let messages: Vec<String> = (0..1000).map(|i| format!("load {w} {i}")).collect();
            let refs: Vec<&str> = messages.iter().map(String::as_str).collect();
            while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                put(&logs, "g", &format!("load-{w}"), &refs).await;
                ingested.fetch_add(1000, std::sync::atomic::Ordering::Relaxed);
            }
        }));
    }
    let started = Instant::now();
    let mut latencies = Vec::new();
    for i in 0..50 {
        let message = format!("probe {i}");
        put(&logs, "g", "probe", &[&message]).await;
        let answered = Instant::now();
        for receiver in receivers.iter_mut() {
            let update = next_results(receiver).await;
            assert_eq!(
                update.session_results()[0].message(),
                Some(message.as_str())
            );
            latencies.push(answered.elapsed());
        }
    }
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    for task in load {
        task.await.unwrap();
    }
    let rate = ingested.load(std::sync::atomic::Ordering::Relaxed) as f64
        / started.elapsed().as_secs_f64();
    latencies.sort();
    let at = |q: f64| latencies[((latencies.len() as f64 * q) as usize).min(latencies.len() - 1)];
    println!(
        "live tail latency, 10 sessions, {rate:.0} events/s of ingest: p50 {:?}, p99 {:?}, max {:?}",
        at(0.5),
        at(0.99),
        latencies.last().unwrap()
    );
    server.stop().await;
}

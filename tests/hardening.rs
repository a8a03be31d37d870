//! Bad inputs the reliability campaign found answered wrongly: each must get AWS's error (in
//! the protocol's shape), never a stored value the service cannot use, a wrapped number or a
//! plain-text answer; and the server keeps serving after each.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use aws_sdk_cloudwatch::error::ProvideErrorMetadata;
use aws_sdk_cloudwatch::primitives::DateTime;
use aws_sdk_cloudwatch::types::{MetricDatum, Statistic};
use common::{now_secs, TestServer};
use serde_json::Value;

const OVER_THE_LIMIT: usize = 16 * 1024 * 1024 + 1;

#[tokio::test]
async fn bodies_over_the_limit_get_413_in_the_protocols_error_shape() {
    let server = TestServer::start().await;
    let big = vec![b' '; OVER_THE_LIMIT];
    // awsJson (CloudWatch Logs).
    let resp = server
        .post(
            "/",
            &[
                ("content-type", "application/x-amz-json-1.1"),
                ("x-amz-target", "Logs_20140328.PutLogEvents"),
            ],
            big.clone(),
        )
        .await;
    assert_eq!(resp.status().as_u16(), 413);
    assert_eq!(resp.headers()["content-type"], "application/x-amz-json-1.1");
    assert!(resp.headers().contains_key("x-amzn-requestid"));
    let doc: Value = resp.json().await.unwrap();
    assert_eq!(doc["__type"], "RequestEntityTooLarge");
    assert_eq!(doc["message"], "Request size exceeded 16777216 bytes");

    // Query (CloudWatch): an XML ErrorResponse.
    let resp = server
        .post(
            "/",
            &[("content-type", "application/x-www-form-urlencoded")],
            big.clone(),
        )
        .await;
    assert_eq!(resp.status().as_u16(), 413);
    let xml = resp.text().await.unwrap();
    assert!(xml.starts_with("<ErrorResponse"), "{xml}");
    assert!(xml.contains("<Code>RequestEntityTooLarge</Code>"), "{xml}");
    assert!(
        xml.contains("<Message>Request size exceeded 16777216 bytes</Message>"),
        "{xml}"
    );

    // RPC v2 CBOR (CloudWatch through the Rust SDK): a CBOR error document.
    let resp = server
        .post(
            "/service/GraniteServiceVersion20100801/operation/PutMetricData",
            &[
                ("content-type", "application/cbor"),
                ("smithy-protocol", "rpc-v2-cbor"),
            ],
            big,
        )
        .await;
    assert_eq!(resp.status().as_u16(), 413);
    assert_eq!(
        resp.headers()["x-amzn-query-error"],
        "RequestEntityTooLarge;Sender"
    );
    let bytes = resp.bytes().await.unwrap();
    let doc: ciborium::Value = ciborium::de::from_reader(bytes.as_ref()).unwrap();
    let text = format!("{doc:?}");
    assert!(text.contains("RequestEntityTooLarge"), "{text}");

    // And the server still answers.
    let cw = server.cloudwatch().await;
    cw.list_metrics().send().await.unwrap();
    server.stop().await;
}

#[tokio::test]
async fn counts_aws_rejects_are_refused_and_never_stored() {
    let server = TestServer::start().await;
    let cw = server.cloudwatch().await;
    let now = (now_secs() / 60.0).floor() * 60.0 - 120.0;
    let put = |counts: Vec<f64>| {
        cw.put_metric_data().namespace("App").metric_data(
            MetricDatum::builder()
                .metric_name("Hits")
                .timestamp(DateTime::from_secs_f64(now))
                .set_values(Some(vec![1.0; counts.len()]))
                .set_counts(Some(counts))
                .build(),
        )
    };
    for (counts, message) in [
        (
            vec![1e308],
            "The value 1.0E308 for parameter MetricData.member.1.Counts is invalid: values must be in the range -2^360 to 2^360.",
        ),
        (
            vec![1.0, -2.0],
            "The value -2.0 for parameter MetricData.member.1.Counts is invalid: counts must not be negative.",
        ),
        (
            vec![0.0, 0.0],
            "The parameter MetricData.member.1.Counts must contain at least one count greater than 0.",
        ),
    ] {
        let err = put(counts).send().await.unwrap_err();
        assert_eq!(err.code(), Some("InvalidParameterValue"), "{err:?}");
        assert_eq!(err.message(), Some(message));
    }
    // Nothing was stored: the statistics of the minute have no datapoint at all.
    // The minute's SampleCount, Sum and Average.
    let minute_stats = || {
        cw.get_metric_statistics()
            .namespace("App")
            .metric_name("Hits")
            .start_time(DateTime::from_secs_f64(now - 60.0))
            .end_time(DateTime::from_secs_f64(now + 60.0))
            .period(60)
            .statistics(Statistic::SampleCount)
            .statistics(Statistic::Sum)
            .statistics(Statistic::Average)
            .send()
    };
    let stats = minute_stats().await.unwrap();
    assert!(stats.datapoints().is_empty());
    // The largest count AWS takes answers every statistic.
    put(vec![2f64.powi(360)]).send().await.unwrap();
    let stats = minute_stats().await.unwrap();
    let point = &stats.datapoints()[0];
    assert_eq!(point.sample_count(), Some(2f64.powi(360)));
    assert_eq!(point.sum(), Some(2f64.powi(360)));
    assert_eq!(point.average(), Some(1.0));
    server.stop().await;
}

#[tokio::test]
async fn client_numbers_out_of_range_are_refused_at_decode() {
    let server = TestServer::start().await;
    let json_call = |body: &'static str| {
        server.post(
            "/",
            &[
                ("content-type", "application/x-amz-json-1.0"),
                (
                    "x-amz-target",
                    "GraniteServiceVersion20100801.GetMetricStatistics",
                ),
            ],
            body,
        )
    };
    // The campaign's case: -1e300 reached `(t * 1000) as i64` and then a subtraction.
    let resp = json_call(
        r#"{"Namespace":"A","MetricName":"B","StartTime":-1e300,"EndTime":1704164700,"Period":60,"Statistics":["Sum"]}"#,
    )
    .await;
    assert_eq!(resp.status().as_u16(), 400);
    let doc: Value = resp.json().await.unwrap();
    assert_eq!(doc["__type"], "SerializationException");
    assert_eq!(
        doc["message"],
        "Value -1e+300 at 'StartTime' is out of range for a Timestamp"
    );
    // An Integer past 32 bits.
    let resp = json_call(
        r#"{"Namespace":"A","MetricName":"B","StartTime":1704164000,"EndTime":1704164700,"Period":4294967356,"Statistics":["Sum"]}"#,
    )
    .await;
    assert_eq!(resp.status().as_u16(), 400);
    let doc: Value = resp.json().await.unwrap();
    assert_eq!(doc["__type"], "SerializationException");
    assert_eq!(
        doc["message"],
        "Value 4294967356 at 'Period' is out of range for an Integer"
    );
    // The same through the query protocol: InvalidParameterValue.
    let (status, xml) = server
        .query(
            "Action=GetMetricStatistics&Version=2010-08-01&Namespace=A&MetricName=B\
             &StartTime=-1e300&EndTime=2024-01-02T03%3A05%3A00Z&Period=60&Statistics.member.1=Sum",
        )
        .await;
    assert_eq!(status, 400, "{xml}");
    assert!(xml.contains("<Code>InvalidParameterValue</Code>"), "{xml}");
    assert!(
        xml.contains("The value -1e300 for parameter StartTime is not a valid timestamp."),
        "{xml}"
    );
    // Year 10000 is no timestamp either.
    let (status, xml) = server
        .query(
            "Action=GetMetricStatistics&Version=2010-08-01&Namespace=A&MetricName=B\
             &StartTime=2024-01-02T03%3A04%3A00Z&EndTime=10000-01-01T00%3A00%3A00Z&Period=60&Statistics.member.1=Sum",
        )
        .await;
    assert_eq!(status, 400, "{xml}");
    assert!(xml.contains("<Code>InvalidParameterValue</Code>"), "{xml}");
    // The server is still serving, and a good call is answered.
    let cw = server.cloudwatch().await;
    let now = now_secs();
    cw.get_metric_statistics()
        .namespace("A")
        .metric_name("B")
        .start_time(DateTime::from_secs_f64(now - 600.0))
        .end_time(DateTime::from_secs_f64(now))
        .period(60)
        .statistics(Statistic::Sum)
        .send()
        .await
        .unwrap();
    server.stop().await;
}

#[tokio::test]
async fn filter_log_events_refuses_a_start_after_the_end() {
    let server = TestServer::start().await;
    let logs = server.logs().await;
    logs.create_log_group()
        .log_group_name("app")
        .send()
        .await
        .unwrap();
    let err = logs
        .filter_log_events()
        .log_group_name("app")
        .start_time(2_000)
        .end_time(1_000)
        .send()
        .await
        .unwrap_err();
    assert_eq!(err.code(), Some("InvalidParameterException"), "{err:?}");
    assert_eq!(
        err.message(),
        Some("startTime (2000) must be less than or equal to endTime (1000).")
    );
    // Equal bounds are a range of one millisecond, not an error.
    let out = logs
        .filter_log_events()
        .log_group_name("app")
        .start_time(1_000)
        .end_time(1_000)
        .send()
        .await
        .unwrap();
    assert!(out.events().is_empty());
    server.stop().await;
}

#[tokio::test]
async fn schedules_past_what_aws_reads_are_invalid() {
    let server = TestServer::start().await;
    let events = aws_sdk_eventbridge::Client::new(&server.sdk_config("test", "test").await);
    for expression in ["rate(106751991167 days)", "rate(2147483648 minutes)"] {
        let err = events
            .put_rule()
            .name("far")
            .schedule_expression(expression)
            .send()
            .await
            .unwrap_err();
        assert_eq!(err.code(), Some("ValidationException"), "{expression}");
        assert_eq!(
            err.message(),
            Some("Parameter ScheduleExpression is not valid.")
        );
    }
    events
        .put_rule()
        .name("far")
        .schedule_expression("rate(2147483647 days)")
        .send()
        .await
        .unwrap();
    server.stop().await;
}

#[tokio::test]
async fn verify_journal_takes_its_flags_after_the_subcommand() {
    let dir = tempfile::tempdir().unwrap();
    let mut config = watchtrail::config::Config::ephemeral();
    config.ephemeral = false;
    config.data_dir = dir.path().to_path_buf();
    let server =
        TestServer::start_with(config, std::sync::Arc::new(watchtrail::clock::SystemClock)).await;
    let logs = server.logs().await;
    logs.create_log_group()
        .log_group_name("app")
        .send()
        .await
        .unwrap();
    server.stop().await;
    // The README's form: `watchtrail verify-journal --data-dir DIR`.
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_watchtrail"))
        .arg("verify-journal")
        .arg("--data-dir")
        .arg(dir.path())
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["intact"], true);
    assert_eq!(report["records"], 1);
}

#[tokio::test]
async fn connections_are_capped_and_idle_ones_closed() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut config = watchtrail::config::Config::ephemeral();
    config.max_connections = Some(2);
    config.idle_timeout_ms = 400;
    let server =
        TestServer::start_with(config, std::sync::Arc::new(watchtrail::clock::SystemClock)).await;
    // Two clients that send half a request and stop: they hold both places.
    let mut stalled = Vec::new();
    for _ in 0..2 {
        let mut stream = tokio::net::TcpStream::connect(server.addr).await.unwrap();
        stream
            .write_all(b"POST / HTTP/1.1\r\nhost: x\r\ncontent-length: 100\r\n\r\n{")
            .await
            .unwrap();
        stalled.push(stream);
    }
    tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    // A third is answered at once: 503 with an error document, then closed.
    let mut third = tokio::net::TcpStream::connect(server.addr).await.unwrap();
    let mut answer = String::new();
    third.read_to_string(&mut answer).await.unwrap();
    assert!(
        answer.starts_with("HTTP/1.1 503 Service Unavailable\r\n"),
        "{answer}"
    );
    assert!(answer.contains("retry-after: 1\r\n"), "{answer}");
    assert!(answer.ends_with(r#"{"__type":"ServiceUnavailable","message":"The server is at its connection limit. Retry the request later."}"#));
    // The stalled ones are closed once idle for the timeout, which frees their places.
    for mut stream in stalled {
        let mut rest = Vec::new();
        let read = tokio::time::timeout(
            std::time::Duration::from_secs(5),
            stream.read_to_end(&mut rest),
        )
        .await
        .expect("closed by the idle timeout");
        // Closed, with or without an error answer first; never the request's 200.
        assert!(
            !String::from_utf8_lossy(&rest).contains(" 200 "),
            "{read:?}"
        );
    }
    let health = reqwest::get(format!("{}/_watchtrail/health", server.endpoint()))
        .await
        .unwrap();
    assert_eq!(health.status().as_u16(), 200);
    server.stop().await;
}

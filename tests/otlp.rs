//! OTLP/HTTP over the wire: protobuf bodies built with the OpenTelemetry crate's own message
//! types, OTLP/JSON, gzip, and the error answers.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::io::Write;

use common::TestServer;
use opentelemetry_proto::tonic::collector::logs::v1::{
    ExportLogsServiceRequest, ExportLogsServiceResponse,
};
use opentelemetry_proto::tonic::common::v1::{any_value, AnyValue, InstrumentationScope, KeyValue};
use opentelemetry_proto::tonic::logs::v1::{LogRecord, ResourceLogs, ScopeLogs};
use opentelemetry_proto::tonic::resource::v1::Resource;
use prost::Message;
use serde_json::{json, Value};

fn text(s: &str) -> Option<AnyValue> {
    Some(AnyValue {
        value: Some(any_value::Value::StringValue(s.into())),
    })
}

fn export(records: Vec<LogRecord>) -> ExportLogsServiceRequest {
    ExportLogsServiceRequest {
        resource_logs: vec![ResourceLogs {
            resource: Some(Resource {
                attributes: vec![KeyValue {
                    key: "service.name".into(),
                    value: text("checkout"),
                    ..Default::default()
                }],
                ..Default::default()
            }),
            scope_logs: vec![ScopeLogs {
                scope: Some(InstrumentationScope {
                    name: "app.logger".into(),
                    version: "2.1".into(),
                    ..Default::default()
                }),
                log_records: records,
                ..Default::default()
            }],
            ..Default::default()
        }],
    }
}

fn record(ms: i64, body: &str) -> LogRecord {
    LogRecord {
        time_unix_nano: ms as u64 * 1_000_000,
        severity_number: 17,
        severity_text: "ERROR".into(),
        body: text(body),
        attributes: vec![KeyValue {
            key: "order.id".into(),
            value: Some(AnyValue {
                value: Some(any_value::Value::IntValue(42)),
            }),
            ..Default::default()
        }],
        ..Default::default()
    }
}

async fn stored(server: &TestServer, group: &str) -> Vec<(i64, Value)> {
    let logs = server.logs().await;
    let out = logs
        .filter_log_events()
        .log_group_name(group)
        .send()
        .await
        .unwrap();
    out.events()
        .iter()
        .map(|e| {
            (
                e.timestamp().unwrap(),
                serde_json::from_str(e.message().unwrap()).unwrap(),
            )
        })
        .collect()
}

fn now_ms() -> i64 {
    common::now_secs() as i64 * 1000
}

#[tokio::test]
async fn protobuf_logs_are_stored_as_json_documents() {
    let server = TestServer::start().await;
    let logs = server.logs().await;
    logs.create_log_group()
        .log_group_name("otel")
        .send()
        .await
        .unwrap();
    let t = now_ms();
    let body = export(vec![record(t, "payment failed"), record(t - 5, "retrying")]).encode_to_vec();
    let response = server
        .post(
            "/v1/logs",
            &[
                ("content-type", "application/x-protobuf"),
                ("x-aws-log-group", "otel"),
                ("x-aws-log-stream", "svc-1"),
            ],
            body,
        )
        .await;
    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["content-type"], "application/x-protobuf");
    let answer = ExportLogsServiceResponse::decode(response.bytes().await.unwrap()).unwrap();
    assert_eq!(answer.partial_success, None);
    let events = stored(&server, "otel").await;
    // Stored in time order; the stream named by the header was created.
    assert_eq!(events.len(), 2);
    assert_eq!(events[0].0, t - 5);
    assert_eq!(events[1].0, t);
    assert_eq!(
        events[1].1,
        json!({
            "resource": {"attributes": {"service.name": "checkout"}},
            "scope": {"name": "app.logger", "version": "2.1"},
            "timeUnixNano": t as u64 * 1_000_000,
            "severityNumber": 17,
            "severityText": "ERROR",
            "body": "payment failed",
            "attributes": {"order.id": 42},
        })
    );
    let streams = logs
        .describe_log_streams()
        .log_group_name("otel")
        .send()
        .await
        .unwrap();
    assert_eq!(streams.log_streams()[0].log_stream_name(), Some("svc-1"));
    server.stop().await;
}

#[tokio::test]
async fn gzip_json_bodies_and_partial_success() {
    let server = TestServer::start().await;
    let logs = server.logs().await;
    logs.create_log_group()
        .log_group_name("otel")
        .send()
        .await
        .unwrap();
    let t = now_ms();
    let day = 86_400_000;
    let body = json!({
        "resourceLogs": [{
            "resource": {"attributes": [{"key": "service.name", "value": {"stringValue": "web"}}]},
            "scopeLogs": [{
                "scope": {"name": "s"},
                "logRecords": [
                    {"timeUnixNano": ((t - 20 * day) as u64 * 1_000_000).to_string(), "body": {"stringValue": "old"}},
                    {"timeUnixNano": (t as u64 * 1_000_000).to_string(), "severityText": "INFO",
                     "body": {"kvlistValue": {"values": [{"key": "k", "value": {"boolValue": true}}]}}},
                    {"timeUnixNano": ((t + day) as u64 * 1_000_000).to_string(), "body": {"stringValue": "future"}},
                ]
            }]
        }]
    });
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    gz.write_all(body.to_string().as_bytes()).unwrap();
    let response = server
        .post(
            "/v1/logs",
            &[
                ("content-type", "application/json"),
                ("content-encoding", "gzip"),
                ("x-aws-log-group", "otel"),
                ("x-aws-log-stream", "s"),
            ],
            gz.finish().unwrap(),
        )
        .await;
    assert_eq!(response.status(), 200);
    let answer: Value = response.json().await.unwrap();
    assert_eq!(answer["partialSuccess"]["rejectedLogRecords"], 2);
    let message: Value =
        serde_json::from_str(answer["partialSuccess"]["errorMessage"].as_str().unwrap()).unwrap();
    assert_eq!(
        message,
        json!({"tooOldLogEventCount": 1, "tooNewLogEventCount": 1, "expiredLogEventCount": 0})
    );
    let events = stored(&server, "otel").await;
    assert_eq!(events.len(), 1);
    assert_eq!(events[0].1["body"], json!({"k": true}));
    assert_eq!(events[0].1["resource"]["attributes"]["service.name"], "web");
    server.stop().await;
}

#[tokio::test]
async fn bad_requests_get_otlp_status_answers_and_the_server_keeps_serving() {
    let server = TestServer::start().await;
    let headers = |ct: &'static str, group: &'static str| {
        vec![
            ("content-type", ct),
            ("x-aws-log-group", group),
            ("x-aws-log-stream", "s"),
        ]
    };
    let json_error = |status: u16, code: i64| {
        move |(s, body): (u16, Value)| {
            assert_eq!(s, status, "{body}");
            assert_eq!(body["code"], code, "{body}");
            body["message"].as_str().unwrap().to_string()
        }
    };
    let send = async |headers: Vec<(&str, &str)>, body: Vec<u8>| {
        let r = server.post("/v1/logs", &headers, body).await;
        let status = r.status().as_u16();
        (status, r.json::<Value>().await.unwrap_or(Value::Null))
    };
    // No such group: NOT_FOUND, in the words of CloudWatch Logs.
    let message = json_error(400, 5)(
        send(
            headers("application/json", "missing"),
            br#"{"resourceLogs":[{"scopeLogs":[{"logRecords":[{"body":{"stringValue":"x"}}]}]}]}"#
                .to_vec(),
        )
        .await,
    );
    assert!(message.contains("ResourceNotFoundException"), "{message}");
    // Not JSON, not protobuf.
    json_error(400, 3)(send(headers("application/json", "g"), b"{nope".to_vec()).await);
    let r = server
        .post(
            "/v1/logs",
            &headers("application/x-protobuf", "g"),
            vec![0xff, 0xff, 0xff],
        )
        .await;
    assert_eq!(r.status(), 400);
    assert_eq!(r.headers()["content-type"], "application/x-protobuf");
    // google.rpc.Status: field 1 (code) = 3.
    assert_eq!(&r.bytes().await.unwrap()[..2], [0x08, 0x03]);
    json_error(415, 3)(send(headers("text/plain", "g"), b"hello".to_vec()).await);
    // Missing headers.
    let (status, _) = send(vec![("content-type", "application/json")], b"{}".to_vec()).await;
    assert_eq!(status, 400);
    // Traces: X-Ray is not hosted.
    let r = server
        .post("/v1/traces", &[("content-type", "application/json")], "{}")
        .await;
    assert_eq!(r.status(), 501);
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["code"], 12);
    assert!(body["message"].as_str().unwrap().contains("X-Ray"));
    // Still serving.
    let logs = server.logs().await;
    logs.create_log_group()
        .log_group_name("g")
        .send()
        .await
        .unwrap();
    let (status, body) = send(
        headers("application/json", "g"),
        br#"{"resourceLogs":[]}"#.to_vec(),
    )
    .await;
    assert_eq!((status, body), (200, json!({})));
    server.stop().await;
}

mod metrics {
    use super::*;
    use opentelemetry_proto::tonic::collector::metrics::v1::ExportMetricsServiceRequest;
    use opentelemetry_proto::tonic::metrics::v1::{
        metric, number_data_point, Gauge, Histogram, HistogramDataPoint, Metric, NumberDataPoint,
        ResourceMetrics, ScopeMetrics, Sum,
    };

    fn kv(key: &str, value: &str) -> KeyValue {
        KeyValue {
            key: key.into(),
            value: text(value),
            ..Default::default()
        }
    }

    fn export(metrics: Vec<Metric>) -> Vec<u8> {
        ExportMetricsServiceRequest {
            resource_metrics: vec![ResourceMetrics {
                resource: Some(Resource {
                    attributes: vec![kv("service.namespace", "shop"), kv("service.name", "api")],
                    ..Default::default()
                }),
                scope_metrics: vec![ScopeMetrics {
                    metrics,
                    ..Default::default()
                }],
                ..Default::default()
            }],
        }
        .encode_to_vec()
    }

    fn point(nanos: u64, value: f64) -> NumberDataPoint {
        NumberDataPoint {
            attributes: vec![kv("route", "/pay")],
            start_time_unix_nano: 1,
            time_unix_nano: nanos,
            value: Some(number_data_point::Value::AsDouble(value)),
            ..Default::default()
        }
    }

    async fn post(server: &TestServer, body: Vec<u8>) {
        let r = server
            .post(
                "/v1/metrics",
                &[("content-type", "application/x-protobuf")],
                body,
            )
            .await;
        assert_eq!(r.status(), 200, "{:?}", r.text().await);
    }

    #[tokio::test]
    async fn gauges_sums_and_histograms_become_cloudwatch_datapoints() {
        let server = TestServer::start().await;
        let minute = (now_ms() / 60_000 - 5) * 60_000;
        let nanos = |ms: i64| ms as u64 * 1_000_000;
        let gauge = |v| Metric {
            name: "queue.depth".into(),
            unit: "{items}".into(),
            data: Some(metric::Data::Gauge(Gauge {
                data_points: vec![point(nanos(minute + 1000), v)],
            })),
            ..Default::default()
        };
        let counter = |v| Metric {
            name: "requests".into(),
            data: Some(metric::Data::Sum(Sum {
                data_points: vec![point(nanos(minute + 2000), v)],
                aggregation_temporality: 2,
                is_monotonic: true,
            })),
            ..Default::default()
        };
        let histogram = Metric {
            name: "latency".into(),
            unit: "ms".into(),
            data: Some(metric::Data::Histogram(Histogram {
                data_points: vec![HistogramDataPoint {
                    attributes: vec![kv("route", "/pay")],
                    time_unix_nano: nanos(minute + 3000),
                    count: 4,
                    sum: Some(100.0),
                    min: Some(5.0),
                    max: Some(60.0),
                    bucket_counts: vec![1, 2, 1],
                    explicit_bounds: vec![10.0, 50.0],
                    ..Default::default()
                }],
                aggregation_temporality: 1,
            })),
            ..Default::default()
        };
        post(&server, export(vec![gauge(7.0), counter(100.0), histogram])).await;
        // The cumulative total 100 was a baseline; 130 puts a change of 30.
        post(&server, export(vec![counter(130.0)])).await;

        let cw = server.cloudwatch().await;
        let stats = |name: &'static str| {
            let cw = cw.clone();
            async move {
                let out = cw
                    .get_metric_statistics()
                    .namespace("shop/api")
                    .metric_name(name)
                    .dimensions(
                        aws_sdk_cloudwatch::types::Dimension::builder()
                            .name("service.namespace")
                            .value("shop")
                            .build(),
                    )
                    .dimensions(
                        aws_sdk_cloudwatch::types::Dimension::builder()
                            .name("service.name")
                            .value("api")
                            .build(),
                    )
                    .dimensions(
                        aws_sdk_cloudwatch::types::Dimension::builder()
                            .name("route")
                            .value("/pay")
                            .build(),
                    )
                    .start_time(aws_smithy_types::DateTime::from_millis(minute))
                    .end_time(aws_smithy_types::DateTime::from_millis(minute + 60_000))
                    .period(60)
                    .statistics(aws_sdk_cloudwatch::types::Statistic::Sum)
                    .statistics(aws_sdk_cloudwatch::types::Statistic::SampleCount)
                    .statistics(aws_sdk_cloudwatch::types::Statistic::Minimum)
                    .statistics(aws_sdk_cloudwatch::types::Statistic::Maximum)
                    .send()
                    .await
                    .unwrap();
                let p = &out.datapoints()[0];
                (
                    p.sum().unwrap(),
                    p.sample_count().unwrap(),
                    p.minimum().unwrap(),
                    p.maximum().unwrap(),
                    p.unit().map(|u| u.as_str().to_string()),
                )
            }
        };
        assert_eq!(
            stats("queue.depth").await,
            (7.0, 1.0, 7.0, 7.0, Some("Count".into()))
        );
        assert_eq!(
            stats("requests").await,
            (30.0, 1.0, 30.0, 30.0, Some("None".into()))
        );
        assert_eq!(
            stats("latency").await,
            (100.0, 4.0, 5.0, 60.0, Some("Milliseconds".into()))
        );
        // Bad bodies are OTLP errors.
        let r = server
            .post(
                "/v1/metrics",
                &[("content-type", "application/json")],
                "[1,",
            )
            .await;
        assert_eq!(r.status(), 400);
        server.stop().await;
    }
}

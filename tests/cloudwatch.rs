//! CloudWatch metrics through the AWS SDK for Rust (RPC v2 CBOR) and raw query and JSON
//! requests, asserting the statistics CloudWatch would compute over known data.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use aws_sdk_cloudwatch::primitives::DateTime;
use aws_sdk_cloudwatch::types::{
    Dimension, DimensionFilter, Metric, MetricDataQuery, MetricDatum, MetricStat, ScanBy,
    StandardUnit, Statistic, StatisticSet,
};
use common::{now_secs, TestServer};

fn dt(secs: f64) -> DateTime {
    DateTime::from_secs_f64(secs)
}

fn dim(name: &str, value: &str) -> Dimension {
    Dimension::builder().name(name).value(value).build()
}

/// A minute boundary ten minutes ago, so every point below falls in known one-minute buckets.
fn base_minute() -> f64 {
    ((now_secs() / 60.0).floor() - 10.0) * 60.0
}

#[tokio::test]
async fn statistics_over_values_arrays_sets_and_single_values() {
    let server = TestServer::start().await;
    let cw = server.cloudwatch().await;
    let t0 = base_minute();
    cw.put_metric_data()
        .namespace("App")
        .metric_data(
            MetricDatum::builder()
                .metric_name("Latency")
                .dimensions(dim("Host", "a"))
                .timestamp(dt(t0 + 1.0))
                .value(10.0)
                .unit(StandardUnit::Milliseconds)
                .build(),
        )
        .metric_data(
            MetricDatum::builder()
                .metric_name("Latency")
                .dimensions(dim("Host", "a"))
                .timestamp(dt(t0 + 2.0))
                .values(20.0)
                .values(30.0)
                .counts(1.0)
                .counts(3.0)
                .unit(StandardUnit::Milliseconds)
                .build(),
        )
        .metric_data(
            MetricDatum::builder()
                .metric_name("Latency")
                .dimensions(dim("Host", "a"))
                .timestamp(dt(t0 + 61.0))
                .statistic_values(
                    StatisticSet::builder()
                        .sample_count(4.0)
                        .sum(100.0)
                        .minimum(5.0)
                        .maximum(60.0)
                        .build(),
                )
                .unit(StandardUnit::Milliseconds)
                .build(),
        )
        .send()
        .await
        .unwrap();

    let out = cw
        .get_metric_statistics()
        .namespace("App")
        .metric_name("Latency")
        .dimensions(dim("Host", "a"))
        .start_time(dt(t0))
        .end_time(dt(t0 + 120.0))
        .period(60)
        .statistics(Statistic::Sum)
        .statistics(Statistic::Average)
        .statistics(Statistic::Minimum)
        .statistics(Statistic::Maximum)
        .statistics(Statistic::SampleCount)
        .send()
        .await
        .unwrap();
    assert_eq!(out.label(), Some("Latency"));
    let mut points = out.datapoints().to_vec();
    points.sort_by(|a, b| {
        a.timestamp()
            .unwrap()
            .secs()
            .cmp(&b.timestamp().unwrap().secs())
    });
    assert_eq!(points.len(), 2);
    // Minute 1: 10 once, 20 once, 30 three times.
    let first = &points[0];
    assert_eq!(first.timestamp().unwrap().secs() as f64, t0);
    assert_eq!(first.sample_count(), Some(5.0));
    assert_eq!(first.sum(), Some(120.0));
    assert_eq!(first.average(), Some(24.0));
    assert_eq!(first.minimum(), Some(10.0));
    assert_eq!(first.maximum(), Some(30.0));
    assert_eq!(first.unit(), Some(&StandardUnit::Milliseconds));
    // Minute 2: the statistic set as given.
    let second = &points[1];
    assert_eq!(second.sample_count(), Some(4.0));
    assert_eq!(second.sum(), Some(100.0));
    assert_eq!(second.average(), Some(25.0));
    assert_eq!(second.minimum(), Some(5.0));
    assert_eq!(second.maximum(), Some(60.0));

    let pct = cw
        .get_metric_statistics()
        .namespace("App")
        .metric_name("Latency")
        .dimensions(dim("Host", "a"))
        .start_time(dt(t0))
        .end_time(dt(t0 + 60.0))
        .period(60)
        .extended_statistics("p50")
        .extended_statistics("p99")
        .send()
        .await
        .unwrap();
    let dp = &pct.datapoints()[0];
    let ext = dp.extended_statistics().unwrap();
    assert_eq!(ext.get("p50"), Some(&30.0));
    assert_eq!(ext.get("p99"), Some(&30.0));
    assert_eq!(dp.sum(), None);
    server.stop().await;
}

#[tokio::test]
async fn list_metrics_filters_and_pages() {
    let server = TestServer::start().await;
    let cw = server.cloudwatch().await;
    for batch in 0..3 {
        let mut req = cw.put_metric_data().namespace("Fleet");
        for i in 0..250 {
            let n = batch * 250 + i;
            req = req.metric_data(
                MetricDatum::builder()
                    .metric_name("CPU")
                    .dimensions(dim("Host", &format!("h{n:03}")))
                    .dimensions(dim("Role", if n % 2 == 0 { "web" } else { "db" }))
                    .value(n as f64)
                    .build(),
            );
        }
        req.send().await.unwrap();
    }
    cw.put_metric_data()
        .namespace("Other")
        .metric_data(MetricDatum::builder().metric_name("Mem").value(1.0).build())
        .send()
        .await
        .unwrap();

    let mut seen = std::collections::HashSet::new();
    let mut token = None;
    let mut pages = 0;
    loop {
        let page = cw
            .list_metrics()
            .namespace("Fleet")
            .set_next_token(token)
            .send()
            .await
            .unwrap();
        pages += 1;
        assert!(page.metrics().len() <= 500);
        for m in page.metrics() {
            assert_eq!(m.namespace(), Some("Fleet"));
            let host = m
                .dimensions()
                .iter()
                .find(|d| d.name() == Some("Host"))
                .unwrap()
                .value()
                .unwrap()
                .to_string();
            assert!(seen.insert(host), "metric listed twice");
        }
        token = page.next_token().map(str::to_string);
        if token.is_none() {
            break;
        }
    }
    assert_eq!(pages, 2);
    assert_eq!(seen.len(), 750);

    let web = cw
        .list_metrics()
        .dimensions(DimensionFilter::builder().name("Role").value("web").build())
        .send()
        .await
        .unwrap();
    assert_eq!(web.metrics().len(), 375);
    let any_host = cw
        .list_metrics()
        .metric_name("CPU")
        .dimensions(DimensionFilter::builder().name("Host").build())
        .send()
        .await
        .unwrap();
    assert_eq!(
        any_host.metrics().len() + any_host.next_token().map_or(0, |_| 250),
        750
    );
    let mem = cw.list_metrics().namespace("Other").send().await.unwrap();
    assert_eq!(mem.metrics().len(), 1);
    assert_eq!(mem.metrics()[0].metric_name(), Some("Mem"));
    assert!(mem.metrics()[0].dimensions().is_empty());
    server.stop().await;
}

#[tokio::test]
async fn get_metric_data_queries_labels_order_and_paging() {
    let server = TestServer::start().await;
    let cw = server.cloudwatch().await;
    let t0 = base_minute();
    let mut req = cw.put_metric_data().namespace("Shop");
    for minute in 0..5 {
        req = req.metric_data(
            MetricDatum::builder()
                .metric_name("Orders")
                .timestamp(dt(t0 + 60.0 * minute as f64 + 5.0))
                .value(minute as f64 + 1.0)
                .build(),
        );
        req = req.metric_data(
            MetricDatum::builder()
                .metric_name("Errors")
                .timestamp(dt(t0 + 60.0 * minute as f64 + 5.0))
                .value(10.0)
                .build(),
        );
    }
    req.send().await.unwrap();
    let stat = |name: &str, s: &str| {
        MetricStat::builder()
            .metric(
                Metric::builder()
                    .namespace("Shop")
                    .metric_name(name)
                    .build(),
            )
            .period(60)
            .stat(s)
            .build()
    };
    let out = cw
        .get_metric_data()
        .metric_data_queries(
            MetricDataQuery::builder()
                .id("orders")
                .metric_stat(stat("Orders", "Sum"))
                .label("Orders per minute")
                .build(),
        )
        .metric_data_queries(
            MetricDataQuery::builder()
                .id("errors")
                .metric_stat(stat("Errors", "SampleCount"))
                .build(),
        )
        .metric_data_queries(
            MetricDataQuery::builder()
                .id("hidden")
                .metric_stat(stat("Errors", "Sum"))
                .return_data(false)
                .build(),
        )
        .start_time(dt(t0))
        .end_time(dt(t0 + 300.0))
        .scan_by(ScanBy::TimestampAscending)
        .send()
        .await
        .unwrap();
    let results = out.metric_data_results();
    assert_eq!(results.len(), 2);
    assert_eq!(results[0].id(), Some("orders"));
    assert_eq!(results[0].label(), Some("Orders per minute"));
    assert_eq!(results[0].values(), &[1.0, 2.0, 3.0, 4.0, 5.0]);
    assert_eq!(results[0].timestamps()[0].secs() as f64, t0);
    assert_eq!(results[1].label(), Some("Errors"));
    assert_eq!(results[1].values(), &[1.0; 5]);
    assert_eq!(
        results[0].status_code().map(|s| s.as_str()),
        Some("Complete")
    );

    // Descending (the default) and paging three datapoints at a time.
    let mut all = Vec::new();
    let mut token = None;
    loop {
        let page = cw
            .get_metric_data()
            .metric_data_queries(
                MetricDataQuery::builder()
                    .id("orders")
                    .metric_stat(stat("Orders", "Maximum"))
                    .build(),
            )
            .start_time(dt(t0))
            .end_time(dt(t0 + 300.0))
            .max_datapoints(3)
            .set_next_token(token)
            .send()
            .await
            .unwrap();
        all.extend(page.metric_data_results()[0].values().iter().copied());
        token = page.next_token().map(str::to_string);
        if token.is_none() {
            break;
        }
    }
    assert_eq!(all, vec![5.0, 4.0, 3.0, 2.0, 1.0]);
    server.stop().await;
}

#[tokio::test]
async fn sdk_errors_are_typed_with_aws_codes() {
    let server = TestServer::start().await;
    let cw = server.cloudwatch().await;
    let now = now_secs();
    let err = cw
        .get_metric_statistics()
        .namespace("App")
        .metric_name("X")
        .start_time(dt(now - 600.0))
        .end_time(dt(now))
        .period(61)
        .statistics(Statistic::Sum)
        .send()
        .await
        .unwrap_err();
    let service_err = err.into_service_error();
    assert!(
        service_err.is_invalid_parameter_value_exception(),
        "{service_err:?}"
    );

    let err = cw
        .get_metric_statistics()
        .namespace("App")
        .metric_name("X")
        .start_time(dt(now - 86_400.0 * 2.0))
        .end_time(dt(now))
        .period(60)
        .statistics(Statistic::Sum)
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    assert!(err.is_invalid_parameter_combination_exception(), "{err:?}");
    assert!(
        format!("{err:?}").contains("which exceeds the limit of 1440"),
        "{err:?}"
    );

    let err = cw
        .put_metric_data()
        .namespace("App")
        .metric_data(
            MetricDatum::builder()
                .metric_name("X")
                .value(1.0)
                .statistic_values(
                    StatisticSet::builder()
                        .sample_count(1.0)
                        .sum(1.0)
                        .minimum(1.0)
                        .maximum(1.0)
                        .build(),
                )
                .build(),
        )
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    assert!(err.is_invalid_parameter_combination_exception(), "{err:?}");
    server.stop().await;
}

#[tokio::test]
async fn query_protocol_round_trip_with_xml() {
    let server = TestServer::start().await;
    let t0 = base_minute();
    let ts = chrono_like(t0 + 5.0);
    let (status, body) = server
        .query(&format!(
            "Action=PutMetricData&Version=2010-08-01&Namespace=Q&MetricData.member.1.MetricName=Hits\
             &MetricData.member.1.Value=4&MetricData.member.1.Unit=Count&MetricData.member.1.Timestamp={ts}\
             &MetricData.member.2.MetricName=Hits&MetricData.member.2.Value=6&MetricData.member.2.Unit=Count\
             &MetricData.member.2.Timestamp={ts}"
        ))
        .await;
    assert_eq!(status, 200, "{body}");
    assert!(body.contains(
        "<PutMetricDataResponse xmlns=\"http://monitoring.amazonaws.com/doc/2010-08-01/\">"
    ));
    assert!(body.contains("<RequestId>"));

    let (status, body) = server
        .query(&format!(
            "Action=GetMetricStatistics&Version=2010-08-01&Namespace=Q&MetricName=Hits&StartTime={}&EndTime={}&Period=60\
             &Statistics.member.1=Sum&Statistics.member.2=Maximum",
            chrono_like(t0),
            chrono_like(t0 + 60.0)
        ))
        .await;
    assert_eq!(status, 200, "{body}");
    assert!(body.contains("<GetMetricStatisticsResult>"), "{body}");
    assert!(body.contains("<Sum>10.0</Sum>"), "{body}");
    assert!(body.contains("<Maximum>6.0</Maximum>"), "{body}");
    assert!(body.contains("<Unit>Count</Unit>"), "{body}");
    assert!(body.contains("<Label>Hits</Label>"), "{body}");

    let (status, body) = server
        .query("Action=GetMetricStatistics&Version=2010-08-01&Namespace=Q")
        .await;
    assert_eq!(status, 400);
    assert!(body.contains("<Code>MissingParameter</Code>"), "{body}");
    assert!(body.contains("<Type>Sender</Type>"), "{body}");

    let (status, body) = server.query("Action=NoSuchThing&Version=2010-08-01").await;
    assert_eq!(status, 400);
    assert!(body.contains("<Code>InvalidAction</Code>"), "{body}");

    let (status, body) = server
        .query("Action=GetCallerIdentity&Version=2011-06-15")
        .await;
    assert_eq!(status, 200);
    assert!(body.contains("<Account>000000000000</Account>"), "{body}");
    server.stop().await;
}

#[tokio::test]
async fn json_protocol_errors_carry_the_query_error_header() {
    let server = TestServer::start().await;
    let resp = server
        .post(
            "/",
            &[
                ("content-type", "application/x-amz-json-1.0"),
                ("x-amz-target", "GraniteServiceVersion20100801.GetMetricStatistics"),
                ("x-amzn-query-mode", "true"),
            ],
            r#"{"Namespace":"A","MetricName":"B","StartTime":10,"EndTime":5,"Period":60,"Statistics":["Sum"]}"#,
        )
        .await;
    assert_eq!(resp.status().as_u16(), 400);
    assert_eq!(
        resp.headers()["x-amzn-query-error"],
        "InvalidParameterValue;Sender"
    );
    assert!(resp.headers().contains_key("x-amzn-requestid"));
    let v: serde_json::Value = resp.json().await.unwrap();
    assert_eq!(v["__type"], "InvalidParameterValueException");
    assert!(v["message"].as_str().unwrap().contains("StartTime"));

    // Garbage and truncated bodies are client errors, and the server keeps serving.
    for body in [&b"{\"Namespace\":"[..], &[0xff, 0x00, 0x13][..], &b"[]"[..]] {
        let resp = server
            .post(
                "/",
                &[
                    ("x-amz-target", "GraniteServiceVersion20100801.ListMetrics"),
                    ("content-type", "application/x-amz-json-1.0"),
                ],
                body.to_vec(),
            )
            .await;
        assert_eq!(resp.status().as_u16(), 400);
    }
    let resp = server
        .post(
            "/service/GraniteServiceVersion20100801/operation/ListMetrics",
            &[
                ("smithy-protocol", "rpc-v2-cbor"),
                ("content-type", "application/cbor"),
            ],
            vec![0xbf, 0x61],
        )
        .await;
    assert_eq!(resp.status().as_u16(), 400);
    assert_eq!(resp.headers()["smithy-protocol"], "rpc-v2-cbor");
    let ok = server
        .post(
            "/",
            &[
                ("x-amz-target", "GraniteServiceVersion20100801.ListMetrics"),
                ("content-type", "application/x-amz-json-1.0"),
            ],
            "{}",
        )
        .await;
    assert_eq!(ok.status().as_u16(), 200);
    server.stop().await;
}

#[tokio::test]
async fn gzip_request_bodies_are_accepted() {
    use std::io::Write;
    let server = TestServer::start().await;
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    gz.write_all(br#"{"Namespace":"Z","MetricData":[{"MetricName":"m","Value":3}]}"#)
        .unwrap();
    let body = gz.finish().unwrap();
    let resp = server
        .post(
            "/",
            &[
                ("content-type", "application/x-amz-json-1.0"),
                (
                    "x-amz-target",
                    "GraniteServiceVersion20100801.PutMetricData",
                ),
                ("content-encoding", "gzip"),
            ],
            body,
        )
        .await;
    assert_eq!(resp.status().as_u16(), 200);
    let cw = server.cloudwatch().await;
    let listed = cw.list_metrics().namespace("Z").send().await.unwrap();
    assert_eq!(listed.metrics().len(), 1);
    server.stop().await;
}

#[tokio::test]
async fn accounts_are_isolated_by_access_key() {
    let server = TestServer::start().await;
    let alice = server.cloudwatch_as("111111111111", "x").await;
    let bob = server.cloudwatch_as("222222222222", "x").await;
    alice
        .put_metric_data()
        .namespace("Mine")
        .metric_data(MetricDatum::builder().metric_name("m").value(1.0).build())
        .send()
        .await
        .unwrap();
    assert_eq!(
        alice.list_metrics().send().await.unwrap().metrics().len(),
        1
    );
    assert!(bob
        .list_metrics()
        .send()
        .await
        .unwrap()
        .metrics()
        .is_empty());
    server.stop().await;
}

#[tokio::test]
async fn reset_endpoint_wipes_state() {
    let server = TestServer::start().await;
    let cw = server.cloudwatch().await;
    cw.put_metric_data()
        .namespace("R")
        .metric_data(MetricDatum::builder().metric_name("m").value(1.0).build())
        .send()
        .await
        .unwrap();
    let resp = server.post("/moto-api/reset", &[], "").await;
    assert_eq!(resp.status().as_u16(), 200);
    assert!(cw.list_metrics().send().await.unwrap().metrics().is_empty());
    cw.put_metric_data()
        .namespace("R")
        .metric_data(MetricDatum::builder().metric_name("m").value(2.0).build())
        .send()
        .await
        .unwrap();
    assert_eq!(cw.list_metrics().send().await.unwrap().metrics().len(), 1);
    let health: serde_json::Value =
        reqwest::get(format!("{}/_watchtrail/health", server.endpoint()))
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
    assert_eq!(health["status"], "ok");
    assert_eq!(health["services"]["cloudwatch"], "running");
    server.stop().await;
}

#[tokio::test]
async fn enforced_signatures_reject_wrong_secrets() {
    let mut config = watchtrail::config::Config::ephemeral();
    config.enforce_signatures = true;
    let server =
        TestServer::start_with(config, std::sync::Arc::new(watchtrail::clock::SystemClock)).await;
    let good = server.cloudwatch_as("test", "test").await;
    good.list_metrics().send().await.unwrap();
    let bad = server.cloudwatch_as("test", "wrong").await;
    let err = bad
        .list_metrics()
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    let meta = aws_sdk_cloudwatch::error::ProvideErrorMetadata::code(&err);
    assert_eq!(meta, Some("SignatureDoesNotMatch"), "{err:?}");
    let unknown = server.cloudwatch_as("AKIAUNKNOWN", "x").await;
    let err = unknown
        .list_metrics()
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    assert_eq!(
        aws_sdk_cloudwatch::error::ProvideErrorMetadata::code(&err),
        Some("InvalidClientTokenId"),
        "{err:?}"
    );
    let (status, body) = server.query("Action=ListMetrics&Version=2010-08-01").await;
    assert_eq!(status, 403, "{body}");
    assert!(body.contains("MissingAuthenticationToken"), "{body}");
    server.stop().await;
}

fn chrono_like(secs: f64) -> String {
    let t = aws_smithy_types::DateTime::from_secs_f64(secs);
    t.fmt(aws_smithy_types::date_time::Format::DateTime)
        .unwrap()
}

#[tokio::test]
async fn get_metric_data_evaluates_metric_math() {
    let server = TestServer::start().await;
    let cw = server.cloudwatch().await;
    let t0 = base_minute();
    let mut req = cw.put_metric_data().namespace("Math");
    for minute in 0..3 {
        for (name, value) in [
            ("Requests", 10.0 * (minute as f64 + 1.0)),
            ("Errors", minute as f64 + 1.0),
        ] {
            req = req.metric_data(
                MetricDatum::builder()
                    .metric_name(name)
                    .dimensions(dim("Service", "api"))
                    .timestamp(dt(t0 + 60.0 * minute as f64 + 1.0))
                    .value(value)
                    .build(),
            );
        }
    }
    req.send().await.unwrap();
    let stat = |name: &str| {
        MetricStat::builder()
            .metric(
                Metric::builder()
                    .namespace("Math")
                    .metric_name(name)
                    .dimensions(dim("Service", "api"))
                    .build(),
            )
            .period(60)
            .stat("Sum")
            .build()
    };
    let out = cw
        .get_metric_data()
        .metric_data_queries(
            MetricDataQuery::builder()
                .id("req")
                .metric_stat(stat("Requests"))
                .return_data(false)
                .build(),
        )
        .metric_data_queries(
            MetricDataQuery::builder()
                .id("err")
                .metric_stat(stat("Errors"))
                .return_data(false)
                .build(),
        )
        .metric_data_queries(
            MetricDataQuery::builder()
                .id("rate")
                .expression("100 * err / req")
                .label("Error rate")
                .build(),
        )
        .metric_data_queries(
            MetricDataQuery::builder()
                .id("total")
                .expression("SUM(METRICS())")
                .build(),
        )
        .start_time(dt(t0))
        .end_time(dt(t0 + 180.0))
        .scan_by(ScanBy::TimestampAscending)
        .send()
        .await
        .unwrap();
    let results = out.metric_data_results();
    let by_id = |id: &str| results.iter().find(|r| r.id() == Some(id)).unwrap();
    assert_eq!(by_id("rate").label(), Some("Error rate"));
    assert_eq!(by_id("rate").values(), &[10.0, 10.0, 10.0]);
    assert_eq!(by_id("total").values(), &[11.0, 22.0, 33.0]);
    assert_eq!(
        results.len(),
        2,
        "ReturnData false hides the metric queries"
    );

    let searched = cw
        .get_metric_data()
        .metric_data_queries(
            MetricDataQuery::builder()
                .id("s")
                .expression("SEARCH('{Math,Service} MetricName=\"Errors\"', 'Sum', 60)")
                .build(),
        )
        .start_time(dt(t0))
        .end_time(dt(t0 + 180.0))
        .scan_by(ScanBy::TimestampAscending)
        .send()
        .await
        .unwrap();
    assert_eq!(searched.metric_data_results().len(), 1);
    assert_eq!(searched.metric_data_results()[0].values(), &[1.0, 2.0, 3.0]);

    let err = cw
        .get_metric_data()
        .metric_data_queries(
            MetricDataQuery::builder()
                .id("bad")
                .expression("NOPE(m1)")
                .build(),
        )
        .start_time(dt(t0))
        .end_time(dt(t0 + 180.0))
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    let code = aws_sdk_cloudwatch::error::ProvideErrorMetadata::code(&err);
    assert_eq!(code, Some("ValidationError"), "{err:?}");
    server.stop().await;
}

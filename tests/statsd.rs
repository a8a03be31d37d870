//! The StatsD listener over real UDP: datagrams in, CWAgent metrics out at each flush.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::sync::Arc;
use std::time::Duration;

use aws_sdk_cloudwatch::types::{Dimension, Statistic};
use common::TestServer;
use watchtrail::clock::SystemClock;
use watchtrail::config::Config;

fn dim(name: &str, value: &str) -> Dimension {
    Dimension::builder().name(name).value(value).build()
}

#[tokio::test]
async fn datagrams_become_cwagent_metrics_and_bad_ones_are_counted() {
    let port = std::net::UdpSocket::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let config = Config {
        statsd_port: Some(port),
        statsd_flush_ms: 300,
        ..Config::ephemeral()
    };
    let server = TestServer::start_with(config, Arc::new(SystemClock)).await;
    let started = common::now_secs();
    let client = tokio::net::UdpSocket::bind("127.0.0.1:0").await.unwrap();
    // Give the listener its first tick before sending.
    tokio::time::sleep(Duration::from_millis(50)).await;
    for datagram in [
        "api.hits:1|c|#route:/pay",
        "api.hits:2|c|@0.5|#route:/pay\napi.latency:20|ms|#route:/pay",
        "api.latency:40|ms|#route:/pay",
        "users:alice|s\nusers:bob|s\nusers:alice|s",
        "queue:7|g",
        "this is not statsd",
        "api.hits:x|c",
    ] {
        client
            .send_to(datagram.as_bytes(), ("127.0.0.1", port))
            .await
            .unwrap();
    }
    tokio::time::sleep(Duration::from_millis(900)).await;

    let cw = server.cloudwatch().await;
    let stats = |name: &'static str, dims: Vec<Dimension>| {
        let cw = cw.clone();
        async move {
            let out = cw
                .get_metric_statistics()
                .namespace("CWAgent")
                .metric_name(name)
                .set_dimensions(Some(dims))
                .start_time(aws_smithy_types::DateTime::from_secs(started as i64 - 120))
                .end_time(aws_smithy_types::DateTime::from_secs(started as i64 + 120))
                .period(3600)
                .statistics(Statistic::Sum)
                .statistics(Statistic::SampleCount)
                .statistics(Statistic::Maximum)
                .send()
                .await
                .unwrap();
            out.datapoints().first().map(|p| {
                (
                    p.sum().unwrap(),
                    p.sample_count().unwrap(),
                    p.maximum().unwrap(),
                )
            })
        }
    };
    // 1 + 2 / 0.5, summed in one interval.
    assert_eq!(
        stats(
            "api.hits",
            vec![dim("metric_type", "counter"), dim("route", "/pay")]
        )
        .await,
        Some((5.0, 1.0, 5.0))
    );
    assert_eq!(
        stats(
            "api.latency",
            vec![dim("metric_type", "timing"), dim("route", "/pay")]
        )
        .await,
        Some((60.0, 2.0, 40.0))
    );
    assert_eq!(
        stats("users", vec![dim("metric_type", "set")]).await,
        Some((2.0, 1.0, 2.0))
    );
    assert_eq!(
        stats("queue", vec![dim("metric_type", "gauge")]).await,
        Some((7.0, 1.0, 7.0))
    );
    let health: serde_json::Value =
        reqwest::get(format!("{}/_watchtrail/health", server.endpoint()))
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
    assert_eq!(health["statsd"]["enabled"], true);
    assert_eq!(health["statsd"]["datagrams"], 7);
    assert_eq!(health["statsd"]["malformedDatagrams"], 2);
    // The listener stops with the server (the test would hang on its task otherwise).
    server.stop().await;
}

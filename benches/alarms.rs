//! Figures for the alarm evaluator, measured on the release build started as a child process:
//! - one evaluation pass over 10,000 alarms on 10,000 metrics (every alarm changing state, then
//!   a steady pass where none does);
//! - PutMetricData throughput over HTTP alone, and with an evaluation pass running at the default
//!   interval (5 s), every second, and back to back.
//!
//! Run with `cargo bench --bench alarms`.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

const SERIES: usize = 10_000;
const ALARMS: usize = 10_000;

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn health_ok(port: u16) -> bool {
    use std::io::{Read, Write};
    let Ok(mut s) = std::net::TcpStream::connect(("127.0.0.1", port)) else {
        return false;
    };
    let _ = s.write_all(b"GET /_watchtrail/health HTTP/1.0\r\n\r\n");
    let mut out = String::new();
    let _ = s.read_to_string(&mut out);
    out.starts_with("HTTP/1.0 200") || out.starts_with("HTTP/1.1 200")
}

async fn call(client: &reqwest::Client, port: u16, op: &str, body: String) {
    let resp = client
        .post(format!("http://127.0.0.1:{port}/"))
        .header("content-type", "application/x-amz-json-1.0")
        .header(
            "x-amz-target",
            format!("GraniteServiceVersion20100801.{op}"),
        )
        .body(body)
        .send()
        .await
        .unwrap();
    assert!(
        resp.status().is_success(),
        "{op}: {}",
        resp.text().await.unwrap()
    );
}

/// One pass; (milliseconds, alarms changed).
async fn evaluate(client: &reqwest::Client, port: u16) -> (f64, u64) {
    let t = Instant::now();
    let resp = client
        .post(format!(
            "http://127.0.0.1:{port}/_watchtrail/alarms/evaluate"
        ))
        .send()
        .await
        .unwrap();
    let body: serde_json::Value = resp.json().await.unwrap();
    (
        t.elapsed().as_secs_f64() * 1000.0,
        body["changed"].as_u64().unwrap(),
    )
}

fn now_secs() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

/// 20 datapoints a request over the 10,000 series, 16 requests in flight, for `seconds`;
/// answers datapoints per second.
async fn put_load(client: &reqwest::Client, port: u16, seconds: u64) -> f64 {
    let done = Arc::new(AtomicBool::new(false));
    let sent = Arc::new(AtomicU64::new(0));
    let mut tasks = tokio::task::JoinSet::new();
    let started = Instant::now();
    for worker in 0..16_usize {
        let (client, done, sent) = (client.clone(), done.clone(), sent.clone());
        tasks.spawn(async move {
            let mut n = worker * 7_919;
            while !done.load(Ordering::Relaxed) {
                let data: Vec<serde_json::Value> = (0..20)
                    .map(|i| {
                        n = (n + i + 1) % SERIES;
                        serde_json::json!({
                            "MetricName": "Load",
                            "Dimensions": [{"Name": "Host", "Value": format!("h{n}")}],
                            "Value": (n % 10) as f64,
                        })
                    })
                    .collect();
                let body = serde_json::json!({"Namespace": "Bench", "MetricData": data});
                call(&client, port, "PutMetricData", body.to_string()).await;
                sent.fetch_add(20, Ordering::Relaxed);
            }
        });
    }
    tokio::time::sleep(Duration::from_secs(seconds)).await;
    done.store(true, Ordering::Relaxed);
    while tasks.join_next().await.is_some() {}
    sent.load(Ordering::Relaxed) as f64 / started.elapsed().as_secs_f64()
}

async fn bench() {
    let port = free_port();
    let mut child = Command::new(env!("CARGO_BIN_EXE_watchtrail"))
        .args([
            "--ephemeral",
            "--log-level",
            "warn",
            "--alarm-evaluation-ms",
            "3600000",
            "--port",
            &port.to_string(),
        ])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    while !health_ok(port) {
        std::thread::sleep(Duration::from_millis(1));
    }
    let client = reqwest::Client::new();

    // Two datapoints per series in the current and the previous minute.
    let now = now_secs();
    for batch in 0..(SERIES / 500) {
        let data: Vec<serde_json::Value> = (0..500)
            .flat_map(|i| {
                let n = batch * 500 + i;
                [now - 60, now].map(|t| {
                    serde_json::json!({
                        "MetricName": "Load",
                        "Dimensions": [{"Name": "Host", "Value": format!("h{n}")}],
                        "Timestamp": t,
                        "Value": (n % 10) as f64,
                    })
                })
            })
            .collect();
        let body = serde_json::json!({"Namespace": "Bench", "MetricData": data});
        call(&client, port, "PutMetricData", body.to_string()).await;
    }
    let created = Instant::now();
    let mut tasks = tokio::task::JoinSet::new();
    for worker in 0..8 {
        let client = client.clone();
        tasks.spawn(async move {
            for n in (worker..ALARMS).step_by(8) {
                let body = serde_json::json!({
                    "AlarmName": format!("load-{n}"),
                    "Namespace": "Bench",
                    "MetricName": "Load",
                    "Dimensions": [{"Name": "Host", "Value": format!("h{}", n % SERIES)}],
                    "Statistic": "Average",
                    "Period": 60,
                    "EvaluationPeriods": 2,
                    "DatapointsToAlarm": 1,
                    "Threshold": 4.5,
                    "ComparisonOperator": "GreaterThanThreshold",
                });
                call(&client, port, "PutMetricAlarm", body.to_string()).await;
            }
        });
    }
    while tasks.join_next().await.is_some() {}
    println!(
        "created {ALARMS} alarms in {:.1} s",
        created.elapsed().as_secs_f64()
    );

    let (first_ms, changed) = evaluate(&client, port).await;
    println!("first pass over {ALARMS} alarms: {first_ms:.0} ms, {changed} changed state");
    let mut steady = Vec::new();
    for _ in 0..5 {
        let (ms, changed) = evaluate(&client, port).await;
        assert_eq!(changed, 0);
        steady.push(ms);
    }
    steady.sort_by(f64::total_cmp);
    println!(
        "steady passes over {ALARMS} alarms (none changing): median {:.0} ms, max {:.0} ms",
        steady[steady.len() / 2],
        steady[steady.len() - 1]
    );

    let alone = put_load(&client, port, 5).await;
    println!("PutMetricData alone: {alone:.0} datapoints/s");

    let stop = Arc::new(AtomicBool::new(false));
    for (label, pause, seconds) in [
        (
            "a pass every 5 s (the default interval)",
            Some(Duration::from_secs(5)),
            15,
        ),
        ("a pass every second", Some(Duration::from_secs(1)), 5),
        ("passes back to back", None, 5),
    ] {
        stop.store(false, Ordering::Relaxed);
        let (c, s) = (client.clone(), stop.clone());
        let passes = tokio::spawn(async move {
            let mut times = Vec::new();
            while !s.load(Ordering::Relaxed) {
                times.push(evaluate(&c, port).await.0);
                if let Some(p) = pause {
                    tokio::time::sleep(p).await;
                }
            }
            times
        });
        let with = put_load(&client, port, seconds).await;
        stop.store(true, Ordering::Relaxed);
        let mut times = passes.await.unwrap();
        times.sort_by(f64::total_cmp);
        println!(
            "PutMetricData with {label}: {with:.0} datapoints/s ({:+.1}% vs alone); {} passes, median {:.0} ms",
            (with / alone - 1.0) * 100.0,
            times.len(),
            times.get(times.len() / 2).copied().unwrap_or_default()
        );
    }
    child.kill().unwrap();
    child.wait().unwrap();
}

fn main() {
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(bench());
}

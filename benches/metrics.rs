//! Figures for the CloudWatch metrics issue, measured on the release build:
//! - cold start of the binary to its first successful request, and its idle RSS;
//! - GetMetricStatistics over one series of 1,000,000 datapoints spanning a day, Period 60.
//!
//! Run with `cargo bench --bench metrics`. The load-over-HTTP figures (PutMetricData
//! throughput side by side with moto) come from the shared `compare.sh` script instead; see
//! BENCHMARKS.md.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

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

fn rss_kib(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    status
        .lines()
        .find(|l| l.starts_with("VmRSS:"))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|v| v.parse().ok())
        .unwrap_or(0)
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

fn cold_start() {
    let mut starts = Vec::new();
    let mut rss = Vec::new();
    for _ in 0..10 {
        let port = free_port();
        let t = Instant::now();
        let mut child = Command::new(env!("CARGO_BIN_EXE_watchtrail"))
            .args([
                "--ephemeral",
                "--log-level",
                "warn",
                "--port",
                &port.to_string(),
            ])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        while !health_ok(port) {
            std::thread::sleep(Duration::from_micros(200));
            assert!(t.elapsed() < Duration::from_secs(10));
        }
        starts.push(t.elapsed().as_secs_f64() * 1000.0);
        std::thread::sleep(Duration::from_millis(300));
        rss.push(rss_kib(child.id()) as f64 / 1024.0);
        child.kill().unwrap();
        child.wait().unwrap();
    }
    println!(
        "cold start to first successful request: median {:.1} ms, max {:.1} ms",
        median(starts.clone()),
        starts.iter().cloned().fold(0.0, f64::max)
    );
    println!("idle RSS after start: median {:.1} MiB", median(rss));
}

async fn call(client: &reqwest::Client, port: u16, op: &str, body: String) -> serde_json::Value {
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
    resp.json().await.unwrap()
}

async fn get_metric_statistics_over_a_million_points() {
    let port = free_port();
    let mut child = Command::new(env!("CARGO_BIN_EXE_watchtrail"))
        .args([
            "--ephemeral",
            "--log-level",
            "warn",
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
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    let end = now / 60 * 60;
    let start = end - 86_400;
    // 1,000 requests of 1,000 datapoints spread evenly over the day, 8 at a time.
    let loaded = Instant::now();
    let total: u64 = 1_000_000;
    let mut tasks = tokio::task::JoinSet::new();
    for r in 0..1_000u64 {
        let client = client.clone();
        let body = {
            let items: Vec<String> = (0..1_000u64)
                .map(|i| {
                    let n = r * 1_000 + i;
                    let ts = start as f64 + (n as f64) * 86_400.0 / total as f64;
                    format!(
                        r#"{{"MetricName":"Latency","Value":{},"Timestamp":{ts:.3}}}"#,
                        n % 1000
                    )
                })
                .collect();
            format!(
                r#"{{"Namespace":"Bench","MetricData":[{}]}}"#,
                items.join(",")
            )
        };
        tasks.spawn(async move { call(&client, port, "PutMetricData", body).await });
        if tasks.len() >= 8 {
            tasks.join_next().await.unwrap().unwrap();
        }
    }
    while let Some(r) = tasks.join_next().await {
        r.unwrap();
    }
    println!(
        "loaded 1,000,000 datapoints in {:.1} s ({:.0} datapoints/s, 1,000 per request)",
        loaded.elapsed().as_secs_f64(),
        total as f64 / loaded.elapsed().as_secs_f64()
    );
    for (what, stats) in [
        (
            "five basic statistics",
            r#""Statistics":["SampleCount","Average","Sum","Minimum","Maximum"]"#,
        ),
        ("p99 and p50", r#""ExtendedStatistics":["p99","p50"]"#),
    ] {
        let body = format!(
            r#"{{"Namespace":"Bench","MetricName":"Latency","StartTime":{start},"EndTime":{end},"Period":60,{stats}}}"#
        );
        let mut times = Vec::new();
        let mut points = 0;
        for _ in 0..10 {
            let t = Instant::now();
            let out = call(&client, port, "GetMetricStatistics", body.clone()).await;
            times.push(t.elapsed().as_secs_f64() * 1000.0);
            points = out["Datapoints"].as_array().map_or(0, Vec::len);
        }
        println!(
            "GetMetricStatistics, 1,000,000 points, one day at Period 60 ({what}): median {:.1} ms, max {:.1} ms, {points} datapoints",
            median(times.clone()),
            times.iter().cloned().fold(0.0, f64::max)
        );
    }
    child.kill().unwrap();
    child.wait().unwrap();
}

/// GetMetricData with ten MetricStat queries and one math expression over them, each series
/// holding 1,000 one-minute datapoints in the queried range.
async fn get_metric_data_with_math() {
    let port = free_port();
    let mut child = Command::new(env!("CARGO_BIN_EXE_watchtrail"))
        .args([
            "--ephemeral",
            "--log-level",
            "warn",
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
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    let end = now / 60 * 60;
    let start = end - 1_000 * 60;
    for host in 0..10u64 {
        for batch in 0..2u64 {
            let items: Vec<String> = (0..500u64)
                .map(|i| {
                    let minute = batch * 500 + i;
                    format!(
                        r#"{{"MetricName":"Requests","Dimensions":[{{"Name":"Host","Value":"h{host}"}}],"Value":{},"Timestamp":{}}}"#,
                        (minute * 7 + host) % 100,
                        start + minute * 60
                    )
                })
                .collect();
            let body = format!(
                r#"{{"Namespace":"Bench","MetricData":[{}]}}"#,
                items.join(",")
            );
            call(&client, port, "PutMetricData", body).await;
        }
    }
    let mut queries: Vec<String> = (0..10)
        .map(|host| {
            format!(
                r#"{{"Id":"m{host}","ReturnData":false,"MetricStat":{{"Metric":{{"Namespace":"Bench","MetricName":"Requests","Dimensions":[{{"Name":"Host","Value":"h{host}"}}]}},"Period":60,"Stat":"Sum"}}}}"#
            )
        })
        .collect();
    queries.push(
        r#"{"Id":"total","Expression":"SUM(METRICS()) / 10","Label":"mean per host"}"#.to_string(),
    );
    let body = format!(
        r#"{{"StartTime":{start},"EndTime":{end},"MetricDataQueries":[{}]}}"#,
        queries.join(",")
    );
    let mut times = Vec::new();
    let mut points = 0;
    for _ in 0..20 {
        let t = Instant::now();
        let out = call(&client, port, "GetMetricData", body.clone()).await;
        times.push(t.elapsed().as_secs_f64() * 1000.0);
        points = out["MetricDataResults"][0]["Values"]
            .as_array()
            .map_or(0, Vec::len);
    }
    println!(
        "GetMetricData, 10 queries of 1,000 points + SUM(METRICS()) / 10: median {:.1} ms, max {:.1} ms, {points} points in the expression's result",
        median(times.clone()),
        times.iter().cloned().fold(0.0, f64::max)
    );
    child.kill().unwrap();
    child.wait().unwrap();
}

fn main() {
    cold_start();
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(get_metric_statistics_over_a_million_points());
    rt.block_on(get_metric_data_with_math());
}

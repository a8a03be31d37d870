//! Figures for the CloudWatch Logs issue, on the release build of the real binary:
//! FilterLogEvents with a term pattern over 1,000,000 events of one group (first page), and a
//! Logs Insights `stats count(*) by bin(5m)` over the same events.
//!
//! Run with `cargo bench --bench logs`. PutLogEvents throughput side by side with moto comes
//! from the shared `compare.sh` script; see BENCHMARKS.md.
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

async fn call(client: &reqwest::Client, port: u16, op: &str, body: String) -> serde_json::Value {
    let resp = client
        .post(format!("http://127.0.0.1:{port}/"))
        .header("content-type", "application/x-amz-json-1.1")
        .header("x-amz-target", format!("Logs_20140328.{op}"))
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

fn rss(pid: u32) -> String {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    status
        .lines()
        .find(|l| l.starts_with("VmRSS"))
        .map(|l| l.trim_start_matches("VmRSS:").trim().to_string())
        .unwrap_or_default()
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

async fn run() {
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
    let client = reqwest::Client::new();
    let deadline = Instant::now() + Duration::from_secs(10);
    while client
        .get(format!("http://127.0.0.1:{port}/_watchtrail/health"))
        .send()
        .await
        .is_err()
    {
        assert!(Instant::now() < deadline);
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    call(
        &client,
        port,
        "CreateLogGroup",
        r#"{"logGroupName":"bench"}"#.into(),
    )
    .await;
    for s in 0..10 {
        call(
            &client,
            port,
            "CreateLogStream",
            format!(r#"{{"logGroupName":"bench","logStreamName":"s{s}"}}"#),
        )
        .await;
    }
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as i64;
    let start = now - 20 * 3_600_000;
    // 1,000,000 events over 20 hours, 10 streams, 1,000 events a request, 8 in flight;
    // one event in 100 carries the term searched for.
    let loaded = Instant::now();
    let mut tasks = tokio::task::JoinSet::new();
    for r in 0..1_000i64 {
        let events: Vec<String> = (0..1_000i64)
            .map(|i| {
                let n = r * 1_000 + i;
                let ts = start + n * 72;
                let level = if n % 100 == 0 { "ERROR" } else { "INFO" };
                format!(r#"{{"timestamp":{ts},"message":"{level} request {n} served path=/api/items/{} status=200 bytes={}"}}"#, n % 97, n % 5000)
            })
            .collect();
        let body = format!(
            r#"{{"logGroupName":"bench","logStreamName":"s{}","logEvents":[{}]}}"#,
            r % 10,
            events.join(",")
        );
        let client = client.clone();
        tasks.spawn(async move { call(&client, port, "PutLogEvents", body).await });
        if tasks.len() >= 8 {
            tasks.join_next().await.unwrap().unwrap();
        }
        if r == 199 || r == 599 {
            println!(
                "server RSS after {} events: {}",
                (r + 1) * 1_000,
                rss(child.id())
            );
        }
    }
    while let Some(r) = tasks.join_next().await {
        r.unwrap();
    }
    println!(
        "loaded 1,000,000 events in {:.1} s; server RSS {}",
        loaded.elapsed().as_secs_f64(),
        rss(child.id())
    );

    let mut times = Vec::new();
    let mut count = 0;
    for _ in 0..10 {
        let t = Instant::now();
        let out = call(
            &client,
            port,
            "FilterLogEvents",
            r#"{"logGroupName":"bench","filterPattern":"ERROR"}"#.into(),
        )
        .await;
        times.push(t.elapsed().as_secs_f64() * 1000.0);
        count = out["events"].as_array().map_or(0, Vec::len);
    }
    println!(
        "FilterLogEvents, term pattern, 1,000,000 events, first page ({count} events): median {:.1} ms, max {:.1} ms",
        median(times.clone()),
        times.iter().cloned().fold(0.0, f64::max)
    );

    let mut times = Vec::new();
    let mut rows = 0;
    for _ in 0..3 {
        let t = Instant::now();
        let started = call(
            &client,
            port,
            "StartQuery",
            format!(
                r#"{{"logGroupName":"bench","startTime":{},"endTime":{},"queryString":"stats count(*) by bin(5m)"}}"#,
                start / 1000,
                now / 1000 + 60
            ),
        )
        .await;
        let id = started["queryId"].as_str().unwrap().to_string();
        let results = call(
            &client,
            port,
            "GetQueryResults",
            format!(r#"{{"queryId":"{id}"}}"#),
        )
        .await;
        times.push(t.elapsed().as_secs_f64() * 1000.0);
        rows = results["results"].as_array().map_or(0, Vec::len);
    }
    println!(
        "Logs Insights stats count(*) by bin(5m) over 1,000,000 events ({rows} rows): median {:.0} ms, max {:.0} ms",
        median(times.clone()),
        times.iter().cloned().fold(0.0, f64::max)
    );
    println!("server RSS after the queries: {}", rss(child.id()));
    child.kill().unwrap();
    child.wait().unwrap();
}

fn main() {
    tokio::runtime::Runtime::new().unwrap().block_on(run());
}

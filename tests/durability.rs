//! The real binary: a write acknowledged with 200 survives `kill -9`, a restart keeps
//! everything, and a second process on the same data directory is refused.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn spawn(data_dir: &std::path::Path, port: u16) -> Child {
    Command::new(env!("CARGO_BIN_EXE_watchtrail"))
        .args(["--port", &port.to_string(), "--data-dir"])
        .arg(data_dir)
        .env("WATCHTRAIL_LOG", "warn")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap()
}

async fn wait_healthy(port: u16) {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        if let Ok(r) = reqwest::get(format!("http://127.0.0.1:{port}/_watchtrail/health")).await {
            if r.status().is_success() {
                return;
            }
        }
        assert!(Instant::now() < deadline, "server did not become healthy");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

async fn call(port: u16, op: &str, body: String) -> (u16, serde_json::Value) {
    let resp = reqwest::Client::new()
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
    let status = resp.status().as_u16();
    (status, resp.json().await.unwrap())
}

#[tokio::test]
async fn acknowledged_writes_survive_kill_9_and_a_second_instance_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let mut server = spawn(dir.path(), port);
    wait_healthy(port).await;

    let now = chrono_now();
    let minute = (now / 60) * 60 - 120;
    // 40 concurrent writers, each acknowledged only after its commit.
    let mut writers = Vec::new();
    for i in 0..40 {
        writers.push(tokio::spawn(async move {
            let body = format!(
                r#"{{"Namespace":"Durable","MetricData":[{{"MetricName":"n","Value":{},"Timestamp":{}}}]}}"#,
                i + 1,
                minute + 10
            );
            call(port, "PutMetricData", body).await.0
        }));
    }
    for w in writers {
        assert_eq!(w.await.unwrap(), 200);
    }

    // A second process on the same directory must refuse to start.
    let second = spawn(dir.path(), free_port()).wait_with_output().unwrap();
    assert!(!second.status.success());
    let stderr = String::from_utf8_lossy(&second.stderr);
    assert!(
        stderr.contains("in use by another watchtrail process"),
        "{stderr}"
    );

    server.kill().unwrap(); // SIGKILL: no graceful shutdown
    server.wait().unwrap();

    let mut restarted = spawn(dir.path(), port);
    wait_healthy(port).await;
    let (status, out) = call(
        port,
        "GetMetricStatistics",
        format!(
            r#"{{"Namespace":"Durable","MetricName":"n","StartTime":{},"EndTime":{},"Period":60,"Statistics":["Sum","SampleCount"]}}"#,
            minute,
            minute + 60
        ),
    )
    .await;
    assert_eq!(status, 200, "{out}");
    let point = &out["Datapoints"][0];
    assert_eq!(point["SampleCount"], 40.0);
    assert_eq!(point["Sum"], 820.0);
    restarted.kill().unwrap();
    restarted.wait().unwrap();
}

fn chrono_now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
}

//! Shared test harness: the real server on an ephemeral port with an ephemeral store, AWS SDK
//! clients pointed at it, and a raw request helper for what the SDKs will not send.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use std::net::SocketAddr;
use std::sync::Arc;

use aws_credential_types::Credentials;
use tokio::sync::oneshot;
use watchtrail::clock::{Clock, SystemClock};
use watchtrail::config::Config;

pub struct TestServer {
    pub addr: SocketAddr,
    stop: Option<oneshot::Sender<()>>,
    task: Option<tokio::task::JoinHandle<()>>,
}

impl TestServer {
    pub async fn start() -> Self {
        Self::start_with(Config::ephemeral(), Arc::new(SystemClock)).await
    }

    pub async fn start_with(config: Config, clock: Arc<dyn Clock>) -> Self {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let (stop, stopped) = oneshot::channel::<()>();
        let task = tokio::spawn(async move {
            watchtrail::serve(listener, config, clock, async move {
                let _ = stopped.await;
            })
            .await
            .unwrap();
        });
        TestServer {
            addr,
            stop: Some(stop),
            task: Some(task),
        }
    }

    pub fn endpoint(&self) -> String {
        format!("http://{}", self.addr)
    }

    pub async fn sdk_config(&self, access_key: &str, secret: &str) -> aws_config::SdkConfig {
        aws_config::defaults(aws_config::BehaviorVersion::latest())
            .endpoint_url(self.endpoint())
            .region(aws_config::Region::new("us-east-1"))
            .credentials_provider(Credentials::new(access_key, secret, None, None, "test"))
            .load()
            .await
    }

    pub async fn cloudwatch(&self) -> aws_sdk_cloudwatch::Client {
        self.cloudwatch_as("test", "test").await
    }

    pub async fn cloudwatch_as(
        &self,
        access_key: &str,
        secret: &str,
    ) -> aws_sdk_cloudwatch::Client {
        aws_sdk_cloudwatch::Client::new(&self.sdk_config(access_key, secret).await)
    }

    pub async fn cloudtrail_as(&self, access_key: &str) -> aws_sdk_cloudtrail::Client {
        aws_sdk_cloudtrail::Client::new(&self.sdk_config(access_key, "test").await)
    }

    pub async fn logs_as(&self, access_key: &str) -> aws_sdk_cloudwatchlogs::Client {
        aws_sdk_cloudwatchlogs::Client::new(&self.sdk_config(access_key, "test").await)
    }

    pub async fn logs(&self) -> aws_sdk_cloudwatchlogs::Client {
        aws_sdk_cloudwatchlogs::Client::new(&self.sdk_config("test", "test").await)
    }

    /// Sends a raw POST to `/` (or `path`) with the given headers and body.
    pub async fn post(
        &self,
        path: &str,
        headers: &[(&str, &str)],
        body: impl Into<reqwest::Body>,
    ) -> reqwest::Response {
        let client = reqwest::Client::new();
        let mut req = client
            .post(format!("{}{}", self.endpoint(), path))
            .body(body);
        for (k, v) in headers {
            req = req.header(*k, *v);
        }
        req.send().await.unwrap()
    }

    pub async fn query(&self, form: &str) -> (u16, String) {
        let resp = self
            .post(
                "/",
                &[(
                    "content-type",
                    "application/x-www-form-urlencoded; charset=utf-8",
                )],
                form.to_string(),
            )
            .await;
        let status = resp.status().as_u16();
        (status, resp.text().await.unwrap())
    }

    pub async fn stop(mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(task) = self.task.take() {
            task.await.unwrap();
        }
    }
}

pub fn now_secs() -> f64 {
    SystemClock.now_ms() as f64 / 1000.0
}

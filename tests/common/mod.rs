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

/// A request signed by hand, so tests can sign what an SDK never would (an unsigned host, a
/// payload hash that is not the body's, another service's scope).
pub struct Sign<'a> {
    pub method: &'a str,
    pub path: &'a str,
    /// Canonical already (sorted, encoded), as it is sent.
    pub query: &'a str,
    /// Headers sent besides `host`, `x-amz-date` and `authorization`.
    pub headers: &'a [(&'a str, &'a str)],
    /// Lower-case names of the headers to sign (`host` and `x-amz-date` included when wanted).
    pub signed: &'a [&'a str],
    /// The payload hash to sign: `None` for the body's SHA-256.
    pub payload_hash: Option<&'a str>,
    pub body: &'a [u8],
    pub access_key: &'a str,
    pub secret: &'a str,
    pub region: &'a str,
    pub service: &'a str,
}

impl Sign<'_> {
    /// A POST to `/` signing host, x-amz-date and every given header, with the body's hash.
    pub fn post<'a>(
        headers: &'a [(&'a str, &'a str)],
        signed: &'a [&'a str],
        body: &'a [u8],
        service: &'a str,
    ) -> Sign<'a> {
        Sign {
            method: "POST",
            path: "/",
            query: "",
            headers,
            signed,
            payload_hash: None,
            body,
            access_key: "test",
            secret: "test",
            region: "us-east-1",
            service,
        }
    }

    /// Every header to send (`host` and `x-amz-date` included), signed at the current time.
    pub fn headers(&self, host: &str) -> Vec<(String, String)> {
        use hmac::Mac;
        use sha2::Digest;
        let now = chrono::Utc::now();
        let amz_date = now.format("%Y%m%dT%H%M%SZ").to_string();
        let day = now.format("%Y%m%d").to_string();
        let mut all: Vec<(String, String)> = self
            .headers
            .iter()
            .map(|(k, v)| (k.to_ascii_lowercase(), v.to_string()))
            .collect();
        all.push(("host".into(), host.to_string()));
        all.push(("x-amz-date".into(), amz_date.clone()));
        let mut signed: Vec<&str> = self.signed.to_vec();
        signed.sort_unstable();
        let mut canonical = format!("{}\n{}\n{}\n", self.method, self.path, self.query);
        for name in &signed {
            let value = all
                .iter()
                .find(|(k, _)| k == name)
                .map(|(_, v)| v.trim().to_string())
                .unwrap_or_default();
            canonical.push_str(&format!("{name}:{value}\n"));
        }
        let body_hash = hex::encode(sha2::Sha256::digest(self.body));
        let payload = self.payload_hash.unwrap_or(&body_hash);
        canonical.push_str(&format!("\n{}\n{payload}", signed.join(";")));
        let scope = format!("{day}/{}/{}/aws4_request", self.region, self.service);
        let to_sign = format!(
            "AWS4-HMAC-SHA256\n{amz_date}\n{scope}\n{}",
            hex::encode(sha2::Sha256::digest(canonical.as_bytes()))
        );
        let hmac = |key: &[u8], data: &str| {
            let mut mac = hmac::Hmac::<sha2::Sha256>::new_from_slice(key).unwrap();
            mac.update(data.as_bytes());
            mac.finalize().into_bytes().to_vec()
        };
        let mut key = hmac(format!("AWS4{}", self.secret).as_bytes(), &day);
        for part in [self.region, self.service, "aws4_request"] {
            key = hmac(&key, part);
        }
        let signature = hex::encode(hmac(&key, &to_sign));
        all.push((
            "authorization".into(),
            format!(
                "AWS4-HMAC-SHA256 Credential={}/{scope}, SignedHeaders={}, Signature={signature}",
                self.access_key,
                signed.join(";")
            ),
        ));
        all
    }
}

impl TestServer {
    /// Sends a hand-signed request, with `body` as sent (which may differ from the signed one).
    pub async fn send_signed(&self, sign: &Sign<'_>, body: &[u8]) -> (u16, serde_json::Value) {
        let client = reqwest::Client::new();
        let url = if sign.query.is_empty() {
            format!("{}{}", self.endpoint(), sign.path)
        } else {
            format!("{}{}?{}", self.endpoint(), sign.path, sign.query)
        };
        let method = reqwest::Method::from_bytes(sign.method.as_bytes()).unwrap();
        let mut req = client.request(method, url).body(body.to_vec());
        for (k, v) in sign.headers(&self.addr.to_string()) {
            req = req.header(k, v);
        }
        let resp = req.send().await.unwrap();
        let status = resp.status().as_u16();
        let text = resp.text().await.unwrap();
        let doc = serde_json::from_str(&text).unwrap_or(serde_json::Value::String(text));
        (status, doc)
    }
}

//! Connections and API destinations: rules invoking HTTP endpoints.
//!
//! A connection holds how to authorize (Basic, an API key header, or an OAuth client-credentials
//! token fetched from the authorization endpoint) plus parameters added to every invocation.
//! Secrets are stored with the connection (as AWS keeps them in a Secrets Manager secret) and
//! never answered by Describe. An API destination is an endpoint, a method and a rate limit;
//! [`ApiDestinations::send`] makes one HTTP attempt and records it in the deliveries listing.
//!
//! Retries are the caller's: an `Err` is retryable when [`is_retryable`] says so (429, 5xx and
//! network failures, as AWS retries them; other 4xx and configuration problems are final).

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use base64::Engine;
use serde::Deserialize;
use serde_json::{json, Map, Value};
use sqlx::Row;

use super::EventsError;
use crate::clock::SharedClock;
use crate::context::RequestContext;
use crate::services::deliveries::{Deliveries, Delivery, DeliveryStatus};
use crate::services::{input, BoxError, HandlerFuture};
use crate::store::{Db, StoreError};

/// AWS gives an API destination 5 seconds to answer.
const INVOCATION_TIMEOUT: Duration = Duration::from_secs(5);
const DEFAULT_RATE_LIMIT: i64 = 300;
const DEFAULT_LIMIT: i64 = 100;

/// Error prefixes of attempts worth retrying.
const RETRYABLE_PREFIXES: [&str; 4] = ["HTTP 429", "HTTP 5", "network error:", "timeout:"];

/// Whether an `Err` from [`ApiDestinations::send`] should be retried (AWS retries 429, 5xx and
/// failures to reach the endpoint; other client errors are final).
pub fn is_retryable(err: &str) -> bool {
    RETRYABLE_PREFIXES.iter().any(|p| err.starts_with(p))
}

#[derive(Clone)]
pub struct ApiDestinations {
    inner: Arc<Inner>,
}

struct Inner {
    db: Db,
    clock: SharedClock,
    deliveries: Deliveries,
    /// Built on first use: building it loads the system's root certificates, which costs
    /// start-up time and memory that a server never invoking an API destination should not pay.
    http: std::sync::OnceLock<Result<reqwest::Client, String>>,
    limiter: RateLimiter,
    /// OAuth access tokens by connection ARN, with their expiry (ms, server clock).
    tokens: Mutex<HashMap<String, (String, Option<i64>)>>,
}

/// Token buckets by API destination ARN: `rate` per second, bursts up to `rate`.
#[derive(Default)]
struct RateLimiter {
    buckets: Mutex<HashMap<String, Bucket>>,
}

struct Bucket {
    tokens: f64,
    last: tokio::time::Instant,
}

impl RateLimiter {
    /// Waits for a token of `key`'s bucket.
    async fn acquire(&self, key: &str, rate: i64) {
        let rate = rate.max(1) as f64;
        loop {
            let wait = {
                let Ok(mut buckets) = self.buckets.lock() else {
                    return;
                };
                let now = tokio::time::Instant::now();
                let bucket = buckets.entry(key.to_string()).or_insert(Bucket {
                    tokens: rate,
                    last: now,
                });
                let elapsed = now.duration_since(bucket.last).as_secs_f64();
                bucket.tokens = (bucket.tokens + elapsed * rate).min(rate);
                bucket.last = now;
                if bucket.tokens >= 1.0 {
                    bucket.tokens -= 1.0;
                    return;
                }
                Duration::from_secs_f64((1.0 - bucket.tokens) / rate)
            };
            tokio::time::sleep(wait).await;
        }
    }

    fn forget(&self, key: &str) {
        if let Ok(mut buckets) = self.buckets.lock() {
            buckets.remove(key);
        }
    }
}

struct ConnectionRow {
    name: String,
    arn: String,
    description: Option<String>,
    authorization_type: String,
    auth: Value,
    secret_arn: String,
    state: String,
    state_reason: Option<String>,
    created_ms: i64,
    modified_ms: i64,
    authorized_ms: Option<i64>,
}

struct DestinationRow {
    name: String,
    arn: String,
    description: Option<String>,
    connection_arn: String,
    endpoint: String,
    http_method: String,
    rate_limit: i64,
    state: String,
    created_ms: i64,
    modified_ms: i64,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct ConnectionInput {
    name: String,
    description: Option<String>,
    authorization_type: Option<String>,
    auth_parameters: Option<Value>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct NameInput {
    name: String,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct ListInput {
    name_prefix: Option<String>,
    connection_state: Option<String>,
    connection_arn: Option<String>,
    next_token: Option<String>,
    limit: Option<i64>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct DestinationInput {
    name: String,
    description: Option<String>,
    connection_arn: Option<String>,
    invocation_endpoint: Option<String>,
    http_method: Option<String>,
    invocation_rate_limit_per_second: Option<i64>,
}

fn secs(ms: i64) -> f64 {
    ms as f64 / 1000.0
}

fn boxed<'a>(
    f: impl std::future::Future<Output = Result<Value, EventsError>> + Send + 'a,
) -> HandlerFuture<'a> {
    Box::pin(async move { f.await.map_err(|e| Box::new(e) as BoxError) })
}

fn connection_missing(name: &str) -> EventsError {
    EventsError::ResourceNotFound(format!(
        "Failed to describe the connection(s). Connection '{name}' does not exist."
    ))
}

fn destination_missing(name: &str) -> EventsError {
    EventsError::ResourceNotFound(format!(
        "Failed to describe the api-destination(s). An api-destination '{name}' does not exist."
    ))
}

fn encode_token(name: &str) -> String {
    base64::engine::general_purpose::STANDARD.encode(name)
}

fn decode_token(token: &str) -> Result<String, EventsError> {
    base64::engine::general_purpose::STANDARD
        .decode(token)
        .ok()
        .and_then(|raw| String::from_utf8(raw).ok())
        .ok_or_else(|| EventsError::Validation("The NextToken provided is invalid.".into()))
}

/// The member of AuthParameters each authorization type needs.
fn auth_member(authorization_type: &str) -> &'static str {
    match authorization_type {
        "BASIC" => "BasicAuthParameters",
        "API_KEY" => "ApiKeyAuthParameters",
        _ => "OAuthParameters",
    }
}

/// Checks that AuthParameters carry exactly the parameters of the authorization type.
fn check_auth(authorization_type: &str, auth: &Value) -> Result<(), EventsError> {
    let wanted = auth_member(authorization_type);
    if auth.get(wanted).is_none_or(Value::is_null) {
        return Err(EventsError::Validation(format!(
            "{wanted} must be specified for authorization type {authorization_type}."
        )));
    }
    for other in [
        "BasicAuthParameters",
        "ApiKeyAuthParameters",
        "OAuthParameters",
    ] {
        if other != wanted && auth.get(other).is_some_and(|v| !v.is_null()) {
            return Err(EventsError::Validation(format!(
                "Only {wanted} can be specified for authorization type {authorization_type}."
            )));
        }
    }
    Ok(())
}

/// Merges an update into stored parameters: objects merge key by key, anything else replaces.
fn merge(base: &mut Value, update: &Value) {
    match (base, update) {
        (Value::Object(b), Value::Object(u)) => {
            for (k, v) in u {
                match b.get_mut(k) {
                    Some(existing) if existing.is_object() && v.is_object() => merge(existing, v),
                    _ => {
                        b.insert(k.clone(), v.clone());
                    }
                }
            }
        }
        (b, u) => *b = u.clone(),
    }
}

/// Invocation/OAuth HTTP parameters without the values marked secret.
fn public_http_parameters(params: &Value) -> Value {
    let mut out = Map::new();
    for list in [
        "HeaderParameters",
        "QueryStringParameters",
        "BodyParameters",
    ] {
        if let Some(items) = params.get(list).and_then(Value::as_array) {
            let shown: Vec<Value> = items
                .iter()
                .map(|p| {
                    let mut p = p.clone();
                    if p.get("IsValueSecret").and_then(Value::as_bool) == Some(true) {
                        if let Some(m) = p.as_object_mut() {
                            m.remove("Value");
                        }
                    }
                    p
                })
                .collect();
            out.insert(list.into(), Value::Array(shown));
        }
    }
    Value::Object(out)
}

/// AuthParameters as Describe shows them: names, never secrets.
fn public_auth(auth: &Value) -> Value {
    let mut out = Map::new();
    if let Some(basic) = auth.get("BasicAuthParameters").filter(|v| !v.is_null()) {
        out.insert(
            "BasicAuthParameters".into(),
            json!({ "Username": basic.get("Username") }),
        );
    }
    if let Some(key) = auth.get("ApiKeyAuthParameters").filter(|v| !v.is_null()) {
        out.insert(
            "ApiKeyAuthParameters".into(),
            json!({ "ApiKeyName": key.get("ApiKeyName") }),
        );
    }
    if let Some(oauth) = auth.get("OAuthParameters").filter(|v| !v.is_null()) {
        let mut o = Map::new();
        o.insert(
            "ClientParameters".into(),
            json!({ "ClientID": oauth.pointer("/ClientParameters/ClientID") }),
        );
        for k in ["AuthorizationEndpoint", "HttpMethod"] {
            if let Some(v) = oauth.get(k) {
                o.insert(k.into(), v.clone());
            }
        }
        if let Some(p) = oauth.get("OAuthHttpParameters") {
            o.insert("OAuthHttpParameters".into(), public_http_parameters(p));
        }
        out.insert("OAuthParameters".into(), Value::Object(o));
    }
    if let Some(p) = auth.get("InvocationHttpParameters") {
        out.insert("InvocationHttpParameters".into(), public_http_parameters(p));
    }
    Value::Object(out)
}

/// (Key, Value) pairs of one list of a ConnectionHttpParameters structure.
fn pairs<'v>(params: Option<&'v Value>, list: &str) -> Vec<(&'v str, &'v str)> {
    params
        .and_then(|p| p.get(list))
        .and_then(Value::as_array)
        .map(|items| {
            items
                .iter()
                .filter_map(|p| {
                    Some((
                        p.get("Key")?.as_str()?,
                        p.get("Value").and_then(Value::as_str).unwrap_or_default(),
                    ))
                })
                .collect()
        })
        .unwrap_or_default()
}

/// Characters a path parameter value keeps as they are (RFC 3986 unreserved).
const PATH_SEGMENT: &percent_encoding::AsciiSet = &percent_encoding::NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');

/// The endpoint with each `*` replaced, in order, by the target's path parameter values.
fn substitute_path(endpoint: &str, values: &[&str]) -> String {
    let mut values = values.iter();
    let mut out = String::with_capacity(endpoint.len());
    for c in endpoint.chars() {
        if c == '*' {
            if let Some(v) = values.next() {
                out.extend(percent_encoding::utf8_percent_encode(v, PATH_SEGMENT));
                continue;
            }
        }
        out.push(c);
    }
    out
}

impl Inner {
    fn http(&self) -> Result<&reqwest::Client, String> {
        self.http
            .get_or_init(|| {
                reqwest::Client::builder()
                    .timeout(INVOCATION_TIMEOUT)
                    .build()
                    .map_err(|e| format!("network error: the HTTP client cannot start: {e}"))
            })
            .as_ref()
            .map_err(Clone::clone)
    }
}

impl ApiDestinations {
    pub fn new(db: Db, clock: SharedClock, deliveries: Deliveries) -> Self {
        ApiDestinations {
            inner: Arc::new(Inner {
                db,
                clock,
                deliveries,
                http: std::sync::OnceLock::new(),
                limiter: RateLimiter::default(),
                tokens: Mutex::new(HashMap::new()),
            }),
        }
    }

    pub fn call<'a>(
        &'a self,
        ctx: &'a RequestContext,
        operation: &str,
        input: Value,
    ) -> Option<HandlerFuture<'a>> {
        Some(match operation {
            "CreateConnection" => boxed(self.create_connection(ctx, input)),
            "DescribeConnection" => boxed(self.describe_connection(ctx, input)),
            "ListConnections" => boxed(self.list_connections(ctx, input)),
            "UpdateConnection" => boxed(self.update_connection(ctx, input)),
            "DeleteConnection" => boxed(self.delete_connection(ctx, input)),
            "DeauthorizeConnection" => boxed(self.deauthorize_connection(ctx, input)),
            "CreateApiDestination" => boxed(self.create_destination(ctx, input)),
            "DescribeApiDestination" => boxed(self.describe_destination(ctx, input)),
            "ListApiDestinations" => boxed(self.list_destinations(ctx, input)),
            "UpdateApiDestination" => boxed(self.update_destination(ctx, input)),
            "DeleteApiDestination" => boxed(self.delete_destination(ctx, input)),
            _ => return None,
        })
    }

    // ---- connections -------------------------------------------------------------------

    async fn connections(
        &self,
        account: &str,
        region: &str,
        name: Option<&str>,
        arn: Option<&str>,
    ) -> Result<Vec<ConnectionRow>, StoreError> {
        let rows = sqlx::query(
            "SELECT name, arn, description, authorization_type, auth_parameters, secret_arn, \
             state, state_reason, created_ms, modified_ms, authorized_ms FROM events_connections \
             WHERE account_id = ? AND region = ? AND (?3 IS NULL OR name = ?3) \
             AND (?4 IS NULL OR arn = ?4) ORDER BY name",
        )
        .bind(account)
        .bind(region)
        .bind(name)
        .bind(arn)
        .fetch_all(self.inner.db.reader())
        .await?;
        Ok(rows
            .into_iter()
            .map(|r| ConnectionRow {
                name: r.get(0),
                arn: r.get(1),
                description: r.get(2),
                authorization_type: r.get(3),
                auth: serde_json::from_str(&r.get::<String, _>(4)).unwrap_or(Value::Null),
                secret_arn: r.get(5),
                state: r.get(6),
                state_reason: r.get(7),
                created_ms: r.get(8),
                modified_ms: r.get(9),
                authorized_ms: r.get(10),
            })
            .collect())
    }

    async fn connection(
        &self,
        ctx: &RequestContext,
        name: &str,
    ) -> Result<ConnectionRow, EventsError> {
        self.connections(&ctx.account_id, &ctx.region, Some(name), None)
            .await?
            .into_iter()
            .next()
            .ok_or_else(|| connection_missing(name))
    }

    /// Writes a connection's state (and, when it becomes authorized, the time).
    async fn set_connection_state(
        &self,
        account: &str,
        region: &str,
        name: &str,
        state: &'static str,
        reason: Option<String>,
    ) -> Result<(), StoreError> {
        let now = self.inner.clock.now_ms();
        let authorized = (state == "AUTHORIZED").then_some(now);
        let (account, region, name) = (account.to_string(), region.to_string(), name.to_string());
        self.inner
            .db
            .write(move |conn| {
                Box::pin(async move {
                    sqlx::query(
                        "UPDATE events_connections SET state = ?, state_reason = ?, \
                         authorized_ms = COALESCE(?, authorized_ms) \
                         WHERE account_id = ? AND region = ? AND name = ?",
                    )
                    .bind(state)
                    .bind(&reason)
                    .bind(authorized)
                    .bind(&account)
                    .bind(&region)
                    .bind(&name)
                    .execute(&mut *conn)
                    .await?;
                    Ok(())
                })
            })
            .await
    }

    /// Fetches an OAuth token in the background; the connection ends AUTHORIZED or DEAUTHORIZED.
    fn authorize_in_background(
        &self,
        account: String,
        region: String,
        row_name: String,
        arn: String,
        auth: Value,
    ) {
        let me = self.clone();
        tokio::spawn(async move {
            let outcome = me.fetch_token(&arn, &auth).await;
            let (state, reason) = match outcome {
                Ok(()) => ("AUTHORIZED", None),
                Err(e) => ("DEAUTHORIZED", Some(e)),
            };
            if let Err(e) = me
                .set_connection_state(&account, &region, &row_name, state, reason)
                .await
            {
                tracing::error!(error = %e, "cannot store connection state");
            }
        });
    }

    async fn create_connection(
        &self,
        ctx: &RequestContext,
        doc: Value,
    ) -> Result<Value, EventsError> {
        let req: ConnectionInput = input(doc)?;
        let authorization_type = req.authorization_type.clone().unwrap_or_default();
        let auth = req.auth_parameters.clone().unwrap_or(Value::Null);
        check_auth(&authorization_type, &auth)?;
        let id = uuid::Uuid::new_v4();
        let arn = format!(
            "arn:aws:events:{}:{}:connection/{}/{id}",
            ctx.region, ctx.account_id, req.name
        );
        let secret_arn = format!(
            "arn:aws:secretsmanager:{}:{}:secret:events!connection/{}/{id}",
            ctx.region, ctx.account_id, req.name
        );
        let oauth = authorization_type == "OAUTH_CLIENT_CREDENTIALS";
        let state = if oauth { "AUTHORIZING" } else { "AUTHORIZED" };
        let now = ctx.now_ms;
        let authorized = (!oauth).then_some(now);
        let (account, region) = (ctx.account_id.clone(), ctx.region.clone());
        let (name, arn_row, auth_text) = (req.name.clone(), arn.clone(), auth.to_string());
        let description = req.description.clone();
        let created = self
            .inner
            .db
            .write(move |conn| {
                Box::pin(async move {
                    let done = sqlx::query(
                        "INSERT INTO events_connections (account_id, region, name, arn, \
                         description, authorization_type, auth_parameters, secret_arn, state, \
                         created_ms, modified_ms, authorized_ms) \
                         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING",
                    )
                    .bind(&account)
                    .bind(&region)
                    .bind(&name)
                    .bind(&arn_row)
                    .bind(&description)
                    .bind(&authorization_type)
                    .bind(&auth_text)
                    .bind(&secret_arn)
                    .bind(state)
                    .bind(now)
                    .bind(now)
                    .bind(authorized)
                    .execute(&mut *conn)
                    .await?;
                    Ok(done.rows_affected() == 1)
                })
            })
            .await?;
        if !created {
            return Err(EventsError::ResourceAlreadyExists(format!(
                "Connection {} already exists.",
                req.name
            )));
        }
        if oauth {
            self.authorize_in_background(
                ctx.account_id.clone(),
                ctx.region.clone(),
                req.name.clone(),
                arn.clone(),
                auth,
            );
        }
        Ok(json!({
            "ConnectionArn": arn,
            "ConnectionState": state,
            "CreationTime": secs(now),
            "LastModifiedTime": secs(now),
        }))
    }

    async fn describe_connection(
        &self,
        ctx: &RequestContext,
        doc: Value,
    ) -> Result<Value, EventsError> {
        let req: NameInput = input(doc)?;
        let c = self.connection(ctx, &req.name).await?;
        let mut out = json!({
            "ConnectionArn": c.arn,
            "Name": c.name,
            "ConnectionState": c.state,
            "AuthorizationType": c.authorization_type,
            "SecretArn": c.secret_arn,
            "AuthParameters": public_auth(&c.auth),
            "CreationTime": secs(c.created_ms),
            "LastModifiedTime": secs(c.modified_ms),
        });
        if let Some(d) = c.description {
            out["Description"] = json!(d);
        }
        if let Some(r) = c.state_reason {
            out["StateReason"] = json!(r);
        }
        if let Some(t) = c.authorized_ms {
            out["LastAuthorizedTime"] = json!(secs(t));
        }
        Ok(out)
    }

    /// A cached OAuth token must not outlive its connection's authorization.
    fn forget_token(&self, connection_arn: &str) {
        if let Ok(mut tokens) = self.inner.tokens.lock() {
            tokens.remove(connection_arn);
        }
    }

    /// What DeleteConnection and DeauthorizeConnection answer: the connection's new state.
    fn state_change_answer(c: &ConnectionRow, state: &str) -> Value {
        let mut out = json!({
            "ConnectionArn": c.arn,
            "ConnectionState": state,
            "CreationTime": secs(c.created_ms),
            "LastModifiedTime": secs(c.modified_ms),
        });
        if let Some(t) = c.authorized_ms {
            out["LastAuthorizedTime"] = json!(secs(t));
        }
        out
    }

    fn connection_summary(c: &ConnectionRow) -> Value {
        let mut v = json!({
            "ConnectionArn": c.arn,
            "Name": c.name,
            "ConnectionState": c.state,
            "AuthorizationType": c.authorization_type,
            "CreationTime": secs(c.created_ms),
            "LastModifiedTime": secs(c.modified_ms),
        });
        if let Some(r) = &c.state_reason {
            v["StateReason"] = json!(r);
        }
        if let Some(t) = c.authorized_ms {
            v["LastAuthorizedTime"] = json!(secs(t));
        }
        v
    }

    async fn list_connections(
        &self,
        ctx: &RequestContext,
        doc: Value,
    ) -> Result<Value, EventsError> {
        let req: ListInput = input(doc)?;
        let after = req.next_token.as_deref().map(decode_token).transpose()?;
        let limit = req.limit.unwrap_or(DEFAULT_LIMIT).clamp(1, 100) as usize;
        let mut rows: Vec<ConnectionRow> = self
            .connections(&ctx.account_id, &ctx.region, None, None)
            .await?
            .into_iter()
            .filter(|c| {
                req.name_prefix
                    .as_deref()
                    .is_none_or(|p| c.name.starts_with(p))
            })
            .filter(|c| req.connection_state.as_deref().is_none_or(|s| c.state == s))
            .filter(|c| after.as_deref().is_none_or(|n| c.name.as_str() > n))
            .collect();
        let next = (rows.len() > limit).then(|| encode_token(&rows[limit - 1].name));
        rows.truncate(limit);
        let mut out =
            json!({ "Connections": rows.iter().map(Self::connection_summary).collect::<Vec<_>>() });
        if let Some(n) = next {
            out["NextToken"] = json!(n);
        }
        Ok(out)
    }

    async fn update_connection(
        &self,
        ctx: &RequestContext,
        doc: Value,
    ) -> Result<Value, EventsError> {
        let req: ConnectionInput = input(doc)?;
        let existing = self.connection(ctx, &req.name).await?;
        let authorization_type = req
            .authorization_type
            .clone()
            .unwrap_or(existing.authorization_type.clone());
        let mut auth = existing.auth.clone();
        if authorization_type != existing.authorization_type {
            // A new authorization type replaces the old type's parameters.
            if let Some(m) = auth.as_object_mut() {
                m.remove(auth_member(&existing.authorization_type));
            }
        }
        if let Some(update) = &req.auth_parameters {
            merge(&mut auth, update);
        }
        check_auth(&authorization_type, &auth)?;
        let oauth = authorization_type == "OAUTH_CLIENT_CREDENTIALS";
        let state = if oauth { "AUTHORIZING" } else { "AUTHORIZED" };
        let now = ctx.now_ms;
        let authorized = if oauth {
            existing.authorized_ms
        } else {
            Some(now)
        };
        let (account, region, name) =
            (ctx.account_id.clone(), ctx.region.clone(), req.name.clone());
        let (auth_text, description, auth_type) = (
            auth.to_string(),
            req.description.clone(),
            authorization_type.clone(),
        );
        self.inner
            .db
            .write(move |conn| {
                Box::pin(async move {
                    sqlx::query(
                        "UPDATE events_connections SET description = COALESCE(?, description), \
                         authorization_type = ?, auth_parameters = ?, state = ?, \
                         state_reason = NULL, modified_ms = ?, authorized_ms = ? \
                         WHERE account_id = ? AND region = ? AND name = ?",
                    )
                    .bind(&description)
                    .bind(&auth_type)
                    .bind(&auth_text)
                    .bind(state)
                    .bind(now)
                    .bind(authorized)
                    .bind(&account)
                    .bind(&region)
                    .bind(&name)
                    .execute(&mut *conn)
                    .await?;
                    Ok(())
                })
            })
            .await?;
        self.forget_token(&existing.arn);
        if oauth {
            self.authorize_in_background(
                ctx.account_id.clone(),
                ctx.region.clone(),
                req.name.clone(),
                existing.arn.clone(),
                auth,
            );
        }
        let mut out = json!({
            "ConnectionArn": existing.arn,
            "ConnectionState": state,
            "CreationTime": secs(existing.created_ms),
            "LastModifiedTime": secs(now),
        });
        if let Some(t) = authorized {
            out["LastAuthorizedTime"] = json!(secs(t));
        }
        Ok(out)
    }

    async fn delete_connection(
        &self,
        ctx: &RequestContext,
        doc: Value,
    ) -> Result<Value, EventsError> {
        let req: NameInput = input(doc)?;
        let existing = self.connection(ctx, &req.name).await?;
        let (account, region, name) =
            (ctx.account_id.clone(), ctx.region.clone(), req.name.clone());
        self.inner
            .db
            .write(move |conn| {
                Box::pin(async move {
                    sqlx::query(
                        "DELETE FROM events_connections WHERE account_id = ? AND region = ? AND name = ?",
                    )
                    .bind(&account)
                    .bind(&region)
                    .bind(&name)
                    .execute(&mut *conn)
                    .await?;
                    Ok(())
                })
            })
            .await?;
        self.forget_token(&existing.arn);
        Ok(Self::state_change_answer(&existing, "DELETING"))
    }

    async fn deauthorize_connection(
        &self,
        ctx: &RequestContext,
        doc: Value,
    ) -> Result<Value, EventsError> {
        let req: NameInput = input(doc)?;
        let existing = self.connection(ctx, &req.name).await?;
        self.set_connection_state(
            &ctx.account_id,
            &ctx.region,
            &req.name,
            "DEAUTHORIZED",
            None,
        )
        .await?;
        self.forget_token(&existing.arn);
        Ok(Self::state_change_answer(&existing, "DEAUTHORIZING"))
    }

    // ---- API destinations --------------------------------------------------------------

    async fn destinations(
        &self,
        account: &str,
        region: &str,
        name: Option<&str>,
        arn: Option<&str>,
    ) -> Result<Vec<DestinationRow>, StoreError> {
        let rows = sqlx::query(
            "SELECT name, arn, description, connection_arn, endpoint, http_method, rate_limit, \
             state, created_ms, modified_ms FROM events_api_destinations \
             WHERE account_id = ? AND region = ? AND (?3 IS NULL OR name = ?3) \
             AND (?4 IS NULL OR arn = ?4) ORDER BY name",
        )
        .bind(account)
        .bind(region)
        .bind(name)
        .bind(arn)
        .fetch_all(self.inner.db.reader())
        .await?;
        Ok(rows
            .into_iter()
            .map(|r| DestinationRow {
                name: r.get(0),
                arn: r.get(1),
                description: r.get(2),
                connection_arn: r.get(3),
                endpoint: r.get(4),
                http_method: r.get(5),
                rate_limit: r.get(6),
                state: r.get(7),
                created_ms: r.get(8),
                modified_ms: r.get(9),
            })
            .collect())
    }

    async fn destination(
        &self,
        ctx: &RequestContext,
        name: &str,
    ) -> Result<DestinationRow, EventsError> {
        self.destinations(&ctx.account_id, &ctx.region, Some(name), None)
            .await?
            .into_iter()
            .next()
            .ok_or_else(|| destination_missing(name))
    }

    async fn require_connection_arn(
        &self,
        ctx: &RequestContext,
        arn: &str,
    ) -> Result<(), EventsError> {
        let found = self
            .connections(&ctx.account_id, &ctx.region, None, Some(arn))
            .await?;
        if found.is_empty() {
            return Err(connection_missing(name_of(arn)));
        }
        Ok(())
    }

    async fn create_destination(
        &self,
        ctx: &RequestContext,
        doc: Value,
    ) -> Result<Value, EventsError> {
        let req: DestinationInput = input(doc)?;
        if !self
            .destinations(&ctx.account_id, &ctx.region, Some(&req.name), None)
            .await?
            .is_empty()
        {
            return Err(EventsError::ResourceAlreadyExists(format!(
                "An api-destination '{}' already exists.",
                req.name
            )));
        }
        let connection_arn = req.connection_arn.clone().unwrap_or_default();
        self.require_connection_arn(ctx, &connection_arn).await?;
        let arn = format!(
            "arn:aws:events:{}:{}:api-destination/{}/{}",
            ctx.region,
            ctx.account_id,
            req.name,
            uuid::Uuid::new_v4()
        );
        let now = ctx.now_ms;
        let rate = req
            .invocation_rate_limit_per_second
            .unwrap_or(DEFAULT_RATE_LIMIT);
        let (account, region) = (ctx.account_id.clone(), ctx.region.clone());
        let (name, arn_row) = (req.name.clone(), arn.clone());
        let created = self
            .inner
            .db
            .write(move |conn| {
                Box::pin(async move {
                    let done = sqlx::query(
                        "INSERT INTO events_api_destinations (account_id, region, name, arn, \
                         description, connection_arn, endpoint, http_method, rate_limit, state, \
                         created_ms, modified_ms) \
                         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, 'ACTIVE', ?, ?) ON CONFLICT DO NOTHING",
                    )
                    .bind(&account)
                    .bind(&region)
                    .bind(&name)
                    .bind(&arn_row)
                    .bind(&req.description)
                    .bind(&connection_arn)
                    .bind(req.invocation_endpoint.as_deref().unwrap_or_default())
                    .bind(req.http_method.as_deref().unwrap_or("POST"))
                    .bind(rate)
                    .bind(now)
                    .bind(now)
                    .execute(&mut *conn)
                    .await?;
                    Ok(done.rows_affected() == 1)
                })
            })
            .await?;
        if !created {
            return Err(EventsError::ResourceAlreadyExists(format!(
                "An api-destination '{}' already exists.",
                name_of(&arn)
            )));
        }
        Ok(json!({
            "ApiDestinationArn": arn,
            "ApiDestinationState": "ACTIVE",
            "CreationTime": secs(now),
            "LastModifiedTime": secs(now),
        }))
    }

    fn destination_summary(d: &DestinationRow) -> Value {
        json!({
            "ApiDestinationArn": d.arn,
            "Name": d.name,
            "ApiDestinationState": d.state,
            "ConnectionArn": d.connection_arn,
            "InvocationEndpoint": d.endpoint,
            "HttpMethod": d.http_method,
            "InvocationRateLimitPerSecond": d.rate_limit,
            "CreationTime": secs(d.created_ms),
            "LastModifiedTime": secs(d.modified_ms),
        })
    }

    async fn describe_destination(
        &self,
        ctx: &RequestContext,
        doc: Value,
    ) -> Result<Value, EventsError> {
        let req: NameInput = input(doc)?;
        let d = self.destination(ctx, &req.name).await?;
        let mut out = Self::destination_summary(&d);
        if let Some(desc) = &d.description {
            out["Description"] = json!(desc);
        }
        Ok(out)
    }

    async fn list_destinations(
        &self,
        ctx: &RequestContext,
        doc: Value,
    ) -> Result<Value, EventsError> {
        let req: ListInput = input(doc)?;
        let after = req.next_token.as_deref().map(decode_token).transpose()?;
        let limit = req.limit.unwrap_or(DEFAULT_LIMIT).clamp(1, 100) as usize;
        let mut rows: Vec<DestinationRow> = self
            .destinations(&ctx.account_id, &ctx.region, None, None)
            .await?
            .into_iter()
            .filter(|d| {
                req.name_prefix
                    .as_deref()
                    .is_none_or(|p| d.name.starts_with(p))
            })
            .filter(|d| {
                req.connection_arn
                    .as_deref()
                    .is_none_or(|a| d.connection_arn == a)
            })
            .filter(|d| after.as_deref().is_none_or(|n| d.name.as_str() > n))
            .collect();
        let next = (rows.len() > limit).then(|| encode_token(&rows[limit - 1].name));
        rows.truncate(limit);
        let mut out = json!({
            "ApiDestinations": rows.iter().map(Self::destination_summary).collect::<Vec<_>>()
        });
        if let Some(n) = next {
            out["NextToken"] = json!(n);
        }
        Ok(out)
    }

    async fn update_destination(
        &self,
        ctx: &RequestContext,
        doc: Value,
    ) -> Result<Value, EventsError> {
        let req: DestinationInput = input(doc)?;
        let existing = self.destination(ctx, &req.name).await?;
        if let Some(arn) = &req.connection_arn {
            self.require_connection_arn(ctx, arn).await?;
        }
        let now = ctx.now_ms;
        let (account, region) = (ctx.account_id.clone(), ctx.region.clone());
        self.inner
            .db
            .write(move |conn| {
                Box::pin(async move {
                    sqlx::query(
                        "UPDATE events_api_destinations SET description = COALESCE(?, description), \
                         connection_arn = COALESCE(?, connection_arn), endpoint = COALESCE(?, endpoint), \
                         http_method = COALESCE(?, http_method), rate_limit = COALESCE(?, rate_limit), \
                         modified_ms = ? WHERE account_id = ? AND region = ? AND name = ?",
                    )
                    .bind(&req.description)
                    .bind(&req.connection_arn)
                    .bind(&req.invocation_endpoint)
                    .bind(&req.http_method)
                    .bind(req.invocation_rate_limit_per_second)
                    .bind(now)
                    .bind(&account)
                    .bind(&region)
                    .bind(&req.name)
                    .execute(&mut *conn)
                    .await?;
                    Ok(())
                })
            })
            .await?;
        Ok(json!({
            "ApiDestinationArn": existing.arn,
            "ApiDestinationState": existing.state,
            "CreationTime": secs(existing.created_ms),
            "LastModifiedTime": secs(now),
        }))
    }

    async fn delete_destination(
        &self,
        ctx: &RequestContext,
        doc: Value,
    ) -> Result<Value, EventsError> {
        let req: NameInput = input(doc)?;
        let existing = self.destination(ctx, &req.name).await?;
        let (account, region) = (ctx.account_id.clone(), ctx.region.clone());
        self.inner
            .db
            .write(move |conn| {
                Box::pin(async move {
                    sqlx::query(
                        "DELETE FROM events_api_destinations WHERE account_id = ? AND region = ? AND name = ?",
                    )
                    .bind(&account)
                    .bind(&region)
                    .bind(&req.name)
                    .execute(&mut *conn)
                    .await?;
                    Ok(())
                })
            })
            .await?;
        self.inner.limiter.forget(&existing.arn);
        Ok(json!({}))
    }

    // ---- invocation --------------------------------------------------------------------

    /// One HTTP attempt to the API destination; see [`ApiDestinations::send_attempt`].
    pub async fn send(
        &self,
        account_id: &str,
        region: &str,
        api_destination_arn: &str,
        http_parameters: Option<&Value>,
        body: String,
    ) -> Result<(), String> {
        self.send_attempt(
            account_id,
            region,
            api_destination_arn,
            http_parameters,
            body,
            None,
            1,
        )
        .await
    }

    /// One HTTP attempt, recorded as a delivery (`source` is the rule ARN, `attempt` counts from
    /// 1). The target's HttpParameters give path values (`*` in the endpoint, in order), headers
    /// and query parameters; the connection adds its own parameters and the authorization.
    #[allow(clippy::too_many_arguments)]
    pub async fn send_attempt(
        &self,
        account_id: &str,
        region: &str,
        api_destination_arn: &str,
        http_parameters: Option<&Value>,
        body: String,
        source: Option<&str>,
        attempt: i64,
    ) -> Result<(), String> {
        let outcome = self
            .invoke(
                account_id,
                region,
                api_destination_arn,
                http_parameters,
                &body,
            )
            .await;
        let (status, error) = match &outcome {
            Ok(()) => (DeliveryStatus::Delivered, None),
            Err(e) => (DeliveryStatus::Failed, Some(e.clone())),
        };
        let record = Delivery {
            account_id: account_id.to_string(),
            region: region.to_string(),
            origin: "events",
            target: api_destination_arn.to_string(),
            target_kind: "api-destination".to_string(),
            source: source.map(str::to_string),
            subject: None,
            body,
            status,
            attempts: attempt,
            error,
            created_ms: self.inner.clock.now_ms(),
        };
        if let Err(e) = self.inner.deliveries.record(vec![record]).await {
            tracing::error!(error = %e, "cannot record an API destination delivery");
        }
        outcome
    }

    async fn invoke(
        &self,
        account_id: &str,
        region: &str,
        arn: &str,
        http_parameters: Option<&Value>,
        body: &str,
    ) -> Result<(), String> {
        let destination = self
            .destinations(account_id, region, None, Some(arn))
            .await
            .map_err(|e| format!("internal error: {e}"))?
            .into_iter()
            .next()
            .ok_or_else(|| format!("API destination {arn} does not exist."))?;
        let connection = self
            .connections(account_id, region, None, Some(&destination.connection_arn))
            .await
            .map_err(|e| format!("internal error: {e}"))?
            .into_iter()
            .next()
            .ok_or_else(|| format!("Connection {} does not exist.", destination.connection_arn))?;
        if connection.state != "AUTHORIZED" {
            return Err(format!(
                "Connection {} is {}, not AUTHORIZED.",
                connection.arn, connection.state
            ));
        }
        self.inner
            .limiter
            .acquire(&destination.arn, destination.rate_limit)
            .await;

        let path_values: Vec<&str> = http_parameters
            .and_then(|p| p.get("PathParameterValues"))
            .and_then(Value::as_array)
            .map(|v| v.iter().filter_map(Value::as_str).collect())
            .unwrap_or_default();
        let url = substitute_path(&destination.endpoint, &path_values);
        let method = reqwest::Method::from_bytes(destination.http_method.as_bytes())
            .map_err(|e| format!("invalid HTTP method: {e}"))?;
        let invocation = connection.auth.get("InvocationHttpParameters");

        let mut query: Vec<(String, String)> = Vec::new();
        if let Some(map) = http_parameters
            .and_then(|p| p.get("QueryStringParameters"))
            .and_then(Value::as_object)
        {
            for (k, v) in map {
                query.push((k.clone(), v.as_str().unwrap_or_default().to_string()));
            }
        }
        // The connection's parameters win over the target's of the same name.
        for (k, v) in pairs(invocation, "QueryStringParameters") {
            query.retain(|(qk, _)| qk != k);
            query.push((k.to_string(), v.to_string()));
        }
        let mut headers: Vec<(String, String)> = Vec::new();
        if let Some(map) = http_parameters
            .and_then(|p| p.get("HeaderParameters"))
            .and_then(Value::as_object)
        {
            for (k, v) in map {
                headers.push((k.clone(), v.as_str().unwrap_or_default().to_string()));
            }
        }
        for (k, v) in pairs(invocation, "HeaderParameters") {
            headers.retain(|(hk, _)| !hk.eq_ignore_ascii_case(k));
            headers.push((k.to_string(), v.to_string()));
        }
        headers.push(self.authorization(&connection).await?);

        // Body parameters of the connection join a JSON object body.
        let mut payload = body.to_string();
        let extra = pairs(invocation, "BodyParameters");
        if !extra.is_empty() {
            if let Ok(Value::Object(mut fields)) = serde_json::from_str::<Value>(body) {
                for (k, v) in extra {
                    fields.insert(k.to_string(), Value::String(v.to_string()));
                }
                payload = Value::Object(fields).to_string();
            }
        }

        let mut request = self.inner.http()?.request(method.clone(), &url);
        if !query.is_empty() {
            request = request.query(&query);
        }
        request = request.header("Content-Type", "application/json; charset=utf-8");
        for (k, v) in &headers {
            request = request.header(k.as_str(), v.as_str());
        }
        if method != reqwest::Method::GET && method != reqwest::Method::HEAD {
            request = request.body(payload);
        }
        let response = request.send().await.map_err(describe_transport_error)?;
        let status = response.status();
        if status.is_success() {
            return Ok(());
        }
        if status == reqwest::StatusCode::UNAUTHORIZED {
            // A rejected token is fetched again next time.
            self.forget_token(&connection.arn);
        }
        Err(format!(
            "HTTP {} {}",
            status.as_u16(),
            status.canonical_reason().unwrap_or_default()
        ))
    }

    /// The authorization header of a connection.
    async fn authorization(&self, c: &ConnectionRow) -> Result<(String, String), String> {
        let s = |p: &str| {
            c.auth
                .pointer(p)
                .and_then(Value::as_str)
                .unwrap_or_default()
        };
        match c.authorization_type.as_str() {
            "BASIC" => {
                let pair = format!(
                    "{}:{}",
                    s("/BasicAuthParameters/Username"),
                    s("/BasicAuthParameters/Password")
                );
                Ok((
                    "Authorization".into(),
                    format!(
                        "Basic {}",
                        base64::engine::general_purpose::STANDARD.encode(pair)
                    ),
                ))
            }
            "API_KEY" => Ok((
                s("/ApiKeyAuthParameters/ApiKeyName").to_string(),
                s("/ApiKeyAuthParameters/ApiKeyValue").to_string(),
            )),
            _ => {
                let now = self.inner.clock.now_ms();
                let cached = self.inner.tokens.lock().ok().and_then(|t| {
                    t.get(&c.arn)
                        .filter(|(_, exp)| exp.is_none_or(|e| e > now))
                        .map(|(tok, _)| tok.clone())
                });
                let token = match cached {
                    Some(t) => t,
                    None => {
                        self.fetch_token(&c.arn, &c.auth).await?;
                        self.inner
                            .tokens
                            .lock()
                            .ok()
                            .and_then(|t| t.get(&c.arn).map(|(tok, _)| tok.clone()))
                            .unwrap_or_default()
                    }
                };
                Ok(("Authorization".into(), format!("Bearer {token}")))
            }
        }
    }

    /// Client-credentials token request: client id and secret as Basic authorization, the
    /// OAuthHttpParameters as headers, query and form body; the answer's `access_token` (and
    /// `expires_in`) is cached for the connection.
    async fn fetch_token(&self, connection_arn: &str, auth: &Value) -> Result<(), String> {
        let oauth = auth
            .get("OAuthParameters")
            .ok_or_else(|| "The connection has no OAuth parameters.".to_string())?;
        let s = |p: &str| oauth.pointer(p).and_then(Value::as_str).unwrap_or_default();
        let endpoint = s("/AuthorizationEndpoint");
        let method = reqwest::Method::from_bytes(s("/HttpMethod").as_bytes())
            .unwrap_or(reqwest::Method::POST);
        let params = oauth.get("OAuthHttpParameters");
        let mut request = self.inner.http()?.request(method, endpoint).basic_auth(
            s("/ClientParameters/ClientID"),
            Some(s("/ClientParameters/ClientSecret")),
        );
        for (k, v) in pairs(params, "HeaderParameters") {
            request = request.header(k, v);
        }
        let query = pairs(params, "QueryStringParameters");
        if !query.is_empty() {
            request = request.query(&query);
        }
        let body = pairs(params, "BodyParameters");
        if !body.is_empty() {
            let form: String = form_urlencoded::Serializer::new(String::new())
                .extend_pairs(body)
                .finish();
            request = request
                .header("Content-Type", "application/x-www-form-urlencoded")
                .body(form);
        }
        let response = request.send().await.map_err(|e| {
            format!(
                "Failed to fetch an OAuth token from {endpoint}: {}",
                describe_transport_error(e)
            )
        })?;
        let status = response.status();
        if !status.is_success() {
            return Err(format!(
                "Failed to fetch an OAuth token from {endpoint}: HTTP {}",
                status.as_u16()
            ));
        }
        let raw = response.bytes().await.map_err(describe_transport_error)?;
        let answer: Value = serde_json::from_slice(&raw)
            .map_err(|e| format!("The OAuth token response from {endpoint} is not JSON: {e}"))?;
        let token = answer
            .get("access_token")
            .and_then(Value::as_str)
            .ok_or_else(|| {
                format!("The OAuth token response from {endpoint} has no access_token.")
            })?;
        let expiry = answer
            .get("expires_in")
            .and_then(Value::as_i64)
            .map(|secs| self.inner.clock.now_ms() + secs * 1000);
        if let Ok(mut tokens) = self.inner.tokens.lock() {
            tokens.insert(connection_arn.to_string(), (token.to_string(), expiry));
        }
        Ok(())
    }
}

fn name_of(arn: &str) -> &str {
    arn.rsplit('/').nth(1).unwrap_or(arn)
}

fn describe_transport_error(e: reqwest::Error) -> String {
    if e.is_timeout() {
        format!("timeout: {e}")
    } else {
        format!("network error: {e}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clock::ManualClock;
    use crate::services::deliveries::DeliveryFilter;
    use crate::store::Location;

    const ACCOUNT: &str = "123456789012";
    const REGION: &str = "us-east-1";
    const T0: i64 = 1_700_000_000_000;

    #[derive(Debug, Clone)]
    struct Seen {
        method: String,
        uri: String,
        headers: http::HeaderMap,
        body: String,
    }

    /// A local endpoint that records requests: `/token` answers an OAuth token (or 401 with
    /// `bad` in the query), paths with `fail500`/`fail400` answer those statuses.
    async fn endpoint() -> (String, Arc<Mutex<Vec<Seen>>>) {
        let seen: Arc<Mutex<Vec<Seen>>> = Arc::default();
        let log = seen.clone();
        let app = axum::Router::new().fallback(move |req: axum::extract::Request| {
            let log = log.clone();
            async move {
                let (parts, body) = req.into_parts();
                let bytes = axum::body::to_bytes(body, 1 << 20).await.unwrap();
                let uri = parts.uri.to_string();
                log.lock().unwrap().push(Seen {
                    method: parts.method.to_string(),
                    uri: uri.clone(),
                    headers: parts.headers,
                    body: String::from_utf8_lossy(&bytes).into_owned(),
                });
                let (status, text) = if uri.starts_with("/token") && uri.contains("bad") {
                    (401, String::new())
                } else if uri.starts_with("/token") {
                    (
                        200,
                        "{\"access_token\":\"tok-1\",\"expires_in\":3600}".to_string(),
                    )
                } else if uri.contains("fail500") {
                    (500, String::new())
                } else if uri.contains("fail400") {
                    (400, String::new())
                } else {
                    (200, "ok".to_string())
                };
                (http::StatusCode::from_u16(status).unwrap(), text)
            }
        });
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        (format!("http://{addr}"), seen)
    }

    fn ctx(now_ms: i64) -> RequestContext {
        RequestContext::for_tests(ACCOUNT, REGION, now_ms)
    }

    async fn service() -> (ApiDestinations, Deliveries, Db) {
        let (db, _writer) = Db::open(&Location::Ephemeral).await.unwrap();
        let deliveries = Deliveries::new(db.clone());
        let clock = ManualClock::new(T0);
        (
            ApiDestinations::new(db.clone(), clock, deliveries.clone()),
            deliveries,
            db,
        )
    }

    async fn call(s: &ApiDestinations, op: &str, input: Value) -> Result<Value, String> {
        let c = ctx(T0);
        s.call(&c, op, input)
            .unwrap()
            .await
            .map_err(|e| format!("{}: {e}", e.error_shape()))
    }

    async fn wait_for_state(s: &ApiDestinations, name: &str, state: &str) -> Value {
        for _ in 0..300 {
            let d = call(s, "DescribeConnection", json!({"Name": name}))
                .await
                .unwrap();
            if d["ConnectionState"] == state {
                return d;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        panic!("connection {name} never reached {state}");
    }

    #[tokio::test]
    async fn connections_hide_secrets_and_validate() {
        let (s, _, _db) = service().await;
        let created = call(
            &s,
            "CreateConnection",
            json!({
            "Name": "basic", "Description": "d", "AuthorizationType": "BASIC",
            "AuthParameters": {
                "BasicAuthParameters": {"Username": "u", "Password": "p"},
                "InvocationHttpParameters": {"HeaderParameters": [
                    {"Key": "x-secret", "Value": "s", "IsValueSecret": true},
                    {"Key": "x-open", "Value": "o", "IsValueSecret": false}]}
            }}),
        )
        .await
        .unwrap();
        assert_eq!(created["ConnectionState"], "AUTHORIZED");
        let arn = created["ConnectionArn"].as_str().unwrap();
        assert!(arn.starts_with("arn:aws:events:us-east-1:123456789012:connection/basic/"));
        let d = call(&s, "DescribeConnection", json!({"Name": "basic"}))
            .await
            .unwrap();
        assert_eq!(
            d["AuthParameters"]["BasicAuthParameters"],
            json!({"Username": "u"})
        );
        assert_eq!(
            d["AuthParameters"]["InvocationHttpParameters"]["HeaderParameters"],
            json!([{"Key": "x-secret", "IsValueSecret": true},
                   {"Key": "x-open", "Value": "o", "IsValueSecret": false}])
        );
        let uuid = arn.rsplit('/').next().unwrap();
        assert_eq!(
            d["SecretArn"],
            format!("arn:aws:secretsmanager:us-east-1:123456789012:secret:events!connection/basic/{uuid}")
        );
        assert_eq!(d["LastAuthorizedTime"], json!(1_700_000_000.0));
        assert!(!d.to_string().contains("\"p\""));

        assert_eq!(
            call(
                &s,
                "CreateConnection",
                json!({"Name": "basic", "AuthorizationType": "BASIC",
                "AuthParameters": {"BasicAuthParameters": {"Username": "u", "Password": "p"}}})
            )
            .await,
            Err("ResourceAlreadyExistsException: Connection basic already exists.".into())
        );
        let mismatch = call(
            &s,
            "CreateConnection",
            json!({"Name": "k", "AuthorizationType": "API_KEY",
            "AuthParameters": {"BasicAuthParameters": {"Username": "u", "Password": "p"}}}),
        )
        .await;
        assert!(mismatch.unwrap_err().starts_with("ValidationException"));
        assert_eq!(
            call(&s, "DescribeConnection", json!({"Name": "nope"})).await,
            Err("ResourceNotFoundException: Failed to describe the connection(s). Connection 'nope' does not exist.".into())
        );

        let deauth = call(&s, "DeauthorizeConnection", json!({"Name": "basic"}))
            .await
            .unwrap();
        assert_eq!(deauth["ConnectionState"], "DEAUTHORIZING");
        let listed = call(
            &s,
            "ListConnections",
            json!({"ConnectionState": "DEAUTHORIZED"}),
        )
        .await
        .unwrap();
        assert_eq!(listed["Connections"][0]["Name"], "basic");
        let updated = call(
            &s,
            "UpdateConnection",
            json!({"Name": "basic",
            "AuthParameters": {"BasicAuthParameters": {"Password": "p2"}}}),
        )
        .await
        .unwrap();
        assert_eq!(updated["ConnectionState"], "AUTHORIZED");
        let deleted = call(&s, "DeleteConnection", json!({"Name": "basic"}))
            .await
            .unwrap();
        assert_eq!(deleted["ConnectionState"], "DELETING");
        assert!(call(&s, "DescribeConnection", json!({"Name": "basic"}))
            .await
            .is_err());
    }

    #[tokio::test]
    async fn api_key_destination_invocation() {
        let (base, seen) = endpoint().await;
        let (s, deliveries, _db) = service().await;
        let conn = call(
            &s,
            "CreateConnection",
            json!({
            "Name": "key", "AuthorizationType": "API_KEY",
            "AuthParameters": {
                "ApiKeyAuthParameters": {"ApiKeyName": "x-api-key", "ApiKeyValue": "k-123"},
                "InvocationHttpParameters": {
                    "QueryStringParameters": [{"Key": "from", "Value": "conn"}],
                    "BodyParameters": [{"Key": "extra", "Value": "yes"}]}
            }}),
        )
        .await
        .unwrap();
        let conn_arn = conn["ConnectionArn"].as_str().unwrap().to_string();
        assert_eq!(
            call(
                &s,
                "CreateApiDestination",
                json!({"Name": "d", "HttpMethod": "POST",
                "InvocationEndpoint": "http://x/y",
                "ConnectionArn": "arn:aws:events:us-east-1:123456789012:connection/none/abc"})
            )
            .await,
            Err("ResourceNotFoundException: Failed to describe the connection(s). Connection 'none' does not exist.".into())
        );
        let dest = call(
            &s,
            "CreateApiDestination",
            json!({"Name": "d", "HttpMethod": "PUT",
            "InvocationEndpoint": format!("{base}/orders/*/items/*"), "ConnectionArn": conn_arn}),
        )
        .await
        .unwrap();
        assert_eq!(dest["ApiDestinationState"], "ACTIVE");
        let dest_arn = dest["ApiDestinationArn"].as_str().unwrap().to_string();
        let described = call(&s, "DescribeApiDestination", json!({"Name": "d"}))
            .await
            .unwrap();
        assert_eq!(described["InvocationRateLimitPerSecond"], 300);
        assert_eq!(described["HttpMethod"], "PUT");

        let params = json!({"PathParameterValues": ["o-1", "a b"],
            "QueryStringParameters": {"q": "1"}, "HeaderParameters": {"x-trace": "t-9"}});
        s.send(
            ACCOUNT,
            REGION,
            &dest_arn,
            Some(&params),
            "{\"detail\":{\"n\":1}}".into(),
        )
        .await
        .unwrap();
        let got = seen.lock().unwrap().last().cloned().unwrap();
        assert_eq!(got.method, "PUT");
        assert_eq!(got.uri, "/orders/o-1/items/a%20b?q=1&from=conn");
        assert_eq!(got.headers["x-api-key"], "k-123");
        assert_eq!(got.headers["x-trace"], "t-9");
        assert_eq!(
            got.headers["content-type"],
            "application/json; charset=utf-8"
        );
        let body: Value = serde_json::from_str(&got.body).unwrap();
        assert_eq!(body, json!({"detail": {"n": 1}, "extra": "yes"}));

        let recorded = deliveries.list(&DeliveryFilter::default()).await.unwrap();
        assert_eq!(recorded.len(), 1);
        assert_eq!(recorded[0].status, "delivered");
        assert_eq!(recorded[0].target, dest_arn);
        assert_eq!(recorded[0].target_kind, "api-destination");

        call(
            &s,
            "UpdateApiDestination",
            json!({"Name": "d",
            "InvocationEndpoint": format!("{base}/fail500")}),
        )
        .await
        .unwrap();
        let err = s
            .send(ACCOUNT, REGION, &dest_arn, None, "{}".into())
            .await
            .unwrap_err();
        assert_eq!(err, "HTTP 500 Internal Server Error");
        assert!(is_retryable(&err));
        call(
            &s,
            "UpdateApiDestination",
            json!({"Name": "d",
            "InvocationEndpoint": format!("{base}/fail400")}),
        )
        .await
        .unwrap();
        let err = s
            .send(ACCOUNT, REGION, &dest_arn, None, "{}".into())
            .await
            .unwrap_err();
        assert_eq!(err, "HTTP 400 Bad Request");
        assert!(!is_retryable(&err));
        let recorded = deliveries.list(&DeliveryFilter::default()).await.unwrap();
        assert_eq!(recorded[2].status, "failed");
        assert_eq!(recorded[2].error.as_deref(), Some("HTTP 400 Bad Request"));

        let listed = call(
            &s,
            "ListApiDestinations",
            json!({"ConnectionArn": conn_arn}),
        )
        .await
        .unwrap();
        assert_eq!(listed["ApiDestinations"].as_array().unwrap().len(), 1);
        call(&s, "DeleteApiDestination", json!({"Name": "d"}))
            .await
            .unwrap();
        assert_eq!(
            call(&s, "DescribeApiDestination", json!({"Name": "d"})).await,
            Err("ResourceNotFoundException: Failed to describe the api-destination(s). An api-destination 'd' does not exist.".into())
        );
    }

    #[tokio::test]
    async fn oauth_connections_fetch_a_token() {
        let (base, seen) = endpoint().await;
        let (s, _, _db) = service().await;
        let created = call(
            &s,
            "CreateConnection",
            json!({
            "Name": "oauth", "AuthorizationType": "OAUTH_CLIENT_CREDENTIALS",
            "AuthParameters": {"OAuthParameters": {
                "ClientParameters": {"ClientID": "id", "ClientSecret": "secret"},
                "AuthorizationEndpoint": format!("{base}/token"), "HttpMethod": "POST",
                "OAuthHttpParameters": {"BodyParameters": [
                    {"Key": "grant_type", "Value": "client_credentials"}]}}}}),
        )
        .await
        .unwrap();
        assert_eq!(created["ConnectionState"], "AUTHORIZING");
        let d = wait_for_state(&s, "oauth", "AUTHORIZED").await;
        assert_eq!(
            d["AuthParameters"]["OAuthParameters"]["ClientParameters"],
            json!({"ClientID": "id"})
        );
        let token_request = seen.lock().unwrap()[0].clone();
        assert_eq!(token_request.headers["authorization"], "Basic aWQ6c2VjcmV0");
        assert_eq!(token_request.body, "grant_type=client_credentials");

        let dest = call(&s, "CreateApiDestination", json!({"Name": "o", "HttpMethod": "POST",
            "InvocationEndpoint": format!("{base}/hook"), "ConnectionArn": created["ConnectionArn"]}))
            .await
            .unwrap();
        s.send(
            ACCOUNT,
            REGION,
            dest["ApiDestinationArn"].as_str().unwrap(),
            None,
            "{}".into(),
        )
        .await
        .unwrap();
        let hook = seen.lock().unwrap().last().cloned().unwrap();
        assert_eq!(hook.uri, "/hook");
        assert_eq!(hook.headers["authorization"], "Bearer tok-1");

        call(
            &s,
            "CreateConnection",
            json!({
            "Name": "denied", "AuthorizationType": "OAUTH_CLIENT_CREDENTIALS",
            "AuthParameters": {"OAuthParameters": {
                "ClientParameters": {"ClientID": "id", "ClientSecret": "secret"},
                "AuthorizationEndpoint": format!("{base}/token?bad=1"), "HttpMethod": "GET"}}}),
        )
        .await
        .unwrap();
        let d = wait_for_state(&s, "denied", "DEAUTHORIZED").await;
        assert!(d["StateReason"].as_str().unwrap().contains("HTTP 401"));
    }

    #[tokio::test(start_paused = true)]
    async fn the_rate_limit_spaces_invocations() {
        let limiter = RateLimiter::default();
        let start = tokio::time::Instant::now();
        for _ in 0..3 {
            limiter.acquire("arn:d", 2).await;
        }
        // Two tokens are there at once; the third arrives half a second later.
        assert_eq!(start.elapsed(), Duration::from_millis(500));
        limiter.acquire("arn:other", 2).await;
        assert_eq!(start.elapsed(), Duration::from_millis(500));
        limiter.acquire("arn:d", 2).await;
        assert_eq!(start.elapsed(), Duration::from_millis(1000));
    }

    #[test]
    fn path_parameters_fill_the_stars_in_order() {
        assert_eq!(
            substitute_path("https://h/a/*/b/*", &["1", "2"]),
            "https://h/a/1/b/2"
        );
        assert_eq!(
            substitute_path("https://h/a/*/b/*", &["1"]),
            "https://h/a/1/b/*"
        );
    }
}

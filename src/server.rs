//! The HTTP host: axum serves the emulator's own endpoints and hands every other request to
//! [`crate::dispatch`]. Every AWS protocol posts to `/` (or the CBOR path), so AWS requests go
//! through one fallback route rather than a route table.

use std::net::SocketAddr;
use std::sync::Arc;

use axum::body::Body;
use axum::extract::{ConnectInfo, Request, State};
use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;
use serde_json::json;

use crate::auth::Credentials;
use crate::clock::SharedClock;
use crate::config::Config;
use crate::dispatch::{self, RawRequest, MAX_BODY_BYTES};
use crate::services::Services;
use crate::store::Db;

pub struct Inner {
    pub config: Config,
    pub db: Db,
    pub services: Services,
    pub credentials: Credentials,
    pub clock: SharedClock,
    /// Last totals of OTLP cumulative sums, to put their changes (see `otlp_metrics`).
    pub otlp_deltas: crate::otlp_metrics::Deltas,
    /// The StatsD listener's counters (zero while it is off).
    pub statsd: Arc<crate::statsd::StatsdStats>,
}

pub type AppState = Arc<Inner>;

pub fn router(state: AppState) -> Router {
    // What changes or reveals data is closed under --enforce-signatures (see `admin`).
    let guarded = Router::new()
        .route("/_watchtrail/reset", post(reset))
        .route("/moto-api/reset", post(reset))
        .route("/_watchtrail/journal/verify", get(verify_journal))
        .route("/_watchtrail/deliveries", get(list_deliveries))
        .route("/_watchtrail/alarms/evaluate", post(evaluate_alarms))
        .route("/_watchtrail/logs/tail", get(crate::console::tail))
        .route_layer(axum::middleware::from_fn_with_state(
            state.clone(),
            crate::admin::authorize,
        ));
    Router::new()
        .route("/_watchtrail/health", get(health))
        .merge(guarded)
        // OpenTelemetry's OTLP/HTTP paths, as CloudWatch Logs serves /v1/logs.
        .route("/v1/logs", post(crate::otlp::logs))
        .route("/v1/traces", post(crate::otlp::traces))
        .route("/v1/metrics", post(crate::otlp_metrics::metrics))
        .route("/_watchtrail/console", get(console_page))
        .route("/_watchtrail/console/", get(console_page))
        .route("/_watchtrail/console/{*path}", get(console_page))
        .fallback(aws)
        .layer(axum::middleware::from_fn(refuse_cross_origin))
        .layer(tower_http::catch_panic::CatchPanicLayer::new())
        .with_state(state)
}

async fn console_page(uri: axum::http::Uri) -> Response {
    crate::console::serve(uri.path()).await
}

/// The emulator's own endpoints refuse changes sent by another origin's page (the AWS API, where
/// even a GET can change state, refuses them in `dispatch`, in the protocol's error shape).
/// Their GETs change nothing, and a link from elsewhere to the console must open it.
async fn refuse_cross_origin(request: Request, next: axum::middleware::Next) -> Response {
    let path = request.uri().path();
    let own = path.starts_with("/_watchtrail/") || path.starts_with("/moto-api/");
    let changes = !matches!(
        *request.method(),
        axum::http::Method::GET | axum::http::Method::HEAD
    );
    if own && changes && crate::console::is_cross_origin(request.method(), request.headers()) {
        return (
            StatusCode::FORBIDDEN,
            axum::Json(json!({
                "__type": "AccessDeniedException",
                "message": "Requests from another origin's page are refused.",
            })),
        )
            .into_response();
    }
    next.run(request).await
}

async fn health(State(state): State<AppState>) -> impl IntoResponse {
    let services: serde_json::Map<String, serde_json::Value> = state
        .services
        .status()
        .into_iter()
        .map(|(s, status)| (s.name().to_string(), json!(status)))
        .collect();
    axum::Json(json!({
        "status": "ok",
        "version": env!("CARGO_PKG_VERSION"),
        "services": services,
        "defaultAccount": state.credentials.default_account_id(),
        "defaultRegion": state.config.default_region,
        "accounts": state.credentials.accounts(),
        "enforceSignatures": state.config.enforce_signatures,
        "statsd": {
            "enabled": state.config.statsd_port.is_some(),
            "datagrams": state.statsd.datagrams.load(std::sync::atomic::Ordering::Relaxed),
            "malformedDatagrams": state.statsd.malformed.load(std::sync::atomic::Ordering::Relaxed),
        },
    }))
}

async fn reset(State(state): State<AppState>) -> Response {
    match state.db.wipe().await {
        Ok(()) => {
            state.services.after_reset();
            axum::Json(json!({"reset": true})).into_response()
        }
        Err(e) => {
            tracing::error!(error = %e, "reset failed");
            (
                StatusCode::INTERNAL_SERVER_ERROR,
                axum::Json(json!({"reset": false})),
            )
                .into_response()
        }
    }
}

/// Walks the CloudTrail journal's hash chain and reports whether it is intact.
async fn verify_journal(State(state): State<AppState>) -> Response {
    match state.services.cloudtrail.verify().await {
        Ok(v) => axum::Json(v).into_response(),
        Err(e) => {
            tracing::error!(error = %e, "journal verification failed");
            (
                StatusCode::INTERNAL_SERVER_ERROR,
                axum::Json(json!({"error": "verification failed"})),
            )
                .into_response()
        }
    }
}

/// Lists recorded deliveries (alarm actions' SNS messages, rule targets not hosted here, API
/// destination attempts), oldest first; `?target=&origin=&source=&after=&limit=` narrow it.
/// A signed caller sees only its own account's.
async fn list_deliveries(
    State(state): State<AppState>,
    axum::Extension(caller): axum::Extension<crate::admin::AdminCaller>,
    axum::extract::Query(mut filter): axum::extract::Query<
        crate::services::deliveries::DeliveryFilter,
    >,
) -> Response {
    filter.account_id = caller.account().map(str::to_string);
    match state.services.deliveries.list(&filter).await {
        Ok(list) => axum::Json(json!({ "deliveries": list })).into_response(),
        Err(e) => {
            tracing::error!(error = %e, "listing deliveries failed");
            (
                StatusCode::INTERNAL_SERVER_ERROR,
                axum::Json(json!({"error": "listing deliveries failed"})),
            )
                .into_response()
        }
    }
}

/// Runs one alarm evaluation pass at the server clock's time; answers how many alarms changed.
async fn evaluate_alarms(State(state): State<AppState>) -> Response {
    let now_ms = state.clock.now_ms();
    match state.services.cloudwatch.evaluate_alarms_now(now_ms).await {
        Ok(changed) => axum::Json(json!({ "changed": changed })).into_response(),
        Err(e) => {
            tracing::error!(error = %e, "alarm evaluation failed");
            (
                StatusCode::INTERNAL_SERVER_ERROR,
                axum::Json(json!({"error": "alarm evaluation failed"})),
            )
                .into_response()
        }
    }
}

async fn aws(
    State(state): State<AppState>,
    ConnectInfo(remote): ConnectInfo<SocketAddr>,
    request: Request,
) -> Response {
    let (parts, body) = request.into_parts();
    if parts.uri.path() == "/"
        && crate::console::wants_console(&parts.method, parts.uri.query(), &parts.headers)
    {
        return crate::console::serve("/").await;
    }
    let body = match axum::body::to_bytes(body, MAX_BODY_BYTES).await {
        Ok(b) => b,
        // Too large, or never finished: answered like every other error, in the protocol's
        // shape, so SDKs surface a code and a message instead of a parse failure.
        Err(e) => {
            let too_large = std::error::Error::source(&e)
                .is_some_and(|source| source.is::<http_body_util::LengthLimitError>());
            return into_response(dispatch::unreadable_body(
                &parts.method,
                parts.uri.path(),
                parts.uri.query(),
                &parts.headers,
                too_large,
            ));
        }
    };
    let raw = RawRequest {
        method: parts.method,
        path: parts.uri.path().to_string(),
        query: parts.uri.query().map(str::to_string),
        headers: parts.headers,
        body,
        remote,
    };
    into_response(dispatch::handle(&state, raw).await)
}

/// An event-stream answer (StartLiveTail) streams its messages; any other is one body.
fn into_response(reply: dispatch::Reply) -> Response {
    let body = match reply.stream {
        Some(stream) => Body::from_stream(stream),
        None => Body::from(reply.body),
    };
    let mut response = Response::new(body);
    *response.status_mut() = reply.status;
    let headers = response.headers_mut();
    for (name, value) in reply.headers {
        headers.insert(name, value);
    }
    headers
        .entry("server")
        .or_insert(HeaderValue::from_static("watchtrail"));
    response
}

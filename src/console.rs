//! The web console: static pages embedded in the binary, and the few endpoints the console needs
//! where AWS has no API (live tail).
//!
//! The console is a client like any other: it reads and changes state through the AWS APIs
//! (signed awsJson requests to `/`), so every action it takes lands in CloudTrail. What is here
//! only serves its files and the live-tail stream.
//!
//! Pages are routed in the browser (`history.pushState`), so every path under
//! `/_watchtrail/console/` that is not an asset answers `index.html`: a deep link or a reload
//! opens the same view. `WATCHTRAIL_CONSOLE_DIR` makes the server read the files from a folder
//! instead of the binary, for working on the console without rebuilding.

use std::convert::Infallible;
use std::time::Duration;

use axum::extract::{Query, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;

use crate::server::AppState;
use crate::services::logs::filter_pattern::FilterPattern;
use crate::services::logs::live::{TailSelection, TailUpdate};

pub const PREFIX: &str = "/_watchtrail/console";

/// Every file of the console, by its path under `assets/console/`.
const FILES: &[(&str, &[u8])] = &[
    ("index.html", include_bytes!("../assets/console/index.html")),
    (
        "assets/console.css",
        include_bytes!("../assets/console/assets/console.css"),
    ),
    (
        "assets/core.js",
        include_bytes!("../assets/console/assets/core.js"),
    ),
    (
        "assets/sigv4.js",
        include_bytes!("../assets/console/assets/sigv4.js"),
    ),
    (
        "assets/chart.js",
        include_bytes!("../assets/console/assets/chart.js"),
    ),
    (
        "assets/app.js",
        include_bytes!("../assets/console/assets/app.js"),
    ),
    (
        "assets/views/metrics.js",
        include_bytes!("../assets/console/assets/views/metrics.js"),
    ),
    (
        "assets/views/alarms.js",
        include_bytes!("../assets/console/assets/views/alarms.js"),
    ),
    (
        "assets/views/dashboards.js",
        include_bytes!("../assets/console/assets/views/dashboards.js"),
    ),
    (
        "assets/views/logs.js",
        include_bytes!("../assets/console/assets/views/logs.js"),
    ),
    (
        "assets/views/cloudtrail.js",
        include_bytes!("../assets/console/assets/views/cloudtrail.js"),
    ),
    (
        "assets/views/events.js",
        include_bytes!("../assets/console/assets/views/events.js"),
    ),
    (
        "assets/favicon.svg",
        include_bytes!("../assets/console/assets/favicon.svg"),
    ),
];

/// Total bytes the console adds to the binary (reported in BENCHMARKS.md).
pub fn embedded_bytes() -> usize {
    FILES.iter().map(|(_, bytes)| bytes.len()).sum()
}

fn content_type(path: &str) -> &'static str {
    match path.rsplit('.').next() {
        Some("html") => "text/html; charset=utf-8",
        Some("css") => "text/css; charset=utf-8",
        Some("js") => "text/javascript; charset=utf-8",
        Some("svg") => "image/svg+xml",
        Some("png") => "image/png",
        _ => "application/octet-stream",
    }
}

/// Whether a request for `/` comes from a browser that wants a page rather than the API: a GET
/// without a query (a query-protocol GET carries `Action=`) that accepts HTML.
pub fn wants_console(method: &http::Method, query: Option<&str>, headers: &HeaderMap) -> bool {
    method == http::Method::GET
        && query.is_none_or(|q| !q.split('&').any(|pair| pair.starts_with("Action=")))
        && headers
            .get(header::ACCEPT)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|accept| accept.contains("text/html"))
}

/// Answers a console path: an asset when one has that name, else the page.
pub async fn serve(path: &str) -> Response {
    let relative = path
        .strip_prefix(PREFIX)
        .unwrap_or(path)
        .trim_start_matches('/');
    let name = if relative.starts_with("assets/") {
        relative
    } else {
        "index.html"
    };
    match load(name).await {
        Some(bytes) => {
            let mut response = (StatusCode::OK, bytes).into_response();
            let headers = response.headers_mut();
            headers.insert(
                header::CONTENT_TYPE,
                HeaderValue::from_static(content_type(name)),
            );
            secure(headers);
            // The files change with the binary; a reload must never show a stale console.
            headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
            response
        }
        None => {
            let mut response = (StatusCode::NOT_FOUND, "Not found").into_response();
            secure(response.headers_mut());
            response
        }
    }
}

/// The page runs only its own scripts and talks only to this server; nothing may frame it.
fn secure(headers: &mut HeaderMap) {
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(
            "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; \
             connect-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'",
        ),
    );
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    headers.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("same-origin"),
    );
}

/// The file's bytes: embedded ones are served without a copy.
async fn load(name: &str) -> Option<bytes::Bytes> {
    // Only names from the embedded list, so the override can never reach outside its folder.
    let embedded = FILES.iter().find(|(n, _)| *n == name)?.1;
    match std::env::var_os("WATCHTRAIL_CONSOLE_DIR") {
        Some(dir) => tokio::fs::read(std::path::Path::new(&dir).join(name))
            .await
            .ok()
            .map(bytes::Bytes::from),
        None => Some(bytes::Bytes::from_static(embedded)),
    }
}

/// `GET /_watchtrail/logs/tail`: the query names what to tail.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TailQuery {
    account_id: Option<String>,
    region: Option<String>,
    /// Comma-separated log group names (up to 10, as StartLiveTail allows).
    log_group_names: String,
    log_stream_names: Option<String>,
    log_stream_name_prefixes: Option<String>,
    filter_pattern: Option<String>,
}

/// Tails at most this many groups at once, as StartLiveTail does.
const MAX_TAILED_GROUPS: usize = 10;
/// A burst of batches is sent as one update: the page redraws once per burst, not per batch.
const MAX_EVENTS_PER_UPDATE: usize = 500;

fn split_list(value: Option<&str>) -> Vec<String> {
    value
        .unwrap_or_default()
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_string)
        .collect()
}

/// Server-sent events of a live tail: `events` carries a JSON array of new events, `lagged` how
/// many batches were dropped because the page fell behind.
pub async fn tail(
    State(state): State<AppState>,
    axum::Extension(caller): axum::Extension<crate::admin::AdminCaller>,
    Query(query): Query<TailQuery>,
) -> Response {
    // A signed caller tails its own account's groups only (the account of its signature).
    let account_id = match (caller.account(), query.account_id) {
        (Some(own), Some(asked)) if asked != own => {
            return crate::admin::refusal(
                StatusCode::FORBIDDEN,
                "AccessDeniedException",
                &format!("The caller's account {own} may not tail log groups of account {asked}."),
            )
        }
        (Some(own), _) => own.to_string(),
        (None, asked) => asked.unwrap_or_else(|| state.config.account_id.clone()),
    };
    let group_names = split_list(Some(&query.log_group_names));
    if group_names.is_empty() || group_names.len() > MAX_TAILED_GROUPS {
        return tail_error(format!(
            "logGroupNames must name between 1 and {MAX_TAILED_GROUPS} log groups."
        ));
    }
    let pattern = match query
        .filter_pattern
        .as_deref()
        .map(str::trim)
        .filter(|p| !p.is_empty())
    {
        None => None,
        Some(text) => match FilterPattern::parse(text) {
            Ok(p) => Some(p),
            Err(e) => return tail_error(e.to_string()),
        },
    };
    let selection = TailSelection {
        account_id,
        region: query
            .region
            .unwrap_or_else(|| state.config.default_region.clone()),
        group_names,
        stream_names: split_list(query.log_stream_names.as_deref()),
        stream_name_prefixes: split_list(query.log_stream_name_prefixes.as_deref()),
        pattern,
    };
    let subscription = state.services.logs.live().subscribe(selection);
    let stream = futures_util::stream::unfold(
        (subscription, true),
        |(mut subscription, first)| async move {
            if first {
                let started = Event::default().event("started").data("{}");
                return Some((Ok::<_, Infallible>(started), (subscription, false)));
            }
            let mut events = Vec::new();
            let mut lagged = 0u64;
            let mut pending = Some(subscription.next().await);
            while let Some(update) = pending.take() {
                match update {
                    TailUpdate::Events(batch) => events.extend(batch),
                    TailUpdate::Lagged(n) => lagged = lagged.saturating_add(n),
                    TailUpdate::Closed => return None,
                }
                if events.len() < MAX_EVENTS_PER_UPDATE {
                    pending = subscription.try_next();
                }
            }
            let event = if events.is_empty() {
                Event::default()
                    .event("lagged")
                    .data(serde_json::json!({ "droppedBatches": lagged }).to_string())
            } else {
                Event::default()
                    .event("events")
                    .data(serde_json::to_string(&events).unwrap_or_else(|_| "[]".into()))
            };
            Some((Ok(event), (subscription, false)))
        },
    );
    let mut response = Sse::new(stream)
        .keep_alive(KeepAlive::new().interval(Duration::from_secs(15)))
        .into_response();
    response
        .headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

fn tail_error(message: String) -> Response {
    (
        StatusCode::BAD_REQUEST,
        axum::Json(serde_json::json!({
            "__type": "InvalidParameterException",
            "message": message,
        })),
    )
        .into_response()
}

/// Whether a request was sent by a page of another origin. Browsers say so in `Sec-Fetch-Site`
/// (even for an `<img>` or a form, which need no CORS) and name the page in `Origin`; a page
/// on another port of localhost is "same-site" but still another origin. So a form or script
/// elsewhere cannot drive the API through a visitor's browser, while the SDKs and aws-cli,
/// which send neither header, are unaffected.
pub fn is_cross_origin(method: &http::Method, headers: &HeaderMap) -> bool {
    let value = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
    if value("sec-fetch-site").is_some_and(|site| {
        site.eq_ignore_ascii_case("cross-site") || site.eq_ignore_ascii_case("same-site")
    }) {
        return true;
    }
    if matches!(
        *method,
        http::Method::GET | http::Method::HEAD | http::Method::OPTIONS
    ) {
        return false;
    }
    let Some(origin) = value("origin") else {
        return false;
    };
    let Some(host) = value("host") else {
        return true;
    };
    let authority = origin
        .strip_prefix("http://")
        .or_else(|| origin.strip_prefix("https://"));
    authority.is_none_or(|a| !a.eq_ignore_ascii_case(host))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (name, value) in pairs {
            map.insert(*name, HeaderValue::from_static(value));
        }
        map
    }

    #[test]
    fn only_a_browser_get_of_the_root_gets_the_page() {
        let html = headers(&[("accept", "text/html,application/xhtml+xml")]);
        assert!(wants_console(&http::Method::GET, None, &html));
        assert!(!wants_console(
            &http::Method::GET,
            Some("Action=ListMetrics&Version=2010-08-01"),
            &html
        ));
        assert!(!wants_console(&http::Method::POST, None, &html));
        assert!(!wants_console(
            &http::Method::GET,
            None,
            &headers(&[("accept", "*/*")])
        ));
    }

    #[test]
    fn another_origin_cannot_change_state() {
        let post = http::Method::POST;
        let same = headers(&[
            ("host", "localhost:4566"),
            ("origin", "http://localhost:4566"),
        ]);
        assert!(!is_cross_origin(&post, &same));
        let other = headers(&[
            ("host", "localhost:4566"),
            ("origin", "http://evil.example"),
        ]);
        assert!(is_cross_origin(&post, &other));
        assert!(is_cross_origin(
            &post,
            &headers(&[("host", "localhost:4566"), ("origin", "null")])
        ));
        assert!(is_cross_origin(
            &post,
            &headers(&[("host", "localhost:4566"), ("sec-fetch-site", "cross-site")])
        ));
        // SDKs and aws-cli send no Origin.
        assert!(!is_cross_origin(
            &post,
            &headers(&[("host", "localhost:4566")])
        ));
        assert!(!is_cross_origin(&http::Method::GET, &other));
        // An <img> on another site sends no Origin, but says where it came from.
        assert!(is_cross_origin(
            &http::Method::GET,
            &headers(&[("host", "localhost:4566"), ("sec-fetch-site", "same-site")])
        ));
        assert!(!is_cross_origin(
            &post,
            &headers(&[
                ("host", "localhost:4566"),
                ("sec-fetch-site", "same-origin")
            ])
        ));
    }

    #[test]
    fn every_embedded_file_is_served_with_its_type() {
        for (name, bytes) in FILES {
            assert!(!bytes.is_empty(), "{name} is empty");
            assert_ne!(content_type(name), "application/octet-stream", "{name}");
        }
        assert!(embedded_bytes() > 0);
    }
}

//! Who may use the emulator's own endpoints (`/_watchtrail/*`, `/moto-api/reset`).
//!
//! They reset everything, list other accounts' event bodies and tail any log group, so under
//! `--enforce-signatures` they are as closed as the AWS API: a caller needs a valid SigV4
//! signature (verified over method, path, query, headers and body exactly as an API request,
//! with any service name in the scope, since these endpoints belong to no AWS service) or the
//! `--admin-token` in [`ADMIN_TOKEN_HEADER`]. A signed caller is held to its own account:
//! deliveries list only its account's, a live tail only its account's groups. The admin token
//! sees every account. Health stays open (container health checks carry no credentials), and
//! so do the console's files, which hold no data: the console's data calls are signed.
//!
//! Without enforcement nothing changes: the emulator trusts its callers, as local tools expect.

use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use serde_json::json;
use subtle::ConstantTimeEq;

use crate::auth::{sigv4, SigV4Error};
use crate::server::AppState;

/// The header that carries `--admin-token`.
pub const ADMIN_TOKEN_HEADER: &str = "x-watchtrail-admin-token";
/// The emulator's endpoints take small bodies or none; a signed body is read whole to be hashed.
const MAX_ADMIN_BODY_BYTES: usize = 64 * 1024;

/// The caller of an emulator endpoint, once let in; handlers narrow what they show by it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AdminCaller {
    /// Signatures are not enforced: every caller is trusted and sees everything.
    Open,
    /// The admin token: every account.
    Admin,
    /// A verified signature: this account only.
    Account(String),
}

impl AdminCaller {
    /// The one account the caller may see, or `None` for all of them.
    pub fn account(&self) -> Option<&str> {
        match self {
            AdminCaller::Account(account) => Some(account),
            AdminCaller::Open | AdminCaller::Admin => None,
        }
    }
}

/// The emulator endpoints' errors, in the awsJson shape the console and tests read.
pub fn refusal(status: StatusCode, code: &str, message: &str) -> Response {
    (
        status,
        axum::Json(json!({ "__type": code, "message": message })),
    )
        .into_response()
}

fn refuse(error: &SigV4Error) -> Response {
    let status = StatusCode::from_u16(error.http_status_for(true)).unwrap_or(StatusCode::FORBIDDEN);
    refusal(status, error.code(true), &error.to_string())
}

/// Lets a request through to an emulator endpoint, or answers why not.
pub async fn authorize(State(state): State<AppState>, request: Request, next: Next) -> Response {
    if !state.config.enforce_signatures {
        let mut request = request;
        request.extensions_mut().insert(AdminCaller::Open);
        return next.run(request).await;
    }
    let (mut parts, body) = request.into_parts();
    if let Some(given) = parts.headers.get(ADMIN_TOKEN_HEADER) {
        let valid = state
            .config
            .admin_token
            .as_deref()
            .is_some_and(|expected| bool::from(expected.as_bytes().ct_eq(given.as_bytes())));
        if !valid {
            return refusal(
                StatusCode::FORBIDDEN,
                "AccessDeniedException",
                "The admin token is not valid.",
            );
        }
        parts.extensions.insert(AdminCaller::Admin);
        return next.run(Request::from_parts(parts, body)).await;
    }
    let Ok(body) = axum::body::to_bytes(body, MAX_ADMIN_BODY_BYTES).await else {
        return refusal(
            StatusCode::PAYLOAD_TOO_LARGE,
            "RequestEntityTooLarge",
            &format!("Request size exceeded {MAX_ADMIN_BODY_BYTES} bytes"),
        );
    };
    // HTTP/2 carries the host as :authority, which the signature covers as `host`.
    if !parts.headers.contains_key(header::HOST) {
        if let Some(authority) = parts.uri.authority() {
            if let Ok(host) = HeaderValue::from_str(authority.as_str()) {
                parts.headers.insert(header::HOST, host);
            }
        }
    }
    let signing = sigv4::SigningInput {
        method: parts.method.as_str(),
        path: parts.uri.path(),
        query: parts.uri.query(),
        headers: &parts.headers,
        body: &body,
    };
    let signature = match sigv4::parse(&signing) {
        Ok(Some(signature)) => signature,
        Ok(None) => return refuse(&SigV4Error::MissingAuthenticationToken),
        Err(e) => return refuse(&e),
    };
    if !crate::auth::regions::is_known(&signature.scope.region) {
        return refuse(&SigV4Error::wrong_region(&signature.scope.region));
    }
    if let Err(e) = crate::dispatch::verify_signature(&state, &signing, &signature) {
        return refuse(&e);
    }
    let account = state.credentials.identify(Some(&signature)).account_id;
    parts.extensions.insert(AdminCaller::Account(account));
    next.run(Request::from_parts(parts, Body::from(body))).await
}

//! What a handler knows about the request it serves: who, where, when; never the wire.

use crate::auth::Identity;

pub use crate::protocol::ServiceId;

#[derive(Debug, Clone)]
pub struct RequestContext {
    pub request_id: String,
    pub identity: Identity,
    /// The account whose data this request reads and writes.
    pub account_id: String,
    pub region: String,
    /// Milliseconds since the epoch, from the server's clock, fixed for the whole request.
    pub now_ms: i64,
    pub source_ip: String,
    pub user_agent: String,
    /// The call came from the web console (CloudTrail marks it `sessionCredentialFromConsole`).
    pub from_console: bool,
}

#[cfg(test)]
impl RequestContext {
    /// A request by the account's root user, for handler unit tests.
    pub fn for_tests(account_id: &str, region: &str, now_ms: i64) -> Self {
        RequestContext {
            request_id: "test".into(),
            identity: Identity {
                kind: crate::auth::IdentityKind::Root,
                account_id: account_id.into(),
                access_key_id: None,
                user_name: None,
                arn: format!("arn:aws:iam::{account_id}:root"),
                principal_id: account_id.into(),
                signed_region: None,
                session_token: false,
            },
            account_id: account_id.into(),
            region: region.into(),
            now_ms,
            source_ip: "127.0.0.1".into(),
            user_agent: "test".into(),
            from_console: false,
        }
    }
}

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
}

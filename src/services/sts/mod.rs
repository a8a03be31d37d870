//! STS, only `GetCallerIdentity`: Terraform and many SDK tools call it first to learn who they
//! are. It answers from the request's identity; nothing is stored.

use serde::Serialize;
use serde_json::Value;

use super::{output, AwsError, HandlerFuture};
use crate::context::RequestContext;

#[derive(Default)]
pub struct Sts;

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct GetCallerIdentityResponse {
    user_id: String,
    account: String,
    arn: String,
}

#[derive(Debug, thiserror::Error)]
pub enum StsError {}

impl AwsError for StsError {
    fn error_shape(&self) -> &'static str {
        match *self {}
    }
}

impl Sts {
    pub fn call<'a>(
        &'a self,
        ctx: &'a RequestContext,
        operation: &str,
        _input: Value,
    ) -> Option<HandlerFuture<'a>> {
        match operation {
            "GetCallerIdentity" => Some(Box::pin(async move {
                let identity = &ctx.identity;
                let arn = if identity.arn.is_empty() {
                    format!("arn:aws:iam::{}:root", ctx.account_id)
                } else {
                    identity.arn.clone()
                };
                output(&GetCallerIdentityResponse {
                    user_id: identity.principal_id.clone(),
                    account: ctx.account_id.clone(),
                    arn,
                })
            })),
            _ => None,
        }
    }
}

//! The console's JSON API: `POST /api/review/{Rpc}` for every ReviewService RPC, the request message as the JSON
//! body (the proto's canonical mapping), the response message as JSON, errors as the HTTP status of their gRPC code
//! with the `google.rpc.Status` body (`http_api::reply`). And `GET /api/session`: who the token is, and its sites
//! (for the site picker; no RPC says it, and it is not moderation data).
//!
//! Order, as for gRPC (`api::authn`) and the HTTP/JSON door: the moderator's token from the `Authorization` header
//! (UNAUTHENTICATED before a byte of the body is read; a site's API key is not a moderator's token) → the bounded
//! body → decode → the gRPC handler, which checks the moderator may act on the request's `site_id`
//! (PERMISSION_DENIED), validates, and applies the role's masking.

use crate::api::authn;
use crate::api::review::Review;
use crate::app::App;
use crate::auth::{self, ModeratorCaller};
use crate::config::Role;
use crate::http_api::door::{body_or_empty, count, read_body};
use crate::http_api::json;
use crate::http_api::reply::{self, Reply};
use crate::pb::review_service_server::ReviewService;
use hyper::body::Incoming;
use std::future::Future;
use tonic::Status;
use tonic::codegen::http::HeaderMap;

/// A ReviewService RPC the console calls.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Rpc {
    ClaimNext,
    Decide,
    ReleaseClaim,
    ListQueue,
    GetQueueStats,
    ListAuditLog,
}

impl Rpc {
    pub const ALL: [Rpc; 6] =
        [Rpc::ClaimNext, Rpc::Decide, Rpc::ReleaseClaim, Rpc::ListQueue, Rpc::GetQueueStats, Rpc::ListAuditLog];

    /// The RPC's proto name: the route's last segment and the metrics label gRPC uses for the same call.
    pub fn name(self) -> &'static str {
        match self {
            Rpc::ClaimNext => "ClaimNext",
            Rpc::Decide => "Decide",
            Rpc::ReleaseClaim => "ReleaseClaim",
            Rpc::ListQueue => "ListQueue",
            Rpc::GetQueueStats => "GetQueueStats",
            Rpc::ListAuditLog => "ListAuditLog",
        }
    }

    pub fn from_name(name: &str) -> Option<Rpc> {
        Rpc::ALL.into_iter().find(|rpc| rpc.name() == name)
    }

    /// Full proto names of the request and response messages.
    pub fn messages(self) -> (String, String) {
        let n = self.name();
        (format!("commentguard.v1.{n}Request"), format!("commentguard.v1.{n}Response"))
    }
}

/// Answers one API call (see the module docs for the order of checks).
pub async fn call(app: &App, review: &Review, rpc: Rpc, headers: &HeaderMap, body: Incoming, max: usize) -> Reply {
    let name = rpc.name();
    let moderator = match auth::moderator(headers, &app.tenants.load()) {
        Ok(m) => ModeratorCaller(m),
        Err(e) => {
            authn::refused(name, &e);
            return reply::error(&Status::from(e));
        }
    };
    let body = match read_body(headers, body, max).await {
        Ok(body) => body,
        Err((http, status)) => {
            count(name, &status);
            return reply::error_with(http, &status);
        }
    };
    let body = body_or_empty(&body);
    let (req, res) = rpc.messages();
    let answer = match rpc {
        Rpc::ClaimNext => unary(&req, &res, body, &moderator, |r| review.claim_next(r)).await,
        Rpc::Decide => unary(&req, &res, body, &moderator, |r| review.decide(r)).await,
        Rpc::ReleaseClaim => unary(&req, &res, body, &moderator, |r| review.release_claim(r)).await,
        Rpc::ListQueue => unary(&req, &res, body, &moderator, |r| review.list_queue(r)).await,
        Rpc::GetQueueStats => unary(&req, &res, body, &moderator, |r| review.get_queue_stats(r)).await,
        Rpc::ListAuditLog => unary(&req, &res, body, &moderator, |r| review.list_audit_log(r)).await,
    };
    match answer {
        Ok(reply) => reply,
        Err(Refused::Decoding(status)) => {
            count(name, &status);
            reply::error(&status)
        }
        // The handler counted its own outcome (`observe`).
        Err(Refused::Handler(status)) => reply::error(&status),
    }
}

enum Refused {
    /// The JSON did not fit the request message: the handler never ran.
    Decoding(Status),
    Handler(Status),
}

/// Decodes the request, calls the handler with the moderator in the extensions (where `auth::moderator_of` finds
/// it, as `api::authn` puts it for gRPC), encodes the answer.
async fn unary<Req, Res, F, Fut>(
    req_name: &str,
    res_name: &str,
    body: &[u8],
    moderator: &ModeratorCaller,
    handler: F,
) -> Result<Reply, Refused>
where
    Req: prost::Message + Default,
    Res: prost::Message,
    F: FnOnce(tonic::Request<Req>) -> Fut,
    Fut: Future<Output = Result<tonic::Response<Res>, Status>>,
{
    let msg: Req = json::decode(req_name, body).map_err(Refused::Decoding)?;
    let mut req = tonic::Request::new(msg);
    req.extensions_mut().insert(moderator.clone());
    let answer = handler(req).await.map_err(Refused::Handler)?;
    json::encode(res_name, answer.get_ref()).map(reply::ok).map_err(Refused::Handler)
}

/// `{"moderatorId": …, "role": "moderator"|"admin", "sites": [sorted ids of configured sites the token lists]}`.
pub fn session(app: &App, headers: &HeaderMap) -> Reply {
    let tenants = app.tenants.load();
    let moderator = match auth::moderator(headers, &tenants) {
        Ok(m) => m,
        Err(e) => return reply::error(&Status::from(e)),
    };
    let mut sites: Vec<&str> =
        moderator.sites.iter().map(String::as_str).filter(|s| tenants.site(s).is_some()).collect();
    sites.sort_unstable();
    let role = match moderator.role {
        Role::Admin => "admin",
        Role::Moderator => "moderator",
    };
    let body = serde_json::json!({ "moderatorId": moderator.id, "role": role, "sites": sites });
    reply::ok(body.to_string().into_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_rpc_has_its_messages_and_a_unique_name() {
        for rpc in Rpc::ALL {
            assert_eq!(Rpc::from_name(rpc.name()), Some(rpc));
            let (req, res) = rpc.messages();
            for name in [req, res] {
                let empty = json::encode(&name, &crate::pb::ListAuditLogRequest::default());
                // Any message encodes from empty bytes: this only checks the descriptor exists.
                assert!(empty.is_ok(), "{name}");
            }
        }
        assert_eq!(Rpc::from_name("claimnext"), None);
    }
}

//! One HTTP/JSON request: route → authenticate from the headers (before a byte of the body is read) → read the body
//! (at most `server.max_message_bytes`) → decode → the gRPC handler itself → JSON, or the status mapped to HTTP.
//!
//! Invariant: the door has no moderation logic of its own. It calls the tonic service implementation
//! (`api::moderation::Moderation` through the generated `ModerationService` trait) with the caller in the request's
//! extensions, exactly as `api::authn` hands a gRPC request over: validation, idempotent replays, rate limits,
//! metrics (`observe`) and errors are the gRPC path's, byte for byte.

use super::json;
use super::reply::{self, Reply};
use super::routes::{self, GET, LIST, NoRoute, REPORT, Route, SUBMIT};
use crate::api::{authn, moderation::Moderation};
use crate::app::App;
use crate::auth::SiteCaller;
use crate::error::Error;
use crate::pb::{self, moderation_service_server::ModerationService};
use crate::telemetry::code_name;
use http_body_util::{BodyExt, Limited};
use hyper::body::{Bytes, Incoming};
use std::convert::Infallible;
use std::sync::Arc;
use std::task::{Context, Poll};
use tonic::Status;
use tonic::codegen::http::{HeaderMap, Request, StatusCode, header};
use tonic::codegen::{BoxFuture, Service};

/// The HTTP/JSON service: cheap to clone, one per connection.
#[derive(Debug, Clone)]
pub struct Door {
    app: Arc<App>,
    /// The same handler value the gRPC server mounts (shared decision hub and reporter quota).
    moderation: Moderation,
    max_body: usize,
}

impl Door {
    /// `max_body`: the largest request body read (`server.max_message_bytes`).
    pub fn new(app: Arc<App>, moderation: Moderation, max_body: usize) -> Door {
        Door { app, moderation, max_body }
    }

    pub async fn handle(&self, req: Request<Incoming>) -> Reply {
        self.answer(req).await.unwrap_or_else(|refused| refused)
    }

    async fn answer(&self, req: Request<Incoming>) -> Result<Reply, Reply> {
        let (parts, body) = req.into_parts();
        let route = routes::route(&parts.method, parts.uri.path()).map_err(no_route)?;
        let rpc = route.rpc();
        let caller = authn::site_caller(&self.app, &parts.headers).map_err(|e| {
            authn::refused(rpc, &e);
            reply::error(&Status::from(e))
        })?;
        let refused = |http: StatusCode, status: Status| {
            count(rpc, &status);
            reply::error_with(http, &status)
        };
        let body = if route.has_body() {
            read_body(&parts.headers, body, self.max_body).await.map_err(|(http, status)| refused(http, status))?
        } else {
            Bytes::new()
        };
        let query = parts.uri.query().unwrap_or_default();
        let bad = |status: Status| refused(reply::http_status(status.code()), status);
        let answer = match route {
            Route::Submit => {
                let msg: pb::SubmitCommentRequest = json::decode(SUBMIT.0, body_or_empty(&body)).map_err(bad)?;
                encode(SUBMIT.1, self.moderation.submit_comment(request(msg, &caller)).await)
            }
            Route::Get { comment_id } => {
                let mut fields = params(query).map_err(bad)?;
                if fields.insert("comment_id".into(), comment_id.into()).is_some() || fields.contains_key("commentId") {
                    return Err(bad(Status::from(Error::invalid("comment_id", "is the path's; not a parameter"))));
                }
                let msg: pb::GetCommentRequest = json::from_fields(GET.0, fields).map_err(bad)?;
                encode(GET.1, self.moderation.get_comment(request(msg, &caller)).await)
            }
            Route::ListDecisions => {
                let msg: pb::ListDecisionsRequest =
                    json::from_fields(LIST.0, params(query).map_err(bad)?).map_err(bad)?;
                encode(LIST.1, self.moderation.list_decisions(request(msg, &caller)).await)
            }
            Route::Report { comment_id } => {
                let mut msg: pb::ReportCommentRequest = json::decode(REPORT.0, body_or_empty(&body)).map_err(bad)?;
                if !msg.comment_id.is_empty() && msg.comment_id != comment_id {
                    let e = Error::invalid("comment_id", "differs from the comment id in the path");
                    return Err(bad(Status::from(e)));
                }
                msg.comment_id = comment_id;
                encode(REPORT.1, self.moderation.report_comment(request(msg, &caller)).await)
            }
        };
        // The handler counted its own outcome (`observe`); only the answer is left to write.
        Ok(answer.unwrap_or_else(|status| reply::error(&status)))
    }
}

/// The request body, at most `max_body` bytes, as JSON. A declared length over the limit is refused before reading;
/// a body that grows past it while read is refused when it does. Shared with the moderator console's API.
pub async fn read_body(headers: &HeaderMap, body: Incoming, max_body: usize) -> Result<Bytes, (StatusCode, Status)> {
    if let Some(kind) = headers.get(header::CONTENT_TYPE) {
        let essence = kind.to_str().unwrap_or_default().split(';').next().unwrap_or_default().trim();
        if !essence.eq_ignore_ascii_case("application/json") {
            let status = Status::invalid_argument("the request body must be JSON (content-type: application/json)");
            return Err((StatusCode::UNSUPPORTED_MEDIA_TYPE, status));
        }
    }
    let too_large = || {
        let message = format!("the request body is larger than {max_body} bytes (server.max_message_bytes)");
        (StatusCode::PAYLOAD_TOO_LARGE, Status::invalid_argument(message))
    };
    let declared = headers.get(header::CONTENT_LENGTH).and_then(|v| v.to_str().ok()?.parse::<u64>().ok());
    if declared.is_some_and(|n| n > max_body as u64) {
        return Err(too_large());
    }
    match Limited::new(body, max_body).collect().await {
        Ok(collected) => Ok(collected.to_bytes()),
        Err(e) if e.downcast_ref::<http_body_util::LengthLimitError>().is_some() => Err(too_large()),
        Err(_) => Err((StatusCode::BAD_REQUEST, Status::invalid_argument("the request body could not be read"))),
    }
}

/// An empty body reads as `{}`, so a missing field is a field violation rather than a JSON error.
pub fn body_or_empty(body: &Bytes) -> &[u8] {
    if body.iter().all(u8::is_ascii_whitespace) { b"{}" } else { body }
}

/// The caller travels in the extensions, where `auth::site_of` finds it (as `api::authn` puts it for gRPC).
fn request<T>(msg: T, caller: &SiteCaller) -> tonic::Request<T> {
    let mut req = tonic::Request::new(msg);
    req.extensions_mut().insert(caller.clone());
    req
}

fn encode<T: prost::Message>(name: &str, answer: Result<tonic::Response<T>, Status>) -> Result<Reply, Status> {
    Ok(reply::ok(json::encode(name, answer?.get_ref())?))
}

/// Query parameters as JSON strings by name (the mapping reads numbers and enum names from strings). A name given
/// twice is refused: the request would be ambiguous.
fn params(query: &str) -> Result<serde_json::Map<String, serde_json::Value>, Status> {
    let mut fields = serde_json::Map::new();
    for (name, value) in form_urlencoded::parse(query.as_bytes()) {
        if fields.insert(name.to_string(), value.into_owned().into()).is_some() {
            return Err(Status::invalid_argument(format!("the parameter {name:?} is given twice")));
        }
    }
    Ok(fields)
}

/// Counts a request refused by the door after authentication (bad JSON, too large), as `observe` counts a handler's.
pub fn count(rpc: &'static str, status: &Status) {
    metrics::counter!("commentguard_requests_total", "rpc" => rpc, "code" => code_name(status.code())).increment(1);
}

fn no_route(no: NoRoute) -> Reply {
    match no {
        NoRoute::NotFound => reply::error(&Status::not_found(
            "no such route; see README: POST /v1/comments:submit, GET /v1/comments/{id}, GET /v1/decisions, \
             POST /v1/comments/{id}:report",
        )),
        NoRoute::Method(allow) => {
            let status = Status::unimplemented(format!("this route answers {allow} only"));
            let mut reply = reply::error_with(StatusCode::METHOD_NOT_ALLOWED, &status);
            reply.headers_mut().insert(header::ALLOW, header::HeaderValue::from_static(allow));
            reply
        }
        NoRoute::BadSegment => reply::error(&Status::invalid_argument("the path is not percent-encoded UTF-8")),
    }
}

impl Service<Request<Incoming>> for Door {
    type Response = Reply;
    type Error = Infallible;
    type Future = BoxFuture<Reply, Infallible>;

    fn poll_ready(&mut self, _: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, req: Request<Incoming>) -> Self::Future {
        let door = self.clone();
        Box::pin(async move { Ok(door.handle(req).await) })
    }
}

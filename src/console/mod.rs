//! The moderator console: a small browser app (one HTML page, one script, one stylesheet, embedded in the binary)
//! and the JSON API it calls, both on `server.console_listen` (same origin, so no CORS). Off unless configured.
//!
//! - `api.rs`: the review RPCs as JSON (`POST /api/review/{Rpc}`), moderator token checked from the headers before
//!   the body is read, decoded by the proto's canonical mapping (`http_api::json`), answered by the gRPC handler
//!   itself (`api::review::Review`): one implementation, the same errors as HTTP status + `google.rpc.Status`.
//! - `assets/`: `index.html`, `console.js` (vanilla, no build step), `console.css`.
//!
//! Invariant: the page runs only its own script. Every answer carries a Content-Security-Policy without
//! `'unsafe-inline'` (comment bodies are hostile: the script inserts text with `textContent` only, and an injected
//! `<script>` or `onerror=` would not run anyway), `X-Frame-Options: DENY` (no clickjacking of the decide keys),
//! `nosniff`, no referrer; API answers are `no-store`. The token lives in the tab's `sessionStorage`, sent as an
//! `Authorization` header (never a cookie, so no cross-site request can carry it; never in a URL).
//!
//! Connections are bounded as the HTTP/JSON door's (`http_api::serve_http1`).

pub mod api;

use crate::api::review::Review;
use crate::app::App;
use crate::http_api::reply::{self, Reply};
use http_body_util::Full;
use hyper::body::{Bytes, Incoming};
use std::convert::Infallible;
use std::sync::Arc;
use std::task::{Context, Poll};
use tonic::Status;
use tonic::codegen::http::{HeaderValue, Method, Request, Response, StatusCode, header};
use tonic::codegen::{BoxFuture, Service};

const INDEX_HTML: &str = include_str!("assets/index.html");
const CONSOLE_JS: &str = include_str!("assets/console.js");
const CONSOLE_CSS: &str = include_str!("assets/console.css");

/// Only the console's own files; `connect-src 'self'` for its API; nothing inline, no frames, no forms posting away.
pub const CSP: &str = "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self'; \
                       base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

/// The console's HTTP service: cheap to clone, one per connection.
#[derive(Debug, Clone)]
pub struct Console {
    app: Arc<App>,
    /// The same handler value the gRPC server mounts.
    review: Review,
    max_body: usize,
}

impl Console {
    /// `max_body`: the largest request body read (`server.max_message_bytes`).
    pub fn new(app: Arc<App>, review: Review, max_body: usize) -> Console {
        Console { app, review, max_body }
    }

    pub async fn handle(&self, req: Request<Incoming>) -> Reply {
        let mut reply = self.answer(req).await;
        secure(&mut reply);
        reply
    }

    async fn answer(&self, req: Request<Incoming>) -> Reply {
        let (parts, body) = req.into_parts();
        let path = parts.uri.path();
        if let Some((kind, text)) = asset(path) {
            if parts.method != Method::GET && parts.method != Method::HEAD {
                return not_allowed("GET");
            }
            return asset_reply(kind, text);
        }
        if path == "/api/session" {
            if parts.method != Method::GET {
                return not_allowed("GET");
            }
            return api::session(&self.app, &parts.headers);
        }
        if let Some(name) = path.strip_prefix("/api/review/") {
            let Some(rpc) = api::Rpc::from_name(name) else {
                return reply::error(&Status::not_found(format!(
                    "no such review route; the routes are POST /api/review/{{{}}}",
                    api::Rpc::ALL.map(api::Rpc::name).join(",")
                )));
            };
            if parts.method != Method::POST {
                return not_allowed("POST");
            }
            return api::call(&self.app, &self.review, rpc, &parts.headers, body, self.max_body).await;
        }
        reply::error(&Status::not_found("no such page; the console is at /"))
    }
}

/// The embedded file a path names, with its media type.
fn asset(path: &str) -> Option<(&'static str, &'static str)> {
    match path {
        "/" | "/index.html" => Some(("text/html; charset=utf-8", INDEX_HTML)),
        "/console.js" => Some(("text/javascript; charset=utf-8", CONSOLE_JS)),
        "/console.css" => Some(("text/css; charset=utf-8", CONSOLE_CSS)),
        _ => None,
    }
}

fn asset_reply(kind: &'static str, text: &'static str) -> Reply {
    let mut reply = Response::new(Full::new(Bytes::from_static(text.as_bytes())));
    let headers = reply.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(kind));
    headers.insert(header::CONTENT_LENGTH, HeaderValue::from(text.len()));
    // The files change only with the binary: revalidate rather than run an old script against a new API.
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    reply
}

fn not_allowed(allow: &'static str) -> Reply {
    let status = Status::unimplemented(format!("this route answers {allow} only"));
    let mut reply = reply::error_with(StatusCode::METHOD_NOT_ALLOWED, &status);
    reply.headers_mut().insert(header::ALLOW, HeaderValue::from_static(allow));
    reply
}

/// The headers every answer carries (see the module's invariant). Anything not an asset is API data: `no-store`.
fn secure(reply: &mut Reply) {
    let headers = reply.headers_mut();
    headers.insert(header::CONTENT_SECURITY_POLICY, HeaderValue::from_static(CSP));
    headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    headers.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    headers.insert(header::REFERRER_POLICY, HeaderValue::from_static("no-referrer"));
    headers.entry(header::CACHE_CONTROL).or_insert(HeaderValue::from_static("no-store"));
}

impl Service<Request<Incoming>> for Console {
    type Response = Reply;
    type Error = Infallible;
    type Future = BoxFuture<Reply, Infallible>;

    fn poll_ready(&mut self, _: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, req: Request<Incoming>) -> Self::Future {
        let console = self.clone();
        Box::pin(async move { Ok(console.handle(req).await) })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_page_loads_only_its_own_files_and_nothing_inline() {
        assert!(!CSP.contains("unsafe"), "{CSP}");
        assert!(INDEX_HTML.contains(r#"<script src="/console.js""#), "the script is a file, not inline");
        assert!(!INDEX_HTML.contains("<script>") && !INDEX_HTML.contains("style="), "nothing inline for CSP to refuse");
        assert!(!INDEX_HTML.contains("http://") && !INDEX_HTML.contains("https://"), "no CDN");
        assert!(!CONSOLE_JS.contains("innerHTML") && !CONSOLE_JS.contains("insertAdjacentHTML"), "text only");
        assert!(!CONSOLE_JS.contains("localStorage"), "the token lives in sessionStorage only");
    }
}

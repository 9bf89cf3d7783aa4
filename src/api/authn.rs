//! Authentication before decoding: a tower service in front of each commentguard service checks the bearer secret
//! from the HTTP/2 headers and answers `UNAUTHENTICATED` before a byte of the body is decoded.
//!
//! Why a layer and not a check in each handler: an unauthenticated caller must learn nothing (not which fields are
//! wrong, not the size limit) and cost nothing (no decoding, no validation). The handlers read the caller from the
//! request's extensions (`auth::site_of`, `auth::moderator_of`); a service mounted without this layer fails closed.

use crate::app::App;
use crate::auth::{self, ModeratorCaller, SiteCaller};
use crate::error::Error;
use crate::telemetry::code_name;
use std::convert::Infallible;
use std::sync::Arc;
use std::task::{Context, Poll};
use tonic::Status;
use tonic::body::Body;
use tonic::codegen::{BoxFuture, Service, http};
use tonic::server::NamedService;

/// Who may call the wrapped service.
#[derive(Debug, Clone, Copy)]
enum Callers {
    /// ModerationService: a site's API key.
    Sites,
    /// ReviewService: a moderator's token.
    Moderators,
}

/// Wraps a generated tonic service; see the module docs.
#[derive(Debug, Clone)]
pub struct Authenticated<S> {
    inner: S,
    app: Arc<App>,
    callers: Callers,
}

impl<S> Authenticated<S> {
    /// Every request must carry a site's API key.
    pub fn sites(inner: S, app: Arc<App>) -> Self {
        Authenticated { inner, app, callers: Callers::Sites }
    }

    /// Every request must carry a moderator's token.
    pub fn moderators(inner: S, app: Arc<App>) -> Self {
        Authenticated { inner, app, callers: Callers::Moderators }
    }

    /// Puts the caller into the request's extensions, or says why not.
    fn authenticate<B>(&self, req: &mut http::Request<B>) -> Result<(), Error> {
        let tenants = self.app.tenants.load();
        match self.callers {
            Callers::Sites => {
                let site = site_caller(&self.app, req.headers())?;
                req.extensions_mut().insert(site);
            }
            Callers::Moderators => {
                let moderator = auth::moderator(req.headers(), &tenants)?;
                req.extensions_mut().insert(ModeratorCaller(moderator));
            }
        }
        Ok(())
    }
}

impl<S: NamedService> NamedService for Authenticated<S> {
    const NAME: &'static str = S::NAME;
}

impl<S> Service<http::Request<Body>> for Authenticated<S>
where
    S: Service<http::Request<Body>, Response = http::Response<Body>, Error = Infallible>,
    S::Future: Send + 'static,
{
    type Response = http::Response<Body>;
    type Error = Infallible;
    type Future = BoxFuture<Self::Response, Self::Error>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, mut req: http::Request<Body>) -> Self::Future {
        match self.authenticate(&mut req) {
            Ok(()) => Box::pin(self.inner.call(req)),
            Err(e) => {
                refused(rpc_name(req.uri().path()), &e);
                let response = Status::from(e).into_http();
                Box::pin(async move { Ok(response) })
            }
        }
    }
}

/// The site whose API key a request's headers carry: the one check of a site's caller, shared by this layer and the
/// HTTP/JSON door (`crate::http_api`), both before the body is read.
pub fn site_caller(app: &App, headers: &http::HeaderMap) -> Result<SiteCaller, Error> {
    Ok(SiteCaller(auth::site(headers, &app.tenants.load())?))
}

/// Counts and logs a request refused before its body was read (`rpc` from the closed set of RPC names).
pub fn refused(rpc: &'static str, e: &Error) {
    metrics::counter!("commentguard_requests_total", "rpc" => rpc, "code" => code_name(e.code())).increment(1);
    tracing::debug!(rpc, error = %e, "request refused before decoding");
}

/// The RPC a path names, from the closed set metrics use as labels (`unknown` for anything else: the path is the
/// caller's text and must not mint label values).
fn rpc_name(path: &str) -> &'static str {
    const RPCS: [&str; 11] = [
        "SubmitComment",
        "GetComment",
        "WatchDecisions",
        "ListDecisions",
        "ReportComment",
        "ClaimNext",
        "Decide",
        "ReleaseClaim",
        "ListQueue",
        "GetQueueStats",
        "ListAuditLog",
    ];
    let method = path.rsplit('/').next().unwrap_or_default();
    RPCS.into_iter().find(|rpc| *rpc == method).unwrap_or("unknown")
}

#[cfg(test)]
mod tests {
    use super::rpc_name;

    #[test]
    fn metric_labels_come_from_a_closed_set() {
        assert_eq!(rpc_name("/commentguard.v1.ModerationService/SubmitComment"), "SubmitComment");
        assert_eq!(rpc_name("/commentguard.v1.ReviewService/Decide"), "Decide");
        assert_eq!(rpc_name("/commentguard.v1.ReviewService/Whatever-the-caller-says"), "unknown");
        assert_eq!(rpc_name(""), "unknown");
    }
}

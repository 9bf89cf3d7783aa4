//! The HTTP/JSON door: `SubmitComment`, `GetComment`, `ListDecisions` and `ReportComment` as JSON over HTTP/1.1
//! for hosts that cannot load a gRPC extension (PHP on shared hosting). Off unless `server.http_listen` is set.
//!
//! - `routes.rs`: the route table (google.api.http style: `POST /v1/comments:submit`, …).
//! - `door.rs`: one request — authentication from the headers before the body is read, the bounded body, the gRPC
//!   handler itself.
//! - `json.rs`: the proto's canonical JSON mapping by reflection (no second schema).
//! - `reply.rs`: gRPC status → HTTP status, `Retry-After`, `google.rpc.Status` as the JSON error body.
//!
//! Connections are bounded as gRPC's are (`connections`): at most `server.max_connections` open on this listener, a
//! connection with no request in flight for `server.idle_timeout_ms` is closed, and a client must send a request's
//! headers within `server.http_header_timeout_ms`. On shutdown the listener closes with gRPC's, in-flight requests
//! finish (keep-alive connections are told to close), and after `server.drain_timeout_ms` the rest are cut.

pub mod door;
pub mod json;
pub mod reply;
pub mod routes;

use crate::connections::{self, TrackRpcs};
use door::Door;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use std::time::Duration;
use tokio::net::TcpListener;
use tokio_stream::StreamExt;
use tonic::codegen::Service;
use tonic::transport::server::Connected;
use tower_layer::Layer;

/// How the door's connections are bounded (from `[server]`).
#[derive(Debug, Clone, Copy)]
pub struct Settings {
    pub limits: connections::Limits,
    pub header_timeout: Duration,
    pub drain_timeout: Duration,
}

/// Serves `door` on `listener` until `closing` turns true, then drains (see the module docs).
pub async fn serve(listener: TcpListener, door: Door, settings: Settings, closing: tokio::sync::watch::Receiver<bool>) {
    serve_http1(listener, door, settings, closing, "HTTP/JSON").await
}

/// Serves any HTTP/1.1 service on `listener` with the bounds of the module docs (the moderator console shares them:
/// `crate::console`). `name` labels the log lines.
pub async fn serve_http1<S>(
    listener: TcpListener,
    service: S,
    settings: Settings,
    mut closing: tokio::sync::watch::Receiver<bool>,
    name: &'static str,
) where
    S: Service<hyper::Request<hyper::body::Incoming>, Response = reply::Reply, Error = std::convert::Infallible>
        + Clone
        + Send
        + 'static,
    S::Future: Send + 'static,
{
    // Boxed (not pinned on the stack) so that dropping it below really closes the listener.
    let mut incoming = Box::pin(connections::incoming(listener, settings.limits));
    let graceful = GracefulShutdown::new();
    let mut builder = hyper::server::conn::http1::Builder::new();
    builder.timer(TokioTimer::new()).header_read_timeout(settings.header_timeout);
    // Each request holds its connection busy until its answer is written, so an idle connection is one without a
    // request in flight, as for gRPC.
    let service = TrackRpcs.layer(service);
    // Connection tasks, reaped as they end and aborted after the drain timeout.
    let mut tasks = tokio::task::JoinSet::new();
    loop {
        let conn = tokio::select! {
            conn = incoming.next() => conn,
            Some(_) = tasks.join_next() => continue,
            _ = closing.wait_for(|closing| *closing) => break,
        };
        let conn = match conn {
            Some(Ok(conn)) => conn,
            Some(Err(e)) => {
                // Out of file descriptors and the like: a pause instead of a hot loop.
                tracing::warn!(error = %e, listener = name, "accept failed");
                tokio::time::sleep(Duration::from_millis(50)).await;
                continue;
            }
            None => break,
        };
        let activity = conn.connect_info();
        let service = service.clone();
        let per_request = hyper::service::service_fn(move |mut req: hyper::Request<hyper::body::Incoming>| {
            req.extensions_mut().insert(activity.clone());
            service.clone().call(req)
        });
        let connection = graceful.watch(builder.serve_connection(TokioIo::new(conn), per_request));
        tasks.spawn(async move {
            if let Err(e) = connection.await {
                tracing::debug!(error = %e, listener = name, "connection ended with an error");
            }
        });
    }
    // New connections are refused from here on, as gRPC's are.
    drop(incoming);
    if tokio::time::timeout(settings.drain_timeout, graceful.shutdown()).await.is_err() {
        tracing::warn!(
            timeout_ms = settings.drain_timeout.as_millis() as u64,
            listener = name,
            "drain timeout: closing open connections"
        );
    }
    tasks.abort_all();
}

//! Logs and metrics. Logs are human-readable or JSON; metrics are Prometheus text on `server.metrics_listen`.
//!
//! Invariant: no body, email or IP ever reaches a log line or a metric label. Handlers log ids, verdicts and finding
//! codes only; error messages name fields, never values; metric labels come from closed sets (RPC names, gRPC codes,
//! verdicts, registered finding codes).

use crate::config::LogFormat;
use crate::error::Error;
use metrics_exporter_prometheus::{PrometheusBuilder, PrometheusHandle};
use std::future::Future;
use std::sync::OnceLock;
use std::time::Instant;
use tokio::net::TcpListener;
use tonic::{Response, Status};

/// Installs the global `tracing` subscriber (once per process; later calls are no-ops).
pub fn init_logging(format: LogFormat) {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let ansi = std::io::IsTerminal::is_terminal(&std::io::stderr());
    let builder = tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr).with_ansi(ansi);
    let _ = match format {
        LogFormat::Human => builder.try_init(),
        LogFormat::Json => builder.json().flatten_event(true).try_init(),
    };
}

/// The process-wide Prometheus recorder. `metrics` has one global recorder, so every server in the process (tests
/// start several) shares it.
pub fn prometheus() -> &'static PrometheusHandle {
    static HANDLE: OnceLock<PrometheusHandle> = OnceLock::new();
    HANDLE.get_or_init(|| {
        let recorder = PrometheusBuilder::new()
            .set_buckets(&[0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1.0])
            .map(|b| b.build_recorder())
            .unwrap_or_else(|_| PrometheusBuilder::new().build_recorder());
        let handle = recorder.handle();
        // Fails only if another recorder was installed first; then this handle renders an empty page, which is
        // visible in tests rather than silent in production.
        let _ = metrics::set_global_recorder(recorder);
        handle
    })
}

/// Serves `GET /metrics` until the task is dropped. A tiny hyper service rather than the exporter's own listener,
/// so tests can bind port 0 and several servers can share one recorder. A client that does not send its request
/// headers within `header_timeout` (a slowloris, or an idle keep-alive connection) is disconnected.
pub async fn serve_metrics(listener: TcpListener, header_timeout: std::time::Duration) {
    use http_body_util::Full;
    use hyper::body::Bytes;
    let handle = prometheus();
    loop {
        let Ok((stream, _)) = listener.accept().await else {
            continue;
        };
        tokio::spawn(async move {
            let service = hyper::service::service_fn(move |req: hyper::Request<hyper::body::Incoming>| async move {
                let (status, body) = if req.uri().path() == "/metrics" {
                    (200, handle.render())
                } else {
                    (404, "not found: try /metrics\n".to_string())
                };
                hyper::Response::builder()
                    .status(status)
                    .header("content-type", "text/plain; version=0.0.4")
                    .body(Full::new(Bytes::from(body)))
            });
            let io = hyper_util::rt::TokioIo::new(stream);
            let _ = hyper::server::conn::http1::Builder::new()
                .timer(hyper_util::rt::TokioTimer::new())
                .header_read_timeout(header_timeout)
                .serve_connection(io, service)
                .await;
        });
    }
}

/// Runs one RPC: records its latency and gRPC code, logs failures a caller cannot cause, and converts the error
/// in the one place that does so.
pub async fn observe<T>(
    rpc: &'static str,
    work: impl Future<Output = Result<T, Error>>,
) -> Result<Response<T>, Status> {
    let started = Instant::now();
    let result = work.await;
    let code = match &result {
        Ok(_) => tonic::Code::Ok,
        Err(e) => {
            if e.code() == tonic::Code::Unavailable {
                tracing::warn!(rpc, error = %e, "request failed: store unavailable");
            } else {
                tracing::debug!(rpc, error = %e, "request refused");
            }
            e.code()
        }
    };
    metrics::counter!("commentguard_requests_total", "rpc" => rpc, "code" => code_name(code)).increment(1);
    metrics::histogram!("commentguard_request_duration_seconds", "rpc" => rpc).record(started.elapsed().as_secs_f64());
    result.map(Response::new).map_err(Status::from)
}

/// The canonical gRPC name of a code (`INVALID_ARGUMENT`), as grpcurl and the gRPC docs spell it.
pub fn code_name(code: tonic::Code) -> &'static str {
    use tonic::Code::*;
    match code {
        Ok => "OK",
        Cancelled => "CANCELLED",
        Unknown => "UNKNOWN",
        InvalidArgument => "INVALID_ARGUMENT",
        DeadlineExceeded => "DEADLINE_EXCEEDED",
        NotFound => "NOT_FOUND",
        AlreadyExists => "ALREADY_EXISTS",
        PermissionDenied => "PERMISSION_DENIED",
        ResourceExhausted => "RESOURCE_EXHAUSTED",
        FailedPrecondition => "FAILED_PRECONDITION",
        Aborted => "ABORTED",
        OutOfRange => "OUT_OF_RANGE",
        Unimplemented => "UNIMPLEMENTED",
        Internal => "INTERNAL",
        Unavailable => "UNAVAILABLE",
        DataLoss => "DATA_LOSS",
        Unauthenticated => "UNAUTHENTICATED",
    }
}

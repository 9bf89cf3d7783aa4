//! The gRPC server: both services, health, reflection, metrics, SIGHUP reload and graceful shutdown.
//!
//! `run(listener, …, shutdown)` takes its listener and shutdown signal from the caller, so `main` stays thin and
//! tests start servers on port 0 and stop them with a oneshot.
//!
//! Shutdown order: health says NOT_SERVING first (load balancers stop sending), then after `shutdown_grace_ms` the
//! listener closes and in-flight requests finish before `run` returns.

use crate::api::{App, moderation::Moderation, review::Review};
use crate::config::{Config, ConfigError, Overrides};
use crate::pb::{moderation_service_server::ModerationServiceServer, review_service_server::ReviewServiceServer};
use crate::tenants::Tenants;
use std::future::Future;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;
use tokio::net::TcpListener;
use tokio_stream::wrappers::TcpListenerStream;
use tonic_health::ServingStatus;

/// Names reported by the health service besides the overall `""`.
const SERVICE_NAMES: [&str; 2] = ["commentguard.v1.ModerationService", "commentguard.v1.ReviewService"];

/// Serves until `shutdown` resolves, then drains. `metrics` is the listener for `/metrics`, if enabled.
pub async fn run(
    listener: TcpListener,
    metrics: Option<TcpListener>,
    app: Arc<App>,
    config: &Config,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> anyhow::Result<()> {
    let server = &config.server;
    let store_probe_interval = Duration::from_millis(config.store.health_interval_ms);
    let (health, health_service) = tonic_health::server::health_reporter();
    // Health follows the store: NOT_SERVING until it answers and whenever it stops answering.
    let ready = app.store.ping().await.is_ok();
    set_health(&health, ready).await;
    let (stopping_tx, stopping_rx) = tokio::sync::watch::channel(false);
    let prober = tokio::spawn(probe_store(app.clone(), health.clone(), ready, store_probe_interval, stopping_rx));
    let learning = crate::learning::spawn(app.clone(), crate::learning::Settings::from_config(&config.spam));
    let reflection_v1 = tonic_reflection::server::Builder::configure()
        .register_encoded_file_descriptor_set(crate::pb::FILE_DESCRIPTOR_SET)
        .register_encoded_file_descriptor_set(tonic_health::pb::FILE_DESCRIPTOR_SET)
        .build_v1()?;
    let reflection_v1alpha = tonic_reflection::server::Builder::configure()
        .register_encoded_file_descriptor_set(crate::pb::FILE_DESCRIPTOR_SET)
        .register_encoded_file_descriptor_set(tonic_health::pb::FILE_DESCRIPTOR_SET)
        .build_v1alpha()?;

    let max = server.max_message_bytes;
    let moderation =
        ModerationServiceServer::new(Moderation::new(app.clone(), Duration::from_millis(server.heartbeat_ms)))
            .max_decoding_message_size(max);
    let review = ReviewServiceServer::new(Review::new(app.clone())).max_decoding_message_size(max);

    let metrics_task = metrics.map(|l| tokio::spawn(crate::telemetry::serve_metrics(l)));
    let grace = Duration::from_millis(server.shutdown_grace_ms);
    let drain_timeout = Duration::from_millis(server.drain_timeout_ms);
    let (draining_tx, draining_rx) = tokio::sync::oneshot::channel::<()>();
    let drain = async move {
        shutdown.await;
        tracing::info!("shutting down: health NOT_SERVING, draining in-flight requests");
        let _ = stopping_tx.send(true);
        set_health(&health, false).await;
        tokio::time::sleep(grace).await;
        let _ = draining_tx.send(());
    };
    tracing::info!(addr = %listener.local_addr()?, store = app.store.name(), "commentguard serving");
    let serve = tonic::transport::Server::builder()
        .add_service(health_service)
        .add_service(reflection_v1)
        .add_service(reflection_v1alpha)
        .add_service(moderation)
        .add_service(review)
        .serve_with_incoming_shutdown(incoming(listener), drain);
    // Long-lived streams (health watches, decision watchers) never finish on their own: after the drain timeout
    // the server stops waiting for them. Unary requests are short and finish well within it.
    let deadline = async move {
        if draining_rx.await.is_ok() {
            tokio::time::sleep(drain_timeout).await;
        } else {
            std::future::pending::<()>().await;
        }
    };
    let result = tokio::select! {
        r = serve => r.map_err(anyhow::Error::from),
        _ = deadline => {
            tracing::warn!(timeout_ms = drain_timeout.as_millis() as u64, "drain timeout: closing open streams");
            Ok(())
        }
    };
    if let Some(task) = metrics_task {
        task.abort();
    }
    prober.abort();
    learning.abort();
    result?;
    tracing::info!("shutdown complete");
    Ok(())
}

/// Accepted connections with Nagle's algorithm off: gRPC writes small frames, and Nagle plus delayed ACKs would add
/// ~40 ms to many replies. (tonic sets this itself only when it binds the address.)
fn incoming(listener: TcpListener) -> impl tokio_stream::Stream<Item = std::io::Result<tokio::net::TcpStream>> {
    use tokio_stream::StreamExt;
    TcpListenerStream::new(listener).map(|conn| {
        let conn = conn?;
        conn.set_nodelay(true)?;
        Ok(conn)
    })
}

async fn set_health(health: &tonic_health::server::HealthReporter, serving: bool) {
    let status = if serving { ServingStatus::Serving } else { ServingStatus::NotServing };
    for name in SERVICE_NAMES.into_iter().chain([""]) {
        health.set_service_status(name, status).await;
    }
}

/// Pings the store every `interval` and mirrors the result in health, logging each transition once. Stops
/// flipping once shutdown began (health then stays NOT_SERVING).
async fn probe_store(
    app: Arc<App>,
    health: tonic_health::server::HealthReporter,
    mut ready: bool,
    interval: Duration,
    stopping: tokio::sync::watch::Receiver<bool>,
) {
    let mut ticker = tokio::time::interval(interval);
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        ticker.tick().await;
        let now_ready = app.store.ping().await.is_ok();
        if *stopping.borrow() {
            return;
        }
        if now_ready != ready {
            if now_ready {
                tracing::info!(store = app.store.name(), "store answers again: SERVING");
            } else {
                tracing::error!(store = app.store.name(), "store does not answer: NOT_SERVING");
            }
            set_health(&health, now_ready).await;
            ready = now_ready;
        }
        metrics::gauge!("commentguard_store_up").set(if ready { 1.0 } else { 0.0 });
    }
}

/// Reloads sites, moderators and policies from the config file. A file that fails to load or validate is refused
/// and the running configuration stays.
pub fn reload(app: &App, path: Option<&PathBuf>, overrides: &Overrides) -> Result<(), ConfigError> {
    let Some(path) = path else {
        return Err(ConfigError("no config file to reload (dev mode)".into()));
    };
    let config = Config::load(Some(path), overrides)?;
    // Limits first: a site added by this reload is never served without its bans.
    app.limiter.reload(&config);
    app.tenants.store(Arc::new(Tenants::from_config(&config)));
    tracing::info!(sites = config.sites.len(), moderators = config.moderators.len(), "configuration reloaded");
    Ok(())
}

/// Reloads on every SIGHUP until the task is dropped.
pub async fn reload_on_sighup(app: Arc<App>, path: Option<PathBuf>, overrides: Overrides) {
    let Ok(mut hup) = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::hangup()) else {
        tracing::warn!("cannot listen for SIGHUP; configuration reload is disabled");
        return;
    };
    while hup.recv().await.is_some() {
        if let Err(e) = reload(&app, path.as_ref(), &overrides) {
            tracing::error!(error = %e, "configuration reload refused; the previous configuration stays");
        }
    }
}

/// Resolves on SIGINT or SIGTERM.
pub async fn shutdown_signal() {
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {}
        _ = term => {}
    }
}

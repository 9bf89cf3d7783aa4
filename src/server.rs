//! The gRPC server: both services, health, reflection, metrics, SIGHUP reload and graceful shutdown.
//!
//! `run(listener, …, shutdown)` takes its listener and shutdown signal from the caller, so `main` stays thin and
//! tests start servers on port 0 and stop them with a oneshot.
//!
//! Shutdown order: health says NOT_SERVING first (load balancers stop sending), then after `shutdown_grace_ms` the
//! listener closes and in-flight requests finish before `run` returns.

use crate::api::{authn::Authenticated, moderation::Moderation, review::Review};
use crate::app::App;
use crate::config::{Config, ConfigError, Overrides};
use crate::pb::{moderation_service_server::ModerationServiceServer, review_service_server::ReviewServiceServer};
use crate::tenants::Tenants;
use std::future::Future;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;
use tokio::net::TcpListener;
use tonic_health::ServingStatus;

/// Names reported by the health service besides the overall `""`.
const SERVICE_NAMES: [&str; 2] = ["commentguard.v1.ModerationService", "commentguard.v1.ReviewService"];

/// The sockets a server answers on: gRPC, and optionally `/metrics`, the HTTP/JSON door (`http_api`) and the
/// moderator console (`console`).
#[derive(Debug)]
pub struct Listeners {
    pub grpc: TcpListener,
    pub metrics: Option<TcpListener>,
    pub http: Option<TcpListener>,
    pub console: Option<TcpListener>,
}

/// Serves until `shutdown` resolves, then drains. `metrics` is the listener for `/metrics`, if enabled.
pub async fn run(
    listener: TcpListener,
    metrics: Option<TcpListener>,
    app: Arc<App>,
    config: &Config,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> anyhow::Result<()> {
    serve(Listeners { grpc: listener, metrics, http: None, console: None }, app, config, shutdown).await
}

/// As [`run`], with every listener given (the HTTP/JSON door too).
pub async fn serve(
    listeners: Listeners,
    app: Arc<App>,
    config: &Config,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> anyhow::Result<()> {
    let Listeners { grpc: listener, metrics, http, console } = listeners;
    let server = &config.server;
    let store_probe_interval = Duration::from_millis(config.store.health_interval_ms);
    let (health, health_service) = tonic_health::server::health_reporter();
    // Health follows the store: NOT_SERVING until it answers and whenever it stops answering.
    let ready = app.store.comments.ping().await.is_ok();
    set_health(&health, ready).await;
    let (stopping_tx, stopping_rx) = tokio::sync::watch::channel(false);
    let prober = tokio::spawn(probe_store(app.clone(), health.clone(), ready, store_probe_interval, stopping_rx));
    let background = app.spawn_background(config);
    let reflection_v1 = tonic_reflection::server::Builder::configure()
        .register_encoded_file_descriptor_set(crate::pb::FILE_DESCRIPTOR_SET)
        .register_encoded_file_descriptor_set(tonic_health::pb::FILE_DESCRIPTOR_SET)
        .build_v1()?;
    let reflection_v1alpha = tonic_reflection::server::Builder::configure()
        .register_encoded_file_descriptor_set(crate::pb::FILE_DESCRIPTOR_SET)
        .register_encoded_file_descriptor_set(tonic_health::pb::FILE_DESCRIPTOR_SET)
        .build_v1alpha()?;

    let max = server.max_message_bytes;
    let decisions = crate::api::decisions::Settings::from_config(server);
    // Callers are authenticated before their request is decoded (api::authn).
    // One handler value for both doors: the HTTP/JSON door calls the same handlers, hub and quotas.
    let handlers = Moderation::new(app.clone(), decisions);
    let moderation = Authenticated::sites(
        ModerationServiceServer::new(handlers.clone()).max_decoding_message_size(max),
        app.clone(),
    );
    // Likewise one review handler for gRPC and the console's JSON API.
    let reviews = Review::new(app.clone());
    let review = Authenticated::moderators(
        ReviewServiceServer::new(reviews.clone()).max_decoding_message_size(max),
        app.clone(),
    );

    let header_timeout = Duration::from_millis(server.metrics_header_timeout_ms);
    if let Some(addr) = metrics.as_ref().and_then(|l| l.local_addr().ok()) {
        tracing::info!(%addr, "metrics serving");
    }
    let metrics_task = metrics.map(|l| tokio::spawn(crate::telemetry::serve_metrics(l, header_timeout)));
    let grace = Duration::from_millis(server.shutdown_grace_ms);
    let drain_timeout = Duration::from_millis(server.drain_timeout_ms);
    let (draining_tx, draining_rx) = tokio::sync::oneshot::channel::<()>();
    // The HTTP/JSON door and the console close their listeners when gRPC's closes.
    let (closing_tx, closing_rx) = tokio::sync::watch::channel(false);
    let http_settings = crate::http_api::Settings {
        limits: crate::connections::Limits {
            idle_timeout: Duration::from_millis(server.idle_timeout_ms),
            max_connections: server.max_connections,
        },
        header_timeout: Duration::from_millis(server.http_header_timeout_ms),
        drain_timeout: Duration::from_millis(server.drain_timeout_ms),
    };
    let http_task = match http {
        Some(l) => {
            tracing::info!(addr = %l.local_addr()?, "HTTP/JSON serving");
            let door = crate::http_api::door::Door::new(app.clone(), handlers.clone(), max);
            Some(tokio::spawn(crate::http_api::serve(l, door, http_settings, closing_rx.clone())))
        }
        None => None,
    };
    let console_task = match console {
        Some(l) => {
            tracing::info!(addr = %l.local_addr()?, "moderator console serving");
            let console = crate::console::Console::new(app.clone(), reviews, max);
            Some(tokio::spawn(crate::http_api::serve_http1(l, console, http_settings, closing_rx, "console")))
        }
        None => None,
    };
    let drain = async move {
        shutdown.await;
        tracing::info!("shutting down: health NOT_SERVING, draining in-flight requests");
        let _ = stopping_tx.send(true);
        set_health(&health, false).await;
        tokio::time::sleep(grace).await;
        let _ = closing_tx.send(true);
        let _ = draining_tx.send(());
    };
    tracing::info!(addr = %listener.local_addr()?, store = app.store.comments.name(), "commentguard serving");
    let limits = crate::connections::Limits {
        idle_timeout: Duration::from_millis(server.idle_timeout_ms),
        max_connections: server.max_connections,
    };
    let keepalive = (server.keepalive_interval_ms > 0).then(|| Duration::from_millis(server.keepalive_interval_ms));
    let serve = tonic::transport::Server::builder()
        .http2_keepalive_interval(keepalive)
        .http2_keepalive_timeout(Some(Duration::from_millis(server.keepalive_timeout_ms)))
        .layer(crate::connections::TrackRpcs)
        .add_service(health_service)
        .add_service(reflection_v1)
        .add_service(reflection_v1alpha)
        .add_service(moderation)
        .add_service(review)
        .serve_with_incoming_shutdown(crate::connections::incoming(listener, limits), drain);
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
    for mut task in http_task.into_iter().chain(console_task) {
        // Normally it has drained with gRPC; if gRPC ended on an error, the door was never told to close.
        if tokio::time::timeout(drain_timeout, &mut task).await.is_err() {
            task.abort();
        }
    }
    prober.abort();
    drop(background);
    result?;
    tracing::info!("shutdown complete");
    Ok(())
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
        let now_ready = app.store.comments.ping().await.is_ok();
        if *stopping.borrow() {
            return;
        }
        if now_ready != ready {
            if now_ready {
                tracing::info!(store = app.store.comments.name(), "store answers again: SERVING");
            } else {
                tracing::error!(store = app.store.comments.name(), "store does not answer: NOT_SERVING");
            }
            set_health(&health, now_ready).await;
            ready = now_ready;
        }
        metrics::gauge!("commentguard_store_up").set(if ready { 1.0 } else { 0.0 });
    }
}

/// Reloads sites, moderators and policies from the config file and returns the configuration now running. A file
/// that fails to load or validate, or that would remove every site or moderator (`crate::reload`), is refused and the
/// running configuration stays; changed keys that need a restart are named in a warning.
pub fn reload(
    app: &App,
    running: &Config,
    path: Option<&PathBuf>,
    overrides: &Overrides,
) -> Result<Config, ConfigError> {
    let Some(path) = path else {
        return Err(ConfigError::new("no config file to reload (dev mode)"));
    };
    let config = Config::load(Some(path), overrides)?;
    let restart_only = crate::reload::check(running, &config)?;
    // One swap: a site's policy, rules and limits change together.
    let tenants = Tenants::compile(&config, &app.limiter, Some(&app.tenants.load()));
    app.tenants.store(Arc::new(tenants));
    app.webhooks.store(Arc::new(crate::webhooks::Targets::from_config(&config)));
    if !restart_only.is_empty() {
        tracing::warn!(
            keys = %restart_only.join(", "),
            "changed keys need a restart to take effect; their running values stay"
        );
    }
    tracing::info!(sites = config.sites.len(), moderators = config.moderators.len(), "configuration reloaded");
    Ok(crate::reload::applied(running, config))
}

/// Reloads on every SIGHUP until the task is dropped. `running` is the configuration the process started with.
pub async fn reload_on_sighup(app: Arc<App>, mut running: Config, path: Option<PathBuf>, overrides: Overrides) {
    let Ok(mut hup) = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::hangup()) else {
        tracing::warn!("cannot listen for SIGHUP; configuration reload is disabled");
        return;
    };
    while hup.recv().await.is_some() {
        match reload(&app, &running, path.as_ref(), &overrides) {
            Ok(config) => running = config,
            // One line per problem would interleave with other logs; one event carries them all.
            Err(e) => tracing::error!(
                problems = %e.problems().join("; "),
                "configuration reload refused; the previous configuration stays"
            ),
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

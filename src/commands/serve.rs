//! `commentguard serve`: builds the app from the configuration (dev mode with printed demo credentials when no
//! site is configured), then runs the server until SIGINT/SIGTERM, reloading on SIGHUP.

use crate::app::App;
use crate::config::{Config, ModeratorConfig, Overrides, Role, SiteConfig, sha256_hex};
use anyhow::{Context as _, bail};
use rand::Rng;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;

/// Starts the service and runs it until SIGINT/SIGTERM.
pub async fn serve(mut config: Config, path: Option<PathBuf>, overrides: Overrides) -> anyhow::Result<()> {
    crate::telemetry::init_logging(config.server.log_format);
    crate::analysis::warm_up();
    let listen: SocketAddr = config.server.listen.parse().context("server.listen")?;
    if config.sites.is_empty() {
        if let Some(path) = &path {
            // A production file without sites would serve nobody while health says SERVING.
            bail!(
                "config file {} configures no [[sites]]: add one (dev mode, with demo credentials, is `serve` \
                 without --config)",
                path.display()
            );
        }
        enter_dev_mode(&mut config, listen)?;
    }
    let app = Arc::new(App::from_config(&config)?);
    let listener = tokio::net::TcpListener::bind(listen).await.with_context(|| format!("binding {listen}"))?;
    let metrics = match config.server.metrics_listen.as_str() {
        "" => None,
        addr => Some(tokio::net::TcpListener::bind(addr).await.with_context(|| format!("binding metrics {addr}"))?),
    };
    let http = match config.server.http_listen.as_str() {
        "" => None,
        addr => Some(tokio::net::TcpListener::bind(addr).await.with_context(|| format!("binding HTTP/JSON {addr}"))?),
    };
    let console = match config.server.console_listen.as_str() {
        "" => None,
        addr => Some(tokio::net::TcpListener::bind(addr).await.with_context(|| format!("binding console {addr}"))?),
    };
    crate::telemetry::prometheus();
    let reloader = tokio::spawn(crate::server::reload_on_sighup(app.clone(), config.clone(), path, overrides));
    let listeners = crate::server::Listeners { grpc: listener, metrics, http, console };
    let result = crate::server::serve(listeners, app, &config, crate::server::shutdown_signal()).await;
    reloader.abort();
    result
}

/// No sites configured: add a demo site and an admin moderator with fresh random secrets and print them. Only on a
/// loopback address — a service reachable from the network must be configured on purpose.
fn enter_dev_mode(config: &mut Config, listen: SocketAddr) -> anyhow::Result<()> {
    if !listen.ip().is_loopback() {
        bail!(
            "dev mode (no [[sites]] configured) refuses to listen on {listen}: it is not a loopback address; \
             configure sites in a --config file"
        );
    }
    if let Ok(http) = config.server.http_listen.parse::<SocketAddr>()
        && !http.ip().is_loopback()
    {
        bail!("dev mode (no [[sites]] configured) refuses server.http_listen = {http}: it is not a loopback address");
    }
    if let Ok(console) = config.server.console_listen.parse::<SocketAddr>()
        && !console.ip().is_loopback()
    {
        bail!(
            "dev mode (no [[sites]] configured) refuses server.console_listen = {console}: it is not a loopback address"
        );
    }
    let key = format!("cg_dev_{}", hex::encode(rand::rng().random::<[u8; 16]>()));
    let token = format!("cg_mod_{}", hex::encode(rand::rng().random::<[u8; 16]>()));
    config.sites.push(SiteConfig {
        id: "demo".into(),
        api_key_sha256: vec![sha256_hex(&key)],
        default_region: "PK".into(),
        policy: Default::default(),
        webhook: None,
    });
    config.moderators.push(ModeratorConfig {
        id: "demo-admin".into(),
        token_sha256: sha256_hex(&token),
        sites: vec!["demo".into()],
        role: Role::Admin,
    });
    println!("commentguard dev mode (no sites configured; embedded store, nothing survives a restart)");
    println!("  site \"demo\" API key:            {key}");
    println!("  moderator \"demo-admin\" token:   {token}");
    println!(
        "  try: grpcurl -plaintext -H 'authorization: Bearer {key}' -d '{{\"comment_id\":\"c1\",\"thread_id\":\"t1\",\
         \"author\":{{\"ip\":\"198.51.100.23\"}},\"body\":\"Great article!\"}}' {listen} \
         commentguard.v1.ModerationService/SubmitComment"
    );
    Ok(())
}

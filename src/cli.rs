//! The command line (DESIGN §6): `serve`, `check`, `train`, and `model` (a site's learned spam model).

use crate::api::App;
use crate::clock::SystemClock;
use crate::config::{Config, DurabilityConfig, LogFormat, ModeratorConfig, Overrides, Role, SiteConfig, sha256_hex};
use crate::intake::Pseudonymizer;
use crate::store::redis::{Durability, RedisOptions, RedisStore};
use crate::store::{Store, memory::MemoryStore};
use crate::tenants::Tenants;
use anyhow::{Context as _, bail};
use arc_swap::ArcSwap;
use clap::{Parser, Subcommand};
use rand::Rng;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

#[derive(Debug, Parser)]
#[command(name = "commentguard", version, about = "Comment moderation service: PII, spam and policy checks over gRPC")]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the gRPC service (embedded in-memory store unless a Redis URL is configured).
    Serve {
        /// TOML configuration file; without one, dev mode with printed demo credentials.
        #[arg(long)]
        config: Option<PathBuf>,
        /// gRPC listen address (overrides server.listen).
        #[arg(long)]
        listen: Option<String>,
        /// Redis URL (overrides store.redis_url).
        #[arg(long)]
        redis_url: Option<String>,
        /// Log format (overrides server.log_format).
        #[arg(long, value_enum)]
        log_format: Option<LogFormatArg>,
    },
    /// Analyse comments offline (JSON Lines in, one JSON verdict per line out).
    Check(crate::check::CheckArgs),
    /// Train the spam model from labelled JSON Lines (creates MODEL, or updates it if it exists).
    Train(crate::train::TrainArgs),
    /// A site's learned spam model in Redis: status, revert to a snapshot, export.
    Model(crate::model_admin::ModelArgs),
}

#[derive(Debug, Clone, Copy, clap::ValueEnum)]
pub enum LogFormatArg {
    Human,
    Json,
}

pub fn run(cli: Cli) -> anyhow::Result<()> {
    match cli.command {
        Command::Serve { config, listen, redis_url, log_format } => {
            let overrides = Overrides { listen, redis_url };
            let mut cfg = Config::load(config.as_deref(), &overrides)?;
            if let Some(f) = log_format {
                cfg.server.log_format = match f {
                    LogFormatArg::Human => LogFormat::Human,
                    LogFormatArg::Json => LogFormat::Json,
                };
            }
            let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build()?;
            runtime.block_on(serve(cfg, config, overrides))
        }
        Command::Check(args) => crate::check::run(args),
        Command::Train(args) => crate::train::run(args),
        Command::Model(args) => crate::model_admin::run(args),
    }
}

/// Starts the service and runs it until SIGINT/SIGTERM.
async fn serve(mut config: Config, path: Option<PathBuf>, overrides: Overrides) -> anyhow::Result<()> {
    crate::telemetry::init_logging(config.server.log_format);
    // Loads phone metadata and builds detector tables now, so the first comment is as fast as the rest.
    crate::analysis::pii::warm_up();
    crate::analysis::spam::warm_up();
    let listen: SocketAddr = config.server.listen.parse().context("server.listen")?;
    if config.sites.is_empty() {
        enter_dev_mode(&mut config, listen)?;
    }
    let clock = Arc::new(SystemClock);
    let store: Arc<dyn Store> = match &config.store.redis_url {
        Some(url) => Arc::new(RedisStore::connect(&redis_options(url, &config), clock.clone())?),
        None => {
            tracing::warn!(
                "embedded in-memory store: nothing survives a restart; configure store.redis_url for production"
            );
            Arc::new(MemoryStore::new(clock.clone()))
        }
    };
    // Cluster-wide rate limits name their Redis keys with this secret too, so a limiter Redis also needs it stable.
    let shared_redis = config.store.redis_url.as_ref().or(config.ratelimit.redis_url.as_ref());
    let secret = match (&config.store.pseudonym_secret, shared_redis) {
        (Some(s), _) => s.as_bytes().to_vec(),
        // Nothing outlives the process, so a random secret costs nothing.
        (None, None) => rand::rng().random::<[u8; 32]>().to_vec(),
        // Reputation must survive restarts, so the key must be stable; a known one protects nothing: say so.
        (None, Some(_)) => {
            tracing::warn!("store.pseudonym_secret is not set: reputation keys use a public default secret");
            b"commentguard-default-pseudonym-secret".to_vec()
        }
    };
    let keys = Pseudonymizer::new(&secret);
    let limiter =
        Arc::new(crate::ratelimit::Limiter::new(&config, keys.clone(), crate::ratelimit::RateClock::monotonic())?);
    let housekeeping = crate::ratelimit::Limiter::spawn_housekeeping(
        &limiter,
        Duration::from_millis(config.ratelimit.housekeeping_interval_ms),
    );
    let tenants = ArcSwap::from_pointee(Tenants::from_config(&config));
    let app = Arc::new(App { tenants, store, keys, clock, limiter, models: Default::default() });
    let listener = tokio::net::TcpListener::bind(listen).await.with_context(|| format!("binding {listen}"))?;
    let metrics = match config.server.metrics_listen.as_str() {
        "" => None,
        addr => Some(tokio::net::TcpListener::bind(addr).await.with_context(|| format!("binding metrics {addr}"))?),
    };
    crate::telemetry::prometheus();
    let reloader = tokio::spawn(crate::server::reload_on_sighup(app.clone(), path, overrides));
    let result = crate::server::run(listener, metrics, app, &config, crate::server::shutdown_signal()).await;
    reloader.abort();
    housekeeping.abort();
    result
}

/// The store's Redis settings from the config (`serve`, `model`).
pub(crate) fn redis_options(url: &str, config: &Config) -> RedisOptions {
    let durability = match config.store.durability {
        DurabilityConfig::Primary => Durability::Primary,
        DurabilityConfig::Replica => {
            Durability::Replica { timeout: Duration::from_millis(config.store.replica_wait_ms) }
        }
    };
    RedisOptions { url: url.to_string(), timeout: Duration::from_millis(config.store.timeout_ms), durability }
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
    let key = format!("cg_dev_{}", hex::encode(rand::rng().random::<[u8; 16]>()));
    let token = format!("cg_mod_{}", hex::encode(rand::rng().random::<[u8; 16]>()));
    config.sites.push(SiteConfig {
        id: "demo".into(),
        api_key_sha256: vec![sha256_hex(&key)],
        default_region: "PK".into(),
        policy: Default::default(),
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

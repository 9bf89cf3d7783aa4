//! Signed webhooks: every decision event of a site with a `[sites.webhook]` — the stream `WatchDecisions` serves —
//! is POSTed to the host as JSON, so a PHP host needs no long-lived stream.
//!
//! - Body: a `ListDecisionsResponse` in the proto's canonical JSON (`{"events": [...], "nextCursor": "…"}`), the same
//!   shape a `GET /v1/decisions` poll returns; at most `max_batch` events per POST, oldest first.
//! - Headers: `X-Commentguard-Signature: t=<unix>,v1=<hex HMAC-SHA256(secret, "<t>.<body>")>` (`sign.rs`),
//!   `X-Commentguard-Site`, `X-Commentguard-Delivery` (the batch's last cursor: the same on every retry of a batch).
//! - At least once, in order: a batch is retried (exponential backoff with jitter, or the receiver's `Retry-After`)
//!   until the receiver answers 2xx, and only then is its last cursor saved in the store (`store::webhooks`) and the
//!   next batch read. A restarted process resumes from the saved cursor; a crash between a 2xx and the save sends
//!   that batch again (receivers dedupe by `cursor`).
//! - One deliverer per site among replicas: a store lease (`SET NX PX`, renewed while delivering); the cursor is
//!   saved only under it. A replica that stops without releasing it (crash, kill) is replaced when it expires.
//! - The first run of a site's webhook starts after the site's newest event (saved at once): a new receiver is not
//!   flooded with the retained history; `ListDecisions` from `"0"` fetches that.
//!
//! `spawn` runs a supervisor that starts, restarts (when a reload changes the table) and stops each site's
//! deliverer (`deliver.rs`, with its HTTP client `client.rs`).

pub mod client;
pub mod deliver;
pub mod sign;
pub mod tls;

use crate::clock::Clock;
use crate::config::Config;
use crate::store::{DecisionLog, WebhookState};
use arc_swap::ArcSwap;
use rand::Rng;
use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

/// One site's webhook, compiled from `[sites.webhook]`. `Debug` never shows the secret.
#[derive(Clone, PartialEq)]
pub struct Target {
    pub site: String,
    pub host: String,
    pub port: u16,
    /// For an `https://` url.
    pub tls: Option<tls::Tls>,
    /// `host[:port]` as the `Host` header says it.
    pub host_header: String,
    pub path: String,
    secret: Vec<u8>,
    pub timeout: Duration,
    pub max_attempts: u32,
    pub initial_backoff: Duration,
    pub max_backoff: Duration,
    pub max_batch: usize,
}

impl std::fmt::Debug for Target {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Target")
            .field("site", &self.site)
            .field("host", &self.host)
            .field("port", &self.port)
            .field("https", &self.tls.is_some())
            .finish()
    }
}

impl Target {
    /// The site's webhook, if it has one. A config that passed validation always compiles; one that does not (a
    /// secret variable unset since) leaves the site without a webhook, with an error logged.
    fn compile(site: &crate::config::SiteConfig) -> Option<Target> {
        let hook = site.webhook.as_ref()?;
        let compiled = hook.target().and_then(|endpoint| {
            let tls = match endpoint.https {
                true => Some(tls::Tls::new(&endpoint.host, hook.trusted_roots()?)?),
                false => None,
            };
            Ok((endpoint, tls, hook.resolve_secret()?))
        });
        let (crate::config::webhook::Endpoint { host, port, path, .. }, tls, secret) = match compiled {
            Ok(parts) => parts,
            Err(problem) => {
                tracing::error!(site = %site.id, %problem, "webhook not started");
                return None;
            }
        };
        let name = if host.contains(':') { format!("[{host}]") } else { host.clone() };
        let default_port = if tls.is_some() { 443 } else { 80 };
        let host_header = if port == default_port { name } else { format!("{name}:{port}") };
        Some(Target {
            site: site.id.clone(),
            host,
            port,
            tls,
            host_header,
            path,
            secret,
            timeout: Duration::from_millis(hook.timeout_ms),
            max_attempts: hook.max_attempts,
            initial_backoff: Duration::from_millis(hook.initial_backoff_ms),
            max_backoff: Duration::from_millis(hook.max_backoff_ms),
            max_batch: hook.max_batch,
        })
    }

    /// The signature header value for `body` at `unix` seconds.
    pub fn sign(&self, unix: u64, body: &[u8]) -> String {
        sign::signature(&self.secret, unix, body)
    }
}

/// Every site's webhook; swapped whole on reload (`server::reload`).
#[derive(Debug, Default)]
pub struct Targets(HashMap<String, Arc<Target>>);

impl Targets {
    pub fn from_config(config: &Config) -> Targets {
        Targets(config.sites.iter().filter_map(Target::compile).map(|t| (t.site.clone(), Arc::new(t))).collect())
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

/// What a deliverer needs from the process.
#[derive(Debug, Clone)]
pub struct Deps {
    pub state: Arc<dyn WebhookState>,
    pub log: Arc<dyn DecisionLog>,
    pub clock: Arc<dyn Clock>,
    /// This process's id in leases (random per process).
    pub owner: Arc<str>,
}

/// How often the supervisor looks for changed targets.
const SUPERVISE_EVERY: Duration = Duration::from_secs(1);

/// Starts the supervisor; it (and every deliverer) stops when the returned task is aborted.
pub fn spawn(targets: Arc<ArcSwap<Targets>>, deps: Deps) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let mut running: HashMap<String, Running> = HashMap::new();
        let mut ticker = tokio::time::interval(SUPERVISE_EVERY);
        ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            ticker.tick().await;
            let now = targets.load();
            running.retain(|site, r| now.0.get(site).is_some_and(|t| **t == *r.target));
            for (site, target) in &now.0 {
                // A deliverer that ended was suspended (max_attempts): it stays stopped until its table changes.
                running.entry(site.clone()).or_insert_with(|| Running {
                    target: target.clone(),
                    task: tokio::spawn(deliver::Deliverer::new(target.clone(), deps.clone()).run()),
                    deps: deps.clone(),
                });
            }
        }
    })
}

/// A process's id in webhook leases: random, so two processes never share one.
pub fn owner_id() -> Arc<str> {
    Arc::from(format!("cg-{}", hex::encode(rand::rng().random::<[u8; 8]>())))
}

/// A running deliverer; aborted when dropped (its table changed or was removed, or the supervisor stopped).
struct Running {
    target: Arc<Target>,
    task: tokio::task::JoinHandle<()>,
    deps: Deps,
}

impl Drop for Running {
    /// Stops the deliverer and, while the runtime still runs (a shutdown, a reload), gives its lease back so another
    /// replica — or this process's next deliverer — takes over at once rather than after the lease's time to live.
    /// Best effort: a renewal already on its way may land after the release; the lease then simply expires.
    fn drop(&mut self) {
        self.task.abort();
        if let Ok(runtime) = tokio::runtime::Handle::try_current() {
            let (deps, site) = (self.deps.clone(), self.target.site.clone());
            runtime.spawn(async move {
                let _ = deps.state.release_webhook_lease(&site, &deps.owner).await;
            });
        }
    }
}

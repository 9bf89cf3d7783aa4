//! The composition root: the one place where a process's shared parts are built from a configuration and its
//! background tasks are started. `serve`, the test harness, the examples and the benches all go through here, so
//! what runs in tests is what runs in production.

use crate::clock::{Clock, SystemClock};
use crate::config::Config;
use crate::learning::Models;
use crate::pseudonym::Pseudonymizer;
use crate::ratelimit::{Limiter, RateClock};
use crate::store::memory::MemoryStore;
use crate::store::redis::{RedisOptions, RedisStore};
use crate::store::{Store, Stores};
use crate::tenants::Tenants;
use anyhow::Context as _;
use arc_swap::ArcSwap;
use rand::Rng;
use std::sync::Arc;
use std::time::Duration;

/// What every handler and background task shares. `tenants` is swapped whole on SIGHUP.
#[derive(Debug)]
pub struct App {
    pub tenants: Arc<ArcSwap<Tenants>>,
    /// The backend's roles; each consumer uses the one it needs.
    pub store: Stores,
    pub keys: Pseudonymizer,
    pub clock: Arc<dyn Clock>,
    /// The rate-limiting engine; each site's limits are in its `tenants` entry.
    pub limiter: Arc<Limiter>,
    /// Each site's spam model with what its moderators taught it; refreshed by `learning`.
    pub models: Arc<Models>,
    /// Each site's webhook (`[sites.webhook]`); swapped whole on reload, followed by the webhook supervisor.
    pub webhooks: Arc<ArcSwap<crate::webhooks::Targets>>,
}

impl App {
    /// Production wiring: the Redis store when `store.redis_url` is set (else the embedded memory store), the
    /// configured pseudonym secret, the system clock.
    pub fn from_config(config: &Config) -> anyhow::Result<App> {
        let clock: Arc<dyn Clock> = Arc::new(SystemClock);
        let store: Arc<dyn Store> = match &config.store.redis_url {
            Some(url) => Arc::new(
                RedisStore::connect(&RedisOptions::from_config(url, config), clock.clone())
                    .context("store.redis_url")?,
            ),
            None => {
                tracing::warn!(
                    "embedded in-memory store: nothing survives a restart; configure store.redis_url for production"
                );
                Arc::new(MemoryStore::new(clock.clone()))
            }
        };
        App::assemble(config, Stores::of(store), &pseudonym_secret(config), clock, RateClock::monotonic())
    }

    /// The same wiring with the store, secret and clocks given (tests, examples, benches).
    pub fn assemble(
        config: &Config,
        store: Stores,
        secret: &[u8],
        clock: Arc<dyn Clock>,
        rate_clock: RateClock,
    ) -> anyhow::Result<App> {
        let keys = Pseudonymizer::new(secret);
        let limiter = Arc::new(Limiter::new(config, keys.clone(), rate_clock)?);
        Ok(App {
            tenants: Arc::new(ArcSwap::from_pointee(Tenants::compile(config, &limiter, None))),
            store,
            keys,
            clock,
            limiter,
            models: Arc::default(),
            webhooks: Arc::new(ArcSwap::from_pointee(crate::webhooks::Targets::from_config(config))),
        })
    }

    /// Starts the process's background work: rate-limit housekeeping, the learning loops and webhook delivery.
    /// Dropping the returned value stops them.
    pub fn spawn_background(&self, config: &Config) -> Background {
        let tenants = self.tenants.clone();
        let housekeeping = Limiter::spawn_housekeeping(
            move || tenants.load().limits(),
            Duration::from_millis(config.ratelimit.housekeeping_interval_ms),
        );
        let learning = crate::learning::spawn(
            self.tenants.clone(),
            self.store.models.clone(),
            self.models.clone(),
            crate::learning::Settings::from_config(&config.spam),
        );
        let webhooks = crate::webhooks::spawn(
            self.webhooks.clone(),
            crate::webhooks::Deps {
                state: self.store.webhooks.clone(),
                log: self.store.decisions.clone(),
                clock: self.clock.clone(),
                owner: crate::webhooks::owner_id(),
            },
        );
        Background { tasks: vec![housekeeping, learning, webhooks] }
    }
}

/// The running background tasks of an [`App`]; aborted on drop.
#[derive(Debug)]
pub struct Background {
    tasks: Vec<tokio::task::JoinHandle<()>>,
}

impl Drop for Background {
    fn drop(&mut self) {
        self.tasks.iter().for_each(|t| t.abort());
    }
}

/// The secret that keys reputation and rate-limit pseudonyms.
fn pseudonym_secret(config: &Config) -> Vec<u8> {
    // Cluster-wide rate limits name their Redis keys with this secret too, so a limiter Redis also needs it stable.
    let shared_redis = config.store.redis_url.as_ref().or(config.ratelimit.redis_url.as_ref());
    match (&config.store.pseudonym_secret, shared_redis) {
        (Some(s), _) => s.as_bytes().to_vec(),
        // Nothing outlives the process, so a random secret costs nothing.
        (None, None) => rand::rng().random::<[u8; 32]>().to_vec(),
        // Reputation must survive restarts, so the key must be stable; a known one protects nothing: say so.
        (None, Some(_)) => {
            tracing::warn!("store.pseudonym_secret is not set: reputation keys use a public default secret");
            b"commentguard-default-pseudonym-secret".to_vec()
        }
    }
}

//! Bans, rate limits, flood and surge control (DESIGN §5: after the replay lookup, before analysis).
//!
//! One [`Limiter`] per process holds, per site:
//! - **bans** (`banned_ips` with CIDR ranges, `banned_authors`): the comment is REJECTED with `policy.banned` and
//!   answered without being stored — checked first, so a banned flood spends no quota;
//! - **exemptions** (`exempt_accounts`, `exempt_ips`): never limited;
//! - **limits**, narrowest key first: flood (one comment per `flood_seconds` per author), author, address (IPv6 per
//!   prefix), thread, site. Each is a GCRA: `local` (governor, in this process), `redis` (one Lua script shared by
//!   every replica) or `both` (local as a cheap filter, then Redis). A refusal is `RESOURCE_EXHAUSTED` with the exact
//!   wait (`RetryInfo`) and the limit (`QuotaFailure`); nothing is stored or queued;
//! - **surge control**: past a per-thread rate, new comments on the thread are held (`policy.surge`) for a cool-down.
//!
//! Trade-off of the local order: governor's `check_key` takes a cell when it passes, so a request that passes its
//! narrow limits and is refused by a broader one (its thread's, its site's) has still used one cell of its OWN author
//! and address quotas. It never uses anyone else's: broader quotas are consulted only after every narrower one
//! passed, so a flooder refused on its own key leaves the thread's and site's quotas untouched. The Redis script
//! tests every limit before writing any, so there a refusal costs nothing.
//!
//! Invariant: nothing here logs or labels personal data. Keys are salted hashes (local) or HMAC pseudonyms (Redis);
//! metric labels are limit names.

pub mod bans;
pub mod clock;
pub mod global;
pub mod local;
pub mod settings;
pub mod store;
pub mod subject;

pub use clock::{FakeRelativeClock, RateClock};
pub use subject::Subject;

use crate::config::ratelimit::RedisFailure;
use crate::config::{Config, PolicyConfig};
use crate::error::Error;
use crate::pseudonym::Pseudonymizer;
use global::{Cell, Global, Outcome, SurgeCell};
use local::{Keyed, Surge};
use settings::{Kind, SiteSettings, Spec};
use std::hash::RandomState;
use std::sync::Arc;
use std::time::Duration;
use subject::{Identity, LocalKeys};

/// Drops fully refilled keys of `sites`, gives memory back and publishes the number of keys per limit.
pub fn housekeeping(sites: &[Arc<SiteLimits>]) {
    let mut keys = [0usize; 6];
    for s in sites {
        for (i, limit) in s.local.iter().enumerate() {
            keys[i] += limit.as_ref().map_or(0, |l| l.housekeeping());
        }
        keys[5] += s.surge.as_ref().map_or(0, |g| g.housekeeping());
    }
    for (kind, n) in Kind::ORDER.iter().map(|k| k.name()).chain(["surge"]).zip(keys) {
        metrics::gauge!("commentguard_ratelimit_keys", "limit" => kind).set(n as f64);
    }
}

impl SiteLimits {
    /// Keys held per limit (flood, author, ip, thread, site, surge), for tests and benches.
    pub fn key_counts(&self) -> [usize; 6] {
        let mut keys = [0usize; 6];
        for (i, limit) in self.local.iter().enumerate() {
            keys[i] = limit.as_ref().map_or(0, |l| l.key_count());
        }
        keys[5] = self.surge.as_ref().map_or(0, |g| g.key_count());
        keys
    }
}

/// What a submission may do next.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Admission {
    /// Go on to analysis; `surge`: the thread is in surge, hold the comment (`policy.surge`).
    Admit { surge: bool },
    /// Answer REJECTED with `policy.banned`, store nothing.
    Banned,
}

/// One site's compiled settings and its limiters' state in this process. It lives in the site's
/// [`crate::tenants::Site`], so a reload swaps a site's limits together with everything else about it.
#[derive(Debug)]
pub struct SiteLimits {
    settings: SiteSettings,
    /// Indexed by [`Kind::index`]; present for every limit that is on, whatever its mode (a `redis` limit falls back
    /// to its local twin when the site fails open).
    local: [Option<Arc<Keyed>>; 5],
    surge: Option<Arc<Surge>>,
}

/// The process's limiting engine, shared by every site and never swapped: the clock, the cluster-wide Redis, the
/// pseudonyms of Redis keys. Each site's limits and their state are [`SiteLimits`]; see the module docs.
pub struct Limiter {
    clock: RateClock,
    hasher: RandomState,
    keys: Pseudonymizer,
    global: Option<Global>,
    max_keys: usize,
}

impl std::fmt::Debug for Limiter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Limiter").field("redis", &self.global.is_some()).finish()
    }
}

impl Limiter {
    /// Builds the limiter for a validated config. `keys` names Redis keys (so replicas agree, it must be keyed by the
    /// same stable secret on all of them). Redis is not contacted here: a limiter Redis that is down at start is
    /// handled like one that goes down later.
    pub fn new(config: &Config, keys: Pseudonymizer, clock: RateClock) -> anyhow::Result<Limiter> {
        let url = config.ratelimit.redis_url.as_ref().or(config.store.redis_url.as_ref());
        let timeout = Duration::from_millis(config.ratelimit.timeout_ms);
        let global =
            match url {
                Some(url) => Some(Global::connect(url, timeout).map_err(|e| {
                    anyhow::anyhow!("the limiter redis (ratelimit.redis_url, else store.redis_url): {e}")
                })?),
                None => None,
            };
        Ok(Limiter { clock, hasher: RandomState::new(), keys, global, max_keys: config.ratelimit.max_keys_per_limiter })
    }

    /// Compiles a (validated) site policy's bans and limits. Limits whose quota did not change keep `previous`'s
    /// state, so a reload never hands flooders a fresh burst; a changed limit starts empty.
    pub fn compile(&self, policy: &PolicyConfig, previous: Option<&SiteLimits>) -> Arc<SiteLimits> {
        let settings = SiteSettings::compile(policy);
        let local = Kind::ORDER.map(|kind| {
            let spec = *settings.limit(kind)?;
            let kept = previous.and_then(|p| p.local[kind.index()].clone()).filter(|k| *k.spec() == spec);
            Some(kept.unwrap_or_else(|| Arc::new(Keyed::new(spec, self.clock.clone(), self.max_keys, kind.name()))))
        });
        let surge = settings.surge.map(|spec| {
            let kept = previous
                .and_then(|p| p.surge.clone())
                .filter(|s| *s.spec() == spec && s.cooldown() == settings.surge_cooldown);
            kept.unwrap_or_else(|| {
                Arc::new(Surge::new(spec, settings.surge_cooldown, self.clock.clone(), self.max_keys))
            })
        });
        Arc::new(SiteLimits { settings, local, surge })
    }

    /// Bans, then limits, then surge control for one submission of site `site` (whose limits are `s`).
    ///
    /// Errors: `ResourceExhausted` (a limit refused), `Unavailable` (the limiter's Redis is down and the site fails
    /// closed). Either way nothing was stored.
    pub async fn check(&self, site: &str, s: &SiteLimits, who: &Subject<'_>) -> Result<Admission, Error> {
        let settings = &s.settings;
        let id = Identity::resolve(who, settings.ipv6_prefix);
        if settings.bans.matches(id.ip, who.account_id, who.email) {
            return Ok(Admission::Banned);
        }
        if !settings.enabled || self.is_exempt(settings, &id, who) {
            return Ok(Admission::Admit { surge: false });
        }
        // Local limits (mode local or both), narrowest first.
        let keys = id.local_keys(&self.hasher);
        for kind in Kind::ORDER {
            if let Some(limit) = &s.local[kind.index()]
                && !matches!(limit.spec().mode, crate::config::ratelimit::LimitMode::Redis)
            {
                check_local(limit, kind, &keys)?;
            }
        }
        let mut surge_local = s.surge.as_ref().filter(|g| !g.spec().mode.uses_redis());
        if settings.uses_redis() {
            match self.check_redis(site, s, &id).await {
                Ok(surge) => {
                    if s.surge.as_ref().is_some_and(|g| g.spec().mode.uses_redis()) {
                        return Ok(Admission::Admit { surge });
                    }
                }
                Err(RedisCheck::Refused(e)) => return Err(e),
                Err(RedisCheck::Down(e)) => match settings.on_redis_error {
                    RedisFailure::Closed => {
                        metrics::counter!("commentguard_ratelimit_fail_closed_total").increment(1);
                        // The cause (Redis' text) is logged, never sent: the client learns only that nothing was stored.
                        tracing::warn!(site, cause = %e, "rate limits cannot be checked: failing closed");
                        return Err(Error::Unavailable("rate limits cannot be checked; nothing was stored".into()));
                    }
                    RedisFailure::Open => {
                        metrics::counter!("commentguard_ratelimit_fail_open_total").increment(1);
                        // `both` limits already ran locally; the `redis` ones fall back to their local twins.
                        for kind in Kind::ORDER {
                            if let Some(limit) = &s.local[kind.index()]
                                && matches!(limit.spec().mode, crate::config::ratelimit::LimitMode::Redis)
                            {
                                check_local(limit, kind, &keys)?;
                            }
                        }
                        surge_local = s.surge.as_ref();
                    }
                },
            }
        }
        let surge = surge_local.is_some_and(|g| keys.get(Kind::Thread).is_some_and(|thread| g.check(thread)));
        Ok(Admission::Admit { surge })
    }

    fn is_exempt(&self, settings: &SiteSettings, id: &Identity<'_>, who: &Subject<'_>) -> bool {
        (!who.account_id.is_empty() && settings.exempt_accounts.contains(who.account_id))
            || id.ip.is_some_and(|ip| settings.exempt_ips.contains(ip))
    }

    /// One script call for every Redis limit of the request (and surge control, if it runs in Redis); `Ok(surge)`
    /// when every limit passed.
    async fn check_redis(&self, site: &str, s: &SiteLimits, id: &Identity<'_>) -> Result<bool, RedisCheck> {
        let global = self.global.as_ref().ok_or_else(|| RedisCheck::Down("no limiter redis configured".into()))?;
        let mut kinds = Vec::with_capacity(Kind::ORDER.len());
        let mut cells = Vec::with_capacity(Kind::ORDER.len());
        let mut thread = None;
        for kind in Kind::ORDER {
            let Some(spec) = s.settings.limit(kind).filter(|l| l.mode.uses_redis()) else { continue };
            let Some(subject) = id.redis_subject(site, kind, &self.keys) else { continue };
            cells.push(cell(crate::store::keys::rate_limit(site, kind.name(), &subject), spec));
            kinds.push((kind, *spec));
            if kind == Kind::Thread {
                thread = Some(subject);
            }
        }
        let surge = s.settings.surge.filter(|g| g.mode.uses_redis()).map(|spec| {
            // The thread's pseudonym, computed once for both the thread limit and surge control.
            let thread = thread.unwrap_or_else(|| id.redis_subject(site, Kind::Thread, &self.keys).unwrap_or_default());
            SurgeCell {
                rate: cell(crate::store::keys::rate_limit(site, "surge", &thread), &spec),
                marker: crate::store::keys::rate_limit(site, "surge-hold", &thread),
                cooldown: s.settings.surge_cooldown,
            }
        });
        if cells.is_empty() && surge.is_none() {
            // e.g. only the author limit is in Redis and this is a guest: nothing to ask.
            return Ok(false);
        }
        match global.check(&cells, surge.as_ref()).await.map_err(|e| RedisCheck::Down(e.to_string()))? {
            Outcome::Refused { index, wait } => {
                let (kind, spec) = kinds.get(index).copied().ok_or_else(|| RedisCheck::Down("bad index".into()))?;
                Err(RedisCheck::Refused(refusal(kind, &spec, wait)))
            }
            Outcome::Pass { surge } => Ok(surge),
        }
    }

    /// Runs [`housekeeping`] over the sites `sites()` returns every `every` until the task is aborted.
    pub fn spawn_housekeeping<F>(sites: F, every: Duration) -> tokio::task::JoinHandle<()>
    where
        F: Fn() -> Vec<Arc<SiteLimits>> + Send + 'static,
    {
        tokio::spawn(async move {
            let mut ticker = tokio::time::interval(every);
            ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            ticker.tick().await;
            loop {
                ticker.tick().await;
                let sites = sites();
                // Retaining walks every shard of every limiter: off the async workers.
                if tokio::task::spawn_blocking(move || housekeeping(&sites)).await.is_err() {
                    return;
                }
            }
        })
    }
}

/// A Redis check that did not pass.
enum RedisCheck {
    Refused(Error),
    Down(String),
}

fn check_local(limit: &Keyed, kind: Kind, keys: &LocalKeys) -> Result<(), Error> {
    let Some(key) = keys.get(kind) else { return Ok(()) };
    limit.check(key).map_err(|wait| refusal(kind, limit.spec(), wait))
}

fn cell(key: String, spec: &Spec) -> Cell {
    Cell { key, interval: spec.interval, tolerance: spec.tolerance() }
}

fn refusal(kind: Kind, spec: &Spec, wait: Duration) -> Error {
    metrics::counter!("commentguard_ratelimit_refusals_total", "limit" => kind.name()).increment(1);
    Error::ResourceExhausted { limit: kind.name(), description: spec.describe(kind), retry_after: wait }
}

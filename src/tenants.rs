//! Sites and moderators compiled from the config: key hashes decoded, word lists compiled, policies and rate limits
//! resolved. One immutable `Tenants` value serves all requests; SIGHUP builds a new one and swaps it in atomically,
//! so a request sees either the old configuration or the new one, never a mix — a site's limits included.

use crate::analysis::Rules;
use crate::config::{Config, Role};
use crate::policy::SitePolicy;
use crate::ratelimit::{Limiter, SiteLimits};
use std::collections::{HashMap, HashSet};
use std::sync::Arc;

/// One host site.
#[derive(Debug)]
pub struct Site {
    pub id: String,
    /// SHA-256 of each valid API key.
    pub key_hashes: Vec<[u8; 32]>,
    pub rules: Rules,
    pub policy: SitePolicy,
    pub max_body_bytes: usize,
    pub retention_ms: u64,
    /// Moderators' decisions teach this site's spam model.
    pub spam_learning: bool,
    /// Moderators' approvals and abuse rejections teach this site's abuse model.
    pub abuse_learning: bool,
    /// The site's own abuse classifier, if it configured one (kept across reloads while its table is unchanged, so
    /// its concurrency cap and connections carry over).
    pub abuse_hook: Option<Arc<crate::abuse_hook::Hook>>,
    /// 0: no near-copy check.
    pub duplicate_window_ms: u64,
    pub report_hide_threshold: u32,
    pub max_lease_ms: u64,
    /// Bans, rate limits, flood and surge control, with their state (kept across reloads while unchanged).
    pub limits: Arc<SiteLimits>,
}

/// One moderator and the sites they may review.
#[derive(Debug)]
pub struct Moderator {
    pub id: String,
    pub token_hash: [u8; 32],
    pub sites: HashSet<String>,
    pub role: Role,
}

#[derive(Debug, Default)]
pub struct Tenants {
    pub sites: Vec<Arc<Site>>,
    by_id: HashMap<String, Arc<Site>>,
    pub moderators: Vec<Arc<Moderator>>,
}

impl Tenants {
    /// Compiles a validated config. Hashes were checked by `Config::validate`, so decoding cannot fail here; a
    /// malformed one would simply never match. `previous` (on reload) hands each site's unchanged limits their state.
    pub fn compile(config: &Config, limiter: &Limiter, previous: Option<&Tenants>) -> Tenants {
        // `Config::validate` already loaded the model once, so a failure here means the file changed since; the
        // shipped base model is then the safe choice, and the error is logged.
        let model =
            config.spam.model_path.as_ref().and_then(|path| match crate::analysis::spam::SpamModel::load(path) {
                Ok(m) => Some(Arc::new(m)),
                Err(e) => {
                    tracing::error!(path = %path.display(), error = %e, "spam model unreadable; using the base model");
                    None
                }
            });
        let sites: Vec<Arc<Site>> = config
            .sites
            .iter()
            .map(|s| {
                Arc::new(Site {
                    id: s.id.clone(),
                    key_hashes: s.api_key_sha256.iter().filter_map(|h| decode_hash(h)).collect(),
                    rules: match &model {
                        Some(m) => Rules::from_policy(&s.policy, &s.default_region).with_spam_model(m.clone()),
                        None => Rules::from_policy(&s.policy, &s.default_region),
                    },
                    policy: SitePolicy::from_config(&s.policy),
                    max_body_bytes: s.policy.max_body_bytes,
                    retention_ms: u64::from(s.policy.retention_days) * 86_400_000,
                    spam_learning: s.policy.spam_learning,
                    abuse_learning: s.policy.abuse.learning,
                    abuse_hook: s.policy.abuse.external.as_ref().and_then(|e| {
                        let previous = previous.and_then(|t| t.site(&s.id)).and_then(|p| p.abuse_hook.clone());
                        match previous {
                            Some(h) if h.config == *e => Some(h),
                            _ => crate::abuse_hook::Hook::new(e).map(Arc::new),
                        }
                    }),
                    duplicate_window_ms: u64::from(s.policy.duplicate_window_secs) * 1000,
                    report_hide_threshold: s.policy.report_hide_threshold,
                    max_lease_ms: u64::from(s.policy.max_lease_secs) * 1000,
                    limits: limiter.compile(&s.policy, previous.and_then(|t| t.site(&s.id)).map(|p| p.limits.as_ref())),
                })
            })
            .collect();
        let by_id = sites.iter().map(|s| (s.id.clone(), s.clone())).collect();
        let moderators = config
            .moderators
            .iter()
            .filter_map(|m| {
                Some(Arc::new(Moderator {
                    id: m.id.clone(),
                    token_hash: decode_hash(&m.token_sha256)?,
                    sites: m.sites.iter().cloned().collect(),
                    role: m.role,
                }))
            })
            .collect();
        Tenants { sites, by_id, moderators }
    }

    pub fn site(&self, id: &str) -> Option<&Arc<Site>> {
        self.by_id.get(id)
    }

    /// For commands that never rate-limit (`check`, `model`): the limits are compiled on a local-only engine that
    /// nothing consults.
    pub fn offline(config: &Config) -> anyhow::Result<Tenants> {
        let keys = crate::pseudonym::Pseudonymizer::new(b"offline");
        let limiter = Limiter::new(&Config::default(), keys, crate::ratelimit::RateClock::monotonic())?;
        Ok(Tenants::compile(config, &limiter, None))
    }

    /// Every site's limits (for housekeeping).
    pub fn limits(&self) -> Vec<Arc<SiteLimits>> {
        self.sites.iter().map(|s| s.limits.clone()).collect()
    }
}

fn decode_hash(h: &str) -> Option<[u8; 32]> {
    let mut out = [0u8; 32];
    hex::decode_to_slice(h, &mut out).ok()?;
    Some(out)
}

//! Online learning: each site's spam and abuse models learn from its own moderators' decisions (DESIGN §5,
//! "feedback loop without coupling").
//!
//! ```text
//! Decide ─► cg:{site}:feedback ─► learner (any replica) ─► delta v+1 in the store ─► every replica reloads
//!           (review writes it)     claim, fold, commit+ack    (store::learning)       base + delta → Models
//! ```
//!
//! * **Learner** ([`learner::learn`]): every `spam.learn_interval_ms`, for each site that learns, claims a batch of
//!   feedback through the store's consumer group, folds the approved (ham) and rejected-as-spam comments into the
//!   site's delta — featurised exactly as scoring does (`fit::counts_of_bodies`) — and commits the new delta with
//!   the acknowledgement of that batch. Approvals and abuse rejections (`abuse:<category>`) are folded into the
//!   abuse counts of the same delta (`analysis::abuse::learned`; one blob, [`delta`], so one version, snapshot and
//!   revert cover both models). Plain rejections (off-topic) teach nothing and are only acknowledged. Any replica
//!   may learn any site: the store makes each entry count once.
//! * **Reloader** ([`learner::reload`]): every `spam.reload_interval_ms`, each replica compares each site's delta
//!   version with the one it holds and, when it changed, builds base + delta (and the abuse adjustment) and swaps
//!   them into [`Models`]. Scoring reads the swapped-in models: no store round trip per comment, let alone per
//!   token.
//!
//! Invariants:
//! * **Tenancy.** A site's delta holds only its own feedback; its model is its base plus its own delta.
//! * **The base is never changed.** The calibration stays the base model's; a delta only adds counts, so a revert
//!   (to a snapshot, or to version 0: the base alone) restores exactly the earlier scores — abuse scores included
//!   (empty abuse counts score exactly as the base detector).
//! * **Bounded.** A delta past `spam.max_delta_features` drops the features it saw only once.

pub mod delta;
pub mod learner;

use crate::analysis::abuse::learned::Learned as LearnedAbuse;
use crate::analysis::spam::SpamModel;
use crate::config::SpamConfig;
use crate::store::ModelStore;
use crate::tenants::Site;
use crate::tenants::Tenants;
use arc_swap::ArcSwap;
use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

/// A site's model with what it learned.
#[derive(Debug)]
pub struct Learned {
    /// The delta version it includes.
    pub version: u64,
    /// The base it was built on: a reload of the configuration may bring another.
    pub base: Arc<SpamModel>,
    pub model: Arc<SpamModel>,
    /// The abuse adjustment of the same version (independent of the spam base).
    pub abuse: Arc<LearnedAbuse>,
}

/// The abuse adjustment of a site that learned nothing yet: shared, so the hot path allocates nothing for it.
static NOTHING_LEARNED: std::sync::LazyLock<Arc<LearnedAbuse>> = std::sync::LazyLock::new(Arc::default);

/// What a site's comments are scored with.
#[derive(Debug, Clone)]
pub struct SiteModels {
    pub spam: Arc<SpamModel>,
    pub abuse: Arc<LearnedAbuse>,
}

impl SiteModels {
    /// The site's configured spam model and no learned abuse adjustment (`commentguard check`: no store to learn
    /// from).
    pub fn base(site: &Site) -> SiteModels {
        SiteModels { spam: site.rules.spam_model.clone(), abuse: NOTHING_LEARNED.clone() }
    }
}

/// The learned models of this process's sites, swapped whole per site; reads never block.
#[derive(Debug, Default)]
pub struct Models {
    by_site: ArcSwap<HashMap<String, Arc<Learned>>>,
}

impl Models {
    /// The models to score a site's comments with: its learned spam model when one was built on the site's current
    /// base, else the base; its learned abuse adjustment, if any.
    pub fn for_site(&self, site: &Site) -> SiteModels {
        match self.by_site.load().get(&site.id) {
            Some(l) => SiteModels {
                spam: if Arc::ptr_eq(&l.base, &site.rules.spam_model) {
                    l.model.clone()
                } else {
                    site.rules.spam_model.clone()
                },
                abuse: l.abuse.clone(),
            },
            None => SiteModels::base(site),
        }
    }

    /// What the process holds for a site.
    pub fn learned(&self, site: &str) -> Option<Arc<Learned>> {
        self.by_site.load().get(site).cloned()
    }

    fn install(&self, site: &str, learned: Learned) {
        let learned = Arc::new(learned);
        self.by_site.rcu(|map| {
            let mut map = HashMap::clone(map);
            map.insert(site.to_string(), learned.clone());
            map
        });
    }
}

/// `[spam]` settings the loops need.
#[derive(Debug, Clone)]
pub struct Settings {
    pub learn: bool,
    pub learn_interval: Duration,
    pub reload_interval: Duration,
    pub claim_timeout_ms: u64,
    pub snapshot_every_ms: u64,
    pub keep_snapshots: usize,
    pub max_delta_features: usize,
}

impl Settings {
    pub fn from_config(c: &SpamConfig) -> Settings {
        Settings {
            learn: c.learn,
            learn_interval: Duration::from_millis(c.learn_interval_ms),
            reload_interval: Duration::from_millis(c.reload_interval_ms),
            claim_timeout_ms: c.feedback_claim_timeout_ms,
            snapshot_every_ms: c.snapshot_every_secs.saturating_mul(1000),
            keep_snapshots: c.keep_snapshots,
            max_delta_features: c.max_delta_features,
        }
    }
}

/// Runs the learner and the reloader until aborted. Store errors are logged and retried at the next tick: learning
/// is never on a request's path.
pub fn spawn(
    tenants: Arc<ArcSwap<Tenants>>,
    store: Arc<dyn ModelStore>,
    models: Arc<Models>,
    settings: Settings,
) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let consumer = learner::consumer_name();
        let mut learn_tick = tokio::time::interval(settings.learn_interval);
        let mut reload_tick = tokio::time::interval(settings.reload_interval);
        for tick in [&mut learn_tick, &mut reload_tick] {
            tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        }
        // A store outage fails every tick: warn once per outage, not once per tick and site.
        let mut failing = false;
        loop {
            let mut errors = Vec::new();
            tokio::select! {
                _ = learn_tick.tick(), if settings.learn => {
                    let sites = tenants.load().sites.clone();
                    for site in sites.iter().filter(|s| s.spam_learning || s.abuse_learning) {
                        let learns = learner::Learns::of(site);
                        if let Err(e) = learner::learn(store.as_ref(), &site.id, learns, &consumer, &settings).await {
                            errors.push((site.id.clone(), "learning from moderator feedback failed", e));
                        }
                    }
                }
                _ = reload_tick.tick() => {
                    let sites = tenants.load().sites.clone();
                    for site in sites.iter() {
                        if let Err(e) = learner::reload(store.as_ref(), site, &models).await {
                            errors.push((site.id.clone(), "reloading the learned models failed", e));
                        }
                    }
                }
            }
            for (site, what, error) in &errors {
                if failing {
                    tracing::debug!(site, %error, "{what}");
                } else {
                    tracing::warn!(site, %error, "{what}");
                }
            }
            failing = !errors.is_empty();
        }
    })
}

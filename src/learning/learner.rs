//! One learning step and one reload step for one site (see the module docs of `learning`).

use super::delta::Delta;
use super::{Learned, Models, Settings};
use crate::analysis::abuse::Category;
use crate::analysis::abuse::learned::{self as abuse_learned, Label, LearnedCounts};
use crate::analysis::spam::fit;
use crate::store::learning::{CommitOutcome, ModelCommit};
use crate::store::{ModelStore, StoreError};
use crate::tenants::Site;
use rand::Rng;
use std::sync::Arc;

/// Feedback entries folded per commit.
pub const BATCH: usize = 256;

/// Commits refused because another learner (or a revert) moved the version first, before giving the batch up to the
/// next tick.
const ATTEMPTS: usize = 5;

/// This process's name in the learner group: unique per process, so a restarted replica's unfinished batch is taken
/// over after the claim timeout rather than assumed still its own.
pub fn consumer_name() -> String {
    format!("learner-{}-{:08x}", std::process::id(), rand::rng().random::<u32>())
}

/// Which of a site's models learn from its feedback (`policy.spam_learning`, `policy.abuse.learning`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Learns {
    pub spam: bool,
    pub abuse: bool,
}

impl Learns {
    pub fn of(site: &Site) -> Learns {
        Learns { spam: site.spam_learning, abuse: site.abuse_learning }
    }
}

/// What a feedback label teaches the abuse model: approvals and abuse rejections of a known category.
fn abuse_label(label: &str) -> Option<Label> {
    match label {
        "ham" => Some(Label::Approved),
        _ => label.strip_prefix("abuse:").and_then(Category::from_name).map(Label::Abuse),
    }
}

/// Learns one batch of the site's feedback; returns how many entries were acknowledged (0: nothing new). Entries a
/// model does not learn from (a plain reject, or a model the site switched off) are acknowledged all the same.
pub async fn learn(
    store: &dyn ModelStore,
    site: &str,
    learns: Learns,
    consumer: &str,
    s: &Settings,
) -> Result<usize, StoreError> {
    let entries = store.claim_feedback(site, consumer, BATCH, s.claim_timeout_ms).await?;
    if entries.is_empty() {
        return Ok(0);
    }
    let spam_examples: Vec<(&str, bool)> = entries
        .iter()
        .filter(|_| learns.spam)
        .filter_map(|(_, f)| match f.label.as_str() {
            "ham" => Some((f.text.as_str(), false)),
            "spam" => Some((f.text.as_str(), true)),
            _ => None,
        })
        .collect();
    let abuse_examples: Vec<(&str, Label)> = entries
        .iter()
        .filter(|_| learns.abuse)
        .filter_map(|(_, f)| Some((f.text.as_str(), abuse_label(&f.label)?)))
        .collect();
    // Featurising is the expensive part and does not depend on the delta: once per batch, outside the retries.
    let learned_spam = fit::counts_of_bodies(spam_examples.iter().copied());
    let learned_abuse = LearnedCounts::from_examples(abuse_examples.iter().copied());
    let acked: Vec<String> = entries.iter().map(|(id, _)| id.clone()).collect();
    for _ in 0..ATTEMPTS {
        let current = store.model_delta(site).await?;
        // A delta this build cannot read is never overwritten: an operator must look (or revert).
        let mut delta = Delta::from_bytes(&current.bytes).map_err(unreadable)?;
        delta.spam.add(&learned_spam);
        if delta.spam.entries.len() > s.max_delta_features {
            delta.spam.prune(2);
        }
        delta.abuse.add(&learned_abuse);
        if delta.abuse.entries.len() > s.max_delta_features {
            delta.abuse.prune(2);
        }
        let commit = ModelCommit {
            base_version: current.version,
            bytes: delta.to_bytes(),
            consumer: consumer.to_string(),
            acked: acked.clone(),
            docs: delta.spam.docs,
            snapshot_every_ms: s.snapshot_every_ms,
            keep_snapshots: s.keep_snapshots,
        };
        match store.commit_model(site, commit).await? {
            CommitOutcome::Committed(version) => {
                for (label, n) in [("ham", learned_spam.docs[0]), ("spam", learned_spam.docs[1])] {
                    metrics::counter!("commentguard_spam_feedback_learned_total", "label" => label).increment(n);
                }
                for (i, label) in
                    ["approved", "threat", "identity_attack", "insult", "sexual", "profanity"].into_iter().enumerate()
                {
                    let n = learned_abuse.docs[i];
                    metrics::counter!("commentguard_abuse_feedback_learned_total", "label" => label).increment(n);
                }
                tracing::info!(site, version, entries = acked.len(), "learned from moderator feedback");
                return Ok(acked.len());
            }
            CommitOutcome::Conflict => continue,
            // Another learner took the batch over (we were too slow); it will learn it.
            CommitOutcome::Stale => return Ok(0),
        }
    }
    // Still ours: retried at the next tick or taken over after the claim timeout.
    Ok(0)
}

/// Rebuilds the site's model when its delta version (or its base) changed; returns whether it did.
pub async fn reload(store: &dyn ModelStore, site: &Site, models: &Models) -> Result<bool, StoreError> {
    let version = store.model_version(&site.id).await?;
    let base = &site.rules.spam_model;
    let current = models.learned(&site.id);
    let up_to_date = match &current {
        Some(l) => l.version == version && Arc::ptr_eq(&l.base, base),
        None => version == 0,
    };
    if up_to_date {
        return Ok(false);
    }
    let stored = store.model_delta(&site.id).await?;
    let delta = Delta::from_bytes(&stored.bytes).map_err(unreadable)?;
    let model = if delta.spam == Default::default() { base.clone() } else { Arc::new(base.with_delta(&delta.spam)) };
    let abuse = Arc::new(abuse_learned::Learned::new(&delta.abuse));
    tracing::info!(site = %site.id, version = stored.version, "learned models loaded");
    metrics::gauge!("commentguard_spam_model_version", "site" => site.id.clone()).set(stored.version as f64);
    models.install(&site.id, Learned { version: stored.version, base: base.clone(), model, abuse });
    Ok(true)
}

fn unreadable(e: crate::analysis::spam::codec::ModelError) -> StoreError {
    StoreError::not_applied(format!("learned model delta: {e}"))
}

//! One learning step and one reload step for one site (see the module docs of `learning`).

use super::{Learned, Models, Settings};
use crate::analysis::spam::SpamModel;
use crate::analysis::spam::fit;
use crate::analysis::spam::model::Counts;
use crate::store::learning::{CommitOutcome, ModelCommit};
use crate::store::{Store, StoreError};
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

/// Learns one batch of the site's feedback; returns how many entries were acknowledged (0: nothing new).
pub async fn learn(store: &dyn Store, site: &str, consumer: &str, s: &Settings) -> Result<usize, StoreError> {
    let entries = store.claim_feedback(site, consumer, BATCH, s.claim_timeout_ms).await?;
    if entries.is_empty() {
        return Ok(0);
    }
    let examples: Vec<(&str, bool)> = entries
        .iter()
        .filter_map(|(_, f)| match f.label.as_str() {
            "ham" => Some((f.text.as_str(), false)),
            "spam" => Some((f.text.as_str(), true)),
            _ => None,
        })
        .collect();
    // Featurising is the expensive part and does not depend on the delta: once per batch, outside the retries.
    let learned = fit::counts_of_bodies(examples.iter().copied());
    let acked: Vec<String> = entries.iter().map(|(id, _)| id.clone()).collect();
    for _ in 0..ATTEMPTS {
        let current = store.model_delta(site).await?;
        // A delta this build cannot read is never overwritten: an operator must look (or revert).
        let mut delta = Counts::from_bytes_or_empty(&current.bytes).map_err(unreadable)?;
        delta.add(&learned);
        if delta.entries.len() > s.max_delta_features {
            delta.prune(2);
        }
        let commit = ModelCommit {
            base_version: current.version,
            bytes: delta.to_bytes(),
            consumer: consumer.to_string(),
            acked: acked.clone(),
            docs: delta.docs,
            snapshot_every_ms: s.snapshot_every_ms,
            keep_snapshots: s.keep_snapshots,
        };
        match store.commit_model(site, commit).await? {
            CommitOutcome::Committed(version) => {
                for (label, n) in [("ham", learned.docs[0]), ("spam", learned.docs[1])] {
                    metrics::counter!("commentguard_spam_feedback_learned_total", "label" => label).increment(n);
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
pub async fn reload(store: &dyn Store, site: &Site, models: &Models) -> Result<bool, StoreError> {
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
    let delta = store.model_delta(&site.id).await?;
    let model = if delta.bytes.is_empty() {
        base.clone()
    } else {
        Arc::new(with_delta(base, &Counts::from_bytes(&delta.bytes).map_err(unreadable)?))
    };
    tracing::info!(site = %site.id, version = delta.version, "learned spam model loaded");
    metrics::gauge!("commentguard_spam_model_version", "site" => site.id.clone()).set(delta.version as f64);
    models.install(&site.id, Learned { version: delta.version, base: base.clone(), model });
    Ok(true)
}

fn unreadable(e: crate::analysis::spam::codec::ModelError) -> StoreError {
    StoreError(format!("learned spam model delta: {e}"))
}

/// The base model with a site's learned counts added; the calibration stays the base's.
pub fn with_delta(base: &SpamModel, delta: &Counts) -> SpamModel {
    let mut counts = base.counts().clone();
    counts.add(delta);
    SpamModel::new(counts, *base.calibration())
}

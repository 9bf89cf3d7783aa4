//! Training: counts from labelled comments, and a calibration fitted on out-of-fold scores. Pure: the caller
//! reads files (`crate::commands::train`, `tests/spam_eval.rs`).
//!
//! # Procedure
//!
//! 1. Every comment is prepared once ([`Prepared`]): normalised, its feature set and its rule inputs computed.
//! 2. Comments carry a *group* (a YouTube video; a hash fold for JSON Lines). For each group, a model of the
//!    starting counts plus every OTHER group's comments scores that group's comments, so each comment's Bayes inputs
//!    come from a model that never saw it — as in production.
//! 3. The calibration is fitted (`combine::fit`) on those held-out inputs, pulled towards the starting model's
//!    calibration (or `combine::PRIOR`). With fewer than [`MIN_PER_CLASS`] comments of either class, or a single
//!    group, the starting calibration is kept: too little data to learn weights from.
//! 4. The result is the starting counts plus every comment's counts, with that calibration.
//!
//! Deterministic: the same comments in the same order give the same model, byte for byte.

use super::combine::{self, Calibration, N, PRIOR};
use super::model::{Counts, SpamModel};
use super::{signals, tokens};
use crate::analysis::normalize::Normalized;

/// Fewest comments per class for the calibration to be refitted.
pub const MIN_PER_CLASS: usize = 30;

/// One comment, analysed once for training.
#[derive(Debug, Clone)]
pub struct Prepared {
    /// Distinct feature keys.
    pub features: Vec<u64>,
    /// Rule inputs (Bayes slots 0).
    pub rules: [f64; N],
}

impl Prepared {
    pub fn new(body: &str) -> Prepared {
        let norm = Normalized::new(body);
        let scan = signals::scan(body, &norm, "", crate::analysis::domains::DomainLists::empty());
        let mut features = Vec::new();
        tokens::feature_set(&tokens::without(norm.as_str(), &scan.link_ranges), &mut features);
        Prepared { features, rules: scan.x }
    }

    /// The combination inputs under `model`.
    pub fn inputs(&self, model: &SpamModel) -> [f64; N] {
        let mut x = self.rules;
        combine::bayes_inputs(&model.evidence(&self.features), &mut x);
        x
    }

    /// The text probability under `model` (what `spam::text_score` gives for the same body).
    pub fn probability(&self, model: &SpamModel) -> f64 {
        combine::sigmoid(model.calibration().logit(&self.inputs(model)))
    }
}

/// A labelled, prepared comment.
#[derive(Debug, Clone, Copy)]
pub struct Item<'a> {
    pub prepared: &'a Prepared,
    pub spam: bool,
    pub group: u32,
}

/// Trains a model on `items`, on top of `start` (counts added, calibration refitted; see the module docs), then
/// drops features seen in fewer than `min_count` comments (1 keeps everything).
pub fn train(items: &[Item<'_>], start: Option<&SpamModel>, min_count: u32) -> SpamModel {
    let base_counts = start.map(|m| m.counts().clone()).unwrap_or_default();
    let prior = start.map_or(PRIOR, |m| *m.calibration());
    let calibration = refit(items, &base_counts, &prior).unwrap_or(prior);
    let mut counts = base_counts;
    counts.add(&counts_of(items.iter()));
    if min_count > 1 {
        counts.prune(min_count);
    }
    SpamModel::new(counts, calibration)
}

/// The held-out inputs of every item (in `items` order), or `None` when there is too little data to refit.
pub fn held_out_inputs(items: &[Item<'_>], base: &Counts) -> Option<Vec<[f64; N]>> {
    let spam = items.iter().filter(|i| i.spam).count();
    if spam < MIN_PER_CLASS || items.len() - spam < MIN_PER_CLASS {
        return None;
    }
    let mut groups: Vec<u32> = items.iter().map(|i| i.group).collect();
    groups.sort_unstable();
    groups.dedup();
    if groups.len() < 2 {
        return None;
    }
    let mut xs = vec![[0.0; N]; items.len()];
    for g in groups {
        let mut counts = base.clone();
        counts.add(&counts_of(items.iter().filter(|i| i.group != g)));
        let model = SpamModel::new(counts, PRIOR);
        for (x, item) in xs.iter_mut().zip(items).filter(|(_, i)| i.group == g) {
            *x = item.prepared.inputs(&model);
        }
    }
    Some(xs)
}

fn refit(items: &[Item<'_>], base: &Counts, prior: &Calibration) -> Option<Calibration> {
    let xs = held_out_inputs(items, base)?;
    let ys: Vec<bool> = items.iter().map(|i| i.spam).collect();
    Some(combine::fit(&xs, &ys, prior))
}

/// The counts of labelled comments, featurised exactly as scoring does (links removed): what a site's online
/// learning adds to its delta. Counts only; the calibration stays the base model's.
pub fn counts_of_bodies<'a>(examples: impl IntoIterator<Item = (&'a str, bool)>) -> Counts {
    let prepared: Vec<(Prepared, bool)> = examples.into_iter().map(|(b, spam)| (Prepared::new(b), spam)).collect();
    Counts::from_feature_sets(prepared.iter().map(|(p, spam)| (p.features.as_slice(), *spam)))
}

fn counts_of<'a, 'b: 'a>(items: impl Iterator<Item = &'a Item<'b>>) -> Counts {
    Counts::from_feature_sets(items.map(|i| (i.prepared.features.as_slice(), i.spam)))
}

/// A stable fold number in `0..k` for a comment without a natural group (JSON Lines input).
pub fn hash_group(body: &str, k: u32) -> u32 {
    let h = body.bytes().fold(0xcbf2_9ce4_8422_2325u64, |h, b| (h ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01b3));
    (tokens::fmix64(h) % u64::from(k.max(1))) as u32
}

#[cfg(test)]
mod tests {
    use super::*;

    fn corpus() -> Vec<(String, bool)> {
        let mut v = Vec::new();
        for i in 0..40 {
            v.push((format!("check out my channel number {i} and subscribe"), true));
            v.push((format!("free gift cards at my website {i} click the link"), true));
            v.push((format!("this song reminds me of summer {i}"), false));
            v.push((format!("love the beat, watching again in year {i}"), false));
        }
        v
    }

    #[test]
    fn trains_a_model_that_separates_the_classes() {
        let data = corpus();
        let prepared: Vec<Prepared> = data.iter().map(|(b, _)| Prepared::new(b)).collect();
        let items: Vec<Item<'_>> = prepared
            .iter()
            .zip(&data)
            .map(|(p, (b, s))| Item { prepared: p, spam: *s, group: hash_group(b, 5) })
            .collect();
        let m = train(&items, None, 1);
        assert!(Prepared::new("please check out my channel").probability(&m) > 0.7);
        assert!(Prepared::new("this song is summer").probability(&m) < 0.3);
        // Deterministic.
        assert_eq!(train(&items, None, 1).to_bytes(), m.to_bytes());
    }

    #[test]
    fn too_little_data_keeps_the_prior() {
        let p = Prepared::new("buy now");
        let items = [Item { prepared: &p, spam: true, group: 0 }];
        assert_eq!(*train(&items, None, 1).calibration(), PRIOR);
    }
}

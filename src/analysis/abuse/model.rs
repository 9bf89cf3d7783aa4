//! From features to calibrated scores: one small logistic model per category.
//!
//! # Features
//!
//! Structure analysis ([`super::structure`]) turns every abusive term it finds into a *candidate* with the features
//! of [`Features`]; a category's score is the model's probability for its strongest candidate, with the number of
//! candidates as one more feature. All features are in 0..1 except `count` (ln of the number of candidates).
//!
//! # Weights
//!
//! [`AbuseModel::BASE`] holds hand-set weights, checked against the project's dev corpus
//! (`tests/fixtures/abuse/corpus.jsonl`; the held-out file was never used to set anything) so that a score of 0.5
//! separates what a news site's moderators would hold from what they would let through: [`HOLD`] is the one
//! threshold, fixed for every category. Reading a row: a severe term (`severity` 1) inside a clear structure
//! (`structure` 1) aimed at a target (`target` 1) is far above 0.5; the same words negated, quoted or reported, or in
//! news about violence, fall below it; a word alone stays below it except for severe profanity.
//!
//! `tests/abuse_eval.rs` (`refit_on_the_dev_corpus`) fits the same logistic form on the dev corpus with [`fit`] and
//! prints the result: it reaches the same dev figures with about twice as steep weights, because the corpus is
//! almost separable by structure alone. The shipped weights stay the gentler hand-set ones — the same decisions at
//! 0.5, with scores that do not saturate on evidence the corpus never varied.
//!
//! # Per-site adjustment
//!
//! A site's moderators will teach their own adjustment (not built yet): an [`AbuseModel`] is plain data — weights
//! per category plus a per-category `shift` of the log-odds — so a learned model is a copy of the base with other
//! numbers, passed to [`super::scan_with`]. The features are public ([`super::assess`]) so a learner can fit on
//! them.

use super::Category;

/// A score at or above this means "would hold by default", for every category.
pub const HOLD: f64 = 0.5;

/// Number of features of a candidate.
pub const N_FEATURES: usize = 7;

/// What structure analysis saw around one abusive term (see the module docs).
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct Features {
    /// The term's severity: 1/3 mild, 2/3 clear, 1 severe.
    pub severity: f64,
    /// How clearly the words form the category's pattern: 1 for a target and an insult side by side ("you idiot"),
    /// a first person's stated intent and a target around a violent verb ("I will kill you"), a group and a
    /// dehumanising noun ("X are animals"); less for looser co-occurrence; a little for the word alone.
    pub structure: f64,
    /// Strength of the target: the reader ("you", "tum"), a group, a person ("the author"), a pronoun.
    pub target: f64,
    /// A negation governs the term ("you are not an idiot", "I would never hurt you").
    pub negated: f64,
    /// The term is quoted, reported or condemned rather than used ("he said 'I will kill you', I reported it",
    /// "calling him a traitor is wrong"): 1 in its clause or quotes, 0.6 in its sentence, 0.3 elsewhere.
    pub mention: f64,
    /// News about violence: "police", "attacker", "killed" in the sentence (1) or the comment (0.3).
    pub news: f64,
    /// ln(number of candidates of the category): repetition adds a little.
    pub count: f64,
}

impl Features {
    pub fn to_array(&self) -> [f64; N_FEATURES] {
        [self.severity, self.structure, self.target, self.negated, self.mention, self.news, self.count]
    }
}

/// One category's logistic model.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Weights {
    pub bias: f64,
    /// In the order of [`Features::to_array`].
    pub w: [f64; N_FEATURES],
}

impl Weights {
    pub fn logit(&self, f: &Features) -> f64 {
        self.bias + self.w.iter().zip(f.to_array()).map(|(w, x)| w * x).sum::<f64>()
    }
}

/// Weights for every category, plus a per-category shift of the log-odds (0 in the base model; where a site's
/// learned adjustment goes).
#[derive(Debug, Clone, PartialEq)]
pub struct AbuseModel {
    /// Indexed by [`Category::index`].
    pub weights: [Weights; 5],
    pub shift: [f64; 5],
}

impl Default for AbuseModel {
    fn default() -> AbuseModel {
        AbuseModel::BASE
    }
}

impl AbuseModel {
    /// The shipped model. Feature order: severity, structure, target, negated, mention, news, count.
    pub const BASE: AbuseModel = AbuseModel {
        weights: [
            // threat
            Weights { bias: -5.0, w: [2.0, 4.0, 1.5, -4.0, -4.0, -2.5, 0.5] },
            // identity_attack
            Weights { bias: -4.3, w: [2.0, 4.0, 0.8, -3.5, -4.0, -2.0, 0.5] },
            // insult
            Weights { bias: -4.5, w: [1.0, 5.0, 0.5, -4.0, -3.5, -1.0, 0.4] },
            // sexual
            Weights { bias: -4.5, w: [2.5, 3.5, 0.5, -3.0, -3.0, -2.0, 0.4] },
            // profanity
            Weights { bias: -2.8, w: [4.5, 1.0, 0.5, -0.5, -0.3, 0.0, 0.5] },
        ],
        shift: [0.0; 5],
    };

    /// The log-odds of `category` for a candidate with features `f`.
    pub fn logit(&self, category: Category, f: &Features) -> f64 {
        let i = category.index();
        self.weights[i].logit(f) + self.shift[i]
    }

    /// The probability (0..1) of `category` for a candidate with features `f`.
    pub fn probability(&self, category: Category, f: &Features) -> f64 {
        sigmoid(self.logit(category, f))
    }
}

/// Signs the weights must keep, in feature order: evidence raises a score, context lowers it. A fit that wanted
/// otherwise is fitting noise.
pub const SIGNS: [f64; N_FEATURES] = [1.0, 1.0, 1.0, -1.0, -1.0, -1.0, 1.0];

/// Fits one category's weights to `samples` (features of a comment's best candidate, and whether the comment
/// belongs to the category) by logistic regression: batch gradient descent from `start` with an L2 penalty towards
/// `start`, negatives weighted `neg_weight` (above 1 trades recall for precision), weights kept to [`SIGNS`].
/// Pure; used offline to calibrate [`AbuseModel::BASE`] and meant for a site's learned adjustment.
pub fn fit(samples: &[(Features, bool)], start: Weights, epochs: usize, l2: f64, neg_weight: f64) -> Weights {
    let mut w = start;
    if samples.is_empty() {
        return w;
    }
    let rate = 0.5;
    let n: f64 = samples.iter().map(|(_, y)| if *y { 1.0 } else { neg_weight }).sum();
    for _ in 0..epochs {
        let mut gb = 0.0;
        let mut gw = [0.0; N_FEATURES];
        for (f, y) in samples {
            let x = f.to_array();
            let p = sigmoid(w.logit(f));
            let (err, weight) = if *y { (p - 1.0, 1.0) } else { (p, neg_weight) };
            gb += weight * err;
            for k in 0..N_FEATURES {
                gw[k] += weight * err * x[k];
            }
        }
        w.bias -= rate * (gb / n);
        for k in 0..N_FEATURES {
            let g = gw[k] / n + l2 * (w.w[k] - start.w[k]);
            w.w[k] -= rate * g;
            if w.w[k] * SIGNS[k] < 0.0 {
                w.w[k] = 0.0;
            }
        }
    }
    w
}

pub fn sigmoid(x: f64) -> f64 {
    if x.is_nan() { 0.5 } else { 1.0 / (1.0 + (-x).exp()) }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn structure_and_context_move_the_score_across_the_threshold() {
        let m = AbuseModel::BASE;
        let clear = Features { severity: 1.0, structure: 1.0, target: 1.0, ..Default::default() };
        for c in Category::ALL {
            assert!(m.probability(c, &clear) >= HOLD, "{c:?}");
        }
        let reported = Features { mention: 1.0, ..clear };
        for c in [Category::Threat, Category::IdentityAttack, Category::Insult, Category::Sexual] {
            assert!(m.probability(c, &reported) < HOLD, "{c:?}");
            assert!(m.probability(c, &Features { negated: 1.0, ..clear }) < HOLD, "{c:?}");
        }
        let word_alone = Features { severity: 1.0 / 3.0, ..Default::default() };
        for c in Category::ALL {
            assert!(m.probability(c, &word_alone) < HOLD, "{c:?}");
        }
        for w in &AbuseModel::BASE.weights {
            assert!(w.w.iter().zip(SIGNS).all(|(x, s)| x * s >= 0.0), "{w:?}");
        }
        let shifted = AbuseModel { shift: [-10.0; 5], ..AbuseModel::BASE };
        assert!(shifted.probability(Category::Threat, &clear) < 0.01);
        assert_eq!(sigmoid(f64::NAN), 0.5);
    }
}

#[cfg(test)]
mod fit_tests {
    use super::*;

    #[test]
    fn fitting_separates_and_keeps_the_signs() {
        // Structure decides the label; "mention" is noise that a free fit might weigh positively.
        let pos = Features { severity: 1.0, structure: 1.0, mention: 1.0, ..Default::default() };
        let neg = Features { severity: 1.0, structure: 0.0, ..Default::default() };
        let samples: Vec<(Features, bool)> =
            (0..20).map(|_| (pos, true)).chain((0..20).map(|_| (neg, false))).collect();
        let start = Weights { bias: 0.0, w: [0.0; N_FEATURES] };
        let w = fit(&samples, start, 2000, 0.0, 1.0);
        assert!(sigmoid(w.logit(&pos)) > 0.8 && sigmoid(w.logit(&neg)) < 0.2, "{w:?}");
        assert_eq!(w.w[4], 0.0, "mention may only lower a score");
        assert_eq!(fit(&[], start, 10, 0.0, 1.0), start);
    }
}

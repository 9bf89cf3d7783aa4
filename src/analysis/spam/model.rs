//! The statistical part of spam detection: naive Bayes over the presence of hashed features ([`tokens`]).
//!
//! # Why this Bayes
//!
//! *Binarised multinomial naive Bayes* (each feature counts once per comment), one log-likelihood ratio per feature
//! family — words, word bigrams, character 4-grams — handed to the logistic combination (`combine`) as separate
//! inputs. Reasons:
//!
//! * **Counts that add.** The model is nothing but per-feature document counts per class plus per-class totals, so a
//!   site's model is the base model plus that site's counts ([`Counts::add`]): moderators' decisions can later be
//!   folded in one comment at a time, and a site's delta can be kept, shipped and dropped on its own.
//! * **Short texts.** Presence rather than frequency is the better event model for short texts (Wang & Manning 2012,
//!   "Baselines and bigrams"), and it bounds what one comment repeating a word a thousand times can contribute.
//! * **Calibration happens later.** Naive Bayes sums are badly calibrated because the features are not independent
//!   (character n-grams overlap words). Rather than a Robinson/Fisher combiner, whose chi-square step has its own
//!   fixed idea of how evidence adds up, the per-family sums, scaled by `1/sqrt(n)` for length, go into a logistic
//!   regression fitted on held-out scores (see `combine`), which learns how much each family is worth and maps the
//!   result to a probability. The evaluation (`tests/spam_eval.rs`) prints a plain multinomial NB next to it.
//!
//! Smoothing is Lidstone with [`ALPHA`]; features the model has never seen contribute nothing (with unequal class
//! totals they would otherwise add a constant that depends on the comment's length, not its content).
//!
//! # Invariants
//!
//! * `Counts::entries` is sorted by key with unique keys; counts saturate rather than overflow.
//! * The scoring index is derived from the counts and rebuilt whenever they change ([`SpamModel::new`]); scoring
//!   never allocates and costs one hash-table probe per distinct feature.

use super::combine::Calibration;
use super::tokens::{self, FAMILIES};
use std::collections::HashMap;

/// Index of the ham class in count pairs.
pub const HAM: usize = 0;
/// Index of the spam class in count pairs.
pub const SPAM: usize = 1;

/// Lidstone smoothing constant.
pub const ALPHA: f64 = 0.1;

/// One feature's document counts, `[ham, spam]`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Entry {
    pub key: u64,
    pub counts: [u32; 2],
}

/// Training counts: additive, so a site's delta over the base model is another `Counts` added to it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Counts {
    /// Comments seen, `[ham, spam]`.
    pub docs: [u64; 2],
    /// Per family, the sum of the entries' counts, `[ham, spam]`.
    pub totals: [[u64; 2]; FAMILIES],
    /// Sorted by key, keys unique.
    pub entries: Vec<Entry>,
}

impl Counts {
    /// Counts over documents given as sets of distinct feature keys ([`tokens::feature_set`]).
    pub fn from_feature_sets<'a>(docs: impl IntoIterator<Item = (&'a [u64], bool)>) -> Counts {
        let mut map: HashMap<u64, [u32; 2]> = HashMap::new();
        let mut counts = Counts::default();
        for (features, spam) in docs {
            let class = usize::from(spam);
            counts.docs[class] += 1;
            for &k in features {
                let c = map.entry(k).or_default();
                c[class] = c[class].saturating_add(1);
                counts.totals[tokens::family(k)][class] += 1;
            }
        }
        counts.entries = map.into_iter().map(|(key, counts)| Entry { key, counts }).collect();
        counts.entries.sort_unstable_by_key(|e| e.key);
        counts
    }

    /// Counts of normalised texts.
    pub fn from_texts<'a>(docs: impl IntoIterator<Item = (&'a str, bool)>) -> Counts {
        let sets: Vec<(Vec<u64>, bool)> = docs
            .into_iter()
            .map(|(t, spam)| {
                let mut v = Vec::new();
                tokens::feature_set(t, &mut v);
                (v, spam)
            })
            .collect();
        Counts::from_feature_sets(sets.iter().map(|(v, s)| (v.as_slice(), *s)))
    }

    /// Adds `other`'s counts to these (a site's delta onto the base, or a new batch of training data).
    pub fn add(&mut self, other: &Counts) {
        for c in 0..2 {
            self.docs[c] = self.docs[c].saturating_add(other.docs[c]);
            for f in 0..FAMILIES {
                self.totals[f][c] = self.totals[f][c].saturating_add(other.totals[f][c]);
            }
        }
        let (a, b) = (&self.entries, &other.entries);
        let mut merged = Vec::with_capacity(a.len() + b.len());
        let (mut i, mut j) = (0, 0);
        while i < a.len() && j < b.len() {
            let (x, y) = (a[i], b[j]);
            if x.key == y.key {
                let counts = [x.counts[0].saturating_add(y.counts[0]), x.counts[1].saturating_add(y.counts[1])];
                merged.push(Entry { key: x.key, counts });
                i += 1;
                j += 1;
            } else if x.key < y.key {
                merged.push(x);
                i += 1;
            } else {
                merged.push(y);
                j += 1;
            }
        }
        merged.extend_from_slice(&a[i..]);
        merged.extend_from_slice(&b[j..]);
        self.entries = merged;
    }

    /// Drops features seen in fewer than `min` comments overall (used to keep the shipped file small). The totals
    /// are reduced to match, so the remaining probabilities stay consistent.
    pub fn prune(&mut self, min: u32) {
        let totals = &mut self.totals;
        self.entries.retain(|e| {
            let keep = e.counts[0].saturating_add(e.counts[1]) >= min;
            if !keep {
                let f = tokens::family(e.key);
                totals[f][0] = totals[f][0].saturating_sub(u64::from(e.counts[0]));
                totals[f][1] = totals[f][1].saturating_sub(u64::from(e.counts[1]));
            }
            keep
        });
    }

    /// Whether both classes have been seen (otherwise the model cannot tell them apart).
    pub fn is_trained(&self) -> bool {
        self.docs[HAM] > 0 && self.docs[SPAM] > 0
    }
}

/// What the model says about one comment, per feature family.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Evidence {
    /// Sum of the log-likelihood ratios (spam over ham) of the known features.
    pub llr: [f64; FAMILIES],
    /// Distinct features of the comment, known or not.
    pub features: [u32; FAMILIES],
    /// Distinct features the model has seen.
    pub known: [u32; FAMILIES],
}

/// A spam model: counts, the calibration of the combination, and the derived scoring index.
pub struct SpamModel {
    counts: Counts,
    calibration: Calibration,
    index: Index,
}

impl std::fmt::Debug for SpamModel {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SpamModel")
            .field("docs", &self.counts.docs)
            .field("features", &self.counts.entries.len())
            .field("calibration", &self.calibration)
            .finish()
    }
}

impl SpamModel {
    /// A model from counts and a calibration; builds the scoring index.
    pub fn new(counts: Counts, calibration: Calibration) -> SpamModel {
        let index = Index::build(&counts);
        SpamModel { counts, calibration, index }
    }

    pub fn counts(&self) -> &Counts {
        &self.counts
    }

    pub fn calibration(&self) -> &Calibration {
        &self.calibration
    }

    /// This model with a site's learned counts added; the calibration stays this model's, so reverting the delta
    /// restores exactly the earlier scores.
    pub fn with_delta(&self, delta: &Counts) -> SpamModel {
        let mut counts = self.counts.clone();
        counts.add(delta);
        SpamModel::new(counts, self.calibration)
    }

    /// The model's evidence for a set of distinct feature keys.
    pub fn evidence(&self, features: &[u64]) -> Evidence {
        let mut ev = Evidence::default();
        for &k in features {
            let f = tokens::family(k);
            if f >= FAMILIES {
                continue;
            }
            ev.features[f] += 1;
            if let Some(w) = self.index.get(k) {
                ev.known[f] += 1;
                ev.llr[f] += f64::from(w);
            }
        }
        ev
    }

    /// The log-likelihood ratio of one feature key (0 when unknown).
    pub fn llr(&self, key: u64) -> f64 {
        self.index.get(key).map_or(0.0, f64::from)
    }
}

/// Open-addressing hash table from feature key to its log-likelihood ratio. At most half full, so probes are short
/// and a miss always reaches an empty slot.
///
/// A slot is 8 bytes — the key's high 32 bits as a fingerprint, and the ratio — so the base model's table (32 Ki
/// slots, 256 KiB) stays in a core's L2 cache; the slot number comes from the key's low bits, so a fingerprint
/// match is a 64-bit match except with probability ~2⁻³² per probe, which costs one feature's weight, once.
/// Fingerprint 0 marks an empty slot; a key whose high bits are 0 is stored as 1.
struct Index {
    slots: Vec<(u32, f32)>,
    mask: usize,
}

impl Index {
    fn build(counts: &Counts) -> Index {
        let cap = (counts.entries.len() * 2).next_power_of_two().max(16);
        let mut index = Index { slots: vec![(0, 0.0); cap], mask: cap - 1 };
        if !counts.is_trained() {
            return index;
        }
        let mut vocab = [0u64; FAMILIES];
        for e in &counts.entries {
            if let Some(v) = vocab.get_mut(tokens::family(e.key)) {
                *v += 1;
            }
        }
        // Per family and class, the log of the smoothed denominator.
        let mut denom = [[0.0f64; 2]; FAMILIES];
        for ((d, totals), v) in denom.iter_mut().zip(&counts.totals).zip(vocab) {
            for (dc, &t) in d.iter_mut().zip(totals) {
                *dc = (t as f64 + ALPHA * v as f64).max(ALPHA).ln();
            }
        }
        for e in &counts.entries {
            let f = tokens::family(e.key);
            let Some(d) = denom.get(f) else { continue };
            let llr = ((f64::from(e.counts[SPAM]) + ALPHA).ln() - d[SPAM])
                - ((f64::from(e.counts[HAM]) + ALPHA).ln() - d[HAM]);
            let mut i = slot(e.key, index.mask);
            while index.slots[i].0 != 0 {
                i = (i + 1) & index.mask;
            }
            index.slots[i] = (fingerprint(e.key), llr as f32);
        }
        index
    }

    #[inline]
    fn get(&self, key: u64) -> Option<f32> {
        let fp = fingerprint(key);
        let mut i = slot(key, self.mask);
        loop {
            let (f, llr) = self.slots[i];
            if f == fp {
                return Some(llr);
            }
            if f == 0 {
                return None;
            }
            i = (i + 1) & self.mask;
        }
    }
}

#[inline]
fn slot(key: u64, mask: usize) -> usize {
    (key >> 2) as usize & mask
}

#[inline]
fn fingerprint(key: u64) -> u32 {
    ((key >> 32) as u32).max(1)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn model(docs: &[(&str, bool)]) -> SpamModel {
        SpamModel::new(Counts::from_texts(docs.iter().copied()), Calibration::default())
    }

    #[test]
    fn spammy_words_have_positive_ratios() {
        let m = model(&[
            ("subscribe to my channel", true),
            ("check out my channel", true),
            ("love this song", false),
            ("this song is great", false),
        ]);
        let mut f = Vec::new();
        tokens::feature_set("my channel", &mut f);
        let ev = m.evidence(&f);
        assert!(ev.llr[tokens::WORD as usize] > 0.0);
        tokens::feature_set("this song", &mut f);
        assert!(m.evidence(&f).llr[tokens::WORD as usize] < 0.0);
        tokens::feature_set("zzzz qqqq", &mut f);
        let ev = m.evidence(&f);
        assert_eq!(ev.known, [0, 0, 0], "unknown features carry no evidence");
        assert_eq!(ev.llr, [0.0; FAMILIES]);
    }

    #[test]
    fn counts_add_like_training_on_both() {
        let a = [("subscribe to my channel", true), ("love this song", false)];
        let b = [("free money now", true), ("great song", false), ("love it", false)];
        let mut sum = Counts::from_texts(a.iter().copied());
        sum.add(&Counts::from_texts(b.iter().copied()));
        let both = Counts::from_texts(a.iter().chain(b.iter()).copied());
        assert_eq!(sum, both);
    }

    #[test]
    fn pruning_keeps_totals_consistent() {
        let mut c = Counts::from_texts([("a b c", true), ("a d", false), ("a b", true)]);
        c.prune(2);
        let sum: u64 = c.entries.iter().filter(|e| tokens::family(e.key) == 0).map(|e| u64::from(e.counts[1])).sum();
        assert_eq!(sum, c.totals[0][1]);
        assert!(c.entries.iter().all(|e| e.counts[0] + e.counts[1] >= 2));
    }

    #[test]
    fn untrained_model_is_neutral() {
        let m = SpamModel::new(Counts::default(), Calibration::default());
        let mut f = Vec::new();
        tokens::feature_set("anything at all", &mut f);
        assert_eq!(m.evidence(&f).llr, [0.0; FAMILIES]);
    }
}

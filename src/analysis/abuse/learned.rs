//! A site's learned abuse adjustment: what its moderators taught by rejecting comments as abusive (and by
//! approving others), added to the built-in detector's log-odds.
//!
//! # What is counted
//!
//! Per word (a run of [`fold::is_word`] characters of the folded text, at least two characters, hashed with
//! FNV-1a 64 — no word is kept in clear), the number of the site's decided comments containing it, per class:
//! approved, or rejected as abuse of one of the five categories ([`LearnedCounts`]). Counts only add, so a batch
//! of decisions is folded in with [`LearnedCounts::add`] and the whole lives in the site's versioned model delta
//! next to the spam counts (`learning::delta`).
//!
//! # How it scores
//!
//! For each category `c`, each word of the comment that appeared in at least [`MIN_DOCS`] of the site's
//! rejections of `c` contributes its naive-Bayes log-likelihood ratio
//! `ln((a + α) / (D_c + 2α)) − ln((h + α) / (D_h + 2α))` (`a`, `h`: rejections of `c` and approvals containing it;
//! `D_c`, `D_h`: all of them; Lidstone `α` = [`ALPHA`]), when positive; the [`MAX_WORDS`] strongest add up to the
//! category's shift, at most [`MAX_SHIFT`]. Nothing is learned before the site has [`MIN_APPROVED`] approvals to
//! compare with: without them every word of a rejected comment — "you", "the" — would look abusive. The shift is
//! added to the base model's log-odds of the category's strongest candidate; a category without any candidate
//! starts from the model's log-odds of a featureless one (its bias), so a word the lexicons do not know can raise
//! it. The words that contributed become the category's hits, so the finding's spans point at them.
//!
//! Why only raise: approving a held comment says the comment was fine, not that its words are — a news site
//! approves reports of threats every day, and learning "kill" as harmless from them would silence the threat
//! detector. A site that disagrees with a category sets its policy instead.
//!
//! # Invariants
//!
//! * Pure; no I/O. Scoring with empty counts (or counts below the minimum evidence) returns exactly
//!   [`super::score`]'s report — which is why a revert to version 0 restores the base scores bit for bit — and costs
//!   nothing beyond [`Learned::is_active`].
//! * A shift is finite, in `0..=MAX_SHIFT`; `LearnedCounts::entries` is sorted by key, keys unique and never 0.

use super::fold::{self, Folded};
use super::model::{AbuseModel, Features};
use super::{AbuseReport, Category, Hit, Scores, assess, score};
use crate::analysis::normalize::Normalized;
use std::collections::HashMap;
use std::ops::Range;

/// Classes of [`LearnedCounts`]: approved, then the categories in [`Category::ALL`] order.
pub const CLASSES: usize = 6;
/// Index of the approved class.
pub const APPROVED: usize = 0;

/// A word counts for a category once this many of the site's rejections of the category contained it.
pub const MIN_DOCS: u32 = 3;
/// Nothing is learned before the site has this many approvals to compare rejections with.
pub const MIN_APPROVED: u64 = 10;
/// Words counted per category and comment (the strongest).
pub const MAX_WORDS: usize = 5;
/// The largest shift of a category's log-odds: a word the site's moderators always reject takes a comment without
/// any other sign of abuse to about 0.6 (held), never to a rejection on its own.
pub const MAX_SHIFT: f64 = 5.0;
/// Lidstone smoothing.
pub const ALPHA: f64 = 0.1;

/// Why a learned word counts, for moderators.
const WHY: &str = "a word this site's moderators rejected as abuse";

/// What a decided comment teaches.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Label {
    Approved,
    Abuse(Category),
}

impl Label {
    fn class(self) -> usize {
        match self {
            Label::Approved => APPROVED,
            Label::Abuse(c) => 1 + c.index(),
        }
    }
}

/// Additive per-word document counts of a site's decisions (see the module docs).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LearnedCounts {
    /// Comments per class.
    pub docs: [u64; CLASSES],
    /// Per word key, comments per class containing it; sorted by key, keys unique and never 0.
    pub entries: Vec<(u64, [u32; CLASSES])>,
}

impl LearnedCounts {
    /// Counts of raw comment bodies (normalised and folded exactly as scoring does).
    pub fn from_examples<'a>(examples: impl IntoIterator<Item = (&'a str, Label)>) -> LearnedCounts {
        let mut map: HashMap<u64, [u32; CLASSES]> = HashMap::new();
        let mut counts = LearnedCounts::default();
        for (text, label) in examples {
            let class = label.class();
            counts.docs[class] += 1;
            let mut keys: Vec<u64> = words(&Normalized::new(text)).into_iter().map(|(k, _)| k).collect();
            keys.sort_unstable();
            keys.dedup();
            for k in keys {
                let c = map.entry(k).or_default();
                c[class] = c[class].saturating_add(1);
            }
        }
        counts.entries = map.into_iter().collect();
        counts.entries.sort_unstable_by_key(|e| e.0);
        counts
    }

    pub fn is_empty(&self) -> bool {
        self.docs.iter().all(|&d| d == 0) && self.entries.is_empty()
    }

    /// Adds `other`'s counts to these.
    pub fn add(&mut self, other: &LearnedCounts) {
        for (d, o) in self.docs.iter_mut().zip(other.docs) {
            *d = d.saturating_add(o);
        }
        let (a, b) = (&self.entries, &other.entries);
        let mut merged = Vec::with_capacity(a.len() + b.len());
        let (mut i, mut j) = (0, 0);
        while i < a.len() && j < b.len() {
            match a[i].0.cmp(&b[j].0) {
                std::cmp::Ordering::Equal => {
                    merged.push((a[i].0, std::array::from_fn(|k| a[i].1[k].saturating_add(b[j].1[k]))));
                    i += 1;
                    j += 1;
                }
                std::cmp::Ordering::Less => {
                    merged.push(a[i]);
                    i += 1;
                }
                std::cmp::Ordering::Greater => {
                    merged.push(b[j]);
                    j += 1;
                }
            }
        }
        merged.extend_from_slice(&a[i..]);
        merged.extend_from_slice(&b[j..]);
        self.entries = merged;
    }

    /// Drops the words seen in fewer than `min` comments in all (bounding a site's delta).
    pub fn prune(&mut self, min: u32) {
        self.entries.retain(|(_, c)| c.iter().map(|&n| u64::from(n)).sum::<u64>() >= u64::from(min));
    }
}

/// A site's learned adjustment, indexed for scoring; built once per learned version.
#[derive(Debug, Clone, Default)]
pub struct Learned {
    docs: [u64; CLASSES],
    /// Only the words that can count: seen in at least [`MIN_DOCS`] rejections of some category.
    index: HashMap<u64, [u32; CLASSES]>,
    active: bool,
}

impl Learned {
    pub fn new(counts: &LearnedCounts) -> Learned {
        let index: HashMap<u64, [u32; CLASSES]> =
            counts.entries.iter().filter(|(_, c)| c[1..].iter().any(|&n| n >= MIN_DOCS)).copied().collect();
        let active = counts.docs[APPROVED] >= MIN_APPROVED && !index.is_empty();
        Learned { docs: counts.docs, index, active }
    }

    /// Whether scoring with this differs from the base at all.
    pub fn is_active(&self) -> bool {
        self.active
    }

    /// Comments learned per class (approved, then the categories).
    pub fn docs(&self) -> [u64; CLASSES] {
        self.docs
    }

    /// Per category, the shift of its log-odds and the words behind it (original byte ranges).
    fn shifts(&self, words: &[(u64, Range<usize>)]) -> [(f64, Vec<Range<usize>>); 5] {
        let dh = self.docs[APPROVED] as f64;
        std::array::from_fn(|i| {
            let class = 1 + i;
            let dc = self.docs[class] as f64;
            let mut evidence: Vec<(f64, u64, &Range<usize>)> = Vec::new();
            for (key, range) in words {
                let Some(c) = self.index.get(key) else { continue };
                if c[class] < MIN_DOCS {
                    continue;
                }
                let a = f64::from(c[class]);
                let h = f64::from(c[APPROVED]);
                let llr = ((a + ALPHA) / (dc + 2.0 * ALPHA)).ln() - ((h + ALPHA) / (dh + 2.0 * ALPHA)).ln();
                if llr > 0.0 && llr.is_finite() {
                    evidence.push((llr, *key, range));
                }
            }
            // Strongest first; a word repeated in the comment counts once (its first place).
            evidence.sort_by(|x, y| y.0.total_cmp(&x.0).then(x.2.start.cmp(&y.2.start)));
            let mut seen = Vec::new();
            let mut shift = 0.0;
            let mut ranges = Vec::new();
            for (llr, key, range) in evidence {
                if seen.contains(&key) {
                    continue;
                }
                seen.push(key);
                shift += llr;
                ranges.push(range.clone());
                if seen.len() == MAX_WORDS {
                    break;
                }
            }
            (shift.min(MAX_SHIFT), ranges)
        })
    }
}

/// The words of `text` as scoring and learning see them: hashed folded words with their ranges in the ORIGINAL body.
pub fn words(text: &Normalized) -> Vec<(u64, Range<usize>)> {
    let folded = Folded::new(text.as_str());
    let f = folded.as_str();
    let mut out = Vec::new();
    let mut start: Option<usize> = None;
    for (i, c) in f.char_indices().chain(std::iter::once((f.len(), ' '))) {
        match (start, fold::is_word(c) && i < f.len()) {
            (None, true) => start = Some(i),
            (Some(s), false) => {
                let word = &f[s..i];
                if word.chars().count() >= 2 && !word.chars().all(|c| c.is_ascii_digit()) {
                    let range = text.original_range(folded.norm_range(s..i));
                    if range.start < range.end {
                        out.push((key(word), range));
                    }
                }
                start = None;
            }
            _ => {}
        }
    }
    out
}

/// FNV-1a 64 of a folded word; never 0 (0 is the codec's "before the first key"). Stable across builds and
/// processes: keys are stored.
fn key(word: &str) -> u64 {
    let h = word.bytes().fold(0xcbf2_9ce4_8422_2325u64, |h, b| (h ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01b3));
    h.max(1)
}

/// Scans `text` with `model` and the site's learned adjustment (see the module docs).
pub fn scan(text: &Normalized, model: &AbuseModel, learned: &Learned) -> AbuseReport {
    let assessment = assess(text);
    if !learned.is_active() {
        return score(&assessment, model);
    }
    let shifts = learned.shifts(&words(text));
    if shifts.iter().all(|(s, _)| *s == 0.0) {
        return score(&assessment, model);
    }
    let mut shifted = model.clone();
    for (i, (s, _)) in shifts.iter().enumerate() {
        shifted.shift[i] += s;
    }
    let mut report = score(&assessment, &shifted);
    for cat in Category::ALL {
        let (shift, ranges) = &shifts[cat.index()];
        if *shift == 0.0 {
            continue;
        }
        // What the learned words alone make of a comment: a featureless candidate with the shift.
        let alone = shifted.probability(cat, &Features::default());
        if !assessment.candidates.iter().any(|c| c.category == cat) {
            report.scores.0[cat.index()] = alone.max(report.scores.0[cat.index()]).clamp(0.0, 1.0);
        }
        for range in ranges {
            report.hits.push(Hit { category: cat, range: range.clone(), severity: 1, score: alone, why: WHY });
        }
    }
    report.hits.sort_by_key(|h| (h.range.start, h.range.end, h.category));
    report
}

impl Scores {
    /// Scores from an array in [`Category::ALL`] order (each clamped to 0..1; NaN is 0).
    pub fn from_array(a: [f64; 5]) -> Scores {
        Scores(a.map(|s| if s.is_nan() { 0.0 } else { s.clamp(0.0, 1.0) }))
    }

    /// The scores in [`Category::ALL`] order.
    pub fn to_array(&self) -> [f64; 5] {
        self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn report(text: &str, learned: &Learned) -> AbuseReport {
        scan(&Normalized::new(text), &AbuseModel::BASE, learned)
    }

    /// Ten approvals and `n` rejections of `cat` containing `word`.
    fn taught(word: &str, cat: Category, n: usize) -> LearnedCounts {
        let approved = [
            "The budget debate was long but useful",
            "Thank you for this careful report",
            "I disagree with the minister on tax policy",
            "Elections should be held on time",
            "Good analysis of the flood response",
            "The court verdict will be appealed",
            "Interesting interview with the governor",
            "Prices of wheat went up again this month",
            "Please cover the water crisis in Karachi",
            "Cricket team needs a new captain",
            "Excellent column, well argued",
        ];
        let rejected: Vec<String> = (0..n).map(|i| format!("sun {word} number {i} go away")).collect();
        LearnedCounts::from_examples(
            approved
                .iter()
                .map(|t| (*t, Label::Approved))
                .chain(rejected.iter().map(|t| (t.as_str(), Label::Abuse(cat)))),
        )
    }

    #[test]
    fn empty_or_thin_counts_change_nothing() {
        let text = "Sun dhakkanwala, tum kuch nahi jaante. You idiot.";
        let base = scan(&Normalized::new(text), &AbuseModel::BASE, &Learned::default());
        assert_eq!(base, super::super::scan(&Normalized::new(text)));
        // Below the minimum evidence: two rejections, or no approvals to compare with.
        assert!(!Learned::new(&taught("dhakkanwala", Category::Insult, 2)).is_active());
        let no_approvals =
            LearnedCounts::from_examples((0..5).map(|_| ("dhakkanwala ho", Label::Abuse(Category::Insult))));
        assert!(!Learned::new(&no_approvals).is_active());
        assert_eq!(report(text, &Learned::new(&no_approvals)), base);
    }

    #[test]
    fn a_taught_word_raises_its_category_and_spans_it() {
        let learned = Learned::new(&taught("dhakkanwala", Category::Insult, 6));
        assert!(learned.is_active());
        let text = "Ye sab dhakkanwala log hain";
        let before = report(text, &Learned::default());
        let after = report(text, &learned);
        assert_eq!(before.scores.get(Category::Insult), 0.0, "the lexicons do not know the word");
        assert!(after.scores.get(Category::Insult) >= super::super::HOLD, "{:?}", after.scores);
        for c in [Category::Threat, Category::IdentityAttack, Category::Sexual, Category::Profanity] {
            assert_eq!(after.scores.get(c), before.scores.get(c), "{c:?}");
        }
        let spans: Vec<&str> =
            after.hits.iter().filter(|h| h.category == Category::Insult).map(|h| &text[h.range.clone()]).collect();
        assert_eq!(spans, ["dhakkanwala"]);
        // Disguised the way the folding undoes, it is the same word.
        let disguised = report("Ye sab dhakkanwaaaala log hain", &learned);
        assert!(disguised.scores.get(Category::Insult) >= super::super::HOLD);
        // A text without the word is untouched.
        let clean = "The budget debate was long";
        assert_eq!(report(clean, &learned), report(clean, &Learned::default()));
    }

    #[test]
    fn the_shift_is_bounded_and_adds_to_a_candidate() {
        let learned = Learned::new(&taught("dhakkanwala", Category::Insult, 500));
        let (shift, _) = &learned.shifts(&words(&Normalized::new("dhakkanwala sun go away")))[Category::Insult.index()];
        assert_eq!(*shift, MAX_SHIFT);
        let alone = report("dhakkanwala", &learned).scores.get(Category::Insult);
        assert!(alone < 0.9, "never a rejection on its own: {alone}");
        let text = "you idiot dhakkanwala";
        let base = report(text, &Learned::default()).scores.get(Category::Insult);
        let raised = report(text, &learned).scores.get(Category::Insult);
        assert!(raised > base && base > 0.0, "{base} → {raised}");
    }

    #[test]
    fn counts_add_and_prune() {
        let mut a = taught("dhakkanwala", Category::Insult, 3);
        let b = taught("ghaleez", Category::Threat, 4);
        let sum_docs: Vec<u64> = a.docs.iter().zip(b.docs).map(|(x, y)| x + y).collect();
        a.add(&b);
        assert_eq!(a.docs.to_vec(), sum_docs);
        assert!(a.entries.windows(2).all(|w| w[0].0 < w[1].0), "sorted, unique");
        let before = a.entries.len();
        a.prune(4);
        assert!(a.entries.len() < before);
        assert!(a.entries.iter().all(|(_, c)| c.iter().sum::<u32>() >= 4));
        assert!(a.entries.iter().all(|(k, _)| *k != 0));
    }

    #[test]
    fn scores_round_trip_through_arrays() {
        let s = Scores::from_array([0.1, f64::NAN, 2.0, -1.0, 0.5]);
        assert_eq!(s.to_array(), [0.1, 0.0, 1.0, 0.0, 0.5]);
    }
}

//! Near-copy sketches for campaign detection: the same text posted by many accounts, or by one account again and
//! again, with small edits (a name, a number, a link) to get past exact matching.
//!
//! # Why MinHash with LSH bands
//!
//! The similarity that matters is the overlap of two comments' feature sets (the spam model's own words, word
//! pairs and character 4-grams, [`tokens`]): a one-word edit of a 25-word comment keeps about 90% of
//! them. MinHash estimates that overlap (Jaccard similarity) and, cut into [`BANDS`] bands of [`ROWS`] values, lets
//! the store find near copies by exact lookups: it keeps, per site and band, which recent comments had that band
//! value. Two comments agree on a band with probability `s^ROWS`; we call them near copies when they agree on at
//! least [`MIN_SHARED_BANDS`] of the eight, which happens with probability 0.999 at `s = 0.9`, 0.6 at `s = 0.7` and
//! under 0.1 at `s = 0.5` (texts that merely share a template are not copies).
//!
//! SimHash was the first choice (one `u64` per comment) and was measured wrong for comments: a one-word edit of a
//! 25-word text flips about 10 of 64 bits, so the threshold would need more bands than a 64-bit value has.
//!
//! The 32 minimum values come from one hash per feature ("one permutation hashing", Li, Owen & Zhang 2012): the
//! hash's top bits pick a bin, the bin keeps its smallest hash, and an empty bin borrows the next non-empty bin's
//! value mixed with its own index (densification, Shrivastava 2017) — 32 times cheaper than 32 hash functions.
//!
//! Short texts get no sketch ([`MIN_WORDS`]): many readers write "Great article, thank you" on their own, and a news
//! site's commenters echo slogans; twelve words copied by several accounts within hours is no accident.
//!
//! The sketch is part of what the store keeps: changing the hashing makes old and new comments incomparable for one
//! window (harmless, but do it knowingly).

use super::tokens;
use crate::domain::{Duplicates, Finding};
use crate::findings::SPAM_DUPLICATE;

/// Texts with fewer words than this get no sketch (see the module docs).
pub const MIN_WORDS: usize = 12;

/// Number of LSH bands.
pub const BANDS: usize = 8;

/// MinHash values per band.
pub const ROWS: usize = 4;

/// Two comments are near copies when they agree on at least this many bands.
pub const MIN_SHARED_BANDS: usize = 2;

const BINS: usize = BANDS * ROWS;

/// The band values of a comment: what the store indexes and compares.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Sketch(pub [u64; BANDS]);

/// The sketch of a normalised text, `None` when it is too short to say anything. Reads at most
/// `tokens::MAX_BAYES_BYTES` bytes, like the model.
///
/// Features stream straight into the bins: a bin's minimum over a feature multiset is its minimum over the set, so
/// the model's deduplication (`tokens::feature_set`, a zeroed scratch table and a vector per call) is not needed
/// here — this runs on every submission, before the context read.
pub fn sketch(norm: &str) -> Option<Sketch> {
    // One pass: every word yields exactly one word-family key, so the words are counted on the way.
    let (mut bins, mut words) = ([u64::MAX; BINS], 0usize);
    tokens::for_each_feature(norm, |k| {
        words += usize::from(tokens::family(k) == tokens::WORD as usize);
        add(&mut bins, k);
    });
    (words >= MIN_WORDS).then(|| from_bins(&bins))
}

/// Puts a feature key into its bin (keeping the bin's smallest value).
fn add(bins: &mut [u64; BINS], key: u64) {
    // Rehash: a key's low bits are its family, and the bin must not depend on them.
    let h = tokens::fmix64(key ^ 0x5bd1_e995_5bd1_e995);
    let bin = (h >> 59) as usize; // top 5 bits: 32 bins
    let value = h & ((1 << 59) - 1);
    bins[bin] = bins[bin].min(value);
}

/// The band values from the bins of at least one feature.
fn from_bins(bins: &[u64; BINS]) -> Sketch {
    // Densify: an empty bin takes the next non-empty bin's value (circularly), mixed with its own index so two
    // empty bins that borrow the same value still differ.
    let mut filled = *bins;
    for i in 0..BINS {
        if bins[i] == u64::MAX {
            let donor = (1..BINS).map(|d| (i + d) % BINS).find(|&j| bins[j] != u64::MAX);
            filled[i] = donor.map_or(0, |j| tokens::fmix64(bins[j] ^ (i as u64 + 1)));
        }
    }
    let mut bands = [0u64; BANDS];
    for (b, band) in bands.iter_mut().enumerate() {
        let rows = &filled[b * ROWS..(b + 1) * ROWS];
        *band = rows.iter().fold(b as u64, |h, &v| tokens::fmix64(h.rotate_left(17) ^ v));
    }
    Sketch(bands)
}

/// How much near copies alone say a comment is spam, as independent behaviour evidence (combined by noisy-OR with
/// the text's probability), and the finding that explains it. Another author's copy 0.3, two others' 0.5 (three
/// accounts posting one long text within the window hold it whatever it says), three or more 0.75; the same author's
/// earlier copies 0.3, 0.5, then 0.65 (cross-posting). A campaign alone holds; it rejects only with a text that
/// itself leans to spam (probability ≥ 0.6 against 0.75). Hand-set: no labelled campaign data exists.
pub fn evidence(d: Duplicates) -> Option<Finding> {
    let others = [0.0, 0.3, 0.5, 0.75][d.sources.min(3) as usize];
    let own = [0.0, 0.3, 0.5, 0.65][d.own.min(3) as usize];
    let score = 1.0 - (1.0 - others) * (1.0 - own);
    if score <= 0.0 {
        return None;
    }
    let detail = format!(
        "near copy of {} recent comment(s) from {} other author(s) and of {} earlier one(s) by the same author",
        d.copies, d.sources, d.own
    );
    Some(Finding::new(&SPAM_DUPLICATE, score, detail))
}

impl Sketch {
    /// How many bands two sketches agree on.
    pub fn shared_bands(&self, other: &Sketch) -> usize {
        self.0.iter().zip(other.0).filter(|(a, b)| **a == *b).count()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analysis::normalize::Normalized;

    fn sk(text: &str) -> Option<Sketch> {
        sketch(Normalized::new(text).as_str())
    }

    const CAMPAIGN: &str = "Earn 50000 rupees daily from home with our new online job, no investment needed, \
                            message Ali on WhatsApp today to join the team";

    #[test]
    fn short_texts_have_no_sketch() {
        assert_eq!(sk("Great article, thank you for writing it"), None);
        assert!(sk(CAMPAIGN).is_some());
        let eleven = "one two three four five six seven eight nine ten eleven";
        assert_eq!(sk(eleven), None, "fewer than MIN_WORDS words, however many n-grams");
        assert!(sk(&format!("{eleven} twelve")).is_some());
    }

    #[test]
    fn small_edits_are_near_copies_and_other_texts_are_not() {
        let base = sk(CAMPAIGN).unwrap_or(Sketch([0; BANDS]));
        for edit in [
            CAMPAIGN.replace("Ali", "Bilal"),
            CAMPAIGN.replace("50000", "75000"),
            CAMPAIGN.to_uppercase(),
            CAMPAIGN.replace("today", "now"),
            format!("{CAMPAIGN}!! https://bit.ly/x1"),
        ] {
            let shared = base.shared_bands(&sk(&edit).unwrap_or(Sketch([0; BANDS])));
            assert!(shared >= MIN_SHARED_BANDS, "{edit}: {shared} bands");
        }
        for other in [
            "The minister's statement on the budget ignores the rising cost of electricity for ordinary families in \
             Karachi and Lahore this summer",
            "Earn respect from your readers with honest reporting on the new online job market and the investment \
             that home owners need",
        ] {
            let shared = base.shared_bands(&sk(other).unwrap_or(Sketch([0; BANDS])));
            assert!(shared < MIN_SHARED_BANDS, "{other}: {shared} bands");
        }
    }

    #[test]
    fn sketches_are_deterministic() {
        assert_eq!(sk(CAMPAIGN), sk(CAMPAIGN));
    }

    /// Stored sketches must not change with how they are computed: streaming every feature (repeats included)
    /// gives the sketch of the distinct feature set.
    #[test]
    fn streamed_features_sketch_like_the_distinct_set() {
        for text in [CAMPAIGN, &CAMPAIGN.repeat(3), &format!("{CAMPAIGN} https://bit.ly/x1 ۱۲۳ آپ کا شکریہ بہت")]
        {
            let norm = Normalized::new(text);
            let mut distinct = Vec::new();
            tokens::feature_set(norm.as_str(), &mut distinct);
            let mut bins = [u64::MAX; BINS];
            distinct.iter().for_each(|&k| add(&mut bins, k));
            assert_eq!(sketch(norm.as_str()), Some(from_bins(&bins)), "{text}");
        }
    }
}

//! The statistical model's features: normalised words, word bigrams and character 4-grams, each hashed to a `u64`
//! key with a hash function that is part of the model file format (so a model file means the same on every build).
//!
//! # Why these features
//!
//! Comments are short (the YouTube collection's median is 48 characters), so word counts alone are sparse: a spammer
//! writing `subscribe`, `subscribeee`, `SUBSCR1BE` or `sub4sub` shares few words with the training set but many
//! character 4-grams. Word bigrams catch the phrasing ("my channel", "check out") that single words do not.
//!
//! # Invariants
//!
//! * Input is the NORMALISED text ([`Normalized`](crate::analysis::normalize::Normalized)): lower-case, NFKC, ASCII
//!   digits. Digits are further folded to `0` here, so `call 0300` and `call 0321` share features.
//! * Only the first [`MAX_BAYES_BYTES`] bytes are tokenised: a longer comment says nothing more about being spam,
//!   and the cap bounds the work and the feature buffer whatever the input.
//! * No allocation per token: words and n-grams are hashed in place; the caller's buffer holds the keys.
//! * A key's two low bits are its family ([`WORD`], [`BIGRAM`], [`CHAR`]); a key is never 0 (0 marks an empty slot
//!   in the model's index).

/// Feature family of a key (its two low bits).
pub const WORD: u64 = 0;
pub const BIGRAM: u64 = 1;
pub const CHAR: u64 = 2;
/// Number of families.
pub const FAMILIES: usize = 3;

/// Characters per character n-gram.
pub const NGRAM: usize = 4;

/// Bytes of normalised text the model reads.
pub const MAX_BAYES_BYTES: usize = 4096;

/// Word keys: FNV-1a over the word's bytes (digits folded to `0`, long runs squashed), finished with the
/// MurmurHash3 64-bit mixer so the low and high bits are both usable. Stable by construction: it is part of the
/// model file format (see `codec`), like the n-gram key of [`for_each_ngram`].
#[derive(Clone, Copy)]
struct Hasher(u64);

const FNV_OFFSET: u64 = 0xcbf2_9ce4_8422_2325;
const FNV_PRIME: u64 = 0x0000_0100_0000_01b3;

impl Hasher {
    #[inline]
    fn new(family: u64) -> Hasher {
        Hasher(FNV_OFFSET ^ family.wrapping_mul(0x9e37_79b9_7f4a_7c15))
    }
    /// Hashes `bytes` with digits folded to `0` and runs of one ASCII byte longer than two cut to two (`soooo` =
    /// `soo`); digits keep their count (`0300` and `030` are different shapes).
    #[inline]
    fn write_squashed(&mut self, bytes: &[u8]) {
        let (mut p1, mut p2) = (0u8, 0u8);
        for &b in bytes {
            let b = if b.is_ascii_digit() { b'0' } else { b };
            if b == p1 && b == p2 && b.is_ascii() && b != b'0' {
                continue;
            }
            (p2, p1) = (p1, b);
            self.0 = (self.0 ^ u64::from(b)).wrapping_mul(FNV_PRIME);
        }
    }
    #[inline]
    fn finish(self, family: u64) -> u64 {
        key(fmix64(self.0), family)
    }
}

/// MurmurHash3's 64-bit finaliser.
#[inline]
pub fn fmix64(mut h: u64) -> u64 {
    h ^= h >> 33;
    h = h.wrapping_mul(0xff51_afd7_ed55_8ccd);
    h ^= h >> 33;
    h = h.wrapping_mul(0xc4ce_b9fe_1a85_ec53);
    h ^ (h >> 33)
}

#[inline]
fn key(h: u64, family: u64) -> u64 {
    let k = (h & !3) | family;
    if k == 0 { 4 } else { k }
}

/// The key of a word (already normalised), as [`for_each_feature`] makes it.
pub fn word_key(word: &str) -> u64 {
    let mut h = Hasher::new(WORD);
    h.write_squashed(word.as_bytes());
    h.finish(WORD)
}

#[inline]
fn bigram_key(a: u64, b: u64) -> u64 {
    key(fmix64(a.rotate_left(23) ^ b ^ 0x2545_f491_4f6c_dd1d), BIGRAM)
}

/// Whether `c` continues a word: letters, digits and combining marks (Urdu and Devanagari vowel signs).
#[inline]
pub fn is_word_char(c: char) -> bool {
    if c.is_ascii() {
        return c.is_ascii_alphanumeric();
    }
    let cp = c as u32;
    if (TABLE_START..TABLE_END).contains(&cp) {
        let i = (cp - TABLE_START) as usize;
        return WORD_TABLE[i / 64] >> (i % 64) & 1 == 1;
    }
    is_word_char_slow(c)
}

fn is_word_char_slow(c: char) -> bool {
    c.is_alphanumeric() || unicode_normalization::char::canonical_combining_class(c) != 0
}

/// [`is_word_char`] precomputed for U+0600–U+09FF (Arabic, Syriac, Thaana, NKo, Devanagari, Bengali): Urdu and
/// Hindi text would otherwise pay the standard library's slow Unicode table search on every character.
const TABLE_START: u32 = 0x0600;
const TABLE_END: u32 = 0x0A00;
static WORD_TABLE: std::sync::LazyLock<[u64; 16]> = std::sync::LazyLock::new(|| {
    let mut t = [0u64; 16];
    for cp in TABLE_START..TABLE_END {
        if char::from_u32(cp).is_some_and(is_word_char_slow) {
            let i = (cp - TABLE_START) as usize;
            t[i / 64] |= 1 << (i % 64);
        }
    }
    t
});

/// The longest prefix of `text` of at most `max` bytes that ends on a char boundary.
pub fn capped(text: &str, max: usize) -> &str {
    if text.len() <= max {
        return text;
    }
    let mut end = max;
    while end > 0 && !text.is_char_boundary(end) {
        end -= 1;
    }
    &text[..end]
}

/// Calls `f(key)` for every feature occurrence of `text` (normalised) — words, then bigrams interleaved, then
/// character n-grams. Keys repeat when the text repeats; callers that want presence sort and deduplicate.
pub fn for_each_feature(text: &str, mut f: impl FnMut(u64)) {
    let text = capped(text, MAX_BAYES_BYTES);
    // One pass: the word loop feeds every character to the n-gram window too (its end-of-text sentinel space is the
    // window's trailing pad), so the keys are exactly those of `for_each_word` and `for_each_ngram`.
    let mut grams = Ngrams::new();
    if let Some(k) = grams.push(' ') {
        f(k);
    }
    let mut prev: Option<u64> = None;
    let mut start: Option<usize> = None;
    for (i, c) in text.char_indices().chain(std::iter::once((text.len(), ' '))) {
        if let Some(k) = grams.push(c) {
            f(k);
        }
        match (is_word_char(c), start) {
            (true, None) => start = Some(i),
            (false, Some(s)) => {
                start = None;
                let k = hash_word(&text.as_bytes()[s..i]);
                f(k);
                if let Some(p) = prev {
                    f(bigram_key(p, k));
                }
                prev = Some(k);
            }
            _ => {}
        }
    }
}

#[inline]
fn hash_word(bytes: &[u8]) -> u64 {
    let mut h = Hasher::new(WORD);
    h.write_squashed(bytes);
    h.finish(WORD)
}

/// Calls `f(Some(range), key)` for each word of `text`, and `f(None, key)` for each pair of consecutive words
/// (right after the pair's second word).
pub fn for_each_word(text: &str, mut f: impl FnMut(Option<std::ops::Range<usize>>, u64)) {
    let mut prev: Option<u64> = None;
    let mut start: Option<usize> = None;
    for (i, c) in text.char_indices().chain(std::iter::once((text.len(), ' '))) {
        match (is_word_char(c), start) {
            (true, None) => start = Some(i),
            (false, Some(s)) => {
                start = None;
                let k = hash_word(&text.as_bytes()[s..i]);
                f(Some(s..i), k);
                if let Some(p) = prev {
                    f(None, bigram_key(p, k));
                }
                prev = Some(k);
            }
            _ => {}
        }
    }
}

/// Calls `f(key)` for each window of [`NGRAM`] characters of `text`, with a space before and after the text so
/// short texts and word edges have n-grams too. Runs of whitespace count as one space.
pub fn for_each_ngram(text: &str, mut f: impl FnMut(u64)) {
    let mut grams = Ngrams::new();
    for c in std::iter::once(' ').chain(text.chars()).chain(std::iter::once(' ')) {
        if let Some(k) = grams.push(c) {
            f(k);
        }
    }
}

/// The sliding window of [`for_each_ngram`]: the last four characters, oldest first. A window's key is a
/// position-weighted sum of their code points (digits folded to '0'), mixed: four multiplications per window
/// instead of hashing its bytes again.
struct Ngrams {
    win: [u64; NGRAM],
    filled: usize,
    p1: char,
    p2: char,
}

impl Ngrams {
    fn new() -> Ngrams {
        Ngrams { win: [0; NGRAM], filled: 0, p1: '\0', p2: '\0' }
    }

    /// Adds a character; the key of the window it completes, if any.
    #[inline]
    fn push(&mut self, c: char) -> Option<u64> {
        let c = if c.is_whitespace() { ' ' } else { c };
        // Runs of spaces count once; runs of any other character but a digit twice (`soooo` = `soo`).
        if c == self.p1 && (c == ' ' || (c == self.p2 && !c.is_ascii_digit())) {
            return None;
        }
        (self.p2, self.p1) = (self.p1, c);
        let v = if c.is_ascii_digit() { u64::from(b'0') } else { u64::from(c) };
        self.win.copy_within(1.., 0);
        self.win[NGRAM - 1] = v;
        self.filled += 1;
        if self.filled < NGRAM {
            return None;
        }
        let h = self.win.iter().zip(NGRAM_WEIGHTS).fold(NGRAM_SEED, |h, (v, w)| h.wrapping_add(v.wrapping_mul(w)));
        Some(key(fmix64(h), CHAR))
    }
}

/// Odd 64-bit multipliers, one per position in an n-gram window (so the key depends on the order), and a seed.
const NGRAM_WEIGHTS: [u64; NGRAM] =
    [0x9e37_79b9_7f4a_7c15, 0xc2b2_ae3d_27d4_eb4f, 0x1656_67b1_9e37_79f9, 0xd6e8_feb8_6659_fd93];
const NGRAM_SEED: u64 = 0x2127_599b_f432_5c37;

/// `text` with the byte `ranges` (sorted, disjoint, on char boundaries) replaced by one space each: what the model
/// reads of a comment with links. Links are counted by the link rule (`signals`), with a bounded weight; read by
/// the model too, their `http`, `www.` and `.com` n-grams — spam in nearly every YouTube comment that has them —
/// would count the same links a second time, and a news reader's sources would read as spam.
pub fn without<'a>(text: &'a str, ranges: &[std::ops::Range<usize>]) -> std::borrow::Cow<'a, str> {
    if ranges.is_empty() {
        return std::borrow::Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len());
    let mut at = 0;
    for r in ranges {
        if r.start < at || r.end < r.start {
            continue;
        }
        out.push_str(text.get(at..r.start).unwrap_or(""));
        out.push(' ');
        at = r.end;
    }
    out.push_str(text.get(at..).unwrap_or(""));
    std::borrow::Cow::Owned(out)
}

/// The family of a key.
#[inline]
pub fn family(key: u64) -> usize {
    (key & 3) as usize
}

/// The distinct feature keys of `text` into `out` (cleared first), in first-seen order: presence, not counts, is
/// what the model uses (see `model`). Deduplicated with a scratch open-addressing set rather than a sort, so the
/// cost stays linear.
pub fn feature_set(text: &str, out: &mut Vec<u64>) {
    out.clear();
    let text = capped(text, MAX_BAYES_BYTES);
    // At most one word, one bigram and one n-gram start per byte (plus the padding n-grams).
    let cap = (3 * text.len() + 8).next_power_of_two().max(64);
    out.reserve(3 * text.len() + 8);
    let mut seen = vec![0u64; cap];
    let mask = cap - 1;
    for_each_feature(text, |k| {
        let mut i = (k >> 2) as usize & mask;
        loop {
            match seen[i] {
                0 => {
                    seen[i] = k;
                    out.push(k);
                    return;
                }
                s if s == k => return,
                _ => i = (i + 1) & mask,
            }
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    fn words(text: &str) -> Vec<&str> {
        let mut v = Vec::new();
        for_each_word(text, |r, _| v.extend(r.map(|r| &text[r])));
        v
    }

    #[test]
    fn words_split_on_non_word_chars_in_any_script() {
        assert_eq!(words("check out my-channel!!"), vec!["check", "out", "my", "channel"]);
        assert_eq!(words("گھر بیٹھے پیسے"), vec!["گھر", "بیٹھے", "پیسے"]);
        assert_eq!(words("घर बैठे"), vec!["घर", "बैठे"]);
        assert!(words(" ...!!! ").is_empty());
    }

    #[test]
    fn digits_fold_to_one_shape_and_runs_squash() {
        assert_eq!(word_key("0300"), word_key("0321"));
        assert_ne!(word_key("0300"), word_key("030"));
        assert_eq!(word_key("soooooo"), word_key("soo"));
        assert_ne!(word_key("soo"), word_key("so"));
    }

    #[test]
    fn keys_carry_their_family_and_are_never_zero() {
        let mut keys = Vec::new();
        feature_set("subscribe to my channel", &mut keys);
        assert!(keys.iter().all(|&k| k != 0));
        for fam in [WORD, BIGRAM, CHAR] {
            assert!(keys.iter().any(|&k| k & 3 == fam), "family {fam}");
        }
        let mut sorted = keys.clone();
        sorted.sort_unstable();
        sorted.dedup();
        assert_eq!(sorted.len(), keys.len(), "distinct");
    }

    #[test]
    fn one_pass_gives_the_keys_of_both_passes() {
        for text in ["", "a", "check out my channel!!", "گھر بیٹھے  پیسے", "x  y\tz 0300-1234567 soooo"] {
            let mut fused = Vec::new();
            for_each_feature(text, |k| fused.push(k));
            let mut apart = Vec::new();
            for_each_word(text, |_, k| apart.push(k));
            for_each_ngram(text, |k| apart.push(k));
            fused.sort_unstable();
            apart.sort_unstable();
            assert_eq!(fused, apart, "{text:?}");
        }
    }

    #[test]
    fn word_table_matches_the_general_rule() {
        for cp in TABLE_START..TABLE_END {
            if let Some(c) = char::from_u32(cp) {
                assert_eq!(is_word_char(c), is_word_char_slow(c), "U+{cp:04X}");
            }
        }
    }

    #[test]
    fn ngrams_collapse_whitespace_and_pad_edges() {
        let mut a = Vec::new();
        let mut b = Vec::new();
        for_each_ngram("ab  cd", |k| a.push(k));
        for_each_ngram("ab cd", |k| b.push(k));
        assert_eq!(a, b);
        let mut short = Vec::new();
        for_each_ngram("ab", |k| short.push(k));
        assert_eq!(short.len(), 1, "' ab ' is one 4-gram");
    }

    #[test]
    fn links_are_cut_out_for_the_model() {
        let t = "see http://x.example/a now";
        assert_eq!(without(t, std::slice::from_ref(&(4..22))), "see   now");
        assert_eq!(without(t, &[]), t);
        assert_eq!(without(t, &[4..22, 2..3]), "see   now", "out of order ranges are skipped");
    }

    #[test]
    fn huge_input_is_capped() {
        let text = "a".repeat(1 << 20);
        let mut n = 0usize;
        for_each_feature(&text, |_| n += 1);
        assert!(n <= 2 * MAX_BAYES_BYTES + 8);
        assert_eq!(capped("aé", 2), "a");
    }
}

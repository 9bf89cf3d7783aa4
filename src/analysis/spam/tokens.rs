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

/// FNV-1a over bytes with digits folded to `0`, finished with the MurmurHash3 64-bit mixer so the low and high bits
/// are both usable. Stable by construction: it is part of the model file format (see `codec`).
#[derive(Clone, Copy)]
struct Hasher(u64);

const FNV_OFFSET: u64 = 0xcbf2_9ce4_8422_2325;
const FNV_PRIME: u64 = 0x0000_0100_0000_01b3;

impl Hasher {
    #[inline]
    fn new(family: u64) -> Hasher {
        Hasher(FNV_OFFSET ^ family.wrapping_mul(0x9e37_79b9_7f4a_7c15))
    }
    #[inline]
    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            let b = if b.is_ascii_digit() { b'0' } else { b };
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
    h.write(word.as_bytes());
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
    c.is_alphanumeric() || unicode_normalization::char::canonical_combining_class(c) != 0
}

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
    for_each_word(text, |_, k| f(k));
    for_each_ngram(text, f);
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
                let mut h = Hasher::new(WORD);
                h.write(&text.as_bytes()[s..i]);
                let k = h.finish(WORD);
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
    // Byte offsets into `buf`-less iteration: keep the last NGRAM char encodings in a small ring.
    let mut ring = [[0u8; 4]; NGRAM];
    let mut lens = [0usize; NGRAM];
    let mut filled = 0usize;
    let mut pos = 0usize;
    let mut last_space = false;
    let chars = std::iter::once(' ').chain(text.chars()).chain(std::iter::once(' '));
    for c in chars {
        let c = if c.is_whitespace() { ' ' } else { c };
        if c == ' ' {
            if last_space {
                continue;
            }
            last_space = true;
        } else {
            last_space = false;
        }
        let slot = pos % NGRAM;
        lens[slot] = c.encode_utf8(&mut ring[slot]).len();
        pos += 1;
        filled = (filled + 1).min(NGRAM);
        if filled == NGRAM {
            let mut h = Hasher::new(CHAR);
            for k in 0..NGRAM {
                let s = (pos + k) % NGRAM;
                h.write(&ring[s][..lens[s]]);
            }
            f(h.finish(CHAR));
        }
    }
}

/// The family of a key.
#[inline]
pub fn family(key: u64) -> usize {
    (key & 3) as usize
}

/// Sorted, deduplicated feature keys of `text` into `out` (cleared first): presence, not counts, is what the
/// model uses (see `model`).
pub fn feature_set(text: &str, out: &mut Vec<u64>) {
    out.clear();
    for_each_feature(text, |k| out.push(k));
    out.sort_unstable();
    out.dedup();
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
    fn digits_fold_to_one_shape() {
        assert_eq!(word_key("0300"), word_key("0321"));
        assert_ne!(word_key("0300"), word_key("030"));
    }

    #[test]
    fn keys_carry_their_family_and_are_never_zero() {
        let mut keys = Vec::new();
        feature_set("subscribe to my channel", &mut keys);
        assert!(keys.iter().all(|&k| k != 0));
        for fam in [WORD, BIGRAM, CHAR] {
            assert!(keys.iter().any(|&k| k & 3 == fam), "family {fam}");
        }
        assert!(keys.windows(2).all(|w| w[0] < w[1]));
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
    fn huge_input_is_capped() {
        let text = "a".repeat(1 << 20);
        let mut n = 0usize;
        for_each_feature(&text, |_| n += 1);
        assert!(n <= 2 * MAX_BAYES_BYTES + 8);
        assert_eq!(capped("aé", 2), "a");
    }
}

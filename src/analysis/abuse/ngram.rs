//! A learned text model: hashed n-gram logistic regression, one per category, next to the lexicons.
//!
//! # Why
//!
//! The lexicons and constructions ([`super::lexicon`], [`super::structure`]) meet the targets on the wording they were
//! tuned on but miss new wording (blind batch B of `fresh2.jsonl`: threat recall 0.22). A linear model over
//! character 4-grams, words and word pairs sees parts of words and phrasings the lexicons do not list
//! (`maar ke`, `khatam kar`, `ki laash`), so it generalises further on threats and insults. It does not replace the
//! lexicons: its probability, calibrated, is one more candidate score per category (see [`super::score`]).
//!
//! # Features
//!
//! Byte 4-gram windows, words and word pairs ([`for_each_bucket`]: the spam tokenizer's families, in a cheaper
//! pass) over the abuse-FOLDED text ([`super::fold`], so `k1ll` and `k i l l` read as `kill`), each hashed into one
//! of `2^bits` buckets by a multiplicative hash. A bucket's value is the number of occurrences; the feature vector is scaled by
//! 1/√max(number of keys, floor) so long and short comments weigh alike, while a two-character comment (`:)`)
//! cannot put its few keys' weights at full strength (the floor is in the file).
//!
//! # File format (version 1, little-endian)
//!
//! `b"CGNG"`, `u16` version, `u8` bits, `u8` categories (5), `f32` weight scale, `f32` length floor, then per category `f32` bias,
//! `f32` calibration slope `a` and `f32` calibration offset `b`, then `2^bits × 5` `i8` weights, bucket-major (the
//! five categories of a bucket are adjacent: one cache line per key). A weight is `i8 × scale`. The calibrated
//! log-odds of category `c` are `a_c × (bias_c + Σ weights) + b_c`, with `a, b` fitted by the trainer on
//! out-of-fold predictions (k-fold over the training texts: a model is never calibrated on its own training fit).
//!
//! Hand-written rather than a crate: the model is a dot product over a byte table and the format is a header and
//! one array; a serialisation or ML crate would add a dependency for ten lines of parsing and pull floating-point
//! formats we do not need.
//!
//! # Training
//!
//! `cargo run --release --example train_abuse_ngram` reads the development sets of `tests/fixtures/abuse/` (never
//! the validation sets `blind10.jsonl`–`blind13.jsonl`, never `heldout.jsonl`), with chat from the spam
//! collections as non-abusive background, and writes `ngram_model.bin` next to this file (see
//! `tests/fixtures/abuse/README.md` for the figures). Training is deterministic (fixed seed, fixed order): the same
//! texts give the same bytes.
//!
//! # Invariants
//!
//! * Pure, no I/O; the embedded model is parsed once ([`get`]), warmed by [`super::warm_up`].
//! * Linear in the text (one byte pass, capped at [`MAX_BAYES_BYTES`]); every logit is finite.

use crate::analysis::spam::tokens::{MAX_BAYES_BYTES, capped, fmix64};
use std::ops::Range;
use std::sync::LazyLock;

/// File magic.
pub const MAGIC: &[u8; 4] = b"CGNG";
/// The format version this code reads and the trainer writes.
pub const VERSION: u16 = 1;
/// Number of categories in a file (those of [`super::Category::ALL`]).
pub const CATEGORIES: usize = 5;
/// Header bytes before the per-category floats.
const HEAD: usize = 4 + 2 + 1 + 1 + 4 + 4;

/// Why a model file was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FormatError {
    #[error("not an n-gram abuse model (bad magic)")]
    Magic,
    #[error("unsupported version {0}")]
    Version(u16),
    #[error("bad dimensions: {0}")]
    Dimensions(String),
    #[error("truncated or oversized file: {0} bytes, expected {1}")]
    Length(usize, usize),
}

/// A parsed model.
#[derive(Debug, Clone, PartialEq)]
pub struct NgramModel {
    /// log2 of the number of buckets.
    pub bits: u8,
    /// A weight is `i8 × scale`.
    pub scale: f32,
    /// The feature vector is scaled by 1/√max(keys, floor).
    pub floor: f32,
    pub bias: [f32; CATEGORIES],
    /// Calibration of the raw log-odds: `a × raw + b`.
    pub a: [f32; CATEGORIES],
    pub b: [f32; CATEGORIES],
    /// `2^bits × CATEGORIES`, bucket-major.
    pub weights: Vec<i8>,
}

/// The bucket of a 64-bit feature key in a table of `2^bits` (Fibonacci hashing).
#[inline]
pub fn bucket(key: u64, bits: u8) -> usize {
    (key.wrapping_mul(0x9e37_79b9_7f4a_7c15) >> (64 - u32::from(bits))) as usize
}

const FNV_OFFSET: u64 = 0xcbf2_9ce4_8422_2325;
const FNV_PRIME: u64 = 0x0000_0100_0000_01b3;
/// Family tags mixed into the keys, so a word, a pair and a byte window never share a key by construction.
const WINDOW: u64 = 0x5151_0000_0000_0000;
const PAIR: u64 = 0x2545_f491_4f6c_dd1d;

/// Calls `f(bucket)` for each feature occurrence of `text` (the folded text), and returns how many there were:
/// every window of four bytes (with a space before and after the text; runs of whitespace count as one space,
/// digits as `0`; a window equal to one of the four before it is a repeated run and skipped), every word (a run of
/// ASCII letters and digits or non-ASCII bytes) and every pair of consecutive words. Reads at most
/// [`MAX_BAYES_BYTES`] bytes.
///
/// Not the spam tokenizer ([`crate::analysis::spam::tokens::for_each_feature`]), though it has the same families:
/// that one works on chars and hashes each 4-gram with a full 64-bit mixer — 3.2 µs per 300-byte comment, which with
/// the lookups cost the scan 5 µs; this pass reads bytes once, a window being its four bytes as an integer, for
/// about a third of that. On Urdu and Hindi text a byte window is about two letters.
pub fn for_each_bucket(text: &str, bits: u8, mut f: impl FnMut(usize)) -> usize {
    features(text, bits, |b, _| f(b))
}

/// What a feature occurrence of [`for_each_bucket`] is, in the order the pass meets them: a window comes as its last
/// byte is read (before the word that byte ends, if any), a word and then its pair with the word before as the word
/// ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum At {
    Window,
    /// A word, by its start and end (byte offsets of the text).
    Word(usize, usize),
    /// The word just ended with the one before it.
    Pair,
}

/// [`for_each_bucket`] saying what each occurrence is: the one pass that both scoring (which ignores it, and compiles
/// to the same loop) and [`NgramModel::word_weights`] read, so the words shown are those the score came from.
#[inline(always)]
fn features(text: &str, bits: u8, mut f: impl FnMut(usize, At)) -> usize {
    let bytes = capped(text, MAX_BAYES_BYTES).as_bytes();
    let mut n = 0;
    let mut win: u32 = u32::from_le_bytes([b' '; 4]);
    let mut last = b' ';
    let mut word = FNV_OFFSET;
    let mut in_word = false;
    let mut start = 0;
    let mut prev: Option<u64> = None;
    // The last four windows: a window equal to one of them repeats a run of period ≤ 4 bytes ("!!!!", "hahaha", a
    // four-byte emoji forty times) and is not counted again, or a run's few windows would outweigh the whole comment.
    let (mut w1, mut w2, mut w3, mut w4) = (u32::MAX, u32::MAX, u32::MAX, u32::MAX);
    for (i, &b) in bytes.iter().chain(std::iter::once(&b' ')).enumerate() {
        let b = match b {
            b'0'..=b'9' => b'0',
            b' ' | b'\t' | b'\n' | b'\r' => b' ',
            _ => b,
        };
        if !(b == b' ' && last == b' ') {
            win = (win << 8) | u32::from(b);
            if win != w1 && win != w2 && win != w3 && win != w4 {
                f(bucket(u64::from(win) ^ WINDOW, bits), At::Window);
                n += 1;
            }
            (w4, w3, w2, w1) = (w3, w2, w1, win);
        }
        last = b;
        if b.is_ascii_alphanumeric() || b >= 0x80 {
            if !in_word {
                start = i;
            }
            word = (word ^ u64::from(b)).wrapping_mul(FNV_PRIME);
            in_word = true;
        } else if in_word {
            let k = fmix64(word);
            f(bucket(k, bits), At::Word(start, i));
            n += 1;
            if let Some(p) = prev {
                f(bucket(p.rotate_left(23) ^ k ^ PAIR, bits), At::Pair);
                n += 1;
            }
            prev = Some(k);
            (word, in_word) = (FNV_OFFSET, false);
        }
    }
    n
}

impl NgramModel {
    /// Number of buckets.
    pub fn buckets(&self) -> usize {
        1 << self.bits
    }

    /// Parses a model file.
    pub fn decode(bytes: &[u8]) -> Result<NgramModel, FormatError> {
        if bytes.len() < HEAD || &bytes[..4] != MAGIC {
            return Err(FormatError::Magic);
        }
        let version = u16::from_le_bytes([bytes[4], bytes[5]]);
        if version != VERSION {
            return Err(FormatError::Version(version));
        }
        let (bits, cats) = (bytes[6], usize::from(bytes[7]));
        if !(8..=24).contains(&bits) || cats != CATEGORIES {
            return Err(FormatError::Dimensions(format!("bits {bits}, categories {cats}")));
        }
        let floats = HEAD + 12 * CATEGORIES;
        let expected = floats + (1usize << bits) * CATEGORIES;
        if bytes.len() != expected {
            return Err(FormatError::Length(bytes.len(), expected));
        }
        let f = |at: usize| f32::from_le_bytes([bytes[at], bytes[at + 1], bytes[at + 2], bytes[at + 3]]);
        let mut m = NgramModel {
            bits,
            scale: f(8),
            floor: f(12),
            bias: [0.0; CATEGORIES],
            a: [0.0; CATEGORIES],
            b: [0.0; CATEGORIES],
            weights: bytes[floats..].iter().map(|&x| x as i8).collect(),
        };
        for c in 0..CATEGORIES {
            let at = HEAD + 12 * c;
            (m.bias[c], m.a[c], m.b[c]) = (f(at), f(at + 4), f(at + 8));
        }
        let all = [m.scale, m.floor].into_iter().chain(m.bias).chain(m.a).chain(m.b);
        if all.clone().any(|x| !x.is_finite()) {
            return Err(FormatError::Dimensions("a non-finite number".into()));
        }
        Ok(m)
    }

    /// The file bytes of this model.
    pub fn encode(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(HEAD + 12 * CATEGORIES + self.weights.len());
        out.extend_from_slice(MAGIC);
        out.extend_from_slice(&VERSION.to_le_bytes());
        out.push(self.bits);
        out.push(CATEGORIES as u8);
        out.extend_from_slice(&self.scale.to_le_bytes());
        out.extend_from_slice(&self.floor.to_le_bytes());
        for c in 0..CATEGORIES {
            for x in [self.bias[c], self.a[c], self.b[c]] {
                out.extend_from_slice(&x.to_le_bytes());
            }
        }
        out.extend(self.weights.iter().map(|&w| w as u8));
        out
    }

    /// The raw (uncalibrated) log-odds per category of `text` (the folded text).
    pub fn raw(&self, text: &str) -> [f64; CATEGORIES] {
        let mut sum = [0i32; CATEGORIES];
        let n = for_each_bucket(text, self.bits, |b| {
            let row = &self.weights[b * CATEGORIES..(b + 1) * CATEGORIES];
            for (s, &w) in sum.iter_mut().zip(row) {
                *s += i32::from(w);
            }
        });
        let norm = f64::from(self.scale) / (n as f64).max(f64::from(self.floor)).max(1.0).sqrt();
        std::array::from_fn(|c| f64::from(self.bias[c]) + f64::from(sum[c]) * norm)
    }

    /// The calibrated log-odds per category of `text` (the folded text).
    pub fn logits(&self, text: &str) -> [f64; CATEGORIES] {
        let raw = self.raw(text);
        std::array::from_fn(|c| f64::from(self.a[c]) * raw[c] + f64::from(self.b[c]))
    }

    /// What each word of `text` (the folded text) adds to each category's calibrated log-odds: its own feature, half
    /// of each pair it is in, and the windows ending in the gap before it, in it or on the byte that ends it (those
    /// after the last word go to it). The words a moderator is shown for a finding only this model made (see
    /// [`super::assess`]); one pass, as the score's, and only for a comment the model holds.
    pub fn word_weights(&self, text: &str) -> Vec<(Range<usize>, [f64; CATEGORIES])> {
        let row = |b: usize| &self.weights[b * CATEGORIES..(b + 1) * CATEGORIES];
        let mut words: Vec<(Range<usize>, [i32; CATEGORIES])> = Vec::new();
        // Twice the weights, so a pair's half stays an integer.
        let mut pending = [0i32; CATEGORIES];
        let n = features(text, self.bits, |b, at| match at {
            At::Window => pending.iter_mut().zip(row(b)).for_each(|(p, &w)| *p += 2 * i32::from(w)),
            At::Word(s, e) => {
                let mut sum = std::mem::take(&mut pending);
                sum.iter_mut().zip(row(b)).for_each(|(p, &w)| *p += 2 * i32::from(w));
                words.push((s..e, sum));
            }
            At::Pair => {
                let k = words.len();
                for (_, sum) in &mut words[k.saturating_sub(2)..] {
                    sum.iter_mut().zip(row(b)).for_each(|(p, &w)| *p += i32::from(w));
                }
            }
        });
        if let Some((_, last)) = words.last_mut() {
            last.iter_mut().zip(pending).for_each(|(p, w)| *p += w);
        }
        let norm = f64::from(self.scale) / 2.0 / (n as f64).max(f64::from(self.floor)).max(1.0).sqrt();
        let words = words.into_iter();
        words.map(|(r, sum)| (r, std::array::from_fn(|c| f64::from(self.a[c]) * f64::from(sum[c]) * norm))).collect()
    }
}

static BYTES: &[u8] = include_bytes!("ngram_model.bin");

/// An all-zero model scoring every text at the calibration offset (used only if the embedded file were broken, which
/// the unit tests rule out: a broken file must not take the service down).
fn empty() -> NgramModel {
    NgramModel {
        bits: 8,
        scale: 0.0,
        floor: 1.0,
        bias: [0.0; CATEGORIES],
        a: [0.0; CATEGORIES],
        b: [-20.0; CATEGORIES],
        weights: vec![0; 256 * CATEGORIES],
    }
}

static MODEL: LazyLock<NgramModel> = LazyLock::new(|| NgramModel::decode(BYTES).unwrap_or_else(|_| empty()));

/// The embedded model.
pub fn get() -> &'static NgramModel {
    &MODEL
}

/// Parses the embedded model now.
pub fn warm_up() {
    LazyLock::force(&MODEL);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_embedded_model_is_the_trainers_format() {
        let m = NgramModel::decode(BYTES).expect("the embedded model parses");
        assert_eq!(&BYTES[..4], MAGIC);
        assert_eq!(u16::from_le_bytes([BYTES[4], BYTES[5]]), VERSION);
        assert_eq!(m.weights.len(), m.buckets() * CATEGORIES);
        assert!(m.weights.iter().any(|&w| w != 0), "a trained model has weights");
        assert_eq!(m.encode(), BYTES, "encode is decode's inverse");
        assert_ne!(get(), &empty());
        for l in m.logits("") {
            assert!(l.is_finite());
        }
    }

    /// The words' weights are the model's log-odds taken apart: together they are the calibrated log-odds less the
    /// part no word carries (bias and offset), so the words shown are those the score came from.
    #[test]
    fn word_weights_add_up_to_the_score() {
        let m = get();
        let texts =
            ["tera wo haal karenge ke yaad rakhega", "we know where you live!!!! 😊😊😊😊", "  x", "ab", "a, b"];
        for text in texts {
            let words = m.word_weights(text);
            assert!(!words.is_empty(), "{text}");
            let wordlike = |r: &Range<usize>| text[r.clone()].bytes().all(|b| b.is_ascii_alphanumeric() || b >= 0x80);
            assert!(words.iter().all(|(r, _)| wordlike(r)), "{words:?}");
            for (c, logit) in m.logits(text).into_iter().enumerate() {
                let sum: f64 = words.iter().map(|(_, w)| w[c]).sum();
                let rest = f64::from(m.a[c]) * f64::from(m.bias[c]) + f64::from(m.b[c]);
                assert!((sum + rest - logit).abs() < 1e-6, "{text} {c}: {sum} + {rest} vs {logit}");
            }
        }
        assert!(m.word_weights("!!! ...").is_empty(), "no word, nothing to show");
    }

    #[test]
    fn broken_files_are_refused() {
        assert_eq!(NgramModel::decode(b"nope"), Err(FormatError::Magic));
        let mut v = BYTES.to_vec();
        v[4] = 9;
        assert!(matches!(NgramModel::decode(&v), Err(FormatError::Version(_))));
        let short = &BYTES[..BYTES.len() - 1];
        assert!(matches!(NgramModel::decode(short), Err(FormatError::Length(..))));
        let mut bad = BYTES.to_vec();
        bad[6] = 40;
        assert!(matches!(NgramModel::decode(&bad), Err(FormatError::Dimensions(_))));
    }
}

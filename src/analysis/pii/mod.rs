//! PII detection: finds personal data in a comment and says where it is, so policy can redact, hold or reject.
//!
//! Pure: no I/O, no async, no mutable globals (only lazily built, immutable tables and automata in
//! `std::sync::LazyLock`, and one write-once cell per phone region in `phone_meta`), and it never panics, whatever the
//! input.
//!
//! # How a comment is scanned
//! Detection runs on the [`Normalized`] text (NFKC, lowercase, digits of every script folded to ASCII, zero-width and
//! bidi characters removed), so `۰۳۰۰-۱۲۳۴۵۶۷`, `0300\u{200B}1234567` and `ｊｏｈｎ＠ｇｍａｉｌ．ｃｏｍ` look like their plain
//! forms; spans are mapped back to the original body with [`Normalized::original_range`]. Two families need the
//! original's letter case and run on the original text instead: secrets (`AKIA…`, `AIza…`, JWTs) and base58 Bitcoin
//! addresses (the checksum is case-sensitive).
//!
//! Scanning is cheap on clean text: one byte loop cuts the text into *numeric chunks* (digit groups joined by at most
//! three separators from ` .-()/`, see `scan`), `memchr` finds `@` and the few obfuscation anchors, and an
//! Aho-Corasick automaton finds secret prefixes. Validators (Luhn, mod-97, Verhoeff, checksums, the phone metadata) run
//! only on those candidates, and the context-word automaton only scans a small window around a candidate that asks.
//!
//! # Scores
//! | score | meaning |
//! | --- | --- |
//! | 0.97–0.99 | a checksum-validated strong format: card (Luhn + issuer + length), IBAN (mod-97 + country format), Bitcoin (base58check / bech32), Aadhaar 4-4-4 (Verhoeff) |
//! | 0.90–0.96 | a distinctive format: international phone valid for its country, formatted national mobile, plain email, hyphenated CNIC/SSN, NINO, IP address, API keys and tokens, private-key blocks, URL passwords, Ethereum address |
//! | 0.80–0.89 | weaker evidence: obfuscated email, unformatted national mobile, formatted national fixed line |
//! | 0.70–0.79 | a bare digit run that only counts because a context word is near (unhyphenated SSN/CNIC/Aadhaar, unformatted fixed line) |
//!
//! A context word of the matching kind near a candidate adds [`CONTEXT_BOOST`] (capped at 0.99).
//!
//! # Overlaps
//! When two detectors claim overlapping text, the more specific one wins (secret > wallet > IBAN > email > card >
//! CNIC > SSN > Aadhaar > NINO > IP > phone), then the longer span. Each surviving occurrence is one [`Finding`] with
//! exactly one span.
//!
//! Invariant: every span is non-empty, within the original body and on its char boundaries.
//! Invariant: a finding's `detail` never contains the matched value.

mod card;
mod context;
mod crypto;
mod email;
mod iban;
mod ids;
mod ip;
mod phone;
mod phone_meta;
pub mod redact;
mod scan;
mod secret;
mod tld;

use crate::analysis::normalize::Normalized;
use crate::domain::Finding;
use crate::findings::FindingCode;
use std::cell::OnceCell;
use std::collections::BTreeMap;
use std::ops::Range;

/// Score added when a context word of the candidate's kind is near it.
pub const CONTEXT_BOOST: f64 = 0.04;

/// At most this many findings per comment: a comment with more is spam whatever they are, and the cap bounds the
/// size of a response.
pub const MAX_FINDINGS: usize = 512;

/// Per-site settings of the PII detectors.
#[derive(Debug, Clone)]
pub struct PiiConfig {
    /// Phone numbers written without a country code are read as this region's (DESIGN §7 `default_region`).
    pub default_region: phonenumber::country::Id,
}

impl Default for PiiConfig {
    fn default() -> PiiConfig {
        PiiConfig { default_region: phonenumber::country::Id::PK }
    }
}

/// Builds every lazily initialised table and loads the phone metadata (the first phone parse costs ~80 ms), so the
/// first comment after start-up is as fast as the rest. Call once at start-up; calling it again is cheap.
pub fn warm_up() {
    context::warm_up();
    crypto::warm_up();
    email::warm_up();
    secret::warm_up();
    phone::warm_up();
    let norm = Normalized::new("warm up: +92 300 1234567, a@b.com");
    let _ = detect(norm.as_str(), &norm, &PiiConfig::default());
}

/// Finds the PII in `original`, whose normalised form is `norm`. One finding per occurrence, sorted by span start.
pub fn detect(original: &str, norm: &Normalized, cfg: &PiiConfig) -> Vec<Finding> {
    let mut scan = Scan::new(original, norm, cfg);
    // Order matters only for the claims (see `Scan::claim`): numeric detectors run from most to least specific so
    // the phone detector, the most expensive, skips text a stronger detector already explained.
    secret::detect(&mut scan);
    crypto::detect(&mut scan);
    iban::detect(&mut scan);
    email::detect(&mut scan);
    phone::detect_links(&mut scan);
    card::detect(&mut scan);
    ids::detect(&mut scan);
    ip::detect(&mut scan);
    phone::detect(&mut scan);
    scan.finish()
}

/// Which text a hit's span indexes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Space {
    /// The normalised text (mapped back before reporting).
    Norm,
    /// The original body.
    Orig,
}

/// One detector's claim, before overlap resolution.
#[derive(Debug, Clone)]
pub(crate) struct Hit {
    pub code: &'static FindingCode,
    pub span: Range<usize>,
    pub space: Space,
    pub score: f64,
    pub detail: String,
}

/// The state of one `detect` call, shared by the detectors.
pub(crate) struct Scan<'a> {
    pub original: &'a str,
    /// The normalised body with its map to the original.
    pub norm: &'a Normalized,
    /// The normalised text.
    pub text: &'a str,
    pub cfg: &'a PiiConfig,
    chunks: OnceCell<scan::Chunks>,
    hits: Vec<Hit>,
    /// Normalised ranges already explained by a detector (start → end), so later numeric detectors skip them.
    claimed: BTreeMap<usize, usize>,
    /// How many more phone-metadata parses this call may spend (see `phone::PARSE_BUDGET`).
    pub phone_budget: u32,
}

impl<'a> Scan<'a> {
    fn new(original: &'a str, norm: &'a Normalized, cfg: &'a PiiConfig) -> Scan<'a> {
        Scan {
            original,
            norm,
            text: norm.as_str(),
            cfg,
            chunks: OnceCell::new(),
            hits: Vec::new(),
            claimed: BTreeMap::new(),
            phone_budget: phone::PARSE_BUDGET,
        }
    }

    /// Context-word look-ups in the normalised text.
    pub fn context(&self) -> context::ContextIndex<'a> {
        context::ContextIndex::new(self.text)
    }

    /// Numeric chunks of the normalised text, cut on first use.
    pub fn chunks(&self) -> &scan::Chunks {
        self.chunks.get_or_init(|| scan::Chunks::cut(self.text))
    }

    /// Records a hit. A normalised-space hit is also claimed.
    pub fn push(&mut self, code: &'static FindingCode, span: Range<usize>, space: Space, score: f64, detail: String) {
        if span.start >= span.end {
            return;
        }
        if space == Space::Norm {
            self.claim(span.clone());
        }
        self.hits.push(Hit { code, span, space, score: score.clamp(0.0, 0.99), detail });
    }

    fn claim(&mut self, span: Range<usize>) {
        let end = self.claimed.entry(span.start).or_insert(span.end);
        *end = (*end).max(span.end);
    }

    /// Whether a normalised range overlaps text already claimed.
    pub fn is_claimed(&self, span: &Range<usize>) -> bool {
        // Claimed ranges may overlap each other, so look at every range starting before `span.end`; the map stays
        // small (one entry per hit), and the nearest few decide in practice.
        self.claimed.range(..span.end).rev().take(8).any(|(_, &end)| end > span.start)
    }

    /// Maps hits to the original, resolves overlaps, and builds the findings.
    fn finish(self) -> Vec<Finding> {
        let original = self.original;
        let norm = self.norm;
        let mut hits: Vec<Hit> = self
            .hits
            .into_iter()
            .filter_map(|mut h| {
                if h.space == Space::Norm {
                    h.span = norm.original_range(h.span.clone());
                    h.space = Space::Orig;
                }
                let ok = h.span.start < h.span.end
                    && h.span.end <= original.len()
                    && original.is_char_boundary(h.span.start)
                    && original.is_char_boundary(h.span.end);
                ok.then_some(h)
            })
            .collect();
        hits.sort_by(|a, b| {
            priority(b.code)
                .cmp(&priority(a.code))
                .then((b.span.end - b.span.start).cmp(&(a.span.end - a.span.start)))
                .then(a.span.start.cmp(&b.span.start))
        });
        // Accepted spans never overlap one another, so the one starting nearest before a candidate's end is the
        // only one that can overlap it.
        let mut taken: BTreeMap<usize, usize> = BTreeMap::new();
        let mut kept = Vec::new();
        for h in hits {
            let overlaps = taken.range(..h.span.end).next_back().is_some_and(|(_, &end)| end > h.span.start);
            if !overlaps {
                taken.insert(h.span.start, h.span.end);
                kept.push(h);
            }
        }
        kept.sort_by_key(|h| (h.span.start, h.span.end));
        kept.truncate(MAX_FINDINGS);
        kept.into_iter().map(|h| Finding::new(h.code, h.score, h.detail).with_spans(vec![h.span])).collect()
    }
}

/// Specificity of a code in overlap resolution (higher wins).
fn priority(code: &FindingCode) -> u8 {
    use crate::findings as f;
    let order: [&FindingCode; 11] = [
        &f::PII_PHONE,
        &f::PII_IP_ADDRESS,
        &f::PII_UK_NINO,
        &f::PII_IN_AADHAAR,
        &f::PII_US_SSN,
        &f::PII_PK_CNIC,
        &f::PII_CREDIT_CARD,
        &f::PII_EMAIL,
        &f::PII_IBAN,
        &f::PII_CRYPTO_WALLET,
        &f::PII_SECRET,
    ];
    order.iter().position(|c| c.code == code.code).map_or(0, |p| p as u8 + 1)
}

/// Adds the context boost when `near` holds.
pub(crate) fn boost(score: f64, near: bool) -> f64 {
    if near { (score + CONTEXT_BOOST).min(0.99) } else { score }
}

#[cfg(test)]
mod tests;

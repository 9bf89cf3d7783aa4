//! Credentials with well-known shapes, found on the ORIGINAL text (their alphabets are case-sensitive):
//!
//! | shape | rule |
//! | --- | --- |
//! | AWS access key id | `AKIA`/`ASIA` + 16 of `[A-Z0-9]` |
//! | GitHub token | `ghp_`/`gho_`/`ghu_`/`ghs_`/`ghr_` + 30–40 alphanumerics; `github_pat_` + ≥ 50 of `[A-Za-z0-9_]` |
//! | Slack token | `xoxb-`/`xoxp-`/`xoxa-`/`xoxr-`/`xoxs-` + ≥ 15 of `[A-Za-z0-9-]` with a digit |
//! | Stripe secret key | `sk_live_`/`rk_live_`/`sk_test_` + ≥ 16 alphanumerics |
//! | Google API key | `AIza` + 35 of `[A-Za-z0-9_-]` |
//! | JWT | `eyJ…` `.` `eyJ…` `.` signature: base64url parts of ≥ 10, ≥ 10 and ≥ 16 characters |
//! | private key | `-----BEGIN … PRIVATE KEY-----` through the matching `-----END … PRIVATE KEY-----` (or the base64 body) |
//! | URL credentials | `scheme://user:password@host`: the span is `user:password` |
//! | AWS secret access key | exactly 40 of `[A-Za-z0-9+/]` standing alone, see below |
//!
//! Every token must start and end at a word boundary, so prose mentioning "AKIA" or "eyJ" does not fire.
//!
//! An AWS secret access key has no prefix: it is 40 random base64 characters. A run of exactly 40 such characters
//! counts when it looks random — upper, lower and a digit, not in a URL, at most [`AWS_MAX_SYMBOLS`] of `+` and `/`,
//! and a character entropy of at least [`AWS_MIN_ENTROPY`] bits (random keys: 1st percentile ≈ 4.47, median ≈ 4.78;
//! hex digests cannot pass, their alphabet caps them at 4) — or, with a word `aws`, `secret` or `key` in the
//! [`AWS_CONTEXT`] bytes before it, any number of those and an entropy of at least [`AWS_CONTEXT_ENTROPY`]. On the real comments of `../shared/data`
//! (7,530 YouTube and SMS texts) no run of exactly 40 such characters exists; the nearest (41, an SMS sender's
//! address `150p/MsgrcvdHG/Suite342/…`) has five slashes.

use super::{Scan, Space};
use crate::findings::PII_SECRET;
use aho_corasick::{AhoCorasick, AhoCorasickBuilder, MatchKind};
use std::ops::Range;
use std::sync::LazyLock;

#[derive(Clone, Copy)]
enum Kind {
    Aws,
    GitHub,
    GitHubPat,
    Slack,
    Stripe,
    Google,
    Jwt,
    PrivateKey,
    UrlCredentials,
}

const PREFIXES: &[(&str, Kind)] = &[
    ("AKIA", Kind::Aws),
    ("ASIA", Kind::Aws),
    ("ghp_", Kind::GitHub),
    ("gho_", Kind::GitHub),
    ("ghu_", Kind::GitHub),
    ("ghs_", Kind::GitHub),
    ("ghr_", Kind::GitHub),
    ("github_pat_", Kind::GitHubPat),
    ("xoxb-", Kind::Slack),
    ("xoxp-", Kind::Slack),
    ("xoxa-", Kind::Slack),
    ("xoxr-", Kind::Slack),
    ("xoxs-", Kind::Slack),
    ("sk_live_", Kind::Stripe),
    ("rk_live_", Kind::Stripe),
    ("sk_test_", Kind::Stripe),
    ("AIza", Kind::Google),
    ("eyJ", Kind::Jwt),
    ("-----BEGIN ", Kind::PrivateKey),
    ("://", Kind::UrlCredentials),
];

static PREFIX_AC: LazyLock<AhoCorasick> = LazyLock::new(|| {
    AhoCorasickBuilder::new()
        .match_kind(MatchKind::LeftmostLongest)
        .build(PREFIXES.iter().map(|p| p.0))
        .expect("secret prefixes form a valid automaton")
});

pub fn warm_up() {
    LazyLock::force(&PREFIX_AC);
}

pub fn detect(s: &mut Scan<'_>) {
    let b = s.original.as_bytes();
    let mut found: Vec<(Range<usize>, &'static str)> = Vec::new();
    let mut skip_to = 0;
    for m in PREFIX_AC.find_iter(s.original) {
        let (start, after) = (m.start(), m.end());
        if start < skip_to {
            continue;
        }
        let Some(&(_, kind)) = PREFIXES.get(m.pattern().as_usize()) else {
            continue;
        };
        let word_start = start == 0 || !is_word(b[start - 1]);
        let hit = match kind {
            Kind::Aws if word_start => exact(b, after, 16, |c| c.is_ascii_uppercase() || c.is_ascii_digit())
                .map(|e| (start..e, "AWS access key id")),
            Kind::GitHub if word_start => {
                run(b, after, 30, 40, |c| c.is_ascii_alphanumeric()).map(|e| (start..e, "GitHub token"))
            }
            Kind::GitHubPat if word_start => run(b, after, 50, 255, |c| c.is_ascii_alphanumeric() || c == b'_')
                .map(|e| (start..e, "GitHub fine-grained token")),
            Kind::Slack if word_start => run(b, after, 15, 255, |c| c.is_ascii_alphanumeric() || c == b'-')
                .filter(|&e| b[after..e].iter().any(u8::is_ascii_digit))
                .map(|e| (start..e, "Slack token")),
            Kind::Stripe if word_start => {
                run(b, after, 16, 255, |c| c.is_ascii_alphanumeric()).map(|e| (start..e, "Stripe secret key"))
            }
            Kind::Google if word_start => exact(b, after, 35, |c| c.is_ascii_alphanumeric() || c == b'_' || c == b'-')
                .map(|e| (start..e, "Google API key")),
            Kind::Jwt if word_start => jwt(b, start).map(|e| (start..e, "JSON Web Token")),
            Kind::PrivateKey => private_key(s.original, start).map(|e| (start..e, "private key block")),
            Kind::UrlCredentials => url_credentials(b, after).map(|r| (r, "URL with a password")),
            _ => None,
        };
        if let Some((span, detail)) = hit {
            skip_to = span.end;
            found.push((span, detail));
        }
    }
    let mut found: Vec<(Range<usize>, &'static str, f64)> = found.into_iter().map(|(r, d)| (r, d, 0.95)).collect();
    for (span, near) in aws_secret_keys(s.original) {
        if !found.iter().any(|(f, ..)| f.start < span.end && span.start < f.end) {
            found.push((span, "AWS secret access key (40 random base64 characters)", if near { 0.9 } else { 0.8 }));
        }
    }
    for (span, detail, score) in found {
        s.push(&PII_SECRET, span, Space::Orig, score, detail.to_string());
    }
}

/// Least character entropy (bits) of a bare 40-character run to count as an AWS secret access key.
pub const AWS_MIN_ENTROPY: f64 = 4.3;
/// Least entropy when a context word is near.
pub const AWS_CONTEXT_ENTROPY: f64 = 3.8;
/// Most `+` and `/` in a bare key (random keys average 1.25, 99% have at most 4; slash-separated paths have more).
/// A key with a context word near may have any number.
pub const AWS_MAX_SYMBOLS: usize = 4;
/// How far before a run a context word is looked for, in bytes.
pub const AWS_CONTEXT: usize = 48;

/// Runs of exactly 40 base64 characters that pass the AWS secret key rules (see the module docs), with whether a
/// context word was near. Reads about one byte in five of ordinary prose (see the skip-scan below).
fn aws_secret_keys(text: &str) -> Vec<(Range<usize>, bool)> {
    let b = text.as_bytes();
    let in_alphabet = |c: u8| c.is_ascii_alphanumeric() || c == b'+' || c == b'/';
    let mut out = Vec::new();
    // Skip-scan: a window of 40 bytes holding a byte outside the alphabet cannot start a run, so jump past the last
    // such byte (on prose that skips most of the text without looking at it). A window wholly in the alphabet is
    // only ever reached at 0 or right after a byte outside it, so it starts a maximal run.
    let mut i = 0;
    while let Some(window) = b.get(i..i + 40) {
        if let Some(k) = window.iter().rposition(|&c| !in_alphabet(c)) {
            i += k + 1;
            continue;
        }
        let start = i;
        i += 40;
        while i < b.len() && in_alphabet(b[i]) {
            i += 1;
        }
        if i - start != 40
            || matches!(b.get(i), Some(b'=' | b'_' | b'-'))
            || matches!(start.checked_sub(1).map(|p| b[p]), Some(b'_' | b'-'))
        {
            continue;
        }
        let run = &b[start..i];
        let classes = run.iter().any(u8::is_ascii_uppercase)
            && run.iter().any(u8::is_ascii_lowercase)
            && run.iter().any(u8::is_ascii_digit);
        let symbols = run.iter().filter(|&&c| c == b'+' || c == b'/').count();
        if !classes || run[0] == b'/' || super::scan::in_url(b, start) {
            continue;
        }
        let near = aws_context(text, start);
        if !near && symbols > AWS_MAX_SYMBOLS {
            continue;
        }
        let need = if near { AWS_CONTEXT_ENTROPY } else { AWS_MIN_ENTROPY };
        if entropy(run) >= need {
            out.push((start..i, near));
        }
    }
    out
}

/// Whether `aws`, `secret` or `key` (any case) appears in the [`AWS_CONTEXT`] bytes before `start`.
fn aws_context(text: &str, start: usize) -> bool {
    let mut lo = start.saturating_sub(AWS_CONTEXT);
    while !text.is_char_boundary(lo) {
        lo += 1;
    }
    let window = text.get(lo..start).unwrap_or_default().to_ascii_lowercase();
    ["aws", "secret", "key"].iter().any(|w| window.contains(w))
}

/// Shannon entropy of the byte distribution of `run`, in bits per byte.
fn entropy(run: &[u8]) -> f64 {
    let mut counts = [0u32; 256];
    for &c in run {
        counts[usize::from(c)] += 1;
    }
    let n = run.len() as f64;
    counts.iter().filter(|&&k| k > 0).map(|&k| f64::from(k) / n).map(|p| -p * p.log2()).sum()
}

fn is_word(c: u8) -> bool {
    c.is_ascii_alphanumeric() || c == b'_' || c == b'-'
}

/// Exactly `n` bytes of `ok` from `at`, then a word boundary; the end offset.
fn exact(b: &[u8], at: usize, n: usize, ok: impl Fn(u8) -> bool) -> Option<usize> {
    run(b, at, n, n, ok)
}

/// Between `min` and `max` bytes of `ok` from `at`, then a word boundary; the end offset.
fn run(b: &[u8], at: usize, min: usize, max: usize, ok: impl Fn(u8) -> bool) -> Option<usize> {
    let n = b.get(at..)?.iter().take(max + 1).take_while(|&&c| ok(c)).count();
    let end = at + n;
    ((min..=max).contains(&n) && !b.get(end).is_some_and(|&c| is_word(c))).then_some(end)
}

fn jwt(b: &[u8], start: usize) -> Option<usize> {
    let part = |c: u8| c.is_ascii_alphanumeric() || c == b'_' || c == b'-';
    let p1 = start + b.get(start..)?.iter().take(4096).take_while(|&&c| part(c)).count();
    if p1 - start < 10 || b.get(p1) != Some(&b'.') || !b.get(p1 + 1..)?.starts_with(b"eyJ") {
        return None;
    }
    let p2 = p1 + 1 + b.get(p1 + 1..)?.iter().take(8192).take_while(|&&c| part(c)).count();
    if p2 - p1 - 1 < 10 || b.get(p2) != Some(&b'.') {
        return None;
    }
    let p3 = p2 + 1 + b.get(p2 + 1..)?.iter().take(4096).take_while(|&&c| part(c)).count();
    (p3 - p2 > 16).then_some(p3)
}

/// A PEM private-key block from its `-----BEGIN` at `start`. The END line is looked for within [`MAX_PEM`] bytes,
/// which keeps the scan linear when a text repeats BEGIN lines.
fn private_key(text: &str, start: usize) -> Option<usize> {
    let b = text.as_bytes();
    let hs = start + "-----BEGIN ".len();
    let header_end = hs + memchr::memmem::find(b.get(hs..b.len().min(hs + 64))?, b"-----")?;
    if !b.get(hs..header_end)?.ends_with(b"PRIVATE KEY") {
        return None;
    }
    let rest = header_end + 5;
    let window = b.get(rest..b.len().min(rest + MAX_PEM))?;
    if let Some(k) = memchr::memmem::find(window, b"-----END ") {
        let end_at = rest + k + "-----END ".len();
        let close = memchr::memmem::find(b.get(end_at..b.len().min(end_at + 64))?, b"-----")?;
        return Some(end_at + close + 5);
    }
    // No END line: take the base64 body.
    let body = window.iter().take_while(|c| c.is_ascii_alphanumeric() || b"+/=\r\n ".contains(c)).count();
    Some(rest + body)
}

/// How far a PEM body may run (a 4096-bit RSA key is about 3.3 KB).
const MAX_PEM: usize = 16 * 1024;

/// `user:password` after `://`, when followed by `@` and a host.
fn url_credentials(b: &[u8], after: usize) -> Option<Range<usize>> {
    let info = |c: u8| c.is_ascii_alphanumeric() || b"._~%!$&'()*+,;=:-".contains(&c);
    let n = b.get(after..)?.iter().take(257).take_while(|&&c| info(c)).count();
    let end = after + n;
    if n == 0 || n > 256 || b.get(end) != Some(&b'@') || !b.get(end + 1).is_some_and(u8::is_ascii_alphanumeric) {
        return None;
    }
    let colon = b[after..end].iter().position(|&c| c == b':')?;
    (colon > 0 && colon + 1 < n).then_some(after..end)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shapes() {
        let b = b"key AKIAIOSFODNN7EXAMPLE done";
        assert_eq!(exact(b, 8, 16, |c| c.is_ascii_uppercase() || c.is_ascii_digit()), Some(24));
        let b = b"https://bob:s3cret@example.com/x";
        assert_eq!(url_credentials(b, 8), Some(8..18));
        assert_eq!(url_credentials(b"https://example.com/@x", 8), None);
        let k = "-----BEGIN RSA PRIVATE KEY-----\nMIIB\n-----END RSA PRIVATE KEY----- bye";
        assert_eq!(private_key(k, 0), Some(k.len() - 4));
    }

    #[test]
    fn bare_aws_secret_keys() {
        let key = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY";
        let spans =
            |t: &str| aws_secret_keys(t).into_iter().map(|(r, near)| (t[r].to_string(), near)).collect::<Vec<_>>();
        assert_eq!(spans(key), vec![(key.to_string(), false)]);
        assert_eq!(spans(&format!("aws_secret_access_key={key}")), vec![(key.to_string(), true)]);
        assert_eq!(spans(&format!("my {key}.")), vec![(key.to_string(), false)]);
        // Not 40, hex digests, slash-separated paths, URLs, and longer identifiers.
        assert!(spans(&format!("{key}x")).is_empty());
        assert!(spans("da39a3ee5e6b4b0d3255bfef95601890afd80709").is_empty());
        assert!(spans("150p/MsgrcvdHG/Suite342/2Lands/Row/W1J6H").is_empty());
        assert!(spans(&format!("https://example.com/{key}")).is_empty());
        assert!(spans(&format!("x_{key}")).is_empty());
        assert!(spans("AAAAAAAAAAbbbbbbbbbb11111111112222222222").is_empty());
        // The skip-scan finds keys after longer and shorter runs, back to back, and at the very end.
        let many = format!("{} {key} {} {key}", "a".repeat(45), "b".repeat(39));
        assert_eq!(aws_secret_keys(&many).len(), 2);
    }
}

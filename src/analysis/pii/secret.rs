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
//!
//! Every token must start and end at a word boundary, so prose mentioning "AKIA" or "eyJ" does not fire.

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
    for (span, detail) in found {
        s.push(&PII_SECRET, span, Space::Orig, 0.95, detail.to_string());
    }
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
}

//! IP addresses, parsed with `std::net`.
//!
//! IPv4: four dot-separated decimal groups of a numeric chunk (each 0–255, no leading zeros), not glued to letters
//! or further dots/digits. A dotted quad right after a version word — `v`, `ver`, `version`, `release`, `build`,
//! `firmware`, `android`, `ios`, `chrome` — is a version string, not an address (`v1.2.3.4`, `version 10.0.0.1`).
//!
//! IPv6: a token of hex digits, colons and dots holding at least two colons and one digit, which `Ipv6Addr` parses
//! (`2001:db8::1`, `::ffff:10.0.0.1`); times like `12:30:45` and MAC addresses do not parse.

use super::{Scan, Space, scan};
use crate::findings::PII_IP_ADDRESS;
use std::net::{Ipv4Addr, Ipv6Addr};
use std::ops::Range;

/// Words that make a following dotted quad a version number.
const VERSION_WORDS: &[&[u8]] =
    &[b"v", b"ver", b"ver.", b"version", b"release", b"build", b"firmware", b"android", b"ios", b"chrome"];

pub fn detect(s: &mut Scan<'_>) {
    let text = s.text.as_bytes();
    let mut found: Vec<(Range<usize>, &'static str)> = Vec::new();
    for ch in &s.chunks().chunks {
        let groups = s.chunks().groups_of(ch);
        if groups.len() < 4 {
            continue;
        }
        for w in 0..=groups.len() - 4 {
            let gs = &groups[w..w + 4];
            let dotted = (1..4).all(|k| scan::sep(text, gs, k) == b".");
            let outer_ok = (w == 0 || scan::sep(text, groups, w) != b".")
                && (w + 4 == groups.len() || scan::sep(text, groups, w + 4) != b".");
            let span = gs[0].start..gs[3].end;
            if !dotted || !outer_ok || is_version(text, span.start) || glued(text, &span) {
                continue;
            }
            let ok = std::str::from_utf8(&text[span.clone()]).ok().and_then(|t| t.parse::<Ipv4Addr>().ok()).is_some();
            if ok && !s.is_claimed(&span) {
                found.push((span, "IPv4 address"));
            }
        }
    }
    ipv6(text, &mut found);
    for (span, detail) in found {
        s.push(&PII_IP_ADDRESS, span, Space::Norm, 0.9, detail.to_string());
    }
}

/// Letters or a dot-digit continuation on either side (`a1.2.3.4`, `1.2.3.4.5` is excluded by the chunking).
fn glued(text: &[u8], span: &Range<usize>) -> bool {
    let before = scan::before(text, span.start);
    let after = text.get(span.end).copied();
    (scan::is_alnum(before) && before != Some(b'v')) || scan::is_alnum(after)
}

fn is_version(text: &[u8], start: usize) -> bool {
    let mut end = start;
    // Skip one space or dot between the word and the number ("v 1.2.3.4", "ver.1.2.3.4").
    if matches!(scan::before(text, end), Some(b' ')) {
        end -= 1;
    }
    let mut begin = end;
    while begin > 0 && (text[begin - 1].is_ascii_alphabetic() || text[begin - 1] == b'.') && end - begin < 10 {
        begin -= 1;
    }
    let word = &text[begin..end];
    VERSION_WORDS.iter().any(|w| word == *w || word.strip_suffix(b".") == Some(*w))
}

/// Finds IPv6 addresses: tokens over `[0-9a-f:.]` with at least two colons, anchored on colons.
fn ipv6(text: &[u8], found: &mut Vec<(Range<usize>, &'static str)>) {
    let tok = |b: u8| b.is_ascii_hexdigit() || b == b':' || b == b'.';
    let mut from = 0;
    while let Some(k) = memchr::memchr(b':', &text[from..]) {
        let c = from + k;
        let mut a = c;
        while a > 0 && tok(text[a - 1]) && c - a < 45 {
            a -= 1;
        }
        let mut e = c;
        while e < text.len() && tok(text[e]) && e - a < 45 {
            e += 1;
        }
        from = e.max(c + 1);
        // Trailing dots belong to the sentence.
        while e > a && text[e - 1] == b'.' {
            e -= 1;
        }
        let t = &text[a..e];
        let colons = t.iter().filter(|&&b| b == b':').count();
        let bounded = !scan::is_alnum(scan::before(text, a)) && !scan::is_alnum(text.get(e).copied());
        if colons < 2 || !bounded || !t.iter().any(u8::is_ascii_digit) {
            continue;
        }
        if std::str::from_utf8(t).ok().and_then(|t| t.parse::<Ipv6Addr>().ok()).is_some() {
            found.push((a..e, "IPv6 address"));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions() {
        assert!(is_version(b"v1.2.3.4", 1));
        assert!(is_version(b"version 10.0.0.1", 8));
        assert!(!is_version(b"server 10.0.0.1", 7));
    }

    #[test]
    fn v6_tokens() {
        let mut f = Vec::new();
        ipv6(b"ping 2001:db8::1 or 12:30:45 or fe80::1ff:fe23:4567:890a.", &mut f);
        assert_eq!(f.iter().map(|x| x.0.clone()).collect::<Vec<_>>(), vec![5..16, 32..56]);
    }
}

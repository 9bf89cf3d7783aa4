//! Email addresses, plain (`ali.khan+news@example.com.pk`, Unicode letters allowed in both parts) and obfuscated:
//! `name at domain dot com`, `name [at] domain [dot] com`, `(at)`, `{at}`, `<at>`, `[@]`, ` @ `, fullwidth `＠`
//! (NFKC makes it `@`), and spaced letters (`j o h n @ g m a i l . c o m`).
//!
//! Anchors are every `@` and every `at` that stands as a word or in brackets. From an anchor the local part is read
//! leftwards (at most 64 characters) and the domain rightwards (at most 8 labels of 63), so each anchor costs a
//! bounded amount and the scan stays linear.
//!
//! Rules that keep prose out:
//! - a plain address (`@` and real dots, no spaces) needs two labels and an alphabetic TLD (or `xn--`);
//! - any obfuscation needs a TLD from the list in `tld`;
//! - with `at` spelled as a word, the local part must look like a user name (ASCII) and neither it nor the first
//!   domain label may be an everyday word (`look at this dot com bubble`, `meet me at the station`);
//! - with `dot` spelled as a word too, a TLD that is also a word (`in`, `it`, `me`…) needs a second-level label
//!   before it (`co dot in`).

use super::{Scan, Space, boost, context, tld};
use crate::findings::PII_EMAIL;
use memchr::memmem::Finder;
use std::ops::Range;
use std::sync::LazyLock;

/// How the `@` was written.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum At {
    /// `@` (possibly with a space on either side).
    Symbol,
    /// `[at]`, `(at)`, `{at}`, `<at>`, `[@]`, `(@)`.
    Bracket,
    /// ` at `.
    Word,
}

/// What the domain side looked like.
#[derive(Debug, Default)]
struct Domain {
    end: usize,
    labels: Vec<String>,
    /// A dot was written as ` . ` or in brackets.
    obfuscated_dot: bool,
    /// A dot was written as the word ` dot `.
    word_dot: bool,
    /// Spaced letters (`g m a i l . c o m`).
    spaced: bool,
}

const MAX_LOCAL: usize = 64;
const MAX_LABEL: usize = 63;
const MAX_LABELS: usize = 8;

/// The `at` anchor finder, built once (building a `memmem` searcher per call costs more than searching a comment).
static AT: LazyLock<Finder<'static>> = LazyLock::new(|| Finder::new(b"at"));

pub fn warm_up() {
    tld::warm_up();
    LazyLock::force(&AT);
}

pub fn detect(s: &mut Scan<'_>) {
    let t = s.text;
    let b = t.as_bytes();
    let mut anchors: Vec<(usize, usize, At)> = Vec::new();
    for p in memchr::memchr_iter(b'@', b) {
        match (super::scan::before(b, p), b.get(p + 1)) {
            (Some(o), Some(&c)) if closes(o, c) => anchors.push((p - 1, p + 2, At::Bracket)),
            _ => anchors.push((p, p + 1, At::Symbol)),
        }
    }
    for p in AT.find_iter(b) {
        match (super::scan::before(b, p), b.get(p + 2)) {
            (Some(o), Some(&c)) if closes(o, c) => anchors.push((p - 1, p + 3, At::Bracket)),
            (Some(b' '), Some(b' ')) => anchors.push((p, p + 2, At::Word)),
            _ => {}
        }
    }
    anchors.sort_by_key(|a| a.0);
    let mut found: Vec<Email> = Vec::new();
    let mut last_end = 0;
    for (a0, a1, kind) in anchors {
        if a0 < last_end {
            continue;
        }
        if let Some(e) = parse(t, a0, a1, kind) {
            last_end = e.span.end;
            found.push(e);
        }
    }
    for e in found {
        let near = s.context().near(&e.span, context::EMAIL);
        if (e.needs_context && !near) || e.tld_start.is_some_and(|p| sentence_break(s, p)) {
            continue;
        }
        s.push(&PII_EMAIL, e.span, Space::Norm, boost(e.score, near), e.detail.to_string());
    }
}

/// One address found by [`parse`], with the checks that need more than the normalised text.
#[derive(Debug)]
struct Email {
    span: Range<usize>,
    score: f64,
    detail: &'static str,
    /// Counts only with an email context word near (`at` spelled as a word before a real domain that is not a
    /// mail provider's: "dress like rihanna at kpopcity.net" is a shop, "write to ali at gmail.com" a mailbox).
    needs_context: bool,
    /// Where an unlisted TLD starts: `kiosk.Valid` in the original is a missing space after a full stop.
    tld_start: Option<usize>,
}

/// Whether the original text at the TLD starting at normalised `p` reads as a new sentence: an uppercase letter right
/// after `.` that follows a lowercase one.
fn sentence_break(s: &super::Scan<'_>, p: usize) -> bool {
    let (Some(dot), Some(first)) = (p.checked_sub(1), Some(p)) else { return false };
    let before = s.norm.original_range(dot.saturating_sub(1)..dot);
    let at = s.norm.original_range(first..first + 1);
    let lower = s.original.get(before).and_then(|x| x.chars().next()).is_some_and(char::is_lowercase);
    let upper = s.original.get(at).and_then(|x| x.chars().next()).is_some_and(char::is_uppercase);
    lower && upper
}

fn closes(open: u8, close: u8) -> bool {
    matches!((open, close), (b'[', b']') | (b'(', b')') | (b'{', b'}') | (b'<', b'>'))
}

fn parse(t: &str, a0: usize, a1: usize, kind: At) -> Option<Email> {
    let b = t.as_bytes();
    let mut spaced_at = false;
    let (l, r) = match kind {
        At::Word => (a0.checked_sub(1)?, a1 + 1),
        _ => {
            let mut l = a0;
            let mut r = a1;
            if super::scan::before(b, l) == Some(b' ') {
                l -= 1;
                spaced_at = true;
            }
            if b.get(r) == Some(&b' ') {
                r += 1;
                spaced_at = true;
            }
            (l, r)
        }
    };
    let (start, local, spaced_local) = local_part(t, l, kind != At::Word)?;
    let dom = domain(t, r)?;
    let tld = dom.labels.last()?.as_str();
    let obfuscated = kind != At::Symbol || spaced_at || dom.obfuscated_dot || dom.word_dot || dom.spaced;
    let span = start..dom.end;
    if !obfuscated {
        let alpha = tld.chars().count() >= 2 && tld.chars().all(char::is_alphabetic);
        let tld_start = (!tld::is_tld(tld)).then(|| dom.end - tld.len());
        let e = Email { span, score: 0.95, detail: "email address", needs_context: false, tld_start };
        return (alpha || tld.starts_with("xn--")).then_some(e);
    }
    if !tld::is_tld(tld) {
        return None;
    }
    if kind == At::Word {
        let first = dom.labels.first()?.as_str();
        let user_like = local.len() >= 2 && local.bytes().all(|c| c.is_ascii_alphanumeric() || b"._+-".contains(&c));
        if !user_like || tld::is_stopword(&local) || tld::is_stopword(first) || first == "www" {
            return None;
        }
        if dom.word_dot && tld::is_wordy(tld) {
            let n = dom.labels.len();
            let sld = n >= 3 && dom.labels.get(n - 2).is_some_and(|l| tld::is_second_level(l));
            if !sld {
                return None;
            }
        }
    }
    let score = match (kind, spaced_local || dom.spaced) {
        (At::Word, _) => 0.82,
        (_, true) => 0.85,
        _ => 0.88,
    };
    let real_dots = !dom.word_dot && !dom.obfuscated_dot && !dom.spaced;
    let provider = dom.labels.first().is_some_and(|l| tld::is_mail_provider(l));
    Some(Email {
        span,
        score,
        detail: "obfuscated email address",
        needs_context: kind == At::Word && real_dots && !provider,
        tld_start: None,
    })
}

fn local_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '%' | '+' | '-') || (!c.is_ascii() && c.is_alphanumeric())
}

/// The local part ending at `l`: (start, text without spaces, was spaced). Spaced letters are tried only when the
/// `@` allowed spaces around it.
fn local_part(t: &str, l: usize, allow_spaced: bool) -> Option<(usize, String, bool)> {
    let head = t.get(..l)?;
    let mut start = l;
    for (n, (i, c)) in head.char_indices().rev().enumerate() {
        if !local_char(c) {
            break;
        }
        if n >= MAX_LOCAL {
            return None;
        }
        start = i;
    }
    // Leading punctuation belongs to the sentence ("-john@x.com", "(+john…").
    while t.as_bytes().get(start).is_some_and(|c| b".+-%".contains(c)) && start < l {
        start += 1;
    }
    let token = t.get(start..l)?;
    if token.is_empty() {
        return None;
    }
    if allow_spaced && token.len() == 1 {
        if let Some((s, joined)) = spaced_left(t.as_bytes(), start) {
            return Some((s, joined, true));
        }
    }
    if token.ends_with('.') || token.contains("..") || !token.chars().any(char::is_alphanumeric) {
        return None;
    }
    Some((start, token.to_string(), false))
}

/// Single ASCII letters or digits separated by single spaces, ending with the one at `start`.
fn spaced_left(b: &[u8], start: usize) -> Option<(usize, String)> {
    let mut s = start;
    let mut chars = vec![*b.get(start)?];
    while s >= 2 && b[s - 1] == b' ' && b[s - 2].is_ascii_alphanumeric() && chars.len() < MAX_LOCAL {
        let lone = s == 2 || !b[s - 3].is_ascii_alphanumeric();
        if !lone {
            break;
        }
        s -= 2;
        chars.push(b[s]);
    }
    if chars.len() < 3 {
        return None;
    }
    chars.reverse();
    Some((s, String::from_utf8(chars).ok()?))
}

fn label_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '-' || (!c.is_ascii() && c.is_alphanumeric())
}

/// Dot spellings between labels: (text, is the word `dot`).
const DOTS: &[(&str, bool)] = &[
    (" [dot] ", false),
    (" (dot) ", false),
    (" {dot} ", false),
    (" <dot> ", false),
    ("[dot]", false),
    ("(dot)", false),
    ("{dot}", false),
    ("<dot>", false),
    (" dot ", true),
    (" . ", false),
    ("[.]", false),
    ("(.)", false),
];

fn domain(t: &str, r: usize) -> Option<Domain> {
    let b = t.as_bytes();
    if let Some(d) = spaced_right(b, r) {
        return Some(d);
    }
    let mut d = Domain { end: r, ..Domain::default() };
    let mut p = r;
    while d.labels.len() < MAX_LABELS {
        let rest = t.get(p..)?;
        let mut len = 0;
        for (n, (i, c)) in rest.char_indices().enumerate() {
            if !label_char(c) || n >= MAX_LABEL {
                break;
            }
            len = i + c.len_utf8();
        }
        let label = rest.get(..len)?;
        if label.is_empty() || label.starts_with('-') || label.ends_with('-') {
            break;
        }
        d.labels.push(label.to_string());
        p += len;
        d.end = p;
        let after = t.get(p..)?;
        let next_is_label = |k: usize| after.get(k..).and_then(|x| x.chars().next()).is_some_and(label_char);
        if after.starts_with('.') && next_is_label(1) {
            p += 1;
            continue;
        }
        match DOTS.iter().find(|(s, _)| after.starts_with(s) && next_is_label(s.len())) {
            Some((s, word)) => {
                if *word {
                    d.word_dot = true;
                } else {
                    d.obfuscated_dot = true;
                }
                p += s.len();
            }
            None => break,
        }
    }
    (d.labels.len() >= 2).then_some(d)
}

/// Spaced letters on the domain side: `g m a i l . c o m`.
fn spaced_right(b: &[u8], r: usize) -> Option<Domain> {
    let ok = |c: u8| c.is_ascii_alphanumeric() || c == b'.';
    let mut chars = Vec::new();
    let mut p = r;
    loop {
        let c = *b.get(p)?;
        if !ok(c) || b.get(p + 1).is_some_and(|&n| n.is_ascii_alphanumeric()) || chars.len() >= 128 {
            break;
        }
        chars.push(c);
        p += 1;
        if b.get(p) == Some(&b' ') && b.get(p + 1).is_some_and(|&n| ok(n)) {
            p += 1;
        } else {
            break;
        }
    }
    let end = r + (chars.len() * 2).saturating_sub(1);
    if chars.len() < 4 {
        return None;
    }
    let joined = String::from_utf8(chars).ok()?;
    let labels: Vec<String> = joined.split('.').map(str::to_string).collect();
    if labels.len() < 2 || labels.iter().any(String::is_empty) {
        return None;
    }
    Some(Domain { end, labels, spaced: true, ..Domain::default() })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn find(t: &str) -> Vec<&str> {
        let b = t.as_bytes();
        let mut out = Vec::new();
        for p in memchr::memchr_iter(b'@', b) {
            if let Some(e) = parse(t, p, p + 1, At::Symbol) {
                out.push(&t[e.span]);
            }
        }
        for p in memchr::memmem::find_iter(b, b"at") {
            if p > 0 && b[p - 1] == b' ' && b.get(p + 2) == Some(&b' ') {
                if let Some(e) = parse(t, p, p + 2, At::Word).filter(|e| !e.needs_context) {
                    out.push(&t[e.span]);
                }
            }
        }
        out
    }

    #[test]
    fn plain_and_obfuscated() {
        assert_eq!(find("mail ali.khan+news@example.com.pk."), vec!["ali.khan+news@example.com.pk"]);
        assert_eq!(find("write john at gmail dot com today"), vec!["john at gmail dot com"]);
        assert_eq!(find("j o h n @ g m a i l . c o m"), vec!["j o h n @ g m a i l . c o m"]);
        assert_eq!(find("john @ gmail.com"), vec!["john @ gmail.com"]);
        assert_eq!(find("δοκιμή@παράδειγμα.δοκιμή"), vec!["δοκιμή@παράδειγμα.δοκιμή"]);
    }

    #[test]
    fn prose_is_not_email() {
        assert!(find("meet me at the station").is_empty());
        assert!(find("look at this dot com bubble").is_empty());
        assert!(find("follow @john and me@home").is_empty());
        assert!(find("pkg@1.2.3").is_empty());
        assert!(find("dress like rihanna at kpopcity.net").is_empty());
        assert!(find("per month at www.firepa.com").is_empty());
        assert_eq!(find("ali at gmail.com"), vec!["ali at gmail.com"]);
    }
}

//! Rule signals: what a comment's text, links and author fields show without any training. Each becomes one input
//! of the logistic combination (`combine`) and, when it pushes the score up, a `spam.<signal>` finding with spans into
//! the ORIGINAL body.
//!
//! | input | what | value |
//! | --- | --- | --- |
//! | `links` | links (linkify on normalised text, bare domains with a known TLD), except to reference sites and the site's allowed domains | `ln(1 + n)`, n ≤ 10 |
//! | `link_kind` | a link to a URL shortener or a messenger invite (`wa.me`, `t.me`, `chat.whatsapp.com`), unless the site allows its domain | 0 or 1 |
//! | `obfuscated_link` | `example[.]com`, `example(dot)com`, `example dot com` | 0 or 1 |
//! | `phrase` | phrase lists (`phrases`), plus list words recovered from obfuscation | summed strength, ≤ 3 |
//! | `repeated` | a run of ≥ 5 of one character (`!!!!!`, `$$$$$`, `sooooo`), digits excepted | 0 or 1 |
//! | `shouting` | ≥ 70 % of ≥ 12 cased letters are capitals (original text) | 0.4–1 |
//! | `symbols` | ≥ 5 symbols (emoji, `$`, `★`, `✅`) making ≥ 20 % of the non-space characters | 0.4–1 |
//! | `obfuscation` | a word mixing scripts (`cаsino` with a Cyrillic `а`), letters split by separators; 1 when the word recovered is one spammers disguise | 0.5–1 |
//! | `website` | the author's website field: set; a shortener or messenger; linked from the body too; not on the site's allowed domains | 0.5–1 |
//!
//! The model does not read the links' text: links count here, once.
//!
//! The site's domain lists (`analysis::domains`) are read here too. A link, a bare domain (any top-level domain), an
//! obfuscated address or the website field on a blocked domain is recorded in [`Scan::blocked_links`] /
//! [`Scan::blocked_website`] — not an input: `assess` treats it as proof on its own. Links to allowed domains are
//! treated like [`REFERENCE`] sites and, beyond them, do not count against the site's link limit either.
//!
//! Invariants: every scan is one pass over the text (or over the links it found), so the cost is linear; values are
//! finite and bounded; spans are non-empty original byte ranges on char boundaries.

use super::combine::{self, N};
use super::phrases;
use super::tokens::is_word_char;
use crate::analysis::domains::{DomainLists, Listed};
use crate::analysis::links;
use crate::analysis::normalize::Normalized;
use regex::Regex;
use std::ops::Range;
use std::sync::LazyLock;
use unicode_security::MixedScript;

/// At most this many spans per signal: enough to show a moderator where, and a bound on the response size.
pub const MAX_SPANS: usize = 32;

/// One signal that fired.
#[derive(Debug, Clone, PartialEq)]
pub struct Hit {
    /// Its input index in `combine`.
    pub input: usize,
    /// Spans in the ORIGINAL body (may be empty: shouting, the website field).
    pub spans: Vec<Range<usize>>,
    /// Human text for moderators; never repeats personal data.
    pub detail: String,
}

/// All rule inputs of one comment and the hits behind them.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Scan {
    /// Rule inputs; the Bayes slots are left at 0 for the caller.
    pub x: [f64; N],
    pub hits: Vec<Hit>,
    /// Number of links that count against the site's link limit: every link except those to the site's allowed
    /// domains.
    pub links: usize,
    /// Original spans of those links.
    pub link_spans: Vec<Range<usize>>,
    /// Normalised ranges of every link, allowed ones included: the model does not read links (see `tokens::without`).
    pub link_ranges: Vec<Range<usize>>,
    /// How many of the counted links go to reference sites ([`REFERENCE`]).
    pub reference_links: usize,
    /// Links to the site's allowed domains (not in `links`).
    pub allowed_links: usize,
    /// Links, bare domains and obfuscated addresses on the site's blocked domains.
    pub blocked_links: usize,
    /// Their original spans (at most [`MAX_SPANS`]).
    pub blocked_spans: Vec<Range<usize>>,
    /// The author's website field is on one of the site's blocked domains.
    pub blocked_website: bool,
}

/// URL shorteners. Sorted (binary search).
const SHORTENERS: &[&str] = &[
    "adf.ly",
    "bit.do",
    "bit.ly",
    "bitly.com",
    "buff.ly",
    "clck.ru",
    "cutt.ly",
    "goo.gl",
    "is.gd",
    "lnkd.in",
    "ow.ly",
    "rb.gy",
    "rebrand.ly",
    "s.id",
    "shorte.st",
    "shorturl.at",
    "t.co",
    "t.ly",
    "tiny.cc",
    "tinyurl.com",
    "v.gd",
];

/// Messenger invites and contact links: in a news comment they only ever ask readers to move the conversation
/// somewhere the site cannot see. Sorted.
const MESSENGERS: &[&str] =
    &["api.whatsapp.com", "chat.whatsapp.com", "discord.gg", "linktr.ee", "t.me", "telegram.me", "wa.me", "wa.link"];

/// Reference and news sites that readers cite: links to them are not spam evidence (the site's link limit still
/// counts them). Sorted. A site's `allowed_domains` extend this list for that site, and are not counted against its
/// link limit either.
pub const REFERENCE: &[&str] = &[
    "aljazeera.com",
    "apnews.com",
    "arynews.tv",
    "bbc.co.uk",
    "bbc.com",
    "bloomberg.com",
    "brecorder.com",
    "cnn.com",
    "dawn.com",
    "dawnnews.tv",
    "economist.com",
    "expresstribune.com",
    "ft.com",
    "geo.tv",
    "gov.in",
    "gov.pk",
    "gov.uk",
    "hindustantimes.com",
    "indianexpress.com",
    "jang.com.pk",
    "ndtv.com",
    "nytimes.com",
    "reuters.com",
    "samaa.tv",
    "theguardian.com",
    "thehindu.com",
    "thenews.com.pk",
    "timesofindia.indiatimes.com",
    "tribune.com.pk",
    "un.org",
    "urdu.geo.tv",
    "who.int",
    "wikipedia.org",
    "worldbank.org",
];

/// Runs every rule on a comment with the site's blocked and allowed domains (`DomainLists::empty()` for training
/// and evaluation). `website` is the author's website field (may be empty).
pub fn scan(body: &str, norm: &Normalized, website: &str, domains: &DomainLists) -> Scan {
    let text = norm.as_str();
    let mut s = Scan::default();
    scan_links(norm, domains, &mut s);
    scan_obfuscated_links(norm, domains, &mut s);
    let mut phrase = scan_phrases(norm, &mut s);
    phrase += scan_obfuscation(norm, &mut s);
    s.x[combine::PHRASE] = phrase.min(3.0);
    scan_chars(norm, &mut s);
    scan_shouting(body, &mut s);
    scan_website(website, text, domains, &mut s);
    s
}

/// The host of a link or website text (normalised): no scheme, credentials, port, path or leading `www.`.
pub fn host(link: &str) -> &str {
    let rest = link.split_once("://").map_or(link, |(_, r)| r);
    let rest = rest.split(['/', '?', '#']).next().unwrap_or(rest);
    let rest = rest.rsplit_once('@').map_or(rest, |(_, h)| h);
    let rest = rest.split(':').next().unwrap_or(rest);
    let rest = rest.trim_end_matches('.');
    rest.strip_prefix("www.").unwrap_or(rest)
}

/// Whether `host` is one of `list` (sorted) or a subdomain of one.
fn on_list(host: &str, list: &[&str]) -> bool {
    crate::analysis::domains::longest_on_list(host, list).is_some()
}

/// Records one link or address on a blocked domain.
fn push_blocked(s: &mut Scan, span: Range<usize>) {
    s.blocked_links += 1;
    if s.blocked_spans.len() < MAX_SPANS {
        s.blocked_spans.push(span);
    }
}

fn scan_links(norm: &Normalized, domains: &DomainLists, s: &mut Scan) {
    let text = norm.as_str();
    let mut found = Vec::new();
    let mut kind_spans = Vec::new();
    let mut kinds = (false, false);
    for (r, is_link) in links::candidates(text) {
        if !is_link && domains.blocked.is_empty() {
            continue;
        }
        let h = host(text.get(r.clone()).unwrap_or(""));
        match domains.classify(h) {
            // A blocked domain counts whatever its top-level domain: the site listed it.
            Listed::Blocked => push_blocked(s, norm.original_range(r.clone())),
            // Allowed: read like a reference site's link, and not counted against the site's limit.
            Listed::Allowed => {
                if is_link {
                    s.allowed_links += 1;
                    found.push(r);
                }
                continue;
            }
            Listed::Neither => {}
        }
        if !is_link {
            continue;
        }
        s.links += 1;
        let (short, chat) = (on_list(h, SHORTENERS), on_list(h, MESSENGERS));
        if (short || chat) && kind_spans.len() < MAX_SPANS {
            kind_spans.push(norm.original_range(r.clone()));
            kinds.0 |= short;
            kinds.1 |= chat;
        }
        if s.link_spans.len() < MAX_SPANS {
            s.link_spans.push(norm.original_range(r.clone()));
        }
        if on_list(h, REFERENCE) {
            s.reference_links += 1;
        }
        found.push(r);
    }
    // Links to reference sites are how readers cite their sources: they count against the site's link limit only.
    let counted = s.links - s.reference_links;
    s.link_ranges = found;
    s.x[combine::LINKS] = (counted.min(10) as f64).ln_1p();
    if !kind_spans.is_empty() {
        s.x[combine::LINK_KIND] = 1.0;
        let detail = match kinds {
            (true, true) => "links to a URL shortener and a messenger invite",
            (true, false) => "a link through a URL shortener hides where it goes",
            _ => "a messenger or contact link moves readers off the site",
        };
        s.hits.push(Hit { input: combine::LINK_KIND, spans: kind_spans, detail: detail.into() });
    }
}

/// `name[.]com`, `name(.)com`, `name{dot}com`, `name [dot] com` (any label), and `name dot com` / `name . com`
/// (labels of 4+ characters, so "the dot com bubble" is prose).
static OBFUSCATED: LazyLock<Option<Regex>> = LazyLock::new(|| {
    Regex::new(
        r"\b([a-z0-9][a-z0-9-]{0,62})(?:\s*(?:\[\s*(?:\.|dot)\s*\]|\(\s*(?:\.|dot)\s*\)|\{\s*(?:\.|dot)\s*\})\s*|\s+(?:dot|\.)\s+)([a-z]{2,10})\b",
    )
    .ok()
});

fn scan_obfuscated_links(norm: &Normalized, domains: &DomainLists, s: &mut Scan) {
    let text = norm.as_str();
    // Cheap gate before the regex: every form it matches contains "dot", " . " or an opening bracket then a dot.
    let gate = ["dot", " . ", "[.", "(.", "{.", "[ .", "( .", "{ ."];
    if !gate.iter().any(|g| text.contains(g)) {
        return;
    }
    let Some(re) = &*OBFUSCATED else { return };
    let mut spans = Vec::new();
    for c in re.captures_iter(text) {
        let (Some(all), Some(label), Some(tld)) = (c.get(0), c.get(1), c.get(2)) else { continue };
        // A blocked domain counts however short its name or unusual its top-level domain: the site listed it.
        if !domains.blocked.is_empty()
            && domains.classify(&format!("{}.{}", label.as_str(), tld.as_str())) == Listed::Blocked
        {
            push_blocked(s, norm.original_range(all.range()));
        }
        let bracketed = all.as_str().contains(['[', '(', '{']);
        if !links::has_known_tld(tld.as_str()) || (!bracketed && label.as_str().chars().count() < 4) {
            continue;
        }
        if spans.len() < MAX_SPANS {
            spans.push(norm.original_range(all.range()));
        }
    }
    if !spans.is_empty() {
        s.x[combine::OBFUSCATED_LINK] = 1.0;
        let detail = "a web address written so that link filters miss it".to_string();
        s.hits.push(Hit { input: combine::OBFUSCATED_LINK, spans, detail });
    }
}

fn scan_phrases(norm: &Normalized, s: &mut Scan) -> f64 {
    let hits = phrases::find(norm.as_str());
    if hits.is_empty() {
        return 0.0;
    }
    let total: f64 = hits.iter().map(|h| f64::from(h.strength)).sum();
    let strong = hits.iter().filter(|h| h.strength >= 1.0).count();
    let spans = hits.iter().map(|h| norm.original_range(h.range.clone())).collect();
    let detail = format!("{} spam phrase(s) ({} strong)", hits.len(), strong);
    s.hits.push(Hit { input: combine::PHRASE, spans, detail });
    total
}

/// What obfuscation found so far.
#[derive(Default)]
struct Obfuscation {
    value: f64,
    /// Phrase strength of list words recovered.
    recovered: f64,
    spans: Vec<Range<usize>>,
    mixed: bool,
    split: bool,
}

impl Obfuscation {
    /// A run of `len` single letters spelling `letters` ended; `range` is its normalised extent.
    fn end_run(&mut self, letters: &str, len: usize, range: Range<usize>, norm: &Normalized) {
        if len < 4 {
            return;
        }
        let target = phrases::is_disguised_target(letters);
        if target || len >= 6 {
            self.split = true;
            self.value = self.value.max(if target { 1.0 } else { 0.5 });
            self.recovered += phrases::word_strength(letters).map_or(0.0, f64::from);
            if self.spans.len() < MAX_SPANS {
                self.spans.push(norm.original_range(range));
            }
        }
    }
}

/// Mixed-script words and letters split by separators, in one pass over the words. Returns the phrase strength of
/// list words recovered.
fn scan_obfuscation(norm: &Normalized, s: &mut Scan) -> f64 {
    let text = norm.as_str();
    let mut o = Obfuscation::default();
    let mut buf = String::new();
    // The current run of single letters: its letters, length and normalised extent.
    let mut letters = String::new();
    let (mut run_len, mut run) = (0usize, 0..0);
    for r in words(text) {
        let w = &text[r.clone()];
        // Mixed scripts within one word: `cаsino` with a Cyrillic а.
        if !w.is_ascii() && w.bytes().any(|b| b.is_ascii_alphabetic()) && !w.is_single_script() {
            o.mixed = true;
            o.value = o.value.max(0.6);
            if o.spans.len() < MAX_SPANS {
                o.spans.push(norm.original_range(r.clone()));
            }
            buf.clear();
            buf.extend(w.chars().map(latin_lookalike));
            if phrases::is_disguised_target(&buf) {
                o.value = 1.0;
            }
            o.recovered += phrases::word_strength(&buf).map_or(0.0, f64::from);
        }
        // Letters split by separators: `c a s i n o`, `v.i.a.g.r.a`, `w-h-a-t-s-a-p-p`.
        let mut chars = w.chars();
        let single = chars.next().is_some() && chars.next().is_none();
        let gap = text.get(run.end..r.start).unwrap_or("");
        let joined = run_len > 0 && (1..=2).contains(&gap.len()) && gap.bytes().all(|b| b" .-_*|/+".contains(&b));
        if !(single && (joined || run_len == 0)) {
            o.end_run(&letters, run_len, run.clone(), norm);
            (run_len, run) = (0, r.start..r.start);
            letters.clear();
        }
        if single {
            if run_len == 0 {
                run.start = r.start;
            }
            run.end = r.end;
            run_len += 1;
            if letters.len() < 64 {
                letters.push_str(w);
            }
        }
    }
    o.end_run(&letters, run_len, run, norm);

    if o.value > 0.0 {
        s.x[combine::OBFUSCATION] = o.value;
        let detail = match (o.mixed, o.split) {
            (true, true) => "words disguised with look-alike letters from other scripts and split letters",
            (true, false) => "a word mixes letters of different scripts (look-alike letters)",
            _ => "letters of a word split apart by spaces or dots",
        };
        s.hits.push(Hit { input: combine::OBFUSCATION, spans: o.spans, detail: detail.into() });
    }
    o.recovered
}

/// Word ranges of normalised text (runs of [`is_word_char`]), stepping over ASCII bytes without decoding.
fn words(text: &str) -> Words<'_> {
    Words { text, pos: 0 }
}

struct Words<'a> {
    text: &'a str,
    /// Next byte to look at; always a char boundary.
    pos: usize,
}

impl Words<'_> {
    /// Whether the char at `i` (a char boundary) is a word character, and its length.
    #[inline]
    fn at(&self, i: usize) -> (bool, usize) {
        match self.text.as_bytes().get(i) {
            Some(&b) if b < 0x80 => (b.is_ascii_alphanumeric(), 1),
            _ => match self.text.get(i..).and_then(|t| t.chars().next()) {
                Some(c) => (is_word_char(c), c.len_utf8()),
                None => (false, 1),
            },
        }
    }
}

impl Iterator for Words<'_> {
    type Item = Range<usize>;

    fn next(&mut self) -> Option<Range<usize>> {
        let len = self.text.len();
        let mut i = self.pos;
        loop {
            if i >= len {
                self.pos = len;
                return None;
            }
            let (word, l) = self.at(i);
            if word {
                break;
            }
            i += l;
        }
        let start = i;
        while i < len {
            let (word, l) = self.at(i);
            if !word {
                break;
            }
            i += l;
        }
        self.pos = i;
        Some(start..i)
    }
}

/// The ASCII letter a character is confusable with (UTS #39 skeleton), or the character itself.
fn latin_lookalike(c: char) -> char {
    if c.is_ascii() {
        return c;
    }
    let mut buf = [0u8; 4];
    let mut sk = unicode_security::skeleton(c.encode_utf8(&mut buf));
    match (sk.next(), sk.next()) {
        (Some(l), None) if l.is_ascii_alphanumeric() => l.to_ascii_lowercase(),
        _ => c,
    }
}

/// Repeated characters and symbol floods, in one pass over the normalised text.
fn scan_chars(norm: &Normalized, s: &mut Scan) {
    let text = norm.as_str();
    let mut repeat_spans = Vec::new();
    let (mut prev, mut start, mut len) = ('\0', 0usize, 0usize);
    let (mut symbols, mut visible) = (0u32, 0u32);
    let mut symbol_spans = Vec::new();
    let mut run: Option<(usize, usize, u32)> = None;
    for (i, c) in text.char_indices().chain(std::iter::once((text.len(), '\0'))) {
        let end = i >= text.len();
        // Repeats: a run of one character, digits and spaces excepted.
        if c == prev && !end {
            len += 1;
        } else {
            if len >= 5 && !prev.is_ascii_digit() && prev != ' ' && repeat_spans.len() < MAX_SPANS {
                repeat_spans.push(norm.original_range(start..i));
            }
            (prev, start, len) = (c, i, 1);
        }
        // Symbols: neither word characters nor prose punctuation.
        if c == ' ' {
            continue;
        }
        let sym = !end && is_symbol(c);
        if sym {
            symbols += 1;
            run = Some(match run {
                Some((st, _, n)) => (st, i + c.len_utf8(), n + 1),
                None => (i, i + c.len_utf8(), 1),
            });
        } else if let Some((st, en, n)) = run.take()
            && n >= 3
            && symbol_spans.len() < MAX_SPANS
        {
            symbol_spans.push(norm.original_range(st..en));
        }
        visible += u32::from(!end);
    }
    if !repeat_spans.is_empty() {
        s.x[combine::REPEATED] = 1.0;
        let detail = format!("{} run(s) of one repeated character", repeat_spans.len());
        s.hits.push(Hit { input: combine::REPEATED, spans: repeat_spans, detail });
    }
    let ratio = if visible == 0 { 0.0 } else { f64::from(symbols) / f64::from(visible) };
    if symbols >= 5 && ratio >= 0.2 {
        s.x[combine::SYMBOLS] = (ratio * 2.0).clamp(0.4, 1.0);
        let detail = format!("{symbols} symbols or emoji ({:.0}% of the text)", ratio * 100.0);
        s.hits.push(Hit { input: combine::SYMBOLS, spans: symbol_spans, detail });
    }
}

/// On the ORIGINAL body: normalisation lower-cases.
fn scan_shouting(body: &str, s: &mut Scan) {
    // Bytes, not chars: ASCII letters are counted without branches; only the lead bytes of Latin-1 to Cyrillic
    // (U+00C0–U+052F) and of fullwidth forms are decoded. Other scripts (Urdu, Devanagari) have no case worth
    // shouting in.
    let bytes = body.as_bytes();
    let mut upper = bytes.iter().map(|&b| u32::from(b.wrapping_sub(b'A') < 26)).sum::<u32>();
    let mut lower = bytes.iter().map(|&b| u32::from(b.wrapping_sub(b'a') < 26)).sum::<u32>();
    if bytes.iter().any(|&b| (0xC3..=0xD4).contains(&b) || b == 0xEF) {
        for c in body.chars() {
            if !(('\u{00C0}'..'\u{0530}').contains(&c) || ('\u{FF21}'..'\u{FF5B}').contains(&c)) {
                continue;
            }
            if c.is_uppercase() {
                upper += 1;
            } else if c.is_lowercase() {
                lower += 1;
            }
        }
    }
    let cased = upper + lower;
    if cased < 12 {
        return;
    }
    let ratio = f64::from(upper) / f64::from(cased);
    if ratio >= 0.7 {
        s.x[combine::SHOUTING] = ((ratio - 0.5) * 2.0).min(1.0);
        let detail = format!("{:.0}% of the letters are capitals", ratio * 100.0);
        s.hits.push(Hit { input: combine::SHOUTING, spans: Vec::new(), detail });
    }
}

/// A symbol: not a word character, not prose punctuation, not a space or control character. ASCII by table.
#[inline]
fn is_symbol(c: char) -> bool {
    if c.is_ascii() {
        return ASCII_SYMBOL[c as usize];
    }
    !is_word_char(c) && !is_prose_punct(c) && !c.is_control() && !c.is_whitespace()
}

/// [`is_symbol`] of each ASCII character: `$ + < = > \ ^ ` | ~ { }` and the backquote.
const ASCII_SYMBOL: [bool; 128] = {
    let mut t = [false; 128];
    let mut i = 0;
    while i < 128 {
        let b = i as u8;
        t[i] = b.is_ascii_punctuation()
            && !matches!(
                b,
                b'.' | b','
                    | b'!'
                    | b'?'
                    | b'\''
                    | b'"'
                    | b'-'
                    | b':'
                    | b';'
                    | b'('
                    | b')'
                    | b'['
                    | b']'
                    | b'/'
                    | b'&'
                    | b'%'
                    | b'@'
                    | b'#'
                    | b'*'
                    | b'_'
            );
        i += 1;
    }
    t
};

/// Punctuation that prose uses; every other non-letter, non-digit, non-space character is a symbol.
fn is_prose_punct(c: char) -> bool {
    matches!(
        c,
        '.' | ','
            | '!'
            | '?'
            | '\''
            | '"'
            | '-'
            | ':'
            | ';'
            | '('
            | ')'
            | '['
            | ']'
            | '/'
            | '&'
            | '%'
            | '@'
            | '#'
            | '*'
            | '_'
            | '…'
            | '‘'
            | '’'
            | '“'
            | '”'
            | '–'
            | '—'
            | '،'
            | '۔'
            | '؟'
            | '؛'
            | '।'
    )
}

fn scan_website(website: &str, text: &str, domains: &DomainLists, s: &mut Scan) {
    if website.trim().is_empty() {
        return;
    }
    let site = Normalized::new(website.trim());
    let h = host(site.as_str());
    if h.is_empty() || !h.contains('.') {
        return;
    }
    match domains.classify(h) {
        Listed::Blocked => s.blocked_website = true,
        // The site vouches for the domain: its readers' own sites there are no sign of anything.
        Listed::Allowed => return,
        Listed::Neither => {}
    }
    let listed = on_list(h, SHORTENERS) || on_list(h, MESSENGERS);
    // `scan_links` already found every link (it runs first): no second linkify pass over the body.
    let linked = s.link_ranges.iter().any(|r| host(text.get(r.clone()).unwrap_or("")) == h);
    let (value, detail) = match (listed, linked) {
        (true, _) => (1.0, "the author's website field is a URL shortener or messenger link"),
        (false, true) => (1.0, "the comment links to the author's own website"),
        _ => (0.5, "the author filled in a website (the field comment spammers use)"),
    };
    s.x[combine::WEBSITE] = value;
    s.hits.push(Hit { input: combine::WEBSITE, spans: Vec::new(), detail: detail.into() });
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(body: &str) -> Scan {
        scan(body, &Normalized::new(body), "", DomainLists::empty())
    }

    fn spans_of(body: &str, input: usize) -> Vec<String> {
        let s = run(body);
        s.hits
            .iter()
            .filter(|h| h.input == input)
            .flat_map(|h| h.spans.iter().map(|r| body[r.clone()].to_string()))
            .collect()
    }

    #[test]
    fn links_count_and_kinds() {
        let s = run("see https://bit.ly/abc and wa.me/923001234567 and dawn.com/news/1");
        assert_eq!(s.links, 3);
        assert!(s.x[combine::LINKS] > 1.0);
        assert_eq!(s.x[combine::LINK_KIND], 1.0);
        assert_eq!(spans_of("see https://bit.ly/abc now", combine::LINK_KIND), vec!["https://bit.ly/abc"]);
        // Tricky negatives: a news source counts for the site's limit, not as evidence; "t.co" is not "bt.com".
        let s = run("source: https://www.dawn.com/news/123 and bt.com");
        assert_eq!(s.links, 2);
        assert_eq!(s.x[combine::LINKS], 2f64.ln());
        assert_eq!(s.reference_links, 1);
        assert_eq!(s.link_ranges.len(), 2);
        assert_eq!(s.x[combine::LINK_KIND], 0.0);
        assert!(REFERENCE.windows(2).all(|w| w[0] < w[1]));
    }

    #[test]
    fn site_domain_lists() {
        let domains = DomainLists::new(&["spam.example", "example.com"], &["ourpaper.com", "bit.ly"]);
        let body =
            "https://ourpaper.com/a blog.ourpaper.com/b bit.ly/x dawn.com/c https://spam.example/d example[.]com";
        let s = scan(body, &Normalized::new(body), "", &domains);
        assert_eq!((s.links, s.allowed_links, s.reference_links), (2, 3, 1), "bit.ly is allowed here");
        assert_eq!(s.link_ranges.len(), 5, "the model reads no link, allowed or not");
        assert_eq!(
            s.link_spans.iter().map(|r| &body[r.clone()]).collect::<Vec<_>>(),
            ["dawn.com/c", "https://spam.example/d"]
        );
        assert_eq!(s.x[combine::LINKS], 2f64.ln(), "one counted link: spam.example (dawn.com is a reference)");
        assert_eq!(s.x[combine::LINK_KIND], 0.0);
        assert_eq!(s.blocked_links, 2);
        assert_eq!(
            s.blocked_spans.iter().map(|r| &body[r.clone()]).collect::<Vec<_>>(),
            ["https://spam.example/d", "example[.]com"]
        );
        // The website field: blocked, allowed (no signal), neither.
        let norm = Normalized::new("nice");
        assert!(scan("nice", &norm, "https://x.example.com", &domains).blocked_website);
        assert_eq!(scan("nice", &norm, "https://ourpaper.com/me", &domains).x[combine::WEBSITE], 0.0);
        let other = scan("nice", &norm, "https://badexample.com", &domains);
        assert_eq!((other.blocked_website, other.x[combine::WEBSITE]), (false, 0.5));
        // Without lists, nothing changes.
        assert_eq!(scan(body, &Normalized::new(body), "", DomainLists::empty()), run(body));
    }

    #[test]
    fn hosts() {
        assert_eq!(host("https://user:pw@www.Example.com:8080/x?y"), "Example.com");
        assert_eq!(host("wa.me/92300"), "wa.me");
        assert!(on_list("m.bit.ly", SHORTENERS));
        assert!(!on_list("orbit.ly", SHORTENERS));
    }

    #[test]
    fn obfuscated_links() {
        assert_eq!(spans_of("visit cheapmeds[.]com today", combine::OBFUSCATED_LINK), vec!["cheapmeds[.]com"]);
        assert_eq!(spans_of("go to earnfast dot com now", combine::OBFUSCATED_LINK), vec!["earnfast dot com"]);
        assert_eq!(spans_of("ＢＥＴ９(dot)ｎｅｔ", combine::OBFUSCATED_LINK).len(), 1);
        assert_eq!(spans_of("win at bet9{.}net", combine::OBFUSCATED_LINK), vec!["bet9{.}net"]);
        assert_eq!(spans_of("win at bet9[ . ]net", combine::OBFUSCATED_LINK), vec!["bet9[ . ]net"]);
        // Tricky negatives: prose.
        assert!(spans_of("the dot com bubble burst in 2000", combine::OBFUSCATED_LINK).is_empty());
        assert!(spans_of("He scored 5 . Then left", combine::OBFUSCATED_LINK).is_empty());
    }

    #[test]
    fn phrases_feed_the_phrase_input() {
        let s = run("Ghar baithe paise kamayen! WhatsApp karein");
        assert!(s.x[combine::PHRASE] >= 2.0);
        assert!((run("Imran Khan ne ghar baithe bayan diya").x[combine::PHRASE] - 0.3).abs() < 1e-6, "weak alone");
        assert_eq!(run("Great innings by Babar today").x[combine::PHRASE], 0.0);
    }

    #[test]
    fn repeated_characters() {
        assert_eq!(spans_of("FREE!!!!!!! money", combine::REPEATED), vec!["!!!!!!!"]);
        // Tricky negatives: numbers, ellipses of three, spaces.
        assert!(spans_of("Rs 1000000 budget... fine     ok", combine::REPEATED).is_empty());
    }

    #[test]
    fn shouting() {
        assert!(run("SUBSCRIBE TO MY CHANNEL NOW PLEASE").x[combine::SHOUTING] > 0.9);
        // Tricky negatives: acronyms in a normal sentence; short caps; Urdu has no case.
        assert_eq!(run("The IMF and NATO met the PM in DC today").x[combine::SHOUTING], 0.0);
        assert_eq!(run("LOL OK").x[combine::SHOUTING], 0.0);
        assert_eq!(run("یہ بہت اچھا فیصلہ ہے اور حکومت کو مبارک").x[combine::SHOUTING], 0.0);
    }

    #[test]
    fn symbol_floods() {
        let s = run("💰💰💰 EARN ✅✅ $$$ ★★★");
        assert!(s.x[combine::SYMBOLS] > 0.5);
        assert!(!spans_of("💰💰💰 EARN ✅✅ $$$ ★★★", combine::SYMBOLS).is_empty());
        // Tricky negatives: punctuation-heavy prose, Urdu punctuation, one emoji.
        assert_eq!(run("Really?! (Yes.) \"No\" — fine, ok… 😂").x[combine::SYMBOLS], 0.0);
        assert_eq!(run("کیا بات ہے، بہت خوب۔ واہ؟").x[combine::SYMBOLS], 0.0);
    }

    #[test]
    fn mixed_script_words() {
        // Cyrillic а (U+0430) inside "casino".
        let body = "best c\u{0430}sino here";
        assert_eq!(spans_of(body, combine::OBFUSCATION), vec!["c\u{0430}sino"]);
        let s = run(body);
        assert_eq!(s.x[combine::OBFUSCATION], 1.0);
        assert!(s.x[combine::PHRASE] >= 0.5, "the recovered word counts as a phrase");
        // Tricky negatives: accented Latin, pure Urdu, Urdu next to Latin with a space, Japanese.
        for ok in ["naïve café Pokémon", "یہ اچھا ہے", "PTI کی حکومت", "東京タワーへ行く"] {
            assert_eq!(run(ok).x[combine::OBFUSCATION], 0.0, "{ok}");
        }
    }

    #[test]
    fn split_letters() {
        assert_eq!(spans_of("play c a s i n o now", combine::OBFUSCATION), vec!["c a s i n o"]);
        assert_eq!(spans_of("buy v.i.a.g.r.a", combine::OBFUSCATION), vec!["v.i.a.g.r.a"]);
        assert!(run("buy v.i.a.g.r.a").x[combine::PHRASE] >= 0.5);
        // Tricky negatives: party initials, short runs.
        assert_eq!(run("P.M.L.N aur P.T.I dono").x[combine::OBFUSCATION], 0.0);
        assert_eq!(run("plan a b c").x[combine::OBFUSCATION], 0.0);
    }

    #[test]
    fn ascii_symbol_table_matches_the_rule() {
        for b in 0u8..128 {
            let c = char::from(b);
            let slow = !is_word_char(c) && !is_prose_punct(c) && !c.is_control() && !c.is_whitespace();
            assert_eq!(is_symbol(c), slow, "{c:?}");
        }
    }

    #[test]
    fn word_ranges() {
        let t = "ab, گھر c\u{0301}d  x";
        let w: Vec<&str> = words(t).map(|r| &t[r]).collect();
        assert_eq!(w, vec!["ab", "گھر", "c\u{0301}d", "x"]);
        assert_eq!(words("").count(), 0);
        assert_eq!(words(" !? ").count(), 0);
    }

    #[test]
    fn website_field() {
        let norm = Normalized::new("nice article");
        assert_eq!(scan("nice article", &norm, "", DomainLists::empty()).x[combine::WEBSITE], 0.0);
        assert_eq!(
            scan("nice article", &norm, "https://myblog.example.com", DomainLists::empty()).x[combine::WEBSITE],
            0.5
        );
        assert_eq!(scan("nice article", &norm, "bit.ly/xyz", DomainLists::empty()).x[combine::WEBSITE], 1.0);
        let body = "read more at https://myblog.example.com/post";
        assert_eq!(
            scan(body, &Normalized::new(body), "myblog.example.com", DomainLists::empty()).x[combine::WEBSITE],
            1.0
        );
        // Tricky negative: not a URL.
        assert_eq!(scan("nice", &Normalized::new("nice"), "n/a", DomainLists::empty()).x[combine::WEBSITE], 0.0);
    }

    #[test]
    fn huge_inputs_are_linear_and_bounded() {
        for body in ["a".repeat(1 << 20), "!".repeat(1 << 20), "a ".repeat(1 << 19), "💰".repeat(1 << 18)] {
            let s = run(&body);
            assert!(s.x.iter().all(|v| v.is_finite() && v.abs() <= 3.0));
            assert!(s.hits.iter().all(|h| h.spans.len() <= 64));
        }
    }
}

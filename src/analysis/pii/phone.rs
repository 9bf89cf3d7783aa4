//! Phone numbers. `phonenumber` has no matcher, so candidates come from the numeric chunks (`scan`) and WhatsApp
//! links, and each is validated against the `phonenumber` crate's metadata (`phone_meta`, falling back to
//! `phonenumber::parse` for the few regions it does not support).
//!
//! # What counts
//! | written as | counts when | score |
//! | --- | --- | --- |
//! | `+CC …` or `00CC …`, any country | valid for that country | 0.96 mobile, 0.93 other |
//! | `wa.me/<digits>`, `api.whatsapp.com/send?phone=<digits>` | 8–15 digits (valid or not: the link says it is a phone) | 0.96 valid, 0.85 other |
//! | national, with separators (`0300-1234567`, `0300 123 4567`) | valid in the site's region and mobile | 0.92 |
//! | national, unbroken (`03001234567`) | valid mobile, at least 10 digits | 0.86 |
//! | national fixed line with separators and trunk prefix (`042-35761234`) | valid in the region | 0.85 |
//! | national, unbroken, any other type (`02134567890`, toll-free, premium) | trunk prefix and at least 10 digits | 0.80 |
//! | anything else valid in the region (a mobile without its `0`, an unbroken fixed line) | a phone context word is near | 0.74–0.78 |
//! | national, not valid in the site's region, valid in one of [`CONTEXT_REGIONS`] (`210-440-3063`, `(0191) 496 0538`) | a phone context word is near; ≥ 9 digits; in groups, or unbroken with that region's trunk prefix and ≥ 10 digits | 0.74–0.78 |
//!
//! # What never counts
//! Dates (`12/03/2024`, `2024-03-12`), decimals (`33.6844`), two-group dotted numbers, year ranges, ISBN-10/13
//! with a valid check digit (unless a phone word is near: one ten-digit phone in eleven passes ISBN-10), numbers glued to letters (`v2`, `12kg`; but `call09050000327` counts) or followed by `%`, numbers after `#` or a
//! currency sign, and national numbers with a *negative* context word right before them (`rs.`, `order`, `isbn`,
//! `price`…) unless a phone word is near too. Numbers claimed by a stronger detector (card, IBAN, IDs, IP) are
//! skipped.
//!
//! # Cost
//! A cheap length check against the metadata runs before each validation (digit count 7–15, and the region's
//! possible national lengths), and one `detect` call validates at most [`PARSE_BUDGET`] candidates, which bounds the
//! cost of adversarial digit soup.

use super::phone_meta::{self, Lookup};
use super::{Scan, Space, boost, context, scan};
use crate::findings::PII_PHONE;
use memchr::memmem::Finder;
use phonenumber::country::Id;
use phonenumber::metadata::DATABASE;
use phonenumber::{Metadata, Type};
use std::ops::Range;
use std::sync::LazyLock;

/// Most phone-metadata parses per `detect` call.
pub const PARSE_BUDGET: u32 = 1024;

/// Link prefixes that carry a phone number in international form.
const WA_LINKS: &[&str] = &["wa.me/", "whatsapp.com/send?phone=", "whatsapp.com/send/?phone="];

static WA_FINDERS: LazyLock<Vec<Finder<'static>>> =
    LazyLock::new(|| WA_LINKS.iter().map(|l| Finder::new(l.as_bytes())).collect());

pub fn warm_up() {
    LazyLock::force(&WA_FINDERS);
    for region in CONTEXT_REGIONS {
        phone_meta::warm_up(region.as_ref());
    }
    let _ = phonenumber::parse(Some(Id::PK), "+923001234567").map(|p| p.is_valid());
}

struct Found {
    span: Range<usize>,
    score: f64,
    detail: String,
}

pub fn detect(s: &mut Scan<'_>) {
    let text = s.text.as_bytes();
    let region = s.cfg.default_region;
    let mut budget = s.phone_budget;
    let mut found: Vec<Found> = Vec::new();
    let mut digits = String::new();
    {
        let chunks = s.chunks();
        for ch in &chunks.chunks {
            let groups = chunks.groups_of(ch);
            scan::for_each_candidate(text, groups, 6, |r| {
                if budget == 0 {
                    return false;
                }
                let whole_start = r.start == 0;
                let gs = &groups[r];
                let span = if whole_start { ch.start } else { gs[0].start }..gs[gs.len() - 1].end;
                if !scan::digits_of(text, gs, 17, &mut digits)
                    || found.iter().any(|f| f.span.start < span.end && f.span.end > span.start)
                {
                    return false;
                }
                if s.is_claimed(&(gs[0].start..span.end)) {
                    return false;
                }
                // Digits in a URL path are ids; a query value (`?phone=0300…`) may still be a phone.
                if scan::before(text, span.start) != Some(b'=') && scan::in_url(text, span.start) {
                    return false;
                }
                let plus = whole_start && ch.plus;
                let (intl, d) = match digits.strip_prefix("00") {
                    _ if plus => (true, digits.as_str()),
                    Some(rest) => (true, rest),
                    None => (false, digits.as_str()),
                };
                if !(7..=15).contains(&d.len()) || (!intl && rejected_shape(s, gs, &span, d)) {
                    return false;
                }
                let local = precheck(intl, d, region);
                // A national number that is not the site region's may be another region's, when a phone word says
                // it is a phone (see `CONTEXT_REGIONS`).
                let near = s.context().near(&span, context::PHONE);
                if !local && (intl || !near) {
                    return false;
                }
                budget -= 1;
                let mut verdict = if local { judge(intl, d, gs.len() > 1, near, region) } else { None };
                if verdict.is_none() && near && !intl {
                    verdict = judge_elsewhere(d, gs.len() > 1, region, &mut budget);
                }
                match verdict {
                    Some((score, detail)) => {
                        found.push(Found { span, score, detail });
                        true
                    }
                    None => false,
                }
            });
        }
    }
    s.phone_budget = budget;
    for f in found {
        s.push(&PII_PHONE, f.span, Space::Norm, f.score, f.detail);
    }
}

/// Decides a candidate that passed the shape and length checks: (score, detail) when it counts.
fn judge(intl: bool, d: &str, formatted: bool, near: bool, region: Id) -> Option<(f64, String)> {
    let (country, ty) = classify(intl, d, region)?;
    let mobile = matches!(ty, Type::Mobile | Type::FixedLineOrMobile);
    let meta = DATABASE.by_id(region.as_ref())?;
    let trunk = meta.national_prefix().is_some_and(|p| d.starts_with(p)) || d.starts_with(&code_of(meta));
    let score = match (intl, mobile, formatted, trunk) {
        (true, true, ..) => 0.96,
        (true, false, ..) => 0.93,
        (false, true, true, true) => 0.92,
        (false, true, false, true) if d.len() >= 10 => 0.86,
        (false, false, true, true) => 0.85,
        (false, false, false, true) if d.len() >= 10 => 0.8,
        (false, true, _, _) if near => 0.78,
        (false, false, _, _) if near => 0.74,
        _ => return None,
    };
    let detail = format!("phone number valid in {country} ({})", type_name(ty));
    Some((boost(score, near), detail))
}

/// Regions a national number may belong to when the site's region does not explain it and a phone context word is
/// near ("call me at 210-440-3063" on a Pakistani site): the home regions of the diasporas and neighbours a site
/// hears from (Pakistan, India, Bangladesh, the Gulf, the UK and Ireland, North America, Australia, and the large
/// European countries), in the order that names the region in the finding's detail.
pub const CONTEXT_REGIONS: &[Id] = &[
    Id::PK,
    Id::IN,
    Id::BD,
    Id::AE,
    Id::SA,
    Id::QA,
    Id::KW,
    Id::OM,
    Id::BH,
    Id::GB,
    Id::IE,
    Id::US,
    Id::CA,
    Id::AU,
    Id::FR,
    Id::DE,
    Id::NL,
    Id::BE,
    Id::IT,
    Id::ES,
];

/// [`judge`] for a national number near a phone word that the site's region does not explain: valid in one of
/// [`CONTEXT_REGIONS`], at least 9 digits ("room no. 0300 1234" is a room), and written like a phone there — in
/// groups, or unbroken with that region's trunk prefix and at least 10 digits. Each region tried spends one parse of the budget.
fn judge_elsewhere(d: &str, formatted: bool, site: Id, budget: &mut u32) -> Option<(f64, String)> {
    for &region in CONTEXT_REGIONS.iter().filter(|&&r| r != site) {
        let trunk =
            DATABASE.by_id(region.as_ref()).and_then(Metadata::national_prefix).is_some_and(|p| d.starts_with(p));
        if d.len() < 9 || !(formatted || (trunk && d.len() >= 10)) || !precheck(false, d, region) {
            continue;
        }
        if *budget == 0 {
            return None;
        }
        *budget -= 1;
        if let Some((country, ty)) = classify(false, d, region) {
            let score = if matches!(ty, Type::Mobile | Type::FixedLineOrMobile) { 0.78 } else { 0.74 };
            return Some((boost(score, true), format!("phone number valid in {country} ({})", type_name(ty))));
        }
    }
    None
}

/// Validates and classifies a candidate: (region id, type) when valid. Uses the compiled metadata of `phone_meta`,
/// and `phonenumber::parse` for the regions it does not support.
fn classify(intl: bool, d: &str, region: Id) -> Option<(String, Type)> {
    match phone_meta::lookup(intl, d, region.as_ref()) {
        Lookup::Valid(id, ty) => Some((id.to_string(), ty)),
        Lookup::Invalid => None,
        Lookup::Unsupported => {
            let input = if intl { format!("+{d}") } else { d.to_string() };
            let number = phonenumber::parse(Some(region), &input).ok()?;
            // `is_valid` is exactly "the type is known": asking for the type validates and classifies at once.
            let ty = number.number_type(&DATABASE);
            let id = number.country().id().map_or_else(|| "an unknown region".to_string(), |id| format!("{id:?}"));
            (ty != Type::Unknown).then_some((id, ty))
        }
    }
}

fn code_of(meta: &Metadata) -> String {
    meta.country_code().to_string()
}

fn type_name(ty: Type) -> &'static str {
    match ty {
        Type::Mobile => "mobile",
        Type::FixedLine => "fixed line",
        Type::FixedLineOrMobile => "fixed line or mobile",
        Type::TollFree => "toll-free",
        Type::PremiumRate => "premium rate",
        Type::SharedCost => "shared cost",
        Type::Voip => "VoIP",
        Type::PersonalNumber => "personal number",
        Type::Pager => "pager",
        Type::Uan => "UAN",
        Type::Voicemail => "voicemail",
        _ => "other",
    }
}

/// Whether the national number length fits any region of the candidate's country (no parse needed).
fn precheck(intl: bool, d: &str, region: Id) -> bool {
    if intl {
        return (1..=3).any(|n| {
            let Some(cc) = d.get(..n).and_then(|c| c.parse::<u16>().ok()) else {
                return false;
            };
            DATABASE.by_code(&cc).is_some_and(|metas| metas.iter().any(|m| possible(m, d.len() - n)))
        });
    }
    let Some(meta) = DATABASE.by_id(region.as_ref()) else {
        return true;
    };
    let cc = code_of(meta);
    let nsn = match (meta.national_prefix(), d.strip_prefix(cc.as_str())) {
        (Some(p), _) if d.starts_with(p) => d.len() - p.len(),
        (_, Some(rest)) if possible(meta, rest.len()) => return true,
        _ => d.len(),
    };
    possible(meta, nsn)
}

fn possible(meta: &Metadata, len: usize) -> bool {
    let g = meta.descriptors().general();
    let len = len as u16;
    (g.possible_length().is_empty() && (7..=13).contains(&len))
        || g.possible_length().contains(&len)
        || g.possible_local_length().contains(&len)
}

/// Shapes that are something else than a national phone number (see the module docs).
fn rejected_shape(s: &Scan<'_>, gs: &[Range<usize>], span: &Range<usize>, d: &str) -> bool {
    let text = s.text.as_bytes();
    let before = scan::before(text, span.start);
    let after = text.get(span.end).copied();
    if (scan::is_alnum(before) && !glued_phone_word(text, span.start))
        || scan::is_alnum(after)
        || matches!(after, Some(b'%'))
        || matches!(before, Some(b'#' | b'$'))
    {
        return true;
    }
    if s.text.get(..span.start).is_some_and(|h| h.trim_end().ends_with(['$', '€', '£', '₹', '#'])) {
        return true;
    }
    let lens: Vec<usize> = gs.iter().map(Range::len).collect();
    let seps: Vec<&[u8]> = (1..gs.len()).map(|k| scan::sep(text, gs, k)).collect();
    let date = (0..gs.len().saturating_sub(2)).any(|k| {
        let same = seps[k] == seps[k + 1] && matches!(seps[k], b"/" | b"." | b"-");
        let (a, b, c) = (lens[k], lens[k + 1], lens[k + 2]);
        same && ((a <= 2 && b <= 2 && (c == 2 || c == 4)) || (a == 4 && b <= 2 && c <= 2))
    });
    // `33.6844` is a decimal; `0300.1234567` (trunk prefix, area or network code) is a phone written with a dot.
    let decimal = gs.len() == 2 && seps[0] == b"." && !(lens[0] >= 3 && d.starts_with('0'));
    let years = gs.len() == 2
        && lens == [4, 4]
        && d.starts_with(['1', '2'])
        && d.get(4..5).is_some_and(|c| c == "1" || c == "2");
    if date || decimal || years {
        return true;
    }
    // One ten-digit number in eleven passes the ISBN-10 check ("landline 051-2345678" does): a phone word decides.
    let ctx = s.context();
    (isbn(d) || ctx.near_within(span, context::NEGATIVE, 16, 8)) && !ctx.near(span, context::PHONE)
}

/// Words people glue to a number in SMS style ("call09050000327", "tel:" without the colon).
const GLUE_WORDS: &[&[u8]] = &[b"call", b"tel", b"ph", b"phone", b"mob", b"cell", b"no", b"help", b"helpline", b"fone"];

/// Whether the letters right before `start` are one of [`GLUE_WORDS`] standing alone as a word.
fn glued_phone_word(text: &[u8], start: usize) -> bool {
    let word_start = (0..start).rev().take(9).take_while(|&i| text[i].is_ascii_alphabetic()).last();
    word_start.is_some_and(|w| {
        !scan::is_alnum(scan::before(text, w)) && GLUE_WORDS.iter().any(|g| text.get(w..start) == Some(*g))
    })
}

/// ISBN-13 (978/979 prefix, mod-10 weights 1,3) or ISBN-10 (mod-11 weights 10..1, digits only).
fn isbn(d: &str) -> bool {
    let v: Vec<u32> = d.bytes().map(|c| u32::from(c - b'0')).collect();
    match v.len() {
        13 if d.starts_with("978") || d.starts_with("979") => {
            v.iter().enumerate().map(|(i, x)| if i % 2 == 0 { *x } else { 3 * x }).sum::<u32>() % 10 == 0
        }
        10 => v.iter().enumerate().map(|(i, x)| (10 - i as u32) * x).sum::<u32>() % 11 == 0,
        _ => false,
    }
}

/// Finds WhatsApp links. Runs before the card and ID detectors so their digits are claimed as a phone.
pub fn detect_links(s: &mut Scan<'_>) {
    let mut found = Vec::new();
    let mut budget = s.phone_budget;
    whatsapp_links(s, &mut budget, &mut found);
    s.phone_budget = budget;
    for f in found {
        s.push(&PII_PHONE, f.span, Space::Norm, f.score, f.detail);
    }
}

/// `wa.me/923001234567` and `api.whatsapp.com/send?phone=…`: the span covers the link from its scheme.
fn whatsapp_links(s: &Scan<'_>, budget: &mut u32, found: &mut Vec<Found>) {
    let text = s.text.as_bytes();
    for (link, finder) in WA_LINKS.iter().zip(WA_FINDERS.iter()) {
        for p in finder.find_iter(text) {
            let mut q = p + link.len();
            if text.get(q) == Some(&b'+') {
                q += 1;
            }
            let n = text[q..].iter().take(16).take_while(|c| c.is_ascii_digit()).count();
            if !(8..=15).contains(&n) || *budget == 0 {
                continue;
            }
            *budget -= 1;
            let d = std::str::from_utf8(&text[q..q + n]).unwrap_or_default();
            let valid = classify(true, d, s.cfg.default_region).is_some();
            let mut start = p;
            for pre in ["api.", "www.", "https://", "http://"] {
                if text[..start].ends_with(pre.as_bytes()) {
                    start -= pre.len();
                }
            }
            let score = if valid { 0.96 } else { 0.85 };
            found.push(Found { span: start..q + n, score, detail: "WhatsApp link with a phone number".to_string() });
        }
    }
    found.sort_by_key(|f| f.span.start);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn isbn_checks() {
        assert!(isbn("9783161484100"));
        assert!(isbn("0306406152"));
        assert!(!isbn("03001234567"));
    }

    #[test]
    fn precheck_lengths() {
        assert!(precheck(false, "03001234567", Id::PK));
        assert!(precheck(true, "923001234567", Id::PK));
        assert!(precheck(true, "447911123456", Id::PK));
        assert!(!precheck(false, "1234", Id::PK));
    }
}

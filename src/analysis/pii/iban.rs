//! IBANs (ISO 13616): two letters, two check digits, then the country's BBAN, written electronically
//! (`PK36SCBL0000001123456702`) or in groups of four (`DE89 3704 0044 0532 0130 00`), also when glued to a
//! following word (`…6702please`).
//!
//! Anchors are numeric chunks right after two letters at a word start. From there up to 34 alphanumerics are
//! collected (a single space or hyphen allowed after every fourth), and the longest prefix that `iban_validate`
//! accepts (mod-97 and the country's registered BBAN format, which fixes the length) wins. Countries the registry in
//! `iban_validate` lacks are checked against [`EXTRA`]: mod-97 via `BaseIban` plus length and shape.

use super::{Scan, Space, boost, context, scan};
use crate::findings::PII_IBAN;
use std::ops::Range;

/// Countries issuing IBANs that `iban_validate` 5 does not list: (country, IBAN length, BBAN = letters then
/// alphanumerics: how many leading letters).
const EXTRA: &[(&str, usize, usize)] = &[("PK", 24, 4)];

/// Longest IBAN (Saint Lucia, Russia) is 33–34 characters; the shortest (Norway) 15.
const MAX_LEN: usize = 34;
const MIN_LEN: usize = 15;

pub fn detect(s: &mut Scan<'_>) {
    let text = s.text.as_bytes();
    let mut found: Vec<(Range<usize>, String)> = Vec::new();
    for ch in &s.chunks().chunks {
        let g = ch.start;
        let Some(start) = g.checked_sub(2) else {
            continue;
        };
        if ch.plus
            || !text[start].is_ascii_lowercase()
            || !text[start + 1].is_ascii_lowercase()
            || scan::is_alnum(scan::before(text, start))
            || found.last().is_some_and(|(r, _)| r.end > start)
        {
            continue;
        }
        if let Some(hit) = at(text, start) {
            found.push(hit);
        }
    }
    for (span, country) in found {
        let near = s.context().near(&span, context::BANK);
        s.push(&PII_IBAN, span, Space::Norm, boost(0.97, near), format!("IBAN from {country} (mod-97 valid)"));
    }
}

/// Tries an IBAN starting at `start` (two lowercase letters then a digit).
fn at(text: &[u8], start: usize) -> Option<(Range<usize>, String)> {
    let mut chars: Vec<u8> = Vec::with_capacity(MAX_LEN);
    let mut ends: Vec<usize> = Vec::with_capacity(MAX_LEN);
    let mut i = start;
    while i < text.len() && chars.len() < MAX_LEN {
        let b = text[i];
        if b.is_ascii_alphanumeric() {
            chars.push(b.to_ascii_uppercase());
            ends.push(i + 1);
            i += 1;
        } else if matches!(b, b' ' | b'-')
            && chars.len() % 4 == 0
            && text.get(i + 1).is_some_and(u8::is_ascii_alphanumeric)
        {
            i += 1;
        } else {
            break;
        }
    }
    if !chars.get(2..4).is_some_and(|d| d.iter().all(u8::is_ascii_digit)) {
        return None;
    }
    for len in (MIN_LEN..=chars.len()).rev() {
        let candidate = std::str::from_utf8(&chars[..len]).ok()?;
        if let Some(country) = valid(candidate) {
            return Some((start..ends[len - 1], country.to_string()));
        }
    }
    None
}

/// The country code when `s` (electronic form, uppercase) is a valid IBAN.
fn valid(s: &str) -> Option<&str> {
    match s.parse::<iban::Iban>() {
        Ok(_) => s.get(..2),
        Err(iban::ParseIbanError::UnknownCountry(_)) => {
            let country = s.get(..2)?;
            let &(_, len, letters) = EXTRA.iter().find(|(c, _, _)| *c == country)?;
            let bban = s.get(4..)?.as_bytes();
            let shape = s.len() == len
                && bban.iter().take(letters).all(u8::is_ascii_uppercase)
                && bban.iter().all(u8::is_ascii_alphanumeric);
            shape.then_some(country)
        }
        Err(_) => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn validates_registry_and_extra_countries() {
        assert_eq!(valid("DE89370400440532013000"), Some("DE"));
        assert_eq!(valid("DE89370400440532013001"), None);
        assert_eq!(valid("PK36SCBL0000001123456702"), Some("PK"));
        assert_eq!(valid("PK37SCBL0000001123456702"), None);
    }

    #[test]
    fn finds_glued_and_spaced_forms() {
        let t = b"pk36scbl0000001123456702please";
        assert_eq!(at(t, 0).map(|h| h.0), Some(0..24));
        let t = b"de89 3704 0044 0532 0130 00 thanks";
        assert_eq!(at(t, 0).map(|h| h.0), Some(0..27));
    }
}

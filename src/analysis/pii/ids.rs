//! National identifiers.
//!
//! | code | written form that counts alone | unbroken digits count only with a context word |
//! | --- | --- | --- |
//! | `pii.us_ssn` | `AAA-GG-SSSS` (hyphens or spaces); area not 000, 666 or 900–999, group not 00, serial not 0000 | 9 digits near `ssn`/`social security` |
//! | `pii.pk_cnic` | `12345-1234567-1` (hyphens or spaces); first digit 1–8 (province) | 13 digits near `cnic`, `shanakhti`, `id card`, `شناختی`… |
//! | `pii.in_aadhaar` | `1234 5678 9012` (spaces or hyphens); first digit 2–9; Verhoeff check digit | 12 digits with the same checks near `aadhaar`/`uid`/`आधार` |
//! | `pii.uk_nino` | `AB 12 34 56 C` or `AB123456C`; official prefix rules; suffix A–D | — |
//!
//! Unbroken digit runs need context because 9, 12 and 13 digits are also order, tracking and account numbers; the
//! Verhoeff check alone passes one random number in ten.

use super::{Scan, Space, boost, context, scan};
use crate::findings::{FindingCode, PII_IN_AADHAAR, PII_PK_CNIC, PII_UK_NINO, PII_US_SSN};
use std::ops::Range;

pub fn detect(s: &mut Scan<'_>) {
    let text = s.text.as_bytes();
    let mut found: Vec<(&'static FindingCode, Range<usize>, f64, &'static str)> = Vec::new();
    let mut digits = String::new();
    {
        let chunks = s.chunks();
        for ch in &chunks.chunks {
            let groups = chunks.groups_of(ch);
            if let Some(n) = nino(text, groups) {
                found.push((&PII_UK_NINO, n, 0.93, "UK National Insurance number"));
                continue;
            }
            scan::for_each_candidate(text, groups, 3, |r| {
                // `+8801812471865` is a phone, whatever ID it resembles.
                if ch.plus && r.start == 0 {
                    return false;
                }
                let gs = &groups[r];
                if !scan::digits_of(text, gs, 13, &mut digits) || digits.len() < 9 {
                    return false;
                }
                let span = gs[0].start..gs[gs.len() - 1].end;
                if s.is_claimed(&span) || scan::in_url(text, span.start) {
                    return false;
                }
                if scan::is_alnum(scan::before(text, span.start)) || scan::is_alnum(text.get(span.end).copied()) {
                    return false;
                }
                let lens: Vec<usize> = gs.iter().map(|g| g.len()).collect();
                let seps_ok = (1..gs.len()).all(|k| matches!(scan::sep(text, gs, k), b"-" | b" "));
                let hit = match (digits.len(), lens.as_slice()) {
                    (9, [3, 2, 4]) if seps_ok && ssn_valid(&digits) => {
                        Some((&PII_US_SSN, 0.92, "US social security number"))
                    }
                    (9, [9]) if ssn_valid(&digits) => {
                        Some((&PII_US_SSN, 0.75, "US social security number (by context)"))
                    }
                    (13, [5, 7, 1]) if seps_ok && cnic_valid(&digits) => {
                        Some((&PII_PK_CNIC, 0.95, "Pakistani CNIC number"))
                    }
                    (13, [13]) if cnic_valid(&digits) => {
                        Some((&PII_PK_CNIC, 0.78, "Pakistani CNIC number (by context)"))
                    }
                    (12, [4, 4, 4]) if seps_ok && aadhaar_valid(&digits) => {
                        Some((&PII_IN_AADHAAR, 0.97, "Aadhaar number (Verhoeff valid)"))
                    }
                    (12, [12]) if aadhaar_valid(&digits) => {
                        Some((&PII_IN_AADHAAR, 0.8, "Aadhaar number (Verhoeff valid, by context)"))
                    }
                    _ => None,
                };
                match hit {
                    Some(h) => {
                        found.push((h.0, span, h.1, h.2));
                        true
                    }
                    None => false,
                }
            });
        }
    }
    for (code, span, score, detail) in found {
        let kinds = match code.code {
            "pii.us_ssn" => context::SSN,
            "pii.pk_cnic" => context::CNIC | context::ID,
            "pii.in_aadhaar" => context::AADHAAR | context::ID,
            _ => context::NINO,
        };
        let near = s.context().near(&span, kinds);
        // Unbroken runs (scores below 0.9) count only with context.
        if score < 0.9 && !near {
            continue;
        }
        s.push(code, span, Space::Norm, boost(score, near), detail.to_string());
    }
}

/// SSA rules: area 001–665, 667–899; group 01–99; serial 0001–9999.
pub fn ssn_valid(d: &str) -> bool {
    let (Some(a), Some(g), Some(s)) = (d.get(0..3), d.get(3..5), d.get(5..9)) else {
        return false;
    };
    let (Ok(a), Ok(g), Ok(s)) = (a.parse::<u32>(), g.parse::<u32>(), s.parse::<u32>()) else {
        return false;
    };
    d.len() == 9 && a != 0 && a != 666 && a < 900 && g != 0 && s != 0
}

/// 13 digits whose first (the province) is 1–8.
pub fn cnic_valid(d: &str) -> bool {
    d.len() == 13 && matches!(d.as_bytes().first(), Some(b'1'..=b'8'))
}

/// 12 digits, first 2–9, Verhoeff check digit.
pub fn aadhaar_valid(d: &str) -> bool {
    d.len() == 12 && matches!(d.as_bytes().first(), Some(b'2'..=b'9')) && verhoeff(d)
}

const VERHOEFF_D: [[u8; 10]; 10] = [
    [0, 1, 2, 3, 4, 5, 6, 7, 8, 9],
    [1, 2, 3, 4, 0, 6, 7, 8, 9, 5],
    [2, 3, 4, 0, 1, 7, 8, 9, 5, 6],
    [3, 4, 0, 1, 2, 8, 9, 5, 6, 7],
    [4, 0, 1, 2, 3, 9, 5, 6, 7, 8],
    [5, 9, 8, 7, 6, 0, 4, 3, 2, 1],
    [6, 5, 9, 8, 7, 1, 0, 4, 3, 2],
    [7, 6, 5, 9, 8, 2, 1, 0, 4, 3],
    [8, 7, 6, 5, 9, 3, 2, 1, 0, 4],
    [9, 8, 7, 6, 5, 4, 3, 2, 1, 0],
];
const VERHOEFF_P: [[u8; 10]; 8] = [
    [0, 1, 2, 3, 4, 5, 6, 7, 8, 9],
    [1, 5, 7, 6, 2, 8, 3, 0, 9, 4],
    [5, 8, 0, 3, 7, 9, 6, 1, 4, 2],
    [8, 9, 1, 6, 0, 4, 3, 5, 2, 7],
    [9, 4, 5, 3, 1, 2, 6, 8, 7, 0],
    [4, 2, 8, 6, 5, 7, 3, 9, 0, 1],
    [2, 7, 9, 3, 8, 0, 6, 4, 1, 5],
    [7, 0, 4, 6, 9, 1, 3, 2, 5, 8],
];

/// The Verhoeff check over ASCII digits (the last digit is the check digit).
pub fn verhoeff(d: &str) -> bool {
    let mut c = 0u8;
    for (i, b) in d.bytes().rev().enumerate() {
        let n = b.wrapping_sub(b'0');
        if n > 9 {
            return false;
        }
        c = VERHOEFF_D[usize::from(c)][usize::from(VERHOEFF_P[i % 8][usize::from(n)])];
    }
    !d.is_empty() && c == 0
}

/// A NINO around a chunk: two prefix letters right before it (one space allowed), six digits as one group or three
/// pairs, then the suffix letter A–D (one space allowed), all bounded by non-alphanumerics.
fn nino(text: &[u8], groups: &[Range<usize>]) -> Option<Range<usize>> {
    let first = groups.first()?;
    let last = groups.last()?;
    let lens: Vec<usize> = groups.iter().map(|g| g.len()).collect();
    let spaced = (1..groups.len()).all(|k| scan::sep(text, groups, k) == b" ");
    if !(lens == [6] || (lens == [2, 2, 2] && spaced)) {
        return None;
    }
    let mut p = first.start;
    if scan::before(text, p) == Some(b' ') {
        p -= 1;
    }
    let (l1, l2) = (text.get(p.checked_sub(2)?).copied()?, text.get(p - 1).copied()?);
    let start = p - 2;
    if scan::is_alnum(scan::before(text, start)) || !prefix_ok(l1, l2) {
        return None;
    }
    let mut q = last.end;
    if text.get(q) == Some(&b' ') {
        q += 1;
    }
    let suffix = text.get(q).copied()?;
    if !matches!(suffix, b'a'..=b'd') || scan::is_alnum(text.get(q + 1).copied()) {
        return None;
    }
    Some(start..q + 1)
}

/// HMRC rules: first letter not D, F, I, Q, U, V; second not D, F, I, O, Q, U, V; and not BG, GB, KN, NK, NT, TN,
/// ZZ. Letters are lowercase here (normalised text).
fn prefix_ok(a: u8, b: u8) -> bool {
    a.is_ascii_lowercase()
        && b.is_ascii_lowercase()
        && !b"dfiquv".contains(&a)
        && !b"dfioquv".contains(&b)
        && !matches!(&[a, b], b"bg" | b"gb" | b"kn" | b"nk" | b"nt" | b"tn" | b"zz")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn validators() {
        assert!(verhoeff("2363"));
        assert!(!verhoeff("2364"));
        assert!(ssn_valid("123456789"));
        assert!(!ssn_valid("666456789") && !ssn_valid("900456789") && !ssn_valid("123006789"));
        assert!(cnic_valid("3520212345671") && !cnic_valid("9520212345671"));
        assert!(prefix_ok(b'a', b'b') && !prefix_ok(b'g', b'b') && !prefix_ok(b'q', b'a'));
    }
}

//! Payment card numbers: 12–19 digits, written unbroken or in groups joined by one consistent separator (space,
//! hyphen, dot or slash: `4111.1111.1111.1111` and `4111/1111/1111/1111` are cards to any reader), passing Luhn and falling in a known issuer's range with a length that issuer uses.

use super::{Scan, Space, boost, context, scan};
use crate::findings::PII_CREDIT_CARD;
use std::ops::Range;

/// Issuer ranges: (lowest prefix, highest prefix, prefix digits, allowed lengths, name).
const ISSUERS: &[(u32, u32, usize, &[usize], &str)] = &[
    (4, 4, 1, &[13, 16, 19], "Visa"),
    (51, 55, 2, &[16], "Mastercard"),
    (2221, 2720, 4, &[16], "Mastercard"),
    (34, 34, 2, &[15], "American Express"),
    (37, 37, 2, &[15], "American Express"),
    (6011, 6011, 4, &[16, 17, 18, 19], "Discover"),
    (644, 649, 3, &[16, 17, 18, 19], "Discover"),
    (65, 65, 2, &[16, 17, 18, 19], "Discover"),
    (3528, 3589, 4, &[16, 17, 18, 19], "JCB"),
    (62, 62, 2, &[16, 17, 18, 19], "UnionPay"),
    (81, 81, 2, &[16, 17, 18, 19], "UnionPay"),
    (300, 305, 3, &[14, 16], "Diners Club"),
    (36, 36, 2, &[14], "Diners Club"),
    (38, 39, 2, &[14, 16], "Diners Club"),
    (5018, 5018, 4, &[12, 13, 14, 15, 16, 17, 18, 19], "Maestro"),
    (5020, 5020, 4, &[12, 13, 14, 15, 16, 17, 18, 19], "Maestro"),
    (5038, 5038, 4, &[12, 13, 14, 15, 16, 17, 18, 19], "Maestro"),
    (5893, 5893, 4, &[12, 13, 14, 15, 16, 17, 18, 19], "Maestro"),
    (6304, 6304, 4, &[12, 13, 14, 15, 16, 17, 18, 19], "Maestro"),
    (6759, 6759, 4, &[12, 13, 14, 15, 16, 17, 18, 19], "Maestro"),
    (6761, 6763, 4, &[12, 13, 14, 15, 16, 17, 18, 19], "Maestro"),
];

/// The Luhn (mod 10) check over ASCII digits.
pub fn luhn(digits: &str) -> bool {
    let mut sum = 0u32;
    for (i, b) in digits.bytes().rev().enumerate() {
        let mut d = u32::from(b.wrapping_sub(b'0'));
        if d > 9 {
            return false;
        }
        if i % 2 == 1 {
            d *= 2;
            if d > 9 {
                d -= 9;
            }
        }
        sum += d;
    }
    !digits.is_empty() && sum % 10 == 0
}

/// The issuer whose range and lengths fit `digits`.
pub fn issuer(digits: &str) -> Option<&'static str> {
    ISSUERS.iter().find_map(|&(lo, hi, n, lens, name)| {
        let p: u32 = digits.get(..n)?.parse().ok()?;
        (p >= lo && p <= hi && lens.contains(&digits.len())).then_some(name)
    })
}

pub fn detect(s: &mut Scan<'_>) {
    let text = s.text.as_bytes();
    let mut found = Vec::new();
    let mut digits = String::new();
    {
        let chunks = s.chunks();
        for ch in &chunks.chunks {
            let groups = chunks.groups_of(ch);
            scan::for_each_candidate(text, groups, 6, |r| {
                let gs = &groups[r.clone()];
                let unbroken = gs.len() == 1;
                if !scan::digits_of(text, gs, 19, &mut digits) || digits.len() < 12 || !card_groups(text, gs) {
                    return false;
                }
                // `+49-1512-…` is a phone whatever its checksum.
                if ch.plus && r.start == 0 {
                    return false;
                }
                let span = gs[0].start..gs[gs.len() - 1].end;
                if s.is_claimed(&span) || scan::in_url(text, span.start) {
                    return false;
                }
                // Letters glued on either side make it part of a code or an IBAN, not a card.
                if scan::is_alnum(scan::before(text, span.start)) || scan::is_alnum(text.get(span.end).copied()) {
                    return false;
                }
                match issuer(&digits) {
                    Some(name) if luhn(&digits) => {
                        found.push((span, name, unbroken));
                        true
                    }
                    _ => false,
                }
            });
        }
    }
    for (span, name, unbroken) in found {
        let near = s.context().near(&span, context::CARD);
        // An unbroken run next to an ID word ("cnic 4101398267247") is that ID, even when it happens to pass Luhn.
        if unbroken && !near && s.context().near(&span, context::ID_KINDS) {
            continue;
        }
        s.push(&PII_CREDIT_CARD, span, Space::Norm, boost(0.97, near), format!("{name} card number (Luhn valid)"));
    }
}

/// How card numbers are printed: unbroken, groups of four (the last may be shorter), or 4-6-4/4-6-5 (Amex, Diners),
/// joined by one separator kind, a single space, hyphen, dot or slash each time. Luhn, the issuer table and the
/// group shape together keep dotted version strings and slashed dates out (neither has four groups of four digits).
fn card_groups(text: &[u8], groups: &[Range<usize>]) -> bool {
    let lens: Vec<usize> = groups.iter().map(Range::len).collect();
    let shape = match lens.as_slice() {
        [_] | [4, 6, 4] | [4, 6, 5] => true,
        [4, middle @ .., last] => !middle.is_empty() && middle.iter().all(|&l| l == 4) && (1..=4).contains(last),
        _ => false,
    };
    let mut kind = None;
    shape
        && (1..groups.len()).all(|k| match scan::sep(text, groups, k) {
            [c @ (b' ' | b'-' | b'.' | b'/')] => *kind.get_or_insert(*c) == *c,
            _ => false,
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn luhn_and_issuers() {
        assert!(luhn("4111111111111111"));
        assert!(!luhn("4111111111111112"));
        assert_eq!(issuer("4111111111111111"), Some("Visa"));
        assert_eq!(issuer("378282246310005"), Some("American Express"));
        assert_eq!(issuer("2223000048400011"), Some("Mastercard"));
        assert_eq!(issuer("6212345678901234567"), Some("UnionPay"));
        assert_eq!(issuer("1234567812345678"), None);
    }
}

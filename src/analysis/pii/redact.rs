//! Rewrites a body with PII masked (DESIGN §4–5): `redacted_body` for publishing and the moderators' view.
//!
//! Invariant: the output never contains a byte of a target span's original text, except what a `PartialMask` style
//! deliberately keeps (an email's first letter and domain, a number's last four characters).

use serde::{Deserialize, Serialize};
use std::ops::Range;

/// How one piece of PII is masked.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum RedactionStyle {
    /// `[phone removed]`, `[email removed]`, `[card number removed]`…
    Label,
    /// `j***@example.com` for emails, `•••• 4242` for numbers and other values.
    PartialMask,
    /// Deleted; the doubled space it would leave is collapsed.
    Remove,
}

impl RedactionStyle {
    /// Higher masks more; merged targets take the highest.
    fn strength(self) -> u8 {
        match self {
            RedactionStyle::PartialMask => 1,
            RedactionStyle::Label => 2,
            RedactionStyle::Remove => 3,
        }
    }
}

/// One span of the original body to mask, with its finding code (`pii.phone`…) and style.
#[derive(Clone, Debug)]
pub struct RedactTarget<'a> {
    pub span: Range<usize>,
    pub code: &'a str,
    pub style: RedactionStyle,
}

/// Masks `targets` in `original`. Spans out of bounds are clipped, spans off char boundaries widened to the
/// enclosing characters, empty spans ignored. Overlapping/adjacent targets merge cleanly (the most protective style
/// wins: Remove > Label > PartialMask; the label is that of the longest target).
pub fn redact(original: &str, targets: &[RedactTarget<'_>]) -> String {
    let mut spans: Vec<(Range<usize>, &str, RedactionStyle)> = targets
        .iter()
        .filter_map(|t| {
            let end = ceil_boundary(original, t.span.end.min(original.len()));
            let start = floor_boundary(original, t.span.start.min(end));
            (start < end).then_some((start..end, t.code, t.style))
        })
        .collect();
    spans.sort_by_key(|s| (s.0.start, std::cmp::Reverse(s.0.end)));

    // Merge into groups: (range, code of the longest member, strongest style).
    let mut groups: Vec<(Range<usize>, &str, usize, RedactionStyle)> = Vec::new();
    for (r, code, style) in spans {
        if let Some(g) = groups.last_mut().filter(|g| r.start <= g.0.end) {
            g.0.end = g.0.end.max(r.end);
            if r.len() > g.2 {
                g.1 = code;
                g.2 = r.len();
            }
            if style.strength() > g.3.strength() {
                g.3 = style;
            }
        } else {
            let len = r.len();
            groups.push((r, code, len, style));
        }
    }

    let mut out = String::with_capacity(original.len());
    let mut pos = 0;
    for (r, code, _, style) in groups {
        out.push_str(&original[pos..r.start]);
        pos = r.end;
        let value = &original[r.clone()];
        match style {
            RedactionStyle::Label => {
                out.push('[');
                out.push_str(label(code));
                out.push_str(" removed]");
            }
            RedactionStyle::PartialMask => out.push_str(&partial_mask(code, value)),
            RedactionStyle::Remove => {
                let next = original[pos..].chars().next();
                let at_line_start = out.is_empty() || out.ends_with('\n');
                match next {
                    // "call 0300… now" → "call now", not "call  now"; at a line start drop the space after.
                    Some(' ') if out.ends_with(' ') || at_line_start => pos += 1,
                    // "call 0300…, thanks" → "call, thanks".
                    Some(',' | '.' | ';' | ':' | '!' | '?') | None if out.ends_with(' ') => {
                        out.pop();
                    }
                    _ => {}
                }
            }
        }
    }
    out.push_str(&original[pos..]);
    out
}

/// For moderators (DESIGN §4): `[card …4242]` — the type and the last four of the value's alphanumerics. Values
/// with fewer than eight alphanumerics show the type only, so a short value is never half revealed.
pub fn mask_last4(code: &str, value: &str) -> String {
    let tail = last_alnum(value, 4);
    if value.chars().filter(|c| c.is_alphanumeric()).count() < 8 {
        return format!("[{}]", short_name(code));
    }
    format!("[{} …{}]", short_name(code), tail)
}

fn partial_mask(code: &str, value: &str) -> String {
    if code == "pii.email" {
        let first = value.chars().next().filter(|c| c.is_alphanumeric());
        return match (first, value.rfind('@')) {
            (Some(c), Some(at)) => format!("{c}***@{}", value[at + 1..].trim_start()),
            (Some(c), None) => format!("{c}***"),
            (None, _) => "***".to_string(),
        };
    }
    if value.chars().filter(|c| c.is_alphanumeric()).count() < 8 {
        return "••••".to_string();
    }
    format!("•••• {}", last_alnum(value, 4))
}

fn last_alnum(value: &str, n: usize) -> String {
    let mut tail: Vec<char> = value.chars().rev().filter(|c| c.is_alphanumeric()).take(n).collect();
    tail.reverse();
    tail.into_iter().collect()
}

/// The label used by [`RedactionStyle::Label`].
fn label(code: &str) -> &str {
    match code {
        "pii.email" => "email",
        "pii.phone" => "phone",
        "pii.credit_card" => "card number",
        "pii.iban" => "IBAN",
        "pii.ip_address" => "IP address",
        "pii.us_ssn" => "SSN",
        "pii.pk_cnic" => "CNIC",
        "pii.in_aadhaar" => "Aadhaar number",
        "pii.uk_nino" => "NI number",
        "pii.crypto_wallet" => "wallet address",
        "pii.secret" => "secret",
        _ => "personal data",
    }
}

/// The type word of [`mask_last4`].
fn short_name(code: &str) -> &str {
    match code {
        "pii.credit_card" => "card",
        "pii.ip_address" => "ip",
        "pii.us_ssn" => "ssn",
        "pii.pk_cnic" => "cnic",
        "pii.in_aadhaar" => "aadhaar",
        "pii.uk_nino" => "nino",
        "pii.crypto_wallet" => "wallet",
        other => other.strip_prefix("pii.").unwrap_or("pii"),
    }
}

fn floor_boundary(s: &str, mut i: usize) -> usize {
    while i > 0 && !s.is_char_boundary(i) {
        i -= 1;
    }
    i
}

fn ceil_boundary(s: &str, mut i: usize) -> usize {
    while i < s.len() && !s.is_char_boundary(i) {
        i += 1;
    }
    i
}

#[cfg(test)]
mod tests {
    use super::*;
    use RedactionStyle::*;

    fn t(span: Range<usize>, code: &str, style: RedactionStyle) -> RedactTarget<'_> {
        RedactTarget { span, code, style }
    }

    #[test]
    fn styles() {
        let s = "call 0300-1234567 now";
        assert_eq!(redact(s, &[t(5..17, "pii.phone", Label)]), "call [phone removed] now");
        assert_eq!(redact(s, &[t(5..17, "pii.phone", PartialMask)]), "call •••• 4567 now");
        assert_eq!(redact(s, &[t(5..17, "pii.phone", Remove)]), "call now");
        let e = "mail john@example.com, thanks";
        assert_eq!(redact(e, &[t(5..21, "pii.email", PartialMask)]), "mail j***@example.com, thanks");
        assert_eq!(redact(e, &[t(5..21, "pii.email", Remove)]), "mail, thanks");
    }

    #[test]
    fn merges_overlaps_with_the_strongest_style() {
        let s = "x 4111 1111 1111 1111 y";
        let out = redact(
            s,
            &[t(2..11, "pii.phone", PartialMask), t(2..21, "pii.credit_card", Label), t(21..21, "pii.phone", Remove)],
        );
        assert_eq!(out, "x [card number removed] y");
        let out = redact(s, &[t(2..11, "pii.phone", Remove), t(11..21, "pii.credit_card", Label)]);
        assert_eq!(out, "x y");
    }

    #[test]
    fn clips_bad_spans() {
        let s = "é 123";
        assert_eq!(
            redact(s, &[t(1..2, "pii.phone", Label), t(3..99, "pii.phone", Label)]),
            "[phone removed] [phone removed]"
        );
        assert_eq!(mask_last4("pii.credit_card", "4111 1111 1111 4242"), "[card …4242]");
        assert_eq!(mask_last4("pii.iban", "PK36"), "[iban]");
    }
}

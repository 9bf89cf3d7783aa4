//! What a moderator may see (DESIGN §4). The `moderator` role sees author emails partially masked, author addresses
//! truncated, and high-risk identifiers in bodies (cards, IBANs, national ids, wallets, secrets) as their type and
//! last four characters; the `admin` role sees everything in clear.

use crate::analysis::pii::redact::{RedactTarget, RedactionStyle, mask_last4, redact};
use crate::domain::{Category, Finding};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::ops::Range;

/// Finding codes whose values a moderator never sees in clear. Contact details (email, phone) stay readable: the
/// moderator must judge whether publishing them was the point of the comment.
const HIGH_RISK: &[&str] = &[
    "pii.credit_card",
    "pii.iban",
    "pii.us_ssn",
    "pii.pk_cnic",
    "pii.in_aadhaar",
    "pii.uk_nino",
    "pii.crypto_wallet",
    "pii.secret",
];

/// A body as a moderator sees it, with the map needed to move finding spans onto it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MaskedBody {
    pub text: String,
    /// (original range, range in `text`) of every replacement, in order.
    edits: Vec<(Range<usize>, Range<usize>)>,
}

impl MaskedBody {
    /// The body unchanged (admins).
    pub fn clear(body: &str) -> MaskedBody {
        MaskedBody { text: body.to_string(), edits: Vec::new() }
    }

    /// Maps a byte range of the original body onto `text`: shifted past earlier replacements, and widened to the
    /// whole replacement where it touches one.
    pub fn map(&self, r: &Range<usize>) -> Range<usize> {
        let point = |p: usize, is_end: bool| {
            let mut shift: isize = 0;
            for (orig, new) in &self.edits {
                let before = if is_end { p <= orig.start } else { p < orig.start };
                if before {
                    break;
                }
                let inside = if is_end { p <= orig.end } else { p < orig.end };
                if inside {
                    return if is_end { new.end } else { new.start };
                }
                shift = new.end as isize - orig.end as isize;
            }
            (p as isize + shift).max(0) as usize
        };
        let start = point(r.start, false);
        start..point(r.end, true).max(start)
    }
}

/// The body with every high-risk identifier replaced by `[type …last4]`. Overlapping spans merge; the longer
/// finding names the group.
pub fn body_for_moderator(body: &str, findings: &[Finding]) -> MaskedBody {
    let mut spans: Vec<(Range<usize>, &str)> = findings
        .iter()
        .filter(|f| f.category == Category::Pii && HIGH_RISK.contains(&f.code.as_str()))
        .flat_map(|f| f.spans.iter().map(move |s| (s.clone(), f.code.as_str())))
        .filter(|(s, _)| {
            s.start < s.end && s.end <= body.len() && body.is_char_boundary(s.start) && body.is_char_boundary(s.end)
        })
        .collect();
    spans.sort_by_key(|(s, _)| (s.start, std::cmp::Reverse(s.end)));
    let mut text = String::with_capacity(body.len());
    let mut edits = Vec::new();
    let mut pos = 0;
    let mut i = 0;
    while i < spans.len() {
        let (mut range, mut code) = spans[i].clone();
        let mut longest = range.len();
        i += 1;
        while i < spans.len() && spans[i].0.start < range.end {
            if spans[i].0.len() > longest {
                longest = spans[i].0.len();
                code = spans[i].1;
            }
            range.end = range.end.max(spans[i].0.end);
            i += 1;
        }
        text.push_str(&body[pos..range.start]);
        let start = text.len();
        text.push_str(&mask_last4(code, &body[range.clone()]));
        edits.push((range.clone(), start..text.len()));
        pos = range.end;
    }
    text.push_str(&body[pos..]);
    MaskedBody { text, edits }
}

/// `j***@example.com`, the same partial mask the redactor uses in published bodies.
pub fn email_for_moderator(email: &str) -> String {
    if email.is_empty() {
        return String::new();
    }
    redact(email, &[RedactTarget { span: 0..email.len(), code: "pii.email", style: RedactionStyle::PartialMask }])
}

/// IPv4 to its /24 (`203.0.113.x`), IPv6 to its /48: enough to see a pattern across comments, not to find a home.
/// An IPv6 address that carries an IPv4 one (`embedded_ipv4`) is shown as that IPv4's /24: its /48 would show
/// the whole IPv4 for 6to4 (`2002:c633:6461::/48` is 198.51.100.97), and the same host then looks the same
/// whichever way it connected.
pub fn ip_for_moderator(ip: &str) -> String {
    let v4 = match ip.parse::<IpAddr>() {
        Ok(IpAddr::V4(v4)) => v4,
        Ok(IpAddr::V6(v6)) => match embedded_ipv4(&v6) {
            Some(v4) => v4,
            None => {
                let s = v6.segments();
                return format!("{:x}:{:x}:{:x}::x", s[0], s[1], s[2]);
            }
        },
        Err(_) => return String::new(),
    };
    let [a, b, c, _] = v4.octets();
    format!("{a}.{b}.{c}.x")
}

/// The IPv4 address an IPv6 address carries, for the forms that put it where a /48 or a plain reading shows it:
/// IPv4-mapped `::ffff:a.b.c.d` and IPv4-compatible `::a.b.c.d` (RFC 4291), NAT64 `64:ff9b::/96` (RFC 6052),
/// 6to4 `2002:AABB:CCDD::/48` (RFC 3056) and Teredo `2001:0::/32`, whose client address is the last 32 bits
/// inverted (RFC 4380). `::` and `::1` are not IPv4.
fn embedded_ipv4(v6: &Ipv6Addr) -> Option<Ipv4Addr> {
    let s = v6.segments();
    let o = v6.octets();
    let last = Ipv4Addr::new(o[12], o[13], o[14], o[15]);
    match s {
        [0, 0, 0, 0, 0, 0xffff, ..] => Some(last),
        [0, 0, 0, 0, 0, 0, hi, _] if hi != 0 => Some(last),
        [0x64, 0xff9b, 0, 0, 0, 0, ..] => Some(last),
        [0x2002, ..] => Some(Ipv4Addr::new(o[2], o[3], o[4], o[5])),
        [0x2001, 0, ..] => Some(Ipv4Addr::from(!u32::from(last))),
        _ => None,
    }
}

#[cfg(test)]
#[allow(clippy::single_range_in_vec_init)] // spans are ranges: `vec![5..24]` is one span
mod tests {
    use super::*;
    use crate::findings;

    #[test]
    fn high_risk_values_show_type_and_last_four() {
        let body = "card 4111 1111 1111 1111 or mail me";
        let card = Finding::new(&findings::PII_CREDIT_CARD, 0.99, "card").with_spans(vec![5..24]);
        let email = Finding::new(&findings::PII_EMAIL, 0.9, "email").with_spans(vec![28..35]);
        let masked = body_for_moderator(body, &[card, email]);
        let text = &masked.text;
        assert!(text.contains("1111]") && !text.contains("4111 1111"), "{text}");
        assert!(text.ends_with("or mail me"), "contact details stay readable: {text}");
        assert_eq!(&text[masked.map(&(28..35))], "mail me", "spans after a replacement shift");
        assert_eq!(&text[masked.map(&(5..24))], &text[5..text.len() - 11], "a masked span covers its replacement");
        assert_eq!(masked.map(&(0..4)), 0..4, "spans before a replacement stay");
    }

    #[test]
    fn overlapping_spans_merge_and_bad_spans_are_ignored() {
        let body = "id 12345-1234567-1 end";
        let a = Finding::new(&findings::PII_PK_CNIC, 0.9, "cnic").with_spans(vec![3..18]);
        let b = Finding::new(&findings::PII_SECRET, 0.5, "secret").with_spans(vec![9..18, 40..50]);
        let masked = body_for_moderator(body, &[a, b]).text;
        assert!(!masked.contains("1234567"), "{masked}");
        assert!(masked.starts_with("id [") && masked.ends_with("] end"), "{masked}");
    }

    #[test]
    fn emails_and_addresses() {
        assert_eq!(email_for_moderator("jane.doe@example.com"), "j***@example.com");
        assert_eq!(email_for_moderator(""), "");
        assert_eq!(ip_for_moderator("203.0.113.7"), "203.0.113.x");
        assert_eq!(ip_for_moderator("2001:db8:abcd:12::1"), "2001:db8:abcd::x");
    }

    #[test]
    fn ipv6_addresses_carrying_an_ipv4_show_only_its_slash_24() {
        // All carry 198.51.100.97: 6to4 in bits 16-47 (its /48 would print all four octets), IPv4-mapped,
        // IPv4-compatible and NAT64 in the last 32 bits, Teredo as the last 32 bits inverted.
        let carriers = [
            "2002:c633:6461::1",
            "2002:c633:6461:7:8::9",
            "::ffff:198.51.100.97",
            "::198.51.100.97",
            "64:ff9b::c633:6461",
            "2001:0:4136:e378:8000:63bf:39cc:9b9e",
        ];
        for ip in carriers {
            assert_eq!(ip_for_moderator(ip), "198.51.100.x", "{ip}");
        }
        assert_eq!(ip_for_moderator("::1"), "0:0:0::x");
        assert_eq!(ip_for_moderator("2001:db8::1"), "2001:db8:0::x");
    }
}

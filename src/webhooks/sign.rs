//! The webhook signature (Stripe's scheme): `X-Commentguard-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256>`, the
//! HMAC keyed with the site's webhook secret over the bytes `"<t>.<body>"`. A receiver recomputes it over the raw
//! body it received, compares in constant time, and refuses a `t` too far from its clock (replays). Every attempt is
//! signed afresh, so a retried delivery carries a current `t`.

use hmac::{Hmac, Mac};
use sha2::Sha256;

/// The header that carries the signature.
pub const HEADER: &str = "x-commentguard-signature";

fn mac(secret: &[u8], unix: u64, body: &[u8]) -> Hmac<Sha256> {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret).expect("HMAC accepts keys of any length");
    mac.update(unix.to_string().as_bytes());
    mac.update(b".");
    mac.update(body);
    mac
}

/// The header value for `body` sent at `unix` seconds.
pub fn signature(secret: &[u8], unix: u64, body: &[u8]) -> String {
    format!("t={unix},v1={}", hex::encode(mac(secret, unix, body).finalize().into_bytes()))
}

/// Checks a header value against `body` (a Rust receiver's side, and the reference for the README's steps): a `v1`
/// that matches in constant time, with `t` within `tolerance_secs` of `now_unix`. Several `v1` entries are allowed
/// (a receiver accepts any, so a secret can rotate).
pub fn verify(secret: &[u8], header: &str, body: &[u8], now_unix: u64, tolerance_secs: u64) -> bool {
    let mut t = None;
    let mut candidates = Vec::new();
    for part in header.split(',') {
        match part.trim().split_once('=') {
            Some(("t", v)) => t = v.parse::<u64>().ok(),
            Some(("v1", v)) => candidates.extend(hex::decode(v).ok()),
            _ => {}
        }
    }
    let Some(t) = t else { return false };
    if t.abs_diff(now_unix) > tolerance_secs {
        return false;
    }
    candidates.iter().any(|c| mac(secret, t, body).verify_slice(c).is_ok())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signatures_verify_and_refuse_tampering_and_old_timestamps() {
        let secret = b"whsec-0123456789abcdef";
        let body = br#"{"events":[]}"#;
        let header = signature(secret, 1_700_000_000, body);
        assert!(header.starts_with("t=1700000000,v1="), "{header}");
        assert_eq!(header.len(), "t=1700000000,v1=".len() + 64);
        assert!(verify(secret, &header, body, 1_700_000_100, 300));
        assert!(!verify(secret, &header, br#"{"events":[1]}"#, 1_700_000_100, 300), "another body");
        assert!(!verify(b"another-secret-000000", &header, body, 1_700_000_100, 300), "another secret");
        assert!(!verify(secret, &header, body, 1_700_000_301, 300), "too old");
        assert!(!verify(secret, "v1=00", body, 1_700_000_000, 300), "no timestamp");
        let rotated = format!("{header},v1={}", "ab".repeat(32));
        assert!(verify(secret, &rotated, body, 1_700_000_000, 300), "any v1 may match");
    }

    #[test]
    fn the_mac_covers_timestamp_dot_body() {
        // Independent of `mac`: HMAC-SHA256("key", "1.x"), as any language computes it.
        let mut reference = <Hmac<Sha256> as Mac>::new_from_slice(b"key").expect("key");
        reference.update(b"1.x");
        assert_eq!(signature(b"key", 1, b"x"), format!("t=1,v1={}", hex::encode(reference.finalize().into_bytes())));
    }
}

//! Pseudonyms for identifiers: reputation and rate-limit keys are keyed hashes of accounts, emails and addresses,
//! never the identifiers themselves. Shared by intake, the rate limiter and the store's key layout.

use crate::domain::AuthorRecord;
use hmac::{Hmac, Mac};
use sha2::Sha256;

/// Turns identifiers into reputation keys. Keyed (HMAC) rather than a plain hash, because the IPv4 space and
/// common emails are small enough to reverse a plain hash by brute force: without the secret, a copy of the store
/// does not reveal who commented.
#[derive(Clone)]
pub struct Pseudonymizer {
    mac: Hmac<Sha256>,
}

impl std::fmt::Debug for Pseudonymizer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Pseudonymizer(..)")
    }
}

impl Pseudonymizer {
    pub fn new(secret: &[u8]) -> Pseudonymizer {
        let mac = Hmac::<Sha256>::new_from_slice(secret).expect("HMAC accepts keys of any length");
        Pseudonymizer { mac }
    }

    /// 128-bit hex key for `(site, kind, value)`; the site is part of the input so keys never collide across sites.
    pub fn key(&self, site: &str, kind: &str, value: &str) -> String {
        let mut mac = self.mac.clone();
        for part in [site, kind, value] {
            mac.update(part.as_bytes());
            mac.update(&[0]);
        }
        hex::encode(&mac.finalize().into_bytes()[..16])
    }

    /// The author's key (account id, else lower-cased email) and the address's key.
    pub fn reputation_keys(&self, site: &str, author: &AuthorRecord) -> (Option<String>, String) {
        let author_key = if !author.account_id.is_empty() {
            Some(self.key(site, "account", &author.account_id))
        } else if !author.email.is_empty() {
            Some(self.key(site, "email", &author.email.trim().to_lowercase()))
        } else {
            None
        };
        // Parsing canonicalises IPv6 text so one address has one key.
        let ip = author.ip.parse::<std::net::IpAddr>().map(|ip| ip.to_string()).unwrap_or_else(|_| author.ip.clone());
        (author_key, self.key(site, "ip", &ip))
    }
}

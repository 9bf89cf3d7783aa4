//! Who a request comes from, as the limiter sees it: the address group (IPv4 address, IPv6 prefix), the author
//! (account id, else email) and the thread — turned into keys.
//!
//! Local keys are `u64`s from a hasher with random per-process keys: cheap (no allocation on the hot path) and not
//! predictable from outside, so nobody can aim requests at one shard. Redis keys must agree across replicas, so they
//! are HMAC pseudonyms (`pseudonym::Pseudonymizer`, keyed by `store.pseudonym_secret`): a copy of Redis names no
//! address or author.

use super::settings::Kind;
use crate::pseudonym::Pseudonymizer;
use std::hash::{BuildHasher, Hash, Hasher, RandomState};
use std::net::IpAddr;

/// The request fields the limiter reads (borrowed from the submission).
#[derive(Debug, Clone, Copy, Default)]
pub struct Subject<'a> {
    /// As submitted; validation already checked it parses (`check` inputs may not: then the text is the key).
    pub ip: &'a str,
    pub account_id: &'a str,
    pub email: &'a str,
    pub thread_id: &'a str,
}

/// The address a limit applies to: IPv4 whole, IPv6 truncated to the site's prefix.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum IpGroup<'a> {
    V4(u32),
    V6 { network: u128, prefix: u8 },
    Unparsed(&'a str),
}

impl<'a> IpGroup<'a> {
    fn text(&self) -> String {
        match self {
            IpGroup::V4(a) => std::net::Ipv4Addr::from(*a).to_string(),
            IpGroup::V6 { network, prefix } => format!("{}/{prefix}", std::net::Ipv6Addr::from(*network)),
            IpGroup::Unparsed(s) => (*s).to_string(),
        }
    }
}

/// A request's keys in the local limiters. Each limit has its own table, so one hash may key several limits.
#[derive(Debug, Clone, Copy)]
pub struct LocalKeys {
    author: Option<u64>,
    ip: u64,
    thread: u64,
}

impl LocalKeys {
    /// The key for `kind`; `None` when the limit does not apply (a guest has no author).
    pub fn get(&self, kind: Kind) -> Option<u64> {
        match kind {
            // Flood control follows the author, and a guest's address (salted apart from author keys).
            Kind::Flood => Some(self.author.unwrap_or(self.ip ^ 0x9e37_79b9_7f4a_7c15)),
            Kind::Author => self.author,
            Kind::Ip => Some(self.ip),
            Kind::Thread => Some(self.thread),
            Kind::Site => Some(0),
        }
    }
}

/// The author a limit applies to; `None` for guests (no account id, no email).
#[derive(Debug, Clone, Copy)]
pub enum AuthorId<'a> {
    Account(&'a str),
    /// Trimmed; compared without letter case.
    Email(&'a str),
}

impl Hash for AuthorId<'_> {
    fn hash<H: Hasher>(&self, state: &mut H) {
        match self {
            AuthorId::Account(a) => {
                state.write_u8(0);
                a.hash(state);
            }
            AuthorId::Email(e) => {
                state.write_u8(1);
                // Lower-case on the fly: no allocation per request.
                for c in e.chars().flat_map(char::to_lowercase) {
                    state.write_u32(c as u32);
                }
            }
        }
    }
}

impl AuthorId<'_> {
    fn text(&self) -> String {
        match self {
            AuthorId::Account(a) => format!("account:{a}"),
            AuthorId::Email(e) => format!("email:{}", e.to_lowercase()),
        }
    }
}

/// A subject resolved for one site (its IPv6 prefix).
#[derive(Debug, Clone, Copy)]
pub struct Identity<'a> {
    /// Canonical address (IPv4-mapped IPv6 read as IPv4); `None` when the text did not parse.
    pub ip: Option<IpAddr>,
    pub group: IpGroup<'a>,
    pub author: Option<AuthorId<'a>>,
    pub thread: &'a str,
}

impl<'a> Identity<'a> {
    pub fn resolve(s: &Subject<'a>, ipv6_prefix: u8) -> Identity<'a> {
        let ip = s.ip.trim().parse::<IpAddr>().ok().map(|ip| ip.to_canonical());
        let group = match ip {
            Some(IpAddr::V4(v4)) => IpGroup::V4(u32::from(v4)),
            Some(IpAddr::V6(v6)) => {
                let prefix = ipv6_prefix.min(128);
                let mask = if prefix == 0 { 0 } else { u128::MAX << (128 - u32::from(prefix)) };
                IpGroup::V6 { network: u128::from(v6) & mask, prefix }
            }
            None => IpGroup::Unparsed(s.ip),
        };
        let author = if !s.account_id.is_empty() {
            Some(AuthorId::Account(s.account_id))
        } else if !s.email.trim().is_empty() {
            Some(AuthorId::Email(s.email.trim()))
        } else {
            None
        };
        Identity { ip, group, author, thread: s.thread_id }
    }

    /// The request's local keys: three hashes, computed once and shared by the limits that use them.
    pub fn local_keys(&self, hasher: &RandomState) -> LocalKeys {
        LocalKeys {
            author: self.author.as_ref().map(|a| hasher.hash_one(a)),
            ip: hasher.hash_one(self.group),
            thread: hasher.hash_one(self.thread),
        }
    }

    /// The pseudonymous part of this request's Redis key for `kind` (see the module docs).
    pub fn redis_subject(&self, site: &str, kind: Kind, keys: &Pseudonymizer) -> Option<String> {
        Some(match kind {
            Kind::Flood => match &self.author {
                Some(a) => keys.key(site, "rl:flood", &a.text()),
                None => keys.key(site, "rl:flood", &format!("ip:{}", self.group.text())),
            },
            Kind::Author => keys.key(site, "rl:author", &self.author.as_ref()?.text()),
            Kind::Ip => keys.key(site, "rl:ip", &self.group.text()),
            Kind::Thread => keys.key(site, "rl:thread", self.thread),
            Kind::Site => "all".to_string(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn group(ip: &str, prefix: u8) -> String {
        Identity::resolve(&Subject { ip, ..Default::default() }, prefix).group.text()
    }

    #[test]
    fn ipv6_is_grouped_by_prefix_and_mapped_ipv4_is_ipv4() {
        assert_eq!(group("2001:db8:1:2:aaaa::1", 64), "2001:db8:1:2::/64");
        assert_eq!(group("2001:db8:1:2:aaaa::1", 48), "2001:db8:1::/48");
        assert_eq!(group("::ffff:203.0.113.7", 64), "203.0.113.7");
        assert_eq!(group("not an ip", 64), "not an ip");
    }

    #[test]
    fn emails_are_keyed_without_letter_case_and_apart_from_accounts() {
        let h = RandomState::new();
        let key = |account_id, email| {
            let s = Subject { account_id, email, ..Default::default() };
            Identity::resolve(&s, 64).local_keys(&h).get(Kind::Author)
        };
        assert_eq!(key("", "Reader@Example.com "), key("", "reader@example.com"));
        assert_ne!(key("reader@example.com", ""), key("", "reader@example.com"));
        assert_eq!(key("", ""), None, "guests have no author key");
    }
}

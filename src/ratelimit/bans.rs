//! Bans (`banned_ips`, `banned_authors`) and address sets (also used for `exempt_ips`).
//!
//! A banned comment is REJECTED with `policy.banned` before any quota is spent and before analysis, and is answered
//! without being stored (DESIGN §5), so a banned flood costs one hash lookup per request and no writes.
//!
//! Invariant: addresses are compared in canonical form — an IPv4-mapped IPv6 address (`::ffff:203.0.113.7`) is the
//! IPv4 address it carries, on both the list side ([`crate::config::ratelimit::parse_net`]) and the request side.

use crate::config::ratelimit::parse_net;
use ipnet::IpNet;
use std::collections::HashSet;
use std::net::IpAddr;

/// Addresses and CIDR ranges. Single addresses are a hash lookup; ranges are merged (`IpNet::aggregate`) and
/// scanned, which stays cheap for the tens or hundreds of ranges a site lists.
#[derive(Debug, Default)]
pub struct NetSet {
    exact: HashSet<IpAddr>,
    ranges: Vec<IpNet>,
}

impl NetSet {
    pub fn parse(entries: &[String]) -> NetSet {
        let mut set = NetSet::default();
        let mut ranges = Vec::new();
        for net in entries.iter().filter_map(|e| parse_net(e)) {
            if net.prefix_len() == net.max_prefix_len() {
                set.exact.insert(net.addr());
            } else {
                ranges.push(net);
            }
        }
        set.ranges = IpNet::aggregate(&ranges);
        set
    }

    pub fn is_empty(&self) -> bool {
        self.exact.is_empty() && self.ranges.is_empty()
    }

    /// `ip` must be canonical (see the module invariant).
    pub fn contains(&self, ip: IpAddr) -> bool {
        self.exact.contains(&ip) || self.ranges.iter().any(|r| r.contains(&ip))
    }
}

/// A site's bans.
#[derive(Debug, Default)]
pub struct Bans {
    ips: NetSet,
    /// Entries compared with the account id as written.
    accounts: HashSet<String>,
    /// Entries compared with the email, trimmed and lower-cased (as reputation keys treat emails).
    emails: HashSet<String>,
}

impl Bans {
    /// Each `banned_authors` entry bans the account id equal to it and, when it looks like an email, that email
    /// in any letter case.
    pub fn compile(banned_ips: &[String], banned_authors: &[String]) -> Bans {
        let authors = banned_authors.iter().map(|a| a.trim()).filter(|a| !a.is_empty());
        Bans {
            ips: NetSet::parse(banned_ips),
            accounts: authors.clone().map(str::to_string).collect(),
            emails: authors.filter(|a| a.contains('@')).map(str::to_lowercase).collect(),
        }
    }

    /// Whether the address (canonical; `None` when it did not parse) or the author is banned.
    pub fn matches(&self, ip: Option<IpAddr>, account_id: &str, email: &str) -> bool {
        if ip.is_some_and(|ip| self.ips.contains(ip)) {
            return true;
        }
        if !account_id.is_empty() && self.accounts.contains(account_id) {
            return true;
        }
        // Lower-casing allocates: only when some email is banned at all.
        !self.emails.is_empty() && !email.trim().is_empty() && self.emails.contains(&email.trim().to_lowercase())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> Option<IpAddr> {
        s.parse::<IpAddr>().ok().map(|ip| ip.to_canonical())
    }

    #[test]
    fn addresses_ranges_and_mapped_forms() {
        let list = ["203.0.113.7", "198.51.100.0/24", "2001:db8:bad::/48", "::ffff:192.0.2.0/120"].map(String::from);
        let bans = Bans::compile(&list, &[]);
        for banned in ["203.0.113.7", "::ffff:203.0.113.7", "198.51.100.200", "2001:db8:bad:1::9", "192.0.2.5"] {
            assert!(bans.matches(ip(banned), "", ""), "{banned}");
        }
        for free in ["203.0.113.8", "198.51.101.1", "2001:db8:bae::1", "192.0.3.5"] {
            assert!(!bans.matches(ip(free), "", ""), "{free}");
        }
    }

    #[test]
    fn authors_by_account_or_email_in_any_case() {
        let bans = Bans::compile(&[], &["troll-42".into(), " Spammer@Example.com ".into()]);
        assert!(bans.matches(None, "troll-42", ""));
        assert!(!bans.matches(None, "troll-43", ""));
        assert!(bans.matches(None, "", "spammer@example.COM"));
        assert!(!bans.matches(None, "", "reader@example.com"));
    }
}

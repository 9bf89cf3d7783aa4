//! A site's blocked and allowed domains (`[sites.policy] blocked_domains`, `allowed_domains`): checked with the
//! config ([`canonical`]), compiled once per load into [`DomainLists`] (held by `analysis::Rules`), and matched by the
//! spam engine against the hosts of a comment's links and of the author's website field (`spam::signals`).
//!
//! A host matches a listed domain when it is that domain or a subdomain of it: `news.example.com` matches
//! `example.com`, `badexample.com` does not. Both sides are compared in one canonical form — normalised like comment
//! text (NFKC, lower-case), without a leading `www.` and without a trailing dot — so `WWW.Example.COM.` in a comment
//! matches `example.com` on the list. Internationalised names are compared as written: a list entry in Unicode does
//! not match its `xn--` (punycode) spelling, nor the other way round.
//!
//! When a host matches both lists, the more specific entry wins (`blocked_domains = ["blogspot.com"]` with
//! `allowed_domains = ["ourpaper.blogspot.com"]` allows the paper's own blog only); the same domain on both lists is
//! refused by config validation, and would count as blocked.

use crate::analysis::normalize::Normalized;
use crate::analysis::spam::tokens::is_word_char;
use std::borrow::Cow;

/// The canonical form of a configured domain, or `None` when it is not a host name. A leading `*.` or `.` is
/// accepted and dropped (a listed domain always covers its subdomains), as are a leading `www.` and a trailing dot.
/// What remains must be at least two dot-separated labels of letters (any script), digits and inner hyphens, at
/// most 63 characters each and 253 in all, the last not all digits (so an IP address is not a domain): no scheme,
/// port, path, credentials or spaces.
pub fn canonical(entry: &str) -> Option<String> {
    let rest = entry.strip_prefix("*.").or_else(|| entry.strip_prefix('.')).unwrap_or(entry);
    let norm = Normalized::new(rest);
    let name = norm.as_str().strip_suffix('.').unwrap_or(norm.as_str());
    let name = name.strip_prefix("www.").unwrap_or(name);
    let labels: Vec<&str> = name.split('.').collect();
    let label_ok = |l: &&str| {
        (1..=63).contains(&l.chars().count())
            && l.chars().all(|c| c == '-' || is_word_char(c))
            && !l.starts_with('-')
            && !l.ends_with('-')
    };
    let ok = labels.len() >= 2
        && name.chars().count() <= 253
        && labels.iter().all(label_ok)
        && labels.last().is_some_and(|tld| !tld.bytes().all(|b| b.is_ascii_digit()));
    ok.then(|| name.to_string())
}

/// A host in canonical form for matching: lower-case, without a trailing dot and a leading `www.`. Hosts taken from
/// normalised text are already lower-case, so this allocates only for hosts from elsewhere.
fn canonical_host(host: &str) -> Cow<'_, str> {
    fn trim(h: &str) -> &str {
        let h = h.trim_end_matches('.');
        h.strip_prefix("www.").unwrap_or(h)
    }
    if host.chars().any(char::is_uppercase) {
        Cow::Owned(trim(&host.to_lowercase()).to_string())
    } else {
        Cow::Borrowed(trim(host))
    }
}

/// The length in bytes of the longest entry of the sorted `list` that `host` is or is a subdomain of: the host
/// itself, then each suffix after one of its dots, longest first. Every look-up is a binary search, so the cost is
/// the number of labels times `log(list)`; hosts are compared as given (see [`DomainList::longest_match`] for the
/// canonical form).
pub fn longest_on_list<S: AsRef<str>>(host: &str, list: &[S]) -> Option<usize> {
    if list.is_empty() || host.is_empty() {
        return None;
    }
    let listed = |h: &str| list.binary_search_by(|d| d.as_ref().cmp(h)).is_ok();
    if listed(host) {
        return Some(host.len());
    }
    host.char_indices().filter(|&(_, c)| c == '.').map(|(i, _)| &host[i + 1..]).find(|h| listed(h)).map(str::len)
}

/// One compiled list of domains: canonical, sorted and without duplicates.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DomainList {
    domains: Vec<String>,
}

impl DomainList {
    /// No domains.
    pub const EMPTY: DomainList = DomainList { domains: Vec::new() };

    /// Compiles configured entries. Entries that are not domain names ([`canonical`] says `None`) are skipped: a
    /// validated config has none.
    pub fn new<S: AsRef<str>>(entries: &[S]) -> DomainList {
        let mut domains: Vec<String> = entries.iter().filter_map(|e| canonical(e.as_ref())).collect();
        domains.sort();
        domains.dedup();
        DomainList { domains }
    }

    pub fn is_empty(&self) -> bool {
        self.domains.is_empty()
    }

    pub fn len(&self) -> usize {
        self.domains.len()
    }

    /// Whether `host` (of a link or a website field: no scheme, port or path) is a listed domain or a subdomain of one.
    pub fn matches(&self, host: &str) -> bool {
        self.longest_match(host).is_some()
    }

    /// The length of the longest listed domain that `host` is or is a subdomain of (the most specific entry).
    pub fn longest_match(&self, host: &str) -> Option<usize> {
        if self.domains.is_empty() {
            return None;
        }
        longest_on_list(&canonical_host(host), &self.domains)
    }
}

/// What a site's lists say about one host.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Listed {
    /// On the blocked list (and not under a more specific allowed entry): `spam.blocked_domain`.
    Blocked,
    /// On the allowed list: not spam evidence, not counted against the link limit.
    Allowed,
    /// On neither.
    Neither,
}

/// A site's blocked and allowed domains, compiled once per config load.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DomainLists {
    pub blocked: DomainList,
    pub allowed: DomainList,
}

static EMPTY: DomainLists = DomainLists::EMPTY;

impl DomainLists {
    /// Both lists empty.
    pub const EMPTY: DomainLists = DomainLists { blocked: DomainList::EMPTY, allowed: DomainList::EMPTY };

    /// Compiles a policy's `blocked_domains` and `allowed_domains`.
    pub fn new<S: AsRef<str>>(blocked: &[S], allowed: &[S]) -> DomainLists {
        DomainLists { blocked: DomainList::new(blocked), allowed: DomainList::new(allowed) }
    }

    /// Empty lists that live for ever (what `SpamInput::default()` holds).
    pub fn empty() -> &'static DomainLists {
        &EMPTY
    }

    pub fn is_empty(&self) -> bool {
        self.blocked.is_empty() && self.allowed.is_empty()
    }

    /// Classifies a host (of a link or a website field). The more specific match wins; a tie counts as blocked.
    pub fn classify(&self, host: &str) -> Listed {
        if self.is_empty() {
            return Listed::Neither;
        }
        let host = canonical_host(host);
        match (longest_on_list(&host, &self.blocked.domains), longest_on_list(&host, &self.allowed.domains)) {
            (Some(b), a) if a.is_none_or(|a| a <= b) => Listed::Blocked,
            (_, Some(_)) => Listed::Allowed,
            _ => Listed::Neither,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn canonical_forms() {
        for (entry, want) in [
            ("example.com", "example.com"),
            ("Example.COM", "example.com"),
            ("*.example.com", "example.com"),
            (".example.com", "example.com"),
            ("www.example.com", "example.com"),
            ("example.com.", "example.com"),
            ("news.example.co.uk", "news.example.co.uk"),
            ("xn--mnchen-3ya.de", "xn--mnchen-3ya.de"),
            ("MÜNCHEN.de", "münchen.de"),
            ("ｅｘａｍｐｌｅ.com", "example.com"),
            ("हिन्दी.भारत", "हिन्दी.भारत"),
            ("my-site.example", "my-site.example"),
        ] {
            assert_eq!(canonical(entry).as_deref(), Some(want), "{entry}");
        }
        for bad in [
            "",
            "com",
            "*.com",
            "http://x/y",
            "example.com/path",
            "example.com:8080",
            "user@example.com",
            "exa mple.com",
            " example.com",
            "example..com",
            "-example.com",
            "example-.com",
            "exa_mple.com",
            "1.2.3.4",
            "**.example.com",
            "www.com",
            &format!("{}.com", "a".repeat(64)),
        ] {
            assert_eq!(canonical(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn hosts_match_the_domain_and_its_subdomains_only() {
        let list = DomainList::new(&["example.com", "*.spam.example"]);
        for host in
            ["example.com", "news.example.com", "a.b.example.com", "WWW.Example.COM.", "spam.example", "x.spam.example"]
        {
            assert!(list.matches(host), "{host}");
        }
        for host in ["badexample.com", "example.com.evil.net", "example.co", "com", "", "notspam.example", "example"] {
            assert!(!list.matches(host), "{host}");
        }
        assert_eq!(list.len(), 2);
        assert!(!DomainList::EMPTY.matches("example.com"));
    }

    #[test]
    fn the_more_specific_entry_wins() {
        let lists = DomainLists::new(&["blogspot.com", "ads.ourpaper.com"], &["ourpaper.blogspot.com", "ourpaper.com"]);
        assert_eq!(lists.classify("spam.blogspot.com"), Listed::Blocked);
        assert_eq!(lists.classify("ourpaper.blogspot.com"), Listed::Allowed);
        assert_eq!(lists.classify("x.ourpaper.blogspot.com"), Listed::Allowed);
        assert_eq!(lists.classify("ourpaper.com"), Listed::Allowed);
        assert_eq!(lists.classify("ads.ourpaper.com"), Listed::Blocked);
        assert_eq!(lists.classify("dawn.com"), Listed::Neither);
        // Unvalidated lists with the same entry on both: blocked.
        assert_eq!(DomainLists::new(&["x.com"], &["x.com"]).classify("x.com"), Listed::Blocked);
        assert_eq!(DomainLists::empty().classify("x.com"), Listed::Neither);
    }
}

//! Links in a comment (`spam.links`): found with `linkify` on the normalised text, so fullwidth or zero-width-split
//! links count too; bare domains such as `cheap-pills.com` count as links because spammers drop the scheme. A site's
//! blocked and allowed domains are matched against the hosts of these links (`analysis::domains`).

use linkify::{LinkFinder, LinkKind};
use std::ops::Range;

/// Byte ranges in the NORMALISED text of every link (the spam engine reads their hosts and maps the ranges back
/// with `Normalized::original_range`).
pub fn find_normalized(text: &str) -> Vec<Range<usize>> {
    candidates(text).into_iter().filter_map(|(r, link)| link.then_some(r)).collect()
}

/// Every link-like candidate in the NORMALISED text, with whether it counts as a link: a scheme, or a bare domain
/// with a [known top-level domain](has_known_tld). The others (`end.Really`, `cheap.tech`) matter only against a
/// site's blocked domains, which never list prose: one linkify pass serves both.
pub fn candidates(text: &str) -> Vec<(Range<usize>, bool)> {
    let mut finder = LinkFinder::new();
    finder.kinds(&[LinkKind::Url]).url_must_have_scheme(false);
    finder.links(text).map(|l| (l.start()..l.end(), has_scheme(l.as_str()) || has_known_tld(l.as_str()))).collect()
}

fn has_scheme(link: &str) -> bool {
    link.split_once("://").is_some_and(|(scheme, _)| scheme.bytes().all(|b| b.is_ascii_alphanumeric()))
}

/// Without a scheme, "end.Really" would be a link: a bare domain counts only with a top-level domain people
/// actually register (linkify itself has no TLD list).
pub fn has_known_tld(link: &str) -> bool {
    let host = link.split(['/', '?', '#', ':']).next().unwrap_or(link);
    let tld = host.rsplit('.').next().unwrap_or("");
    KNOWN_TLDS.binary_search(&tld).is_ok()
}

/// Generic TLDs common in comment spam plus the country codes of the sites' audiences. Sorted (binary search).
const KNOWN_TLDS: &[&str] = &[
    "ae", "app", "au", "bd", "best", "bet", "biz", "blog", "br", "buzz", "ca", "casino", "cc", "cf", "ch", "click",
    "club", "cn", "co", "com", "de", "dev", "es", "eu", "fr", "fun", "ga", "gl", "gq", "icu", "in", "info", "io", "ir",
    "it", "jp", "kr", "link", "live", "loan", "ly", "me", "ml", "mobi", "my", "net", "news", "nl", "online", "org",
    "page", "pk", "pl", "pro", "pw", "qa", "ru", "sa", "shop", "site", "store", "su", "tk", "to", "top", "tv", "uk",
    "us", "vip", "win", "ws", "xyz",
];

/// Score of a comment with `count` links against a limit of `max`: zero within the limit, then rising with the
/// excess so a single extra link holds at most and a link farm is rejected.
pub fn excess_score(count: usize, max: u32) -> f64 {
    let excess = count.saturating_sub(max as usize);
    if excess == 0 {
        return 0.0;
    }
    (0.55 + 0.1 * (excess as f64 - 1.0)).min(0.95)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analysis::normalize::Normalized;

    fn links(body: &str) -> Vec<&str> {
        let norm = Normalized::new(body);
        find_normalized(norm.as_str()).into_iter().map(|r| &body[norm.original_range(r)]).collect()
    }

    #[test]
    fn finds_schemed_and_bare_links() {
        assert_eq!(
            links("see https://a.example/x and cheap-pills.com now"),
            vec!["https://a.example/x", "cheap-pills.com"]
        );
    }

    #[test]
    fn prose_is_not_a_link() {
        assert!(links("I agree. The end.Really? 3.5 stars").is_empty());
    }

    #[test]
    fn candidates_without_a_known_tld_do_not_count() {
        let text = "cheap.tech/offer and https://a.example/x and dawn.com";
        let found: Vec<(&str, bool)> = candidates(text).into_iter().map(|(r, link)| (&text[r], link)).collect();
        assert_eq!(found, vec![("cheap.tech/offer", false), ("https://a.example/x", true), ("dawn.com", true)]);
    }

    #[test]
    fn tld_list_is_sorted() {
        assert!(KNOWN_TLDS.windows(2).all(|w| w[0] < w[1]));
    }

    #[test]
    fn score_rises_with_excess() {
        assert_eq!(excess_score(3, 3), 0.0);
        assert!(excess_score(4, 3) >= 0.5 && excess_score(4, 3) < 0.9, "one extra link holds");
        assert!(excess_score(20, 3) >= 0.9, "a link farm is rejected");
    }
}

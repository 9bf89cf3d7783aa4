//! Every Redis key name, built in this one place (DESIGN §5 layout). All keys of a site share the hash tag `{site}`,
//! so they live in one Cluster slot and one Lua script may touch them together.
//!
//! Invariant: site ids are validated identifiers (`config::validate`) and cannot contain `{`, `}` or `:`; comment
//! ids may contain anything printable, but they only ever appear AFTER the tag, so they cannot change the slot or
//! reach another site's keys.

pub fn comment(site: &str, comment_id: &str) -> String {
    format!("cg:{{{site}}}:c:{comment_id}")
}

pub fn pending_queue(site: &str) -> String {
    format!("cg:{{{site}}}:q:pending")
}

pub fn decisions(site: &str) -> String {
    format!("cg:{{{site}}}:decisions")
}

/// Reputation of an author (key = HMAC pseudonym from `intake::Pseudonymizer`).
pub fn author_reputation(site: &str, author_key: &str) -> String {
    format!("cg:{{{site}}}:a:{author_key}")
}

/// Reputation of an IP address (key = HMAC pseudonym).
pub fn ip_reputation(site: &str, ip_key: &str) -> String {
    format!("cg:{{{site}}}:ip:{ip_key}")
}

#[cfg(test)]
mod tests {
    #[test]
    fn keys_share_the_site_tag() {
        for k in [
            super::comment("news", "c:1}{x"),
            super::pending_queue("news"),
            super::decisions("news"),
            super::author_reputation("news", "ab"),
            super::ip_reputation("news", "cd"),
        ] {
            // Redis hashes the text between the FIRST '{' and the next '}'.
            let tag = k.split_once('{').and_then(|(_, rest)| rest.split_once('}')).map(|(t, _)| t);
            assert_eq!(tag, Some("news"), "{k}");
        }
    }
}

//! Every Redis key name, built in this one place (DESIGN §5 layout). All keys of a site share the hash tag `{site}`,
//! so they live in one Cluster slot and one Lua script may touch them together.
//!
//! Invariant: site ids are validated identifiers (`config::validate`) and cannot contain `{`, `}` or `:`; comment
//! ids may contain anything printable, but they only ever appear AFTER the tag, so they cannot change the slot or
//! reach another site's keys.

/// The prefix of every key of a site. Lua scripts that derive keys at run time (a comment's key from a queue entry,
/// an author's reputation from a record) build them from this prefix with the same suffixes as the functions below,
/// so they stay in the site's slot.
pub fn site_prefix(site: &str) -> String {
    format!("cg:{{{site}}}:")
}

pub fn comment(site: &str, comment_id: &str) -> String {
    ["cg:{", site, "}:c:", comment_id].concat()
}

pub fn pending_queue(site: &str) -> String {
    format!("cg:{{{site}}}:q:pending")
}

pub fn queue(site: &str, queue: crate::store::review::QueueKind) -> String {
    match queue {
        crate::store::review::QueueKind::Pending => pending_queue(site),
        crate::store::review::QueueKind::Reported => format!("cg:{{{site}}}:q:reported"),
    }
}

/// Sorted set of active leases of one queue: member review id, score lease expiry (ms). A score at or below now
/// means the item is free to claim again.
pub fn leases(site: &str, queue: crate::store::review::QueueKind) -> String {
    format!("cg:{{{site}}}:leases:{}", queue.prefix())
}

/// Hash of one review item's state (claim, deliveries, reports, remembered decision). Lua derives it as
/// `site_prefix .. "rv:" .. review_id`.
pub fn review_item(site: &str, review_id: &str) -> String {
    format!("cg:{{{site}}}:rv:{review_id}")
}

/// Hash: comment id → review id of its open reported item.
pub fn open_reports(site: &str) -> String {
    format!("cg:{{{site}}}:reports")
}

pub fn audit(site: &str) -> String {
    format!("cg:{{{site}}}:audit")
}

pub fn feedback(site: &str) -> String {
    format!("cg:{{{site}}}:feedback")
}

/// The site's learned spam-model delta (string: encoded counts; `store::learning`).
pub fn model_delta(site: &str) -> String {
    format!("cg:{{{site}}}:model:delta")
}

/// Hash: `version` of the delta.
pub fn model_meta(site: &str) -> String {
    format!("cg:{{{site}}}:model:meta")
}

/// Sorted set of snapshots, scored by version; members are written by the model scripts and read by
/// `store::redis::learning::snapshot_info`. Each snapshot's delta is a string
/// that Lua derives as `site_prefix .. "model:snap:" .. version`, like [`model_snapshot`].
pub fn model_snapshots(site: &str) -> String {
    format!("cg:{{{site}}}:model:snapshots")
}

pub fn model_snapshot(site: &str, version: u64) -> String {
    format!("cg:{{{site}}}:model:snap:{version}")
}

pub fn decisions(site: &str) -> String {
    format!("cg:{{{site}}}:decisions")
}

/// Reputation of an author (key = HMAC pseudonym from `pseudonym::Pseudonymizer`).
pub fn author_reputation(site: &str, author_key: &str) -> String {
    ["cg:{", site, "}:a:", author_key].concat()
}

/// Reputation of an IP address (key = HMAC pseudonym).
pub fn ip_reputation(site: &str, ip_key: &str) -> String {
    ["cg:{", site, "}:ip:", ip_key].concat()
}

/// The near-copy window of one LSH band value in one generation (a window-long span of time): a string of
/// fixed-width binary records (`store::near`). (`nd:` held the earlier text records; they expired unread.)
///
/// `cg:{site}:nb:<generation>:<band>:<value as 16 hex digits>`, built by hand: a submission builds 24 of these
/// (and the comment's and reputation keys), and `format!` was ~8% of the service's instructions on the submit path.
pub fn near_copies(site: &str, generation: u64, band: usize, value: u64) -> String {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let mut key = String::with_capacity(site.len() + 52);
    key.push_str("cg:{");
    key.push_str(site);
    key.push_str("}:nb:");
    push_decimal(&mut key, generation);
    key.push(':');
    push_decimal(&mut key, band as u64);
    key.push(':');
    for shift in (0..16).rev() {
        key.push(char::from(HEX[((value >> (shift * 4)) & 15) as usize]));
    }
    key
}

fn push_decimal(out: &mut String, mut n: u64) {
    let mut digits = [0u8; 20];
    let mut from = digits.len();
    loop {
        from -= 1;
        digits[from] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    out.extend(digits[from..].iter().map(|&d| char::from(d)));
}

/// Cluster-wide rate-limit state of one limit (`ip`, `author`, `surge`, …) and subject (an HMAC pseudonym, or `all`
/// for the site-wide limit). Written only by `ratelimit/gcra.lua`; every key expires when its bucket is full again.
pub fn rate_limit(site: &str, limit: &str, subject: &str) -> String {
    format!("cg:{{{site}}}:rl:{limit}:{subject}")
}

/// The last stream id the site's webhook delivered (a plain string; `store::webhooks`).
pub fn webhook_cursor(site: &str) -> String {
    format!("cg:{{{site}}}:webhook:cursor")
}

/// The id of the process delivering the site's webhook, with a TTL (`SET NX PX`, renewed while it delivers).
pub fn webhook_lease(site: &str) -> String {
    format!("cg:{{{site}}}:webhook:lease")
}

#[cfg(test)]
mod tests {
    #[test]
    fn hand_built_keys_match_their_format() {
        for (generation, band, value) in [(0, 0, 0), (480_000, 3, u64::MAX), (u64::MAX, 7, 0x0123_4567_89ab_cdef)] {
            let expected = format!("cg:{{news}}:nb:{generation}:{band}:{value:016x}");
            assert_eq!(super::near_copies("news", generation, band, value), expected);
        }
        assert_eq!(super::comment("news", "c:1}{x"), "cg:{news}:c:c:1}{x");
        assert_eq!(super::author_reputation("news", "ab"), "cg:{news}:a:ab");
        assert_eq!(super::ip_reputation("news", "cd"), "cg:{news}:ip:cd");
    }

    #[test]
    fn keys_share_the_site_tag() {
        for k in [
            super::comment("news", "c:1}{x"),
            super::pending_queue("news"),
            super::decisions("news"),
            super::author_reputation("news", "ab"),
            super::ip_reputation("news", "cd"),
            super::review_item("news", "p-1-0"),
            super::leases("news", crate::store::review::QueueKind::Reported),
            super::audit("news"),
            super::feedback("news"),
            super::open_reports("news"),
            super::near_copies("news", 480_000, 3, u64::MAX),
            super::model_delta("news"),
            super::model_meta("news"),
            super::model_snapshots("news"),
            super::model_snapshot("news", 7),
            super::queue("news", crate::store::review::QueueKind::Reported),
            super::webhook_cursor("news"),
            super::webhook_lease("news"),
        ] {
            // Redis hashes the text between the FIRST '{' and the next '}'.
            let tag = k.split_once('{').and_then(|(_, rest)| rest.split_once('}')).map(|(t, _)| t);
            assert_eq!(tag, Some("news"), "{k}");
        }
    }
}

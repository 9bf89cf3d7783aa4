//! The near-copy window both stores keep per site (campaign detection, `analysis::spam::duplicates`): for each LSH
//! band value, the newest [`PER_BAND`] comments that had it. This module holds what both stores share: the member
//! and record formats and how band hits become a [`Duplicates`] summary.
//!
//! A member is `<source>:<comment>`, both 16 hex characters: hashes of the author's pseudonym (else the address's)
//! and of the comment id — no personal data, and enough to count distinct sources and to tell a comment's bands
//! apart from another's.
//!
//! # Layout on Redis
//!
//! One string per band value and generation, `cg:{site}:nb:<generation>:<band>:<value>`: its members as fixed-width
//! binary [records](record) ([`RECORD_LEN`] bytes: time, source, comment) appended in time order (`APPEND`, cut back to the newest [`PER_BAND`] when twice as long). A
//! generation is a window-long span of time ([`generation`]); a comment is appended to its generation's string, and
//! the string is given its expiry once, when the append creates it: the end of the next generation, when none of
//! its records can be within the window any more. So a write to a band value is one `APPEND` (the first of a
//! generation adds one `PEXPIREAT`). A read is one `MGET` of the comment's eight keys in this generation and the
//! previous one (which together hold everything within the window) in the context pipeline, keeping the newest
//! [`PER_BAND`] records within the window; since each generation's string keeps at least its newest [`PER_BAND`],
//! that is exactly the newest [`PER_BAND`] within the window, as with one string per band value.
//!
//! A reload that changes a site's window changes its generations: near copies stored before it are not counted
//! after it (they expire as planned). Likewise the 46-character text records of the earlier `nd:` strings are not
//! read: an upgrade starts an empty window, and the old strings expire as planned.
//!
//! Measured alternatives: a sorted set per band value cost about twice the Redis time (8 reads, 24 writes per
//! comment); one hash per window generation wrote each band value's whole record list to the AOF on every comment
//! (~6 KB per comment); one string per band value expiring a window after its last write cost a `PEXPIRE` per band
//! value and comment (8 of the submit script's ~27 Redis calls). Text records (13 digits of time and the 33-byte
//! member, 46 bytes) made the context read's reply and its parse about twice as large as these 24-byte ones.

use crate::analysis::spam::duplicates::{MIN_SHARED_BANDS, Sketch};
use crate::domain::Duplicates;
use sha2::{Digest, Sha256};

/// Newest members kept (and read) per band value. Unrelated texts practically never share a 64-bit band value, so
/// a band's members are copies of one text: the newest 16 already show a campaign (the score saturates at three
/// other authors), and a small cap keeps the context read and its summary cheap under a flood of copies.
pub const PER_BAND: usize = 16;

/// What a submission asks of the window, and writes to it when it is stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NearProbe {
    pub sketch: Sketch,
    /// This comment's member (see the module docs).
    pub member: String,
    /// How far back near copies count.
    pub window_ms: u64,
}

impl NearProbe {
    /// `author_key` and `ip_key` are the reputation pseudonyms (`pseudonym::Pseudonymizer`).
    pub fn new(sketch: Sketch, author_key: Option<&str>, ip_key: &str, comment_id: &str, window_ms: u64) -> Self {
        let short = |s: &str| hex::encode(&Sha256::digest(s.as_bytes())[..8]);
        let member = format!("{}:{}", short(author_key.unwrap_or(ip_key)), short(comment_id));
        NearProbe { sketch, member, window_ms }
    }
}

/// The generation `now_ms` falls in for a window of `window_ms` (> 0): records of generation `g` are stamped in
/// `[g·window, (g+1)·window)`, so the window before `now_ms` lies within generations `g-1` and `g`.
pub fn generation(now_ms: u64, window_ms: u64) -> u64 {
    now_ms / window_ms.max(1)
}

/// When a generation's strings expire (ms since the epoch): a window after its last possible record.
pub fn generation_expiry(generation: u64, window_ms: u64) -> u64 {
    generation.saturating_add(2).saturating_mul(window_ms.max(1))
}

/// Bytes of a member.
pub const MEMBER_LEN: usize = 33;

/// A member as a sortable key: its two 16-hex-digit halves (source, comment) as numbers, so equal members have
/// equal keys and the first is the source. `None` when malformed. Summaries sort these instead of strings, and the
/// Redis layout stores them.
pub type MemberKey = (u64, u64);

/// Bytes of a record in the Redis layout: the time in milliseconds, then the member's source and comment halves,
/// each a big-endian `u64`.
pub const RECORD_LEN: usize = 24;

/// A member stamped with its time, as the Redis layout stores it; `None` for a malformed member (never built by
/// [`NearProbe::new`]).
pub fn record(at_ms: u64, member: &str) -> Option<[u8; RECORD_LEN]> {
    let (source, comment) = member_key(member)?;
    let mut r = [0u8; RECORD_LEN];
    r[..8].copy_from_slice(&at_ms.to_be_bytes());
    r[8..16].copy_from_slice(&source.to_be_bytes());
    r[16..].copy_from_slice(&comment.to_be_bytes());
    Some(r)
}

/// The member keys of a band value's records stamped after `since_ms`, oldest first; a trailing partial record
/// (never written by this code) is skipped. Runs on every submission over up to 2 × 8 × 2 × [`PER_BAND`] records.
pub fn members_since(records: &[u8], since_ms: u64) -> impl Iterator<Item = MemberKey> + '_ {
    let word = |b: &[u8]| b.try_into().map(u64::from_be_bytes).unwrap_or(0);
    records
        .chunks_exact(RECORD_LEN)
        .filter(move |r| word(&r[..8]) > since_ms)
        .map(move |r| (word(&r[8..16]), word(&r[16..])))
}

/// A member's key (see [`MemberKey`]); `None` when malformed.
pub fn member_key(member: &str) -> Option<MemberKey> {
    let (source, comment) = member.split_once(':')?;
    let half = |h: &str| (h.len() == 16).then(|| u64::from_str_radix(h, 16).ok()).flatten();
    Some((half(source)?, half(comment)?))
}

/// Summarises the members found under each of the probe's band values (one list of member keys per band, any
/// order): a member found under at least `MIN_SHARED_BANDS` bands is a near copy. Both stores keep keys, parsed once
/// when a comment is remembered (parsing member strings on every read cost the memory store ~15% of its throughput).
pub fn summarize<B>(probe: &NearProbe, bands: B) -> Duplicates
where
    B: IntoIterator,
    B::Item: IntoIterator<Item = MemberKey>,
{
    let mut d = Duplicates::default();
    let Some(own) = member_key(&probe.member) else { return d };
    // At most BANDS × PER_BAND members, so sorting and counting runs beats hashing them. The band goes in the low
    // bits of a member's entry: one sort orders by member, then band.
    let mut hits: Vec<(MemberKey, u8)> = Vec::with_capacity(8 * PER_BAND);
    for (band, members) in bands.into_iter().enumerate() {
        let band = u8::try_from(band).unwrap_or(u8::MAX);
        hits.extend(members.into_iter().map(|key| (key, band)));
    }
    hits.sort_unstable();
    // A member counts once per band even if a list repeats it.
    hits.dedup();
    let mut other_sources: Vec<u64> = Vec::new();
    for run in hits.chunk_by(|a, b| a.0 == b.0) {
        let member = run[0].0;
        if run.len() < MIN_SHARED_BANDS || member == own {
            continue;
        }
        let source = member.0;
        if source == own.0 {
            d.own += 1;
        } else {
            d.copies += 1;
            other_sources.push(source);
        }
    }
    other_sources.sort_unstable();
    other_sources.dedup();
    d.sources = other_sources.len() as u32;
    d
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analysis::spam::duplicates::BANDS;

    fn source_of(member: &str) -> &str {
        member.split_once(':').map_or(member, |(s, _)| s)
    }

    #[test]
    fn counts_near_copies_by_source() {
        let probe = NearProbe::new(Sketch([1; BANDS]), Some("author-a"), "ip", "c-new", 1000);
        assert_eq!(probe.member.len(), MEMBER_LEN);
        let own = NearProbe::new(Sketch([1; BANDS]), None, "ip", "c-old", 1000).member;
        let own = own.replace(source_of(&own), source_of(&probe.member));
        let (b1, b2, b3) = (
            "bbbbbbbbbbbbbbbb:0000000000000001",
            "bbbbbbbbbbbbbbbb:0000000000000002",
            "cccccccccccccccc:0000000000000001",
        );
        let lone = "dddddddddddddddd:0000000000000003";
        let bad = "cccc:1";
        let bands = [vec![own.as_str(), b1, b2, b3, lone, bad], vec![own.as_str(), b1, b2, b3, bad], vec![b1, b1]];
        let d = summarize(&probe, bands.iter().map(|b| b.iter().filter_map(|m| member_key(m))));
        assert_eq!(
            d,
            Duplicates { copies: 3, sources: 2, own: 1 },
            "one band only is not a copy; b1 counts once; malformed members are skipped"
        );
    }

    #[test]
    fn two_generations_cover_the_window_and_expire_after_it() {
        let w = 1000;
        for now in [0, 1, 999, 1000, 1500, 1999, 123_456_789] {
            let g = generation(now, w);
            let oldest = now.saturating_sub(w);
            assert!(generation(oldest, w) + 1 >= g, "the window's oldest record is in g-1 or g ({now})");
            // A record stamped now lives until it leaves the window.
            assert!(generation_expiry(g, w) >= now + w, "{now}");
            assert!(generation_expiry(g, w) <= now + 2 * w, "and not much longer ({now})");
        }
    }

    #[test]
    fn records_round_trip_and_filter_by_time() {
        let m = NearProbe::new(Sketch([1; BANDS]), None, "ip", "c", 1000).member;
        let key = member_key(&m).expect("a built member parses");
        let record = |at| record(at, &m).expect("a built member encodes");
        let records = [&record(5)[..], &record(20)[..], b"partial"].concat();
        assert_eq!(members_since(&records, 10).collect::<Vec<_>>(), vec![key]);
        assert_eq!(members_since(&records, 0).count(), 2);
        assert_eq!(near_record_roundtrip(&record(7)), (7, key));
        assert_eq!(super::record(1, "cccc:1"), None, "malformed members are not stored");
    }

    fn near_record_roundtrip(r: &[u8; RECORD_LEN]) -> (u64, MemberKey) {
        let word = |b: &[u8]| u64::from_be_bytes(b.try_into().expect("8 bytes"));
        (word(&r[..8]), (word(&r[8..16]), word(&r[16..])))
    }
}

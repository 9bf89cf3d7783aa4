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
//! One string per band value, `cg:{site}:nd:<band>:<value>`: its members as fixed-width [records](record) appended
//! in time order (`APPEND`, cut back to the newest [`PER_BAND`] when twice as long), expiring a window after its
//! last write. A read is one `MGET` of the comment's eight keys in the context pipeline, keeping records within the
//! window. Measured alternatives: a sorted set per band value cost about twice the Redis time (8 reads, 24 writes
//! per comment), and one hash per window generation wrote each band value's whole record list to the AOF on every
//! comment (~6 KB per comment); an append logs only the new record.

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
    /// `author_key` and `ip_key` are the reputation pseudonyms (`intake::Pseudonymizer`).
    pub fn new(sketch: Sketch, author_key: Option<&str>, ip_key: &str, comment_id: &str, window_ms: u64) -> Self {
        let short = |s: &str| hex::encode(&Sha256::digest(s.as_bytes())[..8]);
        let member = format!("{}:{}", short(author_key.unwrap_or(ip_key)), short(comment_id));
        NearProbe { sketch, member, window_ms }
    }

    fn source(&self) -> &str {
        source_of(&self.member)
    }
}

/// Bytes of a member.
pub const MEMBER_LEN: usize = 33;

/// Bytes of a record: 13 digits of milliseconds, then the member.
pub const RECORD_LEN: usize = 13 + MEMBER_LEN;

/// A member stamped with its time, as the Redis layout stores it.
pub fn record(at_ms: u64, member: &str) -> String {
    format!("{at_ms:013}{member}")
}

/// The members of a band value's records stamped after `since_ms`; malformed records are skipped.
pub fn members_since(records: &str, since_ms: u64) -> impl Iterator<Item = &str> {
    records.as_bytes().chunks(RECORD_LEN).filter_map(move |r| {
        let r = std::str::from_utf8(r).ok().filter(|r| r.len() == RECORD_LEN)?;
        let at: u64 = r[..13].parse().ok()?;
        (at > since_ms).then(|| &r[13..])
    })
}

fn source_of(member: &str) -> &str {
    member.split_once(':').map_or(member, |(s, _)| s)
}

/// Summarises the members found under each of the probe's band values (one list per band, any order): a member
/// found under at least `MIN_SHARED_BANDS` bands is a near copy.
pub fn summarize<'a, B>(probe: &NearProbe, bands: B) -> Duplicates
where
    B: IntoIterator,
    B::Item: IntoIterator<Item = &'a str>,
{
    // At most BANDS × PER_BAND members: sorting and counting runs beats hashing them.
    let mut hits: Vec<(&str, usize)> = Vec::with_capacity(8 * PER_BAND);
    for (band, members) in bands.into_iter().enumerate() {
        hits.extend(members.into_iter().map(|m| (m, band)));
    }
    hits.sort_unstable();
    // A member counts once per band even if a list repeats it.
    hits.dedup();
    let mut copies: Vec<&str> = Vec::new();
    for run in hits.chunk_by(|a, b| a.0 == b.0) {
        if run.len() >= MIN_SHARED_BANDS && run[0].0 != probe.member {
            copies.push(run[0].0);
        }
    }
    let mut d = Duplicates::default();
    let mut others: Vec<&str> = Vec::new();
    for member in copies {
        let source = source_of(member);
        if source == probe.source() {
            d.own += 1;
        } else {
            d.copies += 1;
            others.push(source);
        }
    }
    others.sort_unstable();
    others.dedup();
    d.sources = others.len() as u32;
    d
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analysis::spam::duplicates::BANDS;

    #[test]
    fn counts_near_copies_by_source() {
        let probe = NearProbe::new(Sketch([1; BANDS]), Some("author-a"), "ip", "c-new", 1000);
        assert_eq!(probe.member.len(), MEMBER_LEN);
        let own = NearProbe::new(Sketch([1; BANDS]), None, "ip", "c-old", 1000).member;
        let own = own.replace(source_of(&own), probe.source());
        let (b1, b2, b3) = ("bbbbbbbbbbbbbbbb:0000000000000001", "bbbbbbbbbbbbbbbb:0000000000000002", "cccc:1");
        let lone = "dddddddddddddddd:0000000000000003";
        let bands = [vec![own.as_str(), b1, b2, b3, lone], vec![own.as_str(), b1, b2, b3], vec![b1, b1]];
        let d = summarize(&probe, bands.iter().map(|b| b.iter().copied()));
        assert_eq!(d, Duplicates { copies: 3, sources: 2, own: 1 }, "one band only is not a copy; b1 counts once");
    }

    #[test]
    fn records_round_trip_and_filter_by_time() {
        let m = NearProbe::new(Sketch([1; BANDS]), None, "ip", "c", 1000).member;
        let records = [record(5, &m), record(20, &m), "garbage".into()].concat();
        assert_eq!(record(5, &m).len(), RECORD_LEN);
        assert_eq!(members_since(&records, 10).collect::<Vec<_>>(), vec![m.as_str()]);
        assert_eq!(members_since(&records, 0).count(), 2);
    }
}

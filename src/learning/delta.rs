//! A site's learned delta as the store keeps it: spam counts and abuse counts in ONE versioned blob, so one
//! version, one snapshot and one revert cover both models.
//!
//! ```text
//! spam only (and every blob written before abuse learning): the spam model format (`analysis::spam::codec`)
//! both:  "CGDLT" (5 bytes), u8 format version (1),
//!        varint length + spam counts in the spam model format (0: none),
//!        varint length + abuse section (0: none),
//!        u64 LE FNV-1a 64 of every byte before it
//! abuse section: u8 word scheme (1: FNV-1a 64 of folded words), varint docs × 6 (approved, threat,
//!        identity_attack, insult, sexual, profanity), varint number of entries, then per entry: key delta from the
//!        previous key (the first from 0), 6 varint counts — keys strictly increasing
//! ```
//!
//! A delta without abuse counts is written in the spam format exactly as before, so a site that never rejects for
//! abuse keeps blobs every earlier build reads; an empty blob is an empty delta (version 0, or a revert to it).
//! Decoding is defensive: truncated, oversized, unsorted or corrupt input is an error, never a panic.

use crate::analysis::abuse::learned::{CLASSES, LearnedCounts};
use crate::analysis::spam::codec::{ModelError, Reader, fnv, put_varint};
use crate::analysis::spam::model::Counts;

const MAGIC: &[u8; 5] = b"CGDLT";
const SPAM_MAGIC: &[u8; 6] = b"CGSPAM";
const VERSION: u8 = 1;
/// Bump whenever `abuse::learned::words` changes what a key means.
pub const WORD_SCHEME: u8 = 1;

/// Everything a site learned from its moderators.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Delta {
    pub spam: Counts,
    pub abuse: LearnedCounts,
}

impl Delta {
    /// Decodes a stored blob: empty, the spam format (spam only) or the combined format.
    pub fn from_bytes(bytes: &[u8]) -> Result<Delta, ModelError> {
        if bytes.is_empty() {
            return Ok(Delta::default());
        }
        if bytes.starts_with(SPAM_MAGIC) {
            return Ok(Delta { spam: Counts::from_bytes(bytes)?, abuse: LearnedCounts::default() });
        }
        if !bytes.starts_with(MAGIC) {
            return Err(ModelError::Magic);
        }
        let (body, sum) = bytes.split_at_checked(bytes.len().saturating_sub(8)).ok_or(ModelError::Corrupt("short"))?;
        let sum: [u8; 8] = sum.try_into().map_err(|_| ModelError::Corrupt("short"))?;
        if body.len() < MAGIC.len() + 1 || fnv(body) != u64::from_le_bytes(sum) {
            return Err(ModelError::Corrupt("checksum mismatch"));
        }
        let mut r = Reader { bytes: body, pos: MAGIC.len() };
        let version = r.byte()?;
        if version != VERSION {
            return Err(ModelError::Version(version));
        }
        let spam = r.section()?;
        let spam = if spam.is_empty() { Counts::default() } else { Counts::from_bytes(spam)? };
        let abuse = r.section()?;
        let abuse = if abuse.is_empty() { LearnedCounts::default() } else { decode_abuse(abuse)? };
        if r.pos != body.len() {
            return Err(ModelError::Corrupt("trailing bytes"));
        }
        Ok(Delta { spam, abuse })
    }

    /// Encodes for the store (see the module docs).
    pub fn to_bytes(&self) -> Vec<u8> {
        if self.abuse.is_empty() {
            return if self.spam == Counts::default() { Vec::new() } else { self.spam.to_bytes() };
        }
        let spam = if self.spam == Counts::default() { Vec::new() } else { self.spam.to_bytes() };
        let abuse = encode_abuse(&self.abuse);
        let mut out = Vec::with_capacity(16 + spam.len() + abuse.len());
        out.extend_from_slice(MAGIC);
        out.push(VERSION);
        put_varint(&mut out, spam.len() as u64);
        out.extend_from_slice(&spam);
        put_varint(&mut out, abuse.len() as u64);
        out.extend_from_slice(&abuse);
        let sum = fnv(&out);
        out.extend_from_slice(&sum.to_le_bytes());
        out
    }
}

fn encode_abuse(c: &LearnedCounts) -> Vec<u8> {
    let mut out = Vec::with_capacity(8 + c.entries.len() * 9);
    out.push(WORD_SCHEME);
    for d in c.docs {
        put_varint(&mut out, d);
    }
    put_varint(&mut out, c.entries.len() as u64);
    let mut prev = 0u64;
    for (key, counts) in &c.entries {
        put_varint(&mut out, key.wrapping_sub(prev));
        for n in counts {
            put_varint(&mut out, u64::from(*n));
        }
        prev = *key;
    }
    out
}

fn decode_abuse(bytes: &[u8]) -> Result<LearnedCounts, ModelError> {
    let mut r = Reader { bytes, pos: 0 };
    let scheme = r.byte()?;
    if scheme != WORD_SCHEME {
        return Err(ModelError::Scheme(scheme));
    }
    let mut c = LearnedCounts::default();
    for d in &mut c.docs {
        *d = r.varint()?;
    }
    let n = r.varint()?;
    // Every entry takes at least 7 bytes: refuse counts the input cannot hold before allocating.
    if n > (bytes.len() / (1 + CLASSES)) as u64 {
        return Err(ModelError::Corrupt("entry count exceeds the file"));
    }
    let mut key = 0u64;
    for _ in 0..n {
        let delta = r.varint()?;
        if delta == 0 {
            return Err(ModelError::Corrupt("keys not strictly increasing"));
        }
        key = key.checked_add(delta).ok_or(ModelError::Corrupt("key overflow"))?;
        let mut counts = [0u32; CLASSES];
        for n in &mut counts {
            *n = u32::try_from(r.varint()?).map_err(|_| ModelError::Corrupt("count overflow"))?;
        }
        c.entries.push((key, counts));
    }
    if r.pos != bytes.len() {
        return Err(ModelError::Corrupt("trailing bytes"));
    }
    Ok(c)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analysis::abuse::Category;
    use crate::analysis::abuse::learned::Label;

    fn sample() -> Delta {
        Delta {
            spam: Counts::from_texts([("subscribe to my channel", true), ("love this song", false)]),
            abuse: LearnedCounts::from_examples([
                ("tum dhakkanwala ho", Label::Abuse(Category::Insult)),
                ("good report", Label::Approved),
            ]),
        }
    }

    #[test]
    fn round_trips_and_old_blobs_are_spam_only() {
        let d = sample();
        assert_eq!(Delta::from_bytes(&d.to_bytes()).expect("decodes"), d);
        // A blob written before abuse learning (the spam format) still loads, as spam counts alone.
        let old = d.spam.to_bytes();
        assert_eq!(Delta::from_bytes(&old).expect("decodes"), Delta { spam: d.spam.clone(), ..Default::default() });
        // Without abuse counts the blob IS the spam format, readable by earlier builds.
        assert_eq!(Delta { spam: d.spam.clone(), ..Default::default() }.to_bytes(), old);
        assert_eq!(Delta::default().to_bytes(), Vec::<u8>::new());
        assert_eq!(Delta::from_bytes(&[]).expect("empty"), Delta::default());
        let abuse_only = Delta { abuse: d.abuse.clone(), ..Default::default() };
        assert_eq!(Delta::from_bytes(&abuse_only.to_bytes()).expect("decodes"), abuse_only);
    }

    #[test]
    fn corrupt_inputs_are_errors_not_panics() {
        let good = sample().to_bytes();
        for cut in 1..good.len() {
            assert!(Delta::from_bytes(&good[..cut]).is_err(), "truncated at {cut}");
        }
        for i in 0..good.len() {
            let mut bad = good.clone();
            bad[i] ^= 0x41;
            assert!(Delta::from_bytes(&bad).is_err(), "flipped byte {i}");
        }
        assert!(matches!(Delta::from_bytes(b"nonsense"), Err(ModelError::Magic)));
    }
}

//! The model file format: compact, versioned, checksummed counts.
//!
//! ```text
//! "CGSPAM"  magic (6 bytes)
//! u8        format version (1)
//! u8        feature scheme (1: FNV-1a + fmix64 keys of words, bigrams, character 4-grams; digits folded to 0)
//! varint    ham comments, spam comments
//! u8        number of combination inputs, then f64 LE bias and one f64 LE weight per input
//! varint    number of entries, then per entry: key delta from the previous key (the first from 0), ham count,
//!           spam count — keys strictly increasing and never 0
//! u64 LE    FNV-1a 64 of every byte before it
//! ```
//!
//! Per-family totals are not stored: they are the sums of the entries' counts, recomputed on load, so a file cannot
//! be internally inconsistent. A file written by another feature scheme is refused (its keys would mean nothing).
//!
//! Decoding is defensive: any truncated, oversized, unsorted or corrupt input is an error, never a panic.

use super::combine::{Calibration, N};
use super::model::{Counts, Entry, SpamModel};
use super::tokens::{self, FAMILIES};
use std::path::Path;

const MAGIC: &[u8; 6] = b"CGSPAM";
const VERSION: u8 = 1;
/// Bump whenever `tokens` changes what a key means.
pub const FEATURE_SCHEME: u8 = 1;

/// Why a model could not be read or written.
#[derive(Debug, thiserror::Error)]
pub enum ModelError {
    #[error("reading or writing the model file")]
    Io(#[from] std::io::Error),
    #[error("not a commentguard spam model (bad magic)")]
    Magic,
    #[error("model format version {0} is not supported (this build reads {VERSION})")]
    Version(u8),
    #[error("model uses feature scheme {0}; this build uses {FEATURE_SCHEME}: retrain it")]
    Scheme(u8),
    #[error("model file is corrupt: {0}")]
    Corrupt(&'static str),
}

impl SpamModel {
    /// Encodes the model (see the module docs for the format).
    pub fn to_bytes(&self) -> Vec<u8> {
        encode(self.counts(), self.calibration())
    }

    /// Decodes a model written by [`to_bytes`](Self::to_bytes).
    pub fn from_bytes(bytes: &[u8]) -> Result<SpamModel, ModelError> {
        let (counts, calibration) = decode(bytes)?;
        Ok(SpamModel::new(counts, calibration))
    }
}

impl Counts {
    /// Encodes counts alone — a site's learned delta — in the model format with a neutral calibration.
    pub fn to_bytes(&self) -> Vec<u8> {
        encode(self, &Calibration::default())
    }

    /// Decodes what [`Counts::to_bytes`] (or [`SpamModel::to_bytes`]) wrote, ignoring the calibration. Cheaper than
    /// [`SpamModel::from_bytes`]: no scoring index is built.
    pub fn from_bytes(bytes: &[u8]) -> Result<Counts, ModelError> {
        Ok(decode(bytes)?.0)
    }

    /// As [`Counts::from_bytes`], but no bytes at all are no counts (a site that has learned nothing yet).
    pub fn from_bytes_or_empty(bytes: &[u8]) -> Result<Counts, ModelError> {
        if bytes.is_empty() { Ok(Counts::default()) } else { Counts::from_bytes(bytes) }
    }
}

fn encode(counts: &Counts, cal: &Calibration) -> Vec<u8> {
    let mut out = Vec::with_capacity(32 + counts.entries.len() * 10);
    out.extend_from_slice(MAGIC);
    out.push(VERSION);
    out.push(FEATURE_SCHEME);
    put_varint(&mut out, counts.docs[0]);
    put_varint(&mut out, counts.docs[1]);
    out.push(N as u8);
    out.extend_from_slice(&cal.bias.to_le_bytes());
    for w in cal.weights {
        out.extend_from_slice(&w.to_le_bytes());
    }
    put_varint(&mut out, counts.entries.len() as u64);
    let mut prev = 0u64;
    for e in &counts.entries {
        put_varint(&mut out, e.key.wrapping_sub(prev));
        put_varint(&mut out, u64::from(e.counts[0]));
        put_varint(&mut out, u64::from(e.counts[1]));
        prev = e.key;
    }
    let sum = fnv(&out);
    out.extend_from_slice(&sum.to_le_bytes());
    out
}

fn decode(bytes: &[u8]) -> Result<(Counts, Calibration), ModelError> {
    let (body, sum) = bytes.split_at_checked(bytes.len().saturating_sub(8)).ok_or(ModelError::Corrupt("short"))?;
    if body.len() < MAGIC.len() + 2 || &body[..MAGIC.len()] != MAGIC {
        return Err(ModelError::Magic);
    }
    let sum: [u8; 8] = sum.try_into().map_err(|_| ModelError::Corrupt("short"))?;
    if fnv(body) != u64::from_le_bytes(sum) {
        return Err(ModelError::Corrupt("checksum mismatch"));
    }
    let mut r = Reader { bytes: body, pos: MAGIC.len() };
    let version = r.byte()?;
    if version != VERSION {
        return Err(ModelError::Version(version));
    }
    let scheme = r.byte()?;
    if scheme != FEATURE_SCHEME {
        return Err(ModelError::Scheme(scheme));
    }
    let mut counts = Counts { docs: [r.varint()?, r.varint()?], ..Default::default() };
    if usize::from(r.byte()?) != N {
        return Err(ModelError::Corrupt("wrong number of combination weights"));
    }
    let bias = r.f64()?;
    let mut weights = [0.0; N];
    for w in &mut weights {
        *w = r.f64()?;
    }
    if !bias.is_finite() || weights.iter().any(|w| !w.is_finite()) {
        return Err(ModelError::Corrupt("non-finite weight"));
    }
    let n = r.varint()?;
    // Every entry takes at least 3 bytes: refuse counts the input cannot hold before allocating.
    if n > (body.len() / 3) as u64 {
        return Err(ModelError::Corrupt("entry count exceeds the file"));
    }
    let mut entries = Vec::with_capacity(n as usize);
    let mut key = 0u64;
    for _ in 0..n {
        let delta = r.varint()?;
        if delta == 0 {
            return Err(ModelError::Corrupt("keys not strictly increasing"));
        }
        key = key.checked_add(delta).ok_or(ModelError::Corrupt("key overflow"))?;
        let c0 = u32::try_from(r.varint()?).map_err(|_| ModelError::Corrupt("count overflow"))?;
        let c1 = u32::try_from(r.varint()?).map_err(|_| ModelError::Corrupt("count overflow"))?;
        let f = tokens::family(key);
        if f >= FAMILIES {
            return Err(ModelError::Corrupt("unknown feature family"));
        }
        counts.totals[f][0] += u64::from(c0);
        counts.totals[f][1] += u64::from(c1);
        entries.push(Entry { key, counts: [c0, c1] });
    }
    if r.pos != body.len() {
        return Err(ModelError::Corrupt("trailing bytes"));
    }
    counts.entries = entries;
    Ok((counts, Calibration { bias, weights }))
}

impl SpamModel {
    /// Reads a model file.
    pub fn load(path: impl AsRef<Path>) -> Result<SpamModel, ModelError> {
        SpamModel::from_bytes(&std::fs::read(path)?)
    }

    /// Writes the model file atomically (a temporary file in the same directory, then a rename), so a reader never
    /// sees half a model.
    pub fn save(&self, path: impl AsRef<Path>) -> Result<(), ModelError> {
        let path = path.as_ref();
        let mut tmp = path.as_os_str().to_owned();
        tmp.push(".tmp");
        std::fs::write(&tmp, self.to_bytes())?;
        std::fs::rename(&tmp, path)?;
        Ok(())
    }
}

// The blob primitives below are shared with the learned delta's container (`learning/delta.rs`).

pub(crate) fn put_varint(out: &mut Vec<u8>, mut v: u64) {
    while v >= 0x80 {
        out.push((v as u8) | 0x80);
        v >>= 7;
    }
    out.push(v as u8);
}

/// FNV-1a over a blob: the checksum stored with it (detects truncation and corruption, not tampering).
pub(crate) fn fnv(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325u64, |h, &b| (h ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01b3))
}

/// Reads a blob front to back; every read past the end or malformed is `ModelError::Corrupt`, never a panic.
pub(crate) struct Reader<'a> {
    pub(crate) bytes: &'a [u8],
    pub(crate) pos: usize,
}

impl<'a> Reader<'a> {
    pub(crate) fn byte(&mut self) -> Result<u8, ModelError> {
        let b = *self.bytes.get(self.pos).ok_or(ModelError::Corrupt("truncated"))?;
        self.pos += 1;
        Ok(b)
    }

    pub(crate) fn varint(&mut self) -> Result<u64, ModelError> {
        let mut v = 0u64;
        for shift in (0..64).step_by(7) {
            let b = self.byte()?;
            v |= u64::from(b & 0x7f).checked_shl(shift).ok_or(ModelError::Corrupt("varint"))?;
            if b & 0x80 == 0 {
                return Ok(v);
            }
        }
        Err(ModelError::Corrupt("varint too long"))
    }

    /// A length-prefixed section.
    pub(crate) fn section(&mut self) -> Result<&'a [u8], ModelError> {
        let len = usize::try_from(self.varint()?).map_err(|_| ModelError::Corrupt("section length"))?;
        let end = self.pos.checked_add(len).ok_or(ModelError::Corrupt("section length"))?;
        let s = self.bytes.get(self.pos..end).ok_or(ModelError::Corrupt("truncated"))?;
        self.pos = end;
        Ok(s)
    }

    fn f64(&mut self) -> Result<f64, ModelError> {
        let end = self.pos.checked_add(8).ok_or(ModelError::Corrupt("truncated"))?;
        let b: [u8; 8] =
            self.bytes.get(self.pos..end).and_then(|s| s.try_into().ok()).ok_or(ModelError::Corrupt("truncated"))?;
        self.pos = end;
        Ok(f64::from_le_bytes(b))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analysis::spam::combine::PRIOR;

    fn sample() -> SpamModel {
        let counts = Counts::from_texts([("subscribe to my channel", true), ("love this song", false)]);
        SpamModel::new(counts, PRIOR)
    }

    #[test]
    fn round_trip() {
        let m = sample();
        let back = SpamModel::from_bytes(&m.to_bytes()).expect("decodes");
        assert_eq!(back.counts(), m.counts());
        assert_eq!(back.calibration(), m.calibration());
    }

    #[test]
    fn corrupt_inputs_are_errors_not_panics() {
        let good = sample().to_bytes();
        assert!(matches!(SpamModel::from_bytes(b""), Err(ModelError::Corrupt(_) | ModelError::Magic)));
        assert!(matches!(SpamModel::from_bytes(b"nonsense-bytes-here"), Err(ModelError::Magic)));
        for cut in 0..good.len() {
            assert!(SpamModel::from_bytes(&good[..cut]).is_err(), "truncated at {cut}");
        }
        for i in 0..good.len() {
            let mut bad = good.clone();
            bad[i] ^= 0x41;
            assert!(SpamModel::from_bytes(&bad).is_err(), "flipped byte {i}");
        }
    }

    #[test]
    fn other_schemes_are_refused() {
        let mut b = sample().to_bytes();
        b.truncate(b.len() - 8);
        b[7] = FEATURE_SCHEME + 1;
        let sum = fnv(&b);
        b.extend_from_slice(&sum.to_le_bytes());
        assert!(matches!(SpamModel::from_bytes(&b), Err(ModelError::Scheme(_))));
    }

    #[test]
    fn save_and_load() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("model");
        sample().save(&path).expect("save");
        assert_eq!(SpamModel::load(&path).expect("load").counts(), sample().counts());
    }
}

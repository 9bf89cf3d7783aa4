//! Cryptocurrency wallet addresses, each with its real check:
//! - Bitcoin base58check P2PKH (`1…`) and P2SH (`3…`): 25 bytes, version 0x00/0x05, checksum = first four bytes of
//!   SHA-256(SHA-256(version ‖ hash)). Base58 is case-sensitive, so this runs on the ORIGINAL text.
//! - Bitcoin segwit `bc1…`: bech32 (witness v0, 20- or 32-byte program) or bech32m (v1–v16) checksum (BIP 173/350).
//! - Ethereum `0x` + 40 hex digits (the optional EIP-55 case checksum is not checked: lowercase addresses are valid).
//!
//! A random 34-character token passes base58check with probability 2^-32, and bech32 with about 2^-30, so these
//! need no context.

use super::{Scan, Space, scan};
use crate::findings::PII_CRYPTO_WALLET;
use memchr::memmem::Finder;
use sha2::{Digest, Sha256};
use std::ops::Range;
use std::sync::LazyLock;

const BASE58: &[u8; 58] = b"123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz";
const BECH32: &[u8; 32] = b"qpzry9x8gf2tvdw0s3jn54khce6mua7l";

static BC1: LazyLock<Finder<'static>> = LazyLock::new(|| Finder::new(b"bc1"));
static HEX0X: LazyLock<Finder<'static>> = LazyLock::new(|| Finder::new(b"0x"));

pub fn warm_up() {
    LazyLock::force(&BC1);
    LazyLock::force(&HEX0X);
}

pub fn detect(s: &mut Scan<'_>) {
    let mut found: Vec<(Range<usize>, Space, &'static str)> = Vec::new();
    base58_addresses(s.original.as_bytes(), &mut found);
    let text = s.text.as_bytes();
    for p in BC1.find_iter(text) {
        if scan::is_alnum(scan::before(text, p)) {
            continue;
        }
        let end = p + text[p..].iter().take(91).take_while(|b| b.is_ascii_alphanumeric()).count();
        if end - p <= 90 && segwit(&text[p..end]) {
            found.push((p..end, Space::Norm, "Bitcoin segwit address (bech32 checksum valid)"));
        }
    }
    for p in HEX0X.find_iter(text) {
        let hex = text[p + 2..].iter().take(41).take_while(|b| b.is_ascii_hexdigit()).count();
        let end = p + 2 + hex;
        if hex == 40 && !scan::is_alnum(scan::before(text, p)) && !scan::is_alnum(text.get(end).copied()) {
            found.push((p..end, Space::Norm, "Ethereum address"));
        }
    }
    for (span, space, detail) in found {
        let score = if detail.starts_with("Ethereum") { 0.92 } else { 0.99 };
        s.push(&PII_CRYPTO_WALLET, span, space, score, detail.to_string());
    }
}

/// Base58check P2PKH/P2SH tokens of the original text: `memchr` jumps to each `1`/`3`, and only one starting a
/// word of 26–35 alphanumerics is decoded.
fn base58_addresses(b: &[u8], found: &mut Vec<(Range<usize>, Space, &'static str)>) {
    let mut next = 0;
    for start in memchr::memchr2_iter(b'1', b'3', b) {
        if start < next || scan::is_alnum(scan::before(b, start)) {
            continue;
        }
        let len = b[start..].iter().take(36).take_while(|c| c.is_ascii_alphanumeric()).count();
        next = start + len;
        if (26..=35).contains(&len) && base58check(&b[start..next]) {
            found.push((start..next, Space::Orig, "Bitcoin address (base58check valid)"));
        }
    }
}

fn base58check(tok: &[u8]) -> bool {
    let mut buf = [0u8; 25];
    for &c in tok {
        let Some(v) = BASE58.iter().position(|&x| x == c) else {
            return false;
        };
        let mut carry = v as u32;
        for byte in buf.iter_mut().rev() {
            carry += u32::from(*byte) * 58;
            *byte = carry as u8;
            carry >>= 8;
        }
        if carry != 0 {
            return false;
        }
    }
    // Canonical encoding: each leading '1' is one leading zero byte.
    let ones = tok.iter().take_while(|&&c| c == b'1').count();
    let zeros = buf.iter().take_while(|&&x| x == 0).count();
    if ones != zeros || !matches!(buf[0], 0x00 | 0x05) {
        return false;
    }
    let check = Sha256::digest(Sha256::digest(&buf[..21]));
    check[..4] == buf[21..]
}

fn polymod(values: impl Iterator<Item = u8>) -> u32 {
    const GEN: [u32; 5] = [0x3b6a_57b2, 0x2650_8e6d, 0x1ea1_19fa, 0x3d42_33dd, 0x2a14_62b3];
    let mut chk: u32 = 1;
    for v in values {
        let top = chk >> 25;
        chk = ((chk & 0x01ff_ffff) << 5) ^ u32::from(v);
        for (i, g) in GEN.iter().enumerate() {
            if (top >> i) & 1 == 1 {
                chk ^= g;
            }
        }
    }
    chk
}

/// A lowercase `bc1…` address with a valid checksum and witness program.
fn segwit(addr: &[u8]) -> bool {
    let Some(data) = addr.strip_prefix(b"bc1") else {
        return false;
    };
    if data.len() < 7 {
        return false;
    }
    let mut vals = Vec::with_capacity(data.len());
    for c in data {
        match BECH32.iter().position(|x| x == c) {
            Some(v) => vals.push(v as u8),
            None => return false,
        }
    }
    let hrp = b"bc";
    let expanded = hrp.iter().map(|c| c >> 5).chain([0]).chain(hrp.iter().map(|c| c & 31));
    let check = polymod(expanded.chain(vals.iter().copied()));
    let version = vals[0];
    let program5 = &vals[1..vals.len() - 6];
    let bits = program5.len() * 5;
    let bytes = bits / 8;
    // Padding must be under 5 bits and zero.
    let pad_ok = bits % 8 < 5 && program5.last().is_none_or(|&v| v & ((1 << (bits % 8)) - 1) == 0);
    match (version, check) {
        (0, 1) => pad_ok && (bytes == 20 || bytes == 32),
        (1..=16, 0x2bc8_30a3) => pad_ok && (2..=40).contains(&bytes),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn checks() {
        assert!(base58check(b"1A1zP1eP5QGefi2DMPTfTL5SLmv7DivfNa"));
        assert!(!base58check(b"1A1zP1eP5QGefi2DMPTfTL5SLmv7DivfNb"));
        assert!(base58check(b"3J98t1WpEZ73CNmQviecrnyiWrnqRhWNLy"));
        assert!(!segwit(b"bc1qar0srrr7xfkvy5l643lydnw9re59gtzzwf5mdr"));
        assert!(segwit(b"bc1qar0srrr7xfkvy5l643lydnw9re59gtzzwf5mdq"));
        assert!(segwit(b"bc1p5d7rjq7g6rdk2yhzks9smlaqtedr4dekq08ge8ztwac72sfr9rusxg3297"));
    }
}

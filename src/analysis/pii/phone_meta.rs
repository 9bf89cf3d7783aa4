//! Phone validation against the `phonenumber` crate's metadata, with matchers compiled once per region.
//!
//! Why not `phonenumber::parse` + `number_type` for every candidate: the crate keeps its ~3,000 metadata regexes in
//! one global LRU cache of 100 behind a `Mutex`, so every match takes a lock (serialising request threads), hashes the
//! pattern text, and regexes of many countries evict each other (recompiling costs milliseconds). A parse and
//! classification cost ~3–5 µs; this path costs well under 1 µs.
//!
//! The metadata is the crate's (same patterns, same possible lengths, same type order as its `number_type`); only the
//! matching differs: patterns are matched entirely (libphonenumber's `matchesEntirely`) rather than as a prefix.
//! Regions whose national-prefix parsing needs a rewrite rule (`national_prefix_for_parsing`, e.g. AR, BR, MX) and
//! the non-geographic codes (`001`) are [`Lookup::Unsupported`]: the caller falls back to `phonenumber::parse`.
//!
//! Each region's table is compiled on first use into a write-once cell; nothing is mutated afterwards.

use phonenumber::metadata::DATABASE;
use phonenumber::metadata::Descriptor;
use phonenumber::{Metadata, Type};
use regex::{Regex, RegexBuilder};
use std::collections::HashMap;
use std::sync::{LazyLock, OnceLock};

/// The answer for one candidate.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lookup {
    /// Valid: the region's id and the number's type (never `Unknown`).
    Valid(&'static str, Type),
    /// Checked and not a valid number.
    Invalid,
    /// This module cannot decide; use `phonenumber::parse`.
    Unsupported,
}

/// One descriptor: a whole-string matcher and the possible lengths.
struct Desc {
    re: Regex,
    lengths: Vec<u16>,
}

impl Desc {
    fn new(d: &Descriptor) -> Option<Desc> {
        let re = RegexBuilder::new(&format!("^(?:{})$", d.national_number().as_str()))
            .ignore_whitespace(true)
            .build()
            .ok()?;
        Some(Desc { re, lengths: d.possible_length().to_vec() })
    }

    fn matches(&self, nsn: &str) -> bool {
        (self.lengths.is_empty() || self.lengths.contains(&(nsn.len() as u16))) && self.re.is_match(nsn)
    }
}

/// A region's compiled metadata.
struct Region {
    id: &'static str,
    country_code: String,
    national_prefix: Option<&'static str>,
    leading_digits: Option<Regex>,
    general: Desc,
    /// The special types in the order `phonenumber`'s `number_type` tries them.
    special: Vec<(Type, Desc)>,
    fixed_line: Option<Desc>,
    mobile: Option<Desc>,
    /// Fixed-line and mobile share one pattern: every match is `FixedLineOrMobile`.
    same_fixed_mobile: bool,
}

impl Region {
    fn compile(meta: &'static Metadata) -> Option<Region> {
        if meta.national_prefix_for_parsing().is_some() || meta.national_prefix_transform_rule().is_some() {
            return None;
        }
        let d = meta.descriptors();
        let special = [
            (Type::PremiumRate, d.premium_rate()),
            (Type::TollFree, d.toll_free()),
            (Type::SharedCost, d.shared_cost()),
            (Type::Voip, d.voip()),
            (Type::PersonalNumber, d.personal_number()),
            (Type::Pager, d.pager()),
            (Type::Uan, d.uan()),
            (Type::Voicemail, d.voicemail()),
        ];
        let leading_digits = match meta.leading_digits() {
            Some(l) => Some(RegexBuilder::new(&format!("^(?:{})", l.as_str())).ignore_whitespace(true).build().ok()?),
            None => None,
        };
        let src = |x: Option<&Descriptor>| x.map(|x| x.national_number().as_str().to_string());
        Some(Region {
            id: meta.id(),
            country_code: meta.country_code().to_string(),
            national_prefix: meta.national_prefix(),
            leading_digits,
            general: Desc::new(d.general())?,
            special: special.iter().filter_map(|(t, x)| Some((*t, Desc::new((*x)?)?))).collect(),
            fixed_line: d.fixed_line().and_then(Desc::new),
            mobile: d.mobile().and_then(Desc::new),
            same_fixed_mobile: src(d.fixed_line()).is_some() && src(d.fixed_line()) == src(d.mobile()),
        })
    }

    /// The type of a national significant number, as `phonenumber::validator::number_type` decides it.
    fn classify(&self, nsn: &str) -> Type {
        if !self.general.matches(nsn) {
            return Type::Unknown;
        }
        if let Some((t, _)) = self.special.iter().find(|(_, d)| d.matches(nsn)) {
            return *t;
        }
        let mobile = self.mobile.as_ref().is_some_and(|d| d.matches(nsn));
        match self.fixed_line.as_ref().is_some_and(|d| d.matches(nsn)) {
            true if self.same_fixed_mobile || mobile => Type::FixedLineOrMobile,
            true => Type::FixedLine,
            false if mobile => Type::Mobile,
            false => Type::Unknown,
        }
    }
}

/// Every geographic region of the metadata, each compiled on first use (`None`: unsupported, see the module docs).
static REGIONS: LazyLock<HashMap<&'static str, OnceLock<Option<Region>>>> =
    LazyLock::new(|| DATABASE.iter().filter(|m| m.id() != "001").map(|m| (m.id(), OnceLock::new())).collect());

fn region(id: &str) -> Option<&'static Region> {
    let cell = REGIONS.get(id)?;
    cell.get_or_init(|| DATABASE.by_id(id).and_then(Region::compile)).as_ref()
}

/// Compiles the default region's table ahead of the first comment.
pub fn warm_up(default_region: &str) {
    let _ = region(default_region);
}

/// Validates `digits` (ASCII, no separators): with `international`, they start with the country code (the `+` or
/// `00` already removed); otherwise they are a national number of `default_region`.
pub fn lookup(international: bool, digits: &str, default_region: &str) -> Lookup {
    if international {
        return lookup_international(digits);
    }
    let Some(r) = region(default_region) else { return Lookup::Unsupported };
    let mut tries: [Option<&str>; 3] = [None; 3];
    tries[0] = r.national_prefix.and_then(|p| digits.strip_prefix(p));
    tries[1] = Some(digits);
    tries[2] = digits.strip_prefix(r.country_code.as_str());
    for nsn in tries.into_iter().flatten() {
        let t = r.classify(nsn);
        if t != Type::Unknown {
            return Lookup::Valid(r.id, t);
        }
    }
    Lookup::Invalid
}

fn lookup_international(digits: &str) -> Lookup {
    // Country codes never start with 0.
    if digits.starts_with('0') {
        return Lookup::Invalid;
    }
    for n in 1..=3 {
        let Some(code) = digits.get(..n).and_then(|c| c.parse::<u16>().ok()) else { return Lookup::Invalid };
        let Some(ids) = DATABASE.region(&code) else { continue };
        let nsn = &digits[n..];
        let mut unsupported = false;
        for id in ids {
            let Some(r) = region(id) else {
                unsupported = true;
                continue;
            };
            // With several regions per code (+1, +7, +44…), leading digits pick the region when it has them.
            if let Some(lead) = &r.leading_digits {
                if !lead.is_match(nsn) {
                    continue;
                }
            }
            let t = r.classify(nsn);
            let t = match (t, r.national_prefix.and_then(|p| nsn.strip_prefix(p))) {
                // "+44 (0)7911 …": a trunk prefix written after the country code.
                (Type::Unknown, Some(stripped)) => r.classify(stripped),
                (t, _) => t,
            };
            if t != Type::Unknown {
                return Lookup::Valid(r.id, t);
            }
        }
        return if unsupported { Lookup::Unsupported } else { Lookup::Invalid };
    }
    Lookup::Invalid
}

#[cfg(test)]
mod tests {
    use super::*;
    use phonenumber::country::Id;

    /// The slow path this module replaces: `None` when invalid.
    fn slow(international: bool, digits: &str, region: Id) -> Option<Type> {
        let input = if international { format!("+{digits}") } else { digits.to_string() };
        let n = phonenumber::parse(Some(region), input).ok()?;
        let t = n.number_type(&DATABASE);
        (t != Type::Unknown).then_some(t)
    }

    #[test]
    fn agrees_with_the_phonenumber_crate() {
        let mut seed = 0x1234_5678_u64;
        let mut next = |n: u64| {
            seed = seed.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1_442_695_040_888_963_407);
            (seed >> 33) % n
        };
        let mut cases: Vec<(bool, String)> = vec![
            (false, "03001234567".into()),
            (false, "02134567890".into()),
            (false, "923001234567".into()),
            (true, "447911123456".into()),
            (true, "14155552671".into()),
            (true, "919876543210".into()),
            (true, "971501234567".into()),
            (true, "966501234567".into()),
            (true, "33612345678".into()),
            (true, "4915123456789".into()),
        ];
        for _ in 0..1200 {
            let len = 7 + next(8) as usize;
            let mut d: String = (0..len).map(|_| char::from(b'0' + next(10) as u8)).collect();
            let intl = next(2) == 0;
            if !intl && next(2) == 0 {
                d.replace_range(0..2, "03");
            }
            // The caller turns a national "00…" into an international number before asking.
            if !intl && d.starts_with("00") {
                continue;
            }
            cases.push((intl, d));
        }
        let (mut agree, mut valid, mut total) = (0, 0, 0);
        for (intl, d) in &cases {
            let fast = lookup(*intl, d, "PK");
            if fast == Lookup::Unsupported {
                continue;
            }
            total += 1;
            let fast_type = match fast {
                Lookup::Valid(_, t) => Some(t),
                _ => None,
            };
            valid += usize::from(fast_type.is_some());
            if fast_type == slow(*intl, d, Id::PK) {
                agree += 1;
            } else {
                eprintln!("disagree on {intl} {d}: fast {fast:?}, crate {:?}", slow(*intl, d, Id::PK));
            }
        }
        assert!(valid >= 40, "too few valid numbers to compare ({valid})");
        // The remaining differences are the crate's prefix matching and its dropping of leading zeros of the national
        // number (it accepts "+36 011176890" as a Hungarian fixed line); whole-string matching rejects those.
        assert!(agree * 1000 >= total * 995, "agreement {agree}/{total}");
    }
}

//! Cuts the normalised text into *numeric chunks*: digit groups joined by short separator runs. Every numeric
//! detector (card, phone, IDs, IPv4, IBAN/NINO anchors) works on these chunks instead of rescanning the text.
//!
//! A chunk starts at an ASCII digit, optionally preceded by `+`, `(` or `(+`, and continues while the next group of
//! digits follows after one to [`MAX_SEP`] separator bytes from ` .-()/`. So `+92 (300) 123-4567` is one chunk of
//! four groups, while `1,500` and `12:30` are two chunks each (comma and colon end a chunk).
//!
//! Invariant: groups are non-empty ASCII digit runs, in order, and every range indexes the normalised text on ASCII
//! bytes (so on char boundaries).

use std::ops::Range;

/// Most separator bytes between two groups of one chunk (`" - "`, `") "`).
pub const MAX_SEP: usize = 3;

/// One chunk: a slice of `Chunks::groups`.
#[derive(Debug, Clone)]
pub struct Chunk {
    /// Byte offset of the chunk's first byte (a `+` or `(` prefix included).
    pub start: usize,
    /// Index of the first group in `Chunks::groups`.
    pub first: usize,
    /// Number of groups (at least one).
    pub len: usize,
    /// A `+` stands right before the first digit (possibly with `(` or one space between).
    pub plus: bool,
}

/// All chunks of one text.
#[derive(Debug, Default)]
pub struct Chunks {
    pub groups: Vec<Range<usize>>,
    pub chunks: Vec<Chunk>,
}

fn is_sep(b: u8) -> bool {
    matches!(b, b' ' | b'.' | b'-' | b'(' | b')' | b'/')
}

impl Chunks {
    /// Cuts `text` into chunks; linear in its length.
    pub fn cut(text: &str) -> Chunks {
        let b = text.as_bytes();
        let mut out = Chunks::default();
        let mut i = 0;
        while i < b.len() {
            let Some(k) = b[i..].iter().position(u8::is_ascii_digit) else {
                break;
            };
            i += k;
            let (start, plus) = prefix(b, i);
            let first = out.groups.len();
            loop {
                let g = i;
                while i < b.len() && b[i].is_ascii_digit() {
                    i += 1;
                }
                out.groups.push(g..i);
                let mut j = i;
                while j < b.len() && j - i < MAX_SEP && is_sep(b[j]) {
                    j += 1;
                }
                if j > i && j < b.len() && b[j].is_ascii_digit() {
                    i = j;
                } else {
                    break;
                }
            }
            let len = out.groups.len() - first;
            out.chunks.push(Chunk { start, first, len, plus });
        }
        out
    }

    /// The groups of `chunk`.
    pub fn groups_of(&self, chunk: &Chunk) -> &[Range<usize>] {
        self.groups.get(chunk.first..chunk.first + chunk.len).unwrap_or(&[])
    }
}

/// Where a chunk whose first digit is at `i` starts, and whether it has a `+`.
fn prefix(b: &[u8], i: usize) -> (usize, bool) {
    let at = |k: usize| {
        if k <= i && k >= 1 { b.get(i - k).copied() } else { None }
    };
    match (at(1), at(2), at(3)) {
        (Some(b'+'), Some(b'('), _) => (i - 2, true),
        (Some(b'+'), _, _) => (i - 1, true),
        (Some(b' '), Some(b'+'), Some(b'(')) => (i - 3, true),
        (Some(b' '), Some(b'+'), _) => (i - 2, true),
        (Some(b'('), Some(b'+'), _) => (i - 2, true),
        (Some(b'('), _, _) => (i - 1, false),
        _ => (i, false),
    }
}

/// The separator bytes between groups `k - 1` and `k` of `groups`.
pub fn sep<'t>(text: &'t [u8], groups: &[Range<usize>], k: usize) -> &'t [u8] {
    match (k.checked_sub(1).and_then(|p| groups.get(p)), groups.get(k)) {
        (Some(a), Some(b)) => text.get(a.end..b.start).unwrap_or(&[]),
        _ => &[],
    }
}

/// A separator that may stand between two different numbers of one chunk (`0300 1234567 / 0321 7654321`).
fn splittable(s: &[u8]) -> bool {
    s.contains(&b' ') || s.contains(&b'/')
}

/// Candidate group ranges `i..j` of a chunk with `n` groups: the whole chunk first, then sub-ranges of at most
/// `max_groups` groups whose boundaries are [`splittable`] separators, longest first at each start (none when the
/// chunk is [`uniform`]). `accept` returns
/// whether it took the candidate; a taken candidate's groups are not offered again. The caller bounds the work per
/// candidate; this offers at most `n * max_groups + 1` candidates.
pub fn for_each_candidate(
    text: &[u8],
    groups: &[Range<usize>],
    max_groups: usize,
    mut accept: impl FnMut(Range<usize>) -> bool,
) {
    let n = groups.len();
    if n == 0 || accept(0..n) || n == 1 || uniform(text, groups) {
        return;
    }
    let mut i = 0;
    while i < n {
        if i > 0 && !splittable(sep(text, groups, i)) {
            i += 1;
            continue;
        }
        let mut next = i + 1;
        let top = n.min(i + max_groups);
        for j in (i + 1..=top).rev() {
            if (i, j) == (0, n) || (j < n && !splittable(sep(text, groups, j))) {
                continue;
            }
            if accept(i..j) {
                next = j;
                break;
            }
        }
        i = next;
    }
}

/// Four or more groups of one length joined by one separator (`4111 1111 1111 1112`): one number, never split
/// into smaller ones.
fn uniform(text: &[u8], groups: &[Range<usize>]) -> bool {
    let len = groups.first().map_or(0, Range::len);
    let s1 = sep(text, groups, 1);
    groups.len() >= 4 && groups.iter().all(|g| g.len() == len) && (2..groups.len()).all(|k| sep(text, groups, k) == s1)
}

/// Appends the digits of `groups` to `out` (cleared first); false when they are more than `max` digits.
pub fn digits_of(text: &[u8], groups: &[Range<usize>], max: usize, out: &mut String) -> bool {
    out.clear();
    for g in groups {
        if out.len() + g.len() > max {
            return false;
        }
        if let Some(s) = text.get(g.clone()) {
            out.extend(s.iter().map(|&c| c as char));
        }
    }
    true
}

/// Whether `pos` lies inside a URL-like token (containing `://`, starting with `www.`, or `host.tld/…`): digits in a URL's
/// path are ids and timestamps, not cards or phones. Looks back at most 512 bytes, to the token's start.
pub fn in_url(text: &[u8], pos: usize) -> bool {
    let lo = pos.saturating_sub(512);
    let Some(head) = text.get(lo..pos) else { return false };
    let start = head.iter().rposition(|&c| c == b' ').map_or(0, |k| k + 1);
    let tok = &head[start..];
    if memchr::memmem::find(tok, b"://").is_some() || tok.starts_with(b"www.") {
        return true;
    }
    // A scheme-less link: `example.com/p/…` (host with a dot, then a slash).
    let host_end = tok.iter().position(|&c| c == b'/');
    host_end.is_some_and(|h| {
        let host = &tok[..h];
        host.contains(&b'.') && host.iter().all(|c| c.is_ascii_alphanumeric() || matches!(c, b'.' | b'-'))
    })
}

/// The byte before `pos`, if any.
pub fn before(text: &[u8], pos: usize) -> Option<u8> {
    pos.checked_sub(1).and_then(|p| text.get(p).copied())
}

/// Whether the byte is an ASCII letter or digit.
pub fn is_alnum(b: Option<u8>) -> bool {
    b.is_some_and(|b| b.is_ascii_alphanumeric())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn shapes(text: &str) -> Vec<Vec<&str>> {
        let c = Chunks::cut(text);
        c.chunks.iter().map(|ch| c.groups_of(ch).iter().map(|g| &text[g.clone()]).collect()).collect()
    }

    #[test]
    fn cuts_on_commas_and_colons_but_joins_phone_separators() {
        assert_eq!(shapes("+92 (300) 123-4567"), vec![vec!["92", "300", "123", "4567"]]);
        assert_eq!(shapes("rs 1,500 at 12:30"), vec![vec!["1"], vec!["500"], vec!["12"], vec!["30"]]);
        assert_eq!(shapes("call 0300-1234567. ok"), vec![vec!["0300", "1234567"]]);
        let c = Chunks::cut("x +92 300");
        assert!(c.chunks[0].plus);
        assert_eq!(c.chunks[0].start, 2);
    }

    #[test]
    fn candidates_split_on_spaces_only() {
        let text = "0300 1234567 0321 7654321";
        let c = Chunks::cut(text);
        let groups = c.groups_of(&c.chunks[0]);
        let mut seen = Vec::new();
        for_each_candidate(text.as_bytes(), groups, 6, |r| {
            seen.push(r.clone());
            r == (0..2) || r == (2..4)
        });
        assert_eq!(seen.first(), Some(&(0..4)));
        assert!(seen.contains(&(0..2)) && seen.contains(&(2..4)));
    }
}

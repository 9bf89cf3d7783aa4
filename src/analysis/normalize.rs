//! The matching form of a comment body, with a map back to the original's byte offsets.
//!
//! # Why
//!
//! Word lists, PII detectors and spam rules must not be dodged by writing `Ｃａｌｌ ０３００`, `۰۳۰۰`,
//! `what\u{200D}sapp` or by swapping Urdu letter variants, so every matcher runs on one canonical form of the text.
//! But a finding is reported (and redacted) on the body the user wrote, so every span found in the canonical form
//! must be translated back to the ORIGINAL body. [`Normalized`] holds both: the canonical text and a map from its
//! bytes to original byte ranges.
//!
//! # What normalisation does
//!
//! First, every run under a right-to-left override (U+202E) is put in display order (`visual`): `\u{202E}onisac`
//! is displayed "casino", so it matches as "casino". Then, in this order, per segment (see below):
//!
//! 1. **NFKC**: fullwidth forms, ligatures, circled and mathematical letters and digits, presentation forms and other
//!    compatibility characters are folded to their plain equivalents.
//! 2. **Lower-casing** with [`char::to_lowercase`] (full mapping: `İ` becomes `i` + U+0307).
//! 3. **Ignorable characters are dropped** ([`is_ignorable`]): zero-width and bidi/format characters (general
//!    category Cf), variation selectors, Arabic tatweel and Arabic harakat (vowel marks).
//! 4. **Urdu/Arabic letter variants are folded** to one letter each ([`fold_char`]): `ي ى ئ` → `ی`, `ك` → `ک`, the
//!    heh family `ه ۃ ھ ہ ۀ ۂ ە` → `ہ` (U+06C1, Urdu heh goal), `أ إ آ ٱ` → `ا`, `ؤ` → `و`, `ۓ` → `ے`.
//! 5. **Decimal digits of every script** (general category Nd) become ASCII `0`–`9` ([`ascii_digit`]).
//! 6. **Whitespace**: every [`char::is_whitespace`] character (tab, newline, NBSP, U+2007, U+202F, U+3000, …)
//!    becomes one ASCII space. Runs are NOT collapsed, so one input space is one output space.
//!
//! Punctuation (including the Arabic comma `،` and full stop `۔`) is left alone.
//!
//! # Segments, and why offsets stay exact
//!
//! NFKC is not a per-character function: a base letter and the combining marks after it are reordered and composed
//! together. So the original is cut into *segments* and each segment is normalised on its own; every byte the
//! segment produces maps to the segment's whole original byte range. A segment starts at a *stable* character
//! (canonical combining class 0 and NFKC quick-check Yes — normalisation never reaches back across it, so
//! normalising segment by segment gives exactly the NFKC of the whole text) and takes in the combining marks and
//! other non-stable characters after it. Non-stable characters are fed in by their compatibility decomposition, so
//! `ﬁ` becomes two one-letter segments (`f`, `i`), each mapped to the whole ligature, and composed and decomposed
//! spellings are cut at the same places.
//!
//! Ignorable characters are dropped before segmenting, so `a` + ZWJ + U+0301 becomes `á` exactly as `a` + U+0301
//! does. An ignorable combining mark (a haraka) or variation selector still widens the range of the segment it sits
//! in, so a span covering a letter also covers its marks; other ignorables (ZWJ, bidi controls, tatweel) are
//! covered only when they sit between two mapped characters of the span.
//!
//! To keep the cost linear and mapped ranges narrow, a segment holds at most [`MAX_RUN`] consecutive non-starters
//! (counted in decomposed form, as in UAX #15's stream-safe format); the next mark starts a new segment. Only
//! "Zalgo" text has such runs. Cutting there keeps normalisation idempotent (the output's runs are cut at the same
//! places), but marks are not reordered across the cut, so inside such a run a canonically equivalent spelling
//! with the marks in another order may normalise differently. (Runs of conjoining vowels or finals with no leading
//! consonant are class-0 "maybe" characters, not marks; such a run stays one segment: still linear, only a coarser
//! map.)
//!
//! Fast paths keep the common cases cheap: a run of ASCII is copied and lower-cased in bulk (only its last byte
//! waits, in case a combining mark follows); a run of stable Urdu/Arabic letters is folded by table without
//! opening segments; and any one-character segment (CJK, precomposed accented letters, …) skips NFKC, whose result
//! is known to be the character itself. A unit test checks the fast paths give the same result as the slow ones.
//!
//! # Invariants
//!
//! * Every byte of [`Normalized::as_str`] maps to a non-empty original byte range that starts and ends on char
//!   boundaries of the original and lies within it.
//! * The ranges are monotonic: for normalised positions `i < j`, start(`i`) ≤ start(`j`) and end(`i`) ≤ end(`j`).
//! * Output is never longer than [`MAX_EXPANSION`] times the input (in bytes); it is usually the same length or
//!   shorter.
//! * Normalising is idempotent: `Normalized::new(n.as_str()).as_str() == n.as_str()`.
//! * Canonically equivalent inputs (NFC, NFD, NFKD of the same text) normalise to the same text, except inside a
//!   run of more than [`MAX_RUN`] combining marks (see above).
//! * Lower-case ASCII letters, ASCII digits and spaces, and Urdu letters already in their canonical forms are
//!   left as they are, and text made only of them maps every position to itself.
//! * Nothing panics, whatever the input.
//!
//! # The map
//!
//! The map is a list of *pieces*, each covering a run of normalised bytes. A *linear* piece maps byte `k` of the
//! run to original byte `orig + k`: it is used wherever each output character has the same UTF-8 length as the
//! original character it came from (ASCII, Urdu letters even after folding, any untouched character), and
//! consecutive linear pieces merge, so a clean Latin or Urdu body is ONE piece. A *block* piece maps every byte of
//! its run to the whole original range of a segment. Look-ups are a binary search over the pieces. A byte that comes
//! from a right-to-left-overridden run maps to the whole run (its bytes were reordered), so a word found inside it
//! is reported and redacted as the whole run.

use std::iter;
use std::ops::Range;

mod visual;

use unicode_normalization::char::{canonical_combining_class, decompose_compatible};
use unicode_normalization::{IsNormalized, UnicodeNormalization, is_nfkc, is_nfkc_quick};

/// Most consecutive non-starters (combining marks, counted in decomposed form) one segment holds before the next
/// mark starts a new segment. Bounds the work per segment and the width of a mapped range.
pub const MAX_RUN: u32 = 32;

/// The normalised text is never longer than `MAX_EXPANSION` × the original (in bytes). The worst single character
/// is U+FDFA (ﷺ, 3 bytes), whose NFKC is an 18-character phrase of 33 bytes. A unit test checks every char.
pub const MAX_EXPANSION: usize = 11;

/// Text prepared for matching, with a map back to the original body's byte offsets. See the [module
/// docs](self) for what is folded and the invariants of the map.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Normalized {
    text: String,
    /// Pieces in normalised order; `pieces[0].out == 0` and together they cover every byte of `text`.
    pieces: Vec<Piece>,
}

/// A run of normalised bytes, from `out` up to the next piece's `out` (or the end of the text).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Piece {
    /// First normalised byte of the run.
    out: usize,
    /// Linear: the original byte of the run's first byte. Block: start of the original range of every byte.
    orig: usize,
    /// Linear: `orig` + the run's length. Block: end of the original range of every byte.
    orig_end: usize,
    linear: bool,
}

impl Normalized {
    /// Normalises `original`. Linear time; never panics.
    pub fn new(original: &str) -> Normalized {
        match visual::reorder(original) {
            None => Builder::<true>::new(original).finish(),
            Some((shown, runs)) => Builder::<true>::new(&shown).finish().onto_runs(&runs),
        }
    }

    /// Rewrites a map built over the display-order text of `visual::reorder` (same length as the original, equal
    /// outside `runs`) into a map over the original: a normalised byte that comes from inside a run maps to the
    /// whole run, whose bytes were reordered. Keeps every invariant of the map: a range touching a run only widens
    /// to cover it, so ranges stay non-empty, on char boundaries and monotonic.
    fn onto_runs(self, runs: &[Range<usize>]) -> Normalized {
        let run_at = |x: usize| runs.get(runs.partition_point(|r| r.end <= x)).filter(|r| r.start <= x);
        let mut pieces: Vec<Piece> = Vec::with_capacity(self.pieces.len() + 2 * runs.len());
        let mut push = |p: Piece| match pieces.last_mut() {
            Some(last) if last.linear && p.linear && last.orig_end == p.orig => last.orig_end = p.orig_end,
            Some(last) if !last.linear && !p.linear && (last.orig, last.orig_end) == (p.orig, p.orig_end) => {}
            _ => pieces.push(p),
        };
        for (k, p) in self.pieces.iter().enumerate() {
            let out_end = self.pieces.get(k + 1).map_or(self.text.len(), |n| n.out);
            if !p.linear {
                let orig = run_at(p.orig).map_or(p.orig, |r| r.start);
                let orig_end = p.orig_end.checked_sub(1).and_then(run_at).map_or(p.orig_end, |r| r.end);
                push(Piece { out: p.out, orig, orig_end, linear: false });
                continue;
            }
            // A linear piece: split where it enters and leaves runs.
            let end = p.orig + (out_end - p.out);
            let mut x = p.orig;
            while x < end {
                let out = p.out + (x - p.orig);
                match run_at(x) {
                    Some(r) => {
                        push(Piece { out, orig: r.start, orig_end: r.end, linear: false });
                        x = r.end.min(end);
                    }
                    None => {
                        let next = runs.get(runs.partition_point(|r| r.end <= x)).map_or(end, |r| r.start.min(end));
                        push(Piece { out, orig: x, orig_end: next, linear: true });
                        x = next;
                    }
                }
            }
        }
        Normalized { text: self.text, pieces }
    }

    /// The normalised text.
    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// Length of the normalised text in bytes.
    pub fn len(&self) -> usize {
        self.text.len()
    }

    /// Whether the normalised text is empty (the original was empty or held only ignorable characters).
    pub fn is_empty(&self) -> bool {
        self.text.is_empty()
    }

    /// The smallest original byte range covering every original char that produced `range` of the normalised text.
    ///
    /// `range` should be on char boundaries of the normalised text; the result is always on char boundaries of the
    /// original and within it, with `start <= end`. Out-of-contract input is clamped, never a panic: `end` is
    /// clamped to the text length and `start` to `end`; a `start` inside a char moves back to that char's start and
    /// an `end` inside a char moves forward to its end. An empty range maps to the empty range at
    /// [`original_offset`](Self::original_offset)`(start)`.
    pub fn original_range(&self, range: Range<usize>) -> Range<usize> {
        let len = self.text.len();
        let mut end = range.end.min(len);
        let mut start = range.start.min(end);
        // 0 and `len` are boundaries, so these loops stop inside the text.
        while start > 0 && !self.text.is_char_boundary(start) {
            start -= 1;
        }
        while end < len && !self.text.is_char_boundary(end) {
            end += 1;
        }
        if start >= end {
            let at = self.original_offset(start);
            return at..at;
        }
        let first = self.original_offset(start);
        let last = match self.piece_at(end - 1) {
            Some(p) if p.linear => p.orig + (end - p.out),
            Some(p) => p.orig_end,
            None => first,
        };
        first..last.max(first)
    }

    /// The original byte offset where the normalised char at `pos` comes from: the start of its original range.
    ///
    /// A `pos` inside a char is treated as that char's start. At (or past) the end of the normalised text this is
    /// the end of the last original char that produced any output (0 if there is none), i.e. the insertion point
    /// after the text.
    pub fn original_offset(&self, pos: usize) -> usize {
        let len = self.text.len();
        if pos >= len {
            return self.pieces.last().map_or(0, |p| if p.linear { p.orig + (len - p.out) } else { p.orig_end });
        }
        let mut pos = pos;
        while pos > 0 && !self.text.is_char_boundary(pos) {
            pos -= 1;
        }
        match self.piece_at(pos) {
            Some(p) if p.linear => p.orig + (pos - p.out),
            Some(p) => p.orig,
            None => 0,
        }
    }

    /// The piece holding normalised byte `pos` (`pos < len`).
    fn piece_at(&self, pos: usize) -> Option<&Piece> {
        let idx = self.pieces.partition_point(|p| p.out <= pos);
        self.pieces.get(idx.checked_sub(1)?)
    }
}

/// Whether normalisation drops `c` for matching: zero-width and bidi/format characters (all of general category Cf,
/// e.g. ZWSP/ZWNJ/ZWJ/LRM/RLM, U+202A–U+202E, U+2060–U+206F, BOM, soft hyphen, U+061C, U+180E, tags), variation
/// selectors (U+FE00–U+FE0F, U+E0100–U+E01EF, Mongolian U+180B–U+180F), the other invisible default-ignorables
/// (U+034F combining grapheme joiner, Hangul fillers), Arabic tatweel U+0640 and the Arabic harakat and Quranic
/// marks (U+064B–U+065F, U+0670, U+06D6–U+06DC, U+06DF–U+06E4, U+06E7–U+06E8, U+06EA–U+06ED).
pub fn is_ignorable(c: char) -> bool {
    matches!(
        c,
        '\u{00AD}'
            | '\u{034F}'
            | '\u{0600}'..='\u{0605}'
            | '\u{061C}'
            | '\u{0640}'
            | '\u{064B}'..='\u{065F}'
            | '\u{0670}'
            | '\u{06D6}'..='\u{06DD}'
            | '\u{06DF}'..='\u{06E4}'
            | '\u{06E7}'..='\u{06E8}'
            | '\u{06EA}'..='\u{06ED}'
            | '\u{070F}'
            | '\u{0890}'..='\u{0891}'
            | '\u{08E2}'
            | '\u{115F}'..='\u{1160}'
            | '\u{17B4}'..='\u{17B5}'
            | '\u{180B}'..='\u{180F}'
            | '\u{200B}'..='\u{200F}'
            | '\u{202A}'..='\u{202E}'
            | '\u{2060}'..='\u{206F}'
            | '\u{3164}'
            | '\u{FE00}'..='\u{FE0F}'
            | '\u{FEFF}'
            | '\u{FFA0}'
            | '\u{FFF9}'..='\u{FFFB}'
            | '\u{110BD}'
            | '\u{110CD}'
            | '\u{13430}'..='\u{1343F}'
            | '\u{1BCA0}'..='\u{1BCA3}'
            | '\u{1D173}'..='\u{1D17A}'
            | '\u{E0000}'..='\u{E0FFF}'
    )
}

/// Ignorable characters that belong to the character before them (variation selectors, CGJ): like combining marks,
/// they widen the range of the segment they follow rather than being left out of every range.
fn attaches_to_previous(c: char) -> bool {
    matches!(c, '\u{034F}' | '\u{180B}'..='\u{180D}' | '\u{180F}' | '\u{FE00}'..='\u{FE0F}' | '\u{E0100}'..='\u{E01EF}')
        || canonical_combining_class(c) != 0
}

/// Steps 3–6 of normalisation for one character that is already NFKC and lower-case: `None` if it is
/// [ignorable](is_ignorable), otherwise the character with Urdu/Arabic letter variants folded, any decimal digit
/// made ASCII and any whitespace made `' '`.
///
/// The heh family folds to ہ U+06C1 (Urdu heh goal), the form Urdu text uses most. ھ U+06BE (do-chashmi heh, used
/// for aspirates) folds there too, since users swap the two. ە U+06D5 folds there as well, because ۀ U+06C0 is
/// canonically ە + hamza and the hamza is dropped: folding only ۀ would make canonically equal texts differ.
#[inline]
pub fn fold_char(c: char) -> Option<char> {
    if c.is_ascii() {
        return Some(ascii_fold(c as u8) as char);
    }
    if ('\u{0600}'..='\u{06FF}').contains(&c) {
        return fold_arabic(c);
    }
    if is_ignorable(c) {
        return None;
    }
    if let Some(d) = ascii_digit(c) {
        return Some(d as char);
    }
    if c.is_whitespace() {
        return Some(' ');
    }
    Some(c)
}

/// [`fold_char`] for U+0600–U+06FF, by table.
#[inline]
fn fold_arabic(c: char) -> Option<char> {
    let f = ARABIC_FOLD[(c as u32 & 0xFF) as usize];
    (f != '\0').then_some(f)
}

/// [`fold_char`] of U+0600 + i, `'\0'` for ignorable.
const ARABIC_FOLD: [char; 256] = {
    let mut t = ['\0'; 256];
    let mut i = 0;
    while i < 256 {
        let cp = 0x0600 + i as u32;
        t[i] = match cp {
            0x064A | 0x0649 | 0x0626 => '\u{06CC}',
            0x0643 => '\u{06A9}',
            0x0647 | 0x06C3 | 0x06BE | 0x06C0 | 0x06C2 | 0x06D5 => '\u{06C1}',
            0x0622 | 0x0623 | 0x0625 | 0x0671 => '\u{0627}',
            0x0624 => '\u{0648}',
            0x06D3 => '\u{06D2}',
            0x0660..=0x0669 => (b'0' + (cp - 0x0660) as u8) as char,
            0x06F0..=0x06F9 => (b'0' + (cp - 0x06F0) as u8) as char,
            _ => match arabic_class(cp) {
                Class::Ignorable { .. } => '\0',
                _ => match char::from_u32(cp) {
                    Some(c) => c,
                    None => '\0',
                },
            },
        };
        i += 1;
    }
    t
};

/// Lower-case and whitespace folding of one ASCII byte.
#[inline]
fn ascii_fold(b: u8) -> u8 {
    match b {
        b'\t'..=b'\r' => b' ',
        _ => b.to_ascii_lowercase(),
    }
}

/// The zero of every run of decimal digits (general category Nd) in Unicode 16.0. Rust has no numeric-value API and
/// every Nd run is ten consecutive code points in value order 0–9, so a table of the zeros is all that is needed.
/// Generated from the UCD (Python's `unicodedata`, Unicode 14.0) plus the Nd runs added in 15.0 (Kawi, Nag Mundari)
/// and 16.0 (Garay, Sunuwar, Myanmar Extended-C, Gurung Khema, Kirat Rai, Ol Onal, outlined digits); a test checks
/// every run is numeric to the standard library. Sorted.
const DIGIT_ZEROS: &[u32] = &[
    0x0030, 0x0660, 0x06F0, 0x07C0, 0x0966, 0x09E6, 0x0A66, 0x0AE6, 0x0B66, 0x0BE6, 0x0C66, 0x0CE6, 0x0D66, 0x0DE6,
    0x0E50, 0x0ED0, 0x0F20, 0x1040, 0x1090, 0x17E0, 0x1810, 0x1946, 0x19D0, 0x1A80, 0x1A90, 0x1B50, 0x1BB0, 0x1C40,
    0x1C50, 0xA620, 0xA8D0, 0xA900, 0xA9D0, 0xA9F0, 0xAA50, 0xABF0, 0xFF10, 0x104A0, 0x10D30, 0x10D40, 0x11066,
    0x110F0, 0x11136, 0x111D0, 0x112F0, 0x11450, 0x114D0, 0x11650, 0x116C0, 0x116D0, 0x116DA, 0x11730, 0x118E0,
    0x11950, 0x11BF0, 0x11C50, 0x11D50, 0x11DA0, 0x11F50, 0x16130, 0x16A60, 0x16AC0, 0x16B50, 0x16D70, 0x1CCF0,
    0x1D7CE, 0x1D7D8, 0x1D7E2, 0x1D7EC, 0x1D7F6, 0x1E140, 0x1E2F0, 0x1E4F0, 0x1E5F1, 0x1E950, 0x1FBF0,
];

/// The value 0–9 of `c` if it is a decimal digit of any script (general category Nd: ASCII, Arabic-Indic,
/// Extended Arabic-Indic (Urdu/Persian), Devanagari, Bengali, fullwidth, mathematical, …), else `None`.
pub fn digit_value(c: char) -> Option<u8> {
    let cp = c as u32;
    if cp < 0x0660 {
        return c.is_ascii_digit().then(|| cp as u8 - b'0');
    }
    let idx = DIGIT_ZEROS.partition_point(|&z| z <= cp);
    let zero = DIGIT_ZEROS[idx.checked_sub(1)?];
    let v = cp - zero;
    (v < 10).then_some(v as u8)
}

/// The ASCII digit byte (`b'0'`–`b'9'`) for a decimal digit of any script (see [`digit_value`]), else `None`.
pub fn ascii_digit(c: char) -> Option<u8> {
    digit_value(c).map(|v| b'0' + v)
}

/// How the segmenter treats a character.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Class {
    /// Dropped. `attach`: it widens the range of the open segment (combining marks, variation selectors).
    Ignorable { attach: bool },
    /// Canonical combining class 0 and NFKC quick-check Yes: starts a segment and is its own NFKC.
    Stable,
    /// Canonical combining class ≠ 0 (a combining mark).
    NonStarter,
    /// Class 0 but not stable: it has a compatibility decomposition or may compose with the character before it
    /// (conjoining jamo, some Indic vowel signs).
    OtherStarter,
}

#[inline]
fn classify(c: char) -> Class {
    if c.is_ascii() {
        return Class::Stable;
    }
    // Fast path for the Arabic block (Urdu text), checked against `classify_general` by a test.
    if ('\u{0600}'..='\u{06FF}').contains(&c) {
        return ARABIC_CLASS[(c as u32 & 0xFF) as usize];
    }
    classify_general(c)
}

/// [`classify`] of U+0600 + i.
const ARABIC_CLASS: [Class; 256] = {
    let mut t = [Class::Stable; 256];
    let mut i = 0;
    while i < 256 {
        t[i] = arabic_class(0x0600 + i as u32);
        i += 1;
    }
    t
};

/// [`classify`] for a code point of the Arabic block.
const fn arabic_class(cp: u32) -> Class {
    match cp {
        0x064B..=0x065F | 0x0670 | 0x06D6..=0x06DC | 0x06DF..=0x06E4 | 0x06E7..=0x06E8 | 0x06EA..=0x06ED => {
            Class::Ignorable { attach: true }
        }
        0x0600..=0x0605 | 0x061C | 0x0640 | 0x06DD => Class::Ignorable { attach: false },
        0x0610..=0x061A => Class::NonStarter,
        0x0675..=0x0678 => Class::OtherStarter,
        _ => Class::Stable,
    }
}

fn classify_general(c: char) -> Class {
    if is_ignorable(c) {
        return Class::Ignorable { attach: attaches_to_previous(c) };
    }
    if canonical_combining_class(c) != 0 {
        Class::NonStarter
    } else if is_nfkc_quick(iter::once(c)) == IsNormalized::Yes {
        Class::Stable
    } else {
        Class::OtherStarter
    }
}

/// Trailing non-starters of the (non-ignorable part of the) compatibility decomposition of `c`.
fn trailing_run(c: char) -> u32 {
    let mut run = 0;
    decompose_compatible(c, |d| {
        if !is_ignorable(d) {
            run = if canonical_combining_class(d) != 0 { run + 1 } else { 0 };
        }
    });
    run
}

/// Code point ranges where [`char::to_lowercase`] is the identity (checked by a test): Hebrew through Myanmar, CJK,
/// kana, Hangul. Lets Urdu and CJK text skip the case table.
#[inline]
fn caseless(c: char) -> bool {
    matches!(c, '\u{0590}'..='\u{109F}' | '\u{2E80}'..='\u{A63F}' | '\u{AC00}'..='\u{D7FF}')
}

/// Appends lower-case + [`fold_char`] of `c` (an NFKC character) to `out`. Returns how many chars were pushed and
/// whether lower-casing changed anything (its result may then need NFKC again).
#[inline]
fn push_folded(c: char, out: &mut String) -> (usize, bool) {
    if c.is_ascii() {
        out.push(ascii_fold(c as u8) as char);
        // `T` + U+0308 is NFKC but `t` + U+0308 is not (it composes to ẗ): a case change needs a re-check.
        return (1, c.is_ascii_uppercase());
    }
    if caseless(c) {
        return match fold_char(c) {
            Some(f) => {
                out.push(f);
                (1, false)
            }
            None => (0, false),
        };
    }
    let mut pushed = 0;
    let mut changed = false;
    for l in c.to_lowercase() {
        changed |= l != c;
        if let Some(f) = fold_char(l) {
            out.push(f);
            pushed += 1;
        }
    }
    (pushed, changed)
}

/// NFKC + lower-case + fold of `s` into `out` (cleared first).
fn refold(s: &str, out: &mut String) {
    out.clear();
    for n in s.nfkc() {
        push_folded(n, out);
    }
}

/// The segment being collected.
#[derive(Debug, Default)]
struct Segment {
    active: bool,
    /// Original byte range.
    start: usize,
    end: usize,
    /// The first char; `buf` is only filled once a second char arrives.
    first: char,
    chars: usize,
    buf: String,
    /// The segment is exactly `first`, which is exactly `original[start..end]`: a candidate for a linear piece.
    whole: bool,
    /// Trailing non-starters so far (decomposed form); `None` until needed when `first` was taken whole.
    run: Option<u32>,
}

/// Builds a [`Normalized`]. `FAST` = false turns the ASCII and Urdu fast paths off, so a test can check that they
/// change nothing.
struct Builder<'a, const FAST: bool> {
    original: &'a str,
    text: String,
    pieces: Vec<Piece>,
    seg: Segment,
    scratch: String,
    scratch2: String,
}

impl<'a, const FAST: bool> Builder<'a, FAST> {
    fn new(original: &'a str) -> Self {
        Builder {
            original,
            text: String::with_capacity(original.len()),
            pieces: Vec::new(),
            seg: Segment::default(),
            scratch: String::new(),
            scratch2: String::new(),
        }
    }

    fn finish(mut self) -> Normalized {
        let s = self.original;
        let bytes = s.as_bytes();
        let mut i = 0;
        while i < bytes.len() {
            if FAST && bytes[i].is_ascii() {
                // ASCII fast path: every ASCII char is stable, so the run is copied in bulk. Only its last char
                // opens a segment, because a combining mark may follow it.
                let run = bytes[i..].iter().position(|b| !b.is_ascii()).unwrap_or(bytes.len() - i);
                let j = i + run;
                self.flush();
                if j == bytes.len() {
                    self.emit_ascii(i, j);
                } else {
                    self.emit_ascii(i, j - 1);
                    self.start(char::from(bytes[j - 1]), j - 1, j, true);
                }
                i = j;
                continue;
            }
            let j = if FAST { self.arabic_run(i) } else { i };
            if j > i {
                i = j;
                continue;
            }
            let Some(c) = s.get(i..).and_then(|rest| rest.chars().next()) else {
                break;
            };
            let end = i + c.len_utf8();
            self.push_char(c, i, end);
            i = end;
        }
        self.flush();
        Normalized { text: self.text, pieces: self.pieces }
    }

    /// Urdu fast path: a stable Arabic-block letter followed by another stable char (ASCII or Arabic) is a
    /// one-char segment, so it is folded and emitted at once, without opening a segment. Returns where the run of
    /// such letters ends (`i` if there is none).
    fn arabic_run(&mut self, mut i: usize) -> usize {
        let bytes = self.original.as_bytes();
        // U+0600–U+06FF is two bytes in UTF-8, lead byte 0xD8–0xDB.
        let arabic_at = |k: usize| match (bytes.get(k), bytes.get(k + 1)) {
            (Some(&b0 @ 0xD8..=0xDB), Some(&b1)) => Some((((b0 as usize) & 0x03) << 6) | ((b1 as usize) & 0x3F)),
            _ => None,
        };
        while let Some(idx) = arabic_at(i) {
            if ARABIC_CLASS[idx] != Class::Stable {
                break;
            }
            let next_stable = match bytes.get(i + 2) {
                None => true,
                Some(b) if b.is_ascii() => true,
                Some(_) => arabic_at(i + 2).is_some_and(|n| ARABIC_CLASS[n] == Class::Stable),
            };
            if !next_stable {
                break;
            }
            self.flush();
            let out = self.text.len();
            let f = ARABIC_FOLD[idx];
            self.text.push(f);
            // Letters keep their 2-byte length (linear); digits become 1 byte (block).
            self.push_piece(out, i, i + 2, !f.is_ascii());
            i += 2;
        }
        i
    }

    /// An original char at `start..end`.
    fn push_char(&mut self, c: char, start: usize, end: usize) {
        match classify(c) {
            Class::Stable => {
                self.flush();
                self.start(c, start, end, true);
            }
            Class::Ignorable { attach } => {
                if attach {
                    self.extend(end);
                }
            }
            Class::NonStarter | Class::OtherStarter => {
                // Not stable: feed its compatibility decomposition element by element, so the segment boundaries
                // and the mark count are the same whether the text arrives composed or decomposed.
                let mut kept = false;
                decompose_compatible(c, |d| kept |= self.push_element(d, start, end));
                if !kept {
                    self.extend(end);
                }
            }
        }
    }

    /// One element of the decomposition of the original char at `start..end`. Returns whether it was kept.
    fn push_element(&mut self, d: char, start: usize, end: usize) -> bool {
        match classify(d) {
            Class::Ignorable { .. } => return false,
            Class::Stable => {
                self.flush();
                self.start(d, start, end, false);
            }
            Class::OtherStarter => {
                if self.seg.active {
                    self.append(d, end);
                } else {
                    self.start(d, start, end, false);
                }
                self.seg.run = Some(0);
            }
            Class::NonStarter => {
                if !self.seg.active {
                    self.start(d, start, end, false);
                    self.seg.run = Some(1);
                    return true;
                }
                let run = match self.seg.run {
                    Some(r) => r,
                    None => trailing_run(self.seg.first),
                };
                if run >= MAX_RUN {
                    // Cap reached: this mark starts a new segment (linear cost, bounded range width).
                    self.flush();
                    self.start(d, start, end, false);
                    self.seg.run = Some(1);
                } else {
                    self.append(d, end);
                    self.seg.run = Some(run + 1);
                }
            }
        }
        true
    }

    fn start(&mut self, c: char, start: usize, end: usize, whole: bool) {
        let seg = &mut self.seg;
        seg.active = true;
        seg.start = start;
        seg.end = end;
        seg.first = c;
        seg.chars = 1;
        seg.whole = whole;
        seg.run = if whole { None } else { Some(0) };
    }

    fn append(&mut self, d: char, end: usize) {
        let seg = &mut self.seg;
        if seg.chars == 1 {
            seg.buf.clear();
            seg.buf.push(seg.first);
        }
        seg.buf.push(d);
        seg.chars += 1;
        seg.end = seg.end.max(end);
        seg.whole = false;
    }

    /// An ignorable char inside the open segment: only widens its range.
    fn extend(&mut self, end: usize) {
        if self.seg.active {
            self.seg.end = self.seg.end.max(end);
            self.seg.whole = false;
        }
    }

    /// Normalises the open segment and appends it to the output.
    fn flush(&mut self) {
        if !self.seg.active {
            return;
        }
        self.seg.active = false;
        let out = self.text.len();
        let (start, end) = (self.seg.start, self.seg.end);
        if self.seg.chars == 1 {
            // A single stable char (or decomposition element) is its own NFKC: only case and folding apply.
            let (pushed, changed) = push_folded(self.seg.first, &mut self.text);
            if changed {
                self.stabilize_tail(out);
            }
            let len = self.text.len() - out;
            if len > 0 {
                let linear = self.seg.whole && pushed == 1 && len == end - start;
                self.push_piece(out, start, end, linear);
            }
            return;
        }
        self.scratch.clear();
        let mut changed = false;
        for n in self.seg.buf.nfkc() {
            changed |= push_folded(n, &mut self.scratch).1;
        }
        self.text.push_str(&self.scratch);
        if changed {
            self.stabilize_tail(out);
        }
        if self.text.len() > out {
            self.push_piece(out, start, end, false);
        }
    }

    /// Lower-casing can (rarely) leave text that is not NFKC, e.g. a mark order that needs re-sorting; re-apply
    /// NFKC + case + folding to the text appended since `from` until it is stable, so the output is idempotent.
    fn stabilize_tail(&mut self, from: usize) {
        let Some(tail) = self.text.get(from..) else {
            return;
        };
        if tail.is_ascii() || is_nfkc(tail) {
            return;
        }
        self.scratch.clear();
        self.scratch.push_str(tail);
        for _ in 0..4 {
            refold(&self.scratch, &mut self.scratch2);
            std::mem::swap(&mut self.scratch, &mut self.scratch2);
            if is_nfkc(&self.scratch) {
                break;
            }
        }
        self.text.truncate(from);
        self.text.push_str(&self.scratch);
    }

    /// Copies ASCII `original[start..end]`, lower-cased and with whitespace controls made spaces, as one linear piece.
    fn emit_ascii(&mut self, start: usize, end: usize) {
        let Some(run) = self.original.get(start..end) else {
            return;
        };
        if run.is_empty() {
            return;
        }
        let out = self.text.len();
        let mut rest = run;
        while let Some(k) = rest.bytes().position(|b| matches!(b, b'\t'..=b'\r')) {
            self.text.push_str(&rest[..k]);
            self.text.push(' ');
            rest = &rest[k + 1..];
        }
        self.text.push_str(rest);
        if let Some(tail) = self.text.get_mut(out..) {
            tail.make_ascii_lowercase();
        }
        self.push_piece(out, start, end, true);
    }

    /// Maps the output bytes from `out` to the end of the text, merging with the previous piece when possible.
    fn push_piece(&mut self, out: usize, orig: usize, orig_end: usize, linear: bool) {
        if let Some(last) = self.pieces.last_mut() {
            if linear && last.linear && last.orig_end == orig {
                last.orig_end = orig_end;
                return;
            }
            if !linear && !last.linear && last.orig == orig && last.orig_end == orig_end {
                return;
            }
        }
        self.pieces.push(Piece { out, orig, orig_end, linear });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Normalises `original`, checks the text, then finds `needle` in it and checks it maps back to `expect`.
    fn check(original: &str, normalized: &str, needle: &str, expect: &str) {
        let n = Normalized::new(original);
        assert_eq!(n.as_str(), normalized, "normalising {original:?}");
        let at = n.as_str().find(needle).unwrap_or_else(|| panic!("{needle:?} not in {:?}", n.as_str()));
        let r = n.original_range(at..at + needle.len());
        assert_eq!(&original[r], expect, "mapping {needle:?} of {original:?}");
    }

    #[test]
    fn fullwidth_folds_to_ascii() {
        check("Ｃａｌｌ ０３００", "call 0300", "0300", "０３００");
        check("Ｃａｌｌ ０３００", "call 0300", "call", "Ｃａｌｌ");
        check("mail me: ａ＠ｂ.com", "mail me: a@b.com", "a@b", "ａ＠ｂ");
    }

    #[test]
    fn compatibility_forms_fold() {
        check("ﬁle", "file", "fi", "ﬁ");
        check("ﬁle", "file", "i", "ﬁ");
        check("① ②", "1 2", "2", "②");
        check("x²", "x2", "2", "²");
        check("𝟎𝟑𝟎𝟎", "0300", "30", "𝟑𝟎");
        check("ｶﾞ", "ガ", "ガ", "ｶﾞ");
    }

    #[test]
    fn urdu_and_other_digits_fold() {
        check("فون ۰۳۰۰", "فون 0300", "0300", "۰۳۰۰");
        check("٠٣٠٠", "0300", "0300", "٠٣٠٠");
        check("०३००", "0300", "03", "०३");
        check("০৩", "03", "3", "৩");
        check("๐๓", "03", "03", "๐๓");
    }

    #[test]
    fn zero_width_and_bidi_removed() {
        check("what\u{200D}sapp", "whatsapp", "whatsapp", "what\u{200D}sapp");
        check("wh\u{200B}at\u{2060}s\u{FEFF}app", "whatsapp", "sapp", "s\u{FEFF}app");
        // A right-to-left override shows its run reversed (see `right_to_left_overrides_read_as_displayed`).
        check("\u{202E}llac\u{202C}", "call", "call", "llac");
        check("soft\u{00AD}hyphen", "softhyphen", "thy", "t\u{00AD}hy");
        check("a\u{200D}\u{0301}", "á", "á", "a\u{200D}\u{0301}");
    }

    #[test]
    fn right_to_left_overrides_read_as_displayed() {
        // "\u{202E}onisac" is displayed "casino": matchers see that, and a match maps to the whole overridden run.
        // (original, normalised, needle, what the needle maps back to)
        let cases = [
            ("play \u{202E}onisac\u{202C} now", "play casino now", "casino", "onisac"),
            ("play \u{202E}onisac\u{202C} now", "play casino now", "sin", "onisac"),
            ("play \u{202E}onisac\u{202C} now", "play casino now", "now", "now"),
            ("\u{202E}7654321-0030\u{202C} ok", "0300-1234567 ok", "0300", "7654321-0030"),
            ("\u{202E}ＯＮＩＳＡＣ\nok", "casino ok", "ok", "ok"),
        ];
        for (original, normalized, needle, expect) in cases {
            check(original, normalized, needle, expect);
            assert_eq!(Normalized::new(normalized).as_str(), normalized, "idempotent");
        }
    }

    #[test]
    fn urdu_letter_variants_fold_equal() {
        // Urdu "shukriya" with the Urdu letters, and with Arabic yeh and heh.
        let urdu = Normalized::new("شکریہ");
        let arabic = Normalized::new("شكريه");
        assert_eq!(urdu.as_str(), arabic.as_str());
        assert_eq!(urdu.as_str(), "شکریہ");
        check("شكريه", "شکریہ", "ری", "ري");
        check("ى ئ ۓ ؤ", "ی ی ے و", "ے", "ۓ");
        check("أإآٱ", "اااا", "ا", "أ");
        check("ھ ۃ ۀ ۂ ه", "ہ ہ ہ ہ ہ", "ہ", "ھ");
        // Canonically equal spellings (composed and with a separate hamza) fold equal.
        assert_eq!(Normalized::new("ۀ").as_str(), Normalized::new("\u{06D5}\u{0654}").as_str());
        assert_eq!(Normalized::new("أ").as_str(), Normalized::new("\u{0627}\u{0654}").as_str());
    }

    #[test]
    fn tatweel_and_harakat_removed() {
        check("ســـلام", "سلام", "سلام", "ســـلام");
        check("بَسْمِ", "بسم", "بس", "بَسْ");
        // A haraka after the last matched letter belongs to that letter's range.
        check("بَسْمِ", "بسم", "م", "مِ");
        check("سلامٌ ok", "سلام ok", "سلام", "سلامٌ");
    }

    #[test]
    fn dotted_capital_i_expands_and_maps_back() {
        check("İstanbul", "i\u{307}stanbul", "stan", "stan");
        check("İstanbul", "i\u{307}stanbul", "i\u{307}", "İ");
        check("İstanbul", "i\u{307}stanbul", "i", "İ");
        check("ΣΑΣ", "σασ", "α", "Α");
    }

    #[test]
    fn whitespace_becomes_single_spaces() {
        check("a\u{00A0}b\u{2007}c\u{202F}d\u{3000}e", "a b c d e", "c d", "c\u{202F}d");
        check("a\t\nb", "a  b", "  ", "\t\n");
        check("x\u{1680}y", "x y", " ", "\u{1680}");
    }

    #[test]
    fn combining_marks_compose_and_map_to_the_segment() {
        check("cafe\u{0301} ok", "café ok", "é", "e\u{0301}");
        check("cafe\u{0301} ok", "café ok", "caf", "caf");
        check("CAFÉ", "café", "é", "É");
        // Reordered marks: the whole segment maps back.
        check("a\u{0301}\u{0316}b", "á\u{0316}b", "b", "b");
    }

    #[test]
    fn clamping_never_panics() {
        let n = Normalized::new("Ａb\u{200B}");
        assert_eq!(n.as_str(), "ab");
        assert_eq!(n.original_range(0..100), 0..4);
        assert_eq!(n.original_range(Range { start: 5, end: 3 }), 4..4);
        assert_eq!(n.original_range(1..1), 3..3);
        assert_eq!(n.original_offset(2), 4);
        let u = Normalized::new("شکریہ");
        // Non-boundary range: widened to whole chars.
        assert_eq!(u.original_range(1..3), 0..4);
        let empty = Normalized::new("\u{200B}\u{200C}");
        assert!(empty.is_empty());
        assert_eq!(empty.original_range(0..1), 0..0);
    }

    #[test]
    fn clean_text_is_one_linear_piece() {
        let n = Normalized::new("Hello World 123");
        assert_eq!(n.as_str(), "hello world 123");
        assert_eq!(n.pieces.len(), 1);
        let u = Normalized::new("آپ کا شکریہ ۲۰۲۴");
        assert_eq!(u.as_str(), "اپ کا شکریہ 2024");
        // Letters keep their length (linear); only the 2-byte → 1-byte digits need their own pieces.
        assert!(u.pieces.len() <= 6, "{:?}", u.pieces);
    }

    #[test]
    fn long_mark_runs_are_capped() {
        let s: String = iter::once('a').chain(iter::repeat_n('\u{0301}', 100)).collect();
        let n = Normalized::new(&s);
        assert!(n.pieces.len() >= 3);
        assert_eq!(Normalized::new(n.as_str()).as_str(), n.as_str());
        let r = n.original_range(n.len() - 2..n.len());
        assert!(r.end - r.start <= 2 * 32 + 2);
    }

    proptest::proptest! {
        #[test]
        fn fast_paths_change_nothing(chars in proptest::collection::vec(proptest::sample::select(vec![
            'a', 'Z', ' ', '\t', '7', 'ب', 'ی', 'ي', 'ہ', 'ه', 'آ', '۳', '٣', '\u{064E}', '\u{0654}', '\u{0640}',
            '\u{0610}', '\u{0301}', '\u{200D}', '\u{FE0F}', 'ٵ', 'Ａ', 'ﬁ', 'İ', 'é', '😀',
        ]), 0..40)) {
            let s: String = chars.into_iter().collect();
            let fast = Builder::<true>::new(&s).finish();
            let slow = Builder::<false>::new(&s).finish();
            proptest::prop_assert_eq!(fast, slow);
        }
    }

    #[test]
    fn arabic_fast_path_agrees_with_general_classification() {
        for c in '\u{0600}'..='\u{06FF}' {
            assert_eq!(classify(c), classify_general(c), "U+{:04X}", c as u32);
        }
    }

    #[test]
    fn arabic_fold_table_drops_exactly_the_ignorables() {
        for c in '\u{0600}'..='\u{06FF}' {
            assert_eq!(fold_arabic(c).is_none(), is_ignorable(c), "U+{:04X}", c as u32);
            if let Some(d) = digit_value(c) {
                assert_eq!(fold_arabic(c), Some(char::from(b'0' + d)));
            }
        }
    }

    #[test]
    fn caseless_ranges_have_no_case() {
        for c in ('\u{0590}'..='\u{109F}').chain('\u{2E80}'..='\u{A63F}').chain('\u{AC00}'..='\u{D7FF}') {
            assert!(c.to_lowercase().eq(iter::once(c)), "U+{:04X}", c as u32);
        }
    }

    #[test]
    fn digit_table_runs_are_numeric() {
        assert!(DIGIT_ZEROS.is_sorted());
        for &z in DIGIT_ZEROS {
            for v in 0..10 {
                let c = char::from_u32(z + v).expect("digit code point");
                assert!(c.is_numeric(), "U+{:04X}", z + v);
                assert_eq!(digit_value(c), Some(v as u8), "U+{:04X}", z + v);
            }
        }
        assert_eq!(ascii_digit('۷'), Some(b'7'));
        assert_eq!(ascii_digit('७'), Some(b'7'));
        assert_eq!(ascii_digit('7'), Some(b'7'));
        assert_eq!(ascii_digit('a'), None);
        assert_eq!(ascii_digit('²'), None);
        assert_eq!(digit_value('\u{0669}'), Some(9));
    }

    #[test]
    fn expansion_is_bounded_for_every_char() {
        let mut buf = [0u8; 4];
        for c in (0..=0x10FFFF).filter_map(char::from_u32) {
            let s = c.encode_utf8(&mut buf);
            let n = Normalized::new(s);
            assert!(n.len() <= MAX_EXPANSION * s.len(), "U+{:04X}", c as u32);
            assert_eq!(Normalized::new(n.as_str()).as_str(), n.as_str(), "idempotence U+{:04X}", c as u32);
        }
    }
}

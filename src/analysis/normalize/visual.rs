//! Right-to-left overrides: `\u{202E}onisac` is displayed "casino", so the matching text must say "casino".
//!
//! U+202E RIGHT-TO-LEFT OVERRIDE makes every character after it right-to-left until its U+202C POP DIRECTIONAL
//! FORMATTING, the end of an isolate it sits in (U+2069), or the end of the paragraph. A reader of Latin text sees
//! such a run mirrored: its grapheme clusters in reverse order. [`reorder`] writes each overridden run that way, so
//! the normaliser (and every matcher after it) works on what the reader sees. Letters of right-to-left scripts
//! inside a run keep their logical order, since they are read right to left anyway (a run of several such clusters
//! is put back the way it was written).
//!
//! The embedding state follows the Unicode Bidirectional Algorithm's explicit rules (X1–X8) closely enough for
//! this: LRE/RLE/LRO and the isolate initiators push a state without the override, PDF pops an embedding but never
//! an isolate, PDI pops through the innermost open isolate (an unmatched one is ignored), a paragraph separator
//! clears everything. Nested levels inside one override are not modelled: a run is every character under an
//! override, reversed as a whole. Embeddings (RLE) and isolates (RLI) do not reverse left-to-right letters, so they
//! need nothing here.
//!
//! The reordered text has the same length as the original, byte for byte outside the runs, so offsets outside
//! runs are unchanged and a byte inside a run maps to the whole run (see `Normalized::new`).

use std::ops::Range;
use unicode_normalization::char::canonical_combining_class;
use unicode_segmentation::UnicodeSegmentation;

const RLO: char = '\u{202E}';

/// Most nested embeddings and isolates tracked (the bidi algorithm's `max_depth`); deeper pushes are ignored.
const MAX_DEPTH: usize = 125;

/// The original with every right-to-left-overridden run written in display order, and the runs' byte ranges
/// (sorted, disjoint, non-empty, on char boundaries). `None` when nothing is overridden, which costs one `memchr`
/// scan.
pub(super) fn reorder(original: &str) -> Option<(String, Vec<Range<usize>>)> {
    let mut buf = [0u8; 4];
    memchr::memmem::find(original.as_bytes(), RLO.encode_utf8(&mut buf).as_bytes())?;
    let runs = override_runs(original);
    if runs.is_empty() {
        return None;
    }
    let mut text = String::with_capacity(original.len());
    let mut pos = 0;
    for r in &runs {
        text.push_str(original.get(pos..r.start)?);
        push_reversed(original.get(r.clone())?, &mut text);
        pos = r.end;
    }
    text.push_str(original.get(pos..)?);
    Some((text, runs))
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Entry {
    /// An embedding or override; `true` for a right-to-left override.
    Embedding(bool),
    Isolate,
}

/// Byte ranges of the maximal runs of characters displayed under a right-to-left override (formatting characters
/// inside a run that leave the override on belong to it).
fn override_runs(text: &str) -> Vec<Range<usize>> {
    let mut stack: Vec<Entry> = Vec::new();
    // Pushes past `MAX_DEPTH`, so their pops are ignored too.
    let mut overflow = 0usize;
    let mut runs: Vec<Range<usize>> = Vec::new();
    let mut open: Option<Range<usize>> = None;
    for (i, c) in text.char_indices() {
        let push = match c {
            '\u{202A}' | '\u{202B}' | '\u{202D}' => Some(Entry::Embedding(false)),
            RLO => Some(Entry::Embedding(true)),
            '\u{2066}'..='\u{2068}' => Some(Entry::Isolate),
            _ => None,
        };
        if let Some(e) = push {
            if stack.len() < MAX_DEPTH {
                stack.push(e);
            } else {
                overflow += 1;
            }
            continue;
        }
        match c {
            '\u{202C}' => {
                if overflow > 0 {
                    overflow -= 1;
                } else if matches!(stack.last(), Some(Entry::Embedding(_))) {
                    stack.pop();
                }
                continue;
            }
            '\u{2069}' => {
                if let Some(k) = stack.iter().rposition(|e| *e == Entry::Isolate) {
                    stack.truncate(k);
                    overflow = 0;
                }
                continue;
            }
            '\n' | '\r' | '\u{1C}'..='\u{1E}' | '\u{85}' | '\u{2029}' => {
                stack.clear();
                overflow = 0;
            }
            _ => {}
        }
        let end = i + c.len_utf8();
        if stack.last() == Some(&Entry::Embedding(true)) {
            match &mut open {
                Some(r) => r.end = end,
                None => open = Some(i..end),
            }
        } else if let Some(r) = open.take() {
            runs.push(r);
        }
    }
    runs.extend(open);
    runs
}

/// Appends `run` in display order: grapheme clusters reversed, then each stretch of right-to-left letters put back
/// in its written order.
fn push_reversed(run: &str, out: &mut String) {
    let mut clusters: Vec<&str> = run.graphemes(true).rev().collect();
    let mut k = 0;
    while k < clusters.len() {
        let n = clusters[k..].iter().take_while(|g| g.chars().next().is_some_and(rtl_letter)).count();
        clusters[k..k + n].reverse();
        k += n.max(1);
    }
    clusters.iter().for_each(|g| out.push_str(g));
}

/// A letter of a right-to-left script (Hebrew, Arabic, Syriac, Thaana, N'Ko, … and their presentation forms).
/// Combining marks are not letters here even when Unicode calls them alphabetic (harakat): a cluster made only of
/// marks must be treated the same whatever their canonical order.
fn rtl_letter(c: char) -> bool {
    canonical_combining_class(c) == 0
        && matches!(c, '\u{0590}'..='\u{08FF}' | '\u{FB1D}'..='\u{FDFF}' | '\u{FE70}'..='\u{FEFE}' | '\u{10800}'..='\u{10FFF}'
        | '\u{1E800}'..='\u{1EFFF}')
        && c.is_alphabetic()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn shown(s: &str) -> String {
        reorder(s).map_or_else(|| s.to_string(), |(t, _)| t)
    }

    #[test]
    fn overridden_runs_read_as_displayed() {
        let cases = [
            ("play \u{202E}onisac\u{202C} now", "play \u{202E}casino\u{202C} now"),
            // To the end of the line when there is no PDF; the next line is not overridden.
            ("\u{202E}onisac\nok", "\u{202E}casino\nok"),
            // Combining marks stay on their letter; an unmatched PDI does not end the override.
            ("\u{202E}e\u{301}fac", "\u{202E}cafe\u{301}"),
            ("\u{202E}on\u{2069}isac", "\u{202E}casi\u{2069}no"),
            // An isolate opened before the override ends it.
            ("\u{2067}\u{202E}ab\u{2069}cd", "\u{2067}\u{202E}ba\u{2069}cd"),
            // Embeddings inside the override are not overridden (and cut the run in two: levels are not modelled).
            ("\u{202E}ab\u{202B}cd\u{202C}ef", "\u{202E}ba\u{202B}cd\u{202C}fe"),
            // Right-to-left words keep their letters' order.
            ("\u{202E}ab سلام", "\u{202E}سلام ba"),
            ("no override \u{202B}here", "no override \u{202B}here"),
        ];
        for (original, displayed) in cases {
            assert_eq!(shown(original), displayed, "{original:?}");
        }
    }

    #[test]
    fn runs_are_byte_ranges_of_the_overridden_text() {
        let s = "x \u{202E}ab\u{202C} y \u{202E}c";
        let (text, runs) = reorder(s).expect("overridden");
        assert_eq!(text.len(), s.len());
        let parts: Vec<&str> = runs.iter().map(|r| &s[r.clone()]).collect();
        assert_eq!(parts, vec!["ab", "c"]);
    }
}

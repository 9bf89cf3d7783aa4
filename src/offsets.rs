//! Span offsets in the unit the caller asked for (DESIGN §3 `OffsetEncoding`). Findings keep UTF-8 byte ranges into
//! the original body; hosts in JavaScript or Java want UTF-16 code units, Python wants code points.

use std::ops::Range;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum OffsetUnit {
    #[default]
    Utf8,
    Utf16,
    CodePoint,
}

impl OffsetUnit {
    /// Parses the `check --offsets` flag.
    pub fn parse(s: &str) -> Option<OffsetUnit> {
        match s {
            "utf8" => Some(OffsetUnit::Utf8),
            "utf16" => Some(OffsetUnit::Utf16),
            "code-point" => Some(OffsetUnit::CodePoint),
            _ => None,
        }
    }
}

/// Converts byte ranges of `text` to `unit`, in one pass over the text however many spans there are. An offset past
/// the end maps to the end; one inside a character maps to the next character (neither occurs for findings, which
/// keep char boundaries, but a wrong offset must not panic).
pub fn convert(text: &str, spans: &[Range<usize>], unit: OffsetUnit) -> Vec<(u32, u32)> {
    let clamp = |v: usize| u32::try_from(v).unwrap_or(u32::MAX);
    if unit == OffsetUnit::Utf8 {
        return spans.iter().map(|r| (clamp(r.start.min(text.len())), clamp(r.end.min(text.len())))).collect();
    }
    let mut wanted: Vec<usize> = spans.iter().flat_map(|r| [r.start, r.end]).collect();
    wanted.sort_unstable();
    wanted.dedup();
    let mut mapped = Vec::with_capacity(wanted.len());
    let mut units = 0usize;
    let mut next = wanted.iter().peekable();
    for (byte, c) in text.char_indices() {
        while let Some(&&w) = next.peek() {
            if w > byte {
                break;
            }
            mapped.push((w, units));
            next.next();
        }
        units += match unit {
            OffsetUnit::Utf16 => c.len_utf16(),
            _ => 1,
        };
    }
    for &w in next {
        mapped.push((w, units));
    }
    let lookup = |v: usize| mapped.binary_search_by_key(&v, |(b, _)| *b).map(|i| mapped[i].1).unwrap_or(0);
    spans.iter().map(|r| (clamp(lookup(r.start)), clamp(lookup(r.end)))).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn three_encodings() {
        let text = "a😀 é ٣x";
        let x = text.find('x').expect("x");
        let spans = [0..1, 1..5, x..x + 1];
        assert_eq!(convert(text, &spans, OffsetUnit::Utf8), vec![(0, 1), (1, 5), (x as u32, x as u32 + 1)]);
        assert_eq!(convert(text, &spans, OffsetUnit::Utf16), vec![(0, 1), (1, 3), (7, 8)]);
        assert_eq!(convert(text, &spans, OffsetUnit::CodePoint), vec![(0, 1), (1, 2), (6, 7)]);
    }

    #[test]
    fn end_of_text_and_out_of_range_do_not_panic() {
        let text = "ab";
        assert_eq!(convert(text, &[0..2, 5..9], OffsetUnit::CodePoint), vec![(0, 2), (2, 2)]);
        assert_eq!(convert(text, &[Range { start: 5, end: 9 }], OffsetUnit::Utf8), vec![(2, 2)]);
    }
}

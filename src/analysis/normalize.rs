//! PLACEHOLDER being replaced by the full normaliser (NFKC, folding, offset map). API is fixed; see mod docs.

use std::ops::Range;

/// Text prepared for matching, with a map back to the original body's byte offsets.
#[derive(Debug, Clone)]
pub struct Normalized {
    text: String,
    /// `origin[i]` = (start, end) byte range in the original of the char that produced normalised byte `i`.
    origin: Vec<(u32, u32)>,
}

impl Normalized {
    pub fn new(original: &str) -> Normalized {
        let mut text = String::with_capacity(original.len());
        let mut origin = Vec::with_capacity(original.len());
        for (i, c) in original.char_indices() {
            let end = (i + c.len_utf8()) as u32;
            for l in c.to_lowercase() {
                text.push(l);
                for _ in 0..l.len_utf8() {
                    origin.push((i as u32, end));
                }
            }
        }
        Normalized { text, origin }
    }

    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// The smallest original byte range covering every original char that produced `range` of the normalised text.
    pub fn original_range(&self, range: Range<usize>) -> Range<usize> {
        if range.start >= range.end || range.end > self.origin.len() {
            return 0..0;
        }
        self.origin[range.start].0 as usize..self.origin[range.end - 1].1 as usize
    }
}

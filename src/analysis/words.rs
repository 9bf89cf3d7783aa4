//! Site word lists (`policy.blocked_word`, `policy.suspect_word`) matched whole-word with Aho-Corasick over the
//! normalised text, so "Ｃａｓｉｎｏ", "CASINO" and "cas\u{200B}ino" all match "casino" while "specialist" does not
//! match "cialis" (the Scunthorpe problem).

use super::normalize::Normalized;
use aho_corasick::{AhoCorasick, MatchKind};
use std::ops::Range;

/// A compiled word list. Entries are normalised the same way as bodies, so they match what readers type in any
/// script variant.
#[derive(Debug, Clone)]
pub struct WordList {
    matcher: Option<AhoCorasick>,
}

impl WordList {
    /// Compiles `words`; blank entries are skipped (config validation refuses them anyway).
    pub fn new<S: AsRef<str>>(words: &[S]) -> WordList {
        let patterns: Vec<String> = words
            .iter()
            .map(|w| Normalized::new(w.as_ref().trim()).as_str().to_string())
            .filter(|w| !w.trim().is_empty())
            .collect();
        // Standard semantics + overlapping search: a whole-word match must not hide behind a longer non-word match
        // ("cialisx cialis" must still find the second).
        let matcher = if patterns.is_empty() {
            None
        } else {
            AhoCorasick::builder().match_kind(MatchKind::Standard).build(&patterns).ok()
        };
        WordList { matcher }
    }

    pub fn is_empty(&self) -> bool {
        self.matcher.is_none()
    }

    /// Byte ranges in the NORMALISED text of every whole-word occurrence.
    pub fn find(&self, text: &str) -> Vec<Range<usize>> {
        let Some(ac) = &self.matcher else {
            return Vec::new();
        };
        let mut hits: Vec<Range<usize>> = ac
            .find_overlapping_iter(text)
            .filter(|m| is_whole_word(text, m.start(), m.end()))
            .map(|m| m.start()..m.end())
            .collect();
        hits.sort_by_key(|r| (r.start, r.end));
        hits.dedup();
        hits
    }
}

/// A match is a whole word when the characters on both sides (if any) are not letters, digits or combining marks.
/// Urdu and Arabic letters are alphabetic, so the rule works across scripts.
fn is_whole_word(text: &str, start: usize, end: usize) -> bool {
    let before = text[..start].chars().next_back();
    let after = text[end..].chars().next();
    let first = text[start..end].chars().next();
    let last = text[start..end].chars().next_back();
    // Only enforce a boundary where the pattern itself starts/ends with a word character ("$$$" may touch letters).
    let bounded = |edge: Option<char>, outside: Option<char>| match (edge, outside) {
        (Some(e), Some(o)) if is_word_char(e) => !is_word_char(o),
        _ => true,
    };
    bounded(first, before) && bounded(last, after)
}

fn is_word_char(c: char) -> bool {
    c.is_alphanumeric() || c == '_' || is_combining(c)
}

fn is_combining(c: char) -> bool {
    unicode_normalization::char::canonical_combining_class(c) != 0
}

#[cfg(test)]
mod tests {
    use super::*;

    fn matches(words: &[&str], body: &str) -> Vec<String> {
        let list = WordList::new(words);
        let norm = Normalized::new(body);
        list.find(norm.as_str()).into_iter().map(|r| body[norm.original_range(r)].to_string()).collect()
    }

    #[test]
    fn whole_words_only() {
        assert_eq!(matches(&["cialis"], "a specialist in cialis"), vec!["cialis"]);
        assert!(matches(&["ass"], "a classic assessment").is_empty());
        assert_eq!(matches(&["cialis"], "cialisx cialis"), vec!["cialis"]);
    }

    #[test]
    fn case_and_width_insensitive() {
        assert_eq!(matches(&["casino"], "Best CASINO here"), vec!["CASINO"]);
        assert_eq!(matches(&["Casino"], "best ｃａｓｉｎｏ"), vec!["ｃａｓｉｎｏ"]);
    }

    #[test]
    fn multi_word_phrases_and_urdu() {
        assert_eq!(matches(&["online earning"], "Join online earning now"), vec!["online earning"]);
        assert_eq!(matches(&["جوا"], "یہ جوا ہے"), vec!["جوا"]);
        assert!(matches(&["جوا"], "جواب دو").is_empty(), "جوا inside جواب is not a whole word");
    }

    #[test]
    fn empty_list_matches_nothing() {
        assert!(WordList::new::<&str>(&[]).is_empty());
        assert!(matches(&["  "], "anything").is_empty());
    }
}

//! Roman Urdu/Hindi patterns matched by spelling key ([`roman_key`]), word by word.
//!
//! Roman Urdu has no standard spelling, so the abusive Roman patterns are also matched by the spelling key of each of
//! their words: one keyed pattern covers `kuttay`/`kutte`/`kuttey`/`kuty`, `bewaqoof`/`bevakuf`.
//!
//! # Why by hand
//!
//! A keyed pattern is a sequence of keyed words, and a match must be whole words. Searched as bytes, it needed a
//! keyed copy of every Roman comment and an Aho-Corasick automaton over some 31 thousand keys: as a contiguous NFA an
//! eighth of a Roman Urdu scan went into following its failure links, and as a DFA (a quarter faster in all) it took
//! 39 MB. Matched word by word it is one hash look-up per word of the comment and a walk of a few steps from each
//! word that can start a pattern — and whole words by construction, where the byte search found matches inside words
//! and then refused them.
//!
//! # Matching
//!
//! Leftmost-longest over the words: at each word the longest pattern starting there, then on after it (the plain
//! automaton has found the words nested in it). Punctuation between two words (a comma, a full stop) is a cut that a
//! pattern spans only where its own text has punctuation.

use super::super::fold::is_word;
use super::FastHash;
use std::collections::HashMap;
use std::ops::Range;

/// How a cut between two words is written in a keyed text ([`key_text`]) and stands as a word in a pattern.
const CUT: &str = "|";

/// The spelling key of one Roman Urdu/Hindi word (ASCII lower-case letters; anything else is copied as it is),
/// appended to `out`. Roman Urdu writes one sound many ways, so the key folds what varies:
///
/// * long vowels: `aa` → `a`, `ee` → `i`, `oo` → `u`; the diphthongs `ai`, `ei`, `ay`, `ey` → `e`; a word-final `y`
///   after a consonant → `e` (`kutty` = `kutte`), a word-final `h` after a vowel is dropped (`dallah` = `dalla`);
/// * aspiration after `k g p b d t j` (`kh` → `k`, `bh` → `b`, `th` → `t`; `ph` → `f`) and `chh` → `ch` (writers
///   drop it anyway: `chorenge` for `chhorenge`); `ch` and `sh` are sounds of their own and stay;
/// * `q` → `k`, `w` → `v`; doubled letters → one (`pattha` = `patha` = `pata`).
///
/// So `kuttay`/`kutte`/`kuttey`/`kuty` all key to `kute`, `bewaqoof`/`bevakuf` to `bevakuf`, `maarenge`/
/// `marainge` to `marenge`/`marenge`. Letters `z`/`j` stay apart (`zaleel` is an insult, `Jaleel` a name).
pub fn roman_key(word: &str, out: &mut Vec<u8>) {
    let b = word.as_bytes();
    if !b.iter().all(u8::is_ascii_lowercase) {
        out.extend_from_slice(b);
        return;
    }
    let vowel = |x: u8| matches!(x, b'a' | b'e' | b'i' | b'o' | b'u');
    let start = out.len();
    let mut i = 0;
    while i < b.len() {
        let c = b[i];
        let next = b.get(i + 1).copied();
        let mapped: u8 = match (c, next) {
            (b'a', Some(b'a')) | (b'e', Some(b'e')) | (b'o', Some(b'o')) | (b'i', Some(b'i')) | (b'u', Some(b'u')) => {
                i += 1;
                match c {
                    b'e' => b'i',
                    b'o' => b'u',
                    x => x,
                }
            }
            (b'a' | b'e', Some(b'i' | b'y'))
                if !(c == b'a' && next == Some(b'y') && b.get(i + 2).is_some_and(|&x| vowel(x))) =>
            {
                i += 1;
                b'e'
            }
            (b'k' | b'g' | b'p' | b'b' | b'd' | b't' | b'j', Some(b'h')) => {
                i += 1;
                if c == b'p' { b'f' } else { c }
            }
            (b'c', Some(b'h')) if b.get(i + 2) == Some(&b'h') => {
                // "chh" → "ch"
                out.push(b'c');
                i += 2;
                b'h'
            }
            (b'q', _) => b'k',
            (b'w', _) => b'v',
            (b'y', None) if i > 0 && !vowel(b[i - 1]) => b'e',
            (b'h', None) if i > 0 && vowel(b[i - 1]) && b.len() > 2 => {
                i += 1;
                continue;
            }
            (x, _) => x,
        };
        // Doubled letters → one.
        if out.len() > start && out.last() == Some(&mapped) {
            i += 1;
            continue;
        }
        out.push(mapped);
        i += 1;
    }
}

/// Calls `word(range, cut_before)` for each word of `text` (a maximal run of [`is_word`] characters) with whether
/// punctuation — a character that is neither a word character nor white space — stands between it and the word
/// before.
///
/// Runs on every Roman Urdu/Hindi comment, so it walks bytes and decodes a character only where one is not ASCII.
fn for_each_word(text: &str, mut word: impl FnMut(Range<usize>, bool)) {
    let b = text.as_bytes();
    let mut start: Option<usize> = None;
    let mut cut = false;
    let mut i = 0;
    while i < b.len() {
        let (is_word_char, space, len) = match b[i] {
            x if x.is_ascii() => (x.is_ascii_alphanumeric() || x == b'*', x.is_ascii_whitespace(), 1),
            _ => match text.get(i..).and_then(|t| t.chars().next()) {
                Some(c) => (is_word(c), c.is_whitespace(), c.len_utf8()),
                None => break,
            },
        };
        match (is_word_char, start) {
            (true, None) => start = Some(i),
            (false, Some(s)) => {
                word(s..i, cut);
                start = None;
                cut = !space;
            }
            (false, None) => cut |= !space,
            _ => {}
        }
        i += len;
    }
    if let Some(s) = start {
        word(s..text.len(), cut);
    }
}

/// The keyed text of `text`: each word through [`roman_key`], words joined by one space, or by ` | ` where
/// punctuation stood between them. What a pattern is keyed as, and how it reads in tests.
pub fn key_text(text: &str) -> String {
    let mut out = Vec::with_capacity(text.len() + 8);
    for_each_word(text, |r, cut| {
        if !out.is_empty() {
            out.extend_from_slice(if cut { b" | " } else { b" " });
        }
        roman_key(&text[r], &mut out);
    });
    // Only whole words of `text` (valid UTF-8), ASCII keys and separators were written.
    String::from_utf8(out).unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned())
}

/// The keyed patterns as a trie over word ids.
#[derive(Debug, Default)]
pub struct Keyed {
    /// Each keyed word of a pattern (the cut included), by id.
    words: HashMap<Box<[u8]>, u32, FastHash>,
    /// The trie: (state, word id) → state; state 0 is the root.
    next: HashMap<(u32, u32), u32, FastHash>,
    /// Per state, the pattern ending there.
    ends: Vec<Option<u32>>,
    patterns: usize,
}

impl Keyed {
    /// Adds the pattern whose keyed text ([`key_text`]) is `key`; returns its index, an earlier one if the same key
    /// was added before (indices count up from 0 in the order of first insertion).
    pub fn insert(&mut self, key: &str) -> usize {
        if self.ends.is_empty() {
            self.ends.push(None);
        }
        let mut state = 0u32;
        for w in key.split(' ').filter(|w| !w.is_empty()) {
            let fresh = self.words.len() as u32;
            let id = *self.words.entry(w.as_bytes().into()).or_insert(fresh);
            let fresh = self.ends.len() as u32;
            state = *self.next.entry((state, id)).or_insert(fresh);
            if state == fresh {
                self.ends.push(None);
            }
        }
        let end = &mut self.ends[state as usize];
        let index = *end.get_or_insert(self.patterns as u32) as usize;
        if index == self.patterns {
            self.patterns += 1;
        }
        index
    }

    /// Number of distinct patterns.
    pub fn len(&self) -> usize {
        self.patterns
    }

    /// Whether no pattern was added.
    pub fn is_empty(&self) -> bool {
        self.patterns == 0
    }

    /// Approximate heap bytes held (a test bounds it).
    pub fn memory_usage(&self) -> usize {
        let words: usize = self.words.keys().map(|k| k.len() + 24).sum();
        words + self.next.capacity() * 16 + self.ends.capacity() * 8
    }

    /// Calls `found(range, pattern)` for each match in `text`, leftmost-longest over its words (see the module
    /// docs): `range` is the bytes of `text` from the first word's start to the last word's end.
    pub fn find(&self, text: &str, mut found: impl FnMut(Range<usize>, usize)) {
        if self.patterns == 0 {
            return;
        }
        let cut = self.words.get(CUT.as_bytes()).copied();
        // The comment as word ids (`None`: a word no pattern has), a cut standing as a word of its own.
        let mut toks: Vec<(Option<u32>, Range<usize>)> = Vec::with_capacity(text.len() / 4);
        let mut key = Vec::with_capacity(32);
        for_each_word(text, |r, cut_before| {
            if cut_before && !toks.is_empty() {
                toks.push((cut, r.start..r.start));
            }
            key.clear();
            roman_key(&text[r.clone()], &mut key);
            toks.push((self.words.get(&key[..]).copied(), r));
        });
        let mut i = 0;
        while i < toks.len() {
            let mut state = 0u32;
            let mut longest = None;
            for (j, (id, _)) in toks.iter().enumerate().skip(i) {
                let Some(&next) = id.and_then(|id| self.next.get(&(state, id))) else { break };
                state = next;
                if let Some(p) = self.ends[state as usize] {
                    longest = Some((j, p));
                }
            }
            match longest {
                Some((j, p)) => {
                    found(toks[i].1.start..toks[j].1.end, p as usize);
                    i = j + 1;
                }
                None => i += 1,
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(w: &str) -> String {
        let mut s = Vec::new();
        roman_key(w, &mut s);
        String::from_utf8(s).expect("keys of a str are UTF-8")
    }

    #[test]
    fn roman_spelling_keys_join_variants_and_keep_sounds_apart() {
        for same in [
            ["kuttay", "kutte", "kuttey"],
            ["bewaqoof", "bevakoof", "bewakuf"],
            ["pathay", "patthe", "pattay"],
            ["maarenge", "marainge", "maarengay"],
            ["khota", "kota", "khotta"],
            ["chhorenge", "chorenge", "chhorengay"],
        ] {
            assert_eq!(key(same[0]), key(same[1]), "{same:?}");
            assert_eq!(key(same[0]), key(same[2]), "{same:?}");
        }
        assert_eq!(key("kutty"), key("kutte"));
        assert_ne!(key("zaleel"), key("jaleel"));
        assert_ne!(key("gaya"), key("ge"));
        assert_eq!(key("تم"), "تم");
        assert_eq!(key_text("tum kuttay ho, saale"), "tum kute ho | sale");
    }

    fn matches(keyed: &Keyed, text: &str) -> Vec<(String, usize)> {
        let mut out = Vec::new();
        keyed.find(text, |r, p| out.push((text[r].to_string(), p)));
        out
    }

    #[test]
    fn finds_whole_words_leftmost_longest_and_never_across_a_cut() {
        let mut keyed = Keyed::default();
        let kutta = keyed.insert(&key_text("kutta"));
        let kutte_ki = keyed.insert(&key_text("kutte ki aulad"));
        let ullu = keyed.insert(&key_text("ullu ke pathay"));
        let saale_bc = keyed.insert(&key_text("saale, bc"));
        let kutte = keyed.insert(&key_text("kutte"));
        assert_eq!(keyed.insert(&key_text("kuttaa")), kutta, "same key, same pattern");
        assert_eq!(keyed.len(), 5);
        assert_eq!(matches(&keyed, "tu kuttay ki aulaad hai"), [("kuttay ki aulaad".to_string(), kutte_ki)]);
        assert_eq!(matches(&keyed, "kutaa! ulu ke patthe"), [("kutaa".into(), kutta), ("ulu ke patthe".into(), ullu)]);
        assert_eq!(matches(&keyed, "ullu ke, pathay"), [], "a cut the pattern does not have");
        assert_eq!(matches(&keyed, "saale. bc"), [("saale. bc".to_string(), saale_bc)]);
        assert_eq!(matches(&keyed, "saale bc"), [], "the pattern's cut is missing");
        assert_eq!(matches(&keyed, "kuttaywala kutt"), [], "only whole words");
        assert_eq!(matches(&keyed, "kutte ki"), [("kutte".to_string(), kutte)], "the longest that is complete");
    }
}

//! The abuse lexicons: data files in `lexicon/` (English, Roman Urdu, Urdu script, Hindi), compiled once into one
//! Aho-Corasick automaton over the folded text ([`super::fold`]), a table of short words, and the Roman patterns by
//! spelling key, matched word by word ([`keyed`]).
//!
//! # Format
//!
//! Each file is TOML: a `[meta]` table (language, source, licence) and `[[group]]` tables, each with a `role`, a
//! `severity` (1 mild, 2 clear, 3 severe), optional `also` (more roles for the same terms, e.g. an insult that is
//! also profanity), an optional `gate = "roman"` (the term counts only in a comment written in Roman Urdu/Hindi:
//! `bc` is "because" in English texting), an optional `trade = true` (persons named only by a trade or role —
//! "bowler", "neta", "drama wale" — the target of an insult but not the victim of a violent word) and `terms`. A
//! term may hold alternatives, `{a|b}`, and optional groups, `{x}?`, expanded when the automaton is built — Roman
//! Urdu has no standard spelling (`ullu ke {pathay|pattha|patthe}`).
//!
//! # Roles
//!
//! Content roles carry abuse on their own or with structure: `threat` (a complete threat: "wajib ul qatl", "we know
//! where you live"), `menace` (a veiled menace that threatens only with personal details around it: "we will visit
//! soon", "soch lo"), `violence` (a violent act: "kill", "goli maar"), `harm_call` (a call for harm: "should be
//! hanged", "maar do"), `slur` (an identity slur), `dehumanize` ("animals", "vermin", "keeray"), `insult`,
//! `sexual`, `profanity`. The other roles are what structure is built from: targets (`second`, `second_poss`,
//! `person`, `group`, `object`, `vocative`), `detail` (someone's address, car, office hours, children's school), `intent` ("I will", "-unga"), `general` ("all", "sab"), `filler`
//! (words that may stand between a target and a predicate: "are", "a", "ho", "hai"), `family` ("maa", "mother"),
//! and context: `negation`, `mention` (reporting, quoting or condemning: "he said", "is wrong", "dhamki di"),
//! `news` ("police", "attacker"), `idiom` (a phrase whose violent or insulting word is harmless: "killed it",
//! "kutte ki tarah"), `fond` (affection between friends: "love you bro", "miss you yaar") and `roman` (Roman
//! Urdu/Hindi function words, for the gate).
//!
//! Urdu and Hindi nouns of abuse need not list their plurals: one-word insults, slurs, sexual slurs and dehumanising
//! nouns in Urdu or Devanagari script also match with their plural and oblique endings (`inflections`).
//!
//! Three more content roles are the open *fields* of the constructions of [`super::structure`] rather than words that
//! abuse on their own: `harm` (the field of injury, death and its aftermath: a grave, a funeral, a bullet, acid,
//! petrol, a wheelchair, "won't walk again", a body part with a breaking or cutting verb) threatens only with a
//! target and a marker — `intent`, `condition` ("if", "agar", "warna", "next time", "one more", "keep … and") or
//! `wish` ("I hope", "pray", "khuda kare", "should", "deserves"); `body` (body parts, clothes, looks) and `invite`
//! (a number, pictures, a night, a bed, "alone") are sexual only with an `allure` word (an evaluation or an
//! endearment that sexualises: "tight", "hot", "juicy", "darling", "nazar", "maza aa gaya") and a person.
//!
//! The lists describe constructions by their parts rather than by whole sentences, so that a new wording of a known
//! construction still matches: a violent verb stem with each light verb and ending (`{phaar|kaat|tor} {dunga|denge}`,
//! `{پھاڑ|کاٹ} {دوں گا|دیں گے}`), the reader's or a third person's body part or belonging as an `object` (`tera sar`,
//! `تیری گردن`, `your skull`), rude commands as `vocative`s (`chup kar`, `بکواس بند کرو`). Lexicon growth tuned on one
//! set of comments did not carry over to a set written separately (tests/fixtures/abuse/README.md).
//!
//! Invariant: every term compiles to a non-empty pattern; matching is whole-word in the folded text.

pub mod keyed;

pub use keyed::{Keyed, key_text, roman_key};

use super::fold::{Folded, is_word};
use crate::analysis::normalize::Normalized;
use crate::analysis::patterns::expand;
use aho_corasick::{AhoCorasick, AhoCorasickKind, MatchKind};
use serde::Deserialize;
use std::collections::HashMap;
use std::sync::LazyLock;

/// The hasher of the tables looked up per word of a comment: keys are short and trusted (built from the shipped
/// lexicons; a comment's words are only looked up), so a fast non-cryptographic hash is enough.
type FastHash = foldhash::fast::RandomState;

/// The lexicon files, in the order they are compiled.
pub const FILES: &[(&str, &str)] = &[
    ("en.toml", include_str!("lexicon/en.toml")),
    ("ur_latn.toml", include_str!("lexicon/ur_latn.toml")),
    ("ur.toml", include_str!("lexicon/ur.toml")),
    ("hi.toml", include_str!("lexicon/hi.toml")),
];

/// What a term does in a comment. See the module docs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    Threat,
    Violence,
    HarmCall,
    Slur,
    Dehumanize,
    Insult,
    Sexual,
    Profanity,
    Second,
    SecondPoss,
    Person,
    Group,
    Object,
    Vocative,
    Intent,
    General,
    Filler,
    Family,
    Negation,
    Mention,
    News,
    Idiom,
    Roman,
    Menace,
    Detail,
    Harm,
    Condition,
    Wish,
    Body,
    Invite,
    Allure,
    /// An accusation of conduct ("liar", "jhoota"), overlaying the insult entry of the same word: an insult only when
    /// aimed at the reader or used as a form of address (see `structure.rs` `insult`).
    Accusation,
    /// A token of affection between friends ("love you bro", "miss you yaar"): a mild insult aimed at the
    /// reader in such a comment is banter (see `structure.rs` `insult`).
    Fond,
}

impl Role {
    /// Number of roles (the last variant's index + 1); at most 64, the width of a role mask.
    pub const COUNT: usize = Role::Fond as usize + 1;

    /// The role's bit in a token's role mask.
    pub const fn bit(self) -> u64 {
        1 << self as u64
    }

    /// Roles that carry abuse (the others only give it structure or context).
    pub const fn is_content(self) -> bool {
        matches!(
            self,
            Role::Threat
                | Role::Menace
                | Role::Violence
                | Role::HarmCall
                | Role::Slur
                | Role::Dehumanize
                | Role::Insult
                | Role::Sexual
                | Role::Profanity
                | Role::Harm
                | Role::Body
                | Role::Invite
        )
    }
}

/// One meaning of a pattern.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Entry {
    pub role: Role,
    /// 1 (mild) to 3 (severe).
    pub severity: u8,
    /// Counts only when the comment reads as Roman Urdu/Hindi.
    pub gated: bool,
    /// A person named only by trade or role ("bowler", "neta", "drama wale"): the target of an insult, never the
    /// victim that makes a violent word a threat ("kill the boss", "bowler ko maar diya" are games and sport).
    pub trade: bool,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct File {
    meta: Meta,
    group: Vec<Group>,
}

/// What a lexicon file says about itself.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Meta {
    pub language: String,
    pub source: String,
    pub licence: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Group {
    role: Role,
    severity: u8,
    #[serde(default)]
    also: Vec<Role>,
    #[serde(default)]
    gate: Option<String>,
    /// Persons named by trade or role (see [`Entry::trade`]).
    #[serde(default)]
    trade: bool,
    terms: Vec<String>,
}

/// The compiled lexicons.
pub struct Lexicon {
    /// The patterns longer than [`SHORT_CHARS`] or of more than one word (ids in `matcher_ids`).
    pub matcher: Option<AhoCorasick>,
    /// Id in [`Lexicon::entries`] of each pattern of `matcher`.
    pub matcher_ids: Vec<usize>,
    /// The one-word ASCII patterns of at most [`SHORT_CHARS`] characters (`tu`, `ka`, `bc`), looked up word by word
    /// ([`Lexicon::short_words`]) instead of searched for: in the automaton they matched inside nearly every longer
    /// word (some 200 matches per Roman Urdu comment, each then refused as not whole). Urdu script stays in the
    /// automaton, where it is cheaper (its short words are most words).
    pub short: HashMap<String, usize, FastHash>,
    /// Meanings of each pattern, by pattern id; the spelling-key patterns of [`Lexicon::keyed`] follow the plain
    /// ones (their ids are offset by [`Lexicon::keyed_base`]).
    pub entries: Vec<Vec<Entry>>,
    /// The Roman Urdu/Hindi patterns by their spelling key ([`roman_key`]), matched word by word in a comment that
    /// reads as Roman Urdu/Hindi: one entry covers `kuttay`/`kutte`/`kuttey`/`kuty`, `bewaqoof`/`bevakuf`,
    /// `maarenge`/`marainge`. Roman Urdu has no standard spelling; listing every variant cannot keep up.
    pub keyed: Keyed,
    /// Id in [`Lexicon::entries`] of the keyed pattern 0.
    pub keyed_base: usize,
    /// The one-word patterns of content roles, by length in chars, for masked words (`ch**t`, `bh*nch*d`).
    pub words: HashMap<usize, Vec<(String, usize)>>,
    /// Each file's name and header, in compile order.
    pub files: Vec<(String, Meta)>,
    /// Problems met while compiling (a file that does not parse, a term that folds to nothing); tests assert it is
    /// empty, analysis goes on with what compiled.
    pub problems: Vec<String>,
}

static LEXICON: LazyLock<Lexicon> = LazyLock::new(|| build(FILES));

/// The shipped lexicons, compiled on first use.
pub fn get() -> &'static Lexicon {
    &LEXICON
}

/// The folded form of a term: normalised and folded exactly as comments are, spaces collapsed. A contraction
/// written apart in a term (`{we|i} {will|ll}` gives `we ll`) is joined the way folding joins `we'll` (`well`).
pub fn fold_term(term: &str) -> String {
    let norm = Normalized::new(term.trim());
    let folded = Folded::new(norm.as_str());
    let mut out = String::with_capacity(folded.as_str().len());
    for word in folded.as_str().split_whitespace() {
        if !out.is_empty() && !matches!(word, "ll" | "re" | "ve" | "m" | "d") {
            out.push(' ');
        }
        out.push_str(word);
    }
    out
}

/// The plural forms of a one-word Urdu or Hindi noun of abuse, which the lists need not spell out: the feminine "-ی"/"-ी"
/// takes "-یاں"/"-ियाँ" and the oblique "-یوں"/"-ियों" (رنڈی → رنڈیاں, रंडी → रंडियाँ), the masculine "-ا"/"-ہ"/"-ा"/"-आ"
/// takes "-ے"/"-े"/"-ए" and "-وں"/"-ों"/"-ओं" (کتا → کتے, कटुआ → कटुए). Only for the roles that name someone
/// (insults, slurs, sexual slurs, dehumanising nouns) and stems of two letters or more: verbs and short words inflect
/// otherwise.
fn inflections(language: &str, role: Role, term: &str) -> Vec<String> {
    if !matches!(role, Role::Insult | Role::Slur | Role::Sexual | Role::Dehumanize)
        || term.contains(char::is_whitespace)
    {
        return Vec::new();
    }
    let Some(last) = term.chars().last() else { return Vec::new() };
    let stem = &term[..term.len() - last.len_utf8()];
    if stem.chars().count() < 2 {
        return Vec::new();
    }
    let endings: &[&str] = match (language, last) {
        ("ur", 'ی' | 'ي') => &["یاں", "یوں"],
        ("ur", 'ا' | 'ہ') => &["ے", "وں"],
        ("hi", 'ी') => &["ियाँ", "ियां", "ियों"],
        ("hi", 'ा') => &["े", "ों"],
        ("hi", 'आ') => &["ए", "ओं"],
        _ => &[],
    };
    endings.iter().map(|e| format!("{stem}{e}")).collect()
}

/// Compiles `files` (name, TOML text).
pub fn build(files: &[(&str, &str)]) -> Lexicon {
    let mut ids: HashMap<String, usize> = HashMap::new();
    let mut patterns: Vec<String> = Vec::new();
    let mut entries: Vec<Vec<Entry>> = Vec::new();
    let mut problems = Vec::new();
    let mut metas = Vec::new();
    // Patterns listed in a Roman Urdu/Hindi file (their meanings also get a spelling key).
    let mut roman_ids: Vec<usize> = Vec::new();
    for (name, text) in files {
        let file: File = match toml::from_str(text) {
            Ok(f) => f,
            Err(e) => {
                problems.push(format!("{name}: {e}"));
                continue;
            }
        };
        metas.push((name.to_string(), file.meta.clone()));
        let roman_file = file.meta.language.ends_with("-Latn");
        for g in &file.group {
            if !(1..=3).contains(&g.severity) {
                problems.push(format!("{name}: severity {} of a {:?} group is not 1..=3", g.severity, g.role));
            }
            let gated = match g.gate.as_deref() {
                None => false,
                Some("roman") => true,
                Some(other) => {
                    problems.push(format!("{name}: unknown gate {other:?}"));
                    false
                }
            };
            for spec in &g.terms {
                for term in expand(spec) {
                    let p = fold_term(&term);
                    if p.is_empty() || !p.chars().next().is_some_and(is_word) {
                        problems.push(format!("{name}: term {term:?} folds to {p:?}"));
                        continue;
                    }
                    // Elongation keeps two of a consonant ("killll" = "kill"), so "fuckkk" reads "fuckk": abusive
                    // words ending in one consonant also match with it doubled.
                    let doubled = match p.as_bytes() {
                        [.., a, b]
                            if g.role.is_content() && b.is_ascii_alphabetic() && !b"aeiou".contains(b) && a != b =>
                        {
                            Some(format!("{p}{}", char::from(*b)))
                        }
                        _ => None,
                    };
                    let inflected = inflections(&file.meta.language, g.role, &term).into_iter().map(|t| fold_term(&t));
                    for p in std::iter::once(p).chain(doubled).chain(inflected) {
                        let id = *ids.entry(p.clone()).or_insert_with(|| {
                            patterns.push(p);
                            entries.push(Vec::new());
                            entries.len() - 1
                        });
                        if roman_file {
                            roman_ids.push(id);
                        }
                        for role in std::iter::once(g.role).chain(g.also.iter().copied()) {
                            let e = Entry { role, severity: g.severity.clamp(1, 3), gated, trade: g.trade };
                            let list = &mut entries[id];
                            match list.iter_mut().find(|x| x.role == role) {
                                // Listed twice (two files, two spellings): the stronger meaning wins.
                                Some(x) => {
                                    x.severity = x.severity.max(e.severity);
                                    x.gated &= e.gated;
                                    // A word that also names a person outright ("anchor") is no mere trade.
                                    x.trade &= e.trade;
                                }
                                None => list.push(e),
                            }
                        }
                    }
                }
            }
        }
    }
    let mut short = HashMap::default();
    let (mut long, mut matcher_ids) = (Vec::new(), Vec::new());
    for (id, p) in patterns.iter().enumerate() {
        if p.len() <= SHORT_CHARS && p.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'*') {
            short.insert(p.clone(), id);
        } else {
            long.push(p.as_str());
            matcher_ids.push(id);
        }
    }
    // A contiguous NFA: nearly as fast as a DFA on short comments, at a few MiB instead of hundreds (the patterns
    // are many and multilingual, so a DFA's byte classes are large); a test bounds the memory.
    let matcher = automaton(&long, &mut problems);
    let mut words: HashMap<usize, Vec<(String, usize)>> = HashMap::new();
    for (id, p) in patterns.iter().enumerate() {
        if p.chars().all(|c| c != '*' && is_word(c)) && has_content(&entries[id]) {
            words.entry(p.chars().count()).or_default().push((p.clone(), id));
        }
    }
    // The spelling keys of the Roman patterns: one keyed pattern per key, with the union of the meanings of every
    // pattern that keys to it; gated, since only a Roman Urdu/Hindi comment is keyed.
    roman_ids.sort_unstable();
    roman_ids.dedup();
    let keyed_base = entries.len();
    let mut keyed = Keyed::default();
    for &id in &roman_ids {
        // Only abusive patterns are keyed: targets, fillers and function words are a closed, listed class, and
        // keying them would only repeat the plain matches, at a cost on every Roman comment.
        if !has_content(&entries[id]) {
            continue;
        }
        let key = key_text(&patterns[id]);
        // Keys are coarser than spellings, so they collide more: an abusive word whose key is a short single word
        // (`dalla` pimp keys like `dala` put, `saalon` like English `salon`) is matched only as listed, and an idiom
        // (which takes every other meaning of its words away) too (`maar khai` got beaten, not `maar ke`).
        if key.is_empty() || (!key.contains(' ') && key.len() < 6) {
            continue;
        }
        let kid = keyed_base + keyed.insert(&key);
        if kid == entries.len() {
            entries.push(Vec::new());
        }
        let meanings: Vec<Entry> = entries[id].iter().filter(|e| e.role != Role::Idiom).copied().collect();
        for e in meanings {
            let list = &mut entries[kid];
            match list.iter_mut().find(|x| x.role == e.role) {
                Some(x) => x.severity = x.severity.max(e.severity),
                None => list.push(Entry { gated: true, ..e }),
            }
        }
    }
    Lexicon { matcher, matcher_ids, short, entries, keyed, keyed_base, words, files: metas, problems }
}

/// Whether one of a pattern's meanings is abusive (not a target, filler or function word).
fn has_content(meanings: &[Entry]) -> bool {
    meanings.iter().any(|e| e.role.is_content())
}

/// One-word patterns of at most this many characters go to [`Lexicon::short`].
pub const SHORT_CHARS: usize = 3;

impl Lexicon {
    /// Whether pattern `id` has an abusive meaning (`false` for an unknown id).
    pub fn has_content(&self, id: usize) -> bool {
        self.entries.get(id).is_some_and(|e| has_content(e))
    }

    /// Calls `found(start, end, id)` for each word of `text` (a maximal run of [`is_word`] characters) that is a
    /// short pattern ([`Lexicon::short`]). Only runs of ASCII word bytes can be one, so the text is walked byte by
    /// byte and a character is decoded only next to such a run (an Urdu letter glued to it makes it no word).
    pub fn short_words(&self, text: &str, mut found: impl FnMut(usize, usize, usize)) {
        let b = text.as_bytes();
        let word_byte = |x: u8| x.is_ascii_alphanumeric() || x == b'*';
        let mut i = 0;
        while i < b.len() {
            if !word_byte(b[i]) {
                i += 1;
                continue;
            }
            let start = i;
            while i < b.len() && word_byte(b[i]) {
                i += 1;
            }
            if i - start > SHORT_CHARS {
                continue;
            }
            let glued = text.get(..start).and_then(|t| t.chars().next_back()).is_some_and(is_word)
                || text.get(i..).and_then(|t| t.chars().next()).is_some_and(is_word);
            if let (false, Some(&id)) = (glued, text.get(start..i).and_then(|w| self.short.get(w))) {
                found(start, i, id);
            }
        }
    }

    /// Whether `word` is a one-word pattern of a content role.
    pub fn is_content_word(&self, word: &str) -> bool {
        self.words.get(&word.chars().count()).is_some_and(|ws| ws.iter().any(|(p, _)| p == word))
    }

    /// The pattern a masked word stands for: same length, every letter shown in place, at least half of them
    /// shown (`ch**t`, `bh*nch*d`; `f***` is listed as it is). The most severe such pattern wins.
    pub fn unmask(&self, word: &str) -> Option<usize> {
        let chars: Vec<char> = word.chars().collect();
        let shown = chars.iter().filter(|&&c| c != '*').count();
        if shown * 2 < chars.len() || shown == chars.len() {
            return None;
        }
        let fits = |p: &str| p.chars().zip(&chars).all(|(a, &b)| b == '*' || a == b);
        self.words
            .get(&chars.len())?
            .iter()
            .filter(|(p, _)| fits(p))
            .max_by_key(|(_, id)| self.entries[*id].iter().map(|e| e.severity).max().unwrap_or(0))
            .map(|&(_, id)| id)
    }
}

/// A contiguous-NFA automaton over `patterns` (`None`, with a problem noted, if it does not build).
fn automaton<P: AsRef<[u8]>>(patterns: &[P], problems: &mut Vec<String>) -> Option<AhoCorasick> {
    if patterns.is_empty() {
        return None;
    }
    let nfa = Some(AhoCorasickKind::ContiguousNFA);
    match AhoCorasick::builder().match_kind(MatchKind::Standard).kind(nfa).build(patterns) {
        Ok(m) => Some(m),
        Err(e) => {
            problems.push(format!("automaton: {e}"));
            None
        }
    }
}

/// Forces the lexicons to be compiled (start-up, benchmarks).
pub fn warm_up() {
    LazyLock::force(&LEXICON);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_file_parses_states_its_source_and_compiles_every_term() {
        let lex = get();
        assert_eq!(lex.files.len(), FILES.len());
        for ((name, text), (_, meta)) in FILES.iter().zip(&lex.files) {
            assert!(!meta.source.trim().is_empty() && !meta.licence.trim().is_empty(), "{name}");
            assert!(!meta.language.is_empty(), "{name}");
            assert!(text.starts_with('#'), "{name} starts with a header comment");
        }
        assert!(lex.problems.is_empty(), "{:#?}", lex.problems);
        let ac = lex.matcher.as_ref().expect("the lexicons compile");
        assert!(ac.memory_usage() < 16 << 20, "{} bytes", ac.memory_usage());
        println!("{} patterns, {} KiB", ac.patterns_len(), ac.memory_usage() >> 10);
        assert!(lex.keyed.len() > 1000, "the Roman patterns are keyed: {}", lex.keyed.len());
        assert!(lex.keyed.memory_usage() < 8 << 20, "{} bytes", lex.keyed.memory_usage());
        println!("keyed: {} patterns, {} KiB", lex.keyed.len(), lex.keyed.memory_usage() >> 10);
    }

    #[test]
    fn terms_fold_like_comments() {
        assert_eq!(fold_term("x  z"), "x z");
        assert_eq!(fold_term("You're  an  IDIOT"), "youre an idiot");
        assert_eq!(fold_term("we ll find you"), fold_term("we'll find you"));
        assert_eq!(fold_term("i m coming"), "im coming");
    }

    #[test]
    fn problems_are_reported_not_fatal() {
        let lex = build(&[
            ("bad.toml", "not toml ["),
            (
                "ok.toml",
                "[meta]\nlanguage='x'\nsource='s'\nlicence='l'\n[[group]]\nrole='insult'\nseverity=5\nterms=['idiot', '!!']",
            ),
        ]);
        assert_eq!(lex.problems.len(), 3, "{:?}", lex.problems);
        // "idiot" and its doubled-consonant spelling "idiott".
        assert_eq!(lex.entries.len(), 2);
    }
}

//! Abuse detection: threats, identity attacks, insults, sexual harassment and profanity in English, Roman Urdu,
//! Urdu and Hindi, with one calibrated score per category and spans on the original body.
//!
//! # How a comment is scanned
//!
//! 1. **Folding** ([`fold`]): the [`Normalized`] text (width, case, zero-width and bidi tricks, right-to-left
//!    overrides and Urdu letter variants already folded) is folded once more for word disguises — leetspeak
//!    (`k1ll`, `b!tch`), look-alike letters, accents, spaced-out letters (`k i l l`), elongation (`idiooot`) and
//!    masks (`f*ck`) — with a map back to the normalised text.
//! 2. **Lexicons** ([`lexicon`]): data files (`lexicon/*.toml`) with a role and severity per term — insults, slurs,
//!    violent verbs, threat phrases, but also targets ("you", "tum", group names), intent ("I will", "-unga"),
//!    negation, reporting words, news words and idioms — matched whole-word by one Aho-Corasick automaton.
//! 3. **Structure** ([`structure`]): each abusive term becomes a candidate with features — how it stands with its
//!    target, whether it is negated, quoted or reported, whether the sentence is news.
//! 4. **Scores** ([`model`]): a small logistic model per category turns the strongest candidate's features into a
//!    probability. A score of [`HOLD`] (0.5) or more means "would hold by default", in every category.
//! 5. **Learned n-grams** ([`ngram`]): a hashed n-gram logistic model over the folded text, calibrated out of fold,
//!    may raise a category's score to its own probability less its [`NGRAM_MARGIN`] where that holds (≥ [`HOLD`]) —
//!    unless a candidate of that category is negated, quoted or reported ([`NGRAM_CONTEXT_GATE`]), or the comment
//!    reports a quote: a bag of n-grams cannot see that. It never reads quoted words or idioms. It finds wordings
//!    the lexicons do not list; where its score is a category's, the words it weighed most are the spans.
//!
//! [`analyze`](crate::analysis::analyze) turns every category at or above [`HOLD`] into an `abuse.*` finding whose
//! spans are the terms that made it.
//!
//! # Per-site models
//!
//! [`scan`] uses the shipped [`AbuseModel::BASE`]; [`scan_with`] takes another model, e.g. one a site's moderators
//! taught. [`assess`] gives the model-free part (candidates and their features), so a learner can fit on them.
//!
//! # Invariants
//!
//! * Pure: no I/O, no clock; the only globals are the lazily compiled, immutable lexicons and look-alike table and
//!   the parsed n-gram model.
//! * Never panics; linear in the body (the automaton runs once; at most [`structure::MAX_MATCHES`] matches are
//!   weighed).
//! * Every score is finite and in 0..1; every span is a non-empty byte range on char boundaries of the ORIGINAL
//!   body (via [`Normalized::original_range`]).

pub mod fold;
pub mod learned;
pub mod lexicon;
pub mod model;
pub mod ngram;
pub mod structure;

pub use model::{AbuseModel, Features, HOLD, Weights};

use crate::analysis::normalize::Normalized;
use crate::domain::Finding;
use crate::findings::{self as codes, FindingCode};
use std::ops::Range;

/// Spans shown in a finding are the candidates scoring at least this (a weak co-occurrence elsewhere in the
/// comment is not what a moderator needs highlighted).
pub const SPAN_SCORE: f64 = 0.3;

/// At most this many spans per finding.
pub const MAX_SPANS: usize = 16;

/// The abuse categories, each with its own finding code.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Category {
    /// Violence against a person or group; "we know where you live".
    Threat,
    /// Dehumanising, or calling for harm to, a religious, ethnic, national, gender or sexual group; slurs.
    IdentityAttack,
    /// An insult aimed at a person: the author, another commenter, "you".
    Insult,
    /// Sexual harassment and explicit sexual language.
    Sexual,
    /// Swearing.
    Profanity,
}

impl Category {
    pub const ALL: [Category; 5] =
        [Category::Threat, Category::IdentityAttack, Category::Insult, Category::Sexual, Category::Profanity];

    /// Position in [`Category::ALL`] and in per-category arrays.
    pub const fn index(self) -> usize {
        self as usize
    }

    /// The registered finding code.
    pub const fn finding_code(self) -> &'static FindingCode {
        match self {
            Category::Threat => &codes::ABUSE_THREAT,
            Category::IdentityAttack => &codes::ABUSE_IDENTITY_ATTACK,
            Category::Insult => &codes::ABUSE_INSULT,
            Category::Sexual => &codes::ABUSE_SEXUAL,
            Category::Profanity => &codes::ABUSE_PROFANITY,
        }
    }

    /// `abuse.threat`, `abuse.identity_attack`, …
    pub const fn code(self) -> &'static str {
        self.finding_code().code
    }

    /// The code's last part: `threat`, `identity_attack`, … (the corpus labels use these).
    pub fn name(self) -> &'static str {
        self.code().trim_start_matches("abuse.")
    }

    /// The category named `name` (`threat`, `identity_attack`, …).
    pub fn from_name(name: &str) -> Option<Category> {
        Category::ALL.into_iter().find(|c| c.name() == name)
    }
}

/// One calibrated score per category, each in 0..1.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct Scores([f64; 5]);

impl Scores {
    pub fn get(&self, c: Category) -> f64 {
        self.0[c.index()]
    }

    /// Every category with its score, in [`Category::ALL`] order.
    pub fn iter(&self) -> impl Iterator<Item = (Category, f64)> + '_ {
        Category::ALL.into_iter().map(|c| (c, self.get(c)))
    }

    /// The highest score of any category.
    pub fn max(&self) -> f64 {
        self.0.iter().copied().fold(0.0, f64::max)
    }

    /// The categories at or above [`HOLD`].
    pub fn held(&self) -> impl Iterator<Item = Category> + '_ {
        self.iter().filter(|&(_, s)| s >= HOLD).map(|(c, _)| c)
    }
}

/// One abusive term found, and what it scores on its own.
#[derive(Debug, Clone, PartialEq)]
pub struct Hit {
    pub category: Category,
    /// Byte range of the ORIGINAL body, on char boundaries.
    pub range: Range<usize>,
    /// The term's severity in the lexicon: 1 mild, 2 clear, 3 severe; 1 for words a learned model weighed (the
    /// n-gram model's, a site's taught words), which are no lexicon term.
    pub severity: u8,
    /// The model's probability for this hit alone.
    pub score: f64,
    /// Why it counts, for moderators (never quotes the text).
    pub why: &'static str,
}

/// What [`scan`] found.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct AbuseReport {
    pub scores: Scores,
    /// Sorted by range start.
    pub hits: Vec<Hit>,
    /// Per category (by [`Category::index`]), the features of the hit that decided its score, with `count` set;
    /// all zero where the category had no hit.
    pub features: [Features; 5],
}

/// A candidate with its span on the original body (see [`structure::Candidate`]).
#[derive(Debug, Clone, PartialEq)]
pub struct Candidate {
    pub category: Category,
    pub range: Range<usize>,
    pub severity: u8,
    pub features: Features,
    pub why: &'static str,
}

/// The model-free part of a scan: every candidate with its features.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Assessment {
    pub candidates: Vec<Candidate>,
    /// The learned n-gram model's calibrated log-odds per category ([`ngram`]); `None` means no opinion (an
    /// assessment built by hand); −∞ in a category it has no say on in this comment (an identity attack made of a
    /// list of groups alone, [`structure::lists_groups`]).
    pub ngram: Option<[f64; 5]>,
    /// Per category the n-gram model would hold on its own, the words of the ORIGINAL body that weighed most in
    /// its opinion ([`NGRAM_WORDS`]): the spans of a finding only the model made.
    pub ngram_words: Vec<(Category, Range<usize>)>,
}

/// The n-gram model is not let raise a category when a candidate of that category is negated, quoted or reported
/// at least this strongly: a bag of n-grams cannot see that "you are not an idiot" denies the insult or that
/// `usne likha 'tera wo haal karenge…', maine report kar diya` reports the threat. Other categories, and news
/// words, do not gate it: it learned those from the reported threats, quotes and news it was trained on, and gating
/// on any candidate of any kind cost a tenth of threat recall on the validation set (`blind3.jsonl`: threats that
/// carry their own negation, "you won't see next Eid") for no precision.
pub const NGRAM_CONTEXT_GATE: f64 = 0.6;

/// Whether a candidate of `category` is negated, quoted or reported at least [`NGRAM_CONTEXT_GATE`]: then the n-gram
/// model has no say on that category. A threat candidate counts only with some structure ([`GATING_STRUCTURE`]): a
/// violent word or a word of harm alone ("khatam", "maar", "grave") is no threat that a report or a negation could be
/// about — "jo bhi isko dekhe wahin khatam kar de, … zinda rehna hi ghalat hai" condemns the victim, not the threat.
/// (A quoted insult or swear word has no structure either, and is still what the quote is.) Banter gates it too: a
/// mild insult in a comment said fondly ([`structure::BANTER`]).
fn gates_ngram(candidates: &[Candidate], category: Category) -> bool {
    candidates.iter().any(|c| {
        let in_context = c.features.negated.max(c.features.mention) >= NGRAM_CONTEXT_GATE;
        let has_structure = category != Category::Threat || c.features.structure >= GATING_STRUCTURE;
        c.category == category && (c.why == structure::BANTER || in_context && has_structure)
    })
}

/// See [`gates_ngram`]: above a bare word's structure (0.1 for a violent word alone, 0.05 for a word of harm).
const GATING_STRUCTURE: f64 = 0.2;

/// Per category (by [`Category::index`]), the n-gram model's calibrated log-odds are lowered by this before they meet
/// [`HOLD`]: it holds a comment on its own only where its out-of-fold calibrated probability is at least sigmoid(0.8) ≈
/// 0.69 (sexual remarks: sigmoid(1.2) ≈ 0.77). Without a margin it held hand-written hard negatives a bag of n-grams
/// cannot tell from abuse (`tests.rs`). The rule: the next round value above the highest log-odds of those cases in the
/// category (the clean cases of `tests.rs` the model is asked on and not gated in that category), and no lower than 0.8
/// — the value that rule gave for every category when it was one margin ("Tumhari tasveer bohat achi aayi hai, mubarak
/// ho" at 0.75). Insults: "What a stupid decision by the cricket board" ("what a stupid …" is said of people too) at
/// 1.16 with the fifth session's data, 1.42 with the sixth's, 1.08 with the seventh's, 0.38 with the eighth's (back to
/// 0.8); threats: "We will beat you in the semis, mark my words" at 1.01 with the seventh's, 1.12 with the eighth's,
/// 1.02 with the ninth's first retrain (`fresh21`–`fresh25`), 1.41 with its second (`fresh26`–`fresh30`: with the idiom
/// cut out, "We will …, mark my words" reads as the veiled menaces those files hold), 0.59 with the tenth's model at
/// 2^17 buckets (back to 0.8); sexual: "Tumhari tasveer bohat achi aayi hai, mubarak ho" at 1.16 with the tenth
/// session's data (`fresh31`, `fresh32`: compliments on pictures that sexualise), 1.10 at 2^17 buckets. Chosen on those
/// cases only, never on an evaluation set; `tests.rs` (`ngram_margins_follow_the_hard_negative_rule`) applies the rule
/// to the shipped model, so a retrain fails there until the margins are derived again.
pub const NGRAM_MARGIN: [f64; 5] = [0.8, 0.8, 0.8, 1.2, 0.8];

/// The n-gram model's log-odds for `category` as they meet [`HOLD`] (held at 0 or more): `logit` less the category's
/// margin, and less a site's learned shift where that lowers it (see [`score`]). The one rule both [`score`] and the
/// choice of words to show ([`assess`]) apply.
fn ngram_hold_logit(category: Category, logit: f64, shift: f64) -> f64 {
    logit + shift.min(0.0) - NGRAM_MARGIN[category.index()]
}

/// At most this many words are shown for a finding the n-gram model made: those adding at least half as much to its
/// log-odds as the word adding most. A moderator needs to see what tipped it ("laash", "ghar ka pata"), not every
/// word with a positive weight.
pub const NGRAM_WORDS: usize = 3;

/// Why a category's score is the n-gram model's (a [`Hit::why`]).
fn ngram_why(category: Category) -> &'static str {
    match category {
        Category::Threat => "wording the learned model reads as a threat",
        Category::IdentityAttack => "wording the learned model reads as an attack on a group",
        Category::Insult => "wording the learned model reads as an insult",
        Category::Sexual => "wording the learned model reads as sexual harassment",
        Category::Profanity => "wording the learned model reads as swearing",
    }
}

/// The text the lexicons and the n-gram model read: `text` folded for disguises (see [`fold`]).
pub fn folded(text: &Normalized) -> fold::Folded {
    let lexicon = lexicon::get();
    fold::Folded::with_words(text.as_str(), &|w| lexicon.is_content_word(w))
}

/// The text the n-gram model reads, in training as in a scan: the folded text without its quoted words and idioms
/// ([`structure::Scan::ngram_text`]).
pub fn ngram_text(folded: &fold::Folded) -> std::borrow::Cow<'_, str> {
    structure::scan(folded).ngram_text
}

/// Finds the candidates of `text`. Pure and linear.
pub fn assess(text: &Normalized) -> Assessment {
    let folded = folded(text);
    let scan = structure::scan(&folded);
    let candidates = scan
        .candidates
        .into_iter()
        .filter_map(|c| {
            let range = text.original_range(folded.norm_range(c.range));
            (range.start < range.end).then_some(Candidate {
                category: c.category,
                range,
                severity: c.severity,
                features: c.features,
                why: c.why,
            })
        })
        .collect::<Vec<Candidate>>();
    let mut ngram = (!scan.reports_a_quote).then(|| ngram::get().logits(&scan.ngram_text));
    // A list of groups is no identity attack the model may make on its own (the lexicons still read one in it).
    if let Some(logits) = ngram.as_mut() {
        let i = Category::IdentityAttack.index();
        if ngram_hold_logit(Category::IdentityAttack, logits[i], 0.0) >= 0.0 && structure::lists_groups(&folded) {
            logits[i] = f64::NEG_INFINITY;
        }
    }
    // Only where the model would hold a category on its own (a site's learned shift only lowers it): on the few
    // comments held, never on the path of the many approved.
    let shown =
        |&(cat, logit): &(Category, f64)| ngram_hold_logit(cat, logit, 0.0) >= 0.0 && !gates_ngram(&candidates, cat);
    let logits = Category::ALL.into_iter().zip(ngram.unwrap_or([f64::NEG_INFINITY; 5]));
    let mut ngram_words = Vec::new();
    if logits.clone().any(|c| shown(&c)) {
        // The model's "words" are runs of letters, digits and any non-ASCII bytes: an emoji is one, but no wording a
        // moderator is shown.
        let weights: Vec<_> = ngram::get()
            .word_weights(&scan.ngram_text)
            .into_iter()
            .filter(|(r, _)| scan.ngram_text[r.clone()].chars().any(char::is_alphanumeric))
            .collect();
        for (cat, _) in logits.filter(shown) {
            for r in strongest(weights.iter().map(|(r, w)| (r.clone(), w[cat.index()])).collect()) {
                let range = text.original_range(folded.norm_range(uncut(&scan.cut, r)));
                if range.start < range.end {
                    ngram_words.push((cat, range));
                }
            }
        }
    }
    Assessment { candidates, ngram, ngram_words }
}

/// The [`NGRAM_WORDS`] words adding most, each at least half the top one's weight, in order of weight.
fn strongest(mut words: Vec<(Range<usize>, f64)>) -> impl Iterator<Item = Range<usize>> {
    words.sort_by(|a, b| b.1.total_cmp(&a.1));
    let top = words.first().map_or(0.0, |w| w.1);
    words.into_iter().take(NGRAM_WORDS).take_while(move |w| w.1 > 0.0 && w.1 >= top / 2.0).map(|w| w.0)
}

/// A range of the n-gram text as a range of the folded text it was cut from (`cut`: the ranges left out, in order).
fn uncut(cut: &[Range<usize>], r: Range<usize>) -> Range<usize> {
    let mut shift = 0;
    for c in cut {
        if c.start > r.start + shift {
            break;
        }
        shift += c.len();
    }
    r.start + shift..r.end + shift
}

/// Scans `text` with the shipped model.
pub fn scan(text: &Normalized) -> AbuseReport {
    scan_with(text, &AbuseModel::BASE)
}

/// Scans `text` with `model` (a site's own, or the base).
pub fn scan_with(text: &Normalized, model: &AbuseModel) -> AbuseReport {
    score(&assess(text), model)
}

/// Scores an assessment with `model`: per category, the candidate with the highest log-odds decides, with the
/// number of candidates as its `count`.
pub fn score(assessment: &Assessment, model: &AbuseModel) -> AbuseReport {
    let mut report = AbuseReport::default();
    let mut best: [Option<(f64, Features)>; 5] = [None; 5];
    let mut counts = [0usize; 5];
    for c in &assessment.candidates {
        let i = c.category.index();
        counts[i] += 1;
        let l = model.logit(c.category, &c.features);
        if best[i].is_none_or(|(b, _)| l > b) {
            best[i] = Some((l, c.features));
        }
        report.hits.push(Hit {
            category: c.category,
            range: c.range.clone(),
            severity: c.severity,
            score: model::sigmoid(l),
            why: c.why,
        });
    }
    for cat in Category::ALL {
        let i = cat.index();
        if let Some((_, mut f)) = best[i] {
            f.count = (counts[i] as f64).ln();
            report.features[i] = f;
            report.scores.0[i] = model.probability(cat, &f).clamp(0.0, 1.0);
        }
    }
    if let Some(ngram) = assessment.ngram {
        for cat in Category::ALL.into_iter().filter(|&c| !gates_ngram(&assessment.candidates, c)) {
            let i = cat.index();
            // Only a holding score counts: below it the model's probability is no evidence, and a comment without
            // abusive terms keeps scoring exactly 0 (a category chosen by the highest score, as when moderators
            // reject a comment as abuse without naming one, must not be picked by noise). A site's learned shift
            // only lowers it: its raises already score the taught words themselves (`learned.rs`), and adding them
            // here too would count them twice.
            let p = model::sigmoid(ngram_hold_logit(cat, ngram[i], model.shift[i]));
            if p >= HOLD && p > report.scores.0[i] {
                report.scores.0[i] = p.clamp(0.0, 1.0);
                // The score is the model's: the words it weighed most are what a moderator is shown, but for those
                // inside a term already shown.
                let terms =
                    report.hits.iter().filter(|h| h.category == cat).map(|h| h.range.clone()).collect::<Vec<_>>();
                for (_, range) in assessment.ngram_words.iter().filter(|(c, _)| *c == cat) {
                    if !terms.iter().any(|t| t.start <= range.start && range.end <= t.end) {
                        let (range, why) = (range.clone(), ngram_why(cat));
                        report.hits.push(Hit { category: cat, range, severity: 1, score: p, why });
                    }
                }
            }
        }
    }
    report.hits.sort_by_key(|h| (h.range.start, h.range.end, h.category));
    report
}

/// One finding per category at or above [`HOLD`], scored with the category's score; its spans are the category's
/// hits scoring at least [`SPAN_SCORE`] (the best one at least).
pub fn findings(report: &AbuseReport) -> Vec<Finding> {
    findings_at(report, &[HOLD; 5])
}

/// As [`findings`], with a threshold per category (by [`Category::index`]): a site that holds a category below
/// [`HOLD`] gets its finding, with spans, from its own threshold on.
pub fn findings_at(report: &AbuseReport, at: &[f64; 5]) -> Vec<Finding> {
    let mut out = Vec::new();
    for cat in report.scores.iter().filter(|&(c, s)| s > 0.0 && s >= at[c.index()]).map(|(c, _)| c) {
        let mut hits: Vec<&Hit> = report.hits.iter().filter(|h| h.category == cat).collect();
        hits.sort_by(|a, b| b.score.total_cmp(&a.score));
        let why = hits.first().map_or("abusive language", |h| h.why);
        let mut spans: Vec<Range<usize>> = hits
            .iter()
            .enumerate()
            .filter(|(k, h)| *k == 0 || h.score >= SPAN_SCORE)
            .map(|(_, h)| h.range.clone())
            .take(MAX_SPANS)
            .collect();
        spans.sort_by_key(|r| (r.start, r.end));
        spans.dedup();
        let detail = match spans.len() {
            0 => "wording the learned model reads as abusive".to_string(),
            1 => why.to_string(),
            n => format!("{why} ({n} places)"),
        };
        out.push(Finding::new(cat.finding_code(), report.scores.get(cat), detail).with_spans(spans));
    }
    out
}

/// Compiles the lexicons and tables, so the first comment is as fast as the rest.
pub fn warm_up() {
    lexicon::warm_up();
    ngram::warm_up();
    let _ = scan(&Normalized::new("warm up: you idiot, tum ullu ho, تم کتے ہو"));
}

#[cfg(test)]
mod tests;

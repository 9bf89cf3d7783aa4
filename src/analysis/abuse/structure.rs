//! Structure: which abusive terms are aimed at someone, and which are only mentioned.
//!
//! A word list alone cannot tell "you idiot" from "what an idiotic policy", "I will kill you" from "police said the
//! attacker killed a guard", or "Pashtuns are animals" from "animals in the Pashtun heartland". So the folded text is
//! cut into tokens, sentences (`. ! ? ؟ ۔ ।`) and clauses (also `, ، ; : ( )` and quotes); every lexicon match marks
//! its tokens with its role; and each content match becomes a [`Candidate`] whose [`Features`] say how it stands:
//!
//! * **threat** — a complete threat phrase; or a violent verb with a first person's intent ("I will", "we'll",
//!   "-unga/-enge", "chahiye") or as an order (opening its clause, or with an imperative or obligation after it:
//!   "bomb kar do", `Doc::call_after`) and a target ("you", "tum", a person, a group — in a comment that attacks a
//!   group, that group when the order names no victim); or a call for harm ("should be hanged", "maar do") with its
//!   target;
//! * **identity attack** — a slur; or a group noun side by side with a dehumanising noun, a call for harm or an
//!   insult ("Pashtun are animals", "qadiani kaafir hain inko maar do", "hindu kutte");
//! * **insult** — an insult side by side with the second person or a person ("you idiot", "tum ullu ke pathay ho",
//!   "تم بے غیرت ہو", "the writer is a moron", "حرامی صحافی"), up to three tokens after a vocative or a rude command
//!   ("abe gadhe", "chup kar be ghatiya insaan", "چپ کر بے وقوف"), closing a clause that opens with "you" with at
//!   most one describing word that is no filler between ("you circus clown", `Doc::addressed`), or standing alone
//!   as its clause ("Idiot!"); a person named only by trade or role ("harami umpire", "drama wale") is the target
//!   of a clear insult only (`Doc::trade_target`), and a group word inside a phrase naming one person ("ye
//!   maulvi") names that person, as does a relative clause naming the author ("the idiot who wrote this", "جس نے یہ
//!   کالم لکھا"); a mild insult in a comment said fondly ("love you bro", `fond`) is banter ([`BANTER`]);
//! * **threat**, as an open construction — the field of harm (`harm`: a grave, a funeral, a bullet, "won't walk
//!   again", a body part with a breaking verb) with a target (also one named in the sentence before, or implied by
//!   an "or else" or a veiled menace) and a marker: a first person's intent, a condition ("if", "agar", "next time",
//!   "keep … and"), a wish or call ("I hope", "khuda kare", "deserves", "karna chahiye"), a veiled menace ("yaad
//!   rakhna"); the milder field (blood, a knife) never holds alone (`Doc::harm`);
//! * **sexual** — an explicit term, more so aimed at the reader; and as an open construction, a body part, clothes
//!   or a private meeting (`body`, `invite`) made sexual by an `allure` word, a sexual term or a second such word,
//!   aimed at a person, the reader's possessive or an endearment (`Doc::allure`);
//! * **profanity** — the term itself.
//!
//! "Side by side" (*tight*) means in the same clause with at most a few `filler` tokens between ("you are such a
//! big idiot", "tum bohat bare ullu ke pathay ho"). Negation near the term, quotes around it, a reporting or
//! condemning word in its sentence, news words and idioms lower what the term counts for (see [`Features`]). A
//! negation after the term denies it only as a predicate closing its clause ("tum jahil nahi ho"), not as the
//! subject of a verb of its own ("ye katue kabhi nahi sudhrenge", `Doc::negated`). [`lists_groups`] tells the caller
//! when a comment lists three or more groups (unity, equal rights), which the n-gram model must not make an
//! identity attack of on its own.
//!
//! Invariant: linear in the number of tokens for a bounded number of matches (at most [`MAX_MATCHES`]).

use super::Category;
use super::fold::{Folded, is_word};
use super::lexicon::{self, Entry, Role};
use super::model::Features;
use std::borrow::Cow;
use std::ops::Range;

/// At most this many lexicon matches are considered per comment: a comment with more says nothing more, and the
/// cap bounds the work whatever the input.
pub const MAX_MATCHES: usize = 512;

/// Tokens searched on each side of a term for its target or intent.
const WINDOW: usize = 6;

/// Filler tokens allowed between a target and its predicate for them to count as side by side.
const TIGHT_GAP: usize = 4;

/// The role bits of the content roles.
const CONTENT: u64 = Role::Threat.bit()
    | Role::Menace.bit()
    | Role::Violence.bit()
    | Role::HarmCall.bit()
    | Role::Slur.bit()
    | Role::Dehumanize.bit()
    | Role::Insult.bit()
    | Role::Sexual.bit()
    | Role::Profanity.bit()
    | Role::Harm.bit()
    | Role::Body.bit()
    | Role::Invite.bit();

/// One abusive term with its features, in folded coordinates.
#[derive(Debug, Clone, PartialEq)]
pub struct Candidate {
    pub category: Category,
    /// The term (and, when side by side, its target), in the folded text.
    pub range: Range<usize>,
    pub severity: u8,
    pub features: Features,
    /// Why it is a candidate, for moderators.
    pub why: &'static str,
}

#[derive(Debug, Clone)]
struct Token {
    range: Range<usize>,
    sentence: u32,
    clause: u32,
    quoted: bool,
    /// Roles of the matches covering this token.
    roles: u64,
}

#[derive(Debug, Clone)]
struct Match {
    /// Token range.
    start: usize,
    end: usize,
    range: Range<usize>,
    entry: Entry,
}

/// The analysed comment.
struct Doc {
    toks: Vec<Token>,
    matches: Vec<Match>,
    /// Indices into `matches` grouped by role: role `r`'s are `by_role[role_at[r]..role_at[r + 1]]`. The look-ups
    /// around a term walk only the roles they need.
    by_role: Vec<u32>,
    role_at: [u32; Role::COUNT + 1],
    /// Roles present anywhere.
    present: u64,
}

/// The marks that can open a quote in [`tokenize`]: a text without any has no quoted word.
const QUOTE_OPENERS: [char; 6] = ['"', '“', '«', '「', '\'', '‘'];

/// What the structure pass finds in a folded text.
pub struct Scan<'a> {
    pub candidates: Vec<Candidate>,
    /// The text the n-gram model reads: the folded text without its quoted words (someone else's, which
    /// `Doc::mention` reads as mentioned) and without its idioms ("beat you in the semis", "photo shoot": uses
    /// the lexicons have explained as harmless). Borrowed as it is when there are neither. A bag of n-grams cannot
    /// tell a quote or an idiom from a use; this keeps it from reading them at all.
    pub ngram_text: Cow<'a, str>,
    /// The byte ranges of the folded text left out of `ngram_text`, in order (empty when it is borrowed).
    pub cut: Vec<Range<usize>>,
    /// The comment quotes someone and reports or condemns it (a reporting word outside the quote): left to the
    /// candidates' own context features, as the n-gram model cannot tell the frame of a report from a threat's.
    pub reports_a_quote: bool,
}

/// Finds the candidates of `folded` and the text the n-gram model reads.
pub fn scan(folded: &Folded) -> Scan<'_> {
    let text = folded.as_str();
    // Quotes matter even in a comment without an abusive term (the n-gram model must not read them), so such a
    // comment is analysed whole; any other is done with as soon as no abusive term is found.
    let quotes = text.contains(QUOTE_OPENERS);
    let Some(doc) = Doc::new(text, quotes) else {
        return Scan {
            candidates: Vec::new(),
            ngram_text: Cow::Borrowed(text),
            cut: Vec::new(),
            reports_a_quote: false,
        };
    };
    let (ngram_text, cut) = doc.unexplained(text);
    Scan { candidates: doc.candidates(), ngram_text, cut, reports_a_quote: doc.reports_a_quote() }
}

/// Why an insult candidate is banter (see `Doc::insult`): the n-gram model, which cannot see the fondness, has no say
/// on the insult then (`gates_ngram` in `mod.rs`).
pub const BANTER: &str = "a mild insult said fondly";

/// The words that join the items of a list (written here rather than in the lexicons: they are grammar, not
/// vocabulary, and the lexicons' roles are all taken).
const CONJUNCTIONS: &[&str] = &["and", "or", "&", "aur", "ya", "o", "va", "اور", "و", "یا", "और", "या", "व"];

/// Whether `folded` names three or more groups one after another in a list ("Hindus, Christians, Sikhs and Ahmadis
/// are all citizens", "Shia, Sunni, Hindu, Christian sab ek saath"). Such a list is how unity, equal rights and
/// relief work are written about; an attack names its group and says what of it, which the lexicons read. The
/// n-gram model, which sees group names mostly in attacks, is not let make an identity attack of a list on its own.
/// Builds the analysis of the whole text: asked only of the few comments that model would hold.
pub fn lists_groups(folded: &Folded) -> bool {
    let Some(doc) = Doc::new(folded.as_str(), true) else { return false };
    let mut groups: Vec<&Match> = doc.of(Role::Group).map(|(_, g)| g).collect();
    groups.sort_by_key(|g| g.start);
    let mut run = 1;
    for pair in groups.windows(2) {
        let (a, b) = (pair[0], pair[1]);
        let joined = (a.end..b.start).all(|i| CONJUNCTIONS.contains(&&folded.as_str()[doc.toks[i].range.clone()]));
        let listed = b.start >= a.end
            && b.start - a.end <= 1
            && joined
            && folded.as_str()[a.range.clone()] != folded.as_str()[b.range.clone()]
            && doc.toks[a.start].sentence == doc.toks[b.start].sentence;
        run = if listed { run + 1 } else { 1 };
        if run >= 3 {
            return true;
        }
    }
    false
}

impl Doc {
    fn candidates(&self) -> Vec<Candidate> {
        let mut attacks = Vec::new();
        for (_, g) in self.of(Role::Group) {
            attacks.extend(self.group_attack(g));
        }
        let attacked = attacks_a_group(&attacks);
        let mut out = Vec::new();
        for (k, m) in self.matches.iter().enumerate() {
            if !m.entry.role.is_content() || self.suppressed(k) {
                continue;
            }
            match m.entry.role {
                Role::Threat => out.push(self.threat_phrase(m)),
                Role::Menace => out.push(self.menace(m)),
                Role::Violence => out.push(self.violence(m, attacked)),
                Role::HarmCall => out.push(self.harm_call(m)),
                Role::Slur => out.push(self.slur(m)),
                Role::Insult => {
                    if let Some(c) = self.insult(m) {
                        out.push(c);
                    }
                }
                Role::Sexual => out.push(self.sexual(m)),
                Role::Profanity => out.push(self.profanity(m)),
                Role::Harm => out.push(self.harm(m, attacked)),
                Role::Body | Role::Invite => out.push(self.allure(m)),
                _ => {}
            }
        }
        out.extend(attacks);
        out
    }

    /// See [`Scan::reports_a_quote`].
    fn reports_a_quote(&self) -> bool {
        self.toks.iter().any(|t| t.quoted) && self.of(Role::Mention).any(|(_, m)| !self.toks[m.start].quoted)
    }

    /// `text` without its quoted and idiom tokens, and the ranges left out (see [`Scan::ngram_text`]).
    fn unexplained<'a>(&self, text: &'a str) -> (Cow<'a, str>, Vec<Range<usize>>) {
        let gone = |t: &Token| t.quoted || t.roles & Role::Idiom.bit() != 0;
        if !self.toks.iter().any(gone) {
            return (Cow::Borrowed(text), Vec::new());
        }
        let mut out = String::with_capacity(text.len());
        let mut cut = Vec::new();
        let mut at = 0;
        for t in self.toks.iter().filter(|t| gone(t)) {
            out.push_str(&text[at..t.range.start]);
            cut.push(t.range.clone());
            at = t.range.end;
        }
        out.push_str(&text[at..]);
        (Cow::Owned(out), cut)
    }

    /// The analysed comment, or `None` when it has no abusive term (and `whole` is not asked).
    fn new(text: &str, whole: bool) -> Option<Doc> {
        let lex = lexicon::get();
        let ac = lex.matcher.as_ref()?;
        let mut raw: Vec<(usize, usize, usize)> = Vec::new();
        for m in ac.find_overlapping_iter(text) {
            if raw.len() >= MAX_MATCHES {
                break;
            }
            if !is_whole(text, m.start(), m.end()) {
                continue;
            }
            let Some(&id) = lex.matcher_ids.get(m.pattern().as_usize()) else { continue };
            raw.push((m.start(), m.end(), id));
        }
        lex.short_words(text, |s, e, id| {
            if raw.len() < MAX_MATCHES {
                raw.push((s, e, id));
            }
        });
        // A comment that reads as Roman Urdu/Hindi (one of its function words) is matched once more by spelling key
        // (`lexicon::roman_key`): the spellings no list foresaw. A keyed match on a span the plain text already
        // matched adds nothing.
        let roman =
            raw.iter().any(|&(_, _, id)| lex.entries.get(id).is_some_and(|e| e.iter().any(|x| x.role == Role::Roman)));
        if roman {
            let plain = raw.len();
            lex.keyed.find(text, |r, k| {
                let listed = raw[..plain].iter().any(|&(s, e, _)| s == r.start && e == r.end);
                if raw.len() < MAX_MATCHES && !listed {
                    raw.push((r.start, r.end, lex.keyed_base + k));
                }
            });
        }
        // Most comments hold no abusive term at all: nothing more to do.
        if !whole && !raw.iter().any(|&(_, _, id)| lex.has_content(id)) && !text.contains('*') {
            return None;
        }
        let toks = tokenize(text);
        if toks.is_empty() {
            return None;
        }
        let mut matches = Vec::with_capacity(raw.len() + 8);
        for (ms, me, id) in raw {
            let start = toks.partition_point(|t| t.range.end <= ms);
            let end = toks.partition_point(|t| t.range.start < me);
            if start >= end {
                continue;
            }
            for &entry in lex.entries.get(id).map_or(&[][..], |e| &e[..]) {
                matches.push(Match { start, end, range: ms..me, entry });
            }
        }
        // Masked words (`ch**t`, `bh*nch*d`) that no pattern spells out: the lexicon word they fit.
        for (k, t) in toks.iter().enumerate() {
            let word = &text[t.range.clone()];
            if !word.contains('*') {
                continue;
            }
            if let Some(id) = lex.unmask(word) {
                for &entry in &lex.entries[id] {
                    let listed = matches.iter().any(|m| m.start == k && m.end == k + 1 && m.entry.role == entry.role);
                    if !listed {
                        matches.push(Match { start: k, end: k + 1, range: t.range.clone(), entry });
                    }
                }
            }
        }
        // Roman Urdu/Hindi words that are something else in English (`bc` "because") count only in a comment
        // that reads as Roman Urdu/Hindi: one of its function words.
        let roman = matches.iter().any(|m| m.entry.role == Role::Roman);
        matches.retain(|m| roman || !m.entry.gated);
        // An idiom ("killed it", "chakka maar do", "so called") takes every other meaning of its words away.
        let idioms: Vec<Range<usize>> =
            matches.iter().filter(|m| m.entry.role == Role::Idiom).map(|m| m.range.clone()).collect();
        matches.retain(|m| {
            m.entry.role == Role::Idiom || !idioms.iter().any(|i| i.start < m.range.end && m.range.start < i.end)
        });
        let mut by_role: Vec<u32> = (0..matches.len() as u32).collect();
        by_role.sort_by_key(|&k| matches[k as usize].entry.role as usize);
        let mut role_at = [0u32; Role::COUNT + 1];
        for m in &matches {
            role_at[m.entry.role as usize + 1] += 1;
        }
        for r in 0..Role::COUNT {
            role_at[r + 1] += role_at[r];
        }
        let mut doc = Doc { toks, matches, by_role, role_at, present: 0 };
        for m in &doc.matches {
            doc.present |= m.entry.role.bit();
            for t in &mut doc.toks[m.start..m.end] {
                t.roles |= m.entry.role.bit();
            }
        }
        Some(doc)
    }

    /// A content match inside a longer match of the same role ("ullu" in "ullu ka pattha") counts for nothing on
    /// its own.
    fn suppressed(&self, k: usize) -> bool {
        let m = &self.matches[k];
        self.of(m.entry.role).any(|(j, o)| {
            j != k
                && o.range.start <= m.range.start
                && m.range.end <= o.range.end
                && (o.range.end - o.range.start) > (m.range.end - m.range.start)
        })
    }

    fn tok_has(&self, i: usize, roles: u64) -> bool {
        self.toks.get(i).is_some_and(|t| t.roles & roles != 0)
    }

    /// Whether every token strictly between matches `a` and `b` (in either order) is a filler, they are in the same
    /// clause, and at most [`TIGHT_GAP`] tokens apart.
    fn tight(&self, a: &Match, b: &Match) -> bool {
        let (first, second) = if a.start <= b.start { (a, b) } else { (b, a) };
        if second.start < first.end {
            // Overlapping: one phrase holds both ("we know where you live").
            return true;
        }
        let gap = first.end..second.start;
        let same_clause = self.toks[first.start].clause == self.toks[second.end - 1].clause;
        let fill = Role::Filler.bit() | Role::General.bit() | Role::Profanity.bit() | Role::Family.bit();
        same_clause
            && gap.len() <= TIGHT_GAP
            && gap.clone().all(|i| self.tok_has(i, fill) && !self.tok_has(i, Role::Negation.bit()))
    }

    /// Tokens around `m` in its sentence: `before` tokens before its start, `after` tokens after its end.
    fn around(&self, m: &Match, before: usize, after: usize) -> Range<usize> {
        let s = self.toks[m.start].sentence;
        let mut lo = m.start.saturating_sub(before);
        while self.toks[lo].sentence != s {
            lo += 1;
        }
        let mut hi = (m.end + after).min(self.toks.len());
        while hi > m.end && self.toks[hi - 1].sentence != s {
            hi -= 1;
        }
        lo..hi
    }

    /// The matches of `roles` whose tokens lie within `span`.
    fn within<'a>(&'a self, roles: u64, span: Range<usize>) -> impl Iterator<Item = &'a Match> + 'a {
        (0..Role::COUNT)
            .filter(move |r| roles >> r & 1 == 1)
            .flat_map(move |r| &self.by_role[self.role_at[r] as usize..self.role_at[r + 1] as usize])
            .map(|&k| &self.matches[k as usize])
            .filter(move |o| o.start >= span.start && o.end <= span.end)
    }

    /// The matches of one role, with their indices.
    fn of(&self, role: Role) -> impl Iterator<Item = (usize, &Match)> + '_ {
        let r = role as usize;
        self.by_role[self.role_at[r] as usize..self.role_at[r + 1] as usize]
            .iter()
            .map(|&k| (k as usize, &self.matches[k as usize]))
    }

    /// The strongest target near `m` (in its sentence, [`WINDOW`] tokens each side), with whether it stands side by
    /// side with `m`. Strength: the reader, a group or a pronoun object by the term's severity / 3 (an ambiguous
    /// "تو" counts less than "تم"); a person 1, 0.8 or 0.5 by severity; a possessive 0.4 × severity / 3.
    fn target(&self, m: &Match, roles: u64) -> (f64, bool) {
        self.target_in(m, roles, self.around(m, WINDOW, WINDOW), false)
    }

    /// As [`Doc::target`], over the tokens of `span`; `clear_second` skips an ambiguous second person (Urdu "تو" is
    /// also the "then" of "اگر … تو", which a conditional threat is full of).
    fn target_in(&self, m: &Match, roles: u64, span: Range<usize>, clear_second: bool) -> (f64, bool) {
        let mut best = (0.0, false);
        for t in self.within(roles, span) {
            if t.entry.role == Role::Person && t.entry.severity == 1 && self.demonstrative(t) {
                continue;
            }
            if clear_second && t.entry.role == Role::Second && t.entry.severity < 3 {
                continue;
            }
            if t.entry.trade && !self.trade_target(t, m) {
                continue;
            }
            let sev = f64::from(t.entry.severity) / 3.0;
            let s = match t.entry.role {
                Role::Second | Role::Group | Role::Object => sev,
                // A person is a person: "the writer" (3) 1, "she" (2) 0.8, a bare "ye" (1) 0.5.
                Role::Person => [0.0, 0.5, 0.8, 1.0][usize::from(t.entry.severity.min(3))],
                Role::SecondPoss => 0.4 * sev,
                _ => 0.0,
            };
            let tight = self.tight(t, m);
            if (s, tight) > best {
                best = (s, tight);
            }
        }
        best
    }

    /// Whether a person named by trade or role (`t`, `Entry::trade`) is the target of `m`: only of a clear insult
    /// (severity ≥ 2: "madarchod camper", "haramzade siyasatdan"; not "shameless ministers", criticism of office
    /// holders by the label rules), never of a violent word ("kill the boss"), nor of a sexual slur (calling a woman a
    /// prostitute is `sexual`, not `insult`), nor when a group names the trade ("Indian fans", "Sindhi waderon",
    /// "Afghani sabzi wale": the group's attack).
    fn trade_target(&self, t: &Match, m: &Match) -> bool {
        let grouped = self.of(Role::Group).any(|(_, g)| {
            g.end <= t.start && t.start - g.end <= 1 && self.toks[g.start].clause == self.toks[t.start].clause
        });
        m.entry.role == Role::Insult && m.entry.severity >= 2 && !self.tok_has(m.start, Role::Sexual.bit()) && !grouped
    }

    /// Whether a bare "ye"/"یہ"/"ये" stands before a noun that is no abuse ("ye garmi", "یہ سسٹم"): then it
    /// means "this", not "she".
    fn demonstrative(&self, t: &Match) -> bool {
        let next = t.end;
        next < self.toks.len()
            && self.toks[next].clause == self.toks[t.start].clause
            && !self.tok_has(next, CONTENT | Role::Filler.bit() | Role::Person.bit() | Role::Negation.bit())
    }

    /// A negation in `m`'s clause: up to 3 tokens before it or 1 after it ("tum jahil nahi ho"), not inside it
    /// nor inside another abusive phrase ("no Ahmadi should be allowed" negates nothing).
    ///
    /// A negation after the term denies it only as a predicate, where Urdu and Hindi put the negation before the
    /// copula at the end of the clause ("tum jahil nahi ho", "ye katue nahi hain"); followed by a verb of its own, the
    /// negation belongs to that verb and the term is its subject ("ye katue kabhi nahi sudhrenge", "these idiots never
    /// learn": said of the group, not denied).
    fn negated(&self, m: &Match) -> f64 {
        let clause = self.toks[m.start].clause;
        let lo = m.start.saturating_sub(3);
        // A negation inside a condition negates nothing: "nahi to" is "or else", "aya na to" is "if you come".
        let negation = |i: usize| {
            self.toks[i].clause == clause
                && self.tok_has(i, Role::Negation.bit())
                && !self.tok_has(i, CONTENT | Role::Condition.bit())
        };
        let before = (lo..m.start).any(negation);
        let after = m.end < self.toks.len() && negation(m.end) && self.predicate_negation(m.end);
        f64::from(u8::from(before || after))
    }

    /// Whether the negation at token `at` closes its clause: only fillers (a copula, "to", "bhi") and forms of address
    /// after its words.
    fn predicate_negation(&self, at: usize) -> bool {
        let end = self.of(Role::Negation).filter(|(_, o)| o.start <= at && at < o.end).map(|(_, o)| o.end).max();
        let clause = self.toks[at].clause;
        (end.unwrap_or(at + 1)..self.toks.len())
            .take_while(|&i| self.toks[i].clause == clause)
            .all(|i| self.tok_has(i, Role::Filler.bit() | Role::Negation.bit() | Role::Vocative.bit()))
    }

    /// Whether the term is mentioned rather than used: quoted, or a reporting or condemning word in its clause (1),
    /// its sentence (0.6) or elsewhere in the comment (0.3). "you said that, you idiot" keeps its insult: the
    /// reporting word is the reader's own act.
    fn mention(&self, m: &Match) -> f64 {
        if self.toks[m.start].quoted {
            return 1.0;
        }
        let (clause, sentence) = (self.toks[m.start].clause, self.toks[m.start].sentence);
        let mut best: f64 = 0.0;
        // A reporting word that is the reader's or a person's own act ("you wrote", "whoever wrote this") or part of
        // an idiom ("great reporting") reports no one else's words.
        let outside = |o: &Match| {
            (o.end <= m.start || o.start >= m.end)
                && !self.tok_has(o.start, CONTENT | Role::Second.bit() | Role::Person.bit() | Role::Idiom.bit())
        };
        for (_, o) in self.of(Role::Mention).filter(|(_, o)| outside(o)) {
            let t = &self.toks[o.start];
            best = best.max(if t.clause == clause {
                1.0
            } else if t.sentence == sentence {
                0.6
            } else {
                0.3
            });
        }
        best
    }

    /// News words ("police", "killed") in the sentence (1) or the comment (0.3); not those inside an abusive phrase
    /// ("should be killed").
    fn news(&self, m: &Match) -> f64 {
        let s = self.toks[m.start].sentence;
        let mut best: f64 = 0.0;
        for (_, o) in self.of(Role::News).filter(|(_, o)| !self.tok_has(o.start, CONTENT)) {
            best = best.max(if self.toks[o.start].sentence == s { 1.0 } else { 0.3 });
        }
        best
    }

    fn context(&self, m: &Match, severity: u8, structure: f64, target: f64) -> Features {
        Features {
            severity: f64::from(severity) / 3.0,
            structure,
            target,
            negated: self.negated(m),
            mention: self.mention(m),
            news: self.news(m),
            count: 0.0,
        }
    }

    fn candidate(&self, category: Category, m: &Match, features: Features, why: &'static str) -> Candidate {
        Candidate { category, range: m.range.clone(), severity: m.entry.severity, features, why }
    }

    /// A first person's intent ("I'm going to", "we will", "-unga") reaching into the window before `m` or just
    /// after it ("maar dunga").
    fn has_intent(&self, m: &Match) -> bool {
        let span = self.around(m, WINDOW, 3);
        self.of(Role::Intent).any(|(_, o)| o.end > span.start && o.start < span.end)
            // A condition or a wish makes only a severe act a threat: "if ever I hurt you, slap yourself" and
            // "should I buy the torch" are not.
            || (m.entry.severity >= 3 && {
                let (_, wish, implied) = self.markers(m);
                wish || implied > 0.0
            })
    }

    /// The markers that make an act or a harm a threat besides a first person's intent: a condition or a
    /// prediction ("if you write again", "agli dafa", "warna", "keep writing and", "you'll be") anywhere in `m`'s
    /// sentence or the sentence before it, or a wish or call before `m` in its sentence ("I hope", "khuda kare",
    /// "deserves to") or put after it (`Doc::call_after`: "bomb kar do"). A violent act takes only the wish and the
    /// "or else" ("if you need the acid test" is no threat); the field of harm takes all. Returns (marked, implied
    /// target): an "or else" (`condition` of severity 3: "warna", "ورنہ", "otherwise") speaks to the reader even when
    /// no "you" is written.
    fn marked(&self, m: &Match) -> (bool, f64) {
        let (condition, wish, implied) = self.markers(m);
        (condition || wish, implied)
    }

    /// The parts of [`Doc::marked`]: (a condition, a wish, the implied target).
    fn markers(&self, m: &Match) -> (bool, bool, f64) {
        let s = self.toks[m.start].sentence;
        let mut condition = false;
        let mut implied: f64 = 0.0;
        for (_, c) in self.of(Role::Condition) {
            let cs = self.toks[c.start].sentence;
            if cs == s || cs + 1 == s {
                condition = true;
                if c.entry.severity >= 3 {
                    implied = 0.8;
                }
            }
        }
        let span = self.around(m, 2 * WINDOW, 0);
        let wish =
            self.of(Role::Wish).any(|(_, w)| w.entry.severity >= 2 && w.start >= span.start && w.start < m.start)
                || self.call_after(m);
        (condition, wish, implied)
    }

    /// A call put after the act, where Urdu and Hindi put it, at the end of the clause: an imperative or an
    /// obligation ("bomb kar do", "goli hi marni chahiye", "تیزاب سے علاج کرنا چاہیے") — `wish` terms of severity 1,
    /// which count only at the end of an act of violence or harm ("maaro", "مارو": the act in the imperative) or
    /// within three tokens after it in its clause (alone, "do" and "دو" are also "two" and "give").
    fn call_after(&self, m: &Match) -> bool {
        let clause = self.toks[m.start].clause;
        self.of(Role::Wish).any(|(_, w)| {
            w.entry.severity == 1
                && w.start >= m.start
                && w.end >= m.end
                && w.start <= m.end + 3
                && self.toks[w.start].clause == clause
        })
    }

    /// The field of harm ("grave", "funeral", "acid", "won't walk again", "tangein tor") is a threat when it has a
    /// target (or an "or else" implies the reader) and a marker: a first person's intent, a condition, a wish or a
    /// call. Either alone is a weak candidate: a news report of a funeral, a wish for recovery, a grave in a poem.
    /// Wished or called for in a comment that attacks a group (`attacked`), the group is the victim.
    fn harm(&self, m: &Match, attacked: bool) -> Candidate {
        let targets = Role::Second.bit() | Role::Person.bit() | Role::Object.bit();
        // The victim may stand further back than an insult's target: "your mother will be picking out a coffin".
        let (t, _) = self.target_in(m, targets, self.around(m, 2 * WINDOW, WINDOW), true);
        // "teri tangein tor", "تمہاری گردن": the reader's possessive right before the harm names the victim.
        let poss_tight = self
            .within(Role::SecondPoss.bit(), self.around(m, WINDOW, 0))
            .any(|o| o.end <= m.start && self.tight(o, m));
        // "… your car. Accidents happen.": the victim named in the sentence before.
        let s = self.toks[m.start].sentence;
        let before = s > 0
            && self.of(Role::Second).chain(self.of(Role::Object)).any(|(_, o)| {
                self.toks[o.start].sentence + 1 == s && o.entry.severity >= 3 && o.end + 2 * WINDOW >= m.start
            });
        let (marked, implied) = self.marked(m);
        // A veiled menace in the sentence ("yaad rakhna", "careful rehna") is a warning to the reader, like an "or
        // else": it marks the harm as a threat and implies its target.
        let menace = self.of(Role::Menace).any(|(_, o)| self.toks[o.start].sentence == s);
        let marked = marked || menace;
        let t = t.max(implied).max(if poss_tight || before || menace || (marked && attacked) { 0.8 } else { 0.0 });
        let (structure, why) = match (marked || self.has_intent(m), t >= 0.5) {
            (true, true) if m.entry.severity >= 3 => (0.9, "harm promised, wished or made a condition, with a target"),
            // The milder field (blood, bones, a knife) only adds to a threat made otherwise: "it gets in your bones,
            // I'm dancing", "if her blood pressure is normal".
            (true, true) => (0.45, "harm promised, wished or made a condition, with a target"),
            (true, false) => (0.35, "harm promised or wished"),
            (false, true) => (0.25, "harm near a target"),
            (false, false) => (0.05, "a word of harm"),
        };
        let f = self.context(m, m.entry.severity, structure, t);
        self.candidate(Category::Threat, m, f, why)
    }

    /// A body part, clothes or looks (`body`), or a private meeting, a number or pictures (`invite`), made sexual by
    /// an `allure` word in the sentence ("so tight", "juicy", "darling", "nazar ruk gayi") and aimed at a person:
    /// "her dress was so tight", "apna number do jaan". Without the allure word ("her dress was elegant", "send me
    /// your number for the survey") it stays weak.
    fn allure(&self, m: &Match) -> Candidate {
        let roles = Role::Second.bit() | Role::Person.bit() | Role::Object.bit();
        let (t, _) = self.target(m, roles);
        let s = self.toks[m.start].sentence;
        // An endearment alone is no allure ("not tonight babe", "hi babe … my bed"): friends and couples write so.
        // A sexual term in the sentence sexualises too ("fun in the sack, look at that body").
        let allure = self.of(Role::Allure).any(|(_, a)| a.entry.severity < 3 && self.toks[a.start].sentence == s)
            || self.of(Role::Sexual).any(|(_, a)| self.toks[a.start].sentence == s);
        // "your lips", "tumhari tasveerein": the reader's own body or pictures; an endearment ("darling", "jaan":
        // `allure` of severity 3) speaks to the reader too.
        let (poss, _) = self.target(m, Role::SecondPoss.bit());
        let endeared = self.of(Role::Allure).any(|(_, a)| a.entry.severity >= 3 && self.toks[a.start].sentence == s);
        let t = if poss > 0.0 || endeared { t.max(0.8) } else { t };
        // Body and meeting together are allure enough ("send pics of your body", "dupatta hata do, video call
        // karo"); two meeting words are only with an endearment ("number do jaan, raat ko akele mein"): "DM me your
        // number for the form" and "a shindig at my place tonight" are not.
        let paired = self.of(Role::Body).chain(self.of(Role::Invite)).any(|(_, o)| {
            (o.end <= m.start || o.start >= m.end)
                && self.toks[o.start].sentence == s
                && (o.entry.role != m.entry.role || endeared)
        });
        let (structure, why) = match (allure || paired, t >= 0.5) {
            (true, true) => (0.85, "a sexual remark or proposition aimed at a person"),
            (true, false) => (0.5, "a sexual remark or proposition"),
            (false, true) => (0.2, "looks or a meeting, near a person"),
            (false, false) => (0.05, "looks or a meeting"),
        };
        let f = self.context(m, m.entry.severity, structure, t);
        self.candidate(Category::Sexual, m, f, why)
    }

    fn threat_phrase(&self, m: &Match) -> Candidate {
        let targets = Role::Second.bit() | Role::Person.bit() | Role::Group.bit() | Role::Object.bit();
        let (t, _) = self.target(m, targets | Role::SecondPoss.bit());
        // A mild phrase ("bach ke rehna", "you'll be sorry") threatens only when aimed at someone.
        let structure = if m.entry.severity >= 2 || t >= 0.5 { 1.0 } else { 0.7 };
        let f = self.context(m, m.entry.severity, structure, t);
        self.candidate(Category::Threat, m, f, "a threat")
    }

    /// A veiled menace ("we will visit soon", "soch lo", "you all know what to do") threatens when the comment
    /// gives someone's personal details (doxxing: an address, a car, office hours, a child's school), less when it
    /// is aimed at the reader, hardly at all otherwise.
    fn menace(&self, m: &Match) -> Candidate {
        let detail = self.present & Role::Detail.bit() != 0;
        let targets = Role::Second.bit() | Role::SecondPoss.bit() | Role::Person.bit() | Role::Object.bit();
        let (t, _) = self.target(m, targets);
        let (structure, why) = if detail {
            (1.0, "a menace next to someone's personal details")
        } else if t >= 0.5 {
            (0.6, "a veiled menace aimed at a person")
        } else {
            (0.2, "a veiled menace")
        };
        let f = self.context(m, m.entry.severity, structure, if detail { 1.0 } else { t });
        self.candidate(Category::Threat, m, f, why)
    }

    /// A violent act: a threat with a stated intent or as an order, against a target. An order without a victim of
    /// its own in a comment that attacks a group (`attacked`) is aimed at that group.
    fn violence(&self, m: &Match, attacked: bool) -> Candidate {
        let targets = Role::Second.bit() | Role::Person.bit() | Role::Group.bit() | Role::Object.bit();
        let (t, _) = self.target(m, targets);
        // "tera kaam tamaam kar denge", "تمہارا کام تمام کر دیں گے": the reader's possessive right before the act
        // names the victim (after it, "slap your …", the possessive names a thing; English victims named by a
        // possessive are listed as objects: "your house", "your kids").
        let poss_tight = self
            .within(Role::SecondPoss.bit(), self.around(m, WINDOW, 0))
            .any(|o| o.end <= m.start && self.tight(o, m));
        let t = if poss_tight { t.max(0.8) } else { t };
        let intent = self.has_intent(m);
        // "Kill this blogger", "hang these liberals": a violent verb opening its clause is an order; so is one with a
        // call after it ("inko bomb kar do").
        let imperative =
            m.start == 0 || self.toks[m.start - 1].clause != self.toks[m.start].clause || self.call_after(m);
        let t = if imperative && attacked { t.max(0.8) } else { t };
        // A bare "ye"/"یہ" (0.5) is too weak to be the victim of a violent verb ("log marenge tab ye sarak...").
        let (structure, why) = match (intent, t > 0.5) {
            (true, true) => (1.0, "a violent act against a target, with stated intent"),
            (false, true) if imperative => (0.8, "a call for violence against a target"),
            (true, false) => (0.5, "a violent act with stated intent"),
            (false, true) => (0.35, "a violent act near a target"),
            (false, false) if imperative && t > 0.0 => (0.5, "a call for violence"),
            (false, false) => (0.1, "a violent word"),
        };
        let f = self.context(m, m.entry.severity, structure, t);
        self.candidate(Category::Threat, m, f, why)
    }

    fn harm_call(&self, m: &Match) -> Candidate {
        let targets = Role::Second.bit() | Role::Person.bit() | Role::Group.bit() | Role::Object.bit();
        let (t, _) = self.target(m, targets);
        // "deserves to be shot", "burn every church": a severe call names its victim itself; a milder one ("maar
        // maar ke", "phansi do") needs one.
        let structure = if t >= 0.5 {
            0.9
        } else if m.entry.severity >= 3 {
            0.8
        } else {
            0.5
        };
        let f = self.context(m, m.entry.severity, structure, t);
        self.candidate(Category::Threat, m, f, "a call for violence")
    }

    fn slur(&self, m: &Match) -> Candidate {
        let (t, _) = self.target(m, Role::Second.bit() | Role::Group.bit() | Role::Person.bit());
        let structure = if t >= 0.5 { 1.0 } else { 0.6 };
        let f = self.context(m, m.entry.severity, structure, t);
        self.candidate(Category::IdentityAttack, m, f, "a slur against a group")
    }

    /// An insult aimed at the reader or a person. `None` for a dehumanising noun and for an insult aimed at a
    /// group and nobody else: those are identity attacks (see [`Doc::group_attack`]).
    fn insult(&self, m: &Match) -> Option<Candidate> {
        let (second, second_tight) = self.target(m, Role::Second.bit());
        let (person, mut person_tight) = self.target(m, Role::Person.bit());
        let (poss, poss_tight) = self.target(m, Role::SecondPoss.bit());
        // "women journalists are all whores": the person word belongs to a group, so it is the group's attack.
        let grouped = |min: u8| {
            self.within(Role::Group.bit(), self.around(m, WINDOW, WINDOW)).any(|g| {
                g.entry.severity >= min
                    && (g.start..g.end).any(|i| self.tok_has(i, Role::Person.bit()))
                    && self.tight(g, m)
            })
        };
        if grouped(2) && !second_tight {
            person_tight = false;
        }
        // "abe gadhe", "chup kar be ghatiya insaan": a form of address up to three tokens before.
        let vocative = self.within(Role::Vocative.bit(), self.around(m, 3, 0)).next().is_some();
        // A dehumanising word describes a group ("they are a curse"): that is `group_attack`'s. The insults aimed
        // at a person ("you animal", "you filth") are on the insult lists themselves.
        if m.entry.role == Role::Dehumanize {
            return None;
        }
        // An accusation ("liar", "jhoota") said of an office holder or anyone but the reader is criticism of conduct by
        // the label rules ("The minister is a liar, his own budget proves it"); aimed at the reader or as a form of
        // address ("you liar", "abe jhootay", "Liar, you know nothing") it is name-calling.
        if self.tok_has(m.start, Role::Accusation.bit())
            && !(second_tight || vocative || self.addressed(m) || (second > 0.0 && self.alone_in_clause(m)))
        {
            return None;
        }
        let (structure, target, why) = if second_tight {
            // "آپ بے وقوف ہیں", "aap jahil hain": a polite or ambiguous "you" (severity 2) side by side with an insult
            // is still the reader insulted.
            // Only a "you" opening its clause (or after a vocative): "میں تو پاگل ہوں" is the particle "to".
            let leads = self.within(Role::Second.bit(), self.around(m, WINDOW, 0)).any(|t| {
                t.start <= m.start
                    && self.tight(t, m)
                    && (t.start == 0
                        || self.toks[t.start - 1].clause != self.toks[t.start].clause
                        || self.tok_has(t.start - 1, Role::Vocative.bit()))
            });
            let s = if second >= 0.6 && leads { second.max(0.85) } else { second };
            (s, second, "an insult aimed at the reader")
        } else if vocative || self.addressed(m) {
            (0.9, 1.0, "an insult used as a form of address")
        } else if person_tight && self.alone_in_clause(m) {
            // "Stupid woman!", "harami sahafi", "kanjri hai ye": a person named by the insult alone.
            (0.9, person, "an insult aimed at a person")
        } else if person_tight {
            // A severe insult ("randi", "kanjri", "harami") aimed at even a bare "ye" is aimed at someone.
            let floor = if m.entry.severity >= 3 { 0.7 } else { 0.0 };
            (person.max(floor), person, "an insult aimed at a person")
        } else if self.alone_in_clause(m) {
            (0.9, 0.5, "an insult standing on its own")
        } else if second > 0.0 {
            (0.5 * second, second, "an insult near the second person")
        } else if poss_tight {
            (0.3, poss, "an insult near a possessive")
        } else {
            let grouped = self.within(Role::Group.bit(), self.around(m, WINDOW, WINDOW)).any(|g| self.tight(g, m));
            if grouped {
                return None;
            }
            (if person > 0.0 { 0.3 } else { 0.0 }, person, "an insulting word")
        };
        // Banter: a mild insult in a comment that says it fondly ("you donkey … miss you bro", "tu pagal hai … love
        // you behna") is friends teasing; a severe one ("harami", "randi") is not softened by it.
        let fond = m.entry.severity <= 2 && self.present & Role::Fond.bit() != 0;
        let (structure, why) = if fond { (structure.min(0.2), BANTER) } else { (structure, why) };
        let mut f = self.context(m, m.entry.severity, structure, target);
        // Aimed at the reader, the insult is the writer's own: a reporting word outside its clause reports something
        // else ("you absolute muppet, the article says the opposite"). Quoted or reported in its clause, it stays
        // a mention.
        if (second_tight || vocative) && f.mention < 1.0 {
            f.mention = 0.0;
        }
        Some(self.candidate(Category::Insult, m, f, why))
    }

    /// Whether `m` closes a clause that opens with the reader, with at most one word that is no filler between
    /// ("you circus clown", "you sad little troll"): the words between describe the insult, whatever they are.
    fn addressed(&self, m: &Match) -> bool {
        let clause = self.toks[m.start].clause;
        if self.toks.get(m.end).is_some_and(|t| t.clause == clause) {
            return false;
        }
        self.within(Role::Second.bit(), self.around(m, 4, 0)).any(|t| {
            t.entry.severity >= 3
                && t.end <= m.start
                && self.toks[t.start].clause == clause
                && (t.start == 0 || self.toks[t.start - 1].clause != clause)
                && (t.end..m.start).filter(|&i| !self.tok_has(i, Role::Filler.bit())).count() <= 1
                && !(t.end..m.start).any(|i| self.tok_has(i, Role::Negation.bit()))
        })
    }

    /// Whether `m` is its clause with only fillers, vocatives, profanity and other insults around it ("Idiot!",
    /// "what an idiot", "jahil gawar").
    fn alone_in_clause(&self, m: &Match) -> bool {
        let clause = self.toks[m.start].clause;
        let fill =
            Role::Filler.bit() | Role::Vocative.bit() | Role::Profanity.bit() | Role::Person.bit() | Role::Insult.bit();
        let mut lo = m.start;
        while lo > 0 && self.toks[lo - 1].clause == clause {
            lo -= 1;
        }
        let mut hi = m.end;
        while hi < self.toks.len() && self.toks[hi].clause == clause {
            hi += 1;
        }
        (lo..m.start).chain(m.end..hi).all(|i| self.tok_has(i, fill))
    }

    fn sexual(&self, m: &Match) -> Candidate {
        let roles = Role::Second.bit() | Role::SecondPoss.bit() | Role::Person.bit();
        let (t, _) = self.target(m, roles);
        let t = if self.tok_has(m.start, Role::SecondPoss.bit()) { t.max(0.8) } else { t };
        // "all these female anchors are prostitutes": a sexual slur predicated of a group side by side.
        let (g, g_tight) = self.target(m, Role::Group.bit());
        let t = if g_tight { t.max(g) } else { t };
        // As strong as its target ("you are sexy" more than "ur ... cum"); a severe term is a proposition or a
        // request in itself ("send nudes", "ek raat ka rate").
        let structure = if m.entry.severity >= 3 { t.max(0.8) } else { t.max(0.3) };
        let why = if t >= 0.3 { "sexual language aimed at a person" } else { "sexual language" };
        let f = self.context(m, m.entry.severity, structure, t);
        self.candidate(Category::Sexual, m, f, why)
    }

    fn profanity(&self, m: &Match) -> Candidate {
        let (t, tight) = self.target(m, Role::Second.bit() | Role::SecondPoss.bit());
        let structure = if tight { 1.0 } else { 0.0 };
        let f = self.context(m, m.entry.severity, structure, t);
        self.candidate(Category::Profanity, m, f, "profanity")
    }

    /// A group noun with a dehumanising noun, a call for harm, a threat or an insult in its sentence; a call for
    /// harm against "them" right after a sentence about a group counts too ("Qadianis are kafir. Kill them.").
    fn group_attack(&self, g: &Match) -> Vec<Candidate> {
        let preds = Role::Dehumanize.bit()
            | Role::HarmCall.bit()
            | Role::Violence.bit()
            | Role::Threat.bit()
            | Role::Insult.bit()
            | Role::Slur.bit();
        let general = self.within(Role::General.bit(), self.around(g, 3, 1)).next().is_some();
        // A group word that is also a person word ("aurat", "woman") is the weaker target its severity says.
        let target = if general { 1.0 } else { 0.7 } * f64::from(g.entry.severity) / 3.0;
        let as_person = self.tok_has(g.start, Role::Person.bit());
        // "اس عورت", "this woman", "ye maulvi", "maulvi sahab": a group word inside a phrase naming one person (a
        // person term of severity 3) names that person. Not a slur-strength group word (severity 3).
        let one_person = g.entry.severity <= 2
            && self.of(Role::Person).any(|(_, o)| o.entry.severity == 3 && o.start <= g.start && g.end <= o.end);
        if one_person {
            return Vec::new();
        }
        let sentence = self.toks[g.start].sentence;
        let mut out = Vec::new();
        let candidates = [Role::Dehumanize, Role::HarmCall, Role::Violence, Role::Threat, Role::Insult, Role::Slur];
        for (k, p) in candidates.iter().flat_map(|&r| self.of(r)) {
            if p.entry.role.bit() & preds == 0 || self.suppressed(k) {
                continue;
            }
            let ps = self.toks[p.start].sentence;
            // "Qadianis are kafir. Kill them.", "these Baloch types? ... they are animals": a later sentence that
            // speaks of "them" or "they" right before the predicate still speaks of the group.
            let later = ps >= sentence
                && ps <= sentence + 2
                && p.start > g.end
                && self.within(Role::Object.bit() | Role::General.bit(), self.around(p, 3, 1)).next().is_some();
            let near = ps == sentence && p.start.abs_diff(g.start) <= 2 * WINDOW;
            let later = later && !near;
            if !(near || later) {
                continue;
            }
            // "Sunnis are bloodthirsty barbarians", "ahmadi zehreelay saanp hain": the predicate follows the group in
            // its clause, whatever adjectives stand between.
            let predicate = near
                && p.start >= g.end
                && p.start - g.end <= 8
                && self.toks[g.start].clause == self.toks[p.start].clause
                && !(g.end..p.start).any(|i| self.tok_has(i, Role::Negation.bit()));
            let violent = matches!(p.entry.role, Role::HarmCall | Role::Threat | Role::Dehumanize | Role::Slur)
                || p.entry.role == Role::Violence && self.has_intent(p);
            if p.entry.role == Role::Violence && !violent {
                continue;
            }
            let tight = near && self.tight(g, p);
            if !violent && as_person && (tight || predicate) {
                // "besharam aurat": an insult to a woman, not to women.
                continue;
            }
            let structure = match (violent, tight, predicate) {
                (true, true, _) => 1.0,
                (false, true, _) => 0.85,
                (true, false, true) => 0.9,
                (false, false, true) => 0.75,
                (true, false, false) if later => 0.8,
                (true, false, false) => 0.55,
                (false, false, false) => 0.35,
            };
            let why = if violent { "a group dehumanised or threatened" } else { "a group insulted" };
            let mut f = self.context(p, p.entry.severity, structure, target);
            f.negated = f.negated.max(self.negated(g));
            let range =
                if tight { g.range.start.min(p.range.start)..g.range.end.max(p.range.end) } else { p.range.clone() };
            out.push(Candidate {
                category: Category::IdentityAttack,
                range,
                severity: p.entry.severity,
                features: f,
                why,
            });
        }
        out
    }
}

/// Whether the comment attacks a group (an identity-attack candidate of clear structure, neither negated nor
/// reported): then a call for violence or harm without a victim of its own is aimed at that group ("Baloch sab ghaddar
/// hain, poore sube pe bomb maaro", "X are traitors and deserve every bullet").
fn attacks_a_group(attacks: &[Candidate]) -> bool {
    attacks.iter().any(|c| c.features.structure >= 0.75 && c.features.negated == 0.0 && c.features.mention < 0.6)
}

/// Whole-word in the folded text: where the pattern starts (ends) with a word character, the text must not
/// continue the word.
fn is_whole(text: &str, start: usize, end: usize) -> bool {
    // Most overlapping matches are short patterns inside longer ASCII words ("ki" in "kiya"): refuse those on the
    // bytes alone before decoding any character (a third of the plain pass' cost otherwise).
    let b = text.as_bytes();
    let glued = |x: Option<&u8>, y: Option<&u8>| {
        x.zip(y).is_some_and(|(x, y)| x.is_ascii_alphanumeric() && y.is_ascii_alphanumeric())
    };
    if glued(start.checked_sub(1).and_then(|i| b.get(i)), b.get(start))
        || glued(end.checked_sub(1).and_then(|i| b.get(i)), b.get(end))
    {
        return false;
    }
    let (Some(pat), Some(before), Some(after)) = (text.get(start..end), text.get(..start), text.get(end..)) else {
        return false;
    };
    let edge = |inner: Option<char>, outer: Option<char>| match (inner, outer) {
        (Some(i), Some(o)) if is_word(i) => !is_word(o),
        _ => true,
    };
    edge(pat.chars().next(), before.chars().next_back()) && edge(pat.chars().next_back(), after.chars().next())
}

fn is_sentence_end(c: char) -> bool {
    matches!(c, '.' | '!' | '?' | '؟' | '۔' | '।' | '\n')
}

fn is_clause_end(c: char) -> bool {
    matches!(c, ',' | '،' | ';' | '؛' | ':' | '(' | ')' | '-' | '–' | '—')
}

/// Tokens of the folded text with their sentence, clause and quoting.
fn tokenize(text: &str) -> Vec<Token> {
    let mut toks = Vec::with_capacity(text.len() / 4);
    let (mut sentence, mut clause) = (0u32, 0u32);
    let mut quoted = false;
    let mut start: Option<usize> = None;
    let mut prev_word = false;
    let mut chars = text.char_indices().peekable();
    while let Some((i, c)) = chars.next() {
        let word = is_word(c);
        if word {
            if start.is_none() {
                start = Some(i);
            }
        } else {
            if let Some(s) = start.take() {
                toks.push(Token { range: s..i, sentence, clause, quoted, roles: 0 });
            }
            let next_word = chars.peek().is_some_and(|&(_, n)| is_word(n));
            if is_sentence_end(c) {
                // A dot with a word on both sides ("3.5", "example.com") does not end a sentence.
                if !(prev_word && next_word && c == '.') {
                    sentence += 1;
                    clause += 1;
                }
            } else if is_clause_end(c) && !(c == '-' && prev_word && next_word) {
                // A hyphen inside a word ("brain-dead", "so-called") does not cut the clause.
                clause += 1;
            } else if matches!(c, '"' | '“' | '”' | '«' | '»' | '「' | '」') {
                quoted = match c {
                    '“' | '«' | '「' => true,
                    '”' | '»' | '」' => false,
                    _ => !quoted,
                };
                clause += 1;
            } else if matches!(c, '\'' | '‘' | '’') {
                // Apostrophes inside words were folded away: what is left opens a quote before a word and closes
                // one after a word.
                if !prev_word && next_word {
                    quoted = true;
                    clause += 1;
                } else if prev_word && !next_word && quoted {
                    quoted = false;
                    clause += 1;
                }
            }
        }
        prev_word = word;
    }
    if let Some(s) = start {
        toks.push(Token { range: s..text.len(), sentence, clause, quoted, roles: 0 });
    }
    toks
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_sentences_clauses_and_quotes() {
        let toks = tokenize("he said 'i will kill you', i reported it. ok 3.5");
        let words: Vec<(&str, u32, u32, bool)> = toks
            .iter()
            .map(|t| {
                (&"he said 'i will kill you', i reported it. ok 3.5"[t.range.clone()], t.sentence, t.clause, t.quoted)
            })
            .collect();
        assert_eq!(words[0], ("he", 0, 0, false));
        assert_eq!(words[2], ("i", 0, 1, true));
        assert_eq!(words[5], ("you", 0, 1, true));
        assert_eq!(words[6], ("i", 0, 3, false));
        assert_eq!(words[9], ("ok", 1, 4, false));
        assert_eq!(words.len(), 12, "3.5 is two tokens in one sentence: {words:?}");
        assert_eq!(words[11].1, 1);
    }
}

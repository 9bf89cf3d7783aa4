//! Context words: the words people write next to personal data ("call me", "mera number", "رابطہ", "iban"), and the
//! words that say a number is something else ("rs.", "order", "isbn"). Looked up with one Aho-Corasick automaton over
//! the normalised text, only around candidates (see [`ContextIndex`]).
//!
//! | kind | words (normalised; English, Roman Urdu, Urdu, Arabic, French, German, Hindi) |
//! | --- | --- |
//! | `PHONE` | call, call me, phone, tel, telephone, dial, mobile, mob, cell, contact, whatsapp, sms, text me, ring, number, num, no., ph, helpline, hotline, customer care/service(s), custcare, freefone, landline, land line, ptcl, fixed line, festnetz, rufnummer, telefonnummer, numéro, fixe, ٹیلیفون, لینڈ لائن, mera/mere/my number, rabta, raabta, numbr, nmbr, فون, نمبر, رابطہ, موبائل, کال, واٹس ایپ, رقم, هاتف, جوال, اتصل, واتساب, téléphone, tél, portable, appelez, telefon, handy, anrufen, nummer, फोन, नंबर |
//! | `EMAIL` | email, e-mail, mail, mail me, inbox, courriel, ای میل, ایمیل, البريد |
//! | `CARD` | card, credit card, debit card, visa, mastercard, amex, cvv, expiry, کارڈ, carte, karte, kreditkarte, بطاقة |
//! | `BANK` | iban, account, acc, a/c, bank, transfer, send money, paisay, اکاؤنٹ, بینک, compte, konto, überweisung, حساب, بنك |
//! | `SSN` | ssn, social security, ایس ایس این, سوشل سیکیورٹی, الضمان الاجتماعي, sécurité sociale |
//! | `CNIC` | cnic, nic, shanakhti, shanakhti card, id card, شناختی, شناختی کارڈ, قومی |
//! | `AADHAAR` | aadhaar, aadhar, adhaar, uid, uidai, आधार, آدهار |
//! | `NINO` | national insurance, nino, ni number |
//! | `ID` | id, identity, id no, identity card, national id, carte d'identité, ausweis, هوية |
//! | `NEGATIVE` | rs, rs., pkr, inr, usd, eur, price, cost, order, order no, invoice, tracking, isbn, ref, reference, qty, item, model, serial, sku, pin, otp, code, page, score, runs, km, kg, year, lat, lng, roll no |
//!
//! A word is *near* a candidate when it ends at most [`BEFORE`] bytes before the candidate starts or starts at most
//! [`AFTER`] bytes after it ends. Latin words only match whole words (no letter or digit on either side), so `rs`
//! does not fire inside `hours`.

use super::scan;
use crate::analysis::normalize::Normalized;
use aho_corasick::{AhoCorasick, AhoCorasickBuilder, MatchKind};
use std::ops::Range;
use std::sync::LazyLock;

pub const PHONE: u16 = 1;
pub const EMAIL: u16 = 1 << 1;
pub const CARD: u16 = 1 << 2;
pub const BANK: u16 = 1 << 3;
pub const SSN: u16 = 1 << 4;
pub const CNIC: u16 = 1 << 5;
pub const AADHAAR: u16 = 1 << 6;
pub const NINO: u16 = 1 << 7;
pub const ID: u16 = 1 << 8;
pub const NEGATIVE: u16 = 1 << 9;
/// Any national-identifier word.
pub const ID_KINDS: u16 = SSN | CNIC | AADHAAR | NINO | ID;

/// How far before a candidate a context word may end, in bytes of normalised text (about six words of Latin text;
/// Urdu letters take two bytes).
pub const BEFORE: usize = 40;
/// How far after a candidate a context word may start ("0300-1234567 pe rabta karein").
pub const AFTER: usize = 24;

#[rustfmt::skip]
const WORDS: &[(u16, &[&str])] = &[
    (PHONE, &[
        "call", "call me", "phone", "tel", "tel.", "mobile", "mob", "cell", "contact", "whatsapp", "whats app",
        "watsapp", "sms", "text me", "ring", "number", "num", "no.", "ph", "ph.", "phone no", "mera number",
        "mere number", "my number", "rabta", "raabta", "numbr", "nmbr", "fone", "فون", "نمبر", "رابطہ", "رابطه",
        "موبائل", "کال", "واٹس ایپ", "رقم", "هاتف", "جوال", "اتصل", "واتساب", "téléphone", "tél", "portable",
        "appelez", "appelle", "telefon", "handy", "anrufen", "nummer", "फोन", "नंबर", "मोबाइल", "telephone", "dial",
        "helpline", "hotline", "customer care", "customer service", "customer services", "custcare", "freefone",
        "freephone", "landline", "land line", "ptcl", "fixed line", "festnetz", "rufnummer", "telefonnummer",
        "numéro", "fixe", "ٹیلیفون", "لینڈ لائن",
    ]),
    (EMAIL, &["email", "e-mail", "mail", "mail me", "inbox", "courriel", "ای میل", "ایمیل", "البريد", "ईमेल"]),
    (CARD, &[
        "card", "credit card", "debit card", "visa", "mastercard", "amex", "cvv", "expiry", "کارڈ", "carte", "karte",
        "kreditkarte", "بطاقة",
    ]),
    (BANK, &[
        "iban", "account", "acc", "a/c", "bank", "transfer", "send money", "paisay", "اکاؤنٹ", "بینک", "compte",
        "konto", "überweisung", "حساب", "بنك",
    ]),
    (SSN, &[
        "ssn", "social security", "social security number", "ایس ایس این", "سوشل سیکیورٹی", "الضمان الاجتماعي",
        "sécurité sociale",
    ]),
    (CNIC, &["cnic", "nic", "shanakhti", "shanakhti card", "id card", "شناختی", "شناختی کارڈ", "قومی"]),
    (AADHAAR, &["aadhaar", "aadhar", "adhaar", "uid", "uidai", "आधार", "آدهار", "آدھار"]),
    (NINO, &["national insurance", "nino", "ni number", "ni no"]),
    (ID, &["id", "identity", "id no", "identity card", "national id", "carte d'identité", "ausweis", "هوية"]),
    (NEGATIVE, &[
        "rs", "rs.", "pkr", "inr", "usd", "eur", "price", "cost", "order", "order no", "invoice", "tracking", "isbn",
        "ref", "reference", "qty", "item", "model", "serial", "sku", "pin", "otp", "code", "page", "score", "runs",
        "km", "kg", "year", "lat", "lng", "roll no",
    ]),
];

struct Automaton {
    ac: AhoCorasick,
    /// Length in bytes of the longest word.
    longest: usize,
    /// Per pattern: its kinds, and whether it is a Latin word that must match whole.
    meta: Vec<(u16, bool)>,
}

static AUTOMATON: LazyLock<Automaton> = LazyLock::new(|| {
    let mut pats: Vec<String> = Vec::new();
    let mut meta: Vec<(u16, bool)> = Vec::new();
    for (kind, words) in WORDS {
        for w in *words {
            // Normalise the word the way the text is normalised, so folding rules can never make them disagree.
            let p = Normalized::new(w).as_str().to_string();
            if p.is_empty() {
                continue;
            }
            if let Some(i) = pats.iter().position(|q| *q == p) {
                meta[i].0 |= kind;
                continue;
            }
            let whole = p.bytes().next().is_some_and(|b| b.is_ascii_alphanumeric())
                || p.bytes().last().is_some_and(|b| b.is_ascii_alphanumeric());
            pats.push(p);
            meta.push((*kind, whole));
        }
    }
    let ac = AhoCorasickBuilder::new()
        .match_kind(MatchKind::LeftmostLongest)
        .build(&pats)
        .expect("context words form a valid automaton");
    let longest = pats.iter().map(String::len).max().unwrap_or(0);
    Automaton { ac, longest, meta }
});

pub fn warm_up() {
    LazyLock::force(&AUTOMATON);
}

/// Looks context words up around candidates of one text.
///
/// Only the window a query needs is scanned (the candidate, [`BEFORE`]/[`AFTER`] bytes around it, and the longest
/// word's length beyond that), so a long comment with one phone number costs one short scan, not a pass over the
/// whole text; and many candidates cost windows proportional to their number, so the total stays linear.
#[derive(Debug, Clone, Copy)]
pub struct ContextIndex<'t> {
    text: &'t str,
}

impl<'t> ContextIndex<'t> {
    pub fn new(text: &'t str) -> ContextIndex<'t> {
        ContextIndex { text }
    }

    /// Whether a word of one of `kinds` is near `span` (see [`BEFORE`], [`AFTER`]).
    pub fn near(&self, span: &Range<usize>, kinds: u16) -> bool {
        self.near_within(span, kinds, BEFORE, AFTER)
    }

    /// Like [`ContextIndex::near`] with explicit windows: a word counts when it ends at most `before` bytes before
    /// `span` starts or starts at most `after` bytes after it ends, without overlapping it.
    pub fn near_within(&self, span: &Range<usize>, kinds: u16, before: usize, after: usize) -> bool {
        let a = &*AUTOMATON;
        let b = self.text.as_bytes();
        let lo = floor(self.text, span.start.saturating_sub(before + a.longest));
        let hi = ceil(self.text, span.end.saturating_add(after + a.longest).min(b.len()));
        let (near_lo, near_hi) = (span.start.saturating_sub(before), span.end.saturating_add(after));
        let input = aho_corasick::Input::new(self.text).span(lo..hi);
        a.ac.find_iter(input).any(|m| {
            let Some(&(kind, whole)) = a.meta.get(m.pattern().as_usize()) else { return false };
            let bounded =
                !whole || (!scan::is_alnum(scan::before(b, m.start())) && !scan::is_alnum(b.get(m.end()).copied()));
            let placed =
                (m.end() <= span.start && m.end() >= near_lo) || (m.start() >= span.end && m.start() <= near_hi);
            kind & kinds != 0 && bounded && placed
        })
    }
}

fn floor(s: &str, mut i: usize) -> usize {
    while i > 0 && !s.is_char_boundary(i) {
        i -= 1;
    }
    i
}

fn ceil(s: &str, mut i: usize) -> usize {
    while i < s.len() && !s.is_char_boundary(i) {
        i += 1;
    }
    i
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_words_near_and_respects_word_boundaries() {
        let t = "mera number 03001234567 hai";
        let idx = ContextIndex::new(t);
        assert!(idx.near(&(12..23), PHONE));
        assert!(!idx.near(&(12..23), CARD));
        let t = "two hours 1234567";
        assert!(!ContextIndex::new(t).near(&(10..17), NEGATIVE));
        let t = "رابطہ 03001234567";
        let s = t.find('0').unwrap_or(0);
        assert!(ContextIndex::new(t).near(&(s..t.len()), PHONE));
    }
}

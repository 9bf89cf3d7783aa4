//! Spam detection: one calibrated `spam_score` in 0..1 and the `spam.*` findings that explain it.
//!
//! # How a comment is scored
//!
//! 1. **Text.** A naive Bayes model over hashed words, word bigrams and character 4-grams of the normalised text
//!    (`model`, `tokens`) and rule signals — links and their kinds, obfuscated links, phrase lists in English,
//!    Roman Urdu, Urdu and Hindi, repeated characters, shouting, symbol floods, look-alike letters and split
//!    letters, the author's website field (`signals`, `phrases`) — are combined by a logistic regression whose
//!    weights were fitted on held-out training folds (`combine`, `fit`). Its output is the text's probability of
//!    being spam.
//! 2. **History.** The author's and the address's reputation on this site (moderators' and automatic rejections
//!    against approvals) shift that log-odds: up to +3 for an author with a record of spam, down to −1 for a known
//!    good author; half as much for an address, which may be shared; a first-time author adds a small
//!    [`FIRST_TIME_AUTHOR_LOGIT`]. Hand-set: no labelled data exists for it yet.
//! 3. **Behaviour.** Evidence from outside the text — the honeypot field (0.99), an instant (0.85) or too-fast (0.55)
//!    form, more links than the site allows (`links::excess_score`), near copies of the comment posted recently by
//!    other authors or by the same one (`duplicates`: a campaign; the store counts them), a link or website on a domain the site blocks
//!    (1.0, `spam.blocked_domain`) — is combined with the text probability by noisy-OR: each is independent proof on
//!    its own, so one of them alone decides ("a honeypot alone rejects").
//!
//! Each rule input that pushed the score up by at least [`REPORT_LOGIT`] in log-odds becomes a finding whose score
//! is `sigmoid(contribution)` — the probability it alone would give from even odds — so moderators see which
//! signals decided. `spam.bayes` carries the model's part when the text reaches the site's hold threshold, and
//! spans the comment's most spam-like words.
//!
//! # Guarding against the training data
//!
//! The base model learned from YouTube comments, not from a news site's. Three guards keep YouTube's habits from
//! deciding on their own: the model alone can hold but never reject ([`combine::MAX_BAYES_LOGIT`]); one strong
//! phrase alone holds at most and links count once, through the link rule with a bounded weight — the model does
//! not read links (`tokens::without`) — and not at all when they go to reference and news sites
//! (`signals::REFERENCE`) or the site's allowed domains; and scores are moved from YouTube's half-spam prior to a
//! news site's ([`DEFAULT_SITE_PRIOR`]). What remains — English news prose with YouTube spam words ("check out the
//! report") scoring high — is what a site's own training (`commentguard train`, and the moderators' feedback)
//! corrects.
//!
//! # Learning
//!
//! Each site's moderators teach its model online (`crate::learning`): their decisions become counts added to the
//! base model's ([`model::Counts::add`]) in a per-site delta; the calibration stays the base's.
//!
//! # The model
//!
//! [`base_model`] is trained from the YouTube Spam Collection (Alberto, Lochter & Almeida, ICMLA 2015; CC BY 4.0)
//! and shipped inside the binary as counts (`base_model.bin`, see `codec` for the format). Regenerate it with
//!
//! ```text
//! cargo run --release -- train --youtube-csv ../shared/data/youtube-spam --fresh --min-count 2 \
//!     --model src/analysis/spam/base_model.bin
//! ```
//!
//! (a test checks the committed file is what that command produces). `commentguard train` adds a site's or an
//! operator's labelled comments to any model; counts add, so a per-site delta over the base model is one more
//! [`model::Counts`].
//!
//! # Invariants
//!
//! * Pure: no I/O (except [`SpamModel::load`]/`save`, which analysis never calls), no clock; the only global is the
//!   lazily decoded, immutable base model and the phrase automaton.
//! * Never panics; cost linear in the body (the model reads at most `tokens::MAX_BAYES_BYTES`).
//! * `score` is finite and in 0..1; every span is a non-empty byte range on char boundaries of the ORIGINAL body.

pub mod codec;
pub mod combine;
pub mod duplicates;
pub mod fit;
pub mod model;
pub mod phrases;
pub mod signals;
pub mod tokens;

pub use model::SpamModel;

use crate::analysis::domains::DomainLists;
use crate::analysis::links;
use crate::analysis::normalize::Normalized;
use crate::domain::{Context, Finding, Reputation, Signals};
use crate::findings::{self as codes, FindingCode};
use combine::sigmoid;
use std::ops::Range;
use std::sync::{Arc, LazyLock};

/// The share of spam a news site's comments are assumed to have, for [`prior_shift`]. The calibration is fitted on
/// the training data, where spam is about half (YouTube: 841 of 1749 comments); Bayes' rule moves the
/// log-odds by `logit(0.2) − logit(0.48) = −1.31` for a site where one comment in five is spam. Without it, the
/// base model holds ordinary English ("Thanks for the article") that merely talks about something other than
/// music videos — every YouTube comment that did was spam. Equivalent to moving both thresholds; kept in the
/// score so that 0.5 still means "more likely spam than not" on the site.
pub const DEFAULT_SITE_PRIOR: f64 = 0.2;

/// A rule input is reported as a finding when it raised the log-odds by at least this much (×1.65 odds): a weak
/// word such as "win" or "loan" nudges the score but is not worth a moderator's attention on its own.
pub const REPORT_LOGIT: f64 = 0.5;

/// Log-odds added for an author the site has never seen (an account or email with no earlier comment): spam
/// accounts are mostly fresh, but so are many real readers, so it is a nudge (odds ×1.5) that only tips a text
/// already near the threshold, and never reported on its own. Anonymous comments get none (see
/// `Context::is_first_time_author`). Hand-set, like the reputation shifts.
pub const FIRST_TIME_AUTHOR_LOGIT: f64 = 0.4;

/// The shipped model's bytes.
static BASE_BYTES: &[u8] = include_bytes!("base_model.bin");

static BASE: LazyLock<Arc<SpamModel>> = LazyLock::new(|| {
    // The file is generated and checked by tests; should it ever fail to decode, analysis still works on rules with
    // an empty model rather than refusing to start.
    Arc::new(
        SpamModel::from_bytes(BASE_BYTES).unwrap_or_else(|_| SpamModel::new(Default::default(), Default::default())),
    )
});

/// The base model shipped in the binary, decoded on first use.
pub fn base_model() -> &'static SpamModel {
    &BASE
}

/// The base model as a shareable handle (what `Rules` holds by default).
pub fn base_model_arc() -> Arc<SpamModel> {
    Arc::clone(&BASE)
}

/// Everything besides the text that spam scoring reads.
#[derive(Debug, Clone, Copy)]
pub struct SpamInput<'a> {
    /// What the host's form observed.
    pub signals: Signals,
    /// The author's and address's history on this site.
    pub context: Context,
    /// The author's website field (may be empty).
    pub website_url: &'a str,
    /// The site's link limit (`spam.links` beyond it).
    pub max_links: u32,
    /// The site's minimum plausible time to submit (`spam.too_fast` below it).
    pub min_time_to_submit_ms: u32,
    /// The site's hold threshold: from this text probability on, spam findings explain it.
    pub hold_threshold: f64,
    /// The share of spam the site expects among its comments; `None` scores as on the training data (what the
    /// evaluation does). See [`DEFAULT_SITE_PRIOR`].
    pub site_prior: Option<f64>,
    /// The site's blocked domains (`spam.blocked_domain`) and allowed domains (not spam evidence, not counted
    /// against `max_links`).
    pub domains: &'a DomainLists,
}

impl Default for SpamInput<'_> {
    /// No history, no form signals, no website; the default policy's link limit (3), minimum time (3 s) and hold
    /// threshold (0.5); a news site's prior ([`DEFAULT_SITE_PRIOR`]); no blocked or allowed domains.
    fn default() -> Self {
        SpamInput {
            signals: Signals::default(),
            context: Context::default(),
            website_url: "",
            max_links: 3,
            min_time_to_submit_ms: 3000,
            hold_threshold: 0.5,
            site_prior: Some(DEFAULT_SITE_PRIOR),
            domains: DomainLists::empty(),
        }
    }
}

/// What spam scoring concluded.
#[derive(Debug, Clone, PartialEq)]
pub struct SpamReport {
    /// The `spam.*` findings, in no particular order.
    pub findings: Vec<Finding>,
    /// 0..1, calibrated.
    pub score: f64,
    /// The text-and-history probability before behaviour signals.
    pub text_probability: f64,
}

/// Scores one comment. `norm` must be `Normalized::new(body)`.
pub fn assess(body: &str, norm: &Normalized, input: &SpamInput<'_>, model: &SpamModel) -> SpamReport {
    let scan = signals::scan(body, norm, input.website_url, input.domains);
    let mut x = scan.x;
    let mut features = Vec::new();
    tokens::feature_set(&tokens::without(norm.as_str(), &scan.link_ranges), &mut features);
    combine::bayes_inputs(&model.evidence(&features), &mut x);
    let cal = model.calibration();
    let contribution = |i: usize| cal.weights[i] * x[i];

    let (author_shift, author_finding) = reputation(input.context.author, 1.0, &codes::SPAM_AUTHOR_REPUTATION);
    let (ip_shift, ip_finding) = reputation(Some(input.context.ip), 0.5, &codes::SPAM_IP_REPUTATION);
    let prior = input.site_prior.map_or(0.0, |p| prior_shift(model, p));
    let newcomer = if input.context.is_first_time_author() { FIRST_TIME_AUTHOR_LOGIT } else { 0.0 };
    let text_probability = sigmoid(cal.logit(&x) + author_shift + ip_shift + newcomer + prior);

    // Findings that explain the text probability, when it is high enough to matter: an approved comment carries no
    // spam findings (every text leans a little one way or the other), a held one always names at least one.
    let mut findings = Vec::new();
    if text_probability >= input.hold_threshold {
        findings.extend(author_finding);
        findings.extend(ip_finding);
        for hit in scan.hits {
            let c = contribution(hit.input);
            if c >= REPORT_LOGIT
                && let Some(code) = code_of(hit.input)
            {
                findings.push(Finding::new(code, sigmoid(c), hit.detail).with_spans(hit.spans));
            }
        }
    }

    // Links: the learned weight of their number, and the site's limit (which always reports).
    let excess = links::excess_score(scan.links, input.max_links);
    let link_c = contribution(combine::LINKS);
    if excess > 0.0 || (text_probability >= input.hold_threshold && scan.links > 0 && link_c >= REPORT_LOGIT) {
        let detail = format!("{} link(s); the site allows {}", scan.links, input.max_links);
        let score = excess.max(sigmoid(link_c));
        findings.push(Finding::new(&codes::SPAM_LINKS, score, detail).with_spans(scan.link_spans));
    }

    // The statistical model, when it pushed the text there — or when nothing else explains it.
    let bayes_c = cal.parts(&x).0.min(combine::MAX_BAYES_LOGIT);
    let nothing_else = findings.is_empty();
    if text_probability >= input.hold_threshold && (bayes_c >= REPORT_LOGIT || nothing_else) {
        let detail = format!("the statistical model rates the text {:.0}% spam", 100.0 * sigmoid(bayes_c));
        findings.push(Finding::new(&codes::SPAM_BAYES, sigmoid(bayes_c), detail).with_spans(spam_words(norm, model)));
    }

    // Behaviour: independent evidence, noisy-OR.
    let mut ham = 1.0 - text_probability;
    if excess > 0.0 {
        ham *= 1.0 - excess;
    }
    if input.signals.honeypot_filled {
        ham *= 1.0 - 0.99;
        findings.push(Finding::new(&codes::SPAM_HONEYPOT, 0.99, "the hidden honeypot field was filled"));
    }
    if let Some(ms) = input.signals.time_to_submit_ms
        && ms < input.min_time_to_submit_ms
    {
        // Instant submission is a script; merely fast could be a paste, so it holds rather than rejects.
        let score = if ms == 0 { 0.85 } else { 0.55 };
        ham *= 1.0 - score;
        let detail = format!("submitted {ms} ms after the form opened");
        findings.push(Finding::new(&codes::SPAM_TOO_FAST, score, detail));
    }
    if let Some(copies) = duplicates::evidence(input.context.duplicates) {
        ham *= 1.0 - copies.score;
        findings.push(copies);
    }
    // A domain the site blocks is its own verdict on the comment, whatever the text says.
    if scan.blocked_links > 0 || scan.blocked_website {
        ham = 0.0;
        let detail = match (scan.blocked_links, scan.blocked_website) {
            (0, _) => "the author's website is on a domain the site blocks".to_string(),
            (n, false) => format!("{n} link(s) to domains the site blocks"),
            (n, true) => format!("{n} link(s) and the author's website on domains the site blocks"),
        };
        findings.push(Finding::new(&codes::SPAM_BLOCKED_DOMAIN, 1.0, detail).with_spans(scan.blocked_spans));
    }
    let score = (1.0 - ham).clamp(0.0, 1.0);
    SpamReport { findings, score: if score.is_finite() { score } else { 0.0 }, text_probability }
}

/// The log-odds correction from the training data's share of spam to the site's (Bayes' rule for a changed prior):
/// `logit(site) − logit(training)`. 0 when either is unknown or degenerate.
pub fn prior_shift(model: &SpamModel, site_prior: f64) -> f64 {
    let [ham, spam] = model.counts().docs;
    if ham == 0 || spam == 0 || !(site_prior > 0.0 && site_prior < 1.0) {
        return 0.0;
    }
    let train = spam as f64 / (spam + ham) as f64;
    let logit = |p: f64| (p / (1.0 - p)).ln();
    logit(site_prior) - logit(train)
}

/// The finding code of a rule input.
fn code_of(input: usize) -> Option<&'static FindingCode> {
    Some(match input {
        combine::LINK_KIND => &codes::SPAM_LINK_TARGET,
        combine::OBFUSCATED_LINK => &codes::SPAM_OBFUSCATED_LINK,
        combine::PHRASE => &codes::SPAM_PHRASE,
        combine::REPEATED => &codes::SPAM_REPEATED_CHARS,
        combine::SHOUTING => &codes::SPAM_SHOUTING,
        combine::SYMBOLS => &codes::SPAM_SYMBOLS,
        combine::OBFUSCATION => &codes::SPAM_OBFUSCATION,
        combine::WEBSITE => &codes::SPAM_AUTHOR_WEBSITE,
        _ => return None,
    })
}

/// Log-odds shift from a reputation, scaled by `weight` (1 for an author, 0.5 for an address), and its finding when
/// it raises the score. `ln((bad + 1) / (good + 1))`, where a moderator's spam rejection counts fully and any other
/// rejection half; clamped to [−1, 3] before scaling.
fn reputation(r: Option<Reputation>, weight: f64, code: &FindingCode) -> (f64, Option<Finding>) {
    let Some(r) = r.filter(|r| r.submitted > 0) else {
        return (0.0, None);
    };
    let bad = r.spam as f64 + 0.5 * r.rejected.saturating_sub(r.spam) as f64;
    let good = r.approved as f64;
    let shift = weight * ((bad + 1.0) / (good + 1.0)).ln().clamp(-1.0, 3.0);
    let finding = (shift >= REPORT_LOGIT).then(|| {
        let detail = format!("{} of {} earlier comments rejected ({} as spam)", r.rejected, r.submitted, r.spam);
        Finding::new(code, sigmoid(shift), detail)
    });
    (if shift.is_finite() { shift } else { 0.0 }, finding)
}

/// Original spans of the (up to 3) words the model finds most spam-like, strongest first.
fn spam_words(norm: &Normalized, model: &SpamModel) -> Vec<Range<usize>> {
    let text = tokens::capped(norm.as_str(), tokens::MAX_BAYES_BYTES);
    let mut best: Vec<(f64, Range<usize>)> = Vec::with_capacity(4);
    tokens::for_each_word(text, |r, key| {
        let Some(r) = r else { return };
        let llr = model.llr(key);
        if llr > 0.5 && !best.iter().any(|(_, b)| text.get(b.clone()) == text.get(r.clone())) {
            best.push((llr, r));
            best.sort_by(|a, b| b.0.total_cmp(&a.0));
            best.truncate(3);
        }
    });
    best.into_iter().map(|(_, r)| norm.original_range(r)).filter(|r| !r.is_empty()).collect()
}

/// Text-only probability of a body with the given model as the service computes it (no history, no behaviour, the
/// default site prior).
pub fn text_score(body: &str, model: &SpamModel) -> f64 {
    let norm = Normalized::new(body);
    assess(body, &norm, &SpamInput::default(), model).text_probability
}

/// Builds the lazily built tables (base model, phrase automaton) so the first request does not pay for them.
pub fn warm_up() {
    LazyLock::force(&BASE);
    phrases::warm_up();
}

#[cfg(test)]
mod tests;

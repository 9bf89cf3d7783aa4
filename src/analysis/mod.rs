//! The analysis core: pure and synchronous. Text + context in, findings out. No I/O, no clock, no globals, never
//! fails: whatever the input, it returns findings (possibly none). `commentguard serve` and `commentguard check` call
//! the same [`analyze`].
//!
//! Invariant: every span in the returned findings is a byte range on char boundaries of the ORIGINAL body.

pub mod links;
pub mod normalize;
pub mod pii;
pub mod spam;
pub mod words;

use crate::domain::{Context, Finding, Signals};
use crate::findings as codes;
use normalize::Normalized;
use std::sync::Arc;

/// A site's text rules, compiled once per config load (and on SIGHUP), shared by every request of that site.
#[derive(Debug, Clone)]
pub struct Rules {
    pub blocked_words: words::WordList,
    pub suspect_words: words::WordList,
    pub max_links: u32,
    pub min_time_to_submit_ms: u32,
    /// The site's spam hold threshold: spam findings explain every score from it on.
    pub spam_hold_threshold: f64,
    pub pii: pii::PiiConfig,
    /// The spam model: the base model shipped in the binary unless [`Rules::with_spam_model`] replaced it.
    pub spam_model: Arc<spam::SpamModel>,
}

impl Rules {
    /// `default_region` was validated with the config; an unknown one falls back to the PII default (PK).
    pub fn from_policy(p: &crate::config::PolicyConfig, default_region: &str) -> Rules {
        let pii = match default_region.parse() {
            Ok(default_region) => pii::PiiConfig { default_region },
            Err(_) => pii::PiiConfig::default(),
        };
        Rules {
            blocked_words: words::WordList::new(&p.blocked_words),
            suspect_words: words::WordList::new(&p.suspect_words),
            max_links: p.max_links,
            min_time_to_submit_ms: p.min_time_to_submit_ms,
            spam_hold_threshold: p.spam_hold_threshold,
            pii,
            spam_model: spam::base_model_arc(),
        }
    }

    /// These rules with another spam model (`spam.model_path`, `check --model`).
    pub fn with_spam_model(self, spam_model: Arc<spam::SpamModel>) -> Rules {
        Rules { spam_model, ..self }
    }
}

/// What the service knows about a submission besides its text.
#[derive(Debug, Clone, Copy, Default)]
pub struct Evidence<'a> {
    /// What the host's comment form observed.
    pub signals: Signals,
    /// The author's and the address's history on this site.
    pub context: Context,
    /// The author's website field (may be empty).
    pub website_url: &'a str,
}

/// What analysis concluded about one comment.
#[derive(Debug, Clone, PartialEq)]
pub struct Analysis {
    /// Sorted by code, then by first span.
    pub findings: Vec<Finding>,
    /// 0..1: how likely the comment is spam, calibrated (see [`spam`]).
    pub spam_score: f64,
}

/// Runs every check on `body`. Pure: the same input always gives the same output.
pub fn analyze(body: &str, evidence: &Evidence<'_>, rules: &Rules) -> Analysis {
    let norm = Normalized::new(body);
    let mut findings = pii::detect(body, &norm, &rules.pii);

    let input = spam::SpamInput {
        signals: evidence.signals,
        context: evidence.context,
        website_url: evidence.website_url,
        max_links: rules.max_links,
        min_time_to_submit_ms: rules.min_time_to_submit_ms,
        hold_threshold: rules.spam_hold_threshold,
        site_prior: Some(spam::DEFAULT_SITE_PRIOR),
    };
    let spam = spam::assess(body, &norm, &input, &rules.spam_model);
    findings.extend(spam.findings);
    for (list, code) in
        [(&rules.blocked_words, &codes::POLICY_BLOCKED_WORD), (&rules.suspect_words, &codes::POLICY_SUSPECT_WORD)]
    {
        let hits = list.find(norm.as_str());
        if !hits.is_empty() {
            let spans = hits.into_iter().map(|r| norm.original_range(r)).collect();
            let detail = format!("matches the site's {} list", code.code.trim_start_matches("policy."));
            findings.push(Finding::new(code, 1.0, detail).with_spans(spans));
        }
    }
    findings.sort_by(|a, b| {
        a.code.cmp(&b.code).then_with(|| a.spans.first().map(|s| s.start).cmp(&b.spans.first().map(|s| s.start)))
    });
    Analysis { findings, spam_score: spam.score }
}

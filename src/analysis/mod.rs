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

use crate::domain::{Category, Finding, Signals};
use crate::findings as codes;
use normalize::Normalized;

/// A site's text rules, compiled once per config load (and on SIGHUP), shared by every request of that site.
#[derive(Debug, Clone)]
pub struct Rules {
    pub blocked_words: words::WordList,
    pub suspect_words: words::WordList,
    pub max_links: u32,
    pub min_time_to_submit_ms: u32,
    pub pii: pii::PiiConfig,
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
            pii,
        }
    }
}

/// What analysis concluded about one comment.
#[derive(Debug, Clone, PartialEq)]
pub struct Analysis {
    /// Sorted by code, then by first span.
    pub findings: Vec<Finding>,
    /// 0..1: how likely the comment is spam, from the SPAM findings.
    pub spam_score: f64,
}

/// Runs every check on `body`. Pure: the same input always gives the same output.
pub fn analyze(body: &str, signals: &Signals, rules: &Rules) -> Analysis {
    let norm = Normalized::new(body);
    let mut findings = pii::detect(body, &norm, &rules.pii);

    let links = links::find_links(&norm);
    let link_score = links::excess_score(links.len(), rules.max_links);
    if link_score > 0.0 {
        let detail = format!("{} links; the site allows {}", links.len(), rules.max_links);
        findings.push(Finding::new(&codes::SPAM_LINKS, link_score, detail).with_spans(links));
    }
    if signals.honeypot_filled {
        findings.push(Finding::new(&codes::SPAM_HONEYPOT, 0.99, "the hidden honeypot field was filled"));
    }
    if let Some(ms) = signals.time_to_submit_ms
        && ms < rules.min_time_to_submit_ms
    {
        // Instant submission is a script; merely fast could be a paste, so it holds rather than rejects.
        let score = if ms == 0 { 0.85 } else { 0.55 };
        let detail = format!("submitted {ms} ms after the form opened");
        findings.push(Finding::new(&codes::SPAM_TOO_FAST, score, detail));
    }
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
    let spam_score = combine_spam(&findings);
    Analysis { findings, spam_score }
}

/// Noisy-OR of the SPAM findings' scores: independent signals reinforce each other, and one strong signal alone
/// (a honeypot) is enough.
fn combine_spam(findings: &[Finding]) -> f64 {
    let ham: f64 = findings.iter().filter(|f| f.category == Category::Spam).map(|f| 1.0 - f.score).product();
    1.0 - ham
}

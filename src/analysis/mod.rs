//! The analysis core: pure and synchronous. Text + context in, findings out. No I/O, no clock, no globals, never
//! fails: whatever the input, it returns findings (possibly none). `commentguard serve` and `commentguard check` call
//! the same [`analyze`].
//!
//! Invariant: every span in the returned findings is a byte range on char boundaries of the ORIGINAL body.

pub mod abuse;
pub mod domains;
pub mod links;
pub mod normalize;
pub mod patterns;
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
    /// The site's blocked and allowed domains.
    pub domains: domains::DomainLists,
    pub min_time_to_submit_ms: u32,
    /// The site's spam hold threshold: spam findings explain every score from it on.
    pub spam_hold_threshold: f64,
    pub pii: pii::PiiConfig,
    /// The spam model: the base model shipped in the binary unless [`Rules::with_spam_model`] replaced it.
    pub spam_model: Arc<spam::SpamModel>,
    /// Per abuse category (by `abuse::Category::index`), the score from which it is reported as a finding: the
    /// lower of [`abuse::HOLD`] and the site's `hold_at`, so a category the policy acts on always has its spans.
    pub abuse_finding_at: [f64; 5],
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
            domains: domains::DomainLists::new(&p.blocked_domains, &p.allowed_domains),
            min_time_to_submit_ms: p.min_time_to_submit_ms,
            spam_hold_threshold: p.spam_hold_threshold,
            pii,
            spam_model: spam::base_model_arc(),
            abuse_finding_at: p.abuse.rules().map(|r| r.hold_at.min(abuse::HOLD)),
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
    /// 0..1 per abuse category, calibrated (see [`abuse`]); categories at or above [`abuse::HOLD`] are also
    /// `abuse.*` findings.
    pub abuse: abuse::Scores,
}

/// Builds every detector's tables now (phone metadata, spam phrases, abuse lexicons: about half a second in a
/// release build, seconds in a debug one), so the first comment is as fast as the rest. Idempotent.
pub fn warm_up() {
    pii::warm_up();
    spam::warm_up();
    abuse::warm_up();
}

/// Runs every check on `body` with the rules' own spam model and the base abuse model. Pure: the same input always
/// gives the same output.
pub fn analyze(body: &str, evidence: &Evidence<'_>, rules: &Rules) -> Analysis {
    analyze_with(body, &Normalized::new(body), evidence, rules, &rules.spam_model, &abuse::learned::Learned::default())
}

/// [`analyze`] with another spam model and the site's learned abuse adjustment: what its moderators taught it
/// (`learning`).
/// `norm` must be `Normalized::new(body)`: the submit flow normalises once, for the near-copy sketch it needs before
/// the store fetch and for analysis after it.
pub fn analyze_with(
    body: &str,
    norm: &Normalized,
    evidence: &Evidence<'_>,
    rules: &Rules,
    model: &spam::SpamModel,
    learned_abuse: &abuse::learned::Learned,
) -> Analysis {
    let mut findings = pii::detect(body, norm, &rules.pii);

    let input = spam::SpamInput {
        signals: evidence.signals,
        context: evidence.context,
        website_url: evidence.website_url,
        max_links: rules.max_links,
        min_time_to_submit_ms: rules.min_time_to_submit_ms,
        hold_threshold: rules.spam_hold_threshold,
        site_prior: Some(spam::DEFAULT_SITE_PRIOR),
        domains: &rules.domains,
    };
    let spam = spam::assess(body, norm, &input, model);
    findings.extend(spam.findings);
    let abuse = abuse::learned::scan(norm, &abuse::AbuseModel::BASE, learned_abuse);
    findings.extend(abuse::findings_at(&abuse, &rules.abuse_finding_at));
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
    Analysis { findings, spam_score: spam.score, abuse: abuse.scores }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::PolicyConfig;
    use crate::domain::Verdict;
    use crate::policy::{SitePolicy, decide};

    fn verdict(body: &str, website_url: &str, policy: &PolicyConfig) -> crate::domain::Decision {
        let rules = Rules::from_policy(policy, "PK");
        let evidence = Evidence { website_url, ..Default::default() };
        decide(body, analyze(body, &evidence, &rules), &Context::default(), &SitePolicy::from_config(policy))
    }

    #[test]
    fn abuse_becomes_findings_with_spans_on_the_original_body() {
        let rules = Rules::from_policy(&PolicyConfig::default(), "PK");
        // A disguised threat: leetspeak and a zero-width space inside the verb.
        let body = "Ｗe will find you and k1\u{200B}ll you, journalist";
        let a = analyze(body, &Evidence::default(), &rules);
        let f = a.findings.iter().find(|f| f.code == "abuse.threat").expect("a threat finding");
        assert_eq!(f.category, crate::domain::Category::Abuse);
        assert!(f.score >= abuse::HOLD && (f.score - a.abuse.get(abuse::Category::Threat)).abs() < 1e-12);
        let spans: Vec<&str> = f.spans.iter().map(|s| &body[s.clone()]).collect();
        assert!(spans.contains(&"k1\u{200B}ll"), "{spans:?}");
        // The news-site defaults: threats are held, and rejected at high confidence (`reject_at` 0.9).
        let d = verdict(body, "", &PolicyConfig::default());
        let expected = if f.score >= 0.9 { Verdict::Rejected } else { Verdict::PendingReview };
        assert_eq!((d.verdict, d.reason_codes.clone()), (expected, vec!["abuse.threat".to_string()]), "{d:?}");
        // Heated but legitimate: no abuse finding, scores below the hold threshold.
        let calm = "The minister's idiotic budget will hurt the poor, and the police said the attacker shot a guard.";
        let a = analyze(calm, &Evidence::default(), &rules);
        assert!(a.findings.iter().all(|f| f.category != crate::domain::Category::Abuse), "{:?}", a.findings);
        assert!(a.abuse.max() < abuse::HOLD, "{:?}", a.abuse);
    }

    #[test]
    fn a_blocked_domain_rejects_and_an_allowed_one_passes_the_link_limit() {
        let policy = PolicyConfig {
            blocked_domains: vec!["*.Cheap-Pills.example".into()],
            allowed_domains: vec!["ourpaper.com".into()],
            ..Default::default()
        };
        let body = "Interesting debate. My cousin swears by shop.cheap-pills.example for this.";
        let d = verdict(body, "", &policy);
        assert_eq!(d.verdict, Verdict::Rejected);
        assert_eq!(d.spam_score, 1.0);
        assert!(d.reason_codes.contains(&"spam.blocked_domain".to_string()), "{:?}", d.reason_codes);
        let f = d.findings.iter().find(|f| f.code == "spam.blocked_domain").expect("finding");
        assert_eq!(f.spans.iter().map(|s| &body[s.clone()]).collect::<Vec<_>>(), vec!["shop.cheap-pills.example"]);
        // The website field alone.
        let d = verdict("Interesting debate, thanks for the coverage.", "https://cheap-pills.example", &policy);
        assert_eq!((d.verdict, d.reason_codes.contains(&"spam.blocked_domain".to_string())), (Verdict::Rejected, true));
        // Five links to the site's own paper with a limit of three: approved. The same elsewhere: not.
        let links = |host: &str| (1..=5).map(|i| format!("https://{host}/2024/{i}")).collect::<Vec<_>>().join(", ");
        let d = verdict(&format!("Our earlier coverage: {}", links("ourpaper.com")), "", &policy);
        assert_eq!(d.verdict, Verdict::Approved, "{d:?}");
        let d = verdict(&format!("Our earlier coverage: {}", links("otherpaper.com")), "", &policy);
        assert_ne!(d.verdict, Verdict::Approved);
        assert!(d.reason_codes.contains(&"spam.links".to_string()));
    }
}

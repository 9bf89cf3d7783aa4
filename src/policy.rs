//! Policy: findings + context + the site's settings → a verdict and the body to publish (DESIGN §5). Pure and
//! table-tested. Precedence, most severe first:
//! 1. `policy.banned` → REJECTED (normally answered before analysis, without storing);
//! 2. any REJECT rule — blocked word, a PII type set to REJECT, spam score ≥ reject threshold, an abuse category
//!    set to `reject` at or above its `hold_at`, or set to `hold` at or above its `reject_at` → REJECTED;
//! 3. any HOLD rule — a PII type set to HOLD, spam score ≥ hold threshold, an abuse category set to `hold` at or
//!    above its `hold_at`, the external abuse classifier unavailable for a site that fails closed, suspect word,
//!    pre-moderation, first-time author → PENDING_REVIEW;
//! 4. otherwise APPROVED.
//!
//! Abuse categories decide by their scores (like spam), each naming its own code (`abuse.threat`, …) as the
//! reason; the findings with their spans come from analysis, which reports every category at or above the lower
//! of its `hold_at` and `abuse::HOLD`, so a category that decides always has its finding.
//!
//! Redaction applies to whatever is published or held: every PII finding whose type is not ALLOW is masked in the
//! redacted body.

use crate::analysis::Analysis;
use crate::analysis::abuse::Category as AbuseCategory;
use crate::analysis::pii::redact::{RedactTarget, RedactionStyle};
use crate::config::abuse::{AbuseAction, CategoryRule};
use crate::config::{PiiAction, PolicyConfig};
use crate::domain::{AbuseScores, Category, Context, Decision, Finding, Verdict};
use crate::findings as codes;
use std::collections::HashMap;

/// A site's compiled policy.
#[derive(Debug, Clone)]
pub struct SitePolicy {
    pub premoderation: bool,
    pub hold_first_time_authors: bool,
    pub spam_hold_threshold: f64,
    pub spam_reject_threshold: f64,
    pii_actions: HashMap<String, PiiAction>,
    pii_redaction: HashMap<String, RedactionStyle>,
    /// Per abuse category, by `Category::index`.
    pub abuse: [CategoryRule; 5],
}

impl SitePolicy {
    pub fn from_config(p: &PolicyConfig) -> SitePolicy {
        SitePolicy {
            premoderation: p.premoderation,
            hold_first_time_authors: p.hold_first_time_authors,
            spam_hold_threshold: p.spam_hold_threshold,
            spam_reject_threshold: p.spam_reject_threshold,
            pii_actions: p.pii_actions.clone().into_iter().collect(),
            pii_redaction: p.pii_redaction.clone().into_iter().collect(),
            abuse: p.abuse.rules(),
        }
    }

    /// The action for one PII finding code: the site's setting, else the news-site default (contact details are
    /// redacted and published; financial and national identifiers and secrets wait for a human).
    pub fn pii_action(&self, code: &str) -> PiiAction {
        if let Some(a) = self.pii_actions.get(code) {
            return *a;
        }
        match code {
            "pii.email" | "pii.phone" | "pii.ip_address" => PiiAction::Redact,
            _ => PiiAction::Hold,
        }
    }
}

impl SitePolicy {
    /// How a PII type is masked where it is redacted; a label unless the site chose otherwise.
    pub fn redaction_style(&self, code: &str) -> RedactionStyle {
        self.pii_redaction.get(code).copied().unwrap_or(RedactionStyle::Label)
    }
}

/// Applies the site's policy to an analysis. Pure.
pub fn decide(body: &str, analysis: Analysis, context: &Context, policy: &SitePolicy) -> Decision {
    let Analysis { mut findings, spam_score, abuse } = analysis;
    let abuse = AbuseScores::from_array(abuse.to_array());
    if policy.premoderation {
        findings.push(Finding::new(&codes::POLICY_PREMODERATION, 1.0, "the site holds every comment"));
    }
    if policy.hold_first_time_authors && context.is_first_time_author() {
        findings.push(Finding::new(&codes::POLICY_FIRST_TIME_AUTHOR, 1.0, "the author's first comment on this site"));
    }

    let mut reject = Vec::new();
    let mut hold = Vec::new();
    for f in &findings {
        match severity(f, policy) {
            Some(Verdict::Rejected) => reject.push(f.code.clone()),
            Some(Verdict::PendingReview) => hold.push(f.code.clone()),
            _ => {}
        }
    }
    // The spam score is a combination of findings, so it decides as a whole and names the spam findings behind it.
    let spam_codes = || findings.iter().filter(|f| f.category == Category::Spam).map(|f| f.code.clone());
    if spam_score >= policy.spam_reject_threshold {
        reject.extend(spam_codes());
    } else if spam_score >= policy.spam_hold_threshold {
        hold.extend(spam_codes());
    }

    for (cat, rule) in AbuseCategory::ALL.into_iter().zip(policy.abuse) {
        match abuse_verdict(abuse.to_array()[cat.index()], rule) {
            Some(Verdict::Rejected) => reject.push(cat.code().to_string()),
            Some(Verdict::PendingReview) => hold.push(cat.code().to_string()),
            _ => {}
        }
    }

    let (verdict, mut reason_codes) = if !reject.is_empty() {
        (Verdict::Rejected, reject)
    } else if !hold.is_empty() {
        (Verdict::PendingReview, hold)
    } else {
        (Verdict::Approved, Vec::new())
    };
    reason_codes.sort();
    reason_codes.dedup();
    let redacted_body = redact(body, &findings, policy);
    Decision { verdict, findings, spam_score, abuse, redacted_body, reason_codes }
}

/// What one abuse category's score demands under the site's rule for it.
fn abuse_verdict(score: f64, rule: CategoryRule) -> Option<Verdict> {
    match rule.action {
        AbuseAction::Allow => None,
        AbuseAction::Reject => (score >= rule.hold_at).then_some(Verdict::Rejected),
        // reject_at = 1 means "never": an external classifier may answer exactly 1.0.
        AbuseAction::Hold if rule.reject_at < 1.0 && score >= rule.reject_at => Some(Verdict::Rejected),
        AbuseAction::Hold => (score >= rule.hold_at).then_some(Verdict::PendingReview),
    }
}

/// The body with every PII finding the site does not ALLOW masked in its type's style. Whatever the verdict: a held
/// comment is published later from this same text unless a moderator chooses the original. Also what leaves the
/// process for a site's external abuse classifier (`abuse_hook`), computed before the decision.
pub fn redact(body: &str, findings: &[Finding], policy: &SitePolicy) -> String {
    let targets: Vec<RedactTarget<'_>> = findings
        .iter()
        .filter(|f| f.category == Category::Pii && policy.pii_action(&f.code) != PiiAction::Allow)
        .flat_map(|f| {
            let style = policy.redaction_style(&f.code);
            f.spans.iter().map(move |s| RedactTarget { span: s.clone(), code: f.code.as_str(), style })
        })
        .collect();
    if targets.is_empty() { body.to_string() } else { crate::analysis::pii::redact::redact(body, &targets) }
}

/// What one finding demands on its own; spam findings decide through the combined score instead.
fn severity(f: &Finding, policy: &SitePolicy) -> Option<Verdict> {
    match f.category {
        Category::Pii => match policy.pii_action(&f.code) {
            PiiAction::Reject => Some(Verdict::Rejected),
            PiiAction::Hold => Some(Verdict::PendingReview),
            PiiAction::Allow | PiiAction::Redact => None,
        },
        Category::Policy => match f.code.as_str() {
            "policy.banned" | "policy.blocked_word" => Some(Verdict::Rejected),
            _ => Some(Verdict::PendingReview),
        },
        // Categories decide through their scores; the one abuse finding that decides on its own is a fail-closed
        // external classifier that did not answer.
        Category::Abuse => (f.code == codes::ABUSE_EXTERNAL_UNAVAILABLE.code).then_some(Verdict::PendingReview),
        Category::Spam => None,
    }
}

#[cfg(test)]
#[allow(clippy::single_range_in_vec_init)] // spans are ranges: `vec![5..24]` is one span
mod tests {
    use super::*;
    use crate::domain::Reputation;

    fn finding(code: &str, score: f64) -> Finding {
        let c = codes::lookup(code).expect("registered code");
        Finding::new(c, score, "test")
    }

    /// (policy, findings, spam score, context, expected verdict, expected reason codes)
    type Case = (PolicyConfig, Vec<(&'static str, f64)>, f64, Context, Verdict, Vec<&'static str>);

    fn run(policy: PolicyConfig, findings: &[(&str, f64)], spam_score: f64, ctx: Context) -> Decision {
        let analysis = Analysis {
            findings: findings.iter().map(|(c, s)| finding(c, *s)).collect(),
            spam_score,
            abuse: Default::default(),
        };
        decide("body", analysis, &ctx, &SitePolicy::from_config(&policy))
    }

    #[test]
    fn precedence_table() {
        let d = PolicyConfig::default();
        let new_author = Context { author: Some(Reputation::default()), ..Context::default() };
        let known = Context {
            author: Some(Reputation { submitted: 3, approved: 3, ..Default::default() }),
            ..Default::default()
        };
        let premod = PolicyConfig { premoderation: true, ..d.clone() };
        let first = PolicyConfig { hold_first_time_authors: true, ..d.clone() };
        let cases: Vec<Case> = vec![
            (d.clone(), vec![], 0.0, new_author, Verdict::Approved, vec![]),
            (d.clone(), vec![("policy.blocked_word", 1.0)], 0.0, known, Verdict::Rejected, vec!["policy.blocked_word"]),
            (
                d.clone(),
                vec![("policy.suspect_word", 1.0)],
                0.0,
                known,
                Verdict::PendingReview,
                vec!["policy.suspect_word"],
            ),
            (
                d.clone(),
                vec![("policy.suspect_word", 1.0), ("policy.blocked_word", 1.0)],
                0.0,
                known,
                Verdict::Rejected,
                vec!["policy.blocked_word"],
            ),
            (d.clone(), vec![("spam.honeypot", 0.99)], 0.99, known, Verdict::Rejected, vec!["spam.honeypot"]),
            (d.clone(), vec![("spam.links", 0.55)], 0.55, known, Verdict::PendingReview, vec!["spam.links"]),
            (d.clone(), vec![("spam.links", 0.3)], 0.3, known, Verdict::Approved, vec![]),
            (d.clone(), vec![("pii.email", 0.9)], 0.0, known, Verdict::Approved, vec![]),
            (d.clone(), vec![("pii.credit_card", 0.9)], 0.0, known, Verdict::PendingReview, vec!["pii.credit_card"]),
            (premod.clone(), vec![], 0.0, known, Verdict::PendingReview, vec!["policy.premoderation"]),
            (premod, vec![("policy.blocked_word", 1.0)], 0.0, known, Verdict::Rejected, vec!["policy.blocked_word"]),
            (first.clone(), vec![], 0.0, new_author, Verdict::PendingReview, vec!["policy.first_time_author"]),
            (first.clone(), vec![], 0.0, known, Verdict::Approved, vec![]),
            (first, vec![], 0.0, Context::default(), Verdict::Approved, vec![]),
        ];
        for (i, (policy, findings, score, ctx, verdict, reasons)) in cases.into_iter().enumerate() {
            let got = run(policy, &findings, score, ctx);
            assert_eq!(got.verdict, verdict, "case {i}");
            assert_eq!(got.reason_codes, reasons, "case {i}");
        }
    }

    #[test]
    fn site_pii_actions_override_defaults() {
        let mut p = PolicyConfig::default();
        p.pii_actions.insert("pii.email".into(), PiiAction::Reject);
        p.pii_actions.insert("pii.credit_card".into(), PiiAction::Allow);
        let ctx = Context::default();
        assert_eq!(run(p.clone(), &[("pii.email", 0.9)], 0.0, ctx).verdict, Verdict::Rejected);
        assert_eq!(run(p, &[("pii.credit_card", 0.9)], 0.0, ctx).verdict, Verdict::Approved);
    }

    #[test]
    fn redaction_follows_the_sites_actions_and_styles() {
        let body = "mail jane@example.com or call 0300-1234567";
        let email = finding("pii.email", 0.95).with_spans(vec![5..21]);
        let phone = finding("pii.phone", 0.95).with_spans(vec![30..42]);
        let run = |p: PolicyConfig| {
            let analysis =
                Analysis { findings: vec![email.clone(), phone.clone()], spam_score: 0.0, abuse: Default::default() };
            decide(body, analysis, &Context::default(), &SitePolicy::from_config(&p)).redacted_body
        };
        assert_eq!(run(PolicyConfig::default()), "mail [email removed] or call [phone removed]");
        let mut p = PolicyConfig::default();
        p.pii_redaction.insert("pii.email".into(), RedactionStyle::PartialMask);
        p.pii_actions.insert("pii.phone".into(), PiiAction::Allow);
        assert_eq!(run(p), "mail j***@example.com or call 0300-1234567");
    }

    /// (abuse policy TOML, scores in `Category::ALL` order, expected verdict, expected reason codes)
    #[test]
    fn abuse_scores_decide_per_the_sites_rules() {
        use crate::analysis::abuse::Scores;
        let policy = |toml: &str| -> PolicyConfig {
            let text = format!(
                "[[sites]]\nid = \"n\"\napi_key_sha256 = [\"{}\"]\n[sites.policy.abuse]\n{toml}",
                crate::config::sha256_hex("n")
            );
            crate::config::Config::from_toml(&text).expect("valid").sites[0].policy.clone()
        };
        let cases: Vec<(&str, [f64; 5], Verdict, Vec<&str>)> = vec![
            ("", [0.0; 5], Verdict::Approved, vec![]),
            ("", [0.49, 0.49, 0.49, 0.49, 0.49], Verdict::Approved, vec![]),
            ("", [0.5, 0.0, 0.0, 0.0, 0.0], Verdict::PendingReview, vec!["abuse.threat"]),
            ("", [0.95, 0.0, 0.7, 0.0, 0.0], Verdict::Rejected, vec!["abuse.threat"]),
            ("", [0.0, 0.9, 0.0, 0.0, 0.0], Verdict::Rejected, vec!["abuse.identity_attack"]),
            ("", [0.0, 0.0, 0.6, 0.6, 0.0], Verdict::PendingReview, vec!["abuse.insult", "abuse.sexual"]),
            // Profanity is allowed by default, however sure.
            ("", [0.0, 0.0, 0.0, 0.0, 1.0], Verdict::Approved, vec![]),
            (
                "profanity = { action = \"hold\" }",
                [0.0, 0.0, 0.0, 0.0, 0.6],
                Verdict::PendingReview,
                vec!["abuse.profanity"],
            ),
            ("threat = { action = \"allow\" }", [0.99, 0.0, 0.0, 0.0, 0.0], Verdict::Approved, vec![]),
            ("insult = { action = \"reject\", hold_at = 0.7 }", [0.0, 0.0, 0.69, 0.0, 0.0], Verdict::Approved, vec![]),
            (
                "insult = { action = \"reject\", hold_at = 0.7 }",
                [0.0, 0.0, 0.7, 0.0, 0.0],
                Verdict::Rejected,
                vec!["abuse.insult"],
            ),
            ("threat = { hold_at = 0.3 }", [0.35, 0.0, 0.0, 0.0, 0.0], Verdict::PendingReview, vec!["abuse.threat"]),
            // reject_at = 1 never rejects, even a score of exactly 1.
            ("threat = { reject_at = 1.0 }", [1.0, 0.0, 0.0, 0.0, 0.0], Verdict::PendingReview, vec!["abuse.threat"]),
            // Raising hold_at above the default reject_at does not reject below it.
            ("sexual = { hold_at = 0.95 }", [0.0, 0.0, 0.0, 0.92, 0.0], Verdict::Approved, vec![]),
        ];
        for (i, (toml, scores, verdict, reasons)) in cases.into_iter().enumerate() {
            let analysis = Analysis { findings: vec![], spam_score: 0.0, abuse: Scores::from_array(scores) };
            let d = decide("body", analysis, &Context::default(), &SitePolicy::from_config(&policy(toml)));
            assert_eq!(
                (d.verdict, d.reason_codes.clone()),
                (verdict, reasons.iter().map(|s| s.to_string()).collect()),
                "case {i}: {toml}"
            );
            assert_eq!(d.abuse.to_array(), scores, "case {i}: the decision carries the scores");
        }
        // A fail-closed external classifier that did not answer holds on its own.
        let analysis = Analysis {
            findings: vec![finding("abuse.external_unavailable", 1.0)],
            spam_score: 0.0,
            abuse: Default::default(),
        };
        let d = decide("body", analysis, &Context::default(), &SitePolicy::from_config(&PolicyConfig::default()));
        assert_eq!(
            (d.verdict, d.reason_codes),
            (Verdict::PendingReview, vec!["abuse.external_unavailable".to_string()])
        );
        // An abuse finding alone (a score below the site's threshold) decides nothing.
        let analysis =
            Analysis { findings: vec![finding("abuse.insult", 0.4)], spam_score: 0.0, abuse: Default::default() };
        let d = decide("body", analysis, &Context::default(), &SitePolicy::from_config(&PolicyConfig::default()));
        assert_eq!(d.verdict, Verdict::Approved);
    }

    #[test]
    fn thresholds_are_inclusive() {
        let p = PolicyConfig { spam_hold_threshold: 0.5, spam_reject_threshold: 0.9, ..Default::default() };
        let ctx = Context::default();
        assert_eq!(run(p.clone(), &[("spam.links", 0.5)], 0.5, ctx).verdict, Verdict::PendingReview);
        assert_eq!(run(p, &[("spam.links", 0.9)], 0.9, ctx).verdict, Verdict::Rejected);
    }
}

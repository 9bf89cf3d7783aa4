//! The submit flow, independent of gRPC so `serve` and `check` run the very same steps (DESIGN §5):
//!
//! replay lookup (fetching the context in the same round trip) → bans, rate limits, flood and surge control
//! (`ratelimit`) → analysis (pure) → the site's external abuse classifier, if it has one (`abuse_hook`) → policy
//! (pure) → one atomic store step → answer.
//!
//! Invariant: the answer is returned only after the store's atomic step succeeded; a store error becomes
//! `UNAVAILABLE` and nothing is acknowledged. Its `StoreError::outcome` tells the caller whether the comment may be
//! stored anyway (the write was sent, then timed out); retrying the same comment resolves "unknown" (the replay
//! lookup or the atomic step returns the stored answer, or it is stored now).

use crate::analysis;
use crate::analysis::normalize::Normalized;
use crate::analysis::spam::duplicates;
use crate::domain::{Answer, Comment, Decision, Finding, Signals, Verdict};
use crate::error::Error;
use crate::learning::SiteModels;
use crate::policy;
use crate::pseudonym::Pseudonymizer;
use crate::ratelimit::{Admission, Limiter, Subject};
use crate::store::{CommentStore, Lookup, NearProbe, NewComment, Probe, SubmitOutcome};
use crate::tenants::Site;
use sha2::{Digest, Sha256};

/// A validated submission (the api layer built it from the request).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Submission {
    pub comment: Comment,
    /// What the host observed about the request (analysis evidence; not stored).
    pub signals: Signals,
}

/// The answer to a submission.
#[derive(Debug, Clone, PartialEq)]
pub struct Accepted {
    pub answer: Answer,
    /// The stored answer to an earlier identical submission.
    pub replayed: bool,
}

/// Hex SHA-256 of a body: the idempotency fingerprint.
pub fn body_fingerprint(body: &str) -> String {
    hex::encode(Sha256::digest(body.as_bytes()))
}

/// Runs the whole submit flow for one site; `limiter` applies bans, rate limits, flood and surge control (`None`
/// for `commentguard check`, which replays exported comments at full speed, where every limit would fire); `models`
/// are the site's spam model and abuse adjustment (with what it learned: `learning::Models::for_site`; `check`
/// passes `SiteModels::base`).
///
/// A banned comment is answered REJECTED (`policy.banned`) without being stored: no decision cursor, no redacted
/// body, `GetComment` says NOT_FOUND. A rate-limited one is `RESOURCE_EXHAUSTED` and nothing is stored either.
pub async fn submit(
    store: &dyn CommentStore,
    keys: &Pseudonymizer,
    limiter: Option<&Limiter>,
    site: &Site,
    models: &SiteModels,
    sub: Submission,
) -> Result<Accepted, Error> {
    let Submission { comment, signals } = sub;
    let fingerprint = body_fingerprint(&comment.body);
    let (author_key, ip_key) = keys.reputation_keys(&site.id, &comment.author);
    // Normalised once: the near-copy sketch needs it before the store fetch, analysis after it.
    let norm = Normalized::new(&comment.body);
    let near = (site.duplicate_window_ms > 0)
        .then(|| duplicates::sketch(norm.as_str()))
        .flatten()
        .map(|s| NearProbe::new(s, author_key.as_deref(), &ip_key, &comment.comment_id, site.duplicate_window_ms));
    let probe = Probe {
        comment_id: &comment.comment_id,
        body_sha256: &fingerprint,
        author_key: author_key.as_deref(),
        ip_key: &ip_key,
        near: near.as_ref(),
    };
    let (lookup, context) = store.prepare(&site.id, probe).await?;
    match lookup {
        Lookup::Replay(answer) => {
            return Ok(Accepted { answer, replayed: true });
        }
        Lookup::Conflict => return Err(conflict()),
        Lookup::Missing => {}
    }
    // After the replay lookup, so a retry costs no quota; before analysis, so a flood costs almost nothing.
    let mut surge = false;
    if let Some(limiter) = limiter {
        let who = Subject {
            ip: &comment.author.ip,
            account_id: &comment.author.account_id,
            email: &comment.author.email,
            thread_id: &comment.thread_id,
        };
        match limiter.check(&site.id, &site.limits, &who).await? {
            Admission::Banned => return Ok(banned()),
            Admission::Admit { surge: s } => surge = s,
        }
    }

    let evidence = analysis::Evidence { signals, context, website_url: &comment.author.website_url };
    let mut analysis =
        analysis::analyze_with(&comment.body, &norm, &evidence, &site.rules, &models.spam, &models.abuse);
    if surge {
        // A POLICY finding other than banned/blocked_word holds the comment (policy precedence 3).
        let detail = "the thread receives comments faster than the site's surge threshold";
        analysis.findings.push(Finding::new(&crate::findings::POLICY_SURGE, 1.0, detail));
    }
    if let Some(hook) = &site.abuse_hook {
        // The text as the site would publish it: PII masked per its policy.
        let text = policy::redact(&comment.body, &analysis.findings, &site.policy);
        hook.apply(&site.id, &text, &comment.language, &mut analysis, &site.rules.abuse_finding_at).await;
    }
    let decision = policy::decide(&comment.body, analysis, &context, &site.policy);
    record_metrics(&decision);

    let comment = NewComment {
        comment,
        author_key,
        ip_key,
        body_sha256: fingerprint,
        decision,
        retention_ms: site.retention_ms,
        near,
    };
    match store.submit(&site.id, comment).await? {
        SubmitOutcome::Stored(answer) => Ok(Accepted { answer, replayed: false }),
        SubmitOutcome::Replayed(answer) => Ok(Accepted { answer, replayed: true }),
        SubmitOutcome::Conflict => Err(conflict()),
    }
}

/// The answer to a banned author or address: REJECTED, nothing analysed, nothing stored (DESIGN §5 precedence 1).
fn banned() -> Accepted {
    let finding = Finding::new(&crate::findings::POLICY_BANNED, 1.0, "the site banned this author or address");
    let decision = Decision {
        verdict: Verdict::Rejected,
        reason_codes: vec![finding.code.clone()],
        findings: vec![finding],
        spam_score: 0.0,
        abuse: Default::default(),
        // Nothing is published, and the body was not scanned for PII: hand none of it back.
        redacted_body: String::new(),
    };
    record_metrics(&decision);
    let answer = Answer {
        verdict: decision.verdict,
        findings: decision.findings,
        spam_score: decision.spam_score,
        abuse: decision.abuse,
        redacted_body: decision.redacted_body,
        review_id: None,
        decision_cursor: String::new(),
    };
    Accepted { answer, replayed: false }
}

fn conflict() -> Error {
    Error::AlreadyExists("comment_id was already submitted with a different body".into())
}

/// Verdicts and finding codes only: codes are a closed registry, so labels stay bounded and carry no personal data.
fn record_metrics(decision: &Decision) {
    metrics::counter!("commentguard_verdicts_total", "verdict" => decision.verdict.as_str()).increment(1);
    for f in &decision.findings {
        if let Some(code) = crate::findings::lookup(&f.code) {
            metrics::counter!("commentguard_findings_total", "code" => code.code).increment(1);
        }
    }
}

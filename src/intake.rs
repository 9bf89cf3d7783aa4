//! The submit flow, independent of gRPC so `serve` and `check` run the very same steps (DESIGN §5):
//!
//! replay lookup (fetching the context in the same round trip) → bans, rate limits, flood and surge control
//! (`ratelimit`) → analysis (pure) → policy (pure) → one atomic store step → answer.
//!
//! Invariant: the answer is returned only after the store's atomic step succeeded; a store error becomes
//! `UNAVAILABLE` and nothing is acknowledged.

use crate::analysis;
use crate::analysis::normalize::Normalized;
use crate::analysis::spam::{SpamModel, duplicates};
use crate::domain::{Finding, Signals, Verdict};
use crate::error::Error;
use crate::policy;
use crate::ratelimit::{Admission, Limiter, Subject};
use crate::store::{Answer, AuthorRecord, Lookup, NearProbe, NewComment, Store, SubmitOutcome};
use crate::tenants::Site;
use hmac::{Hmac, Mac};
use sha2::{Digest, Sha256};

/// A validated submission (the api layer built it from the request).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Submission {
    pub comment_id: String,
    pub thread_id: String,
    pub parent_comment_id: String,
    pub permalink: String,
    pub language: String,
    pub author: AuthorRecord,
    pub body: String,
    pub signals: Signals,
    pub submitted_at_ms: u64,
}

/// The answer to a submission.
#[derive(Debug, Clone, PartialEq)]
pub struct Accepted {
    pub answer: Answer,
    /// The stored answer to an earlier identical submission.
    pub replayed: bool,
}

/// Turns identifiers into reputation keys. Keyed (HMAC) rather than a plain hash, because the IPv4 space and
/// common emails are small enough to reverse a plain hash by brute force: without the secret, a copy of the store
/// does not reveal who commented.
#[derive(Clone)]
pub struct Pseudonymizer {
    mac: Hmac<Sha256>,
}

impl std::fmt::Debug for Pseudonymizer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Pseudonymizer(..)")
    }
}

impl Pseudonymizer {
    pub fn new(secret: &[u8]) -> Pseudonymizer {
        let mac = Hmac::<Sha256>::new_from_slice(secret).expect("HMAC accepts keys of any length");
        Pseudonymizer { mac }
    }

    /// 128-bit hex key for `(site, kind, value)`; the site is part of the input so keys never collide across sites.
    pub fn key(&self, site: &str, kind: &str, value: &str) -> String {
        let mut mac = self.mac.clone();
        for part in [site, kind, value] {
            mac.update(part.as_bytes());
            mac.update(&[0]);
        }
        hex::encode(&mac.finalize().into_bytes()[..16])
    }

    /// The author's key (account id, else lower-cased email) and the address's key.
    pub fn reputation_keys(&self, site: &str, author: &AuthorRecord) -> (Option<String>, String) {
        let author_key = if !author.account_id.is_empty() {
            Some(self.key(site, "account", &author.account_id))
        } else if !author.email.is_empty() {
            Some(self.key(site, "email", &author.email.trim().to_lowercase()))
        } else {
            None
        };
        // Parsing canonicalises IPv6 text so one address has one key.
        let ip = author.ip.parse::<std::net::IpAddr>().map(|ip| ip.to_string()).unwrap_or_else(|_| author.ip.clone());
        (author_key, self.key(site, "ip", &ip))
    }
}

/// Hex SHA-256 of a body: the idempotency fingerprint.
pub fn body_fingerprint(body: &str) -> String {
    hex::encode(Sha256::digest(body.as_bytes()))
}

/// Runs the whole submit flow for one site without bans or rate limits: `commentguard check` replays exported
/// comments at full speed, where every limit would fire.
/// Scores with the site's configured model (no learned delta: `check` has no store to learn from).
pub async fn submit(store: &dyn Store, keys: &Pseudonymizer, site: &Site, sub: Submission) -> Result<Accepted, Error> {
    submit_limited(store, keys, None, site, &site.rules.spam_model, sub).await
}

/// Runs the whole submit flow for one site; `limiter` applies bans, rate limits, flood and surge control; `model` is
/// the site's spam model (with what it learned: `learning::Models::for_site`).
///
/// A banned comment is answered REJECTED (`policy.banned`) without being stored: no decision cursor, no redacted
/// body, `GetComment` says NOT_FOUND. A rate-limited one is `RESOURCE_EXHAUSTED` and nothing is stored either.
pub async fn submit_limited(
    store: &dyn Store,
    keys: &Pseudonymizer,
    limiter: Option<&Limiter>,
    site: &Site,
    model: &SpamModel,
    sub: Submission,
) -> Result<Accepted, Error> {
    let fingerprint = body_fingerprint(&sub.body);
    let (author_key, ip_key) = keys.reputation_keys(&site.id, &sub.author);
    // Normalised once: the near-copy sketch needs it before the store fetch, analysis after it.
    let norm = Normalized::new(&sub.body);
    let near = (site.duplicate_window_ms > 0)
        .then(|| duplicates::sketch(norm.as_str()))
        .flatten()
        .map(|s| NearProbe::new(s, author_key.as_deref(), &ip_key, &sub.comment_id, site.duplicate_window_ms));
    let (lookup, context) = store
        .lookup_with_context(&site.id, &sub.comment_id, &fingerprint, author_key.as_deref(), &ip_key, near.as_ref())
        .await?;
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
            ip: &sub.author.ip,
            account_id: &sub.author.account_id,
            email: &sub.author.email,
            thread_id: &sub.thread_id,
        };
        match limiter.check(&site.id, &who).await? {
            Admission::Banned => return Ok(banned()),
            Admission::Admit { surge: s } => surge = s,
        }
    }

    let evidence = analysis::Evidence { signals: sub.signals, context, website_url: &sub.author.website_url };
    let mut analysis = analysis::analyze_with(&sub.body, &norm, &evidence, &site.rules, model);
    if surge {
        // A POLICY finding other than banned/blocked_word holds the comment (policy precedence 3).
        let detail = "the thread receives comments faster than the site's surge threshold";
        analysis.findings.push(Finding::new(&crate::findings::POLICY_SURGE, 1.0, detail));
    }
    let decision = policy::decide(&sub.body, analysis, &context, &site.policy);
    record_metrics(&decision);

    let comment = NewComment {
        comment_id: sub.comment_id,
        thread_id: sub.thread_id,
        parent_comment_id: sub.parent_comment_id,
        permalink: sub.permalink,
        language: sub.language,
        author: sub.author,
        author_key,
        ip_key,
        body: sub.body,
        body_sha256: fingerprint,
        submitted_at_ms: sub.submitted_at_ms,
        verdict: decision.verdict,
        findings: decision.findings,
        spam_score: decision.spam_score,
        redacted_body: decision.redacted_body,
        reason_codes: decision.reason_codes,
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
    let decision = policy::Decision {
        verdict: Verdict::Rejected,
        reason_codes: vec![finding.code.clone()],
        findings: vec![finding],
        spam_score: 0.0,
        // Nothing is published, and the body was not scanned for PII: hand none of it back.
        redacted_body: String::new(),
    };
    record_metrics(&decision);
    let answer = Answer {
        verdict: decision.verdict,
        findings: decision.findings,
        spam_score: decision.spam_score,
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
fn record_metrics(decision: &policy::Decision) {
    metrics::counter!("commentguard_verdicts_total", "verdict" => decision.verdict.as_str()).increment(1);
    for f in &decision.findings {
        if let Some(code) = crate::findings::lookup(&f.code) {
            metrics::counter!("commentguard_findings_total", "code" => code.code).increment(1);
        }
    }
}

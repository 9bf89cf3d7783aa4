//! A site's own abuse classifier (`[sites.policy.abuse.external]`): an HTTP endpoint the site runs, asked once
//! per new comment, whose scores are combined with the built-in ones (per category, the higher wins).
//!
//! The contract (README, "External abuse classifier"): `POST <url>` with `content-type: application/json` and
//! `{"text": <the redacted body>, "language": <the request's language hint, may be "">}`; the answer is `200` with
//! `{"scores": {"threat": 0.93, "insult": 0.1}}` — categories `threat`, `identity_attack`, `insult`, `sexual`,
//! `profanity`, each a number in 0..1, absent ones 0, other keys ignored. Anything else (another status, a body
//! that is not that JSON or larger than [`MAX_ANSWER_BYTES`], a score outside 0..1) is a failure.
//!
//! I/O, so outside the pure core: intake calls [`Hook::apply`] after bans and limits (a flood never reaches the
//! endpoint) and before policy; [`combine`] (pure) merges an answer into the analysis.
//!
//! Invariants:
//! * **Bounded.** At most `max_concurrency` requests of a site are in flight from this process; one more fails at
//!   once ([`Failure::Overloaded`]) rather than queue, and every request — connect, send, answer — ends within
//!   `timeout_ms`. A failure is decided by the site's `on_failure`: `open` scores with the built-in detector alone,
//!   `closed` holds the comment with `abuse.external_unavailable`.
//! * **Never on the hot path unless configured**: a site without the table has no `Hook` at all.
//! * **No personal data leaves in clear**: the text is the body as the site would publish it (PII masked per its
//!   policy); logs and metrics carry the outcome only.

use crate::analysis::Analysis;
use crate::analysis::abuse::{Category, Scores};
use crate::config::abuse::{ExternalConfig, OnFailure};
use crate::domain::{AbuseScores, Finding};
use http_body_util::{BodyExt, Full, Limited};
use hyper::body::Bytes;
use hyper_util::client::legacy::{Client, connect::HttpConnector};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::Semaphore;

/// Largest answer read from the endpoint.
pub const MAX_ANSWER_BYTES: usize = 64 * 1024;

/// One site's endpoint, its concurrency cap and its pooled connections. Built with the site (`tenants`), so a
/// reload that changes the table starts afresh.
pub struct Hook {
    /// What it was built from (a reload with the same table keeps this hook).
    pub config: ExternalConfig,
    uri: hyper::Uri,
    timeout: Duration,
    permits: Arc<Semaphore>,
    pub on_failure: OnFailure,
    client: Client<HttpConnector, Full<Bytes>>,
}

impl std::fmt::Debug for Hook {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Hook").field("timeout", &self.timeout).field("on_failure", &self.on_failure).finish()
    }
}

/// Why the endpoint gave no scores.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Failure {
    /// No answer within `timeout_ms`.
    Timeout,
    /// `max_concurrency` requests were already in flight.
    Overloaded,
    /// Connection refused or lost, or a status other than 200.
    Unreachable,
    /// An answer that does not follow the contract.
    BadAnswer,
}

impl Failure {
    pub fn as_str(self) -> &'static str {
        match self {
            Failure::Timeout => "timeout",
            Failure::Overloaded => "overloaded",
            Failure::Unreachable => "unreachable",
            Failure::BadAnswer => "bad_answer",
        }
    }
}

#[derive(serde::Serialize)]
struct Ask<'a> {
    text: &'a str,
    language: &'a str,
}

#[derive(serde::Deserialize)]
struct Answer {
    scores: AbuseScores,
}

impl Hook {
    /// `None` when the URL does not parse (`Config::validate` refuses such a file, so only a config that skipped
    /// validation gets here).
    pub fn new(config: &ExternalConfig) -> Option<Hook> {
        let uri: hyper::Uri = config.url.parse().ok()?;
        let mut connector = HttpConnector::new();
        connector.set_nodelay(true);
        connector.set_connect_timeout(Some(Duration::from_millis(config.timeout_ms)));
        let client = Client::builder(hyper_util::rt::TokioExecutor::new())
            .pool_idle_timeout(Duration::from_secs(30))
            .pool_timer(hyper_util::rt::TokioTimer::new())
            .build(connector);
        Some(Hook {
            config: config.clone(),
            uri,
            timeout: Duration::from_millis(config.timeout_ms),
            permits: Arc::new(Semaphore::new(config.max_concurrency)),
            on_failure: config.on_failure,
            client,
        })
    }

    /// Asks the endpoint about `text` (the body as site `site` would publish it) and folds the answer into `analysis`:
    /// the scores [`combine`]d with thresholds `at`, or — when it failed — nothing (`open`) or the
    /// `abuse.external_unavailable` finding that holds the comment (`closed`).
    pub async fn apply(&self, site: &str, text: &str, language: &str, analysis: &mut Analysis, at: &[f64; 5]) {
        match self.score(text, language).await {
            Ok(external) => combine(analysis, external, at),
            Err(failure) => {
                let mode = match self.on_failure {
                    OnFailure::Open => "open",
                    OnFailure::Closed => "closed",
                };
                metrics::counter!("commentguard_abuse_external_failures_total", "on_failure" => mode).increment(1);
                tracing::debug!(
                    site,
                    failure = failure.as_str(),
                    on_failure = mode,
                    "external abuse classifier failed"
                );
                if self.on_failure == OnFailure::Closed {
                    analysis.findings.push(unavailable(failure));
                }
            }
        }
    }

    /// Asks the endpoint for `text`'s scores. Counted in `commentguard_abuse_external_total{outcome}`.
    pub async fn score(&self, text: &str, language: &str) -> Result<AbuseScores, Failure> {
        let outcome = self.ask(text, language).await;
        let label = match &outcome {
            Ok(_) => "ok",
            Err(f) => f.as_str(),
        };
        metrics::counter!("commentguard_abuse_external_total", "outcome" => label).increment(1);
        outcome
    }

    async fn ask(&self, text: &str, language: &str) -> Result<AbuseScores, Failure> {
        // Over the cap is a failure now, never a queue: a slow endpoint must not hold up every comment behind it.
        let _permit = self.permits.clone().try_acquire_owned().map_err(|_| Failure::Overloaded)?;
        let body = serde_json::to_vec(&Ask { text, language }).map_err(|_| Failure::BadAnswer)?;
        let request = hyper::Request::post(self.uri.clone())
            .header(hyper::header::CONTENT_TYPE, "application/json")
            .body(Full::new(Bytes::from(body)))
            .map_err(|_| Failure::Unreachable)?;
        let exchange = async {
            let response = self.client.request(request).await.map_err(|_| Failure::Unreachable)?;
            if response.status() != hyper::StatusCode::OK {
                return Err(Failure::Unreachable);
            }
            let bytes = Limited::new(response.into_body(), MAX_ANSWER_BYTES)
                .collect()
                .await
                .map_err(|_| Failure::BadAnswer)?
                .to_bytes();
            parse(&bytes)
        };
        tokio::time::timeout(self.timeout, exchange).await.map_err(|_| Failure::Timeout)?
    }
}

/// Reads an answer body (see the module docs).
pub fn parse(bytes: &[u8]) -> Result<AbuseScores, Failure> {
    let answer: Answer = serde_json::from_slice(bytes).map_err(|_| Failure::BadAnswer)?;
    if answer.scores.to_array().iter().all(|s| (0.0..=1.0).contains(s)) {
        Ok(answer.scores)
    } else {
        Err(Failure::BadAnswer)
    }
}

/// Merges an external classifier's scores into an analysis (pure): per category the higher score, and a finding
/// for every category at or above its threshold (`at`, by `Category::index`) — the built-in finding with the new
/// score when there is one (its spans kept), else one without spans naming the external classifier.
pub fn combine(analysis: &mut Analysis, external: AbuseScores, at: &[f64; 5]) {
    let builtin = AbuseScores::from_array(analysis.abuse.to_array());
    let combined = builtin.max(external).to_array();
    analysis.abuse = Scores::from_array(combined);
    for cat in Category::ALL {
        let score = combined[cat.index()];
        if score <= 0.0 || score < at[cat.index()] {
            continue;
        }
        match analysis.findings.iter_mut().find(|f| f.code == cat.code()) {
            Some(f) => f.score = score,
            None => analysis.findings.push(Finding::new(cat.finding_code(), score, "the site's own abuse classifier")),
        }
    }
    analysis.findings.sort_by(|a, b| {
        a.code.cmp(&b.code).then_with(|| a.spans.first().map(|s| s.start).cmp(&b.spans.first().map(|s| s.start)))
    });
}

/// The finding that holds a comment when the endpoint failed and the site fails closed.
fn unavailable(failure: Failure) -> Finding {
    let detail = format!("the site's abuse classifier did not answer ({})", failure.as_str().replace('_', " "));
    Finding::new(&crate::findings::ABUSE_EXTERNAL_UNAVAILABLE, 1.0, detail)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn answers_follow_the_contract() {
        let s = parse(br#"{"scores": {"threat": 0.93, "insult": 0.1, "other": 5}}"#).expect("valid");
        assert_eq!(s, AbuseScores { threat: 0.93, insult: 0.1, ..Default::default() });
        assert_eq!(parse(br#"{"scores": {}}"#), Ok(AbuseScores::default()));
        for bad in [
            &br#"{"scores": {"threat": 1.5}}"#[..],
            br#"{"threat": 0.5}"#,
            b"not json",
            br#"{"scores": {"insult": "high"}}"#,
        ] {
            assert_eq!(parse(bad), Err(Failure::BadAnswer), "{}", String::from_utf8_lossy(bad));
        }
    }

    #[test]
    fn combining_keeps_the_higher_score_and_the_builtin_spans() {
        let body = "We will find you and kill you, journalist";
        let rules = crate::analysis::Rules::from_policy(&Default::default(), "PK");
        let mut analysis = crate::analysis::analyze(body, &Default::default(), &rules);
        let threat = analysis.abuse.get(Category::Threat);
        assert!(threat >= 0.5, "{threat}");
        let spans = analysis.findings.iter().find(|f| f.code == "abuse.threat").expect("finding").spans.clone();
        combine(&mut analysis, AbuseScores { threat: 0.1, sexual: 0.7, ..Default::default() }, &[0.5; 5]);
        assert_eq!(analysis.abuse.get(Category::Threat), threat, "the built-in score was higher");
        assert_eq!(analysis.abuse.get(Category::Sexual), 0.7);
        let threat_finding = analysis.findings.iter().find(|f| f.code == "abuse.threat").expect("kept");
        assert_eq!(threat_finding.spans, spans);
        let sexual = analysis.findings.iter().find(|f| f.code == "abuse.sexual").expect("added");
        assert_eq!((sexual.score, sexual.spans.len()), (0.7, 0));
        assert!(analysis.findings.windows(2).all(|w| w[0].code <= w[1].code), "still sorted by code");
        // Below the threshold: a score, no finding.
        combine(&mut analysis, AbuseScores { insult: 0.3, ..Default::default() }, &[0.5; 5]);
        assert_eq!(analysis.abuse.get(Category::Insult), 0.3);
        assert!(!analysis.findings.iter().any(|f| f.code == "abuse.insult"));
    }
}

//! The records a comment leaves: what the host sent about its author, the policy's decision, the answer kept for
//! replays, the stored comment and its decision events. Produced by intake, policy and review, kept by the store,
//! read by the api; none of them knows how it is stored.

use super::{AbuseScores, DecisionSource, Finding, Verdict};
use serde::{Deserialize, Serialize};

/// The outcome of policy for one comment.
#[derive(Debug, Clone, PartialEq)]
pub struct Decision {
    pub verdict: Verdict,
    /// Analysis findings plus the policy's own (`policy.premoderation`, `policy.first_time_author`).
    pub findings: Vec<Finding>,
    pub spam_score: f64,
    /// Per abuse category (built-in, with the site's learned adjustment and its external classifier if any).
    pub abuse: AbuseScores,
    /// The body with PII masked per policy; equal to the body when nothing is masked.
    pub redacted_body: String,
    /// The finding codes that decided the verdict (empty when APPROVED without reservations).
    pub reason_codes: Vec<String>,
}

/// The author as the host site described them. Personal data: stored for moderators, never logged.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuthorRecord {
    pub account_id: String,
    pub display_name: String,
    pub email: String,
    pub website_url: String,
    pub ip: String,
    pub user_agent: String,
}

/// What the host sent about a comment, as it was submitted: the part of a comment that never changes. Stored as is
/// (on Redis as one JSON field), so its serde shape is a storage format.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Comment {
    pub comment_id: String,
    pub thread_id: String,
    pub parent_comment_id: String,
    pub permalink: String,
    pub language: String,
    pub author: AuthorRecord,
    pub body: String,
    pub submitted_at_ms: u64,
}

/// The answer a submission got, kept so a replay returns it unchanged (DESIGN §4: idempotent).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Answer {
    pub verdict: Verdict,
    pub findings: Vec<Finding>,
    pub spam_score: f64,
    /// Answers stored before abuse scores existed read as all 0.
    #[serde(default, skip_serializing_if = "AbuseScores::is_zero")]
    pub abuse: AbuseScores,
    pub redacted_body: String,
    /// Set when the comment was held.
    pub review_id: Option<String>,
    /// Position of the verdict in the site's decision stream.
    pub decision_cursor: String,
}

/// A stored comment: its first answer and its current state.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CommentRecord {
    pub comment: Comment,
    /// Reputation keys, so a moderator's decision can update the author's and the address's history.
    pub author_key: Option<String>,
    pub ip_key: String,
    pub body_sha256: String,
    /// The answer to the first submission (what replays return).
    pub answer: Answer,
    /// Current state: changes when a moderator decides.
    pub verdict: Verdict,
    pub source: DecisionSource,
    pub moderator_id: String,
    pub decided_at_ms: u64,
    pub publish_original: bool,
    pub expires_at_ms: u64,
}

/// One verdict in a site's decision stream.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DecisionEvent {
    pub cursor: String,
    pub comment_id: String,
    pub verdict: Verdict,
    pub source: DecisionSource,
    pub moderator_id: String,
    pub reason_codes: Vec<String>,
    pub decided_at_ms: u64,
    pub redacted_body: String,
    pub publish_original: bool,
    pub thread_id: String,
}

//! Types of the review workflow (DESIGN §4): queues of held and reported comments, per-item leases, one decision
//! per item. Both stores implement the same semantics; the contract suite checks them against each other.
//!
//! Lease model: an item handed to a moderator carries a fresh claim token and its own lease expiry (the request's
//! lease, so two moderators may hold leases of different lengths). An expired lease returns the item to the queue and
//! invalidates its token: a late `decide` with it is refused. A decision is remembered with its token and action, so
//! retrying the same decide returns the same answer.

use super::CommentRecord;
use crate::domain::{Reputation, Verdict};

/// Which queue an item waits in. The review id's prefix says it: `p-…` pending, `r-…` reported.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum QueueKind {
    Pending,
    Reported,
}

impl QueueKind {
    pub fn prefix(self) -> &'static str {
        match self {
            QueueKind::Pending => "p",
            QueueKind::Reported => "r",
        }
    }

    /// The queue of a review id, from its prefix.
    pub fn of_review_id(review_id: &str) -> Option<QueueKind> {
        match review_id.split_once('-')?.0 {
            "p" => Some(QueueKind::Pending),
            "r" => Some(QueueKind::Reported),
            _ => None,
        }
    }
}

/// A moderator's decision.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReviewAction {
    Approve,
    Reject,
    /// Reject, and teach the site's spam model that this was spam.
    RejectSpam,
}

impl ReviewAction {
    pub fn as_str(self) -> &'static str {
        match self {
            ReviewAction::Approve => "APPROVE",
            ReviewAction::Reject => "REJECT",
            ReviewAction::RejectSpam => "REJECT_SPAM",
        }
    }

    pub fn verdict(self) -> Verdict {
        match self {
            ReviewAction::Approve => Verdict::Approved,
            ReviewAction::Reject | ReviewAction::RejectSpam => Verdict::Rejected,
        }
    }
}

/// A lease held on an item.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Claim {
    pub token: String,
    pub moderator: String,
    pub lease_expires_at_ms: u64,
}

/// An undecided item with everything a moderator needs to decide it.
#[derive(Debug, Clone, PartialEq)]
pub struct ReviewEntry {
    pub review_id: String,
    pub queue: QueueKind,
    pub comment: CommentRecord,
    /// Set by `claim`; in listings only the claimer's id is shown (the api never lists tokens).
    pub claim: Option<Claim>,
    /// How many times the item was handed to a moderator.
    pub delivery_count: u32,
    pub report_reasons: Vec<String>,
    pub report_count: u32,
    pub author_reputation: Reputation,
}

#[derive(Debug, Clone)]
pub struct ClaimRequest {
    pub queue: QueueKind,
    pub moderator: String,
    /// One fresh token per item that may be handed out (so the store needs no randomness of its own).
    pub tokens: Vec<String>,
    pub lease_ms: u64,
    pub thread_id: Option<String>,
}

#[derive(Debug, Clone)]
pub struct DecideRequest {
    pub review_id: String,
    pub claim_token: String,
    pub moderator: String,
    pub action: ReviewAction,
    pub note: String,
    pub reason_codes: Vec<String>,
    pub publish_original: bool,
}

/// The answer to a decide, also what a retry of it returns.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Decided {
    pub comment_id: String,
    pub verdict: Verdict,
    pub cursor: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DecideOutcome {
    Decided(Decided),
    /// Stale token, expired lease, or decided by someone else (`FAILED_PRECONDITION`); nothing changed.
    Refused(&'static str),
    NotFound,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ReleaseOutcome {
    Released,
    Refused(&'static str),
    NotFound,
}

/// One page of a queue listing, oldest first.
#[derive(Debug, Clone, PartialEq)]
pub struct QueuePage {
    pub items: Vec<ReviewEntry>,
    /// Resume after this position; `None` at the end.
    pub next_page_token: Option<String>,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct QueueStats {
    /// Waiting, not claimed.
    pub pending: u64,
    /// Waiting, not claimed.
    pub reported: u64,
    /// Leased to a moderator now.
    pub claimed: u64,
    /// Age of the oldest unclaimed pending item.
    pub oldest_pending_age_ms: Option<u64>,
    pub decided_last_hour: u64,
}

#[derive(Debug, Clone)]
pub struct ReportRequest {
    pub comment_id: String,
    pub reason: String,
    /// Pseudonym of the reporter (account id, else IP): one reporter counts once.
    pub reporter_key: String,
    /// After this many distinct reporters a published comment is hidden pending review.
    pub hide_threshold: u32,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ReportOutcome {
    Reported { review_id: String, report_count: u32, hidden: bool },
    NotFound,
}

/// One line of the audit log: who decided what, when.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct AuditEntry {
    pub at_ms: u64,
    pub moderator: String,
    pub review_id: String,
    pub comment_id: String,
    pub action: String,
    pub note: String,
}

/// A moderator's verdict, appended to the site's feedback stream for the spam model (DESIGN §5: review never calls
/// the model; the model consumes this stream).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Feedback {
    pub comment_id: String,
    /// `ham` (approved), `spam` (rejected as spam) or `rejected` (rejected for another reason: not a spam signal,
    /// the model consumer decides whether to learn from it).
    pub label: String,
    /// The redacted body: the model learns from words, never from personal data.
    pub text: String,
}

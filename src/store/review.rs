//! Types of the review workflow (DESIGN §4): queues of held and reported comments, per-item leases, one decision
//! per item. Both stores implement the same semantics; the contract suite checks them against each other.
//!
//! Lease model: an item handed to a moderator carries a fresh claim token and its own lease expiry (the request's
//! lease, so two moderators may hold leases of different lengths). An expired lease returns the item to the queue and
//! invalidates its token: a late `decide` with it is refused. A token is its claimer's: another moderator presenting it
//! is refused. A decision is remembered with its token, moderator and action, so the same moderator retrying the same
//! decide gets the same answer, and nobody else does.

use super::StoreError;
use crate::analysis::abuse::Category as AbuseCategory;
use crate::domain::{CommentRecord, Reputation, Verdict};
use async_trait::async_trait;

/// The review queues of a site: claim, decide, release, list, report, and the audit trail.
#[async_trait]
pub trait ReviewQueue: Send + Sync + 'static {
    /// Hands up to `tokens.len()` undecided items, oldest first, to a moderator with fresh leases.
    async fn claim(&self, site: &str, req: ClaimRequest) -> Result<Vec<ReviewEntry>, StoreError>;

    /// Decides one claimed item: verdict, queue removal, decision event, audit entry, reputation and feedback in one
    /// atomic step.
    async fn decide(&self, site: &str, req: DecideRequest) -> Result<DecideOutcome, StoreError>;

    /// Gives a claimed item back before its lease expires.
    async fn release(&self, site: &str, review_id: &str, claim_token: &str) -> Result<ReleaseOutcome, StoreError>;

    /// Undecided items after `page_token`, oldest first (claimed ones included, with their claimer).
    async fn list_queue(
        &self,
        site: &str,
        queue: QueueKind,
        page_token: Option<&str>,
        page_size: usize,
        thread_id: Option<&str>,
    ) -> Result<QueuePage, StoreError>;

    async fn queue_stats(&self, site: &str) -> Result<QueueStats, StoreError>;

    /// A reader flags a comment: into the reported queue, counted once per reporter.
    async fn report(&self, site: &str, req: ReportRequest) -> Result<ReportOutcome, StoreError>;

    /// The newest audit entries, newest last.
    async fn audit_log(&self, site: &str, limit: usize) -> Result<Vec<AuditEntry>, StoreError>;
}

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
    /// Reject as abusive, and teach the site's abuse model: of this category, or (`None`) of the item's
    /// highest-scoring one, which the store reads from the stored answer in the decide step itself.
    RejectAbuse(Option<AbuseCategory>),
}

/// Feedback labels of abuse rejections, by `Category::index` (`abuse:<category name>`).
pub const ABUSE_LABELS: [&str; 5] =
    ["abuse:threat", "abuse:identity_attack", "abuse:insult", "abuse:sexual", "abuse:profanity"];

/// The label a `RejectAbuse(None)` hands the store; the store replaces it with [`abuse_label`] of the item's scores
/// (`decide.lua` does the same in Lua).
pub const ABUSE_UNRESOLVED: &str = "abuse";

/// An abuse rejection's label when the moderator named no category: the item's highest-scoring category (the
/// first of equal ones); insult when every score is 0 — the comment's abuse was invisible to the detector, and
/// words aimed at a person are what moderators most often reject that the lexicons miss.
pub fn abuse_label(scores: &crate::domain::AbuseScores) -> &'static str {
    ABUSE_LABELS[scores.top().unwrap_or(AbuseCategory::Insult.index())]
}

impl ReviewAction {
    pub fn as_str(self) -> &'static str {
        match self {
            ReviewAction::Approve => "APPROVE",
            ReviewAction::Reject => "REJECT",
            ReviewAction::RejectSpam => "REJECT_SPAM",
            ReviewAction::RejectAbuse(_) => "REJECT_ABUSE",
        }
    }

    pub fn verdict(self) -> Verdict {
        match self {
            ReviewAction::Approve => Verdict::Approved,
            ReviewAction::Reject | ReviewAction::RejectSpam | ReviewAction::RejectAbuse(_) => Verdict::Rejected,
        }
    }

    /// The label of the decision on the site's feedback stream (see [`Feedback::label`]).
    pub fn feedback_label(self) -> &'static str {
        match self {
            ReviewAction::Approve => "ham",
            ReviewAction::RejectSpam => "spam",
            ReviewAction::Reject => "rejected",
            ReviewAction::RejectAbuse(Some(c)) => ABUSE_LABELS[c.index()],
            ReviewAction::RejectAbuse(None) => ABUSE_UNRESOLVED,
        }
    }
}

/// Why a decide or release changed nothing (`FAILED_PRECONDITION`). One list for both stores: the Lua scripts answer
/// with [`Refusal::code`], the memory store with the variant.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    AlreadyDecided,
    NotClaimed,
    StaleToken,
    /// A token is its claimer's: another moderator presenting it is refused.
    NotYours,
    LeaseExpired,
    /// Release cannot tell these apart: the item's live claim is not this token's.
    StaleOrExpired,
}

impl Refusal {
    const ALL: [Refusal; 6] = [
        Refusal::AlreadyDecided,
        Refusal::NotClaimed,
        Refusal::StaleToken,
        Refusal::NotYours,
        Refusal::LeaseExpired,
        Refusal::StaleOrExpired,
    ];

    /// The scripts' word for it.
    pub fn code(self) -> &'static str {
        match self {
            Refusal::AlreadyDecided => "already_decided",
            Refusal::NotClaimed => "not_claimed",
            Refusal::StaleToken => "stale_token",
            Refusal::NotYours => "not_yours",
            Refusal::LeaseExpired => "lease_expired",
            Refusal::StaleOrExpired => "stale_or_expired",
        }
    }

    pub fn from_code(code: &str) -> Option<Refusal> {
        Refusal::ALL.into_iter().find(|r| r.code() == code)
    }

    /// What the moderator is told.
    pub fn message(self) -> &'static str {
        match self {
            Refusal::AlreadyDecided => "the item was already decided",
            Refusal::NotClaimed => "the item is not claimed",
            Refusal::StaleToken => "the claim token is stale",
            Refusal::NotYours => "the item is claimed by another moderator",
            Refusal::LeaseExpired => "the lease has expired",
            Refusal::StaleOrExpired => "the claim token is stale or the lease has expired",
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
    Refused(Refusal),
    NotFound,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ReleaseOutcome {
    Released,
    Refused(Refusal),
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
    /// [`ReviewAction::as_str`]: `APPROVE`, `REJECT`, `REJECT_SPAM`, `REJECT_ABUSE`.
    pub action: String,
    pub note: String,
    /// The decision's reason codes, as given. Entries written before they were kept read as empty.
    #[serde(default)]
    pub reason_codes: Vec<String>,
}

/// A moderator's verdict, appended to the site's feedback stream for the learned models (DESIGN §5: review never
/// calls a model; the learner consumes this stream).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Feedback {
    pub comment_id: String,
    /// `ham` (approved), `spam` (rejected as spam), `abuse:<category>` (rejected as abusive, one of
    /// [`ABUSE_LABELS`]) or `rejected` (rejected for another reason: the learner only acknowledges it).
    pub label: String,
    /// The redacted body: the model learns from words, never from personal data.
    pub text: String,
}

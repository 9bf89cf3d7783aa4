//! Storage behind one trait, two implementations: [`memory`] (embedded default, nothing survives a restart) and
//! `redis` (production). The trait is shaped around DESIGN §4–5: a replay lookup, one context fetch, and ONE atomic
//! submit step that writes the record, the queue entry (if held), the decision event and the reputation counters
//! together — so an acknowledged comment is never half-written.
//!
//! Invariant: every method is scoped to one site; no call can reach another site's data.

pub mod keys;
pub mod learning;
pub mod memory;
pub mod near;
pub mod redis;
pub mod review;

use crate::domain::{Context, DecisionSource, Finding, Verdict};
use async_trait::async_trait;
use learning::{CommitOutcome, FeedbackEntry, ModelCommit, ModelDelta, RevertOutcome, SnapshotInfo};
pub use near::NearProbe;
use review::{
    AuditEntry, ClaimRequest, DecideOutcome, DecideRequest, QueueKind, QueuePage, QueueStats, ReleaseOutcome,
    ReportOutcome, ReportRequest, ReviewEntry,
};
use serde::{Deserialize, Serialize};
use std::fmt;

/// The store could not answer. The comment was NOT accepted; the caller may retry with the same comment id.
#[derive(Debug, thiserror::Error)]
#[error("store unavailable: {0}")]
pub struct StoreError(pub String);

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

/// The answer a submission got, kept so a replay returns it unchanged (DESIGN §4: idempotent).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Answer {
    pub verdict: Verdict,
    pub findings: Vec<Finding>,
    pub spam_score: f64,
    pub redacted_body: String,
    /// Set when the comment was held.
    pub review_id: Option<String>,
    /// Position of the verdict in the site's decision stream.
    pub decision_cursor: String,
}

/// A comment ready for the atomic write: analysed and decided, not yet stored.
#[derive(Debug, Clone, PartialEq)]
pub struct NewComment {
    pub comment_id: String,
    pub thread_id: String,
    pub parent_comment_id: String,
    pub permalink: String,
    pub language: String,
    pub author: AuthorRecord,
    /// Reputation keys (hashes, never the raw identifiers); see `intake::reputation_keys`.
    pub author_key: Option<String>,
    pub ip_key: String,
    pub body: String,
    /// Hex SHA-256 of the body: a replay must carry the same body.
    pub body_sha256: String,
    pub submitted_at_ms: u64,
    pub verdict: Verdict,
    pub findings: Vec<Finding>,
    pub spam_score: f64,
    pub redacted_body: String,
    pub reason_codes: Vec<String>,
    /// How long the record, its queue entry and its decision event are kept.
    pub retention_ms: u64,
    /// Entered into the site's near-copy window when stored (absent: too short, or the site does not look).
    pub near: Option<NearProbe>,
}

/// What a submission's comment id already has in the store.
#[derive(Debug, Clone, PartialEq)]
pub enum Lookup {
    /// Never seen (or expired): analyse and submit.
    Missing,
    /// Seen with the same body: return this stored answer, `replayed = true`.
    Replay(Answer),
    /// Seen with a different body: `ALREADY_EXISTS`.
    Conflict,
}

/// The outcome of the atomic submit step. A concurrent duplicate that lost the race gets the winner's answer.
#[derive(Debug, Clone, PartialEq)]
pub enum SubmitOutcome {
    Stored(Answer),
    Replayed(Answer),
    Conflict,
}

/// A stored comment: its first answer and its current state.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CommentRecord {
    pub comment_id: String,
    pub thread_id: String,
    pub parent_comment_id: String,
    pub permalink: String,
    pub language: String,
    pub author: AuthorRecord,
    /// Reputation keys, so a moderator's decision can update the author's and the address's history.
    pub author_key: Option<String>,
    pub ip_key: String,
    pub body: String,
    pub body_sha256: String,
    pub submitted_at_ms: u64,
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

/// Where a read of the decision stream starts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum After {
    /// From the oldest retained event (`"0"`).
    Start,
    /// Strictly after this position.
    Id(StreamId),
}

/// A position in a stream: Redis stream id semantics (`<ms>-<seq>`), used by both stores so cursors look alike.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct StreamId {
    pub ms: u64,
    pub seq: u64,
}

impl StreamId {
    /// The next id after `self` at time `now_ms` (monotonic even if the clock steps back).
    pub fn next(self, now_ms: u64) -> StreamId {
        if now_ms > self.ms { StreamId { ms: now_ms, seq: 0 } } else { StreamId { ms: self.ms, seq: self.seq + 1 } }
    }

    /// Parses `<ms>-<seq>` or `<ms>`; `None` for anything else.
    pub fn parse(s: &str) -> Option<StreamId> {
        let (ms, seq) = match s.split_once('-') {
            Some((ms, seq)) => (ms.parse().ok()?, seq.parse().ok()?),
            None => (s.parse().ok()?, 0),
        };
        Some(StreamId { ms, seq })
    }
}

impl fmt::Display for StreamId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}-{}", self.ms, self.seq)
    }
}

/// A read of the decision stream was asked to start before the oldest retained event (`OUT_OF_RANGE`).
#[derive(Debug, Clone, PartialEq)]
pub enum ReadError {
    Expired,
    Store(String),
}

impl From<StoreError> for ReadError {
    fn from(e: StoreError) -> Self {
        ReadError::Store(e.0)
    }
}

#[async_trait]
pub trait Store: Send + Sync + 'static {
    /// Human name for logs and the start-up banner.
    fn name(&self) -> &'static str;

    /// Replay lookup: has this comment id been accepted before, and with which body?
    async fn lookup(&self, site: &str, comment_id: &str, body_sha256: &str) -> Result<Lookup, StoreError>;

    /// Everything analysis and policy need from the store, in one round trip.
    /// `near`: also count the recent near copies of the comment (see [`near`]).
    async fn context(
        &self,
        site: &str,
        author_key: Option<&str>,
        ip_key: &str,
        near: Option<&NearProbe>,
    ) -> Result<Context, StoreError>;

    /// `lookup` and `context` together: the submit flow needs both, and a store can fetch them in one round trip.
    /// The context is read speculatively (it is wasted on a replay or a refused request, which is cheap).
    async fn lookup_with_context(
        &self,
        site: &str,
        comment_id: &str,
        body_sha256: &str,
        author_key: Option<&str>,
        ip_key: &str,
        near: Option<&NearProbe>,
    ) -> Result<(Lookup, Context), StoreError> {
        let lookup = self.lookup(site, comment_id, body_sha256).await?;
        let context = self.context(site, author_key, ip_key, near).await?;
        Ok((lookup, context))
    }

    /// The one atomic step: record + queue entry (if held) + decision event + reputation counters, all or nothing.
    async fn submit(&self, site: &str, comment: NewComment) -> Result<SubmitOutcome, StoreError>;

    /// The comment's current state; `None` when unknown or expired.
    async fn get(&self, site: &str, comment_id: &str) -> Result<Option<CommentRecord>, StoreError>;

    /// Up to `limit` decision events after `after`, oldest first.
    async fn read_decisions(&self, site: &str, after: After, limit: usize) -> Result<Vec<DecisionEvent>, ReadError>;

    /// Whether the store answers now (health checks).
    async fn ping(&self) -> Result<(), StoreError>;

    /// The newest decision event's position, if any (a watcher asking for "from now on" starts after it).
    async fn latest_decision(&self, site: &str) -> Result<Option<StreamId>, StoreError>;

    /// As `read_decisions`, but when nothing is there yet waits up to `block` for the next event. Blocking reads
    /// never share the connection that serves requests.
    async fn wait_decisions(
        &self,
        site: &str,
        after: After,
        limit: usize,
        block: std::time::Duration,
    ) -> Result<Vec<DecisionEvent>, ReadError>;

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

    /// Hands up to `limit` feedback entries to learner `consumer`: entries no learner has seen, after entries another
    /// learner claimed and left idle for `min_idle_ms` (see [`learning`]).
    async fn claim_feedback(
        &self,
        site: &str,
        consumer: &str,
        limit: usize,
        min_idle_ms: u64,
    ) -> Result<Vec<FeedbackEntry>, StoreError>;

    /// The version of the site's learned delta (cheap: replicas poll it).
    async fn model_version(&self, site: &str) -> Result<u64, StoreError>;

    /// The site's learned delta and its version, read together.
    async fn model_delta(&self, site: &str) -> Result<ModelDelta, StoreError>;

    /// Installs a new delta and acknowledges the feedback it learned, atomically (see [`learning`]).
    async fn commit_model(&self, site: &str, commit: ModelCommit) -> Result<CommitOutcome, StoreError>;

    /// The snapshots a site may revert to, oldest first.
    async fn model_snapshots(&self, site: &str) -> Result<Vec<SnapshotInfo>, StoreError>;

    /// Installs snapshot `version`'s delta (0: the empty delta) as a new version, itself snapshotted.
    async fn revert_model(&self, site: &str, version: u64, keep_snapshots: usize) -> Result<RevertOutcome, StoreError>;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stream_ids_are_monotonic_and_round_trip() {
        let a = StreamId { ms: 10, seq: 0 };
        assert_eq!(a.next(11), StreamId { ms: 11, seq: 0 });
        assert_eq!(a.next(10), StreamId { ms: 10, seq: 1 });
        assert_eq!(a.next(5), StreamId { ms: 10, seq: 1 }, "a clock stepping back never reorders");
        assert_eq!(StreamId::parse(&a.to_string()), Some(a));
        assert_eq!(StreamId::parse("7"), Some(StreamId { ms: 7, seq: 0 }));
        assert_eq!(StreamId::parse("x-1"), None);
    }
}

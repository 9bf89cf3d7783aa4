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
pub mod webhooks;

use crate::domain::{Answer, Comment, CommentRecord, Context, Decision, DecisionEvent};
use async_trait::async_trait;
pub use learning::ModelStore;
pub use near::NearProbe;
pub use review::ReviewQueue;
use std::fmt;
use std::sync::Arc;
pub use webhooks::WebhookState;

/// Whether a failed store call may have changed anything. Reads never do; a write sent to Redis that timed out or
/// whose connection dropped afterwards may have been applied (Redis runs what reached it, answered or not).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// Certainly nothing was written: the call was never sent (not connected, connection refused, failure before
    /// the write was written out), Redis refused it before running it (`READONLY`, `OOM`, `LOADING`, …), or it was
    /// a read.
    NotApplied,
    /// The write was sent and may or may not have been applied. Every write is idempotent, so the caller resolves it
    /// by retrying the same request: a submission with the same comment id returns the stored answer
    /// (`replayed = true`) or stores it now.
    Unknown,
}

/// The store could not answer. `outcome` says whether the write may have been applied. `Display` is for server
/// logs (outcome and cause, no personal data); what a client sees is [`StoreError::summary`] and `error.rs`'s text.
#[derive(Debug, Clone, thiserror::Error)]
#[error("{}: {cause}", self.summary())]
pub struct StoreError {
    pub outcome: Outcome,
    cause: String,
}

impl StoreError {
    /// Nothing was written. `cause` goes to logs only and must carry no personal data.
    pub fn not_applied(cause: impl Into<String>) -> StoreError {
        StoreError { outcome: Outcome::NotApplied, cause: cause.into() }
    }

    /// The write may have been applied. `cause` goes to logs only and must carry no personal data.
    pub fn unknown(cause: impl Into<String>) -> StoreError {
        StoreError { outcome: Outcome::Unknown, cause: cause.into() }
    }

    /// The same failure, after a write was sent: whatever went wrong next, the write may have been applied.
    pub fn after_write(self) -> StoreError {
        StoreError { outcome: Outcome::Unknown, ..self }
    }

    /// The outcome in words, safe for clients (no cause).
    pub fn summary(&self) -> &'static str {
        match self.outcome {
            Outcome::NotApplied => "store unavailable: nothing was stored or changed",
            Outcome::Unknown => "store unavailable: the outcome is unknown (the write may have been applied)",
        }
    }
}

/// The atomic write's input: a comment analysed and decided, not yet stored. It stays with the store (unlike the
/// records in `domain`) because it carries what only storage needs: the reputation keys, the retention and the
/// near-copy window's probe.
#[derive(Debug, Clone, PartialEq)]
pub struct NewComment {
    pub comment: Comment,
    /// Reputation keys (hashes, never the raw identifiers); see `intake::reputation_keys`.
    pub author_key: Option<String>,
    pub ip_key: String,
    /// Hex SHA-256 of the body: a replay must carry the same body.
    pub body_sha256: String,
    /// What policy decided; the answer is built from it.
    pub decision: Decision,
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
    /// A read changes nothing; `ReadError::Store`'s text reaches clients, so it never carries the cause.
    fn from(_: StoreError) -> Self {
        ReadError::Store("the decision stream could not be read".into())
    }
}

/// What the submit flow reads before deciding: whether the comment id was seen, and the context analysis needs.
#[derive(Debug, Clone, Copy)]
pub struct Probe<'a> {
    pub comment_id: &'a str,
    pub body_sha256: &'a str,
    pub author_key: Option<&'a str>,
    pub ip_key: &'a str,
    /// Also count the recent near copies of the comment (see [`near`]).
    pub near: Option<&'a NearProbe>,
}

/// Comments: the submit flow's one read and its one atomic write, the record they leave, and health.
#[async_trait]
pub trait CommentStore: Send + Sync + 'static {
    /// Human name for logs and the start-up banner.
    fn name(&self) -> &'static str;

    /// Whether the store answers now (health checks).
    async fn ping(&self) -> Result<(), StoreError>;

    /// The replay lookup and everything analysis and policy need, in one round trip. The context is read
    /// speculatively (it is wasted on a replay or a refused request, which is cheap).
    async fn prepare(&self, site: &str, probe: Probe<'_>) -> Result<(Lookup, Context), StoreError>;

    /// The one atomic step: record + queue entry (if held) + decision event + reputation counters, all or nothing.
    async fn submit(&self, site: &str, comment: NewComment) -> Result<SubmitOutcome, StoreError>;

    /// The comment's current state; `None` when unknown or expired.
    async fn get(&self, site: &str, comment_id: &str) -> Result<Option<CommentRecord>, StoreError>;
}

/// A site's decision stream, read by watchers and `ListDecisions`.
#[async_trait]
pub trait DecisionLog: Send + Sync + 'static {
    /// Up to `limit` decision events after `after`, oldest first.
    async fn read_decisions(&self, site: &str, after: After, limit: usize) -> Result<Vec<DecisionEvent>, ReadError>;

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
}

/// A whole backend: every role. Consumers hold the one role they use (see [`Stores`]).
pub trait Store: CommentStore + DecisionLog + ReviewQueue + ModelStore + WebhookState {}

impl<T: CommentStore + DecisionLog + ReviewQueue + ModelStore + WebhookState> Store for T {}

/// One backend's roles as separate handles, so each consumer holds only the role it uses and a test can replace
/// one role (e.g. hold submissions in flight) without re-implementing the others.
#[derive(Debug, Clone)]
pub struct Stores {
    pub comments: Arc<dyn CommentStore>,
    pub decisions: Arc<dyn DecisionLog>,
    pub review: Arc<dyn ReviewQueue>,
    pub models: Arc<dyn ModelStore>,
    /// Webhook delivery cursors and leases (`crate::webhooks`).
    pub webhooks: Arc<dyn WebhookState>,
}

impl Stores {
    /// Every role served by one backend.
    pub fn of(store: Arc<dyn Store>) -> Stores {
        Stores {
            comments: store.clone(),
            decisions: store.clone(),
            review: store.clone(),
            models: store.clone(),
            webhooks: store,
        }
    }
}

/// Role handles show in `Debug` output (of `App`, of handlers) by role name only: a store has nothing else to show.
macro_rules! debug_by_role_name {
    ($($role:ident),*) => {$(
        impl fmt::Debug for dyn $role {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(stringify!($role))
            }
        }
    )*};
}
debug_by_role_name!(CommentStore, DecisionLog, ReviewQueue, ModelStore, WebhookState, Store);

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

//! What the store keeps for a site's learned spam model (DESIGN §5: `cg:{site}:model:*`): the delta over the base
//! model as one versioned blob (`analysis::spam::codec` counts), versioned snapshots to revert to, and the learner's
//! consumer group on the feedback stream. The semantics, shared by both stores:
//!
//! * **Each feedback entry is learned once.** The learner claims entries (a consumer group: new ones, plus ones
//!   another learner claimed and left idle past a timeout), folds them into the delta it read, and commits the new
//!   delta together with the acknowledgement of exactly those entries — refused if the version moved (another
//!   learner or a revert committed first: read again and retry) or if an entry is no longer this learner's (it
//!   was idle long enough to be taken over). A crash between claim and commit leaves the entries pending for
//!   another learner; nothing is counted twice.
//! * **Every commit is a new version**; replicas reload when the version changes. Version 0 is the empty delta (the
//!   base model alone) and is always available to revert to.
//! * **Snapshots** are taken at a commit when the last one is older than the configured interval, and at every
//!   revert; the newest `keep` are kept. Reverting installs a snapshot's delta as a new version, so a revert can
//!   itself be reverted.

use super::StoreError;
use super::review::Feedback;
use async_trait::async_trait;

/// A site's learned model: the feedback the learner claims, the versioned delta, its snapshots.
#[async_trait]
pub trait ModelStore: Send + Sync + 'static {
    /// Hands up to `limit` feedback entries to learner `consumer`: entries no learner has seen, after entries another
    /// learner claimed and left idle for `min_idle_ms`.
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

    /// Installs a new delta and acknowledges the feedback it learned, atomically.
    async fn commit_model(&self, site: &str, commit: ModelCommit) -> Result<CommitOutcome, StoreError>;

    /// The snapshots a site may revert to, oldest first.
    async fn model_snapshots(&self, site: &str) -> Result<Vec<SnapshotInfo>, StoreError>;

    /// Installs snapshot `version`'s delta (0: the empty delta) as a new version, itself snapshotted.
    async fn revert_model(&self, site: &str, version: u64, keep_snapshots: usize) -> Result<RevertOutcome, StoreError>;
}

/// The learner's consumer group on a site's feedback stream.
pub const LEARNER_GROUP: &str = "learner";

/// A feedback entry handed to a learner: its stream id (for the acknowledgement) and content.
pub type FeedbackEntry = (String, Feedback);

/// The site's current delta.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ModelDelta {
    /// 0 before anything was learned.
    pub version: u64,
    /// Encoded counts (`analysis::spam::codec`); empty for version 0 or after a revert to 0.
    pub bytes: Vec<u8>,
}

/// A new delta and what it learned.
#[derive(Debug, Clone)]
pub struct ModelCommit {
    /// The version the delta was built on: the commit is refused if it is no longer current.
    pub base_version: u64,
    pub bytes: Vec<u8>,
    /// The learner that claimed `acked`.
    pub consumer: String,
    /// The feedback entries folded in; acknowledged with the commit.
    pub acked: Vec<String>,
    /// Comments the new delta has learned, `[ham, spam]` (for the snapshot list).
    pub docs: [u64; 2],
    /// Take a snapshot if the newest is older than this.
    pub snapshot_every_ms: u64,
    /// Snapshots kept.
    pub keep_snapshots: usize,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CommitOutcome {
    /// The delta is now this version.
    Committed(u64),
    /// The version moved since the delta was read; nothing changed.
    Conflict,
    /// An entry is no longer claimed by this learner (taken over after a timeout); nothing changed.
    Stale,
}

/// How a snapshot came to be.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SnapshotKind {
    Learned,
    /// Installed by reverting to this earlier version.
    Reverted {
        from: u64,
    },
}

/// One snapshot a site may revert to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SnapshotInfo {
    pub version: u64,
    pub taken_at_ms: u64,
    /// Comments its delta had learned, `[ham, spam]`.
    pub docs: [u64; 2],
    pub kind: SnapshotKind,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RevertOutcome {
    /// The snapshot's delta is now this (new) version.
    Reverted(u64),
    /// No such snapshot (never taken, or no longer kept).
    Unknown,
}

//! The learned-model state of one site in the memory store, with the semantics of `store::learning` (the Redis
//! store runs the same steps as Lua scripts). Every method runs under the site's lock.

use super::{MemoryStore, SiteData};
use crate::store::learning::{
    CommitOutcome, FeedbackEntry, ModelCommit, ModelDelta, ModelStore, RevertOutcome, SnapshotInfo, SnapshotKind,
};
use crate::store::{StoreError, StreamId};
use async_trait::async_trait;
use std::collections::BTreeMap;

#[derive(Debug, Default)]
pub(super) struct Learned {
    version: u64,
    delta: Vec<u8>,
    snapshots: BTreeMap<u64, (SnapshotInfo, Vec<u8>)>,
    /// The learner group's position: the newest feedback id handed out.
    delivered: StreamId,
    /// Handed out, not yet learned: owner and when.
    pending: BTreeMap<StreamId, (String, u64)>,
}

impl SiteData {
    pub(super) fn claim_feedback(
        &mut self,
        consumer: &str,
        limit: usize,
        min_idle_ms: u64,
        now: u64,
    ) -> Vec<FeedbackEntry> {
        let mut out = Vec::new();
        let feedback = &self.feedback;
        let find = |id: &StreamId| feedback.binary_search_by(|(i, _, _)| i.cmp(id)).ok().map(|i| &feedback[i].2);
        let learned = &mut self.learned;
        // Entries whose feedback expired meanwhile are dropped from the pending list, like XAUTOCLAIM does.
        learned.pending.retain(|id, _| find(id).is_some());
        for (id, (owner, at)) in learned.pending.iter_mut() {
            if out.len() >= limit {
                break;
            }
            if at.saturating_add(min_idle_ms) <= now
                && let Some(f) = find(id)
            {
                (*owner, *at) = (consumer.to_string(), now);
                out.push((id.to_string(), f.clone()));
            }
        }
        let after = learned.delivered;
        for (id, _, f) in feedback.iter().filter(|(id, _, _)| *id > after) {
            if out.len() >= limit {
                break;
            }
            learned.delivered = *id;
            learned.pending.insert(*id, (consumer.to_string(), now));
            out.push((id.to_string(), f.clone()));
        }
        out
    }

    pub(super) fn model_delta(&self) -> ModelDelta {
        ModelDelta { version: self.learned.version, bytes: self.learned.delta.clone() }
    }

    pub(super) fn model_version(&self) -> u64 {
        self.learned.version
    }

    pub(super) fn commit_model(&mut self, c: ModelCommit, now: u64) -> CommitOutcome {
        let l = &mut self.learned;
        if l.version != c.base_version {
            return CommitOutcome::Conflict;
        }
        let ids: Option<Vec<StreamId>> = c.acked.iter().map(|id| StreamId::parse(id)).collect();
        let Some(ids) = ids else { return CommitOutcome::Stale };
        if !ids.iter().all(|id| l.pending.get(id).is_some_and(|(owner, _)| *owner == c.consumer)) {
            return CommitOutcome::Stale;
        }
        for id in &ids {
            l.pending.remove(id);
        }
        l.version += 1;
        l.delta = c.bytes;
        let newest = l.snapshots.last_key_value().map(|(_, (info, _))| info.taken_at_ms);
        if newest.is_none_or(|at| now.saturating_sub(at) >= c.snapshot_every_ms) {
            let info = SnapshotInfo { version: l.version, taken_at_ms: now, docs: c.docs, kind: SnapshotKind::Learned };
            l.snapshot(info, c.keep_snapshots);
        }
        CommitOutcome::Committed(l.version)
    }

    pub(super) fn model_snapshots(&self) -> Vec<SnapshotInfo> {
        self.learned.snapshots.values().map(|(info, _)| *info).collect()
    }

    pub(super) fn revert_model(&mut self, version: u64, keep: usize, now: u64) -> RevertOutcome {
        let l = &mut self.learned;
        let (bytes, docs) = match version {
            0 => (Vec::new(), [0, 0]),
            v => match l.snapshots.get(&v) {
                Some((info, bytes)) => (bytes.clone(), info.docs),
                None => return RevertOutcome::Unknown,
            },
        };
        l.version += 1;
        l.delta = bytes;
        let info =
            SnapshotInfo { version: l.version, taken_at_ms: now, docs, kind: SnapshotKind::Reverted { from: version } };
        l.snapshot(info, keep);
        RevertOutcome::Reverted(l.version)
    }
}

impl Learned {
    /// Keeps the current delta as a snapshot, dropping the oldest beyond `keep` (at least one is kept).
    fn snapshot(&mut self, info: SnapshotInfo, keep: usize) {
        self.snapshots.insert(info.version, (info, self.delta.clone()));
        while self.snapshots.len() > keep.max(1) {
            self.snapshots.pop_first();
        }
    }
}

#[async_trait]
impl ModelStore for MemoryStore {
    async fn claim_feedback(
        &self,
        site: &str,
        consumer: &str,
        limit: usize,
        min_idle_ms: u64,
    ) -> Result<Vec<FeedbackEntry>, StoreError> {
        let now = self.clock.now_ms();
        Ok(self.locked(site, now).claim_feedback(consumer, limit, min_idle_ms, now))
    }

    async fn model_version(&self, site: &str) -> Result<u64, StoreError> {
        Ok(self.site(site).lock().model_version())
    }

    async fn model_delta(&self, site: &str) -> Result<ModelDelta, StoreError> {
        Ok(self.site(site).lock().model_delta())
    }

    async fn commit_model(&self, site: &str, commit: ModelCommit) -> Result<CommitOutcome, StoreError> {
        let now = self.clock.now_ms();
        Ok(self.locked(site, now).commit_model(commit, now))
    }

    async fn model_snapshots(&self, site: &str) -> Result<Vec<SnapshotInfo>, StoreError> {
        Ok(self.site(site).lock().model_snapshots())
    }

    async fn revert_model(&self, site: &str, version: u64, keep: usize) -> Result<RevertOutcome, StoreError> {
        let now = self.clock.now_ms();
        Ok(self.locked(site, now).revert_model(version, keep, now))
    }
}

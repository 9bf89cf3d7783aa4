//! The learned spam model on Redis (`store::learning`): the learner's consumer group on the feedback stream, the
//! delta, its version and its snapshots. Each step that must be atomic is one Lua script.

use super::scripts::{CLAIM_FEEDBACK, COMMIT_MODEL, REVERT_MODEL};
use super::{RedisStore, StoreError, corrupt, corrupt_after_write, err, read_err};
use crate::store::keys;
use crate::store::learning::{
    CommitOutcome, FeedbackEntry, LEARNER_GROUP, ModelCommit, ModelDelta, ModelStore, RevertOutcome, SnapshotInfo,
    SnapshotKind,
};
use crate::store::review::Feedback;
use async_trait::async_trait;

#[async_trait]
impl ModelStore for RedisStore {
    async fn claim_feedback(
        &self,
        site: &str,
        consumer: &str,
        limit: usize,
        min_idle_ms: u64,
    ) -> Result<Vec<FeedbackEntry>, StoreError> {
        let mut conn = self.conn.clone();
        let flat: Vec<String> = CLAIM_FEEDBACK
            .key(keys::feedback(site))
            .arg(LEARNER_GROUP)
            .arg(consumer)
            .arg(limit.max(1))
            .arg(min_idle_ms)
            .invoke_async(&mut conn)
            .await
            .map_err(err("claim feedback"))?;
        if flat.len() % 4 != 0 {
            return Err(corrupt_after_write("claim feedback"));
        }
        Ok(flat
            .chunks(4)
            .map(|c| (c[0].clone(), Feedback { comment_id: c[1].clone(), label: c[2].clone(), text: c[3].clone() }))
            .collect())
    }

    async fn model_version(&self, site: &str) -> Result<u64, StoreError> {
        let mut conn = self.conn.clone();
        let v: Option<u64> = redis::cmd("HGET")
            .arg(keys::model_meta(site))
            .arg("version")
            .query_async(&mut conn)
            .await
            .map_err(read_err("model version"))?;
        Ok(v.unwrap_or(0))
    }

    async fn model_delta(&self, site: &str) -> Result<ModelDelta, StoreError> {
        let mut conn = self.conn.clone();
        // MULTI: the version and the bytes from the same moment.
        let (version, bytes): (Option<u64>, Option<Vec<u8>>) = redis::pipe()
            .atomic()
            .cmd("HGET")
            .arg(keys::model_meta(site))
            .arg("version")
            .cmd("GET")
            .arg(keys::model_delta(site))
            .query_async(&mut conn)
            .await
            .map_err(read_err("model delta"))?;
        Ok(ModelDelta { version: version.unwrap_or(0), bytes: bytes.unwrap_or_default() })
    }

    async fn commit_model(&self, site: &str, c: ModelCommit) -> Result<CommitOutcome, StoreError> {
        let mut conn = self.conn.clone();
        let mut script = COMMIT_MODEL.prepare_invoke();
        script
            .key(keys::model_delta(site))
            .key(keys::model_meta(site))
            .key(keys::feedback(site))
            .key(keys::model_snapshots(site))
            .arg(c.base_version)
            .arg(c.bytes)
            .arg(LEARNER_GROUP)
            .arg(&c.consumer)
            .arg(self.clock.now_ms())
            .arg(c.snapshot_every_ms)
            .arg(c.keep_snapshots)
            .arg(format!("{}|{}", c.docs[0], c.docs[1]))
            .arg(keys::site_prefix(site));
        for id in &c.acked {
            script.arg(id);
        }
        let reply: Vec<String> = script.invoke_async(&mut conn).await.map_err(err("commit model"))?;
        match reply.as_slice() {
            [ok, v] if ok == "ok" => {
                v.parse().map(CommitOutcome::Committed).map_err(|_| corrupt_after_write("commit model"))
            }
            [c] if c == "conflict" => Ok(CommitOutcome::Conflict),
            [s] if s == "stale" => Ok(CommitOutcome::Stale),
            _ => Err(corrupt_after_write("commit model")),
        }
    }

    async fn model_snapshots(&self, site: &str) -> Result<Vec<SnapshotInfo>, StoreError> {
        let mut conn = self.conn.clone();
        let members: Vec<String> = redis::cmd("ZRANGE")
            .arg(keys::model_snapshots(site))
            .arg(0)
            .arg(-1)
            .query_async(&mut conn)
            .await
            .map_err(read_err("model snapshots"))?;
        members.iter().map(|m| snapshot_info(m).ok_or_else(|| corrupt("model snapshot"))).collect()
    }

    async fn revert_model(&self, site: &str, version: u64, keep: usize) -> Result<RevertOutcome, StoreError> {
        let mut conn = self.conn.clone();
        let reply: Vec<String> = REVERT_MODEL
            .key(keys::model_delta(site))
            .key(keys::model_meta(site))
            .key(keys::model_snapshots(site))
            .arg(version)
            .arg(self.clock.now_ms())
            .arg(keep)
            .arg(keys::site_prefix(site))
            .invoke_async(&mut conn)
            .await
            .map_err(err("revert model"))?;
        match reply.as_slice() {
            [ok, v] if ok == "ok" => {
                v.parse().map(RevertOutcome::Reverted).map_err(|_| corrupt_after_write("revert model"))
            }
            [u] if u == "unknown" => Ok(RevertOutcome::Unknown),
            _ => Err(corrupt_after_write("revert model")),
        }
    }
}

/// A snapshot-list member as `commit_model.lua` and `revert_model.lua` write it: `version|at|ham|spam|kind`, kind
/// `learned` or `revert:<version>`.
fn snapshot_info(member: &str) -> Option<SnapshotInfo> {
    let mut p = member.split('|');
    let mut num = || p.next()?.parse::<u64>().ok();
    let (version, taken_at_ms, ham, spam) = (num()?, num()?, num()?, num()?);
    let kind = match p.next()? {
        "learned" => SnapshotKind::Learned,
        k => SnapshotKind::Reverted { from: k.strip_prefix("revert:")?.parse().ok()? },
    };
    Some(SnapshotInfo { version, taken_at_ms, docs: [ham, spam], kind })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn snapshot_members_parse() {
        let learned =
            SnapshotInfo { version: 7, taken_at_ms: 1_700_000_000_000, docs: [12, 30], kind: SnapshotKind::Learned };
        assert_eq!(snapshot_info("7|1700000000000|12|30|learned"), Some(learned));
        assert_eq!(snapshot_info("8|5|0|0|revert:3").map(|s| s.kind), Some(SnapshotKind::Reverted { from: 3 }));
        assert_eq!(snapshot_info("7|x|1|2|learned"), None);
        assert_eq!(snapshot_info("7|1|1|2|revert:"), None);
    }
}

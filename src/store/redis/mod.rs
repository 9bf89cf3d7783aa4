//! The production store on Redis (DESIGN §4–5). Every write that must be atomic is one Lua script (`lua/`); key
//! names come from [`super::keys`]. Durability is Redis's: run it with `appendonly yes` (and `durability =
//! "replica"` to also wait for a replica with `WAIT` before answering).
//!
//! Failure model: every command has a response timeout, so a dead Redis makes a request fail in bounded time with
//! `StoreError` (→ `UNAVAILABLE`: not acknowledged, retry with the same comment id) instead of hanging. The
//! connection manager reconnects with backoff in the background; the service recovers by itself when Redis returns.
//! A timeout on the submit script leaves its outcome unknown to us — that is safe because a retry is idempotent.
//! The review workflow's scripts and their callers live in `review.rs`.

mod learning;
mod review;

use super::learning::{CommitOutcome, FeedbackEntry, ModelCommit, ModelDelta, RevertOutcome, SnapshotInfo};
use super::review::{
    AuditEntry, ClaimRequest, DecideOutcome, DecideRequest, QueueKind, QueuePage, QueueStats, ReleaseOutcome,
    ReportOutcome, ReportRequest, ReviewEntry,
};
use super::{
    After, Answer, AuthorRecord, CommentRecord, DecisionEvent, Lookup, NearProbe, NewComment, ReadError, Store,
    StoreError, StreamId, SubmitOutcome, keys, near,
};
use crate::clock::Clock;
use crate::domain::{Context, DecisionSource, Duplicates, Reputation, Verdict};
use async_trait::async_trait;
use redis::aio::{ConnectionManager, ConnectionManagerConfig};
use serde::{Deserialize, Serialize};
use std::sync::{Arc, LazyLock};
use std::time::Duration;

static SUBMIT: LazyLock<redis::Script> = LazyLock::new(|| redis::Script::new(include_str!("../lua/submit.lua")));
static READ_DECISIONS: LazyLock<redis::Script> =
    LazyLock::new(|| redis::Script::new(include_str!("../lua/read_decisions.lua")));

/// How long an acknowledged write must be durable for before the answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Durability {
    /// The primary has applied it (and, with `appendonly yes`, logged it).
    Primary,
    /// At least one replica acknowledged it too (`WAIT 1 <timeout>`).
    Replica { timeout: Duration },
}

/// Connection settings.
#[derive(Debug, Clone)]
pub struct RedisOptions {
    pub url: String,
    /// Bound on every command and on connecting.
    pub timeout: Duration,
    pub durability: Durability,
}

/// The immutable part of a comment, stored as one JSON field.
#[derive(Debug, Serialize, Deserialize)]
struct StoredComment {
    comment_id: String,
    thread_id: String,
    parent_comment_id: String,
    permalink: String,
    language: String,
    author: AuthorRecord,
    body: String,
    submitted_at_ms: u64,
}

/// The answer without the ids the script mints (review id, cursor).
#[derive(Debug, Serialize, Deserialize)]
struct StoredAnswer {
    verdict: Verdict,
    findings: Vec<crate::domain::Finding>,
    spam_score: f64,
    redacted_body: String,
}

#[derive(Clone)]
pub struct RedisStore {
    conn: ConnectionManager,
    durability: Durability,
    clock: Arc<dyn Clock>,
    client: redis::Client,
    timeout: Duration,
    /// Idle connections for blocking reads (XREAD BLOCK), one taken per waiting reader: a blocked command would
    /// stall every request multiplexed on the shared connection.
    blocking: Arc<parking_lot::Mutex<Vec<redis::aio::MultiplexedConnection>>>,
}

impl std::fmt::Debug for RedisStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RedisStore").field("durability", &self.durability).finish_non_exhaustive()
    }
}

fn err(context: &str) -> impl Fn(redis::RedisError) -> StoreError + '_ {
    move |e| StoreError(format!("redis {context}: {e}"))
}

fn to_json<T: Serialize>(value: &T) -> Result<String, StoreError> {
    serde_json::to_string(value).map_err(|e| StoreError(format!("encoding for redis: {e}")))
}

fn corrupt(context: &str) -> StoreError {
    StoreError(format!("redis {context}: unexpected reply"))
}

impl RedisStore {
    /// Prepares the connection without waiting for Redis: the service starts (NOT_SERVING) even while Redis is
    /// down and becomes ready when it answers.
    pub fn connect(options: &RedisOptions, clock: Arc<dyn Clock>) -> Result<RedisStore, StoreError> {
        let client = redis::Client::open(options.url.as_str()).map_err(err("url"))?;
        let config = ConnectionManagerConfig::new()
            .set_connection_timeout(Some(options.timeout))
            .set_response_timeout(Some(options.timeout))
            .set_number_of_retries(2)
            .set_min_delay(Duration::from_millis(50))
            .set_max_delay(Duration::from_secs(2));
        let conn = ConnectionManager::new_lazy_with_config(client.clone(), config).map_err(err("connect"))?;
        Ok(RedisStore {
            conn,
            durability: options.durability,
            clock,
            client,
            timeout: options.timeout,
            blocking: Arc::default(),
        })
    }

    async fn wait_for_replica(&self) -> Result<(), StoreError> {
        let Durability::Replica { timeout } = self.durability else { return Ok(()) };
        let mut conn = self.conn.clone();
        let acked: i64 = redis::cmd("WAIT")
            .arg(1)
            .arg(timeout.as_millis() as u64)
            .query_async(&mut conn)
            .await
            .map_err(err("WAIT"))?;
        if acked < 1 {
            return Err(StoreError("no replica acknowledged the write in time".into()));
        }
        Ok(())
    }
}

fn parse_verdict(s: &str) -> Option<Verdict> {
    match s {
        "APPROVED" => Some(Verdict::Approved),
        "PENDING_REVIEW" => Some(Verdict::PendingReview),
        "REJECTED" => Some(Verdict::Rejected),
        _ => None,
    }
}

impl RedisStore {
    /// The lookup outcome from a record's `LOOKUP_FIELDS`. The first attempt may have been refused for want of a
    /// replica: a replay is an acknowledgement too, so it carries the same durability promise.
    async fn replay_of(&self, fields: Vec<Option<String>>, body_sha256: &str) -> Result<Lookup, StoreError> {
        let mut f = fields.into_iter();
        let (sha, json, review, cursor) =
            (f.next().flatten(), f.next().flatten(), f.next().flatten(), f.next().flatten());
        match (sha, json) {
            (None, _) => Ok(Lookup::Missing),
            (Some(sha), _) if sha != body_sha256 => Ok(Lookup::Conflict),
            (Some(_), Some(json)) => {
                let answer = answer(&json, review.as_deref().unwrap_or(""), cursor.as_deref().unwrap_or(""))?;
                self.wait_for_replica().await?;
                Ok(Lookup::Replay(answer))
            }
            (Some(_), None) => Err(corrupt("lookup")),
        }
    }
}

/// The record fields a replay lookup needs.
const LOOKUP_FIELDS: [&str; 4] = ["sha", "answer", "review", "cursor"];

impl StoredAnswer {
    /// The full answer, with the ids the script minted.
    fn into_answer(self, review_id: &str, cursor: &str) -> Answer {
        Answer {
            verdict: self.verdict,
            findings: self.findings,
            spam_score: self.spam_score,
            redacted_body: self.redacted_body,
            review_id: (!review_id.is_empty()).then(|| review_id.to_string()),
            decision_cursor: cursor.to_string(),
        }
    }
}

/// Rebuilds a full answer from its stored JSON and the ids the script minted.
fn answer(json: &str, review_id: &str, cursor: &str) -> Result<Answer, StoreError> {
    let a: StoredAnswer = serde_json::from_str(json).map_err(|_| corrupt("answer"))?;
    Ok(a.into_answer(review_id, cursor))
}

/// Appends the context reads to a pipeline: the address's and the author's reputation, then, with a probe, the
/// record strings of its band values. [`context_of`] reads the replies.
fn push_context(
    pipe: &mut redis::Pipeline,
    site: &str,
    author_key: Option<&str>,
    ip_key: &str,
    near: Option<&NearProbe>,
) {
    pipe.cmd("HMGET").arg(keys::ip_reputation(site, ip_key)).arg(&REPUTATION_FIELDS);
    pipe.cmd("HMGET").arg(keys::author_reputation(site, author_key.unwrap_or("-"))).arg(&REPUTATION_FIELDS);
    if let Some(probe) = near {
        pipe.cmd("MGET").arg(near_keys(site, probe));
    }
}

/// The keys of a probe's band values, in band order.
fn near_keys(site: &str, probe: &NearProbe) -> Vec<String> {
    probe.sketch.0.iter().enumerate().map(|(band, &value)| keys::near_copies(site, band, value)).collect()
}

/// The context from the replies of [`push_context`]'s commands.
fn context_of(
    replies: Vec<redis::Value>,
    author_key: Option<&str>,
    near: Option<&NearProbe>,
    now_ms: u64,
) -> Result<Context, StoreError> {
    let mut replies = replies.into_iter();
    let mut next_reputation = || -> Result<Reputation, StoreError> {
        let v = replies.next().ok_or_else(|| corrupt("context"))?;
        let fields: Vec<Option<u64>> = redis::from_redis_value(v).map_err(|_| corrupt("context"))?;
        Ok(reputation(&fields))
    };
    let ip = next_reputation()?;
    let author = next_reputation()?;
    let duplicates = match near {
        Some(probe) => {
            let v = replies.next().ok_or_else(|| corrupt("near copies"))?;
            let bands: Vec<Option<String>> = redis::from_redis_value(v).map_err(|_| corrupt("near copies"))?;
            let since = now_ms.saturating_sub(probe.window_ms);
            let bands: Vec<Vec<&str>> = bands
                .iter()
                .map(|records| {
                    let mut members: Vec<&str> = near::members_since(records.as_deref().unwrap_or(""), since).collect();
                    members.drain(..members.len().saturating_sub(near::PER_BAND));
                    members
                })
                .collect();
            near::summarize(probe, bands.iter().map(|b| b.iter().copied()))
        }
        None => Duplicates::default(),
    };
    Ok(Context { author: author_key.map(|_| author), ip, duplicates })
}

fn reputation(fields: &[Option<u64>]) -> Reputation {
    let at = |i: usize| fields.get(i).copied().flatten().unwrap_or(0);
    Reputation { submitted: at(0), approved: at(1), rejected: at(2), spam: at(3) }
}

const REPUTATION_FIELDS: [&str; 4] = ["submitted", "approved", "rejected", "spam"];

/// The record fields `get` reads, in the order `load_items.lua` returns them too.
const RECORD_FIELDS: [&str; 13] = [
    "rec",
    "answer",
    "review",
    "cursor",
    "verdict",
    "source",
    "moderator",
    "decided_at",
    "publish_original",
    "expires_at",
    "sha",
    "ak",
    "ik",
];

/// A record from its hash fields in `RECORD_FIELDS` order; `None` when the record does not exist (expired).
fn record_from_fields(f: &[String]) -> Result<Option<CommentRecord>, StoreError> {
    let [rec, answer_json, review, cursor, verdict, source, moderator, decided_at, publish, expires, sha, ak, ik] = f
    else {
        return Err(corrupt("record"));
    };
    if rec.is_empty() {
        return Ok(None);
    }
    let rec: StoredComment = serde_json::from_str(rec).map_err(|_| corrupt("record"))?;
    let answer = answer(answer_json, review, cursor)?;
    Ok(Some(CommentRecord {
        comment_id: rec.comment_id,
        thread_id: rec.thread_id,
        parent_comment_id: rec.parent_comment_id,
        permalink: rec.permalink,
        language: rec.language,
        author: rec.author,
        author_key: (!ak.is_empty()).then(|| ak.clone()),
        ip_key: ik.clone(),
        body: rec.body,
        body_sha256: sha.clone(),
        submitted_at_ms: rec.submitted_at_ms,
        verdict: parse_verdict(verdict).unwrap_or(answer.verdict),
        source: parse_source(source),
        moderator_id: moderator.clone(),
        decided_at_ms: decided_at.parse().unwrap_or(0),
        publish_original: publish == "1",
        expires_at_ms: expires.parse().unwrap_or(0),
        answer,
    }))
}

fn parse_source(s: &str) -> DecisionSource {
    if s == "MODERATOR" { DecisionSource::Moderator } else { DecisionSource::Automatic }
}

/// A decision event from the 10 values `read_decisions.lua` returns per entry.
fn event_from_fields(f: &[String]) -> Option<DecisionEvent> {
    let [id, comment_id, verdict, source, moderator, reasons, at, body, publish, thread] = f else { return None };
    Some(DecisionEvent {
        cursor: id.clone(),
        comment_id: comment_id.clone(),
        verdict: parse_verdict(verdict)?,
        source: parse_source(source),
        moderator_id: moderator.clone(),
        reason_codes: serde_json::from_str(reasons).ok()?,
        decided_at_ms: at.parse().ok()?,
        redacted_body: body.clone(),
        publish_original: publish == "1",
        thread_id: thread.clone(),
    })
}

#[async_trait]
impl Store for RedisStore {
    fn name(&self) -> &'static str {
        "redis"
    }

    async fn lookup(&self, site: &str, comment_id: &str, body_sha256: &str) -> Result<Lookup, StoreError> {
        let mut conn = self.conn.clone();
        let fields: Vec<Option<String>> = redis::cmd("HMGET")
            .arg(keys::comment(site, comment_id))
            .arg(&LOOKUP_FIELDS)
            .query_async(&mut conn)
            .await
            .map_err(err("lookup"))?;
        self.replay_of(fields, body_sha256).await
    }

    async fn lookup_with_context(
        &self,
        site: &str,
        comment_id: &str,
        body_sha256: &str,
        author_key: Option<&str>,
        ip_key: &str,
        near: Option<&NearProbe>,
    ) -> Result<(Lookup, Context), StoreError> {
        let mut conn = self.conn.clone();
        let mut pipe = redis::pipe();
        pipe.cmd("HMGET").arg(keys::comment(site, comment_id)).arg(&LOOKUP_FIELDS);
        push_context(&mut pipe, site, author_key, ip_key, near);
        let mut replies: Vec<redis::Value> = pipe.query_async(&mut conn).await.map_err(err("lookup"))?;
        if replies.is_empty() {
            return Err(corrupt("lookup"));
        }
        let fields: Vec<Option<String>> = redis::from_redis_value(replies.remove(0)).map_err(|_| corrupt("lookup"))?;
        let context = context_of(replies, author_key, near, self.clock.now_ms())?;
        Ok((self.replay_of(fields, body_sha256).await?, context))
    }

    async fn context(
        &self,
        site: &str,
        author_key: Option<&str>,
        ip_key: &str,
        near: Option<&NearProbe>,
    ) -> Result<Context, StoreError> {
        let mut conn = self.conn.clone();
        let mut pipe = redis::pipe();
        push_context(&mut pipe, site, author_key, ip_key, near);
        let replies: Vec<redis::Value> = pipe.query_async(&mut conn).await.map_err(err("context"))?;
        context_of(replies, author_key, near, self.clock.now_ms())
    }

    async fn submit(&self, site: &str, c: NewComment) -> Result<SubmitOutcome, StoreError> {
        let stored_answer = StoredAnswer {
            verdict: c.verdict,
            findings: c.findings,
            spam_score: c.spam_score,
            redacted_body: c.redacted_body,
        };
        let record = StoredComment {
            comment_id: c.comment_id.clone(),
            thread_id: c.thread_id,
            parent_comment_id: c.parent_comment_id,
            permalink: c.permalink,
            language: c.language,
            author: c.author,
            body: c.body,
            submitted_at_ms: c.submitted_at_ms,
        };
        let now = self.clock.now_ms();
        let answer_json = to_json(&stored_answer)?;
        let author_key = c.author_key.as_deref().unwrap_or("-");
        let mut conn = self.conn.clone();
        let mut script = SUBMIT.prepare_invoke();
        script
            .key(keys::comment(site, &c.comment_id))
            .key(keys::pending_queue(site))
            .key(keys::decisions(site))
            .key(keys::ip_reputation(site, &c.ip_key))
            .key(keys::author_reputation(site, author_key));
        if let Some(probe) = &c.near {
            for key in near_keys(site, probe) {
                script.key(key);
            }
        }
        script
            .arg(&c.body_sha256)
            .arg(&answer_json)
            .arg(to_json(&record)?)
            .arg(c.verdict.as_str())
            .arg(c.retention_ms.max(1))
            .arg(now)
            .arg(if c.verdict == Verdict::PendingReview { "1" } else { "0" })
            .arg(to_json(&c.reason_codes)?)
            .arg(if c.author_key.is_some() { "1" } else { "0" })
            .arg(&c.comment_id)
            .arg(&record.thread_id)
            .arg(&stored_answer.redacted_body)
            .arg(c.author_key.as_deref().unwrap_or(""))
            .arg(&c.ip_key)
            .arg(c.near.as_ref().map_or(0, |p| p.window_ms))
            .arg(c.near.as_ref().map_or(String::new(), |p| near::record(now, &p.member)))
            .arg(near::PER_BAND * near::RECORD_LEN);
        let reply: Vec<String> = script.invoke_async(&mut conn).await.map_err(err("submit"))?;
        let outcome = match reply.as_slice() {
            [kind, review, cursor] if kind == "stored" => {
                SubmitOutcome::Stored(stored_answer.into_answer(review, cursor))
            }
            [kind, stored, review, cursor] if kind == "replay" => {
                SubmitOutcome::Replayed(answer(stored, review, cursor)?)
            }
            [kind] if kind == "conflict" => return Ok(SubmitOutcome::Conflict),
            _ => return Err(corrupt("submit")),
        };
        self.wait_for_replica().await?;
        Ok(outcome)
    }

    async fn get(&self, site: &str, comment_id: &str) -> Result<Option<CommentRecord>, StoreError> {
        let mut conn = self.conn.clone();
        let fields: Vec<Option<String>> = redis::cmd("HMGET")
            .arg(keys::comment(site, comment_id))
            .arg(&RECORD_FIELDS)
            .query_async(&mut conn)
            .await
            .map_err(err("get"))?;
        let fields: Vec<String> = fields.into_iter().map(Option::unwrap_or_default).collect();
        record_from_fields(&fields)
    }

    async fn read_decisions(&self, site: &str, after: After, limit: usize) -> Result<Vec<DecisionEvent>, ReadError> {
        let from = match after {
            After::Start => "-".to_string(),
            After::Id(id) => id.to_string(),
        };
        let mut conn = self.conn.clone();
        let reply: Vec<String> = READ_DECISIONS
            .key(keys::decisions(site))
            .arg(from)
            .arg(limit.max(1))
            .invoke_async(&mut conn)
            .await
            .map_err(err("read decisions"))?;
        match reply.split_first() {
            Some((status, _)) if status == "expired" => Err(ReadError::Expired),
            Some((status, rest)) if status == "ok" && rest.len() % 10 == 0 => rest
                .chunks(10)
                .map(event_from_fields)
                .collect::<Option<Vec<_>>>()
                .ok_or_else(|| ReadError::Store("corrupt decision event".into())),
            _ => Err(ReadError::Store("unexpected reply".into())),
        }
    }

    async fn ping(&self) -> Result<(), StoreError> {
        let mut conn = self.conn.clone();
        let _: String = redis::cmd("PING").query_async(&mut conn).await.map_err(err("ping"))?;
        Ok(())
    }

    async fn latest_decision(&self, site: &str) -> Result<Option<StreamId>, StoreError> {
        let mut conn = self.conn.clone();
        let last: Vec<(String, Vec<(String, String)>)> = redis::cmd("XREVRANGE")
            .arg(keys::decisions(site))
            .arg("+")
            .arg("-")
            .arg("COUNT")
            .arg(1)
            .query_async(&mut conn)
            .await
            .map_err(err("latest decision"))?;
        Ok(last.first().and_then(|(id, _)| StreamId::parse(id)))
    }

    async fn wait_decisions(
        &self,
        site: &str,
        after: After,
        limit: usize,
        block: Duration,
    ) -> Result<Vec<DecisionEvent>, ReadError> {
        let events = self.read_decisions(site, after, limit).await?;
        if !events.is_empty() {
            return Ok(events);
        }
        let pooled = self.blocking.lock().pop();
        let mut conn = match pooled {
            Some(c) => c,
            None => {
                let config = redis::AsyncConnectionConfig::new()
                    .set_connection_timeout(Some(self.timeout))
                    .set_response_timeout(Some(block + self.timeout));
                self.client.get_multiplexed_async_connection_with_config(&config).await.map_err(err("connect"))?
            }
        };
        let from = match after {
            After::Start => "0-0".to_string(),
            After::Id(id) => id.to_string(),
        };
        let woke: redis::RedisResult<redis::Value> = redis::cmd("XREAD")
            .arg("BLOCK")
            .arg(block.as_millis() as u64)
            .arg("COUNT")
            .arg(1)
            .arg("STREAMS")
            .arg(keys::decisions(site))
            .arg(from)
            .query_async(&mut conn)
            .await;
        // Only a connection that answered goes back to the pool; a broken one is dropped.
        woke.map_err(err("wait decisions"))?;
        self.blocking.lock().push(conn);
        self.read_decisions(site, after, limit).await
    }

    async fn claim(&self, site: &str, req: ClaimRequest) -> Result<Vec<ReviewEntry>, StoreError> {
        self.claim_items(site, req).await
    }

    async fn decide(&self, site: &str, req: DecideRequest) -> Result<DecideOutcome, StoreError> {
        self.decide_item(site, req).await
    }

    async fn release(&self, site: &str, review_id: &str, claim_token: &str) -> Result<ReleaseOutcome, StoreError> {
        self.release_item(site, review_id, claim_token).await
    }

    async fn list_queue(
        &self,
        site: &str,
        queue: QueueKind,
        page_token: Option<&str>,
        page_size: usize,
        thread_id: Option<&str>,
    ) -> Result<QueuePage, StoreError> {
        self.list_items(site, queue, page_token, page_size, thread_id).await
    }

    async fn queue_stats(&self, site: &str) -> Result<QueueStats, StoreError> {
        self.stats(site).await
    }

    async fn report(&self, site: &str, req: ReportRequest) -> Result<ReportOutcome, StoreError> {
        self.report_comment(site, req).await
    }

    async fn audit_log(&self, site: &str, limit: usize) -> Result<Vec<AuditEntry>, StoreError> {
        self.audit_entries(site, limit).await
    }

    async fn claim_feedback(
        &self,
        site: &str,
        consumer: &str,
        limit: usize,
        min_idle_ms: u64,
    ) -> Result<Vec<FeedbackEntry>, StoreError> {
        self.claim_feedback_entries(site, consumer, limit, min_idle_ms).await
    }

    async fn model_version(&self, site: &str) -> Result<u64, StoreError> {
        self.read_model_version(site).await
    }

    async fn model_delta(&self, site: &str) -> Result<ModelDelta, StoreError> {
        self.read_model_delta(site).await
    }

    async fn commit_model(&self, site: &str, commit: ModelCommit) -> Result<CommitOutcome, StoreError> {
        self.commit_model_delta(site, commit).await
    }

    async fn model_snapshots(&self, site: &str) -> Result<Vec<SnapshotInfo>, StoreError> {
        self.list_model_snapshots(site).await
    }

    async fn revert_model(&self, site: &str, version: u64, keep: usize) -> Result<RevertOutcome, StoreError> {
        self.revert_model_to(site, version, keep).await
    }
}

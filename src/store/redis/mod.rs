//! The production store on Redis (DESIGN §4–5). Every write that must be atomic is one Lua script (`lua/`); key
//! names come from [`super::keys`]. Durability is Redis's: run it with `appendonly yes` (and `durability =
//! "replica"` to also wait for a replica with `WAIT` before answering).
//!
//! Failure model: every command has a response timeout, so a dead Redis makes a request fail in bounded time with
//! `StoreError` (→ `UNAVAILABLE`) instead of hanging. The connection manager reconnects with backoff in the
//! background after a dropped connection; the service recovers by itself when Redis returns. A response timeout
//! does NOT drop the connection: while Redis is paused, later commands queue on the same connection and Redis runs
//! them all when it resumes — so a write that timed out is `Outcome::Unknown` (resolved by retrying it: every write
//! is idempotent), and only failures that certainly wrote nothing are `NotApplied` (see `outcome_of`). Worst case
//! for one request: lookup + script (+ `SCRIPT LOAD` and a second call after a Redis restart) + `WAIT`, each bounded
//! by the timeout; a reconnect adds up to three connection attempts.
//! The review workflow's scripts and their callers live in `review.rs`.

mod batch;
mod learning;
mod review;
mod scripts;
mod webhooks;

use super::{
    After, CommentStore, DecisionLog, Lookup, NearProbe, NewComment, Outcome, Probe, ReadError, StoreError, StreamId,
    SubmitOutcome, keys, near,
};
use crate::clock::Clock;
use crate::domain::{
    Answer, Comment, CommentRecord, Context, DecisionEvent, DecisionSource, Duplicates, Reputation, Verdict,
};
use async_trait::async_trait;
use redis::aio::{ConnectionManager, ConnectionManagerConfig};
use scripts::READ_DECISIONS;
use serde::{Deserialize, Serialize};
use std::sync::Arc;
use std::time::Duration;

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

impl RedisOptions {
    /// The store's Redis settings from the config (`serve`, `model`).
    pub fn from_config(url: &str, config: &crate::config::Config) -> RedisOptions {
        use crate::config::DurabilityConfig;
        let durability = match config.store.durability {
            DurabilityConfig::Primary => Durability::Primary,
            DurabilityConfig::Replica => {
                Durability::Replica { timeout: Duration::from_millis(config.store.replica_wait_ms) }
            }
        };
        RedisOptions { url: url.to_string(), timeout: Duration::from_millis(config.store.timeout_ms), durability }
    }
}

/// The answer without the ids the script mints (review id, cursor).
#[derive(Debug, Serialize, Deserialize)]
struct StoredAnswer {
    verdict: Verdict,
    findings: Vec<crate::domain::Finding>,
    spam_score: f64,
    /// Absent in answers stored before abuse scores existed, and when all are 0.
    #[serde(default, skip_serializing_if = "crate::domain::AbuseScores::is_zero")]
    abuse: crate::domain::AbuseScores,
    redacted_body: String,
}

#[derive(Clone)]
pub struct RedisStore {
    conn: ConnectionManager,
    /// Decision-stream reads (watcher catch-up, `ListDecisions`, the site readers) on their own multiplexed
    /// connection: their large replies never queue ahead of the writes and pings on `conn`.
    reads: ConnectionManager,
    durability: Durability,
    clock: Arc<dyn Clock>,
    client: redis::Client,
    timeout: Duration,
    /// Idle connections for blocking reads (XREAD BLOCK), one taken per waiting reader: a blocked command would
    /// stall every request multiplexed on the shared connection.
    blocking: Arc<parking_lot::Mutex<Vec<redis::aio::MultiplexedConnection>>>,
    /// Submissions go through the group commit (`batch.rs`) on `conn`.
    committer: Arc<batch::Committer>,
}

impl std::fmt::Debug for RedisStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RedisStore").field("durability", &self.durability).finish_non_exhaustive()
    }
}

/// A write's failure, classified by [`outcome_of`] and logged (op and cause, never Redis' free text).
fn err(op: &'static str) -> impl Fn(redis::RedisError) -> StoreError {
    move |e| failed(op, outcome_of(&e), &e)
}

/// A read's failure: whatever went wrong, nothing was written.
fn read_err(op: &'static str) -> impl Fn(redis::RedisError) -> StoreError {
    move |e| failed(op, Outcome::NotApplied, &e)
}

fn failed(op: &'static str, outcome: Outcome, e: &redis::RedisError) -> StoreError {
    let cause = cause_of(e);
    tracing::warn!(op, ?outcome, cause = %cause, "redis call failed");
    match outcome {
        Outcome::NotApplied => StoreError::not_applied(format!("redis {op}: {cause}")),
        Outcome::Unknown => StoreError::unknown(format!("redis {op}: {cause}")),
    }
}

/// Error codes with which Redis refuses a command (or a script's first write) before anything is written: a script
/// answered with one of them wrote nothing. Not here: `ERR` and anything else a script may raise after writing, and
/// `NOPERM` (an ACL may deny a command in the middle of a script).
const REFUSED_BEFORE_WRITING: [&str; 13] = [
    "READONLY",
    "OOM",
    "MISCONF",
    "NOREPLICAS",
    "LOADING",
    "BUSY",
    "NOSCRIPT",
    "MASTERDOWN",
    "CLUSTERDOWN",
    "TRYAGAIN",
    "MOVED",
    "ASK",
    "NOAUTH",
];

/// Whether a failed write may have been applied. Certainly not when the connection was refused (nothing was sent)
/// or Redis refused it before writing; otherwise — a timeout (Redis runs what reached it even when the answer comes
/// too late: a paused server runs its backlog when it resumes), a dropped connection, an unreadable reply — unknown.
/// A timeout while (re)connecting looks like one after sending, so it is unknown too: erring towards "retry the
/// same request" is always safe, since every write is idempotent.
fn outcome_of(e: &redis::RedisError) -> Outcome {
    if e.is_connection_refusal() || e.code().is_some_and(|code| REFUSED_BEFORE_WRITING.contains(&code)) {
        Outcome::NotApplied
    } else {
        Outcome::Unknown
    }
}

/// What to log about a Redis error: its code or I/O kind — closed sets, never the free text (a reply's text may
/// echo arguments).
fn cause_of(e: &redis::RedisError) -> String {
    if let Some(code) = e.code() {
        return format!("{code} reply");
    }
    let what = if e.is_timeout() {
        "timed out"
    } else if e.is_connection_refusal() {
        "connection refused"
    } else if e.is_connection_dropped() {
        "connection dropped"
    } else {
        e.category()
    };
    what.to_string()
}

fn to_json<T: Serialize>(value: &T) -> Result<String, StoreError> {
    serde_json::to_string(value).map_err(|e| StoreError::not_applied(format!("encoding for redis: {e}")))
}

/// A read's reply did not parse: nothing was written.
fn corrupt(op: &str) -> StoreError {
    StoreError::not_applied(format!("redis {op}: unexpected reply"))
}

/// A write's reply did not parse: the script ran, what it did is unknown.
fn corrupt_after_write(op: &str) -> StoreError {
    StoreError::unknown(format!("redis {op}: unexpected reply"))
}

impl RedisStore {
    /// Prepares the connection without waiting for Redis: the service starts (NOT_SERVING) even while Redis is
    /// down and becomes ready when it answers.
    pub fn connect(options: &RedisOptions, clock: Arc<dyn Clock>) -> Result<RedisStore, StoreError> {
        let client = redis::Client::open(options.url.as_str()).map_err(read_err("url"))?;
        let config = ConnectionManagerConfig::new()
            .set_connection_timeout(Some(options.timeout))
            .set_response_timeout(Some(options.timeout))
            .set_number_of_retries(2)
            .set_min_delay(Duration::from_millis(50))
            .set_max_delay(Duration::from_secs(2));
        let conn =
            ConnectionManager::new_lazy_with_config(client.clone(), config.clone()).map_err(read_err("connect"))?;
        let reads = ConnectionManager::new_lazy_with_config(client.clone(), config).map_err(read_err("connect"))?;
        Ok(RedisStore {
            committer: Arc::new(batch::Committer::new(conn.clone(), options.durability)),
            conn,
            reads,
            durability: options.durability,
            clock,
            client,
            timeout: options.timeout,
            blocking: Arc::default(),
        })
    }

    /// Waits for a replica after a write was applied on the primary (or found there by a replay), so its failure
    /// is always "outcome unknown": the write is there, but not as durable as promised; a retry replays it.
    async fn wait_for_replica(&self) -> Result<(), StoreError> {
        wait_for_replica(&self.conn, self.durability).await
    }
}

/// [`RedisStore::wait_for_replica`] for callers without the store (the group commit). `WAIT` covers every write
/// sent on the connection before it, so one `WAIT` after a batch covers the whole batch.
async fn wait_for_replica(conn: &ConnectionManager, durability: Durability) -> Result<(), StoreError> {
    let Durability::Replica { timeout } = durability else { return Ok(()) };
    let mut conn = conn.clone();
    let acked: i64 = redis::cmd("WAIT")
        .arg(1)
        .arg(timeout.as_millis() as u64)
        .query_async(&mut conn)
        .await
        .map_err(|e| err("WAIT")(e).after_write())?;
    if acked < 1 {
        return Err(StoreError::unknown("no replica acknowledged the write in time"));
    }
    Ok(())
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
    /// The lookup outcome from a record's body hash (`sha`, read with the context). Only a stored comment costs a
    /// second read, of its answer: replays are rare, and reading the answer fields with every submission made the
    /// context read's reply larger for nothing. The first attempt may have been refused for want of a replica: a
    /// replay is an acknowledgement too, so it carries the same durability promise.
    async fn replay_of(&self, key: String, sha: Option<Vec<u8>>, body_sha256: &str) -> Result<Lookup, StoreError> {
        match sha {
            None => Ok(Lookup::Missing),
            Some(sha) if sha != body_sha256.as_bytes() => Ok(Lookup::Conflict),
            Some(_) => {
                let mut conn = self.conn.clone();
                let fields: Vec<Option<String>> = redis::cmd("HMGET")
                    .arg(key)
                    .arg(&REPLAY_FIELDS)
                    .query_async(&mut conn)
                    .await
                    .map_err(read_err("lookup"))?;
                let [json, review, cursor]: [Option<String>; 3] = fields.try_into().map_err(|_| corrupt("lookup"))?;
                // Expired between the two reads: as if never seen.
                let Some(json) = json else { return Ok(Lookup::Missing) };
                let answer = answer(&json, review.as_deref().unwrap_or(""), cursor.as_deref().unwrap_or(""))?;
                self.wait_for_replica().await?;
                Ok(Lookup::Replay(answer))
            }
        }
    }
}

/// The record fields a replay returns.
const REPLAY_FIELDS: [&str; 3] = ["answer", "review", "cursor"];

impl StoredAnswer {
    /// The full answer, with the ids the script minted.
    fn into_answer(self, review_id: &str, cursor: &str) -> Answer {
        Answer {
            verdict: self.verdict,
            findings: self.findings,
            spam_score: self.spam_score,
            abuse: self.abuse,
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
/// record strings of its band values in the previous and the current generation. [`context_of`] reads the replies.
fn push_context(
    pipe: &mut redis::Pipeline,
    site: &str,
    author_key: Option<&str>,
    ip_key: &str,
    near: Option<&NearProbe>,
    now_ms: u64,
) {
    pipe.cmd("HMGET").arg(keys::ip_reputation(site, ip_key)).arg(&REPUTATION_FIELDS);
    pipe.cmd("HMGET").arg(keys::author_reputation(site, author_key.unwrap_or("-"))).arg(&REPUTATION_FIELDS);
    if let Some(probe) = near {
        let current = near::generation(now_ms, probe.window_ms);
        let mut read = pipe.cmd("MGET");
        for (band, &value) in probe.sketch.0.iter().enumerate() {
            for generation in [current.saturating_sub(1), current] {
                read = read.arg(keys::near_copies(site, generation, band, value));
            }
        }
    }
}

/// The keys a probe's comment is appended to at `now_ms`, in band order.
fn near_keys(site: &str, probe: &NearProbe, now_ms: u64) -> impl Iterator<Item = String> {
    let generation = near::generation(now_ms, probe.window_ms);
    probe.sketch.0.iter().enumerate().map(move |(band, &value)| keys::near_copies(site, generation, band, value))
}

/// The context from the replies of [`push_context`]'s commands. Reads the reply values in place (no conversion to
/// intermediate vectors): this parse runs on every submission.
fn context_of(
    mut replies: impl Iterator<Item = redis::Value>,
    author_key: Option<&str>,
    near: Option<&NearProbe>,
    now_ms: u64,
) -> Result<Context, StoreError> {
    let ip = reputation(replies.next()).ok_or_else(|| corrupt("context"))?;
    let author = reputation(replies.next()).ok_or_else(|| corrupt("context"))?;
    let duplicates = match near {
        Some(probe) => {
            // Per band: the previous generation's records, then the current one's (time order).
            let Some(redis::Value::Array(strings)) = replies.next() else { return Err(corrupt("near copies")) };
            if strings.len() != 2 * probe.sketch.0.len() {
                return Err(corrupt("near copies"));
            }
            let since = now_ms.saturating_sub(probe.window_ms);
            let mut members: Vec<near::MemberKey> = Vec::with_capacity(4 * near::PER_BAND);
            let mut bands: Vec<Vec<near::MemberKey>> = Vec::with_capacity(probe.sketch.0.len());
            for generations in strings.chunks(2) {
                members.clear();
                for records in generations {
                    match records {
                        redis::Value::BulkString(records) => members.extend(near::members_since(records, since)),
                        redis::Value::Nil => {}
                        _ => return Err(corrupt("near copies")),
                    }
                }
                bands.push(members[members.len().saturating_sub(near::PER_BAND)..].to_vec());
            }
            near::summarize(probe, bands)
        }
        None => Duplicates::default(),
    };
    Ok(Context { author: author_key.map(|_| author), ip, duplicates })
}

/// A reputation from the reply of `HMGET … REPUTATION_FIELDS` (absent fields count 0); `None` for another reply.
fn reputation(reply: Option<redis::Value>) -> Option<Reputation> {
    let Some(redis::Value::Array(fields)) = reply else { return None };
    let mut counts = [0u64; REPUTATION_FIELDS.len()];
    for (count, field) in counts.iter_mut().zip(&fields) {
        *count = match field {
            redis::Value::Nil => 0,
            redis::Value::BulkString(digits) => std::str::from_utf8(digits).ok()?.parse().ok()?,
            redis::Value::Int(n) => u64::try_from(*n).ok()?,
            _ => return None,
        };
    }
    let [submitted, approved, rejected, spam] = counts;
    Some(Reputation { submitted, approved, rejected, spam })
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
    // The immutable part of a comment is one JSON field (`domain::Comment`'s serde shape).
    let comment: Comment = serde_json::from_str(rec).map_err(|_| corrupt("record"))?;
    let answer = answer(answer_json, review, cursor)?;
    Ok(Some(CommentRecord {
        comment,
        author_key: (!ak.is_empty()).then(|| ak.clone()),
        ip_key: ik.clone(),
        body_sha256: sha.clone(),
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
impl CommentStore for RedisStore {
    fn name(&self) -> &'static str {
        "redis"
    }

    async fn ping(&self) -> Result<(), StoreError> {
        let mut conn = self.conn.clone();
        let _: String = redis::cmd("PING").query_async(&mut conn).await.map_err(read_err("ping"))?;
        Ok(())
    }

    async fn prepare(&self, site: &str, probe: Probe<'_>) -> Result<(Lookup, Context), StoreError> {
        let Probe { comment_id, body_sha256, author_key, ip_key, near } = probe;
        let mut conn = self.conn.clone();
        let now = self.clock.now_ms();
        let key = keys::comment(site, comment_id);
        let mut pipe = redis::pipe();
        pipe.cmd("HGET").arg(&key).arg("sha");
        push_context(&mut pipe, site, author_key, ip_key, near, now);
        let replies: Vec<redis::Value> = pipe.query_async(&mut conn).await.map_err(read_err("lookup"))?;
        let mut replies = replies.into_iter();
        let sha = match replies.next() {
            Some(redis::Value::Nil) => None,
            Some(redis::Value::BulkString(sha)) => Some(sha),
            _ => return Err(corrupt("lookup")),
        };
        let context = context_of(replies, author_key, near, now)?;
        Ok((self.replay_of(key, sha, body_sha256).await?, context))
    }

    async fn submit(&self, site: &str, c: NewComment) -> Result<SubmitOutcome, StoreError> {
        let now = self.clock.now_ms();
        let retention = c.retention_ms.max(1);
        let mut keys = Vec::with_capacity(3 + c.near.as_ref().map_or(0, |p| p.sketch.0.len()));
        keys.push(keys::comment(site, &c.comment.comment_id));
        keys.push(keys::ip_reputation(site, &c.ip_key));
        keys.push(keys::author_reputation(site, c.author_key.as_deref().unwrap_or("-")));
        // A member that does not encode (never built by `NearProbe::new`) is left out of the window.
        let near_record = c.near.as_ref().and_then(|p| Some((p, near::record(now, &p.member)?)));
        if let Some((probe, _)) = near_record {
            keys.extend(near_keys(site, probe, now));
        }
        let stored_answer = StoredAnswer {
            verdict: c.decision.verdict,
            findings: c.decision.findings,
            spam_score: c.decision.spam_score,
            abuse: c.decision.abuse,
            redacted_body: c.decision.redacted_body,
        };
        let args = [
            c.body_sha256,
            to_json(&stored_answer)?,
            to_json(&c.comment)?,
            c.decision.verdict.as_str().to_string(),
            retention.to_string(),
            now.to_string(),
            now.saturating_add(retention).to_string(),
            now.saturating_sub(retention).to_string(),
            if c.decision.verdict == Verdict::PendingReview { "1" } else { "0" }.to_string(),
            to_json(&c.decision.reason_codes)?,
            if c.author_key.is_some() { "1" } else { "0" }.to_string(),
            c.comment.comment_id,
            c.comment.thread_id,
            stored_answer.redacted_body.clone(),
            c.author_key.unwrap_or_default(),
            c.ip_key,
            c.near
                .as_ref()
                .map_or(0, |p| near::generation_expiry(near::generation(now, p.window_ms), p.window_ms))
                .to_string(),
        ];
        let near_record = near_record.map_or(Vec::new(), |(_, record)| Vec::from(record));
        Ok(match self.committer.submit(site, batch::Entry { keys, args, near_record }).await? {
            batch::Reply::Stored { review, cursor } => {
                SubmitOutcome::Stored(stored_answer.into_answer(&review, &cursor))
            }
            batch::Reply::Replay { answer_json, review, cursor } => {
                SubmitOutcome::Replayed(answer(&answer_json, &review, &cursor).map_err(StoreError::after_write)?)
            }
            batch::Reply::Conflict => SubmitOutcome::Conflict,
        })
    }

    async fn get(&self, site: &str, comment_id: &str) -> Result<Option<CommentRecord>, StoreError> {
        let mut conn = self.conn.clone();
        let fields: Vec<Option<String>> = redis::cmd("HMGET")
            .arg(keys::comment(site, comment_id))
            .arg(&RECORD_FIELDS)
            .query_async(&mut conn)
            .await
            .map_err(read_err("get"))?;
        let fields: Vec<String> = fields.into_iter().map(Option::unwrap_or_default).collect();
        record_from_fields(&fields)
    }
}

#[async_trait]
impl DecisionLog for RedisStore {
    async fn read_decisions(&self, site: &str, after: After, limit: usize) -> Result<Vec<DecisionEvent>, ReadError> {
        let from = match after {
            After::Start => "-".to_string(),
            After::Id(id) => id.to_string(),
        };
        let mut conn = self.reads.clone();
        let reply: Vec<String> = READ_DECISIONS
            .key(keys::decisions(site))
            .arg(from)
            .arg(limit.max(1))
            .invoke_async(&mut conn)
            .await
            .map_err(read_err("read decisions"))?;
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
            .map_err(read_err("latest decision"))?;
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
                self.client.get_multiplexed_async_connection_with_config(&config).await.map_err(read_err("connect"))?
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
        woke.map_err(read_err("wait decisions"))?;
        self.blocking.lock().push(conn);
        self.read_decisions(site, after, limit).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn answers_stored_before_abuse_scores_still_load_and_clean_ones_stay_short() {
        let old = r#"{"verdict":"Approved","findings":[],"spam_score":0.1,"redacted_body":"hi"}"#;
        let a = answer(old, "", "1-0").expect("an old answer loads");
        assert_eq!(a.abuse, crate::domain::AbuseScores::default());
        let clean = StoredAnswer {
            verdict: Verdict::Approved,
            findings: Vec::new(),
            spam_score: 0.1,
            abuse: Default::default(),
            redacted_body: "hi".into(),
        };
        assert_eq!(serde_json::to_string(&clean).expect("json"), old, "no abuse field when every score is 0");
        let scored = StoredAnswer { abuse: crate::domain::AbuseScores { insult: 0.75, ..Default::default() }, ..clean };
        let json = serde_json::to_string(&scored).expect("json");
        assert!(json.contains(r#""abuse":{"threat":0.0,"identity_attack":0.0,"insult":0.75"#), "{json}");
        assert_eq!(answer(&json, "", "1-0").expect("loads").abuse.insult, 0.75);
    }

    #[test]
    fn reputations_read_in_place_and_anything_else_is_corrupt() {
        let bulk = |s: &str| redis::Value::BulkString(s.as_bytes().to_vec());
        let fields = redis::Value::Array(vec![bulk("7"), redis::Value::Nil, bulk("2"), redis::Value::Int(1)]);
        assert_eq!(
            reputation(Some(fields)),
            Some(Reputation { submitted: 7, approved: 0, rejected: 2, spam: 1 }),
            "a missing field counts 0"
        );
        assert_eq!(reputation(Some(redis::Value::Array(Vec::new()))), Some(Reputation::default()), "a new key");
        for bad in [
            redis::Value::Array(vec![bulk("seven")]),
            redis::Value::Array(vec![redis::Value::Int(-1)]),
            bulk("7"),
            redis::Value::Nil,
        ] {
            assert_eq!(reputation(Some(bad.clone())), None, "{bad:?}");
        }
        assert_eq!(reputation(None), None, "a missing reply");
    }

    /// A RedisError as the client builds it from an error reply (`-CODE text`).
    fn reply_error(reply: &str) -> redis::RedisError {
        let value = redis::parse_redis_value(format!("-{reply}\r\n").as_bytes()).expect("an error reply parses");
        value.extract_error().expect_err("an error reply is an error")
    }

    fn io(kind: std::io::ErrorKind) -> redis::RedisError {
        std::io::Error::from(kind).into()
    }

    #[test]
    fn only_failures_that_wrote_nothing_are_not_applied() {
        for refused in [
            reply_error("READONLY You can't write against a read only replica."),
            reply_error("OOM command not allowed when used memory > 'maxmemory'."),
            reply_error("MISCONF Redis is configured to save RDB snapshots"),
            reply_error("LOADING Redis is loading the dataset in memory"),
            reply_error("BUSY Redis is busy running a script."),
            reply_error("NOSCRIPT No matching script."),
            io(std::io::ErrorKind::ConnectionRefused),
        ] {
            assert_eq!(outcome_of(&refused), Outcome::NotApplied, "{refused:?}");
        }
        for unknown in [
            io(std::io::ErrorKind::TimedOut),
            io(std::io::ErrorKind::BrokenPipe),
            io(std::io::ErrorKind::ConnectionReset),
            io(std::io::ErrorKind::UnexpectedEof),
            reply_error("ERR user_script:12: Script attempted to access nonexistent global variable"),
            reply_error("NOPERM this user has no permissions to run the 'xadd' command"),
            redis::RedisError::from((redis::ErrorKind::UnexpectedReturnType, "bad reply")),
        ] {
            assert_eq!(outcome_of(&unknown), Outcome::Unknown, "{unknown:?}");
        }
    }

    #[test]
    fn logged_causes_carry_codes_and_kinds_never_reply_text() {
        let secret = reply_error("ERR unknown command 'x', with args beginning with: 'alice@example.com'");
        assert_eq!(cause_of(&secret), "ERR reply");
        assert_eq!(cause_of(&io(std::io::ErrorKind::TimedOut)), "timed out");
        assert_eq!(cause_of(&io(std::io::ErrorKind::BrokenPipe)), "connection dropped");
        let e = err("submit")(io(std::io::ErrorKind::TimedOut));
        assert_eq!(e.outcome, Outcome::Unknown);
        assert!(!e.summary().contains("timed out"), "the client's text names the outcome only");
        assert_eq!(
            read_err("get")(io(std::io::ErrorKind::TimedOut)).outcome,
            Outcome::NotApplied,
            "reads write nothing"
        );
    }
}

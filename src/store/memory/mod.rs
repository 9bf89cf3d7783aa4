//! The embedded in-memory store: the default for trying the service out and for `commentguard check`. It implements
//! the same semantics as the Redis store (atomic submit, idempotent replays, retention) with one mutex per site, so
//! every step that Redis runs as one Lua script runs here under one lock. Nothing survives a restart.
//! The review workflow lives in `review.rs`.

mod learning;
mod review;
mod webhooks;

use super::review::{AuditEntry, Feedback};
use super::{
    After, CommentStore, DecisionLog, Lookup, NearProbe, NewComment, Probe, ReadError, StoreError, StreamId,
    SubmitOutcome, near,
};
use crate::clock::{Clock, SystemClock};
use crate::domain::{Answer, CommentRecord, Context, DecisionEvent, DecisionSource, Duplicates, Reputation, Verdict};
use async_trait::async_trait;
use parking_lot::Mutex;
use std::collections::{BTreeMap, BTreeSet, HashMap, VecDeque};
use std::sync::Arc;

/// A comment waiting in a review queue.
#[derive(Debug, Clone, PartialEq)]
pub struct QueueEntry {
    pub review_id: String,
    pub comment_id: String,
    pub thread_id: String,
    pub expires_at_ms: u64,
}

#[derive(Debug, Default)]
struct SiteData {
    comments: HashMap<String, CommentRecord>,
    /// (expiry, comment id), so expiry costs O(log n) per expired record rather than a scan.
    comment_expiry: BTreeSet<(u64, String)>,
    /// Decision stream, oldest first; each event with its expiry.
    decisions: VecDeque<(StreamId, u64, DecisionEvent)>,
    /// Highest id ever trimmed from `decisions`: a cursor below it is `OUT_OF_RANGE`.
    trimmed_through: Option<StreamId>,
    pending: BTreeMap<StreamId, QueueEntry>,
    reported: BTreeMap<StreamId, QueueEntry>,
    /// Review state per review id: claims, delivery counts, reports, and the remembered decision.
    items: HashMap<String, review::Item>,
    /// (expiry, review id) of `items`, so expiry costs O(log n) per expired item rather than a scan.
    item_expiry: BTreeSet<(u64, String)>,
    /// Open reported item of each comment, so repeated reports raise one item's count.
    open_reports: HashMap<String, String>,
    audit: VecDeque<(u64, AuditEntry)>,
    feedback: VecDeque<(StreamId, u64, Feedback)>,
    reputation: HashMap<String, Reputation>,
    /// Near-copy window: per (band, value), its members, oldest first, at most `near::PER_BAND` long.
    near: HashMap<(usize, u64), VecDeque<NearMember>>,
    /// The learned spam model and the learner group's state.
    learned: learning::Learned,
    /// When `expire` next drops band values nobody revisited.
    near_sweep_at: u64,
    last_id: StreamId,
}

impl SiteData {
    fn next_id(&mut self, now_ms: u64) -> StreamId {
        self.last_id = self.last_id.next(now_ms);
        self.last_id
    }

    /// Drops everything past its retention. Called under the site's lock before each read or write, so an expired
    /// record is never served; the cost is proportional to what expires.
    fn expire(&mut self, now_ms: u64) {
        while let Some((id, expires, _)) = self.decisions.front() {
            if *expires > now_ms {
                break;
            }
            self.trimmed_through = Some(*id);
            self.decisions.pop_front();
        }
        // Queue entries are ordered by id, i.e. by time: the expired ones are at the front.
        for queue in [&mut self.pending, &mut self.reported] {
            while queue.first_key_value().is_some_and(|(_, e)| e.expires_at_ms <= now_ms) {
                queue.pop_first();
            }
        }
        while self.audit.front().is_some_and(|(expires, _)| *expires <= now_ms) {
            self.audit.pop_front();
        }
        while self.feedback.front().is_some_and(|(_, expires, _)| *expires <= now_ms) {
            self.feedback.pop_front();
        }
        while let Some((expires, _)) = self.item_expiry.first() {
            if *expires > now_ms {
                break;
            }
            if let Some((_, id)) = self.item_expiry.pop_first() {
                self.items.remove(&id);
            }
        }
        if now_ms >= self.near_sweep_at {
            self.near.retain(|_, list| list.back().is_some_and(|(_, expires, _)| *expires > now_ms));
            self.near_sweep_at = now_ms.saturating_add(NEAR_SWEEP_MS);
        }
        while let Some((expires, _)) = self.comment_expiry.first() {
            if *expires > now_ms {
                break;
            }
            if let Some((_, id)) = self.comment_expiry.pop_first() {
                self.comments.remove(&id);
            }
        }
    }

    /// A new review item, expiring at `expires_at_ms`.
    fn add_item(&mut self, review_id: &str, expires_at_ms: u64) {
        self.items.insert(review_id.to_string(), review::Item::default());
        self.item_expiry.insert((expires_at_ms, review_id.to_string()));
    }

    /// The near-copy summary of a probe: members inserted within its window.
    fn near_copies(&self, probe: &NearProbe, now_ms: u64) -> Duplicates {
        let since = now_ms.saturating_sub(probe.window_ms);
        let bands = probe.sketch.0.iter().enumerate().map(|(b, &value)| {
            let list = self.near.get(&(b, value));
            list.into_iter().flatten().filter(move |(at, _, _)| *at > since).map(|&(_, _, key)| key)
        });
        near::summarize(probe, bands)
    }

    /// Enters a stored comment into the near-copy window.
    fn remember_near(&mut self, probe: &NearProbe, now_ms: u64) {
        let expires = now_ms.saturating_add(probe.window_ms);
        // Kept as keys, parsed once here rather than on every later read (as the Redis layout's binary records).
        let Some(key) = near::member_key(&probe.member) else { return };
        for (b, &value) in probe.sketch.0.iter().enumerate() {
            let list = self.near.entry((b, value)).or_default();
            while list.front().is_some_and(|(_, e, _)| *e <= now_ms) || list.len() >= near::PER_BAND {
                list.pop_front();
            }
            list.push_back((now_ms, expires, key));
        }
    }

    fn live_comment(&self, comment_id: &str, now_ms: u64) -> Option<&CommentRecord> {
        self.comments.get(comment_id).filter(|c| c.expires_at_ms > now_ms)
    }
}

/// One comment under one band value: `(inserted at, expires at, member)`.
type NearMember = (u64, u64, near::MemberKey);

/// How often band values nobody revisited are dropped from the near-copy window.
const NEAR_SWEEP_MS: u64 = 60_000;

/// See the module docs.
#[derive(Debug)]
pub struct MemoryStore {
    clock: Arc<dyn Clock>,
    sites: Mutex<HashMap<String, Arc<Mutex<SiteData>>>>,
    /// Wakes blocked decision readers of a site when an event is appended.
    appended: Mutex<HashMap<String, Arc<tokio::sync::Notify>>>,
    /// Webhook cursors and leases per site (`webhooks.rs`).
    webhooks: Mutex<HashMap<String, webhooks::Delivery>>,
}

impl Default for MemoryStore {
    fn default() -> Self {
        MemoryStore::new(Arc::new(SystemClock))
    }
}

impl MemoryStore {
    pub fn new(clock: Arc<dyn Clock>) -> MemoryStore {
        MemoryStore {
            clock,
            sites: Mutex::new(HashMap::new()),
            appended: Mutex::new(HashMap::new()),
            webhooks: Mutex::new(HashMap::new()),
        }
    }

    fn site(&self, site: &str) -> Arc<Mutex<SiteData>> {
        self.sites.lock().entry(site.to_string()).or_default().clone()
    }

    fn appended(&self, site: &str) -> Arc<tokio::sync::Notify> {
        self.appended.lock().entry(site.to_string()).or_default().clone()
    }

    /// The site's data, locked, with everything past retention already dropped.
    fn locked(&self, site: &str, now_ms: u64) -> parking_lot::ArcMutexGuard<parking_lot::RawMutex, SiteData> {
        let mut data = self.site(site).lock_arc();
        data.expire(now_ms);
        data
    }

    /// Undecided items in the site's pending queue, oldest first (the review issue builds on this).
    pub fn pending(&self, site: &str) -> Vec<QueueEntry> {
        let now = self.clock.now_ms();
        let site = self.site(site);
        let mut data = site.lock();
        data.expire(now);
        data.pending.values().cloned().collect()
    }
}

fn answer_for(record: &CommentRecord, body_sha256: &str) -> Lookup {
    if record.body_sha256 == body_sha256 { Lookup::Replay(record.answer.clone()) } else { Lookup::Conflict }
}

#[async_trait]
impl CommentStore for MemoryStore {
    fn name(&self) -> &'static str {
        "memory"
    }

    async fn ping(&self) -> Result<(), StoreError> {
        Ok(())
    }

    async fn prepare(&self, site: &str, probe: Probe<'_>) -> Result<(Lookup, Context), StoreError> {
        let now = self.clock.now_ms();
        let site = self.site(site);
        let data = site.lock();
        let lookup =
            data.live_comment(probe.comment_id, now).map_or(Lookup::Missing, |r| answer_for(r, probe.body_sha256));
        let rep = |k: &str| data.reputation.get(k).copied().unwrap_or_default();
        let duplicates = probe.near.map(|p| data.near_copies(p, now)).unwrap_or_default();
        Ok((lookup, Context { author: probe.author_key.map(rep), ip: rep(probe.ip_key), duplicates }))
    }

    async fn submit(&self, site_id: &str, c: NewComment) -> Result<SubmitOutcome, StoreError> {
        let now = self.clock.now_ms();
        let site = self.site(site_id);
        let mut data = site.lock();
        data.expire(now);
        // The replay check is repeated inside the atomic step: a concurrent duplicate that passed the earlier
        // lookup resolves here to the winner's answer.
        match data.live_comment(&c.comment.comment_id, now).map(|r| answer_for(r, &c.body_sha256)) {
            Some(Lookup::Replay(answer)) => return Ok(SubmitOutcome::Replayed(answer)),
            Some(_) => return Ok(SubmitOutcome::Conflict),
            None => {}
        }
        let expires_at_ms = now.saturating_add(c.retention_ms);
        let review_id = (c.decision.verdict == Verdict::PendingReview).then(|| {
            let id = data.next_id(now);
            let review_id = format!("p-{id}");
            let entry = QueueEntry {
                review_id: review_id.clone(),
                comment_id: c.comment.comment_id.clone(),
                thread_id: c.comment.thread_id.clone(),
                expires_at_ms,
            };
            data.pending.insert(id, entry);
            data.add_item(&review_id, expires_at_ms);
            review_id
        });
        let cursor = data.next_id(now);
        let answer = Answer {
            verdict: c.decision.verdict,
            findings: c.decision.findings,
            spam_score: c.decision.spam_score,
            abuse: c.decision.abuse,
            redacted_body: c.decision.redacted_body,
            review_id,
            decision_cursor: cursor.to_string(),
        };
        let event = DecisionEvent {
            cursor: cursor.to_string(),
            comment_id: c.comment.comment_id.clone(),
            verdict: c.decision.verdict,
            source: DecisionSource::Automatic,
            moderator_id: String::new(),
            reason_codes: c.decision.reason_codes,
            decided_at_ms: now,
            redacted_body: answer.redacted_body.clone(),
            publish_original: false,
            thread_id: c.comment.thread_id.clone(),
        };
        data.decisions.push_back((cursor, expires_at_ms, event));
        for key in c.author_key.iter().chain(std::iter::once(&c.ip_key)) {
            let rep = data.reputation.entry(key.clone()).or_default();
            rep.submitted += 1;
            review::count_verdict(rep, c.decision.verdict, false);
        }
        let comment_id = c.comment.comment_id.clone();
        let record = CommentRecord {
            comment: c.comment,
            author_key: c.author_key,
            ip_key: c.ip_key,
            body_sha256: c.body_sha256,
            verdict: answer.verdict,
            answer: answer.clone(),
            source: DecisionSource::Automatic,
            moderator_id: String::new(),
            decided_at_ms: now,
            publish_original: false,
            expires_at_ms,
        };
        if let Some(probe) = &c.near {
            data.remember_near(probe, now);
        }
        data.comment_expiry.insert((expires_at_ms, comment_id.clone()));
        data.comments.insert(comment_id, record);
        drop(data);
        self.appended(site_id).notify_waiters();
        Ok(SubmitOutcome::Stored(answer))
    }

    async fn get(&self, site: &str, comment_id: &str) -> Result<Option<CommentRecord>, StoreError> {
        let now = self.clock.now_ms();
        let site = self.site(site);
        let data = site.lock();
        Ok(data.live_comment(comment_id, now).cloned())
    }
}

#[async_trait]
impl DecisionLog for MemoryStore {
    async fn read_decisions(&self, site: &str, after: After, limit: usize) -> Result<Vec<DecisionEvent>, ReadError> {
        let now = self.clock.now_ms();
        let site = self.site(site);
        let mut data = site.lock();
        data.expire(now);
        let from = match after {
            After::Start => None,
            After::Id(id) => {
                if data.trimmed_through.is_some_and(|t| id < t) {
                    return Err(ReadError::Expired);
                }
                Some(id)
            }
        };
        // Ids ascend: find the first one after `from` by bisection, so a read costs its page, not the stream.
        let first = from.map_or(0, |f| data.decisions.partition_point(|(id, _, _)| *id <= f));
        Ok(data.decisions.range(first..).take(limit).map(|(_, _, e)| e.clone()).collect())
    }

    async fn latest_decision(&self, site: &str) -> Result<Option<StreamId>, StoreError> {
        let now = self.clock.now_ms();
        Ok(self.locked(site, now).decisions.back().map(|(id, _, _)| *id))
    }

    async fn wait_decisions(
        &self,
        site: &str,
        after: After,
        limit: usize,
        block: std::time::Duration,
    ) -> Result<Vec<DecisionEvent>, ReadError> {
        let appended = self.appended(site);
        // Registered before the read, so an event appended in between still wakes us.
        let notified = appended.notified();
        tokio::pin!(notified);
        notified.as_mut().enable();
        let events = self.read_decisions(site, after, limit).await?;
        if !events.is_empty() {
            return Ok(events);
        }
        let _ = tokio::time::timeout(block, notified).await;
        self.read_decisions(site, after, limit).await
    }
}

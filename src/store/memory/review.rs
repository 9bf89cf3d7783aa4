//! The review workflow on the memory store: the same semantics as the Redis scripts, each operation under the site's
//! one lock (see `store::review` for the lease model).

use super::{MemoryStore, QueueEntry, SiteData};
use crate::domain::DecisionEvent;
use crate::domain::{DecisionSource, Reputation, Verdict};
use crate::store::review::{
    AuditEntry, Claim, ClaimRequest, DecideOutcome, DecideRequest, Decided, Feedback, QueueKind, QueuePage, QueueStats,
    Refusal, ReleaseOutcome, ReportOutcome, ReportRequest, ReviewAction, ReviewEntry, ReviewQueue,
};
use crate::store::{StoreError, StreamId};
use async_trait::async_trait;
use std::collections::{BTreeMap, HashSet};

/// Most report reasons kept per item; later ones only raise the count.
const MAX_REASONS: usize = 20;

/// Review state of one queue item (its expiry is kept by `SiteData::item_expiry`).
#[derive(Debug, Clone, Default)]
pub(super) struct Item {
    claim: Option<Claim>,
    delivery_count: u32,
    decided: Option<DecidedBy>,
    report_reasons: Vec<String>,
    reporters: HashSet<String>,
}

/// What a decide left on its item: who decided, with which token and action (a replay must match all three).
#[derive(Debug, Clone)]
struct DecidedBy {
    token: String,
    moderator: String,
    action: ReviewAction,
    decided: Decided,
}

impl Item {
    fn active_claim(&self, now_ms: u64) -> Option<&Claim> {
        self.claim.as_ref().filter(|c| c.lease_expires_at_ms > now_ms)
    }
}

/// Adds a verdict to a reputation; `spam` also counts a moderator's REJECT_SPAM.
pub(super) fn count_verdict(rep: &mut Reputation, verdict: Verdict, spam: bool) {
    match verdict {
        Verdict::Approved => rep.approved += 1,
        Verdict::Rejected => rep.rejected += 1,
        Verdict::PendingReview => {}
    }
    if spam {
        rep.spam += 1;
    }
}

fn queue_id(review_id: &str) -> Option<(QueueKind, StreamId)> {
    let queue = QueueKind::of_review_id(review_id)?;
    Some((queue, StreamId::parse(review_id.split_once('-')?.1)?))
}

impl SiteData {
    fn queue(&self, kind: QueueKind) -> &BTreeMap<StreamId, QueueEntry> {
        match kind {
            QueueKind::Pending => &self.pending,
            QueueKind::Reported => &self.reported,
        }
    }

    fn queue_mut(&mut self, kind: QueueKind) -> &mut BTreeMap<StreamId, QueueEntry> {
        match kind {
            QueueKind::Pending => &mut self.pending,
            QueueKind::Reported => &mut self.reported,
        }
    }

    fn entry(&self, kind: QueueKind, e: &QueueEntry, now_ms: u64, with_token: bool) -> Option<ReviewEntry> {
        let item = self.items.get(&e.review_id)?;
        let comment = self.live_comment(&e.comment_id, now_ms)?.clone();
        let author_reputation =
            comment.author_key.as_ref().and_then(|k| self.reputation.get(k)).copied().unwrap_or_default();
        let claim = item.active_claim(now_ms).cloned().map(|mut c| {
            if !with_token {
                c.token.clear();
            }
            c
        });
        Some(ReviewEntry {
            review_id: e.review_id.clone(),
            queue: kind,
            comment,
            claim,
            delivery_count: item.delivery_count,
            report_reasons: item.report_reasons.clone(),
            report_count: item.reporters.len() as u32,
            author_reputation,
        })
    }

    pub(super) fn claim(&mut self, req: ClaimRequest, now_ms: u64) -> Vec<ReviewEntry> {
        let lease_expires_at_ms = now_ms.saturating_add(req.lease_ms);
        let available: Vec<String> = self
            .queue(req.queue)
            .values()
            .filter(|e| req.thread_id.as_deref().is_none_or(|t| t == e.thread_id))
            .filter(|e| self.items.get(&e.review_id).is_some_and(|i| i.active_claim(now_ms).is_none()))
            .filter(|e| self.live_comment(&e.comment_id, now_ms).is_some())
            .take(req.tokens.len())
            .map(|e| e.review_id.clone())
            .collect();
        let mut out = Vec::with_capacity(available.len());
        for (review_id, token) in available.into_iter().zip(req.tokens) {
            if let Some(item) = self.items.get_mut(&review_id) {
                item.claim = Some(Claim { token, moderator: req.moderator.clone(), lease_expires_at_ms });
                item.delivery_count += 1;
            }
            let entry = queue_id(&review_id)
                .and_then(|(kind, id)| self.queue(kind).get(&id).cloned().map(|e| (kind, e)))
                .and_then(|(kind, e)| self.entry(kind, &e, now_ms, true));
            out.extend(entry);
        }
        out
    }

    pub(super) fn decide(&mut self, req: DecideRequest, now_ms: u64) -> DecideOutcome {
        let Some((kind, qid)) = queue_id(&req.review_id) else { return DecideOutcome::NotFound };
        let Some(item) = self.items.get(&req.review_id) else { return DecideOutcome::NotFound };
        if let Some(d) = &item.decided {
            return if d.token == req.claim_token && d.moderator == req.moderator && d.action == req.action {
                DecideOutcome::Decided(d.decided.clone())
            } else {
                DecideOutcome::Refused(Refusal::AlreadyDecided)
            };
        }
        match &item.claim {
            Some(c) if c.token != req.claim_token => return DecideOutcome::Refused(Refusal::StaleToken),
            Some(c) if c.moderator != req.moderator => return DecideOutcome::Refused(Refusal::NotYours),
            Some(c) if c.lease_expires_at_ms <= now_ms => return DecideOutcome::Refused(Refusal::LeaseExpired),
            None => return DecideOutcome::Refused(Refusal::NotClaimed),
            Some(_) => {}
        }
        let Some(entry) = self.queue_mut(kind).remove(&qid) else { return DecideOutcome::NotFound };
        let Some(record) = self.comments.get(&entry.comment_id).cloned() else { return DecideOutcome::NotFound };

        let verdict = req.action.verdict();
        let publish_original = req.publish_original && verdict == Verdict::Approved;
        let cursor = self.next_id(now_ms);
        let event = DecisionEvent {
            cursor: cursor.to_string(),
            comment_id: record.comment.comment_id.clone(),
            verdict,
            source: DecisionSource::Moderator,
            moderator_id: req.moderator.clone(),
            reason_codes: req.reason_codes.clone(),
            decided_at_ms: now_ms,
            redacted_body: record.answer.redacted_body.clone(),
            publish_original,
            thread_id: record.comment.thread_id.clone(),
        };
        self.decisions.push_back((cursor, record.expires_at_ms, event));
        if let Some(c) = self.comments.get_mut(&record.comment.comment_id) {
            c.verdict = verdict;
            c.source = DecisionSource::Moderator;
            c.moderator_id = req.moderator.clone();
            c.decided_at_ms = now_ms;
            c.publish_original = publish_original;
        }
        // A reported comment had already been counted as approved when it was published; approving it again
        // adds nothing.
        let counts = !(kind == QueueKind::Reported && verdict == Verdict::Approved);
        if counts {
            let spam = req.action == ReviewAction::RejectSpam;
            for key in record.author_key.iter().chain(std::iter::once(&record.ip_key)) {
                count_verdict(self.reputation.entry(key.clone()).or_default(), verdict, spam);
            }
        }
        let audit = AuditEntry {
            at_ms: now_ms,
            moderator: req.moderator.clone(),
            review_id: req.review_id.clone(),
            comment_id: record.comment.comment_id.clone(),
            action: req.action.as_str().into(),
            note: req.note,
            reason_codes: req.reason_codes.clone(),
        };
        self.audit.push_back((record.expires_at_ms, audit));
        let feedback_id = self.next_id(now_ms);
        let feedback = Feedback {
            comment_id: record.comment.comment_id.clone(),
            label: match req.action.feedback_label() {
                crate::store::review::ABUSE_UNRESOLVED => crate::store::review::abuse_label(&record.answer.abuse),
                label => label,
            }
            .into(),
            text: record.answer.redacted_body.clone(),
        };
        self.feedback.push_back((feedback_id, record.expires_at_ms, feedback));
        if kind == QueueKind::Reported {
            self.open_reports.remove(&record.comment.comment_id);
        }
        let decided = Decided { comment_id: record.comment.comment_id, verdict, cursor: cursor.to_string() };
        if let Some(item) = self.items.get_mut(&req.review_id) {
            item.claim = None;
            item.decided = Some(DecidedBy {
                token: req.claim_token,
                moderator: req.moderator,
                action: req.action,
                decided: decided.clone(),
            });
        }
        DecideOutcome::Decided(decided)
    }

    pub(super) fn release(&mut self, review_id: &str, token: &str, now_ms: u64) -> ReleaseOutcome {
        let Some(item) = self.items.get_mut(review_id) else { return ReleaseOutcome::NotFound };
        if item.decided.is_some() {
            return ReleaseOutcome::Refused(Refusal::AlreadyDecided);
        }
        match item.active_claim(now_ms) {
            Some(c) if c.token == token => {
                item.claim = None;
                ReleaseOutcome::Released
            }
            _ => ReleaseOutcome::Refused(Refusal::StaleOrExpired),
        }
    }

    pub(super) fn list_queue(
        &self,
        kind: QueueKind,
        page_token: Option<&str>,
        page_size: usize,
        thread_id: Option<&str>,
        now_ms: u64,
    ) -> QueuePage {
        let after = page_token.and_then(StreamId::parse);
        let mut items = Vec::new();
        let mut last = None;
        let mut more = false;
        let start = after.map_or(std::ops::Bound::Unbounded, std::ops::Bound::Excluded);
        for (id, e) in self.queue(kind).range((start, std::ops::Bound::Unbounded)) {
            if thread_id.is_some_and(|t| t != e.thread_id) {
                continue;
            }
            if items.len() == page_size {
                more = true;
                break;
            }
            if let Some(entry) = self.entry(kind, e, now_ms, false) {
                items.push(entry);
                last = Some(*id);
            }
        }
        QueuePage { items, next_page_token: if more { last.map(|l| l.to_string()) } else { None } }
    }

    pub(super) fn queue_stats(&self, now_ms: u64) -> QueueStats {
        let pending = self.unclaimed(&self.pending, now_ms).count() as u64;
        let reported = self.unclaimed(&self.reported, now_ms).count() as u64;
        let claimed = (self.pending.len() + self.reported.len()) as u64 - pending - reported;
        let oldest_pending_age_ms = self.unclaimed(&self.pending, now_ms).next().map(|id| now_ms.saturating_sub(id.ms));
        let hour_ago = now_ms.saturating_sub(3_600_000);
        let decided_last_hour = self.audit.iter().filter(|(_, a)| a.at_ms > hour_ago).count() as u64;
        QueueStats { pending, reported, claimed, oldest_pending_age_ms, decided_last_hour }
    }

    fn unclaimed<'a>(
        &'a self,
        queue: &'a BTreeMap<StreamId, QueueEntry>,
        now_ms: u64,
    ) -> impl Iterator<Item = StreamId> + 'a {
        queue
            .iter()
            .filter(move |(_, e)| self.items.get(&e.review_id).is_some_and(|i| i.active_claim(now_ms).is_none()))
            .map(|(id, _)| *id)
    }

    pub(super) fn report(&mut self, req: ReportRequest, now_ms: u64) -> ReportOutcome {
        let Some(record) = self.live_comment(&req.comment_id, now_ms).cloned() else { return ReportOutcome::NotFound };
        let review_id = match self.open_reports.get(&req.comment_id) {
            Some(id) if self.items.contains_key(id) => id.clone(),
            _ => {
                let id = self.next_id(now_ms);
                let review_id = format!("r-{id}");
                let entry = QueueEntry {
                    review_id: review_id.clone(),
                    comment_id: record.comment.comment_id.clone(),
                    thread_id: record.comment.thread_id.clone(),
                    expires_at_ms: record.expires_at_ms,
                };
                self.reported.insert(id, entry);
                self.add_item(&review_id, record.expires_at_ms);
                self.open_reports.insert(record.comment.comment_id.clone(), review_id.clone());
                review_id
            }
        };
        let Some(item) = self.items.get_mut(&review_id) else { return ReportOutcome::NotFound };
        if item.reporters.insert(req.reporter_key) && item.report_reasons.len() < MAX_REASONS && !req.reason.is_empty()
        {
            item.report_reasons.push(req.reason);
        }
        let report_count = item.reporters.len() as u32;
        let hidden = report_count >= req.hide_threshold && record.verdict == Verdict::Approved;
        if hidden {
            let cursor = self.next_id(now_ms);
            let event = DecisionEvent {
                cursor: cursor.to_string(),
                comment_id: record.comment.comment_id.clone(),
                verdict: Verdict::PendingReview,
                source: DecisionSource::Automatic,
                moderator_id: String::new(),
                reason_codes: vec![crate::findings::POLICY_REPORTED.code.to_string()],
                decided_at_ms: now_ms,
                redacted_body: record.answer.redacted_body.clone(),
                publish_original: false,
                thread_id: record.comment.thread_id.clone(),
            };
            self.decisions.push_back((cursor, record.expires_at_ms, event));
            if let Some(c) = self.comments.get_mut(&record.comment.comment_id) {
                c.verdict = Verdict::PendingReview;
                c.source = DecisionSource::Automatic;
                c.decided_at_ms = now_ms;
            }
        }
        ReportOutcome::Reported { review_id, report_count, hidden }
    }
}

#[async_trait]
impl ReviewQueue for MemoryStore {
    async fn claim(&self, site: &str, req: ClaimRequest) -> Result<Vec<ReviewEntry>, StoreError> {
        let now = self.clock.now_ms();
        Ok(self.locked(site, now).claim(req, now))
    }

    async fn decide(&self, site: &str, req: DecideRequest) -> Result<DecideOutcome, StoreError> {
        let now = self.clock.now_ms();
        let outcome = self.locked(site, now).decide(req, now);
        self.appended(site).notify_waiters();
        Ok(outcome)
    }

    async fn release(&self, site: &str, review_id: &str, claim_token: &str) -> Result<ReleaseOutcome, StoreError> {
        let now = self.clock.now_ms();
        Ok(self.locked(site, now).release(review_id, claim_token, now))
    }

    async fn list_queue(
        &self,
        site: &str,
        queue: QueueKind,
        page_token: Option<&str>,
        page_size: usize,
        thread_id: Option<&str>,
    ) -> Result<QueuePage, StoreError> {
        let now = self.clock.now_ms();
        Ok(self.locked(site, now).list_queue(queue, page_token, page_size, thread_id, now))
    }

    async fn queue_stats(&self, site: &str) -> Result<QueueStats, StoreError> {
        let now = self.clock.now_ms();
        Ok(self.locked(site, now).queue_stats(now))
    }

    async fn report(&self, site: &str, req: ReportRequest) -> Result<ReportOutcome, StoreError> {
        let now = self.clock.now_ms();
        let outcome = self.locked(site, now).report(req, now);
        self.appended(site).notify_waiters();
        Ok(outcome)
    }

    async fn audit_log(&self, site: &str, limit: usize) -> Result<Vec<AuditEntry>, StoreError> {
        let now = self.clock.now_ms();
        let data = self.locked(site, now);
        let skip = data.audit.len().saturating_sub(limit);
        Ok(data.audit.iter().skip(skip).map(|(_, e)| e.clone()).collect())
    }
}

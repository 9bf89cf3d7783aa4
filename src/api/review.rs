//! `commentguard.v1.ReviewService`: called by moderators with their token. Every RPC names a site; a moderator may
//! act only on the sites their token lists (PERMISSION_DENIED otherwise, also for sites that do not exist).
//!
//! Limits: `ClaimNext` hands out at most [`MAX_CLAIM`] items per call; a lease defaults to 5 minutes and is capped
//! by the site's `max_lease_secs`; `ListQueue` and `ListAuditLog` pages hold at most [`MAX_PAGE`] items.

use super::convert;
use super::masking::{MaskedBody, body_for_moderator, email_for_moderator, ip_for_moderator};
use super::validate::Violations;
use crate::app::App;
use crate::auth;
use crate::config::Role;
use crate::error::Error;
use crate::offsets::OffsetUnit;
use crate::pb::{self, review_service_server::ReviewService};
use crate::store::review::{
    ClaimRequest, DecideOutcome, DecideRequest, QueueKind, ReleaseOutcome, ReviewAction, ReviewEntry,
};
use crate::telemetry::observe;
use crate::tenants::{Moderator, Site};
use rand::Rng;
use std::sync::Arc;
use std::time::Duration;
use tonic::{Request, Response, Status};

/// Most items one `ClaimNext` hands out.
pub const MAX_CLAIM: usize = 50;
/// Most items in one `ListQueue` page (and the default).
pub const MAX_PAGE: usize = 200;
const DEFAULT_PAGE: usize = 50;
const DEFAULT_LEASE: Duration = Duration::from_secs(300);
const MIN_LEASE: Duration = Duration::from_secs(10);

#[derive(Debug, Clone)]
pub struct Review {
    app: Arc<App>,
}

impl Review {
    pub fn new(app: Arc<App>) -> Review {
        Review { app }
    }

    /// The calling moderator (authenticated by `api::authn` before decoding) and the site they name, after checking
    /// they may review it.
    fn authorize(&self, extensions: &tonic::Extensions, site_id: &str) -> Result<(Arc<Moderator>, Arc<Site>), Error> {
        let tenants = self.app.tenants.load();
        let moderator = auth::moderator_of(extensions)?;
        auth::require_site(&moderator, site_id)?;
        let site = tenants
            .site(site_id)
            .cloned()
            .ok_or_else(|| Error::PermissionDenied(format!("moderator may not review site {site_id:?}")))?;
        Ok((moderator, site))
    }

    async fn claim(&self, req: Request<pb::ClaimNextRequest>) -> Result<pb::ClaimNextResponse, Error> {
        let (_, extensions, req) = req.into_parts();
        let mut v = Violations::default();
        v.id("site_id", &req.site_id, true, 64);
        v.id("thread_id", &req.thread_id, false, 256);
        let queue = queue_of(&mut v, req.queue);
        let unit = v.offset_unit("offset_encoding", req.offset_encoding);
        if req.max_items < 0 {
            v.add("max_items", "must not be negative");
        }
        let lease = match &req.lease {
            None => Some(DEFAULT_LEASE),
            Some(d) => Duration::try_from(*d).ok().filter(|d| *d >= MIN_LEASE),
        };
        if lease.is_none() {
            v.add("lease", format!("must be at least {} seconds", MIN_LEASE.as_secs()));
        }
        v.finish()?;
        let (moderator, site) = self.authorize(&extensions, &req.site_id)?;
        let lease_ms = (lease.unwrap_or(DEFAULT_LEASE).as_millis() as u64).min(site.max_lease_ms);
        let n = (req.max_items.max(1) as usize).min(MAX_CLAIM);
        let tokens = (0..n).map(|_| hex::encode(rand::rng().random::<[u8; 16]>())).collect();
        let claim = ClaimRequest {
            queue,
            moderator: moderator.id.clone(),
            tokens,
            lease_ms,
            thread_id: (!req.thread_id.is_empty()).then_some(req.thread_id),
        };
        let items = self.app.store.review.claim(&site.id, claim).await?;
        tracing::info!(site = %site.id, moderator = %moderator.id, items = items.len(), "claimed review items");
        Ok(pb::ClaimNextResponse {
            items: items.into_iter().map(|e| review_item(&site.id, e, moderator.role, unit, true)).collect(),
        })
    }

    async fn decide(&self, req: Request<pb::DecideRequest>) -> Result<pb::DecideResponse, Error> {
        let (_, extensions, req) = req.into_parts();
        let mut v = Violations::default();
        v.id("site_id", &req.site_id, true, 64);
        v.id("review_id", &req.review_id, true, 64);
        v.id("claim_token", &req.claim_token, true, 64);
        v.text("note", &req.note, 2000);
        let action = match pb::ReviewAction::try_from(req.action) {
            Ok(pb::ReviewAction::Approve) => Some(ReviewAction::Approve),
            Ok(pb::ReviewAction::Reject) => Some(ReviewAction::Reject),
            Ok(pb::ReviewAction::RejectSpam) => Some(ReviewAction::RejectSpam),
            Ok(pb::ReviewAction::RejectAbuse) => Some(ReviewAction::RejectAbuse(abuse_category(&req.reason_codes))),
            _ => {
                v.add("action", "must be APPROVE, REJECT, REJECT_SPAM or REJECT_ABUSE");
                None
            }
        };
        if req.reason_codes.len() > 32 {
            v.add("reason_codes", "at most 32 codes");
        }
        for (i, code) in req.reason_codes.iter().enumerate() {
            v.id(&format!("reason_codes[{i}]"), code, true, 64);
        }
        v.finish()?;
        let (moderator, site) = self.authorize(&extensions, &req.site_id)?;
        let decide = DecideRequest {
            review_id: req.review_id,
            claim_token: req.claim_token,
            moderator: moderator.id.clone(),
            action: action.unwrap_or(ReviewAction::Reject),
            note: req.note,
            reason_codes: req.reason_codes,
            publish_original: req.publish_original,
        };
        match self.app.store.review.decide(&site.id, decide).await? {
            DecideOutcome::Decided(d) => {
                tracing::info!(site = %site.id, moderator = %moderator.id, comment_id = %d.comment_id, verdict = d.verdict.as_str(), "decided");
                Ok(pb::DecideResponse {
                    comment_id: d.comment_id,
                    verdict: convert::verdict(d.verdict) as i32,
                    cursor: d.cursor,
                })
            }
            DecideOutcome::Refused(why) => Err(Error::FailedPrecondition(why.message().into())),
            DecideOutcome::NotFound => Err(Error::NotFound("no such review item".into())),
        }
    }

    async fn release(&self, req: Request<pb::ReleaseClaimRequest>) -> Result<pb::ReleaseClaimResponse, Error> {
        let (_, extensions, req) = req.into_parts();
        let mut v = Violations::default();
        v.id("site_id", &req.site_id, true, 64);
        v.id("review_id", &req.review_id, true, 64);
        v.id("claim_token", &req.claim_token, true, 64);
        v.finish()?;
        let (_, site) = self.authorize(&extensions, &req.site_id)?;
        match self.app.store.review.release(&site.id, &req.review_id, &req.claim_token).await? {
            ReleaseOutcome::Released => Ok(pb::ReleaseClaimResponse {}),
            ReleaseOutcome::Refused(why) => Err(Error::FailedPrecondition(why.message().into())),
            ReleaseOutcome::NotFound => Err(Error::NotFound("no such review item".into())),
        }
    }

    async fn list(&self, req: Request<pb::ListQueueRequest>) -> Result<pb::ListQueueResponse, Error> {
        let (_, extensions, req) = req.into_parts();
        let mut v = Violations::default();
        v.id("site_id", &req.site_id, true, 64);
        v.id("thread_id", &req.thread_id, false, 256);
        v.id("page_token", &req.page_token, false, 64);
        if !req.page_token.is_empty() && crate::store::StreamId::parse(&req.page_token).is_none() {
            v.add("page_token", "is not a token returned by ListQueue");
        }
        if req.page_size < 0 {
            v.add("page_size", "must not be negative");
        }
        let queue = queue_of(&mut v, req.queue);
        let unit = v.offset_unit("offset_encoding", req.offset_encoding);
        v.finish()?;
        let (moderator, site) = self.authorize(&extensions, &req.site_id)?;
        let size = if req.page_size == 0 { DEFAULT_PAGE } else { (req.page_size as usize).min(MAX_PAGE) };
        let page_token = (!req.page_token.is_empty()).then_some(req.page_token.as_str());
        let thread = (!req.thread_id.is_empty()).then_some(req.thread_id.as_str());
        let page = self.app.store.review.list_queue(&site.id, queue, page_token, size, thread).await?;
        Ok(pb::ListQueueResponse {
            items: page.items.into_iter().map(|e| review_item(&site.id, e, moderator.role, unit, false)).collect(),
            next_page_token: page.next_page_token.unwrap_or_default(),
        })
    }

    async fn stats(&self, req: Request<pb::GetQueueStatsRequest>) -> Result<pb::GetQueueStatsResponse, Error> {
        let (_, extensions, req) = req.into_parts();
        let mut v = Violations::default();
        v.id("site_id", &req.site_id, true, 64);
        v.finish()?;
        let (_, site) = self.authorize(&extensions, &req.site_id)?;
        let s = self.app.store.review.queue_stats(&site.id).await?;
        Ok(pb::GetQueueStatsResponse {
            stats: Some(pb::QueueStats {
                pending: s.pending as i64,
                reported: s.reported as i64,
                claimed: s.claimed as i64,
                oldest_pending_age: s.oldest_pending_age_ms.map(|ms| prost_types::Duration {
                    seconds: (ms / 1000) as i64,
                    nanos: ((ms % 1000) * 1_000_000) as i32,
                }),
                decided_last_hour: s.decided_last_hour as i64,
            }),
        })
    }
}

impl Review {
    async fn audit(&self, req: Request<pb::ListAuditLogRequest>) -> Result<pb::ListAuditLogResponse, Error> {
        let (_, extensions, req) = req.into_parts();
        let mut v = Violations::default();
        v.id("site_id", &req.site_id, true, 64);
        if req.page_size < 0 {
            v.add("page_size", "must not be negative");
        }
        v.finish()?;
        let (_, site) = self.authorize(&extensions, &req.site_id)?;
        let size = if req.page_size == 0 { DEFAULT_PAGE } else { (req.page_size as usize).min(MAX_PAGE) };
        let entries = self.app.store.review.audit_log(&site.id, size).await?;
        // The store keeps the newest last; the trail reads newest first.
        Ok(pb::ListAuditLogResponse { entries: entries.into_iter().rev().map(audit_entry).collect() })
    }
}

/// An audit line on the wire. It carries no comment text and no author data, so no role masks anything in it.
fn audit_entry(a: crate::store::review::AuditEntry) -> pb::AuditEntry {
    let action = match a.action.as_str() {
        "APPROVE" => pb::ReviewAction::Approve,
        "REJECT" => pb::ReviewAction::Reject,
        "REJECT_SPAM" => pb::ReviewAction::RejectSpam,
        "REJECT_ABUSE" => pb::ReviewAction::RejectAbuse,
        _ => pb::ReviewAction::Unspecified,
    };
    pb::AuditEntry {
        decided_at: Some(convert::timestamp(a.at_ms)),
        moderator_id: a.moderator,
        review_id: a.review_id,
        comment_id: a.comment_id,
        action: action as i32,
        note: a.note,
        reason_codes: a.reason_codes,
    }
}

/// The abuse category a `REJECT_ABUSE` names through its reason codes (`abuse.insult`, …): the first one that is a
/// category. None: the store takes the item's highest-scoring category.
fn abuse_category(reason_codes: &[String]) -> Option<crate::analysis::abuse::Category> {
    reason_codes.iter().find_map(|code| crate::analysis::abuse::Category::from_name(code.strip_prefix("abuse.")?))
}

fn queue_of(v: &mut Violations, value: i32) -> QueueKind {
    match pb::Queue::try_from(value) {
        Ok(pb::Queue::Reported) => QueueKind::Reported,
        Ok(_) => QueueKind::Pending,
        Err(_) => {
            v.add("queue", format!("unknown Queue value {value}"));
            QueueKind::Pending
        }
    }
}

/// A review item as the moderator's role may see it. Claim tokens only in `ClaimNext` answers.
fn review_item(site_id: &str, e: ReviewEntry, role: Role, unit: OffsetUnit, with_token: bool) -> pb::ReviewItem {
    let record = e.comment;
    let c = record.comment;
    let admin = role == Role::Admin;
    let body = if admin { MaskedBody::clear(&c.body) } else { body_for_moderator(&c.body, &record.answer.findings) };
    let findings: Vec<crate::domain::Finding> = record
        .answer
        .findings
        .iter()
        .map(|f| crate::domain::Finding { spans: f.spans.iter().map(|s| body.map(s)).collect(), ..f.clone() })
        .collect();
    let author = pb::Author {
        account_id: c.author.account_id,
        display_name: c.author.display_name,
        email: if admin { c.author.email } else { email_for_moderator(&c.author.email) },
        website_url: c.author.website_url,
        ip: if admin { c.author.ip } else { ip_for_moderator(&c.author.ip) },
        user_agent: c.author.user_agent,
    };
    let claim = e.claim.unwrap_or_else(|| crate::store::review::Claim {
        token: String::new(),
        moderator: String::new(),
        lease_expires_at_ms: 0,
    });
    pb::ReviewItem {
        review_id: e.review_id,
        site_id: site_id.to_string(),
        comment_id: c.comment_id,
        thread_id: c.thread_id,
        findings: convert::findings(&body.text, &findings, unit),
        body: body.text,
        redacted_body: record.answer.redacted_body,
        author: Some(author),
        spam_score: record.answer.spam_score,
        abuse_scores: Some(convert::abuse_scores(&record.answer.abuse)),
        submitted_at: Some(convert::timestamp(c.submitted_at_ms)),
        claim_token: if with_token { claim.token } else { String::new() },
        lease_expires_at: (claim.lease_expires_at_ms > 0).then(|| convert::timestamp(claim.lease_expires_at_ms)),
        delivery_count: e.delivery_count as i32,
        queue: match e.queue {
            QueueKind::Pending => pb::Queue::Pending,
            QueueKind::Reported => pb::Queue::Reported,
        } as i32,
        report_reasons: e.report_reasons,
        report_count: e.report_count as i32,
        author_email_masked: !admin,
        claimed_by: claim.moderator,
        permalink: c.permalink,
        parent_comment_id: c.parent_comment_id,
        language: c.language,
        author_approved_count: e.author_reputation.approved as i32,
        author_rejected_count: e.author_reputation.rejected as i32,
    }
}

#[tonic::async_trait]
impl ReviewService for Review {
    async fn claim_next(
        &self,
        request: Request<pb::ClaimNextRequest>,
    ) -> Result<Response<pb::ClaimNextResponse>, Status> {
        observe("ClaimNext", self.claim(request)).await
    }

    async fn decide(&self, request: Request<pb::DecideRequest>) -> Result<Response<pb::DecideResponse>, Status> {
        observe("Decide", Review::decide(self, request)).await
    }

    async fn release_claim(
        &self,
        request: Request<pb::ReleaseClaimRequest>,
    ) -> Result<Response<pb::ReleaseClaimResponse>, Status> {
        observe("ReleaseClaim", self.release(request)).await
    }

    async fn list_queue(
        &self,
        request: Request<pb::ListQueueRequest>,
    ) -> Result<Response<pb::ListQueueResponse>, Status> {
        observe("ListQueue", self.list(request)).await
    }

    async fn get_queue_stats(
        &self,
        request: Request<pb::GetQueueStatsRequest>,
    ) -> Result<Response<pb::GetQueueStatsResponse>, Status> {
        observe("GetQueueStats", self.stats(request)).await
    }

    async fn list_audit_log(
        &self,
        request: Request<pb::ListAuditLogRequest>,
    ) -> Result<Response<pb::ListAuditLogResponse>, Status> {
        observe("ListAuditLog", self.audit(request)).await
    }
}

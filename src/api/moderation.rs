//! `commentguard.v1.ModerationService`: called by host sites with their API key.

use super::decisions::{self, DecisionHub};
use super::{convert, validate};
use crate::app::App;
use crate::error::Error;
use crate::pb::{self, moderation_service_server::ModerationService};
use crate::store::review::{ReportOutcome, ReportRequest};
use crate::telemetry::observe;
use crate::{auth, intake};
use std::sync::Arc;
use tonic::{Request, Response, Status};

#[derive(Debug, Clone)]
pub struct Moderation {
    app: Arc<App>,
    hub: Arc<DecisionHub>,
    reporters: Arc<ReporterQuota>,
}

impl Moderation {
    /// `decisions`: heartbeats and bounds of decision delivery.
    pub fn new(app: Arc<App>, decisions: decisions::Settings) -> Moderation {
        let hub = DecisionHub::new(app.store.decisions.clone(), app.clock.clone(), decisions);
        Moderation { app, hub, reporters: Arc::new(ReporterQuota::default()) }
    }

    async fn submit(&self, req: Request<pb::SubmitCommentRequest>) -> Result<pb::SubmitCommentResponse, Error> {
        let now = self.app.clock.now_ms();
        let (_, extensions, req) = req.into_parts();
        let site = auth::site_of(&extensions)?;
        let (sub, unit) = validate::submit_request(req, now)?;
        if sub.comment.body.len() > site.max_body_bytes {
            return Err(Error::invalid("body", format!("must be at most {} bytes for this site", site.max_body_bytes)));
        }
        let comment_id = sub.comment.comment_id.clone();
        let body = sub.comment.body.clone();
        let models = self.app.models.for_site(&site);
        let (store, limiter) = (self.app.store.comments.as_ref(), Some(self.app.limiter.as_ref()));
        let accepted = intake::submit(store, &self.app.keys, limiter, &site, &models, sub).await?;
        let a = accepted.answer;
        tracing::debug!(site = %site.id, %comment_id, verdict = a.verdict.as_str(), replayed = accepted.replayed, "comment moderated");
        Ok(pb::SubmitCommentResponse {
            comment_id,
            verdict: convert::verdict(a.verdict) as i32,
            findings: convert::findings(&body, &a.findings, unit),
            spam_score: a.spam_score,
            abuse_scores: Some(convert::abuse_scores(&a.abuse)),
            redacted_body: a.redacted_body,
            review_id: a.review_id.unwrap_or_default(),
            replayed: accepted.replayed,
            decision_cursor: a.decision_cursor,
        })
    }

    async fn get(&self, req: Request<pb::GetCommentRequest>) -> Result<pb::GetCommentResponse, Error> {
        let (_, extensions, req) = req.into_parts();
        let site = auth::site_of(&extensions)?;
        let mut v = validate::Violations::default();
        v.id("comment_id", &req.comment_id, true, 128);
        let unit = v.offset_unit("offset_encoding", req.offset_encoding);
        v.finish()?;
        let record = self
            .app
            .store
            .comments
            .get(&site.id, &req.comment_id)
            .await?
            .ok_or_else(|| Error::NotFound("no such comment".into()))?;
        Ok(pb::GetCommentResponse {
            comment_id: record.comment.comment_id,
            verdict: convert::verdict(record.verdict) as i32,
            source: convert::source(record.source) as i32,
            moderator_id: record.moderator_id,
            findings: convert::findings(&record.comment.body, &record.answer.findings, unit),
            redacted_body: record.answer.redacted_body,
            decided_at: Some(convert::timestamp(record.decided_at_ms)),
            publish_original: record.publish_original,
            review_id: record.answer.review_id.unwrap_or_default(),
            thread_id: record.comment.thread_id,
            spam_score: record.answer.spam_score,
            abuse_scores: Some(convert::abuse_scores(&record.answer.abuse)),
        })
    }

    async fn report(&self, req: Request<pb::ReportCommentRequest>) -> Result<pb::ReportCommentResponse, Error> {
        let (_, extensions, req) = req.into_parts();
        let site = auth::site_of(&extensions)?;
        let mut v = validate::Violations::default();
        v.id("comment_id", &req.comment_id, true, 128);
        v.text("reason", &req.reason, 500);
        v.id("reporter_id", &req.reporter_id, false, 128);
        if !req.reporter_ip.is_empty() && req.reporter_ip.parse::<std::net::IpAddr>().is_err() {
            v.add("reporter_ip", "must be an IPv4 or IPv6 address");
        }
        if req.reporter_id.is_empty() && req.reporter_ip.is_empty() {
            v.add("reporter_id", "reporter_id or reporter_ip is required (one reporter counts once)");
        }
        v.finish()?;
        let (kind, who) =
            if req.reporter_id.is_empty() { ("reporter-ip", &req.reporter_ip) } else { ("reporter", &req.reporter_id) };
        let reporter_key = self.app.keys.key(&site.id, kind, who);
        self.reporters.admit(&reporter_key, self.app.clock.now_ms())?;
        let report = ReportRequest {
            comment_id: req.comment_id,
            reason: req.reason,
            reporter_key,
            hide_threshold: site.report_hide_threshold,
        };
        match self.app.store.review.report(&site.id, report).await? {
            ReportOutcome::Reported { review_id, report_count, hidden } => {
                tracing::info!(site = %site.id, %review_id, report_count, hidden, "comment reported");
                Ok(pb::ReportCommentResponse { review_id, report_count: report_count as i32 })
            }
            ReportOutcome::NotFound => Err(Error::NotFound("no such comment".into())),
        }
    }
}

/// Reports per reporter per hour, per process. A fixed window is enough here: the point is that one reader cannot
/// flood the reported queue, not precise pacing (written by hand because it is this small and product-specific).
#[derive(Debug, Default)]
struct ReporterQuota {
    windows: parking_lot::Mutex<std::collections::HashMap<String, (u64, u32)>>,
}

impl ReporterQuota {
    const PER_HOUR: u32 = 20;
    const WINDOW_MS: u64 = 3_600_000;
    /// Beyond this many tracked reporters, finished windows are dropped (memory stays bounded).
    const MAX_TRACKED: usize = 100_000;

    fn admit(&self, reporter: &str, now_ms: u64) -> Result<(), Error> {
        let mut windows = self.windows.lock();
        if windows.len() > Self::MAX_TRACKED {
            windows.retain(|_, (start, _)| now_ms < start.saturating_add(Self::WINDOW_MS));
        }
        let (start, count) = windows.entry(reporter.to_string()).or_insert((now_ms, 0));
        if now_ms >= start.saturating_add(Self::WINDOW_MS) {
            (*start, *count) = (now_ms, 0);
        }
        if *count >= Self::PER_HOUR {
            return Err(Error::ResourceExhausted {
                limit: "reporter",
                description: format!("{} reports per hour per reporter", Self::PER_HOUR),
                retry_after: std::time::Duration::from_millis(start.saturating_add(Self::WINDOW_MS) - now_ms),
            });
        }
        *count += 1;
        Ok(())
    }
}

#[tonic::async_trait]
impl ModerationService for Moderation {
    async fn submit_comment(
        &self,
        request: Request<pb::SubmitCommentRequest>,
    ) -> Result<Response<pb::SubmitCommentResponse>, Status> {
        observe("SubmitComment", self.submit(request)).await
    }

    async fn get_comment(
        &self,
        request: Request<pb::GetCommentRequest>,
    ) -> Result<Response<pb::GetCommentResponse>, Status> {
        observe("GetComment", self.get(request)).await
    }

    type WatchDecisionsStream = decisions::WatchStream;

    async fn watch_decisions(
        &self,
        request: Request<pb::WatchDecisionsRequest>,
    ) -> Result<Response<Self::WatchDecisionsStream>, Status> {
        observe("WatchDecisions", async {
            let (_, extensions, req) = request.into_parts();
            let site = auth::site_of(&extensions)?;
            decisions::watch(&self.hub, &site.id, req).await
        })
        .await
    }

    async fn list_decisions(
        &self,
        request: Request<pb::ListDecisionsRequest>,
    ) -> Result<Response<pb::ListDecisionsResponse>, Status> {
        observe("ListDecisions", async {
            let (_, extensions, req) = request.into_parts();
            let site = auth::site_of(&extensions)?;
            decisions::list(&self.hub, &site.id, req).await
        })
        .await
    }

    async fn report_comment(
        &self,
        request: Request<pb::ReportCommentRequest>,
    ) -> Result<Response<pb::ReportCommentResponse>, Status> {
        observe("ReportComment", self.report(request)).await
    }
}

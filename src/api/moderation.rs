//! `commentguard.v1.ModerationService`: called by host sites with their API key.

use super::{App, convert, validate};
use crate::error::Error;
use crate::pb::{self, moderation_service_server::ModerationService};
use crate::telemetry::observe;
use crate::{auth, intake};
use std::pin::Pin;
use std::sync::Arc;
use tokio_stream::Stream;
use tonic::{Request, Response, Status};

#[derive(Debug, Clone)]
pub struct Moderation {
    app: Arc<App>,
}

impl Moderation {
    pub fn new(app: Arc<App>) -> Moderation {
        Moderation { app }
    }

    async fn submit(&self, req: Request<pb::SubmitCommentRequest>) -> Result<pb::SubmitCommentResponse, Error> {
        let now = self.app.clock.now_ms();
        let (metadata, _, req) = req.into_parts();
        let (sub, unit) = validate::submit_request(req, now)?;
        let site = auth::site(&metadata, &self.app.tenants.load())?;
        if sub.body.len() > site.max_body_bytes {
            return Err(Error::invalid("body", format!("must be at most {} bytes for this site", site.max_body_bytes)));
        }
        let comment_id = sub.comment_id.clone();
        let body = sub.body.clone();
        let accepted = intake::submit(self.app.store.as_ref(), &self.app.keys, &site, sub).await?;
        let a = accepted.answer;
        tracing::info!(site = %site.id, %comment_id, verdict = a.verdict.as_str(), replayed = accepted.replayed, "comment moderated");
        Ok(pb::SubmitCommentResponse {
            comment_id,
            verdict: convert::verdict(a.verdict) as i32,
            findings: convert::findings(&body, &a.findings, unit),
            spam_score: a.spam_score,
            redacted_body: a.redacted_body,
            review_id: a.review_id.unwrap_or_default(),
            replayed: accepted.replayed,
            decision_cursor: a.decision_cursor,
        })
    }

    async fn get(&self, req: Request<pb::GetCommentRequest>) -> Result<pb::GetCommentResponse, Error> {
        let (metadata, _, req) = req.into_parts();
        let mut v = validate::Violations::default();
        v.id("comment_id", &req.comment_id, true, 128);
        let unit = v.offset_unit("offset_encoding", req.offset_encoding);
        v.finish()?;
        let site = auth::site(&metadata, &self.app.tenants.load())?;
        let record = self
            .app
            .store
            .get(&site.id, &req.comment_id)
            .await?
            .ok_or_else(|| Error::NotFound("no such comment".into()))?;
        Ok(pb::GetCommentResponse {
            comment_id: record.comment_id,
            verdict: convert::verdict(record.verdict) as i32,
            source: convert::source(record.source) as i32,
            moderator_id: record.moderator_id,
            findings: convert::findings(&record.body, &record.answer.findings, unit),
            redacted_body: record.answer.redacted_body,
            decided_at: Some(convert::timestamp(record.decided_at_ms)),
            publish_original: record.publish_original,
            review_id: record.answer.review_id.unwrap_or_default(),
            thread_id: record.thread_id,
            spam_score: record.answer.spam_score,
        })
    }
}

type DecisionStream = Pin<Box<dyn Stream<Item = Result<pb::WatchDecisionsResponse, Status>> + Send + 'static>>;

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

    type WatchDecisionsStream = DecisionStream;

    async fn watch_decisions(
        &self,
        _request: Request<pb::WatchDecisionsRequest>,
    ) -> Result<Response<Self::WatchDecisionsStream>, Status> {
        observe("WatchDecisions", async { Err(Error::Unimplemented("WatchDecisions is not implemented yet")) }).await
    }

    async fn list_decisions(
        &self,
        _request: Request<pb::ListDecisionsRequest>,
    ) -> Result<Response<pb::ListDecisionsResponse>, Status> {
        observe("ListDecisions", async { Err(Error::Unimplemented("ListDecisions is not implemented yet")) }).await
    }

    async fn report_comment(
        &self,
        _request: Request<pb::ReportCommentRequest>,
    ) -> Result<Response<pb::ReportCommentResponse>, Status> {
        observe("ReportComment", async { Err(Error::Unimplemented("ReportComment is not implemented yet")) }).await
    }
}

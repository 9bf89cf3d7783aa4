//! The review workflow on Redis Streams: each operation one Lua script (see `store::lua/*.lua` for the semantics of
//! each and `store::review` for the lease model), plus `load_items.lua` to fetch what moderators see in one round
//! trip.
//!
//! Scripts derive a few keys at run time (a comment's record from a queue entry, an author's reputation from a
//! record) from the site prefix; all of them carry the site's hash tag, so they stay in one Cluster slot.

use super::scripts::{CLAIM, DECIDE, LIST_QUEUE, LOAD_ITEMS, RELEASE, REPORT, STATS};
use super::{
    RECORD_FIELDS, RedisStore, StoreError, corrupt, corrupt_after_write, err, parse_verdict, read_err,
    record_from_fields,
};
use crate::domain::Reputation;
use crate::store::review::{
    AuditEntry, Claim, ClaimRequest, DecideOutcome, DecideRequest, Decided, QueueKind, QueuePage, QueueStats, Refusal,
    ReleaseOutcome, ReportOutcome, ReportRequest, ReviewAction, ReviewEntry, ReviewQueue,
};
use crate::store::{StreamId, keys};
use async_trait::async_trait;

/// Values per item in `load_items.lua`'s reply.
const ITEM_WIDTH: usize = 1 + RECORD_FIELDS.len() + 6 + 4;

/// Review items outlive nothing they describe: they expire with the site's longest retention.
const ITEM_TTL_MS: u64 = 3650 * 86_400_000;

impl RedisStore {
    /// What moderators see for `(review_id, comment_id)` pairs; items whose record expired are left out.
    async fn load(
        &self,
        site: &str,
        pairs: &[(String, String)],
        with_token: bool,
    ) -> Result<Vec<ReviewEntry>, StoreError> {
        if pairs.is_empty() {
            return Ok(Vec::new());
        }
        let mut inv = LOAD_ITEMS.prepare_invoke();
        inv.arg(keys::site_prefix(site)).arg(self.clock.now_ms());
        for (rid, cid) in pairs {
            inv.arg(rid).arg(cid);
        }
        let mut conn = self.conn.clone();
        let reply: Vec<String> = inv.invoke_async(&mut conn).await.map_err(read_err("load items"))?;
        if reply.len() % ITEM_WIDTH != 0 {
            return Err(corrupt("load items"));
        }
        let mut out = Vec::with_capacity(reply.len() / ITEM_WIDTH);
        for f in reply.chunks(ITEM_WIDTH) {
            let n = RECORD_FIELDS.len();
            let Some(comment) = record_from_fields(&f[1..=n])? else { continue };
            let review_id = f[0].clone();
            let queue = QueueKind::of_review_id(&review_id).ok_or_else(|| corrupt("review id"))?;
            let [token, claimer, expires, deliveries, reports, reasons, s, a, r, sp] = &f[n + 1..] else {
                return Err(corrupt("load items"));
            };
            let num = |v: &str| v.parse::<u64>().unwrap_or(0);
            let claim = (!claimer.is_empty()).then(|| Claim {
                token: if with_token { token.clone() } else { String::new() },
                moderator: claimer.clone(),
                lease_expires_at_ms: num(expires),
            });
            out.push(ReviewEntry {
                review_id,
                queue,
                comment,
                claim,
                delivery_count: num(deliveries) as u32,
                report_reasons: reasons.split('\n').filter(|r| !r.is_empty()).map(str::to_string).collect(),
                report_count: num(reports) as u32,
                author_reputation: Reputation { submitted: num(s), approved: num(a), rejected: num(r), spam: num(sp) },
            });
        }
        Ok(out)
    }
}

#[async_trait]
impl ReviewQueue for RedisStore {
    async fn claim(&self, site: &str, req: ClaimRequest) -> Result<Vec<ReviewEntry>, StoreError> {
        let mut inv = CLAIM.prepare_invoke();
        inv.key(keys::queue(site, req.queue))
            .key(keys::leases(site, req.queue))
            .arg(keys::site_prefix(site))
            .arg(self.clock.now_ms())
            .arg(req.lease_ms)
            .arg(&req.moderator)
            .arg(req.thread_id.as_deref().unwrap_or(""))
            .arg(req.queue.prefix())
            .arg(ITEM_TTL_MS);
        for token in &req.tokens {
            inv.arg(token);
        }
        let mut conn = self.conn.clone();
        let reply: Vec<String> = inv.invoke_async(&mut conn).await.map_err(err("claim"))?;
        let pairs: Vec<(String, String)> =
            reply.chunks(2).filter_map(|p| Some((p.first()?.clone(), p.get(1)?.clone()))).collect();
        // The leases are taken: a failed read now leaves them held until they expire.
        self.load(site, &pairs, true).await.map_err(StoreError::after_write)
    }

    async fn decide(&self, site: &str, req: DecideRequest) -> Result<DecideOutcome, StoreError> {
        let Some(queue) = QueueKind::of_review_id(&req.review_id) else { return Ok(DecideOutcome::NotFound) };
        let Some(entry_id) = req.review_id.split_once('-').map(|(_, id)| id.to_string()) else {
            return Ok(DecideOutcome::NotFound);
        };
        let verdict = req.action.verdict();
        let reasons = serde_json::to_string(&req.reason_codes).map_err(|_| corrupt("reason codes"))?;
        let mut conn = self.conn.clone();
        let reply: Vec<String> = DECIDE
            .key(keys::review_item(site, &req.review_id))
            .key(keys::queue(site, queue))
            .key(keys::leases(site, queue))
            .key(keys::decisions(site))
            .key(keys::audit(site))
            .key(keys::feedback(site))
            .key(keys::open_reports(site))
            .arg(keys::site_prefix(site))
            .arg(&req.review_id)
            .arg(entry_id)
            .arg(&req.claim_token)
            .arg(&req.moderator)
            .arg(req.action.as_str())
            .arg(verdict.as_str())
            .arg(self.clock.now_ms())
            .arg(&req.note)
            .arg(reasons)
            .arg(if req.publish_original { "1" } else { "0" })
            .arg(if req.action == ReviewAction::RejectSpam { "1" } else { "0" })
            .arg(ITEM_TTL_MS)
            .arg(if queue == QueueKind::Reported { "1" } else { "0" })
            .arg(req.action.feedback_label())
            .invoke_async(&mut conn)
            .await
            .map_err(err("decide"))?;
        match reply.as_slice() {
            [k, comment_id, verdict, cursor] if k == "decided" => Ok(DecideOutcome::Decided(Decided {
                comment_id: comment_id.clone(),
                verdict: parse_verdict(verdict).ok_or_else(|| corrupt_after_write("decide"))?,
                cursor: cursor.clone(),
            })),
            [k, why] if k == "refused" => Ok(DecideOutcome::Refused(refusal(why, "decide")?)),
            [k] if k == "notfound" => Ok(DecideOutcome::NotFound),
            _ => Err(corrupt_after_write("decide")),
        }
    }

    async fn release(&self, site: &str, review_id: &str, token: &str) -> Result<ReleaseOutcome, StoreError> {
        let Some(queue) = QueueKind::of_review_id(review_id) else { return Ok(ReleaseOutcome::NotFound) };
        let mut conn = self.conn.clone();
        let reply: Vec<String> = RELEASE
            .key(keys::review_item(site, review_id))
            .key(keys::leases(site, queue))
            .arg(review_id)
            .arg(token)
            .arg(self.clock.now_ms())
            .invoke_async(&mut conn)
            .await
            .map_err(err("release"))?;
        match reply.as_slice() {
            [k] if k == "released" => Ok(ReleaseOutcome::Released),
            [k, why] if k == "refused" => Ok(ReleaseOutcome::Refused(refusal(why, "release")?)),
            [k] if k == "notfound" => Ok(ReleaseOutcome::NotFound),
            _ => Err(corrupt_after_write("release")),
        }
    }

    async fn list_queue(
        &self,
        site: &str,
        queue: QueueKind,
        page_token: Option<&str>,
        page_size: usize,
        thread_id: Option<&str>,
    ) -> Result<QueuePage, StoreError> {
        let after = page_token.and_then(StreamId::parse).map_or("-".to_string(), |id| id.to_string());
        let mut conn = self.conn.clone();
        let reply: Vec<String> = LIST_QUEUE
            .key(keys::queue(site, queue))
            .arg(after)
            .arg(page_size.max(1))
            .arg(thread_id.unwrap_or(""))
            .arg(queue.prefix())
            .invoke_async(&mut conn)
            .await
            .map_err(read_err("list queue"))?;
        let Some((next, rest)) = reply.split_first() else { return Err(corrupt("list queue")) };
        let pairs: Vec<(String, String)> =
            rest.chunks(2).filter_map(|p| Some((p.first()?.clone(), p.get(1)?.clone()))).collect();
        let items = self.load(site, &pairs, false).await?;
        Ok(QueuePage { items, next_page_token: (!next.is_empty()).then(|| next.clone()) })
    }

    async fn queue_stats(&self, site: &str) -> Result<QueueStats, StoreError> {
        let now = self.clock.now_ms();
        let mut conn = self.conn.clone();
        let (pending, reported, claimed, oldest, decided): (u64, u64, u64, String, u64) = STATS
            .key(keys::queue(site, QueueKind::Pending))
            .key(keys::queue(site, QueueKind::Reported))
            .key(keys::leases(site, QueueKind::Pending))
            .key(keys::leases(site, QueueKind::Reported))
            .key(keys::audit(site))
            .arg(now)
            .invoke_async(&mut conn)
            .await
            .map_err(read_err("queue stats"))?;
        let oldest_pending_age_ms = StreamId::parse(&oldest).map(|id| now.saturating_sub(id.ms));
        Ok(QueueStats { pending, reported, claimed, oldest_pending_age_ms, decided_last_hour: decided })
    }

    async fn report(&self, site: &str, req: ReportRequest) -> Result<ReportOutcome, StoreError> {
        let reasons =
            serde_json::to_string(&[crate::findings::POLICY_REPORTED.code]).map_err(|_| corrupt("reasons"))?;
        let mut conn = self.conn.clone();
        let reply: Vec<String> = REPORT
            .key(keys::queue(site, QueueKind::Reported))
            .key(keys::open_reports(site))
            .key(keys::decisions(site))
            .arg(keys::site_prefix(site))
            .arg(&req.comment_id)
            .arg(&req.reason)
            .arg(&req.reporter_key)
            .arg(req.hide_threshold.max(1))
            .arg(self.clock.now_ms())
            .arg(ITEM_TTL_MS)
            .arg(reasons)
            .invoke_async(&mut conn)
            .await
            .map_err(err("report"))?;
        match reply.as_slice() {
            [k, review_id, count, hidden] if k == "reported" => Ok(ReportOutcome::Reported {
                review_id: review_id.clone(),
                report_count: count.parse().unwrap_or(0),
                hidden: hidden == "1",
            }),
            [k] if k == "notfound" => Ok(ReportOutcome::NotFound),
            _ => Err(corrupt_after_write("report")),
        }
    }

    async fn audit_log(&self, site: &str, limit: usize) -> Result<Vec<AuditEntry>, StoreError> {
        let mut conn = self.conn.clone();
        let entries: Vec<(String, Vec<(String, String)>)> = redis::cmd("XREVRANGE")
            .arg(keys::audit(site))
            .arg("+")
            .arg("-")
            .arg("COUNT")
            .arg(limit.max(1))
            .query_async(&mut conn)
            .await
            .map_err(read_err("audit"))?;
        let mut out: Vec<AuditEntry> = entries
            .into_iter()
            .map(|(_, fields)| {
                let get = |k: &str| entry_field(&fields, k);
                AuditEntry {
                    at_ms: get("at").parse().unwrap_or(0),
                    moderator: get("moderator"),
                    review_id: get("review_id"),
                    comment_id: get("comment_id"),
                    action: get("action"),
                    note: get("note"),
                    // A JSON array (decide.lua); absent in entries written before reasons were kept.
                    reason_codes: serde_json::from_str(&get("reasons")).unwrap_or_default(),
                }
            })
            .collect();
        out.reverse();
        Ok(out)
    }
}

/// One field of a stream entry read with XRANGE/XREVRANGE; empty when absent.
fn entry_field(fields: &[(String, String)], name: &str) -> String {
    fields.iter().find(|(n, _)| n == name).map(|(_, v)| v.clone()).unwrap_or_default()
}

/// A script's refusal code; an unknown one is a corrupt reply (the write may have happened).
fn refusal(code: &str, what: &'static str) -> Result<Refusal, StoreError> {
    Refusal::from_code(code).ok_or_else(|| corrupt_after_write(what))
}

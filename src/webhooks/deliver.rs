//! One site's deliverer: take the lease, read events after the saved cursor, POST them until the receiver takes
//! them, save the cursor, repeat (see the module docs of `webhooks` for the guarantees).
//!
//! Invariants:
//! - A batch's cursor is saved only after the receiver answered 2xx for it, and only under the lease
//!   (`WebhookState::save_webhook_cursor`), so nothing is ever marked delivered that was not, and a deliverer that
//!   lost its lease never moves the cursor.
//! - A batch is retried until it is delivered (or the site is suspended after `max_attempts`): the next batch is never
//!   sent before it, so the receiver sees events in stream order.
//! - The lease is renewed at least every `RENEW_EVERY` (while waiting for events, between retries, and before each
//!   POST), and its time to live covers a POST's whole timeout, so it cannot lapse while its holder delivers.

use super::client::{Client, Failure};
use super::{Deps, Target};
use crate::api::decisions;
use crate::domain::DecisionEvent;
use crate::http_api::{json, routes};
use crate::pb;
use crate::store::{After, ReadError, StreamId};
use rand::Rng;
use std::sync::Arc;
use std::time::Duration;
use tokio::time::Instant;

/// The lease is renewed this often while held.
const RENEW_EVERY: Duration = Duration::from_secs(5);
/// How long one wait for new events blocks the store (shorter than `RENEW_EVERY`, so renewals keep their pace).
const WAIT_BLOCK: Duration = Duration::from_secs(4);
/// Pause after a store failure, and between attempts to take a lease another process holds.
const STORE_PAUSE: Duration = Duration::from_secs(1);

/// Why delivery under the current lease stopped.
#[derive(Debug, PartialEq, Eq)]
enum Stop {
    /// The lease is (or may be) someone else's now, or the store failed: start over from the saved cursor.
    Restart,
    /// `max_attempts` failed attempts of one batch: the site's delivery stops until its table changes.
    Suspended,
}

pub struct Deliverer {
    target: Arc<Target>,
    deps: Deps,
    client: Client,
    /// The lease's time to live: renewals every `RENEW_EVERY` plus a whole POST's timeout must fit in it.
    lease_ttl: Duration,
    renewed_at: Instant,
}

impl Deliverer {
    pub fn new(target: Arc<Target>, deps: Deps) -> Deliverer {
        let lease_ttl = (RENEW_EVERY * 3).max(RENEW_EVERY + target.timeout * 2);
        Deliverer { target, deps, client: Client::default(), lease_ttl, renewed_at: Instant::now() }
    }

    /// Delivers until suspended (or aborted by the supervisor).
    pub async fn run(mut self) {
        let site = self.target.site.clone();
        metrics::gauge!("commentguard_webhook_suspended", "site" => site.clone()).set(0.0);
        loop {
            match self.take_lease().await {
                Ok(true) => {}
                Ok(false) => {
                    tokio::time::sleep(RENEW_EVERY).await;
                    continue;
                }
                Err(()) => {
                    tokio::time::sleep(STORE_PAUSE).await;
                    continue;
                }
            }
            tracing::info!(site = %site, "webhook delivery: lease taken");
            if self.deliver().await == Stop::Suspended {
                metrics::gauge!("commentguard_webhook_suspended", "site" => site.clone()).set(1.0);
                let _ = self.deps.state.release_webhook_lease(&site, &self.deps.owner).await;
                return;
            }
        }
    }

    /// Takes or renews the lease: `Ok(false)` when another process holds it, `Err` when the store failed.
    async fn take_lease(&mut self) -> Result<bool, ()> {
        let asked = Instant::now();
        match self.deps.state.webhook_lease(&self.target.site, &self.deps.owner, self.lease_ttl).await {
            Ok(held) => {
                if held {
                    // Counted from before the call: the store may have set the expiry any time after it.
                    self.renewed_at = asked;
                }
                Ok(held)
            }
            Err(_) => Err(()),
        }
    }

    /// Renews the lease when due. `Err(Stop::Restart)` when it is not ours any more (or cannot be confirmed).
    async fn keep_lease(&mut self) -> Result<(), Stop> {
        if self.renewed_at.elapsed() < RENEW_EVERY {
            return Ok(());
        }
        match self.take_lease().await {
            Ok(true) => Ok(()),
            Ok(false) => {
                tracing::warn!(site = %self.target.site, "webhook delivery: lease lost to another process");
                Err(Stop::Restart)
            }
            Err(()) => Err(Stop::Restart),
        }
    }

    /// Delivers batches under the lease until it is lost or the site is suspended.
    async fn deliver(&mut self) -> Stop {
        let mut after = match self.start().await {
            Ok(after) => after,
            Err(stop) => return stop,
        };
        loop {
            if let Err(stop) = self.keep_lease().await {
                return stop;
            }
            let site = &self.target.site;
            let events = match self.deps.log.wait_decisions(site, after, self.target.max_batch, WAIT_BLOCK).await {
                Ok(events) => events,
                Err(ReadError::Expired) => {
                    // Only after an outage longer than retention: the events in between are gone from the store.
                    tracing::error!(
                        site = %site,
                        "webhook cursor is older than the retained decisions: continuing from the oldest retained; \
                         the host should re-sync with GetComment"
                    );
                    metrics::counter!("commentguard_webhook_gaps_total", "site" => site.clone()).increment(1);
                    after = After::Start;
                    continue;
                }
                Err(ReadError::Store(_)) => {
                    tokio::time::sleep(STORE_PAUSE).await;
                    continue;
                }
            };
            let Some(last) = events.last().and_then(|e| StreamId::parse(&e.cursor)) else { continue };
            if let Err(stop) = self.post_until_delivered(events, last).await {
                return stop;
            }
            match self.deps.state.save_webhook_cursor(&self.target.site, &self.deps.owner, last).await {
                Ok(true) => after = After::Id(last),
                // Lost the lease: the new holder sends from the saved cursor (this batch again, at least once).
                Ok(false) => return Stop::Restart,
                // Unsaved: start over from the saved cursor rather than deliver on without a lease we can confirm.
                Err(_) => return Stop::Restart,
            }
        }
    }

    /// Where delivery resumes: after the saved cursor; on the site's first run, after its newest event (saved now).
    async fn start(&mut self) -> Result<After, Stop> {
        let site = &self.target.site;
        match self.deps.state.webhook_cursor(site).await {
            Ok(Some(id)) => return Ok(After::Id(id)),
            Ok(None) => {}
            Err(_) => return Err(Stop::Restart),
        }
        let latest = self.deps.log.latest_decision(site).await.map_err(|_| Stop::Restart)?;
        let from = latest.unwrap_or_default();
        match self.deps.state.save_webhook_cursor(site, &self.deps.owner, from).await {
            Ok(true) => {
                tracing::info!(site = %site, cursor = %from, "webhook: first delivery starts after the newest event");
                Ok(After::Id(from))
            }
            _ => Err(Stop::Restart),
        }
    }

    /// POSTs one batch until the receiver answers 2xx, keeping the lease meanwhile.
    async fn post_until_delivered(&mut self, events: Vec<DecisionEvent>, last: StreamId) -> Result<(), Stop> {
        let count = events.len();
        let page = pb::ListDecisionsResponse {
            events: events.into_iter().map(decisions::event).collect(),
            next_cursor: last.to_string(),
        };
        let Ok(body) = json::encode(routes::LIST.1, &page) else {
            // Cannot happen for our own messages; if it did, retrying would not help either.
            tracing::error!(site = %self.target.site, "webhook batch could not be encoded; suspending");
            return Err(Stop::Suspended);
        };
        let body = hyper::body::Bytes::from(body);
        let site = self.target.site.clone();
        let mut attempt: u32 = 0;
        loop {
            self.keep_lease().await?;
            attempt += 1;
            let unix = self.deps.clock.now_ms() / 1000;
            let headers = [
                (super::sign::HEADER, self.target.sign(unix, &body)),
                ("x-commentguard-site", site.clone()),
                ("x-commentguard-delivery", last.to_string()),
            ];
            let target = self.target.clone();
            let failure = match self.client.post(&target, body.clone(), &headers).await {
                Ok(()) => {
                    metrics::counter!("commentguard_webhook_events_total", "site" => site.clone())
                        .increment(count as u64);
                    tracing::debug!(site = %site, events = count, attempt, "webhook batch delivered");
                    return Ok(());
                }
                Err(failure) => failure,
            };
            metrics::counter!("commentguard_webhook_failures_total", "site" => site.clone()).increment(1);
            tracing::warn!(site = %site, attempt, reason = %failure, "webhook delivery failed; will retry");
            if self.target.max_attempts > 0 && attempt >= self.target.max_attempts {
                tracing::error!(
                    site = %site,
                    attempts = attempt,
                    "webhook delivery suspended after max_attempts; the cursor stays: a reload that changes \
                     [sites.webhook] or a restart resumes from it"
                );
                return Err(Stop::Suspended);
            }
            let wait = match failure {
                Failure::Status { retry_after: Some(wait), .. } => wait.min(self.target.max_backoff),
                _ => backoff(attempt, self.target.initial_backoff, self.target.max_backoff, &mut rand::rng()),
            };
            self.sleep_leased(wait).await?;
        }
    }

    /// Sleeps `wait`, renewing the lease on time.
    async fn sleep_leased(&mut self, wait: Duration) -> Result<(), Stop> {
        let until = Instant::now() + wait;
        loop {
            let next_renewal = self.renewed_at + RENEW_EVERY;
            if until <= next_renewal {
                tokio::time::sleep_until(until).await;
                return Ok(());
            }
            tokio::time::sleep_until(next_renewal).await;
            self.keep_lease().await?;
        }
    }
}

/// The wait before retry number `attempt` (1 = after the first failure): `initial · 2^(attempt-1)` capped at `max`,
/// with "equal jitter" (uniform in its upper half), so retries of many sites spread out yet always grow.
pub fn backoff(attempt: u32, initial: Duration, max: Duration, rng: &mut impl Rng) -> Duration {
    let exp = initial.saturating_mul(1u32.checked_shl(attempt.saturating_sub(1)).unwrap_or(u32::MAX));
    let base = exp.min(max);
    let half = base / 2;
    half + half.mul_f64(rng.random::<f64>())
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;

    #[test]
    fn backoff_doubles_with_jitter_up_to_the_cap() {
        let mut rng = rand::rngs::StdRng::seed_from_u64(7);
        let (initial, max) = (Duration::from_millis(100), Duration::from_secs(5));
        for attempt in 1..=40 {
            let base = (initial * 2u32.saturating_pow(attempt - 1).min(1 << 20)).min(max);
            for _ in 0..20 {
                let wait = backoff(attempt, initial, max, &mut rng);
                assert!(wait >= base / 2 && wait <= base, "attempt {attempt}: {wait:?} vs {base:?}");
            }
        }
        assert_eq!(backoff(1000, initial, max, &mut rng).max(max), max, "no overflow far out");
    }
}

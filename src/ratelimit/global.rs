//! Cluster-wide limits: every replica runs `gcra.lua` against one Redis, so N replicas enforce one limit rather
//! than N. One script call per request covers all of its Redis limits and surge control (one round trip).
//!
//! Failure model: connecting and every call are bounded by `ratelimit.timeout_ms`. After a failure the Redis is
//! treated as down for [`RETRY_AFTER`] without being asked (a circuit breaker), so while it is down requests do not
//! each wait for a timeout; the caller then applies the site's `on_redis_error` choice.

use redis::aio::{ConnectionManager, ConnectionManagerConfig};
use std::sync::LazyLock;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

static GCRA: LazyLock<redis::Script> = LazyLock::new(|| redis::Script::new(include_str!("gcra.lua")));

/// How long a failed Redis is left alone before the next request tries it again.
pub const RETRY_AFTER: Duration = Duration::from_secs(1);

/// One GCRA bucket in Redis.
#[derive(Debug, Clone)]
pub struct Cell {
    pub key: String,
    pub interval: Duration,
    pub tolerance: Duration,
}

/// A thread's surge state in Redis.
#[derive(Debug, Clone)]
pub struct SurgeCell {
    pub rate: Cell,
    pub marker: String,
    pub cooldown: Duration,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// Every limit passed; `surge`: the thread is in surge (hold the comment).
    Pass { surge: bool },
    /// `cells[index]` refused; a cell is free again after `wait`.
    Refused { index: usize, wait: Duration },
}

/// The limiter's Redis did not answer (or answered nonsense); the text names no personal data.
#[derive(Debug, thiserror::Error)]
#[error("rate limiter redis: {0}")]
pub struct Unreachable(pub String);

pub struct Global {
    conn: ConnectionManager,
    timeout: Duration,
    origin: Instant,
    /// Milliseconds since `origin` before which Redis is not asked again.
    down_until_ms: AtomicU64,
    /// For logging each up/down transition once.
    down: AtomicBool,
}

impl std::fmt::Debug for Global {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Global").field("timeout", &self.timeout).finish_non_exhaustive()
    }
}

impl Global {
    /// Prepares the connection without waiting for Redis (it connects on first use and reconnects by itself).
    pub fn connect(url: &str, timeout: Duration) -> Result<Global, Unreachable> {
        let client = redis::Client::open(url).map_err(|e| Unreachable(format!("url: {e}")))?;
        let config = ConnectionManagerConfig::new()
            .set_connection_timeout(Some(timeout))
            .set_response_timeout(Some(timeout))
            .set_number_of_retries(1)
            .set_min_delay(Duration::from_millis(20))
            .set_max_delay(Duration::from_millis(500));
        let conn = ConnectionManager::new_lazy_with_config(client, config)
            .map_err(|e| Unreachable(format!("connect: {e}")))?;
        metrics::gauge!("commentguard_ratelimit_redis_up").set(1.0);
        Ok(Global {
            conn,
            timeout,
            origin: Instant::now(),
            down_until_ms: AtomicU64::new(0),
            down: AtomicBool::new(false),
        })
    }

    /// Runs the script for `cells` (narrowest first) and, if given, the thread's surge state.
    pub async fn check(&self, cells: &[Cell], surge: Option<&SurgeCell>) -> Result<Outcome, Unreachable> {
        let now_ms = self.origin.elapsed().as_millis() as u64;
        if now_ms < self.down_until_ms.load(Ordering::Relaxed) {
            return Err(Unreachable("down (waiting before the next attempt)".into()));
        }
        let result = self.invoke(cells, surge).await;
        match &result {
            Ok(_) => {
                if self.down.swap(false, Ordering::Relaxed) {
                    tracing::info!("rate limiter redis answers again");
                    metrics::gauge!("commentguard_ratelimit_redis_up").set(1.0);
                }
            }
            Err(e) => {
                metrics::counter!("commentguard_ratelimit_redis_errors_total").increment(1);
                self.down_until_ms.store(now_ms + RETRY_AFTER.as_millis() as u64, Ordering::Relaxed);
                if !self.down.swap(true, Ordering::Relaxed) {
                    tracing::error!(error = %e, "rate limiter redis does not answer; sites apply on_redis_error");
                    metrics::gauge!("commentguard_ratelimit_redis_up").set(0.0);
                }
            }
        }
        result
    }

    async fn invoke(&self, cells: &[Cell], surge: Option<&SurgeCell>) -> Result<Outcome, Unreachable> {
        let mut invocation = GCRA.prepare_invoke();
        invocation.arg(cells.len()).arg(if surge.is_some() { "1" } else { "0" });
        for c in cells {
            invocation.key(&c.key).arg(micros(c.interval)).arg(micros(c.tolerance));
        }
        if let Some(s) = surge {
            invocation.key(&s.rate.key).key(&s.marker);
            invocation.arg(micros(s.rate.interval)).arg(micros(s.rate.tolerance)).arg(s.cooldown.as_millis() as u64);
        }
        let mut conn = self.conn.clone();
        let reply: Vec<i64> = tokio::time::timeout(self.timeout, invocation.invoke_async(&mut conn))
            .await
            .map_err(|_| Unreachable(format!("no answer within {} ms", self.timeout.as_millis())))?
            .map_err(|e| Unreachable(e.to_string()))?;
        match reply.as_slice() {
            [0, surge] => Ok(Outcome::Pass { surge: *surge == 1 }),
            [i, wait_us] if *i >= 1 && (*i as usize) <= cells.len() => {
                Ok(Outcome::Refused { index: *i as usize - 1, wait: Duration::from_micros((*wait_us).max(0) as u64) })
            }
            _ => Err(Unreachable("unexpected reply from the GCRA script".into())),
        }
    }
}

fn micros(d: Duration) -> u64 {
    d.as_micros().try_into().unwrap_or(u64::MAX)
}

//! In-process limits: one governor GCRA limiter per site and limit, keyed by a `u64` hash, over a
//! [`BoundedStore`]; and surge detection per thread.

use super::clock::RateClock;
use super::settings::Spec;
use super::store::BoundedStore;
use governor::clock::Clock;
use governor::middleware::NoOpMiddleware;
use governor::nanos::Nanos;
use parking_lot::Mutex;
use std::collections::HashMap;
use std::time::Duration;

type Governor = governor::RateLimiter<u64, BoundedStore, RateClock, NoOpMiddleware<Nanos>>;

/// One limit of one site in this process.
#[derive(Debug)]
pub struct Keyed {
    spec: Spec,
    limiter: Governor,
}

impl Keyed {
    pub fn new(spec: Spec, clock: RateClock, max_keys: usize, label: &'static str) -> Keyed {
        Keyed { spec, limiter: governor::RateLimiter::new(spec.quota(), BoundedStore::new(max_keys, label), clock) }
    }

    pub fn spec(&self) -> &Spec {
        &self.spec
    }

    /// Takes one cell for `key`, or says how long until one is free (governor's exact `NotUntil` wait).
    pub fn check(&self, key: u64) -> Result<(), Duration> {
        self.limiter.check_key(&key).map_err(|not_until| not_until.wait_time_from(self.limiter.clock().now()))
    }

    /// Drops keys whose bucket is full again and gives memory back; returns the keys left.
    pub fn housekeeping(&self) -> usize {
        self.limiter.retain_recent();
        self.limiter.shrink_to_fit();
        self.limiter.len()
    }

    /// Keys held now.
    pub fn key_count(&self) -> usize {
        self.limiter.len()
    }
}

/// Surge control for one site: a GCRA per thread at the surge threshold. A comment that would exceed it puts the
/// thread in surge for the cool-down; every comment on a thread in surge is held for review (not refused).
#[derive(Debug)]
pub struct Surge {
    rate: Keyed,
    cooldown: Duration,
    /// Thread key → end of its surge (clock nanos). Bounded: only threads in surge are here, and a full map stops
    /// recording (the thread's exhausted bucket keeps holding its comments meanwhile).
    holds: Mutex<HashMap<u64, u64>>,
    max_holds: usize,
}

impl Surge {
    pub fn new(spec: Spec, cooldown: Duration, clock: RateClock, max_keys: usize) -> Surge {
        Surge {
            rate: Keyed::new(spec, clock, max_keys, "surge"),
            cooldown,
            holds: Mutex::new(HashMap::new()),
            max_holds: max_keys.min(100_000),
        }
    }

    pub fn spec(&self) -> &Spec {
        self.rate.spec()
    }

    pub fn cooldown(&self) -> Duration {
        self.cooldown
    }

    /// Counts one accepted comment on the thread; `true` when it must be held.
    pub fn check(&self, thread: u64) -> bool {
        let now = self.rate.limiter.clock().now().as_u64();
        let mut holds = self.holds.lock();
        if holds.get(&thread).is_some_and(|until| *until > now) {
            return true;
        }
        if self.rate.check(thread).is_ok() {
            holds.remove(&thread);
            return false;
        }
        if holds.len() < self.max_holds || holds.contains_key(&thread) {
            holds.insert(thread, now.saturating_add(self.cooldown.as_nanos() as u64));
        }
        true
    }

    pub fn housekeeping(&self) -> usize {
        let now = self.rate.limiter.clock().now().as_u64();
        let mut holds = self.holds.lock();
        holds.retain(|_, until| *until > now);
        if holds.len() < holds.capacity() / 4 {
            holds.shrink_to_fit();
        }
        drop(holds);
        self.rate.housekeeping()
    }

    /// Threads with rate state now.
    pub fn key_count(&self) -> usize {
        self.rate.key_count()
    }
}

//! Stores under test, each with a manual clock: the memory store, and the Redis store on a private server (whose
//! scripts take "now" from the same clock, so leases and expiry are deterministic on both).

use super::redis::TestRedis;
use commentguard::clock::{Clock, ManualClock, SystemClock};
use commentguard::store::redis::{Durability, RedisOptions, RedisStore};
use commentguard::store::{Store, memory::MemoryStore};
use std::sync::Arc;
use std::time::Duration;

/// A store under test, its clock, and for Redis the server it lives on (dropped with it).
pub struct Backed {
    pub store: Arc<dyn Store>,
    pub clock: Arc<ManualClock>,
    _redis: Option<TestRedis>,
}

fn clock() -> Arc<ManualClock> {
    // Start at the real time: Redis mints stream ids from its own clock, and ages are computed from them.
    ManualClock::new(SystemClock.now_ms())
}

pub fn memory_store() -> Backed {
    let clock = clock();
    Backed { store: Arc::new(MemoryStore::new(clock.clone())), clock, _redis: None }
}

pub fn redis_store() -> Backed {
    let redis = TestRedis::start();
    let clock = clock();
    let store = connect(&redis, clock.clone());
    Backed { store, clock, _redis: Some(redis) }
}

/// A Redis store on the system clock for a server the caller keeps (several stores may share it, like replicas).
pub fn redis_store_at(redis: &TestRedis) -> Arc<dyn Store> {
    connect(redis, Arc::new(SystemClock))
}

fn connect(redis: &TestRedis, clock: Arc<dyn Clock>) -> Arc<dyn Store> {
    let options = RedisOptions { url: redis.url(), timeout: Duration::from_secs(5), durability: Durability::Primary };
    Arc::new(RedisStore::connect(&options, clock).expect("connect"))
}

/// A held comment with id `id` in thread `thread`, as the review and learning contracts submit them.
pub fn held(id: &str, thread: &str) -> commentguard::store::NewComment {
    let body = format!("body of {id}");
    commentguard::store::NewComment {
        comment_id: id.into(),
        thread_id: thread.into(),
        parent_comment_id: String::new(),
        permalink: String::new(),
        language: String::new(),
        author: Default::default(),
        author_key: Some(format!("author-of-{id}")),
        ip_key: "ip".into(),
        body_sha256: commentguard::intake::body_fingerprint(&body),
        body,
        submitted_at_ms: 0,
        verdict: commentguard::domain::Verdict::PendingReview,
        findings: Vec::new(),
        spam_score: 0.6,
        redacted_body: format!("redacted {id}"),
        reason_codes: vec!["spam.links".into()],
        retention_ms: 30 * 86_400_000,
        near: None,
    }
}

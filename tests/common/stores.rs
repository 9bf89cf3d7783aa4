//! Stores under test, each with a manual clock: the memory store, and the Redis store on a private server (whose
//! scripts take "now" from the same clock, so leases and expiry are deterministic on both).

use super::redis::TestRedis;
use commentguard::clock::{Clock, ManualClock, SystemClock};
use commentguard::domain::Context;
use commentguard::store::redis::{Durability, RedisOptions, RedisStore};
use commentguard::store::{Lookup, NearProbe, Probe, Store, memory::MemoryStore};
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
    let body_sha256 = commentguard::intake::body_fingerprint(&body);
    commentguard::store::NewComment {
        comment: commentguard::domain::Comment {
            comment_id: id.into(),
            thread_id: thread.into(),
            parent_comment_id: String::new(),
            permalink: String::new(),
            language: String::new(),
            author: Default::default(),
            body,
            submitted_at_ms: 0,
        },
        author_key: Some(format!("author-of-{id}")),
        ip_key: "ip".into(),
        body_sha256,
        decision: commentguard::domain::Decision {
            verdict: commentguard::domain::Verdict::PendingReview,
            findings: Vec::new(),
            spam_score: 0.6,
            abuse: Default::default(),
            redacted_body: format!("redacted {id}"),
            reason_codes: vec!["spam.links".into()],
        },
        retention_ms: 30 * 86_400_000,
        near: None,
    }
}

/// The replay lookup alone (`prepare` with a context nobody reads).
pub async fn lookup(store: &dyn Store, site: &str, comment_id: &str, body_sha256: &str) -> Lookup {
    let probe = Probe { comment_id, body_sha256, author_key: None, ip_key: "-", near: None };
    store.prepare(site, probe).await.expect("prepare").0
}

/// The context alone (`prepare` for a comment id nobody uses).
pub async fn context(
    store: &dyn Store,
    site: &str,
    author_key: Option<&str>,
    ip_key: &str,
    near: Option<&NearProbe>,
) -> Context {
    let probe = Probe { comment_id: "-", body_sha256: "-", author_key, ip_key, near };
    store.prepare(site, probe).await.expect("prepare").1
}

//! Test harness: in-process servers on port 0 stopped by a oneshot, clients with auth, and condition waits with
//! deadlines (never sleep-and-hope).

#![allow(dead_code)] // each test binary uses a different part of the harness

pub mod redis;
pub mod stores;

use arc_swap::ArcSwap;
use commentguard::api::App;
use commentguard::clock::{Clock, SystemClock};
use commentguard::config::{Config, sha256_hex};
use commentguard::intake::Pseudonymizer;
use commentguard::pb::moderation_service_client::ModerationServiceClient;
use commentguard::pb::{self, review_service_client::ReviewServiceClient};
use commentguard::ratelimit::{Limiter, RateClock};
use commentguard::store::{Store, memory::MemoryStore};
use commentguard::tenants::Tenants;
use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::oneshot;
use tonic::transport::Channel;

/// API keys of the test sites: `key-<site>`.
pub fn key(site: &str) -> String {
    format!("key-{site}")
}

/// A config with sites `a` and `b`, optionally with extra TOML appended to site `a`'s policy table.
pub fn two_sites(policy_a: &str) -> Config {
    let text = format!(
        "[server]\nmetrics_listen = \"127.0.0.1:0\"\n\
         [[sites]]\nid = \"a\"\napi_key_sha256 = [\"{}\"]\n[sites.policy]\n{policy_a}\n\
         [[sites]]\nid = \"b\"\napi_key_sha256 = [\"{}\"]\n{}",
        sha256_hex(&key("a")),
        sha256_hex(&key("b")),
        moderators()
    );
    Config::from_toml(&text).expect("test config is valid")
}

/// Moderators of the test sites; each one's token is `token-<id>`.
pub const MODERATORS: [(&str, &str, &str); 3] =
    [("mod-a", "a", "moderator"), ("admin-a", "a", "admin"), ("mod-b", "b", "moderator")];

pub fn token(moderator: &str) -> String {
    format!("token-{moderator}")
}

fn moderators() -> String {
    MODERATORS
        .iter()
        .map(|(id, site, role)| {
            format!(
                "[[moderators]]\nid = \"{id}\"\ntoken_sha256 = \"{}\"\nsites = [\"{site}\"]\nrole = \"{role}\"\n",
                sha256_hex(&token(id))
            )
        })
        .collect()
}

pub struct TestServer {
    pub addr: SocketAddr,
    pub metrics_addr: SocketAddr,
    pub app: Arc<App>,
    shutdown: Option<oneshot::Sender<()>>,
    task: Option<tokio::task::JoinHandle<anyhow::Result<()>>>,
}

impl TestServer {
    pub async fn start(config: Config) -> TestServer {
        Self::start_with_store(config, Arc::new(MemoryStore::new(Arc::new(SystemClock)))).await
    }

    /// Rate limits, flood and surge control are off (bans apply): suites submit dozens of comments from one address
    /// within a second, which the default limits refuse. Tests of limits pass their own limiter to `start_limited`.
    pub async fn start_with_store(config: Config, store: Arc<dyn Store>) -> TestServer {
        let mut unlimited = config.clone();
        for site in &mut unlimited.sites {
            site.policy.rate_limits.enabled = false;
        }
        let keys = Pseudonymizer::new(b"test-secret");
        let limiter = Limiter::new(&unlimited, keys, RateClock::monotonic()).expect("limiter for a valid config");
        Self::start_limited(config, store, Arc::new(limiter)).await
    }

    /// A server with the test's own limiter (e.g. on governor's `FakeRelativeClock`).
    pub async fn start_limited(config: Config, store: Arc<dyn Store>, limiter: Arc<Limiter>) -> TestServer {
        let clock: Arc<dyn Clock> = Arc::new(SystemClock);
        let app = Arc::new(App {
            tenants: ArcSwap::from_pointee(Tenants::from_config(&config)),
            store,
            keys: Pseudonymizer::new(b"test-secret"),
            clock,
            limiter,
            models: Default::default(),
        });
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let metrics = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind metrics");
        let addr = listener.local_addr().expect("addr");
        let metrics_addr = metrics.local_addr().expect("metrics addr");
        let (tx, rx) = oneshot::channel::<()>();
        let server_app = app.clone();
        let task = tokio::spawn(async move {
            let shutdown = async move {
                let _ = rx.await;
            };
            commentguard::server::run(listener, Some(metrics), server_app, &config, shutdown).await
        });
        TestServer { addr, metrics_addr, app, shutdown: Some(tx), task: Some(task) }
    }

    pub async fn channel(&self) -> Channel {
        let url = format!("http://{}", self.addr);
        wait_for(Duration::from_secs(10), || async { Channel::from_shared(url.clone()).ok()?.connect().await.ok() })
            .await
            .expect("server accepts connections")
    }

    pub async fn moderation(&self) -> ModerationServiceClient<Channel> {
        ModerationServiceClient::new(self.channel().await)
    }

    pub async fn review(&self) -> ReviewServiceClient<Channel> {
        ReviewServiceClient::new(self.channel().await)
    }

    /// Signals shutdown (without waiting for the drain).
    pub fn begin_shutdown(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
    }

    /// Signals shutdown and waits until the server has drained and returned.
    pub async fn stop(mut self) -> anyhow::Result<()> {
        self.begin_shutdown();
        let task = self.task.take().expect("running");
        tokio::time::timeout(Duration::from_secs(10), task).await.expect("server stops within 10 s").expect("join")
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        self.begin_shutdown();
    }
}

/// Adds `authorization: Bearer <secret>`.
pub fn authed<T>(message: T, secret: &str) -> tonic::Request<T> {
    let mut req = tonic::Request::new(message);
    req.metadata_mut().insert("authorization", format!("Bearer {secret}").parse().expect("ascii metadata"));
    req
}

/// A valid submission with the given ids and body.
pub fn submission(comment_id: &str, body: &str) -> pb::SubmitCommentRequest {
    pb::SubmitCommentRequest {
        comment_id: comment_id.into(),
        thread_id: "thread-1".into(),
        author: Some(pb::Author {
            ip: "203.0.113.7".into(),
            email: "reader@example.com".into(),
            account_id: format!("acct-{comment_id}"),
            ..Default::default()
        }),
        body: body.into(),
        ..Default::default()
    }
}

/// Polls `probe` until it yields `Some` or the deadline passes.
pub async fn wait_for<T, F, Fut>(deadline: Duration, mut probe: F) -> Option<T>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Option<T>>,
{
    let until = Instant::now() + deadline;
    loop {
        if let Some(v) = probe().await {
            return Some(v);
        }
        if Instant::now() >= until {
            return None;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// The field names of an INVALID_ARGUMENT status's BadRequest details.
pub fn violated_fields(status: &tonic::Status) -> Vec<String> {
    use tonic_types::StatusExt;
    status
        .get_details_bad_request()
        .map(|b| b.field_violations.into_iter().map(|v| v.field).collect())
        .unwrap_or_default()
}

/// A memory store that pauses every submit until released, to hold a request in flight. Everything else is
/// delegated unchanged.
pub struct GatedStore {
    pub inner: MemoryStore,
    pub entered: tokio::sync::Notify,
    pub release: tokio::sync::Notify,
}

impl GatedStore {
    pub fn new(inner: MemoryStore) -> Self {
        GatedStore { inner, entered: tokio::sync::Notify::new(), release: tokio::sync::Notify::new() }
    }
}

mod gated {
    use super::GatedStore;
    use commentguard::domain::Context;
    use commentguard::store::learning::*;
    use commentguard::store::review::*;
    use commentguard::store::*;

    #[tonic::async_trait]
    impl Store for GatedStore {
        fn name(&self) -> &'static str {
            "gated"
        }
        async fn lookup(&self, s: &str, c: &str, b: &str) -> Result<Lookup, StoreError> {
            self.inner.lookup(s, c, b).await
        }
        async fn context(
            &self,
            s: &str,
            a: Option<&str>,
            i: &str,
            n: Option<&NearProbe>,
        ) -> Result<Context, StoreError> {
            self.inner.context(s, a, i, n).await
        }
        async fn submit(&self, s: &str, c: NewComment) -> Result<SubmitOutcome, StoreError> {
            self.entered.notify_one();
            self.release.notified().await;
            self.inner.submit(s, c).await
        }
        async fn get(&self, s: &str, c: &str) -> Result<Option<CommentRecord>, StoreError> {
            self.inner.get(s, c).await
        }
        async fn read_decisions(&self, s: &str, a: After, l: usize) -> Result<Vec<DecisionEvent>, ReadError> {
            self.inner.read_decisions(s, a, l).await
        }
        async fn ping(&self) -> Result<(), StoreError> {
            Ok(())
        }
        async fn latest_decision(&self, s: &str) -> Result<Option<StreamId>, StoreError> {
            self.inner.latest_decision(s).await
        }
        async fn wait_decisions(
            &self,
            s: &str,
            a: After,
            l: usize,
            b: std::time::Duration,
        ) -> Result<Vec<DecisionEvent>, ReadError> {
            self.inner.wait_decisions(s, a, l, b).await
        }
        async fn claim(&self, s: &str, r: ClaimRequest) -> Result<Vec<ReviewEntry>, StoreError> {
            self.inner.claim(s, r).await
        }
        async fn decide(&self, s: &str, r: DecideRequest) -> Result<DecideOutcome, StoreError> {
            self.inner.decide(s, r).await
        }
        async fn release(&self, s: &str, r: &str, t: &str) -> Result<ReleaseOutcome, StoreError> {
            self.inner.release(s, r, t).await
        }
        async fn list_queue(
            &self,
            s: &str,
            q: QueueKind,
            p: Option<&str>,
            n: usize,
            t: Option<&str>,
        ) -> Result<QueuePage, StoreError> {
            self.inner.list_queue(s, q, p, n, t).await
        }
        async fn queue_stats(&self, s: &str) -> Result<QueueStats, StoreError> {
            self.inner.queue_stats(s).await
        }
        async fn report(&self, s: &str, r: ReportRequest) -> Result<ReportOutcome, StoreError> {
            self.inner.report(s, r).await
        }
        async fn audit_log(&self, s: &str, l: usize) -> Result<Vec<AuditEntry>, StoreError> {
            self.inner.audit_log(s, l).await
        }
        async fn claim_feedback(&self, s: &str, c: &str, l: usize, i: u64) -> Result<Vec<FeedbackEntry>, StoreError> {
            self.inner.claim_feedback(s, c, l, i).await
        }
        async fn model_version(&self, s: &str) -> Result<u64, StoreError> {
            self.inner.model_version(s).await
        }
        async fn model_delta(&self, s: &str) -> Result<ModelDelta, StoreError> {
            self.inner.model_delta(s).await
        }
        async fn commit_model(&self, s: &str, c: ModelCommit) -> Result<CommitOutcome, StoreError> {
            self.inner.commit_model(s, c).await
        }
        async fn model_snapshots(&self, s: &str) -> Result<Vec<SnapshotInfo>, StoreError> {
            self.inner.model_snapshots(s).await
        }
        async fn revert_model(&self, s: &str, v: u64, k: usize) -> Result<RevertOutcome, StoreError> {
            self.inner.revert_model(s, v, k).await
        }
    }
}

/// Minimal HTTP/1.1 GET over a raw socket (no HTTP client dependency for the metrics checks).
pub async fn http_get(url: &str) -> Option<String> {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let rest = url.strip_prefix("http://")?;
    let (host, path) = rest.split_once('/')?;
    let mut stream = tokio::net::TcpStream::connect(host).await.ok()?;
    let req = format!("GET /{path} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n");
    stream.write_all(req.as_bytes()).await.ok()?;
    let mut out = String::new();
    stream.read_to_string(&mut out).await.ok()?;
    Some(out)
}

/// Seeded Fisher–Yates shuffle (splitmix64), so data splits are the same on every run and machine.
pub fn shuffle<T>(v: &mut [T], seed: u64) {
    let mut state = seed;
    let mut next = || {
        state = state.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = state;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    };
    for i in (1..v.len()).rev() {
        let j = (next() % (i as u64 + 1)) as usize;
        v.swap(i, j);
    }
}

/// Every rate limit off; a test switches on what it exercises.
const ALL_LIMITS_OFF: [(&str, &str); 6] = [
    ("flood_seconds", "0"),
    ("author", "{ per_minute = 0 }"),
    ("ip", "{ per_minute = 0 }"),
    ("thread", "{ per_minute = 0 }"),
    ("site", "{ per_minute = 0 }"),
    ("surge", "{ per_minute = 0 }"),
];

/// The lines of a `[sites.policy.rate_limits]` table: `limits`, and every limit it does not set switched off.
pub fn only_limits(limits: &str) -> String {
    let set = |key: &str| limits.lines().any(|l| l.split('=').next().is_some_and(|k| k.trim() == key));
    let off = ALL_LIMITS_OFF.iter().filter(|(k, _)| !set(k)).map(|(k, v)| format!("{k} = {v}\n"));
    format!("{}{limits}\n", off.collect::<String>())
}

//! Test harness: in-process servers on port 0 stopped by a oneshot, clients with auth, and condition waits with
//! deadlines (never sleep-and-hope).

#![allow(dead_code)] // each test binary uses a different part of the harness

pub mod data;
pub mod http;
pub mod redis;
pub mod serve;
pub mod stores;

use commentguard::app::App;
use commentguard::clock::SystemClock;
use commentguard::config::{Config, sha256_hex};
use commentguard::domain::{CommentRecord, Context};
use commentguard::pb::moderation_service_client::ModerationServiceClient;
use commentguard::pb::{self, review_service_client::ReviewServiceClient};
use commentguard::ratelimit::RateClock;
use commentguard::store::{
    CommentStore, Lookup, NewComment, Probe, Store, StoreError, Stores, SubmitOutcome, memory::MemoryStore,
};
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
    /// within a second, which the default limits refuse. Tests of limits use `start_limited`.
    pub async fn start_with_store(config: Config, store: Arc<dyn Store>) -> TestServer {
        Self::start_with_stores(config, Stores::of(store)).await
    }

    /// As `start_with_store`, with each role given (a test may put something in front of one).
    pub async fn start_with_stores(mut config: Config, store: Stores) -> TestServer {
        for site in &mut config.sites {
            site.policy.rate_limits.enabled = false;
        }
        Self::start_limited(config, store, RateClock::monotonic()).await
    }

    /// A server whose rate limits run as configured, on `rate_clock` (e.g. governor's `FakeRelativeClock`).
    pub async fn start_limited(config: Config, store: Stores, rate_clock: RateClock) -> TestServer {
        let app = App::assemble(&config, store, b"test-secret", Arc::new(SystemClock), rate_clock)
            .expect("an app for a valid config");
        let app = Arc::new(app);
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

/// The comment role of a memory store, pausing every submit until released, to hold a request in flight. The other
/// roles are the memory store's own (see `TestServer::start_with_stores`).
pub struct GatedStore {
    pub inner: Arc<MemoryStore>,
    pub entered: tokio::sync::Notify,
    pub release: tokio::sync::Notify,
}

impl GatedStore {
    pub fn new(inner: Arc<MemoryStore>) -> Self {
        GatedStore { inner, entered: tokio::sync::Notify::new(), release: tokio::sync::Notify::new() }
    }

    /// The memory store's roles with this gate in front of its comments.
    pub fn stores(self: &Arc<Self>) -> Stores {
        Stores { comments: self.clone(), ..Stores::of(self.inner.clone()) }
    }
}

#[tonic::async_trait]
impl CommentStore for GatedStore {
    fn name(&self) -> &'static str {
        "gated"
    }
    async fn ping(&self) -> Result<(), StoreError> {
        Ok(())
    }
    async fn prepare(&self, site: &str, probe: Probe<'_>) -> Result<(Lookup, Context), StoreError> {
        self.inner.prepare(site, probe).await
    }
    async fn submit(&self, site: &str, comment: NewComment) -> Result<SubmitOutcome, StoreError> {
        self.entered.notify_one();
        self.release.notified().await;
        self.inner.submit(site, comment).await
    }
    async fn get(&self, site: &str, comment_id: &str) -> Result<Option<CommentRecord>, StoreError> {
        self.inner.get(site, comment_id).await
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

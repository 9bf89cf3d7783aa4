//! Signed webhooks against a local receiver (a hyper server on a loopback port): the signature verifies with the
//! README's algorithm (recomputed here with `hmac`, not the service's code); a receiver that is down — refusing
//! connections, then answering 503 — gets every event afterwards, in order, none lost, with backoff between
//! attempts; a restarted service resumes from the cursor persisted in Redis; two replicas deliver each event once;
//! `max_attempts` suspends a site's delivery without moving its cursor.

mod common;

use commentguard::clock::SystemClock;
use commentguard::config::Config;
use commentguard::store::redis::{Durability, RedisOptions, RedisStore};
use commentguard::store::{After, Stores, StreamId, memory::MemoryStore};
use common::http::HttpServer;
use common::redis::TestRedis;
use common::{authed, key, submission, two_sites, wait_for};
use hmac::{Hmac, Mac};
use http_body_util::{BodyExt, Full};
use hyper::body::Bytes;
use parking_lot::Mutex;
use sha2::Sha256;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};
use tokio::net::TcpListener;

const SECRET: &str = "whsec_test_0123456789abcdef";

/// One POST the receiver took (answered 2xx).
#[derive(Debug, Clone)]
struct Delivery {
    signature: String,
    site: String,
    delivery: String,
    body: Vec<u8>,
}

#[derive(Debug, Default)]
struct Log {
    /// When each POST arrived, taken or not.
    attempts: Vec<Instant>,
    accepted: Vec<Delivery>,
    /// Answer 503 to this many more POSTs.
    refuse: usize,
    /// Down: every connection is closed as soon as it is accepted (the client sees it reset or ended).
    down: bool,
    /// Connections closed that way.
    dropped: usize,
    /// TLS handshakes that failed (the client refused the receiver's certificate).
    tls_refused: usize,
}

/// A connection's byte stream, plain or TLS.
trait Io: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send {}
impl<T: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send> Io for T {}

/// A webhook receiver on a loopback port that can be down (closing every connection at once) for a while.
struct Receiver {
    addr: SocketAddr,
    log: Arc<Mutex<Log>>,
    server: Option<tokio::task::JoinHandle<()>>,
    /// Serves HTTPS with this certificate (for `localhost`).
    tls: Option<tokio_rustls::TlsAcceptor>,
}

impl Receiver {
    async fn start() -> Receiver {
        Receiver::start_with(None).await
    }

    async fn start_with(tls: Option<tokio_rustls::TlsAcceptor>) -> Receiver {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind receiver");
        let addr = listener.local_addr().expect("addr");
        let mut r = Receiver { addr, log: Arc::default(), server: None, tls };
        r.serve(listener);
        r
    }

    fn serve(&mut self, listener: TcpListener) {
        let log = self.log.clone();
        let tls = self.tls.clone();
        self.server = Some(tokio::spawn(async move {
            // Connection tasks live in the set, so going down closes them too (no keep-alive connection survives).
            let mut connections = tokio::task::JoinSet::new();
            loop {
                let Ok((stream, _)) = listener.accept().await else { continue };
                {
                    let mut log = log.lock();
                    if log.down {
                        log.dropped += 1;
                        continue;
                    }
                }
                let (tls, refused) = (tls.clone(), log.clone());
                let log = log.clone();
                let service = hyper::service::service_fn(move |req: hyper::Request<hyper::body::Incoming>| {
                    let log = log.clone();
                    async move {
                        let header = |name: &str| {
                            req.headers().get(name).and_then(|v| v.to_str().ok()).unwrap_or_default().to_string()
                        };
                        let (signature, site, delivery) = (
                            header("x-commentguard-signature"),
                            header("x-commentguard-site"),
                            header("x-commentguard-delivery"),
                        );
                        let body = req.into_body().collect().await.map(|b| b.to_bytes().to_vec()).unwrap_or_default();
                        let mut log = log.lock();
                        log.attempts.push(Instant::now());
                        let status = if log.refuse > 0 {
                            log.refuse -= 1;
                            503
                        } else {
                            log.accepted.push(Delivery { signature, site, delivery, body });
                            200
                        };
                        hyper::Response::builder().status(status).body(Full::new(Bytes::from_static(b"ok")))
                    }
                });
                connections.spawn(async move {
                    let io: Box<dyn Io> = match tls {
                        None => Box::new(stream),
                        Some(acceptor) => match acceptor.accept(stream).await {
                            Ok(stream) => Box::new(stream),
                            Err(_) => {
                                refused.lock().tls_refused += 1;
                                return;
                            }
                        },
                    };
                    let io = hyper_util::rt::TokioIo::new(io);
                    let _ = hyper::server::conn::http1::Builder::new().serve_connection(io, service).await;
                });
            }
        }));
    }

    fn stop(&mut self) {
        if let Some(server) = self.server.take() {
            server.abort();
        }
    }

    fn url(&self) -> String {
        match self.tls {
            Some(_) => format!("https://localhost:{}/hook", self.addr.port()),
            None => format!("http://{}/hook", self.addr),
        }
    }

    fn accepted(&self) -> Vec<Delivery> {
        self.log.lock().accepted.clone()
    }

    /// The comment ids of every accepted event, in arrival order (duplicates kept).
    fn comment_ids(&self) -> Vec<String> {
        self.accepted().iter().flat_map(|d| events(d).into_iter().map(|e| e.0)).collect()
    }

    /// Waits until `n` events were accepted.
    async fn wait_events(&self, n: usize, within: Duration) -> Vec<String> {
        wait_for(within, || async {
            let ids = self.comment_ids();
            (ids.len() >= n).then_some(ids)
        })
        .await
        .unwrap_or_else(|| panic!("{n} events within {within:?}; got {:?}", self.comment_ids()))
    }
}

impl Drop for Receiver {
    fn drop(&mut self) {
        self.stop();
    }
}

/// `(comment_id, cursor)` of a delivery's events, and checks the batch's own consistency.
fn events(d: &Delivery) -> Vec<(String, String)> {
    let body: serde_json::Value = serde_json::from_slice(&d.body).expect("a JSON body");
    let events: Vec<(String, String)> = body["events"]
        .as_array()
        .expect("events")
        .iter()
        .map(|e| (e["commentId"].as_str().expect("id").to_string(), e["cursor"].as_str().expect("cursor").to_string()))
        .collect();
    let last = events.last().map(|e| e.1.clone()).expect("a batch is never empty");
    assert_eq!(body["nextCursor"], last.as_str(), "nextCursor is the batch's last cursor");
    assert_eq!(d.delivery, last, "X-Commentguard-Delivery names the batch by its last cursor");
    events
}

/// The README's verification, written from its words: HMAC-SHA256 with the secret over `"<t>.<raw body>"`, hex,
/// compared in constant time; `t` within 5 minutes.
fn verifies(signature: &str, body: &[u8], secret: &str) -> bool {
    let mut t = None;
    let mut v1 = Vec::new();
    for part in signature.split(',') {
        match part.split_once('=') {
            Some(("t", value)) => t = value.parse::<u64>().ok(),
            Some(("v1", value)) => v1.push(value.to_string()),
            _ => {}
        }
    }
    let Some(t) = t else { return false };
    let now = SystemTime::now().duration_since(UNIX_EPOCH).expect("clock").as_secs();
    if t.abs_diff(now) > 300 {
        return false;
    }
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).expect("key");
    mac.update(format!("{t}.").as_bytes());
    mac.update(body);
    v1.iter().any(|sig| hex::decode(sig).is_ok_and(|sig| mac.clone().verify_slice(&sig).is_ok()))
}

/// Sites `a` (with the webhook) and `b` (without).
fn config(url: &str, extra: &str) -> Config {
    two_sites(&format!(
        "suspect_words = [\"hold\"]\n[sites.webhook]\nurl = \"{url}\"\nsecret = \"{SECRET}\"\ntimeout_ms = 2000\n{extra}"
    ))
}

fn memory() -> Stores {
    Stores::of(Arc::new(MemoryStore::new(Arc::new(SystemClock))))
}

fn redis_stores(redis: &TestRedis) -> Stores {
    let options = RedisOptions { url: redis.url(), timeout: Duration::from_secs(2), durability: Durability::Primary };
    Stores::of(Arc::new(RedisStore::connect(&options, Arc::new(SystemClock)).expect("connect")))
}

/// Waits until site `a`'s webhook cursor is saved (its first run starts after the newest event): comments submitted
/// from then on are the webhook's.
async fn webhook_started(server: &HttpServer) -> Option<StreamId> {
    let state = server.app.store.webhooks.clone();
    wait_for(Duration::from_secs(20), || {
        let state = state.clone();
        async move { state.webhook_cursor("a").await.ok().flatten().map(Some) }
    })
    .await
    .expect("the webhook starts and saves its cursor")
}

/// Every event of site `a` in the store, oldest first.
async fn stream_ids(server: &HttpServer) -> Vec<String> {
    let page = server.app.store.decisions.read_decisions("a", After::Start, 1000).await.expect("read decisions");
    page.into_iter().map(|e| e.comment_id).collect()
}

async fn submit_all(server: &HttpServer, ids: impl IntoIterator<Item = String>) {
    let mut client = server.moderation().await;
    for id in ids {
        let body = format!("comment {id}");
        client.submit_comment(authed(submission(&id, &body), &key("a"))).await.expect("accepted");
    }
}

#[tokio::test]
async fn deliveries_are_signed_batched_and_in_order() {
    let receiver = Receiver::start().await;
    let server = HttpServer::start(config(&receiver.url(), "max_batch = 3"), memory()).await;
    webhook_started(&server).await;
    let ids: Vec<String> = (0..10).map(|i| format!("s-{i}")).collect();
    submit_all(&server, ids.clone()).await;
    // Site b has no webhook: its comments reach nobody.
    let mut client = server.moderation().await;
    client.submit_comment(authed(submission("b-1", "site b"), &key("b"))).await.expect("accepted");

    assert_eq!(receiver.wait_events(10, Duration::from_secs(20)).await, ids, "every event, in order, once");
    for d in receiver.accepted() {
        assert!(verifies(&d.signature, &d.body, SECRET), "signature {:?} verifies", d.signature);
        assert!(!verifies(&d.signature, &d.body, "another-secret-0123456789"), "and only with the secret");
        let mut tampered = d.body.clone();
        tampered.push(b' ');
        assert!(!verifies(&d.signature, &tampered, SECRET), "and only for these bytes");
        assert_eq!(d.site, "a");
        assert!((1..=3).contains(&events(&d).len()), "max_batch");
    }
    // The events are the decision stream's, field for field as ListDecisions gives them.
    let first: serde_json::Value = serde_json::from_slice(&receiver.accepted()[0].body).expect("json");
    assert_eq!(first["events"][0]["verdict"], "VERDICT_APPROVED");
    assert_eq!(first["events"][0]["source"], "DECISION_SOURCE_AUTOMATIC");
    assert_eq!(first["events"][0]["threadId"], "thread-1");
    // The delivered cursor is saved.
    let last = receiver.accepted().last().map(|d| d.delivery.clone()).expect("deliveries");
    let saved = wait_for(Duration::from_secs(10), || async {
        let c = server.app.store.webhooks.webhook_cursor("a").await.ok().flatten()?;
        (c.to_string() == last).then_some(c)
    });
    assert!(saved.await.is_some(), "cursor {last} saved");
    server.stop().await;
}

#[tokio::test]
async fn a_receiver_down_for_a_while_gets_every_event_afterwards_in_order() {
    // Backoff in test time: 20 ms doubling to 320 ms (in production seconds to minutes; the logic is the same).
    let receiver = Receiver::start().await;
    receiver.log.lock().down = true;
    let extra = "initial_backoff_ms = 20\nmax_backoff_ms = 320\nmax_batch = 4";
    let server = HttpServer::start(config(&receiver.url(), extra), memory()).await;
    webhook_started(&server).await;
    let first: Vec<String> = (0..6).map(|i| format!("d-{i}")).collect();
    submit_all(&server, first.clone()).await;
    // Down (every connection dropped) for 6 attempts while deliveries pile up; then up but answering 503 to the
    // next 6 POSTs.
    let dropped = wait_for(Duration::from_secs(20), || async { (receiver.log.lock().dropped >= 6).then_some(()) });
    assert!(dropped.await.is_some(), "the deliverer kept trying while the receiver was down");
    {
        let mut log = receiver.log.lock();
        log.refuse = 6;
        log.down = false;
    }
    let second: Vec<String> = (6..14).map(|i| format!("d-{i}")).collect();
    submit_all(&server, second.clone()).await;
    let all: Vec<String> = first.iter().chain(&second).cloned().collect();

    let got = receiver.wait_events(all.len(), Duration::from_secs(30)).await;
    assert_eq!(got, all, "every event, in order, none lost, none twice");
    assert_eq!(stream_ids(&server).await, all, "exactly the site's decision stream");
    // The 503s were retried with backoff: the gaps between refused attempts grow to the cap (equal jitter: at least
    // half of it) and never exceed it by much.
    let attempts = receiver.log.lock().attempts.clone();
    assert!(attempts.len() >= 7, "6 refused + the accepted ones: {}", attempts.len());
    let gaps: Vec<Duration> = attempts.windows(2).take(6).map(|w| w[1] - w[0]).collect();
    for gap in &gaps {
        assert!(*gap >= Duration::from_millis(150), "a retry waited at least half the cap: {gaps:?}");
        assert!(*gap < Duration::from_millis(2500), "and not much beyond it: {gaps:?}");
    }
    server.stop().await;
}

#[tokio::test]
async fn a_receiver_down_for_thirty_seconds_gets_every_event_afterwards_in_order() {
    // The case in wall time: the receiver drops every connection for 30 s while comments keep coming, with
    // the backoff capped at 1 s so the deliverer keeps knocking; once it is back, everything arrives, in order, once.
    let receiver = Receiver::start().await;
    receiver.log.lock().down = true;
    let went_down = Instant::now();
    let extra = "initial_backoff_ms = 100\nmax_backoff_ms = 1000\nmax_batch = 5";
    let server = HttpServer::start(config(&receiver.url(), extra), memory()).await;
    webhook_started(&server).await;
    let mut all = Vec::new();
    for round in 0..3 {
        let ids: Vec<String> = (0..4).map(|i| format!("down-{round}-{i}")).collect();
        submit_all(&server, ids.clone()).await;
        all.extend(ids);
        let tried = wait_for(Duration::from_secs(20), || async {
            (receiver.log.lock().dropped >= 2 * (round + 1)).then_some(())
        });
        assert!(tried.await.is_some(), "the deliverer kept trying while the receiver was down");
    }
    // Waiting for time itself to pass is the point of this test: the outage lasts 30 s.
    let outage = Duration::from_secs(30);
    if let Some(rest) = outage.checked_sub(went_down.elapsed()) {
        tokio::time::sleep(rest).await;
    }
    assert!(receiver.log.lock().dropped >= 10, "retries continued through the outage");
    receiver.log.lock().down = false;
    let got = receiver.wait_events(all.len(), Duration::from_secs(20)).await;
    assert_eq!(got, all, "every event, in order, none lost, none twice");
    server.stop().await;
}

#[tokio::test]
async fn backoff_doubles_from_the_first_failure() {
    let receiver = Receiver::start().await;
    receiver.log.lock().refuse = 5;
    let server =
        HttpServer::start(config(&receiver.url(), "initial_backoff_ms = 40\nmax_backoff_ms = 5000"), memory()).await;
    webhook_started(&server).await;
    submit_all(&server, ["x-1".to_string()]).await;
    assert_eq!(receiver.wait_events(1, Duration::from_secs(20)).await, ["x-1"]);
    let attempts = receiver.log.lock().attempts.clone();
    assert_eq!(attempts.len(), 6, "5 refused, then taken");
    for (i, w) in attempts.windows(2).enumerate() {
        // Retry i+1 waits initial · 2^i with equal jitter: at least half of it.
        let floor = Duration::from_millis(40 * (1 << i) / 2);
        assert!(w[1] - w[0] >= floor, "retry {}: {:?} < {floor:?}", i + 1, w[1] - w[0]);
    }
    server.stop().await;
}

#[tokio::test]
async fn max_attempts_suspends_delivery_and_keeps_the_cursor() {
    let receiver = Receiver::start().await;
    receiver.log.lock().refuse = usize::MAX;
    let extra = "initial_backoff_ms = 5\nmax_backoff_ms = 20\nmax_attempts = 3";
    let server = HttpServer::start(config(&receiver.url(), extra), memory()).await;
    let start = webhook_started(&server).await;
    submit_all(&server, ["m-1".to_string()]).await;
    // Suspension gives the lease back: once another owner can take it, the deliverer has stopped for good.
    let state = server.app.store.webhooks.clone();
    let released = wait_for(Duration::from_secs(20), || async {
        state.webhook_lease("a", "probe", Duration::from_millis(1)).await.ok().filter(|taken| *taken)
    });
    assert!(released.await.is_some(), "the lease is released on suspension");
    assert_eq!(receiver.log.lock().attempts.len(), 3, "exactly max_attempts attempts");
    assert_eq!(state.webhook_cursor("a").await.expect("cursor"), start, "nothing marked delivered");
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn replicas_deliver_once_and_a_restart_resumes_from_the_saved_cursor() {
    let redis = TestRedis::start();
    let receiver = Receiver::start().await;
    let hook = config(&receiver.url(), "initial_backoff_ms = 20\nmax_backoff_ms = 200");
    // Two replicas on one Redis: the lease makes one of them the site's deliverer.
    let one = HttpServer::start(hook.clone(), redis_stores(&redis)).await;
    let two = HttpServer::start(hook.clone(), redis_stores(&redis)).await;
    webhook_started(&one).await;
    let first: Vec<String> = (0..10).map(|i| format!("r-{i}")).collect();
    for (i, id) in first.iter().enumerate() {
        submit_all(if i % 2 == 0 { &one } else { &two }, [id.clone()]).await;
    }
    assert_eq!(receiver.wait_events(10, Duration::from_secs(30)).await, first, "each event once, in order");
    let last = receiver.accepted().last().map(|d| d.delivery.clone()).expect("delivered");
    wait_for(Duration::from_secs(10), || async {
        let c = one.app.store.webhooks.webhook_cursor("a").await.ok().flatten()?;
        (c.to_string() == last).then_some(())
    })
    .await
    .expect("the cursor is saved");
    one.stop().await;
    two.stop().await;

    // Decisions made while no deliverer runs (a replica without the webhook table) wait in the stream.
    let plain = HttpServer::start(two_sites("suspect_words = [\"hold\"]"), redis_stores(&redis)).await;
    let second: Vec<String> = (10..15).map(|i| format!("r-{i}")).collect();
    submit_all(&plain, second.clone()).await;
    plain.stop().await;

    // A restarted service resumes from the saved cursor: the rest, and nothing before it again.
    let restarted = HttpServer::start(hook, redis_stores(&redis)).await;
    let all: Vec<String> = first.iter().chain(&second).cloned().collect();
    assert_eq!(receiver.wait_events(15, Duration::from_secs(30)).await, all);
    assert_eq!(stream_ids(&restarted).await, all);
    restarted.stop().await;
    // At least once allows duplicates after a crash between an answer and the save; these stops were clean.
    assert_eq!(receiver.comment_ids().len(), 15, "no event twice");
}

/// A CA (its PEM) and a TLS acceptor serving a certificate for `localhost` that it signed.
fn localhost_tls() -> (String, tokio_rustls::TlsAcceptor) {
    use rcgen::{BasicConstraints, CertificateParams, IsCa, Issuer, KeyPair};
    let ca_key = KeyPair::generate().expect("CA key");
    let mut ca_params = CertificateParams::new(Vec::<String>::new()).expect("CA params");
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    let ca = ca_params.self_signed(&ca_key).expect("CA certificate");
    let issuer = Issuer::new(ca_params, ca_key);
    let leaf_key = KeyPair::generate().expect("leaf key");
    let leaf = CertificateParams::new(vec!["localhost".to_string()])
        .expect("leaf params")
        .signed_by(&leaf_key, &issuer)
        .expect("leaf certificate");
    let key = rustls::pki_types::PrivateKeyDer::Pkcs8(leaf_key.serialize_der().into());
    let config = rustls::ServerConfig::builder_with_provider(Arc::new(rustls::crypto::ring::default_provider()))
        .with_safe_default_protocol_versions()
        .expect("protocols")
        .with_no_client_auth()
        .with_single_cert(vec![leaf.der().clone()], key)
        .expect("server config");
    (ca.pem(), tokio_rustls::TlsAcceptor::from(Arc::new(config)))
}

#[tokio::test]
async fn https_deliveries_verify_the_receivers_certificate_and_refuse_an_untrusted_one() {
    let (ca_pem, acceptor) = localhost_tls();
    let dir = tempfile::tempdir().expect("tempdir");
    let ca_file = dir.path().join("ca.pem");
    std::fs::write(&ca_file, ca_pem).expect("write CA");
    let ca_line = format!("ca_file = {:?}", ca_file.display().to_string());

    // Trusted through ca_file, for the name in the url: delivered, signed, in order.
    let receiver = Receiver::start_with(Some(acceptor.clone())).await;
    let server = HttpServer::start(config(&receiver.url(), &ca_line), memory()).await;
    webhook_started(&server).await;
    let ids: Vec<String> = (0..5).map(|i| format!("tls-{i}")).collect();
    submit_all(&server, ids.clone()).await;
    assert_eq!(receiver.wait_events(5, Duration::from_secs(20)).await, ids, "every event over HTTPS, in order");
    assert!(receiver.accepted().iter().all(|d| verifies(&d.signature, &d.body, SECRET)));
    assert_eq!(receiver.log.lock().tls_refused, 0);
    server.stop().await;

    // The same certificate is not trusted without ca_file (Mozilla roots only), nor for another name than its own
    // (127.0.0.1): the handshake fails, nothing is delivered, the cursor stays.
    let by_ip = |r: &Receiver| format!("https://127.0.0.1:{}/hook", r.addr.port());
    for (name, url_of, extra) in [
        ("without ca_file", Receiver::url as fn(&Receiver) -> String, String::new()),
        ("for another name", by_ip, ca_line.clone()),
    ] {
        let receiver = Receiver::start_with(Some(acceptor.clone())).await;
        let server = HttpServer::start(config(&url_of(&receiver), &extra), memory()).await;
        let cursor = webhook_started(&server).await;
        submit_all(&server, ["untrusted-1".to_string()]).await;
        let refused =
            wait_for(Duration::from_secs(20), || async { (receiver.log.lock().tls_refused > 0).then_some(()) });
        assert!(refused.await.is_some(), "{name}: the deliverer refuses the receiver's certificate");
        assert!(receiver.accepted().is_empty(), "{name}: nothing delivered");
        let saved = server.app.store.webhooks.webhook_cursor("a").await.expect("cursor read");
        assert_eq!(saved, cursor, "{name}: the cursor does not move past undelivered events");
        server.stop().await;
    }
}

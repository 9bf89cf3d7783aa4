//! The HTTP/JSON door in tests: a server with every listener on port 0 (`server::serve`), and a plain HTTP/1.1
//! client over a raw socket, so what is tested is the bytes a PHP host would send and read.

use commentguard::app::App;
use commentguard::clock::SystemClock;
use commentguard::config::Config;
use commentguard::ratelimit::RateClock;
use commentguard::server::Listeners;
use commentguard::store::Stores;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::oneshot;

/// A server with the gRPC port, the HTTP/JSON door and the moderator console open.
pub struct HttpServer {
    pub grpc: SocketAddr,
    pub http: SocketAddr,
    pub console: SocketAddr,
    pub app: Arc<App>,
    shutdown: Option<oneshot::Sender<()>>,
    task: Option<tokio::task::JoinHandle<anyhow::Result<()>>>,
}

impl HttpServer {
    /// Rate limits off (as `TestServer::start`), so suites may submit quickly from one address.
    pub async fn start(mut config: Config, stores: Stores) -> HttpServer {
        for site in &mut config.sites {
            site.policy.rate_limits.enabled = false;
        }
        Self::start_limited(config, stores, RateClock::monotonic()).await
    }

    /// Limits as configured.
    pub async fn start_limited(config: Config, stores: Stores, rate_clock: RateClock) -> HttpServer {
        // As `serve` does: the first request must not pay for building the detectors' tables (seconds in a debug
        // build, past the timeouts of the PHP client and the browser test).
        tokio::task::spawn_blocking(commentguard::analysis::warm_up).await.expect("warm-up");
        let app = App::assemble(&config, stores, b"test-secret", Arc::new(SystemClock), rate_clock)
            .expect("an app for a valid config");
        let app = Arc::new(app);
        let grpc = TcpListener::bind("127.0.0.1:0").await.expect("bind grpc");
        let http = TcpListener::bind("127.0.0.1:0").await.expect("bind http");
        let console = TcpListener::bind("127.0.0.1:0").await.expect("bind console");
        let (grpc_addr, http_addr) = (grpc.local_addr().expect("addr"), http.local_addr().expect("addr"));
        let console_addr = console.local_addr().expect("addr");
        let (tx, rx) = oneshot::channel::<()>();
        let server_app = app.clone();
        let task = tokio::spawn(async move {
            let listeners = Listeners { grpc, metrics: None, http: Some(http), console: Some(console) };
            commentguard::server::serve(listeners, server_app, &config, async move {
                let _ = rx.await;
            })
            .await
        });
        HttpServer {
            grpc: grpc_addr,
            http: http_addr,
            console: console_addr,
            app,
            shutdown: Some(tx),
            task: Some(task),
        }
    }

    pub async fn moderation(
        &self,
    ) -> commentguard::pb::moderation_service_client::ModerationServiceClient<tonic::transport::Channel> {
        let url = format!("http://{}", self.grpc);
        let channel = super::wait_for(Duration::from_secs(10), || async {
            tonic::transport::Channel::from_shared(url.clone()).ok()?.connect().await.ok()
        })
        .await
        .expect("server accepts connections");
        commentguard::pb::moderation_service_client::ModerationServiceClient::new(channel)
    }

    /// Signals shutdown and waits until the server has drained and returned.
    pub async fn stop(mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        let task = self.task.take().expect("running");
        tokio::time::timeout(Duration::from_secs(15), task)
            .await
            .expect("server stops within 15 s")
            .expect("join")
            .expect("server ran cleanly");
    }
}

impl Drop for HttpServer {
    fn drop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
    }
}

/// An HTTP answer as read off the socket.
#[derive(Debug)]
pub struct Answer {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: String,
}

impl Answer {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(n, _)| n.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
    }

    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.body).unwrap_or_else(|e| panic!("not JSON ({e}): {}", self.body))
    }
}

/// Sends one request (`Connection: close`) and reads the whole answer, within 10 s.
pub async fn request(addr: SocketAddr, method: &str, path: &str, key: Option<&str>, body: Option<&str>) -> Answer {
    let mut head = format!("{method} {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n");
    if let Some(key) = key {
        head.push_str(&format!("Authorization: Bearer {key}\r\n"));
    }
    if let Some(body) = body {
        head.push_str(&format!("Content-Type: application/json\r\nContent-Length: {}\r\n", body.len()));
    }
    head.push_str("\r\n");
    head.push_str(body.unwrap_or_default());
    raw(addr, head.as_bytes()).await
}

/// Writes `bytes` as they are and reads the answer until the server closes (10 s at most).
pub async fn raw(addr: SocketAddr, bytes: &[u8]) -> Answer {
    let mut stream = TcpStream::connect(addr).await.expect("connect to the HTTP door");
    stream.write_all(bytes).await.expect("write request");
    read_answer(&mut stream).await
}

/// Reads one answer from `stream` (the server closes after it, or it carries a Content-Length).
pub async fn read_answer(stream: &mut TcpStream) -> Answer {
    let mut buf = Vec::new();
    let read = async {
        let mut chunk = [0u8; 8192];
        loop {
            if let Some(answer) = parse(&buf) {
                return answer;
            }
            let n = stream.read(&mut chunk).await.expect("read answer");
            assert!(
                n > 0 || parse(&buf).is_some(),
                "connection closed mid-answer: {:?}",
                String::from_utf8_lossy(&buf)
            );
            buf.extend_from_slice(&chunk[..n]);
        }
    };
    tokio::time::timeout(Duration::from_secs(10), read).await.expect("an answer within 10 s")
}

/// A complete answer in `buf` (head plus Content-Length bytes of body), if there is one yet.
fn parse(buf: &[u8]) -> Option<Answer> {
    let text = std::str::from_utf8(buf).ok()?;
    let (head, body) = text.split_once("\r\n\r\n")?;
    let mut lines = head.split("\r\n");
    let status = lines.next()?.split(' ').nth(1)?.parse().ok()?;
    let headers: Vec<(String, String)> =
        lines.filter_map(|l| l.split_once(':')).map(|(n, v)| (n.trim().to_string(), v.trim().to_string())).collect();
    let length: usize = headers
        .iter()
        .find(|(n, _)| n.eq_ignore_ascii_case("content-length"))
        .and_then(|(_, v)| v.parse().ok())
        .unwrap_or(0);
    (body.len() >= length).then(|| Answer { status, headers, body: body[..length].to_string() })
}

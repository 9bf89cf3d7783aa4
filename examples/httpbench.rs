//! SubmitComment over the HTTP/JSON door vs over gRPC, in the same run, against one in-process server:
//!
//! ```sh
//! cargo run --release --example httpbench -- --clients 16 --duration 5
//! ```
//!
//! The server (memory store unless `--redis-url`, rate limits off) listens on loopback ports 0 for gRPC and HTTP.
//! Phases alternate gRPC, HTTP, gRPC, HTTP (each `--duration` seconds after a warmup), so drift on a shared machine
//! hits both; the report gives each transport's throughput and latency percentiles, and HTTP's throughput relative
//! to gRPC's. Closed loop: each client sends its next comment when the previous one answered. gRPC clients share
//! `--connections` HTTP/2 connections; each HTTP client has its own keep-alive HTTP/1.1 connection (PHP's curl
//! keeps one per process). Client and server share the machine's cores, as they do in any single-box test.
//!
//! Safety: only the in-process server on 127.0.0.1 is contacted; the run stops by itself.

use anyhow::Context as _;
use clap::Parser;
use commentguard::app::App;
use commentguard::clock::{Clock, SystemClock};
use commentguard::config::{Config, sha256_hex};
use commentguard::pb::{self, moderation_service_client::ModerationServiceClient};
use commentguard::server::Listeners;
use commentguard::store::redis::{Durability, RedisOptions, RedisStore};
use commentguard::store::{Store, Stores, memory::MemoryStore};
use hdrhistogram::Histogram;
use http_body_util::{BodyExt, Full};
use hyper::body::Bytes;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};
use tonic::transport::Channel;

const KEY: &str = "bench-site-key";

#[derive(Debug, Parser)]
#[command(name = "httpbench", about = "SubmitComment throughput: HTTP/JSON door vs gRPC, same server, same run")]
struct Args {
    /// Concurrent clients per phase.
    #[arg(long, default_value_t = 16, value_parser = clap::value_parser!(u32).range(1..=1024))]
    clients: u32,
    /// Measured seconds per phase (two phases per transport).
    #[arg(long, default_value_t = 5, value_parser = clap::value_parser!(u64).range(1..=600))]
    duration: u64,
    /// Unmeasured seconds before each phase.
    #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u64).range(0..=60))]
    warmup: u64,
    /// HTTP/2 connections the gRPC clients share.
    #[arg(long, default_value_t = 4, value_parser = clap::value_parser!(u32).range(1..=256))]
    connections: u32,
    /// Use this Redis instead of the memory store (loopback only).
    #[arg(long)]
    redis_url: Option<String>,
}

const BODIES: [&str; 6] = [
    "Great reporting, thank you! The numbers in the second chart surprised me.",
    "Bohat acha likha hai, shukriya. Agli dafa budget par bhi likhiye.",
    "یہ مضمون بہت اچھا ہے، شکریہ۔ مزید تفصیل کا انتظار رہے گا۔",
    "Call me on 0300 1234567 or write to someone@example.com for the details.",
    "I disagree with the conclusion: the survey only covered three cities, which is hardly representative.",
    "Visit a.example b.example c.example d.example for cheap deals now!!!",
];

/// A unique submission; the same fields for both transports.
struct Comment {
    id: String,
    ip: String,
    account: String,
    body: &'static str,
}

fn comment(n: u64) -> Comment {
    Comment {
        id: format!("bench-{n}"),
        ip: format!("198.51.{}.{}", (n / 250) % 250, n % 250 + 1),
        account: format!("acct-{}", n % 5000),
        body: BODIES[(n % BODIES.len() as u64) as usize],
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Transport {
    Grpc,
    Http,
}

struct Phase {
    ok: u64,
    failed: u64,
    secs: f64,
    latency: Histogram<u64>,
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let config = Config::from_toml(&format!(
        "[server]\nmetrics_listen = \"\"\n[[sites]]\nid = \"bench\"\napi_key_sha256 = [\"{}\"]\n\
         [sites.policy.rate_limits]\nenabled = false\n",
        sha256_hex(KEY)
    ))?;
    let clock: Arc<dyn Clock> = Arc::new(SystemClock);
    let store: Arc<dyn Store> = match &args.redis_url {
        Some(url) => {
            anyhow::ensure!(url.contains("127.0.0.1") || url.contains("localhost"), "--redis-url must be loopback");
            let options =
                RedisOptions { url: url.clone(), timeout: Duration::from_secs(5), durability: Durability::Primary };
            Arc::new(RedisStore::connect(&options, clock.clone())?)
        }
        None => Arc::new(MemoryStore::new(clock.clone())),
    };
    let app = Arc::new(App::assemble(
        &config,
        Stores::of(store),
        b"bench",
        clock,
        commentguard::ratelimit::RateClock::monotonic(),
    )?);
    commentguard::analysis::pii::warm_up();
    commentguard::analysis::spam::warm_up();
    let grpc = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let http = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let (grpc_addr, http_addr) = (grpc.local_addr()?, http.local_addr()?);
    let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(async move {
        let listeners = Listeners { grpc, metrics: None, http: Some(http), console: None };
        commentguard::server::serve(listeners, app, &config, async {
            let _ = stop_rx.await;
        })
        .await
    });

    let mut channels = Vec::new();
    for _ in 0..args.connections {
        channels.push(Channel::from_shared(format!("http://{grpc_addr}"))?.connect().await.context("gRPC connect")?);
    }
    let next = Arc::new(AtomicU64::new(0));
    let mut results: Vec<(Transport, Phase)> = Vec::new();
    for transport in [Transport::Grpc, Transport::Http, Transport::Grpc, Transport::Http] {
        let phase = run_phase(transport, &args, &channels, http_addr, next.clone()).await?;
        println!(
            "{transport:?}: {:.0} comments/s ({} ok, {} failed), p50 {:.2} ms, p99 {:.2} ms",
            phase.ok as f64 / phase.secs,
            phase.ok,
            phase.failed,
            phase.latency.value_at_quantile(0.5) as f64 / 1000.0,
            phase.latency.value_at_quantile(0.99) as f64 / 1000.0,
        );
        results.push((transport, phase));
    }
    let rate = |t: Transport| {
        let phases: Vec<&Phase> = results.iter().filter(|(x, _)| *x == t).map(|(_, p)| p).collect();
        phases.iter().map(|p| p.ok as f64).sum::<f64>() / phases.iter().map(|p| p.secs).sum::<f64>()
    };
    let (g, h) = (rate(Transport::Grpc), rate(Transport::Http));
    println!("gRPC {g:.0}/s, HTTP/JSON {h:.0}/s: HTTP/JSON at {:.1}% of gRPC", 100.0 * h / g);
    let _ = stop_tx.send(());
    server.await??;
    Ok(())
}

async fn run_phase(
    transport: Transport,
    args: &Args,
    channels: &[Channel],
    http: SocketAddr,
    next: Arc<AtomicU64>,
) -> anyhow::Result<Phase> {
    let start = Instant::now() + Duration::from_secs(args.warmup);
    let end = start + Duration::from_secs(args.duration);
    let mut tasks = Vec::new();
    for c in 0..args.clients {
        let next = next.clone();
        let channel = channels[c as usize % channels.len()].clone();
        tasks.push(tokio::spawn(async move {
            let mut latency = Histogram::<u64>::new_with_bounds(1, 60_000_000, 3).expect("histogram bounds");
            let (mut ok, mut failed) = (0u64, 0u64);
            let mut client = Client::new(transport, channel, http).await?;
            loop {
                let sent = Instant::now();
                if sent >= end {
                    break;
                }
                let answered = client.submit(comment(next.fetch_add(1, Ordering::Relaxed))).await;
                if sent >= start {
                    let _ = latency.record(sent.elapsed().as_micros() as u64);
                    if answered { ok += 1 } else { failed += 1 }
                }
            }
            anyhow::Ok((ok, failed, latency))
        }));
    }
    let mut phase =
        Phase { ok: 0, failed: 0, secs: args.duration as f64, latency: Histogram::new_with_bounds(1, 60_000_000, 3)? };
    for t in tasks {
        let (ok, failed, latency) = t.await??;
        phase.ok += ok;
        phase.failed += failed;
        phase.latency.add(latency)?;
    }
    Ok(phase)
}

enum Client {
    Grpc(ModerationServiceClient<Channel>),
    Http(hyper::client::conn::http1::SendRequest<Full<Bytes>>, SocketAddr),
}

impl Client {
    async fn new(transport: Transport, channel: Channel, http: SocketAddr) -> anyhow::Result<Client> {
        Ok(match transport {
            Transport::Grpc => Client::Grpc(ModerationServiceClient::new(channel)),
            Transport::Http => Client::Http(connect(http).await?, http),
        })
    }

    /// One SubmitComment; `true` when it was answered with a verdict.
    async fn submit(&mut self, c: Comment) -> bool {
        match self {
            Client::Grpc(client) => {
                let mut req = tonic::Request::new(pb::SubmitCommentRequest {
                    comment_id: c.id,
                    thread_id: "bench-thread".into(),
                    author: Some(pb::Author { ip: c.ip, account_id: c.account, ..Default::default() }),
                    body: c.body.into(),
                    ..Default::default()
                });
                req.metadata_mut().insert("authorization", format!("Bearer {KEY}").parse().expect("ascii"));
                client.submit_comment(req).await.is_ok()
            }
            Client::Http(sender, addr) => {
                let body = serde_json::json!({
                    "commentId": c.id, "threadId": "bench-thread",
                    "author": {"ip": c.ip, "accountId": c.account}, "body": c.body,
                })
                .to_string();
                if sender.ready().await.is_err() {
                    match connect(*addr).await {
                        Ok(s) => *sender = s,
                        Err(_) => return false,
                    }
                }
                let req = hyper::Request::post("/v1/comments:submit")
                    .header("host", addr.to_string())
                    .header("authorization", format!("Bearer {KEY}"))
                    .header("content-type", "application/json")
                    .body(Full::new(Bytes::from(body)));
                let Ok(req) = req else { return false };
                let Ok(answer) = sender.send_request(req).await else { return false };
                let ok = answer.status().is_success();
                let Ok(body) = answer.into_body().collect().await else { return false };
                // Read the verdict as a PHP host would.
                ok && serde_json::from_slice::<serde_json::Value>(&body.to_bytes())
                    .is_ok_and(|v| v["verdict"].is_string())
            }
        }
    }
}

async fn connect(addr: SocketAddr) -> anyhow::Result<hyper::client::conn::http1::SendRequest<Full<Bytes>>> {
    let stream = tokio::net::TcpStream::connect(addr).await?;
    stream.set_nodelay(true)?;
    let (sender, conn) = hyper::client::conn::http1::handshake(hyper_util::rt::TokioIo::new(stream)).await?;
    tokio::spawn(async move {
        let _ = conn.await;
    });
    Ok(sender)
}

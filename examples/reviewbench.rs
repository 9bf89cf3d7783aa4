//! Review workflow benchmark: ClaimNext + Decide throughput with N concurrent moderators, and the delay from a
//! moderator's Decide answer to the event reaching a `WatchDecisions` watcher (p50/p99).
//!
//! It starts an in-process server on a loopback port over the given store, so the figures include gRPC and the
//! store but no network:
//!
//! ```sh
//! redis-server --port 6390 --save "" --appendonly yes --daemonize yes
//! cargo run --release --example reviewbench -- --redis-url redis://127.0.0.1:6390/0 --items 20000 --moderators 8
//! cargo run --release --example reviewbench -- --items 20000 --moderators 8   # embedded memory store
//! ```

use clap::Parser;
use commentguard::app::App;
use commentguard::clock::{Clock, SystemClock};
use commentguard::config::{Config, sha256_hex};
use commentguard::pb::{
    self, moderation_service_client::ModerationServiceClient, review_service_client::ReviewServiceClient,
};
use commentguard::store::redis::{Durability, RedisOptions, RedisStore};
use commentguard::store::{Store, memory::MemoryStore};
use hdrhistogram::Histogram;
use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tonic::transport::Channel;

#[derive(Parser, Debug)]
struct Args {
    /// Redis to run on (a private one: the benchmark writes to it); absent = the embedded memory store.
    #[arg(long)]
    redis_url: Option<String>,
    #[arg(long, default_value_t = 20_000)]
    items: usize,
    #[arg(long, default_value_t = 8)]
    moderators: usize,
    /// Items per ClaimNext.
    #[arg(long, default_value_t = 10)]
    batch: i32,
}

fn authed<T>(message: T, secret: &str) -> tonic::Request<T> {
    let mut req = tonic::Request::new(message);
    if let Ok(v) = format!("Bearer {secret}").parse() {
        req.metadata_mut().insert("authorization", v);
    }
    req
}

fn micros(h: &Histogram<u64>, q: f64) -> u64 {
    h.value_at_quantile(q)
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    println!("command: {}", std::env::args().collect::<Vec<_>>().join(" "));
    let text = format!(
        "[server]\nmetrics_listen = \"\"\n[[sites]]\nid = \"bench\"\napi_key_sha256 = [\"{}\"]\n[sites.policy]\npremoderation = true\nrate_limits = {{ enabled = false }}\n\
         [[moderators]]\nid = \"m\"\ntoken_sha256 = \"{}\"\nsites = [\"bench\"]\nrole = \"admin\"\n",
        sha256_hex("site-key"),
        sha256_hex("mod-token")
    );
    let config = Config::from_toml(&text)?;
    let clock: Arc<dyn Clock> = Arc::new(SystemClock);
    let store: Arc<dyn Store> = match &args.redis_url {
        Some(url) => Arc::new(RedisStore::connect(
            &RedisOptions { url: url.clone(), timeout: Duration::from_secs(5), durability: Durability::Primary },
            clock.clone(),
        )?),
        None => Arc::new(MemoryStore::new(clock.clone())),
    };
    let app = Arc::new(App::assemble(
        &config,
        commentguard::store::Stores::of(store),
        b"bench",
        clock,
        commentguard::ratelimit::RateClock::monotonic(),
    )?);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(async move {
        commentguard::server::run(listener, None, app, &config, async {
            let _ = stop_rx.await;
        })
        .await
    });
    let channel = Channel::from_shared(format!("http://{addr}"))?.connect().await?;

    // Fill the queue (premoderation holds every comment).
    let started = Instant::now();
    let mut fill = Vec::new();
    for w in 0..16 {
        let mut client = ModerationServiceClient::new(channel.clone());
        let n = args.items;
        fill.push(tokio::spawn(async move {
            for i in (w..n).step_by(16) {
                let req = pb::SubmitCommentRequest {
                    comment_id: format!("c{i}"),
                    thread_id: format!("t{}", i % 50),
                    author: Some(pb::Author { ip: "203.0.113.9".into(), ..Default::default() }),
                    body: format!("comment number {i} waiting for a moderator"),
                    ..Default::default()
                };
                client.submit_comment(authed(req, "site-key")).await?;
            }
            Ok::<_, tonic::Status>(())
        }));
    }
    for f in fill {
        f.await??;
    }
    let fill_secs = started.elapsed().as_secs_f64();
    println!("queued {} held comments in {fill_secs:.2} s ({:.0}/s)", args.items, args.items as f64 / fill_secs);

    // A watcher records when each moderator decision arrives.
    let mut watcher = ModerationServiceClient::new(channel.clone());
    let mut stream = watcher
        .watch_decisions(authed(pb::WatchDecisionsRequest { after_cursor: String::new() }, "site-key"))
        .await?
        .into_inner();
    let expected = args.items;
    let arrivals = tokio::spawn(async move {
        let mut seen = HashMap::with_capacity(expected);
        while seen.len() < expected {
            match tokio::time::timeout(Duration::from_secs(30), stream.message()).await {
                Ok(Ok(Some(pb::WatchDecisionsResponse {
                    kind: Some(pb::watch_decisions_response::Kind::Event(e)),
                }))) => {
                    seen.insert(e.comment_id, Instant::now());
                }
                Ok(Ok(Some(_))) => {}
                _ => break,
            }
        }
        seen
    });

    // Moderators drain the queue.
    let started = Instant::now();
    let mut mods = Vec::new();
    for _ in 0..args.moderators {
        let mut review = ReviewServiceClient::new(channel.clone());
        let batch = args.batch;
        mods.push(tokio::spawn(async move {
            let mut claim_h = Histogram::<u64>::new(3).expect("histogram");
            let mut decide_h = Histogram::<u64>::new(3).expect("histogram");
            let mut decided_at = Vec::new();
            loop {
                let t = Instant::now();
                let req = pb::ClaimNextRequest { site_id: "bench".into(), max_items: batch, ..Default::default() };
                let items = review.claim_next(authed(req, "mod-token")).await?.into_inner().items;
                let _ = claim_h.record(t.elapsed().as_micros() as u64);
                if items.is_empty() {
                    break;
                }
                for item in items {
                    let t = Instant::now();
                    let req = pb::DecideRequest {
                        site_id: "bench".into(),
                        review_id: item.review_id,
                        claim_token: item.claim_token,
                        action: pb::ReviewAction::Approve as i32,
                        ..Default::default()
                    };
                    let done = review.decide(authed(req, "mod-token")).await?.into_inner();
                    let _ = decide_h.record(t.elapsed().as_micros() as u64);
                    decided_at.push((done.comment_id, Instant::now()));
                }
            }
            Ok::<_, tonic::Status>((claim_h, decide_h, decided_at))
        }));
    }
    let mut claim_h = Histogram::<u64>::new(3)?;
    let mut decide_h = Histogram::<u64>::new(3)?;
    let mut decided_at = Vec::new();
    for m in mods {
        let (c, d, at) = m.await??;
        claim_h.add(c)?;
        decide_h.add(d)?;
        decided_at.extend(at);
    }
    let secs = started.elapsed().as_secs_f64();
    println!(
        "{} moderators decided {} items in {secs:.2} s: {:.0} decisions/s",
        args.moderators,
        decided_at.len(),
        decided_at.len() as f64 / secs
    );
    println!(
        "ClaimNext({}) latency µs: p50 {} p99 {} p99.9 {} max {}",
        args.batch,
        micros(&claim_h, 0.5),
        micros(&claim_h, 0.99),
        micros(&claim_h, 0.999),
        claim_h.max()
    );
    println!(
        "Decide latency µs: p50 {} p99 {} p99.9 {} max {}",
        micros(&decide_h, 0.5),
        micros(&decide_h, 0.99),
        micros(&decide_h, 0.999),
        decide_h.max()
    );

    let seen = arrivals.await?;
    let mut delay = Histogram::<u64>::new(3)?;
    let mut missing = 0;
    for (id, at) in &decided_at {
        match seen.get(id) {
            Some(arrived) => {
                let _ = delay.record(arrived.saturating_duration_since(*at).as_micros() as u64);
            }
            None => missing += 1,
        }
    }
    println!(
        "WatchDecisions delay from Decide answer to watcher µs: p50 {} p99 {} max {} ({} events, {missing} missing)",
        micros(&delay, 0.5),
        micros(&delay, 0.99),
        delay.max(),
        seen.len()
    );
    let _ = stop_tx.send(());
    let _ = tokio::time::timeout(Duration::from_secs(15), server).await;
    Ok(())
}

//! Connection bounds of the real binary: idle gRPC connections are closed after `server.idle_timeout_ms` (an open
//! stream is not), connections beyond `server.max_connections` are closed at once, and a `/metrics` client that
//! never finishes its headers is cut after `server.metrics_header_timeout_ms`; a peer that stops answering HTTP/2
//! pings is dropped after `server.keepalive_timeout_ms`.

mod common;

use commentguard::config::sha256_hex;
use commentguard::pb::{self, moderation_service_client::ModerationServiceClient};
use common::serve::{Serve, client};
use common::{authed, submission, wait_for};
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tonic::transport::Channel;
use tonic_health::pb::{HealthCheckRequest, health_client::HealthClient};

const IDLE_MS: u64 = 500;

/// A server with site "news" (key `key`) and the given `[server]` keys; its temporary directory lives as long.
fn start(server_keys: &str) -> (Serve, tempfile::TempDir) {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("c.toml");
    let text = format!(
        "[server]\nlisten = \"127.0.0.1:0\"\nmetrics_listen = \"127.0.0.1:0\"\n{server_keys}\n\
         [[sites]]\nid = \"news\"\napi_key_sha256 = [\"{}\"]\n[sites.policy.rate_limits]\nenabled = false\n",
        sha256_hex("key")
    );
    std::fs::write(&path, text).expect("write");
    (Serve::start(&["--config", path.to_str().expect("utf-8 path")]), dir)
}

/// Reads until the server ends the connection (end of stream or reset); the bytes it sent first, or `None` if it
/// was still open after `within`.
async fn closed_by_server(stream: &mut TcpStream, within: Duration) -> Option<usize> {
    let mut buf = [0u8; 4096];
    let mut received = 0;
    tokio::time::timeout(within, async {
        loop {
            match stream.read(&mut buf).await {
                Ok(0) | Err(_) => return received,
                Ok(n) => received += n,
            }
        }
    })
    .await
    .ok()
}

/// The client's half of the HTTP/2 preface, then an empty SETTINGS frame.
const H2_PREFACE: &[u8] = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n\x00\x00\x00\x04\x00\x00\x00\x00\x00";

#[tokio::test(flavor = "multi_thread")]
async fn idle_connections_are_closed_after_the_idle_timeout_but_an_open_stream_is_not() {
    let (mut serve, _dir) = start(&format!("idle_timeout_ms = {IDLE_MS}\nheartbeat_ms = 3600000"));
    let addr = serve.addr();
    // A watcher with no traffic at all (no heartbeat within the test): its open RPC keeps its connection.
    let mut watcher = client(&addr).await;
    let mut events = watcher
        .watch_decisions(authed(pb::WatchDecisionsRequest { after_cursor: String::new() }, "key"))
        .await
        .expect("watch")
        .into_inner();

    let started = Instant::now();
    let mut idle = Vec::new();
    for i in 0..60 {
        let mut stream = TcpStream::connect(&addr).await.expect("connect");
        // Silent, an HTTP/2 handshake with no request, and half a preface (a slowloris).
        match i % 3 {
            0 => {}
            1 => stream.write_all(H2_PREFACE).await.expect("write"),
            _ => stream.write_all(&H2_PREFACE[..10]).await.expect("write"),
        }
        idle.push(stream);
    }
    for stream in &mut idle {
        assert!(closed_by_server(stream, Duration::from_secs(20)).await.is_some(), "an idle connection stays open");
    }
    let elapsed = started.elapsed();
    assert!(elapsed >= Duration::from_millis(IDLE_MS), "closed after the timeout, not at once ({elapsed:?})");

    // The watcher's connection outlived the timeout and still delivers.
    let mut c = client(&addr).await;
    c.submit_comment(authed(submission("c1", "hello"), "key")).await.expect("submit");
    let event = tokio::time::timeout(Duration::from_secs(10), events.message())
        .await
        .expect("an event within 10 s")
        .expect("the stream is still open")
        .expect("a message");
    assert!(matches!(event.kind, Some(pb::watch_decisions_response::Kind::Event(_))), "{event:?}");
}

async fn healthy(channel: Channel) -> bool {
    HealthClient::new(channel).check(HealthCheckRequest { service: String::new() }).await.is_ok()
}

async fn connect(addr: &str) -> Option<Channel> {
    Channel::from_shared(format!("http://{addr}")).ok()?.connect().await.ok()
}

#[tokio::test(flavor = "multi_thread")]
async fn connections_beyond_the_cap_are_closed_while_the_first_ones_work() {
    const CAP: usize = 3;
    let (mut serve, _dir) = start(&format!("max_connections = {CAP}"));
    let addr = serve.addr();
    let mut open = Vec::new();
    for _ in 0..CAP {
        let channel = wait_for(Duration::from_secs(10), || connect(&addr)).await.expect("connects");
        assert!(healthy(channel.clone()).await, "a connection within the cap works");
        open.push(channel);
    }
    let mut extra = TcpStream::connect(&addr).await.expect("the kernel accepts the TCP handshake");
    let sent = closed_by_server(&mut extra, Duration::from_secs(10)).await;
    assert_eq!(sent, Some(0), "connection {} is closed without a byte", CAP + 1);
    for channel in &open {
        assert!(healthy(channel.clone()).await, "the first {CAP} still work");
    }

    // A closed connection frees its place.
    open.pop();
    let freed = wait_for(Duration::from_secs(10), || async {
        let channel = connect(&addr).await?;
        healthy(channel.clone()).await.then_some(channel)
    })
    .await;
    assert!(freed.is_some(), "a new connection is served once one closed");
    let mut c = ModerationServiceClient::new(freed.expect("channel"));
    assert!(c.submit_comment(authed(submission("c1", "hi"), "key")).await.is_ok());
}

#[tokio::test(flavor = "multi_thread")]
async fn a_metrics_client_that_never_finishes_its_headers_is_disconnected() {
    let (mut serve, _dir) = start("metrics_header_timeout_ms = 300");
    let metrics = serve.metrics_addr();
    let started = Instant::now();
    let mut slow = TcpStream::connect(&metrics).await.expect("connect");
    slow.write_all(b"GET /metrics HTTP/1.1\r\nHost: x\r\n").await.expect("write");
    let mut silent = TcpStream::connect(&metrics).await.expect("connect");
    for stream in [&mut slow, &mut silent] {
        assert!(closed_by_server(stream, Duration::from_secs(20)).await.is_some(), "a slow client stays connected");
    }
    assert!(started.elapsed() >= Duration::from_millis(300), "closed by the timeout ({:?})", started.elapsed());
    let page = common::http_get(&format!("http://{metrics}/metrics")).await;
    assert!(page.is_some_and(|p| p.starts_with("HTTP/1.1 200")), "a prompt client is served");
}

/// An HTTP/2 frame header followed by its payload.
fn frame(kind: u8, flags: u8, stream: u32, payload: &[u8]) -> Vec<u8> {
    let len = (payload.len() as u32).to_be_bytes();
    [&len[1..], &[kind, flags], &stream.to_be_bytes(), payload].concat()
}

/// `Health/Watch` on stream 1, headers as HPACK literals without indexing (no table, no Huffman).
fn health_watch() -> Vec<u8> {
    let mut block = Vec::new();
    for (name, value) in [
        (":method", "POST"),
        (":scheme", "http"),
        (":path", "/grpc.health.v1.Health/Watch"),
        (":authority", "x"),
        ("content-type", "application/grpc"),
        ("te", "trailers"),
    ] {
        block.extend([0, name.len() as u8]);
        block.extend(name.as_bytes());
        block.push(value.len() as u8);
        block.extend(value.as_bytes());
    }
    // END_HEADERS, then one empty request message with END_STREAM.
    [frame(1, 4, 1, &block), frame(0, 1, 1, &[0; 5])].concat()
}

#[tokio::test(flavor = "multi_thread")]
async fn a_peer_that_stops_answering_pings_is_dropped_even_with_an_open_stream() {
    let (mut serve, _dir) = start("idle_timeout_ms = 3600000\nkeepalive_interval_ms = 200\nkeepalive_timeout_ms = 200");
    let addr = serve.addr();
    let mut stream = TcpStream::connect(&addr).await.expect("connect");
    stream.write_all(&[H2_PREFACE, &health_watch()].concat()).await.expect("write");
    // Acknowledge the server's settings, never its pings; note the response on stream 1 (the open stream).
    let outcome = tokio::time::timeout(Duration::from_secs(20), async {
        let (mut answered, mut pinged) = (false, false);
        loop {
            let mut head = [0u8; 9];
            if stream.read_exact(&mut head).await.is_err() {
                return (answered, pinged);
            }
            let mut payload = vec![0u8; u32::from_be_bytes([0, head[0], head[1], head[2]]) as usize];
            if stream.read_exact(&mut payload).await.is_err() {
                return (answered, pinged);
            }
            match (head[3], head[4] & 1) {
                (4, 0) => stream.write_all(&frame(4, 1, 0, &[])).await.expect("settings ack"),
                (1, _) => answered = true,
                (6, 0) => pinged = true,
                _ => {}
            }
        }
    })
    .await;
    assert_eq!(outcome, Ok((true, true)), "the stream was open, pings went unanswered, and the server hung up");
}

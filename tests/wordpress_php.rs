//! The WordPress example (docs/wordpress) run by PHP's CLI against a real server: the plugin's SubmitComment client
//! (payload, wp_remote_post through a shim of WordPress's HTTP API, verdict mapping) and its webhook receiver
//! (signature verification with the plugin's own function, served by `php -S`, fed by real deliveries, a moderator's
//! later decision included). Skips with a message when `php` is not installed; in CI (`CI` set) it must be.

mod common;

use commentguard::clock::SystemClock;
use commentguard::config::Config;
use commentguard::pb::{self, review_service_client::ReviewServiceClient};
use commentguard::store::{Stores, memory::MemoryStore};
use common::http::{HttpServer, raw};
use common::{authed, key, token, two_sites, wait_for};
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

const SECRET: &str = "whsec_wordpress_0123456789";

fn docs() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/wordpress")
}

/// Whether `php` runs; without it the test is skipped (outside CI) with a clear message.
fn php_available() -> bool {
    let found = std::process::Command::new("php").arg("--version").output().is_ok_and(|o| o.status.success());
    if !found {
        assert!(std::env::var_os("CI").is_none(), "php is required in CI (.ci/run installs php-cli)");
        eprintln!("SKIPPED: php is not installed (apt-get install php-cli) — the WordPress example was not run");
    }
    found
}

fn policy(extra: &str) -> Config {
    two_sites(&format!(
        "suspect_words = [\"hold\"]\nblocked_words = [\"scoundrel\"]\nblocked_domains = [\"spam.example\"]\n{extra}"
    ))
}

async fn server(config: Config) -> HttpServer {
    HttpServer::start(config, Stores::of(Arc::new(MemoryStore::new(Arc::new(SystemClock))))).await
}

/// Runs docs/wordpress/tests/submit.php and returns its JSON line.
async fn php_submit(server: &HttpServer, api_key: &str, id: &str, body: &str) -> Value {
    let out = tokio::process::Command::new("php")
        .arg(docs().join("tests/submit.php"))
        .args([&format!("http://{}", server.http), api_key, id, body])
        .output();
    let out = tokio::time::timeout(Duration::from_secs(30), out).await.expect("php within 30 s").expect("php runs");
    assert!(out.status.success(), "php failed: {}", String::from_utf8_lossy(&out.stderr));
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&out.stdout)))
}

#[tokio::test]
async fn the_plugin_client_maps_verdicts_from_the_real_server() {
    if !php_available() {
        return;
    }
    let server = server(policy("")).await;
    let a = key("a");
    for (id, body, approved, verdict) in [
        ("wp-1", "Lovely article, thank you.", Value::from(1), "VERDICT_APPROVED"),
        ("wp-2", "please hold this for a moment", Value::from(0), "VERDICT_PENDING_REVIEW"),
        ("wp-3", "the author is a scoundrel", Value::from("trash"), "VERDICT_REJECTED"),
        ("wp-4", "cheap pills at http://spam.example/buy", Value::from("spam"), "VERDICT_REJECTED"),
    ] {
        let got = php_submit(&server, &a, id, body).await;
        assert_eq!(got["status"], 200, "{id}: {got}");
        assert_eq!(got["approved"], approved, "{id}: {got}");
        assert_eq!(got["verdict"], verdict, "{id}");
        assert_eq!((got["get_status"].clone(), got["get_verdict"].clone()), (Value::from(200), Value::from(verdict)));
    }
    // A wrong key is 401 with the status body; the plugin holds the comment rather than publish it unchecked.
    let refused = php_submit(&server, "not-the-key", "wp-5", "hello").await;
    assert_eq!((refused["status"].clone(), refused["error_code"].clone()), (Value::from(401), Value::from(16)));
    assert_eq!(refused["approved"], 0);
    server.stop().await;
}

/// `php -S` serving the example receiver; killed on drop.
struct PhpServer(std::process::Child);

impl Drop for PhpServer {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[tokio::test]
async fn the_plugin_receiver_verifies_real_deliveries_and_maps_later_decisions() {
    if !php_available() {
        return;
    }
    let dir = tempfile::tempdir().expect("temp dir");
    let log = dir.path().join("deliveries.jsonl");
    let port = std::net::TcpListener::bind("127.0.0.1:0").and_then(|l| l.local_addr()).expect("free port").port();
    let addr: std::net::SocketAddr = ([127, 0, 0, 1], port).into();
    let _php = PhpServer(
        std::process::Command::new("php")
            .args(["-S", &addr.to_string()])
            .arg(docs().join("tests/receiver.php"))
            .env("CG_WEBHOOK_SECRET", SECRET)
            .env("CG_RECEIVER_LOG", &log)
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .expect("php -S starts"),
    );
    let listening = wait_for(Duration::from_secs(10), || async { tokio::net::TcpStream::connect(addr).await.ok() });
    assert!(listening.await.is_some(), "php -S listens on {addr}");
    // A forged delivery is refused by the plugin's check.
    let forged = "POST / HTTP/1.1\r\nHost: x\r\nX-Commentguard-Signature: t=1,v1=00\r\nContent-Length: 13\r\n\
                  Connection: close\r\n\r\n{\"events\":[]}";
    assert_eq!(raw(addr, forged.as_bytes()).await.status, 401);

    let hook = format!("[sites.webhook]\nurl = \"http://{addr}/\"\nsecret = \"{SECRET}\"\ninitial_backoff_ms = 50\n");
    let server = server(policy(&hook)).await;
    let state = server.app.store.webhooks.clone();
    let started = wait_for(Duration::from_secs(20), || async { state.webhook_cursor("a").await.ok().flatten() });
    assert!(started.await.is_some(), "the webhook started");
    let a = key("a");
    php_submit(&server, &a, "wp-1", "Lovely article, thank you.").await;
    php_submit(&server, &a, "wp-2", "please hold this for a moment").await;
    php_submit(&server, &a, "wp-3", "the author is a scoundrel").await;
    // A moderator approves the held comment later: the webhook carries it to the site.
    let channel = tonic::transport::Channel::from_shared(format!("http://{}", server.grpc))
        .expect("url")
        .connect()
        .await
        .expect("connect");
    let mut review = ReviewServiceClient::new(channel);
    let claim = pb::ClaimNextRequest { site_id: "a".into(), max_items: 1, ..Default::default() };
    let items = review.claim_next(authed(claim, &token("mod-a"))).await.expect("claim").into_inner().items;
    let item = items.first().expect("the held comment");
    assert_eq!(item.comment_id, "wp-2");
    let decide = pb::DecideRequest {
        site_id: "a".into(),
        review_id: item.review_id.clone(),
        claim_token: item.claim_token.clone(),
        action: pb::ReviewAction::Approve as i32,
        ..Default::default()
    };
    review.decide(authed(decide, &token("mod-a"))).await.expect("decide");

    let lines = wait_for(Duration::from_secs(30), || async {
        let text = std::fs::read_to_string(&log).unwrap_or_default();
        let events: Vec<(String, String)> = text
            .lines()
            .skip(1) // the forged delivery
            .filter_map(|l| serde_json::from_str::<Value>(l).ok())
            .inspect(|d| assert_eq!(d["verified"], true, "every real delivery verifies: {d}"))
            .flat_map(|d| d["events"].as_array().cloned().unwrap_or_default())
            .map(|e| {
                (e["commentId"].as_str().unwrap_or("").to_string(), e["status"].as_str().unwrap_or("").to_string())
            })
            .collect();
        (events.len() >= 4).then_some(events)
    })
    .await
    .expect("four events reach the PHP receiver");
    let expected = [("wp-1", "approve"), ("wp-2", "hold"), ("wp-3", "trash"), ("wp-2", "approve")];
    assert_eq!(lines, expected.map(|(i, s)| (i.to_string(), s.to_string())), "in order, mapped by the plugin");
    server.stop().await;
}

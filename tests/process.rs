//! Tests of the real binary: dev mode, SIGHUP reload, SIGTERM shutdown, and `check`.

mod common;

use commentguard::config::sha256_hex;
use commentguard::pb;
use common::{authed, submission, wait_for};
use std::io::Write;
use std::process::{Command, Stdio};
use std::time::Duration;

use common::serve::{BIN, Serve, client};

#[tokio::test(flavor = "multi_thread")]
async fn dev_mode_prints_working_credentials_and_stops_cleanly_on_sigterm() {
    let mut serve = Serve::start(&["--listen", "127.0.0.1:0", "--log-format", "json"]);
    let key_line = serve.wait_line("site \"demo\" API key:");
    let key = key_line.split_whitespace().last().expect("key").to_string();
    serve.wait_line("moderator \"demo-admin\" token:");
    let addr = serve.addr();
    let mut c = client(&addr).await;
    let resp = c.submit_comment(authed(submission("d1", "hello from dev mode"), &key)).await.expect("accepted");
    assert_eq!(resp.into_inner().verdict(), pb::Verdict::Approved);

    // The client stays connected (idle): graceful shutdown must not wait on it. The test runtime is multi-threaded
    // so the client's connection task can answer the server's GOAWAY while this thread blocks reading logs.
    serve.signal("TERM");
    serve.wait_line("shutdown complete");
    let status = serve.child.wait().expect("exit");
    assert!(status.success(), "exit status {status:?}");
    let logs = serve.seen.join("\n");
    assert!(!logs.contains("drain timeout"), "shutdown drains without hitting the timeout:\n{logs}");
    assert!(!logs.contains("hello from dev mode"), "bodies never reach the logs");
    assert!(!logs.contains("203.0.113.7") && !logs.contains("reader@example.com"), "no IPs or emails in logs");
}

#[test]
fn dev_mode_refuses_a_non_loopback_address() {
    let out = Command::new(BIN)
        .args(["serve", "--listen", "0.0.0.0:0"])
        .env("COMMENTGUARD_SERVER__METRICS_LISTEN", "")
        .output()
        .expect("run");
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("refuses to listen on 0.0.0.0:0"), "{stderr}");
}

#[test]
fn a_bad_config_file_is_refused_with_the_key_named() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("bad.toml");
    std::fs::write(&path, "[[sites]]\nid = \"x\"\napi_key_sha256 = [\"zz\"]\n").expect("write");
    let out = Command::new(BIN).args(["serve", "--config"]).arg(&path).output().expect("run");
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("sites[0].api_key_sha256[0]: expected 64 hexadecimal characters"), "{stderr}");
}

fn site_config(keys: &[&str], blocked: &str) -> String {
    let hashes: Vec<String> = keys.iter().map(|k| format!("\"{}\"", sha256_hex(k))).collect();
    format!(
        "[server]\nlisten = \"127.0.0.1:0\"\nmetrics_listen = \"\"\n\
         [[sites]]\nid = \"news\"\napi_key_sha256 = [{}]\n[sites.policy]\nblocked_words = [\"{blocked}\"]\n",
        hashes.join(", ")
    )
}

#[tokio::test(flavor = "multi_thread")]
async fn sighup_reloads_sites_and_refuses_a_bad_file() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("commentguard.toml");
    std::fs::write(&path, site_config(&["old-key"], "casino")).expect("write");
    let mut serve = Serve::start(&["--config", path.to_str().expect("utf-8 path")]);
    let addr = serve.addr();
    let mut c = client(&addr).await;
    let verdict =
        |r: Result<tonic::Response<pb::SubmitCommentResponse>, tonic::Status>| r.map(|r| r.into_inner().verdict());
    assert_eq!(
        verdict(c.submit_comment(authed(submission("s1", "lottery"), "old-key")).await).ok(),
        Some(pb::Verdict::Approved)
    );

    // Rotate: add a new key and a new blocked word, keep the old key during the overlap.
    std::fs::write(&path, site_config(&["old-key", "new-key"], "lottery")).expect("write");
    serve.signal("HUP");
    let rotated = wait_for(Duration::from_secs(10), || {
        let mut c = c.clone();
        async move { c.submit_comment(authed(submission("s2", "lottery win"), "new-key")).await.ok() }
    })
    .await
    .expect("the new key works after SIGHUP");
    assert_eq!(rotated.into_inner().verdict(), pb::Verdict::Rejected, "the new policy applies");
    assert!(c.submit_comment(authed(submission("s3", "hi"), "old-key")).await.is_ok(), "old key still valid");

    // A broken file is refused and the running configuration stays.
    let mut f = std::fs::File::create(&path).expect("create");
    f.write_all(b"[[sites]]\nid = \"BAD ID\"\n").expect("write");
    drop(f);
    serve.signal("HUP");
    serve.wait_line("configuration reload refused");
    assert!(c.submit_comment(authed(submission("s4", "hi"), "new-key")).await.is_ok(), "old config stays");
}

#[test]
fn check_reads_json_lines_and_reports_each() {
    let dir = tempfile::tempdir().expect("tempdir");
    let config = dir.path().join("c.toml");
    std::fs::write(&config, site_config(&["k"], "casino")).expect("write");
    let input = concat!(
        "{\"id\":\"1\",\"body\":\"😀 casino night\"}\n",
        "not json\n",
        "{\"id\":\"3\",\"body\":\"Thanks for the article\",\"author\":\"u1\"}\n",
        "{\"id\":\"1\",\"body\":\"a different body\"}\n",
    );
    let mut child = Command::new(BIN)
        .args(["check", "--offsets", "utf16", "--site", "news", "--config"])
        .arg(&config)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn");
    child.stdin.take().expect("stdin").write_all(input.as_bytes()).expect("write");
    let out = child.wait_with_output().expect("run");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let lines: Vec<serde_json::Value> =
        String::from_utf8_lossy(&out.stdout).lines().map(|l| serde_json::from_str(l).expect("json line")).collect();
    assert_eq!(lines.len(), 4);
    assert_eq!(lines[0]["verdict"], "REJECTED");
    assert_eq!(lines[0]["findings"][0]["code"], "policy.blocked_word");
    assert_eq!(lines[0]["findings"][0]["category"], "POLICY");
    assert_eq!(lines[0]["findings"][0]["spans"][0], serde_json::json!({"start": 3, "end": 9}), "UTF-16 offsets");
    assert_eq!(lines[1]["id"], "line 2");
    assert!(lines[1]["error"].as_str().expect("error").contains("malformed"));
    assert_eq!(lines[2]["verdict"], "APPROVED");
    assert_eq!(lines[2]["redacted_body"], "Thanks for the article");
    assert!(lines[3]["error"].as_str().expect("error").contains("different body"));
    assert!(String::from_utf8_lossy(&out.stderr).contains("comments/s"), "throughput on stderr");
}

#[tokio::test(flavor = "multi_thread")]
async fn model_command_shows_reverts_and_exports_a_sites_learned_model() {
    use commentguard::analysis::spam::{SpamModel, base_model, model::Counts};
    use commentguard::store::learning::{CommitOutcome, ModelCommit};
    let redis = common::redis::TestRedis::start();
    let dir = tempfile::tempdir().expect("tempdir");
    let config = dir.path().join("c.toml");
    std::fs::write(&config, site_config(&["k"], "casino")).expect("write");
    let store = common::stores::redis_store_at(&redis);
    // Two learned versions, each snapshotted.
    for (version, text) in [(0, "win cash now call"), (1, "cheap loans here today")] {
        let delta = Counts::from_texts([(text, true), ("nice article", false)]);
        let mut learned = store.model_delta("news").await.expect("delta");
        let mut counts = Counts::from_bytes_or_empty(&learned.bytes).expect("decodes");
        counts.add(&delta);
        learned.bytes = counts.to_bytes();
        let commit = ModelCommit {
            base_version: version,
            bytes: learned.bytes,
            consumer: "test".into(),
            acked: Vec::new(),
            docs: counts.docs,
            snapshot_every_ms: 0,
            keep_snapshots: 5,
        };
        assert_eq!(store.commit_model("news", commit).await.expect("commit"), CommitOutcome::Committed(version + 1));
    }
    let model = |args: &[&str]| {
        Command::new(BIN)
            .args(["model", "--config"])
            .arg(&config)
            .args(["--redis-url", &redis.url(), "--site", "news"])
            .args(args)
            .output()
            .expect("run")
    };
    let status = model(&["status"]);
    let stdout = String::from_utf8_lossy(&status.stdout);
    assert!(status.status.success(), "{}", String::from_utf8_lossy(&status.stderr));
    assert!(stdout.contains("learned version 2, 2 ham and 2 spam comments"), "{stdout}");
    assert!(stdout.contains("version      1") && stdout.contains("version      2"), "{stdout}");

    let out = dir.path().join("news.model");
    assert!(model(&["export", "--out", out.to_str().expect("utf-8")]).status.success());
    let exported = SpamModel::load(&out).expect("a model file");
    let base = base_model().counts().docs;
    assert_eq!(exported.counts().docs, [base[0] + 2, base[1] + 2], "base + learned");

    let revert = model(&["revert", "--to", "1"]);
    assert!(revert.status.success(), "{}", String::from_utf8_lossy(&revert.stderr));
    assert!(String::from_utf8_lossy(&revert.stdout).contains("now version 3"));
    assert_eq!(store.model_delta("news").await.expect("delta").version, 3);
    let counts = Counts::from_bytes(&store.model_delta("news").await.expect("delta").bytes).expect("decodes");
    assert_eq!(counts.docs, [1, 1], "version 1's delta is back");

    let unknown = model(&["revert", "--to", "42"]);
    assert!(!unknown.status.success());
    assert!(String::from_utf8_lossy(&unknown.stderr).contains("no snapshot of version 42"));
}

//! The real binary given careless or broken configuration files: at start-up and on SIGHUP, nothing of a broken
//! file reaches stderr or the logs but its path, line and column; every problem is reported; a reload that would
//! lock every tenant out is refused; restart-only keys are named, not applied.

mod common;

use commentguard::config::sha256_hex;
use commentguard::pb;
use common::serve::{BIN, Serve, client};
use common::{authed, submission};
use std::io::Read;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// A secret value placed in broken files; it must never be printed.
const SECRET: &str = "S3CRET-do-not-print";

fn moderator() -> String {
    format!("[[moderators]]\nid = \"m\"\ntoken_sha256 = \"{}\"\nsites = [\"news\"]\n", sha256_hex("token"))
}

/// A working file: site "news" with the API key `key`, plus `extra` TOML (sections after the site go into it).
fn config(key: &str, extra: &str) -> String {
    format!(
        "[server]\nlisten = \"127.0.0.1:0\"\nmetrics_listen = \"\"\n\
         [[sites]]\nid = \"news\"\napi_key_sha256 = [\"{}\"]\n{extra}\n",
        sha256_hex(key)
    )
}

/// `serve --config` with `content`: it must exit with a failure within 20 s; returns stderr as bytes.
fn refused_at_start_up(path: &Path, content: &[u8]) -> Vec<u8> {
    std::fs::write(path, content).expect("write");
    let mut child = Command::new(BIN)
        .args(["serve", "--config"])
        .arg(path)
        .env_remove("COMMENTGUARD_SERVER__LISTEN")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn");
    let deadline = Instant::now() + Duration::from_secs(20);
    let status = loop {
        if let Some(status) = child.try_wait().expect("wait") {
            break status;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!("still serving after 20 s: start-up must refuse the file");
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    assert!(!status.success(), "a broken file must stop start-up");
    let mut stderr = Vec::new();
    child.stderr.take().expect("stderr").read_to_end(&mut stderr).expect("read");
    stderr
}

fn assert_nothing_of_the_file(output: &[u8]) {
    let text = String::from_utf8_lossy(output);
    assert!(!text.contains(SECRET) && !text.contains("S3CRET"), "the secret leaked:\n{text}");
    assert!(!output.contains(&0), "NUL bytes in the output:\n{text}");
}

/// Broken files, each with the secret somewhere, and what start-up must say about them.
fn broken_files() -> Vec<(Vec<u8>, String)> {
    vec![
        (format!("[store]\npseudonym_secret = \"{SECRET}\n").into_bytes(), "line 2, column 40: not valid TOML".into()),
        (format!("[store]\npseudonym_secret = {SECRET}\n").into_bytes(), "line 2, column 20: not valid TOML".into()),
        (format!("[store]\ndurability = \"{SECRET}\"\n").into_bytes(), "store.durability: unknown value".into()),
        (format!("[store]\ntimeout_ms = \"{SECRET}\"\n").into_bytes(), "store.timeout_ms: expected".into()),
        (
            [b"\x7fELF\x02\x01\x00\x00" as &[u8], SECRET.as_bytes(), b"\xff\xfe\x00"].concat(),
            "not valid UTF-8 text at byte 27".into(),
        ),
        ([b"a = 1\n\x00\x00" as &[u8], SECRET.as_bytes(), b" = 2\n"].concat(), "line 2, column 1".into()),
    ]
}

#[test]
fn a_broken_file_is_reported_by_position_only_at_start_up() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("c.toml");
    for (content, expected) in broken_files() {
        let stderr = refused_at_start_up(&path, &content);
        assert_nothing_of_the_file(&stderr);
        let text = String::from_utf8_lossy(&stderr);
        assert!(text.contains(&expected), "expected {expected:?} in:\n{text}");
    }
}

/// Three problems in different places: all three are reported with their paths.
fn three_problems() -> String {
    format!(
        "[server]\nlisten = \"nope\"\n\
         [[sites]]\nid = \"news\"\napi_key_sha256 = [\"zz\"]\n\
         [[sites]]\nid = \"Bad\"\napi_key_sha256 = [\"{}\"]\n",
        sha256_hex("k")
    )
}

const THREE_PATHS: [&str; 3] = ["server.listen:", "sites[0].api_key_sha256[0]:", "sites[1].id:"];

#[test]
fn every_problem_is_reported_with_its_path() {
    let dir = tempfile::tempdir().expect("tempdir");
    let stderr = refused_at_start_up(&dir.path().join("c.toml"), three_problems().as_bytes());
    let text = String::from_utf8_lossy(&stderr);
    assert!(text.contains("3 problems in the configuration"), "{text}");
    for path in THREE_PATHS {
        assert!(text.contains(path), "{path} missing in:\n{text}");
    }
}

#[test]
fn a_file_without_sites_stops_start_up_outside_dev_mode() {
    let dir = tempfile::tempdir().expect("tempdir");
    for content in ["", "[server]\nlisten = \"127.0.0.1:0\"\nmetrics_listen = \"\"\n"] {
        let stderr = refused_at_start_up(&dir.path().join("c.toml"), content.as_bytes());
        let text = String::from_utf8_lossy(&stderr);
        assert!(text.contains("configures no [[sites]]"), "{text}");
    }
}

/// A running server on `config("key", moderator)` and a client of it.
async fn running(
    path: &Path,
) -> (Serve, commentguard::pb::moderation_service_client::ModerationServiceClient<tonic::transport::Channel>) {
    std::fs::write(path, config("key", &moderator())).expect("write");
    let mut serve = Serve::start(&["--config", path.to_str().expect("utf-8 path")]);
    let addr = serve.addr();
    let c = client(&addr).await;
    (serve, c)
}

#[tokio::test(flavor = "multi_thread")]
async fn sighup_refuses_broken_files_without_printing_them_and_lists_every_problem() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("c.toml");
    let (mut serve, mut c) = running(&path).await;
    for (content, expected) in broken_files() {
        std::fs::write(&path, &content).expect("write");
        serve.signal("HUP");
        let line = serve.wait_next("configuration reload refused");
        assert!(line.contains(&expected), "expected {expected:?} in {line}");
    }
    std::fs::write(&path, three_problems()).expect("write");
    serve.signal("HUP");
    let line = serve.wait_next("configuration reload refused");
    for path in THREE_PATHS {
        assert!(line.contains(path), "{path} missing in {line}");
    }
    let logs = serve.logs();
    assert_nothing_of_the_file(logs.as_bytes());
    assert!(c.submit_comment(authed(submission("c1", "hi"), "key")).await.is_ok(), "the running config stays");
}

#[tokio::test(flavor = "multi_thread")]
async fn sighup_refuses_a_file_that_removes_every_site_or_moderator_unless_opted_in() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("c.toml");
    let (mut serve, mut c) = running(&path).await;
    for (content, refused) in [
        (String::new(), vec!["sites: the new file has none", "moderators: the new file has none"]),
        ("[server]\nlisten = \"127.0.0.1:0\"\nmetrics_listen = \"\"\n".into(), vec!["sites: the new file has none"]),
        (config("key", ""), vec!["moderators: the new file has none (1 running)"]),
    ] {
        std::fs::write(&path, content).expect("write");
        serve.signal("HUP");
        let line = serve.wait_next("configuration reload refused");
        for problem in refused {
            assert!(line.contains(problem), "{problem:?} missing in {line}");
        }
        assert!(c.submit_comment(authed(submission("c1", "hi"), "key")).await.is_ok(), "the tenants keep working");
    }

    // The operator means it: the file says so.
    std::fs::write(&path, "[server]\nlisten = \"127.0.0.1:0\"\nmetrics_listen = \"\"\nallow_empty_reload = true\n")
        .expect("write");
    serve.signal("HUP");
    assert!(serve.wait_next("configuration reloaded").contains("sites=0"));
    let status = c.submit_comment(authed(submission("c2", "hi"), "key")).await.expect_err("no site any more");
    assert_eq!(status.code(), tonic::Code::Unauthenticated);
}

#[tokio::test(flavor = "multi_thread")]
async fn sighup_names_changed_restart_only_keys_without_their_values_and_keeps_them() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("c.toml");
    let (mut serve, mut c) = running(&path).await;
    let changed = config("new-key", &moderator()).replace("127.0.0.1:0", "127.0.0.1:1")
        + &format!("[store]\nredis_url = \"redis://:{SECRET}@127.0.0.1:1/0\"\n");
    std::fs::write(&path, changed).expect("write");
    serve.signal("HUP");
    let warning = serve.wait_next("need a restart");
    assert!(warning.contains("server.listen") && warning.contains("store.redis_url"), "{warning}");
    serve.wait_next("configuration reloaded");
    // The tenants changed; the store and the address did not (this client is still connected to the old one).
    let reply = c.submit_comment(authed(submission("c1", "hi"), "new-key")).await.expect("the new key works");
    assert_eq!(reply.into_inner().verdict(), pb::Verdict::Approved, "the embedded store still answers");
    assert!(c.submit_comment(authed(submission("c2", "hi"), "key")).await.is_err(), "the old key is gone");
    assert_nothing_of_the_file(serve.logs().as_bytes());
}

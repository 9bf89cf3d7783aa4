//! The moderator console in a real headless Chromium (driven over WebDriver by chromedriver) against a real server
//! on a real Redis: sign in, the stats, claim, approve with the keyboard, reject as spam, release, an XSS body shown
//! as text, findings highlighted, the help overlay, an expired lease shown as an error, the audit trail, and two
//! moderators in two browsers claiming at once never getting the same item (each decided exactly once, says the
//! store). Screenshots of the main screens go to target/console-screenshots/ (the good ones are copied to
//! docs/console/).
//!
//! Needs `chromium` and `chromium-driver` (Debian packages; .ci/run installs them). Without them the test is
//! skipped with a message, except in CI (`CI` or `COMMENTGUARD_REQUIRE_DATA` set), where that is a failure.

mod common;

use commentguard::clock::{Clock, ManualClock, SystemClock};
use commentguard::config::{ModeratorConfig, Role, sha256_hex};
use commentguard::store::Stores;
use commentguard::store::redis::{Durability, RedisOptions, RedisStore};
use common::http::{HttpServer, request};
use common::redis::TestRedis;
use common::{key, token, two_sites, wait_for};
use fantoccini::actions::{InputSource, KeyAction, KeyActions};
use fantoccini::key::Key;
use fantoccini::{Client, ClientBuilder, Locator};
use serde_json::{Value, json};
use std::collections::{BTreeSet, HashMap};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::Duration;

const CHROMIUM: &str = "/usr/bin/chromium";
const CHROMEDRIVER: &str = "/usr/bin/chromedriver";
const WAIT: Duration = Duration::from_secs(15);

/// Whether the browser and its driver are installed; without them the test is skipped outside CI.
fn browser_available() -> bool {
    let found = Path::new(CHROMIUM).exists() && Path::new(CHROMEDRIVER).exists();
    if !found {
        let required = std::env::var_os("CI").is_some() || std::env::var_os("COMMENTGUARD_REQUIRE_DATA").is_some();
        assert!(!required, "chromium and chromedriver are required in CI (.ci/run installs chromium chromium-driver)");
        eprintln!(
            "SKIPPED: {CHROMIUM} or {CHROMEDRIVER} is missing (apt-get install chromium chromium-driver) — the \
             console was not driven in a browser"
        );
    }
    found
}

/// A chromedriver on a free port, killed on drop.
struct Driver {
    child: Child,
    url: String,
}

impl Driver {
    async fn start() -> Driver {
        let port = std::net::TcpListener::bind("127.0.0.1:0").and_then(|l| l.local_addr()).expect("free port").port();
        // Its own process group, which the browsers it starts join: dropping the driver kills them all, so a failed
        // test leaves no headless Chromium behind.
        let child = Command::new(CHROMEDRIVER)
            .process_group(0)
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("chromedriver starts");
        let driver = Driver { child, url: format!("http://127.0.0.1:{port}") };
        let status = format!("127.0.0.1:{port}").parse().expect("address");
        let ready = wait_for(WAIT, || async move {
            let answer = tokio::time::timeout(Duration::from_secs(2), async {
                tokio::net::TcpStream::connect(status).await.ok()?;
                Some(request(status, "GET", "/status", None, None).await)
            });
            answer.await.ok().flatten().filter(|a| a.status == 200 && a.body.contains("\"ready\":true"))
        })
        .await;
        assert!(ready.is_some(), "chromedriver did not become ready on port {port}");
        driver
    }

    /// A new headless browser session with its own profile.
    async fn browser(&self) -> Client {
        let mut caps = serde_json::Map::new();
        caps.insert(
            "goog:chromeOptions".into(),
            json!({
                "binary": CHROMIUM,
                "args": ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                         "--window-size=1280,900", "--force-device-scale-factor=1", "--lang=en-US"],
            }),
        );
        let connector = hyper_util::client::legacy::connect::HttpConnector::new();
        ClientBuilder::new(connector).capabilities(caps).connect(&self.url).await.expect("a browser session")
    }
}

impl Drop for Driver {
    fn drop(&mut self) {
        let group = format!("-{}", self.child.id());
        let _ = Command::new("kill").args(["-KILL", "--", &group]).status();
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn screenshots() -> PathBuf {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("target/console-screenshots");
    std::fs::create_dir_all(&dir).expect("screenshot directory");
    dir
}

async fn screenshot(browser: &Client, name: &str) {
    let png = browser.screenshot().await.expect("screenshot");
    std::fs::write(screenshots().join(format!("{name}.png")), png).expect("write screenshot");
}

/// Waits until the JavaScript expression is truthy and returns its value; fails with `what` after the timeout.
async fn until(browser: &Client, expr: &str, what: &str) -> Value {
    let script = format!("return ({expr});");
    let found = wait_for(WAIT, || {
        let script = script.clone();
        async move {
            let v = browser.execute(&script, vec![]).await.ok()?;
            let truthy = match &v {
                Value::Null => false,
                Value::Bool(b) => *b,
                Value::Number(n) => n.as_f64() != Some(0.0),
                Value::String(s) => !s.is_empty(),
                _ => true,
            };
            truthy.then_some(v)
        }
    })
    .await;
    match found {
        Some(v) => v,
        None => {
            let banner = browser.execute("return document.getElementById('error-text').textContent", vec![]).await;
            panic!("timed out waiting for {what} ({expr}); error banner: {banner:?}")
        }
    }
}

async fn js(browser: &Client, expr: &str) -> Value {
    browser.execute(&format!("return ({expr});"), vec![]).await.expect("script runs")
}

/// Presses a key as a user does (keydown + keyup on the focused element).
async fn press(browser: &Client, key: char) {
    let keys =
        KeyActions::new("keyboard".into()).then(KeyAction::Down { value: key }).then(KeyAction::Up { value: key });
    browser.perform_actions(keys).await.expect("key press");
}

async fn sign_in(browser: &Client, console: &str, secret: &str) {
    browser.goto(console).await.expect("open the console");
    let input = browser.wait().at_most(WAIT).for_element(Locator::Id("token")).await.expect("login form");
    input.send_keys(secret).await.expect("type the token");
    browser.find(Locator::Id("login-btn")).await.expect("button").click().await.expect("sign in");
    until(browser, "!document.getElementById('app').hidden", "the signed-in screen").await;
}

/// Comment ids of the items claimed and still open in the work list, in order (a claim lost to an expired lease
/// stays listed, marked, until the moderator moves on).
async fn work_ids(browser: &Client) -> Vec<String> {
    let v = js(browser, "Array.from(document.querySelectorAll('#work-list li.open')).map(li => li.dataset.commentId)")
        .await;
    serde_json::from_value(v).expect("ids")
}

async fn claim(browser: &Client, batch: u32) {
    let input = browser.find(Locator::Id("batch")).await.expect("batch input");
    input.clear().await.expect("clear");
    input.send_keys(&batch.to_string()).await.expect("batch size");
    browser.find(Locator::Id("claim-pending")).await.expect("claim button").click().await.expect("claim");
}

/// Submits a comment by Jane (one account, so her history on the site accumulates) and returns its verdict.
async fn submit(server: &HttpServer, id: &str, body: &str) -> String {
    let submission = json!({
        "commentId": id, "threadId": "article-7", "body": body,
        "author": {"ip": "203.0.113.7", "email": "jane.doe@example.com", "accountId": "acct-jane",
                   "displayName": "Jane Reader"},
    });
    let answer =
        request(server.http, "POST", "/v1/comments:submit", Some(&key("a")), Some(&submission.to_string())).await;
    assert_eq!(answer.status, 200, "{}", answer.body);
    answer.json()["verdict"].as_str().unwrap_or_default().to_string()
}

async fn hold(server: &HttpServer, id: &str, body: &str) {
    assert_eq!(submit(server, id, body).await, "VERDICT_PENDING_REVIEW", "{id} must be held");
}

/// Site b's one reported comment.
async fn report_on_b(server: &HttpServer) {
    let submission =
        json!({"commentId": "b-1", "threadId": "t", "body": "b's own comment", "author": {"ip": "198.51.100.7"}});
    let b = Some(key("b"));
    let answer = request(server.http, "POST", "/v1/comments:submit", b.as_deref(), Some(&submission.to_string())).await;
    assert_eq!(answer.status, 200, "{}", answer.body);
    let report = json!({"reason": "rude", "reporterId": "reader-1"}).to_string();
    let answer = request(server.http, "POST", "/v1/comments/b-1:report", b.as_deref(), Some(&report)).await;
    assert_eq!(answer.status, 200, "{}", answer.body);
}

const XSS: &str = "please hold <img src=x onerror=\"window.__xss = 1\"><script>window.__xss = 2</script>";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn moderators_work_the_queue_in_a_real_browser() {
    if !browser_available() {
        return;
    }
    let redis = TestRedis::start();
    let clock = ManualClock::new(SystemClock.now_ms());
    let options = RedisOptions { url: redis.url(), timeout: Duration::from_secs(2), durability: Durability::Primary };
    let store = Arc::new(RedisStore::connect(&options, clock.clone()).expect("connect"));
    let mut config = two_sites("suspect_words = [\"hold\"]");
    config.moderators.push(ModeratorConfig {
        id: "mod-ab".into(),
        token_sha256: sha256_hex("token-mod-ab"),
        sites: vec!["b".into(), "a".into()],
        role: Role::Moderator,
    });
    let server = HttpServer::start(config, Stores::of(store)).await;
    let console = format!("http://{}/", server.console);

    // Jane's history on the site: two published comments.
    for (id, body) in [("h-1", "Thanks, a clear and useful article."), ("h-2", "I agree with the second point.")] {
        assert_eq!(submit(&server, id, body).await, "VERDICT_APPROVED");
    }
    hold(&server, "c-xss", XSS).await;
    hold(
        &server,
        "c-spam",
        "Hold on 😀 — you stupid idiot, the details are at http://example.org/post; mail jane.doe@example.com \
         or call +1 415 555 0134",
    )
    .await;
    hold(&server, "c-release", "please hold this one for later").await;

    let driver = Driver::start().await;
    let a = driver.browser().await;

    // Sign in; the stats.
    a.goto(&console).await.expect("open");
    a.wait().at_most(WAIT).for_element(Locator::Id("token")).await.expect("login form");
    screenshot(&a, "login").await;
    sign_in(&a, &console, &token("mod-a")).await;
    until(&a, "document.getElementById('stat-pending').textContent === '3'", "3 pending in the stats").await;
    assert_eq!(js(&a, "document.getElementById('who').textContent").await, "mod-a");
    assert_eq!(js(&a, "sessionStorage.getItem('commentguard.token')").await, token("mod-a"));
    assert!(!js(&a, "location.href").await.as_str().unwrap_or_default().contains("token"), "never in the URL");
    screenshot(&a, "dashboard").await;

    // Claim the three; the first is the hostile body, shown as text.
    claim(&a, 3).await;
    until(&a, "document.querySelectorAll('#work-list li').length === 3", "three claimed items").await;
    assert_eq!(work_ids(&a).await, ["c-xss", "c-spam", "c-release"]);
    assert_eq!(js(&a, "document.getElementById('item-body').textContent").await, XSS, "the body as text");
    assert_eq!(js(&a, "document.querySelectorAll('#item-body img, #item-body script').length").await, 0);
    assert_eq!(js(&a, "document.querySelectorAll('img, script:not([src])').length").await, 0, "nothing injected");
    assert_eq!(js(&a, "window.__xss === undefined").await, true, "no injected script ran");
    assert_eq!(js(&a, "document.querySelector('#item-body mark.hl').textContent").await, "hold");

    // A reload keeps the claimed batch (its leases still run): same items, same order, still decidable below.
    a.refresh().await.expect("reload the page");
    until(&a, "!document.getElementById('app').hidden", "signed in again from the tab's session").await;
    until(&a, "document.querySelectorAll('#work-list li').length === 3", "the claimed items back after a reload").await;
    assert_eq!(work_ids(&a).await, ["c-xss", "c-spam", "c-release"]);
    assert_eq!(js(&a, "document.body.dataset.view").await, "work", "straight back to the work");

    // The keyboard: j to the spam item, its findings highlighted where the server says they are.
    press(&a, 'j').await;
    until(&a, "document.getElementById('item-comment').textContent === 'c-spam'", "j moves to the next item").await;
    let marks =
        js(&a, "Array.from(document.querySelectorAll('#item-body mark')).map(m => [m.textContent, m.dataset.codes])")
            .await;
    let marks: Vec<(String, String)> = serde_json::from_value(marks).expect("marks");
    let marked = |code: &str| {
        marks.iter().filter(|(_, c)| c.split(' ').any(|c| c == code)).map(|(t, _)| t.as_str()).collect::<String>()
    };
    assert_eq!(marked("policy.suspect_word"), "Hold", "{marks:?}");
    assert_eq!(marked("pii.email"), "jane.doe@example.com", "{marks:?}");
    assert!(marked("pii.phone").contains("555"), "{marks:?}");
    assert_eq!(js(&a, "document.getElementById('item-author').textContent.includes('j***@example.com')").await, true);
    assert_eq!(
        js(&a, "document.getElementById('item-author').textContent.includes('jane.doe')").await,
        false,
        "masked"
    );
    assert_eq!(js(&a, "document.getElementById('item-approved').textContent").await, "2", "the author's history");
    screenshot(&a, "queue-item").await;
    press(&a, 'k').await;
    until(&a, "document.getElementById('item-comment').textContent === 'c-xss'", "k moves back").await;

    // Help overlay.
    press(&a, '?').await;
    until(&a, "!document.getElementById('help').hidden", "the help overlay").await;
    screenshot(&a, "help").await;
    press(&a, Key::Escape.into()).await;
    until(&a, "document.getElementById('help').hidden", "Esc closes the help").await;

    // a approves the XSS item, s rejects the spam as spam, x releases the last.
    press(&a, 'a').await;
    until(&a, "document.querySelectorAll('#work-list li').length === 2", "the approved item leaves the list").await;
    let stored = |id: &'static str| {
        let app = server.app.clone();
        async move { app.store.comments.get("a", id).await.expect("store").expect("record") }
    };
    assert_eq!(stored("c-xss").await.verdict, commentguard::domain::Verdict::Approved);
    assert_eq!(js(&a, "document.getElementById('item-comment').textContent").await, "c-spam");
    let note = a.find(Locator::Id("note")).await.expect("note");
    note.send_keys("pharmacy spam").await.expect("note");
    let reasons = a.find(Locator::Id("reasons")).await.expect("reason codes");
    reasons.send_keys("spam.links, policy.suspect_word").await.expect("reason codes");
    press(&a, Key::Escape.into()).await;
    press(&a, 's').await;
    until(&a, "document.querySelectorAll('#work-list li').length === 1", "the spam leaves the list").await;
    assert_eq!(stored("c-spam").await.verdict, commentguard::domain::Verdict::Rejected);
    press(&a, 'x').await;
    until(&a, "document.querySelectorAll('#work-list li').length === 0", "the released item leaves the list").await;
    let stats = server.app.store.review.queue_stats("a").await.expect("stats");
    assert_eq!((stats.pending, stats.claimed), (1, 0), "released: back in the queue");
    let audit = server.app.store.review.audit_log("a", 10).await.expect("audit");
    let decided: Vec<_> = audit.iter().map(|e| (e.comment_id.as_str(), e.action.as_str(), e.note.as_str())).collect();
    assert_eq!(decided, [("c-xss", "APPROVE", ""), ("c-spam", "REJECT_SPAM", "pharmacy spam")]);
    assert_eq!(audit[1].reason_codes, ["spam.links", "policy.suspect_word"]);

    // A reader reports a published comment: the Reported queue lists it with the reason.
    let report = json!({"reason": "off-topic advertising", "reporterId": "reader-9", "reporterIp": "198.51.100.4"});
    let reported =
        request(server.http, "POST", "/v1/comments/h-1:report", Some(&key("a")), Some(&report.to_string())).await;
    assert_eq!(reported.status, 200, "{}", reported.body);
    press(&a, 'g').await;
    press(&a, 'r').await;
    until(&a, "document.querySelector('#queue-reported tr[data-comment-id=\"h-1\"]')", "the reported comment").await;
    let row = js(&a, "document.querySelector('#queue-reported tr[data-comment-id=\"h-1\"]').textContent").await;
    assert!(row.as_str().is_some_and(|t| t.contains("1 × off-topic advertising")), "{row}");
    press(&a, 'g').await;
    press(&a, 'p').await;
    until(&a, "document.querySelector('#queue-pending tr[data-comment-id=\"c-release\"]')", "the released item").await;
    screenshot(&a, "pending").await;

    // The audit trail screen.
    press(&a, 'g').await;
    press(&a, 'l').await;
    until(&a, "document.querySelectorAll('#audit-rows tr[data-comment-id]').length === 2", "two audit rows").await;
    let first = js(&a, "document.querySelector('#audit-rows tr').textContent").await;
    assert!(
        first.as_str().is_some_and(|t| t.contains("mod-a")
            && t.contains("rejected as spam")
            && t.contains("pharmacy spam")
            && t.contains("spam.links, policy.suspect_word")),
        "{first}"
    );
    screenshot(&a, "audit").await;

    // RESOURCE_EXHAUSTED (no review RPC answers it today, so the page's fetch answers it once, as the server's error
    // mapping would: 429, Retry-After, RetryInfo): shown with its wait, then retried by the user.
    a.execute(
        r#"const real = window.fetch;
           window.fetch = function (url, init) {
             if (String(url).endsWith('/GetQueueStats')) {
               window.fetch = real;
               const body = JSON.stringify({code: 8, message: 'too many requests', details: [
                 {'@type': 'type.googleapis.com/google.rpc.RetryInfo', retryDelay: '1.200s'}]});
               return Promise.resolve(new Response(body, {status: 429,
                 headers: {'Content-Type': 'application/json', 'Retry-After': '2'}}));
             }
             return real.call(window, url, init);
           };"#,
        vec![],
    )
    .await
    .expect("fake one 429");
    press(&a, 'g').await;
    press(&a, 'd').await;
    until(&a, "document.getElementById('error').dataset.code === 'RESOURCE_EXHAUSTED'", "the 429 shown").await;
    let retry =
        js(&a, "[document.getElementById('error-retry').textContent, document.getElementById('error-retry').disabled]")
            .await;
    assert_eq!(retry, json!(["Retry in 2 s", true]), "the wait from RetryInfo, rounded up");
    until(&a, "!document.getElementById('error-retry').disabled", "the retry offered once the wait is over").await;
    let loaded = js(&a, "document.getElementById('view-dashboard').dataset.loaded || ''").await;
    a.find(Locator::Id("error-retry")).await.expect("retry").click().await.expect("retry");
    let reloaded = format!(
        "document.getElementById('error').hidden && document.getElementById('view-dashboard').dataset.loaded !== {loaded}"
    );
    until(&a, &reloaded, "the retry loaded the stats").await;

    // An expired lease is an error on screen, not a silent failure.
    until(&a, "document.getElementById('stat-pending').textContent === '1'", "the released item is pending").await;
    claim(&a, 1).await;
    until(&a, "document.querySelectorAll('#work-list li').length === 1", "claimed again").await;
    clock.advance(301_000);
    press(&a, 'a').await;
    until(&a, "!document.getElementById('error').hidden", "the error banner").await;
    assert_eq!(js(&a, "document.getElementById('error').dataset.code").await, "FAILED_PRECONDITION");
    assert_eq!(js(&a, "document.querySelector('#work-list li').dataset.status").await, "lost");
    assert_eq!(
        server.app.store.review.audit_log("a", 10).await.expect("audit").len(),
        2,
        "the late decision changed nothing"
    );
    screenshot(&a, "expired-lease").await;

    // Two moderators in two browsers claim at once: disjoint batches, each item decided once.
    let b = driver.browser().await;
    sign_in(&b, &console, &token("admin-a")).await;
    for i in 0..12 {
        hold(&server, &format!("r-{i:02}"), &format!("race {i}: please hold")).await;
    }
    for browser in [&a, &b] {
        browser.find(Locator::Css("button[data-view=dashboard]")).await.expect("tab").click().await.expect("tab");
        until(browser, "document.getElementById('stat-pending').textContent === '13'", "13 pending").await;
    }
    let claims_before = |browser: &Client| {
        let browser = browser.clone();
        async move { js(&browser, "parseInt(document.body.dataset.claims || '0', 10)").await.as_i64().unwrap_or(0) }
    };
    let (ca, cb) = (claims_before(&a).await, claims_before(&b).await);
    tokio::join!(claim(&a, 8), claim(&b, 8));
    until(&a, &format!("parseInt(document.body.dataset.claims, 10) === {}", ca + 1), "A's claim finished").await;
    until(&b, &format!("parseInt(document.body.dataset.claims, 10) === {}", cb + 1), "B's claim finished").await;
    // A's lost claim of c-release is back in the queue: whoever claims it now has it open (A: in place of the lost
    // entry).
    let mine_a = work_ids(&a).await;
    let mine_b = work_ids(&b).await;
    let (set_a, set_b): (BTreeSet<_>, BTreeSet<_>) = (mine_a.iter().collect(), mine_b.iter().collect());
    assert!(set_a.is_disjoint(&set_b), "the same item went to both: {mine_a:?} / {mine_b:?}");
    assert_eq!(mine_a.len() + mine_b.len(), 13, "every pending item claimed once: {mine_a:?} / {mine_b:?}");
    assert!(!mine_a.is_empty() && !mine_b.is_empty(), "both got a share: {mine_a:?} / {mine_b:?}");

    // Each approves its whole batch with the keyboard.
    for (browser, ids) in [(&a, &mine_a), (&b, &mine_b)] {
        for left in (0..ids.len()).rev() {
            until(browser, "document.querySelector('#work-list li.current.open')", "an open current item").await;
            press(browser, 'a').await;
            let expr = format!("document.querySelectorAll('#work-list li.open').length === {left}");
            until(browser, &expr, "the approved item leaves the list").await;
        }
    }
    let audit = server.app.store.review.audit_log("a", 100).await.expect("audit");
    let mut by_comment: HashMap<&str, Vec<&str>> = HashMap::new();
    for e in &audit {
        by_comment.entry(e.comment_id.as_str()).or_default().push(e.moderator.as_str());
    }
    for (ids, moderator) in [(&mine_a, "mod-a"), (&mine_b, "admin-a")] {
        for id in ids {
            assert_eq!(by_comment.get(id.as_str()), Some(&vec![moderator]), "{id} decided once, by its claimer");
        }
    }
    let stats = server.app.store.review.queue_stats("a").await.expect("stats");
    assert_eq!((stats.pending, stats.claimed), (0, 0));

    // Logging out forgets the token.
    a.find(Locator::Id("logout")).await.expect("logout").click().await.expect("log out");
    until(&a, "!document.getElementById('login').hidden", "the login screen").await;
    assert_eq!(js(&a, "sessionStorage.getItem('commentguard.token')").await, Value::Null);
    assert_eq!(js(&a, "sessionStorage.getItem('commentguard.work')").await, Value::Null, "and the claimed batch");

    // A token for two sites picks between them; each site shows its own queue.
    report_on_b(&server).await;
    sign_in(&a, &console, "token-mod-ab").await;
    let options = js(&a, "Array.from(document.querySelectorAll('#site option')).map(o => o.value)").await;
    assert_eq!(options, json!(["a", "b"]));
    assert_eq!(js(&a, "document.getElementById('site').disabled").await, false);
    until(&a, "document.getElementById('stat-reported').textContent === '1'", "site a: h-1 reported").await;
    // Claim the reported comment, then leave the site: the claim is given back at once, not when its lease ends.
    let batch = a.find(Locator::Id("batch")).await.expect("batch input");
    batch.clear().await.expect("clear");
    batch.send_keys("1").await.expect("batch size");
    a.find(Locator::Id("claim-reported")).await.expect("claim reported").click().await.expect("claim");
    until(&a, "document.querySelector('#work-list li.open[data-comment-id=\"h-1\"]')", "h-1 claimed").await;
    let reported = server.app.store.review.queue_stats("a").await.expect("stats");
    assert_eq!((reported.reported, reported.claimed), (0, 1));
    a.execute(
        "const s = document.getElementById('site'); s.value = 'b'; s.dispatchEvent(new Event('change'));",
        vec![],
    )
    .await
    .expect("pick site b");
    until(&a, "document.getElementById('stat-reported').textContent === '1' && document.getElementById('stat-decided').textContent === '0'", "site b: its own stats").await;
    let released = server.app.store.review.queue_stats("a").await.expect("stats");
    assert_eq!((released.reported, released.claimed), (1, 0), "leaving site a released its claim");
    a.close().await.expect("close A");
    b.close().await.expect("close B");
}

//! Abuse detection as a product, end to end over gRPC (issue 13): scores in every answer and in the stored answer,
//! each site's own policy per category, findings whose spans point into the original body, moderators' abuse
//! rejections teaching their own site's abuse model (on a real Redis, revertible), and a site's own external
//! classifier (a local HTTP receiver) combined with the built-in scores, with its timeout, fail-open/closed and
//! concurrency cap.

mod common;

use commentguard::config::{Config, sha256_hex};
use commentguard::pb;
use common::redis::TestRedis;
use common::{TestServer, authed, key, submission, token, wait_for};
use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

const THREAT: &str = "We will find you and kill you, journalist";

/// Sites `a`, `b` and `c`, each with its `[sites.policy.abuse]` lines; `mod-a` reviews a and c, `mod-b` reviews b.
fn config(abuse: [&str; 3]) -> Config {
    let sites: String = ["a", "b", "c"]
        .iter()
        .zip(abuse)
        .map(|(id, lines)| {
            format!(
                "[[sites]]\nid = \"{id}\"\napi_key_sha256 = [\"{}\"]\n[sites.policy]\nduplicate_window_secs = 0\n\
                 [sites.policy.abuse]\n{lines}\n",
                sha256_hex(&key(id))
            )
        })
        .collect();
    let moderators: String = [("mod-a", "\"a\", \"c\""), ("mod-b", "\"b\"")]
        .iter()
        .map(|(id, sites)| {
            format!("[[moderators]]\nid = \"{id}\"\ntoken_sha256 = \"{}\"\nsites = [{sites}]\n", sha256_hex(&token(id)))
        })
        .collect();
    let text = format!(
        "[server]\nmetrics_listen = \"127.0.0.1:0\"\n[spam]\nlearn_interval_ms = 20\nreload_interval_ms = 20\n\
         {sites}{moderators}"
    );
    Config::from_toml(&text).expect("test config is valid")
}

/// A submission by its own reader (own account and address), so no reputation moves any score.
fn by_reader(id: &str, body: &str) -> pb::SubmitCommentRequest {
    static READERS: AtomicUsize = AtomicUsize::new(1);
    let n = READERS.fetch_add(1, Ordering::SeqCst);
    let mut req = submission(id, body);
    let author = req.author.get_or_insert_with(Default::default);
    author.ip = format!("10.{}.{}.{}", n / 65536 % 256, n / 256 % 256, n % 256);
    author.email.clear();
    author.account_id = format!("reader-{n}");
    req
}

async fn submit(server: &TestServer, site: &str, req: pb::SubmitCommentRequest) -> pb::SubmitCommentResponse {
    let mut client = server.moderation().await;
    client.submit_comment(authed(req, &key(site))).await.expect("accepted").into_inner()
}

fn scores(r: &pb::SubmitCommentResponse) -> pb::AbuseScores {
    r.abuse_scores.expect("every answer carries abuse scores")
}

fn finding<'a>(findings: &'a [pb::Finding], code: &str) -> Option<&'a pb::Finding> {
    findings.iter().find(|f| f.code == code)
}

/// The text a UTF-16 span covers.
fn utf16_text(body: &str, span: &pb::Span) -> String {
    let units: Vec<u16> = body.encode_utf16().collect();
    String::from_utf16_lossy(&units[span.start as usize..span.end as usize])
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_threat_is_decided_with_spans_and_scores_and_each_site_applies_its_own_policy() {
    // a: the defaults; b: threats allowed; c: threats held, never rejected automatically.
    let server =
        TestServer::start(config(["", "threat = { action = \"allow\" }", "threat = { reject_at = 1.0 }"])).await;

    // Defaults: held from 0.5, rejected from 0.9; the reason is the category's code.
    let a = submit(&server, "a", by_reader("t-a", THREAT)).await;
    let threat = scores(&a).threat;
    assert!(threat >= 0.5, "the built-in detector sees the threat: {threat}");
    let expected = if threat >= 0.9 { pb::Verdict::Rejected } else { pb::Verdict::PendingReview };
    assert_eq!(a.verdict(), expected, "threat {threat}");
    let f = finding(&a.findings, "abuse.threat").expect("an abuse.threat finding");
    assert_eq!((f.category(), f.score), (pb::Category::Abuse, threat));
    let marked: Vec<&str> = f.spans.iter().map(|s| &THREAT[s.start as usize..s.end as usize]).collect();
    assert!(marked.iter().any(|t| t.contains("kill")), "spans mark the threat's words: {marked:?}");

    // Site c holds it; spans in UTF-16 units still point at the words of the ORIGINAL body (an emoji before them).
    let body = format!("📰 {THREAT}");
    let mut req = by_reader("t-c", &body);
    req.offset_encoding = pb::OffsetEncoding::Utf16 as i32;
    let c = submit(&server, "c", req.clone()).await;
    assert_eq!(c.verdict(), pb::Verdict::PendingReview);
    assert!((scores(&c).threat - threat).abs() < 0.05, "the same words, about the same score");
    let f = finding(&c.findings, "abuse.threat").expect("finding");
    let marked: Vec<String> = f.spans.iter().map(|s| utf16_text(&body, s)).collect();
    assert!(marked.iter().any(|t| t.contains("kill")), "{marked:?}");
    assert!(marked.iter().all(|t| !t.contains('📰')), "{marked:?}");

    // A replay returns the same scores and findings; so do GetComment and the moderator's review item.
    let again = submit(&server, "c", req).await;
    assert!(again.replayed);
    assert_eq!((again.abuse_scores, &again.findings), (c.abuse_scores, &c.findings));
    let mut client = server.moderation().await;
    let get = pb::GetCommentRequest { comment_id: "t-c".into(), ..Default::default() };
    let got = client.get_comment(authed(get, &key("c"))).await.expect("get").into_inner();
    assert_eq!(got.abuse_scores, c.abuse_scores);
    let mut review = server.review().await;
    let claim = pb::ClaimNextRequest { site_id: "c".into(), max_items: 5, ..Default::default() };
    let items = review.claim_next(authed(claim, &token("mod-a"))).await.expect("claim").into_inner().items;
    assert_eq!(items.len(), 1);
    assert_eq!(items[0].abuse_scores, c.abuse_scores, "moderators see the scores");
    assert!(finding(&items[0].findings, "abuse.threat").is_some());
    let list = pb::ListDecisionsRequest { after_cursor: "0".into(), page_size: 10 };
    let events = client.list_decisions(authed(list, &key("c"))).await.expect("list").into_inner().events;
    assert_eq!(events[0].reason_codes, ["abuse.threat"], "the decision event names the category");

    // Site b allows threats: the same text is approved, its score and finding still reported.
    let b = submit(&server, "b", by_reader("t-b", THREAT)).await;
    assert_eq!(b.verdict(), pb::Verdict::Approved);
    assert_eq!(scores(&b).threat, threat);
    assert!(finding(&b.findings, "abuse.threat").is_some());

    // Profanity alone is approved by default, and reported.
    let swear = submit(&server, "a", by_reader("p-a", "Damn, this fucking budget again")).await;
    assert!(scores(&swear).profanity >= 0.5, "{:?}", swear.abuse_scores);
    assert_eq!(swear.verdict(), pb::Verdict::Approved);
    assert!(finding(&swear.findings, "abuse.profanity").is_some());

    // A clean comment: approved, no abuse finding.
    let clean = submit(&server, "a", by_reader("clean-a", "The budget debate was long but useful, thank you")).await;
    assert_eq!(clean.verdict(), pb::Verdict::Approved);
    assert!(clean.findings.iter().all(|f| f.category() != pb::Category::Abuse), "{:?}", clean.findings);
}

// ---------------------------------------------------------------------------------------------------------------
// Learning from moderators (Redis).

/// A local insult the built-in lexicons do not know.
const INSULT: &str = "dhakkanwala";

const HELD_OUT: [&str; 4] = [
    // Not "… poora dhakkanwala hai": the n-gram model reads "ye columnist poora … hai" as an insult whatever the word.
    "Ye columnist poora dhakkanwala nikla",
    "Kya dhakkanwala tajzia hai yeh",
    "Anchor sahab ka tajzia dhakkanwala tha",
    "Is dhakkanwala ko koi samjhaye",
];
const NEUTRAL: &str = "Budget par achi behas hui, shukriya";

/// The abuse scores of each text submitted to `site` as new comments by new readers.
async fn probe(server: &TestServer, site: &str, tag: &str, texts: &[&str]) -> Vec<pb::SubmitCommentResponse> {
    let mut out = Vec::new();
    for (i, text) in texts.iter().enumerate() {
        out.push(submit(server, site, by_reader(&format!("{tag}-{i}"), text)).await);
    }
    out
}

fn all_scores(r: &[pb::SubmitCommentResponse]) -> Vec<pb::AbuseScores> {
    r.iter().map(scores).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn moderators_abuse_rejections_teach_their_site_and_revert_restores_the_scores() {
    let redis = TestRedis::start();
    let server = TestServer::start_with_store(config(["", "", ""]), common::stores::redis_store_at(&redis)).await;

    let before_a = probe(&server, "a", "before-a", &HELD_OUT).await;
    let before_b = probe(&server, "b", "before-b", &HELD_OUT).await;
    let neutral_before = probe(&server, "a", "neutral-before", &[NEUTRAL]).await;
    for r in &before_a {
        assert!(scores(r).insult < 0.5, "the built-in detector does not know the word: {:?}", r.abuse_scores);
        assert_eq!(r.verdict(), pb::Verdict::Approved);
    }

    // Readers post; other readers report; moderators reject the insults as abuse and approve the rest.
    let insults: Vec<String> = (0..10).map(|i| format!("Sun {INSULT}, tumhari raaye {i} se ikhtilaf hai")).collect();
    let fine: Vec<String> = (0..12).map(|i| format!("Acha column hai, point {i} par mutafiq hoon")).collect();
    let mut client = server.moderation().await;
    let mut labels = HashMap::new();
    for (i, (text, abusive)) in insults.iter().map(|t| (t, true)).chain(fine.iter().map(|t| (t, false))).enumerate() {
        let id = format!("train-{i}");
        assert_eq!(submit(&server, "a", by_reader(&id, text)).await.verdict(), pb::Verdict::Approved);
        let report = pb::ReportCommentRequest {
            comment_id: id.clone(),
            reason: "abusive".into(),
            reporter_id: format!("reporter-{i}"),
            ..Default::default()
        };
        client.report_comment(authed(report, &key("a"))).await.expect("reported");
        labels.insert(id, abusive);
    }
    let mut review = server.review().await;
    let mut decided = 0;
    let mut named = 0;
    while decided < labels.len() {
        let claim = pb::ClaimNextRequest {
            site_id: "a".into(),
            queue: pb::Queue::Reported as i32,
            max_items: 50,
            ..Default::default()
        };
        let items = review.claim_next(authed(claim, &token("mod-a"))).await.expect("claim").into_inner().items;
        assert!(!items.is_empty(), "every reported comment waits in the reported queue");
        for item in items {
            let (action, reason_codes) = if labels[&item.comment_id] {
                // Half name the category; the other half leave it to the item's scores (all 0 here: insult).
                named += 1;
                let codes = if named % 2 == 0 { vec!["abuse.insult".to_string()] } else { Vec::new() };
                (pb::ReviewAction::RejectAbuse, codes)
            } else {
                (pb::ReviewAction::Approve, Vec::new())
            };
            let req = pb::DecideRequest {
                site_id: "a".into(),
                review_id: item.review_id,
                claim_token: item.claim_token,
                action: action as i32,
                reason_codes,
                ..Default::default()
            };
            let d = review.decide(authed(req, &token("mod-a"))).await.expect("decided").into_inner();
            let expected =
                if action == pb::ReviewAction::Approve { pb::Verdict::Approved } else { pb::Verdict::Rejected };
            assert_eq!(d.verdict(), expected);
            decided += 1;
        }
    }

    // The learner folds every decision into the site's delta; the replica reloads it.
    let learned = wait_for(Duration::from_secs(60), || async {
        let l = server.app.models.learned("a")?;
        (l.abuse.docs() == [12, 0, 0, 10, 0, 0]).then_some(l)
    })
    .await
    .expect("the site's abuse model learned 12 approvals and 10 insults");
    assert!(learned.abuse.is_active());
    assert!(server.app.models.learned("b").is_none_or(|l| !l.abuse.is_active()), "site b learned nothing");

    let after_a = probe(&server, "a", "after-a", &HELD_OUT).await;
    let after_b = probe(&server, "b", "after-b", &HELD_OUT).await;
    let neutral_after = probe(&server, "a", "neutral-after", &[NEUTRAL]).await;
    for (before, after) in before_a.iter().zip(&after_a) {
        println!("insult score: {:.3} -> {:.3}", scores(before).insult, scores(after).insult);
        assert!(scores(after).insult >= 0.5, "the taught word now holds: {:?}", after.abuse_scores);
        assert_eq!(after.verdict(), pb::Verdict::PendingReview);
        let f = finding(&after.findings, "abuse.insult").expect("an abuse.insult finding");
        assert!(!f.spans.is_empty(), "the finding marks the learned word");
    }
    let body = HELD_OUT[0];
    let f = finding(&after_a[0].findings, "abuse.insult").expect("finding");
    assert_eq!(&body[f.spans[0].start as usize..f.spans[0].end as usize], INSULT);
    assert_eq!(all_scores(&after_b), all_scores(&before_b), "another site's scores do not move");
    assert_eq!(all_scores(&neutral_after), all_scores(&neutral_before), "a text without the word does not move");

    // The operator reverts the site to version 0: the replica reloads, and the scores are exactly the first ones.
    let reverted = server.app.store.models.revert_model("a", 0, 24).await.expect("revert");
    let commentguard::store::learning::RevertOutcome::Reverted(version) = reverted else { panic!("{reverted:?}") };
    let back = wait_for(Duration::from_secs(30), || async {
        let l = server.app.models.learned("a")?;
        (l.version == version && !l.abuse.is_active()).then_some(())
    })
    .await;
    assert!(back.is_some(), "the replica reloaded the reverted (empty) delta");
    let reverted_a = probe(&server, "a", "reverted-a", &HELD_OUT).await;
    assert_eq!(all_scores(&reverted_a), all_scores(&before_a), "the base scores are back, exactly");
    assert!(reverted_a.iter().all(|r| r.verdict() == pb::Verdict::Approved));
}

// ---------------------------------------------------------------------------------------------------------------
// The external classifier hook, against a local HTTP receiver.

/// What the receiver does with a request.
#[derive(Clone)]
enum Mode {
    /// Answers 200 with this JSON at once.
    Answer(&'static str),
    /// Never answers.
    Hang,
    /// Answers with this JSON once the gate opens.
    Gated(&'static str, tokio::sync::watch::Receiver<bool>),
}

/// A minimal HTTP/1.1 endpoint on a tokio `TcpListener`: records each request's JSON body and how many requests
/// were in flight at once.
struct Receiver {
    url: String,
    requests: Arc<parking_lot::Mutex<Vec<serde_json::Value>>>,
    in_flight: Arc<AtomicUsize>,
    max_in_flight: Arc<AtomicUsize>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for Receiver {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl Receiver {
    async fn start(mode: Mode) -> Receiver {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let url = format!("http://{}/score", listener.local_addr().expect("addr"));
        let requests = Arc::new(parking_lot::Mutex::new(Vec::new()));
        let in_flight = Arc::new(AtomicUsize::new(0));
        let max_in_flight = Arc::new(AtomicUsize::new(0));
        let (r, i, m) = (requests.clone(), in_flight.clone(), max_in_flight.clone());
        let task = tokio::spawn(async move {
            let mut connections = Vec::new();
            while let Ok((socket, _)) = listener.accept().await {
                let (r, i, m, mode) = (r.clone(), i.clone(), m.clone(), mode.clone());
                connections.push(tokio::spawn(serve_connection(socket, mode, r, i, m)));
            }
        });
        Receiver { url, requests, in_flight, max_in_flight, task }
    }
}

/// Serves requests on one keep-alive connection until the peer closes it.
async fn serve_connection(
    mut socket: tokio::net::TcpStream,
    mode: Mode,
    requests: Arc<parking_lot::Mutex<Vec<serde_json::Value>>>,
    in_flight: Arc<AtomicUsize>,
    max_in_flight: Arc<AtomicUsize>,
) {
    let mut buf = Vec::new();
    loop {
        let head_end = loop {
            if let Some(p) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
                break p + 4;
            }
            let mut chunk = [0u8; 4096];
            match socket.read(&mut chunk).await {
                Ok(0) | Err(_) => return,
                Ok(n) => buf.extend_from_slice(&chunk[..n]),
            }
        };
        let head = String::from_utf8_lossy(&buf[..head_end]).to_ascii_lowercase();
        let length: usize = head
            .lines()
            .find_map(|l| l.strip_prefix("content-length:").map(|v| v.trim().parse().unwrap_or(0)))
            .unwrap_or(0);
        while buf.len() < head_end + length {
            let mut chunk = [0u8; 4096];
            match socket.read(&mut chunk).await {
                Ok(0) | Err(_) => return,
                Ok(n) => buf.extend_from_slice(&chunk[..n]),
            }
        }
        let body: Vec<u8> = buf.drain(..head_end + length).skip(head_end).collect();
        requests.lock().push(serde_json::from_slice(&body).unwrap_or(serde_json::Value::Null));
        let now = in_flight.fetch_add(1, Ordering::SeqCst) + 1;
        max_in_flight.fetch_max(now, Ordering::SeqCst);
        let answer = match &mode {
            Mode::Answer(json) => *json,
            Mode::Hang => std::future::pending().await,
            Mode::Gated(json, gate) => {
                let mut gate = gate.clone();
                let _ = gate.wait_for(|open| *open).await;
                *json
            }
        };
        in_flight.fetch_sub(1, Ordering::SeqCst);
        let response = format!(
            "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\r\n{answer}",
            answer.len()
        );
        if socket.write_all(response.as_bytes()).await.is_err() {
            return;
        }
    }
}

fn external(url: &str, timeout_ms: u64, max_concurrency: usize, on_failure: &str) -> String {
    format!(
        "[sites.policy.abuse.external]\nurl = \"{url}\"\ntimeout_ms = {timeout_ms}\n\
         max_concurrency = {max_concurrency}\non_failure = \"{on_failure}\""
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_sites_classifier_scores_are_combined_with_the_builtin_ones() {
    let receiver = Receiver::start(Mode::Answer(r#"{"scores": {"sexual": 0.8, "threat": 0.1}}"#)).await;
    let server = TestServer::start(config([&external(&receiver.url, 5000, 4, "open"), "", ""])).await;

    // A comment the built-in detector finds clean: the classifier's score holds it, as a finding without spans.
    let body = "Nice photo in the article, write to me at reader@example.com";
    let mut req = by_reader("x-1", body);
    req.language = "en".into();
    let a = submit(&server, "a", req).await;
    assert_eq!(scores(&a).sexual, 0.8);
    assert_eq!(a.verdict(), pb::Verdict::PendingReview);
    let f = finding(&a.findings, "abuse.sexual").expect("a finding from the classifier");
    assert!(f.spans.is_empty());
    // The endpoint got the body as the site publishes it (the email masked) and the language hint.
    let asked = receiver.requests.lock().clone();
    assert_eq!(asked.len(), 1);
    assert_eq!(asked[0]["text"], a.redacted_body.as_str());
    assert!(!a.redacted_body.contains("reader@example.com"), "{}", a.redacted_body);
    assert_eq!(asked[0]["language"], "en");

    // Per category the higher score wins: the built-in threat score stays, the classifier's sexual score is added.
    let with_hook = submit(&server, "a", by_reader("x-2", THREAT)).await;
    let without = submit(&server, "b", by_reader("x-3", THREAT)).await;
    assert_eq!(scores(&with_hook).threat, scores(&without).threat);
    assert!(scores(&with_hook).threat > 0.1);
    assert_eq!((scores(&with_hook).sexual, scores(&without).sexual), (0.8, 0.0));
    assert_eq!(receiver.requests.lock().len(), 2, "site b has no classifier: nothing was sent for it");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_classifier_that_hangs_fails_open_or_closed_per_site() {
    let receiver = Receiver::start(Mode::Hang).await;
    let server = TestServer::start(config([
        &external(&receiver.url, 150, 4, "open"),
        &external(&receiver.url, 150, 4, "closed"),
        "",
    ]))
    .await;
    let text = "The budget debate was long but useful, thank you";

    let started = Instant::now();
    let open = submit(&server, "a", by_reader("h-a", text)).await;
    let waited = started.elapsed();
    assert_eq!(open.verdict(), pb::Verdict::Approved, "fail open: the built-in scores alone decide");
    assert!(finding(&open.findings, "abuse.external_unavailable").is_none());
    assert!(waited >= Duration::from_millis(150), "it waited for the timeout: {waited:?}");

    let closed = submit(&server, "b", by_reader("h-b", text)).await;
    assert_eq!(closed.verdict(), pb::Verdict::PendingReview, "fail closed: held for a moderator");
    let f = finding(&closed.findings, "abuse.external_unavailable").expect("the reason");
    assert!(f.detail.contains("timeout"), "{}", f.detail);
    let mut client = server.moderation().await;
    let list = pb::ListDecisionsRequest { after_cursor: "0".into(), page_size: 10 };
    let events = client.list_decisions(authed(list, &key("b"))).await.expect("list").into_inner().events;
    assert_eq!(events[0].reason_codes, ["abuse.external_unavailable"]);
    assert_eq!(receiver.requests.lock().len(), 2);

    let metrics = common::http_get(&format!("http://{}/metrics", server.metrics_addr)).await.expect("metrics");
    for line in [
        "commentguard_abuse_external_total{outcome=\"timeout\"}",
        "commentguard_abuse_external_failures_total{on_failure=\"open\"}",
        "commentguard_abuse_external_failures_total{on_failure=\"closed\"}",
    ] {
        assert!(metrics.contains(line), "{line} in /metrics");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_concurrency_cap_fails_extra_requests_at_once() {
    let (open_gate, gate) = tokio::sync::watch::channel(false);
    let receiver = Receiver::start(Mode::Gated(r#"{"scores": {}}"#, gate)).await;
    let server = Arc::new(TestServer::start(config([&external(&receiver.url, 10_000, 2, "closed"), "", ""])).await);
    let text = "The budget debate was long but useful, thank you";

    let (tx, mut rx) = tokio::sync::mpsc::channel(8);
    for i in 0..5 {
        let (server, tx) = (server.clone(), tx.clone());
        tokio::spawn(async move {
            let _ = tx.send(submit(&server, "a", by_reader(&format!("cap-{i}"), text)).await).await;
        });
    }
    // Two requests reach the endpoint and wait there; the other three fail at once (no queue) and are held.
    let mut early = Vec::new();
    for _ in 0..3 {
        let r = tokio::time::timeout(Duration::from_secs(60), rx.recv()).await.expect("answered without waiting");
        early.push(r.expect("an answer"));
    }
    let waiting =
        wait_for(Duration::from_secs(30), || async { (receiver.in_flight.load(Ordering::SeqCst) == 2).then_some(()) })
            .await;
    assert!(waiting.is_some(), "the two requests within the cap wait at the endpoint");
    for r in &early {
        assert_eq!(r.verdict(), pb::Verdict::PendingReview);
        let f = finding(&r.findings, "abuse.external_unavailable").expect("over the cap");
        assert!(f.detail.contains("overloaded"), "{}", f.detail);
    }
    open_gate.send(true).expect("gate");
    for _ in 0..2 {
        let r = tokio::time::timeout(Duration::from_secs(60), rx.recv()).await.expect("answered").expect("an answer");
        assert_eq!(r.verdict(), pb::Verdict::Approved, "the classifier answered: nothing abusive");
    }
    assert_eq!(receiver.max_in_flight.load(Ordering::SeqCst), 2, "never more than max_concurrency at the endpoint");
    assert_eq!(receiver.requests.lock().len(), 2);
}

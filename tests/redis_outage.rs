//! A Redis that stops answering (SIGSTOP) under load: every UNAVAILABLE answer says exactly what happened.
//! `STORE_UNAVAILABLE_NOT_STORED` means the comment is not stored; `STORE_OUTCOME_UNKNOWN` means it may be (a paused
//! Redis runs its backlog when it resumes) and retrying the same comment resolves it: stored exactly once.

mod common;

use commentguard::clock::SystemClock;
use commentguard::error::{DOMAIN, NOT_STORED, OUTCOME_UNKNOWN};
use commentguard::pb::{self, moderation_service_client::ModerationServiceClient};
use commentguard::store::redis::{Durability, RedisOptions, RedisStore};
use commentguard::store::{After, CommentStore, DecisionLog, StreamId};
use common::redis::TestRedis;
use common::{TestServer, authed, key, submission, two_sites, wait_for};
use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::Duration;
use tonic::Code;
use tonic_types::StatusExt;

/// The store's per-command timeout: short, so a paused Redis is noticed fast.
const STORE_TIMEOUT: Duration = Duration::from_millis(200);

async fn server_on(redis: &TestRedis, timeout: Duration) -> TestServer {
    let options = RedisOptions { url: redis.url(), timeout, durability: Durability::Primary };
    let store = RedisStore::connect(&options, Arc::new(SystemClock)).expect("connect");
    TestServer::start_with_store(two_sites("suspect_words = [\"hold\"]"), Arc::new(store)).await
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Told {
    Stored,
    NotStored,
    Unknown,
}

/// What an answer told about the comment; anything but OK or a well-formed UNAVAILABLE fails the test.
fn told(answer: &Result<tonic::Response<pb::SubmitCommentResponse>, tonic::Status>) -> Told {
    let status = match answer {
        Ok(_) => return Told::Stored,
        Err(status) => status,
    };
    assert_eq!(status.code(), Code::Unavailable, "an outage is UNAVAILABLE: {status:?}");
    let message = status.message().to_lowercase();
    assert!(!message.contains("redis") && !message.contains("timed out"), "no store text: {message}");
    assert!(status.get_details_retry_info().is_some(), "RetryInfo");
    let info = status.get_details_error_info().expect("UNAVAILABLE carries ErrorInfo");
    assert_eq!(info.domain, DOMAIN);
    match info.reason.as_str() {
        r if r == NOT_STORED => Told::NotStored,
        r if r == OUTCOME_UNKNOWN => Told::Unknown,
        other => panic!("unexpected reason {other}"),
    }
}

fn body_of(id: &str, n: usize) -> String {
    if n % 3 == 0 { format!("please hold {id}") } else { format!("comment {id}") }
}

/// Every decision event of site `a`, counted per comment.
async fn events_per_comment(store: &dyn DecisionLog) -> HashMap<String, usize> {
    let mut counts = HashMap::new();
    let mut after = After::Start;
    loop {
        let page = store.read_decisions("a", after, 1000).await.expect("read decisions");
        let Some(last) = page.last() else { return counts };
        after = After::Id(StreamId::parse(&last.cursor).expect("cursor"));
        for e in page {
            *counts.entry(e.comment_id).or_default() += 1;
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_paused_redis_refuses_exactly_and_unknown_outcomes_resolve_by_retry() {
    let redis = TestRedis::start();
    let server = server_on(&redis, STORE_TIMEOUT).await;
    let channel = server.channel().await;
    let stop = Arc::new(AtomicBool::new(false));
    // Answers so far, per kind (`Told as usize`).
    let counts: Arc<[AtomicUsize; 3]> = Arc::new(Default::default());
    let mut writers = Vec::new();
    for w in 0..6 {
        let (channel, stop, counts) = (channel.clone(), stop.clone(), counts.clone());
        writers.push(tokio::spawn(async move {
            let mut client = ModerationServiceClient::new(channel);
            let mut answers = Vec::new();
            for n in 0..20_000 {
                if stop.load(Ordering::SeqCst) {
                    break;
                }
                let id = format!("w{w}-{n}");
                let body = body_of(&id, n);
                let mut request = authed(submission(&id, &body), &key("a"));
                // Far beyond the store's bounded path, so the service's own answer is what the client sees.
                request.set_timeout(Duration::from_secs(10));
                let t = told(&client.submit_comment(request).await);
                counts[t as usize].fetch_add(1, Ordering::SeqCst);
                answers.push((id, body, t));
            }
            answers
        }));
    }
    let seen = |t: Told| counts[t as usize].load(Ordering::SeqCst);
    let reached = |t: Told, n: usize| {
        let counts = counts.clone();
        wait_for(Duration::from_secs(30), move || {
            let c = counts.clone();
            async move { (c[t as usize].load(Ordering::SeqCst) >= n).then_some(()) }
        })
    };
    assert!(reached(Told::Stored, 60).await.is_some(), "traffic flows before the pause");
    // A pause yields "unknown" only for writes in flight at that instant: pause again (at most 5 times) until one
    // was, keeping the writers submitting into the paused Redis each time.
    for _ in 0..5 {
        redis.pause();
        let outage = reached(Told::NotStored, seen(Told::NotStored) + 15).await;
        redis.resume();
        assert!(outage.is_some(), "writers kept submitting into the paused Redis");
        assert!(reached(Told::Stored, seen(Told::Stored) + 20).await.is_some(), "traffic flows after the pause");
        if seen(Told::Unknown) > 0 {
            break;
        }
    }
    stop.store(true, Ordering::SeqCst);
    let mut answers = Vec::new();
    for w in writers {
        answers.extend(w.await.expect("writer"));
    }

    // Every "unknown" resolves by retrying the same comment: the stored answer or a store now.
    let client = server.moderation().await;
    let mut already_stored = 0;
    for (id, body, t) in &answers {
        if *t == Told::Unknown {
            // Retried until answered (a busy machine may still time out a store call: that answer must be well-formed).
            let retry = wait_for(Duration::from_secs(15), || {
                let mut c = client.clone();
                async move {
                    let answer = c.submit_comment(authed(submission(id, body), &key("a"))).await;
                    told(&answer);
                    answer.ok()
                }
            })
            .await;
            let retry = retry.unwrap_or_else(|| panic!("retrying {id} after the pause never succeeded")).into_inner();
            already_stored += usize::from(retry.replayed);
        }
    }
    // Checked through a store with a generous timeout: a busy machine must not turn a read into a false verdict.
    let options = RedisOptions { url: redis.url(), timeout: Duration::from_secs(5), durability: Durability::Primary };
    let checker = RedisStore::connect(&options, Arc::new(SystemClock)).expect("connect");
    let events = events_per_comment(&checker).await;
    let count = |t: Told| answers.iter().filter(|a| a.2 == t).count();
    for (id, _, t) in &answers {
        let got = checker.get("a", id).await.expect("get");
        let n = events.get(id).copied().unwrap_or(0);
        match t {
            Told::NotStored => {
                assert!(got.is_none(), "{id} answered NOT_STORED is absent (GetComment: NOT_FOUND)");
                assert_eq!(n, 0, "{id} answered NOT_STORED has no decision event");
            }
            Told::Stored | Told::Unknown => {
                assert_eq!(got.unwrap_or_else(|| panic!("{id} ({t:?}) missing")).comment.comment_id, *id);
                assert_eq!(n, 1, "{id} ({t:?}) is stored exactly once");
            }
        }
    }
    let (stored, not_stored, unknown) = (count(Told::Stored), count(Told::NotStored), count(Told::Unknown));
    eprintln!(
        "paused Redis: {stored} OK, {not_stored} NOT_STORED (all absent), {unknown} OUTCOME_UNKNOWN \
         ({already_stored} had been stored by the paused Redis, the rest by the retry)"
    );
    assert!(not_stored > 0 && unknown > 0, "both kinds of refusal were exercised");
}

/// Sets a Redis config value on the test's own server.
fn config_set(redis: &TestRedis, name: &str, value: &str) {
    let client = redis::Client::open(redis.url()).expect("url");
    let mut conn = client.get_connection_with_timeout(Duration::from_secs(2)).expect("connect");
    let _: () = redis::cmd("CONFIG").arg("SET").arg(name).arg(value).query(&mut conn).expect("CONFIG SET");
}

fn reason(status: &tonic::Status) -> String {
    assert_eq!(status.code(), Code::Unavailable, "{status:?}");
    status.get_details_error_info().expect("ErrorInfo").reason
}

/// Redis refusing writes before running them (`OOM` at maxmemory) is the certain kind: NOT_STORED, nothing written,
/// for a submission and for a moderator's decision alike; the same requests succeed once Redis accepts writes.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn writes_redis_refuses_are_not_stored() {
    let redis = TestRedis::start();
    // Redis answers here (with errors): a generous timeout keeps a busy machine from turning answers into timeouts.
    let server = server_on(&redis, Duration::from_secs(5)).await;
    let mut client = server.moderation().await;
    client.submit_comment(authed(submission("held", "please hold me"), &key("a"))).await.expect("held");
    let mut review = server.review().await;
    let claim = pb::ClaimNextRequest { site_id: "a".into(), max_items: 1, ..Default::default() };
    let items = review.claim_next(authed(claim, &common::token("mod-a"))).await.expect("claim").into_inner().items;
    let decide = pb::DecideRequest {
        site_id: "a".into(),
        review_id: items[0].review_id.clone(),
        claim_token: items[0].claim_token.clone(),
        action: pb::ReviewAction::Approve as i32,
        ..Default::default()
    };

    config_set(&redis, "maxmemory", "1");
    let refused = client.submit_comment(authed(submission("c1", "hello"), &key("a"))).await.expect_err("OOM");
    assert_eq!(reason(&refused), NOT_STORED);
    let refused = review.decide(authed(decide.clone(), &common::token("mod-a"))).await.expect_err("OOM");
    assert_eq!(reason(&refused), NOT_STORED);
    let req = pb::GetCommentRequest { comment_id: "c1".into(), ..Default::default() };
    let absent = client.get_comment(authed(req.clone(), &key("a"))).await.expect_err("not stored");
    assert_eq!(absent.code(), Code::NotFound);

    config_set(&redis, "maxmemory", "0");
    let stored = client.submit_comment(authed(submission("c1", "hello"), &key("a"))).await.expect("stored now");
    assert!(!stored.into_inner().replayed, "the refused attempt stored nothing");
    let decided = review.decide(authed(decide, &common::token("mod-a"))).await.expect("decided now");
    assert_eq!(decided.into_inner().verdict(), pb::Verdict::Approved);
}

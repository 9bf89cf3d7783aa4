//! The service on a real Redis (a private `redis-server` per test): restarts, crashes and outages.

mod common;

use commentguard::clock::SystemClock;
use commentguard::pb::{self, Verdict};
use commentguard::store::redis::{Durability, RedisOptions, RedisStore};
use common::redis::TestRedis;
use common::{TestServer, authed, key, submission, two_sites, wait_for};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tonic::Code;
use tonic_health::pb::{HealthCheckRequest, health_check_response::ServingStatus, health_client::HealthClient};

async fn server_on(redis: &TestRedis, timeout: Duration) -> TestServer {
    let mut config = two_sites("suspect_words = [\"hold\"]");
    config.store.health_interval_ms = 50;
    let options = RedisOptions { url: redis.url(), timeout, durability: Durability::Primary };
    let store = RedisStore::connect(&options, Arc::new(SystemClock)).expect("connect");
    TestServer::start_with_store(config, Arc::new(store)).await
}

async fn health_is(server: &TestServer, wanted: ServingStatus) -> bool {
    let health = HealthClient::new(server.channel().await);
    let probe = || {
        let mut h = health.clone();
        async move {
            let s = h.check(HealthCheckRequest { service: String::new() }).await.ok()?.into_inner().status();
            (s == wanted).then_some(())
        }
    };
    wait_for(Duration::from_secs(15), probe).await.is_some()
}

async fn get(server: &TestServer, comment_id: &str) -> Result<pb::GetCommentResponse, tonic::Status> {
    let mut client = server.moderation().await;
    let req = pb::GetCommentRequest { comment_id: comment_id.into(), ..Default::default() };
    client.get_comment(authed(req, &key("a"))).await.map(|r| r.into_inner())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_restarted_service_still_answers_for_everything() {
    let redis = TestRedis::start();
    let server = server_on(&redis, Duration::from_secs(2)).await;
    let mut client = server.moderation().await;
    let mut answers = Vec::new();
    for i in 0..20 {
        let body = if i % 3 == 0 { format!("please hold {i}") } else { format!("comment {i}") };
        let resp = client.submit_comment(authed(submission(&format!("c{i}"), &body), &key("a"))).await.expect("ok");
        answers.push(resp.into_inner());
    }
    server.stop().await.expect("stops");

    let server = server_on(&redis, Duration::from_secs(2)).await;
    for (i, first) in answers.iter().enumerate() {
        let got = get(&server, &format!("c{i}")).await.expect("found after restart");
        assert_eq!(got.verdict, first.verdict);
        assert_eq!(got.review_id, first.review_id);
        assert_eq!(got.redacted_body, first.redacted_body);
    }
    let mut client = server.moderation().await;
    let replay = client.submit_comment(authed(submission("c1", "comment 1"), &key("a"))).await.expect("replay");
    assert!(replay.into_inner().replayed, "idempotency survives the restart");
    assert_eq!(
        get(&server, "c0").await.expect("held").verdict(),
        Verdict::PendingReview,
        "held comments stay held across restarts"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kill_9_under_load_loses_no_acknowledged_comment() {
    let mut redis = TestRedis::start();
    let server = server_on(&redis, Duration::from_millis(500)).await;
    assert!(health_is(&server, ServingStatus::Serving).await);
    let channel = server.channel().await;

    // Four writers submit continuously; each records what was acknowledged and what was refused.
    let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let outage_seen = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let mut writers = Vec::new();
    for w in 0..4 {
        let channel = channel.clone();
        let stop = stop.clone();
        let outage_seen = outage_seen.clone();
        writers.push(tokio::spawn(async move {
            let mut client = pb::moderation_service_client::ModerationServiceClient::new(channel);
            let (mut acked, mut refused) = (Vec::new(), 0usize);
            let mut i = 0;
            while !stop.load(std::sync::atomic::Ordering::SeqCst) && i < 100_000 {
                let id = format!("w{w}-{i}");
                match client.submit_comment(authed(submission(&id, &format!("body {id}")), &key("a"))).await {
                    Ok(_) => acked.push(id),
                    Err(status) => {
                        assert_eq!(status.code(), Code::Unavailable, "an outage is UNAVAILABLE, never another code");
                        refused += 1;
                        outage_seen.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                    }
                }
                i += 1;
            }
            (acked, refused)
        }));
    }
    // Let some traffic through, crash Redis, let writers hit the outage, then bring it back.
    let before = wait_for(Duration::from_secs(20), || async {
        let n =
            server.app.store.decisions.read_decisions("a", commentguard::store::After::Start, 1000).await.ok()?.len();
        (n >= 200).then_some(n)
    })
    .await;
    assert!(before.is_some(), "traffic flows before the crash");
    redis.kill9();
    assert!(health_is(&server, ServingStatus::NotServing).await, "health flips to NOT_SERVING");
    // Writers must meet the outage before Redis returns (on a loaded machine they may be slow to).
    let met = wait_for(Duration::from_secs(20), || async {
        (outage_seen.load(std::sync::atomic::Ordering::SeqCst) > 0).then_some(())
    })
    .await;
    assert!(met.is_some(), "writers observe the outage as UNAVAILABLE");
    redis.restart();
    assert!(health_is(&server, ServingStatus::Serving).await, "health recovers when Redis returns");
    let recovered = wait_for(Duration::from_secs(15), || async {
        let mut c = server.moderation().await;
        c.submit_comment(authed(submission("after", "after the crash"), &key("a"))).await.ok()
    })
    .await;
    assert!(recovered.is_some(), "submissions succeed again after recovery");
    stop.store(true, std::sync::atomic::Ordering::SeqCst);

    let mut total_acked = 0;
    let mut total_refused = 0;
    for w in writers {
        let (acked, refused) = w.await.expect("writer");
        total_refused += refused;
        for id in &acked {
            let got = get(&server, id).await.unwrap_or_else(|e| panic!("acknowledged {id} lost: {e}"));
            assert_eq!(got.comment_id, *id);
        }
        total_acked += acked.len();
    }
    assert!(total_acked >= 200, "acknowledged {total_acked}");
    assert!(total_refused > 0, "the outage was observed by writers as UNAVAILABLE");
    eprintln!("kill -9 test: {total_acked} acknowledged (all present after restart), {total_refused} UNAVAILABLE");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redis_down_means_unavailable_quickly_never_a_false_acknowledgement() {
    let mut redis = TestRedis::start();
    let server = server_on(&redis, Duration::from_millis(300)).await;
    let mut client = server.moderation().await;
    client.submit_comment(authed(submission("before", "hello"), &key("a"))).await.expect("ok while up");
    redis.kill9();
    for i in 0..5 {
        let started = Instant::now();
        let err = client
            .submit_comment(authed(submission(&format!("down{i}"), "hello"), &key("a")))
            .await
            .expect_err("refused while Redis is down");
        assert_eq!(err.code(), Code::Unavailable);
        assert!(started.elapsed() < Duration::from_secs(3), "bounded: {:?}", started.elapsed());
        use tonic_types::StatusExt;
        assert!(err.get_details_retry_info().is_some(), "UNAVAILABLE carries RetryInfo");
    }
    let err = get(&server, "before").await.expect_err("reads fail too");
    assert_eq!(err.code(), Code::Unavailable);
    redis.restart();
    let back = wait_for(Duration::from_secs(15), || async { get(&server, "before").await.ok() }).await;
    assert!(back.is_some(), "recovers by itself");
    for i in 0..5 {
        assert!(get(&server, &format!("down{i}")).await.is_err(), "refused comments were not stored");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn records_and_reputation_expire_after_retention() {
    use commentguard::store::{CommentStore, NewComment};
    let redis = TestRedis::start();
    let options = RedisOptions { url: redis.url(), timeout: Duration::from_secs(2), durability: Durability::Primary };
    let store = RedisStore::connect(&options, Arc::new(SystemClock)).expect("connect");
    let body = "short-lived";
    let comment = NewComment {
        comment: commentguard::domain::Comment {
            comment_id: "tmp".into(),
            thread_id: "t".into(),
            parent_comment_id: String::new(),
            permalink: String::new(),
            language: String::new(),
            author: Default::default(),
            body: body.into(),
            submitted_at_ms: 0,
        },
        author_key: Some("author".into()),
        ip_key: "ip".into(),
        body_sha256: commentguard::intake::body_fingerprint(body),
        decision: commentguard::domain::Decision {
            verdict: commentguard::domain::Verdict::Approved,
            findings: Vec::new(),
            spam_score: 0.0,
            abuse: Default::default(),
            redacted_body: body.into(),
            reason_codes: Vec::new(),
        },
        retention_ms: 300,
        near: None,
    };
    store.submit("s", comment).await.expect("stored");
    assert!(store.get("s", "tmp").await.expect("get").is_some());
    let gone = wait_for(Duration::from_secs(10), || async {
        let record = store.get("s", "tmp").await.ok()?;
        let ctx = common::stores::context(&store, "s", Some("author"), "ip", None).await;
        (record.is_none() && ctx.ip.submitted == 0 && ctx.is_first_time_author()).then_some(())
    })
    .await;
    assert!(gone.is_some(), "record and reputation expire with the site's retention");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn replica_durability_waits_for_a_replica() {
    let primary = TestRedis::start();
    let mut config = two_sites("");
    config.store.health_interval_ms = 50;
    let replica_mode = |timeout_ms: u64| RedisOptions {
        url: primary.url(),
        timeout: Duration::from_secs(2),
        durability: Durability::Replica { timeout: Duration::from_millis(timeout_ms) },
    };
    // No replica: the write cannot be confirmed, so it is not acknowledged.
    let store = RedisStore::connect(&replica_mode(200), Arc::new(SystemClock)).expect("connect");
    let server = TestServer::start_with_store(config.clone(), Arc::new(store)).await;
    let mut client = server.moderation().await;
    let err = client.submit_comment(authed(submission("r0", "hello"), &key("a"))).await.expect_err("no replica");
    assert_eq!(err.code(), Code::Unavailable);
    server.stop().await.expect("stops");

    // With a replica attached, the same write is acknowledged.
    let _replica = TestRedis::start_replica_of(&primary);
    let store = RedisStore::connect(&replica_mode(2000), Arc::new(SystemClock)).expect("connect");
    let server = TestServer::start_with_store(config, Arc::new(store)).await;
    let mut client = server.moderation().await;
    let ok = wait_for(Duration::from_secs(15), || {
        let mut c = client.clone();
        async move { c.submit_comment(authed(submission("r1", "hello"), &key("a"))).await.ok() }
    })
    .await;
    assert!(ok.is_some(), "acknowledged once a replica confirms");
    let replay = client.submit_comment(authed(submission("r0", "hello"), &key("a"))).await.expect("replayed");
    assert!(replay.into_inner().replayed, "the unconfirmed write was applied on the primary: a retry replays it");
}

/// Records keep their thread and redacted body only inside their JSON; records written before that (with `thread`,
/// `redacted` and the default decision fields as hash fields of their own) still decide and report from those fields.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn slim_records_and_records_of_the_earlier_layout_both_decide_and_report() {
    use commentguard::store::After;
    use commentguard::store::review::{ClaimRequest, DecideRequest, QueueKind, ReviewAction};
    let redis = TestRedis::start();
    let store = common::stores::redis_store_at(&redis);
    let client = redis::Client::open(redis.url()).expect("url");
    let mut raw = client.get_multiplexed_async_connection().await.expect("admin connection");
    for id in ["slim", "earlier"] {
        store.submit("s", common::stores::held(id, "t")).await.expect("stored");
    }
    let slim = commentguard::store::keys::comment("s", "slim");
    let kept: Vec<String> = redis::cmd("HKEYS").arg(&slim).query_async(&mut raw).await.expect("HKEYS");
    for duplicate in ["thread", "redacted", "source", "moderator", "publish_original"] {
        assert!(!kept.iter().any(|f| f == duplicate), "{duplicate} is not stored twice: {kept:?}");
    }
    let earlier = commentguard::store::keys::comment("s", "earlier");
    let _: () = redis::cmd("HSET")
        .arg(&earlier)
        .arg(&["thread", "old-thread", "redacted", "old redacted", "source", "AUTOMATIC", "moderator", ""])
        .arg(&["publish_original", "0"])
        .query_async(&mut raw)
        .await
        .expect("the earlier layout");

    let claim = ClaimRequest {
        queue: QueueKind::Pending,
        moderator: "alice".into(),
        tokens: vec!["t1".into(), "t2".into()],
        lease_ms: 60_000,
        thread_id: None,
    };
    let items = store.claim("s", claim).await.expect("claim");
    assert_eq!(items.len(), 2);
    for item in &items {
        let decide = DecideRequest {
            review_id: item.review_id.clone(),
            claim_token: item.claim.as_ref().map(|c| c.token.clone()).unwrap_or_default(),
            moderator: "alice".into(),
            action: ReviewAction::Approve,
            note: String::new(),
            reason_codes: Vec::new(),
            publish_original: false,
        };
        store.decide("s", decide).await.expect("decided");
    }
    let events = store.read_decisions("s", After::Start, 10).await.expect("events");
    let decided = |id: &str| {
        let e = events.iter().rev().find(|e| e.comment_id == id).expect("a decision event");
        (e.verdict, e.thread_id.clone(), e.redacted_body.clone())
    };
    assert_eq!(decided("slim"), (commentguard::domain::Verdict::Approved, "t".into(), "redacted slim".into()));
    assert_eq!(
        decided("earlier"),
        (commentguard::domain::Verdict::Approved, "old-thread".into(), "old redacted".into())
    );
    let record = store.get("s", "slim").await.expect("get").expect("record");
    assert_eq!((record.moderator_id.as_str(), record.publish_original), ("alice", false));
}

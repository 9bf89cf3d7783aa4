//! Decision delivery under abuse: one site's catch-up flood must not take other sites offline, and a poison
//! cursor is refused at the edge without touching the store or the site's shared reader.

mod common;

use commentguard::clock::SystemClock;
use commentguard::pb;
use commentguard::store::redis::{Durability, RedisOptions, RedisStore};
use common::redis::TestRedis;
use common::{TestServer, authed, key, submission, two_sites, violated_fields, wait_for};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::Duration;
use tonic::Code;
use tonic_health::pb::{HealthCheckRequest, health_check_response::ServingStatus, health_client::HealthClient};

/// Retained events of site `a` and watchers it opens from "0" (more than its cap).
const EVENTS: usize = 1000;
const WATCHERS: usize = 100;
const CAP: usize = 80;

/// Appends `n` decision events to `site`'s stream directly (the same fields `submit.lua` writes), in pipelines.
async fn seed_decisions(redis: &TestRedis, site: &str, n: usize) {
    let client = redis::Client::open(redis.url()).expect("client");
    let mut conn = client.get_multiplexed_async_connection().await.expect("connect");
    let body = "a retained comment body of moderate length, as a news site's readers write them. ".repeat(3);
    for chunk in 0..n.div_ceil(500) {
        let mut pipe = redis::pipe();
        for i in chunk * 500..(chunk * 500 + 500).min(n) {
            pipe.cmd("XADD")
                .arg(format!("cg:{{{site}}}:decisions"))
                .arg("*")
                .arg(&[("c", format!("seed{i}").as_str()), ("v", "APPROVED"), ("s", "AUTOMATIC"), ("m", "")])
                .arg(&[("r", "[]"), ("t", "1700000000000"), ("b", body.as_str()), ("o", "0"), ("th", "t")])
                .ignore();
        }
        let () = pipe.query_async(&mut conn).await.expect("seed");
    }
}

fn watch(cursor: &str, site: &str) -> tonic::Request<pb::WatchDecisionsRequest> {
    authed(pb::WatchDecisionsRequest { after_cursor: cursor.into() }, &key(site))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_catch_up_flood_on_one_site_never_fails_another_sites_writes() {
    let redis = TestRedis::start();
    seed_decisions(&redis, "a", EVENTS).await;
    let mut config = two_sites("");
    config.store.health_interval_ms = 50;
    config.server.max_watchers_per_site = CAP;
    let timeout = Duration::from_millis(500);
    let options = RedisOptions { url: redis.url(), timeout, durability: Durability::Primary };
    let store = RedisStore::connect(&options, Arc::new(SystemClock)).expect("connect");
    let server = TestServer::start_with_store(config, Arc::new(store)).await;
    let channel = server.channel().await;
    let mut health = HealthClient::new(channel.clone());
    assert!(
        wait_for(Duration::from_secs(10), || {
            let mut h = health.clone();
            async move {
                (h.check(HealthCheckRequest::default()).await.ok()?.into_inner().status() == ServingStatus::Serving)
                    .then_some(())
            }
        })
        .await
        .is_some()
    );

    // Site b submits continuously and watches health; every error is recorded.
    let stop = Arc::new(AtomicBool::new(false));
    let (writer_stop, writer_channel) = (stop.clone(), channel.clone());
    let writer = tokio::spawn(async move {
        let mut client = pb::moderation_service_client::ModerationServiceClient::new(writer_channel);
        let (mut ok, mut errors) = (0usize, Vec::new());
        while !writer_stop.load(Ordering::Relaxed) {
            let sub = submission(&format!("b{ok}-{}", errors.len()), "a perfectly ordinary comment");
            match client.submit_comment(authed(sub, &key("b"))).await {
                Ok(_) => ok += 1,
                Err(e) => errors.push((e.code(), e.message().to_string())),
            }
            let status = health.check(HealthCheckRequest::default()).await.map(|r| r.into_inner().status());
            if status.as_ref().ok() != Some(&ServingStatus::Serving) {
                errors.push((Code::Unavailable, format!("health: {status:?}")));
            }
        }
        (ok, errors)
    });

    // Site a floods: WATCHERS streams from "0", each reading everything; beyond the cap RESOURCE_EXHAUSTED.
    let complete = Arc::new(AtomicUsize::new(0));
    let mut watchers = Vec::new();
    for _ in 0..WATCHERS {
        let (mut client, complete) =
            (pb::moderation_service_client::ModerationServiceClient::new(channel.clone()), complete.clone());
        watchers.push(tokio::spawn(async move {
            let mut stream = match client.watch_decisions(watch("0", "a")).await {
                Ok(s) => s.into_inner(),
                Err(status) => return Err(status),
            };
            let mut seen = 0;
            while seen < EVENTS {
                match stream.message().await {
                    Ok(Some(m)) if matches!(m.kind, Some(pb::watch_decisions_response::Kind::Event(_))) => seen += 1,
                    Ok(Some(_)) => {}
                    Ok(None) | Err(_) => break,
                }
            }
            if seen == EVENTS {
                complete.fetch_add(1, Ordering::Relaxed);
            }
            // Keep the stream open (holding its slot) until the test ends.
            Ok(stream)
        }));
    }
    let flood_started = std::time::Instant::now();
    let mut open = Vec::new();
    let mut refused = Vec::new();
    for w in watchers {
        match w.await.expect("watcher task") {
            Ok(stream) => open.push(stream),
            Err(status) => refused.push(status),
        }
    }
    stop.store(true, Ordering::Relaxed);
    let (ok, errors) = writer.await.expect("writer");
    eprintln!(
        "flood of {WATCHERS} watchers x {EVENTS} events: {:?}; site b: {ok} submissions",
        flood_started.elapsed()
    );

    assert!(errors.is_empty(), "site b saw errors during site a's flood: {errors:?}");
    assert!(ok > 0, "site b submitted during the flood");
    assert_eq!(open.len(), CAP, "exactly the cap of watchers is open");
    assert_eq!(complete.load(Ordering::Relaxed), CAP, "every admitted watcher received every retained event");
    use tonic_types::StatusExt;
    for status in &refused {
        assert_eq!(status.code(), Code::ResourceExhausted, "{status:?}");
        assert!(status.get_details_retry_info().is_some() && status.get_details_quota_failure().is_some());
    }
    // Slots belong to open streams: once the clients leave, the site may watch again.
    drop(open);
    let reopened = wait_for(Duration::from_secs(10), || {
        let mut client = pb::moderation_service_client::ModerationServiceClient::new(channel.clone());
        async move { client.watch_decisions(watch("", "a")).await.ok() }
    })
    .await;
    assert!(reopened.is_some(), "closed streams give their slots back");
}

/// The stream's next event within 5 s (heartbeats skipped); `None` when none came.
async fn next_event(stream: &mut tonic::Streaming<pb::WatchDecisionsResponse>) -> Option<pb::DecisionEvent> {
    let next = async {
        loop {
            match stream.message().await.ok()??.kind {
                Some(pb::watch_decisions_response::Kind::Event(e)) => return Some(e),
                _ => continue,
            }
        }
    };
    tokio::time::timeout(Duration::from_secs(5), next).await.ok()?
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_poison_cursor_is_invalid_and_never_moves_the_shared_reader() {
    let redis = TestRedis::start();
    let options = RedisOptions { url: redis.url(), timeout: Duration::from_secs(5), durability: Durability::Primary };
    let store = RedisStore::connect(&options, Arc::new(SystemClock)).expect("connect");
    let mut config = two_sites("");
    config.server.heartbeat_ms = 200;
    let server = TestServer::start_with_store(config, Arc::new(store)).await;
    let mut client = server.moderation().await;
    let first = client.submit_comment(authed(submission("c0", "hello"), &key("a"))).await.expect("ok").into_inner();

    // Cursors the store cannot read after, or that no stream has reached: INVALID_ARGUMENT naming the field, on both
    // RPCs, with nothing of the store's own error text.
    let now_ms = commentguard::clock::Clock::now_ms(&SystemClock);
    for bad in ["18446744073709551615-18446744073709551615", &format!("{}-0", now_ms + 2 * 86_400_000), "+1-0", "5"] {
        let status = client.watch_decisions(watch(bad, "a")).await.expect_err("a bad cursor is refused");
        assert_eq!((status.code(), violated_fields(&status)), (Code::InvalidArgument, vec!["after_cursor".into()]));
        let list = pb::ListDecisionsRequest { after_cursor: bad.into(), page_size: 10 };
        let status = client.list_decisions(authed(list, &key("a"))).await.expect_err("a bad cursor is refused");
        assert_eq!((status.code(), violated_fields(&status)), (Code::InvalidArgument, vec!["after_cursor".into()]));
        assert!(!status.message().to_lowercase().contains("redis"), "{status:?}");
    }

    // A valid cursor an hour ahead of the stream, as the site's FIRST watcher: it is that watcher's own business and
    // never decides where the site's shared reader starts.
    let ahead = format!("{}-0", now_ms + 3_600_000);
    let mut early = client.watch_decisions(watch(&ahead, "a")).await.expect("a valid cursor").into_inner();
    let mut good = client.watch_decisions(watch("", "a")).await.expect("watch").into_inner();
    let mut resumed = client.watch_decisions(watch(&first.decision_cursor, "a")).await.expect("watch").into_inner();
    let second = client.submit_comment(authed(submission("c1", "hello"), &key("a"))).await.expect("ok").into_inner();
    for stream in [&mut good, &mut resumed] {
        let event = next_event(stream).await.expect("the good watchers get the new event");
        assert_eq!((event.comment_id.as_str(), event.cursor.as_str()), ("c1", second.decision_cursor.as_str()));
    }
    let beat = tokio::time::timeout(Duration::from_secs(5), early.message()).await.expect("in time");
    let beat = beat.expect("open").expect("a message").kind;
    assert!(
        matches!(beat, Some(pb::watch_decisions_response::Kind::Heartbeat(_))),
        "nothing is after the early watcher's cursor yet: {beat:?}"
    );
}

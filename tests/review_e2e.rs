//! The review workflow and decision delivery through gRPC (memory store; the store contract suite covers Redis).

mod common;

use commentguard::clock::{ManualClock, SystemClock};
use commentguard::pb::{self, Verdict};
use commentguard::store::memory::MemoryStore;
use common::{TestServer, authed, key, submission, token, two_sites, wait_for};
use std::sync::Arc;
use std::time::Duration;
use tonic::Code;

const HOLD: &str = "suspect_words = [\"hold\"]\nreport_hide_threshold = 2";

async fn hold(server: &TestServer, id: &str) -> pb::SubmitCommentResponse {
    let mut c = server.moderation().await;
    let resp = c.submit_comment(authed(submission(id, &format!("please hold {id}")), &key("a"))).await.expect("ok");
    let resp = resp.into_inner();
    assert_eq!(resp.verdict(), Verdict::PendingReview);
    resp
}

fn claim(n: i32) -> pb::ClaimNextRequest {
    pb::ClaimNextRequest { site_id: "a".into(), max_items: n, ..Default::default() }
}

fn decide(item: &pb::ReviewItem, action: pb::ReviewAction) -> pb::DecideRequest {
    pb::DecideRequest {
        site_id: "a".into(),
        review_id: item.review_id.clone(),
        claim_token: item.claim_token.clone(),
        action: action as i32,
        note: "looked at it".into(),
        reason_codes: vec!["policy.suspect_word".into()],
        publish_original: false,
    }
}

#[tokio::test]
async fn moderators_claim_and_decide_and_sites_learn_it() {
    let server = TestServer::start(two_sites(HOLD)).await;
    let held = hold(&server, "c1").await;
    let mut review = server.review().await;

    let items = review.claim_next(authed(claim(5), &token("mod-a"))).await.expect("claim").into_inner().items;
    assert_eq!(items.len(), 1);
    let item = &items[0];
    assert_eq!(item.review_id, held.review_id);
    assert_eq!(item.comment_id, "c1");
    assert_eq!(item.body, "please hold c1");
    assert_eq!(item.claimed_by, "mod-a");
    assert_eq!(item.delivery_count, 1);
    assert!(!item.claim_token.is_empty() && item.lease_expires_at.is_some());
    assert_eq!(item.findings.iter().map(|f| f.code.as_str()).collect::<Vec<_>>(), vec!["policy.suspect_word"]);

    let done = review.decide(authed(decide(item, pb::ReviewAction::Approve), &token("mod-a"))).await.expect("decide");
    let done = done.into_inner();
    assert_eq!((done.comment_id.as_str(), done.verdict()), ("c1", Verdict::Approved));
    let again = review.decide(authed(decide(item, pb::ReviewAction::Approve), &token("mod-a"))).await.expect("retry");
    assert_eq!(again.into_inner(), done, "a lost reply can be retried: same answer");
    let other =
        review.decide(authed(decide(item, pb::ReviewAction::Reject), &token("mod-a"))).await.expect_err("changed");
    assert_eq!(other.code(), Code::FailedPrecondition);

    let mut moderation = server.moderation().await;
    let req = pb::GetCommentRequest { comment_id: "c1".into(), ..Default::default() };
    let now = moderation.get_comment(authed(req, &key("a"))).await.expect("get").into_inner();
    assert_eq!(
        (now.verdict(), now.source(), now.moderator_id.as_str()),
        (Verdict::Approved, pb::DecisionSource::Moderator, "mod-a")
    );
    let list = pb::ListDecisionsRequest { after_cursor: held.decision_cursor.clone(), page_size: 10 };
    let events = moderation.list_decisions(authed(list, &key("a"))).await.expect("list").into_inner().events;
    assert_eq!(events.len(), 1);
    assert_eq!((events[0].verdict(), events[0].moderator_id.as_str()), (Verdict::Approved, "mod-a"));
    assert_eq!(events[0].cursor, done.cursor);
    assert_eq!(events[0].reason_codes, vec!["policy.suspect_word"]);

    let stats = review.get_queue_stats(authed(pb::GetQueueStatsRequest { site_id: "a".into() }, &token("mod-a"))).await;
    let stats = stats.expect("stats").into_inner().stats.expect("stats");
    assert_eq!((stats.pending, stats.claimed, stats.decided_last_hour), (0, 0, 1));
    let audit = server.app.store.review.audit_log("a", 10).await.expect("audit");
    assert_eq!(
        (audit[0].moderator.as_str(), audit[0].action.as_str(), audit[0].note.as_str()),
        ("mod-a", "APPROVE", "looked at it")
    );
}

/// A claim token is its claimer's: another moderator of the same site presenting it gets FAILED_PRECONDITION,
/// before the claimer decided and after (a replay is the same moderator's), and the audit names the claimer.
#[tokio::test]
async fn another_moderators_token_is_refused_not_replayed() {
    let server = TestServer::start(two_sites(HOLD)).await;
    hold(&server, "c1").await;
    let mut review = server.review().await;
    let items = review.claim_next(authed(claim(1), &token("mod-a"))).await.expect("claim").into_inner().items;
    let item = &items[0];

    let early = review.decide(authed(decide(item, pb::ReviewAction::Approve), &token("admin-a"))).await;
    assert_eq!(early.expect_err("not the claimer").code(), Code::FailedPrecondition);
    let done = review.decide(authed(decide(item, pb::ReviewAction::Approve), &token("mod-a"))).await.expect("decide");
    let late = review.decide(authed(decide(item, pb::ReviewAction::Approve), &token("admin-a"))).await;
    assert_eq!(late.expect_err("a replay is the same moderator only").code(), Code::FailedPrecondition);
    let again = review.decide(authed(decide(item, pb::ReviewAction::Approve), &token("mod-a"))).await.expect("retry");
    assert_eq!(again.into_inner(), done.into_inner());

    let audit = server.app.store.review.audit_log("a", 10).await.expect("audit");
    assert_eq!(audit.iter().map(|a| a.moderator.as_str()).collect::<Vec<_>>(), vec!["mod-a"]);
}

#[tokio::test]
async fn two_moderators_race_and_leases_expire() {
    let clock = ManualClock::new(commentguard::clock::Clock::now_ms(&SystemClock));
    let server = TestServer::start_with_store(two_sites(HOLD), Arc::new(MemoryStore::new(clock.clone()))).await;
    hold(&server, "c1").await;
    let mut review = server.review().await;
    let mut first = claim(1);
    first.lease = Some(prost_types::Duration { seconds: 30, nanos: 0 });
    let a = review.claim_next(authed(first, &token("mod-a"))).await.expect("claim").into_inner().items;
    assert_eq!(a.len(), 1);
    assert!(review.claim_next(authed(claim(1), &token("admin-a"))).await.expect("claim").into_inner().items.is_empty());

    clock.advance(31_000);
    let b = review.claim_next(authed(claim(1), &token("admin-a"))).await.expect("claim").into_inner().items;
    assert_eq!(b.len(), 1, "an expired lease returns the item");
    assert_eq!(b[0].delivery_count, 2);

    // Both decide at once: exactly one wins.
    let (mut r1, mut r2) = (review.clone(), review.clone());
    let (da, db) = (decide(&a[0], pb::ReviewAction::Reject), decide(&b[0], pb::ReviewAction::Approve));
    let (ra, rb) = tokio::join!(async move { r1.decide(authed(da, &token("mod-a"))).await }, async move {
        r2.decide(authed(db, &token("admin-a"))).await
    });
    assert_eq!(ra.expect_err("the late decider loses").code(), Code::FailedPrecondition);
    assert_eq!(rb.expect("the current lease holder wins").into_inner().verdict(), Verdict::Approved);

    let lease_too_short =
        pb::ClaimNextRequest { lease: Some(prost_types::Duration { seconds: 1, nanos: 0 }), ..claim(1) };
    let err = review.claim_next(authed(lease_too_short, &token("mod-a"))).await.expect_err("short lease");
    assert_eq!(common::violated_fields(&err), vec!["lease"]);
}

#[tokio::test]
async fn release_and_listing() {
    let server = TestServer::start(two_sites(HOLD)).await;
    for i in 0..3 {
        hold(&server, &format!("c{i}")).await;
    }
    let mut review = server.review().await;
    let items = review.claim_next(authed(claim(1), &token("mod-a"))).await.expect("claim").into_inner().items;
    let list = |token_: String| pb::ListQueueRequest {
        site_id: "a".into(),
        page_size: 2,
        page_token: token_,
        ..Default::default()
    };
    let page1 = review.list_queue(authed(list(String::new()), &token("mod-a"))).await.expect("list").into_inner();
    assert_eq!(page1.items.len(), 2);
    assert_eq!(page1.items[0].claimed_by, "mod-a");
    assert!(page1.items.iter().all(|i| i.claim_token.is_empty()), "listings never show claim tokens");
    let page2 = review
        .list_queue(authed(list(page1.next_page_token.clone()), &token("mod-a")))
        .await
        .expect("list")
        .into_inner();
    assert_eq!(page2.items.iter().map(|i| i.comment_id.as_str()).collect::<Vec<_>>(), vec!["c2"]);
    assert!(page2.next_page_token.is_empty());

    let release = pb::ReleaseClaimRequest {
        site_id: "a".into(),
        review_id: items[0].review_id.clone(),
        claim_token: "stale".into(),
    };
    assert_eq!(
        review.release_claim(authed(release.clone(), &token("mod-a"))).await.expect_err("stale").code(),
        Code::FailedPrecondition
    );
    let release = pb::ReleaseClaimRequest { claim_token: items[0].claim_token.clone(), ..release };
    review.release_claim(authed(release, &token("mod-a"))).await.expect("released");
    let again = review.claim_next(authed(claim(5), &token("admin-a"))).await.expect("claim").into_inner().items;
    assert_eq!(again.len(), 3, "the released item is back");
    let unknown = pb::DecideRequest { review_id: "p-1-0".into(), ..decide(&again[0], pb::ReviewAction::Approve) };
    assert_eq!(review.decide(authed(unknown, &token("admin-a"))).await.expect_err("unknown").code(), Code::NotFound);
    let no_action = pb::DecideRequest { action: 0, ..decide(&again[0], pb::ReviewAction::Approve) };
    let err = review.decide(authed(no_action, &token("admin-a"))).await.expect_err("no action");
    assert_eq!(common::violated_fields(&err), vec!["action"]);
}

#[tokio::test]
async fn moderators_see_masked_personal_data_admins_do_not() {
    let server = TestServer::start(two_sites(HOLD)).await;
    hold(&server, "c1").await;
    let mut review = server.review().await;
    let list = pb::ListQueueRequest { site_id: "a".into(), ..Default::default() };
    let as_mod = review.list_queue(authed(list.clone(), &token("mod-a"))).await.expect("list").into_inner().items;
    let author = as_mod[0].author.clone().expect("author");
    assert!(as_mod[0].author_email_masked);
    assert_eq!(author.email, "r***@example.com");
    assert_eq!(author.ip, "203.0.113.x");
    let as_admin = review.list_queue(authed(list, &token("admin-a"))).await.expect("list").into_inner().items;
    let author = as_admin[0].author.clone().expect("author");
    assert!(!as_admin[0].author_email_masked);
    assert_eq!((author.email.as_str(), author.ip.as_str()), ("reader@example.com", "203.0.113.7"));
}

#[tokio::test]
async fn moderators_never_see_evasive_secrets_or_an_ipv4_inside_an_ipv6_address() {
    let server = TestServer::start(two_sites(HOLD)).await;
    // Issue 11: a dotted card, a slashed card and a bare AWS secret key, from a 6to4 address (198.51.100.97).
    let key_text = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY";
    let body = format!("please hold 4111.1111.1111.1111 or 4111/1111/1111/1111 key {key_text}");
    let mut sub = submission("ev1", &body);
    sub.author.as_mut().expect("author").ip = "2002:c633:6461::1".into();
    let mut c = server.moderation().await;
    let resp = c.submit_comment(authed(sub, &key("a"))).await.expect("ok").into_inner();
    let codes: Vec<&str> = resp.findings.iter().map(|f| f.code.as_str()).collect();
    assert_eq!(codes.iter().filter(|c| **c == "pii.credit_card").count(), 2, "{codes:?}");
    assert!(codes.contains(&"pii.secret"), "{codes:?}");
    let mut review = server.review().await;
    let list = pb::ListQueueRequest { site_id: "a".into(), ..Default::default() };
    let items = review.list_queue(authed(list, &token("mod-a"))).await.expect("list").into_inner().items;
    let item = items.iter().find(|i| i.comment_id == "ev1").expect("held");
    assert_eq!(item.author.as_ref().expect("author").ip, "198.51.100.x");
    for shown in [&item.body, &item.redacted_body] {
        assert!(!shown.contains("4111.1111") && !shown.contains("4111/1111") && !shown.contains("wJalr"), "{shown}");
    }
}

#[tokio::test]
async fn every_review_rpc_is_isolated_per_site() {
    let server = TestServer::start(two_sites(HOLD)).await;
    hold(&server, "c1").await;
    let mut review = server.review().await;
    let e = review.claim_next(authed(claim(1), &token("mod-b"))).await.expect_err("b on a");
    assert_eq!(e.code(), Code::PermissionDenied);
    let items = review.claim_next(authed(claim(1), &token("mod-a"))).await.expect("claim").into_inner().items;
    let e = review.decide(authed(decide(&items[0], pb::ReviewAction::Reject), &token("mod-b"))).await.expect_err("b");
    assert_eq!(e.code(), Code::PermissionDenied);
    let in_b = pb::DecideRequest { site_id: "b".into(), ..decide(&items[0], pb::ReviewAction::Reject) };
    assert_eq!(review.decide(authed(in_b, &token("mod-b"))).await.expect_err("other site").code(), Code::NotFound);
    let list = pb::ListQueueRequest { site_id: "a".into(), ..Default::default() };
    assert_eq!(review.list_queue(authed(list, &token("mod-b"))).await.expect_err("b").code(), Code::PermissionDenied);
    let stats = pb::GetQueueStatsRequest { site_id: "a".into() };
    assert_eq!(
        review.get_queue_stats(authed(stats, &token("mod-b"))).await.expect_err("b").code(),
        Code::PermissionDenied
    );
    let release = pb::ReleaseClaimRequest {
        site_id: "a".into(),
        review_id: items[0].review_id.clone(),
        claim_token: items[0].claim_token.clone(),
    };
    assert_eq!(
        review.release_claim(authed(release, &token("mod-b"))).await.expect_err("b").code(),
        Code::PermissionDenied
    );
    assert_eq!(review.claim_next(authed(claim(1), "nope")).await.expect_err("unknown").code(), Code::Unauthenticated);
    assert_eq!(
        review.claim_next(authed(claim(1), &key("a"))).await.expect_err("site key").code(),
        Code::Unauthenticated
    );
    let b_stats = pb::GetQueueStatsRequest { site_id: "b".into() };
    let s = review
        .get_queue_stats(authed(b_stats, &token("mod-b")))
        .await
        .expect("b's own")
        .into_inner()
        .stats
        .expect("stats");
    assert_eq!((s.pending, s.claimed), (0, 0), "site b sees none of site a's queue");

    let mut moderation = server.moderation().await;
    let report = pb::ReportCommentRequest { comment_id: "c1".into(), reporter_id: "r1".into(), ..Default::default() };
    assert_eq!(moderation.report_comment(authed(report, &key("b"))).await.expect_err("b").code(), Code::NotFound);
    let events = moderation.list_decisions(authed(pb::ListDecisionsRequest::default(), &key("b"))).await.expect("b");
    assert!(events.into_inner().events.is_empty(), "site b sees none of site a's decisions");
}

#[tokio::test]
async fn reports_count_once_and_hide_after_the_threshold() {
    let server = TestServer::start(two_sites(HOLD)).await;
    let mut moderation = server.moderation().await;
    let published = moderation.submit_comment(authed(submission("p1", "a fine comment"), &key("a"))).await.expect("ok");
    assert_eq!(published.into_inner().verdict(), Verdict::Approved);
    let report = |who: &str| pb::ReportCommentRequest {
        comment_id: "p1".into(),
        reason: "insulting".into(),
        reporter_id: who.into(),
        reporter_ip: String::new(),
    };
    let r1 = moderation.report_comment(authed(report("x"), &key("a"))).await.expect("report").into_inner();
    assert_eq!(r1.report_count, 1);
    let r1b = moderation.report_comment(authed(report("x"), &key("a"))).await.expect("report").into_inner();
    assert_eq!((r1b.review_id.as_str(), r1b.report_count), (r1.review_id.as_str(), 1), "one reporter counts once");
    let r2 = moderation.report_comment(authed(report("y"), &key("a"))).await.expect("report").into_inner();
    assert_eq!(r2.report_count, 2);
    let req = pb::GetCommentRequest { comment_id: "p1".into(), ..Default::default() };
    let now = moderation.get_comment(authed(req, &key("a"))).await.expect("get").into_inner();
    assert_eq!(now.verdict(), Verdict::PendingReview, "hidden after the site's threshold");
    let events = moderation.list_decisions(authed(pb::ListDecisionsRequest::default(), &key("a"))).await.expect("list");
    let last = events.into_inner().events.pop().expect("hide event");
    assert_eq!((last.verdict(), last.reason_codes), (Verdict::PendingReview, vec!["policy.reported".to_string()]));

    let mut review = server.review().await;
    let reported = pb::ClaimNextRequest { queue: pb::Queue::Reported as i32, ..claim(5) };
    let items = review.claim_next(authed(reported, &token("mod-a"))).await.expect("claim").into_inner().items;
    assert_eq!(items.len(), 1);
    assert_eq!((items[0].queue(), items[0].report_count), (pb::Queue::Reported, 2));
    assert_eq!(items[0].report_reasons, vec!["insulting", "insulting"]);

    let unknown = pb::ReportCommentRequest { comment_id: "nope".into(), ..report("z") };
    assert_eq!(
        moderation.report_comment(authed(unknown, &key("a"))).await.expect_err("unknown").code(),
        Code::NotFound
    );
    let anonymous = pb::ReportCommentRequest { reporter_id: String::new(), ..report("z") };
    let err = moderation.report_comment(authed(anonymous, &key("a"))).await.expect_err("no reporter");
    assert_eq!(common::violated_fields(&err), vec!["reporter_id"]);
    // One reporter is rate limited.
    let mut limited = None;
    for i in 0..30 {
        let r = pb::ReportCommentRequest { comment_id: format!("x{i}"), ..report("flooder") };
        if let Err(e) = moderation.report_comment(authed(r, &key("a"))).await
            && e.code() == Code::ResourceExhausted
        {
            limited = Some(e);
            break;
        }
    }
    use tonic_types::StatusExt;
    let limited = limited.expect("a flooding reporter is limited");
    assert!(limited.get_details_retry_info().is_some());
}

async fn next_event(stream: &mut tonic::Streaming<pb::WatchDecisionsResponse>) -> pb::DecisionEvent {
    loop {
        let msg = tokio::time::timeout(Duration::from_secs(10), stream.message()).await.expect("in time");
        match msg.expect("stream ok").expect("open").kind {
            Some(pb::watch_decisions_response::Kind::Event(e)) => return e,
            Some(pb::watch_decisions_response::Kind::Heartbeat(_)) => continue,
            None => panic!("empty message"),
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn watchers_resume_from_their_cursor_and_get_heartbeats() {
    let mut config = two_sites(HOLD);
    config.server.heartbeat_ms = 100;
    let server = TestServer::start(config).await;
    let mut moderation = server.moderation().await;
    let watch = |cursor: &str| authed(pb::WatchDecisionsRequest { after_cursor: cursor.into() }, &key("a"));

    // From the oldest: the first two events, then disconnect.
    for i in 0..2 {
        moderation.submit_comment(authed(submission(&format!("w{i}"), "hello"), &key("a"))).await.expect("ok");
    }
    let mut stream = moderation.watch_decisions(watch("0")).await.expect("watch").into_inner();
    let e0 = next_event(&mut stream).await;
    let e1 = next_event(&mut stream).await;
    assert_eq!((e0.comment_id.as_str(), e1.comment_id.as_str()), ("w0", "w1"));
    drop(stream);

    // Events while disconnected, then resume from the last cursor: every event, in order, nothing twice.
    for i in 2..6 {
        moderation.submit_comment(authed(submission(&format!("w{i}"), "hello"), &key("a"))).await.expect("ok");
    }
    let mut stream = moderation.watch_decisions(watch(&e1.cursor)).await.expect("resume").into_inner();
    let mut got = Vec::new();
    for _ in 2..6 {
        got.push(next_event(&mut stream).await.comment_id);
    }
    // Live events after catching up.
    moderation.submit_comment(authed(submission("w6", "hello"), &key("a"))).await.expect("ok");
    got.push(next_event(&mut stream).await.comment_id);
    assert_eq!(got, vec!["w2", "w3", "w4", "w5", "w6"]);

    // Heartbeats on an idle stream.
    let beat = tokio::time::timeout(Duration::from_secs(10), stream.message()).await.expect("in time");
    assert!(matches!(beat.expect("ok").expect("open").kind, Some(pb::watch_decisions_response::Kind::Heartbeat(_))));

    // "" = from now on: only new events.
    let mut fresh = moderation.watch_decisions(watch("")).await.expect("watch").into_inner();
    moderation.submit_comment(authed(submission("w7", "hello"), &key("a"))).await.expect("ok");
    assert_eq!(next_event(&mut fresh).await.comment_id, "w7");

    // ListDecisions pages through the same events.
    let mut cursor = String::from("0");
    let mut listed = Vec::new();
    loop {
        let page = moderation
            .list_decisions(authed(pb::ListDecisionsRequest { after_cursor: cursor.clone(), page_size: 3 }, &key("a")))
            .await
            .expect("list")
            .into_inner();
        if page.events.is_empty() {
            break;
        }
        listed.extend(page.events.into_iter().map(|e| e.comment_id));
        cursor = page.next_cursor;
    }
    assert_eq!(listed, (0..8).map(|i| format!("w{i}")).collect::<Vec<_>>());
    let bad = moderation.watch_decisions(watch("not-a-cursor")).await.expect_err("bad cursor");
    assert_eq!(bad.code(), Code::InvalidArgument);
}

#[tokio::test]
async fn an_expired_cursor_is_out_of_range() {
    let clock = ManualClock::new(commentguard::clock::Clock::now_ms(&SystemClock));
    let server =
        TestServer::start_with_store(two_sites("retention_days = 1"), Arc::new(MemoryStore::new(clock.clone()))).await;
    let mut moderation = server.moderation().await;
    let old = moderation.submit_comment(authed(submission("old", "hello"), &key("a"))).await.expect("ok").into_inner();
    moderation.submit_comment(authed(submission("old2", "hello"), &key("a"))).await.expect("ok");
    clock.advance(2 * 86_400_000);
    moderation.submit_comment(authed(submission("new", "hello"), &key("a"))).await.expect("ok");
    let watch = pb::WatchDecisionsRequest { after_cursor: old.decision_cursor.clone() };
    let err = moderation.watch_decisions(authed(watch, &key("a"))).await.expect_err("expired");
    assert_eq!(err.code(), Code::OutOfRange);
    let list = pb::ListDecisionsRequest { after_cursor: old.decision_cursor, page_size: 10 };
    assert_eq!(moderation.list_decisions(authed(list, &key("a"))).await.expect_err("expired").code(), Code::OutOfRange);
    let from_start = wait_for(Duration::from_secs(5), || {
        let mut m = moderation.clone();
        async move {
            let list = pb::ListDecisionsRequest { after_cursor: "0".into(), page_size: 10 };
            m.list_decisions(authed(list, &key("a"))).await.ok()
        }
    })
    .await
    .expect("list from the oldest retained");
    assert_eq!(from_start.into_inner().events.iter().map(|e| e.comment_id.as_str()).collect::<Vec<_>>(), vec!["new"]);
}

#[tokio::test]
async fn pii_policy_actions_end_to_end() {
    let policy = "pii_actions = { \"pii.email\" = \"reject\" }\npii_redaction = { \"pii.phone\" = \"partial_mask\" }";
    let server = TestServer::start(two_sites(policy)).await;
    let mut moderation = server.moderation().await;
    let submit = |id: &str, body: &str, site: &str| authed(submission(id, body), &key(site));

    // Phone (default REDACT) is published masked; Urdu digits and zero-width characters do not hide it.
    let phone =
        moderation.submit_comment(submit("p1", "mera number ۰۳۰۰-۱۲۳۴۵۶۷ hai, rabta karein", "a")).await.expect("ok");
    let phone = phone.into_inner();
    assert_eq!(phone.verdict(), Verdict::Approved);
    assert_eq!(phone.findings.iter().map(|f| f.code.as_str()).collect::<Vec<_>>(), vec!["pii.phone"]);
    assert!(!phone.redacted_body.contains("۱۲۳۴۵۶۷"), "{}", phone.redacted_body);
    assert!(
        phone.redacted_body.starts_with("mera number •••• ") && phone.redacted_body.ends_with(" hai, rabta karein")
    );

    // Another region's national number next to a phone word (issue 11) is redacted too.
    let us = moderation.submit_comment(submit("p2", "call me at 210-440-3063 tonight", "a")).await.expect("ok");
    let us = us.into_inner();
    assert_eq!(us.findings.iter().map(|f| f.code.as_str()).collect::<Vec<_>>(), vec!["pii.phone"]);
    assert!(!us.redacted_body.contains("440-3063"), "{}", us.redacted_body);

    // Site a rejects emails; site b (defaults) redacts them with a label.
    let email = moderation.submit_comment(submit("e1", "write to ali.khan@example.com", "a")).await.expect("ok");
    assert_eq!(email.into_inner().verdict(), Verdict::Rejected);
    let email = moderation.submit_comment(submit("e1", "write to ali.khan@example.com", "b")).await.expect("ok");
    let email = email.into_inner();
    assert_eq!((email.verdict(), email.redacted_body.as_str()), (Verdict::Approved, "write to [email removed]"));

    // A card number (default HOLD) waits for a moderator, who sees only its type and last four; an admin sees it.
    let card = moderation.submit_comment(submit("k1", "my card 4111 1111 1111 1111 thanks", "a")).await.expect("ok");
    let card = card.into_inner();
    assert_eq!(card.verdict(), Verdict::PendingReview);
    assert_eq!(card.redacted_body, "my card [card number removed] thanks");
    let mut review = server.review().await;
    let list = pb::ListQueueRequest { site_id: "a".into(), ..Default::default() };
    let seen = review.list_queue(authed(list.clone(), &token("mod-a"))).await.expect("list").into_inner().items;
    let item = seen.iter().find(|i| i.comment_id == "k1").expect("held card comment");
    assert!(!item.body.contains("4111 1111"), "{}", item.body);
    assert!(item.body.contains("1111]") && item.body.ends_with(" thanks"), "{}", item.body);
    let span = &item.findings[0].spans[0];
    assert!(item.body[span.start as usize..span.end as usize].starts_with('['), "spans follow the masked body");
    let admin = review.list_queue(authed(list, &token("admin-a"))).await.expect("list").into_inner().items;
    let item = admin.iter().find(|i| i.comment_id == "k1").expect("held card comment");
    assert_eq!(item.body, "my card 4111 1111 1111 1111 thanks");
}

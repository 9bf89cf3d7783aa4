//! End-to-end tests of the gRPC service on a port-0 server with the embedded store.

mod common;

use commentguard::pb::{self, Verdict};
use common::{TestServer, authed, key, submission, two_sites, violated_fields, wait_for};
use std::collections::HashSet;
use std::time::Duration;
use tonic::Code;

async fn submit(
    server: &TestServer,
    site: &str,
    req: pb::SubmitCommentRequest,
) -> Result<pb::SubmitCommentResponse, tonic::Status> {
    let mut client = server.moderation().await;
    client.submit_comment(authed(req, &key(site))).await.map(|r| r.into_inner())
}

fn codes(resp: &pb::SubmitCommentResponse) -> Vec<&str> {
    resp.findings.iter().map(|f| f.code.as_str()).collect()
}

#[tokio::test]
async fn a_clean_comment_is_approved_and_readable() {
    let server = TestServer::start(two_sites("")).await;
    let resp = submit(&server, "a", submission("c1", "Great reporting, thank you!")).await.expect("accepted");
    assert_eq!(resp.verdict(), Verdict::Approved);
    assert!(resp.findings.is_empty(), "{:?}", resp.findings);
    assert_eq!(resp.redacted_body, "Great reporting, thank you!");
    assert!(!resp.replayed);
    assert!(resp.review_id.is_empty());
    assert!(!resp.decision_cursor.is_empty());

    let mut client = server.moderation().await;
    let got = client
        .get_comment(authed(pb::GetCommentRequest { comment_id: "c1".into(), ..Default::default() }, &key("a")))
        .await
        .expect("found")
        .into_inner();
    assert_eq!(got.verdict(), Verdict::Approved);
    assert_eq!(got.source(), pb::DecisionSource::Automatic);
    assert_eq!(got.thread_id, "thread-1");
    assert!(got.decided_at.is_some());
}

#[tokio::test]
async fn each_check_yields_its_verdict() {
    let policy = "blocked_words = [\"casino\"]\nsuspect_words = [\"whatsapp karo\"]\nmax_links = 1";
    let server = TestServer::start(two_sites(policy)).await;

    let blocked = submit(&server, "a", submission("w1", "Meet at the CASINO tonight")).await.expect("accepted");
    assert_eq!(blocked.verdict(), Verdict::Rejected);
    let word = blocked.findings.iter().find(|f| f.code == "policy.blocked_word").expect("blocked word finding");
    assert_eq!(word.spans, vec![pb::Span { start: 12, end: 18 }]);
    assert_eq!(blocked.findings[0].code, "policy.blocked_word");

    // A right-to-left override displays "onisac" as "casino"; the span covers the overridden run (bytes 12..18).
    let rlo = submit(&server, "a", submission("w4", "Meet at the \u{202E}onisac\u{202C} tonight")).await.expect("ok");
    assert_eq!(rlo.verdict(), Verdict::Rejected);
    let word = rlo.findings.iter().find(|f| f.code == "policy.blocked_word").expect("blocked word finding");
    assert_eq!(word.spans, vec![pb::Span { start: 15, end: 21 }]);

    let scunthorpe = submit(&server, "a", submission("w2", "The casinos of Monaco")).await.expect("accepted");
    assert_eq!(scunthorpe.verdict(), Verdict::Approved, "whole words only");

    let suspect = submit(&server, "a", submission("w3", "Paise chahiye? WhatsApp karo abhi")).await.expect("accepted");
    assert_eq!(suspect.verdict(), Verdict::PendingReview);
    // The spam rules know this Roman Urdu phrase too; the site's suspect list is what holds it here.
    assert!(codes(&suspect).contains(&"policy.suspect_word"), "{:?}", codes(&suspect));
    assert!(!suspect.review_id.is_empty(), "held comments get a review id");

    let links = submit(
        &server,
        "a",
        submission("l1", "The court ruling is explained at https://a.example and at b.example.com in detail"),
    )
    .await
    .expect("ok");
    assert_eq!(links.verdict(), Verdict::PendingReview);
    assert_eq!(codes(&links), vec!["spam.links"]);
    assert_eq!(links.findings[0].spans.len(), 2);

    let mut honeypot = submission("h1", "hello");
    honeypot.signals = Some(pb::ClientSignals { honeypot_filled: true, ..Default::default() });
    let bot = submit(&server, "a", honeypot).await.expect("accepted");
    assert_eq!(bot.verdict(), Verdict::Rejected);
    assert_eq!(codes(&bot), vec!["spam.honeypot"]);
    assert!(bot.spam_score >= 0.9);

    let mut fast = submission("f1", "hello");
    fast.signals = Some(pb::ClientSignals { time_to_submit_ms: Some(0), ..Default::default() });
    let instant = submit(&server, "a", fast).await.expect("accepted");
    assert_eq!(codes(&instant), vec!["spam.too_fast"]);
    assert_eq!(instant.verdict(), Verdict::PendingReview);

    // Site b has none of site a's rules.
    let other = submit(&server, "b", submission("w1", "Meet at the CASINO tonight")).await.expect("accepted");
    assert_eq!(other.verdict(), Verdict::Approved);
}

#[tokio::test]
async fn premoderation_and_first_time_authors() {
    let server = TestServer::start(two_sites("premoderation = true")).await;
    let held = submit(&server, "a", submission("p1", "hello")).await.expect("accepted");
    assert_eq!(held.verdict(), Verdict::PendingReview);
    assert_eq!(codes(&held), vec!["policy.premoderation"]);

    let server = TestServer::start(two_sites("hold_first_time_authors = true")).await;
    let mut first = submission("n1", "first words");
    first.author.as_mut().expect("author").account_id = "newbie".into();
    let held = submit(&server, "a", first.clone()).await.expect("accepted");
    assert_eq!(held.verdict(), Verdict::PendingReview);
    assert_eq!(codes(&held), vec!["policy.first_time_author"]);
    first.comment_id = "n2".into();
    let second = submit(&server, "a", first).await.expect("accepted");
    assert_eq!(second.verdict(), Verdict::Approved, "known after the first comment");
}

#[tokio::test]
async fn a_campaign_of_near_copies_is_held() {
    let server = TestServer::start(two_sites("")).await;
    let text = "The minister's statement on the budget ignores the rising cost of electricity for ordinary families in \
                Karachi and Lahore this summer, NAME says";
    let mut verdicts = Vec::new();
    for (i, name) in ["Ali", "Sana", "Omar", "Zara"].iter().enumerate() {
        // Four accounts; the submission helper gives each comment its own account id.
        let resp = submit(&server, "a", submission(&format!("camp-{i}"), &text.replace("NAME", name))).await;
        let resp = resp.expect("accepted");
        verdicts.push((resp.verdict(), codes(&resp).contains(&"spam.duplicate")));
    }
    assert_eq!(verdicts[0], (Verdict::Approved, false), "the first of them is an ordinary comment");
    assert_eq!(verdicts[3], (Verdict::PendingReview, true), "the fourth account posting it is a campaign");
    // Another site's readers posting the same text are not part of this site's campaign.
    let elsewhere = submit(&server, "b", submission("camp-b", &text.replace("NAME", "Bilal"))).await.expect("ok");
    assert_eq!(elsewhere.verdict(), Verdict::Approved);
}

#[tokio::test]
async fn spans_in_three_encodings() {
    let server = TestServer::start(two_sites("blocked_words = [\"casino\"]")).await;
    let body = "😀 é casino";
    let mut req = submission("e1", body);
    let utf8 = submit(&server, "a", req.clone()).await.expect("ok");
    assert_eq!(utf8.findings[0].spans, vec![pb::Span { start: 8, end: 14 }]);
    req.comment_id = "e2".into();
    req.offset_encoding = pb::OffsetEncoding::Utf16 as i32;
    let utf16 = submit(&server, "a", req.clone()).await.expect("ok");
    assert_eq!(utf16.findings[0].spans, vec![pb::Span { start: 5, end: 11 }]);
    req.comment_id = "e3".into();
    req.offset_encoding = pb::OffsetEncoding::CodePoint as i32;
    let cp = submit(&server, "a", req).await.expect("ok");
    assert_eq!(cp.findings[0].spans, vec![pb::Span { start: 4, end: 10 }]);
}

#[tokio::test]
async fn replays_are_idempotent_and_conflicts_refused() {
    let server = TestServer::start(two_sites("suspect_words = [\"hold\"]")).await;
    let first = submit(&server, "a", submission("r1", "please hold this")).await.expect("accepted");
    assert_eq!(first.verdict(), Verdict::PendingReview);
    let again = submit(&server, "a", submission("r1", "please hold this")).await.expect("replayed");
    assert!(again.replayed);
    assert_eq!(again.decision_cursor, first.decision_cursor);
    assert_eq!(again.review_id, first.review_id);
    assert_eq!(again.findings, first.findings);

    let conflict = submit(&server, "a", submission("r1", "a different body")).await.expect_err("conflict");
    assert_eq!(conflict.code(), Code::AlreadyExists);

    // The same comment id on another site is another comment.
    let other = submit(&server, "b", submission("r1", "a different body")).await.expect("accepted");
    assert!(!other.replayed);
}

#[tokio::test]
async fn fifty_concurrent_duplicates_resolve_to_one_record() {
    let server = TestServer::start(two_sites("suspect_words = [\"hold\"]")).await;
    let channel = server.channel().await;
    let mut tasks = Vec::new();
    for _ in 0..50 {
        let mut client = pb::moderation_service_client::ModerationServiceClient::new(channel.clone());
        tasks.push(tokio::spawn(async move {
            client.submit_comment(authed(submission("dup", "hold me once"), &key("a"))).await.map(|r| r.into_inner())
        }));
    }
    let mut fresh = 0;
    let mut cursors = HashSet::new();
    let mut reviews = HashSet::new();
    for t in tasks {
        let resp = t.await.expect("join").expect("accepted");
        fresh += usize::from(!resp.replayed);
        cursors.insert(resp.decision_cursor);
        reviews.insert(resp.review_id);
    }
    assert_eq!(fresh, 1, "exactly one submission is the original");
    assert_eq!(cursors.len(), 1, "one decision event");
    assert_eq!(reviews.len(), 1, "one queue entry");
    let store = &server.app.store;
    let events = store.decisions.read_decisions("a", commentguard::store::After::Start, 100).await.expect("read");
    assert_eq!(events.iter().filter(|e| e.comment_id == "dup").count(), 1);
}

#[tokio::test]
async fn errors_have_the_contract_codes() {
    let server = TestServer::start(two_sites("max_body_bytes = 100")).await;
    let mut client = server.moderation().await;

    let missing = client.submit_comment(tonic::Request::new(submission("x", "hi"))).await.expect_err("no key");
    assert_eq!(missing.code(), Code::Unauthenticated);
    let wrong = client.submit_comment(authed(submission("x", "hi"), "nope")).await.expect_err("bad key");
    assert_eq!(wrong.code(), Code::Unauthenticated);

    let mut bad = submission("", "   ");
    bad.author.as_mut().expect("author").ip = "300.1.2.3".into();
    let invalid = client.submit_comment(authed(bad, &key("a"))).await.expect_err("invalid");
    assert_eq!(invalid.code(), Code::InvalidArgument);
    assert_eq!(violated_fields(&invalid), vec!["comment_id", "body", "author.ip"]);

    let too_big =
        client.submit_comment(authed(submission("big", &"x".repeat(101)), &key("a"))).await.expect_err("size");
    assert_eq!(too_big.code(), Code::InvalidArgument);
    assert_eq!(violated_fields(&too_big), vec!["body"]);

    let control = client.submit_comment(authed(submission("ctl", "a\u{1b}[31m"), &key("a"))).await.expect_err("ctl");
    assert_eq!(violated_fields(&control), vec!["body"]);

    let mut crlf = submission("crlf", "hello");
    crlf.author.as_mut().expect("author").email = "a@example.com\r\nBcc: x@example.com".into();
    let crlf = client.submit_comment(authed(crlf, &key("a"))).await.expect_err("CR/LF in an author field");
    assert_eq!(crlf.code(), Code::InvalidArgument);
    assert_eq!(violated_fields(&crlf), vec!["author.email"]);

    let rtl = submission("rtl", "\u{200F}سلام\u{200D} دوست");
    assert!(client.submit_comment(authed(rtl, &key("a"))).await.is_ok(), "format characters are accepted");

    let unknown = client
        .get_comment(authed(pb::GetCommentRequest { comment_id: "nope".into(), ..Default::default() }, &key("a")))
        .await
        .expect_err("unknown");
    assert_eq!(unknown.code(), Code::NotFound);

    let list = pb::ListDecisionsRequest { after_cursor: "bogus".into(), page_size: 0 };
    let bad_cursor = client.list_decisions(authed(list, &key("a"))).await.expect_err("bad cursor");
    assert_eq!(violated_fields(&bad_cursor), vec!["after_cursor"]);
}

#[tokio::test]
async fn oversized_messages_are_refused_before_any_handler() {
    let mut config = two_sites("");
    config.server.max_message_bytes = 4096;
    let server = TestServer::start(config).await;
    let err = submit(&server, "a", submission("huge", &"y".repeat(10_000))).await.expect_err("too large");
    assert_eq!(err.code(), Code::OutOfRange, "tonic refuses messages over the decoding limit");
}

fn with_secret<T>(message: T, secret: Option<&str>) -> tonic::Request<T> {
    match secret {
        Some(s) => authed(message, s),
        None => tonic::Request::new(message),
    }
}

/// Unauthenticated callers learn nothing and cost nothing: every RPC of both services answers UNAUTHENTICATED for
/// a request without a valid key whatever its body (invalid fields, over the decoding limit), because the key is
/// checked before the body is decoded.
#[tokio::test]
async fn unauthenticated_callers_are_refused_before_their_body_is_read() {
    let mut config = two_sites("");
    config.server.max_message_bytes = 4096;
    let server = TestServer::start(config).await;
    let (mut moderation, mut review) = (server.moderation().await, server.review().await);
    let mut invalid = submission("", "   ");
    invalid.author.as_mut().expect("author").ip = "300.1.2.3".into();
    let huge = submission("huge", &"y".repeat(10_000));
    for secret in [None, Some("nope"), Some("token-mod-a")] {
        for body in [invalid.clone(), huge.clone()] {
            let err = moderation.submit_comment(with_secret(body, secret)).await.expect_err("no key");
            assert_eq!(err.code(), Code::Unauthenticated, "{secret:?}: {err:?}");
            assert!(violated_fields(&err).is_empty(), "no field details for unauthenticated callers");
        }
        let get = moderation.get_comment(with_secret(pb::GetCommentRequest::default(), secret)).await.expect_err("get");
        assert_eq!(get.code(), Code::Unauthenticated);
        let list = pb::ListDecisionsRequest { after_cursor: "bogus".into(), page_size: -1 };
        assert_eq!(
            moderation.list_decisions(with_secret(list, secret)).await.expect_err("list").code(),
            Code::Unauthenticated
        );
        let watch = pb::WatchDecisionsRequest { after_cursor: "bogus".into() };
        assert_eq!(
            moderation.watch_decisions(with_secret(watch, secret)).await.expect_err("watch").code(),
            Code::Unauthenticated
        );
        let report = moderation
            .report_comment(with_secret(pb::ReportCommentRequest::default(), secret))
            .await
            .expect_err("report");
        assert_eq!(report.code(), Code::Unauthenticated);
    }
    let site_key = key("a");
    for secret in [None, Some("nope"), Some(site_key.as_str())] {
        let claim = pb::ClaimNextRequest { max_items: -1, site_id: "x".repeat(10_000), ..Default::default() };
        assert_eq!(
            review.claim_next(with_secret(claim, secret)).await.expect_err("claim").code(),
            Code::Unauthenticated
        );
        assert_eq!(
            review.decide(with_secret(pb::DecideRequest::default(), secret)).await.expect_err("decide").code(),
            Code::Unauthenticated
        );
        let release =
            review.release_claim(with_secret(pb::ReleaseClaimRequest::default(), secret)).await.expect_err("release");
        assert_eq!(release.code(), Code::Unauthenticated);
        let list = review.list_queue(with_secret(pb::ListQueueRequest::default(), secret)).await.expect_err("list");
        assert_eq!(list.code(), Code::Unauthenticated);
        let stats =
            review.get_queue_stats(with_secret(pb::GetQueueStatsRequest::default(), secret)).await.expect_err("stats");
        assert_eq!(stats.code(), Code::Unauthenticated);
        let audit =
            review.list_audit_log(with_secret(pb::ListAuditLogRequest::default(), secret)).await.expect_err("audit");
        assert_eq!(audit.code(), Code::Unauthenticated);
    }
    // The same bodies with a valid key are judged on their content.
    let err = moderation.submit_comment(authed(invalid, &key("a"))).await.expect_err("invalid");
    assert_eq!(violated_fields(&err), vec!["comment_id", "body", "author.ip"]);
    let err = moderation.submit_comment(authed(huge, &key("a"))).await.expect_err("too large");
    assert_eq!(err.code(), Code::OutOfRange);
    let metrics = common::http_get(&format!("http://{}/metrics", server.metrics_addr)).await.expect("metrics");
    assert!(
        metrics.lines().any(|l| l.starts_with("commentguard_requests_total")
            && l.contains("rpc=\"ClaimNext\"")
            && l.contains("code=\"UNAUTHENTICATED\"")),
        "refusals before decoding are counted per RPC"
    );
}

#[tokio::test]
async fn a_site_cannot_read_another_sites_comment() {
    let server = TestServer::start(two_sites("")).await;
    submit(&server, "a", submission("secret", "site a only")).await.expect("accepted");
    let mut client = server.moderation().await;
    let req = pb::GetCommentRequest { comment_id: "secret".into(), ..Default::default() };
    let err = client.get_comment(authed(req.clone(), &key("b"))).await.expect_err("isolated");
    assert_eq!(err.code(), Code::NotFound);
    assert!(client.get_comment(authed(req, &key("a"))).await.is_ok());
}

#[tokio::test]
async fn health_and_reflection_are_served() {
    use tonic_health::pb::{HealthCheckRequest, health_check_response::ServingStatus, health_client::HealthClient};
    let server = TestServer::start(two_sites("")).await;
    let channel = server.channel().await;
    let mut health = HealthClient::new(channel.clone());
    for service in ["", "commentguard.v1.ModerationService", "commentguard.v1.ReviewService"] {
        let resp = health.check(HealthCheckRequest { service: service.into() }).await.expect("health");
        assert_eq!(resp.into_inner().status(), ServingStatus::Serving, "{service}");
    }

    use tonic_reflection::pb::v1::{
        ServerReflectionRequest, server_reflection_client::ServerReflectionClient,
        server_reflection_request::MessageRequest, server_reflection_response::MessageResponse,
    };
    let mut reflection = ServerReflectionClient::new(channel.clone());
    let request = ServerReflectionRequest {
        host: String::new(),
        message_request: Some(MessageRequest::ListServices(String::new())),
    };
    let mut stream =
        reflection.server_reflection_info(tokio_stream::iter(vec![request])).await.expect("reflection").into_inner();
    let reply = stream.message().await.expect("reply").expect("one message");
    let Some(MessageResponse::ListServicesResponse(list)) = reply.message_response else { panic!("unexpected reply") };
    let names: HashSet<String> = list.service.into_iter().map(|s| s.name).collect();
    for expected in ["commentguard.v1.ModerationService", "commentguard.v1.ReviewService", "grpc.health.v1.Health"] {
        assert!(names.contains(expected), "{expected} missing from {names:?}");
    }

    use tonic_reflection::pb::v1alpha::{
        ServerReflectionRequest as AlphaRequest, server_reflection_client::ServerReflectionClient as AlphaClient,
        server_reflection_request::MessageRequest as AlphaMessage,
    };
    let mut alpha = AlphaClient::new(channel);
    let request =
        AlphaRequest { host: String::new(), message_request: Some(AlphaMessage::ListServices(String::new())) };
    let mut stream =
        alpha.server_reflection_info(tokio_stream::iter(vec![request])).await.expect("v1alpha").into_inner();
    assert!(stream.message().await.expect("reply").is_some());
}

#[tokio::test]
async fn metrics_count_requests_without_personal_data() {
    let server = TestServer::start(two_sites("blocked_words = [\"casino\"]")).await;
    submit(&server, "a", submission("m1", "casino reader@example.com 203.0.113.99")).await.expect("accepted");
    let url = format!("http://{}/metrics", server.metrics_addr);
    let page = wait_for(Duration::from_secs(5), || async {
        let page = common::http_get(&url).await?;
        page.contains("commentguard_requests_total").then_some(page)
    })
    .await
    .expect("metrics page");
    assert!(page.contains("rpc=\"SubmitComment\""), "{page}");
    assert!(page.contains("commentguard_findings_total{code=\"policy.blocked_word\"}"), "{page}");
    assert!(page.contains("commentguard_request_duration_seconds"));
    for secret in ["reader@example.com", "203.0.113", "casino reader"] {
        assert!(!page.contains(secret), "metrics leak {secret}");
    }
}

#[tokio::test]
async fn shutdown_flips_health_and_finishes_in_flight_requests() {
    use commentguard::store::memory::MemoryStore;
    use std::sync::Arc;
    let gate = Arc::new(common::GatedStore::new(Arc::new(MemoryStore::default())));
    let mut config = two_sites("");
    config.server.shutdown_grace_ms = 300;
    let mut server = TestServer::start_with_stores(config, gate.stores()).await;
    let channel = server.channel().await;

    let mut client = pb::moderation_service_client::ModerationServiceClient::new(channel.clone());
    let in_flight =
        tokio::spawn(async move { client.submit_comment(authed(submission("slow", "in flight"), &key("a"))).await });
    tokio::time::timeout(Duration::from_secs(5), gate.entered.notified()).await.expect("request reached the store");

    let mut health = tonic_health::pb::health_client::HealthClient::new(channel);
    let mut watch = health
        .watch(tonic_health::pb::HealthCheckRequest { service: String::new() })
        .await
        .expect("watch")
        .into_inner();
    server.begin_shutdown();
    let not_serving = tokio::time::timeout(Duration::from_secs(5), async {
        while let Ok(Some(msg)) = watch.message().await {
            if msg.status() == tonic_health::pb::health_check_response::ServingStatus::NotServing {
                return true;
            }
        }
        false
    })
    .await
    .expect("health update in time");
    assert!(not_serving, "health says NOT_SERVING before the listener closes");
    drop(watch);

    gate.release.notify_one();
    let resp = tokio::time::timeout(Duration::from_secs(5), in_flight).await.expect("finishes").expect("join");
    assert_eq!(resp.expect("the in-flight request completes").into_inner().verdict(), Verdict::Approved);
    server.stop().await.expect("clean shutdown");
    assert!(gate.inner.pending("a").is_empty());
}

//! The HTTP/JSON door, driven with a plain HTTP/1.1 client over a raw socket (the bytes a PHP host sends): every
//! route, every error class with its HTTP status and `google.rpc.Status` body, authentication before the body is
//! read, the body limit, and answers identical to gRPC's for the same comments (replays included).

mod common;

use commentguard::clock::SystemClock;
use commentguard::pb;
use commentguard::ratelimit::{FakeRelativeClock, RateClock};
use commentguard::store::redis::{Durability, RedisOptions, RedisStore};
use commentguard::store::{Stores, memory::MemoryStore};
use common::http::{HttpServer, raw, read_answer, request};
use common::redis::TestRedis;
use common::{authed, key, only_limits, submission, two_sites, violated_fields};
use serde_json::{Value, json};
use std::sync::Arc;
use std::time::Duration;
use tokio::io::AsyncWriteExt;

fn memory() -> Stores {
    Stores::of(Arc::new(MemoryStore::new(Arc::new(SystemClock))))
}

async fn server() -> HttpServer {
    HttpServer::start(two_sites("suspect_words = [\"hold\"]"), memory()).await
}

/// A submission as a PHP host would write it (camelCase and snake_case are both the canonical mapping's).
fn submit_body(comment_id: &str, body: &str) -> String {
    json!({
        "commentId": comment_id,
        "thread_id": "thread-1",
        "author": {"ip": "203.0.113.7", "email": "reader@example.com", "accountId": format!("acct-{comment_id}")},
        "body": body,
    })
    .to_string()
}

async fn submit(server: &HttpServer, comment_id: &str, body: &str) -> common::http::Answer {
    request(server.http, "POST", "/v1/comments:submit", Some(&key("a")), Some(&submit_body(comment_id, body))).await
}

/// The `@type`s of a status body's details.
fn detail_types(status: &Value) -> Vec<String> {
    status["details"]
        .as_array()
        .map(|d| d.iter().filter_map(|d| d["@type"].as_str()).map(|t| t.rsplit('.').next().unwrap_or(t).to_string()))
        .into_iter()
        .flatten()
        .collect()
}

#[tokio::test]
async fn every_route_answers_as_grpc_does() {
    let server = server().await;
    let mut grpc = server.moderation().await;

    // SubmitComment: a held comment (suspect word) with every field present, in camelCase.
    let held = submit(&server, "c-1", "please hold this one").await;
    assert_eq!(held.status, 200, "{}", held.body);
    assert_eq!(held.header("content-type"), Some("application/json"));
    let held = held.json();
    assert_eq!(held["commentId"], "c-1");
    assert_eq!(held["verdict"], "VERDICT_PENDING_REVIEW");
    assert_eq!(held["replayed"], false);
    assert!(held["reviewId"].as_str().is_some_and(|r| !r.is_empty()), "{held}");
    assert!(held["findings"].as_array().is_some_and(|f| f.iter().any(|f| f["code"] == "policy.suspect_word")));
    let cursor = held["decisionCursor"].as_str().expect("cursor").to_string();

    // The same comment over gRPC's GetComment: the door stored exactly what gRPC reads.
    let got = grpc
        .get_comment(authed(pb::GetCommentRequest { comment_id: "c-1".into(), ..Default::default() }, &key("a")))
        .await
        .expect("stored")
        .into_inner();
    assert_eq!(got.verdict, pb::Verdict::PendingReview as i32);
    assert_eq!(got.review_id, held["reviewId"].as_str().unwrap_or_default());

    // Replays: the same body again is the stored answer; another body is ALREADY_EXISTS → 409.
    let again = submit(&server, "c-1", "please hold this one").await.json();
    assert_eq!(again["replayed"], true);
    assert_eq!(again["decisionCursor"], cursor.as_str());
    let conflict = submit(&server, "c-1", "another body").await;
    assert_eq!(conflict.status, 409, "{}", conflict.body);
    assert_eq!(conflict.json()["code"], 6);
    // A comment sent over gRPC replays over HTTP, and the other way round: one idempotency, two doors.
    let by_grpc = grpc.submit_comment(authed(submission("c-2", "Thanks for the article"), &key("a"))).await;
    let by_grpc = by_grpc.expect("stored").into_inner();
    let replay = request(
        server.http,
        "POST",
        "/v1/comments:submit",
        Some(&key("a")),
        Some(
            &serde_json::to_string(&json!({
                "commentId": "c-2", "threadId": "thread-1", "body": "Thanks for the article",
                "author": {"ip": "203.0.113.7", "email": "reader@example.com", "accountId": "acct-c-2"}
            }))
            .expect("json"),
        ),
    )
    .await
    .json();
    assert_eq!(replay["replayed"], true, "{replay}");
    assert_eq!(replay["decisionCursor"], by_grpc.decision_cursor.as_str());
    let grpc_replay = grpc.submit_comment(authed(submission("c-1", "please hold this one"), &key("a"))).await;
    assert!(grpc_replay.expect("replay").into_inner().replayed);

    // GetComment, with a query parameter in the canonical mapping: spans in UTF-16 units.
    let body = "😀 mail me at reader@example.com";
    assert_eq!(submit(&server, "c-3", body).await.status, 200);
    let spans = |encoding: &str| {
        let path = format!("/v1/comments/c-3{encoding}");
        let server = &server;
        async move {
            let got = request(server.http, "GET", &path, Some(&key("a")), None).await;
            assert_eq!(got.status, 200, "{}", got.body);
            let got = got.json();
            assert_eq!(got["commentId"], "c-3");
            let email =
                got["findings"].as_array().expect("findings").iter().find(|f| f["code"] == "pii.email").cloned();
            email.expect("an email finding")["spans"][0]["start"].as_u64().expect("start")
        }
    };
    assert_eq!(spans("").await, body.find("reader").expect("in body") as u64, "UTF-8 bytes by default");
    assert_eq!(spans("?offset_encoding=OFFSET_ENCODING_UTF16").await, 14, "the emoji is 2 UTF-16 units");
    assert_eq!(spans("?offsetEncoding=OFFSET_ENCODING_CODE_POINT").await, 13);
    let missing = request(server.http, "GET", "/v1/comments/nope", Some(&key("a")), None).await;
    assert_eq!((missing.status, missing.json()["code"].clone()), (404, json!(5)));
    // An id with a slash and a colon, percent-encoded as rawurlencode does.
    assert_eq!(submit(&server, "wp/7:x", "fine words").await.status, 200);
    let odd = request(server.http, "GET", "/v1/comments/wp%2F7%3Ax", Some(&key("a")), None).await;
    assert_eq!((odd.status, odd.json()["commentId"].clone()), (200, json!("wp/7:x")));

    // ListDecisions: the events in order, paged by nextCursor; site b sees none of them.
    let page = request(server.http, "GET", "/v1/decisions?after_cursor=0&page_size=2", Some(&key("a")), None).await;
    assert_eq!(page.status, 200, "{}", page.body);
    let page = page.json();
    let ids: Vec<&str> =
        page["events"].as_array().expect("events").iter().filter_map(|e| e["commentId"].as_str()).collect();
    assert_eq!(ids, ["c-1", "c-2"]);
    assert_eq!(page["events"][0]["cursor"], cursor.as_str());
    let next = page["nextCursor"].as_str().expect("next").to_string();
    let rest = request(server.http, "GET", &format!("/v1/decisions?afterCursor={next}"), Some(&key("a")), None).await;
    let rest = rest.json();
    let ids: Vec<&str> =
        rest["events"].as_array().expect("events").iter().filter_map(|e| e["commentId"].as_str()).collect();
    assert_eq!(ids, ["c-3", "wp/7:x"]);
    let other = request(server.http, "GET", "/v1/decisions?after_cursor=0", Some(&key("b")), None).await.json();
    assert_eq!(other["events"], json!([]), "tenancy");

    // ReportComment: the id from the path; the body's own comment_id may repeat it but not contradict it.
    let path = "/v1/comments/c-2:report";
    let key_a = key("a");
    let report = request(server.http, "POST", path, Some(&key_a), Some(r#"{"reporterId": "r-1", "reason": "rude"}"#));
    let report = report.await;
    assert_eq!(report.status, 200, "{}", report.body);
    let report = report.json();
    assert_eq!(report["reportCount"], 1);
    assert!(report["reviewId"].as_str().is_some_and(|r| !r.is_empty()));
    let same = request(server.http, "POST", path, Some(&key_a), Some(r#"{"commentId": "c-2", "reporterId": "r-2"}"#));
    assert_eq!(same.await.json()["reportCount"], 2);
    let contradicting =
        request(server.http, "POST", path, Some(&key_a), Some(r#"{"commentId": "c-9", "reporterId": "r"}"#));
    let contradicting = contradicting.await;
    assert_eq!(contradicting.status, 400);
    assert_eq!(contradicting.json()["details"][0]["fieldViolations"][0]["field"], "comment_id");
    let unknown = request(server.http, "POST", "/v1/comments/zzz:report", Some(&key_a), Some(r#"{"reporterId": "r"}"#));
    assert_eq!(unknown.await.status, 404);
    server.stop().await;
}

#[tokio::test]
async fn unauthenticated_callers_are_refused_before_the_body_is_read() {
    let server = server().await;
    for auth in ["", "Authorization: Bearer wrong-key\r\n", "Authorization: Basic a2V5LWE=\r\n"] {
        // Headers promise a body that never comes: the answer can only arrive if the body was not awaited.
        let mut stream = tokio::net::TcpStream::connect(server.http).await.expect("connect");
        let head = format!(
            "POST /v1/comments:submit HTTP/1.1\r\nHost: x\r\n{auth}Content-Type: application/json\r\n\
             Content-Length: 900\r\n\r\n{{\"commentId\":"
        );
        stream.write_all(head.as_bytes()).await.expect("write");
        let answer = read_answer(&mut stream).await;
        assert_eq!(answer.status, 401, "{auth:?}: {}", answer.body);
        let status = answer.json();
        assert_eq!(status["code"], 16);
        assert_eq!(status["details"], json!([]), "no field details for an unauthenticated caller");
    }
    // GETs too, and another site's key never reaches site a's data.
    assert_eq!(request(server.http, "GET", "/v1/decisions", None, None).await.status, 401);
    assert_eq!(submit(&server, "c-1", "site a's comment").await.status, 200);
    assert_eq!(request(server.http, "GET", "/v1/comments/c-1", Some(&key("b")), None).await.status, 404);
    server.stop().await;
}

#[tokio::test]
async fn invalid_requests_are_400_with_the_same_field_violations_as_grpc() {
    let server = server().await;
    let mut grpc = server.moderation().await;
    let body = json!({"commentId": "", "author": {"ip": "not-an-ip"}, "body": "  "}).to_string();
    let answer = request(server.http, "POST", "/v1/comments:submit", Some(&key("a")), Some(&body)).await;
    assert_eq!(answer.status, 400, "{}", answer.body);
    let status = answer.json();
    assert_eq!(status["code"], 3);
    assert_eq!(detail_types(&status), ["BadRequest"]);
    let fields: Vec<String> = status["details"][0]["fieldViolations"]
        .as_array()
        .expect("violations")
        .iter()
        .filter_map(|v| v["field"].as_str().map(String::from))
        .collect();
    let same = pb::SubmitCommentRequest {
        author: Some(pb::Author { ip: "not-an-ip".into(), ..Default::default() }),
        body: "  ".into(),
        ..Default::default()
    };
    let refused = grpc.submit_comment(authed(same, &key("a"))).await.expect_err("invalid");
    assert_eq!(fields, violated_fields(&refused), "the door refuses exactly as gRPC does");
    assert!(fields.contains(&"author.ip".to_string()) && fields.contains(&"comment_id".to_string()), "{fields:?}");
    // An empty body is a request with no fields: violations, not a JSON error.
    let empty = request(server.http, "POST", "/v1/comments:submit", Some(&key("a")), Some("")).await;
    assert_eq!((empty.status, detail_types(&empty.json())), (400, vec!["BadRequest".to_string()]));
    // Cursors are validated as for gRPC.
    let cursor = request(server.http, "GET", "/v1/decisions?after_cursor=yesterday", Some(&key("a")), None).await;
    assert_eq!(cursor.status, 400);
    assert_eq!(cursor.json()["details"][0]["fieldViolations"][0]["field"], "after_cursor");

    // What only HTTP can get wrong.
    for (method, path, body, status, expect) in [
        ("POST", "/v1/comments:submit", "{\"commentId\": ", 400, "not JSON"),
        ("POST", "/v1/comments:submit", "{\"boddy\": \"x\"}", 400, "has no field \"boddy\""),
        ("POST", "/v1/comments:submit", "[1, 2]", 400, "does not fit"),
        ("GET", "/v1/decisions?page_size=lots", "", 400, "does not fit"),
        ("GET", "/v1/decisions?page_size=1&page_size=2", "", 400, "given twice"),
        ("GET", "/v1/decisions?shoe_size=9", "", 400, "has no field \"shoe_size\""),
        ("GET", "/v1/comments/c?comment_id=d", "", 400, "path's"),
        ("GET", "/v1/comments:submit", "", 405, "POST only"),
        ("DELETE", "/v1/comments/c-1", "", 405, "GET only"),
        ("GET", "/v2/whatever", "", 404, "no such route"),
        ("POST", "/v1/comments/c-1:delete", "{}", 404, "no such route"),
    ] {
        let body = (method == "POST").then_some(body);
        let answer = request(server.http, method, path, Some(&key("a")), body).await;
        assert_eq!(answer.status, status, "{method} {path}: {}", answer.body);
        let message = answer.json()["message"].as_str().unwrap_or_default().to_string();
        assert!(message.contains(expect), "{method} {path}: {message}");
    }
    let wrong_type = format!(
        "POST /v1/comments:submit HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {}\r\nContent-Type: text/plain\r\n\
         Content-Length: 2\r\nConnection: close\r\n\r\n{{}}",
        key("a")
    );
    assert_eq!(raw(server.http, wrong_type.as_bytes()).await.status, 415);
    let allow = request(server.http, "PUT", "/v1/decisions", Some(&key("a")), None).await;
    assert_eq!(allow.header("allow"), Some("GET"));
    server.stop().await;
}

#[tokio::test]
async fn bodies_are_capped_at_max_message_bytes() {
    let mut config = two_sites("");
    config.server.max_message_bytes = 2048;
    let server = HttpServer::start(config, memory()).await;
    // Declared too large: refused from the headers, before the body is sent.
    let mut stream = tokio::net::TcpStream::connect(server.http).await.expect("connect");
    let head = format!(
        "POST /v1/comments:submit HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {}\r\nContent-Length: 4096\r\n\r\n",
        key("a")
    );
    stream.write_all(head.as_bytes()).await.expect("write");
    let answer = read_answer(&mut stream).await;
    assert_eq!(answer.status, 413, "{}", answer.body);
    assert!(answer.json()["message"].as_str().unwrap_or_default().contains("2048 bytes"));
    // Chunked, with no length: refused once it grows past the cap.
    let chunk = "a".repeat(1500);
    let chunked = format!(
        "POST /v1/comments:submit HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {}\r\nTransfer-Encoding: chunked\r\n\
         Connection: close\r\n\r\n{:x}\r\n{chunk}\r\n{:x}\r\n{chunk}\r\n0\r\n\r\n",
        key("a"),
        chunk.len(),
        chunk.len()
    );
    assert_eq!(raw(server.http, chunked.as_bytes()).await.status, 413);
    // Just under the cap is read (and then judged on its content).
    let fits = submit_body("c-1", &"word ".repeat(300));
    assert!(fits.len() < 2048);
    assert_eq!(request(server.http, "POST", "/v1/comments:submit", Some(&key("a")), Some(&fits)).await.status, 200);
    server.stop().await;
}

#[tokio::test]
async fn a_rate_limited_comment_is_429_with_retry_after() {
    let config = two_sites(&format!("[sites.policy.rate_limits]\n{}", only_limits("flood_seconds = 5")));
    let clock = FakeRelativeClock::default();
    let server = HttpServer::start_limited(config, memory(), RateClock::fake(&clock)).await;
    let same_author = |id: &str| {
        json!({"commentId": id, "threadId": "t", "author": {"ip": "203.0.113.9", "accountId": "flooder"}, "body": "hi"})
            .to_string()
    };
    let first = request(server.http, "POST", "/v1/comments:submit", Some(&key("a")), Some(&same_author("f-1"))).await;
    assert_eq!(first.status, 200, "{}", first.body);
    let second = request(server.http, "POST", "/v1/comments:submit", Some(&key("a")), Some(&same_author("f-2"))).await;
    assert_eq!(second.status, 429, "{}", second.body);
    assert_eq!(second.header("retry-after"), Some("5"), "the flood limit's exact wait, in whole seconds");
    let status = second.json();
    assert_eq!(status["code"], 8);
    let mut types = detail_types(&status);
    types.sort();
    assert_eq!(types, ["QuotaFailure", "RetryInfo"]);
    let quota = status["details"].as_array().and_then(|d| d.iter().find(|d| d["violations"].is_array()).cloned());
    assert_eq!(quota.expect("QuotaFailure")["violations"][0]["subject"], "flood");
    // Nothing was stored for the refused one; a replay of the accepted one costs no quota.
    assert_eq!(request(server.http, "GET", "/v1/comments/f-2", Some(&key("a")), None).await.status, 404);
    let replay = request(server.http, "POST", "/v1/comments:submit", Some(&key("a")), Some(&same_author("f-1"))).await;
    assert_eq!((replay.status, replay.json()["replayed"].clone()), (200, json!(true)));
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_store_outage_is_503_with_what_was_stored() {
    let redis = TestRedis::start();
    let options =
        RedisOptions { url: redis.url(), timeout: Duration::from_millis(200), durability: Durability::Primary };
    let store = RedisStore::connect(&options, Arc::new(SystemClock)).expect("connect");
    let server = HttpServer::start(two_sites(""), Stores::of(Arc::new(store))).await;
    assert_eq!(submit(&server, "before", "all is well").await.status, 200);
    redis.pause();
    let answer = submit(&server, "during", "is anyone there").await;
    let got = request(server.http, "GET", "/v1/comments/before", Some(&key("a")), None).await;
    redis.resume();
    for answer in [&answer, &got] {
        assert_eq!(answer.status, 503, "{}", answer.body);
        assert_eq!(answer.header("retry-after"), Some("1"));
        let status = answer.json();
        assert_eq!(status["code"], 14);
        assert!(!status["message"].as_str().unwrap_or_default().to_lowercase().contains("redis"), "{status}");
        let info = status["details"].as_array().and_then(|d| d.iter().find(|d| d["reason"].is_string()).cloned());
        let info = info.expect("ErrorInfo");
        assert_eq!(info["domain"], "commentguard");
        assert!(
            ["STORE_UNAVAILABLE_NOT_STORED", "STORE_OUTCOME_UNKNOWN"].contains(&info["reason"].as_str().unwrap_or(""))
        );
    }
    // Retrying the same request resolves an unknown outcome, exactly as over gRPC.
    let retried = common::wait_for(Duration::from_secs(10), || async {
        let a = submit(&server, "during", "is anyone there").await;
        (a.status == 200).then(|| a.json())
    })
    .await
    .expect("accepted once Redis answers");
    assert_eq!(retried["commentId"], "during");
    server.stop().await;
}

#[tokio::test]
async fn connections_are_bounded_like_grpc_ones() {
    let mut config = two_sites("");
    config.server.http_header_timeout_ms = 300;
    config.server.idle_timeout_ms = 1500;
    config.server.max_connections = 2;
    let server = HttpServer::start(config, memory()).await;
    let closes = |mut stream: tokio::net::TcpStream| async move {
        use tokio::io::AsyncReadExt;
        let mut buf = [0u8; 1024];
        let read = tokio::time::timeout(Duration::from_secs(5), async {
            loop {
                match stream.read(&mut buf).await {
                    Ok(0) | Err(_) => return true,
                    Ok(_) => {}
                }
            }
        });
        read.await.unwrap_or(false)
    };
    // A client that never finishes its headers is cut after the header timeout (well before the idle timeout).
    let started = std::time::Instant::now();
    let mut slow = tokio::net::TcpStream::connect(server.http).await.expect("connect");
    slow.write_all(b"GET /v1/decisions HTTP/1.1\r\nHost: x\r\n").await.expect("write");
    // An idle keep-alive connection (one answered request, then nothing) is closed after the idle timeout.
    let mut idle = tokio::net::TcpStream::connect(server.http).await.expect("connect");
    let get = format!("GET /v1/decisions HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {}\r\n\r\n", key("a"));
    idle.write_all(get.as_bytes()).await.expect("write");
    assert_eq!(read_answer(&mut idle).await.status, 200);
    // Both places are taken: a third connection is closed at once (then the two free theirs).
    let third = tokio::net::TcpStream::connect(server.http).await.expect("connect");
    assert!(closes(third).await, "beyond max_connections");
    assert!(closes(slow).await, "header timeout");
    assert!(started.elapsed() < Duration::from_millis(1200), "cut by the header timeout: {:?}", started.elapsed());
    assert!(closes(idle).await, "idle timeout");
    let after = common::wait_for(Duration::from_secs(5), || async {
        let a = request(server.http, "GET", "/v1/decisions", Some(&key("a")), None).await;
        (a.status == 200).then_some(())
    });
    assert!(after.await.is_some(), "places are freed");
    server.stop().await;
}

#[tokio::test]
async fn the_binary_serves_the_door_on_http_listen() {
    let config = format!(
        "[server]\nlisten = \"127.0.0.1:0\"\nmetrics_listen = \"\"\nhttp_listen = \"127.0.0.1:0\"\n\
         [[sites]]\nid = \"a\"\napi_key_sha256 = [\"{}\"]\n",
        commentguard::config::sha256_hex(&key("a"))
    );
    let mut serve = common::serve::Serve::with_config(&config);
    let line = serve.wait_line("HTTP/JSON serving");
    let addr = line
        .split("addr=")
        .nth(1)
        .and_then(|rest| rest.split_whitespace().next())
        .and_then(|a| a.parse().ok())
        .unwrap_or_else(|| panic!("an address in {line:?}"));
    let body = submit_body("c-1", "hello from the binary");
    let answer = request(addr, "POST", "/v1/comments:submit", Some(&key("a")), Some(&body)).await;
    assert_eq!((answer.status, answer.json()["verdict"].clone()), (200, json!("VERDICT_APPROVED")), "{}", answer.body);
}

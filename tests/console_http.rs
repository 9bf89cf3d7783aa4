//! The moderator console's listener with a plain HTTP/1.1 client: the embedded assets and their security headers,
//! and the review RPCs as JSON — authentication before the body (a site's key is not a moderator's token, another
//! site's moderator is refused), every error class with its HTTP status and `google.rpc.Status` body, spans in
//! UTF-16 units, the role's masking, the audit trail, and answers identical to gRPC's.

mod common;

use commentguard::clock::{ManualClock, SystemClock};
use commentguard::config::{ModeratorConfig, Role, sha256_hex};
use commentguard::pb;
use commentguard::store::redis::{Durability, RedisOptions, RedisStore};
use commentguard::store::{Stores, memory::MemoryStore};
use common::http::{Answer, HttpServer, raw, request};
use common::redis::TestRedis;
use common::{authed, key, token, two_sites};
use serde_json::{Value, json};
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

const HOLD: &str = "suspect_words = [\"hold\"]";

async fn server_with(stores: Stores) -> HttpServer {
    HttpServer::start(two_sites(HOLD), stores).await
}

async fn server() -> HttpServer {
    server_with(Stores::of(Arc::new(MemoryStore::new(Arc::new(SystemClock))))).await
}

/// Holds a comment for review through the HTTP/JSON door.
async fn hold(server: &HttpServer, id: &str, body: &str) {
    let submission = json!({
        "commentId": id, "threadId": "t-1", "body": body,
        "author": {"ip": "203.0.113.7", "email": "jane.doe@example.com", "accountId": "acct-jane", "displayName": "Jane"},
    });
    let answer =
        request(server.http, "POST", "/v1/comments:submit", Some(&key("a")), Some(&submission.to_string())).await;
    assert_eq!(answer.status, 200, "{}", answer.body);
    assert_eq!(answer.json()["verdict"], "VERDICT_PENDING_REVIEW", "{}", answer.body);
}

async fn rpc(console: SocketAddr, name: &str, secret: &str, body: Value) -> Answer {
    request(console, "POST", &format!("/api/review/{name}"), Some(secret), Some(&body.to_string())).await
}

fn code(answer: &Answer) -> i64 {
    answer.json()["code"].as_i64().unwrap_or(-1)
}

#[tokio::test]
async fn assets_are_embedded_with_a_strict_policy() {
    let server = server().await;
    for (path, kind, needle) in [
        ("/", "text/html", "<script src=\"/console.js\""),
        ("/console.js", "text/javascript", "textContent"),
        ("/console.css", "text/css", "mark.hl"),
    ] {
        let answer = request(server.console, "GET", path, None, None).await;
        assert_eq!(answer.status, 200, "{path}");
        assert!(answer.header("content-type").is_some_and(|t| t.starts_with(kind)), "{path}: {:?}", answer.headers);
        assert!(answer.body.contains(needle), "{path}");
        let csp = answer.header("content-security-policy").expect("CSP on every answer");
        assert!(csp.contains("script-src 'self'") && !csp.contains("unsafe"), "{csp}");
        assert!(csp.contains("frame-ancestors 'none'"), "{csp}");
        assert_eq!(answer.header("x-frame-options"), Some("DENY"));
        assert_eq!(answer.header("x-content-type-options"), Some("nosniff"));
    }
    let api = rpc(server.console, "GetQueueStats", &token("mod-a"), json!({"siteId": "a"})).await;
    assert_eq!(api.status, 200, "{}", api.body);
    assert_eq!(api.header("cache-control"), Some("no-store"), "API answers are never cached");
    assert_eq!(api.header("x-frame-options"), Some("DENY"));

    let wrong_method = request(server.console, "POST", "/", None, Some("{}")).await;
    assert_eq!((wrong_method.status, wrong_method.header("allow")), (405, Some("GET")));
    let get_rpc = request(server.console, "GET", "/api/review/ClaimNext", Some(&token("mod-a")), None).await;
    assert_eq!((get_rpc.status, get_rpc.header("allow")), (405, Some("POST")));
    assert_eq!(request(server.console, "GET", "/admin", None, None).await.status, 404);
    let unknown = rpc(server.console, "DeleteEverything", &token("mod-a"), json!({})).await;
    assert_eq!(unknown.status, 404);
    assert!(unknown.json()["message"].as_str().is_some_and(|m| m.contains("ClaimNext")), "{}", unknown.body);
    // The door for hosts does not serve the console, nor the console the door.
    assert_eq!(request(server.http, "GET", "/console.js", None, None).await.status, 404);
    assert_eq!(request(server.console, "GET", "/v1/decisions", Some(&key("a")), None).await.status, 404);
}

#[tokio::test]
async fn moderators_only_and_only_for_their_sites_checked_before_the_body() {
    let server = server().await;
    let c = server.console;
    // No token, a site's API key, an unknown token: 401 before the body is read (the body is not even JSON).
    for secret in [None, Some(key("a")), Some("token-nobody".to_string())] {
        let answer = request(c, "POST", "/api/review/ClaimNext", secret.as_deref(), Some("{not json")).await;
        assert_eq!(answer.status, 401, "{secret:?}: {}", answer.body);
        assert_eq!(code(&answer), 16);
    }
    // A declared body far over the limit: still 401 first, nothing read.
    let head = format!(
        "POST /api/review/Decide HTTP/1.1\r\nHost: x\r\nConnection: close\r\nAuthorization: Bearer {}\r\n\
         Content-Type: application/json\r\nContent-Length: 999999999\r\n\r\n",
        key("a")
    );
    assert_eq!(raw(c, head.as_bytes()).await.status, 401);
    // Authenticated, too large: 413.
    let head = format!(
        "POST /api/review/Decide HTTP/1.1\r\nHost: x\r\nConnection: close\r\nAuthorization: Bearer {}\r\n\
         Content-Type: application/json\r\nContent-Length: 999999999\r\n\r\n",
        token("mod-a")
    );
    assert_eq!(raw(c, head.as_bytes()).await.status, 413);
    // Another site's moderator: 403, whatever the RPC; a site that does not exist looks the same.
    for name in ["ClaimNext", "ListQueue", "GetQueueStats", "ListAuditLog"] {
        let answer = rpc(c, name, &token("mod-b"), json!({"siteId": "a"})).await;
        assert_eq!((answer.status, code(&answer)), (403, 7), "{name}: {}", answer.body);
    }
    let nowhere = rpc(c, "GetQueueStats", &token("mod-a"), json!({"siteId": "zz"})).await;
    assert_eq!((nowhere.status, code(&nowhere)), (403, 7));
    // The session names the token's moderator, role and sites.
    let session = request(c, "GET", "/api/session", Some(&token("admin-a")), None).await;
    assert_eq!(session.status, 200);
    assert_eq!(session.json(), json!({"moderatorId": "admin-a", "role": "admin", "sites": ["a"]}));
    assert_eq!(session.header("cache-control"), Some("no-store"));
    assert_eq!(request(c, "GET", "/api/session", Some(&key("a")), None).await.status, 401);
}

#[tokio::test]
async fn a_token_for_several_sites_lists_them_for_the_picker() {
    let mut config = two_sites(HOLD);
    config.moderators.push(ModeratorConfig {
        id: "mod-ab".into(),
        token_sha256: sha256_hex("token-mod-ab"),
        sites: vec!["b".into(), "a".into()],
        role: Role::Moderator,
    });
    let server = HttpServer::start(config, Stores::of(Arc::new(MemoryStore::new(Arc::new(SystemClock))))).await;
    let session = request(server.console, "GET", "/api/session", Some("token-mod-ab"), None).await;
    assert_eq!(session.json(), json!({"moderatorId": "mod-ab", "role": "moderator", "sites": ["a", "b"]}));
    for site in ["a", "b"] {
        let stats = rpc(server.console, "GetQueueStats", "token-mod-ab", json!({"siteId": site})).await;
        assert_eq!(stats.status, 200, "{site}: {}", stats.body);
    }
}

#[tokio::test]
async fn the_review_flow_as_json_matches_grpc() {
    let server = server().await;
    let c = server.console;
    let body = "😀 please hold this <img src=x onerror=alert(1)>";
    hold(&server, "c-1", body).await;
    hold(&server, "c-2", "hold the second").await;

    let stats = rpc(c, "GetQueueStats", &token("mod-a"), json!({"siteId": "a"})).await.json();
    assert_eq!(stats["stats"]["pending"], "2", "int64 as a string: {stats}");
    assert_eq!(stats["stats"]["claimed"], "0");

    let listed = rpc(c, "ListQueue", &token("mod-a"), json!({"siteId": "a", "queue": "QUEUE_PENDING"})).await.json();
    let items = listed["items"].as_array().expect("items");
    assert_eq!(items.iter().map(|i| i["commentId"].as_str()).collect::<Vec<_>>(), [Some("c-1"), Some("c-2")]);
    assert!(items.iter().all(|i| i["claimToken"] == ""), "ListQueue never carries tokens");

    // Claim with UTF-16 spans: JavaScript indexes strings in UTF-16 code units.
    let claimed = rpc(
        c,
        "ClaimNext",
        &token("mod-a"),
        json!({"siteId": "a", "maxItems": 1, "offsetEncoding": "OFFSET_ENCODING_UTF16"}),
    )
    .await;
    assert_eq!(claimed.status, 200, "{}", claimed.body);
    let item = claimed.json()["items"][0].clone();
    assert_eq!(item["commentId"], "c-1");
    assert_eq!(item["body"], body, "the body is data: returned as it was written");
    let finding = item["findings"].as_array().expect("findings").iter().find(|f| f["code"] == "policy.suspect_word");
    let span = &finding.expect("the suspect word is a finding")["spans"][0];
    let utf16: Vec<u16> = body.encode_utf16().collect();
    let (start, end) = (span["start"].as_u64().unwrap_or(0) as usize, span["end"].as_u64().unwrap_or(0) as usize);
    assert_eq!(String::from_utf16_lossy(&utf16[start..end]), "hold", "span {start}..{end} in UTF-16 units");
    assert_eq!(start, "😀 please ".encode_utf16().count());
    assert_eq!(item["author"]["email"], "j***@example.com", "a moderator sees the masked email");
    assert_eq!(item["author"]["ip"], "203.0.113.x");
    assert_eq!(item["authorEmailMasked"], true);
    let review_id = item["reviewId"].as_str().expect("review id").to_string();
    let claim_token = item["claimToken"].as_str().expect("token").to_string();
    assert_eq!(claim_token.len(), 32);

    // Another moderator of the site does not get the claimed item.
    let other = rpc(c, "ClaimNext", &token("admin-a"), json!({"siteId": "a", "maxItems": 5})).await.json();
    assert_eq!(
        other["items"].as_array().map(|i| i.iter().map(|i| i["commentId"].clone()).collect::<Vec<_>>()),
        Some(vec![json!("c-2")])
    );
    assert_eq!(other["items"][0]["author"]["email"], "jane.doe@example.com", "an admin sees it in clear");

    // Decide with a note and reason codes; the answer is gRPC's.
    let decide = json!({"siteId": "a", "reviewId": review_id, "claimToken": claim_token,
        "action": "REVIEW_ACTION_REJECT_SPAM", "note": "link farm", "reasonCodes": ["spam.links"]});
    let decided = rpc(c, "Decide", &token("mod-a"), decide.clone()).await;
    assert_eq!(decided.status, 200, "{}", decided.body);
    let decided = decided.json();
    assert_eq!(decided["verdict"], "VERDICT_REJECTED");
    let mut grpc = server.moderation().await;
    let got = grpc
        .get_comment(authed(pb::GetCommentRequest { comment_id: "c-1".into(), ..Default::default() }, &key("a")))
        .await
        .expect("stored")
        .into_inner();
    assert_eq!(got.verdict, pb::Verdict::Rejected as i32);
    assert_eq!(got.moderator_id, "mod-a");
    // The same decision again is the same answer; another action on it is FAILED_PRECONDITION (400, code 9).
    assert_eq!(rpc(c, "Decide", &token("mod-a"), decide.clone()).await.json(), decided);
    let mut approve = decide.clone();
    approve["action"] = json!("REVIEW_ACTION_APPROVE");
    let refused = rpc(c, "Decide", &token("mod-a"), approve).await;
    assert_eq!((refused.status, code(&refused)), (400, 9), "{}", refused.body);
    // Another moderator presenting the token: FAILED_PRECONDITION too.
    let stolen = rpc(c, "Decide", &token("admin-a"), decide.clone()).await;
    assert_eq!((stolen.status, code(&stolen)), (400, 9), "{}", stolen.body);

    // Release: a wrong token is FAILED_PRECONDITION, an unknown review id NOT_FOUND, the right one empties the claim.
    let c2 = other["items"][0].clone();
    let release = |review: &Value, tok: &str| json!({"siteId": "a", "reviewId": review, "claimToken": tok});
    let wrong = rpc(c, "ReleaseClaim", &token("admin-a"), release(&c2["reviewId"], "0123456789abcdef")).await;
    assert_eq!((wrong.status, code(&wrong)), (400, 9), "{}", wrong.body);
    let missing = rpc(c, "ReleaseClaim", &token("admin-a"), release(&json!("9999999999999-0"), "x")).await;
    assert_eq!((missing.status, code(&missing)), (404, 5), "{}", missing.body);
    let released =
        rpc(c, "ReleaseClaim", &token("admin-a"), release(&c2["reviewId"], c2["claimToken"].as_str().unwrap_or("")))
            .await;
    assert_eq!((released.status, released.json()), (200, json!({})));
    let stats = rpc(c, "GetQueueStats", &token("mod-a"), json!({"siteId": "a"})).await.json();
    assert_eq!((stats["stats"]["pending"].clone(), stats["stats"]["claimed"].clone()), (json!("1"), json!("0")));

    // The audit trail: who decided what, when, with note and reasons, newest first.
    let audit = rpc(c, "ListAuditLog", &token("mod-a"), json!({"siteId": "a"})).await;
    assert_eq!(audit.status, 200, "{}", audit.body);
    let entries = audit.json()["entries"].clone();
    assert_eq!(entries.as_array().map(Vec::len), Some(1), "{entries}");
    let e = &entries[0];
    assert_eq!(
        (&e["moderatorId"], &e["commentId"], &e["action"], &e["note"], &e["reasonCodes"]),
        (
            &json!("mod-a"),
            &json!("c-1"),
            &json!("REVIEW_ACTION_REJECT_SPAM"),
            &json!("link farm"),
            &json!(["spam.links"])
        )
    );
    assert!(e["decidedAt"].as_str().is_some_and(|t| t.ends_with('Z')), "RFC 3339: {e}");
    // The same over gRPC.
    let mut review = commentguard::pb::review_service_client::ReviewServiceClient::new(
        tonic::transport::Channel::from_shared(format!("http://{}", server.grpc))
            .expect("url")
            .connect()
            .await
            .expect("connect"),
    );
    let grpc_audit = review
        .list_audit_log(authed(pb::ListAuditLogRequest { site_id: "a".into(), page_size: 0 }, &token("mod-a")))
        .await
        .expect("audit over gRPC")
        .into_inner();
    assert_eq!(grpc_audit.entries.len(), 1);
    assert_eq!(grpc_audit.entries[0].action, pb::ReviewAction::RejectSpam as i32);
}

#[tokio::test]
async fn bad_requests_are_400_with_their_fields() {
    let server = server().await;
    let c = server.console;
    let missing = rpc(c, "Decide", &token("mod-a"), json!({"siteId": "a"})).await;
    assert_eq!((missing.status, code(&missing)), (400, 3));
    let fields: Vec<String> = missing.json()["details"][0]["fieldViolations"]
        .as_array()
        .map(|v| v.iter().filter_map(|f| f["field"].as_str().map(str::to_string)).collect())
        .unwrap_or_default();
    assert_eq!(fields, ["review_id", "claim_token", "action"], "{}", missing.body);
    let typo = rpc(c, "ClaimNext", &token("mod-a"), json!({"siteId": "a", "maxItem": 3})).await;
    assert_eq!(typo.status, 400);
    assert_eq!(typo.json()["message"], "ClaimNextRequest has no field \"maxItem\"");
    let not_json = request(c, "POST", "/api/review/ListQueue", Some(&token("mod-a")), Some("{\"siteId\": ")).await;
    assert_eq!((not_json.status, code(&not_json)), (400, 3));
    let head = format!(
        "POST /api/review/ListQueue HTTP/1.1\r\nHost: x\r\nConnection: close\r\nAuthorization: Bearer {}\r\n\
         Content-Type: text/plain\r\nContent-Length: 2\r\n\r\n{{}}",
        token("mod-a")
    );
    assert_eq!(raw(c, head.as_bytes()).await.status, 415);
    let negative = rpc(c, "ListAuditLog", &token("mod-a"), json!({"siteId": "a", "pageSize": -1})).await;
    assert_eq!((negative.status, code(&negative)), (400, 3));
}

/// An expired lease: the item went to another moderator, and the first one's decision is FAILED_PRECONDITION.
#[tokio::test]
async fn an_expired_lease_is_failed_precondition() {
    let clock = ManualClock::new(commentguard::clock::Clock::now_ms(&SystemClock));
    let server = server_with(Stores::of(Arc::new(MemoryStore::new(clock.clone())))).await;
    let c = server.console;
    hold(&server, "c-1", "please hold").await;
    let first = rpc(c, "ClaimNext", &token("mod-a"), json!({"siteId": "a", "lease": "10s"})).await.json();
    let item = first["items"][0].clone();
    clock.advance(11_000);
    let again = rpc(c, "ClaimNext", &token("admin-a"), json!({"siteId": "a"})).await.json();
    assert_eq!(again["items"][0]["commentId"], "c-1", "the expired item went to the next moderator");
    assert_eq!(again["items"][0]["deliveryCount"], 2);
    let late = json!({"siteId": "a", "reviewId": item["reviewId"], "claimToken": item["claimToken"],
        "action": "REVIEW_ACTION_APPROVE"});
    let late = rpc(c, "Decide", &token("mod-a"), late).await;
    assert_eq!((late.status, code(&late)), (400, 9), "{}", late.body);
}

/// Redis stopped: 503 with Retry-After and the store's reason, never a hang or a 500.
#[tokio::test]
async fn a_store_outage_is_503_with_retry_after() {
    let redis = TestRedis::start();
    let options =
        RedisOptions { url: redis.url(), timeout: Duration::from_millis(200), durability: Durability::Primary };
    let store = RedisStore::connect(&options, Arc::new(SystemClock)).expect("connect");
    let server = server_with(Stores::of(Arc::new(store))).await;
    hold(&server, "c-1", "please hold").await;
    redis.pause();
    let answer = rpc(server.console, "ClaimNext", &token("mod-a"), json!({"siteId": "a"})).await;
    let stats = rpc(server.console, "GetQueueStats", &token("mod-a"), json!({"siteId": "a"})).await;
    redis.resume();
    for answer in [answer, stats] {
        assert_eq!((answer.status, code(&answer)), (503, 14), "{}", answer.body);
        assert_eq!(answer.header("retry-after"), Some("1"));
    }
    let answer = rpc(server.console, "GetQueueStats", &token("mod-a"), json!({"siteId": "a"})).await;
    assert_eq!(answer.status, 200, "answers again once Redis does: {}", answer.body);
}

#[tokio::test]
async fn the_binary_serves_the_console_on_console_listen() {
    let config = format!(
        "[server]\nlisten = \"127.0.0.1:0\"\nmetrics_listen = \"\"\nconsole_listen = \"127.0.0.1:0\"\n\
         [[sites]]\nid = \"a\"\napi_key_sha256 = [\"{}\"]\n\
         [[moderators]]\nid = \"mod-a\"\ntoken_sha256 = \"{}\"\nsites = [\"a\"]\n",
        sha256_hex(&key("a")),
        sha256_hex(&token("mod-a"))
    );
    let mut serve = common::serve::Serve::with_config(&config);
    let line = serve.wait_line("moderator console serving");
    let addr: SocketAddr = line
        .split("addr=")
        .nth(1)
        .and_then(|rest| rest.split_whitespace().next())
        .and_then(|a| a.parse().ok())
        .unwrap_or_else(|| panic!("an address in {line:?}"));
    let page = request(addr, "GET", "/", None, None).await;
    assert_eq!(page.status, 200);
    assert!(page.body.contains("moderator console"), "{}", page.body);
    let stats = rpc(addr, "GetQueueStats", &token("mod-a"), json!({"siteId": "a"})).await;
    assert_eq!(stats.status, 200, "{}", stats.body);
}

#[test]
fn dev_mode_refuses_a_non_loopback_console() {
    let out = std::process::Command::new(common::serve::BIN)
        .args(["serve", "--listen", "127.0.0.1:0"])
        .env("COMMENTGUARD_SERVER__METRICS_LISTEN", "")
        .env("COMMENTGUARD_SERVER__CONSOLE_LISTEN", "0.0.0.0:0")
        .output()
        .expect("run");
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("refuses server.console_listen = 0.0.0.0:0"), "{stderr}");
}

/// A moderator sees a card number as its type and last four, with the finding's span on the masked text (in UTF-16
/// units); an admin sees it in clear.
#[tokio::test]
async fn high_risk_values_are_masked_for_moderators_with_spans_on_the_masked_text() {
    let server = server().await;
    let body = "😀 hold: my card 4111 1111 1111 1111 thanks";
    hold(&server, "c-card", body).await;
    let list = |secret: String| {
        let c = server.console;
        async move {
            let answer = rpc(
                c,
                "ListQueue",
                &secret,
                json!({"siteId": "a", "queue": "QUEUE_PENDING", "offsetEncoding": "OFFSET_ENCODING_UTF16"}),
            )
            .await;
            assert_eq!(answer.status, 200, "{}", answer.body);
            answer.json()["items"][0].clone()
        }
    };
    let masked = list(token("mod-a")).await;
    let text = masked["body"].as_str().expect("body");
    assert!(!text.contains("4111 1111") && text.contains("1111]"), "{text}");
    let card = masked["findings"].as_array().expect("findings").iter().find(|f| f["code"] == "pii.credit_card");
    let span = &card.expect("the card is a finding")["spans"][0];
    let utf16: Vec<u16> = text.encode_utf16().collect();
    let (start, end) = (span["start"].as_u64().unwrap_or(0) as usize, span["end"].as_u64().unwrap_or(0) as usize);
    let covered = String::from_utf16_lossy(&utf16[start..end]);
    assert!(covered.starts_with('[') && covered.ends_with("1111]"), "the span covers the mask: {covered:?}");
    let clear = list(token("admin-a")).await;
    assert_eq!(clear["body"], body, "an admin sees the body as written");
}

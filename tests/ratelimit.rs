//! Bans, rate limits, flood and surge control: through the limiter's public API on governor's
//! `FakeRelativeClock` (time is advanced, never slept), and through gRPC on a port-0 server.

mod common;

use commentguard::config::Config;
use commentguard::error::Error;
use commentguard::pb::{self, Verdict};
use commentguard::pseudonym::Pseudonymizer;
use commentguard::ratelimit::{Admission, FakeRelativeClock, Limiter, RateClock, SiteLimits, Subject};
use commentguard::store::{Stores, memory::MemoryStore};
use common::{TestServer, authed, key, only_limits, submission, two_sites, wait_for};
use std::sync::Arc;
use std::time::Duration;
use tonic::Code;
use tonic_types::StatusExt;

/// Site `a` with `policy` in `[sites.policy]` and `limits` (every other limit off) in `[sites.policy.rate_limits]`.
fn config(policy: &str, limits: &str) -> Config {
    two_sites(&format!("{policy}\n[sites.policy.rate_limits]\n{}", only_limits(limits)))
}

/// Site `a` as the service limits it: the engine and the site's compiled limits (what `tenants::Site` holds),
/// recompiled by `reload` as a SIGHUP does.
struct SiteA {
    engine: Limiter,
    limits: arc_swap::ArcSwap<SiteLimits>,
}

impl SiteA {
    async fn check(&self, subject: &Subject<'_>) -> Result<Admission, Error> {
        let limits = self.limits.load_full();
        self.engine.check("a", &limits, subject).await
    }

    fn reload(&self, config: &Config) {
        let previous = self.limits.load_full();
        self.limits.store(self.engine.compile(&site_a(config).policy, Some(&previous)));
    }

    fn key_counts(&self) -> [usize; 6] {
        self.limits.load().key_counts()
    }

    fn housekeeping(&self) {
        commentguard::ratelimit::housekeeping(&[self.limits.load_full()]);
    }
}

fn site_a(config: &Config) -> &commentguard::config::SiteConfig {
    config.sites.iter().find(|s| s.id == "a").expect("site a")
}

fn fake_limiter(config: &Config) -> (Arc<SiteA>, FakeRelativeClock) {
    let clock = FakeRelativeClock::default();
    let engine = Limiter::new(config, Pseudonymizer::new(b"test-secret"), RateClock::fake(&clock)).expect("limiter");
    let limits = arc_swap::ArcSwap::new(engine.compile(&site_a(config).policy, None));
    (Arc::new(SiteA { engine, limits }), clock)
}

fn who<'a>(ip: &'a str, account_id: &'a str, thread_id: &'a str) -> Subject<'a> {
    Subject { ip, account_id, email: "", thread_id }
}

/// The refused limit and the wait, or `None` when the request passed.
async fn refused(limiter: &SiteA, subject: Subject<'_>) -> Option<(&'static str, Duration)> {
    match limiter.check(&subject).await {
        Ok(_) => None,
        Err(Error::ResourceExhausted { limit, retry_after, .. }) => Some((limit, retry_after)),
        Err(e) => panic!("unexpected error {e}"),
    }
}

async fn passes(limiter: &SiteA, subject: Subject<'_>) -> bool {
    refused(limiter, subject).await.is_none()
}

const SEC: Duration = Duration::from_secs(1);

#[tokio::test]
async fn a_burst_passes_then_the_next_is_refused_with_exact_retry_info() {
    let (limiter, clock) = fake_limiter(&config("", "ip = { per_minute = 10, burst = 5 }"));
    for i in 0..5 {
        assert!(passes(&limiter, who("203.0.113.7", &format!("u{i}"), "t")).await, "burst cell {i}");
    }
    let err = limiter.check(&who("203.0.113.7", "u5", "t")).await.expect_err("6th is refused");
    let status = tonic::Status::from(err);
    assert_eq!(status.code(), Code::ResourceExhausted);
    assert_eq!(status.get_details_retry_info().and_then(|r| r.retry_delay), Some(6 * SEC), "one cell per 6 s");
    let quota = status.get_details_quota_failure().expect("QuotaFailure");
    assert_eq!(quota.violations.len(), 1);
    assert_eq!(quota.violations[0].subject, "ip");
    assert_eq!(quota.violations[0].description, "10 comments per minute per address");
    assert!(!status.message().contains("203.0.113"), "no address in the message: {}", status.message());

    // Capacity returns at the configured rate: one cell per 6 s, the whole burst after 30 s of quiet.
    clock.advance(SEC * 5);
    assert_eq!(refused(&limiter, who("203.0.113.7", "x", "t")).await, Some(("ip", SEC)));
    clock.advance(SEC);
    assert!(passes(&limiter, who("203.0.113.7", "x", "t")).await);
    assert_eq!(refused(&limiter, who("203.0.113.7", "x", "t")).await, Some(("ip", 6 * SEC)));
    clock.advance(SEC * 30);
    for i in 0..5 {
        assert!(passes(&limiter, who("203.0.113.7", "y", "t")).await, "refilled cell {i}");
    }
    assert!(!passes(&limiter, who("203.0.113.7", "y", "t")).await);
}

#[tokio::test]
async fn a_flooder_refused_on_its_own_key_uses_no_one_elses_quota() {
    let limits = "author = { per_minute = 6, burst = 3 }\nip = { per_minute = 10, burst = 5 }\n\
                  thread = { per_minute = 60, burst = 10 }\nsite = { per_minute = 600, burst = 100 }";
    let (limiter, _clock) = fake_limiter(&config("", limits));
    let flooder = who("203.0.113.7", "troll", "t");
    let mut admitted = 0;
    for _ in 0..100 {
        match refused(&limiter, flooder).await {
            None => admitted += 1,
            Some((limit, _)) => assert_eq!(limit, "author", "refused on its own key"),
        }
    }
    assert_eq!(admitted, 3);
    // The 97 refusals took nothing from the shared address: its two remaining cells go to a neighbour.
    assert!(passes(&limiter, who("203.0.113.7", "n1", "t")).await);
    assert!(passes(&limiter, who("203.0.113.7", "n2", "t")).await);
    assert_eq!(refused(&limiter, who("203.0.113.7", "n3", "t")).await.map(|r| r.0), Some("ip"));
    // Nor from the thread: 10 - 5 admitted so far = 5 more readers, each from their own address.
    for i in 0..5 {
        assert!(passes(&limiter, who(&format!("198.51.100.{i}"), &format!("r{i}"), "t")).await, "reader {i}");
    }
    assert_eq!(refused(&limiter, who("198.51.100.99", "r99", "t")).await.map(|r| r.0), Some("thread"));
    // Another thread is untouched.
    assert!(passes(&limiter, who("198.51.100.98", "r98", "other")).await);
}

#[tokio::test]
async fn ipv6_addresses_share_a_bucket_per_prefix() {
    let (limiter, _clock) = fake_limiter(&config("", "ip = { per_minute = 1, burst = 2 }"));
    assert!(passes(&limiter, who("2001:db8:1:2::1", "", "t")).await);
    assert!(passes(&limiter, who("2001:db8:1:2:ffff:ffff:ffff:9", "", "t")).await);
    assert!(!passes(&limiter, who("2001:db8:1:2::3", "", "t")).await, "same /64");
    assert!(passes(&limiter, who("2001:db8:1:3::1", "", "t")).await, "next /64");
    // An IPv4-mapped address is the IPv4 address.
    assert!(passes(&limiter, who("203.0.113.7", "", "t")).await);
    assert!(passes(&limiter, who("::ffff:203.0.113.7", "", "t")).await);
    assert!(!passes(&limiter, who("203.0.113.7", "", "t")).await);

    let (wide, _clock) = fake_limiter(&config("", "ipv6_prefix = 48\nip = { per_minute = 1, burst = 2 }"));
    assert!(passes(&wide, who("2001:db8:1:2::1", "", "t")).await);
    assert!(passes(&wide, who("2001:db8:1:3::1", "", "t")).await);
    assert!(!passes(&wide, who("2001:db8:1:4::1", "", "t")).await, "same /48");
}

#[tokio::test]
async fn exempt_accounts_and_addresses_are_never_limited() {
    let limits = "exempt_accounts = [\"staff\"]\nexempt_ips = [\"198.51.100.0/24\", \"2001:db8:5::1\"]\n\
                  ip = { per_minute = 1, burst = 1 }\nflood_seconds = 5";
    let (limiter, _clock) = fake_limiter(&config("", limits));
    for _ in 0..20 {
        assert!(passes(&limiter, who("203.0.113.7", "staff", "t")).await);
        assert!(passes(&limiter, who("198.51.100.9", "guest", "t")).await);
        assert!(passes(&limiter, who("2001:db8:5::1", "", "t")).await);
    }
    assert!(passes(&limiter, who("203.0.113.8", "reader", "t")).await);
    assert!(!passes(&limiter, who("203.0.113.8", "reader2", "t")).await);
}

#[tokio::test]
async fn bans_match_addresses_ranges_and_authors_before_any_quota() {
    let policy = "banned_ips = [\"203.0.113.66\", \"2001:db8:bad::/48\"]\n\
                  banned_authors = [\"troll\", \"Spam@Example.com\"]";
    let (limiter, _clock) = fake_limiter(&config(policy, "ip = { per_minute = 1, burst = 1 }"));
    let banned = |s: Subject<'static>| {
        let limiter = limiter.clone();
        async move { limiter.check(&s).await.expect("answered") == Admission::Banned }
    };
    assert!(banned(who("203.0.113.66", "", "t")).await);
    assert!(banned(who("::ffff:203.0.113.66", "", "t")).await);
    assert!(banned(who("2001:db8:bad:7::1", "", "t")).await);
    assert!(banned(who("198.51.100.1", "troll", "t")).await);
    assert!(banned(Subject { ip: "198.51.100.2", email: " spam@EXAMPLE.com", ..Default::default() }).await);
    // Banned requests spent no quota: the address 198.51.100.1 still has its one cell.
    assert!(passes(&limiter, who("198.51.100.1", "reader", "t")).await);
    assert!(!banned(who("203.0.113.67", "reader", "t")).await);
    // Bans also apply to exempt and unlimited requests, and on a site without limits.
    let (other, _clock) = fake_limiter(&config(policy, "enabled = false"));
    assert_eq!(other.check(&who("203.0.113.66", "", "t")).await.expect("answered"), Admission::Banned);
}

#[tokio::test]
async fn flood_control_spaces_one_authors_comments() {
    let (limiter, clock) = fake_limiter(&config("", "flood_seconds = 5"));
    assert!(passes(&limiter, who("203.0.113.7", "alice", "t")).await);
    let err = limiter.check(&who("198.51.100.1", "alice", "t2")).await.expect_err("too soon, any address");
    let Error::ResourceExhausted { limit, description, retry_after } = err else { panic!("{err}") };
    assert_eq!((limit, retry_after), ("flood", 5 * SEC));
    assert_eq!(description, "one comment every 5 seconds per author");
    assert!(passes(&limiter, who("203.0.113.7", "bob", "t")).await, "another author is not affected");
    // Guests are spaced per address.
    assert!(passes(&limiter, who("203.0.113.9", "", "t")).await);
    assert!(!passes(&limiter, who("203.0.113.9", "", "t")).await);
    clock.advance(SEC * 5);
    assert!(passes(&limiter, who("203.0.113.7", "alice", "t")).await);

    let (off, _clock) = fake_limiter(&config("", "flood_seconds = 0"));
    for _ in 0..10 {
        assert!(passes(&off, who("203.0.113.7", "alice", "t")).await);
    }
}

#[tokio::test]
async fn a_thread_in_surge_is_held_for_the_cooldown_not_refused() {
    let limits = "surge = { per_minute = 3, burst = 3 }\nsurge_cooldown_secs = 60";
    let (limiter, clock) = fake_limiter(&config("", limits));
    let surge = |thread: &'static str| {
        let limiter = limiter.clone();
        async move {
            match limiter.check(&who("203.0.113.7", "", thread)).await.expect("never refused") {
                Admission::Admit { surge } => surge,
                Admission::Banned => panic!("not banned"),
            }
        }
    };
    for i in 0..3 {
        assert!(!surge("hot").await, "comment {i} is below the threshold");
    }
    assert!(surge("hot").await, "the 4th within a minute starts the surge");
    assert!(!surge("calm").await, "other threads are not affected");
    clock.advance(SEC * 30);
    assert!(surge("hot").await, "still cooling down although the rate dropped");
    clock.advance(SEC * 31);
    assert!(!surge("hot").await, "after the cool-down comments flow again");
}

#[tokio::test]
async fn memory_stays_bounded_and_new_keys_are_never_locked_out() {
    let mut config = config("", "ip = { per_minute = 1, burst = 2 }");
    config.ratelimit.max_keys_per_limiter = 1000;
    let (limiter, clock) = fake_limiter(&config);
    let flooder = who("203.0.113.7", "", "t");
    assert!(passes(&limiter, flooder).await && passes(&limiter, flooder).await);
    assert!(!passes(&limiter, flooder).await);
    for i in 0..10_000u32 {
        let ip = std::net::Ipv4Addr::from(0x0a00_0000 + i).to_string();
        assert!(passes(&limiter, who(&ip, "", "t")).await, "new address {i} admitted");
    }
    let [_, _, ip_keys, ..] = limiter.key_counts();
    assert!(ip_keys <= 1000, "cap holds: {ip_keys} keys");
    assert!(!passes(&limiter, flooder).await, "the exhausted flooder is evicted last");

    // Housekeeping forgets every bucket that is full again.
    clock.advance(SEC * 600);
    limiter.housekeeping();
    assert_eq!(limiter.key_counts(), [0; 6]);
}

#[tokio::test]
async fn reload_keeps_unchanged_limits_and_applies_new_bans() {
    let (limiter, _clock) = fake_limiter(&config("", "ip = { per_minute = 1, burst = 1 }"));
    assert!(passes(&limiter, who("203.0.113.7", "", "t")).await);
    assert!(!passes(&limiter, who("203.0.113.7", "", "t")).await);
    limiter.reload(&config("banned_ips = [\"198.51.100.0/24\"]", "ip = { per_minute = 1, burst = 1 }"));
    assert!(!passes(&limiter, who("203.0.113.7", "", "t")).await, "a reload hands out no fresh burst");
    assert_eq!(limiter.check(&who("198.51.100.4", "", "t")).await.expect("answer"), Admission::Banned);
    limiter.reload(&config("", "ip = { per_minute = 2, burst = 1 }"));
    assert!(passes(&limiter, who("203.0.113.7", "", "t")).await, "a changed limit starts afresh");
}

#[test]
fn invalid_settings_are_refused_with_the_key_named() {
    let error_of = |policy: &str, limits: &str| {
        let text = format!(
            "[[sites]]\nid = \"n\"\napi_key_sha256 = [\"{}\"]\n[sites.policy]\n{policy}\n[sites.policy.rate_limits]\n{limits}",
            commentguard::config::sha256_hex("k")
        );
        Config::from_toml(&text).expect_err("refused").to_string()
    };
    assert_eq!(
        error_of("banned_ips = [\"300.1.1.1\"]", ""),
        "sites[0].policy.banned_ips[0]: \"300.1.1.1\" is not an IP address or CIDR range such as 203.0.113.0/24"
    );
    assert_eq!(error_of("banned_authors = [\" \"]", ""), "sites[0].policy.banned_authors[0]: must not be blank");
    assert_eq!(
        error_of("", "mode = \"redis\""),
        "sites[0].policy.rate_limits.mode: \"redis\" needs a Redis: set ratelimit.redis_url or store.redis_url"
    );
    assert_eq!(
        error_of("", "site = { mode = \"both\" }"),
        "sites[0].policy.rate_limits.site.mode: \"both\" needs a Redis: set ratelimit.redis_url or store.redis_url"
    );
    assert_eq!(
        error_of("", "ip = { burst = 0 }"),
        "sites[0].policy.rate_limits.ip.burst: must be between 1 and 1000000"
    );
    assert_eq!(
        error_of("", "exempt_ips = [\"10.0.0.0/33\"]"),
        "sites[0].policy.rate_limits.exempt_ips[0]: \"10.0.0.0/33\" is not an IP address or CIDR range such as \
         203.0.113.0/24"
    );
    assert_eq!(error_of("", "ipv6_prefix = 8"), "sites[0].policy.rate_limits.ipv6_prefix: must be between 16 and 128");
    assert!(error_of("", "ip = { per_hour = 5 }").contains("per_hour"), "unknown keys are refused");
    let top = Config::from_toml("[ratelimit]\ntimeout_ms = 0").expect_err("refused").to_string();
    assert_eq!(top, "ratelimit.timeout_ms: must be between 5 and 10000");
    // With a Redis, cluster-wide modes are accepted.
    let ok = format!(
        "[ratelimit]\nredis_url = \"redis://127.0.0.1:1/0\"\n[[sites]]\nid = \"n\"\napi_key_sha256 = [\"{}\"]\n\
         [sites.policy.rate_limits]\nmode = \"both\"\non_redis_error = \"closed\"",
        commentguard::config::sha256_hex("k")
    );
    Config::from_toml(&ok).expect("valid with a limiter redis");
}

#[test]
#[allow(clippy::result_large_err)] // figment's Jail API returns its own large error type
fn the_limiter_redis_and_bounds_follow_the_environment() {
    figment::Jail::expect_with(|jail| {
        jail.set_env("COMMENTGUARD_RATELIMIT__REDIS_URL", "redis://127.0.0.1:7001/2");
        jail.set_env("COMMENTGUARD_RATELIMIT__TIMEOUT_MS", "50");
        let c = Config::load(None, &Default::default()).map_err(|e| e.to_string())?;
        assert_eq!(c.ratelimit.redis_url.as_deref(), Some("redis://127.0.0.1:7001/2"));
        assert_eq!(c.ratelimit.timeout_ms, 50);
        assert_eq!(c.ratelimit.max_keys_per_limiter, 1_000_000, "defaults stay");
        Ok(())
    });
}

// ---- through gRPC ----

async fn server(config: Config) -> (TestServer, FakeRelativeClock) {
    let clock = FakeRelativeClock::default();
    let store = Arc::new(MemoryStore::new(Arc::new(commentguard::clock::SystemClock)));
    (TestServer::start_limited(config, Stores::of(store), RateClock::fake(&clock)).await, clock)
}

async fn submit(
    server: &TestServer,
    req: pb::SubmitCommentRequest,
) -> Result<pb::SubmitCommentResponse, tonic::Status> {
    let mut client = server.moderation().await;
    client.submit_comment(authed(req, &key("a"))).await.map(|r| r.into_inner())
}

async fn stored(server: &TestServer, comment_id: &str) -> Result<pb::GetCommentResponse, tonic::Status> {
    let mut client = server.moderation().await;
    let req = pb::GetCommentRequest { comment_id: comment_id.into(), ..Default::default() };
    client.get_comment(authed(req, &key("a"))).await.map(|r| r.into_inner())
}

#[tokio::test]
async fn grpc_refusal_is_resource_exhausted_and_stores_nothing_while_replays_stay_free() {
    commentguard::telemetry::prometheus();
    let (server, _clock) = server(config("", "ip = { per_minute = 10, burst = 2 }")).await;
    submit(&server, comment("c1")).await.expect("accepted");
    submit(&server, comment("c2")).await.expect("accepted");
    let status = submit(&server, comment("c3")).await.expect_err("limited");
    assert_eq!(status.code(), Code::ResourceExhausted);
    assert_eq!(status.get_details_retry_info().and_then(|r| r.retry_delay), Some(6 * SEC));
    let quota = status.get_details_quota_failure().expect("QuotaFailure");
    assert_eq!(
        (quota.violations[0].subject.as_str(), quota.violations[0].description.as_str()),
        ("ip", "10 comments per minute per address")
    );
    assert_eq!(stored(&server, "c3").await.expect_err("nothing stored").code(), Code::NotFound);

    // A retry of an accepted comment costs no quota, even with the bucket empty.
    let replay = submit(&server, comment("c1")).await.expect("replays are free");
    assert!(replay.replayed);

    let url = format!("http://{}/metrics", server.metrics_addr);
    let page = wait_for(Duration::from_secs(5), || async {
        let page = common::http_get(&url).await?;
        page.contains("commentguard_ratelimit_refusals_total{limit=\"ip\"}").then_some(page)
    })
    .await;
    assert!(page.is_some(), "refusals are counted per limit");
}

#[tokio::test]
async fn grpc_a_banned_comment_is_rejected_without_being_stored() {
    let policy = "banned_ips = [\"203.0.113.0/24\"]\nbanned_authors = [\"troll@example.com\"]";
    let (server, _clock) = server(config(policy, "")).await;
    let resp = submit(&server, comment("b1")).await.expect("answered");
    assert_eq!(resp.verdict(), Verdict::Rejected);
    assert_eq!(resp.findings.iter().map(|f| f.code.as_str()).collect::<Vec<_>>(), ["policy.banned"]);
    assert_eq!(resp.findings[0].category(), pb::Category::Policy);
    assert!(resp.decision_cursor.is_empty() && resp.review_id.is_empty() && resp.redacted_body.is_empty());
    assert!(!resp.replayed);
    assert_eq!(stored(&server, "b1").await.expect_err("not stored").code(), Code::NotFound);

    let mut by_email = comment("b2");
    if let Some(author) = by_email.author.as_mut() {
        author.ip = "198.51.100.7".into();
        author.email = "Troll@Example.com".into();
    }
    assert_eq!(submit(&server, by_email).await.expect("answered").verdict(), Verdict::Rejected);
    let mut clean = comment("b3");
    if let Some(author) = clean.author.as_mut() {
        author.ip = "198.51.100.7".into();
    }
    assert_eq!(submit(&server, clean).await.expect("answered").verdict(), Verdict::Approved);
}

#[tokio::test]
async fn grpc_a_surging_thread_holds_new_comments_for_review() {
    let (server, clock) = server(config("", "surge = { per_minute = 2, burst = 2 }\nsurge_cooldown_secs = 60")).await;
    for id in ["s1", "s2"] {
        assert_eq!(submit(&server, submission(id, "calm")).await.expect("ok").verdict(), Verdict::Approved);
    }
    let held = submit(&server, comment("s3")).await.expect("held, not refused");
    assert_eq!(held.verdict(), Verdict::PendingReview);
    assert!(held.findings.iter().any(|f| f.code == "policy.surge"), "{:?}", held.findings);
    assert!(!held.review_id.is_empty());
    assert_eq!(stored(&server, "s3").await.expect("stored").verdict(), Verdict::PendingReview);
    clock.advance(SEC * 61);
    assert_eq!(submit(&server, comment("s4")).await.expect("ok").verdict(), Verdict::Approved);
}

/// A clean comment (approved unless a limit or surge says otherwise).
fn comment(id: &str) -> pb::SubmitCommentRequest {
    submission(id, "Thanks for the clear explanation of the new budget.")
}

/// A reload swaps a site's policy and its limits in one step: a flooder whose quota is spent stays refused (unchanged
/// limits keep their state), and bans and rules added by the same file apply to the next request.
#[tokio::test]
async fn grpc_a_reload_swaps_a_sites_limits_with_its_rules_and_keeps_spent_quotas() {
    let limits = "ip = { per_minute = 1, burst = 1 }";
    let (server, _clock) = server(config("", limits)).await;
    submit(&server, comment("r1")).await.expect("first passes");
    assert_eq!(submit(&server, comment("r2")).await.expect_err("spent").code(), Code::ResourceExhausted);

    let running = config("", limits);
    let next = config("banned_authors = [\"troll@example.com\"]\nblocked_words = [\"casino\"]", limits);
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("commentguard.toml");
    std::fs::write(&path, toml::to_string(&next).expect("config as TOML")).expect("write config");
    commentguard::server::reload(&server.app, &running, Some(&path), &Default::default()).expect("reload accepted");

    assert_eq!(submit(&server, comment("r3")).await.expect_err("still spent").code(), Code::ResourceExhausted);
    let mut banned = comment("r4");
    let mut blocked = submission("r5", "Best casino bonus in town");
    for (req, ip) in [(&mut banned, "198.51.100.41"), (&mut blocked, "198.51.100.42")] {
        if let Some(author) = req.author.as_mut() {
            author.ip = ip.into();
        }
    }
    if let Some(author) = banned.author.as_mut() {
        author.email = "troll@example.com".into();
    }
    let banned = submit(&server, banned).await.expect("answered");
    assert_eq!((banned.verdict(), banned.findings[0].code.as_str()), (Verdict::Rejected, "policy.banned"));
    let blocked = submit(&server, blocked).await.expect("answered");
    assert!(blocked.findings.iter().any(|f| f.code == "policy.blocked_word"), "{:?}", blocked.findings);
}

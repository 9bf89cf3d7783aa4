//! Cluster-wide limits with real `commentguard serve` processes and private Redis servers: two replicas sharing one
//! Redis enforce one limit (not two), and a site's `on_redis_error` choice applies when the limiter's Redis dies.

mod common;

use commentguard::config::sha256_hex;
use commentguard::pb::moderation_service_client::ModerationServiceClient;
use common::redis::TestRedis;
use common::serve::{Serve, client};
use common::{authed, submission, wait_for};
use std::time::Duration;
use tonic::Code;
use tonic::transport::Channel;

/// A site whose `[sites.policy.rate_limits]` is `limits`, every other limit off.
fn site(id: &str, limits: &str) -> String {
    format!(
        "[[sites]]\nid = \"{id}\"\napi_key_sha256 = [\"{}\"]\n[sites.policy.rate_limits]\n{}",
        sha256_hex(&format!("key-{id}")),
        common::only_limits(limits)
    )
}

/// `[server]` on port 0, `[store]` with a fixed pseudonym secret (replicas must name Redis keys alike) plus `store`,
/// and `[ratelimit]` with `ratelimit`.
fn header(store: &str, ratelimit: &str) -> String {
    format!(
        "[server]\nlisten = \"127.0.0.1:0\"\nmetrics_listen = \"\"\n\
         [store]\npseudonym_secret = \"ratelimit-cluster-test\"\n{store}\n[ratelimit]\n{ratelimit}\n"
    )
}

/// Submits one comment (each id has its own author; every limit but the one under test is off).
async fn submit(c: &mut ModerationServiceClient<Channel>, site: &str, id: &str) -> Result<(), tonic::Status> {
    let req = submission(id, "Thanks for the clear explanation of the new budget.");
    c.submit_comment(authed(req, &format!("key-{site}"))).await.map(|_| ())
}

#[tokio::test(flavor = "multi_thread")]
async fn two_replicas_sharing_redis_enforce_one_limit() {
    let redis = TestRedis::start();
    // 20 comments at once for the whole site, then one a minute: the test ends long before a refill matters.
    // The store's Redis is the limiter's too (`ratelimit.redis_url` defaults to `store.redis_url`).
    let config = format!(
        "{}{}",
        header(&format!("redis_url = \"{}\"", redis.url()), ""),
        site("news", "site = { per_minute = 1, burst = 20, mode = \"redis\" }")
    );
    let (mut one, mut two) = (Serve::with_config(&config), Serve::with_config(&config));
    let (addr_one, addr_two) = (one.addr(), two.addr());
    let mut clients = [client(&addr_one).await, client(&addr_two).await];
    let mut accepted = [0u32; 2];
    for i in 0..60 {
        let which = i % 2;
        match submit(&mut clients[which], "news", &format!("c{i}")).await {
            Ok(()) => accepted[which] += 1,
            Err(status) => assert_eq!(status.code(), Code::ResourceExhausted, "{status:?}"),
        }
    }
    let total = accepted[0] + accepted[1];
    assert!((20..=21).contains(&total), "one shared limit of 20, not 2×20: accepted {accepted:?}");
    assert!(accepted[0] >= 9 && accepted[1] >= 9, "both replicas admitted from the one bucket: {accepted:?}");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_dead_limiter_redis_fails_open_to_local_limits_or_closed_per_site() {
    // The limiter has its own Redis; the store is the embedded one, so only the limiter loses its Redis.
    let mut redis = TestRedis::start();
    let limits = "ip = { per_minute = 1, burst = 3, mode = \"redis\" }";
    let config = format!(
        "{}{}{}",
        header("", &format!("redis_url = \"{}\"\ntimeout_ms = 200", redis.url())),
        site("open", &format!("{limits}\non_redis_error = \"open\"")),
        site("closed", &format!("{limits}\non_redis_error = \"closed\""))
    );
    let mut serve = Serve::with_config(&config);
    let addr = serve.addr();
    let mut c = client(&addr).await;
    submit(&mut c, "open", "warm-open").await.expect("accepted while redis is up");
    submit(&mut c, "closed", "warm-closed").await.expect("accepted while redis is up");

    redis.kill9();
    // Fail closed: UNAVAILABLE (not accepted; retry with the same comment id).
    let status = submit(&mut c, "closed", "down-1").await.expect_err("fails closed");
    assert_eq!(status.code(), Code::Unavailable, "{status:?}");
    assert_eq!(status.message(), "rate limits cannot be checked; nothing was stored", "no Redis text reaches clients");
    use tonic_types::StatusExt;
    let info = status.get_details_error_info().expect("ErrorInfo");
    assert_eq!(info.reason, commentguard::error::NOT_STORED);
    // Fail open: this process's local limit applies instead — 3 from one address, then refused.
    let one_address = |id: &str| {
        let mut req = submission(id, "Thanks for the clear explanation of the new budget.");
        if let Some(author) = req.author.as_mut() {
            author.ip = "198.51.100.77".into();
        }
        authed(req, "key-open")
    };
    for i in 0..3 {
        c.submit_comment(one_address(&format!("open-{i}"))).await.expect("local limit still has room");
    }
    let status = c.submit_comment(one_address("open-3")).await.expect_err("local limit refuses");
    assert_eq!(status.code(), Code::ResourceExhausted, "{status:?}");

    // Redis back: the closed site accepts again (after the limiter's short back-off).
    redis.restart();
    let back = wait_for(Duration::from_secs(10), || {
        let mut c = c.clone();
        async move { submit(&mut c, "closed", "down-1").await.ok() }
    })
    .await;
    assert!(back.is_some(), "the closed site recovers when its Redis returns");
}

#[tokio::test(flavor = "multi_thread")]
async fn redis_refusals_carry_the_wait_and_surge_is_shared_between_replicas() {
    use commentguard::error::Error;
    use commentguard::pseudonym::Pseudonymizer;
    use commentguard::ratelimit::{Admission, Limiter, RateClock, Subject};
    let redis = TestRedis::start();
    let text = format!(
        "{}{}",
        header("", &format!("redis_url = \"{}\"", redis.url())),
        site(
            "news",
            "ip = { per_minute = 1, burst = 1, mode = \"both\" }\nsurge = { per_minute = 2, burst = 2, mode = \"redis\" }"
        )
    );
    let config = commentguard::config::Config::from_toml(&text).expect("valid config");
    // Two limiters on one Redis stand for two replicas; the same secret names the same keys.
    let replica = || {
        let engine = Limiter::new(&config, Pseudonymizer::new(b"shared"), RateClock::monotonic()).expect("limiter");
        let limits = engine.compile(&config.sites[0].policy, None);
        (engine, limits)
    };
    let ((one, one_limits), (two, two_limits)) = (replica(), replica());
    let who = |ip: &'static str| Subject { ip, account_id: "", email: "", thread_id: "hot" };
    let surge = |r: Result<Admission, Error>| match r {
        Ok(Admission::Admit { surge }) => surge,
        other => panic!("unexpected {other:?}"),
    };
    assert!(!surge(one.check("news", &one_limits, &who("203.0.113.1")).await));
    // The second address passes locally on replica two but the thread's surge state is shared.
    assert!(!surge(two.check("news", &two_limits, &who("203.0.113.2")).await));
    assert!(
        surge(one.check("news", &one_limits, &who("203.0.113.3")).await),
        "the 3rd comment on the thread, via either replica"
    );
    assert!(surge(two.check("news", &two_limits, &who("203.0.113.4")).await), "the surge is cluster-wide");

    // 203.0.113.1 used its one cell on replica one; replica two's local filter has room, Redis refuses.
    match two.check("news", &two_limits, &who("203.0.113.1")).await {
        Err(Error::ResourceExhausted { limit, retry_after, .. }) => {
            assert_eq!(limit, "ip");
            assert!(retry_after > Duration::from_secs(50) && retry_after <= Duration::from_secs(60), "{retry_after:?}");
        }
        other => panic!("expected a Redis refusal, got {other:?}"),
    }
}

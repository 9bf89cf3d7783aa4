//! The Redis store's group commit (`store/redis/batch.rs`): concurrent submissions share one script call, and each
//! still gets its own answer — idempotency per comment id inside one batch, and the exact outcome when the call
//! fails.
//!
//! The tests run on a current-thread runtime and start their submissions with one `join!`: every submission is
//! queued before the dispatcher task first runs, so all of them land in one batch, and the tests check that it was
//! one script call (Redis' own `INFO commandstats`).

mod common;

use commentguard::clock::SystemClock;
use commentguard::store::redis::{Durability, RedisOptions, RedisStore};
use commentguard::store::{After, CommentStore, DecisionLog, NewComment, Outcome, SubmitOutcome};
use common::redis::TestRedis;
use common::stores::held;
use std::sync::Arc;
use std::time::Duration;

fn store_on(redis: &TestRedis, timeout: Duration) -> RedisStore {
    let options = RedisOptions { url: redis.url(), timeout, durability: Durability::Primary };
    RedisStore::connect(&options, Arc::new(SystemClock)).expect("connect")
}

async fn admin(redis: &TestRedis) -> redis::aio::MultiplexedConnection {
    let client = redis::Client::open(redis.url()).expect("url");
    client.get_multiplexed_async_connection().await.expect("admin connection")
}

/// Script calls Redis ran since the last `CONFIG RESETSTAT`.
async fn script_calls(conn: &mut redis::aio::MultiplexedConnection) -> u64 {
    let info: String = redis::cmd("INFO").arg("commandstats").query_async(conn).await.expect("INFO");
    let line = info.lines().find(|l| l.starts_with("cmdstat_evalsha:")).unwrap_or("cmdstat_evalsha:calls=0,");
    line.split_once("calls=").and_then(|(_, rest)| rest.split(',').next()?.parse().ok()).expect("calls=N")
}

async fn reset_stats(conn: &mut redis::aio::MultiplexedConnection) {
    let _: () = redis::cmd("CONFIG").arg("RESETSTAT").query_async(conn).await.expect("RESETSTAT");
}

async fn config_set(conn: &mut redis::aio::MultiplexedConnection, key: &str, value: &str) {
    let _: () = redis::cmd("CONFIG").arg("SET").arg(key).arg(value).query_async(conn).await.expect("CONFIG SET");
}

/// `held(id)` with another body: the same comment id resubmitted with different text.
fn changed(id: &str) -> NewComment {
    let body = format!("another body for {id}");
    let base = held(id, "t");
    NewComment {
        body_sha256: commentguard::intake::body_fingerprint(&body),
        comment: commentguard::domain::Comment { body, ..base.comment },
        ..base
    }
}

/// Loads the script and connects, so the batch under test is exactly one `EVALSHA`.
async fn warm_up(store: &RedisStore) {
    let first = store.submit("s", held("warm-up", "t")).await.expect("warm-up submit");
    assert!(matches!(first, SubmitOutcome::Stored(_)), "{first:?}");
}

#[tokio::test]
async fn one_batch_keeps_idempotency_per_comment() {
    let redis = TestRedis::start();
    let store = store_on(&redis, Duration::from_secs(5));
    let mut conn = admin(&redis).await;
    warm_up(&store).await;
    reset_stats(&mut conn).await;

    let (first, again, other, conflicting, third) = tokio::join!(
        store.submit("s", held("c1", "t")),
        store.submit("s", held("c1", "t")),
        store.submit("s", held("c2", "t")),
        store.submit("s", changed("c2")),
        store.submit("s", held("c3", "t")),
    );
    assert_eq!(script_calls(&mut conn).await, 1, "the five submissions were one script call");

    let SubmitOutcome::Stored(stored) = first.expect("c1") else { panic!("the first c1 is stored") };
    let SubmitOutcome::Replayed(replayed) = again.expect("c1 again") else { panic!("the second c1 is a replay") };
    assert_eq!(replayed, stored, "a replay in the same batch returns the stored answer, ids included");
    assert!(stored.review_id.is_some() && !stored.decision_cursor.is_empty(), "{stored:?}");
    assert!(matches!(other.expect("c2"), SubmitOutcome::Stored(_)));
    assert_eq!(conflicting.expect("c2 changed"), SubmitOutcome::Conflict, "another body for a stored id");
    let SubmitOutcome::Stored(third) = third.expect("c3") else { panic!("c3 is stored") };
    assert_ne!(third.decision_cursor, stored.decision_cursor, "each comment has its own event");

    let events = store.read_decisions("s", After::Start, 100).await.expect("events");
    let mut ids: Vec<&str> = events.iter().map(|e| e.comment_id.as_str()).collect();
    ids.sort_unstable();
    assert_eq!(ids, ["c1", "c2", "c3", "warm-up"], "one decision event per stored comment, none for replays");

    // A later retry is answered from the store, the same as in the batch.
    let retry = store.submit("s", held("c1", "t")).await.expect("retry");
    assert_eq!(retry, SubmitOutcome::Replayed(stored));
}

#[tokio::test]
async fn a_refused_batch_tells_every_caller_nothing_was_stored() {
    let redis = TestRedis::start();
    let store = store_on(&redis, Duration::from_secs(5));
    let mut conn = admin(&redis).await;
    warm_up(&store).await;
    reset_stats(&mut conn).await;
    // Redis refuses the script's first write (NOREPLICAS): nothing of the batch is written.
    config_set(&mut conn, "min-replicas-to-write", "1").await;

    let answers = tokio::join!(
        store.submit("s", held("r1", "t")),
        store.submit("s", held("r2", "t")),
        store.submit("s", held("r1", "t")),
    );
    assert_eq!(script_calls(&mut conn).await, 1, "one script call");
    for answer in [answers.0, answers.1, answers.2] {
        let err = answer.expect_err("refused");
        assert_eq!(err.outcome, Outcome::NotApplied, "{err}");
    }
    for id in ["r1", "r2"] {
        assert_eq!(store.get("s", id).await.expect("get"), None, "{id} was not stored");
    }

    config_set(&mut conn, "min-replicas-to-write", "0").await;
    for id in ["r1", "r2"] {
        let retry = store.submit("s", held(id, "t")).await.expect("retry");
        assert!(matches!(retry, SubmitOutcome::Stored(_)), "stored now, not a replay: {retry:?}");
    }
}

#[tokio::test]
async fn a_batch_that_timed_out_is_unknown_to_every_caller_and_a_retry_resolves_it() {
    let redis = TestRedis::start();
    let store = store_on(&redis, Duration::from_millis(300));
    warm_up(&store).await;
    // Sent to a paused Redis: the call times out, and Redis runs it when it resumes.
    redis.pause();
    let answers = tokio::join!(
        store.submit("s", held("u1", "t")),
        store.submit("s", held("u2", "t")),
        store.submit("s", held("u1", "t")),
    );
    redis.resume();
    for answer in [answers.0, answers.1, answers.2] {
        let err = answer.expect_err("timed out");
        assert_eq!(err.outcome, Outcome::Unknown, "{err}");
    }
    for id in ["u1", "u2"] {
        let retry = common::wait_for(Duration::from_secs(10), || async { store.submit("s", held(id, "t")).await.ok() })
            .await
            .expect("Redis answers again");
        assert!(matches!(retry, SubmitOutcome::Replayed(_)), "the unknown write was applied: {retry:?}");
    }
    let events = store.read_decisions("s", After::Start, 100).await.expect("events");
    let u1 = events.iter().filter(|e| e.comment_id == "u1").count();
    assert_eq!(u1, 1, "stored exactly once although sent twice in the batch and retried");
}

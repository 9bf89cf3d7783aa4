//! The learning loop end to end on a real Redis, with two replicas: moderators on replica A decide held comments,
//! the site's model learns from the feedback stream, and BOTH replicas score held-out spam higher than before —
//! while the other site's scores do not move. Reverting to version 0 restores the base model's scores.
//!
//! Data: SMS spam (`../shared/data/sms-spam`), which the shipped model (trained on YouTube comments) has never seen.

mod common;

use commentguard::commands::train::{self, Labelled};
use commentguard::config::Config;
use commentguard::pb;
use common::redis::TestRedis;
use common::{TestServer, authed, key, submission, token, two_sites, wait_for};
use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

const TRAIN_PER_CLASS: usize = 150;
const PROBE: usize = 80;

/// SMS messages, deduplicated, in a seeded order; `None` when the shared data is absent.
fn sms() -> Option<Vec<Labelled>> {
    let path = common::data::shared("sms-spam/SMSSpamCollection")?;
    let mut all = train::dedup(train::read_sms(&path).expect("reads the collection"));
    common::shuffle(&mut all, 20_240_601);
    Some(all)
}

fn config() -> Config {
    // Every comment is held so moderators can decide it; near copies off so only the model moves the scores.
    let mut config = two_sites("premoderation = true\nduplicate_window_secs = 0");
    for site in &mut config.sites {
        site.policy.premoderation = true;
        site.policy.duplicate_window_secs = 0;
    }
    config.spam.learn_interval_ms = 20;
    config.spam.reload_interval_ms = 20;
    config
}

/// A submission from its own reader (own account and address), so reputation does not move the scores.
fn from_reader(id: &str, thread: &str, body: &str, n: usize) -> pb::SubmitCommentRequest {
    let mut req = submission(id, body);
    req.thread_id = thread.into();
    let author = req.author.get_or_insert_with(Default::default);
    author.ip = format!("10.{}.{}.{}", n / 65536 % 256, n / 256 % 256, n % 256);
    author.email.clear();
    req
}

/// Mean spam score of the probe texts, submitted to `site` on `server` as new comments by new readers (each call's
/// readers are new: an earlier rejection from the same address would move the score).
async fn mean_score(server: &TestServer, site: &str, tag: &str, probes: &[&str]) -> f64 {
    static CALLS: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(1);
    let first_reader = CALLS.fetch_add(1, std::sync::atomic::Ordering::SeqCst) * 1000;
    let mut client = server.moderation().await;
    let mut sum = 0.0;
    for (i, body) in probes.iter().enumerate() {
        let req = from_reader(&format!("{tag}-{i}"), "probe", body, 100_000 + first_reader + i);
        let resp = client.submit_comment(authed(req, &key(site))).await.expect("accepted").into_inner();
        sum += resp.spam_score;
    }
    sum / probes.len() as f64
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn moderators_teach_their_site_on_every_replica() {
    let Some(data) = sms() else { return };
    let spam: Vec<&str> = data.iter().filter(|e| e.spam).map(|e| e.body.as_str()).collect();
    let ham: Vec<&str> = data.iter().filter(|e| !e.spam).map(|e| e.body.as_str()).collect();
    let (train_spam, probe_spam) = (&spam[..TRAIN_PER_CLASS], &spam[TRAIN_PER_CLASS..TRAIN_PER_CLASS + PROBE]);
    let (train_ham, probe_ham) = (&ham[..TRAIN_PER_CLASS], &ham[TRAIN_PER_CLASS..TRAIN_PER_CLASS + PROBE]);

    let redis = TestRedis::start();
    let a = TestServer::start_with_store(config(), common::stores::redis_store_at(&redis)).await;
    let b = TestServer::start_with_store(config(), common::stores::redis_store_at(&redis)).await;

    let before_spam = mean_score(&a, "a", "before-spam", probe_spam).await;
    let before_ham = mean_score(&a, "a", "before-ham", probe_ham).await;
    let other_site_before = mean_score(&a, "b", "other-before", probe_spam).await;

    // Readers post the training comments; moderators on replica A decide every one of them.
    let mut client = a.moderation().await;
    let mut labels = HashMap::new();
    for (i, (body, is_spam)) in
        train_spam.iter().map(|b| (b, true)).chain(train_ham.iter().map(|b| (b, false))).enumerate()
    {
        let id = format!("train-{i}");
        let resp = client.submit_comment(authed(from_reader(&id, "train", body, i), &key("a"))).await;
        // Spam the base model already rejects never reaches a moderator: only held comments are decided.
        if resp.expect("accepted").into_inner().verdict() == pb::Verdict::PendingReview {
            labels.insert(id, is_spam);
        }
    }
    let mut review = a.review().await;
    let mut decided = 0;
    while decided < labels.len() {
        let claim = pb::ClaimNextRequest {
            site_id: "a".into(),
            max_items: 50,
            thread_id: "train".into(),
            ..Default::default()
        };
        let items = review.claim_next(authed(claim, &token("mod-a"))).await.expect("claim").into_inner().items;
        assert!(!items.is_empty(), "every training comment is waiting in the queue");
        for item in items {
            let comment_id = item.comment_id.clone();
            let action = if labels[&comment_id] { pb::ReviewAction::RejectSpam } else { pb::ReviewAction::Approve };
            let req = pb::DecideRequest {
                site_id: "a".into(),
                review_id: item.review_id.clone(),
                claim_token: item.claim_token.clone(),
                action: action as i32,
                ..Default::default()
            };
            review.decide(authed(req, &token("mod-a"))).await.expect("decided");
            decided += 1;
        }
    }

    let taught_spam = labels.values().filter(|s| **s).count() as u64;
    let taught_ham = labels.len() as u64 - taught_spam;
    println!("moderators decided {taught_spam} spam and {taught_ham} ham comments");
    assert!(taught_spam >= 50 && taught_ham >= 100, "enough of the training set was held for review");
    // Both replicas pick up a delta that has learned every decision (learning runs in the background).
    for server in [&a, &b] {
        let learned = wait_for(Duration::from_secs(60), || async {
            let l = server.app.models.learned("a")?;
            let docs = l.model.counts().docs;
            let base = l.base.counts().docs;
            (docs[0] - base[0] == taught_ham && docs[1] - base[1] == taught_spam).then_some(l)
        })
        .await;
        assert!(learned.is_some(), "the replica loaded the site's learned model");
    }

    let after_spam_a = mean_score(&a, "a", "after-spam-a", probe_spam).await;
    let after_spam_b = mean_score(&b, "a", "after-spam-b", probe_spam).await;
    let after_ham = mean_score(&a, "a", "after-ham", probe_ham).await;
    let other_site_after = mean_score(&b, "b", "other-after", probe_spam).await;
    println!(
        "held-out SMS spam, mean score: before {before_spam:.3}, after {after_spam_a:.3} (replica A), \
         {after_spam_b:.3} (replica B); held-out ham: before {before_ham:.3}, after {after_ham:.3}; \
         other site: {other_site_before:.3} -> {other_site_after:.3}"
    );
    assert!(after_spam_a > before_spam + 0.15, "spam scores rise: {before_spam:.3} -> {after_spam_a:.3}");
    assert!((after_spam_a - after_spam_b).abs() < 1e-9, "both replicas score with the same learned model");
    assert!(after_ham <= before_ham + 0.05, "ham does not pay for it: {before_ham:.3} -> {after_ham:.3}");
    assert!((other_site_after - other_site_before).abs() < 1e-9, "another site's model is untouched");

    // The operator reverts the site to the base model: every replica goes back to the first scores.
    let reverted = a.app.store.models.revert_model("a", 0, 24).await.expect("revert");
    assert!(matches!(reverted, commentguard::store::learning::RevertOutcome::Reverted(_)));
    for server in [&a, &b] {
        let back = wait_for(Duration::from_secs(30), || async {
            let l = server.app.models.learned("a")?;
            Arc::ptr_eq(&l.model, &l.base).then_some(())
        })
        .await;
        assert!(back.is_some(), "the replica reloaded the reverted (empty) delta");
    }
    let after_revert = mean_score(&b, "a", "reverted", probe_spam).await;
    assert!((after_revert - before_spam).abs() < 1e-9, "the base scores are back: {before_spam} vs {after_revert}");
}

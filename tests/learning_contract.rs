//! The learned-model contract (`store::learning`): feedback is handed to learners through a group and learned
//! once, commits are versioned and refused when stale, snapshots are kept and reverted to — on both stores.

mod common;

use commentguard::store::Store;
use commentguard::store::learning::*;
use commentguard::store::review::*;
use common::stores::{Backed, held};

const MIN: u64 = 60_000;

/// Moderators decide one new held comment per action, in order.
async fn decide_all(store: &dyn Store, site: &str, actions: &[ReviewAction]) {
    static N: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
    for action in actions {
        let i = N.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        store.submit(site, held(&format!("{site}-c{i}"), "t")).await.expect("submit");
        let claim = ClaimRequest {
            queue: QueueKind::Pending,
            moderator: "mod".into(),
            tokens: vec![format!("tok-{site}-{i}")],
            lease_ms: 5 * MIN,
            thread_id: None,
        };
        let item = store.claim(site, claim).await.expect("claim").pop().expect("an item");
        let decide = DecideRequest {
            review_id: item.review_id.clone(),
            claim_token: format!("tok-{site}-{i}"),
            moderator: "mod".into(),
            action: *action,
            note: String::new(),
            reason_codes: Vec::new(),
            publish_original: false,
        };
        assert!(matches!(store.decide(site, decide).await.expect("decide"), DecideOutcome::Decided(_)));
    }
}

fn commit(base_version: u64, consumer: &str, acked: Vec<String>, bytes: &[u8]) -> ModelCommit {
    ModelCommit {
        base_version,
        bytes: bytes.to_vec(),
        consumer: consumer.into(),
        acked,
        docs: [1, 2],
        snapshot_every_ms: 10 * MIN,
        keep_snapshots: 3,
    }
}

fn ids(entries: &[FeedbackEntry]) -> Vec<String> {
    entries.iter().map(|(id, _)| id.clone()).collect()
}

async fn feedback_is_learned_once(b: Backed) {
    let store = b.store.as_ref();
    decide_all(store, "s", &[ReviewAction::Approve, ReviewAction::RejectSpam, ReviewAction::Reject]).await;
    let got = store.claim_feedback("s", "l1", 10, MIN).await.expect("claim");
    let labels: Vec<&str> = got.iter().map(|(_, f)| f.label.as_str()).collect();
    assert_eq!(labels, vec!["ham", "spam", "rejected"]);
    assert!(got.iter().all(|(_, f)| f.text == format!("redacted {}", f.comment_id)), "{got:?}");
    assert!(store.claim_feedback("s", "l2", 10, MIN).await.expect("claim").is_empty(), "claimed entries wait");

    assert_eq!(store.model_delta("s").await.expect("delta"), ModelDelta::default());
    let outcome = store.commit_model("s", commit(0, "l1", ids(&got), b"delta-1")).await.expect("commit");
    assert_eq!(outcome, CommitOutcome::Committed(1));
    assert_eq!(store.model_version("s").await.expect("version"), 1);
    assert_eq!(store.model_delta("s").await.expect("delta"), ModelDelta { version: 1, bytes: b"delta-1".to_vec() });
    let again = store.commit_model("s", commit(0, "l1", Vec::new(), b"other")).await.expect("commit");
    assert_eq!(again, CommitOutcome::Conflict, "a delta built on an old version is refused");
    assert_eq!(store.model_delta("s").await.expect("delta").bytes, b"delta-1");

    assert!(store.claim_feedback("s", "l2", 10, 0).await.expect("claim").is_empty(), "learned entries are done");
    decide_all(store, "s", &[ReviewAction::RejectSpam]).await;
    let next = store.claim_feedback("s", "l2", 10, MIN).await.expect("claim");
    assert_eq!(next.len(), 1, "only the new entry");
    assert_eq!(next[0].1.label, "spam");

    assert_eq!(store.model_version("other").await.expect("version"), 0, "per site");
    assert!(store.claim_feedback("other", "l1", 10, 0).await.expect("claim").is_empty());
}

async fn idle_entries_are_taken_over(b: Backed) {
    // Idle time is the store's (Redis measures it itself): "not yet idle" is a minute, "idle" is 0 ms.
    let store = b.store.as_ref();
    decide_all(store, "s", &[ReviewAction::RejectSpam, ReviewAction::Approve]).await;
    let first = store.claim_feedback("s", "l1", 1, MIN).await.expect("claim");
    assert_eq!(first.len(), 1);
    let second = store.claim_feedback("s", "l2", 10, MIN).await.expect("claim");
    assert_eq!(second.len(), 1, "l1's entry is not idle yet: l2 gets only the other");
    assert_ne!(first[0].0, second[0].0);
    // l1 and l2 went quiet: l3 takes both over.
    let third = store.claim_feedback("s", "l3", 10, 0).await.expect("claim");
    assert_eq!(ids(&third), vec![first[0].0.clone(), second[0].0.clone()]);
    let late = store.commit_model("s", commit(0, "l1", ids(&first), b"late")).await.expect("commit");
    assert_eq!(late, CommitOutcome::Stale, "the entry is no longer l1's");
    assert_eq!(store.model_version("s").await.expect("version"), 0, "a refused commit changes nothing");
    let ok = store.commit_model("s", commit(0, "l3", ids(&third), b"l3")).await.expect("commit");
    assert_eq!(ok, CommitOutcome::Committed(1));
    assert!(store.claim_feedback("s", "l4", 10, 0).await.expect("claim").is_empty(), "nothing left pending");
}

async fn snapshots_and_revert(b: Backed) {
    let store = b.store.as_ref();
    let versions = |s: Vec<SnapshotInfo>| s.iter().map(|i| (i.version, i.kind)).collect::<Vec<_>>();
    assert_eq!(store.commit_model("s", commit(0, "l", vec![], b"v1")).await.expect("c"), CommitOutcome::Committed(1));
    b.clock.advance(MIN);
    assert_eq!(store.commit_model("s", commit(1, "l", vec![], b"v2")).await.expect("c"), CommitOutcome::Committed(2));
    b.clock.advance(10 * MIN);
    assert_eq!(store.commit_model("s", commit(2, "l", vec![], b"v3")).await.expect("c"), CommitOutcome::Committed(3));
    let snaps = store.model_snapshots("s").await.expect("snapshots");
    assert_eq!(versions(snaps.clone()), vec![(1, SnapshotKind::Learned), (3, SnapshotKind::Learned)]);
    assert_eq!(snaps[0].docs, [1, 2]);

    assert_eq!(store.revert_model("s", 1, 3).await.expect("revert"), RevertOutcome::Reverted(4));
    assert_eq!(store.model_delta("s").await.expect("delta"), ModelDelta { version: 4, bytes: b"v1".to_vec() });
    assert_eq!(store.revert_model("s", 2, 3).await.expect("revert"), RevertOutcome::Unknown, "never snapshotted");
    assert_eq!(store.revert_model("s", 0, 3).await.expect("revert"), RevertOutcome::Reverted(5));
    assert_eq!(store.model_delta("s").await.expect("delta"), ModelDelta { version: 5, bytes: Vec::new() });
    let snaps = store.model_snapshots("s").await.expect("snapshots");
    assert_eq!(
        versions(snaps.clone()),
        vec![
            (3, SnapshotKind::Learned),
            (4, SnapshotKind::Reverted { from: 1 }),
            (5, SnapshotKind::Reverted { from: 0 })
        ],
        "the newest three are kept"
    );
    assert_eq!((snaps[1].docs, snaps[2].docs), ([1, 2], [0, 0]));
    assert_eq!(store.revert_model("s", 1, 3).await.expect("revert"), RevertOutcome::Unknown, "dropped");
    // A revert can itself be reverted.
    assert_eq!(store.revert_model("s", 3, 3).await.expect("revert"), RevertOutcome::Reverted(6));
    assert_eq!(store.model_delta("s").await.expect("delta").bytes, b"v3");
}

/// An abuse rejection teaches the category the moderator named, else the item's highest-scoring one (read from the
/// stored answer inside the decide step), else insult; the scores themselves come back with the stored answer.
async fn abuse_rejections_name_their_category(b: Backed) {
    use commentguard::analysis::abuse::Category;
    use commentguard::domain::AbuseScores;
    let store = b.store.as_ref();
    let cases: [(AbuseScores, Option<Category>, &str); 5] = [
        (AbuseScores { insult: 0.7, threat: 0.2, ..Default::default() }, None, "abuse:insult"),
        (AbuseScores { threat: 0.8, identity_attack: 0.8, ..Default::default() }, None, "abuse:threat"),
        (AbuseScores { sexual: 0.3, ..Default::default() }, None, "abuse:sexual"),
        (AbuseScores::default(), None, "abuse:insult"),
        (AbuseScores { sexual: 0.6, ..Default::default() }, Some(Category::Profanity), "abuse:profanity"),
    ];
    for (i, (scores, named, _)) in cases.iter().enumerate() {
        let mut c = held(&format!("abuse-{i}"), "t");
        c.decision.abuse = *scores;
        let sha = c.body_sha256.clone();
        store.submit("s", c).await.expect("submit");
        match common::stores::lookup(store, "s", &format!("abuse-{i}"), &sha).await {
            commentguard::store::Lookup::Replay(answer) => assert_eq!(answer.abuse, *scores, "stored with the answer"),
            other => panic!("{other:?}"),
        }
        let token = format!("abuse-tok-{i}");
        let claim = ClaimRequest {
            queue: QueueKind::Pending,
            moderator: "mod".into(),
            tokens: vec![token.clone()],
            lease_ms: 5 * MIN,
            thread_id: None,
        };
        let item = store.claim("s", claim).await.expect("claim").pop().expect("an item");
        assert_eq!(item.comment.answer.abuse, *scores, "moderators see the scores");
        let decide = DecideRequest {
            review_id: item.review_id,
            claim_token: token,
            moderator: "mod".into(),
            action: ReviewAction::RejectAbuse(*named),
            note: String::new(),
            reason_codes: Vec::new(),
            publish_original: false,
        };
        match store.decide("s", decide).await.expect("decide") {
            DecideOutcome::Decided(d) => assert_eq!(d.verdict, commentguard::domain::Verdict::Rejected),
            other => panic!("{other:?}"),
        }
    }
    let got = store.claim_feedback("s", "l1", 10, MIN).await.expect("claim");
    let labels: Vec<&str> = got.iter().map(|(_, f)| f.label.as_str()).collect();
    assert_eq!(labels, cases.iter().map(|c| c.2).collect::<Vec<_>>());
    assert!(got.iter().all(|(_, f)| f.text == format!("redacted {}", f.comment_id)), "{got:?}");
}

macro_rules! contract {
    ($module:ident, $make:ident) => {
        mod $module {
            use super::*;
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn feedback_is_learned_once() {
                super::feedback_is_learned_once(common::stores::$make()).await
            }
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn idle_entries_are_taken_over() {
                super::idle_entries_are_taken_over(common::stores::$make()).await
            }
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn abuse_rejections_name_their_category() {
                super::abuse_rejections_name_their_category(common::stores::$make()).await
            }
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn snapshots_and_revert() {
                super::snapshots_and_revert(common::stores::$make()).await
            }
        }
    };
}

contract!(memory, memory_store);
contract!(redis, redis_store);

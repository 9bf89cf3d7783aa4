//! The review workflow's contract (DESIGN §4), run against the memory store and against Redis.

mod common;

use commentguard::clock::Clock;
use commentguard::domain::{DecisionSource, Verdict};
use commentguard::store::review::*;
use commentguard::store::{After, NewComment, Store, SubmitOutcome};
use common::stores::{Backed, held};
use std::collections::HashSet;
use std::sync::Arc;

const MIN: u64 = 60_000;

fn approved(id: &str) -> NewComment {
    let mut comment = held(id, "t");
    comment.decision.verdict = Verdict::Approved;
    comment
}

async fn submit(store: &dyn Store, site: &str, c: NewComment) -> Option<String> {
    match store.submit(site, c).await.expect("submit") {
        SubmitOutcome::Stored(a) => a.review_id,
        other => panic!("expected a new record, got {other:?}"),
    }
}

fn claim_req(moderator: &str, n: usize, lease_ms: u64) -> ClaimRequest {
    ClaimRequest {
        queue: QueueKind::Pending,
        moderator: moderator.into(),
        tokens: (0..n).map(|i| format!("{moderator}-token-{i}-{}", rand_suffix())).collect(),
        lease_ms,
        thread_id: None,
    }
}

fn rand_suffix() -> u64 {
    use std::sync::atomic::{AtomicU64, Ordering};
    static N: AtomicU64 = AtomicU64::new(0);
    N.fetch_add(1, Ordering::SeqCst)
}

fn decide_req(item: &ReviewEntry, moderator: &str, action: ReviewAction) -> DecideRequest {
    DecideRequest {
        review_id: item.review_id.clone(),
        claim_token: item.claim.as_ref().map(|c| c.token.clone()).unwrap_or_default(),
        moderator: moderator.into(),
        action,
        note: "checked".into(),
        reason_codes: vec!["spam.links".into()],
        publish_original: false,
    }
}

async fn claim_decide_and_retry(b: Backed) {
    let store = b.store.as_ref();
    let ids: Vec<String> = futures_collect(["c1", "c2", "c3"].map(|id| submit(store, "s", held(id, "t"))))
        .await
        .into_iter()
        .flatten()
        .collect();
    assert_eq!(ids.len(), 3);

    let first = store.claim("s", claim_req("alice", 2, 5 * MIN)).await.expect("claim");
    assert_eq!(
        first.iter().map(|i| i.review_id.as_str()).collect::<Vec<_>>(),
        vec![ids[0].as_str(), ids[1].as_str()],
        "oldest first"
    );
    let item = &first[0];
    assert_eq!(item.comment.comment.comment_id, "c1");
    assert_eq!(item.comment.comment.body, "body of c1");
    assert_eq!(item.delivery_count, 1);
    let claim = item.claim.as_ref().expect("claimed");
    assert_eq!(claim.moderator, "alice");
    assert_eq!(claim.lease_expires_at_ms, b.clock.now_ms() + 5 * MIN);
    assert!(!claim.token.is_empty());

    let second = store.claim("s", claim_req("bob", 5, 5 * MIN)).await.expect("claim");
    assert_eq!(
        second.iter().map(|i| i.comment.comment.comment_id.as_str()).collect::<Vec<_>>(),
        vec!["c3"],
        "claimed items are not handed out twice"
    );
    assert!(store.claim("s", claim_req("carol", 5, 5 * MIN)).await.expect("claim").is_empty());

    let decided = store.decide("s", decide_req(item, "alice", ReviewAction::Approve)).await.expect("decide");
    let DecideOutcome::Decided(d) = decided.clone() else { panic!("expected a decision, got {decided:?}") };
    assert_eq!((d.comment_id.as_str(), d.verdict), ("c1", Verdict::Approved));
    assert_eq!(
        store.decide("s", decide_req(item, "alice", ReviewAction::Approve)).await.expect("retry"),
        decided,
        "a retry returns the same answer"
    );
    assert!(matches!(
        store.decide("s", decide_req(item, "alice", ReviewAction::Reject)).await.expect("other"),
        DecideOutcome::Refused(Refusal::AlreadyDecided)
    ));

    let record = store.get("s", "c1").await.expect("get").expect("record");
    assert_eq!(record.verdict, Verdict::Approved);
    assert_eq!(record.source, DecisionSource::Moderator);
    assert_eq!(record.moderator_id, "alice");
    let events = store.read_decisions("s", After::Start, 100).await.expect("events");
    let last = events.last().expect("event");
    assert_eq!(
        (last.comment_id.as_str(), last.verdict, last.source),
        ("c1", Verdict::Approved, DecisionSource::Moderator)
    );
    assert_eq!(last.cursor, d.cursor);
    assert_eq!(last.reason_codes, vec!["spam.links"]);
    assert_eq!((last.thread_id.as_str(), last.redacted_body.as_str()), ("t", "redacted c1"), "from the stored record");
    let audit = store.audit_log("s", 10).await.expect("audit");
    assert_eq!(audit.len(), 1);
    assert_eq!(
        (audit[0].moderator.as_str(), audit[0].action.as_str(), audit[0].note.as_str()),
        ("alice", "APPROVE", "checked")
    );
    assert_eq!(audit[0].reason_codes, vec!["spam.links"], "the audit keeps the decision's reason codes");
    assert_eq!((audit[0].comment_id.as_str(), audit[0].review_id.as_str()), ("c1", first[0].review_id.as_str()));
    let feedback = store.claim_feedback("s", "learner", 10, 0).await.expect("feedback");
    assert_eq!(feedback.len(), 1);
    assert_eq!((feedback[0].1.label.as_str(), feedback[0].1.text.as_str()), ("ham", "redacted c1"));
    let rep = common::stores::context(store, "s", Some("author-of-c1"), "ip", None).await.author.expect("author");
    assert_eq!(rep.approved, 1);

    let spam = store.decide("s", decide_req(&first[1], "alice", ReviewAction::RejectSpam)).await.expect("decide");
    assert!(matches!(spam, DecideOutcome::Decided(Decided { verdict: Verdict::Rejected, .. })));
    let rep = common::stores::context(store, "s", Some("author-of-c2"), "ip", None).await.author.expect("author");
    assert_eq!((rep.rejected, rep.spam), (1, 1));
    let stats = store.queue_stats("s").await.expect("stats");
    assert_eq!((stats.pending, stats.claimed, stats.decided_last_hour), (0, 1, 2));
    let audit = store.audit_log("s", 10).await.expect("audit");
    assert_eq!(
        audit.iter().map(|a| (a.comment_id.as_str(), a.action.as_str())).collect::<Vec<_>>(),
        vec![("c1", "APPROVE"), ("c2", "REJECT_SPAM")],
        "newest last"
    );
    assert_eq!(store.audit_log("s", 1).await.expect("audit").len(), 1, "the limit keeps the newest");
    assert_eq!(store.audit_log("s", 1).await.expect("audit")[0].comment_id, "c2");
}

/// Awaits futures in order (the contract does not need concurrency here).
async fn futures_collect<F: std::future::Future>(futures: [F; 3]) -> Vec<F::Output> {
    let mut out = Vec::new();
    for f in futures {
        out.push(f.await);
    }
    out
}

/// A claim token is the claimer's alone: another moderator presenting it is refused, before and after the claimer
/// decided (a replay is the same moderator, token and action), and the audit names the moderator who decided.
async fn only_the_claimer_decides_or_replays(b: Backed) {
    let store = b.store.as_ref();
    submit(store, "s", held("c1", "t")).await.expect("held");
    submit(store, "s", held("c2", "t")).await.expect("held");
    let items = store.claim("s", claim_req("alice", 2, 5 * MIN)).await.expect("claim");
    assert_eq!(items.len(), 2);

    let stolen = store.decide("s", decide_req(&items[0], "bob", ReviewAction::Approve)).await.expect("decide");
    assert!(
        matches!(stolen, DecideOutcome::Refused(Refusal::NotYours)),
        "another moderator's token is refused: {stolen:?}"
    );
    let decided = store.decide("s", decide_req(&items[0], "alice", ReviewAction::Approve)).await.expect("decide");
    assert!(matches!(decided, DecideOutcome::Decided(_)), "the claimer still decides: {decided:?}");
    let replay = store.decide("s", decide_req(&items[0], "bob", ReviewAction::Approve)).await.expect("decide");
    assert!(
        matches!(replay, DecideOutcome::Refused(Refusal::AlreadyDecided)),
        "a replay is the same moderator only: {replay:?}"
    );
    assert_eq!(store.decide("s", decide_req(&items[0], "alice", ReviewAction::Approve)).await.expect("retry"), decided);

    let record = store.get("s", "c1").await.expect("get").expect("record");
    assert_eq!(record.moderator_id, "alice");
    let audit = store.audit_log("s", 10).await.expect("audit");
    assert_eq!(
        audit.iter().map(|a| (a.moderator.as_str(), a.comment_id.as_str())).collect::<Vec<_>>(),
        vec![("alice", "c1")],
        "one audit entry, naming the moderator whose decision won"
    );
    let events = store.read_decisions("s", After::Start, 100).await.expect("events");
    let moderated: Vec<_> = events.iter().filter(|e| e.source == DecisionSource::Moderator).collect();
    assert_eq!(moderated.len(), 1);
    assert_eq!(moderated[0].moderator_id, "alice");
    let stats = store.queue_stats("s").await.expect("stats");
    assert_eq!(stats.claimed, 1, "the refused decide left alice's other claim alone");
}

async fn expired_leases_return_to_the_queue(b: Backed) {
    let store = b.store.as_ref();
    submit(store, "s", held("c1", "t")).await;
    let a = store.claim("s", claim_req("alice", 1, MIN)).await.expect("claim");
    assert_eq!(a.len(), 1);
    assert!(store.claim("s", claim_req("bob", 1, MIN)).await.expect("claim").is_empty());
    b.clock.advance(MIN + 1);
    let stats = store.queue_stats("s").await.expect("stats");
    assert_eq!((stats.pending, stats.claimed), (1, 0), "an expired lease counts as waiting");
    let bob = store.claim("s", claim_req("bob", 1, 10 * MIN)).await.expect("claim");
    assert_eq!(bob.len(), 1, "the expired item is handed out again");
    assert_eq!(bob[0].delivery_count, 2);
    let late = store.decide("s", decide_req(&a[0], "alice", ReviewAction::Reject)).await.expect("late");
    assert!(matches!(late, DecideOutcome::Refused(Refusal::StaleToken)), "the late decider is refused: {late:?}");
    let ok = store.decide("s", decide_req(&bob[0], "bob", ReviewAction::Approve)).await.expect("bob");
    assert!(matches!(ok, DecideOutcome::Decided(_)));
    assert_eq!(store.get("s", "c1").await.expect("get").expect("rec").moderator_id, "bob");

    // A lease that expires after the decision changes nothing.
    b.clock.advance(20 * MIN);
    assert!(store.claim("s", claim_req("carol", 1, MIN)).await.expect("claim").is_empty());
}

async fn release_gives_the_item_back(b: Backed) {
    let store = b.store.as_ref();
    submit(store, "s", held("c1", "t")).await;
    let a = store.claim("s", claim_req("alice", 1, MIN)).await.expect("claim");
    let rid = a[0].review_id.clone();
    assert_eq!(
        store.release("s", &rid, "wrong").await.expect("release"),
        ReleaseOutcome::Refused(Refusal::StaleOrExpired)
    );
    let token = a[0].claim.as_ref().expect("claim").token.clone();
    assert_eq!(store.release("s", &rid, &token).await.expect("release"), ReleaseOutcome::Released);
    let b2 = store.claim("s", claim_req("bob", 1, MIN)).await.expect("claim");
    assert_eq!(b2.len(), 1);
    assert!(matches!(
        store.decide("s", decide_req(&a[0], "alice", ReviewAction::Approve)).await.expect("d"),
        DecideOutcome::Refused(Refusal::StaleToken)
    ));
    assert_eq!(store.release("s", "p-1-1", "x").await.expect("release"), ReleaseOutcome::NotFound);
    assert_eq!(
        store
            .decide(
                "s",
                DecideRequest { review_id: "p-1-1".into(), ..decide_req(&b2[0], "bob", ReviewAction::Approve) }
            )
            .await
            .expect("d"),
        DecideOutcome::NotFound
    );
}

async fn listing_pages_and_filters(b: Backed) {
    let store = b.store.as_ref();
    for (i, thread) in ["t1", "t2", "t1", "t1", "t2"].iter().enumerate() {
        submit(store, "s", held(&format!("c{i}"), thread)).await;
    }
    store.claim("s", claim_req("alice", 1, MIN)).await.expect("claim");
    let mut seen = Vec::new();
    let mut token = None;
    loop {
        let page = store.list_queue("s", QueueKind::Pending, token.as_deref(), 2, None).await.expect("page");
        assert!(page.items.len() <= 2);
        seen.extend(page.items.iter().map(|i| (i.comment.comment.comment_id.clone(), i.claim.clone())));
        match page.next_page_token {
            Some(t) => token = Some(t),
            None => break,
        }
    }
    assert_eq!(seen.iter().map(|(c, _)| c.as_str()).collect::<Vec<_>>(), vec!["c0", "c1", "c2", "c3", "c4"]);
    let claim = seen[0].1.as_ref().expect("c0 is claimed and listed");
    assert_eq!(claim.moderator, "alice");
    assert!(claim.token.is_empty(), "listings never carry claim tokens");
    let t1 = store.list_queue("s", QueueKind::Pending, None, 10, Some("t1")).await.expect("filtered");
    assert_eq!(
        t1.items.iter().map(|i| i.comment.comment.comment_id.as_str()).collect::<Vec<_>>(),
        vec!["c0", "c2", "c3"]
    );

    let mut filtered = claim_req("bob", 5, MIN);
    filtered.thread_id = Some("t2".into());
    let got = store.claim("s", filtered).await.expect("claim");
    assert_eq!(got.iter().map(|i| i.comment.comment.comment_id.as_str()).collect::<Vec<_>>(), vec!["c1", "c4"]);
    let rest = store.claim("s", claim_req("carol", 5, MIN)).await.expect("claim");
    let rest: HashSet<_> = rest.iter().map(|i| i.comment.comment.comment_id.clone()).collect();
    assert_eq!(rest, ["c2", "c3"].map(String::from).into(), "items skipped by a thread filter stay available");
    let stats = store.queue_stats("s").await.expect("stats");
    assert_eq!((stats.pending, stats.claimed), (0, 5));
}

async fn reports_count_once_per_reporter_and_hide(b: Backed) {
    let store = b.store.as_ref();
    submit(store, "s", approved("pub")).await;
    let report = |who: &str| ReportRequest {
        comment_id: "pub".into(),
        reason: format!("offensive ({who})"),
        reporter_key: who.into(),
        hide_threshold: 3,
    };
    let r1 = store.report("s", report("x")).await.expect("report");
    let ReportOutcome::Reported { review_id, report_count: 1, hidden: false } = r1.clone() else { panic!("{r1:?}") };
    assert!(review_id.starts_with("r-"));
    let again = store.report("s", report("x")).await.expect("report");
    assert_eq!(
        again,
        ReportOutcome::Reported { review_id: review_id.clone(), report_count: 1, hidden: false },
        "one reporter counts once"
    );
    store.report("s", report("y")).await.expect("report");
    let third = store.report("s", report("z")).await.expect("report");
    assert_eq!(third, ReportOutcome::Reported { review_id: review_id.clone(), report_count: 3, hidden: true });
    assert_eq!(store.get("s", "pub").await.expect("get").expect("rec").verdict, Verdict::PendingReview);
    let events = store.read_decisions("s", After::Start, 10).await.expect("events");
    let hide = events.last().expect("hide event");
    assert_eq!(
        (hide.verdict, hide.reason_codes.clone()),
        (Verdict::PendingReview, vec!["policy.reported".to_string()])
    );
    assert_eq!((hide.thread_id.as_str(), hide.redacted_body.as_str()), ("t", "redacted pub"), "from the stored record");
    let fourth = store.report("s", report("w")).await.expect("report");
    assert!(matches!(fourth, ReportOutcome::Reported { report_count: 4, hidden: false, .. }), "hidden once");
    assert_eq!(store.read_decisions("s", After::Start, 10).await.expect("events").len(), events.len());

    let stats = store.queue_stats("s").await.expect("stats");
    assert_eq!(stats.reported, 1);
    let claimed = store
        .claim("s", ClaimRequest { queue: QueueKind::Reported, ..claim_req("alice", 5, MIN) })
        .await
        .expect("claim");
    assert_eq!(claimed.len(), 1);
    assert_eq!(claimed[0].queue, QueueKind::Reported);
    assert_eq!(claimed[0].report_count, 4);
    assert_eq!(claimed[0].report_reasons.len(), 4);
    let d = store.decide("s", decide_req(&claimed[0], "alice", ReviewAction::Approve)).await.expect("decide");
    assert!(matches!(d, DecideOutcome::Decided(Decided { verdict: Verdict::Approved, .. })));
    assert_eq!(store.get("s", "pub").await.expect("get").expect("rec").verdict, Verdict::Approved);
    let next = store.report("s", report("v")).await.expect("report after decision");
    assert!(
        matches!(next, ReportOutcome::Reported { ref review_id, report_count: 1, .. } if review_id.starts_with("r-")),
        "a new report opens a new item"
    );
    let unknown = ReportRequest { comment_id: "nope".into(), ..report("x") };
    assert_eq!(store.report("s", unknown).await.expect("report"), ReportOutcome::NotFound);
}

async fn review_is_per_site(b: Backed) {
    let store = b.store.as_ref();
    submit(store, "a", held("c1", "t")).await;
    assert!(store.claim("b", claim_req("bob", 5, MIN)).await.expect("claim").is_empty());
    let a = store.claim("a", claim_req("alice", 1, MIN)).await.expect("claim");
    let on_b = store.decide("b", decide_req(&a[0], "bob", ReviewAction::Reject)).await.expect("decide");
    assert_eq!(on_b, DecideOutcome::NotFound, "site b cannot decide site a's item");
    assert_eq!(store.queue_stats("b").await.expect("stats"), QueueStats::default());
    assert!(store.list_queue("b", QueueKind::Pending, None, 10, None).await.expect("list").items.is_empty());
}

/// Eight moderators drain a queue concurrently: every item decided exactly once, none lost, none left claimed.
async fn eight_moderators_drain_the_queue(b: Backed, items: usize) {
    let store = b.store.clone();
    for i in 0..items {
        submit(store.as_ref(), "s", held(&format!("c{i}"), "t")).await;
    }
    let mut tasks = Vec::new();
    for m in 0..8 {
        let store: Arc<dyn Store> = store.clone();
        tasks.push(tokio::spawn(async move {
            let who = format!("mod{m}");
            let mut decided = Vec::new();
            loop {
                let batch = store.claim("s", claim_req(&who, 10, 10 * MIN)).await.expect("claim");
                if batch.is_empty() {
                    break;
                }
                for item in batch {
                    match store.decide("s", decide_req(&item, &who, ReviewAction::Approve)).await.expect("decide") {
                        DecideOutcome::Decided(d) => decided.push(d.comment_id),
                        other => panic!("{who} lost a decision it held a lease for: {other:?}"),
                    }
                }
            }
            decided
        }));
    }
    let mut all = Vec::new();
    for t in tasks {
        all.extend(t.await.expect("moderator"));
    }
    let unique: HashSet<_> = all.iter().collect();
    assert_eq!(all.len(), items, "each item decided exactly once");
    assert_eq!(unique.len(), items, "no item decided twice");
    let stats = b.store.queue_stats("s").await.expect("stats");
    assert_eq!((stats.pending, stats.claimed), (0, 0), "none lost, none left claimed");
    assert_eq!(b.store.audit_log("s", items + 10).await.expect("audit").len(), items);
}

macro_rules! contract {
    ($module:ident, $make:ident, $drain:expr) => {
        mod $module {
            use super::*;
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn claim_decide_and_retry() {
                super::claim_decide_and_retry(common::stores::$make()).await
            }
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn only_the_claimer_decides_or_replays() {
                super::only_the_claimer_decides_or_replays(common::stores::$make()).await
            }
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn expired_leases_return_to_the_queue() {
                super::expired_leases_return_to_the_queue(common::stores::$make()).await
            }
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn release_gives_the_item_back() {
                super::release_gives_the_item_back(common::stores::$make()).await
            }
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn listing_pages_and_filters() {
                super::listing_pages_and_filters(common::stores::$make()).await
            }
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn reports_count_once_per_reporter_and_hide() {
                super::reports_count_once_per_reporter_and_hide(common::stores::$make()).await
            }
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn review_is_per_site() {
                super::review_is_per_site(common::stores::$make()).await
            }
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn eight_moderators_drain_the_queue() {
                super::eight_moderators_drain_the_queue(common::stores::$make(), $drain).await
            }
        }
    };
}

contract!(memory, memory_store, 2_000);
contract!(redis, redis_store, 10_000);

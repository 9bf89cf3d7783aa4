//! The store contract: one suite of behaviours every `Store` must have, run against each implementation.

mod common;

use commentguard::clock::ManualClock;
use commentguard::domain::{DecisionSource, Duplicates, Finding, Verdict};
use commentguard::findings;
use commentguard::store::{
    After, CommentStore, DecisionLog, Lookup, NearProbe, NewComment, Probe, ReadError, Store, StreamId, SubmitOutcome,
    memory::MemoryStore,
};
use std::sync::Arc;

const DAY_MS: u64 = 86_400_000;

fn comment(id: &str, body: &str, verdict: Verdict) -> NewComment {
    NewComment {
        comment: commentguard::domain::Comment {
            comment_id: id.into(),
            thread_id: "t1".into(),
            parent_comment_id: String::new(),
            permalink: String::new(),
            language: "en".into(),
            author: Default::default(),
            body: body.into(),
            submitted_at_ms: 1,
        },
        author_key: Some("author-1".into()),
        ip_key: "ip-1".into(),
        body_sha256: commentguard::intake::body_fingerprint(body),
        decision: commentguard::domain::Decision {
            verdict,
            findings: vec![
                Finding::new(&findings::SPAM_LINKS, 0.6, "2 links")
                    .with_spans(vec![std::ops::Range { start: 0, end: 1 }]),
            ],
            spam_score: 0.6,
            // Abuse scores are part of the stored answer: every replay and read below compares them too.
            abuse: commentguard::domain::AbuseScores { insult: 0.55, threat: 0.125, ..Default::default() },
            redacted_body: format!("redacted {body}"),
            reason_codes: vec!["spam.links".into()],
        },
        retention_ms: DAY_MS,
        near: None,
    }
}

fn stored(outcome: SubmitOutcome) -> commentguard::domain::Answer {
    match outcome {
        SubmitOutcome::Stored(a) => a,
        other => panic!("expected Stored, got {other:?}"),
    }
}

pub async fn submit_then_replay_then_conflict(store: Arc<dyn Store>) {
    let c = comment("c1", "hello", Verdict::Approved);
    assert_eq!(common::stores::lookup(store.as_ref(), "s", "c1", &c.body_sha256).await, Lookup::Missing);
    let answer = stored(store.submit("s", c.clone()).await.expect("submit"));
    assert_eq!(answer.verdict, Verdict::Approved);
    assert_eq!(answer.redacted_body, "redacted hello");
    assert_eq!(answer.review_id, None);
    assert_eq!((answer.abuse.insult, answer.abuse.threat), (0.55, 0.125));
    assert_eq!(common::stores::lookup(store.as_ref(), "s", "c1", &c.body_sha256).await, Lookup::Replay(answer.clone()));
    let other = commentguard::intake::body_fingerprint("other");
    assert_eq!(common::stores::lookup(store.as_ref(), "s", "c1", &other).await, Lookup::Conflict);

    assert_eq!(store.submit("s", c.clone()).await.expect("again"), SubmitOutcome::Replayed(answer.clone()));
    let changed = comment("c1", "other", Verdict::Rejected);
    assert_eq!(store.submit("s", changed).await.expect("conflict"), SubmitOutcome::Conflict);

    let record = store.get("s", "c1").await.expect("get").expect("present");
    assert_eq!(record.verdict, Verdict::Approved);
    assert_eq!(record.source, DecisionSource::Automatic);
    assert_eq!(record.comment.body, "hello");
    assert_eq!(record.answer, answer);
    let events = store.read_decisions("s", After::Start, 10).await.expect("read");
    assert_eq!(events.len(), 1, "a replay appends no second event");
}

pub async fn held_comments_are_queued_with_their_decision_event(store: Arc<dyn Store>) {
    let held = stored(store.submit("s", comment("h1", "hold me", Verdict::PendingReview)).await.expect("submit"));
    let review_id = held.review_id.clone().expect("held comments get a review id");
    assert!(!review_id.is_empty());
    let rejected = stored(store.submit("s", comment("r1", "reject me", Verdict::Rejected)).await.expect("submit"));
    assert_eq!(rejected.review_id, None);

    let events = store.read_decisions("s", After::Start, 10).await.expect("read");
    assert_eq!(events.len(), 2);
    assert_eq!(events[0].cursor, held.decision_cursor);
    assert_eq!(events[0].comment_id, "h1");
    assert_eq!(events[0].verdict, Verdict::PendingReview);
    assert_eq!(events[0].reason_codes, vec!["spam.links"]);
    assert_eq!(events[0].redacted_body, "redacted hold me");
    assert_eq!(events[0].thread_id, "t1");
    assert_eq!(events[1].cursor, rejected.decision_cursor);
    let after_first = StreamId::parse(&held.decision_cursor).expect("cursor parses");
    let rest = store.read_decisions("s", After::Id(after_first), 10).await.expect("read");
    assert_eq!(rest.iter().map(|e| e.comment_id.as_str()).collect::<Vec<_>>(), vec!["r1"]);
    assert_eq!(store.read_decisions("s", After::Start, 1).await.expect("read").len(), 1, "limit honoured");
}

pub async fn concurrent_duplicates_store_one_record(store: Arc<dyn Store>) {
    let mut tasks = Vec::new();
    for _ in 0..50 {
        let store = store.clone();
        tasks
            .push(tokio::spawn(async move { store.submit("s", comment("dup", "same", Verdict::PendingReview)).await }));
    }
    let mut stored_count = 0;
    let mut answers = Vec::new();
    for t in tasks {
        match t.await.expect("join").expect("submit") {
            SubmitOutcome::Stored(a) => {
                stored_count += 1;
                answers.push(a);
            }
            SubmitOutcome::Replayed(a) => answers.push(a),
            SubmitOutcome::Conflict => panic!("same body is never a conflict"),
        }
    }
    assert_eq!(stored_count, 1);
    assert!(answers.windows(2).all(|w| w[0] == w[1]), "every duplicate gets the one stored answer");
    assert_eq!(store.read_decisions("s", After::Start, 100).await.expect("read").len(), 1);
}

pub async fn reputation_counts_per_site(store: Arc<dyn Store>) {
    let before = common::stores::context(store.as_ref(), "s", Some("author-1"), "ip-1", None).await;
    assert!(before.is_first_time_author());
    store.submit("s", comment("a1", "one", Verdict::Approved)).await.expect("submit");
    store.submit("s", comment("a2", "two", Verdict::Rejected)).await.expect("submit");
    let after = common::stores::context(store.as_ref(), "s", Some("author-1"), "ip-1", None).await;
    let author = after.author.expect("author reputation");
    assert_eq!((author.submitted, author.approved, author.rejected), (2, 1, 1));
    assert_eq!((after.ip.submitted, after.ip.approved, after.ip.rejected), (2, 1, 1));
    assert!(!after.is_first_time_author());
    let fp = commentguard::intake::body_fingerprint("one");
    let (lookup, ctx) = store
        .prepare(
            "s",
            Probe { comment_id: "a1", body_sha256: &fp, author_key: Some("author-1"), ip_key: "ip-1", near: None },
        )
        .await
        .expect("both");
    assert!(matches!(lookup, Lookup::Replay(_)), "{lookup:?}");
    assert_eq!(ctx, after, "the combined fetch reads the same reputation");
    let (missing, anon) = store
        .prepare("s", Probe { comment_id: "zz", body_sha256: &fp, author_key: None, ip_key: "ip-1", near: None })
        .await
        .expect("both");
    assert_eq!((missing, anon.author, anon.ip), (Lookup::Missing, None, after.ip));
    let anonymous = common::stores::context(store.as_ref(), "s", None, "ip-1", None).await;
    assert!(anonymous.author.is_none() && !anonymous.is_first_time_author());
    let elsewhere = common::stores::context(store.as_ref(), "other-site", Some("author-1"), "ip-1", None).await;
    assert!(elsewhere.is_first_time_author(), "reputation is per site");
}

pub async fn sites_are_isolated(store: Arc<dyn Store>) {
    store.submit("a", comment("same-id", "site a", Verdict::Approved)).await.expect("submit");
    assert!(store.get("b", "same-id").await.expect("get").is_none());
    let b = stored(store.submit("b", comment("same-id", "site b", Verdict::Rejected)).await.expect("submit"));
    assert_eq!(b.verdict, Verdict::Rejected);
    assert_eq!(store.get("a", "same-id").await.expect("get").expect("a").comment.body, "site a");
    assert_eq!(store.read_decisions("a", After::Start, 10).await.expect("read").len(), 1);
    assert_eq!(store.read_decisions("b", After::Start, 10).await.expect("read").len(), 1);
}

const CAMPAIGN: &str = "Earn 50000 rupees daily from home with our new online job, no investment needed, message Ali \
                        on WhatsApp today to join the team";

/// A comment by `author` with its near-copy probe (window one hour).
fn near_comment(id: &str, author: &str, body: &str) -> NewComment {
    let norm = commentguard::analysis::normalize::Normalized::new(body);
    let sketch = commentguard::analysis::spam::duplicates::sketch(norm.as_str()).expect("long enough");
    let near = NearProbe::new(sketch, Some(author), "ip-shared", id, 3_600_000);
    NewComment { author_key: Some(author.into()), near: Some(near), ..comment(id, body, Verdict::Approved) }
}

/// The near-copy window: copies by other authors and by the same author are counted apart, within the window only,
/// per site, and not for texts that are not copies.
async fn near_copies_are_counted_within_the_window(backed: crate::common::stores::Backed) {
    let store = backed.store;
    let probe = |id: &str, author: &str, body: &str| near_comment(id, author, body).near.expect("probe");
    let dups = |store: Arc<dyn Store>, site: &'static str, p: NearProbe| async move {
        common::stores::context(store.as_ref(), site, p.member.split(':').next(), "ip-shared", Some(&p))
            .await
            .duplicates
    };
    assert_eq!(dups(store.clone(), "s", probe("x", "author-9", CAMPAIGN)).await, Duplicates::default());
    for (i, author) in ["author-1", "author-2", "author-3", "author-1"].iter().enumerate() {
        let body = CAMPAIGN.replace("Ali", ["Bilal", "Sana", "Omar", "Zara"][i]);
        stored(store.submit("s", near_comment(&format!("c{i}"), author, &body)).await.expect("submit"));
    }
    // The (long, unrelated) comment is stored too but is no copy.
    let other = "The minister's statement on the budget ignores the rising cost of electricity for ordinary families \
                 in Karachi and Lahore this summer";
    stored(store.submit("s", near_comment("o1", "author-5", other)).await.expect("submit"));

    let d = dups(store.clone(), "s", probe("new", "author-4", CAMPAIGN)).await;
    assert_eq!(d, Duplicates { copies: 4, sources: 3, own: 0 });
    let d = dups(store.clone(), "s", probe("new", "author-1", CAMPAIGN)).await;
    assert_eq!(d, Duplicates { copies: 2, sources: 2, own: 2 });
    assert_eq!(dups(store.clone(), "s", probe("new", "author-4", other)).await.copies, 1);
    assert_eq!(dups(store.clone(), "elsewhere", probe("new", "author-4", CAMPAIGN)).await, Duplicates::default());
    let near = probe("new", "author-4", CAMPAIGN);
    let both = Probe {
        comment_id: "new",
        body_sha256: "sha",
        author_key: Some("author-4"),
        ip_key: "ip-shared",
        near: Some(&near),
    };
    let (_, ctx) = store.prepare("s", both).await.expect("both");
    assert_eq!(ctx.duplicates.sources, 3, "the combined fetch counts the same copies");

    // A flood of copies: each band value keeps (and reads) its newest PER_BAND members.
    for i in 0..40 {
        let body = CAMPAIGN.replace("Ali", &format!("Reader{i}"));
        stored(
            store.submit("s", near_comment(&format!("f{i}"), &format!("flooder-{i}"), &body)).await.expect("submit"),
        );
    }
    let d = dups(store.clone(), "s", probe("new", "author-4", CAMPAIGN)).await;
    assert_eq!(d.sources as usize, commentguard::store::near::PER_BAND, "{d:?}");

    backed.clock.advance(3_600_001);
    assert_eq!(dups(store.clone(), "s", probe("new", "author-4", CAMPAIGN)).await, Duplicates::default());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn memory_near_copies_are_counted_within_the_window() {
    near_copies_are_counted_within_the_window(common::stores::memory_store()).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redis_near_copies_are_counted_within_the_window() {
    near_copies_are_counted_within_the_window(common::stores::redis_store()).await;
}

/// Instantiates every contract test for one store.
macro_rules! contract {
    ($module:ident, $make:ident) => {
        mod $module {
            contract!(@tests $make;
                submit_then_replay_then_conflict,
                held_comments_are_queued_with_their_decision_event,
                concurrent_duplicates_store_one_record,
                reputation_counts_per_site,
                sites_are_isolated);
        }
    };
    (@tests $make:ident; $($name:ident),*) => {$(
        #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
        async fn $name() {
            let backed = crate::common::stores::$make();
            super::$name(backed.store.clone()).await;
        }
    )*};
}

contract!(memory, memory_store);
contract!(redis, redis_store);

#[tokio::test]
async fn memory_store_expires_records_events_and_queue_entries_after_retention() {
    let clock = ManualClock::new(1_000_000);
    let store = MemoryStore::new(clock.clone());
    let held = stored(store.submit("s", comment("old", "old", Verdict::PendingReview)).await.expect("submit"));
    assert_eq!(store.pending("s").len(), 1);
    clock.advance(DAY_MS / 2);
    store.submit("s", comment("young", "young", Verdict::Approved)).await.expect("submit");

    clock.advance(DAY_MS / 2);
    assert!(store.get("s", "old").await.expect("get").is_none(), "expired record is gone");
    let fp = commentguard::intake::body_fingerprint("old");
    assert_eq!(common::stores::lookup(&store, "s", "old", &fp).await, Lookup::Missing);
    assert!(store.pending("s").is_empty(), "expired queue entry is gone");
    assert!(store.get("s", "young").await.expect("get").is_some(), "younger record stays");
    let events = store.read_decisions("s", After::Start, 10).await.expect("read");
    assert_eq!(events.iter().map(|e| e.comment_id.as_str()).collect::<Vec<_>>(), vec!["young"]);
    let stale = StreamId { ms: 0, seq: 0 };
    assert_eq!(store.read_decisions("s", After::Id(stale), 10).await, Err(ReadError::Expired));
    let from_held = StreamId::parse(&held.decision_cursor).expect("cursor");
    assert!(
        store.read_decisions("s", After::Id(from_held), 10).await.is_ok(),
        "the last trimmed cursor is still a valid resume point"
    );
}

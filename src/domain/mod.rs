//! Plain domain types shared by analysis, policy, store and api. No proto, no Redis, no I/O: the api layer converts
//! these to and from the wire types, the store serialises them with serde.

mod records;

pub use records::{Answer, AuthorRecord, Comment, CommentRecord, Decision, DecisionEvent};
use serde::{Deserialize, Serialize};
use std::ops::Range;

/// What the host site should do with a comment.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum Verdict {
    Approved,
    PendingReview,
    Rejected,
}

impl Verdict {
    pub fn as_str(self) -> &'static str {
        match self {
            Verdict::Approved => "APPROVED",
            Verdict::PendingReview => "PENDING_REVIEW",
            Verdict::Rejected => "REJECTED",
        }
    }
}

/// The family a finding code belongs to (the prefix of its code).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Category {
    Pii,
    Spam,
    Abuse,
    Policy,
}

impl Category {
    pub fn as_str(self) -> &'static str {
        match self {
            Category::Pii => "PII",
            Category::Spam => "SPAM",
            Category::Abuse => "ABUSE",
            Category::Policy => "POLICY",
        }
    }
}

/// Who reached a verdict.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum DecisionSource {
    Automatic,
    Moderator,
}

/// One reason behind a verdict.
///
/// Invariant: every span is a byte range on `char` boundaries of the ORIGINAL body (not the normalised text), so
/// the api layer can convert it to UTF-16 or code points and the redactor can cut the body at it.
/// Invariant: `detail` never repeats the personal data itself.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Finding {
    pub code: String,
    pub category: Category,
    pub score: f64,
    pub detail: String,
    pub spans: Vec<Range<usize>>,
}

impl Finding {
    /// A finding for a registered code; the category comes from the registry so the two can never disagree.
    pub fn new(code: &crate::findings::FindingCode, score: f64, detail: impl Into<String>) -> Finding {
        Finding {
            code: code.code.to_string(),
            category: code.category,
            score: score.clamp(0.0, 1.0),
            detail: detail.into(),
            spans: Vec::new(),
        }
    }

    pub fn with_spans(mut self, spans: Vec<Range<usize>>) -> Finding {
        self.spans = spans;
        self
    }
}

/// What the host's comment form observed (proto `ClientSignals`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Signals {
    pub honeypot_filled: bool,
    /// `None` = unknown; `Some(0)` = instant (a bot).
    pub time_to_submit_ms: Option<u32>,
}

/// An author's (or an address's) history on one site, kept by the store and fetched once per submission.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Reputation {
    /// Comments accepted into the store (any verdict).
    pub submitted: u64,
    pub approved: u64,
    pub rejected: u64,
    /// Rejected by a moderator as spam.
    pub spam: u64,
}

/// Everything analysis and policy need from the store, fetched in one round trip before analysis.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Context {
    /// `None` when the submission names no author (no account id, no email).
    pub author: Option<Reputation>,
    pub ip: Reputation,
    /// Near copies of this comment in the site's recent window (campaign detection).
    pub duplicates: Duplicates,
}

/// Recent near copies of a comment on its site (`analysis::spam::duplicates`), counted by the store.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Duplicates {
    /// Near copies from other authors (other addresses, for anonymous comments).
    pub copies: u32,
    /// How many distinct other authors (or addresses) posted them.
    pub sources: u32,
    /// Near copies the same author (or address) posted before.
    pub own: u32,
}

impl Context {
    /// An author the site has not seen before. Anonymous authors (no account, no email) are not "first-time": the
    /// site cannot tell, and holding every guest would be pre-moderation by another name.
    pub fn is_first_time_author(&self) -> bool {
        self.author.is_some_and(|a| a.submitted == 0)
    }
}

/// One calibrated score per abuse category (`analysis::abuse`), each in 0..1; 0 where nothing of the category was
/// seen. Part of the stored answer, so a replay returns the same scores.
///
/// Named fields rather than an array: the Redis store keeps answers as JSON and its `decide` script reads these
/// names to find an item's highest-scoring category (`store/lua/decide.lua`). Serialised without the field when all
/// are 0, so a clean comment's stored answer is no longer than before; records written before the field existed read
/// as all 0 (`#[serde(default)]` where it is embedded).
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct AbuseScores {
    pub threat: f64,
    pub identity_attack: f64,
    pub insult: f64,
    pub sexual: f64,
    pub profanity: f64,
}

impl AbuseScores {
    /// The category names, in the order of [`AbuseScores::to_array`] (`analysis::abuse::Category::ALL`'s order).
    pub const NAMES: [&'static str; 5] = ["threat", "identity_attack", "insult", "sexual", "profanity"];

    pub fn from_array(a: [f64; 5]) -> AbuseScores {
        AbuseScores { threat: a[0], identity_attack: a[1], insult: a[2], sexual: a[3], profanity: a[4] }
    }

    pub fn to_array(self) -> [f64; 5] {
        [self.threat, self.identity_attack, self.insult, self.sexual, self.profanity]
    }

    pub fn is_zero(&self) -> bool {
        self.to_array().iter().all(|&s| s == 0.0)
    }

    /// Per category the higher of the two (the built-in scores combined with an external classifier's).
    pub fn max(self, other: AbuseScores) -> AbuseScores {
        let (a, b) = (self.to_array(), other.to_array());
        AbuseScores::from_array(std::array::from_fn(|i| a[i].max(b[i])))
    }

    /// The index (in [`AbuseScores::NAMES`] order) of the highest score; the first of equal ones; `None` when every
    /// score is 0. `decide.lua` applies the same rule to the stored JSON.
    pub fn top(&self) -> Option<usize> {
        let a = self.to_array();
        let mut best: Option<usize> = None;
        for (i, &s) in a.iter().enumerate() {
            if s > 0.0 && best.is_none_or(|b| s > a[b]) {
                best = Some(i);
            }
        }
        best
    }
}

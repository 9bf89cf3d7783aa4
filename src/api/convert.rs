//! Domain → wire types. Spans are converted to the caller's offset unit here, against the original body.

use crate::domain::{AbuseScores, Category, DecisionSource, Finding, Verdict};
use crate::offsets::{self, OffsetUnit};
use crate::pb;

pub fn verdict(v: Verdict) -> pb::Verdict {
    match v {
        Verdict::Approved => pb::Verdict::Approved,
        Verdict::PendingReview => pb::Verdict::PendingReview,
        Verdict::Rejected => pb::Verdict::Rejected,
    }
}

pub fn category(c: Category) -> pb::Category {
    match c {
        Category::Pii => pb::Category::Pii,
        Category::Spam => pb::Category::Spam,
        Category::Abuse => pb::Category::Abuse,
        Category::Policy => pb::Category::Policy,
    }
}

pub fn source(s: DecisionSource) -> pb::DecisionSource {
    match s {
        DecisionSource::Automatic => pb::DecisionSource::Automatic,
        DecisionSource::Moderator => pb::DecisionSource::Moderator,
    }
}

/// Findings with spans in `unit` offsets into `body` (the original).
pub fn findings(body: &str, findings: &[Finding], unit: OffsetUnit) -> Vec<pb::Finding> {
    findings
        .iter()
        .map(|f| pb::Finding {
            code: f.code.clone(),
            category: category(f.category) as i32,
            score: f.score,
            detail: f.detail.clone(),
            spans: offsets::convert(body, &f.spans, unit)
                .into_iter()
                .map(|(start, end)| pb::Span { start, end })
                .collect(),
        })
        .collect()
}

pub fn abuse_scores(s: &AbuseScores) -> pb::AbuseScores {
    pb::AbuseScores {
        threat: s.threat,
        identity_attack: s.identity_attack,
        insult: s.insult,
        sexual: s.sexual,
        profanity: s.profanity,
    }
}

pub fn timestamp(ms: u64) -> prost_types::Timestamp {
    prost_types::Timestamp { seconds: (ms / 1000) as i64, nanos: ((ms % 1000) * 1_000_000) as i32 }
}

//! One error type for the request path and the ONE conversion to `tonic::Status` (DESIGN §3's error table). Messages
//! never contain personal data: they name fields and limits, not values.

use crate::store::Outcome;
use std::collections::HashMap;
use tonic::{Code, Status};
use tonic_types::{ErrorDetails, StatusExt};

/// A field that failed validation: the proto field path (e.g. `author.ip`) and what is wrong with it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldViolation {
    pub field: String,
    pub description: String,
}

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("invalid request: {}", .0.iter().map(|v| format!("{}: {}", v.field, v.description)).collect::<Vec<_>>().join("; "))]
    InvalidArgument(Vec<FieldViolation>),
    #[error("{0}")]
    Unauthenticated(&'static str),
    #[error("{0}")]
    PermissionDenied(String),
    #[error("{0}")]
    NotFound(String),
    #[error("{0}")]
    AlreadyExists(String),
    #[error("{0}")]
    OutOfRange(String),
    /// Stale claim token, expired lease, or decided by someone else: nothing changed.
    #[error("{0}")]
    FailedPrecondition(String),
    /// A rate limit refused the request (nothing was stored). `limit` is the limit's name (`ip`, `author`, …),
    /// `description` its quota in words, `retry_after` the exact wait until the limit lets one through.
    #[error("rate limited: {description}")]
    ResourceExhausted { limit: &'static str, description: String, retry_after: std::time::Duration },
    /// A dependency other than the store's write path failed (a fail-closed limiter's Redis, a decision-stream
    /// read): nothing was stored or changed. The message never carries Redis' text.
    #[error("{0}")]
    Unavailable(String),
    /// The store failed; `StoreError::outcome` says whether the write may have been applied. Also `UNAVAILABLE`,
    /// told apart by the `ErrorInfo` reason (see [`NOT_STORED`], [`OUTCOME_UNKNOWN`]).
    #[error("{}", store_message(.0))]
    Store(crate::store::StoreError),
}

impl Error {
    pub fn invalid(field: impl Into<String>, description: impl Into<String>) -> Error {
        Error::InvalidArgument(vec![FieldViolation { field: field.into(), description: description.into() }])
    }
}

impl Error {
    /// The gRPC code this error maps to (metrics label it without building the whole status).
    pub fn code(&self) -> Code {
        match self {
            Error::InvalidArgument(_) => Code::InvalidArgument,
            Error::Unauthenticated(_) => Code::Unauthenticated,
            Error::PermissionDenied(_) => Code::PermissionDenied,
            Error::NotFound(_) => Code::NotFound,
            Error::AlreadyExists(_) => Code::AlreadyExists,
            Error::OutOfRange(_) => Code::OutOfRange,
            Error::FailedPrecondition(_) => Code::FailedPrecondition,
            Error::ResourceExhausted { .. } => Code::ResourceExhausted,
            Error::Unavailable(_) | Error::Store(_) => Code::Unavailable,
        }
    }
}

/// `ErrorInfo.domain` of every reason this service sets.
pub const DOMAIN: &str = "commentguard";
/// `ErrorInfo.reason`: the request stored and changed nothing; retrying it later is safe.
pub const NOT_STORED: &str = "STORE_UNAVAILABLE_NOT_STORED";
/// `ErrorInfo.reason`: the write may or may not have been applied; retry the same request (same `comment_id`) — it
/// is idempotent: the stored answer comes back (`replayed = true`) or it is stored now.
pub const OUTCOME_UNKNOWN: &str = "STORE_OUTCOME_UNKNOWN";

impl From<crate::store::StoreError> for Error {
    fn from(e: crate::store::StoreError) -> Self {
        Error::Store(e)
    }
}

/// The client's message for a store failure: the outcome and what to do, never the cause (that is logged).
fn store_message(e: &crate::store::StoreError) -> String {
    let what_to_do = match e.outcome {
        Outcome::NotApplied => "retry later",
        Outcome::Unknown => {
            "retry the same request (a submission: the same comment_id): it returns the stored answer or applies it now"
        }
    };
    format!("{}; {what_to_do}", e.summary())
}

/// `UNAVAILABLE`'s details: whether anything was stored (`ErrorInfo`) and when to retry (`RetryInfo`).
fn unavailable_details(outcome: Outcome) -> ErrorDetails {
    let (reason, stored) = match outcome {
        Outcome::NotApplied => (NOT_STORED, "false"),
        Outcome::Unknown => (OUTCOME_UNKNOWN, "unknown"),
    };
    let metadata = HashMap::from([("stored".to_string(), stored.to_string())]);
    let mut details = ErrorDetails::with_error_info(reason, DOMAIN, metadata);
    details.set_retry_info(Some(std::time::Duration::from_secs(1)));
    details
}

impl From<Error> for Status {
    fn from(e: Error) -> Status {
        let (code, message) = (e.code(), e.to_string());
        match e {
            Error::InvalidArgument(violations) => {
                let mut details = ErrorDetails::new();
                for v in violations {
                    details.add_bad_request_violation(v.field, v.description);
                }
                Status::with_error_details(code, message, details)
            }
            Error::Unavailable(_) => {
                Status::with_error_details(code, message, unavailable_details(Outcome::NotApplied))
            }
            Error::Store(e) => Status::with_error_details(code, message, unavailable_details(e.outcome)),
            Error::ResourceExhausted { limit, description, retry_after } => {
                let mut details = ErrorDetails::with_retry_info(Some(retry_after));
                details.add_quota_failure_violation(limit, description);
                Status::with_error_details(code, message, details)
            }
            _ => Status::new(code, message),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::StoreError;
    use tonic_types::StatusExt;

    fn status_of(e: StoreError) -> Status {
        Status::from(Error::from(e))
    }

    #[test]
    fn store_failures_say_whether_anything_was_stored_and_never_the_cause() {
        for (e, reason, stored) in [
            (StoreError::not_applied("redis submit: Connection refused"), NOT_STORED, "false"),
            (StoreError::unknown("redis submit: timed out"), OUTCOME_UNKNOWN, "unknown"),
        ] {
            let status = status_of(e);
            assert_eq!(status.code(), Code::Unavailable);
            let info = status.get_details_error_info().expect("ErrorInfo");
            assert_eq!((info.reason.as_str(), info.domain.as_str()), (reason, DOMAIN));
            assert_eq!(info.metadata.get("stored").map(String::as_str), Some(stored));
            assert!(status.get_details_retry_info().is_some(), "RetryInfo too");
            let message = status.message();
            assert!(!message.contains("redis") && !message.contains("refused") && !message.contains("timed out"));
        }
        let unknown = status_of(StoreError::unknown("x"));
        assert!(unknown.message().contains("retry the same request"), "{}", unknown.message());
    }

    #[test]
    fn other_unavailable_answers_stored_nothing() {
        let status = Status::from(Error::Unavailable("rate limits cannot be checked".into()));
        assert_eq!(status.get_details_error_info().expect("ErrorInfo").reason, NOT_STORED);
    }
}

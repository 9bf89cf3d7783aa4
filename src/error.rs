//! One error type for the request path and the ONE conversion to `tonic::Status` (DESIGN §3's error table). Messages
//! never contain personal data: they name fields and limits, not values.

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
    #[error("{0}")]
    Unavailable(String),
    #[error("{0}")]
    Unimplemented(&'static str),
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
            Error::Unavailable(_) => Code::Unavailable,
            Error::Unimplemented(_) => Code::Unimplemented,
        }
    }
}

impl From<crate::store::StoreError> for Error {
    fn from(e: crate::store::StoreError) -> Self {
        Error::Unavailable(e.to_string())
    }
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
            // The comment was not accepted; the caller retries with the same comment id, which is idempotent.
            Error::Unavailable(_) => Status::with_error_details(
                code,
                message,
                ErrorDetails::with_retry_info(Some(std::time::Duration::from_secs(1))),
            ),
            Error::ResourceExhausted { limit, description, retry_after } => {
                let mut details = ErrorDetails::with_retry_info(Some(retry_after));
                details.add_quota_failure_violation(limit, description);
                Status::with_error_details(code, message, details)
            }
            _ => Status::new(code, message),
        }
    }
}

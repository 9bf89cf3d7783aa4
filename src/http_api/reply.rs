//! HTTP answers: a message as JSON with 200, or a gRPC status mapped to its HTTP status (the mapping of
//! `google.rpc.Code`, as grpc-gateway and Google's JSON APIs use it) with the `google.rpc.Status` as the JSON body.
//! `RESOURCE_EXHAUSTED` and `UNAVAILABLE` also say `Retry-After` (whole seconds, rounded up, from `RetryInfo`).

use super::json;
use http_body_util::Full;
use hyper::body::Bytes;
use tonic::codegen::http::{HeaderValue, Response, StatusCode, header};
use tonic::{Code, Status};
use tonic_types::StatusExt;

pub type Reply = Response<Full<Bytes>>;

/// The HTTP status for a gRPC code.
pub fn http_status(code: Code) -> StatusCode {
    match code {
        Code::Ok => StatusCode::OK,
        Code::InvalidArgument | Code::FailedPrecondition | Code::OutOfRange => StatusCode::BAD_REQUEST,
        Code::Unauthenticated => StatusCode::UNAUTHORIZED,
        Code::PermissionDenied => StatusCode::FORBIDDEN,
        Code::NotFound => StatusCode::NOT_FOUND,
        Code::AlreadyExists | Code::Aborted => StatusCode::CONFLICT,
        Code::ResourceExhausted => StatusCode::TOO_MANY_REQUESTS,
        // nginx's "client closed request", as grpc-gateway answers CANCELLED.
        Code::Cancelled => StatusCode::from_u16(499).unwrap_or(StatusCode::BAD_REQUEST),
        Code::Unimplemented => StatusCode::NOT_IMPLEMENTED,
        Code::Unavailable => StatusCode::SERVICE_UNAVAILABLE,
        Code::DeadlineExceeded => StatusCode::GATEWAY_TIMEOUT,
        Code::Unknown | Code::Internal | Code::DataLoss => StatusCode::INTERNAL_SERVER_ERROR,
    }
}

fn json_reply(status: StatusCode, body: Vec<u8>) -> Reply {
    // Said explicitly: the connection layer's body wrapper hides the length, and hosts read a length more simply
    // than chunks.
    let length = HeaderValue::from(body.len());
    let mut reply = Response::new(Full::new(Bytes::from(body)));
    *reply.status_mut() = status;
    reply.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static("application/json"));
    reply.headers_mut().insert(header::CONTENT_LENGTH, length);
    reply
}

/// 200 with the message as JSON.
pub fn ok(body: Vec<u8>) -> Reply {
    json_reply(StatusCode::OK, body)
}

/// A refused or failed call: its HTTP status, `Retry-After` when the status says when to retry, and the status
/// as JSON.
pub fn error(status: &Status) -> Reply {
    error_with(http_status(status.code()), status)
}

/// As [`error`] with the HTTP status given (413, 405, 415: refusals HTTP has its own words for).
pub fn error_with(http: StatusCode, status: &Status) -> Reply {
    let mut reply = json_reply(http, json::status(status));
    if matches!(status.code(), Code::ResourceExhausted | Code::Unavailable)
        && let Some(delay) = status.get_details_retry_info().and_then(|r| r.retry_delay)
    {
        let secs = delay.as_secs() + u64::from(delay.subsec_nanos() > 0);
        reply.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from(secs.max(1)));
    }
    reply
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::Error;
    use std::time::Duration;

    #[test]
    fn codes_map_to_http_statuses() {
        for (code, http) in [
            (Code::InvalidArgument, 400),
            (Code::FailedPrecondition, 400),
            (Code::OutOfRange, 400),
            (Code::Unauthenticated, 401),
            (Code::PermissionDenied, 403),
            (Code::NotFound, 404),
            (Code::AlreadyExists, 409),
            (Code::ResourceExhausted, 429),
            (Code::Unavailable, 503),
            (Code::Internal, 500),
        ] {
            assert_eq!(http_status(code).as_u16(), http, "{code:?}");
        }
    }

    #[test]
    fn retry_after_rounds_the_wait_up() {
        let limited = Error::ResourceExhausted {
            limit: "flood",
            description: "one comment every 5 seconds per author".into(),
            retry_after: Duration::from_millis(4200),
        };
        let reply = error(&Status::from(limited));
        assert_eq!(reply.status(), StatusCode::TOO_MANY_REQUESTS);
        assert_eq!(reply.headers()[header::RETRY_AFTER], "5");
        let reply = error(&Status::from(Error::Unavailable("down".into())));
        assert_eq!(reply.status(), StatusCode::SERVICE_UNAVAILABLE);
        assert_eq!(reply.headers()[header::RETRY_AFTER], "1");
        assert!(error(&Status::not_found("x")).headers().get(header::RETRY_AFTER).is_none());
    }
}

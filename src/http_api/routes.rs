//! The route table of the HTTP/JSON door, in the style of `google.api.http` annotations (custom methods after a
//! colon, resource ids in the path, GET parameters in the query):
//!
//! | route | RPC | request from |
//! | --- | --- | --- |
//! | `POST /v1/comments:submit` | `SubmitComment` | the JSON body |
//! | `GET /v1/comments/{comment_id}` | `GetComment` | the path; `?offset_encoding=` (or `offsetEncoding`) |
//! | `GET /v1/decisions` | `ListDecisions` | `?after_cursor=&page_size=` (or camelCase) |
//! | `POST /v1/comments/{comment_id}:report` | `ReportComment` | the path + the JSON body (`comment_id` may be omitted) |
//!
//! `{comment_id}` is one percent-encoded path segment: encode `/`, `:` and `%` in ids (PHP's `rawurlencode`).

use tonic::codegen::http::Method;

/// A matched route, with its path parameter.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Route {
    Submit,
    Get { comment_id: String },
    ListDecisions,
    Report { comment_id: String },
}

/// Request and response messages of the routes, by full proto name (checked against the descriptors in tests).
pub const MESSAGES: [&str; 8] = [SUBMIT.0, SUBMIT.1, GET.0, GET.1, LIST.0, LIST.1, REPORT.0, REPORT.1];
pub const SUBMIT: (&str, &str) = ("commentguard.v1.SubmitCommentRequest", "commentguard.v1.SubmitCommentResponse");
pub const GET: (&str, &str) = ("commentguard.v1.GetCommentRequest", "commentguard.v1.GetCommentResponse");
pub const LIST: (&str, &str) = ("commentguard.v1.ListDecisionsRequest", "commentguard.v1.ListDecisionsResponse");
pub const REPORT: (&str, &str) = ("commentguard.v1.ReportCommentRequest", "commentguard.v1.ReportCommentResponse");

impl Route {
    /// The RPC's name: the metrics label gRPC uses for the same call.
    pub fn rpc(&self) -> &'static str {
        match self {
            Route::Submit => "SubmitComment",
            Route::Get { .. } => "GetComment",
            Route::ListDecisions => "ListDecisions",
            Route::Report { .. } => "ReportComment",
        }
    }

    /// Whether the request has a JSON body.
    pub fn has_body(&self) -> bool {
        matches!(self, Route::Submit | Route::Report { .. })
    }
}

/// Why no route matched.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NoRoute {
    /// No such path (404).
    NotFound,
    /// The path exists with another method (405, `Allow: <method>`).
    Method(&'static str),
    /// A path segment is not valid percent-encoded UTF-8 (400).
    BadSegment,
}

/// Matches a request's method and path (without the query).
pub fn route(method: &Method, path: &str) -> Result<Route, NoRoute> {
    let (route, allowed) = match path {
        "/v1/comments:submit" => (Route::Submit, Method::POST),
        "/v1/decisions" => (Route::ListDecisions, Method::GET),
        _ => {
            let segment = path.strip_prefix("/v1/comments/").filter(|s| !s.is_empty() && !s.contains('/'));
            let segment = segment.ok_or(NoRoute::NotFound)?;
            match segment.rsplit_once(':') {
                // A GET names a resource: any colon is part of the id (`GET /v1/comments/a:b`).
                _ if method == Method::GET => (Route::Get { comment_id: decode(segment)? }, Method::GET),
                Some((id, "report")) if !id.is_empty() => (Route::Report { comment_id: decode(id)? }, Method::POST),
                Some(_) => return Err(NoRoute::NotFound),
                None => (Route::Get { comment_id: decode(segment)? }, Method::GET),
            }
        }
    };
    let name = if allowed == Method::GET { "GET" } else { "POST" };
    if *method == allowed { Ok(route) } else { Err(NoRoute::Method(name)) }
}

fn decode(segment: &str) -> Result<String, NoRoute> {
    percent_encoding::percent_decode_str(segment).decode_utf8().map(|s| s.into_owned()).map_err(|_| NoRoute::BadSegment)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn routes_match_like_google_api_http() {
        let get = |p| route(&Method::GET, p);
        let post = |p| route(&Method::POST, p);
        assert_eq!(post("/v1/comments:submit"), Ok(Route::Submit));
        assert_eq!(get("/v1/comments:submit"), Err(NoRoute::Method("POST")));
        assert_eq!(get("/v1/decisions"), Ok(Route::ListDecisions));
        assert_eq!(post("/v1/decisions"), Err(NoRoute::Method("GET")));
        assert_eq!(get("/v1/comments/c-1"), Ok(Route::Get { comment_id: "c-1".into() }));
        assert_eq!(get("/v1/comments/a%2Fb%3Ac%20d"), Ok(Route::Get { comment_id: "a/b:c d".into() }));
        assert_eq!(get("/v1/comments/a:b"), Ok(Route::Get { comment_id: "a:b".into() }));
        assert_eq!(post("/v1/comments/c%3A1:report"), Ok(Route::Report { comment_id: "c:1".into() }));
        assert_eq!(post("/v1/comments/c-1"), Err(NoRoute::Method("GET")));
        assert_eq!(get("/v1/comments/c-1:report"), Ok(Route::Get { comment_id: "c-1:report".into() }));
        assert_eq!(post("/v1/comments/c-1:delete"), Err(NoRoute::NotFound));
        assert_eq!(post("/v1/comments/:report"), Err(NoRoute::NotFound));
        assert_eq!(get("/v1/comments/"), Err(NoRoute::NotFound));
        assert_eq!(get("/v1/comments/a/b"), Err(NoRoute::NotFound));
        assert_eq!(get("/v1/comments/%FF"), Err(NoRoute::BadSegment));
        assert_eq!(get("/"), Err(NoRoute::NotFound));
    }
}

//! The proto's canonical JSON mapping (proto3 JSON: lowerCamelCase names — snake_case accepted on input —, enums by
//! name, `Timestamp` as RFC 3339, `Duration` as `"1.5s"`, 64-bit integers as strings), done by reflection over the
//! same descriptors gRPC reflection serves. There is no second schema: a field added to the proto is in the JSON.
//!
//! Why reflection (`prost-reflect`) and not generated serde code (`pbjson-build`): pbjson needs its own well-known
//! types (`pbjson_types::Timestamp`) in place of `prost_types`, which would change every generated message the rest
//! of the crate uses; prost-reflect works on the messages as they are, is the conformance-tested JSON of the author
//! of protox (already our build dependency), and costs one extra protobuf encode/decode per message, which is small
//! next to a moderation (see `examples/httpbench.rs`).
//!
//! Output includes fields at their default values (`"replayed": false`, `"findings": []`), so a PHP host can read
//! every key without `isset`; unknown input fields are refused (a typo is an error, not a silently ignored field).

use prost::Message;
use prost_reflect::{DescriptorPool, DeserializeOptions, DynamicMessage, MessageDescriptor, SerializeOptions};
use std::sync::LazyLock;
use tonic::Status;

/// The contract's messages and google.rpc's status and error details (for error bodies).
static POOL: LazyLock<DescriptorPool> = LazyLock::new(|| {
    // Both sets are compiled by build.rs from files in the repository: failing here is a build defect, caught by
    // the unit tests below, never by a request.
    let mut pool = DescriptorPool::decode(crate::pb::FILE_DESCRIPTOR_SET).expect("the contract's descriptors decode");
    pool.decode_file_descriptor_set(GOOGLE_RPC).expect("google.rpc descriptors decode");
    pool
});

const GOOGLE_RPC: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/google_rpc_descriptor.bin"));

const SERIALIZE: SerializeOptions = SerializeOptions::new().skip_default_fields(false);
const DESERIALIZE: DeserializeOptions = DeserializeOptions::new().deny_unknown_fields(true);

/// A message the door speaks, by its full proto name.
fn descriptor(full_name: &str) -> Result<MessageDescriptor, Status> {
    POOL.get_message_by_name(full_name).ok_or_else(|| {
        tracing::error!(message = full_name, "no descriptor for a message of the HTTP/JSON door");
        Status::internal("message type unknown to the JSON mapping")
    })
}

/// Decodes a request body (JSON text) into the prost message `T` named `full_name`. The error is an
/// INVALID_ARGUMENT that says where the text went wrong, never what it contained.
pub fn decode<T: Message + Default>(full_name: &str, body: &[u8]) -> Result<T, Status> {
    let desc = descriptor(full_name)?;
    let mut de = serde_json::Deserializer::from_slice(body);
    let dynamic = DynamicMessage::deserialize_with_options(desc, &mut de, &DESERIALIZE)
        .and_then(|m| de.end().map(|()| m))
        .map_err(|e| invalid_json(full_name, &e))?;
    transcode(&dynamic)
}

/// Builds the prost message `T` from JSON values by field name (path and query parameters), with the same rules as
/// a body.
pub fn from_fields<T: Message + Default>(
    full_name: &str,
    fields: serde_json::Map<String, serde_json::Value>,
) -> Result<T, Status> {
    let desc = descriptor(full_name)?;
    let dynamic = DynamicMessage::deserialize_with_options(desc, serde_json::Value::Object(fields), &DESERIALIZE)
        .map_err(|e| invalid_json(full_name, &e))?;
    transcode(&dynamic)
}

fn transcode<T: Message + Default>(dynamic: &DynamicMessage) -> Result<T, Status> {
    dynamic.transcode_to::<T>().map_err(|_| Status::invalid_argument("the request does not fit the message"))
}

/// Why a JSON text was refused: syntax errors say where; a field the message does not have is named (a key, chosen by
/// the developer); any other mismatch gives its position only, since serde's text can quote the offending value.
fn invalid_json(full_name: &str, e: &serde_json::Error) -> Status {
    let short = full_name.rsplit('.').next().unwrap_or(full_name);
    let text = e.to_string();
    let message = match e.classify() {
        // prost-reflect's words for a key the message does not have.
        serde_json::error::Category::Data if text.starts_with("unrecognized field name") => {
            let field = text.split('\'').nth(1).unwrap_or("?");
            format!("{short} has no field {field:?}")
        }
        serde_json::error::Category::Data if e.line() == 0 => format!("a parameter does not fit {short}"),
        serde_json::error::Category::Data => {
            format!("the JSON does not fit {short} at line {} column {}", e.line(), e.column())
        }
        _ => format!("the request body is not JSON (line {} column {})", e.line(), e.column()),
    };
    Status::invalid_argument(message)
}

/// Encodes the prost message `msg` (named `full_name`) as JSON text.
pub fn encode<T: Message>(full_name: &str, msg: &T) -> Result<Vec<u8>, Status> {
    let dynamic = DynamicMessage::decode(descriptor(full_name)?, msg.encode_to_vec().as_slice())
        .map_err(|_| Status::internal("the answer could not be re-encoded"))?;
    to_vec(&dynamic)
}

fn to_vec(dynamic: &DynamicMessage) -> Result<Vec<u8>, Status> {
    let mut out = serde_json::Serializer::new(Vec::with_capacity(512));
    dynamic.serialize_with_options(&mut out, &SERIALIZE).map_err(|e| {
        tracing::error!(error = %e, "JSON encoding failed");
        Status::internal("the answer could not be encoded as JSON")
    })?;
    Ok(out.into_inner())
}

/// A status as the JSON of `google.rpc.Status` — `{"code": 3, "message": "…", "details": [{"@type":
/// "type.googleapis.com/google.rpc.BadRequest", "fieldViolations": […]}]}` — the same message and details a gRPC
/// client finds in `grpc-status-details-bin`.
pub fn status(status: &Status) -> Vec<u8> {
    let plain = || {
        let bare = tonic_types::pb::Status {
            code: status.code() as i32,
            message: status.message().to_string(),
            details: Vec::new(),
        };
        bare.encode_to_vec()
    };
    let bytes = if status.details().is_empty() { plain() } else { status.details().to_vec() };
    let encoded = descriptor("google.rpc.Status")
        .ok()
        .and_then(|desc| DynamicMessage::decode(desc, bytes.as_slice()).ok())
        .and_then(|m| to_vec(&m).ok());
    // A detail type the pool does not know cannot be printed; the code and message still can.
    encoded.unwrap_or_else(|| {
        serde_json::json!({ "code": status.code() as i32, "message": status.message(), "details": [] })
            .to_string()
            .into_bytes()
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pb;
    use serde_json::{Value, json};

    #[test]
    fn every_message_of_the_door_has_a_descriptor() {
        for name in super::super::routes::MESSAGES.iter().chain(&["google.rpc.Status", "google.rpc.BadRequest"]) {
            assert!(descriptor(name).is_ok(), "{name}");
        }
    }

    #[test]
    fn requests_decode_by_the_canonical_mapping() {
        let body = br#"{"commentId": "c-1", "thread_id": "t", "author": {"ip": "203.0.113.7"}, "body": "hi",
            "offsetEncoding": "OFFSET_ENCODING_UTF16", "submittedAt": "2026-01-02T03:04:05Z",
            "signals": {"timeToSubmitMs": 1200}}"#;
        let req: pb::SubmitCommentRequest = decode("commentguard.v1.SubmitCommentRequest", body).expect("decodes");
        assert_eq!((req.comment_id.as_str(), req.thread_id.as_str(), req.body.as_str()), ("c-1", "t", "hi"));
        assert_eq!(req.offset_encoding, pb::OffsetEncoding::Utf16 as i32);
        assert_eq!(req.submitted_at.map(|t| t.seconds), Some(1_767_323_045));
        assert_eq!(req.author.map(|a| a.ip).as_deref(), Some("203.0.113.7"));
    }

    #[test]
    fn bad_json_says_where_never_what() {
        let name = "commentguard.v1.SubmitCommentRequest";
        let e = decode::<pb::SubmitCommentRequest>(name, br#"{"boddy": "x"}"#).expect_err("unknown field");
        assert_eq!(e.code(), tonic::Code::InvalidArgument);
        assert_eq!(e.message(), "SubmitCommentRequest has no field \"boddy\"");
        let e = decode::<pb::SubmitCommentRequest>(name, br#"{"offsetEncoding": "secret@example.com"}"#)
            .expect_err("bad enum");
        assert!(!e.message().contains("secret"), "{}", e.message());
        let e = decode::<pb::SubmitCommentRequest>(name, b"{\"body\": ").expect_err("truncated");
        assert!(e.message().starts_with("the request body is not JSON"), "{}", e.message());
    }

    #[test]
    fn responses_carry_every_field_in_camel_case() {
        let answer = pb::SubmitCommentResponse {
            comment_id: "c-1".into(),
            verdict: pb::Verdict::Approved as i32,
            ..Default::default()
        };
        let text = encode("commentguard.v1.SubmitCommentResponse", &answer).expect("encodes");
        let v: Value = serde_json::from_slice(&text).expect("JSON");
        assert_eq!(v["commentId"], "c-1");
        assert_eq!(v["verdict"], "VERDICT_APPROVED");
        assert_eq!(v["replayed"], false, "defaults are present");
        assert_eq!(v["findings"], json!([]));
    }

    #[test]
    fn statuses_print_with_their_details() {
        let e = crate::error::Error::InvalidArgument(vec![crate::error::FieldViolation {
            field: "author.ip".into(),
            description: "must be an IPv4 or IPv6 address".into(),
        }]);
        let v: Value = serde_json::from_slice(&status(&Status::from(e))).expect("JSON");
        assert_eq!(v["code"], 3);
        assert_eq!(v["details"][0]["@type"], "type.googleapis.com/google.rpc.BadRequest");
        assert_eq!(v["details"][0]["fieldViolations"][0]["field"], "author.ip");
        let limited = crate::error::Error::ResourceExhausted {
            limit: "ip",
            description: "10 per minute".into(),
            retry_after: std::time::Duration::from_millis(1500),
        };
        let v: Value = serde_json::from_slice(&status(&Status::from(limited))).expect("JSON");
        let details = v["details"].as_array().expect("details");
        let retry = details.iter().find(|d| d["@type"] == "type.googleapis.com/google.rpc.RetryInfo").expect("retry");
        assert_eq!(retry["retryDelay"], "1.500s");
        let quota = details.iter().find(|d| d["@type"] == "type.googleapis.com/google.rpc.QuotaFailure").expect("q");
        assert_eq!(quota["violations"][0]["subject"], "ip");
        let v: Value = serde_json::from_slice(&status(&Status::not_found("no such comment"))).expect("JSON");
        assert_eq!(v, json!({"code": 5, "message": "no such comment", "details": []}));
    }
}

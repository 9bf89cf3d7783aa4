//! Validation at the edge (DESIGN §3 error table): every problem of a request is collected into one
//! `INVALID_ARGUMENT` with a `BadRequest` field violation each, so a host fixes its integration in one round.
//!
//! Rules: ids are required where the contract says so, short, and free of control characters; text fields reject C0
//! controls other than tab/CR/LF (Unicode format characters — ZWJ, bidi marks — are legitimate in Urdu and Arabic
//! and are accepted); author fields are single lines (no control characters, CR/LF included, nor U+2028/U+2029), so
//! a stored value can never forge a header, a log line or a second field when shown; `author.ip` must parse; the body
//! must not be blank.

use crate::domain::{AuthorRecord, Comment};
use crate::error::{Error, FieldViolation};
use crate::intake::Submission;
use crate::offsets::OffsetUnit;
use crate::pb;
use crate::store::{After, StreamId};

/// Collects violations for one request.
#[derive(Default)]
pub struct Violations(Vec<FieldViolation>);

impl Violations {
    pub fn add(&mut self, field: &str, description: impl Into<String>) {
        self.0.push(FieldViolation { field: field.into(), description: description.into() });
    }

    /// An identifier: required or not, at most `max` bytes, no control characters at all.
    pub fn id(&mut self, field: &str, value: &str, required: bool, max: usize) {
        if value.is_empty() {
            if required {
                self.add(field, "is required");
            }
        } else if value.len() > max {
            self.add(field, format!("must be at most {max} bytes"));
        } else if value.chars().any(char::is_control) {
            self.add(field, "must not contain control characters");
        }
    }

    /// Free text: at most `max` bytes, no C0 controls other than tab, CR and LF.
    pub fn text(&mut self, field: &str, value: &str, max: usize) {
        if value.len() > max {
            self.add(field, format!("must be at most {max} bytes"));
        }
        if value.chars().any(|c| c.is_ascii_control() && c != '\t' && c != '\r' && c != '\n' && c != '\u{7f}') {
            self.add(field, "must not contain control characters other than tab, CR and LF");
        }
    }

    /// A one-line value (author fields): at most `max` bytes, no control characters (CR and LF included) and no
    /// Unicode line or paragraph separator. Tab is accepted: HTTP allows it in a user agent.
    pub fn line(&mut self, field: &str, value: &str, max: usize) {
        if value.len() > max {
            self.add(field, format!("must be at most {max} bytes"));
        }
        if value.chars().any(|c| (c.is_control() && c != '\t') || matches!(c, '\u{2028}' | '\u{2029}')) {
            self.add(field, "must be one line: no CR, LF or other control characters");
        }
    }

    pub fn offset_unit(&mut self, field: &str, value: i32) -> OffsetUnit {
        match pb::OffsetEncoding::try_from(value) {
            Ok(pb::OffsetEncoding::Utf16) => OffsetUnit::Utf16,
            Ok(pb::OffsetEncoding::CodePoint) => OffsetUnit::CodePoint,
            Ok(_) => OffsetUnit::Utf8,
            Err(_) => {
                self.add(field, format!("unknown OffsetEncoding value {value}"));
                OffsetUnit::Utf8
            }
        }
    }

    /// A decision cursor: `""` (from now on), `"0"` (from the oldest retained) or `<ms>-<seq>` as this service
    /// returns them: two unsigned 64-bit decimals of ASCII digits only (no sign, space or other text), with `ms` at
    /// most [`MAX_CURSOR_AHEAD_MS`] past `now_ms`. Whatever passes is a position the store can always read after
    /// (`u64::MAX-u64::MAX`, which has no successor, is far past now), so a bad cursor is INVALID_ARGUMENT here and
    /// never a store error later.
    pub fn cursor(&mut self, field: &str, value: &str, now_ms: u64) -> Cursor {
        let number = |s: &str| -> Option<u64> {
            (!s.is_empty() && s.len() <= 20 && s.bytes().all(|b| b.is_ascii_digit())).then(|| s.parse().ok())?
        };
        let id = value.split_once('-').and_then(|(ms, seq)| Some(StreamId { ms: number(ms)?, seq: number(seq)? }));
        match (value, id) {
            ("", _) => Cursor::Latest,
            ("0", _) => Cursor::From(After::Start),
            (_, Some(id)) if id.ms <= now_ms.saturating_add(MAX_CURSOR_AHEAD_MS) => Cursor::From(After::Id(id)),
            (_, Some(_)) => {
                self.add(field, "is later than any position this service has returned");
                Cursor::Latest
            }
            (_, None) => {
                self.add(field, "is not a cursor returned by this service (\"\", \"0\" or <ms>-<seq>)");
                Cursor::Latest
            }
        }
    }

    pub fn finish(self) -> Result<(), Error> {
        if self.0.is_empty() { Ok(()) } else { Err(Error::InvalidArgument(self.0)) }
    }
}

/// Where a decision read starts, as the caller asked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cursor {
    /// `""`: from now on (after the newest event at the time of the call).
    Latest,
    From(After),
}

/// How far past the current time a cursor's milliseconds may be: stream ids are minted from the store's clock, so
/// this tolerates clock skew between replicas and Redis, not invented positions.
pub const MAX_CURSOR_AHEAD_MS: u64 = 86_400_000;

/// Body limit before the site is known; the site's own (smaller, default 16 KiB) limit is checked after auth.
pub const ABSOLUTE_MAX_BODY_BYTES: usize = 1024 * 1024;

/// A body is blank when it has nothing but whitespace and invisible format characters.
fn is_blank(body: &str) -> bool {
    body.chars().all(|c| c.is_whitespace() || is_format(c))
}

fn is_format(c: char) -> bool {
    matches!(c, '\u{200B}'..='\u{200F}' | '\u{202A}'..='\u{202E}' | '\u{2060}'..='\u{2064}' | '\u{2066}'..='\u{2069}'
        | '\u{FEFF}' | '\u{00AD}' | '\u{061C}' | '\u{180E}')
}

/// Validates a SubmitComment request and builds the submission. `now_ms` fills an absent `submitted_at`.
pub fn submit_request(req: pb::SubmitCommentRequest, now_ms: u64) -> Result<(Submission, OffsetUnit), Error> {
    let mut v = Violations::default();
    v.id("comment_id", &req.comment_id, true, 128);
    v.id("thread_id", &req.thread_id, true, 256);
    v.id("parent_comment_id", &req.parent_comment_id, false, 128);
    v.text("permalink", &req.permalink, 2048);
    v.id("language", &req.language, false, 35);
    if req.body.is_empty() {
        v.add("body", "is required");
    } else if req.body.len() > ABSOLUTE_MAX_BODY_BYTES {
        v.add("body", format!("must be at most {ABSOLUTE_MAX_BODY_BYTES} bytes"));
    } else {
        v.text("body", &req.body, ABSOLUTE_MAX_BODY_BYTES);
        if is_blank(&req.body) {
            v.add("body", "must not be blank");
        }
    }
    if pb::ContentFormat::try_from(req.format).is_err() {
        v.add("format", format!("unknown ContentFormat value {}", req.format));
    }
    let unit = v.offset_unit("offset_encoding", req.offset_encoding);
    let author = match &req.author {
        None => {
            v.add("author", "is required (author.ip at least)");
            AuthorRecord::default()
        }
        Some(a) => {
            if a.ip.is_empty() {
                v.add("author.ip", "is required");
            } else if a.ip.parse::<std::net::IpAddr>().is_err() {
                v.add("author.ip", "must be an IPv4 or IPv6 address");
            }
            v.id("author.account_id", &a.account_id, false, 128);
            v.line("author.display_name", &a.display_name, 256);
            v.line("author.email", &a.email, 320);
            v.line("author.website_url", &a.website_url, 2048);
            v.line("author.user_agent", &a.user_agent, 1024);
            AuthorRecord {
                account_id: a.account_id.clone(),
                display_name: a.display_name.clone(),
                email: a.email.clone(),
                website_url: a.website_url.clone(),
                ip: a.ip.clone(),
                user_agent: a.user_agent.clone(),
            }
        }
    };
    let signals = req.signals.as_ref().map(|s| {
        v.text("signals.referrer", &s.referrer, 2048);
        crate::domain::Signals { honeypot_filled: s.honeypot_filled, time_to_submit_ms: s.time_to_submit_ms }
    });
    let submitted_at_ms = match &req.submitted_at {
        None => now_ms,
        Some(ts) => match u64::try_from(ts.seconds) {
            Ok(secs) if (0..1_000_000_000).contains(&ts.nanos) && secs < 32_503_680_000 => {
                secs * 1000 + ts.nanos as u64 / 1_000_000
            }
            _ => {
                v.add("submitted_at", "must be a valid timestamp between 1970 and 3000");
                now_ms
            }
        },
    };
    v.finish()?;
    let sub = Submission {
        comment: Comment {
            comment_id: req.comment_id,
            thread_id: req.thread_id,
            parent_comment_id: req.parent_comment_id,
            permalink: req.permalink,
            language: req.language,
            author,
            body: req.body,
            submitted_at_ms,
        },
        signals: signals.unwrap_or_default(),
    };
    Ok((sub, unit))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn valid() -> pb::SubmitCommentRequest {
        pb::SubmitCommentRequest {
            comment_id: "c1".into(),
            thread_id: "t1".into(),
            author: Some(pb::Author { ip: "203.0.113.7".into(), ..Default::default() }),
            body: "Hello".into(),
            ..Default::default()
        }
    }

    fn fields(req: pb::SubmitCommentRequest) -> Vec<String> {
        match submit_request(req, 0) {
            Err(Error::InvalidArgument(v)) => v.into_iter().map(|v| v.field).collect(),
            other => panic!("expected INVALID_ARGUMENT, got {other:?}"),
        }
    }

    #[test]
    fn a_valid_request_passes() {
        let (sub, unit) = submit_request(valid(), 42).expect("valid");
        assert_eq!(sub.comment.submitted_at_ms, 42);
        assert_eq!(unit, OffsetUnit::Utf8);
    }

    #[test]
    fn every_violation_is_reported_with_its_field() {
        let req = pb::SubmitCommentRequest { format: 99, offset_encoding: 7, ..Default::default() };
        assert_eq!(fields(req), vec!["comment_id", "thread_id", "body", "format", "offset_encoding", "author"]);
    }

    #[test]
    fn body_rules() {
        let blank = pb::SubmitCommentRequest { body: " \u{200B}\n\t".into(), ..valid() };
        assert_eq!(fields(blank), vec!["body"]);
        let control = pb::SubmitCommentRequest { body: "a\u{0}b".into(), ..valid() };
        assert_eq!(fields(control), vec!["body"]);
        let bell = pb::SubmitCommentRequest { body: "ring\u{7}".into(), ..valid() };
        assert_eq!(fields(bell), vec!["body"]);
        let huge = pb::SubmitCommentRequest { body: "x".repeat(ABSOLUTE_MAX_BODY_BYTES + 1), ..valid() };
        assert_eq!(fields(huge), vec!["body"]);
        // Tabs, newlines, and format characters used in Urdu and Arabic are accepted.
        let urdu = pb::SubmitCommentRequest { body: "مرحبا\u{200C}\u{200F}\tok\r\n".into(), ..valid() };
        assert!(submit_request(urdu, 0).is_ok());
    }

    #[test]
    fn ip_and_author_rules() {
        let mut bad_ip = valid();
        bad_ip.author = Some(pb::Author { ip: "999.1.1.1".into(), ..Default::default() });
        assert_eq!(fields(bad_ip), vec!["author.ip"]);
        let mut v6 = valid();
        v6.author = Some(pb::Author { ip: "2001:db8::1".into(), ..Default::default() });
        assert!(submit_request(v6, 0).is_ok());
        let mut no_ip = valid();
        no_ip.author = Some(pb::Author::default());
        assert_eq!(fields(no_ip), vec!["author.ip"]);
    }

    #[test]
    fn author_fields_are_single_lines() {
        let mut crlf = valid();
        crlf.author = Some(pb::Author {
            ip: "203.0.113.7".into(),
            email: "a@example.com\r\nBcc: victim@example.com".into(),
            display_name: "Ali\nadmin".into(),
            website_url: "https://example.com/\u{2028}x".into(),
            user_agent: "UA\r".into(),
            ..Default::default()
        });
        assert_eq!(
            fields(crlf),
            vec!["author.display_name", "author.email", "author.website_url", "author.user_agent"]
        );
        let mut nel = valid();
        nel.author =
            Some(pb::Author { ip: "203.0.113.7".into(), email: "a@example.com\u{85}".into(), ..Default::default() });
        assert_eq!(fields(nel), vec!["author.email"]);
        let mut tab = valid();
        tab.author = Some(pb::Author {
            ip: "203.0.113.7".into(),
            user_agent: "Mozilla/5.0\t(X11)".into(),
            ..Default::default()
        });
        assert!(submit_request(tab, 0).is_ok());
    }

    #[test]
    fn cursors_are_strict_and_bounded() {
        let now = 1_700_000_000_000;
        let parse = |c: &str| {
            let mut v = Violations::default();
            let cursor = v.cursor("after_cursor", c, now);
            v.finish().map(|()| cursor)
        };
        assert_eq!(parse("").expect("now"), Cursor::Latest);
        assert_eq!(parse("0").expect("start"), Cursor::From(After::Start));
        let id = StreamId { ms: now, seq: u64::MAX };
        assert_eq!(parse(&id.to_string()).expect("an id"), Cursor::From(After::Id(id)));
        let ahead = format!("{}-0", now + MAX_CURSOR_AHEAD_MS);
        assert!(parse(&ahead).is_ok(), "skew within a day is tolerated");
        for bad in [
            "18446744073709551615-18446744073709551615",
            &format!("{}-0", now + MAX_CURSOR_AHEAD_MS + 1),
            "18446744073709551616-0",
            "+5-1",
            "5-+1",
            " 5-1",
            "5-1 ",
            "5",
            "5-",
            "-1",
            "5-1-2",
            "0x10-0",
            "bogus",
            "\u{0665}-0",
        ] {
            match parse(bad) {
                Err(Error::InvalidArgument(v)) => assert_eq!(v[0].field, "after_cursor", "{bad:?}"),
                other => panic!("{bad:?} must be INVALID_ARGUMENT, got {other:?}"),
            }
        }
    }

    #[test]
    fn ids_reject_controls_and_length() {
        let req = pb::SubmitCommentRequest { comment_id: "a\nb".into(), thread_id: "t".repeat(257), ..valid() };
        assert_eq!(fields(req), vec!["comment_id", "thread_id"]);
    }
}

//! From an HTTP error response (status, headers, body) to an [`Error`].

use std::time::SystemTime;

use reqwest::StatusCode;
use reqwest::header::{HeaderMap, LOCATION};
use serde_json::Value;

use super::snippet::{
    MAX_CODE_CHARS, MAX_MESSAGE_CHARS, MAX_SNIPPET_CHARS, excerpt, excerpt_bytes,
};
use super::{Error, ErrorKind, ResponseInfo};
use crate::headers::retry_after;

/// The most bytes of an error response body that are read.
pub(crate) const MAX_ERROR_BODY_BYTES: usize = 64 * 1024;

/// Statuses worth retrying: 408, 500, 502, 503, 504 (and 429, which has its own kind).
pub(crate) fn is_transient_status(status: StatusCode) -> bool {
    matches!(status.as_u16(), 408 | 429 | 500 | 502 | 503 | 504)
}

/// Reads at most `limit` bytes of the body. A body that breaks off is kept as far as it came:
/// this is for error bodies, which are informative, not essential.
pub(crate) async fn read_bounded(response: &mut reqwest::Response, limit: usize) -> Vec<u8> {
    let mut body = Vec::new();
    while body.len() < limit {
        match response.chunk().await {
            Ok(Some(chunk)) => {
                let room = limit - body.len();
                body.extend_from_slice(&chunk[..chunk.len().min(room)]);
            }
            Ok(None) | Err(_) => break,
        }
    }
    body
}

impl Error {
    /// The error an HTTP response with a non-success `status` stands for.
    ///
    /// The body is expected in the ledger's shape, `{"error": {"code": "..", "message":
    /// ".."}}` (a bare `{"code", "message"}` is accepted too); anything else (HTML from a
    /// gateway, truncated JSON, binary) is kept as a short redacted excerpt in the message.
    /// The `x-ms-ccf-transaction-id` and `Retry-After` headers are read too. Never fails and
    /// never panics, whatever the body.
    ///
    /// Use it with the raw generated client, or with your own requests to a ledger.
    ///
    /// # Examples
    ///
    /// ```
    /// use confidential_ledger::{Error, ErrorKind};
    /// use reqwest::header::HeaderMap;
    /// use reqwest::StatusCode;
    ///
    /// let mut headers = HeaderMap::new();
    /// headers.insert("retry-after", "3".parse().unwrap());
    /// let err = Error::from_parts(StatusCode::TOO_MANY_REQUESTS, &headers, b"<html>busy</html>");
    /// assert_eq!(
    ///     err.kind(),
    ///     &ErrorKind::Throttled { retry_after: Some(std::time::Duration::from_secs(3)) }
    /// );
    /// assert!(err.is_retryable());
    /// assert!(err.to_string().contains("<html>busy</html>"));
    /// ```
    pub fn from_parts(status: StatusCode, headers: &HeaderMap, body: &[u8]) -> Self {
        Self::from_parts_at(status, headers, body, SystemTime::now())
    }

    /// [`from_parts`](Self::from_parts), with `now` for `Retry-After` dates.
    pub(crate) fn from_parts_at(
        status: StatusCode,
        headers: &HeaderMap,
        body: &[u8],
        now: SystemTime,
    ) -> Self {
        let parsed = parse_body(body);
        let info = ResponseInfo {
            status,
            code: parsed.code,
            message: parsed.message,
            body: parsed.unrecognised,
            transaction_id: headers
                .get(crate::headers::TRANSACTION_ID)
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.trim().parse().ok()),
            retry_after: retry_after(headers, now),
        };
        let kind = kind_of(&info, headers);
        Self::build(kind, None, Some(info))
    }

    /// The error a non-success response stands for, reading (at most 64 KiB of) its body.
    ///
    /// See [`from_parts`](Self::from_parts).
    pub async fn from_response(response: reqwest::Response) -> Self {
        Self::from_response_at(response, SystemTime::now()).await
    }

    pub(crate) async fn from_response_at(mut response: reqwest::Response, now: SystemTime) -> Self {
        let body = read_bounded(&mut response, MAX_ERROR_BODY_BYTES).await;
        Self::from_parts_at(response.status(), response.headers(), &body, now)
    }
}

/// The error code of a write rolled back before its commit (2026-07-31-preview).
const TRANSACTION_ROLLED_BACK: &str = "TransactionRolledBack";

fn kind_of(info: &ResponseInfo, headers: &HeaderMap) -> ErrorKind {
    let status = info.status;
    if info.code.as_deref() == Some("ApiVersionRedirect")
        || (status == StatusCode::MOVED_PERMANENTLY && !headers.contains_key(LOCATION))
    {
        return ErrorKind::ApiVersionRedirect;
    }
    if status == StatusCode::SERVICE_UNAVAILABLE
        && info.code.as_deref() == Some(TRANSACTION_ROLLED_BACK)
    {
        return ErrorKind::TransactionRolledBack;
    }
    match status {
        StatusCode::UNAUTHORIZED => ErrorKind::Unauthorized,
        StatusCode::FORBIDDEN => ErrorKind::Forbidden { principal: None },
        StatusCode::NOT_FOUND => ErrorKind::NotFound,
        StatusCode::CONFLICT => ErrorKind::Conflict,
        StatusCode::TOO_MANY_REQUESTS => ErrorKind::Throttled {
            retry_after: info.retry_after,
        },
        _ => ErrorKind::Service {
            status,
            code: info.code.clone(),
            message: info.message.clone(),
        },
    }
}

#[derive(Debug, Default, PartialEq)]
struct ParsedBody {
    code: Option<String>,
    message: Option<String>,
    /// An excerpt of a non-empty body that is not in the ledger's error shape.
    unrecognised: Option<String>,
}

fn parse_body(body: &[u8]) -> ParsedBody {
    let text = String::from_utf8_lossy(body);
    if text.trim().is_empty() {
        return ParsedBody::default();
    }
    let value: Option<Value> = serde_json::from_slice(body).ok();
    let error = value.as_ref().map(|v| match v.get("error") {
        Some(inner @ Value::Object(_)) => inner,
        _ => v,
    });
    let field = |name: &str, max: usize| {
        error
            .and_then(|e| e.get(name))
            .and_then(scalar)
            .map(|s| excerpt(&s, max))
            .filter(|s| !s.trim().is_empty())
    };
    let mut parsed = ParsedBody {
        code: field("code", MAX_CODE_CHARS),
        message: field("message", MAX_MESSAGE_CHARS),
        unrecognised: None,
    };
    // `{"error": "text"}`: a message without a code.
    if parsed.message.is_none()
        && let Some(Value::String(message)) = value.as_ref().and_then(|v| v.get("error"))
    {
        parsed.message = Some(excerpt(message, MAX_MESSAGE_CHARS));
    }
    if parsed.code.is_none() && parsed.message.is_none() {
        parsed.unrecognised = Some(excerpt_bytes(body, MAX_SNIPPET_CHARS));
    }
    parsed
}

/// A JSON string, number or boolean as text.
fn scalar(value: &Value) -> Option<String> {
    match value {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::TransactionId;
    use crate::headers::TRANSACTION_ID_HEADER;
    use std::time::Duration;

    fn map(status: u16, body: &str) -> Error {
        Error::from_parts(
            StatusCode::from_u16(status).unwrap(),
            &HeaderMap::new(),
            body.as_bytes(),
        )
    }

    fn ledger_body(code: &str, message: &str) -> String {
        format!(r#"{{"error":{{"code":"{code}","message":"{message}"}}}}"#)
    }

    #[test]
    fn every_status_class_has_its_kind() {
        let cases: [(u16, &str, ErrorKind); 6] = [
            (401, "Unauthorized", ErrorKind::Unauthorized),
            (403, "NotAllowed", ErrorKind::Forbidden { principal: None }),
            (404, "UnknownLedgerEntry", ErrorKind::NotFound),
            (409, "Conflict", ErrorKind::Conflict),
            (
                429,
                "TooManyRequests",
                ErrorKind::Throttled { retry_after: None },
            ),
            (301, "ApiVersionRedirect", ErrorKind::ApiVersionRedirect),
        ];
        for (status, code, kind) in cases {
            let err = map(status, &ledger_body(code, "m"));
            assert_eq!(err.kind(), &kind, "{status}");
            assert_eq!(err.error_code(), Some(code));
            assert_eq!(err.service_message(), Some("m"));
            assert_eq!(err.status().map(|s| s.as_u16()), Some(status));
        }
        let err = map(503, &ledger_body("TransactionRolledBack", "rolled back"));
        assert_eq!(err.kind(), &ErrorKind::TransactionRolledBack);
        assert!(
            !err.is_retryable(),
            "a rolled-back write is not retried blindly"
        );
        assert_eq!(
            map(503, &ledger_body("ServiceUnavailable", "busy")).kind(),
            &ErrorKind::Service {
                status: StatusCode::SERVICE_UNAVAILABLE,
                code: Some("ServiceUnavailable".into()),
                message: Some("busy".into())
            }
        );
        let err = map(400, &ledger_body("InvalidQueryParameterValue", "bad tag"));
        assert_eq!(
            err.kind(),
            &ErrorKind::Service {
                status: StatusCode::BAD_REQUEST,
                code: Some("InvalidQueryParameterValue".into()),
                message: Some("bad tag".into())
            }
        );
        assert!(!err.is_retryable());
    }

    #[test]
    fn transient_statuses_are_retryable() {
        for status in [408, 429, 500, 502, 503, 504] {
            assert!(map(status, "").is_retryable(), "{status}");
        }
        for status in [400, 401, 403, 404, 409, 412, 501, 505] {
            assert!(!map(status, "").is_retryable(), "{status}");
        }
    }

    #[test]
    fn a_301_without_location_is_an_api_version_redirect_even_without_a_code() {
        assert_eq!(map(301, "").kind(), &ErrorKind::ApiVersionRedirect);
        let mut headers = HeaderMap::new();
        headers.insert(LOCATION, "https://elsewhere/".parse().unwrap());
        let err = Error::from_parts(StatusCode::MOVED_PERMANENTLY, &headers, b"");
        assert!(matches!(err.kind(), ErrorKind::Service { .. }));
    }

    #[test]
    fn headers_give_the_transaction_id_and_retry_after() {
        let mut headers = HeaderMap::new();
        headers.insert(TRANSACTION_ID_HEADER, "7.1024".parse().unwrap());
        headers.insert("x-ms-retry-after-ms", "1500".parse().unwrap());
        let err = Error::from_parts(StatusCode::SERVICE_UNAVAILABLE, &headers, b"");
        assert_eq!(err.transaction_id(), Some(TransactionId::new(7, 1024)));
        assert_eq!(err.retry_after(), Some(Duration::from_millis(1500)));
        assert!(err.to_string().contains("transaction 7.1024"), "{err}");
        headers.insert(TRANSACTION_ID_HEADER, "garbage".parse().unwrap());
        let err = Error::from_parts(StatusCode::SERVICE_UNAVAILABLE, &headers, b"");
        assert_eq!(err.transaction_id(), None);
    }

    #[test]
    fn garbage_bodies_never_fail_and_are_excerpted() {
        let long_html = format!("<html><body>{}</body></html>", "Bad gateway ".repeat(100));
        let deep = "[".repeat(10_000);
        let bodies: Vec<&[u8]> = vec![
            b"",
            b"   ",
            b"not json",
            b"{\"error\":",
            b"{\"error\":{\"code\":{\"nested\":1},\"message\":[1,2]}}",
            b"null",
            b"42",
            b"\xff\xfe\x00binary",
            long_html.as_bytes(),
            deep.as_bytes(),
        ];
        for body in bodies {
            let err = Error::from_parts(StatusCode::BAD_GATEWAY, &HeaderMap::new(), body);
            assert_eq!(err.status(), Some(StatusCode::BAD_GATEWAY));
            assert_eq!(err.error_code(), None);
            let text = err.to_string();
            assert!(
                text.starts_with("the ledger answered with an error (HTTP 502"),
                "{text}"
            );
            assert!(text.len() < 600, "{text}");
        }
        let err = Error::from_parts(StatusCode::BAD_GATEWAY, &HeaderMap::new(), b"not json");
        assert_eq!(
            err.to_string(),
            "the ledger answered with an error (HTTP 502 Bad Gateway, unexpected body \"not json\")"
        );
    }

    #[test]
    fn other_shapes_are_understood() {
        let bare = map(500, r#"{"code":"InternalError","message":"boom"}"#);
        assert_eq!(bare.error_code(), Some("InternalError"));
        assert_eq!(bare.service_message(), Some("boom"));
        let text_error = map(500, r#"{"error":"boom"}"#);
        assert_eq!(text_error.error_code(), None);
        assert_eq!(text_error.service_message(), Some("boom"));
        let numeric = map(500, r#"{"error":{"code":5,"message":"m"}}"#);
        assert_eq!(numeric.error_code(), Some("5"));
        let only_code = map(404, r#"{"error":{"code":"InvalidTransactionId"}}"#);
        assert_eq!(only_code.error_code(), Some("InvalidTransactionId"));
        assert_eq!(only_code.service_message(), None);
    }

    #[test]
    fn server_text_is_bounded_and_redacted() {
        let message = format!("token Bearer eyJabc.eyJdef.sig {}", "x".repeat(5000));
        let body = serde_json::json!({"error": {"code": "C".repeat(1000), "message": message}});
        let err = map(500, &body.to_string());
        assert_eq!(
            err.error_code().unwrap().chars().count(),
            MAX_CODE_CHARS + 1
        );
        let shown = err.service_message().unwrap();
        assert!(shown.starts_with("token Bearer [redacted] xxx"), "{shown}");
        assert_eq!(shown.chars().count(), MAX_MESSAGE_CHARS + 1);
        assert!(!err.to_string().contains("eyJabc"));
    }

    /// The input the `error_from_parts` fuzz target found: a body echoing `bearer  Bearer
    /// <credential>` showed the credential.
    #[test]
    fn a_doubled_bearer_keyword_in_a_body_is_redacted() {
        let body = "{\"erro bearer  Bearer Pl4nted-S3cret.Token~value\" n is l403\nconidAutt";
        let err = map(401, body);
        let shown = format!("{err} {err:?}");
        assert!(!shown.contains("Pl4nted"), "{shown}");
        assert!(shown.contains("Bearer [redacted]"), "{shown}");
        let err = map(
            500,
            &ledger_body("Upstream", "got Bearer Bearer Pl4nted-S3cret"),
        );
        assert_eq!(err.service_message(), Some("got Bearer Bearer [redacted]"));
        // The second input it found: the keyword behind `=`, inside the first credential.
        let body = b"tee:0)on/js135\n\n{\"ealid\x8b\0\0ica4!00nte bearer \t\t\t\t=Bearer Pl4nted-S3cret.Token~value,\t\t\t\"[: ap300";
        let err = Error::from_parts(StatusCode::INTERNAL_SERVER_ERROR, &HeaderMap::new(), body);
        let shown = format!("{err} {err:?}");
        assert!(!shown.contains("Pl4nted"), "{shown}");
    }
}

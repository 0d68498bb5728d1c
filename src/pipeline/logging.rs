//! Tracing: a span per operation, events per attempt, secrets never shown.
//!
//! Every [`Pipeline::send`](super::Pipeline::send) runs in an `INFO` span named
//! `ledger_operation` with the fields `operation_id`, `method` and `transaction_id` (from the
//! `x-ms-ccf-transaction-id` header of the final answer, recorded when the operation ends).
//! Each attempt runs in a child span `ledger_attempt` with the field `attempt` (from 1), in
//! which, at `DEBUG`, it logs its request (method, URL, headers), the response (status,
//! headers, elapsed time) and every redirect followed. Retries are logged at `INFO`, refused
//! redirects at `WARN`, and the outcome of the operation at `DEBUG` ("operation succeeded" or
//! "operation failed", with the number of attempts). Events use the target
//! `confidential_ledger::pipeline`.
//!
//! # Bodies
//!
//! Request and response bodies are logged only when asked for, on the pipeline
//! ([`PipelineOptions::logging_enable`](super::PipelineOptions::logging_enable)) or on the call
//! ([`OperationContext::logging_enable`](super::OperationContext::logging_enable)), and only when
//! `DEBUG` is enabled; at most
//! [`PipelineOptions::max_logged_body_bytes`](super::PipelineOptions::max_logged_body_bytes)
//! of each. A response body that is logged is read into memory first (the response handed on
//! holds the whole body); otherwise it streams as usual.
//!
//! # Redaction
//!
//! Headers are logged from an allow-list of headers known to carry no secrets (content type
//! and length, dates, `Location`, `Retry-After`, request and transaction ids, user agent...).
//! Every other header, `Authorization`, `Proxy-Authorization`, `Cookie` and `Set-Cookie`
//! included, is logged as `REDACTED`. Logged bodies and URLs have anything following `Bearer`
//! and anything shaped like a JSON Web Token replaced by `[redacted]`.

use std::fmt;
use std::time::{Duration, Instant};

use reqwest::header::HeaderMap;
use tracing::{Level, Span};

use super::{CLIENT_REQUEST_ID_HEADER, OperationContext};
use crate::error::{excerpt, redact};

/// Headers whose values are logged as they are; all others are `REDACTED`.
const LOGGED_HEADERS: &[&str] = &[
    "accept",
    "accept-encoding",
    "cache-control",
    "connection",
    "content-encoding",
    "content-length",
    "content-type",
    "date",
    "etag",
    "expires",
    "last-modified",
    "location",
    "pragma",
    "retry-after",
    "retry-after-ms",
    "server",
    "traceparent",
    "transfer-encoding",
    "user-agent",
    "vary",
    "x-ms-ccf-transaction-id",
    "x-ms-client-request-id",
    "x-ms-request-id",
    "x-ms-retry-after-ms",
];

/// Headers as `name: value` pairs, with values outside the allow-list shown as `REDACTED`.
pub(crate) struct RedactedHeaders<'a>(pub(crate) &'a HeaderMap);

impl fmt::Display for RedactedHeaders<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("{")?;
        for (i, (name, value)) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str(", ")?;
            }
            // The client request id is marked sensitive only to keep it out of HTTP/2's header
            // table (see `request_id::header_value`); it is no secret.
            let logged = (!value.is_sensitive() || name == CLIENT_REQUEST_ID_HEADER)
                && LOGGED_HEADERS.contains(&name.as_str());
            if logged {
                let text = String::from_utf8_lossy(value.as_bytes());
                write!(f, "{name}: {}", redact(&text))?;
            } else {
                write!(f, "{name}: REDACTED")?;
            }
        }
        f.write_str("}")
    }
}

/// When an operation or attempt began, for the `elapsed_ms` of its `DEBUG` events: the clock
/// is read only when those events are wanted (a call logged at `INFO` or not at all skips it).
#[derive(Debug, Clone, Copy)]
pub(crate) struct Stopwatch(Option<Instant>);

impl Stopwatch {
    /// Started now, if `DEBUG` events of the pipeline are enabled.
    pub(crate) fn start() -> Self {
        let wanted = tracing::enabled!(target: "confidential_ledger::pipeline", Level::DEBUG);
        Self(wanted.then(Instant::now))
    }

    /// The time since [`start`](Self::start) (zero if the clock was not read).
    fn elapsed(self) -> Duration {
        self.0.map(|started| started.elapsed()).unwrap_or_default()
    }
}

/// The span of one operation.
pub(crate) fn operation_span(
    op: &OperationContext,
    method: &reqwest::Method,
    client_request_id: &str,
) -> Span {
    tracing::info_span!(
        target: "confidential_ledger::pipeline",
        "ledger_operation",
        operation_id = %op.operation_id(),
        method = %method,
        client_request_id = %client_request_id,
        transaction_id = tracing::field::Empty,
    )
}

/// The span of one attempt (number `attempt`, from 1) inside an operation's span.
pub(crate) fn attempt_span(attempt: u32) -> Span {
    tracing::info_span!(target: "confidential_ledger::pipeline", "ledger_attempt", attempt)
}

/// Records how an operation ended on its span (the transaction id) and logs it.
pub(crate) fn finished(
    result: &Result<super::body::Answer, crate::Error>,
    attempts: u32,
    started: Stopwatch,
) {
    let span = Span::current();
    match result {
        Ok(super::body::Answer { response, .. }) => {
            // Parsed only for a span that records it (none without a subscriber that wants it).
            let id = (!span.is_disabled())
                .then(|| response.headers().get(crate::headers::TRANSACTION_ID))
                .flatten()
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.trim().parse::<crate::TransactionId>().ok());
            if let Some(id) = id {
                span.record("transaction_id", tracing::field::display(id));
            }
            tracing::debug!(
                target: "confidential_ledger::pipeline",
                status = response.status().as_u16(),
                attempts,
                elapsed_ms = started.elapsed().as_millis(),
                "operation succeeded"
            );
        }
        Err(err) => {
            if let Some(id) = err.transaction_id() {
                span.record("transaction_id", tracing::field::display(id));
            }
            tracing::debug!(
                target: "confidential_ledger::pipeline",
                attempts,
                elapsed_ms = started.elapsed().as_millis(),
                error = %err,
                "operation failed"
            );
        }
    }
}

/// Whether bodies are logged for this call.
pub(crate) fn bodies_enabled(requested: bool) -> bool {
    requested && tracing::enabled!(target: "confidential_ledger::pipeline", Level::DEBUG)
}

fn body_text(bytes: &[u8], max_bytes: usize) -> String {
    let shown = &bytes[..bytes.len().min(max_bytes)];
    let mut text = excerpt(&String::from_utf8_lossy(shown), usize::MAX);
    if bytes.len() > max_bytes {
        text.push_str(&format!("… ({} bytes in all)", bytes.len()));
    }
    text
}

/// Logs a request about to be sent.
pub(crate) fn request(request: &reqwest::Request, bodies: bool, max_body_bytes: usize) {
    // Redacting the URL costs an allocation and a scan: only when the event is wanted.
    if !tracing::enabled!(target: "confidential_ledger::pipeline", Level::DEBUG) {
        return;
    }
    let url = redact(request.url().as_str());
    let headers = RedactedHeaders(request.headers());
    if bodies_enabled(bodies) {
        let body = match request.body() {
            None => String::new(),
            Some(body) => match body.as_bytes() {
                Some(bytes) => body_text(bytes, max_body_bytes),
                None => "(streamed)".to_owned(),
            },
        };
        tracing::debug!(
            target: "confidential_ledger::pipeline",
            method = %request.method(), url = %url, headers = %headers, body = %body,
            "request"
        );
    } else {
        tracing::debug!(
            target: "confidential_ledger::pipeline",
            method = %request.method(), url = %url, headers = %headers,
            "request"
        );
    }
}

/// Logs a response's status and headers.
pub(crate) fn response_head(response: &reqwest::Response, started: Stopwatch) {
    tracing::debug!(
        target: "confidential_ledger::pipeline",
        status = response.status().as_u16(),
        headers = %RedactedHeaders(response.headers()),
        elapsed_ms = started.elapsed().as_millis(),
        "response"
    );
}

/// Logs a success response's body (already read), when bodies are enabled.
pub(crate) fn success_body(body: &[u8], bodies: bool, max_body_bytes: usize) {
    if bodies_enabled(bodies) {
        tracing::debug!(
            target: "confidential_ledger::pipeline",
            body = %body_text(body, max_body_bytes),
            "response body"
        );
    }
}

/// Logs an error response's body (already read for mapping), when bodies are enabled.
pub(crate) fn error_body(body: &[u8], bodies: bool, max_body_bytes: usize) {
    if bodies_enabled(bodies) {
        tracing::debug!(
            target: "confidential_ledger::pipeline",
            body = %body_text(body, max_body_bytes),
            "error response body"
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use reqwest::header::HeaderValue;

    #[test]
    fn only_allow_listed_headers_show_their_values() {
        let mut headers = HeaderMap::new();
        headers.insert("content-type", HeaderValue::from_static("application/json"));
        headers.insert("authorization", HeaderValue::from_static("Bearer abc"));
        headers.insert("proxy-authorization", HeaderValue::from_static("Basic abc"));
        headers.insert("cookie", HeaderValue::from_static("session=abc"));
        headers.insert("set-cookie", HeaderValue::from_static("session=abc"));
        headers.insert("x-api-key", HeaderValue::from_static("abc"));
        headers.insert("x-ms-ccf-transaction-id", HeaderValue::from_static("2.15"));
        let mut sensitive = HeaderValue::from_static("abc");
        sensitive.set_sensitive(true);
        headers.insert("user-agent", sensitive);
        let shown = RedactedHeaders(&headers).to_string();
        assert!(!shown.contains("abc"), "{shown}");
        assert!(shown.contains("content-type: application/json"), "{shown}");
        assert!(shown.contains("x-ms-ccf-transaction-id: 2.15"), "{shown}");
        assert!(shown.contains("authorization: REDACTED"), "{shown}");
        assert!(shown.contains("user-agent: REDACTED"), "{shown}");
    }

    #[test]
    fn the_client_request_id_is_shown_though_kept_out_of_the_header_table() {
        let mut headers = HeaderMap::new();
        let id = crate::pipeline::request_id::header_value(&"case-42".into()).unwrap();
        assert!(id.is_sensitive());
        headers.insert(CLIENT_REQUEST_ID_HEADER, id);
        let shown = RedactedHeaders(&headers).to_string();
        assert!(shown.contains("x-ms-client-request-id: case-42"), "{shown}");
    }

    #[test]
    fn bodies_are_cut_and_redacted() {
        assert_eq!(body_text(b"hello", 10), "hello");
        assert_eq!(body_text(b"hello world", 5), "hello… (11 bytes in all)");
        assert_eq!(
            body_text(b"token: Bearer xyz", 100),
            "token: Bearer [redacted]"
        );
    }
}

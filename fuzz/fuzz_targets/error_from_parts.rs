//! Response decoding into errors (`Error::from_parts`).
//!
//! Input: `<status>\n<name>: <value>\n...\n\n<body>` (lines that are not headers are
//! skipped; a status outside 100-999 falls back to 500), then a credential is planted in the
//! body at a position and in a form the input chooses.
//!
//! Properties: mapping and every accessor never panic; the error keeps the status; the error
//! code and message are bounded; `Retry-After` is at most a year; and the planted credential
//! (a bearer token or a JWT at a word boundary) never shows in `Display` or `Debug`.
#![no_main]

use std::time::Duration;

use confidential_ledger::Error;
use http::StatusCode;
use http::header::{HeaderMap, HeaderName, HeaderValue};
use libfuzzer_sys::fuzz_target;

/// The planted secrets: distinctive, so finding them in the output is never a coincidence.
const JWT_SECRET: &str = "eyJhbGciOiJFUzI1NiJ9.eyJzZWNyZXQiOiJwbGFudGVkIn0.cGxhbnRlZHNpZw";
const JWT_MARK: &str = "eyJzZWNyZXQiOiJwbGFudGVkIn0";
const BEARER_SECRET: &str = "Pl4nted-S3cret.Token~value";

fn parse(data: &[u8]) -> (StatusCode, HeaderMap, Vec<u8>) {
    let text_end = data
        .windows(2)
        .position(|w| w == b"\n\n")
        .unwrap_or(data.len());
    let head = String::from_utf8_lossy(&data[..text_end]);
    let body = data.get(text_end + 2..).unwrap_or_default().to_vec();
    let mut lines = head.lines();
    let status = lines
        .next()
        .and_then(|l| l.trim().parse::<u16>().ok())
        .and_then(|s| StatusCode::from_u16(s).ok())
        .unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let mut headers = HeaderMap::new();
    for line in lines {
        let Some((name, value)) = line.split_once(':') else {
            continue;
        };
        if let (Ok(name), Ok(value)) = (
            HeaderName::from_bytes(name.trim().as_bytes()),
            HeaderValue::from_bytes(value.trim().as_bytes()),
        ) {
            headers.append(name, value);
        }
    }
    (status, headers, body)
}

fuzz_target!(|data: &[u8]| {
    // The last two bytes choose where and how to plant the credential.
    let (data, plant) = match data {
        [rest @ .., position, how] => (rest, Some((*position, *how))),
        _ => (data, None),
    };
    let (status, headers, mut body) = parse(data);
    let mut planted = None;
    if let Some((position, how)) = plant {
        let at = usize::from(position) * body.len() / 256;
        // Insert between two characters, never inside a multi-byte one.
        let at = (at..=body.len())
            .find(|&i| i == body.len() || (body[i] & 0xc0) != 0x80)
            .unwrap_or(body.len());
        let before = [b' ', b'"', b':', b',', b'=', b'\'', b'\t', b'('][usize::from(how & 7)];
        let after = [b' ', b'"', b',', b')'][usize::from((how >> 3) & 3)];
        let (secret, mark) = if how & 0x20 == 0 {
            (JWT_SECRET.to_string(), JWT_MARK)
        } else {
            (format!("Bearer {BEARER_SECRET}"), BEARER_SECRET)
        };
        let mut inserted = vec![before];
        inserted.extend_from_slice(secret.as_bytes());
        inserted.push(after);
        body.splice(at..at, inserted);
        planted = Some(mark);
    }

    let error = Error::from_parts(status, &headers, &body);
    assert_eq!(error.status(), Some(status));
    let _ = (
        error.kind(),
        error.transaction_id(),
        error.operation(),
        error.is_retryable(),
        error.is_not_found(),
        error.is_timeout(),
        error.is_throttled(),
        error.is_outcome_unknown(),
        error.is_connect(),
        error.pin_mismatch(),
    );
    if let Some(code) = error.error_code() {
        assert!(code.chars().count() <= 129, "code too long: {}", code.len());
    }
    if let Some(message) = error.service_message() {
        assert!(
            message.chars().count() <= 1025,
            "message too long: {}",
            message.len()
        );
    }
    if let Some(after) = error.retry_after() {
        assert!(after <= Duration::from_secs(365 * 24 * 60 * 60));
    }
    let shown = format!("{error} {error:?}");
    if let Some(mark) = planted {
        assert!(
            !shown.contains(mark),
            "the planted credential leaked: {shown}"
        );
    }
});

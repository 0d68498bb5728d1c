//! The faults the proxy can inflict on one request.

use std::time::Duration;

/// What the proxy does to one request instead of (or before) passing it through.
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use faultproxy::Fault;
///
/// let throttled = Fault::status(429).retry_after(Duration::from_secs(2));
/// assert_eq!(throttled, Fault::Status { status: 429, retry_after: Some(Duration::from_secs(2)) });
/// assert_eq!(Fault::unavailable().retry_after(Duration::from_millis(1500)).to_string(),
///            "status 503 (Retry-After 2 s)");
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Fault {
    /// Read the whole request, then reset the client's connection (TCP RST, `SO_LINGER` 0).
    /// The request never reaches the server: for a write, nothing was written.
    ResetBeforeForward,
    /// Forward the request, read the server's whole answer, then reset the client's connection
    /// instead of answering. The server executed the request; the client cannot know it.
    ResetAfterResponse,
    /// Wait this long, then forward the request normally.
    Delay(Duration),
    /// Answer `status` in the service's error shape (`{"error": {"code", "message"}}`) without
    /// forwarding the request; the connection stays open.
    Status {
        /// An HTTP error status (400-599), typically 503 or 429.
        status: u16,
        /// Sent as `Retry-After` in whole seconds, rounded up.
        retry_after: Option<Duration>,
    },
    /// Forward the request and read the server's whole answer, then discard it and answer
    /// `status` in the service's error shape instead: the server executed the request (a
    /// write was applied), the client sees an error such as `500`, `503` or `504`. The
    /// connection stays open.
    StatusAfterForward {
        /// An HTTP error status (400-599).
        status: u16,
    },
    /// Forward the request and relay the server's status and headers (its
    /// `x-ms-ccf-transaction-id` included, and the full `Content-Length`), but only the first
    /// half of its body; then close the connection. The server executed the request; the client
    /// has the head and a cut body.
    CutBody,
    /// Forward the request, read the server's whole answer, then hold it for this long and
    /// reset the connection without answering: a black hole after the server executed the
    /// request. A client whose timeout is shorter gives up first.
    HoldAfterForward(Duration),
    /// Forward the request and relay the server's answer with one character changed: the JSON
    /// string at this JSON pointer (RFC 6901, e.g. `/receipt/leafComponents/writeSetDigest`)
    /// gets its last character replaced (`0` by `1`, anything else by `0`), as a corrupted or
    /// forged answer would. An answer without a string there (not JSON, another shape, a
    /// `Loading` answer) is relayed unchanged and counted as passed through.
    TamperJson(&'static str),
}

impl Fault {
    /// An error answer with `status` and no `Retry-After`.
    pub fn status(status: u16) -> Fault {
        Fault::Status {
            status,
            retry_after: None,
        }
    }

    /// `503 Service Unavailable`.
    pub fn unavailable() -> Fault {
        Fault::status(503)
    }

    /// `429 Too Many Requests`.
    pub fn throttled() -> Fault {
        Fault::status(429)
    }

    /// The same error answer with `Retry-After`; other faults are returned unchanged.
    #[must_use]
    pub fn retry_after(self, after: Duration) -> Fault {
        match self {
            Fault::Status { status, .. } => Fault::Status {
                status,
                retry_after: Some(after),
            },
            other => other,
        }
    }

    /// [`Fault::StatusAfterForward`]: the server executes the request, the client gets
    /// `status`.
    pub fn status_after_forward(status: u16) -> Fault {
        Fault::StatusAfterForward { status }
    }

    /// The kind of fault, without its parameters.
    pub fn kind(&self) -> FaultKind {
        match self {
            Fault::ResetBeforeForward => FaultKind::ResetBeforeForward,
            Fault::ResetAfterResponse => FaultKind::ResetAfterResponse,
            Fault::Delay(_) => FaultKind::Delay,
            Fault::Status { .. } => FaultKind::Status,
            Fault::StatusAfterForward { .. } => FaultKind::StatusAfterForward,
            Fault::CutBody => FaultKind::CutBody,
            Fault::HoldAfterForward(_) => FaultKind::HoldAfterForward,
            Fault::TamperJson(_) => FaultKind::TamperJson,
        }
    }

    /// True when the request reaches the server despite the fault.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// use faultproxy::Fault;
    ///
    /// assert!(Fault::status_after_forward(503).forwards());
    /// assert!(Fault::CutBody.forwards());
    /// assert!(Fault::HoldAfterForward(Duration::from_secs(1)).forwards());
    /// assert!(Fault::TamperJson("/receipt/signature").forwards());
    /// assert!(!Fault::unavailable().forwards());
    /// ```
    pub fn forwards(&self) -> bool {
        matches!(
            self,
            Fault::ResetAfterResponse
                | Fault::Delay(_)
                | Fault::StatusAfterForward { .. }
                | Fault::CutBody
                | Fault::HoldAfterForward(_)
                | Fault::TamperJson(_)
        )
    }
}

/// `Retry-After` in whole seconds, rounded up.
pub(crate) fn retry_after_seconds(after: Duration) -> u64 {
    after.as_secs() + u64::from(after.subsec_nanos() > 0)
}

impl std::fmt::Display for Fault {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Fault::ResetBeforeForward => f.write_str("reset before forwarding"),
            Fault::ResetAfterResponse => f.write_str("reset after the response"),
            Fault::Delay(d) => write!(f, "delay {d:?}"),
            Fault::Status {
                status,
                retry_after: None,
            } => write!(f, "status {status}"),
            Fault::Status {
                status,
                retry_after: Some(after),
            } => write!(
                f,
                "status {status} (Retry-After {} s)",
                retry_after_seconds(*after)
            ),
            Fault::StatusAfterForward { status } => {
                write!(f, "status {status} after forwarding")
            }
            Fault::CutBody => f.write_str("body cut after the headers"),
            Fault::HoldAfterForward(d) => write!(f, "held {d:?} after forwarding, then reset"),
            Fault::TamperJson(pointer) => write!(f, "answer tampered at {pointer}"),
        }
    }
}

/// The kinds of [`Fault`], for counting.
///
/// # Examples
///
/// ```
/// use faultproxy::{Fault, FaultKind};
///
/// assert_eq!(Fault::throttled().kind(), FaultKind::Status);
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum FaultKind {
    /// [`Fault::ResetBeforeForward`].
    ResetBeforeForward,
    /// [`Fault::ResetAfterResponse`].
    ResetAfterResponse,
    /// [`Fault::Delay`].
    Delay,
    /// [`Fault::Status`].
    Status,
    /// [`Fault::StatusAfterForward`].
    StatusAfterForward,
    /// [`Fault::CutBody`].
    CutBody,
    /// [`Fault::HoldAfterForward`].
    HoldAfterForward,
    /// [`Fault::TamperJson`].
    TamperJson,
}

/// `body` with the last character of the JSON string at `pointer` changed, or `None` when the
/// body is not JSON or has no non-empty string there.
pub(crate) fn tamper_json(body: &[u8], pointer: &str) -> Option<Vec<u8>> {
    let mut value: serde_json::Value = serde_json::from_slice(body).ok()?;
    let serde_json::Value::String(text) = value.pointer_mut(pointer)? else {
        return None;
    };
    let last = text.pop()?;
    text.push(if last == '0' { '1' } else { '0' });
    serde_json::to_vec(&value).ok()
}

/// The error code the service uses for `status` in an injected answer.
pub(crate) fn error_code(status: u16) -> &'static str {
    match status {
        408 => "RequestTimeout",
        429 => "TooManyRequests",
        500 => "InternalServerError",
        502 => "BadGateway",
        503 => "ServiceUnavailable",
        504 => "GatewayTimeout",
        _ => "InjectedFault",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tampering_changes_exactly_the_last_character_of_the_string() {
        let body = br#"{"state":"Ready","receipt":{"signature":"abc0","cert":"x"}}"#;
        let Some(tampered) = tamper_json(body, "/receipt/signature") else {
            panic!("the pointer names a string");
        };
        let value: serde_json::Value = serde_json::from_slice(&tampered).unwrap_or_default();
        assert_eq!(value["receipt"]["signature"], "abc1");
        assert_eq!(value["receipt"]["cert"], "x");
        let Some(again) = tamper_json(&tampered, "/receipt/signature") else {
            panic!("still a string");
        };
        let value: serde_json::Value = serde_json::from_slice(&again).unwrap_or_default();
        assert_eq!(value["receipt"]["signature"], "abc0");
    }

    #[test]
    fn answers_without_the_string_are_left_alone() {
        assert_eq!(
            tamper_json(
                br#"{"state":"Loading","receipt":null}"#,
                "/receipt/signature"
            ),
            None
        );
        assert_eq!(tamper_json(b"not json", "/receipt/signature"), None);
        assert_eq!(
            tamper_json(br#"{"receipt":{"signature":""}}"#, "/receipt/signature"),
            None
        );
        assert_eq!(
            tamper_json(br#"{"receipt":{"signature":7}}"#, "/receipt/signature"),
            None
        );
    }

    #[test]
    fn retry_after_rounds_up_to_whole_seconds() {
        assert_eq!(retry_after_seconds(Duration::ZERO), 0);
        assert_eq!(retry_after_seconds(Duration::from_secs(3)), 3);
        assert_eq!(retry_after_seconds(Duration::from_millis(3001)), 4);
        assert_eq!(retry_after_seconds(Duration::from_nanos(1)), 1);
    }

    #[test]
    fn retry_after_only_changes_status_faults() {
        let d = Duration::from_secs(1);
        assert_eq!(
            Fault::ResetBeforeForward.retry_after(d),
            Fault::ResetBeforeForward
        );
        assert_eq!(Fault::Delay(d).retry_after(d), Fault::Delay(d));
        assert!(Fault::ResetAfterResponse.forwards() && !Fault::unavailable().forwards());
        assert_eq!(
            Fault::status_after_forward(500).retry_after(d),
            Fault::status_after_forward(500)
        );
    }

    #[test]
    fn faults_after_forwarding_say_so() {
        assert_eq!(
            Fault::status_after_forward(504).to_string(),
            "status 504 after forwarding"
        );
        assert_eq!(Fault::CutBody.to_string(), "body cut after the headers");
        assert_eq!(Fault::CutBody.kind(), FaultKind::CutBody);
        assert_eq!(
            Fault::HoldAfterForward(Duration::from_secs(2)).kind(),
            FaultKind::HoldAfterForward
        );
    }
}
